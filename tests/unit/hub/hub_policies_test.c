/*
 * The store's policy domain (store/policies.h) on a real database (a SQLite
 * file, or a fresh PostgreSQL database in unit.hub_policies_test.pg):
 * policies added and read back, listed newest first (all, or those that
 * reach a dealer); each target's reach row, its times set once
 * (delivered, seen, acknowledged) and its pushed time at each re-push; and
 * what a dealer's gateway holds: the policies valid on a day, newest first,
 * at most a limit, with whether the dealer acknowledged each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policies.h"
#include "store/policies.h"
#include "store/store.h"
#include "hub_test_util.h"


/* A policy valid from..to (a list of dealers), created at `at`; id 0 until added. */
static struct hub_policy *policy(const char *title, const char *from, const char *to, long long at)
{
    static struct hub_policy p; /* some kilobytes: kept off the stack, copied by the caller */
    memset(&p, 0, sizeof(p));
    snprintf(p.title, sizeof(p.title), "%s", title);
    snprintf(p.body, sizeof(p.body), "The body of %s.", title);
    snprintf(p.notice, sizeof(p.notice), "See %s", title);
    snprintf(p.valid_from, sizeof(p.valid_from), "%s", from);
    snprintf(p.valid_to, sizeof(p.valid_to), "%s", to);
    snprintf(p.target_kind, sizeof(p.target_kind), "list");
    snprintf(p.target, sizeof(p.target), "D1,D2");
    snprintf(p.created_by, sizeof(p.created_by), "admin");
    p.created_at = at;
    return &p;
}

/* Adds a policy as policy() makes it; its id. */
static long long add(hub_store *s, const char *title, const char *from, const char *to,
                     long long at)
{
    struct hub_policy *p = policy(title, from, to, at);
    p->id = 0;
    assert_int_equal(hub_store_policy_add(s, p), DEPOT_OK);
    assert_true(p->id > 0);
    return p->id;
}

static struct hub_policy_reach reach(hub_store *s, long long policy, const char *dealer)
{
    struct hub_policy_reach r;
    assert_int_equal(hub_store_reach_get(s, policy, dealer, &r), DEPOT_OK);
    assert_int_equal(r.policy, policy);
    assert_string_equal(r.dealer, dealer);
    return r;
}

#define LIST_MAX 8

struct policy_list {
    int n, stop_after; /* stop_after 0: every one */
    long long id[LIST_MAX];
    bool acked[LIST_MAX];
    char title[LIST_MAX][DEPOT_POLICY_TITLE_MAX + 1];
};

static int on_policy(void *arg, const struct hub_policy *p)
{
    struct policy_list *l = arg;
    assert_true(l->n < LIST_MAX);
    l->id[l->n] = p->id;
    snprintf(l->title[l->n], sizeof(l->title[0]), "%s", p->title);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static int on_dealer_policy(void *arg, const struct hub_policy *p, bool acked)
{
    struct policy_list *l = arg;
    assert_int_equal(p->withdrawn_at, 0);
    assert_true(l->n < LIST_MAX);
    l->acked[l->n] = acked;
    return on_policy(arg, p);
}

static struct policy_list list(hub_store *s, const char *dealer)
{
    struct policy_list l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_policies_list(s, dealer, on_policy, &l), DEPOT_OK);
    return l;
}

static struct policy_list held(hub_store *s, const char *dealer, const char *today, long long limit)
{
    struct policy_list l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_dealer_policies(s, dealer, today, limit, on_dealer_policy, &l),
                     DEPOT_OK);
    return l;
}

struct reach_list {
    int n;
    struct hub_policy_reach r[LIST_MAX];
};

static int on_reach(void *arg, const struct hub_policy_reach *r)
{
    struct reach_list *l = arg;
    assert_true(l->n < LIST_MAX);
    l->r[l->n++] = *r;
    return 0;
}

/* ---- policies ---- */

static void test_policy_AddGetEveryField(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_policy *p = policy("Promoción de verano", "2024-06-01", "2024-08-31", 1000);
    struct hub_policy *got = calloc(1, sizeof(*got)), *second = calloc(1, sizeof(*second));
    long long first_id;

    /* a body of the longest length, a region's target */
    memset(p->body, 'b', HUB_POLICY_BODY_MAX);
    p->body[HUB_POLICY_BODY_MAX] = '\0';
    snprintf(p->target_kind, sizeof(p->target_kind), "region");
    snprintf(p->target, sizeof(p->target), "north");
    p->withdrawn_at = 777; /* not the caller's to set: a new policy is not withdrawn */
    assert_int_equal(hub_store_policy_add(f->s, p), DEPOT_OK);
    assert_true(p->id > 0);
    first_id = p->id;
    *second = *policy("Second", "2024-01-01", "2024-12-31", 2000);
    assert_int_equal(hub_store_policy_add(f->s, second), DEPOT_OK);
    assert_true(second->id > first_id); /* ids grow */

    assert_int_equal(hub_store_policy_get(f->s, first_id, got), DEPOT_OK);
    assert_int_equal(got->id, first_id);
    assert_string_equal(got->title, "Promoción de verano");
    assert_int_equal(strlen(got->body), HUB_POLICY_BODY_MAX);
    assert_int_equal(strspn(got->body, "b"), HUB_POLICY_BODY_MAX);
    assert_string_equal(got->notice, "See Promoción de verano");
    assert_string_equal(got->valid_from, "2024-06-01");
    assert_string_equal(got->valid_to, "2024-08-31");
    assert_string_equal(got->target_kind, "region");
    assert_string_equal(got->target, "north");
    assert_string_equal(got->created_by, "admin");
    assert_int_equal(got->created_at, 1000);
    assert_int_equal(got->withdrawn_at, 0);

    assert_int_equal(hub_store_policy_get(f->s, second->id, got), DEPOT_OK);
    assert_int_equal(got->id, second->id);
    assert_string_equal(got->title, "Second");
    assert_string_equal(got->body, "The body of Second.");
    assert_string_equal(got->notice, "See Second");
    assert_string_equal(got->valid_from, "2024-01-01");
    assert_string_equal(got->valid_to, "2024-12-31");
    assert_string_equal(got->target_kind, "list");
    assert_string_equal(got->target, "D1,D2");
    assert_int_equal(got->created_at, 2000);
    assert_int_equal(got->withdrawn_at, 0);

    assert_int_equal(hub_store_policy_get(f->s, second->id + 100, got), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_policy_get(f->s, 0, got), DEPOT_ERR_NOTFOUND);
    free(got);
    free(second);
}

static void test_policies_list_AllAndByDealer(void **state)
{
    struct test_store_fixture *f = *state;
    long long a, b, c;
    struct policy_list l;

    l = list(f->s, NULL);
    assert_int_equal(l.n, 0);
    a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    b = add(f->s, "B", "2024-01-01", "2024-12-31", 2000);
    c = add(f->s, "C", "2024-01-01", "2024-12-31", 3000); /* reaches no one */
    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 1100), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, a, "D2", 1100), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, b, "D2", 2100), DEPOT_OK);

    l = list(f->s, NULL); /* newest first */
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], c);
    assert_int_equal(l.id[1], b);
    assert_int_equal(l.id[2], a);
    assert_string_equal(l.title[0], "C");
    assert_string_equal(l.title[2], "A");

    l = list(f->s, "D1");
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], a);
    l = list(f->s, "D2");
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], b);
    assert_int_equal(l.id[1], a);
    assert_int_equal(list(f->s, "D9").n, 0);
    assert_int_equal(list(f->s, "d1").n, 0); /* dealer ids are compared exactly */

    /* the callback stops the walk */
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    assert_int_equal(hub_store_policies_list(f->s, NULL, on_policy, &l), DEPOT_OK);
    assert_int_equal(l.n, 2);
}

/* ---- reach ---- */

static void test_reach_add_NewRowThenDuplicate(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    long long b = add(f->s, "B", "2024-01-01", "2024-12-31", 1000);
    struct hub_policy_reach r;

    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 1500), DEPOT_OK);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.pushed_at, 1500);
    assert_int_equal(r.delivered_at, 0);
    assert_int_equal(r.seen_at, 0);
    assert_int_equal(r.acked_at, 0);
    assert_string_equal(r.acked_by, "");
    assert_string_equal(r.acked_via, "");

    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 2500), DEPOT_ERR_DUPLICATE);
    assert_int_equal(reach(f->s, a, "D1").pushed_at, 1500); /* the first row kept */
    /* the same dealer on another policy, another dealer on the same: new rows */
    assert_int_equal(hub_store_reach_add(f->s, b, "D1", 2600), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, a, "D2", 2700), DEPOT_OK);
    assert_int_equal(reach(f->s, b, "D1").pushed_at, 2600);
    assert_int_equal(reach(f->s, a, "D2").pushed_at, 2700);

    assert_int_equal(hub_store_reach_get(f->s, a, "D3", &r), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_reach_get(f->s, b + 100, "D1", &r), DEPOT_ERR_NOTFOUND);
}

static void test_reach_mark_FirstTimeOnly(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    struct hub_policy_reach r;
    bool changed;

    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 1000), DEPOT_OK);

    /* delivered: by and via ignored */
    changed = false;
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_DELIVERED, 2000, "x", "y", &changed),
        DEPOT_OK);
    assert_true(changed);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.delivered_at, 2000);
    assert_int_equal(r.seen_at, 0);
    assert_int_equal(r.acked_at, 0);
    assert_string_equal(r.acked_by, "");
    assert_string_equal(r.acked_via, "");
    changed = true;
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_DELIVERED, 2100, NULL, NULL, &changed),
        DEPOT_OK);
    assert_false(changed);
    assert_int_equal(reach(f->s, a, "D1").delivered_at, 2000);

    /* seen */
    changed = false;
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_SEEN, 3000, NULL, NULL, &changed), DEPOT_OK);
    assert_true(changed);
    assert_int_equal(reach(f->s, a, "D1").seen_at, 3000);
    changed = true;
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_SEEN, 3100, NULL, NULL, &changed), DEPOT_OK);
    assert_false(changed);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.seen_at, 3000);
    assert_int_equal(r.delivered_at, 2000);
    assert_int_equal(r.acked_at, 0);

    /* acknowledged: by and via stored the first time, kept after */
    changed = false;
    assert_int_equal(hub_store_reach_mark(f->s, a, "D1", HUB_REACH_ACKED, 4000, "dealer-user",
                                          "terminal", &changed),
                     DEPOT_OK);
    assert_true(changed);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.acked_at, 4000);
    assert_string_equal(r.acked_by, "dealer-user");
    assert_string_equal(r.acked_via, "terminal");
    changed = true;
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_ACKED, 4100, "other", "portal", &changed),
        DEPOT_OK);
    assert_false(changed);
    /* changed may be left out */
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_ACKED, 4200, "third", "portal", NULL),
        DEPOT_OK);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.pushed_at, 1000);
    assert_int_equal(r.delivered_at, 2000);
    assert_int_equal(r.seen_at, 3000);
    assert_int_equal(r.acked_at, 4000);
    assert_string_equal(r.acked_by, "dealer-user");
    assert_string_equal(r.acked_via, "terminal");
}

static void test_reach_mark_NotATarget(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    enum hub_reach_mark marks[] = {HUB_REACH_DELIVERED, HUB_REACH_SEEN, HUB_REACH_ACKED};
    struct hub_policy_reach r;
    bool changed;

    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 1000), DEPOT_OK);
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        changed = true;
        assert_int_equal(
            hub_store_reach_mark(f->s, a, "D2", marks[i], 2000, "u", "portal", &changed),
            DEPOT_ERR_NOTFOUND);
        assert_false(changed);
        assert_int_equal(
            hub_store_reach_mark(f->s, a + 100, "D1", marks[i], 2000, "u", "portal", NULL),
            DEPOT_ERR_NOTFOUND);
    }
    /* no row was made, the target's untouched */
    assert_int_equal(hub_store_reach_get(f->s, a, "D2", &r), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_reach_get(f->s, a + 100, "D1", &r), DEPOT_ERR_NOTFOUND);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.delivered_at, 0);
    assert_int_equal(r.seen_at, 0);
    assert_int_equal(r.acked_at, 0);
}

static void test_reach_pushed_AtEachRepush(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    struct hub_policy_reach r;

    assert_int_equal(hub_store_reach_add(f->s, a, "D1", 1000), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, a, "D2", 1000), DEPOT_OK);
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D1", HUB_REACH_DELIVERED, 1500, NULL, NULL, NULL), DEPOT_OK);

    assert_int_equal(hub_store_reach_pushed(f->s, a, "D1", 5000), DEPOT_OK);
    r = reach(f->s, a, "D1");
    assert_int_equal(r.pushed_at, 5000);
    assert_int_equal(r.delivered_at, 1500); /* the other times stay */
    assert_int_equal(reach(f->s, a, "D2").pushed_at, 1000);
    /* again, even at the same time: still a target */
    assert_int_equal(hub_store_reach_pushed(f->s, a, "D1", 6000), DEPOT_OK);
    assert_int_equal(hub_store_reach_pushed(f->s, a, "D1", 6000), DEPOT_OK);
    assert_int_equal(reach(f->s, a, "D1").pushed_at, 6000);

    assert_int_equal(hub_store_reach_pushed(f->s, a, "D3", 7000), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_reach_pushed(f->s, a + 100, "D1", 7000), DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_reach_get(f->s, a, "D3", &r), DEPOT_ERR_NOTFOUND);
}

static void test_reach_list_ByDealer(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = add(f->s, "A", "2024-01-01", "2024-12-31", 1000);
    long long b = add(f->s, "B", "2024-01-01", "2024-12-31", 1000);
    struct reach_list l = {0};

    /* byte-wise on both stores: upper case first, "D10" before "D2" */
    assert_int_equal(hub_store_reach_add(f->s, a, "d1", 1001), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, a, "D2", 1002), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, a, "D10", 1003), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, b, "D1", 1004), DEPOT_OK);
    assert_int_equal(
        hub_store_reach_mark(f->s, a, "D2", HUB_REACH_ACKED, 3000, "u2", "portal", NULL), DEPOT_OK);

    assert_int_equal(hub_store_reach_list(f->s, a, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.r[0].dealer, "D10");
    assert_string_equal(l.r[1].dealer, "D2");
    assert_string_equal(l.r[2].dealer, "d1");
    for (int i = 0; i < 3; i++)
        assert_int_equal(l.r[i].policy, a);
    assert_int_equal(l.r[0].pushed_at, 1003);
    assert_int_equal(l.r[1].pushed_at, 1002);
    assert_int_equal(l.r[1].acked_at, 3000);
    assert_string_equal(l.r[1].acked_by, "u2");
    assert_string_equal(l.r[1].acked_via, "portal");
    assert_int_equal(l.r[2].acked_at, 0);

    memset(&l, 0, sizeof(l));
    assert_int_equal(hub_store_reach_list(f->s, b + 100, on_reach, &l), DEPOT_OK);
    assert_int_equal(l.n, 0);
}

/* ---- what a dealer's gateway holds ---- */

static void test_dealer_policies_ValidOnTodayNewestFirst(void **state)
{
    struct test_store_fixture *f = *state;
    const char *today = "2024-06-15";
    long long year, june, july, expired, today_only, other, future_start;
    struct policy_list l;

    year = add(f->s, "year", "2024-01-01", "2024-12-31", 1000);
    june = add(f->s, "june", "2024-06-01", "2024-06-30", 2000);
    july = add(f->s, "july", "2024-07-01", "2024-07-31", 3000);        /* not yet */
    expired = add(f->s, "expired", "2024-01-01", "2024-06-14", 4000);  /* over yesterday */
    today_only = add(f->s, "today", "2024-06-15", "2024-06-15", 5000); /* both bounds count */
    other = add(f->s, "other", "2024-01-01", "2024-12-31", 6000);      /* reaches D2 only */
    future_start = add(f->s, "tomorrow", "2024-06-16", "2024-12-31", 7000);
    assert_int_equal(hub_store_reach_add(f->s, year, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, june, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, july, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, expired, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, today_only, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, future_start, "D1", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, other, "D2", 1), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, june, "D2", 1), DEPOT_OK);
    /* june acknowledged by D1; year only delivered and seen (not acknowledged) */
    assert_int_equal(
        hub_store_reach_mark(f->s, june, "D1", HUB_REACH_ACKED, 9000, "u1", "terminal", NULL),
        DEPOT_OK);
    assert_int_equal(
        hub_store_reach_mark(f->s, year, "D1", HUB_REACH_DELIVERED, 9000, NULL, NULL, NULL),
        DEPOT_OK);
    assert_int_equal(hub_store_reach_mark(f->s, year, "D1", HUB_REACH_SEEN, 9100, NULL, NULL, NULL),
                     DEPOT_OK);

    l = held(f->s, "D1", today, 10);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], today_only);
    assert_int_equal(l.id[1], june);
    assert_int_equal(l.id[2], year);
    assert_string_equal(l.title[0], "today");
    assert_false(l.acked[0]);
    assert_true(l.acked[1]);
    assert_false(l.acked[2]);

    /* the limit */
    l = held(f->s, "D1", today, 2);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], today_only);
    assert_int_equal(l.id[1], june);
    l = held(f->s, "D1", today, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.id[0], today_only);

    /* another dealer: its own reach, its own acknowledgements */
    l = held(f->s, "D2", today, 10);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.id[0], other);
    assert_int_equal(l.id[1], june);
    assert_false(l.acked[0]);
    assert_false(l.acked[1]);
    assert_int_equal(held(f->s, "D3", today, 10).n, 0);

    /* another day */
    l = held(f->s, "D1", "2024-07-01", 10);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.id[0], future_start);
    assert_int_equal(l.id[1], july);
    assert_int_equal(l.id[2], year);
    assert_int_equal(held(f->s, "D1", "2025-01-01", 10).n, 0);

    /* the callback stops the walk */
    memset(&l, 0, sizeof(l));
    l.stop_after = 1;
    assert_int_equal(hub_store_dealer_policies(f->s, "D1", today, 10, on_dealer_policy, &l),
                     DEPOT_OK);
    assert_int_equal(l.n, 1);
}

/* ---- the service (policies.h): targets, re-push, reach events, down/policy ---- */

#define NOW_MS 1790000000000LL /* 2026-09-21 */

struct sent {
    int n;
    char topic[8][128];
    depot_msg msg[8];
};

static depot_err capture(void *ctx, const char *topic, const char *payload, size_t len, bool retain)
{
    struct sent *c = ctx;
    assert_true(retain);
    assert_true(c->n < 8);
    snprintf(c->topic[c->n], sizeof(c->topic[0]), "%s", topic);
    assert_int_equal(depot_msg_decode(payload, len, &c->msg[c->n], NULL, 0), DEPOT_OK);
    c->n++;
    return DEPOT_OK;
}

static void sent_clear(struct sent *c)
{
    for (int i = 0; i < c->n; i++)
        depot_msg_clear(&c->msg[i]);
    c->n = 0;
}

static void profile(hub_store *s, const char *dealer, const char *region, const char *tier)
{
    struct hub_dealer_profile p;
    memset(&p, 0, sizeof(p));
    snprintf(p.dealer, sizeof(p.dealer), "%s", dealer);
    snprintf(p.region, sizeof(p.region), "%s", region);
    snprintf(p.tier, sizeof(p.tier), "%s", tier);
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_profile_put(s, &p), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
}

static long long publish(hub_store *s, const char *kind, const char *target, size_t want)
{
    struct hub_policy *p = policy("Spring", "2026-09-01", "2026-12-31", 0);
    char why[160] = "";
    size_t n = 0;
    snprintf(p->target_kind, sizeof(p->target_kind), "%s", kind);
    snprintf(p->target, sizeof(p->target), "%s", target);
    assert_int_equal(hub_policies_publish(s, p, NOW_MS, &n, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(n, want);
    return p->id;
}

static void test_service_TargetsByRegionTierListAll(void **state)
{
    struct test_store_fixture *f = *state;
    struct hub_policy *p;
    char why[160] = "";
    size_t n = 0;
    profile(f->s, "N1", "North", "gold");
    profile(f->s, "N2", "North", "silver");
    profile(f->s, "S1", "South", "gold");
    publish(f->s, "region", "North", 2);
    publish(f->s, "tier", "gold", 2);
    publish(f->s, "list", "S1, X9,S1", 2); /* a dealer not known yet is a target too, once */
    publish(f->s, "all", "", 3);
    /* refused whole: nothing written */
    p = policy("Bad", "2026-12-31", "2026-09-01", 0); /* from after to */
    assert_int_equal(hub_policies_publish(f->s, p, NOW_MS, &n, why, sizeof(why)), DEPOT_ERR_INVAL);
    p = policy("Bad", "2026-09-01", "2026-12-31", 0);
    snprintf(p->notice, sizeof(p->notice), "bell\a");
    assert_int_equal(hub_policies_publish(f->s, p, NOW_MS, &n, why, sizeof(why)), DEPOT_ERR_INVAL);
    p = policy("Nobody", "2026-09-01", "2026-12-31", 0);
    snprintf(p->target_kind, sizeof(p->target_kind), "region");
    snprintf(p->target, sizeof(p->target), "Atlantis");
    assert_int_equal(hub_policies_publish(f->s, p, NOW_MS, &n, why, sizeof(why)),
                     DEPOT_ERR_NOTFOUND);
    p = policy("Bad id", "2026-09-01", "2026-12-31", 0);
    snprintf(p->target, sizeof(p->target), "A,B C");
    assert_int_equal(hub_policies_publish(f->s, p, NOW_MS, &n, why, sizeof(why)), DEPOT_ERR_INVAL);
}

static void test_service_DueListPublishedEventsMarkTheirDealerOnly(void **state)
{
    struct test_store_fixture *f = *state;
    struct sent c = {0};
    int n = 0;
    long long id;
    depot_msg ev;
    struct hub_policy_reach r;
    profile(f->s, "A", "North", "gold");
    profile(f->s, "B", "North", "gold");
    id = publish(f->s, "region", "North", 2);

    assert_int_equal(hub_policies_publish_due(f->s, capture, &c, NOW_MS, &n), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(c.topic[0], "depot/v1/A/down/policy");
    assert_int_equal(c.msg[0].body.policy.n_items, 1);
    assert_int_equal(c.msg[0].body.policy.items[0].policy, id);
    assert_false(c.msg[0].body.policy.items[0].acked);
    sent_clear(&c);
    assert_int_equal(hub_policies_publish_due(f->s, capture, &c, NOW_MS + 1, &n), DEPOT_OK);
    assert_int_equal(n, 0); /* nothing due any more */

    /* A's gateway: delivered, then acknowledged at a terminal; B's event about A does nothing */
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    ev = test_event("A", 5, NOW_MS, "gateway", "policy_delivered", "1");
    snprintf(ev.body.event.reason, sizeof(ev.body.event.reason), "%lld", id);
    assert_int_equal(hub_policies_on_message(f->s, &ev, NOW_MS + 10), DEPOT_OK);
    ev = test_event("A", 6, NOW_MS, "scan-1", "policy_ack", "1");
    snprintf(ev.body.event.reason, sizeof(ev.body.event.reason), "%lld", id);
    assert_int_equal(hub_policies_on_message(f->s, &ev, NOW_MS + 20), DEPOT_OK);
    ev = test_event("B", 7, NOW_MS, "scan-1", "policy_ack", "not-a-number");
    assert_int_equal(hub_policies_on_message(f->s, &ev, NOW_MS + 30), DEPOT_OK);
    ev = test_event("B", 8, NOW_MS, "scan-1", "policy_ack", "999");
    assert_int_equal(hub_policies_on_message(f->s, &ev, NOW_MS + 30), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    r = reach(f->s, id, "A");
    assert_true(r.delivered_at == NOW_MS + 10 && r.acked_at == NOW_MS + 20);
    assert_string_equal(r.acked_by, "terminal:scan-1");
    assert_string_equal(r.acked_via, "terminal");
    r = reach(f->s, id, "B");
    assert_true(r.delivered_at == 0 && r.acked_at == 0);

    /* the acknowledgement made A due: its list says acked, so every terminal stops */
    assert_int_equal(hub_policies_publish_due(f->s, capture, &c, NOW_MS + 40, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c.topic[0], "depot/v1/A/down/policy");
    assert_true(c.msg[0].body.policy.items[0].acked);
    sent_clear(&c);

    /* a re-push goes to B only, the one that has not acknowledged */
    size_t again = 0;
    assert_int_equal(hub_policies_repush(f->s, id, NOW_MS + 50, &again), DEPOT_OK);
    assert_int_equal(again, 1);
    assert_int_equal(hub_policies_publish_due(f->s, capture, &c, NOW_MS + 60, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c.topic[0], "depot/v1/B/down/policy");
    sent_clear(&c);
    assert_int_equal(hub_policies_repush(f->s, 999, NOW_MS, &again), DEPOT_ERR_NOTFOUND);
}

/* A row stored before dates were checked (valid_to not a calendar day) is left out of
 * down/policy: the encoder would refuse the whole list, and the dealer would get none. */
static void test_service_StoredBadDateLeftOutOfTheList(void **state)
{
    struct test_store_fixture *f = *state;
    struct sent c = {0};
    struct hub_policy *p;
    int n = 0;
    long long good;
    profile(f->s, "A", "North", "gold");
    good = publish(f->s, "list", "A", 1);
    p = policy("Old row", "2026-09-01", "2027-02-30", NOW_MS);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_policy_add(f->s, p), DEPOT_OK);
    assert_int_equal(hub_store_reach_add(f->s, p->id, "A", NOW_MS), DEPOT_OK);
    assert_int_equal(hub_store_policy_due_mark(f->s, "A", NOW_MS), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_policies_publish_due(f->s, capture, &c, NOW_MS + 1, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(c.topic[0], "depot/v1/A/down/policy");
    assert_int_equal(c.msg[0].body.policy.n_items, 1);
    assert_int_equal(c.msg[0].body.policy.items[0].policy, good);
    sent_clear(&c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, test_store_setup, test_store_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_policy_AddGetEveryField),
        T(test_policies_list_AllAndByDealer),
        T(test_reach_add_NewRowThenDuplicate),
        T(test_reach_mark_FirstTimeOnly),
        T(test_reach_mark_NotATarget),
        T(test_reach_pushed_AtEachRepush),
        T(test_reach_list_ByDealer),
        T(test_dealer_policies_ValidOnTodayNewestFirst),
        T(test_service_TargetsByRegionTierListAll),
        T(test_service_DueListPublishedEventsMarkTheirDealerOnly),
        T(test_service_StoredBadDateLeftOutOfTheList),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
