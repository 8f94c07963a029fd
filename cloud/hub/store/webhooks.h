/*
 * The store's webhook domain (store/sqlite/webhooks.c, store/pg/webhooks.c):
 * subscriptions of outside systems to the hub's events and the outbox of
 * their deliveries, called through hub_store_ops.webhooks. Migration 12.
 *
 *   webhook_subs       (id PK; url, secret, types, created_at, disabled_at)
 *   webhook_deliveries (seq PK; sub, event_id, type, body, created_at,
 *                       attempts, next_at, lease_until, status, last_error,
 *                       delivered_at); index (sub, status, seq)
 *
 * types is the list of event types a subscription takes, written
 * ",a,b," (a "*" in it: every type); disabled_at 0: active.
 *
 * Invariants:
 * 1. An event is enqueued in the transaction of its fact (webhook_enqueue
 *    is called inside the caller's transaction): one row per active
 *    subscription that takes its type, status "pending".
 * 2. A subscription's deliveries go out in seq order: only its oldest
 *    pending row is ever due, whatever its next_at or lease.
 * 3. A row is worked on by one worker at a time: it is leased
 *    (lease_until > now) in a write transaction before it is sent; a
 *    lease that runs out (a hub that stopped) makes the row due again.
 * 4. status only goes pending -> delivered, pending -> dead, and
 *    dead -> pending (by webhook_retry).
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds. Row pointers are valid during the callback only; a
 * non-zero return from a callback stops the walk.
 */
#ifndef HUB_STORE_WEBHOOKS_H
#define HUB_STORE_WEBHOOKS_H

#include <stdbool.h>

#include "store/store.h"

#define HUB_WEBHOOK_URL_MAX 512
#define HUB_WEBHOOK_SECRET_MAX 128
#define HUB_WEBHOOK_TYPES_MAX 512 /* the ",a,b," text */
#define HUB_WEBHOOK_ERROR_MAX 200

struct hub_webhook_sub {
    long long id;
    const char *url, *secret, *types;
    long long created_at, disabled_at; /* ms; disabled_at 0: active */
};

struct hub_webhook_delivery {
    long long seq, sub;
    const char *event_id, *type, *body;
    long long created_at, attempts, next_at; /* ms */
    const char *status;                      /* pending, delivered, dead */
    const char *last_error;
    long long delivered_at; /* ms, 0 if not */
};

/* One stock row changed in a period (stock.changed events). */
struct hub_webhook_stock {
    const char *dealer, *sku, *node;
    long long qty, updated_at, received_at;
};

typedef int (*hub_webhook_stock_cb)(void *arg, const struct hub_webhook_stock *row);
typedef int (*hub_webhook_sub_cb)(void *arg, const struct hub_webhook_sub *sub);
typedef int (*hub_webhook_delivery_cb)(void *arg, const struct hub_webhook_delivery *d);

struct hub_store_webhook_ops {
    depot_err (*sub_add)(hub_store *s, const struct hub_webhook_sub *sub, long long *id);
    depot_err (*subs)(hub_store *s, long long id, hub_webhook_sub_cb cb, void *arg);
    depot_err (*sub_disable)(hub_store *s, long long id, long long at, bool *changed);
    depot_err (*enqueue)(hub_store *s, const char *type, const char *event_id, const char *body,
                         long long at, long long *n);
    depot_err (*due)(hub_store *s, long long now, long long limit, hub_webhook_delivery_cb cb,
                     void *arg);
    depot_err (*lease)(hub_store *s, long long seq, long long now, long long until, bool *leased);
    depot_err (*finish)(hub_store *s, long long seq, const char *status, long long attempts,
                        long long next_at, const char *last_error, long long delivered_at);
    depot_err (*deliveries)(hub_store *s, long long sub, const char *status, long long after,
                            long long limit, hub_webhook_delivery_cb cb, void *arg);
    depot_err (*retry)(hub_store *s, long long sub, long long seq, long long now, bool *changed);
    depot_err (*cursor)(hub_store *s, long long *value);
    depot_err (*cursor_set)(hub_store *s, long long value);
    depot_err (*stock_changed)(hub_store *s, long long from, long long to, hub_webhook_stock_cb cb,
                               void *arg);
    depot_err (*prune)(hub_store *s, long long delivered_before, long long *n);
};

/* Adds sub (its id ignored; types as ",a,b,"): *id is the new subscription. */
depot_err hub_store_webhook_sub_add(hub_store *s, const struct hub_webhook_sub *sub, long long *id);
/* Every subscription (id 0) or subscription id, by id. */
depot_err hub_store_webhook_subs(hub_store *s, long long id, hub_webhook_sub_cb cb, void *arg);
/* Disables subscription id the first time (*changed); its pending deliveries stay and are not
 * sent. DEPOT_ERR_NOTFOUND if there is none. */
depot_err hub_store_webhook_sub_disable(hub_store *s, long long id, long long at, bool *changed);
/* In the caller's transaction: one pending delivery of the event per active subscription that
 * takes type (*n: how many; may be NULL). */
depot_err hub_store_webhook_enqueue(hub_store *s, const char *type, const char *event_id,
                                    const char *body, long long at, long long *n);
/* The due deliveries: of each active subscription its oldest pending one, if next_at <= now and
 * it is not leased at now; at most limit, by seq. Inside the caller's write transaction. */
depot_err hub_store_webhook_due(hub_store *s, long long now, long long limit,
                                hub_webhook_delivery_cb cb, void *arg);
/* Leases pending delivery seq until until if it is not leased at now (*leased tells). */
depot_err hub_store_webhook_lease(hub_store *s, long long seq, long long now, long long until,
                                  bool *leased);
/* Records an attempt's outcome and ends the lease. */
depot_err hub_store_webhook_finish(hub_store *s, long long seq, const char *status,
                                   long long attempts, long long next_at, const char *last_error,
                                   long long delivered_at);
/* Deliveries of sub with seq > after (status NULL: any), oldest first, at most limit. */
depot_err hub_store_webhook_deliveries(hub_store *s, long long sub, const char *status,
                                       long long after, long long limit, hub_webhook_delivery_cb cb,
                                       void *arg);
/* A dead delivery seq of sub pending again (attempts 0, due at now): *changed false if it is
 * not dead. DEPOT_ERR_NOTFOUND if sub has no delivery seq. */
depot_err hub_store_webhook_retry(hub_store *s, long long sub, long long seq, long long now,
                                  bool *changed);

/* The stock events' cursor (meta webhooks_stock_cursor, ms; 0 if never set) and its move, in
 * the caller's write transaction (so of several hubs one moves it per period). */
depot_err hub_store_webhook_cursor(hub_store *s, long long *value);
depot_err hub_store_webhook_cursor_set(hub_store *s, long long value);
/* The stock rows the hub stored with from < received_at <= to, by dealer and sku. */
depot_err hub_store_webhook_stock_changed(hub_store *s, long long from, long long to,
                                          hub_webhook_stock_cb cb, void *arg);
/* Deletes deliveries delivered before delivered_before (ms); *n how many (may be NULL). Dead
 * ones stay (the dead-letter list) until retried. */
depot_err hub_store_webhook_prune(hub_store *s, long long delivered_before, long long *n);

#endif
