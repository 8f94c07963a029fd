/*
 * Helpers shared by the hub's unit tests: temp folders, the store a test
 * opens (SQLite or PostgreSQL) and message builders.
 *
 * Each test that opens a store runs twice under ctest: unit.<test> on SQLite
 * files in a temp folder, and unit.<test>.pg on the PostgreSQL server of the
 * ctest fixture `pg` (tests/tools/pg_fixture.py), whose URL is in the file
 * named by DEPOT_TEST_PG_URL_FILE. By hand:
 *   python3 tests/tools/pg_fixture.py start /tmp/pg
 *   DEPOT_TEST_PG_URL_FILE=/tmp/pg/url build/tests/hub_store_test
 *   python3 tests/tools/pg_fixture.py stop /tmp/pg
 */
#ifndef HUB_TEST_UTIL_H
#define HUB_TEST_UTIL_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "depot/msg.h"
#include "store/store.h"

#define LEDGER_A "0123456789abcdef0123456789abcdef"
#define LEDGER_B "fedcba9876543210fedcba9876543210"

/* A fresh folder under $TMPDIR (or /tmp); path into buf. */
static inline void test_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/hubtest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf))
        abort();
}

static inline void test_rmdir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Whether this run's stores are PostgreSQL databases (DEPOT_TEST_PG_URL_FILE is set). */
static inline bool test_store_is_pg(void)
{
    const char *file = getenv("DEPOT_TEST_PG_URL_FILE");
    return file && *file;
}

/*
 * Runs one SQL statement on the database at url, on a connection of its own;
 * whether it succeeded (its error printed when print_error). A server that
 * cannot be reached aborts the test program.
 */
static inline bool test_pg_exec(const char *url, const char *sql, bool print_error)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r;
    bool ok;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test: cannot connect to %s: %s\n", url, c ? PQerrorMessage(c) : "");
        PQfinish(c);
        abort();
    }
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok && print_error)
        fprintf(stderr, "test: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok;
}

/* url with its database (the path after host:port) replaced by name; query kept. */
static inline void test_pg_url_with_db(char *buf, size_t len, const char *url, const char *name)
{
    const char *host = strstr(url, "://");
    const char *path, *query;
    host = host ? host + 3 : url;
    path = host + strcspn(host, "/?");
    query = path + strcspn(path, "?");
    if ((size_t)snprintf(buf, len, "%.*s/%s%s", (int)(path - url), url, name, query) >= len)
        abort();
}

/*
 * Where a test's store lives: the SQLite file "<dir>/<name>", or on
 * PostgreSQL the URL of a fresh, empty database made for this call (unique
 * by pid, a counter and the time) on the server in $DEPOT_TEST_PG_URL_FILE.
 * A test that opens a second store on the same data opens the same location.
 */
static inline void test_store_location(char *buf, size_t len, const char *dir, const char *name)
{
    static unsigned counter;
    char server[512], db[64], sql[96];
    struct timespec ts;
    FILE *f;
    if (!test_store_is_pg()) {
        if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
            abort();
        return;
    }
    f = fopen(getenv("DEPOT_TEST_PG_URL_FILE"), "r");
    if (!f || !fgets(server, sizeof(server), f)) {
        fprintf(stderr, "test: no server URL in %s\n", getenv("DEPOT_TEST_PG_URL_FILE"));
        abort();
    }
    fclose(f);
    server[strcspn(server, "\r\n")] = '\0';
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(db, sizeof(db), "hubtest_%ld_%u_%lld", (long)getpid(), ++counter,
             (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
    if (!test_pg_exec(server, sql, true))
        abort();
    test_pg_url_with_db(buf, len, server, db);
}

/*
 * Drops what test_store_location made once the test's stores are closed:
 * nothing for a SQLite file (test_rmdir removes its folder), the database on
 * PostgreSQL (so a run does not keep a database of every test on disk).
 */
static inline void test_store_drop(const char *location)
{
    char server[512], sql[96];
    const char *slash, *host;
    if (!test_store_is_pg() || !location || !*location)
        return;
    host = strstr(location, "://");
    host = host ? host + 3 : location;
    slash = strchr(host, '/');
    if (!slash)
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.*s WITH (FORCE)",
             (int)strcspn(slash + 1, "?"), slash + 1);
    test_pg_url_with_db(server, sizeof(server), location, "postgres");
    test_pg_exec(server, sql, true);
}

/* Runs sql (one or more statements) on the store at location (test_store_location) from a
 * connection of its own; whether it succeeded. */
static inline bool test_store_exec(const char *location, const char *sql)
{
    sqlite3 *db = NULL;
    bool ok;
    if (test_store_is_pg())
        return test_pg_exec(location, sql, true);
    ok = sqlite3_open(location, &db) == SQLITE_OK &&
         sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr, "test: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_close(db);
    return ok;
}

/* A token "<name>-token-000" of role in c, acting for stage (NULL: none listed). */
static inline void test_add_token(struct hub_config *c, const char *name, enum hub_role role,
                                  const char *stage)
{
    struct hub_token *t = &c->tokens[c->n_tokens++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->token, sizeof(t->token), "%s-token-000", name);
    t->role = role;
    if (stage) {
        snprintf(t->stages[0], sizeof(t->stages[0]), "%s", stage);
        t->n_stages = 1;
    }
}

static inline depot_msg test_stock(const char *dealer, const char *ledger, uint64_t id,
                                   uint64_t base, long long ts, const char *sku, long long qty)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_STOCK;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", ledger);
    m.id = id;
    m.base = base;
    m.ts = ts;
    snprintf(m.body.stock.sku, sizeof(m.body.stock.sku), "%s", sku);
    m.body.stock.qty = qty;
    m.body.stock.delta = 1;
    snprintf(m.body.stock.node, sizeof(m.body.stock.node), "scale-a");
    return m;
}

static inline depot_msg test_event(const char *dealer, uint64_t id, long long ts, const char *node,
                                   const char *event, const char *reason)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_EVENT;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", LEDGER_A);
    m.id = id;
    m.base = 1;
    m.ts = ts;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "%s", node);
    snprintf(m.body.event.event, sizeof(m.body.event.event), "%s", event);
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%s", reason);
    return m;
}

static inline depot_msg test_state(const char *dealer, bool online, long long session, long long ts)
{
    depot_msg m;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_STATE;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    m.ts = ts;
    m.body.state.online = online;
    m.body.state.session = session;
    return m;
}

/*
 * The fixture of a test that needs a store of its own (SQLite file or PostgreSQL database,
 * test_store_location): cmocka setup and teardown, state a struct test_store_fixture.
 */
struct test_store_fixture {
    char dir[256];
    char location[300]; /* the SQLite file or the PostgreSQL URL the test opens */
    hub_store *s;
};

static inline int test_store_setup(void **state)
{
    struct test_store_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    test_tmpdir(f->dir, sizeof(f->dir));
    test_store_location(f->location, sizeof(f->location), f->dir, "hub.db");
    if (hub_store_open(f->location, &f->s) != DEPOT_OK) {
        test_store_drop(f->location);
        test_rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int test_store_teardown(void **state)
{
    struct test_store_fixture *f = *state;
    hub_store_free(f->s);
    test_store_drop(f->location);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

#endif
