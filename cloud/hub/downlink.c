/*
 * What the hub sends down to gateways about orders, from the ingest worker's
 * periodic tick (it owns the writer store):
 *
 *   escalation  pending orders waiting past [approval] stage_deadline_s at
 *               their stage are flagged escalated (once per stage), with an
 *               audit line, a warning and a metric. Escalation decides
 *               nothing: it shows the order to admins (who may act at any
 *               stage) in GET /api/v1/orders and the log.
 *   decisions   every order whose last decision is not confirmed and whose
 *               next send time has come is published on down/decision (QoS
 *               1), then marked sent with the next send [approval] resend_s
 *               later. Repeats of a final decision stop when the gateway's
 *               "decided" event confirms it (orders.c); a pending one is
 *               sent once per stage; an online state makes them due at once.
 *   catalog     the catalog (sku, barcode, min_qty, max_qty, serial_prefix) is published
 *               retained on down/catalog to every known dealer that has not
 *               got the current version: all of them after a PUT, a new one
 *               when it is first heard of or given a profile.
 *
 * Decisions are read, published and marked sent in one transaction (hub
 * instances on one database take turns); a crash before its commit only
 * repeats a send, which the gateway tolerates.
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "orders.h"

#define BATCH 256

struct collect {
    struct hub_order *orders;
    size_t n;
};

static int collect_order(void *arg, const struct hub_order *o)
{
    struct collect *c = arg;
    c->orders[c->n++] = *o;
    return c->n >= BATCH;
}

/* Runs fn in a transaction; rolls back on failure. */
static depot_err in_tx(hub_store *s, depot_err (*fn)(void *arg, hub_store *s), void *arg)
{
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = fn(arg, s);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}

/* ---- escalation ---- */

struct escalation {
    hub_orders *o;
    const struct hub_config *cfg;
    hub_metrics *metrics;
    long long now;
    struct collect c;
};

static depot_err escalate_tx(void *arg, hub_store *s)
{
    struct escalation *e = arg;
    char why[96];
    depot_err err = hub_store_orders_overdue(s, e->now - e->cfg->stage_deadline_s * 1000LL,
                                             collect_order, &e->c);
    for (size_t i = 0; err == DEPOT_OK && i < e->c.n; i++) {
        const struct hub_order *o = &e->c.orders[i];
        snprintf(why, sizeof(why), "waiting at %s for more than %ld s", o->stage,
                 e->cfg->stage_deadline_s);
        err = hub_store_order_escalate(s, o->id);
        if (err == DEPOT_OK)
            err = hub_audit(s, o->id, o->dealer, "hub", "escalated", o->stage, why, e->now);
    }
    return err;
}

/* ---- decisions ---- */

static depot_err publish_decision(const struct hub_order *o, hub_publish_fn publish, void *ctx,
                                  long long now)
{
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_DECISION, .ts = now};
    struct depot_decision_body *d = &m.body.decision;
    char topic[128], *payload;
    size_t len;
    depot_err err;

    snprintf(m.dealer, sizeof(m.dealer), "%s", o->dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", o->ledger);
    snprintf(d->order, sizeof(d->order), "%s", o->id);
    d->number = o->number;
    snprintf(d->status, sizeof(d->status), "%s", o->status);
    snprintf(d->stage, sizeof(d->stage), "%s", o->stage);
    snprintf(d->reason, sizeof(d->reason), "%.*s", DEPOT_REASON_MAX, o->reason);
    err = depot_topic_build(topic, sizeof(topic), o->dealer,
                            depot_msg_topic_leaf(DEPOT_MSG_DECISION));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&m, &payload, &len);
    if (err != DEPOT_OK)
        return err;
    err = publish(ctx, topic, payload, len, false);
    depot_free(payload);
    return err;
}

struct sent_marks {
    const struct collect *c;
    const bool *sent;
    long long next;
};

/*
 * A "pending" decision only tells the terminal which stage the order waits
 * for; the gateway confirms final decisions only, so a pending one counts as
 * delivered once sent (repeating it would just rewrite the display).
 */
static depot_err mark_sent_tx(void *arg, hub_store *s)
{
    struct sent_marks *m = arg;
    depot_err err = DEPOT_OK;
    bool confirmed;
    for (size_t i = 0; err == DEPOT_OK && i < m->c->n; i++) {
        const struct hub_order *o = &m->c->orders[i];
        if (!m->sent[i])
            continue;
        err = hub_store_decision_sent(s, o->id, o->decision_seq, m->next);
        if (err == DEPOT_OK && strcmp(o->status, "pending") == 0)
            err = hub_store_decision_confirm(s, o->dealer, o->id, &confirmed);
    }
    return err;
}

depot_err hub_orders_publish_decisions(hub_orders *o, hub_store *s, hub_publish_fn publish,
                                       void *publish_ctx, long long now, int *n)
{
    struct collect c = {depot_calloc(BATCH, sizeof(struct hub_order)), 0};
    bool sent[BATCH] = {false};
    const struct hub_config *cfg = hub_orders_config(o);
    struct sent_marks marks = {&c, sent, now + cfg->decision_resend_s * 1000LL};
    depot_err err = c.orders ? hub_store_begin(s) : DEPOT_ERR_NOMEM;

    /* One transaction from reading what is due to marking it sent: hub instances on one
     * database take turns, so each send is made by one of them. */
    *n = 0;
    if (err == DEPOT_OK)
        err = hub_store_decisions_due(s, now, collect_order, &c);
    for (size_t i = 0; err == DEPOT_OK && i < c.n; i++) {
        sent[i] = publish_decision(&c.orders[i], publish, publish_ctx, now) == DEPOT_OK;
        *n += sent[i];
    }
    if (err == DEPOT_OK && *n)
        err = mark_sent_tx(&marks, s);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK && c.orders)
        hub_store_rollback(s); /* sent again later: the gateway takes a repeat */
    if (*n)
        hub_metrics_add(hub_orders_metrics(o), HUB_C_DECISIONS_SENT, (unsigned long long)*n);
    depot_free(c.orders);
    return err;
}

/* ---- catalog ---- */

struct catalog_msg {
    depot_msg m;
    size_t cap;
    bool nomem;
};

/* Grows the item array as the listing goes (every tick lists it: no catalog, no memory). */
static int add_item(void *arg, const struct hub_catalog_item *it)
{
    struct catalog_msg *c = arg;
    struct depot_catalog_body *b = &c->m.body.catalog;
    if (b->n_items >= DEPOT_CATALOG_MAX_ITEMS)
        return 1;
    if (b->n_items == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct depot_catalog_item *items;
        if (cap > DEPOT_CATALOG_MAX_ITEMS)
            cap = DEPOT_CATALOG_MAX_ITEMS;
        items = depot_realloc(b->items, cap * sizeof(*items));
        if (!items) {
            c->nomem = true;
            return 1;
        }
        b->items = items;
        c->cap = cap;
    }
    struct depot_catalog_item *d = &b->items[b->n_items++];
    memset(d, 0, sizeof(*d));
    snprintf(d->sku, sizeof(d->sku), "%s", it->sku);
    snprintf(d->barcode, sizeof(d->barcode), "%s", it->barcode);
    d->min_qty = it->min_qty;
    d->max_qty = it->max_qty;
    snprintf(d->serial_prefix, sizeof(d->serial_prefix), "%s", it->serial_prefix);
    return 0;
}

/* The catalog message (dealer and ledger set per publish); *version 0 if none yet. */
static depot_err build_catalog(hub_store *s, struct catalog_msg *c, long long now,
                               long long *version)
{
    memset(c, 0, sizeof(*c));
    c->m.v = DEPOT_MSG_VERSION;
    c->m.type = DEPOT_MSG_CATALOG;
    c->m.ts = now;
    depot_err err = hub_store_catalog_list(s, version, add_item, c);
    c->m.body.catalog.version = *version;
    return err == DEPOT_OK && c->nomem ? DEPOT_ERR_NOMEM : err;
}

struct due_dealers {
    char (*ids)[DEPOT_DEALER_MAX + 1];
    size_t n;
};

static int collect_dealer(void *arg, const char *id)
{
    struct due_dealers *d = arg;
    snprintf(d->ids[d->n++], DEPOT_DEALER_MAX + 1, "%s", id);
    return d->n >= BATCH;
}

static depot_err publish_catalog_to(struct catalog_msg *c, const char *dealer,
                                    hub_publish_fn publish, void *ctx)
{
    char topic[128], *payload;
    size_t len;
    depot_err err;
    snprintf(c->m.dealer, sizeof(c->m.dealer), "%s", dealer);
    err = depot_topic_build(topic, sizeof(topic), dealer, depot_msg_topic_leaf(DEPOT_MSG_CATALOG));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&c->m, &payload, &len);
    if (err != DEPOT_OK)
        return err;
    err = publish(ctx, topic, payload, len, true);
    depot_free(payload);
    return err;
}

static depot_err publish_catalog_due(struct catalog_msg *c, hub_store *s, struct due_dealers *d,
                                     hub_publish_fn publish, void *ctx, int *n)
{
    long long version = c->m.body.catalog.version;
    depot_err err = hub_store_begin(s); /* hub instances take turns: one send per dealer */
    if (err == DEPOT_OK)
        err = hub_store_catalog_due(s, version, collect_dealer, d);
    for (size_t i = 0; err == DEPOT_OK && i < d->n; i++) {
        if (publish_catalog_to(c, d->ids[i], publish, ctx) != DEPOT_OK)
            continue;
        (*n)++;
        err = hub_store_catalog_sent(s, d->ids[i], version);
    }
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s); /* sent again later: retained, the same message */
    return err;
}

depot_err hub_orders_publish_catalog(hub_orders *o, hub_store *s, hub_publish_fn publish,
                                     void *publish_ctx, long long now, int *n)
{
    struct catalog_msg c;
    struct due_dealers d = {depot_calloc(BATCH, DEPOT_DEALER_MAX + 1), 0};
    long long version = 0;
    depot_err err = d.ids ? build_catalog(s, &c, now, &version) : DEPOT_ERR_NOMEM;

    *n = 0;
    if (err == DEPOT_OK && version > 0)
        err = publish_catalog_due(&c, s, &d, publish, publish_ctx, n);
    if (*n)
        hub_metrics_add(hub_orders_metrics(o), HUB_C_CATALOGS_SENT, (unsigned long long)*n);
    if (d.ids)
        depot_msg_clear(&c.m);
    depot_free(d.ids);
    return err;
}

depot_err hub_orders_escalate(hub_orders *o, hub_store *s, long long now)
{
    struct escalation e = {o,
                           hub_orders_config(o),
                           hub_orders_metrics(o),
                           now,
                           {depot_calloc(BATCH, sizeof(struct hub_order)), 0}};
    depot_err err = e.c.orders ? in_tx(s, escalate_tx, &e) : DEPOT_ERR_NOMEM;
    for (size_t i = 0; err == DEPOT_OK && i < e.c.n; i++) {
        LOG_WARN("order %s of %s escalated: waiting at %s for more than %ld s", e.c.orders[i].id,
                 e.c.orders[i].dealer, e.c.orders[i].stage, e.cfg->stage_deadline_s);
        hub_metrics_add(e.metrics, HUB_C_ORDERS_ESCALATED, 1);
    }
    depot_free(e.c.orders);
    return err;
}

void hub_orders_tick(hub_orders *o, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                     long long now)
{
    int n;
    if (hub_orders_escalate(o, s, now) != DEPOT_OK)
        LOG_WARN("orders: escalation failed; retrying on the next tick");
    if (hub_orders_publish_decisions(o, s, publish, publish_ctx, now, &n) != DEPOT_OK)
        LOG_WARN("orders: publishing decisions failed; retrying on the next tick");
    if (hub_orders_publish_catalog(o, s, publish, publish_ctx, now, &n) != DEPOT_OK)
        LOG_WARN("orders: publishing the catalog failed; retrying on the next tick");
}
