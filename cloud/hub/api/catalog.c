/*
 * API: the catalog.
 *
 *   GET  /api/v1/catalog            viewer  {"version", "items": [...]}
 *   PUT  /api/v1/catalog            admin   JSON list: replaces the whole catalog
 *
 * Request bodies are checked whole before anything is written; the first
 * problem is the 400 answer ("items[3].price: ..."). A catalog PUT is one
 * transaction that bumps the catalog's version; the ingest worker's tick
 * then publishes it to every dealer (downlink.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "depot/money.h"

#define ERR_MAX 200

/* ---- catalog ---- */

static const char *const item_keys[] = {"sku",       "barcode", "price",         "unit_weight_g",
                                        "min_qty",   "max_qty", "reorder_point", "lead_time_days",
                                        "max_stock", NULL};

/* One catalog item; false with err = "what is wrong". */
static bool parse_item(const cJSON *o, struct hub_catalog_item *it, char *err, size_t len)
{
    long long *nums[] = {&it->unit_weight_g, &it->min_qty,        &it->max_qty,
                         &it->reorder_point, &it->lead_time_days, &it->max_stock};
    char bad[64];
    memset(it, 0, sizeof(*it));
    if (!cJSON_IsObject(o))
        return snprintf(err, len, "not an object") < 0;
    if (!api_json_only_keys(o, item_keys, bad, sizeof(bad)))
        return snprintf(err, len, "unknown key \"%s\"", bad) < 0;
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(o, "sku"), DEPOT_SKU_MAX, it->sku,
                      sizeof(it->sku)) ||
        !depot_id_valid(it->sku, DEPOT_SKU_MAX))
        return snprintf(err, len, "sku: not an id of [A-Za-z0-9_.-]") < 0;
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(o, "barcode"), DEPOT_BARCODE_LEN,
                      it->barcode, sizeof(it->barcode)) ||
        !depot_barcode_valid(it->barcode))
        return snprintf(err, len, "barcode: not 1..32 printable characters") < 0;
    if (!api_json_money(cJSON_GetObjectItemCaseSensitive(o, "price"), &it->price))
        return snprintf(err, len, "price: not an amount with at most 2 decimals") < 0;
    for (int i = 0; i < 6; i++)
        if (!api_json_int(cJSON_GetObjectItemCaseSensitive(o, item_keys[3 + i]), i == 1 || i == 2,
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

enum MHD_Result api_catalog_put(hub_api *api, const struct api_request *r)
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
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, err_text);
    }
    s = api_reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_store_catalog_replace(s, items, n, depot_now_ms(), &version);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    depot_free(items);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "catalog");
    LOG_INFO("catalog version %lld set by %s: %zu items", version, r->who->name, n);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "version", (double)version);
    cJSON_AddNumberToObject(out, "items", (double)n);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

static int item_row(void *arg, const struct hub_catalog_item *it)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sku", it->sku);
    cJSON_AddStringToObject(o, "barcode", it->barcode);
    cJSON_AddItemToObject(o, "price", api_money_json(it->price));
    cJSON_AddNumberToObject(o, "unit_weight_g", (double)it->unit_weight_g);
    cJSON_AddNumberToObject(o, "min_qty", (double)it->min_qty);
    cJSON_AddNumberToObject(o, "max_qty", (double)it->max_qty);
    cJSON_AddNumberToObject(o, "reorder_point", (double)it->reorder_point);
    cJSON_AddNumberToObject(o, "lead_time_days", (double)it->lead_time_days);
    cJSON_AddNumberToObject(o, "max_stock", (double)it->max_stock);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

enum MHD_Result api_catalog_get(hub_api *api, const struct api_request *r)
{
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    long long version = 0;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_catalog_list(s, &version, item_row, items);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "catalog");
    }
    cJSON_AddNumberToObject(out, "version", (double)version);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
