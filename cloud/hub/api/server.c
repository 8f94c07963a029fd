/*
 * HTTP API of the hub.
 *
 * libmicrohttpd runs a pool of [http] threads; each request borrows one of
 * as many read connections to the store (a SQLite connection is used by one
 * thread at a time) and gives it back before the response is queued. Reads
 * never block ingest: the file is in WAL mode.
 *
 * Lists are written row by row into one growing buffer as the query walks
 * (no tree of 100,000 objects for the whole stock), and handed to MHD
 * without a copy. Strings from the store are ids the codec validated
 * ([A-Za-z0-9_.-]); free text (a fault reason, an error) goes through cJSON
 * for escaping.
 *
 * Auth: every /api/v1/ request needs "Authorization: Bearer <token>" with a
 * role of at least viewer (writes need more: hub_api_orders.c); 401 without
 * a known token, 403 for a role too low. /metrics and /healthz are open,
 * and so are the dashboard's files (hub_static.c: /, /static/...).
 * Errors are {"error": "..."}. A request with a body (PUT, PATCH, POST) is
 * read whole (at most BODY_MAX) before it is routed; a body that is not
 * exactly one JSON document (depot_json_parse: nothing but whitespace after
 * it) is a 400 here, for every route, before any handler parses it.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "auth.h"
#include "depot/money.h"
#include "stale.h"
#include "store/store.h"
#include "api/http.h"

void body_printf(struct body *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
        } else if (b->p && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = b->cap ? b->cap : 65536;
            while (cap - b->len <= (size_t)n)
                cap *= 2;
            char *p = depot_realloc(b->p, cap);
            if (!p)
                b->failed = true;
            else {
                b->p = p;
                b->cap = cap;
            }
        }
    }
}

/* Ensures room for n more bytes (the list endpoints append row by row). */
bool body_reserve(struct body *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 65536;
    char *p;
    if (b->failed)
        return false;
    if (b->p && b->cap - b->len > n)
        return true;
    while (cap - b->len <= n)
        cap *= 2;
    p = depot_realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void body_str(struct body *b, const char *s)
{
    size_t n = strlen(s);
    if (body_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

void body_int(struct body *b, long long v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    body_str(b, p);
}

/* A JSON string literal for free text, escaped by cJSON. */
void body_json_string(struct body *b, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    if (text)
        body_printf(b, "%s", text);
    else
        b->failed = true;
    cJSON_free(text);
    cJSON_Delete(str);
}

/* ISO-8601 UTC with milliseconds; the date-time of the last second is cached per thread. */
void iso8601(char *out, size_t len, long long ms)
{
    static _Thread_local long long cached_secs = -1;
    static _Thread_local char cached[24];
    long long secs = ms / 1000;
    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_secs = secs;
    }
    snprintf(out, len, "%s.%03lldZ", cached, ms % 1000);
}

enum MHD_Result send_body(hub_api *api, struct MHD_Connection *c, unsigned status, const char *type,
                          struct body *b)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (b->failed || !b->p) {
        depot_free(b->p);
        return MHD_NO;
    }
    r = MHD_create_response_from_buffer_with_free_callback(b->len, b->p, depot_free);
    if (!r) {
        depot_free(b->p);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (status >= 400)
        hub_metrics_add(api->metrics, HUB_C_API_ERRORS, 1);
    return ret;
}

enum MHD_Result send_error(hub_api *api, struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct body b = {0};
    body_printf(&b, "{\"error\":");
    body_json_string(&b, msg);
    body_printf(&b, "}\n");
    return send_body(api, c, status, "application/json", &b);
}

hub_store *reader_take(hub_api *api)
{
    hub_store *s;
    pthread_mutex_lock(&api->lock);
    while (api->n_free == 0)
        pthread_cond_wait(&api->freed, &api->lock);
    s = api->readers[--api->n_free];
    pthread_mutex_unlock(&api->lock);
    return s;
}

void reader_give(hub_api *api, hub_store *s)
{
    pthread_mutex_lock(&api->lock);
    api->readers[api->n_free++] = s;
    pthread_cond_signal(&api->freed);
    pthread_mutex_unlock(&api->lock);
}

enum MHD_Result send_json(hub_api *api, struct MHD_Connection *c, unsigned status, cJSON *root)
{
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    struct body b = {0};
    cJSON_Delete(root);
    if (!text)
        return MHD_NO;
    body_str(&b, text);
    body_str(&b, "\n");
    cJSON_free(text);
    return send_body(api, c, status, "application/json", &b);
}

cJSON *money_json(long long cents)
{
    char text[DEPOT_MONEY_TEXT];
    depot_money_format(cents, text, sizeof(text));
    return cJSON_CreateRaw(text);
}

cJSON *time_json(long long ms)
{
    char when[40];
    if (ms <= 0)
        return cJSON_CreateNull();
    iso8601(when, sizeof(when), ms);
    return cJSON_CreateString(when);
}

bool need_role(hub_api *api, const struct api_request *r, enum hub_role need, enum MHD_Result *ret)
{
    if (r->who && r->who->role >= need)
        return true;
    *ret = send_error(api, r->c, MHD_HTTP_FORBIDDEN, "role too low");
    return false;
}

enum MHD_Result send_store_error(hub_api *api, struct MHD_Connection *c, depot_err err,
                                 const char *what)
{
    if (err == DEPOT_ERR_NOTFOUND)
        return send_error(api, c, MHD_HTTP_NOT_FOUND, what);
    return send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
}

/* ---- GET /api/v1/stock ---- */

struct stock_walk {
    struct body *b;
    long long now, offline_after_ms;
    size_t n;
    struct stock_extra *x; /* GET /stock: filters and extra fields (hub_api_alerts.c) */
};

static int stock_row(void *arg, const struct hub_stock_row *r)
{
    struct stock_walk *w = arg;
    struct hub_staleness st;
    char when[40];

    if (w->x && !stock_extra_keep(w->x, r))
        return 0;
    hub_stale_compute(r, w->now, w->offline_after_ms, &st);
    iso8601(when, sizeof(when), r->updated_at);
    body_str(w->b, w->n++ ? ",\n{\"dealer\":\"" : "{\"dealer\":\"");
    body_str(w->b, r->dealer);
    body_str(w->b, "\",\"sku\":\"");
    body_str(w->b, r->sku);
    body_str(w->b, "\",\"qty\":");
    body_int(w->b, r->qty);
    body_str(w->b, ",\"node\":\"");
    body_str(w->b, r->node);
    body_str(w->b, "\",\"updated_at\":\"");
    body_str(w->b, when);
    body_str(w->b, "\",\"age_s\":");
    body_int(w->b, st.age_s);
    body_str(w->b, st.stale ? ",\"stale\":true,\"stale_reason\":"
                            : ",\"stale\":false,\"stale_reason\":null");
    if (st.stale)
        body_json_string(w->b, st.reason);
    if (w->x)
        stock_extra_fields(w->x, w->b, r);
    body_str(w->b, "}");
    return w->b->failed;
}

/* A query argument: NULL when absent or empty; *bad when present but not an id. */
static const char *id_arg(struct MHD_Connection *c, const char *name, size_t max, bool *bad)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v)
        return NULL;
    if (!depot_id_valid(v, max))
        *bad = true;
    return v;
}

static enum MHD_Result get_stock(hub_api *api, struct MHD_Connection *c)
{
    bool bad = false;
    const char *dealer = id_arg(c, "dealer", DEPOT_DEALER_MAX, &bad);
    const char *sku = id_arg(c, "sku", DEPOT_SKU_MAX, &bad);
    struct body b = {0};
    struct stock_walk w = {&b, depot_now_ms(), api->cfg->offline_after_s * 1000LL, 0, NULL};
    enum MHD_Result ret;
    hub_store *s;
    depot_err err;

    if (bad)
        return send_error(api, c, MHD_HTTP_BAD_REQUEST, "dealer or sku is not a valid id");
    s = reader_take(api);
    ret = stock_extra_new(api, c, s, &w.x);
    if (!w.x) { /* answered */
        reader_give(api, s);
        return ret;
    }
    body_printf(&b, "[");
    err = hub_store_stock(s, dealer, sku, stock_row, &w);
    reader_give(api, s);
    stock_extra_free(w.x);
    body_printf(&b, "]\n");
    if (err != DEPOT_OK) {
        depot_free(b.p);
        return send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
    }
    return send_body(api, c, MHD_HTTP_OK, "application/json", &b);
}

/* ---- GET /api/v1/dealers ---- */

/* A dealer with a profile whose gateway was never heard: listed, offline, never seen. */
static void dealer_never_seen(struct stock_walk *w, const struct hub_dealer_row *r)
{
    body_printf(w->b,
                "%s{\"dealer\":\"%s\",\"online\":false,\"last_seen\":null,\"age_s\":null,"
                "\"first_seen\":null,\"session\":null}",
                w->n++ ? ",\n" : "", r->dealer);
}

static int dealer_row(void *arg, const struct hub_dealer_row *r)
{
    struct stock_walk *w = arg;
    char seen[40], first[40];
    long long age = w->now - r->last_seen;
    bool online = hub_dealer_online(r->online, r->last_seen, w->now, w->offline_after_ms);
    if (r->first_seen == 0 && r->last_seen == 0) {
        dealer_never_seen(w, r);
        return w->b->failed;
    }
    iso8601(seen, sizeof(seen), r->last_seen);
    iso8601(first, sizeof(first), r->first_seen);
    body_printf(w->b,
                "%s{\"dealer\":\"%s\",\"online\":%s,\"last_seen\":\"%s\",\"age_s\":%lld,"
                "\"first_seen\":\"%s\",\"session\":%lld}",
                w->n++ ? ",\n" : "", r->dealer, online ? "true" : "false", seen,
                age > 0 ? age / 1000 : 0, first, r->session);
    return w->b->failed;
}

static enum MHD_Result get_dealers(hub_api *api, struct MHD_Connection *c)
{
    struct body b = {0};
    struct stock_walk w = {&b, depot_now_ms(), api->cfg->offline_after_s * 1000LL, 0, NULL};
    hub_store *s = reader_take(api);
    depot_err err;
    body_printf(&b, "[");
    err = hub_store_dealers_known(s, dealer_row, &w);
    reader_give(api, s);
    body_printf(&b, "]\n");
    if (err != DEPOT_OK) {
        depot_free(b.p);
        return send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
    }
    return send_body(api, c, MHD_HTTP_OK, "application/json", &b);
}

/* ---- GET /api/v1/dealers/<id>/streams ---- */

static int stream_row(void *arg, const struct hub_stream_row *r)
{
    struct stock_walk *w = arg;
    body_printf(w->b,
                "%s{\"ledger\":\"%s\",\"applied_upto\":%llu,\"applied\":%llu,"
                "\"duplicates\":%llu,\"stale_ignored\":%llu}",
                w->n++ ? ",\n" : "", r->ledger, (unsigned long long)r->applied_upto,
                (unsigned long long)r->applied, (unsigned long long)r->duplicates,
                (unsigned long long)r->stale_ignored);
    return w->b->failed;
}

static enum MHD_Result get_streams(hub_api *api, struct MHD_Connection *c, const char *dealer)
{
    struct body b = {0};
    struct stock_walk w = {&b, 0, 0, 0, NULL};
    hub_store *s;
    depot_err err;
    if (!depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return send_error(api, c, MHD_HTTP_NOT_FOUND, "no such dealer");
    s = reader_take(api);
    body_printf(&b, "[");
    err = hub_store_streams(s, dealer, stream_row, &w);
    reader_give(api, s);
    body_printf(&b, "]\n");
    if (err != DEPOT_OK) {
        depot_free(b.p);
        return err == DEPOT_ERR_NOTFOUND
                   ? send_error(api, c, MHD_HTTP_NOT_FOUND, "no such dealer")
                   : send_error(api, c, MHD_HTTP_INTERNAL_SERVER_ERROR, depot_strerror(err));
    }
    return send_body(api, c, MHD_HTTP_OK, "application/json", &b);
}

/* ---- open endpoints ---- */

static enum MHD_Result get_metrics(hub_api *api, struct MHD_Connection *c)
{
    struct body b = {0};
    if (hub_metrics_render(api->metrics, &b.p, &b.len) != DEPOT_OK)
        return MHD_NO;
    b.cap = b.len + 1;
    return send_body(api, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
}

static enum MHD_Result get_healthz(hub_api *api, struct MHD_Connection *c)
{
    struct body b = {0};
    static const char *const names[] = {"disconnected", "connected", "subscribed"};
    const char *mqtt = api->health ? names[api->health(api->health_ctx)] : "unknown";
    body_printf(&b, "{\"status\":\"ok\",\"mqtt\":\"%s\"}\n", mqtt);
    return send_body(api, c, MHD_HTTP_OK, "application/json", &b);
}

/* ---- routing ---- */

#define BODY_MAX (8u * 1024 * 1024) /* a catalog of 10,000 items fits easily */

/* The body of a request being received (PUT, PATCH, POST); freed when it completes. */
struct upload {
    char *p;
    size_t len, cap;
    bool too_large;
};

/* Every body the API takes is one JSON document, with nothing but whitespace after it. */
static bool body_is_one_json(const struct upload *up)
{
    cJSON *j = depot_json_parse(up->p, up->len);
    cJSON_Delete(j);
    return j != NULL;
}

static enum MHD_Result route_api(hub_api *api, struct MHD_Connection *c, const char *method,
                                 const char *path, const struct upload *up)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const struct hub_token *who = NULL;
    depot_err err = hub_auth_token(api->cfg, auth, HUB_ROLE_VIEWER, &who);
    struct api_request r = {c, method, path, up && up->p ? up->p : "", up ? up->len : 0, who};
    char dealer[DEPOT_DEALER_MAX + 2];
    const char *slash;
    bool handled = false, get = !strcmp(method, MHD_HTTP_METHOD_GET);
    enum MHD_Result ret;

    if (err == DEPOT_ERR_AUTH)
        return send_error(api, c, MHD_HTTP_UNAUTHORIZED, "missing or unknown bearer token");
    if (err != DEPOT_OK)
        return send_error(api, c, MHD_HTTP_FORBIDDEN, "role too low");
    if (up && up->too_large)
        return send_error(api, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    if (up && up->len && !body_is_one_json(up))
        return send_error(api, c, MHD_HTTP_BAD_REQUEST,
                          "the body must be one JSON document, with nothing after it");
    if (!strcmp(path, "me"))
        return get ? hub_api_me(api, &r)
                   : send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here");
    if (!strcmp(path, "stock") || !strcmp(path, "dealers"))
        return !get ? send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here")
               : path[0] == 's' ? get_stock(api, c)
                                : get_dealers(api, c);
    if (!strncmp(path, "dealers/", 8) && (slash = strchr(path + 8, '/')) &&
        !strcmp(slash, "/streams") && (size_t)(slash - path - 8) < sizeof(dealer)) {
        if (!get)
            return send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here");
        snprintf(dealer, sizeof(dealer), "%.*s", (int)(slash - path - 8), path + 8);
        return get_streams(api, c, dealer);
    }
    ret = hub_api_ranking_route(api, &r, &handled);
    if (handled)
        return ret;
    ret = hub_api_alerts_route(api, &r, &handled);
    if (handled)
        return ret;
    ret = hub_api_orders_route(api, &r, &handled);
    return handled ? ret : send_error(api, c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static bool upload_append(struct upload *up, const char *data, size_t n)
{
    char *p;
    size_t cap = up->cap ? up->cap : 4096;
    if (up->too_large || up->len + n >= BODY_MAX) {
        up->too_large = true;
        return true; /* keep reading, answer 413 at the end */
    }
    while (cap <= up->len + n)
        cap *= 2;
    if (cap != up->cap) {
        p = depot_realloc(up->p, cap);
        if (!p)
            return false;
        up->p = p;
        up->cap = cap;
    }
    memcpy(up->p + up->len, data, n);
    up->len += n;
    up->p[up->len] = '\0';
    return true;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *req_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (up) {
        depot_free(up->p);
        depot_free(up);
        *req_cls = NULL;
    }
}

static bool has_body(const char *method)
{
    return !strcmp(method, MHD_HTTP_METHOD_PUT) || !strcmp(method, MHD_HTTP_METHOD_POST) ||
           !strcmp(method, MHD_HTTP_METHOD_PATCH);
}

/*
 * libmicrohttpd calls this several times per request with a body: first
 * with the headers only (*req_cls NULL: we attach an upload), then with
 * each piece of the body (*upload_size > 0: appended, marked consumed), then
 * once more with *upload_size == 0: the body is complete and we answer.
 */
static enum MHD_Result serve_request(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_size, void **req_cls)
{
    hub_api *api = cls;
    struct upload *up = *req_cls;
    (void)version;
    if (has_body(method) && !up) {
        up = depot_calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *req_cls = up;
        return MHD_YES;
    }
    if (up && *upload_size) {
        bool ok = upload_append(up, upload_data, *upload_size);
        *upload_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    hub_metrics_add(api->metrics, HUB_C_API_REQUESTS, 1);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && !up)
        return send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "only GET, PUT, PATCH and POST are served");
    if (!strcmp(url, "/metrics") || !strcmp(url, "/healthz"))
        return up ? send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here")
               : url[1] == 'm' ? get_metrics(api, c)
                               : get_healthz(api, c);
    if (!strncmp(url, "/api/v1/", 8))
        return route_api(api, c, method, url + 8, up);
    if (hub_static_owns(url))
        return up ? send_error(api, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here")
                  : hub_static_serve(api, c, url);
    return send_error(api, c, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

/* serve_request, timed for /metrics when it is the call that answers (not a body piece). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    hub_api *api = cls;
    bool answers = !(has_body(method) && !*req_cls) && !(*req_cls && *upload_size);
    long long t0 = answers ? hub_metrics_now_us() : 0;
    enum MHD_Result ret =
        serve_request(cls, c, url, method, version, upload_data, upload_size, req_cls);
    if (answers)
        hub_metrics_api_latency(api->metrics, hub_metrics_api_class(url),
                                hub_metrics_now_us() - t0);
    return ret;
}

static depot_err open_readers(hub_api *api)
{
    api->n_readers = (size_t)api->cfg->http_threads;
    api->readers = depot_calloc(api->n_readers, sizeof(*api->readers));
    if (!api->readers)
        return DEPOT_ERR_NOMEM;
    for (; api->n_free < api->n_readers; api->n_free++) {
        depot_err err = hub_store_open(api->cfg->db, &api->readers[api->n_free]);
        if (err != DEPOT_OK)
            return err;
    }
    return DEPOT_OK;
}

static depot_err start_daemon(hub_api *api)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)api->cfg->http_port)};
    if (inet_pton(AF_INET, api->cfg->http_addr, &sa.sin_addr) != 1) {
        LOG_ERROR("http: listen address %s is not IPv4", api->cfg->http_addr);
        return DEPOT_ERR_CONFIG;
    }
    api->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                         (uint16_t)api->cfg->http_port, NULL, NULL, on_request, api,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)api->cfg->http_threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!api->daemon) {
        LOG_ERROR("http: cannot listen on %s:%ld", api->cfg->http_addr, api->cfg->http_port);
        return DEPOT_ERR_IO;
    }
    LOG_INFO("http: listening on %s:%ld (%ld threads)", api->cfg->http_addr, api->cfg->http_port,
             api->cfg->http_threads);
    return DEPOT_OK;
}

depot_err hub_api_new(const struct hub_config *cfg, hub_metrics *metrics, hub_health_fn health,
                      const void *health_ctx, hub_api **out)
{
    hub_api *api = depot_calloc(1, sizeof(*api));
    depot_err err;
    if (!api)
        return DEPOT_ERR_NOMEM;
    api->cfg = cfg;
    api->metrics = metrics;
    api->health = health;
    api->health_ctx = health_ctx;
    pthread_mutex_init(&api->lock, NULL);
    pthread_cond_init(&api->freed, NULL);
    err = open_readers(api);
    if (err == DEPOT_OK)
        err = hub_static_new(cfg->http_dashboard, &api->dashboard);
    if (err == DEPOT_OK)
        err = start_daemon(api);
    if (err != DEPOT_OK) {
        hub_api_free(api);
        return err;
    }
    *out = api;
    return DEPOT_OK;
}

void hub_api_free(hub_api *api)
{
    if (!api)
        return;
    if (api->daemon)
        MHD_stop_daemon(api->daemon);
    for (size_t i = 0; i < api->n_free; i++)
        hub_store_free(api->readers[i]);
    depot_free(api->readers);
    hub_static_free(api->dashboard);
    pthread_mutex_destroy(&api->lock);
    pthread_cond_destroy(&api->freed);
    depot_free(api);
}
