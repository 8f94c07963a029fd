/*
 * ledger.c - the gateway's SQLite ledger and transactional outbox.
 *
 * Owns: one SQLite connection (WAL, synchronous=FULL: a movement reported as
 * written survives a power cut), its prepared statements (and those the
 * modules keep through gw_ledger_stmt), one mutex that serializes every
 * caller, the group commit that lets transactions arriving together share
 * one COMMIT ("Group commit" below), and in-memory copies of meta.next_id and
 * of the outbox row count (both re-read at open).
 *
 * Schema (user_version 9; a version-1 to -8 ledger is migrated in place
 * at open; gateway/README.md "Ledger tables" lists every column):
 *   meta      one row: ledger_id (32 hex, random at creation), dealer, next_id,
 *             next_order (v2), catalog_version (v2)
 *   movements append-only (triggers refuse UPDATE and DELETE); kind is
 *             scale | receive | pick | count; hash (v7): the movement chain
 *             (depot/ledger_chain.h, chain.h), each row's written with it;
 *             code (v8): the item code a receive or pick was scanned with
 *   stock     sku -> qty, node, updated_at
 *   outbox    id = message id, ts, topic leaf, sku (stock messages), payload,
 *             sent_at, attempts
 *   scans, catalog, draft_lines, orders, order_lines (v2): the scanner
 *             terminals' side, written by terminal.c, orders.c and catalog.c;
 *             catalog.serial_prefix (v9): the start of an item's serial codes
 *             through ledger_tx.h inside this module's transactions
 *   meta.movements_sent, alerts, ranking, view open_alerts (v3): written by
 *             movements.c and downlink.c, also through ledger_tx.h
 *   outbox_aside (v4): outbox rows that can never be sent (undecodable, or
 *             not what their row says), kept for inspection with the reason;
 *             scans.reason (v4): why a scan was refused
 *
 * Opening: a file that does not exist is created (under "<path>.new", then
 * linked into place, so a crash never leaves a half-made ledger at path). A
 * file that exists must be a sound Depot ledger (gw_ledger_verify: SQLite
 * header, PRAGMA quick_check, schema version, one meta row), checked on a
 * read-only connection before anything is written; otherwise it is refused
 * and left exactly as it was. A ledger is never replaced by a new one.
 *
 * Invariants:
 *   1. next_id > every id in outbox and every id ever handed out; ids only grow.
 *   2. A movement, its stock row and the outbox message reporting it are
 *      written in one transaction, or none of them is.
 *   3. outbox_n == SELECT count(*) FROM outbox, and outbox_n <= max_entries
 *      after every committed insert.
 *   4. An outbox row leaves only by an ack that covers its id, by being
 *      coalesced into a newer stock message of the same SKU when full, or by
 *      being moved to outbox_aside (with the up/event that reports it, in the
 *      same transaction) when it can never be sent.
 * The in-memory copies change only after COMMIT succeeds, so a failed
 * transaction leaves memory and file in agreement.
 */
#include "ledger.h"
#include "ledger_tx.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "chain.h"
#include "depot/ledger_chain.h"
#include "depot/sqlite_durable.h"

#define SCHEMA_VERSION 9

static const char schema_sql[] =
    "CREATE TABLE meta (one INTEGER PRIMARY KEY CHECK (one = 1), ledger_id TEXT NOT NULL,"
    " dealer TEXT NOT NULL, next_id INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE movements (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,"
    " node TEXT NOT NULL, sku TEXT NOT NULL, delta INTEGER NOT NULL,"
    " qty_after INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'scale', msg_id INTEGER);"
    "CREATE TRIGGER movements_append_only_u BEFORE UPDATE ON movements"
    " BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;"
    "CREATE TRIGGER movements_append_only_d BEFORE DELETE ON movements"
    " BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;"
    "CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL, node TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, topic TEXT NOT NULL,"
    " sku TEXT, payload TEXT NOT NULL, sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_by_sku ON outbox (sku) WHERE sku IS NOT NULL;";

/* Version 2: scanner terminals, the catalog and orders. */
static const char schema_v2_sql[] =
    "ALTER TABLE meta ADD COLUMN next_order INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE meta ADD COLUMN catalog_version INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE scans (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL,"
    " epoch INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL,"
    " barcode TEXT NOT NULL, qty INTEGER NOT NULL, outcome TEXT NOT NULL,"
    " display_code INTEGER NOT NULL, display TEXT NOT NULL, ts INTEGER NOT NULL,"
    " UNIQUE (node, epoch, seq));"
    "CREATE TABLE catalog (barcode TEXT PRIMARY KEY, sku TEXT NOT NULL,"
    " min_qty INTEGER NOT NULL, max_qty INTEGER NOT NULL, version INTEGER NOT NULL);"
    "CREATE TABLE draft_lines (node TEXT NOT NULL, line INTEGER NOT NULL,"
    " barcode TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " PRIMARY KEY (node, line));"
    "CREATE TABLE orders (id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE,"
    " terminal TEXT NOT NULL, doc TEXT NOT NULL, sig TEXT NOT NULL, status TEXT NOT NULL,"
    " stage TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL, msg_id INTEGER NOT NULL, decided_at INTEGER,"
    " confirm_msg_id INTEGER);"
    "CREATE TABLE order_lines (order_id TEXT NOT NULL REFERENCES orders (id),"
    " line INTEGER NOT NULL, barcode TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL,"
    " PRIMARY KEY (order_id, line));"
    "PRAGMA user_version = 2;";

/*
 * Version 3: the movements cursor (movements.c), the hub's alerts and this
 * dealer's ranking (downlink.c). open_alerts is what a local tool reads.
 */
static const char schema_v3_sql[] =
    "ALTER TABLE meta ADD COLUMN movements_sent INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE alerts (alert INTEGER PRIMARY KEY, kind TEXT NOT NULL, sku TEXT NOT NULL,"
    " severity TEXT NOT NULL, status TEXT NOT NULL, text TEXT NOT NULL, action TEXT NOT NULL,"
    " ts INTEGER NOT NULL, received_at INTEGER NOT NULL);"
    "CREATE VIEW open_alerts AS SELECT * FROM alerts WHERE status <> 'resolved'"
    " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, alert;"
    "CREATE TABLE ranking (one INTEGER PRIMARY KEY CHECK (one = 1), period TEXT NOT NULL,"
    " rank INTEGER NOT NULL, of_n INTEGER NOT NULL, score REAL NOT NULL,"
    " rebate_pct REAL NOT NULL, rebate REAL NOT NULL, kpis TEXT NOT NULL, ts INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL);"
    "PRAGMA user_version = 3;";

/* Version 4: outbox rows set aside, and why a scan was refused. */
static const char schema_v4_sql[] =
    "CREATE TABLE outbox_aside (id INTEGER PRIMARY KEY, ts INTEGER, topic TEXT, sku TEXT,"
    " payload TEXT, sent_at INTEGER, attempts INTEGER, reason TEXT NOT NULL,"
    " moved_at INTEGER NOT NULL, event_id INTEGER NOT NULL);"
    "ALTER TABLE scans ADD COLUMN reason TEXT NOT NULL DEFAULT '';"
    "PRAGMA user_version = 4;";

/* Version 5: the hub's policies and promotions (downlink.c), and who acknowledged each. */
static const char schema_v5_sql[] =
    "CREATE TABLE policies (policy INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " notice TEXT NOT NULL, valid_to TEXT NOT NULL, acked INTEGER NOT NULL,"
    " delivered_reported INTEGER NOT NULL, received_at INTEGER NOT NULL,"
    " acked_at INTEGER NOT NULL, acked_by TEXT NOT NULL);"
    "PRAGMA user_version = 5;";

/* Version 6: contracts to sign at a terminal (downlink.c, terminal.c), and who signed each. */
static const char schema_v6_sql[] =
    "CREATE TABLE contracts (contract INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " sha256 TEXT NOT NULL, signed INTEGER NOT NULL, received_at INTEGER NOT NULL,"
    " signed_at INTEGER NOT NULL, signed_by TEXT NOT NULL);"
    "PRAGMA user_version = 6;";

/* Version 7: the movement chain; an older ledger's movements get their hashes (fill_chain). */
static const char schema_v7_sql[] =
    "ALTER TABLE movements ADD COLUMN hash TEXT NOT NULL DEFAULT '';";
/* Version 8: the item code a movement was scanned with (one item by its own code), in its
 * hash (depot/ledger_chain.h version 2); "" for every other movement. */
static const char schema_v8_sql[] =
    "ALTER TABLE movements ADD COLUMN code TEXT NOT NULL DEFAULT '';";
/* Version 9: a catalog item's serial prefix (a plain serial code names its item by it); the
 * catalog's version is set back to 0 so the hub's retained catalog, prefixes and all, is taken
 * again at the next subscription. */
static const char schema_v9_sql[] =
    "ALTER TABLE catalog ADD COLUMN serial_prefix TEXT NOT NULL DEFAULT '';"
    "UPDATE meta SET catalog_version = 0;";

enum stmt_id {
    ST_STOCK_GET,
    ST_STOCK_PUT,
    ST_MOVE_ADD,
    ST_MOVE_LAST,
    ST_OUT_ADD,
    ST_OUT_COALESCE,
    ST_OUT_MIN,
    ST_OUT_READ,
    ST_OUT_SENT,
    ST_OUT_ACK,
    ST_OUT_ASIDE,
    ST_OUT_DEL_ONE,
    ST_NEXT_ID,
    ST_STOCK_ALL,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_STOCK_GET] = "SELECT qty FROM stock WHERE sku = ?1",
    [ST_STOCK_PUT] = "INSERT INTO stock (sku, qty, node, updated_at) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (sku) DO UPDATE SET qty = ?2, node = ?3, updated_at = ?4",
    [ST_MOVE_ADD] = "INSERT INTO movements (id, ts, node, sku, delta, qty_after, kind, msg_id,"
                    " hash, code) VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?7, ?6, ?9, ?10)",
    [ST_MOVE_LAST] = "SELECT id, hash FROM movements ORDER BY id DESC LIMIT 1",
    [ST_OUT_ADD] = "INSERT INTO outbox (id, ts, topic, sku, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_OUT_COALESCE] = "DELETE FROM outbox WHERE sku = ?1 AND topic = 'up/stock'",
    [ST_OUT_MIN] = "SELECT min(id) FROM outbox",
    [ST_OUT_READ] = "SELECT id, topic, payload FROM outbox WHERE id >= ?1 ORDER BY id LIMIT ?2",
    [ST_OUT_SENT] = "UPDATE outbox SET sent_at = ?2, attempts = attempts + 1 WHERE id = ?1",
    [ST_OUT_ACK] = "DELETE FROM outbox WHERE id <= ?1",
    [ST_OUT_ASIDE] = "INSERT INTO outbox_aside (id, ts, topic, sku, payload, sent_at, attempts,"
                     " reason, moved_at, event_id) SELECT id, ts, topic, sku, payload, sent_at,"
                     " attempts, ?2, ?3, ?4 FROM outbox WHERE id = ?1",
    [ST_OUT_DEL_ONE] = "DELETE FROM outbox WHERE id = ?1",
    [ST_NEXT_ID] = "UPDATE meta SET next_id = ?1",
    [ST_STOCK_ALL] = "SELECT sku, qty, node FROM stock ORDER BY sku LIMIT ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT caller",
    [ST_RELEASE] = "RELEASE caller",
    [ST_ROLLBACK_TO] = "ROLLBACK TO caller",
};

struct gw_ledger {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    pthread_mutex_t mu;
    char id[DEPOT_LEDGER_HEX + 1];
    char dealer[DEPOT_DEALER_MAX + 1];
    uint64_t next_id;
    long long outbox_n;
    long long max_entries;
    long long warn_at; /* outbox_n at which the high-water warning is raised */
    bool warned;
    void (*queued_hook)(void *ctx); /* after a commit that queued messages, lock held */
    void *queued_ctx;
    /* group commit (see "Group commit" below) */
    pthread_cond_t grp_cv;      /* a group's COMMIT returned (broadcast) */
    int lock_waiting;           /* threads waiting for mu (atomic) */
    bool in_tx;                 /* the lock holder is between gw_ledger_tx_begin and _finish */
    bool grp_open;              /* an SQLite transaction holds the work of waiting callers */
    int grp_members;            /* callers waiting for the open group's COMMIT */
    struct grp_waiter *waiters; /* them */
    uint64_t grp_next_id;       /* next_id, outbox_n, warned as the open group began */
    long long grp_outbox_n;
    bool grp_warned;
    /* statements of the modules (gw_ledger_stmt), prepared once */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } kept[GW_LEDGER_KEPT_MAX];
    int n_kept;
};

static depot_err group_commit(gw_ledger *l);

/* A caller whose transaction waits in the open group for its COMMIT (on its stack). */
struct grp_waiter {
    struct grp_waiter *next;
    depot_err result;
    bool done;
};

/* ---- SQLite plumbing ---- */

static depot_err db_err(gw_ledger *l, int rc, const char *what)
{
    if (rc == SQLITE_FULL) {
        LOG_ERROR("ledger: disk full while %s: nothing was written", what);
        return DEPOT_ERR_FULL;
    }
    LOG_ERROR("ledger: %s: %s (sqlite %d)", what, sqlite3_errmsg(l->db), rc);
    return DEPOT_ERR_DB;
}

static depot_err exec_sql(gw_ledger *l, const char *sql)
{
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DEPOT_OK : db_err(l, rc, sql);
}

/* Version 9: the column only where it is missing (a file whose version number was set back
 * by hand keeps the one it has). */
static depot_err schema_v9(gw_ledger *l)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, "SELECT serial_prefix FROM catalog LIMIT 0", -1, &st, NULL);
    sqlite3_finalize(st);
    return exec_sql(l, rc == SQLITE_OK ? "UPDATE meta SET catalog_version = 0;" : schema_v9_sql);
}

/* Reset st, run it to completion (no rows expected). */
static depot_err step_done(gw_ledger *l, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? DEPOT_OK : db_err(l, rc, what);
}

/* BEGIN IMMEDIATE, COMMIT, ROLLBACK: prepared once when the ledger is open, else parsed. */
static depot_err begin(gw_ledger *l)
{
    return l->st[ST_BEGIN] ? step_done(l, l->st[ST_BEGIN], "BEGIN") : exec_sql(l, "BEGIN IMMEDIATE");
}

static depot_err commit_or_rollback(gw_ledger *l, depot_err e)
{
    if (e == DEPOT_OK) {
        e = l->st[ST_COMMIT] ? step_done(l, l->st[ST_COMMIT], "COMMIT") : exec_sql(l, "COMMIT");
        if (e == DEPOT_OK)
            return DEPOT_OK;
    }
    if (sqlite3_get_autocommit(l->db))
        return e; /* SQLite rolled the transaction back already */
    if (l->st[ST_ROLLBACK]) {
        sqlite3_step(l->st[ST_ROLLBACK]);
        sqlite3_reset(l->st[ST_ROLLBACK]);
    } else {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return e;
}

static long long query_int(gw_ledger *l, const char *sql, long long dflt)
{
    sqlite3_stmt *st;
    long long v = dflt;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
        return dflt;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- creation and opening ---- */

static depot_err make_ledger_id(char *hex)
{
    unsigned char raw[DEPOT_LEDGER_HEX / 2];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        LOG_ERROR("ledger: no random source for the ledger id");
        return DEPOT_ERR_IO;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return DEPOT_OK;
}

static depot_err create_schema(gw_ledger *l)
{
    char sql[256];
    depot_err e = make_ledger_id(l->id);
    if (e != DEPOT_OK)
        return e;
    e = begin(l);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_sql);
    snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES (1, '%s', '%s', 1, %lld);", l->id,
             l->dealer, depot_now_ms());
    if (e == DEPOT_OK)
        e = exec_sql(l, sql); /* id is hex, dealer a validated id: no quoting issue */
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v2_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v3_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v4_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v5_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v6_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v7_sql);
    if (e == DEPOT_OK)
        e = exec_sql(l, schema_v8_sql);
    if (e == DEPOT_OK)
        e = schema_v9(l);
    if (e == DEPOT_OK)
        e = exec_sql(l, "PRAGMA user_version = 9;");
    return commit_or_rollback(l, e);
}

/* ---- the movement chain of an older ledger (version 7) ---- */

struct fill {
    gw_ledger *l;
    sqlite3_stmt *set;
    depot_err e;
};

static int fill_row(void *arg, const struct gw_chain_row *row)
{
    struct fill *f = arg;
    if (!row->computed[0]) {
        LOG_ERROR("ledger: movement %lld cannot be hashed (its fields are not a movement's)",
                  row->id);
        f->e = DEPOT_ERR_DB;
        return 1;
    }
    sqlite3_bind_text(f->set, 1, row->computed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(f->set, 2, row->id);
    f->e = step_done(f->l, f->set, "hashing a movement");
    return f->e != DEPOT_OK;
}

/* In the migration's transaction: every movement's hash, in id order from the genesis. The
 * append-only trigger is lifted for it and put back. */
static depot_err fill_chain(gw_ledger *l)
{
    char id[DEPOT_LEDGER_HEX + 1] = "", dealer[DEPOT_DEALER_MAX + 1] = "";
    struct fill f = {l, NULL, DEPOT_OK};
    sqlite3_stmt *st = NULL;
    depot_err e = DEPOT_ERR_DB;
    if (sqlite3_prepare_v2(l->db, "SELECT ledger_id, dealer FROM meta", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(dealer, sizeof(dealer), "%s", (const char *)sqlite3_column_text(st, 1));
        e = DEPOT_OK;
    }
    sqlite3_finalize(st);
    if (e == DEPOT_OK)
        e = exec_sql(l, "DROP TRIGGER movements_append_only_u;");
    if (e == DEPOT_OK && sqlite3_prepare_v2(l->db, "UPDATE movements SET hash = ?1 WHERE id = ?2",
                                            -1, &f.set, NULL) != SQLITE_OK)
        e = db_err(l, sqlite3_errcode(l->db), "hashing the movements");
    if (e == DEPOT_OK)
        e = gw_chain_walk(l->db, dealer, id, false, fill_row, &f);
    sqlite3_finalize(f.set);
    if (e == DEPOT_OK)
        e = f.e;
    if (e == DEPOT_OK)
        e = exec_sql(l, "CREATE TRIGGER movements_append_only_u BEFORE UPDATE ON movements"
                        " BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;");
    return e;
}

/*
 * An older ledger gains what it lacks in one transaction: version 1 (stock
 * slice) the scanner tables, versions 1 and 2 the movements cursor, alerts and
 * ranking (their existing movements are then all "waiting": the hub receives
 * the history too), versions 1 to 3 outbox_aside and scans.reason.
 */
static depot_err migrate(gw_ledger *l, long long from)
{
    depot_err e = begin(l);
    if (e == DEPOT_OK && from < 2)
        e = exec_sql(l, schema_v2_sql);
    if (e == DEPOT_OK && from < 3)
        e = exec_sql(l, schema_v3_sql);
    if (e == DEPOT_OK && from < 4)
        e = exec_sql(l, schema_v4_sql);
    if (e == DEPOT_OK && from < 5)
        e = exec_sql(l, schema_v5_sql);
    if (e == DEPOT_OK && from < 6)
        e = exec_sql(l, schema_v6_sql);
    if (e == DEPOT_OK && from < 7)
        e = exec_sql(l, schema_v7_sql);
    if (e == DEPOT_OK && from < 8)
        e = exec_sql(l, schema_v8_sql);
    if (e == DEPOT_OK)
        e = schema_v9(l);
    if (e == DEPOT_OK && from < 7)
        e = fill_chain(l);
    if (e == DEPOT_OK)
        e = exec_sql(l, "PRAGMA user_version = 9;");
    e = commit_or_rollback(l, e);
    if (e == DEPOT_OK)
        LOG_INFO("ledger: migrated from schema version %lld to %d (scanners, orders, movements"
                 " cursor, alerts, ranking, outbox_aside, policies, contracts, movement chain,"
                 " item codes, serial prefixes)",
                 from, SCHEMA_VERSION);
    return e;
}

static depot_err load_meta(gw_ledger *l)
{
    sqlite3_stmt *st;
    depot_err e = DEPOT_ERR_DB;
    if (sqlite3_prepare_v2(l->db, "SELECT ledger_id, dealer, next_id FROM meta", -1, &st, NULL) !=
        SQLITE_OK)
        return db_err(l, sqlite3_errcode(l->db), "reading meta");
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(l->id, sizeof(l->id), "%s", (const char *)sqlite3_column_text(st, 0));
        if (strcmp((const char *)sqlite3_column_text(st, 1), l->dealer) != 0) {
            LOG_ERROR("ledger belongs to dealer %s, the configuration says %s",
                      sqlite3_column_text(st, 1), l->dealer);
            e = DEPOT_ERR_CONFIG;
        } else {
            l->next_id = (uint64_t)sqlite3_column_int64(st, 2);
            e = DEPOT_OK;
        }
    } else {
        LOG_ERROR("ledger: meta row missing");
    }
    sqlite3_finalize(st);
    return e;
}

/* The file passed gw_ledger_verify: bring its schema up to date, read meta. */
static depot_err open_schema(gw_ledger *l)
{
    long long version = query_int(l, "PRAGMA user_version", -1);
    depot_err e;
    if (version >= 1 && version < SCHEMA_VERSION)
        e = migrate(l, version);
    else if (version == SCHEMA_VERSION)
        e = DEPOT_OK;
    else {
        LOG_ERROR("ledger: schema version %lld, this gateway knows %d", version, SCHEMA_VERSION);
        return DEPOT_ERR_DB;
    }
    if (e == DEPOT_OK)
        e = load_meta(l);
    return e;
}

/* Open an existing ledger file read-write (never creating one). */
static depot_err open_db(gw_ledger *l, const char *path)
{
    int rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        LOG_ERROR("ledger %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "cannot open");
        return DEPOT_ERR_DB;
    }
    sqlite3_busy_timeout(l->db, 5000);
    return DEPOT_OK;
}

static depot_err prepare_all(gw_ledger *l)
{
    for (int i = 0; i < ST__COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(l->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL);
        if (rc != SQLITE_OK)
            return db_err(l, rc, stmt_sql[i]);
    }
    return DEPOT_OK;
}

/* ---- verifying an existing file, on a read-only connection ---- */

static depot_err file_header(const char *path, const struct stat *st, char *why, size_t len)
{
    static const char magic[16] = "SQLite format 3"; /* with its NUL: the first 16 bytes */
    char head[sizeof(magic)];
    size_t n = 0;
    FILE *f;
    if (!S_ISREG(st->st_mode)) {
        snprintf(why, len, "not a regular file");
        return DEPOT_ERR_DB;
    }
    if (st->st_size == 0) {
        snprintf(why, len, "the file is empty (0 bytes)");
        return DEPOT_ERR_DB;
    }
    if (!(f = fopen(path, "rb"))) {
        snprintf(why, len, "cannot read it: %s", strerror(errno));
        return DEPOT_ERR_IO;
    }
    n = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (n < sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0) {
        snprintf(why, len, "not an SQLite database (%lld bytes, no SQLite header)",
                 (long long)st->st_size);
        return DEPOT_ERR_DB;
    }
    return DEPOT_OK;
}

/* PRAGMA quick_check: every page, b-tree and index entry is readable and in order. */
static depot_err quick_check(sqlite3 *db, char *why, size_t len)
{
    sqlite3_stmt *st = NULL;
    depot_err e = DEPOT_ERR_DB;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && !strcmp(r, "ok"))
            e = DEPOT_OK;
        else
            snprintf(why, len, "damaged: PRAGMA quick_check says: %s", r ? r : "(nothing)");
    } else {
        snprintf(why, len, "damaged: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return e;
}

static bool hex_id(const char *s)
{
    if (!s || strlen(s) != DEPOT_LEDGER_HEX)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* One meta row with a ledger id and a dealer, and an outbox: a Depot ledger. */
static depot_err meta_check(sqlite3 *db, struct gw_ledger_info *info, char *why, size_t len)
{
    sqlite3_stmt *st = NULL;
    depot_err e = DEPOT_ERR_DB;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT ledger_id, dealer, next_id, (SELECT count(*) FROM meta),"
                                " (SELECT count(*) FROM outbox) FROM meta",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(why, len, "an SQLite database, but not a Depot ledger (%s)", sqlite3_errmsg(db));
    } else if (sqlite3_step(st) != SQLITE_ROW) {
        snprintf(why, len, "not a Depot ledger: its meta row is missing");
    } else if (sqlite3_column_int64(st, 3) != 1 ||
               !hex_id((const char *)sqlite3_column_text(st, 0)) ||
               !depot_id_valid((const char *)sqlite3_column_text(st, 1), DEPOT_DEALER_MAX)) {
        snprintf(why, len,
                 "not a Depot ledger: its meta table is not one row with a ledger id"
                 " and a dealer");
    } else {
        snprintf(info->id, sizeof(info->id), "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(info->dealer, sizeof(info->dealer), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        info->last_id = sqlite3_column_int64(st, 2) - 1;
        info->outbox = sqlite3_column_int64(st, 4);
        e = DEPOT_OK;
    }
    sqlite3_finalize(st);
    return e;
}

static depot_err schema_check(sqlite3 *db, struct gw_ledger_info *info, char *why, size_t len)
{
    sqlite3_stmt *st = NULL;
    info->version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        info->version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (info->version < 1) {
        snprintf(why, len, "an SQLite database, but not a Depot ledger (schema version %lld)",
                 info->version);
        return DEPOT_ERR_DB;
    }
    if (info->version > SCHEMA_VERSION) {
        snprintf(why, len, "schema version %lld, this gateway knows %d (made by a newer gateway)",
                 info->version, SCHEMA_VERSION);
        return DEPOT_ERR_DB;
    }
    return meta_check(db, info, why, len);
}

/*
 * A read-only URI for path. Without a -wal beside it (closed cleanly, or not
 * a WAL file) the file alone is the whole database: immutable=1 then reads it
 * without making the -wal and -shm files a WAL-mode file would otherwise get.
 */
static bool readonly_uri(const char *path, char *uri, size_t len)
{
    char wal[4200];
    size_t o;
    bool immutable;
    snprintf(wal, sizeof(wal), "%s-wal", path);
    immutable = access(wal, F_OK) != 0;
    o = (size_t)snprintf(uri, len, "file:");
    while (path[0] == '/' && path[1] == '/')
        path++; /* "file://x" would name a host */
    for (; *path && o + 4 < len; path++) {
        if (*path == '%' || *path == '?' || *path == '#')
            o += (size_t)snprintf(uri + o, len - o, "%%%02x", (unsigned char)*path);
        else
            uri[o++] = *path;
    }
    if (*path || o + 20 >= len)
        return false;
    snprintf(uri + o, len - o, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return true;
}

depot_err gw_ledger_verify(const char *path, struct gw_ledger_info *info, char *why, size_t why_len)
{
    char uri[8400];
    struct stat st;
    sqlite3 *db = NULL;
    depot_err e;
    memset(info, 0, sizeof(*info));
    if (stat(path, &st) != 0) {
        int err = errno;
        if (err == ENOENT) {
            snprintf(why, why_len, "no such file");
            return DEPOT_ERR_NOTFOUND;
        }
        snprintf(why, why_len, "cannot look at it: %s", strerror(err));
        return DEPOT_ERR_IO;
    }
    e = file_header(path, &st, why, why_len);
    if (e == DEPOT_OK && !readonly_uri(path, uri, sizeof(uri))) {
        snprintf(why, why_len, "path too long");
        return DEPOT_ERR_INVAL;
    }
    if (e == DEPOT_OK &&
        sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "cannot open it: %s", db ? sqlite3_errmsg(db) : "no memory");
        e = DEPOT_ERR_DB;
    }
    if (e == DEPOT_OK) {
        sqlite3_busy_timeout(db, 5000);
        e = quick_check(db, why, why_len);
    }
    if (e == DEPOT_OK)
        e = schema_check(db, info, why, why_len);
    sqlite3_close(db);
    return e;
}

/* ---- creating a new ledger: built aside, then linked into place ---- */

static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            LOG_WARN("ledger: fsync of folder %s: %s", dir, strerror(errno));
        close(fd);
    }
}

/* tmp becomes path, never over an existing file (a filesystem without links: rename). */
static depot_err put_in_place(const char *tmp, const char *path)
{
    int rc = link(tmp, path);
    if (rc != 0 && (errno == EPERM || errno == ENOTSUP) && access(path, F_OK) != 0)
        rc = rename(tmp, path);
    if (rc != 0) {
        LOG_ERROR("ledger %s: cannot put the new ledger in place: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    sync_dir(path);
    return DEPOT_OK;
}

static depot_err create_file(gw_ledger *l, const char *path)
{
    char tmp[4096], journal[4200];
    depot_err e = DEPOT_ERR_DB;
    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
        return DEPOT_ERR_INVAL;
    snprintf(journal, sizeof(journal), "%s-journal", tmp);
    unlink(tmp); /* left by a crash in an earlier creation: it never was the ledger */
    unlink(journal);
    if (sqlite3_open_v2(tmp, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        LOG_ERROR("ledger %s: cannot create %s: %s", path, tmp,
                  l->db ? sqlite3_errmsg(l->db) : "no memory");
    else
        e = exec_sql(l, "PRAGMA synchronous = FULL");
    if (e == DEPOT_OK)
        e = create_schema(l);
    sqlite3_close(l->db);
    l->db = NULL;
    if (e == DEPOT_OK)
        e = put_in_place(tmp, path);
    unlink(tmp);
    if (e == DEPOT_OK)
        LOG_INFO("ledger %s: created, id %s", path, l->id);
    return e;
}

/* An existing file must be a sound ledger; only a missing one is created. */
static depot_err verify_or_create(gw_ledger *l, const char *path)
{
    struct gw_ledger_info info;
    char why[256];
    depot_err e = gw_ledger_verify(path, &info, why, sizeof(why));
    if (e == DEPOT_ERR_NOTFOUND) {
        LOG_INFO("ledger %s: no such file: creating a new ledger", path);
        return create_file(l, path);
    }
    if (e != DEPOT_OK)
        LOG_ERROR("ledger %s: %s: refused and left as it is (a ledger is never replaced by a"
                  " new one: see \"Recovering a ledger\" in gateway/README.md)",
                  path, why);
    return e;
}

depot_err gw_ledger_open(const struct gw_ledger_opts *o, gw_ledger **out)
{
    gw_ledger *l;
    depot_err e;

    if (!o->path || !depot_id_valid(o->dealer, DEPOT_DEALER_MAX) || o->max_entries < 1)
        return DEPOT_ERR_INVAL;
    l = depot_calloc(1, sizeof(*l));
    if (!l)
        return DEPOT_ERR_NOMEM;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->grp_cv, NULL);
    snprintf(l->dealer, sizeof(l->dealer), "%s", o->dealer);
    l->max_entries = o->max_entries;
    l->warn_at = (o->max_entries * o->warn_percent + 99) / 100;
    e = verify_or_create(l, o->path);
    if (e == DEPOT_OK)
        e = open_db(l, o->path);
    if (e == DEPOT_OK)
        e = depot_sqlite_durable(l->db, "the gateway"); /* a scan is acked after its commit */
    if (e == DEPOT_OK)
        e = open_schema(l);
    if (e == DEPOT_OK)
        e = prepare_all(l);
    if (e != DEPOT_OK) {
        gw_ledger_free(l);
        return e;
    }
    l->outbox_n = query_int(l, "SELECT count(*) FROM outbox", 0);
    l->warned = l->outbox_n >= l->warn_at;
    if (l->warned)
        LOG_WARN("ledger: outbox holds %lld of %lld entries", l->outbox_n, l->max_entries);
    LOG_INFO("ledger %s: id %s, next message id %llu, %lld in the outbox", o->path, l->id,
             (unsigned long long)l->next_id, l->outbox_n);
    *out = l;
    return DEPOT_OK;
}

void gw_ledger_free(gw_ledger *l)
{
    if (!l)
        return;
    if (l->db && l->grp_open)
        group_commit(l); /* no caller can be waiting in it here; for completeness */
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(l->st[i]);
    for (int i = 0; i < l->n_kept; i++)
        sqlite3_finalize(l->kept[i].st);
    if (l->db)
        sqlite3_close(l->db);
    pthread_cond_destroy(&l->grp_cv);
    pthread_mutex_destroy(&l->mu);
    depot_free(l);
}

/* ---- the outbox ---- */

/* Lowest id in the outbox, or 0 if empty. Lock held. */
static uint64_t outbox_min(gw_ledger *l)
{
    sqlite3_stmt *st = l->st[ST_OUT_MIN];
    uint64_t v = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

/*
 * Encode m (its id, base and envelope are filled in here) and insert it as the
 * next id. *n_delta counts rows added. Inside a transaction, lock held.
 */
static depot_err outbox_insert(gw_ledger *l, depot_msg *m, uint64_t id, const char *sku,
                               long long *n_delta)
{
    sqlite3_stmt *st = l->st[ST_OUT_ADD];
    uint64_t lowest = outbox_min(l);
    char *json;
    size_t len;
    depot_err e;

    m->v = DEPOT_MSG_VERSION;
    snprintf(m->dealer, sizeof(m->dealer), "%s", l->dealer);
    memcpy(m->ledger, l->id, sizeof(m->ledger));
    m->id = id;
    m->base = lowest ? lowest : id;
    e = depot_msg_encode(m, &json, &len);
    if (e != DEPOT_OK)
        return e;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, m->ts);
    sqlite3_bind_text(st, 3, depot_msg_topic_leaf(m->type), -1, SQLITE_STATIC);
    if (sku)
        sqlite3_bind_text(st, 4, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, json, (int)len, SQLITE_STATIC);
    e = step_done(l, st, "queueing a message");
    depot_free(json);
    if (e == DEPOT_OK)
        (*n_delta)++;
    return e;
}

/* Make room for one stock message of sku: coalesce when full. Lock held, in a transaction. */
static depot_err outbox_make_room(gw_ledger *l, const char *sku, long long *n_delta)
{
    sqlite3_stmt *st = l->st[ST_OUT_COALESCE];
    depot_err e;
    if (l->outbox_n + *n_delta < l->max_entries)
        return DEPOT_OK;
    if (sku) {
        sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
        e = step_done(l, st, "coalescing the outbox");
        if (e != DEPOT_OK)
            return e;
        *n_delta -= sqlite3_changes(l->db);
    }
    if (l->outbox_n + *n_delta < l->max_entries)
        return DEPOT_OK;
    LOG_WARN("ledger: outbox full (%lld entries), %s not queued", l->max_entries,
             sku ? "stock change" : "event");
    return DEPOT_ERR_FULL;
}

static depot_err store_next_id(gw_ledger *l, uint64_t next)
{
    sqlite3_bind_int64(l->st[ST_NEXT_ID], 1, (sqlite3_int64)next);
    return step_done(l, l->st[ST_NEXT_ID], "advancing the message id");
}

/* Queue the high-water event when this transaction crosses warn_at. Lock held, in a tx. */
static depot_err maybe_warn(gw_ledger *l, uint64_t *next, long long *n_delta, long long ts)
{
    depot_msg m;
    long long n = l->outbox_n + *n_delta;
    if (l->warned || n < l->warn_at || n >= l->max_entries)
        return DEPOT_OK;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = ts;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "gateway");
    snprintf(m.body.event.event, sizeof(m.body.event.event), "fault");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "outbox_high");
    m.body.event.count = n;
    return outbox_insert(l, &m, (*next)++, NULL, n_delta);
}

/* Move the in-memory copies past a transaction (committed, or released into the open group). */
static void moved(gw_ledger *l, uint64_t next, long long n_delta)
{
    l->next_id = next;
    l->outbox_n += n_delta;
    if (!l->warned && l->outbox_n >= l->warn_at) {
        l->warned = true;
        LOG_WARN("ledger: outbox holds %lld of %lld entries (warn_percent crossed)", l->outbox_n,
                 l->max_entries);
    }
}

/* After COMMIT: move the in-memory copies, wake the uplink if messages were queued. */
static void committed(gw_ledger *l, uint64_t next, long long n_delta)
{
    bool queued = next > l->next_id;
    moved(l, next, n_delta);
    if (queued && l->queued_hook)
        l->queued_hook(l->queued_ctx);
}

/*
 * ---- Group commit ----
 *
 * With synchronous=FULL every COMMIT waits for the disk (an fsync of the
 * WAL), which costs far more than the statements of one scan or one scale
 * change. When several threads bring transactions at once (poller threads,
 * each with its own terminal or scale), those arriving together share one
 * COMMIT, as a database's group commit does:
 *
 *   - gw_ledger_tx_begin opens the SQLite transaction (BEGIN IMMEDIATE) if
 *     no group is open, then a SAVEPOINT for this caller.
 *   - gw_ledger_tx_finish: on error ROLLBACK TO the savepoint (the caller's
 *     work only) and return the error. Else RELEASE it into the open
 *     transaction; then, if another thread is waiting for the ledger's lock
 *     (and the group holds fewer than GRP_MAX), wait on grp_cv, releasing
 *     the lock, until a later thread's COMMIT covered this work; else
 *     COMMIT now: the group is this caller and every waiting one.
 *   - A lone caller (nobody waiting for the lock) commits at once, exactly
 *     as before: grouping never adds a wait when nothing else is coming.
 *   - Every other user of the lock (reads of the outbox, acks, marks, the
 *     modules' statements outside a transaction) first commits an open
 *     group (lock_flushed, gw_ledger_prepare), and releasing the lock with
 *     a group open and nobody waiting commits it (unlock): what the uplink
 *     reads or sends is always committed, and a group is never left open.
 *
 * A caller's DEPOT_OK still means its work is durable: it is returned only
 * after the COMMIT that holds it returned. If that COMMIT fails (or SQLite
 * rolls the transaction back on an I/O or disk-full error), every caller of
 * the group gets the error and the in-memory copies go back to where the
 * group began: nothing of the group was written, and each caller retries
 * (a scan stays on its node, a scale change is read again).
 */
#define GRP_MAX 64 /* callers in one group at most, so a steady stream still commits */

static bool lock_wanted(gw_ledger *l)
{
    return __atomic_load_n(&l->lock_waiting, __ATOMIC_SEQ_CST) > 0;
}

static void lock(gw_ledger *l)
{
    __atomic_add_fetch(&l->lock_waiting, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&l->mu);
    __atomic_sub_fetch(&l->lock_waiting, 1, __ATOMIC_SEQ_CST);
}

/* The open group is over (committed: e == DEPOT_OK, or not): tell its callers. Lock held. */
static void group_done(gw_ledger *l, depot_err e)
{
    bool queued = l->next_id > l->grp_next_id;
    struct grp_waiter *w = l->waiters, *next;
    if (e != DEPOT_OK) {
        l->next_id = l->grp_next_id;
        l->outbox_n = l->grp_outbox_n;
        l->warned = l->grp_warned;
    }
    for (; w; w = next) {
        next = w->next;
        w->result = e;
        w->done = true;
    }
    l->waiters = NULL;
    l->grp_members = 0;
    l->grp_open = false;
    if (e == DEPOT_OK && queued && l->queued_hook)
        l->queued_hook(l->queued_ctx);
    pthread_cond_broadcast(&l->grp_cv);
}

/* COMMIT the open group, if any. Lock held, not inside a caller's transaction. */
static depot_err group_commit(gw_ledger *l)
{
    depot_err e = DEPOT_OK;
    if (!l->grp_open)
        return DEPOT_OK;
    if (l->next_id != l->grp_next_id) /* meta.next_id once per group, not per message */
        e = store_next_id(l, l->next_id);
    e = commit_or_rollback(l, e);
    if (e != DEPOT_OK)
        LOG_ERROR("ledger: group commit failed: %s (nothing of it written; %d waiting caller(s)"
                  " get the error and retry)",
                  depot_strerror(e), l->grp_members);
    group_done(l, e);
    return e;
}

/* The lock, with no group open: for everything but a grouped transaction. */
static void lock_flushed(gw_ledger *l)
{
    lock(l);
    group_commit(l);
}

static void unlock(gw_ledger *l)
{
    if (l->grp_open && !lock_wanted(l))
        group_commit(l);
    pthread_mutex_unlock(&l->mu);
}

/* Queue m (and maybe a high-water event) in its own transaction-part. Lock held, in a tx. */
static depot_err queue_in_tx(gw_ledger *l, depot_msg *m, const char *sku, uint64_t *next,
                             long long *n_delta)
{
    uint64_t id = (*next)++;
    depot_err e = outbox_make_room(l, sku, n_delta);
    if (e == DEPOT_OK)
        e = outbox_insert(l, m, id, sku, n_delta);
    if (e == DEPOT_OK)
        e = maybe_warn(l, next, n_delta, m->ts);
    if (e == DEPOT_OK && !l->in_tx)
        e = store_next_id(l, *next); /* a grouped transaction's is stored by group_commit */
    return e;
}

/* ---- movements and stock ---- */

static depot_err stock_read(gw_ledger *l, const char *sku, long long *qty)
{
    sqlite3_stmt *st = l->st[ST_STOCK_GET];
    depot_err e = DEPOT_ERR_NOTFOUND;
    int rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *qty = sqlite3_column_int64(st, 0);
        e = DEPOT_OK;
    } else if (rc != SQLITE_DONE) {
        e = db_err(l, rc, "reading stock");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

/* The id and chain hash the next movement gets: the last row's id + 1 (ids are contiguous:
 * rows are never removed, and a rolled-back insert gives its id back), after its hash. */
static depot_err chain_next(gw_ledger *l, const struct depot_stock_body *b, long long ts,
                            const char *kind, const char *code, long long *id,
                            char hash[DEPOT_CHAIN_HEX + 1])
{
    sqlite3_stmt *st = l->st[ST_MOVE_LAST];
    char prev[DEPOT_CHAIN_HEX + 1] = DEPOT_CHAIN_GENESIS;
    struct depot_chain_link link = {l->dealer, l->id, 0,        ts,     b->node,
                                    b->sku,    kind,  b->delta, b->qty, code};
    depot_err e = DEPOT_OK;
    int rc = sqlite3_step(st);
    *id = 1;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0) + 1;
        snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(st, 1));
    } else if (rc != SQLITE_DONE) {
        e = db_err(l, rc, "reading the last movement");
    }
    sqlite3_reset(st);
    link.mid = (uint64_t)*id;
    if (e == DEPOT_OK && depot_chain_hash(&link, prev, hash) != DEPOT_OK) {
        LOG_ERROR("ledger: the last movement's hash is not a hash: run depot-gateway ledger "
                  "verify");
        e = DEPOT_ERR_DB;
    }
    return e;
}

static depot_err movement_write(gw_ledger *l, const struct depot_stock_body *b, long long ts,
                                uint64_t msg_id, const char *kind, const char *code)
{
    sqlite3_stmt *mv = l->st[ST_MOVE_ADD], *sp = l->st[ST_STOCK_PUT];
    char hash[DEPOT_CHAIN_HEX + 1];
    long long id = 0;
    depot_err e = DEPOT_OK;
    if (b->delta != 0 || !strcmp(kind, "count"))
        e = chain_next(l, b, ts, kind, code, &id, hash);
    if (e == DEPOT_OK && (b->delta != 0 || !strcmp(kind, "count"))) {
        sqlite3_bind_int64(mv, 1, ts);
        sqlite3_bind_text(mv, 2, b->node, -1, SQLITE_STATIC);
        sqlite3_bind_text(mv, 3, b->sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(mv, 4, b->delta);
        sqlite3_bind_int64(mv, 5, b->qty);
        sqlite3_bind_int64(mv, 6, (sqlite3_int64)msg_id);
        sqlite3_bind_text(mv, 7, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(mv, 8, id);
        sqlite3_bind_text(mv, 9, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(mv, 10, code, -1, SQLITE_STATIC);
        e = step_done(l, mv, "appending a movement");
    }
    if (e != DEPOT_OK)
        return e;
    sqlite3_bind_text(sp, 1, b->sku, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sp, 2, b->qty);
    sqlite3_bind_text(sp, 3, b->node, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sp, 4, ts);
    return step_done(l, sp, "writing stock");
}

static bool stock_args_valid(const char *node, const char *sku, long long qty)
{
    return depot_id_valid(node, DEPOT_NODE_MAX) && depot_id_valid(sku, DEPOT_SKU_MAX) && qty >= 0 &&
           qty <= DEPOT_QTY_MAX;
}

depot_err gw_ledger_tx_stock(gw_ledger *l, struct ledger_tx *tx, const char *node, const char *sku,
                          long long qty, const char *kind, long long ts, uint64_t *msg_id)
{
    return gw_ledger_tx_stock_code(l, tx, node, sku, qty, kind, "", ts, msg_id);
}

depot_err gw_ledger_tx_stock_code(gw_ledger *l, struct ledger_tx *tx, const char *node,
                                  const char *sku, long long qty, const char *kind,
                                  const char *code, long long ts, uint64_t *msg_id)
{
    depot_msg m;
    struct depot_stock_body *b = &m.body.stock;
    long long old = 0;
    depot_err e;

    if (!stock_args_valid(node, sku, qty))
        return DEPOT_ERR_INVAL;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_STOCK;
    m.ts = ts;
    snprintf(b->sku, sizeof(b->sku), "%s", sku);
    snprintf(b->node, sizeof(b->node), "%s", node);
    b->qty = qty;
    *msg_id = 0;
    e = stock_read(l, sku, &old);
    if (e == DEPOT_OK && old == qty && strcmp(kind, "count") != 0)
        return DEPOT_OK; /* a count that finds the stock as it was is still a count (a task's) */
    if (e == DEPOT_ERR_NOTFOUND)
        e = DEPOT_OK; /* a new SKU: reported even at qty 0, so the hub learns it */
    if (e != DEPOT_OK)
        return e;
    b->delta = qty - old;
    *msg_id = tx->next;
    e = movement_write(l, b, ts, tx->next, kind, code);
    if (e == DEPOT_OK)
        e = queue_in_tx(l, &m, sku, &tx->next, &tx->n_delta);
    return e;
}

depot_err gw_ledger_record_count(gw_ledger *l, const char *node, const char *sku, long long qty,
                                 long long ts_ms, uint64_t *msg_id)
{
    struct ledger_tx tx;
    depot_err e;
    if (!stock_args_valid(node, sku, qty))
        return DEPOT_ERR_INVAL;
    lock(l);
    e = gw_ledger_tx_begin(l, &tx);
    if (e == DEPOT_OK) {
        e = gw_ledger_tx_stock(l, &tx, node, sku, qty, "scale", ts_ms, msg_id);
        e = gw_ledger_tx_finish(l, &tx, e);
    }
    unlock(l);
    return e;
}

/* ---- transactions for the scanner modules (ledger_tx.h) ---- */

void gw_ledger_lock(gw_ledger *l)
{
    lock(l);
}

void gw_ledger_unlock(gw_ledger *l)
{
    unlock(l);
}

int gw_ledger_lock_waiters(const gw_ledger *l)
{
    return __atomic_load_n(&l->lock_waiting, __ATOMIC_SEQ_CST);
}

sqlite3 *gw_ledger_sqlite(gw_ledger *l)
{
    if (!l->in_tx)
        group_commit(l); /* what the caller does next is not part of a waiting group */
    return l->db;
}

depot_err gw_ledger_db_error(gw_ledger *l, int rc, const char *what)
{
    return db_err(l, rc, what);
}

depot_err gw_ledger_step_done(gw_ledger *l, sqlite3_stmt *st, const char *what)
{
    return step_done(l, st, what);
}

sqlite3_stmt *gw_ledger_prepare(gw_ledger *l, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (!l->in_tx)
        group_commit(l); /* a read or write of its own: never inside a waiting group */
    rc = sqlite3_prepare_v2(l->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        db_err(l, rc, sql);
        return NULL;
    }
    return st;
}

sqlite3_stmt *gw_ledger_stmt(gw_ledger *l, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int i, rc;
    if (!l->in_tx)
        group_commit(l); /* as gw_ledger_prepare */
    for (i = 0; i < l->n_kept; i++)
        if (l->kept[i].sql == sql || !strcmp(l->kept[i].sql, sql))
            break;
    if (i < l->n_kept) {
        st = l->kept[i].st;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (l->n_kept == GW_LEDGER_KEPT_MAX) {
        LOG_ERROR("ledger: more than %d kept statements: %s", GW_LEDGER_KEPT_MAX, sql);
        return NULL;
    }
    rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        db_err(l, rc, sql);
        return NULL;
    }
    l->kept[l->n_kept].sql = sql;
    l->kept[l->n_kept].st = st;
    l->n_kept++;
    return st;
}

depot_err gw_ledger_stock_locked(gw_ledger *l, const char *sku, long long *qty)
{
    return stock_read(l, sku, qty);
}

depot_err gw_ledger_tx_begin(gw_ledger *l, struct ledger_tx *tx)
{
    depot_err e;
    if (!l->grp_open) {
        e = begin(l);
        if (e != DEPOT_OK)
            return e;
        l->grp_open = true;
        l->grp_next_id = l->next_id;
        l->grp_outbox_n = l->outbox_n;
        l->grp_warned = l->warned;
    }
    e = step_done(l, l->st[ST_SAVEPOINT], "starting a transaction");
    if (e != DEPOT_OK) {
        if (sqlite3_get_autocommit(l->db))
            group_done(l, e); /* SQLite rolled the whole group back */
        return e;
    }
    tx->next = l->next_id;
    tx->n_delta = 0;
    l->in_tx = true;
    return DEPOT_OK;
}

depot_err gw_ledger_tx_finish(gw_ledger *l, struct ledger_tx *tx, depot_err e)
{
    struct grp_waiter me = {NULL, DEPOT_OK, false};
    l->in_tx = false;
    if (e == DEPOT_OK)
        e = step_done(l, l->st[ST_RELEASE], "ending a transaction");
    if (e != DEPOT_OK) {
        if (sqlite3_get_autocommit(l->db)) {
            group_done(l, e); /* SQLite rolled the whole group back (I/O error, disk full) */
            return e;
        }
        if (step_done(l, l->st[ST_ROLLBACK_TO], "rolling back a transaction") != DEPOT_OK) {
            commit_or_rollback(l, e); /* its work could not be undone alone: undo the group */
            group_done(l, e);
            return e;
        }
        step_done(l, l->st[ST_RELEASE], "ending a rolled-back transaction");
        if (!l->grp_members || !lock_wanted(l))
            group_commit(l); /* the waiting callers' work, or an empty transaction */
        return e;
    }
    moved(l, tx->next, tx->n_delta);
    if (lock_wanted(l) && l->grp_members + 1 < GRP_MAX) {
        me.next = l->waiters;
        l->waiters = &me;
        l->grp_members++;
        while (!me.done)
            pthread_cond_wait(&l->grp_cv, &l->mu);
        return me.result;
    }
    return group_commit(l);
}

depot_err gw_ledger_tx_queue(gw_ledger *l, struct ledger_tx *tx, depot_msg *m, uint64_t *msg_id)
{
    if (msg_id)
        *msg_id = tx->next;
    return queue_in_tx(l, m, NULL, &tx->next, &tx->n_delta);
}

bool gw_ledger_tx_outbox_high(const gw_ledger *l, const struct ledger_tx *tx)
{
    return l->outbox_n + tx->n_delta >= l->warn_at;
}

bool gw_ledger_tx_outbox_room(const gw_ledger *l, const struct ledger_tx *tx)
{
    return l->outbox_n + tx->n_delta < l->max_entries;
}

depot_err gw_ledger_append_event(gw_ledger *l, const char *node, const char *event,
                                 const char *reason, long long count, long long ts_ms,
                                 uint64_t *msg_id)
{
    depot_msg m;
    struct ledger_tx tx;
    depot_err e;

    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = ts_ms;
    if (snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", node) >=
            (int)sizeof(m.body.event.node) ||
        snprintf(m.body.event.event, sizeof(m.body.event.event), "%s", event) >=
            (int)sizeof(m.body.event.event))
        return DEPOT_ERR_INVAL;
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", reason);
    m.body.event.count = count;
    lock(l);
    e = gw_ledger_tx_begin(l, &tx);
    if (e == DEPOT_OK) {
        e = gw_ledger_tx_queue(l, &tx, &m, msg_id);
        e = gw_ledger_tx_finish(l, &tx, e);
    }
    unlock(l);
    return e;
}

void gw_ledger_set_queued_hook(gw_ledger *l, void (*fn)(void *ctx), void *ctx)
{
    lock_flushed(l);
    l->queued_hook = fn;
    l->queued_ctx = ctx;
    unlock(l);
}

/* ---- reading and acknowledging ---- */

/* The type a topic leaf names; DEPOT_MSG__COUNT for none (a damaged row). */
static depot_msg_type leaf_type(const char *leaf)
{
    for (int i = 0; leaf && i < DEPOT_MSG__COUNT; i++)
        if (!strcmp(depot_msg_topic_leaf((depot_msg_type)i), leaf))
            return (depot_msg_type)i;
    return DEPOT_MSG__COUNT;
}

/* Every row is returned, a damaged one too: the uplink sets it aside rather than stall. */
static depot_err read_rows(gw_ledger *l, struct gw_outbox_entry *out, size_t max, size_t *n)
{
    sqlite3_stmt *st = l->st[ST_OUT_READ];
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct gw_outbox_entry *e = &out[*n];
        const unsigned char *text = sqlite3_column_text(st, 2);
        int len = text ? sqlite3_column_bytes(st, 2) : 0;
        e->type = leaf_type((const char *)sqlite3_column_text(st, 1));
        e->payload = depot_malloc((size_t)len + 1);
        if (!e->payload)
            return DEPOT_ERR_NOMEM;
        if (len)
            memcpy(e->payload, text, (size_t)len);
        e->payload[len] = '\0';
        e->len = (size_t)len;
        e->id = (uint64_t)sqlite3_column_int64(st, 0);
        (*n)++;
    }
    return (*n == max || rc == SQLITE_DONE) ? DEPOT_OK : db_err(l, rc, "reading the outbox");
}

depot_err gw_ledger_outbox_read(gw_ledger *l, uint64_t from_id, size_t max,
                                struct gw_outbox_entry *out, size_t *n)
{
    sqlite3_stmt *st = l->st[ST_OUT_READ];
    depot_err e;
    *n = 0;
    lock_flushed(l);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    e = read_rows(l, out, max, n);
    sqlite3_reset(st);
    unlock(l);
    if (e != DEPOT_OK) {
        gw_ledger_entries_clear(out, *n);
        *n = 0;
    }
    return e;
}

void gw_ledger_entries_clear(struct gw_outbox_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        depot_free(e[i].payload);
        e[i].payload = NULL;
    }
}

depot_err gw_ledger_outbox_base(gw_ledger *l, uint64_t *base)
{
    lock_flushed(l);
    *base = outbox_min(l);
    if (!*base)
        *base = l->next_id;
    unlock(l);
    return DEPOT_OK;
}

depot_err gw_ledger_mark_sent(gw_ledger *l, const uint64_t *ids, size_t n, long long now_ms)
{
    sqlite3_stmt *st = l->st[ST_OUT_SENT];
    depot_err e;
    if (!n)
        return DEPOT_OK;
    lock_flushed(l);
    e = begin(l);
    if (e == DEPOT_OK) {
        for (size_t i = 0; e == DEPOT_OK && i < n; i++) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)ids[i]);
            sqlite3_bind_int64(st, 2, now_ms);
            e = step_done(l, st, "marking sent");
        }
        e = commit_or_rollback(l, e);
    }
    unlock(l);
    return e;
}

/* Move row id to outbox_aside and queue the event that reports it. Lock held, in a tx. */
static depot_err set_aside_in_tx(gw_ledger *l, uint64_t id, const char *why, uint64_t *next,
                                 long long *n_delta)
{
    sqlite3_stmt *mv = l->st[ST_OUT_ASIDE], *del = l->st[ST_OUT_DEL_ONE];
    depot_msg m;
    depot_err e;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = depot_now_ms();
    snprintf(m.body.event.node, sizeof(m.body.event.node), "gateway");
    snprintf(m.body.event.event, sizeof(m.body.event.event), "outbox_aside");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", why);
    m.body.event.count = (long long)id;
    sqlite3_bind_int64(mv, 1, (sqlite3_int64)id);
    sqlite3_bind_text(mv, 2, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(mv, 3, m.ts);
    sqlite3_bind_int64(mv, 4, (sqlite3_int64)*next);
    e = step_done(l, mv, "setting an outbox entry aside");
    if (e == DEPOT_OK && sqlite3_changes(l->db) == 0)
        return DEPOT_ERR_NOTFOUND;
    sqlite3_bind_int64(del, 1, (sqlite3_int64)id);
    if (e == DEPOT_OK)
        e = step_done(l, del, "deleting an outbox entry set aside");
    if (e == DEPOT_OK)
        (*n_delta)--;
    return e == DEPOT_OK ? queue_in_tx(l, &m, NULL, next, n_delta) : e;
}

depot_err gw_ledger_outbox_set_aside(gw_ledger *l, uint64_t id, const char *why, uint64_t *event_id)
{
    uint64_t next, ev;
    long long n_delta = 0;
    depot_err e;
    lock_flushed(l);
    next = ev = l->next_id;
    if (event_id)
        *event_id = ev;
    e = begin(l);
    if (e == DEPOT_OK) {
        e = set_aside_in_tx(l, id, why, &next, &n_delta);
        e = commit_or_rollback(l, e);
    }
    if (e == DEPOT_OK)
        committed(l, next, n_delta);
    unlock(l);
    if (e == DEPOT_OK)
        LOG_ERROR("outbox: entry %llu can never be sent (%s): moved to outbox_aside, reported"
                  " as event %llu; the stream goes on",
                  (unsigned long long)id, why, (unsigned long long)ev);
    return e;
}

long long gw_ledger_outbox_aside_count(gw_ledger *l)
{
    long long v;
    lock_flushed(l);
    v = query_int(l, "SELECT count(*) FROM outbox_aside", -1);
    unlock(l);
    return v;
}

/* The recovered event once an ack brings the outbox back under the warning level. */
static depot_err maybe_recover(gw_ledger *l, uint64_t *next, long long *n_delta)
{
    depot_msg m;
    long long n = l->outbox_n + *n_delta;
    if (!l->warned || n >= l->warn_at - l->warn_at / 10 || n >= l->max_entries)
        return DEPOT_OK;
    memset(&m, 0, sizeof(m));
    m.type = DEPOT_MSG_EVENT;
    m.ts = depot_now_ms();
    snprintf(m.body.event.node, sizeof(m.body.event.node), "gateway");
    snprintf(m.body.event.event, sizeof(m.body.event.event), "recovered");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "outbox_high");
    m.body.event.count = n;
    depot_err e = outbox_insert(l, &m, (*next)++, NULL, n_delta);
    if (e == DEPOT_OK)
        e = store_next_id(l, *next);
    return e;
}

static depot_err ack_locked(gw_ledger *l, uint64_t upto, long long *deleted)
{
    sqlite3_stmt *st = l->st[ST_OUT_ACK];
    uint64_t next = l->next_id;
    long long n_delta = 0;
    bool was_warned = l->warned;
    depot_err e;

    if (upto >= l->next_id)
        return DEPOT_ERR_INVAL;
    e = begin(l);
    if (e != DEPOT_OK)
        return e;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    e = step_done(l, st, "deleting acknowledged entries");
    if (e == DEPOT_OK)
        n_delta = -(long long)sqlite3_changes(l->db);
    if (deleted)
        *deleted = -n_delta;
    if (e == DEPOT_OK)
        e = maybe_recover(l, &next, &n_delta);
    e = commit_or_rollback(l, e);
    if (e != DEPOT_OK)
        return e;
    l->next_id = next;
    l->outbox_n += n_delta;
    if (was_warned && l->outbox_n < l->warn_at - l->warn_at / 10) {
        l->warned = false;
        LOG_INFO("ledger: outbox back to %lld entries", l->outbox_n);
    }
    return DEPOT_OK;
}

depot_err gw_ledger_ack(gw_ledger *l, uint64_t upto, long long *deleted)
{
    depot_err e;
    lock_flushed(l);
    e = ack_locked(l, upto, deleted);
    unlock(l);
    return e;
}

/* ---- reading state ---- */

uint64_t gw_ledger_last_id(gw_ledger *l)
{
    uint64_t v;
    lock_flushed(l);
    v = l->next_id - 1;
    unlock(l);
    return v;
}

long long gw_ledger_outbox_refuse_at(const gw_ledger *l)
{
    return l->warn_at;
}

long long gw_ledger_outbox_count(gw_ledger *l)
{
    long long v;
    lock_flushed(l);
    v = l->outbox_n;
    unlock(l);
    return v;
}

const char *gw_ledger_id(const gw_ledger *l)
{
    return l->id;
}

const char *gw_ledger_dealer(const gw_ledger *l)
{
    return l->dealer;
}

depot_err gw_ledger_stock_get(gw_ledger *l, const char *sku, long long *qty)
{
    depot_err e;
    lock_flushed(l);
    e = stock_read(l, sku, qty);
    unlock(l);
    return e;
}

static depot_err stock_rows(gw_ledger *l, struct depot_snapshot_item *items, size_t max, size_t *n)
{
    sqlite3_stmt *st = l->st[ST_STOCK_ALL];
    int rc = SQLITE_DONE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct depot_snapshot_item *it = &items[*n];
        memset(it, 0, sizeof(*it));
        snprintf(it->sku, sizeof(it->sku), "%s", (const char *)sqlite3_column_text(st, 0));
        it->qty = sqlite3_column_int64(st, 1);
        snprintf(it->node, sizeof(it->node), "%s", (const char *)sqlite3_column_text(st, 2));
        (*n)++;
    }
    sqlite3_reset(st);
    return (*n == max || rc == SQLITE_DONE) ? DEPOT_OK : db_err(l, rc, "reading stock");
}

depot_err gw_ledger_stock_list(gw_ledger *l, struct depot_snapshot_item **items, size_t *n)
{
    depot_err e;
    long long rows;
    *items = NULL;
    *n = 0;
    lock_flushed(l);
    rows = query_int(l, "SELECT count(*) FROM stock", 0);
    if (rows > DEPOT_SNAPSHOT_MAX_ITEMS)
        rows = DEPOT_SNAPSHOT_MAX_ITEMS;
    *items = depot_calloc(rows ? (size_t)rows : 1, sizeof(**items));
    e = *items ? stock_rows(l, *items, (size_t)rows, n) : DEPOT_ERR_NOMEM;
    unlock(l);
    if (e != DEPOT_OK) {
        depot_free(*items);
        *items = NULL;
        *n = 0;
    }
    return e;
}
