/*
 * depotctl training add FILE --title T --kind video|document [--target
 * all|region:R|tier:T|list:A,B]
 *                           [--description-file F]
 *                 | list | show ID
 *
 * add uploads the file (streamed: a video may be far larger than memory allows) and then
 * assigns it to its targets (all dealers unless --target says otherwise); it needs an admin
 * token. list prints each item with its targets, how many viewed and completed it, and the
 * days it took to reach 90 % completed; show one item with every dealer's state, its users'
 * records and the coverage after 1, 3, 7, 14 and 30 days.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"

#define CMD "depotctl training"
#define DESC_MAX 4001

static int list_items(const char *hub, const char *token)
{
    static const char *const heads[] = {"id",     "title",     "kind",        "targets",
                                        "viewed", "completed", "completed %", "days to 90 %"};
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(CMD, hub, token, "GET", "/api/v1/training", NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 8; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "progress");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "coverage");
        ctl_json_num(it, "item", rows[i][0], 64);
        snprintf(rows[i][1], 64, "%s", ctl_json_str(it, "title"));
        snprintf(rows[i][2], 64, "%s", ctl_json_str(it, "kind"));
        ctl_json_num(p, "targets", rows[i][3], 64);
        ctl_json_num(p, "viewed", rows[i][4], 64);
        ctl_json_num(p, "completed", rows[i][5], 64);
        ctl_json_num(p, "completed_pct", rows[i][6], 64);
        ctl_json_num(c, "days_to_90_pct", rows[i][7], 64);
        if (!rows[i][7][0])
            snprintf(rows[i][7], 64, "-");
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 8);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

/* Uploads file, then creates the item naming the digest the hub gave it. */
static int add_item(const char *hub, const char *token, const char *file, cJSON *obj)
{
    cJSON *up = NULL;
    const char *sha;
    char size[32];
    int rc = ctl_api_upload(CMD, hub, token, "/api/v1/training/files", file, &up);
    if (rc != CTL_OK) {
        cJSON_Delete(obj);
        return rc;
    }
    sha = ctl_json_str(up, "sha256");
    ctl_json_num(up, "size", size, sizeof(size));
    fprintf(stderr, CMD ": %s uploaded: %s, %s bytes, sha256 %s\n", file, ctl_json_str(up, "type"),
            size, sha);
    cJSON_AddStringToObject(obj, "file", sha);
    cJSON_Delete(up);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/training", obj, NULL, NULL);
}

int ctl_training_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *title = NULL, *kind = NULL, *target = NULL,
               *desc_file = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "admin to add, viewer to read ($DEPOT_TOKEN)"},
        {"title", &title, false, "add: its title (1..120 characters)"},
        {"kind", &kind, false, "add: video (MP4 or WebM) or document (PDF)"},
        {"target", &target, false, "add: all (default), region:R, tier:T or list:A,B"},
        {"description-file", &desc_file, false,
         "add: its description (- stdin; at most 4000 "
         "bytes)"},
    };
    static const struct ctl_verb verbs[] = {
        {"add", "FILE", "upload a document or video and assign it to dealers"},
        {"list", NULL, "every item with its progress"},
        {"show", "ID", "one item: every dealer's state, its users, the coverage over time"},
    };
    static const struct ctl_verb_table table = {
        CMD, "Training documents and videos for dealers, and their coverage.", verbs,
        sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *arg = NULL;
    char path[96], *text, *end;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &arg, &rc);
    cJSON *obj, *t;

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return list_items(hub, token);
    if (!strcmp(verb, "show")) {
        if (!(strtoll(arg, &end, 10) > 0 && !*end)) {
            fprintf(stderr, CMD ": '%s' is not a training item id\n", arg);
            return CTL_USAGE;
        }
        snprintf(path, sizeof(path), "/api/v1/training/%s", arg);
        return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
    }
    if (!title || !kind) {
        fprintf(stderr, CMD " add: give --title and --kind\n");
        return CTL_USAGE;
    }
    if (strcmp(kind, "video") != 0 && strcmp(kind, "document") != 0) {
        fprintf(stderr, CMD ": --kind is video or document\n");
        return CTL_USAGE;
    }
    if (!(t = ctl_target_json(CMD, target ? target : "all")))
        return CTL_USAGE;
    text = calloc(1, DESC_MAX);
    if (!text ||
        (desc_file && !ctl_read_text(CMD, "--description-file", desc_file, text, DESC_MAX))) {
        free(text);
        cJSON_Delete(t);
        return text ? CTL_USAGE : CTL_FAIL;
    }
    obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "title", title);
    cJSON_AddStringToObject(obj, "description", text);
    cJSON_AddStringToObject(obj, "kind", kind);
    cJSON_AddItemToObject(obj, "target", t);
    free(text);
    return add_item(hub, token, arg, obj);
}
