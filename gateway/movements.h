/*
 * Ledger movements to the hub: batches of up/movements through the outbox,
 * exactly once across crashes and restarts (movements.c).
 */
#ifndef GW_MOVEMENTS_H
#define GW_MOVEMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "depot/error.h"
#include "ledger.h"
#include "orders.h"

struct gw_movements_opts {
    int period_s;  /* cut a batch once the oldest waiting movement waited this long (>= 1) */
    int batch_min; /* ... or as soon as this many are waiting (1..DEPOT_MOVEMENTS_MAX_ITEMS) */
    const struct gw_order_signer *signer; /* the gateway's key (gw_terminal_signer); NULL:
                                             batches go without the chain's signature */
};

/* The batching clock: when movements were first seen waiting (monotonic ms, 0 = none). */
typedef struct gw_movements {
    struct gw_movements_opts o;
    long long waiting_since_ms;
    bool blocked; /* the outbox refused the last batch (logged once) */
} gw_movements;

void gw_movements_init(gw_movements *m, const struct gw_movements_opts *o);

/*
 * Cut batches that are due (now_ms monotonic). link_up false: only full
 * batches (DEPOT_MOVEMENTS_MAX_ITEMS) are cut, the rest waits in the ledger
 * for the link. At most max_batches per call. *queued (may be NULL) gets how
 * many messages were queued. DEPOT_ERR_DB; an outbox at its warning level or
 * full is not an error: nothing is cut, the movements wait.
 */
depot_err gw_movements_tick(gw_movements *m, gw_ledger *l, long long now_ms, bool link_up,
                            int max_batches, int *queued);

/*
 * In ONE transaction: the movements after meta.movements_sent (at most
 * DEPOT_MOVEMENTS_MAX_ITEMS, mid order) become one up/movements message in
 * the outbox and the cursor moves to the last of them. *n gets how many
 * movements were sent (0: none waiting, nothing written), *msg_id the message
 * id (may be NULL). With os (the gateway's key and certificate) the batch
 * carries the movement chain: each item's hash, the hash before the first
 * (prev), and the key's signature of depot_movements_signed with the
 * certificate; without (os NULL or no key) none of it. DEPOT_ERR_FULL
 * (outbox at its warning level or full: nothing written), DEPOT_ERR_DB,
 * DEPOT_ERR_NOMEM, a signing error.
 */
depot_err gw_movements_batch(gw_ledger *l, const struct gw_order_signer *os, size_t *n,
                             uint64_t *msg_id);

/* Movements after the cursor (waiting to be batched) and the cursor itself. */
depot_err gw_movements_waiting(gw_ledger *l, long long *waiting, long long *cursor);

#endif
