/*
 * The part of cmocka's API the firmware's unit tests use, for running the
 * same test sources on the Cortex-M3 under qemu-system-arm (cmocka itself is
 * not built for arm-none-eabi). Same semantics: a failed assertion ends its
 * test (longjmp) and the group goes on; integers compare as unsigned long
 * long, as cmocka's LargestIntegralType. Output and the exit status go
 * through semihosting (runner.c): QEMU exits 0 when every test passed.
 */
#ifndef DEPOT_MCU_CMOCKA_H
#define DEPOT_MCU_CMOCKA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
    CMFixtureFunction setup_func;
    CMFixtureFunction teardown_func;
    void *initial_state;
};

/* clang-format off */
#define cmocka_unit_test(f) {#f, f, NULL, NULL, NULL}
#define cmocka_unit_test_setup(f, setup) {#f, f, setup, NULL, NULL}
#define cmocka_unit_test_setup_teardown(f, setup, teardown) {#f, f, setup, teardown, NULL}
/* clang-format on */
#define cmocka_run_group_tests(group, group_setup, group_teardown)                                 \
    mcu_run_group(#group, group, sizeof(group) / sizeof((group)[0]), group_setup, group_teardown)

int mcu_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  CMFixtureFunction group_setup, CMFixtureFunction group_teardown);
void mcu_fail_int(const char *file, int line, const char *what, unsigned long long a,
                  unsigned long long b) __attribute__((noreturn));
void mcu_fail(const char *file, int line, const char *what) __attribute__((noreturn));

#define assert_int_equal(a, b)                                                                     \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ != b_)                                                                              \
            mcu_fail_int(__FILE__, __LINE__, #a " == " #b, a_, b_);                                \
    } while (0)
#define assert_int_not_equal(a, b)                                                                 \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ == b_)                                                                              \
            mcu_fail_int(__FILE__, __LINE__, #a " != " #b, a_, b_);                                \
    } while (0)
#define assert_true(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            mcu_fail(__FILE__, __LINE__, #c);                                                      \
    } while (0)
#define assert_false(c)                                                                            \
    do {                                                                                           \
        if (c)                                                                                     \
            mcu_fail(__FILE__, __LINE__, "!(" #c ")");                                             \
    } while (0)
#define assert_memory_equal(a, b, n)                                                               \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            mcu_fail(__FILE__, __LINE__, "memory " #a " == " #b);                                  \
    } while (0)
#define assert_string_equal(a, b)                                                                  \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0)                                                                 \
            mcu_fail(__FILE__, __LINE__, "string " #a " == " #b);                                  \
    } while (0)
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_null(p) assert_true((p) == NULL)

#endif
