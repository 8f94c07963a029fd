/*
 * API: the dealers.
 *
 *   GET   /api/v1/dealers                 viewer  every dealer heard of or profiled: online,
 *         [?limit=N][&after=DEALER]               last and first seen, session; by id, a
 *                                                 page at a time (pager.h)
 *   GET   /api/v1/dealers/<id>            viewer  profile, heard state, exposure, sku_max
 *   PUT   /api/v1/dealers/<id>            admin   sets the whole profile (absent fields: defaults)
 *   PATCH /api/v1/dealers/<id>            admin   sets the fields given (sku_max: null removes one)
 *   GET   /api/v1/dealers/<id>/streams    viewer  the dealer's ledger streams at the hub
 *
 * (GET /api/v1/dealers/<id>/kpis is the ranking's: ranking.c.) A profile's
 * body is checked whole before anything is written; the first problem is
 * the 400 answer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/pager.h"
#include "api/routes.h"
#include "store/shipments.h"
#include "stale.h"

#define ERR_MAX 200

/* ---- GET /api/v1/dealers ---- */

struct dealers_ctx {
    long long now, offline_after_ms;
};

/* A dealer; one with a profile whose gateway was never heard: offline, never seen. */
static cJSON *dealer_list_json(const struct dealers_ctx *x, const struct hub_dealer_row *r)
{
    cJSON *o = cJSON_CreateObject();
    bool never = r->first_seen == 0 && r->last_seen == 0;
    long long age = x->now - r->last_seen;
    cJSON_AddStringToObject(o, "dealer", r->dealer);
    cJSON_AddBoolToObject(
        o, "online",
        !never && hub_dealer_online(r->online, r->last_seen, x->now, x->offline_after_ms));
    if (never) {
        cJSON_AddNullToObject(o, "last_seen");
        cJSON_AddNullToObject(o, "age_s");
        cJSON_AddNullToObject(o, "first_seen");
        cJSON_AddNullToObject(o, "session");
        return o;
    }
    cJSON_AddItemToObject(o, "last_seen", api_time_json(r->last_seen));
    cJSON_AddNumberToObject(o, "age_s", (double)(age > 0 ? age / 1000 : 0));
    cJSON_AddItemToObject(o, "first_seen", api_time_json(r->first_seen));
    cJSON_AddNumberToObject(o, "session", (double)r->session);
    return o;
}

static int dealer_row(void *arg, const struct hub_dealer_row *r)
{
    struct api_pager *p = arg;
    return api_pager_row(p, dealer_list_json(p->ctx, r), r->dealer);
}

/* One page of dealers after the cursor's id. */
static depot_err dealers_page(struct api_pager *p, hub_store *s, long long want)
{
    return hub_store_dealers_known(s, p->cursor, want, dealer_row, p);
}

enum MHD_Result api_dealers_list(hub_api *api, const struct api_request *r)
{
    const char *after = api_query(r, "after");
    struct dealers_ctx *x;
    if (after && !depot_id_valid(after, DEPOT_DEALER_MAX))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "after is not a dealer id (the X-Next-After of the page before)");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    x->now = depot_now_ms();
    x->offline_after_ms = api->cfg->offline_after_s * 1000LL;
    return api_pager_send(api, r, "dealers", dealers_page, x, depot_free, after);
}

/* ---- GET /api/v1/dealers/<id>/streams ---- */

struct stream_walk {
    struct api_body *b;
    size_t n;
};

static int stream_row(void *arg, const struct hub_stream_row *r)
{
    struct stream_walk *w = arg;
    api_body_printf(w->b,
                    "%s{\"ledger\":\"%s\",\"applied_upto\":%llu,\"applied\":%llu,"
                    "\"duplicates\":%llu,\"stale_ignored\":%llu}",
                    w->n++ ? ",\n" : "", r->ledger, (unsigned long long)r->applied_upto,
                    (unsigned long long)r->applied, (unsigned long long)r->duplicates,
                    (unsigned long long)r->stale_ignored);
    return w->b->failed;
}

enum MHD_Result api_dealer_streams(hub_api *api, const struct api_request *r)
{
    struct api_body b = {0};
    struct stream_walk w = {&b, 0};
    hub_store *s = api_reader_take(api);
    depot_err err;
    api_body_printf(&b, "[");
    err = hub_store_streams(s, r->arg, stream_row, &w);
    api_reader_give(api, s);
    api_body_printf(&b, "]\n");
    if (err != DEPOT_OK) {
        depot_free(b.p);
        return api_send_store_error(api, r, err, "no such dealer");
    }
    return api_send_body(api, r, MHD_HTTP_OK, "application/json", &b);
}

/* ---- GET, PUT and PATCH /api/v1/dealers/<id> ---- */

struct dealer_view {
    cJSON *out;
    bool heard;
};

static int heard_row(void *arg, const struct hub_dealer_row *row)
{
    struct dealer_view *v = arg;
    v->heard = true;
    cJSON_AddBoolToObject(v->out, "online", row->online);
    cJSON_AddItemToObject(v->out, "last_seen", api_time_json(row->last_seen));
    return 0;
}

static int sku_max_row(void *arg, const char *sku, long long max)
{
    cJSON_AddNumberToObject(arg, sku, (double)max);
    return 0;
}

static void profile_json(cJSON *o, const struct hub_dealer_profile *p)
{
    cJSON_AddStringToObject(o, "dealer", p->dealer);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "region", p->region);
    cJSON_AddItemToObject(o, "lat",
                          p->has_location ? cJSON_CreateNumber(p->lat) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "lon",
                          p->has_location ? cJSON_CreateNumber(p->lon) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "tier", p->tier);
    cJSON_AddItemToObject(o, "credit_limit", api_money_json(p->credit_limit));
    cJSON_AddItemToObject(o, "auto_approve_limit", api_money_json(p->auto_approve_limit));
    cJSON_AddStringToObject(o, "contract_start", p->contract_start);
    cJSON_AddStringToObject(o, "contract_end", p->contract_end);
}

/* "territory": the polygon's points [[lat, lon], ...], or null (store/shipments.h). */
static depot_err territory_json(hub_store *s, const char *id, cJSON *o)
{
    char poly[HUB_TERRITORY_TEXT_MAX + 1];
    cJSON *list;
    const char *p = poly;
    depot_err err = hub_store_territory_get(s, id, poly, sizeof(poly));
    if (err != DEPOT_OK)
        return err;
    if (!poly[0]) {
        cJSON_AddNullToObject(o, "territory");
        return DEPOT_OK;
    }
    list = cJSON_AddArrayToObject(o, "territory");
    while (p && *p) {
        char *end;
        double lat = strtod(p, &end), lon = *end == ',' ? strtod(end + 1, &end) : 0;
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(lat));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(lon));
        cJSON_AddItemToArray(list, pt);
        p = *end == ';' ? end + 1 : NULL;
    }
    return DEPOT_OK;
}

/* The dealer as GET shows it; NOTFOUND when neither heard of nor profiled. */
static depot_err dealer_json(hub_store *s, const char *id, cJSON **out)
{
    struct hub_dealer_profile p = {0};
    struct hub_exposure x = {0};
    struct dealer_view v = {cJSON_CreateObject(), false};
    cJSON *ex;
    depot_err perr = hub_store_profile_get(s, id, &p), err = perr;

    snprintf(p.dealer, sizeof(p.dealer), "%s", id);
    profile_json(v.out, &p);
    cJSON_AddBoolToObject(v.out, "profile", perr == DEPOT_OK);
    if (err == DEPOT_OK || err == DEPOT_ERR_NOTFOUND)
        err = hub_store_dealer_get(s, id, heard_row, &v);
    if (err == DEPOT_ERR_NOTFOUND)
        err = perr; /* known if it has a profile */
    cJSON_AddBoolToObject(v.out, "heard", v.heard);
    if (err == DEPOT_OK)
        err = hub_store_sku_max_list(s, id, sku_max_row, cJSON_AddObjectToObject(v.out, "sku_max"));
    if (err == DEPOT_OK)
        err = territory_json(s, id, v.out);
    if (err == DEPOT_OK)
        err = hub_store_exposure(s, id, &x);
    ex = cJSON_AddObjectToObject(v.out, "exposure");
    cJSON_AddItemToObject(ex, "approved", api_money_json(x.approved));
    cJSON_AddItemToObject(ex, "paid", api_money_json(x.paid));
    cJSON_AddItemToObject(ex, "open", api_money_json(x.open));
    if (err != DEPOT_OK)
        cJSON_Delete(v.out);
    *out = err == DEPOT_OK ? v.out : NULL;
    return err;
}

enum MHD_Result api_dealer_get(hub_api *api, const struct api_request *r)
{
    cJSON *out = NULL;
    hub_store *s = api_reader_take(api);
    depot_err err = dealer_json(s, r->arg, &out);
    api_reader_give(api, s);
    return err == DEPOT_OK ? api_send_json(api, r, MHD_HTTP_OK, out)
                           : api_send_store_error(api, r, err, "no such dealer");
}

static const char *const profile_keys[] = {"name",
                                           "region",
                                           "lat",
                                           "lon",
                                           "tier",
                                           "credit_limit",
                                           "auto_approve_limit",
                                           "contract_start",
                                           "contract_end",
                                           "sku_max",
                                           "territory",
                                           NULL};

static bool set_text(const cJSON *o, const char *key, char *dst, size_t max, char *err, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    if (!api_json_str(v, max, dst, max + 1) ||
        ((!strcmp(key, "contract_start") || !strcmp(key, "contract_end")) && !api_date_valid(dst)))
        return snprintf(err, len, "%s: not %s", key,
                        strstr(key, "contract") ? "YYYY-MM-DD or \"\"" : "a short text") < 0;
    return true;
}

static bool set_location(const cJSON *o, struct hub_dealer_profile *p, char *err, size_t len)
{
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "lat");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(o, "lon");
    if (!lat && !lon)
        return true;
    if (cJSON_IsNull(lat) && cJSON_IsNull(lon)) {
        p->has_location = false;
        return true;
    }
    if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) || fabs(lat->valuedouble) > 90 ||
        fabs(lon->valuedouble) > 180)
        return snprintf(err, len, "lat and lon: numbers in -90..90 and -180..180, together") < 0;
    p->has_location = true;
    p->lat = lat->valuedouble;
    p->lon = lon->valuedouble;
    return true;
}

static bool set_money(const cJSON *o, const char *key, long long *dst, char *err, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v && !api_json_money(v, dst))
        return snprintf(err, len, "%s: not an amount with at most 2 decimals", key) < 0;
    return true;
}

static bool check_sku_max(const cJSON *o, bool patch, char *err, size_t len)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "sku_max"), *v;
    long long n;
    if (m && !cJSON_IsObject(m))
        return snprintf(err, len, "sku_max: not an object of SKU: maximum") < 0;
    cJSON_ArrayForEach(v, m)
    {
        if (!depot_id_valid(v->string, DEPOT_SKU_MAX) ||
            !(api_json_int(v, 0, DEPOT_QTY_MAX, &n) || (patch && cJSON_IsNull(v))))
            return snprintf(err, len, "sku_max.%.40s: not a SKU with a maximum in 0..%lld%s",
                            v->string, DEPOT_QTY_MAX, patch ? " or null" : "") < 0;
    }
    return true;
}

/* "territory": null, or 3..64 points [lat, lon] (the area of the dealer's territory beside its
 * region) into text ("lat,lon;..."; "" for null); *set whether the body has it. */
static bool parse_territory(const cJSON *o, char *text, size_t size, bool *set, char *err,
                            size_t len)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "territory"), *pt;
    size_t at = 0;
    int n = cJSON_IsArray(t) ? cJSON_GetArraySize(t) : -1;
    *set = t != NULL;
    text[0] = '\0';
    if (!t || cJSON_IsNull(t))
        return true;
    if (n < 3 || n > HUB_TERRITORY_POINTS_MAX)
        return snprintf(err, len, "territory: null or 3..64 points [lat, lon]") < 0;
    cJSON_ArrayForEach(pt, t)
    {
        const cJSON *lat = cJSON_GetArrayItem(pt, 0), *lon = cJSON_GetArrayItem(pt, 1);
        if (cJSON_GetArraySize(pt) != 2 || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) ||
            fabs(lat->valuedouble) > 90 || fabs(lon->valuedouble) > 180)
            return snprintf(err, len, "territory: each point [lat, lon] in -90..90, -180..180") < 0;
        at += (size_t)snprintf(text + at, size - at, "%s%.6f,%.6f", at ? ";" : "", lat->valuedouble,
                               lon->valuedouble);
    }
    return at < size || snprintf(err, len, "territory: too long") < 0;
}

/* Applies the body's fields over p; false with err. */
static bool parse_profile(const cJSON *o, struct hub_dealer_profile *p, bool patch, char *err,
                          size_t len)
{
    char bad[64];
    if (!cJSON_IsObject(o))
        return snprintf(err, len, "the body must be a JSON object") < 0;
    if (!api_json_only_keys(o, profile_keys, bad, sizeof(bad)))
        return snprintf(err, len, "unknown key \"%s\"", bad) < 0;
    return set_text(o, "name", p->name, HUB_NAME_MAX, err, len) &&
           set_text(o, "region", p->region, HUB_REGION_MAX, err, len) &&
           set_text(o, "tier", p->tier, HUB_TIER_MAX, err, len) &&
           set_text(o, "contract_start", p->contract_start, HUB_DATE_MAX, err, len) &&
           set_text(o, "contract_end", p->contract_end, HUB_DATE_MAX, err, len) &&
           set_location(o, p, err, len) &&
           set_money(o, "credit_limit", &p->credit_limit, err, len) &&
           set_money(o, "auto_approve_limit", &p->auto_approve_limit, err, len) &&
           check_sku_max(o, patch, err, len);
}

static depot_err write_profile(hub_store *s, const struct hub_dealer_profile *p, const cJSON *body,
                               bool patch, const char *territory, bool territory_set)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "sku_max"), *v;
    depot_err err = hub_store_profile_put(s, p);
    if (err == DEPOT_OK && (territory_set || !patch))
        err = hub_store_territory_put(s, p->dealer, territory);
    if (err == DEPOT_OK && !patch)
        err = hub_store_sku_max_clear(s, p->dealer);
    cJSON_ArrayForEach(v, m)
    {
        if (err != DEPOT_OK)
            break;
        err = hub_store_sku_max_set(s, p->dealer, v->string,
                                    cJSON_IsNull(v) ? -1 : (long long)v->valuedouble);
    }
    return err;
}

static depot_err save_profile(hub_store *s, const char *id, const cJSON *body, bool patch,
                              char *why, size_t len, cJSON **out)
{
    struct hub_dealer_profile p = {0};
    char territory[HUB_TERRITORY_TEXT_MAX + 1];
    bool territory_set = false;
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK && patch)
        err = hub_store_profile_get(s, id, &p);
    if (err == DEPOT_ERR_NOTFOUND)
        err = DEPOT_OK; /* PATCH of a new dealer: from the defaults */
    snprintf(p.dealer, sizeof(p.dealer), "%.*s", DEPOT_DEALER_MAX, id); /* an id: checked */
    if (err == DEPOT_OK &&
        (!parse_profile(body, &p, patch, why, len) ||
         !parse_territory(body, territory, sizeof(territory), &territory_set, why, len)))
        err = DEPOT_ERR_INVAL;
    if (err == DEPOT_OK)
        err = write_profile(s, &p, body, patch, territory, territory_set);
    if (err == DEPOT_OK)
        err = dealer_json(s, id, out);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}

static enum MHD_Result put_dealer(hub_api *api, const struct api_request *r, bool patch)
{
    const char *id = r->arg;
    cJSON *body = cJSON_Parse(r->body), *out = NULL;
    char why[ERR_MAX] = "the body must be a JSON object";
    hub_store *s = api_reader_take(api);
    depot_err err = save_profile(s, id, body, patch, why, sizeof(why), &out);
    api_reader_give(api, s);
    cJSON_Delete(body);
    if (err == DEPOT_ERR_INVAL)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such dealer");
    LOG_INFO("dealer %s profile %s by %s", id, patch ? "patched" : "set", r->who->name);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_dealer_put(hub_api *api, const struct api_request *r)
{
    return put_dealer(api, r, false);
}

enum MHD_Result api_dealer_patch(hub_api *api, const struct api_request *r)
{
    return put_dealer(api, r, true);
}
