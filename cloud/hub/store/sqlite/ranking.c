/*
 * The ranking domain of the SQLite store.
 *
 * Tables:
 *   presence (seq PK; dealer, at, online)   append-only: a trigger aborts UPDATE and DELETE
 *
 * Everything else it reads belongs to other domains (payments, orders,
 * forged_orders, dealers). These queries run once, when the hub starts, so
 * they are prepared per call instead of held for the connection's life.
 */
#include <sqlite3.h>
#include <string.h>

#include "depot/log.h"
#include "store/ranking.h"
#include "store/sqlite/sqlite.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS presence(seq INTEGER PRIMARY KEY AUTOINCREMENT, "
    " dealer TEXT NOT NULL, at INTEGER NOT NULL, online INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS presence_no_update BEFORE UPDATE ON presence "
    " BEGIN SELECT RAISE(ABORT, 'presence is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS presence_no_delete BEFORE DELETE ON presence "
    " BEGIN SELECT RAISE(ABORT, 'presence is append-only'); END;";

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
    {HUB_FACT_TASK, "SELECT r.dealer, CAST(strftime('%s', t.due) AS INTEGER) * 1000, 1, "
                    "r.done_at > 0 AND r.done_at < CAST(strftime('%s', t.due) AS INTEGER) * 1000 "
                    "+ 86400000 FROM task_reach r JOIN tasks t ON t.id = r.task"},
    {HUB_FACT_DIVERSION, "SELECT i.dealer, MIN(c.ts), 0, 0 FROM code_scans c JOIN item_codes i "
                         "ON i.code = c.code WHERE i.dealer <> c.dealer AND c.kind IN "
                         "('receive', 'pick') GROUP BY c.code, c.dealer, i.dealer"},
};

static depot_err walk(struct sqlite_store *q, int i, hub_fact_cb cb, void *arg, bool *stop)
{
    sqlite3_stmt *st = NULL;
    struct hub_fact f = {.kind = sources[i].kind};
    int rc = sqlite3_prepare_v2(q->db, sources[i].sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        LOG_ERROR("sqlite: ranking facts: %s", sqlite3_errmsg(q->db));
        return DEPOT_ERR_DB;
    }
    while (!*stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        f.dealer = (const char *)sqlite3_column_text(st, 0);
        f.at = sqlite3_column_int64(st, 1);
        f.amount = sqlite3_column_int64(st, 2);
        f.flag = sqlite3_column_int(st, 3) != 0;
        *stop = f.dealer && cb(arg, &f) != 0;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        LOG_ERROR("sqlite: ranking facts: %s", sqlite3_errmsg(q->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : DEPOT_ERR_DB;
}

static depot_err r_facts(hub_store *s, hub_fact_cb cb, void *arg)
{
    bool stop = false;
    depot_err err = DEPOT_OK;
    for (size_t i = 0; err == DEPOT_OK && !stop && i < sizeof(sources) / sizeof(sources[0]); i++)
        err = walk(hub_sqlite_impl(s), (int)i, cb, arg, &stop);
    return err;
}

static depot_err r_presence_add(hub_store *s, const char *dealer, long long at, bool online)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        q->db, "INSERT INTO presence(dealer, at, online) VALUES(?1, ?2, ?3)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dealer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, at);
        sqlite3_bind_int(st, 3, online);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE)
        LOG_ERROR("sqlite: presence: %s", sqlite3_errmsg(q->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? DEPOT_OK : DEPOT_ERR_DB;
}

const struct hub_store_ranking_ops hub_sqlite_ranking_ops = {
    .facts = r_facts,
    .presence_add = r_presence_add,
};

depot_err hub_sqlite_ranking_setup(struct sqlite_store *q)
{
    return hub_sqlite_exec(q, schema, "ranking schema");
}
