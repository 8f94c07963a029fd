/*
 * orders.c - drafts, signed orders and decisions.
 *
 * Owns: the ledger tables draft_lines (node, line -> barcode, sku, qty),
 * orders (id, number, terminal, doc, sig, status, stage, reason, created,
 * msg_id, decided_at, confirm_msg_id), order_lines, and meta.next_order.
 *
 *   line scans ──▶ draft_lines[node] ──submit──▶ orders + order_lines
 *                                                  │ doc signed, up/order queued
 *                   display "ORDER n ..." ◀── down/decision (status, stage)
 *                                                  │ final: event "decided" queued
 *
 * Order status: sent -> pending (stage, any number of times) -> approved |
 * rejected. A final status never changes again; the hub repeats a decision
 * until it sees "decided", so a repeat must change nothing and queue nothing.
 *
 * Invariants:
 *   1. The signature covers exactly the bytes stored in orders.doc and sent
 *      as the message's "doc" (the document is encoded once).
 *   2. An order row, its lines, its up/order message and the cleared draft
 *      are one transaction (the scan's); so are a final status and its
 *      "decided" event.
 *   3. Order messages are never coalesced: the outbox only coalesces rows
 *      with a SKU, and orders have none. An order is refused at the terminal
 *      while the outbox is at or above its warning level, so the room left is
 *      kept for what cannot be refused.
 */
#include "orders.h"

#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"

/* ---- small SQL helpers (lock held) ---- */

static long long query_one(gw_ledger *l, const char *sql, const char *arg, long long dflt)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql);
    long long v = dflt;
    if (!st)
        return dflt;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- drafts ---- */

depot_err gw_orders_add_line_locked(gw_ledger *l, const char *node,
                                    const struct depot_catalog_item *item, long long qty,
                                    long long now_ms, struct gw_display *d, bool *refused)
{
    long long k = query_one(l, "SELECT count(*) FROM draft_lines WHERE node = ?1", node, -1);
    sqlite3_stmt *st;
    depot_err e;

    *refused = true;
    if (k < 0)
        return DEPOT_ERR_DB;
    if (qty < item->min_qty || qty > item->max_qty) {
        gw_display_set(d, DEPOT_DISPLAY_ERROR, "QTY %lld OUT OF %lld-%lld", qty, item->min_qty,
                       item->max_qty);
        return DEPOT_OK;
    }
    if (k >= DEPOT_ORDER_LINES_MAX) {
        gw_display_set(d, DEPOT_DISPLAY_ERROR, "ORDER FULL %d LINES", DEPOT_ORDER_LINES_MAX);
        return DEPOT_OK;
    }
    st = gw_ledger_prepare(l, "INSERT INTO draft_lines (node, line, barcode, sku, qty, ts)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, k + 1);
    sqlite3_bind_text(st, 3, item->barcode, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, item->sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, qty);
    sqlite3_bind_int64(st, 6, now_ms);
    e = gw_ledger_step_done(l, st, "adding an order line");
    sqlite3_finalize(st);
    if (e == DEPOT_OK) {
        *refused = false;
        gw_display_set(d, DEPOT_DISPLAY_OK, "LINE %lld %s x%lld", k + 1, item->sku, qty);
    }
    return e;
}

static depot_err read_draft(gw_ledger *l, const char *node, depot_order_doc *doc)
{
    sqlite3_stmt *st = gw_ledger_prepare(
        l, "SELECT barcode, qty FROM draft_lines WHERE node = ?1 ORDER BY line LIMIT ?2");
    int rc = SQLITE_DONE;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, DEPOT_ORDER_LINES_MAX);
    while (doc->n_lines < DEPOT_ORDER_LINES_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct depot_order_line *ln = &doc->lines[doc->n_lines++];
        snprintf(ln->barcode, sizeof(ln->barcode), "%s", (const char *)sqlite3_column_text(st, 0));
        ln->qty = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? DEPOT_OK
                                                   : gw_ledger_db_error(l, rc, "reading the draft");
}

/* ---- submitting ---- */

static depot_err insert_order(gw_ledger *l, const depot_order_doc *doc, const char *json,
                              const char *sig, uint64_t msg_id)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, "INSERT INTO orders (id, number, terminal, doc, sig,"
                                         " status, created, msg_id)"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, 'sent', ?6, ?7)");
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, doc->order, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, doc->number);
    sqlite3_bind_text(st, 3, doc->terminal, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, sig, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, doc->created);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)msg_id);
    e = gw_ledger_step_done(l, st, "storing an order");
    sqlite3_finalize(st);
    return e;
}

/* The draft becomes the order's lines; the draft and the number move on. */
static depot_err close_draft(gw_ledger *l, const depot_order_doc *doc)
{
    static const char *const sql[] = {
        "INSERT INTO order_lines (order_id, line, barcode, sku, qty)"
        " SELECT ?1, line, barcode, sku, qty FROM draft_lines WHERE node = ?2",
        "DELETE FROM draft_lines WHERE node = ?2",
        "UPDATE meta SET next_order = ?3 + 1",
    };
    depot_err e = DEPOT_OK;
    for (size_t i = 0; e == DEPOT_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
        sqlite3_stmt *st = gw_ledger_prepare(l, sql[i]);
        if (!st)
            return DEPOT_ERR_DB;
        /* each statement uses some of ?1..?3; binding an absent one is a no-op (SQLITE_RANGE) */
        sqlite3_bind_text(st, 1, doc->order, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, doc->terminal, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, doc->number);
        e = gw_ledger_step_done(l, st, "closing the draft");
        sqlite3_finalize(st);
    }
    return e;
}

/* Queue the up/order message {"doc","sig","cert"}; *msg_id gets its id. */
static depot_err queue_order(gw_ledger *l, struct ledger_tx *tx, const struct gw_order_signer *s,
                             char *json, char *sig, long long now_ms, uint64_t *msg_id)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_ORDER;
    m.ts = now_ms;
    m.body.order.doc = json;
    m.body.order.sig = sig;
    m.body.order.cert = (char *)s->cert_pem; /* read only: the encoder copies it */
    return gw_ledger_tx_queue(l, tx, &m, msg_id);
}

/* Why an order cannot be made now (display set), or NULL. */
static const char *submit_refusal(gw_ledger *l, struct ledger_tx *tx,
                                  const struct gw_order_signer *s, const depot_order_doc *doc)
{
    if (doc->n_lines == 0)
        return "NO ORDER LINES";
    if (!s->signer || !s->cert_pem)
        return "NO GATEWAY KEY - CANNOT SIGN";
    if (gw_ledger_tx_outbox_high(l, tx) || !gw_ledger_tx_outbox_room(l, tx))
        return "OUTBOX FULL - RETRY";
    return NULL;
}

static depot_err make_order(gw_ledger *l, struct ledger_tx *tx, const struct gw_order_signer *s,
                            depot_order_doc *doc, long long now_ms)
{
    char sig[PKI_SIG_B64_SIZE];
    char *json = NULL;
    size_t len;
    uint64_t msg_id = 0;
    depot_err e;

    doc->number = query_one(l, "SELECT next_order FROM meta", NULL, 1);
    snprintf(doc->order, sizeof(doc->order), "%s-%lld", gw_ledger_id(l), doc->number);
    snprintf(doc->dealer, sizeof(doc->dealer), "%s", gw_ledger_dealer(l));
    doc->created = now_ms;
    e = depot_order_doc_encode(doc, &json, &len);
    if (e == DEPOT_OK)
        e = pki_signer_sign_b64(s->signer, json, len, sig, sizeof(sig));
    if (e == DEPOT_OK)
        e = queue_order(l, tx, s, json, sig, now_ms, &msg_id);
    if (e == DEPOT_OK)
        e = insert_order(l, doc, json, sig, msg_id);
    if (e == DEPOT_OK)
        e = close_draft(l, doc);
    if (e == DEPOT_OK)
        LOG_INFO("order %lld (%s) from %s: %zu lines, message %llu", doc->number, doc->order,
                 doc->terminal, doc->n_lines, (unsigned long long)msg_id);
    depot_free(json);
    return e;
}

depot_err gw_orders_submit_locked(gw_ledger *l, struct ledger_tx *tx,
                                  const struct gw_order_signer *s, const char *node,
                                  long long now_ms, struct gw_display *d, bool *refused)
{
    depot_order_doc *doc = depot_calloc(1, sizeof(*doc));
    const char *why;
    depot_err e;

    *refused = true;
    if (!doc)
        return DEPOT_ERR_NOMEM;
    snprintf(doc->terminal, sizeof(doc->terminal), "%s", node);
    e = read_draft(l, node, doc);
    why = e == DEPOT_OK ? submit_refusal(l, tx, s, doc) : NULL;
    if (why) {
        gw_display_set(d, DEPOT_DISPLAY_ERROR, "%s", why);
        LOG_WARN("terminal %s: order refused: %s (%zu lines kept)", node, why, doc->n_lines);
    } else if (e == DEPOT_OK) {
        e = make_order(l, tx, s, doc, now_ms);
        if (e == DEPOT_OK) {
            *refused = false;
            gw_display_set(d, DEPOT_DISPLAY_INFO, "ORDER %lld SENT", doc->number);
        }
    }
    depot_free(doc);
    return e;
}

/* ---- decisions ---- */

struct order_row {
    char terminal[DEPOT_NODE_MAX + 1];
    long long number;
    char status[DEPOT_STATUS_MAX + 1];
    char stage[DEPOT_STAGE_MAX + 1];
};

static depot_err order_read(gw_ledger *l, const char *id, struct order_row *o)
{
    sqlite3_stmt *st =
        gw_ledger_prepare(l, "SELECT terminal, number, status, stage FROM orders WHERE id = ?1");
    depot_err e = DEPOT_ERR_NOTFOUND;
    int rc;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(o->terminal, sizeof(o->terminal), "%s", (const char *)sqlite3_column_text(st, 0));
        o->number = sqlite3_column_int64(st, 1);
        snprintf(o->status, sizeof(o->status), "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(o->stage, sizeof(o->stage), "%s", (const char *)sqlite3_column_text(st, 3));
        e = DEPOT_OK;
    } else if (rc != SQLITE_DONE) {
        e = gw_ledger_db_error(l, rc, "reading an order");
    }
    sqlite3_finalize(st);
    return e;
}

static bool is_final(const char *status)
{
    return !strcmp(status, "approved") || !strcmp(status, "rejected");
}

/* A repeat, or a decision arriving after a final one: nothing to write. */
static bool decision_is_repeat(const struct order_row *o, const struct depot_decision_body *b)
{
    if (is_final(o->status)) {
        if (strcmp(o->status, b->status) != 0)
            LOG_WARN("order %s is %s already: decision %s ignored", b->order, o->status, b->status);
        return true;
    }
    return !strcmp(o->status, b->status) && !strcmp(o->stage, b->stage);
}

static depot_err queue_decided(gw_ledger *l, struct ledger_tx *tx, const struct order_row *o,
                               const char *id, uint64_t *msg_id)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = depot_now_ms();
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", o->terminal);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "decided");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", id);
    m.body.event.count = o->number;
    return gw_ledger_tx_queue(l, tx, &m, msg_id);
}

static depot_err order_update(gw_ledger *l, const struct depot_decision_body *b, uint64_t confirm)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, "UPDATE orders SET status = ?2, stage = ?3, reason = ?4,"
                                         " decided_at = ?5, confirm_msg_id = ?6 WHERE id = ?1");
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_text(st, 1, b->order, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, b->stage, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, b->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, depot_now_ms());
    if (confirm)
        sqlite3_bind_int64(st, 6, (sqlite3_int64)confirm);
    e = gw_ledger_step_done(l, st, "storing a decision");
    sqlite3_finalize(st);
    return e;
}

static void decision_display(const struct depot_decision_body *b, long long number,
                             struct gw_display *d)
{
    if (!strcmp(b->status, "approved"))
        gw_display_set(d, DEPOT_DISPLAY_OK, "ORDER %lld APPROVED", number);
    else if (!strcmp(b->status, "rejected"))
        gw_display_set(d, DEPOT_DISPLAY_ERROR, "ORDER %lld REJECTED %s", number, b->reason);
    else
        gw_display_set(d, DEPOT_DISPLAY_INFO, "ORDER %lld WAITING %s", number, b->stage);
}

static depot_err decide_locked(gw_ledger *l, const struct depot_decision_body *b,
                               struct gw_decided *r)
{
    struct order_row o;
    struct ledger_tx tx;
    uint64_t confirm = 0;
    depot_err e = gw_ledger_tx_begin(l, &tx);
    if (e != DEPOT_OK)
        return e;
    e = order_read(l, b->order, &o);
    if (e == DEPOT_OK && o.number != b->number)
        e = DEPOT_ERR_INVAL;
    if (e == DEPOT_OK && !decision_is_repeat(&o, b)) {
        if (is_final(b->status))
            e = queue_decided(l, &tx, &o, b->order, &confirm);
        if (e == DEPOT_OK)
            e = order_update(l, b, confirm);
        r->changed = e == DEPOT_OK;
    }
    e = gw_ledger_tx_finish(l, &tx, e);
    if (e == DEPOT_OK) {
        snprintf(r->terminal, sizeof(r->terminal), "%s", o.terminal);
        r->number = o.number;
        decision_display(b, o.number, &r->display);
    } else {
        r->changed = false;
    }
    return e;
}

depot_err gw_orders_decide(gw_ledger *l, const depot_msg *m, struct gw_decided *r)
{
    depot_err e;
    memset(r, 0, sizeof(*r));
    if (m->type != DEPOT_MSG_DECISION)
        return DEPOT_ERR_INVAL;
    gw_ledger_lock(l);
    e = decide_locked(l, &m->body.decision, r);
    gw_ledger_unlock(l);
    return e;
}
