/*
 * The SQLite store's schema migrations and the pruning of its exactly-once
 * keys, read back from the real file with SQLite itself: a stream's applied
 * rows exist only for ids above its applied_upto; a file from before
 * versioning is recorded and pruned when opened; a file a newer hub migrated
 * is refused; hubs that open a new file at once migrate it once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/alerts.h"
#include "hub_test_util.h"

#define NEWEST 15 /* the last migration of store/sqlite/sqlite.c */

struct fixture {
    char dir[256];
    char path[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/hub.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* The integer sql returns from the file at path (-1 on an error). */
static long long file_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void file_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static enum hub_apply_result apply_id(hub_store *s, uint64_t id, uint64_t *upto)
{
    depot_msg m = test_stock("D1", LEDGER_A, id, 1, 1000 + (long long)id, "SKU-1", (long long)id);
    enum hub_apply_result res;
    assert_int_equal(hub_store_apply(s, &m, 2000, &res, upto), DEPOT_OK);
    return res;
}

static long long applied_rows(const struct fixture *f)
{
    return file_int(f->path, "SELECT COUNT(*) FROM applied");
}

static void test_applied_RowsOnlyAboveTheMark(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    uint64_t upto;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);

    assert_int_equal(apply_id(s, 1, &upto), HUB_APPLY_DONE);
    assert_int_equal(apply_id(s, 2, &upto), HUB_APPLY_DONE);
    assert_int_equal(upto, 2);
    assert_int_equal(applied_rows(f), 0); /* in order: the mark alone */

    assert_int_equal(apply_id(s, 4, &upto), HUB_APPLY_DONE);
    assert_int_equal(upto, 2);
    assert_int_equal(applied_rows(f), 1); /* 4 waits above the gap */
    assert_int_equal(apply_id(s, 4, &upto), HUB_APPLY_DUPLICATE);

    assert_int_equal(apply_id(s, 3, &upto), HUB_APPLY_STALE); /* older value than 4's */
    assert_int_equal(upto, 4);
    assert_int_equal(applied_rows(f), 0); /* the mark covers 4: its row is gone */

    for (uint64_t id = 1; id <= 4; id++)
        assert_int_equal(apply_id(s, id, &upto), HUB_APPLY_DUPLICATE);
    assert_int_equal(file_int(f->path, "SELECT applied_count FROM streams"), 4);
    assert_int_equal(file_int(f->path, "SELECT duplicates FROM streams"), 5);
    hub_store_free(s);
}

static void test_applied_BatchWithAGapKeepsOnlyWhatIsAbove(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    uint64_t upto;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    assert_int_equal(hub_store_begin(s), DEPOT_OK);
    assert_int_equal(apply_id(s, 1, &upto), HUB_APPLY_DONE);
    assert_int_equal(apply_id(s, 3, &upto), HUB_APPLY_DONE);
    assert_int_equal(apply_id(s, 6, &upto),
                     HUB_APPLY_DONE); /* the stock row holds 5 (7 was only a key) */
    assert_int_equal(apply_id(s, 2, &upto), HUB_APPLY_STALE);
    assert_int_equal(upto, 3);
    assert_int_equal(hub_store_commit(s), DEPOT_OK);
    assert_int_equal(file_int(f->path, "SELECT COUNT(*) FROM applied WHERE msg_id = 6"), 1);
    assert_int_equal(applied_rows(f), 1);
    assert_int_equal(file_int(f->path, "SELECT applied_upto FROM streams"), 3);
    assert_int_equal(apply_id(s, 6, &upto), HUB_APPLY_DUPLICATE);
    hub_store_free(s);
}

static void test_migrate_NewFileAtTheNewestVersion(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    hub_store_free(s);
    assert_int_equal(file_int(f->path, "SELECT COUNT(*) FROM schema_migrations"), NEWEST);
    assert_int_equal(file_int(f->path, "SELECT MAX(version) FROM schema_migrations"), NEWEST);
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK); /* again: nothing to do */
    hub_store_free(s);
    assert_int_equal(file_int(f->path, "SELECT COUNT(*) FROM schema_migrations"), NEWEST);
}

static void test_migrate_FileFromBeforeVersionsIsPruned(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    uint64_t upto;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    for (uint64_t id = 1; id <= 5; id++)
        apply_id(s, id, &upto);
    hub_store_free(s);
    /* as an older hub left it: every id had its row, and no versions */
    file_exec(f->path, "DROP TABLE schema_migrations;"
                       "INSERT INTO applied(dealer, ledger, msg_id) VALUES"
                       "('D1','" LEDGER_A "',1),('D1','" LEDGER_A "',2),('D1','" LEDGER_A "',3),"
                       "('D1','" LEDGER_A "',4),('D1','" LEDGER_A "',5),('D1','" LEDGER_A "',7);");
    assert_int_equal(applied_rows(f), 6);

    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    assert_int_equal(applied_rows(f), 1); /* 7 is above the mark (5) */
    assert_int_equal(file_int(f->path, "SELECT MAX(version) FROM schema_migrations"), NEWEST);
    assert_int_equal(apply_id(s, 3, &upto), HUB_APPLY_DUPLICATE);
    assert_int_equal(apply_id(s, 7, &upto), HUB_APPLY_DUPLICATE);
    assert_int_equal(apply_id(s, 6, &upto),
                     HUB_APPLY_DONE); /* the stock row holds 5 (7 was only a key) */
    assert_int_equal(upto, 7);
    assert_int_equal(applied_rows(f), 0);
    hub_store_free(s);
}

static void test_migrate_FileAtVersion2GetsTheEngineLog(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    long long head = -1, pruned = -1;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    hub_store_free(s);
    /* as the hub of version 2 left it */
    file_exec(f->path, "DROP TABLE engine_log; DROP TABLE alert_memo;"
                       "DELETE FROM schema_migrations WHERE version = 3;");
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    assert_int_equal(file_int(f->path, "SELECT MAX(version) FROM schema_migrations"), NEWEST);
    assert_int_equal(hub_store_log_add(s, HUB_LOG_ALERTS, "w1", "D1 D2", 5), DEPOT_OK);
    assert_int_equal(hub_store_log_read(s, HUB_LOG_ALERTS, -1, NULL, NULL, &head, &pruned),
                     DEPOT_OK);
    assert_int_equal(head, 1);
    assert_int_equal(pruned, 0);
    hub_store_free(s);
}

static void test_migrate_NewerFileRefused(void **state)
{
    struct fixture *f = *state;
    hub_store *s;
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_OK);
    hub_store_free(s);
    file_exec(f->path, "INSERT INTO schema_migrations VALUES(99, 'a later hub', 0)");
    assert_int_equal(hub_store_open(f->path, &s), DEPOT_ERR_DB);
}

struct opener {
    const char *path;
    depot_err err;
};

static void *open_close(void *arg)
{
    struct opener *o = arg;
    hub_store *s = NULL;
    o->err = hub_store_open(o->path, &s);
    hub_store_free(s);
    return NULL;
}

static void test_migrate_HubsOpeningAtOnceMigrateOnce(void **state)
{
    struct fixture *f = *state;
    struct opener o[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){f->path, DEPOT_ERR_INVAL};
        assert_int_equal(pthread_create(&t[i], NULL, open_close, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(o[i].err, DEPOT_OK);
    }
    assert_int_equal(file_int(f->path, "SELECT COUNT(*) FROM schema_migrations"), NEWEST);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_applied_RowsOnlyAboveTheMark),
        T(test_applied_BatchWithAGapKeepsOnlyWhatIsAbove),
        T(test_migrate_NewFileAtTheNewestVersion),
        T(test_migrate_FileFromBeforeVersionsIsPruned),
        T(test_migrate_FileAtVersion2GetsTheEngineLog),
        T(test_migrate_NewerFileRefused),
        T(test_migrate_HubsOpeningAtOnceMigrateOnce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
