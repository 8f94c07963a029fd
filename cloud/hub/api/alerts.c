/*
 * API: alerts, sales and stock history, and the extra fields of GET /stock.
 *
 *   GET  /api/v1/alerts[?status=&dealer=&kind=&sku=&limit=]  viewer    newest first
 *   GET  /api/v1/alerts/<id>                                 viewer
 *   POST /api/v1/alerts/<id>/ack                             approver  -> the alert
 *   POST /api/v1/alerts/<id>/resolve                         approver  -> the alert
 *   GET  /api/v1/history?dealer=D&sku=S[&days=30]            viewer
 *
 * Acknowledging and resolving run in their own transaction on the request's
 * store connection (hub_alerts_act); the change is published by the ingest
 * worker from the alert outbox within a moment. 409 when the alert is
 * already resolved; acknowledging an acknowledged alert is a no-op.
 *
 * For GET /stock (hub_api.c), stock_extra holds what the rows do not carry:
 * each dealer's region (from the profiles) and the units picked per
 * (dealer, sku) over [alerts] velocity_days, loaded once per request in two
 * queries (no query per row).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "alerts/alerts.h"
#include "api/http.h"
#include "store/alerts.h"

#define LIST_DEFAULT 1000
#define LIST_MAX 100000
#define HISTORY_DAYS_MAX 400

static const char *arg(const struct api_request *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

static bool parse_ll(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    long long n;
    if (!v)
        return false;
    n = strtoll(v, &end, 10);
    if (end == v || *end || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* ---- JSON of an alert ---- */

static cJSON *str_or_null(const char *s)
{
    return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *alert_json(const struct hub_alert_row *a)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *sg = a->suggestion[0] ? cJSON_Parse(a->suggestion) : NULL;
    cJSON_AddNumberToObject(j, "id", (double)a->id);
    cJSON_AddStringToObject(j, "dealer", a->dealer);
    cJSON_AddItemToObject(j, "sku", str_or_null(a->sku));
    cJSON_AddStringToObject(j, "kind", a->kind);
    cJSON_AddItemToObject(j, "subject", str_or_null(a->subject));
    cJSON_AddStringToObject(j, "severity", a->severity);
    cJSON_AddStringToObject(j, "status", a->status);
    cJSON_AddStringToObject(j, "text", a->text);
    cJSON_AddStringToObject(j, "action", a->action);
    cJSON_AddItemToObject(j, "suggestion", sg ? sg : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "opened_at", time_json(a->opened_at));
    cJSON_AddItemToObject(j, "updated_at", time_json(a->updated_at));
    cJSON_AddItemToObject(j, "acked_by", str_or_null(a->acked_by));
    cJSON_AddItemToObject(j, "acked_at", time_json(a->acked_at));
    cJSON_AddItemToObject(j, "resolved_by", str_or_null(a->resolved_by));
    cJSON_AddItemToObject(j, "resolved_at", time_json(a->resolved_at));
    cJSON_AddNumberToObject(j, "count", (double)a->count);
    return j;
}

static int alert_row(void *arg_, const struct hub_alert_row *a)
{
    cJSON_AddItemToArray(arg_, alert_json(a));
    return 0;
}

static int alert_one(void *arg_, const struct hub_alert_row *a)
{
    *(cJSON **)arg_ = alert_json(a);
    return 0;
}

/* ---- GET /alerts ---- */

static bool filter_valid(const struct hub_alert_filter *f)
{
    static const char *const statuses[] = {"open", "acknowledged", "resolved"};
    bool status_ok = !f->status;
    for (int i = 0; i < 3 && !status_ok; i++)
        status_ok = !strcmp(f->status, statuses[i]);
    return status_ok && (!f->kind || hub_alert_kind_from_name(f->kind) >= 0) &&
           (!f->dealer || depot_id_valid(f->dealer, DEPOT_DEALER_MAX)) &&
           (!f->sku || depot_id_valid(f->sku, DEPOT_SKU_MAX));
}

static enum MHD_Result get_alerts(hub_api *api, const struct api_request *r)
{
    struct hub_alert_filter f = {arg(r, "status"), arg(r, "dealer"), arg(r, "kind"), arg(r, "sku"),
                                 LIST_DEFAULT};
    const char *limit = arg(r, "limit");
    cJSON *list;
    hub_store *s;
    depot_err err;

    if (!filter_valid(&f) || (limit && !parse_ll(limit, 1, LIST_MAX, &f.limit)))
        return send_error(api, r->c, MHD_HTTP_BAD_REQUEST,
                          "status, kind, dealer, sku or limit is not valid");
    list = cJSON_CreateArray();
    s = reader_take(api);
    err = hub_store_alerts_list(s, &f, alert_row, list);
    reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(list);
        return send_store_error(api, r->c, err, "alerts");
    }
    return send_json(api, r->c, MHD_HTTP_OK, list);
}

static enum MHD_Result get_alert(hub_api *api, const struct api_request *r, long long id)
{
    cJSON *one = NULL;
    hub_store *s = reader_take(api);
    depot_err err = hub_store_alert_get(s, id, alert_one, &one);
    reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(one);
        return send_store_error(api, r->c, err, "no such alert");
    }
    return send_json(api, r->c, MHD_HTTP_OK, one);
}

/* ---- POST /alerts/<id>/ack|resolve ---- */

static enum MHD_Result post_act(hub_api *api, const struct api_request *r, long long id,
                                bool resolve)
{
    enum MHD_Result ret;
    hub_store *s;
    depot_err err;
    if (!need_role(api, r, HUB_ROLE_APPROVER, &ret))
        return ret;
    s = reader_take(api);
    err = hub_alerts_act(s, api->metrics, id, resolve, r->who->name, depot_now_ms());
    reader_give(api, s);
    if (err == DEPOT_ERR_STALE)
        return send_error(api, r->c, MHD_HTTP_CONFLICT, "the alert is already resolved");
    if (err != DEPOT_OK)
        return send_store_error(api, r->c, err, "no such alert");
    LOG_INFO("alert %lld %s by %s", id, resolve ? "resolved" : "acknowledged", r->who->name);
    return get_alert(api, r, id);
}

/* alerts/<id>[/ack|/resolve] */
static enum MHD_Result route_alert(hub_api *api, const struct api_request *r)
{
    const char *p = r->path + 7;
    char *end;
    long long id = strtoll(p, &end, 10);
    bool get = !strcmp(r->method, MHD_HTTP_METHOD_GET);
    bool post = !strcmp(r->method, MHD_HTTP_METHOD_POST);
    if (end == p || id <= 0 || (*end && *end != '/'))
        return send_error(api, r->c, MHD_HTTP_NOT_FOUND, "no such alert");
    if (!*end)
        return get ? get_alert(api, r, id)
                   : send_error(api, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here");
    if (strcmp(end, "/ack") && strcmp(end, "/resolve"))
        return send_error(api, r->c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    if (!post)
        return send_error(api, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST is served here");
    return post_act(api, r, id, end[1] == 'r');
}

/* ---- GET /history ---- */

struct day_fill {
    cJSON *sales;
    long long next_day, last_day;
};

static void day_entry(cJSON *sales, long long day, long long units)
{
    char date[40];
    cJSON *pair = cJSON_CreateArray();
    iso8601(date, sizeof(date), day * HUB_DAY_MS); /* "YYYY-MM-DDT..." cut to the date */
    date[10] = '\0';
    cJSON_AddItemToArray(pair, cJSON_CreateString(date));
    cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)units));
    cJSON_AddItemToArray(sales, pair);
}

static int sales_day(void *arg_, const struct hub_day_row *d)
{
    struct day_fill *f = arg_;
    for (; f->next_day < d->day && f->next_day <= f->last_day; f->next_day++)
        day_entry(f->sales, f->next_day, 0);
    if (d->day <= f->last_day)
        day_entry(f->sales, d->day, d->picked);
    f->next_day = d->day + 1;
    return 0;
}

static int stock_point(void *arg_, long long ts, long long qty)
{
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)ts));
    cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)qty));
    cJSON_AddItemToArray(arg_, pair);
    return 0;
}

static enum MHD_Result get_history(hub_api *api, const struct api_request *r)
{
    const char *dealer = arg(r, "dealer"), *sku = arg(r, "sku"), *days_arg = arg(r, "days");
    long long days = 30, now = depot_now_ms(), today = now / HUB_DAY_MS;
    cJSON *root, *stock, *sales;
    struct day_fill fill;
    hub_store *s;
    depot_err err;

    if (!dealer || !sku || !depot_id_valid(dealer, DEPOT_DEALER_MAX) ||
        !depot_id_valid(sku, DEPOT_SKU_MAX) ||
        (days_arg && !parse_ll(days_arg, 1, HISTORY_DAYS_MAX, &days)))
        return send_error(api, r->c, MHD_HTTP_BAD_REQUEST,
                          "dealer and sku are required ids, days 1..400");
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "dealer", dealer);
    cJSON_AddStringToObject(root, "sku", sku);
    stock = cJSON_AddArrayToObject(root, "stock");
    sales = cJSON_AddArrayToObject(root, "sales");
    fill = (struct day_fill){sales, today - days + 1, today};
    s = reader_take(api);
    err = hub_store_history_points(s, dealer, sku, now - days * HUB_DAY_MS, stock_point, stock);
    if (err == DEPOT_OK)
        err = hub_store_history_days(s, dealer, sku, fill.next_day, sales_day, &fill);
    reader_give(api, s);
    for (; err == DEPOT_OK && fill.next_day <= fill.last_day; fill.next_day++)
        day_entry(sales, fill.next_day, 0);
    if (err != DEPOT_OK) {
        cJSON_Delete(root);
        return send_store_error(api, r->c, err, "history");
    }
    return send_json(api, r->c, MHD_HTTP_OK, root);
}

enum MHD_Result hub_api_alerts_route(hub_api *api, const struct api_request *r, bool *handled)
{
    bool get = !strcmp(r->method, MHD_HTTP_METHOD_GET);
    *handled = true;
    if (!strcmp(r->path, "alerts") || !strcmp(r->path, "history"))
        return !get ? send_error(api, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here")
               : r->path[0] == 'a' ? get_alerts(api, r)
                                   : get_history(api, r);
    if (!strncmp(r->path, "alerts/", 7))
        return route_alert(api, r);
    *handled = false;
    return MHD_NO;
}

/* ---- the extra fields of GET /stock ---- */

#define PAIR_KEY_MAX (DEPOT_DEALER_MAX + DEPOT_SKU_MAX + 2)

struct vel_ent {
    UT_hash_handle hh;
    long long picked;
    size_t key_len;
    char key[PAIR_KEY_MAX]; /* dealer NUL sku */
};

struct region_ent {
    char dealer[DEPOT_DEALER_MAX + 1];
    char region[HUB_REGION_MAX + 1];
};

struct stock_extra {
    long long since;
    const char *region;
    long velocity_days;
    struct vel_ent *picked; /* uthash by (dealer, sku) */
    struct region_ent *regions;
    size_t n_regions, cap_regions;
    bool nomem;
};


/* "dealer\0sku" into key (PAIR_KEY_MAX bytes); its length. */
static size_t pair_key(char key[PAIR_KEY_MAX], const char *dealer, const char *sku)
{
    size_t dl = strnlen(dealer, DEPOT_DEALER_MAX), sl = strnlen(sku, DEPOT_SKU_MAX);
    memcpy(key, dealer, dl);
    key[dl] = '\0';
    memcpy(key + dl + 1, sku, sl);
    key[dl + 1 + sl] = '\0';
    return dl + 1 + sl;
}

static int add_velocity(void *arg_, const char *dealer, const char *sku, long long sum)
{
    struct stock_extra *x = arg_;
    struct vel_ent *e = depot_malloc(sizeof(*e));
    if (!e)
        return x->nomem = true;
    e->picked = sum;
    e->key_len = pair_key(e->key, dealer, sku);
    HASH_ADD_KEYPTR(hh, x->picked, e->key, e->key_len, e);
    if (!DEPOT_HASH_ADDED(e)) {
        depot_free(e);
        return x->nomem = true;
    }
    return 0;
}

static int add_region(void *arg_, const struct hub_dealer_place *p)
{
    struct stock_extra *x = arg_;
    if (x->n_regions == x->cap_regions) {
        size_t cap = x->cap_regions ? x->cap_regions * 2 : 256;
        struct region_ent *r = depot_realloc(x->regions, cap * sizeof(*r));
        if (!r)
            return x->nomem = true;
        x->regions = r;
        x->cap_regions = cap;
    }
    snprintf(x->regions[x->n_regions].dealer, sizeof(x->regions->dealer), "%s", p->dealer);
    snprintf(x->regions[x->n_regions].region, sizeof(x->regions->region), "%s", p->region);
    x->n_regions++;
    return 0;
}

void stock_extra_free(struct stock_extra *x)
{
    if (!x)
        return;
    struct vel_ent *e, *tmp;
    HASH_ITER(hh, x->picked, e, tmp) {
        HASH_DEL(x->picked, e);
        depot_free(e);
    }
    depot_free(x->regions);
    depot_free(x);
}

enum MHD_Result stock_extra_new(hub_api *api, struct MHD_Connection *c, hub_store *s,
                                struct stock_extra **out)
{
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    const char *region = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "region");
    struct stock_extra *x = depot_calloc(1, sizeof(*x));
    long long today = depot_now_ms() / HUB_DAY_MS;
    depot_err err;
    *out = NULL;
    if (!x)
        return send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    x->velocity_days = api->cfg->alert_velocity_days;
    x->region = region && *region ? region : NULL;
    if (since && *since && !parse_ll(since, 0, 1LL << 53, &x->since)) {
        stock_extra_free(x);
        return send_error(api, c, MHD_HTTP_BAD_REQUEST, "since is not a time in ms");
    }
    err = hub_store_picked_sums(s, today - x->velocity_days + 1, today, add_velocity, x);
    if (err == DEPOT_OK)
        err = hub_store_dealer_places(s, add_region, x); /* ordered by dealer id */
    if (err != DEPOT_OK || x->nomem) {
        stock_extra_free(x);
        return send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          depot_strerror(err != DEPOT_OK ? err : DEPOT_ERR_NOMEM));
    }
    *out = x;
    return MHD_YES;
}

static const char *region_of(const struct stock_extra *x, const char *dealer)
{
    size_t lo = 0, hi = x->n_regions;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(x->regions[mid].dealer, dealer);
        if (!cmp)
            return x->regions[mid].region;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static long long picked_of(const struct stock_extra *x, const char *dealer, const char *sku)
{
    char key[PAIR_KEY_MAX];
    size_t len = pair_key(key, dealer, sku);
    const struct vel_ent *e;
    HASH_FIND(hh, x->picked, key, len, e);
    return e ? e->picked : 0;
}

bool stock_extra_keep(const struct stock_extra *x, const struct hub_stock_row *r)
{
    const char *region;
    if (x->since && r->received_at <= x->since)
        return false;
    if (!x->region)
        return true;
    region = region_of(x, r->dealer);
    return region && !strcmp(region, x->region);
}

void stock_extra_fields(const struct stock_extra *x, struct body *b, const struct hub_stock_row *r)
{
    double v = (double)picked_of(x, r->dealer, r->sku) / (double)x->velocity_days;
    const char *region = region_of(x, r->dealer);
    if (v > 0)
        body_printf(b, ",\"velocity\":%.3f,\"days_of_cover\":%.1f", v,
                    (double)(r->qty > 0 ? r->qty : 0) / v);
    else
        body_str(b, ",\"velocity\":0,\"days_of_cover\":null");
    body_str(b, ",\"region\":");
    if (region)
        body_json_string(b, region);
    else
        body_str(b, "null");
    body_str(b, ",\"received_at\":");
    body_int(b, r->received_at);
}
