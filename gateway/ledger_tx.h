/*
 * The ledger's transactions, for the modules that keep their own tables in
 * the same SQLite file (terminal.c, orders.c, catalog.c). Private to gateway/.
 *
 * Use: ledger_lock; ledger_tx_begin; any number of statements and
 * ledger_tx_stock / ledger_tx_queue; gw_ledger_tx_finish(e) (COMMIT when e is
 * DEPOT_OK, else ROLLBACK); ledger_unlock. The in-memory copies of the next
 * message id and of the outbox size move only when the COMMIT succeeded, so
 * the invariants of ledger.c hold across these modules too.
 */
#ifndef GW_LEDGER_TX_H
#define GW_LEDGER_TX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

struct ledger_tx {
    uint64_t next;     /* next message id, committed into meta with each message */
    long long n_delta; /* outbox rows added (or coalesced away) in this transaction */
};

void gw_ledger_lock(gw_ledger *l);
void gw_ledger_unlock(gw_ledger *l);

/* BEGIN IMMEDIATE. Lock held. DEPOT_ERR_DB. */
depot_err gw_ledger_tx_begin(gw_ledger *l, struct ledger_tx *tx);
/* COMMIT if e is DEPOT_OK (returns the commit's result), else ROLLBACK and return e. */
depot_err gw_ledger_tx_finish(gw_ledger *l, struct ledger_tx *tx, depot_err e);

/*
 * The stock of sku becomes qty: movement (kind "scale", "receive", "pick",
 * "count"), stock row and up/stock message, exactly like a scale change
 * (coalescing when the outbox is full). *msg_id = 0 when qty is unchanged.
 * DEPOT_ERR_FULL, DEPOT_ERR_DB, DEPOT_ERR_INVAL (qty < 0, bad ids).
 */
depot_err gw_ledger_tx_stock(gw_ledger *l, struct ledger_tx *tx, const char *node, const char *sku,
                          long long qty, const char *kind, long long ts, uint64_t *msg_id);

/* The stock of sku: DEPOT_OK and *qty, or DEPOT_ERR_NOTFOUND. Lock held. */
depot_err gw_ledger_stock_locked(gw_ledger *l, const char *sku, long long *qty);

/* Queue m (an event or an order: never coalesced). DEPOT_ERR_FULL, DEPOT_ERR_DB. */
depot_err gw_ledger_tx_queue(gw_ledger *l, struct ledger_tx *tx, depot_msg *m, uint64_t *msg_id);

/* The outbox, counting this transaction, is at or above its warning level. */
bool gw_ledger_tx_outbox_high(const gw_ledger *l, const struct ledger_tx *tx);
/* One more entry fits in the outbox. */
bool gw_ledger_tx_outbox_room(const gw_ledger *l, const struct ledger_tx *tx);

/* Plumbing: the connection, a one-off statement (finalize it; NULL logged), errors. */
sqlite3 *gw_ledger_sqlite(gw_ledger *l);
sqlite3_stmt *gw_ledger_prepare(gw_ledger *l, const char *sql);
depot_err gw_ledger_step_done(gw_ledger *l, sqlite3_stmt *st, const char *what);
depot_err gw_ledger_db_error(gw_ledger *l, int rc, const char *what);
const char *gw_ledger_dealer(const gw_ledger *l);

#endif
