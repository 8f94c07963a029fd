/*
 * The alert engine.
 *
 * State in memory, loaded from the store at the first use and again after
 * any rollback (so it never believes what a rolled-back transaction wrote):
 *
 *   dealers  id -> place (lat/lon), contract end, stated online, last heard,
 *                  the live gateway_offline and contract_expiring alerts, and
 *                  its nodes with their live node_fault alert
 *   skus     id -> reorder point, lead time (catalog), and the list of cells
 *   cells    (dealer, sku) -> stock, sales velocity, the live low_stock,
 *                  stockout_forecast, sales_spike and shrinkage alerts
 *
 * Each alert slot (struct slot) remembers the live alert's id and a hash of
 * its severity and text. An evaluation computes a verdict (holds, severity,
 * text); then:
 *   holds, no live alert             -> open one (count 1)
 *   holds, live, other severity/text -> a new trigger: update it (count + 1)
 *   holds, live, same                -> nothing (the hot path: no SQL)
 *   does not hold, live              -> resolve it ("auto")
 * The text carries the figures that make a trigger (the stock, the cover,
 * today's picks, the shrinkage total), so a new stock value at or below the
 * reorder point is a new trigger, a snapshot repeating it is not.
 *
 * Invariants:
 *   1. A slot is live only if the store had a live alert with its id when
 *      the slot was set in a committed transaction. An alert resolved by
 *      hand stays "live" in its slot until the next trigger (then the
 *      store's upsert opens a new alert: the hand-resolved one is never
 *      reopened) or until the condition clears (the resolve changes nothing).
 *   2. Every alert row change is written with its encoded message to the
 *      alert outbox in the same transaction; only the outbox is published.
 *   3. Counters (raised, resolved) move after the commit only.
 *   4. Suggestions (replenish, transfers) are computed when an alert is
 *      opened or updated, from the cells of the same SKU: the transfer
 *      candidates are the dealers whose stock exceeds both ceil(velocity x
 *      target_cover_days) and the reorder point. They are recomputed when
 *      what they rest on changes: any stock of the SKU (a source dealer's
 *      surplus), a dealer's place (distances) or a dealer going offline or
 *      coming back (freshness). The live alert's action and suggestion are
 *      then rewritten in place (count unchanged) when the suggestion differs
 *      in anything but the ages (struct slot's sg_hash).
 *   5. The catalog and the dealer profiles are the store's: their versions
 *      (meta catalog_version, profiles_version) are compared at the first
 *      message of every transaction (a batch of ingest) and, with no traffic,
 *      every SETTINGS_POLL_MS, so a change made through
 *      any hub instance takes effect at once, not at the next periodic
 *      evaluation.
 */
#include "alerts/alerts.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/digest.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "stale.h"

#define OUTBOX_BATCH 256
#define PUBLISH_POLL_MS 500
#define DAYS_KEPT 400 /* daily figures are kept this long (ranking reads 90 days) */
#define SETTINGS_POLL_MS                                                                           \
    250 /* with no traffic, catalog and profile versions checked this often                        \
         */

static const char *const kind_names[HUB_AK__COUNT] = {
    [HUB_AK_LOW_STOCK] = "low_stock",
    [HUB_AK_STOCKOUT_FORECAST] = "stockout_forecast",
    [HUB_AK_SALES_SPIKE] = "sales_spike",
    [HUB_AK_GATEWAY_OFFLINE] = "gateway_offline",
    [HUB_AK_NODE_FAULT] = "node_fault",
    [HUB_AK_SHRINKAGE] = "shrinkage",
    [HUB_AK_CONTRACT_EXPIRING] = "contract_expiring",
};

_Static_assert(HUB_AK__COUNT <= HUB_METRICS_ALERT_KINDS, "raise HUB_METRICS_ALERT_KINDS");

const char *hub_alert_kind_name(enum hub_alert_kind k)
{
    return (unsigned)k < HUB_AK__COUNT ? kind_names[k] : NULL;
}

int hub_alert_kind_from_name(const char *name)
{
    for (int k = 0; name && k < HUB_AK__COUNT; k++)
        if (!strcmp(name, kind_names[k]))
            return k;
    return -1;
}

/* Every item of a uthash table, in insertion order. */
#define EACH(head, var) for ((var) = (head); (var); (var) = (var)->hh.next)

/* ---- the engine's state ---- */

struct slot {
    long long id;
    uint64_t hash, sg_hash; /* digests (depot/digest.h); sg_hash: the suggestion it shows (0: unknown) */
    bool live;
};

struct sku_ent {
    UT_hash_handle hh;
    char id[DEPOT_SKU_MAX + 1];
    bool in_catalog;
    long long reorder_point, lead_time_days;
    struct cell *cells;
};

struct node_ent {
    struct node_ent *next;
    char name[DEPOT_NODE_MAX + 1];
    struct slot fault;
};

struct dealer_ent {
    UT_hash_handle hh;
    char id[DEPOT_DEALER_MAX + 1];
    bool has_loc, stated_online;
    double lat, lon;
    char contract_end[HUB_DATE_MAX + 1];
    long long last_seen;
    struct slot offline, contract;
    struct node_ent *nodes;
};

enum { CS_LOW, CS_STOCKOUT, CS_SPIKE, CS_SHRINK, CS__COUNT };

struct cell {
    UT_hash_handle hh;
    struct dealer_ent *d; /* d and k, side by side, are the key */
    struct sku_ent *k;
    struct cell *sku_next, *touch_next;
    long long qty, shrink_total, shrink_back, shrink_new;
    double velocity;
    bool has_qty, touched, stock_taken;
    bool moved; /* on a->moved: became or stopped being a transfer source */
    struct cell *moved_next;
    struct suggestion *shown; /* what its live stock alerts show (NULL: unknown) */
    struct slot st[CS__COUNT];
};

struct hub_alerts {
    const struct hub_config *cfg;
    hub_metrics *metrics;
    struct dealer_ent *dealers; /* uthash by id */
    struct sku_ent *skus;       /* uthash by id */
    struct cell *cells;         /* uthash by (d, k) */
    struct cell *touched;
    struct cell *moved;          /* sources whose change may move others' suggestions */
    bool loaded, changed, fresh; /* fresh: loaded, every cell not yet evaluated */
    bool resuggest_all;          /* every SKU's suggestions to be recomputed */
    bool settings_read;          /* the versions were compared in this transaction */
    long long catalog_version, profiles_version, day, next_eval_ms, next_publish_ms;
    long long next_settings_ms;
    unsigned long long raised, resolved; /* pending until the commit (invariant 3) */
};

/* What an evaluation found. */
struct verdict {
    bool holds;
    const char *severity;
    char text[DEPOT_TEXT_MAX + 1];
};

struct transfer {
    const struct dealer_ent *d;
    long long qty, age_s;
    double km;
    bool has_km, stale;
};

struct suggestion {
    long long replenish;
    int n;
    struct transfer t[HUB_TRANSFERS_MAX];
};

enum need { NEED_NOTHING, NEED_RESOLVE, NEED_PUT };

#define CELL_KEY_LEN (sizeof(struct dealer_ent *) + sizeof(struct sku_ent *))
_Static_assert(offsetof(struct cell, k) == offsetof(struct cell, d) + sizeof(struct dealer_ent *),
               "a cell's key is d and k side by side");

static void free_dealer(struct dealer_ent *d)
{
    for (struct node_ent *x = d->nodes, *next; x; x = next) {
        next = x->next;
        depot_free(x);
    }
    depot_free(d);
}

static void reset(hub_alerts *a)
{
    struct cell *c, *ct;
    struct sku_ent *k, *kt;
    struct dealer_ent *d, *dt;
    HASH_ITER(hh, a->cells, c, ct) {
        HASH_DEL(a->cells, c);
        depot_free(c->shown);
        depot_free(c);
    }
    HASH_ITER(hh, a->skus, k, kt) {
        HASH_DEL(a->skus, k);
        depot_free(k);
    }
    HASH_ITER(hh, a->dealers, d, dt) {
        HASH_DEL(a->dealers, d);
        free_dealer(d);
    }
    a->touched = NULL;
    a->moved = NULL;
    a->resuggest_all = false;
    a->loaded = false;
}

static struct dealer_ent *dealer_get(hub_alerts *a, const char *id, bool create)
{
    struct dealer_ent *d;
    HASH_FIND_STR(a->dealers, id, d);
    if (d)
        return d;
    if (!create || !(d = depot_calloc(1, sizeof(*d))))
        return NULL;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->stated_online = true;
    HASH_ADD_STR(a->dealers, id, d);
    if (!DEPOT_HASH_ADDED(d)) {
        depot_free(d);
        return NULL;
    }
    return d;
}

static struct sku_ent *sku_get(hub_alerts *a, const char *id, bool create)
{
    struct sku_ent *k;
    HASH_FIND_STR(a->skus, id, k);
    if (k)
        return k;
    if (!create || !(k = depot_calloc(1, sizeof(*k))))
        return NULL;
    snprintf(k->id, sizeof(k->id), "%s", id);
    HASH_ADD_STR(a->skus, id, k);
    if (!DEPOT_HASH_ADDED(k)) {
        depot_free(k);
        return NULL;
    }
    return k;
}

static struct cell *cell_find(hub_alerts *a, struct dealer_ent *d, struct sku_ent *k, bool create)
{
    struct {
        struct dealer_ent *d;
        struct sku_ent *k;
    } key = {d, k};
    struct cell *c;
    _Static_assert(sizeof(key) == CELL_KEY_LEN, "no padding in a cell's key");
    HASH_FIND(hh, a->cells, &key, CELL_KEY_LEN, c);
    if (c || !create || !(c = depot_calloc(1, sizeof(*c))))
        return c;
    c->d = d;
    c->k = k;
    HASH_ADD(hh, a->cells, d, CELL_KEY_LEN, c);
    if (!DEPOT_HASH_ADDED(c)) {
        depot_free(c);
        return NULL;
    }
    c->sku_next = k->cells;
    k->cells = c;
    return c;
}

static struct cell *cell_get(hub_alerts *a, const char *dealer, const char *sku)
{
    struct dealer_ent *d = dealer_get(a, dealer, true);
    struct sku_ent *k = d ? sku_get(a, sku, true) : NULL;
    return k ? cell_find(a, d, k, true) : NULL;
}

static struct node_ent *node_get(struct dealer_ent *d, const char *name)
{
    struct node_ent *n;
    for (n = d->nodes; n; n = n->next)
        if (!strcmp(n->name, name))
            return n;
    if (!(n = depot_calloc(1, sizeof(*n))))
        return NULL;
    snprintf(n->name, sizeof(n->name), "%s", name);
    n->next = d->nodes;
    d->nodes = n;
    return n;
}

/* c became or stopped being a transfer source: the suggestions of its SKU that it may
 * change are to be recomputed (invariant 4). */
static void resuggest(hub_alerts *a, struct cell *c)
{
    if (!c->moved) {
        c->moved = true;
        c->moved_next = a->moved;
        a->moved = c;
    }
}

static void touch(hub_alerts *a, struct cell *c)
{
    if (!c->touched) {
        c->touched = true;
        c->touch_next = a->touched;
        a->touched = c;
    }
}

static bool dealer_online(const hub_alerts *a, const struct dealer_ent *d, long long now)
{
    return hub_dealer_online(d->stated_online, d->last_seen, now, a->cfg->offline_after_s * 1000LL);
}

/* ---- writing alerts (invariants 1 and 2) ---- */

static uint64_t verdict_hash(const struct verdict *v)
{
    return depot_digest_str(v->text, depot_digest_str(v->severity, DEPOT_DIGEST_INIT)) | 1; /* never 0 */
}

static enum need needs(const struct slot *st, const struct verdict *v)
{
    if (!v->holds)
        return st->live ? NEED_RESOLVE : NEED_NOTHING;
    return st->live && st->hash == verdict_hash(v) ? NEED_NOTHING : NEED_PUT;
}

struct row_out {
    long long id, count, now;
    char *payload;
    depot_err err;
};

static int capture_row(void *arg, const struct hub_alert_row *r)
{
    struct row_out *o = arg;
    size_t len;
    o->id = r->id;
    o->count = r->count;
    o->err = hub_alerts_encode(r, o->now, &o->payload, &len);
    return 0;
}

/* Queues the encoded change of the row in o (invariant 2); frees the payload. */
static depot_err queue_change(hub_store *s, const char *dealer, const char *kind, struct row_out *o)
{
    depot_err err = o->err;
    if (err == DEPOT_OK && o->payload)
        err = hub_store_alert_outbox_add(s, dealer, kind, o->payload);
    depot_free(o->payload);
    o->payload = NULL;
    return err;
}

struct alert_key {
    const char *dealer, *sku, *subject;
    enum hub_alert_kind kind;
};

static depot_err alert_put(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                           const struct verdict *v, const char *action, const char *suggestion,
                           long long now)
{
    struct hub_alert_put p = {k->dealer, k->sku, kind_names[k->kind], k->subject, v->severity,
                              v->text,   action, suggestion,          now};
    struct row_out o = {.now = now};
    depot_err err = hub_store_alert_put(s, &p, capture_row, &o);
    if (err == DEPOT_OK)
        err = queue_change(s, k->dealer, kind_names[k->kind], &o);
    else
        depot_free(o.payload);
    if (err != DEPOT_OK)
        return err;
    st->live = true;
    st->id = o.id;
    st->hash = verdict_hash(v);
    a->raised += o.count == 1;
    a->changed = true;
    return DEPOT_OK;
}

static depot_err alert_clear(hub_alerts *a, hub_store *s, struct slot *st, const char *dealer,
                             enum hub_alert_kind kind, long long now)
{
    struct row_out o = {.now = now};
    bool changed = false;
    depot_err err = hub_store_alert_resolve(s, st->id, "auto", now, &changed);
    if (err == DEPOT_OK && changed) {
        err = hub_store_alert_get(s, st->id, capture_row, &o);
        err = err == DEPOT_OK ? queue_change(s, dealer, kind_names[kind], &o) : err;
        a->resolved++;
        a->changed = true;
    }
    if (err == DEPOT_OK)
        memset(st, 0, sizeof(*st));
    return err;
}

/* Settles one slot for an alert without a suggestion. */
static depot_err settle(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                        const struct verdict *v, long long now)
{
    switch (needs(st, v)) {
    case NEED_PUT:
        return alert_put(a, s, st, k, v, "", "", now);
    case NEED_RESOLVE:
        return alert_clear(a, s, st, k->dealer, k->kind, now);
    default:
        return DEPOT_OK;
    }
}

/* ---- suggestions (invariant 4) ---- */

double hub_alerts_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

/* Whether transfer x ranks before y: live before stale, then nearer (a known distance before
 * an unknown one), then fresher, then by dealer id. */
static bool ranks_before(const struct transfer *x, const struct transfer *y)
{
    if (x->stale != y->stale)
        return !x->stale;
    if (x->has_km != y->has_km)
        return x->has_km;
    if (x->has_km && x->km != y->km)
        return x->km < y->km;
    if (x->age_s != y->age_s)
        return x->age_s < y->age_s;
    return strcmp(x->d->id, y->d->id) < 0;
}

static void rank_in(struct suggestion *sg, const struct transfer *t)
{
    int i = sg->n < HUB_TRANSFERS_MAX ? sg->n++ : HUB_TRANSFERS_MAX;
    if (i == HUB_TRANSFERS_MAX && !ranks_before(t, &sg->t[HUB_TRANSFERS_MAX - 1]))
        return;
    if (i == HUB_TRANSFERS_MAX)
        i--;
    while (i > 0 && ranks_before(t, &sg->t[i - 1])) {
        sg->t[i] = sg->t[i - 1];
        i--;
    }
    sg->t[i] = *t;
}

static long long keep_level(const hub_alerts *a, const struct cell *c)
{
    long long by_sales = (long long)ceil(c->velocity * (double)a->cfg->alert_target_cover_days);
    return by_sales > c->k->reorder_point ? by_sales : c->k->reorder_point;
}

/* The transfer of up to need units from o to dealer d; false when o has no surplus. */
static bool transfer_from(const hub_alerts *a, const struct cell *o, const struct dealer_ent *d,
                          long long need, long long now, struct transfer *t)
{
    long long surplus = o->qty - keep_level(a, o);
    if (!o->has_qty || surplus <= 0)
        return false;
    memset(t, 0, sizeof(*t));
    t->d = o->d;
    t->qty = surplus < need ? surplus : need;
    t->has_km = d->has_loc && o->d->has_loc;
    t->km = t->has_km ? hub_alerts_distance_km(d->lat, d->lon, o->d->lat, o->d->lon) : 0;
    t->age_s = now > o->d->last_seen ? (now - o->d->last_seen) / 1000 : 0;
    t->stale = !dealer_online(a, o->d, now);
    return true;
}

static void suggest(const hub_alerts *a, const struct cell *c, long long now, struct suggestion *sg)
{
    const struct dealer_ent *d = c->d;
    memset(sg, 0, sizeof(*sg));
    if (c->velocity > 0) {
        sg->replenish =
            (long long)ceil(c->velocity * (double)a->cfg->alert_target_cover_days) - c->qty;
        sg->replenish = sg->replenish > 0 ? sg->replenish : 0;
    } else {
        sg->replenish = c->k->reorder_point + 1 - c->qty;
        sg->replenish = sg->replenish > 1 ? sg->replenish : 1;
    }
    for (const struct cell *o = c->k->cells; sg->replenish > 0 && o; o = o->sku_next) {
        struct transfer t;
        if (o != c && transfer_from(a, o, d, sg->replenish, now, &t))
            rank_in(sg, &t);
    }
}

/* Whether c can be named as the source of a transfer (invariant 4). */
static bool is_source(const hub_alerts *a, const struct cell *c)
{
    return c->has_qty && c->qty > keep_level(a, c);
}

/* A new stock value of c; the suggestions of its SKU are recomputed when c starts or stops
 * being a possible source (invariant 4). */
static void set_qty(hub_alerts *a, struct cell *c, long long qty)
{
    bool was = is_source(a, c);
    c->qty = qty;
    c->has_qty = true;
    if (was != is_source(a, c))
        resuggest(a, c);
}

/* What a suggestion names: the dealers in their order, with their distance and staleness;
 * not the quantities and ages, which move with every count (never 0). */
static uint64_t suggestion_hash(const struct suggestion *sg)
{
    char buf[96];
    uint64_t h = DEPOT_DIGEST_INIT;
    for (int i = 0; i < sg->n; i++) {
        const struct transfer *t = &sg->t[i];
        snprintf(buf, sizeof(buf), "%d/%.1f/%d", t->has_km, t->has_km ? t->km : 0.0, t->stale);
        h = depot_digest_str(t->d->id, depot_digest_str(buf, h));
    }
    return h | 1;
}

/* Keeps what c's live stock alerts now show, for moved_source_matters(). */
static depot_err remember(struct cell *c, const struct suggestion *sg)
{
    if (!c->shown && !(c->shown = depot_malloc(sizeof(*c->shown))))
        return DEPOT_ERR_NOMEM;
    *c->shown = *sg;
    return DEPOT_OK;
}

/* Whether o, which became or stopped being a source, can change what r's live stock alerts
 * show: it is named there, or it now ranks among the transfers named. */
static bool moved_source_matters(const hub_alerts *a, const struct cell *r, const struct cell *o,
                                 long long now)
{
    const struct suggestion *sg = r->shown;
    struct transfer t;
    if (!sg)
        return true;
    for (int i = 0; i < sg->n; i++)
        if (sg->t[i].d == o->d)
            return true;
    if (sg->replenish <= 0 || !transfer_from(a, o, r->d, sg->replenish, now, &t))
        return false;
    return sg->n < HUB_TRANSFERS_MAX || ranks_before(&t, &sg->t[sg->n - 1]);
}

static void suggestion_json(const struct suggestion *sg, char *buf, size_t len)
{
    size_t at =
        (size_t)snprintf(buf, len, "{\"replenish_qty\":%lld,\"transfers\":[", sg->replenish);
    for (int i = 0; i < sg->n && at < len; i++) {
        const struct transfer *t = &sg->t[i];
        char km[32];
        if (t->has_km)
            snprintf(km, sizeof(km), "%.1f", t->km);
        else
            snprintf(km, sizeof(km), "null");
        at +=
            (size_t)snprintf(buf + at, len - at,
                             "%s{\"dealer\":\"%s\",\"qty\":%lld,\"distance_km\":%s,\"age_s\":%lld}",
                             i ? "," : "", t->d->id, t->qty, km, t->age_s);
    }
    if (at < len)
        snprintf(buf + at, len - at, "]}");
}

static void action_text(const struct suggestion *sg, char *buf, size_t len)
{
    const struct transfer *t = sg->n ? &sg->t[0] : NULL;
    if (sg->replenish <= 0)
        snprintf(buf, len, "no replenishment needed at the current sales rate");
    else if (t && t->has_km)
        snprintf(buf, len, "replenish %lld; or transfer %lld from %s (%.1f km)", sg->replenish,
                 t->qty, t->d->id, t->km);
    else if (t)
        snprintf(buf, len, "replenish %lld; or transfer %lld from %s", sg->replenish, t->qty,
                 t->d->id);
    else
        snprintf(buf, len, "replenish %lld", sg->replenish);
}

/* ---- stock kinds ---- */

static void verdict_low(const struct cell *c, struct verdict *v)
{
    v->holds = c->k->in_catalog && c->has_qty && c->qty <= c->k->reorder_point;
    if (!v->holds)
        return;
    v->severity = c->qty <= 0 ? "critical" : "warning";
    snprintf(v->text, sizeof(v->text), "%s at %s: %lld in stock, reorder point %lld", c->k->id,
             c->d->id, c->qty, c->k->reorder_point);
}

static void verdict_stockout(const struct cell *c, struct verdict *v)
{
    double cover;
    v->holds = c->k->in_catalog && c->has_qty && c->velocity > 0 &&
               (double)c->qty / c->velocity < (double)c->k->lead_time_days;
    if (!v->holds)
        return;
    cover = (double)(c->qty > 0 ? c->qty : 0) / c->velocity;
    v->severity = cover < (double)c->k->lead_time_days / 2 ? "critical" : "warning";
    snprintf(v->text, sizeof(v->text),
             "%s at %s: %.1f days of cover at %.2f/day, lead time %lld days", c->k->id, c->d->id,
             cover, c->velocity, c->k->lead_time_days);
}

/* Evaluates low_stock and stockout_forecast of a cell; SQL only when a slot changes. */
static depot_err eval_stock(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct verdict v[2] = {{0}, {0}};
    enum need n[2];
    struct suggestion sg;
    char json[512], action[DEPOT_TEXT_MAX + 1];
    depot_err err = DEPOT_OK;

    verdict_low(c, &v[0]);
    verdict_stockout(c, &v[1]);
    n[0] = needs(&c->st[CS_LOW], &v[0]);
    n[1] = needs(&c->st[CS_STOCKOUT], &v[1]);
    if (n[0] == NEED_NOTHING && n[1] == NEED_NOTHING)
        return DEPOT_OK; /* the hot path */
    if (n[0] == NEED_PUT || n[1] == NEED_PUT) {
        suggest(a, c, now, &sg);
        suggestion_json(&sg, json, sizeof(json));
        action_text(&sg, action, sizeof(action));
    }
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        struct alert_key k = {c->d->id, c->k->id, "",
                              i ? HUB_AK_STOCKOUT_FORECAST : HUB_AK_LOW_STOCK};
        struct slot *st = &c->st[i ? CS_STOCKOUT : CS_LOW];
        if (n[i] == NEED_PUT) {
            err = alert_put(a, s, st, &k, &v[i], action, json, now);
            st->sg_hash = err == DEPOT_OK ? suggestion_hash(&sg) : 0;
            err = err == DEPOT_OK ? remember(c, &sg) : err;
        } else if (n[i] == NEED_RESOLVE)
            err = alert_clear(a, s, st, k.dealer, k.kind, now);
    }
    return err;
}

/* Rewrites the suggestion of c's live stock alerts when it no longer says the same
 * (invariant 4). An alert resolved by hand meanwhile is left alone (invariant 1). */
static depot_err refresh_cell(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct suggestion sg;
    char json[512], action[DEPOT_TEXT_MAX + 1];
    uint64_t h;
    depot_err err = DEPOT_OK;
    if (!c->st[CS_LOW].live && !c->st[CS_STOCKOUT].live)
        return DEPOT_OK;
    suggest(a, c, now, &sg);
    h = suggestion_hash(&sg);
    err = remember(c, &sg);
    if (err != DEPOT_OK)
        return err;
    if ((!c->st[CS_LOW].live || c->st[CS_LOW].sg_hash == h) &&
        (!c->st[CS_STOCKOUT].live || c->st[CS_STOCKOUT].sg_hash == h))
        return DEPOT_OK;
    suggestion_json(&sg, json, sizeof(json));
    action_text(&sg, action, sizeof(action));
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        struct slot *st = &c->st[i ? CS_STOCKOUT : CS_LOW];
        struct row_out o = {.now = now};
        if (!st->live || st->sg_hash == h)
            continue;
        err = hub_store_alert_refresh(s, st->id, action, json, now, capture_row, &o);
        if (err == DEPOT_OK) {
            err = queue_change(s, c->d->id,
                               kind_names[i ? HUB_AK_STOCKOUT_FORECAST : HUB_AK_LOW_STOCK], &o);
            a->changed = true;
        } else {
            depot_free(o.payload);
            err = err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
        }
        if (err == DEPOT_OK)
            st->sg_hash = h;
    }
    return err;
}

/* Recomputes the suggestions that the sources marked by resuggest() may change, or all of
 * them after a change of places, catalog, velocities or a dealer's freshness. */
static depot_err refresh_suggestions(hub_alerts *a, hub_store *s, long long now)
{
    struct cell *o, *c;
    depot_err err = DEPOT_OK;
    if (a->resuggest_all) {
        a->resuggest_all = false;
        EACH(a->cells, c) {
            if (err == DEPOT_OK)
                err = refresh_cell(a, s, c, now);
        }
    }
    while ((o = a->moved)) {
        a->moved = o->moved_next;
        o->moved = false;
        for (struct cell *r = o->k->cells; err == DEPOT_OK && r; r = r->sku_next)
            if (r != o && (r->st[CS_LOW].live || r->st[CS_STOCKOUT].live) &&
                moved_source_matters(a, r, o, now))
                err = refresh_cell(a, s, r, now);
    }
    return err;
}

/* ---- sales: velocity and spike from the daily figures ---- */

struct day_sums {
    long long today, v_from, t_from;
    long long v_sum, t_sum, today_picks;
};

static int add_day(void *arg, const struct hub_day_row *d)
{
    struct day_sums *w = arg;
    if (d->day >= w->v_from && d->day <= w->today)
        w->v_sum += d->picked;
    if (d->day >= w->t_from && d->day < w->today)
        w->t_sum += d->picked;
    if (d->day == w->today)
        w->today_picks += d->picked;
    return 0;
}

/* Reads the cell's daily figures: its velocity, and the sales_spike verdict into v. */
static depot_err read_sales(hub_alerts *a, hub_store *s, struct cell *c, long long now,
                            struct verdict *v)
{
    const struct hub_config *cfg = a->cfg;
    struct day_sums w = {.today = now / HUB_DAY_MS};
    double avg;
    depot_err err;
    w.v_from = w.today - cfg->alert_velocity_days + 1;
    w.t_from = w.today - cfg->alert_spike_trailing_days;
    err = hub_store_history_days(s, c->d->id, c->k->id, w.v_from < w.t_from ? w.v_from : w.t_from,
                                 add_day, &w);
    if (err != DEPOT_OK)
        return err;
    c->velocity = (double)w.v_sum / (double)cfg->alert_velocity_days;
    avg = (double)w.t_sum / (double)cfg->alert_spike_trailing_days;
    v->holds = w.today_picks >= cfg->alert_spike_min_units &&
               (double)w.today_picks > cfg->alert_spike_factor * avg;
    v->severity = "info";
    if (v->holds)
        snprintf(v->text, sizeof(v->text),
                 "%s at %s: %lld picked today, over %.1fx the %ld-day average of %.2f/day",
                 c->k->id, c->d->id, w.today_picks, cfg->alert_spike_factor,
                 cfg->alert_spike_trailing_days, avg);
    return DEPOT_OK;
}

static depot_err eval_sales(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct verdict v = {0};
    struct alert_key k = {c->d->id, c->k->id, "", HUB_AK_SALES_SPIKE};
    bool was = is_source(a, c);
    depot_err err = read_sales(a, s, c, now, &v);
    if (was != is_source(a, c)) /* a new velocity moved its keep level (invariant 4) */
        resuggest(a, c);
    return err == DEPOT_OK ? settle(a, s, &c->st[CS_SPIKE], &k, &v, now) : err;
}

/* ---- shrinkage ---- */

/* New unmatched units (shrink_new) make a trigger; a stock take or the units coming back on
 * the scale clear it. */
static depot_err eval_shrink(hub_alerts *a, hub_store *s, struct cell *c, long long now)
{
    struct slot *st = &c->st[CS_SHRINK];
    struct alert_key k = {c->d->id, c->k->id, "", HUB_AK_SHRINKAGE};
    struct verdict v = {.holds = true, .severity = "warning"};
    depot_err err = DEPOT_OK;

    if (st->live && (c->stock_taken || (c->shrink_total > 0 && c->shrink_back >= c->shrink_total)))
        err = alert_clear(a, s, st, k.dealer, k.kind, now);
    if (err == DEPOT_OK && !st->live)
        c->shrink_total = c->shrink_back = 0;
    c->stock_taken = false;
    if (err != DEPOT_OK || c->shrink_new <= 0)
        return err;
    c->shrink_total += c->shrink_new;
    snprintf(v.text, sizeof(v.text),
             "%s at %s: %lld units left a scale with no matching pick "
             "(%lld in all)",
             c->k->id, c->d->id, c->shrink_new, c->shrink_total);
    c->shrink_new = 0;
    return alert_put(a, s, st, &k, &v, "count the stock and check the scale", "", now);
}

/* ---- dealers: gateway offline, node faults, contracts ---- */

static void iso_time(char *out, size_t len, long long ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static depot_err eval_offline(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct verdict v = {.holds = !dealer_online(a, d, now), .severity = "critical"};
    struct alert_key k = {d->id, "", "", HUB_AK_GATEWAY_OFFLINE};
    char seen[32];
    depot_err err;
    bool was;
    if (v.holds) {
        iso_time(seen, sizeof(seen), d->last_seen);
        snprintf(v.text, sizeof(v.text), "gateway of %s offline (%s), last heard %s", d->id,
                 d->stated_online ? "nothing heard" : "it said so or its last will", seen);
    }
    was = d->offline.live;
    err = settle(a, s, &d->offline, &k, &v, now);
    if (err == DEPOT_OK && was != d->offline.live)
        a->resuggest_all = true; /* its surplus is fresh or stale now (invariant 4) */
    return err;
}

struct node_walk {
    hub_alerts *a;
    hub_store *s;
    struct dealer_ent *d;
    long long now;
    depot_err err;
};

static int eval_node(void *arg, const struct hub_node_row *r)
{
    struct node_walk *w = arg;
    struct node_ent *n = node_get(w->d, r->node);
    struct verdict v = {.holds = r->fault, .severity = "warning"};
    struct alert_key k = {w->d->id, "", r->node, HUB_AK_NODE_FAULT};
    char since[32];
    if (!n) {
        w->err = DEPOT_ERR_NOMEM;
        return 1;
    }
    if (v.holds) {
        iso_time(since, sizeof(since), r->since);
        snprintf(v.text, sizeof(v.text), "node %s at %s faulted since %s: %s", r->node, w->d->id,
                 since, r->reason[0] ? r->reason : "fault");
    }
    w->err = settle(w->a, w->s, &n->fault, &k, &v, w->now);
    return w->err != DEPOT_OK;
}

static depot_err eval_nodes(hub_alerts *a, hub_store *s, struct dealer_ent *d, const char *node,
                            long long now)
{
    struct node_walk w = {a, s, d, now, DEPOT_OK};
    depot_err err = hub_store_dealer_nodes(s, d->id, node, eval_node, &w);
    return err != DEPOT_OK ? err : w.err;
}

/* Days since the epoch of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static bool parse_date(const char *s, long long *day)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *day = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

static depot_err eval_contract(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct verdict v = {0};
    struct alert_key k = {d->id, "", "", HUB_AK_CONTRACT_EXPIRING};
    long long end, left;
    if (d->contract_end[0] && parse_date(d->contract_end, &end)) {
        left = end - now / HUB_DAY_MS;
        v.holds = left <= a->cfg->alert_contract_days;
        v.severity = left <= 7 ? "critical" : "warning";
        snprintf(v.text, sizeof(v.text), "contract of %s %s on %s", d->id,
                 left < 0 ? "ended" : "ends", d->contract_end);
    }
    return settle(a, s, &d->contract, &k, &v, now);
}

/* ---- loading the state ---- */

struct load_ctx {
    hub_alerts *a;
    long long now;
    bool nomem;
};

static int load_catalog_item(void *arg, const struct hub_catalog_item *it)
{
    struct load_ctx *l = arg;
    struct sku_ent *k = sku_get(l->a, it->sku, true);
    if (!k)
        return l->nomem = true;
    k->in_catalog = true;
    k->reorder_point = it->reorder_point;
    k->lead_time_days = it->lead_time_days;
    return 0;
}

static depot_err load_catalog(hub_alerts *a, hub_store *s)
{
    struct load_ctx l = {a, 0, false};
    struct sku_ent *k;
    depot_err err;
    EACH(a->skus, k) {
        k->in_catalog = false;
    }
    err = hub_store_catalog_list(s, &a->catalog_version, load_catalog_item, &l);
    return err != DEPOT_OK ? err : l.nomem ? DEPOT_ERR_NOMEM : DEPOT_OK;
}

static int load_place(void *arg, const struct hub_dealer_place *p)
{
    struct load_ctx *l = arg;
    struct dealer_ent *d = dealer_get(l->a, p->dealer, true);
    if (!d)
        return l->nomem = true;
    d->has_loc = p->has_location;
    d->lat = p->lat;
    d->lon = p->lon;
    snprintf(d->contract_end, sizeof(d->contract_end), "%s", p->contract_end);
    return 0;
}

static int load_dealer(void *arg, const struct hub_dealer_row *r)
{
    struct load_ctx *l = arg;
    struct dealer_ent *d = dealer_get(l->a, r->dealer, true);
    if (!d)
        return l->nomem = true;
    d->stated_online = r->online;
    d->last_seen = r->last_seen;
    return 0;
}

static int load_stock(void *arg, const struct hub_stock_row *r)
{
    struct load_ctx *l = arg;
    struct cell *c = cell_get(l->a, r->dealer, r->sku);
    if (!c)
        return l->nomem = true;
    c->qty = r->qty;
    c->has_qty = true;
    return 0;
}

static int load_velocity(void *arg, const char *dealer, const char *sku, long long sum)
{
    struct load_ctx *l = arg;
    struct cell *c = cell_get(l->a, dealer, sku);
    if (!c)
        return l->nomem = true;
    c->velocity = (double)sum / (double)l->a->cfg->alert_velocity_days;
    return 0;
}

/* The slot of a live alert row, or NULL (a kind this engine does not own). */
static struct slot *slot_of(hub_alerts *a, const struct hub_alert_row *r)
{
    static const int cell_slot[HUB_AK__COUNT] = {[HUB_AK_LOW_STOCK] = CS_LOW + 1,
                                                 [HUB_AK_STOCKOUT_FORECAST] = CS_STOCKOUT + 1,
                                                 [HUB_AK_SALES_SPIKE] = CS_SPIKE + 1,
                                                 [HUB_AK_SHRINKAGE] = CS_SHRINK + 1};
    int kind = hub_alert_kind_from_name(r->kind);
    struct dealer_ent *d = dealer_get(a, r->dealer, true);
    struct node_ent *n;
    struct cell *c;
    if (kind < 0 || !d)
        return NULL;
    if (cell_slot[kind]) {
        c = depot_id_valid(r->sku, DEPOT_SKU_MAX) ? cell_get(a, r->dealer, r->sku) : NULL;
        return c ? &c->st[cell_slot[kind] - 1] : NULL;
    }
    if (kind == HUB_AK_NODE_FAULT)
        return (n = node_get(d, r->subject)) ? &n->fault : NULL;
    return kind == HUB_AK_GATEWAY_OFFLINE ? &d->offline : &d->contract;
}

static int load_alert(void *arg, const struct hub_alert_row *r)
{
    struct load_ctx *l = arg;
    struct verdict v = {.severity = r->severity};
    struct slot *st;
    if (!strcmp(r->status, "resolved"))
        return 0;
    st = slot_of(l->a, r);
    if (!st)
        return 0;
    snprintf(v.text, sizeof(v.text), "%s", r->text);
    st->live = true;
    st->id = r->id;
    st->hash = verdict_hash(&v);
    return 0;
}

static depot_err load_velocities(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    long long today = now / HUB_DAY_MS;
    struct cell *c;
    depot_err err;
    EACH(a->cells, c) {
        c->velocity = 0;
    }
    err =
        hub_store_picked_sums(s, today - a->cfg->alert_velocity_days + 1, today, load_velocity, &l);
    return err != DEPOT_OK ? err : l.nomem ? DEPOT_ERR_NOMEM : DEPOT_OK;
}

static depot_err load(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    struct hub_alert_filter live = {.status = NULL};
    depot_err err;
    reset(a);
    err = hub_store_profiles_version(s, &a->profiles_version);
    if (err == DEPOT_OK)
        err = load_catalog(a, s);
    if (err == DEPOT_OK)
        err = hub_store_dealer_places(s, load_place, &l);
    if (err == DEPOT_OK)
        err = hub_store_dealers(s, load_dealer, &l);
    if (err == DEPOT_OK)
        err = hub_store_stock(s, NULL, NULL, load_stock, &l);
    if (err == DEPOT_OK)
        err = load_velocities(a, s, now);
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        live.status = i ? "acknowledged" : "open";
        err = hub_store_alerts_list(s, &live, load_alert, &l);
    }
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err != DEPOT_OK) {
        reset(a);
        return err;
    }
    a->day = now / HUB_DAY_MS;
    a->loaded = a->fresh = true;
    return DEPOT_OK;
}

/* ---- messages ---- */

static depot_err reload_settings(hub_alerts *a, hub_store *s, long long now);

/* Evaluates what the touched cells need (stock kinds, sales when asked, shrinkage). */
static depot_err settle_touched(hub_alerts *a, hub_store *s, bool sales, long long now)
{
    depot_err err = DEPOT_OK;
    struct cell *c;
    while ((c = a->touched)) {
        a->touched = c->touch_next;
        c->touched = false;
        if (err == DEPOT_OK && sales)
            err = eval_sales(a, s, c, now);
        if (err == DEPOT_OK)
            err = eval_stock(a, s, c, now);
        if (err == DEPOT_OK)
            err = eval_shrink(a, s, c, now);
    }
    return err;
}

static depot_err movement(hub_alerts *a, hub_store *s, const char *dealer,
                          const struct depot_movement_item *it, long long now)
{
    struct cell *c = cell_get(a, dealer, it->sku);
    long long window = a->cfg->alert_shrinkage_window_s * 1000LL, out = -it->delta;
    bool scale = !strcmp(it->kind, "scale"), pick = !strcmp(it->kind, "pick");
    if (!c)
        return DEPOT_ERR_NOMEM;
    touch(a, c);
    if (!strcmp(it->kind, "count"))
        c->stock_taken = true;
    if (scale && it->delta > 0 && c->st[CS_SHRINK].live)
        c->shrink_back += it->delta;
    if ((scale || pick) && out > 0)
        return hub_store_shrink_add(s, dealer, it->sku, scale, it->ts, out, window, now);
    return DEPOT_OK;
}

static depot_err on_movements(hub_alerts *a, hub_store *s, const depot_msg *m, long long now)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++)
        err = movement(a, s, m->dealer, &b->items[i], now);
    return err == DEPOT_OK ? settle_touched(a, s, true, now) : err;
}

struct snap_walk {
    hub_alerts *a;
    bool nomem;
};

static int snapshot_row(void *arg, const struct hub_stock_row *r)
{
    struct snap_walk *w = arg;
    struct cell *c = cell_get(w->a, r->dealer, r->sku);
    if (!c)
        return w->nomem = true;
    if (!c->has_qty || c->qty != r->qty)
        touch(w->a, c);
    set_qty(w->a, c, r->qty);
    return 0;
}

/* A snapshot may have changed any of the dealer's stock (the store kept what was newer) and
 * its nodes' fault flags: read them back. */
static depot_err on_snapshot(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct snap_walk w = {a, false};
    depot_err err = hub_store_stock(s, d->id, NULL, snapshot_row, &w);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = settle_touched(a, s, false, now);
    return err == DEPOT_OK ? eval_nodes(a, s, d, NULL, now) : err;
}

static int state_row(void *arg, const struct hub_dealer_row *r)
{
    struct dealer_ent *d = arg;
    d->stated_online = r->online;
    d->last_seen = r->last_seen;
    return 0;
}

static depot_err on_stock(hub_alerts *a, hub_store *s, const depot_msg *m, long long now)
{
    struct cell *c = cell_get(a, m->dealer, m->body.stock.sku);
    if (!c)
        return DEPOT_ERR_NOMEM;
    set_qty(a, c, m->body.stock.qty);
    return eval_stock(a, s, c, now);
}

static depot_err dispatch(hub_alerts *a, hub_store *s, const depot_msg *m, struct dealer_ent *d,
                          long long now)
{
    depot_err err;
    switch (m->type) {
    case DEPOT_MSG_STOCK:
        return on_stock(a, s, m, now);
    case DEPOT_MSG_MOVEMENTS:
        return on_movements(a, s, m, now);
    case DEPOT_MSG_SNAPSHOT:
        return on_snapshot(a, s, d, now);
    case DEPOT_MSG_EVENT:
        if (strcmp(m->body.event.event, "fault") && strcmp(m->body.event.event, "recovered"))
            return DEPOT_OK;
        return eval_nodes(a, s, d, m->body.event.node, now);
    case DEPOT_MSG_STATE:
        err = hub_store_dealer_get(s, d->id, state_row, d);
        return err == DEPOT_OK || err == DEPOT_ERR_NOTFOUND ? eval_offline(a, s, d, now) : err;
    default:
        return DEPOT_OK;
    }
}

depot_err hub_alerts_on_message(hub_alerts *a, hub_store *s, const depot_msg *m,
                                enum hub_apply_result res, long long seen_ms, long long now)
{
    struct dealer_ent *d;
    depot_err err = a->loaded ? DEPOT_OK : load(a, s, now);
    if (err != DEPOT_OK)
        return err;
    if (res == HUB_APPLY_DUPLICATE)
        return DEPOT_OK;
    d = dealer_get(a, m->dealer, true);
    if (!d)
        return DEPOT_ERR_NOMEM;
    if (seen_ms > d->last_seen)
        d->last_seen = seen_ms;
    if (!a->settings_read) /* a catalog imported just before counts (invariant 5) */
        err = reload_settings(a, s, now);
    if (err == DEPOT_OK && res == HUB_APPLY_DONE)
        err = dispatch(a, s, m, d, now);
    if (err == DEPOT_OK && d->offline.live && m->type != DEPOT_MSG_STATE)
        err = eval_offline(a, s, d, now); /* heard again */
    return err == DEPOT_OK ? refresh_suggestions(a, s, now) : err;
}

/* ---- periodic evaluation ---- */

static int due_shrink(void *arg, const char *dealer, const char *sku, long long units)
{
    struct snap_walk *w = arg;
    struct cell *c = cell_get(w->a, dealer, sku);
    if (!c)
        return w->nomem = true;
    c->shrink_new += units;
    touch(w->a, c);
    return 0;
}

static depot_err eval_shrink_due(hub_alerts *a, hub_store *s, long long now)
{
    struct snap_walk w = {a, false};
    long long window = a->cfg->alert_shrinkage_window_s * 1000LL;
    depot_err err = hub_store_shrink_due(s, now - window - HUB_SHRINK_GRACE_MS,
                                         now - HUB_SHRINK_GRACE_MS, due_shrink, &w);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    return err == DEPOT_OK ? settle_touched(a, s, false, now) : err;
}

/* A new catalog or a new day: every cell again (velocities first on a new day). */
static depot_err eval_all_cells(hub_alerts *a, hub_store *s, bool new_day, long long now)
{
    depot_err err = new_day ? load_velocities(a, s, now) : DEPOT_OK;
    a->resuggest_all = a->resuggest_all || new_day; /* new velocities, new keep levels */
    struct cell *c;
    EACH(a->cells, c) {
        if (err == DEPOT_OK && new_day && c->st[CS_SPIKE].live)
            err = eval_sales(a, s, c, now);
        if (err == DEPOT_OK)
            err = eval_stock(a, s, c, now);
    }
    return err;
}

static depot_err eval_dealers(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    struct dealer_ent *d;
    depot_err err = hub_store_dealer_places(s, load_place, &l);
    if (err == DEPOT_OK)
        err = hub_store_dealers(s, load_dealer, &l);
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    EACH(a->dealers, d) {
        if (err == DEPOT_OK && d->last_seen > 0)
            err = eval_offline(a, s, d, now);
        if (err == DEPOT_OK)
            err = eval_contract(a, s, d, now);
    }
    return err;
}

/* Reloads the catalog and the dealers' places when the store's versions moved (invariant 5),
 * re-evaluating every cell for a new catalog and every suggestion for either. */
static depot_err reload_settings(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    long long catalog = 0, profiles = 0;
    depot_err err = hub_store_catalog_version(s, &catalog);
    if (err == DEPOT_OK)
        err = hub_store_profiles_version(s, &profiles);
    a->settings_read = err == DEPOT_OK;
    if (err == DEPOT_OK && catalog != a->catalog_version) {
        err = load_catalog(a, s);
        err = err == DEPOT_OK ? eval_all_cells(a, s, false, now) : err;
        a->resuggest_all = true;
    }
    if (err == DEPOT_OK && profiles != a->profiles_version) {
        struct dealer_ent *d;
        EACH(a->dealers, d) {
            d->has_loc = false;
        }
        err = hub_store_dealer_places(s, load_place, &l);
        err = err == DEPOT_OK && l.nomem ? DEPOT_ERR_NOMEM : err;
        EACH(a->dealers, d) {
            if (err == DEPOT_OK)
                err = eval_contract(a, s, d, now);
        }
        a->profiles_version = profiles;
        a->resuggest_all = true;
    }
    return err == DEPOT_OK ? refresh_suggestions(a, s, now) : err;
}

/* reload_settings at most every SETTINGS_POLL_MS (two indexed reads of meta). */
static depot_err sync_settings(hub_alerts *a, hub_store *s, long long now)
{
    long long mono = depot_mono_ms();
    if (mono < a->next_settings_ms)
        return DEPOT_OK;
    a->next_settings_ms = mono + SETTINGS_POLL_MS;
    return reload_settings(a, s, now);
}

depot_err hub_alerts_evaluate(hub_alerts *a, hub_store *s, long long now)
{
    long long today = now / HUB_DAY_MS;
    bool new_day;
    depot_err err = a->loaded ? DEPOT_OK : load(a, s, now);
    if (err == DEPOT_OK)
        err = reload_settings(a, s, now);
    new_day = today != a->day;
    if (err == DEPOT_OK && (new_day || a->fresh))
        err = eval_all_cells(a, s, new_day, now);
    a->fresh = a->fresh && err != DEPOT_OK;
    if (err == DEPOT_OK && new_day)
        err = hub_store_history_prune(s, now - a->cfg->alert_history_days * HUB_DAY_MS,
                                      today - DAYS_KEPT);
    if (err == DEPOT_OK)
        a->day = today;
    if (err == DEPOT_OK)
        err = eval_dealers(a, s, now);
    if (err == DEPOT_OK)
        err = eval_shrink_due(a, s, now);
    return err == DEPOT_OK ? refresh_suggestions(a, s, now) : err;
}

/* ---- commit, rollback, metrics ---- */

static int count_kind(void *arg, const char *kind, long long n)
{
    long long *open = arg;
    int k = hub_alert_kind_from_name(kind);
    if (k >= 0)
        open[k] = n;
    return 0;
}

static void refresh_gauges(hub_alerts *a, hub_store *s)
{
    long long open[HUB_AK__COUNT] = {0};
    if (hub_store_alerts_live_counts(s, count_kind, open) != DEPOT_OK)
        return;
    for (int k = 0; k < HUB_AK__COUNT; k++)
        hub_metrics_alerts_open(a->metrics, k, kind_names[k], open[k]);
}

void hub_alerts_committed(hub_alerts *a)
{
    hub_metrics_add(a->metrics, HUB_C_ALERTS_RAISED, a->raised);
    hub_metrics_add(a->metrics, HUB_C_ALERTS_RESOLVED, a->resolved);
    a->raised = a->resolved = 0;
    a->settings_read = false;
    if (a->changed)
        a->next_publish_ms = 0; /* publish now */
}

void hub_alerts_rolled_back(hub_alerts *a)
{
    a->raised = a->resolved = 0;
    a->changed = false;
    a->settings_read = false;
    reset(a); /* reloaded at the next use (invariant 1) */
}

/* ---- publishing the outbox ---- */

struct pub_walk {
    hub_publish_fn publish;
    void *ctx;
    long long seqs[OUTBOX_BATCH];
    int n;
    bool failed;
};

static int publish_one(void *arg, long long seq, const char *dealer, const char *kind,
                       const char *payload)
{
    struct pub_walk *w = arg;
    char down[128], wide[160];
    size_t len = strlen(payload);
    if (depot_topic_build(down, sizeof(down), dealer, depot_msg_topic_leaf(DEPOT_MSG_ALERT)) !=
        DEPOT_OK) {
        w->seqs[w->n++] = seq; /* cannot be sent anywhere: dropped */
        return 0;
    }
    snprintf(wide, sizeof(wide), "depot/alerts/v1/%s/%s", dealer, kind);
    if (w->publish(w->ctx, down, payload, len, false) != DEPOT_OK ||
        w->publish(w->ctx, wide, payload, len, false) != DEPOT_OK) {
        w->failed = true; /* broker away: in order, so stop here */
        return 1;
    }
    w->seqs[w->n++] = seq;
    return 0;
}

depot_err hub_alerts_publish(hub_store *s, hub_publish_fn publish, void *publish_ctx, int *n)
{
    struct pub_walk w = {.publish = publish, .ctx = publish_ctx};
    depot_err err;
    *n = 0;
    do {
        w.n = 0;
        err = hub_store_alert_outbox_list(s, OUTBOX_BATCH, publish_one, &w);
        if (err != DEPOT_OK || w.n == 0)
            break;
        err = hub_store_begin(s);
        for (int i = 0; err == DEPOT_OK && i < w.n; i++)
            err = hub_store_alert_outbox_del(s, w.seqs[i]);
        err = err == DEPOT_OK ? hub_store_commit(s) : err;
        if (err != DEPOT_OK)
            hub_store_rollback(s); /* published again later: QoS 1 allows a repeat */
        *n += w.n;
    } while (err == DEPOT_OK && !w.failed && w.n == OUTBOX_BATCH);
    return err;
}

typedef depot_err (*engine_step)(hub_alerts *a, hub_store *s, long long now);

/* Runs step in a transaction of its own; a failure is logged as what and rolled back. */
static void in_transaction(hub_alerts *a, hub_store *s, engine_step step, long long now,
                           const char *what)
{
    depot_err err = hub_store_begin(s);
    err = err == DEPOT_OK ? step(a, s, now) : err;
    err = err == DEPOT_OK ? hub_store_commit(s) : err;
    if (err == DEPOT_OK) {
        hub_alerts_committed(a);
        return;
    }
    LOG_ERROR("alerts: %s failed: %s", what, depot_strerror(err));
    hub_store_rollback(s);
    hub_alerts_rolled_back(a);
}

void hub_alerts_tick(hub_alerts *a, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                     long long now)
{
    long long mono = depot_mono_ms();
    int n = 0;
    if (a->loaded && mono < a->next_eval_ms && mono >= a->next_settings_ms)
        in_transaction(a, s, sync_settings, now, "reloading the catalog or places");
    if (mono >= a->next_eval_ms) {
        a->next_eval_ms = mono + a->cfg->alert_eval_period_s * 1000LL;
        in_transaction(a, s, hub_alerts_evaluate, now, "periodic evaluation");
        refresh_gauges(a, s);
    }
    if (mono < a->next_publish_ms)
        return;
    a->next_publish_ms = mono + PUBLISH_POLL_MS;
    if (a->changed)
        refresh_gauges(a, s);
    a->changed = false;
    if (hub_alerts_publish(s, publish, publish_ctx, &n) != DEPOT_OK)
        LOG_WARN("alerts: publishing failed; retrying");
    if (n)
        hub_metrics_add(a->metrics, HUB_C_ALERTS_PUBLISHED, (unsigned long long)n);
}

/* ---- API side ---- */

depot_err hub_alerts_encode(const struct hub_alert_row *r, long long now, char **payload,
                            size_t *len)
{
    depot_msg m;
    struct depot_alert_body *b = &m.body.alert;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_ALERT;
    m.ts = now;
    snprintf(m.dealer, sizeof(m.dealer), "%s", r->dealer);
    b->alert = r->id;
    snprintf(b->kind, sizeof(b->kind), "%s", r->kind);
    snprintf(b->sku, sizeof(b->sku), "%s", r->sku);
    snprintf(b->severity, sizeof(b->severity), "%s", r->severity);
    snprintf(b->status, sizeof(b->status), "%s", r->status);
    snprintf(b->text, sizeof(b->text), "%s", r->text);
    snprintf(b->action, sizeof(b->action), "%s", r->action);
    return depot_msg_encode(&m, payload, len);
}

struct act_row {
    char status[DEPOT_STATUS_MAX + 1];
    char dealer[DEPOT_DEALER_MAX + 1];
    char kind[DEPOT_ALERT_KIND_MAX + 1];
};

static int read_status(void *arg, const struct hub_alert_row *r)
{
    struct act_row *o = arg;
    snprintf(o->status, sizeof(o->status), "%s", r->status);
    snprintf(o->dealer, sizeof(o->dealer), "%s", r->dealer);
    snprintf(o->kind, sizeof(o->kind), "%s", r->kind);
    return 0;
}

static depot_err act_in_tx(hub_store *s, long long id, bool resolve, const char *who, long long now,
                           bool *changed)
{
    struct act_row cur = {.status = ""};
    struct row_out o = {.now = now};
    depot_err err = hub_store_alert_get(s, id, read_status, &cur);
    *changed = false;
    if (err != DEPOT_OK)
        return err;
    if (!strcmp(cur.status, "resolved"))
        return DEPOT_ERR_STALE;
    err = resolve ? hub_store_alert_resolve(s, id, who, now, changed)
                  : hub_store_alert_ack(s, id, who, now, changed);
    if (err != DEPOT_OK || !*changed)
        return err;
    err = hub_store_alert_get(s, id, capture_row, &o);
    return err == DEPOT_OK ? queue_change(s, cur.dealer, cur.kind, &o) : err;
}

depot_err hub_alerts_act(hub_store *s, hub_metrics *metrics, long long id, bool resolve,
                         const char *who, long long now)
{
    bool changed = false;
    depot_err err = hub_store_begin(s);
    if (err != DEPOT_OK)
        return err;
    err = act_in_tx(s, id, resolve, who, now, &changed);
    err = err == DEPOT_OK ? hub_store_commit(s) : err;
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        return err;
    }
    if (resolve && changed && metrics)
        hub_metrics_add(metrics, HUB_C_ALERTS_RESOLVED, 1);
    return DEPOT_OK;
}

/* ---- life ---- */

depot_err hub_alerts_new(const struct hub_config *cfg, hub_metrics *metrics, hub_alerts **out)
{
    hub_alerts *a = depot_calloc(1, sizeof(*a));
    if (!a)
        return DEPOT_ERR_NOMEM;
    a->cfg = cfg;
    a->metrics = metrics;
    for (int k = 0; k < HUB_AK__COUNT; k++) /* every kind shown in /metrics from the start */
        hub_metrics_alerts_open(metrics, k, kind_names[k], 0);
    *out = a;
    return DEPOT_OK;
}

void hub_alerts_free(hub_alerts *a)
{
    if (!a)
        return;
    reset(a);
    depot_free(a);
}
