/*
 * The ranking domain of the PostgreSQL store (the PostgreSQL version of
 * store/sqlite/ranking.c).
 *
 * Tables:
 *   presence (seq PK; dealer, at, online)   append-only: a trigger refuses UPDATE and DELETE
 *
 * The fact queries run once, when a hub starts, so they are sent as text
 * (hub_pg_walk_sql) instead of kept prepared; the presence insert is kept.
 */
#include "store/pg/pg.h"
#include "store/ranking.h"

static const char *const sql[] = {
    "INSERT INTO presence(dealer, at, online) VALUES($1, $2, $3)",
};

static const struct hub_pg_stmts stmts = {PG_T_RANKING, 1, sql};

const char hub_pg_schema_ranking[] =
    "CREATE TABLE presence(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    " dealer " PG_TEXT " NOT NULL, at BIGINT NOT NULL, online BIGINT NOT NULL);" //
    HUB_PG_APPEND_ONLY("presence");

/* One query per fact source: columns dealer, at, amount, flag. */
static const struct {
    enum hub_fact_kind kind;
    const char *sql;
} sources[] = {
    {HUB_FACT_PAYMENT, "SELECT dealer, at, amount, 0 FROM payments ORDER BY id"},
    {HUB_FACT_ORDER, "SELECT dealer, received_at, total, status = 'rejected' AND "
                     "(reason LIKE 'unknown barcode %' OR reason LIKE 'qty % outside %') "
                     "FROM orders"},
    {HUB_FACT_INVOICE, "SELECT dealer, decided_at, total, 0 FROM orders WHERE status = 'approved'"},
    {HUB_FACT_ORDER, "SELECT dealer, at, 0, 1 FROM forged_orders ORDER BY seq"},
    {HUB_FACT_PRESENCE, "SELECT dealer, at, 0, online FROM presence ORDER BY seq"},
    {HUB_FACT_SEEN, "SELECT id, last_seen, 0, 0 FROM dealers"},
    {HUB_FACT_TASK, "SELECT r.dealer, CAST(extract(epoch FROM CAST(t.due AS date)) AS BIGINT) * "
                    "1000, 1, r.done_at > 0 AND r.done_at < CAST(extract(epoch FROM CAST(t.due AS "
                    "date)) AS BIGINT) * 1000 + 86400000 FROM task_reach r JOIN tasks t "
                    "ON t.id = r.task"},
    {HUB_FACT_DIVERSION, "SELECT i.dealer, MIN(c.ts), 0, 0 FROM code_scans c JOIN item_codes i "
                         "ON i.code = c.code WHERE i.dealer <> c.dealer AND c.kind IN "
                         "('receive', 'pick') GROUP BY c.code, c.dealer, i.dealer"},
};

struct fact_walk {
    enum hub_fact_kind kind;
    hub_fact_cb cb;
    void *arg;
    bool stop;
};

static int fact_row(void *arg, const PGresult *res, int r)
{
    struct fact_walk *w = arg;
    struct hub_fact f = {
        .kind = w->kind,
        .dealer = hub_pg_col(res, r, 0),
        .at = hub_pg_int(res, r, 1),
        .amount = hub_pg_int(res, r, 2),
        .flag = hub_pg_bool(res, r, 3),
    };
    w->stop = w->cb(w->arg, &f) != 0;
    return w->stop;
}

static depot_err r_facts(hub_store *s, hub_fact_cb cb, void *arg)
{
    struct fact_walk w = {.cb = cb, .arg = arg};
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && !w.stop && i < sizeof(sources) / sizeof(sources[0]);
         i++) {
        w.kind = sources[i].kind;
        err = hub_pg_walk_sql(hub_pg_impl(s), sources[i].sql, NULL, "ranking facts", fact_row,
                              &w);
    }
    return err;
}

static depot_err r_presence_add(hub_store *s, const char *dealer, long long at, bool online)
{
    struct pg_params p = {0};
    pgp_text(&p, dealer);
    pgp_int(&p, at);
    pgp_bool(&p, online);
    return hub_pg_run(hub_pg_impl(s), &stmts, 0, &p, "presence", NULL);
}

const struct hub_store_ranking_ops hub_pg_ranking_ops = {
    .facts = r_facts,
    .presence_add = r_presence_add,
};
