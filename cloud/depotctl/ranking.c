/*
 * depotctl ranking [--period YYYY-MM]        the leaderboard as a table
 * depotctl payments import FILE.csv          payments from CSV, all or nothing
 * depotctl payments check FILE.csv           the same checks, nothing imported (a dry run)
 *
 * The CSV has the header dealer,amount,order,ref,date (order, ref and date
 * may be empty; date YYYY-MM-DD, empty: today). Every line is checked here
 * first and every bad one printed as FILE:LINE: what; then the hub checks
 * them again against its data (dealer known, order the dealer's) in one
 * transaction and names its refusals by line the same way. Anything bad
 * anywhere: nothing is imported, exit 1. check sends the lines as a dry run
 * (?dry_run=1): the hub checks every line against its data, names every bad
 * one and writes nothing. Fields may be quoted ("a,b"; ""
 * inside quotes is one quote).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "http.h"
#include "depot/clock.h"
#include "depot/msg.h"
#include "depot/money.h"

#define LINE_MAX_LEN 1024
#define FIELDS 5

static const char *const header[FIELDS] = {"dealer", "amount", "order", "ref", "date"};

/* Splits one CSV line into FIELDS fields (in place); -1 if not exactly FIELDS. */
static int split_csv(char *line, char *field[FIELDS])
{
    return ctl_csv_split(line, field, FIELDS);
}

static bool date_ok(const char *d)
{
    return !*d || depot_date_valid(d);
}

/* NULL if the fields make a payment, else what is wrong. */
static const char *check_fields(char *f[FIELDS], long long *cents)
{
    if (!depot_id_valid(f[0], DEPOT_DEALER_MAX))
        return "dealer: not a dealer id";
    if (!depot_money_parse(f[1], cents) || *cents <= 0)
        return "amount: not a decimal above 0 with at most 2 decimals";
    if (*f[2] && !depot_id_valid(f[2], DEPOT_ORDER_ID_MAX))
        return "order: not an order id";
    if (strlen(f[3]) > 128)
        return "ref: longer than 128 characters";
    if (!date_ok(f[4]))
        return "date: not a calendar day YYYY-MM-DD";
    return NULL;
}

static cJSON *payment_json(char *f[FIELDS], long long cents, int line)
{
    char money[DEPOT_MONEY_TEXT];
    cJSON *o = cJSON_CreateObject();
    depot_money_format(cents, money, sizeof(money));
    cJSON_AddNumberToObject(o, "line", line);
    cJSON_AddStringToObject(o, "dealer", f[0]);
    cJSON_AddStringToObject(o, "amount", money);
    cJSON_AddStringToObject(o, "order", f[2]);
    cJSON_AddStringToObject(o, "ref", f[3]);
    cJSON_AddStringToObject(o, "date", f[4]);
    return o;
}

static bool header_ok(char *line)
{
    char *f[FIELDS];
    if (split_csv(line, f))
        return false;
    for (int i = 0; i < FIELDS; i++)
        if (strcmp(f[i], header[i]) != 0)
            return false;
    return true;
}

/* What is wrong with line n (NULL: fine, or blank); a good payment goes into items. */
static const char *check_line(char *line, int n, int got, cJSON *items)
{
    char *f[FIELDS];
    long long cents;
    const char *why;
    if (got == CTL_LINE_LONG)
        return "line longer than 1024 characters";
    if (got == CTL_LINE_NUL)
        return "a NUL byte in the line (not a text file?)";
    if (n == 1)
        return header_ok(line) ? NULL : "header must be dealer,amount,order,ref,date";
    if (line[strspn(line, " \r\n")] == '\0')
        return NULL;
    if (split_csv(line, f))
        return "not 5 fields (dealer,amount,order,ref,date)";
    if ((why = check_fields(f, &cents)) == NULL)
        cJSON_AddItemToArray(items, payment_json(f, cents, n));
    return why;
}

/* Reads and checks the whole file into items; the number of bad lines (each printed). */
static int read_csv(const char *path, FILE *in, cJSON *items)
{
    char line[LINE_MAX_LEN + 1];
    int n = 0, bad = 0, got;
    while ((got = ctl_read_line(in, line, sizeof(line))) != 0) {
        const char *why = check_line(line, ++n, got, items);
        if (why) {
            fprintf(stderr, "%s:%d: %s\n", path, n, why);
            bad++;
        }
    }
    if (n == 0) {
        fprintf(stderr, "%s:1: empty file (header dealer,amount,order,ref,date expected)\n", path);
        bad++;
    }
    return bad;
}

/* The hub's refusals (a 400 with "errors"), each as FILE:LINE: what. */
static void print_refusals(const char *path, const cJSON *root)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "errors"))
    {
        char line[32];
        ctl_json_num(e, "line", line, sizeof(line));
        fprintf(stderr, "%s:%s: %s\n", path, line, ctl_json_str(e, "error"));
    }
}

/* POSTs the import; prints the outcome. */
static int post_import(const char *path, const char *hub, const char *token, const char *text,
                       bool dry_run)
{
    struct ctl_http_reply r;
    char err[300];
    cJSON *j;
    int rc = CTL_FAIL;
    if (ctl_http_request(hub, "POST",
                         dry_run ? "/api/v1/payments/import?dry_run=1" : "/api/v1/payments/import",
                         token, text, 30000, &r, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, "depotctl payments: %s\n", err);
        return CTL_FAIL;
    }
    j = depot_json_parse(r.body, r.len);
    if (r.status == 200) {
        char n[32];
        ctl_json_num(j, dry_run ? "would_import" : "imported", n, sizeof(n));
        if (dry_run)
            printf("checked: %s payments of %s would be imported (nothing written)\n", n, path);
        else
            printf("imported %s payments from %s\n", n, path);
        rc = CTL_OK;
    } else {
        print_refusals(path, j);
        fprintf(stderr, "depotctl payments: the hub answered %d: %s\n", r.status,
                j ? ctl_json_str(j, "error") : "(no reason)");
    }
    cJSON_Delete(j);
    ctl_http_reply_clear(&r);
    return rc;
}

int ctl_payments_import(int argc, char **argv, bool dry_run)
{
    const char *hub = NULL, *token = NULL, *path = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token, approver or admin ($DEPOT_TOKEN)"},
    };
    cJSON *body, *items;
    char *text;
    FILE *in;
    int rc, bad;

    rc = ctl_parse_arg(dry_run ? "depotctl payments check" : "depotctl payments import", "FILE.csv",
                       dry_run ? "Check payments in CSV here and at the hub; import nothing."
                               : "Import payments from CSV (all or nothing).",
                       argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &path);
    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (!ctl_api_target("depotctl payments", &hub, &token))
        return CTL_USAGE;
    if (!(in = fopen(path, "r"))) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return CTL_FAIL;
    }
    body = cJSON_CreateObject();
    items = cJSON_AddArrayToObject(body, "payments");
    bad = read_csv(path, in, items);
    fclose(in);
    if (bad || cJSON_GetArraySize(items) == 0) {
        if (!bad)
            fprintf(stderr, "%s: no payments in the file\n", path);
        fprintf(stderr, "depotctl payments: nothing imported\n");
        cJSON_Delete(body);
        return CTL_FAIL;
    }
    text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    rc = post_import(path, hub, token, text, dry_run);
    cJSON_free(text);
    return rc;
}

/* One row of the leaderboard table. */
static void ranking_row(const cJSON *d, char row[8][64])
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(d, "kpis");
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(d, "movement");
    double v[4];
    static const char *const names[] = {"collection", "penetration", "accuracy", "freshness"};
    for (int i = 0; i < 4; i++)
        v[i] = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(k, names[i]), "value"));
    ctl_json_num(d, "rank", row[0], 64);
    snprintf(row[1], 64, "%s", ctl_json_str(d, "dealer"));
    snprintf(row[2], 64, "%.4f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "score")));
    if (cJSON_IsNumber(mv))
        snprintf(row[3], 64, "%+d", (int)mv->valuedouble);
    else
        snprintf(row[3], 64, "new");
    snprintf(row[4], 64, "%.2f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(k, "sales"), "value")));
    snprintf(row[5], 64, "%.2f/%.2f/%.2f/%.2f", v[0], v[1], v[2], v[3]);
    ctl_json_num(d, "rebate_pct", row[6], 64);
    snprintf(row[7], 64, "%.2f",
             cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "rebate")));
}

int ctl_ranking_main(int argc, char **argv)
{
    static const char *const heads[8] = {
        "rank", "dealer", "score", "move", "sales", "coll/pen/acc/fresh", "rebate_%", "rebate"};
    const char *hub = NULL, *token = NULL, *period = NULL;
    const struct ctl_opt opts[] = {
        {"period", &period, false, "the month, YYYY-MM (default: the current one, UTC)"},
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "API token, viewer or above ($DEPOT_TOKEN)"},
    };
    char path[128], (*rows)[8][64];
    cJSON *reply = NULL, *d;
    int rc, n, i = 1;

    rc = ctl_parse("depotctl ranking", "The dealers' leaderboard: KPIs, score, rebate.", argc, argv,
                   opts, sizeof(opts) / sizeof(opts[0]));
    if (rc != CTL_OK)
        return rc < 0 ? CTL_OK : rc;
    if (!ctl_api_target("depotctl ranking", &hub, &token))
        return CTL_USAGE;
    snprintf(path, sizeof(path), "/api/v1/ranking?period=%.16s", period ? period : "");
    rc = ctl_api_call("depotctl ranking", hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    d = cJSON_GetObjectItemCaseSensitive(reply, "dealers");
    n = cJSON_GetArraySize(d);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    if (!rows) {
        cJSON_Delete(reply);
        return CTL_FAIL;
    }
    for (int c = 0; c < 8; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    for (cJSON *it = d ? d->child : NULL; it; it = it->next)
        ranking_row(it, rows[i++]);
    printf("period %s, %d dealers\n", ctl_json_str(reply, "period"), n);
    ctl_print_table(rows, n + 1, 8);
    free(rows);
    cJSON_Delete(reply);
    return CTL_OK;
}
