/*
 * The hub's store on SQLite.
 *
 * Tables (times in ms since the epoch):
 *   dealers (id PK, online, session, last_seen, first_seen)
 *   streams (dealer, ledger PK; applied_upto, applied_count, duplicates, stale_ignored)
 *   applied (dealer, ledger, msg_id PK)      the durable exactly-once key
 *   stock   (dealer, sku PK; qty, node, ledger, msg_id, updated_at, received_at)
 *   nodes   (dealer, node PK; fault, reason, since, ledger, msg_id)
 *   rejects (reason PK; count)
 *   movement_tails (dealer, ledger, sku PK; mid, qty)  the last movement of each chain
 *   (history and alerts: store/sqlite/alerts.c)
 *   (the ranking's presence log: store/sqlite/ranking.c)
 *   (the order domain's tables: store/sqlite/orders.c)
 *
 * Invariants:
 *   1. A stream's applied_upto only grows, and every id <= applied_upto was
 *      applied or skipped by the gateway's base (never to be applied).
 *   2. A stream message changes stock/nodes only in the transaction that
 *      inserts its applied row; a duplicate changes only its counter.
 *   3. A stock or node row is only replaced by a newer value: same ledger, a
 *      larger id (a snapshot counts as id as_of); another ledger, a ts not
 *      older. That makes apply order-independent.
 *   4. dealers.online follows the state with the highest session; on a tie
 *      offline wins. A dealer that never sent a state counts as online
 *      (freshness of last_seen still decides staleness).
 *   5. stock.updated_at is the time of the value's last real measurement:
 *      a stock message, a snapshot item of a healthy node, or a node's
 *      "recovered" event (its first good reading). A snapshot item of a
 *      faulted node that repeats the stored qty leaves updated_at alone, so
 *      a faulted value ages; received_at is when the hub last stored the row.
 *
 * The file is in WAL mode with a busy timeout, so several connections (API
 * threads, other hub instances on the same machine) read while one writes,
 * and synchronous=FULL: a batch is acknowledged to its gateways after its
 * commit, so the commit must be on the disk when COMMIT returns (NORMAL
 * leaves the last commits to the next checkpoint: lost in a power cut after
 * the gateways forgot them). Both are set and read back at open; a
 * connection that does not run them is refused (depot_sqlite_durable).
 * Writes begin IMMEDIATE so a writer waits for the lock up front instead of
 * failing on upgrade in the middle. Every statement is prepared once with
 * bound parameters.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/alerts.h"
#include "store/ledger.h"
#include "store/shipments.h"
#include "store/sqlite/sqlite.h"

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "depot/sqlite_durable.h"

#define BUSY_TIMEOUT_MS 10000

/*
 * What one write transaction has done to a stream and to a dealer, kept from
 * its first message of that stream or dealer to the commit, so that a batch
 * reads a stream's applied_upto once and writes its counters and each
 * dealer's last_seen once (at commit), whatever number of messages it holds.
 * Only the transaction's own connection writes meanwhile (BEGIN IMMEDIATE),
 * so what is kept here is the database's state plus the transaction's own
 * changes. Dropped at commit and at rollback.
 */
struct tx_stream {
    char key[DEPOT_DEALER_MAX + DEPOT_LEDGER_HEX + 2]; /* dealer NUL ledger, zero-filled */
    UT_hash_handle hh;
    const char *dealer, *ledger; /* into key */
    uint64_t upto;               /* applied_upto, with this transaction's messages */
    uint64_t upto0;              /* applied_upto when the transaction first read it */
    uint64_t max_id;             /* the highest id with an applied row (0: none) */
    int applied, duplicates, stale;
    bool dirty;
};

struct tx_dealer {
    char id[DEPOT_DEALER_MAX + 1];
    UT_hash_handle hh;
    long long seen;    /* the latest seen_ms of the transaction */
    long long written; /* the last_seen this transaction wrote */
};

struct sq_tx {
    bool open;
    struct tx_stream *streams;
    struct tx_dealer *dealers;
};

enum stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_TOUCH_DEALER,
    ST_STATE,
    ST_STREAM_ENSURE,
    ST_STREAM_UPTO,
    ST_APPLIED_INSERT,
    ST_APPLIED_HAS,
    ST_STREAM_UPDATE,
    ST_APPLIED_PRUNE,
    ST_STOCK_PUT,
    ST_NODE_EVENT,
    ST_NODE_SNAPSHOT,
    ST_STOCK_MEASURED,
    ST_TAIL_GET,
    ST_TAIL_PUT,
    ST_REJECT,
    ST_Q_STOCK_ALL,
    ST_Q_STOCK_DEALER,
    ST_Q_STOCK_SKU,
    ST_Q_STOCK_BOTH,
    ST_P_STOCK_ALL,
    ST_P_STOCK_DEALER,
    ST_P_STOCK_SKU,
    ST_Q_DEALERS,
    ST_Q_DEALERS_KNOWN,
    ST_Q_DEALER_HAS,
    ST_Q_STREAMS,
    ST__COUNT
};

#define STOCK_SELECT                                                                               \
    "SELECT s.dealer, s.sku, s.qty, s.node, s.updated_at, s.received_at, "                         \
    "COALESCE(d.online, 1), COALESCE(d.last_seen, 0), COALESCE(n.fault, 0), "                      \
    "COALESCE(n.reason, '') FROM stock s LEFT JOIN dealers d ON d.id = s.dealer "                  \
    "LEFT JOIN nodes n ON n.dealer = s.dealer AND n.node = s.node "

static const char *const sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_TOUCH_DEALER] = "INSERT INTO dealers(id, online, session, last_seen, first_seen) "
                        "VALUES(?1, 1, -1, ?2, ?2) ON CONFLICT(id) DO UPDATE SET "
                        "last_seen = MAX(last_seen, excluded.last_seen)",
    [ST_STATE] = "UPDATE dealers SET online = CASE WHEN ?2 > session THEN ?3 "
                 "WHEN ?2 = session THEN (online AND ?3) ELSE online END, "
                 "session = MAX(session, ?2) WHERE id = ?1",
    [ST_STREAM_ENSURE] = "INSERT INTO streams(dealer, ledger) VALUES(?1, ?2) "
                         "ON CONFLICT(dealer, ledger) DO NOTHING",
    [ST_STREAM_UPTO] = "SELECT applied_upto, (SELECT MAX(msg_id) FROM applied a WHERE "
                       "a.dealer = ?1 AND a.ledger = ?2) FROM streams WHERE dealer = ?1 "
                       "AND ledger = ?2",
    [ST_APPLIED_INSERT] = "INSERT INTO applied(dealer, ledger, msg_id) VALUES(?1, ?2, ?3) "
                          "ON CONFLICT(dealer, ledger, msg_id) DO NOTHING",
    [ST_APPLIED_HAS] = "SELECT 1 FROM applied WHERE dealer = ?1 AND ledger = ?2 AND msg_id = ?3",
    [ST_STREAM_UPDATE] = "UPDATE streams SET applied_count = applied_count + ?3, "
                         "duplicates = duplicates + ?4, stale_ignored = stale_ignored + ?5, "
                         "applied_upto = MAX(applied_upto, ?6) WHERE dealer = ?1 AND ledger = ?2",
    [ST_APPLIED_PRUNE] = "DELETE FROM applied WHERE dealer = ?1 AND ledger = ?2 AND msg_id <= ?3",
    [ST_STOCK_PUT] =
        "INSERT INTO stock(dealer, sku, qty, node, ledger, msg_id, updated_at, received_at) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(dealer, sku) DO UPDATE SET "
        "updated_at = CASE WHEN ?9 AND stock.qty = excluded.qty THEN stock.updated_at "
        "ELSE excluded.updated_at END, "
        "qty = excluded.qty, node = excluded.node, ledger = excluded.ledger, "
        "msg_id = excluded.msg_id, received_at = excluded.received_at WHERE "
        "(stock.ledger = excluded.ledger AND stock.msg_id < excluded.msg_id) OR "
        "(stock.ledger <> excluded.ledger AND stock.updated_at <= excluded.updated_at)",
    /* A fault event older than the snapshot that reported the fault first still names it. */
    [ST_NODE_EVENT] = "INSERT INTO nodes(dealer, node, fault, reason, since, ledger, msg_id) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(dealer, node) DO UPDATE SET "
                      "fault = excluded.fault, reason = excluded.reason, "
                      "since = CASE WHEN nodes.msg_id < excluded.msg_id OR "
                      "nodes.ledger <> excluded.ledger THEN excluded.since ELSE nodes.since END, "
                      "ledger = excluded.ledger, msg_id = CASE WHEN nodes.ledger = excluded.ledger "
                      "THEN max(nodes.msg_id, excluded.msg_id) ELSE excluded.msg_id END WHERE "
                      "(nodes.ledger = excluded.ledger AND nodes.msg_id < excluded.msg_id) OR "
                      "(nodes.ledger = excluded.ledger AND excluded.fault AND nodes.fault AND "
                      "nodes.reason = 'reported in snapshot') OR "
                      "(nodes.ledger <> excluded.ledger AND nodes.since <= excluded.since)",
    [ST_NODE_SNAPSHOT] =
        "INSERT INTO nodes(dealer, node, fault, reason, since, ledger, msg_id) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(dealer, node) DO UPDATE SET "
        "reason = CASE WHEN excluded.fault AND nodes.fault THEN nodes.reason "
        "ELSE excluded.reason END, "
        "since = CASE WHEN excluded.fault = nodes.fault THEN nodes.since ELSE excluded.since END, "
        "fault = excluded.fault, ledger = excluded.ledger, msg_id = excluded.msg_id WHERE "
        "(nodes.ledger = excluded.ledger AND nodes.msg_id < excluded.msg_id) OR "
        "(nodes.ledger <> excluded.ledger AND nodes.since <= excluded.since)",
    [ST_STOCK_MEASURED] = "UPDATE stock SET updated_at = ?4 WHERE dealer = ?1 AND node = ?2 "
                          "AND ledger = ?3 AND updated_at < ?4",
    [ST_TAIL_GET] = "SELECT qty FROM movement_tails WHERE dealer = ?1 AND ledger = ?2 AND sku = ?3",
    [ST_TAIL_PUT] =
        "INSERT INTO movement_tails(dealer, ledger, sku, mid, qty) "
        "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(dealer, ledger, sku) DO UPDATE SET "
        "mid = excluded.mid, qty = excluded.qty WHERE excluded.mid > movement_tails.mid",
    [ST_REJECT] = "INSERT INTO rejects(reason, count) VALUES(?1, ?2) "
                  "ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
    [ST_Q_STOCK_ALL] = STOCK_SELECT "ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_DEALER] = STOCK_SELECT "WHERE s.dealer = ?1 ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_SKU] = STOCK_SELECT "WHERE s.sku = ?2 ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_BOTH] = STOCK_SELECT "WHERE s.dealer = ?1 AND s.sku = ?2",
    /* pages: after the cursor (?3, ?4), at most ?5 rows */
    [ST_P_STOCK_ALL] = STOCK_SELECT "WHERE (s.dealer, s.sku) > (?3, ?4) "
                                    "ORDER BY s.dealer, s.sku LIMIT ?5",
    [ST_P_STOCK_DEALER] = STOCK_SELECT "WHERE s.dealer = ?1 AND (s.dealer, s.sku) > (?3, ?4) "
                                       "ORDER BY s.dealer, s.sku LIMIT ?5",
    [ST_P_STOCK_SKU] = STOCK_SELECT "WHERE s.sku = ?2 AND (s.dealer, s.sku) > (?3, ?4) "
                                    "ORDER BY s.dealer, s.sku LIMIT ?5",
    [ST_Q_DEALERS] = "SELECT id, online, session, last_seen, first_seen FROM dealers ORDER BY id",
    [ST_Q_DEALERS_KNOWN] =
        "SELECT id, online, session, last_seen, first_seen FROM dealers WHERE id > ?1 UNION ALL "
        "SELECT id, 0, -1, 0, 0 FROM dealer_profiles p WHERE id > ?1 AND NOT EXISTS "
        "(SELECT 1 FROM dealers d WHERE d.id = p.id) ORDER BY 1 LIMIT ?2",
    [ST_Q_DEALER_HAS] = "SELECT 1 FROM dealers WHERE id = ?1",
    [ST_Q_STREAMS] = "SELECT ledger, applied_upto, applied_count, duplicates, stale_ignored "
                     "FROM streams WHERE dealer = ?1 ORDER BY ledger",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS dealers(id TEXT PRIMARY KEY, online INTEGER NOT NULL, "
    " session INTEGER NOT NULL, last_seen INTEGER NOT NULL, first_seen INTEGER NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS streams(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " applied_upto INTEGER NOT NULL DEFAULT 0, applied_count INTEGER NOT NULL DEFAULT 0, "
    " duplicates INTEGER NOT NULL DEFAULT 0, stale_ignored INTEGER NOT NULL DEFAULT 0, "
    " PRIMARY KEY(dealer, ledger)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS applied(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " msg_id INTEGER NOT NULL, PRIMARY KEY(dealer, ledger, msg_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS stock(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " qty INTEGER NOT NULL, node TEXT NOT NULL, ledger TEXT NOT NULL, msg_id INTEGER NOT NULL, "
    " updated_at INTEGER NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY(dealer, sku)) "
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS stock_by_sku ON stock(sku);"
    "CREATE TABLE IF NOT EXISTS nodes(dealer TEXT NOT NULL, node TEXT NOT NULL, "
    " fault INTEGER NOT NULL, reason TEXT NOT NULL, since INTEGER NOT NULL, "
    " ledger TEXT NOT NULL, msg_id INTEGER NOT NULL, PRIMARY KEY(dealer, node)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rejects(reason TEXT PRIMARY KEY, count INTEGER NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS movement_tails(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " sku TEXT NOT NULL, mid INTEGER NOT NULL, qty INTEGER NOT NULL, "
    " PRIMARY KEY(dealer, ledger, sku)) WITHOUT ROWID;";

_Static_assert(ST__COUNT <= SQ_MAIN_STMTS, "raise SQ_MAIN_STMTS");

static sqlite3_stmt *prep(struct sqlite_store *q, enum stmt id)
{
    return hub_sqlite_ready(q->st[id]);
}

static void tx_drop(struct sqlite_store *q)
{
    struct tx_stream *t, *tt;
    struct tx_dealer *d, *dt;
    HASH_ITER(hh, q->tx->streams, t, tt)
    {
        HASH_DEL(q->tx->streams, t);
        depot_free(t);
    }
    HASH_ITER(hh, q->tx->dealers, d, dt)
    {
        HASH_DEL(q->tx->dealers, d);
        depot_free(d);
    }
    q->tx->open = false;
}

static depot_err sq_begin(hub_store *s)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = hub_sqlite_run(q, prep(q, ST_BEGIN), "begin");
    tx_drop(q);
    q->tx->open = err == DEPOT_OK;
    return err;
}

static depot_err touch_dealer(struct sqlite_store *q, const char *dealer, long long seen_ms)
{
    sqlite3_stmt *st = prep(q, ST_TOUCH_DEALER);
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, seen_ms);
    return hub_sqlite_run(q, st, "touch dealer");
}

static depot_err stream_update(struct sqlite_store *q, const struct tx_stream *t)
{
    sqlite3_stmt *st = prep(q, ST_STREAM_UPDATE);
    hub_sqlite_bind_text(st, 1, t->dealer);
    hub_sqlite_bind_text(st, 2, t->ledger);
    sqlite3_bind_int(st, 3, t->applied);
    sqlite3_bind_int(st, 4, t->duplicates);
    sqlite3_bind_int(st, 5, t->stale);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)t->upto);
    return hub_sqlite_run(q, st, "stream update");
}

/* The stream's applied rows at or below its applied_upto are no longer needed: an id at or
 * below the mark is a duplicate without them (invariant 1). */
static depot_err applied_prune(struct sqlite_store *q, const struct tx_stream *t)
{
    sqlite3_stmt *st = prep(q, ST_APPLIED_PRUNE);
    hub_sqlite_bind_text(st, 1, t->dealer);
    hub_sqlite_bind_text(st, 2, t->ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)t->upto);
    return hub_sqlite_run(q, st, "applied prune");
}

/* Writes what the transaction kept for the commit: last_seen, stream counters, and the applied
 * rows the stream's new mark covers dropped. */
static depot_err tx_flush(struct sqlite_store *q)
{
    depot_err err = DEPOT_OK;
    for (struct tx_dealer *d = q->tx->dealers; err == DEPOT_OK && d; d = d->hh.next)
        if (d->seen > d->written)
            err = touch_dealer(q, d->id, d->seen);
    for (struct tx_stream *t = q->tx->streams; err == DEPOT_OK && t; t = t->hh.next)
        if (t->dirty) {
            err = stream_update(q, t);
            if (err == DEPOT_OK && t->max_id > 0 && t->upto > t->upto0)
                err = applied_prune(q, t);
        }
    return err;
}

static depot_err sq_commit(hub_store *s)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = tx_flush(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_run(q, prep(q, ST_COMMIT), "commit");
    if (err == DEPOT_OK)
        tx_drop(q);
    return err; /* on failure the caller rolls back, which drops it */
}

static void sq_rollback(hub_store *s)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    tx_drop(q);
    if (!sqlite3_get_autocommit(q->db))
        (void)hub_sqlite_run(q, prep(q, ST_ROLLBACK), "rollback");
}

/* The dealer was heard at seen_ms: its first message of the transaction writes the row
 * at once (a new dealer exists for the rest of the transaction), later ones at commit. */
static depot_err seen_dealer(struct sqlite_store *q, const char *dealer, long long seen_ms)
{
    struct tx_dealer *d;
    size_t len = strlen(dealer);
    if (len > DEPOT_DEALER_MAX)
        return DEPOT_ERR_INVAL;
    HASH_FIND(hh, q->tx->dealers, dealer, len, d);
    if (d) {
        if (seen_ms > d->seen)
            d->seen = seen_ms;
        return DEPOT_OK;
    }
    d = depot_calloc(1, sizeof(*d));
    if (!d)
        return DEPOT_ERR_NOMEM;
    memcpy(d->id, dealer, len); /* calloc: NUL-terminated */
    d->seen = d->written = seen_ms;
    HASH_ADD(hh, q->tx->dealers, id, strlen(d->id), d);
    if (!DEPOT_HASH_ADDED(d)) {
        depot_free(d);
        return DEPOT_ERR_NOMEM;
    }
    return touch_dealer(q, dealer, seen_ms);
}

static depot_err apply_state(struct sqlite_store *q, const depot_msg *m)
{
    sqlite3_stmt *st = prep(q, ST_STATE);
    hub_sqlite_bind_text(st, 1, m->dealer);
    sqlite3_bind_int64(st, 2, m->body.state.session);
    sqlite3_bind_int(st, 3, m->body.state.online);
    return hub_sqlite_run(q, st, "state");
}

/*
 * Upserts one stock value; *newer = whether it replaced (or created) the row.
 * A value its faulted node could not measure (faulted, same qty) keeps the
 * time of its last measurement (invariant 5).
 */
static depot_err put_stock(struct sqlite_store *q, const depot_msg *m, const char *sku,
                           long long qty, const char *node, uint64_t id, long long seen_ms,
                           bool faulted, bool *newer)
{
    sqlite3_stmt *st = prep(q, ST_STOCK_PUT);
    depot_err err;
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, sku);
    sqlite3_bind_int64(st, 3, qty);
    hub_sqlite_bind_text(st, 4, node);
    hub_sqlite_bind_text(st, 5, m->ledger);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 7, m->ts);
    sqlite3_bind_int64(st, 8, seen_ms);
    sqlite3_bind_int(st, 9, faulted);
    err = hub_sqlite_run(q, st, "stock");
    *newer = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

static depot_err put_node(struct sqlite_store *q, enum stmt id, const depot_msg *m,
                          const char *node, bool fault, const char *reason, uint64_t msg_id,
                          bool *newer)
{
    sqlite3_stmt *st = prep(q, id);
    depot_err err;
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, node);
    sqlite3_bind_int(st, 3, fault);
    hub_sqlite_bind_text(st, 4, reason);
    sqlite3_bind_int64(st, 5, m->ts);
    hub_sqlite_bind_text(st, 6, m->ledger);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)msg_id);
    err = hub_sqlite_run(q, st, "node");
    *newer = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

/* The node's first good reading after a fault measured its stock again (invariant 5). */
static depot_err node_measured(struct sqlite_store *q, const depot_msg *m, const char *node)
{
    sqlite3_stmt *st = prep(q, ST_STOCK_MEASURED);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, node);
    hub_sqlite_bind_text(st, 3, m->ledger);
    sqlite3_bind_int64(st, 4, m->ts);
    return hub_sqlite_run(q, st, "stock measured");
}

/* The qty after the last movement of the (dealer, ledger, sku) chain; -1 if none is known. */
static depot_err tail_get(struct sqlite_store *q, const depot_msg *m, const char *sku,
                          long long *qty)
{
    sqlite3_stmt *st = prep(q, ST_TAIL_GET);
    int rc;
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    hub_sqlite_bind_text(st, 3, sku);
    rc = sqlite3_step(st);
    *qty = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, "movement tail");
}

static depot_err tail_put(struct sqlite_store *q, const depot_msg *m,
                          const struct depot_movement_item *it)
{
    sqlite3_stmt *st = prep(q, ST_TAIL_PUT);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    hub_sqlite_bind_text(st, 3, it->sku);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)it->mid);
    sqlite3_bind_int64(st, 5, it->qty);
    return hub_sqlite_run(q, st, "movement tail");
}

/* The stock before item i as its chain says: the batch's previous movement of the SKU, or the
 * stored tail; -1 for a chain the hub has not seen yet (it starts where item i says). */
static depot_err chain_before(struct sqlite_store *q, const depot_msg *m, size_t i,
                              long long *before)
{
    const struct depot_movement_item *items = m->body.movements.items;
    for (size_t j = i; j-- > 0;)
        if (!strcmp(items[j].sku, items[i].sku)) {
            *before = items[j].qty;
            return DEPOT_OK;
        }
    return tail_get(q, m, items[i].sku, before);
}

/*
 * Applies a movements batch whole or not at all: *fits = false (logged) when
 * a movement does not start from the stock its chain ended at. The chains
 * move on from the batch either way (store/store.h).
 */
static depot_err apply_movements(struct sqlite_store *q, const depot_msg *m, bool *fits)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    long long want;
    bool refuse = false;
    *fits = true;
    err = hub_store_chain_check(&q->base, m, &refuse); /* store/ledger.h */
    if (err != DEPOT_OK || refuse) {
        *fits = false;
        return err;
    }
    for (size_t i = 0; err == DEPOT_OK && *fits && i < b->n_items; i++) {
        const struct depot_movement_item *it = &b->items[i];
        err = chain_before(q, m, i, &want);
        if (err == DEPOT_OK && want >= 0 && it->qty - it->delta != want) {
            *fits = false;
            LOG_WARN("movements %s/%s/%llu refused: item %zu (mid %llu, %s %s %+lld -> %lld) "
                     "starts from %lld units, but its SKU stood at %lld",
                     m->dealer, m->ledger, (unsigned long long)m->id, i,
                     (unsigned long long)it->mid, it->kind, it->sku, it->delta, it->qty,
                     it->qty - it->delta, want);
        }
    }
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++)
        err = tail_put(q, m, &b->items[i]);
    if (err == DEPOT_OK && *fits)
        err = hub_sqlite_history_apply(q, m);
    if (err == DEPOT_OK && *fits) /* store/shipments.h */
        err = hub_store_code_scans_keep(&q->base, m);
    return err == DEPOT_OK ? hub_store_chain_keep(&q->base, m, *fits) : err;
}

/* The effect of a new stream message; *newer = false when it was stale. */
static depot_err stream_effect(struct sqlite_store *q, const depot_msg *m, long long seen_ms,
                               bool *newer)
{
    const struct depot_event_body *e = &m->body.event;
    *newer = true;
    depot_err err;
    if (m->type == DEPOT_MSG_ORDER || m->type == DEPOT_MSG_SIGNATURE)
        return DEPOT_OK; /* hub_orders (hub_contracts) applies it in the same transaction */
    if (m->type == DEPOT_MSG_MOVEMENTS) /* daily figures and stock points, if they fit */
        return apply_movements(q, m, newer);
    if (m->type == DEPOT_MSG_STOCK) {
        err = put_stock(q, m, m->body.stock.sku, m->body.stock.qty, m->body.stock.node, m->id,
                        seen_ms, false, newer);
        return err == DEPOT_OK && *newer ? hub_sqlite_history_point(q, m->dealer, m->body.stock.sku,
                                                                    m->ts, m->body.stock.qty)
                                         : err;
    }
    if (strcmp(e->event, "fault") == 0)
        return put_node(q, ST_NODE_EVENT, m, e->node, true, e->reason, m->id, newer);
    if (strcmp(e->event, "recovered") == 0) {
        err = put_node(q, ST_NODE_EVENT, m, e->node, false, "", m->id, newer);
        return err == DEPOT_OK && *newer ? node_measured(q, m, e->node) : err;
    }
    return DEPOT_OK; /* other events only count as heard */
}

/* The transaction's entry of m's stream: on its first message, the row made if it is new,
 * its applied_upto and its highest applied id read. */
static depot_err stream_get(struct sqlite_store *q, const depot_msg *m, struct tx_stream **out)
{
    char key[sizeof(((struct tx_stream *)0)->key)];
    size_t dl = strlen(m->dealer), ll = strlen(m->ledger);
    struct tx_stream *t;
    sqlite3_stmt *st;
    depot_err err;
    int rc;

    if (dl > DEPOT_DEALER_MAX || ll > DEPOT_LEDGER_HEX)
        return DEPOT_ERR_INVAL;
    memset(key, 0, sizeof(key));
    memcpy(key, m->dealer, dl);
    memcpy(key + dl + 1, m->ledger, ll);
    HASH_FIND(hh, q->tx->streams, key, sizeof(key), t);
    if (t) {
        *out = t;
        return DEPOT_OK;
    }
    st = prep(q, ST_STREAM_ENSURE);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    err = hub_sqlite_run(q, st, "stream");
    if (err != DEPOT_OK)
        return err;
    t = depot_calloc(1, sizeof(*t));
    if (!t)
        return DEPOT_ERR_NOMEM;
    memcpy(t->key, key, sizeof(key));
    t->dealer = t->key;
    t->ledger = t->key + dl + 1;
    st = prep(q, ST_STREAM_UPTO);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        t->upto = t->upto0 = (uint64_t)sqlite3_column_int64(st, 0);
        t->max_id = (uint64_t)sqlite3_column_int64(st, 1); /* NULL (none): 0 */
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        depot_free(t);
        return hub_sqlite_fail(q, "stream upto");
    }
    HASH_ADD(hh, q->tx->streams, key, sizeof(t->key), t);
    if (!DEPOT_HASH_ADDED(t)) {
        depot_free(t);
        return DEPOT_ERR_NOMEM;
    }
    *out = t;
    return DEPOT_OK;
}

static depot_err applied_has(struct sqlite_store *q, const depot_msg *m, uint64_t id, bool *has)
{
    sqlite3_stmt *st = prep(q, ST_APPLIED_HAS);
    int rc;
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    *has = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, "applied lookup");
}

/* applied_upto := max(upto, base - 1), then forward over consecutive applied ids: over the
 * id just inserted without a lookup, and an id above every applied one is never looked up
 * (in order, no lookup at all). */
static depot_err advance_upto(struct sqlite_store *q, const depot_msg *m, struct tx_stream *t,
                              bool inserted)
{
    bool has = true;
    depot_err err = DEPOT_OK;
    if (m->base > 0 && m->base - 1 > t->upto)
        t->upto = m->base - 1;
    if (inserted && m->id == t->upto + 1)
        t->upto = m->id;
    while (err == DEPOT_OK && has && t->upto < t->max_id) {
        err = applied_has(q, m, t->upto + 1, &has);
        if (err == DEPOT_OK && has)
            t->upto++;
    }
    return err;
}

/* Whether every id of m's stream below m's is applied, or below the gateway's base. */
static bool in_stream_order(const depot_msg *m, uint64_t upto)
{
    uint64_t done = m->base > 0 && m->base - 1 > upto ? m->base - 1 : upto;
    return m->id <= done + 1;
}

static depot_err apply_stream(struct sqlite_store *q, const depot_msg *m, long long seen_ms,
                              enum hub_apply_result *res, uint64_t *upto)
{
    sqlite3_stmt *st;
    bool newer = true, inserted = false;
    struct tx_stream *t = NULL;
    depot_err err = stream_get(q, m, &t);

    if (err != DEPOT_OK)
        return err;
    if (m->type == DEPOT_MSG_MOVEMENTS && !in_stream_order(m, t->upto)) {
        *res = HUB_APPLY_DEFERRED; /* an earlier batch may be missing: its chains are unknown */
        *upto = t->upto;
        return DEPOT_OK;
    }
    *res = HUB_APPLY_DUPLICATE;
    if (m->id == t->upto + 1) {
        inserted = true; /* the next id: applied_upto alone records it (no applied row) */
    } else if (m->id > t->upto) {
        st = prep(q, ST_APPLIED_INSERT);
        hub_sqlite_bind_text(st, 1, m->dealer);
        hub_sqlite_bind_text(st, 2, m->ledger);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)m->id);
        err = hub_sqlite_run(q, st, "applied insert");
        inserted = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
        if (inserted && m->id > t->max_id)
            t->max_id = m->id;
    }
    if (inserted) {
        err = stream_effect(q, m, seen_ms, &newer);
        *res = newer                            ? HUB_APPLY_DONE
               : m->type == DEPOT_MSG_MOVEMENTS ? HUB_APPLY_REFUSED
                                                : HUB_APPLY_STALE;
    }
    if (err == DEPOT_OK)
        err = advance_upto(q, m, t, inserted);
    if (err == DEPOT_OK) { /* written at commit (tx_flush) */
        t->applied += *res != HUB_APPLY_DUPLICATE;
        t->duplicates += *res == HUB_APPLY_DUPLICATE;
        t->stale += *res == HUB_APPLY_STALE || *res == HUB_APPLY_REFUSED;
        t->dirty = true;
        *upto = t->upto;
    }
    return err;
}

static depot_err apply_snapshot(struct sqlite_store *q, const depot_msg *m, long long seen_ms)
{
    const struct depot_snapshot_body *b = &m->body.snapshot;
    depot_err err = DEPOT_OK;
    bool newer;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++) {
        const struct depot_snapshot_item *it = &b->items[i];
        err = put_stock(q, m, it->sku, it->qty, it->node, b->as_of, seen_ms, it->fault, &newer);
        if (err == DEPOT_OK)
            err = put_node(q, ST_NODE_SNAPSHOT, m, it->node, it->fault,
                           it->fault ? "reported in snapshot" : "", b->as_of, &newer);
    }
    return err;
}

static depot_err apply_in_tx(struct sqlite_store *q, const depot_msg *m, long long seen_ms,
                             enum hub_apply_result *res, uint64_t *upto)
{
    depot_err err = seen_dealer(q, m->dealer, seen_ms);
    if (err != DEPOT_OK)
        return err;
    switch (m->type) {
    case DEPOT_MSG_STOCK:
    case DEPOT_MSG_EVENT:
    case DEPOT_MSG_ORDER:
    case DEPOT_MSG_SIGNATURE:
    case DEPOT_MSG_MOVEMENTS:
        return apply_stream(q, m, seen_ms, res, upto);
    case DEPOT_MSG_SNAPSHOT:
        return apply_snapshot(q, m, seen_ms);
    case DEPOT_MSG_STATE:
        return apply_state(q, m);
    case DEPOT_MSG_OUTBOX:
        return DEPOT_OK; /* heard from (above); its level is the alert engine's */
    default:
        return DEPOT_ERR_INVAL;
    }
}

/* Inside the caller's transaction (hub_store_begin), or in one of its own. */
static depot_err sq_apply(hub_store *s, const depot_msg *m, long long seen_ms,
                          enum hub_apply_result *res, uint64_t *upto)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    bool own = !q->tx->open;
    depot_err err = own ? sq_begin(s) : DEPOT_OK;
    *res = HUB_APPLY_DONE;
    *upto = 0;
    if (err == DEPOT_OK)
        err = apply_in_tx(q, m, seen_ms, res, upto);
    if (own && err == DEPOT_OK)
        err = sq_commit(s);
    if (own && err != DEPOT_OK)
        sq_rollback(s);
    return err;
}

static depot_err sq_count_reject(hub_store *s, const char *reason, uint64_t n)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, ST_REJECT);
    hub_sqlite_bind_text(st, 1, reason);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
    return hub_sqlite_run(q, st, "reject");
}

static depot_err walk_stock(struct sqlite_store *q, sqlite3_stmt *st, hub_stock_cb cb, void *arg)
{
    struct hub_stock_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r.dealer = hub_sqlite_col(st, 0);
        r.sku = hub_sqlite_col(st, 1);
        r.qty = sqlite3_column_int64(st, 2);
        r.node = hub_sqlite_col(st, 3);
        r.updated_at = sqlite3_column_int64(st, 4);
        r.received_at = sqlite3_column_int64(st, 5);
        r.dealer_online = sqlite3_column_int(st, 6) != 0;
        r.last_seen = sqlite3_column_int64(st, 7);
        r.node_fault = sqlite3_column_int(st, 8) != 0;
        r.fault_reason = hub_sqlite_col(st, 9);
        if (cb(arg, &r))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "stock query");
}

static depot_err sq_stock(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                          void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    enum stmt id = dealer ? (sku ? ST_Q_STOCK_BOTH : ST_Q_STOCK_DEALER)
                          : (sku ? ST_Q_STOCK_SKU : ST_Q_STOCK_ALL);
    sqlite3_stmt *st = prep(q, id);
    if (dealer)
        hub_sqlite_bind_text(st, 1, dealer);
    if (sku)
        hub_sqlite_bind_text(st, 2, sku);
    return walk_stock(q, st, cb, arg);
}

static depot_err sq_stock_page(hub_store *s, const char *dealer, const char *sku,
                               const char *after_dealer, const char *after_sku, long long limit,
                               hub_stock_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st;
    if (dealer && sku) /* one row at most */
        return strcmp(dealer, after_dealer) > 0 ||
                       (!strcmp(dealer, after_dealer) && strcmp(sku, after_sku) > 0)
                   ? sq_stock(s, dealer, sku, cb, arg)
                   : DEPOT_OK;
    st = prep(q, dealer ? ST_P_STOCK_DEALER : sku ? ST_P_STOCK_SKU : ST_P_STOCK_ALL);
    if (dealer)
        hub_sqlite_bind_text(st, 1, dealer);
    if (sku)
        hub_sqlite_bind_text(st, 2, sku);
    hub_sqlite_bind_text(st, 3, after_dealer);
    hub_sqlite_bind_text(st, 4, after_sku);
    sqlite3_bind_int64(st, 5, limit);
    return walk_stock(q, st, cb, arg);
}

static depot_err walk_dealers(struct sqlite_store *q, sqlite3_stmt *st, hub_dealer_cb cb,
                              void *arg)
{
    struct hub_dealer_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        hub_sqlite_dealer_row(st, &r);
        if (cb(arg, &r))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "dealers query");
}

static depot_err sq_dealers(hub_store *s, hub_dealer_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    return walk_dealers(q, prep(q, ST_Q_DEALERS), cb, arg);
}

static depot_err sq_dealers_known(hub_store *s, const char *after, long long limit,
                                  hub_dealer_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, ST_Q_DEALERS_KNOWN);
    hub_sqlite_bind_text(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    return walk_dealers(q, st, cb, arg);
}

static depot_err sq_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, ST_Q_DEALER_HAS);
    struct hub_stream_row r;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? DEPOT_ERR_NOTFOUND : hub_sqlite_fail(q, "dealer lookup");
    st = prep(q, ST_Q_STREAMS);
    hub_sqlite_bind_text(st, 1, dealer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r.ledger = hub_sqlite_col(st, 0);
        r.applied_upto = (uint64_t)sqlite3_column_int64(st, 1);
        r.applied = (uint64_t)sqlite3_column_int64(st, 2);
        r.duplicates = (uint64_t)sqlite3_column_int64(st, 3);
        r.stale_ignored = (uint64_t)sqlite3_column_int64(st, 4);
        if (cb(arg, &r))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "streams query");
}

static void sq_free(hub_store *s)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    hub_sqlite_finalize_all(q->st, ST__COUNT);
    hub_sqlite_orders_free(q);
    hub_sqlite_alerts_free(q);
    hub_sqlite_accounts_free(q);
    hub_sqlite_policies_free(q);
    hub_sqlite_tasks_free(q);
    hub_sqlite_training_free(q);
    hub_sqlite_contracts_free(q);
    hub_sqlite_statements_free(q);
    hub_sqlite_webhooks_free(q);
    hub_sqlite_ledger_free(q);
    hub_sqlite_shipments_free(q);
    sqlite3_close(q->db);
    if (q->tx)
        tx_drop(q);
    depot_free(q->tx);
    depot_free(q);
}

static const struct hub_store_ops sqlite_ops = {
    .name = "sqlite",
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .apply = sq_apply,
    .count_reject = sq_count_reject,
    .stock = sq_stock,
    .stock_page = sq_stock_page,
    .dealers = sq_dealers,
    .dealers_known = sq_dealers_known,
    .streams = sq_streams,
    .free = sq_free,
    .orders = &hub_sqlite_order_ops,
    .alerts = &hub_sqlite_alert_ops,
    .ranking = &hub_sqlite_ranking_ops,
    .accounts = &hub_sqlite_account_ops,
    .policies = &hub_sqlite_policy_ops,
    .tasks = &hub_sqlite_task_ops,
    .training = &hub_sqlite_training_ops,
    .contracts = &hub_sqlite_contract_ops,
    .statements = &hub_sqlite_statement_ops,
    .webhooks = &hub_sqlite_webhook_ops,
    .ledger = &hub_sqlite_ledger_ops,
    .shipments = &hub_sqlite_shipment_ops,
};

/*
 * Schema migrations. schema_migrations(version PK, name, applied_at) lists
 * what the file has had. Version 1 is every file's schema as created by the
 * setup functions (CREATE ... IF NOT EXISTS, plus the upgrade of a file made
 * before the table existed, e.g. ledger_owners in orders.c), so a file from
 * before versioning is recorded at version 1 the first time this hub opens
 * it. Later migrations are appended to the list below with the next version
 * and never changed after release. The whole of it runs in one BEGIN
 * IMMEDIATE transaction: hubs that open one file at once migrate it one
 * after the other, and the later ones find nothing to do.
 */
struct migration {
    long long version;
    const char *name;
    const char *sql; /* NULL: the setup functions' schemas (version 1) */
};

static const struct migration migrations[] = {
    {1, "the hub's tables", NULL},
    {2, "applied rows at or below their stream's applied_upto dropped",
     "DELETE FROM applied WHERE msg_id <= (SELECT s.applied_upto FROM streams s "
     "WHERE s.dealer = applied.dealer AND s.ledger = applied.ledger)"},
    {3, "the engine log and the alerts' memos (several hubs' alert engines)",
     hub_sqlite_engine_schema},
    {4, "users and credentials (accounts, sessions, API tokens)", hub_sqlite_accounts_schema},
    {5, "policies and their reach", hub_sqlite_policies_schema},
    {6, "tasks and their completion", hub_sqlite_tasks_schema},
    {7, "training material and its viewing", hub_sqlite_training_schema},
    {8, "e-contracts, their signatures and terms", hub_sqlite_contracts_schema},
    {9, "rebate statements and their disputes", hub_sqlite_statements_schema},
    {10, "each applied movement (a statement's sources)", hub_sqlite_movements_schema},
    {11, "the answers of API writes made with an idempotency key", hub_sqlite_idempotency_schema},
    {12, "webhook subscriptions and their deliveries", hub_sqlite_webhooks_schema},
    {13, "the movement chains as applied (hashes, signed batches, heads)",
     hub_sqlite_ledger_schema},
    {14, "shipments and the item codes they carried", hub_sqlite_shipments_schema},
    {15, "the start of a catalog item's serial codes", ""}, /* done by hub_sqlite_catalog_setup */
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static depot_err schema_version(struct sqlite_store *q, long long *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? DEPOT_OK : hub_sqlite_fail(q, "schema version");
}

static depot_err record_migration(struct sqlite_store *q, const struct migration *m)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db,
                                "INSERT INTO schema_migrations(version, name, applied_at) "
                                "VALUES(?1, ?2, ?3)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, m->version);
        hub_sqlite_bind_text(st, 2, m->name);
        sqlite3_bind_int64(st, 3, depot_now_ms());
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return hub_sqlite_fail(q, "schema migration record");
    LOG_INFO("sqlite: migration %lld applied: %s", m->version, m->name);
    return DEPOT_OK;
}

/* Version 1: every file's tables; its statements are prepared here too. */
static depot_err setup_tables(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "schema");
    if (err == DEPOT_OK) /* first: the main statements read dealer_profiles too */
        err = hub_sqlite_orders_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_prepare_all(q, sql, ST__COUNT, q->st);
    if (err == DEPOT_OK)
        err = hub_sqlite_alerts_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_ranking_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_accounts_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_policies_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_tasks_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_training_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_contracts_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_statements_setup(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_webhooks_setup(q);
    if (err == DEPOT_OK) /* first: the ledger's statements read its code_scans */
        err = hub_sqlite_shipments_setup(q);
    return err != DEPOT_OK ? err : hub_sqlite_ledger_setup(q);
}

static depot_err migrate(struct sqlite_store *q)
{
    long long version = 0;
    depot_err err = hub_sqlite_exec(q,
                                    "CREATE TABLE IF NOT EXISTS schema_migrations(version "
                                    "INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at "
                                    "INTEGER NOT NULL)",
                                    "schema migrations");
    if (err == DEPOT_OK)
        err = schema_version(q, &version);
    if (err != DEPOT_OK)
        return err;
    if (version > migrations[N_MIGRATIONS - 1].version) {
        LOG_ERROR("sqlite: the file's schema is at version %lld, newer than this hub's %lld: "
                  "run the hub that migrated it (or a newer one)",
                  version, migrations[N_MIGRATIONS - 1].version);
        return DEPOT_ERR_DB;
    }
    err = setup_tables(q); /* idempotent: also prepares the statements */
    if (err == DEPOT_OK && version < 1)
        err = record_migration(q, &migrations[0]);
    for (size_t i = 1; err == DEPOT_OK && i < N_MIGRATIONS; i++)
        if (migrations[i].version > version) {
            err = hub_sqlite_exec(q, migrations[i].sql, migrations[i].name);
            if (err == DEPOT_OK)
                err = record_migration(q, &migrations[i]);
        }
    return err;
}

static depot_err setup(struct sqlite_store *q)
{
    depot_err err;
    if (sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS) != SQLITE_OK)
        return hub_sqlite_fail(q, "schema");
    err = depot_sqlite_durable(q->db, "the hub");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, "PRAGMA cache_size=-32768", "schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, "BEGIN IMMEDIATE", "schema");
    if (err != DEPOT_OK)
        return err;
    err = migrate(q);
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, "COMMIT", "schema");
    if (err != DEPOT_OK && !sqlite3_get_autocommit(q->db))
        (void)hub_sqlite_exec(q, "ROLLBACK", "schema");
    return err;
}

depot_err hub_store_sqlite_open(const char *path, hub_store **out)
{
    struct sqlite_store *q = depot_calloc(1, sizeof(*q));
    depot_err err;
    if (!q)
        return DEPOT_ERR_NOMEM;
    q->base.ops = &sqlite_ops;
    q->tx = depot_calloc(1, sizeof(*q->tx));
    if (!q->tx) {
        depot_free(q);
        return DEPOT_ERR_NOMEM;
    }
    if (sqlite3_open_v2(path, &q->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        LOG_ERROR("sqlite: open %s: %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        sq_free(&q->base);
        return DEPOT_ERR_DB;
    }
    err = setup(q);
    if (err != DEPOT_OK) {
        sq_free(&q->base);
        return err;
    }
    *out = &q->base;
    return DEPOT_OK;
}
