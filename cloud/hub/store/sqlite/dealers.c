/*
 * Dealers' profiles and per-dealer SKU ceilings in the SQLite store, and the
 * lookups of a dealer's heard state and stock the order rules need.
 *
 *   dealer_profiles (id PK; name, region, lat, lon, tier, credit_limit,
 *                    auto_approve_limit, contract_start, contract_end)
 *   dealer_sku_max  (dealer, sku PK; max_qty)   overrides of catalog.max_stock
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum dealers_stmt {
    D_PROF_GET,
    D_PROF_PUT,
    D_SKUMAX_SET,
    D_SKUMAX_DEL,
    D_SKUMAX_CLEAR,
    D_SKUMAX_LIST,
    D_DEALER_GET,
    D_STOCK_QTY,
    D_COUNT
};
_Static_assert(D_COUNT <= SQ_DEALERS_STMTS, "raise SQ_DEALERS_STMTS");

static const char *const sql[D_COUNT] = {
    [D_PROF_GET] = "SELECT id, name, region, lat, lon, tier, credit_limit, auto_approve_limit, "
                   "contract_start, contract_end FROM dealer_profiles WHERE id = ?1",
    [D_PROF_PUT] = "INSERT INTO dealer_profiles(id, name, region, lat, lon, tier, credit_limit, "
                   "auto_approve_limit, contract_start, contract_end) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(id) DO UPDATE SET "
                   "name = excluded.name, region = excluded.region, lat = excluded.lat, "
                   "lon = excluded.lon, tier = excluded.tier, "
                   "credit_limit = excluded.credit_limit, "
                   "auto_approve_limit = excluded.auto_approve_limit, "
                   "contract_start = excluded.contract_start, contract_end = excluded.contract_end",
    [D_SKUMAX_SET] = "INSERT INTO dealer_sku_max(dealer, sku, max_qty) VALUES(?1, ?2, ?3) "
                     "ON CONFLICT(dealer, sku) DO UPDATE SET max_qty = excluded.max_qty",
    [D_SKUMAX_DEL] = "DELETE FROM dealer_sku_max WHERE dealer = ?1 AND sku = ?2",
    [D_SKUMAX_CLEAR] = "DELETE FROM dealer_sku_max WHERE dealer = ?1",
    [D_SKUMAX_LIST] = "SELECT sku, max_qty FROM dealer_sku_max WHERE dealer = ?1 AND "
                      "(?2 IS NULL OR sku = ?2) ORDER BY sku",
    [D_DEALER_GET] = "SELECT id, online, session, last_seen, first_seen FROM dealers WHERE id = ?1",
    [D_STOCK_QTY] = "SELECT qty FROM stock WHERE dealer = ?1 AND sku = ?2",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS dealer_profiles(id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    " region TEXT NOT NULL, lat REAL, lon REAL, tier TEXT NOT NULL, "
    " credit_limit INTEGER NOT NULL, auto_approve_limit INTEGER NOT NULL, "
    " contract_start TEXT NOT NULL, contract_end TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS dealer_sku_max(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " max_qty INTEGER NOT NULL, PRIMARY KEY(dealer, sku)) WITHOUT ROWID;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum dealers_stmt id)
{
    return hub_sqlite_ready(q->dealer_st[id]);
}

depot_err hub_sqlite_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *p)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_PROF_GET);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    err = hub_sqlite_one_row(q, st, "profile");
    if (err != DEPOT_OK)
        return err;
    memset(p, 0, sizeof(*p));
    hub_sqlite_col_copy(st, 0, p->dealer, sizeof(p->dealer));
    hub_sqlite_col_copy(st, 1, p->name, sizeof(p->name));
    hub_sqlite_col_copy(st, 2, p->region, sizeof(p->region));
    p->has_location = sqlite3_column_type(st, 3) != SQLITE_NULL;
    p->lat = sqlite3_column_double(st, 3);
    p->lon = sqlite3_column_double(st, 4);
    hub_sqlite_col_copy(st, 5, p->tier, sizeof(p->tier));
    p->credit_limit = sqlite3_column_int64(st, 6);
    p->auto_approve_limit = sqlite3_column_int64(st, 7);
    hub_sqlite_col_copy(st, 8, p->contract_start, sizeof(p->contract_start));
    hub_sqlite_col_copy(st, 9, p->contract_end, sizeof(p->contract_end));
    sqlite3_reset(st);
    return DEPOT_OK;
}

depot_err hub_sqlite_profile_put(hub_store *s, const struct hub_dealer_profile *p)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_PROF_PUT);
    hub_sqlite_bind_text(st, 1, p->dealer);
    hub_sqlite_bind_text(st, 2, p->name);
    hub_sqlite_bind_text(st, 3, p->region);
    if (p->has_location) {
        sqlite3_bind_double(st, 4, p->lat);
        sqlite3_bind_double(st, 5, p->lon);
    }
    hub_sqlite_bind_text(st, 6, p->tier);
    sqlite3_bind_int64(st, 7, p->credit_limit);
    sqlite3_bind_int64(st, 8, p->auto_approve_limit);
    hub_sqlite_bind_text(st, 9, p->contract_start);
    hub_sqlite_bind_text(st, 10, p->contract_end);
    return hub_sqlite_run(q, st, "profile put");
}

depot_err hub_sqlite_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, max < 0 ? D_SKUMAX_DEL : D_SKUMAX_SET);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    if (max >= 0)
        sqlite3_bind_int64(st, 3, max);
    return hub_sqlite_run(q, st, "sku max");
}

depot_err hub_sqlite_sku_max_clear(hub_store *s, const char *dealer)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_SKUMAX_CLEAR);
    hub_sqlite_bind_text(st, 1, dealer);
    return hub_sqlite_run(q, st, "sku max clear");
}

depot_err hub_sqlite_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_SKUMAX_LIST);
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, NULL);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), sqlite3_column_int64(st, 1)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "sku max list");
}

depot_err hub_sqlite_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_DEALER_GET);
    struct hub_dealer_row r;
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    err = hub_sqlite_one_row(q, st, "dealer");
    if (err != DEPOT_OK)
        return err;
    hub_sqlite_dealer_row(st, &r);
    cb(arg, &r);
    sqlite3_reset(st);
    return DEPOT_OK;
}

depot_err hub_sqlite_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_STOCK_QTY);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    err = hub_sqlite_one_row(q, st, "stock qty");
    *qty = err == DEPOT_OK ? sqlite3_column_int64(st, 0) : 0;
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

depot_err hub_sqlite_dealers_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "dealers schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, D_COUNT, q->dealer_st);
}

void hub_sqlite_dealers_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->dealer_st, D_COUNT);
}
