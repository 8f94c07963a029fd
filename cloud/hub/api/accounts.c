/*
 * API: logins, users and API tokens (accounts.h, store/accounts.h).
 *
 *   POST /api/v1/login                 open     {"user", "password"} -> {"token", "expires_at",
 *                                               "user", "role", "stages"}; 401 one answer for
 *                                               every refusal, 429 + Retry-After when limited
 *   POST /api/v1/logout                viewer   revokes the session the request came with
 *   GET  /api/v1/users                 admin    every user (never a password or its hash)
 *   POST /api/v1/users                 admin    {"name", "role", "dealer"?, "stages"?,
 *                                               "password"?} -> 201 (dealer: role dealer's);
 *                                               without a password one is made and answered once
 *   GET  /api/v1/users/<name>          admin
 *   PATCH /api/v1/users/<name>         admin    {"role"?, "dealer"?, "stages"?, "disabled"?,
 *                                               "password"?, "reset_password"?}; a new password
 *                                               or disabling revokes the user's sessions at once;
 *                                               a new role or dealer holds for them at their
 *                                               next request
 *   GET  /api/v1/tokens                admin    API tokens by name (never their value)
 *   POST /api/v1/tokens                admin    {"name", "role", "stages"?, "expires_days"?} -> 201
 *                                               with the token, shown this once
 *   POST /api/v1/tokens/<name>/revoke  admin    revokes the live token of that name
 *
 * Role dealer binds a user or token to one dealer ("dealer"): a viewer of
 * that dealer alone (api/routes.c, enum api_dealer).
 *
 * A name of [tokens] cannot be a user's or an API token's too: the audit
 * trail names who acted by that name alone.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "store/accounts.h"

#define WHY_MAX 160
#define GENERATED_PW_BYTES 15 /* 20 characters of base64url */

/* ---- shared checks ---- */

static bool config_name(const struct hub_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_tokens; i++)
        if (!strcmp(cfg->tokens[i].name, name))
            return true;
    return false;
}

/* "a,b" from a JSON list of configured stage names (role approver only); false with why. */
static bool parse_stages(const struct hub_config *cfg, const cJSON *v, const char *role, char *out,
                         size_t size, char *why, size_t len)
{
    const cJSON *e;
    size_t used = 0, n = 0;
    out[0] = '\0';
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsArray(v)) {
        snprintf(why, len, "stages: a list of stage names");
        return false;
    }
    if (strcmp(role, "approver") != 0 && cJSON_GetArraySize(v) > 0) {
        snprintf(why, len, "stages: only an approver has stages");
        return false;
    }
    cJSON_ArrayForEach(e, v)
    {
        const char *st = cJSON_GetStringValue(e);
        if (!st || hub_config_stage_index(cfg, st) < 0) {
            snprintf(why, len, "stages: \"%.40s\" is not one of [approval] stages",
                     st ? st : "(not a string)");
            return false;
        }
        if (++n > HUB_STAGES_MAX || used + strlen(st) + 2 > size) {
            snprintf(why, len, "stages: too many");
            return false;
        }
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", st);
    }
    return true;
}

/*
 * The "dealer" of a body for role: required (a dealer id) for role dealer, refused for the
 * others; out "" when none. False with why.
 */
static bool parse_dealer(const cJSON *v, const char *role, char *out, size_t size, char *why,
                         size_t len)
{
    out[0] = '\0';
    if (strcmp(role, "dealer") != 0) {
        if (v && !cJSON_IsNull(v)) {
            snprintf(why, len, "dealer: only a dealer's user or token has one");
            return false;
        }
        return true;
    }
    if (!api_json_str(v, DEPOT_DEALER_MAX, out, size) || !depot_dealer_id_valid(out)) {
        snprintf(why, len, "dealer: role dealer needs the dealer's id (" DEPOT_ID_RULE ")");
        return false;
    }
    return true;
}

/*
 * The grant of a new user's or token's body: "role" (required), then its "dealer" and "stages"
 * (parse_dealer, parse_stages), into buffers of struct hub_user's and struct hub_cred's sizes.
 * False with why.
 */
static bool parse_grant(const struct hub_config *cfg, const cJSON *body, char *role, char *dealer,
                        char *stages, char *why, size_t len)
{
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(body, "role"), HUB_ROLE_NAME_MAX, role,
                      HUB_ROLE_NAME_MAX + 1) ||
        !hub_account_role_valid(role)) {
        snprintf(why, len, "role: viewer, approver, admin or dealer");
        return false;
    }
    return parse_dealer(cJSON_GetObjectItemCaseSensitive(body, "dealer"), role, dealer,
                        DEPOT_DEALER_MAX + 1, why, len) &&
           parse_stages(cfg, cJSON_GetObjectItemCaseSensitive(body, "stages"), role, stages,
                        HUB_STAGES_TEXT_MAX + 1, why, len);
}

static cJSON *stages_json(const char *list)
{
    cJSON *a = cJSON_CreateArray();
    char buf[HUB_STAGES_TEXT_MAX + 1], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(p));
    return a;
}

static cJSON *user_json(const struct hub_user *u)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", u->name);
    cJSON_AddStringToObject(j, "role", u->role);
    cJSON_AddItemToObject(j, "dealer",
                          *u->dealer ? cJSON_CreateString(u->dealer) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "stages", stages_json(u->stages));
    cJSON_AddBoolToObject(j, "disabled", u->disabled);
    cJSON_AddItemToObject(j, "created_at", api_time_json(u->created_at));
    cJSON_AddItemToObject(j, "updated_at", api_time_json(u->updated_at));
    return j;
}

static void generate_password(char *out, size_t len)
{
    unsigned char raw[GENERATED_PW_BYTES];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, len, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

/* The answer to a store or hashing error. */
static enum MHD_Result send_err(hub_api *api, const struct api_request *r, depot_err err,
                                const char *what)
{
    if (err == DEPOT_ERR_TIMEOUT)
        return api_send_error(api, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "every password slot is busy; try again");
    return api_send_store_error(api, r, err, what);
}

/* ---- login, logout ---- */

static const char *const login_keys[] = {"user", "password", NULL};

enum MHD_Result api_login_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "user"));
    const char *pw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "password"));
    char bad[64];
    struct hub_login login;
    enum hub_login_result res;
    long retry = 0;
    hub_store *s;

    if (!cJSON_IsObject(body) || !api_json_only_keys(body, login_keys, bad, sizeof(bad)) || !name ||
        !pw) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "the body must be {\"user\": ..., \"password\": ...}");
    }
    if (!hub_account_name_valid(name) || strlen(pw) > HUB_PASSWORD_MAX)
        name = "(invalid)"; /* never a user: refused like a wrong password, and counted */
    s = api_reader_take(api);
    res = hub_accounts_login(api->accounts, s, name, pw, r->addr, depot_now_ms(), &login, &retry);
    api_reader_give(api, s);
    sodium_memzero(cJSON_GetObjectItemCaseSensitive(body, "password")->valuestring, strlen(pw));
    cJSON_Delete(body);
    switch (res) {
    case HUB_LOGIN_OK:
        break;
    case HUB_LOGIN_BAD:
        hub_metrics_add(api->metrics, HUB_C_API_LOGIN_FAILED, 1);
        return api_send_error(api, r, MHD_HTTP_UNAUTHORIZED, "wrong user or password");
    case HUB_LOGIN_LIMITED:
        hub_metrics_add(api->metrics, HUB_C_API_LOGIN_LIMITED, 1);
        return api_send_limited(api, r, "too many failed logins; try again later", retry);
    case HUB_LOGIN_BUSY:
        return api_send_error(api, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "every password slot is busy; try again");
    case HUB_LOGIN_ERROR:
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the login failed");
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "token", login.token);
    cJSON_AddItemToObject(out, "expires_at", api_time_json(login.expires_at));
    cJSON_AddStringToObject(out, "user", login.user.name);
    cJSON_AddStringToObject(out, "role", login.user.role);
    cJSON_AddItemToObject(out, "dealer",
                          *login.user.dealer ? cJSON_CreateString(login.user.dealer)
                                             : cJSON_CreateNull());
    cJSON_AddItemToObject(out, "stages", stages_json(login.user.stages));
    sodium_memzero(login.token, sizeof(login.token));
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_logout_post(hub_api *api, const struct api_request *r)
{
    const char *token = r->authorization + 7;
    char hash[HUB_CRED_HASH_HEX + 1];
    long long n = 0;
    hub_store *s;
    depot_err err;
    cJSON *out;

    while (*token == ' ')
        token++;
    if (r->who != &r->self || strncmp(token, "dps_", 4) != 0)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "only a session logs out (an API token is revoked by an admin)");
    hub_token_hash(token, hash);
    s = api_reader_take(api);
    err = hub_store_cred_revoke(s, HUB_CRED_SESSION, NULL, hash, depot_now_ms(), &n);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return send_err(api, r, err, "no such session");
    LOG_INFO("user \"%s\" logged out", r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "logged_out", n > 0);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- users ---- */

static int add_user_row(void *arg, const struct hub_user *u)
{
    cJSON_AddItemToArray(arg, user_json(u));
    return 0;
}

enum MHD_Result api_users_list(hub_api *api, const struct api_request *r)
{
    cJSON *list = cJSON_CreateArray();
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_users_list(s, add_user_row, list);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(list);
        return send_err(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, list);
}

enum MHD_Result api_user_get(hub_api *api, const struct api_request *r)
{
    struct hub_user u;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_user_get(s, r->arg, &u);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return send_err(api, r, err, "no such user");
    return api_send_json(api, r, MHD_HTTP_OK, user_json(&u));
}

/*
 * The password of a body: "password" (checked), else one made when
 * `generate` (new users, "reset_password": true) into made; *pw NULL when
 * neither. False with why.
 */
static bool body_password(const cJSON *body, bool generate, char *made, size_t made_len,
                          const char **pw, char *why, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "password");
    const char *refused;
    *pw = NULL;
    if (v) {
        if (!cJSON_IsString(v)) {
            snprintf(why, len, "password: a string");
            return false;
        }
        if ((refused = hub_password_refused(v->valuestring))) {
            snprintf(why, len, "password: %s", refused);
            return false;
        }
        *pw = v->valuestring;
    } else if (generate) {
        generate_password(made, made_len);
        *pw = made;
    }
    return true;
}

static const char *const user_keys[] = {"name", "role", "dealer", "stages", "password", NULL};

enum MHD_Result api_user_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct hub_user u = {0};
    char why[WHY_MAX] = "the body must be a JSON object", bad[64], made[32] = "";
    const char *pw = NULL;
    hub_store *s;
    depot_err err;

    if (!cJSON_IsObject(body))
        goto refuse;
    if (!api_json_only_keys(body, user_keys, bad, sizeof(bad))) {
        snprintf(why, sizeof(why), "unknown field \"%s\"", bad);
        goto refuse;
    }
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(body, "name"), HUB_USER_NAME_MAX, u.name,
                      sizeof(u.name)) ||
        !hub_account_name_valid(u.name)) {
        snprintf(why, sizeof(why), "name: 1 to 63 of A-Z a-z 0-9 . _ @ -");
        goto refuse;
    }
    if (!parse_grant(api->cfg, body, u.role, u.dealer, u.stages, why, sizeof(why)) ||
        !body_password(body, true, made, sizeof(made), &pw, why, sizeof(why)))
        goto refuse;
    if (config_name(api->cfg, u.name)) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "a [tokens] entry has that name");
    }
    err = hub_accounts_hash(api->accounts, pw, u.pwhash);
    cJSON_Delete(body);
    if (err != DEPOT_OK)
        return send_err(api, r, err, "");
    u.created_at = u.updated_at = depot_now_ms();
    s = api_reader_take(api);
    err = hub_store_user_add(s, &u);
    api_reader_give(api, s);
    if (err == DEPOT_ERR_DUPLICATE)
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "a user has that name");
    if (err != DEPOT_OK)
        return send_err(api, r, err, "");
    LOG_INFO("user \"%s\" (%s) added by %s", u.name, u.role, r->who->name);
    out = user_json(&u);
    if (*made)
        cJSON_AddStringToObject(out, "password", made);
    sodium_memzero(made, sizeof(made));
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
refuse:
    cJSON_Delete(body);
    return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
}

static const char *const patch_keys[] = {"role",     "dealer",         "stages", "disabled",
                                         "password", "reset_password", NULL};

/* A PATCH body, checked as far as it can be without the user's row (NULL: not given). */
struct user_patch {
    const cJSON *role, *dealer, *stages, *disabled;
    char role_name[HUB_ROLE_NAME_MAX + 1];
};

/*
 * How a PATCH body fared without the user's row. The body's checks run in one order: the
 * object and its keys, role, then dealer and stages (which need the role the user ends up
 * with, maybe the row's), then disabled, reset_password and the password. A refusal after
 * dealer and stages is answered only if apply_patch passes them.
 */
enum patch_check { PATCH_OK, PATCH_REFUSED, PATCH_REFUSED_AFTER_ROW };

/* Checks body into p; *pw the new password (made into made for reset_password) or NULL. */
static enum patch_check check_patch(const cJSON *body, struct user_patch *p, char *made,
                                    size_t made_len, const char **pw, char *why, size_t len)
{
    const cJSON *reset = cJSON_GetObjectItemCaseSensitive(body, "reset_password");
    char bad[64];

    *pw = NULL;
    if (!cJSON_IsObject(body)) {
        snprintf(why, len, "the body must be a JSON object");
        return PATCH_REFUSED;
    }
    if (!api_json_only_keys(body, patch_keys, bad, sizeof(bad))) {
        snprintf(why, len, "unknown field \"%s\"", bad);
        return PATCH_REFUSED;
    }
    p->role = cJSON_GetObjectItemCaseSensitive(body, "role");
    p->dealer = cJSON_GetObjectItemCaseSensitive(body, "dealer");
    p->stages = cJSON_GetObjectItemCaseSensitive(body, "stages");
    p->disabled = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    if (p->role && (!api_json_str(p->role, HUB_ROLE_NAME_MAX, p->role_name, sizeof(p->role_name)) ||
                    !hub_account_role_valid(p->role_name))) {
        snprintf(why, len, "role: viewer, approver, admin or dealer");
        return PATCH_REFUSED;
    }
    if (p->disabled && !cJSON_IsBool(p->disabled)) {
        snprintf(why, len, "disabled: true or false");
        return PATCH_REFUSED_AFTER_ROW;
    }
    if (reset && !cJSON_IsBool(reset)) {
        snprintf(why, len, "reset_password: true or false");
        return PATCH_REFUSED_AFTER_ROW;
    }
    if (reset && cJSON_IsTrue(reset) && cJSON_GetObjectItemCaseSensitive(body, "password")) {
        snprintf(why, len, "give password or reset_password, not both");
        return PATCH_REFUSED_AFTER_ROW;
    }
    return body_password(body, reset && cJSON_IsTrue(reset), made, made_len, pw, why, len)
               ? PATCH_OK
               : PATCH_REFUSED_AFTER_ROW;
}

/* The checked patch p onto the user's row u (but the password). False with why. */
static bool apply_patch(const struct hub_config *cfg, const struct user_patch *p,
                        struct hub_user *u, char *why, size_t len)
{
    if (p->role)
        snprintf(u->role, sizeof(u->role), "%s", p->role_name);
    if ((p->role || p->dealer) &&
        !parse_dealer(p->dealer, u->role, u->dealer, sizeof(u->dealer), why, len))
        return false;
    if (p->role && !p->stages)
        u->stages[0] = '\0'; /* a new role starts with every stage (approver) or none */
    if (p->stages && !parse_stages(cfg, p->stages, u->role, u->stages, sizeof(u->stages), why, len))
        return false;
    if (p->disabled)
        u->disabled = cJSON_IsTrue(p->disabled);
    return true;
}

/*
 * The password is hashed first, outside the transaction; the row is then read, patched and
 * written under the write lock, so a PATCH never undoes another's change.
 */
enum MHD_Result api_user_patch(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct user_patch p = {0};
    struct hub_user u = {0};
    char why[WHY_MAX] = "", made[32] = "", pwhash[HUB_PWHASH_MAX + 1] = "";
    const char *pw = NULL;
    long long revoked = 0, now = depot_now_ms();
    bool was_disabled = false, refused = false;
    enum patch_check checked = check_patch(body, &p, made, sizeof(made), &pw, why, sizeof(why));
    hub_store *s;
    depot_err err =
        checked == PATCH_OK && pw ? hub_accounts_hash(api->accounts, pw, pwhash) : DEPOT_OK;

    if (err != DEPOT_OK) {
        cJSON_Delete(body);
        sodium_memzero(made, sizeof(made));
        return send_err(api, r, err, "");
    }
    s = api_reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_user_get(s, r->arg, &u); /* no such user: 404 before any 400 */
    was_disabled = u.disabled;
    if (err == DEPOT_OK)
        refused = checked == PATCH_REFUSED || !apply_patch(api->cfg, &p, &u, why, sizeof(why)) ||
                  checked == PATCH_REFUSED_AFTER_ROW;
    if (refused)
        err = DEPOT_ERR_INVAL; /* nothing written: rolled back */
    if (err == DEPOT_OK && *pwhash)
        snprintf(u.pwhash, sizeof(u.pwhash), "%s", pwhash);
    u.updated_at = now;
    if (err == DEPOT_OK)
        err = hub_store_user_put(s, &u);
    if (err == DEPOT_OK && (*pwhash || (u.disabled && !was_disabled)))
        err = hub_store_cred_revoke(s, HUB_CRED_SESSION, u.name, NULL, now, &revoked);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    cJSON_Delete(body);
    if (err != DEPOT_OK) {
        sodium_memzero(made, sizeof(made));
        if (refused)
            return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
        return send_err(api, r, err, "no such user");
    }
    LOG_INFO("user \"%s\" changed by %s (%s%s%s): %lld sessions revoked", u.name, r->who->name,
             u.role, u.disabled ? ", disabled" : "", *pwhash ? ", new password" : "", revoked);
    out = user_json(&u);
    cJSON_AddNumberToObject(out, "sessions_revoked", (double)revoked);
    if (*made)
        cJSON_AddStringToObject(out, "password", made);
    sodium_memzero(made, sizeof(made));
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- API tokens ---- */

static cJSON *token_json(const struct hub_cred *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", c->name);
    cJSON_AddStringToObject(j, "role", c->role);
    cJSON_AddItemToObject(j, "dealer",
                          *c->dealer ? cJSON_CreateString(c->dealer) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "stages", stages_json(c->stages));
    cJSON_AddStringToObject(j, "created_by", c->created_by);
    cJSON_AddItemToObject(j, "created_at", api_time_json(c->created_at));
    cJSON_AddItemToObject(j, "expires_at", api_time_json(c->expires_at));
    cJSON_AddItemToObject(j, "revoked_at", api_time_json(c->revoked_at));
    return j;
}

static int add_token_row(void *arg, const struct hub_cred *c)
{
    cJSON_AddItemToArray(arg, token_json(c));
    return 0;
}

enum MHD_Result api_tokens_list(hub_api *api, const struct api_request *r)
{
    cJSON *list = cJSON_CreateArray();
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_creds_list(s, HUB_CRED_API, add_token_row, list);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(list);
        return send_err(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, list);
}

static const char *const token_keys[] = {"name", "role", "dealer", "stages", "expires_days", NULL};

enum MHD_Result api_token_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct hub_cred c = {.kind = HUB_CRED_API};
    char why[WHY_MAX] = "the body must be a JSON object", bad[64], token[HUB_TOKEN_TEXT_MAX + 1];
    const cJSON *days = NULL;
    long long n_days = 0;
    hub_store *s;
    depot_err err;

    if (!cJSON_IsObject(body))
        goto refuse;
    if (!api_json_only_keys(body, token_keys, bad, sizeof(bad))) {
        snprintf(why, sizeof(why), "unknown field \"%s\"", bad);
        goto refuse;
    }
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(body, "name"), HUB_USER_NAME_MAX, c.name,
                      sizeof(c.name)) ||
        !hub_account_name_valid(c.name)) {
        snprintf(why, sizeof(why), "name: 1 to 63 of A-Z a-z 0-9 . _ @ -");
        goto refuse;
    }
    if (!parse_grant(api->cfg, body, c.role, c.dealer, c.stages, why, sizeof(why)))
        goto refuse;
    days = cJSON_GetObjectItemCaseSensitive(body, "expires_days");
    if (days && !api_json_int(days, 1, 3650, &n_days)) {
        snprintf(why, sizeof(why), "expires_days: 1 to 3650");
        goto refuse;
    }
    cJSON_Delete(body);
    if (config_name(api->cfg, c.name))
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "a [tokens] entry has that name");
    snprintf(c.created_by, sizeof(c.created_by), "%s", r->who->name);
    c.created_at = depot_now_ms();
    c.expires_at = n_days ? c.created_at + n_days * 86400 * 1000 : 0;
    hub_token_new("dpt_", token, c.hash);
    s = api_reader_take(api);
    err = hub_store_cred_add(s, &c);
    api_reader_give(api, s);
    if (err == DEPOT_ERR_DUPLICATE)
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "a live API token has that name");
    if (err != DEPOT_OK)
        return send_err(api, r, err, "");
    LOG_INFO("API token \"%s\" (%s) created by %s", c.name, c.role, r->who->name);
    out = token_json(&c);
    cJSON_AddStringToObject(out, "token", token);
    sodium_memzero(token, sizeof(token));
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
refuse:
    cJSON_Delete(body);
    return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
}

enum MHD_Result api_token_revoke(hub_api *api, const struct api_request *r)
{
    long long n = 0;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_cred_revoke(s, HUB_CRED_API, r->arg, NULL, depot_now_ms(), &n);
    cJSON *out;
    api_reader_give(api, s);
    if (err == DEPOT_OK && n == 0)
        err = DEPOT_ERR_NOTFOUND;
    if (err != DEPOT_OK)
        return send_err(api, r, err, "no live API token has that name");
    LOG_INFO("API token \"%s\" revoked by %s", r->arg, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "name", r->arg);
    cJSON_AddBoolToObject(out, "revoked", true);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
