/* The one date check (common/clock.c: depot_date_valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "depot/clock.h"

static void test_depot_date_valid_CalendarDays(void **state)
{
    static const char *const good[] = {"1970-01-01", "2026-12-31", "2024-02-29",
                                       "2000-02-29", "9999-12-31", "2027-04-30"};
    static const char *const bad[] = {
        "",           "2026-1-01",  "2026-01-1",   "2026/01/01",  "2026-00-10",
        "2026-13-01", "2026-01-00", "2026-01-32",  "2026-04-31",  "2025-02-29",
        "1900-02-29", "1969-12-31", "2026-01-01 ", "2026-01-01x", "20a6-01-01",
        "+026-01-01"};
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(depot_date_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(depot_date_valid(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_date_valid_CalendarDays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
