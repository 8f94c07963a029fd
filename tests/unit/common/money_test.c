/* depot_money: decimal text and JSON numbers to cents and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "depot/money.h"

static void test_depot_money_parse_Decimals(void **state)
{
    long long c;
    (void)state;
    assert_true(depot_money_parse("12.50", &c));
    assert_int_equal(c, 1250);
    assert_true(depot_money_parse("12.5", &c));
    assert_int_equal(c, 1250);
    assert_true(depot_money_parse("7", &c));
    assert_int_equal(c, 700);
    assert_false(depot_money_parse("12.", &c));
    assert_false(depot_money_parse(".5", &c));
    assert_false(depot_money_parse("1.234", &c));
    assert_false(depot_money_parse("-1", &c));
    assert_false(depot_money_parse("1e3", &c));
    assert_false(depot_money_parse("", &c));
}

static void test_depot_money_from_double_TwoDecimalsOnly(void **state)
{
    long long c;
    (void)state;
    assert_true(depot_money_from_double(0.1, &c));
    assert_int_equal(c, 10);
    assert_true(depot_money_from_double(12345.67, &c));
    assert_int_equal(c, 1234567);
    assert_false(depot_money_from_double(0.005, &c));
    assert_false(depot_money_from_double(-1, &c));
}

static void test_depot_money_format_Cents(void **state)
{
    char buf[DEPOT_MONEY_TEXT];
    (void)state;
    depot_money_format(1250, buf, sizeof(buf));
    assert_string_equal(buf, "12.50");
    depot_money_format(5, buf, sizeof(buf));
    assert_string_equal(buf, "0.05");
    depot_money_format(-300, buf, sizeof(buf));
    assert_string_equal(buf, "-3.00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_money_parse_Decimals),
        cmocka_unit_test(test_depot_money_from_double_TwoDecimalsOnly),
        cmocka_unit_test(test_depot_money_format_Cents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
