/*
 * /api/v1/webhooks (admin only): subscriptions of outside systems to the
 * hub's events and their deliveries (webhooks.h, store/webhooks.h).
 *
 *   POST /webhooks {url, types[], secret?}  -> 201 {id, url, types, secret}
 *   GET  /webhooks                          -> [{id, url, types, created, disabled}]
 *   POST /webhooks/<id>/disable             -> {id, disabled}
 *   GET  /webhooks/<id>/deliveries?status=&after=&limit=
 *   POST /webhooks/<id>/deliveries/<seq>/retry (a dead one: pending again)
 *
 * A secret is shown once, in the answer of the POST that made it; made
 * with the CSPRNG when none is given. Every field of a POST is checked
 * before anything is written: a bad one is a 400 with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/routes.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "store/webhooks.h"

#define SECRET_MIN 16
#define TYPES_MAX 16
#define TYPE_MAX 40
#define LIST_MAX 1000

/* The event types a subscription may take ("*": all of them). */
static const char *const known_types[] = {
    "order.approved", "payment.recorded", "shipment.recorded",  "statement.closed", "stock.changed",
    "alert.opened",   "alert.updated",    "alert.acknowledged", "alert.resolved",   "*"};

static bool type_known(const char *t)
{
    for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
        if (!strcmp(t, known_types[i]))
            return true;
    return false;
}

/* An http(s) URL of printable ASCII without spaces, at most HUB_WEBHOOK_URL_MAX. */
static const char *url_refused(const char *url)
{
    size_t n = strlen(url);
    if (n == 0 || n > HUB_WEBHOOK_URL_MAX)
        return "url: 1 to 512 characters";
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return "url: http:// or https:// only";
    for (size_t i = 0; i < n; i++)
        if (url[i] <= ' ' || url[i] > '~')
            return "url: printable ASCII without spaces only";
    if (url[strncmp(url, "https://", 8) ? 7 : 8] == '\0' ||
        url[strncmp(url, "https://", 8) ? 7 : 8] == '/')
        return "url: no host";
    return NULL;
}

/* types[] into ",a,b," (out of HUB_WEBHOOK_TYPES_MAX + 1). */
static const char *types_refused(const cJSON *types, char *out, size_t len)
{
    size_t used = 1;
    const cJSON *t;
    if (!cJSON_IsArray(types) || cJSON_GetArraySize(types) < 1 ||
        cJSON_GetArraySize(types) > TYPES_MAX)
        return "types: an array of 1 to 16 event types";
    snprintf(out, len, ",");
    cJSON_ArrayForEach(t, types)
    {
        if (!cJSON_IsString(t) || strlen(t->valuestring) > TYPE_MAX || !type_known(t->valuestring))
            return "types: order.approved, payment.recorded, shipment.recorded, "
                   "statement.closed, stock.changed, alert.opened, alert.updated, "
                   "alert.acknowledged, alert.resolved or *";
        used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s,", t->valuestring);
        if (used >= len)
            return "types: too long";
    }
    return NULL;
}

static const char *secret_refused(const cJSON *secret, char *out, size_t len)
{
    unsigned char raw[32];
    if (!secret) {
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(out, len, raw, sizeof(raw));
        return NULL;
    }
    if (!cJSON_IsString(secret) || strlen(secret->valuestring) < SECRET_MIN ||
        strlen(secret->valuestring) > HUB_WEBHOOK_SECRET_MAX)
        return "secret: a string of 16 to 128 characters";
    for (const char *c = secret->valuestring; *c; c++)
        if (*c < '!' || *c > '~')
            return "secret: printable ASCII without spaces only";
    snprintf(out, len, "%s", secret->valuestring);
    return NULL;
}

/* ",a,b," as a JSON array. */
static cJSON *types_json(const char *types)
{
    cJSON *a = cJSON_CreateArray();
    char buf[HUB_WEBHOOK_TYPES_MAX + 1], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", types);
    for (char *t = strtok_r(buf, ",", &save); a && t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(t));
    return a;
}

enum MHD_Result api_webhook_post(hub_api *api, const struct api_request *r)
{
    cJSON *in = depot_json_parse(r->body, r->len), *out;
    char types[HUB_WEBHOOK_TYPES_MAX + 1], secret[HUB_WEBHOOK_SECRET_MAX + 1];
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(in, "url");
    const char *why = !cJSON_IsObject(in)    ? "a JSON object {url, types, secret?}"
                      : !cJSON_IsString(url) ? "url: a string"
                                             : url_refused(url->valuestring);
    struct hub_webhook_sub sub = {0};
    long long id = 0;
    hub_store *s;
    depot_err err;

    if (!why)
        why = types_refused(cJSON_GetObjectItemCaseSensitive(in, "types"), types, sizeof(types));
    if (!why)
        why =
            secret_refused(cJSON_GetObjectItemCaseSensitive(in, "secret"), secret, sizeof(secret));
    if (why) {
        cJSON_Delete(in);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
    }
    sub = (struct hub_webhook_sub){0, url->valuestring, secret, types, depot_now_ms(), 0};
    s = api_reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_webhook_sub_add(s, &sub, &id);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(in);
        return api_send_store_error(api, r, err, "");
    }
    LOG_INFO("webhook %lld to %s (%s) added by %s", id, sub.url, types, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "url", sub.url);
    cJSON_AddItemToObject(out, "types", types_json(types));
    cJSON_AddStringToObject(out, "secret", secret);
    cJSON_Delete(in);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

static int on_sub(void *arg, const struct hub_webhook_sub *sub)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sub->id);
    cJSON_AddStringToObject(o, "url", sub->url);
    cJSON_AddItemToObject(o, "types", types_json(sub->types));
    cJSON_AddItemToObject(o, "created", api_time_json(sub->created_at));
    cJSON_AddItemToObject(o, "disabled", api_time_json(sub->disabled_at));
    cJSON_AddItemToArray(arg, o);
    return 0;
}

enum MHD_Result api_webhooks_list(hub_api *api, const struct api_request *r)
{
    cJSON *out = cJSON_CreateArray();
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_webhook_subs(s, 0, on_sub, out);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_webhook_disable(hub_api *api, const struct api_request *r)
{
    long long id = atoll(r->arg);
    bool changed = false;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_begin(s);
    cJSON *out;
    if (err == DEPOT_OK)
        err = hub_store_webhook_sub_disable(s, id, depot_now_ms(), &changed);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such webhook");
    if (changed)
        LOG_INFO("webhook %lld disabled by %s", id, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddBoolToObject(out, "disabled", true);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

static int on_delivery(void *arg, const struct hub_webhook_delivery *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)d->seq);
    cJSON_AddStringToObject(o, "event_id", d->event_id);
    cJSON_AddStringToObject(o, "type", d->type);
    cJSON_AddStringToObject(o, "status", d->status);
    cJSON_AddNumberToObject(o, "attempts", (double)d->attempts);
    cJSON_AddItemToObject(o, "created", api_time_json(d->created_at));
    cJSON_AddItemToObject(o, "next_attempt",
                          api_time_json(strcmp(d->status, "pending") ? 0 : d->next_at));
    cJSON_AddItemToObject(o, "delivered", api_time_json(d->delivered_at));
    cJSON_AddStringToObject(o, "last_error", d->last_error);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

/* There is subscription id: DEPOT_OK or DEPOT_ERR_NOTFOUND. */
static int on_found(void *arg, const struct hub_webhook_sub *sub)
{
    (void)sub;
    *(bool *)arg = true;
    return 1;
}

static depot_err sub_there(hub_store *s, long long id)
{
    bool found = false;
    depot_err err = hub_store_webhook_subs(s, id, on_found, &found);
    return err != DEPOT_OK ? err : found ? DEPOT_OK : DEPOT_ERR_NOTFOUND;
}

enum MHD_Result api_webhook_deliveries(hub_api *api, const struct api_request *r)
{
    const char *status = api_query_raw(r, "status"), *after_q = api_query_raw(r, "after");
    const char *limit_q = api_query_raw(r, "limit");
    long long after = 0, limit = 100;
    cJSON *out;
    hub_store *s;
    depot_err err;
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "dead"))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "status: pending, delivered or dead");
    if ((after_q && !api_parse_ll(after_q, 0, INT64_MAX, &after)) ||
        (limit_q && !api_parse_ll(limit_q, 1, LIST_MAX, &limit)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "after: a delivery seq; limit: 1 to 1000");
    out = cJSON_CreateArray();
    s = api_reader_take(api);
    err = sub_there(s, atoll(r->arg));
    if (err == DEPOT_OK)
        err =
            hub_store_webhook_deliveries(s, atoll(r->arg), status, after, limit, on_delivery, out);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "no such webhook");
    }
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* POST /webhooks/<id>/deliveries/<seq>/retry (r->arg: the rest of the path after webhooks/). */
enum MHD_Result api_webhook_retry(hub_api *api, const struct api_request *r)
{
    long long id = 0, seq = 0;
    bool changed = false;
    int used = 0;
    hub_store *s;
    depot_err err;
    cJSON *out;
    if (sscanf(r->arg, "%18lld/deliveries/%18lld/retry%n", &id, &seq, &used) != 2 ||
        r->arg[used] != '\0' || id <= 0 || seq <= 0)
        return api_send_error(api, r, MHD_HTTP_NOT_FOUND, "no such delivery");
    s = api_reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_webhook_retry(s, id, seq, depot_now_ms(), &changed);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such delivery");
    if (!changed)
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "the delivery is not dead");
    LOG_INFO("webhook %lld delivery %lld retried by %s", id, seq, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "seq", (double)seq);
    cJSON_AddStringToObject(out, "status", "pending");
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
