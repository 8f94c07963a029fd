/*
 * Unit tests of common/link_watch.c: the probe after a quarter keepalive of
 * silence, the verdict a keepalive after the probe (1.25 x keepalive at most),
 * any packet clearing both, and the due time the loops sleep until.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "depot/link_watch.h"

#define KA 6000 /* keepalive 6 s */

static void test_link_watch_QuietLinkIsProbedThenHung(void **state)
{
    struct depot_link_watch w = {0};
    (void)state;
    depot_link_watch_heard(&w, 10000);
    assert_int_equal(depot_link_watch_due(&w, KA), 11500);
    assert_int_equal(depot_link_watch_step(&w, 11499, KA), DEPOT_LINK_QUIET);
    assert_int_equal(depot_link_watch_step(&w, 11500, KA), DEPOT_LINK_PROBE);
    assert_int_equal(depot_link_watch_step(&w, 11600, KA), DEPOT_LINK_QUIET); /* sent once */
    assert_int_equal(depot_link_watch_due(&w, KA), 17500);
    assert_int_equal(depot_link_watch_step(&w, 17499, KA), DEPOT_LINK_QUIET);
    assert_int_equal(depot_link_watch_step(&w, 17500, KA), DEPOT_LINK_HUNG);
    /* found 7.5 s after the last packet: 1.25 x keepalive */
    assert_int_equal(17500 - 10000, KA * 5 / 4);
}

static void test_link_watch_AnswerClearsTheProbe(void **state)
{
    struct depot_link_watch w = {0};
    (void)state;
    depot_link_watch_heard(&w, 0);
    assert_int_equal(depot_link_watch_step(&w, 1500, KA), DEPOT_LINK_PROBE);
    depot_link_watch_heard(&w, 1700); /* the UNSUBACK */
    assert_int_equal(w.probe_ms, 0);
    assert_int_equal(depot_link_watch_step(&w, 3199, KA), DEPOT_LINK_QUIET);
    assert_int_equal(depot_link_watch_step(&w, 3200, KA), DEPOT_LINK_PROBE);
}

static void test_link_watch_TrafficNeverProbes(void **state)
{
    struct depot_link_watch w = {0};
    (void)state;
    for (long long t = 0; t < 100000; t += 1000) {
        depot_link_watch_heard(&w, t);
        assert_int_equal(depot_link_watch_step(&w, t + 999, KA), DEPOT_LINK_QUIET);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_watch_QuietLinkIsProbedThenHung),
        cmocka_unit_test(test_link_watch_AnswerClearsTheProbe),
        cmocka_unit_test(test_link_watch_TrafficNeverProbes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
