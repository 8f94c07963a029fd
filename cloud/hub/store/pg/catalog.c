/*
 * The catalog in the PostgreSQL store, and what was published of it (the
 * PostgreSQL version of store/sqlite/catalog.c).
 *
 *   meta            (key PK; value)             catalog_version (profiles_version: alerts.c)
 *   catalog         (sku PK; barcode UNIQUE, price, unit_weight_g, min_qty, max_qty,
 *                    reorder_point, lead_time_days, max_stock, serial_prefix (migration 15))
 *   catalog_sent    (dealer PK; version)        the catalog version last published to it
 *
 * A replacement deletes and inserts the whole list and bumps the version in
 * one transaction (the caller's).
 */
#include "store/pg/pg.h"

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
_Static_assert(C_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define CAT_COLS                                                                                   \
    "sku, barcode, price, unit_weight_g, min_qty, max_qty, reorder_point, lead_time_days, "        \
    "max_stock, serial_prefix"

static const char *const sql[C_COUNT] = {
    [C_CAT_DELETE] = "DELETE FROM catalog",
    [C_CAT_INSERT] =
        "INSERT INTO catalog(" CAT_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    /* the new version comes back from the bump itself */
    [C_CAT_BUMP] = "INSERT INTO meta(key, value) VALUES('catalog_version', 1) "
                   "ON CONFLICT(key) DO UPDATE SET value = meta.value + 1 RETURNING value",
    [C_CAT_VERSION] = "SELECT value FROM meta WHERE key = 'catalog_version'",
    [C_CAT_LIST] = "SELECT " CAT_COLS " FROM catalog ORDER BY sku",
    [C_CAT_FIND] = "SELECT " CAT_COLS " FROM catalog WHERE barcode = $1",
    [C_CAT_DUE] =
        "SELECT d.id FROM (SELECT id FROM dealers UNION SELECT id FROM dealer_profiles) d "
        "LEFT JOIN catalog_sent c ON c.dealer = d.id "
        "WHERE COALESCE(c.version, 0) < $1 ORDER BY d.id",
    [C_CAT_SENT] = "INSERT INTO catalog_sent(dealer, version) VALUES($1, $2) ON CONFLICT(dealer) "
                   "DO UPDATE SET version = GREATEST(catalog_sent.version, excluded.version)",
};

static const struct hub_pg_stmts stmts = {PG_T_CATALOG, C_COUNT, sql};

const char hub_pg_schema_catalog[] =
    "CREATE TABLE meta(key " PG_TEXT " PRIMARY KEY, value BIGINT NOT NULL);"
    "CREATE TABLE catalog(sku " PG_TEXT " PRIMARY KEY, barcode " PG_TEXT " NOT NULL UNIQUE, "
    " price BIGINT NOT NULL, unit_weight_g BIGINT NOT NULL, min_qty BIGINT NOT NULL, "
    " max_qty BIGINT NOT NULL, reorder_point BIGINT NOT NULL, lead_time_days BIGINT NOT NULL, "
    " max_stock BIGINT NOT NULL);"
    "CREATE TABLE catalog_sent(dealer " PG_TEXT " PRIMARY KEY, version BIGINT NOT NULL);";

/* Migration 15: the start of an item's own serial codes ("": none). */
const char hub_pg_schema_serials[] =
    "ALTER TABLE catalog ADD COLUMN serial_prefix " PG_TEXT " NOT NULL DEFAULT '';";

static void read_item(const PGresult *res, int r, struct hub_catalog_item *it)
{
    hub_pg_col_copy(res, r, 0, it->sku, sizeof(it->sku));
    hub_pg_col_copy(res, r, 1, it->barcode, sizeof(it->barcode));
    it->price = hub_pg_int(res, r, 2);
    it->unit_weight_g = hub_pg_int(res, r, 3);
    it->min_qty = hub_pg_int(res, r, 4);
    it->max_qty = hub_pg_int(res, r, 5);
    it->reorder_point = hub_pg_int(res, r, 6);
    it->lead_time_days = hub_pg_int(res, r, 7);
    it->max_stock = hub_pg_int(res, r, 8);
    hub_pg_col_copy(res, r, 9, it->serial_prefix, sizeof(it->serial_prefix));
}

static depot_err insert_item(struct pg_store *q, const struct hub_catalog_item *it)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, it->sku);
    pgp_text(&p, it->barcode);
    pgp_int(&p, it->price);
    pgp_int(&p, it->unit_weight_g);
    pgp_int(&p, it->min_qty);
    pgp_int(&p, it->max_qty);
    pgp_int(&p, it->reorder_point);
    pgp_int(&p, it->lead_time_days);
    pgp_int(&p, it->max_stock);
    pgp_text(&p, it->serial_prefix);
    return hub_pg_run(q, &stmts, C_CAT_INSERT, &p, "catalog insert", NULL);
}

/* Runs a query of one integer (the version read or bumped): 0 when it finds no row. */
static depot_err version_of(struct pg_store *q, enum catalog_stmt id, const char *what,
                            long long *version)
{
    PGresult *res;
    depot_err err = hub_pg_one_row(q, &stmts, id, NULL, what, &res);
    *version = err == DEPOT_OK ? hub_pg_int(res, 0, 0) : 0;
    if (err == DEPOT_OK)
        PQclear(res);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

depot_err hub_pg_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                 long long at, long long *version)
{
    struct pg_store *q = hub_pg_impl(s);
    depot_err err = hub_pg_run(q, &stmts, C_CAT_DELETE, NULL, "catalog delete", NULL);
    (void)at;
    for (size_t i = 0; err == DEPOT_OK && i < n; i++)
        err = insert_item(q, &items[i]);
    return err == DEPOT_OK ? version_of(q, C_CAT_BUMP, "catalog version", version) : err;
}

struct catalog_walk {
    hub_catalog_cb cb;
    void *arg;
};

static int catalog_row(void *arg, const PGresult *res, int r)
{
    struct catalog_walk *w = arg;
    struct hub_catalog_item it;
    read_item(res, r, &it);
    return w->cb(w->arg, &it);
}

depot_err hub_pg_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct catalog_walk w = {cb, arg};
    depot_err err = version_of(q, C_CAT_VERSION, "catalog version", version);
    if (err != DEPOT_OK || !cb)
        return err;
    return hub_pg_walk(q, &stmts, C_CAT_LIST, NULL, "catalog list", catalog_row, &w);
}

depot_err hub_pg_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, barcode);
    err = hub_pg_one_row(q, &stmts, C_CAT_FIND, &p, "catalog find", &res);
    if (err == DEPOT_OK) {
        read_item(res, 0, out);
        PQclear(res);
    }
    return err;
}

struct name_walk {
    hub_name_cb cb;
    void *arg;
};

static int name_row(void *arg, const PGresult *res, int r)
{
    struct name_walk *w = arg;
    return w->cb(w->arg, hub_pg_col(res, r, 0));
}

depot_err hub_pg_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct name_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, version);
    return hub_pg_walk(q, &stmts, C_CAT_DUE, &p, "catalog due", name_row, &w);
}

depot_err hub_pg_catalog_sent(hub_store *s, const char *dealer, long long version)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, version);
    return hub_pg_run(q, &stmts, C_CAT_SENT, &p, "catalog sent", NULL);
}
