/* hub_ingest with a real store (SQLite, or PostgreSQL in unit.hub_ingest_test.pg) and a
 * recording publish function (no broker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "ingest.h"
#include "store/alerts.h"
#include "hub_test_util.h"

struct recorder {
    pthread_mutex_t lock;
    int n;
    uint64_t last_upto;
    char last_topic[128];
};

static depot_err record(void *ctx, const char *topic, const char *payload, size_t len, bool retain)
{
    struct recorder *r = ctx;
    depot_msg m;
    assert_int_equal(depot_msg_decode(payload, len, &m, NULL, 0), DEPOT_OK);
    assert_int_equal(m.type, DEPOT_MSG_ACK);
    assert_false(retain);
    pthread_mutex_lock(&r->lock);
    r->n++;
    r->last_upto = m.body.ack.upto;
    snprintf(r->last_topic, sizeof(r->last_topic), "%s", topic);
    pthread_mutex_unlock(&r->lock);
    return DEPOT_OK;
}

struct fixture {
    char dir[256];
    char location[300]; /* the store's SQLite file or PostgreSQL URL */
    hub_store *store;
    hub_metrics *metrics;
    hub_ingest *ing;
    struct recorder rec;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    pthread_mutex_init(&f->rec.lock, NULL);
    assert_int_equal(hub_store_open(f->location, &f->store), DEPOT_OK);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_ingest_new(f->store, f->metrics, NULL, record, &f->rec, &f->ing), DEPOT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hub_ingest_free(f->ing);
    hub_store_free(f->store);
    hub_metrics_free(f->metrics);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

static void submit(struct fixture *f, depot_msg m)
{
    char *text, topic[128];
    size_t len;
    assert_int_equal(depot_msg_encode(&m, &text, &len), DEPOT_OK);
    depot_topic_build(topic, sizeof(topic), m.dealer, depot_msg_topic_leaf(m.type));
    assert_int_equal(hub_ingest_submit(f->ing, topic, text, len, false, depot_now_ms()),
                     HUB_REJECT_NONE);
    depot_free(text);
}

/* Waits (bounded) until the last ack published says upto. */
static void wait_ack(struct fixture *f, uint64_t upto)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&f->rec.lock);
        uint64_t got = f->rec.last_upto;
        pthread_mutex_unlock(&f->rec.lock);
        if (got == upto)
            return;
        usleep(10000);
    }
    fail_msg("no ack with upto %llu (last %llu)", (unsigned long long)upto,
             (unsigned long long)f->rec.last_upto);
}

static void test_hub_ingest_submit_AppliesAndAcks(void **state)
{
    struct fixture *f = *state;
    for (uint64_t id = 1; id <= 3; id++)
        submit(f, test_stock("D1", LEDGER_A, id, 1, 100, "S1", (long long)id));
    hub_ingest_sync(f->ing);
    wait_ack(f, 3);
    assert_string_equal(f->rec.last_topic, "depot/v1/D1/down/ack");
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_APPLIED), 3);
}

static void test_hub_ingest_submit_DuplicateStillAcked(void **state)
{
    struct fixture *f = *state;
    submit(f, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1));
    hub_ingest_sync(f->ing);
    wait_ack(f, 1);
    usleep((HUB_ACK_INTERVAL_MS + 20) * 1000);
    int before = f->rec.n;
    submit(f, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1));
    hub_ingest_sync(f->ing);
    for (int i = 0; i < 200 && f->rec.n == before; i++)
        usleep(10000);
    assert_true(f->rec.n > before);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_DUPLICATES), 1);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_APPLIED), 1);
}

static void test_hub_ingest_submit_AcksAreCoalesced(void **state)
{
    struct fixture *f = *state;
    for (uint64_t id = 1; id <= 200; id++)
        submit(f, test_stock("D1", LEDGER_A, id, 1, 100 + (long long)id, "S1", (long long)id));
    hub_ingest_sync(f->ing);
    wait_ack(f, 200);
    assert_true(f->rec.n < 50);
}

static void test_hub_ingest_submit_RejectIsCountedByReason(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(hub_ingest_submit(f->ing, "depot/v1/D1/up/stock", "{nope", 5, false, 0),
                     HUB_REJECT_JSON);
    assert_int_equal(hub_ingest_submit(f->ing, "depot/v1/D1/up/stock", "{\"v\":3}", 7, false, 0),
                     HUB_REJECT_VERSION);
    assert_int_equal(hub_metrics_rejected(f->metrics, HUB_REJECT_JSON), 1);
    assert_int_equal(hub_metrics_rejected(f->metrics, HUB_REJECT_VERSION), 1);
}

/* Encodes m and hands it in on topic with "extra" inserted after the body's opening brace. */
static enum hub_reject submit_raw(struct fixture *f, const depot_msg *m, const char *topic,
                                  const char *extra)
{
    char *text, buf[1024];
    size_t len;
    enum hub_reject r;
    assert_int_equal(depot_msg_encode(m, &text, &len), DEPOT_OK);
    const char *body = strstr(text, "\"body\":{");
    assert_non_null(body);
    size_t head = (size_t)(body - text) + 8;
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)head, text, extra, text + head);
    r = hub_ingest_submit(f->ing, topic, buf, strlen(buf), false, depot_now_ms());
    depot_free(text);
    return r;
}

static void test_hub_ingest_submit_RefusedStreamMessageIsSkippedAndAcked(void **state)
{
    struct fixture *f = *state;
    depot_msg m2 = test_stock("D1", LEDGER_A, 2, 1, 100, "S1", 2);
    depot_msg m3 = test_stock("D1", LEDGER_A, 3, 1, 100, "S1", 3);
    submit(f, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1));
    /* a schema error (a key of a future version) and a leaf this hub does not know */
    assert_int_equal(submit_raw(f, &m2, "depot/v1/D1/up/stock", "\"colour\":\"red\","),
                     HUB_REJECT_SCHEMA);
    assert_int_equal(submit_raw(f, &m3, "depot/v1/D1/up/shipment", ""), HUB_REJECT_TOPIC);
    submit(f, test_stock("D1", LEDGER_A, 4, 1, 100, "S1", 4));
    hub_ingest_sync(f->ing);
    wait_ack(f, 4);
    assert_int_equal(hub_metrics_skipped(f->metrics, HUB_REJECT_SCHEMA), 1);
    assert_int_equal(hub_metrics_skipped(f->metrics, HUB_REJECT_TOPIC), 1);
    assert_int_equal(hub_metrics_rejected(f->metrics, HUB_REJECT_SCHEMA), 1);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_APPLIED), 2);
    /* resent: a duplicate like any other, still acknowledged */
    assert_int_equal(submit_raw(f, &m2, "depot/v1/D1/up/stock", "\"colour\":\"red\","),
                     HUB_REJECT_SCHEMA);
    hub_ingest_sync(f->ing);
    assert_int_equal(hub_metrics_skipped(f->metrics, HUB_REJECT_SCHEMA), 1);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_DUPLICATES), 1);
}

static void test_hub_ingest_submit_UnidentifiedOrForeignIsNotSkipped(void **state)
{
    struct fixture *f = *state;
    depot_msg other = test_stock("D2", LEDGER_A, 2, 1, 100, "S1", 2);
    depot_msg snap = test_stock("D1", LEDGER_A, 2, 1, 100, "S1", 2);
    depot_msg env;
    submit(f, test_stock("D1", LEDGER_A, 1, 1, 100, "S1", 1));
    /* another dealer's envelope on D1's topic, a non-stream leaf, JSON garbage */
    assert_int_equal(submit_raw(f, &other, "depot/v1/D1/up/stock", ""), HUB_REJECT_DEALER_MISMATCH);
    assert_int_equal(submit_raw(f, &snap, "depot/v1/D1/up/snapshot", ""), HUB_REJECT_TYPE_MISMATCH);
    assert_int_equal(hub_ingest_submit(f->ing, "depot/v1/D1/up/stock", "{nope", 5, false, 0),
                     HUB_REJECT_JSON);
    hub_ingest_sync(f->ing);
    wait_ack(f, 1);
    for (int r = 0; r < HUB_REJECT__COUNT; r++)
        assert_int_equal(hub_metrics_skipped(f->metrics, (enum hub_reject)r), 0);
    /* a transient refusal (no memory) is never skipped */
    static const char ok[] = "{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":"
                             "\"" LEDGER_A "\",\"id\":2,\"base\":1,\"ts\":1,\"body\":{}}";
    assert_true(
        hub_accept_skippable("depot/v1/D1/up/stock", ok, strlen(ok), HUB_REJECT_SCHEMA, &env));
    assert_false(
        hub_accept_skippable("depot/v1/D1/up/stock", ok, strlen(ok), HUB_REJECT_INTERNAL, &env));
    assert_false(
        hub_accept_skippable("depot/v1/D1/up/stock", ok, strlen(ok), HUB_REJECT_VERSION, &env));
}

/* An up/movements message of D1's LEDGER_A with n movements of S1: (kind, delta, qty after). */
struct move {
    const char *kind;
    long long delta, qty;
};

static depot_msg movements(uint64_t id, const struct move *mv, size_t n,
                           struct depot_movement_item *items)
{
    depot_msg m = test_stock("D1", LEDGER_A, id, 1, 1764230000000LL, "S1", 0);
    m.type = DEPOT_MSG_MOVEMENTS;
    memset(&m.body, 0, sizeof(m.body));
    for (size_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof(items[i]));
        items[i].mid = id * 10 + i;
        items[i].ts = m.ts;
        snprintf(items[i].node, sizeof(items[i].node), "scan-1");
        snprintf(items[i].sku, sizeof(items[i].sku), "S1");
        snprintf(items[i].kind, sizeof(items[i].kind), "%s", mv[i].kind);
        items[i].delta = mv[i].delta;
        items[i].qty = mv[i].qty;
    }
    m.body.movements.items = items;
    m.body.movements.n_items = n;
    return m;
}

static int add_day(void *arg, const struct hub_day_row *d)
{
    long long *sums = arg;
    sums[0] += d->picked;
    sums[1] += d->received;
    return 0;
}

/* Units picked and received for D1/S1 as a second connection reads them. */
static void sales(struct fixture *f, long long *picked, long long *received)
{
    hub_store *r;
    long long sums[2] = {0, 0};
    assert_int_equal(hub_store_open(f->location, &r), DEPOT_OK);
    assert_int_equal(hub_store_history_days(r, "D1", "S1", 0, add_day, sums), DEPOT_OK);
    hub_store_free(r);
    *picked = sums[0];
    *received = sums[1];
}

static void test_hub_ingest_submit_MovementsThatDoNotFitTheStockAreRefusedWhole(void **state)
{
    struct fixture *f = *state;
    struct depot_movement_item items[2];
    static const struct move in[] = {{"receive", 110, 110}};
    /* a real pick of 10, then 10^9 units "picked" from a stock of 100 */
    static const struct move forged[] = {{"pick", -10, 100}, {"pick", -1000000000, 0}};
    static const struct move next[] = {{"receive", 5, 5}};
    long long picked, received;
    submit(f, movements(1, in, 1, items));
    submit(f, movements(2, forged, 2, items));
    hub_ingest_sync(f->ing);
    wait_ack(f, 2); /* recorded, so the stream goes on */
    sales(f, &picked, &received);
    assert_int_equal(picked, 0); /* not even the pick of 10 of the refused batch */
    assert_int_equal(received, 110);
    assert_int_equal(hub_metrics_movements_refused_get(f->metrics, HUB_MR_STOCK_MISMATCH), 1);
    /* the chain goes on from the refused batch: the next batch is applied */
    submit(f, movements(3, next, 1, items));
    hub_ingest_sync(f->ing);
    wait_ack(f, 3);
    sales(f, &picked, &received);
    assert_int_equal(received, 115);
    assert_int_equal(hub_metrics_movements_refused_get(f->metrics, HUB_MR_STOCK_MISMATCH), 1);
    /* a resent refused batch is a duplicate: still nothing applied */
    submit(f, movements(2, forged, 2, items));
    hub_ingest_sync(f->ing);
    sales(f, &picked, &received);
    assert_int_equal(picked, 0);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_DUPLICATES), 1);
}

static void test_hub_ingest_submit_MovementsBeforeAnEarlierIdWaitForTheResend(void **state)
{
    struct fixture *f = *state;
    struct depot_movement_item items[1];
    static const struct move in[] = {{"receive", 110, 110}};
    static const struct move out[] = {{"pick", -10, 100}};
    long long picked, received;
    /* id 2 arrives before id 1 (lost, resent later): its chain is not known yet */
    submit(f, movements(2, out, 1, items));
    hub_ingest_sync(f->ing);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_MOVEMENTS_DEFERRED), 1);
    sales(f, &picked, &received);
    assert_int_equal(picked, 0);
    submit(f, movements(1, in, 1, items));
    hub_ingest_sync(f->ing);
    wait_ack(f, 1); /* 2 is not acknowledged: the gateway resends it */
    submit(f, movements(2, out, 1, items));
    hub_ingest_sync(f->ing);
    wait_ack(f, 2);
    sales(f, &picked, &received);
    assert_int_equal(picked, 10);
    assert_int_equal(received, 110);
    assert_int_equal(hub_metrics_movements_refused_get(f->metrics, HUB_MR_STOCK_MISMATCH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hub_ingest_submit_AppliesAndAcks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_ingest_submit_DuplicateStillAcked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hub_ingest_submit_AcksAreCoalesced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_ingest_submit_RejectIsCountedByReason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hub_ingest_submit_RefusedStreamMessageIsSkippedAndAcked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hub_ingest_submit_UnidentifiedOrForeignIsNotSkipped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hub_ingest_submit_MovementsThatDoNotFitTheStockAreRefusedWhole, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hub_ingest_submit_MovementsBeforeAnEarlierIdWaitForTheResend, setup, teardown),
    };
    depot_log_init("hub_ingest_test", DEPOT_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
