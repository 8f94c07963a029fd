/*
 * The policy domain of the PostgreSQL store (store/policies.h; the
 * PostgreSQL version of store/sqlite/policies.c).
 *
 *   policies     (id PK; title, body, notice, valid_from, valid_to, target_kind, target,
 *                 created_by, created_at, withdrawn_at)
 *   policy_reach (policy, dealer PK; pushed_at, delivered_at, seen_at, acked_at, acked_by,
 *                 acked_via)   a time set once (reach_mark: only while it is 0)
 *
 * Both tables are created by migration 5 (store/pg/schema.c). Differences of
 * form only: a policy's id comes from an identity column (ids only grow, but
 * one taken by a transaction that rolled back is not given again, so ids may
 * have gaps); dealer_policies with a negative limit binds LIMIT NULL (every
 * row, as SQLite's negative LIMIT), since PostgreSQL refuses a negative one.
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/pg/pg.h"
#include "store/policies.h"

enum policies_stmt {
    P_ADD,
    P_GET,
    P_LIST_ALL,
    P_LIST_DEALER,
    R_ADD,
    R_GET,
    R_LIST,
    R_PUSHED,
    R_DELIVERED,
    R_SEEN,
    R_ACKED,
    P_DEALER_VALID,
    D_MARK,
    D_LIST,
    D_DONE,
    P_COUNT
};
_Static_assert(P_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define POLICY_COLS                                                                                \
    "p.id, p.title, p.body, p.notice, p.valid_from, p.valid_to, p.target_kind, p.target, "         \
    "p.created_by, p.created_at, p.withdrawn_at"
#define REACH_COLS "policy, dealer, pushed_at, delivered_at, seen_at, acked_at, acked_by, acked_via"

/* every parameter must appear in a prepared statement: each has exactly the ones it is sent */
static const char *const sql[P_COUNT] = {
    [P_ADD] = "INSERT INTO policies(title, body, notice, valid_from, valid_to, target_kind, "
              "target, created_by, created_at, withdrawn_at) "
              "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) RETURNING id",
    [P_GET] = "SELECT " POLICY_COLS " FROM policies p WHERE p.id = $1",
    [P_LIST_ALL] = "SELECT " POLICY_COLS " FROM policies p ORDER BY p.id DESC",
    [P_LIST_DEALER] = "SELECT " POLICY_COLS " FROM policies p JOIN policy_reach r "
                      "ON r.policy = p.id AND r.dealer = $1 ORDER BY p.id DESC",
    [R_ADD] = "INSERT INTO policy_reach(" REACH_COLS ") VALUES($1, $2, $3, 0, 0, 0, '', '') "
              "ON CONFLICT DO NOTHING",
    [R_GET] = "SELECT " REACH_COLS " FROM policy_reach WHERE policy = $1 AND dealer = $2",
    [R_LIST] = "SELECT " REACH_COLS " FROM policy_reach WHERE policy = $1 ORDER BY dealer",
    [R_PUSHED] = "UPDATE policy_reach SET pushed_at = $3 WHERE policy = $1 AND dealer = $2",
    [R_DELIVERED] = "UPDATE policy_reach SET delivered_at = $3 WHERE policy = $1 AND dealer = $2 "
                    "AND delivered_at = 0",
    [R_SEEN] = "UPDATE policy_reach SET seen_at = $3 WHERE policy = $1 AND dealer = $2 "
               "AND seen_at = 0",
    [R_ACKED] = "UPDATE policy_reach SET acked_at = $3, acked_by = $4, acked_via = $5 "
                "WHERE policy = $1 AND dealer = $2 AND acked_at = 0",
    [P_DEALER_VALID] = "SELECT " POLICY_COLS ", r.acked_at FROM policies p JOIN policy_reach r "
                       "ON r.policy = p.id AND r.dealer = $1 WHERE p.withdrawn_at = 0 "
                       "AND p.valid_from <= $2 AND p.valid_to >= $2 ORDER BY p.id DESC LIMIT $3",
    [D_MARK] = "INSERT INTO policy_due(dealer, due_at) VALUES($1, $2) ON CONFLICT(dealer) "
               "DO UPDATE SET due_at = GREATEST(policy_due.due_at, excluded.due_at)",
    [D_LIST] = "SELECT dealer FROM policy_due ORDER BY due_at, dealer LIMIT $1",
    [D_DONE] = "DELETE FROM policy_due WHERE dealer = $1 AND due_at <= $2",
};

static const struct hub_pg_stmts stmts = {PG_T_POLICIES, P_COUNT, sql};

/* Migration 5. */
const char hub_pg_schema_policies[] =
    "CREATE TABLE policies(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " title " PG_TEXT " NOT NULL, body " PG_TEXT " NOT NULL, notice " PG_TEXT " NOT NULL, "
    " valid_from " PG_TEXT " NOT NULL, valid_to " PG_TEXT " NOT NULL, "
    " target_kind " PG_TEXT " NOT NULL, target " PG_TEXT " NOT NULL, "
    " created_by " PG_TEXT " NOT NULL, created_at BIGINT NOT NULL, "
    " withdrawn_at BIGINT NOT NULL);"
    "CREATE TABLE policy_reach(policy BIGINT NOT NULL, dealer " PG_TEXT " NOT NULL, "
    " pushed_at BIGINT NOT NULL, delivered_at BIGINT NOT NULL, seen_at BIGINT NOT NULL, "
    " acked_at BIGINT NOT NULL, acked_by " PG_TEXT " NOT NULL, acked_via " PG_TEXT " NOT NULL, "
    " PRIMARY KEY(policy, dealer));"
    "CREATE INDEX policy_reach_by_dealer ON policy_reach(dealer, policy);"
    "CREATE TABLE policy_due(dealer " PG_TEXT " PRIMARY KEY, due_at BIGINT NOT NULL);";

static void read_policy(const PGresult *res, int r, struct hub_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->id = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, p->title, sizeof(p->title));
    hub_pg_col_copy(res, r, 2, p->body, sizeof(p->body));
    hub_pg_col_copy(res, r, 3, p->notice, sizeof(p->notice));
    hub_pg_col_copy(res, r, 4, p->valid_from, sizeof(p->valid_from));
    hub_pg_col_copy(res, r, 5, p->valid_to, sizeof(p->valid_to));
    hub_pg_col_copy(res, r, 6, p->target_kind, sizeof(p->target_kind));
    hub_pg_col_copy(res, r, 7, p->target, sizeof(p->target));
    hub_pg_col_copy(res, r, 8, p->created_by, sizeof(p->created_by));
    p->created_at = hub_pg_int(res, r, 9);
    p->withdrawn_at = hub_pg_int(res, r, 10);
}

static void read_reach(const PGresult *res, int r, struct hub_policy_reach *out)
{
    memset(out, 0, sizeof(*out));
    out->policy = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, out->dealer, sizeof(out->dealer));
    out->pushed_at = hub_pg_int(res, r, 2);
    out->delivered_at = hub_pg_int(res, r, 3);
    out->seen_at = hub_pg_int(res, r, 4);
    out->acked_at = hub_pg_int(res, r, 5);
    hub_pg_col_copy(res, r, 6, out->acked_by, sizeof(out->acked_by));
    hub_pg_col_copy(res, r, 7, out->acked_via, sizeof(out->acked_via));
}

/* Starts p with a reach row's key ($1 policy, $2 dealer). */
static void reach_key(struct pg_params *p, long long policy, const char *dealer)
{
    pgp_reset(p);
    pgp_int(p, policy);
    pgp_text(p, dealer);
}

static depot_err p_add(hub_store *s, struct hub_policy *pol)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, pol->title);
    pgp_text(&p, pol->body);
    pgp_text(&p, pol->notice);
    pgp_text(&p, pol->valid_from);
    pgp_text(&p, pol->valid_to);
    pgp_text(&p, pol->target_kind);
    pgp_text(&p, pol->target);
    pgp_text(&p, pol->created_by);
    pgp_int(&p, pol->created_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, P_ADD, &p, "policy add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    pol->id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err p_get(hub_store *s, long long id, struct hub_policy *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, P_GET, &p, "policy", &res);
    if (err != DEPOT_OK)
        return err;
    read_policy(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

/* A walk of policies into cb, or into dcb with the acked_at column after them. */
struct policy_walk {
    hub_policy_cb cb;
    hub_dealer_policy_cb dcb;
    void *arg;
    struct hub_policy *p; /* one buffer for every row (a policy is some kilobytes) */
};

static int policy_row(void *arg, const PGresult *res, int r)
{
    struct policy_walk *w = arg;
    read_policy(res, r, w->p);
    return w->dcb ? w->dcb(w->arg, w->p, hub_pg_int(res, r, 11) != 0) : w->cb(w->arg, w->p);
}

static depot_err walk_policies(hub_store *s, int idx, const struct pg_params *p,
                               struct policy_walk *w, const char *what)
{
    depot_err err;
    w->p = depot_malloc(sizeof(*w->p));
    if (!w->p)
        return DEPOT_ERR_NOMEM;
    err = hub_pg_walk(hub_pg_impl(s), &stmts, idx, p, what, policy_row, w);
    depot_free(w->p);
    return err;
}

static depot_err p_list(hub_store *s, const char *dealer, hub_policy_cb cb, void *arg)
{
    struct policy_walk w = {.cb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    if (dealer)
        pgp_text(&p, dealer);
    return walk_policies(s, dealer ? P_LIST_DEALER : P_LIST_ALL, &p, &w, "policies");
}

static depot_err r_add(hub_store *s, long long policy, const char *dealer, long long at)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    reach_key(&p, policy, dealer);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, R_ADD, &p, "policy reach add", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err r_get(hub_store *s, long long policy, const char *dealer,
                       struct hub_policy_reach *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    reach_key(&p, policy, dealer);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, R_GET, &p, "policy reach", &res);
    if (err != DEPOT_OK)
        return err;
    read_reach(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

struct reach_walk {
    hub_reach_cb cb;
    void *arg;
};

static int reach_row(void *arg, const PGresult *res, int r)
{
    struct reach_walk *w = arg;
    struct hub_policy_reach row;
    read_reach(res, r, &row);
    return w->cb(w->arg, &row);
}

static depot_err r_list(hub_store *s, long long policy, hub_reach_cb cb, void *arg)
{
    struct reach_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, policy);
    return hub_pg_walk(hub_pg_impl(s), &stmts, R_LIST, &p, "policy reach", reach_row, &w);
}

/* Runs an UPDATE of one reach row; *changed whether it changed it, NOTFOUND if no row. */
static depot_err update_reach(hub_store *s, int idx, const struct pg_params *p, long long policy,
                              const char *dealer, bool *changed, const char *what)
{
    struct hub_policy_reach r;
    long long n;
    depot_err err = hub_pg_run(hub_pg_impl(s), &stmts, idx, p, what, &n);
    *changed = false;
    if (err != DEPOT_OK)
        return err;
    *changed = n > 0;
    return *changed ? DEPOT_OK : r_get(s, policy, dealer, &r);
}

static depot_err r_pushed(hub_store *s, long long policy, const char *dealer, long long at)
{
    struct pg_params p;
    bool changed;
    reach_key(&p, policy, dealer);
    pgp_int(&p, at);
    return update_reach(s, R_PUSHED, &p, policy, dealer, &changed, "policy pushed");
}

static depot_err r_mark(hub_store *s, long long policy, const char *dealer,
                        enum hub_reach_mark what, long long at, const char *by, const char *via,
                        bool *changed)
{
    struct pg_params p;
    reach_key(&p, policy, dealer);
    pgp_int(&p, at);
    if (what == HUB_REACH_ACKED) { /* by and via only where they appear ($4, $5) */
        pgp_text(&p, by);
        pgp_text(&p, via);
    }
    return update_reach(s,
                        what == HUB_REACH_DELIVERED ? R_DELIVERED
                        : what == HUB_REACH_SEEN    ? R_SEEN
                                                    : R_ACKED,
                        &p, policy, dealer, changed, "policy reach mark");
}

static depot_err p_dealer_valid(hub_store *s, const char *dealer, const char *today,
                                long long limit, hub_dealer_policy_cb cb, void *arg)
{
    struct policy_walk w = {.dcb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_text(&p, today);
    if (limit >= 0)
        pgp_int(&p, limit);
    else
        pgp_text(&p, NULL); /* LIMIT NULL: every row, as SQLite's negative LIMIT */
    return walk_policies(s, P_DEALER_VALID, &p, &w, "dealer policies");
}

static depot_err d_mark(hub_store *s, const char *dealer, long long at)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, at);
    return hub_pg_run(hub_pg_impl(s), &stmts, D_MARK, &p, "policy due", NULL);
}

struct due_walk {
    hub_name_cb cb;
    void *arg;
};

static int due_row(void *arg, const PGresult *res, int r)
{
    struct due_walk *w = arg;
    return w->cb(w->arg, hub_pg_col(res, r, 0));
}

static depot_err d_list(hub_store *s, long long limit, hub_name_cb cb, void *arg)
{
    struct due_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, D_LIST, &p, "policy due list", due_row, &w);
}

static depot_err d_done(hub_store *s, const char *dealer, long long at)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, at);
    return hub_pg_run(hub_pg_impl(s), &stmts, D_DONE, &p, "policy due done", NULL);
}

const struct hub_store_policy_ops hub_pg_policy_ops = {
    .policy_add = p_add,
    .policy_get = p_get,
    .policies_list = p_list,
    .reach_add = r_add,
    .reach_get = r_get,
    .reach_list = r_list,
    .reach_pushed = r_pushed,
    .reach_mark = r_mark,
    .dealer_policies = p_dealer_valid,
    .due_mark = d_mark,
    .due_list = d_list,
    .due_done = d_done,
};
