/*
 * Rebate statements and their disputes in SQLite (store/statements.h): migration 9.
 *
 *   statements (id INTEGER PK AUTOINCREMENT, ...; unique (dealer, period))
 *   disputes   (id INTEGER PK AUTOINCREMENT, ...; index (statement, id))
 *
 * A statement goes in with INSERT OR IGNORE on its unique (dealer, period),
 * so two closes of one period keep the first; the id is read back by that
 * key either way. An answer is one UPDATE guarded by answered_at = 0.
 */
#include <string.h>

#include "store/sqlite/sqlite.h"
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
    S__COUNT
};
_Static_assert(S__COUNT <= SQ_STATEMENT_STMTS, "raise SQ_STATEMENT_STMTS");

#define DISPUTE_COLS                                                                               \
    "id, statement, line, text, opened_by, opened_at, answer, answered_by, answered_at"

static const char *const sql[S__COUNT] = {
    [S_ADD] = "INSERT OR IGNORE INTO statements(dealer, period, created_at, content, sig, cert) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_ID] = "SELECT id FROM statements WHERE dealer = ?1 AND period = ?2",
    [S_GET] = "SELECT id, dealer, period, created_at, content, sig, cert FROM statements "
              "WHERE id = ?1",
    [S_LIST] = "SELECT id, dealer, period, created_at, '', sig, cert FROM statements "
               "WHERE (?1 IS NULL OR dealer = ?1) AND (?2 IS NULL OR period = ?2) "
               "ORDER BY period DESC, dealer",
    [S_PAYMENTS] = "SELECT id, at, amount, order_id, ref, dealer FROM payments "
                   "WHERE dealer = ?1 AND at >= ?2 AND at < ?3 ORDER BY at, id",
    [S_MOVES] = "SELECT ledger, mid, ts, node, sku, kind, delta, qty, dealer FROM movements "
                "WHERE dealer = ?1 AND sku = ?2 AND kind = ?3 AND ts >= ?4 AND ts < ?5 "
                "ORDER BY ts, ledger, mid",
    [S_PAY_PAGE] = "SELECT id, at, amount, order_id, ref, dealer FROM payments "
                   "WHERE (?1 IS NULL OR dealer = ?1) AND at >= ?2 AND at < ?3 AND id > ?4 "
                   "ORDER BY id LIMIT ?5",
    [S_MOVE_PAGE] = "SELECT ledger, mid, ts, node, sku, kind, delta, qty, dealer FROM movements "
                    "WHERE (?1 IS NULL OR dealer = ?1) AND ts >= ?2 AND ts < ?3 "
                    "AND (dealer, ledger, mid) > (?4, ?5, ?6) ORDER BY dealer, ledger, mid "
                    "LIMIT ?7",
    [S_DISPUTE_ADD] = "INSERT INTO disputes(statement, line, text, opened_by, opened_at, answer, "
                      "answered_by, answered_at) VALUES(?1, ?2, ?3, ?4, ?5, '', '', 0)",
    [S_ANSWER] = "UPDATE disputes SET answer = ?3, answered_by = ?4, answered_at = ?5 "
                 "WHERE id = ?2 AND statement = ?1 AND answered_at = 0",
    [S_DISPUTE_THERE] = "SELECT id FROM disputes WHERE id = ?2 AND statement = ?1",
    [S_DISPUTES] = "SELECT " DISPUTE_COLS " FROM disputes WHERE statement = ?1 ORDER BY id",
};

/* Migration 9 and the setup of every file since (idempotent). */
const char hub_sqlite_statements_schema[] =
    "CREATE TABLE IF NOT EXISTS statements(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " dealer TEXT NOT NULL, period TEXT NOT NULL, created_at INTEGER NOT NULL, "
    " content TEXT NOT NULL, sig TEXT NOT NULL, cert TEXT NOT NULL, UNIQUE(dealer, period));"
    "CREATE TABLE IF NOT EXISTS disputes(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " statement INTEGER NOT NULL, line TEXT NOT NULL, text TEXT NOT NULL, "
    " opened_by TEXT NOT NULL, opened_at INTEGER NOT NULL, answer TEXT NOT NULL, "
    " answered_by TEXT NOT NULL, answered_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS disputes_by_statement ON disputes(statement, id);";

static sqlite3_stmt *prep(struct sqlite_store *q, enum statement_stmt id)
{
    return hub_sqlite_ready(q->statement_st[id]);
}

static depot_err s_add(hub_store *s, const struct hub_statement *in, long long *id, bool *created)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, in->dealer);
    hub_sqlite_bind_text(st, 2, in->period);
    sqlite3_bind_int64(st, 3, in->created_at);
    hub_sqlite_bind_text(st, 4, in->content);
    hub_sqlite_bind_text(st, 5, in->sig);
    hub_sqlite_bind_text(st, 6, in->cert);
    err = hub_sqlite_run(q, st, "statement add");
    if (err != DEPOT_OK)
        return err;
    *created = sqlite3_changes(q->db) > 0;
    st = prep(q, S_ID);
    hub_sqlite_bind_text(st, 1, in->dealer);
    hub_sqlite_bind_text(st, 2, in->period);
    err = hub_sqlite_one_row(q, st, "statement id");
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err;
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static void read_statement(sqlite3_stmt *st, struct hub_statement *out)
{
    out->id = sqlite3_column_int64(st, 0);
    out->dealer = hub_sqlite_col(st, 1);
    out->period = hub_sqlite_col(st, 2);
    out->created_at = sqlite3_column_int64(st, 3);
    out->content = hub_sqlite_col(st, 4);
    out->sig = hub_sqlite_col(st, 5);
    out->cert = hub_sqlite_col(st, 6);
}

static depot_err s_get(hub_store *s, long long id, hub_statement_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_GET);
    struct hub_statement row;
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "statement");
    if (err != DEPOT_OK)
        return err;
    read_statement(st, &row);
    cb(arg, &row);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err s_list(hub_store *s, const char *dealer, const char *period, hub_statement_cb cb,
                        void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_LIST);
    struct hub_statement row;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, period);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_statement(st, &row);
        if (cb(arg, &row))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "statements");
}

/* Walks st (S_PAYMENTS or S_PAY_PAGE, bound) into cb. */
static depot_err walk_payments(struct sqlite_store *q, sqlite3_stmt *st, hub_payment_cb cb,
                               void *arg, const char *what)
{
    struct hub_payment_row row;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.id = sqlite3_column_int64(st, 0);
        row.at = sqlite3_column_int64(st, 1);
        row.amount = sqlite3_column_int64(st, 2);
        row.order = hub_sqlite_col(st, 3);
        row.ref = hub_sqlite_col(st, 4);
        row.dealer = hub_sqlite_col(st, 5);
        if (cb(arg, &row))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, what);
}

/* Walks st (S_MOVES or S_MOVE_PAGE, bound) into cb. */
static depot_err walk_moves(struct sqlite_store *q, sqlite3_stmt *st, hub_move_cb cb, void *arg,
                            const char *what)
{
    struct hub_move_row row;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.ledger = hub_sqlite_col(st, 0);
        row.mid = sqlite3_column_int64(st, 1);
        row.ts = sqlite3_column_int64(st, 2);
        row.node = hub_sqlite_col(st, 3);
        row.sku = hub_sqlite_col(st, 4);
        row.kind = hub_sqlite_col(st, 5);
        row.delta = sqlite3_column_int64(st, 6);
        row.qty = sqlite3_column_int64(st, 7);
        row.dealer = hub_sqlite_col(st, 8);
        if (cb(arg, &row))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err s_payments(hub_store *s, const char *dealer, long long from, long long to,
                            hub_payment_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_PAYMENTS);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    return walk_payments(q, st, cb, arg, "statement payments");
}

static depot_err s_moves(hub_store *s, const char *dealer, const char *sku, const char *kind,
                         long long from, long long to, hub_move_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_MOVES);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    hub_sqlite_bind_text(st, 3, kind);
    sqlite3_bind_int64(st, 4, from);
    sqlite3_bind_int64(st, 5, to);
    return walk_moves(q, st, cb, arg, "statement movements");
}

static depot_err s_payments_page(hub_store *s, const char *dealer, long long from, long long to,
                                 long long after, long long limit, hub_payment_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_PAY_PAGE);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, after);
    sqlite3_bind_int64(st, 5, limit);
    return walk_payments(q, st, cb, arg, "payments page");
}

static depot_err s_moves_page(hub_store *s, const char *dealer, long long from, long long to,
                              const struct hub_move_key *after, long long limit, hub_move_cb cb,
                              void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_MOVE_PAGE);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    hub_sqlite_bind_text(st, 4, after->dealer);
    hub_sqlite_bind_text(st, 5, after->ledger);
    sqlite3_bind_int64(st, 6, after->mid);
    sqlite3_bind_int64(st, 7, limit);
    return walk_moves(q, st, cb, arg, "movements page");
}

static depot_err s_dispute_add(hub_store *s, const struct hub_dispute *d, long long *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_DISPUTE_ADD);
    depot_err err;
    sqlite3_bind_int64(st, 1, d->statement);
    hub_sqlite_bind_text(st, 2, d->line);
    hub_sqlite_bind_text(st, 3, d->text);
    hub_sqlite_bind_text(st, 4, d->opened_by);
    sqlite3_bind_int64(st, 5, d->opened_at);
    err = hub_sqlite_run(q, st, "dispute add");
    if (err == DEPOT_OK)
        *id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err s_answer(hub_store *s, long long statement, long long id, const char *text,
                          const char *by, long long at, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_ANSWER);
    bool ch = false;
    depot_err err;
    sqlite3_bind_int64(st, 1, statement);
    sqlite3_bind_int64(st, 2, id);
    hub_sqlite_bind_text(st, 3, text);
    hub_sqlite_bind_text(st, 4, by);
    sqlite3_bind_int64(st, 5, at);
    err = hub_sqlite_run(q, st, "dispute answer");
    if (err == DEPOT_OK)
        ch = sqlite3_changes(q->db) > 0;
    if (changed)
        *changed = ch;
    if (err != DEPOT_OK || ch)
        return err;
    st = prep(q, S_DISPUTE_THERE);
    sqlite3_bind_int64(st, 1, statement);
    sqlite3_bind_int64(st, 2, id);
    err = hub_sqlite_one_row(q, st, "dispute");
    if (err == DEPOT_OK)
        sqlite3_reset(st);
    return err;
}

static depot_err s_disputes(hub_store *s, long long statement, hub_dispute_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, S_DISPUTES);
    struct hub_dispute d;
    int rc;
    sqlite3_bind_int64(st, 1, statement);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        d.id = sqlite3_column_int64(st, 0);
        d.statement = sqlite3_column_int64(st, 1);
        d.line = hub_sqlite_col(st, 2);
        d.text = hub_sqlite_col(st, 3);
        d.opened_by = hub_sqlite_col(st, 4);
        d.opened_at = sqlite3_column_int64(st, 5);
        d.answer = hub_sqlite_col(st, 6);
        d.answered_by = hub_sqlite_col(st, 7);
        d.answered_at = sqlite3_column_int64(st, 8);
        if (cb(arg, &d))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "disputes");
}

const struct hub_store_statement_ops hub_sqlite_statement_ops = {
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

depot_err hub_sqlite_statements_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_statements_schema, "statements schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, S__COUNT, q->statement_st);
}

void hub_sqlite_statements_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->statement_st, S__COUNT);
}
