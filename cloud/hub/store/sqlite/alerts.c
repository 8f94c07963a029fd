/*
 * The history and alert domain of the SQLite store.
 *
 * Tables (times in ms since the epoch, days since the epoch in UTC, money in cents):
 *   sales_daily   (dealer, sku, day PK; picked, value, received, scale_out)
 *   stock_history (dealer, sku, ts PK; qty)            points for charts
 *   movements     (dealer, ledger, mid PK; ts, node, sku, kind, delta, qty)
 *                 each applied movement (migration 10), a statement's sources
 *   shrink_open   (rowid; dealer, sku, kind 'd'|'p', ts, units, received_at)
 *                 unmatched scale decreases ('d') and picks ('p')
 *   alerts        (id PK; dealer, sku, kind, subject, severity, status, text, action,
 *                  suggestion, opened_at, updated_at, acked_by, acked_at, resolved_by,
 *                  resolved_at, count)
 *   alert_outbox  (seq PK; dealer, kind, payload)      alert changes not yet published
 *
 * Invariants:
 *   1. A movements batch adds to sales_daily and stock_history only in the
 *      transaction that inserts its exactly-once key (store/sqlite/sqlite.c
 *      calls hub_sqlite_history_apply from there), so figures never double;
 *      the movements of the batch go into movements in that transaction too,
 *      so a day's picks in movements never exceed its sales_daily.picked
 *      (less only where older rows were never kept: before migration 10).
 *   2. At most one alert per (dealer, sku, kind, subject) has a status other
 *      than 'resolved': the partial unique index alerts_live enforces it and
 *      alert_put upserts on it.
 *   3. status moves open -> acknowledged -> resolved or open -> resolved,
 *      never back; a resolved row is never changed again.
 *   4. Unmatched units in shrink_open are > 0 (a row consumed to 0 is deleted).
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "store/alerts.h"
#include "store/sqlite/sqlite.h"

enum astmt {
    A_DAY_ADD,
    A_POINT,
    A_MOVE_ADD,
    A_Q_POINTS,
    A_Q_DAYS,
    A_Q_SUMS,
    A_Q_SUMS_RANGE,
    A_PRUNE_POINTS,
    A_PRUNE_DAYS,
    A_PRUNE_MOVES,
    A_PRUNE_MEMOS,
    A_PRUNE_ALERTS,
    A_SHR_FIND,
    A_SHR_SET,
    A_SHR_DEL,
    A_SHR_ADD,
    A_SHR_DUE,
    A_SHR_DUE_DEL,
    A_SHR_PRUNE,
    A_PUT,
    A_GET,
    A_ACK,
    A_RESOLVE,
    A_LIST,
    A_COUNTS,
    A_OUT_ADD,
    A_OUT_LIST,
    A_OUT_DEL,
    A_PLACES,
    A_NODES,
    A_CAT_VERSION,
    A_PROF_VERSION,
    A_REFRESH,
    A_LOG_ADD,
    A_LOG_READ,
    A_LOG_HEAD,
    A_LOG_LAST_BEFORE,
    A_LOG_MARK,
    A_LOG_DEL,
    A_MEMO_SET,
    A_MEMOS,
    A_MEMO_DEL,
    A_R_DEALERS,
    A_R_STOCK,
    A_R_SUMS,
    A_R_ALERTS,
    A_R_MEMOS,
    A__COUNT
};

_Static_assert(A__COUNT <= SQ_ALERT_STMTS, "raise SQ_ALERT_STMTS");

#define ALERT_COLS                                                                                 \
    "id, dealer, sku, kind, subject, severity, status, text, action, suggestion, opened_at, "      \
    "updated_at, acked_by, acked_at, resolved_by, resolved_at, count"

#define IN_LIST(p) "(SELECT value FROM json_each(" p "))"
#define IN_CELLS(p)                                                                                \
    "(SELECT substr(value, 1, instr(value, '/') - 1), substr(value, instr(value, '/') + 1) "       \
    "FROM json_each(" p "))"
#define MEMO_SELECT                                                                                \
    "SELECT m.dealer, m.sku, m.kind, m.subject, m.id, m.sg_hash, m.tally, m.back, a.severity, "    \
    "a.text FROM alert_memo m JOIN alerts a ON a.id = m.id "

static const char *const asql[A__COUNT] = {
    [A_DAY_ADD] =
        "INSERT INTO sales_daily(dealer, sku, day, picked, value, received, scale_out) "
        "VALUES(?1, ?2, ?3, ?4, ?4 * COALESCE((SELECT price FROM catalog WHERE sku = ?2), 0), "
        "?5, ?6) ON CONFLICT(dealer, sku, day) DO UPDATE SET picked = picked + excluded.picked, "
        "value = value + excluded.value, received = received + excluded.received, "
        "scale_out = scale_out + excluded.scale_out",
    [A_POINT] = "INSERT INTO stock_history(dealer, sku, ts, qty) VALUES(?1, ?2, ?3, ?4) "
                "ON CONFLICT(dealer, sku, ts) DO UPDATE SET qty = excluded.qty",
    [A_MOVE_ADD] = "INSERT INTO movements(dealer, ledger, mid, ts, node, sku, kind, delta, qty) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                   "ON CONFLICT(dealer, ledger, mid) DO NOTHING",
    [A_Q_POINTS] = "SELECT ts, qty FROM stock_history WHERE dealer = ?1 AND sku = ?2 "
                   "AND ts >= ?3 ORDER BY ts",
    [A_Q_DAYS] = "SELECT day, picked, value, received, scale_out FROM sales_daily "
                 "WHERE dealer = ?1 AND sku = ?2 AND day >= ?3 ORDER BY day",
    [A_Q_SUMS] = "SELECT dealer, sku, SUM(picked) FROM sales_daily WHERE day BETWEEN ?1 AND ?2 "
                 "GROUP BY dealer, sku HAVING SUM(picked) > 0",
    [A_Q_SUMS_RANGE] = "SELECT dealer, sku, SUM(picked) FROM sales_daily WHERE "
                       "(dealer, sku) >= (?3, ?4) AND (dealer, sku) <= (?5, ?6) AND "
                       "day BETWEEN ?1 AND ?2 GROUP BY dealer, sku HAVING SUM(picked) > 0 "
                       "ORDER BY dealer, sku",
    [A_PRUNE_POINTS] = "DELETE FROM stock_history WHERE ts < ?1",
    [A_PRUNE_DAYS] = "DELETE FROM sales_daily WHERE day < ?1",
    [A_PRUNE_MOVES] = "DELETE FROM movements WHERE ts < ?1",
    [A_PRUNE_MEMOS] = "DELETE FROM alert_memo WHERE id IN (SELECT id FROM alerts WHERE "
                      "status = 'resolved' AND resolved_at < ?1)",
    [A_PRUNE_ALERTS] = "DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < ?1",
    [A_SHR_FIND] = "SELECT rowid, units FROM shrink_open WHERE dealer = ?1 AND sku = ?2 "
                   "AND kind = ?3 AND ts BETWEEN ?4 AND ?5 ORDER BY ts, rowid",
    [A_SHR_SET] = "UPDATE shrink_open SET units = ?2 WHERE rowid = ?1",
    [A_SHR_DEL] = "DELETE FROM shrink_open WHERE rowid = ?1",
    [A_SHR_ADD] = "INSERT INTO shrink_open(dealer, sku, kind, ts, units, received_at) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [A_SHR_DUE] = "SELECT dealer, sku, SUM(units) FROM shrink_open WHERE kind = 'd' AND "
                  "ts <= ?1 AND received_at <= ?2 GROUP BY dealer, sku",
    [A_SHR_DUE_DEL] = "DELETE FROM shrink_open WHERE kind = 'd' AND ts <= ?1 AND received_at <= ?2",
    [A_SHR_PRUNE] = "DELETE FROM shrink_open WHERE kind = 'p' AND ts <= ?1 AND received_at <= ?2",
    [A_PUT] = "INSERT INTO alerts(dealer, sku, kind, subject, severity, status, text, action, "
              "suggestion, opened_at, updated_at, acked_by, acked_at, resolved_by, resolved_at, "
              "count) VALUES(?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?9, ?9, '', 0, '', 0, 1) "
              "ON CONFLICT(dealer, sku, kind, subject) WHERE status <> 'resolved' DO UPDATE SET "
              "severity = excluded.severity, text = excluded.text, action = excluded.action, "
              "suggestion = excluded.suggestion, updated_at = excluded.updated_at, "
              "count = count + 1 RETURNING " ALERT_COLS,
    [A_GET] = "SELECT " ALERT_COLS " FROM alerts WHERE id = ?1",
    [A_ACK] = "UPDATE alerts SET status = 'acknowledged', acked_by = ?2, acked_at = ?3, "
              "updated_at = ?3 WHERE id = ?1 AND status = 'open'",
    [A_RESOLVE] = "UPDATE alerts SET status = 'resolved', resolved_by = ?2, resolved_at = ?3, "
                  "updated_at = ?3 WHERE id = ?1 AND status <> 'resolved'",
    [A_LIST] = "SELECT " ALERT_COLS " FROM alerts WHERE (?1 IS NULL OR status = ?1) AND "
               "(?2 IS NULL OR dealer = ?2) AND (?3 IS NULL OR kind = ?3) AND "
               "(?4 IS NULL OR sku = ?4) AND (?6 <= 0 OR id < ?6) ORDER BY id DESC LIMIT ?5",
    [A_COUNTS] = "SELECT kind, COUNT(*) FROM alerts WHERE status <> 'resolved' GROUP BY kind",
    [A_OUT_ADD] = "INSERT INTO alert_outbox(dealer, kind, payload) VALUES(?1, ?2, ?3)",
    [A_OUT_LIST] = "SELECT seq, dealer, kind, payload FROM alert_outbox ORDER BY seq LIMIT ?1",
    [A_OUT_DEL] = "DELETE FROM alert_outbox WHERE seq = ?1",
    [A_PLACES] = "SELECT id, region, lat, lon, contract_end FROM dealer_profiles ORDER BY id",
    [A_NODES] = "SELECT node, fault, reason, since FROM nodes WHERE dealer = ?1 AND "
                "(?2 IS NULL OR node = ?2) ORDER BY node",
    [A_CAT_VERSION] = "SELECT COALESCE((SELECT value FROM meta WHERE key = 'catalog_version'), 0)",
    [A_PROF_VERSION] =
        "SELECT COALESCE((SELECT value FROM meta WHERE key = 'profiles_version'), 0)",
    [A_REFRESH] = "UPDATE alerts SET action = ?2, suggestion = ?3, updated_at = ?4 "
                  "WHERE id = ?1 AND status <> 'resolved' RETURNING " ALERT_COLS,
    [A_LOG_ADD] = "INSERT INTO engine_log(stream, writer, words, at) VALUES(?1, ?2, ?3, ?4)",
    [A_LOG_READ] = "SELECT seq, writer, words FROM engine_log WHERE seq > ?1 AND stream = ?2 "
                   "ORDER BY seq",
    [A_LOG_HEAD] = "SELECT COALESCE((SELECT MAX(seq) FROM engine_log), 0), "
                   "COALESCE((SELECT value FROM meta WHERE key = 'engine_log_pruned'), 0)",
    [A_LOG_LAST_BEFORE] = "SELECT MAX(seq) FROM engine_log WHERE at < ?1",
    [A_LOG_MARK] = "INSERT INTO meta(key, value) VALUES('engine_log_pruned', ?1) "
                   "ON CONFLICT(key) DO UPDATE SET value = MAX(value, excluded.value)",
    [A_LOG_DEL] = "DELETE FROM engine_log WHERE seq <= ?1",
    [A_MEMO_SET] = "INSERT INTO alert_memo(dealer, sku, kind, subject, id, sg_hash, tally, back) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(dealer, sku, kind, subject) "
                   "DO UPDATE SET id = excluded.id, sg_hash = excluded.sg_hash, "
                   "tally = excluded.tally, back = excluded.back",
    [A_MEMOS] = MEMO_SELECT "WHERE ?1 IS NULL OR m.dealer = ?1",
    [A_MEMO_DEL] = "DELETE FROM alert_memo WHERE id = ?1",
    /* the reload of store/alerts.h: lists as JSON arrays (sq_reload) */
    [A_R_DEALERS] = "SELECT id, online, session, last_seen, first_seen FROM dealers "
                    "WHERE id IN " IN_LIST("?1"),
    [A_R_STOCK] = "SELECT dealer, sku, qty FROM stock WHERE (dealer, sku) IN " IN_CELLS(
        "?1") " "
              "UNION ALL SELECT dealer, sku, qty FROM stock WHERE dealer IN " IN_LIST("?2"),
    [A_R_SUMS] =
        "SELECT dealer, sku, SUM(picked) FROM sales_daily WHERE (dealer, sku) IN " IN_CELLS(
            "?1") " AND day BETWEEN ?3 AND ?4 GROUP BY dealer, sku HAVING SUM(picked) > 0 "
                  "UNION ALL SELECT dealer, sku, SUM(picked) FROM sales_daily WHERE dealer "
                  "IN " IN_LIST("?2") " AND day BETWEEN ?3 AND ?4 GROUP BY dealer, sku HAVING "
                                      "SUM(picked) > 0",
    [A_R_ALERTS] = "SELECT " ALERT_COLS " FROM alerts WHERE status <> 'resolved' AND sku = '' "
                   "AND dealer IN " IN_LIST(
                       "?1") " UNION ALL SELECT " ALERT_COLS " FROM alerts "
                             "WHERE status <> 'resolved' AND (dealer, sku) IN " IN_CELLS(
                                 "?2") " UNION ALL "
                                       "SELECT " ALERT_COLS
                                       " FROM alerts WHERE status <> 'resolved' AND sku <> '' "
                                       "AND dealer IN " IN_LIST("?3"),
    [A_R_MEMOS] = MEMO_SELECT "WHERE m.sku = '' AND m.dealer IN " IN_LIST(
        "?1") " UNION ALL " MEMO_SELECT
              "WHERE (m.dealer, m.sku) IN " IN_CELLS(
                  "?2") " UNION ALL " MEMO_SELECT
                        "WHERE m.sku <> '' AND m.dealer IN " IN_LIST("?3"),
};

/* Migration 3 (store/sqlite/sqlite.c), also run by the setup below before the statements are
 * prepared: the engine log and the alerts' memos (store/alerts.h). */
const char hub_sqlite_engine_schema[] =
    "CREATE TABLE IF NOT EXISTS engine_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    " stream INTEGER NOT NULL, writer TEXT NOT NULL, words TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alert_memo(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " kind TEXT NOT NULL, subject TEXT NOT NULL, id INTEGER NOT NULL UNIQUE, "
    " sg_hash INTEGER NOT NULL, tally INTEGER NOT NULL, back INTEGER NOT NULL, "
    " PRIMARY KEY(dealer, sku, kind, subject));";

/* Migration 10 and the setup of every file since (idempotent). */
const char hub_sqlite_movements_schema[] =
    "CREATE TABLE IF NOT EXISTS movements(dealer TEXT NOT NULL, ledger TEXT NOT NULL, "
    " mid INTEGER NOT NULL, ts INTEGER NOT NULL, node TEXT NOT NULL, sku TEXT NOT NULL, "
    " kind TEXT NOT NULL, delta INTEGER NOT NULL, qty INTEGER NOT NULL, "
    " PRIMARY KEY(dealer, ledger, mid)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS movements_by_sku ON movements(dealer, sku, ts);";

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS sales_daily(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " day INTEGER NOT NULL, picked INTEGER NOT NULL, value INTEGER NOT NULL, "
    " received INTEGER NOT NULL, scale_out INTEGER NOT NULL, PRIMARY KEY(dealer, sku, day)) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS stock_history(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " ts INTEGER NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY(dealer, sku, ts)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS shrink_open(dealer TEXT NOT NULL, sku TEXT NOT NULL, "
    " kind TEXT NOT NULL, ts INTEGER NOT NULL, units INTEGER NOT NULL, "
    " received_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS shrink_open_key ON shrink_open(dealer, sku, kind, ts);"
    "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, dealer TEXT NOT NULL, "
    " sku TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, severity TEXT NOT NULL, "
    " status TEXT NOT NULL, text TEXT NOT NULL, action TEXT NOT NULL, "
    " suggestion TEXT NOT NULL, opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
    " acked_by TEXT NOT NULL, acked_at INTEGER NOT NULL, resolved_by TEXT NOT NULL, "
    " resolved_at INTEGER NOT NULL, count INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS alerts_live ON alerts(dealer, sku, kind, subject) "
    " WHERE status <> 'resolved';"
    "CREATE INDEX IF NOT EXISTS alerts_by_status ON alerts(status, kind);"
    "CREATE TABLE IF NOT EXISTS alert_outbox(seq INTEGER PRIMARY KEY, dealer TEXT NOT NULL, "
    " kind TEXT NOT NULL, payload TEXT NOT NULL);"
    /* Any change of a dealer profile (place, contract) moves profiles_version, which the alert
     * engine of every hub instance compares to reload places at once (item 13 of the
     * hardening). */
    "CREATE TRIGGER IF NOT EXISTS profiles_version_ins AFTER INSERT ON dealer_profiles BEGIN "
    " INSERT INTO meta(key, value) VALUES('profiles_version', 1) "
    " ON CONFLICT(key) DO UPDATE SET value = value + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS profiles_version_upd AFTER UPDATE ON dealer_profiles BEGIN "
    " INSERT INTO meta(key, value) VALUES('profiles_version', 1) "
    " ON CONFLICT(key) DO UPDATE SET value = value + 1; END;"
    "CREATE TRIGGER IF NOT EXISTS profiles_version_del AFTER DELETE ON dealer_profiles BEGIN "
    " INSERT INTO meta(key, value) VALUES('profiles_version', 1) "
    " ON CONFLICT(key) DO UPDATE SET value = value + 1; END;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum astmt id)
{
    return hub_sqlite_ready(q->ast[id]);
}

/* ---- history, written by ingest (invariant 1) ---- */

depot_err hub_sqlite_history_point(struct sqlite_store *q, const char *dealer, const char *sku,
                                   long long ts, long long qty)
{
    sqlite3_stmt *st = prep(q, A_POINT);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_int64(st, 4, qty);
    return hub_sqlite_run(q, st, "stock point");
}

static depot_err day_add(struct sqlite_store *q, const char *dealer,
                         const struct depot_movement_item *it)
{
    long long out = it->delta < 0 ? -it->delta : 0, in = it->delta > 0 ? it->delta : 0;
    long long picked = !strcmp(it->kind, "pick") ? out : 0;
    long long received = !strcmp(it->kind, "receive") ? in : 0;
    long long scale_out = !strcmp(it->kind, "scale") ? out : 0;
    sqlite3_stmt *st;
    if (!picked && !received && !scale_out)
        return DEPOT_OK;
    st = prep(q, A_DAY_ADD);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, it->sku);
    sqlite3_bind_int64(st, 3, it->ts >= 0 ? it->ts / HUB_DAY_MS : 0);
    sqlite3_bind_int64(st, 4, picked);
    sqlite3_bind_int64(st, 5, received);
    sqlite3_bind_int64(st, 6, scale_out);
    return hub_sqlite_run(q, st, "daily figures");
}

static depot_err move_add(struct sqlite_store *q, const depot_msg *m,
                          const struct depot_movement_item *it)
{
    sqlite3_stmt *st = prep(q, A_MOVE_ADD);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->ledger);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)it->mid);
    sqlite3_bind_int64(st, 4, it->ts);
    hub_sqlite_bind_text(st, 5, it->node);
    hub_sqlite_bind_text(st, 6, it->sku);
    hub_sqlite_bind_text(st, 7, it->kind);
    sqlite3_bind_int64(st, 8, it->delta);
    sqlite3_bind_int64(st, 9, it->qty);
    return hub_sqlite_run(q, st, "movement");
}

depot_err hub_sqlite_history_apply(struct sqlite_store *q, const depot_msg *m)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++) {
        err = day_add(q, m->dealer, &b->items[i]);
        if (err == DEPOT_OK)
            err = move_add(q, m, &b->items[i]);
        if (err == DEPOT_OK)
            err = hub_sqlite_history_point(q, m->dealer, b->items[i].sku, b->items[i].ts,
                                           b->items[i].qty);
    }
    return err;
}

/* ---- history queries ---- */

static depot_err sq_points(hub_store *s, const char *dealer, const char *sku, long long since,
                           hub_point_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_Q_POINTS);
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    sqlite3_bind_int64(st, 3, since);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "stock points");
}

static depot_err sq_days(hub_store *s, const char *dealer, const char *sku, long long from_day,
                         hub_day_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_Q_DAYS);
    struct hub_day_row d;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    sqlite3_bind_int64(st, 3, from_day);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        d.day = sqlite3_column_int64(st, 0);
        d.picked = sqlite3_column_int64(st, 1);
        d.value = sqlite3_column_int64(st, 2);
        d.received = sqlite3_column_int64(st, 3);
        d.scale_out = sqlite3_column_int64(st, 4);
        if (cb(arg, &d))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "daily figures");
}

static depot_err sq_picked_sums(hub_store *s, long long from_day, long long to_day, hub_sum_cb cb,
                                void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_Q_SUMS);
    int rc;
    sqlite3_bind_int64(st, 1, from_day);
    sqlite3_bind_int64(st, 2, to_day);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), hub_sqlite_col(st, 1), sqlite3_column_int64(st, 2)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "picked sums");
}

static depot_err sq_picked_range(hub_store *s, long long from_day, long long to_day,
                                 const char *dealer_from, const char *sku_from,
                                 const char *dealer_to, const char *sku_to, hub_sum_cb cb,
                                 void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_Q_SUMS_RANGE);
    int rc;
    sqlite3_bind_int64(st, 1, from_day);
    sqlite3_bind_int64(st, 2, to_day);
    hub_sqlite_bind_text(st, 3, dealer_from);
    hub_sqlite_bind_text(st, 4, sku_from);
    hub_sqlite_bind_text(st, 5, dealer_to);
    hub_sqlite_bind_text(st, 6, sku_to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), hub_sqlite_col(st, 1), sqlite3_column_int64(st, 2)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "picked sums");
}

static depot_err sq_prune(hub_store *s, long long points_before, long long days_before,
                          long long resolved_before)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_PRUNE_POINTS);
    depot_err err;
    sqlite3_bind_int64(st, 1, points_before);
    err = hub_sqlite_run(q, st, "prune points");
    if (err != DEPOT_OK)
        return err;
    st = prep(q, A_PRUNE_DAYS);
    sqlite3_bind_int64(st, 1, days_before);
    err = hub_sqlite_run(q, st, "prune days");
    if (err == DEPOT_OK) {
        st = prep(q, A_PRUNE_MOVES);
        sqlite3_bind_int64(st, 1, days_before * HUB_DAY_MS);
        err = hub_sqlite_run(q, st, "prune movements");
    }
    for (int id = A_PRUNE_MEMOS; err == DEPOT_OK && id <= A_PRUNE_ALERTS; id++) {
        st = prep(q, (enum astmt)id);
        sqlite3_bind_int64(st, 1, resolved_before);
        err = hub_sqlite_run(q, st, "prune alerts");
    }
    return err;
}

/* ---- shrinkage matching ---- */

/* Consumes up to *units of the opposite kind within the window; *units = what is left. */
static depot_err shrink_consume(struct sqlite_store *q, const char *dealer, const char *sku,
                                const char *kind, long long ts, long long window_ms,
                                long long *units)
{
    sqlite3_stmt *st = prep(q, A_SHR_FIND), *w;
    long long ids[64], left[64];
    int n = 0, rc;
    depot_err err = DEPOT_OK;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    hub_sqlite_bind_text(st, 3, kind);
    sqlite3_bind_int64(st, 4, ts - window_ms);
    sqlite3_bind_int64(st, 5, ts + window_ms);
    while (*units > 0 && n < 64 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long have = sqlite3_column_int64(st, 1), take = have < *units ? have : *units;
        ids[n] = sqlite3_column_int64(st, 0);
        left[n++] = have - take;
        *units -= take;
    }
    sqlite3_reset(st);
    for (int i = 0; err == DEPOT_OK && i < n; i++) {
        w = prep(q, left[i] ? A_SHR_SET : A_SHR_DEL);
        sqlite3_bind_int64(w, 1, ids[i]);
        if (left[i])
            sqlite3_bind_int64(w, 2, left[i]);
        err = hub_sqlite_run(q, w, "shrink match");
    }
    return err;
}

static depot_err sq_shrink_add(hub_store *s, const char *dealer, const char *sku, bool decrease,
                               long long ts, long long units, long long window_ms, long long now)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    depot_err err = shrink_consume(q, dealer, sku, decrease ? "p" : "d", ts, window_ms, &units);
    sqlite3_stmt *st;
    if (err != DEPOT_OK || units <= 0)
        return err;
    st = prep(q, A_SHR_ADD);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, sku);
    hub_sqlite_bind_text(st, 3, decrease ? "d" : "p");
    sqlite3_bind_int64(st, 4, ts);
    sqlite3_bind_int64(st, 5, units);
    sqlite3_bind_int64(st, 6, now);
    return hub_sqlite_run(q, st, "shrink add");
}

static depot_err sq_shrink_due(hub_store *s, long long ts_before, long long received_before,
                               hub_sum_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_SHR_DUE);
    depot_err err;
    int rc;
    sqlite3_bind_int64(st, 1, ts_before);
    sqlite3_bind_int64(st, 2, received_before);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), hub_sqlite_col(st, 1), sqlite3_column_int64(st, 2)))
            break;
    err = hub_sqlite_walk_end(q, st, rc, "shrink due");
    for (enum astmt id = A_SHR_DUE_DEL; err == DEPOT_OK && id <= A_SHR_PRUNE; id++) {
        st = prep(q, id);
        sqlite3_bind_int64(st, 1, ts_before);
        sqlite3_bind_int64(st, 2, received_before);
        err = hub_sqlite_run(q, st, "shrink delete");
    }
    return err;
}

/* ---- alerts ---- */

static void alert_row(sqlite3_stmt *st, struct hub_alert_row *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->dealer = hub_sqlite_col(st, 1);
    a->sku = hub_sqlite_col(st, 2);
    a->kind = hub_sqlite_col(st, 3);
    a->subject = hub_sqlite_col(st, 4);
    a->severity = hub_sqlite_col(st, 5);
    a->status = hub_sqlite_col(st, 6);
    a->text = hub_sqlite_col(st, 7);
    a->action = hub_sqlite_col(st, 8);
    a->suggestion = hub_sqlite_col(st, 9);
    a->opened_at = sqlite3_column_int64(st, 10);
    a->updated_at = sqlite3_column_int64(st, 11);
    a->acked_by = hub_sqlite_col(st, 12);
    a->acked_at = sqlite3_column_int64(st, 13);
    a->resolved_by = hub_sqlite_col(st, 14);
    a->resolved_at = sqlite3_column_int64(st, 15);
    a->count = sqlite3_column_int64(st, 16);
}

/* Steps st to the end, calling cb for each alert row; *found = whether any came. */
static depot_err alert_walk(struct sqlite_store *q, sqlite3_stmt *st, hub_alert_cb cb, void *arg,
                            bool *found, const char *what)
{
    struct hub_alert_row a;
    bool stop = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (found)
            *found = true;
        alert_row(st, &a);
        if (!stop && cb)
            stop = cb(arg, &a) != 0; /* RETURNING must run to the end: keep stepping */
    }
    return hub_sqlite_walk_end(q, st, rc, what);
}

static depot_err sq_alert_put(hub_store *s, const struct hub_alert_put *p, hub_alert_cb cb,
                              void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_PUT);
    hub_sqlite_bind_text(st, 1, p->dealer);
    hub_sqlite_bind_text(st, 2, p->sku ? p->sku : "");
    hub_sqlite_bind_text(st, 3, p->kind);
    hub_sqlite_bind_text(st, 4, p->subject ? p->subject : "");
    hub_sqlite_bind_text(st, 5, p->severity);
    hub_sqlite_bind_text(st, 6, p->text);
    hub_sqlite_bind_text(st, 7, p->action ? p->action : "");
    hub_sqlite_bind_text(st, 8, p->suggestion ? p->suggestion : "");
    sqlite3_bind_int64(st, 9, p->at);
    return alert_walk(q, st, cb, arg, NULL, "alert put");
}

static depot_err set_status(struct sqlite_store *q, enum astmt id, long long alert, const char *by,
                            long long at, bool *changed)
{
    sqlite3_stmt *st = prep(q, id);
    depot_err err;
    sqlite3_bind_int64(st, 1, alert);
    hub_sqlite_bind_text(st, 2, by);
    sqlite3_bind_int64(st, 3, at);
    err = hub_sqlite_run(q, st, "alert status");
    *changed = err == DEPOT_OK && sqlite3_changes(q->db) > 0;
    return err;
}

static depot_err sq_alert_ack(hub_store *s, long long id, const char *by, long long at,
                              bool *changed)
{
    return set_status(hub_sqlite_impl(s), A_ACK, id, by, at, changed);
}

static depot_err sq_alert_resolve(hub_store *s, long long id, const char *by, long long at,
                                  bool *changed)
{
    return set_status(hub_sqlite_impl(s), A_RESOLVE, id, by, at, changed);
}

static depot_err sq_alert_get(hub_store *s, long long id, hub_alert_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_GET);
    bool found = false;
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    err = alert_walk(q, st, cb, arg, &found, "alert get");
    return err == DEPOT_OK && !found ? DEPOT_ERR_NOTFOUND : err;
}

static depot_err sq_alerts_list(hub_store *s, const struct hub_alert_filter *f, hub_alert_cb cb,
                                void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_LIST);
    hub_sqlite_bind_text(st, 1, f->status);
    hub_sqlite_bind_text(st, 2, f->dealer);
    hub_sqlite_bind_text(st, 3, f->kind);
    hub_sqlite_bind_text(st, 4, f->sku);
    sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int64(st, 6, f->before);
    return alert_walk(q, st, cb, arg, NULL, "alerts list");
}

static depot_err sq_live_counts(hub_store *s, hub_count_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_COUNTS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, hub_sqlite_col(st, 0), sqlite3_column_int64(st, 1)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "alert counts");
}

static depot_err sq_outbox_add(hub_store *s, const char *dealer, const char *kind,
                               const char *payload)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_OUT_ADD);
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, kind);
    hub_sqlite_bind_text(st, 3, payload);
    return hub_sqlite_run(q, st, "alert outbox add");
}

static depot_err sq_outbox_list(hub_store *s, long long limit, hub_outbox_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_OUT_LIST);
    int rc;
    sqlite3_bind_int64(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, sqlite3_column_int64(st, 0), hub_sqlite_col(st, 1), hub_sqlite_col(st, 2),
               hub_sqlite_col(st, 3)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "alert outbox");
}

static depot_err sq_outbox_del(hub_store *s, long long seq)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_OUT_DEL);
    sqlite3_bind_int64(st, 1, seq);
    return hub_sqlite_run(q, st, "alert outbox delete");
}

/* ---- what the engine reads of other domains ---- */

static depot_err sq_places(hub_store *s, hub_place_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_PLACES);
    struct hub_dealer_place p;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        p.dealer = hub_sqlite_col(st, 0);
        p.region = hub_sqlite_col(st, 1);
        p.has_location =
            sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_type(st, 3) != SQLITE_NULL;
        p.lat = sqlite3_column_double(st, 2);
        p.lon = sqlite3_column_double(st, 3);
        p.contract_end = hub_sqlite_col(st, 4);
        if (cb(arg, &p))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "dealer places");
}

static depot_err sq_nodes(hub_store *s, const char *dealer, const char *node, hub_node_cb cb,
                          void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_NODES);
    struct hub_node_row n;
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    hub_sqlite_bind_text(st, 2, node);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n.node = hub_sqlite_col(st, 0);
        n.fault = sqlite3_column_int(st, 1) != 0;
        n.reason = hub_sqlite_col(st, 2);
        n.since = sqlite3_column_int64(st, 3);
        if (cb(arg, &n))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "nodes");
}

static depot_err sq_catalog_version(hub_store *s, long long *version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_CAT_VERSION);
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    return hub_sqlite_walk_end(q, st, rc, "catalog version");
}

static depot_err sq_profiles_version(hub_store *s, long long *version)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_PROF_VERSION);
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    return hub_sqlite_walk_end(q, st, rc, "profiles version");
}

static depot_err sq_alert_refresh(hub_store *s, long long id, const char *action,
                                  const char *suggestion, long long at, hub_alert_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_REFRESH);
    bool found = false;
    depot_err err;
    sqlite3_bind_int64(st, 1, id);
    hub_sqlite_bind_text(st, 2, action);
    hub_sqlite_bind_text(st, 3, suggestion);
    sqlite3_bind_int64(st, 4, at);
    err = alert_walk(q, st, cb, arg, &found, "alert refresh");
    return err == DEPOT_OK && !found ? DEPOT_ERR_NOTFOUND : err;
}

/* ---- the engine log and the memos ---- */

static depot_err sq_log_add(hub_store *s, int stream, const char *writer, const char *dealers,
                            long long at)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_LOG_ADD);
    sqlite3_bind_int(st, 1, stream);
    hub_sqlite_bind_text(st, 2, writer);
    hub_sqlite_bind_text(st, 3, dealers);
    sqlite3_bind_int64(st, 4, at);
    return hub_sqlite_run(q, st, "engine log add");
}

static depot_err sq_log_read(hub_store *s, int stream, long long after, hub_log_cb cb, void *arg,
                             long long *head, long long *pruned)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_LOG_HEAD);
    int rc = sqlite3_step(st);
    depot_err err;
    *head = *pruned = 0;
    if (rc == SQLITE_ROW) {
        *head = sqlite3_column_int64(st, 0);
        *pruned = sqlite3_column_int64(st, 1);
        *head = *head > *pruned ? *head : *pruned;
    }
    err = hub_sqlite_walk_end(q, st, rc, "engine log head");
    if (err != DEPOT_OK || after < 0 || after >= *head)
        return err;
    st = prep(q, A_LOG_READ);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, stream);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb(arg, sqlite3_column_int64(st, 0), hub_sqlite_col(st, 1), hub_sqlite_col(st, 2)))
            break;
    return hub_sqlite_walk_end(q, st, rc, "engine log");
}

static depot_err sq_log_prune(hub_store *s, long long before)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_LOG_LAST_BEFORE);
    long long last = 0;
    int rc;
    depot_err err;
    sqlite3_bind_int64(st, 1, before);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        last = sqlite3_column_int64(st, 0);
    err = hub_sqlite_walk_end(q, st, rc, "engine log prune");
    if (err == DEPOT_OK && last > 0) {
        st = prep(q, A_LOG_MARK);
        sqlite3_bind_int64(st, 1, last);
        err = hub_sqlite_run(q, st, "engine log prune");
    }
    if (err == DEPOT_OK && last > 0) {
        st = prep(q, A_LOG_DEL);
        sqlite3_bind_int64(st, 1, last);
        err = hub_sqlite_run(q, st, "engine log prune");
    }
    return err;
}

static depot_err sq_memo_set(hub_store *s, const struct hub_alert_memo *m)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_MEMO_SET);
    hub_sqlite_bind_text(st, 1, m->dealer);
    hub_sqlite_bind_text(st, 2, m->sku);
    hub_sqlite_bind_text(st, 3, m->kind);
    hub_sqlite_bind_text(st, 4, m->subject);
    sqlite3_bind_int64(st, 5, m->id);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)m->sg_hash);
    sqlite3_bind_int64(st, 7, m->tally);
    sqlite3_bind_int64(st, 8, m->back);
    return hub_sqlite_run(q, st, "alert memo");
}

static depot_err sq_memo_del(hub_store *s, long long id)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_MEMO_DEL);
    sqlite3_bind_int64(st, 1, id);
    return hub_sqlite_run(q, st, "alert memo delete");
}

static int memo_row(sqlite3_stmt *st, hub_memo_cb cb, void *arg)
{
    struct hub_alert_memo m;
    m.dealer = hub_sqlite_col(st, 0);
    m.sku = hub_sqlite_col(st, 1);
    m.kind = hub_sqlite_col(st, 2);
    m.subject = hub_sqlite_col(st, 3);
    m.id = sqlite3_column_int64(st, 4);
    m.sg_hash = (uint64_t)sqlite3_column_int64(st, 5);
    m.tally = sqlite3_column_int64(st, 6);
    m.back = sqlite3_column_int64(st, 7);
    m.severity = hub_sqlite_col(st, 8);
    m.text = hub_sqlite_col(st, 9);
    return cb(arg, &m);
}

static depot_err sq_memos(hub_store *s, const char *dealer, hub_memo_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, A_MEMOS);
    int rc;
    hub_sqlite_bind_text(st, 1, dealer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (memo_row(st, cb, arg))
            break;
    return hub_sqlite_walk_end(q, st, rc, "alert memos");
}

/* A space-separated list as a JSON array of strings (ids and "dealer/sku" need no escapes;
 * anything else is dropped). Allocated. */
static char *json_list(const char *list)
{
    size_t n = strlen(list ? list : ""), at = 0;
    char *out = depot_malloc(4 * n + 3); /* a word of l bytes is l + 3 at most: "w", */
    if (!out)
        return NULL;
    out[at++] = '[';
    for (const char *p = list ? list : ""; *p;) {
        size_t len = strcspn(p, " ");
        bool plain = len > 0;
        for (size_t i = 0; i < len; i++)
            plain = plain && p[i] != '"' && p[i] != '\\' && (unsigned char)p[i] >= 0x20;
        if (plain) {
            at += (size_t)sprintf(out + at, "%s\"%.*s\"", at > 1 ? "," : "", (int)len, p);
        }
        p += len + (p[len] == ' ');
    }
    out[at++] = ']';
    out[at] = '\0';
    return out;
}

static depot_err sq_reload(hub_store *s, const struct hub_alert_reload *r, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    char *dealers = json_list(r->dealers), *cells = json_list(r->cells), *all = json_list(r->all);
    sqlite3_stmt *st;
    depot_err err = dealers && cells && all ? DEPOT_OK : DEPOT_ERR_NOMEM;
    int rc;
    if (err == DEPOT_OK) {
        struct hub_dealer_row d;
        st = prep(q, A_R_DEALERS);
        hub_sqlite_bind_text(st, 1, dealers);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            hub_sqlite_dealer_row(st, &d);
            if (r->dealer(arg, &d))
                break;
        }
        err = hub_sqlite_walk_end(q, st, rc, "engine reload");
    }
    if (err == DEPOT_OK) {
        struct hub_stock_row row = {0};
        st = prep(q, A_R_STOCK);
        hub_sqlite_bind_text(st, 1, cells);
        hub_sqlite_bind_text(st, 2, all);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            row.dealer = hub_sqlite_col(st, 0);
            row.sku = hub_sqlite_col(st, 1);
            row.qty = sqlite3_column_int64(st, 2);
            if (r->stock(arg, &row))
                break;
        }
        err = hub_sqlite_walk_end(q, st, rc, "engine reload");
    }
    if (err == DEPOT_OK) {
        st = prep(q, A_R_SUMS);
        hub_sqlite_bind_text(st, 1, cells);
        hub_sqlite_bind_text(st, 2, all);
        sqlite3_bind_int64(st, 3, r->from_day);
        sqlite3_bind_int64(st, 4, r->to_day);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if (r->sum(arg, hub_sqlite_col(st, 0), hub_sqlite_col(st, 1),
                       sqlite3_column_int64(st, 2)))
                break;
        err = hub_sqlite_walk_end(q, st, rc, "engine reload");
    }
    for (int i = 0; err == DEPOT_OK && i < 2; i++) {
        st = prep(q, i ? A_R_MEMOS : A_R_ALERTS);
        hub_sqlite_bind_text(st, 1, dealers);
        hub_sqlite_bind_text(st, 2, cells);
        hub_sqlite_bind_text(st, 3, all);
        if (i) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (memo_row(st, r->memo, arg))
                    break;
            err = hub_sqlite_walk_end(q, st, rc, "engine reload");
        } else {
            err = alert_walk(q, st, r->alert, arg, NULL, "engine reload");
        }
    }
    depot_free(dealers);
    depot_free(cells);
    depot_free(all);
    return err;
}

const struct hub_store_alert_ops hub_sqlite_alert_ops = {
    .points = sq_points,
    .days = sq_days,
    .picked_sums = sq_picked_sums,
    .picked_range = sq_picked_range,
    .prune = sq_prune,
    .shrink_add = sq_shrink_add,
    .shrink_due = sq_shrink_due,
    .alert_put = sq_alert_put,
    .alert_ack = sq_alert_ack,
    .alert_resolve = sq_alert_resolve,
    .alert_get = sq_alert_get,
    .alerts_list = sq_alerts_list,
    .alerts_live_counts = sq_live_counts,
    .outbox_add = sq_outbox_add,
    .outbox_list = sq_outbox_list,
    .outbox_del = sq_outbox_del,
    .places = sq_places,
    .nodes = sq_nodes,
    .catalog_version = sq_catalog_version,
    .profiles_version = sq_profiles_version,
    .alert_refresh = sq_alert_refresh,
    .log_add = sq_log_add,
    .log_read = sq_log_read,
    .log_prune = sq_log_prune,
    .memo_set = sq_memo_set,
    .memo_del = sq_memo_del,
    .memos = sq_memos,
    .reload = sq_reload,
};

depot_err hub_sqlite_alerts_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, schema, "alerts schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, hub_sqlite_engine_schema, "engine log schema");
    if (err == DEPOT_OK)
        err = hub_sqlite_exec(q, hub_sqlite_movements_schema, "movements schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, asql, A__COUNT, q->ast);
}

void hub_sqlite_alerts_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->ast, A__COUNT);
}
