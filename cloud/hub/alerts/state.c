/*
 * The engine's state in memory (dealers, SKUs, cells in uthash tables; their
 * alert slots) and its loading from the store.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "alerts/private.h"
#include "stale.h"

static void free_dealer(struct dealer_ent *d)
{
    for (struct node_ent *x = d->nodes, *next; x; x = next) {
        next = x->next;
        depot_free(x);
    }
    depot_free(d);
}

void alerts_reset(hub_alerts *a)
{
    struct cell *c, *ct;
    struct sku_ent *k, *kt;
    struct dealer_ent *d, *dt;
    HASH_ITER(hh, a->cells, c, ct)
    {
        HASH_DEL(a->cells, c);
        depot_free(c->shown);
        depot_free(c);
    }
    HASH_ITER(hh, a->skus, k, kt)
    {
        HASH_DEL(a->skus, k);
        depot_free(k);
    }
    HASH_ITER(hh, a->dealers, d, dt)
    {
        HASH_DEL(a->dealers, d);
        free_dealer(d);
    }
    a->touched = NULL;
    a->dirty = NULL;
    a->dirty_cells = NULL;
    a->last = NULL;
    a->moved = NULL;
    a->resuggest_all = false;
    a->loaded = false;
}

struct dealer_ent *alerts_dealer_get(hub_alerts *a, const char *id, bool create)
{
    struct dealer_ent *d;
    if (a->last && !strcmp(a->last->id, id))
        return a->last;
    HASH_FIND_STR(a->dealers, id, d);
    if (d)
        return a->last = d;
    if (!create || !(d = depot_calloc(1, sizeof(*d))))
        return NULL;
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->stated_online = true;
    HASH_ADD_STR(a->dealers, id, d);
    if (!DEPOT_HASH_ADDED(d)) {
        depot_free(d);
        return NULL;
    }
    return a->last = d;
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
    c->dealer_next = d->cells;
    d->cells = c;
    return c;
}

struct cell *alerts_cell_get(hub_alerts *a, const char *dealer, const char *sku)
{
    struct dealer_ent *d = alerts_dealer_get(a, dealer, true);
    struct sku_ent *k = d ? sku_get(a, sku, true) : NULL;
    return k ? cell_find(a, d, k, true) : NULL;
}

struct node_ent *alerts_node_get(struct dealer_ent *d, const char *name)
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
void alerts_resuggest(hub_alerts *a, struct cell *c)
{
    if (!c->moved) {
        c->moved = true;
        c->moved_next = a->moved;
        a->moved = c;
    }
}

void alerts_touch(hub_alerts *a, struct cell *c)
{
    if (!c->touched) {
        c->touched = true;
        c->touch_next = a->touched;
        a->touched = c;
    }
}

bool alerts_dealer_online(const hub_alerts *a, const struct dealer_ent *d, long long now)
{
    return hub_dealer_online(d->stated_online, d->last_seen, now, a->cfg->offline_after_s * 1000LL);
}

/* ---- loading the state ---- */

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

depot_err alerts_load_catalog(hub_alerts *a, hub_store *s)
{
    struct load_ctx l = {a, 0, false};
    struct sku_ent *k;
    depot_err err;
    EACH(a->skus, k)
    {
        k->in_catalog = false;
    }
    err = hub_store_catalog_list(s, &a->catalog_version, load_catalog_item, &l);
    return err != DEPOT_OK ? err : l.nomem ? DEPOT_ERR_NOMEM : DEPOT_OK;
}

int alerts_load_place(void *arg, const struct hub_dealer_place *p)
{
    struct load_ctx *l = arg;
    struct dealer_ent *d = alerts_dealer_get(l->a, p->dealer, true);
    if (!d)
        return l->nomem = true;
    d->has_loc = p->has_location;
    d->lat = p->lat;
    d->lon = p->lon;
    snprintf(d->contract_end, sizeof(d->contract_end), "%s", p->contract_end);
    return 0;
}

int alerts_load_dealer(void *arg, const struct hub_dealer_row *r)
{
    struct load_ctx *l = arg;
    struct dealer_ent *d = alerts_dealer_get(l->a, r->dealer, true);
    if (!d)
        return l->nomem = true;
    d->stated_online = r->online;
    d->last_seen = r->last_seen;
    return 0;
}

static int load_stock(void *arg, const struct hub_stock_row *r)
{
    struct load_ctx *l = arg;
    struct cell *c = alerts_cell_get(l->a, r->dealer, r->sku);
    if (!c)
        return l->nomem = true;
    c->qty = r->qty;
    c->has_qty = true;
    return 0;
}

static int load_velocity(void *arg, const char *dealer, const char *sku, long long sum)
{
    struct load_ctx *l = arg;
    struct cell *c = alerts_cell_get(l->a, dealer, sku);
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
    struct dealer_ent *d = alerts_dealer_get(a, r->dealer, true);
    struct node_ent *n;
    struct cell *c;
    if (kind < 0 || !d)
        return NULL;
    if (cell_slot[kind]) {
        c = depot_id_valid(r->sku, DEPOT_SKU_MAX) ? alerts_cell_get(a, r->dealer, r->sku) : NULL;
        return c ? &c->st[cell_slot[kind] - 1] : NULL;
    }
    if (kind == HUB_AK_NODE_FAULT)
        return (n = alerts_node_get(d, r->subject)) ? &n->fault : NULL;
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
    st->hash = alerts_verdict_hash(&v);
    return 0;
}

/* A slot as the store keeps it (invariant 6): live with its alert, its suggestion's hash and,
 * for shrinkage, the tally. */
static int load_memo(void *arg, const struct hub_alert_memo *m)
{
    struct load_ctx *l = arg;
    struct hub_alert_row r = {
        .dealer = m->dealer, .sku = m->sku, .kind = m->kind, .subject = m->subject};
    struct verdict v = {.severity = m->severity};
    struct slot *st = slot_of(l->a, &r);
    struct cell *c;
    if (!st)
        return 0;
    snprintf(v.text, sizeof(v.text), "%s", m->text);
    st->live = true;
    st->id = m->id;
    st->hash = alerts_verdict_hash(&v);
    st->sg_hash = m->sg_hash;
    if (hub_alert_kind_from_name(m->kind) == HUB_AK_SHRINKAGE &&
        (c = alerts_cell_get(l->a, m->dealer, m->sku))) {
        c->shrink_total = m->tally;
        c->shrink_back = m->back;
    }
    return 0;
}

depot_err alerts_memo(hub_store *s, const struct slot *st, const struct alert_key *k)
{
    struct hub_alert_memo m = {.dealer = k->dealer,
                               .sku = k->sku,
                               .kind = hub_alert_kind_name(k->kind),
                               .subject = k->subject,
                               .id = st->id,
                               .sg_hash = st->sg_hash,
                               .tally = k->c ? k->c->shrink_total : 0,
                               .back = k->c ? k->c->shrink_back : 0};
    return st->live ? hub_store_alert_memo_set(s, &m) : DEPOT_OK;
}

/* The live alerts of dealer (NULL: all) into their slots, then their memos. */
static depot_err load_alerts(hub_alerts *a, hub_store *s, const char *dealer, struct load_ctx *l)
{
    struct hub_alert_filter live = {.dealer = dealer};
    depot_err err = DEPOT_OK;
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        live.status = i ? "acknowledged" : "open";
        err = hub_store_alerts_list(s, &live, load_alert, l);
    }
    (void)a;
    return err == DEPOT_OK ? hub_store_alert_memos(s, dealer, load_memo, l) : err;
}

depot_err alerts_load_velocities(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    long long today = now / HUB_DAY_MS;
    struct cell *c;
    depot_err err;
    EACH(a->cells, c)
    {
        c->velocity = 0;
    }
    err =
        hub_store_picked_sums(s, today - a->cfg->alert_velocity_days + 1, today, load_velocity, &l);
    return err != DEPOT_OK ? err : l.nomem ? DEPOT_ERR_NOMEM : DEPOT_OK;
}

depot_err alerts_load(hub_alerts *a, hub_store *s, long long now)
{
    struct load_ctx l = {a, now, false};
    long long pruned;
    depot_err err;
    alerts_reset(a);
    err = hub_store_log_read(s, HUB_LOG_ALERTS, -1, NULL, NULL, &a->log_seq, &pruned);
    if (err == DEPOT_OK)
        err = hub_store_profiles_version(s, &a->profiles_version);
    if (err == DEPOT_OK)
        err = alerts_load_catalog(a, s);
    if (err == DEPOT_OK)
        err = hub_store_dealer_places(s, alerts_load_place, &l);
    if (err == DEPOT_OK)
        err = hub_store_dealers(s, alerts_load_dealer, &l);
    if (err == DEPOT_OK)
        err = hub_store_stock(s, NULL, NULL, load_stock, &l);
    if (err == DEPOT_OK)
        err = alerts_load_velocities(a, s, now);
    if (err == DEPOT_OK)
        err = load_alerts(a, s, NULL, &l);
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err != DEPOT_OK) {
        alerts_reset(a);
        return err;
    }
    if (!a->day) /* a reload keeps the day it knew: a new one is still rolled over */
        a->day = now / HUB_DAY_MS;
    a->loaded = a->fresh = a->synced = true;
    return DEPOT_OK;
}

/* ---- several engines on one database (invariant 6) ---- */

void alerts_mark(hub_alerts *a, struct dealer_ent *d)
{
    if (d && !d->dirty) {
        d->dirty = true;
        d->dirty_next = a->dirty;
        a->dirty = d;
    }
}

void alerts_mark_id(hub_alerts *a, const char *dealer)
{
    alerts_mark(a, alerts_dealer_get(a, dealer, false));
}

void alerts_mark_cell(hub_alerts *a, struct cell *c)
{
    if (c && !c->logged) {
        c->logged = true;
        c->log_next = a->dirty_cells;
        a->dirty_cells = c;
    }
}

void alerts_unmark_all(hub_alerts *a)
{
    struct dealer_ent *d;
    struct cell *c;
    while ((d = a->dirty)) {
        a->dirty = d->dirty_next;
        d->dirty = d->all_cells = false;
    }
    while ((c = a->dirty_cells)) {
        a->dirty_cells = c->log_next;
        c->logged = false;
    }
}

/* A growing text of space-separated words. */
struct words {
    char *text;
    size_t len, cap;
    bool nomem;
};

static void words_add(struct words *w, const char *a, const char *b)
{
    size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + 2;
    char *grown;
    if (w->nomem)
        return;
    if (w->len + n > w->cap) {
        size_t cap = (w->len + n) * 2;
        if (!(grown = depot_realloc(w->text, cap))) {
            w->nomem = true;
            return;
        }
        w->text = grown;
        w->cap = cap;
    }
    w->len += (size_t)snprintf(w->text + w->len, w->cap - w->len, "%s%s%s%s", w->len ? " " : "", a,
                               b ? "/" : "", b ? b : "");
}

depot_err alerts_log_changes(hub_alerts *a, hub_store *s, long long now)
{
    struct words w = {0};
    depot_err err;
    for (struct dealer_ent *d = a->dirty; d; d = d->dirty_next)
        words_add(&w, d->id, d->all_cells ? "*" : NULL);
    for (struct cell *c = a->dirty_cells; c; c = c->log_next)
        if (!c->d->all_cells)
            words_add(&w, c->d->id, c->k->id);
    if (w.nomem) {
        depot_free(w.text);
        return DEPOT_ERR_NOMEM;
    }
    if (!w.text)
        return DEPOT_OK;
    if (!a->writer[0]) {
        unsigned char r[8] = {0};
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            memcpy(r, &now, sizeof(r) < sizeof(now) ? sizeof(r) : sizeof(now));
        snprintf(a->writer, sizeof(a->writer), "%d-%02x%02x%02x%02x%02x%02x%02x%02x", (int)getpid(),
                 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
    }
    err = hub_store_log_add(s, HUB_LOG_ALERTS, a->writer, w.text, now);
    depot_free(w.text);
    return err;
}

struct log_walk {
    hub_alerts *a;
    struct dealer_ent *stale;
    struct cell *cells;
    bool nomem;
};

/* One word of an entry: "D", "D/SKU", or D, "/" and "*" (all its cells). */
static bool log_word(struct log_walk *w, const char *p, size_t n)
{
    char id[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1];
    size_t cut = 0;
    struct dealer_ent *d;
    struct cell *c;
    while (cut < n && p[cut] != '/')
        cut++;
    if (cut == 0 || cut >= sizeof(id) ||
        (cut < n && (n - cut - 1 == 0 || n - cut - 1 >= sizeof(sku))))
        return true; /* not a word this engine wrote: skipped */
    memcpy(id, p, cut);
    id[cut] = '\0';
    if (!(d = alerts_dealer_get(w->a, id, true)))
        return false;
    if (!d->stale) {
        d->stale = true;
        d->stale_next = w->stale;
        w->stale = d;
    }
    if (cut == n)
        return true;
    memcpy(sku, p + cut + 1, n - cut - 1);
    sku[n - cut - 1] = '\0';
    if (!strcmp(sku, "*")) {
        d->stale_all = true;
        return true;
    }
    if (!depot_id_valid(sku, DEPOT_SKU_MAX))
        return true;
    if (!(c = alerts_cell_get(w->a, id, sku)))
        return false;
    if (!c->stale) {
        c->stale = true;
        c->stale_next = w->cells;
        w->cells = c;
    }
    return true;
}

static int log_entry(void *arg, long long seq, const char *writer, const char *dealers)
{
    struct log_walk *w = arg;
    w->a->log_seq = seq;
    if (!strcmp(writer, w->a->writer))
        return 0; /* this engine's own: its state is the database's */
    for (const char *p = dealers; *p && !w->nomem;) {
        size_t n = strcspn(p, " ");
        if (n && !log_word(w, p, n))
            w->nomem = true;
        p += n + (p[n] == ' ');
    }
    return w->nomem;
}

/* Forgets what the engine holds of a cell before it is read again. */
static void cell_forget(hub_alerts *a, struct cell *c)
{
    c->was_source = alerts_is_source(a, c);
    memset(c->st, 0, sizeof(c->st));
    depot_free(c->shown);
    c->shown = NULL;
    c->has_qty = false;
    c->qty = c->shrink_total = c->shrink_back = 0;
    c->velocity = 0;
}

/* Reads again, in one read of each kind, the dealers and cells the walk found stale. */
static depot_err reload_stale(hub_alerts *a, hub_store *s, struct log_walk *lw, long long now)
{
    struct load_ctx l = {a, now, false};
    struct words dealers = {0}, cells = {0}, all = {0};
    long long today = now / HUB_DAY_MS;
    struct hub_alert_reload r = {.from_day = today - a->cfg->alert_velocity_days + 1,
                                 .to_day = today,
                                 .dealer = alerts_load_dealer,
                                 .stock = load_stock,
                                 .sum = load_velocity,
                                 .alert = load_alert,
                                 .memo = load_memo};
    depot_err err = DEPOT_OK;
    for (struct dealer_ent *d = lw->stale; d; d = d->stale_next) {
        words_add(&dealers, d->id, NULL);
        if (d->stale_all)
            words_add(&all, d->id, NULL);
        memset(&d->offline, 0, sizeof(d->offline));
        memset(&d->contract, 0, sizeof(d->contract));
        for (struct node_ent *n = d->nodes; n; n = n->next)
            memset(&n->fault, 0, sizeof(n->fault));
        for (struct cell *c = d->cells; d->stale_all && c; c = c->dealer_next)
            cell_forget(a, c);
    }
    for (struct cell *c = lw->cells; c; c = c->stale_next)
        if (!c->d->stale_all) {
            words_add(&cells, c->d->id, c->k->id);
            cell_forget(a, c);
        }
    if (dealers.nomem || cells.nomem || all.nomem)
        err = DEPOT_ERR_NOMEM;
    r.dealers = dealers.text ? dealers.text : "";
    r.cells = cells.text ? cells.text : "";
    r.all = all.text ? all.text : "";
    if (err == DEPOT_OK)
        err = hub_store_alert_reload(s, &r, &l);
    if (err == DEPOT_OK && l.nomem)
        err = DEPOT_ERR_NOMEM;
    for (struct dealer_ent *d = lw->stale; d; d = d->stale_next)
        for (struct cell *c = d->cells; err == DEPOT_OK && d->stale_all && c; c = c->dealer_next)
            if (c->was_source != alerts_is_source(a, c))
                alerts_resuggest(a, c);
    for (struct cell *c = lw->cells; err == DEPOT_OK && c; c = c->stale_next)
        if (!c->d->stale_all && c->was_source != alerts_is_source(a, c))
            alerts_resuggest(a, c);
    depot_free(dealers.text);
    depot_free(cells.text);
    depot_free(all.text);
    return err;
}

depot_err alerts_sync(hub_alerts *a, hub_store *s, long long now)
{
    struct log_walk w = {a, NULL, NULL, false};
    long long head, pruned, from = a->log_seq;
    struct dealer_ent *d;
    struct cell *c;
    depot_err err;
    if (!a->loaded) { /* what changed while it was not loaded counts now, as it would have */
        err = alerts_load(a, s, now);
        err = err == DEPOT_OK ? alerts_eval_all_cells(a, s, false, now) : err;
        a->fresh = err != DEPOT_OK;
        return err;
    }
    if (a->synced)
        return DEPOT_OK;
    err = hub_store_log_read(s, HUB_LOG_ALERTS, a->log_seq, log_entry, &w, &head, &pruned);
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK && from < pruned) {
        LOG_INFO("alerts: the engine log moved past this engine (read up to %lld, kept from "
                 "%lld): reloading everything",
                 from, pruned);
        a->loaded = false; /* everything again, the stale marks too */
        return alerts_sync(a, s, now);
    }
    if (err == DEPOT_OK && (w.stale || w.cells))
        err = reload_stale(a, s, &w, now);
    while ((d = w.stale)) {
        w.stale = d->stale_next;
        d->stale = d->stale_all = false;
    }
    while ((c = w.cells)) {
        w.cells = c->stale_next;
        c->stale = false;
    }
    a->synced = err == DEPOT_OK;
    return err;
}
