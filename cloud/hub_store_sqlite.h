/*
 * Private to the SQLite store: the connection object that both of its files
 * (hub_store_sqlite.c: ingest, stock, dealers; hub_store_sqlite_orders.c:
 * catalog, profiles, payments, orders, audit) work on.
 */
#ifndef HUB_STORE_SQLITE_H
#define HUB_STORE_SQLITE_H

#include <sqlite3.h>

#include "hub_store.h"

#define SQ_MAIN_STMTS 32
#define SQ_ORDER_STMTS 64
#define SQ_ALERT_STMTS 32

struct sqlite_store {
    struct hub_store base; /* first: a hub_store * is a sqlite_store * */
    sqlite3 *db;
    sqlite3_stmt *st[SQ_MAIN_STMTS];
    sqlite3_stmt *ost[SQ_ORDER_STMTS];
    sqlite3_stmt *ast[SQ_ALERT_STMTS]; /* hub_store_sqlite_alerts.c */
};

extern const struct hub_store_order_ops hub_sqlite_order_ops;

/* Creates the order domain's tables and triggers and prepares its statements. */
depot_err hub_sqlite_orders_setup(struct sqlite_store *q);
/* Finalizes what hub_sqlite_orders_setup prepared (safe after a partial setup). */
void hub_sqlite_orders_free(struct sqlite_store *q);

/* History and alerts (hub_store_sqlite_alerts.c): schema, statements, and the history effect
 * of a new movements batch or stock value (called in the applying transaction). */
extern const struct hub_store_alert_ops hub_sqlite_alert_ops;
depot_err hub_sqlite_alerts_setup(struct sqlite_store *q);
void hub_sqlite_alerts_free(struct sqlite_store *q);
depot_err hub_sqlite_history_apply(struct sqlite_store *q, const depot_msg *m);
depot_err hub_sqlite_history_point(struct sqlite_store *q, const char *dealer, const char *sku,
                                   long long ts, long long qty);

/* The ranking's presence log (hub_store_sqlite_ranking.c). */
extern const struct hub_store_ranking_ops hub_sqlite_ranking_ops;
depot_err hub_sqlite_ranking_setup(struct sqlite_store *q);

#endif
