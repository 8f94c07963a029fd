/* Unit tests of common/id.c: the one rule for dealer ids (include/depot/id.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "depot/id.h"
#include "depot/pki.h"

static void test_depot_dealer_id_valid_AcceptsTheDocumentedAlphabet(void **state)
{
    static const char *const good[] = {"A",        "D042",    "D.042",
                                       "dealer_7", "north-3", "a.b-c_d",
                                       "0",        "..x",     "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"};
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!depot_dealer_id_valid(good[i]))
            fail_msg("'%s' refused", good[i]);
}

static void test_depot_dealer_id_valid_RefusesTopicAndAclCharacters(void **state)
{
    /* MQTT wildcards and separators (a dealer id is a topic level and the ACL's %u), spaces,
     * controls, non-ASCII, empty and 33 characters. */
    static const char *const bad[] = {
        "",    "+",    "#",    "D/1",   "D+",  "D#",   "$SYS",
        "D 1", "D\t1", "D\n1", "D\x7f", "Dé",  "a:b",  "a@b",
        "a,b", "a*b",  "%u",   "a;b",   "a=b", "a\\b", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (depot_dealer_id_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    assert_false(depot_dealer_id_valid(NULL));
}

static void test_depot_id_valid_BoundIsTheCallers(void **state)
{
    (void)state;
    assert_true(depot_id_valid("abc", 3));
    assert_false(depot_id_valid("abcd", 3));
    assert_false(depot_id_valid("", 3));
}

static void test_pki_id_valid_IsTheDealerRule(void **state)
{
    static const char *const ids[] = {"D.042", "A", "hub", "D/1", "", "D 1", "a.b", "x+"};
    (void)state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_int_equal(pki_id_valid(ids[i]), depot_dealer_id_valid(ids[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_dealer_id_valid_AcceptsTheDocumentedAlphabet),
        cmocka_unit_test(test_depot_dealer_id_valid_RefusesTopicAndAclCharacters),
        cmocka_unit_test(test_depot_id_valid_BoundIsTheCallers),
        cmocka_unit_test(test_pki_id_valid_IsTheDealerRule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
