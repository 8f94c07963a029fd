/*
 * The PostgreSQL store's schema migrations.
 *
 * schema_migrations(version PK, name, applied_at) lists what the database
 * has had. At start-up each hub instance takes a session advisory lock
 * (HUB_PG_MIGRATE_LOCK), applies every migration above the highest version
 * listed, each in its own transaction together with its row, and lets the
 * lock go. Instances that start together wait for the lock one after the
 * other; the later ones find every version listed and change nothing.
 *
 * A database whose highest version is above the newest this hub knows was
 * migrated by a newer hub: this one refuses to run on it rather than guess.
 *
 * A migration is appended to the list with the next version and never
 * changed after it has been released.
 */
#include <stdio.h>
#include <string.h>

#include "store/pg/pg.h"

#include "depot/clock.h"
#include "depot/log.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* pg.c's tables (dealers, streams, applied, stock, nodes, rejects, movement_tails) and the
 * function every append-only table's trigger calls. */
const char hub_pg_schema_main[] =
    "CREATE FUNCTION depot_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN "
    " RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $fn$;"
    "CREATE TABLE dealers(id " PG_TEXT " PRIMARY KEY, online BIGINT NOT NULL, "
    " session BIGINT NOT NULL, last_seen BIGINT NOT NULL, first_seen BIGINT NOT NULL);"
    "CREATE TABLE streams(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " applied_upto BIGINT NOT NULL DEFAULT 0, applied_count BIGINT NOT NULL DEFAULT 0, "
    " duplicates BIGINT NOT NULL DEFAULT 0, stale_ignored BIGINT NOT NULL DEFAULT 0, "
    " PRIMARY KEY(dealer, ledger));"
    "CREATE TABLE applied(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " msg_id BIGINT NOT NULL, PRIMARY KEY(dealer, ledger, msg_id));"
    "CREATE TABLE stock(dealer " PG_TEXT " NOT NULL, sku " PG_TEXT " NOT NULL, "
    " qty BIGINT NOT NULL, node " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " msg_id BIGINT NOT NULL, updated_at BIGINT NOT NULL, received_at BIGINT NOT NULL, "
    " PRIMARY KEY(dealer, sku));"
    "CREATE INDEX stock_by_sku ON stock(sku);"
    "CREATE TABLE nodes(dealer " PG_TEXT " NOT NULL, node " PG_TEXT " NOT NULL, "
    " fault BIGINT NOT NULL, reason " PG_TEXT " NOT NULL, since BIGINT NOT NULL, "
    " ledger " PG_TEXT " NOT NULL, msg_id BIGINT NOT NULL, PRIMARY KEY(dealer, node));"
    "CREATE TABLE rejects(reason " PG_TEXT " PRIMARY KEY, count BIGINT NOT NULL);"
    "CREATE TABLE movement_tails(dealer " PG_TEXT " NOT NULL, ledger " PG_TEXT " NOT NULL, "
    " sku " PG_TEXT " NOT NULL, mid BIGINT NOT NULL, qty BIGINT NOT NULL, "
    " PRIMARY KEY(dealer, ledger, sku));";

#define MIGRATION_PARTS 8

struct migration {
    long long version;
    const char *name;
    const char *parts[MIGRATION_PARTS]; /* run in order; NULL ends */
};

static const struct migration migrations[] = {
    {1,
     "the hub's tables as on SQLite",
     {hub_pg_schema_main, hub_pg_schema_catalog, hub_pg_schema_dealers, hub_pg_schema_payments,
      hub_pg_schema_orders, hub_pg_schema_audit, hub_pg_schema_alerts, hub_pg_schema_ranking}},
    {2,
     "applied rows at or below their stream's applied_upto dropped",
     {"DELETE FROM applied WHERE msg_id <= (SELECT s.applied_upto FROM streams s "
      "WHERE s.dealer = applied.dealer AND s.ledger = applied.ledger)"}},
    {3,
     "the engine log and the alerts' memos (several hubs' alert engines)",
     {hub_pg_schema_engine}},
    {4, "users and credentials (accounts, sessions, API tokens)", {hub_pg_schema_accounts}},
    {5, "policies and their reach", {hub_pg_schema_policies}},
    {6, "tasks and their completion", {hub_pg_schema_tasks}},
    {7, "training material and its viewing", {hub_pg_schema_training}},
    {8, "e-contracts, their signatures and terms", {hub_pg_schema_contracts}},
    {9, "rebate statements and their disputes", {hub_pg_schema_statements}},
    {10, "each applied movement (a statement's sources)", {hub_pg_schema_movements}},
    {11, "the answers of API writes made with an idempotency key", {hub_pg_schema_idempotency}},
    {12, "webhook subscriptions and their deliveries", {hub_pg_schema_webhooks}},
    {13, "the movement chains as applied (hashes, signed batches, heads)", {hub_pg_schema_ledger}},
    {14, "shipments and the item codes they carried", {hub_pg_schema_shipments}},
    {15, "the start of a catalog item's serial codes", {hub_pg_schema_serials}},
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static depot_err current_version(struct pg_store *q, long long *version)
{
    PGresult *res = PQexec(q->conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    depot_err err = DEPOT_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        err = hub_pg_fail(q, res, "schema version");
    else
        *version = hub_pg_int(res, 0, 0);
    PQclear(res);
    return err;
}

static depot_err record(struct pg_store *q, const struct migration *m)
{
    char v[32], at[32];
    const char *params[3] = {v, m->name, at};
    PGresult *res;
    depot_err err = DEPOT_OK;
    snprintf(v, sizeof(v), "%lld", m->version);
    snprintf(at, sizeof(at), "%lld", depot_now_ms());
    res = PQexecParams(q->conn,
                       "INSERT INTO schema_migrations(version, name, applied_at) "
                       "VALUES($1, $2, $3)",
                       3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        err = hub_pg_fail(q, res, "schema migration record");
    PQclear(res);
    return err;
}

static depot_err apply_one(struct pg_store *q, const struct migration *m)
{
    depot_err err = hub_pg_exec(q, "BEGIN", "schema migration");
    for (int i = 0; err == DEPOT_OK && i < MIGRATION_PARTS && m->parts[i]; i++)
        err = hub_pg_exec(q, m->parts[i], m->name);
    if (err == DEPOT_OK)
        err = record(q, m);
    if (err == DEPOT_OK)
        err = hub_pg_exec(q, "COMMIT", "schema migration");
    if (err != DEPOT_OK) {
        (void)hub_pg_exec(q, "ROLLBACK", "schema migration");
        LOG_ERROR("postgresql: migration %lld (%s) failed: nothing of it was applied", m->version,
                  m->name);
        return err;
    }
    LOG_INFO("postgresql: migration %lld applied: %s", m->version, m->name);
    return DEPOT_OK;
}

static depot_err migrate_locked(struct pg_store *q)
{
    long long version = 0;
    depot_err err = hub_pg_exec(q,
                                "CREATE TABLE IF NOT EXISTS schema_migrations(version BIGINT "
                                "PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                                "schema migrations");
    if (err == DEPOT_OK)
        err = current_version(q, &version);
    if (err != DEPOT_OK)
        return err;
    if (version > migrations[N_MIGRATIONS - 1].version) {
        LOG_ERROR("postgresql: the database's schema is at version %lld, newer than this hub's "
                  "%lld: run the hub that migrated it (or a newer one)",
                  version, migrations[N_MIGRATIONS - 1].version);
        return DEPOT_ERR_DB;
    }
    for (size_t i = 0; err == DEPOT_OK && i < N_MIGRATIONS; i++)
        if (migrations[i].version > version)
            err = apply_one(q, &migrations[i]);
    return err;
}

depot_err hub_pg_migrate(struct pg_store *q)
{
    depot_err err =
        hub_pg_exec(q, "SELECT pg_advisory_lock(" STR(HUB_PG_MIGRATE_LOCK) ")", "migration lock");
    if (err != DEPOT_OK)
        return err;
    err = migrate_locked(q);
    if (hub_pg_exec(q, "SELECT pg_advisory_unlock(" STR(HUB_PG_MIGRATE_LOCK) ")",
                    "migration lock") != DEPOT_OK)
        err = DEPOT_ERR_DB;
    return err;
}
