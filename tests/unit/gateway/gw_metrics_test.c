/*
 * Unit tests of gateway/metrics.c: the metrics file is collected from a real
 * ledger and a (not started) poller, written atomically, and parsed back as
 * Prometheus text: every sample has HELP and TYPE, values match the ledger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "metrics.h"
#include "poller.h"

struct fixture {
    struct gw_test_fixture gw;
    char out[128]; /* <dir>/gateway.prom */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || gw_test_fixture_init(&f->gw, "gw_metrics_test", true) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->out, sizeof(f->out), "%s/gateway.prom", f->gw.dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = gw_test_fixture_fini(&f->gw);
    free(f);
    return rc;
}

static void exec_sql(struct fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->gw.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

struct parsed {
    char text[16384];
};

/*
 * The value of the sample whose "name{labels}" is exactly key, or -1. Also
 * checks the whole file's shape: every sample's metric has # HELP and # TYPE
 * before it, and every line is a comment or "series value".
 */
static long long sample(const struct parsed *p, const char *key)
{
    char copy[sizeof(p->text)], *save = NULL, typed[128] = "";
    long long v = -1;
    memcpy(copy, p->text, sizeof(copy));
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char series[256], name[128];
        long long val;
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", typed), 1);
            continue;
        }
        if (!strncmp(line, "# HELP ", 7))
            continue;
        assert_int_equal(sscanf(line, "%255s %lld", series, &val), 2);
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(series, "{"), series);
        assert_string_equal(name, typed); /* under its own TYPE line */
        if (!strcmp(series, key))
            v = val;
    }
    return v;
}

static void read_back(struct fixture *f, struct parsed *p)
{
    FILE *in = fopen(f->out, "r");
    size_t n;
    char tmp[160];
    assert_non_null(in);
    n = fread(p->text, 1, sizeof(p->text) - 1, in);
    p->text[n] = '\0';
    fclose(in);
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->out);
    assert_int_not_equal(access(tmp, F_OK), 0); /* renamed, not left behind */
}

static gw_config *two_node_config(void)
{
    static const char text[] = "[gateway]\ndealer = D001\n"
                               "[node:scale-a]\naddress = 127.0.0.1:1\nsku = S1\n"
                               "unit_weight_g = 100\n"
                               "[node:scan-a]\naddress = 127.0.0.1:1\nkind = scanner\n";
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    gw_config *cfg = NULL;
    char err[256];
    assert_non_null(in);
    assert_int_equal(gw_config_load_stream(in, "gw.ini", &cfg, err, sizeof(err)), DEPOT_OK);
    fclose(in);
    return cfg;
}

static void test_gw_metrics_write_FileParsesBackWithLedgerFigures(void **state)
{
    struct fixture *f = *state;
    struct gw_metrics_snapshot *s = calloc(1, sizeof(*s));
    struct parsed *p = calloc(1, sizeof(*p));
    uint64_t id;

    assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-a", "S1", 4, 100, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-a", "S1", 6, 200, &id), DEPOT_OK);
    exec_sql(f, "INSERT INTO scans (node, epoch, seq, type, barcode, qty, outcome, display_code,"
                " display, ts) VALUES ('scan-a', 1, 1, 1, 'B', 1, 'applied', 0, '', 1),"
                " ('scan-a', 1, 2, 1, 'B', 1, 'applied', 0, '', 1),"
                " ('scan-a', 1, 3, 1, 'X', 1, 'refused', 0, '', 1);"
                "INSERT INTO orders (id, number, terminal, doc, sig, status, created, msg_id)"
                " VALUES ('x-1', 1, 'scan-a', '{}', 's', 'approved', 1, 9),"
                " ('x-2', 2, 'scan-a', '{}', 's', 'pending', 1, 10),"
                " ('x-3', 3, 'scan-a', '{}', 's', 'approved', 1, 11);"
                "INSERT INTO alerts VALUES (1, 'low_stock', 'S1', 'warning', 'open', 't', 'a', 1,"
                " 1);"
                "INSERT INTO scans (node, epoch, seq, type, barcode, qty, outcome, display_code,"
                " display, ts, reason) VALUES ('scan-a', 1, 4, 2, 'B', 9, 'refused', 0, '', 1,"
                " 'pick_exceeds_stock');");
    assert_int_equal(gw_ledger_outbox_set_aside(f->gw.ledger, 1, "does not decode", NULL),
                     DEPOT_OK);
    assert_int_equal(gw_metrics_collect(f->gw.ledger, f->gw.db, 1000, NULL, NULL, s), DEPOT_OK);
    assert_int_equal(gw_metrics_write(f->out, s), DEPOT_OK);
    read_back(f, p);

    assert_int_equal(sample(p, "depot_gw_outbox_depth"), 2);
    assert_int_equal(sample(p, "depot_gw_outbox_max_entries"), 1000);
    assert_true(sample(p, "depot_gw_ledger_bytes") > 4096);
    assert_int_equal(sample(p, "depot_gw_scans_total{outcome=\"applied\"}"), 2);
    assert_int_equal(sample(p, "depot_gw_scans_total{outcome=\"refused\"}"), 2);
    assert_int_equal(sample(p, "depot_gw_scans_refused_total{reason=\"pick_exceeds_stock\"}"), 1);
    assert_int_equal(sample(p, "depot_gw_scans_refused_total{reason=\"other\"}"), 1);
    assert_int_equal(sample(p, "depot_gw_scans_refused_total{reason=\"bad_qty\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_outbox_aside_total"), 1);
    assert_int_equal(sample(p, "depot_gw_orders{status=\"approved\"}"), 2);
    assert_int_equal(sample(p, "depot_gw_orders{status=\"pending\"}"), 1);
    assert_int_equal(sample(p, "depot_gw_orders{status=\"rejected\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_movements_waiting"), 2);
    assert_int_equal(sample(p, "depot_gw_movements_cursor"), 0);
    assert_int_equal(sample(p, "depot_gw_alerts_open"), 1);
    assert_int_equal(sample(p, "depot_gw_mqtt_connected"), 0);
    assert_int_equal(sample(p, "depot_gw_messages_sent_total"), 0);
    assert_int_equal(sample(p, "depot_gw_messages_acked_total"), 0);
    assert_int_equal(sample(p, "depot_gw_messages_resent_total"), 0);
    assert_non_null(strstr(p->text, "depot_gw_info{dealer=\"D001\",ledger=\""));
    gw_metrics_clear(s);
    free(s);
    free(p);
}

static void test_gw_metrics_collect_NodesFromThePoller(void **state)
{
    struct fixture *f = *state;
    struct gw_metrics_snapshot *s = calloc(1, sizeof(*s));
    struct parsed *p = calloc(1, sizeof(*p));
    gw_config *cfg = two_node_config();
    gw_poller *poller = NULL;

    assert_int_equal(gw_poller_new(cfg, f->gw.ledger, NULL, &poller), DEPOT_OK);
    assert_int_equal(gw_metrics_collect(f->gw.ledger, f->gw.db, 1000, poller, NULL, s), DEPOT_OK);
    assert_int_equal(s->n_nodes, 2);
    assert_int_equal(gw_metrics_write(f->out, s), DEPOT_OK);
    read_back(f, p);
    assert_int_equal(sample(p, "depot_gw_polls_total{node=\"scale-a\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_polls_total{node=\"scan-a\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_faults_total{node=\"scale-a\",reason=\"timeout\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_faults_total{node=\"scan-a\",reason=\"other\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_node_faulted{node=\"scale-a\",kind=\"scale\"}"), 0);
    assert_int_equal(sample(p, "depot_gw_node_faulted{node=\"scan-a\",kind=\"scanner\"}"), 0);
    gw_poller_free(poller);
    gw_config_free(cfg);
    gw_metrics_clear(s);
    free(s);
    free(p);
}

/* Every node is in the file, however many: 600 scales, each with its series. */
static void test_gw_metrics_collect_EveryNodeOfMany(void **state)
{
    struct fixture *f = *state;
    enum { N = 600 };
    struct gw_metrics_snapshot s;
    size_t cap = 128 * N + 64, at = 0, len = 0;
    char *text = malloc(cap), *out = NULL, key[64], err[256];
    gw_config *cfg = NULL;
    gw_poller *poller = NULL;
    FILE *in, *mem;

    assert_non_null(text);
    at += (size_t)snprintf(text + at, cap - at, "[gateway]\ndealer = D001\n");
    for (int i = 0; i < N; i++)
        at += (size_t)snprintf(text + at, cap - at,
                               "[node:scale-%04d]\naddress = 127.0.0.1:1\nsku = S%d\n"
                               "unit_weight_g = 100\n",
                               i, i);
    assert_true(at < cap);
    assert_non_null(in = fmemopen(text, at, "r"));
    assert_int_equal(gw_config_load_stream(in, "gw.ini", &cfg, err, sizeof(err)), DEPOT_OK);
    fclose(in);
    assert_int_equal(gw_poller_new(cfg, f->gw.ledger, NULL, &poller), DEPOT_OK);
    assert_int_equal(gw_metrics_collect(f->gw.ledger, f->gw.db, 1000, poller, NULL, &s), DEPOT_OK);
    assert_int_equal(s.n_nodes, N);
    assert_non_null(mem = open_memstream(&out, &len));
    gw_metrics_render(&s, mem);
    fclose(mem);
    for (int i = 0; i < N; i += N - 1) { /* the first and the last */
        snprintf(key, sizeof(key), "depot_gw_polls_total{node=\"scale-%04d\"} 0\n", i);
        assert_non_null(strstr(out, key));
    }
    free(out);
    gw_metrics_clear(&s);
    assert_null(s.nodes);
    gw_poller_free(poller);
    gw_config_free(cfg);
    free(text);
}

static void test_gw_metrics_write_UnwritableFolderIsAnError(void **state)
{
    struct fixture *f = *state;
    struct gw_metrics_snapshot *s = calloc(1, sizeof(*s));
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/m.prom", f->gw.dir);
    assert_int_equal(gw_metrics_collect(f->gw.ledger, f->gw.db, 1000, NULL, NULL, s), DEPOT_OK);
    assert_int_equal(gw_metrics_write(bad, s), DEPOT_ERR_IO);
    gw_metrics_clear(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gw_metrics_write_FileParsesBackWithLedgerFigures,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_metrics_collect_EveryNodeOfMany, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_metrics_collect_NodesFromThePoller, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_metrics_write_UnwritableFolderIsAnError, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
