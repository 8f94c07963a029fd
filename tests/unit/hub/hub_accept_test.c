/* hub_accept: every reject category, and the message that passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "depot/alloc.h"
#include "accept.h"
#include "hub_test_util.h"

#define GOOD                                                                                       \
    "{\"v\":1,\"type\":\"stock\",\"dealer\":\"D001\",\"ledger\":\"" LEDGER_A "\","                 \
    "\"id\":2,\"base\":1,\"ts\":1764230000123,"                                                    \
    "\"body\":{\"sku\":\"S1\",\"qty\":12,\"delta\":-1,\"node\":\"scale-a\"}}"

static char detail[160];

static enum hub_reject check(const char *topic, const char *payload)
{
    depot_msg m;
    enum hub_reject r = hub_accept(topic, payload, strlen(payload), &m, detail, sizeof(detail));
    if (r == HUB_REJECT_NONE)
        depot_msg_clear(&m);
    return r;
}

static void test_hub_accept_GoodStockPasses(void **state)
{
    depot_msg m;
    (void)state;
    assert_int_equal(
        hub_accept("depot/v1/D001/up/stock", GOOD, strlen(GOOD), &m, detail, sizeof(detail)),
        HUB_REJECT_NONE);
    assert_int_equal(m.id, 2);
    assert_string_equal(m.body.stock.sku, "S1");
    depot_msg_clear(&m);
}

static void test_hub_accept_EncodedMessagesPass(void **state)
{
    depot_msg m = test_state("D001", true, 5, 7);
    char *text;
    size_t len;
    (void)state;
    assert_int_equal(depot_msg_encode(&m, &text, &len), DEPOT_OK);
    assert_int_equal(check("depot/v1/D001/state", text), HUB_REJECT_NONE);
    depot_free(text);
    m = test_event("D001", 3, 9, "scale-a", "fault", "timeout");
    assert_int_equal(depot_msg_encode(&m, &text, &len), DEPOT_OK);
    assert_int_equal(check("depot/v1/D001/up/event", text), HUB_REJECT_NONE);
    depot_free(text);
}

static void test_hub_accept_MalformedJsonIsJson(void **state)
{
    (void)state;
    assert_int_equal(check("depot/v1/D001/up/stock", "{\"v\":1,"), HUB_REJECT_JSON);
    assert_int_equal(check("depot/v1/D001/up/stock", ""), HUB_REJECT_JSON);
    assert_true(strlen(detail) > 0);
}

static void test_hub_accept_OtherVersionIsVersion(void **state)
{
    (void)state;
    assert_int_equal(check("depot/v1/D001/up/stock", "{\"v\":2,\"type\":\"stock\"}"),
                     HUB_REJECT_VERSION);
}

static void test_hub_accept_UnknownKeyIsSchema(void **state)
{
    char text[512];
    (void)state;
    snprintf(text, sizeof(text), "%.*s,\"extra\":1}", (int)strlen(GOOD) - 1, GOOD);
    assert_int_equal(check("depot/v1/D001/up/stock", text), HUB_REJECT_SCHEMA);
    assert_non_null(strstr(detail, "extra"));
}

static void test_hub_accept_MistypedKeyIsSchema(void **state)
{
    static const char text[] =
        "{\"v\":1,\"type\":\"stock\",\"dealer\":\"D001\",\"ledger\":\"" LEDGER_A "\","
        "\"id\":2,\"base\":1,\"ts\":1764230000123,"
        "\"body\":{\"sku\":\"S1\",\"qty\":\"12\",\"delta\":-1,\"node\":\"scale-a\"}}";
    (void)state;
    assert_int_equal(check("depot/v1/D001/up/stock", text), HUB_REJECT_SCHEMA);
    assert_non_null(strstr(detail, "qty"));
}

static void test_hub_accept_OtherDealerIsDealerMismatch(void **state)
{
    (void)state;
    assert_int_equal(check("depot/v1/D002/up/stock", GOOD), HUB_REJECT_DEALER_MISMATCH);
    assert_non_null(strstr(detail, "D002"));
}

static void test_hub_accept_TypeOnWrongLeafIsTypeMismatch(void **state)
{
    (void)state;
    assert_int_equal(check("depot/v1/D001/up/event", GOOD), HUB_REJECT_TYPE_MISMATCH);
    assert_int_equal(check("depot/v1/D001/state", GOOD), HUB_REJECT_TYPE_MISMATCH);
}

static void test_hub_accept_ForeignTopicIsTopic(void **state)
{
    (void)state;
    assert_int_equal(check("other/v1/D001/up/stock", GOOD), HUB_REJECT_TOPIC);
    assert_int_equal(check("depot/v1/D001/up/orders", GOOD), HUB_REJECT_TOPIC);
    assert_int_equal(check("depot/v1/D001/down/ack", GOOD), HUB_REJECT_TOPIC);
    assert_int_equal(check("depot/v1/bad dealer/up/stock", GOOD), HUB_REJECT_TOPIC);
}

static void test_hub_reject_name_Names(void **state)
{
    (void)state;
    assert_string_equal(hub_reject_name(HUB_REJECT_DEALER_MISMATCH), "dealer_mismatch");
    assert_string_equal(hub_reject_name(HUB_REJECT__COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hub_accept_GoodStockPasses),
        cmocka_unit_test(test_hub_accept_EncodedMessagesPass),
        cmocka_unit_test(test_hub_accept_MalformedJsonIsJson),
        cmocka_unit_test(test_hub_accept_OtherVersionIsVersion),
        cmocka_unit_test(test_hub_accept_UnknownKeyIsSchema),
        cmocka_unit_test(test_hub_accept_MistypedKeyIsSchema),
        cmocka_unit_test(test_hub_accept_OtherDealerIsDealerMismatch),
        cmocka_unit_test(test_hub_accept_TypeOnWrongLeafIsTypeMismatch),
        cmocka_unit_test(test_hub_accept_ForeignTopicIsTopic),
        cmocka_unit_test(test_hub_reject_name_Names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
