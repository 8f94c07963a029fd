/*
 * The policy domain of the SQLite store (store/policies.h).
 *
 *   policies     (id PK; title, body, notice, valid_from, valid_to, target_kind, target,
 *                 created_by, created_at, withdrawn_at)
 *   policy_reach (policy, dealer PK; pushed_at, delivered_at, seen_at, acked_at, acked_by,
 *                 acked_via)   a time set once (reach_mark: only while it is 0)
 */
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "store/policies.h"
#include "store/sqlite/sqlite.h"

enum policy_stmt {
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
    P__COUNT
};
_Static_assert(P__COUNT <= SQ_POLICY_STMTS, "raise SQ_POLICY_STMTS");

#define POLICY_COLS                                                                                \
    "p.id, p.title, p.body, p.notice, p.valid_from, p.valid_to, p.target_kind, p.target, "         \
    "p.created_by, p.created_at, p.withdrawn_at"
#define REACH_COLS "policy, dealer, pushed_at, delivered_at, seen_at, acked_at, acked_by, acked_via"

static const char *const sql[P__COUNT] = {
    [P_ADD] = "INSERT INTO policies(title, body, notice, valid_from, valid_to, target_kind, "
              "target, created_by, created_at, withdrawn_at) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)",
    [P_GET] = "SELECT " POLICY_COLS " FROM policies p WHERE p.id = ?1",
    [P_LIST_ALL] = "SELECT " POLICY_COLS " FROM policies p ORDER BY p.id DESC",
    [P_LIST_DEALER] = "SELECT " POLICY_COLS " FROM policies p JOIN policy_reach r "
                      "ON r.policy = p.id AND r.dealer = ?1 ORDER BY p.id DESC",
    [R_ADD] = "INSERT INTO policy_reach(" REACH_COLS ") VALUES(?1, ?2, ?3, 0, 0, 0, '', '') "
              "ON CONFLICT DO NOTHING",
    [R_GET] = "SELECT " REACH_COLS " FROM policy_reach WHERE policy = ?1 AND dealer = ?2",
    [R_LIST] = "SELECT " REACH_COLS " FROM policy_reach WHERE policy = ?1 ORDER BY dealer",
    [R_PUSHED] = "UPDATE policy_reach SET pushed_at = ?3 WHERE policy = ?1 AND dealer = ?2",
    [R_DELIVERED] = "UPDATE policy_reach SET delivered_at = ?3 WHERE policy = ?1 AND dealer = ?2 "
                    "AND delivered_at = 0",
    [R_SEEN] = "UPDATE policy_reach SET seen_at = ?3 WHERE policy = ?1 AND dealer = ?2 "
               "AND seen_at = 0",
    [R_ACKED] = "UPDATE policy_reach SET acked_at = ?3, acked_by = ?4, acked_via = ?5 "
                "WHERE policy = ?1 AND dealer = ?2 AND acked_at = 0",
    [P_DEALER_VALID] = "SELECT " POLICY_COLS ", r.acked_at FROM policies p JOIN policy_reach r "
                       "ON r.policy = p.id AND r.dealer = ?1 WHERE p.withdrawn_at = 0 "
                       "AND p.valid_from <= ?2 AND p.valid_to >= ?2 ORDER BY p.id DESC LIMIT ?3",
    [D_MARK] = "INSERT INTO policy_due(dealer, due_at) VALUES(?1, ?2) ON CONFLICT(dealer) "
               "DO UPDATE SET due_at = max(due_at, excluded.due_at)",
    [D_LIST] = "SELECT dealer FROM policy_due ORDER BY due_at, dealer LIMIT ?1",
    [D_DONE] = "DELETE FROM policy_due WHERE dealer = ?1 AND due_at <= ?2",
};

/* Migration 5 and the setup of every file since (idempotent). */
const char hub_sqlite_policies_schema[] =
    "CREATE TABLE IF NOT EXISTS policies(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " title TEXT NOT NULL, body TEXT NOT NULL, notice TEXT NOT NULL, valid_from TEXT NOT NULL, "
    " valid_to TEXT NOT NULL, target_kind TEXT NOT NULL, target TEXT NOT NULL, "
    " created_by TEXT NOT NULL, created_at INTEGER NOT NULL, withdrawn_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS policy_reach(policy INTEGER NOT NULL, dealer TEXT NOT NULL, "
    " pushed_at INTEGER NOT NULL, delivered_at INTEGER NOT NULL, seen_at INTEGER NOT NULL, "
    " acked_at INTEGER NOT NULL, acked_by TEXT NOT NULL, acked_via TEXT NOT NULL, "
    " PRIMARY KEY(policy, dealer)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS policy_reach_by_dealer ON policy_reach(dealer, policy);"
    "CREATE TABLE IF NOT EXISTS policy_due(dealer TEXT PRIMARY KEY, due_at INTEGER NOT NULL) "
    " WITHOUT ROWID;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum policy_stmt id)
{
    return hub_sqlite_ready(q->policy_st[id]);
}

static void read_policy(sqlite3_stmt *st, struct hub_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->id = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, p->title, sizeof(p->title));
    hub_sqlite_col_copy(st, 2, p->body, sizeof(p->body));
    hub_sqlite_col_copy(st, 3, p->notice, sizeof(p->notice));
    hub_sqlite_col_copy(st, 4, p->valid_from, sizeof(p->valid_from));
    hub_sqlite_col_copy(st, 5, p->valid_to, sizeof(p->valid_to));
    hub_sqlite_col_copy(st, 6, p->target_kind, sizeof(p->target_kind));
    hub_sqlite_col_copy(st, 7, p->target, sizeof(p->target));
    hub_sqlite_col_copy(st, 8, p->created_by, sizeof(p->created_by));
    p->created_at = sqlite3_column_int64(st, 9);
    p->withdrawn_at = sqlite3_column_int64(st, 10);
}

static void read_reach(sqlite3_stmt *st, struct hub_policy_reach *r)
{
    memset(r, 0, sizeof(*r));
    r->policy = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, r->dealer, sizeof(r->dealer));
    r->pushed_at = sqlite3_column_int64(st, 2);
    r->delivered_at = sqlite3_column_int64(st, 3);
    r->seen_at = sqlite3_column_int64(st, 4);
    r->acked_at = sqlite3_column_int64(st, 5);
    hub_sqlite_col_copy(st, 6, r->acked_by, sizeof(r->acked_by));
    hub_sqlite_col_copy(st, 7, r->acked_via, sizeof(r->acked_via));
}

static depot_err p_add(hub_store *s, struct hub_policy *p)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, p->title);
    hub_sqlite_bind_text(st, 2, p->body);
    hub_sqlite_bind_text(st, 3, p->notice);
    hub_sqlite_bind_text(st, 4, p->valid_from);
    hub_sqlite_bind_text(st, 5, p->valid_to);
    hub_sqlite_bind_text(st, 6, p->target_kind);
    hub_sqlite_bind_text(st, 7, p->target);
    hub_sqlite_bind_text(st, 8, p->created_by);
    sqlite3_bind_int64(st, 9, p->created_at);
    err = hub_sqlite_run(q, st, "policy add");
    if (err == DEPOT_OK)
        p->id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err p_get(hub_store *s, long long id, struct hub_policy *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "policy");
    if (err != DEPOT_OK)
        return err;
    read_policy(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

/* Walks the policies of st (bound) into cb, or into dcb with the acked_at column after them. */
static depot_err walk_policies(struct sqlite_store *q, sqlite3_stmt *st, hub_policy_cb cb,
                               hub_dealer_policy_cb dcb, void *arg, const char *what)
{
    struct hub_policy *p = depot_malloc(sizeof(*p));
    int rc;
    if (!p) {
        sqlite3_reset(st);
        return DEPOT_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_policy(st, p);
        if (dcb ? dcb(arg, p, sqlite3_column_int64(st, 11) != 0) : cb(arg, p))
            break;
    }
    depot_free(p);
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err p_list(hub_store *s, const char *dealer, hub_policy_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, dealer ? P_LIST_DEALER : P_LIST_ALL);
    if (dealer)
        hub_sqlite_bind_text(st, 1, dealer);
    return walk_policies(q, st, cb, NULL, arg, "policies");
}

static depot_err r_add(hub_store *s, long long policy, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_ADD);
    depot_err err;
    sqlite3_bind_int64(st, 1, policy);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    err = hub_sqlite_run(q, st, "policy reach add");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err r_get(hub_store *s, long long policy, const char *dealer,
                       struct hub_policy_reach *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, policy);
    hub_sqlite_bind_text(st, 2, dealer);
    err = hub_sqlite_one_row(q, st, "policy reach");
    if (err != DEPOT_OK)
        return err;
    read_reach(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err r_list(hub_store *s, long long policy, hub_reach_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_LIST);
    struct hub_policy_reach r;
    int rc;
    sqlite3_bind_int64(st, 1, policy);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_reach(st, &r);
        if (cb(arg, &r))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "policy reach");
}

/* Runs an UPDATE of one reach row; *changed whether it changed it, NOTFOUND if no row. */
static depot_err update_reach(struct sqlite_store *q, sqlite3_stmt *st, long long policy,
                              const char *dealer, bool *changed, const char *what)
{
    struct hub_policy_reach r;
    depot_err err = hub_sqlite_run(q, st, what);
    if (err != DEPOT_OK)
        return err;
    *changed = sqlite3_changes(q->db) > 0;
    return *changed ? DEPOT_OK : r_get(&q->base, policy, dealer, &r);
}

static depot_err r_pushed(hub_store *s, long long policy, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_PUSHED);
    bool changed;
    sqlite3_bind_int64(st, 1, policy);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    return update_reach(q, st, policy, dealer, &changed, "policy pushed");
}

static depot_err r_mark(hub_store *s, long long policy, const char *dealer,
                        enum hub_reach_mark what, long long at, const char *by, const char *via,
                        bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, what == HUB_REACH_DELIVERED ? R_DELIVERED
                               : what == HUB_REACH_SEEN    ? R_SEEN
                                                           : R_ACKED);
    sqlite3_bind_int64(st, 1, policy);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    if (what == HUB_REACH_ACKED) {
        hub_sqlite_bind_text(st, 4, by);
        hub_sqlite_bind_text(st, 5, via);
    }
    return update_reach(q, st, policy, dealer, changed, "policy reach mark");
}

static depot_err p_dealer_valid(hub_store *s, const char *dealer, const char *today,
                                long long limit, hub_dealer_policy_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, P_DEALER_VALID);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, today);
    sqlite3_bind_int64(st, 3, limit);
    return walk_policies(q, st, NULL, cb, arg, "dealer policies");
}

static depot_err d_mark(hub_store *s, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_MARK);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, at);
    return hub_sqlite_run(q, st, "policy due");
}

static depot_err d_list(hub_store *s, long long limit, hub_name_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_LIST);
    int rc;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "policy due list");
}

static depot_err d_done(hub_store *s, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, D_DONE);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, at);
    return hub_sqlite_run(q, st, "policy due done");
}

const struct hub_store_policy_ops hub_sqlite_policy_ops = {
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

depot_err hub_sqlite_policies_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_policies_schema, "policies schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, P__COUNT, q->policy_st);
}

void hub_sqlite_policies_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->policy_st, P__COUNT);
}
