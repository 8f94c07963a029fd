/*
 * Power cuts at every one of the ledger's first CRASH_POINTS sync points
 * (issue: ledger crash safety). A workload of scale weights, terminal scans
 * (goods in, goods out, order lines) and signed orders runs on a real ledger
 * file through the power-cut VFS (crash_vfs.h); at its Nth sync the power
 * goes, the files are left as a cut may leave them (every unsynced write
 * lost, or each unsynced sector kept or lost at random), and the ledger is
 * opened again. For every N and both kinds of cut:
 *
 *   - PRAGMA integrity_check is "ok" and the gateway opens the ledger;
 *   - every operation that returned success before the cut (a weight
 *     recorded, a scan acknowledged to its node, an order submitted) is in
 *     the file: what a node was told is kept;
 *   - every transaction is whole or absent: each SKU's stock is the last
 *     movement's qty_after and the sum of its movements, every movement
 *     that reports has its outbox message, every order its lines and its
 *     message, and nothing is in the file that was not attempted.
 *
 * It prints the figures (points, cuts, files checked, corrupt, lost,
 * half-applied).
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

#include "catalog.h"
#include "crash_vfs.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "display.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "terminal.h"

#define CRASH_POINTS 200
#define MAX_OPS 1000
#define BC_BOLT "4006381333931"
#define BC_NUT "4006381333948"

struct acked {
    uint64_t weights[MAX_OPS]; /* the stock messages of the weights recorded (kept: no acks) */
    size_t n_weights;
    uint32_t scans[MAX_OPS]; /* seqs of scans acknowledged (node scan-a, epoch 1) */
    size_t n_scans;
    long long orders; /* orders submitted */
    long long attempts;
};

struct figures {
    long points, cuts, corrupt, lost, half;
};

static struct figures fig;
static char key_path[128], crt_path[128], key_dir[64];

static int group_setup(void **state)
{
    (void)state;
    depot_log_init("gw_crash_test", DEPOT_LOG_ERROR + 1);
    if (crash_vfs_register() != 0 || gw_test_tmpdir(key_dir, sizeof(key_dir), "gw_crash_key"))
        return -1;
    snprintf(key_path, sizeof(key_path), "%s/gateway.key", key_dir);
    snprintf(crt_path, sizeof(crt_path), "%s/gateway.crt", key_dir);
    if (pki_key_generate(key_path) != DEPOT_OK || pki_ca_create(key_path, crt_path, NULL, 30) != DEPOT_OK)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    printf("gw_crash_test: %ld sync points x 2 kinds of cut = %ld power cuts; corrupt %ld, "
           "acknowledged and lost %ld, half-applied %ld\n",
           fig.points, fig.cuts, fig.corrupt, fig.lost, fig.half);
    return gw_test_rmdir(key_dir);
}

/* One step of the workload; true when it returned success (what its caller was told). */
static bool op(gw_ledger *l, gw_terminal *t, int i, struct acked *a)
{
    static const int kinds[] = {0, 1, 0, 2, 3, 3, 4};
    int kind = kinds[i % 7];
    struct gw_display d;
    bool dup;
    a->attempts++;
    if (kind == 0) { /* a scale's weight: the count of a SKU */
        uint64_t id = 0;
        if (gw_ledger_record_count(l, "scale-1", i % 2 ? "BOLT-M8" : "GLUE", (i * 37) % 101,
                                   1000 + i, &id) != DEPOT_OK)
            return false;
        if (id)
            a->weights[a->n_weights++] = id;
        return true;
    }
    struct gw_scan s = {1, (uint32_t)i + 1, DEPOT_SCAN_RECEIVE, 1 + i % 5, ""};
    s.type = kind == 1   ? DEPOT_SCAN_RECEIVE
             : kind == 2 ? DEPOT_SCAN_PICK
             : kind == 3 ? DEPOT_SCAN_LINE
                         : DEPOT_SCAN_SUBMIT;
    if (s.type == DEPOT_SCAN_SUBMIT)
        s.qty = 0;
    else
        snprintf(s.barcode, sizeof(s.barcode), "%s", i % 3 ? BC_BOLT : BC_NUT);
    if (gw_terminal_scan(t, "scan-a", &s, 1000 + i, &d, &dup) != DEPOT_OK)
        return false;
    a->scans[a->n_scans++] = s.seq;
    if (s.type == DEPOT_SCAN_SUBMIT)
        a->orders++;
    return true;
}

/* The one integer sql answers; ?1 (if it has one) is n. */
/* Whether every transaction in the file is whole: stock, movements, outbox, orders agree. */
static bool whole(sqlite3 *db)
{
    static const char *const broken[] = {
        /* a stock row that is not what its SKU's movements add up to (a new SKU at 0 has
         * none), or a movement without its stock row */
        "SELECT count(*) FROM stock s WHERE s.qty <> COALESCE((SELECT SUM(delta) FROM "
        "movements m WHERE m.sku = s.sku), 0) OR s.qty <> COALESCE((SELECT qty_after FROM "
        "movements m WHERE m.sku = s.sku ORDER BY id DESC LIMIT 1), 0)",
        "SELECT count(*) FROM movements m WHERE NOT EXISTS (SELECT 1 FROM stock s WHERE "
        "s.sku = m.sku)",
        /* a movement that reports without its message (nothing is acknowledged here) */
        "SELECT count(*) FROM movements m WHERE m.msg_id IS NOT NULL AND m.kind = 'scale' AND "
        "NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = m.msg_id)",
        /* an order without lines or without its message */
        "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE "
        "l.order_id = o.id) OR NOT EXISTS (SELECT 1 FROM outbox x WHERE x.id = o.msg_id)",
        /* ids handed out beyond the counter */
        "SELECT count(*) FROM outbox WHERE id >= (SELECT next_id FROM meta)",
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
        if (gw_test_db_int(db, broken[i], 0) != 0) {
            print_message("not whole: %s\n", broken[i]);
            return false;
        }
    return true;
}

/* Every operation acknowledged before the cut is in the file; nothing beyond what was tried. */
static bool kept(sqlite3 *db, const struct acked *a)
{
    for (size_t i = 0; i < a->n_weights; i++)
        if (gw_test_db_int(db, "SELECT count(*) FROM outbox WHERE id = ?1", (long long)a->weights[i]) !=
            1) {
            print_message("weight %llu lost\n", (unsigned long long)a->weights[i]);
            return false;
        }
    for (size_t i = 0; i < a->n_scans; i++)
        if (gw_test_db_int(db,
                    "SELECT count(*) FROM scans WHERE node = 'scan-a' AND epoch = 1 AND seq = ?1",
                    a->scans[i]) != 1) {
            print_message("scan %u lost\n", a->scans[i]);
            return false;
        }
    return gw_test_db_int(db, "SELECT count(*) FROM orders", 0) >= a->orders &&
           gw_test_db_int(db, "SELECT count(*) FROM scans", 0) <= a->attempts;
}

static void put_catalog(gw_ledger *l)
{
    struct depot_catalog_item items[2] = {{"BOLT-M8", BC_BOLT, 1, 500, ""},
                                          {"NUT-M8", BC_NUT, 10, 20, ""}};
    struct depot_catalog_body c = {1, 2, items};
    bool applied;
    assert_int_equal(gw_catalog_replace(l, &c, &applied), DEPOT_OK);
}

/* The workload with the power cut at its nth sync, then the checks. */
static void cut_at(long n, enum crash_mode mode)
{
    struct gw_test_fixture f;
    static struct acked a;
    gw_terminal *t = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    bool ok;
    memset(&a, 0, sizeof(a));
    assert_int_equal(gw_test_fixture_init(&f, "gw_crash_test", true), 0);
    assert_int_equal(gw_terminal_new(f.ledger, key_path, crt_path, &t), DEPOT_OK);
    put_catalog(f.ledger);
    crash_vfs_arm(n, mode, (unsigned)n);
    for (int i = 0; i < MAX_OPS && !crash_vfs_crashed(); i++)
        (void)op(f.ledger, t, i, &a);
    assert_true(crash_vfs_crashed()); /* every point is inside the workload */
    gw_terminal_free(t);
    gw_test_fixture_close(&f); /* the process is gone: its closing writes fail */
    assert_int_equal(crash_vfs_apply(), 0);
    fig.cuts++;

    assert_int_equal(sqlite3_open_v2(f.db, &db, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ok = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    fig.corrupt += !ok;
    assert_true(ok);
    ok = kept(db, &a);
    fig.lost += !ok;
    assert_true(ok);
    ok = whole(db);
    fig.half += !ok;
    assert_true(ok);
    sqlite3_close(db);
    gw_test_fixture_open(&f, 1000, 80); /* the gateway starts again on it */
    gw_test_fixture_close(&f);
    assert_int_equal(gw_test_rmdir(f.dir), 0);
}

static void test_gw_crash_EveryCutLeavesWholeTransactions(void **state)
{
    (void)state;
    for (long n = 1; n <= CRASH_POINTS; n++) {
        cut_at(n, CRASH_DROP);
        cut_at(n, CRASH_TEAR);
        fig.points++;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_crash_EveryCutLeavesWholeTransactions),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
