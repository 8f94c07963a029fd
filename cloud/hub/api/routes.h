/*
 * The HTTP API's one route table (routes.c) and the handlers it names, one
 * file per resource: stock.c, dealers.c, catalog.c, orders.c, ranking.c,
 * alerts.c, accounts.c, system.c (metrics, health, me), static.c (the dashboard's
 * files). A handler gets the request after the route's method, role and
 * argument were checked; it answers and returns what MHD_queue_response did.
 */
#ifndef HUB_API_ROUTES_H
#define HUB_API_ROUTES_H

#include "api/http.h"
#include "metrics.h"
#include "orders.h"
#include "store/policies.h"

/* What a route's '*' segment must be; anything else is a 404 before the handler runs. */
enum api_arg {
    API_ARG_NONE,      /* the route has no '*' */
    API_ARG_DEALER,    /* a dealer id (depot_id_valid): "no such dealer" */
    API_ARG_ORDER,     /* 1..DEPOT_ORDER_ID_MAX characters: "no such order" */
    API_ARG_ALERT,     /* a positive decimal alert id: "no such alert" */
    API_ARG_FILE,      /* the rest of the path, checked by the handler */
    API_ARG_USER,      /* a user's or API token's name (hub_account_name_valid): "no such ..." */
    API_ARG_POLICY,    /* a positive decimal policy id: "no such policy" */
    API_ARG_TASK,      /* a positive decimal task id: "no such task" */
    API_ARG_TRAINING,  /* a positive decimal training item id: "no such training item" */
    API_ARG_CONTRACT,  /* a positive decimal contract id: "no such contract" */
    API_ARG_STATEMENT, /* a positive decimal statement id: "no such statement" */
    API_ARG_WEBHOOK,   /* a positive decimal webhook subscription id: "no such webhook" */
    API_ARG_SHIPMENT,  /* 1..64 characters, no space: "no such shipment" */
    API_ARG_CODE,      /* 1..128 characters (an item code, normalised by the handler) */
};

/*
 * What a dealer's user (a user or API token bound to one dealer) may do on a
 * route; every route says it, and a manufacturer's user is never limited.
 */
enum api_dealer {
    DEALER_NO,     /* refused (403): other dealers' data, or the manufacturer's work */
    DEALER_OPEN,   /* an open route: no identity read */
    DEALER_ANY,    /* nothing of a dealer in it (me, logout, the catalog) */
    DEALER_ARG,    /* the '*' is a dealer id: its own only (403) */
    DEALER_QUERY,  /* a list filtered by ?dealer=: its own, given or not (another: 403) */
    DEALER_OBJECT, /* one order or alert: another dealer's is answered 404, as if none */
    DEALER_TARGET, /* one policy (task, ...) sent to dealers: one it is not a target of is 404 */
};

struct api_route {
    const char *method;  /* MHD_HTTP_METHOD_GET, ... */
    const char *pattern; /* "/api/v1/orders/ * /approve" without the spaces: a '*' is one
                            segment; "**" at the end, the rest of the path */
    enum hub_role role;  /* HUB_ROLE_NONE: open, no token read */
    enum api_arg arg;
    enum api_dealer dealer;
    enum hub_api_class metric; /* the latency histogram it counts in */
    api_handler handler;
};

/* The table, in the order routes are tried; *n its length. */
const struct api_route *api_routes(size_t *n);

/*
 * Answers one request: authenticates /api/v1/ (401 without a known token,
 * 403 below the route's role), refuses a body that is too large (413) or
 * not one JSON document (400), a path no route has (404), a method the
 * path does not take (405), a bad argument (404), then runs the handler.
 * too_large: the body was cut at the API's limit.
 */
enum MHD_Result api_dispatch(hub_api *api, struct api_request *r, bool too_large,
                             enum hub_api_class *metric);

/* True if the route of method and url takes its body as a stream into a file (a training
 * file), not buffered: server.c then calls api_stream_open with the headers. */
bool api_route_streams(const char *method, const char *url);
/*
 * The headers of such a request (r's authorization, content type and address set): checks
 * step 1 and 3 as api_dispatch does (401, 403) and a declared Content-Length above
 * [training] file_max_mib (413), answering a refusal at once (*answered); else opens *sink in
 * [hub] files for the body. api_dispatch runs the handler when the body has come.
 */
enum MHD_Result api_stream_open(hub_api *api, struct api_request *r, hub_file_sink **sink,
                                bool *answered);

/* The handlers, by resource. */
enum MHD_Result api_stock_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealers_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealer_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealer_put(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealer_patch(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealer_streams(hub_api *api, const struct api_request *r);
enum MHD_Result api_catalog_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_catalog_put(hub_api *api, const struct api_request *r);
enum MHD_Result api_orders_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_orders_forged(hub_api *api, const struct api_request *r);
enum MHD_Result api_order_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_order_approve(hub_api *api, const struct api_request *r);
enum MHD_Result api_order_reject(hub_api *api, const struct api_request *r);
enum MHD_Result api_payment_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_payments_import(hub_api *api, const struct api_request *r);
enum MHD_Result api_ranking_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_dealer_kpis(hub_api *api, const struct api_request *r);
enum MHD_Result api_alerts_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_orders_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_alerts_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_payments_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_movements_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_stock_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_statements_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_ranking_export(hub_api *api, const struct api_request *r);
enum MHD_Result api_alert_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_alert_ack(hub_api *api, const struct api_request *r);
enum MHD_Result api_alert_resolve(hub_api *api, const struct api_request *r);
enum MHD_Result api_history_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_me_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_policies_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_policy_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_policy_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_policy_repush(hub_api *api, const struct api_request *r);
enum MHD_Result api_policy_seen(hub_api *api, const struct api_request *r);
enum MHD_Result api_policy_ack(hub_api *api, const struct api_request *r);
/* A policy's or a task's "target": {"kind", "value"} into kind and value; false with why. */
bool api_target_parse(const cJSON *t, char kind[HUB_POLICY_KIND_MAX + 1],
                      char value[HUB_POLICY_TARGET_MAX + 1], char *why, size_t len);
enum MHD_Result api_tasks_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_task_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_task_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_task_done(hub_api *api, const struct api_request *r);
enum MHD_Result api_task_photo(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_file_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_file_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_link(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_media_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_progress(hub_api *api, const struct api_request *r);
enum MHD_Result api_training_done(hub_api *api, const struct api_request *r);
enum MHD_Result api_login_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_logout_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_users_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_user_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_user_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_user_patch(hub_api *api, const struct api_request *r);
enum MHD_Result api_tokens_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_token_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_token_revoke(hub_api *api, const struct api_request *r);
enum MHD_Result api_metrics_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_healthz_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_static_get(hub_api *api, const struct api_request *r);

/* The ranking set by hub_api_set_ranking, or NULL: orders.c and ranking.c note payments and
 * approvals for it in the transaction that records them (ranking/service.h). */
struct hub_ranking *hub_api_ranking(hub_api *api);

enum MHD_Result api_contract_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_statements_close(hub_api *api, const struct api_request *r);
/* webhooks.c */
enum MHD_Result api_webhook_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_webhooks_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_ledger_verify(hub_api *api, const struct api_request *r);
enum MHD_Result api_shipment_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_shipments_import(hub_api *api, const struct api_request *r);
enum MHD_Result api_shipments_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_shipment_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_code_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_webhook_disable(hub_api *api, const struct api_request *r);
enum MHD_Result api_webhook_deliveries(hub_api *api, const struct api_request *r);
enum MHD_Result api_webhook_retry(hub_api *api, const struct api_request *r);
enum MHD_Result api_statements_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_statement_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_statement_csv(hub_api *api, const struct api_request *r);
enum MHD_Result api_statement_pdf(hub_api *api, const struct api_request *r);
enum MHD_Result api_dispute_post(hub_api *api, const struct api_request *r);
enum MHD_Result api_dispute_answer(hub_api *api, const struct api_request *r);
enum MHD_Result api_contracts_list(hub_api *api, const struct api_request *r);
enum MHD_Result api_contract_get(hub_api *api, const struct api_request *r);
enum MHD_Result api_contract_file(hub_api *api, const struct api_request *r);
enum MHD_Result api_contract_signature(hub_api *api, const struct api_request *r);

#endif
