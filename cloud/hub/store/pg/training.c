/*
 * The training domain of the PostgreSQL store (store/training.h; the
 * PostgreSQL version of store/sqlite/training.c). The three tables are
 * created by migration 7 (store/pg/schema.c). Differences of form only: an
 * item's id comes from an identity column (ids may have gaps), and the larger
 * of two values is greatest() where SQLite has max().
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/pg/pg.h"
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
    I_COUNT
};
_Static_assert(I_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

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

static const char *const sql[I_COUNT] = {
    [I_ADD] = "INSERT INTO training(title, description, kind, sha, size, type, target_kind, "
              "target, created_by, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
              "RETURNING id",
    [I_GET] = "SELECT " ITEM_COLS " FROM training t WHERE t.id = $1",
    [I_LIST] = "SELECT " ITEM_COLS " FROM training t ORDER BY t.id DESC",
    [I_DEALER] = "SELECT " ITEM_COLS ", " TARGET_COLS " FROM training t JOIN training_targets g "
                 "ON g.item = t.id AND g.dealer = $1 ORDER BY t.id DESC",
    [G_ADD] = "INSERT INTO training_targets(item, dealer, assigned_at) VALUES($1, $2, $3) "
              "ON CONFLICT DO NOTHING",
    [G_GET] = "SELECT " TARGET_COLS " FROM training_targets g WHERE g.item = $1 AND g.dealer = $2",
    [G_LIST] = "SELECT " TARGET_COLS " FROM training_targets g WHERE g.item = $1 "
               "ORDER BY g.dealer",
    [V_VIEW] = "INSERT INTO training_views(item, dealer, account, first_viewed, last_viewed, "
               "progress, completed_at) VALUES($1, $2, $3, $4, $4, $5, 0) "
               "ON CONFLICT(item, dealer, account) DO UPDATE SET "
               "last_viewed = greatest(training_views.last_viewed, excluded.last_viewed), "
               "progress = greatest(training_views.progress, excluded.progress)",
    [V_COMPLETE] = "INSERT INTO training_views(item, dealer, account, first_viewed, last_viewed, "
                   "progress, completed_at) VALUES($1, $2, $3, $4, $4, 0, $4) "
                   "ON CONFLICT(item, dealer, account) DO UPDATE SET "
                   "last_viewed = greatest(training_views.last_viewed, excluded.last_viewed), "
                   "completed_at = excluded.completed_at WHERE training_views.completed_at = 0",
    [V_GET] = "SELECT " VIEW_COLS " FROM training_views v WHERE v.item = $1 AND v.dealer = $2 "
              "AND v.account = $3",
    [V_LIST] = "SELECT " VIEW_COLS " FROM training_views v WHERE v.item = $1 "
               "ORDER BY v.dealer, v.account",
};

static const struct hub_pg_stmts stmts = {PG_T_TRAINING, I_COUNT, sql};

/* Migration 7. */
const char hub_pg_schema_training[] =
    "CREATE TABLE training(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " title " PG_TEXT " NOT NULL, description " PG_TEXT " NOT NULL, kind " PG_TEXT " NOT NULL, "
    " sha " PG_TEXT " NOT NULL, size BIGINT NOT NULL, type " PG_TEXT " NOT NULL, "
    " target_kind " PG_TEXT " NOT NULL, target " PG_TEXT " NOT NULL, "
    " created_by " PG_TEXT " NOT NULL, created_at BIGINT NOT NULL);"
    "CREATE TABLE training_targets(item BIGINT NOT NULL, dealer " PG_TEXT " NOT NULL, "
    " assigned_at BIGINT NOT NULL, PRIMARY KEY(item, dealer));"
    "CREATE INDEX training_targets_by_dealer ON training_targets(dealer, item);"
    "CREATE TABLE training_views(item BIGINT NOT NULL, dealer " PG_TEXT " NOT NULL, "
    " account " PG_TEXT " NOT NULL, first_viewed BIGINT NOT NULL, last_viewed BIGINT NOT NULL, "
    " progress BIGINT NOT NULL, completed_at BIGINT NOT NULL, "
    " PRIMARY KEY(item, dealer, account));";

static void read_item(const PGresult *res, int r, struct hub_training *t)
{
    memset(t, 0, sizeof(*t));
    t->id = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, t->title, sizeof(t->title));
    hub_pg_col_copy(res, r, 2, t->description, sizeof(t->description));
    hub_pg_col_copy(res, r, 3, t->kind, sizeof(t->kind));
    hub_pg_col_copy(res, r, 4, t->sha, sizeof(t->sha));
    t->size = hub_pg_int(res, r, 5);
    hub_pg_col_copy(res, r, 6, t->type, sizeof(t->type));
    hub_pg_col_copy(res, r, 7, t->target_kind, sizeof(t->target_kind));
    hub_pg_col_copy(res, r, 8, t->target, sizeof(t->target));
    hub_pg_col_copy(res, r, 9, t->created_by, sizeof(t->created_by));
    t->created_at = hub_pg_int(res, r, 10);
}

/* The target columns from column c on. */
static void read_target(const PGresult *res, int r, int c, struct hub_training_target *g)
{
    memset(g, 0, sizeof(*g));
    g->item = hub_pg_int(res, r, c);
    hub_pg_col_copy(res, r, c + 1, g->dealer, sizeof(g->dealer));
    g->assigned_at = hub_pg_int(res, r, c + 2);
    g->viewed_at = hub_pg_int(res, r, c + 3);
    g->completed_at = hub_pg_int(res, r, c + 4);
}

static void read_view(const PGresult *res, int r, struct hub_training_view *v)
{
    memset(v, 0, sizeof(*v));
    v->item = hub_pg_int(res, r, 0);
    hub_pg_col_copy(res, r, 1, v->dealer, sizeof(v->dealer));
    hub_pg_col_copy(res, r, 2, v->user, sizeof(v->user));
    v->first_viewed = hub_pg_int(res, r, 3);
    v->last_viewed = hub_pg_int(res, r, 4);
    v->progress = hub_pg_int(res, r, 5);
    v->completed_at = hub_pg_int(res, r, 6);
}

static depot_err i_add(hub_store *s, struct hub_training *t)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, t->title);
    pgp_text(&p, t->description);
    pgp_text(&p, t->kind);
    pgp_text(&p, t->sha);
    pgp_int(&p, t->size);
    pgp_text(&p, t->type);
    pgp_text(&p, t->target_kind);
    pgp_text(&p, t->target);
    pgp_text(&p, t->created_by);
    pgp_int(&p, t->created_at);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, I_ADD, &p, "training add", &res);
    if (err != DEPOT_OK)
        return err == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_DB : err; /* RETURNING gives one row */
    t->id = hub_pg_int(res, 0, 0);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err i_get(hub_store *s, long long id, struct hub_training *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, id);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, I_GET, &p, "training item", &res);
    if (err != DEPOT_OK)
        return err;
    read_item(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

/* A walk of items into cb, or of items with their target row into dcb. */
struct item_walk {
    hub_training_cb cb;
    hub_dealer_training_cb dcb;
    void *arg;
    struct hub_training *t; /* one buffer for every row (an item is some kilobytes) */
};

static int item_row(void *arg, const PGresult *res, int r)
{
    struct item_walk *w = arg;
    struct hub_training_target g;
    read_item(res, r, w->t);
    if (!w->dcb)
        return w->cb(w->arg, w->t);
    read_target(res, r, 11, &g);
    return w->dcb(w->arg, w->t, &g);
}

static depot_err walk(hub_store *s, int idx, const struct pg_params *p, struct item_walk *w,
                      const char *what)
{
    depot_err err;
    w->t = depot_malloc(sizeof(*w->t));
    if (!w->t)
        return DEPOT_ERR_NOMEM;
    err = hub_pg_walk(hub_pg_impl(s), &stmts, idx, p, what, item_row, w);
    depot_free(w->t);
    return err;
}

static depot_err i_list(hub_store *s, hub_training_cb cb, void *arg)
{
    struct item_walk w = {.cb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    return walk(s, I_LIST, &p, &w, "training");
}

static depot_err i_dealer(hub_store *s, const char *dealer, hub_dealer_training_cb cb, void *arg)
{
    struct item_walk w = {.dcb = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    return walk(s, I_DEALER, &p, &w, "dealer training");
}

static depot_err g_add(hub_store *s, long long item, const char *dealer, long long at)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, item);
    pgp_text(&p, dealer);
    pgp_int(&p, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, G_ADD, &p, "training target add", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err g_get(hub_store *s, long long item, const char *dealer,
                       struct hub_training_target *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, item);
    pgp_text(&p, dealer);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, G_GET, &p, "training target", &res);
    if (err != DEPOT_OK)
        return err;
    read_target(res, 0, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

struct target_walk {
    hub_training_target_cb cb;
    void *arg;
};

static int target_row(void *arg, const PGresult *res, int r)
{
    struct target_walk *w = arg;
    struct hub_training_target g;
    read_target(res, r, 0, &g);
    return w->cb(w->arg, &g);
}

static depot_err g_list(hub_store *s, long long item, hub_training_target_cb cb, void *arg)
{
    struct target_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, item);
    return hub_pg_walk(hub_pg_impl(s), &stmts, G_LIST, &p, "training targets", target_row, &w);
}

/* Starts p with a views row's key ($1 item, $2 dealer, $3 user) and `at` ($4). */
static void view_key(struct pg_params *p, long long item, const char *dealer, const char *user,
                     long long at)
{
    pgp_reset(p);
    pgp_int(p, item);
    pgp_text(p, dealer);
    pgp_text(p, user);
    pgp_int(p, at);
}

static depot_err v_view(hub_store *s, long long item, const char *dealer, const char *user,
                        long long at, long long progress)
{
    struct pg_params p;
    long long n;
    view_key(&p, item, dealer, user, at);
    pgp_int(&p, progress);
    return hub_pg_run(hub_pg_impl(s), &stmts, V_VIEW, &p, "training view", &n);
}

static depot_err v_complete(hub_store *s, long long item, const char *dealer, const char *user,
                            long long at, bool *changed)
{
    struct pg_params p;
    long long n = 0;
    depot_err err;
    view_key(&p, item, dealer, user, at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, V_COMPLETE, &p, "training complete", &n);
    *changed = err == DEPOT_OK && n > 0;
    return err;
}

static depot_err v_get(hub_store *s, long long item, const char *dealer, const char *user,
                       struct hub_training_view *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, item);
    pgp_text(&p, dealer);
    pgp_text(&p, user);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, V_GET, &p, "training view", &res);
    if (err != DEPOT_OK)
        return err;
    read_view(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

struct view_walk {
    hub_training_view_cb cb;
    void *arg;
};

static int view_row(void *arg, const PGresult *res, int r)
{
    struct view_walk *w = arg;
    struct hub_training_view v;
    read_view(res, r, &v);
    return w->cb(w->arg, &v);
}

static depot_err v_list(hub_store *s, long long item, hub_training_view_cb cb, void *arg)
{
    struct view_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, item);
    return hub_pg_walk(hub_pg_impl(s), &stmts, V_LIST, &p, "training views", view_row, &w);
}

const struct hub_store_training_ops hub_pg_training_ops = {
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
