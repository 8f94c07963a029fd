/* unit.item_code_test: item codes in their normal form (depot/item_code.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "depot/item_code.h"

static void norm_is(const char *in, const char *want, const char *want_gtin)
{
    char out[DEPOT_ITEM_CODE_MAX + 1], gtin[DEPOT_GTIN_LEN + 1];
    assert_true(depot_item_code_norm(in, out, gtin));
    assert_string_equal(out, want);
    assert_string_equal(gtin, want_gtin);
}

static void not_code(const char *in)
{
    char out[DEPOT_ITEM_CODE_MAX + 1];
    assert_false(depot_item_code_norm(in, out, NULL));
    assert_string_equal(out, "");
}

static void test_norm_Gs1FormsMeetInOne(void **state)
{
    (void)state;
    norm_is("(01)04006381333931(21)SN42",
            "0104006381333931"
            "21SN42",
            "04006381333931");
    norm_is("010400638133393121SN42",
            "0104006381333931"
            "21SN42",
            "04006381333931");
    norm_is("\x1d"
            "0104006381333931"
            "21SN42\x1d"
            "10LOT7",
            "0104006381333931"
            "21SN42",
            "04006381333931");
    norm_is("(01)04006381333931(17)271231(21)SN42(10)LOT7",
            "0104006381333931"
            "21SN42",
            "04006381333931");
    norm_is("01040063813339311727123121SN42",
            "0104006381333931"
            "21SN42",
            "04006381333931");
}

static void test_norm_OtherCodesKeptAsTheyAre(void **state)
{
    (void)state;
    norm_is("SN-000123", "SN-000123", "");
    norm_is("0104006381333931", "0104006381333931", ""); /* a GTIN without serial: a plain code */
}

static void test_norm_RefusesWhatIsNoCode(void **state)
{
    char long_code[DEPOT_ITEM_CODE_MAX + 2];
    (void)state;
    memset(long_code, 'A', sizeof(long_code) - 1);
    long_code[sizeof(long_code) - 1] = '\0';
    not_code("");
    not_code(NULL);
    not_code("SN 42");
    not_code("SN\n42");
    not_code("caf\xc3\xa9");
    not_code(long_code);
    not_code("(01)04006381333931(21)");                      /* an empty serial */
    not_code("(01)04006381333931(21)123456789012345678901"); /* 21 characters */
    not_code("SN\x1d"
             "42");                      /* GS outside a GS1 string */
    not_code("(01)0400638133393X(21)A"); /* a GS1 form that is not one */
}

static void test_gtin_MatchesTheCatalogBarcode(void **state)
{
    (void)state;
    assert_true(depot_gtin_matches("04006381333931", "4006381333931"));
    assert_true(depot_gtin_matches("00012345678905", "012345678905"));
    assert_true(depot_gtin_matches("04006381333931", "04006381333931"));
    assert_false(depot_gtin_matches("14006381333931", "4006381333931"));
    assert_false(depot_gtin_matches("04006381333931", "4006381333932"));
    assert_false(depot_gtin_matches("04006381333931", "SKU-BOLT"));
    assert_false(depot_gtin_matches("04006381333931", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norm_Gs1FormsMeetInOne),
        cmocka_unit_test(test_norm_OtherCodesKeptAsTheyAre),
        cmocka_unit_test(test_norm_RefusesWhatIsNoCode),
        cmocka_unit_test(test_gtin_MatchesTheCatalogBarcode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
