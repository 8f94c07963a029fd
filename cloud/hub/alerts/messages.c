/*
 * What an applied message changes: movements, snapshots and stock levels,
 * presence and node states, each re-evaluating the cells and dealers it touched.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alerts/private.h"
#include "store/ledger.h"

/* ---- messages ---- */

static depot_err movement(hub_alerts *a, hub_store *s, const char *dealer,
                          const struct depot_movement_item *it, long long now)
{
    struct cell *c = alerts_cell_get(a, dealer, it->sku);
    long long window = a->cfg->alert_shrinkage_window_s * 1000LL, out = -it->delta;
    bool scale = !strcmp(it->kind, "scale"), pick = !strcmp(it->kind, "pick");
    if (!c)
        return DEPOT_ERR_NOMEM;
    alerts_touch(a, c);
    alerts_mark_cell(a, c); /* invariant 6 */
    if (!strcmp(it->kind, "count"))
        c->stock_taken = true;
    if (scale && it->delta > 0 && c->st[CS_SHRINK].live) {
        c->shrink_back += it->delta;
        c->came_back = true;
    }
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
    return err == DEPOT_OK ? alerts_settle_touched(a, s, true, now) : err;
}

static int snapshot_row(void *arg, const struct hub_stock_row *r)
{
    struct snap_walk *w = arg;
    struct cell *c = alerts_cell_get(w->a, r->dealer, r->sku);
    if (!c)
        return w->nomem = true;
    if (!c->has_qty || c->qty != r->qty)
        alerts_touch(w->a, c);
    alerts_set_qty(w->a, c, r->qty);
    return 0;
}

/* A snapshot may have changed any of the dealer's stock (the store kept what was newer) and
 * its nodes' fault flags: read them back. */
static depot_err on_snapshot(hub_alerts *a, hub_store *s, struct dealer_ent *d, long long now)
{
    struct snap_walk w = {a, false};
    depot_err err = hub_store_stock(s, d->id, NULL, snapshot_row, &w);
    d->all_cells = true; /* invariant 6: any of its cells may have changed */
    if (err == DEPOT_OK && w.nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = alerts_settle_touched(a, s, false, now);
    return err == DEPOT_OK ? alerts_eval_nodes(a, s, d, NULL, now) : err;
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
    struct cell *c = alerts_cell_get(a, m->dealer, m->body.stock.sku);
    if (!c)
        return DEPOT_ERR_NOMEM;
    alerts_mark_cell(a, c); /* invariant 6 */
    alerts_set_qty(a, c, m->body.stock.qty);
    return alerts_eval_stock(a, s, c, now);
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
        return alerts_eval_nodes(a, s, d, m->body.event.node, now);
    case DEPOT_MSG_OUTBOX:
        return alerts_eval_outbox(a, s, d, &m->body.outbox, now);
    case DEPOT_MSG_STATE:
        err = hub_store_dealer_get(s, d->id, state_row, d);
        return err == DEPOT_OK || err == DEPOT_ERR_NOTFOUND ? alerts_eval_offline(a, s, d, now)
                                                            : err;
    default:
        return DEPOT_OK;
    }
}

depot_err hub_alerts_on_message(hub_alerts *a, hub_store *s, const depot_msg *m,
                                enum hub_apply_result res, long long seen_ms, long long now)
{
    struct dealer_ent *d;
    depot_err err = alerts_sync(a, s, now); /* done by hub_alerts_begin already, normally */
    if (err != DEPOT_OK)
        return err;
    if (res == HUB_APPLY_DUPLICATE)
        return DEPOT_OK;
    d = alerts_dealer_get(a, m->dealer, true);
    if (!d)
        return DEPOT_ERR_NOMEM;
    alerts_mark(a, d); /* invariant 6 */
    if (seen_ms > d->last_seen)
        d->last_seen = seen_ms;
    if (!a->settings_read) /* a catalog imported just before counts (invariant 5) */
        err = alerts_reload_settings(a, s, now);
    if (err == DEPOT_OK && res == HUB_APPLY_DONE)
        err = dispatch(a, s, m, d, now);
    if (err == DEPOT_OK && d->offline.live && m->type != DEPOT_MSG_STATE)
        err = alerts_eval_offline(a, s, d, now); /* heard again */
    return err == DEPOT_OK ? alerts_refresh_suggestions(a, s, now) : err;
}

static void say(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text, cut to what an alert holds. */
static void say(struct verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->text, sizeof(v->text), fmt, ap);
    va_end(ap);
}

depot_err hub_alerts_on_chain(hub_alerts *a, hub_store *s, const depot_msg *m,
                              const struct hub_chain *c, long long now)
{
    const struct depot_movements_body *b = &m->body.movements;
    unsigned long long first = b->n_items ? b->items[0].mid : 0;
    unsigned long long last = b->n_items ? b->items[b->n_items - 1].mid : 0;
    unsigned long long head = (unsigned long long)c->head_mid;
    struct verdict v = {.holds = true, .severity = "critical"};
    if (c->out == HUB_CHAIN_FORK && head + 1 == first)
        say(&v,
            "ledger %.8s forked at movement %llu: signed after hash %.8s, the hub holds %.8s "
            "for movement %llu",
            m->ledger, first, b->prev, c->head_hash, head);
    else if (c->out == HUB_CHAIN_FORK)
        say(&v,
            "ledger %.8s forked: movements %llu..%llu came again with other contents (the "
            "hub's head: %llu)",
            m->ledger, first, last, head);
    else if (c->out == HUB_CHAIN_GAP)
        say(&v, "ledger %.8s has a gap: movements %llu..%llu never reached the hub", m->ledger,
            head + 1, first - 1);
    else if (c->out == HUB_CHAIN_DOWNGRADE)
        say(&v,
            "ledger %.8s: movements %llu..%llu refused, sent without their chain after "
            "chained ones",
            m->ledger, first, last);
    else
        say(&v, "ledger %.8s: movements %llu..%llu refused: %s", m->ledger, first, last, c->why);
    return hub_alerts_event(a, s, m->dealer, HUB_AK_LEDGER_BREAK, m->ledger, v.severity, v.text,
                            now);
}

depot_err hub_alerts_event(hub_alerts *a, hub_store *s, const char *dealer, enum hub_alert_kind k,
                           const char *subject, const char *severity, const char *text,
                           long long now)
{
    struct verdict v = {.holds = true, .severity = severity};
    struct alert_key key = {dealer, "", subject, k, NULL};
    struct slot st = {0}; /* no state: every event is a trigger of the one open alert */
    struct dealer_ent *d;
    depot_err err = alerts_sync(a, s, now);
    if (err != DEPOT_OK)
        return err;
    d = alerts_dealer_get(a, dealer, true);
    if (!d)
        return DEPOT_ERR_NOMEM;
    alerts_mark(a, d); /* invariant 6 */
    snprintf(v.text, sizeof(v.text), "%s", text);
    return alerts_settle(a, s, &st, &key, &v, now);
}
