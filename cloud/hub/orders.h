/*
 * Orders at the hub: arrival (orders.c), the approval stages
 * (approval.c) and the downlink of decisions and the catalog
 * (downlink.c).
 *
 *   up/order --> verify certificate (CA, CN = topic dealer), signature over
 *                the exact doc bytes, document (dealer), identity (id =
 *                "<ledger>-<number>" of the sender's own ledger)
 *            --> an id of this dealer stored already? a replay, ignored
 *            --> forged? recorded in forged_orders, never an order
 *            --> lines against the hub's catalog (barcode, min..max qty),
 *                prices from the catalog
 *            --> credit: open exposure + value <= credit_limit
 *            --> auto-approval: value <= auto_approve_limit and, per SKU,
 *                measured stock + qty <= the dealer's maximum
 *            --> else pending at the first [approval] stage
 *   every step is a line of the append-only audit trail; every decision
 *   (and each new stage) goes to the gateway on down/decision, repeated
 *   every [approval] resend_s until the gateway confirms it.
 *
 * A hub_orders is used by the ingest worker only (its certificate cache is
 * not locked). The approval functions are free functions on a store, for
 * the API threads.
 */
#ifndef HUB_ORDERS_H
#define HUB_ORDERS_H

#include <stdbool.h>

#include "depot/msg.h"
#include "config.h"
#include "ingest.h"
#include "metrics.h"
#include "store/store.h"

struct hub_ranking; /* ranking/service.h */

typedef struct hub_orders hub_orders;

enum hub_order_outcome {
    HUB_ORDER_NONE,     /* nothing order-related in the message */
    HUB_ORDER_APPROVED, /* approved at once by "auto" */
    HUB_ORDER_PENDING,  /* waiting at the first stage */
    HUB_ORDER_REJECTED, /* a real order, rejected (reason) */
    HUB_ORDER_FORGED,   /* never became an order (reason) */
    HUB_ORDER_REPLAY,   /* an order id seen before: ignored */
    HUB_ORDER_CONFIRMED /* the gateway confirmed a decision */
};

/* What applying one message did, counted in metrics after the commit. */
struct hub_order_result {
    enum hub_order_outcome outcome;
    enum hub_order_reason reason; /* REJECTED, FORGED */
    long long latency_ms;         /* APPROVED: created -> approved */
    long long at, total;          /* when it was decided or recorded (ms); its value (cents) */
};

depot_err hub_orders_new(const struct hub_config *cfg, hub_metrics *metrics, hub_orders **out);
void hub_orders_free(hub_orders *o);
const struct hub_config *hub_orders_config(const hub_orders *o);
hub_metrics *hub_orders_metrics(const hub_orders *o);

/*
 * The order side of one stream or state message that hub_store_apply has
 * just recorded as new (HUB_APPLY_DONE), in the same transaction: an order
 * is verified and decided, a "decided" event confirms a decision, an online
 * state makes the dealer's unconfirmed decisions due at once. now: ms.
 * DEPOT_ERR_DB (roll back), DEPOT_ERR_NOMEM.
 */
depot_err hub_orders_on_message(hub_orders *o, hub_store *s, const depot_msg *m, long long now,
                                struct hub_order_result *res);

/* Counts a result in the metrics (call after the commit). */
void hub_orders_count(hub_orders *o, const struct hub_order_result *res);

/*
 * Periodic work, each in its own transaction: escalate orders waiting past
 * their stage deadline; publish due decisions (QoS 1) and mark them sent;
 * publish the catalog (retained, QoS 1) to every known dealer that has not
 * got its current version. Failures are logged and retried on the next call.
 */
void hub_orders_tick(hub_orders *o, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                     long long now);

/* Escalates overdue orders at time now (part of hub_orders_tick). */
depot_err hub_orders_escalate(hub_orders *o, hub_store *s, long long now);
/* Publishes due decisions at time now (part of hub_orders_tick); *n = how many. */
depot_err hub_orders_publish_decisions(hub_orders *o, hub_store *s, hub_publish_fn publish,
                                       void *publish_ctx, long long now, int *n);
/* Publishes the catalog where due (part of hub_orders_tick); *n = to how many dealers. */
depot_err hub_orders_publish_catalog(hub_orders *o, hub_store *s, hub_publish_fn publish,
                                     void *publish_ctx, long long now, int *n);

/* ---- approval (approval.c) ---- */

enum hub_act { HUB_ACT_APPROVE, HUB_ACT_REJECT };

/*
 * An approver's decision on order id at stage, in its own transaction: the
 * stage the approver saw, so that a second click, or an approver of several
 * stages, never acts on the stage the order has moved on to (NULL or "":
 * the order's current stage, whatever it is). Approving the last stage
 * approves the order (after checking credit again: exposure may have grown
 * since it arrived). Returns DEPOT_OK (*after = the order now),
 * DEPOT_ERR_NOTFOUND, DEPOT_ERR_STALE (not pending, or no longer at stage:
 * *after = the order as it is), DEPOT_ERR_FORBIDDEN (the token may not act
 * for the stage), DEPOT_ERR_INVAL (a rejection without a reason),
 * DEPOT_ERR_DB. An approval is noted for the ranking rk (NULL: none) in the same
 * transaction (ranking/service.h).
 */
depot_err hub_approval_act(const struct hub_config *cfg, hub_metrics *metrics, hub_store *s,
                           struct hub_ranking *rk, const char *id, const char *stage,
                           const struct hub_token *who, enum hub_act act, const char *reason,
                           long long now, struct hub_order *after);

/* The stage after stage in cfg, or NULL when stage is the last (or unknown). */
const char *hub_approval_next_stage(const struct hub_config *cfg, const char *stage);

/* Appends one audit line (a helper of the three files). */
depot_err hub_audit(hub_store *s, const char *order, const char *dealer, const char *actor,
                    const char *action, const char *stage, const char *reason, long long at);

/*
 * A document signed by dealer's gateway (a contract's signature): the certificate pem
 * checked as an order's (issued by [hub] ca, not on [hub] crl, valid now, CN = dealer),
 * then the signature sig_b64 over exactly doc. DEPOT_ERR_AUTH with why when either fails.
 */
depot_err hub_orders_verify_signed(hub_orders *o, const char *dealer, const char *doc,
                                   const char *sig_b64, const char *pem, char *why, size_t len);

#endif
