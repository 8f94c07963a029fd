/*
 * Tasks and their completion in SQLite (store/tasks.h): migration 6.
 *
 *   tasks       (id INTEGER PK AUTOINCREMENT, ...)
 *   task_reach  (task, dealer PK; done_at 0 until done, set once by R_DONE)
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/sqlite/sqlite.h"
#include "store/tasks.h"

enum task_stmt {
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
    T__COUNT
};
_Static_assert(T__COUNT <= SQ_TASK_STMTS, "raise SQ_TASK_STMTS");

#define TASK_COLS                                                                                  \
    "t.id, t.title, t.body, t.due, t.rule, t.skus, t.level, t.photo, t.target_kind, t.target, "    \
    "t.created_by, t.created_at"
#define REACH_COLS                                                                                 \
    "r.task, r.dealer, r.issued_at, r.done_at, r.done_by, r.done_via, r.counted, r.photo_sha, "    \
    "r.photo_type"

static const char *const sql[T__COUNT] = {
    [T_ADD] = "INSERT INTO tasks(title, body, due, rule, skus, level, photo, target_kind, target, "
              "created_by, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [T_GET] = "SELECT " TASK_COLS " FROM tasks t WHERE t.id = ?1",
    [T_LIST] = "SELECT " TASK_COLS " FROM tasks t ORDER BY t.id DESC",
    [T_DEALER] = "SELECT " TASK_COLS ", " REACH_COLS " FROM tasks t JOIN task_reach r "
                 "ON r.task = t.id AND r.dealer = ?1 ORDER BY t.id DESC",
    [R_ADD] = "INSERT INTO task_reach(task, dealer, issued_at, done_at, done_by, done_via, "
              "counted, photo_sha, photo_type) VALUES(?1, ?2, ?3, 0, '', '', '', '', '') "
              "ON CONFLICT DO NOTHING",
    [R_GET] = "SELECT " REACH_COLS " FROM task_reach r WHERE r.task = ?1 AND r.dealer = ?2",
    [R_LIST] = "SELECT " REACH_COLS " FROM task_reach r WHERE r.task = ?1 ORDER BY r.dealer",
    [R_COUNTED] = "UPDATE task_reach SET counted = ?3 WHERE task = ?1 AND dealer = ?2 "
                  "AND done_at = 0",
    [R_DONE] = "UPDATE task_reach SET done_at = ?3, done_by = ?4, done_via = ?5, photo_sha = ?6, "
               "photo_type = ?7 WHERE task = ?1 AND dealer = ?2 AND done_at = 0",
    [T_OPEN_DATA] = "SELECT " TASK_COLS ", " REACH_COLS " FROM tasks t JOIN task_reach r "
                    "ON r.task = t.id AND r.dealer = ?1 AND r.done_at = 0 "
                    "WHERE t.rule IN ('count', 'stock') "
                    "AND instr(',' || t.skus || ',', ',' || ?2 || ',') > 0 ORDER BY t.id",
    [T_OVERDUE] = "SELECT " TASK_COLS ", " REACH_COLS " FROM task_reach r JOIN tasks t "
                  "ON t.id = r.task WHERE r.done_at = 0 AND t.due < ?1 ORDER BY r.dealer, t.id",
    [T_LAST] = "SELECT coalesce(max(id), 0) FROM tasks",
};

/* Migration 6 and the setup of every file since (idempotent). */
const char hub_sqlite_tasks_schema[] =
    "CREATE TABLE IF NOT EXISTS tasks(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " title TEXT NOT NULL, body TEXT NOT NULL, due TEXT NOT NULL, rule TEXT NOT NULL, "
    " skus TEXT NOT NULL, level INTEGER NOT NULL, photo INTEGER NOT NULL, "
    " target_kind TEXT NOT NULL, target TEXT NOT NULL, created_by TEXT NOT NULL, "
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS task_reach(task INTEGER NOT NULL, dealer TEXT NOT NULL, "
    " issued_at INTEGER NOT NULL, done_at INTEGER NOT NULL, done_by TEXT NOT NULL, "
    " done_via TEXT NOT NULL, counted TEXT NOT NULL, photo_sha TEXT NOT NULL, "
    " photo_type TEXT NOT NULL, PRIMARY KEY(task, dealer)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS task_reach_by_dealer ON task_reach(dealer, task);";

static sqlite3_stmt *prep(struct sqlite_store *q, enum task_stmt id)
{
    return hub_sqlite_ready(q->task_st[id]);
}

static void read_task(sqlite3_stmt *st, struct hub_task *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, t->title, sizeof(t->title));
    hub_sqlite_col_copy(st, 2, t->body, sizeof(t->body));
    hub_sqlite_col_copy(st, 3, t->due, sizeof(t->due));
    hub_sqlite_col_copy(st, 4, t->rule, sizeof(t->rule));
    hub_sqlite_col_copy(st, 5, t->skus, sizeof(t->skus));
    t->level = sqlite3_column_int64(st, 6);
    t->photo = sqlite3_column_int64(st, 7) != 0;
    hub_sqlite_col_copy(st, 8, t->target_kind, sizeof(t->target_kind));
    hub_sqlite_col_copy(st, 9, t->target, sizeof(t->target));
    hub_sqlite_col_copy(st, 10, t->created_by, sizeof(t->created_by));
    t->created_at = sqlite3_column_int64(st, 11);
}

/* The reach columns from column c on. */
static void read_reach(sqlite3_stmt *st, int c, struct hub_task_reach *r)
{
    memset(r, 0, sizeof(*r));
    r->task = sqlite3_column_int64(st, c);
    hub_sqlite_col_copy(st, c + 1, r->dealer, sizeof(r->dealer));
    r->issued_at = sqlite3_column_int64(st, c + 2);
    r->done_at = sqlite3_column_int64(st, c + 3);
    hub_sqlite_col_copy(st, c + 4, r->done_by, sizeof(r->done_by));
    hub_sqlite_col_copy(st, c + 5, r->done_via, sizeof(r->done_via));
    hub_sqlite_col_copy(st, c + 6, r->counted, sizeof(r->counted));
    hub_sqlite_col_copy(st, c + 7, r->photo_sha, sizeof(r->photo_sha));
    hub_sqlite_col_copy(st, c + 8, r->photo_type, sizeof(r->photo_type));
}

static depot_err t_add(hub_store *s, struct hub_task *t)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, t->title);
    hub_sqlite_bind_text(st, 2, t->body);
    hub_sqlite_bind_text(st, 3, t->due);
    hub_sqlite_bind_text(st, 4, t->rule);
    hub_sqlite_bind_text(st, 5, t->skus);
    sqlite3_bind_int64(st, 6, t->level);
    sqlite3_bind_int(st, 7, t->photo ? 1 : 0);
    hub_sqlite_bind_text(st, 8, t->target_kind);
    hub_sqlite_bind_text(st, 9, t->target);
    hub_sqlite_bind_text(st, 10, t->created_by);
    sqlite3_bind_int64(st, 11, t->created_at);
    err = hub_sqlite_run(q, st, "task add");
    if (err == DEPOT_OK)
        t->id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err t_get(hub_store *s, long long id, struct hub_task *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "task");
    if (err != DEPOT_OK)
        return err;
    read_task(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

/* Walks st (bound): tasks into cb, or tasks with their reach row into dcb. */
static depot_err walk(struct sqlite_store *q, sqlite3_stmt *st, hub_task_cb cb,
                      hub_dealer_task_cb dcb, void *arg, const char *what)
{
    struct hub_task *t = depot_malloc(sizeof(*t));
    struct hub_task_reach r;
    int rc;
    if (!t) {
        sqlite3_reset(st);
        return DEPOT_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_task(st, t);
        if (dcb)
            read_reach(st, 12, &r);
        if (dcb ? dcb(arg, t, &r) : cb(arg, t))
            break;
    }
    depot_free(t);
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err t_list(hub_store *s, hub_task_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    return walk(q, prep(q, T_LIST), cb, NULL, arg, "tasks");
}

static depot_err t_dealer(hub_store *s, const char *dealer, hub_dealer_task_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_DEALER);
    hub_sqlite_bind_text(st, 1, dealer);
    return walk(q, st, NULL, cb, arg, "dealer tasks");
}

static depot_err r_add(hub_store *s, long long task, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_ADD);
    depot_err err;
    sqlite3_bind_int64(st, 1, task);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    err = hub_sqlite_run(q, st, "task reach add");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err r_get(hub_store *s, long long task, const char *dealer, struct hub_task_reach *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, task);
    hub_sqlite_bind_text(st, 2, dealer);
    err = hub_sqlite_one_row(q, st, "task reach");
    if (err != DEPOT_OK)
        return err;
    read_reach(st, 0, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err r_list(hub_store *s, long long task, hub_task_reach_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_LIST);
    struct hub_task_reach r;
    int rc;
    sqlite3_bind_int64(st, 1, task);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_reach(st, 0, &r);
        if (cb(arg, &r))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "task reach");
}

/* Runs an UPDATE of one reach row; *changed whether it changed it, NOTFOUND if no row. */
static depot_err update_reach(struct sqlite_store *q, sqlite3_stmt *st, long long task,
                              const char *dealer, bool *changed, const char *what)
{
    struct hub_task_reach r;
    depot_err err = hub_sqlite_run(q, st, what);
    if (err != DEPOT_OK)
        return err;
    *changed = sqlite3_changes(q->db) > 0;
    return *changed ? DEPOT_OK : r_get(&q->base, task, dealer, &r);
}

static depot_err r_counted(hub_store *s, long long task, const char *dealer, const char *counted)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_COUNTED);
    bool changed;
    sqlite3_bind_int64(st, 1, task);
    hub_sqlite_bind_text(st, 2, dealer);
    hub_sqlite_bind_text(st, 3, counted);
    return update_reach(q, st, task, dealer, &changed, "task counted");
}

static depot_err r_done(hub_store *s, long long task, const char *dealer, long long at,
                        const char *by, const char *via, const char *photo_sha,
                        const char *photo_type, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, R_DONE);
    bool ch;
    sqlite3_bind_int64(st, 1, task);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    hub_sqlite_bind_text(st, 4, by);
    hub_sqlite_bind_text(st, 5, via);
    hub_sqlite_bind_text(st, 6, photo_sha);
    hub_sqlite_bind_text(st, 7, photo_type);
    return update_reach(q, st, task, dealer, changed ? changed : &ch, "task done");
}

static depot_err t_open_data(hub_store *s, const char *dealer, const char *sku,
                             hub_dealer_task_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_OPEN_DATA);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    return walk(q, st, NULL, cb, arg, "open data tasks");
}

static depot_err t_overdue(hub_store *s, const char *before, hub_dealer_task_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_OVERDUE);
    hub_sqlite_bind_text(st, 1, before);
    return walk(q, st, NULL, cb, arg, "overdue tasks");
}

static depot_err t_last(hub_store *s, long long *id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, T_LAST);
    depot_err err = hub_sqlite_one_row(q, st, "last task");
    if (err != DEPOT_OK)
        return err;
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return DEPOT_OK;
}

const struct hub_store_task_ops hub_sqlite_task_ops = {
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

depot_err hub_sqlite_tasks_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_tasks_schema, "tasks schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, T__COUNT, q->task_st);
}

void hub_sqlite_tasks_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->task_st, T__COUNT);
}
