/*
 * The movement chain of the gateway's ledger (chain.h).
 */
#include "chain.h"

#include <stdio.h>
#include <string.h>

#include "depot/log.h"

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

depot_err gw_chain_walk(sqlite3 *db, const char *dealer, const char *ledger, bool from_stored,
                        int (*cb)(void *arg, const struct gw_chain_row *row), void *arg)
{
    sqlite3_stmt *st = NULL;
    char prev[DEPOT_CHAIN_HEX + 1] = DEPOT_CHAIN_GENESIS;
    depot_err e = DEPOT_OK;
    int rc, has_code = 0;
    /* a ledger of version 7 (read as it is by `ledger verify`) has no code column */
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM pragma_table_info('movements') WHERE name = "
                           "'code'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        has_code = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           has_code ? "SELECT id, ts, node, sku, kind, delta, qty_after, hash, code"
                                      " FROM movements ORDER BY id"
                                    : "SELECT id, ts, node, sku, kind, delta, qty_after, hash, ''"
                                      " FROM movements ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        LOG_ERROR("ledger chain: %s", sqlite3_errmsg(db));
        return DEPOT_ERR_DB;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct gw_chain_row row = {
            .id = sqlite3_column_int64(st, 0),
            .ts = sqlite3_column_int64(st, 1),
            .node = text(st, 2),
            .sku = text(st, 3),
            .kind = text(st, 4),
            .delta = sqlite3_column_int64(st, 5),
            .qty = sqlite3_column_int64(st, 6),
            .stored = text(st, 7),
            .code = text(st, 8),
        };
        struct depot_chain_link link = {dealer,  ledger,   (uint64_t)row.id, row.ts,  row.node,
                                        row.sku, row.kind, row.delta,        row.qty, row.code};
        if (depot_chain_hash(&link, prev, row.computed) != DEPOT_OK)
            row.computed[0] = '\0'; /* a field that cannot be hashed: the row is a break */
        if (cb(arg, &row))
            break;
        snprintf(prev, sizeof(prev), "%s",
                 from_stored || !row.computed[0] ? row.stored : row.computed);
        if (strlen(prev) != DEPOT_CHAIN_HEX)
            snprintf(prev, sizeof(prev), "%s", DEPOT_CHAIN_GENESIS); /* judged at its row */
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        LOG_ERROR("ledger chain: %s", sqlite3_errmsg(db));
        e = DEPOT_ERR_DB;
    }
    sqlite3_finalize(st);
    return e;
}
