/* Unit tests of gateway/busplan.c (RTU line capacity) and gateway/backoff.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"
#include "busplan.h"

static void test_gw_busplan_compute_9600_8E1_ThirtyRegisters(void **state)
{
    struct gw_line line = {9600, 8, 'E', 1, 5};
    int periods[3] = {1000, 1000, 500};
    struct gw_bus_plan p;
    (void)state;
    gw_busplan_compute(&line, 30, periods, 3, &p);
    assert_float_equal(p.bits_per_char, 11.0, 1e-9);
    assert_int_equal(p.request_bytes, 8);
    assert_int_equal(p.response_bytes, 65);
    /* 73 chars * 11 bits / 9600 = 83.646 ms; 2 * 3.5 chars = 8.021 ms; + 5 ms */
    assert_float_equal(p.silence_us, 3.5 * 11 * 1e6 / 9600, 1e-6);
    assert_float_equal(p.poll_ms, 73 * 11 * 1000.0 / 9600 + 7 * 11 * 1000.0 / 9600 + 5, 1e-6);
    assert_float_equal(p.capacity_per_s, 1000.0 / p.poll_ms, 1e-9);
    assert_float_equal(p.demand_per_s, 4.0, 1e-9);
    assert_true(p.load < 1.0);
}

static void test_gw_busplan_compute_OverloadedLineHasLoadAboveOne(void **state)
{
    struct gw_line line = {9600, 8, 'N', 2, 10};
    int periods[20];
    struct gw_bus_plan p;
    (void)state;
    for (int i = 0; i < 20; i++)
        periods[i] = 1000;
    gw_busplan_compute(&line, 30, periods, 20, &p);
    assert_float_equal(p.bits_per_char, 11.0, 1e-9);
    assert_true(p.capacity_per_s < 10.0);
    assert_true(p.load > 1.0);
}

static void test_gw_line_silence_us_FixedAbove19200(void **state)
{
    struct gw_line fast = {115200, 8, 'E', 1, 0};
    struct gw_line slow = {19200, 8, 'N', 1, 0};
    (void)state;
    assert_float_equal(gw_line_silence_us(&fast), 1750.0, 1e-9);
    assert_float_equal(gw_line_silence_us(&slow), 3.5 * 10 * 1e6 / 19200, 1e-6);
}

static void test_gw_backoff_delay_ms_DoublesFromPeriodToCap(void **state)
{
    (void)state;
    assert_int_equal(gw_backoff_delay_ms(1000, 0, 10000), 1000);
    assert_int_equal(gw_backoff_delay_ms(1000, 1, 10000), 1000);
    assert_int_equal(gw_backoff_delay_ms(1000, 2, 10000), 2000);
    assert_int_equal(gw_backoff_delay_ms(1000, 3, 10000), 4000);
    assert_int_equal(gw_backoff_delay_ms(1000, 4, 10000), 8000);
    assert_int_equal(gw_backoff_delay_ms(1000, 5, 10000), 10000);
    assert_int_equal(gw_backoff_delay_ms(1000, 1000, 10000), 10000);
}

static void test_gw_backoff_delay_ms_LongPeriodIsNeverShortened(void **state)
{
    (void)state;
    assert_int_equal(gw_backoff_delay_ms(60000, 7, 10000), 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_busplan_compute_9600_8E1_ThirtyRegisters),
        cmocka_unit_test(test_gw_busplan_compute_OverloadedLineHasLoadAboveOne),
        cmocka_unit_test(test_gw_line_silence_us_FixedAbove19200),
        cmocka_unit_test(test_gw_backoff_delay_ms_DoublesFromPeriodToCap),
        cmocka_unit_test(test_gw_backoff_delay_ms_LongPeriodIsNeverShortened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
