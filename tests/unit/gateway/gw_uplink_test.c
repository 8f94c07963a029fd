/*
 * Unit tests of gateway/uplink.c without a broker: the stream message an
 * outbox entry goes out as (topic, JSON parsed back with cJSON, base
 * re-stamped) and the entries it refuses, the retained snapshot, and what a
 * received downlink does to the ledger (acks, decisions, catalog, alerts,
 * ranking) or why it is dropped. The client is made (gw_uplink_new) but never
 * reaches a broker: its only connection attempt goes to a closed local port.
 * Real SQLite files in a temporary folder (gw_test_util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <mosquitto.h>

#include "catalog.h"
#include "config.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "depot/pki.h"
#include "downlink.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "movements.h"
#include "terminal.h"
#include "uplink.h"

#define OTHER_LEDGER "0123456789abcdef0123456789abcdef"
#define BC_BOLT "4006381333931"

struct fixture {
    struct gw_test_fixture gw;
    gw_config *cfg;
    gw_uplink *u;
    const char *faulted; /* node_faulted is true for this node */
    int shown;           /* display calls */
    char shown_node[64], shown_text[64];
};

/* ---- the fixture: a ledger, a config without TLS, the client ---- */

static gw_config *config_from(const char *text)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    gw_config *cfg = NULL;
    char err[256];
    if (!in)
        return NULL;
    if (gw_config_load_stream(in, "gw.ini", &cfg, err, sizeof(err)) != DEPOT_OK)
        fprintf(stderr, "config: %s\n", err);
    fclose(in);
    return cfg;
}

static bool node_faulted(void *ctx, const char *node)
{
    struct fixture *f = ctx;
    return f->faulted && strcmp(node, f->faulted) == 0;
}

static depot_err display(void *ctx, const char *node, const struct gw_display *d)
{
    struct fixture *f = ctx;
    f->shown++;
    snprintf(f->shown_node, sizeof(f->shown_node), "%s", node);
    snprintf(f->shown_text, sizeof(f->shown_text), "%s", d->text);
    return DEPOT_OK;
}

static depot_err uplink_new(struct fixture *f, const gw_config *cfg, gw_uplink **out)
{
    struct gw_uplink_opts o = {cfg, f->gw.ledger, node_faulted, f, display, f};
    return gw_uplink_new(&o, out);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc;
    gw_uplink_free(f->u);
    gw_config_free(f->cfg);
    rc = gw_test_fixture_fini(&f->gw);
    free(f);
    return rc;
}

static int setup(void **state)
{
    static const char text[] = "[gateway]\ndealer = D001\n"
                               "[mqtt]\nhost = 127.0.0.1\nport = 1\n"
                               "[node:scale-a]\naddress = 127.0.0.1:1\nsku = S1\n"
                               "unit_weight_g = 100\n";
    struct fixture *f = calloc(1, sizeof(*f));
    depot_log_init("gw_uplink_test", DEPOT_LOG_ERROR + 1);
    if (!f || gw_test_fixture_init(&f->gw, "gw_uplink_test", true) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    f->cfg = config_from(text);
    if (f->cfg && uplink_new(f, f->cfg, &f->u) == DEPOT_OK)
        return 0;
    teardown(state); /* cmocka does not call it when setup fails */
    return -1;
}

/* ---- helpers ---- */

/* The outbox from id 0 (at most max entries); gw_ledger_entries_clear them. */
static size_t outbox(gw_ledger *l, struct gw_outbox_entry *e, size_t max)
{
    size_t n;
    assert_int_equal(gw_ledger_outbox_read(l, 0, max, e, &n), DEPOT_OK);
    return n;
}

/* m encoded as it would be published, parsed back; cJSON_Delete it. */
static cJSON *as_json(const depot_msg *m)
{
    char *text;
    size_t len;
    cJSON *j;
    assert_int_equal(depot_msg_encode(m, &text, &len), DEPOT_OK);
    j = cJSON_ParseWithLength(text, len);
    depot_free(text);
    assert_non_null(j);
    return j;
}

/* The number at key of object o (asserts it is one). */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* The string at key of object o (asserts it is one). */
static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static const cJSON *body(const cJSON *j)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "body");
    assert_true(cJSON_IsObject(b));
    return b;
}

/* The stream message of e as it goes out with base; its topic into topic (128 bytes). */
static cJSON *stream_json(struct fixture *f, const struct gw_outbox_entry *e, uint64_t base,
                          char *topic)
{
    depot_msg m;
    char why[DEPOT_REASON_MAX + 1] = "";
    cJSON *j;
    assert_true(gw_uplink_stream_msg("D001", gw_ledger_id(f->gw.ledger), e, base, &m, topic, 128,
                                     why, sizeof(why)));
    assert_string_equal(why, "");
    j = as_json(&m);
    depot_msg_clear(&m);
    return j;
}

/* Asserts e can never be sent for dealer and ledger_id, with why starting with want. */
static void assert_never(const struct gw_outbox_entry *e, const char *dealer, const char *ledger_id,
                         const char *want)
{
    depot_msg m;
    char topic[128] = "", why[DEPOT_REASON_MAX + 1] = "";
    assert_false(
        gw_uplink_stream_msg(dealer, ledger_id, e, 1, &m, topic, sizeof(topic), why, sizeof(why)));
    assert_int_equal(strncmp(why, want, strlen(want)), 0);
    assert_string_equal(topic, "");
}

/* A downlink envelope of type for dealer and ledger, stamped now. */
static depot_msg down_msg(depot_msg_type type, const char *dealer, const char *ledger)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = type;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", ledger);
    m.ts = depot_now_ms();
    return m;
}

/* Hand m, encoded, to the client as received on topic. */
static void receive(struct fixture *f, const char *topic, const depot_msg *m)
{
    char *text;
    size_t len;
    assert_int_equal(depot_msg_encode(m, &text, &len), DEPOT_OK);
    gw_uplink_receive(f->u, topic, text, len);
    depot_free(text);
}

static depot_msg ack(const char *dealer, const char *ledger, uint64_t upto)
{
    depot_msg m = down_msg(DEPOT_MSG_ACK, dealer, ledger);
    m.body.ack.upto = upto;
    return m;
}

static long long acked(struct fixture *f)
{
    struct gw_uplink_stats s;
    gw_uplink_stats(f->u, &s);
    return s.acked;
}

/* n stock messages of S1 at scale-a, qty 1..n at ts 1000, 2000, ... */
static void counts(struct fixture *f, int n)
{
    uint64_t id;
    for (int q = 1; q <= n; q++)
        assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-a", "S1", q, 1000LL * q, &id),
                         DEPOT_OK);
}

/* ---- the stream ---- */

static void test_gw_uplink_stream_msg_StockOnItsTopicRestampedWithTheCurrentBase(void **state)
{
    struct fixture *f = *state;
    struct gw_outbox_entry e[8];
    char topic[128];
    uint64_t base;
    cJSON *j;
    counts(f, 3);
    assert_int_equal(gw_ledger_ack(f->gw.ledger, 1, NULL), DEPOT_OK);
    gw_ledger_outbox_base(f->gw.ledger, &base);
    assert_int_equal(base, 2);
    assert_int_equal(outbox(f->gw.ledger, e, 8), 2);
    assert_non_null(strstr(e[1].payload, "\"base\":1,")); /* stored when 1 was still there */

    j = stream_json(f, &e[1], base, topic);
    assert_string_equal(topic, "depot/v1/D001/up/stock");
    assert_int_equal(num(j, "v"), DEPOT_MSG_VERSION);
    assert_string_equal(str(j, "type"), "stock");
    assert_string_equal(str(j, "dealer"), "D001");
    assert_string_equal(str(j, "ledger"), gw_ledger_id(f->gw.ledger));
    assert_int_equal(num(j, "id"), 3);
    assert_int_equal(num(j, "base"), 2);
    assert_int_equal(num(j, "ts"), 3000);
    assert_string_equal(str(body(j), "sku"), "S1");
    assert_string_equal(str(body(j), "node"), "scale-a");
    assert_int_equal(num(body(j), "qty"), 3);
    assert_int_equal(num(body(j), "delta"), 1);
    cJSON_Delete(j);
    j = stream_json(f, &e[0], 9, topic); /* a base above the id: the id itself */
    assert_int_equal(num(j, "id"), 2);
    assert_int_equal(num(j, "base"), 2);
    cJSON_Delete(j);
    gw_ledger_entries_clear(e, 2);
}

static void test_gw_uplink_stream_msg_EventAndMovementsOnTheirTopics(void **state)
{
    struct fixture *f = *state;
    struct gw_outbox_entry e[8];
    char topic[128];
    uint64_t id;
    size_t n;
    const cJSON *items;
    cJSON *j;
    counts(f, 2);
    assert_int_equal(
        gw_ledger_append_event(f->gw.ledger, "scale-a", "fault", "timeout", 3, 5000, &id),
        DEPOT_OK);
    assert_int_equal(gw_movements_batch(f->gw.ledger, NULL, &n, &id), DEPOT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(outbox(f->gw.ledger, e, 8), 4);

    j = stream_json(f, &e[2], 1, topic);
    assert_string_equal(topic, "depot/v1/D001/up/event");
    assert_string_equal(str(j, "type"), "event");
    assert_int_equal(num(j, "id"), 3);
    assert_int_equal(num(j, "base"), 1);
    assert_string_equal(str(body(j), "node"), "scale-a");
    assert_string_equal(str(body(j), "event"), "fault");
    assert_string_equal(str(body(j), "reason"), "timeout");
    assert_int_equal(num(body(j), "count"), 3);
    cJSON_Delete(j);

    j = stream_json(f, &e[3], 1, topic);
    assert_string_equal(topic, "depot/v1/D001/up/movements");
    assert_int_equal(num(j, "id"), 4);
    items = cJSON_GetObjectItemCaseSensitive(body(j), "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    assert_int_equal(num(cJSON_GetArrayItem(items, 1), "mid"), 2);
    assert_int_equal(num(cJSON_GetArrayItem(items, 1), "qty"), 2);
    assert_string_equal(str(cJSON_GetArrayItem(items, 1), "kind"), "scale");
    cJSON_Delete(j);
    gw_ledger_entries_clear(e, 4);
}

static void test_gw_uplink_stream_msg_RefusesEntriesThatCanNeverBeSent(void **state)
{
    struct fixture *f = *state;
    struct gw_outbox_entry e[8];
    const char *ledger = gw_ledger_id(f->gw.ledger);
    counts(f, 5);
    assert_int_equal(gw_test_sql_int(f->gw.db, "UPDATE outbox SET topic = 'up/bogus' WHERE id = 1"
                                               " RETURNING id"),
                     1);
    assert_int_equal(gw_test_sql_int(f->gw.db, "UPDATE outbox SET topic = 'up/snapshot'"
                                               " WHERE id = 2 RETURNING id"),
                     2);
    assert_int_equal(
        gw_test_sql_int(f->gw.db, "UPDATE outbox SET payload = 'x' WHERE id = 3 RETURNING id"), 3);
    assert_int_equal(gw_test_sql_int(f->gw.db, "UPDATE outbox SET topic = 'up/event' WHERE id = 4"
                                               " RETURNING id"),
                     4);
    assert_int_equal(outbox(f->gw.ledger, e, 8), 5);

    assert_never(&e[0], "D001", ledger, "topic is not a stream message");
    assert_never(&e[1], "D001", ledger, "topic is not a stream message");
    assert_never(&e[2], "D001", ledger, "does not decode: ");
    assert_never(&e[3], "D001", ledger, "payload type is not the row's topic");
    e[4].id = 6;
    assert_never(&e[4], "D001", ledger, "payload id is not the row's id");
    e[4].id = 5;
    assert_never(&e[4], "D002", ledger, "payload dealer is not this gateway's");
    assert_never(&e[4], "D001", OTHER_LEDGER, "payload ledger is not this ledger");
    gw_ledger_entries_clear(e, 5);
}

/* ---- the snapshot ---- */

static void test_gw_uplink_snapshot_msg_EveryStockRowWithItsNodesFault(void **state)
{
    struct fixture *f = *state;
    long long before = depot_now_ms();
    const cJSON *items, *it;
    uint64_t id;
    depot_msg m;
    cJSON *j;
    assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-b", "S2", 9, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-a", "S1", 4, 1000, &id), DEPOT_OK);
    assert_int_equal(gw_ledger_ack(f->gw.ledger, 2, NULL), DEPOT_OK); /* as_of is not the outbox */
    f->faulted = "scale-b";
    assert_int_equal(gw_uplink_snapshot_msg(f->u, &m), DEPOT_OK);
    j = as_json(&m);
    depot_msg_clear(&m);

    assert_string_equal(str(j, "type"), "snapshot");
    assert_string_equal(str(j, "dealer"), "D001");
    assert_string_equal(str(j, "ledger"), gw_ledger_id(f->gw.ledger));
    assert_int_equal(num(j, "id"), 0);
    assert_true(num(j, "ts") >= before && num(j, "ts") <= depot_now_ms());
    assert_int_equal(num(body(j), "as_of"), 2);
    items = cJSON_GetObjectItemCaseSensitive(body(j), "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    it = cJSON_GetArrayItem(items, 0);
    assert_string_equal(str(it, "sku"), "S1");
    assert_int_equal(num(it, "qty"), 4);
    assert_string_equal(str(it, "node"), "scale-a");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(it, "fault")));
    it = cJSON_GetArrayItem(items, 1);
    assert_string_equal(str(it, "sku"), "S2");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "fault")));
    cJSON_Delete(j);
}

/* ---- acknowledgements ---- */

static void test_gw_uplink_receive_AckDeletesWhatItCoversAndCountsIt(void **state)
{
    struct fixture *f = *state;
    const char *ledger = gw_ledger_id(f->gw.ledger);
    depot_msg m = ack("D001", ledger, 2);
    uint64_t base;
    counts(f, 3);
    receive(f, "depot/v1/D001/down/ack", &m);
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), 1);
    gw_ledger_outbox_base(f->gw.ledger, &base);
    assert_int_equal(base, 3);
    assert_int_equal(acked(f), 2);
    receive(f, "depot/v1/D001/down/ack", &m); /* a repeat deletes nothing more */
    assert_int_equal(acked(f), 2);
    m = ack("D001", ledger, 3);
    receive(f, "depot/v1/D001/down/ack", &m);
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), 0);
    assert_int_equal(acked(f), 3);
    /* movements are the ledger's own: never deleted by acks */
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 3);
}

/* Asserts that nothing was acknowledged: all 3 entries are still there. */
static void assert_nothing_acked(struct fixture *f)
{
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), 3);
    assert_int_equal(acked(f), 0);
}

static void test_gw_uplink_receive_AckNotForThisLedgerOrBeyondItIsDropped(void **state)
{
    struct fixture *f = *state;
    const char *ledger = gw_ledger_id(f->gw.ledger);
    depot_msg m;
    counts(f, 3);
    m = ack("D001", OTHER_LEDGER, 2); /* a replaced gateway's ledger */
    receive(f, "depot/v1/D001/down/ack", &m);
    assert_nothing_acked(f);
    m = ack("D001", ledger, 4); /* beyond the last id assigned */
    receive(f, "depot/v1/D001/down/ack", &m);
    assert_nothing_acked(f);
    m = ack("D002", ledger, 2); /* another dealer's, on its own topic */
    receive(f, "depot/v1/D002/down/ack", &m);
    assert_nothing_acked(f);
    receive(f, "depot/v1/D001/down/ack", &m); /* ... or on this dealer's */
    assert_nothing_acked(f);
    m = ack("D001", ledger, 2);
    receive(f, "depot/v1/D001/down/other", &m); /* a leaf this version does not handle */
    assert_nothing_acked(f);
    receive(f, "depot/v1/D001/down/catalog", &m); /* not the type its topic names */
    assert_nothing_acked(f);
    receive(f, "elsewhere/D001/down/ack", &m);
    assert_nothing_acked(f);
}

static void test_gw_uplink_receive_UndecodableOrEmptyPayloadIsDropped(void **state)
{
    struct fixture *f = *state;
    static const char not_json[] = "{\"v\":1,\"type\":\"ack\"";
    depot_msg m = ack("D001", gw_ledger_id(f->gw.ledger), 2);
    char *text, extra[512];
    size_t len;
    counts(f, 3);
    gw_uplink_receive(f->u, "depot/v1/D001/down/ack", not_json, strlen(not_json));
    assert_nothing_acked(f);
    gw_uplink_receive(f->u, "depot/v1/D001/down/ack", "", 0); /* a cleared retained message */
    assert_nothing_acked(f);
    assert_int_equal(depot_msg_encode(&m, &text, &len), DEPOT_OK);
    snprintf(extra, sizeof(extra), "%.*s,\"x\":1}", (int)len - 1, text); /* a key too many */
    gw_uplink_receive(f->u, "depot/v1/D001/down/ack", extra, strlen(extra));
    assert_nothing_acked(f);
    gw_uplink_receive(f->u, "depot/v1/D001/down/ack", text, len); /* without it: applied */
    assert_int_equal(acked(f), 2);
    depot_free(text);
}

/* ---- decisions ---- */

/* Make scan-a's order 1 (a key and certificate in the fixture's folder, the catalog, a line). */
static void make_order(struct fixture *f)
{
    char key[160], crt[160];
    struct depot_catalog_item items[1] = {{"BOLT-M8", BC_BOLT, 1, 500, ""}};
    struct depot_catalog_body c = {1, 1, items};
    struct gw_scan line = {1, 1, DEPOT_SCAN_LINE, 2, BC_BOLT};
    struct gw_scan submit = {1, 2, DEPOT_SCAN_SUBMIT, 0, ""};
    struct gw_display d;
    gw_terminal *t;
    bool applied, dup;
    snprintf(key, sizeof(key), "%s/gateway.key", f->gw.dir);
    snprintf(crt, sizeof(crt), "%s/gateway.crt", f->gw.dir);
    assert_int_equal(pki_key_generate(key), DEPOT_OK);
    assert_int_equal(pki_ca_create(key, crt, NULL, 30), DEPOT_OK);
    assert_int_equal(gw_catalog_replace(f->gw.ledger, &c, &applied), DEPOT_OK);
    assert_int_equal(gw_terminal_new(f->gw.ledger, key, crt, &t), DEPOT_OK);
    assert_int_equal(gw_terminal_scan(t, "scan-a", &line, 1000, &d, &dup), DEPOT_OK);
    assert_int_equal(gw_terminal_scan(t, "scan-a", &submit, 2000, &d, &dup), DEPOT_OK);
    assert_string_equal(d.text, "ORDER 1 SENT");
    gw_terminal_free(t);
}

static depot_msg decision(const char *ledger, const char *order, const char *status,
                          const char *stage)
{
    depot_msg m = down_msg(DEPOT_MSG_DECISION, "D001", ledger);
    snprintf(m.body.decision.order, sizeof(m.body.decision.order), "%s", order);
    m.body.decision.number = 1;
    snprintf(m.body.decision.status, sizeof(m.body.decision.status), "%s", status);
    snprintf(m.body.decision.stage, sizeof(m.body.decision.stage), "%s", stage);
    return m;
}

static long long order_status_is(struct fixture *f, const char *status)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM orders WHERE number = 1 AND status = '%s'",
             status);
    return gw_test_sql_int(f->gw.db, sql);
}

static void test_gw_uplink_receive_DecisionUpdatesTheOrderAndShowsItOnItsTerminal(void **state)
{
    struct fixture *f = *state;
    const char *ledger = gw_ledger_id(f->gw.ledger);
    char order[64];
    depot_msg m;
    make_order(f);
    snprintf(order, sizeof(order), "%s-1", ledger);

    m = decision(ledger, order, "pending", "finance");
    receive(f, "depot/v1/D001/down/decision", &m);
    assert_int_equal(order_status_is(f, "pending"), 1);
    assert_int_equal(f->shown, 1);
    assert_string_equal(f->shown_node, "scan-a");
    assert_string_equal(f->shown_text, "ORDER 1 WAITING finance");

    m = decision(OTHER_LEDGER, order, "approved", ""); /* not this ledger's: ignored */
    receive(f, "depot/v1/D001/down/decision", &m);
    m = decision(ledger, "ffff-9", "approved", ""); /* no such order */
    receive(f, "depot/v1/D001/down/decision", &m);
    assert_int_equal(order_status_is(f, "pending"), 1);
    assert_int_equal(f->shown, 1);

    m = decision(ledger, order, "approved", "");
    receive(f, "depot/v1/D001/down/decision", &m);
    receive(f, "depot/v1/D001/down/decision", &m); /* the hub repeats it: shown once */
    assert_int_equal(order_status_is(f, "approved"), 1);
    assert_int_equal(f->shown, 2);
    assert_string_equal(f->shown_text, "ORDER 1 APPROVED");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE payload"
                                               " LIKE '%\"event\":\"decided\"%'"),
                     1);
}

/* ---- catalog, alerts, ranking ---- */

static void test_gw_uplink_receive_NewerCatalogReplacesTheStoredOne(void **state)
{
    struct fixture *f = *state;
    struct depot_catalog_item items[2] = {{"BOLT-M8", BC_BOLT, 1, 500, ""},
                                          {"NUT-M8", "4006381333948", 10, 20, ""}};
    depot_msg m = down_msg(DEPOT_MSG_CATALOG, "D001", "");
    m.body.catalog.version = 2;
    m.body.catalog.n_items = 2;
    m.body.catalog.items = items;
    receive(f, "depot/v1/D001/down/catalog", &m);
    assert_int_equal(gw_catalog_version(f->gw.ledger), 2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM catalog"), 2);
    m.body.catalog.version = 1; /* older: kept as it is */
    m.body.catalog.n_items = 1;
    receive(f, "depot/v1/D001/down/catalog", &m);
    gw_uplink_receive(f->u, "depot/v1/D001/down/catalog", "", 0);
    assert_int_equal(gw_catalog_version(f->gw.ledger), 2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM catalog"), 2);
}

static depot_msg alert(long long id, const char *status)
{
    depot_msg m = down_msg(DEPOT_MSG_ALERT, "D001", "");
    m.body.alert.alert = id;
    snprintf(m.body.alert.kind, sizeof(m.body.alert.kind), "low_stock");
    snprintf(m.body.alert.sku, sizeof(m.body.alert.sku), "S1");
    snprintf(m.body.alert.severity, sizeof(m.body.alert.severity), "warning");
    snprintf(m.body.alert.status, sizeof(m.body.alert.status), "%s", status);
    snprintf(m.body.alert.text, sizeof(m.body.alert.text), "S1 at 3");
    snprintf(m.body.alert.action, sizeof(m.body.alert.action), "reorder 12");
    return m;
}

static void test_gw_uplink_receive_AlertsAndRankingAreKeptInTheLedger(void **state)
{
    struct fixture *f = *state;
    depot_msg m = alert(42, "open");
    receive(f, "depot/v1/D001/down/alert", &m);
    assert_int_equal(gw_alerts_open(f->gw.ledger), 1);
    m = alert(42, "resolved");
    m.ts++;
    receive(f, "depot/v1/D001/down/alert", &m);
    assert_int_equal(gw_alerts_open(f->gw.ledger), 0);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM alerts WHERE alert = 42"), 1);

    m = down_msg(DEPOT_MSG_RANKING, "D001", "");
    snprintf(m.body.ranking.period, sizeof(m.body.ranking.period), "2026-11");
    m.body.ranking.rank = 3;
    m.body.ranking.of = 12;
    m.body.ranking.score = 0.5;
    receive(f, "depot/v1/D001/down/ranking", &m);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT rank * 100 + of_n FROM ranking"
                                               " WHERE period = '2026-11'"),
                     312);
}

/* ---- the client itself ---- */

static void test_gw_uplink_step_WithoutABrokerStaysDownAndSendsNothing(void **state)
{
    struct fixture *f = *state;
    struct gw_uplink_stats s;
    counts(f, 2);
    gw_uplink_step(f->u, 0); /* its connection attempt is refused */
    gw_uplink_step(f->u, 0);
    gw_uplink_stats(f->u, &s);
    assert_false(gw_uplink_connected(f->u));
    assert_false(s.connected);
    assert_int_equal(s.sent, 0);
    assert_int_equal(s.resent, 0);
    assert_int_equal(s.acked, 0);
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), 2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox"
                                               " WHERE sent_at IS NOT NULL OR attempts > 0"),
                     0);
    gw_uplink_shutdown(f->u); /* not connected: nothing to do */
    assert_false(gw_uplink_connected(f->u));
}

static void test_gw_uplink_new_RefusesUnusableCertificateFiles(void **state)
{
    struct fixture *f = *state;
    char text[512];
    gw_config *cfg;
    gw_uplink *u = NULL;
    snprintf(text, sizeof(text),
             "[gateway]\ndealer = D001\n[mqtt]\nhost = 127.0.0.1\nport = 1\n"
             "ca = %s/ca.crt\ncert = %s/gateway.crt\nkey = %s/gateway.key\n"
             "[node:scale-a]\naddress = 127.0.0.1:1\nsku = S1\nunit_weight_g = 100\n",
             f->gw.dir, f->gw.dir, f->gw.dir);
    cfg = config_from(text);
    assert_non_null(cfg);
    assert_int_equal(uplink_new(f, cfg, &u), DEPOT_ERR_CONFIG);
    assert_null(u);
    gw_config_free(cfg);
}

#define UPLINK_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        UPLINK_TEST(test_gw_uplink_stream_msg_StockOnItsTopicRestampedWithTheCurrentBase),
        UPLINK_TEST(test_gw_uplink_stream_msg_EventAndMovementsOnTheirTopics),
        UPLINK_TEST(test_gw_uplink_stream_msg_RefusesEntriesThatCanNeverBeSent),
        UPLINK_TEST(test_gw_uplink_snapshot_msg_EveryStockRowWithItsNodesFault),
        UPLINK_TEST(test_gw_uplink_receive_AckDeletesWhatItCoversAndCountsIt),
        UPLINK_TEST(test_gw_uplink_receive_AckNotForThisLedgerOrBeyondItIsDropped),
        UPLINK_TEST(test_gw_uplink_receive_UndecodableOrEmptyPayloadIsDropped),
        UPLINK_TEST(test_gw_uplink_receive_DecisionUpdatesTheOrderAndShowsItOnItsTerminal),
        UPLINK_TEST(test_gw_uplink_receive_NewerCatalogReplacesTheStoredOne),
        UPLINK_TEST(test_gw_uplink_receive_AlertsAndRankingAreKeptInTheLedger),
        UPLINK_TEST(test_gw_uplink_step_WithoutABrokerStaysDownAndSendsNothing),
        UPLINK_TEST(test_gw_uplink_new_RefusesUnusableCertificateFiles),
    };
    int rc;
    mosquitto_lib_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    mosquitto_lib_cleanup();
    return rc;
}
