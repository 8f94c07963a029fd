/*
 * API: the catalog and dealers' profiles.
 *
 *   GET  /api/v1/catalog            viewer  {"version", "items": [...]}
 *   PUT  /api/v1/catalog            admin   JSON list: replaces the whole catalog
 *   GET  /api/v1/dealers/<id>       viewer  profile, heard state, exposure, sku_max
 *   PUT  /api/v1/dealers/<id>       admin   sets the whole profile (absent fields: defaults)
 *   PATCH /api/v1/dealers/<id>      admin   sets the fields given (sku_max: null removes one)
 *
 * Request bodies are checked whole before anything is written; the first
 * problem is the 400 answer ("items[3].price: ..."). A catalog PUT is one
 * transaction that bumps the catalog's version; the ingest worker's tick
 * then publishes it to every dealer (hub_downlink.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "depot/money.h"

#define ERR_MAX 200

/* ---- JSON field checks ---- */

static bool int_in(const cJSON *v, long long min, long long max, long long *out)
{
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)min && d <= (double)max) || floor(d) != d)
        return false;
    *out = (long long)d;
    return true;
}

/* A money amount: a JSON number with at most two decimals, or a decimal string. */
static bool money_in(const cJSON *v, long long *out)
{
    if (cJSON_IsString(v))
        return depot_money_parse(v->valuestring, out);
    return cJSON_IsNumber(v) && depot_money_from_double(v->valuedouble, out);
}

static bool str_in(const cJSON *v, size_t max, char *out, size_t size)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) > max || strlen(v->valuestring) >= size)
        return false;
    snprintf(out, size, "%s", v->valuestring);
    return true;
}

/* "" or YYYY-MM-DD with a plausible month and day. */
static bool date_valid(const char *s)
{
    int y, m, d;
    char tail;
    if (!*s)
        return true;
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
           sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && y >= 1970 && m >= 1 && m <= 12 &&
           d >= 1 && d <= 31;
}

/* ---- catalog ---- */

static const char *const item_keys[] = {"sku",       "barcode", "price",         "unit_weight_g",
                                        "min_qty",   "max_qty", "reorder_point", "lead_time_days",
                                        "max_stock", NULL};

static bool only_keys(const cJSON *obj, const char *const *keys, char *bad, size_t len)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, obj)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], f->string))
            i++;
        if (!keys[i]) {
            snprintf(bad, len, "%s", f->string);
            return false;
        }
    }
    return true;
}

/* One catalog item; false with err = "what is wrong". */
static bool parse_item(const cJSON *o, struct hub_catalog_item *it, char *err, size_t len)
{
    long long *nums[] = {&it->unit_weight_g, &it->min_qty,        &it->max_qty,
                         &it->reorder_point, &it->lead_time_days, &it->max_stock};
    char bad[64];
    memset(it, 0, sizeof(*it));
    if (!cJSON_IsObject(o))
        return snprintf(err, len, "not an object") < 0;
    if (!only_keys(o, item_keys, bad, sizeof(bad)))
        return snprintf(err, len, "unknown key \"%s\"", bad) < 0;
    if (!str_in(cJSON_GetObjectItemCaseSensitive(o, "sku"), DEPOT_SKU_MAX, it->sku,
                sizeof(it->sku)) ||
        !depot_id_valid(it->sku, DEPOT_SKU_MAX))
        return snprintf(err, len, "sku: not an id of [A-Za-z0-9_.-]") < 0;
    if (!str_in(cJSON_GetObjectItemCaseSensitive(o, "barcode"), DEPOT_BARCODE_LEN, it->barcode,
                sizeof(it->barcode)) ||
        !depot_barcode_valid(it->barcode))
        return snprintf(err, len, "barcode: not 1..32 printable characters") < 0;
    if (!money_in(cJSON_GetObjectItemCaseSensitive(o, "price"), &it->price))
        return snprintf(err, len, "price: not an amount with at most 2 decimals") < 0;
    for (int i = 0; i < 6; i++)
        if (!int_in(cJSON_GetObjectItemCaseSensitive(o, item_keys[3 + i]), i == 1 || i == 2,
                    DEPOT_QTY_MAX, nums[i]))
            return snprintf(err, len, "%s: not an integer in %d..%lld", item_keys[3 + i],
                            i == 1 || i == 2, DEPOT_QTY_MAX) < 0;
    if (it->max_qty < it->min_qty)
        return snprintf(err, len, "max_qty is below min_qty") < 0;
    return true;
}

/* The whole list: items (depot_malloc'd) and n; false with err "items[i].field: ...". */
static bool parse_catalog(const char *text, struct hub_catalog_item **items, size_t *n, char *err,
                          size_t len)
{
    cJSON *root = cJSON_Parse(text), *o;
    char why[ERR_MAX];
    size_t i = 0;
    bool ok = cJSON_IsArray(root) && cJSON_GetArraySize(root) <= DEPOT_CATALOG_MAX_ITEMS;

    *items = NULL;
    if (!ok)
        snprintf(err, len, "the body must be a JSON list of at most %d items",
                 DEPOT_CATALOG_MAX_ITEMS);
    else if (!(*items = depot_calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(**items))))
        ok = !snprintf(err, len, "out of memory");
    cJSON_ArrayForEach(o, (ok ? root : NULL))
    {
        ok = parse_item(o, &(*items)[i], why, sizeof(why));
        for (size_t j = 0; ok && j < i; j++)
            if (!strcmp((*items)[j].sku, (*items)[i].sku) ||
                !strcmp((*items)[j].barcode, (*items)[i].barcode))
                ok = !snprintf(why, sizeof(why), "sku or barcode also in items[%zu]", j);
        if (!ok) {
            snprintf(err, len, "items[%zu].%s", i, why);
            break;
        }
        i++;
    }
    cJSON_Delete(root);
    *n = i;
    return ok;
}

static enum MHD_Result put_catalog(hub_api *api, const struct api_request *r)
{
    struct hub_catalog_item *items;
    char err_text[ERR_MAX + 32];
    long long version = 0;
    size_t n = 0;
    hub_store *s;
    depot_err err;
    cJSON *out;

    if (!parse_catalog(r->body, &items, &n, err_text, sizeof(err_text))) {
        depot_free(items);
        return send_error(api, r->c, MHD_HTTP_BAD_REQUEST, err_text);
    }
    s = reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_catalog_replace(s, items, n, depot_now_ms(), &version);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    reader_give(api, s);
    depot_free(items);
    if (err != DEPOT_OK)
        return send_store_error(api, r->c, err, "catalog");
    LOG_INFO("catalog version %lld set by %s: %zu items", version, r->who->name, n);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "version", (double)version);
    cJSON_AddNumberToObject(out, "items", (double)n);
    return send_json(api, r->c, MHD_HTTP_OK, out);
}

static int item_row(void *arg, const struct hub_catalog_item *it)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sku", it->sku);
    cJSON_AddStringToObject(o, "barcode", it->barcode);
    cJSON_AddItemToObject(o, "price", money_json(it->price));
    cJSON_AddNumberToObject(o, "unit_weight_g", (double)it->unit_weight_g);
    cJSON_AddNumberToObject(o, "min_qty", (double)it->min_qty);
    cJSON_AddNumberToObject(o, "max_qty", (double)it->max_qty);
    cJSON_AddNumberToObject(o, "reorder_point", (double)it->reorder_point);
    cJSON_AddNumberToObject(o, "lead_time_days", (double)it->lead_time_days);
    cJSON_AddNumberToObject(o, "max_stock", (double)it->max_stock);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

static enum MHD_Result get_catalog(hub_api *api, const struct api_request *r)
{
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    long long version = 0;
    hub_store *s = reader_take(api);
    depot_err err = hub_store_catalog_list(s, &version, item_row, items);
    reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return send_store_error(api, r->c, err, "catalog");
    }
    cJSON_AddNumberToObject(out, "version", (double)version);
    return send_json(api, r->c, MHD_HTTP_OK, out);
}

/* ---- dealers/<id> ---- */

struct dealer_view {
    cJSON *out;
    bool heard;
};

static int heard_row(void *arg, const struct hub_dealer_row *row)
{
    struct dealer_view *v = arg;
    v->heard = true;
    cJSON_AddBoolToObject(v->out, "online", row->online);
    cJSON_AddItemToObject(v->out, "last_seen", time_json(row->last_seen));
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
    cJSON_AddItemToObject(o, "credit_limit", money_json(p->credit_limit));
    cJSON_AddItemToObject(o, "auto_approve_limit", money_json(p->auto_approve_limit));
    cJSON_AddStringToObject(o, "contract_start", p->contract_start);
    cJSON_AddStringToObject(o, "contract_end", p->contract_end);
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
        err = hub_store_exposure(s, id, &x);
    ex = cJSON_AddObjectToObject(v.out, "exposure");
    cJSON_AddItemToObject(ex, "approved", money_json(x.approved));
    cJSON_AddItemToObject(ex, "paid", money_json(x.paid));
    cJSON_AddItemToObject(ex, "open", money_json(x.open));
    if (err != DEPOT_OK)
        cJSON_Delete(v.out);
    *out = err == DEPOT_OK ? v.out : NULL;
    return err;
}

static enum MHD_Result get_dealer(hub_api *api, const struct api_request *r, const char *id)
{
    cJSON *out = NULL;
    hub_store *s = reader_take(api);
    depot_err err = dealer_json(s, id, &out);
    reader_give(api, s);
    return err == DEPOT_OK ? send_json(api, r->c, MHD_HTTP_OK, out)
                           : send_store_error(api, r->c, err, "no such dealer");
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
                                           NULL};

static bool set_text(const cJSON *o, const char *key, char *dst, size_t max, char *err, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    if (!str_in(v, max, dst, max + 1) ||
        ((!strcmp(key, "contract_start") || !strcmp(key, "contract_end")) && !date_valid(dst)))
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
    if (v && !money_in(v, dst))
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
            !(int_in(v, 0, DEPOT_QTY_MAX, &n) || (patch && cJSON_IsNull(v))))
            return snprintf(err, len, "sku_max.%.40s: not a SKU with a maximum in 0..%lld%s",
                            v->string, DEPOT_QTY_MAX, patch ? " or null" : "") < 0;
    }
    return true;
}

/* Applies the body's fields over p; false with err. */
static bool parse_profile(const cJSON *o, struct hub_dealer_profile *p, bool patch, char *err,
                          size_t len)
{
    char bad[64];
    if (!cJSON_IsObject(o))
        return snprintf(err, len, "the body must be a JSON object") < 0;
    if (!only_keys(o, profile_keys, bad, sizeof(bad)))
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
                               bool patch)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "sku_max"), *v;
    depot_err err = hub_store_profile_put(s, p);
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
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK && patch)
        err = hub_store_profile_get(s, id, &p);
    if (err == DEPOT_ERR_NOTFOUND)
        err = DEPOT_OK; /* PATCH of a new dealer: from the defaults */
    snprintf(p.dealer, sizeof(p.dealer), "%s", id);
    if (err == DEPOT_OK && !parse_profile(body, &p, patch, why, len))
        err = DEPOT_ERR_INVAL;
    if (err == DEPOT_OK)
        err = write_profile(s, &p, body, patch);
    if (err == DEPOT_OK)
        err = dealer_json(s, id, out);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}

static enum MHD_Result put_dealer(hub_api *api, const struct api_request *r, const char *id,
                                  bool patch)
{
    cJSON *body = cJSON_Parse(r->body), *out = NULL;
    char why[ERR_MAX] = "the body must be a JSON object";
    hub_store *s = reader_take(api);
    depot_err err = save_profile(s, id, body, patch, why, sizeof(why), &out);
    reader_give(api, s);
    cJSON_Delete(body);
    if (err == DEPOT_ERR_INVAL)
        return send_error(api, r->c, MHD_HTTP_BAD_REQUEST, why);
    if (err != DEPOT_OK)
        return send_store_error(api, r->c, err, "no such dealer");
    LOG_INFO("dealer %s profile %s by %s", id, patch ? "patched" : "set", r->who->name);
    return send_json(api, r->c, MHD_HTTP_OK, out);
}

/* ---- routing ---- */

static enum MHD_Result route_dealer(hub_api *api, const struct api_request *r, const char *id)
{
    enum MHD_Result ret;
    bool get = !strcmp(r->method, MHD_HTTP_METHOD_GET);
    bool put = !strcmp(r->method, MHD_HTTP_METHOD_PUT);
    if (!depot_id_valid(id, DEPOT_DEALER_MAX))
        return send_error(api, r->c, MHD_HTTP_NOT_FOUND, "no such dealer");
    if (get)
        return get_dealer(api, r, id);
    if (!put && strcmp(r->method, MHD_HTTP_METHOD_PATCH) != 0)
        return send_error(api, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, PUT or PATCH");
    if (!need_role(api, r, HUB_ROLE_ADMIN, &ret))
        return ret;
    return put_dealer(api, r, id, !put);
}

enum MHD_Result hub_api_catalog_route(hub_api *api, const struct api_request *r, bool *handled)
{
    enum MHD_Result ret;
    *handled = true;
    if (!strcmp(r->path, "catalog")) {
        if (!strcmp(r->method, MHD_HTTP_METHOD_GET))
            return get_catalog(api, r);
        if (strcmp(r->method, MHD_HTTP_METHOD_PUT) != 0)
            return send_error(api, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or PUT");
        return need_role(api, r, HUB_ROLE_ADMIN, &ret) ? put_catalog(api, r) : ret;
    }
    if (!strncmp(r->path, "dealers/", 8) && !strchr(r->path + 8, '/'))
        return route_dealer(api, r, r->path + 8);
    *handled = false;
    return MHD_NO;
}
