/*
 * Payments and the open exposure in the PostgreSQL store (the PostgreSQL
 * version of store/sqlite/payments.c).
 *
 *   payments        (id PK; dealer, amount, order_id, ref, actor, at)   append-only
 *
 * Exposure = approved orders' totals - payments (money in cents). A trigger
 * aborts any UPDATE or DELETE of a payment.
 *
 * The id comes from an identity column: ids only grow, but one taken by a
 * transaction that rolled back is not given again (SQLite's AUTOINCREMENT
 * gives it again), so ids may have gaps.
 */
#include "store/pg/pg.h"

enum payments_stmt { P_PAY_ADD, P_EXP_APPROVED, P_EXP_PAID, P_COUNT };
_Static_assert(P_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

/* SUM of BIGINT is NUMERIC: cast back, so a sum out of range fails as it does on SQLite. */
static const char *const sql[P_COUNT] = {
    [P_PAY_ADD] = "INSERT INTO payments(dealer, amount, order_id, ref, actor, at) "
                  "VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
    [P_EXP_APPROVED] = "SELECT COALESCE(SUM(total), 0)::bigint FROM orders "
                       "WHERE dealer = $1 AND status = 'approved'",
    [P_EXP_PAID] = "SELECT COALESCE(SUM(amount), 0)::bigint FROM payments WHERE dealer = $1",
};

static const struct hub_pg_stmts stmts = {PG_T_PAYMENTS, P_COUNT, sql};

const char hub_pg_schema_payments[] =
    "CREATE TABLE payments(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, amount BIGINT NOT NULL, order_id " PG_TEXT " NOT NULL, "
    " ref " PG_TEXT " NOT NULL, actor " PG_TEXT " NOT NULL, at BIGINT NOT NULL);"
    "CREATE INDEX payments_by_dealer ON payments(dealer);" HUB_PG_APPEND_ONLY("payments");

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
