/*
 * depotctl tasks issue --title T --due YYYY-MM-DD --rule confirm|count|stock
 *                      --target all|region:R|tier:T|list:A,B [--skus A,B] [--level N]
 *                      [--photo yes] [--body-file F]
 *              | list | show ID
 *
 * issue needs an admin token; list prints each task's progress (targets, done, done on time,
 * overdue), show one task with every dealer's state (open, overdue, done, done late; who did
 * it, in the portal or by data; the SKUs counted so far; whether a photo came with it).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"

#define CMD "depotctl tasks"
#define BODY_MAX 4001

static int list_tasks(const char *hub, const char *token)
{
    static const char *const heads[] = {"id",   "title", "due",     "rule",
                                        "done", "of",    "overdue", "done %"};
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(CMD, hub, token, "GET", "/api/v1/tasks", NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 8; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "progress");
        ctl_json_num(it, "task", rows[i][0], 64);
        snprintf(rows[i][1], 64, "%s", ctl_json_str(it, "title"));
        snprintf(rows[i][2], 64, "%s", ctl_json_str(it, "due"));
        snprintf(rows[i][3], 64, "%s", ctl_json_str(it, "rule"));
        ctl_json_num(p, "done", rows[i][4], 64);
        ctl_json_num(p, "targets", rows[i][5], 64);
        ctl_json_num(p, "overdue", rows[i][6], 64);
        ctl_json_num(p, "done_pct", rows[i][7], 64);
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 8);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

int ctl_tasks_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *title = NULL, *due = NULL, *rule = NULL, *target = NULL,
               *skus = NULL, *level = NULL, *photo = NULL, *body_file = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "admin to issue, viewer to read ($DEPOT_TOKEN)"},
        {"title", &title, false, "issue: its title (1..80 characters)"},
        {"due", &due, false, "issue: the day it is due, YYYY-MM-DD"},
        {"rule", &rule, false,
         "issue: confirm (in the portal), count (SKUs counted at the "
         "terminal) or stock (a SKU at a level)"},
        {"target", &target, false, "issue: all, region:R, tier:T or list:A,B"},
        {"skus", &skus, false, "issue: count: the SKUs, A,B; stock: the SKU"},
        {"level", &level, false, "issue: stock: at least this many"},
        {"photo", &photo, false, "issue: confirm: yes to ask for a photo"},
        {"body-file", &body_file, false, "issue: its text (- stdin; at most 4000 bytes)"},
    };
    static const struct ctl_verb verbs[] = {
        {"issue", NULL, "give dealers a task with a due date and the rule that completes it"},
        {"list", NULL, "every task with its progress"},
        {"show", "ID", "one task: every dealer's state"},
    };
    static const struct ctl_verb_table table = {CMD, "Tasks given to dealers, and their progress.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *id = NULL;
    char path[96], *text, *end;
    long long n = 0;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &id, &rc);
    cJSON *obj, *t;

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (id && !(strtoll(id, &end, 10) > 0 && !*end)) {
        fprintf(stderr, CMD ": '%s' is not a task id\n", id);
        return CTL_USAGE;
    }
    if (!strcmp(verb, "list"))
        return list_tasks(hub, token);
    if (!strcmp(verb, "show")) {
        snprintf(path, sizeof(path), "/api/v1/tasks/%s", id);
        return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
    }
    if (!title || !due || !rule || !target) {
        fprintf(stderr, CMD " issue: give --title, --due, --rule and --target\n");
        return CTL_USAGE;
    }
    if (level && !((n = strtoll(level, &end, 10)) >= 0 && *level && !*end)) {
        fprintf(stderr, CMD ": --level '%s' is not a whole number\n", level);
        return CTL_USAGE;
    }
    if (photo && strcmp(photo, "yes") != 0 && strcmp(photo, "no") != 0) {
        fprintf(stderr, CMD ": --photo is yes or no\n");
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
    cJSON_AddStringToObject(obj, "due", due);
    cJSON_AddStringToObject(obj, "rule", rule);
    cJSON_AddStringToObject(obj, "skus", skus ? skus : "");
    cJSON_AddNumberToObject(obj, "level", (double)n);
    cJSON_AddBoolToObject(obj, "photo", photo && !strcmp(photo, "yes"));
    cJSON_AddItemToObject(obj, "target", t);
    free(text);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/tasks", obj, NULL, NULL);
}
