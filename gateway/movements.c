/*
 * movements.c - every ledger movement reaches the hub once, in up/movements
 * batches carried by the outbox.
 *
 * Owns: meta.movements_sent (the cursor: the highest movement id already in
 * a queued batch) and the batching clock (gw_movements).
 *
 * The movements table is append-only and its ids grow, so "what is still to
 * send" is exactly the rows with id > cursor. One batch is ONE ledger
 * transaction: read up to DEPOT_MOVEMENTS_MAX_ITEMS rows after the cursor in
 * id order, queue them as one outbox message, move the cursor to the last of
 * them, COMMIT. A crash before the COMMIT leaves neither the message nor the
 * moved cursor (the same rows are batched again); after it, both. From the
 * outbox on, the stream's rule applies: resent until the hub's ack covers it,
 * and the hub drops a repeated message id.
 *
 * Invariants:
 *   1. Every movement with id <= cursor is in exactly one batch ever queued;
 *      none with id > cursor is in any.
 *   2. Batches hold 1..DEPOT_MOVEMENTS_MAX_ITEMS movements in mid order and
 *      their mids never overlap (invariant 1).
 *   3. A batch is never coalesced or dropped. While the outbox is at its
 *      warning level (or full) no batch is cut: the movements wait in their
 *      table, the cursor stays, and they are batched once acks make room,
 *      so stock reports keep the room they coalesce in.
 *
 * When (gw_movements_tick, from the main loop): a batch is cut when
 * batch_min movements wait or the oldest has waited period_s (counted from
 * when this process first saw it waiting). While the link is down only full
 * batches are cut, so an outage fills the outbox with few large messages.
 */
#include "movements.h"

#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/ledger_chain.h"
#include "depot/pki.h"
#include "ledger_tx.h"

static const char sql_cursor[] = "SELECT movements_sent FROM meta";
static const char sql_rows[] = "SELECT id, ts, node, sku, kind, delta, qty_after, hash, code FROM"
                               " movements WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char sql_hash_of[] = "SELECT hash FROM movements WHERE id = ?1";
static const char sql_move_cursor[] = "UPDATE meta SET movements_sent = ?1";
static const char sql_waiting[] =
    "SELECT count(*) FROM (SELECT 1 FROM movements WHERE id > ?1 LIMIT ?2)";

void gw_movements_init(gw_movements *m, const struct gw_movements_opts *o)
{
    memset(m, 0, sizeof(*m));
    m->o = *o;
}

static depot_err read_cursor(gw_ledger *l, long long *cursor)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_cursor);
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (rc == SQLITE_ROW)
        *cursor = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? DEPOT_OK : DEPOT_ERR_DB;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

/* Up to max rows after cursor into items[]; *n gets how many. Lock held. */
static depot_err read_rows(gw_ledger *l, long long cursor, struct depot_movement_item *items,
                           size_t max, size_t *n)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_rows);
    int rc = SQLITE_ERROR;
    *n = 0;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, cursor);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct depot_movement_item *it = &items[(*n)++];
        it->mid = (uint64_t)sqlite3_column_int64(st, 0);
        it->ts = sqlite3_column_int64(st, 1);
        copy_col(it->node, sizeof(it->node), st, 2);
        copy_col(it->sku, sizeof(it->sku), st, 3);
        copy_col(it->kind, sizeof(it->kind), st, 4);
        it->delta = sqlite3_column_int64(st, 5);
        it->qty = sqlite3_column_int64(st, 6);
        copy_col(it->hash, sizeof(it->hash), st, 7);
        copy_col(it->code, sizeof(it->code), st, 8);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return gw_ledger_db_error(l, rc, "reading movements");
    return DEPOT_OK;
}

static depot_err move_cursor(gw_ledger *l, uint64_t to)
{
    sqlite3_stmt *st = gw_ledger_prepare(l, sql_move_cursor);
    depot_err e;
    if (!st)
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)to);
    e = gw_ledger_step_done(l, st, "moving the movements cursor");
    sqlite3_finalize(st);
    return e;
}

/* The chain's prev of a batch starting at mid first: the hash of first - 1, the genesis for 1. */
static depot_err hash_before(gw_ledger *l, uint64_t first, char prev[DEPOT_CHAIN_HEX + 1])
{
    sqlite3_stmt *st;
    int rc;
    snprintf(prev, DEPOT_CHAIN_HEX + 1, "%s", DEPOT_CHAIN_GENESIS);
    if (first <= 1)
        return DEPOT_OK;
    if (!(st = gw_ledger_prepare(l, sql_hash_of)))
        return DEPOT_ERR_DB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(first - 1));
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(prev, DEPOT_CHAIN_HEX + 1, st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? DEPOT_OK : gw_ledger_db_error(l, rc, "reading the chain");
}

/*
 * Signs the batch as the chain's (depot_movements_signed) with the gateway's
 * key: prev, sig and cert into b (sig and cert point into sig_buf and the
 * signer's text; the encoder copies them). Without a key the batch goes
 * without the chain, as before it.
 */
static depot_err sign_batch(gw_ledger *l, const struct gw_order_signer *os,
                            struct depot_movements_body *b, char *sig_buf, size_t sig_len)
{
    char text[512];
    const struct depot_movement_item *last = &b->items[b->n_items - 1];
    depot_err e;
    for (size_t i = 0; i < b->n_items; i++)
        if (!os || !os->signer || !os->cert_pem || !b->items[i].hash[0]) {
            for (size_t j = 0; j < b->n_items; j++)
                b->items[j].hash[0] = '\0'; /* all of the chain or none of it */
            return DEPOT_OK;
        }
    e = hash_before(l, b->items[0].mid, b->prev);
    if (e == DEPOT_OK)
        e = depot_movements_signed(gw_ledger_dealer(l), gw_ledger_id(l), b->items[0].mid, last->mid,
                                   b->prev, last->hash, text, sizeof(text));
    if (e == DEPOT_OK)
        e = pki_signer_sign_b64(os->signer, text, strlen(text), sig_buf, sig_len);
    if (e != DEPOT_OK) {
        LOG_ERROR("movements: cannot sign the batch of %llu..%llu: %s",
                  (unsigned long long)b->items[0].mid, (unsigned long long)last->mid,
                  depot_strerror(e));
        return e;
    }
    b->sig = sig_buf;
    b->cert = (char *)os->cert_pem; /* read only: the encoder copies it */
    return DEPOT_OK;
}

/* The body of the batch's transaction. Lock held, in the transaction. */
static depot_err batch_in_tx(gw_ledger *l, const struct gw_order_signer *os, struct ledger_tx *tx,
                             depot_msg *m, size_t *n, uint64_t *msg_id)
{
    char sig[PKI_SIG_B64_SIZE];
    struct depot_movements_body *b = &m->body.movements;
    long long cursor = 0;
    depot_err e;

    if (gw_ledger_tx_outbox_high(l, tx) || !gw_ledger_tx_outbox_room(l, tx))
        return DEPOT_ERR_FULL;
    e = read_cursor(l, &cursor);
    if (e == DEPOT_OK)
        e = read_rows(l, cursor, b->items, DEPOT_MOVEMENTS_MAX_ITEMS, &b->n_items);
    if (e != DEPOT_OK || b->n_items == 0)
        return e;
    e = sign_batch(l, os, b, sig, sizeof(sig));
    if (e == DEPOT_OK)
        e = gw_ledger_tx_queue(l, tx, m, msg_id);
    b->sig = b->cert = NULL; /* not owned here */
    if (e == DEPOT_OK)
        e = move_cursor(l, b->items[b->n_items - 1].mid);
    if (e == DEPOT_OK)
        *n = b->n_items;
    return e;
}

depot_err gw_movements_batch(gw_ledger *l, const struct gw_order_signer *os, size_t *n,
                             uint64_t *msg_id)
{
    struct ledger_tx tx;
    depot_msg m;
    depot_err e;

    *n = 0;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_MOVEMENTS;
    m.ts = depot_now_ms();
    m.body.movements.items =
        depot_calloc(DEPOT_MOVEMENTS_MAX_ITEMS, sizeof(*m.body.movements.items));
    if (!m.body.movements.items)
        return DEPOT_ERR_NOMEM;
    gw_ledger_lock(l);
    e = gw_ledger_tx_begin(l, &tx);
    if (e == DEPOT_OK) {
        e = batch_in_tx(l, os, &tx, &m, n, msg_id);
        e = gw_ledger_tx_finish(l, &tx, e);
    }
    gw_ledger_unlock(l);
    if (e != DEPOT_OK)
        *n = 0;
    depot_free(m.body.movements.items);
    return e;
}

/* Movements after the cursor, counted up to limit. */
static depot_err count_waiting(gw_ledger *l, long long limit, long long *waiting, long long *cursor)
{
    sqlite3_stmt *st = NULL;
    depot_err e;
    gw_ledger_lock(l);
    e = read_cursor(l, cursor);
    if (e == DEPOT_OK && !(st = gw_ledger_prepare(l, sql_waiting)))
        e = DEPOT_ERR_DB;
    if (st) {
        sqlite3_bind_int64(st, 1, *cursor);
        sqlite3_bind_int64(st, 2, limit);
        if (sqlite3_step(st) == SQLITE_ROW)
            *waiting = sqlite3_column_int64(st, 0);
        else
            e = DEPOT_ERR_DB;
        sqlite3_finalize(st);
    }
    gw_ledger_unlock(l);
    return e;
}

depot_err gw_movements_waiting(gw_ledger *l, long long *waiting, long long *cursor)
{
    return count_waiting(l, DEPOT_QTY_MAX, waiting, cursor);
}

static bool batch_due(const gw_movements *m, long long waiting, long long now_ms, bool link_up)
{
    if (waiting >= DEPOT_MOVEMENTS_MAX_ITEMS)
        return true;
    if (!link_up)
        return false;
    return waiting >= m->o.batch_min || now_ms - m->waiting_since_ms >= m->o.period_s * 1000LL;
}

depot_err gw_movements_tick(gw_movements *m, gw_ledger *l, long long now_ms, bool link_up,
                            int max_batches, int *queued)
{
    long long waiting = 0, cursor = 0;
    uint64_t id = 0;
    size_t n;
    depot_err e = DEPOT_OK;

    if (queued)
        *queued = 0;
    for (int i = 0; i < max_batches; i++) {
        e = count_waiting(l, DEPOT_MOVEMENTS_MAX_ITEMS, &waiting, &cursor);
        if (e != DEPOT_OK || waiting == 0) {
            m->waiting_since_ms = 0;
            break;
        }
        if (!m->waiting_since_ms)
            m->waiting_since_ms = now_ms;
        if (!batch_due(m, waiting, now_ms, link_up))
            break;
        e = gw_movements_batch(l, m->o.signer, &n, &id);
        if (e == DEPOT_ERR_FULL) {
            if (!m->blocked)
                LOG_WARN("movements: the outbox is at its warning level: %lld+ movements wait"
                         " in the ledger (cursor unchanged) until acks make room",
                         waiting);
            m->blocked = true;
            return DEPOT_OK;
        }
        if (e != DEPOT_OK)
            break;
        if (m->blocked)
            LOG_INFO("movements: the outbox has room again, batching resumed");
        m->blocked = false;
        m->waiting_since_ms = now_ms;
        if (queued)
            (*queued)++;
        LOG_DEBUG("movements: %zu movements queued as message %llu", n, (unsigned long long)id);
    }
    return e;
}
