/*
 * The HTTP API's one route table: method, URL pattern, the role it needs,
 * what its '*' segment must be, its latency class, its handler. Every
 * request is matched against it in order (route_find); nothing else
 * chooses a handler. Adding an endpoint is one line here and a handler in
 * its resource's file.
 *
 * Order of checks (api_dispatch), the same for every route:
 *   1. /api/v1/...: a bearer token of at least viewer (401, 403): one of
 *      [tokens], else a session or API token of the store (accounts.h), but
 *      none on an open route (login); then the body: at most the API's
 *      limit (413) and one JSON document (400);
 *   2. the path: no route has it, 404; it has no route for the method, 405
 *      naming the methods it takes;
 *   3. the route's role (403), then its argument (404 "no such ..."), then
 *      for a dealer's user what the route allows it (enum api_dealer: 403,
 *      or the dealer scope set for api_query and the handler);
 *   4. the handler.
 */
#include "api/routes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "depot/clock.h"
#include "depot/id.h"
#include "depot/log.h"
#include "depot/msg.h"

#define GET MHD_HTTP_METHOD_GET
#define PUT MHD_HTTP_METHOD_PUT
#define PATCH MHD_HTTP_METHOD_PATCH
#define POST MHD_HTTP_METHOD_POST
#define V1 "/api/v1/"

static const struct api_route routes[] = {
    {GET, "/metrics", HUB_ROLE_NONE, API_ARG_NONE, DEALER_OPEN, HUB_API_METRICS, api_metrics_get},
    {GET, "/healthz", HUB_ROLE_NONE, API_ARG_NONE, DEALER_OPEN, HUB_API_HEALTHZ, api_healthz_get},
    {GET, "/", HUB_ROLE_NONE, API_ARG_NONE, DEALER_OPEN, HUB_API_DASHBOARD, api_static_get},
    {GET, "/index.html", HUB_ROLE_NONE, API_ARG_NONE, DEALER_OPEN, HUB_API_DASHBOARD,
     api_static_get},
    {GET, "/static/**", HUB_ROLE_NONE, API_ARG_FILE, DEALER_OPEN, HUB_API_DASHBOARD,
     api_static_get},
    {POST, V1 "login", HUB_ROLE_NONE, API_ARG_NONE, DEALER_OPEN, HUB_API_OTHER, api_login_post},
    {POST, V1 "logout", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_ANY, HUB_API_OTHER, api_logout_post},
    {GET, V1 "me", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_ANY, HUB_API_OTHER, api_me_get},
    {GET, V1 "users", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_users_list},
    {POST, V1 "users", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_user_post},
    {GET, V1 "users/*", HUB_ROLE_ADMIN, API_ARG_USER, DEALER_NO, HUB_API_OTHER, api_user_get},
    {PATCH, V1 "users/*", HUB_ROLE_ADMIN, API_ARG_USER, DEALER_NO, HUB_API_OTHER, api_user_patch},
    {GET, V1 "tokens", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_tokens_list},
    {POST, V1 "tokens", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_token_post},
    {POST, V1 "tokens/*/revoke", HUB_ROLE_ADMIN, API_ARG_USER, DEALER_NO, HUB_API_OTHER,
     api_token_revoke},
    {GET, V1 "stock", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_STOCK, api_stock_get},
    {GET, V1 "dealers", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_NO, HUB_API_DEALERS,
     api_dealers_list},
    {GET, V1 "dealers/*", HUB_ROLE_VIEWER, API_ARG_DEALER, DEALER_ARG, HUB_API_DEALERS,
     api_dealer_get},
    {PUT, V1 "dealers/*", HUB_ROLE_ADMIN, API_ARG_DEALER, DEALER_NO, HUB_API_DEALERS,
     api_dealer_put},
    {PATCH, V1 "dealers/*", HUB_ROLE_ADMIN, API_ARG_DEALER, DEALER_NO, HUB_API_DEALERS,
     api_dealer_patch},
    {GET, V1 "dealers/*/streams", HUB_ROLE_VIEWER, API_ARG_DEALER, DEALER_ARG, HUB_API_STREAMS,
     api_dealer_streams},
    {GET, V1 "dealers/*/kpis", HUB_ROLE_VIEWER, API_ARG_DEALER, DEALER_ARG, HUB_API_RANKING,
     api_dealer_kpis},
    {GET, V1 "catalog", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_ANY, HUB_API_CATALOG,
     api_catalog_get},
    {PUT, V1 "catalog", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_CATALOG, api_catalog_put},
    {GET, V1 "orders", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_ORDERS,
     api_orders_list},
    {GET, V1 "export/orders", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_ORDERS,
     api_orders_export},
    {GET, V1 "orders-forged", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_ORDERS,
     api_orders_forged},
    {GET, V1 "orders/*", HUB_ROLE_VIEWER, API_ARG_ORDER, DEALER_OBJECT, HUB_API_ORDERS,
     api_order_get},
    {POST, V1 "orders/*/approve", HUB_ROLE_APPROVER, API_ARG_ORDER, DEALER_NO, HUB_API_ORDERS,
     api_order_approve},
    {POST, V1 "orders/*/reject", HUB_ROLE_APPROVER, API_ARG_ORDER, DEALER_NO, HUB_API_ORDERS,
     api_order_reject},
    {POST, V1 "payments", HUB_ROLE_APPROVER, API_ARG_NONE, DEALER_NO, HUB_API_PAYMENTS,
     api_payment_post},
    {POST, V1 "payments/import", HUB_ROLE_APPROVER, API_ARG_NONE, DEALER_NO, HUB_API_PAYMENTS,
     api_payments_import},
    {GET, V1 "ranking", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_NO, HUB_API_RANKING, api_ranking_get},
    {GET, V1 "alerts", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_ALERTS,
     api_alerts_list},
    {GET, V1 "export/alerts", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_ALERTS,
     api_alerts_export},
    {GET, V1 "export/payments", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_payments_export},
    {GET, V1 "export/movements", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_HISTORY,
     api_movements_export},
    {GET, V1 "export/stock", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_STOCK,
     api_stock_export},
    {GET, V1 "export/statements", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_statements_export},
    {GET, V1 "export/ranking", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_NO, HUB_API_RANKING,
     api_ranking_export},
    {GET, V1 "alerts/*", HUB_ROLE_VIEWER, API_ARG_ALERT, DEALER_OBJECT, HUB_API_ALERTS,
     api_alert_get},
    {POST, V1 "alerts/*/ack", HUB_ROLE_APPROVER, API_ARG_ALERT, DEALER_NO, HUB_API_ALERTS,
     api_alert_ack},
    {POST, V1 "alerts/*/resolve", HUB_ROLE_APPROVER, API_ARG_ALERT, DEALER_NO, HUB_API_ALERTS,
     api_alert_resolve},
    {GET, V1 "history", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_HISTORY,
     api_history_get},
    {GET, V1 "policies", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_policies_list},
    {POST, V1 "policies", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_policy_post},
    {GET, V1 "policies/*", HUB_ROLE_VIEWER, API_ARG_POLICY, DEALER_TARGET, HUB_API_OTHER,
     api_policy_get},
    {POST, V1 "policies/*/repush", HUB_ROLE_ADMIN, API_ARG_POLICY, DEALER_NO, HUB_API_OTHER,
     api_policy_repush},
    {POST, V1 "policies/*/seen", HUB_ROLE_VIEWER, API_ARG_POLICY, DEALER_TARGET, HUB_API_OTHER,
     api_policy_seen},
    {POST, V1 "policies/*/ack", HUB_ROLE_VIEWER, API_ARG_POLICY, DEALER_TARGET, HUB_API_OTHER,
     api_policy_ack},
    {GET, V1 "contracts", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_contracts_list},
    {POST, V1 "contracts", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_contract_post},
    {GET, V1 "contracts/*", HUB_ROLE_VIEWER, API_ARG_CONTRACT, DEALER_OBJECT, HUB_API_OTHER,
     api_contract_get},
    {GET, V1 "contracts/*/file", HUB_ROLE_VIEWER, API_ARG_CONTRACT, DEALER_OBJECT, HUB_API_OTHER,
     api_contract_file},
    {GET, V1 "contracts/*/signature", HUB_ROLE_VIEWER, API_ARG_CONTRACT, DEALER_OBJECT,
     HUB_API_OTHER, api_contract_signature},
    {POST, V1 "statements/close", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_statements_close},
    {GET, V1 "statements", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_statements_list},
    {GET, V1 "statements/*", HUB_ROLE_VIEWER, API_ARG_STATEMENT, DEALER_OBJECT, HUB_API_OTHER,
     api_statement_get},
    {GET, V1 "statements/*/csv", HUB_ROLE_VIEWER, API_ARG_STATEMENT, DEALER_OBJECT, HUB_API_OTHER,
     api_statement_csv},
    {GET, V1 "statements/*/pdf", HUB_ROLE_VIEWER, API_ARG_STATEMENT, DEALER_OBJECT, HUB_API_OTHER,
     api_statement_pdf},
    {POST, V1 "statements/*/disputes", HUB_ROLE_VIEWER, API_ARG_STATEMENT, DEALER_OBJECT,
     HUB_API_OTHER, api_dispute_post},
    {POST, V1 "statements/*/answer", HUB_ROLE_ADMIN, API_ARG_STATEMENT, DEALER_NO, HUB_API_OTHER,
     api_dispute_answer},
    {POST, V1 "shipments", HUB_ROLE_APPROVER, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_shipment_post},
    {POST, V1 "shipments/import", HUB_ROLE_APPROVER, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_shipments_import},
    {GET, V1 "shipments", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_shipments_list},
    {GET, V1 "shipments/*", HUB_ROLE_VIEWER, API_ARG_SHIPMENT, DEALER_OBJECT, HUB_API_OTHER,
     api_shipment_get},
    {GET, V1 "codes/*", HUB_ROLE_VIEWER, API_ARG_CODE, DEALER_OBJECT, HUB_API_OTHER, api_code_get},
    {GET, V1 "ledger/verify", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_ledger_verify},
    {GET, V1 "webhooks", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_webhooks_list},
    {POST, V1 "webhooks", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_webhook_post},
    {POST, V1 "webhooks/*/disable", HUB_ROLE_ADMIN, API_ARG_WEBHOOK, DEALER_NO, HUB_API_OTHER,
     api_webhook_disable},
    {GET, V1 "webhooks/*/deliveries", HUB_ROLE_ADMIN, API_ARG_WEBHOOK, DEALER_NO, HUB_API_OTHER,
     api_webhook_deliveries},
    {POST, V1 "webhooks/**", HUB_ROLE_ADMIN, API_ARG_FILE, DEALER_NO, HUB_API_OTHER,
     api_webhook_retry},
    {GET, V1 "tasks", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER, api_tasks_list},
    {POST, V1 "tasks", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER, api_task_post},
    {GET, V1 "tasks/*", HUB_ROLE_VIEWER, API_ARG_TASK, DEALER_TARGET, HUB_API_OTHER, api_task_get},
    {POST, V1 "tasks/*/done", HUB_ROLE_VIEWER, API_ARG_TASK, DEALER_TARGET, HUB_API_OTHER,
     api_task_done},
    {GET, V1 "tasks/*/photo", HUB_ROLE_VIEWER, API_ARG_TASK, DEALER_QUERY, HUB_API_OTHER,
     api_task_photo},
    {POST, V1 "training/files", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_training_file_post},
    {GET, V1 "training", HUB_ROLE_VIEWER, API_ARG_NONE, DEALER_QUERY, HUB_API_OTHER,
     api_training_list},
    {POST, V1 "training", HUB_ROLE_ADMIN, API_ARG_NONE, DEALER_NO, HUB_API_OTHER,
     api_training_post},
    {GET, V1 "training/*", HUB_ROLE_VIEWER, API_ARG_TRAINING, DEALER_TARGET, HUB_API_OTHER,
     api_training_get},
    {GET, V1 "training/*/file", HUB_ROLE_VIEWER, API_ARG_TRAINING, DEALER_TARGET, HUB_API_OTHER,
     api_training_file_get},
    {GET, V1 "training/*/link", HUB_ROLE_VIEWER, API_ARG_TRAINING, DEALER_TARGET, HUB_API_OTHER,
     api_training_link},
    /* no token: the signed link a caller of training/<id>/link got is its proof (training.h) */
    {GET, "/media/training/*", HUB_ROLE_NONE, API_ARG_TRAINING, DEALER_OPEN, HUB_API_OTHER,
     api_training_media_get},
    {POST, V1 "training/*/progress", HUB_ROLE_VIEWER, API_ARG_TRAINING, DEALER_TARGET,
     HUB_API_OTHER, api_training_progress},
    {POST, V1 "training/*/done", HUB_ROLE_VIEWER, API_ARG_TRAINING, DEALER_TARGET, HUB_API_OTHER,
     api_training_done},
};

const struct api_route *api_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/* True if url has pattern's shape; what '*' or '**' matched goes to arg ("" if too long). */
static bool match(const char *pattern, const char *url, char *arg, size_t arg_len)
{
    const char *star = strchr(pattern, '*'), *end;
    size_t head = star ? (size_t)(star - pattern) : strlen(pattern), n;
    bool rest;

    if (strncmp(pattern, url, head) != 0)
        return false;
    if (!star)
        return url[head] == '\0';
    url += head;
    rest = star[1] == '*';
    end = rest ? url + strlen(url) : url + strcspn(url, "/");
    if (strcmp(star + (rest ? 2 : 1), end) != 0)
        return false;
    n = (size_t)(end - url);
    snprintf(arg, arg_len, "%.*s", n < arg_len ? (int)n : 0, url);
    return true;
}

/*
 * The route for method and url: NULL when none; then *known tells whether
 * some route has that path (a 405 rather than a 404), allowed lists their
 * methods ("GET, PUT") and r->arg is set. The latency class of the answer
 * goes to *metric either way.
 */
static const struct api_route *route_find(const char *method, const char *url,
                                          struct api_request *r, bool *known, char *allowed,
                                          size_t allowed_len, enum hub_api_class *metric)
{
    size_t used = 0;
    *known = false;
    allowed[0] = '\0';
    *metric = strncmp(url, V1, strlen(V1)) ? HUB_API_DASHBOARD : HUB_API_OTHER;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, url, r->arg, sizeof(r->arg)))
            continue;
        *metric = routes[i].metric;
        if (!strcmp(method, routes[i].method))
            return &routes[i];
        used += (size_t)snprintf(allowed + used, used < allowed_len ? allowed_len - used : 0,
                                 "%s%s", *known ? ", " : "", routes[i].method);
        *known = true;
    }
    return NULL;
}

/*
 * A dealer's user on route rt (enum api_dealer): NULL if it may go on (r->scope then set to its
 * dealer, so api_query gives it as "dealer"), else the 403's message.
 */
static const char *dealer_refused(const struct api_route *rt, struct api_request *r)
{
    const char *own = r->who ? r->who->dealer : "", *given;
    if (!*own)
        return NULL;
    switch (rt->dealer) {
    case DEALER_OPEN:
    case DEALER_ANY:
        return NULL;
    case DEALER_ARG:
        return strcmp(r->arg, own) ? "a dealer's user sees only its own dealer" : NULL;
    case DEALER_QUERY:
        given = api_query_raw(r, "dealer");
        if (given && strcmp(given, own) != 0)
            return "a dealer's user sees only its own dealer";
        r->scope = own;
        return NULL;
    case DEALER_OBJECT:
    case DEALER_TARGET:
        r->scope = own;
        return NULL;
    case DEALER_NO:
        break;
    }
    return "not for a dealer's user";
}

/* The route's argument is what it must be (enum api_arg); else the 404's message. */
static const char *arg_refused(const struct api_route *rt, const char *arg)
{
    char *end;
    switch (rt->arg) {
    case API_ARG_DEALER:
        return depot_id_valid(arg, DEPOT_DEALER_MAX) ? NULL : "no such dealer";
    case API_ARG_ORDER:
        return *arg && strlen(arg) <= DEPOT_ORDER_ID_MAX ? NULL : "no such order";
    case API_ARG_ALERT:
        return *arg >= '1' && *arg <= '9' && strlen(arg) <= 18 && strtoll(arg, &end, 10) > 0 &&
                       !*end
                   ? NULL
                   : "no such alert";
    case API_ARG_POLICY:
    case API_ARG_TASK:
    case API_ARG_TRAINING:
    case API_ARG_CONTRACT:
    case API_ARG_STATEMENT:
    case API_ARG_WEBHOOK:
        return *arg >= '1' && *arg <= '9' && strlen(arg) <= 18 && strtoll(arg, &end, 10) > 0 &&
                       !*end
                   ? NULL
               : rt->arg == API_ARG_TASK      ? "no such task"
               : rt->arg == API_ARG_TRAINING  ? "no such training item"
               : rt->arg == API_ARG_CONTRACT  ? "no such contract"
               : rt->arg == API_ARG_STATEMENT ? "no such statement"
               : rt->arg == API_ARG_WEBHOOK   ? "no such webhook"
                                              : "no such policy";
    case API_ARG_USER:
        return hub_account_name_valid(arg) ? NULL : "no such user or token";
    case API_ARG_SHIPMENT:
        return *arg && strlen(arg) <= 64 && !strpbrk(arg, " \t\r\n") ? NULL : "no such shipment";
    case API_ARG_CODE:
        return *arg && strlen(arg) <= 128 ? NULL : "no such item code";
    case API_ARG_NONE:
    case API_ARG_FILE:
        break;
    }
    return NULL;
}

/* Every body the API takes is one JSON document, with nothing but whitespace after it. */
static bool body_is_one_json(const struct api_request *r)
{
    cJSON *j = depot_json_parse(r->body, r->len);
    cJSON_Delete(j);
    return j != NULL;
}

/*
 * Who the request's bearer token is: a [tokens] entry of the config, else
 * a session or API token of the store (r->self). DEPOT_ERR_AUTH,
 * DEPOT_ERR_FORBIDDEN (below viewer), DEPOT_ERR_DB.
 */
static depot_err identify(hub_api *api, struct api_request *r)
{
    const char *token = r->authorization;
    hub_store *s;
    depot_err err = hub_auth_token(api->cfg, r->authorization, HUB_ROLE_VIEWER, &r->who);
    if (err != DEPOT_ERR_AUTH || !token || strncasecmp(token, "Bearer ", 7) != 0)
        return err;
    for (token += 7; *token == ' ';)
        token++;
    if (!hub_token_is_issued(token))
        return DEPOT_ERR_AUTH;
    s = api_reader_take(api);
    err = hub_accounts_identify(api->accounts, s, token, depot_now_ms(), &r->self);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return err;
    r->who = &r->self;
    return r->self.role >= HUB_ROLE_VIEWER ? DEPOT_OK : DEPOT_ERR_FORBIDDEN;
}

/* Step 1 of the checks (top of file); MHD_YES with *answered false to go on. An open route of
 * /api/v1/ (login) reads no token. */
/* The routes whose body, sent with a type other than JSON, is the handler's (a photo). */
static bool raw_body(const struct api_route *rt)
{
    return rt && rt->handler == api_task_done;
}

static enum MHD_Result check_api_request(hub_api *api, struct api_request *r, bool open, bool raw,
                                         bool too_large, bool *answered)
{
    depot_err err = open ? DEPOT_OK : identify(api, r);
    *answered = true;
    if (err == DEPOT_ERR_DB)
        return api_send_error(api, r, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "the accounts cannot be read now; try again");
    if (err == DEPOT_ERR_AUTH)
        return api_send_error(api, r, MHD_HTTP_UNAUTHORIZED, "missing or unknown bearer token");
    if (err != DEPOT_OK)
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN, "role too low");
    if (too_large)
        return api_send_error(api, r, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    if (r->len && !raw && !body_is_one_json(r))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "the body must be one JSON document, with nothing after it");
    *answered = false;
    return MHD_YES;
}

bool api_route_streams(const char *method, const char *url)
{
    struct api_request r = {0};
    char allowed[64];
    enum hub_api_class metric;
    bool known;
    const struct api_route *rt =
        route_find(method, url, &r, &known, allowed, sizeof(allowed), &metric);
    return rt && rt->handler == api_training_file_post;
}

enum MHD_Result api_stream_open(hub_api *api, struct api_request *r, hub_file_sink **sink,
                                bool *answered)
{
    const char *declared = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Content-Length");
    long long max = api->cfg->training_file_max_mib * 1024LL * 1024LL, len = 0;
    enum MHD_Result ret = check_api_request(api, r, false, true, false, answered);
    char why[96];
    if (*answered)
        return ret;
    *answered = true;
    if (!api_need_role(api, r, HUB_ROLE_ADMIN, &ret))
        return ret;
    if (r->who->dealer[0])
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN, "not for a dealer's user");
    if (declared && api_parse_ll(declared, 0, INT64_MAX, &len) && len > max) {
        snprintf(why, sizeof(why), "the file is larger than [training] file_max_mib (%ld MiB)",
                 api->cfg->training_file_max_mib);
        LOG_WARN("training: an upload of %lld bytes refused: %s", len, why);
        hub_metrics_add(api->metrics, HUB_C_TRAINING_FILES_REFUSED, 1);
        return api_send_error(api, r, MHD_HTTP_CONTENT_TOO_LARGE, why);
    }
    if (hub_file_sink_new(api->cfg->files_dir, max, sink) != DEPOT_OK)
        return api_send_error(api, r, MHD_HTTP_INSUFFICIENT_STORAGE,
                              "the file cannot be stored now; try again");
    *answered = false;
    return MHD_YES;
}

enum MHD_Result api_dispatch(hub_api *api, struct api_request *r, bool too_large,
                             enum hub_api_class *metric)
{
    const struct api_route *rt;
    char allowed[64], msg[96];
    const char *refused;
    bool known, answered = false;
    enum MHD_Result ret = MHD_YES;

    rt = route_find(r->method, r->url, r, &known, allowed, sizeof(allowed), metric);
    if (!strncmp(r->url, V1, strlen(V1)))
        ret = check_api_request(api, r, rt && rt->role == HUB_ROLE_NONE,
                                raw_body(rt) && !api_type_is_json(r->content_type), too_large,
                                &answered);
    if (answered)
        return ret;
    if (!rt && !known)
        return api_send_error(api, r, MHD_HTTP_NOT_FOUND, "no such endpoint");
    if (!rt) {
        snprintf(msg, sizeof(msg), "only %s %s served here", allowed,
                 strchr(allowed, ',') ? "are" : "is");
        return api_send_error(api, r, MHD_HTTP_METHOD_NOT_ALLOWED, msg);
    }
    if (rt->role > HUB_ROLE_VIEWER && !api_need_role(api, r, rt->role, &ret))
        return ret;
    if ((refused = arg_refused(rt, r->arg)))
        return api_send_error(api, r, MHD_HTTP_NOT_FOUND, refused);
    if ((refused = dealer_refused(rt, r)))
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN, refused);
    return rt->handler(api, r);
}
