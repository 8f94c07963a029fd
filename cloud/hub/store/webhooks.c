/* The webhook domain's calls, dispatched to the store's implementation (store/webhooks.h). */
#include "store/webhooks.h"

depot_err hub_store_webhook_sub_add(hub_store *s, const struct hub_webhook_sub *sub, long long *id)
{
    return s->ops->webhooks->sub_add(s, sub, id);
}

depot_err hub_store_webhook_subs(hub_store *s, long long id, hub_webhook_sub_cb cb, void *arg)
{
    return s->ops->webhooks->subs(s, id, cb, arg);
}

depot_err hub_store_webhook_sub_disable(hub_store *s, long long id, long long at, bool *changed)
{
    return s->ops->webhooks->sub_disable(s, id, at, changed);
}

depot_err hub_store_webhook_enqueue(hub_store *s, const char *type, const char *event_id,
                                    const char *body, long long at, long long *n)
{
    long long queued = 0;
    depot_err err = s->ops->webhooks->enqueue(s, type, event_id, body, at, &queued);
    if (err == DEPOT_OK && queued > 0)
        s->enqueued = true; /* hub_store_commit rings the doorbell */
    if (n)
        *n = queued;
    return err;
}

depot_err hub_store_webhook_due(hub_store *s, long long now, long long limit,
                                hub_webhook_delivery_cb cb, void *arg)
{
    return s->ops->webhooks->due(s, now, limit, cb, arg);
}

depot_err hub_store_webhook_lease(hub_store *s, long long seq, long long now, long long until,
                                  bool *leased)
{
    return s->ops->webhooks->lease(s, seq, now, until, leased);
}

depot_err hub_store_webhook_finish(hub_store *s, long long seq, const char *status,
                                   long long attempts, long long next_at, const char *last_error,
                                   long long delivered_at)
{
    return s->ops->webhooks->finish(s, seq, status, attempts, next_at, last_error, delivered_at);
}

depot_err hub_store_webhook_deliveries(hub_store *s, long long sub, const char *status,
                                       long long after, long long limit, hub_webhook_delivery_cb cb,
                                       void *arg)
{
    return s->ops->webhooks->deliveries(s, sub, status, after, limit, cb, arg);
}

depot_err hub_store_webhook_retry(hub_store *s, long long sub, long long seq, long long now,
                                  bool *changed)
{
    return s->ops->webhooks->retry(s, sub, seq, now, changed);
}

depot_err hub_store_webhook_cursor(hub_store *s, long long *value)
{
    return s->ops->webhooks->cursor(s, value);
}

depot_err hub_store_webhook_cursor_set(hub_store *s, long long value)
{
    return s->ops->webhooks->cursor_set(s, value);
}

depot_err hub_store_webhook_stock_changed(hub_store *s, long long from, long long to,
                                          hub_webhook_stock_cb cb, void *arg)
{
    return s->ops->webhooks->stock_changed(s, from, to, cb, arg);
}

depot_err hub_store_webhook_prune(hub_store *s, long long delivered_before, long long *n)
{
    long long k = 0;
    depot_err err = s->ops->webhooks->prune(s, delivered_before, &k);
    if (n)
        *n = k;
    return err;
}
