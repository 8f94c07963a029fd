/*
 * The engine's state in memory (dealers, SKUs, cells in uthash tables; their
 * alert slots) and its loading from the store.
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "alerts/private.h"
#include "stale.h"

static void free_dealer(struct dealer_ent *d)
{
    for (struct node_ent *x = d->nodes, *next; x; x = next) {
        next = x->next;
        depot_free(x);
    }
    for (struct task_ent *x = d->tasks, *next; x; x = next) {
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

struct task_ent *alerts_task_get(struct dealer_ent *d, const char *subject)
{
    struct task_ent *t;
    for (t = d->tasks; t; t = t->next)
        if (!strcmp(t->subject, subject))
            return t;
    if (!(t = depot_calloc(1, sizeof(*t))))
        return NULL;
    snprintf(t->subject, sizeof(t->subject), "%.23s", subject);
    t->next = d->tasks;
    d->tasks = t;
    return t;
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

int alerts_load_stock(void *arg, const struct hub_stock_row *r)
{
    struct load_ctx *l = arg;
    struct cell *c = alerts_cell_get(l->a, r->dealer, r->sku);
    if (!c)
        return l->nomem = true;
    c->qty = r->qty;
    c->has_qty = true;
    return 0;
}

int alerts_load_velocity(void *arg, const char *dealer, const char *sku, long long sum)
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
    struct task_ent *t;
    struct cell *c;
    if (kind < 0 || !d)
        return NULL;
    if (cell_slot[kind]) {
        c = depot_id_valid(r->sku, DEPOT_SKU_MAX) ? alerts_cell_get(a, r->dealer, r->sku) : NULL;
        return c ? &c->st[cell_slot[kind] - 1] : NULL;
    }
    if (kind == HUB_AK_NODE_FAULT)
        return (n = alerts_node_get(d, r->subject)) ? &n->fault : NULL;
    if (kind == HUB_AK_OUTBOX_FILLING)
        return &d->outbox;
    if (kind == HUB_AK_TASK_OVERDUE)
        return (t = alerts_task_get(d, r->subject)) ? &t->overdue : NULL;
    if (kind == HUB_AK_LEDGER_BREAK || kind == HUB_AK_DIVERSION || kind == HUB_AK_DOUBLE_PICK)
        return NULL; /* events (hub_alerts_event): no state kept */
    return kind == HUB_AK_GATEWAY_OFFLINE ? &d->offline : &d->contract;
}

int alerts_load_alert(void *arg, const struct hub_alert_row *r)
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
int alerts_load_memo(void *arg, const struct hub_alert_memo *m)
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

/* The live alerts of dealer (NULL: all) into their slots, then their memos. */
static depot_err load_alerts(hub_alerts *a, hub_store *s, const char *dealer, struct load_ctx *l)
{
    struct hub_alert_filter live = {.dealer = dealer};
    depot_err err = DEPOT_OK;
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        live.status = i ? "acknowledged" : "open";
        err = hub_store_alerts_list(s, &live, alerts_load_alert, l);
    }
    (void)a;
    return err == DEPOT_OK ? hub_store_alert_memos(s, dealer, alerts_load_memo, l) : err;
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
    err = hub_store_picked_sums(s, today - a->cfg->alert_velocity_days + 1, today,
                                alerts_load_velocity, &l);
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
        err = hub_store_stock(s, NULL, NULL, alerts_load_stock, &l);
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
