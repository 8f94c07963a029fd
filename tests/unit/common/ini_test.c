/*
 * depot/ini.h: the reader's whole-file refusals (a section or an option given
 * twice, a line too long) and the option-table engine: every type, bounds,
 * enum and bool words, defaults, required options, custom parsers, the
 * "file:line: what" messages and freeing the owned strings. Each test parses
 * text from memory through a one-section table of struct sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "depot/alloc.h"
#include "depot/ini.h"

struct sample {
    char *name;    /* DEPOT_INI_STR */
    char *dealer;  /* DEPOT_INI_ID, required */
    char *peer;    /* DEPOT_INI_ADDR */
    char label[8]; /* DEPOT_INI_CHARS */
    int count;
    long span;
    long long big;
    double ratio;
    bool on;
    int colour;
    int level;
    int pair_a, pair_b; /* "A/B", DEPOT_INI_CUSTOM */
};

enum { RED = 1, GREEN = 2 };

static const struct depot_ini_enum colours[] = {{"red", RED}, {"green", GREEN}, {NULL, 0}};
static const struct depot_ini_enum levels[] = {{"info", 1}, {"warn", 2}, {NULL, 0}};

static depot_err parse_pair(void *base, const char *text, char *why, size_t why_len)
{
    struct sample *s = base;
    int a, b, n = 0;

    if (sscanf(text, "%d/%d%n", &a, &b, &n) != 2 || text[n] != '\0') {
        snprintf(why, why_len, "is not A/B");
        return DEPOT_ERR_CONFIG;
    }
    s->pair_a = a;
    s->pair_b = b;
    return DEPOT_OK;
}

#define S(f) offsetof(struct sample, f)

static const struct depot_ini_opt table[] = {
    {.name = "name", .type = DEPOT_INI_STR, .offset = S(name), .min = 1, .max = 16, .def = "anon"},
    {.name = "dealer",
     .type = DEPOT_INI_ID,
     .offset = S(dealer),
     .min = 1,
     .max = 32,
     .flags = DEPOT_INI_REQUIRED},
    {.name = "peer", .type = DEPOT_INI_ADDR, .offset = S(peer), .min = 1, .max = 300},
    {.name = "label", .type = DEPOT_INI_CHARS, .offset = S(label), .size = 8, .def = "none"},
    {.name = "count", .type = DEPOT_INI_INT, .offset = S(count), .min = 1, .max = 10, .def = "3"},
    {.name = "span", .type = DEPOT_INI_LONG, .offset = S(span), .min = -5, .max = 86400},
    {.name = "big",
     .type = DEPOT_INI_LLONG,
     .offset = S(big),
     .min = 0,
     .max = 1e12,
     .def = "100000000000"},
    {.name = "ratio",
     .type = DEPOT_INI_DOUBLE,
     .offset = S(ratio),
     .min = 0,
     .max = 1,
     .def = "0.5"},
    {.name = "on", .type = DEPOT_INI_BOOL, .offset = S(on), .def = "true"},
    {.name = "colour", .type = DEPOT_INI_ENUM, .offset = S(colour), .def = "red", .map = colours},
    {.name = "level",
     .type = DEPOT_INI_ENUM,
     .offset = S(level),
     .def = "info",
     .flags = DEPOT_INI_NOCASE,
     .map = levels},
    {.name = "pair", .type = DEPOT_INI_CUSTOM, .parse = parse_pair, .def = "1/2"},
    {.name = NULL},
};

struct loader {
    struct sample s;
    unsigned given;
};

static char err[512];

/* Section [s] through table; any other section is refused. */
static depot_err on_entry(void *user, const struct depot_ini_entry *e, char *why, size_t why_len)
{
    struct loader *l = user;
    depot_err code;

    if (strcmp(e->section, "s") != 0) {
        snprintf(why, why_len, "unknown section [%s]", e->section);
        return DEPOT_ERR_CONFIG;
    }
    code = depot_ini_opts_apply(table, &l->s, &l->given, e, why, why_len);
    return code == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_CONFIG : code;
}

/* Defaults, then text as "t.ini"; l's strings are left for the caller to free. */
static depot_err load(struct loader *l, const char *text)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    depot_err e;

    assert_non_null(f);
    memset(l, 0, sizeof(*l));
    err[0] = '\0';
    assert_int_equal(depot_ini_opts_defaults(table, &l->s, err, sizeof(err)), DEPOT_OK);
    e = depot_ini_parse_stream(f, "t.ini", on_entry, l, err, sizeof(err));
    fclose(f);
    return e;
}

/* load refuses text with exactly the message want; nothing is leaked. */
static void expect_refused(const char *text, const char *want)
{
    struct loader l;
    size_t before = depot_mem_in_use();

    assert_int_equal(load(&l, text), DEPOT_ERR_CONFIG);
    assert_string_equal(err, want);
    depot_ini_opts_free(table, &l.s);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_ini_opts_defaults_AppliedFromTable(void **state)
{
    struct sample s;
    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(depot_ini_opts_defaults(table, &s, err, sizeof(err)), DEPOT_OK);
    assert_string_equal(s.name, "anon");
    assert_null(s.dealer); /* no default */
    assert_null(s.peer);
    assert_string_equal(s.label, "none");
    assert_int_equal(s.count, 3);
    assert_int_equal(s.span, 0);
    assert_true(s.big == 100000000000LL);
    assert_float_equal(s.ratio, 0.5, 1e-12);
    assert_true(s.on);
    assert_int_equal(s.colour, RED);
    assert_int_equal(s.level, 1);
    assert_int_equal(s.pair_a, 1);
    assert_int_equal(s.pair_b, 2);
    depot_ini_opts_free(table, &s);
    assert_null(s.name);
}

static void test_depot_ini_opts_defaults_BadDefaultIsInval(void **state)
{
    static const struct depot_ini_opt bad[] = {
        {.name = "n", .type = DEPOT_INI_INT, .offset = 0, .min = 1, .max = 5, .def = "9"},
        {.name = NULL},
    };
    int n = 0;
    (void)state;
    assert_int_equal(depot_ini_opts_defaults(bad, &n, err, sizeof(err)), DEPOT_ERR_INVAL);
    assert_string_equal(err, "n = '9' is out of range (1..5)");
    assert_int_equal(n, 0);
}

static void test_depot_ini_opts_apply_EveryTypeFromFile(void **state)
{
    struct loader l;
    (void)state;
    assert_int_equal(load(&l, "[s]\nname = widget\ndealer = D.042\npeer = [::1]:1502\n"
                              "label = shelf-7\ncount = 10\nspan = -5\nbig = 1000000000000\n"
                              "ratio = 0.25\non = off\ncolour = green\nlevel = WARN\n"
                              "pair = 7/-3\n"),
                     DEPOT_OK);
    assert_string_equal(l.s.name, "widget");
    assert_string_equal(l.s.dealer, "D.042");
    assert_string_equal(l.s.peer, "[::1]:1502");
    assert_string_equal(l.s.label, "shelf-7");
    assert_int_equal(l.s.count, 10);
    assert_int_equal(l.s.span, -5);
    assert_true(l.s.big == 1000000000000LL);
    assert_float_equal(l.s.ratio, 0.25, 1e-12);
    assert_false(l.s.on);
    assert_int_equal(l.s.colour, GREEN);
    assert_int_equal(l.s.level, 2);
    assert_int_equal(l.s.pair_a, 7);
    assert_int_equal(l.s.pair_b, -3);
    assert_true(depot_ini_opt_given(table, l.given, "pair"));
    assert_true(depot_ini_opt_given(table, l.given, "name"));
    assert_false(depot_ini_opt_given(table, 0, "name"));
    assert_false(depot_ini_opt_given(table, l.given, "no-such-option"));
    depot_ini_opts_free(table, &l.s);
}

static void test_depot_ini_opts_apply_NumbersOutsideBoundsRefusedWithFileLine(void **state)
{
    (void)state;
    expect_refused("[s]\n\ncount = 0\n", "t.ini:3: count = '0' is out of range (1..10)");
    expect_refused("[s]\ncount = 11\n", "t.ini:2: count = '11' is out of range (1..10)");
    expect_refused("[s]\ncount = 3x\n", "t.ini:2: count = '3x' is not an integer (1..10)");
    expect_refused("[s]\ncount = 2.5\n", "t.ini:2: count = '2.5' is not an integer (1..10)");
    expect_refused("[s]\nspan = -6\n", "t.ini:2: span = '-6' is out of range (-5..86400)");
    expect_refused("[s]\nbig = 1000000000001\n",
                   "t.ini:2: big = '1000000000001' is out of range (0..1000000000000)");
    expect_refused("[s]\nbig = 99999999999999999999\n",
                   "t.ini:2: big = '99999999999999999999' is not an integer (0..1000000000000)");
    expect_refused("[s]\nratio = 1.01\n", "t.ini:2: ratio = '1.01' is out of range (0..1)");
    expect_refused("[s]\nratio = nan\n", "t.ini:2: ratio = 'nan' is not a number (0..1)");
    expect_refused("[s]\nratio = \n", "t.ini:2: ratio = '' is not a number (0..1)");
}

static void test_depot_ini_opts_apply_StringRulesRefusedWithFileLine(void **state)
{
    (void)state;
    expect_refused("[s]\nname =\n", "t.ini:2: name = '' must not be empty");
    expect_refused("[s]\nname = 12345678901234567\n",
                   "t.ini:2: name = '12345678901234567' is longer than 16 characters");
    expect_refused("[s]\ndealer = D/1\n",
                   "t.ini:2: dealer = 'D/1' is not a valid id (1..32 of A-Z a-z 0-9 _ . -)");
    expect_refused("[s]\npeer = localhost\n", "t.ini:2: peer = 'localhost' is not HOST:PORT");
    expect_refused("[s]\nlabel = 12345678\n",
                   "t.ini:2: label = '12345678' is longer than 7 characters");
    expect_refused("[s]\npair = 1-2\n", "t.ini:2: pair = '1-2' is not A/B");
}

static void test_depot_ini_opts_apply_EnumAndBoolWords(void **state)
{
    struct loader l;
    (void)state;
    expect_refused("[s]\ncolour = Red\n",
                   "t.ini:2: colour = 'Red' is not one of the accepted values: red, green");
    expect_refused("[s]\nlevel = loud\n",
                   "t.ini:2: level = 'loud' is not one of the accepted values: info, warn");
    expect_refused("[s]\non = maybe\n", "t.ini:2: on = 'maybe' is not a boolean (true/false)");
    for (size_t i = 0; i < 4; i++) {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        char text[64];
        snprintf(text, sizeof(text), "[s]\non = %s\n", no[i]);
        assert_int_equal(load(&l, text), DEPOT_OK);
        assert_false(l.s.on);
        depot_ini_opts_free(table, &l.s);
        snprintf(text, sizeof(text), "[s]\non = %s\ncolour = green\n", yes[i]);
        assert_int_equal(load(&l, text), DEPOT_OK);
        assert_true(l.s.on);
        assert_int_equal(l.s.colour, GREEN);
        depot_ini_opts_free(table, &l.s);
    }
}

static void test_depot_ini_opt_set_RefusedValueKeepsTheField(void **state)
{
    struct sample s;
    char why[128];
    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(depot_ini_opts_defaults(table, &s, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(depot_ini_opt_set(&table[0], &s, "", why, sizeof(why)), DEPOT_ERR_CONFIG);
    assert_string_equal(s.name, "anon");
    assert_int_equal(depot_ini_opt_set(&table[3], &s, "too-long", why, sizeof(why)),
                     DEPOT_ERR_CONFIG);
    assert_string_equal(s.label, "none");
    assert_int_equal(depot_ini_opt_set(&table[4], &s, "0", why, sizeof(why)), DEPOT_ERR_CONFIG);
    assert_int_equal(s.count, 3);
    assert_int_equal(depot_ini_opt_set(&table[0], &s, "other", why, sizeof(why)), DEPOT_OK);
    assert_string_equal(s.name, "other");
    depot_ini_opts_free(table, &s);
}

static void test_depot_ini_opts_required_MissingNamesSectionAndLine(void **state)
{
    struct loader l;
    (void)state;
    assert_int_equal(load(&l, "[s]\nname = x\n"), DEPOT_OK);
    assert_int_equal(depot_ini_opts_required(table, l.given, "t.ini", 1, "s", err, sizeof(err)),
                     DEPOT_ERR_CONFIG);
    assert_string_equal(err, "t.ini:1: [s]: missing option 'dealer'");
    depot_ini_opts_free(table, &l.s);
    assert_int_equal(load(&l, "[s]\ndealer = D1\n"), DEPOT_OK);
    assert_int_equal(depot_ini_opts_required(table, l.given, "t.ini", 1, "s", err, sizeof(err)),
                     DEPOT_OK);
    depot_ini_opts_free(table, &l.s);
}

static void test_depot_ini_opts_apply_UnknownOptionAndTwice(void **state)
{
    struct sample s;
    struct depot_ini_entry e = {"s", "count", "4", 7};
    unsigned given = 0;
    char why[128];
    (void)state;
    expect_refused("[s]\nnope = 1\n", "t.ini:2: unknown option 'nope' in [s]");
    expect_refused("[x]\ncount = 1\n", "t.ini:2: unknown section [x]");
    memset(&s, 0, sizeof(s));
    assert_int_equal(depot_ini_opts_apply(table, &s, &given, &e, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(s.count, 4);
    assert_int_equal(depot_ini_opts_apply(table, &s, &given, &e, why, sizeof(why)),
                     DEPOT_ERR_CONFIG);
    assert_string_equal(why, "option 'count' given twice in [s]");
    e.name = "nope";
    assert_int_equal(depot_ini_opts_apply(table, &s, &given, &e, why, sizeof(why)),
                     DEPOT_ERR_NOTFOUND);
    assert_string_equal(why, "unknown option 'nope' in [s]");
}

static void test_depot_ini_parse_stream_SectionOrOptionGivenTwiceRefused(void **state)
{
    (void)state;
    expect_refused("[s]\ncount = 1\n[t]\n[s]\nname = x\n",
                   "t.ini:4: section [s] given twice (first at line 1)");
    expect_refused("[s]\ncount = 1\nname = x\n\ncount = 2\n",
                   "t.ini:5: option 'count' given twice in [s] (first at line 2)");
}

static void test_depot_ini_parse_stream_LineLongerThanLimitRefused(void **state)
{
    static char text[DEPOT_INI_LINE_MAX + 64];
    struct loader l;
    (void)state;
    /* A comment of exactly DEPOT_INI_LINE_MAX characters is a line still ... */
    snprintf(text, sizeof(text), "[s]\n#%0*d\ncount = 2\n", DEPOT_INI_LINE_MAX - 1, 0);
    assert_int_equal(load(&l, text), DEPOT_OK);
    assert_int_equal(l.s.count, 2);
    depot_ini_opts_free(table, &l.s);
    /* ... one more is refused, with its line, before any entry is applied. */
    snprintf(text, sizeof(text), "[s]\ncount = 2\n#%0*d\n", DEPOT_INI_LINE_MAX, 0);
    expect_refused(text, "t.ini:3: line longer than 1024 characters");
}

/* A handler's own code reaches the caller, with file:line. */
static depot_err refuse_nomem(void *user, const struct depot_ini_entry *e, char *why,
                              size_t why_len)
{
    (void)user;
    (void)e;
    snprintf(why, why_len, "out of memory");
    return DEPOT_ERR_NOMEM;
}

static void test_depot_ini_parse_stream_HandlerCodeIsTheResult(void **state)
{
    static const char text[] = "[s]\n\ncount = 1\n";
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    (void)state;
    assert_non_null(f);
    assert_int_equal(depot_ini_parse_stream(f, "t.ini", refuse_nomem, NULL, err, sizeof(err)),
                     DEPOT_ERR_NOMEM);
    assert_string_equal(err, "t.ini:3: out of memory");
    fclose(f);
}

static void test_depot_ini_opts_free_ReleasesEveryOwnedString(void **state)
{
    struct loader l;
    size_t before = depot_mem_in_use();
    (void)state;
    assert_int_equal(load(&l, "[s]\nname = n\ndealer = D1\npeer = h:1\n"), DEPOT_OK);
    assert_true(depot_mem_in_use() > before);
    depot_ini_opts_free(table, &l.s);
    assert_null(l.s.name);
    assert_null(l.s.dealer);
    assert_null(l.s.peer);
    assert_string_equal(l.s.label, "none"); /* not owned: left as it is */
    assert_int_equal(depot_mem_in_use(), before);
    depot_ini_opts_free(table, &l.s); /* twice is harmless */
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_ini_split_address_Forms(void **state)
{
    char host[8];
    int port = 0;
    (void)state;
    assert_true(depot_ini_split_address("10.0.0.5:502", NULL, 0, &port));
    assert_int_equal(port, 502);
    assert_true(depot_ini_split_address("[::1]:1502", host, sizeof(host), &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 1502);
    assert_false(depot_ini_split_address("a-long-host:1", host, sizeof(host), NULL));
    assert_false(depot_ini_split_address("host:65536", NULL, 0, NULL));
    assert_false(depot_ini_split_address("[::1:80", NULL, 0, NULL));
    assert_false(depot_ini_split_address(":502", NULL, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_ini_opts_defaults_AppliedFromTable),
        cmocka_unit_test(test_depot_ini_opts_defaults_BadDefaultIsInval),
        cmocka_unit_test(test_depot_ini_opts_apply_EveryTypeFromFile),
        cmocka_unit_test(test_depot_ini_opts_apply_NumbersOutsideBoundsRefusedWithFileLine),
        cmocka_unit_test(test_depot_ini_opts_apply_StringRulesRefusedWithFileLine),
        cmocka_unit_test(test_depot_ini_opts_apply_EnumAndBoolWords),
        cmocka_unit_test(test_depot_ini_opt_set_RefusedValueKeepsTheField),
        cmocka_unit_test(test_depot_ini_opts_required_MissingNamesSectionAndLine),
        cmocka_unit_test(test_depot_ini_opts_apply_UnknownOptionAndTwice),
        cmocka_unit_test(test_depot_ini_parse_stream_SectionOrOptionGivenTwiceRefused),
        cmocka_unit_test(test_depot_ini_parse_stream_LineLongerThanLimitRefused),
        cmocka_unit_test(test_depot_ini_parse_stream_HandlerCodeIsTheResult),
        cmocka_unit_test(test_depot_ini_opts_free_ReleasesEveryOwnedString),
        cmocka_unit_test(test_depot_ini_split_address_Forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
