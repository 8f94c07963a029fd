/*
 * Unit tests of gateway/downlink.c: the hub's down/alert and down/ranking
 * kept in the ledger (real SQLite file), read back the way a local tool would
 * (the open_alerts view, the ranking row).
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

#include "depot/msg.h"
#include "downlink.h"
#include "gw_test_util.h"
#include "ledger.h"

static int setup(void **state)
{
    return gw_test_fixture_setup(state, "gw_downlink_test");
}

static int teardown(void **state)
{
    return gw_test_fixture_teardown(state);
}

/* The first column of the first row of sql as text (static buffer), "" if none. */
static const char *sql_text(struct gw_test_fixture *f, const char *sql)
{
    static char buf[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    buf[0] = '\0';
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static struct depot_alert_body alert(long long id, const char *severity, const char *status,
                                     const char *text)
{
    struct depot_alert_body a;
    memset(&a, 0, sizeof(a));
    a.alert = id;
    snprintf(a.kind, sizeof(a.kind), "low_stock");
    snprintf(a.sku, sizeof(a.sku), "S1");
    snprintf(a.severity, sizeof(a.severity), "%s", severity);
    snprintf(a.status, sizeof(a.status), "%s", status);
    snprintf(a.text, sizeof(a.text), "%s", text);
    snprintf(a.action, sizeof(a.action), "reorder 12");
    return a;
}

static void test_gw_alert_store_KeepsLatestPerAlertId(void **state)
{
    struct gw_test_fixture *f = *state;
    char reason[128];
    bool stored;
    struct depot_alert_body a = alert(42, "warning", "open", "S1 at 3, reorder point 5");

    assert_int_equal(gw_alert_store(f->ledger, &a, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_true(stored);
    a = alert(7, "critical", "open", "scale-b faulted");
    assert_int_equal(gw_alert_store(f->ledger, &a, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_int_equal(gw_alerts_open(f->ledger), 2);
    assert_string_equal(sql_text(f, "SELECT alert FROM open_alerts"), "7"); /* critical first */

    a = alert(42, "warning", "acknowledged", "S1 at 2");
    assert_int_equal(gw_alert_store(f->ledger, &a, 2000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_true(stored);
    a = alert(42, "warning", "open", "a late repeat of the first");
    assert_int_equal(gw_alert_store(f->ledger, &a, 1500, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_false(stored); /* older than what is kept */
    assert_string_equal(sql_text(f, "SELECT status || '|' || text FROM alerts WHERE alert = 42"),
                        "acknowledged|S1 at 2");
    a = alert(42, "warning", "resolved", "back at 9");
    assert_int_equal(gw_alert_store(f->ledger, &a, 3000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_int_equal(gw_alerts_open(f->ledger), 1);
    assert_string_equal(sql_text(f, "SELECT count(*) FROM alerts"), "2");
}

static void test_gw_alert_store_MalformedRejectedWithReason(void **state)
{
    struct gw_test_fixture *f = *state;
    char reason[128] = "";
    bool stored = true;
    struct depot_alert_body a = alert(1, "urgent", "open", "x");

    assert_int_equal(gw_alert_store(f->ledger, &a, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_ERR_INVAL);
    assert_false(stored);
    assert_non_null(strstr(reason, "severity"));
    a = alert(1, "info", "open", "x");
    snprintf(a.kind, sizeof(a.kind), "low stock!");
    assert_int_equal(gw_alert_store(f->ledger, &a, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_ERR_INVAL);
    assert_non_null(strstr(reason, "kind"));
    assert_string_equal(sql_text(f, "SELECT count(*) FROM alerts"), "0");
}

static struct depot_ranking_body ranking(const char *period, long long rank)
{
    struct depot_ranking_body r;
    memset(&r, 0, sizeof(r));
    snprintf(r.period, sizeof(r.period), "%s", period);
    r.rank = rank;
    r.of = 12;
    r.score = 0.81;
    r.rebate_pct = 3;
    r.rebate = 123.5;
    r.n_kpis = 2;
    snprintf(r.kpis[0].name, sizeof(r.kpis[0].name), "sales");
    r.kpis[0].value = 4116.5;
    r.kpis[0].score = 0.9;
    r.kpis[0].weight = 0.35;
    snprintf(r.kpis[1].name, sizeof(r.kpis[1].name), "freshness");
    r.kpis[1].value = 0.99;
    r.kpis[1].score = 1;
    r.kpis[1].weight = 0.1;
    return r;
}

static void test_gw_ranking_store_KeepsLatestPeriod(void **state)
{
    struct gw_test_fixture *f = *state;
    char reason[128];
    bool stored;
    struct depot_ranking_body r = ranking("2026-11", 3);

    assert_int_equal(gw_ranking_store(f->ledger, &r, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_true(stored);
    assert_string_equal(sql_text(f, "SELECT period || ' ' || rank || '/' || of_n FROM ranking"),
                        "2026-11 3/12");
    assert_string_equal(sql_text(f, "SELECT json_extract(kpis, '$[0].name') || '=' ||"
                                    " json_extract(kpis, '$[0].value') FROM ranking"),
                        "sales=4116.5");
    r = ranking("2026-11", 2); /* the same period recomputed: replaces */
    assert_int_equal(gw_ranking_store(f->ledger, &r, 2000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_true(stored);
    r = ranking("2026-10", 9); /* an older period: ignored */
    assert_int_equal(gw_ranking_store(f->ledger, &r, 3000, &stored, reason, sizeof(reason)),
                     DEPOT_OK);
    assert_false(stored);
    assert_string_equal(sql_text(f, "SELECT period || ' ' || rank FROM ranking"), "2026-11 2");
}

static void test_gw_ranking_store_BadPeriodRejected(void **state)
{
    struct gw_test_fixture *f = *state;
    char reason[128] = "";
    bool stored;
    struct depot_ranking_body r = ranking("2026-13", 1);
    assert_int_equal(gw_ranking_store(f->ledger, &r, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_ERR_INVAL);
    assert_non_null(strstr(reason, "period"));
    r = ranking("Nov 2026", 1);
    assert_int_equal(gw_ranking_store(f->ledger, &r, 1000, &stored, reason, sizeof(reason)),
                     DEPOT_ERR_INVAL);
    assert_string_equal(sql_text(f, "SELECT count(*) FROM ranking"), "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gw_alert_store_KeepsLatestPerAlertId, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_alert_store_MalformedRejectedWithReason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ranking_store_KeepsLatestPeriod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ranking_store_BadPeriodRejected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
