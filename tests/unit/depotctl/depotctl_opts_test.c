/*
 * Unit tests of depotctl's shared helpers (cloud/depotctl/ctl.c): the option
 * table parser and its refusals, the verb and command tables' dispatch, and
 * the checks of option values (ints, money, paths) with the exact messages a
 * user sees. Output is caught from stdout and stderr, not assumed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_test_util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct ctl_capture cap;

/* The dir/days options of a test command "t". */
static const char *dir, *days;
static const struct ctl_opt opts[] = {
    {"dir", &dir, true, "the folder"},
    {"days", &days, false, "how many days"},
};

static int parse(int argc, char **argv)
{
    dir = days = NULL;
    return ctl_parse("t", "Test a thing.", argc, argv, opts, N(opts));
}

static void test_parse_sets_values(void **state)
{
    (void)state;
    assert_int_equal(ctl_run(&cap, parse, "t", "--dir", "/a", "--days=5", NULL), CTL_OK);
    assert_string_equal(dir, "/a");
    assert_string_equal(days, "5");
    assert_string_equal(cap.out, "");
    assert_string_equal(cap.err, "");
    /* given twice: the last one */
    assert_int_equal(ctl_run(&cap, parse, "t", "--dir=/a", "--dir", "/b", NULL), CTL_OK);
    assert_string_equal(dir, "/b");
    assert_null(days);
}

static void test_parse_refusals(void **state)
{
    static const char usage[] = "usage: t --dir VALUE [--days VALUE]\nTest a thing.\n";
    (void)state;
    assert_int_equal(ctl_run(&cap, parse, "t", "--days", "3", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "t: missing --dir\n", 17) == 0);
    assert_non_null(strstr(cap.err, usage));
    assert_string_equal(cap.out, "");
    assert_int_equal(ctl_run(&cap, parse, "t", "--dir", "/a", "--bogus", "1", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "t: unknown option '--bogus'\n", 28) == 0);
    assert_int_equal(ctl_run(&cap, parse, "t", "--dir", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "t: --dir needs a value\n", 23) == 0);
    assert_int_equal(ctl_run(&cap, parse, "t", "--dir", "/a", "extra", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "t: unexpected argument 'extra'\n", 31) == 0);
}

static void test_parse_help(void **state)
{
    (void)state;
    assert_int_equal(ctl_run(&cap, parse, "t", "--bogus", "-h", NULL), -1);
    assert_string_equal(cap.out, "usage: t --dir VALUE [--days VALUE]\nTest a thing.\n\noptions:\n"
                                 "  --dir          the folder\n"
                                 "  --days         how many days\n");
    assert_string_equal(cap.err, "");
}

static const char *file;

static int parse_file(int argc, char **argv)
{
    dir = days = NULL;
    return ctl_parse_arg("t import", "FILE.csv", "Import.", argc, argv, opts + 1, 1, &file);
}

static void test_parse_arg(void **state)
{
    (void)state;
    assert_int_equal(ctl_run(&cap, parse_file, "import", "--days", "2", "a.csv", NULL), CTL_OK);
    assert_string_equal(file, "a.csv");
    assert_string_equal(days, "2");
    assert_int_equal(ctl_run(&cap, parse_file, "import", NULL), CTL_USAGE);
    assert_null(file);
    assert_true(
        strncmp(cap.err, "t import: missing FILE.csv\nusage: t import FILE.csv [--days", 58) == 0);
    assert_int_equal(ctl_run(&cap, parse_file, "import", "a.csv", "b.csv", NULL), CTL_USAGE);
    assert_true(strncmp(cap.err, "t import: unexpected argument 'b.csv'\n", 38) == 0);
}

static void test_values_in_order(void **state)
{
    char *argv[] = {"x", "--hub", "a", "--hubs", "no", "--hub=b", "--hub", NULL};
    const char *out[2] = {NULL, NULL};
    (void)state;
    assert_int_equal(ctl_values(7, argv, "hub", out, 2), 2);
    assert_string_equal(out[0], "a");
    assert_string_equal(out[1], "b");
    /* more than max: counted, not stored */
    assert_int_equal(ctl_values(7, argv, "hub", out, 1), 2);
    assert_int_equal(ctl_values(7, argv, "port", out, 2), 0);
}

static void test_int(void **state)
{
    int v = -1;
    bool ok;
    (void)state;
    ctl_capture_begin(&cap);
    ok = ctl_int("c", "port", "8883", 1, 65535, &v);
    ctl_capture_end(&cap);
    assert_true(ok);
    assert_int_equal(v, 8883);
    assert_string_equal(cap.err, "");
    static const char *const bad[] = {"0", "65536", "12x", "", " ", "-1", "99999999999999999999"};
    for (size_t i = 0; i < N(bad); i++) {
        char want[128];
        ctl_capture_begin(&cap);
        ok = ctl_int("c", "port", bad[i], 1, 65535, &v);
        ctl_capture_end(&cap);
        assert_false(ok);
        snprintf(want, sizeof(want), "c: --port must be a number from 1 to 65535, not '%s'\n",
                 bad[i]);
        assert_string_equal(cap.err, want);
        assert_int_equal(v, 8883);
    }
}

static bool money(const char *text, bool above_zero, long long *cents)
{
    bool ok;
    ctl_capture_begin(&cap);
    ok = ctl_money("c", "amount", text, above_zero, cents);
    ctl_capture_end(&cap);
    return ok;
}

static void test_money(void **state)
{
    long long c = -1;
    (void)state;
    assert_true(money("12.5", true, &c));
    assert_int_equal(c, 1250);
    assert_true(money("0.01", true, &c));
    assert_int_equal(c, 1);
    assert_true(money("0", false, &c));
    assert_int_equal(c, 0);
    assert_string_equal(cap.err, "");
    assert_false(money("0", true, &c));
    assert_string_equal(cap.err, "c: --amount must be a decimal above 0, not '0'\n");
    assert_false(money("1,50", false, &c));
    assert_string_equal(cap.err, "c: --amount must be a decimal such as 5000.00, not '1,50'\n");
    assert_false(money("-3", false, &c));
    assert_false(money("1.234", false, &c));
    assert_false(money("", true, &c));
}

static void test_path(void **state)
{
    char out[16], want[128];
    bool ok;
    (void)state;
    assert_true(ctl_path(out, sizeof(out), "/pki", "ca.key"));
    assert_string_equal(out, "/pki/ca.key");
    assert_true(ctl_path(out, sizeof(out), "/pki", "12345678.k")); /* 15 characters: fits */
    ctl_capture_begin(&cap);
    ok = ctl_path(out, sizeof(out), "/pki", "123456789.k");
    ctl_capture_end(&cap);
    assert_false(ok);
    snprintf(want, sizeof(want), "depotctl: path too long: /pki/123456789.k\n");
    assert_string_equal(cap.err, want);
}

static void test_read_line(void **state)
{
    static const char text[] = "a,b\r\n\nlong line here\nx\0y\nlast";
    FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
    char buf[8];
    (void)state;
    assert_non_null(f);
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "a,b");
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "");
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), CTL_LINE_LONG);
    assert_string_equal(buf, "long li");
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), CTL_LINE_NUL);
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "last");
    assert_int_equal(ctl_read_line(f, buf, sizeof(buf)), 0);
    fclose(f);
}

static const struct ctl_verb verbs[] = {
    {"list", NULL, "list them"},
    {"show", "ID", "one of them"},
};
static const struct ctl_verb_table table = {"depotctl t", "Test verbs.", verbs, N(verbs)};
static const char *id;
static int verb, code;

static int pick(int argc, char **argv)
{
    id = dir = days = NULL;
    verb = ctl_verb_parse(&table, argc, argv, opts + 1, 1, &id, &code);
    return verb;
}

static void test_verb_help_and_refusals(void **state)
{
    static const char usage[] =
        "usage: depotctl t VERB [OPTIONS]   (depotctl t VERB --help for its options)\n"
        "Test verbs.\n\nverbs:\n"
        "  list               list them\n"
        "  show ID            one of them\n";
    char want[512];
    (void)state;
    assert_int_equal(ctl_run(&cap, pick, "t", "help", NULL), -1);
    assert_int_equal(code, CTL_OK);
    assert_string_equal(cap.out, usage);
    assert_int_equal(ctl_run(&cap, pick, "t", NULL), -1);
    assert_int_equal(code, CTL_USAGE);
    snprintf(want, sizeof(want), "depotctl t: missing VERB\n%s", usage);
    assert_string_equal(cap.err, want);
    assert_int_equal(ctl_run(&cap, pick, "t", "zap", NULL), -1);
    assert_int_equal(code, CTL_USAGE);
    snprintf(want, sizeof(want), "depotctl t: unknown verb 'zap'\n%s", usage);
    assert_string_equal(cap.err, want);
    assert_string_equal(cap.out, "");
}

static void test_verb_parses_its_line(void **state)
{
    (void)state;
    assert_int_equal(ctl_run(&cap, pick, "t", "show", "42", "--days", "3", NULL), 1);
    assert_string_equal(id, "42");
    assert_string_equal(days, "3");
    assert_int_equal(ctl_run(&cap, pick, "t", "list", NULL), 0);
    assert_null(id);
    assert_int_equal(ctl_run(&cap, pick, "t", "show", NULL), -1);
    assert_int_equal(code, CTL_USAGE);
    assert_true(strncmp(cap.err, "depotctl t show: missing ID\nusage: depotctl t show ID", 53) ==
                0);
    assert_int_equal(ctl_run(&cap, pick, "t", "list", "7", NULL), -1);
    assert_int_equal(code, CTL_USAGE);
    assert_true(strncmp(cap.err, "depotctl t list: unexpected argument '7'\n", 41) == 0);
    assert_int_equal(ctl_run(&cap, pick, "t", "show", "--help", NULL), -1);
    assert_int_equal(code, CTL_OK);
    assert_true(strncmp(cap.out, "usage: depotctl t show ID [--days VALUE]\none of them\n", 53) ==
                0);
}

/* A command that records how it was called. */
static int got_argc;
static const char *got_argv0, *got_argv1;

static int record(int argc, char **argv)
{
    got_argc = argc;
    got_argv0 = argv[0];
    got_argv1 = argc > 1 ? argv[1] : NULL;
    printf("ran %s\n", argv[0]);
    return 7;
}

static const struct ctl_command commands[] = {
    {"one", record, "the first"},
    {"two-words", record, "the second"},
};

static int run_commands(int argc, char **argv)
{
    return ctl_command_run("prog", commands, N(commands), argc, argv);
}

static const char commands_usage[] =
    "usage: prog COMMAND [OPTIONS]   (prog COMMAND --help for its options)\n\ncommands:\n"
    "  one             the first\n"
    "  two-words       the second\n";

static void test_command_dispatch(void **state)
{
    (void)state;
    got_argc = 0;
    assert_int_equal(ctl_run(&cap, run_commands, "prog", "two-words", "--x", NULL), 7);
    assert_int_equal(got_argc, 2);
    assert_string_equal(got_argv0, "two-words");
    assert_string_equal(got_argv1, "--x");
    assert_string_equal(cap.out, "ran two-words\n");
    assert_string_equal(cap.err, "");
}

static void test_command_help_and_unknown(void **state)
{
    char want[512];
    (void)state;
    got_argc = 0;
    for (int i = 0; i < 3; i++) {
        static const char *const words[] = {"--help", "-h", "help"};
        assert_int_equal(ctl_run(&cap, run_commands, "prog", words[i], "one", NULL), CTL_OK);
        assert_string_equal(cap.out, commands_usage);
        assert_string_equal(cap.err, "");
    }
    assert_int_equal(ctl_run(&cap, run_commands, "prog", NULL), CTL_USAGE);
    assert_string_equal(cap.err, commands_usage);
    assert_int_equal(ctl_run(&cap, run_commands, "prog", "On", NULL), CTL_USAGE);
    snprintf(want, sizeof(want), "prog: unknown command 'On'\n%s", commands_usage);
    assert_string_equal(cap.err, want);
    assert_string_equal(cap.out, "");
    assert_int_equal(got_argc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sets_values),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_parse_help),
        cmocka_unit_test(test_parse_arg),
        cmocka_unit_test(test_values_in_order),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_read_line),
        cmocka_unit_test(test_verb_help_and_refusals),
        cmocka_unit_test(test_verb_parses_its_line),
        cmocka_unit_test(test_command_dispatch),
        cmocka_unit_test(test_command_help_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
