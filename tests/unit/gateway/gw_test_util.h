/*
 * Helpers shared by the gateway's unit tests: a temporary folder per test,
 * the ledger opened in it, and one-value SQL reads of the ledger file the way
 * a local tool would (a second connection).
 *
 * Include after <cmocka.h> (the ledger and SQL helpers assert).
 */
#ifndef GW_TEST_UTIL_H
#define GW_TEST_UTIL_H

#include <sqlite3.h>
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

/* The fixture of a test that opens its own ledgers: a temporary folder and
 * the ledger file's path in it. */
struct gw_test_dir {
    char dir[64];
    char path[128]; /* <dir>/ledger.db */
};

/* cmocka setup: a new struct gw_test_dir in *state, its folder /tmp/<name>.XXXXXX. */
static inline int gw_test_dir_setup(void **state, const char *name)
{
    struct gw_test_dir *f = calloc(1, sizeof(*f));
    if (gw_test_tmpdir(f->dir, sizeof(f->dir), name) != 0)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/ledger.db", f->dir);
    *state = f;
    return 0;
}

/* cmocka teardown of gw_test_dir_setup: removes the folder, frees the fixture. */
static inline int gw_test_dir_teardown(void **state)
{
    struct gw_test_dir *f = *state;
    if (gw_test_rmdir(f->dir) != 0)
        return -1;
    free(f);
    return 0;
}

/* Opens the ledger file at path for dealer D001 with these bounds (asserts it opened). */
static inline gw_ledger *gw_test_open_ledger(const char *path, long long max, int warn)
{
    struct gw_ledger_opts o = {path, "D001", max, warn};
    gw_ledger *l = NULL;
    assert_int_equal(gw_ledger_open(&o, &l), DEPOT_OK);
    return l;
}

/* The first column of the first row of sql on the file at path, -1 if no row. */
static inline long long gw_test_sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

#endif
