/*
 * The account domain of the SQLite store (store/accounts.h).
 *
 *   users       (name PK; role, dealer, stages, pwhash, disabled, created_at, updated_at)
 *   credentials (hash PK; kind, name, role, dealer, stages, created_by, created_at,
 *                expires_at, revoked_at)   one live API token per name (partial index)
 *
 * Every API request with a credential of the hub's own looks it up here
 * (one indexed read), so a revocation holds at once, on every hub that
 * shares the database.
 */
#include <string.h>

#include "depot/log.h"
#include "store/accounts.h"
#include "store/sqlite/sqlite.h"

enum account_stmt {
    U_ADD,
    U_GET,
    U_PUT,
    U_LIST,
    C_ADD,
    C_FIND,
    C_REVOKE_ONE,
    C_REVOKE_NAME,
    C_LIST,
    C_PURGE,
    U__COUNT
};
_Static_assert(U__COUNT <= SQ_ACCOUNT_STMTS, "raise SQ_ACCOUNT_STMTS");

#define USER_COLS "name, role, dealer, stages, pwhash, disabled, created_at, updated_at"
#define CRED_COLS                                                                                  \
    "c.hash, c.kind, c.name, c.role, c.dealer, c.stages, c.created_by, c.created_at, "             \
    "c.expires_at, c.revoked_at"

static const char *const sql[U__COUNT] = {
    [U_ADD] = "INSERT INTO users(" USER_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
              "ON CONFLICT(name) DO NOTHING",
    [U_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
    [U_PUT] = "UPDATE users SET role = ?2, dealer = ?3, stages = ?4, pwhash = ?5, disabled = ?6, "
              "updated_at = ?8 WHERE name = ?1",
    [U_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
    [C_ADD] = "INSERT INTO credentials(hash, kind, name, role, dealer, stages, created_by, "
              "created_at, expires_at, revoked_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0) "
              "ON CONFLICT DO NOTHING",
    /* a session's role is its user's; a user gone or disabled disables it */
    [C_FIND] = "SELECT " CRED_COLS ", u.role, u.dealer, u.stages, "
               "c.kind = 0 AND (u.name IS NULL OR u.disabled <> 0) "
               "FROM credentials c LEFT JOIN users u ON c.kind = 0 AND u.name = c.name "
               "WHERE c.hash = ?1",
    [C_REVOKE_ONE] = "UPDATE credentials SET revoked_at = ?3 WHERE hash = ?1 AND kind = ?2 "
                     "AND revoked_at = 0",
    [C_REVOKE_NAME] = "UPDATE credentials SET revoked_at = ?3 WHERE kind = ?2 AND name = ?1 "
                      "AND revoked_at = 0",
    [C_LIST] = "SELECT " CRED_COLS " FROM credentials c WHERE c.kind = ?1 "
               "ORDER BY c.name, c.created_at, c.hash",
    [C_PURGE] = "DELETE FROM credentials WHERE kind = 0 AND expires_at <> 0 AND expires_at < ?1",
};

/* Migration 4 and the setup of every file since (idempotent). */
const char hub_sqlite_accounts_schema[] =
    "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    " dealer TEXT NOT NULL, stages TEXT NOT NULL, pwhash TEXT NOT NULL, "
    " disabled INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) "
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS credentials(hash TEXT PRIMARY KEY, kind INTEGER NOT NULL, "
    " name TEXT NOT NULL, role TEXT NOT NULL, dealer TEXT NOT NULL, stages TEXT NOT NULL, "
    " created_by TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, "
    " revoked_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS credentials_by_name ON credentials(kind, name);"
    "CREATE INDEX IF NOT EXISTS credentials_expiry ON credentials(kind, expires_at);"
    "CREATE UNIQUE INDEX IF NOT EXISTS credentials_live_api ON credentials(name) "
    " WHERE kind = 1 AND revoked_at = 0;";

static sqlite3_stmt *prep(struct sqlite_store *q, enum account_stmt id)
{
    return hub_sqlite_ready(q->account_st[id]);
}

static void bind_user(sqlite3_stmt *st, const struct hub_user *u)
{
    hub_sqlite_bind_text(st, 1, u->name);
    hub_sqlite_bind_text(st, 2, u->role);
    hub_sqlite_bind_text(st, 3, u->dealer);
    hub_sqlite_bind_text(st, 4, u->stages);
    hub_sqlite_bind_text(st, 5, u->pwhash);
    sqlite3_bind_int(st, 6, u->disabled);
    sqlite3_bind_int64(st, 7, u->created_at);
    sqlite3_bind_int64(st, 8, u->updated_at);
}

static void read_user(sqlite3_stmt *st, struct hub_user *u)
{
    memset(u, 0, sizeof(*u));
    hub_sqlite_col_copy(st, 0, u->name, sizeof(u->name));
    hub_sqlite_col_copy(st, 1, u->role, sizeof(u->role));
    hub_sqlite_col_copy(st, 2, u->dealer, sizeof(u->dealer));
    hub_sqlite_col_copy(st, 3, u->stages, sizeof(u->stages));
    hub_sqlite_col_copy(st, 4, u->pwhash, sizeof(u->pwhash));
    u->disabled = sqlite3_column_int(st, 5) != 0;
    u->created_at = sqlite3_column_int64(st, 6);
    u->updated_at = sqlite3_column_int64(st, 7);
}

static void read_cred(sqlite3_stmt *st, struct hub_cred *c)
{
    memset(c, 0, sizeof(*c));
    hub_sqlite_col_copy(st, 0, c->hash, sizeof(c->hash));
    c->kind = sqlite3_column_int(st, 1) ? HUB_CRED_API : HUB_CRED_SESSION;
    hub_sqlite_col_copy(st, 2, c->name, sizeof(c->name));
    hub_sqlite_col_copy(st, 3, c->role, sizeof(c->role));
    hub_sqlite_col_copy(st, 4, c->dealer, sizeof(c->dealer));
    hub_sqlite_col_copy(st, 5, c->stages, sizeof(c->stages));
    hub_sqlite_col_copy(st, 6, c->created_by, sizeof(c->created_by));
    c->created_at = sqlite3_column_int64(st, 7);
    c->expires_at = sqlite3_column_int64(st, 8);
    c->revoked_at = sqlite3_column_int64(st, 9);
}

static depot_err a_user_add(hub_store *s, const struct hub_user *u)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, U_ADD);
    depot_err err;
    bind_user(st, u);
    err = hub_sqlite_run(q, st, "user add");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err a_user_get(hub_store *s, const char *name, struct hub_user *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, U_GET);
    depot_err err;
    hub_sqlite_bind_text(st, 1, name);
    err = hub_sqlite_one_row(q, st, "user");
    if (err != DEPOT_OK)
        return err;
    read_user(st, out);
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err a_user_put(hub_store *s, const struct hub_user *u)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, U_PUT);
    depot_err err;
    bind_user(st, u);
    err = hub_sqlite_run(q, st, "user put");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_NOTFOUND : err;
}

static depot_err a_users_list(hub_store *s, hub_user_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, U_LIST);
    struct hub_user u;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_user(st, &u);
        if (cb(arg, &u))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "users");
}

static depot_err a_cred_add(hub_store *s, const struct hub_cred *c)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_ADD);
    depot_err err;
    hub_sqlite_bind_text(st, 1, c->hash);
    sqlite3_bind_int(st, 2, c->kind == HUB_CRED_API);
    hub_sqlite_bind_text(st, 3, c->name);
    hub_sqlite_bind_text(st, 4, c->role);
    hub_sqlite_bind_text(st, 5, c->dealer);
    hub_sqlite_bind_text(st, 6, c->stages);
    hub_sqlite_bind_text(st, 7, c->created_by);
    sqlite3_bind_int64(st, 8, c->created_at);
    sqlite3_bind_int64(st, 9, c->expires_at);
    err = hub_sqlite_run(q, st, "credential add");
    return err == DEPOT_OK && sqlite3_changes(q->db) == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err a_cred_find(hub_store *s, const char *hash, struct hub_cred *out)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_FIND);
    depot_err err;
    hub_sqlite_bind_text(st, 1, hash);
    err = hub_sqlite_one_row(q, st, "credential");
    if (err != DEPOT_OK)
        return err;
    read_cred(st, out);
    if (out->kind == HUB_CRED_SESSION) {
        hub_sqlite_col_copy(st, 10, out->role, sizeof(out->role));
        hub_sqlite_col_copy(st, 11, out->dealer, sizeof(out->dealer));
        hub_sqlite_col_copy(st, 12, out->stages, sizeof(out->stages));
    }
    out->disabled = sqlite3_column_int(st, 13) != 0;
    sqlite3_reset(st);
    return DEPOT_OK;
}

static depot_err a_cred_revoke(hub_store *s, enum hub_cred_kind kind, const char *name,
                               const char *hash, long long at, long long *n)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, hash ? C_REVOKE_ONE : C_REVOKE_NAME);
    depot_err err;
    hub_sqlite_bind_text(st, 1, hash ? hash : name);
    sqlite3_bind_int(st, 2, kind == HUB_CRED_API);
    sqlite3_bind_int64(st, 3, at);
    err = hub_sqlite_run(q, st, "credential revoke");
    *n = err == DEPOT_OK ? sqlite3_changes(q->db) : 0;
    return err;
}

static depot_err a_creds_list(hub_store *s, enum hub_cred_kind kind, hub_cred_cb cb, void *arg)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_LIST);
    struct hub_cred c;
    int rc;
    sqlite3_bind_int(st, 1, kind == HUB_CRED_API);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_cred(st, &c);
        if (cb(arg, &c))
            break;
    }
    return hub_sqlite_walk_end(q, st, rc, "credentials");
}

static depot_err a_creds_purge(hub_store *s, long long before)
{
    struct sqlite_store *q = hub_sqlite_impl(s);
    sqlite3_stmt *st = prep(q, C_PURGE);
    sqlite3_bind_int64(st, 1, before);
    return hub_sqlite_run(q, st, "credentials purge");
}

const struct hub_store_account_ops hub_sqlite_account_ops = {
    .user_add = a_user_add,
    .user_get = a_user_get,
    .user_put = a_user_put,
    .users_list = a_users_list,
    .cred_add = a_cred_add,
    .cred_find = a_cred_find,
    .cred_revoke = a_cred_revoke,
    .creds_list = a_creds_list,
    .creds_purge = a_creds_purge,
};

depot_err hub_sqlite_accounts_setup(struct sqlite_store *q)
{
    depot_err err = hub_sqlite_exec(q, hub_sqlite_accounts_schema, "accounts schema");
    return err != DEPOT_OK ? err : hub_sqlite_prepare_all(q, sql, U__COUNT, q->account_st);
}

void hub_sqlite_accounts_free(struct sqlite_store *q)
{
    hub_sqlite_finalize_all(q->account_st, U__COUNT);
}
