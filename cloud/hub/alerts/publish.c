/*
 * After the transaction: counters and gauges on commit, a reload after a
 * rollback; the alert outbox published to the broker; the worker's tick.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "alerts/private.h"

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
        hub_metrics_alerts_open(a->metrics, k, hub_alert_kind_name(k), open[k]);
}

depot_err hub_alerts_begin(hub_alerts *a, hub_store *s, long long now)
{
    return alerts_sync(a, s, now);
}

depot_err hub_alerts_precommit(hub_alerts *a, hub_store *s, long long now)
{
    return alerts_log_changes(a, s, now);
}

void hub_alerts_committed(hub_alerts *a)
{
    alerts_unmark_all(a);
    a->synced = false;
    hub_metrics_add(a->metrics, HUB_C_ALERTS_RAISED, a->raised);
    hub_metrics_add(a->metrics, HUB_C_ALERTS_RESOLVED, a->resolved);
    a->raised = a->resolved = 0;
    a->settings_read = false;
    if (a->changed)
        a->next_publish_ms = 0; /* publish now */
}

void hub_alerts_rolled_back(hub_alerts *a)
{
    alerts_unmark_all(a);
    a->synced = false;
    a->raised = a->resolved = 0;
    a->changed = false;
    a->settings_read = false;
    alerts_reset(a); /* reloaded at the next use (invariant 1) */
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
    char down[128], wide[160], *own;
    size_t len = strlen(payload), own_len;
    bool ok;
    if (depot_topic_build(down, sizeof(down), dealer, depot_msg_topic_leaf(DEPOT_MSG_ALERT)) !=
        DEPOT_OK) {
        w->seqs[w->n++] = seq; /* cannot be sent anywhere: dropped */
        return 0;
    }
    snprintf(wide, sizeof(wide), "depot/alerts/v1/%s/%s", dealer, kind);
    own = hub_alerts_dealer_payload(payload, len, &own_len);
    if (!own) {
        w->failed = true; /* out of memory: in order, so stop here and retry */
        return 1;
    }
    ok = w->publish(w->ctx, down, own, own_len, false) == DEPOT_OK;
    if (own != payload)
        depot_free(own);
    if (!ok || w->publish(w->ctx, wide, payload, len, false) != DEPOT_OK) {
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
    do { /* in a transaction: hubs on one database take turns, each row goes out once */
        w.n = 0;
        err = hub_store_begin(s);
        if (err == DEPOT_OK)
            err = hub_store_alert_outbox_list(s, OUTBOX_BATCH, publish_one, &w);
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
    err = err == DEPOT_OK ? alerts_sync(a, s, now) : err;
    err = err == DEPOT_OK ? step(a, s, now) : err;
    err = err == DEPOT_OK ? alerts_log_changes(a, s, now) : err;
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
        in_transaction(a, s, alerts_sync_settings, now, "reloading the catalog or places");
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
