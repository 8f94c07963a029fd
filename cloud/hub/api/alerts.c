/*
 * API: alerts, and the sales and stock history of one (dealer, SKU).
 *
 *   GET  /api/v1/alerts[?status=&dealer=&kind=&sku=]        viewer    newest first,
 *        [&limit=N][&after=ID]                                         a page (pager.h)
 *   GET  /api/v1/alerts/<id>                                 viewer
 *   POST /api/v1/alerts/<id>/ack                             approver  -> the alert
 *   POST /api/v1/alerts/<id>/resolve                         approver  -> the alert
 *   GET  /api/v1/history?dealer=D&sku=S[&days=30]            viewer
 *
 * Acknowledging and resolving run in their own transaction on the request's
 * store connection (hub_alerts_act); the change is published by the ingest
 * worker from the alert outbox within a moment. 409 when the alert is
 * already resolved; acknowledging an acknowledged alert is a no-op.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "alerts/alerts.h"
#include "api/http.h"
#include "api/pager.h"
#include "api/routes.h"
#include "store/alerts.h"

#define HISTORY_DAYS_MAX 400

/* ---- JSON of an alert ---- */

static cJSON *str_or_null(const char *s)
{
    return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/*
 * An alert as JSON; for a dealer's user (scoped) without what its suggestion
 * says of other dealers: the transfers (their surplus, their distance) are
 * dropped and the action says only how much to replenish.
 */
static cJSON *alert_json(const struct hub_alert_row *a, bool scoped)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *sg = a->suggestion[0] ? cJSON_Parse(a->suggestion) : NULL;
    const cJSON *qty = cJSON_GetObjectItemCaseSensitive(sg, "replenish_qty");
    char action[64];
    if (scoped && sg) {
        cJSON_DeleteItemFromObjectCaseSensitive(sg, "transfers");
        snprintf(action, sizeof(action), "replenish %lld",
                 cJSON_IsNumber(qty) ? (long long)qty->valuedouble : 0LL);
    }
    cJSON_AddNumberToObject(j, "id", (double)a->id);
    cJSON_AddStringToObject(j, "dealer", a->dealer);
    cJSON_AddItemToObject(j, "sku", str_or_null(a->sku));
    cJSON_AddStringToObject(j, "kind", a->kind);
    cJSON_AddItemToObject(j, "subject", str_or_null(a->subject));
    cJSON_AddStringToObject(j, "severity", a->severity);
    cJSON_AddStringToObject(j, "status", a->status);
    cJSON_AddStringToObject(j, "text", a->text);
    cJSON_AddStringToObject(j, "action", scoped && sg ? action : a->action);
    cJSON_AddItemToObject(j, "suggestion", sg ? sg : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "opened_at", api_time_json(a->opened_at));
    cJSON_AddItemToObject(j, "updated_at", api_time_json(a->updated_at));
    cJSON_AddItemToObject(j, "acked_by", str_or_null(a->acked_by));
    cJSON_AddItemToObject(j, "acked_at", api_time_json(a->acked_at));
    cJSON_AddItemToObject(j, "resolved_by", str_or_null(a->resolved_by));
    cJSON_AddItemToObject(j, "resolved_at", api_time_json(a->resolved_at));
    cJSON_AddNumberToObject(j, "count", (double)a->count);
    return j;
}

struct alert_one {
    cJSON *json;
    bool scoped;
};

static int alert_one(void *arg_, const struct hub_alert_row *a)
{
    struct alert_one *o = arg_;
    o->json = alert_json(a, o->scoped);
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

struct alerts_ctx {
    struct hub_alert_filter f;
    bool scoped; /* a dealer's user: alert_json without other dealers */
    long long from, to; /* an export's range of opened_at: [from, to); to 0: no end */
    char text[4][DEPOT_ALERT_KIND_MAX + DEPOT_DEALER_MAX + 1]; /* the filters' own copies */
};

static int page_row(void *arg, const struct hub_alert_row *a)
{
    const struct alerts_ctx *x = ((struct api_pager *)arg)->ctx;
    char key[32];
    snprintf(key, sizeof(key), "%lld", a->id);
    if (!api_export_holds(x->from, x->to, a->opened_at)) {
        api_pager_skip(arg, key);
        return 0;
    }
    return api_pager_row(
        arg, alert_json(a, ((struct alerts_ctx *)((struct api_pager *)arg)->ctx)->scoped), key);
}

/* One page of alerts below the cursor's id (newest first). */
static depot_err alerts_page(struct api_pager *p, hub_store *s, long long want)
{
    struct alerts_ctx *x = p->ctx;
    x->f.limit = want;
    x->f.before = p->cursor[0] ? atoll(p->cursor) : 0;
    return hub_store_alerts_list(s, &x->f, page_row, p);
}

static const char *keep(struct alerts_ctx *x, int i, const char *v)
{
    if (!v)
        return NULL;
    snprintf(x->text[i], sizeof(x->text[i]), "%s", v);
    return x->text[i];
}

enum MHD_Result api_alerts_list(hub_api *api, const struct api_request *r)
{
    struct hub_alert_filter f = {api_query(r, "status"),
                                 api_query(r, "dealer"),
                                 api_query(r, "kind"),
                                 api_query(r, "sku"),
                                 0,
                                 0};
    const char *after = api_query(r, "after");
    long long before = 0;
    struct alerts_ctx *x;

    if (!filter_valid(&f))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "status, kind, dealer or sku is not valid");
    if (after && !api_parse_ll(after, 1, 1LL << 62, &before))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "after is not an alert id (the X-Next-After of the page before)");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    x->f.status = keep(x, 0, f.status); /* the request's text is not kept while it streams */
    x->f.dealer = keep(x, 1, f.dealer);
    x->f.kind = keep(x, 2, f.kind);
    x->f.sku = keep(x, 3, f.sku);
    x->scoped = r->scope != NULL;
    return api_pager_send(api, r, "alerts", alerts_page, x, depot_free, after);
}

/* ---- GET /export/alerts ---- */

static const char *const alert_cols[] = {
    "id",       "dealer",      "sku",         "kind",      "subject",    "severity",
    "status",   "text",        "action",      "opened_at", "updated_at", "acked_by",
    "acked_at", "resolved_by", "resolved_at", "count",     NULL};

/*
 * Every alert opened in [from, to) (either may be left out), newest first, as
 * CSV or JSON Lines; the range is applied to each page the store reads, so
 * the export holds one page in memory however many alerts there are.
 */
enum MHD_Result api_alerts_export(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer");
    long long from_ms, to_ms;
    struct alerts_ctx *x;
    char name[160];
    if (!api_export_range(r, "alerts", &from_ms, &to_ms, name, sizeof(name)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "from or to is not a date, an ISO time or ms (from before to)");
    if (dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not valid");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    x->f.dealer = keep(x, 1, dealer);
    x->scoped = r->scope != NULL;
    x->from = from_ms;
    x->to = to_ms;
    return api_pager_export(api, r, "alerts", alerts_page, x, depot_free, alert_cols, name);
}

enum MHD_Result api_alert_get(hub_api *api, const struct api_request *r)
{
    long long id = atoll(r->arg);
    struct alert_one one = {.scoped = r->scope != NULL};
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_alert_get(s, id, alert_one, &one);
    api_reader_give(api, s);
    if (err == DEPOT_OK && api_scope_hides(r, one.json))
        err = DEPOT_ERR_NOTFOUND; /* another dealer's: as if none */
    if (err != DEPOT_OK) {
        cJSON_Delete(one.json);
        return api_send_store_error(api, r, err, "no such alert");
    }
    return api_send_json(api, r, MHD_HTTP_OK, one.json);
}

/* ---- POST /alerts/<id>/ack|resolve ---- */

static enum MHD_Result post_act(hub_api *api, const struct api_request *r, long long id,
                                bool resolve)
{
    hub_store *s = api_reader_take(api);
    depot_err err = hub_alerts_act(s, api->metrics, id, resolve, r->who->name, depot_now_ms());
    api_reader_give(api, s);
    if (err == DEPOT_ERR_STALE)
        return api_send_error(api, r, MHD_HTTP_CONFLICT, "the alert is already resolved");
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such alert");
    LOG_INFO("alert %lld %s by %s", id, resolve ? "resolved" : "acknowledged", r->who->name);
    return api_alert_get(api, r); /* the alert as it is now (r->arg is its id) */
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
    api_iso8601(date, sizeof(date), day * HUB_DAY_MS); /* "YYYY-MM-DDT..." cut to the date */
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

enum MHD_Result api_history_get(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer"), *sku = api_query(r, "sku"),
               *days_arg = api_query(r, "days");
    long long days = 30, now = depot_now_ms(), today = now / HUB_DAY_MS;
    cJSON *root, *stock, *sales;
    struct day_fill fill;
    hub_store *s;
    depot_err err;

    if (!dealer || !sku || !depot_id_valid(dealer, DEPOT_DEALER_MAX) ||
        !depot_id_valid(sku, DEPOT_SKU_MAX) ||
        (days_arg && !api_parse_ll(days_arg, 1, HISTORY_DAYS_MAX, &days)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "dealer and sku are required ids, days 1..400");
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "dealer", dealer);
    cJSON_AddStringToObject(root, "sku", sku);
    stock = cJSON_AddArrayToObject(root, "stock");
    sales = cJSON_AddArrayToObject(root, "sales");
    fill = (struct day_fill){sales, today - days + 1, today};
    s = api_reader_take(api);
    err = hub_store_history_points(s, dealer, sku, now - days * HUB_DAY_MS, stock_point, stock);
    if (err == DEPOT_OK)
        err = hub_store_history_days(s, dealer, sku, fill.next_day, sales_day, &fill);
    api_reader_give(api, s);
    for (; err == DEPOT_OK && fill.next_day <= fill.last_day; fill.next_day++)
        day_entry(sales, fill.next_day, 0);
    if (err != DEPOT_OK) {
        cJSON_Delete(root);
        return api_send_store_error(api, r, err, "history");
    }
    return api_send_json(api, r, MHD_HTTP_OK, root);
}

enum MHD_Result api_alert_ack(hub_api *api, const struct api_request *r)
{
    return post_act(api, r, atoll(r->arg), false);
}

enum MHD_Result api_alert_resolve(hub_api *api, const struct api_request *r)
{
    return post_act(api, r, atoll(r->arg), true);
}
