/*
 * The one rule for every SQLite file Depot acknowledges from (the gateway's
 * ledger, the hub's store): WAL with synchronous=FULL, set and read back,
 * never assumed (common/sqlite_durable.c, library depot_sqlite).
 */
#ifndef DEPOT_SQLITE_DURABLE_H
#define DEPOT_SQLITE_DURABLE_H

#include <sqlite3.h>

#include "depot/error.h"

/*
 * Sets journal_mode=WAL and synchronous=FULL on db and reads both back.
 * DEPOT_OK if the connection runs them; DEPOT_ERR_FULL if the disk is full;
 * else DEPOT_ERR_DB, logged with both values and why who (e.g. "the gateway")
 * refuses: a connection that cannot run them (a file system without shared
 * memory or locks) would acknowledge what is not on the disk.
 */
depot_err depot_sqlite_durable(sqlite3 *db, const char *who);

#endif
