/* Unit tests of gateway/ledger.c: the transactional outbox on SQLite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "depot/msg.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "ledger_tx.h"

/* A test of what the ledger keeps: the ledger open (1000 entries, warning at 80 %). */
static int setup(void **state)
{
    return gw_test_fixture_setup(state, "gw_ledger_test");
}

/* A test that opens the ledger itself (bounds, reopening, refusals). */
static int setup_dir(void **state)
{
    return gw_test_fixture_setup_dir(state, "gw_ledger_test");
}

static int teardown(void **state)
{
    return gw_test_fixture_teardown(state);
}

/* Decode outbox entry number i (from id 0). */
static void outbox_msg(gw_ledger *l, size_t i, depot_msg *m)
{
    struct gw_outbox_entry e[64];
    size_t n;
    char reason[128];
    assert_int_equal(gw_ledger_outbox_read(l, 0, 64, e, &n), DEPOT_OK);
    assert_true(i < n);
    assert_int_equal(depot_msg_decode(e[i].payload, e[i].len, m, reason, sizeof(reason)), DEPOT_OK);
    assert_int_equal(m->id, e[i].id);
    gw_ledger_entries_clear(e, n);
}

static void test_gw_ledger_record_count_WritesMovementStockAndOutboxTogether(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    uint64_t id;
    long long qty;
    depot_msg m;

    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 12, 1000, &id), DEPOT_OK);
    assert_int_equal(id, 1);
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 10, 2000, &id), DEPOT_OK);
    assert_int_equal(id, 2);
    assert_int_equal(gw_ledger_stock_get(l, "S1", &qty), DEPOT_OK);
    assert_int_equal(qty, 10);
    assert_int_equal(gw_ledger_outbox_count(l), 2);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 2);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT delta FROM movements WHERE msg_id = 2"), -2);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT qty_after FROM movements WHERE msg_id = 2"),
                     10);

    outbox_msg(l, 1, &m);
    assert_int_equal(m.type, DEPOT_MSG_STOCK);
    assert_string_equal(m.dealer, "D001");
    assert_string_equal(m.ledger, gw_ledger_id(l));
    assert_int_equal(m.base, 1);
    assert_int_equal(m.ts, 2000);
    assert_string_equal(m.body.stock.sku, "S1");
    assert_string_equal(m.body.stock.node, "scale-a");
    assert_int_equal(m.body.stock.qty, 10);
    assert_int_equal(m.body.stock.delta, -2);
    depot_msg_clear(&m);
}

static void test_gw_ledger_record_count_UnchangedQtyWritesNothing(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    uint64_t id;
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 5, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 5, 2000, &id), DEPOT_OK);
    assert_int_equal(id, 0);
    assert_int_equal(gw_ledger_outbox_count(l), 1);
    assert_int_equal(gw_ledger_last_id(l), 1);
}

static void test_gw_ledger_record_count_NewSkuAtZeroIsReportedWithoutMovement(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    uint64_t id;
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 0, 1000, &id), DEPOT_OK);
    assert_int_equal(id, 1);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 0);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM stock"), 1);
}

static void test_gw_ledger_ack_DeletesUpToAndMovesBase(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    uint64_t id, base;
    long long deleted;
    depot_msg m;
    for (int q = 1; q <= 5; q++)
        assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", q, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_ack(l, 3, &deleted), DEPOT_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(gw_ledger_outbox_count(l), 2);
    gw_ledger_outbox_base(l, &base);
    assert_int_equal(base, 4);
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 9, 1000, &id), DEPOT_OK);
    outbox_msg(l, 2, &m);
    assert_int_equal(m.id, 6);
    assert_int_equal(m.base, 4);
    depot_msg_clear(&m);
    /* an ack again, or of less, deletes nothing more */
    assert_int_equal(gw_ledger_ack(l, 2, &deleted), DEPOT_OK);
    assert_int_equal(deleted, 0);
    /* beyond the last id: refused */
    assert_int_equal(gw_ledger_ack(l, 7, &deleted), DEPOT_ERR_INVAL);
    assert_int_equal(gw_ledger_ack(l, 6, &deleted), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 0);
    gw_ledger_outbox_base(l, &base);
    assert_int_equal(base, 7);
    /* movements are never deleted by acks */
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 6);
}

static void test_gw_ledger_record_count_CoalescesStockWhenFull(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 3, 100);
    uint64_t id;
    long long qty;
    depot_msg m;
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 1, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 2, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "b", "S2", 7, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 3);
    /* full: the newest S1 replaces both older S1 messages */
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 3, 1000, &id), DEPOT_OK);
    assert_int_equal(id, 4);
    assert_int_equal(gw_ledger_outbox_count(l), 2);
    outbox_msg(l, 0, &m);
    assert_string_equal(m.body.stock.sku, "S2");
    depot_msg_clear(&m);
    outbox_msg(l, 1, &m);
    assert_int_equal(m.id, 4);
    assert_int_equal(m.body.stock.qty, 3);
    assert_int_equal(m.base, 3); /* the gap 1..2 is covered by base */
    depot_msg_clear(&m);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 4);
    (void)qty;
}

static void test_gw_ledger_record_count_FullWithNothingToCoalesceWritesNothing(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 2, 100);
    uint64_t id;
    long long qty;
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 1, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "b", "S2", 1, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "c", "S3", 4, 1000, &id), DEPOT_ERR_FULL);
    assert_int_equal(gw_ledger_stock_get(l, "S3", &qty), DEPOT_ERR_NOTFOUND);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 2);
    assert_int_equal(gw_ledger_last_id(l), 2);
    assert_int_equal(gw_ledger_append_event(l, "a", "fault", "timeout", 3, 1, &id), DEPOT_ERR_FULL);
    assert_int_equal(gw_ledger_outbox_count(l), 2);
}

static void test_gw_ledger_append_event_WarnPercentQueuesOneWarning(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 10, 50);
    uint64_t id;
    depot_msg m;
    for (int q = 1; q <= 4; q++)
        assert_int_equal(gw_ledger_record_count(l, "a", "S1", q, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 4);
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 5, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 6); /* the 5th plus the warning */
    outbox_msg(l, 5, &m);
    assert_int_equal(m.type, DEPOT_MSG_EVENT);
    assert_string_equal(m.body.event.node, "gateway");
    assert_string_equal(m.body.event.event, "fault");
    assert_string_equal(m.body.event.reason, "outbox_high");
    depot_msg_clear(&m);
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 6, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 7); /* no second warning */
    /* acknowledged down: one recovered event */
    assert_int_equal(gw_ledger_ack(l, 7, NULL), DEPOT_OK);
    assert_int_equal(gw_ledger_outbox_count(l), 1);
    outbox_msg(l, 0, &m);
    assert_string_equal(m.body.event.event, "recovered");
    depot_msg_clear(&m);
}

static void test_gw_ledger_open_ReopenKeepsEverything(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 1000, 80);
    char id_before[DEPOT_LEDGER_HEX + 1];
    uint64_t id;
    long long qty;
    assert_int_equal(strlen(gw_ledger_id(l)), 32);
    strcpy(id_before, gw_ledger_id(l));
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 4, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_append_event(l, "a", "fault", "timeout", 3, 1, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_ack(l, 2, NULL), DEPOT_OK);
    gw_test_fixture_close(f);

    l = gw_test_fixture_open(f, 1000, 80);
    assert_string_equal(gw_ledger_id(l), id_before);
    assert_int_equal(gw_ledger_last_id(l), 2);
    assert_int_equal(gw_ledger_stock_get(l, "S1", &qty), DEPOT_OK);
    assert_int_equal(qty, 4);
    assert_int_equal(gw_ledger_outbox_count(l), 0);
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 5, 1000, &id), DEPOT_OK);
    assert_int_equal(id, 3); /* ids keep growing across restarts, even with an empty outbox */
    gw_test_fixture_close(f);
    assert_int_equal(gw_test_sql_int(f->db, "PRAGMA user_version"),
                     9); /* 3: + movements cursor, alerts; 4: + outbox_aside, scans.reason;
                            5: + policies; 6: + contracts; 7: + the movement chain;
                            8: + item codes; 9: + serial prefixes */
}

static void test_gw_ledger_open_NewLedgerGetsFreshRandomId(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 1000, 80);
    char first[DEPOT_LEDGER_HEX + 1];
    strcpy(first, gw_ledger_id(l));
    gw_test_fixture_close(f);
    unlink(f->db);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_string_not_equal(first, gw_ledger_id(l));
}

static void test_gw_ledger_open_OtherDealerRefused(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_ledger_opts o = {f->db, "D002", 1000, 80};
    gw_ledger *l = gw_test_fixture_open(f, 1000, 80);
    gw_test_fixture_close(f);
    l = NULL;
    assert_int_equal(gw_ledger_open(&o, &l), DEPOT_ERR_CONFIG);
    assert_null(l);
}

static void test_gw_ledger_open_WalAndAppendOnlyMovements(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 1000, 80);
    uint64_t id;
    sqlite3 *db;
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 4, 1000, &id), DEPOT_OK);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE movements SET delta = 0", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM movements", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements"), 1);
    gw_test_fixture_close(f);
    assert_int_equal(access(f->db, F_OK), 0);
}

static void test_gw_ledger_stock_list_AllRows(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    struct depot_snapshot_item *items;
    size_t n;
    uint64_t id;
    assert_int_equal(gw_ledger_stock_list(l, &items, &n), DEPOT_OK);
    assert_int_equal(n, 0);
    free(NULL);
    depot_msg m = {0};
    m.type = DEPOT_MSG_SNAPSHOT;
    m.body.snapshot.items = items;
    depot_msg_clear(&m);
    assert_int_equal(gw_ledger_record_count(l, "b", "S2", 4, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "a", "S1", 2, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_stock_list(l, &items, &n), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].sku, "S1");
    assert_int_equal(items[1].qty, 4);
    assert_string_equal(items[1].node, "b");
    m.body.snapshot.items = items;
    depot_msg_clear(&m);
}

static void test_gw_ledger_outbox_set_aside_KeepsRowReportsItAndBasePassesIt(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 3, 100);
    uint64_t id, base, ev;
    depot_msg m;
    for (int q = 1; q <= 3; q++) /* the outbox is full: 3 of 3 */
        assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", q, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_test_sql_int(f->db, "UPDATE outbox SET payload = 'x' WHERE id = 1"
                                            " RETURNING id"),
                     1);
    assert_int_equal(gw_ledger_outbox_set_aside(l, 1, "does not decode: not JSON", &ev), DEPOT_OK);
    assert_int_equal(ev, 4);
    /* kept aside as it was, with why and the event that reported it */
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM outbox_aside WHERE id = 1"
                                            " AND payload = 'x' AND topic = 'up/stock' AND"
                                            " reason = 'does not decode: not JSON'"
                                            " AND event_id = 4 AND moved_at > 0"),
                     1);
    assert_int_equal(gw_ledger_outbox_aside_count(l), 1);
    /* gone from the outbox: the base passes it, and the event took its room */
    assert_int_equal(gw_ledger_outbox_count(l), 3);
    gw_ledger_outbox_base(l, &base);
    assert_int_equal(base, 2);
    outbox_msg(l, 2, &m);
    assert_int_equal(m.type, DEPOT_MSG_EVENT);
    assert_int_equal(m.id, 4);
    assert_int_equal(m.base, 2);
    assert_string_equal(m.body.event.node, "gateway");
    assert_string_equal(m.body.event.event, "outbox_aside");
    assert_string_equal(m.body.event.reason, "does not decode: not JSON");
    assert_int_equal(m.body.event.count, 1);
    depot_msg_clear(&m);
    /* once only */
    assert_int_equal(gw_ledger_outbox_set_aside(l, 1, "again", NULL), DEPOT_ERR_NOTFOUND);
    assert_int_equal(gw_ledger_last_id(l), 4);
}

static void test_gw_ledger_outbox_read_ReturnsARowWhoseTopicNamesNoType(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    struct gw_outbox_entry e[4];
    size_t n;
    uint64_t id;
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 1, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 2, 1000, &id), DEPOT_OK);
    assert_int_equal(
        gw_test_sql_int(f->db, "UPDATE outbox SET topic = 'up/bogus' WHERE id = 1 RETURNING id"),
        1);
    /* not skipped in place (that would hold the base at 1 for good): handed to the uplink */
    assert_int_equal(gw_ledger_outbox_read(l, 0, 4, e, &n), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(e[0].id, 1);
    assert_int_equal(e[0].type, DEPOT_MSG__COUNT);
    assert_int_equal(e[1].type, DEPOT_MSG_STOCK);
    gw_ledger_entries_clear(e, n);
}

/* ---- group commit ---- */

static int commit_hook(void *arg)
{
    (*(int *)arg)++;
    return 0; /* let it commit */
}

/* A second thread's transaction: D-B set to 7 through the scanner modules' API, its work
 * finished with `finish_with` (DEPOT_OK, or an error that rolls back its part only). */
struct other_tx {
    gw_ledger *l;
    depot_err finish_with;
    depot_err result;
    uint64_t msg_id;
};

static void *other_tx_main(void *arg)
{
    struct other_tx *o = arg;
    struct ledger_tx tx;
    gw_ledger_lock(o->l);
    o->result = gw_ledger_tx_begin(o->l, &tx);
    if (o->result == DEPOT_OK) {
        o->result = gw_ledger_tx_stock(o->l, &tx, "scale-b", "D-B", 7, "scale", 3000, &o->msg_id);
        o->result =
            gw_ledger_tx_finish(o->l, &tx, o->result == DEPOT_OK ? o->finish_with : o->result);
    }
    gw_ledger_unlock(o->l);
    return NULL;
}

/* This thread opens a transaction (D-A = 5) and, once the other thread waits for the lock,
 * finishes it: it joins the group and the other thread's COMMIT covers both. */
static void run_group(gw_ledger *l, struct other_tx *o, int *commits, depot_err *mine,
                      uint64_t *my_id)
{
    struct ledger_tx tx;
    pthread_t th;
    sqlite3_commit_hook(gw_ledger_sqlite(l), commit_hook, commits);
    gw_ledger_lock(l);
    assert_int_equal(gw_ledger_tx_begin(l, &tx), DEPOT_OK);
    assert_int_equal(gw_ledger_tx_stock(l, &tx, "scale-a", "D-A", 5, "scale", 2000, my_id),
                     DEPOT_OK);
    assert_int_equal(pthread_create(&th, NULL, other_tx_main, o), 0);
    for (int i = 0; i < 5000 && gw_ledger_lock_waiters(l) == 0; i++) /* bounded: 5 s */
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_int_equal(gw_ledger_lock_waiters(l), 1);
    *mine = gw_ledger_tx_finish(l, &tx, DEPOT_OK);
    gw_ledger_unlock(l);
    assert_int_equal(pthread_join(th, NULL), 0);
    sqlite3_commit_hook(gw_ledger_sqlite(l), NULL, NULL);
}

static void test_gw_ledger_tx_finish_WaitingCallerSharesOneCommit(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    struct other_tx o = {l, DEPOT_OK, DEPOT_ERR_DB, 0};
    int commits = 0;
    depot_err mine = DEPOT_ERR_DB;
    uint64_t my_id = 0;
    long long qty;

    run_group(l, &o, &commits, &mine, &my_id);
    assert_int_equal(mine, DEPOT_OK);
    assert_int_equal(o.result, DEPOT_OK);
    assert_int_equal(commits, 1); /* both in one COMMIT */
    assert_int_equal(my_id, 1);
    assert_int_equal(o.msg_id, 2);
    /* durable: another connection sees both, and meta.next_id was written for the group */
    assert_int_equal(gw_test_sql_int(f->db, "SELECT qty FROM stock WHERE sku = 'D-A'"), 5);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT qty FROM stock WHERE sku = 'D-B'"), 7);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM outbox"), 2);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT next_id FROM meta"), 3);
    assert_int_equal(gw_ledger_stock_get(l, "D-B", &qty), DEPOT_OK);
    assert_int_equal(qty, 7);
    assert_int_equal(gw_ledger_outbox_count(l), 2);
    assert_int_equal(gw_ledger_last_id(l), 2);
}

static void test_gw_ledger_tx_finish_FailedCallerRollsBackOnlyItsOwnPart(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    struct other_tx o = {l, DEPOT_ERR_INVAL, DEPOT_OK, 0};
    int commits = 0;
    depot_err mine = DEPOT_ERR_DB;
    uint64_t my_id = 0, id;
    long long qty;

    run_group(l, &o, &commits, &mine, &my_id);
    assert_int_equal(o.result, DEPOT_ERR_INVAL);
    assert_int_equal(mine, DEPOT_OK); /* the group's first part committed all the same */
    assert_int_equal(commits, 1);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT qty FROM stock WHERE sku = 'D-A'"), 5);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM stock WHERE sku = 'D-B'"), 0);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM movements WHERE sku = 'D-B'"), 0);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(gw_ledger_stock_get(l, "D-B", &qty), DEPOT_ERR_NOTFOUND);
    assert_int_equal(gw_ledger_outbox_count(l), 1);
    /* the rolled-back part took no message id: the next one follows the committed one */
    assert_int_equal(gw_ledger_record_count(l, "scale-b", "D-B", 7, 4000, &id), DEPOT_OK);
    assert_int_equal(id, 2);
    assert_int_equal(gw_test_sql_int(f->db, "SELECT next_id FROM meta"), 3);
}

static void test_gw_ledger_record_count_LoneCallerCommitsAtOnce(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = f->ledger;
    int commits = 0;
    uint64_t id;
    sqlite3_commit_hook(gw_ledger_sqlite(l), commit_hook, &commits);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(gw_ledger_record_count(l, "scale-a", "D-A", i, 1000 * i, &id), DEPOT_OK);
        assert_int_equal(commits, i); /* committed before it returned, nobody waited */
        assert_int_equal(gw_test_sql_int(f->db, "SELECT qty FROM stock WHERE sku = 'D-A'"), i);
    }
    sqlite3_commit_hook(gw_ledger_sqlite(l), NULL, NULL);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
}

/* gw_ledger_open refuses the file at path with DEPOT_ERR_DB, and leaves it as it was. */
static void assert_refused_untouched(const char *path, const char *why_part)
{
    struct gw_ledger_opts o = {path, "D001", 1000, 80};
    struct gw_ledger_info info;
    gw_ledger *l = NULL;
    char why[256], side[160];
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(gw_ledger_verify(path, &info, why, sizeof(why)), DEPOT_ERR_DB);
    assert_non_null(strstr(why, why_part));
    assert_int_equal(gw_ledger_open(&o, &l), DEPOT_ERR_DB);
    assert_null(l);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    assert_true(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
                after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    snprintf(side, sizeof(side), "%s-wal", path);
    assert_int_not_equal(access(side, F_OK), 0);
}

static void test_gw_ledger_open_RefusesEmptyTruncatedGarbageOrForeignFileUntouched(void **state)
{
    struct gw_test_fixture *f = *state;
    gw_ledger *l = gw_test_fixture_open(f, 1000, 80);
    char *good;
    long size;
    sqlite3 *db;
    FILE *in;
    uint64_t id;
    assert_int_equal(gw_ledger_record_count(l, "scale-a", "S1", 4, 1000, &id), DEPOT_OK);
    gw_test_fixture_close(f);
    in = fopen(f->db, "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    size = ftell(in);
    rewind(in);
    good = malloc((size_t)size);
    assert_int_equal(fread(good, 1, (size_t)size, in), (size_t)size);
    fclose(in);

    write_file(f->db, "", 0);
    assert_refused_untouched(f->db, "empty (0 bytes)");
    write_file(f->db, good, (size_t)size / 2);
    assert_refused_untouched(f->db, "damaged");
    write_file(f->db, "not a ledger at all, not even SQLite\n", 37);
    assert_refused_untouched(f->db, "not an SQLite database");
    unlink(f->db);
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes (t TEXT)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_refused_untouched(f->db, "not a Depot ledger");
    /* the sound file is the same ledger again */
    write_file(f->db, good, (size_t)size);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_int_equal(gw_ledger_last_id(l), 1);
    gw_test_fixture_close(f);
    free(good);
}

static void test_gw_ledger_open_OnlyAMissingFileIsCreated(void **state)
{
    struct gw_test_fixture *f = *state;
    struct gw_ledger_info info;
    char why[256], tmp[160];
    gw_ledger *l;
    assert_int_equal(gw_ledger_verify(f->db, &info, why, sizeof(why)), DEPOT_ERR_NOTFOUND);
    /* what a crash in an earlier creation leaves beside it is never taken for the ledger */
    snprintf(tmp, sizeof(tmp), "%s.new", f->db);
    write_file(tmp, "half", 4);
    l = gw_test_fixture_open(f, 1000, 80);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(gw_ledger_verify(f->db, &info, why, sizeof(why)), DEPOT_OK);
    assert_string_equal(info.id, gw_ledger_id(l));
    assert_string_equal(info.dealer, "D001");
    assert_int_equal(info.version, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_record_count_WritesMovementStockAndOutboxTogether, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_record_count_UnchangedQtyWritesNothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_record_count_NewSkuAtZeroIsReportedWithoutMovement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_ack_DeletesUpToAndMovesBase, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_record_count_CoalescesStockWhenFull,
                                        setup_dir, teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_record_count_FullWithNothingToCoalesceWritesNothing, setup_dir,
            teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_append_event_WarnPercentQueuesOneWarning,
                                        setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_ReopenKeepsEverything, setup_dir,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_NewLedgerGetsFreshRandomId, setup_dir,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_OtherDealerRefused, setup_dir,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_WalAndAppendOnlyMovements, setup_dir,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_stock_list_AllRows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_tx_finish_WaitingCallerSharesOneCommit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_tx_finish_FailedCallerRollsBackOnlyItsOwnPart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_record_count_LoneCallerCommitsAtOnce, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_outbox_set_aside_KeepsRowReportsItAndBasePassesIt, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_outbox_read_ReturnsARowWhoseTopicNamesNoType,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_ledger_open_RefusesEmptyTruncatedGarbageOrForeignFileUntouched, setup_dir,
            teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_OnlyAMissingFileIsCreated, setup_dir,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
