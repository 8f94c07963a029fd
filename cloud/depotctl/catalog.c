/*
 * depotctl catalog import FILE.csv | check FILE.csv | show
 * depotctl dealers list | show ID | set ID [--name ...] [--credit-limit X] ...
 *
 * import reads a CSV with the header
 *   sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock
 * and optionally a last column serial_prefix (the start of the item's own serial codes, empty
 * for none) (price a decimal such as 12.50), checks every line and prints each bad one
 * as FILE:LINE: what; only a file without a bad line is sent (PUT
 * /api/v1/catalog replaces the whole catalog in one transaction; the same
 * catalog again changes nothing, no new version). check sends it as a dry run.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "catalog.h"
#include "depot/msg.h"
#include "depot/money.h"

#define CSV_HEADER                                                                                 \
    "sku,barcode,price,unit_weight_g,min_qty,max_qty,reorder_point,lead_time_days,max_stock"
#define N_FIELDS 10 /* with serial_prefix; 9 without */
#define LINE_MAX_LEN 1024

/* Splits line at commas into f (want fields, 9 or 10); false if the count differs. */
static bool split(char *line, char **f, int want)
{
    int n = 0;
    for (char *p = line;; p++) {
        if (n < N_FIELDS)
            f[n] = p;
        n++;
        p = strchr(p, ',');
        if (!p)
            break;
        *p = '\0';
    }
    return n == want;
}

static bool int_field(const char *s, long long min, long long *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > DEPOT_QTY_MAX)
        return false;
    *out = v;
    return true;
}

/* One CSV line of want fields into a JSON item; false with why. */
static bool parse_line(char *line, int want, cJSON **item, char *why, size_t len)
{
    static const char *const names[] = {"unit_weight_g", "min_qty",        "max_qty",
                                        "reorder_point", "lead_time_days", "max_stock"};
    char *f[N_FIELDS], money[DEPOT_MONEY_TEXT];
    long long price, v[6];
    if (!split(line, f, want))
        return snprintf(why, len, "expected %d comma-separated fields", want) < 0;
    if (!depot_id_valid(f[0], DEPOT_SKU_MAX))
        return snprintf(why, len, "sku \"%.40s\" is not an id of [A-Za-z0-9_.-]", f[0]) < 0;
    if (!depot_barcode_valid(f[1]))
        return snprintf(why, len, "barcode \"%.40s\" is not 1..32 printable characters", f[1]) < 0;
    if (!depot_money_parse(f[2], &price))
        return snprintf(why, len, "price \"%.40s\" is not a decimal like 12.50", f[2]) < 0;
    for (int i = 0; i < 6; i++)
        if (!int_field(f[3 + i], i == 1 || i == 2, &v[i]))
            return snprintf(why, len, "%s \"%.40s\" is not a whole number >= %d", names[i],
                            f[3 + i], i == 1 || i == 2) < 0;
    if (v[2] < v[1])
        return snprintf(why, len, "max_qty %lld is below min_qty %lld", v[2], v[1]) < 0;
    if (want == N_FIELDS && f[9][0] && !depot_serial_prefix_valid(f[9]))
        return snprintf(why, len,
                        "serial_prefix \"%.40s\" is not 1..16 printable characters without "
                        "spaces, not starting with \"(\"",
                        f[9]) < 0;
    *item = cJSON_CreateObject();
    cJSON_AddStringToObject(*item, "sku", f[0]);
    cJSON_AddStringToObject(*item, "barcode", f[1]);
    depot_money_format(price, money, sizeof(money));
    cJSON_AddItemToObject(*item, "price", cJSON_CreateRaw(money));
    for (int i = 0; i < 6; i++)
        cJSON_AddNumberToObject(*item, names[i], (double)v[i]);
    if (want == N_FIELDS && f[9][0])
        cJSON_AddStringToObject(*item, "serial_prefix", f[9]);
    return true;
}

/* A sku or barcode already on an earlier line; that line's number or 0. */
static int seen_before(const cJSON *list, const cJSON *item, const int *lines)
{
    const cJSON *o;
    int i = 0;
    cJSON_ArrayForEach(o, list)
    {
        if (!strcmp(ctl_json_str(o, "sku"), ctl_json_str(item, "sku")) ||
            !strcmp(ctl_json_str(o, "barcode"), ctl_json_str(item, "barcode")))
            return lines[i];
        i++;
    }
    return 0;
}

cJSON *ctl_catalog_read_csv(const char *path, FILE *f)
{
    static int lines[DEPOT_CATALOG_MAX_ITEMS + 1];
    char line[LINE_MAX_LEN + 1], why[200];
    cJSON *list = cJSON_CreateArray(), *item = NULL;
    int no = 0, bad = 0, n = 0, prev, got, want = N_FIELDS - 1;

    while ((got = ctl_read_line(f, line, sizeof(line))) != 0) {
        no++;
        if (got != 1) {
            fprintf(stderr, "%s:%d: %s\n", path, no,
                    got == CTL_LINE_LONG ? "line longer than 1024 characters"
                                         : "a NUL byte in the line (not a text file?)");
            bad++;
            continue;
        }
        if (no == 1 && !strcmp(line, CSV_HEADER ",serial_prefix"))
            want = N_FIELDS;
        else if (no == 1 && strcmp(line, CSV_HEADER) != 0) {
            fprintf(stderr, "%s:1: the header must be %s[,serial_prefix]\n", path, CSV_HEADER);
            bad++;
            continue;
        }
        if (no == 1 || !line[0])
            continue;
        if (!parse_line(line, want, &item, why, sizeof(why))) {
            fprintf(stderr, "%s:%d: %s\n", path, no, why);
            bad++;
        } else if ((prev = seen_before(list, item, lines))) {
            fprintf(stderr, "%s:%d: sku or barcode already on line %d\n", path, no, prev);
            cJSON_Delete(item);
            bad++;
        } else if (n >= DEPOT_CATALOG_MAX_ITEMS) {
            fprintf(stderr, "%s:%d: more than %d items\n", path, no, DEPOT_CATALOG_MAX_ITEMS);
            cJSON_Delete(item);
            bad++;
        } else {
            lines[n++] = no;
            cJSON_AddItemToArray(list, item);
        }
    }
    if (no == 0)
        fprintf(stderr, "%s: empty file (expected the header %s)\n", path, CSV_HEADER);
    if (bad || no == 0) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

static int catalog_import(const char *cmd, const char *path, const char *hub, const char *token,
                          bool dry_run)
{
    FILE *f = fopen(path, "r");
    cJSON *list, *reply = NULL;
    char *body;
    int rc;
    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", cmd, path, strerror(errno));
        return CTL_FAIL;
    }
    list = ctl_catalog_read_csv(path, f);
    fclose(f);
    if (!list) {
        fprintf(stderr, "%s: nothing imported\n", cmd);
        return CTL_FAIL;
    }
    body = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    rc = ctl_api_call(cmd, hub, token, "PUT",
                      dry_run ? "/api/v1/catalog?dry_run=1" : "/api/v1/catalog", body, &reply);
    cJSON_free(body);
    if (rc == CTL_OK) {
        char v[32], n[32];
        bool changed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "changed"));
        ctl_json_num(reply, "version", v, sizeof(v));
        ctl_json_num(reply, "items", n, sizeof(n));
        if (dry_run && changed)
            printf("checked: %s items of %s would be catalog version %s (nothing written)\n", n,
                   path, v);
        else if (dry_run)
            printf("checked: %s items of %s are the catalog already (version %s; nothing "
                   "written)\n",
                   n, path, v);
        else
            printf("catalog version %s: %s items%s\n", v, n,
                   changed ? "" : " (the same as before: unchanged, nothing sent again)");
    }
    cJSON_Delete(reply);
    return rc;
}

static int catalog_show(const char *cmd, const char *hub, const char *token)
{
    static const char *const keys[] = {"sku",     "barcode", "price",
                                       "min_qty", "max_qty", "max_stock"};
    cJSON *reply = NULL, *items, *it;
    char(*rows)[8][64];
    int n, i = 1, rc = ctl_api_call(cmd, hub, token, "GET", "/api/v1/catalog", NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    items = cJSON_GetObjectItemCaseSensitive(reply, "items");
    n = cJSON_GetArraySize(items);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 6; c++)
        snprintf(rows[0][c], 64, "%s", keys[c]);
    cJSON_ArrayForEach(it, (rows ? items : NULL))
    {
        for (int c = 0; c < 6; c++)
            if (c < 2)
                snprintf(rows[i][c], 64, "%s", ctl_json_str(it, keys[c]));
            else
                ctl_json_num(it, keys[c], rows[i][c], 64);
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 6);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

int ctl_catalog_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token: admin to import, viewer to show ($DEPOT_TOKEN)"},
    };
    static const struct ctl_verb verbs[] = {
        {"import", "FILE.csv", "replace the catalog; CSV header: " CSV_HEADER "[,serial_prefix]"},
        {"show", NULL, "the catalog as a table"},
        {"check", "FILE.csv", "check a catalog CSV here and at the hub, write nothing"},
    };
    static const struct ctl_verb_table table = {"depotctl catalog", "Import or show the catalog.",
                                                verbs, 3};
    const char *file = NULL;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, 2, &file, &rc);

    if (v < 0)
        return rc;
    if (!ctl_api_target("depotctl catalog", &hub, &token))
        return CTL_USAGE;
    if (v == 1)
        return catalog_show("depotctl catalog show", hub, token);
    return catalog_import(v == 0 ? "depotctl catalog import" : "depotctl catalog check", file, hub,
                          token, v == 2);
}
