/* hub_stale: when shown stock is live, and why not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stale.h"

#define NOW 1000000000LL
#define AFTER 120000LL

static struct hub_stock_row row(bool online, long long last_seen, bool fault, const char *reason)
{
    struct hub_stock_row r = {.dealer = "D1",
                              .sku = "S1",
                              .node = "scale-a",
                              .qty = 1,
                              .updated_at = NOW - 42000,
                              .received_at = NOW - 42000,
                              .dealer_online = online,
                              .last_seen = last_seen,
                              .node_fault = fault,
                              .fault_reason = reason};
    return r;
}

static void test_hub_stale_compute_LiveWhenOnlineAndHeard(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(true, NOW - 1000, false, "");
    (void)state;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_false(s.stale);
    assert_int_equal(s.age_s, 42);
    assert_string_equal(s.reason, "");
}

static void test_hub_stale_compute_OfflineStateIsStale(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(false, NOW - 1000, false, "");
    (void)state;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_true(s.stale);
    assert_string_equal(s.reason, "gateway offline");
}

static void test_hub_stale_compute_SilenceIsOffline(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(true, NOW - AFTER - 1, false, "");
    (void)state;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_true(s.stale);
    assert_string_equal(s.reason, "gateway offline");
    r.last_seen = NOW - AFTER;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_false(s.stale);
}

static void test_hub_stale_compute_NodeFaultNamesReason(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(true, NOW, true, "timeout");
    (void)state;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_true(s.stale);
    assert_string_equal(s.reason, "node fault: timeout");
}

static void test_hub_stale_compute_OfflineOutranksFault(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(false, NOW, true, "timeout");
    (void)state;
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_string_equal(s.reason, "gateway offline");
}

static void test_hub_stale_compute_FutureTimestampAgeZero(void **state)
{
    struct hub_staleness s;
    struct hub_stock_row r = row(true, NOW, false, "");
    (void)state;
    r.updated_at = NOW + 5000; /* gateway clock ahead */
    hub_stale_compute(&r, NOW, AFTER, &s);
    assert_int_equal(s.age_s, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_stale_compute_LiveWhenOnlineAndHeard),
        cmocka_unit_test(test_hub_stale_compute_OfflineStateIsStale),
        cmocka_unit_test(test_hub_stale_compute_SilenceIsOffline),
        cmocka_unit_test(test_hub_stale_compute_NodeFaultNamesReason),
        cmocka_unit_test(test_hub_stale_compute_OfflineOutranksFault),
        cmocka_unit_test(test_hub_stale_compute_FutureTimestampAgeZero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
