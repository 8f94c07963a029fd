/*
 * Payments and the open exposure in the PostgreSQL store (the PostgreSQL
 * version of store/sqlite/payments.c).
 *
 *   payments        (id PK; dealer, amount, order_id, ref, actor, at)   append-only
 *   idempotency     (actor, key PK; request, status, body, at)          migration 11
 *
 * Exposure = approved orders' totals - payments (money in cents). A trigger
 * aborts any UPDATE or DELETE of a payment.
 *
 * The id comes from an identity column: ids only grow, but one taken by a
 * transaction that rolled back is not given again (SQLite's AUTOINCREMENT
 * gives it again), so ids may have gaps.
 */
#include "store/pg/pg.h"

enum payments_stmt {
    P_PAY_ADD,
    P_EXP_APPROVED,
    P_EXP_PAID,
    P_IDEM_GET,
    P_IDEM_PUT,
    P_IDEM_PRUNE,
    P_COUNT
};
_Static_assert(P_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

/* SUM of BIGINT is NUMERIC: cast back, so a sum out of range fails as it does on SQLite. */
static const char *const sql[P_COUNT] = {
    [P_PAY_ADD] = "INSERT INTO payments(dealer, amount, order_id, ref, actor, at) "
                  "VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
    [P_EXP_APPROVED] = "SELECT COALESCE(SUM(total), 0)::bigint FROM orders "
                       "WHERE dealer = $1 AND status = 'approved'",
    [P_EXP_PAID] = "SELECT COALESCE(SUM(amount), 0)::bigint FROM payments WHERE dealer = $1",
    [P_IDEM_GET] =
        "SELECT request, status, body, at FROM idempotency WHERE actor = $1 AND key = $2",
    [P_IDEM_PUT] = "INSERT INTO idempotency(actor, key, request, status, body, at) "
                   "VALUES($1, $2, $3, $4, $5, $6)",
    [P_IDEM_PRUNE] = "DELETE FROM idempotency WHERE at < $1",
};

static const struct hub_pg_stmts stmts = {PG_T_PAYMENTS, P_COUNT, sql};

const char hub_pg_schema_payments[] =
    "CREATE TABLE payments(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, amount BIGINT NOT NULL, order_id " PG_TEXT " NOT NULL, "
    " ref " PG_TEXT " NOT NULL, actor " PG_TEXT " NOT NULL, at BIGINT NOT NULL);"
    "CREATE INDEX payments_by_dealer ON payments(dealer);" HUB_PG_APPEND_ONLY("payments");

/* Migration 11. */
const char hub_pg_schema_idempotency[] =
    "CREATE TABLE idempotency(actor " PG_TEXT " NOT NULL, key " PG_TEXT " NOT NULL, "
    " request " PG_TEXT " NOT NULL, status BIGINT NOT NULL, body TEXT NOT NULL, "
    " at BIGINT NOT NULL, PRIMARY KEY(actor, key));"
    "CREATE INDEX idempotency_by_at ON idempotency(at);";

depot_err hub_pg_idem_get(hub_store *s, const char *actor, const char *key, hub_idem_cb cb,
                          void *arg)
{
    struct hub_idem_row row = {.actor = actor, .key = key};
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, actor);
    pgp_text(&p, key);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, P_IDEM_GET, &p, "idempotency key", &res);
    if (err != DEPOT_OK)
        return err;
    row.request = hub_pg_col(res, 0, 0);
    row.status = hub_pg_int(res, 0, 1);
    row.body = hub_pg_col(res, 0, 2);
    row.at = hub_pg_int(res, 0, 3);
    cb(arg, &row);
    PQclear(res);
    return DEPOT_OK;
}

depot_err hub_pg_idem_put(hub_store *s, const struct hub_idem_row *row, long long prune_before)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, prune_before);
    err = hub_pg_run(q, &stmts, P_IDEM_PRUNE, &p, "idempotency prune", NULL);
    if (err != DEPOT_OK)
        return err;
    pgp_reset(&p);
    pgp_text(&p, row->actor);
    pgp_text(&p, row->key);
    pgp_text(&p, row->request);
    pgp_int(&p, row->status);
    pgp_text(&p, row->body);
    pgp_int(&p, row->at);
    return hub_pg_run(q, &stmts, P_IDEM_PUT, &p, "idempotency key", NULL);
}

depot_err hub_pg_payment_add(hub_store *s, const char *dealer, long long amount, const char *order,
                             const char *ref, const char *actor, long long at, long long *id)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, amount);
    pgp_text(&p, order ? order : "");
    pgp_text(&p, ref ? ref : "");
    pgp_text(&p, actor);
    pgp_int(&p, at);
    err = hub_pg_one_row(q, &stmts, P_PAY_ADD, &p, "payment", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    if (id)
        *id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err sum_of(struct pg_store *q, enum payments_stmt id, const char *dealer,
                        long long *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    err = hub_pg_one_row(q, &stmts, id, &p, "sum", &res);
    *out = err == DEPOT_OK ? hub_pg_int(res, 0, 0) : 0;
    if (err == DEPOT_OK)
        PQclear(res);
    return err;
}

depot_err hub_pg_exposure(hub_store *s, const char *dealer, struct hub_exposure *out)
{
    struct pg_store *q = hub_pg_impl(s);
    depot_err err;
    *out = (struct hub_exposure){0}; /* nothing read is ever a figure, even when a sum fails */
    err = sum_of(q, P_EXP_APPROVED, dealer, &out->approved);
    if (err == DEPOT_OK)
        err = sum_of(q, P_EXP_PAID, dealer, &out->paid);
    out->open = out->approved > out->paid ? out->approved - out->paid : 0;
    return err;
}
