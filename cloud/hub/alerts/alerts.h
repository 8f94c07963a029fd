/*
 * The alert engine: raises, deduplicates and resolves alerts about dealers'
 * stock, sales, gateways, nodes and contracts, each stock alert with a
 * suggested action (replenish, or transfer from a nearby dealer with a
 * surplus). The rules are listed in cloud/README.md ("Alerts").
 *
 *   ingest worker, in the transaction that applied a message:
 *     hub_alerts_on_message --> evaluate what the message can change
 *                               (stock kinds, spike, shrinkage matching, node
 *                               fault, gateway offline) --> alert rows and
 *                               their encoded changes in the alert outbox
 *   after the commit: hub_alerts_committed (counters); after a rollback:
 *     hub_alerts_rolled_back (the in-memory state is reloaded from the store)
 *   every loop of the worker: hub_alerts_tick --> every [alerts] eval_period_s
 *     the time-based kinds (offline, contracts, shrinkage due, day rollover)
 *     in their own transaction; then the outbox is published (QoS 1) on
 *     depot/v1/<dealer>/down/alert and depot/alerts/v1/<dealer>/<kind>
 *   API threads: hub_alerts_act (ack, resolve) on their own store, in their
 *     own transaction, writing to the same outbox.
 *
 * A hub_alerts is used by the ingest worker only (its state is not locked).
 */
#ifndef HUB_ALERTS_H
#define HUB_ALERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "depot/msg.h"
#include "config.h"
#include "ingest.h"
#include "metrics.h"
#include "store/store.h"
#include "store/alerts.h"

typedef struct hub_alerts hub_alerts;

enum hub_alert_kind {
    HUB_AK_LOW_STOCK,
    HUB_AK_STOCKOUT_FORECAST,
    HUB_AK_SALES_SPIKE,
    HUB_AK_GATEWAY_OFFLINE,
    HUB_AK_NODE_FAULT,
    HUB_AK_SHRINKAGE,
    HUB_AK_CONTRACT_EXPIRING,
    HUB_AK_OUTBOX_FILLING,
    HUB_AK_TASK_OVERDUE,
    HUB_AK_LEDGER_BREAK,
    HUB_AK_DIVERSION,
    HUB_AK_DOUBLE_PICK,
    HUB_AK__COUNT
};

#define HUB_TRANSFERS_MAX 3

/* "low_stock", ...; NULL for an invalid kind. */
const char *hub_alert_kind_name(enum hub_alert_kind k);
/* The kind of a name, or -1. */
int hub_alert_kind_from_name(const char *name);

/* cfg and metrics must outlive the engine. DEPOT_ERR_NOMEM. */
depot_err hub_alerts_new(const struct hub_config *cfg, hub_metrics *metrics, hub_alerts **out);
void hub_alerts_free(hub_alerts *a);

/*
 * The alert side of one message that hub_store_apply has just recorded, in
 * the same transaction (res: what the apply said; duplicates change
 * nothing). seen_ms: when the hub heard it; now: ms. Loads the engine's
 * state from s first if it is not loaded. DEPOT_ERR_DB (roll back),
 * DEPOT_ERR_NOMEM.
 */
depot_err hub_alerts_on_message(hub_alerts *a, hub_store *s, const depot_msg *m,
                                enum hub_apply_result res, long long seen_ms, long long now);

/*
 * Around the ingest transaction: begin right after hub_store_begin (reloads
 * what other hub instances changed, or loads everything the first time),
 * precommit right before hub_store_commit (names in the engine log the
 * dealers this transaction changed). DEPOT_ERR_DB (roll back), DEPOT_ERR_NOMEM.
 */
depot_err hub_alerts_begin(hub_alerts *a, hub_store *s, long long now);
depot_err hub_alerts_precommit(hub_alerts *a, hub_store *s, long long now);

/*
 * A break of a ledger's movement chain found as m was applied (store/ledger.h: a fork, a gap,
 * a forged batch or one without its chain after chained ones): a critical ledger_break alert
 * of the dealer, its subject the ledger id, in the same transaction. Never resolved
 * automatically: someone has to look. DEPOT_ERR_DB, DEPOT_ERR_NOMEM.
 */
struct hub_chain;
depot_err hub_alerts_on_chain(hub_alerts *a, hub_store *s, const depot_msg *m,
                              const struct hub_chain *c, long long now);

/*
 * An alert of an event rather than a condition (a diversion, an item picked twice): one
 * open alert per (dealer, kind, subject), each further event a new trigger, never resolved
 * automatically. In the caller's transaction after hub_alerts_begin. DEPOT_ERR_DB,
 * DEPOT_ERR_NOMEM.
 */
depot_err hub_alerts_event(hub_alerts *a, hub_store *s, const char *dealer, enum hub_alert_kind k,
                           const char *subject, const char *severity, const char *text,
                           long long now);

/* The transaction that carried on_message calls committed (counters move) or was rolled
 * back (the in-memory state is reloaded before its next use). */
void hub_alerts_committed(hub_alerts *a);
void hub_alerts_rolled_back(hub_alerts *a);

/*
 * Periodic work (cheap when nothing is due): the time-based evaluation every
 * [alerts] eval_period_s in its own transaction, then the alert outbox
 * published. Failures are logged and retried on a later call.
 */
void hub_alerts_tick(hub_alerts *a, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                     long long now);

/* The time-based evaluation alone, in the caller's transaction after hub_alerts_begin (part of
 * the tick). */
depot_err hub_alerts_evaluate(hub_alerts *a, hub_store *s, long long now);

/* Publishes the alert outbox in order, deleting what the broker took; *n = how many. */
depot_err hub_alerts_publish(hub_store *s, hub_publish_fn publish, void *publish_ctx, int *n);

/*
 * An approver's acknowledgement (resolve false) or resolution of alert id by
 * who, in its own transaction, its change queued for publishing. Returns
 * DEPOT_OK (acknowledging an acknowledged alert changes nothing),
 * DEPOT_ERR_NOTFOUND, DEPOT_ERR_STALE (already resolved), DEPOT_ERR_DB.
 */
depot_err hub_alerts_act(hub_store *s, hub_metrics *metrics, long long id, bool resolve,
                         const char *who, long long now);

/* The message of an alert row (type alert, ledger "", ts now), allocated: depot_free it. */
/*
 * The payload for the dealer's own down/alert: what a suggestion says of other dealers (a
 * transfer from another dealer's surplus, its distance) cut from the action, as the API does
 * for a dealer's user; depot/alerts/v1 (the manufacturer's consumers) keeps it whole. Returns
 * payload itself when there is nothing to cut, else a new depot_malloc'ed text; NULL when out
 * of memory.
 */
char *hub_alerts_dealer_payload(const char *payload, size_t len, size_t *out_len);
depot_err hub_alerts_encode(const struct hub_alert_row *r, long long now, char **payload,
                            size_t *len);

/* Great-circle distance in km between two points given in degrees (haversine). */
double hub_alerts_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
