/*
 * API: rebate statements and their disputes (statements.h, store/statements.h).
 *
 *   POST /api/v1/statements/close          admin   {"period":"YYYY-MM"} a period that has
 *                                                  ended: freezes a statement for every
 *                                                  dealer on its board; again: 200, the ones
 *                                                  there stay -> {"period","created","existing",
 *                                                  "statements":[{"id","dealer",...}]}
 *   GET  /api/v1/statements[?dealer=D][&period=P] viewer  (a dealer's user: its own)
 *   GET  /api/v1/statements/<id>           viewer  {"id","dealer","period","created_at",
 *                                                  "content" (the signed text), "sig", "cert",
 *                                                  "statement" (content parsed), "disputes"}
 *   GET  /api/v1/statements/<id>/csv       viewer  text/csv, one row per line
 *   GET  /api/v1/statements/<id>/pdf       viewer  application/pdf
 *   POST /api/v1/statements/<id>/disputes  the statement's dealer's user {"line","text"} -> 201
 *   POST /api/v1/statements/<id>/answer    admin   {"dispute": n, "text"} -> 200; answered
 *                                                  once (409 after)
 *
 * Another dealer's statement is a 404 to a dealer's user, as if none.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/pager.h"
#include "api/routes.h"
#include "ranking/engine.h"
#include "statements.h"

#define WHY_MAX 160

static cJSON *summary_json(const struct hub_statement *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)st->id);
    cJSON_AddStringToObject(o, "dealer", st->dealer);
    cJSON_AddStringToObject(o, "period", st->period);
    cJSON_AddItemToObject(o, "created_at", api_time_json(st->created_at));
    return o;
}

/* The frozen headline figures of a statement a list gives. */
static const char *const headline[] = {"rank", "of", "score", "rebate_pct", "rebate", "sales"};

/* ---- POST /statements/close ---- */

struct close_list {
    cJSON *list;
};

static int close_row(void *arg, const struct hub_statement *st)
{
    struct close_list *x = arg;
    cJSON_AddItemToArray(x->list, summary_json(st));
    return 0;
}

static bool parse_period(const char *body, int *period, char text[HUB_PERIOD_TEXT])
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "period");
    bool ok = cJSON_IsObject(j) && cJSON_GetArraySize(j) == 1 && cJSON_IsString(p) &&
              strlen(p->valuestring) == HUB_PERIOD_TEXT - 1 &&
              hub_period_parse(p->valuestring, period);
    if (ok)
        snprintf(text, HUB_PERIOD_TEXT, "%s", p->valuestring);
    cJSON_Delete(j);
    return ok;
}

static enum MHD_Result close_refused(hub_api *api, const struct api_request *r, unsigned status,
                                     const char *why)
{
    hub_metrics_add(api->metrics, HUB_C_STATEMENTS_REFUSED, 1);
    LOG_WARN("statements: close refused (%s): %s", r->who->name, why);
    return api_send_error(api, r, status, why);
}

enum MHD_Result api_statements_close(hub_api *api, const struct api_request *r)
{
    hub_ranking *rk = hub_api_ranking(api);
    struct hub_close_result res;
    struct close_list x;
    char period[HUB_PERIOD_TEXT];
    int p = 0;
    cJSON *out;
    hub_store *s;
    depot_err err;
    if (!parse_period(r->body, &p, period))
        return close_refused(api, r, MHD_HTTP_BAD_REQUEST,
                             "the body must be {\"period\":\"YYYY-MM\"}");
    if (!rk)
        return api_send_error(api, r, MHD_HTTP_SERVICE_UNAVAILABLE, "ranking not running");
    s = api_reader_take(api);
    err = hub_statements_close(api->statements, rk, s, p, depot_now_ms(), &res);
    x.list = cJSON_CreateArray();
    if (err == DEPOT_OK)
        err = hub_store_statements_list(s, NULL, period, close_row, &x);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        cJSON_Delete(x.list);
    if (err == DEPOT_ERR_INVAL)
        return close_refused(api, r, MHD_HTTP_CONFLICT, "the period has not ended yet");
    if (err == DEPOT_ERR_CONFIG)
        return close_refused(api, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                             "the hub has no key to sign statements ([mqtt] key, cert)");
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "");
    hub_metrics_add(api->metrics, HUB_C_STATEMENTS_FROZEN, res.created);
    LOG_INFO("statements: %s closed by %s: %zu made, %zu already there", period, r->who->name,
             res.created, res.existing);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "period", period);
    cJSON_AddNumberToObject(out, "created", (double)res.created);
    cJSON_AddNumberToObject(out, "existing", (double)res.existing);
    cJSON_AddItemToObject(out, "statements", x.list);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- GET /statements ---- */

struct list_ctx {
    cJSON *list;
    hub_store *s;
};

static int list_row(void *arg, const struct hub_statement *st)
{
    struct list_ctx *x = arg;
    cJSON_AddItemToArray(x->list, summary_json(st));
    return 0;
}

static int full_row(void *arg, const struct hub_statement *st)
{
    cJSON **doc = arg;
    cJSON *o = summary_json(st), *parsed = cJSON_Parse(st->content);
    cJSON_AddStringToObject(o, "content", st->content);
    cJSON_AddStringToObject(o, "sig", st->sig);
    cJSON_AddStringToObject(o, "cert", st->cert);
    cJSON_AddItemToObject(o, "statement", parsed ? parsed : cJSON_CreateNull());
    *doc = o;
    return 0;
}

/* Adds the headline figures of each listed statement (read one by one: lists are short). */
static depot_err add_figures(hub_store *s, cJSON *list)
{
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        cJSON *doc = NULL;
        const cJSON *frozen;
        long long id = (long long)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        depot_err err = hub_store_statement_get(s, id, full_row, &doc);
        if (err != DEPOT_OK)
            return err;
        frozen = cJSON_GetObjectItemCaseSensitive(doc, "statement");
        for (size_t i = 0; i < sizeof(headline) / sizeof(headline[0]); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(frozen, headline[i]);
            if (v)
                cJSON_AddItemToObject(it, headline[i], cJSON_Duplicate(v, true));
        }
        cJSON_Delete(doc);
    }
    return DEPOT_OK;
}

enum MHD_Result api_statements_list(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray()};
    const char *dealer = api_query(r, "dealer"), *period = api_query_raw(r, "period");
    int p;
    depot_err err;
    if (dealer && !depot_dealer_id_valid(dealer)) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a dealer id");
    }
    if (period && (strlen(period) != HUB_PERIOD_TEXT - 1 || !hub_period_parse(period, &p))) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "period: YYYY-MM");
    }
    x.s = api_reader_take(api);
    err = hub_store_statements_list(x.s, dealer, period, list_row, &x);
    if (err == DEPOT_OK)
        err = add_figures(x.s, x.list);
    api_reader_give(api, x.s);
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, x.list);
}

/* ---- GET /export/statements ---- */

static const char *const statement_cols[] = {"id",     "dealer", "period", "created_at",
                                             "rank",   "of",     "score",  "rebate_pct",
                                             "rebate", "sales",  NULL};

/*
 * The statements whose period starts in [from, to) (either may be left out), as the list
 * gives them (newest period first, headline figures), as CSV or JSON Lines. One row per dealer
 * and period: made whole, then written.
 */
enum MHD_Result api_statements_export(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray()};
    const char *dealer = api_query(r, "dealer");
    long long from, to;
    char name[160];
    cJSON *it, *next;
    depot_err err;
    if (!api_export_range(r, "statements", &from, &to, name, sizeof(name)) ||
        (dealer && !depot_dealer_id_valid(dealer))) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "from or to is not a date, an ISO time or ms (from before to), or "
                              "dealer not a dealer id");
    }
    x.s = api_reader_take(api);
    err = hub_store_statements_list(x.s, dealer, NULL, list_row, &x);
    for (it = x.list ? x.list->child : NULL; err == DEPOT_OK && it; it = next) {
        int p = 0;
        next = it->next;
        if (!hub_period_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "period")),
                              &p) ||
            !api_export_holds(from, to, hub_period_start(p)))
            cJSON_Delete(cJSON_DetachItemViaPointer(x.list, it));
    }
    if (err == DEPOT_OK)
        err = add_figures(x.s, x.list);
    api_reader_give(api, x.s);
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_pager_export_rows(api, r, "statements", x.list, statement_cols, name);
}

/* ---- GET /statements/<id>, csv, pdf ---- */

static int dispute_row(void *arg, const struct hub_dispute *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)d->id);
    cJSON_AddStringToObject(o, "line", d->line);
    cJSON_AddStringToObject(o, "text", d->text);
    cJSON_AddStringToObject(o, "opened_by", d->opened_by);
    cJSON_AddItemToObject(o, "opened_at", api_time_json(d->opened_at));
    cJSON_AddStringToObject(o, "state", d->answered_at ? "answered" : "open");
    cJSON_AddStringToObject(o, "answer", d->answer);
    cJSON_AddStringToObject(o, "answered_by", d->answered_by);
    cJSON_AddItemToObject(o, "answered_at", api_time_json(d->answered_at));
    cJSON_AddItemToArray(arg, o);
    return 0;
}

/* The statement of the route's argument (full_row's object into *doc), one the caller may see
 * (NOTFOUND otherwise), with its disputes when with_disputes. */
static depot_err load(hub_api *api, const struct api_request *r, bool with_disputes, cJSON **doc)
{
    hub_store *s = api_reader_take(api);
    long long id = atoll(r->arg);
    depot_err err = hub_store_statement_get(s, id, full_row, doc);
    if (err == DEPOT_OK && api_scope_hides(r, *doc))
        err = DEPOT_ERR_NOTFOUND; /* another dealer's: as if none */
    if (err == DEPOT_OK && with_disputes)
        err = hub_store_disputes(s, id, dispute_row, cJSON_AddArrayToObject(*doc, "disputes"));
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(*doc);
        *doc = NULL;
    }
    return err;
}

enum MHD_Result api_statement_get(hub_api *api, const struct api_request *r)
{
    cJSON *doc = NULL;
    depot_err err = load(api, r, true, &doc);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such statement");
    return api_send_json(api, r, MHD_HTTP_OK, doc);
}

static enum MHD_Result send_doc(hub_api *api, const struct api_request *r, bool pdf)
{
    struct api_body b = {0};
    cJSON *doc = NULL;
    char *bytes = NULL;
    size_t len = 0;
    depot_err err = load(api, r, false, &doc);
    if (err == DEPOT_OK) {
        const char *content = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "content"));
        err = pdf ? hub_statement_pdf(content, &bytes, &len)
                  : hub_statement_csv(content, &bytes, &len);
    }
    cJSON_Delete(doc);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such statement");
    b.p = bytes;
    b.len = b.cap = len;
    return api_send_body(api, r, MHD_HTTP_OK, pdf ? "application/pdf" : "text/csv; charset=utf-8",
                         &b);
}

enum MHD_Result api_statement_csv(hub_api *api, const struct api_request *r)
{
    return send_doc(api, r, false);
}

enum MHD_Result api_statement_pdf(hub_api *api, const struct api_request *r)
{
    return send_doc(api, r, true);
}

/* ---- disputes ---- */

/* {"line", "text"} or {"text"} (line NULL): false with why. */
static bool parse_dispute(const char *body, char *line, char *text, char *why, size_t why_len)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "line");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "text");
    bool ok = cJSON_IsObject(j) && cJSON_GetArraySize(j) == (line ? 2 : 1);
    if (ok && line)
        ok = api_json_str(l, HUB_DISPUTE_LINE_MAX, line, HUB_DISPUTE_LINE_MAX + 1) && *line;
    if (ok)
        ok = api_json_str(t, HUB_DISPUTE_TEXT_MAX, text, HUB_DISPUTE_TEXT_MAX + 1) && *text;
    if (!ok)
        snprintf(why, why_len,
                 line ? "the body must be {\"line\": a line's key, \"text\": "
                        "up to %d characters}"
                      : "the body must be {\"text\": up to %d characters}",
                 HUB_DISPUTE_TEXT_MAX);
    cJSON_Delete(j);
    return ok;
}

static enum MHD_Result dispute_refused(hub_api *api, const struct api_request *r, unsigned status,
                                       const char *why)
{
    hub_metrics_add(api->metrics, HUB_C_STATEMENTS_REFUSED, 1);
    LOG_WARN("statements: dispute refused (%s, %s): %s", r->who->name, r->url, why);
    return api_send_error(api, r, status, why);
}

enum MHD_Result api_dispute_post(hub_api *api, const struct api_request *r)
{
    char line[HUB_DISPUTE_LINE_MAX + 1], text[HUB_DISPUTE_TEXT_MAX + 1], why[WHY_MAX];
    cJSON *doc = NULL, *out;
    long long id = 0;
    struct hub_dispute d;
    hub_store *s;
    depot_err err;
    if (!r->scope)
        return dispute_refused(api, r, MHD_HTTP_FORBIDDEN,
                               "a dispute is opened by the statement's dealer's user");
    err = load(api, r, false, &doc);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such statement");
    if (!parse_dispute(r->body, line, text, why, sizeof(why))) {
        cJSON_Delete(doc);
        return dispute_refused(api, r, MHD_HTTP_BAD_REQUEST, why);
    }
    if (!hub_statement_has_line(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "content")), line)) {
        cJSON_Delete(doc);
        return dispute_refused(api, r, MHD_HTTP_BAD_REQUEST, "the statement has no such line");
    }
    cJSON_Delete(doc);
    d = (struct hub_dispute){.statement = atoll(r->arg),
                             .line = line,
                             .text = text,
                             .opened_by = r->who->name,
                             .opened_at = depot_now_ms()};
    s = api_reader_take(api);
    err = hub_store_dispute_add(s, &d, &id);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "");
    LOG_INFO("statements: dispute %lld opened on statement %lld line %s by %s", id, d.statement,
             line, r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddNumberToObject(out, "statement", (double)d.statement);
    cJSON_AddStringToObject(out, "line", line);
    cJSON_AddStringToObject(out, "state", "open");
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* {"dispute": n, "text"}: false with why. */
static bool parse_answer(const char *body, long long *dispute, char *text)
{
    cJSON *j = cJSON_Parse(body);
    bool ok =
        cJSON_IsObject(j) && cJSON_GetArraySize(j) == 2 &&
        api_json_int(cJSON_GetObjectItemCaseSensitive(j, "dispute"), 1, (1LL << 53), dispute) &&
        api_json_str(cJSON_GetObjectItemCaseSensitive(j, "text"), HUB_DISPUTE_TEXT_MAX, text,
                     HUB_DISPUTE_TEXT_MAX + 1) &&
        *text;
    cJSON_Delete(j);
    return ok;
}

enum MHD_Result api_dispute_answer(hub_api *api, const struct api_request *r)
{
    char text[HUB_DISPUTE_TEXT_MAX + 1];
    long long dispute = 0, statement = atoll(r->arg);
    bool changed = false;
    hub_store *s;
    depot_err err;
    cJSON *out;
    if (!parse_answer(r->body, &dispute, text))
        return dispute_refused(api, r, MHD_HTTP_BAD_REQUEST,
                               "the body must be {\"dispute\": its id, \"text\": the answer}");
    s = api_reader_take(api);
    err = hub_store_dispute_answer(s, statement, dispute, text, r->who->name, depot_now_ms(),
                                   &changed);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such dispute of this statement");
    if (!changed)
        return dispute_refused(api, r, MHD_HTTP_CONFLICT, "the dispute is answered already");
    LOG_INFO("statements: dispute %lld of statement %lld answered by %s", dispute, statement,
             r->who->name);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)dispute);
    cJSON_AddNumberToObject(out, "statement", (double)statement);
    cJSON_AddStringToObject(out, "state", "answered");
    return api_send_json(api, r, MHD_HTTP_OK, out);
}
