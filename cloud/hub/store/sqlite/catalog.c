/*
 * The catalog in the SQLite store, and what was published of it.
 *
 *   meta            (key PK; value)             catalog_version (profiles_version: dealers.c)
 *   catalog         (sku PK; barcode UNIQUE, price, unit_weight_g, min_qty, max_qty,
 *                    reorder_point, lead_time_days, max_stock, serial_prefix (migration 15))
 *   catalog_sent    (dealer PK; version)        the catalog version last published to it
 *
 * A replacement deletes and inserts the whole list and bumps the version in
 * one transaction (the caller's).
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum catalog_stmt {
    C_CAT_DELETE,
    C_CAT_INSERT,
    C_CAT_BUMP,
    C_CAT_VERSION,
    C_CAT_LIST,
    C_CAT_FIND,
    C_CAT_DUE,
    C_CAT_SENT,
    C_COUNT
};
_Static_assert(C_COUNT <= SQ_CATALOG_STMTS, "raise SQ_CATALOG_STMTS");

#define CAT_COLS                                                                                   \
    "sku, barcode, price, unit_weight_g, min_qty, max_qty, reorder_point, lead_time_days, "        \
    "max_stock, serial_prefix"

static const char *const sql[C_COUNT] = {
    [C_CAT_DELETE] = "DELETE FROM catalog",
    [C_CAT_INSERT] =
        "INSERT INTO catalog(" CAT_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [C_CAT_BUMP] = "INSERT INTO meta(key, value) VALUES('catalog_version', 1) "
                   "ON CONFLICT(key) DO UPDATE SET value = value + 1",
    [C_CAT_VERSION] = "SELECT value FROM meta WHERE key = 'catalog_version'",
    [C_CAT_LIST] = "SELECT " CAT_COLS " FROM catalog ORDER BY sku",
    [C_CAT_FIND] = "SELECT " CAT_COLS " FROM catalog WHERE barcode = ?1",
    [C_CAT_DUE] =
        "SELECT d.id FROM (SELECT id FROM dealers UNION SELECT id FROM dealer_profiles) d "
        "LEFT JOIN catalog_sent c ON c.dealer = d.id "
        "WHERE COALESCE(c.version, 0) < ?1 ORDER BY d.id",
    [C_CAT_SENT] = "INSERT INTO catalog_sent(dealer, version) VALUES(?1, ?2) "
                   "ON CONFLICT(dealer) DO UPDATE SET version = MAX(version, excluded.version)",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS catalog(sku TEXT PRIMARY KEY, barcode TEXT NOT NULL UNIQUE, "
    " price INTEGER NOT NULL, unit_weight_g INTEGER NOT NULL, min_qty INTEGER NOT NULL, "
    " max_qty INTEGER NOT NULL, reorder_point INTEGER NOT NULL, lead_time_days INTEGER NOT NULL, "
    " max_stock INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS catalog_sent(dealer TEXT PRIMARY KEY, version INTEGER NOT NULL) "
    " WITHOUT ROWID;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum catalog_stmt id)
{
    return hub_sqlite_ready(q->catalog_st[id]);
}

static void read_item(sqlite3_stmt *st, struct hub_catalog_item *it)
{
    hub_sqlite_col_copy(st, 0, it->sku, sizeof(it->sku));
    hub_sqlite_col_copy(st, 1, it->barcode, sizeof(it->barcode));
    it->price = sqlite3_column_int64(st, 2);
    it->unit_weight_g = sqlite3_column_int64(st, 3);
    it->min_qty = sqlite3_column_int64(st, 4);
    it->max_qty = sqlite3_column_int64(st, 5);
    it->reorder_point = sqlite3_column_int64(st, 6);
    it->lead_time_days = sqlite3_column_int64(st, 7);
    it->max_stock = sqlite3_column_int64(st, 8);
    hub_sqlite_col_copy(st, 9, it->serial_prefix, sizeof(it->serial_prefix));
}

static depot_err insert_item(struct sqlite_store *q, const struct hub_catalog_item *it)
{
    sqlite3_stmt *st = prep(q, C_CAT_INSERT);
    hub_sqlite_bind_text(st, 1, it->sku);
    hub_sqlite_bind_text(st, 2, it->barcode);
    sqlite3_bind_int64(st, 3, it->price);
    sqlite3_bind_int64(st, 4, it->unit_weight_g);
    sqlite3_bind_int64(st, 5, it->min_qty);
    sqlite3_bind_int64(st, 6, it->max_qty);
    sqlite3_bind_int64(st, 7, it->reorder_point);
    sqlite3_bind_int64(st, 8, it->lead_time_days);
    sqlite3_bind_int64(st, 9, it->max_stock);
    hub_sqlite_bind_text(st, 10, it->serial_prefix);
    return hub_sqlite_run(q, st, "catalog insert");
}

static depot_err catalog_version(struct sqlite_store *q, long long *version)
{
    sqlite3_stmt *st = prep(q, C_CAT_VERSION);
    depot_err err = hub_sqlite_one_row(q, st, "catalog version");
    *version = err == DEPOT_OK ? sqlite3_column_int64(st, 0) : 0;
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

depot_err hub_sqlite_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                     long long at, long long *version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = hub_sqlite_run(q, prep(q, C_CAT_DELETE), "catalog delete");
    (void)at;
    for (size_t i = 0; err == DEPOT_OK && i < n; i++)
        err = insert_item(q, &items[i]);
    if (err == DEPOT_OK)
        err = hub_sqlite_run(q, prep(q, C_CAT_BUMP), "catalog version");
    return err == DEPOT_OK ? catalog_version(q, version) : err;
}

depot_err hub_sqlite_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    struct hub_catalog_item it;
    sqlite3_stmt *st;
    depot_err err = catalog_version(q, version);
    int rc;
    if (err != DEPOT_OK || !cb)
        return err;
    st = prep(q, C_CAT_LIST);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_item(st, &it);
        if (cb(arg, &it))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "catalog list");
}

depot_err hub_sqlite_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_CAT_FIND);
    depot_err err;
    hub_sqlite_bind_text(st, 1, barcode);
    err = hub_sqlite_one_row(q, st, "catalog find");
    if (err == DEPOT_OK) {
        read_item(st, out);
        sqlite3_reset(st);
    }
    return err;
}

depot_err hub_sqlite_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_CAT_DUE);
    int rc;
    sqlite3_bind_int64(st, 1, version);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "catalog due");
}

depot_err hub_sqlite_catalog_sent(hub_store *s, const char *dealer, long long version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_CAT_SENT);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, version);
    return hub_sqlite_run(q, st, "catalog sent");
}

/* Migration 15, done here (SQLite has no ADD COLUMN IF NOT EXISTS, and the statements below
 * need the column before the migrations run): a file without the column gets it. */
static depot_err add_serial_prefix(struct sqlite_store *q)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT serial_prefix FROM catalog LIMIT 0", -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        return DEPOT_OK;
    return hub_sqlite_exec(q,
                           "ALTER TABLE catalog ADD COLUMN serial_prefix TEXT NOT NULL DEFAULT ''",
                           "catalog serial prefix");
}

depot_err hub_sqlite_catalog_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "catalog schema");
    if (err == DEPOT_OK)
        err = add_serial_prefix(q);
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, C_COUNT, q->catalog_st);
}

void hub_sqlite_catalog_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->catalog_st, C_COUNT);
}
