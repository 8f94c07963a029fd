/*
 * depotctl webhooks add URL --types T[,T...] [--secret S] | list | disable ID
 *                 | deliveries ID [--status S] | retry ID --seq SEQ
 *
 * Subscriptions of an ERP (or any system) to the hub's events, through the hub's API (admin).
 * add prints the subscription and its secret on a line of its own, shown this once (the hub
 * makes one when --secret is not given); list never shows a secret. deliveries lists a
 * subscription's deliveries (pending, delivered, dead); retry makes a dead one pending again.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl.h"

#define CMD "depotctl webhooks"

static int add(const char *hub, const char *token, const char *url, const char *types,
               const char *secret)
{
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "types");
    char buf[512], *save = NULL;
    if (!types) {
        fprintf(stderr, CMD ": add needs --types (e.g. order.approved,payment.recorded or *)\n");
        cJSON_Delete(body);
        return CTL_USAGE;
    }
    snprintf(buf, sizeof(buf), "%s", types);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(list, cJSON_CreateString(t));
    cJSON_AddStringToObject(body, "url", url);
    if (secret)
        cJSON_AddStringToObject(body, "secret", secret);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/webhooks", body, "secret",
                         "webhook secret");
}

static bool is_id(const char *s)
{
    char *e;
    return s && strtoll(s, &e, 10) > 0 && !*e;
}

int ctl_webhooks_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *types = NULL, *secret = NULL, *status = NULL;
    const char *seq = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "an admin's token ($DEPOT_TOKEN)"},
        {"types", &types, false, "add: the event types, comma-separated (* for all)"},
        {"secret", &secret, false, "add: the signing secret (default: the hub makes one)"},
        {"status", &status, false, "deliveries: only pending, delivered or dead"},
        {"seq", &seq, false, "retry: the dead delivery's seq"},
    };
    static const struct ctl_verb verbs[] = {
        {"add", "URL", "subscribe URL to --types; prints the secret once"},
        {"list", NULL, "the subscriptions (never their secrets)"},
        {"disable", "ID", "stop a subscription"},
        {"deliveries", "ID", "a subscription's deliveries [--status S]"},
        {"retry", "ID", "send a dead delivery again (--seq SEQ)"},
    };
    static const struct ctl_verb_table table = {
        CMD, "Outbound webhooks: the hub's events POSTed, signed, to an ERP.", verbs,
        sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *arg = NULL;
    char path[160];
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &arg, &rc);
    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return ctl_api_print(CMD, hub, token, "GET", "/api/v1/webhooks", NULL, NULL, NULL);
    if (!strcmp(verb, "add"))
        return add(hub, token, arg, types, secret);
    if (!is_id(arg) || (!strcmp(verb, "retry") && !is_id(seq))) {
        fprintf(stderr, CMD ": %s needs a subscription id%s\n", verb,
                strcmp(verb, "retry") ? "" : " and --seq SEQ");
        return CTL_USAGE;
    }
    if (!strcmp(verb, "disable")) {
        snprintf(path, sizeof(path), "/api/v1/webhooks/%s/disable", arg);
        return ctl_api_print(CMD, hub, token, "POST", path, cJSON_CreateObject(), NULL, NULL);
    }
    if (!strcmp(verb, "retry")) {
        snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries/%s/retry", arg, seq);
        return ctl_api_print(CMD, hub, token, "POST", path, cJSON_CreateObject(), NULL, NULL);
    }
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "dead")) {
        fprintf(stderr, CMD ": --status is pending, delivered or dead\n");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries?limit=1000%s%s", arg,
             status ? "&status=" : "", status ? status : "");
    return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
}
