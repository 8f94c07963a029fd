/*
 * Outbound webhooks: the hub's events for an ERP or any outside system.
 *
 * An event is one JSON object {"id","type","time","data"} enqueued with
 * hub_webhook_event in the transaction of the fact it tells (the
 * transactional outbox of store/webhooks.h): it goes out if and only if the
 * fact is committed. A worker thread (hub_webhooks_new) with a store of its
 * own then POSTs each subscription's deliveries in order (libcurl), signed:
 *
 *   Depot-Event-Id:  <id>
 *   Depot-Timestamp: <unix seconds>
 *   Depot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256("<t>.<body>", secret)>
 *
 * A 2xx answer is delivered; anything else (an error status, a refused or
 * timed-out connection) is retried after min(cap, base * 2^attempts) with
 * jitter (half to all of it), until the delivery is older than
 * [webhooks] dead_after_h: then it is dead (the dead-letter list, retried
 * by hand) and the subscription's next delivery goes. A receiver may get
 * an event twice (a hub stopped between the POST and its record) and
 * de-duplicates by id.
 */
#ifndef HUB_WEBHOOKS_H
#define HUB_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "metrics.h"
#include "store/store.h"

#define HUB_WEBHOOK_SIG_HEX 64 /* hex characters of a SHA-256 HMAC */
#define HUB_WEBHOOK_ID_LEN 32  /* hex characters of an event id */

/* The v1 signature of body at ts with secret into out (hex, NUL-terminated).
 * DEPOT_ERR_CRYPTO if mbedTLS fails. */
depot_err hub_webhook_sign(const char *secret, long long ts, const char *body, size_t len,
                           char out[HUB_WEBHOOK_SIG_HEX + 1]);

/* The wait before attempt attempts + 1 (attempts >= 1 done): min(cap, base * 2^(attempts-1)),
 * then scaled into [half, all] of itself by rnd (0..UINT32_MAX). */
long long hub_webhook_backoff_ms(long long base_ms, long long cap_ms, long long attempts,
                                 uint32_t rnd);

/*
 * Enqueues event type with data (taken, freed here; NULL: {}) at (ms) for every subscription
 * that takes type, in the caller's transaction of s. DEPOT_ERR_NOMEM, DEPOT_ERR_DB.
 */
depot_err hub_webhook_event(hub_store *s, const char *type, long long at, cJSON *data);

/* The events of the facts (in the caller's transaction). */
depot_err hub_webhook_order_approved(hub_store *s, const char *order, const char *dealer,
                                     long long total, const char *by, long long at);
/* The data of an alert.* event: the alert row as it stands (NULL: out of memory). */
struct hub_alert_row;
cJSON *hub_webhook_alert_data(const struct hub_alert_row *r);
depot_err hub_webhook_payment(hub_store *s, long long id, const char *dealer, long long amount,
                              const char *order, const char *ref, long long at);
depot_err hub_webhook_statement(hub_store *s, long long id, const char *dealer, const char *period,
                                long long sales, long long rebate, long long at);
struct hub_shipment;
struct hub_shipment_line;
depot_err hub_webhook_shipment(hub_store *s, const struct hub_shipment *sh,
                               const struct hub_shipment_line *lines, size_t n);

typedef struct hub_webhooks hub_webhooks;

/* Opens a store of its own on [hub] db and starts the delivery worker. DEPOT_ERR_NOMEM,
 * DEPOT_ERR_DB, DEPOT_ERR_IO (curl). */
depot_err hub_webhooks_new(const struct hub_config *cfg, hub_metrics *metrics, hub_webhooks **out);
/* Stops the worker (an attempt under way is aborted, and counts as a failed one). */
void hub_webhooks_free(hub_webhooks *w);

#endif
