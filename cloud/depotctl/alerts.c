/*
 * depotctl alerts list [--status S] [--dealer D] [--kind K] [--sku S] | show ID | ack ID
 *                 | resolve ID
 *
 * list prints one line per alert (newest first) with its suggested action;
 * show, ack and resolve print the alert as JSON. ack and resolve need an
 * approver or admin token; the hub answers 409 for an alert already resolved.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "depot/msg.h"

#define CMD "depotctl alerts"
#define COLS 8

static void alert_cells(const cJSON *it, char (*row)[64])
{
    static const char *const keys[COLS] = {"id",     "status", "severity", "kind",
                                           "dealer", "sku",    "count",    "action"};
    for (int c = 0; c < COLS; c++)
        if (c == 0 || c == 6)
            ctl_json_num(it, keys[c], row[c], 64);
        else
            snprintf(row[c], 64, "%s", ctl_json_str(it, keys[c]));
}

static int alerts_list(const char *query, const char *hub, const char *token)
{
    static const char *const heads[COLS] = {"id",     "status", "severity", "kind",
                                            "dealer", "sku",    "count",    "action"};
    char path[400];
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc;
    snprintf(path, sizeof(path), "/api/v1/alerts%s", query);
    rc = ctl_api_call(CMD, hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < COLS; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL)) alert_cells(it, rows[i++]);
    if (rows)
        ctl_print_table(rows, n + 1, COLS);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

static int alerts_act(const char *verb, const char *id, const char *hub, const char *token)
{
    char path[120];
    snprintf(path, sizeof(path), "/api/v1/alerts/%s%s%s", id, verb ? "/" : "", verb ? verb : "");
    return ctl_api_print(CMD, hub, token, verb ? "POST" : "GET", path,
                         verb ? cJSON_CreateObject() : NULL, NULL, NULL);
}

/* "?status=..&dealer=.." from the filters given; false (printed) for an invalid one. */
static bool list_query(char *out, size_t len, const char *const *names, const char *const *vals)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < 4; i++) {
        if (!vals[i])
            continue;
        if (!depot_id_valid(vals[i], 32)) {
            fprintf(stderr, CMD ": --%s '%s' is not valid\n", names[i], vals[i]);
            return false;
        }
        at += (size_t)snprintf(out + at, len - at, "%c%s=%s", at ? '&' : '?', names[i], vals[i]);
    }
    return true;
}

static bool alert_id_ok(const char *id)
{
    char *end;
    long long n = strtoll(id, &end, 10);
    if (end == id || *end || n <= 0) {
        fprintf(stderr, CMD ": '%s' is not an alert id\n", id);
        return false;
    }
    return true;
}

int ctl_alerts_main(int argc, char **argv)
{
    static const char *const names[4] = {"status", "dealer", "kind", "sku"};
    const char *hub = NULL, *token = NULL, *vals[4] = {NULL, NULL, NULL, NULL};
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token: approver to act, viewer to read ($DEPOT_TOKEN)"},
        {"status", &vals[0], false, "list: open, acknowledged or resolved"},
        {"dealer", &vals[1], false, "list: only this dealer"},
        {"kind", &vals[2], false, "list: only this kind (low_stock, stockout_forecast, ...)"},
        {"sku", &vals[3], false, "list: only this SKU"},
    };
    static const struct ctl_verb verbs[] = {
        {"list", NULL, "list alerts [--status S] [--dealer D] [--kind K] [--sku S]"},
        {"show", "ID", "one alert as JSON"},
        {"ack", "ID", "acknowledge it"},
        {"resolve", "ID", "resolve it"},
    };
    static const struct ctl_verb_table table = {CMD, "List, show, acknowledge or resolve alerts.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *id = NULL;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &id, &rc);
    char query[300];

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (id && !alert_id_ok(id))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return list_query(query, sizeof(query), names, vals) ? alerts_list(query, hub, token)
                                                             : CTL_USAGE;
    return alerts_act(verb[0] == 's' ? NULL : verb, id, hub, token);
}
