/*
 * The store's account domain (store/sqlite/accounts.c, store/pg/accounts.c),
 * called through hub_store_ops.accounts like the order domain.
 *
 *   users        (name PK; role, dealer, stages, pwhash, disabled, created_at, updated_at)
 *   credentials  (hash PK; kind, name, role, dealer, stages, created_by, created_at,
 *                 expires_at, revoked_at)
 *
 * A credential is a bearer token the hub gave out, kept only as the hex
 * SHA-256 of its text: a session (kind session, name: its user; its role is
 * the user's, read at every use, so a change or a disabled user takes
 * effect at once) or an API token of an integration (kind api, name: the
 * token's own, unique among the live ones; role, dealer and stages its
 * own). Nothing is deleted but sessions long expired (creds_purge); a
 * revoked credential keeps its row with revoked_at.
 *
 * Passwords are kept as libsodium's crypto_pwhash_str text (Argon2id, its
 * parameters and salt inside); the store never sees a password.
 *
 * Functions return DEPOT_OK, DEPOT_ERR_DB, DEPOT_ERR_NOMEM, or what their
 * comment adds.
 */
#ifndef HUB_STORE_ACCOUNTS_H
#define HUB_STORE_ACCOUNTS_H

#include <stdbool.h>

#include "store/store.h"

#define HUB_USER_NAME_MAX 63 /* hub_account_name_valid (accounts.h of the hub) */
#define HUB_ROLE_NAME_MAX 15
#define HUB_STAGES_TEXT_MAX 300 /* "a,b,c": up to 8 stage names of 32 */
#define HUB_PWHASH_MAX 127      /* crypto_pwhash_STRBYTES - 1 */
#define HUB_CRED_HASH_HEX 64

struct hub_user {
    char name[HUB_USER_NAME_MAX + 1];
    char role[HUB_ROLE_NAME_MAX + 1];     /* viewer, approver, admin, dealer */
    char dealer[DEPOT_DEALER_MAX + 1];    /* role dealer: the one dealer it acts for; else "" */
    char stages[HUB_STAGES_TEXT_MAX + 1]; /* approver: "sales,finance"; "": every stage */
    char pwhash[HUB_PWHASH_MAX + 1];
    bool disabled;
    long long created_at, updated_at; /* ms */
};

enum hub_cred_kind { HUB_CRED_SESSION, HUB_CRED_API };

struct hub_cred {
    char hash[HUB_CRED_HASH_HEX + 1];
    enum hub_cred_kind kind;
    char name[HUB_USER_NAME_MAX + 1];
    char role[HUB_ROLE_NAME_MAX + 1];
    char dealer[DEPOT_DEALER_MAX + 1];
    char stages[HUB_STAGES_TEXT_MAX + 1];
    char created_by[HUB_USER_NAME_MAX + 1];
    long long created_at, expires_at, revoked_at; /* ms; expires_at 0: never; revoked_at 0: live */
    bool disabled; /* cred_find of a session: its user is disabled or gone */
};

typedef int (*hub_user_cb)(void *arg, const struct hub_user *u);
typedef int (*hub_cred_cb)(void *arg, const struct hub_cred *c);

struct hub_store_account_ops {
    depot_err (*user_add)(hub_store *s, const struct hub_user *u);
    depot_err (*user_get)(hub_store *s, const char *name, struct hub_user *out);
    depot_err (*user_put)(hub_store *s, const struct hub_user *u);
    depot_err (*users_list)(hub_store *s, hub_user_cb cb, void *arg);
    depot_err (*cred_add)(hub_store *s, const struct hub_cred *c);
    depot_err (*cred_find)(hub_store *s, const char *hash, struct hub_cred *out);
    depot_err (*cred_revoke)(hub_store *s, enum hub_cred_kind kind, const char *name,
                             const char *hash, long long at, long long *n);
    depot_err (*creds_list)(hub_store *s, enum hub_cred_kind kind, hub_cred_cb cb, void *arg);
    depot_err (*creds_purge)(hub_store *s, long long before);
};

/* A new user: DEPOT_ERR_DUPLICATE if the name is taken. */
depot_err hub_store_user_add(hub_store *s, const struct hub_user *u);
/* DEPOT_ERR_NOTFOUND if there is no such user. */
depot_err hub_store_user_get(hub_store *s, const char *name, struct hub_user *out);
/* Sets role, dealer, stages, pwhash, disabled and updated_at of u->name: DEPOT_ERR_NOTFOUND. */
depot_err hub_store_user_put(hub_store *s, const struct hub_user *u);
/* Every user, by name. */
depot_err hub_store_users_list(hub_store *s, hub_user_cb cb, void *arg);
/* A new credential: DEPOT_ERR_DUPLICATE if its hash is known or, for an API token, a live
 * token has its name. */
depot_err hub_store_cred_add(hub_store *s, const struct hub_cred *c);
/* The credential with this hash (live or not: the caller checks revoked_at, expires_at and
 * disabled), a session's role, dealer and stages its user's: DEPOT_ERR_NOTFOUND. */
depot_err hub_store_cred_find(hub_store *s, const char *hash, struct hub_cred *out);
/* Revokes at `at` the live credential of kind with hash (not NULL; one of another kind is
 * left alone), else every live one of kind named name; *n (not NULL) how many. */
depot_err hub_store_cred_revoke(hub_store *s, enum hub_cred_kind kind, const char *name,
                                const char *hash, long long at, long long *n);
/* The credentials of kind, by name then creation, revoked ones too, with the role, dealer and
 * stages of their own row (a session's are empty: cred_find reads its user's). */
depot_err hub_store_creds_list(hub_store *s, enum hub_cred_kind kind, hub_cred_cb cb, void *arg);
/* Deletes the sessions that expired before `before` (nothing else is ever deleted). */
depot_err hub_store_creds_purge(hub_store *s, long long before);

#endif
