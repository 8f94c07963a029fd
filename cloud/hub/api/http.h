/*
 * Private to the HTTP API (cloud/hub/api/): the API object, one request as
 * the handlers see it, the response body builder, and the helpers every
 * handler answers with (api_send_*, api_need_role, the read connections).
 * A leaf: http.c uses nothing else of the API, and every resource file and
 * the router (routes.c) use it.
 */
#ifndef HUB_API_HTTP_H
#define HUB_API_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "accounts.h"
#include "api/static.h"
#include "files.h"
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
    hub_static *dashboard;      /* the dashboard's files (static.c) */
    hub_ranking *ranking;       /* hub_api_set_ranking; NULL: ranking endpoints answer 503 */
    hub_accounts *accounts;     /* users, sessions, API tokens, login limits (accounts.h) */
    unsigned char link_key[32]; /* signs training media links (training.h): [training] link_key */
    struct hub_statements *statements; /* the hub's key for closing periods (statements.h) */
};

/* A response body under construction; on allocation failure `failed` sticks. */
struct api_body {
    char *p;
    size_t len, cap;
    bool failed;
};

#define API_ARG_MAX 256

/* The answer to a request that came without a connection (api_dispatch). */
struct api_reply {
    unsigned status;
    char type[64];
    char *body; /* depot_malloc'ed, the caller frees it; NULL if none was made */
    size_t len;
    char next[96]; /* the X-Next-After header of a page of a list ("" if none) */
};

/*
 * One request after its body was read and its route chosen (routes.c).
 * From libmicrohttpd, c is its connection; without one (api_dispatch: the
 * same handlers, no socket), query holds the arguments ("name", "value",
 * ..., NULL) and the answer goes to reply.
 */
struct api_request {
    struct MHD_Connection *c;
    const char *const *query;
    struct api_reply *reply;
    const char *authorization; /* the Authorization header, NULL if none */
    const char *content_type;  /* the Content-Type header, NULL if none */
    const char *idem_key;      /* the Idempotency-Key header, NULL if none (idempotency.h) */
    const char *method;
    const char *url;  /* the whole path, e.g. "/api/v1/orders/o-1/approve" */
    const char *body; /* NUL-terminated, may be "" */
    size_t len;
    const struct hub_token *who; /* NULL on the open routes; a [tokens] entry or &self */
    struct hub_token self;       /* who a session or API token of the store is (accounts.h) */
    char addr[48];               /* the client's address, "" if unknown */
    const char *scope;     /* a dealer's user: its dealer, which api_query gives as "dealer" */
    char arg[API_ARG_MAX]; /* what the route's '*' matched ("" if it was too long) */
    hub_file_sink *sink;   /* a route that streams its body (api_route_streams): the body's file */
};

/* What a route runs. */
typedef enum MHD_Result (*api_handler)(hub_api *api, const struct api_request *r);

__attribute__((format(printf, 2, 3))) void api_body_printf(struct api_body *b, const char *fmt,
                                                           ...);
bool api_body_reserve(struct api_body *b, size_t n);
void api_body_str(struct api_body *b, const char *s);
void api_body_int(struct api_body *b, long long v);
/* A JSON string literal for free text, escaped by cJSON. */
void api_body_json_string(struct api_body *b, const char *s);
/* ISO-8601 UTC with milliseconds. */
void api_iso8601(char *out, size_t len, long long ms);
/*
 * A time argument (?from=, ?to=) into ms since the epoch, UTC: "YYYY-MM-DD" (the day's start;
 * with end true the next day's start, so a range "to" a date holds all of that day),
 * "YYYY-MM-DDTHH:MM:SS[.mmm]Z" (that instant), or ms as digits. False if it is none of these.
 */
bool api_time_arg(const char *text, bool end, long long *ms);
enum MHD_Result api_send_body(hub_api *api, const struct api_request *r, unsigned status,
                              const char *type, struct api_body *b);
/* api_send_body with one more header. */
enum MHD_Result api_send_body_header(hub_api *api, const struct api_request *r, unsigned status,
                                     const char *type, struct api_body *b, const char *name,
                                     const char *value);
enum MHD_Result api_send_error(hub_api *api, const struct api_request *r, unsigned status,
                               const char *msg);
/* A 429 with a Retry-After header of retry_s seconds and {"error", "retry_after_s"}. */
enum MHD_Result api_send_limited(hub_api *api, const struct api_request *r, const char *msg,
                                 long retry_s);
/* A list body: "[" rows "]\n" answered 200, or a 500 for err (the body is dropped). */
enum MHD_Result api_send_list(hub_api *api, const struct api_request *r, struct api_body *b,
                              depot_err err);
/* api_send_list with the cursor of the next page in the X-Next-After header ("" or NULL: none). */
enum MHD_Result api_send_page(hub_api *api, const struct api_request *r, struct api_body *b,
                              depot_err err, const char *next);
/*
 * A 200 whose body is made as it is sent: read(cls, buf, max) fills buf with
 * up to max bytes and returns how many, MHD_CONTENT_READER_END_OF_STREAM at
 * the end, or MHD_CONTENT_READER_END_WITH_ERROR (the connection is closed:
 * the client sees a cut body). done(cls) runs once when the response is
 * finished or dropped. Only for requests with a connection (r->c).
 */
enum MHD_Result api_send_stream(hub_api *api, const struct api_request *r, const char *type,
                                MHD_ContentReaderCallback read, void *cls,
                                MHD_ContentReaderFreeCallback done);
/* A read connection to the store, waited for; given back before the answer is queued. */
hub_store *api_reader_take(hub_api *api);
void api_reader_give(hub_api *api, hub_store *s);

/* Sends root (deleted here) as the JSON body. */
enum MHD_Result api_send_json(hub_api *api, const struct api_request *r, unsigned status,
                              cJSON *root);
/* A JSON number "12.50" for cents (cJSON raw, so no binary rounding shows). */
cJSON *api_money_json(long long cents);
/* An ISO-8601 string, or null for 0. */
cJSON *api_time_json(long long ms);
/* True if the request's token has at least role need; else false after answering 403. */
bool api_need_role(hub_api *api, const struct api_request *r, enum hub_role need,
                   enum MHD_Result *ret);
/* Answers a store error: NOTFOUND 404 (what), anything else 500. */
enum MHD_Result api_send_store_error(hub_api *api, const struct api_request *r, depot_err err,
                                     const char *what);
/* The answer to a refused create (a policy, task, training item): 400 with why for a bad field
 * (DEPOT_ERR_INVAL), 422 with why when no dealer is a target (DEPOT_ERR_NOTFOUND), else
 * api_send_store_error's. */
enum MHD_Result api_send_create_error(hub_api *api, const struct api_request *r, depot_err err,
                                      const char *why);

/* A query argument: NULL when absent or empty; "dealer" of a dealer's user is its dealer. */
const char *api_query(const struct api_request *r, const char *name);
/* A query argument as sent (api_query without the dealer scope). */
const char *api_query_raw(const struct api_request *r, const char *name);
/* True if a dealer's user may not see obj: its "dealer" member is not the user's dealer. */
bool api_scope_hides(const struct api_request *r, const cJSON *obj);
/* A query argument that must be an id of at most max characters: NULL when absent or empty;
 * *bad set when present but not an id. */
const char *api_query_id(const struct api_request *r, const char *name, size_t max, bool *bad);
/* v as a decimal integer in [lo, hi]; false if v is NULL or not one. */
bool api_parse_ll(const char *v, long long lo, long long hi, long long *out);

/* What a Range header asks of a file (api_byte_range). */
enum api_range {
    API_RANGE_WHOLE,         /* none, or one to ignore (malformed, several ranges): 200 whole */
    API_RANGE_PART,          /* one satisfiable range: 206 */
    API_RANGE_UNSATISFIABLE, /* one range past the end: 416 */
};
/*
 * The one byte range of header (NULL: none) over a file of size bytes: "bytes=a-b", "bytes=a-"
 * or "bytes=-n" (the last n), into *from and *len (the whole file for API_RANGE_WHOLE).
 */
enum api_range api_byte_range(const char *header, long long size, long long *from, long long *len);

/* JSON field checks of request bodies. */
bool api_json_int(const cJSON *v, long long min, long long max, long long *out);
/* A money amount: a JSON number with at most two decimals, or a decimal string. */
bool api_json_money(const cJSON *v, long long *out);
bool api_json_str(const cJSON *v, size_t max, char *out, size_t size);
/* "" or a calendar date YYYY-MM-DD (depot_date_valid). */
bool api_date_valid(const char *s);
/* True for no Content-Type or application/json (with or without parameters). */
bool api_type_is_json(const char *type);
/* True if obj has no member but keys (NULL-terminated); else the first other one in bad. */
bool api_json_only_keys(const cJSON *obj, const char *const *keys, char *bad, size_t len);

#endif
