/*
 * Dealers' profiles and per-dealer SKU ceilings in the PostgreSQL store, and
 * the lookups of a dealer's heard state and stock the order rules need (the
 * PostgreSQL version of store/sqlite/dealers.c).
 *
 *   dealer_profiles (id PK; name, region, lat, lon, tier, credit_limit,
 *                    auto_approve_limit, contract_start, contract_end)
 *   dealer_sku_max  (dealer, sku PK; max_qty)   overrides of catalog.max_stock
 */
#include <string.h>

#include "store/pg/pg.h"

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
_Static_assert(D_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

static const char *const sql[D_COUNT] = {
    [D_PROF_GET] = "SELECT id, name, region, lat, lon, tier, credit_limit, auto_approve_limit, "
                   "contract_start, contract_end FROM dealer_profiles WHERE id = $1",
    [D_PROF_PUT] = "INSERT INTO dealer_profiles(id, name, region, lat, lon, tier, credit_limit, "
                   "auto_approve_limit, contract_start, contract_end) "
                   "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT(id) DO UPDATE SET "
                   "name = excluded.name, region = excluded.region, lat = excluded.lat, "
                   "lon = excluded.lon, tier = excluded.tier, "
                   "credit_limit = excluded.credit_limit, "
                   "auto_approve_limit = excluded.auto_approve_limit, "
                   "contract_start = excluded.contract_start, contract_end = excluded.contract_end",
    [D_SKUMAX_SET] = "INSERT INTO dealer_sku_max(dealer, sku, max_qty) VALUES($1, $2, $3) "
                     "ON CONFLICT(dealer, sku) DO UPDATE SET max_qty = excluded.max_qty",
    [D_SKUMAX_DEL] = "DELETE FROM dealer_sku_max WHERE dealer = $1 AND sku = $2",
    [D_SKUMAX_CLEAR] = "DELETE FROM dealer_sku_max WHERE dealer = $1",
    [D_SKUMAX_LIST] = "SELECT sku, max_qty FROM dealer_sku_max WHERE dealer = $1 AND "
                      "($2::text IS NULL OR sku = $2) ORDER BY sku",
    [D_DEALER_GET] = "SELECT id, online, session, last_seen, first_seen FROM dealers WHERE id = $1",
    [D_STOCK_QTY] = "SELECT qty FROM stock WHERE dealer = $1 AND sku = $2",
};

static const struct hub_pg_stmts stmts = {PG_T_DEALERS, D_COUNT, sql};

const char hub_pg_schema_dealers[] =
    "CREATE TABLE dealer_profiles(id " PG_TEXT " PRIMARY KEY, name " PG_TEXT " NOT NULL, "
    " region " PG_TEXT " NOT NULL, lat DOUBLE PRECISION, lon DOUBLE PRECISION, "
    " tier " PG_TEXT " NOT NULL, credit_limit BIGINT NOT NULL, "
    " auto_approve_limit BIGINT NOT NULL, contract_start " PG_TEXT " NOT NULL, "
    " contract_end " PG_TEXT " NOT NULL);"
    "CREATE TABLE dealer_sku_max(dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " max_qty BIGINT NOT NULL, PRIMARY KEY(dealer, sku));";

/* Starts p with the text parameters $1 and $2 (NULL: SQL NULL). */
static void two_texts(struct pg_params *p, const char *a, const char *b)
{
    pgp_reset(p);
    pgp_text(p, a);
    pgp_text(p, b);
}

static void read_profile(const PGresult *res, struct hub_dealer_profile *p)
{
    memset(p, 0, sizeof(*p));
    hub_pg_col_copy(res, 0, 0, p->dealer, sizeof(p->dealer));
    hub_pg_col_copy(res, 0, 1, p->name, sizeof(p->name));
    hub_pg_col_copy(res, 0, 2, p->region, sizeof(p->region));
    p->has_location = !hub_pg_null(res, 0, 3);
    p->lat = hub_pg_double(res, 0, 3);
    p->lon = hub_pg_double(res, 0, 4);
    hub_pg_col_copy(res, 0, 5, p->tier, sizeof(p->tier));
    p->credit_limit = hub_pg_int(res, 0, 6);
    p->auto_approve_limit = hub_pg_int(res, 0, 7);
    hub_pg_col_copy(res, 0, 8, p->contract_start, sizeof(p->contract_start));
    hub_pg_col_copy(res, 0, 9, p->contract_end, sizeof(p->contract_end));
}

depot_err hub_pg_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *p)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params prm;
    PGresult *res;
    depot_err err;
    pgp_reset(&prm);
    pgp_text(&prm, dealer);
    err = hub_pg_one_row(q, &stmts, D_PROF_GET, &prm, "profile", &res);
    if (err != DEPOT_OK)
        return err;
    read_profile(res, p);
    PQclear(res);
    return DEPOT_OK;
}

depot_err hub_pg_profile_put(hub_store *s, const struct hub_dealer_profile *p)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params prm;
    two_texts(&prm, p->dealer, p->name);
    pgp_text(&prm, p->region);
    if (p->has_location) {
        pgp_double(&prm, p->lat);
        pgp_double(&prm, p->lon);
    } else {
        pgp_text(&prm, NULL);
        pgp_text(&prm, NULL);
    }
    pgp_text(&prm, p->tier);
    pgp_int(&prm, p->credit_limit);
    pgp_int(&prm, p->auto_approve_limit);
    pgp_text(&prm, p->contract_start);
    pgp_text(&prm, p->contract_end);
    return hub_pg_run(q, &stmts, D_PROF_PUT, &prm, "profile put", NULL);
}

depot_err hub_pg_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    two_texts(&p, dealer, sku);
    if (max >= 0)
        pgp_int(&p, max); /* a negative max deletes the override: that statement has no $3 */
    return hub_pg_run(q, &stmts, max < 0 ? D_SKUMAX_DEL : D_SKUMAX_SET, &p, "sku max", NULL);
}

depot_err hub_pg_sku_max_clear(hub_store *s, const char *dealer)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    return hub_pg_run(q, &stmts, D_SKUMAX_CLEAR, &p, "sku max clear", NULL);
}

struct sku_max_walk {
    hub_sku_max_cb cb;
    void *arg;
};

static int sku_max_row(void *arg, const PGresult *res, int r)
{
    struct sku_max_walk *w = arg;
    return w->cb(w->arg, hub_pg_col(res, r, 0), hub_pg_int(res, r, 1));
}

depot_err hub_pg_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct sku_max_walk w = {cb, arg};
    struct pg_params p;
    two_texts(&p, dealer, NULL);
    return hub_pg_walk(q, &stmts, D_SKUMAX_LIST, &p, "sku max list", sku_max_row, &w);
}

depot_err hub_pg_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct hub_dealer_row r;
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    err = hub_pg_one_row(q, &stmts, D_DEALER_GET, &p, "dealer", &res);
    if (err != DEPOT_OK)
        return err;
    hub_pg_dealer_row(res, 0, &r);
    cb(arg, &r);
    PQclear(res);
    return DEPOT_OK;
}

depot_err hub_pg_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    PGresult *res;
    depot_err err;
    two_texts(&p, dealer, sku);
    err = hub_pg_one_row(q, &stmts, D_STOCK_QTY, &p, "stock qty", &res);
    *qty = err == DEPOT_OK ? hub_pg_int(res, 0, 0) : 0;
    if (err == DEPOT_OK)
        PQclear(res);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}
