/*
 * terminal.c - scan events applied to the ledger exactly once.
 *
 * Owns: the ledger table `scans` (UNIQUE node, epoch, seq; the outcome and
 * the display each scan produced), the gateway's order signer and the PEM
 * text of its certificate (opened once, at start).
 *
 *   poller: read head ──▶ gw_terminal_scan: BEGIN
 *                          seen (node, epoch, seq)? ──yes──▶ nothing; replay its display
 *                          effect (stock | line | order | refusal) + scans row
 *                          COMMIT
 *           ack (FC 16) ◀── DEPOT_OK
 *
 * A crash before COMMIT leaves nothing and the node still holds the event; a
 * crash after COMMIT and before the ack finds the row at the next read and
 * applies nothing: no scan is lost or doubled. A refusal (unknown barcode,
 * quantity out of bounds, a pick of more than the stock, empty draft, outbox
 * too full for an order) is an outcome like any other: recorded with its
 * reason (enum gw_scan_refusal), acknowledged, shown, never guessed at, and
 * reported upstream as the event "scan_refused" (reason, qty) when the outbox
 * has room. A stock is never negative and never above DEPOT_QTY_MAX.
 *
 * Effects: receive / pick / count change the stock of the barcode's SKU with
 * the same ledger function as a scale (movement, stock, up/stock); line and
 * submit go to orders.c. An unknown barcode is reported upstream as the event
 * "unknown_barcode" when the outbox has room (else only logged: the terminal
 * shows the refusal either way, and the scan must not wait on the outbox).
 * A confirmation acknowledges a policy's notice, or, with a contract's sign
 * code "C<id>", signs that contract with the gateway's key (sign_contract).
 */
#include "terminal.h"

#include "depot/item_code.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/pki.h"
#include "ledger_tx.h"
#include "orders.h"

struct gw_terminal {
    gw_ledger *ledger;
    struct gw_order_signer os;
    pki_signer *signer;
    char *cert_pem;
};

/* One scan being applied, inside its transaction. */
struct job {
    gw_terminal *t;
    struct ledger_tx *tx;
    const char *node;
    const struct gw_scan *s;
    long long now;
    struct gw_display *d;
    bool refused;
    int reason; /* enum gw_scan_refusal, when refused */
    char code[DEPOT_ITEM_CODE_MAX + 1]; /* the item code scanned (normal form), "" if none */
};

static const char *const refusal_names[GW_REFUSED__COUNT] = {
    [GW_REFUSED_BAD_BARCODE] = "bad_barcode",
    [GW_REFUSED_UNKNOWN_BARCODE] = "unknown_barcode",
    [GW_REFUSED_BAD_QTY] = "bad_qty",
    [GW_REFUSED_PICK_EXCEEDS_STOCK] = "pick_exceeds_stock",
    [GW_REFUSED_STOCK_OVER_MAX] = "stock_over_max",
    [GW_REFUSED_BAD_SCAN_TYPE] = "bad_scan_type",
    [GW_REFUSED_ORDER] = "order_refused",
    [GW_REFUSED_OTHER] = "other",
    [GW_REFUSED_NOTHING_TO_CONFIRM] = "nothing_to_confirm",
    [GW_REFUSED_CONTRACT] = "contract_refused",
    [GW_REFUSED_ITEM_CODE] = "item_code_refused",
};

const char *gw_scan_refusal_name(int r)
{
    return r >= 0 && r < GW_REFUSED__COUNT ? refusal_names[r] : refusal_names[GW_REFUSED_OTHER];
}

bool gw_scan_parse(const uint16_t head[DEPOT_IR_SCAN_HEAD_COUNT], struct gw_scan *s)
{
    unsigned len = head[DEPOT_SCAN_OFF_LEN];
    memset(s, 0, sizeof(*s));
    s->epoch = head[DEPOT_SCAN_OFF_EPOCH];
    if (s->epoch == 0)
        return false;
    s->seq = (uint32_t)DEPOT_U32_JOIN(head[DEPOT_SCAN_OFF_SEQ], head[DEPOT_SCAN_OFF_SEQ + 1]);
    s->type = head[DEPOT_SCAN_OFF_TYPE];
    s->qty = (int32_t)DEPOT_U32_JOIN(head[DEPOT_SCAN_OFF_QTY], head[DEPOT_SCAN_OFF_QTY + 1]);
    if (len > DEPOT_BARCODE_MAX)
        len = DEPOT_BARCODE_MAX;
    for (unsigned i = 0; i < len; i++) {
        uint16_t r = head[DEPOT_SCAN_OFF_BARCODE + i / 2];
        s->barcode[i] = (char)(i % 2 ? r & 0xFF : r >> 8);
    }
    return true;
}

/* ---- the scans table ---- */

/* Run on every scan: kept prepared by the ledger (gw_ledger_stmt), never finalized here. */
static const char sql_scan_seen[] =
    "SELECT display_code, display FROM scans WHERE node = ?1 AND epoch = ?2 AND seq = ?3";
static const char sql_scan_record[] =
    "INSERT INTO scans (node, epoch, seq, type, barcode, qty, outcome, display_code, display, ts,"
    " reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/* DEPOT_OK and the stored display if (node, epoch, seq) was recorded; else DEPOT_ERR_NOTFOUND. */
static depot_err scan_seen(gw_ledger *l, const char *node, const struct gw_scan *s,
                           struct gw_display *d)
{
    sqlite3_stmt *st = gw_ledger_stmt(l, sql_scan_seen);
    depot_err e = DEPOT_ERR_NOTFOUND;
    int rc;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->epoch);
    sqlite3_bind_int64(st, 3, s->seq);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        d->code = sqlite3_column_int(st, 0);
        snprintf(d->text, sizeof(d->text), "%s", (const char *)sqlite3_column_text(st, 1));
        e = DEPOT_OK;
    } else if (rc != SQLITE_DONE) {
        e = gw_ledger_db_error(l, rc, "looking up a scan");
    }
    sqlite3_reset(st);
    return e;
}

static depot_err scan_record(const struct job *j)
{
    sqlite3_stmt *st = gw_ledger_stmt(j->t->ledger, sql_scan_record);
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, j->node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->s->epoch);
    sqlite3_bind_int64(st, 3, j->s->seq);
    sqlite3_bind_int(st, 4, j->s->type);
    sqlite3_bind_text(st, 5, j->s->barcode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, j->s->qty);
    sqlite3_bind_text(st, 7, j->refused ? "refused" : "applied", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, j->d->code);
    sqlite3_bind_text(st, 9, j->d->text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, j->now);
    sqlite3_bind_text(st, 11, j->refused ? gw_scan_refusal_name(j->reason) : "", -1, SQLITE_STATIC);
    return gw_ledger_step_done(j->t->ledger, st, "recording a scan");
}

/* ---- effects ---- */

static depot_err refuse(struct job *j, int reason, const char *fmt, long long v)
{
    gw_display_set(j->d, DEPOT_DISPLAY_ERROR, fmt, v);
    j->refused = true;
    j->reason = reason;
    return DEPOT_OK;
}

/* The event "scan_refused" {node, reason, qty} for the hub; only logged when the outbox is full. */
static depot_err report_refusal(struct job *j)
{
    depot_msg m;
    const char *why = gw_scan_refusal_name(j->reason);
    LOG_WARN("terminal %s: scan %u/%lu (%s %lld) refused: %s (\"%s\")", j->node, j->s->epoch,
             (unsigned long)j->s->seq, j->s->barcode, j->s->qty, why, j->d->text);
    if (!gw_ledger_tx_outbox_room(j->t->ledger, j->tx)) {
        LOG_WARN("terminal %s: outbox full, scan_refused event not queued", j->node);
        return DEPOT_OK;
    }
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = j->now;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", j->node);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "scan_refused");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", why);
    m.body.event.count = j->s->qty > 0 ? j->s->qty : 0;
    return gw_ledger_tx_queue(j->t->ledger, j->tx, &m, NULL);
}

static depot_err unknown_barcode(struct job *j)
{
    depot_msg m;
    gw_display_set(j->d, DEPOT_DISPLAY_ERROR, "UNKNOWN %s", j->s->barcode);
    j->refused = true;
    j->reason = GW_REFUSED_UNKNOWN_BARCODE;
    LOG_WARN("terminal %s: unknown barcode %s (qty %lld) refused", j->node, j->s->barcode,
             j->s->qty);
    if (!gw_ledger_tx_outbox_room(j->t->ledger, j->tx)) {
        LOG_WARN("terminal %s: outbox full, unknown_barcode event not queued", j->node);
        return DEPOT_OK;
    }
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = j->now;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", j->node);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "unknown_barcode");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", j->s->barcode);
    m.body.event.count = j->s->qty > 0 ? j->s->qty : 0;
    return gw_ledger_tx_queue(j->t->ledger, j->tx, &m, NULL);
}

/*
 * A GS1 item code (AI 01 GTIN, AI 21 serial: one item by its own code) scanned: the catalog
 * item whose barcode is the GTIN (EAN-13, UPC-A or EAN-8 inside it, left padded with zeros),
 * j->code its normal form. DEPOT_ERR_NOTFOUND when no catalog barcode is its GTIN.
 */
static depot_err code_item(gw_ledger *l, const char *gtin, struct depot_catalog_item *it)
{
    static const int skip[] = {0, 1, 2, 6}; /* GTIN-14, EAN-13, UPC-A, EAN-8 */
    depot_err e = DEPOT_ERR_NOTFOUND;
    for (size_t i = 0; e == DEPOT_ERR_NOTFOUND && i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strspn(gtin, "0") >= (size_t)skip[i])
            e = gw_catalog_lookup_locked(l, gtin + skip[i], it);
    return e;
}

/*
 * The catalog item of the scan's barcode: a GS1 item code by its GTIN, a catalog barcode, or a
 * plain serial code by the catalog's serial_prefix that starts it (j->code the code then).
 * DEPOT_ERR_NOTFOUND after refusing it.
 */
static depot_err known_item(struct job *j, struct depot_catalog_item *it)
{
    char gtin[DEPOT_GTIN_LEN + 1];
    depot_err e;
    if (depot_item_code_norm(j->s->barcode, j->code, gtin) && gtin[0]) {
        e = code_item(j->t->ledger, gtin, it);
        if (e == DEPOT_ERR_NOTFOUND) {
            e = unknown_barcode(j);
            return e == DEPOT_OK ? DEPOT_ERR_NOTFOUND : e;
        }
        return e;
    }
    j->code[0] = '\0'; /* a plain barcode, or a plain serial code */
    if (!depot_barcode_valid(j->s->barcode)) {
        gw_display_set(j->d, DEPOT_DISPLAY_ERROR, "BAD BARCODE");
        j->refused = true;
        j->reason = GW_REFUSED_BAD_BARCODE;
        return DEPOT_ERR_NOTFOUND;
    }
    e = gw_catalog_lookup_locked(j->t->ledger, j->s->barcode, it);
    if (e == DEPOT_ERR_NOTFOUND && depot_item_code_norm(j->s->barcode, j->code, NULL)) {
        e = gw_catalog_serial_locked(j->t->ledger, j->code, it);
        if (e != DEPOT_OK)
            j->code[0] = '\0';
    }
    if (e == DEPOT_ERR_NOTFOUND) {
        e = unknown_barcode(j);
        return e == DEPOT_OK ? DEPOT_ERR_NOTFOUND : e;
    }
    return e;
}

static const char *movement_kind(int type)
{
    return type == DEPOT_SCAN_RECEIVE ? "receive" : type == DEPOT_SCAN_PICK ? "pick" : "count";
}

static void stock_display(struct job *j, const char *sku)
{
    long long q = j->s->qty;
    if (j->s->type == DEPOT_SCAN_RECEIVE)
        gw_display_set(j->d, DEPOT_DISPLAY_OK, "IN %s +%lld", sku, q);
    else if (j->s->type == DEPOT_SCAN_PICK)
        gw_display_set(j->d, DEPOT_DISPLAY_OK, "OUT %s -%lld", sku, q);
    else
        gw_display_set(j->d, DEPOT_DISPLAY_OK, "COUNT %s %lld", sku, q);
}

/* receive / pick / count: the new stock of the item's SKU, or a refusal. */
static depot_err stock_scan(struct job *j)
{
    struct depot_catalog_item it;
    long long old = 0, next, q = j->s->qty;
    uint64_t id;
    depot_err e = known_item(j, &it);
    if (e != DEPOT_OK)
        return e == DEPOT_ERR_NOTFOUND ? DEPOT_OK : e;
    if (j->code[0] && (j->s->type == DEPOT_SCAN_COUNT || q != 1))
        return refuse(j, GW_REFUSED_ITEM_CODE, "ITEM CODE: ONE ITEM IN OR OUT (QTY %lld)", q);
    if (q < (j->s->type == DEPOT_SCAN_COUNT ? 0 : 1) || q > DEPOT_QTY_MAX)
        return refuse(j, GW_REFUSED_BAD_QTY, "BAD QTY %lld", q);
    e = gw_ledger_stock_locked(j->t->ledger, it.sku, &old);
    if (e != DEPOT_OK && e != DEPOT_ERR_NOTFOUND)
        return e;
    next = j->s->type == DEPOT_SCAN_RECEIVE ? old + q : j->s->type == DEPOT_SCAN_PICK ? old - q : q;
    if (next < 0) { /* never written: a stock is never negative, sales never invented */
        gw_display_set(j->d, DEPOT_DISPLAY_ERROR, "PICK %lld EXCEEDS STOCK %lld", q, old);
        j->refused = true;
        j->reason = GW_REFUSED_PICK_EXCEEDS_STOCK;
        return DEPOT_OK;
    }
    if (next > DEPOT_QTY_MAX)
        return refuse(j, GW_REFUSED_STOCK_OVER_MAX, "STOCK WOULD EXCEED %lld", DEPOT_QTY_MAX);
    e = gw_ledger_tx_stock_code(j->t->ledger, j->tx, j->node, it.sku, next,
                                movement_kind(j->s->type), j->code, j->now, &id);
    if (e == DEPOT_OK) {
        stock_display(j, it.sku);
        LOG_INFO("terminal %s: %s %s %lld: %lld -> %lld%s%s", j->node, movement_kind(j->s->type),
                 it.sku, q, old, next, j->code[0] ? " item " : "", j->code);
    }
    return e;
}

static depot_err line_scan(struct job *j)
{
    struct depot_catalog_item it;
    depot_err e = known_item(j, &it);
    if (e != DEPOT_OK)
        return e == DEPOT_ERR_NOTFOUND ? DEPOT_OK : e;
    return gw_orders_add_line_locked(j->t->ledger, j->node, &it, j->s->qty, j->now, j->d,
                                     &j->refused);
}

/*
 * A confirmation (the keypad's OK, or a scanned sign code "P<id>"): the
 * policy it names, or the oldest not acknowledged (the notice shown), is
 * acknowledged here and reported as the stream event policy_ack.
 */
static const char sql_policy_ack_pick[] =
    "SELECT policy FROM policies WHERE acked = 0 AND (?1 = 0 OR policy = ?1) ORDER BY policy"
    " LIMIT 1";
static const char sql_policy_ack[] =
    "UPDATE policies SET acked = 1, acked_at = ?2, acked_by = ?3 WHERE policy = ?1";

/*
 * A contract's sign code "C<id>" scanned: the contract the hub sent (down/contract), not
 * signed yet, is signed here. The document {contract, dealer, sha256 of the contract's
 * bytes as the hub sent it, signed_at, terminal} is signed with the gateway's key (as an
 * order) and queued as the stream message signature, in the scan's transaction.
 */
static const char sql_contract_get[] = "SELECT sha256, signed FROM contracts WHERE contract = ?1";
static const char sql_contract_signed[] =
    "UPDATE contracts SET signed = 1, signed_at = ?2, signed_by = ?3 WHERE contract = ?1";

static depot_err sign_contract(struct job *j, long long id)
{
    depot_contract_doc doc = {.contract = id, .signed_at = j->now};
    char sig[PKI_SIG_B64_SIZE], *json = NULL;
    sqlite3_stmt *st = gw_ledger_prepare(j->t->ledger, sql_contract_get);
    bool known = false, done = false;
    size_t len;
    depot_msg m;
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        known = true;
        snprintf(doc.sha256, sizeof(doc.sha256), "%s", (const char *)sqlite3_column_text(st, 0));
        done = sqlite3_column_int(st, 1) != 0;
    }
    sqlite3_finalize(st);
    if (!known)
        return refuse(j, GW_REFUSED_CONTRACT, "NO CONTRACT %lld HERE", id);
    if (done)
        return refuse(j, GW_REFUSED_CONTRACT, "CONTRACT %lld ALREADY SIGNED", id);
    if (!j->t->os.signer || !j->t->os.cert_pem)
        return refuse(j, GW_REFUSED_CONTRACT, "NO GATEWAY KEY - CANNOT SIGN", 0);
    if (!gw_ledger_tx_outbox_room(j->t->ledger, j->tx))
        return refuse(j, GW_REFUSED_CONTRACT, "OUTBOX FULL - RETRY", 0);
    snprintf(doc.dealer, sizeof(doc.dealer), "%s", gw_ledger_dealer(j->t->ledger));
    snprintf(doc.terminal, sizeof(doc.terminal), "%s", j->node);
    e = depot_contract_doc_encode(&doc, &json, &len);
    if (e == DEPOT_OK)
        e = pki_signer_sign_b64(j->t->os.signer, json, len, sig, sizeof(sig));
    if (e == DEPOT_OK) {
        memset(&m, 0, sizeof(m));
        m.type = DEPOT_MSG_SIGNATURE;
        m.ts = j->now;
        m.body.order.doc = json;
        m.body.order.sig = sig;
        m.body.order.cert = (char *)j->t->os.cert_pem; /* read only: the encoder copies it */
        e = gw_ledger_tx_queue(j->t->ledger, j->tx, &m, NULL);
    }
    depot_free(json);
    if (e == DEPOT_OK && !(st = gw_ledger_prepare(j->t->ledger, sql_contract_signed)))
        e = DEPOT_ERR_DB;
    if (e == DEPOT_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, j->now);
        sqlite3_bind_text(st, 3, j->node, -1, SQLITE_STATIC);
        e = gw_ledger_step_done(j->t->ledger, st, "signing a contract");
        sqlite3_finalize(st);
    }
    if (e != DEPOT_OK)
        return e;
    gw_display_set(j->d, DEPOT_DISPLAY_OK, "CONTRACT %lld SIGNED", id);
    LOG_INFO("terminal %s: contract %lld signed (SHA-256 %s)", j->node, id, doc.sha256);
    return DEPOT_OK;
}

static depot_err confirm_scan(struct job *j)
{
    long long want = 0, id = 0;
    char *end;
    sqlite3_stmt *st;
    depot_msg m;
    depot_err e;

    if (j->s->barcode[0] == 'C') {
        want = strtoll(j->s->barcode + 1, &end, 10);
        if (want <= 0 || *end || !(j->s->barcode[1] >= '1' && j->s->barcode[1] <= '9'))
            return refuse(j, GW_REFUSED_BAD_BARCODE, "NOT A SIGN CODE", 0);
        return sign_contract(j, want);
    }
    if (j->s->barcode[0]) {
        if (j->s->barcode[0] != 'P' || (want = strtoll(j->s->barcode + 1, &end, 10)) <= 0 || *end)
            return refuse(j, GW_REFUSED_BAD_BARCODE, "NOT A SIGN CODE", 0);
    }
    st = gw_ledger_prepare(j->t->ledger, sql_policy_ack_pick);
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, want);
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (!id)
        return refuse(j, GW_REFUSED_NOTHING_TO_CONFIRM, "NOTHING TO CONFIRM", 0);
    st = gw_ledger_prepare(j->t->ledger, sql_policy_ack);
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, j->now);
    sqlite3_bind_text(st, 3, j->node, -1, SQLITE_STATIC);
    e = gw_ledger_step_done(j->t->ledger, st, "acknowledging a policy");
    sqlite3_finalize(st);
    if (e != DEPOT_OK)
        return e;
    gw_display_set(j->d, DEPOT_DISPLAY_OK, "POLICY %lld ACKNOWLEDGED", id);
    LOG_INFO("terminal %s: policy %lld acknowledged", j->node, id);
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = j->now;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", j->node);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "policy_ack");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%lld", id);
    /* the acknowledgement must reach the hub: queued even past the outbox's warning level */
    return gw_ledger_tx_queue(j->t->ledger, j->tx, &m, NULL);
}

static depot_err effect(struct job *j)
{
    switch (j->s->type) {
    case DEPOT_SCAN_RECEIVE:
    case DEPOT_SCAN_PICK:
    case DEPOT_SCAN_COUNT:
        return stock_scan(j);
    case DEPOT_SCAN_LINE:
        return line_scan(j);
    case DEPOT_SCAN_SUBMIT:
        return gw_orders_submit_locked(j->t->ledger, j->tx, &j->t->os, j->node, j->now, j->d,
                                       &j->refused);
    case DEPOT_SCAN_CONFIRM:
        return confirm_scan(j);
    default:
        return refuse(j, GW_REFUSED_BAD_SCAN_TYPE, "BAD SCAN TYPE %lld", j->s->type);
    }
}

/* The effect, and for a refusal its reason and (unless reported already) its event. */
static depot_err effect_reported(struct job *j)
{
    depot_err e = effect(j);
    if (e != DEPOT_OK || !j->refused)
        return e;
    if (j->s->type == DEPOT_SCAN_LINE || j->s->type == DEPOT_SCAN_SUBMIT)
        if (j->reason == GW_REFUSED_OTHER)
            j->reason = GW_REFUSED_ORDER; /* orders.c said why on the display */
    if (j->reason == GW_REFUSED_UNKNOWN_BARCODE)
        return DEPOT_OK; /* its own event, unknown_barcode, is queued */
    return report_refusal(j);
}

static depot_err scan_locked(struct job *j, bool *duplicate)
{
    struct ledger_tx tx;
    depot_err e = gw_ledger_tx_begin(j->t->ledger, &tx);
    if (e != DEPOT_OK)
        return e;
    j->tx = &tx;
    e = scan_seen(j->t->ledger, j->node, j->s, j->d);
    if (e == DEPOT_OK) {
        *duplicate = true; /* recorded before the gateway stopped: apply nothing */
    } else if (e == DEPOT_ERR_NOTFOUND) {
        e = effect_reported(j);
        if (e == DEPOT_OK)
            e = scan_record(j);
    }
    return gw_ledger_tx_finish(j->t->ledger, &tx, e);
}

depot_err gw_terminal_scan(gw_terminal *t, const char *node, const struct gw_scan *s,
                           long long now_ms, struct gw_display *d, bool *duplicate)
{
    struct job j = {t, NULL, node, s, now_ms, d, false, GW_REFUSED_OTHER, ""};
    depot_err e;
    *duplicate = false;
    gw_display_set(d, DEPOT_DISPLAY_IDLE, "%s", "");
    gw_ledger_lock(t->ledger);
    e = scan_locked(&j, duplicate);
    gw_ledger_unlock(t->ledger);
    if (e != DEPOT_OK)
        LOG_ERROR("terminal %s: scan %u/%lu not recorded: %s (left on the node)", node, s->epoch,
                  (unsigned long)s->seq, depot_strerror(e));
    else if (*duplicate)
        LOG_INFO("terminal %s: scan %u/%lu was recorded before: not applied again", node, s->epoch,
                 (unsigned long)s->seq);
    return e;
}

/* ---- construction ---- */

depot_err gw_terminal_new(gw_ledger *l, const char *key_path, const char *cert_path,
                          gw_terminal **out)
{
    gw_terminal *t = depot_calloc(1, sizeof(*t));
    depot_err e = DEPOT_OK;
    if (!t)
        return DEPOT_ERR_NOMEM;
    t->ledger = l;
    if (key_path && cert_path) {
        e = pki_signer_open(&t->signer, key_path);
        if (e == DEPOT_OK)
            e = pki_read_file(cert_path, DEPOT_CERT_PEM_MAX, &t->cert_pem, NULL);
        if (e != DEPOT_OK)
            LOG_ERROR("orders: cannot use key %s / certificate %s: %s", key_path, cert_path,
                      depot_strerror(e));
    } else {
        LOG_WARN("orders: no key and certificate configured: orders will be refused");
    }
    if (e != DEPOT_OK) {
        gw_terminal_free(t);
        return e;
    }
    t->os.signer = t->signer;
    t->os.cert_pem = t->cert_pem;
    *out = t;
    return DEPOT_OK;
}

depot_err gw_terminal_reload(gw_terminal *t, const char *key_path, const char *cert_path)
{
    pki_signer *signer = NULL;
    char *pem = NULL;
    depot_err e = pki_signer_open(&signer, key_path);

    if (e == DEPOT_OK)
        e = pki_read_file(cert_path, DEPOT_CERT_PEM_MAX, &pem, NULL);
    if (e != DEPOT_OK) {
        LOG_ERROR("orders: cannot use key %s / certificate %s: %s; keeping the ones in use",
                  key_path, cert_path, depot_strerror(e));
        pki_signer_free(signer);
        return e;
    }
    gw_ledger_lock(t->ledger); /* orders are signed inside a ledger transaction */
    pki_signer_free(t->signer);
    depot_free(t->cert_pem);
    t->os.signer = t->signer = signer;
    t->os.cert_pem = t->cert_pem = pem;
    gw_ledger_unlock(t->ledger);
    LOG_INFO("orders: signing with %s (certificate %s)", key_path, cert_path);
    return DEPOT_OK;
}

const struct gw_order_signer *gw_terminal_signer(const gw_terminal *t)
{
    return &t->os;
}

void gw_terminal_free(gw_terminal *t)
{
    if (!t)
        return;
    pki_signer_free(t->signer);
    depot_free(t->cert_pem);
    depot_free(t);
}
