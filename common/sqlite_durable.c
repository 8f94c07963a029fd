/*
 * depot_sqlite_durable: WAL and synchronous=FULL, checked (see the header).
 */
#include "depot/sqlite_durable.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/log.h"

/* The first column of a pragma's answer as text ("" when none); the step's result code. */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st;
    int rc;

    out[0] = '\0';
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * PRAGMA journal_mode=WAL, tried again for up to BUSY_RETRY_MS while another
 * connection holds the lock it needs: SQLite answers SQLITE_BUSY at once,
 * without the busy handler, when a second connection opens a new file as
 * the first turns it to WAL (two hubs starting together on one file).
 */
#define BUSY_RETRY_MS 5000

static int set_wal(sqlite3 *db, char *mode, size_t len)
{
    struct timespec pause = {0, 10 * 1000000L};
    int rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, len);
    for (int waited = 0; (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; waited += 10) {
        if (waited >= BUSY_RETRY_MS)
            break;
        nanosleep(&pause, NULL);
        rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, len);
    }
    return rc;
}

depot_err depot_sqlite_durable(sqlite3 *db, const char *who)
{
    const char *file = sqlite3_db_filename(db, "main");
    char mode[32], sync[32];
    int rc = set_wal(db, mode, sizeof(mode));

    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = pragma_text(db, "PRAGMA synchronous", sync, sizeof(sync));
    if ((rc & 0xff) == SQLITE_FULL || sqlite3_errcode(db) == SQLITE_FULL) {
        LOG_ERROR("sqlite: %s: the disk is full (setting WAL and synchronous=FULL)",
                  file && file[0] ? file : "the database");
        return DEPOT_ERR_FULL;
    }
    if (rc != SQLITE_OK) {
        LOG_ERROR("sqlite: %s: setting WAL and synchronous=FULL: %s",
                  file && file[0] ? file : "the database", sqlite3_errmsg(db));
        return DEPOT_ERR_DB;
    }
    if (strcmp(mode, "wal") != 0 || strcmp(sync, "2") != 0) {
        LOG_ERROR("sqlite: %s runs journal_mode=%s, synchronous=%s: %s runs only with "
                  "journal_mode=wal and synchronous=2 (FULL), so that what it acknowledges is on "
                  "the disk (a file system without shared memory or locks cannot hold it)",
                  file && file[0] ? file : "the database", mode[0] ? mode : "?",
                  sync[0] ? sync : "?", who);
        return DEPOT_ERR_DB;
    }
    return DEPOT_OK;
}
