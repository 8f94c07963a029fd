/*
 * Accounts of the HTTP API (accounts.h).
 *
 * Passwords: crypto_pwhash_argon2id_str with [auth] pwhash_ops and
 * pwhash_mem_kib (the default, libsodium's "interactive" cost, takes about
 * 100 ms and 64 MiB here: bench_login). At most [auth] parallel_logins
 * hashes run at once, so logins cannot take more than that many times the
 * memory; a login that waits 5 s for a slot is answered busy.
 *
 * Failed logins are counted per account and per address over a window;
 * once either count reaches its limit, logins of that account (or from
 * that address) are refused before any hashing until the window, which
 * starts at its first failure, ends. A successful login clears its
 * account's count, not its address's. The counts live in this process (a
 * hub restarted forgets them; several hubs count apart), at most
 * LIMITER_MAX keys: when full, the expired ones are dropped, and if none
 * has expired, logins from new keys are refused until one does.
 */
#include "accounts.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"

#define LIMITER_MAX 100000
#define SLOT_WAIT_S 5

struct fail_count {
    char key[HUB_USER_NAME_MAX + 8]; /* "u:" name or "a:" address */
    long count;
    long long window_start; /* ms */
    UT_hash_handle hh;
};

struct hub_accounts {
    const struct hub_config *cfg;
    sem_t slots;
    pthread_mutex_t lock;
    struct fail_count *fails; /* uthash by key */
    size_t n_fails;
    char dummy[HUB_PWHASH_MAX + 1]; /* checked for an unknown name (same cost); made at first use */
};

bool hub_account_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > HUB_USER_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

const char *hub_password_refused(const char *pw)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < HUB_PASSWORD_MIN)
        return "the password must have at least 8 characters";
    if (n > HUB_PASSWORD_MAX)
        return "the password must have at most 256 characters";
    return NULL;
}

bool hub_account_role_valid(const char *role)
{
    return role && (!strcmp(role, "viewer") || !strcmp(role, "approver") ||
                    !strcmp(role, "admin") || !strcmp(role, "dealer"));
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void hub_token_hash(const char *token, char hash[HUB_CRED_HASH_HEX + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    hex(h, sizeof(h), hash);
}

void hub_token_new(const char *prefix, char token[HUB_TOKEN_TEXT_MAX + 1],
                   char hash[HUB_CRED_HASH_HEX + 1])
{
    unsigned char raw[32];
    size_t n = strlen(prefix);
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, prefix, n);
    sodium_bin2base64(token + n, HUB_TOKEN_TEXT_MAX + 1 - n, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    hub_token_hash(token, hash);
}

bool hub_token_is_issued(const char *token)
{
    return token && (!strncmp(token, "dps_", 4) || !strncmp(token, "dpt_", 4));
}

/* ---- hashing slots ---- */

static bool slot_take(hub_accounts *a)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SLOT_WAIT_S;
    while (sem_timedwait(&a->slots, &until) != 0)
        if (errno != EINTR)
            return false;
    return true;
}

depot_err hub_accounts_hash(hub_accounts *a, const char *pw, char out[HUB_PWHASH_MAX + 1])
{
    int rc;
    if (!slot_take(a))
        return DEPOT_ERR_TIMEOUT;
    rc =
        crypto_pwhash_argon2id_str(out, pw, strlen(pw), (unsigned long long)a->cfg->auth_pwhash_ops,
                                   (size_t)a->cfg->auth_pwhash_mem_kib * 1024);
    sem_post(&a->slots);
    return rc == 0 ? DEPOT_OK : DEPOT_ERR_NOMEM;
}

/* 0 the password matches, 1 it does not, -1 no slot. */
static int verify(hub_accounts *a, const char *stored, const char *pw)
{
    int rc;
    if (!slot_take(a))
        return -1;
    rc = crypto_pwhash_argon2id_str_verify(stored, pw, strlen(pw));
    sem_post(&a->slots);
    return rc == 0 ? 0 : 1;
}

/* ---- limiter ---- */

static long long window_ms(const hub_accounts *a)
{
    return a->cfg->auth_fail_window_s * 1000LL;
}

static void drop_expired(hub_accounts *a, long long now)
{
    struct fail_count *f, *tmp;
    HASH_ITER(hh, a->fails, f, tmp)
    {
        if (now - f->window_start >= window_ms(a)) {
            HASH_DEL(a->fails, f);
            depot_free(f);
            a->n_fails--;
        }
    }
}

/* The count of key now (0 after its window), or NULL. Called with the lock held. */
static struct fail_count *count_of(hub_accounts *a, const char *key, long long now)
{
    struct fail_count *f = NULL;
    HASH_FIND_STR(a->fails, key, f);
    if (f && now - f->window_start >= window_ms(a)) {
        f->count = 0;
        f->window_start = now;
    }
    return f;
}

/* Seconds until key may try again (0: it may now). Called with the lock held. */
static long limited_for(hub_accounts *a, const char *key, long limit, long long now)
{
    struct fail_count *f = count_of(a, key, now);
    if (!f || f->count < limit)
        return 0;
    return (long)((f->window_start + window_ms(a) - now + 999) / 1000);
}

/* Counts one failure of key; false if the table is full of live keys. Lock held. */
static bool count_failure(hub_accounts *a, const char *key, long long now)
{
    struct fail_count *f = count_of(a, key, now);
    if (!f) {
        if (a->n_fails >= LIMITER_MAX)
            drop_expired(a, now);
        if (a->n_fails >= LIMITER_MAX || !(f = depot_calloc(1, sizeof(*f))))
            return false;
        snprintf(f->key, sizeof(f->key), "%s", key);
        f->window_start = now;
        HASH_ADD_STR(a->fails, key, f);
        if (!f->hh.tbl) { /* uthash could not grow (HASH_NONFATAL_OOM) */
            depot_free(f);
            return false;
        }
        a->n_fails++;
    }
    f->count++;
    return true;
}

static void clear_count(hub_accounts *a, const char *key)
{
    struct fail_count *f = NULL;
    HASH_FIND_STR(a->fails, key, f);
    if (f) {
        HASH_DEL(a->fails, f);
        depot_free(f);
        a->n_fails--;
    }
}

size_t hub_accounts_limiter_entries(hub_accounts *a)
{
    size_t n;
    pthread_mutex_lock(&a->lock);
    n = a->n_fails;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* ---- login and identity ---- */

static void set_stages(struct hub_token *t, const char *list)
{
    char buf[HUB_STAGES_TEXT_MAX + 1], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    t->n_stages = 0;
    for (char *p = strtok_r(buf, ",", &save); p && t->n_stages < HUB_STAGES_MAX;
         p = strtok_r(NULL, ",", &save))
        snprintf(t->stages[t->n_stages++], sizeof(t->stages[0]), "%s", p);
}

depot_err hub_accounts_identify(hub_accounts *a, hub_store *s, const char *token, long long now,
                                struct hub_token *out)
{
    char hash[HUB_CRED_HASH_HEX + 1];
    struct hub_cred c;
    depot_err err;
    (void)a;
    if (!hub_token_is_issued(token) || strlen(token) > HUB_TOKEN_TEXT_MAX)
        return DEPOT_ERR_AUTH;
    hub_token_hash(token, hash);
    err = hub_store_cred_find(s, hash, &c);
    if (err == DEPOT_ERR_NOTFOUND)
        return DEPOT_ERR_AUTH;
    if (err != DEPOT_OK)
        return err;
    if (c.revoked_at || c.disabled || (c.expires_at && c.expires_at <= now) ||
        (c.kind == HUB_CRED_SESSION) != !strncmp(token, "dps_", 4))
        return DEPOT_ERR_AUTH;
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", c.name);
    if (!strcmp(c.role, "dealer")) { /* a viewer of its own dealer only (api/routes.c) */
        if (!depot_dealer_id_valid(c.dealer))
            return DEPOT_ERR_AUTH;
        out->role = HUB_ROLE_VIEWER;
        snprintf(out->dealer, sizeof(out->dealer), "%s", c.dealer);
        return DEPOT_OK;
    }
    out->role = hub_role_from_name(c.role);
    if (out->role == HUB_ROLE_NONE)
        return DEPOT_ERR_AUTH; /* a role this hub does not know: nothing allowed */
    set_stages(out, c.stages);
    return DEPOT_OK;
}

/* The hash an unknown name is checked against, made at its first use. */
static bool dummy_ready(hub_accounts *a)
{
    unsigned char raw[16];
    char pw[2 * sizeof(raw) + 1], made[HUB_PWHASH_MAX + 1];
    bool ready;
    pthread_mutex_lock(&a->lock);
    ready = a->dummy[0] != '\0';
    pthread_mutex_unlock(&a->lock);
    if (ready)
        return true;
    randombytes_buf(raw, sizeof(raw));
    hex(raw, sizeof(raw), pw);
    if (hub_accounts_hash(a, pw, made) != DEPOT_OK)
        return false;
    pthread_mutex_lock(&a->lock);
    if (!a->dummy[0])
        memcpy(a->dummy, made, sizeof(made));
    pthread_mutex_unlock(&a->lock);
    return true;
}

enum hub_login_result hub_accounts_login(hub_accounts *a, hub_store *s, const char *name,
                                         const char *password, const char *addr, long long now,
                                         struct hub_login *out, long *retry_s)
{
    char ukey[HUB_USER_NAME_MAX + 8], akey[HUB_USER_NAME_MAX + 8], hash[HUB_CRED_HASH_HEX + 1];
    struct hub_user u;
    struct hub_cred c = {.kind = HUB_CRED_SESSION};
    long wait_u, wait_a;
    bool known, counted;
    depot_err err;
    int v;

    *retry_s = 0;
    snprintf(ukey, sizeof(ukey), "u:%s", name);
    snprintf(akey, sizeof(akey), "a:%.*s", HUB_USER_NAME_MAX, addr ? addr : "");
    pthread_mutex_lock(&a->lock);
    wait_u = limited_for(a, ukey, a->cfg->auth_fail_per_account, now);
    wait_a = limited_for(a, akey, a->cfg->auth_fail_per_address, now);
    pthread_mutex_unlock(&a->lock);
    if (wait_u || wait_a) {
        *retry_s = wait_u > wait_a ? wait_u : wait_a;
        return HUB_LOGIN_LIMITED;
    }

    err = hub_store_user_get(s, name, &u);
    if (err != DEPOT_OK && err != DEPOT_ERR_NOTFOUND)
        return HUB_LOGIN_ERROR;
    known = err == DEPOT_OK;
    if (!known && !dummy_ready(a))
        return HUB_LOGIN_BUSY;
    v = verify(a, known ? u.pwhash : a->dummy, password);
    if (v < 0)
        return HUB_LOGIN_BUSY;
    if (v != 0 || !known || u.disabled) {
        pthread_mutex_lock(&a->lock);
        counted = count_failure(a, ukey, now);
        counted = count_failure(a, akey, now) && counted;
        pthread_mutex_unlock(&a->lock);
        if (!counted)
            LOG_WARN("login limiter full (%d keys): a failure of %s from %s not counted",
                     LIMITER_MAX, name, addr);
        LOG_INFO("login of \"%s\" from %s refused", name, addr && *addr ? addr : "(unknown)");
        return HUB_LOGIN_BAD;
    }
    pthread_mutex_lock(&a->lock);
    clear_count(a, ukey);
    pthread_mutex_unlock(&a->lock);

    hub_token_new("dps_", out->token, hash);
    snprintf(c.hash, sizeof(c.hash), "%s", hash);
    snprintf(c.name, sizeof(c.name), "%s", u.name);
    snprintf(c.created_by, sizeof(c.created_by), "%s", u.name);
    c.created_at = now;
    c.expires_at = now + a->cfg->auth_session_ttl_s * 1000LL;
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_creds_purge(s, now - 7LL * 86400 * 1000);
    if (err == DEPOT_OK)
        err = hub_store_cred_add(s, &c);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        sodium_memzero(out->token, sizeof(out->token));
        return HUB_LOGIN_ERROR;
    }
    out->expires_at = c.expires_at;
    out->user = u;
    sodium_memzero(out->user.pwhash, sizeof(out->user.pwhash));
    LOG_INFO("login of \"%s\" (%s) from %s: a session until %lld", u.name, u.role,
             addr && *addr ? addr : "(unknown)", c.expires_at);
    return HUB_LOGIN_OK;
}

depot_err hub_accounts_new(const struct hub_config *cfg, hub_accounts **out)
{
    hub_accounts *a;

    if (sodium_init() < 0) {
        LOG_ERROR("libsodium could not be initialised");
        return DEPOT_ERR_IO;
    }
    a = depot_calloc(1, sizeof(*a));
    if (!a)
        return DEPOT_ERR_NOMEM;
    a->cfg = cfg;
    if (sem_init(&a->slots, 0, (unsigned)cfg->auth_parallel_logins) != 0) {
        depot_free(a);
        return DEPOT_ERR_IO;
    }
    pthread_mutex_init(&a->lock, NULL);
    *out = a;
    return DEPOT_OK;
}

void hub_accounts_free(hub_accounts *a)
{
    struct fail_count *f, *tmp;
    if (!a)
        return;
    HASH_ITER(hh, a->fails, f, tmp)
    {
        HASH_DEL(a->fails, f);
        depot_free(f);
    }
    sem_destroy(&a->slots);
    pthread_mutex_destroy(&a->lock);
    depot_free(a);
}
