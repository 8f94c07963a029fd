/*
 * The movement chains as the hub applied them, in SQLite (store/ledger.h):
 * migration 13.
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/ledger.h"
#include "store/sqlite/sqlite.h"

enum ledger_stmt {
    L_HEAD,
    L_HEAD_PUT,
    L_HASH_ADD,
    L_BATCH_ADD,
    L_CERT_ADD,
    L_CERT,
    L_HASH_AT,
    L_SPANS,
    L_MOVES,
    L_BATCHES,
    L_PRUNE_HASHES,
    L_PRUNE_BATCHES,
    L__COUNT
};
_Static_assert(L__COUNT <= SQ_LEDGER_STMTS, "raise SQ_LEDGER_STMTS");

static const char *const sql[L__COUNT] = {
    [L_HEAD] = "SELECT mid, hash FROM ledger_heads WHERE dealer = ?1 AND ledger = ?2",
    [L_HEAD_PUT] = "INSERT INTO ledger_heads(dealer, ledger, mid, hash) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(dealer, ledger) DO UPDATE SET mid = excluded.mid, "
                   "hash = excluded.hash",
    [L_HASH_ADD] = "INSERT INTO ledger_hashes(dealer, ledger, mid, ts, hash) "
                   "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(dealer, ledger, mid) DO UPDATE SET "
                   "ts = excluded.ts, hash = excluded.hash",
    [L_BATCH_ADD] = "INSERT INTO ledger_batches(dealer, ledger, last, first, ts, prev, hash, sig, "
                    "cert) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                    "ON CONFLICT(dealer, ledger, last) DO UPDATE SET first = excluded.first, "
                    "ts = excluded.ts, prev = excluded.prev, hash = excluded.hash, "
                    "sig = excluded.sig, cert = excluded.cert",
    [L_CERT_ADD] = "INSERT INTO ledger_certs(fpr, pem) VALUES(?1, ?2) ON CONFLICT(fpr) DO NOTHING",
    [L_CERT] = "SELECT pem FROM ledger_certs WHERE fpr = ?1",
    [L_HASH_AT] = "SELECT hash FROM ledger_hashes WHERE dealer = ?1 AND ledger = ?2 AND mid = ?3",
    [L_SPANS] = "SELECT ledger, MIN(mid), MAX(mid), COUNT(*) FROM movements WHERE dealer = ?1 "
                "AND ts >= ?2 AND ts < ?3 GROUP BY ledger ORDER BY ledger",
    [L_MOVES] = "SELECT m.mid, m.ts, m.node, m.sku, m.kind, m.delta, m.qty, "
                "COALESCE(h.hash, ''), COALESCE(c.code, '') FROM movements m "
                "LEFT JOIN ledger_hashes h "
                "ON h.dealer = m.dealer AND h.ledger = m.ledger AND h.mid = m.mid "
                "LEFT JOIN code_scans c "
                "ON c.dealer = m.dealer AND c.ledger = m.ledger AND c.mid = m.mid "
                "WHERE m.dealer = ?1 AND m.ledger = ?2 AND m.mid BETWEEN ?3 AND ?4 ORDER BY m.mid",
    [L_BATCHES] = "SELECT first, last, ts, prev, hash, sig, cert FROM ledger_batches "
                  "WHERE dealer = ?1 AND ledger = ?2 AND last >= ?3 AND first <= ?4 "
                  "ORDER BY first",
    [L_PRUNE_HASHES] = "DELETE FROM ledger_hashes WHERE ts < ?1",
    [L_PRUNE_BATCHES] = "DELETE FROM ledger_batches WHERE ts < ?1",
};

/* Migration 13 and the setup of every file since (idempotent). */
const char hub_sqlite_ledger_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger_hashes(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " mid INTEGER NOT NULL, ts INTEGER NOT NULL, hash TEXT NOT NULL, "
    " PRIMARY KEY(dealer, ledger, mid)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS ledger_hashes_by_ts ON ledger_hashes(ts);"
    "CREATE TABLE IF NOT EXISTS ledger_batches(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " last INTEGER NOT NULL, first INTEGER NOT NULL, ts INTEGER NOT NULL, prev TEXT NOT NULL, "
    " hash TEXT NOT NULL, sig TEXT NOT NULL, cert TEXT NOT NULL, "
    " PRIMARY KEY(dealer, ledger, last)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS ledger_batches_by_ts ON ledger_batches(ts);"
    "CREATE TABLE IF NOT EXISTS ledger_certs(fpr TEXT PRIMARY KEY, pem TEXT NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS ledger_heads(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " mid INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY(dealer, ledger)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS movements_by_ts ON movements(dealer, ts);";

static sqlite3_stmt *prep(struct sqlite_store *q, enum ledger_stmt id)
{
    return hub_sqlite_ready(q->ledger_st[id]);
}

static sqlite3_stmt *keyed(struct sqlite_store *q, enum ledger_stmt id, const char *dealer,
                           const char *ledger)
{
    sqlite3_stmt *st = prep(q, id);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, ledger);
    return st;
}

/* One hash column of at most one row into hash; *found. */
static depot_err one_hash(struct sqlite_store *q, sqlite3_stmt *st, int col, uint64_t *mid,
                          char hash[DEPOT_CHAIN_HEX + 1], bool *found, const char *what)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found) {
        if (mid)
            *mid = (uint64_t)sqlite3_column_int64(st, 0);
        hub_sqlite_col_copy(st, col, hash, DEPOT_CHAIN_HEX + 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, what);
}

static depot_err l_head(hub_store *s, const char *dealer, const char *ledger, uint64_t *mid,
                        char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    return one_hash(q, keyed(q, L_HEAD, dealer, ledger), 1, mid, hash, found, "ledger head");
}

static depot_err l_head_put(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                            const char *hash)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_HEAD_PUT, dealer, ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)mid);
    hub_sqlite_bind_text(st, 4, hash);
    return hub_sqlite_run(q, st, "ledger head");
}

static depot_err l_hash_add(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                            long long ts, const char *hash)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_HASH_ADD, dealer, ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)mid);
    sqlite3_bind_int64(st, 4, ts);
    hub_sqlite_bind_text(st, 5, hash);
    return hub_sqlite_run(q, st, "ledger hash");
}

static depot_err l_batch_add(hub_store *s, const char *dealer, const char *ledger,
                             const struct hub_ledger_batch *b)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_BATCH_ADD, dealer, ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)b->last);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)b->first);
    sqlite3_bind_int64(st, 5, b->ts);
    hub_sqlite_bind_text(st, 6, b->prev);
    hub_sqlite_bind_text(st, 7, b->hash);
    hub_sqlite_bind_text(st, 8, b->sig);
    hub_sqlite_bind_text(st, 9, b->cert);
    return hub_sqlite_run(q, st, "ledger batch");
}

static depot_err l_cert_add(hub_store *s, const char *fpr, const char *pem)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, L_CERT_ADD);
    hub_sqlite_bind_text(st, 1, fpr);
    hub_sqlite_bind_text(st, 2, pem);
    return hub_sqlite_run(q, st, "ledger certificate");
}

static depot_err l_cert(hub_store *s, const char *fpr, char **pem)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, L_CERT);
    int rc;
    hub_sqlite_bind_text(st, 1, fpr);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *pem = depot_strdup(hub_sqlite_col(st, 0));
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DEPOT_ERR_NOTFOUND;
    if (rc != SQLITE_ROW)
        return hub_sqlite_fail(q, "ledger certificate");
    return *pem ? DEPOT_OK : DEPOT_ERR_NOMEM;
}

static depot_err l_hash_at(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                           char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_HASH_AT, dealer, ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)mid);
    return one_hash(q, st, 0, NULL, hash, found, "ledger hash");
}

static depot_err l_spans(hub_store *s, const char *dealer, long long from, long long to,
                         hub_ledger_span_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, L_SPANS);
    struct hub_ledger_span sp;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sp.ledger = hub_sqlite_col(st, 0);
        sp.lo = (uint64_t)sqlite3_column_int64(st, 1);
        sp.hi = (uint64_t)sqlite3_column_int64(st, 2);
        sp.n = sqlite3_column_int64(st, 3);
        if (cb(arg, &sp))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "ledger spans");
}

static depot_err l_moves(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                         uint64_t hi, hub_ledger_move_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_MOVES, dealer, ledger);
    struct hub_ledger_move mv;
    int rc;
    sqlite3_bind_int64(st, 3, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)hi);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        mv.mid = (uint64_t)sqlite3_column_int64(st, 0);
        mv.ts = sqlite3_column_int64(st, 1);
        mv.node = hub_sqlite_col(st, 2);
        mv.sku = hub_sqlite_col(st, 3);
        mv.kind = hub_sqlite_col(st, 4);
        mv.delta = sqlite3_column_int64(st, 5);
        mv.qty = sqlite3_column_int64(st, 6);
        mv.hash = hub_sqlite_col(st, 7);
        mv.code = hub_sqlite_col(st, 8);
        if (cb(arg, &mv))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "ledger movements");
}

static depot_err l_batches(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                           uint64_t hi, hub_ledger_batch_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = keyed(q, L_BATCHES, dealer, ledger);
    struct hub_ledger_batch b;
    int rc;
    sqlite3_bind_int64(st, 3, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)hi);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        b.first = (uint64_t)sqlite3_column_int64(st, 0);
        b.last = (uint64_t)sqlite3_column_int64(st, 1);
        b.ts = sqlite3_column_int64(st, 2);
        b.prev = hub_sqlite_col(st, 3);
        b.hash = hub_sqlite_col(st, 4);
        b.sig = hub_sqlite_col(st, 5);
        b.cert = hub_sqlite_col(st, 6);
        if (cb(arg, &b))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "ledger batches");
}

static depot_err l_prune(hub_store *s, long long before)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = DEPOT_OK;
    for (int id = L_PRUNE_HASHES; err == DEPOT_OK && id <= L_PRUNE_BATCHES; id++) {
        sqlite3_stmt *st = prep(q, (enum ledger_stmt)id);
        sqlite3_bind_int64(st, 1, before);
        err = hub_sqlite_run(q, st, "prune ledger");
    }
    return err;
}

const struct hub_store_ledger_ops hub_sqlite_ledger_ops = {
    .head = l_head,
    .head_put = l_head_put,
    .hash_add = l_hash_add,
    .batch_add = l_batch_add,
    .cert_add = l_cert_add,
    .cert = l_cert,
    .hash_at = l_hash_at,
    .spans = l_spans,
    .moves = l_moves,
    .batches = l_batches,
    .prune = l_prune,
};

depot_err hub_sqlite_ledger_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_ledger_schema, "ledger schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, L__COUNT, q->ledger_st);
}

void hub_sqlite_ledger_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->ledger_st, L__COUNT);
}
