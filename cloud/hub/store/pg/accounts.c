/*
 * The account domain of the PostgreSQL store (store/accounts.h; the
 * PostgreSQL version of store/sqlite/accounts.c).
 *
 *   users       (name PK; role, dealer, stages, pwhash, disabled, created_at, updated_at)
 *   credentials (hash PK; kind, name, role, dealer, stages, created_by, created_at,
 *                expires_at, revoked_at)   one live API token per name (partial index)
 *
 * Every API request with a credential of the hub's own looks it up here
 * (one indexed read), so a revocation holds at once, on every hub that
 * shares the database. Both tables are created by migration 4
 * (store/pg/schema.c).
 */
#include <string.h>

#include "store/accounts.h"
#include "store/pg/pg.h"

enum accounts_stmt {
    A_USER_ADD,
    A_USER_GET,
    A_USER_PUT,
    A_USERS_LIST,
    A_CRED_ADD,
    A_CRED_FIND,
    A_REVOKE_ONE,
    A_REVOKE_NAME,
    A_CREDS_LIST,
    A_CREDS_PURGE,
    A_COUNT
};
_Static_assert(A_COUNT <= PG_TABLE_MAX, "a statement table holds at most PG_TABLE_MAX");

#define USER_COLS "name, role, dealer, stages, pwhash, disabled, created_at, updated_at"
#define CRED_COLS                                                                                  \
    "c.hash, c.kind, c.name, c.role, c.dealer, c.stages, c.created_by, c.created_at, "             \
    "c.expires_at, c.revoked_at"

static const char *const sql[A_COUNT] = {
    [A_USER_ADD] = "INSERT INTO users(" USER_COLS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8) "
                   "ON CONFLICT(name) DO NOTHING",
    [A_USER_GET] = "SELECT " USER_COLS " FROM users WHERE name = $1",
    /* every parameter must appear in a prepared statement: created_at is not sent here */
    [A_USER_PUT] = "UPDATE users SET role = $2, dealer = $3, stages = $4, pwhash = $5, "
                   "disabled = $6, updated_at = $7 WHERE name = $1",
    [A_USERS_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
    /* no conflict target: a known hash or a live API token's name both leave the row out */
    [A_CRED_ADD] = "INSERT INTO credentials(hash, kind, name, role, dealer, stages, created_by, "
                   "created_at, expires_at, revoked_at) "
                   "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) ON CONFLICT DO NOTHING",
    /* a session's role is its user's; a user gone or disabled disables it (a boolean) */
    [A_CRED_FIND] = "SELECT " CRED_COLS ", u.role, u.dealer, u.stages, "
                    "c.kind = 0 AND (u.name IS NULL OR u.disabled <> 0) "
                    "FROM credentials c LEFT JOIN users u ON c.kind = 0 AND u.name = c.name "
                    "WHERE c.hash = $1",
    [A_REVOKE_ONE] = "UPDATE credentials SET revoked_at = $3 WHERE hash = $1 AND kind = $2 "
                     "AND revoked_at = 0",
    [A_REVOKE_NAME] = "UPDATE credentials SET revoked_at = $3 WHERE kind = $2 AND name = $1 "
                      "AND revoked_at = 0",
    [A_CREDS_LIST] = "SELECT " CRED_COLS " FROM credentials c WHERE c.kind = $1 "
                     "ORDER BY c.name, c.created_at, c.hash",
    [A_CREDS_PURGE] = "DELETE FROM credentials WHERE kind = 0 AND expires_at <> 0 "
                      "AND expires_at < $1",
};

static const struct hub_pg_stmts stmts = {PG_T_ACCOUNTS, A_COUNT, sql};

/* Migration 4 (kind: 0 a session, 1 an API token). */
const char hub_pg_schema_accounts[] =
    "CREATE TABLE users(name " PG_TEXT " PRIMARY KEY, role " PG_TEXT " NOT NULL, "
    " dealer " PG_TEXT " NOT NULL, stages " PG_TEXT " NOT NULL, pwhash " PG_TEXT " NOT NULL, "
    " disabled BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE TABLE credentials(hash " PG_TEXT " PRIMARY KEY, kind BIGINT NOT NULL, "
    " name " PG_TEXT " NOT NULL, role " PG_TEXT " NOT NULL, dealer " PG_TEXT " NOT NULL, "
    " stages " PG_TEXT " NOT NULL, created_by " PG_TEXT " NOT NULL, "
    " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT NOT NULL);"
    "CREATE INDEX credentials_by_name ON credentials(kind, name);"
    "CREATE INDEX credentials_expiry ON credentials(kind, expires_at);"
    "CREATE UNIQUE INDEX credentials_live_api ON credentials(name) "
    " WHERE kind = 1 AND revoked_at = 0;";

static void read_user(const PGresult *res, int r, struct hub_user *u)
{
    memset(u, 0, sizeof(*u));
    hub_pg_col_copy(res, r, 0, u->name, sizeof(u->name));
    hub_pg_col_copy(res, r, 1, u->role, sizeof(u->role));
    hub_pg_col_copy(res, r, 2, u->dealer, sizeof(u->dealer));
    hub_pg_col_copy(res, r, 3, u->stages, sizeof(u->stages));
    hub_pg_col_copy(res, r, 4, u->pwhash, sizeof(u->pwhash));
    u->disabled = hub_pg_int(res, r, 5) != 0;
    u->created_at = hub_pg_int(res, r, 6);
    u->updated_at = hub_pg_int(res, r, 7);
}

static void read_cred(const PGresult *res, int r, struct hub_cred *c)
{
    memset(c, 0, sizeof(*c));
    hub_pg_col_copy(res, r, 0, c->hash, sizeof(c->hash));
    c->kind = hub_pg_int(res, r, 1) ? HUB_CRED_API : HUB_CRED_SESSION;
    hub_pg_col_copy(res, r, 2, c->name, sizeof(c->name));
    hub_pg_col_copy(res, r, 3, c->role, sizeof(c->role));
    hub_pg_col_copy(res, r, 4, c->dealer, sizeof(c->dealer));
    hub_pg_col_copy(res, r, 5, c->stages, sizeof(c->stages));
    hub_pg_col_copy(res, r, 6, c->created_by, sizeof(c->created_by));
    c->created_at = hub_pg_int(res, r, 7);
    c->expires_at = hub_pg_int(res, r, 8);
    c->revoked_at = hub_pg_int(res, r, 9);
}

/* Starts p with the user's name, role, dealer, stages, pwhash and disabled ($1..$6). */
static void user_params(struct pg_params *p, const struct hub_user *u)
{
    pgp_reset(p);
    pgp_text(p, u->name);
    pgp_text(p, u->role);
    pgp_text(p, u->dealer);
    pgp_text(p, u->stages);
    pgp_text(p, u->pwhash);
    pgp_bool(p, u->disabled);
}

static depot_err a_user_add(hub_store *s, const struct hub_user *u)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    user_params(&p, u);
    pgp_int(&p, u->created_at);
    pgp_int(&p, u->updated_at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, A_USER_ADD, &p, "user add", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err a_user_get(hub_store *s, const char *name, struct hub_user *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, name);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, A_USER_GET, &p, "user", &res);
    if (err != DEPOT_OK)
        return err;
    read_user(res, 0, out);
    PQclear(res);
    return DEPOT_OK;
}

static depot_err a_user_put(hub_store *s, const struct hub_user *u)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    user_params(&p, u);
    pgp_int(&p, u->updated_at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, A_USER_PUT, &p, "user put", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_NOTFOUND : err;
}

struct user_walk {
    hub_user_cb cb;
    void *arg;
};

static int user_row(void *arg, const PGresult *res, int r)
{
    struct user_walk *w = arg;
    struct hub_user u;
    read_user(res, r, &u);
    return w->cb(w->arg, &u);
}

static depot_err a_users_list(hub_store *s, hub_user_cb cb, void *arg)
{
    struct user_walk w = {cb, arg};
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_USERS_LIST, NULL, "users", user_row, &w);
}

static depot_err a_cred_add(hub_store *s, const struct hub_cred *c)
{
    struct pg_params p;
    long long changed;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, c->hash);
    pgp_bool(&p, c->kind == HUB_CRED_API);
    pgp_text(&p, c->name);
    pgp_text(&p, c->role);
    pgp_text(&p, c->dealer);
    pgp_text(&p, c->stages);
    pgp_text(&p, c->created_by);
    pgp_int(&p, c->created_at);
    pgp_int(&p, c->expires_at);
    err = hub_pg_run(hub_pg_impl(s), &stmts, A_CRED_ADD, &p, "credential add", &changed);
    return err == DEPOT_OK && changed == 0 ? DEPOT_ERR_DUPLICATE : err;
}

static depot_err a_cred_find(hub_store *s, const char *hash, struct hub_cred *out)
{
    struct pg_params p;
    PGresult *res;
    depot_err err;
    pgp_reset(&p);
    pgp_text(&p, hash);
    err = hub_pg_one_row(hub_pg_impl(s), &stmts, A_CRED_FIND, &p, "credential", &res);
    if (err != DEPOT_OK)
        return err;
    read_cred(res, 0, out);
    if (out->kind == HUB_CRED_SESSION) {
        hub_pg_col_copy(res, 0, 10, out->role, sizeof(out->role));
        hub_pg_col_copy(res, 0, 11, out->dealer, sizeof(out->dealer));
        hub_pg_col_copy(res, 0, 12, out->stages, sizeof(out->stages));
    }
    out->disabled = hub_pg_bool(res, 0, 13); /* "t" or "f" */
    PQclear(res);
    return DEPOT_OK;
}

static depot_err a_cred_revoke(hub_store *s, enum hub_cred_kind kind, const char *name,
                               const char *hash, long long at, long long *n)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_text(&p, hash ? hash : name);
    pgp_bool(&p, kind == HUB_CRED_API);
    pgp_int(&p, at);
    return hub_pg_run(hub_pg_impl(s), &stmts, hash ? A_REVOKE_ONE : A_REVOKE_NAME, &p,
                      "credential revoke", n);
}

struct cred_walk {
    hub_cred_cb cb;
    void *arg;
};

static int cred_row(void *arg, const PGresult *res, int r)
{
    struct cred_walk *w = arg;
    struct hub_cred c;
    read_cred(res, r, &c);
    return w->cb(w->arg, &c);
}

static depot_err a_creds_list(hub_store *s, enum hub_cred_kind kind, hub_cred_cb cb, void *arg)
{
    struct cred_walk w = {cb, arg};
    struct pg_params p;
    pgp_reset(&p);
    pgp_bool(&p, kind == HUB_CRED_API);
    return hub_pg_walk(hub_pg_impl(s), &stmts, A_CREDS_LIST, &p, "credentials", cred_row, &w);
}

static depot_err a_creds_purge(hub_store *s, long long before)
{
    struct pg_params p;
    pgp_reset(&p);
    pgp_int(&p, before);
    return hub_pg_run(hub_pg_impl(s), &stmts, A_CREDS_PURGE, &p, "credentials purge", NULL);
}

const struct hub_store_account_ops hub_pg_account_ops = {
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
