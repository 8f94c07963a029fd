/*
 * depotctl shipments import FILE.csv    shipments from the ERP, all or nothing
 * depotctl shipments check FILE.csv     the same checks here and at the hub, nothing written
 * depotctl shipments list [--dealer D] [--from T1] [--to T2]
 * depotctl shipments show ID            one shipment with its lines and item codes
 * depotctl shipments code CODE          the shipment an item code went out in
 *
 * The CSV has the header shipment,dealer,order,shipped_at,sku,qty,codes: one
 * line per SKU of a shipment (its lines need not be next to each other;
 * dealer, order and shipped_at the same on each), codes the line's item
 * codes separated by spaces (may be empty; at most qty). shipped_at is
 * YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (empty: now). Every line is checked here
 * first and every bad one printed as FILE:LINE: what; then the hub checks
 * every shipment against its data in one transaction and names its
 * refusals by the line of the shipment's first row. A shipment already
 * recorded with the same contents is counted, not recorded again, so the
 * same file imported twice records nothing the second time.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ctl.h"
#include "depot/alloc.h"
#include "depot/msg.h"
#include "http.h"

#define CMD "depotctl shipments"
#define LINE_MAX_LEN (1 << 20) /* a line of many codes */
#define FIELDS 7
#define ID_MAX 64

static const char *const header[FIELDS] = {"shipment", "dealer", "order", "shipped_at",
                                           "sku",      "qty",    "codes"};

/* The shipment object of id in list (made with its first row's fields if new). */
static cJSON *shipment_of(cJSON *list, char *f[FIELDS], int n, const char **why)
{
    cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        if (strcmp(ctl_json_str(s, "shipment"), f[0]))
            continue;
        if (strcmp(ctl_json_str(s, "dealer"), f[1]) || strcmp(ctl_json_str(s, "order"), f[2]) ||
            strcmp(ctl_json_str(s, "shipped_at"), f[3]))
            *why = "dealer, order or shipped_at differs from the shipment's first line";
        return s;
    }
    s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "line", n);
    cJSON_AddStringToObject(s, "shipment", f[0]);
    cJSON_AddStringToObject(s, "dealer", f[1]);
    cJSON_AddStringToObject(s, "order", f[2]);
    if (f[3][0])
        cJSON_AddStringToObject(s, "shipped_at", f[3]);
    cJSON_AddArrayToObject(s, "lines");
    cJSON_AddItemToArray(list, s);
    return s;
}

/* What is wrong with line n (NULL: fine, or blank); a good line goes into its shipment. */
static const char *check_line(char *line, int n, int got, cJSON *list)
{
    char *f[FIELDS], *end, *save = NULL;
    const char *why = NULL;
    long long qty;
    cJSON *s, *l, *codes;
    if (got == CTL_LINE_LONG)
        return "line longer than 1 MiB";
    if (got == CTL_LINE_NUL)
        return "a NUL byte in the line (not a text file?)";
    if (n == 1) {
        if (ctl_csv_split(line, f, FIELDS))
            return "header must be shipment,dealer,order,shipped_at,sku,qty,codes";
        for (int i = 0; i < FIELDS; i++)
            if (strcmp(f[i], header[i]))
                return "header must be shipment,dealer,order,shipped_at,sku,qty,codes";
        return NULL;
    }
    if (line[strspn(line, " \r\n")] == '\0')
        return NULL;
    if (ctl_csv_split(line, f, FIELDS))
        return "not 7 fields (shipment,dealer,order,shipped_at,sku,qty,codes)";
    if (!f[0][0] || strlen(f[0]) > ID_MAX || strpbrk(f[0], " /?#%"))
        return "shipment: an id of 1..64 characters without space, /, ?, #, %";
    if (!f[1][0] || !f[4][0])
        return "dealer and sku are needed";
    errno = 0;
    qty = strtoll(f[5], &end, 10);
    if (errno || end == f[5] || *end || qty < 1 || qty > 1000000000)
        return "qty: a whole number 1..1000000000";
    s = shipment_of(list, f, n, &why);
    if (why)
        return why;
    l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "sku", f[4]);
    cJSON_AddNumberToObject(l, "qty", (double)qty);
    codes = cJSON_AddArrayToObject(l, "codes");
    for (char *c = strtok_r(f[6], " ", &save); c; c = strtok_r(NULL, " ", &save))
        cJSON_AddItemToArray(codes, cJSON_CreateString(c));
    if (cJSON_GetArraySize(codes) > qty) {
        cJSON_Delete(l);
        return "more codes than qty";
    }
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s, "lines"), l);
    return NULL;
}

/* Reads and checks the whole file into list; the number of bad lines (each printed). */
static int read_csv(const char *path, FILE *in, cJSON *list)
{
    char *line = depot_malloc(LINE_MAX_LEN + 1);
    int n = 0, bad = 0, got;
    if (!line) {
        fprintf(stderr, CMD ": out of memory\n");
        return 1;
    }
    while ((got = ctl_read_line(in, line, LINE_MAX_LEN + 1)) != 0) {
        const char *why = check_line(line, ++n, got, list);
        if (why) {
            fprintf(stderr, "%s:%d: %s\n", path, n, why);
            bad++;
        }
    }
    depot_free(line);
    if (n == 0) {
        fprintf(stderr,
                "%s:1: empty file (header shipment,dealer,order,shipped_at,sku,qty,codes "
                "expected)\n",
                path);
        bad++;
    }
    return bad;
}

static int post_import(const char *path, const char *hub, const char *token, const char *text,
                       bool dry_run)
{
    struct ctl_http_reply r;
    char err[300], n[32], already[32];
    const cJSON *e;
    cJSON *j;
    int rc = CTL_FAIL;
    if (ctl_http_request(hub, "POST",
                         dry_run ? "/api/v1/shipments/import?dry_run=1"
                                 : "/api/v1/shipments/import",
                         token, text, 60000, &r, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, CMD ": %s\n", err);
        return CTL_FAIL;
    }
    j = depot_json_parse(r.body, r.len);
    if (r.status == 200) {
        ctl_json_num(j, dry_run ? "would_import" : "imported", n, sizeof(n));
        ctl_json_num(j, "already", already, sizeof(already));
        if (dry_run)
            printf("checked: %s shipments of %s would be recorded, %s already are (nothing "
                   "written)\n",
                   n, path, already);
        else
            printf("recorded %s shipments from %s, %s already were\n", n, path, already);
        rc = CTL_OK;
    } else {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "errors"))
        {
            char line[32];
            ctl_json_num(e, "line", line, sizeof(line));
            fprintf(stderr, "%s:%s: shipment %s: %s\n", path, line, ctl_json_str(e, "shipment"),
                    ctl_json_str(e, "error"));
        }
        fprintf(stderr, CMD ": the hub answered %d: %s\n", r.status,
                j ? ctl_json_str(j, "error") : "(no reason)");
    }
    cJSON_Delete(j);
    ctl_http_reply_clear(&r);
    return rc;
}

static int import(const char *hub, const char *token, const char *path, bool dry_run)
{
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "shipments");
    char *text;
    FILE *in = fopen(path, "r");
    int bad, rc;
    if (!in) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        cJSON_Delete(body);
        return CTL_FAIL;
    }
    bad = read_csv(path, in, list);
    fclose(in);
    if (bad || cJSON_GetArraySize(list) == 0) {
        if (!bad)
            fprintf(stderr, "%s: no shipments in the file\n", path);
        fprintf(stderr, CMD ": nothing recorded\n");
        cJSON_Delete(body);
        return CTL_FAIL;
    }
    text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    rc = text ? post_import(path, hub, token, text, dry_run) : CTL_FAIL;
    cJSON_free(text);
    return rc;
}

/* A path segment or query value: printable, no space and none of & / ? # % +. */
static bool plain(const char *s)
{
    return s && *s && strlen(s) <= 128 && !strpbrk(s, " &/?#%+") &&
           strspn(s, "!\"$'()*,-.0123456789:;<=>@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                     "abcdefghijklmnopqrstuvwxyz{|}~") == strlen(s);
}

int ctl_shipments_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *dealer = NULL, *from = NULL, *to = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token: approver or admin to import ($DEPOT_TOKEN)"},
        {"dealer", &dealer, false, "list: only this dealer's"},
        {"from", &from, false, "list: shipped from (YYYY-MM-DD or a time)"},
        {"to", &to, false, "list: shipped until (a date: through that day)"},
    };
    static const struct ctl_verb verbs[] = {
        {"import", "FILE.csv", "record shipments from CSV (all or nothing)"},
        {"check", "FILE.csv", "check every line here and at the hub, record nothing"},
        {"list", NULL, "the shipments [--dealer D] [--from T1] [--to T2]"},
        {"show", "ID", "one shipment with its lines and item codes"},
        {"code", "CODE", "the shipment an item code went out in"},
    };
    static const struct ctl_verb_table table = {
        CMD, "Shipments from the manufacturer's ERP, with their item codes.", verbs,
        sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *arg = NULL;
    char path[512];
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &arg, &rc);
    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "import") || !strcmp(verb, "check"))
        return import(hub, token, arg, !strcmp(verb, "check"));
    if (!strcmp(verb, "list")) {
        if ((dealer && !plain(dealer)) || (from && !plain(from)) || (to && !plain(to))) {
            fprintf(stderr, CMD ": --dealer, --from or --to is not valid\n");
            return CTL_USAGE;
        }
        snprintf(path, sizeof(path), "/api/v1/shipments?limit=10000%s%s%s%s%s%s",
                 dealer ? "&dealer=" : "", dealer ? dealer : "", from ? "&from=" : "",
                 from ? from : "", to ? "&to=" : "", to ? to : "");
        return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
    }
    if (!plain(arg)) {
        fprintf(stderr, CMD ": %s: not a %s\n", arg,
                !strcmp(verb, "show") ? "shipment id"
                                      : "code to look up "
                                        "(use its (01)...(21)... "
                                        "or plain form)");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/%s/%s", !strcmp(verb, "show") ? "shipments" : "codes",
             arg);
    return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
}
