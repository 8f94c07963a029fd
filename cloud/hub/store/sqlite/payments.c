/*
 * Payments and the open exposure in the SQLite store.
 *
 *   payments        (id PK; dealer, amount, order_id, ref, actor, at)   append-only
 *   idempotency     (actor, key PK; request, status, body, at)          migration 11
 *
 * Exposure = approved orders' totals - payments (money in cents). A trigger
 * aborts any UPDATE or DELETE of a payment.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "store/sqlite/sqlite.h"

enum payments_stmt {
    P_PAY_ADD,
    P_EXP_APPROVED,
    P_EXP_PAID,
    P_IDEM_GET,
    P_IDEM_PUT,
    P_IDEM_PRUNE,
    P_COUNT
};
_Static_assert(P_COUNT <= SQ_PAYMENTS_STMTS, "raise SQ_PAYMENTS_STMTS");

static const char *const sql[P_COUNT] = {
    [P_PAY_ADD] = "INSERT INTO payments(dealer, amount, order_id, ref, actor, at) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [P_EXP_APPROVED] = "SELECT COALESCE(SUM(total), 0) FROM orders "
                       "WHERE dealer = ?1 AND status = 'approved'",
    [P_EXP_PAID] = "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE dealer = ?1",
    [P_IDEM_GET] =
        "SELECT request, status, body, at FROM idempotency WHERE actor = ?1 AND key = ?2",
    [P_IDEM_PUT] = "INSERT INTO idempotency(actor, key, request, status, body, at) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [P_IDEM_PRUNE] = "DELETE FROM idempotency WHERE at < ?1",
};

/* Migration 11 and the setup of every file since (idempotent). */
const char hub_sqlite_idempotency_schema[] =
    "CREATE TABLE IF NOT EXISTS idempotency(actor TEXT NOT NULL, key TEXT NOT NULL, "
    " request TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL, "
    " PRIMARY KEY(actor, key));"
    "CREATE INDEX IF NOT EXISTS idempotency_by_at ON idempotency(at);";

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS payments(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " dealer TEXT NOT NULL, amount INTEGER NOT NULL, order_id TEXT NOT NULL, ref TEXT NOT NULL, "
    " actor TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS payments_by_dealer ON payments(dealer);" HUB_SQLITE_APPEND_ONLY(
        "payments");

static sqlite3_stmt *prep(struct sqlite_store *q, enum payments_stmt id)
{
    return hub_sqlite_ready(q->payment_st[id]);
}

depot_err hub_sqlite_payment_add(hub_store *s, const char *dealer, long long amount,
                                 const char *order, const char *ref, const char *actor,
                                 long long at, long long *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_PAY_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, amount);
    hub_sqlite_bind_text(st, 3, order ? order : "");
    hub_sqlite_bind_text(st, 4, ref ? ref : "");
    hub_sqlite_bind_text(st, 5, actor);
    sqlite3_bind_int64(st, 6, at);
    err = hub_sqlite_run(q, st, "payment");
    if (err == DEPOT_OK && id)
        *id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err sum_of(struct sqlite_store *q, enum payments_stmt id, const char *dealer,
                        long long *out)
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

depot_err hub_sqlite_exposure(hub_store *s, const char *dealer, struct hub_exposure *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err;
    *out = (struct hub_exposure){0}; /* nothing read is ever a figure, even when a sum fails */
    err = sum_of(q, P_EXP_APPROVED, dealer, &out->approved);
    if (err == DEPOT_OK)
        err = sum_of(q, P_EXP_PAID, dealer, &out->paid);
    out->open = out->approved > out->paid ? out->approved - out->paid : 0;
    return err;
}

depot_err hub_sqlite_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                              void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_IDEM_GET);
    struct hub_idem_row row = {.actor = actor, .key = key};
    depot_err err;
    hub_sqlite_bind_text(st, 1, actor);
    hub_sqlite_bind_text(st, 2, key);
    err = hub_sqlite_one_row(q, st, "idempotency key");
    if (err != DEPOT_OK)
        return err;
    row.request = hub_sqlite_col(st, 0);
    row.status = sqlite3_column_int64(st, 1);
    row.body = hub_sqlite_col(st, 2);
    row.at = sqlite3_column_int64(st, 3);
    cb(arg, &row);
    sqlite3_reset(st);
    return DEPOT_OK;
}

depot_err hub_sqlite_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_IDEM_PRUNE);
    depot_err err;
    sqlite3_bind_int64(st, 1, prune_before);
    err = hub_sqlite_run(q, st, "idempotency prune");
    if (err != DEPOT_OK)
        return err;
    st = prep(q, P_IDEM_PUT);
    hub_sqlite_bind_text(st, 1, row->actor);
    hub_sqlite_bind_text(st, 2, row->key);
    hub_sqlite_bind_text(st, 3, row->request);
    sqlite3_bind_int64(st, 4, row->status);
    hub_sqlite_bind_text(st, 5, row->body);
    sqlite3_bind_int64(st, 6, row->at);
    return hub_sqlite_run(q, st, "idempotency key");
}

depot_err hub_sqlite_payments_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "payments schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, hub_sqlite_idempotency_schema, "idempotency schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, P_COUNT, q->payment_st);
}

void hub_sqlite_payments_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->payment_st, P_COUNT);
}
