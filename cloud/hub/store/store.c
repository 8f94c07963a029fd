/*
 * The store's dispatch: each public function is one call through the
 * implementation's table, so callers never know which database they use.
 */
#include "store/store.h"
#include "store/ledger.h"

#include <string.h>

depot_err hub_store_open(const char *location, hub_store **out)
{
    if (!location || !*location || !out)
        return DEPOT_ERR_INVAL;
    if (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11))
        return hub_store_pg_open(location, out);
    if (strstr(location, "://"))
        return DEPOT_ERR_INVAL; /* a URL of a database Depot has no store for */
    return hub_store_sqlite_open(location, out);
}

void hub_store_free(hub_store *s)
{
    if (s)
        s->ops->free(s);
}

static void (*doorbell)(void); /* set once a process, before its threads use stores */

void hub_store_set_doorbell(void (*ring)(void))
{
    __atomic_store_n(&doorbell, ring, __ATOMIC_RELEASE);
}

depot_err hub_store_begin(hub_store *s)
{
    s->enqueued = false;
    return s->ops->begin(s);
}

depot_err hub_store_commit(hub_store *s)
{
    depot_err err = s->ops->commit(s);
    void (*ring)(void) = __atomic_load_n(&doorbell, __ATOMIC_ACQUIRE);
    if (err == DEPOT_OK && s->enqueued && ring)
        ring();
    s->enqueued = false;
    return err;
}

void hub_store_rollback(hub_store *s)
{
    s->enqueued = false;
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

depot_err hub_store_apply_chain(hub_store *s, const depot_msg *m, long long seen_ms,
                                struct hub_chain *chain, enum hub_apply_result *res, uint64_t *upto)
{
    depot_err err;
    if (chain)
        chain->out = HUB_CHAIN_NONE;
    s->chain = chain;
    err = hub_store_apply(s, m, seen_ms, res, upto);
    s->chain = NULL;
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

depot_err hub_store_stock_page(hub_store *s, const char *dealer, const char *sku,
                               const char *after_dealer, const char *after_sku, long long limit,
                               hub_stock_cb cb, void *arg)
{
    return s->ops->stock_page(s, dealer, sku, after_dealer ? after_dealer : "",
                              after_sku ? after_sku : "", limit, cb, arg);
}

depot_err hub_store_dealers(hub_store *s, hub_dealer_cb cb, void *arg)
{
    return s->ops->dealers(s, cb, arg);
}

depot_err hub_store_dealers_known(hub_store *s, const char *after, long long limit,
                                  hub_dealer_cb cb, void *arg)
{
    return s->ops->dealers_known(s, after, limit, cb, arg);
}

depot_err hub_store_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg)
{
    return s->ops->streams(s, dealer, cb, arg);
}

/* ---- the order domain: one call each through ops->orders ---- */

depot_err hub_store_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                    long long at, long long *version)
{
    return s->ops->orders->catalog_replace(s, items, n, at, version);
}

depot_err hub_store_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg)
{
    return s->ops->orders->catalog_list(s, version, cb, arg);
}

depot_err hub_store_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out)
{
    return s->ops->orders->catalog_find(s, barcode, out);
}

depot_err hub_store_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg)
{
    return s->ops->orders->catalog_due(s, version, cb, arg);
}

depot_err hub_store_catalog_sent(hub_store *s, const char *dealer, long long version)
{
    return s->ops->orders->catalog_sent(s, dealer, version);
}

depot_err hub_store_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *out)
{
    return s->ops->orders->profile_get(s, dealer, out);
}

depot_err hub_store_profile_put(hub_store *s, const struct hub_dealer_profile *p)
{
    return s->ops->orders->profile_put(s, p);
}

depot_err hub_store_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max)
{
    return s->ops->orders->sku_max_set(s, dealer, sku, max);
}

depot_err hub_store_sku_max_clear(hub_store *s, const char *dealer)
{
    return s->ops->orders->sku_max_clear(s, dealer);
}

depot_err hub_store_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg)
{
    return s->ops->orders->sku_max_list(s, dealer, cb, arg);
}

depot_err hub_store_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg)
{
    return s->ops->orders->dealer_get(s, dealer, cb, arg);
}

depot_err hub_store_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty)
{
    return s->ops->orders->stock_qty(s, dealer, sku, qty);
}

depot_err hub_store_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                             void *arg)
{
    return s->ops->orders->idem_get(s, actor, key, cb, arg);
}

depot_err hub_store_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before)
{
    return s->ops->orders->idem_put(s, row, prune_before);
}

depot_err hub_store_payment_add(hub_store *s, const char *dealer, long long amount,
                                const char *order, const char *ref, const char *actor, long long at,
                                long long *id)
{
    return s->ops->orders->payment_add(s, dealer, amount, order, ref, actor, at, id);
}

depot_err hub_store_exposure(hub_store *s, const char *dealer, struct hub_exposure *out)
{
    return s->ops->orders->exposure(s, dealer, out);
}

depot_err hub_store_order_insert(hub_store *s, const struct hub_order *o,
                                 const struct hub_order_line *lines, size_t n, const char *doc,
                                 const char *sig)
{
    return s->ops->orders->order_insert(s, o, lines, n, doc, sig);
}

depot_err hub_store_order_get(hub_store *s, const char *id, struct hub_order *out)
{
    return s->ops->orders->order_get(s, id, out);
}

depot_err hub_store_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg)
{
    return s->ops->orders->order_lines(s, id, cb, arg);
}

depot_err hub_store_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                                void *arg)
{
    return s->ops->orders->orders_list(s, f, cb, arg);
}

depot_err hub_store_order_set_state(hub_store *s, const char *id, const char *status,
                                    const char *stage, const char *reason, long long at)
{
    return s->ops->orders->order_set_state(s, id, status, stage, reason, at);
}

depot_err hub_store_order_escalate(hub_store *s, const char *id)
{
    return s->ops->orders->order_escalate(s, id);
}

depot_err hub_store_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb, void *arg)
{
    return s->ops->orders->orders_overdue(s, since_before, cb, arg);
}

depot_err hub_store_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg)
{
    return s->ops->orders->decisions_due(s, now, cb, arg);
}

depot_err hub_store_decision_sent(hub_store *s, const char *id, long long seq, long long next_send)
{
    return s->ops->orders->decision_sent(s, id, seq, next_send);
}

depot_err hub_store_decision_confirm(hub_store *s, const char *dealer, const char *id,
                                     bool *confirmed)
{
    return s->ops->orders->decision_confirm(s, dealer, id, confirmed);
}

depot_err hub_store_decisions_wake(hub_store *s, const char *dealer)
{
    return s->ops->orders->decisions_wake(s, dealer);
}

depot_err hub_store_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                                 size_t other_len)
{
    return s->ops->orders->ledger_owner(s, dealer, ledger, other, other_len);
}

depot_err hub_store_audit_add(hub_store *s, const struct hub_audit_entry *e)
{
    return s->ops->orders->audit_add(s, e);
}

depot_err hub_store_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg)
{
    return s->ops->orders->audit_list(s, order, cb, arg);
}

depot_err hub_store_forged_add(hub_store *s, const struct hub_forged_entry *e)
{
    return s->ops->orders->forged_add(s, e);
}

depot_err hub_store_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg)
{
    return s->ops->orders->forged_list(s, dealer, cb, arg);
}
