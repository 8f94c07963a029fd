/* Unit tests of gateway/config.c: options, defaults, bounds, file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "depot/log.h"
#include "depot/modbus_map.h"

static char err[512];

/* gw_config_load_stream of len bytes, which may hold a NUL. */
static depot_err load_bytes(const char *text, size_t len, gw_config **cfg)
{
    FILE *f = fmemopen((void *)text, len, "r");
    depot_err e;
    assert_non_null(f);
    err[0] = '\0';
    *cfg = NULL;
    e = gw_config_load_stream(f, "gw.ini", cfg, err, sizeof(err));
    fclose(f);
    return e;
}

static depot_err load(const char *text, gw_config **cfg)
{
    return load_bytes(text, strlen(text), cfg);
}

static const char base_cfg[] = "[gateway]\n"
                               "dealer = D001\n"
                               "ledger = /tmp/x.db\n"
                               "[bus:line1]\n"
                               "type = rtu\n"
                               "device = /dev/ttyUSB0\n"
                               "[node:scale-a]\n"
                               "bus = line1\n"
                               "unit = 2\n"
                               "sku = S1\n"
                               "unit_weight_g = 12.5\n"
                               "[node:scale-b]\n"
                               "address = 127.0.0.1:1502\n"
                               "sku = S2\n"
                               "unit_weight_g = 100\n";

static void test_gw_config_load_stream_DefaultsApplied(void **state)
{
    gw_config *c;
    (void)state;
    assert_int_equal(load(base_cfg, &c), DEPOT_OK);
    assert_string_equal(c->dealer, "D001");
    assert_string_equal(c->host, "localhost");
    assert_int_equal(c->port, 8883);
    assert_int_equal(c->rate, 200);
    assert_int_equal(c->window, 500);
    assert_int_equal(c->resend_s, 10);
    assert_int_equal(c->max_entries, 100000);
    assert_int_equal(c->warn_percent, 80);
    assert_int_equal(c->snapshot_period_s, 300);
    assert_null(c->ca);
    assert_int_equal(c->n_buses, 1);
    assert_int_equal(c->buses[0].baud, 9600);
    assert_int_equal(c->buses[0].parity, 'E');
    assert_int_equal(c->buses[0].timeout_ms, 200);
    assert_int_equal(c->n_nodes, 2);
    assert_int_equal(c->nodes[0].bus_index, 0);
    assert_int_equal(c->nodes[0].unit, 2);
    assert_int_equal(c->nodes[0].timeout_ms, 200); /* inherited from the bus */
    assert_float_equal(c->nodes[0].unit_weight_g, 12.5, 1e-9);
    assert_float_equal(c->nodes[0].hysteresis, 0.3, 1e-9);
    assert_int_equal(c->nodes[0].period_ms, 1000);
    assert_int_equal(c->nodes[1].bus_index, -1);
    assert_int_equal(c->nodes[1].timeout_ms, 500);
    gw_config_free(c);
}

struct bound_case {
    const char *section;
    const char *option;
    const char *bad_low;
    const char *bad_high;
    const char *good;
};

/* Every numeric option: one value under, one over its bounds, one inside. */
static const struct bound_case bounds[] = {
    {"gateway", "snapshot_period_s", "4", "86401", "60"},
    {"gateway", "poll_threads", "0", "65", "8"},
    {"mqtt", "port", "0", "65536", "1883"},
    {"mqtt", "keepalive_s", "4", "3601", "60"},
    {"mqtt", "rate", "0", "100001", "50"},
    {"mqtt", "window", "0", "100001", "10"},
    {"mqtt", "resend_s", "0", "3601", "5"},
    {"outbox", "max_entries", "99", "100000001", "1000"},
    {"outbox", "warn_percent", "0", "101", "50"},
    {"bus:line1", "baud", "299", "4000001", "19200"},
    {"bus:line1", "data_bits", "6", "9", "7"},
    {"bus:line1", "stop_bits", "0", "3", "2"},
    {"bus:line1", "timeout_ms", "9", "10001", "100"},
    {"bus:line1", "turnaround_ms", "-1", "1001", "0"},
    {"node:scale-a", "unit", "-1", "256", "7"},
    {"node:scale-a", "unit_weight_g", "0", "1000001", "0.5"},
    {"node:scale-a", "period_ms", "4", "3600001", "250"},
    {"node:scale-a", "hysteresis", "-0.1", "0.46", "0.45"},
    {"node:scale-a", "timeout_ms", "-1", "10001", "50"},
};

/* base_cfg with "option = value" right under its [section] (appended if base_cfg has none;
 * a section may not be given twice); *line gets the option's line. */
static depot_err load_with(const struct bound_case *b, const char *value, gw_config **c, int *line)
{
    static char text[2048], base[1024], header[64];
    const char *skip = "", *at;
    size_t n;
    /* options already present in base_cfg are replaced by removing them there */
    if (!strcmp(b->option, "unit_weight_g"))
        skip = "unit_weight_g = 12.5\n";
    else if (!strcmp(b->option, "unit"))
        skip = "unit = 2\n";
    at = *skip ? strstr(base_cfg, skip) : NULL;
    if (at)
        snprintf(base, sizeof(base), "%.*s%s", (int)(at - base_cfg), base_cfg, at + strlen(skip));
    else
        snprintf(base, sizeof(base), "%s", base_cfg);
    snprintf(header, sizeof(header), "[%s]\n", b->section);
    at = strstr(base, header);
    if (at) {
        n = (size_t)(at - base) + strlen(header);
        snprintf(text, sizeof(text), "%.*s%s = %s\n%s", (int)n, base, b->option, value, base + n);
    } else {
        n = strlen(base) + strlen(header);
        snprintf(text, sizeof(text), "%s%s%s = %s\n", base, header, b->option, value);
    }
    *line = 1;
    for (size_t i = 0; i < n; i++)
        *line += text[i] == '\n';
    return load(text, c);
}

static void test_gw_config_load_stream_EveryBoundRejectedWithFileLine(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        const struct bound_case *b = &bounds[i];
        const char *bad[2] = {b->bad_low, b->bad_high};
        gw_config *c;
        int line;
        for (int j = 0; j < 2; j++) {
            char want[64];
            assert_int_equal(load_with(b, bad[j], &c, &line), DEPOT_ERR_CONFIG);
            snprintf(want, sizeof(want), "gw.ini:%d: %s = '%s'", line, b->option, bad[j]);
            if (!strstr(err, want))
                fail_msg("%s=%s: got \"%s\", want \"%s\"", b->option, bad[j], err, want);
            assert_non_null(strstr(err, "out of range"));
        }
        assert_int_equal(load_with(b, b->good, &c, &line), DEPOT_OK);
        gw_config_free(c);
    }
}

static void expect_error(const char *text, const char *want)
{
    gw_config *c;
    assert_int_equal(load(text, &c), DEPOT_ERR_CONFIG);
    assert_null(c);
    if (!strstr(err, want))
        fail_msg("got \"%s\", want \"%s\"", err, want);
}

static void test_gw_config_load_stream_UnknownSectionAndOption(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer = D1\n[foo]\nx = 1\n", "gw.ini:4: unknown section [foo]");
    expect_error("[gateway]\ndealer = D1\ncolour = red\n",
                 "gw.ini:3: unknown option 'colour' in [gateway]");
}

static void test_gw_config_load_stream_DuplicateOption(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer = D1\n\ndealer = D2\n",
                 "gw.ini:4: option 'dealer' given twice in [gateway]");
}

static void test_gw_config_load_stream_MissingDealer(void **state)
{
    (void)state;
    expect_error("[mqtt]\nport = 1883\n", "gw.ini:1: [gateway]: missing option 'dealer'");
    expect_error("[gateway]\nlog_level = info\n", "gw.ini:2: [gateway]: missing option 'dealer'");
}

static void test_gw_config_load_stream_BadValues(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer = D 1\n", "gw.ini:2: dealer = 'D 1' is not a valid id");
    expect_error("[gateway]\ndealer = D1\nlog_level = loud\n",
                 "gw.ini:3: log_level = 'loud' is not one of");
    expect_error("[gateway]\ndealer = D1\n[mqtt]\nport = 88x\n",
                 "gw.ini:4: port = '88x' is not an integer (1..65535)");
    expect_error("[gateway]\ndealer = D1\n[outbox]\nmax_entries = 99\n",
                 "gw.ini:4: max_entries = '99' is out of range (100..100000000)");
    expect_error("[gateway]\ndealer = D1\nledger =\n", "gw.ini:3: ledger = '' must not be empty");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\ndevice=/dev/x\nparity=X\n",
                 "gw.ini:6: parity = 'X' is not one of");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=serial\n", "gw.ini:4: type = 'serial'");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\ndevice=/dev/x\nrs485=maybe\n",
                 "gw.ini:6: rs485 = 'maybe' is not a boolean");
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=localhost\n",
                 "gw.ini:4: address = 'localhost' is not HOST:PORT");
    expect_error("[gateway]\ndealer=D1\n[node:bad name]\nsku=S\n", "gw.ini:4: [node:bad name]");
    expect_error("[gateway]\ndealer=D1\nno equals sign here\n", "gw.ini:3: not an INI line");
}

/* "[gateway]\n" + a comment of n characters ending in "dealer = EVIL" + rest. */
static const char *with_long_comment(size_t n, const char *rest)
{
    static char text[2048];
    static const char tail[] = "dealer = EVIL";
    assert_true(n > sizeof(tail) && n + strlen(rest) + 16 < sizeof(text));
    strcpy(text, "[gateway]\n#");
    memset(text + strlen(text), 'x', n - 1);
    memcpy(text + 10 + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    strcpy(text + 10 + n, "\n");
    strcat(text, rest);
    return text;
}

static void test_gw_config_load_stream_LongCommentIsNeverSplitIntoAnOption(void **state)
{
    gw_config *c;
    (void)state;
    /* 212 characters, past inih's 200-byte buffer: the tail is no option. */
    assert_int_equal(load(with_long_comment(212, "dealer = D1\n"), &c), DEPOT_OK);
    assert_string_equal(c->dealer, "D1");
    gw_config_free(c);
    expect_error(with_long_comment(212, ""), "gw.ini:1: [gateway]: missing option 'dealer'");
}

static void test_gw_config_load_stream_RefusesLineLongerThanParserBuffer(void **state)
{
    gw_config *c;
    (void)state;
    expect_error(with_long_comment(1100, "dealer = D1\n"),
                 "gw.ini:2: line longer than 1024 characters");
    /* 1024 characters are a line still. */
    assert_int_equal(load(with_long_comment(1024, "dealer = D1\n"), &c), DEPOT_OK);
    gw_config_free(c);
}

static void test_gw_config_load_stream_AcceptsLongValueWithinLineLimit(void **state)
{
    static char text[1200], ledger[1001];
    gw_config *c;
    (void)state;
    memset(ledger, 'l', 1000);
    ledger[0] = '/';
    snprintf(text, sizeof(text), "[gateway]\ndealer = D1\nledger = %s\n", ledger);
    assert_int_equal(load(text, &c), DEPOT_OK);
    assert_string_equal(c->ledger, ledger);
    gw_config_free(c);
}

static void test_gw_config_load_stream_RefusesSectionGivenTwice(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer = D1\n[mqtt]\nport = 1883\n[gateway]\nlog_level = debug\n",
                 "gw.ini:5: section [gateway] given twice (first at line 1)");
    expect_error("[gateway]\ndealer = D1\n[bus:b]\ntype = rtu\ndevice = /dev/x\n"
                 "[node:n]\nbus = b\nsku = S\nunit_weight_g = 1\n[bus:b]\nbaud = 19200\n",
                 "gw.ini:10: section [bus:b] given twice (first at line 3)");
}

static void test_gw_config_load_stream_RefusesNulInValue(void **state)
{
    static const char text[] = "[gateway]\ndealer = A\0B\n";
    gw_config *c;
    (void)state;
    assert_int_equal(load_bytes(text, sizeof(text) - 1, &c), DEPOT_ERR_CONFIG);
    assert_null(c);
    if (!strstr(err, "gw.ini:2: a NUL byte"))
        fail_msg("got \"%s\"", err);
}

static void test_gw_config_load_stream_IndentedLineIsAnOptionOfItsOwn(void **state)
{
    gw_config *c;
    (void)state;
    assert_int_equal(load("[gateway]\ndealer = D1\n  log_level = debug\n", &c), DEPOT_OK);
    assert_string_equal(c->dealer, "D1");
    assert_int_equal(c->log_level, DEPOT_LOG_DEBUG);
    gw_config_free(c);
}

static void test_gw_config_load_stream_DealerIdMayHoldDots(void **state)
{
    gw_config *c;
    (void)state;
    assert_int_equal(load("[gateway]\ndealer = D.042\n", &c), DEPOT_OK);
    assert_string_equal(c->dealer, "D.042");
    gw_config_free(c);
    expect_error("[gateway]\ndealer = D/042\n", "gw.ini:2: dealer = 'D/042' is not a valid id");
    expect_error("[gateway]\ndealer = D+\n", "gw.ini:2: dealer = 'D+' is not a valid id");
}

static void test_gw_config_load_stream_NodeLinks(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer=D1\n[node:n]\nsku=S\nunit_weight_g=1\n",
                 "gw.ini:4: [node:n]: give exactly one of 'bus' and 'address'");
    expect_error("[gateway]\ndealer=D1\n[node:n]\nsku=S\nunit_weight_g=1\nbus=x\n"
                 "address=h:1\n",
                 "gw.ini:4: [node:n]: give exactly one of 'bus' and 'address'");
    expect_error("[gateway]\ndealer=D1\n[node:n]\nsku=S\nunit_weight_g=1\nbus=nope\n",
                 "gw.ini:4: [node:n]: no [bus:nope]");
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nunit_weight_g=1\n",
                 "gw.ini:4: [node:n]: missing option 'sku'");
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nsku=S\n",
                 "missing option 'unit_weight_g'");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\ndevice=/dev/x\n"
                 "[node:n]\nbus=b\nunit=0\nsku=S\nunit_weight_g=1\n",
                 "gw.ini:7: [node:n]: unit must be 1..247 on an RTU bus");
    expect_error("[gateway]\ndealer=D1\n[node:a]\naddress=h:1\nsku=S\nunit_weight_g=1\n"
                 "[node:b]\naddress=h:2\nsku=S\nunit_weight_g=1\n",
                 "gw.ini:8: [node:b]: sku S is already counted by another node");
}

/* period_ms goes down to what the transport allows: 5 ms over TCP, one poll's time on an RTU
 * line (the bus planner's figure for its baud rate). */
static void test_gw_config_load_stream_ShortestPeriodPerTransport(void **state)
{
    gw_config *c = NULL;
    (void)state;
    assert_int_equal(load("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nsku=S\nunit_weight_g=1\n"
                          "period_ms=5\n",
                          &c),
                     DEPOT_OK);
    assert_int_equal(c->nodes[0].period_ms, 5);
    gw_config_free(c);
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\ndevice=/dev/x\nbaud=9600\n"
                 "[node:n]\nbus=b\nunit=1\nsku=S\nunit_weight_g=1\nperiod_ms=50\n",
                 "gw.ini:8: [node:n]: period_ms = 50 is shorter than one poll on [bus:b]");
    assert_int_equal(load("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\ndevice=/dev/x\nbaud=115200\n"
                          "[node:n]\nbus=b\nunit=1\nsku=S\nunit_weight_g=1\nperiod_ms=20\n"
                          "[node:t]\nbus=b\nunit=2\nkind=scanner\nperiod_ms=20\n",
                          &c),
                     DEPOT_OK);
    gw_config_free(c);
}

static void test_gw_config_load_stream_ScannerNeedsNoSkuAndPollsFaster(void **state)
{
    gw_config *c;
    (void)state;
    assert_int_equal(load("[gateway]\ndealer=D1\n[node:scan-a]\naddress=h:1\nkind=scanner\n"
                          "[node:scan-b]\naddress=h:2\nkind=scanner\nperiod_ms=500\n"
                          "[node:scale-a]\naddress=h:3\nsku=S\nunit_weight_g=1\n",
                          &c),
                     DEPOT_OK);
    assert_int_equal(c->nodes[0].kind, GW_NODE_SCANNER);
    assert_null(c->nodes[0].sku);
    assert_int_equal(c->nodes[0].period_ms, GW_SCANNER_PERIOD_MS);
    assert_int_equal(c->nodes[1].period_ms, 500);
    assert_int_equal(c->nodes[2].kind, GW_NODE_SCALE);
    assert_int_equal(c->nodes[2].period_ms, 1000);
    gw_config_free(c);
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nkind=scanner\nsku=S\n",
                 "gw.ini:4: [node:n]: 'sku' is for scales, not for kind = scanner");
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nkind=scanner\n"
                 "unit_weight_g=2\n",
                 "'unit_weight_g' is for scales");
    expect_error("[gateway]\ndealer=D1\n[node:n]\naddress=h:1\nkind=printer\n",
                 "kind = 'printer' is not one of the accepted values");
}

static void test_gw_config_load_stream_BusNeedsItsLink(void **state)
{
    (void)state;
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=rtu\n",
                 "gw.ini:4: [bus:b]: type=rtu needs 'device'");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\ntype=tcp\n",
                 "gw.ini:4: [bus:b]: type=tcp needs 'address'");
    expect_error("[gateway]\ndealer=D1\n[bus:b]\nbaud=9600\n",
                 "gw.ini:4: [bus:b]: missing option 'type'");
}

static void test_gw_config_load_stream_TlsAllOrNone(void **state)
{
    gw_config *c;
    (void)state;
    expect_error("[gateway]\ndealer=D1\n[mqtt]\nca=/ca.crt\ncert=/gw.crt\n",
                 "give all of ca, cert and key, or none");
    assert_int_equal(load("[gateway]\ndealer=D1\n[mqtt]\nca=/a\ncert=/b\nkey=/c\n", &c), DEPOT_OK);
    assert_string_equal(c->key, "/c");
    gw_config_free(c);
}

static void test_gw_config_split_address_Forms(void **state)
{
    char host[64];
    int port;
    (void)state;
    assert_true(gw_config_split_address("10.0.0.5:502", host, sizeof(host), &port));
    assert_string_equal(host, "10.0.0.5");
    assert_int_equal(port, 502);
    assert_true(gw_config_split_address("[::1]:1502", host, sizeof(host), &port));
    assert_string_equal(host, "::1");
    assert_false(gw_config_split_address("host:0", NULL, 0, NULL));
    assert_false(gw_config_split_address(":502", NULL, 0, NULL));
    assert_false(gw_config_split_address("host:", NULL, 0, NULL));
}

static void test_gw_config_load_MissingFileIsIoError(void **state)
{
    gw_config *c = NULL;
    (void)state;
    assert_int_equal(gw_config_load("/nonexistent/gw.ini", &c, err, sizeof(err)), DEPOT_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/gw.ini"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_config_load_stream_DefaultsApplied),
        cmocka_unit_test(test_gw_config_load_stream_EveryBoundRejectedWithFileLine),
        cmocka_unit_test(test_gw_config_load_stream_UnknownSectionAndOption),
        cmocka_unit_test(test_gw_config_load_stream_DuplicateOption),
        cmocka_unit_test(test_gw_config_load_stream_MissingDealer),
        cmocka_unit_test(test_gw_config_load_stream_BadValues),
        cmocka_unit_test(test_gw_config_load_stream_NodeLinks),
        cmocka_unit_test(test_gw_config_load_stream_ShortestPeriodPerTransport),
        cmocka_unit_test(test_gw_config_load_stream_ScannerNeedsNoSkuAndPollsFaster),
        cmocka_unit_test(test_gw_config_load_stream_BusNeedsItsLink),
        cmocka_unit_test(test_gw_config_load_stream_TlsAllOrNone),
        cmocka_unit_test(test_gw_config_split_address_Forms),
        cmocka_unit_test(test_gw_config_load_MissingFileIsIoError),
        cmocka_unit_test(test_gw_config_load_stream_LongCommentIsNeverSplitIntoAnOption),
        cmocka_unit_test(test_gw_config_load_stream_RefusesLineLongerThanParserBuffer),
        cmocka_unit_test(test_gw_config_load_stream_AcceptsLongValueWithinLineLimit),
        cmocka_unit_test(test_gw_config_load_stream_RefusesSectionGivenTwice),
        cmocka_unit_test(test_gw_config_load_stream_RefusesNulInValue),
        cmocka_unit_test(test_gw_config_load_stream_IndentedLineIsAnOptionOfItsOwn),
        cmocka_unit_test(test_gw_config_load_stream_DealerIdMayHoldDots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
