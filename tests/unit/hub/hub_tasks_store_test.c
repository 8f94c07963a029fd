/*
 * The store's task domain (store/tasks.h) on a real database (a SQLite file,
 * or a fresh PostgreSQL database in unit.hub_tasks_store_test.pg), every
 * operation on its own, below the service (hub_tasks_test covers that):
 * tasks added and read back with every field, listed newest first, the
 * newest id; a dealer's tasks with its reach rows; reach rows added once,
 * read, listed by dealer; counted only while not done, done the first time
 * only; the open data tasks of a dealer and a SKU (the exact SKU of a list,
 * no wildcard, the count and stock rules, not done), oldest first; the
 * overdue rows before a day, by dealer then task; and migration 6 on a store
 * made before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/policies.h"
#include "store/store.h"
#include "store/tasks.h"
#include "hub_test_util.h"


/* A task of rule naming skus, due on due, for D1 and D2, created at `at`; id 0 until added. */
static struct hub_task *task(const char *title, const char *rule, const char *skus, const char *due,
                             long long at)
{
    static struct hub_task t; /* some kilobytes: kept off the stack, copied by the caller */
    memset(&t, 0, sizeof(t));
    snprintf(t.title, sizeof(t.title), "%s", title);
    snprintf(t.body, sizeof(t.body), "The body of %s.", title);
    snprintf(t.due, sizeof(t.due), "%s", due);
    snprintf(t.rule, sizeof(t.rule), "%s", rule);
    snprintf(t.skus, sizeof(t.skus), "%s", skus);
    t.level = strcmp(rule, "stock") == 0 ? 10 : 0;
    t.photo = false;
    snprintf(t.target_kind, sizeof(t.target_kind), "list");
    snprintf(t.target, sizeof(t.target), "D1,D2");
    snprintf(t.created_by, sizeof(t.created_by), "admin");
    t.created_at = at;
    return &t;
}

/* Adds a task as task() makes it; its id. */
static long long add(hub_store *s, const char *title, const char *rule, const char *skus,
                     const char *due)
{
    struct hub_task *t = task(title, rule, skus, due, 1000);
    assert_int_equal(hub_store_task_add(s, t), DEPOT_OK);
    assert_true(t->id > 0);
    return t->id;
}

static struct hub_task_reach reach(hub_store *s, long long id, const char *dealer)
{
    struct hub_task_reach r;
    assert_int_equal(hub_store_task_reach_get(s, id, dealer, &r), DEPOT_OK);
    assert_int_equal(r.task, id);
    assert_string_equal(r.dealer, dealer);
    return r;
}

#define LIST_MAX 16

/* What a walk saw: each task's id and rule, and its reach row (dealer walks). */
struct seen {
    int n, stop_after; /* stop_after 0: every one */
    long long id[LIST_MAX];
    char rule[LIST_MAX][HUB_TASK_RULE_MAX + 1];
    struct hub_task_reach r[LIST_MAX];
};

static int on_task(void *arg, const struct hub_task *t)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = t->id;
    snprintf(l->rule[l->n], sizeof(l->rule[0]), "%s", t->rule);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static int on_dealer_task(void *arg, const struct hub_task *t, const struct hub_task_reach *r)
{
    struct seen *l = arg;
    assert_int_equal(r->task, t->id); /* the row beside it is its own */
    assert_true(l->n < LIST_MAX);
    l->r[l->n] = *r;
    return on_task(arg, t);
}

static int on_reach(void *arg, const struct hub_task_reach *r)
{
    struct seen *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = r->task;
    l->r[l->n++] = *r;
    return l->stop_after && l->n >= l->stop_after;
}

static struct seen open_data(hub_store *s, const char *dealer, const char *sku)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_task_open_data(s, dealer, sku, on_dealer_task, &l), DEPOT_OK);
    return l;
}

static struct seen overdue(hub_store *s, const char *before)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_tasks_overdue(s, before, on_dealer_task, &l), DEPOT_OK);
    return l;
}

static struct seen dealer_tasks(hub_store *s, const char *dealer)
{
    struct seen l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_dealer_tasks(s, dealer, on_dealer_task, &l), DEPOT_OK);
    return l;
}

/* ---- tasks ---- */

static void test_task_AddGetEveryFieldAndLastId(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_task *t = task("Count the pumps", "count", "", "2026-03-31", 1234);
    struct hub_task *got = calloc(1, sizeof(*got)), *second = calloc(1, sizeof(*second));
    long long first_id, last = -1;

    assert_int_equal(hub_store_task_last_id(f->s, &last), DEPOT_OK);
    assert_int_equal(last, 0); /* none yet */

    /* every text at its longest */
    memset(t->title, 't', HUB_TASK_TITLE_MAX);
    t->title[HUB_TASK_TITLE_MAX] = '\0';
    memset(t->body, 'b', HUB_TASK_BODY_MAX);
    t->body[HUB_TASK_BODY_MAX] = '\0';
    memset(t->skus, 's', HUB_TASK_SKUS_MAX);
    t->skus[HUB_TASK_SKUS_MAX] = '\0';
    memset(t->target, 'd', HUB_POLICY_TARGET_MAX);
    t->target[HUB_POLICY_TARGET_MAX] = '\0';
    memset(t->created_by, 'a', HUB_ACTOR_MAX);
    t->created_by[HUB_ACTOR_MAX] = '\0';
    t->level = 0;
    t->id = 777; /* not the caller's to choose */
    assert_int_equal(hub_store_task_add(f->s, t), DEPOT_OK);
    assert_true(t->id > 0);
    first_id = t->id;

    *second = *task("Spring display", "confirm", "", "2026-04-15", 5678);
    second->photo = true;
    snprintf(second->target_kind, sizeof(second->target_kind), "region");
    snprintf(second->target, sizeof(second->target), "north");
    assert_int_equal(hub_store_task_add(f->s, second), DEPOT_OK);
    assert_true(second->id > first_id); /* ids grow */

    assert_int_equal(hub_store_task_get(f->s, first_id, got), DEPOT_OK);
    assert_int_equal(got->id, first_id);
    assert_int_equal(strlen(got->title), HUB_TASK_TITLE_MAX);
    assert_int_equal(strspn(got->title, "t"), HUB_TASK_TITLE_MAX);
    assert_int_equal(strlen(got->body), HUB_TASK_BODY_MAX);
    assert_int_equal(strspn(got->body, "b"), HUB_TASK_BODY_MAX);
    assert_string_equal(got->due, "2026-03-31");
    assert_string_equal(got->rule, "count");
    assert_int_equal(strlen(got->skus), HUB_TASK_SKUS_MAX);
    assert_int_equal(got->level, 0);
    assert_false(got->photo);
    assert_string_equal(got->target_kind, "list");
    assert_int_equal(strlen(got->target), HUB_POLICY_TARGET_MAX);
    assert_int_equal(strlen(got->created_by), HUB_ACTOR_MAX);
    assert_int_equal(got->created_at, 1234);

    assert_int_equal(hub_store_task_get(f->s, second->id, got), DEPOT_OK);
    assert_int_equal(got->id, second->id);
    assert_string_equal(got->title, "Spring display");
    assert_string_equal(got->body, "The body of Spring display.");
    assert_string_equal(got->due, "2026-04-15");
    assert_string_equal(got->rule, "confirm");
    assert_string_equal(got->skus, "");
    assert_true(got->photo);
    assert_string_equal(got->target_kind, "region");
    assert_string_equal(got->target, "north");
    assert_string_equal(got->created_by, "admin");
    assert_int_equal(got->created_at, 5678);

    /* a stock task keeps its level and its SKU */
    *second = *task("Keep pumps", "stock", "SKU-PUMP", "2026-05-01", 9000);
    second->level = 42;
    assert_int_equal(hub_store_task_add(f->s, second), DEPOT_OK);
    assert_int_equal(hub_store_task_get(f->s, second->id, got), DEPOT_OK);
    assert_string_equal(got->rule, "stock");
    assert_string_equal(got->skus, "SKU-PUMP");
    assert_int_equal(got->level, 42);

    assert_int_equal(hub_store_task_get(f->s, second->id + 100, got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_get(f->s, 0, got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_last_id(f->s, &last), DEPOT_OK);
    assert_int_equal(last, second->id);
    free(got);
    free(second);
}

static void test_tasks_list_NewestFirstAndStops(void **state)
{
    struct test_store_fixture *f = *state;
    struct seen l;
    long long a, b, c;

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_tasks_list(f->s, on_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
    a = add(f->s, "A", "confirm", "", "2026-01-01");
    b = add(f->s, "B", "count", "SKU-1", "2026-01-01");
    c = add(f->s, "C", "stock", "SKU-2", "2026-01-01");

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_tasks_list(f->s, on_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.id[1], b);
    assert_int_equal(l.id[2], a);
    assert_string_equal(l.rule[0], "stock");
    assert_string_equal(l.rule[2], "confirm");

    memset(&l, 0, sizeof(l));
    l.stop_after = 2; /* the callback stops the walk */
    assert_int_equal(hub_store_tasks_list(f->s, on_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[1], b);
}

static void test_dealer_tasks_TheDealersNewestFirstWithTheirRows(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "confirm", "", "2026-01-01");
    long long b = add(f->s, "B", "count", "SKU-1", "2026-01-01");
    long long c = add(f->s, "C", "confirm", "", "2026-01-01"); /* D2 only */
    struct seen l;

    assert_int_equal(dealer_tasks(f->s, "D1").n, 0);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 1100), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, b, "D1", 1200), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D2", 1100), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, c, "D2", 1300), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_done(f->s, a, "D1", 1500, "ana", "portal", "", "", NULL),
                     DEPOT_OK);

    l = dealer_tasks(f->s, "D1");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], b);
    assert_int_equal(l.id[1], a);
    assert_string_equal(l.r[0].dealer, "D1");
    assert_int_equal(l.r[0].issued_at, 1200);
    assert_int_equal(l.r[0].done_at, 0);
    assert_int_equal(l.r[1].issued_at, 1100);
    assert_int_equal(l.r[1].done_at, 1500); /* done ones are listed too */
    assert_string_equal(l.r[1].done_by, "ana");

    l = dealer_tasks(f->s, "D2");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.id[1], a);
    assert_int_equal(l.r[1].done_at, 0); /* D1's completion is not D2's */
    assert_int_equal(dealer_tasks(f->s, "D9").n, 0);
    assert_int_equal(dealer_tasks(f->s, "d1").n, 0); /* dealer ids are compared exactly */

    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_dealer_tasks(f->s, "D1", on_dealer_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
}

/* ---- reach ---- */

static void test_reach_AddOnceGetList(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "count", "SKU-1", "2026-01-01");
    long long b = add(f->s, "B", "count", "SKU-1", "2026-01-01");
    struct hub_task_reach r;
    struct seen l;

    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 1500), DEPOT_OK);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.issued_at, 1500);
    assert_int_equal(r.done_at, 0);
    assert_string_equal(r.done_by, "");
    assert_string_equal(r.done_via, "");
    assert_string_equal(r.counted, "");
    assert_string_equal(r.photo_sha, "");
    assert_string_equal(r.photo_type, "");

    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 2500), DEPOT_ERR_DUPLICATE);
    assert_int_equal(reach(f->s, a, "D1").issued_at, 1500); /* the first row kept */

    assert_int_equal(hub_store_task_reach_get(f->s, a, "D2", &r), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_reach_get(f->s, b, "D1", &r), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_reach_get(f->s, b + 100, "D1", &r), DEPOT_ERR_NOTFOUND);

    /* by dealer, whatever the order they were added in; only that task's */
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D3", 1600), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D2", 1700), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, b, "D1", 1800), DEPOT_OK);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_task_reach_list(f->s, a, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.r[0].dealer, "D1");
    assert_string_equal(l.r[1].dealer, "D2");
    assert_string_equal(l.r[2].dealer, "D3");
    assert_int_equal(l.r[1].issued_at, 1700);
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.r[i].task, a);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_task_reach_list(f->s, b, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.r[0].issued_at, 1800);
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_task_reach_list(f->s, b + 100, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    assert_int_equal(hub_store_task_reach_list(f->s, a, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
}

static void test_reach_counted_OnlyWhileNotDone(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "count", "SKU-1,SKU-2,SKU-3", "2026-01-01");
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D2", 1000), DEPOT_OK);

    assert_int_equal(hub_store_task_reach_counted(f->s, a, "D1", "SKU-1"), DEPOT_OK);
    assert_string_equal(reach(f->s, a, "D1").counted, "SKU-1");
    assert_int_equal(hub_store_task_reach_counted(f->s, a, "D1", "SKU-1,SKU-3"), DEPOT_OK);
    assert_string_equal(reach(f->s, a, "D1").counted, "SKU-1,SKU-3");
    assert_string_equal(reach(f->s, a, "D2").counted, ""); /* its own row only */
    /* the same value again: no row changes, still there */
    assert_int_equal(hub_store_task_reach_counted(f->s, a, "D1", "SKU-1,SKU-3"), DEPOT_OK);

    assert_int_equal(hub_store_task_reach_counted(f->s, a, "D9", "SKU-1"), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_task_reach_counted(f->s, a + 100, "D1", "SKU-1"),
                     DEPOT_ERR_NOTFOUND);

    /* once done, counted stays as it was */
    assert_int_equal(
        hub_store_task_reach_done(f->s, a, "D1", 2000, "terminal", "data", "", "", NULL), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_counted(f->s, a, "D1", "SKU-1,SKU-2,SKU-3"), DEPOT_OK);
    assert_string_equal(reach(f->s, a, "D1").counted, "SKU-1,SKU-3");
}

static void test_reach_done_FirstTimeOnly(void **state)
{
    struct test_store_fixture *f = *state;
    const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    long long a = add(f->s, "A", "confirm", "", "2026-01-01");
    struct hub_task_reach r;
    bool changed = false;

    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D2", 1000), DEPOT_OK);

    assert_int_equal(hub_store_task_reach_done(f->s, a, "D1", 2000, "ana@d1", "portal", sha,
                                               "image/jpeg", &changed),
                     DEPOT_OK);
    assert_true(changed);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.issued_at, 1000);
    assert_int_equal(r.done_at, 2000);
    assert_string_equal(r.done_by, "ana@d1");
    assert_string_equal(r.done_via, "portal");
    assert_string_equal(r.photo_sha, sha);
    assert_string_equal(r.photo_type, "image/jpeg");
    assert_int_equal(reach(f->s, a, "D2").done_at, 0); /* its own row only */

    /* again: nothing changes, changed false */
    changed = true;
    assert_int_equal(
        hub_store_task_reach_done(f->s, a, "D1", 3000, "bob", "data", "", "", &changed), DEPOT_OK);
    assert_false(changed);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.done_at, 2000);
    assert_string_equal(r.done_by, "ana@d1");
    assert_string_equal(r.done_via, "portal");
    assert_string_equal(r.photo_sha, sha);
    assert_string_equal(r.photo_type, "image/jpeg");
    /* changed may be NULL */
    assert_int_equal(hub_store_task_reach_done(f->s, a, "D1", 4000, "bob", "data", "", "", NULL),
                     DEPOT_OK);
    assert_int_equal(reach(f->s, a, "D1").done_at, 2000);

    /* without a photo, changed NULL, the first time */
    assert_int_equal(
        hub_store_task_reach_done(f->s, a, "D2", 2500, "terminal", "data", "", "", NULL), DEPOT_OK);
    r = reach(f->s, a, "D2");
    assert_int_equal(r.done_at, 2500);
    assert_string_equal(r.done_via, "data");
    assert_string_equal(r.photo_sha, "");
    assert_string_equal(r.photo_type, "");

    /* not a target */
    changed = true;
    assert_int_equal(
        hub_store_task_reach_done(f->s, a, "D9", 2000, "ana", "portal", "", "", &changed),
        DEPOT_ERR_NOTFOUND);
    assert_false(changed);
    assert_int_equal(
        hub_store_task_reach_done(f->s, a + 100, "D1", 2000, "ana", "portal", "", "", NULL),
        DEPOT_ERR_NOTFOUND);
}

/* ---- the data rules' walks ---- */

static void test_open_data_ExactSkuDataRulesNotDoneOldestFirst(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "count", "SKU_1,SKU-2", "2026-01-01");
    long long b = add(f->s, "B", "stock", "SKU-2", "2026-01-01");
    long long c = add(f->s, "C", "confirm", "SKU-2", "2026-01-01"); /* not a data rule */
    long long d = add(f->s, "D", "count", "SKUX1", "2026-01-01");   /* SKU_1 as a LIKE pattern */
    long long e = add(f->s, "E", "count", "SKU-22,XSKU-2", "2026-01-01"); /* SKU-2 within */
    long long g = add(f->s, "G", "count", "SKU-0,SKU-2", "2026-01-01");   /* D1 done it */
    long long h = add(f->s, "H", "count", "SKU-2", "2026-01-01");         /* D2 only */
    long long k = add(f->s, "K", "count", "SKU%1", "2026-01-01");
    long long all[] = {a, b, c, d, e, g, k};
    struct seen l;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_int_equal(hub_store_task_reach_add(f->s, all[i], "D1", 1000 + (long long)i),
                         DEPOT_OK);
        assert_int_equal(hub_store_task_reach_add(f->s, all[i], "D2", 1000), DEPOT_OK);
    }
    assert_int_equal(hub_store_task_reach_add(f->s, h, "D2", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_done(f->s, g, "D1", 2000, "t", "data", "", "", NULL),
                     DEPOT_OK);

    l = open_data(f->s, "D1", "SKU-2"); /* oldest first */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], a);
    assert_int_equal(l.id[1], b);
    assert_string_equal(l.rule[0], "count");
    assert_string_equal(l.rule[1], "stock");
    assert_string_equal(l.r[0].dealer, "D1");
    assert_int_equal(l.r[0].issued_at, 1000);
    assert_int_equal(l.r[1].issued_at, 1001);
    assert_int_equal(l.r[0].done_at, 0);

    l = open_data(f->s, "D2", "SKU-2"); /* G not done by D2; H is D2's */
    assert_int_equal(l.n, 4);
    assert_int_equal(l.id[0], a);
    assert_int_equal(l.id[1], b);
    assert_int_equal(l.id[2], g);
    assert_int_equal(l.id[3], h);
    assert_string_equal(l.r[3].dealer, "D2");

    l = open_data(f->s, "D1", "SKU_1"); /* not D's SKUX1 nor K's SKU%1 */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], a);
    l = open_data(f->s, "D1", "SKUX1");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], d);
    l = open_data(f->s, "D1", "SKU%1");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], k);
    l = open_data(f->s, "D1", "SKU-22"); /* the last of a list, and the first */
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], e);
    l = open_data(f->s, "D1", "XSKU-2");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], e);
    assert_int_equal(open_data(f->s, "D1", "SKU").n, 0);   /* a part of one */
    assert_int_equal(open_data(f->s, "D1", "SKU-0").n, 0); /* only G's, done */
    assert_int_equal(open_data(f->s, "D1", "").n, 0);
    assert_int_equal(open_data(f->s, "D1", "SKU-1,SKU-2").n, 0);
    assert_int_equal(open_data(f->s, "D9", "SKU-2").n, 0);

    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_task_open_data(f->s, "D2", "SKU-2", on_dealer_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 1);
}

static void test_overdue_BeforeTheDayNotDoneByDealerThenTask(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "confirm", "", "2026-01-31");
    long long b = add(f->s, "B", "count", "SKU-1", "2026-01-30");
    long long c = add(f->s, "C", "confirm", "", "2026-02-01");
    long long d = add(f->s, "D", "stock", "SKU-1", "2025-12-31");
    struct seen l;

    assert_int_equal(overdue(f->s, "2026-12-31").n, 0); /* no rows yet */
    /* added in no particular order */
    assert_int_equal(hub_store_task_reach_add(f->s, b, "D2", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D2", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, c, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, a, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, b, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_add(f->s, d, "D3", 1000), DEPOT_OK);
    assert_int_equal(hub_store_task_reach_done(f->s, b, "D1", 2000, "t", "data", "", "", NULL),
                     DEPOT_OK);

    /* on 2026-02-01, due days up to 2026-01-31 have ended */
    l = overdue(f->s, "2026-02-01");
    assert_int_equal(l.n, 4);
    assert_string_equal(l.r[0].dealer, "D1");
    assert_int_equal(l.id[0], a); /* D1's B is done */
    assert_string_equal(l.r[1].dealer, "D2");
    assert_int_equal(l.id[1], a);
    assert_string_equal(l.r[2].dealer, "D2");
    assert_int_equal(l.id[2], b);
    assert_string_equal(l.r[3].dealer, "D3");
    assert_int_equal(l.id[3], d);
    for (int i = 0; i < l.n; i++)
        assert_int_equal(l.r[i].done_at, 0);

    l = overdue(f->s, "2026-01-31"); /* A is due that day: not yet */
    assert_int_equal(l.n, 2);
    assert_string_equal(l.r[0].dealer, "D2");
    assert_int_equal(l.id[0], b);
    assert_int_equal(l.id[1], d);
    l = overdue(f->s, "2026-02-02");
    assert_int_equal(l.n, 5);
    assert_int_equal(l.id[1], c); /* D1: A, then C */
    assert_int_equal(overdue(f->s, "2025-12-31").n, 0);
    assert_int_equal(overdue(f->s, "2026-01-01").n, 1);

    memset(&l, 0, sizeof(l));
    l.stop_after = 3;
    assert_int_equal(hub_store_tasks_overdue(f->s, "2026-02-02", on_dealer_task, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
}

/* ---- migration 6 ---- */

/* Runs sql on the test's store from a connection of its own. */
static void store_exec(const struct test_store_fixture *f, const char *sql)
{
    assert_true(test_store_exec(f->location, sql));
}

static void test_migration6_AppliesToAStoreMadeBefore(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_policy *p = calloc(1, sizeof(*p));
    struct hub_task *got = calloc(1, sizeof(*got));
    long long id, last = -1;

    /* a policy, as a hub at version 5 left it (without the tables of versions 6 and later) */
    snprintf(p->title, sizeof(p->title), "Before tasks");
    snprintf(p->valid_from, sizeof(p->valid_from), "2026-01-01");
    snprintf(p->valid_to, sizeof(p->valid_to), "2026-12-31");
    snprintf(p->target_kind, sizeof(p->target_kind), "all");
    assert_int_equal(hub_store_policy_add(f->s, p), DEPOT_OK);
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
               "DROP TABLE task_reach; DROP TABLE tasks;"
               "DELETE FROM schema_migrations WHERE version >= 6;");

    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    id = add(f->s, "After", "count", "SKU-1", "2026-01-01");
    assert_int_equal(hub_store_task_reach_add(f->s, id, "D1", 1000), DEPOT_OK);
    assert_int_equal(reach(f->s, id, "D1").issued_at, 1000);
    assert_int_equal(open_data(f->s, "D1", "SKU-1").n, 1);
    assert_int_equal(hub_store_task_get(f->s, id, got), DEPOT_OK);
    assert_string_equal(got->title, "After");
    assert_int_equal(hub_store_task_last_id(f->s, &last), DEPOT_OK);
    assert_int_equal(last, id);
    assert_int_equal(hub_store_policy_get(f->s, p->id, p), DEPOT_OK);
    assert_string_equal(p->title, "Before tasks"); /* what was there stays */
    hub_store_free(f->s);
    f->s = NULL;

    /* version 6 is recorded under its name (the row below goes in only then), and the next
     * open has nothing to do (PostgreSQL would fail to create the tables again) */
    store_exec(f, "INSERT INTO tasks(title, body, due, rule, skus, level, photo, target_kind, "
                  "target, created_by, created_at) SELECT 'check', '', '', '', '', 0, 0, '', '', "
                  "'', 0 FROM schema_migrations WHERE version = 6 AND name = "
                  "'tasks and their completion'");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    assert_int_equal(hub_store_task_last_id(f->s, &last), DEPOT_OK);
    assert_true(last > id); /* the row version 6's record let in */
    assert_int_equal(reach(f->s, id, "D1").issued_at, 1000);
    free(got);
    free(p);
}

#define T(name) cmocka_unit_test_setup_teardown(name, test_store_setup, test_store_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_task_AddGetEveryFieldAndLastId),
        T(test_tasks_list_NewestFirstAndStops),
        T(test_dealer_tasks_TheDealersNewestFirstWithTheirRows),
        T(test_reach_AddOnceGetList),
        T(test_reach_counted_OnlyWhileNotDone),
        T(test_reach_done_FirstTimeOnly),
        T(test_open_data_ExactSkuDataRulesNotDoneOldestFirst),
        T(test_overdue_BeforeTheDayNotDoneByDealerThenTask),
        T(test_migration6_AppliesToAStoreMadeBefore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
