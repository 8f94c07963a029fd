/*
 * Unit tests of the scanner side of the gateway: gateway/scanner.c (scans
 * exactly once and their effects), orders.c (drafts, signed orders,
 * decisions), catalog.c, display.c. Real SQLite files in a temporary folder;
 * the gateway's key and certificate are made with the pki functions.
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
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "depot/pki.h"
#include "display.h"
#include "gw_test_util.h"
#include "ledger.h"
#include "orders.h"
#include "downlink.h"
#include "terminal.h"
#include "movements.h"
#include "chain.h"

#define BC_BOLT "4006381333931"
#define BC_NUT "4006381333948"

struct fixture {
    struct gw_test_fixture gw;
    char key[128], crt[128]; /* in gw.dir */
    gw_terminal *t;
    uint32_t seq;
};

static struct fixture *fx(void **state)
{
    return *state;
}

static void put_catalog(gw_ledger *l, long long version)
{
    struct depot_catalog_item items[2] = {{"BOLT-M8", BC_BOLT, 1, 500, ""},
                                          {"NUT-M8", BC_NUT, 10, 20, "NUT-SN-"}};
    struct depot_catalog_body c = {version, 2, items};
    bool applied;
    assert_int_equal(gw_catalog_replace(l, &c, &applied), DEPOT_OK);
    assert_true(applied);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    depot_log_init("gw_terminal_test", DEPOT_LOG_ERROR + 1);
    if (!f || gw_test_fixture_init(&f->gw, "gw_terminal_test", true) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->key, sizeof(f->key), "%s/gateway.key", f->gw.dir);
    snprintf(f->crt, sizeof(f->crt), "%s/gateway.crt", f->gw.dir);
    if (pki_key_generate(f->key) != DEPOT_OK || pki_ca_create(f->key, f->crt, NULL, 30) != DEPOT_OK)
        return -1;
    if (gw_terminal_new(f->gw.ledger, f->key, f->crt, &f->t) != DEPOT_OK)
        return -1;
    put_catalog(f->gw.ledger, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc;
    gw_terminal_free(f->t);
    rc = gw_test_fixture_fini(&f->gw);
    free(f);
    return rc;
}

/* Apply a new scan (next seq of epoch 1); returns the display text. */
static const char *scan(struct fixture *f, int type, const char *barcode, long long qty,
                        struct gw_display *d)
{
    struct gw_scan s = {1, ++f->seq, type, qty, ""};
    bool dup;
    snprintf(s.barcode, sizeof(s.barcode), "%s", barcode);
    assert_int_equal(gw_terminal_scan(f->t, "scan-a", &s, 1000 + f->seq, d, &dup), DEPOT_OK);
    assert_false(dup);
    return d->text;
}

/* The last outbox entry, decoded. */
static void last_msg(gw_ledger *l, depot_msg *m)
{
    struct gw_outbox_entry e[64];
    size_t n;
    char reason[128];
    assert_int_equal(gw_ledger_outbox_read(l, 0, 64, e, &n), DEPOT_OK);
    assert_true(n > 0);
    assert_int_equal(depot_msg_decode(e[n - 1].payload, e[n - 1].len, m, reason, sizeof(reason)),
                     DEPOT_OK);
    gw_ledger_entries_clear(e, n);
}

static void test_gw_scan_parse_DecodesTheHeadRegisters(void **state)
{
    uint16_t h[DEPOT_IR_SCAN_HEAD_COUNT] = {0};
    struct gw_scan s;
    (void)state;
    assert_false(gw_scan_parse(h, &s));
    h[DEPOT_SCAN_OFF_EPOCH] = 7;
    h[DEPOT_SCAN_OFF_SEQ] = 1;
    h[DEPOT_SCAN_OFF_SEQ + 1] = 2;
    h[DEPOT_SCAN_OFF_TYPE] = DEPOT_SCAN_PICK;
    h[DEPOT_SCAN_OFF_QTY] = 0xFFFF;
    h[DEPOT_SCAN_OFF_QTY + 1] = 0xFFFD;
    h[DEPOT_SCAN_OFF_LEN] = 3;
    h[DEPOT_SCAN_OFF_BARCODE] = 'A' << 8 | 'B';
    h[DEPOT_SCAN_OFF_BARCODE + 1] = 'C' << 8;
    assert_true(gw_scan_parse(h, &s));
    assert_int_equal(s.epoch, 7);
    assert_int_equal(s.seq, 0x10002);
    assert_int_equal(s.type, DEPOT_SCAN_PICK);
    assert_int_equal(s.qty, -3);
    assert_string_equal(s.barcode, "ABC");
}

static void test_gw_display_set_CutsAt40AndKeepsAscii(void **state)
{
    struct gw_display d;
    uint16_t regs[21];
    (void)state;
    gw_display_set(&d, DEPOT_DISPLAY_ERROR, "ORDER %d REJECTED %s", 17,
                   "over credit limit by a very long way indeed \xc3\xa9");
    assert_int_equal(strlen(d.text), 40);
    assert_string_equal(d.text, "ORDER 17 REJECTED over credit limit by a");
    gw_display_set(&d, DEPOT_DISPLAY_OK, "A\xc3");
    assert_string_equal(d.text, "A?");
    gw_display_registers(&d, regs);
    assert_int_equal(regs[0], DEPOT_DISPLAY_OK);
    assert_int_equal(regs[1], 'A' << 8 | '?');
    assert_int_equal(regs[2], 0);
}

static void test_gw_terminal_scan_SameEventTwiceAppliesOnce(void **state)
{
    struct fixture *f = fx(state);
    struct gw_scan s = {3, 9, DEPOT_SCAN_RECEIVE, 5, BC_BOLT};
    struct gw_display d1, d2;
    long long qty;
    bool dup;
    assert_int_equal(gw_terminal_scan(f->t, "scan-a", &s, 1000, &d1, &dup), DEPOT_OK);
    assert_false(dup);
    /* the gateway stopped before the ack: the node offers the same head again */
    assert_int_equal(gw_terminal_scan(f->t, "scan-a", &s, 2000, &d2, &dup), DEPOT_OK);
    assert_true(dup);
    assert_string_equal(d2.text, d1.text);
    assert_int_equal(d2.code, d1.code);
    assert_int_equal(gw_ledger_stock_get(f->gw.ledger, "BOLT-M8", &qty), DEPOT_OK);
    assert_int_equal(qty, 5);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans"), 1);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 1);
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), 1);
    /* the same seq of another epoch, or of another terminal, is another scan */
    s.epoch = 4;
    assert_int_equal(gw_terminal_scan(f->t, "scan-a", &s, 3000, &d2, &dup), DEPOT_OK);
    assert_false(dup);
    assert_int_equal(gw_terminal_scan(f->t, "scan-b", &s, 3000, &d2, &dup), DEPOT_OK);
    assert_false(dup);
    assert_int_equal(gw_ledger_stock_get(f->gw.ledger, "BOLT-M8", &qty), DEPOT_OK);
    assert_int_equal(qty, 15);
}

static void test_gw_terminal_scan_ReceivePickCountMoveStock(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    long long qty;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 12, &d), "IN BOLT-M8 +12");
    assert_int_equal(d.code, DEPOT_DISPLAY_OK);
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, BC_BOLT, 5, &d), "OUT BOLT-M8 -5");
    assert_int_equal(d.code, DEPOT_DISPLAY_OK);
    last_msg(f->gw.ledger, &m);
    assert_int_equal(m.type, DEPOT_MSG_STOCK);
    assert_string_equal(m.body.stock.sku, "BOLT-M8");
    assert_string_equal(m.body.stock.node, "scan-a");
    assert_int_equal(m.body.stock.qty, 7);
    assert_int_equal(m.body.stock.delta, -5);
    assert_string_equal(scan(f, DEPOT_SCAN_COUNT, BC_BOLT, 9, &d), "COUNT BOLT-M8 9");
    assert_int_equal(gw_ledger_stock_get(f->gw.ledger, "BOLT-M8", &qty), DEPOT_OK);
    assert_int_equal(qty, 9);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT delta FROM movements WHERE kind = 'count'"),
                     2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT delta FROM movements WHERE kind = 'pick'"),
                     -5);
    assert_int_equal(
        gw_test_sql_int(f->gw.db, "SELECT delta FROM movements WHERE kind = 'receive'"), 12);
    /* picking more than the ledger holds is refused, nothing moves */
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, BC_BOLT, 10, &d), "PICK 10 EXCEEDS STOCK 9");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 3);
    assert_int_equal(
        gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans WHERE outcome = 'refused'"), 1);
}

static void test_gw_terminal_scan_PickAboveStockRefusedCountedAndReported(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    char reason[64];
    long long qty;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 110, &d), "IN BOLT-M8 +110");
    /* one pick of 10^9 against 110: refused, never written (no movement, no sale) */
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, BC_BOLT, 1000000000, &d),
                        "PICK 1000000000 EXCEEDS STOCK 110");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    assert_int_equal(gw_ledger_stock_get(f->gw.ledger, "BOLT-M8", &qty), DEPOT_OK);
    assert_int_equal(qty, 110);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 1);
    gw_test_sql_text(f->gw.db, "SELECT reason FROM scans WHERE outcome = 'refused'", reason,
                     sizeof(reason));
    assert_string_equal(reason, "pick_exceeds_stock");
    last_msg(f->gw.ledger, &m);
    assert_int_equal(m.type, DEPOT_MSG_EVENT);
    assert_string_equal(m.body.event.node, "scan-a");
    assert_string_equal(m.body.event.event, "scan_refused");
    assert_string_equal(m.body.event.reason, "pick_exceeds_stock");
    assert_int_equal(m.body.event.count, 1000000000);
}

static void test_gw_terminal_scan_ImplausibleQuantitiesNeverWritten(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    long long qty;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 110, &d), "IN BOLT-M8 +110");
    assert_string_equal(scan(f, DEPOT_SCAN_COUNT, BC_BOLT, -5, &d), "BAD QTY -5");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, BC_BOLT, 0, &d), "BAD QTY 0");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 2147483647, &d), "BAD QTY 2147483647");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, DEPOT_QTY_MAX, &d),
                        "STOCK WOULD EXCEED 1000000000");
    assert_int_equal(gw_ledger_stock_get(f->gw.ledger, "BOLT-M8", &qty), DEPOT_OK);
    assert_int_equal(qty, 110);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 1);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans WHERE outcome ="
                                               " 'refused' AND reason = 'bad_qty'"),
                     3);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans WHERE outcome ="
                                               " 'refused' AND reason = 'stock_over_max'"),
                     1);
    /* each reported with its reason; a negative quantity is reported as 0 */
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE topic ="
                                               " 'up/event' AND payload LIKE '%scan_refused%'"),
                     4);
    last_msg(f->gw.ledger, &m);
    assert_string_equal(m.body.event.reason, "stock_over_max");
    /* a count of zero is a real count, not a refusal */
    assert_string_equal(scan(f, DEPOT_SCAN_COUNT, BC_BOLT, 0, &d), "COUNT BOLT-M8 0");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT min(qty) FROM stock"), 0);
}

static void test_gw_terminal_scan_UnknownBarcodeRefusedAndReported(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "9999999999999", 4, &d),
                        "UNKNOWN 9999999999999");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 0);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM stock"), 0);
    assert_int_equal(
        gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans WHERE outcome = 'refused'"), 1);
    last_msg(f->gw.ledger, &m);
    assert_int_equal(m.type, DEPOT_MSG_EVENT);
    assert_string_equal(m.body.event.node, "scan-a");
    assert_string_equal(m.body.event.event, "unknown_barcode");
    assert_string_equal(m.body.event.reason, "9999999999999");
    assert_int_equal(m.body.event.count, 4);
    assert_string_equal(scan(f, DEPOT_SCAN_LINE, "12345", 1, &d), "UNKNOWN 12345");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM draft_lines"), 0);
}

static void test_gw_terminal_scan_LineQtyOutsideLimitsRefused(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    assert_string_equal(scan(f, DEPOT_SCAN_LINE, BC_NUT, 25, &d), "QTY 25 OUT OF 10-20");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    assert_string_equal(scan(f, DEPOT_SCAN_LINE, BC_NUT, 10, &d), "LINE 1 NUT-M8 x10");
    assert_string_equal(scan(f, DEPOT_SCAN_LINE, BC_BOLT, 3, &d), "LINE 2 BOLT-M8 x3");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM draft_lines"), 2);
}

static void check_order_message(struct fixture *f, const depot_msg *m)
{
    depot_order_doc doc;
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len;
    char reason[128], *pem;
    assert_int_equal(m->type, DEPOT_MSG_ORDER);
    assert_int_equal(pki_read_file(f->crt, 8192, &pem, NULL), DEPOT_OK);
    assert_string_equal(m->body.order.cert, pem);
    assert_int_equal(
        depot_order_doc_decode(m->body.order.doc, strlen(m->body.order.doc), &doc, reason, 128),
        DEPOT_OK);
    assert_int_equal(doc.number, 1);
    assert_string_equal(doc.dealer, "D001");
    assert_string_equal(doc.terminal, "scan-a");
    assert_int_equal(strncmp(doc.order, gw_ledger_id(f->gw.ledger), DEPOT_LEDGER_HEX), 0);
    assert_string_equal(doc.order + DEPOT_LEDGER_HEX, "-1");
    assert_int_equal(doc.n_lines, 2);
    assert_string_equal(doc.lines[0].barcode, BC_NUT);
    assert_int_equal(doc.lines[0].qty, 12);
    assert_string_equal(doc.lines[1].barcode, BC_BOLT);
    assert_int_equal(doc.lines[1].qty, 40);
    assert_int_equal(pki_base64_decode(m->body.order.sig, sig, sizeof(sig), &sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(pem, m->body.order.doc, strlen(m->body.order.doc), sig, sig_len),
                     DEPOT_OK);
    assert_int_equal(pki_verify(pem, "x", 1, sig, sig_len), DEPOT_ERR_SIGNATURE);
    depot_free(pem);
}

static void test_gw_terminal_scan_SubmitMakesSignedOrder(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d), "NO ORDER LINES");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    scan(f, DEPOT_SCAN_LINE, BC_NUT, 12, &d);
    scan(f, DEPOT_SCAN_LINE, BC_BOLT, 40, &d);
    assert_string_equal(scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d), "ORDER 1 SENT");
    assert_int_equal(d.code, DEPOT_DISPLAY_INFO);
    last_msg(f->gw.ledger, &m);
    check_order_message(f, &m);
    depot_msg_clear(&m);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM draft_lines"), 0);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM order_lines"), 2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT number FROM orders WHERE status = 'sent'"),
                     1);
    /* numbers go on per ledger */
    scan(f, DEPOT_SCAN_LINE, BC_BOLT, 1, &d);
    assert_string_equal(scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d), "ORDER 2 SENT");
}

static void test_gw_terminal_scan_OutboxHighRefusesOrderKeepsDraft(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    long long n;
    uint64_t id;
    gw_terminal_free(f->t);
    gw_test_fixture_open(&f->gw, 100, 80); /* warns at 80 entries */
    assert_int_equal(gw_terminal_new(f->gw.ledger, f->key, f->crt, &f->t), DEPOT_OK);
    struct gw_scan s = {9, 1, DEPOT_SCAN_RECEIVE, 1, BC_NUT};
    bool dup;
    scan(f, DEPOT_SCAN_LINE, BC_BOLT, 2, &d);
    scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 3, &d); /* one stock message of BOLT-M8 queued */
    for (int i = 0; gw_ledger_outbox_count(f->gw.ledger) < 100; i++) {
        char sku[16];
        snprintf(sku, sizeof(sku), "S%d", i);
        assert_int_equal(gw_ledger_record_count(f->gw.ledger, "scale-a", sku, 1, 1000, &id),
                         DEPOT_OK);
    }
    assert_string_equal(scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d), "OUTBOX FULL - RETRY");
    assert_int_equal(d.code, DEPOT_DISPLAY_ERROR);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM draft_lines"), 1);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM orders"), 0);
    /* stock reports still coalesce: the new BOLT-M8 message replaces the queued one */
    n = gw_ledger_outbox_count(f->gw.ledger);
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 3, &d), "IN BOLT-M8 +3");
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), n);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE sku = 'BOLT-M8'"),
                     1);
    /* nothing to coalesce: the scan is not recorded, it waits on the node */
    assert_int_equal(gw_terminal_scan(f->t, "scan-a", &s, 5000, &d, &dup), DEPOT_ERR_FULL);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM scans WHERE epoch = 9"), 0);
    /* once the hub acknowledged enough, the same draft becomes an order */
    assert_int_equal(gw_ledger_ack(f->gw.ledger, gw_ledger_last_id(f->gw.ledger) - 5, NULL),
                     DEPOT_OK);
    assert_string_equal(scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d), "ORDER 1 SENT");
}

static void decision(depot_msg *m, const char *ledger, const char *order, long long number,
                     const char *status, const char *stage, const char *reason)
{
    memset(m, 0, sizeof(*m));
    m->type = DEPOT_MSG_DECISION;
    snprintf(m->dealer, sizeof(m->dealer), "D001");
    snprintf(m->ledger, sizeof(m->ledger), "%s", ledger);
    snprintf(m->body.decision.order, sizeof(m->body.decision.order), "%s", order);
    m->body.decision.number = number;
    snprintf(m->body.decision.status, sizeof(m->body.decision.status), "%s", status);
    snprintf(m->body.decision.stage, sizeof(m->body.decision.stage), "%s", stage);
    snprintf(m->body.decision.reason, sizeof(m->body.decision.reason), "%s", reason);
}

static long long decided_events(struct fixture *f)
{
    return gw_test_sql_int(
        f->gw.db, "SELECT count(*) FROM outbox WHERE payload LIKE '%\"event\":\"decided\"%'");
}

static void test_gw_orders_decide_AppliesOnceWithOneDecidedEvent(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    struct gw_decided r;
    char id[64];
    depot_msg m, ev;
    scan(f, DEPOT_SCAN_LINE, BC_BOLT, 2, &d);
    scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d);
    snprintf(id, sizeof(id), "%s-1", gw_ledger_id(f->gw.ledger));

    decision(&m, gw_ledger_id(f->gw.ledger), id, 1, "pending", "finance", "");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_true(r.changed);
    assert_string_equal(r.terminal, "scan-a");
    assert_string_equal(r.display.text, "ORDER 1 WAITING finance");
    assert_int_equal(r.display.code, DEPOT_DISPLAY_INFO);
    assert_int_equal(decided_events(f), 0);
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_false(r.changed);

    decision(&m, gw_ledger_id(f->gw.ledger), id, 1, "approved", "", "");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_true(r.changed);
    assert_string_equal(r.display.text, "ORDER 1 APPROVED");
    assert_int_equal(r.display.code, DEPOT_DISPLAY_OK);
    last_msg(f->gw.ledger, &ev);
    assert_string_equal(ev.body.event.event, "decided");
    assert_string_equal(ev.body.event.node, "scan-a");
    assert_string_equal(ev.body.event.reason, id);
    assert_int_equal(ev.body.event.count, 1);
    /* the hub repeats until it sees "decided": nothing changes, nothing is queued */
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_false(r.changed);
    decision(&m, gw_ledger_id(f->gw.ledger), id, 1, "rejected", "", "late");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_false(r.changed);
    assert_int_equal(decided_events(f), 1);
    assert_int_equal(
        gw_test_sql_int(f->gw.db, "SELECT count(*) FROM orders WHERE status = 'approved'"), 1);

    decision(&m, gw_ledger_id(f->gw.ledger), "ffff-9", 9, "approved", "", "");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_ERR_NOTFOUND);
    decision(&m, gw_ledger_id(f->gw.ledger), id, 2, "approved", "", "");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_ERR_INVAL);
}

static void test_gw_orders_decide_RejectionShowsItsReason(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    struct gw_decided r;
    char id[64];
    depot_msg m;
    scan(f, DEPOT_SCAN_LINE, BC_BOLT, 2, &d);
    scan(f, DEPOT_SCAN_SUBMIT, "", 0, &d);
    snprintf(id, sizeof(id), "%s-1", gw_ledger_id(f->gw.ledger));
    decision(&m, gw_ledger_id(f->gw.ledger), id, 1, "rejected", "", "over credit limit");
    assert_int_equal(gw_orders_decide(f->gw.ledger, &m, &r), DEPOT_OK);
    assert_string_equal(r.display.text, "ORDER 1 REJECTED over credit limit");
    assert_int_equal(r.display.code, DEPOT_DISPLAY_ERROR);
    assert_int_equal(decided_events(f), 1);
}

static void test_gw_catalog_replace_OnlyNewerVersionReplacesWhole(void **state)
{
    struct fixture *f = fx(state);
    struct depot_catalog_item v2[1] = {{"WASHER-M8", "5000000000001", 1, 9, ""}};
    struct depot_catalog_body c = {2, 1, v2};
    struct gw_display d;
    bool applied;
    assert_int_equal(gw_catalog_version(f->gw.ledger), 1);
    assert_int_equal(gw_catalog_replace(f->gw.ledger, &c, &applied), DEPOT_OK);
    assert_true(applied);
    assert_int_equal(gw_catalog_version(f->gw.ledger), 2);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM catalog"), 1);
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 1, &d), "UNKNOWN " BC_BOLT);
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "5000000000001", 1, &d), "IN WASHER-M8 +1");
    /* the retained copy again, or an older one: ignored */
    assert_int_equal(gw_catalog_replace(f->gw.ledger, &c, &applied), DEPOT_OK);
    assert_false(applied);
    put_catalog(f->gw.ledger, 3);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM catalog"), 2);
    c.version = 4;
    v2[0].min_qty = 10; /* min above max: refused whole, nothing changes */
    assert_int_equal(gw_catalog_replace(f->gw.ledger, &c, &applied), DEPOT_ERR_INVAL);
    assert_int_equal(gw_catalog_version(f->gw.ledger), 3);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM catalog"), 2);
}

/* One item by its own GS1 code (01 GTIN, 21 serial): the SKU of the GTIN, one unit, the code
 * kept with the movement, in its hash, and in the batch to the hub; a count or a qty of 2 by
 * a code is refused; an unknown GTIN is an unknown barcode. */
static void test_gw_terminal_scan_ItemCodeMovesOneItemAndKeepsItsCode(void **state)
{
    struct fixture *f = fx(state);
    struct gw_chain_report r;
    struct gw_display d;
    char code[80], why[200];
    size_t n = 0;
    uint64_t id = 0;
    depot_msg m;
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 5, &d), "IN BOLT-M8 +5");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE,
                             "0104006381333931"
                             "21SN-1",
                             1, &d),
                        "IN BOLT-M8 +1");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK,
                             "0104006381333931"
                             "21SN-2",
                             1, &d),
                        "OUT BOLT-M8 -1");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT qty FROM stock WHERE sku = 'BOLT-M8'"), 5);
    gw_test_sql_text(f->gw.db, "SELECT code FROM movements WHERE id = 2", code, sizeof(code));
    assert_string_equal(code, "0104006381333931"
                              "21SN-1");
    gw_test_sql_text(f->gw.db, "SELECT code FROM movements WHERE id = 1", code, sizeof(code));
    assert_string_equal(code, "");
    /* refused: a count by a code, two items by one code, a GTIN of no SKU */
    assert_string_equal(scan(f, DEPOT_SCAN_COUNT,
                             "0104006381333931"
                             "21SN-3",
                             1, &d),
                        "ITEM CODE: ONE ITEM IN OR OUT (QTY 1)");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK,
                             "0104006381333931"
                             "21SN-3",
                             2, &d),
                        "ITEM CODE: ONE ITEM IN OR OUT (QTY 2)");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK,
                             "0109999999999999"
                             "21SN-3",
                             1, &d),
                        "UNKNOWN 0109999999999999"
                        "21SN-3");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 3);
    /* the chain holds with the code in it (version 2 of the text) */
    assert_int_equal(gw_chain_verify(f->gw.db, &r, why, sizeof(why)), DEPOT_OK);
    assert_int_equal(r.movements, 3);
    assert_int_equal(r.breaks, 0);
    /* the batch to the hub carries each item's code */
    assert_int_equal(gw_movements_batch(f->gw.ledger, NULL, &n, &id), DEPOT_OK);
    assert_int_equal(n, 3);
    last_msg(f->gw.ledger, &m);
    assert_int_equal(m.type, DEPOT_MSG_MOVEMENTS);
    assert_string_equal(m.body.movements.items[0].code, "");
    assert_string_equal(m.body.movements.items[1].code, "0104006381333931"
                                                        "21SN-1");
    assert_string_equal(m.body.movements.items[2].code, "0104006381333931"
                                                        "21SN-2");
    assert_string_equal(m.body.movements.items[2].kind, "pick");
    depot_msg_clear(&m);
}

/* A plain serial code names its item by the catalog's serial_prefix: one unit of that SKU, the
 * code kept with the movement; the prefix alone, or a serial of no prefix, is unknown. */
static void test_gw_terminal_scan_PlainSerialByItsPrefix(void **state)
{
    struct fixture *f = fx(state);
    struct gw_display d;
    char code[80];
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "NUT-SN-0042", 1, &d), "IN NUT-M8 +1");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "NUT-SN-0043", 1, &d), "IN NUT-M8 +1");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, "NUT-SN-0042", 1, &d), "OUT NUT-M8 -1");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT qty FROM stock WHERE sku = 'NUT-M8'"), 1);
    gw_test_sql_text(f->gw.db, "SELECT code FROM movements WHERE id = 3", code, sizeof(code));
    assert_string_equal(code, "NUT-SN-0042");
    assert_string_equal(scan(f, DEPOT_SCAN_PICK, "NUT-SN-0043", 2, &d),
                        "ITEM CODE: ONE ITEM IN OR OUT (QTY 2)");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "NUT-SN-", 1, &d), "UNKNOWN NUT-SN-");
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, "BOLT-SN-1", 1, &d), "UNKNOWN BOLT-SN-1");
    /* a catalog barcode is still a barcode: any qty, no code */
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_NUT, 3, &d), "IN NUT-M8 +3");
    gw_test_sql_text(f->gw.db, "SELECT code FROM movements WHERE id = 4", code, sizeof(code));
    assert_string_equal(code, "");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM movements"), 4);
}

static void test_gw_ledger_open_MigratesAStockSliceLedger(void **state)
{
    struct fixture *f = fx(state);
    sqlite3 *db;
    struct gw_display d;
    gw_terminal_free(f->t);
    gw_test_fixture_close(&f->gw);
    /* make the file look like a version-1 ledger */
    assert_int_equal(sqlite3_open(f->gw.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE movements DROP COLUMN hash;"
                                  "ALTER TABLE movements DROP COLUMN code;"
                                  "DROP TABLE contracts; DROP TABLE policies;"
                                  "DROP TABLE outbox_aside;"
                                  "DROP VIEW open_alerts; DROP TABLE alerts; DROP TABLE ranking;"
                                  "ALTER TABLE meta DROP COLUMN movements_sent;"
                                  "DROP TABLE scans; DROP TABLE catalog; DROP TABLE draft_lines;"
                                  "DROP TABLE order_lines; DROP TABLE orders;"
                                  "ALTER TABLE meta DROP COLUMN next_order;"
                                  "ALTER TABLE meta DROP COLUMN catalog_version;"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    gw_test_fixture_open(&f->gw, 1000, 80);
    assert_int_equal(gw_terminal_new(f->gw.ledger, f->key, f->crt, &f->t), DEPOT_OK);
    assert_int_equal(gw_test_sql_int(f->gw.db, "PRAGMA user_version"), 9);
    put_catalog(f->gw.ledger, 1);
    assert_string_equal(scan(f, DEPOT_SCAN_RECEIVE, BC_BOLT, 1, &d), "IN BOLT-M8 +1");
}

/* The hub's list of policies stored, each reported delivered once; a confirmation at the
 * terminal acknowledges the notice shown (or the one its sign code names), reported once. */
static void test_gw_policies_StoredReportedAndConfirmedAtTheTerminal(void **state)
{
    struct fixture *f = *state;
    struct depot_policy_item items[2] = {
        {8, "Spring promotion", "SPRING -10%", "2099-03-31", false},
        {9, "Old news", "OLD", "2099-03-31", true},
    };
    struct depot_policy_body b = {2, items};
    struct gw_display d;
    char notice[DEPOT_POLICY_NOTICE_MAX + 1];
    long long id = 0;
    int fresh = 0;
    depot_msg m;

    assert_int_equal(gw_policies_store(f->gw.ledger, &b, 5000, &fresh), DEPOT_OK);
    assert_int_equal(fresh, 1); /* 9 came acknowledged already */
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE payload LIKE"
                                               " '%\"event\":\"policy_delivered\"%'"),
                     2);
    assert_int_equal(gw_policies_store(f->gw.ledger, &b, 6000, &fresh), DEPOT_OK); /* again */
    assert_int_equal(fresh, 0);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE payload LIKE"
                                               " '%\"event\":\"policy_delivered\"%'"),
                     2);
    assert_true(gw_policy_pending(f->gw.ledger, &id, notice));
    assert_int_equal(id, 8);
    assert_string_equal(notice, "SPRING -10%");

    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "X8", 0, &d), "NOT A SIGN CODE");
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "P9", 0, &d), "NOTHING TO CONFIRM");
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "", 0, &d), "POLICY 8 ACKNOWLEDGED");
    last_msg(f->gw.ledger, &m);
    assert_string_equal(m.body.event.event, "policy_ack");
    assert_string_equal(m.body.event.reason, "8");
    assert_string_equal(m.body.event.node, "scan-a");
    depot_msg_clear(&m);
    assert_false(gw_policy_pending(f->gw.ledger, &id, notice));
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "", 0, &d), "NOTHING TO CONFIRM");

    /* withdrawn at the hub: gone from the list, gone here */
    b.n_items = 0;
    assert_int_equal(gw_policies_store(f->gw.ledger, &b, 7000, &fresh), DEPOT_OK);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM policies"), 0);
}

/* The hub's contracts stored; the sign code "C<id>" scanned signs the SHA-256 the hub sent,
 * with the dealer and the terminal, with the gateway's key, once. */
static void test_gw_contracts_SignedAtTheTerminalWithTheGatewayKey(void **state)
{
    static const char sha[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    struct fixture *f = *state;
    struct depot_contract_item items[2] = {{7, "Dealer agreement 2027", "", false},
                                           {6, "Old agreement", "", true}};
    struct depot_contract_body b = {2, items};
    struct gw_display d;
    char title[DEPOT_POLICY_TITLE_MAX + 1], *pem;
    unsigned char sig[PKI_SIG_MAX];
    size_t sig_len;
    depot_contract_doc doc;
    long long id = 0, before;
    int fresh = 0;
    depot_msg m;

    strcpy(items[0].sha256, sha);
    strcpy(items[1].sha256, sha);
    assert_int_equal(gw_contracts_store(f->gw.ledger, &b, 5000, &fresh), DEPOT_OK);
    assert_int_equal(fresh, 1);
    assert_true(gw_contract_pending(f->gw.ledger, &id, title));
    assert_int_equal(id, 7);
    assert_string_equal(title, "Dealer agreement 2027");

    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "C07", 0, &d), "NOT A SIGN CODE");
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "C9", 0, &d), "NO CONTRACT 9 HERE");
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "C6", 0, &d), "CONTRACT 6 ALREADY SIGNED");
    before = gw_ledger_outbox_count(f->gw.ledger);
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "C7", 0, &d), "CONTRACT 7 SIGNED");
    assert_int_equal(d.code, DEPOT_DISPLAY_OK);
    assert_int_equal(gw_ledger_outbox_count(f->gw.ledger), before + 1);
    last_msg(f->gw.ledger, &m);
    assert_int_equal(m.type, DEPOT_MSG_SIGNATURE);
    assert_int_equal(
        depot_contract_doc_decode(m.body.order.doc, strlen(m.body.order.doc), &doc, NULL, 0),
        DEPOT_OK);
    assert_int_equal(doc.contract, 7);
    assert_string_equal(doc.dealer, "D001");
    assert_string_equal(doc.sha256, sha);
    assert_string_equal(doc.terminal, "scan-a");
    assert_int_equal(pki_read_file(f->crt, 8192, &pem, NULL), DEPOT_OK);
    assert_string_equal(m.body.order.cert, pem);
    assert_int_equal(pki_base64_decode(m.body.order.sig, sig, sizeof(sig), &sig_len), DEPOT_OK);
    assert_int_equal(pki_verify(pem, m.body.order.doc, strlen(m.body.order.doc), sig, sig_len),
                     DEPOT_OK);
    depot_free(pem);
    depot_msg_clear(&m);
    assert_false(gw_contract_pending(f->gw.ledger, &id, title));
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "C7", 0, &d), "CONTRACT 7 ALREADY SIGNED");
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM outbox WHERE topic ="
                                               " 'up/signature'"),
                     1);
    /* the hub's list again (signed now there too): still signed once here; a changed hash for
     * a known contract is not taken */
    items[0].signed_ = true;
    items[0].sha256[0] = 'a';
    assert_int_equal(gw_contracts_store(f->gw.ledger, &b, 6000, &fresh), DEPOT_OK);
    assert_int_equal(fresh, 0);
    assert_int_equal(gw_test_sql_int(f->gw.db, "SELECT count(*) FROM contracts WHERE sha256 LIKE"
                                               " '9f86%' AND signed = 1"),
                     2);
    /* a policy's OK is not a contract's signature */
    assert_string_equal(scan(f, DEPOT_SCAN_CONFIRM, "", 0, &d), "NOTHING TO CONFIRM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_scan_parse_DecodesTheHeadRegisters),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_PlainSerialByItsPrefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_ItemCodeMovesOneItemAndKeepsItsCode,
                                        setup, teardown),
        cmocka_unit_test(test_gw_display_set_CutsAt40AndKeepsAscii),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_SameEventTwiceAppliesOnce, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_ReceivePickCountMoveStock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_gw_terminal_scan_PickAboveStockRefusedCountedAndReported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_ImplausibleQuantitiesNeverWritten,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_UnknownBarcodeRefusedAndReported,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_LineQtyOutsideLimitsRefused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_SubmitMakesSignedOrder, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_terminal_scan_OutboxHighRefusesOrderKeepsDraft,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_orders_decide_AppliesOnceWithOneDecidedEvent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_orders_decide_RejectionShowsItsReason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_catalog_replace_OnlyNewerVersionReplacesWhole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_policies_StoredReportedAndConfirmedAtTheTerminal,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_gw_ledger_open_MigratesAStockSliceLedger, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gw_contracts_SignedAtTheTerminalWithTheGatewayKey,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
