/*
 * The store's dispatch for history and alerts: one call each through
 * ops->alerts (store/alerts.h), so callers never know the database.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "depot/clock.h"
#include "store/alerts.h"
#include "store/ledger.h"

#define A(s) ((s)->ops->alerts)

depot_err hub_store_history_points(hub_store *s, const char *dealer, const char *sku,
                                   long long since, hub_point_cb cb, void *arg)
{
    return A(s)->points(s, dealer, sku, since, cb, arg);
}

depot_err hub_store_history_days(hub_store *s, const char *dealer, const char *sku,
                                 long long from_day, hub_day_cb cb, void *arg)
{
    return A(s)->days(s, dealer, sku, from_day, cb, arg);
}

depot_err hub_store_picked_sums(hub_store *s, long long from_day, long long to_day, hub_sum_cb cb,
                                void *arg)
{
    return A(s)->picked_sums(s, from_day, to_day, cb, arg);
}

depot_err hub_store_picked_range(hub_store *s, long long from_day, long long to_day,
                                 const char *dealer_from, const char *sku_from,
                                 const char *dealer_to, const char *sku_to, hub_sum_cb cb,
                                 void *arg)
{
    return A(s)->picked_range(s, from_day, to_day, dealer_from, sku_from, dealer_to, sku_to, cb,
                              arg);
}

depot_err hub_store_history_prune(hub_store *s, long long points_before, long long days_before,
                                  long long resolved_before)
{
    depot_err err = A(s)->prune(s, points_before, days_before, resolved_before);
    /* the chain's records go with their movements (store/ledger.h) */
    return err == DEPOT_OK ? s->ops->ledger->prune(s, days_before * HUB_DAY_MS) : err;
}

depot_err hub_store_shrink_add(hub_store *s, const char *dealer, const char *sku, bool decrease,
                               long long ts, long long units, long long window_ms, long long now)
{
    return A(s)->shrink_add(s, dealer, sku, decrease, ts, units, window_ms, now);
}

depot_err hub_store_shrink_due(hub_store *s, long long ts_before, long long received_before,
                               hub_sum_cb cb, void *arg)
{
    return A(s)->shrink_due(s, ts_before, received_before, cb, arg);
}

depot_err hub_store_alert_put(hub_store *s, const struct hub_alert_put *p, hub_alert_cb cb,
                              void *arg)
{
    return A(s)->alert_put(s, p, cb, arg);
}

depot_err hub_store_alert_ack(hub_store *s, long long id, const char *by, long long at,
                              bool *changed)
{
    return A(s)->alert_ack(s, id, by, at, changed);
}

depot_err hub_store_alert_resolve(hub_store *s, long long id, const char *by, long long at,
                                  bool *changed)
{
    return A(s)->alert_resolve(s, id, by, at, changed);
}

depot_err hub_store_alert_get(hub_store *s, long long id, hub_alert_cb cb, void *arg)
{
    return A(s)->alert_get(s, id, cb, arg);
}

depot_err hub_store_alerts_list(hub_store *s, const struct hub_alert_filter *f, hub_alert_cb cb,
                                void *arg)
{
    return A(s)->alerts_list(s, f, cb, arg);
}

depot_err hub_store_alerts_live_counts(hub_store *s, hub_count_cb cb, void *arg)
{
    return A(s)->alerts_live_counts(s, cb, arg);
}

depot_err hub_store_alert_outbox_add(hub_store *s, const char *dealer, const char *kind,
                                     const char *payload)
{
    return A(s)->outbox_add(s, dealer, kind, payload);
}

depot_err hub_store_alert_outbox_list(hub_store *s, long long limit, hub_outbox_cb cb, void *arg)
{
    return A(s)->outbox_list(s, limit, cb, arg);
}

depot_err hub_store_alert_outbox_del(hub_store *s, long long seq)
{
    return A(s)->outbox_del(s, seq);
}

depot_err hub_store_dealer_places(hub_store *s, hub_place_cb cb, void *arg)
{
    return A(s)->places(s, cb, arg);
}

depot_err hub_store_dealer_nodes(hub_store *s, const char *dealer, const char *node, hub_node_cb cb,
                                 void *arg)
{
    return A(s)->nodes(s, dealer, node, cb, arg);
}

depot_err hub_store_catalog_version(hub_store *s, long long *version)
{
    return A(s)->catalog_version(s, version);
}

depot_err hub_store_profiles_version(hub_store *s, long long *version)
{
    return A(s)->profiles_version(s, version);
}

depot_err hub_store_alert_refresh(hub_store *s, long long id, const char *action,
                                  const char *suggestion, long long at, hub_alert_cb cb, void *arg)
{
    return A(s)->alert_refresh(s, id, action, suggestion, at, cb, arg);
}

depot_err hub_store_log_add(hub_store *s, int stream, const char *writer, const char *text,
                            long long at)
{
    return A(s)->log_add(s, stream, writer, text, at);
}

depot_err hub_store_log_read(hub_store *s, int stream, long long after, hub_log_cb cb, void *arg,
                             long long *head, long long *pruned)
{
    return A(s)->log_read(s, stream, after, cb, arg, head, pruned);
}

depot_err hub_store_log_prune(hub_store *s, long long before)
{
    return A(s)->log_prune(s, before);
}

depot_err hub_store_alert_memo_set(hub_store *s, const struct hub_alert_memo *m)
{
    return A(s)->memo_set(s, m);
}

depot_err hub_store_alert_memo_del(hub_store *s, long long id)
{
    return A(s)->memo_del(s, id);
}

depot_err hub_store_alert_memos(hub_store *s, const char *dealer, hub_memo_cb cb, void *arg)
{
    return A(s)->memos(s, dealer, cb, arg);
}

depot_err hub_store_alert_reload(hub_store *s, const struct hub_alert_reload *r, void *arg)
{
    return A(s)->reload(s, r, arg);
}

void hub_store_log_writer(char *out, size_t len, const char *prefix)
{
    unsigned char r[8] = {0};
    long long now = depot_now_ms();
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memcpy(r, &now, sizeof(r));
    snprintf(out, len, "%s-%d-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, (int)getpid(), r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7]);
}
