/*
 * Orders in the SQLite store: arrival, lines, state, the decision downlink's
 * bookkeeping, and which dealer owns each ledger id. This file also holds the
 * order domain's table of operations (hub_sqlite_order_ops), whose entries
 * live in catalog.c, dealers.c, payments.c, this file and audit.c, and sets
 * their tables up (hub_sqlite_orders_setup).
 *
 *   orders          (id PK; dealer, ledger, number, ..., status, stage, total,
 *                    decision_seq, sent_seq, delivered_seq, next_send, doc, sig)
 *   order_lines     (order_id, line PK; barcode, sku, qty, unit_price)
 *   ledger_owners   (ledger PK; dealer)         the first dealer seen with each ledger id
 *                   (a trigger on streams fills it; an order's ledger must be its dealer's)
 *
 * Invariants:
 *   1. delivered_seq <= sent_seq <= decision_seq. A decision is due for
 *      publishing while delivered_seq < decision_seq and next_send <= now;
 *      every new decision sets next_send = 0 (due at once).
 *   2. An order's lines and prices are written once, with the order, from
 *      the hub's catalog at the time it arrived.
 *   3. An order id is "<ledger>-<number>" of a ledger owned by the order's
 *      dealer, so ids are unique across dealers and id alone is the key.
 *
 * Optional filters are one statement each: "(?1 IS NULL OR col = ?1)" with
 * NULL bound when the filter is absent.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum orders_stmt {
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
    O_COUNT
};
_Static_assert(O_COUNT <= SQ_ORDERS_STMTS, "raise SQ_ORDERS_STMTS");

#define ORDER_COLS                                                                                 \
    "id, dealer, ledger, number, terminal, created, received_at, stage_since, decided_at, "        \
    "status, stage, reason, total, escalated, decision_seq, sent_seq, delivered_seq"

static const char *const sql[O_COUNT] = {
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
                      "(?2 IS NULL OR dealer = ?2) AND (?4 IS NULL OR received_at < ?3 OR "
                      "(received_at = ?3 AND id > ?4)) ORDER BY received_at DESC, id LIMIT ?5",
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
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, dealer TEXT NOT NULL, "
    " ledger TEXT NOT NULL, number INTEGER NOT NULL, terminal TEXT NOT NULL, "
    " created INTEGER NOT NULL, received_at INTEGER NOT NULL, stage_since INTEGER NOT NULL, "
    " decided_at INTEGER NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL, "
    " reason TEXT NOT NULL, total INTEGER NOT NULL, escalated INTEGER NOT NULL DEFAULT 0, "
    " decision_seq INTEGER NOT NULL DEFAULT 1, sent_seq INTEGER NOT NULL DEFAULT 0, "
    " delivered_seq INTEGER NOT NULL DEFAULT 0, next_send INTEGER NOT NULL DEFAULT 0, "
    " doc TEXT NOT NULL, sig TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS orders_by_dealer ON orders(dealer, status);"
    "CREATE INDEX IF NOT EXISTS orders_by_status ON orders(status, stage_since);"
    "CREATE INDEX IF NOT EXISTS orders_due ON orders(next_send) "
    " WHERE delivered_seq < decision_seq;"
    "CREATE TABLE IF NOT EXISTS order_lines(order_id TEXT NOT NULL, line INTEGER NOT NULL, "
    " barcode TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, "
    " unit_price INTEGER NOT NULL, PRIMARY KEY(order_id, line)) WITHOUT ROWID;";

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

static sqlite3_stmt *prep(struct sqlite_store *q, enum orders_stmt id)
{
    return hub_sqlite_ready(q->order_st[id]);
}

static void bind_order(sqlite3_stmt *st, const struct hub_order *o)
{
    hub_sqlite_bind_text(st, 1, o->id);
    hub_sqlite_bind_text(st, 2, o->dealer);
    hub_sqlite_bind_text(st, 3, o->ledger);
    sqlite3_bind_int64(st, 4, o->number);
    hub_sqlite_bind_text(st, 5, o->terminal);
    sqlite3_bind_int64(st, 6, o->created);
    sqlite3_bind_int64(st, 7, o->received_at);
    sqlite3_bind_int64(st, 8, o->stage_since);
    sqlite3_bind_int64(st, 9, o->decided_at);
    hub_sqlite_bind_text(st, 10, o->status);
    hub_sqlite_bind_text(st, 11, o->stage);
    hub_sqlite_bind_text(st, 12, o->reason);
    sqlite3_bind_int64(st, 13, o->total);
}

static depot_err insert_line(struct sqlite_store *q, const char *order, int n,
                             const struct hub_order_line *l)
{
    sqlite3_stmt *st = prep(q, O_LINE_INSERT);
    hub_sqlite_bind_text(st, 1, order);
    sqlite3_bind_int64(st, 2, n);
    hub_sqlite_bind_text(st, 3, l->barcode);
    hub_sqlite_bind_text(st, 4, l->sku);
    sqlite3_bind_int64(st, 5, l->qty);
    sqlite3_bind_int64(st, 6, l->unit_price);
    return hub_sqlite_run(q, st, "order line");
}

depot_err hub_sqlite_order_insert(hub_store *s, const struct hub_order *o,
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

depot_err hub_sqlite_order_get(hub_store *s, const char *id, struct hub_order *out)
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

depot_err hub_sqlite_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg)
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

depot_err hub_sqlite_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                                 void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ORDERS_LIST);
    hub_sqlite_bind_text(st, 1, f->status);
    hub_sqlite_bind_text(st, 2, f->dealer);
    sqlite3_bind_int64(st, 3, f->after_at);
    hub_sqlite_bind_text(st, 4, f->after_id);
    sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
    return order_walk(q, st, cb, arg);
}

depot_err hub_sqlite_order_set_state(hub_store *s, const char *id, const char *status,
                                     const char *stage, const char *reason, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SET_STATE);
    depot_err err;
    hub_sqlite_bind_text(st, 1, id);
    hub_sqlite_bind_text(st, 2, status);
    hub_sqlite_bind_text(st, 3, stage);
    hub_sqlite_bind_text(st, 4, reason);
    sqlite3_bind_int64(st, 5, at);
    err = hub_sqlite_run(q, st, "order state");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_NOTFOUND : err;
}

depot_err hub_sqlite_order_escalate(hub_store *s, const char *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_ESCALATE);
    hub_sqlite_bind_text(st, 1, id);
    return hub_sqlite_run(q, st, "escalate");
}

depot_err hub_sqlite_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb,
                                    void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_OVERDUE);
    sqlite3_bind_int64(st, 1, since_before);
    return order_walk(q, st, cb, arg);
}

depot_err hub_sqlite_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_DUE);
    sqlite3_bind_int64(st, 1, now);
    return order_walk(q, st, cb, arg);
}

depot_err hub_sqlite_decision_sent(hub_store *s, const char *id, long long seq, long long next_send)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_SENT);
    hub_sqlite_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, next_send);
    return hub_sqlite_run(q, st, "decision sent");
}

depot_err hub_sqlite_decision_confirm(hub_store *s, const char *dealer, const char *id,
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

depot_err hub_sqlite_decisions_wake(hub_store *s, const char *dealer)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, O_WAKE);
    hub_sqlite_bind_text(st, 1, dealer);
    return hub_sqlite_run(q, st, "decisions wake");
}

depot_err hub_sqlite_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
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

depot_err hub_sqlite_order_table_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "orders schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, ledger_schema, "ledger owners");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, O_COUNT, q->order_st);
}

void hub_sqlite_order_table_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->order_st, O_COUNT);
}

const struct hub_store_order_ops hub_sqlite_order_ops = {
    .catalog_replace = hub_sqlite_catalog_replace,
    .catalog_list = hub_sqlite_catalog_list,
    .catalog_find = hub_sqlite_catalog_find,
    .catalog_due = hub_sqlite_catalog_due,
    .catalog_sent = hub_sqlite_catalog_sent,
    .profile_get = hub_sqlite_profile_get,
    .profile_put = hub_sqlite_profile_put,
    .sku_max_set = hub_sqlite_sku_max_set,
    .sku_max_clear = hub_sqlite_sku_max_clear,
    .sku_max_list = hub_sqlite_sku_max_list,
    .dealer_get = hub_sqlite_dealer_get,
    .stock_qty = hub_sqlite_stock_qty,
    .payment_add = hub_sqlite_payment_add,
    .exposure = hub_sqlite_exposure,
    .idem_get = hub_sqlite_idem_get,
    .idem_put = hub_sqlite_idem_put,
    .order_insert = hub_sqlite_order_insert,
    .order_get = hub_sqlite_order_get,
    .order_lines = hub_sqlite_order_lines,
    .orders_list = hub_sqlite_orders_list,
    .order_set_state = hub_sqlite_order_set_state,
    .order_escalate = hub_sqlite_order_escalate,
    .orders_overdue = hub_sqlite_orders_overdue,
    .decisions_due = hub_sqlite_decisions_due,
    .decision_sent = hub_sqlite_decision_sent,
    .decision_confirm = hub_sqlite_decision_confirm,
    .decisions_wake = hub_sqlite_decisions_wake,
    .ledger_owner = hub_sqlite_ledger_owner,
    .audit_add = hub_sqlite_audit_add,
    .audit_list = hub_sqlite_audit_list,
    .forged_add = hub_sqlite_forged_add,
    .forged_list = hub_sqlite_forged_list,
};

depot_err hub_sqlite_orders_setup(struct sqlite_store *q)
{
    /* in this order: a file's statements read the tables of those before it */
    depot_err err = hub_sqlite_dealers_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_catalog_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_order_table_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_payments_setup(q);
    return err == DEPOT_OK ? hub_sqlite_audit_setup(q) : err;
}

void hub_sqlite_orders_free(struct sqlite_store *q)
{
    hub_sqlite_catalog_free(q);
    hub_sqlite_dealers_free(q);
    hub_sqlite_payments_free(q);
    hub_sqlite_order_table_free(q);
    hub_sqlite_audit_free(q);
}
