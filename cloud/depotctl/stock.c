/*
 * depotctl stock [--dealer D] [--sku S] --hub http://HOST:PORT --token T
 *
 * Asks GET /api/v1/stock and prints one line per (dealer, sku):
 *
 *   DEALER  SKU  QTY  NODE     UPDATED                   STATUS
 *   D001    S1   12   scale-a  2026-11-27T08:40:01.123Z  live
 *   D002    S1   40   scale-b  2026-11-27T08:31:10.000Z  stale 42s (gateway offline)
 *
 * --hub and --token default to $DEPOT_HUB and $DEPOT_TOKEN. Columns are as
 * wide as their widest value. Exit 0 on a 2xx reply, 1 on any failure (the
 * hub's {"error"} is printed), 2 on a bad command line.
 */
#include "stock.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "http.h"
#include "depot/msg.h"

#define CMD "depotctl stock"
#define N_COLS 6
#define TIMEOUT_MS 15000

static const char *const headings[N_COLS] = {"DEALER", "SKU", "QTY", "NODE", "UPDATED", "STATUS"};

/* The six cells of one row, formatted; false if the item does not have the API's shape. */
static bool cells(const cJSON *it, char out[N_COLS][128])
{
    const cJSON *qty = cJSON_GetObjectItemCaseSensitive(it, "qty");
    const cJSON *age = cJSON_GetObjectItemCaseSensitive(it, "age_s");
    const cJSON *stale = cJSON_GetObjectItemCaseSensitive(it, "stale");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(it, "stale_reason");
    const char *keys[] = {"dealer", "sku", NULL, "node", "updated_at"};

    for (int i = 0; i < 5; i++) {
        const char *v =
            keys[i] ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, keys[i])) : "";
        if (!v)
            return false;
        snprintf(out[i], 128, "%s", v);
    }
    if (!cJSON_IsNumber(qty) || !cJSON_IsNumber(age) || !cJSON_IsBool(stale))
        return false;
    snprintf(out[2], 128, "%.0f", qty->valuedouble);
    if (cJSON_IsTrue(stale))
        snprintf(out[5], 128, "stale %.0fs (%s)", age->valuedouble,
                 cJSON_IsString(reason) ? reason->valuestring : "unknown");
    else
        snprintf(out[5], 128, "live");
    return true;
}

/* QTY right-aligned, the other columns left-aligned, the last one unpadded. */
static void print_row(char row[N_COLS][128], const int *width)
{
    for (int c = 0; c < N_COLS - 1; c++) {
        if (c == 2)
            printf("%*s  ", width[c], row[c]);
        else
            printf("%-*s  ", width[c], row[c]);
    }
    printf("%s\n", row[N_COLS - 1]);
}

int ctl_stock_print(const cJSON *list)
{
    int n = cJSON_GetArraySize(list), width[N_COLS] = {0};
    char(*rows)[N_COLS][128] = calloc((size_t)n + 1, sizeof(*rows));
    const cJSON *it;
    int i = 1;

    if (!rows)
        return CTL_FAIL;
    for (int c = 0; c < N_COLS; c++)
        snprintf(rows[0][c], 128, "%s", headings[c]);
    cJSON_ArrayForEach(it, list)
    {
        if (!cells(it, rows[i++])) {
            fprintf(stderr, CMD ": the hub's reply has an unexpected shape\n");
            free(rows);
            return CTL_FAIL;
        }
    }
    for (i = 0; i <= n; i++)
        for (int c = 0; c < N_COLS; c++)
            if ((int)strlen(rows[i][c]) > width[c])
                width[c] = (int)strlen(rows[i][c]);
    for (i = 0; i <= n; i++)
        print_row(rows[i], width);
    free(rows);
    return CTL_OK;
}

static int report_http_error(const struct ctl_http_reply *r)
{
    cJSON *j = depot_json_parse(r->body, r->len);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
    fprintf(stderr, CMD ": the hub answered %d: %s\n", r->status, msg ? msg : "(no reason)");
    cJSON_Delete(j);
    return CTL_FAIL;
}

static int fetch_and_print(const char *hub, const char *token, const char *path)
{
    struct ctl_http_reply r;
    char err[300];
    cJSON *list;
    int rc;

    if (ctl_http_get(hub, path, token, TIMEOUT_MS, &r, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, CMD ": %s\n", err);
        return CTL_FAIL;
    }
    if (r.status < 200 || r.status > 299) {
        rc = report_http_error(&r);
        ctl_http_reply_clear(&r);
        return rc;
    }
    list = depot_json_parse(r.body, r.len);
    ctl_http_reply_clear(&r);
    if (!cJSON_IsArray(list)) {
        fprintf(stderr, CMD ": the hub's reply is not a JSON list\n");
        cJSON_Delete(list);
        return CTL_FAIL;
    }
    rc = ctl_stock_print(list);
    cJSON_Delete(list);
    return rc;
}

void ctl_stock_path(char *out, size_t len, const char *dealer, const char *sku)
{
    snprintf(out, len, "/api/v1/stock%s%s%s%s%s", dealer || sku ? "?" : "", dealer ? "dealer=" : "",
             dealer ? dealer : "", dealer && sku ? "&" : "", sku ? "sku=" : "");
    if (sku)
        strncat(out, sku, len - strlen(out) - 1);
}

int ctl_stock_main(int argc, char **argv)
{
    const char *dealer = NULL, *sku = NULL;
    const char *hub = getenv("DEPOT_HUB"), *token = getenv("DEPOT_TOKEN");
    const struct ctl_opt opts[] = {
        {"dealer", &dealer, false, "only this dealer"},
        {"sku", &sku, false, "only this SKU"},
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API bearer token, role viewer or above (default $DEPOT_TOKEN)"},
    };
    char path[160];
    int rc = ctl_parse(CMD, "Show stock across dealers; stale values say why and how old.", argc,
                       argv, opts, sizeof(opts) / sizeof(opts[0]));

    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (!hub || !*hub || !token || !*token) {
        fprintf(stderr, CMD ": give --hub and --token (or set DEPOT_HUB and DEPOT_TOKEN)\n");
        return CTL_USAGE;
    }
    if ((dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX)) ||
        (sku && !depot_id_valid(sku, DEPOT_SKU_MAX))) {
        fprintf(stderr, CMD ": --dealer and --sku take ids of [A-Za-z0-9_.-]\n");
        return CTL_USAGE;
    }
    ctl_stock_path(path, sizeof(path), dealer, sku);
    return fetch_and_print(hub, token, path);
}
