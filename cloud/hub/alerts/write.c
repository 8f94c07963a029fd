/*
 * Writing alerts: a verdict against a slot opens, updates or resolves the
 * alert in the store, its encoded change queued in the alert outbox in the
 * same transaction (invariants 1 and 2 of private.h).
 */

#include <string.h>

#include "depot/alloc.h"
#include "depot/digest.h"
#include "alerts/private.h"
#include "webhooks.h"

/* ---- writing alerts (invariants 1 and 2) ---- */

enum need alerts_needs(const struct slot *st, const struct verdict *v)
{
    if (!v->holds)
        return st->live ? NEED_RESOLVE : NEED_NOTHING;
    return st->live && st->hash == alerts_verdict_hash(v) ? NEED_NOTHING : NEED_PUT;
}

int alerts_capture_row(void *arg, const struct hub_alert_row *r)
{
    struct row_out *o = arg;
    size_t len;
    o->id = r->id;
    o->count = r->count;
    o->err = hub_alerts_encode(r, o->now, &o->payload, &len);
    cJSON_Delete(o->event);
    o->event = hub_webhook_alert_data(r);
    if (!o->event && o->err == DEPOT_OK)
        o->err = DEPOT_ERR_NOMEM;
    return 0;
}

void alerts_row_out_clear(struct row_out *o)
{
    depot_free(o->payload);
    o->payload = NULL;
    cJSON_Delete(o->event);
    o->event = NULL;
}

/* Invariant 2; the webhook event in the same transaction. */
depot_err alerts_queue_change(hub_store *s, const char *dealer, const char *kind, struct row_out *o,
                              const char *event)
{
    depot_err err = o->err;
    if (err == DEPOT_OK && o->payload)
        err = hub_store_alert_outbox_add(s, dealer, kind, o->payload);
    if (err == DEPOT_OK && event && o->event) {
        err = hub_webhook_event(s, event, o->now, o->event); /* takes the data */
        o->event = NULL;
    }
    alerts_row_out_clear(o);
    return err;
}

depot_err alerts_alert_put(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                           const struct verdict *v, const char *action, const char *suggestion,
                           long long now)
{
    struct hub_alert_put p = {k->dealer,  k->sku,      hub_alert_kind_name(k->kind),
                              k->subject, v->severity, v->text,
                              action,     suggestion,  now};
    struct row_out o = {.now = now};
    depot_err err = hub_store_alert_put(s, &p, alerts_capture_row, &o);
    if (err == DEPOT_OK)
        err = alerts_queue_change(s, k->dealer, hub_alert_kind_name(k->kind), &o,
                                  o.count == 1 ? "alert.opened" : "alert.updated");
    alerts_row_out_clear(&o);
    if (err != DEPOT_OK)
        return err;
    st->live = true;
    st->id = o.id;
    st->hash = alerts_verdict_hash(v);
    a->raised += o.count == 1;
    a->changed = true;
    if (k->sku[0]) /* invariant 6 */
        alerts_mark_cell(a, alerts_cell_get(a, k->dealer, k->sku));
    else
        alerts_mark_id(a, k->dealer);
    return alerts_memo(s, st, k);
}

depot_err alerts_alert_clear(hub_alerts *a, hub_store *s, struct slot *st,
                             const struct alert_key *k, long long now)
{
    struct row_out o = {.now = now};
    bool changed = false;
    depot_err err = hub_store_alert_resolve(s, st->id, "auto", now, &changed);
    if (err == DEPOT_OK && changed) {
        err = hub_store_alert_get(s, st->id, alerts_capture_row, &o);
        err = err == DEPOT_OK ? alerts_queue_change(s, k->dealer, hub_alert_kind_name(k->kind), &o,
                                                    "alert.resolved")
                              : err;
        alerts_row_out_clear(&o);
        a->resolved++;
        a->changed = true;
    }
    if (k->sku[0]) /* invariant 6: its slot is free now, whatever the row said */
        alerts_mark_cell(a, alerts_cell_get(a, k->dealer, k->sku));
    else
        alerts_mark_id(a, k->dealer);
    if (err == DEPOT_OK)
        err = hub_store_alert_memo_del(s, st->id);
    if (err == DEPOT_OK)
        memset(st, 0, sizeof(*st));
    return err;
}

/* Settles one slot for an alert without a suggestion. */
depot_err alerts_settle(hub_alerts *a, hub_store *s, struct slot *st, const struct alert_key *k,
                        const struct verdict *v, long long now)
{
    switch (alerts_needs(st, v)) {
    case NEED_PUT:
        return alerts_alert_put(a, s, st, k, v, "", "", now);
    case NEED_RESOLVE:
        return alerts_alert_clear(a, s, st, k, now);
    default:
        return DEPOT_OK;
    }
}
