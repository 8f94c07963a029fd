/*
 * The statement helpers every file of the SQLite store shares: bind, step,
 * walk, read a column, run a schema, prepare and finalize a statement table.
 *
 * A statement comes back from hub_sqlite_ready reset with its bindings
 * cleared; after hub_sqlite_run or hub_sqlite_walk_end it is reset again, so
 * it holds no read lock between calls. Every failure is logged here as
 * "sqlite: <what>: <SQLite's message>" and returned as DEPOT_ERR_DB.
 */
#include <stdio.h>

#include "store/sqlite/sqlite.h"

#include "depot/log.h"

depot_err hub_sqlite_fail(struct sqlite_store *q, const char *what)
{
    LOG_ERROR("sqlite: %s: %s", what, sqlite3_errmsg(q->db));
    return DEPOT_ERR_DB;
}

sqlite3_stmt *hub_sqlite_ready(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

void hub_sqlite_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

const char *hub_sqlite_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

void hub_sqlite_dealer_row(sqlite3_stmt *st, struct hub_dealer_row *r)
{
    r->dealer = hub_sqlite_col(st, 0);
    r->online = sqlite3_column_int(st, 1) != 0;
    r->session = sqlite3_column_int64(st, 2);
    r->last_seen = sqlite3_column_int64(st, 3);
    r->first_seen = sqlite3_column_int64(st, 4);
}

void hub_sqlite_col_copy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    snprintf(dst, size, "%s", hub_sqlite_col(st, i));
}

depot_err hub_sqlite_run(struct sqlite_store *q, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, what);
}

depot_err hub_sqlite_one_row(struct sqlite_store *q, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DEPOT_ERR_NOTFOUND : hub_sqlite_fail(q, what);
}

depot_err hub_sqlite_walk_end(struct sqlite_store *q, sqlite3_stmt *st, int rc, const char *what)
{
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : hub_sqlite_fail(q, what);
}

depot_err hub_sqlite_exec(struct sqlite_store *q, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return DEPOT_OK;
    LOG_ERROR("sqlite: %s: %s", what, msg ? msg : sqlite3_errmsg(q->db));
    sqlite3_free(msg);
    return DEPOT_ERR_DB;
}

depot_err hub_sqlite_prepare_all(struct sqlite_store *q, const char *const *sql, int n,
                                 sqlite3_stmt **out)
{
    for (int i = 0; i < n; i++)
        if (sqlite3_prepare_v3(q->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &out[i], NULL) !=
            SQLITE_OK)
            return hub_sqlite_fail(q, sql[i]);
    return DEPOT_OK;
}

void hub_sqlite_finalize_all(sqlite3_stmt **st, int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_finalize(st[i]);
        st[i] = NULL;
    }
}
