/*
 * Helpers shared by the gateway's unit tests: the fixture (a temporary
 * folder per test and the ledger opened in it, set up and removed here only),
 * and one-value SQL reads of the ledger file the way a local tool would (a
 * second connection).
 *
 * Include after <cmocka.h> (the ledger and SQL helpers assert).
 */
#ifndef GW_TEST_UTIL_H
#define GW_TEST_UTIL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ledger.h"

/* A fresh folder /tmp/<name>.XXXXXX; its path into dir. 0, or -1 if it could not be made. */
static inline int gw_test_tmpdir(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/%s.XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and all in it. 0, or -1 if rm failed. */
static inline int gw_test_rmdir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Opens the ledger file at path for dealer D001 with these bounds (asserts it opened). */
static inline gw_ledger *gw_test_open_ledger(const char *path, long long max, int warn)
{
    struct gw_ledger_opts o = {path, "D001", max, warn};
    gw_ledger *l = NULL;
    assert_int_equal(gw_ledger_open(&o, &l), DEPOT_OK);
    return l;
}

/*
 * The fixture of a gateway test: a temporary folder, the ledger file's path in
 * it, and the ledger open on that file, or NULL while the test has none open.
 * A test that needs more embeds it (struct { struct gw_test_fixture gw; ... }).
 */
struct gw_test_fixture {
    char dir[64];
    char db[128];      /* <dir>/ledger.db */
    gw_ledger *ledger; /* D001, or NULL */
};

/* Makes f's folder /tmp/<name>.XXXXXX and, if open, the ledger in it (D001, 1000 entries,
 * warning at 80 %). 0, or -1 if either failed. */
static inline int gw_test_fixture_init(struct gw_test_fixture *f, const char *name, bool open)
{
    struct gw_ledger_opts o = {f->db, "D001", 1000, 80};
    f->ledger = NULL;
    if (gw_test_tmpdir(f->dir, sizeof(f->dir), name) != 0)
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/ledger.db", f->dir);
    if (!open || gw_ledger_open(&o, &f->ledger) == DEPOT_OK)
        return 0;
    gw_test_rmdir(f->dir);
    return -1;
}

/* Closes f's ledger if one is open (the ledger file stays). */
static inline void gw_test_fixture_close(struct gw_test_fixture *f)
{
    gw_ledger_free(f->ledger);
    f->ledger = NULL;
}

/* Opens f's ledger file with these bounds, closing the ledger open before (a restart);
 * returns it (asserts it opened). The fixture closes it at the end. */
static inline gw_ledger *gw_test_fixture_open(struct gw_test_fixture *f, long long max, int warn)
{
    gw_test_fixture_close(f);
    f->ledger = gw_test_open_ledger(f->db, max, warn);
    return f->ledger;
}

/* Closes f's ledger and removes its folder with all in it. 0, or -1 if that failed. */
static inline int gw_test_fixture_fini(struct gw_test_fixture *f)
{
    gw_test_fixture_close(f);
    return gw_test_rmdir(f->dir);
}

/* A new fixture in *state (see gw_test_fixture_init). */
static inline int gw_test_fixture_new(void **state, const char *name, bool open)
{
    struct gw_test_fixture *f = calloc(1, sizeof(*f));
    if (!f || gw_test_fixture_init(f, name, open) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* cmocka setup: a new struct gw_test_fixture in *state, its ledger open. */
static inline int gw_test_fixture_setup(void **state, const char *name)
{
    return gw_test_fixture_new(state, name, true);
}

/* cmocka setup: a new struct gw_test_fixture in *state, no ledger open (nor file made). */
static inline int gw_test_fixture_setup_dir(void **state, const char *name)
{
    return gw_test_fixture_new(state, name, false);
}

/* cmocka teardown of both: closes the ledger, removes the folder, frees the fixture. */
static inline int gw_test_fixture_teardown(void **state)
{
    struct gw_test_fixture *f = *state;
    int rc = gw_test_fixture_fini(f);
    free(f);
    return rc;
}

/* The first column of the first row of sql on the file at path, -1 if no row. */
/* The first column of the first row of sql on the open db, its one parameter (if any) bound to
 * n; -1 if there is no row. */
static inline long long gw_test_db_int(sqlite3 *db, const char *sql, long long n)
{
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, n);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline long long gw_test_sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    long long v;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    v = gw_test_db_int(db, sql, 0);
    sqlite3_close(db);
    return v;
}

/* The one text value of sql on the ledger file at path (a connection of its own) into out. */
static inline void gw_test_sql_text(const char *path, const char *sql, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

#endif
