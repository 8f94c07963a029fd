/*
 * The audit trail and the forged orders in the PostgreSQL store, both
 * append-only (triggers abort any UPDATE or DELETE, so not even a bug in the
 * hub can rewrite history); the PostgreSQL version of store/sqlite/audit.c.
 *
 *   audit           (seq PK; at, order_id, dealer, actor, action, stage, reason)
 *   forged_orders   (seq PK; at, dealer, ledger, msg_id, order_id, reason, detail)
 *
 * The audit trail of an order lists its own dealer's lines only.
 *
 * seq comes from an identity column: it only grows, but a seq taken by a
 * transaction that rolled back is not given again, so seqs may have gaps.
 * msg_id (unsigned 64-bit) is stored in a BIGINT as the same 64 bits.
 */
#include "store/pg/pg.h"

enum audit_stmt { A_AUDIT_ADD, A_AUDIT_LIST, A_FORGED_ADD, A_FORGED_LIST, A_COUNT };
_Static_assert(A_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

static const char *const sql[A_COUNT] = {
    [A_AUDIT_ADD] = "INSERT INTO audit(at, order_id, dealer, actor, action, stage, reason) "
                    "VALUES($1, $2, $3, $4, $5, $6, $7)",
    [A_AUDIT_LIST] =
        "SELECT seq, at, order_id, dealer, actor, action, stage, reason FROM audit "
        "WHERE order_id = $1 AND dealer = COALESCE((SELECT dealer FROM orders WHERE id = $1), "
        "dealer) ORDER BY seq",
    [A_FORGED_ADD] = "INSERT INTO forged_orders(at, dealer, ledger, msg_id, order_id, reason, "
                     "detail) VALUES($1, $2, $3, $4, $5, $6, $7)",
    [A_FORGED_LIST] =
        "SELECT at, dealer, ledger, msg_id, order_id, reason, detail FROM "
        "forged_orders WHERE ($1::text IS NULL OR dealer = $1) ORDER BY seq DESC LIMIT 1000",
};

static const struct hub_pg_stmts stmts = {PG_T_AUDIT, A_COUNT, sql};

#define AUDIT_SCHEMA                                                                               \
    "CREATE TABLE audit(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "                     \
    " at BIGINT NOT NULL, order_id " PG_TEXT " NOT NULL, dealer " PG_TEXT " NOT NULL, "            \
    " actor " PG_TEXT " NOT NULL, action " PG_TEXT " NOT NULL, stage " PG_TEXT " NOT NULL, "       \
    " reason " PG_TEXT " NOT NULL);"                                                               \
    "CREATE INDEX audit_by_order ON audit(order_id, seq);" HUB_PG_APPEND_ONLY("audit")

#define FORGED_SCHEMA                                                                              \
    "CREATE TABLE forged_orders(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "             \
    " at BIGINT NOT NULL, dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "              \
    " msg_id BIGINT NOT NULL, order_id " PG_TEXT " NOT NULL, reason " PG_TEXT " NOT NULL, "        \
    " detail " PG_TEXT " NOT NULL);" HUB_PG_APPEND_ONLY("forged_orders")

const char hub_pg_schema_audit[] = AUDIT_SCHEMA FORGED_SCHEMA;

depot_err hub_pg_audit_add(hub_store *s, const struct hub_audit_entry *e)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, e->at);
    pgp_text(&p, e->order ? e->order : "");
    pgp_text(&p, e->dealer ? e->dealer : "");
    pgp_text(&p, e->actor ? e->actor : "");
    pgp_text(&p, e->action);
    pgp_text(&p, e->stage ? e->stage : "");
    pgp_text(&p, e->reason ? e->reason : "");
    return hub_pg_run(hub_pg_impl(s), &stmts, A_AUDIT_ADD, &p, "audit", NULL);
}

struct audit_walk {
    hub_audit_cb cb;
    void *arg;
};

static int audit_row(void *arg, const PGresult *res, int r)
{
    struct audit_walk *w = arg;
    struct hub_audit_entry e;
    e.seq = hub_pg_int(res, r, 0);
    e.at = hub_pg_int(res, r, 1);
    e.order = hub_pg_col(res, r, 2);
    e.dealer = hub_pg_col(res, r, 3);
    e.actor = hub_pg_col(res, r, 4);
    e.action = hub_pg_col(res, r, 5);
    e.stage = hub_pg_col(res, r, 6);
    e.reason = hub_pg_col(res, r, 7);
    return w->cb(w->arg, &e);
}

depot_err hub_pg_audit_list(hub_store *s, const char *order, hub_audit_cb cb, void *arg)
{
    struct audit_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, order);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_AUDIT_LIST, &p, "audit list", audit_row, &w);
}

depot_err hub_pg_forged_add(hub_store *s, const struct hub_forged_entry *e)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, e->at);
    pgp_text(&p, e->dealer);
    pgp_text(&p, e->ledger);
    pgp_int(&p, (long long)e->msg_id);
    pgp_text(&p, e->order ? e->order : "");
    pgp_text(&p, e->reason);
    pgp_text(&p, e->detail ? e->detail : "");
    return hub_pg_run(hub_pg_impl(s), &stmts, A_FORGED_ADD, &p, "forged order", NULL);
}

struct forged_walk {
    hub_forged_cb cb;
    void *arg;
};

static int forged_row(void *arg, const PGresult *res, int r)
{
    struct forged_walk *w = arg;
    struct hub_forged_entry e;
    e.at = hub_pg_int(res, r, 0);
    e.dealer = hub_pg_col(res, r, 1);
    e.ledger = hub_pg_col(res, r, 2);
    e.msg_id = (uint64_t)hub_pg_int(res, r, 3);
    e.order = hub_pg_col(res, r, 4);
    e.reason = hub_pg_col(res, r, 5);
    e.detail = hub_pg_col(res, r, 6);
    return w->cb(w->arg, &e);
}

depot_err hub_pg_forged_list(hub_store *s, const char *dealer, hub_forged_cb cb, void *arg)
{
    struct forged_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_FORGED_LIST, &p, "forged list", forged_row, &w);
}
