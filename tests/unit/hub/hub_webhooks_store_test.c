/*
 * The store's webhook domain (store/webhooks.h) on a real database (a SQLite
 * file, or a fresh PostgreSQL database in unit.hub_webhooks_store_test.pg),
 * with the hub's event, signature and back-off functions (webhooks.h): an
 * event goes to every active subscription that takes its type, and only in
 * a committed transaction; a subscription's deliveries are due one at a
 * time in order, a leased one is not due again until its lease runs out;
 * a dead delivery lets the next one go and is pending again when retried;
 * a disabled subscription's deliveries are never due; deliveries are listed
 * by status; migration 12 applies to a store made before it; the signature
 * is HMAC-SHA-256 of "<t>.<body>" (a known vector); the back-off doubles up
 * to its cap and its jitter keeps it within half to all of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/webhooks.h"
#include "webhooks.h"
#include "hub_test_util.h"

#define T0 1000000LL

static long long sub_add(hub_store *s, const char *url, const char *types)
{
    struct hub_webhook_sub sub = {0, url, "secret-of-the-erp-0001", types, T0, 0};
    long long id = 0;
    assert_int_equal(hub_store_webhook_sub_add(s, &sub, &id), DEPOT_OK);
    assert_true(id > 0);
    return id;
}

static void enqueue(hub_store *s, const char *type, const char *id, long long at, long long want)
{
    long long n = -1;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_enqueue(s, type, id, "{\"x\":1}", at, &n), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    assert_int_equal(n, want);
}

#define SEEN_MAX 16

struct seen {
    int n;
    long long seq[SEEN_MAX], sub[SEEN_MAX];
    char event[SEEN_MAX][40], status[SEEN_MAX][16];
};

static int on_delivery(void *arg, const struct hub_webhook_delivery *d)
{
    struct seen *w = arg;
    if (w->n == SEEN_MAX)
        return 1;
    w->seq[w->n] = d->seq;
    w->sub[w->n] = d->sub;
    snprintf(w->event[w->n], sizeof(w->event[0]), "%s", d->event_id);
    snprintf(w->status[w->n], sizeof(w->status[0]), "%s", d->status);
    w->n++;
    return 0;
}

static struct seen due(hub_store *s, long long now)
{
    struct seen w = {0};
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_due(s, now, 100, on_delivery, &w), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    return w;
}

static bool lease(hub_store *s, long long seq, long long now, long long until)
{
    bool leased = false;
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_lease(s, seq, now, until, &leased), DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    return leased;
}

static void finish(hub_store *s, long long seq, const char *status, long long next_at)
{
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_finish(s, seq, status, 1, next_at, "HTTP status 500",
                                              strcmp(status, "delivered") ? 0 : next_at),
                     DEPOT_OK);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
}

static void test_webhook_enqueue_OneRowPerActiveSubscriptionTakingTheType(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = sub_add(f->s, "http://erp/a", ",payment.recorded,");
    long long b = sub_add(f->s, "http://erp/b", ",*,");
    long long c = sub_add(f->s, "http://erp/c", ",order.approved,");
    bool changed = false;
    struct seen w;
    (void)c;
    enqueue(f->s, "payment.recorded", "e1", T0, 2);
    enqueue(f->s, "order.approved", "e2", T0, 2);
    enqueue(f->s, "payment.recordedx", "e3", T0, 1); /* only "*": no prefix matching */
    assert_int_equal(hub_store_webhook_sub_disable(f->s, b, T0, &changed), DEPOT_OK);
    assert_true(changed);
    assert_int_equal(hub_store_webhook_sub_disable(f->s, b, T0, &changed), DEPOT_OK);
    assert_false(changed);
    assert_int_equal(hub_store_webhook_sub_disable(f->s, 999, T0, &changed), DEPOT_ERR_NOTFOUND);
    enqueue(f->s, "payment.recorded", "e4", T0, 1);
    w = (struct seen){0};
    assert_int_equal(hub_store_webhook_deliveries(f->s, a, NULL, 0, 100, on_delivery, &w),
                     DEPOT_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.event[0], "e1");
    assert_string_equal(w.event[1], "e4");
    assert_string_equal(w.status[0], "pending");
}

static void test_webhook_enqueue_RolledBackWithItsFact(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = sub_add(f->s, "http://erp/a", ",*,");
    struct seen w = {0};
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_webhook_event(f->s, "payment.recorded", T0, NULL), DEPOT_OK);
    hub_store_rollback(f->s);
    assert_int_equal(hub_store_webhook_deliveries(f->s, a, NULL, 0, 100, on_delivery, &w),
                     DEPOT_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_webhook_payment(f->s, 7, "D1", 1250, "", "wire", T0), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_deliveries(f->s, a, NULL, 0, 100, on_delivery, &w),
                     DEPOT_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(strlen(w.event[0]), HUB_WEBHOOK_ID_LEN);
}

static void test_webhook_due_OldestPendingOfEachSubscriptionLeasedOnce(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = sub_add(f->s, "http://erp/a", ",*,");
    long long b = sub_add(f->s, "http://erp/b", ",*,");
    struct seen w;
    enqueue(f->s, "payment.recorded", "e1", T0, 2);
    enqueue(f->s, "payment.recorded", "e2", T0, 2);
    w = due(f->s, T0);
    assert_int_equal(w.n, 2); /* e1 of a and e1 of b; never e2 before e1 */
    assert_int_equal(w.sub[0], a);
    assert_int_equal(w.sub[1], b);
    assert_string_equal(w.event[0], "e1");
    assert_string_equal(w.event[1], "e1");
    assert_true(lease(f->s, w.seq[0], T0, T0 + 100));
    assert_false(lease(f->s, w.seq[0], T0 + 50, T0 + 150)); /* another worker: leased */
    w = due(f->s, T0 + 50);
    assert_int_equal(w.n, 1); /* a waits for its leased e1; b's e1 */
    assert_int_equal(w.sub[0], b);
    w = due(f->s, T0 + 100); /* the lease ran out: a's e1 due again */
    assert_int_equal(w.n, 2);
    assert_string_equal(w.event[0], "e1");
    finish(f->s, w.seq[0], "pending", T0 + 500); /* failed: retried later, still first */
    w = due(f->s, T0 + 200);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.sub[0], b);
    w = due(f->s, T0 + 500);
    assert_int_equal(w.n, 2);
    finish(f->s, w.seq[0], "delivered", T0 + 500);
    w = due(f->s, T0 + 500); /* by seq: b's e1, then a's e2 */
    assert_int_equal(w.n, 2);
    assert_int_equal(w.sub[1], a);
    assert_string_equal(w.event[1], "e2");
}

static void test_webhook_dead_LetsTheNextGoAndRetryMakesItPendingFirst(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = sub_add(f->s, "http://erp/a", ",*,");
    bool changed = false;
    struct seen w;
    long long dead;
    enqueue(f->s, "payment.recorded", "e1", T0, 1);
    enqueue(f->s, "payment.recorded", "e2", T0, 1);
    w = due(f->s, T0);
    dead = w.seq[0];
    assert_int_equal(hub_store_webhook_retry(f->s, a, dead, T0, &changed), DEPOT_OK);
    assert_false(changed); /* not dead */
    finish(f->s, dead, "dead", T0);
    w = due(f->s, T0);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.event[0], "e2");
    w = (struct seen){0};
    assert_int_equal(hub_store_webhook_deliveries(f->s, a, "dead", 0, 100, on_delivery, &w),
                     DEPOT_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.seq[0], dead);
    assert_int_equal(hub_store_webhook_retry(f->s, a, dead, T0 + 1, &changed), DEPOT_OK);
    assert_true(changed);
    assert_int_equal(hub_store_webhook_retry(f->s, a, dead + 100, T0, &changed),
                     DEPOT_ERR_NOTFOUND);
    assert_int_equal(hub_store_webhook_retry(f->s, a + 1, dead, T0, &changed), DEPOT_ERR_NOTFOUND);
    w = due(f->s, T0 + 1);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.event[0], "e1");
}

static int on_sub(void *arg, const struct hub_webhook_sub *sub)
{
    int *n = arg;
    assert_string_equal(sub->secret, "secret-of-the-erp-0001");
    (*n)++;
    return 0;
}

static void test_webhook_disabled_SubscriptionsDeliveriesAreNeverDue(void **state)
{
    struct test_store_fixture *f = *state;
    long long a = sub_add(f->s, "http://erp/a", ",*,");
    bool changed = false;
    int n = 0;
    enqueue(f->s, "payment.recorded", "e1", T0, 1);
    assert_int_equal(hub_store_webhook_sub_disable(f->s, a, T0, &changed), DEPOT_OK);
    assert_int_equal(due(f->s, T0 + 1000).n, 0);
    assert_int_equal(hub_store_webhook_subs(f->s, 0, on_sub, &n), DEPOT_OK);
    assert_int_equal(n, 1);
}

static void test_migration12_AppliesToAStoreMadeBefore(void **state)
{
    struct test_store_fixture *f = *state;
    hub_store_free(f->s);
    f->s = NULL;
    /* as a hub at version 11 left it: no webhook tables */
    assert_true(test_store_exec(
        f->location,
        "ALTER TABLE catalog DROP COLUMN serial_prefix; DROP TABLE dealer_territories; DROP TABLE "
        "code_scans; DROP TABLE item_codes; "
        "DROP TABLE shipment_lines; "
        "DROP TABLE shipments; "
        "DROP TABLE ledger_heads; DROP TABLE ledger_certs; "
        "DROP TABLE ledger_batches; DROP TABLE ledger_hashes; "
        "DROP INDEX movements_by_ts; "
        "DROP TABLE webhook_deliveries; DROP TABLE "
        "webhook_subs; DELETE FROM schema_migrations "
        "WHERE version >= 12;"));
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    sub_add(f->s, "http://erp/a", ",*,");
    enqueue(f->s, "payment.recorded", "e1", T0, 1);
    hub_store_free(f->s);
    f->s = NULL;
    assert_true(test_store_exec(f->location,
                                "INSERT INTO webhook_subs(url, secret, types, created_at, "
                                "disabled_at) SELECT 'u', 's', ',*,', 0, 0 FROM "
                                "schema_migrations WHERE version = 12 AND name = 'webhook "
                                "subscriptions and their deliveries'"));
    assert_int_equal(hub_store_open(f->location, &f->s), DEPOT_OK);
    enqueue(f->s, "payment.recorded", "e2", T0, 2);
}

static void test_webhook_sign_IsHmacSha256OfTimestampDotBody(void **state)
{
    char sig[HUB_WEBHOOK_SIG_HEX + 1];
    (void)state;
    /* python3: hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest() */
    assert_int_equal(hub_webhook_sign("key", 1700000000, "{}", 2, sig), DEPOT_OK);
    assert_string_equal(sig, "9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
}

static void test_webhook_backoff_DoublesToTheCapWithinHalfToAll(void **state)
{
    (void)state;
    assert_int_equal(hub_webhook_backoff_ms(1000, 60000, 1, UINT32_MAX), 1000);
    assert_int_equal(hub_webhook_backoff_ms(1000, 60000, 1, 0), 500);
    assert_int_equal(hub_webhook_backoff_ms(1000, 60000, 4, UINT32_MAX), 8000);
    assert_int_equal(hub_webhook_backoff_ms(1000, 60000, 40, UINT32_MAX), 60000);
    assert_int_equal(hub_webhook_backoff_ms(1000, 60000, 1000000, 0), 30000);
    for (uint32_t r = 0; r < 100; r++) {
        long long w = hub_webhook_backoff_ms(1000, 60000, 3, r * 42949672u);
        assert_true(w >= 2000 && w <= 4000);
    }
}

static int count_rows(void *arg, const struct hub_webhook_delivery *d)
{
    (void)d;
    ++*(int *)arg;
    return 0;
}

static int stock_rows(void *arg, const struct hub_webhook_stock *r)
{
    char *out = arg;
    size_t at = strlen(out);
    snprintf(out + at, 256 - at, "%s/%s=%lld;", r->dealer, r->sku, r->qty);
    return 0;
}

/* The stock events' cursor, the rows stored in a period, and delivered rows pruned (dead ones
 * kept). */
static void test_webhook_cursor_StockChangedAndPrune(void **state)
{
    struct test_store_fixture *f = *state;
    depot_msg m = test_stock("D2", LEDGER_A, 1, 1, T0, "S2", 4);
    depot_msg m2 = test_stock("D1", LEDGER_B, 1, 1, T0, "S1", 9);
    char rows[256] = "";
    long long cursor = -1, n = -1, sub = sub_add(f->s, "http://erp/a", ",*,");
    int left = 0;
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_cursor(f->s, &cursor), DEPOT_OK);
    assert_int_equal(cursor, 0);
    assert_int_equal(hub_store_webhook_cursor_set(f->s, T0 + 5), DEPOT_OK);
    assert_int_equal(hub_store_webhook_cursor(f->s, &cursor), DEPOT_OK);
    assert_int_equal(cursor, T0 + 5);
    assert_int_equal(hub_store_apply(f->s, &m, T0 + 10, NULL, NULL), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->s, &m2, T0 + 20, NULL, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_stock_changed(f->s, T0 + 5, T0 + 20, stock_rows, rows),
                     DEPOT_OK);
    assert_string_equal(rows, "D1/S1=9;D2/S2=4;"); /* by dealer */
    rows[0] = '\0';
    assert_int_equal(hub_store_webhook_stock_changed(f->s, T0 + 10, T0 + 19, stock_rows, rows),
                     DEPOT_OK);
    assert_string_equal(rows, "");
    /* two deliveries: one delivered at T0 + 100, one dead: only the first goes */
    enqueue(f->s, "payment.recorded", "e1", T0, 1);
    enqueue(f->s, "payment.recorded", "e2", T0, 1);
    assert_int_equal(hub_store_begin(f->s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_finish(f->s, 1, "delivered", 1, T0, "", T0 + 100), DEPOT_OK);
    assert_int_equal(hub_store_webhook_finish(f->s, 2, "dead", 9, T0, "HTTP status 500", 0),
                     DEPOT_OK);
    assert_int_equal(hub_store_webhook_prune(f->s, T0 + 100, &n), DEPOT_OK);
    assert_int_equal(n, 0); /* delivered at T0 + 100: not before it */
    assert_int_equal(hub_store_webhook_prune(f->s, T0 + 101, &n), DEPOT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(hub_store_commit(f->s), DEPOT_OK);
    assert_int_equal(hub_store_webhook_deliveries(f->s, sub, NULL, 0, 100, count_rows, &left),
                     DEPOT_OK);
    assert_int_equal(left, 1); /* the dead one */
}

#define T(name) cmocka_unit_test_setup_teardown(name, test_store_setup, test_store_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_webhook_enqueue_OneRowPerActiveSubscriptionTakingTheType),
        T(test_webhook_enqueue_RolledBackWithItsFact),
        T(test_webhook_due_OldestPendingOfEachSubscriptionLeasedOnce),
        T(test_webhook_dead_LetsTheNextGoAndRetryMakesItPendingFirst),
        T(test_webhook_disabled_SubscriptionsDeliveriesAreNeverDue),
        T(test_migration12_AppliesToAStoreMadeBefore),
        T(test_webhook_cursor_StockChangedAndPrune),
        cmocka_unit_test(test_webhook_sign_IsHmacSha256OfTimestampDotBody),
        cmocka_unit_test(test_webhook_backoff_DoublesToTheCapWithinHalfToAll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
