/*
 * depotctl users list | show NAME | add NAME --role R [--dealer D] [--stages a,b]
 *                [--password-file F] | disable NAME | enable NAME
 *                | reset NAME [--password-file F] | set NAME --role R [--dealer D] [--stages a,b]
 * depotctl tokens list | create NAME --role R [--dealer D] [--stages a,b] [--expires-days N]
 *                | revoke NAME
 *
 * Role dealer (with --dealer) is a dealer's own user or token: it sees and
 * does only what concerns that dealer.
 *
 * Both go through the hub's API with an admin token (a [tokens] entry of the
 * hub's config is the bootstrap path, then an admin user's session or an
 * admin API token). A password is read from the first line of
 * --password-file (- for standard input), never from the command line where
 * other users of the machine could see it; without one, the hub makes one
 * and depotctl prints it this once. An API token is printed once, at
 * create: the hub keeps only its hash.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"

#define USERS "depotctl users"
#define TOKENS "depotctl tokens"
#define PW_MAX 257

/* The first line of path ("-": standard input) into pw; false (printed) if it cannot be read. */
static bool read_password(const char *cmd, const char *path, char *pw, size_t len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    bool ok;
    if (!f) {
        fprintf(stderr, "%s: --password-file %s cannot be opened\n", cmd, path);
        return false;
    }
    ok = fgets(pw, (int)len, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: --password-file %s is empty\n", cmd, path);
        return false;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    return true;
}

/* role, dealer and stages into obj: "stages" a list from "a,b" (NULL: not set). */
static void add_role(cJSON *obj, const char *role, const char *dealer, const char *stages)
{
    if (role)
        cJSON_AddStringToObject(obj, "role", role);
    if (dealer)
        cJSON_AddStringToObject(obj, "dealer", dealer);
    if (stages) {
        cJSON *list = cJSON_AddArrayToObject(obj, "stages");
        char buf[400], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", stages);
        for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(list, cJSON_CreateString(p));
    }
}

/* Sends obj (deleted here) and prints the reply: as JSON, or the made password/token line. */
static int print_list(const char *cmd, const char *hub, const char *token, const char *path,
                      const char *const *heads, const char *const *keys, int cols)
{
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(cmd, hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < cols; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        for (int c = 0; c < cols; c++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, keys[c]);
            if (cJSON_IsArray(v)) {
                char *t = cJSON_PrintUnformatted(v);
                snprintf(rows[i][c], 64, "%s", t ? t : "");
                cJSON_free(t);
            } else if (cJSON_IsBool(v)) {
                snprintf(rows[i][c], 64, "%s", cJSON_IsTrue(v) ? "yes" : "no");
            } else {
                snprintf(rows[i][c], 64, "%s", cJSON_IsNull(v) ? "-" : ctl_json_str(it, keys[c]));
            }
        }
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, cols);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

int ctl_users_main(int argc, char **argv)
{
    static const char *const heads[] = {"name", "role", "dealer", "stages", "disabled", "updated"};
    static const char *const keys[] = {"name",   "role",     "dealer",
                                       "stages", "disabled", "updated_at"};
    const char *hub = NULL, *token = NULL, *role = NULL, *stages = NULL, *pwfile = NULL,
               *dealer = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "an admin's API token or session ($DEPOT_TOKEN)"},
        {"role", &role, false, "add, set: viewer, approver, admin or dealer"},
        {"dealer", &dealer, false, "add, set: the dealer of role dealer (its one dealer)"},
        {"stages", &stages, false, "add, set: an approver's stages, a,b (default every stage)"},
        {"password-file", &pwfile, false,
         "add, reset: the password's file (- stdin); default: the hub makes one"},
    };
    static const struct ctl_verb verbs[] = {
        {"list", NULL, "every user"},
        {"show", "NAME", "one user as JSON"},
        {"add", "NAME", "a new user --role R [--dealer D] [--stages a,b] [--password-file F]"},
        {"disable", "NAME", "refuse its logins and end its sessions at once"},
        {"enable", "NAME", "let it log in again"},
        {"reset", "NAME", "a new password [--password-file F]; ends its sessions"},
        {"set", "NAME", "change its --role [--dealer D] [--stages a,b]"},
    };
    static const struct ctl_verb_table table = {USERS, "Manage the hub's users.", verbs,
                                                sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *name = NULL;
    char path[160], pw[PW_MAX] = "";
    int rc,
        v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &name, &rc);
    cJSON *obj;

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(USERS, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return print_list(USERS, hub, token, "/api/v1/users", heads, keys, 6);
    snprintf(path, sizeof(path), "/api/v1/users/%.100s", name);
    if (!strcmp(verb, "show"))
        return ctl_api_print(USERS, hub, token, "GET", path, NULL, NULL, NULL);
    if ((!strcmp(verb, "add") || !strcmp(verb, "set")) && !role) {
        fprintf(stderr, USERS " %s: give --role viewer, approver, admin or dealer\n", verb);
        return CTL_USAGE;
    }
    if (pwfile && !read_password(USERS, pwfile, pw, sizeof(pw)))
        return CTL_USAGE;
    obj = cJSON_CreateObject();
    if (!strcmp(verb, "add")) {
        cJSON_AddStringToObject(obj, "name", name);
        add_role(obj, role, dealer, stages);
    } else if (!strcmp(verb, "set")) {
        add_role(obj, role, dealer, stages);
    } else if (!strcmp(verb, "reset")) {
        if (!*pw)
            cJSON_AddTrueToObject(obj, "reset_password");
    } else {
        cJSON_AddBoolToObject(obj, "disabled", !strcmp(verb, "disable"));
    }
    if (*pw)
        cJSON_AddStringToObject(obj, "password", pw);
    rc = ctl_api_print(USERS, hub, token, strcmp(verb, "add") ? "PATCH" : "POST",
                       strcmp(verb, "add") ? path : "/api/v1/users", obj, "password", "password");
    memset(pw, 0, sizeof(pw));
    return rc;
}

int ctl_tokens_main(int argc, char **argv)
{
    static const char *const heads[] = {"name",       "role",    "dealer",  "stages",
                                        "created by", "created", "expires", "revoked"};
    static const char *const keys[] = {"name",       "role",       "dealer",     "stages",
                                       "created_by", "created_at", "expires_at", "revoked_at"};
    const char *hub = NULL, *token = NULL, *role = NULL, *stages = NULL, *days = NULL,
               *dealer = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "an admin's API token or session ($DEPOT_TOKEN)"},
        {"role", &role, false, "create: viewer, approver, admin or dealer"},
        {"dealer", &dealer, false, "create: the dealer of role dealer (its one dealer)"},
        {"stages", &stages, false, "create: an approver's stages, a,b (default every stage)"},
        {"expires-days", &days, false, "create: the token ends after N days (default never)"},
    };
    static const struct ctl_verb verbs[] = {
        {"list", NULL, "every API token by name (never its value)"},
        {"create", "NAME", "a new token --role R [--stages a,b] [--expires-days N], shown once"},
        {"revoke", "NAME", "revoke the live token of that name at once"},
    };
    static const struct ctl_verb_table table = {TOKENS, "Manage the API tokens of integrations.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *name = NULL;
    char path[160], *end = NULL;
    int rc,
        v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &name, &rc);
    cJSON *obj;

    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(TOKENS, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return print_list(TOKENS, hub, token, "/api/v1/tokens", heads, keys, 8);
    if (!strcmp(verb, "revoke")) {
        snprintf(path, sizeof(path), "/api/v1/tokens/%.100s/revoke", name);
        return ctl_api_print(TOKENS, hub, token, "POST", path, cJSON_CreateObject(), NULL, NULL);
    }
    if (!role) {
        fprintf(stderr, TOKENS " create: give --role viewer, approver, admin or dealer\n");
        return CTL_USAGE;
    }
    obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "name", name);
    add_role(obj, role, dealer, stages);
    if (days) {
        long n = strtol(days, &end, 10);
        if (end == days || *end || n < 1) {
            cJSON_Delete(obj);
            fprintf(stderr, TOKENS " create: --expires-days '%s' is not a number of days\n", days);
            return CTL_USAGE;
        }
        cJSON_AddNumberToObject(obj, "expires_days", (double)n);
    }
    return ctl_api_print(TOKENS, hub, token, "POST", "/api/v1/tokens", obj, "token", "token");
}
