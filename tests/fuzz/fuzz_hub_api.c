/*
 * Fuzz target: the hub's HTTP API, its route table and every handler, with
 * request bodies and query strings from the fuzzer, through api_dispatch as
 * the libmicrohttpd callback hands requests over (no socket), on a real
 * SQLite store in a temporary folder (kept across inputs, so writes build up
 * state the next requests read). The input: [method byte][token byte] then
 * "PATH?QUERY\nBODY" (a PATH without a leading / is under /api/v1/; QUERY is
 * name=value pairs joined by &). Properties: the status is an HTTP status,
 * and a JSON answer is one JSON document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "api/http.h"
#include "api/routes.h"
#include "config.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "metrics.h"
#include "store/store.h"

#define QUERY_PAIRS 16
#define PATH_MAX_LEN 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hub_config cfg;
static hub_metrics *metrics;
static hub_api *api;
static char dir[64];

static void cleanup(void)
{
    char cmd[128];
    hub_api_free(api);
    hub_metrics_free(metrics);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_hub_api: could not remove %s\n", dir);
}

static void add_token(const char *name, enum hub_role role)
{
    struct hub_token *t = &cfg.tokens[cfg.n_tokens++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->token, sizeof(t->token), "%s-token-fuzz", name);
    t->role = role;
}

static void init(void)
{
    hub_store *s = NULL;
    depot_log_init("fuzz_hub_api", DEPOT_LOG_ERROR + 1);
    snprintf(dir, sizeof(dir), "/tmp/depot-fuzz-api.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    hub_config_defaults(&cfg);
    snprintf(cfg.db, sizeof(cfg.db), "%s/hub.db", dir);
    snprintf(cfg.http_dashboard, sizeof(cfg.http_dashboard), "%s", dir);
    cfg.http_threads = 1;
    add_token("viewer", HUB_ROLE_VIEWER);
    add_token("approver", HUB_ROLE_APPROVER);
    add_token("admin", HUB_ROLE_ADMIN);
    if (hub_metrics_new(&metrics) != DEPOT_OK || hub_store_open(cfg.db, &s) != DEPOT_OK)
        abort();
    hub_store_free(s); /* made and migrated; the API opens its own readers and writer */
    if (hub_api_new(&cfg, metrics, NULL, NULL, &api) != DEPOT_OK)
        abort();
    atexit(cleanup);
}

/* Splits q ("a=1&b=2") in place into name, value, ..., NULL. */
static void split_query(char *q, const char **out)
{
    size_t n = 0;
    while (q && *q && n < 2 * QUERY_PAIRS) {
        char *amp = strchr(q, '&'), *eq;
        if (amp)
            *amp = '\0';
        eq = strchr(q, '=');
        if (eq)
            *eq = '\0';
        out[n++] = q;
        out[n++] = eq ? eq + 1 : "";
        q = amp ? amp + 1 : NULL;
    }
    out[n] = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    static const char *const auth[] = {NULL,
                                       "Bearer viewer-token-fuzz",
                                       "Bearer approver-token-fuzz",
                                       "Bearer admin-token-fuzz",
                                       "Bearer nope",
                                       "Basic x"};
    static bool ready;
    const char *query[2 * QUERY_PAIRS + 1];
    char url[PATH_MAX_LEN + 16], *text, *nl, *qm, *body;
    struct api_reply reply;
    struct api_request r;
    enum hub_api_class metric;

    if (!ready) {
        init();
        ready = true;
    }
    if (size < 2)
        return 0;
    text = depot_malloc(size - 1);
    if (!text)
        return 0;
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    nl = strchr(text, '\n');
    body = nl ? nl + 1 : "";
    if (nl)
        *nl = '\0';
    qm = strchr(text, '?');
    if (qm)
        *qm++ = '\0';
    split_query(qm, query);
    snprintf(url, sizeof(url), "%s%.*s", text[0] == '/' ? "" : "/api/v1/", PATH_MAX_LEN, text);

    memset(&reply, 0, sizeof(reply));
    memset(&r, 0, sizeof(r));
    r.method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
    r.authorization = auth[data[1] % (sizeof(auth) / sizeof(auth[0]))];
    r.url = url;
    r.query = query;
    r.body = body;
    r.len = strlen(body);
    r.reply = &reply;
    (void)api_dispatch(api, &r, false, &metric);
    if (reply.status < 100 || reply.status > 599)
        abort();
    if (reply.body && !strcmp(reply.type, "application/json")) {
        struct cJSON *j = depot_json_parse(reply.body, reply.len);
        if (!j)
            abort(); /* a JSON answer is one JSON document */
        cJSON_Delete(j);
    }
    depot_free(reply.body);
    depot_free(text);
    return 0;
}
