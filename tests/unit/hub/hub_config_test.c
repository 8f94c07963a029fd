/* hub_config: defaults, every section, and errors that say file:line: what. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"
#include "hub_test_util.h"

static char dir[256];
static char path[300];
static char err[512];

static depot_err load_text(struct hub_config *cfg, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    hub_config_defaults(cfg);
    err[0] = '\0';
    return hub_config_load(cfg, path, err, sizeof(err));
}

/* err must be "<path>:<line>: ..." and contain what. */
static void assert_error_at(int line, const char *what)
{
    char prefix[340];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
    assert_memory_equal(err, prefix, strlen(prefix));
    assert_non_null(strstr(err, what));
}

static void test_hub_config_defaults_AreDocumentedValues(void **state)
{
    struct hub_config c;
    (void)state;
    hub_config_defaults(&c);
    assert_string_equal(c.db, "depot-hub.db");
    assert_int_equal(c.offline_after_s, 120);
    assert_int_equal(c.mqtt_port, 8883);
    assert_string_equal(c.http_addr, "127.0.0.1");
    assert_int_equal(c.http_port, 8080);
    assert_int_equal(c.http_threads, 4);
    assert_true(strlen(c.instance) > 0);
}

static void test_hub_config_load_FullFile(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\ndb = /x/hub.db\nlog_level = debug\n"
                                   "offline_after_s = 30\ninstance = hub-a\n"
                                   "[mqtt]\nhost = broker\nport = 18883\nca = ca.crt\n"
                                   "cert = hub.crt\nkey = hub.key\n"
                                   "[http]\nlisten = 0.0.0.0:9000\nthreads = 8\n"
                                   "[tokens]\nops = admin:0123456789abcdef0123\n"
                                   "view = viewer:abcdefabcdefabcdef\n"),
                     DEPOT_OK);
    assert_string_equal(c.db, "/x/hub.db");
    assert_int_equal(c.log_level, DEPOT_LOG_DEBUG);
    assert_int_equal(c.offline_after_s, 30);
    assert_string_equal(c.mqtt_client_id, "depot-hub-hub-a");
    assert_int_equal(c.mqtt_port, 18883);
    assert_string_equal(c.mqtt_key, "hub.key");
    assert_string_equal(c.http_addr, "0.0.0.0");
    assert_int_equal(c.http_port, 9000);
    assert_int_equal(c.n_tokens, 2);
    assert_int_equal(c.tokens[0].role, HUB_ROLE_ADMIN);
    assert_string_equal(c.tokens[1].name, "view");
    assert_string_equal(c.tokens[1].token, "abcdefabcdefabcdef");
}

static void test_hub_config_load_OutOfRangeNamesLine(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\n\noffline_after_s = 0\n"), DEPOT_ERR_CONFIG);
    assert_error_at(3, "offline_after_s");
    assert_error_at(3, "offline_after_s = '0' is out of range (1..2592000)");
    assert_int_equal(load_text(&c, "[alerts]\nspike_factor = 0.5\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "spike_factor = '0.5' is out of range (1..1000)");
    assert_int_equal(load_text(&c, "[approval]\nresend_s = soon\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "resend_s = 'soon' is not an integer (1..3600)");
}

static void test_hub_config_load_LogLevelInAnyCase(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\nlog_level = ERROR\n"), DEPOT_OK);
    assert_int_equal(c.log_level, DEPOT_LOG_ERROR);
    assert_int_equal(load_text(&c, "[hub]\nlog_level = loud\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "log_level = 'loud' is not one of the accepted values: debug, info, warn, "
                       "error");
}

static void test_hub_config_load_StringLongerThanItsField(void **state)
{
    struct hub_config c;
    char text[400], db[300];
    (void)state;
    memset(db, 'd', 256);
    db[256] = '\0';
    snprintf(text, sizeof(text), "[hub]\ndb = %s\n", db);
    assert_int_equal(load_text(&c, text), DEPOT_ERR_CONFIG);
    assert_error_at(2, "is longer than 255 characters");
    assert_string_equal(c.db, "depot-hub.db");
    db[255] = '\0';
    snprintf(text, sizeof(text), "[hub]\ndb = %s\n", db);
    assert_int_equal(load_text(&c, text), DEPOT_OK);
    assert_string_equal(c.db, db);
}

static void test_hub_config_load_UnknownOptionNamesLine(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[mqtt]\nhost = a\nhots = b\n"), DEPOT_ERR_CONFIG);
    assert_error_at(3, "unknown option \"hots\"");
}

static void test_hub_config_load_BadListen(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[http]\nlisten = 8080\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "listen");
}

static void test_hub_config_load_BadRole(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[tokens]\nx = root:0123456789abcdef\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "role \"root\"");
}

static void test_hub_config_load_ShortTokenRefused(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[tokens]\nx = admin:short\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "8..");
}

static void test_hub_config_load_FirstErrorWins(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\nlog_level = loud\n[http]\nthreads = 0\n"),
                     DEPOT_ERR_CONFIG);
    assert_error_at(2, "log_level");
}

static void test_hub_config_load_TlsFilesGoTogether(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[mqtt]\nca = ca.crt\n"), DEPOT_ERR_CONFIG);
    assert_non_null(strstr(err, "all or none"));
}

static void test_hub_config_load_MissingFile(void **state)
{
    struct hub_config c;
    (void)state;
    hub_config_defaults(&c);
    assert_int_equal(hub_config_load(&c, "/nonexistent/hub.ini", err, sizeof(err)), DEPOT_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/hub.ini"));
}

static int setup(void **state)
{
    (void)state;
    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/hub.ini", dir);
    return 0;
}

static void test_hub_config_load_ApprovalStagesAndTokenStages(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[mqtt]\nca = /x/ca.crt\ncert = /x/h.crt\nkey = /x/h.key\n"
                                   "[approval]\nstages = sales, finance\nstage_deadline_s = 60\n"
                                   "[tokens]\nanna = approver:abcdefabcdef:finance\n"
                                   "any = approver:0123456789ab\n"),
                     DEPOT_OK);
    assert_int_equal(c.n_stages, 2);
    assert_string_equal(c.stages[1], "finance");
    assert_int_equal(c.stage_deadline_s, 60);
    /* [hub] ca: the device CA beside [mqtt] ca (the server CA); [hub] crl beside [hub] ca */
    assert_string_equal(c.order_ca, "/x/devices-ca.crt");
    assert_string_equal(c.order_crl, "/x/devices.crl");
    assert_string_equal(c.tokens[0].token, "abcdefabcdef");
    assert_false(hub_token_may_act(&c.tokens[0], "sales"));
    assert_true(hub_token_may_act(&c.tokens[0], "finance"));
    assert_true(hub_token_may_act(&c.tokens[1], "sales"));
    assert_int_equal(hub_config_stage_index(&c, "finance"), 1);
}

static void test_hub_config_load_OrderCaAndCrl(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\nca = /d/dev.crt\ncrl = none\n"), DEPOT_OK);
    assert_string_equal(c.order_ca, "/d/dev.crt");
    assert_string_equal(c.order_crl, ""); /* none: orders checked without a list */
    assert_int_equal(load_text(&c, "[hub]\nca = dev.crt\n"), DEPOT_OK);
    assert_string_equal(c.order_crl, "devices.crl");
    assert_int_equal(load_text(&c, "[hub]\ncrl = /e/x.crl\n[mqtt]\nca = /x/ca.crt\n"
                                   "cert = /x/h.crt\nkey = /x/h.key\n"),
                     DEPOT_OK);
    assert_string_equal(c.order_ca, "/x/devices-ca.crt");
    assert_string_equal(c.order_crl, "/e/x.crl");
}

static void test_hub_config_load_UnknownTokenStageRefused(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[tokens]\nanna = approver:abcdefabcdef:legal\n"),
                     DEPOT_ERR_CONFIG);
    assert_non_null(strstr(err, "legal"));
    assert_int_equal(load_text(&c, "[approval]\nstages = a,a\n"), DEPOT_ERR_CONFIG);
    assert_error_at(2, "stages");
}

/* load_text for text of len bytes, which may hold a NUL. */
static depot_err load_bytes(struct hub_config *cfg, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    hub_config_defaults(cfg);
    err[0] = '\0';
    return hub_config_load(cfg, path, err, sizeof(err));
}

/* A comment of n characters whose last ones read "db = evil.db". */
static const char *long_comment(char *buf, size_t size, size_t n)
{
    static const char tail[] = "db = evil.db";
    assert_true(n + 1 < size && n > sizeof(tail));
    memset(buf, 'x', n);
    buf[0] = '#';
    memcpy(buf + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
    buf[n] = '\0';
    return buf;
}

static void test_hub_config_load_LongCommentIsNeverSplitIntoAnOption(void **state)
{
    struct hub_config c;
    char comment[300], text[400];
    (void)state;
    /* 212 characters: past inih's 200-byte buffer, within Depot's line limit. */
    snprintf(text, sizeof(text), "[hub]\n%s\nlog_level = warn\n",
             long_comment(comment, sizeof(comment), 212));
    assert_int_equal(load_text(&c, text), DEPOT_OK);
    assert_string_equal(c.db, "depot-hub.db");
    assert_int_equal(c.log_level, DEPOT_LOG_WARN);
}

static void test_hub_config_load_RefusesLineLongerThanParserBuffer(void **state)
{
    struct hub_config c;
    static char comment[1200], text[1300];
    (void)state;
    snprintf(text, sizeof(text), "[hub]\nlog_level = warn\n%s\n",
             long_comment(comment, sizeof(comment), 1100));
    assert_int_equal(load_text(&c, text), DEPOT_ERR_CONFIG);
    assert_error_at(3, "line longer than 1024 characters");
    assert_string_equal(c.db, "depot-hub.db");
}

static void test_hub_config_load_AcceptsTokenOf255Characters(void **state)
{
    struct hub_config c;
    char token[256], text[700];
    (void)state;
    memset(token, 'k', 255);
    token[255] = '\0';
    snprintf(text, sizeof(text), "[tokens]\nops = admin:%s\nanna = approver:%.254sa:sales\n", token,
             token);
    assert_int_equal(load_text(&c, text), DEPOT_OK);
    assert_int_equal(c.n_tokens, 2);
    assert_int_equal(strlen(c.tokens[0].token), 255);
    assert_string_equal(c.tokens[0].token, token);
    assert_int_equal(strlen(c.tokens[1].token), 255);
    assert_int_equal(c.tokens[1].n_stages, 1);
    /* One character more is refused, with its line. */
    snprintf(text, sizeof(text), "[tokens]\nops = admin:%sk\n", token);
    assert_int_equal(load_text(&c, text), DEPOT_ERR_CONFIG);
    assert_error_at(2, "8..255");
}

static void test_hub_config_load_RefusesOptionGivenTwice(void **state)
{
    struct hub_config c;
    (void)state;
    assert_int_equal(load_text(&c, "[hub]\ndb = a.db\n[http]\nthreads = 2\n[hub]\ndb = b.db\n"),
                     DEPOT_ERR_CONFIG);
    assert_error_at(5, "section [hub] given twice (first at line 1)");
    assert_int_equal(load_text(&c, "[hub]\ndb = a.db\n\ndb = b.db\n"), DEPOT_ERR_CONFIG);
    assert_error_at(4, "option 'db' given twice in [hub] (first at line 2)");
    assert_int_equal(
        load_text(&c, "[tokens]\nops = admin:0123456789ab\nops = viewer:abcdefabcdef\n"),
        DEPOT_ERR_CONFIG);
    assert_error_at(3, "option 'ops' given twice in [tokens]");
}

static void test_hub_config_load_RefusesNulInValue(void **state)
{
    static const char text[] = "[hub]\ndb = a.db\0evil\nlog_level = warn\n";
    struct hub_config c;
    (void)state;
    assert_int_equal(load_bytes(&c, text, sizeof(text) - 1), DEPOT_ERR_CONFIG);
    assert_error_at(2, "NUL");
}

static void test_hub_config_load_IndentedLineIsAnOptionOfItsOwn(void **state)
{
    struct hub_config c;
    (void)state;
    /* Not a continuation of db's value. */
    assert_int_equal(load_text(&c, "[hub]\ndb = a.db\n    log_level = warn\n"), DEPOT_OK);
    assert_string_equal(c.db, "a.db");
    assert_int_equal(c.log_level, DEPOT_LOG_WARN);
}

static int teardown(void **state)
{
    (void)state;
    test_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_config_defaults_AreDocumentedValues),
        cmocka_unit_test(test_hub_config_load_FullFile),
        cmocka_unit_test(test_hub_config_load_OutOfRangeNamesLine),
        cmocka_unit_test(test_hub_config_load_LogLevelInAnyCase),
        cmocka_unit_test(test_hub_config_load_StringLongerThanItsField),
        cmocka_unit_test(test_hub_config_load_UnknownOptionNamesLine),
        cmocka_unit_test(test_hub_config_load_BadListen),
        cmocka_unit_test(test_hub_config_load_BadRole),
        cmocka_unit_test(test_hub_config_load_ShortTokenRefused),
        cmocka_unit_test(test_hub_config_load_FirstErrorWins),
        cmocka_unit_test(test_hub_config_load_TlsFilesGoTogether),
        cmocka_unit_test(test_hub_config_load_MissingFile),
        cmocka_unit_test(test_hub_config_load_ApprovalStagesAndTokenStages),
        cmocka_unit_test(test_hub_config_load_OrderCaAndCrl),
        cmocka_unit_test(test_hub_config_load_UnknownTokenStageRefused),
        cmocka_unit_test(test_hub_config_load_LongCommentIsNeverSplitIntoAnOption),
        cmocka_unit_test(test_hub_config_load_RefusesLineLongerThanParserBuffer),
        cmocka_unit_test(test_hub_config_load_AcceptsTokenOf255Characters),
        cmocka_unit_test(test_hub_config_load_RefusesOptionGivenTwice),
        cmocka_unit_test(test_hub_config_load_RefusesNulInValue),
        cmocka_unit_test(test_hub_config_load_IndentedLineIsAnOptionOfItsOwn),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
