/*
 * Verifying a ledger file's movement chain, and `depot-gateway ledger
 * verify` (chain.h). Apart from chain.c, which ledger.c uses to write the
 * chain: this file reads ledgers through ledger.c.
 */
#include "chain.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "depot/log.h"
#include "ledger.h"

static void add_break(struct gw_chain_report *r, long long id, const char *why)
{
    if (r->breaks < GW_CHAIN_BAD_MAX) {
        r->bad_id[r->breaks] = id;
        snprintf(r->bad_why[r->breaks], sizeof(r->bad_why[0]), "%s", why);
    }
    r->breaks++;
}

struct verify_walk {
    struct gw_chain_report *r;
    long long last_id;
};

static int on_row(void *arg, const struct gw_chain_row *row)
{
    struct verify_walk *w = arg;
    char why[160];
    w->r->movements++;
    for (long long missing = w->last_id + 1; missing < row->id; missing++)
        add_break(w->r, missing, "missing: the movements around it were written, it is gone");
    if (!row->computed[0]) {
        add_break(w->r, row->id, "its fields are not a movement's (an id with a new line?)");
    } else if (strcmp(row->computed, row->stored) != 0) {
        snprintf(why, sizeof(why),
                 "its stored hash is not the one its fields (%s %s %+lld -> %lld at %lld) and "
                 "the hash before it make: changed after it was written",
                 row->kind, row->sku, row->delta, row->qty, row->ts);
        add_break(w->r, row->id, why);
    }
    snprintf(w->r->head, sizeof(w->r->head), "%s", row->stored);
    w->last_id = row->id;
    return 0;
}

depot_err gw_chain_verify(const char *path, struct gw_chain_report *r, char *why, size_t why_len)
{
    struct gw_ledger_info info;
    struct verify_walk w = {r, 0};
    sqlite3 *db = NULL;
    depot_err e;
    memset(r, 0, sizeof(*r));
    snprintf(r->head, sizeof(r->head), "%s", DEPOT_CHAIN_GENESIS);
    e = gw_ledger_verify(path, &info, why, why_len);
    if (e == DEPOT_OK && info.version < 7) {
        snprintf(why, why_len,
                 "ledger version %lld has no movement chain yet: the gateway adds it (version "
                 "7) when it next opens the ledger",
                 info.version);
        return DEPOT_ERR_DB;
    }
    if (e != DEPOT_OK)
        return e;
    snprintf(r->dealer, sizeof(r->dealer), "%s", info.dealer);
    snprintf(r->ledger, sizeof(r->ledger), "%s", info.id);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(why, why_len, "cannot open it: %s", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return DEPOT_ERR_DB;
    }
    sqlite3_busy_timeout(db, 5000);
    e = gw_chain_walk(db, info.dealer, info.id, true, on_row, &w);
    sqlite3_close(db);
    if (e != DEPOT_OK) {
        snprintf(why, why_len, "reading its movements failed");
        return e;
    }
    return r->breaks ? DEPOT_ERR_SIGNATURE : DEPOT_OK;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: depot-gateway ledger verify -c CONFIG\n"
                 "       depot-gateway ledger verify LEDGER-FILE\n"
                 "Checks that every movement of the gateway's ledger is as it was written:\n"
                 "each one's hash against its fields and the hash of the one before it.\n"
                 "Exit 0: the chain holds; 1: it breaks (the movements are named); 2: usage,\n"
                 "or the file is not a sound ledger.\n");
}

int gw_ledger_cli_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct gw_chain_report r;
    const char *config = NULL, *path = NULL;
    gw_config *cfg = NULL;
    char why[320];
    depot_err e;
    int c;
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        path = argv[optind++];
    if (optind != argc || !!config == !!path) {
        usage(stderr);
        return 2;
    }
    depot_log_init("gateway", DEPOT_LOG_WARN);
    if (config) {
        if (gw_config_load(config, &cfg, why, sizeof(why)) != DEPOT_OK) {
            fprintf(stderr, "depot-gateway ledger: %s\n", why);
            return 2;
        }
        path = cfg->ledger;
    }
    e = gw_chain_verify(path, &r, why, sizeof(why));
    if (e != DEPOT_OK && e != DEPOT_ERR_SIGNATURE) {
        fprintf(stderr, "depot-gateway ledger: %s: %s\n", path, why);
        gw_config_free(cfg);
        return 2;
    }
    printf("ledger %s of dealer %s: %lld movements\n", r.ledger, r.dealer, r.movements);
    for (long long i = 0; i < r.breaks && i < GW_CHAIN_BAD_MAX; i++)
        printf("BROKEN movement %lld: %s\n", r.bad_id[i], r.bad_why[i]);
    if (r.breaks > GW_CHAIN_BAD_MAX)
        printf("... %lld more\n", r.breaks - GW_CHAIN_BAD_MAX);
    if (r.breaks)
        printf("the chain breaks at %lld movement(s): not the ledger as it was written\n",
               r.breaks);
    else
        printf("the chain holds: head %s\n", r.head);
    gw_config_free(cfg);
    return r.breaks ? 1 : 0;
}
