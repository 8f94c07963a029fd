/*
 * hub_store on a real database (a SQLite file, or a fresh PostgreSQL database
 * in unit.hub_store_test.pg): exactly-once, applied_upto, staleness of
 * values, snapshots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "hub_test_util.h"

struct fixture {
    char dir[256];
    char location[300]; /* the SQLite file or the PostgreSQL URL every store of the test opens */
    hub_store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_store_free(f->s);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

static enum hub_apply_result apply(hub_store *s, depot_msg m, uint64_t *upto)
{
    enum hub_apply_result res;
    uint64_t u;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_apply(s, &m, 1000, &res, &u), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    if (upto)
        *upto = u;
    return res;
}

struct found {
    int n;
    long long qty, updated_at;
    bool fault, online;
    char reason[80];
};

static int on_stock(void *arg, const struct hub_stock_row *r)
{
    struct found *f = arg;
    f->n++;
    f->qty = r->qty;
    f->updated_at = r->updated_at;
    f->fault = r->node_fault;
    f->online = r->dealer_online;
    snprintf(f->reason, sizeof(f->reason), "%s", r->fault_reason);
    return 0;
}

static struct found stock(hub_store *s, const char *dealer, const char *sku)
{
    struct found f = {0};
    assert_int_equal(hub_store_stock(s, dealer, sku, on_stock, &f), DEPOT_OK);
    return f;
}

static int on_stream(void *arg, const struct hub_stream_row *r)
{
    *(struct hub_stream_row *)arg = *r;
    ((struct hub_stream_row *)arg)->ledger = NULL;
    return 0;
}

static struct hub_stream_row stream(hub_store *s, const char *dealer)
{
    struct hub_stream_row r = {0};
    assert_int_equal(hub_store_streams(s, dealer, on_stream, &r), DEPOT_OK);
    return r;
}

static void test_hub_store_apply_SameMessageTwiceAppliesOnce(void **state)
{
    struct fixture *f = *state;
    depot_msg m = test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5);
    assert_int_equal(apply(f->s, m, NULL), HUB_APPLY_DONE);
    m.body.stock.qty = 99; /* a resend carries the same content; prove no re-apply */
    assert_int_equal(apply(f->s, m, NULL), HUB_APPLY_DUPLICATE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 5);
    struct hub_stream_row r = stream(f->s, "D1");
    assert_int_equal(r.applied, 1);
    assert_int_equal(r.duplicates, 1);
}

static void test_hub_store_apply_DuplicateSurvivesReopen(void **state)
{
    struct fixture *f = *state;
    hub_store *other;
    depot_msg m = test_stock("D1", LEDGER_A, 7, 5, 100, "S1", 5);
    assert_int_equal(apply(f->s, m, NULL), HUB_APPLY_DONE);
    assert_int_equal(hub_store_open(f->location, &other), DEPOT_OK);
    assert_int_equal(apply(other, m, NULL), HUB_APPLY_DUPLICATE);
    hub_store_free(other);
}

static void test_hub_store_apply_UptoWaitsForGapThenAdvances(void **state)
{
    struct fixture *f = *state;
    uint64_t upto;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1), &upto);
    assert_int_equal(upto, 1);
    apply(f->s, test_stock("D1", LEDGER_A, 3, 1, 102, "S3", 3), &upto);
    assert_int_equal(upto, 1); /* 2 missing */
    apply(f->s, test_stock("D1", LEDGER_A, 4, 1, 103, "S4", 4), &upto);
    assert_int_equal(upto, 1);
    apply(f->s, test_stock("D1", LEDGER_A, 2, 1, 101, "S2", 2), &upto);
    assert_int_equal(upto, 4);
    assert_int_equal(stream(f->s, "D1").applied_upto, 4);
}

static int on_dealer(void *arg, const struct hub_dealer_row *r)
{
    *(long long *)arg = r->last_seen;
    return 0;
}

/* Many messages of one stream in one transaction (an ingest batch): the stream's state is
 * kept from its first message to the commit, and written once, the same as one by one. */
static void test_hub_store_apply_BatchKeepsStreamAcrossItsMessages(void **state)
{
    struct fixture *f = *state;
    static const uint64_t ids[] = {1, 3, 4, 2, 2, 6};
    static const uint64_t want[] = {1, 1, 1, 4, 4, 4};
    enum hub_apply_result res;
    uint64_t upto;
    long long seen = 0;
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    for (size_t i = 0; i < 6; i++) {
        depot_msg m = test_stock("D1", LEDGER_A, ids[i], 1, 100 + (long long)ids[i], "S1",
                                 (long long)ids[i]);
        assert_int_equal(hub_store_apply(f->s, &m, 1000 + (long long)i, &res, &upto), DEPOT_OK);
        assert_int_equal(res, i == 4 ? HUB_APPLY_DUPLICATE : i == 3 ? HUB_APPLY_STALE
                                                                    : HUB_APPLY_DONE);
        assert_int_equal(upto, want[i]);
    }
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    struct hub_stream_row r = stream(f->s, "D1");
    assert_int_equal(r.applied_upto, 4);
    assert_int_equal(r.applied, 5);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.stale_ignored, 1);
    assert_int_equal(hub_store_dealers(f->s, on_dealer, &seen), DEPOT_OK);
    assert_int_equal(seen, 1005); /* the latest message of the batch */
    /* the next batch starts from what was committed: 5 fills the gap up to 6 */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 5, 1, 105, "S1", 5), &upto),
                     HUB_APPLY_STALE);
    assert_int_equal(upto, 6);
}

/* A rolled-back batch leaves the stream as it was, and the next one does not see its ids. */
static void test_hub_store_apply_RolledBackBatchForgotten(void **state)
{
    struct fixture *f = *state;
    enum hub_apply_result res;
    uint64_t upto;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1), &upto);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    for (uint64_t id = 2; id <= 3; id++) {
        depot_msg m = test_stock("D1", LEDGER_A, id, 1, 100 + (long long)id, "S1", (long long)id);
        assert_int_equal(hub_store_apply(f->s, &m, 2000, &res, &upto), DEPOT_OK);
        assert_int_equal(upto, id);
    }
    hub_store_rollback(f->s);
    struct hub_stream_row r = stream(f->s, "D1");
    assert_int_equal(r.applied_upto, 1);
    assert_int_equal(r.applied, 1);
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 3, 1, 103, "S1", 3), &upto),
                     HUB_APPLY_DONE);
    assert_int_equal(upto, 1); /* 2 was rolled back: it is missing again */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 2, 1, 102, "S1", 2), &upto),
                     HUB_APPLY_STALE);
    assert_int_equal(upto, 3);
}

static void test_hub_store_apply_BaseSkipsIdsTheGatewayDropped(void **state)
{
    struct fixture *f = *state;
    uint64_t upto;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1), &upto);
    /* ids 2..9 were coalesced away on the gateway: base 10 */
    apply(f->s, test_stock("D1", LEDGER_A, 11, 10, 111, "S1", 11), &upto);
    assert_int_equal(upto, 9);
    apply(f->s, test_stock("D1", LEDGER_A, 10, 10, 110, "S1", 10), &upto);
    assert_int_equal(upto, 11);
    /* a late copy of a dropped id is not applied */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 5, 1, 105, "S1", 5), NULL),
                     HUB_APPLY_DUPLICATE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 11);
}

static void test_hub_store_apply_OlderIdIsStale(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 2, 1, 200, "S1", 20), NULL),
                     HUB_APPLY_DONE);
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 10), NULL),
                     HUB_APPLY_STALE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 20);
    struct hub_stream_row r = stream(f->s, "D1");
    assert_int_equal(r.applied, 2);
    assert_int_equal(r.stale_ignored, 1);
    assert_int_equal(r.applied_upto, 2);
}

static void test_hub_store_apply_OutOfOrderEndsAtNewest(void **state)
{
    struct fixture *f = *state;
    const uint64_t order[] = {5, 2, 4, 1, 3};
    for (size_t i = 0; i < 5; i++)
        apply(f->s,
              test_stock("D1", LEDGER_A, order[i], 1, 100 + (long long)order[i], "S1",
                         (long long)order[i] * 10),
              NULL);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 50);
    assert_int_equal(stream(f->s, "D1").applied_upto, 5);
    assert_int_equal(stream(f->s, "D1").applied, 5);
}

static void test_hub_store_apply_NewLedgerOrderedByTimestamp(void **state)
{
    struct fixture *f = *state;
    apply(f->s, test_stock("D1", LEDGER_A, 50, 1, 1000, "S1", 7), NULL);
    /* a replaced gateway starts again at id 1, with a newer clock */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_B, 1, 1, 2000, "S1", 8), NULL),
                     HUB_APPLY_DONE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 8);
    /* the old gateway's late message is older */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 51, 1, 1500, "S1", 9), NULL),
                     HUB_APPLY_STALE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 8);
}

static void test_hub_store_apply_SnapshotOnlyWhereNewer(void **state)
{
    struct fixture *f = *state;
    struct depot_snapshot_item items[2] = {
        {"S1", 100, "scale-a", false},
        {"S2", 200, "scale-b", true},
    };
    depot_msg snap = test_state("D1", true, 0, 3000);
    apply(f->s, test_stock("D1", LEDGER_A, 9, 1, 900, "S1", 1), NULL);
    apply(f->s, test_stock("D1", LEDGER_A, 3, 1, 300, "S2", 2), NULL);
    snap.type = DEPOT_MSG_SNAPSHOT;
    snprintf(snap.ledger, sizeof(snap.ledger), "%s", LEDGER_A);
    snap.body.snapshot.as_of = 5;
    snap.body.snapshot.n_items = 2;
    snap.body.snapshot.items = items;
    assert_int_equal(apply(f->s, snap, NULL), HUB_APPLY_DONE);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 1); /* id 9 is newer than as_of 5 */
    struct found s2 = stock(f->s, "D1", "S2");
    assert_int_equal(s2.qty, 200);
    assert_true(s2.fault);
    /* a stream message at or below as_of no longer moves the value */
    assert_int_equal(apply(f->s, test_stock("D1", LEDGER_A, 4, 1, 400, "S2", 4), NULL),
                     HUB_APPLY_STALE);
    assert_int_equal(stock(f->s, "D1", "S2").qty, 200);
}

static void test_hub_store_apply_NodeFaultAndRecovery(void **state)
{
    struct fixture *f = *state;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5), NULL);
    apply(f->s, test_event("D1", 2, 200, "scale-a", "fault", "timeout"), NULL);
    struct found s = stock(f->s, "D1", "S1");
    assert_true(s.fault);
    assert_string_equal(s.reason, "timeout");
    apply(f->s, test_event("D1", 4, 400, "scale-a", "recovered", ""), NULL);
    /* a late fault older than the recovery changes nothing */
    assert_int_equal(apply(f->s, test_event("D1", 3, 300, "scale-a", "fault", "crc"), NULL),
                     HUB_APPLY_STALE);
    assert_false(stock(f->s, "D1", "S1").fault);
}

static depot_msg snapshot_of(struct depot_snapshot_item *items, size_t n, uint64_t as_of,
                             long long ts)
{
    depot_msg snap = test_state("D1", true, 0, ts);
    snap.type = DEPOT_MSG_SNAPSHOT;
    snprintf(snap.ledger, sizeof(snap.ledger), "%s", LEDGER_A);
    snap.body.snapshot.as_of = as_of;
    snap.body.snapshot.n_items = n;
    snap.body.snapshot.items = items;
    return snap;
}

/* The snapshot can reach the hub before the fault event it already reflects (the event waits
 * in the paced outbox): the event, older than the snapshot, still gives the fault its reason. */
static void test_hub_store_apply_FaultEventAfterSnapshotNamesTheFault(void **state)
{
    struct fixture *f = *state;
    struct depot_snapshot_item faulted = {"S1", 5, "scale-a", true};
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5), NULL);
    apply(f->s, snapshot_of(&faulted, 1, 2, 3000), NULL);
    assert_string_equal(stock(f->s, "D1", "S1").reason, "reported in snapshot");
    apply(f->s, test_event("D1", 2, 200, "scale-a", "fault", "exception 6"), NULL);
    struct found s = stock(f->s, "D1", "S1");
    assert_true(s.fault);
    assert_string_equal(s.reason, "exception 6");
    apply(f->s, test_event("D1", 3, 4000, "scale-a", "recovered", ""), NULL);
    assert_false(stock(f->s, "D1", "S1").fault);
}

static void test_hub_store_apply_FaultedNodeValueKeepsItsMeasurementTime(void **state)
{
    struct fixture *f = *state;
    struct depot_snapshot_item faulted = {"S1", 5, "scale-a", true};
    struct depot_snapshot_item healthy = {"S1", 5, "scale-a", false};
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5), NULL);
    apply(f->s, test_event("D1", 2, 200, "scale-a", "fault", "timeout"), NULL);
    /* the snapshot that carries the fault does not make the value look measured */
    assert_int_equal(apply(f->s, snapshot_of(&faulted, 1, 2, 3000), NULL), HUB_APPLY_DONE);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 100);
    assert_int_equal(apply(f->s, snapshot_of(&faulted, 1, 2, 4000), NULL), HUB_APPLY_DONE);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 100);
    /* the first good reading after the fault measured it again */
    apply(f->s, test_event("D1", 3, 5000, "scale-a", "recovered", ""), NULL);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 5000);
    /* a healthy node's snapshot value is current */
    apply(f->s, snapshot_of(&healthy, 1, 3, 6000), NULL);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 6000);
    /* a faulted value that changed (the ledger moved it) is as old as the snapshot */
    faulted.qty = 4;
    apply(f->s, snapshot_of(&faulted, 1, 3, 7000), NULL);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 6000); /* as_of 3: not newer */
    apply(f->s, snapshot_of(&faulted, 1, 4, 8000), NULL);
    assert_int_equal(stock(f->s, "D1", "S1").qty, 4);
    assert_int_equal(stock(f->s, "D1", "S1").updated_at, 8000);
}

static void test_hub_store_apply_StateOrderedBySessionOfflineWinsTie(void **state)
{
    struct fixture *f = *state;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5), NULL);
    assert_true(stock(f->s, "D1", "S1").online);
    apply(f->s, test_state("D1", true, 20, 0), NULL);
    apply(f->s, test_state("D1", false, 10, 0), NULL); /* an old session's will */
    assert_true(stock(f->s, "D1", "S1").online);
    apply(f->s, test_state("D1", false, 20, 0), NULL);
    apply(f->s, test_state("D1", true, 20, 0), NULL); /* tie: offline stays */
    assert_false(stock(f->s, "D1", "S1").online);
    apply(f->s, test_state("D1", true, 30, 0), NULL);
    assert_true(stock(f->s, "D1", "S1").online);
}

static void test_hub_store_streams_UnknownDealerNotFound(void **state)
{
    struct fixture *f = *state;
    struct hub_stream_row r;
    assert_int_equal(hub_store_streams(f->s, "NOPE", on_stream, &r), DEPOT_ERR_NOTFOUND);
}

static void test_hub_store_rollback_LeavesNothing(void **state)
{
    struct fixture *f = *state;
    depot_msg m = test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 5);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->s, &m, 1000, NULL, NULL), DEPOT_OK);
    hub_store_rollback(f->s);
    assert_int_equal(stock(f->s, "D1", NULL).n, 0);
    assert_int_equal(apply(f->s, m, NULL), HUB_APPLY_DONE);
}

static void test_hub_store_stock_FiltersByDealerAndSku(void **state)
{
    struct fixture *f = *state;
    apply(f->s, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1), NULL);
    apply(f->s, test_stock("D1", LEDGER_A, 2, 1, 100, "S2", 2), NULL);
    apply(f->s, test_stock("D2", LEDGER_B, 1, 1, 100, "S1", 3), NULL);
    assert_int_equal(stock(f->s, NULL, NULL).n, 3);
    assert_int_equal(stock(f->s, "D1", NULL).n, 2);
    assert_int_equal(stock(f->s, NULL, "S1").n, 2);
    assert_int_equal(stock(f->s, "D2", "S1").qty, 3);
    assert_int_equal(stock(f->s, "D2", "S2").n, 0);
}

static void test_hub_store_count_reject_Accumulates(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_count_reject(f->s, "json", 2), DEPOT_OK);
    assert_int_equal(hub_store_count_reject(f->s, "json", 3), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
}

/* A postgresql:// URL is the PostgreSQL store's: a server nobody runs is a database error. */
static void test_hub_store_open_UnreachableServerIsDbError(void **state)
{
    static const char url[] = "postgresql://depot@127.0.0.1:1/depot?connect_timeout=5";
    hub_store *s = NULL;
    (void)state;
    assert_int_equal(hub_store_open(url, &s), DEPOT_ERR_DB);
    assert_null(s);
    hub_store_free(NULL);
}

/* A URL of a scheme no store takes is refused (not taken for a file path). */
static void test_hub_store_open_UnknownSchemeRefused(void **state)
{
    hub_store *s = NULL;
    (void)state;
    assert_int_equal(hub_store_open("foo://x", &s), DEPOT_ERR_INVAL);
    assert_null(s);
}

/* A SQLite database that cannot run WAL (here one in memory: journal_mode "memory") is
 * refused, not opened with weaker guarantees than the acknowledgements promise. */
static void test_hub_store_open_WithoutWalRefused(void **state)
{
    hub_store *s = NULL;
    (void)state;
    assert_int_equal(hub_store_open(":memory:", &s), DEPOT_ERR_DB);
    assert_null(s);
}

/* Ends every other session of the test's database: the store's connection is gone. */
static void cut_connections(const struct fixture *f)
{
    assert_true(test_pg_exec(f->location,
                             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "datname = current_database() AND pid <> pg_backend_pid()",
                             true));
}

static long long applied_of(hub_store *s)
{
    return (long long)stream(s, "D1").applied;
}

/*
 * PostgreSQL: a connection that breaks in the middle of a transaction fails
 * it whole (nothing of it stays), and the next call outside a transaction
 * connects again; the message the lost transaction carried is applied once
 * when it comes again, and one applied before is still a duplicate.
 */
static void test_hub_store_pg_LostConnectionRetriedNothingHalfApplied(void **state)
{
    struct fixture *f = *state;
    depot_msg m1 = test_stock("D1", LEDGER_A, 1, 1, 1000, "SKU-1", 5);
    depot_msg m2 = test_stock("D1", LEDGER_A, 2, 1, 1001, "SKU-2", 7);
    enum hub_apply_result res;
    uint64_t upto;
    if (!test_store_is_pg()) {
        skip(); /* a SQLite file has no connection to lose */
        return;
    }
    assert_int_equal(apply(f->s, m1, &upto), HUB_APPLY_DONE);

    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->s, &m2, 2000, &res, &upto), DEPOT_OK);
    cut_connections(f);
    assert_int_equal(hub_store_commit(f->s), DEPOT_ERR_DB);
    hub_store_rollback(f->s);

    assert_int_equal(apply(f->s, m2, &upto), HUB_APPLY_DONE); /* connected again */
    assert_int_equal(upto, 2);
    assert_int_equal(apply(f->s, m1, &upto), HUB_APPLY_DUPLICATE);
    assert_int_equal(applied_of(f->s), 2);

    cut_connections(f); /* between transactions: the next call connects again */
    assert_int_equal(hub_store_begin(f->s), DEPOT_ERR_DB);
    hub_store_rollback(f->s);
    assert_int_equal(apply(f->s, m2, &upto), HUB_APPLY_DUPLICATE);
    assert_int_equal(applied_of(f->s), 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hub_store_apply_SameMessageTwiceAppliesOnce),
        T(test_hub_store_apply_DuplicateSurvivesReopen),
        T(test_hub_store_apply_UptoWaitsForGapThenAdvances),
        T(test_hub_store_apply_BatchKeepsStreamAcrossItsMessages),
        T(test_hub_store_apply_RolledBackBatchForgotten),
        T(test_hub_store_apply_BaseSkipsIdsTheGatewayDropped),
        T(test_hub_store_apply_OlderIdIsStale),
        T(test_hub_store_apply_OutOfOrderEndsAtNewest),
        T(test_hub_store_apply_NewLedgerOrderedByTimestamp),
        T(test_hub_store_apply_SnapshotOnlyWhereNewer),
        T(test_hub_store_apply_NodeFaultAndRecovery),
        T(test_hub_store_apply_FaultEventAfterSnapshotNamesTheFault),
        T(test_hub_store_apply_FaultedNodeValueKeepsItsMeasurementTime),
        T(test_hub_store_apply_StateOrderedBySessionOfflineWinsTie),
        T(test_hub_store_streams_UnknownDealerNotFound),
        T(test_hub_store_rollback_LeavesNothing),
        T(test_hub_store_stock_FiltersByDealerAndSku),
        T(test_hub_store_count_reject_Accumulates),
        T(test_hub_store_pg_LostConnectionRetriedNothingHalfApplied),
        cmocka_unit_test(test_hub_store_open_UnreachableServerIsDbError),
        cmocka_unit_test(test_hub_store_open_UnknownSchemeRefused),
        cmocka_unit_test(test_hub_store_open_WithoutWalRefused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
