/*
 * depotctl dealers list | show ID | set ID [--name N] [--region R] [--tier T]
 *     [--credit-limit X] [--auto-approve-limit Y] [--lat A --lon B]
 *     [--contract-start D] [--contract-end D] [--sku-max SKU=N[,SKU=N...]]
 *
 * set sends only the given fields (PATCH /api/v1/dealers/ID, admin); money
 * is a decimal such as 5000.00. show prints the hub's JSON as it is.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "dealers.h"
#include "depot/msg.h"
#include "depot/money.h"

#define CMD "depotctl dealers"

static int dealers_list(const char *hub, const char *token)
{
    static const char *const keys[] = {"dealer", "online", "last_seen"};
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(CMD, hub, token, "GET", "/api/v1/dealers", NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 3; c++)
        snprintf(rows[0][c], 64, "%s", keys[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        snprintf(rows[i][0], 64, "%s", ctl_json_str(it, "dealer"));
        ctl_json_num(it, "online", rows[i][1], 64);
        /* null: a dealer with a profile whose gateway never connected */
        snprintf(rows[i][2], 64, "%s",
                 cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "last_seen"))
                     ? ctl_json_str(it, "last_seen")
                     : "never");
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 3);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

static int dealers_show(const char *id, const char *hub, const char *token)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/dealers/%s", id);
    return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
}

static bool add_money(cJSON *body, const char *key, const char *v)
{
    long long cents;
    char text[DEPOT_MONEY_TEXT];
    if (!v)
        return true;
    if (!ctl_money(CMD, key, v, false, &cents))
        return false;
    depot_money_format(cents, text, sizeof(text));
    cJSON_AddItemToObject(body, key, cJSON_CreateRaw(text));
    return true;
}

/* "S1=100,S2=5" into {"S1":100,"S2":5}. */
static bool add_sku_max(cJSON *body, const char *v)
{
    cJSON *m;
    char buf[1024], *save = NULL;
    if (!v)
        return true;
    m = cJSON_AddObjectToObject(body, "sku_max");
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '='), *end;
        long long n = eq ? strtoll(eq + 1, &end, 10) : -1;
        if (!eq || *end || n < 0 || (*eq = '\0', !depot_id_valid(p, DEPOT_SKU_MAX))) {
            fprintf(stderr, CMD ": --sku-max takes SKU=N[,SKU=N...]\n");
            return false;
        }
        cJSON_AddNumberToObject(m, p, (double)n);
    }
    return true;
}

cJSON *ctl_dealers_set_body(const struct ctl_dealer_set *a)
{
    cJSON *b = cJSON_CreateObject();
    const char *texts[][2] = {{"name", a->name},
                              {"region", a->region},
                              {"tier", a->tier},
                              {"contract_start", a->start},
                              {"contract_end", a->end}};
    for (size_t i = 0; i < 5; i++)
        if (texts[i][1])
            cJSON_AddStringToObject(b, texts[i][0], texts[i][1]);
    if (a->lat || a->lon) {
        cJSON_AddNumberToObject(b, "lat", a->lat ? atof(a->lat) : 0);
        cJSON_AddNumberToObject(b, "lon", a->lon ? atof(a->lon) : 0);
    }
    if (!add_money(b, "credit_limit", a->credit) ||
        !add_money(b, "auto_approve_limit", a->auto_limit) || !add_sku_max(b, a->sku_max)) {
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

static int dealers_set(const char *id, const struct ctl_dealer_set *a, const char *hub,
                       const char *token)
{
    char path[128];
    cJSON *body = ctl_dealers_set_body(a);
    if (!body)
        return CTL_USAGE;
    snprintf(path, sizeof(path), "/api/v1/dealers/%s", id);
    return ctl_api_print(CMD, hub, token, "PATCH", path, body, NULL, NULL);
}

int ctl_dealers_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL;
    struct ctl_dealer_set a = {0};
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token: admin to set, viewer otherwise ($DEPOT_TOKEN)"},
        {"name", &a.name, false, "set: the dealer's name"},
        {"region", &a.region, false, "set: its region"},
        {"tier", &a.tier, false, "set: its tier"},
        {"credit-limit", &a.credit, false, "set: credit limit, e.g. 5000.00"},
        {"auto-approve-limit", &a.auto_limit, false, "set: orders up to this value auto-approve"},
        {"lat", &a.lat, false, "set: latitude (with --lon)"},
        {"lon", &a.lon, false, "set: longitude (with --lat)"},
        {"contract-start", &a.start, false, "set: YYYY-MM-DD"},
        {"contract-end", &a.end, false, "set: YYYY-MM-DD"},
        {"sku-max", &a.sku_max, false, "set: per-SKU maximum stock, SKU=N[,SKU=N...]"},
    };
    static const struct ctl_verb verbs[] = {
        {"list", NULL, "every dealer: with a profile, or seen by the hub"},
        {"show", "ID", "one dealer's profile"},
        {"set", "ID", "set fields of its profile (the options marked set:)"},
    };
    static const struct ctl_verb_table table = {CMD,
                                                "List dealers, show or set a dealer's profile.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *id = NULL;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &id, &rc);

    if (v < 0)
        return rc;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (id && !depot_dealer_id_valid(id)) {
        fprintf(stderr, CMD ": '%s' is not a dealer id (" DEPOT_ID_RULE ")\n", id);
        return CTL_USAGE;
    }
    if (v == 0)
        return dealers_list(hub, token);
    return v == 1 ? dealers_show(id, hub, token) : dealers_set(id, &a, hub, token);
}
