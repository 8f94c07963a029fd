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
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "api/idempotency.h"
#include "depot/money.h"

#define ERR_MAX 200

/* ---- catalog ---- */

static const char *const item_keys[] = {
    "sku",           "barcode",        "price",     "unit_weight_g", "min_qty", "max_qty",
    "reorder_point", "lead_time_days", "max_stock", "serial_prefix", NULL};

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
    o = cJSON_GetObjectItemCaseSensitive(o, "serial_prefix");
    if (o && !cJSON_IsNull(o) &&
        (!api_json_str(o, DEPOT_SERIAL_PREFIX_MAX, it->serial_prefix, sizeof(it->serial_prefix)) ||
         (it->serial_prefix[0] && !depot_serial_prefix_valid(it->serial_prefix))))
        return snprintf(err, len,
                        "serial_prefix: not 1..16 printable characters without spaces, not "
                        "starting with \"(\"") < 0;
    return true;
}

/* Whether text starts with prefix (a non-empty one). */
static bool starts_with(const char *text, const char *prefix)
{
    return prefix[0] && !strncmp(text, prefix, strlen(prefix));
}

/*
 * A serial code names its item by its prefix alone: no item's prefix may start another's, and
 * no barcode may start with a prefix (the terminal tries barcodes first). "" if items[i] keeps
 * that with items[0..i-1]; else why, naming the other item.
 */
static bool serials_clash(const struct hub_catalog_item *items, size_t i, char *why, size_t len)
{
    const struct hub_catalog_item *a = &items[i];
    if (starts_with(a->barcode, a->serial_prefix))
        return snprintf(why, len, "barcode starts with its own serial_prefix") >= 0;
    for (size_t j = 0; j < i; j++) {
        const struct hub_catalog_item *b = &items[j];
        if (starts_with(a->serial_prefix, b->serial_prefix) ||
            starts_with(b->serial_prefix, a->serial_prefix))
            return snprintf(why, len, "serial_prefix overlaps the one of items[%zu]", j) >= 0;
        if (starts_with(a->barcode, b->serial_prefix) || starts_with(b->barcode, a->serial_prefix))
            return snprintf(why, len, "serial_prefix and barcode of items[%zu] overlap", j) >= 0;
    }
    return false;
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
        if (ok && serials_clash(*items, i, why, sizeof(why)))
            ok = false;
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

struct same_walk {
    const struct hub_catalog_item *items;
    size_t n, i;
    bool same;
};

static bool same_item(const struct hub_catalog_item *a, const struct hub_catalog_item *b)
{
    return !strcmp(a->sku, b->sku) && !strcmp(a->barcode, b->barcode) && a->price == b->price &&
           a->unit_weight_g == b->unit_weight_g && a->min_qty == b->min_qty &&
           a->max_qty == b->max_qty && a->reorder_point == b->reorder_point &&
           a->lead_time_days == b->lead_time_days && a->max_stock == b->max_stock &&
           !strcmp(a->serial_prefix, b->serial_prefix);
}

static int same_row(void *arg, const struct hub_catalog_item *it)
{
    struct same_walk *w = arg;
    if (w->i >= w->n || !same_item(&w->items[w->i], it))
        w->same = false;
    w->i++;
    return !w->same;
}

static int by_sku(const void *a, const void *b)
{
    return strcmp(((const struct hub_catalog_item *)a)->sku,
                  ((const struct hub_catalog_item *)b)->sku);
}

/* Whether the stored catalog is items (sorted by sku) already: *version its version. */
static depot_err same_catalog(hub_store *s, struct hub_catalog_item *items, size_t n,
                              long long *version, bool *same)
{
    struct same_walk w = {items, n, 0, true};
    depot_err err = hub_store_catalog_list(s, version, same_row, &w);
    *same = err == DEPOT_OK && w.same && w.i == n && *version > 0;
    return err;
}

/*
 * In one write transaction: a key used before answers as it did (k->found); the same catalog
 * as stored changes nothing (no new version is pushed to the gateways); a dry run checks and
 * writes nothing; else the catalog is replaced and its answer kept under the key.
 */
static depot_err put_tx(hub_store *s, const struct api_request *r, struct api_idem *k,
                        struct hub_catalog_item *items, size_t n, bool dry_run, char **answer)
{
    long long version = 0;
    bool same = false;
    char text[160];
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = api_idem_find(s, r, k);
    if (err == DEPOT_OK && !k->found)
        err = same_catalog(s, items, n, &version, &same);
    if (err == DEPOT_OK && !k->found && !same && !dry_run)
        err = hub_store_catalog_replace(s, items, n, depot_now_ms(), &version);
    if (err == DEPOT_OK && !k->found) {
        snprintf(text, sizeof(text), "{%s\"version\":%lld,\"items\":%zu,\"changed\":%s}",
                 dry_run ? "\"dry_run\":true," : "", dry_run && !same ? version + 1 : version, n,
                 same ? "false" : "true");
        if (!(*answer = depot_strdup(text)))
            err = DEPOT_ERR_NOMEM;
    }
    if (err == DEPOT_OK && *answer && !dry_run)
        err = api_idem_keep(s, r, k, MHD_HTTP_OK, *answer);
    if (err == DEPOT_OK && *answer && !dry_run)
        err = hub_store_commit(s);
    else
        hub_store_rollback(s);
    if (err == DEPOT_OK && *answer && !dry_run && !same)
        LOG_INFO("catalog version %lld set by %s: %zu items", version, r->who->name, n);
    return err;
}

enum MHD_Result api_catalog_put(hub_api *api, const struct api_request *r)
{
    struct hub_catalog_item *items;
    char err_text[ERR_MAX + 32], *answer = NULL;
    const char *dry = api_query(r, "dry_run"), *why = NULL;
    bool dry_run = dry && (!strcmp(dry, "1") || !strcmp(dry, "true"));
    struct api_idem k;
    enum MHD_Result ret;
    size_t n = 0;
    hub_store *s;
    depot_err err;

    if ((dry && !dry_run && strcmp(dry, "0") && strcmp(dry, "false")) ||
        !api_idem_read(r, &k, &why))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              why ? why : "dry_run: 1 or true, 0 or false");
    if (dry_run)
        k.on = false; /* nothing written: no answer to keep or give again */
    if (!parse_catalog(r->body, &items, &n, err_text, sizeof(err_text))) {
        depot_free(items);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, err_text);
    }
    if (n > 1)
        qsort(items, n, sizeof(*items), by_sku);
    s = api_reader_take(api);
    err = put_tx(s, r, &k, items, n, dry_run, &answer);
    api_reader_give(api, s);
    depot_free(items);
    if (err != DEPOT_OK)
        ret = api_send_store_error(api, r, err, "catalog");
    else if (k.found)
        ret = api_idem_answer(api, r, &k);
    else
        ret = api_idem_send(api, r, MHD_HTTP_OK, answer);
    depot_free(answer);
    api_idem_clear(&k);
    return ret;
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
    if (it->serial_prefix[0])
        cJSON_AddStringToObject(o, "serial_prefix", it->serial_prefix);
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
