/*
 * Shipments and their item codes in PostgreSQL (store/shipments.h; the
 * PostgreSQL version of store/sqlite/shipments.c). The tables are created by
 * migration 14 (store/pg/schema.c).
 */
#include <string.h>

#include "store/pg/pg.h"
#include "store/shipments.h"

enum shipment_stmt {
    H_ADD,
    H_LINE_ADD,
    H_CODE_ADD,
    H_GET,
    H_LINES,
    H_CODES,
    H_LIST,
    H_CODE,
    H_SCAN_ADD,
    H_SCANS,
    H_TERR_GET,
    H_TERR_PUT,
    H_COUNT
};
_Static_assert(H_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define SHIPMENT_COLS                                                                              \
    "id, dealer, order_id, shipped_at, recorded_at, recorded_by, digest, units, n_codes"

static const char *const sql[H_COUNT] = {
    [H_ADD] = "INSERT INTO shipments(" SHIPMENT_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [H_LINE_ADD] = "INSERT INTO shipment_lines(shipment, sku, qty, codes) VALUES($1, $2, $3, $4)",
    [H_CODE_ADD] = "INSERT INTO item_codes(code, sku, dealer, shipment, shipped_at) "
                   "VALUES($1, $2, $3, $4, $5)",
    [H_GET] = "SELECT " SHIPMENT_COLS " FROM shipments WHERE id = $1",
    [H_LINES] = "SELECT sku, qty, codes FROM shipment_lines WHERE shipment = $1 ORDER BY sku",
    [H_CODES] = "SELECT code, sku, dealer, shipment, shipped_at FROM item_codes "
                "WHERE shipment = $1 ORDER BY code",
    [H_LIST] = "SELECT " SHIPMENT_COLS " FROM shipments WHERE ($1::text IS NULL OR dealer = $1) "
               "AND shipped_at >= $2 AND shipped_at < $3 AND ($4 = '' OR (shipped_at, id) > "
               "(SELECT shipped_at, id FROM shipments WHERE id = $4)) "
               "ORDER BY shipped_at, id LIMIT $5",
    [H_CODE] = "SELECT code, sku, dealer, shipment, shipped_at FROM item_codes WHERE code = $1",
    [H_SCAN_ADD] =
        "INSERT INTO code_scans(dealer, ledger, mid, ts, code, sku, kind, node) "
        "VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(dealer, ledger, mid) DO NOTHING",
    [H_SCANS] = "SELECT dealer, ledger, mid, ts, code, sku, kind, node FROM code_scans "
                "WHERE code = $1 ORDER BY ts, dealer, ledger, mid",
    [H_TERR_GET] = "SELECT polygon FROM dealer_territories WHERE dealer = $1",
    [H_TERR_PUT] = "INSERT INTO dealer_territories(dealer, polygon) VALUES($1, $2) "
                   "ON CONFLICT(dealer) DO UPDATE SET polygon = excluded.polygon",
};

static const struct hub_pg_stmts stmts = {PG_T_SHIPMENTS, H_COUNT, sql};

/* Migration 14. */
const char hub_pg_schema_shipments[] =
    "CREATE TABLE shipments(id " PG_TEXT " PRIMARY KEY, dealer " PG_TEXT " NOT NULL, "
    " order_id " PG_TEXT " NOT NULL, shipped_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL, "
    " recorded_by " PG_TEXT " NOT NULL, digest " PG_TEXT " NOT NULL, units BIGINT NOT NULL, "
    " n_codes BIGINT NOT NULL);"
    "CREATE INDEX shipments_by_dealer ON shipments(dealer, shipped_at);"
    "CREATE INDEX shipments_by_time ON shipments(shipped_at, id);"
    "CREATE TABLE shipment_lines(shipment " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " qty BIGINT NOT NULL, codes BIGINT NOT NULL, PRIMARY KEY(shipment, sku));"
    "CREATE TABLE item_codes(code " PG_TEXT " PRIMARY KEY, sku " PG_TEXT " NOT NULL, "
    " dealer " PG_TEXT " NOT NULL, shipment " PG_TEXT " NOT NULL, shipped_at BIGINT NOT NULL);"
    "CREATE INDEX item_codes_by_shipment ON item_codes(shipment, code);"
    "CREATE TABLE code_scans(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " mid BIGINT NOT NULL, ts BIGINT NOT NULL, code " PG_TEXT " NOT NULL, sku " PG_TEXT
    " NOT NULL, kind " PG_TEXT " NOT NULL, node " PG_TEXT " NOT NULL, "
    " PRIMARY KEY(dealer, ledger, mid));"
    "CREATE INDEX code_scans_by_code ON code_scans(code, ts);"
    "CREATE TABLE dealer_territories(dealer " PG_TEXT " PRIMARY KEY, polygon " PG_TEXT
    " NOT NULL);";

static depot_err h_add(hub_store *s, const struct hub_shipment *sh,
                       const struct hub_shipment_line *lines, size_t n_lines,
                       const struct hub_item_code *codes, size_t n_codes)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, sh->id);
    pgp_text(&p, sh->dealer);
    pgp_text(&p, sh->order);
    pgp_int(&p, sh->shipped_at);
    pgp_int(&p, sh->recorded_at);
    pgp_text(&p, sh->recorded_by);
    pgp_text(&p, sh->digest);
    pgp_int(&p, sh->units);
    pgp_int(&p, sh->n_codes);
    err = hub_pg_run(q, &stmts, H_ADD, &p, "shipment add", NULL);
    for (size_t i = 0; err == DEPOT_OK && i < n_lines; i++) {
        pgp_reset(&p);
        pgp_text(&p, sh->id);
        pgp_text(&p, lines[i].sku);
        pgp_int(&p, lines[i].qty);
        pgp_int(&p, lines[i].codes);
        err = hub_pg_run(q, &stmts, H_LINE_ADD, &p, "shipment line", NULL);
    }
    for (size_t i = 0; err == DEPOT_OK && i < n_codes; i++) {
        pgp_reset(&p);
        pgp_text(&p, codes[i].code);
        pgp_text(&p, codes[i].sku);
        pgp_text(&p, sh->dealer);
        pgp_text(&p, sh->id);
        pgp_int(&p, sh->shipped_at);
        err = hub_pg_run(q, &stmts, H_CODE_ADD, &p, "item code", NULL);
    }
    return err;
}

struct walk {
    hub_shipment_cb sh;
    hub_shipment_line_cb line;
    hub_item_code_cb code;
    void *arg;
};

static int shipment_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_shipment sh = {.id = hub_pg_col(res, r, 0),
                              .dealer = hub_pg_col(res, r, 1),
                              .order = hub_pg_col(res, r, 2),
                              .shipped_at = hub_pg_int(res, r, 3),
                              .recorded_at = hub_pg_int(res, r, 4),
                              .recorded_by = hub_pg_col(res, r, 5),
                              .digest = hub_pg_col(res, r, 6),
                              .units = hub_pg_int(res, r, 7),
                              .n_codes = hub_pg_int(res, r, 8)};
    return w->sh(w->arg, &sh);
}

static int line_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_shipment_line l = {
        .sku = hub_pg_col(res, r, 0), .qty = hub_pg_int(res, r, 1), .codes = hub_pg_int(res, r, 2)};
    return w->line(w->arg, &l);
}

static int code_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_item_code c = {.code = hub_pg_col(res, r, 0),
                              .sku = hub_pg_col(res, r, 1),
                              .dealer = hub_pg_col(res, r, 2),
                              .shipment = hub_pg_col(res, r, 3),
                              .shipped_at = hub_pg_int(res, r, 4)};
    return w->code(w->arg, &c);
}

/* A query of at most one row walked: DEPOT_ERR_NOTFOUND when it has none. */
static depot_err one(hub_store *s, int idx, const char *key, hub_pg_row_fn row, struct walk *w,
                     const char *what)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, key);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, idx, &p, what, &res);
    if (err != DEPOT_OK)
        return err;
    row(w, res, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err h_get(hub_store *s, const char *id, hub_shipment_cb cb, void *arg)
{
    struct walk w = {.sh = cb, .arg = arg};
    return one(s, H_GET, id, shipment_row, &w, "shipment");
}

static depot_err h_code(hub_store *s, const char *code, hub_item_code_cb cb, void *arg)
{
    struct walk w = {.code = cb, .arg = arg};
    return one(s, H_CODE, code, code_row, &w, "item code");
}

static depot_err h_lines(hub_store *s, const char *id, hub_shipment_line_cb cb, void *arg)
{
    struct walk w = {.line = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, id);
    return hub_pg_walk(hub_pg_impl(s), &stmts, H_LINES, &p, "shipment lines", line_row, &w);
}

static depot_err h_codes(hub_store *s, const char *shipment, hub_item_code_cb cb, void *arg)
{
    struct walk w = {.code = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, shipment);
    return hub_pg_walk(hub_pg_impl(s), &stmts, H_CODES, &p, "item codes", code_row, &w);
}

static depot_err h_list(hub_store *s, const char *dealer, long long from, long long to,
                        const char *after, long long limit, hub_shipment_cb cb, void *arg)
{
    struct walk w = {.sh = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, from);
    pgp_int(&p, to);
    pgp_text(&p, after);
    if (limit > 0)
        pgp_int(&p, limit);
    else
        pgp_text(&p, NULL); /* LIMIT NULL: all */
    return hub_pg_walk(hub_pg_impl(s), &stmts, H_LIST, &p, "shipments", shipment_row, &w);
}

static depot_err h_scan_add(hub_store *s, const struct hub_code_scan *sc)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, sc->dealer);
    pgp_text(&p, sc->ledger);
    pgp_int(&p, (long long)sc->mid);
    pgp_int(&p, sc->ts);
    pgp_text(&p, sc->code);
    pgp_text(&p, sc->sku);
    pgp_text(&p, sc->kind);
    pgp_text(&p, sc->node);
    return hub_pg_run(hub_pg_impl(s), &stmts, H_SCAN_ADD, &p, "code scan", NULL);
}

struct scan_walk {
    hub_code_scan_cb cb;
    void *arg;
};

static int scan_row(void *arg, const PGresult *res, int r)
{
    struct scan_walk *w = arg;
    struct hub_code_scan sc = {.dealer = hub_pg_col(res, r, 0),
                               .ledger = hub_pg_col(res, r, 1),
                               .mid = (uint64_t)hub_pg_int(res, r, 2),
                               .ts = hub_pg_int(res, r, 3),
                               .code = hub_pg_col(res, r, 4),
                               .sku = hub_pg_col(res, r, 5),
                               .kind = hub_pg_col(res, r, 6),
                               .node = hub_pg_col(res, r, 7)};
    return w->cb(w->arg, &sc);
}

static depot_err h_scans(hub_store *s, const char *code, hub_code_scan_cb cb, void *arg)
{
    struct scan_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, code);
    return hub_pg_walk(hub_pg_impl(s), &stmts, H_SCANS, &p, "code scans", scan_row, &w);
}

static depot_err h_territory_get(hub_store *s, const char *dealer, char *polygon, size_t len)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    polygon[0] = '\0';
    pgp_reset(&p);
    pgp_text(&p, dealer);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, H_TERR_GET, &p, "territory", &res);
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    if (err != DEPOT_OK)
        return err;
    hub_pg_col_copy(res, 0, 0, polygon, len);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err h_territory_put(hub_store *s, const char *dealer, const char *polygon)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_text(&p, polygon);
    return hub_pg_run(hub_pg_impl(s), &stmts, H_TERR_PUT, &p, "territory", NULL);
}

const struct hub_store_shipment_ops hub_pg_shipment_ops = {
    .add = h_add,
    .get = h_get,
    .lines = h_lines,
    .codes = h_codes,
    .list = h_list,
    .code = h_code,
    .scan_add = h_scan_add,
    .scans = h_scans,
    .territory_get = h_territory_get,
    .territory_put = h_territory_put,
};
