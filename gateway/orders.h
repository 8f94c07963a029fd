/*
 * Orders made at scanner terminals: the draft of each terminal, the signed
 * order queued for the hub, and the hub's decisions coming back.
 */
#ifndef GW_ORDERS_H
#define GW_ORDERS_H

#include <stdbool.h>

#include "depot/error.h"
#include "depot/msg.h"
#include "depot/pki.h"
#include "display.h"
#include "ledger.h"
#include "ledger_tx.h"

/* What signs orders: the gateway's key (opened once) and its certificate's PEM text. */
struct gw_order_signer {
    pki_signer *signer; /* NULL: no key configured, orders are refused */
    const char *cert_pem;
};

/*
 * Append an order line to node's draft (the barcode is known: item). Inside
 * the scan's transaction. *refused and d tell the terminal what happened
 * (quantity outside min..max, draft full). DEPOT_ERR_DB.
 */
depot_err gw_orders_add_line_locked(gw_ledger *l, const char *node,
                                    const struct depot_catalog_item *item, long long qty,
                                    long long now_ms, struct gw_display *d, bool *refused);

/*
 * Turn node's draft into an order: number, id "<ledger id>-<number>", the
 * document signed over its exact bytes, the orders row and its lines, the
 * up/order message, the draft cleared. Inside the scan's transaction.
 * Refused (draft kept): empty draft, outbox above its warning level, no key.
 * DEPOT_ERR_DB, DEPOT_ERR_CRYPTO, DEPOT_ERR_FULL, DEPOT_ERR_NOMEM.
 */
depot_err gw_orders_submit_locked(gw_ledger *l, struct ledger_tx *tx,
                                  const struct gw_order_signer *s, const char *node,
                                  long long now_ms, struct gw_display *d, bool *refused);

struct gw_decided {
    bool changed;                      /* false: a repeat, nothing written */
    char terminal[DEPOT_NODE_MAX + 1]; /* where the order was made */
    long long number;
    struct gw_display display; /* what that terminal shows now (when changed) */
};

/*
 * Apply the hub's decision m (type decision, our ledger) to its order once:
 * status, stage, reason; a final status (approved, rejected) also queues the
 * confirmation event "decided" in the same transaction, once per order.
 * DEPOT_ERR_NOTFOUND (no such order), DEPOT_ERR_INVAL (number differs),
 * DEPOT_ERR_FULL (outbox full: not applied, the hub repeats), DEPOT_ERR_DB.
 */
depot_err gw_orders_decide(gw_ledger *l, const depot_msg *m, struct gw_decided *r);

#endif
