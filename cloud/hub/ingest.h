/*
 * Ingest: received messages -> accepted -> applied exactly once in batched
 * transactions -> acknowledged on depot/v1/<dealer>/down/ack.
 *
 * The broker side (hub_mqtt) calls hub_ingest_submit from its thread; one
 * worker thread owns the writer store and applies what was queued. Acks go
 * out through a publish function so that ingest knows nothing of MQTT.
 */
#ifndef HUB_INGEST_H
#define HUB_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/error.h"
#include "accept.h"
#include "metrics.h"
#include "store/store.h"

typedef struct hub_ingest hub_ingest;

/* Publishes one QoS 1 message (retained if asked); DEPOT_OK once queued for the broker,
 * else DEPOT_ERR_MQTT. */
typedef depot_err (*hub_publish_fn)(void *ctx, const char *topic, const char *payload, size_t len,
                                    bool retain);

typedef struct hub_orders hub_orders;

#define HUB_ACK_INTERVAL_MS 250 /* at most one ack per (dealer, ledger) per interval */
#define HUB_BATCH_MAX 512       /* messages per transaction */
#define HUB_QUEUE_MAX 50000     /* beyond that, accepted messages are dropped (resent later) */
/* Under a flow (the last batch held at least HUB_GATHER_FLOW messages), a batch waits up to
 * HUB_GATHER_MS for HUB_GATHER_MIN messages: fewer, larger transactions and acks. */
#define HUB_GATHER_FLOW 8
#define HUB_GATHER_MIN 256
#define HUB_GATHER_MS 2
#define HUB_TICK_MS 500         /* escalation, decision and catalog publishing period */

/*
 * Creates the ingest with its worker thread running. It uses store (owned by
 * the caller, used only by the worker until hub_ingest_free returns) and
 * metrics. DEPOT_ERR_NOMEM, DEPOT_ERR_IO (thread).
 * With orders (may be NULL: order messages are then only deduplicated),
 * each new order, "decided" event and online state goes through
 * hub_orders_on_message in the transaction that applies it, and the worker
 * runs hub_orders_tick every HUB_TICK_MS.
 */
depot_err hub_ingest_new(hub_store *store, hub_metrics *metrics, hub_orders *orders,
                         hub_publish_fn publish, void *publish_ctx, hub_ingest **out);

typedef struct hub_ranking hub_ranking;

/* Feeds every committed message to the ranking (hub_ranking_on_applied) and runs its tick
 * (hub_ranking_tick) from now on; ranking must outlive the ingest. */
void hub_ingest_set_ranking(hub_ingest *ing, hub_ranking *ranking);
/* The contracts' signatures and terms (contracts.h); before hub_mqtt_start. */
typedef struct hub_contracts hub_contracts;
void hub_ingest_set_contracts(hub_ingest *ing, hub_contracts *contracts);

typedef struct hub_alerts hub_alerts;

/* Runs the alert engine from now on: hub_alerts_on_message in the transaction of every
 * applied message, hub_alerts_committed/rolled_back after it, hub_alerts_tick every loop
 * of the worker; alerts must outlive the ingest. */
void hub_ingest_set_alerts(hub_ingest *ing, hub_alerts *alerts);

/* Stops the worker after it applied what is queued, then frees. NULL is a no-op. */
void hub_ingest_free(hub_ingest *ing);

/*
 * Accepts one received message (thread-safe). Returns what hub_accept said:
 * rejects are counted and logged here; accepted messages are queued.
 * received_ms is the receive time; a retained message counts as heard at
 * its own ts (at most received_ms).
 */
enum hub_reject hub_ingest_submit(hub_ingest *ing, const char *topic, const void *payload,
                                  size_t len, bool retained, long long received_ms);

/* Blocks until everything submitted so far is applied and its acks flushed or pending. */
void hub_ingest_sync(hub_ingest *ing);

#endif
