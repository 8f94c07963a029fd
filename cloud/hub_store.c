/*
 * The store's dispatch: each public function is one call through the
 * implementation's table, so callers never know which database they use.
 */
#include "hub_store.h"

#include <string.h>

depot_err hub_store_open(const char *location, hub_store **out)
{
    if (!location || !*location || !out)
        return DEPOT_ERR_INVAL;
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
        return DEPOT_ERR_INVAL; /* not built yet */
    return hub_store_sqlite_open(location, out);
}

void hub_store_free(hub_store *s)
{
    if (s)
        s->ops->free(s);
}

depot_err hub_store_begin(hub_store *s)
{
    return s->ops->begin(s);
}

depot_err hub_store_commit(hub_store *s)
{
    return s->ops->commit(s);
}

void hub_store_rollback(hub_store *s)
{
    s->ops->rollback(s);
}

depot_err hub_store_apply(hub_store *s, const depot_msg *m, long long seen_ms,
                          enum hub_apply_result *res, uint64_t *upto)
{
    enum hub_apply_result r = HUB_APPLY_DONE;
    uint64_t u = 0;
    depot_err err = s->ops->apply(s, m, seen_ms, &r, &u);
    if (res)
        *res = r;
    if (upto)
        *upto = u;
    return err;
}

depot_err hub_store_count_reject(hub_store *s, const char *reason, uint64_t n)
{
    return s->ops->count_reject(s, reason, n);
}

depot_err hub_store_stock(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                          void *arg)
{
    return s->ops->stock(s, dealer, sku, cb, arg);
}

depot_err hub_store_dealers(hub_store *s, hub_dealer_cb cb, void *arg)
{
    return s->ops->dealers(s, cb, arg);
}

depot_err hub_store_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg)
{
    return s->ops->streams(s, dealer, cb, arg);
}
