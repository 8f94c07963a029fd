/*
 * The store's training domain (store/training.h) on a real database (a
 * SQLite file, or a fresh PostgreSQL database in
 * unit.hub_training_store_test.pg), every operation on its own: items added
 * and read back with every field, listed newest first; a dealer's items with
 * its target row; targets added once, read, listed by dealer; a user's views
 * row made by its first report, progress that only grows, last_viewed that
 * only moves on; completion the first time only; a dealer viewed and
 * completed when any of its users did, at the earliest of their times; and
 * migration 7 on a store made before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/tasks.h"
#include "store/training.h"
#include "hub_test_util.h"


#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* An item of kind titled title, created at `at`, for D1 and D2; id 0 until added. */
static struct hub_training *item(const char *title, const char *kind, long long at)
{
    static struct hub_training t; /* some kilobytes: kept off the stack */
    memset(&t, 0, sizeof(t));
    snprintf(t.title, sizeof(t.title), "%s", title);
    snprintf(t.description, sizeof(t.description), "What %s teaches.", title);
    snprintf(t.kind, sizeof(t.kind), "%s", kind);
    snprintf(t.sha, sizeof(t.sha), SHA_A);
    t.size = 123456789012LL; /* past 32 bits: a long video */
    snprintf(t.type, sizeof(t.type), strcmp(kind, "video") ? "application/pdf" : "video/mp4");
    snprintf(t.target_kind, sizeof(t.target_kind), "list");
    snprintf(t.target, sizeof(t.target), "D1,D2");
    snprintf(t.created_by, sizeof(t.created_by), "admin");
    t.created_at = at;
    return &t;
}

static long long add(hub_store *s, const char *title)
{
    struct hub_training *t = item(title, "video", 1000);
    assert_int_equal(hub_store_training_add(s, t), DEPOT_OK);
    assert_true(t->id > 0);
    return t->id;
}

static struct hub_training_target target(hub_store *s, long long id, const char *dealer)
{
    struct hub_training_target g;
    assert_int_equal(hub_store_training_target_get(s, id, dealer, &g), DEPOT_OK);
    assert_int_equal(g.item, id);
    assert_string_equal(g.dealer, dealer);
    return g;
}

static struct hub_training_view view(hub_store *s, long long id, const char *dealer,
                                     const char *user)
{
    struct hub_training_view v;
    assert_int_equal(hub_store_training_view_get(s, id, dealer, user, &v), DEPOT_OK);
    assert_int_equal(v.item, id);
    assert_string_equal(v.dealer, dealer);
    assert_string_equal(v.user, user);
    return v;
}

#define LIST_MAX 16

/* What a walk saw: ids, and the target or views rows. */
struct seen {
    int n, stop_after; /* stop_after 0: every one */
    long long id[LIST_MAX];
    struct hub_training_target g[LIST_MAX];
    struct hub_training_view v[LIST_MAX];
};

static int on_item(void *arg, const struct hub_training *t)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n++] = t->id;
    return l->stop_after && l->n >= l->stop_after;
}

static int on_dealer_item(void *arg, const struct hub_training *t,
                          const struct hub_training_target *g)
{
    struct seen *l = arg;
    assert_int_equal(g->item, t->id); /* the row beside it is its own */
    assert_true(l->n < LIST_MAX);
    l->g[l->n] = *g;
    return on_item(arg, t);
}

static int on_target(void *arg, const struct hub_training_target *g)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = g->item;
    l->g[l->n++] = *g;
    return l->stop_after && l->n >= l->stop_after;
}

static int on_view(void *arg, const struct hub_training_view *v)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = v->item;
    l->v[l->n++] = *v;
    return l->stop_after && l->n >= l->stop_after;
}

/* ---- items ---- */

static void test_training_AddGetEveryField(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_training *t = item("Pump installation", "video", 1234);
    struct hub_training *got = calloc(1, sizeof(*got));
    long long first;

    assert_int_equal(hub_store_training_add(f->s, t), DEPOT_OK);
    first = t->id;
    assert_true(first > 0);
    assert_int_equal(hub_store_training_get(f->s, first, got), DEPOT_OK);
    assert_int_equal(got->id, first);
    assert_string_equal(got->title, "Pump installation");
    assert_string_equal(got->description, "What Pump installation teaches.");
    assert_string_equal(got->kind, "video");
    assert_string_equal(got->sha, SHA_A);
    assert_int_equal(got->size, 123456789012LL);
    assert_string_equal(got->type, "video/mp4");
    assert_string_equal(got->target_kind, "list");
    assert_string_equal(got->target, "D1,D2");
    assert_string_equal(got->created_by, "admin");
    assert_int_equal(got->created_at, 1234);

    t = item("Safety sheet", "document", 2000);
    assert_int_equal(hub_store_training_add(f->s, t), DEPOT_OK);
    assert_true(t->id > first);
    assert_int_equal(hub_store_training_get(f->s, t->id, got), DEPOT_OK);
    assert_string_equal(got->kind, "document");
    assert_string_equal(got->type, "application/pdf");
    assert_int_equal(hub_store_training_get(f->s, t->id + 100, got), DEPOT_ERR_NOTFOUND);
    free(got);
}

static void test_training_list_NewestFirstAndStops(void **state)
{
    struct test_store_fixture *f = *state;
    struct seen l;
    long long a = add(f->s, "A"), b = add(f->s, "B"), c = add(f->s, "C");

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_list(f->s, on_item, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.id[1], b);
    assert_int_equal(l.id[2], a);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    assert_int_equal(hub_store_training_list(f->s, on_item, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
}

static void test_dealer_items_TheDealersNewestFirstWithTheirState(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A"), b = add(f->s, "B"), c = add(f->s, "C");
    struct seen l;

    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 10), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, c, "D1", 30), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, b, "D2", 20), DEPOT_OK);
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "alice", 500, NULL), DEPOT_OK);

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_dealer_items(f->s, "D1", on_dealer_item, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.g[0].assigned_at, 30);
    assert_int_equal(l.g[0].completed_at, 0);
    assert_int_equal(l.id[1], a);
    assert_int_equal(l.g[1].viewed_at, 500);
    assert_int_equal(l.g[1].completed_at, 500);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_dealer_items(f->s, "D3", on_dealer_item, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
}

/* ---- targets ---- */

static void test_target_AddOnceGetList(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A"), b = add(f->s, "B");
    struct hub_training_target g;
    struct seen l;

    assert_int_equal(hub_store_training_target_add(f->s, a, "D2", 100), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 100), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, b, "D1", 200), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 999), DEPOT_ERR_DUPLICATE);
    g = target(f->s, a, "D1");
    assert_int_equal(g.assigned_at, 100); /* the duplicate changed nothing */
    assert_int_equal(g.viewed_at, 0);
    assert_int_equal(g.completed_at, 0);
    assert_int_equal(hub_store_training_target_get(f->s, b, "D2", &g), DEPOT_ERR_NOTFOUND);

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_targets(f->s, a, on_target, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.g[0].dealer, "D1");
    assert_string_equal(l.g[1].dealer, "D2");
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_training_targets(f->s, a, on_target, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
}

/* ---- a user's record ---- */

static void test_view_FirstReportMakesTheRowProgressOnlyGrows(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A");
    struct hub_training_view v;

    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 10), DEPOT_OK);
    assert_int_equal(hub_store_training_view_get(f->s, a, "D1", "alice", &v), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 1000, 30), DEPOT_OK);
    v = view(f->s, a, "D1", "alice");
    assert_int_equal(v.first_viewed, 1000);
    assert_int_equal(v.last_viewed, 1000);
    assert_int_equal(v.progress, 30);
    assert_int_equal(v.completed_at, 0);

    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 2000, 90), DEPOT_OK);
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 1500, 10), DEPOT_OK);
    v = view(f->s, a, "D1", "alice");
    assert_int_equal(v.first_viewed, 1000); /* never changes */
    assert_int_equal(v.last_viewed, 2000);  /* an older report does not move it back */
    assert_int_equal(v.progress, 90);       /* rewinding keeps the furthest point */
    assert_int_equal(hub_store_training_view_get(f->s, a, "D2", "alice", &v), DEPOT_ERR_NOTFOUND);
}

static void test_complete_FirstTimeOnlyAndMakesTheRow(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A");
    struct hub_training_view v;
    bool changed = false;

    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 10), DEPOT_OK);
    /* bob completes without a progress report first: the row is made, viewed then */
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "bob", 700, &changed), DEPOT_OK);
    assert_true(changed);
    v = view(f->s, a, "D1", "bob");
    assert_int_equal(v.first_viewed, 700);
    assert_int_equal(v.completed_at, 700);
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "bob", 900, &changed), DEPOT_OK);
    assert_false(changed);
    assert_int_equal(view(f->s, a, "D1", "bob").completed_at, 700);

    /* alice viewed first, completes later: her row keeps its first view */
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 100, 5), DEPOT_OK);
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "alice", 800, &changed), DEPOT_OK);
    assert_true(changed);
    v = view(f->s, a, "D1", "alice");
    assert_int_equal(v.first_viewed, 100);
    assert_int_equal(v.last_viewed, 800);
    assert_int_equal(v.progress, 5);
    assert_int_equal(v.completed_at, 800);
    /* a progress report after completion keeps the completion */
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 900, 50), DEPOT_OK);
    assert_int_equal(view(f->s, a, "D1", "alice").completed_at, 800);
}

static void test_target_state_AnyUserOnceAtTheEarliest(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A"), b = add(f->s, "B");
    struct hub_training_target g;
    struct seen l;

    assert_int_equal(hub_store_training_target_add(f->s, a, "D1", 10), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, a, "D2", 10), DEPOT_OK);
    assert_int_equal(hub_store_training_target_add(f->s, b, "D1", 10), DEPOT_OK);
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "alice", 300, 1), DEPOT_OK);
    assert_int_equal(hub_store_training_view(f->s, a, "D1", "bob", 200, 1), DEPOT_OK);
    g = target(f->s, a, "D1");
    assert_int_equal(g.viewed_at, 200); /* the earliest of its users */
    assert_int_equal(g.completed_at, 0);
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "alice", 900, NULL), DEPOT_OK);
    assert_int_equal(hub_store_training_complete(f->s, a, "D1", "bob", 600, NULL), DEPOT_OK);
    g = target(f->s, a, "D1");
    assert_int_equal(g.completed_at, 600);
    g = target(f->s, a, "D2");
    assert_int_equal(g.viewed_at, 0);
    g = target(f->s, b, "D1"); /* another item of the same dealer is its own */
    assert_int_equal(g.viewed_at, 0);
    assert_int_equal(g.completed_at, 0);

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_views(f->s, a, on_view, &l), DEPOT_OK);
    assert_int_equal(l.n, 2); /* one row per user, by dealer then user */
    assert_string_equal(l.v[0].user, "alice");
    assert_string_equal(l.v[1].user, "bob");
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_views(f->s, b, on_view, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
}

/* ---- migration 7 ---- */

/* Runs sql on the test's store from a connection of its own. */
static void store_exec(const struct test_store_fixture *f, const char *sql)
{
    assert_true(test_store_exec(f->location, sql));
}

static void test_migration7_AppliesToAStoreMadeBefore(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_task *t = calloc(1, sizeof(*t)), *got = calloc(1, sizeof(*got));
    struct seen l;
    long long id;

    /* a task, as a hub at version 6 left it (without the tables of versions 7 and later) */
    snprintf(t->title, sizeof(t->title), "Before training");
    snprintf(t->rule, sizeof(t->rule), "confirm");
    snprintf(t->target_kind, sizeof(t->target_kind), "all");
    assert_int_equal(hub_store_task_add(f->s, t), DEPOT_OK);
    hub_store_free(f->s);
    f->s = NULL;
    store_exec(f,
               "ALTER TABLE catalog DROP COLUMN serial_prefix; DROP TABLE dealer_territories; DROP "
               "TABLE code_scans; DROP TABLE item_codes; "
               "DROP TABLE shipment_lines; DROP TABLE shipments; "
               "DROP TABLE ledger_heads; DROP TABLE ledger_certs; DROP TABLE ledger_batches; "
               "DROP TABLE ledger_hashes; DROP TABLE webhook_deliveries; DROP TABLE webhook_subs; "
               "DROP TABLE idempotency; "
               "DROP TABLE movements; DROP TABLE disputes; DROP TABLE "
               "statements; DROP TABLE contracts;"
               "DROP TABLE training_views; DROP TABLE training_targets; DROP TABLE training;"
               "DELETE FROM schema_migrations WHERE version >= 7;");

    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    id = add(f->s, "After");
    assert_int_equal(hub_store_training_target_add(f->s, id, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_training_complete(f->s, id, "D1", "alice", 2000, NULL), DEPOT_OK);
    assert_int_equal(target(f->s, id, "D1").completed_at, 2000);
    assert_int_equal(hub_store_task_get(f->s, t->id, got), DEPOT_OK);
    assert_string_equal(got->title, "Before training"); /* what was there stays */
    hub_store_free(f->s);
    f->s = NULL;

    /* version 7 is recorded under its name (the row below goes in only then), and the next
     * open has nothing to do (PostgreSQL would fail to create the tables again) */
    store_exec(f, "INSERT INTO training(title, description, kind, sha, size, type, target_kind, "
                  "target, created_by, created_at) SELECT 'check', '', 'video', '', 0, '', '', "
                  "'', '', 0 FROM schema_migrations WHERE version = 7 AND name = "
                  "'training material and its viewing'");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_training_list(f->s, on_item, &l), DEPOT_OK);
    assert_int_equal(l.n, 2); /* the row version 7's record let in */
    assert_true(l.id[0] > id);
    assert_int_equal(target(f->s, id, "D1").completed_at, 2000);
    free(got);
    free(t);
}

#define T(name) cmocka_unit_test_setup_teardown(name, test_store_setup, test_store_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_training_AddGetEveryField),
        T(test_training_list_NewestFirstAndStops),
        T(test_dealer_items_TheDealersNewestFirstWithTheirState),
        T(test_target_AddOnceGetList),
        T(test_view_FirstReportMakesTheRowProgressOnlyGrows),
        T(test_complete_FirstTimeOnlyAndMakesTheRow),
        T(test_target_state_AnyUserOnceAtTheEarliest),
        T(test_migration7_AppliesToAStoreMadeBefore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
