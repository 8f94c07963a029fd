/*
 * The task domain of the PostgreSQL store (store/tasks.h; the PostgreSQL
 * version of store/sqlite/tasks.c). Both tables are created by migration 6
 * (store/pg/schema.c). Differences of form only: a task's id comes from an
 * identity column (ids may have gaps), and a SKU is found in a task's list
 * with strpos where SQLite has instr.
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/pg/pg.h"
#include "store/tasks.h"

enum tasks_stmt {
    T_ADD,
    T_GET,
    T_LIST,
    T_DEALER,
    R_ADD,
    R_GET,
    R_LIST,
    R_COUNTED,
    R_DONE,
    T_OPEN_DATA,
    T_OVERDUE,
    T_LAST,
    T_COUNT
};
_Static_assert(T_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define TASK_COLS                                                                                  \
    "t.id, t.title, t.body, t.due, t.rule, t.skus, t.level, t.photo, t.target_kind, t.target, "    \
    "t.created_by, t.created_at"
#define REACH_COLS                                                                                 \
    "r.task, r.dealer, r.issued_at, r.done_at, r.done_by, r.done_via, r.counted, r.photo_sha, "    \
    "r.photo_type"

static const char *const sql[T_COUNT] = {
    [T_ADD] = "INSERT INTO tasks(title, body, due, rule, skus, level, photo, target_kind, target, "
              "created_by, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
              "RETURNING id",
    [T_GET] = "SELECT " TASK_COLS " FROM tasks t WHERE t.id = $1",
    [T_LIST] = "SELECT " TASK_COLS " FROM tasks t ORDER BY t.id DESC",
    [T_DEALER] = "SELECT " TASK_COLS ", " REACH_COLS " FROM tasks t JOIN task_reach r "
                 "ON r.task = t.id AND r.dealer = $1 ORDER BY t.id DESC",
    [R_ADD] = "INSERT INTO task_reach(task, dealer, issued_at, done_at, done_by, done_via, "
              "counted, photo_sha, photo_type) VALUES($1, $2, $3, 0, '', '', '', '', '') "
              "ON CONFLICT DO NOTHING",
    [R_GET] = "SELECT " REACH_COLS " FROM task_reach r WHERE r.task = $1 AND r.dealer = $2",
    [R_LIST] = "SELECT " REACH_COLS " FROM task_reach r WHERE r.task = $1 ORDER BY r.dealer",
    [R_COUNTED] = "UPDATE task_reach SET counted = $3 WHERE task = $1 AND dealer = $2 "
                  "AND done_at = 0",
    [R_DONE] = "UPDATE task_reach SET done_at = $3, done_by = $4, done_via = $5, photo_sha = $6, "
               "photo_type = $7 WHERE task = $1 AND dealer = $2 AND done_at = 0",
    [T_OPEN_DATA] = "SELECT " TASK_COLS ", " REACH_COLS " FROM tasks t JOIN task_reach r "
                    "ON r.task = t.id AND r.dealer = $1 AND r.done_at = 0 "
                    "WHERE t.rule IN ('count', 'stock') "
                    "AND strpos(',' || t.skus || ',', ',' || $2 || ',') > 0 ORDER BY t.id",
    [T_OVERDUE] = "SELECT " TASK_COLS ", " REACH_COLS " FROM task_reach r JOIN tasks t "
                  "ON t.id = r.task WHERE r.done_at = 0 AND t.due < $1 ORDER BY r.dealer, t.id",
    [T_LAST] = "SELECT coalesce(max(id), 0) FROM tasks",
};

static const struct hub_pg_stmts stmts = {PG_T_TASKS, T_COUNT, sql};

/* Migration 6. */
const char hub_pg_schema_tasks[] =
    "CREATE TABLE tasks(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " title " PG_TEXT " NOT NULL, body " PG_TEXT " NOT NULL, due " PG_TEXT " NOT NULL, "
    " rule " PG_TEXT " NOT NULL, skus " PG_TEXT " NOT NULL, level BIGINT NOT NULL, "
    " photo BIGINT NOT NULL, target_kind " PG_TEXT " NOT NULL, target " PG_TEXT " NOT NULL, "
    " created_by " PG_TEXT " NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE TABLE task_reach(task BIGINT NOT NULL, dealer " PG_TEXT " NOT NULL, "
    " issued_at BIGINT NOT NULL, done_at BIGINT NOT NULL, done_by " PG_TEXT " NOT NULL, "
    " done_via " PG_TEXT " NOT NULL, counted " PG_TEXT " NOT NULL, "
    " photo_sha " PG_TEXT " NOT NULL, photo_type " PG_TEXT " NOT NULL, "
    " PRIMARY KEY(task, dealer));"
    "CREATE INDEX task_reach_by_dealer ON task_reach(dealer, task);";

static void read_task(const PGresult *res, int r, struct hub_task *t)
{
    memset(t, 0, sizeof(*t));
    t->id = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, t->title, sizeof(t->title));
    hub_pg_col_copy(res, r, 2, t->body, sizeof(t->body));
    hub_pg_col_copy(res, r, 3, t->due, sizeof(t->due));
    hub_pg_col_copy(res, r, 4, t->rule, sizeof(t->rule));
    hub_pg_col_copy(res, r, 5, t->skus, sizeof(t->skus));
    t->level = hub_pg_int(res, r, 6);
    t->photo = hub_pg_int(res, r, 7) != 0;
    hub_pg_col_copy(res, r, 8, t->target_kind, sizeof(t->target_kind));
    hub_pg_col_copy(res, r, 9, t->target, sizeof(t->target));
    hub_pg_col_copy(res, r, 10, t->created_by, sizeof(t->created_by));
    t->created_at = hub_pg_int(res, r, 11);
}

/* The reach columns from column c on. */
static void read_reach(const PGresult *res, int r, int c, struct hub_task_reach *out)
{
    memset(out, 0, sizeof(*out));
    out->task = hub_pg_int(res, r, c);
    hub_pg_col_copy(res, r, c + 1, out->dealer, sizeof(out->dealer));
    out->issued_at = hub_pg_int(res, r, c + 2);
    out->done_at = hub_pg_int(res, r, c + 3);
    hub_pg_col_copy(res, r, c + 4, out->done_by, sizeof(out->done_by));
    hub_pg_col_copy(res, r, c + 5, out->done_via, sizeof(out->done_via));
    hub_pg_col_copy(res, r, c + 6, out->counted, sizeof(out->counted));
    hub_pg_col_copy(res, r, c + 7, out->photo_sha, sizeof(out->photo_sha));
    hub_pg_col_copy(res, r, c + 8, out->photo_type, sizeof(out->photo_type));
}

/* Starts p with a reach row's key ($1 task, $2 dealer). */
static void reach_key(struct pg_params *p, long long task, const char *dealer)
{
    pgp_reset(p);
    pgp_int(p, task);
    pgp_text(p, dealer);
}

static depot_err t_add(hub_store *s, struct hub_task *t)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, t->title);
    pgp_text(&p, t->body);
    pgp_text(&p, t->due);
    pgp_text(&p, t->rule);
    pgp_text(&p, t->skus);
    pgp_int(&p, t->level);
    pgp_int(&p, t->photo ? 1 : 0);
    pgp_text(&p, t->target_kind);
    pgp_text(&p, t->target);
    pgp_text(&p, t->created_by);
    pgp_int(&p, t->created_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, T_ADD, &p, "task add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    t->id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err t_get(hub_store *s, long long id, struct hub_task *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, T_GET, &p, "task", &res);
    if (err != DEPOT_OK)
        return err;
    read_task(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

/* A walk of tasks into cb, or of tasks with their reach row into dcb. */
struct task_walk {
    hub_task_cb cb;
    hub_dealer_task_cb dcb;
    void *arg;
    struct hub_task *t; /* one buffer for every row (a task is some kilobytes) */
};

static int task_row(void *arg, const PGresult *res, int r)
{
    struct task_walk *w = arg;
    struct hub_task_reach reach;
    read_task(res, r, w->t);
    if (!w->dcb)
        return w->cb(w->arg, w->t);
    read_reach(res, r, 12, &reach);
    return w->dcb(w->arg, w->t, &reach);
}

static depot_err walk(hub_store *s, int idx, const struct pg_params *p, struct task_walk *w,
                      const char *what)
{
    depot_err err;
    w->t = depot_malloc(sizeof(*w->t));
    if (!w->t)
        return DEPOT_ERR_NOMEM;
    err = hub_pg_walk(hub_pg_impl(s), &stmts, idx, p, what, task_row, w);
    depot_free(w->t);
    return err;
}

static depot_err t_list(hub_store *s, hub_task_cb cb, void *arg)
{
    struct task_walk w = {.cb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    return walk(s, T_LIST, &p, &w, "tasks");
}

static depot_err t_dealer(hub_store *s, const char *dealer, hub_dealer_task_cb cb, void *arg)
{
    struct task_walk w = {.dcb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    return walk(s, T_DEALER, &p, &w, "dealer tasks");
}

static depot_err r_add(hub_store *s, long long task, const char *dealer, long long at)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    reach_key(&p, task, dealer);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, R_ADD, &p, "task reach add", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err r_get(hub_store *s, long long task, const char *dealer, struct hub_task_reach *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    reach_key(&p, task, dealer);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, R_GET, &p, "task reach", &res);
    if (err != DEPOT_OK)
        return err;
    read_reach(res, 0, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

struct reach_walk {
    hub_task_reach_cb cb;
    void *arg;
};

static int reach_row(void *arg, const PGresult *res, int r)
{
    struct reach_walk *w = arg;
    struct hub_task_reach row;
    read_reach(res, r, 0, &row);
    return w->cb(w->arg, &row);
}

static depot_err r_list(hub_store *s, long long task, hub_task_reach_cb cb, void *arg)
{
    struct reach_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, task);
    return hub_pg_walk(hub_pg_impl(s), &stmts, R_LIST, &p, "task reach", reach_row, &w);
}

/* Runs an UPDATE of one reach row; *changed whether it changed it, NOTFOUND if no row. */
static depot_err update_reach(hub_store *s, int idx, const struct pg_params *p, long long task,
                              const char *dealer, bool *changed, const char *what)
{
    struct hub_task_reach r;
    long long n;
    depot_err err = hub_pg_run(hub_pg_impl(s), &stmts, idx, p, what, &n);
    *changed = false;
    if (err != DEPOT_OK)
        return err;
    *changed = n > 0;
    return *changed ? DEPOT_OK : r_get(s, task, dealer, &r);
}

static depot_err r_counted(hub_store *s, long long task, const char *dealer, const char *counted)
{
    struct pg_params p;
    bool changed;
    reach_key(&p, task, dealer);
    pgp_text(&p, counted);
    return update_reach(s, R_COUNTED, &p, task, dealer, &changed, "task counted");
}

static depot_err r_done(hub_store *s, long long task, const char *dealer, long long at,
                        const char *by, const char *via, const char *photo_sha,
                        const char *photo_type, bool *changed)
{
    struct pg_params p;
    bool ch;
    reach_key(&p, task, dealer);
    pgp_int(&p, at);
    pgp_text(&p, by);
    pgp_text(&p, via);
    pgp_text(&p, photo_sha);
    pgp_text(&p, photo_type);
    return update_reach(s, R_DONE, &p, task, dealer, changed ? changed : &ch, "task done");
}

static depot_err t_open_data(hub_store *s, const char *dealer, const char *sku,
                             hub_dealer_task_cb cb, void *arg)
{
    struct task_walk w = {.dcb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    return walk(s, T_OPEN_DATA, &p, &w, "open data tasks");
}

static depot_err t_overdue(hub_store *s, const char *before, hub_dealer_task_cb cb, void *arg)
{
    struct task_walk w = {.dcb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, before);
    return walk(s, T_OVERDUE, &p, &w, "overdue tasks");
}

static depot_err t_last(hub_store *s, long long *id)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, T_LAST, &p, "last task", &res);
    if (err != DEPOT_OK)
        return err;
    *id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

const struct hub_store_task_ops hub_pg_task_ops = {
    .task_add = t_add,
    .task_get = t_get,
    .tasks_list = t_list,
    .dealer_tasks = t_dealer,
    .reach_add = r_add,
    .reach_get = r_get,
    .reach_list = r_list,
    .reach_counted = r_counted,
    .reach_done = r_done,
    .open_data = t_open_data,
    .overdue = t_overdue,
    .last_id = t_last,
};
