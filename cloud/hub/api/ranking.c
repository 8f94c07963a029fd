/*
 * API: the leaderboard, one dealer's KPIs, and the payments import.
 *
 *   GET  /api/v1/ranking[?period=YYYY-MM]           viewer
 *   GET  /api/v1/dealers/<id>/kpis[?period=YYYY-MM] viewer   (404: not on that board)
 *   POST /api/v1/payments/import                    approver {"payments":[{"line","dealer",
 *        "amount","order","ref","date"}, ...]}  all or nothing: 400 {"error","errors":[{"line",
 *        "error"}]} names every refused line and records none
 *
 * The board is computed from the in-memory aggregates (hub_ranking) at each
 * request: normalisation and ranks over every dealer of the period, a few
 * ms for 10,000 dealers. Names and regions come from the dealers' profiles.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/pager.h"
#include "api/idempotency.h"
#include "api/routes.h"
#include "depot/money.h"
#include "orders.h"
#include "ranking/service.h"
#include "webhooks.h"

#define HOW_MAX 2048
#define IMPORT_MAX 10000

void hub_api_set_ranking(hub_api *api, hub_ranking *ranking)
{
    pthread_mutex_lock(&api->lock);
    api->ranking = ranking;
    pthread_mutex_unlock(&api->lock);
}

hub_ranking *hub_api_ranking(hub_api *api)
{
    hub_ranking *rk;
    pthread_mutex_lock(&api->lock);
    rk = api->ranking;
    pthread_mutex_unlock(&api->lock);
    return rk;
}

/* ---- the board as JSON ---- */

static double round6(double v)
{
    return round(v * 1e6) / 1e6;
}

static cJSON *weights_json(const struct hub_rank_params *p)
{
    cJSON *w = cJSON_CreateObject();
    for (int k = 0; k < HUB_KPI__COUNT; k++)
        cJSON_AddNumberToObject(w, hub_kpi_name((enum hub_kpi)k), p->weights[k]);
    return w;
}

static cJSON *tiers_json(const struct hub_rank_params *p)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < p->n_tiers; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "min_score", p->tiers[i].min_score);
        cJSON_AddNumberToObject(t, "rebate_pct", p->tiers[i].pct);
        cJSON_AddItemToArray(a, t);
    }
    return a;
}

static cJSON *kpis_json(const struct hub_rank_entry *e)
{
    cJSON *k = cJSON_CreateObject();
    for (int i = 0; i < HUB_KPI__COUNT; i++) {
        cJSON *one = cJSON_CreateObject();
        if (i == HUB_KPI_SALES)
            cJSON_AddItemToObject(one, "value", api_money_json(e->sales));
        else
            cJSON_AddNumberToObject(one, "value", round6(e->value[i]));
        cJSON_AddNumberToObject(one, "score", round6(e->norm[i]));
        cJSON_AddItemToObject(k, hub_kpi_name((enum hub_kpi)i), one);
    }
    return k;
}

static cJSON *entry_json(hub_store *s, const struct hub_rank_entry *e)
{
    struct hub_dealer_profile prof;
    cJSON *o = cJSON_CreateObject();
    bool has = hub_store_profile_get(s, e->dealer, &prof) == DEPOT_OK;
    cJSON_AddNumberToObject(o, "rank", (double)e->rank);
    cJSON_AddStringToObject(o, "dealer", e->dealer);
    cJSON_AddStringToObject(o, "name", has ? prof.name : "");
    cJSON_AddStringToObject(o, "region", has ? prof.region : "");
    cJSON_AddNumberToObject(o, "score", round6(e->score));
    cJSON_AddItemToObject(o, "movement",
                          e->has_movement ? cJSON_CreateNumber((double)e->movement)
                                          : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "rebate_pct", e->rebate_pct);
    cJSON_AddItemToObject(o, "rebate", api_money_json(e->rebate));
    cJSON_AddItemToObject(o, "kpis", kpis_json(e));
    return o;
}

static cJSON *board_head(const struct hub_rank_board *b)
{
    char period[HUB_PERIOD_TEXT];
    cJSON *root = cJSON_CreateObject();
    hub_period_text(b->period, period);
    cJSON_AddStringToObject(root, "period", period);
    cJSON_AddItemToObject(root, "as_of", api_time_json(b->now));
    cJSON_AddItemToObject(root, "weights", weights_json(&b->params));
    cJSON_AddItemToObject(root, "tiers", tiers_json(&b->params));
    return root;
}

/* The period argument (default: the current month); false after answering 400. */
static bool period_arg(hub_api *api, const struct api_request *r, long long now, int *period,
                       enum MHD_Result *ret)
{
    const char *v = api_query(r, "period");
    *period = hub_period_of(now);
    if (!v || hub_period_parse(v, period))
        return true;
    *ret = api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "period must be YYYY-MM");
    return false;
}

/* Computes the board of the request's period; false after answering. */
static bool board_for(hub_api *api, const struct api_request *r, struct hub_rank_board *b,
                      enum MHD_Result *ret)
{
    hub_ranking *rk = hub_api_ranking(api);
    long long now = depot_now_ms();
    int period;
    if (!rk) {
        *ret = api_send_error(api, r, MHD_HTTP_SERVICE_UNAVAILABLE, "ranking not running");
        return false;
    }
    if (!period_arg(api, r, now, &period, ret))
        return false;
    if (hub_ranking_compute(rk, period, now, b) != DEPOT_OK) {
        *ret = api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return false;
    }
    return true;
}

enum MHD_Result api_ranking_get(hub_api *api, const struct api_request *r)
{
    struct hub_rank_board b;
    enum MHD_Result ret;
    cJSON *root, *list;
    hub_store *s;
    if (!board_for(api, r, &b, &ret))
        return ret;
    root = board_head(&b);
    list = cJSON_AddArrayToObject(root, "dealers");
    s = api_reader_take(api);
    for (size_t i = 0; i < b.n; i++)
        cJSON_AddItemToArray(list, entry_json(s, &b.e[i]));
    api_reader_give(api, s);
    hub_rank_board_clear(&b);
    return api_send_json(api, r, MHD_HTTP_OK, root);
}

static const char *const ranking_cols[] = {"period", "rank",  "dealer",   "name",
                                           "region", "score", "movement", "rebate_pct",
                                           "rebate", "kpis",  NULL};

/*
 * The board of ?period= (default: the current month) as CSV or JSON Lines, one row per dealer
 * with the period on each; the KPIs as one JSON column in CSV. A date range does not apply (a
 * board is a period's): from or to is a 400. One row per dealer: made whole, then written.
 */
enum MHD_Result api_ranking_export(hub_api *api, const struct api_request *r)
{
    struct hub_rank_board b;
    enum MHD_Result ret;
    char period[HUB_PERIOD_TEXT], name[64];
    cJSON *rows;
    hub_store *s;
    if (api_query(r, "from") || api_query(r, "to"))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "a ranking is a period's: period=YYYY-MM, not from or to");
    if (!board_for(api, r, &b, &ret))
        return ret;
    hub_period_text(b.period, period);
    snprintf(name, sizeof(name), "ranking-%s", period);
    rows = cJSON_CreateArray();
    s = api_reader_take(api);
    for (size_t i = 0; rows && i < b.n; i++) {
        cJSON *o = entry_json(s, &b.e[i]);
        cJSON_AddStringToObject(o, "period", period);
        cJSON_AddItemToArray(rows, o);
    }
    api_reader_give(api, s);
    hub_rank_board_clear(&b);
    if (!rows)
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return api_pager_export_rows(api, r, "ranking", rows, ranking_cols, name);
}

static cJSON *figures_json(const struct hub_rank_entry *e)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(f, "sales", api_money_json(e->sales));
    cJSON_AddItemToObject(f, "invoiced", api_money_json(e->invoiced));
    cJSON_AddItemToObject(f, "paid", api_money_json(e->paid));
    cJSON_AddNumberToObject(f, "orders", (double)e->orders);
    cJSON_AddNumberToObject(f, "defective_orders", (double)e->defective);
    cJSON_AddNumberToObject(f, "skus_sold", (double)e->skus_sold);
    cJSON_AddNumberToObject(f, "catalog_size", (double)e->catalog_size);
    cJSON_AddNumberToObject(f, "online_s", (double)(e->online_ms / 1000));
    cJSON_AddNumberToObject(f, "elapsed_s", (double)(e->elapsed_ms / 1000));
    return f;
}

enum MHD_Result api_dealer_kpis(hub_api *api, const struct api_request *r)
{
    const char *dealer = r->arg;
    struct hub_rank_board b;
    const struct hub_rank_entry *e;
    enum MHD_Result ret;
    char *how;
    cJSON *root, *one;
    hub_store *s;
    if (!board_for(api, r, &b, &ret))
        return ret;
    e = hub_rank_board_find(&b, dealer);
    how = depot_malloc(HOW_MAX);
    if (!e || !how) {
        depot_free(how);
        hub_rank_board_clear(&b);
        return api_send_error(api, r, e ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND,
                              e ? "out of memory" : "the dealer has nothing in that period");
    }
    root = board_head(&b);
    cJSON_AddNumberToObject(root, "of", (double)b.n);
    s = api_reader_take(api);
    one = entry_json(s, e);
    api_reader_give(api, s);
    for (cJSON *it = one->child; it;) {
        cJSON *next = it->next;
        cJSON_AddItemToObject(root, it->string, cJSON_DetachItemViaPointer(one, it));
        it = next;
    }
    cJSON_Delete(one);
    cJSON_AddItemToObject(root, "figures", figures_json(e));
    hub_rank_how(&b, e, how, HOW_MAX);
    cJSON_AddStringToObject(root, "how", how);
    depot_free(how);
    hub_rank_board_clear(&b);
    return api_send_json(api, r, MHD_HTTP_OK, root);
}

/* ---- POST /api/v1/payments/import ---- */

struct import_line {
    long long line, amount, at;
    char dealer[DEPOT_DEALER_MAX + 1];
    char order[DEPOT_ORDER_ID_MAX + 1];
    char ref[HUB_REF_MAX + 1];
    bool bad; /* refused as written: not checked against the store */
};

/* "YYYY-MM-DD" -> ms at 00:00 UTC; "" -> now. */
static bool parse_date(const char *v, long long now, long long *at)
{
    struct tm tm = {0};
    int y, m, d;
    char tail;
    if (!*v) {
        *at = now;
        return true;
    }
    if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
        d < 1 || d > 31 || y < 1970)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *at = (long long)timegm(&tm) * 1000;
    return tm.tm_mday == d; /* timegm normalised 2026-02-30: not a date */
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : v ? NULL : "";
}

/* One item of the import; NULL if fine, else why. */
static const char *import_parse(const cJSON *o, long long now, struct import_line *l)
{
    const cJSON *line = cJSON_GetObjectItemCaseSensitive(o, "line");
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(o, "amount");
    const char *dealer = str_member(o, "dealer"), *order = str_member(o, "order");
    const char *ref = str_member(o, "ref"), *date = str_member(o, "date");
    memset(l, 0, sizeof(*l));
    l->line = cJSON_IsNumber(line) ? (long long)line->valuedouble : 0;
    if (!dealer || !depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return "dealer: not a dealer id";
    if (!((cJSON_IsString(amount) && depot_money_parse(amount->valuestring, &l->amount)) ||
          (cJSON_IsNumber(amount) && depot_money_from_double(amount->valuedouble, &l->amount))) ||
        l->amount <= 0)
        return "amount: not an amount above 0 with at most 2 decimals";
    if (!order || (*order && !depot_id_valid(order, DEPOT_ORDER_ID_MAX)))
        return "order: not an order id";
    if (!ref || strlen(ref) > HUB_REF_MAX)
        return "ref: not a text of at most 128 characters";
    if (!date || !parse_date(date, now, &l->at))
        return "date: not a date YYYY-MM-DD";
    snprintf(l->dealer, sizeof(l->dealer), "%s", dealer);
    snprintf(l->order, sizeof(l->order), "%s", order);
    snprintf(l->ref, sizeof(l->ref), "%s", ref);
    return NULL;
}

static int heard_cb(void *arg, const struct hub_dealer_row *row)
{
    (void)row;
    *(bool *)arg = true;
    return 0;
}

/* The dealer must be known; a named order must be that dealer's. NULL if fine. */
static const char *import_refs(hub_store *s, const struct import_line *l, depot_err *err)
{
    struct hub_dealer_profile prof;
    struct hub_order o;
    bool heard = false;
    *err = hub_store_profile_get(s, l->dealer, &prof);
    if (*err == DEPOT_ERR_NOTFOUND)
        *err = hub_store_dealer_get(s, l->dealer, heard_cb, &heard);
    if (*err == DEPOT_ERR_NOTFOUND) {
        *err = DEPOT_OK;
        return "no such dealer";
    }
    if (*err != DEPOT_OK || !l->order[0])
        return NULL;
    *err = hub_store_order_get(s, l->order, &o);
    if (*err == DEPOT_ERR_NOTFOUND) {
        *err = DEPOT_OK;
        return "no such order";
    }
    return *err == DEPOT_OK && strcmp(o.dealer, l->dealer) ? "the order is another dealer's" : NULL;
}

static void refuse(cJSON *errors, long long line, const char *why)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "line", (double)line);
    cJSON_AddStringToObject(e, "error", why);
    cJSON_AddItemToArray(errors, e);
}

static depot_err import_record(hub_store *s, hub_ranking *rk, const struct import_line *l,
                               const char *actor)
{
    char text[200], amount[DEPOT_MONEY_TEXT];
    long long id;
    depot_err err =
        hub_store_payment_add(s, l->dealer, l->amount, l->order, l->ref, actor, l->at, &id);
    depot_money_format(l->amount, amount, sizeof(amount));
    snprintf(text, sizeof(text), "%s%s%s (import)", amount, l->ref[0] ? " ref " : "", l->ref);
    if (err == DEPOT_OK)
        err = hub_audit(s, l->order, l->dealer, actor, "payment", "", text, l->at);
    if (err == DEPOT_OK)
        err = hub_webhook_payment(s, id, l->dealer, l->amount, l->order, l->ref, l->at);
    return err == DEPOT_OK ? hub_ranking_note_payment(rk, s, l->dealer, l->at, l->amount) : err;
}

/*
 * Checks and records every line in one transaction; any refusal rolls all
 * back, and so does a dry run (every line checked, nothing written). With an
 * Idempotency-Key the answer is kept in the transaction; a key used before
 * records nothing (k->found).
 */
static depot_err import_all(hub_store *s, hub_ranking *rk, const struct import_line *lines,
                            size_t n, const struct api_request *r, struct api_idem *k, bool dry_run,
                            cJSON *errors, char **answer)
{
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = api_idem_find(s, r, k);
    for (size_t i = 0; err == DEPOT_OK && !k->found && i < n; i++) {
        const char *why = lines[i].bad ? NULL : import_refs(s, &lines[i], &err);
        if (why)
            refuse(errors, lines[i].line, why);
        else if (err == DEPOT_OK && cJSON_GetArraySize(errors) == 0 && !dry_run)
            err = import_record(s, rk, &lines[i], r->who->name);
    }
    if (err == DEPOT_OK && !k->found && cJSON_GetArraySize(errors) == 0) {
        char text[96];
        snprintf(text, sizeof(text),
                 dry_run ? "{\"dry_run\":true,\"would_import\":%zu}" : "{\"imported\":%zu}", n);
        if (!(*answer = depot_strdup(text)))
            err = DEPOT_ERR_NOMEM;
    }
    if (err == DEPOT_OK && *answer && !dry_run)
        err = api_idem_keep(s, r, k, MHD_HTTP_OK, *answer);
    if (err == DEPOT_OK && *answer && !dry_run)
        err = hub_store_commit(s);
    else
        hub_store_rollback(s);
    return err;
}

/* Parses the body into *lines (every bad item named in errors). */
static bool import_lines(const char *body, cJSON *errors, struct import_line **lines, size_t *n)
{
    cJSON *root = cJSON_Parse(body), *items = cJSON_GetObjectItemCaseSensitive(root, "payments");
    long long now = depot_now_ms();
    const cJSON *it;
    int count = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1;
    *n = 0;
    *lines = count > 0 && count <= IMPORT_MAX ? depot_calloc((size_t)count, sizeof(**lines)) : NULL;
    if (!*lines) {
        cJSON_Delete(root);
        return false;
    }
    cJSON_ArrayForEach(it, items)
    {
        const char *why = import_parse(it, now, &(*lines)[*n]);
        (*lines)[*n].bad = why != NULL;
        if (why)
            refuse(errors, (*lines)[*n].line ? (*lines)[*n].line : (long long)*n + 2, why);
        (*n)++;
    }
    cJSON_Delete(root);
    return true;
}

static enum MHD_Result import_refused(hub_api *api, const struct api_request *r, cJSON *errors)
{
    cJSON *root = cJSON_CreateObject();
    char msg[64];
    snprintf(msg, sizeof(msg), "%d lines refused: nothing imported", cJSON_GetArraySize(errors));
    cJSON_AddStringToObject(root, "error", msg);
    cJSON_AddItemToObject(root, "errors", errors);
    return api_send_json(api, r, MHD_HTTP_BAD_REQUEST, root);
}

enum MHD_Result api_payments_import(hub_api *api, const struct api_request *r)
{
    cJSON *errors = cJSON_CreateArray();
    struct import_line *lines = NULL;
    const char *dry = api_query(r, "dry_run"), *why = NULL;
    bool dry_run = dry && (!strcmp(dry, "1") || !strcmp(dry, "true"));
    struct api_idem k;
    char *answer = NULL;
    enum MHD_Result ret;
    size_t n = 0;
    hub_store *s;
    depot_err err = DEPOT_OK;

    if ((dry && !dry_run && strcmp(dry, "0") && strcmp(dry, "false")) ||
        !api_idem_read(r, &k, &why)) {
        cJSON_Delete(errors);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              why ? why : "dry_run: 1 or true, 0 or false");
    }
    if (dry_run)
        k.on = false; /* a dry run writes nothing: there is no answer to keep or give again */
    if (!import_lines(r->body, errors, &lines, &n)) {
        cJSON_Delete(errors);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "the body must be {\"payments\":[...]} with 1..10000 items");
    }
    { /* every line is checked against the store too, so a dry run names every bad one */
        s = api_reader_take(api);
        err = import_all(s, hub_api_ranking(api), lines, n, r, &k, dry_run, errors, &answer);
        api_reader_give(api, s);
    }
    depot_free(lines);
    if (err != DEPOT_OK)
        ret = api_send_store_error(api, r, err, "import failed");
    else if (k.found)
        ret = api_idem_answer(api, r, &k);
    else if (cJSON_GetArraySize(errors) > 0) {
        ret = import_refused(api, r, errors);
        errors = NULL;
    } else {
        LOG_INFO("payments import: %zu payments %s by %s", n,
                 dry_run ? "checked (dry run, nothing written)" : "recorded", r->who->name);
        ret = api_idem_send(api, r, MHD_HTTP_OK, answer);
    }
    cJSON_Delete(errors);
    depot_free(answer);
    api_idem_clear(&k);
    return ret;
}

/* ---- routing ---- */
