/*
 * The ranking engine (cloud/hub_rank.c): KPIs, normalisation, scores, ranks,
 * rebates and movement from a fixture whose figures are worked out by hand
 * in the comments; edge cases of normalisation and tiers; and an engine fed
 * incrementally (a board after every day) equals one rebuilt from scratch
 * from the same facts the way the hub rebuilds at start.
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
#include "ranking/engine.h"

#define DAY 86400000LL
#define MIN 60000LL
#define MAR1 1772323200000LL  /* 2026-03-01T00:00:00Z */
#define FEB1 1769904000000LL  /* 2026-02-01T00:00:00Z */
#define NOW (MAR1 + 10 * DAY) /* 2026-03-11T00:00:00Z: 10 days of March elapsed */

static hub_rank *new_rank(const struct hub_rank_params *p)
{
    hub_rank *r = NULL;
    assert_int_equal(hub_rank_new(p, &r), DEPOT_OK);
    return r;
}

static struct hub_rank_params params(void)
{
    struct hub_rank_params p = {.weights = {0.35, 0.25, 0.15, 0.15, 0.10},
                                .offline_after_ms = 120000};
    assert_true(hub_rank_parse_tiers("0.8:3,0.6:2,0.4:1", &p));
    return p;
}

/* Catalog: S1 10.00, S2 5.00, S3 2.00, S4 1.00 (4 SKUs). */
static void catalog(hub_rank *r)
{
    hub_rank_catalog_begin(r);
    assert_int_equal(hub_rank_catalog_item(r, "S1", 1000), DEPOT_OK);
    assert_int_equal(hub_rank_catalog_item(r, "S2", 500), DEPOT_OK);
    assert_int_equal(hub_rank_catalog_item(r, "S3", 200), DEPOT_OK);
    assert_int_equal(hub_rank_catalog_item(r, "S4", 100), DEPOT_OK);
}

/* Messages every minute from..to (inclusive), through the presence rule. */
static void heard(hub_rank *r, const char *dealer, long long from, long long to)
{
    struct hub_rank_transition t[2];
    for (long long at = from; at <= to; at += MIN)
        hub_rank_seen(r, dealer, at, t);
}

/*
 * February (previous period): A picked 1 x S1 = 10.00, B 5 x S1 = 50.00; nothing
 * else, nobody online. Sales normalised: A 0, B 1; every other KPI is equal for
 * both (collection 1, penetration 1/4, accuracy 1, freshness 0) so normalised 1.
 * Scores: B = 0.35 + 0.65 = 1.0 (rank 1); A = 0.65 (rank 2). C is absent.
 */
static void february(hub_rank *r)
{
    assert_int_equal(hub_rank_sale(r, "A", "S1", FEB1 + 3 * DAY, 1), DEPOT_OK);
    assert_int_equal(hub_rank_sale(r, "B", "S1", FEB1 + 4 * DAY, 5), DEPOT_OK);
}

/*
 * March, as of 2026-03-11 00:00 (10 days elapsed):
 *   A: S1 10 + S2 4 -> 10x10.00 + 4x5.00 = 120.00; 2 of 4 SKUs -> 0.5
 *      invoiced 100.00, paid 100.00 -> 1.0; 4 orders, none defective -> 1.0
 *      online Mar 1 00:00 .. Mar 6 00:00 (offline state) = 5 of 10 days -> 0.5
 *   B: S1 2, S2 2, S3 5, S4 10 -> 20 + 10 + 10 + 10 = 50.00; 4 of 4 -> 1.0
 *      invoiced 200.00, paid 50.00 -> 0.25; 4 orders, 1 defective -> 0.75
 *      online from Mar 1 00:00, heard every minute until Mar 10 23:59 -> 10 of 10 days -> 1.0
 *   C: S3 10 -> 20.00; 1 of 4 -> 0.25; nothing invoiced -> 1.0
 *      2 orders (1 forged, 1 unknown barcode), both defective -> 0.0
 *      online Mar 3 00:00 .. Mar 5 12:00 (replayed marks) = 2.5 of 10 days -> 0.25
 */
static void march(hub_rank *r)
{
    struct hub_rank_transition t[2];
    hub_rank_sale(r, "A", "S1", MAR1 + 1 * DAY, 6);
    hub_rank_sale(r, "A", "S1", MAR1 + 2 * DAY, 4);
    hub_rank_sale(r, "A", "S2", MAR1 + 2 * DAY, 4);
    hub_rank_invoice(r, "A", MAR1 + 2 * DAY, 6000);
    hub_rank_invoice(r, "A", MAR1 + 3 * DAY, 4000);
    hub_rank_payment(r, "A", MAR1 + 4 * DAY, 10000);
    for (int i = 0; i < 4; i++)
        hub_rank_order(r, "A", MAR1 + i * DAY, false);
    heard(r, "A", MAR1, MAR1 + 5 * DAY - MIN);
    assert_int_equal(hub_rank_state(r, "A", MAR1 + 5 * DAY, false, t), 1);
    assert_true(t[0].at == MAR1 + 5 * DAY && !t[0].online);

    hub_rank_sale(r, "B", "S1", MAR1 + 1 * DAY, 2);
    hub_rank_sale(r, "B", "S2", MAR1 + 1 * DAY, 2);
    hub_rank_sale(r, "B", "S3", MAR1 + 5 * DAY, 5);
    hub_rank_sale(r, "B", "S4", MAR1 + 6 * DAY, 10);
    hub_rank_invoice(r, "B", MAR1 + 1 * DAY, 20000);
    hub_rank_payment(r, "B", MAR1 + 9 * DAY, 5000);
    for (int i = 0; i < 4; i++)
        hub_rank_order(r, "B", MAR1 + i * DAY, i == 3);
    heard(r, "B", MAR1, MAR1 + 10 * DAY - MIN);

    hub_rank_sale(r, "C", "S3", MAR1 + 7 * DAY, 10);
    hub_rank_order(r, "C", MAR1 + 7 * DAY, true);
    hub_rank_order(r, "C", MAR1 + 8 * DAY, true);
    hub_rank_mark(r, "C", MAR1 + 2 * DAY, true);
    hub_rank_mark(r, "C", MAR1 + 4 * DAY + DAY / 2, false);
}

static hub_rank *fixture(void)
{
    struct hub_rank_params p = params();
    hub_rank *r = new_rank(&p);
    assert_non_null(r);
    catalog(r);
    february(r);
    march(r);
    return r;
}

static void test_hub_rank_compute_MatchesHandFigures(void **state)
{
    hub_rank *r = fixture();
    struct hub_rank_board b;
    const struct hub_rank_entry *a, *bb, *c;
    (void)state;
    assert_int_equal(hub_rank_compute(r, hub_period_of(NOW), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 3);
    a = &b.e[0], bb = &b.e[1], c = &b.e[2];
    assert_string_equal(a->dealer, "A");
    assert_string_equal(bb->dealer, "B");
    assert_string_equal(c->dealer, "C");
    /* raw KPIs */
    assert_int_equal(a->sales, 12000);
    assert_int_equal(bb->sales, 5000);
    assert_int_equal(c->sales, 2000);
    assert_true(fabs(a->value[HUB_KPI_FRESHNESS] - 0.5) < 1e-12);
    assert_true(fabs(bb->value[HUB_KPI_FRESHNESS] - 1.0) < 1e-12);
    assert_true(fabs(c->value[HUB_KPI_FRESHNESS] - 0.25) < 1e-12);
    assert_true(fabs(bb->value[HUB_KPI_COLLECTION] - 0.25) < 1e-12);
    assert_true(fabs(c->value[HUB_KPI_COLLECTION] - 1.0) < 1e-12);
    assert_true(fabs(bb->value[HUB_KPI_ACCURACY] - 0.75) < 1e-12);
    assert_true(fabs(c->value[HUB_KPI_PENETRATION] - 0.25) < 1e-12);
    /*
     * Normalised (min-max):
     *   sales       min 20.00 max 120.00: A 1, B (50-20)/100 = 0.3, C 0
     *   collection  min 0.25 max 1: A 1, B 0, C 1
     *   penetration min 0.25 max 1: A 0.25/0.75 = 1/3, B 1, C 0
     *   accuracy    min 0 max 1: A 1, B 0.75, C 0
     *   freshness   min 0.25 max 1: A 1/3, B 1, C 0
     * Scores (weights sum to 1):
     *   A = .35x1 + .25x1 + .15/3 + .15x1 + .10/3 = 0.833333...
     *   B = .35x.3 + 0 + .15x1 + .15x.75 + .10x1 = .105 + .15 + .1125 + .1 = 0.4675
     *   C = .25x1 = 0.25
     */
    assert_true(fabs(bb->norm[HUB_KPI_SALES] - 0.3) < 1e-12);
    assert_true(fabs(a->norm[HUB_KPI_PENETRATION] - 1.0 / 3) < 1e-12);
    assert_true(fabs(a->score - (0.35 + 0.25 + 0.05 + 0.15 + 0.1 / 3)) < 1e-12);
    assert_true(fabs(bb->score - 0.4675) < 1e-12);
    assert_true(fabs(c->score - 0.25) < 1e-12);
    /* Rebates: A 0.8333 >= 0.8 -> 3 % of 120.00 = 3.60; B 0.4675 >= 0.4 -> 1 % of 50.00 =
     * 0.50; C below 0.4 -> nothing. */
    assert_true(a->rebate_pct == 3 && a->rebate == 360);
    assert_true(bb->rebate_pct == 1 && bb->rebate == 50);
    assert_true(c->rebate_pct == 0 && c->rebate == 0);
    /* Movement: February B 1st, A 2nd; March A 1st (+1), B 2nd (-1), C new (null). */
    assert_true(a->has_movement && a->movement == 1);
    assert_true(bb->has_movement && bb->movement == -1);
    assert_false(c->has_movement);
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_compute_PreviousPeriodHandFigures(void **state)
{
    hub_rank *r = fixture();
    struct hub_rank_board b;
    (void)state;
    assert_int_equal(hub_rank_compute(r, hub_period_of(FEB1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.e[0].dealer, "B");
    assert_true(fabs(b.e[0].score - 1.0) < 1e-12);
    assert_true(fabs(b.e[1].score - 0.65) < 1e-12);
    /* B 1.0 -> 3 % of 50.00 = 1.50; A 0.65 -> 2 % of 10.00 = 0.20 */
    assert_int_equal(b.e[0].rebate, 150);
    assert_int_equal(b.e[1].rebate, 20);
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_compute_AllEqualNormalisesToOne(void **state)
{
    struct hub_rank_params p = params();
    hub_rank *r = new_rank(&p);
    struct hub_rank_board b;
    (void)state;
    catalog(r);
    hub_rank_sale(r, "X", "S1", MAR1, 3);
    hub_rank_sale(r, "Y", "S1", MAR1, 3);
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 2);
    /* everything equal: every KPI normalised 1, score 1, tie broken by dealer id */
    assert_string_equal(b.e[0].dealer, "X");
    assert_true(b.e[0].score == 1.0 && b.e[1].score == 1.0);
    assert_int_equal(b.e[1].rank, 2);
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_compute_SingleDealerAndEmptyBoard(void **state)
{
    struct hub_rank_params p = params();
    hub_rank *r = new_rank(&p);
    struct hub_rank_board b;
    (void)state;
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 0);
    hub_rank_board_clear(&b);
    hub_rank_payment(r, "Z", MAR1, 100);
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 1);
    assert_true(b.e[0].score == 1.0);
    assert_int_equal(b.e[0].value[HUB_KPI_PENETRATION], 0); /* no catalog: 0 */
    assert_int_equal(b.e[0].rebate, 0);                     /* no sales, 3 % of 0 */
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_compute_CatalogChangeRevalues(void **state)
{
    hub_rank *r = fixture();
    struct hub_rank_board b;
    (void)state;
    hub_rank_catalog_begin(r);
    hub_rank_catalog_item(r, "S1", 2000); /* S1 now 20.00, the others gone */
    assert_int_equal(hub_rank_compute(r, hub_period_of(NOW), NOW, &b), DEPOT_OK);
    /* A: 10 x 20.00 = 200.00 (S2 no longer priced); penetration 1 of 1 */
    assert_int_equal(hub_rank_board_find(&b, "A")->sales, 20000);
    assert_int_equal(hub_rank_board_find(&b, "A")->skus_sold, 1);
    assert_int_equal(hub_rank_board_find(&b, "C")->sales, 0);
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_tier_pct_Thresholds(void **state)
{
    struct hub_rank_params p = params();
    (void)state;
    assert_true(hub_rank_tier_pct(&p, 1.0) == 3);
    assert_true(hub_rank_tier_pct(&p, 0.8) == 3);
    assert_true(hub_rank_tier_pct(&p, 0.8 - 1e-12) == 3); /* rounding of an exact threshold */
    assert_true(hub_rank_tier_pct(&p, 0.7999) == 2);
    assert_true(hub_rank_tier_pct(&p, 0.6) == 2);
    assert_true(hub_rank_tier_pct(&p, 0.4) == 1);
    assert_true(hub_rank_tier_pct(&p, 0.39) == 0);
    assert_true(hub_rank_parse_tiers("0.5:2.5, 0.9:4", &p));
    assert_true(p.n_tiers == 2 && p.tiers[0].min_score == 0.9 && p.tiers[1].pct == 2.5);
    assert_true(hub_rank_parse_tiers("", &p) && p.n_tiers == 0);
    assert_false(hub_rank_parse_tiers("0.5", &p));
    assert_false(hub_rank_parse_tiers("1.5:2", &p));
    assert_false(hub_rank_parse_tiers("0.5:2,0.5:3", &p));
    assert_false(hub_rank_parse_tiers("0.5:2,", &p));
    assert_false(hub_rank_parse_tiers("0.5:200", &p));
}

static void test_hub_rank_task_DueAndDoneInTime(void **state)
{
    struct hub_rank_params p = params();
    hub_rank *r;
    struct hub_rank_board b;
    (void)state;
    p.weights[HUB_KPI_TASKS] = 1;
    r = new_rank(&p);
    /* X: 3 tasks due in March, 2 done in time; Y: 1 due, none; Z: none due (1); April: apart */
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rank_task(r, "X", MAR1 + (5 + i) * DAY, 1, 0), DEPOT_OK);
    assert_int_equal(hub_rank_task(r, "X", MAR1 + 5 * DAY, 0, 1), DEPOT_OK);
    assert_int_equal(hub_rank_task(r, "X", MAR1 + 6 * DAY, 0, 1), DEPOT_OK);
    assert_int_equal(hub_rank_task(r, "X", MAR1 + 40 * DAY, 1, 1), DEPOT_OK);
    assert_int_equal(hub_rank_task(r, "Y", MAR1 + 9 * DAY, 1, 0), DEPOT_OK);
    assert_int_equal(hub_rank_payment(r, "Z", MAR1, 100), DEPOT_OK);
    assert_int_equal(hub_rank_task(r, "bad id!", MAR1, 1, 0), DEPOT_ERR_INVAL);
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 3);
    for (size_t i = 0; i < b.n; i++) {
        const struct hub_rank_entry *e = &b.e[i];
        double want = !strcmp(e->dealer, "X") ? 2.0 / 3.0 : !strcmp(e->dealer, "Y") ? 0.0 : 1.0;
        assert_true(fabs(e->value[HUB_KPI_TASKS] - want) < 1e-12);
        if (!strcmp(e->dealer, "X")) {
            char how[2048];
            assert_int_equal(e->tasks_due, 3);
            assert_int_equal(e->tasks_done, 2);
            hub_rank_how(&b, e, how, sizeof(how));
            assert_non_null(strstr(how, "tasks: 2 of 3 due this month done by their due day"));
        }
    }
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_rank_parse_weights_Forms(void **state)
{
    double w[HUB_KPI__COUNT];
    (void)state;
    assert_true(hub_rank_parse_weights("0.35,0.25,0.15,0.15,0.10", w));
    assert_true(w[0] == 0.35 && w[4] == 0.10);
    assert_true(hub_rank_parse_weights("1, 0, 0, 0, 0", w));
    assert_false(hub_rank_parse_weights("0,0,0,0,0", w));
    assert_false(hub_rank_parse_weights("1,1,1,1", w));
    assert_true(hub_rank_parse_weights("1,1,1,1,1,1", w)); /* with the tasks KPI */
    assert_true(w[HUB_KPI_TASKS] == 1 && w[HUB_KPI_DIVERSION] == 0);
    assert_true(hub_rank_parse_weights("1,1,1,1,1,1,2", w)); /* with the diversion KPI */
    assert_true(w[HUB_KPI_DIVERSION] == 2);
    assert_false(hub_rank_parse_weights("1,1,1,1,1,1,1,1", w));
    assert_false(hub_rank_parse_weights("1,1,1,1,1,", w));
    assert_false(hub_rank_parse_weights("1,-1,1,1,1", w));
    assert_false(hub_rank_parse_weights("1,x,1,1,1", w));
}

/* Items of X found at other dealers: its diversion KPI falls, and weighed, so does its score. */
static void test_hub_rank_diversion_IncidentsWeighAgainstTheDealer(void **state)
{
    struct hub_rank_params p = params();
    struct hub_rank_board b;
    hub_rank *r;
    char how[2048];
    (void)state;
    p.weights[HUB_KPI_DIVERSION] = 1;
    r = new_rank(&p);
    assert_int_equal(hub_rank_payment(r, "X", MAR1, 100), DEPOT_OK);
    assert_int_equal(hub_rank_payment(r, "Y", MAR1, 100), DEPOT_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_rank_diversion(r, "X", MAR1 + (i + 1) * DAY), DEPOT_OK);
    assert_int_equal(hub_rank_diversion(r, "Y", MAR1 + 40 * DAY), DEPOT_OK); /* April */
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), NOW, &b), DEPOT_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.e[0].dealer, "Y"); /* the same but for X's incidents */
    assert_int_equal(b.e[1].diversions, 3);
    assert_true(fabs(b.e[1].value[HUB_KPI_DIVERSION] - 0.25) < 1e-12);
    assert_true(fabs(b.e[0].value[HUB_KPI_DIVERSION] - 1.0) < 1e-12);
    assert_true(b.e[0].score > b.e[1].score);
    hub_rank_how(&b, &b.e[1], how, sizeof(how));
    assert_non_null(strstr(how, "diversion: 1 / (1 + 3 of its items found at other dealers) = "
                                "0.2500"));
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

static void test_hub_period_Boundaries(void **state)
{
    char text[HUB_PERIOD_TEXT];
    int p;
    (void)state;
    assert_int_equal(hub_period_of(MAR1), hub_period_of(FEB1) + 1);
    assert_int_equal(hub_period_of(MAR1 - 1), hub_period_of(FEB1));
    assert_true(hub_period_start(hub_period_of(MAR1 + 5 * DAY)) == MAR1);
    hub_period_text(hub_period_of(MAR1), text);
    assert_string_equal(text, "2026-03");
    assert_true(hub_period_parse("2024-02", &p));
    /* 2024 is a leap year: February has 29 days */
    assert_true(hub_period_start(p + 1) - hub_period_start(p) == 29 * DAY);
    assert_false(hub_period_parse("2024-13", &p));
    assert_false(hub_period_parse("2024-2", &p));
    assert_false(hub_period_parse("24-02-01", &p));
    assert_int_equal(hub_period_of(0), 0);
}

static void test_hub_rank_seen_GapClosesAtOfflineAfter(void **state)
{
    struct hub_rank_params p = params();
    hub_rank *r = new_rank(&p);
    struct hub_rank_transition t[2];
    struct hub_rank_board b;
    (void)state;
    assert_int_equal(hub_rank_seen(r, "G", MAR1, t), 1);
    assert_true(t[0].online && t[0].at == MAR1);
    assert_int_equal(hub_rank_seen(r, "G", MAR1 + MIN, t), 0);
    /* an hour of silence: closed at last message + 120 s, opened again */
    assert_int_equal(hub_rank_seen(r, "G", MAR1 + 61 * MIN, t), 2);
    assert_true(!t[0].online && t[0].at == MAR1 + MIN + 120000);
    assert_true(t[1].online && t[1].at == MAR1 + 61 * MIN);
    /* as of 10 minutes later: (1 min + 2 min) + 2 min (open, capped by offline_after) */
    assert_int_equal(hub_rank_compute(r, hub_period_of(MAR1), MAR1 + 71 * MIN, &b), DEPOT_OK);
    assert_int_equal(b.e[0].online_ms, 5 * MIN);
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

/* ---- incremental == from scratch ---- */

struct log {
    struct {
        char dealer[8];
        struct hub_rank_transition t;
    } marks[512];
    int n;
};

static void logged_seen(hub_rank *r, struct log *lg, const char *dealer, long long at, bool state,
                        bool online)
{
    struct hub_rank_transition t[2];
    int n = state ? hub_rank_state(r, dealer, at, online, t) : hub_rank_seen(r, dealer, at, t);
    for (int i = 0; i < n; i++) {
        snprintf(lg->marks[lg->n].dealer, 8, "%s", dealer);
        lg->marks[lg->n++].t = t[i];
    }
}

static void assert_boards_equal(const struct hub_rank_board *x, const struct hub_rank_board *y)
{
    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; i++) {
        const struct hub_rank_entry *a = &x->e[i], *b = &y->e[i];
        assert_string_equal(a->dealer, b->dealer);
        assert_true(a->score == b->score && a->rank == b->rank && a->rebate == b->rebate);
        assert_true(a->has_movement == b->has_movement && a->movement == b->movement);
        assert_true(a->sales == b->sales && a->paid == b->paid && a->invoiced == b->invoiced);
        assert_true(a->orders == b->orders && a->defective == b->defective);
        assert_true(a->online_ms == b->online_ms && a->skus_sold == b->skus_sold);
    }
}

/*
 * Day by day over March, each day a board is computed (as the hub does);
 * the engine rebuilt at the end from the month sums of units per SKU, the
 * payments, invoices, orders, the logged presence transitions and the last
 * message time (what hub_ranking_load reads) gives the same board.
 */
static void test_hub_rank_compute_IncrementalEqualsScratch(void **state)
{
    struct hub_rank_params p = params();
    hub_rank *inc = new_rank(&p), *scratch = new_rank(&p);
    static const char *const dealers[] = {"D1", "D2", "D3", "D4"};
    static const char *const skus[] = {"S1", "S2", "S3", "S4"};
    long long units[4][4] = {{0}}, paid[4] = {0}, inv[4] = {0}, orders[4] = {0}, bad[4] = {0};
    long long last[4] = {0};
    struct hub_rank_board x, y;
    struct log lg = {.n = 0};
    (void)state;
    catalog(inc);
    catalog(scratch);
    for (int day = 0; day < 20; day++) {
        for (int d = 0; d < 4; d++) {
            long long at = MAR1 + day * DAY + d * 3600000LL;
            int s = (day * 7 + d * 3) % 4, q = (day + d) % 5;
            if ((day + d) % 3 == 0)
                continue; /* some days a dealer is silent: its presence gaps */
            hub_rank_sale(inc, dealers[d], skus[s], at, q);
            units[d][s] += q;
            hub_rank_payment(inc, dealers[d], at, 100 * (d + 1));
            paid[d] += 100 * (d + 1);
            hub_rank_invoice(inc, dealers[d], at, 150 * (day % 4));
            inv[d] += 150 * (day % 4);
            hub_rank_order(inc, dealers[d], at, (day + d) % 4 == 1);
            orders[d]++;
            bad[d] += (day + d) % 4 == 1;
            logged_seen(inc, &lg, dealers[d], at, false, false);
            logged_seen(inc, &lg, dealers[d], at + 30 * MIN, false, false);
            if (d == 2)
                logged_seen(inc, &lg, dealers[d], at + 31 * MIN, true, false);
            last[d] = at + 30 * MIN;
        }
        assert_int_equal(hub_rank_compute(inc, hub_period_of(MAR1), MAR1 + (day + 1) * DAY, &x),
                         DEPOT_OK);
        hub_rank_board_clear(&x);
    }
    for (int d = 0; d < 4; d++) {
        for (int s = 0; s < 4; s++)
            if (units[d][s])
                hub_rank_sale(scratch, dealers[d], skus[s], MAR1, units[d][s]);
        hub_rank_payment(scratch, dealers[d], MAR1, paid[d]);
        hub_rank_invoice(scratch, dealers[d], MAR1, inv[d]);
        for (long long o = 0; o < orders[d]; o++)
            hub_rank_order(scratch, dealers[d], MAR1, o < bad[d]);
    }
    for (int i = 0; i < lg.n; i++)
        hub_rank_mark(scratch, lg.marks[i].dealer, lg.marks[i].t.at, lg.marks[i].t.online);
    for (int d = 0; d < 4; d++)
        hub_rank_last_seen(scratch, dealers[d], last[d]);
    assert_int_equal(hub_rank_compute(inc, hub_period_of(MAR1), MAR1 + 20 * DAY, &x), DEPOT_OK);
    assert_int_equal(hub_rank_compute(scratch, hub_period_of(MAR1), MAR1 + 20 * DAY, &y), DEPOT_OK);
    assert_boards_equal(&x, &y);
    assert_true(x.n == 4 && x.e[0].online_ms > 0);
    hub_rank_board_clear(&x);
    hub_rank_board_clear(&y);
    hub_rank_free(inc);
    hub_rank_free(scratch);
}

static void test_hub_rank_how_ShowsTheComputation(void **state)
{
    hub_rank *r = fixture();
    struct hub_rank_board b;
    char how[2048];
    (void)state;
    assert_int_equal(hub_rank_compute(r, hub_period_of(NOW), NOW, &b), DEPOT_OK);
    hub_rank_how(&b, &b.e[0], how, sizeof(how));
    assert_non_null(strstr(how, "paid 100.00 / invoiced 100.00"));
    assert_non_null(strstr(how, "2 of 4 catalog SKUs"));
    assert_non_null(strstr(how, "rebate 3 % of sales 120.00 = 3.60"));
    hub_rank_how(&b, &b.e[2], how, sizeof(how));
    assert_non_null(strstr(how, "no rebate"));
    hub_rank_board_clear(&b);
    hub_rank_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_rank_compute_MatchesHandFigures),
        cmocka_unit_test(test_hub_rank_compute_PreviousPeriodHandFigures),
        cmocka_unit_test(test_hub_rank_compute_AllEqualNormalisesToOne),
        cmocka_unit_test(test_hub_rank_compute_SingleDealerAndEmptyBoard),
        cmocka_unit_test(test_hub_rank_compute_CatalogChangeRevalues),
        cmocka_unit_test(test_hub_rank_tier_pct_Thresholds),
        cmocka_unit_test(test_hub_rank_task_DueAndDoneInTime),
        cmocka_unit_test(test_hub_rank_diversion_IncidentsWeighAgainstTheDealer),
        cmocka_unit_test(test_hub_rank_parse_weights_Forms),
        cmocka_unit_test(test_hub_period_Boundaries),
        cmocka_unit_test(test_hub_rank_seen_GapClosesAtOfflineAfter),
        cmocka_unit_test(test_hub_rank_compute_IncrementalEqualsScratch),
        cmocka_unit_test(test_hub_rank_how_ShowsTheComputation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
