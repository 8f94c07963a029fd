/*
 * depotctl orders list [--status S] [--dealer D] | show ID
 *                 | approve ID --stage S [--reason R] | reject ID --reason R [--stage S]
 * depotctl payments add --dealer D --amount 100.00 [--order ID] [--ref TEXT]
 *                | import FILE.csv (ctl_ranking.c)
 *
 * approve and reject act at the order's current stage with the token's
 * rights (an approver only for its stages), and only if it is the stage
 * --stage names (approve needs it: the hub answers 409 if the order has
 * moved on); payments need an approver or admin token.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "depot/msg.h"
#include "depot/money.h"

#define CMD "depotctl orders"

static int orders_list(const char *status, const char *dealer, const char *hub, const char *token)
{
    static const char *const keys[] = {"order", "dealer",    "status",     "stage",
                                       "total", "escalated", "received_at"};
    char path[200];
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc;
    snprintf(path, sizeof(path), "/api/v1/orders?status=%s&dealer=%s", status ? status : "",
             dealer ? dealer : "");
    rc = ctl_api_call(CMD, hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 7; c++)
        snprintf(rows[0][c], 64, "%s", keys[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        for (int c = 0; c < 7; c++)
            if (c == 4)
                snprintf(rows[i][c], 64, "%.2f",
                         cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "total")));
            else if (c == 5)
                ctl_json_num(it, keys[c], rows[i][c], 64);
            else
                snprintf(rows[i][c], 64, "%s", ctl_json_str(it, keys[c]));
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 7);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

static int orders_act(const char *verb, const char *id, const char *stage, const char *reason,
                      const char *hub, const char *token)
{
    char path[200];
    cJSON *body = verb ? cJSON_CreateObject() : NULL;
    if (stage && body)
        cJSON_AddStringToObject(body, "stage", stage);
    if (reason && body)
        cJSON_AddStringToObject(body, "reason", reason);
    snprintf(path, sizeof(path), "/api/v1/orders/%s%s%s", id, verb ? "/" : "", verb ? verb : "");
    return ctl_api_print(CMD, hub, token, verb ? "POST" : "GET", path, body, NULL, NULL);
}

static bool order_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > DEPOT_ORDER_ID_MAX || !depot_id_valid(id, DEPOT_ORDER_ID_MAX)) {
        fprintf(stderr, CMD ": '%s' is not an order id\n", id);
        return false;
    }
    return true;
}

int ctl_orders_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *status = NULL, *dealer = NULL, *reason = NULL,
               *stage = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token: approver to act, viewer to read ($DEPOT_TOKEN)"},
        {"status", &status, false, "list: pending, approved or rejected"},
        {"dealer", &dealer, false, "list: only this dealer"},
        {"reason", &reason, false, "approve/reject: why (required to reject)"},
        {"stage", &stage, false, "approve/reject: the stage acted on (required to approve)"},
    };
    static const struct ctl_verb verbs[] = {
        {"list", NULL, "list orders [--status S] [--dealer D]"},
        {"show", "ID", "one order with its lines and audit trail"},
        {"approve", "ID", "approve the stage it is at: --stage S [--reason R]"},
        {"reject", "ID", "reject it: --reason R [--stage S]"},
    };
    static const struct ctl_verb_table table = {CMD, "List, show, approve or reject orders.", verbs,
                                                sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *id = NULL;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &id, &rc);

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if ((id && !order_id_ok(id)) || (dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX)))
        return CTL_USAGE;
    if (!strcmp(verb, "reject") && (!reason || !*reason)) {
        fprintf(stderr, CMD ": reject needs --reason\n");
        return CTL_USAGE;
    }
    if (!strcmp(verb, "approve") && (!stage || !*stage)) {
        fprintf(stderr, CMD ": approve needs --stage, the stage you approve (see orders show)\n");
        return CTL_USAGE;
    }
    if (!strcmp(verb, "list"))
        return orders_list(status, dealer, hub, token);
    return orders_act(verb[0] == 's' ? NULL : verb, id, stage, reason, hub, token);
}

int ctl_payments_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *dealer = NULL, *amount = NULL, *order = NULL,
               *ref = NULL;
    const struct ctl_opt opts[] = {
        {"dealer", &dealer, true, "the paying dealer"},
        {"amount", &amount, true, "amount, e.g. 100.00"},
        {"order", &order, false, "the order it pays (optional)"},
        {"ref", &ref, false, "a reference such as a bank transfer id"},
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token, approver or admin ($DEPOT_TOKEN)"},
    };
    char money[DEPOT_MONEY_TEXT];
    long long cents;
    cJSON *body;
    int rc;

    static const struct ctl_verb verbs[] = {
        {"add", NULL, "record a dealer's payment: --dealer D --amount 100.00 [--order ID]"},
        {"import", "FILE.csv", "import payments from CSV (all or nothing)"},
        {"check", "FILE.csv", "check every line of a CSV here and at the hub, import nothing"},
    };
    int v = ctl_verb_pick("depotctl payments", "Record payments.", argc, argv, verbs, 3);

    if (v < 0)
        return v == -1 ? CTL_OK : CTL_USAGE;
    if (v == 1 || v == 2)
        return ctl_payments_import(argc - 1, argv + 1, v == 2);
    rc = ctl_parse_verb("depotctl payments", &verbs[0], argc - 1, argv + 1, opts,
                        sizeof(opts) / sizeof(opts[0]), NULL);
    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (!ctl_api_target("depotctl payments", &hub, &token))
        return CTL_USAGE;
    if (!ctl_money("depotctl payments", "amount", amount, true, &cents))
        return CTL_USAGE;
    depot_money_format(cents, money, sizeof(money));
    body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "dealer", dealer);
    cJSON_AddItemToObject(body, "amount", cJSON_CreateRaw(money));
    if (order)
        cJSON_AddStringToObject(body, "order", order);
    cJSON_AddStringToObject(body, "ref", ref ? ref : "");
    return ctl_api_print("depotctl payments", hub, token, "POST", "/api/v1/payments", body, NULL,
                         NULL);
}
