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
 * This file owns the daemon, the pool and the reading of request bodies: a
 * request with a body (PUT, PATCH, POST) is read whole (at most BODY_MAX)
 * before it is handed to the route table (routes.c), which authenticates,
 * checks the body and chooses the handler. Errors are {"error": "..."}.
 * The one exception is a route that streams its body (api_route_streams: a
 * training file, far larger than BODY_MAX): its request is authenticated
 * with the headers, and its body goes piece by piece into a file sink
 * (files.h) that the handler finishes.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <mbedtls/sha256.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "statements.h"
#include "store/store.h"

#define BODY_MAX (8u * 1024 * 1024) /* a catalog of 10,000 items fits easily */
/* An upload's temporary file not written for this long was left by a stopped hub (a live
 * upload writes every time a piece arrives; [http] idle_timeout_s is at most an hour). */
#define UPLOAD_STALE_S (6 * 3600)

/* The body of a request being received (PUT, PATCH, POST); freed when it completes. */
struct upload {
    char *p;
    size_t len, cap;
    bool too_large;
    hub_file_sink *sink; /* a streamed body (api_route_streams), else NULL */
};

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
        hub_file_sink_free(up->sink);
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
/* The connection's peer address as text ("" if it has none). */
static void client_address(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
}

/* The headers of a request whose route streams its body: authenticated and checked now
 * (api_stream_open answers a refusal at once, and MHD drops the body), then the sink opened. */
static enum MHD_Result stream_open(hub_api *api, struct api_request *r, hub_file_sink **sink)
{
    bool answered = false;
    enum MHD_Result ret;
    r->authorization = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Authorization");
    r->content_type = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Content-Type");
    r->idem_key = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Idempotency-Key");
    client_address(r->c, r->addr, sizeof(r->addr));
    ret = api_stream_open(api, r, sink, &answered);
    if (answered)
        hub_metrics_add(api->metrics, HUB_C_API_REQUESTS, 1);
    return ret;
}

static enum MHD_Result serve_request(hub_api *api, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *upload_data,
                                     size_t *upload_size, void **req_cls,
                                     enum hub_api_class *metric)
{
    struct upload *up = *req_cls;
    struct api_request r = {.c = c, .method = method, .url = url, .body = ""};
    bool ok = true;
    if (has_body(method) && !up) {
        up = depot_calloc(1, sizeof(*up));
        if (!up)
            return MHD_NO;
        *req_cls = up;
        return api_route_streams(method, url) ? stream_open(api, &r, &up->sink) : MHD_YES;
    }
    if (up && *upload_size) {
        if (up->sink)
            hub_file_sink_write(up->sink, upload_data, *upload_size);
        else
            ok = upload_append(up, upload_data, *upload_size);
        *upload_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    hub_metrics_add(api->metrics, HUB_C_API_REQUESTS, 1);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && !up)
        return api_send_error(api, &r, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "only GET, PUT, PATCH and POST are served");
    if (up && up->p) {
        r.body = up->p;
        r.len = up->len;
    }
    r.sink = up ? up->sink : NULL;
    r.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    r.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    r.idem_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    client_address(c, r.addr, sizeof(r.addr));
    return api_dispatch(api, &r, up && up->too_large, metric);
}

/* serve_request, timed for /metrics when it is the call that answers (not a body piece). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    hub_api *api = cls;
    bool answers = !(has_body(method) && !*req_cls) && !(*req_cls && *upload_size);
    long long t0 = answers ? depot_mono_us() : 0;
    enum hub_api_class metric = HUB_API_DASHBOARD;
    enum MHD_Result ret =
        serve_request(api, c, url, method, upload_data, upload_size, req_cls, &metric);
    (void)version;
    if (answers)
        hub_metrics_api_latency(api->metrics, metric, depot_mono_us() - t0);
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

/* Raises the soft limit on open files to want (at most the hard limit); logs what it got. */
static void raise_file_limit(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        LOG_WARN("http: open files limited to %llu: fewer connections than [http] "
                 "max_connections can be open",
                 (unsigned long long)rl.rlim_cur);
}

depot_err hub_api_listen(hub_api *api)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)api->cfg->http_port)};
    unsigned limit = (unsigned)api->cfg->http_max_connections;
    if (inet_pton(AF_INET, api->cfg->http_addr, &sa.sin_addr) != 1) {
        LOG_ERROR("http: listen address %s is not IPv4", api->cfg->http_addr);
        return DEPOT_ERR_CONFIG;
    }
    /* One address cannot hold every connection (idle or half-sent requests from one
     * client leave room for the others); the file limit is raised to hold them all. */
    if (limit < 4 * (unsigned)api->cfg->http_threads) /* the pool shares it out by thread */
        limit = 4 * (unsigned)api->cfg->http_threads;
    raise_file_limit((rlim_t)limit + 256);
    api->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
        (uint16_t)api->cfg->http_port, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)api->cfg->http_threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)api->cfg->http_idle_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)api->cfg->http_max_per_ip, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!api->daemon) {
        LOG_ERROR("http: cannot listen on %s:%ld", api->cfg->http_addr, api->cfg->http_port);
        return DEPOT_ERR_IO;
    }
    LOG_INFO("http: listening on %s:%ld (%ld threads)", api->cfg->http_addr, api->cfg->http_port,
             api->cfg->http_threads);
    return DEPOT_OK;
}

/* The key of training media links: SHA-256 of [training] link_key (the same on every hub that
 * serves one portal), else random for this process (its links die with it). */
static void set_link_key(hub_api *api)
{
    const char *k = api->cfg->training_link_key;
    if (*k)
        mbedtls_sha256_ret((const unsigned char *)k, strlen(k), api->link_key, 0);
    else
        randombytes_buf(api->link_key, sizeof(api->link_key));
}

depot_err hub_api_new(const struct hub_config *cfg, hub_metrics *metrics, hub_health_fn health,
                      const void *health_ctx, hub_api **out)
{
    hub_api *api = depot_calloc(1, sizeof(*api));
    depot_err err;
    int swept;
    if (!api)
        return DEPOT_ERR_NOMEM;
    api->cfg = cfg;
    api->metrics = metrics;
    api->health = health;
    api->health_ctx = health_ctx;
    pthread_mutex_init(&api->lock, NULL);
    pthread_cond_init(&api->freed, NULL);
    set_link_key(api);
    hub_files_sweep(cfg->files_dir, UPLOAD_STALE_S, &swept);
    err = open_readers(api);
    if (err == DEPOT_OK)
        err = hub_accounts_new(cfg, &api->accounts);
    if (err == DEPOT_OK)
        err = hub_statements_new(cfg, &api->statements);
    if (err == DEPOT_OK)
        err = hub_static_new(cfg->http_dashboard, &api->dashboard);
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
    hub_accounts_free(api->accounts);
    hub_statements_free(api->statements);
    pthread_mutex_destroy(&api->lock);
    pthread_cond_destroy(&api->freed);
    depot_free(api);
}
