/*
 * Orders in the PostgreSQL store: arrival, lines, state, the decision
 * downlink's bookkeeping, and which dealer owns each ledger id (the
 * PostgreSQL version of store/sqlite/orders.c). This file also holds the
 * order domain's table of operations (hub_pg_order_ops), whose entries live
 * in catalog.c, dealers.c, payments.c, this file and audit.c; their tables
 * are created by the first migration (store/pg/schema.c), each file's
 * hub_pg_schema_* in turn.
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
 * Optional filters are one statement each: "($1::text IS NULL OR col = $1)"
 * with NULL sent when the filter is absent (the cast gives the parameter its
 * type where IS NULL alone could not).
 */
#include <string.h>

#include "store/pg/pg.h"

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
_Static_assert(O_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define ORDER_COLS                                                                                 \
    "id, dealer, ledger, number, terminal, created, received_at, stage_since, decided_at, "        \
    "status, stage, reason, total, escalated, decision_seq, sent_seq, delivered_seq"

static const char *const sql[O_COUNT] = {
    [O_ORDER_INSERT] = "INSERT INTO orders(id, dealer, ledger, number, terminal, created, "
                       "received_at, stage_since, decided_at, status, stage, reason, total, doc, "
                       "sig) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                       "$15) ON CONFLICT(id) DO NOTHING",
    [O_LINE_INSERT] = "INSERT INTO order_lines(order_id, line, barcode, sku, qty, unit_price) "
                      "VALUES($1, $2, $3, $4, $5, $6)",
    [O_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE id = $1",
    [O_LINES] = "SELECT barcode, sku, qty, unit_price FROM order_lines WHERE order_id = $1 "
                "ORDER BY line",
    [O_ORDERS_LIST] = "SELECT " ORDER_COLS " FROM orders WHERE ($1::text IS NULL OR status = $1) "
                      "AND ($2::text IS NULL OR dealer = $2) AND ($4::text IS NULL OR "
                      "received_at < $3::bigint OR (received_at = $3::bigint AND id > $4)) "
                      "ORDER BY received_at DESC, id LIMIT $5::bigint",
    [O_SET_STATE] =
        "UPDATE orders SET status = $2, stage = $3, reason = $4, stage_since = $5, "
        "decided_at = CASE WHEN $2 = 'pending' THEN 0 ELSE $5::bigint END, escalated = 0, "
        "decision_seq = decision_seq + 1, next_send = 0 WHERE id = $1",
    [O_ESCALATE] = "UPDATE orders SET escalated = 1 WHERE id = $1",
    [O_OVERDUE] = "SELECT " ORDER_COLS " FROM orders WHERE status = 'pending' AND escalated = 0 "
                  "AND stage_since < $1 ORDER BY stage_since LIMIT 1000",
    [O_DUE] = "SELECT " ORDER_COLS " FROM orders WHERE delivered_seq < decision_seq AND "
              "next_send <= $1 ORDER BY next_send LIMIT 1000",
    [O_SENT] = "UPDATE orders SET sent_seq = GREATEST(sent_seq, $2), next_send = $3 "
               "WHERE id = $1",
    [O_CONFIRM] = "UPDATE orders SET delivered_seq = sent_seq WHERE id = $1 AND dealer = $2 AND "
                  "delivered_seq < sent_seq",
    [O_WAKE] = "UPDATE orders SET next_send = 0 WHERE dealer = $1 AND delivered_seq < decision_seq",
    /* the second part (a ledger no dealer owns, another dealer used it) is the case of an older
     * SQLite database; it never matches here but keeps the query as the interface states it */
    [O_LEDGER_OWNER] =
        "SELECT dealer FROM ledger_owners WHERE ledger = $1 AND dealer <> $2 UNION ALL "
        "SELECT dealer FROM streams WHERE ledger = $1 AND dealer <> $2 AND NOT EXISTS "
        "(SELECT 1 FROM ledger_owners WHERE ledger = $1) LIMIT 1",
};

static const struct hub_pg_stmts stmts = {PG_T_ORDERS, O_COUNT, sql};

/*
 * The dealer of each ledger id: the first seen with it (after the main
 * schema's streams). There is no database from before the table on
 * PostgreSQL, so the trigger has seen every stream.
 */
const char hub_pg_schema_orders[] =
    "CREATE TABLE orders(id " PG_TEXT " PRIMARY KEY, dealer " PG_TEXT " NOT NULL, "
    " ledger " PG_TEXT " NOT NULL, number BIGINT NOT NULL, terminal " PG_TEXT " NOT NULL, "
    " created BIGINT NOT NULL, received_at BIGINT NOT NULL, stage_since BIGINT NOT NULL, "
    " decided_at BIGINT NOT NULL, status " PG_TEXT " NOT NULL, stage " PG_TEXT " NOT NULL, "
    " reason " PG_TEXT " NOT NULL, total BIGINT NOT NULL, escalated BIGINT NOT NULL DEFAULT 0, "
    " decision_seq BIGINT NOT NULL DEFAULT 1, sent_seq BIGINT NOT NULL DEFAULT 0, "
    " delivered_seq BIGINT NOT NULL DEFAULT 0, next_send BIGINT NOT NULL DEFAULT 0, "
    " doc " PG_TEXT " NOT NULL, sig " PG_TEXT " NOT NULL);"
    "CREATE INDEX orders_by_dealer ON orders(dealer, status);"
    "CREATE INDEX orders_by_status ON orders(status, stage_since);"
    "CREATE INDEX orders_due ON orders(next_send) WHERE delivered_seq < decision_seq;"
    "CREATE TABLE order_lines(order_id " PG_TEXT " NOT NULL, line BIGINT NOT NULL, "
    " barcode " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, qty BIGINT NOT NULL, "
    " unit_price BIGINT NOT NULL, PRIMARY KEY(order_id, line));"
    "CREATE TABLE ledger_owners(ledger " PG_TEXT " PRIMARY KEY, dealer " PG_TEXT " NOT NULL);"
    "CREATE FUNCTION depot_ledger_first_owner() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
    " INSERT INTO ledger_owners(ledger, dealer) VALUES(NEW.ledger, NEW.dealer) "
    " ON CONFLICT(ledger) DO NOTHING; RETURN NULL; END $fn$;"
    "CREATE TRIGGER ledger_first_owner AFTER INSERT ON streams "
    " FOR EACH ROW EXECUTE FUNCTION depot_ledger_first_owner();";

static void put_order(struct pg_params *p, const struct hub_order *o)
{
    pgp_reset(p);
    pgp_text(p, o->id);
    pgp_text(p, o->dealer);
    pgp_text(p, o->ledger);
    pgp_int(p, o->number);
    pgp_text(p, o->terminal);
    pgp_int(p, o->created);
    pgp_int(p, o->received_at);
    pgp_int(p, o->stage_since);
    pgp_int(p, o->decided_at);
    pgp_text(p, o->status);
    pgp_text(p, o->stage);
    pgp_text(p, o->reason);
    pgp_int(p, o->total);
}

static depot_err insert_line(struct pg_store *q, const char *order, int n,
                             const struct hub_order_line *l)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, order);
    pgp_int(&p, n);
    pgp_text(&p, l->barcode);
    pgp_text(&p, l->sku);
    pgp_int(&p, l->qty);
    pgp_int(&p, l->unit_price);
    return hub_pg_run(q, &stmts, O_LINE_INSERT, &p, "order line", NULL);
}

depot_err hub_pg_order_insert(hub_store *s, const struct hub_order *o,
                              const struct hub_order_line *lines, size_t n, const char *doc,
                              const char *sig)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    long long changed;
    depot_err err;
    put_order(&p, o);
    pgp_text(&p, doc ? doc : "");
    pgp_text(&p, sig ? sig : "");
    err = hub_pg_run(q, &stmts, O_ORDER_INSERT, &p, "order insert", &changed);
    if (err == DEPOT_OK && changed == 0)
        return DEPOT_ERR_DUPLICATE;
    for (size_t i = 0; err == DEPOT_OK && i < n; i++)
        err = insert_line(q, o->id, (int)i + 1, &lines[i]);
    return err;
}

static void read_order(const PGresult *res, int r, struct hub_order *o)
{
    memset(o, 0, sizeof(*o));
    hub_pg_col_copy(res, r, 0, o->id, sizeof(o->id));
    hub_pg_col_copy(res, r, 1, o->dealer, sizeof(o->dealer));
    hub_pg_col_copy(res, r, 2, o->ledger, sizeof(o->ledger));
    o->number = hub_pg_int(res, r, 3);
    hub_pg_col_copy(res, r, 4, o->terminal, sizeof(o->terminal));
    o->created = hub_pg_int(res, r, 5);
    o->received_at = hub_pg_int(res, r, 6);
    o->stage_since = hub_pg_int(res, r, 7);
    o->decided_at = hub_pg_int(res, r, 8);
    hub_pg_col_copy(res, r, 9, o->status, sizeof(o->status));
    hub_pg_col_copy(res, r, 10, o->stage, sizeof(o->stage));
    hub_pg_col_copy(res, r, 11, o->reason, sizeof(o->reason));
    o->total = hub_pg_int(res, r, 12);
    o->escalated = hub_pg_int(res, r, 13) != 0;
    o->decision_seq = hub_pg_int(res, r, 14);
    o->sent_seq = hub_pg_int(res, r, 15);
    o->delivered_seq = hub_pg_int(res, r, 16);
}

/* Starts p with the one text parameter $1. */
static void one_text(struct pg_params *p, const char *v)
{
    pgp_reset(p);
    pgp_text(p, v);
}

depot_err hub_pg_order_get(hub_store *s, const char *id, struct hub_order *out)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    PGresult *res;
    depot_err err;
    one_text(&p, id);
    err = hub_pg_one_row(q, &stmts, O_ORDER_GET, &p, "order", &res);
    if (err == DEPOT_OK) {
        read_order(res, 0, out);
        PQclear(res);
    }
    return err;
}

struct line_walk {
    hub_line_cb cb;
    void *arg;
};

static int line_row(void *arg, const PGresult *res, int r)
{
    struct line_walk *w = arg;
    struct hub_order_line l;
    hub_pg_col_copy(res, r, 0, l.barcode, sizeof(l.barcode));
    hub_pg_col_copy(res, r, 1, l.sku, sizeof(l.sku));
    l.qty = hub_pg_int(res, r, 2);
    l.unit_price = hub_pg_int(res, r, 3);
    return w->cb(w->arg, &l);
}

depot_err hub_pg_order_lines(hub_store *s, const char *id, hub_line_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct line_walk w = {cb, arg};
    struct pg_params p;
    one_text(&p, id);
    return hub_pg_walk(q, &stmts, O_LINES, &p, "order lines", line_row, &w);
}

struct order_walk {
    hub_order_cb cb;
    void *arg;
};

static int order_row(void *arg, const PGresult *res, int r)
{
    struct order_walk *w = arg;
    struct hub_order o;
    read_order(res, r, &o);
    return w->cb(w->arg, &o);
}

/* Walks order query idx with parameters p. */
static depot_err order_walk(struct pg_store *q, enum orders_stmt idx, const struct pg_params *p,
                            hub_order_cb cb, void *arg)
{
    struct order_walk w = {cb, arg};
    return hub_pg_walk(q, &stmts, idx, p, "orders", order_row, &w);
}

depot_err hub_pg_orders_list(hub_store *s, const struct hub_order_filter *f, hub_order_cb cb,
                             void *arg)
{
    struct pg_params p;
    one_text(&p, f->status);
    pgp_text(&p, f->dealer);
    pgp_int(&p, f->after_at);
    pgp_text(&p, f->after_id);
    if (f->limit > 0)
        pgp_int(&p, f->limit);
    else
        pgp_text(&p, NULL); /* LIMIT NULL: every row */
    return order_walk(hub_pg_impl(s), O_ORDERS_LIST, &p, cb, arg);
}

depot_err hub_pg_order_set_state(hub_store *s, const char *id, const char *status,
                                 const char *stage, const char *reason, long long at)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    long long changed;
    depot_err err;
    one_text(&p, id);
    pgp_text(&p, status);
    pgp_text(&p, stage);
    pgp_text(&p, reason);
    pgp_int(&p, at);
    err = hub_pg_run(q, &stmts, O_SET_STATE, &p, "order state", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_NOTFOUND : err;
}

depot_err hub_pg_order_escalate(hub_store *s, const char *id)
{
    struct pg_params p;
    one_text(&p, id);
    return hub_pg_run(hub_pg_impl(s), &stmts, O_ESCALATE, &p, "escalate", NULL);
}

depot_err hub_pg_orders_overdue(hub_store *s, long long since_before, hub_order_cb cb, void *arg)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, since_before);
    return order_walk(hub_pg_impl(s), O_OVERDUE, &p, cb, arg);
}

depot_err hub_pg_decisions_due(hub_store *s, long long now, hub_order_cb cb, void *arg)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, now);
    return order_walk(hub_pg_impl(s), O_DUE, &p, cb, arg);
}

depot_err hub_pg_decision_sent(hub_store *s, const char *id, long long seq, long long next_send)
{
    struct pg_params p;
    one_text(&p, id);
    pgp_int(&p, seq);
    pgp_int(&p, next_send);
    return hub_pg_run(hub_pg_impl(s), &stmts, O_SENT, &p, "decision sent", NULL);
}

depot_err hub_pg_decision_confirm(hub_store *s, const char *dealer, const char *id, bool *confirmed)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    one_text(&p, id);
    pgp_text(&p, dealer);
    err = hub_pg_run(hub_pg_impl(s), &stmts, O_CONFIRM, &p, "decision confirm", &changed);
    *confirmed = err == DEPOT_OK && changed > 0;
    return err;
}

depot_err hub_pg_decisions_wake(hub_store *s, const char *dealer)
{
    struct pg_params p;
    one_text(&p, dealer);
    return hub_pg_run(hub_pg_impl(s), &stmts, O_WAKE, &p, "decisions wake", NULL);
}

depot_err hub_pg_ledger_owner(hub_store *s, const char *dealer, const char *ledger, char *other,
                              size_t other_len)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    PGresult *res;
    depot_err err;
    one_text(&p, ledger);
    pgp_text(&p, dealer);
    err = hub_pg_one_row(q, &stmts, O_LEDGER_OWNER, &p, "ledger owner", &res);
    if (err == DEPOT_OK) {
        hub_pg_col_copy(res, 0, 0, other, other_len);
        PQclear(res);
    }
    return err;
}

const struct hub_store_order_ops hub_pg_order_ops = {
    .catalog_replace = hub_pg_catalog_replace,
    .catalog_list = hub_pg_catalog_list,
    .catalog_find = hub_pg_catalog_find,
    .catalog_due = hub_pg_catalog_due,
    .catalog_sent = hub_pg_catalog_sent,
    .profile_get = hub_pg_profile_get,
    .profile_put = hub_pg_profile_put,
    .sku_max_set = hub_pg_sku_max_set,
    .sku_max_clear = hub_pg_sku_max_clear,
    .sku_max_list = hub_pg_sku_max_list,
    .dealer_get = hub_pg_dealer_get,
    .stock_qty = hub_pg_stock_qty,
    .payment_add = hub_pg_payment_add,
    .exposure = hub_pg_exposure,
    .idem_get = hub_pg_idem_get,
    .idem_put = hub_pg_idem_put,
    .order_insert = hub_pg_order_insert,
    .order_get = hub_pg_order_get,
    .order_lines = hub_pg_order_lines,
    .orders_list = hub_pg_orders_list,
    .order_set_state = hub_pg_order_set_state,
    .order_escalate = hub_pg_order_escalate,
    .orders_overdue = hub_pg_orders_overdue,
    .decisions_due = hub_pg_decisions_due,
    .decision_sent = hub_pg_decision_sent,
    .decision_confirm = hub_pg_decision_confirm,
    .decisions_wake = hub_pg_decisions_wake,
    .ledger_owner = hub_pg_ledger_owner,
    .audit_add = hub_pg_audit_add,
    .audit_list = hub_pg_audit_list,
    .forged_add = hub_pg_forged_add,
    .forged_list = hub_pg_forged_list,
};
