/*
 * The ranking service (cloud/hub/ranking/service.c) of several hub instances
 * on one database: the same messages and payments, spread over three hubs in
 * turn (each its own store connection and ranking, as the shared
 * subscription and the API spread them), leave every hub with the board that
 * one hub alone builds from them, and the board a fresh rebuild reads from
 * the store. Real stores: SQLite files in a temp folder, or fresh PostgreSQL
 * databases in unit.hub_ranking_test.pg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "ranking/service.h"
#include "store/ranking.h"
#include "hub_test_util.h"

#define HUBS 3
#define MIN 60000LL
#define T0 (1790000000000LL) /* 2026-09-21, a time well inside one month */

/* One database and the hubs on it. */
struct world {
    char location[300];
    int hubs, turn;
    hub_store *store[HUBS];
    hub_ranking *rank[HUBS];
    uint64_t next_id[8];
    long long level[8][2]; /* each dealer's qty chain per SKU (0: not started) */
};

struct fixture {
    char dir[256];
    struct hub_config cfg;
    struct world one, three;
};

static void world_open(struct fixture *f, struct world *w, const char *name, int hubs)
{
    struct hub_catalog_item it[2] = {{"S1", "4006381333931", 250, 100, 1, 100, 0, 1, 500, ""},
                                     {"S2", "4006381333932", 1000, 100, 1, 100, 0, 1, 500, ""}};
    long long version;
    test_store_location(w->location, sizeof(w->location), f->dir, name);
    w->hubs = hubs;
    for (int i = 0; i < hubs; i++) {
        assert_int_equal(hub_store_open(w->location, &w->store[i]), DEPOT_OK);
        assert_int_equal(hub_ranking_new(&f->cfg, &w->rank[i]), DEPOT_OK);
    }
    assert_int_equal(hub_store_begin(w->store[0]), DEPOT_OK);
    assert_int_equal(hub_store_catalog_replace(w->store[0], it, 2, T0, &version), DEPOT_OK);
    assert_int_equal(hub_store_commit(w->store[0]), DEPOT_OK);
    for (int i = 0; i < hubs; i++) /* each hub starts as depot-hub does */
        assert_int_equal(hub_ranking_load(w->rank[i], w->store[i], T0), DEPOT_OK);
}

static void world_close(struct world *w)
{
    for (int i = 0; i < w->hubs; i++) {
        hub_ranking_free(w->rank[i]);
        hub_store_free(w->store[i]);
    }
    test_store_drop(w->location);
}

static int setup(void **state)
{
    struct fixture *f = depot_calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    hub_config_defaults(&f->cfg);
    f->cfg.ranking.offline_after_ms = 5 * MIN;
    world_open(f, &f->one, "one.db", 1);
    world_open(f, &f->three, "three.db", HUBS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    world_close(&f->one);
    world_close(&f->three);
    test_rmdir(f->dir);
    depot_free(f);
    return 0;
}

/* Applies m as the ingest worker of the next hub in turn does. */
static void feed(struct world *w, const depot_msg *m, long long seen)
{
    int i = w->turn;
    hub_store *s = w->store[i];
    hub_ranking *rk = w->rank[i];
    enum hub_apply_result res;
    w->turn = (w->turn + 1) % w->hubs;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_ranking_begin(rk, s, seen), DEPOT_OK);
    assert_int_equal(hub_store_apply(s, m, seen, &res, NULL), DEPOT_OK);
    assert_int_equal(hub_ranking_apply(rk, s, m, seen, res, NULL), DEPOT_OK);
    assert_int_equal(hub_ranking_precommit(rk, s, seen), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    hub_ranking_committed(rk);
}

/* A payment recorded through the API of the next hub in turn. */
static void pay(struct world *w, const char *dealer, long long cents, long long at)
{
    int i = w->turn;
    hub_store *s = w->store[i];
    long long id;
    w->turn = (w->turn + 1) % w->hubs;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_payment_add(s, dealer, cents, "", "ref", "ann", at, &id), DEPOT_OK);
    assert_int_equal(hub_ranking_note_payment(w->rank[i], s, dealer, at, cents), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
}

static int dealer_no(const char *dealer)
{
    return dealer[0] - 'A';
}

static depot_msg picks(struct world *w, const char *dealer, const char *sku, long long units,
                       long long ts, struct depot_movement_item *item)
{
    depot_msg m;
    uint64_t *id = &w->next_id[dealer_no(dealer)];
    memset(&m, 0, sizeof(m));
    memset(item, 0, sizeof(*item));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_MOVEMENTS;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), LEDGER_B);
    m.id = ++*id;
    m.base = m.id;
    m.ts = ts;
    item->mid = m.id * 100;
    item->ts = ts;
    snprintf(item->node, sizeof(item->node), "n1");
    snprintf(item->sku, sizeof(item->sku), "%s", sku);
    snprintf(item->kind, sizeof(item->kind), "pick");
    item->delta = -units;
    { /* the hub applies a batch that continues where the stream's last one ended */
        long long *level = &w->level[dealer_no(dealer)][sku[1] - '1'];
        *level = (*level ? *level : 1000) - units;
        item->qty = *level;
    }
    m.body.movements.items = item;
    m.body.movements.n_items = 1;
    return m;
}

/* The same story for a world: three dealers heard, silent, back, picking and paying. */
static void story(struct world *w)
{
    const char *dealers[] = {"A", "B", "C"};
    struct depot_movement_item item;
    depot_msg m;
    long long t = T0;
    for (int d = 0; d < 3; d++) {
        m = test_state(dealers[d], true, 1, t);
        feed(w, &m, t + d);
    }
    for (int round = 0; round < 6; round++) {
        t += 2 * MIN;
        for (int d = 0; d < 3; d++) {
            if (d == 1 && round >= 2 && round < 4)
                continue; /* B is silent for 6 minutes: offline after 5 */
            m = picks(w, dealers[d], round % 2 ? "S2" : "S1", 1 + d + round, t + d * 1000, &item);
            feed(w, &m, t + d * 1000);
            m = test_stock(dealers[d], LEDGER_A, 1 + (uint64_t)round, 1, t, "S1", 50 - round);
            feed(w, &m, t + d * 1000 + 500);
        }
        if (round == 3)
            pay(w, "A", 12345, t);
    }
    m = test_state("C", false, 1, t + 10000); /* C's last will */
    feed(w, &m, t + 10000);
    pay(w, "B", 500, t + 11000);
}

struct board_view {
    size_t n;
    struct hub_rank_entry e[8];
};

static struct board_view board(hub_ranking *rk, long long now)
{
    struct hub_rank_board b;
    struct board_view v;
    memset(&v, 0, sizeof(v));
    assert_int_equal(hub_ranking_compute(rk, hub_period_of(now), now, &b), DEPOT_OK);
    v.n = b.n < 8 ? b.n : 8;
    memcpy(v.e, b.e, v.n * sizeof(v.e[0]));
    hub_rank_board_clear(&b);
    return v;
}

static void assert_same_board(const struct board_view *x, const struct board_view *y)
{
    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const struct hub_rank_entry *a = &x->e[i], *b = &y->e[i];
        assert_string_equal(a->dealer, b->dealer);
        assert_int_equal(a->rank, b->rank);
        assert_int_equal(a->sales, b->sales);
        assert_int_equal(a->paid, b->paid);
        assert_int_equal(a->invoiced, b->invoiced);
        assert_int_equal(a->orders, b->orders);
        assert_int_equal(a->online_ms, b->online_ms);
        assert_int_equal(a->skus_sold, b->skus_sold);
        assert_true(fabs(a->score - b->score) < 1e-12);
        assert_int_equal(a->rebate, b->rebate);
    }
}

static void test_ThreeHubsHoldTheBoardOfOne(void **state)
{
    struct fixture *f = *state;
    long long now = T0 + 30 * MIN;
    struct board_view ref, v;
    hub_ranking *fresh;
    story(&f->one);
    story(&f->three);
    hub_ranking_tick(f->one.rank[0], f->one.store[0], NULL, NULL, now); /* the API's payments */
    ref = board(f->one.rank[0], now);
    assert_int_equal(ref.n, 3);
    assert_true(ref.e[0].sales > 0);
    for (int i = 0; i < HUBS; i++) {
        /* a hub learns what the others applied at its next transaction or tick */
        hub_ranking_tick(f->three.rank[i], f->three.store[i], NULL, NULL, now);
        v = board(f->three.rank[i], now);
        assert_same_board(&ref, &v);
    }
    /* and what the store holds is the same board: a hub started now rebuilds it */
    assert_int_equal(hub_ranking_new(&f->cfg, &fresh), DEPOT_OK);
    assert_int_equal(hub_ranking_load(fresh, f->three.store[0], now), DEPOT_OK);
    v = board(fresh, now);
    assert_same_board(&ref, &v);
    hub_ranking_free(fresh);
}

static void test_PresenceDecidedOnceAcrossHubs(void **state)
{
    struct fixture *f = *state;
    long long now = T0 + 30 * MIN;
    struct board_view ref, v;
    story(&f->one);
    story(&f->three);
    hub_ranking_tick(f->one.rank[0], f->one.store[0], NULL, NULL, now); /* the API's payments */
    ref = board(f->one.rank[0], now);
    for (int i = 0; i < HUBS; i++)
        hub_ranking_tick(f->three.rank[i], f->three.store[i], NULL, NULL, now);
    v = board(f->three.rank[1], now);
    for (size_t i = 0; i < ref.n; i++) /* B was offline for a while: less than A's time */
        if (!strcmp(ref.e[i].dealer, "B"))
            assert_true(ref.e[i].online_ms < ref.e[i].elapsed_ms);
    assert_same_board(&ref, &v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ThreeHubsHoldTheBoardOfOne, setup, teardown),
        cmocka_unit_test_setup_teardown(test_PresenceDecidedOnceAcrossHubs, setup, teardown),
    };
    depot_log_init("test", DEPOT_LOG_WARN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
