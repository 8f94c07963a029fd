/*
 * depotctl ledger verify --dealer D [--from T1] [--to T2] [--json]
 *
 * Re-verifies a period of a dealer's movements from the hub's records
 * (GET /api/v1/ledger/verify): each movement's hash, each batch's link to the
 * one before and each batch's signature by the dealer's gateway key. T1, T2:
 * YYYY-MM-DD (--to: through that day), YYYY-MM-DDTHH:MM:SSZ or ms; without
 * them, everything the hub holds. Prints one line per ledger and one per
 * break, naming the movement; exit 0 when all verifies, 1 when anything
 * does not (or the hub cannot be asked), 2 for a bad command line.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "ctl.h"

#define CMD "depotctl ledger verify"

static bool time_ok(const char *t)
{
    return !t || (t[0] && strlen(t) <= 24 && strspn(t, "0123456789-:.TZ") == strlen(t));
}

static void print_ledger(const cJSON *l)
{
    char first[24], last[24], n[24], ver[24], nb[24], sok[24], unch[24], more[24];
    const cJSON *p;
    bool ok = cJSON_IsTrue(cJSON_GetObjectItem(l, "ok"));
    ctl_json_num(l, "first", first, sizeof(first));
    ctl_json_num(l, "last", last, sizeof(last));
    ctl_json_num(l, "movements", n, sizeof(n));
    ctl_json_num(l, "verified", ver, sizeof(ver));
    ctl_json_num(l, "batches", nb, sizeof(nb));
    ctl_json_num(l, "signatures_ok", sok, sizeof(sok));
    ctl_json_num(l, "unchained", unch, sizeof(unch));
    ctl_json_num(l, "more_problems", more, sizeof(more));
    printf("%s ledger %s: movements %s..%s (%s in the period): %s hashes verified, %s of %s "
           "signed batches verify, %s without a chain\n",
           ok ? "ok  " : "FAIL", ctl_json_str(l, "ledger"), first, last, n, ver, sok, nb, unch);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(l, "problems"))
    {
        char mid[24];
        ctl_json_num(p, "mid", mid, sizeof(mid));
        printf("     movement %s: %s: %s\n", mid, ctl_json_str(p, "kind"), ctl_json_str(p, "text"));
    }
    if (strcmp(more, "0") && more[0])
        printf("     ... and %s more\n", more);
}

int ctl_ledger_main(int argc, char **argv)
{
    const char *hub = NULL, *token = NULL, *dealer = NULL, *from = NULL, *to = NULL, *json = NULL;
    const struct ctl_opt opts[] = {
        {"hub", &hub, false, "the hub's API, http://HOST:PORT (default $DEPOT_HUB)"},
        {"token", &token, false, "a token ($DEPOT_TOKEN); a dealer's user: its own dealer"},
        {"dealer", &dealer, true, "the dealer whose movements to verify"},
        {"from", &from, false, "the period's start: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or ms"},
        {"to", &to, false, "its end: a date (through that day), a time or ms"},
        {"json", &json, false, "yes: print the hub's report as JSON"},
    };
    static const struct ctl_verb verbs[] = {
        {"verify", NULL, "re-verify a period's movements from the hub's records"},
    };
    static const struct ctl_verb_table table = {
        "depotctl ledger", "The tamper-evident ledger: verify a period at the hub.", verbs, 1};
    char path[256];
    cJSON *out = NULL, *l;
    bool ok;
    int rc, v = ctl_verb_parse(&table, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, &rc);
    if (v < 0)
        return rc;
    if (!ctl_api_target(CMD, &hub, &token))
        return CTL_USAGE;
    if (!time_ok(from) || !time_ok(to) ||
        strspn(dealer, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(dealer)) {
        fprintf(stderr, CMD ": --dealer is a dealer id; --from and --to are YYYY-MM-DD, "
                            "YYYY-MM-DDTHH:MM:SSZ or ms\n");
        return CTL_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/ledger/verify?dealer=%s%s%s%s%s", dealer,
             from ? "&from=" : "", from ? from : "", to ? "&to=" : "", to ? to : "");
    rc = ctl_api_call(CMD, hub, token, "GET", path, NULL, &out);
    if (rc != CTL_OK)
        return rc;
    ok = cJSON_IsTrue(cJSON_GetObjectItem(out, "ok"));
    if (json && !strcmp(json, "yes")) {
        char *text = cJSON_Print(out);
        printf("%s\n", text ? text : "{}");
        cJSON_free(text);
    } else {
        if (!cJSON_GetArraySize(cJSON_GetObjectItem(out, "ledgers")))
            printf("no movements of %s in the period\n", dealer);
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(out, "ledgers")) print_ledger(l);
        printf("%s\n", ok ? "verified: every movement of the period is as its gateway signed it"
                          : "NOT VERIFIED: see the lines above");
    }
    cJSON_Delete(out);
    return ok ? CTL_OK : CTL_FAIL;
}
