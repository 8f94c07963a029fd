/*
 * Private to the HTTP API (hub_api.c: server, routing, stock and dealers;
 * hub_api_orders.c: catalog, dealer profiles, payments, orders): the API
 * object, the response body builder and the read connections.
 */
#ifndef HUB_API_PRIV_H
#define HUB_API_PRIV_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/static.h"
#include "store/store.h"

struct hub_api {
    const struct hub_config *cfg;
    hub_metrics *metrics;
    hub_health_fn health;
    const void *health_ctx;
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    hub_store **readers; /* the free ones are readers[0..n_free-1] */
    size_t n_readers, n_free;
    hub_static *dashboard; /* the dashboard's files (hub_static.c) */
    hub_ranking *ranking;  /* hub_api_set_ranking; NULL: ranking endpoints answer 503 */
};

/* A response body under construction; on allocation failure `failed` sticks. */
struct body {
    char *p;
    size_t len, cap;
    bool failed;
};

/* One API request after its body was read: what the handlers of hub_api_orders.c get. */
struct api_request {
    struct MHD_Connection *c;
    const char *method;
    const char *path; /* after "/api/v1/" */
    const char *body; /* NUL-terminated, may be "" */
    size_t len;
    const struct hub_token *who;
};

__attribute__((format(printf, 2, 3))) void body_printf(struct body *b, const char *fmt, ...);
bool body_reserve(struct body *b, size_t n);
void body_str(struct body *b, const char *s);
void body_int(struct body *b, long long v);
/* A JSON string literal for free text, escaped by cJSON. */
void body_json_string(struct body *b, const char *s);
/* ISO-8601 UTC with milliseconds. */
void iso8601(char *out, size_t len, long long ms);
enum MHD_Result send_body(hub_api *api, struct MHD_Connection *c, unsigned status, const char *type,
                          struct body *b);
enum MHD_Result send_error(hub_api *api, struct MHD_Connection *c, unsigned status,
                           const char *msg);
hub_store *reader_take(hub_api *api);
void reader_give(hub_api *api, hub_store *s);

/* Sends root (deleted here) as the JSON body. */
enum MHD_Result send_json(hub_api *api, struct MHD_Connection *c, unsigned status, cJSON *root);
/* A JSON number "12.50" for cents (cJSON raw, so no binary rounding shows). */
cJSON *money_json(long long cents);
/* An ISO-8601 string, or null for 0. */
cJSON *time_json(long long ms);
/* True if the request's token has at least role need; else false after answering 403. */
bool need_role(hub_api *api, const struct api_request *r, enum hub_role need, enum MHD_Result *ret);
/* Answers a store error: NOTFOUND 404 (what), anything else 500. */
enum MHD_Result send_store_error(hub_api *api, struct MHD_Connection *c, depot_err err,
                                 const char *what);

/* The catalog and dealer-profile endpoints (hub_api_catalog.c); *handled as below. */
enum MHD_Result hub_api_catalog_route(hub_api *api, const struct api_request *r, bool *handled);

/*
 * Serves the order-domain endpoints; *handled = false for a path that is
 * not one of them (the caller answers 404).
 */
enum MHD_Result hub_api_orders_route(hub_api *api, const struct api_request *r, bool *handled);

/* hub_static.c: GET / and /static/... (the dashboard's files), and GET /api/v1/me. */
enum MHD_Result hub_static_serve(hub_api *api, struct MHD_Connection *c, const char *url);
enum MHD_Result hub_api_me(hub_api *api, const struct api_request *r);

/*
 * hub_api_ranking.c: GET ranking, GET dealers/<id>/kpis, POST payments/import
 * (*handled as above); and the ranking's hooks for the other handlers: a
 * payment recorded, an order decided (an approval invoices it).
 */
enum MHD_Result hub_api_ranking_route(hub_api *api, const struct api_request *r, bool *handled);
void hub_api_ranking_payment(hub_api *api, const char *dealer, long long at, long long cents);
void hub_api_ranking_decided(hub_api *api, const struct hub_order *o);

/* hub_api_alerts.c: GET /alerts, /alerts/<id>, POST /alerts/<id>/ack|resolve, GET /history. */
enum MHD_Result hub_api_alerts_route(hub_api *api, const struct api_request *r, bool *handled);

/* GET /stock's extras (hub_api_alerts.c): the "since" and "region" filters, and each row's
 * velocity, days_of_cover, region and received_at. stock_extra_new reads them for the request
 * (on failure it has answered and *out is NULL). */
struct stock_extra;
enum MHD_Result stock_extra_new(hub_api *api, struct MHD_Connection *c, hub_store *s,
                                struct stock_extra **out);
void stock_extra_free(struct stock_extra *x);
bool stock_extra_keep(const struct stock_extra *x, const struct hub_stock_row *r);
void stock_extra_fields(const struct stock_extra *x, struct body *b, const struct hub_stock_row *r);

#endif
