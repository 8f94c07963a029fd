/* Unit tests of the counting allocation wrappers and error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "depot/alloc.h"
#include "depot/error.h"

static void test_depot_malloc_CountsBytesInUse(void **state)
{
    size_t before = depot_mem_in_use();
    char *p = depot_malloc(100);
    (void)state;
    assert_non_null(p);
    assert_int_equal(depot_mem_in_use(), before + 100);
    p = depot_realloc(p, 300);
    assert_non_null(p);
    assert_int_equal(depot_mem_in_use(), before + 300);
    depot_free(p);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_calloc_RefusesOverflow(void **state)
{
    (void)state;
    assert_null(depot_calloc(SIZE_MAX / 2, 4));
    assert_null(depot_malloc(SIZE_MAX - 4));
}

static void test_depot_strdup_CopiesAndCounts(void **state)
{
    size_t before = depot_mem_in_use();
    char *s = depot_strdup("depot");
    (void)state;
    assert_string_equal(s, "depot");
    assert_int_equal(depot_mem_in_use(), before + 6);
    depot_free(s);
    depot_free(NULL);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_strerror_EveryCodeHasText(void **state)
{
    int e;
    (void)state;
    for (e = 0; e < DEPOT_ERR__COUNT; e++)
        assert_true(strlen(depot_strerror((depot_err)e)) > 0);
    assert_string_equal(depot_strerror((depot_err)999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_malloc_CountsBytesInUse),
        cmocka_unit_test(test_depot_calloc_RefusesOverflow),
        cmocka_unit_test(test_depot_strdup_CopiesAndCounts),
        cmocka_unit_test(test_depot_strerror_EveryCodeHasText),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
