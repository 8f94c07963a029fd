/*
 * The ledger's transactions, for the modules that keep their own tables in
 * the same SQLite file (terminal.c, orders.c, catalog.c). Private to gateway/.
 *
 * Use: ledger_lock; ledger_tx_begin; any number of statements and
 * ledger_tx_stock / ledger_tx_queue; gw_ledger_tx_finish(e) (COMMIT when e is
 * DEPOT_OK, else ROLLBACK); ledger_unlock. The in-memory copies of the next
 * message id and of the outbox size move only when the COMMIT succeeded, so
 * the invariants of ledger.c hold across these modules too.
 *
 * A transaction is a SAVEPOINT inside the group's SQLite transaction (ledger.c,
 * "Group commit"): gw_ledger_tx_finish(DEPOT_OK) returns DEPOT_OK once the
 * COMMIT that holds it returned, which may be another thread's; while it
 * waits for that COMMIT it releases the lock, and other callers run. It
 * returns with the lock held again, but what was read before it may have
 * changed: use only its result and what the transaction itself decided.
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

/* BEGIN IMMEDIATE (unless a group is open) and this caller's SAVEPOINT. Lock held. DEPOT_ERR_DB. */
depot_err gw_ledger_tx_begin(gw_ledger *l, struct ledger_tx *tx);
/*
 * e DEPOT_OK: release the savepoint and return the result of the COMMIT that
 * holds it (this caller's, or a later caller's in the same group). Else roll
 * back this caller's savepoint only and return e. Lock held (released while
 * waiting for the group's COMMIT, held again on return).
 */
depot_err gw_ledger_tx_finish(gw_ledger *l, struct ledger_tx *tx, depot_err e);

/*
 * The stock of sku becomes qty: movement (kind "scale", "receive", "pick",
 * "count"), stock row and up/stock message, exactly like a scale change
 * (coalescing when the outbox is full). *msg_id = 0 when qty is unchanged.
 * DEPOT_ERR_FULL, DEPOT_ERR_DB, DEPOT_ERR_INVAL (qty < 0, bad ids).
 */
depot_err gw_ledger_tx_stock(gw_ledger *l, struct ledger_tx *tx, const char *node, const char *sku,
                          long long qty, const char *kind, long long ts, uint64_t *msg_id);
/* The same for one item received or picked by its own code (normal form, depot/item_code.h):
 * the movement carries the code (and its hash covers it). */
depot_err gw_ledger_tx_stock_code(gw_ledger *l, struct ledger_tx *tx, const char *node,
                                  const char *sku, long long qty, const char *kind,
                                  const char *code, long long ts, uint64_t *msg_id);

/* The stock of sku: DEPOT_OK and *qty, or DEPOT_ERR_NOTFOUND. Lock held. */
depot_err gw_ledger_stock_locked(gw_ledger *l, const char *sku, long long *qty);

/* Queue m (an event or an order: never coalesced). DEPOT_ERR_FULL, DEPOT_ERR_DB. */
depot_err gw_ledger_tx_queue(gw_ledger *l, struct ledger_tx *tx, depot_msg *m, uint64_t *msg_id);

/* The outbox, counting this transaction, is at or above its warning level. */
bool gw_ledger_tx_outbox_high(const gw_ledger *l, const struct ledger_tx *tx);
/* One more entry fits in the outbox. */
bool gw_ledger_tx_outbox_room(const gw_ledger *l, const struct ledger_tx *tx);

/*
 * Plumbing: the connection, a one-off statement (finalize it; NULL logged),
 * errors. Called outside a transaction, gw_ledger_sqlite, gw_ledger_prepare
 * and gw_ledger_stmt first commit a group that callers wait in, so what the
 * caller runs next is its own (autocommit) statement, never part of the group.
 */
sqlite3 *gw_ledger_sqlite(gw_ledger *l);
/* Threads waiting for the ledger's lock at this moment (what makes a caller join a group). */
int gw_ledger_lock_waiters(const gw_ledger *l);
sqlite3_stmt *gw_ledger_prepare(gw_ledger *l, const char *sql);

/*
 * The statement of sql, prepared once for this ledger and kept until
 * gw_ledger_free: for a statement run on every scan or change, where
 * preparing it each time would cost more than running it (an INSERT of
 * eleven columns is parsed in about as many instructions as a scan's whole
 * transaction runs). Returned reset with no bindings; reset it after use
 * (gw_ledger_step_done does), never finalize it. sql is compared by
 * address first: pass a string constant. At most GW_LEDGER_KEPT_MAX
 * statements; NULL (logged) when full or when it does not prepare. Lock held.
 */
#define GW_LEDGER_KEPT_MAX 32
sqlite3_stmt *gw_ledger_stmt(gw_ledger *l, const char *sql);
depot_err gw_ledger_step_done(gw_ledger *l, sqlite3_stmt *st, const char *what);
depot_err gw_ledger_db_error(gw_ledger *l, int rc, const char *what);
const char *gw_ledger_dealer(const gw_ledger *l);

#endif
