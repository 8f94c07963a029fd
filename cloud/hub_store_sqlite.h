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

struct sqlite_store {
    struct hub_store base; /* first: a hub_store * is a sqlite_store * */
    sqlite3 *db;
    sqlite3_stmt *st[SQ_MAIN_STMTS];
    sqlite3_stmt *ost[SQ_ORDER_STMTS];
};

extern const struct hub_store_order_ops hub_sqlite_order_ops;

/* Creates the order domain's tables and triggers and prepares its statements. */
depot_err hub_sqlite_orders_setup(struct sqlite_store *q);
/* Finalizes what hub_sqlite_orders_setup prepared (safe after a partial setup). */
void hub_sqlite_orders_free(struct sqlite_store *q);

#endif
