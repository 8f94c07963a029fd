/*
 * depotctl policies publish --title T --notice N --from YYYY-MM-DD --to YYYY-MM-DD
 *                           --target all|region:R|tier:T|list:A,B [--body-file F]
 *                 | list | show ID | repush ID
 *
 * publish needs an admin token; list and show print each policy's reach:
 * how many targets have it on their gateway, have seen it in the portal and
 * have acknowledged it (at a terminal or in the portal), the share
 * acknowledged after each day, and who is missing. repush sends it again to
 * the targets that have not acknowledged it.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"

#define CMD "depotctl policies"
#define BODY_MAX 4001

static int list_policies(const char *hub, const char *token)
{
    static const char *const heads[] = {"id",      "title",     "valid",
                                        "targets", "delivered", "acknowledged"};
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(CMD, hub, token, "GET", "/api/v1/policies", NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 6; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        const cJSON *cov = cJSON_GetObjectItemCaseSensitive(it, "coverage");
        char a[32], b[32];
        ctl_json_num(it, "policy", rows[i][0], 64);
        snprintf(rows[i][1], 64, "%s", ctl_json_str(it, "title"));
        snprintf(rows[i][2], 64, "%s..%s", ctl_json_str(it, "valid_from"),
                 ctl_json_str(it, "valid_to"));
        ctl_json_num(cov, "targets", rows[i][3], 64);
        ctl_json_num(cov, "delivered", a, sizeof(a));
        ctl_json_num(cov, "acknowledged_pct", b, sizeof(b));
        snprintf(rows[i][4], 64, "%s", a);
        snprintf(rows[i][5], 64, "%s %%", b);
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 6);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

static bool id_ok(const char *id)
{
    char *end;
    if (strtoll(id, &end, 10) > 0 && !*end)
        return true;
    fprintf(stderr, CMD ": '%s' is not a policy id\n", id);
    return false;
}

int ctl_policies_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *title = NULL, *notice = NULL, *from = NULL, *to = NULL,
               *target = NULL, *body_file = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "admin to publish or push again, viewer to read ($DEPOT_TOKEN)"},
        {"title", &title, false, "publish: its title (1..80 characters)"},
        {"notice", &notice, false, "publish: the terminal's line (1..32 printable ASCII)"},
        {"from", &from, false, "publish: first valid day, YYYY-MM-DD"},
        {"to", &to, false, "publish: last valid day, YYYY-MM-DD"},
        {"target", &target, false, "publish: all, region:R, tier:T or list:A,B"},
        {"body-file", &body_file, false, "publish: its text (- stdin; at most 4000 bytes)"},
    };
    static const struct ctl_verb verbs[] = {
        {"publish", NULL, "push a policy to its target dealers' gateways and portal"},
        {"list", NULL, "every policy with its reach"},
        {"show", "ID", "one policy: reach day by day, who is missing"},
        {"repush", "ID", "push it again to the targets that have not acknowledged it"},
    };
    static const struct ctl_verb_table table = {CMD, "Policies and promotions pushed to dealers.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *id = NULL;
    char path[96], *text;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &id, &rc);
    cJSON *obj, *t;

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (id && !id_ok(id))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return list_policies(hub, token);
    if (!strcmp(verb, "show") || !strcmp(verb, "repush")) {
        snprintf(path, sizeof(path), "/api/v1/policies/%s%s", id, verb[0] == 'r' ? "/repush" : "");
        return ctl_api_print(CMD, hub, token, verb[0] == 'r' ? "POST" : "GET", path,
                             verb[0] == 'r' ? cJSON_CreateObject() : NULL, NULL, NULL);
    }
    if (!title || !notice || !from || !to || !target) {
        fprintf(stderr, CMD " publish: give --title, --notice, --from, --to and --target\n");
        return CTL_USAGE;
    }
    if (!(t = ctl_target_json(CMD, target)))
        return CTL_USAGE;
    text = calloc(1, BODY_MAX);
    if (!text || (body_file && !ctl_read_text(CMD, "--body-file", body_file, text, BODY_MAX))) {
        free(text);
        cJSON_Delete(t);
        return text ? CTL_USAGE : CTL_FAIL;
    }
    obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "title", title);
    cJSON_AddStringToObject(obj, "body", text);
    cJSON_AddStringToObject(obj, "notice", notice);
    cJSON_AddStringToObject(obj, "valid_from", from);
    cJSON_AddStringToObject(obj, "valid_to", to);
    cJSON_AddItemToObject(obj, "target", t);
    free(text);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/policies", obj, NULL, NULL);
}
