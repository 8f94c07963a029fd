/*
 * The order domain of the SQLite store.
 *
 * Tables (money in cents, times in ms since the epoch):
 *   meta            (key PK; value)             catalog_version
 *   catalog         (sku PK; barcode UNIQUE, price, unit_weight_g, min_qty, max_qty,
 *                    reorder_point, lead_time_days, max_stock)
 *   catalog_sent    (dealer PK; version)        the catalog version last published to it
 *   dealer_profiles (id PK; name, region, lat, lon, tier, credit_limit,
 *                    auto_approve_limit, contract_start, contract_end)
 *   dealer_sku_max  (dealer, sku PK; max_qty)   overrides of catalog.max_stock
 *   payments        (id PK; dealer, amount, order_id, ref, actor, at)        append-only
 *   orders          (id PK; dealer, ledger, number, ..., status, stage, total,
 *                    decision_seq, sent_seq, delivered_seq, next_send, doc, sig)
 *   order_lines     (order_id, line PK; barcode, sku, qty, unit_price)
 *   audit           (seq PK; at, order_id, dealer, actor, action, stage, reason) append-only
 *   forged_orders   (seq PK; at, dealer, ledger, msg_id, order_id, reason, detail) append-only
 *   ledger_owners   (ledger PK; dealer)         the first dealer seen with each ledger id
 *                   (a trigger on streams fills it; an order's ledger must be its dealer's)
 *
 * Invariants:
 *   1. audit, payments and forged_orders only grow: triggers abort any UPDATE
 *      or DELETE, so not even a bug in the hub can rewrite history.
 *   2. delivered_seq <= sent_seq <= decision_seq. A decision is due for
 *      publishing while delivered_seq < decision_seq and next_send <= now;
 *      every new decision sets next_send = 0 (due at once).
 *   3. An order's lines and prices are written once, with the order, from
 *      the hub's catalog at the time it arrived.
 *   4. An order id is "<ledger>-<number>" of a ledger owned by the order's
 *      dealer, so ids are unique across dealers and id alone is the key; the
 *      audit trail of an order lists its own dealer's lines only.
 *
 * Optional filters are one statement each: "(?1 IS NULL OR col = ?1)" with
 * NULL bound when the filter is absent.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum ostmt {
    O_CAT_DELETE,
    O_CAT_INSERT,
    O_CAT_BUMP,
    O_CAT_VERSION,
    O_CAT_LIST,
    O_CAT_FIND,
    O_CAT_DUE,
    O_CAT_SENT,
    O_PROF_GET,
    O_PROF_PUT,
    O_SKUMAX_SET,
    O_SKUMAX_DEL,
    O_SKUMAX_CLEAR,
    O_SKUMAX_LIST,
    O_DEALER_GET,
    O_STOCK_QTY,
    O_PAY_ADD,
    O_EXP_APPROVED,
    O_EXP_PAID,
    O_ORDER_INSERT,
    O_LINE_INSERT,
    O_ORDER_GET,
    O_LINES,
    O_ORDERS_LIST,
    O_SET_STATE,
    O_ESCALATE,
    O_OVERDUE,
    O_DUE,
    O_SENT,
    O_CONFIRM,
    O_WAKE,
    O_LEDGER_OWNER,
    O_AUDIT_ADD,
    O_AUDIT_LIST,
    O_FORGED_ADD,
    O_FORGED_LIST,
    O__COUNT
};

_Static_assert(O__COUNT <= SQ_ORDER_STMTS, "raise SQ_ORDER_STMTS");

#define CAT_COLS                                                                                   \
    "sku, barcode, price, unit_weight_g, min_qty, max_qty, reorder_point, lead_time_days, "        \
    "max_stock"
#define ORDER_COLS                                                                                 \
    "id, dealer, ledger, number, terminal, created, received_at, stage_since, decided_at, "        \
    "status, stage, reason, total, escalated, decision_seq, sent_seq, delivered_seq"
#define APPEND_ONLY(t)                                                                             \
    "CREATE TRIGGER IF NOT EXISTS " t "_no_update BEFORE UPDATE ON " t                             \
    " BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"                                     \
    "CREATE TRIGGER IF NOT EXISTS " t "_no_delete BEFORE DELETE ON " t                             \
    " BEGIN SELECT RAISE(ABORT, '" t " is append-only'); END;"

static const char *const osql[O__COUNT] = {
    [O_CAT_DELETE] = "DELETE FROM catalog",
    [O_CAT_INSERT] = "INSERT INTO catalog(" CAT_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [O_CAT_BUMP] = "INSERT INTO meta(key, value) VALUES('catalog_version', 1) "
                   "ON CONFLICT(key) DO UPDATE SET value = value + 1",
    [O_CAT_VERSION] = "SELECT value FROM meta WHERE key = 'catalog_version'",
    [O_CAT_LIST] = "SELECT " CAT_COLS " FROM catalog ORDER BY sku",
    [O_CAT_FIND] = "SELECT " CAT_COLS " FROM catalog WHERE barcode = ?1",
    [O_CAT_DUE] =
        "SELECT d.id FROM (SELECT id FROM dealers UNION SELECT id FROM dealer_profiles) d "
        "LEFT JOIN catalog_sent c ON c.dealer = d.id "
        "WHERE COALESCE(c.version, 0) < ?1 ORDER BY d.id",
    [O_CAT_SENT] = "INSERT INTO catalog_sent(dealer, version) VALUES(?1, ?2) "
                   "ON CONFLICT(dealer) DO UPDATE SET version = MAX(version, excluded.version)",
    [O_PROF_GET] = "SELECT id, name, region, lat, lon, tier, credit_limit, auto_approve_limit, "
                   "contract_start, contract_end FROM dealer_profiles WHERE id = ?1",
    [O_PROF_PUT] = "INSERT INTO dealer_profiles(id, name, region, lat, lon, tier, credit_limit, "
                   "auto_approve_limit, contract_start, contract_end) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(id) DO UPDATE SET "
                   "name = excluded.name, region = excluded.region, lat = excluded.lat, "
                   "lon = excluded.lon, tier = excluded.tier, "
                   "credit_limit = excluded.credit_limit, "
                   "auto_approve_limit = excluded.auto_approve_limit, "
                   "contract_start = excluded.contract_start, contract_end = excluded.contract_end",
    [O_SKUMAX_SET] = "INSERT INTO dealer_sku_max(dealer, sku, max_qty) VALUES(?1, ?2, ?3) "
                     "ON CONFLICT(dealer, sku) DO UPDATE SET max_qty = excluded.max_qty",
    [O_SKUMAX_DEL] = "DELETE FROM dealer_sku_max WHERE dealer = ?1 AND sku = ?2",
    [O_SKUMAX_CLEAR] = "DELETE FROM dealer_sku_max WHERE dealer = ?1",
    [O_SKUMAX_LIST] = "SELECT sku, max_qty FROM dealer_sku_max WHERE dealer = ?1 AND "
                      "(?2 IS NULL OR sku = ?2) ORDER BY sku",
    [O_DEALER_GET] = "SELECT id, online, session, last_seen, first_seen FROM dealers WHERE id = ?1",
    [O_STOCK_QTY] = "SELECT qty FROM stock WHERE dealer = ?1 AND sku = ?2",
    [O_PAY_ADD] = "INSERT INTO payments(dealer, amount, order_id, ref, actor, at) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [O_EXP_APPROVED] = "SELECT COALESCE(SUM(total), 0) FROM orders "
                       "WHERE dealer = ?1 AND status = 'approved'",
    [O_EXP_PAID] = "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE dealer = ?1",
    [O_ORDER_INSERT] = "INSERT INTO orders(id, dealer, ledger, number, terminal, created, "
                       "received_at, stage_since, decided_at, status, stage, reason, total, doc, "
                       "sig) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                       "?15) ON CONFLICT(id) DO NOTHING",
    [O_LINE_INSERT] = "INSERT INTO order_lines(order_id, line, barcode, sku, qty, unit_price) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [O_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE id = ?1",
    [O_LINES] = "SELECT barcode, sku, qty, unit_price FROM order_lines WHERE order_id = ?1 "
                "ORDER BY line",
    [O_ORDERS_LIST] = "SELECT " ORDER_COLS " FROM orders WHERE (?1 IS NULL OR status = ?1) AND "
                      "(?2 IS NULL OR dealer = ?2) ORDER BY received_at DESC, id",
    [O_SET_STATE] = "UPDATE orders SET status = ?2, stage = ?3, reason = ?4, stage_since = ?5, "
                    "decided_at = CASE WHEN ?2 = 'pending' THEN 0 ELSE ?5 END, escalated = 0, "
                    "decision_seq = decision_seq + 1, next_send = 0 WHERE id = ?1",
    [O_ESCALATE] = "UPDATE orders SET escalated = 1 WHERE id = ?1",
    [O_OVERDUE] = "SELECT " ORDER_COLS " FROM orders WHERE status = 'pending' AND escalated = 0 "
                  "AND stage_since < ?1 ORDER BY stage_since LIMIT 1000",
    [O_DUE] = "SELECT " ORDER_COLS " FROM orders WHERE delivered_seq < decision_seq AND "
              "next_send <= ?1 ORDER BY next_send LIMIT 1000",
    [O_SENT] = "UPDATE orders SET sent_seq = MAX(sent_seq, ?2), next_send = ?3 WHERE id = ?1",
    [O_CONFIRM] = "UPDATE orders SET delivered_seq = sent_seq WHERE id = ?1 AND dealer = ?2 AND "
                  "delivered_seq < sent_seq",
    [O_WAKE] = "UPDATE orders SET next_send = 0 WHERE dealer = ?1 AND delivered_seq < decision_seq",
    [O_LEDGER_OWNER] =
        "SELECT dealer FROM ledger_owners WHERE ledger = ?1 AND dealer <> ?2 UNION ALL "
        "SELECT dealer FROM streams WHERE ledger = ?1 AND dealer <> ?2 AND NOT EXISTS "
        "(SELECT 1 FROM ledger_owners WHERE ledger = ?1) LIMIT 1",
    [O_AUDIT_ADD] = "INSERT INTO audit(at, order_id, dealer, actor, action, stage, reason) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [O_AUDIT_LIST] =
        "SELECT seq, at, order_id, dealer, actor, action, stage, reason FROM audit "
        "WHERE order_id = ?1 AND dealer = COALESCE((SELECT dealer FROM orders WHERE id = ?1), "
        "dealer) ORDER BY seq",
    [O_FORGED_ADD] = "INSERT INTO forged_orders(at, dealer, ledger, msg_id, order_id, reason, "
                     "detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [O_FORGED_LIST] =
        "SELECT at, dealer, ledger, msg_id, order_id, reason, detail FROM "
        "forged_orders WHERE (?1 IS NULL OR dealer = ?1) ORDER BY seq DESC LIMIT 1000",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS catalog(sku TEXT PRIMARY KEY, barcode TEXT NOT NULL UNIQUE, "
    " price INTEGER NOT NULL, unit_weight_g INTEGER NOT NULL, min_qty INTEGER NOT NULL, "
    " max_qty INTEGER NOT NULL, reorder_point INTEGER NOT NULL, lead_time_days INTEGER NOT NULL, "
    " max_stock INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS catalog_sent(dealer TEXT PRIMARY KEY, version INTEGER NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS dealer_profiles(id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    " region TEXT NOT NULL, lat REAL, lon REAL, tier TEXT NOT NULL, "
    " credit_limit INTEGER NOT NULL, auto_approve_limit INTEGER NOT NULL, "
    " contract_start TEXT NOT NULL, contract_end TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS dealer_sku_max(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " max_qty INTEGER NOT NULL, PRIMARY KEY(dealer, sku)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS payments(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " dealer TEXT NOT NULL, amount INTEGER NOT NULL, order_id TEXT NOT NULL, ref TEXT NOT NULL, "
    " actor TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS payments_by_dealer ON payments(dealer);" APPEND_ONLY(
        "payments") "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, dealer TEXT NOT NULL, "
                    " ledger TEXT NOT NULL, number INTEGER NOT NULL, terminal TEXT NOT NULL, "
                    " created INTEGER NOT NULL, received_at INTEGER NOT NULL, stage_since INTEGER "
                    "NOT NULL, "
                    " decided_at INTEGER NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL, "
                    " reason TEXT NOT NULL, total INTEGER NOT NULL, escalated INTEGER NOT NULL "
                    "DEFAULT 0, "
                    " decision_seq INTEGER NOT NULL DEFAULT 1, sent_seq INTEGER NOT NULL DEFAULT "
                    "0, "
                    " delivered_seq INTEGER NOT NULL DEFAULT 0, next_send INTEGER NOT NULL DEFAULT "
                    "0, "
                    " doc TEXT NOT NULL, sig TEXT NOT NULL) WITHOUT ROWID;"
                    "CREATE INDEX IF NOT EXISTS orders_by_dealer ON orders(dealer, status);"
                    "CREATE INDEX IF NOT EXISTS orders_by_status ON orders(status, stage_since);"
                    "CREATE INDEX IF NOT EXISTS orders_due ON orders(next_send) "
                    " WHERE delivered_seq < decision_seq;"
                    "CREATE TABLE IF NOT EXISTS order_lines(order_id TEXT NOT NULL, line INTEGER "
                    "NOT NULL, "
                    " barcode TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, "
                    " unit_price INTEGER NOT NULL, PRIMARY KEY(order_id, line)) WITHOUT ROWID;"
                    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, at "
                    "INTEGER NOT NULL, "
                    " order_id TEXT NOT NULL, dealer TEXT NOT NULL, actor TEXT NOT NULL, action "
                    "TEXT NOT NULL, "
                    " stage TEXT NOT NULL, reason TEXT NOT NULL);"
                    "CREATE INDEX IF NOT EXISTS audit_by_order ON audit(order_id, "
                    "seq);" APPEND_ONLY("audit") "CREATE TABLE IF NOT EXISTS forged_orders(seq "
                                                 "INTEGER PRIMARY KEY AUTOINCREMENT, "
                                                 " at INTEGER NOT NULL, dealer TEXT NOT NULL, "
                                                 "ledger TEXT NOT NULL, msg_id INTEGER NOT NULL, "
                                                 " order_id TEXT NOT NULL, reason TEXT NOT NULL, "
                                                 "detail TEXT NOT NULL);" APPEND_ONLY(
                                                     "forged_orders");

/* The dealer of each ledger id: the first seen with it (after the main schema's streams). */
static const char ledger_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_owners(ledger TEXT PRIMARY KEY, dealer TEXT NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS ledger_first_owner AFTER INSERT ON streams BEGIN "
    " INSERT INTO ledger_owners(ledger, dealer) VALUES(NEW.ledger, NEW.dealer) "
    " ON CONFLICT(ledger) DO NOTHING; END;"
    /* databases from before the table: a ledger one dealer alone used is that dealer's */
    "INSERT OR IGNORE INTO ledger_owners(ledger, dealer) SELECT ledger, MIN(dealer) "
    " FROM streams GROUP BY ledger HAVING COUNT(*) = 1;";

/* ---- helpers ---- */

static sqlite3_stmt *prep(struct sqlite_store *q, enum ostmt id)
{
    return hub_sqlite_ready(q->ost[id]);
}

static void i64(sqlite3_stmt *st, int i, long long v)
{
    sqlite3_bind_int64(st, i, v);
}

/* ---- catalog ---- */

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
}

static depot_err insert_item(struct sqlite_store *q, const struct hub_catalog_item *it)
{
    sqlite3_stmt *st = prep(q, O_CAT_INSERT);
    hub_sqlite_bind_text(st, 1, it->sku);
    hub_sqlite_bind_text(st, 2, it->barcode);
    i64(st, 3, it->price);
    i64(st, 4, it->unit_weight_g);
    i64(st, 5, it->min_qty);
    i64(st, 6, it->max_qty);
    i64(st, 7, it->reorder_point);
    i64(st, 8, it->lead_time_days);
    i64(st, 9, it->max_stock);
    return hub_sqlite_run(q, st, "catalog insert");
}

static depot_err catalog_version(struct sqlite_store *q, long long *version)
{
    sqlite3_stmt *st = prep(q, O_CAT_VERSION);
    depot_err err = hub_sqlite_one_row(q, st, "catalog version");
    *version = err == DEPOT_OK ? sqlite3_column_int64(st, 0) : 0;
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

static depot_err o_catalog_replace(hub_store *s, const struct hub_catalog_item *items, size_t n,
                                   long long at, long long *version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = hub_sqlite_run(q, prep(q, O_CAT_DELETE), "catalog delete");
    (void)at;
    for (size_t i = 0; err == DEPOT_OK && i < n; i++)
        err = insert_item(q, &items[i]);
    if (err == DEPOT_OK)
        err = hub_sqlite_run(q, prep(q, O_CAT_BUMP), "catalog version");
    return err == DEPOT_OK ? catalog_version(q, version) : err;
}

static depot_err o_catalog_list(hub_store *s, long long *version, hub_catalog_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    struct hub_catalog_item it;
    sqlite3_stmt *st;
    depot_err err = catalog_version(q, version);
    int rc;
    if (err != DEPOT_OK || !cb)
        return err;
    st = prep(q, O_CAT_LIST);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_item(st, &it);
        if (cb(arg, &it))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "catalog list");
}

static depot_err o_catalog_find(hub_store *s, const char *barcode, struct hub_catalog_item *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_CAT_FIND);
    depot_err err;
    hub_sqlite_bind_text(st, 1, barcode);
    err = hub_sqlite_one_row(q, st, "catalog find");
    if (err == DEPOT_OK) {
        read_item(st, out);
        sqlite3_reset(st);
    }
    return err;
}

static depot_err o_catalog_due(hub_store *s, long long version, hub_name_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_CAT_DUE);
    int rc;
    i64(st, 1, version);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "catalog due");
}

static depot_err o_catalog_sent(hub_store *s, const char *dealer, long long version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_CAT_SENT);
    hub_sqlite_bind_text(st, 1, dealer);
    i64(st, 2, version);
    return hub_sqlite_run(q, st, "catalog sent");
}

/* ---- dealers ---- */

static depot_err o_profile_get(hub_store *s, const char *dealer, struct hub_dealer_profile *p)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_PROF_GET);
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

static depot_err o_profile_put(hub_store *s, const struct hub_dealer_profile *p)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_PROF_PUT);
    hub_sqlite_bind_text(st, 1, p->dealer);
    hub_sqlite_bind_text(st, 2, p->name);
    hub_sqlite_bind_text(st, 3, p->region);
    if (p->has_location) {
        sqlite3_bind_double(st, 4, p->lat);
        sqlite3_bind_double(st, 5, p->lon);
    }
    hub_sqlite_bind_text(st, 6, p->tier);
    i64(st, 7, p->credit_limit);
    i64(st, 8, p->auto_approve_limit);
    hub_sqlite_bind_text(st, 9, p->contract_start);
    hub_sqlite_bind_text(st, 10, p->contract_end);
    return hub_sqlite_run(q, st, "profile put");
}

static depot_err o_sku_max_set(hub_store *s, const char *dealer, const char *sku, long long max)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, max < 0 ? O_SKUMAX_DEL : O_SKUMAX_SET);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    if (max >= 0)
        i64(st, 3, max);
    return hub_sqlite_run(q, st, "sku max");
}

static depot_err o_sku_max_clear(hub_store *s, const char *dealer)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SKUMAX_CLEAR);
    hub_sqlite_bind_text(st, 1, dealer);
    return hub_sqlite_run(q, st, "sku max clear");
}

static depot_err o_sku_max_list(hub_store *s, const char *dealer, hub_sku_max_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SKUMAX_LIST);
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, NULL);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), sqlite3_column_int64(st, 1)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "sku max list");
}

static depot_err o_dealer_get(hub_store *s, const char *dealer, hub_dealer_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_DEALER_GET);
    struct hub_dealer_row r;
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    err = hub_sqlite_one_row(q, st, "dealer");
    if (err != DEPOT_OK)
        return err;
    r.dealer = hub_sqlite_col(st, 0);
    r.online = sqlite3_column_int(st, 1) != 0;
    r.session = sqlite3_column_int64(st, 2);
    r.last_seen = sqlite3_column_int64(st, 3);
    r.first_seen = sqlite3_column_int64(st, 4);
    cb(arg, &r);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err o_stock_qty(hub_store *s, const char *dealer, const char *sku, long long *qty)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_STOCK_QTY);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    err = hub_sqlite_one_row(q, st, "stock qty");
    *qty = err == DEPOT_OK ? sqlite3_column_int64(st, 0) : 0;
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

/* ---- payments and exposure ---- */

static depot_err o_payment_add(hub_store *s, const char *dealer, long long amount,
                               const char *order, const char *ref, const char *actor, long long at,
                               long long *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_PAY_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    i64(st, 2, amount);
    hub_sqlite_bind_text(st, 3, order ? order : "");
    hub_sqlite_bind_text(st, 4, ref ? ref : "");
    hub_sqlite_bind_text(st, 5, actor);
    i64(st, 6, at);
    err = hub_sqlite_run(q, st, "payment");
    if (err == DEPOT_OK && id)
        *id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err sum_of(struct sqlite_store *q, enum ostmt id, const char *dealer, long long *out)
{
    sqlite3_stmt *st = prep(q, id);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    err = hub_sqlite_one_row(q, st, "sum");
    *out = err == DEPOT_OK ? sqlite3_column_int64(st, 0) : 0;
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err;
}

static depot_err o_exposure(hub_store *s, const char *dealer, struct hub_exposure *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = sum_of(q, O_EXP_APPROVED, dealer, &out->approved);
    if (err == DEPOT_OK)
        err = sum_of(q, O_EXP_PAID, dealer, &out->paid);
    out->open = out->approved > out->paid ? out->approved - out->paid : 0;
    return err;
}

/* ---- orders ---- */

static void bind_order(sqlite3_stmt *st, const struct hub_order *o)
{
    hub_sqlite_bind_text(st, 1, o->id);
    hub_sqlite_bind_text(st, 2, o->dealer);
    hub_sqlite_bind_text(st, 3, o->ledger);
    i64(st, 4, o->number);
    hub_sqlite_bind_text(st, 5, o->terminal);
    i64(st, 6, o->created);
    i64(st, 7, o->received_at);
    i64(st, 8, o->stage_since);
    i64(st, 9, o->decided_at);
    hub_sqlite_bind_text(st, 10, o->status);
    hub_sqlite_bind_text(st, 11, o->stage);
    hub_sqlite_bind_text(st, 12, o->reason);
    i64(st, 13, o->total);
}

static depot_err insert_line(struct sqlite_store *q, const char *order, int n,
                             const struct hub_order_line *l)
{
    sqlite3_stmt *st = prep(q, O_LINE_INSERT);
    hub_sqlite_bind_text(st, 1, order);
    i64(st, 2, n);
    hub_sqlite_bind_text(st, 3, l->barcode);
    hub_sqlite_bind_text(st, 4, l->sku);
    i64(st, 5, l->qty);
    i64(st, 6, l->unit_price);
    return hub_sqlite_run(q, st, "order line");
}

static depot_err o_order_insert(hub_store *s, const struct hub_order *o,
                                const struct hub_order_line *lines, size_t n, const char *doc,
                                const char *sig)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ORDER_INSERT);
    depot_err err;
    bind_order(st, o);
    hub_sqlite_bind_text(st, 14, doc ? doc : "");
    hub_sqlite_bind_text(st, 15, sig ? sig : "");
    err = hub_sqlite_run(q, st, "order insert");
    if (err == DEPOT_OK && sqlite3_changes(q->db) == 0)
        return DEPOT_ERR_DUPLICATE;
    for (size_t i = 0; err == DEPOT_OK && i < n; i++)
        err = insert_line(q, o->id, (int)i + 1, &lines[i]);
    return err;
}

static void read_order(sqlite3_stmt *st, struct hub_order *o)
{
    memset(o, 0, sizeof(*o));
    hub_sqlite_col_copy(st, 0, o->id, sizeof(o->id));
    hub_sqlite_col_copy(st, 1, o->dealer, sizeof(o->dealer));
    hub_sqlite_col_copy(st, 2, o->ledger, sizeof(o->ledger));
    o->number = sqlite3_column_int64(st, 3);
    hub_sqlite_col_copy(st, 4, o->terminal, sizeof(o->terminal));
    o->created = sqlite3_column_int64(st, 5);
    o->received_at = sqlite3_column_int64(st, 6);
    o->stage_since = sqlite3_column_int64(st, 7);
    o->decided_at = sqlite3_column_int64(st, 8);
    hub_sqlite_col_copy(st, 9, o->status, sizeof(o->status));
    hub_sqlite_col_copy(st, 10, o->stage, sizeof(o->stage));
    hub_sqlite_col_copy(st, 11, o->reason, sizeof(o->reason));
    o->total = sqlite3_column_int64(st, 12);
    o->escalated = sqlite3_column_int(st, 13) != 0;
    o->decision_seq = sqlite3_column_int64(st, 14);
    o->sent_seq = sqlite3_column_int64(st, 15);
    o->delivered_seq = sqlite3_column_int64(st, 16);
}

static depot_err o_order_get(hub_store *s, const char *id, struct hub_order *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ORDER_GET);
    depot_err err;
    hub_sqlite_bind_text(st, 1, id);
    err = hub_sqlite_one_row(q, st, "order");
    if (err == DEPOT_OK) {
        read_order(st, out);
        sqlite3_reset(st);
    }
    return err;
}

static depot_err o_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_LINES);
    struct hub_order_line l;
    int rc;
    hub_sqlite_bind_text(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        hub_sqlite_col_copy(st, 0, l.barcode, sizeof(l.barcode));
        hub_sqlite_col_copy(st, 1, l.sku, sizeof(l.sku));
        l.qty = sqlite3_column_int64(st, 2);
        l.unit_price = sqlite3_column_int64(st, 3);
        if (cb(arg, &l))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "order lines");
}

/* Walks a prepared order query. */
static depot_err order_walk(struct sqlite_store *q, sqlite3_stmt *st, hub_order_cb cb, void *arg)
{
    struct hub_order o;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_order(st, &o);
        if (cb(arg, &o))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "orders");
}

static depot_err o_orders_list(hub_store *s, const char *status, const char *dealer,
                               hub_order_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ORDERS_LIST);
    hub_sqlite_bind_text(st, 1, status);
    hub_sqlite_bind_text(st, 2, dealer);
    return order_walk(q, st, cb, arg);
}

static depot_err o_order_set_state(hub_store *s, const char *id, const char *status,
                                   const char *stage, const char *reason, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SET_STATE);
    depot_err err;
    hub_sqlite_bind_text(st, 1, id);
    hub_sqlite_bind_text(st, 2, status);
    hub_sqlite_bind_text(st, 3, stage);
    hub_sqlite_bind_text(st, 4, reason);
    i64(st, 5, at);
    err = hub_sqlite_run(q, st, "order state");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_NOTFOUND : err;
}

static depot_err o_order_escalate(hub_store *s, const char *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ESCALATE);
    hub_sqlite_bind_text(st, 1, id);
    return hub_sqlite_run(q, st, "escalate");
}

static depot_err o_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_OVERDUE);
    i64(st, 1, since_before);
    return order_walk(q, st, cb, arg);
}

static depot_err o_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_DUE);
    i64(st, 1, now);
    return order_walk(q, st, cb, arg);
}

static depot_err o_decision_sent(hub_store *s, const char *id, long long seq, long long next_send)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SENT);
    hub_sqlite_bind_text(st, 1, id);
    i64(st, 2, seq);
    i64(st, 3, next_send);
    return hub_sqlite_run(q, st, "decision sent");
}

static depot_err o_decision_confirm(hub_store *s, const char *dealer, const char *id,
                                    bool *confirmed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_CONFIRM);
    depot_err err;
    hub_sqlite_bind_text(st, 1, id);
    hub_sqlite_bind_text(st, 2, dealer);
    err = hub_sqlite_run(q, st, "decision confirm");
    *confirmed = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

static depot_err o_decisions_wake(hub_store *s, const char *dealer)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_WAKE);
    hub_sqlite_bind_text(st, 1, dealer);
    return hub_sqlite_run(q, st, "decisions wake");
}

static depot_err o_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                                size_t other_len)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_LEDGER_OWNER);
    depot_err err;
    hub_sqlite_bind_text(st, 1, ledger);
    hub_sqlite_bind_text(st, 2, dealer);
    err = hub_sqlite_one_row(q, st, "ledger owner");
    if (err == DEPOT_OK) {
        hub_sqlite_col_copy(st, 0, other, other_len);
        sqlite3_reset(st);
    }
    return err;
}

/* ---- audit and forged orders ---- */

static depot_err o_audit_add(hub_store *s, const struct hub_audit_entry *e)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_AUDIT_ADD);
    i64(st, 1, e->at);
    hub_sqlite_bind_text(st, 2, e->order ? e->order : "");
    hub_sqlite_bind_text(st, 3, e->dealer ? e->dealer : "");
    hub_sqlite_bind_text(st, 4, e->actor ? e->actor : "");
    hub_sqlite_bind_text(st, 5, e->action);
    hub_sqlite_bind_text(st, 6, e->stage ? e->stage : "");
    hub_sqlite_bind_text(st, 7, e->reason ? e->reason : "");
    return hub_sqlite_run(q, st, "audit");
}

static depot_err o_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_AUDIT_LIST);
    struct hub_audit_entry e;
    int rc;
    hub_sqlite_bind_text(st, 1, order);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e.seq = sqlite3_column_int64(st, 0);
        e.at = sqlite3_column_int64(st, 1);
        e.order = hub_sqlite_col(st, 2);
        e.dealer = hub_sqlite_col(st, 3);
        e.actor = hub_sqlite_col(st, 4);
        e.action = hub_sqlite_col(st, 5);
        e.stage = hub_sqlite_col(st, 6);
        e.reason = hub_sqlite_col(st, 7);
        if (cb(arg, &e))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "audit list");
}

static depot_err o_forged_add(hub_store *s, const struct hub_forged_entry *e)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_FORGED_ADD);
    i64(st, 1, e->at);
    hub_sqlite_bind_text(st, 2, e->dealer);
    hub_sqlite_bind_text(st, 3, e->ledger);
    i64(st, 4, (long long)e->msg_id);
    hub_sqlite_bind_text(st, 5, e->order ? e->order : "");
    hub_sqlite_bind_text(st, 6, e->reason);
    hub_sqlite_bind_text(st, 7, e->detail ? e->detail : "");
    return hub_sqlite_run(q, st, "forged order");
}

static depot_err o_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_FORGED_LIST);
    struct hub_forged_entry e;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e.at = sqlite3_column_int64(st, 0);
        e.dealer = hub_sqlite_col(st, 1);
        e.ledger = hub_sqlite_col(st, 2);
        e.msg_id = (uint64_t)sqlite3_column_int64(st, 3);
        e.order = hub_sqlite_col(st, 4);
        e.reason = hub_sqlite_col(st, 5);
        e.detail = hub_sqlite_col(st, 6);
        if (cb(arg, &e))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "forged list");
}

const struct hub_store_order_ops hub_sqlite_order_ops = {
    .catalog_replace = o_catalog_replace,
    .catalog_list = o_catalog_list,
    .catalog_find = o_catalog_find,
    .catalog_due = o_catalog_due,
    .catalog_sent = o_catalog_sent,
    .profile_get = o_profile_get,
    .profile_put = o_profile_put,
    .sku_max_set = o_sku_max_set,
    .sku_max_clear = o_sku_max_clear,
    .sku_max_list = o_sku_max_list,
    .dealer_get = o_dealer_get,
    .stock_qty = o_stock_qty,
    .payment_add = o_payment_add,
    .exposure = o_exposure,
    .order_insert = o_order_insert,
    .order_get = o_order_get,
    .order_lines = o_order_lines,
    .orders_list = o_orders_list,
    .order_set_state = o_order_set_state,
    .order_escalate = o_order_escalate,
    .orders_overdue = o_orders_overdue,
    .decisions_due = o_decisions_due,
    .decision_sent = o_decision_sent,
    .decision_confirm = o_decision_confirm,
    .decisions_wake = o_decisions_wake,
    .ledger_owner = o_ledger_owner,
    .audit_add = o_audit_add,
    .audit_list = o_audit_list,
    .forged_add = o_forged_add,
    .forged_list = o_forged_list,
};

depot_err hub_sqlite_orders_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "order schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, ledger_schema, "ledger owners");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, osql, O__COUNT, q->ost);
}

void hub_sqlite_orders_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->ost, O__COUNT);
}
