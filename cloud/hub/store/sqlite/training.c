/*
 * Training material and its viewing in SQLite (store/training.h): migration 7.
 *
 *   training          (id INTEGER PK AUTOINCREMENT, ...)
 *   training_targets  (item, dealer PK; assigned_at)
 *   training_views    (item, dealer, account PK; the user's record, made by its first report)
 *
 * A target's viewed and completed times are the earliest of its users' rows,
 * computed by the query that reads it (TARGET_COLS), so no write ever has to
 * keep a per-dealer copy in step.
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/sqlite/sqlite.h"
#include "store/training.h"

enum training_stmt {
    I_ADD,
    I_GET,
    I_LIST,
    I_DEALER,
    G_ADD,
    G_GET,
    G_LIST,
    V_VIEW,
    V_COMPLETE,
    V_GET,
    V_LIST,
    I__COUNT
};
_Static_assert(I__COUNT <= SQ_TRAINING_STMTS, "raise SQ_TRAINING_STMTS");

#define ITEM_COLS                                                                                  \
    "t.id, t.title, t.description, t.kind, t.sha, t.size, t.type, t.target_kind, t.target, "       \
    "t.created_by, t.created_at"
#define TARGET_COLS                                                                                \
    "g.item, g.dealer, g.assigned_at, coalesce((SELECT min(v.first_viewed) FROM training_views v " \
    "WHERE v.item = g.item AND v.dealer = g.dealer), 0), coalesce((SELECT min(v.completed_at) "    \
    "FROM training_views v WHERE v.item = g.item AND v.dealer = g.dealer "                         \
    "AND v.completed_at > 0), 0)"
#define VIEW_COLS                                                                                  \
    "v.item, v.dealer, v.account, v.first_viewed, v.last_viewed, v.progress, v.completed_at"

static const char *const sql[I__COUNT] = {
    [I_ADD] = "INSERT INTO training(title, description, kind, sha, size, type, target_kind, "
              "target, created_by, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [I_GET] = "SELECT " ITEM_COLS " FROM training t WHERE t.id = ?1",
    [I_LIST] = "SELECT " ITEM_COLS " FROM training t ORDER BY t.id DESC",
    [I_DEALER] = "SELECT " ITEM_COLS ", " TARGET_COLS " FROM training t JOIN training_targets g "
                 "ON g.item = t.id AND g.dealer = ?1 ORDER BY t.id DESC",
    [G_ADD] = "INSERT INTO training_targets(item, dealer, assigned_at) VALUES(?1, ?2, ?3) "
              "ON CONFLICT DO NOTHING",
    [G_GET] = "SELECT " TARGET_COLS " FROM training_targets g WHERE g.item = ?1 AND g.dealer = ?2",
    [G_LIST] = "SELECT " TARGET_COLS " FROM training_targets g WHERE g.item = ?1 "
               "ORDER BY g.dealer",
    [V_VIEW] = "INSERT INTO training_views(item, dealer, account, first_viewed, last_viewed, "
               "progress, completed_at) VALUES(?1, ?2, ?3, ?4, ?4, ?5, 0) "
               "ON CONFLICT(item, dealer, account) DO UPDATE SET "
               "last_viewed = max(last_viewed, excluded.last_viewed), "
               "progress = max(progress, excluded.progress)",
    [V_COMPLETE] = "INSERT INTO training_views(item, dealer, account, first_viewed, last_viewed, "
                   "progress, completed_at) VALUES(?1, ?2, ?3, ?4, ?4, 0, ?4) "
                   "ON CONFLICT(item, dealer, account) DO UPDATE SET "
                   "last_viewed = max(last_viewed, excluded.last_viewed), "
                   "completed_at = excluded.completed_at WHERE training_views.completed_at = 0",
    [V_GET] = "SELECT " VIEW_COLS " FROM training_views v WHERE v.item = ?1 AND v.dealer = ?2 "
              "AND v.account = ?3",
    [V_LIST] = "SELECT " VIEW_COLS " FROM training_views v WHERE v.item = ?1 "
               "ORDER BY v.dealer, v.account",
};

/* Migration 7 and the setup of every file since (idempotent). */
const char hub_sqlite_training_schema[] =
    "CREATE TABLE IF NOT EXISTS training(id INTEGER PRIMARY KEY AUTOINCREMENT, "
    " title TEXT NOT NULL, description TEXT NOT NULL, kind TEXT NOT NULL, sha TEXT NOT NULL, "
    " size INTEGER NOT NULL, type TEXT NOT NULL, target_kind TEXT NOT NULL, "
    " target TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS training_targets(item INTEGER NOT NULL, dealer TEXT NOT NULL, "
    " assigned_at INTEGER NOT NULL, PRIMARY KEY(item, dealer)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS training_targets_by_dealer ON training_targets(dealer, item);"
    "CREATE TABLE IF NOT EXISTS training_views(item INTEGER NOT NULL, dealer TEXT NOT NULL, "
    " account TEXT NOT NULL, first_viewed INTEGER NOT NULL, last_viewed INTEGER NOT NULL, "
    " progress INTEGER NOT NULL, completed_at INTEGER NOT NULL, "
    " PRIMARY KEY(item, dealer, account)) WITHOUT ROWID;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum training_stmt id)
{
    return hub_sqlite_ready(q->training_st[id]);
}

static void read_item(sqlite3_stmt *st, struct hub_training *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, t->title, sizeof(t->title));
    hub_sqlite_col_copy(st, 2, t->description, sizeof(t->description));
    hub_sqlite_col_copy(st, 3, t->kind, sizeof(t->kind));
    hub_sqlite_col_copy(st, 4, t->sha, sizeof(t->sha));
    t->size = sqlite3_column_int64(st, 5);
    hub_sqlite_col_copy(st, 6, t->type, sizeof(t->type));
    hub_sqlite_col_copy(st, 7, t->target_kind, sizeof(t->target_kind));
    hub_sqlite_col_copy(st, 8, t->target, sizeof(t->target));
    hub_sqlite_col_copy(st, 9, t->created_by, sizeof(t->created_by));
    t->created_at = sqlite3_column_int64(st, 10);
}

/* The target columns from column c on. */
static void read_target(sqlite3_stmt *st, int c, struct hub_training_target *g)
{
    memset(g, 0, sizeof(*g));
    g->item = sqlite3_column_int64(st, c);
    hub_sqlite_col_copy(st, c + 1, g->dealer, sizeof(g->dealer));
    g->assigned_at = sqlite3_column_int64(st, c + 2);
    g->viewed_at = sqlite3_column_int64(st, c + 3);
    g->completed_at = sqlite3_column_int64(st, c + 4);
}

static void read_view(sqlite3_stmt *st, struct hub_training_view *v)
{
    memset(v, 0, sizeof(*v));
    v->item = sqlite3_column_int64(st, 0);
    hub_sqlite_col_copy(st, 1, v->dealer, sizeof(v->dealer));
    hub_sqlite_col_copy(st, 2, v->user, sizeof(v->user));
    v->first_viewed = sqlite3_column_int64(st, 3);
    v->last_viewed = sqlite3_column_int64(st, 4);
    v->progress = sqlite3_column_int64(st, 5);
    v->completed_at = sqlite3_column_int64(st, 6);
}

static depot_err i_add(hub_store *s, struct hub_training *t)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, I_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, t->title);
    hub_sqlite_bind_text(st, 2, t->description);
    hub_sqlite_bind_text(st, 3, t->kind);
    hub_sqlite_bind_text(st, 4, t->sha);
    sqlite3_bind_int64(st, 5, t->size);
    hub_sqlite_bind_text(st, 6, t->type);
    hub_sqlite_bind_text(st, 7, t->target_kind);
    hub_sqlite_bind_text(st, 8, t->target);
    hub_sqlite_bind_text(st, 9, t->created_by);
    sqlite3_bind_int64(st, 10, t->created_at);
    err = hub_sqlite_run(q, st, "training add");
    if (err == DEPOT_OK)
        t->id = sqlite3_last_insert_rowid(q->db);
    return err;
}

static depot_err i_get(hub_store *s, long long id, struct hub_training *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, I_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = hub_sqlite_one_row(q, st, "training item");
    if (err != DEPOT_OK)
        return err;
    read_item(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

/* Walks st (bound): items into cb, or items with their target row into dcb. */
static depot_err walk(struct sqlite_store *q, sqlite3_stmt *st, hub_training_cb cb,
                      hub_dealer_training_cb dcb, void *arg, const char *what)
{
    struct hub_training *t = depot_malloc(sizeof(*t));
    struct hub_training_target g;
    int rc;
    if (!t) {
        sqlite3_reset(st);
        return DEPOT_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_item(st, t);
        if (dcb)
            read_target(st, 11, &g);
        if (dcb ? dcb(arg, t, &g) : cb(arg, t))
            break;
    }
    depot_free(t);
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err i_list(hub_store *s, hub_training_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    return walk(q, prep(q, I_LIST), cb, NULL, arg, "training");
}

static depot_err i_dealer(hub_store *s, const char *dealer, hub_dealer_training_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, I_DEALER);
    hub_sqlite_bind_text(st, 1, dealer);
    return walk(q, st, NULL, cb, arg, "dealer training");
}

static depot_err g_add(hub_store *s, long long item, const char *dealer, long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, G_ADD);
    depot_err err;
    sqlite3_bind_int64(st, 1, item);
    hub_sqlite_bind_text(st, 2, dealer);
    sqlite3_bind_int64(st, 3, at);
    err = hub_sqlite_run(q, st, "training target add");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err g_get(hub_store *s, long long item, const char *dealer,
                       struct hub_training_target *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, G_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, item);
    hub_sqlite_bind_text(st, 2, dealer);
    err = hub_sqlite_one_row(q, st, "training target");
    if (err != DEPOT_OK)
        return err;
    read_target(st, 0, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err g_list(hub_store *s, long long item, hub_training_target_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, G_LIST);
    struct hub_training_target g;
    int rc;
    sqlite3_bind_int64(st, 1, item);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_target(st, 0, &g);
        if (cb(arg, &g))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "training targets");
}

/* Binds a views row's key ($1 item, $2 dealer, $3 user) and `at` ($4). */
static sqlite3_stmt *view_stmt(struct sqlite_store *q, enum training_stmt id, long long item,
                               const char *dealer, const char *user, long long at)
{
    sqlite3_stmt *st = prep(q, id);
    sqlite3_bind_int64(st, 1, item);
    hub_sqlite_bind_text(st, 2, dealer);
    hub_sqlite_bind_text(st, 3, user);
    sqlite3_bind_int64(st, 4, at);
    return st;
}

static depot_err v_view(hub_store *s, long long item, const char *dealer, const char *user,
                        long long at, long long progress)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = view_stmt(q, V_VIEW, item, dealer, user, at);
    sqlite3_bind_int64(st, 5, progress);
    return hub_sqlite_run(q, st, "training view");
}

static depot_err v_complete(hub_store *s, long long item, const char *dealer, const char *user,
                            long long at, bool *changed)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err =
        hub_sqlite_run(q, view_stmt(q, V_COMPLETE, item, dealer, user, at), "training complete");
    *changed = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

static depot_err v_get(hub_store *s, long long item, const char *dealer, const char *user,
                       struct hub_training_view *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, V_GET);
    depot_err err;
    sqlite3_bind_int64(st, 1, item);
    hub_sqlite_bind_text(st, 2, dealer);
    hub_sqlite_bind_text(st, 3, user);
    err = hub_sqlite_one_row(q, st, "training view");
    if (err != DEPOT_OK)
        return err;
    read_view(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err v_list(hub_store *s, long long item, hub_training_view_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, V_LIST);
    struct hub_training_view v;
    int rc;
    sqlite3_bind_int64(st, 1, item);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_view(st, &v);
        if (cb(arg, &v))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "training views");
}

const struct hub_store_training_ops hub_sqlite_training_ops = {
    .add = i_add,
    .get = i_get,
    .list = i_list,
    .dealer_items = i_dealer,
    .target_add = g_add,
    .target_get = g_get,
    .targets = g_list,
    .view = v_view,
    .complete = v_complete,
    .view_get = v_get,
    .views = v_list,
};

depot_err hub_sqlite_training_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_training_schema, "training schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, I__COUNT, q->training_st);
}

void hub_sqlite_training_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->training_st, I__COUNT);
}
