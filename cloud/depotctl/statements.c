/*
 * depotctl statements close PERIOD | list [--dealer D] [--period P] | show ID
 *                   | verify FILE [--ca CA.crt]
 *
 * close (admin) freezes the rebate statements of a period that has ended (again: the ones
 * there stay). show prints a statement as the hub serves it (GET /api/v1/statements/ID);
 * saved to FILE, verify checks it with no hub: the hub's signature over the signed text
 * ("content") verifies with the certificate that came with it, the figures shown
 * ("statement") are that text's, and its dealer and period are the statement's; with --ca,
 * that the Depot CA issued the hub's certificate. One line per check; exit 0 only when every
 * check holds.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "depot/alloc.h"
#include "depot/msg.h"
#include "depot/pki.h"

#define CMD "depotctl statements"
#define FILE_MAX (64L * 1024 * 1024)

static int list_statements(const char *hub, const char *token, const char *dealer,
                           const char *period)
{
    static const char *const heads[] = {"id", "dealer", "period", "rank", "score", "rebate"};
    char path[128];
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc;
    snprintf(path, sizeof(path), "/api/v1/statements?%s%s%s%s", dealer ? "dealer=" : "",
             dealer ? dealer : "", period ? "&period=" : "", period ? period : "");
    rc = ctl_api_call(CMD, hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 6; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        ctl_json_num(it, "id", rows[i][0], 64);
        snprintf(rows[i][1], 64, "%s", ctl_json_str(it, "dealer"));
        snprintf(rows[i][2], 64, "%s", ctl_json_str(it, "period"));
        ctl_json_num(it, "rank", rows[i][3], 64);
        ctl_json_num(it, "score", rows[i][4], 64);
        snprintf(rows[i][5], 64, "%s", ctl_json_str(it, "rebate"));
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 6);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

static int close_period(const char *hub, const char *token, const char *period)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "period", period);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/statements/close", body, NULL, NULL);
}

/* ---- verify ---- */



/* Whether the signed text's field name equals the statement's. */
static bool same_field(const cJSON *signed_doc, const cJSON *file, const char *name)
{
    const char *a = ctl_json_str(signed_doc, name), *b = ctl_json_str(file, name);
    return *a && !strcmp(a, b);
}

static int verify(const char *file, const char *ca)
{
    char *text, cn[PKI_CN_SIZE] = "";
    const char *content, *sig, *cert;
    cJSON *j, *signed_doc;
    size_t len;
    bool all = true;
    if (pki_read_file(file, (size_t)FILE_MAX, &text, &len) != DEPOT_OK) {
        fprintf(stderr, CMD ": %s cannot be read (or is larger than 64 MiB)\n", file);
        return CTL_USAGE;
    }
    j = depot_json_parse(text, len);
    depot_free(text);
    content = ctl_json_str(j, "content");
    sig = ctl_json_str(j, "sig");
    cert = ctl_json_str(j, "cert");
    if (!j || !*content || !*sig || !*cert || !(signed_doc = cJSON_Parse(content))) {
        fprintf(stderr, CMD ": %s is not a statement (depotctl statements show ID)\n", file);
        cJSON_Delete(j);
        return CTL_USAGE;
    }
    printf("statement of dealer %s, period %s\n", ctl_json_str(signed_doc, "dealer"),
           ctl_json_str(signed_doc, "period"));
    (void)pki_cert_pem_cn(cert, cn, sizeof(cn));
    all &= ctl_check(pki_verify_b64(cert, content, strlen(content), sig) == DEPOT_OK, "the hub's signature verifies", cn);
    all &= ctl_check(cJSON_Compare(signed_doc, cJSON_GetObjectItemCaseSensitive(j, "statement"), true),
                 "the figures shown are the signed ones", NULL);
    all &= ctl_check(same_field(signed_doc, j, "dealer") && same_field(signed_doc, j, "period"),
                 "the dealer and period are the signed ones", NULL);
    if (ca)
        all &= ctl_check(pki_cert_check_issued(ca, cert) == DEPOT_OK,
                     "the hub's certificate was issued by the CA", ca);
    cJSON_Delete(signed_doc);
    cJSON_Delete(j);
    printf("%s\n", all ? "verified" : "NOT verified");
    return all ? CTL_OK : CTL_FAIL;
}

int ctl_statements_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *dealer = NULL, *period = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "admin to close, viewer to read ($DEPOT_TOKEN)"},
        {"dealer", &dealer, false, "list: only this dealer's"},
        {"period", &period, false, "list: only this period's (YYYY-MM)"},
    };
    static const struct ctl_verb verbs[] = {
        {"close", "PERIOD", "freeze the statements of a month that has ended (YYYY-MM)"},
        {"list", NULL, "statements, newest period first"},
        {"show", "ID", "one statement, signed (save it for verify)"},
        {"verify", "FILE", "FILE [--ca CA.crt]: check a saved statement offline"},
    };
    static const struct ctl_verb_table table = {
        CMD, "Rebate statements frozen at a period's close and signed by the hub.", verbs,
        sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *arg = NULL;
    char path[96], *e;
    int rc, v;

    if (argc >= 2 && !strcmp(argv[1], "verify")) { /* no hub */
        if (argc == 3)
            return verify(argv[2], NULL);
        if (argc == 5 && !strcmp(argv[3], "--ca"))
            return verify(argv[2], argv[4]);
        fprintf(stderr, "usage: " CMD " verify FILE [--ca CA.crt]\n");
        return CTL_USAGE;
    }
    v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &arg, &rc);
    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return list_statements(hub, token, dealer, period);
    if (!strcmp(verb, "close"))
        return close_period(hub, token, arg);
    if (!(strtoll(arg, &e, 10) > 0 && !*e)) {
        fprintf(stderr, CMD ": '%s' is not a statement id\n", arg);
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/statements/%s", arg);
    return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
}
