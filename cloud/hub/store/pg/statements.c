/*
 * The statement domain of the PostgreSQL store (store/statements.h; the
 * PostgreSQL version of store/sqlite/statements.c). The tables are created
 * by migration 9 (store/pg/schema.c); it also reads
 * movements (migration 10, store/pg/alerts.c). Differences of form only: ids come
 * from identity columns (ids may have gaps), and a statement goes in with
 * ON CONFLICT (dealer, period) DO NOTHING.
 */
#include <string.h>

#include "store/pg/pg.h"
#include "store/statements.h"

enum statement_stmt {
    S_ADD,
    S_ID,
    S_GET,
    S_LIST,
    S_PAYMENTS,
    S_MOVES,
    S_PAY_PAGE,
    S_MOVE_PAGE,
    S_DISPUTE_ADD,
    S_ANSWER,
    S_DISPUTE_THERE,
    S_DISPUTES,
    S_COUNT
};
_Static_assert(S_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define DISPUTE_COLS                                                                               \
    "id, statement, line, text, opened_by, opened_at, answer, answered_by, answered_at"

static const char *const sql[S_COUNT] = {
    [S_ADD] = "INSERT INTO statements(dealer, period, created_at, content, sig, cert) "
              "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (dealer, period) DO NOTHING",
    [S_ID] = "SELECT id FROM statements WHERE dealer = $1 AND period = $2",
    [S_GET] = "SELECT id, dealer, period, created_at, content, sig, cert FROM statements "
              "WHERE id = $1",
    [S_LIST] = "SELECT id, dealer, period, created_at, '', sig, cert FROM statements "
               "WHERE ($1::text IS NULL OR dealer = $1) AND ($2::text IS NULL OR period = $2) "
               "ORDER BY period DESC, dealer",
    [S_PAYMENTS] = "SELECT id, at, amount, order_id, ref, dealer FROM payments "
                   "WHERE dealer = $1 AND at >= $2 AND at < $3 ORDER BY at, id",
    [S_MOVES] = "SELECT ledger, mid, ts, node, sku, kind, delta, qty, dealer FROM movements "
                "WHERE dealer = $1 AND sku = $2 AND kind = $3 AND ts >= $4 AND ts < $5 "
                "ORDER BY ts, ledger, mid",
    [S_PAY_PAGE] = "SELECT id, at, amount, order_id, ref, dealer FROM payments "
                   "WHERE ($1::text IS NULL OR dealer = $1) AND at >= $2 AND at < $3 AND id > $4 "
                   "ORDER BY id LIMIT $5",
    [S_MOVE_PAGE] = "SELECT ledger, mid, ts, node, sku, kind, delta, qty, dealer FROM movements "
                    "WHERE ($1::text IS NULL OR dealer = $1) AND ts >= $2 AND ts < $3 "
                    "AND (dealer, ledger, mid) > ($4, $5, $6) ORDER BY dealer, ledger, mid "
                    "LIMIT $7",
    [S_DISPUTE_ADD] = "INSERT INTO disputes(statement, line, text, opened_by, opened_at, answer, "
                      "answered_by, answered_at) VALUES($1, $2, $3, $4, $5, '', '', 0) "
                      "RETURNING id",
    [S_ANSWER] = "UPDATE disputes SET answer = $3, answered_by = $4, answered_at = $5 "
                 "WHERE id = $2 AND statement = $1 AND answered_at = 0",
    [S_DISPUTE_THERE] = "SELECT id FROM disputes WHERE id = $2 AND statement = $1",
    [S_DISPUTES] = "SELECT " DISPUTE_COLS " FROM disputes WHERE statement = $1 ORDER BY id",
};

static const struct hub_pg_stmts stmts = {PG_T_STATEMENTS, S_COUNT, sql};

/* Migration 9. */
const char hub_pg_schema_statements[] =
    "CREATE TABLE statements(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, period " PG_TEXT " NOT NULL, created_at BIGINT NOT NULL, "
    " content " PG_TEXT " NOT NULL, sig " PG_TEXT " NOT NULL, cert " PG_TEXT " NOT NULL, "
    " UNIQUE(dealer, period));"
    "CREATE TABLE disputes(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " statement BIGINT NOT NULL, line " PG_TEXT " NOT NULL, text " PG_TEXT " NOT NULL, "
    " opened_by " PG_TEXT " NOT NULL, opened_at BIGINT NOT NULL, answer " PG_TEXT " NOT NULL, "
    " answered_by " PG_TEXT " NOT NULL, answered_at BIGINT NOT NULL);"
    "CREATE INDEX disputes_by_statement ON disputes(statement, id);";

static depot_err s_add(hub_store *s, const struct hub_statement *in, long long *id, bool *created)
{
    struct pg_params p;
    PGresult *res;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, in->dealer);
    pgp_text(&p, in->period);
    pgp_int(&p, in->created_at);
    pgp_text(&p, in->content);
    pgp_text(&p, in->sig);
    pgp_text(&p, in->cert);
    err = hub_pg_run(hub_pg_impl(s), &stmts, S_ADD, &p, "statement add", &n);
    if (err != DEPOT_OK)
        return err;
    *created = n > 0;
    pgp_reset(&p);
    pgp_text(&p, in->dealer);
    pgp_text(&p, in->period);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, S_ID, &p, "statement id", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err;
    *id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static void read_statement(const PGresult *res, int r, struct hub_statement *out)
{
    out->id = hub_pg_int(res, r, 0);
    out->dealer = hub_pg_col(res, r, 1);
    out->period = hub_pg_col(res, r, 2);
    out->created_at = hub_pg_int(res, r, 3);
    out->content = hub_pg_col(res, r, 4);
    out->sig = hub_pg_col(res, r, 5);
    out->cert = hub_pg_col(res, r, 6);
}

static depot_err s_get(hub_store *s, long long id, hub_statement_cb cb, void *arg)
{
    struct pg_params p;
    struct hub_statement row;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, S_GET, &p, "statement", &res);
    if (err != DEPOT_OK)
        return err;
    read_statement(res, 0, &row);
    cb(arg, &row);
    PQclear(res);
    return DEPOT_OK;
}

struct walk {
    hub_statement_cb statement;
    hub_payment_cb payment;
    hub_move_cb move;
    hub_dispute_cb dispute;
    void *arg;
};

static int statement_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_statement row;
    read_statement(res, r, &row);
    return w->statement(w->arg, &row);
}

static depot_err s_list(hub_store *s, const char *dealer, const char *period, hub_statement_cb cb,
                        void *arg)
{
    struct pg_params p;
    struct walk w = {.statement = cb, .arg = arg};
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_text(&p, period);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_LIST, &p, "statements", statement_row, &w);
}

static int payment_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_payment_row row = {
        .id = hub_pg_int(res, r, 0),
        .at = hub_pg_int(res, r, 1),
        .amount = hub_pg_int(res, r, 2),
        .order = hub_pg_col(res, r, 3),
        .ref = hub_pg_col(res, r, 4),
        .dealer = hub_pg_col(res, r, 5),
    };
    return w->payment(w->arg, &row);
}

static depot_err s_payments(hub_store *s, const char *dealer, long long from, long long to,
                            hub_payment_cb cb, void *arg)
{
    struct pg_params p;
    struct walk w = {.payment = cb, .arg = arg};
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, from);
    pgp_int(&p, to);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_PAYMENTS, &p, "statement payments", payment_row,
                       &w);
}

static int move_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_move_row row = {
        .ledger = hub_pg_col(res, r, 0),
        .mid = hub_pg_int(res, r, 1),
        .ts = hub_pg_int(res, r, 2),
        .node = hub_pg_col(res, r, 3),
        .sku = hub_pg_col(res, r, 4),
        .kind = hub_pg_col(res, r, 5),
        .delta = hub_pg_int(res, r, 6),
        .qty = hub_pg_int(res, r, 7),
        .dealer = hub_pg_col(res, r, 8),
    };
    return w->move(w->arg, &row);
}

static depot_err s_moves(hub_store *s, const char *dealer, const char *sku, const char *kind,
                         long long from, long long to, hub_move_cb cb, void *arg)
{
    struct pg_params p;
    struct walk w = {.move = cb, .arg = arg};
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_text(&p, kind);
    pgp_int(&p, from);
    pgp_int(&p, to);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_MOVES, &p, "statement movements", move_row, &w);
}

static depot_err s_payments_page(hub_store *s, const char *dealer, long long from, long long to,
                                 long long after, long long limit, hub_payment_cb cb, void *arg)
{
    struct pg_params p;
    struct walk w = {.payment = cb, .arg = arg};
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, from);
    pgp_int(&p, to);
    pgp_int(&p, after);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_PAY_PAGE, &p, "payments page", payment_row, &w);
}

static depot_err s_moves_page(hub_store *s, const char *dealer, long long from, long long to,
                              const struct hub_move_key *after, long long limit, hub_move_cb cb,
                              void *arg)
{
    struct pg_params p;
    struct walk w = {.move = cb, .arg = arg};
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, from);
    pgp_int(&p, to);
    pgp_text(&p, after->dealer);
    pgp_text(&p, after->ledger);
    pgp_int(&p, after->mid);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_MOVE_PAGE, &p, "movements page", move_row, &w);
}

static depot_err s_dispute_add(hub_store *s, const struct hub_dispute *d, long long *id)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, d->statement);
    pgp_text(&p, d->line);
    pgp_text(&p, d->text);
    pgp_text(&p, d->opened_by);
    pgp_int(&p, d->opened_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, S_DISPUTE_ADD, &p, "dispute add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    *id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err s_answer(hub_store *s, long long statement, long long id, const char *text,
                          const char *by, long long at, bool *changed)
{
    struct pg_params p;
    PGresult *res;
    long long n = 0;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, statement);
    pgp_int(&p, id);
    pgp_text(&p, text);
    pgp_text(&p, by);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, S_ANSWER, &p, "dispute answer", &n);
    if (changed)
        *changed = err == DEPOT_OK && n > 0;
    if (err != DEPOT_OK || n > 0)
        return err;
    pgp_reset(&p);
    pgp_int(&p, statement);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, S_DISPUTE_THERE, &p, "dispute", &res);
    if (err == DEPOT_OK)
        PQclear(res);
    return err;
}

static int dispute_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_dispute d = {
        .id = hub_pg_int(res, r, 0),
        .statement = hub_pg_int(res, r, 1),
        .line = hub_pg_col(res, r, 2),
        .text = hub_pg_col(res, r, 3),
        .opened_by = hub_pg_col(res, r, 4),
        .opened_at = hub_pg_int(res, r, 5),
        .answer = hub_pg_col(res, r, 6),
        .answered_by = hub_pg_col(res, r, 7),
        .answered_at = hub_pg_int(res, r, 8),
    };
    return w->dispute(w->arg, &d);
}

static depot_err s_disputes(hub_store *s, long long statement, hub_dispute_cb cb, void *arg)
{
    struct pg_params p;
    struct walk w = {.dispute = cb, .arg = arg};
    pgp_reset(&p);
    pgp_int(&p, statement);
    return hub_pg_walk(hub_pg_impl(s), &stmts, S_DISPUTES, &p, "disputes", dispute_row, &w);
}

const struct hub_store_statement_ops hub_pg_statement_ops = {
    .add = s_add,
    .get = s_get,
    .list = s_list,
    .payments = s_payments,
    .moves = s_moves,
    .payments_page = s_payments_page,
    .moves_page = s_moves_page,
    .dispute_add = s_dispute_add,
    .dispute_answer = s_answer,
    .disputes = s_disputes,
};
