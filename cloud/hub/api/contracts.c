/*
 * API: e-contracts (contracts.h, store/contracts.h).
 *
 *   POST /api/v1/contracts                admin   {"dealer", "title", "start", "end",
 *                                                 "credit_limit"?, "tier"?, "content_base64"}
 *                                                 -> 201; the file: a PDF or UTF-8 text, at
 *                                                 most HUB_CONTRACT_FILE_MAX bytes (415, 413)
 *   GET  /api/v1/contracts[?dealer=D]     viewer  newest first (a dealer's user: its own)
 *   GET  /api/v1/contracts/<id>           viewer  one (another dealer's: 404)
 *   GET  /api/v1/contracts/<id>/file      viewer  the exact bytes, ETag its SHA-256
 *   GET  /api/v1/contracts/<id>/signature viewer  the signed pair once signed (else 404):
 *                                                 {"contract", "dealer", "sha256", "doc",
 *                                                 "sig", "cert", "counter_sig", "counter_cert"}
 *                                                 what `depotctl contracts verify` checks
 *
 * A contract's state: "to sign" (its start day not come or not), "signed" (terms due on
 * its start day), "in effect" (terms applied), "ended" (its end day passed).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "contracts.h"
#include "files.h"

#define WHY_MAX 160

static const char *state_of(const struct hub_contract *c, const char *today)
{
    if (strcmp(c->end_day, today) < 0)
        return "ended";
    if (!c->signed_at)
        return "to sign";
    return c->applied_at ? "in effect" : "signed";
}

static cJSON *contract_json(const struct hub_contract *c, const char *today)
{
    cJSON *o = cJSON_CreateObject();
    char code[24];
    snprintf(code, sizeof(code), "C%lld", c->id);
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    cJSON_AddStringToObject(o, "dealer", c->dealer);
    cJSON_AddStringToObject(o, "title", c->title);
    cJSON_AddStringToObject(o, "sha256", c->file_sha);
    cJSON_AddStringToObject(o, "type", c->file_type);
    cJSON_AddNumberToObject(o, "size", (double)c->file_size);
    cJSON_AddStringToObject(o, "start", c->start_day);
    cJSON_AddStringToObject(o, "end", c->end_day);
    cJSON_AddItemToObject(o, "credit_limit",
                          c->credit_limit >= 0 ? api_money_json(c->credit_limit)
                                               : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "tier", c->tier[0] ? cJSON_CreateString(c->tier) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "sign_code", code);
    cJSON_AddStringToObject(o, "state", state_of(c, today));
    cJSON_AddStringToObject(o, "created_by", c->created_by);
    cJSON_AddItemToObject(o, "created_at", api_time_json(c->created_at));
    cJSON_AddItemToObject(o, "signed_at", api_time_json(c->signed_at));
    cJSON_AddBoolToObject(o, "countersigned", c->counter_sig[0] != '\0');
    cJSON_AddItemToObject(o, "in_effect_at", api_time_json(c->applied_at));
    return o;
}

/* ---- POST /contracts ---- */

static const char *const post_keys[] = {"dealer", "tier",         "title",          "start",
                                        "end",    "credit_limit", "content_base64", NULL};

/* The fields of body into c, the file's bytes into *data (depot_malloc'ed). False with why;
 * *too_large when the file is over the bound. */
static bool parse_contract(const cJSON *body, struct hub_contract *c, unsigned char **data,
                           size_t *len, bool *too_large, char *why, size_t why_len)
{
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(body, "credit_limit");
    const cJSON *tier = cJSON_GetObjectItemCaseSensitive(body, "tier");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(body, "content_base64");
    char bad[64];
    size_t max;

    *data = NULL;
    *too_large = false;
    if (!cJSON_IsObject(body)) {
        snprintf(why, why_len, "the body must be a JSON object");
        return false;
    }
    if (!api_json_only_keys(body, post_keys, bad, sizeof(bad))) {
        snprintf(why, why_len, "unknown field \"%s\"", bad);
        return false;
    }
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(body, "dealer"), DEPOT_DEALER_MAX, c->dealer,
                      sizeof(c->dealer)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(body, "title"), HUB_CONTRACT_TITLE_MAX,
                      c->title, sizeof(c->title)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(body, "start"), DEPOT_DATE_LEN, c->start_day,
                      sizeof(c->start_day)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(body, "end"), DEPOT_DATE_LEN, c->end_day,
                      sizeof(c->end_day))) {
        snprintf(why, why_len, "dealer, title, start and end are required strings");
        return false;
    }
    c->credit_limit = -1;
    if (limit && !cJSON_IsNull(limit) &&
        (!api_json_money(limit, &c->credit_limit) || c->credit_limit < 0)) {
        snprintf(why, why_len, "credit_limit: an amount such as \"5000.00\", or null");
        return false;
    }
    if (tier && !cJSON_IsNull(tier) &&
        (!api_json_str(tier, HUB_TIER_MAX, c->tier, sizeof(c->tier)) || !c->tier[0])) {
        snprintf(why, why_len, "tier: a short text, or null");
        return false;
    }
    if (!cJSON_IsString(b64) || !*b64->valuestring) {
        snprintf(why, why_len, "content_base64: the contract file, base64");
        return false;
    }
    max = strlen(b64->valuestring) / 4 * 3 + 3;
    if (max > HUB_CONTRACT_FILE_MAX + 3) {
        *too_large = true;
        snprintf(why, why_len, "the contract is larger than %u MiB", HUB_CONTRACT_FILE_MAX >> 20);
        return false;
    }
    if (!(*data = depot_malloc(max))) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    if (sodium_base642bin(*data, max, b64->valuestring, strlen(b64->valuestring), "\r\n", len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        snprintf(why, why_len, "content_base64: not base64");
        depot_free(*data);
        *data = NULL;
        return false;
    }
    return true;
}

enum MHD_Result api_contract_post(hub_api *api, const struct api_request *r)
{
    char why[WHY_MAX] = "", today[DEPOT_DATE_LEN + 1];
    struct hub_contract *c = depot_calloc(1, sizeof(*c));
    cJSON *body = cJSON_Parse(r->body), *out;
    unsigned char *data = NULL;
    long long now = depot_now_ms();
    size_t len = 0;
    bool too_large = false;
    hub_store *s;
    depot_err err;

    if (!c) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    err = parse_contract(body, c, &data, &len, &too_large, why, sizeof(why)) ? DEPOT_OK
                                                                             : DEPOT_ERR_INVAL;
    cJSON_Delete(body);
    snprintf(c->created_by, sizeof(c->created_by), "%s", r->who->name);
    if (err == DEPOT_OK) {
        s = api_reader_take(api);
        err = hub_store_begin(s);
        if (err == DEPOT_OK)
            err = hub_contracts_issue(s, api->cfg->files_dir, c, data, len, now, why, sizeof(why));
        if (err == DEPOT_OK)
            err = hub_store_commit(s);
        if (err != DEPOT_OK)
            hub_store_rollback(s);
        api_reader_give(api, s);
    }
    depot_free(data);
    if (err == DEPOT_ERR_INVAL || err == DEPOT_ERR_SCHEMA) {
        depot_free(c);
        return api_send_error(api, r,
                              too_large                 ? MHD_HTTP_CONTENT_TOO_LARGE
                              : err == DEPOT_ERR_SCHEMA ? MHD_HTTP_UNSUPPORTED_MEDIA_TYPE
                                                        : MHD_HTTP_BAD_REQUEST,
                              why);
    }
    if (err != DEPOT_OK) {
        depot_free(c);
        return api_send_store_error(api, r, err, "");
    }
    depot_date_utc(now, today);
    out = contract_json(c, today);
    depot_free(c);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* ---- GET /contracts, /contracts/<id> ---- */

struct list_ctx {
    cJSON *list;
    char today[DEPOT_DATE_LEN + 1];
};

static int list_row(void *arg, const struct hub_contract *c)
{
    struct list_ctx *x = arg;
    cJSON_AddItemToArray(x->list, contract_json(c, x->today));
    return 0;
}

enum MHD_Result api_contracts_list(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray()};
    const char *dealer = api_query(r, "dealer");
    hub_store *s;
    depot_err err;
    if (dealer && !depot_dealer_id_valid(dealer)) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a dealer id");
    }
    depot_date_utc(depot_now_ms(), x.today);
    s = api_reader_take(api);
    err = hub_store_contracts_list(s, dealer, list_row, &x);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, x.list);
}

/* The contract of the route's argument, one the caller may see (NOTFOUND otherwise). */
static depot_err load(hub_api *api, const struct api_request *r, struct hub_contract *c)
{
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_contract_get(s, atoll(r->arg), c);
    api_reader_give(api, s);
    if (err == DEPOT_OK && r->scope && strcmp(c->dealer, r->scope) != 0)
        err = DEPOT_ERR_NOTFOUND; /* another dealer's: as if none */
    return err;
}

enum MHD_Result api_contract_get(hub_api *api, const struct api_request *r)
{
    struct hub_contract *c = depot_malloc(sizeof(*c));
    char today[DEPOT_DATE_LEN + 1];
    depot_err err = c ? load(api, r, c) : DEPOT_ERR_NOMEM;
    cJSON *out = NULL;
    if (err == DEPOT_OK) {
        depot_date_utc(depot_now_ms(), today);
        out = contract_json(c, today);
    }
    depot_free(c);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such contract");
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_contract_file(hub_api *api, const struct api_request *r)
{
    struct hub_contract *c = depot_malloc(sizeof(*c));
    struct api_body b;
    char type[HUB_CONTRACT_TYPE_MAX + 1], *bytes = NULL;
    size_t len = 0;
    depot_err err = c ? load(api, r, c) : DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = hub_files_read(api->cfg->files_dir, c->file_sha, HUB_CONTRACT_FILE_MAX, &bytes, &len);
    if (err == DEPOT_OK)
        snprintf(type, sizeof(type), "%s", c->file_type);
    depot_free(c);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such contract");
    b = (struct api_body){bytes, len, len + 1, false}; /* the body takes the file's buffer */
    return api_send_body(api, r, MHD_HTTP_OK, type, &b);
}

enum MHD_Result api_contract_signature(hub_api *api, const struct api_request *r)
{
    struct hub_contract *c = depot_malloc(sizeof(*c));
    depot_err err = c ? load(api, r, c) : DEPOT_ERR_NOMEM;
    cJSON *out = NULL;
    if (err == DEPOT_OK && !c->signed_at)
        err = DEPOT_ERR_NOTFOUND;
    if (err == DEPOT_OK) {
        out = cJSON_CreateObject();
        cJSON_AddNumberToObject(out, "contract", (double)c->id);
        cJSON_AddStringToObject(out, "dealer", c->dealer);
        cJSON_AddStringToObject(out, "sha256", c->file_sha);
        cJSON_AddStringToObject(out, "doc", c->sign_doc);
        cJSON_AddStringToObject(out, "sig", c->sign_sig);
        cJSON_AddStringToObject(out, "cert", c->sign_cert);
        cJSON_AddStringToObject(out, "counter_sig", c->counter_sig);
        cJSON_AddStringToObject(out, "counter_cert", c->counter_cert);
    }
    depot_free(c);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such signed contract");
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
