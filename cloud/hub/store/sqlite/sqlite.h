/*
 * Private to the SQLite store: the connection object that all of its files
 * (store/sqlite/sqlite.c: ingest, stock, dealers; store/sqlite/orders.c:
 * catalog, profiles, payments, orders, audit; store/sqlite/alerts.c;
 * store/sqlite/ranking.c) work on, and the statement helpers they share
 * (store/sqlite/util.c).
 */
#ifndef HUB_STORE_SQLITE_H
#define HUB_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

#define SQ_MAIN_STMTS 32
#define SQ_ORDER_STMTS 64
#define SQ_ALERT_STMTS 32

struct sqlite_store {
    struct hub_store base; /* first: a hub_store * is a sqlite_store * */
    sqlite3 *db;
    sqlite3_stmt *st[SQ_MAIN_STMTS];
    sqlite3_stmt *ost[SQ_ORDER_STMTS];
    sqlite3_stmt *ast[SQ_ALERT_STMTS]; /* store/sqlite/alerts.c */
};

/* The store behind a hub_store * (base is the first member). */
static inline struct sqlite_store *hub_sqlite_impl(hub_store *s)
{
    return (struct sqlite_store *)s;
}

/* ---- statement helpers (store/sqlite/util.c) ---- */

/* Logs "sqlite: <what>: <errmsg>"; returns DEPOT_ERR_DB. */
depot_err hub_sqlite_fail(struct sqlite_store *q, const char *what);
/* Resets and clears a statement, returns it ready to bind. */
sqlite3_stmt *hub_sqlite_ready(sqlite3_stmt *st);
/* Binds text (SQLITE_STATIC: v must live until the step), or NULL for a NULL pointer. */
void hub_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Column i as text, "" for NULL; valid until the next step or reset. */
const char *hub_sqlite_col(sqlite3_stmt *st, int i);
/* Copies column i (as hub_sqlite_col) into dst, truncated to size. */
void hub_sqlite_col_copy(sqlite3_stmt *st, int i, char *dst, size_t size);
/* Runs a statement that returns no rows, then resets it: DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_sqlite_run(struct sqlite_store *q, sqlite3_stmt *st, const char *what);
/* Steps a one-row query: DEPOT_OK with the row current (caller resets),
 * DEPOT_ERR_NOTFOUND or DEPOT_ERR_DB (reset). */
depot_err hub_sqlite_one_row(struct sqlite_store *q, sqlite3_stmt *st, const char *what);
/* Finishes a walk: resets; rc is the last sqlite3_step result. DEPOT_OK or DEPOT_ERR_DB. */
depot_err hub_sqlite_walk_end(struct sqlite_store *q, sqlite3_stmt *st, int rc, const char *what);
/* Runs SQL without results (a schema): DEPOT_OK or DEPOT_ERR_DB, logged as "sqlite: <what>: ...".
 */
depot_err hub_sqlite_exec(struct sqlite_store *q, const char *sql, const char *what);
/* Prepares sql[0..n) as persistent statements into out[]: DEPOT_OK or DEPOT_ERR_DB
 * (what was prepared stays in out[] for hub_sqlite_finalize_all). */
depot_err hub_sqlite_prepare_all(struct sqlite_store *q, const char *const *sql, int n,
                                 sqlite3_stmt **out);
/* Finalizes st[0..n) and sets them NULL (safe after a partial prepare). */
void hub_sqlite_finalize_all(sqlite3_stmt **st, int n);

extern const struct hub_store_order_ops hub_sqlite_order_ops;

/* Creates the order domain's tables and triggers and prepares its statements. */
depot_err hub_sqlite_orders_setup(struct sqlite_store *q);
/* Finalizes what hub_sqlite_orders_setup prepared (safe after a partial setup). */
void hub_sqlite_orders_free(struct sqlite_store *q);

/* History and alerts (store/sqlite/alerts.c): schema, statements, and the history effect
 * of a new movements batch or stock value (called in the applying transaction). */
extern const struct hub_store_alert_ops hub_sqlite_alert_ops;
depot_err hub_sqlite_alerts_setup(struct sqlite_store *q);
void hub_sqlite_alerts_free(struct sqlite_store *q);
depot_err hub_sqlite_history_apply(struct sqlite_store *q, const depot_msg *m);
depot_err hub_sqlite_history_point(struct sqlite_store *q, const char *dealer, const char *sku,
                                   long long ts, long long qty);

/* The ranking's presence log (store/sqlite/ranking.c). */
extern const struct hub_store_ranking_ops hub_sqlite_ranking_ops;
depot_err hub_sqlite_ranking_setup(struct sqlite_store *q);

#endif
