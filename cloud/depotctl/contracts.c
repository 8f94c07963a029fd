/*
 * depotctl contracts issue FILE --dealer D --title T --start YYYY-MM-DD --end YYYY-MM-DD
 *                          [--credit-limit AMOUNT] [--tier T]
 *                  | list [--dealer D] | show ID | signature ID
 *                  | verify FILE SIG [--ca CA.crt]
 *
 * issue (admin) sends the file's exact bytes (a PDF or UTF-8 text) with its terms; the dealer
 * signs it at its gateway (the terminal's sign code C<ID>). signature prints the signed pair
 * the hub keeps (save it: SIG). verify needs no hub: it checks, offline, that SIG's document
 * names FILE's SHA-256, that the dealer's signature verifies with the dealer's certificate
 * (CN = the dealer), and that the hub's countersignature verifies with the hub's; with --ca,
 * that the Depot device CA issued both certificates. It prints one line per check and exits
 * 0 only when every check holds.
 */
#include <cjson/cJSON.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "api.h"
#include "depot/alloc.h"
#include "depot/msg.h"
#include "depot/pki.h"

#define CMD "depotctl contracts"
#define FILE_MAX (6L * 1024 * 1024)

static int list_contracts(const char *hub, const char *token, const char *dealer)
{
    static const char *const heads[] = {"id", "dealer", "title", "start", "end", "state", "code"};
    char path[96];
    cJSON *reply = NULL, *it;
    char(*rows)[8][64];
    int n, i = 1, rc;
    snprintf(path, sizeof(path), "/api/v1/contracts%s%s", dealer ? "?dealer=" : "",
             dealer ? dealer : "");
    rc = ctl_api_call(CMD, hub, token, "GET", path, NULL, &reply);
    if (rc != CTL_OK)
        return rc;
    n = cJSON_GetArraySize(reply);
    rows = calloc((size_t)n + 1, sizeof(*rows));
    for (int c = 0; rows && c < 7; c++)
        snprintf(rows[0][c], 64, "%s", heads[c]);
    cJSON_ArrayForEach(it, (rows ? reply : NULL))
    {
        ctl_json_num(it, "id", rows[i][0], 64);
        snprintf(rows[i][1], 64, "%s", ctl_json_str(it, "dealer"));
        snprintf(rows[i][2], 64, "%.63s", ctl_json_str(it, "title"));
        snprintf(rows[i][3], 64, "%s", ctl_json_str(it, "start"));
        snprintf(rows[i][4], 64, "%s", ctl_json_str(it, "end"));
        snprintf(rows[i][5], 64, "%s", ctl_json_str(it, "state"));
        snprintf(rows[i][6], 64, "%s", ctl_json_str(it, "sign_code"));
        i++;
    }
    if (rows)
        ctl_print_table(rows, n + 1, 7);
    free(rows);
    cJSON_Delete(reply);
    return rows ? CTL_OK : CTL_FAIL;
}

/* The whole of path, at most FILE_MAX bytes (depot_malloc'ed by pki_read_file). */
static char *read_all(const char *path, size_t *len)
{
    char *data = NULL;
    if (pki_read_file(path, (size_t)FILE_MAX, &data, len) != DEPOT_OK) {
        fprintf(stderr, CMD ": %s cannot be read (or is larger than 6 MiB)\n", path);
        return NULL;
    }
    return data;
}

static int issue(const char *file, const char *dealer, const char *title, const char *start,
                 const char *end, const char *limit, const char *tier, const char *hub,
                 const char *token)
{
    size_t len, b64_len;
    char *data, *b64;
    cJSON *obj;
    if (!dealer || !title || !start || !end) {
        fprintf(stderr, CMD " issue: give FILE, --dealer, --title, --start and --end\n");
        return CTL_USAGE;
    }
    if (!(data = read_all(file, &len)))
        return CTL_USAGE;
    b64_len = 4 * ((len + 2) / 3) + 1;
    b64 = malloc(b64_len);
    if (!b64 ||
        pki_base64_encode((const unsigned char *)data, len, b64, b64_len, &b64_len) != DEPOT_OK) {
        free(b64);
        depot_free(data);
        return CTL_FAIL;
    }
    depot_free(data);
    obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "dealer", dealer);
    cJSON_AddStringToObject(obj, "title", title);
    cJSON_AddStringToObject(obj, "start", start);
    cJSON_AddStringToObject(obj, "end", end);
    if (limit)
        cJSON_AddStringToObject(obj, "credit_limit", limit);
    if (tier)
        cJSON_AddStringToObject(obj, "tier", tier);
    cJSON_AddStringToObject(obj, "content_base64", b64);
    free(b64);
    return ctl_api_print(CMD, hub, token, "POST", "/api/v1/contracts", obj, NULL, NULL);
}

/* ---- verify ---- */



static int verify(const char *file, const char *sig_path, const char *ca)
{
    unsigned char hash[32];
    char hex[65], cn[DEPOT_DEALER_MAX + 1] = "", detail[200], *data, *text, *counter;
    const char *doc_text, *sig, *cert, *csig, *ccert;
    depot_contract_doc doc;
    size_t len, tlen, clen;
    cJSON *j;
    bool all = true;
    int rc;

    if (!(data = read_all(file, &len)))
        return CTL_USAGE;
    rc = mbedtls_sha256_ret((const unsigned char *)data, len, hash, 0);
    depot_free(data);
    if (rc != 0)
        return CTL_FAIL;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", hash[i]);
    if (!(text = read_all(sig_path, &tlen)))
        return CTL_USAGE;
    j = depot_json_parse(text, tlen);
    depot_free(text);
    doc_text = ctl_json_str(j, "doc");
    sig = ctl_json_str(j, "sig");
    cert = ctl_json_str(j, "cert");
    csig = ctl_json_str(j, "counter_sig");
    ccert = ctl_json_str(j, "counter_cert");
    if (!j || depot_contract_doc_decode(doc_text, strlen(doc_text), &doc, detail, sizeof(detail)) !=
                  DEPOT_OK) {
        fprintf(stderr, CMD ": %s is not a contract signature (depotctl contracts signature)\n",
                sig_path);
        cJSON_Delete(j);
        return CTL_USAGE;
    }
    printf("contract %lld of dealer %s, signed at terminal %s\n", doc.contract, doc.dealer,
           doc.terminal);
    snprintf(detail, sizeof(detail), "%s", hex);
    all &= ctl_check(!strcmp(doc.sha256, hex), "the signed SHA-256 is the file's", detail);
    all &= ctl_check(pki_cert_pem_cn(cert, cn, sizeof(cn)) == DEPOT_OK && !strcmp(cn, doc.dealer),
                 "the signer's certificate is the dealer's (CN)", cn);
    all &= ctl_check(pki_verify_b64(cert, doc_text, strlen(doc_text), sig) == DEPOT_OK, "the dealer's signature verifies",
                 NULL);
    counter = depot_contract_counter_bytes(doc_text, sig, &clen);
    all &= ctl_check(*csig && counter && pki_verify_b64(ccert, counter, clen, csig) == DEPOT_OK,
                 "the hub's countersignature verifies", *csig ? NULL : "none");
    depot_free(counter);
    if (ca) {
        all &= ctl_check(pki_cert_check_issued(ca, cert) == DEPOT_OK,
                     "the dealer's certificate was issued by the CA", ca);
        all &= ctl_check(pki_cert_check_issued(ca, ccert) == DEPOT_OK,
                     "the hub's certificate was issued by the CA", ca);
    }
    cJSON_Delete(j);
    printf("%s\n", all ? "verified" : "NOT verified");
    return all ? CTL_OK : CTL_FAIL;
}

int ctl_contracts_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *dealer = NULL, *title = NULL, *start = NULL,
               *end = NULL, *limit = NULL, *tier = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "admin to issue, viewer to read ($DEPOT_TOKEN)"},
        {"dealer", &dealer, false, "issue: the dealer; list: only this dealer's"},
        {"title", &title, false, "issue: its title (1..80 characters)"},
        {"start", &start, false, "issue: the day its terms take effect, YYYY-MM-DD"},
        {"end", &end, false, "issue: its last day, YYYY-MM-DD (reminders before it)"},
        {"credit-limit", &limit, false, "issue: the dealer's credit limit from the start day"},
        {"tier", &tier, false, "issue: the dealer's tier from the start day"},
    };
    static const struct ctl_verb verbs[] = {
        {"issue", "FILE", "give a dealer a contract (PDF or text) to sign at its gateway"},
        {"list", NULL, "every contract and its state"},
        {"show", "ID", "one contract"},
        {"signature", "ID", "the signed pair the hub keeps (save it for verify)"},
        {"verify", "FILE", "FILE SIG [--ca CA.crt]: check a signed contract offline"},
    };
    static const struct ctl_verb_table table = {CMD,
                                                "E-contracts signed with the dealer's gateway key.",
                                                verbs, sizeof(verbs) / sizeof(verbs[0])};
    const char *verb, *arg = NULL;
    char path[96], *e;
    int rc, v;

    if (argc >= 2 && !strcmp(argv[1], "verify")) { /* two words, no hub */
        if (argc == 4)
            return verify(argv[2], argv[3], NULL);
        if (argc == 6 && !strcmp(argv[4], "--ca"))
            return verify(argv[2], argv[3], argv[5]);
        fprintf(stderr, "usage: " CMD " verify FILE SIG [--ca CA.crt]\n");
        return CTL_USAGE;
    }
    v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), &arg, &rc);
    if (v < 0)
        return rc;
    verb = verbs[v].name;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!strcmp(verb, "list"))
        return list_contracts(hub, token, dealer);
    if (!strcmp(verb, "issue"))
        return issue(arg, dealer, title, start, end, limit, tier, hub, token);
    if (!(strtoll(arg, &e, 10) > 0 && !*e)) {
        fprintf(stderr, CMD ": '%s' is not a contract id\n", arg);
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/contracts/%s%s", arg,
             !strcmp(verb, "signature") ? "/signature" : "");
    return ctl_api_print(CMD, hub, token, "GET", path, NULL, NULL, NULL);
}
