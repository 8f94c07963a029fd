/*
 * Accounts of the HTTP API: users with passwords (libsodium's Argon2id),
 * the sessions a login gives and the API tokens of integrations, both
 * bearer tokens kept in the store only as their SHA-256, and the limits on
 * failed logins. The rows are the store's (store/accounts.h); the static
 * [tokens] of the config stay the bootstrap path (auth.c).
 *
 * A token the hub gives out is a prefix and 43 characters of base64url
 * (32 random bytes): "dps_..." a session, "dpt_..." an API token. Only
 * tokens with those prefixes are looked up in the store.
 *
 * Thread-safe: the limiter and the hashing slots have their own lock.
 */
#ifndef HUB_ACCOUNTS_H
#define HUB_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store/accounts.h"

#define HUB_TOKEN_TEXT_MAX 48 /* "dps_" + 43 */
#define HUB_PASSWORD_MIN 8
#define HUB_PASSWORD_MAX 256

typedef struct hub_accounts hub_accounts;

/* Reads [auth] of cfg (which must outlive it). DEPOT_ERR_NOMEM, DEPOT_ERR_IO (libsodium). */
depot_err hub_accounts_new(const struct hub_config *cfg, hub_accounts **out);
void hub_accounts_free(hub_accounts *a);

/* 1..63 characters of [A-Za-z0-9._@-], not starting with '.' or '-'. */
bool hub_account_name_valid(const char *name);
/* HUB_PASSWORD_MIN..HUB_PASSWORD_MAX bytes; NULL when fine, else why not. */
const char *hub_password_refused(const char *pw);
/* "viewer", "approver", "admin", or "dealer" (bound to one dealer: it sees and does only what
 * concerns that dealer, api/routes.c): the roles a user or an API token may have. */
bool hub_account_role_valid(const char *role);

/* The crypto_pwhash_str text of pw with [auth]'s cost (a slot waited for, as for a login).
 * DEPOT_ERR_NOMEM (the memory), DEPOT_ERR_TIMEOUT (no slot within 5 s). */
depot_err hub_accounts_hash(hub_accounts *a, const char *pw, char out[HUB_PWHASH_MAX + 1]);

/* A new token with prefix ("dps_", "dpt_") in token, its hex SHA-256 in hash. */
void hub_token_new(const char *prefix, char token[HUB_TOKEN_TEXT_MAX + 1],
                   char hash[HUB_CRED_HASH_HEX + 1]);
/* The hex SHA-256 of a token's text. */
void hub_token_hash(const char *token, char hash[HUB_CRED_HASH_HEX + 1]);
/* True if token has a prefix of the hub's own credentials. */
bool hub_token_is_issued(const char *token);

/*
 * Who the bearer token (one the hub gave out) is, now: out gets the name
 * (a user's or an API token's), the role and the stages; a dealer's is a
 * viewer with out->dealer set. DEPOT_ERR_AUTH if
 * it is unknown, revoked, expired, or a session of a disabled user;
 * DEPOT_ERR_DB.
 */
depot_err hub_accounts_identify(hub_accounts *a, hub_store *s, const char *token, long long now,
                                struct hub_token *out);

enum hub_login_result {
    HUB_LOGIN_OK,
    HUB_LOGIN_BAD,     /* unknown user, wrong password, disabled: one answer for all */
    HUB_LOGIN_LIMITED, /* too many failures for the account or the address: *retry_s */
    HUB_LOGIN_BUSY,    /* every hashing slot taken for 5 s */
    HUB_LOGIN_ERROR,   /* the store failed, or out of memory */
};

struct hub_login {
    char token[HUB_TOKEN_TEXT_MAX + 1];
    long long expires_at; /* ms */
    struct hub_user user; /* pwhash cleared */
};

/*
 * Checks name's password (limits first: an account or address over its
 * failures is refused before any hashing) and on success writes a session
 * that lasts [auth] session_ttl_s. addr is the client's address ("" if
 * unknown). *retry_s: seconds until a limited login may be tried again.
 * An unknown name costs the same hashing as a known one.
 */
enum hub_login_result hub_accounts_login(hub_accounts *a, hub_store *s, const char *name,
                                         const char *password, const char *addr, long long now,
                                         struct hub_login *out, long *retry_s);

/* Counts of the limiter, for tests and metrics. */
size_t hub_accounts_limiter_entries(hub_accounts *a);

#endif
