/*
 * The history and alert domain of the PostgreSQL store (the PostgreSQL
 * version of store/sqlite/alerts.c, whose header lists the tables and
 * invariants; they hold here unchanged).
 *
 * Differences of form only: shrink_open and alerts have identity keys where
 * SQLite has rowids; the profiles_version bump is one PL/pgSQL trigger
 * function for insert, update and delete of dealer_profiles; an alert list
 * without a limit binds LIMIT NULL (PostgreSQL refuses SQLite's -1).
 */
#include <string.h>

#include "store/alerts.h"
#include "store/pg/pg.h"

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

_Static_assert(A__COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define SHRINK_MATCH_MAX 64 /* rows one match consumes at most (as on SQLite) */
#define STR_(x) #x
#define STR(x) STR_(x)

#define ALERT_COLS                                                                                 \
    "id, dealer, sku, kind, subject, severity, status, text, action, suggestion, opened_at, "      \
    "updated_at, acked_by, acked_at, resolved_by, resolved_at, count"

#define IN_CELLS(p)                                                                                \
    "(SELECT split_part(x, '/', 1), split_part(x, '/', 2) FROM unnest(string_to_array(" p          \
    ", ' ')) x)"
#define MEMO_SELECT                                                                                \
    "SELECT m.dealer, m.sku, m.kind, m.subject, m.id, m.sg_hash, m.tally, m.back, a.severity, "    \
    "a.text FROM alert_memo m JOIN alerts a ON a.id = m.id "

static const char *const asql[A__COUNT] = {
    [A_DAY_ADD] = "INSERT INTO sales_daily(dealer, sku, day, picked, value, received, scale_out) "
                  "VALUES($1, $2, $3, $4::bigint, $4::bigint * COALESCE((SELECT price FROM "
                  "catalog WHERE sku = $2), 0), $5, $6) ON CONFLICT(dealer, sku, day) DO UPDATE "
                  "SET picked = sales_daily.picked + excluded.picked, "
                  "value = sales_daily.value + excluded.value, "
                  "received = sales_daily.received + excluded.received, "
                  "scale_out = sales_daily.scale_out + excluded.scale_out",
    [A_POINT] = "INSERT INTO stock_history(dealer, sku, ts, qty) VALUES($1, $2, $3, $4) "
                "ON CONFLICT(dealer, sku, ts) DO UPDATE SET qty = excluded.qty",
    [A_MOVE_ADD] = "INSERT INTO movements(dealer, ledger, mid, ts, node, sku, kind, delta, qty) "
                   "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                   "ON CONFLICT(dealer, ledger, mid) DO NOTHING",
    [A_Q_POINTS] = "SELECT ts, qty FROM stock_history WHERE dealer = $1 AND sku = $2 "
                   "AND ts >= $3 ORDER BY ts",
    [A_Q_DAYS] = "SELECT day, picked, value, received, scale_out FROM sales_daily "
                 "WHERE dealer = $1 AND sku = $2 AND day >= $3 ORDER BY day",
    [A_Q_SUMS] = "SELECT dealer, sku, SUM(picked)::bigint FROM sales_daily WHERE day BETWEEN $1 "
                 "AND $2 GROUP BY dealer, sku HAVING SUM(picked) > 0",
    [A_Q_SUMS_RANGE] = "SELECT dealer, sku, SUM(picked)::bigint FROM sales_daily WHERE "
                       "(dealer, sku) >= ($3, $4) AND (dealer, sku) <= ($5, $6) AND "
                       "day BETWEEN $1 AND $2 GROUP BY dealer, sku HAVING SUM(picked) > 0 "
                       "ORDER BY dealer, sku",
    [A_PRUNE_POINTS] = "DELETE FROM stock_history WHERE ts < $1",
    [A_PRUNE_DAYS] = "DELETE FROM sales_daily WHERE day < $1",
    [A_PRUNE_MOVES] = "DELETE FROM movements WHERE ts < $1",
    [A_PRUNE_MEMOS] = "DELETE FROM alert_memo WHERE id IN (SELECT id FROM alerts WHERE "
                      "status = 'resolved' AND resolved_at < $1)",
    [A_PRUNE_ALERTS] = "DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < $1",
    [A_SHR_FIND] = "SELECT id, units FROM shrink_open WHERE dealer = $1 AND sku = $2 "
                   "AND kind = $3 AND ts BETWEEN $4 AND $5 ORDER BY ts, id "
                   "LIMIT " STR(SHRINK_MATCH_MAX),
    [A_SHR_SET] = "UPDATE shrink_open SET units = $2 WHERE id = $1",
    [A_SHR_DEL] = "DELETE FROM shrink_open WHERE id = $1",
    [A_SHR_ADD] = "INSERT INTO shrink_open(dealer, sku, kind, ts, units, received_at) "
                  "VALUES($1, $2, $3, $4, $5, $6)",
    [A_SHR_DUE] = "SELECT dealer, sku, SUM(units)::bigint FROM shrink_open WHERE kind = 'd' AND "
                  "ts <= $1 AND received_at <= $2 GROUP BY dealer, sku",
    [A_SHR_DUE_DEL] = "DELETE FROM shrink_open WHERE kind = 'd' AND ts <= $1 AND received_at <= $2",
    [A_SHR_PRUNE] = "DELETE FROM shrink_open WHERE kind = 'p' AND ts <= $1 AND received_at <= $2",
    [A_PUT] = "INSERT INTO alerts(dealer, sku, kind, subject, severity, status, text, action, "
              "suggestion, opened_at, updated_at, acked_by, acked_at, resolved_by, resolved_at, "
              "count) VALUES($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $9, '', 0, '', 0, 1) "
              "ON CONFLICT(dealer, sku, kind, subject) WHERE status <> 'resolved' DO UPDATE SET "
              "severity = excluded.severity, text = excluded.text, action = excluded.action, "
              "suggestion = excluded.suggestion, updated_at = excluded.updated_at, "
              "count = alerts.count + 1 RETURNING " ALERT_COLS,
    [A_GET] = "SELECT " ALERT_COLS " FROM alerts WHERE id = $1",
    [A_ACK] = "UPDATE alerts SET status = 'acknowledged', acked_by = $2, acked_at = $3, "
              "updated_at = $3 WHERE id = $1 AND status = 'open'",
    [A_RESOLVE] = "UPDATE alerts SET status = 'resolved', resolved_by = $2, resolved_at = $3, "
                  "updated_at = $3 WHERE id = $1 AND status <> 'resolved'",
    [A_LIST] = "SELECT " ALERT_COLS " FROM alerts WHERE ($1::text IS NULL OR status = $1) AND "
               "($2::text IS NULL OR dealer = $2) AND ($3::text IS NULL OR kind = $3) AND "
               "($4::text IS NULL OR sku = $4) AND ($6::bigint <= 0 OR id < $6) "
               "ORDER BY id DESC LIMIT $5::bigint",
    [A_COUNTS] = "SELECT kind, COUNT(*) FROM alerts WHERE status <> 'resolved' GROUP BY kind",
    [A_OUT_ADD] = "INSERT INTO alert_outbox(dealer, kind, payload) VALUES($1, $2, $3)",
    [A_OUT_LIST] = "SELECT seq, dealer, kind, payload FROM alert_outbox ORDER BY seq LIMIT $1",
    [A_OUT_DEL] = "DELETE FROM alert_outbox WHERE seq = $1",
    [A_PLACES] = "SELECT id, region, lat, lon, contract_end FROM dealer_profiles ORDER BY id",
    [A_NODES] = "SELECT node, fault, reason, since FROM nodes WHERE dealer = $1 AND "
                "($2::text IS NULL OR node = $2) ORDER BY node",
    [A_CAT_VERSION] = "SELECT COALESCE((SELECT value FROM meta WHERE key = 'catalog_version'), 0)",
    [A_PROF_VERSION] =
        "SELECT COALESCE((SELECT value FROM meta WHERE key = 'profiles_version'), 0)",
    [A_REFRESH] = "UPDATE alerts SET action = $2, suggestion = $3, updated_at = $4 "
                  "WHERE id = $1 AND status <> 'resolved' RETURNING " ALERT_COLS,
    [A_LOG_ADD] = "INSERT INTO engine_log(stream, writer, words, at) VALUES($1, $2, $3, $4)",
    [A_LOG_READ] = "SELECT seq, writer, words FROM engine_log WHERE seq > $1 AND stream = $2 "
                   "ORDER BY seq",
    [A_LOG_HEAD] = "SELECT COALESCE((SELECT MAX(seq) FROM engine_log), 0), "
                   "COALESCE((SELECT value FROM meta WHERE key = 'engine_log_pruned'), 0)",
    [A_LOG_LAST_BEFORE] = "SELECT MAX(seq) FROM engine_log WHERE at < $1",
    [A_LOG_MARK] = "INSERT INTO meta(key, value) VALUES('engine_log_pruned', $1) "
                   "ON CONFLICT(key) DO UPDATE SET value = GREATEST(meta.value, excluded.value)",
    [A_LOG_DEL] = "DELETE FROM engine_log WHERE seq <= $1",
    [A_MEMO_SET] = "INSERT INTO alert_memo(dealer, sku, kind, subject, id, sg_hash, tally, back) "
                   "VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(dealer, sku, kind, subject) "
                   "DO UPDATE SET id = excluded.id, sg_hash = excluded.sg_hash, "
                   "tally = excluded.tally, back = excluded.back",
    [A_MEMOS] = MEMO_SELECT "WHERE $1::text IS NULL OR m.dealer = $1",
    [A_MEMO_DEL] = "DELETE FROM alert_memo WHERE id = $1",
    /* the reload of store/alerts.h: space-separated lists */
    [A_R_DEALERS] = "SELECT id, online, session, last_seen, first_seen FROM dealers "
                    "WHERE id = ANY(string_to_array($1, ' '))",
    [A_R_STOCK] = "SELECT dealer, sku, qty FROM stock WHERE (dealer, sku) IN " IN_CELLS(
        "$1") " "
              "UNION ALL SELECT dealer, sku, qty FROM stock "
              "WHERE dealer = ANY(string_to_array($2, ' '))",
    [A_R_SUMS] =
        "SELECT dealer, sku, SUM(picked)::bigint FROM sales_daily WHERE (dealer, sku) IN " IN_CELLS(
            "$1") " AND day BETWEEN $3 AND $4 GROUP BY dealer, sku "
                  "HAVING SUM(picked) > 0 UNION ALL SELECT dealer, sku, SUM(picked)::bigint "
                  "FROM sales_daily WHERE dealer = ANY(string_to_array($2, ' ')) AND day BETWEEN "
                  "$3 AND $4 GROUP BY dealer, sku HAVING SUM(picked) > 0",
    [A_R_ALERTS] =
        "SELECT " ALERT_COLS " FROM alerts WHERE status <> 'resolved' AND sku = '' "
        "AND dealer = ANY(string_to_array($1, ' ')) UNION ALL SELECT " ALERT_COLS
        " FROM alerts WHERE status <> 'resolved' AND (dealer, sku) IN " IN_CELLS(
            "$2") " UNION ALL SELECT " ALERT_COLS " FROM alerts WHERE status <> 'resolved' "
                  "AND sku <> '' AND dealer = ANY(string_to_array($3, ' '))",
    [A_R_MEMOS] = MEMO_SELECT
    "WHERE m.sku = '' AND m.dealer = ANY(string_to_array($1, ' ')) "
    "UNION ALL " MEMO_SELECT
    "WHERE (m.dealer, m.sku) IN " IN_CELLS("$2") " "
                                                 "UNION ALL " MEMO_SELECT "WHERE m.sku <> '' AND "
                                                 "m.dealer = ANY(string_to_array($3, ' '))",
};

static const struct hub_pg_stmts stmts = {PG_T_ALERTS, A__COUNT, asql};

/* Migration 3 (store/pg/schema.c): the engine log and the alerts' memos (store/alerts.h). */
const char hub_pg_schema_engine[] =
    "CREATE TABLE engine_log(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " stream INTEGER NOT NULL, writer " PG_TEXT " NOT NULL, words " PG_TEXT
    " NOT NULL, at BIGINT NOT NULL);"
    "CREATE TABLE alert_memo(dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " kind " PG_TEXT " NOT NULL, subject " PG_TEXT " NOT NULL, id BIGINT NOT NULL UNIQUE, "
    " sg_hash BIGINT NOT NULL, tally BIGINT NOT NULL, back BIGINT NOT NULL, "
    " PRIMARY KEY(dealer, sku, kind, subject));";

/* Migration 10: each applied movement (store/sqlite/alerts.c). */
const char hub_pg_schema_movements[] =
    "CREATE TABLE movements(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " mid BIGINT NOT NULL, ts BIGINT NOT NULL, node " PG_TEXT " NOT NULL, "
    " sku " PG_TEXT " NOT NULL, kind " PG_TEXT " NOT NULL, delta BIGINT NOT NULL, "
    " qty BIGINT NOT NULL, PRIMARY KEY(dealer, ledger, mid));"
    "CREATE INDEX movements_by_sku ON movements(dealer, sku, ts);";

const char hub_pg_schema_alerts[] =
    "CREATE TABLE sales_daily(dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " day BIGINT NOT NULL, picked BIGINT NOT NULL, value BIGINT NOT NULL, "
    " received BIGINT NOT NULL, scale_out BIGINT NOT NULL, PRIMARY KEY(dealer, sku, day));"
    "CREATE TABLE stock_history(dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " ts BIGINT NOT NULL, qty BIGINT NOT NULL, PRIMARY KEY(dealer, sku, ts));"
    "CREATE TABLE shrink_open(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, kind " PG_TEXT " NOT NULL, "
    " ts BIGINT NOT NULL, units BIGINT NOT NULL, received_at BIGINT NOT NULL);"
    "CREATE INDEX shrink_open_key ON shrink_open(dealer, sku, kind, ts);"
    "CREATE TABLE alerts(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, kind " PG_TEXT " NOT NULL, "
    " subject " PG_TEXT " NOT NULL, severity " PG_TEXT " NOT NULL, status " PG_TEXT " NOT NULL, "
    " text " PG_TEXT " NOT NULL, action " PG_TEXT " NOT NULL, suggestion " PG_TEXT " NOT NULL, "
    " opened_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, acked_by " PG_TEXT " NOT NULL, "
    " acked_at BIGINT NOT NULL, resolved_by " PG_TEXT " NOT NULL, resolved_at BIGINT NOT NULL, "
    " count BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX alerts_live ON alerts(dealer, sku, kind, subject) "
    " WHERE status <> 'resolved';"
    "CREATE INDEX alerts_by_status ON alerts(status, kind);"
    "CREATE TABLE alert_outbox(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, kind " PG_TEXT " NOT NULL, payload TEXT NOT NULL);"
    /* Any change of a dealer profile moves profiles_version (store/sqlite/alerts.c). */
    "CREATE FUNCTION depot_profiles_version() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
    " INSERT INTO meta(key, value) VALUES('profiles_version', 1) "
    " ON CONFLICT(key) DO UPDATE SET value = meta.value + 1; RETURN NULL; END $fn$;"
    "CREATE TRIGGER profiles_version AFTER INSERT OR UPDATE OR DELETE ON dealer_profiles "
    " FOR EACH ROW EXECUTE FUNCTION depot_profiles_version();";

/* A walk's callback and its argument, for the row readers below. */
struct walk {
    void *cb;
    void *arg;
};

/* ---- history, written by ingest (invariant 1) ---- */

depot_err hub_pg_history_point(struct pg_store *q, const char *dealer, const char *sku,
                               long long ts, long long qty)
{
    struct pg_params p = {0};
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_int(&p, ts);
    pgp_int(&p, qty);
    return hub_pg_run(q, &stmts, A_POINT, &p, "stock point", NULL);
}

static depot_err day_add(struct pg_store *q, const char *dealer,
                         const struct depot_movement_item *it)
{
    long long out = it->delta < 0 ? -it->delta : 0, in = it->delta > 0 ? it->delta : 0;
    long long picked = !strcmp(it->kind, "pick") ? out : 0;
    long long received = !strcmp(it->kind, "receive") ? in : 0;
    long long scale_out = !strcmp(it->kind, "scale") ? out : 0;
    struct pg_params p = {0};
    if (!picked && !received && !scale_out)
        return DEPOT_OK;
    pgp_text(&p, dealer);
    pgp_text(&p, it->sku);
    pgp_int(&p, it->ts >= 0 ? it->ts / HUB_DAY_MS : 0);
    pgp_int(&p, picked);
    pgp_int(&p, received);
    pgp_int(&p, scale_out);
    return hub_pg_run(q, &stmts, A_DAY_ADD, &p, "daily figures", NULL);
}

static depot_err move_add(struct pg_store *q, const depot_msg *m,
                          const struct depot_movement_item *it)
{
    struct pg_params p = {0};
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->ledger);
    pgp_int(&p, (long long)it->mid);
    pgp_int(&p, it->ts);
    pgp_text(&p, it->node);
    pgp_text(&p, it->sku);
    pgp_text(&p, it->kind);
    pgp_int(&p, it->delta);
    pgp_int(&p, it->qty);
    return hub_pg_run(q, &stmts, A_MOVE_ADD, &p, "movement", NULL);
}

depot_err hub_pg_history_apply(struct pg_store *q, const depot_msg *m)
{
    const struct depot_movements_body *b = &m->body.movements;
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && i < b->n_items; i++) {
        err = day_add(q, m->dealer, &b->items[i]);
        if (err == DEPOT_OK)
            err = move_add(q, m, &b->items[i]);
        if (err == DEPOT_OK)
            err = hub_pg_history_point(q, m->dealer, b->items[i].sku, b->items[i].ts,
                                       b->items[i].qty);
    }
    return err;
}

/* ---- history queries ---- */

static int point_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    return ((hub_point_cb)w->cb)(w->arg, hub_pg_int(res, r, 0), hub_pg_int(res, r, 1));
}

static depot_err pa_points(hub_store *s, const char *dealer, const char *sku, long long since,
                           hub_point_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_int(&p, since);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_Q_POINTS, &p, "stock points", point_row, &w);
}

static int day_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_day_row d = {
        .day = hub_pg_int(res, r, 0),
        .picked = hub_pg_int(res, r, 1),
        .value = hub_pg_int(res, r, 2),
        .received = hub_pg_int(res, r, 3),
        .scale_out = hub_pg_int(res, r, 4),
    };
    return ((hub_day_cb)w->cb)(w->arg, &d);
}

static depot_err pa_days(hub_store *s, const char *dealer, const char *sku, long long from_day,
                         hub_day_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_int(&p, from_day);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_Q_DAYS, &p, "daily figures", day_row, &w);
}

static int sum_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    return ((hub_sum_cb)w->cb)(w->arg, hub_pg_col(res, r, 0), hub_pg_col(res, r, 1),
                               hub_pg_int(res, r, 2));
}

static depot_err pa_picked_sums(hub_store *s, long long from_day, long long to_day, hub_sum_cb cb,
                                void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_int(&p, from_day);
    pgp_int(&p, to_day);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_Q_SUMS, &p, "picked sums", sum_row, &w);
}

static depot_err pa_picked_range(hub_store *s, long long from_day, long long to_day,
                                 const char *dealer_from, const char *sku_from,
                                 const char *dealer_to, const char *sku_to, hub_sum_cb cb,
                                 void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_int(&p, from_day);
    pgp_int(&p, to_day);
    pgp_text(&p, dealer_from);
    pgp_text(&p, sku_from);
    pgp_text(&p, dealer_to);
    pgp_text(&p, sku_to);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_Q_SUMS_RANGE, &p, "picked sums", sum_row, &w);
}

static depot_err pa_prune(hub_store *s, long long points_before, long long days_before,
                          long long resolved_before)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    depot_err err;
    pgp_int(&p, points_before);
    err = hub_pg_run(q, &stmts, A_PRUNE_POINTS, &p, "prune points", NULL);
    if (err != DEPOT_OK)
        return err;
    pgp_reset(&p);
    pgp_int(&p, days_before);
    err = hub_pg_run(q, &stmts, A_PRUNE_DAYS, &p, "prune days", NULL);
    pgp_reset(&p);
    pgp_int(&p, days_before * HUB_DAY_MS);
    if (err == DEPOT_OK)
        err = hub_pg_run(q, &stmts, A_PRUNE_MOVES, &p, "prune movements", NULL);
    pgp_reset(&p);
    pgp_int(&p, resolved_before);
    if (err == DEPOT_OK)
        err = hub_pg_run(q, &stmts, A_PRUNE_MEMOS, &p, "prune alerts", NULL);
    return err == DEPOT_OK ? hub_pg_run(q, &stmts, A_PRUNE_ALERTS, &p, "prune alerts", NULL) : err;
}

/* ---- shrinkage matching ---- */

/* Consumes up to *units of the opposite kind within the window; *units = what is left. */
static depot_err shrink_consume(struct pg_store *q, const char *dealer, const char *sku,
                                const char *kind, long long ts, long long window_ms,
                                long long *units)
{
    struct pg_params p = {0};
    PGresult *res;
    depot_err err;
    int n;
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_text(&p, kind);
    pgp_int(&p, ts - window_ms);
    pgp_int(&p, ts + window_ms);
    err = hub_pg_query(q, &stmts, A_SHR_FIND, &p, "shrink match", &res);
    if (err != DEPOT_OK)
        return err;
    n = PQntuples(res);
    for (int i = 0; err == DEPOT_OK && *units > 0 && i < n; i++) {
        long long have = hub_pg_int(res, i, 1), take = have < *units ? have : *units;
        *units -= take;
        pgp_reset(&p);
        pgp_int(&p, hub_pg_int(res, i, 0));
        if (have - take)
            pgp_int(&p, have - take);
        err = hub_pg_run(q, &stmts, have - take ? A_SHR_SET : A_SHR_DEL, &p, "shrink match", NULL);
    }
    PQclear(res);
    return err;
}

static depot_err pa_shrink_add(hub_store *s, const char *dealer, const char *sku, bool decrease,
                               long long ts, long long units, long long window_ms, long long now)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    depot_err err = shrink_consume(q, dealer, sku, decrease ? "p" : "d", ts, window_ms, &units);
    if (err != DEPOT_OK || units <= 0)
        return err;
    pgp_text(&p, dealer);
    pgp_text(&p, sku);
    pgp_text(&p, decrease ? "d" : "p");
    pgp_int(&p, ts);
    pgp_int(&p, units);
    pgp_int(&p, now);
    return hub_pg_run(q, &stmts, A_SHR_ADD, &p, "shrink add", NULL);
}

static depot_err pa_shrink_due(hub_store *s, long long ts_before, long long received_before,
                               hub_sum_cb cb, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    depot_err err;
    pgp_int(&p, ts_before);
    pgp_int(&p, received_before);
    err = hub_pg_walk(q, &stmts, A_SHR_DUE, &p, "shrink due", sum_row, &w);
    for (int id = A_SHR_DUE_DEL; err == DEPOT_OK && id <= A_SHR_PRUNE; id++)
        err = hub_pg_run(q, &stmts, id, &p, "shrink delete", NULL);
    return err;
}

/* ---- alerts ---- */

struct alert_walk {
    hub_alert_cb cb;
    void *arg;
    bool found, stop;
};

static int alert_row(void *arg, const PGresult *res, int r)
{
    struct alert_walk *w = arg;
    struct hub_alert_row a = {
        .id = hub_pg_int(res, r, 0),
        .dealer = hub_pg_col(res, r, 1),
        .sku = hub_pg_col(res, r, 2),
        .kind = hub_pg_col(res, r, 3),
        .subject = hub_pg_col(res, r, 4),
        .severity = hub_pg_col(res, r, 5),
        .status = hub_pg_col(res, r, 6),
        .text = hub_pg_col(res, r, 7),
        .action = hub_pg_col(res, r, 8),
        .suggestion = hub_pg_col(res, r, 9),
        .opened_at = hub_pg_int(res, r, 10),
        .updated_at = hub_pg_int(res, r, 11),
        .acked_by = hub_pg_col(res, r, 12),
        .acked_at = hub_pg_int(res, r, 13),
        .resolved_by = hub_pg_col(res, r, 14),
        .resolved_at = hub_pg_int(res, r, 15),
        .count = hub_pg_int(res, r, 16),
    };
    w->found = true;
    if (!w->stop && w->cb)
        w->stop = w->cb(w->arg, &a) != 0;
    return 0; /* a statement with RETURNING runs to its end whatever the callback says */
}

static depot_err pa_alert_put(hub_store *s, const struct hub_alert_put *put, hub_alert_cb cb,
                              void *arg)
{
    struct pg_params p = {0};
    struct alert_walk w = {cb, arg, false, false};
    pgp_text(&p, put->dealer);
    pgp_text(&p, put->sku ? put->sku : "");
    pgp_text(&p, put->kind);
    pgp_text(&p, put->subject ? put->subject : "");
    pgp_text(&p, put->severity);
    pgp_text(&p, put->text);
    pgp_text(&p, put->action ? put->action : "");
    pgp_text(&p, put->suggestion ? put->suggestion : "");
    pgp_int(&p, put->at);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_PUT, &p, "alert put", alert_row, &w);
}

static depot_err set_status(struct pg_store *q, enum astmt id, long long alert, const char *by,
                            long long at, bool *changed)
{
    struct pg_params p = {0};
    long long n = 0;
    depot_err err;
    pgp_int(&p, alert);
    pgp_text(&p, by);
    pgp_int(&p, at);
    err = hub_pg_run(q, &stmts, id, &p, "alert status", &n);
    *changed = err == DEPOT_OK && n > 0;
    return err;
}

static depot_err pa_alert_ack(hub_store *s, long long id, const char *by, long long at,
                              bool *changed)
{
    return set_status(hub_pg_impl(s), A_ACK, id, by, at, changed);
}

static depot_err pa_alert_resolve(hub_store *s, long long id, const char *by, long long at,
                                  bool *changed)
{
    return set_status(hub_pg_impl(s), A_RESOLVE, id, by, at, changed);
}

static depot_err pa_alert_get(hub_store *s, long long id, hub_alert_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct alert_walk w = {cb, arg, false, false};
    depot_err err;
    pgp_int(&p, id);
    err = hub_pg_walk(hub_pg_impl(s), &stmts, A_GET, &p, "alert get", alert_row, &w);
    return err == DEPOT_OK && !w.found ? DEPOT_ERR_NOTFOUND : err;
}

static depot_err pa_alerts_list(hub_store *s, const struct hub_alert_filter *f, hub_alert_cb cb,
                                void *arg)
{
    struct pg_params p = {0};
    struct alert_walk w = {cb, arg, false, false};
    pgp_text(&p, f->status);
    pgp_text(&p, f->dealer);
    pgp_text(&p, f->kind);
    pgp_text(&p, f->sku);
    if (f->limit > 0)
        pgp_int(&p, f->limit);
    else
        pgp_text(&p, NULL); /* LIMIT NULL: every row */
    pgp_int(&p, f->before);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_LIST, &p, "alerts list", alert_row, &w);
}

static int count_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    return ((hub_count_cb)w->cb)(w->arg, hub_pg_col(res, r, 0), hub_pg_int(res, r, 1));
}

static depot_err pa_live_counts(hub_store *s, hub_count_cb cb, void *arg)
{
    struct walk w = {(void *)cb, arg};
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_COUNTS, NULL, "alert counts", count_row, &w);
}

static depot_err pa_outbox_add(hub_store *s, const char *dealer, const char *kind,
                               const char *payload)
{
    struct pg_params p = {0};
    pgp_text(&p, dealer);
    pgp_text(&p, kind);
    pgp_text(&p, payload);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_OUT_ADD, &p, "alert outbox add", NULL);
}

static int outbox_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    return ((hub_outbox_cb)w->cb)(w->arg, hub_pg_int(res, r, 0), hub_pg_col(res, r, 1),
                                  hub_pg_col(res, r, 2), hub_pg_col(res, r, 3));
}

static depot_err pa_outbox_list(hub_store *s, long long limit, hub_outbox_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_int(&p, limit);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_OUT_LIST, &p, "alert outbox", outbox_row, &w);
}

static depot_err pa_outbox_del(hub_store *s, long long seq)
{
    struct pg_params p = {0};
    pgp_int(&p, seq);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_OUT_DEL, &p, "alert outbox delete", NULL);
}

/* ---- what the engine reads of other domains ---- */

static int place_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_dealer_place p = {
        .dealer = hub_pg_col(res, r, 0),
        .region = hub_pg_col(res, r, 1),
        .has_location = !hub_pg_null(res, r, 2) && !hub_pg_null(res, r, 3),
        .lat = hub_pg_double(res, r, 2),
        .lon = hub_pg_double(res, r, 3),
        .contract_end = hub_pg_col(res, r, 4),
    };
    return ((hub_place_cb)w->cb)(w->arg, &p);
}

static depot_err pa_places(hub_store *s, hub_place_cb cb, void *arg)
{
    struct walk w = {(void *)cb, arg};
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_PLACES, NULL, "dealer places", place_row, &w);
}

static int node_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_node_row n = {
        .node = hub_pg_col(res, r, 0),
        .fault = hub_pg_int(res, r, 1) != 0,
        .reason = hub_pg_col(res, r, 2),
        .since = hub_pg_int(res, r, 3),
    };
    return ((hub_node_cb)w->cb)(w->arg, &n);
}

static depot_err pa_nodes(hub_store *s, const char *dealer, const char *node, hub_node_cb cb,
                          void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_text(&p, dealer);
    pgp_text(&p, node);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_NODES, &p, "nodes", node_row, &w);
}

static depot_err one_int(struct pg_store *q, enum astmt id, long long *out, const char *what)
{
    PGresult *res;
    depot_err err = hub_pg_one_row(q, &stmts, id, NULL, what, &res);
    *out = 0;
    if (err == DEPOT_OK) {
        *out = hub_pg_int(res, 0, 0);
        PQclear(res);
    }
    return err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
}

static depot_err pa_catalog_version(hub_store *s, long long *version)
{
    return one_int(hub_pg_impl(s), A_CAT_VERSION, version, "catalog version");
}

static depot_err pa_profiles_version(hub_store *s, long long *version)
{
    return one_int(hub_pg_impl(s), A_PROF_VERSION, version, "profiles version");
}

static depot_err pa_alert_refresh(hub_store *s, long long id, const char *action,
                                  const char *suggestion, long long at, hub_alert_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct alert_walk w = {cb, arg, false, false};
    depot_err err;
    pgp_int(&p, id);
    pgp_text(&p, action);
    pgp_text(&p, suggestion);
    pgp_int(&p, at);
    err = hub_pg_walk(hub_pg_impl(s), &stmts, A_REFRESH, &p, "alert refresh", alert_row, &w);
    return err == DEPOT_OK && !w.found ? DEPOT_ERR_NOTFOUND : err;
}

/* ---- the engine log and the memos ---- */

static depot_err pa_log_add(hub_store *s, int stream, const char *writer, const char *dealers,
                            long long at)
{
    struct pg_params p = {0};
    pgp_int(&p, stream);
    pgp_text(&p, writer);
    pgp_text(&p, dealers);
    pgp_int(&p, at);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_LOG_ADD, &p, "engine log add", NULL);
}

static int log_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    return ((hub_log_cb)w->cb)(w->arg, hub_pg_int(res, r, 0), hub_pg_col(res, r, 1),
                               hub_pg_col(res, r, 2));
}

static depot_err pa_log_read(hub_store *s, int stream, long long after, hub_log_cb cb, void *arg,
                             long long *head, long long *pruned)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    PGresult *res;
    depot_err err = hub_pg_one_row(q, &stmts, A_LOG_HEAD, NULL, "engine log head", &res);
    *head = *pruned = 0;
    if (err == DEPOT_OK) {
        *head = hub_pg_int(res, 0, 0);
        *pruned = hub_pg_int(res, 0, 1);
        *head = *head > *pruned ? *head : *pruned;
        PQclear(res);
    }
    if (err != DEPOT_OK || after < 0 || after >= *head)
        return err;
    pgp_int(&p, after);
    pgp_int(&p, stream);
    return hub_pg_walk(q, &stmts, A_LOG_READ, &p, "engine log", log_row, &w);
}

static depot_err pa_log_prune(hub_store *s, long long before)
{
    struct pg_store *q = hub_pg_impl(s);
    struct pg_params p = {0};
    PGresult *res;
    long long last = 0;
    depot_err err;
    pgp_int(&p, before);
    err = hub_pg_one_row(q, &stmts, A_LOG_LAST_BEFORE, &p, "engine log prune", &res);
    if (err == DEPOT_OK) {
        last = hub_pg_null(res, 0, 0) ? 0 : hub_pg_int(res, 0, 0);
        PQclear(res);
    }
    err = err == DEPOT_ERR_NOTFOUND ? DEPOT_OK : err;
    pgp_reset(&p);
    pgp_int(&p, last);
    if (err == DEPOT_OK && last > 0)
        err = hub_pg_run(q, &stmts, A_LOG_MARK, &p, "engine log prune", NULL);
    if (err == DEPOT_OK && last > 0)
        err = hub_pg_run(q, &stmts, A_LOG_DEL, &p, "engine log prune", NULL);
    return err;
}

static depot_err pa_memo_set(hub_store *s, const struct hub_alert_memo *m)
{
    struct pg_params p = {0};
    pgp_text(&p, m->dealer);
    pgp_text(&p, m->sku);
    pgp_text(&p, m->kind);
    pgp_text(&p, m->subject);
    pgp_int(&p, m->id);
    pgp_int(&p, (long long)m->sg_hash);
    pgp_int(&p, m->tally);
    pgp_int(&p, m->back);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_MEMO_SET, &p, "alert memo", NULL);
}

static depot_err pa_memo_del(hub_store *s, long long id)
{
    struct pg_params p = {0};
    pgp_int(&p, id);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_MEMO_DEL, &p, "alert memo delete", NULL);
}

static int memo_row(void *arg, const PGresult *res, int r)
{
    struct walk *w = arg;
    struct hub_alert_memo m = {
        .dealer = hub_pg_col(res, r, 0),
        .sku = hub_pg_col(res, r, 1),
        .kind = hub_pg_col(res, r, 2),
        .subject = hub_pg_col(res, r, 3),
        .id = hub_pg_int(res, r, 4),
        .sg_hash = (uint64_t)hub_pg_int(res, r, 5),
        .tally = hub_pg_int(res, r, 6),
        .back = hub_pg_int(res, r, 7),
        .severity = hub_pg_col(res, r, 8),
        .text = hub_pg_col(res, r, 9),
    };
    return ((hub_memo_cb)w->cb)(w->arg, &m);
}

static depot_err pa_memos(hub_store *s, const char *dealer, hub_memo_cb cb, void *arg)
{
    struct pg_params p = {0};
    struct walk w = {(void *)cb, arg};
    pgp_text(&p, dealer);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_MEMOS, &p, "alert memos", memo_row, &w);
}

struct reload_walk {
    const struct hub_alert_reload *r;
    void *arg;
};

static int reload_dealer_row(void *arg, const PGresult *res, int r)
{
    struct reload_walk *w = arg;
    struct hub_dealer_row d;
    hub_pg_dealer_row(res, r, &d);
    return w->r->dealer(w->arg, &d);
}

static int reload_stock_row(void *arg, const PGresult *res, int r)
{
    struct reload_walk *w = arg;
    struct hub_stock_row row = {.dealer = hub_pg_col(res, r, 0),
                                .sku = hub_pg_col(res, r, 1),
                                .qty = hub_pg_int(res, r, 2)};
    return w->r->stock(w->arg, &row);
}

static int reload_sum_row(void *arg, const PGresult *res, int r)
{
    struct reload_walk *w = arg;
    return w->r->sum(w->arg, hub_pg_col(res, r, 0), hub_pg_col(res, r, 1), hub_pg_int(res, r, 2));
}

static depot_err pa_reload(hub_store *s, const struct hub_alert_reload *r, void *arg)
{
    struct pg_store *q = hub_pg_impl(s);
    struct reload_walk w = {r, arg};
    struct alert_walk aw = {r->alert, arg, false, false};
    struct walk mw = {(void *)r->memo, arg};
    struct pg_params p = {0};
    depot_err err;
    pgp_text(&p, r->dealers ? r->dealers : "");
    err = hub_pg_walk(q, &stmts, A_R_DEALERS, &p, "engine reload", reload_dealer_row, &w);
    pgp_reset(&p);
    pgp_text(&p, r->cells ? r->cells : "");
    pgp_text(&p, r->all ? r->all : "");
    if (err == DEPOT_OK)
        err = hub_pg_walk(q, &stmts, A_R_STOCK, &p, "engine reload", reload_stock_row, &w);
    pgp_int(&p, r->from_day);
    pgp_int(&p, r->to_day);
    if (err == DEPOT_OK)
        err = hub_pg_walk(q, &stmts, A_R_SUMS, &p, "engine reload", reload_sum_row, &w);
    pgp_reset(&p);
    pgp_text(&p, r->dealers ? r->dealers : "");
    pgp_text(&p, r->cells ? r->cells : "");
    pgp_text(&p, r->all ? r->all : "");
    if (err == DEPOT_OK)
        err = hub_pg_walk(q, &stmts, A_R_ALERTS, &p, "engine reload", alert_row, &aw);
    if (err == DEPOT_OK)
        err = hub_pg_walk(q, &stmts, A_R_MEMOS, &p, "engine reload", memo_row, &mw);
    return err;
}

const struct hub_store_alert_ops hub_pg_alert_ops = {
    .points = pa_points,
    .days = pa_days,
    .picked_sums = pa_picked_sums,
    .picked_range = pa_picked_range,
    .prune = pa_prune,
    .shrink_add = pa_shrink_add,
    .shrink_due = pa_shrink_due,
    .alert_put = pa_alert_put,
    .alert_ack = pa_alert_ack,
    .alert_resolve = pa_alert_resolve,
    .alert_get = pa_alert_get,
    .alerts_list = pa_alerts_list,
    .alerts_live_counts = pa_live_counts,
    .outbox_add = pa_outbox_add,
    .outbox_list = pa_outbox_list,
    .outbox_del = pa_outbox_del,
    .places = pa_places,
    .nodes = pa_nodes,
    .catalog_version = pa_catalog_version,
    .profiles_version = pa_profiles_version,
    .alert_refresh = pa_alert_refresh,
    .log_add = pa_log_add,
    .log_read = pa_log_read,
    .log_prune = pa_log_prune,
    .memo_set = pa_memo_set,
    .memo_del = pa_memo_del,
    .memos = pa_memos,
    .reload = pa_reload,
};
