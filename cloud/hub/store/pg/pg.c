/*
 * The hub's store on PostgreSQL: the same tables, invariants and results as
 * the SQLite store (store/sqlite/sqlite.c, whose header lists them), on a
 * database that several hub instances share.
 *
 * This file: opening (connect, migrate), transactions, ingest (dealers,
 * streams, applied, stock, nodes, rejects, movement_tails) and the stock,
 * dealer and stream queries. The other files of store/pg/ hold the order
 * domain, history and alerts, and the ranking (store/pg/pg.h).
 *
 * A write transaction takes the store's write lock (pg.h) right after
 * BEGIN, so, as on SQLite, what it reads of a stream or a dealer stays true
 * until it commits: the same per-transaction cache of stream marks and
 * last_seen values is exact here too.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/alerts.h"
#include "store/ledger.h"
#include "store/shipments.h"
#include "store/pg/pg.h"

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"

/* What one write transaction has done to a stream and to a dealer (as in store/sqlite). */
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

struct pg_tx {
    struct tx_stream *streams;
    struct tx_dealer *dealers;
};

enum stmt {
    ST_LOCK,
    ST_TOUCH_DEALER,
    ST_STATE,
    ST_STREAM_GET,
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

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const sql[ST__COUNT] = {
    [ST_LOCK] = "SELECT pg_advisory_xact_lock(" STR(HUB_PG_WRITE_LOCK) ")",
    [ST_TOUCH_DEALER] = "INSERT INTO dealers(id, online, session, last_seen, first_seen) "
                        "VALUES($1, 1, -1, $2, $2) ON CONFLICT(id) DO UPDATE SET "
                        "last_seen = GREATEST(dealers.last_seen, excluded.last_seen)",
    [ST_STATE] = "UPDATE dealers SET online = CASE WHEN $2::bigint > session THEN $3::bigint "
                 "WHEN $2::bigint = session THEN "
                 "CASE WHEN online <> 0 AND $3::bigint <> 0 THEN 1 ELSE 0 END "
                 "ELSE online END, session = GREATEST(session, $2::bigint) WHERE id = $1",
    /* the row made if it is new (then read as 0, none: the new row is not in the statement's
     * snapshot), else its applied_upto and highest applied id: one round trip */
    [ST_STREAM_GET] = "WITH made AS (INSERT INTO streams(dealer, ledger) VALUES($1, $2) "
                      "ON CONFLICT(dealer, ledger) DO NOTHING RETURNING 0::bigint AS upto) "
                      "SELECT upto, NULL::bigint FROM made UNION ALL "
                      "SELECT applied_upto, (SELECT MAX(msg_id) FROM applied a WHERE "
                      "a.dealer = $1 AND a.ledger = $2) FROM streams WHERE dealer = $1 "
                      "AND ledger = $2",
    [ST_APPLIED_INSERT] = "INSERT INTO applied(dealer, ledger, msg_id) VALUES($1, $2, $3) "
                          "ON CONFLICT(dealer, ledger, msg_id) DO NOTHING",
    [ST_APPLIED_HAS] = "SELECT 1 FROM applied WHERE dealer = $1 AND ledger = $2 AND msg_id = $3",
    [ST_STREAM_UPDATE] = "UPDATE streams SET applied_count = applied_count + $3, "
                         "duplicates = duplicates + $4, stale_ignored = stale_ignored + $5, "
                         "applied_upto = GREATEST(applied_upto, $6) WHERE dealer = $1 "
                         "AND ledger = $2",
    [ST_APPLIED_PRUNE] = "DELETE FROM applied WHERE dealer = $1 AND ledger = $2 AND msg_id <= $3",
    /* the value and, when it replaced the row and $10 is set, its stock point: one round
     * trip; the answer is how many rows it replaced (0: stale) */
    [ST_STOCK_PUT] =
        "WITH up AS (INSERT INTO stock(dealer, sku, qty, node, ledger, msg_id, updated_at, "
        "received_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(dealer, sku) DO UPDATE "
        "SET updated_at = CASE WHEN $9::int <> 0 AND stock.qty = excluded.qty "
        "THEN stock.updated_at ELSE excluded.updated_at END, "
        "qty = excluded.qty, node = excluded.node, ledger = excluded.ledger, "
        "msg_id = excluded.msg_id, received_at = excluded.received_at WHERE "
        "(stock.ledger = excluded.ledger AND stock.msg_id < excluded.msg_id) OR "
        "(stock.ledger <> excluded.ledger AND stock.updated_at <= excluded.updated_at) "
        "RETURNING 1), "
        "point AS (INSERT INTO stock_history(dealer, sku, ts, qty) SELECT $1, $2, $7, $3 "
        "FROM up WHERE $10::int <> 0 ON CONFLICT(dealer, sku, ts) DO UPDATE "
        "SET qty = excluded.qty) SELECT COUNT(*) FROM up",
    /* A fault event older than the snapshot that reported the fault first still names it. */
    [ST_NODE_EVENT] = "INSERT INTO nodes(dealer, node, fault, reason, since, ledger, msg_id) "
                      "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(dealer, node) DO UPDATE SET "
                      "fault = excluded.fault, reason = excluded.reason, "
                      "since = CASE WHEN nodes.msg_id < excluded.msg_id OR "
                      "nodes.ledger <> excluded.ledger THEN excluded.since ELSE nodes.since END, "
                      "ledger = excluded.ledger, msg_id = CASE WHEN nodes.ledger = excluded.ledger "
                      "THEN GREATEST(nodes.msg_id, excluded.msg_id) ELSE excluded.msg_id END WHERE "
                      "(nodes.ledger = excluded.ledger AND nodes.msg_id < excluded.msg_id) OR "
                      "(nodes.ledger = excluded.ledger AND excluded.fault <> 0 AND nodes.fault <> 0 "
                      "AND nodes.reason = 'reported in snapshot') OR "
                      "(nodes.ledger <> excluded.ledger AND nodes.since <= excluded.since)",
    [ST_NODE_SNAPSHOT] =
        "INSERT INTO nodes(dealer, node, fault, reason, since, ledger, msg_id) "
        "VALUES($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(dealer, node) DO UPDATE SET "
        "reason = CASE WHEN excluded.fault <> 0 AND nodes.fault <> 0 THEN nodes.reason "
        "ELSE excluded.reason END, "
        "since = CASE WHEN excluded.fault = nodes.fault THEN nodes.since "
        "ELSE excluded.since END, "
        "fault = excluded.fault, ledger = excluded.ledger, msg_id = excluded.msg_id WHERE "
        "(nodes.ledger = excluded.ledger AND nodes.msg_id < excluded.msg_id) OR "
        "(nodes.ledger <> excluded.ledger AND nodes.since <= excluded.since)",
    [ST_STOCK_MEASURED] = "UPDATE stock SET updated_at = $4 WHERE dealer = $1 AND node = $2 "
                          "AND ledger = $3 AND updated_at < $4",
    [ST_TAIL_GET] = "SELECT qty FROM movement_tails WHERE dealer = $1 AND ledger = $2 AND sku = $3",
    [ST_TAIL_PUT] = "INSERT INTO movement_tails(dealer, ledger, sku, mid, qty) "
                    "VALUES($1, $2, $3, $4, $5) ON CONFLICT(dealer, ledger, sku) DO UPDATE SET "
                    "mid = excluded.mid, qty = excluded.qty "
                    "WHERE excluded.mid > movement_tails.mid",
    [ST_REJECT] = "INSERT INTO rejects(reason, count) VALUES($1, $2) "
                  "ON CONFLICT(reason) DO UPDATE SET count = rejects.count + excluded.count",
    [ST_Q_STOCK_ALL] = STOCK_SELECT "ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_DEALER] = STOCK_SELECT "WHERE s.dealer = $1 ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_SKU] = STOCK_SELECT "WHERE s.sku = $1 ORDER BY s.dealer, s.sku",
    [ST_Q_STOCK_BOTH] = STOCK_SELECT "WHERE s.dealer = $1 AND s.sku = $2",
    /* pages: after the cursor, at most the last parameter's rows */
    [ST_P_STOCK_ALL] = STOCK_SELECT "WHERE (s.dealer, s.sku) > ($1, $2) "
                                    "ORDER BY s.dealer, s.sku LIMIT $3",
    [ST_P_STOCK_DEALER] = STOCK_SELECT "WHERE s.dealer = $1 AND (s.dealer, s.sku) > ($2, $3) "
                                       "ORDER BY s.dealer, s.sku LIMIT $4",
    [ST_P_STOCK_SKU] = STOCK_SELECT "WHERE s.sku = $1 AND (s.dealer, s.sku) > ($2, $3) "
                                    "ORDER BY s.dealer, s.sku LIMIT $4",
    [ST_Q_DEALERS] = "SELECT id, online, session, last_seen, first_seen FROM dealers ORDER BY id",
    [ST_Q_DEALERS_KNOWN] = "SELECT id, online, session, last_seen, first_seen FROM dealers "
                           "WHERE id > $1 UNION ALL SELECT id, 0, -1, 0, 0 FROM dealer_profiles p "
                           "WHERE id > $1 AND NOT EXISTS (SELECT 1 FROM dealers d WHERE "
                           "d.id = p.id) ORDER BY 1 LIMIT $2",
    [ST_Q_DEALER_HAS] = "SELECT 1 FROM dealers WHERE id = $1",
    [ST_Q_STREAMS] = "SELECT ledger, applied_upto, applied_count, duplicates, stale_ignored "
                     "FROM streams WHERE dealer = $1 ORDER BY ledger",
};

static const struct hub_pg_stmts stmts = {PG_T_MAIN, ST__COUNT, sql};

_Static_assert(ST__COUNT <= PG_TABLE_MAX, "split the statement table");


static void tx_drop(struct pg_store *q)
{
    struct tx_stream *t, *tt;
    struct tx_dealer *d, *dt;
    HASH_ITER(hh, q->tx->streams, t, tt) {
        HASH_DEL(q->tx->streams, t);
        depot_free(t);
    }
    HASH_ITER(hh, q->tx->dealers, d, dt) {
        HASH_DEL(q->tx->dealers, d);
        depot_free(d);
    }
    q->in_tx = false;
}

static depot_err pg_begin(hub_store *s)
{
    struct pg_store *q = hub_pg_impl(s);
    depot_err err;
    tx_drop(q);
    err = hub_pg_ensure(q);
    if (err == DEPOT_OK)
        err = hub_pg_exec(q, "BEGIN", "begin");
    if (err != DEPOT_OK)
        return err;
    q->in_tx = true;
    err = hub_pg_run(q, &stmts, ST_LOCK, NULL, "write lock", NULL);
    if (err != DEPOT_OK) {
        (void)hub_pg_exec(q, "ROLLBACK", "rollback");
        q->in_tx = false;
    }
    return err;
}

static depot_err touch_dealer(struct pg_store *q, const char *dealer, long long seen_ms)
{
    struct pg_params p = {0};
    pgp_text(&p, dealer);
    pgp_int(&p, seen_ms);
    return hub_pg_run(q, &stmts, ST_TOUCH_DEALER, &p, "touch dealer", NULL);
}

static depot_err stream_update(struct pg_store *q, const struct tx_stream *t)
{
    struct pg_params p = {0};
    pgp_text(&p, t->dealer);
    pgp_text(&p, t->ledger);
    pgp_int(&p, t->applied);
    pgp_int(&p, t->duplicates);
    pgp_int(&p, t->stale);
    pgp_int(&p, (long long)t->upto);
    return hub_pg_run(q, &stmts, ST_STREAM_UPDATE, &p, "stream update", NULL);
}

/* The stream's applied rows at or below its applied_upto are no longer needed: an id at or
 * below the mark is a duplicate without them. */
static depot_err applied_prune(struct pg_store *q, const struct tx_stream *t)
{
    struct pg_params p = {0};
    pgp_text(&p, t->dealer);
    pgp_text(&p, t->ledger);
    pgp_int(&p, (long long)t->upto);
    return hub_pg_run(q, &stmts, ST_APPLIED_PRUNE, &p, "applied prune", NULL);
}

/* Writes what the transaction kept for the commit: last_seen, stream counters, and the applied
 * rows the stream's new mark covers dropped. */
static depot_err tx_flush(struct pg_store *q)
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

static depot_err pg_commit(hub_store *s)
{
    struct pg_store *q = hub_pg_impl(s);
    depot_err err = tx_flush(q);
    if (err == DEPOT_OK)
        err = hub_pg_exec(q, "COMMIT", "commit");
    if (err == DEPOT_OK)
        tx_drop(q);
    return err; /* on failure the caller rolls back, which drops it */
}

static void pg_rollback(hub_store *s)
{
    struct pg_store *q = hub_pg_impl(s);
    bool open = q->in_tx;
    tx_drop(q);
    if (open && PQstatus(q->conn) == CONNECTION_OK)
        (void)hub_pg_exec(q, "ROLLBACK", "rollback");
}

/* The dealer was heard at seen_ms: its first message of the transaction writes the row
 * at once (a new dealer exists for the rest of the transaction), later ones at commit. */
static depot_err seen_dealer(struct pg_store *q, const char *dealer, long long seen_ms)
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

static depot_err apply_state(struct pg_store *q, const depot_msg *m)
{
    struct pg_params p = {0};
    pgp_text(&p, m->dealer);
    pgp_int(&p, m->body.state.session);
    pgp_int(&p, m->body.state.online ? 1 : 0);
    return hub_pg_run(q, &stmts, ST_STATE, &p, "state", NULL);
}

/* Upserts one stock value, with its stock point if point; *newer = whether it replaced (or
 * created) the row (invariant 5 of store/sqlite/sqlite.c for a faulted node's value). */
static depot_err put_stock(struct pg_store *q, const depot_msg *m, const char *sku,
                           long long qty, const char *node, uint64_t id, long long seen_ms,
                           bool faulted, bool point, bool *newer)
{
    struct pg_params p = {0};
    PGresult *res;
    depot_err err;
    pgp_text(&p, m->dealer);
    pgp_text(&p, sku);
    pgp_int(&p, qty);
    pgp_text(&p, node);
    pgp_text(&p, m->ledger);
    pgp_int(&p, (long long)id);
    pgp_int(&p, m->ts);
    pgp_int(&p, seen_ms);
    pgp_bool(&p, faulted);
    pgp_bool(&p, point);
    err = hub_pg_one_row(q, &stmts, ST_STOCK_PUT, &p, "stock", &res);
    *newer = err == DEPOT_OK && hub_pg_int(res, 0, 0) > 0;
    if (err == DEPOT_OK)
        PQclear(res);
    return err;
}

static depot_err put_node(struct pg_store *q, enum stmt id, const depot_msg *m, const char *node,
                          bool fault, const char *reason, uint64_t msg_id, bool *newer)
{
    struct pg_params p = {0};
    long long changed = 0;
    depot_err err;
    pgp_text(&p, m->dealer);
    pgp_text(&p, node);
    pgp_bool(&p, fault);
    pgp_text(&p, reason);
    pgp_int(&p, m->ts);
    pgp_text(&p, m->ledger);
    pgp_int(&p, (long long)msg_id);
    err = hub_pg_run(q, &stmts, (int)id, &p, "node", &changed);
    *newer = err == DEPOT_OK && changed > 0;
    return err;
}

/* The node's first good reading after a fault measured its stock again. */
static depot_err node_measured(struct pg_store *q, const depot_msg *m, const char *node)
{
    struct pg_params p = {0};
    pgp_text(&p, m->dealer);
    pgp_text(&p, node);
    pgp_text(&p, m->ledger);
    pgp_int(&p, m->ts);
    return hub_pg_run(q, &stmts, ST_STOCK_MEASURED, &p, "stock measured", NULL);
}

/* The qty after the last movement of the (dealer, ledger, sku) chain; -1 if none is known. */
static depot_err tail_get(struct pg_store *q, const depot_msg *m, const char *sku,
                          long long *qty)
{
    struct pg_params p = {0};
    PGresult *res;
    depot_err err;
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->ledger);
    pgp_text(&p, sku);
    err = hub_pg_one_row(q, &stmts, ST_TAIL_GET, &p, "movement tail", &res);
    *qty = -1;
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    if (err == DEPOT_OK) {
        *qty = hub_pg_int(res, 0, 0);
        PQclear(res);
    }
    return err;
}

static depot_err tail_put(struct pg_store *q, const depot_msg *m,
                          const struct depot_movement_item *it)
{
    struct pg_params p = {0};
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->ledger);
    pgp_text(&p, it->sku);
    pgp_int(&p, (long long)it->mid);
    pgp_int(&p, it->qty);
    return hub_pg_run(q, &stmts, ST_TAIL_PUT, &p, "movement tail", NULL);
}

/* The stock before item i as its chain says: the batch's previous movement of the SKU, or the
 * stored tail; -1 for a chain the hub has not seen yet (it starts where item i says). */
static depot_err chain_before(struct pg_store *q, const depot_msg *m, size_t i, long long *before)
{
    const struct depot_movement_item *items = m->body.movements.items;
    for (size_t j = i; j-- > 0;)
        if (!strcmp(items[j].sku, items[i].sku)) {
            *before = items[j].qty;
            return DEPOT_OK;
        }
    return tail_get(q, m, items[i].sku, before);
}

/* Applies a movements batch whole or not at all: *fits = false (logged) when a movement does
 * not start from the stock its chain ended at. The chains move on from the batch either way. */
static depot_err apply_movements(struct pg_store *q, const depot_msg *m, bool *fits)
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
        err = hub_pg_history_apply(q, m);
    if (err == DEPOT_OK && *fits) /* store/shipments.h */
        err = hub_store_code_scans_keep(&q->base, m);
    return err == DEPOT_OK ? hub_store_chain_keep(&q->base, m, *fits) : err;
}

/* The effect of a new stream message; *newer = false when it was stale. */
static depot_err stream_effect(struct pg_store *q, const depot_msg *m, long long seen_ms,
                               bool *newer)
{
    const struct depot_event_body *e = &m->body.event;
    depot_err err;
    *newer = true;
    if (m->type == DEPOT_MSG_ORDER || m->type == DEPOT_MSG_SIGNATURE)
        return DEPOT_OK; /* hub_orders (hub_contracts) applies it in the same transaction */
    if (m->type == DEPOT_MSG_MOVEMENTS) /* daily figures and stock points, if they fit */
        return apply_movements(q, m, newer);
    if (m->type == DEPOT_MSG_STOCK) /* with its stock point when it is newer */
        return put_stock(q, m, m->body.stock.sku, m->body.stock.qty, m->body.stock.node, m->id,
                         seen_ms, false, true, newer);
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
static depot_err stream_get(struct pg_store *q, const depot_msg *m, struct tx_stream **out)
{
    char key[sizeof(((struct tx_stream *)0)->key)];
    size_t dl = strlen(m->dealer), ll = strlen(m->ledger);
    struct pg_params p = {0};
    struct tx_stream *t;
    PGresult *res;
    depot_err err;

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
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->ledger);
    err = hub_pg_one_row(q, &stmts, ST_STREAM_GET, &p, "stream", &res);
    if (err == DEPOT_ERR_NOTFOUND)
        err = DEPOT_ERR_DB; /* made or read: one row */
    if (err != DEPOT_OK)
        return err;
    t = depot_calloc(1, sizeof(*t));
    if (!t) {
        PQclear(res);
        return DEPOT_ERR_NOMEM;
    }
    memcpy(t->key, key, sizeof(key));
    t->dealer = t->key;
    t->ledger = t->key + dl + 1;
    t->upto = t->upto0 = (uint64_t)hub_pg_int(res, 0, 0);
    t->max_id = (uint64_t)hub_pg_int(res, 0, 1); /* NULL (none): 0 */
    PQclear(res);
    HASH_ADD(hh, q->tx->streams, key, sizeof(t->key), t);
    if (!DEPOT_HASH_ADDED(t)) {
        depot_free(t);
        return DEPOT_ERR_NOMEM;
    }
    *out = t;
    return DEPOT_OK;
}

static depot_err applied_has(struct pg_store *q, const depot_msg *m, uint64_t id, bool *has)
{
    struct pg_params p = {0};
    PGresult *res;
    depot_err err;
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->ledger);
    pgp_int(&p, (long long)id);
    err = hub_pg_one_row(q, &stmts, ST_APPLIED_HAS, &p, "applied lookup", &res);
    *has = err == DEPOT_OK;
    if (err == DEPOT_OK)
        PQclear(res);
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

/* applied_upto := max(upto, base - 1), then forward over consecutive applied ids (as in
 * store/sqlite/sqlite.c: in order, no lookup at all). */
static depot_err advance_upto(struct pg_store *q, const depot_msg *m, struct tx_stream *t,
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

static depot_err apply_stream(struct pg_store *q, const depot_msg *m, long long seen_ms,
                              enum hub_apply_result *res, uint64_t *upto)
{
    struct pg_params p = {0};
    bool newer = true, inserted = false;
    struct tx_stream *t = NULL;
    long long changed = 0;
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
        pgp_text(&p, m->dealer);
        pgp_text(&p, m->ledger);
        pgp_int(&p, (long long)m->id);
        err = hub_pg_run(q, &stmts, ST_APPLIED_INSERT, &p, "applied insert", &changed);
        inserted = err == DEPOT_OK && changed > 0;
        if (inserted && m->id > t->max_id)
            t->max_id = m->id;
    }
    if (inserted) {
        err = stream_effect(q, m, seen_ms, &newer);
        *res = newer                             ? HUB_APPLY_DONE
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

static depot_err apply_snapshot(struct pg_store *q, const depot_msg *m, long long seen_ms)
{
    const struct depot_snapshot_body *b = &m->body.snapshot;
    depot_err err = DEPOT_OK;
    bool newer;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++) {
        const struct depot_snapshot_item *it = &b->items[i];
        err = put_stock(q, m, it->sku, it->qty, it->node, b->as_of, seen_ms, it->fault, false,
                        &newer);
        if (err == DEPOT_OK)
            err = put_node(q, ST_NODE_SNAPSHOT, m, it->node, it->fault,
                           it->fault ? "reported in snapshot" : "", b->as_of, &newer);
    }
    return err;
}

static depot_err apply_in_tx(struct pg_store *q, const depot_msg *m, long long seen_ms,
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
static depot_err pg_apply(hub_store *s, const depot_msg *m, long long seen_ms,
                          enum hub_apply_result *res, uint64_t *upto)
{
    struct pg_store *q = hub_pg_impl(s);
    bool own = !q->in_tx;
    depot_err err = own ? pg_begin(s) : DEPOT_OK;
    *res = HUB_APPLY_DONE;
    *upto = 0;
    if (err == DEPOT_OK)
        err = apply_in_tx(q, m, seen_ms, res, upto);
    if (own && err == DEPOT_OK)
        err = pg_commit(s);
    if (own && err != DEPOT_OK)
        pg_rollback(s);
    return err;
}

static depot_err pg_count_reject(hub_store *s, const char *reason, uint64_t n)
{
    struct pg_params p = {0};
    pgp_text(&p, reason);
    pgp_int(&p, (long long)n);
    return hub_pg_run(hub_pg_impl(s), &stmts, ST_REJECT, &p, "reject", NULL);
}

struct walk {
    void *cb;
    void *arg;
};

static int stock_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_stock_row x = {
        .dealer = hub_pg_col(res, r, 0),
        .sku = hub_pg_col(res, r, 1),
        .qty = hub_pg_int(res, r, 2),
        .node = hub_pg_col(res, r, 3),
        .updated_at = hub_pg_int(res, r, 4),
        .received_at = hub_pg_int(res, r, 5),
        .dealer_online = hub_pg_int(res, r, 6) != 0,
        .last_seen = hub_pg_int(res, r, 7),
        .node_fault = hub_pg_int(res, r, 8) != 0,
        .fault_reason = hub_pg_col(res, r, 9),
    };
    return ((hub_stock_cb)w->cb)(w->arg, &x);
}

static depot_err pg_stock_page(hub_store *s, const char *dealer, const char *sku,
                               const char *after_dealer, const char *after_sku, long long limit,
                               hub_stock_cb cb, void *arg);

/* The whole table goes page by page (a walk reads its result whole first). */
#define STOCK_WALK_PAGE 5000

struct stock_pages {
    hub_stock_cb cb;
    void *arg;
    char dealer[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1]; /* the last row */
    long long n;
    bool stop;
};

static int stock_page_row(void *arg, const struct hub_stock_row *r)
{
    struct stock_pages *w = arg;
    snprintf(w->dealer, sizeof(w->dealer), "%s", r->dealer);
    snprintf(w->sku, sizeof(w->sku), "%s", r->sku);
    w->n++;
    w->stop = w->cb(w->arg, r) != 0;
    return w->stop;
}

static depot_err pg_stock(hub_store *s, const char *dealer, const char *sku, hub_stock_cb cb,
                          void *arg)
{
    enum stmt id = dealer ? (sku ? ST_Q_STOCK_BOTH : ST_Q_STOCK_DEALER)
                          : (sku ? ST_Q_STOCK_SKU : ST_Q_STOCK_ALL);
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    struct stock_pages pw = {.cb = cb, .arg = arg};
    depot_err err = DEPOT_OK;
    if (!dealer && !sku) {
        do {
            pw.n = 0;
            err = pg_stock_page(s, NULL, NULL, pw.dealer, pw.sku, STOCK_WALK_PAGE, stock_page_row,
                                &pw);
        } while (err == DEPOT_OK && !pw.stop && pw.n == STOCK_WALK_PAGE);
        return err;
    }
    if (dealer)
        pgp_text(&p, dealer);
    if (sku)
        pgp_text(&p, sku);
    return hub_pg_walk(hub_pg_impl(s), &stmts, (int)id, &p, "stock query", stock_row, &w);
}

static depot_err pg_stock_page(hub_store *s, const char *dealer, const char *sku,
                               const char *after_dealer, const char *after_sku, long long limit,
                               hub_stock_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    if (dealer && sku) /* one row at most */
        return strcmp(dealer, after_dealer) > 0 ||
                       (!strcmp(dealer, after_dealer) && strcmp(sku, after_sku) > 0)
                   ? pg_stock(s, dealer, sku, cb, arg)
                   : DEPOT_OK;
    if (dealer || sku)
        pgp_text(&p, dealer ? dealer : sku);
    pgp_text(&p, after_dealer);
    pgp_text(&p, after_sku);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts,
                       dealer ? ST_P_STOCK_DEALER : sku ? ST_P_STOCK_SKU : ST_P_STOCK_ALL, &p,
                       "stock page", stock_row, &w);
}

static int dealer_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_dealer_row x;
    hub_pg_dealer_row(res, r, &x);
    return ((hub_dealer_cb)w->cb)(w->arg, &x);
}

static depot_err pg_dealers(hub_store *s, hub_dealer_cb cb, void *arg)
{
    struct walk w = {(void *)cb, arg};
    return hub_pg_walk(hub_pg_impl(s), &stmts, ST_Q_DEALERS, NULL, "dealers query", dealer_row,
                       &w);
}

static depot_err pg_dealers_known(hub_store *s, const char *after, long long limit,
                                  hub_dealer_cb cb, void *arg)
{
    struct walk w = {(void *)cb, arg};
    struct pg_params p = {0};
    pgp_text(&p, after);
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, ST_Q_DEALERS_KNOWN, &p, "dealers query",
                       dealer_row, &w);
}

static int stream_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_stream_row x = {
        .ledger = hub_pg_col(res, r, 0),
        .applied_upto = (uint64_t)hub_pg_int(res, r, 1),
        .applied = (uint64_t)hub_pg_int(res, r, 2),
        .duplicates = (uint64_t)hub_pg_int(res, r, 3),
        .stale_ignored = (uint64_t)hub_pg_int(res, r, 4),
    };
    return ((hub_stream_cb)w->cb)(w->arg, &x);
}

static depot_err pg_streams(hub_store *s, const char *dealer, hub_stream_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    PGresult *res;
    depot_err err;
    pgp_text(&p, dealer);
    err = hub_pg_one_row(q, &stmts, ST_Q_DEALER_HAS, &p, "dealer lookup", &res);
    if (err != DEPOT_OK)
        return err; /* NOTFOUND: never heard of */
    PQclear(res);
    return hub_pg_walk(q, &stmts, ST_Q_STREAMS, &p, "streams query", stream_row, &w);
}

static void pg_free(hub_store *s)
{
    struct pg_store *q = hub_pg_impl(s);
    if (q->tx)
        tx_drop(q);
    if (q->conn)
        PQfinish(q->conn);
    free(q->conninfo);
    depot_free(q->tx);
    depot_free(q);
}

static const struct hub_store_ops pg_ops = {
    .name = "postgresql",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .apply = pg_apply,
    .count_reject = pg_count_reject,
    .stock = pg_stock,
    .stock_page = pg_stock_page,
    .dealers = pg_dealers,
    .dealers_known = pg_dealers_known,
    .streams = pg_streams,
    .free = pg_free,
    .orders = &hub_pg_order_ops,
    .alerts = &hub_pg_alert_ops,
    .ranking = &hub_pg_ranking_ops,
    .accounts = &hub_pg_account_ops,
    .policies = &hub_pg_policy_ops,
    .tasks = &hub_pg_task_ops,
    .training = &hub_pg_training_ops,
    .contracts = &hub_pg_contract_ops,
    .statements = &hub_pg_statement_ops,
    .webhooks = &hub_pg_webhook_ops,
    .ledger = &hub_pg_ledger_ops,
    .shipments = &hub_pg_shipment_ops,
};

depot_err hub_store_pg_open(const char *conninfo, hub_store **out)
{
    struct pg_store *q = depot_calloc(1, sizeof(*q));
    depot_err err;
    if (!q)
        return DEPOT_ERR_NOMEM;
    q->base.ops = &pg_ops;
    q->tx = depot_calloc(1, sizeof(*q->tx));
    err = q->tx ? hub_pg_connect(q, conninfo) : DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = hub_pg_migrate(q);
    if (err != DEPOT_OK) {
        pg_free(&q->base);
        return err;
    }
    *out = &q->base;
    return DEPOT_OK;
}
