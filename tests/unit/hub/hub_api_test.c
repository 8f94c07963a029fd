/*
 * The hub's HTTP API through its route table, without a socket: a request
 * (method, URL, token, query, body) goes to api_dispatch exactly as the
 * libmicrohttpd callback hands it over, and the status and JSON that come
 * back are checked. The store is a real SQLite file in a temp folder (a fresh
 * PostgreSQL database in unit.hub_api_test.pg); the dashboard folder holds
 * one real index.html.
 */
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "api/http.h"
#include "api/pager.h"
#include "api/routes.h"
#include "store/accounts.h"
#include "store/alerts.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "store/shipments.h"
#include "store/statements.h"
#include "hub_test_util.h"

#define VIEWER "Bearer viewer-token-000"
#define APPROVER "Bearer approver-token-000"
#define ADMIN "Bearer admin-token-000"
#define NOW 1767225600000LL /* 2026-01-01 */

struct fixture {
    char dir[256];
    struct hub_config cfg;
    hub_metrics *metrics;
    hub_store *writer;
    hub_api *api;
    struct api_reply reply;
    cJSON *json; /* the last reply's body, parsed */
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char dash[300];
    test_tmpdir(f->dir, sizeof(f->dir));
    hub_config_defaults(&f->cfg);
    test_store_location(f->cfg.db, sizeof(f->cfg.db), f->dir, "hub.db");
    snprintf(dash, sizeof(dash), "%.200s/dash", f->dir);
    assert_int_equal(mkdir(dash, 0700), 0);
    snprintf(f->cfg.http_dashboard, sizeof(f->cfg.http_dashboard), "%.200s/dash", f->dir);
    snprintf(f->cfg.files_dir, sizeof(f->cfg.files_dir), "%.200s/files", f->dir);
    strcat(dash, "/index.html");
    write_file(dash, "<!doctype html><title>Depot</title>\n");
    f->cfg.http_threads = 2;
    f->cfg.auth_pwhash_ops = 1; /* the cheapest Argon2id: the tests are about the flow */
    f->cfg.auth_pwhash_mem_kib = 8192;
    test_add_token(&f->cfg, "viewer", HUB_ROLE_VIEWER, NULL);
    test_add_token(&f->cfg, "approver", HUB_ROLE_APPROVER, NULL);
    test_add_token(&f->cfg, "admin", HUB_ROLE_ADMIN, NULL);
    assert_int_equal(hub_metrics_new(&f->metrics), DEPOT_OK);
    assert_int_equal(hub_store_open(f->cfg.db, &f->writer), DEPOT_OK);
    assert_int_equal(hub_api_new(&f->cfg, f->metrics, NULL, NULL, &f->api), DEPOT_OK);
    *state = f;
    return 0;
}

static void reply_clear(struct fixture *f)
{
    cJSON_Delete(f->json);
    f->json = NULL;
    depot_free(f->reply.body);
    memset(&f->reply, 0, sizeof(f->reply));
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    reply_clear(f);
    hub_api_free(f->api);
    hub_store_free(f->writer);
    hub_metrics_free(f->metrics);
    test_store_drop(f->cfg.db);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* call() with an Idempotency-Key (NULL: none). */
static unsigned call_key(struct fixture *f, const char *method, const char *url, const char *auth,
                         const char *const *query, const char *body, const char *key)
{
    struct api_request r = {.method = method,
                            .url = url,
                            .authorization = auth,
                            .idem_key = key,
                            .query = query,
                            .body = body ? body : "",
                            .len = body ? strlen(body) : 0,
                            .reply = &f->reply};
    enum hub_api_class metric;
    reply_clear(f);
    assert_int_equal(api_dispatch(f->api, &r, false, &metric), MHD_YES);
    assert_non_null(f->reply.body);
    if (!strcmp(f->reply.type, "application/json"))
        assert_non_null(f->json = cJSON_ParseWithLength(f->reply.body, f->reply.len));
    return f->reply.status;
}

/* One request through the route table; the status it answered (the body parsed in f->json). */
static unsigned call(struct fixture *f, const char *method, const char *url, const char *auth,
                     const char *const *query, const char *body)
{
    return call_key(f, method, url, auth, query, body, NULL);
}

static const char *error_of(const struct fixture *f)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(f->json, "error");
    return cJSON_IsString(e) ? e->valuestring : "";
}

/* Applies m through the writer store, in a transaction of its own. */
static void apply_msg(struct fixture *f, const depot_msg *m)
{
    enum hub_apply_result res;
    uint64_t upto;
    assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
    assert_int_equal(hub_store_apply(f->writer, m, NOW, &res, &upto), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
}

static void stock(struct fixture *f, const char *dealer, const char *sku, long long qty,
                  uint64_t id)
{
    depot_msg m = test_stock(dealer, LEDGER_A, id, 1, NOW, sku, qty);
    apply_msg(f, &m);
}

static void test_api_auth_UnknownOrMissingTokenIs401(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/api/v1/stock", NULL, NULL, NULL), 401);
    assert_string_equal(error_of(f), "missing or unknown bearer token");
    assert_int_equal(call(f, "GET", "/api/v1/stock", "Bearer nope", NULL, NULL), 401);
    /* an unknown path under /api/v1/ is not revealed to a caller without a token */
    assert_int_equal(call(f, "GET", "/api/v1/nothing", NULL, NULL, NULL), 401);
}

static void test_api_routes_UnknownPathIs404AndWrongMethodIs405(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/api/v1/nothing", VIEWER, NULL, NULL), 404);
    assert_string_equal(error_of(f), "no such endpoint");
    assert_int_equal(call(f, "GET", "/nothing", NULL, NULL, NULL), 404);
    assert_int_equal(call(f, "POST", "/api/v1/catalog", ADMIN, NULL, "{}"), 405);
    assert_string_equal(error_of(f), "only GET, PUT are served here");
    assert_int_equal(call(f, "POST", "/api/v1/stock", ADMIN, NULL, "{}"), 405);
    assert_string_equal(error_of(f), "only GET is served here");
}

static void test_api_routes_RoleBelowTheRouteIs403(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", VIEWER, NULL, "[]"), 403);
    assert_string_equal(error_of(f), "role too low");
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", APPROVER, NULL, "[]"), 403);
    assert_int_equal(call(f, "POST", "/api/v1/payments", VIEWER, NULL, "{}"), 403);
}

static void test_api_routes_BadArgumentIs404(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/api/v1/dealers/bad%20id", VIEWER, NULL, NULL), 404);
    assert_string_equal(error_of(f), "no such dealer");
    assert_int_equal(call(f, "GET", "/api/v1/alerts/0", VIEWER, NULL, NULL), 404);
    assert_string_equal(error_of(f), "no such alert");
    assert_int_equal(call(f, "GET", "/api/v1/alerts/12x", VIEWER, NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/orders/", VIEWER, NULL, NULL), 404);
    assert_string_equal(error_of(f), "no such order");
    assert_int_equal(call(f, "GET", "/api/v1/orders/o-404", VIEWER, NULL, NULL), 404);
}

static void test_api_body_NotOneJsonDocumentIs400(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, "[] []"), 400);
    assert_string_equal(error_of(f), "the body must be one JSON document, with nothing after it");
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, "{\"x\":"), 400);
}

static void test_api_catalog_PutThenGet(void **state)
{
    struct fixture *f = *state;
    const cJSON *items, *it;
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[{\"sku\":\"S1\",\"barcode\":\"4006381333931\",\"price\":\"12.50\","
                          "\"unit_weight_g\":250,\"min_qty\":1,\"max_qty\":50,\"reorder_point\":5,"
                          "\"lead_time_days\":3,\"max_stock\":100}]"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/catalog", VIEWER, NULL, NULL), 200);
    items = cJSON_GetObjectItemCaseSensitive(f->json, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    it = cJSON_GetArrayItem(items, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(it, "sku")->valuestring, "S1");
    assert_true(cJSON_GetObjectItemCaseSensitive(it, "price")->valuedouble == 12.5);
    /* a price with three decimals is refused whole, nothing written */
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[{\"sku\":\"S2\",\"barcode\":\"4006381333948\",\"price\":1.005,"
                          "\"unit_weight_g\":1,\"min_qty\":1,\"max_qty\":5,\"reorder_point\":0,"
                          "\"lead_time_days\":0,\"max_stock\":0}]"),
                     400);
    assert_string_equal(error_of(f), "items[0].price: not an amount with at most 2 decimals");
    assert_int_equal(call(f, "GET", "/api/v1/catalog", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f->json, "items")), 1);
}

static void test_api_stock_RowsAndFilters(void **state)
{
    struct fixture *f = *state;
    static const char *const only_b[] = {"dealer", "B", NULL};
    static const char *const bad[] = {"sku", "no such!", NULL};
    const cJSON *row;
    stock(f, "A", "S1", 7, 1);
    stock(f, "B", "S1", 3, 1);
    assert_int_equal(call(f, "GET", "/api/v1/stock", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 2);
    assert_int_equal(call(f, "GET", "/api/v1/stock", VIEWER, only_b, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    row = cJSON_GetArrayItem(f->json, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "dealer")->valuestring, "B");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(row, "qty")->valueint, 3);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(row, "days_of_cover"));
    assert_int_equal(call(f, "GET", "/api/v1/stock", VIEWER, bad, NULL), 400);
}

static void test_api_dealers_PatchThenGet(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "PATCH", "/api/v1/dealers/D-9", VIEWER, NULL, "{\"name\":\"North\"}"),
                     403);
    assert_int_equal(call(f, "GET", "/api/v1/dealers/D-9", VIEWER, NULL, NULL), 404);
    assert_int_equal(call(f, "PATCH", "/api/v1/dealers/D-9", ADMIN, NULL,
                          "{\"name\":\"North\",\"region\":\"west\",\"credit_limit\":\"100.00\"}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/dealers/D-9", VIEWER, NULL, NULL), 200);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f->json, "name")->valuestring, "North");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f->json, "region")->valuestring, "west");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "profile")));
    assert_int_equal(call(f, "PATCH", "/api/v1/dealers/D-9", ADMIN, NULL, "{\"colour\":1}"), 400);
    assert_int_equal(call(f, "GET", "/api/v1/dealers", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
}

static void test_api_me_NamesTheToken(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/api/v1/me", APPROVER, NULL, NULL), 200);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f->json, "name")->valuestring, "approver");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f->json, "role")->valuestring, "approver");
}

static void test_api_open_HealthMetricsAndDashboardNeedNoToken(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/healthz", NULL, NULL, NULL), 200);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(f->json, "mqtt")->valuestring, "unknown");
    assert_int_equal(call(f, "GET", "/metrics", NULL, NULL, NULL), 200);
    assert_non_null(strstr(f->reply.body, "depot_hub_api_errors_total"));
    assert_int_equal(call(f, "GET", "/", NULL, NULL, NULL), 200);
    assert_string_equal(f->reply.type, "text/html; charset=utf-8");
    assert_non_null(strstr(f->reply.body, "<title>Depot</title>"));
    assert_int_equal(call(f, "GET", "/static/../hub.db", NULL, NULL, NULL), 404);
}

static void test_api_alerts_EmptyListAndBadFilter(void **state)
{
    struct fixture *f = *state;
    static const char *const bad_limit[] = {"limit", "0", NULL};
    assert_int_equal(call(f, "GET", "/api/v1/alerts", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 0);
    assert_int_equal(call(f, "GET", "/api/v1/alerts", VIEWER, bad_limit, NULL), 400);
    assert_int_equal(call(f, "POST", "/api/v1/alerts/5/ack", VIEWER, NULL, NULL), 403);
    assert_int_equal(call(f, "POST", "/api/v1/alerts/5/ack", APPROVER, NULL, NULL), 404);
}

/* A listing read page by page with limit= and the X-Next-After cursor, until no cursor
 * comes: every item once, in the list's order; the ids of the items, newest first. */
static int read_pages(struct fixture *f, const char *path, const char *limit, char ids[][64],
                      int cap, const char *key)
{
    char after[128] = "";
    int n = 0, pages = 0;
    do {
        const char *q[] = {"limit", limit, after[0] ? "after" : NULL, after, NULL};
        const cJSON *it;
        assert_int_equal(call(f, "GET", path, VIEWER, q, NULL), 200);
        cJSON_ArrayForEach(it, f->json)
        {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, key);
            assert_true(n < cap);
            if (cJSON_IsNumber(k))
                snprintf(ids[n++], 64, "%lld", (long long)k->valuedouble);
            else
                snprintf(ids[n++], 64, "%s", k->valuestring);
        }
        snprintf(after, sizeof(after), "%s", f->reply.next);
        assert_true(++pages <= cap);
    } while (after[0]);
    return n;
}

static void test_api_alerts_PagesWithACursor(void **state)
{
    struct fixture *f = *state;
    char ids[32][64], all[32][64];
    int n, total;
    static const char *const bad_after[] = {"after", "x7", NULL};
    for (int i = 0; i < 7; i++) {
        char sku[16];
        struct hub_alert_put p = {"A", sku, "low_stock", "", "warning", "low", "", "", NOW + i};
        snprintf(sku, sizeof(sku), "S%d", i);
        assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
        assert_int_equal(hub_store_alert_put(f->writer, &p, NULL, NULL), DEPOT_OK);
        assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
    }
    assert_int_equal(call(f, "GET", "/api/v1/alerts", VIEWER, NULL, NULL), 200);
    total = cJSON_GetArraySize(f->json);
    assert_int_equal(total, 7);
    assert_string_equal(f->reply.next, "");
    for (int i = 0; i < total; i++)
        snprintf(all[i], 64, "%lld",
                 (long long)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(f->json, i), "id")
                     ->valuedouble);
    n = read_pages(f, "/api/v1/alerts", "3", ids, 32, "id"); /* 3 + 3 + 1 */
    assert_int_equal(n, total);
    for (int i = 0; i < n; i++)
        assert_string_equal(ids[i], all[i]);                 /* newest first, each once */
    n = read_pages(f, "/api/v1/alerts", "7", ids, 32, "id"); /* exactly one page */
    assert_int_equal(n, 7);
    assert_int_equal(call(f, "GET", "/api/v1/alerts", VIEWER, bad_after, NULL), 400);
}

/* Puts alerts for dealer on skus S<first>..S<first+n-1>, opened at NOW + i minutes. */
static void put_alerts(struct fixture *f, const char *dealer, int first, int n, const char *text)
{
    assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
    for (int i = first; i < first + n; i++) {
        char sku[16];
        struct hub_alert_put p = {dealer, sku, "low_stock",      "", "warning", text,
                                  "",     "",  NOW + i * 60000LL};
        snprintf(sku, sizeof(sku), "S%d", i);
        assert_int_equal(hub_store_alert_put(f->writer, &p, NULL, NULL), DEPOT_OK);
    }
    assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
}

static int count_lines(const struct fixture *f)
{
    int n = 0;
    for (size_t i = 0; i < f->reply.len; i++)
        n += f->reply.body[i] == '\n';
    return n;
}

static void test_api_export_AlertsAsCsvAndJsonLines(void **state)
{
    struct fixture *f = *state;
    static const char *const csv[] = {"format", "csv", NULL};
    static const char *const jsonl[] = {"format", "jsonl", "dealer", "B", NULL};
    static const char *const ranged[] = {
        "format", "jsonl", "from", "1767225660000", "to", "2026-01-01T00:02:00Z", NULL};
    static const char *const bad_format[] = {"format", "xml", NULL};
    static const char *const bad_range[] = {"format", "csv", "from", "2026-13-01", NULL};
    static const char *const backwards[] = {
        "format", "csv", "from", "2026-01-02", "to", "2026-01-01T00:00:00Z", NULL};
    cJSON *row;
    put_alerts(f, "A", 0, 3, "=1+2, \"low\"");
    put_alerts(f, "B", 3, 1, "low");

    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, csv, NULL), 200);
    assert_string_equal(f->reply.type, "text/csv; charset=utf-8");
    assert_non_null(strstr(f->reply.body, "id,dealer,sku,kind,subject,severity,status,text,action,"
                                          "opened_at,updated_at,acked_by,acked_at,resolved_by,"
                                          "resolved_at,count\r\n"));
    assert_int_equal(count_lines(f), 5); /* the header and 4 alerts */
    /* quoted, quotes doubled, the formula made text */
    assert_non_null(strstr(f->reply.body, ",S0,low_stock,,warning,open,\"'=1+2, \"\"low\"\"\","));
    assert_non_null(strstr(f->reply.body, ",2026-01-01T00:00:00.000Z,"));

    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, jsonl, NULL), 200);
    assert_string_equal(f->reply.type, "application/x-ndjson");
    assert_int_equal(count_lines(f), 1);
    assert_non_null(row = cJSON_ParseWithLength(f->reply.body, f->reply.len));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(row, "sku")->valuestring, "S3");
    cJSON_Delete(row);

    /* [00:01, 00:02): only S1 */
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, ranged, NULL), 200);
    assert_int_equal(count_lines(f), 1);
    assert_non_null(strstr(f->reply.body, "\"sku\":\"S1\""));

    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, bad_format, NULL), 400);
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, bad_range, NULL), 400);
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, backwards, NULL), 400);
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", NULL, csv, NULL), 401);
}

/* More alerts than a page of the pager: every one exported once. */
static void test_api_export_SpansPages(void **state)
{
    struct fixture *f = *state;
    static const char *const csv[] = {"format", "csv", NULL};
    static const char *const empty[] = {"format", "jsonl", "from", "2030-01-01", NULL};
    put_alerts(f, "A", 0, API_PAGE_ROWS * 2 + 7, "low");
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, csv, NULL), 200);
    assert_int_equal(count_lines(f), API_PAGE_ROWS * 2 + 7 + 1);
    assert_int_equal(call(f, "GET", "/api/v1/export/alerts", VIEWER, empty, NULL), 200);
    assert_int_equal(f->reply.len, 0);
}

static void test_api_orders_PagesWithACursor(void **state)
{
    struct fixture *f = *state;
    char ids[32][64];
    static const char *const bad_after[] = {"after", "nope", NULL};
    int n;
    for (int i = 0; i < 5; i++) {
        struct hub_order o;
        struct hub_order_line l = {"4006381333931", "S1", 1, 100};
        memset(&o, 0, sizeof(o));
        snprintf(o.id, sizeof(o.id), "o-%d", i);
        snprintf(o.dealer, sizeof(o.dealer), "A");
        snprintf(o.ledger, sizeof(o.ledger), LEDGER_A);
        o.number = i + 1;
        o.created = o.received_at = o.stage_since = NOW + (i < 2 ? 0 : i); /* two at one time */
        snprintf(o.status, sizeof(o.status), "pending");
        snprintf(o.stage, sizeof(o.stage), "sales");
        o.total = 100;
        assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
        assert_int_equal(hub_store_order_insert(f->writer, &o, &l, 1, "{}", "sig"), DEPOT_OK);
        assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
    }
    n = read_pages(f, "/api/v1/orders", "2", ids, 32, "order");
    assert_int_equal(n, 5);
    assert_string_equal(ids[0], "o-4"); /* newest first; o-0 and o-1 came at one time */
    assert_string_equal(ids[3], "o-0");
    assert_string_equal(ids[4], "o-1");
    assert_int_equal(call(f, "GET", "/api/v1/orders", VIEWER, bad_after, NULL), 400);

    /* exported: created in [NOW+2, NOW+4): o-2 and o-3, newest first */
    static const char *const csv[] = {"format", "csv",           "from", "1767225600002",
                                      "to",     "1767225600004", NULL};
    assert_int_equal(call(f, "GET", "/api/v1/export/orders", VIEWER, csv, NULL), 200);
    assert_string_equal(f->reply.type, "text/csv; charset=utf-8");
    assert_string_equal(f->reply.body,
                        "order,dealer,ledger,number,terminal,status,stage,reason,total,escalated,"
                        "created,received_at,stage_since,decided_at,delivered\r\n"
                        "o-3,A," LEDGER_A ",4,,pending,sales,,1.00,false,2026-01-01T00:00:00.003Z,"
                        "2026-01-01T00:00:00.003Z,2026-01-01T00:00:00.003Z,,false\r\n"
                        "o-2,A," LEDGER_A ",3,,pending,sales,,1.00,false,2026-01-01T00:00:00.002Z,"
                        "2026-01-01T00:00:00.002Z,2026-01-01T00:00:00.002Z,,false\r\n");
}

static void test_api_dealers_PagesWithACursor(void **state)
{
    struct fixture *f = *state;
    char ids[32][64];
    static const char *const bad_after[] = {"after", "no such id", NULL};
    static const char *const heard[] = {"A", "C", "E"}, *const profiled[] = {"B", "D"};
    const cJSON *b;
    int n;
    for (int i = 0; i < 3; i++)
        stock(f, heard[i], "S1", 5, 1);
    for (int i = 0; i < 2; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/dealers/%s", profiled[i]);
        assert_int_equal(call(f, "PATCH", path, ADMIN, NULL, "{\"name\":\"never heard\"}"), 200);
    }
    n = read_pages(f, "/api/v1/dealers", "2", ids, 32, "dealer"); /* 2 + 2 + 1 */
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_int_equal(ids[i][0], 'A' + i); /* by id, each once, heard or profiled */
    assert_int_equal(call(f, "GET", "/api/v1/dealers", VIEWER, NULL, NULL), 200); /* streamed */
    assert_int_equal(cJSON_GetArraySize(f->json), 5);
    assert_string_equal(f->reply.next, "");
    b = cJSON_GetArrayItem(f->json, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "dealer")->valuestring, "B");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(b, "online")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "last_seen")));
    b = cJSON_GetArrayItem(f->json, 2);
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "last_seen")));
    assert_int_equal(call(f, "GET", "/api/v1/dealers", VIEWER, bad_after, NULL), 400);
}

static void test_api_ranking_WithoutEngineIs503(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/api/v1/ranking", VIEWER, NULL, NULL), 503);
    assert_string_equal(error_of(f), "ranking not running");
}

/* A close says what is wrong with its body before anything else; without the ranking it is
 * 503; a statement that is not there is 404 on every route; bad disputes are 400 or 403. */
static void test_api_statements_BadRequestsRefusedWithTheirReason(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {"{}", "{\"period\":\"2026-13\"}", "{\"period\":\"2026-1\"}",
                                      "{\"period\":\"2026-01\",\"force\":true}",
                                      "{\"period\":202601}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(call(f, "POST", "/api/v1/statements/close", ADMIN, NULL, bad[i]), 400);
        assert_string_equal(error_of(f), "the body must be {\"period\":\"YYYY-MM\"}");
    }
    assert_int_equal(
        call(f, "POST", "/api/v1/statements/close", ADMIN, NULL, "{\"period\":\"2026-01\"}"), 503);
    assert_string_equal(error_of(f), "ranking not running");
    assert_int_equal(
        call(f, "POST", "/api/v1/statements/close", VIEWER, NULL, "{\"period\":\"2026-01\"}"), 403);
    assert_int_equal(call(f, "GET", "/api/v1/statements/7", VIEWER, NULL, NULL), 404);
    assert_string_equal(error_of(f), "no such statement");
    assert_int_equal(call(f, "GET", "/api/v1/statements/7/pdf", VIEWER, NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/statements/x/csv", VIEWER, NULL, NULL), 404);
    static const char *const bad_period[] = {"period", "2026-1", NULL};
    assert_int_equal(call(f, "GET", "/api/v1/statements", VIEWER, bad_period, NULL), 400);
    assert_int_equal(call(f, "GET", "/api/v1/statements", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 0);
    /* a manufacturer's user does not open disputes; an answer names its dispute */
    assert_int_equal(call(f, "POST", "/api/v1/statements/7/disputes", ADMIN, NULL,
                          "{\"line\":\"rebate\",\"text\":\"x\"}"),
                     403);
    assert_int_equal(
        call(f, "POST", "/api/v1/statements/7/answer", ADMIN, NULL, "{\"text\":\"x\"}"), 400);
    assert_int_equal(call(f, "POST", "/api/v1/statements/7/answer", ADMIN, NULL,
                          "{\"dispute\":1,\"text\":\"x\"}"),
                     404);
    assert_int_equal(hub_metrics_get(f->metrics, HUB_C_STATEMENTS_REFUSED), 7);
}

static void test_api_routes_EveryPatternIsWellFormed(void **state)
{
    size_t n;
    const struct api_route *rt = api_routes(&n);
    (void)state;
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        const char *star = strchr(rt[i].pattern, '*');
        assert_true(rt[i].pattern[0] == '/');
        assert_non_null(rt[i].handler);
        /* at most one '*' segment, and a route with an argument says what it must be */
        assert_true(!star || !strchr(star + (star[1] == '*' ? 2 : 1), '*'));
        assert_true((star != NULL) == (rt[i].arg != API_ARG_NONE));
        /* open routes say so; a route above viewer is never a dealer's */
        assert_true((rt[i].role == HUB_ROLE_NONE) == (rt[i].dealer == DEALER_OPEN));
        assert_true(rt[i].role <= HUB_ROLE_VIEWER || rt[i].dealer == DEALER_NO);
        assert_true(rt[i].dealer != DEALER_ARG || rt[i].arg == API_ARG_DEALER);
        for (size_t j = 0; j < i; j++)
            assert_false(!strcmp(rt[i].pattern, rt[j].pattern) &&
                         !strcmp(rt[i].method, rt[j].method));
    }
}

/* ---- accounts: users, sessions, API tokens ---- */

/* Whether the last reply's body (not NUL-terminated) holds text. */
static bool in_body(const struct fixture *f, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= f->reply.len; i++)
        if (!memcmp(f->reply.body + i, text, n))
            return true;
    return false;
}

static const char *str_of(const struct fixture *f, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Logs name in; the "Bearer <session>" in auth, or the status when it is not 200. */
static unsigned login(struct fixture *f, const char *name, const char *pw, char *auth, size_t len)
{
    char body[200];
    unsigned st;
    snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", name, pw);
    st = call(f, "POST", "/api/v1/login", NULL, NULL, body);
    if (st == 200)
        snprintf(auth, len, "Bearer %s", str_of(f, "token"));
    return st;
}

/* Makes the user "<dealer>-user" of dealer (role dealer) and logs in as it: auth its bearer. */
static void dealer_login(struct fixture *f, const char *dealer, char *auth, size_t len)
{
    char body[200], name[64];
    snprintf(name, sizeof(name), "%s-user", dealer);
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"role\":\"dealer\",\"dealer\":\"%s\","
             "\"password\":\"dealer %s's password\"}",
             name, dealer, dealer);
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL, body), 201);
    snprintf(body, sizeof(body), "dealer %s's password", dealer);
    assert_int_equal(login(f, name, body, auth, len), 200);
}

static void test_api_accounts_UserLogsInActsAndLogsOut(void **state)
{
    struct fixture *f = *state;
    char alice[128], other[128];
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"alice@dealer.example\",\"role\":\"approver\","
                          "\"stages\":[\"finance\"],\"password\":\"correct horse\"}"),
                     201);
    assert_string_equal(str_of(f, "role"), "approver");
    assert_null(cJSON_GetObjectItemCaseSensitive(f->json, "password")); /* it was given */
    assert_false(in_body(f, "argon2"));

    assert_int_equal(login(f, "alice@dealer.example", "wrong horse", alice, sizeof(alice)), 401);
    assert_string_equal(error_of(f), "wrong user or password");
    assert_int_equal(login(f, "nobody", "correct horse", alice, sizeof(alice)), 401);
    assert_string_equal(error_of(f), "wrong user or password");
    assert_int_equal(login(f, "alice@dealer.example", "correct horse", alice, sizeof(alice)), 200);
    assert_true(!strncmp(alice, "Bearer dps_", 11) && strlen(alice) == 7 + 4 + 43);
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f->json, "expires_at")));

    assert_int_equal(call(f, "GET", "/api/v1/me", alice, NULL, NULL), 200);
    assert_string_equal(str_of(f, "name"), "alice@dealer.example");
    assert_string_equal(str_of(f, "role"), "approver");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f->json, "stages")), 1);
    assert_int_equal(call(f, "GET", "/api/v1/users", alice, NULL, NULL), 403);
    assert_int_equal(call(f, "GET", "/api/v1/orders", alice, NULL, NULL), 200);

    /* two sessions; logging one out leaves the other */
    assert_int_equal(login(f, "alice@dealer.example", "correct horse", other, sizeof(other)), 200);
    assert_int_equal(call(f, "POST", "/api/v1/logout", alice, NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/me", alice, NULL, NULL), 401);
    assert_int_equal(call(f, "GET", "/api/v1/me", other, NULL, NULL), 200);
    /* a [tokens] entry has no session to end */
    assert_int_equal(call(f, "POST", "/api/v1/logout", ADMIN, NULL, NULL), 400);
    /* a made-up session token of the right shape */
    assert_int_equal(call(f, "GET", "/api/v1/me",
                          "Bearer dps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL),
                     401);
}

static void test_api_accounts_DisableAndResetRevokeSessionsAtOnce(void **state)
{
    struct fixture *f = *state;
    char s1[128], s2[128], made[64];
    assert_int_equal(
        call(f, "POST", "/api/v1/users", ADMIN, NULL, "{\"name\":\"bob\",\"role\":\"viewer\"}"),
        201);
    snprintf(made, sizeof(made), "%s", str_of(f, "password")); /* made by the hub, shown once */
    assert_true(strlen(made) >= 20);
    assert_int_equal(login(f, "bob", made, s1, sizeof(s1)), 200);
    assert_int_equal(login(f, "bob", made, s2, sizeof(s2)), 200);

    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"disabled\":true}"),
                     200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "sessions_revoked")->valueint, 2);
    assert_int_equal(call(f, "GET", "/api/v1/me", s1, NULL, NULL), 401);
    assert_int_equal(call(f, "GET", "/api/v1/me", s2, NULL, NULL), 401);
    assert_int_equal(login(f, "bob", made, s1, sizeof(s1)), 401); /* disabled: the same answer */

    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL,
                          "{\"disabled\":false,\"reset_password\":true}"),
                     200);
    assert_string_not_equal(str_of(f, "password"), made);
    snprintf(s2, sizeof(s2), "%s", str_of(f, "password"));
    assert_int_equal(login(f, "bob", made, s1, sizeof(s1)), 401);
    assert_int_equal(login(f, "bob", s2, s1, sizeof(s1)), 200);

    /* a role change holds for the live session at its next request */
    assert_int_equal(call(f, "GET", "/api/v1/users", s1, NULL, NULL), 403);
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"role\":\"admin\"}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/users", s1, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    assert_false(in_body(f, "argon2"));

    /* made a dealer's user (with its dealer, else refused), then moved to another dealer */
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"role\":\"dealer\"}"),
                     400);
    assert_string_equal(error_of(f),
                        "dealer: role dealer needs the dealer's id (" DEPOT_ID_RULE ")");
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL,
                          "{\"role\":\"dealer\",\"dealer\":\"D-1\"}"),
                     200);
    assert_string_equal(str_of(f, "dealer"), "D-1");
    assert_int_equal(call(f, "GET", "/api/v1/users", s1, NULL, NULL), 403);
    assert_int_equal(call(f, "GET", "/api/v1/me", s1, NULL, NULL), 200);
    assert_string_equal(str_of(f, "dealer"), "D-1");
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"dealer\":\"D-2\"}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/me", s1, NULL, NULL), 200);
    assert_string_equal(str_of(f, "dealer"), "D-2");
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"dealer\":\"a b\"}"),
                     400);
    /* a viewer again: its dealer goes with the role; a viewer given a dealer is refused */
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL,
                          "{\"role\":\"viewer\",\"dealer\":\"D-2\"}"),
                     400);
    assert_int_equal(call(f, "PATCH", "/api/v1/users/bob", ADMIN, NULL, "{\"role\":\"viewer\"}"),
                     200);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f->json, "dealer")));
    assert_int_equal(call(f, "PATCH", "/api/v1/users/nobody", ADMIN, NULL, "{\"disabled\":true}"),
                     404);
}

static void test_api_accounts_ApiTokensListedByNameRevokedAtOnce(void **state)
{
    struct fixture *f = *state;
    char erp[128], hash[HUB_CRED_HASH_HEX + 1];
    assert_int_equal(call(f, "POST", "/api/v1/tokens", ADMIN, NULL,
                          "{\"name\":\"erp\",\"role\":\"approver\",\"stages\":[\"sales\"]}"),
                     201);
    assert_true(!strncmp(str_of(f, "token"), "dpt_", 4));
    snprintf(erp, sizeof(erp), "Bearer %s", str_of(f, "token"));
    hub_token_hash(erp + 7, hash);

    assert_int_equal(call(f, "GET", "/api/v1/me", erp, NULL, NULL), 200);
    assert_string_equal(str_of(f, "name"), "erp");
    assert_string_equal(str_of(f, "role"), "approver");
    assert_int_equal(call(f, "GET", "/api/v1/tokens", ADMIN, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    assert_false(in_body(f, erp + 7)); /* never its value */
    assert_false(in_body(f, hash));    /* nor its hash */
    assert_int_equal(
        call(f, "POST", "/api/v1/tokens", ADMIN, NULL, "{\"name\":\"erp\",\"role\":\"viewer\"}"),
        409);
    assert_int_equal(call(f, "POST", "/api/v1/logout", erp, NULL, NULL), 400);

    assert_int_equal(call(f, "POST", "/api/v1/tokens/erp/revoke", ADMIN, NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/me", erp, NULL, NULL), 401);
    assert_int_equal(call(f, "POST", "/api/v1/tokens/erp/revoke", ADMIN, NULL, NULL), 404);
    assert_int_equal(call(f, "POST", "/api/v1/tokens", ADMIN, NULL,
                          "{\"name\":\"erp\",\"role\":\"viewer\",\"expires_days\":30}"),
                     201);
    assert_int_equal(call(f, "GET", "/api/v1/tokens", ADMIN, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 2); /* the revoked one stays listed */
}

static void test_api_accounts_BadRequestsRefused(void **state)
{
    struct fixture *f = *state;
    static const char *const bad_users[] = {
        "{\"name\":\"-x\",\"role\":\"viewer\"}",
        "{\"name\":\"a b\",\"role\":\"viewer\"}",
        "{\"name\":\"carol\",\"role\":\"root\"}",
        "{\"name\":\"carol\",\"role\":\"viewer\",\"stages\":[\"sales\"]}",
        "{\"name\":\"carol\",\"role\":\"approver\",\"stages\":[\"payroll\"]}",
        "{\"name\":\"carol\",\"role\":\"viewer\",\"password\":\"short\"}",
        "{\"name\":\"carol\",\"role\":\"viewer\",\"password\":7}",
        "{\"name\":\"carol\",\"role\":\"viewer\",\"pwhash\":\"x\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++)
        assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL, bad_users[i]), 400);
    assert_int_equal(
        call(f, "POST", "/api/v1/users", ADMIN, NULL, "{\"name\":\"viewer\",\"role\":\"viewer\"}"),
        409); /* a [tokens] name */
    assert_int_equal(
        call(f, "POST", "/api/v1/users", VIEWER, NULL, "{\"name\":\"carol\",\"role\":\"admin\"}"),
        403);
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"carol\",\"role\":\"viewer\",\"password\":\"0123456789\"}"),
                     201);
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"carol\",\"role\":\"admin\",\"password\":\"0123456789\"}"),
                     409);
    assert_int_equal(call(f, "POST", "/api/v1/login", NULL, NULL, "{\"user\":\"carol\"}"), 400);
    assert_int_equal(call(f, "POST", "/api/v1/login", NULL, NULL,
                          "{\"user\":\"carol\",\"password\":\"0123456789\",\"x\":1}"),
                     400);
    assert_int_equal(call(f, "PATCH", "/api/v1/users/carol", ADMIN, NULL,
                          "{\"password\":\"0123456789\",\"reset_password\":true}"),
                     400);
    assert_int_equal(call(f, "PATCH", "/api/v1/users/carol", ADMIN, NULL, "{\"disabled\":1}"), 400);
    /* the first problem in the body's order is answered; an unknown user before any */
    assert_int_equal(call(f, "PATCH", "/api/v1/users/carol", ADMIN, NULL,
                          "{\"stages\":[\"sales\"],\"disabled\":1}"),
                     400);
    assert_string_equal(error_of(f), "stages: only an approver has stages");
    assert_int_equal(
        call(f, "PATCH", "/api/v1/users/carol", ADMIN, NULL, "{\"role\":\"root\",\"stages\":7}"),
        400);
    assert_string_equal(error_of(f), "role: viewer, approver, admin or dealer");
    assert_int_equal(call(f, "PATCH", "/api/v1/users/nobody", ADMIN, NULL, "{\"disabled\":1}"),
                     404);
    assert_int_equal(call(f, "GET", "/api/v1/users/a%20b", ADMIN, NULL, NULL), 404);
    /* nothing of the refused requests was kept */
    assert_int_equal(call(f, "GET", "/api/v1/users", ADMIN, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    assert_string_equal(cJSON_GetArrayItem(f->json, 0)->child->valuestring, "carol");
}

static void test_api_accounts_FailedLoginsLimitedPerAccountAndAddress(void **state)
{
    struct fixture *f = *state;
    struct hub_login out;
    long retry = 0;
    char name[16];
    f->cfg.auth_fail_per_account = 3;
    f->cfg.auth_fail_per_address = 10;
    f->cfg.auth_fail_window_s = 60;
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"dave\",\"role\":\"viewer\",\"password\":\"0123456789\"}"),
                     201);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, "dave", "nope-nope",
                                            "10.0.0.1", NOW + i, &out, &retry),
                         HUB_LOGIN_BAD);
    /* the account is locked for the window, even with its password, from any address */
    assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, "dave", "0123456789",
                                        "10.0.0.2", NOW + 10, &out, &retry),
                     HUB_LOGIN_LIMITED);
    assert_true(retry > 0 && retry <= 60);
    assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, "dave", "0123456789",
                                        "10.0.0.2", NOW + 60 * 1000, &out, &retry),
                     HUB_LOGIN_OK);
    /* one address guessing many accounts */
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "guess%d", i);
        assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, name, "nope-nope",
                                            "10.0.0.9", NOW + 70000, &out, &retry),
                         HUB_LOGIN_BAD);
    }
    assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, "dave", "0123456789",
                                        "10.0.0.9", NOW + 70000, &out, &retry),
                     HUB_LOGIN_LIMITED);
    assert_int_equal(hub_accounts_login(f->api->accounts, f->writer, "dave", "0123456789",
                                        "10.0.0.8", NOW + 70000, &out, &retry),
                     HUB_LOGIN_OK);
    /* through the API: the 429 says when to come back */
    for (int i = 0; i < 3; i++)
        assert_int_equal(call(f, "POST", "/api/v1/login", NULL, NULL,
                              "{\"user\":\"dave\",\"password\":\"nope-nope\"}"),
                         401);
    assert_int_equal(call(f, "POST", "/api/v1/login", NULL, NULL,
                          "{\"user\":\"dave\",\"password\":\"0123456789\"}"),
                     429);
    assert_true(cJSON_GetObjectItemCaseSensitive(f->json, "retry_after_s")->valueint > 0);
}

/* One order and one low_stock alert of dealer, with stock; the alert's id into alert. */
static void dealer_data(struct fixture *f, const char *dealer, const char *order, long long *alert)
{
    struct hub_order o;
    struct hub_order_line l = {"4006381333931", "S1", 1, 100};
    /* A's alert suggests a transfer from B: what it says of B is not for A's user */
    bool a = !strcmp(dealer, "A");
    struct hub_alert_put p = {
        dealer,
        "S1",
        "low_stock",
        "",
        "warning",
        "low",
        a ? "replenish 10; or transfer 3 from B (2.0 km)" : "",
        a ? "{\"replenish_qty\":10,\"transfers\":[{\"dealer\":\"B\",\"qty\":3,"
            "\"distance_km\":2.0,\"age_s\":5}]}"
          : "",
        NOW};
    const cJSON *it;
    memset(&o, 0, sizeof(o));
    snprintf(o.id, sizeof(o.id), "%s", order);
    snprintf(o.dealer, sizeof(o.dealer), "%s", dealer);
    snprintf(o.ledger, sizeof(o.ledger), LEDGER_A);
    o.number = 1;
    o.created = o.received_at = o.stage_since = NOW;
    snprintf(o.status, sizeof(o.status), "pending");
    snprintf(o.stage, sizeof(o.stage), "sales");
    o.total = 100;
    stock(f, dealer, "S1", 5, 1);
    assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
    assert_int_equal(hub_store_order_insert(f->writer, &o, &l, 1, "{}", "sig"), DEPOT_OK);
    assert_int_equal(hub_store_alert_put(f->writer, &p, NULL, NULL), DEPOT_OK);
    assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
    assert_int_equal(call(f, "GET", "/api/v1/alerts", VIEWER, NULL, NULL), 200);
    cJSON_ArrayForEach(it, f->json)
    {
        if (!strcmp(cJSON_GetObjectItemCaseSensitive(it, "dealer")->valuestring, dealer))
            *alert = (long long)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
    }
}

/* The route's pattern with its '*' made arg. */
static void route_url(const struct api_route *rt, const char *arg, char *out, size_t len)
{
    const char *star = strchr(rt->pattern, '*');
    if (!star) {
        snprintf(out, len, "%s", rt->pattern);
        return;
    }
    snprintf(out, len, "%.*s%s%s", (int)(star - rt->pattern), rt->pattern, arg,
             star + (star[1] == '*' ? 2 : 1));
}

/* ---- shipments and item codes ---- */

#define CATALOG_2                                                                                  \
    "[{\"sku\":\"S1\",\"barcode\":\"4006381333931\",\"price\":\"12.50\",\"unit_weight_g\":250,"    \
    "\"min_qty\":1,\"max_qty\":50,\"reorder_point\":5,\"lead_time_days\":3,\"max_stock\":100},"    \
    "{\"sku\":\"S2\",\"barcode\":\"4006381333948\",\"price\":\"2.00\",\"unit_weight_g\":10,"       \
    "\"min_qty\":1,\"max_qty\":50,\"reorder_point\":5,\"lead_time_days\":3,\"max_stock\":100}]"

#define SHP_1                                                                                      \
    "{\"shipment\":\"SHP-1\",\"dealer\":\"A\",\"order\":\"order-of-a\",\"shipped_at\":"            \
    "\"2026-01-02\",\"lines\":[{\"sku\":\"S1\",\"qty\":3,\"codes\":[\"(01)04006381333931(21)A1\"," \
    "\"010400638133393121A2\"]},{\"sku\":\"S2\",\"qty\":1,\"codes\":[\"SN-9\"]}]}"

static const char *const other_dealer_bodies[] = {"{}", "[]", NULL};

static void test_api_dealer_user_EveryRouteWithAnotherDealersIdIsRefused(void **state)
{
    struct fixture *f = *state;
    char auth[128], url[300], order_b[16] = "order-of-b", alert_b[24], contract_b[24];
    char statement_b[24];
    struct hub_statement st_b = {0,
                                 "B",
                                 "2026-01",
                                 NOW,
                                 "{\"dealer\":\"B\",\"lines\":[{\"key\":"
                                 "\"rebate\",\"section\":\"summary\",\"item\":\"rebate\"}]}",
                                 "MEUCIQ==",
                                 "-----BEGIN CERTIFICATE-----\n"};
    long long st_b_id = 0;
    bool created = false;
    long long alert_a = 0, alert_b_id = 0;
    size_t n, tried = 0, refused = 0;
    const struct api_route *rt = api_routes(&n);
    static const char *const as_b[] = {"dealer", "B", "sku", "S1", NULL};

    dealer_data(f, "A", "order-of-a", &alert_a);
    dealer_data(f, "B", order_b, &alert_b_id);
    assert_true(alert_a > 0 && alert_b_id > 0);
    snprintf(alert_b, sizeof(alert_b), "%lld", alert_b_id);
    /* a contract of B's ("B's terms\n") */
    assert_int_equal(call(f, "POST", "/api/v1/contracts", ADMIN, NULL,
                          "{\"dealer\":\"B\",\"title\":\"Terms of B\",\"start\":\"2026-01-01\","
                          "\"end\":\"2026-12-31\",\"content_base64\":\"QidzIHRlcm1zCg==\"}"),
                     201);
    snprintf(contract_b, sizeof(contract_b), "%lld",
             (long long)cJSON_GetObjectItemCaseSensitive(f->json, "id")->valuedouble);
    /* a statement of B's */
    assert_int_equal(hub_store_statement_add(f->writer, &st_b, &st_b_id, &created), DEPOT_OK);
    assert_true(created);
    snprintf(statement_b, sizeof(statement_b), "%lld", st_b_id);
    /* a shipment of B's with an item code */
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL,
                          "{\"shipment\":\"shp-of-b\",\"dealer\":\"B\",\"lines\":[{\"sku\":"
                          "\"S2\",\"qty\":1,\"codes\":[\"SN-B\"]}]}"),
                     201);
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"anna@a\",\"role\":\"dealer\",\"dealer\":\"A\","
                          "\"password\":\"dealer A's password\"}"),
                     201);
    assert_int_equal(login(f, "anna@a", "dealer A's password", auth, sizeof(auth)), 200);
    assert_int_equal(call(f, "GET", "/api/v1/me", auth, NULL, NULL), 200);
    assert_string_equal(str_of(f, "role"), "dealer");
    assert_string_equal(str_of(f, "dealer"), "A");

    for (size_t i = 0; i < n; i++) {
        const char *arg = rt[i].arg == API_ARG_DEALER      ? "B"
                          : rt[i].arg == API_ARG_ORDER     ? order_b
                          : rt[i].arg == API_ARG_ALERT     ? alert_b
                          : rt[i].arg == API_ARG_FILE      ? "app.js"
                          : rt[i].arg == API_ARG_CONTRACT  ? contract_b
                          : rt[i].arg == API_ARG_STATEMENT ? statement_b
                          : rt[i].arg == API_ARG_SHIPMENT  ? "shp-of-b"
                          : rt[i].arg == API_ARG_CODE      ? "SN-B"
                                                           : "someone";
        unsigned st;
        if (rt[i].role == HUB_ROLE_NONE || rt[i].handler == api_logout_post)
            continue; /* open: /metrics, /healthz, the dashboard's files, login; logout ends
                         the session the loop uses (below) */
        route_url(&rt[i], arg, url, sizeof(url));
        for (int b = 0; other_dealer_bodies[b]; b++) {
            const char *body = strcmp(rt[i].method, "GET") ? other_dealer_bodies[b] : NULL;
            if (!body && b > 0)
                break;
            st = call(f, rt[i].method, url, auth, as_b, body);
            tried++;
            if (st != 403 && st != 404 && rt[i].dealer != DEALER_ANY)
                fail_msg("%s %s answered %u to dealer A's user", rt[i].method, url, st);
            assert_int_not_equal(st, 401); /* the session stays good through the loop */
            /* nothing of B ever comes back, whatever the status */
            assert_false(in_body(f, "\"B\""));
            assert_false(in_body(f, order_b));
            if (st == 403 || st == 404) {
                refused++;
                continue;
            }
            /* what a dealer's user may use: itself, the catalog */
            assert_int_equal(rt[i].dealer, DEALER_ANY);
            assert_true(st == 200 || st == 400);
        }
    }
    assert_true(tried > 40 && refused >= tried - 6);

    /* its own dealer, given or not: only A's rows */
    static const char *const as_a[] = {"dealer", "A", "sku", "S1", NULL};
    static const char *const lists[] = {"/api/v1/stock", "/api/v1/orders", "/api/v1/alerts",
                                        "/api/v1/orders-forged", "/api/v1/shipments"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        for (int q = 0; q < 2; q++) {
            const cJSON *it;
            assert_int_equal(call(f, "GET", lists[i], auth, q ? as_a : NULL, NULL), 200);
            cJSON_ArrayForEach(it, f->json)
            {
                assert_string_equal(cJSON_GetObjectItemCaseSensitive(it, "dealer")->valuestring,
                                    "A");
            }
            assert_false(in_body(f, "\"B\""));
            assert_false(in_body(f, "from B"));
        }
    snprintf(url, sizeof(url), "/api/v1/alerts/%lld", alert_a);
    assert_int_equal(call(f, "GET", url, auth, NULL, NULL), 200);
    assert_string_equal(str_of(f, "action"), "replenish 10");
    assert_false(in_body(f, "\"B\""));
    assert_int_equal(call(f, "GET", url, VIEWER, NULL, NULL), 200); /* the manufacturer's: all */
    assert_true(in_body(f, "\"B\"") && in_body(f, "from B"));
    assert_int_equal(call(f, "GET", "/api/v1/stock", auth, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    assert_int_equal(call(f, "GET", "/api/v1/orders/order-of-a", auth, NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/dealers/A", auth, NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/history", auth, as_a, NULL), 200);
    snprintf(url, sizeof(url), "/api/v1/alerts/%lld", alert_a);
    assert_int_equal(call(f, "GET", url, auth, NULL, NULL), 200);
    /* exports: A's rows only, B's refused; the manufacturer's: both */
    static const char *const exports[] = {"/api/v1/export/alerts", "/api/v1/export/orders"};
    static const char *const jsonl[] = {"format", "jsonl", NULL};
    static const char *const jsonl_b[] = {"format", "jsonl", "dealer", "B", NULL};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(call(f, "GET", exports[i], auth, jsonl, NULL), 200);
        assert_true(in_body(f, "\"dealer\":\"A\"") && !in_body(f, "\"B\""));
        assert_int_equal(call(f, "GET", exports[i], auth, jsonl_b, NULL), 403);
        assert_int_equal(call(f, "GET", exports[i], VIEWER, jsonl, NULL), 200);
        assert_true(in_body(f, "\"dealer\":\"A\"") && in_body(f, "\"dealer\":\"B\""));
    }
    assert_int_equal(call(f, "POST", "/api/v1/logout", auth, NULL, "{}"), 200);
    assert_int_equal(call(f, "GET", "/api/v1/me", auth, NULL, NULL), 401);
    assert_int_equal(login(f, "anna@a", "dealer A's password", auth, sizeof(auth)), 200);
    /* acting is the manufacturer's */
    assert_int_equal(call(f, "POST", "/api/v1/orders/order-of-a/approve", auth, NULL, "{}"), 403);
    snprintf(url, sizeof(url), "/api/v1/alerts/%lld/ack", alert_a);
    assert_int_equal(call(f, "POST", url, auth, NULL, "{}"), 403);
    /* a dealer's API token is bound the same way */
    assert_int_equal(call(f, "POST", "/api/v1/tokens", ADMIN, NULL,
                          "{\"name\":\"a-erp\",\"role\":\"dealer\",\"dealer\":\"A\"}"),
                     201);
    snprintf(auth, sizeof(auth), "Bearer %s", str_of(f, "token"));
    assert_int_equal(call(f, "GET", "/api/v1/stock", auth, as_b, NULL), 403);
    assert_int_equal(call(f, "GET", "/api/v1/orders/order-of-b", auth, NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/stock", auth, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    /* role dealer needs its dealer, and only it has one */
    assert_int_equal(
        call(f, "POST", "/api/v1/users", ADMIN, NULL, "{\"name\":\"x\",\"role\":\"dealer\"}"), 400);
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"x\",\"role\":\"viewer\",\"dealer\":\"A\"}"),
                     400);
}

/* A PATCH of user erin through the route table in a thread of its own (its own reply). */
struct patch_call {
    hub_api *api;
    char body[96];
    unsigned status;
};

static void *patch_erin(void *arg)
{
    struct patch_call *c = arg;
    struct api_reply reply = {0};
    struct api_request r = {.method = "PATCH",
                            .url = "/api/v1/users/erin",
                            .authorization = ADMIN,
                            .body = c->body,
                            .len = strlen(c->body),
                            .reply = &reply};
    enum hub_api_class metric;
    if (api_dispatch(c->api, &r, false, &metric) == MHD_YES)
        c->status = reply.status;
    depot_free(reply.body);
    return NULL;
}

static void test_api_accounts_ConcurrentPatchesOfOneUserBothHold(void **state)
{
    struct fixture *f = *state;
    char auth[128], pw[32];
    assert_int_equal(call(f, "POST", "/api/v1/users", ADMIN, NULL,
                          "{\"name\":\"erin\",\"role\":\"viewer\",\"password\":\"0123456789\"}"),
                     201);
    for (int i = 0; i < 8; i++) {
        /* the password's hashing takes a while: the role's PATCH lands meanwhile */
        const char *role = i % 2 ? "viewer" : "admin";
        struct patch_call a = {.api = f->api}, b = {.api = f->api};
        pthread_t ta, tb;
        snprintf(pw, sizeof(pw), "password number %d", i);
        snprintf(a.body, sizeof(a.body), "{\"password\":\"%s\"}", pw);
        snprintf(b.body, sizeof(b.body), "{\"role\":\"%s\"}", role);
        assert_int_equal(pthread_create(&ta, NULL, patch_erin, &a), 0);
        assert_int_equal(pthread_create(&tb, NULL, patch_erin, &b), 0);
        assert_int_equal(pthread_join(ta, NULL), 0);
        assert_int_equal(pthread_join(tb, NULL), 0);
        assert_int_equal(a.status, 200);
        assert_int_equal(b.status, 200);
        assert_int_equal(call(f, "GET", "/api/v1/users/erin", ADMIN, NULL, NULL), 200);
        assert_string_equal(str_of(f, "role"), role);
        assert_int_equal(login(f, "erin", pw, auth, sizeof(auth)), 200);
    }
}

/* ---- idempotency keys ---- */

static int count_payment(void *arg, const struct hub_payment_row *p)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

static int payments_of(struct fixture *f, const char *dealer)
{
    int n = 0;
    assert_int_equal(hub_store_payments_between(f->writer, dealer, 0, NOW * 2, count_payment, &n),
                     DEPOT_OK);
    return n;
}

static void test_api_idempotency_SameRequestTwiceRecordsOnceAndAnswersTheSame(void **state)
{
    struct fixture *f = *state;
    const char *pay = "{\"dealer\":\"A\",\"amount\":\"12.50\",\"ref\":\"wire 7\"}";
    char *first;
    stock(f, "A", "S1", 5, 1); /* the hub knows A */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL, pay, "erp-7"), 200);
    first = strdup(f->reply.body);
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL, pay, "erp-7"), 200);
    assert_string_equal(f->reply.body, first); /* the kept answer, byte for byte */
    assert_int_equal(payments_of(f, "A"), 1);
    /* the same key with another body: refused, nothing written */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL,
                              "{\"dealer\":\"A\",\"amount\":\"99.00\"}", "erp-7"),
                     422);
    assert_string_equal(error_of(f), "this Idempotency-Key was used for another request");
    /* the same key on another route is another request too */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments/import", APPROVER, NULL,
                              "{\"payments\":[{\"dealer\":\"A\",\"amount\":\"1.00\"}]}", "erp-7"),
                     422);
    /* keys are the caller's: another one's erp-7 is its own */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", ADMIN, NULL, pay, "erp-7"), 200);
    assert_int_equal(payments_of(f, "A"), 2);
    /* without a key every request is a new payment, as before */
    assert_int_equal(call(f, "POST", "/api/v1/payments", APPROVER, NULL, pay), 200);
    assert_int_equal(payments_of(f, "A"), 3);
    /* a refused request keeps nothing: corrected, it goes through with its key */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL,
                              "{\"dealer\":\"B\",\"amount\":\"5.00\"}", "erp-8"),
                     404);
    assert_string_equal(error_of(f), "no such dealer");
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL,
                              "{\"dealer\":\"A\",\"amount\":\"5.00\"}", "erp-8"),
                     200);
    assert_int_equal(payments_of(f, "A"), 4);
    /* a malformed key */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL, pay, "two words"),
                     400);
    assert_int_equal(call_key(f, "POST", "/api/v1/payments", APPROVER, NULL, pay, ""), 400);
    assert_int_equal(payments_of(f, "A"), 4);
    free(first);
}

static void test_api_payments_import_DryRunNamesEveryBadLineAndWritesNothing(void **state)
{
    struct fixture *f = *state;
    const char *const dry[] = {"dry_run", "1", NULL};
    const char *const bad_dry[] = {"dry_run", "maybe", NULL};
    const char *good = "{\"payments\":[{\"line\":2,\"dealer\":\"A\",\"amount\":\"3.00\"},"
                       "{\"line\":3,\"dealer\":\"A\",\"amount\":\"4.00\"}]}";
    const char *bad = "{\"payments\":[{\"line\":2,\"dealer\":\"A\",\"amount\":\"3.00\"},"
                      "{\"line\":3,\"dealer\":\"A\",\"amount\":\"-1\"},"
                      "{\"line\":4,\"dealer\":\"NOPE\",\"amount\":\"1.00\"},"
                      "{\"line\":5,\"dealer\":\"A\",\"amount\":\"1.00\",\"date\":\"2026-02-30\"}]}";
    const cJSON *e;
    int lines = 0;
    stock(f, "A", "S1", 5, 1);
    assert_int_equal(call(f, "POST", "/api/v1/payments/import", APPROVER, dry, bad), 400);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(f->json, "errors")) lines |=
        1 << (int)cJSON_GetObjectItemCaseSensitive(e, "line")->valuedouble;
    assert_int_equal(lines, (1 << 3) | (1 << 4) | (1 << 5)); /* written and store checks both */
    assert_int_equal(call(f, "POST", "/api/v1/payments/import", APPROVER, dry, good), 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "dry_run")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "would_import")->valuedouble, 2);
    assert_int_equal(call(f, "POST", "/api/v1/payments/import", APPROVER, bad_dry, good), 400);
    assert_int_equal(payments_of(f, "A"), 0);
    /* for real, with a key, twice: imported once */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments/import", APPROVER, NULL, good, "b-1"),
                     200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "imported")->valuedouble, 2);
    assert_int_equal(call_key(f, "POST", "/api/v1/payments/import", APPROVER, NULL, good, "b-1"),
                     200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "imported")->valuedouble, 2);
    assert_int_equal(payments_of(f, "A"), 2);
    /* a dry run with the key neither replays the import's answer nor keeps one */
    assert_int_equal(call_key(f, "POST", "/api/v1/payments/import", APPROVER, dry, good, "b-1"),
                     200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "dry_run")));
    assert_int_equal(payments_of(f, "A"), 2);
}

static double num_of(const struct fixture *f, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->json, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* A catalog (or price) change from an ERP: the same catalog again changes nothing (no new version
 * goes to the gateways), a key gives the first answer again, a dry run writes nothing. */
static void test_api_catalog_SameCatalogTwiceChangesNothing(void **state)
{
    struct fixture *f = *state;
    const char *const dry[] = {"dry_run", "1", NULL};
    char cheaper[sizeof(CATALOG_2)];
    char *p;
    snprintf(cheaper, sizeof(cheaper), "%s", CATALOG_2);
    p = strstr(cheaper, "\"2.00\"");
    assert_non_null(p);
    memcpy(p, "\"1.50\"", 6);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(num_of(f, "version"), 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "changed")));
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(num_of(f, "version"), 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "changed")));
    /* a price change, checked first: the version it would get, nothing written */
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, dry, cheaper), 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "dry_run")));
    assert_int_equal(num_of(f, "version"), 2);
    assert_int_equal(call(f, "GET", "/api/v1/catalog", VIEWER, NULL, NULL), 200);
    assert_int_equal(num_of(f, "version"), 1);
    /* for real with a key, sent twice: one new version */
    assert_int_equal(call_key(f, "PUT", "/api/v1/catalog", ADMIN, NULL, cheaper, "price-9"), 200);
    assert_int_equal(num_of(f, "version"), 2);
    assert_int_equal(call_key(f, "PUT", "/api/v1/catalog", ADMIN, NULL, cheaper, "price-9"), 200);
    assert_int_equal(num_of(f, "version"), 2);
    assert_int_equal(call_key(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2, "price-9"), 422);
    assert_int_equal(call(f, "GET", "/api/v1/catalog", VIEWER, NULL, NULL), 200);
    assert_int_equal(num_of(f, "version"), 2);
    assert_true(in_body(f, "1.50"));
}

#define ITEM(sku, barcode, prefix)                                                                 \
    "{\"sku\":\"" sku "\",\"barcode\":\"" barcode "\",\"price\":\"1.00\",\"unit_weight_g\":1,"     \
    "\"min_qty\":1,\"max_qty\":5,\"reorder_point\":0,\"lead_time_days\":0,\"max_stock\":0" prefix  \
    "}"

/* A serial prefix is kept and shown; prefixes that could name two items are refused. */
static void test_api_catalog_SerialPrefixes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931", ",\"serial_prefix\":\"SN-A-\"") "," ITEM(
                              "B", "4006381333948",
                              ",\"serial_prefix\":\"SN-B-\"") "," ITEM("C", "X-1", "") "]"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/catalog", VIEWER, NULL, NULL), 200);
    assert_true(in_body(f, "\"serial_prefix\":\"SN-A-\""));
    assert_true(in_body(f, "\"serial_prefix\":\"SN-B-\""));
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931", ",\"serial_prefix\":\"SN-\"") "," ITEM(
                              "B", "4006381333948", ",\"serial_prefix\":\"SN-B-\"") "]"),
                     400);
    assert_string_equal(error_of(f), "items[1].serial_prefix overlaps the one of items[0]");
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931",
                                   ",\"serial_prefix\":\"X-\"") "," ITEM("C", "X-1", "") "]"),
                     400);
    assert_string_equal(error_of(f), "items[1].serial_prefix and barcode of items[0] overlap");
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931", ",\"serial_prefix\":\"(01)\"") "]"),
                     400);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931", ",\"serial_prefix\":\"a b\"") "]"),
                     400);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL,
                          "[" ITEM("A", "4006381333931", ",\"serial_prefix\":\"40063\"") "]"),
                     400);
    assert_string_equal(error_of(f), "items[0].barcode starts with its own serial_prefix");
    /* shipments: a plain code of an item with a prefix starts with it */
    assert_int_equal(call(f, "PATCH", "/api/v1/dealers/A", ADMIN, NULL, "{\"name\":\"A\"}"), 200);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL,
                          "{\"shipment\":\"s1\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"A\","
                          "\"qty\":1,\"codes\":[\"SN-B-1\"]}]}"),
                     400);
    assert_true(in_body(f, "code SN-B-1: not a serial of SKU A (its serials start with SN-A-)"));
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL,
                          "{\"shipment\":\"s1\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"A\","
                          "\"qty\":2,\"codes\":[\"SN-A-1\",\"SN-A-2\"]}]}"),
                     201);
}

static void test_api_shipments_RecordedOnceWithTheirCodes(void **state)
{
    struct fixture *f = *state;
    long long alert;
    const cJSON *codes;
    dealer_data(f, "A", "order-of-a", &alert);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(call(f, "POST", "/api/v1/webhooks", ADMIN, NULL,
                          "{\"url\":\"http://127.0.0.1:9/erp\",\"types\":[\"shipment.recorded\"]}"),
                     201);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", VIEWER, NULL, SHP_1), 403);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL, SHP_1), 201);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "recorded")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "units")->valuedouble, 4);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "codes")->valuedouble, 3);
    /* sent again (the ERP lost the answer): recognised, nothing more recorded */
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL, SHP_1), 200);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "recorded")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->json, "already")));
    /* other contents under its id: a conflict */
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL,
                          "{\"shipment\":\"SHP-1\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S1\","
                          "\"qty\":9}]}"),
                     409);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f->json, "errors"), 0), "error")
            ->valuestring,
        "a shipment with this id is recorded with other contents");
    /* read back: lines by SKU, codes in their one normal form */
    assert_int_equal(call(f, "GET", "/api/v1/shipments/SHP-1", VIEWER, NULL, NULL), 200);
    assert_string_equal(str_of(f, "dealer"), "A");
    assert_string_equal(str_of(f, "order"), "order-of-a");
    assert_string_equal(str_of(f, "shipped_at"), "2026-01-02T00:00:00.000Z");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f->json, "lines")), 2);
    codes = cJSON_GetObjectItemCaseSensitive(f->json, "item_codes");
    assert_int_equal(cJSON_GetArraySize(codes), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(codes, 0), "code")->valuestring,
                        "0104006381333931"
                        "21A1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(codes, 2), "code")->valuestring,
                        "SN-9");
    /* one code, in any of its forms */
    assert_int_equal(call(f, "GET", "/api/v1/codes/(01)04006381333931(21)A2", VIEWER, NULL, NULL),
                     200);
    assert_string_equal(str_of(f, "shipment"), "SHP-1");
    assert_string_equal(str_of(f, "dealer"), "A");
    assert_string_equal(str_of(f, "sku"), "S1");
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-10", VIEWER, NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/shipments", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    /* its webhook event was queued with it, once */
    assert_int_equal(call(f, "GET", "/api/v1/webhooks/1/deliveries", ADMIN, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1);
    assert_true(in_body(f, "shipment.recorded"));
}

static void test_api_shipments_DryRunNamesEveryBadShipmentAndWritesNothing(void **state)
{
    struct fixture *f = *state;
    const char *const dry[] = {"dry_run", "1", NULL};
    long long alert;
    const cJSON *e;
    long long lines = 0;
    dealer_data(f, "A", "order-of-a", &alert);
    dealer_data(f, "B", "order-of-b", &alert);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL, SHP_1), 201);
    assert_int_equal(
        call(f, "POST", "/api/v1/shipments/import", APPROVER, dry,
             "{\"shipments\":["
             "{\"line\":2,\"shipment\":\"S-2\",\"dealer\":\"NOPE\",\"lines\":[{\"sku\":\"S1\","
             "\"qty\":1}]},"
             "{\"line\":3,\"shipment\":\"S-3\",\"dealer\":\"A\",\"order\":\"order-of-b\","
             "\"lines\":[{\"sku\":\"S1\",\"qty\":1}]},"
             "{\"line\":4,\"shipment\":\"S-4\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S9\",\"qty\":"
             "1}]},"
             "{\"line\":5,\"shipment\":\"S-5\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S2\",\"qty\":"
             "1,"
             "\"codes\":[\"(01)04006381333931(21)X\"]}]},"
             "{\"line\":6,\"shipment\":\"S-6\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S2\",\"qty\":"
             "2,"
             "\"codes\":[\"SN-7\",\"SN-7\"]}]},"
             "{\"line\":7,\"shipment\":\"S-7\",\"dealer\":\"B\",\"lines\":[{\"sku\":\"S2\",\"qty\":"
             "1,"
             "\"codes\":[\"SN-9\"]}]},"
             "{\"line\":8,\"shipment\":\"S-8\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S2\",\"qty\":"
             "1,"
             "\"codes\":[\"a\",\"b\"]}]},"
             "{\"line\":9,\"shipment\":\"S-9\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S2\",\"qty\":"
             "1,"
             "\"codes\":[\"two words\"]}]},"
             "{\"line\":10,\"shipment\":\"S-10\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S2\","
             "\"qty\":1,"
             "\"codes\":[\"SN-11\"]}]},"
             "{\"line\":11,\"shipment\":\"S-11\",\"dealer\":\"B\",\"lines\":[{\"sku\":\"S2\","
             "\"qty\":1,"
             "\"codes\":[\"SN-11\"]}]},"
             "{\"line\":12,\"shipment\":\"S-10\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S1\","
             "\"qty\":1}]},"
             "{\"line\":13,\"shipment\":\"a/"
             "b\",\"dealer\":\"A\",\"lines\":[{\"sku\":\"S1\",\"qty\":1}]}"
             "]}"),
        400);
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(f->json, "errors")) lines |=
        1LL << (int)cJSON_GetObjectItemCaseSensitive(e, "line")->valuedouble;
    /* every line but 10 (good on its own): unknown dealer, another dealer's order, a SKU not in
     * the catalog, a GTIN of another SKU, a code twice, a code shipped already, more codes than
     * units, not a code, a code in two shipments of the request, an id twice, a bad id */
    assert_int_equal(lines, 0x3bfc);
    assert_int_equal(call(f, "GET", "/api/v1/shipments", VIEWER, NULL, NULL), 200);
    assert_int_equal(cJSON_GetArraySize(f->json), 1); /* only SHP-1, from before */
    assert_int_equal(call(f, "POST", "/api/v1/shipments/import", APPROVER, dry,
                          "{\"shipments\":[" SHP_1 ",{\"shipment\":\"S-10\",\"dealer\":\"A\","
                          "\"lines\":[{\"sku\":\"S2\",\"qty\":1,\"codes\":[\"SN-11\"]}]}]}"),
                     200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "would_import")->valuedouble, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "already")->valuedouble, 1);
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-11", VIEWER, NULL, NULL), 404);
    /* for real, with a key, twice */
    assert_int_equal(call_key(f, "POST", "/api/v1/shipments/import", APPROVER, NULL,
                              "{\"shipments\":[{\"shipment\":\"S-10\",\"dealer\":\"A\","
                              "\"lines\":[{\"sku\":\"S2\",\"qty\":1,\"codes\":[\"SN-11\"]}]}]}",
                              "ship-10"),
                     200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(f->json, "imported")->valuedouble, 1);
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-11", VIEWER, NULL, NULL), 200);
    assert_string_equal(str_of(f, "shipment"), "S-10");
}

/* Keeps the scan of code at dealer as the applied movement mid would (store/shipments.h). */
static void code_scan(struct fixture *f, const char *dealer, uint64_t mid, const char *kind,
                      const char *code)
{
    struct depot_movement_item it = {.mid = mid, .ts = NOW + (long long)mid, .delta = 1};
    depot_msg m = test_stock(dealer, LEDGER_A, mid, mid, NOW, "S2", 0);
    m.type = DEPOT_MSG_MOVEMENTS;
    memset(&m.body, 0, sizeof(m.body));
    snprintf(it.node, sizeof(it.node), "scan-1");
    snprintf(it.sku, sizeof(it.sku), "S2");
    snprintf(it.kind, sizeof(it.kind), "%s", kind);
    snprintf(it.code, sizeof(it.code), "%s", code);
    m.body.movements.n_items = 1;
    m.body.movements.items = &it;
    assert_int_equal(hub_store_code_scans_keep(f->writer, &m), DEPOT_OK);
}

/* GET /codes/<code>: where it was shipped and every scan of it; a dealer's user its own. */
static void test_api_codes_ScanHistoryScopedToTheDealer(void **state)
{
    struct fixture *f = *state;
    char auth[128];
    long long alert;
    const cJSON *scans;
    dealer_data(f, "A", "order-of-a", &alert);
    dealer_data(f, "B", "order-of-b", &alert);
    assert_int_equal(call(f, "PUT", "/api/v1/catalog", ADMIN, NULL, CATALOG_2), 200);
    assert_int_equal(call(f, "POST", "/api/v1/shipments", APPROVER, NULL,
                          "{\"shipment\":\"shp-a\",\"dealer\":\"A\",\"lines\":[{\"sku\":"
                          "\"S2\",\"qty\":1,\"codes\":[\"SN-A1\"]}]}"),
                     201);
    code_scan(f, "A", 1, "receive", "SN-A1");
    code_scan(f, "B", 2, "receive", "SN-A1"); /* diverted */
    code_scan(f, "B", 3, "pick", "SN-A1");
    code_scan(f, "B", 4, "receive", "SN-NEVER"); /* no shipment registered it */
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-A1", VIEWER, NULL, NULL), 200);
    assert_string_equal(str_of(f, "dealer"), "A");
    scans = cJSON_GetObjectItemCaseSensitive(f->json, "scans");
    assert_int_equal(cJSON_GetArraySize(scans), 3);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scans, 0), "dealer")->valuestring, "A");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scans, 2), "kind")->valuestring,
        "pick");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scans, 2), "dealer")->valuestring, "B");
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scans, 2), "movement")->valuedouble, 3);
    /* scanned but never shipped: its scans, no dealer */
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-NEVER", VIEWER, NULL, NULL), 200);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f->json, "dealer")));
    assert_string_equal(str_of(f, "sku"), "S2");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(f->json, "scans")), 1);
    /* A's user: its code, its own scan only; B's scans of it stay B's */
    dealer_login(f, "A", auth, sizeof(auth));
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-A1", auth, NULL, NULL), 200);
    scans = cJSON_GetObjectItemCaseSensitive(f->json, "scans");
    assert_int_equal(cJSON_GetArraySize(scans), 1);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(scans, 0), "dealer")->valuestring, "A");
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-NEVER", auth, NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/codes/SN-NONE", VIEWER, NULL, NULL), 404);
}

/* One up/movements batch of dealer (without a chain, as an older gateway sends it): n receipts
 * of one unit from stock q0. */
static void moves(struct fixture *f, const char *dealer, uint64_t id, long long ts, size_t n,
                  long long q0)
{
    struct depot_movement_item items[4];
    depot_msg m = test_stock(dealer, LEDGER_A, id, id, ts, "S1", 0);
    m.type = DEPOT_MSG_MOVEMENTS;
    memset(&m.body, 0, sizeof(m.body));
    memset(items, 0, sizeof(items));
    for (size_t i = 0; i < n && i < 4; i++) {
        items[i].mid = id * 10 + i;
        items[i].ts = ts + (long long)i;
        snprintf(items[i].node, sizeof(items[i].node), "scan-1");
        snprintf(items[i].sku, sizeof(items[i].sku), "S1");
        snprintf(items[i].kind, sizeof(items[i].kind), "receive");
        items[i].delta = 1;
        items[i].qty = q0 + (long long)i + 1; /* each batch follows the stock before it */
    }
    m.body.movements.items = items;
    m.body.movements.n_items = n;
    apply_msg(f, &m);
}

/* Payments, movements, stock, statements and ranking as CSV and JSON Lines, in a range, a
 * dealer's user its own rows only (and no ranking). */
static void test_api_export_EveryOtherList(void **state)
{
    struct fixture *f = *state;
    static const char *const csv[] = {"format", "csv", NULL};
    static const char *const jsonl[] = {"format", "jsonl", NULL};
    static const char *const csv_b[] = {"format", "csv", "dealer", "B", NULL};
    static const char *const past[] = {"format", "csv",        "from", "2000-01-01",
                                       "to",     "2000-01-02", NULL};
    static const char *const since[] = {"format", "jsonl", "from", "2000-01-01", NULL};
    static const char *const ranged_ranking[] = {"format", "csv", "from", "2026-01-01", NULL};
    struct hub_statement st = {0,
                               "B",
                               "2026-01",
                               NOW,
                               "{\"dealer\":\"B\",\"rank\":1,\"of\":2}",
                               "MEUCIQ==",
                               "-----BEGIN CERTIFICATE-----\n"};
    char auth[128];
    long long alert, id = 0;
    bool created = false;
    dealer_data(f, "A", "order-of-a", &alert);
    dealer_data(f, "B", "order-of-b", &alert);
    assert_int_equal(call(f, "POST", "/api/v1/payments", APPROVER, NULL,
                          "{\"dealer\":\"A\",\"amount\":\"12.50\",\"ref\":\"=cmd|x\"}"),
                     200);
    assert_int_equal(call(f, "POST", "/api/v1/payments", APPROVER, NULL,
                          "{\"dealer\":\"B\",\"amount\":\"3.00\",\"ref\":\"wire, 7\"}"),
                     200);
    stock(f, "A", "S2", 7, 7);
    moves(f, "A", 8, NOW, 3, 0);
    moves(f, "B", 9, NOW, 2, 0);
    assert_int_equal(hub_store_statement_add(f->writer, &st, &id, &created), DEPOT_OK);

    /* payments: the header, a row each, a formula made text, a comma quoted */
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, csv, NULL), 200);
    assert_true(in_body(f, "id,dealer,amount,order,ref,at\r\n"));
    assert_true(in_body(f, ",A,12.50,,'=cmd|x,"));
    assert_true(in_body(f, ",B,3.00,,\"wire, 7\","));
    assert_int_equal(count_lines(f), 3);
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, csv_b, NULL), 200);
    assert_int_equal(count_lines(f), 2);
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, past, NULL), 200);
    assert_int_equal(count_lines(f), 1); /* the header alone */
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, since, NULL), 200);
    assert_int_equal(count_lines(f), 2);
    /* movements: every applied one, by dealer, ledger and id */
    assert_int_equal(call(f, "GET", "/api/v1/export/movements", VIEWER, jsonl, NULL), 200);
    assert_int_equal(count_lines(f), 5);
    assert_true(in_body(f, "\"dealer\":\"A\",\"ledger\""));
    assert_true(in_body(f, "\"movement\":82,"));
    assert_int_equal(call(f, "GET", "/api/v1/export/movements", VIEWER, csv_b, NULL), 200);
    assert_int_equal(count_lines(f), 3);
    assert_int_equal(call(f, "GET", "/api/v1/export/movements", VIEWER, past, NULL), 200);
    assert_int_equal(count_lines(f), 1);
    /* stock */
    assert_int_equal(call(f, "GET", "/api/v1/export/stock", VIEWER, csv, NULL), 200);
    assert_true(in_body(f, "dealer,sku,qty,node,updated_at,received_at,dealer_online,last_seen"));
    assert_true(in_body(f, "A,S2,7,"));
    assert_int_equal(call(f, "GET", "/api/v1/export/stock", VIEWER, past, NULL), 200);
    assert_int_equal(count_lines(f), 1);
    /* statements: the period's start in the range */
    assert_int_equal(call(f, "GET", "/api/v1/export/statements", VIEWER, csv, NULL), 200);
    assert_int_equal(count_lines(f), 2);
    assert_true(in_body(f, ",B,2026-01,"));
    assert_int_equal(call(f, "GET", "/api/v1/export/statements", VIEWER, past, NULL), 200);
    assert_int_equal(count_lines(f), 1);
    /* ranking: a period's board; a date range is refused */
    assert_int_equal(call(f, "GET", "/api/v1/export/ranking", VIEWER, ranged_ranking, NULL), 400);
    /* bad format */
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, NULL, NULL), 400);
    /* a dealer's user: its own rows, no ranking */
    dealer_login(f, "B", auth, sizeof(auth));
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", auth, csv, NULL), 200);
    assert_int_equal(count_lines(f), 2);
    assert_true(in_body(f, ",B,3.00,"));
    assert_int_equal(call(f, "GET", "/api/v1/export/movements", auth, csv, NULL), 200);
    assert_int_equal(count_lines(f), 3);
    assert_int_equal(call(f, "GET", "/api/v1/export/statements", auth, csv, NULL), 200);
    assert_int_equal(count_lines(f), 2);
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", auth, csv_b, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/export/ranking", auth, csv, NULL), 403);
}

/* More payments and movements than a page: every one exported once, in order. */
static void test_api_export_PaymentsAndMovementsSpanPages(void **state)
{
    struct fixture *f = *state;
    static const char *const jsonl[] = {"format", "jsonl", NULL};
    long long alert, id;
    int n = API_PAGE_ROWS + 3;
    dealer_data(f, "A", "order-of-a", &alert);
    assert_int_equal(hub_store_begin(f->writer), DEPOT_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(hub_store_payment_add(f->writer, "A", 100 + i, "", "r", "t", NOW, &id),
                         DEPOT_OK);
    assert_int_equal(hub_store_commit(f->writer), DEPOT_OK);
    for (int i = 0; i < 130; i++) /* 520 movements, 4 a batch */
        moves(f, i % 2 ? "A" : "B", 10 + (uint64_t)i, NOW, 4, (i / 2) * 4);
    assert_int_equal(call(f, "GET", "/api/v1/export/payments", VIEWER, jsonl, NULL), 200);
    assert_int_equal(count_lines(f), n);
    assert_true(in_body(f, "\"amount\":1.00,"));
    assert_true(in_body(f, "\"amount\":6.02,"));
    assert_int_equal(call(f, "GET", "/api/v1/export/movements", VIEWER, jsonl, NULL), 200);
    assert_int_equal(count_lines(f), 520);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_api_auth_UnknownOrMissingTokenIs401),
        T(test_api_shipments_RecordedOnceWithTheirCodes),
        T(test_api_codes_ScanHistoryScopedToTheDealer),
        T(test_api_export_EveryOtherList),
        T(test_api_export_PaymentsAndMovementsSpanPages),
        T(test_api_catalog_SameCatalogTwiceChangesNothing),
        T(test_api_shipments_DryRunNamesEveryBadShipmentAndWritesNothing),
        T(test_api_routes_UnknownPathIs404AndWrongMethodIs405),
        T(test_api_statements_BadRequestsRefusedWithTheirReason),
        T(test_api_routes_RoleBelowTheRouteIs403),
        T(test_api_routes_BadArgumentIs404),
        T(test_api_body_NotOneJsonDocumentIs400),
        T(test_api_catalog_PutThenGet),
        T(test_api_catalog_SerialPrefixes),
        T(test_api_stock_RowsAndFilters),
        T(test_api_dealers_PatchThenGet),
        T(test_api_me_NamesTheToken),
        T(test_api_open_HealthMetricsAndDashboardNeedNoToken),
        T(test_api_alerts_EmptyListAndBadFilter),
        T(test_api_alerts_PagesWithACursor),
        T(test_api_export_AlertsAsCsvAndJsonLines),
        T(test_api_export_SpansPages),
        T(test_api_orders_PagesWithACursor),
        T(test_api_dealers_PagesWithACursor),
        T(test_api_ranking_WithoutEngineIs503),
        T(test_api_accounts_UserLogsInActsAndLogsOut),
        T(test_api_accounts_DisableAndResetRevokeSessionsAtOnce),
        T(test_api_accounts_ApiTokensListedByNameRevokedAtOnce),
        T(test_api_accounts_BadRequestsRefused),
        T(test_api_accounts_FailedLoginsLimitedPerAccountAndAddress),
        T(test_api_accounts_ConcurrentPatchesOfOneUserBothHold),
        T(test_api_dealer_user_EveryRouteWithAnotherDealersIdIsRefused),
        T(test_api_idempotency_SameRequestTwiceRecordsOnceAndAnswersTheSame),
        T(test_api_payments_import_DryRunNamesEveryBadLineAndWritesNothing),
        cmocka_unit_test(test_api_routes_EveryPatternIsWellFormed),
    };
    depot_log_init("hub_api_test", DEPOT_LOG_ERROR + 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
