/*
 * Runs a cmocka test group on the Cortex-M3 under qemu-system-arm
 * -semihosting (cmocka.h of this folder): each test's name and result go to
 * the host's stdout, and QEMU exits 0 when every test passed, 1 otherwise.
 * The image starts like a node (boards/cortex-m/startup.c's mcu_reset); its
 * vector table is the one below, with every fault reported as a failure.
 */
#include <setjmp.h>

#include "cmocka.h"
#include "mcu.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUNTIME_ERROR 0x20023

static jmp_buf fail_jump;
static int failures;

static uint32_t semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void say(const char *s)
{
    semihost(SYS_WRITE0, (uint32_t)(uintptr_t)s);
}

static void say_u(unsigned long long v)
{
    char d[24];
    size_t i = sizeof(d);
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    say(d + i);
}

static void __attribute__((noreturn)) quit(int ok)
{
    semihost(SYS_EXIT, ok ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR);
    for (;;)
        ;
}

static void fail_at(const char *file, int line, const char *what)
{
    say("    failed: ");
    say(what);
    say(" at ");
    say(file);
    say(":");
    say_u((unsigned long long)line);
    say("\n");
}

void mcu_fail(const char *file, int line, const char *what)
{
    fail_at(file, line, what);
    longjmp(fail_jump, 1);
}

void mcu_fail_int(const char *file, int line, const char *what, unsigned long long a,
                  unsigned long long b)
{
    fail_at(file, line, what);
    say("    values: ");
    say_u(a);
    say(" and ");
    say_u(b);
    say("\n");
    longjmp(fail_jump, 1);
}

int mcu_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                  CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
    void *group_state = NULL;
    say("[==========] ");
    say(name);
    say(" on the Cortex-M3: ");
    say_u(n);
    say(" tests\n");
    if (group_setup != NULL && group_setup(&group_state) != 0)
        quit(0);
    for (size_t i = 0; i < n; i++) {
        void *state = tests[i].initial_state;
        int ok = 1;
        if (tests[i].setup_func != NULL && tests[i].setup_func(&state) != 0)
            ok = 0;
        else if (setjmp(fail_jump) == 0)
            tests[i].test_func(&state);
        else
            ok = 0;
        if (tests[i].teardown_func != NULL && tests[i].teardown_func(&state) != 0)
            ok = 0;
        say(ok ? "[       OK ] " : "[  FAILED  ] ");
        say(tests[i].name);
        say("\n");
        failures += !ok;
    }
    if (group_teardown != NULL)
        group_teardown(&group_state);
    say(failures ? "[  FAILED  ] " : "[  PASSED  ] ");
    say_u(n - (size_t)failures);
    say(" of ");
    say_u(n);
    say(" tests\n");
    quit(failures == 0);
}

static void fault_isr(void)
{
    say("[  FAILED  ] a fault (hard fault, bus fault, usage fault: e.g. an unaligned access)\n");
    quit(0);
}

extern uint32_t _estack[];
typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector vectors[16] = {
    (vector)(uintptr_t)_estack, mcu_reset, fault_isr, fault_isr, fault_isr, fault_isr, fault_isr,
};
