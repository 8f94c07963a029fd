/* Unit tests of gateway/count.c: weight to count with hysteresis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "count.h"

static void test_gw_count_eval_FirstStableReadingSetsRoundedCount(void **state)
{
    gw_count c;
    long long next = -1;
    (void)state;
    gw_count_init(&c, 12.5, 0.3);
    assert_true(gw_count_eval(&c, 126, true, &next)); /* 10.08 items */
    assert_int_equal(next, 10);
}

static void test_gw_count_eval_UnstableReadingIgnored(void **state)
{
    gw_count c;
    long long next = -1;
    (void)state;
    gw_count_init(&c, 10, 0.3);
    assert_false(gw_count_eval(&c, 500, false, &next));
    gw_count_set(&c, 3);
    assert_false(gw_count_eval(&c, 500, false, &next));
    assert_int_equal(next, -1);
}

static void test_gw_count_eval_NoiseAtBoundaryMakesNoMovement(void **state)
{
    gw_count c;
    long long next;
    int moves = 0;
    (void)state;
    gw_count_init(&c, 10, 0.3);
    gw_count_set(&c, 5);
    /* 55 g = 5.5 items: the rounding boundary. Jitter of +-2.5 g (0.25 items). */
    for (int i = 0; i < 1000; i++) {
        long long g = 55 + (i % 11) / 2 - 2;
        if (gw_count_eval(&c, g, true, &next)) {
            gw_count_set(&c, next);
            moves++;
        }
    }
    assert_int_equal(moves, 0);
    assert_int_equal(c.count, 5);
}

static void test_gw_count_eval_OneItemAddedOrRemovedMoves(void **state)
{
    gw_count c;
    long long next;
    (void)state;
    gw_count_init(&c, 250, 0.3);
    gw_count_set(&c, 4);
    assert_true(gw_count_eval(&c, 1250, true, &next));
    assert_int_equal(next, 5);
    gw_count_set(&c, 5);
    assert_true(gw_count_eval(&c, 1000, true, &next));
    assert_int_equal(next, 4);
}

static void test_gw_count_eval_BandEdgeIsExclusive(void **state)
{
    gw_count c;
    long long next;
    (void)state;
    gw_count_init(&c, 100, 0.3);
    gw_count_set(&c, 5);
    assert_false(gw_count_eval(&c, 580, true, &next)); /* exactly 0.8 away: stays */
    assert_false(gw_count_eval(&c, 420, true, &next));
    assert_true(gw_count_eval(&c, 581, true, &next)); /* 5.81 -> 6 */
    assert_int_equal(next, 6);
    assert_true(gw_count_eval(&c, 419, true, &next)); /* 4.19 -> 4 */
    assert_int_equal(next, 4);
}

static void test_gw_count_eval_NegativeWeightCountsZero(void **state)
{
    gw_count c;
    long long next;
    (void)state;
    gw_count_init(&c, 10, 0.3);
    assert_true(gw_count_eval(&c, -40, true, &next));
    assert_int_equal(next, 0);
    gw_count_set(&c, 0);
    assert_false(gw_count_eval(&c, -400, true, &next));
}

static void test_gw_count_eval_ZeroHysteresisIsPlainRounding(void **state)
{
    gw_count c;
    long long next;
    (void)state;
    gw_count_init(&c, 10, 0.0);
    gw_count_set(&c, 5);
    assert_false(gw_count_eval(&c, 54, true, &next));
    assert_true(gw_count_eval(&c, 56, true, &next));
    assert_int_equal(next, 6);
}

static void test_gw_count_eval_LargeJumpGoesStraightToNewCount(void **state)
{
    gw_count c;
    long long next;
    (void)state;
    gw_count_init(&c, 12.5, 0.3);
    gw_count_set(&c, 2);
    assert_true(gw_count_eval(&c, 1250, true, &next));
    assert_int_equal(next, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_count_eval_FirstStableReadingSetsRoundedCount),
        cmocka_unit_test(test_gw_count_eval_UnstableReadingIgnored),
        cmocka_unit_test(test_gw_count_eval_NoiseAtBoundaryMakesNoMovement),
        cmocka_unit_test(test_gw_count_eval_OneItemAddedOrRemovedMoves),
        cmocka_unit_test(test_gw_count_eval_BandEdgeIsExclusive),
        cmocka_unit_test(test_gw_count_eval_NegativeWeightCountsZero),
        cmocka_unit_test(test_gw_count_eval_ZeroHysteresisIsPlainRounding),
        cmocka_unit_test(test_gw_count_eval_LargeJumpGoesStraightToNewCount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
