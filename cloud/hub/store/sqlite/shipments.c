/*
 * Shipments, their item codes, the codes scanned at terminals and dealers'
 * territories in SQLite (store/shipments.h): migration 14.
 */
#include <string.h>

#include "store/shipments.h"
#include "store/sqlite/sqlite.h"

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
    H__COUNT
};
_Static_assert(H__COUNT <= SQ_SHIPMENT_STMTS, "raise SQ_SHIPMENT_STMTS");

#define SHIPMENT_COLS                                                                              \
    "id, dealer, order_id, shipped_at, recorded_at, recorded_by, digest, units, n_codes"

static const char *const sql[H__COUNT] = {
    [H_ADD] = "INSERT INTO shipments(" SHIPMENT_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [H_LINE_ADD] = "INSERT INTO shipment_lines(shipment, sku, qty, codes) VALUES(?1, ?2, ?3, ?4)",
    [H_CODE_ADD] = "INSERT INTO item_codes(code, sku, dealer, shipment, shipped_at) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)",
    [H_GET] = "SELECT " SHIPMENT_COLS " FROM shipments WHERE id = ?1",
    [H_LINES] = "SELECT sku, qty, codes FROM shipment_lines WHERE shipment = ?1 ORDER BY sku",
    [H_CODES] = "SELECT code, sku, dealer, shipment, shipped_at FROM item_codes "
                "WHERE shipment = ?1 ORDER BY code",
    [H_LIST] = "SELECT " SHIPMENT_COLS " FROM shipments WHERE (?1 IS NULL OR dealer = ?1) "
               "AND shipped_at >= ?2 AND shipped_at < ?3 AND (?4 = '' OR (shipped_at, id) > "
               "(SELECT shipped_at, id FROM shipments WHERE id = ?4)) "
               "ORDER BY shipped_at, id LIMIT ?5",
    [H_CODE] = "SELECT code, sku, dealer, shipment, shipped_at FROM item_codes WHERE code = ?1",
    [H_SCAN_ADD] =
        "INSERT INTO code_scans(dealer, ledger, mid, ts, code, sku, kind, node) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(dealer, ledger, mid) DO NOTHING",
    [H_SCANS] = "SELECT dealer, ledger, mid, ts, code, sku, kind, node FROM code_scans "
                "WHERE code = ?1 ORDER BY ts, dealer, ledger, mid",
    [H_TERR_GET] = "SELECT polygon FROM dealer_territories WHERE dealer = ?1",
    [H_TERR_PUT] = "INSERT INTO dealer_territories(dealer, polygon) VALUES(?1, ?2) "
                   "ON CONFLICT(dealer) DO UPDATE SET polygon = excluded.polygon",
};

/* Migration 14 and the setup of every file since (idempotent). */
const char hub_sqlite_shipments_schema[] =
    "CREATE TABLE IF NOT EXISTS shipments(id TEXT PRIMARY KEY, dealer TEXT NOT NULL, "
    " order_id TEXT NOT NULL, shipped_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, "
    " recorded_by TEXT NOT NULL, digest TEXT NOT NULL, units INTEGER NOT NULL, "
    " n_codes INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS shipments_by_dealer ON shipments(dealer, shipped_at);"
    "CREATE INDEX IF NOT EXISTS shipments_by_time ON shipments(shipped_at, id);"
    "CREATE TABLE IF NOT EXISTS shipment_lines(shipment TEXT NOT NULL, sku TEXT NOT NULL, "
    " qty INTEGER NOT NULL, codes INTEGER NOT NULL, PRIMARY KEY(shipment, sku)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS item_codes(code TEXT PRIMARY KEY, sku TEXT NOT NULL, "
    " dealer TEXT NOT NULL, shipment TEXT NOT NULL, shipped_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS item_codes_by_shipment ON item_codes(shipment, code);"
    "CREATE TABLE IF NOT EXISTS code_scans(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " mid INTEGER NOT NULL, ts INTEGER NOT NULL, code TEXT NOT NULL, sku TEXT NOT NULL, "
    " kind TEXT NOT NULL, node TEXT NOT NULL, PRIMARY KEY(dealer, ledger, mid)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS code_scans_by_code ON code_scans(code, ts);"
    "CREATE TABLE IF NOT EXISTS dealer_territories(dealer TEXT PRIMARY KEY, "
    " polygon TEXT NOT NULL) WITHOUT ROWID;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum shipment_stmt id)
{
    return hub_sqlite_ready(q->shipment_st[id]);
}

static depot_err h_add(hub_store *s, const struct hub_shipment *sh,
                       const struct hub_shipment_line *lines, size_t n_lines,
                       const struct hub_item_code *codes, size_t n_codes)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, sh->id);
    hub_sqlite_bind_text(st, 2, sh->dealer);
    hub_sqlite_bind_text(st, 3, sh->order);
    sqlite3_bind_int64(st, 4, sh->shipped_at);
    sqlite3_bind_int64(st, 5, sh->recorded_at);
    hub_sqlite_bind_text(st, 6, sh->recorded_by);
    hub_sqlite_bind_text(st, 7, sh->digest);
    sqlite3_bind_int64(st, 8, sh->units);
    sqlite3_bind_int64(st, 9, sh->n_codes);
    err = hub_sqlite_run(q, st, "shipment add");
    for (size_t i = 0; err == DEPOT_OK && i < n_lines; i++) {
        st = prep(q, H_LINE_ADD);
        hub_sqlite_bind_text(st, 1, sh->id);
        hub_sqlite_bind_text(st, 2, lines[i].sku);
        sqlite3_bind_int64(st, 3, lines[i].qty);
        sqlite3_bind_int64(st, 4, lines[i].codes);
        err = hub_sqlite_run(q, st, "shipment line");
    }
    for (size_t i = 0; err == DEPOT_OK && i < n_codes; i++) {
        st = prep(q, H_CODE_ADD);
        hub_sqlite_bind_text(st, 1, codes[i].code);
        hub_sqlite_bind_text(st, 2, codes[i].sku);
        hub_sqlite_bind_text(st, 3, sh->dealer);
        hub_sqlite_bind_text(st, 4, sh->id);
        sqlite3_bind_int64(st, 5, sh->shipped_at);
        err = hub_sqlite_run(q, st, "item code");
    }
    return err;
}

static void shipment_row(sqlite3_stmt *st, struct hub_shipment *sh)
{
    sh->id = hub_sqlite_col(st, 0);
    sh->dealer = hub_sqlite_col(st, 1);
    sh->order = hub_sqlite_col(st, 2);
    sh->shipped_at = sqlite3_column_int64(st, 3);
    sh->recorded_at = sqlite3_column_int64(st, 4);
    sh->recorded_by = hub_sqlite_col(st, 5);
    sh->digest = hub_sqlite_col(st, 6);
    sh->units = sqlite3_column_int64(st, 7);
    sh->n_codes = sqlite3_column_int64(st, 8);
}

static void code_row(sqlite3_stmt *st, struct hub_item_code *c)
{
    c->code = hub_sqlite_col(st, 0);
    c->sku = hub_sqlite_col(st, 1);
    c->dealer = hub_sqlite_col(st, 2);
    c->shipment = hub_sqlite_col(st, 3);
    c->shipped_at = sqlite3_column_int64(st, 4);
}

static depot_err h_get(hub_store *s, const char *id, hub_shipment_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_GET);
    struct hub_shipment sh;
    depot_err err;
    hub_sqlite_bind_text(st, 1, id);
    err = hub_sqlite_one_row(q, st, "shipment");
    if (err != DEPOT_OK)
        return err;
    shipment_row(st, &sh);
    cb(arg, &sh);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err h_lines(hub_store *s, const char *id, hub_shipment_line_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_LINES);
    struct hub_shipment_line l;
    int rc;
    hub_sqlite_bind_text(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        l.sku = hub_sqlite_col(st, 0);
        l.qty = sqlite3_column_int64(st, 1);
        l.codes = sqlite3_column_int64(st, 2);
        if (cb(arg, &l))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "shipment lines");
}

static depot_err h_codes(hub_store *s, const char *shipment, hub_item_code_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_CODES);
    struct hub_item_code c;
    int rc;
    hub_sqlite_bind_text(st, 1, shipment);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        code_row(st, &c);
        if (cb(arg, &c))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "item codes");
}

static depot_err h_list(hub_store *s, const char *dealer, long long from, long long to,
                        const char *after, long long limit, hub_shipment_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_LIST);
    struct hub_shipment sh;
    int rc;
    if (dealer)
        hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    hub_sqlite_bind_text(st, 4, after);
    sqlite3_bind_int64(st, 5, limit > 0 ? limit : -1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        shipment_row(st, &sh);
        if (cb(arg, &sh))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "shipments");
}

static depot_err h_code(hub_store *s, const char *code, hub_item_code_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_CODE);
    struct hub_item_code c;
    depot_err err;
    hub_sqlite_bind_text(st, 1, code);
    err = hub_sqlite_one_row(q, st, "item code");
    if (err != DEPOT_OK)
        return err;
    code_row(st, &c);
    cb(arg, &c);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err h_scan_add(hub_store *s, const struct hub_code_scan *sc)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_SCAN_ADD);
    hub_sqlite_bind_text(st, 1, sc->dealer);
    hub_sqlite_bind_text(st, 2, sc->ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)sc->mid);
    sqlite3_bind_int64(st, 4, sc->ts);
    hub_sqlite_bind_text(st, 5, sc->code);
    hub_sqlite_bind_text(st, 6, sc->sku);
    hub_sqlite_bind_text(st, 7, sc->kind);
    hub_sqlite_bind_text(st, 8, sc->node);
    return hub_sqlite_run(q, st, "code scan");
}

static depot_err h_scans(hub_store *s, const char *code, hub_code_scan_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_SCANS);
    struct hub_code_scan sc;
    int rc;
    hub_sqlite_bind_text(st, 1, code);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sc.dealer = hub_sqlite_col(st, 0);
        sc.ledger = hub_sqlite_col(st, 1);
        sc.mid = (uint64_t)sqlite3_column_int64(st, 2);
        sc.ts = sqlite3_column_int64(st, 3);
        sc.code = hub_sqlite_col(st, 4);
        sc.sku = hub_sqlite_col(st, 5);
        sc.kind = hub_sqlite_col(st, 6);
        sc.node = hub_sqlite_col(st, 7);
        if (cb(arg, &sc))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "code scans");
}

static depot_err h_territory_get(hub_store *s, const char *dealer, char *polygon, size_t len)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_TERR_GET);
    depot_err err;
    polygon[0] = '\0';
    hub_sqlite_bind_text(st, 1, dealer);
    err = hub_sqlite_one_row(q, st, "territory");
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    if (err != DEPOT_OK)
        return err;
    hub_sqlite_col_copy(st, 0, polygon, len);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err h_territory_put(hub_store *s, const char *dealer, const char *polygon)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, H_TERR_PUT);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, polygon);
    return hub_sqlite_run(q, st, "territory");
}

const struct hub_store_shipment_ops hub_sqlite_shipment_ops = {
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

depot_err hub_sqlite_shipments_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_shipments_schema, "shipments schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, H__COUNT, q->shipment_st);
}

void hub_sqlite_shipments_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->shipment_st, H__COUNT);
}
