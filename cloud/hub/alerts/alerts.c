/*
 * The engine's life, and what the HTTP API asks of it (acknowledge, resolve).
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "alerts/private.h"

/* ---- API side ---- */

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
    err = hub_store_alert_get(s, id, alerts_capture_row, &o);
    err = err == DEPOT_OK ? alerts_queue_change(s, cur.dealer, cur.kind, &o,
                                                resolve ? "alert.resolved" : "alert.acknowledged")
                          : err;
    alerts_row_out_clear(&o);
    return err;
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
    hub_store_log_writer(a->writer, sizeof(a->writer), "alerts");
    for (int k = 0; k < HUB_AK__COUNT; k++) /* every kind shown in /metrics from the start */
        hub_metrics_alerts_open(metrics, k, hub_alert_kind_name(k), 0);
    *out = a;
    return DEPOT_OK;
}

void hub_alerts_free(hub_alerts *a)
{
    if (!a)
        return;
    alerts_reset(a);
    depot_free(a);
}
