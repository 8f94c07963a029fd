/* Unit tests of the MQTT message codec: round trips and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "depot/alloc.h"
#include "depot/msg.h"

#define LEDGER "0123456789abcdef0123456789abcdef"

/* m zeroed, from dealer D1 on stream LEDGER, of type t. */
static void msg_init(depot_msg *m, depot_msg_type t)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->dealer, "D1");
    strcpy(m->ledger, LEDGER);
    m->type = t;
}

static depot_msg stock_msg(void)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_STOCK;
    strcpy(m.dealer, "D001");
    strcpy(m.ledger, LEDGER);
    m.id = 42;
    m.base = 40;
    m.ts = 1764230000123LL;
    strcpy(m.body.stock.sku, "SKU-1");
    m.body.stock.qty = 12;
    m.body.stock.delta = -1;
    strcpy(m.body.stock.node, "scale-a");
    return m;
}

static depot_err decode_str(const char *s, depot_msg *m, char *reason)
{
    return depot_msg_decode(s, strlen(s), m, reason, 128);
}

static void test_depot_msg_encode_StockRoundTrips(void **state)
{
    depot_msg m = stock_msg(), back;
    char *text;
    size_t len;
    char reason[128];
    (void)state;
    assert_int_equal(depot_msg_encode(&m, &text, &len), DEPOT_OK);
    assert_int_equal(strlen(text), len);
    assert_int_equal(depot_msg_decode(text, len, &back, reason, sizeof(reason)), DEPOT_OK);
    assert_int_equal(back.type, DEPOT_MSG_STOCK);
    assert_string_equal(back.dealer, "D001");
    assert_string_equal(back.ledger, LEDGER);
    assert_int_equal(back.id, 42);
    assert_int_equal(back.base, 40);
    assert_int_equal(back.ts, 1764230000123LL);
    assert_string_equal(back.body.stock.sku, "SKU-1");
    assert_int_equal(back.body.stock.qty, 12);
    assert_int_equal(back.body.stock.delta, -1);
    assert_string_equal(back.body.stock.node, "scale-a");
    depot_free(text);
}

/* Whole numbers are written as their digits, byte for byte what cJSON's number printer wrote
 * before (a timestamp above INT_MAX, negatives, zero); a fraction still goes through cJSON. */
static void test_depot_msg_encode_WritesWholeNumbersAsDigits(void **state)
{
    depot_msg m = stock_msg();
    char *text;
    (void)state;
    m.body.stock.qty = 0;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_string_equal(text, "{\"v\":1,\"type\":\"stock\",\"dealer\":\"D001\",\"ledger\":\"" LEDGER
                              "\",\"id\":42,\"base\":40,\"ts\":1764230000123,\"body\":{\"sku\":"
                              "\"SKU-1\",\"qty\":0,\"delta\":-1,\"node\":\"scale-a\"}}");
    depot_free(text);
}

static void test_depot_msg_encode_SnapshotRoundTrips(void **state)
{
    struct depot_snapshot_item items[2] = {{"A", 1, "n1", false}, {"B", 7, "n2", true}};
    depot_msg m, back;
    char *text;
    size_t before = depot_mem_in_use();
    (void)state;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_SNAPSHOT;
    strcpy(m.dealer, "D1");
    strcpy(m.ledger, LEDGER);
    m.ts = 5;
    m.body.snapshot.as_of = 9;
    m.body.snapshot.n_items = 2;
    m.body.snapshot.items = items;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.snapshot.as_of, 9);
    assert_int_equal(back.body.snapshot.n_items, 2);
    assert_string_equal(back.body.snapshot.items[1].sku, "B");
    assert_int_equal(back.body.snapshot.items[1].qty, 7);
    assert_true(back.body.snapshot.items[1].fault);
    assert_false(back.body.snapshot.items[0].fault);
    depot_msg_clear(&back);
    depot_free(text);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_msg_encode_StateAckEventRoundTrip(void **state)
{
    depot_msg m, back;
    char *text;
    (void)state;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_STATE;
    strcpy(m.dealer, "D1");
    strcpy(m.ledger, LEDGER);
    m.body.state.online = true;
    m.body.state.session = 77;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_true(back.body.state.online);
    assert_int_equal(back.body.state.session, 77);
    depot_free(text);

    m.type = DEPOT_MSG_ACK;
    m.body.ack.upto = 1234567;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.ack.upto, 1234567);
    depot_free(text);

    memset(&m.body, 0, sizeof(m.body));
    m.type = DEPOT_MSG_EVENT;
    m.id = 3;
    m.base = 1;
    strcpy(m.body.event.node, "scale-b");
    strcpy(m.body.event.event, "fault");
    strcpy(m.body.event.reason, "timeout");
    m.body.event.count = 4;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_string_equal(back.body.event.reason, "timeout");
    assert_int_equal(back.body.event.count, 4);
    depot_free(text);
}

static void test_depot_msg_encode_RefusesWhatDecoderWouldReject(void **state)
{
    depot_msg m = stock_msg();
    char *text = NULL;
    (void)state;
    strcpy(m.body.stock.sku, "bad sku");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    m = stock_msg();
    m.id = 0;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    m = stock_msg();
    m.base = 50; /* base > id */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    assert_null(text);
}

static const char *const good = "{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
                                "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3,"
                                "\"delta\":1,\"node\":\"n\"}}";

static void test_depot_msg_decode_AcceptsGood(void **state)
{
    depot_msg m;
    char reason[128];
    (void)state;
    assert_int_equal(decode_str(good, &m, reason), DEPOT_OK);
    assert_int_equal(m.body.stock.qty, 3);
}

struct bad_case {
    const char *json;
    depot_err err;
    const char *reason_has;
};

static void test_depot_msg_decode_RejectsEachDefectWithReason(void **state)
{
    static const struct bad_case cases[] = {
        {"{not json", DEPOT_ERR_PARSE, "JSON"},
        {"", DEPOT_ERR_PARSE, "JSON"},
        {"[1,2]", DEPOT_ERR_SCHEMA, "not an object"},
        {"{\"v\":2,\"type\":\"stock\"}", DEPOT_ERR_VERSION, "version"},
        {"{\"type\":\"stock\"}", DEPOT_ERR_SCHEMA, "v: missing"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":\"3\",\"delta\":1,"
         "\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "body.qty: not an integer"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3.5,\"delta\":1,"
         "\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "body.qty: not an integer"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3,\"delta\":1,"
         "\"node\":\"n\",\"extra\":1}}",
         DEPOT_ERR_SCHEMA, "body.extra: unknown key"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3,\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "body.delta: missing"},
        {"{\"v\":1,\"type\":\"teleport\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{}}",
         DEPOT_ERR_SCHEMA, "unknown message type"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D 1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{}}",
         DEPOT_ERR_SCHEMA, "dealer: not a valid id"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"XYZ\","
         "\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3,\"delta\":1,"
         "\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "ledger"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":0,\"base\":0,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":3,\"delta\":1,"
         "\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "id"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":-2,\"base\":1,\"ts\":5,\"body\":{}}",
         DEPOT_ERR_SCHEMA, "id: out of range"},
        {"{\"v\":1,\"v\":1,\"type\":\"stock\"}", DEPOT_ERR_SCHEMA, "v: repeated key"},
        {"{\"v\":1,\"type\":\"stock\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":1e12,\"delta\":1,"
         "\"node\":\"n\"}}",
         DEPOT_ERR_SCHEMA, "body.qty: out of range"},
        {"{\"v\":1,\"type\":\"snapshot\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":0,\"base\":0,\"ts\":5,\"body\":{\"as_of\":1,\"items\":[{\"sku\":\"S\"}]}}",
         DEPOT_ERR_SCHEMA, "body.items[].qty: missing"},
        {"{\"v\":1,\"type\":\"snapshot\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER
         "\",\"id\":0,\"base\":0,\"ts\":5,\"body\":{\"as_of\":1,\"items\":[7]}}",
         DEPOT_ERR_SCHEMA, "items[]: not an object"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        depot_msg m;
        char reason[128] = "";
        size_t before = depot_mem_in_use();
        depot_err err = decode_str(cases[i].json, &m, reason);
        if (err != cases[i].err || !strstr(reason, cases[i].reason_has))
            fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, err, reason, cases[i].err,
                     cases[i].reason_has);
        assert_int_equal(depot_mem_in_use(), before);
    }
}

static void test_depot_msg_decode_NotNulTerminated(void **state)
{
    char buf[512];
    depot_msg m;
    size_t n = strlen(good);
    (void)state;
    memcpy(buf, good, n);
    memset(buf + n, 'x', sizeof(buf) - n);
    assert_int_equal(depot_msg_decode(buf, n, &m, NULL, 0), DEPOT_OK);
    assert_int_equal(depot_msg_decode(buf, n - 1, &m, NULL, 0), DEPOT_ERR_PARSE);
}

#define ENV(type) "{\"v\":1,\"type\":\"" type "\",\"dealer\":\"D1\",\"ledger\":\"" LEDGER "\","
#define STOCK_BODY(qty, delta)                                                                     \
    ENV("stock") "\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"sku\":\"S\",\"qty\":" qty            \
                 ",\"delta\":" delta ",\"node\":\"n\"}}"
#define MOVE(kind, delta, qty)                                                                     \
    ENV("movements") "\"id\":2,\"base\":1,\"ts\":5,\"body\":{\"items\":[{\"mid\":1,\"ts\":5,"      \
                     "\"node\":\"n\",\"sku\":\"S\",\"kind\":\"" kind "\",\"delta\":" delta           \
                     ",\"qty\":" qty "}]}}"

static void test_depot_msg_decode_RefusesImplausibleCountsWithReason(void **state)
{
    static const struct {
        const char *json, *reason_has;
    } cases[] = {
        {STOCK_BODY("-1", "-1"), "body.qty: out of range"},
        {STOCK_BODY("5", "6"), "body.delta: the stock before it"},
        {STOCK_BODY("5", "-1000000000"), "body.delta: the stock before it"},
        {STOCK_BODY("5", "2000000000"), "body.delta: out of range"},
        {ENV("snapshot") "\"id\":0,\"base\":0,\"ts\":5,\"body\":{\"as_of\":1,\"items\":[{"
                         "\"sku\":\"S\",\"qty\":-3,\"node\":\"n\",\"fault\":false}]}}",
         "body.items[].qty: out of range"},
        {MOVE("pick", "-1000000000", "-999999890"), "body.items[].qty: out of range"},
        {MOVE("pick", "-1000000000", "110"), "body.items[].delta: the stock before it"},
        {MOVE("pick", "3", "10"), "body.items[].delta: a pick must lower the stock"},
        {MOVE("receive", "-3", "10"), "body.items[].delta: a pick must lower the stock"},
        {MOVE("count", "12", "10"), "body.items[].delta: the stock before it"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        depot_msg m;
        char reason[128] = "";
        depot_err err = decode_str(cases[i].json, &m, reason);
        if (err != DEPOT_ERR_SCHEMA || !strstr(reason, cases[i].reason_has))
            fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, err, reason, cases[i].reason_has);
    }
    /* the edges are accepted: a pick of the whole stock, a first reading from nothing */
    {
        depot_msg m;
        assert_int_equal(decode_str(MOVE("pick", "-110", "0"), &m, NULL), DEPOT_OK);
        depot_msg_clear(&m);
        assert_int_equal(decode_str(STOCK_BODY("7", "7"), &m, NULL), DEPOT_OK);
    }
}

static void test_depot_msg_decode_RefusesTrailingDataAfterTheDocument(void **state)
{
    char buf[1024];
    depot_msg m;
    depot_order_doc *d = depot_calloc(1, sizeof(*d));
    char *doc;
    size_t len;
    (void)state;
    snprintf(buf, sizeof(buf), "%s \r\n\t", good);
    assert_int_equal(decode_str(buf, &m, NULL), DEPOT_OK); /* whitespace is fine */
    snprintf(buf, sizeof(buf), "%s trailing", good);
    assert_int_equal(decode_str(buf, &m, NULL), DEPOT_ERR_PARSE);
    snprintf(buf, sizeof(buf), "%s%s", good, good); /* two documents back to back */
    assert_int_equal(decode_str(buf, &m, NULL), DEPOT_ERR_PARSE);
    snprintf(buf, sizeof(buf), "%s", good);
    assert_int_equal(depot_msg_decode(buf, strlen(good) + 1, &m, NULL, 0), DEPOT_ERR_PARSE);
    snprintf(buf, sizeof(buf), "%s}", good);
    assert_int_equal(depot_msg_peek_envelope(buf, strlen(buf), &m), DEPOT_ERR_PARSE);
    /* the signed order document too */
    d->n_lines = 1;
    d->number = 1;
    strcpy(d->order, LEDGER "-1");
    strcpy(d->dealer, "D1");
    strcpy(d->terminal, "t1");
    strcpy(d->lines[0].barcode, "4006381333931");
    d->lines[0].qty = 1;
    assert_int_equal(depot_order_doc_encode(d, &doc, &len), DEPOT_OK);
    snprintf(buf, sizeof(buf), "%s{}", doc);
    assert_int_equal(depot_order_doc_decode(buf, strlen(buf), d, NULL, 0), DEPOT_ERR_PARSE);
    assert_int_equal(depot_order_doc_decode(doc, len, d, NULL, 0), DEPOT_OK);
    depot_free(doc);
    depot_free(d);
}

static void test_depot_topic_build_AndParse(void **state)
{
    char topic[128], dealer[DEPOT_DEALER_MAX + 1];
    const char *leaf;
    (void)state;
    assert_int_equal(depot_topic_build(topic, sizeof(topic), "D001", "up/stock"), DEPOT_OK);
    assert_string_equal(topic, "depot/v1/D001/up/stock");
    assert_int_equal(depot_topic_parse(topic, dealer, &leaf), DEPOT_OK);
    assert_string_equal(dealer, "D001");
    assert_string_equal(leaf, "up/stock");
    assert_int_equal(depot_topic_build(topic, 10, "D001", "up/stock"), DEPOT_ERR_INVAL);
    assert_int_equal(depot_topic_build(topic, sizeof(topic), "D/1", "x"), DEPOT_ERR_INVAL);
    assert_int_equal(depot_topic_parse("depot/v2/D1/up/stock", dealer, &leaf), DEPOT_ERR_INVAL);
    assert_int_equal(depot_topic_parse("depot/v1/D1", dealer, &leaf), DEPOT_ERR_INVAL);
    assert_int_equal(depot_topic_parse("depot/v1//up", dealer, &leaf), DEPOT_ERR_INVAL);
    assert_int_equal(depot_topic_parse("depot/v1/+/up", dealer, &leaf), DEPOT_ERR_INVAL);
    assert_int_equal(
        depot_topic_parse("depot/v1/0123456789012345678901234567890123/up", dealer, &leaf),
        DEPOT_ERR_INVAL);
}

static void test_depot_msg_is_stream_OnlyStreamTypes(void **state)
{
    (void)state;
    assert_true(depot_msg_is_stream(DEPOT_MSG_STOCK));
    assert_true(depot_msg_is_stream(DEPOT_MSG_EVENT));
    assert_false(depot_msg_is_stream(DEPOT_MSG_SNAPSHOT));
    assert_false(depot_msg_is_stream(DEPOT_MSG_STATE));
    assert_false(depot_msg_is_stream(DEPOT_MSG_ACK));
    assert_true(depot_msg_is_stream(DEPOT_MSG_ORDER));
    assert_false(depot_msg_is_stream(DEPOT_MSG_DECISION));
    assert_false(depot_msg_is_stream(DEPOT_MSG_CATALOG));
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_CATALOG), "down/catalog");
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_ACK), "down/ack");
    assert_null(depot_msg_type_name(DEPOT_MSG__COUNT));
}

static void test_depot_msg_encode_OrderDecisionCatalogRoundTrip(void **state)
{
    struct depot_catalog_item items[2] = {{"S1", "4006381333931", 1, 500, ""},
                                          {"S2", "ABC-9", 2, 10, "SN-S2-"}};
    char doc[] = "{\"x\":1}", sig[] = "c2ln", cert[] = "-----BEGIN CERTIFICATE-----";
    depot_msg m, back;
    char *text;
    size_t before = depot_mem_in_use();
    (void)state;
    msg_init(&m, DEPOT_MSG_ORDER);
    m.id = 5;
    m.base = 5;
    m.body.order.doc = doc;
    m.body.order.sig = sig;
    m.body.order.cert = cert;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_string_equal(back.body.order.doc, doc);
    assert_string_equal(back.body.order.sig, sig);
    assert_string_equal(back.body.order.cert, cert);
    depot_msg_clear(&back);
    depot_free(text);

    memset(&m.body, 0, sizeof(m.body));
    m.type = DEPOT_MSG_DECISION;
    m.id = m.base = 0;
    strcpy(m.body.decision.order, LEDGER "-17");
    m.body.decision.number = 17;
    strcpy(m.body.decision.status, "rejected");
    strcpy(m.body.decision.reason, "over credit limit");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_string_equal(back.body.decision.order, LEDGER "-17");
    assert_string_equal(back.body.decision.status, "rejected");
    assert_string_equal(back.body.decision.stage, "");
    depot_free(text);
    strcpy(m.body.decision.status, "maybe");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    memset(&m.body, 0, sizeof(m.body));
    m.type = DEPOT_MSG_CATALOG;
    m.ledger[0] = '\0';
    m.body.catalog.version = 3;
    m.body.catalog.n_items = 2;
    m.body.catalog.items = items;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.catalog.n_items, 2);
    assert_string_equal(back.body.catalog.items[1].barcode, "ABC-9");
    assert_int_equal(back.body.catalog.items[1].max_qty, 10);
    assert_string_equal(back.body.catalog.items[0].serial_prefix, ""); /* none: not sent */
    assert_string_equal(back.body.catalog.items[1].serial_prefix, "SN-S2-");
    assert_int_equal(strstr(text, "serial_prefix") - text, strstr(text, "SN-S2-") - text - 16);
    depot_msg_clear(&back);
    depot_free(text);
    strcpy(items[1].serial_prefix, "(01)"); /* a GS1 start is never a serial's */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    strcpy(items[1].serial_prefix, "SN S2"); /* a space */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    strcpy(items[1].serial_prefix, "SN-S2-");
    items[0].min_qty = 600; /* above max_qty */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    assert_int_equal(depot_mem_in_use(), before);
}

static depot_order_doc *sample_doc(void)
{
    static depot_order_doc d;
    memset(&d, 0, sizeof(d));
    strcpy(d.order, LEDGER "-7");
    strcpy(d.dealer, "A");
    d.number = 7;
    strcpy(d.terminal, "scan-a");
    d.created = 1764230000123LL;
    d.n_lines = 2;
    strcpy(d.lines[0].barcode, "4006381333931");
    d.lines[0].qty = 3;
    strcpy(d.lines[1].barcode, "X-1");
    d.lines[1].qty = 1;
    return &d;
}

static void test_depot_order_doc_encode_RoundTripsExactly(void **state)
{
    depot_order_doc *d = sample_doc(), back;
    char *text, *again;
    size_t len;
    (void)state;
    assert_int_equal(depot_order_doc_encode(d, &text, &len), DEPOT_OK);
    assert_int_equal(depot_order_doc_decode(text, len, &back, NULL, 0), DEPOT_OK);
    assert_string_equal(back.order, d->order);
    assert_string_equal(back.dealer, "A");
    assert_int_equal(back.number, 7);
    assert_int_equal(back.n_lines, 2);
    assert_string_equal(back.lines[0].barcode, "4006381333931");
    assert_int_equal(back.lines[1].qty, 1);
    /* Encoding is deterministic: the same document gives the same bytes. */
    assert_int_equal(depot_order_doc_encode(&back, &again, NULL), DEPOT_OK);
    assert_string_equal(text, again);
    depot_free(text);
    depot_free(again);
}

static void test_depot_order_doc_decode_RejectsBadLines(void **state)
{
    static const char *const bad[] = {
        "{\"order\":\"o-1\",\"dealer\":\"A\",\"number\":1,\"terminal\":\"t\",\"created\":1,"
        "\"lines\":[]}",
        "{\"order\":\"o-1\",\"dealer\":\"A\",\"number\":1,\"terminal\":\"t\",\"created\":1,"
        "\"lines\":[{\"barcode\":\"has space\",\"qty\":1}]}",
        "{\"order\":\"o-1\",\"dealer\":\"A\",\"number\":1,\"terminal\":\"t\",\"created\":1,"
        "\"lines\":[{\"barcode\":\"B1\",\"qty\":0}]}",
        "{\"order\":\"o-1\",\"dealer\":\"A\",\"number\":0,\"terminal\":\"t\",\"created\":1,"
        "\"lines\":[{\"barcode\":\"B1\",\"qty\":1}]}",
        "{\"order\":\"o-1\",\"dealer\":\"A\",\"number\":1,\"terminal\":\"t\",\"created\":1,"
        "\"lines\":[{\"barcode\":\"B1\",\"qty\":1}],\"price\":3}",
        "[]",
        "{",
    };
    static const char *const want[] = {"doc.lines: too few items",
                                       "doc.lines[].barcode",
                                       "doc.lines[].qty: out of range",
                                       "doc.number",
                                       "doc.price: unknown key",
                                       "not an object",
                                       "JSON"};
    depot_order_doc d;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char reason[128] = "";
        depot_err err = depot_order_doc_decode(bad[i], strlen(bad[i]), &d, reason, sizeof(reason));
        if (err == DEPOT_OK || !strstr(reason, want[i]))
            fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, err, reason, want[i]);
    }
}

static void test_depot_barcode_valid_PrintableNoSpace(void **state)
{
    (void)state;
    assert_true(depot_barcode_valid("4006381333931"));
    assert_true(depot_barcode_valid("A~!"));
    assert_false(depot_barcode_valid(""));
    assert_false(depot_barcode_valid("a b"));
    assert_false(depot_barcode_valid("\x7f"));
    assert_false(depot_barcode_valid("012345678901234567890123456789012"));
    assert_true(depot_barcode_valid("01234567890123456789012345678901"));
}

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define MV_ITEM(h)                                                                                 \
    "{\"mid\":5,\"ts\":100,\"node\":\"n\",\"sku\":\"S1\",\"kind\":\"pick\","                       \
    "\"delta\":-2,\"qty\":8" h "}"
#define MV_MSG(items, rest)                                                                        \
    "{\"v\":1,\"type\":\"movements\",\"dealer\":\"D1\",\"ledger\":"                                \
    "\"0123456789abcdef0123456789abcdef\",\"id\":3,\"base\":1,\"ts\":5,\"body\":{\"items\":"       \
    "[" items "]" rest "}}"

/* A batch of the movement chain: every item's h, the batch's prev, sig and cert; all or none. */
static void test_depot_msg_decode_MovementsChainAllOrNothing(void **state)
{
    struct depot_movement_item mv[1] = {{5, 100, "n", "S1", "pick", -2, 8, H1, ""}};
    depot_msg m, back;
    char *text, why[160];
    (void)state;
    msg_init(&m, DEPOT_MSG_MOVEMENTS);
    m.id = 3;
    m.base = 1;
    m.body.movements.n_items = 1;
    m.body.movements.items = mv;
    strcpy(m.body.movements.prev, H2);
    m.body.movements.sig = "MEUCIQ==";
    m.body.movements.cert = "-----BEGIN CERTIFICATE-----\n";
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, why, sizeof(why)), DEPOT_OK);
    assert_string_equal(back.body.movements.items[0].hash, H1);
    assert_string_equal(back.body.movements.prev, H2);
    assert_string_equal(back.body.movements.sig, "MEUCIQ==");
    assert_string_equal(back.body.movements.cert, "-----BEGIN CERTIFICATE-----\n");
    depot_msg_clear(&back);
    depot_free(text);
    /* a batch from before the chain still decodes */
    assert_int_equal(depot_msg_decode(MV_MSG(MV_ITEM(""), ""), strlen(MV_MSG(MV_ITEM(""), "")),
                                      &back, why, sizeof(why)),
                     DEPOT_OK);
    assert_string_equal(back.body.movements.items[0].hash, "");
    assert_null(back.body.movements.sig);
    depot_msg_clear(&back);
    /* half a chain is refused: a signed batch without an item's h, or without its cert */
    {
        static const char *const bad[] = {
            MV_MSG(MV_ITEM(""), ",\"prev\":\"" H2 "\",\"sig\":\"x\",\"cert\":\"c\""),
            MV_MSG(MV_ITEM(",\"h\":\"" H1 "\""), ",\"prev\":\"" H2 "\",\"sig\":\"x\""),
            MV_MSG(MV_ITEM(",\"h\":\"" H1 "\""), ",\"sig\":\"x\",\"cert\":\"c\""),
            MV_MSG(MV_ITEM(",\"h\":\"" H1 "\""), ",\"prev\":\"" H2 "\""),
            MV_MSG(MV_ITEM(",\"h\":\""
                           "X111111111111111111111111111111111111111111111111111111111111111"
                           "\""),
                   ""),
            MV_MSG(MV_ITEM(",\"h\":\"11\""), ""),
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(depot_msg_decode(bad[i], strlen(bad[i]), &back, why, sizeof(why)),
                             DEPOT_ERR_SCHEMA);
            depot_msg_clear(&back);
        }
    }
}

static void test_depot_msg_encode_MovementsAlertRankingRoundTrip(void **state)
{
    struct depot_movement_item mv[2] = {{5, 100, "scale-a", "S1", "pick", -2, 8, "", ""},
                                        {9, 200, "scan-1", "S2", "receive", 3, 13, "",
                                         "0104006381333931"
                                         "21SN42"}};
    depot_msg m, back;
    char *text;
    size_t before = depot_mem_in_use();
    (void)state;
    msg_init(&m, DEPOT_MSG_MOVEMENTS);
    m.id = 7;
    m.base = 1;
    m.body.movements.n_items = 2;
    m.body.movements.items = mv;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.movements.n_items, 2);
    assert_int_equal(back.body.movements.items[1].mid, 9);
    assert_string_equal(back.body.movements.items[0].kind, "pick");
    assert_int_equal(back.body.movements.items[0].delta, -2);
    depot_msg_clear(&back);
    depot_free(text);
    mv[1].mid = 5; /* not growing */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    mv[1].mid = 9;
    strcpy(mv[0].kind, "teleport");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    memset(&m.body, 0, sizeof(m.body));
    m.type = DEPOT_MSG_ALERT;
    m.id = m.base = 0;
    m.ledger[0] = '\0';
    m.body.alert.alert = 42;
    strcpy(m.body.alert.kind, "gateway_offline");
    strcpy(m.body.alert.severity, "critical");
    strcpy(m.body.alert.status, "open");
    strcpy(m.body.alert.text, "no message for 300 s");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_string_equal(back.body.alert.sku, "");
    assert_string_equal(back.body.alert.kind, "gateway_offline");
    depot_free(text);
    strcpy(m.body.alert.status, "forgotten");
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    memset(&m.body, 0, sizeof(m.body));
    m.type = DEPOT_MSG_RANKING;
    strcpy(m.body.ranking.period, "2026-11");
    m.body.ranking.rank = 3;
    m.body.ranking.of = 120;
    m.body.ranking.score = 0.8125;
    m.body.ranking.rebate_pct = 2.5;
    m.body.ranking.rebate = 1234.5;
    m.body.ranking.n_kpis = 1;
    strcpy(m.body.ranking.kpis[0].name, "sales");
    m.body.ranking.kpis[0].value = 49380;
    m.body.ranking.kpis[0].score = 0.75;
    m.body.ranking.kpis[0].weight = 0.4;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.ranking.rank, 3);
    assert_true(back.body.ranking.score == 0.8125);
    assert_true(back.body.ranking.kpis[0].weight == 0.4);
    depot_free(text);
    m.body.ranking.rank = 121; /* above "of" */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_msg_outbox_RoundTripAndBounds(void **state)
{
    static const char L[] = "0123456789abcdef0123456789abcdef";
    size_t before = depot_mem_in_use();
    char buf[512], why[128], *text;
    depot_msg m, back;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_OUTBOX;
    strcpy(m.dealer, "A");
    strcpy(m.ledger, L);
    m.ts = 1764230000123LL;
    m.body.outbox.queued = 120;
    m.body.outbox.max = 200;
    m.body.outbox.refuse_at = 160;
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_OUTBOX), "up/outbox");
    assert_false(depot_msg_is_stream(DEPOT_MSG_OUTBOX));
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.type, DEPOT_MSG_OUTBOX);
    assert_int_equal(back.body.outbox.queued, 120);
    assert_int_equal(back.body.outbox.max, 200);
    assert_int_equal(back.body.outbox.refuse_at, 160);
    depot_free(text);
    m.body.outbox.refuse_at = 201; /* above max */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    m.body.outbox.refuse_at = 160;
    m.body.outbox.max = 0;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    m.body.outbox.max = 200;
    m.id = m.base = 1; /* not a stream message */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    /* Strict like every body: an unknown or a missing key, a negative count. */
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"outbox\",\"dealer\":\"A\",\"ledger\":\"%s\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"queued\":1,\"max\":2,\"refuse_at\":2,"
             "\"oldest\":5}}",
             L);
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    assert_string_equal(why, "body.oldest: unknown key");
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"outbox\",\"dealer\":\"A\",\"ledger\":\"%s\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"queued\":1,\"max\":2}}",
             L);
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    assert_string_equal(why, "body.refuse_at: missing");
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"outbox\",\"dealer\":\"A\",\"ledger\":\"%s\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"queued\":-1,\"max\":2,\"refuse_at\":2}}",
             L);
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    assert_string_equal(why, "body.queued: out of range");
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_msg_peek_envelope_ReadsWhatDecodeRefuses(void **state)
{
    static const char L[] = "0123456789abcdef0123456789abcdef";
    char buf[512];
    depot_msg m;

    (void)state;
    /* A body the decoder does not know (a future leaf or schema): the envelope still reads. */
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"shipment\",\"dealer\":\"A\",\"ledger\":\"%s\","
             "\"id\":7,\"base\":5,\"ts\":123,\"body\":{\"x\":[1]},\"extra\":true}",
             L);
    assert_int_not_equal(decode_str(buf, &m, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_peek_envelope(buf, strlen(buf), &m), DEPOT_OK);
    assert_string_equal(m.dealer, "A");
    assert_string_equal(m.ledger, L);
    assert_int_equal(m.id, 7);
    assert_int_equal(m.base, 5);
    assert_int_equal(m.ts, 123);
    assert_int_equal(m.v, 1);
    assert_int_equal(m.type, DEPOT_MSG__COUNT);
    /* Type and ts are optional; a known type is kept. */
    snprintf(buf, sizeof(buf),
             "{\"type\":\"stock\",\"dealer\":\"A\",\"ledger\":\"%s\",\"id\":1,\"base\":1}", L);
    assert_int_equal(depot_msg_peek_envelope(buf, strlen(buf), &m), DEPOT_OK);
    assert_int_equal(m.type, DEPOT_MSG_STOCK);
    assert_int_equal(m.ts, 0);
}

static void test_depot_msg_peek_envelope_RefusesBadStreamKeys(void **state)
{
    static const char *const bad[] = {
        "not json",
        "[1,2]",
        "{\"dealer\":\"A\",\"ledger\":\"0123456789abcdef0123456789abcdef\",\"id\":1}",
        "{\"dealer\":\"A\",\"ledger\":\"0123456789ABCDEF0123456789abcdef\",\"id\":1,"
        "\"base\":1}",
        "{\"dealer\":\"A B\",\"ledger\":\"0123456789abcdef0123456789abcdef\",\"id\":1,"
        "\"base\":1}",
        "{\"dealer\":\"A\",\"ledger\":\"0123456789abcdef0123456789abcdef\",\"id\":0,"
        "\"base\":0}",
        "{\"dealer\":\"A\",\"ledger\":\"0123456789abcdef0123456789abcdef\",\"id\":3,"
        "\"base\":4}",
        "{\"dealer\":\"A\",\"ledger\":\"0123456789abcdef0123456789abcdef\",\"id\":1.5,"
        "\"base\":1}",
    };
    depot_msg m;

    (void)state;
    assert_int_equal(depot_msg_peek_envelope(bad[0], strlen(bad[0]), &m), DEPOT_ERR_PARSE);
    for (size_t i = 1; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(depot_msg_peek_envelope(bad[i], strlen(bad[i]), &m), DEPOT_ERR_SCHEMA);
    assert_int_equal(depot_msg_peek_envelope(NULL, 0, &m), DEPOT_ERR_INVAL);
}

/* A JSON string holding \u0000 is refused whole (a C string would keep only what comes before
 * it: "A\u0000B" stored as "A"); an escaped backslash before the text u0000 is not one. */
static void test_depot_json_parse_RefusesNulInStrings(void **state)
{
    static const char nul[] = "{\"name\":\"A\\u0000B\"}";
    static const char text[] = "{\"name\":\"A\\\\u0000B\"}";
    struct cJSON *j;
    (void)state;
    assert_null(depot_json_parse(nul, strlen(nul)));
    assert_null(depot_json_parse("{\"a\":\"\\u0000\"}", 13));
    assert_null(depot_json_parse("{\"a\":1}\0", 8)); /* a raw NUL after the document */
    assert_non_null(j = depot_json_parse(text, strlen(text)));
    cJSON_Delete(j);
}

static void test_depot_msg_policy_RoundTripAndBounds(void **state)
{
    size_t before = depot_mem_in_use();
    char buf[1024], why[128], *text;
    struct depot_policy_item items[2] = {
        {17, "Spring promotion", "SPRING -10%", "2027-03-31", false},
        {18, "New pump line", "NEW PUMPS", "2027-06-30", true},
    };
    depot_msg m, back;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_POLICY;
    strcpy(m.dealer, "A");
    m.ts = 1764230000123LL;
    m.body.policy.items = items;
    m.body.policy.n_items = 2;
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_POLICY), "down/policy");
    assert_false(depot_msg_is_stream(DEPOT_MSG_POLICY));
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.type, DEPOT_MSG_POLICY);
    assert_int_equal(back.body.policy.n_items, 2);
    assert_int_equal(back.body.policy.items[1].policy, 18);
    assert_string_equal(back.body.policy.items[0].notice, "SPRING -10%");
    assert_string_equal(back.body.policy.items[1].valid_to, "2027-06-30");
    assert_true(back.body.policy.items[1].acked);
    depot_msg_clear(&back);
    depot_free(text);
    m.body.policy.n_items = 0; /* every policy withdrawn: an empty list */
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    depot_free(text);
    m.body.policy.n_items = DEPOT_POLICIES_MAX + 1;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"policy\",\"dealer\":\"A\",\"ledger\":\"\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"policies\":[{\"policy\":1,\"title\":\"t\","
             "\"notice\":\"n\",\"valid_to\":\"2027-13-0x\",\"acked\":false}]}}");
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    assert_string_equal(why, "body.policies[].valid_to: not YYYY-MM-DD");
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"policy\",\"dealer\":\"A\",\"ledger\":\"\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"policies\":[{\"policy\":1,\"title\":\"t\","
             "\"notice\":\"%s\",\"valid_to\":\"2027-01-01\",\"acked\":false}]}}",
             "a notice far too long for the display line");
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    snprintf(buf, sizeof(buf),
             "{\"v\":1,\"type\":\"policy\",\"dealer\":\"A\",\"ledger\":\"\",\"id\":0,"
             "\"base\":0,\"ts\":1,\"body\":{\"policies\":[{\"policy\":0,\"title\":\"t\","
             "\"notice\":\"n\",\"valid_to\":\"2027-01-01\",\"acked\":false}]}}");
    assert_int_equal(depot_msg_decode(buf, strlen(buf), &back, why, sizeof(why)), DEPOT_ERR_SCHEMA);
    assert_int_equal(depot_mem_in_use(), before);
}

static void test_depot_msg_contract_SignatureAndDocRoundTrip(void **state)
{
    size_t before = depot_mem_in_use();
    static const char sha[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    char buf[1024], why[128], *text, *doc;
    struct depot_contract_item items[1] = {{7, "Dealer agreement 2027", "", false}};
    depot_contract_doc d = {7, "A", "", 1764230000123LL, "scan-1"}, dback;
    depot_msg m, back;

    (void)state;
    strcpy(items[0].sha256, sha);
    strcpy(d.sha256, sha);
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_CONTRACT;
    strcpy(m.dealer, "A");
    m.ts = 1;
    m.body.contract.items = items;
    m.body.contract.n_items = 1;
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_CONTRACT), "down/contract");
    assert_false(depot_msg_is_stream(DEPOT_MSG_CONTRACT));
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.body.contract.n_items, 1);
    assert_int_equal(back.body.contract.items[0].contract, 7);
    assert_string_equal(back.body.contract.items[0].sha256, sha);
    assert_false(back.body.contract.items[0].signed_);
    depot_msg_clear(&back);
    depot_free(text);
    m.body.contract.n_items = DEPOT_CONTRACTS_MAX + 1;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);
    items[0].sha256[3] = 'F'; /* upper case: not the hex Depot writes */
    m.body.contract.n_items = 1;
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_ERR_INVAL);

    /* the document a gateway signs, and the stream message that carries it */
    assert_int_equal(depot_contract_doc_encode(&d, &doc, NULL), DEPOT_OK);
    assert_string_equal(doc, "{\"contract\":7,\"dealer\":\"A\",\"sha256\":\""
                             "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
                             "\"signed_at\":1764230000123,\"terminal\":\"scan-1\"}");
    assert_int_equal(depot_contract_doc_decode(doc, strlen(doc), &dback, NULL, 0), DEPOT_OK);
    assert_int_equal(dback.contract, 7);
    assert_string_equal(dback.terminal, "scan-1");
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_SIGNATURE;
    strcpy(m.dealer, "A");
    strcpy(m.ledger, "0123456789abcdef0123456789abcdef");
    m.id = m.base = 5;
    m.ts = 1;
    m.body.order.doc = doc;
    m.body.order.sig = "MEUCIQ==";
    m.body.order.cert = "-----BEGIN CERTIFICATE-----";
    assert_string_equal(depot_msg_topic_leaf(DEPOT_MSG_SIGNATURE), "up/signature");
    assert_true(depot_msg_is_stream(DEPOT_MSG_SIGNATURE));
    assert_int_equal(depot_msg_encode(&m, &text, NULL), DEPOT_OK);
    assert_int_equal(depot_msg_decode(text, strlen(text), &back, NULL, 0), DEPOT_OK);
    assert_int_equal(back.type, DEPOT_MSG_SIGNATURE);
    assert_string_equal(back.body.order.doc, doc);
    depot_msg_clear(&back);
    depot_free(text);
    depot_free(doc);

    snprintf(buf, sizeof(buf),
             "{\"contract\":7,\"dealer\":\"A\",\"sha256\":\"%.63sg\","
             "\"signed_at\":1,\"terminal\":\"scan-1\"}",
             sha);
    assert_int_equal(depot_contract_doc_decode(buf, strlen(buf), &dback, why, sizeof(why)),
                     DEPOT_ERR_SCHEMA);
    assert_string_equal(why, "doc.sha256: not 64 lowercase hex");
    snprintf(buf, sizeof(buf),
             "{\"contract\":0,\"dealer\":\"A\",\"sha256\":\"%s\","
             "\"signed_at\":1,\"terminal\":\"scan-1\"}",
             sha);
    assert_int_equal(depot_contract_doc_decode(buf, strlen(buf), &dback, NULL, 0),
                     DEPOT_ERR_SCHEMA);
    snprintf(buf, sizeof(buf),
             "{\"contract\":7,\"dealer\":\"A\",\"sha256\":\"%s\","
             "\"signed_at\":1,\"terminal\":\"scan-1\",\"extra\":1}",
             sha);
    assert_int_equal(depot_contract_doc_decode(buf, strlen(buf), &dback, NULL, 0),
                     DEPOT_ERR_SCHEMA);
    assert_int_equal(depot_mem_in_use(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depot_json_parse_RefusesNulInStrings),
        cmocka_unit_test(test_depot_msg_encode_StockRoundTrips),
        cmocka_unit_test(test_depot_msg_encode_WritesWholeNumbersAsDigits),
        cmocka_unit_test(test_depot_msg_encode_SnapshotRoundTrips),
        cmocka_unit_test(test_depot_msg_encode_StateAckEventRoundTrip),
        cmocka_unit_test(test_depot_msg_encode_RefusesWhatDecoderWouldReject),
        cmocka_unit_test(test_depot_msg_decode_AcceptsGood),
        cmocka_unit_test(test_depot_msg_decode_RejectsEachDefectWithReason),
        cmocka_unit_test(test_depot_msg_decode_NotNulTerminated),
        cmocka_unit_test(test_depot_msg_decode_RefusesImplausibleCountsWithReason),
        cmocka_unit_test(test_depot_msg_decode_RefusesTrailingDataAfterTheDocument),
        cmocka_unit_test(test_depot_topic_build_AndParse),
        cmocka_unit_test(test_depot_msg_is_stream_OnlyStreamTypes),
        cmocka_unit_test(test_depot_msg_encode_OrderDecisionCatalogRoundTrip),
        cmocka_unit_test(test_depot_order_doc_encode_RoundTripsExactly),
        cmocka_unit_test(test_depot_order_doc_decode_RejectsBadLines),
        cmocka_unit_test(test_depot_barcode_valid_PrintableNoSpace),
        cmocka_unit_test(test_depot_msg_encode_MovementsAlertRankingRoundTrip),
        cmocka_unit_test(test_depot_msg_decode_MovementsChainAllOrNothing),
        cmocka_unit_test(test_depot_msg_outbox_RoundTripAndBounds),
        cmocka_unit_test(test_depot_msg_policy_RoundTripAndBounds),
        cmocka_unit_test(test_depot_msg_contract_SignatureAndDocRoundTrip),
        cmocka_unit_test(test_depot_msg_peek_envelope_ReadsWhatDecodeRefuses),
        cmocka_unit_test(test_depot_msg_peek_envelope_RefusesBadStreamKeys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
