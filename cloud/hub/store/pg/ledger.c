/*
 * The movement chains as the hub applied them, in PostgreSQL
 * (store/ledger.h; the PostgreSQL version of store/sqlite/ledger.c). The
 * tables are created by migration 13 (store/pg/schema.c).
 */
#include <string.h>

#include "depot/alloc.h"
#include "store/ledger.h"
#include "store/pg/pg.h"

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
    L_COUNT
};
_Static_assert(L_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

static const char *const sql[L_COUNT] = {
    [L_HEAD] = "SELECT mid, hash FROM ledger_heads WHERE dealer = $1 AND ledger = $2",
    [L_HEAD_PUT] = "INSERT INTO ledger_heads(dealer, ledger, mid, hash) VALUES($1, $2, $3, $4) "
                   "ON CONFLICT(dealer, ledger) DO UPDATE SET mid = excluded.mid, "
                   "hash = excluded.hash",
    [L_HASH_ADD] = "INSERT INTO ledger_hashes(dealer, ledger, mid, ts, hash) "
                   "VALUES($1, $2, $3, $4, $5) ON CONFLICT(dealer, ledger, mid) DO UPDATE SET "
                   "ts = excluded.ts, hash = excluded.hash",
    [L_BATCH_ADD] = "INSERT INTO ledger_batches(dealer, ledger, last, first, ts, prev, hash, sig, "
                    "cert) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                    "ON CONFLICT(dealer, ledger, last) DO UPDATE SET first = excluded.first, "
                    "ts = excluded.ts, prev = excluded.prev, hash = excluded.hash, "
                    "sig = excluded.sig, cert = excluded.cert",
    [L_CERT_ADD] = "INSERT INTO ledger_certs(fpr, pem) VALUES($1, $2) ON CONFLICT(fpr) DO NOTHING",
    [L_CERT] = "SELECT pem FROM ledger_certs WHERE fpr = $1",
    [L_HASH_AT] = "SELECT hash FROM ledger_hashes WHERE dealer = $1 AND ledger = $2 AND mid = $3",
    [L_SPANS] = "SELECT ledger, MIN(mid), MAX(mid), COUNT(*) FROM movements WHERE dealer = $1 "
                "AND ts >= $2 AND ts < $3 GROUP BY ledger ORDER BY ledger",
    [L_MOVES] = "SELECT m.mid, m.ts, m.node, m.sku, m.kind, m.delta, m.qty, "
                "COALESCE(h.hash, ''), COALESCE(c.code, '') FROM movements m "
                "LEFT JOIN ledger_hashes h "
                "ON h.dealer = m.dealer AND h.ledger = m.ledger AND h.mid = m.mid "
                "LEFT JOIN code_scans c "
                "ON c.dealer = m.dealer AND c.ledger = m.ledger AND c.mid = m.mid "
                "WHERE m.dealer = $1 AND m.ledger = $2 AND m.mid BETWEEN $3 AND $4 ORDER BY m.mid",
    [L_BATCHES] = "SELECT first, last, ts, prev, hash, sig, cert FROM ledger_batches "
                  "WHERE dealer = $1 AND ledger = $2 AND last >= $3 AND first <= $4 "
                  "ORDER BY first",
    [L_PRUNE_HASHES] = "DELETE FROM ledger_hashes WHERE ts < $1",
    [L_PRUNE_BATCHES] = "DELETE FROM ledger_batches WHERE ts < $1",
};

static const struct hub_pg_stmts stmts = {PG_T_LEDGER, L_COUNT, sql};

/* Migration 13. movements(dealer, ts) finds a period's spans. */
const char hub_pg_schema_ledger[] =
    "CREATE TABLE ledger_hashes(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " mid BIGINT NOT NULL, ts BIGINT NOT NULL, hash " PG_TEXT " NOT NULL, "
    " PRIMARY KEY(dealer, ledger, mid));"
    "CREATE INDEX ledger_hashes_by_ts ON ledger_hashes(ts);"
    "CREATE TABLE ledger_batches(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " last BIGINT NOT NULL, first BIGINT NOT NULL, ts BIGINT NOT NULL, "
    " prev " PG_TEXT " NOT NULL, hash " PG_TEXT " NOT NULL, sig " PG_TEXT " NOT NULL, "
    " cert " PG_TEXT " NOT NULL, PRIMARY KEY(dealer, ledger, last));"
    "CREATE INDEX ledger_batches_by_ts ON ledger_batches(ts);"
    "CREATE TABLE ledger_certs(fpr " PG_TEXT " PRIMARY KEY, pem " PG_TEXT " NOT NULL);"
    "CREATE TABLE ledger_heads(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " mid BIGINT NOT NULL, hash " PG_TEXT " NOT NULL, PRIMARY KEY(dealer, ledger));"
    "CREATE INDEX movements_by_ts ON movements(dealer, ts);";

static void keyed(struct pg_params *p, const char *dealer, const char *ledger)
{
    pgp_reset(p);
    pgp_text(p, dealer);
    pgp_text(p, ledger);
}

/* At most one row: column col into hash, column 0 into *mid if mid. */
static depot_err one_hash(hub_store *s, int idx, const struct pg_params *p, int col, uint64_t *mid,
                          char hash[DEPOT_CHAIN_HEX + 1], bool *found, const char *what)
{
    PGresult *res;
    depot_err err = hub_pg_one_row(hub_pg_impl(s), &stmts, idx, p, what, &res);
    *found = err == DEPOT_OK;
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_OK;
    if (err != DEPOT_OK)
        return err;
    if (mid)
        *mid = (uint64_t)hub_pg_int(res, 0, 0);
    hub_pg_col_copy(res, 0, col, hash, DEPOT_CHAIN_HEX + 1);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err l_head(hub_store *s, const char *dealer, const char *ledger, uint64_t *mid,
                        char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    struct pg_params p;
    keyed(&p, dealer, ledger);
    return one_hash(s, L_HEAD, &p, 1, mid, hash, found, "ledger head");
}

static depot_err l_head_put(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                            const char *hash)
{
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)mid);
    pgp_text(&p, hash);
    return hub_pg_run(hub_pg_impl(s), &stmts, L_HEAD_PUT, &p, "ledger head", NULL);
}

static depot_err l_hash_add(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                            long long ts, const char *hash)
{
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)mid);
    pgp_int(&p, ts);
    pgp_text(&p, hash);
    return hub_pg_run(hub_pg_impl(s), &stmts, L_HASH_ADD, &p, "ledger hash", NULL);
}

static depot_err l_batch_add(hub_store *s, const char *dealer, const char *ledger,
                             const struct hub_ledger_batch *b)
{
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)b->last);
    pgp_int(&p, (long long)b->first);
    pgp_int(&p, b->ts);
    pgp_text(&p, b->prev);
    pgp_text(&p, b->hash);
    pgp_text(&p, b->sig);
    pgp_text(&p, b->cert);
    return hub_pg_run(hub_pg_impl(s), &stmts, L_BATCH_ADD, &p, "ledger batch", NULL);
}

static depot_err l_cert_add(hub_store *s, const char *fpr, const char *pem)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, fpr);
    pgp_text(&p, pem);
    return hub_pg_run(hub_pg_impl(s), &stmts, L_CERT_ADD, &p, "ledger certificate", NULL);
}

static depot_err l_cert(hub_store *s, const char *fpr, char **pem)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, fpr);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, L_CERT, &p, "ledger certificate", &res);
    if (err != DEPOT_OK)
        return err;
    *pem = depot_strdup(hub_pg_col(res, 0, 0));
    PQclear(res);
    return *pem ? DEPOT_OK : DEPOT_ERR_NOMEM;
}

static depot_err l_hash_at(hub_store *s, const char *dealer, const char *ledger, uint64_t mid,
                           char hash[DEPOT_CHAIN_HEX + 1], bool *found)
{
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)mid);
    return one_hash(s, L_HASH_AT, &p, 0, NULL, hash, found, "ledger hash");
}

struct walk {
    hub_ledger_span_cb span;
    hub_ledger_move_cb move;
    hub_ledger_batch_cb batch;
    void *arg;
};

static int span_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_ledger_span sp = {.ledger = hub_pg_col(res, r, 0),
                                 .lo = (uint64_t)hub_pg_int(res, r, 1),
                                 .hi = (uint64_t)hub_pg_int(res, r, 2),
                                 .n = hub_pg_int(res, r, 3)};
    return w->span(w->arg, &sp);
}

static int move_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_ledger_move mv = {.mid = (uint64_t)hub_pg_int(res, r, 0),
                                 .ts = hub_pg_int(res, r, 1),
                                 .node = hub_pg_col(res, r, 2),
                                 .sku = hub_pg_col(res, r, 3),
                                 .kind = hub_pg_col(res, r, 4),
                                 .delta = hub_pg_int(res, r, 5),
                                 .qty = hub_pg_int(res, r, 6),
                                 .hash = hub_pg_col(res, r, 7),
                                 .code = hub_pg_col(res, r, 8)};
    return w->move(w->arg, &mv);
}

static int batch_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_ledger_batch b = {.first = (uint64_t)hub_pg_int(res, r, 0),
                                 .last = (uint64_t)hub_pg_int(res, r, 1),
                                 .ts = hub_pg_int(res, r, 2),
                                 .prev = hub_pg_col(res, r, 3),
                                 .hash = hub_pg_col(res, r, 4),
                                 .sig = hub_pg_col(res, r, 5),
                                 .cert = hub_pg_col(res, r, 6)};
    return w->batch(w->arg, &b);
}

static depot_err l_spans(hub_store *s, const char *dealer, long long from, long long to,
                         hub_ledger_span_cb cb, void *arg)
{
    struct walk w = {.span = cb, .arg = arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, dealer);
    pgp_int(&p, from);
    pgp_int(&p, to);
    return hub_pg_walk(hub_pg_impl(s), &stmts, L_SPANS, &p, "ledger spans", span_row, &w);
}

/* Movements go row by row (a period may hold many): the single-row walk of the SQL text. */
static depot_err l_moves(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                         uint64_t hi, hub_ledger_move_cb cb, void *arg)
{
    struct walk w = {.move = cb, .arg = arg};
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)lo);
    pgp_int(&p, (long long)hi);
    return hub_pg_walk_sql(hub_pg_impl(s), sql[L_MOVES], &p, "ledger movements", move_row, &w);
}

static depot_err l_batches(hub_store *s, const char *dealer, const char *ledger, uint64_t lo,
                           uint64_t hi, hub_ledger_batch_cb cb, void *arg)
{
    struct walk w = {.batch = cb, .arg = arg};
    struct pg_params p;
    keyed(&p, dealer, ledger);
    pgp_int(&p, (long long)lo);
    pgp_int(&p, (long long)hi);
    return hub_pg_walk_sql(hub_pg_impl(s), sql[L_BATCHES], &p, "ledger batches", batch_row, &w);
}

static depot_err l_prune(hub_store *s, long long before)
{
    struct pg_params p;
    depot_err err;
    pgp_reset(&p);
    pgp_int(&p, before);
    err = hub_pg_run(hub_pg_impl(s), &stmts, L_PRUNE_HASHES, &p, "prune ledger", NULL);
    return err == DEPOT_OK
               ? hub_pg_run(hub_pg_impl(s), &stmts, L_PRUNE_BATCHES, &p, "prune ledger", NULL)
               : err;
}

const struct hub_store_ledger_ops hub_pg_ledger_ops = {
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
