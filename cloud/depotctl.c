/*
 * depotctl: the manufacturer's admin command line. main() only dispatches:
 * the first word picks a subcommand from the table below, which gets the rest
 * of argv. Each subcommand declares its options in a ctl_opt table, so --help
 * and the "missing --x" errors come from one parser (ctl_parse) and read the
 * same everywhere. Adding a subcommand is one line in `commands`.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_api.h"
#include "ctl_stock.h"
#include "depot/log.h"

struct ctl_command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

static const struct ctl_command commands[] = {
    {"pki", ctl_pki_main, "the certificate authority: ca, server, client, sign"},
    {"broker-config", ctl_broker_config_main, "write mosquitto.conf and the ACL for the broker"},
    {"stock", ctl_stock_main, "stock across dealers from the hub (live or stale, and why)"},
    {"catalog", ctl_catalog_main, "import the catalog from CSV, or show it"},
    {"dealers", ctl_dealers_main, "list dealers, show or set a profile (limits, SKU maxima)"},
    {"payments", ctl_payments_main, "record a dealer's payment, or import payments from CSV"},
    {"ranking", ctl_ranking_main, "the dealers' leaderboard: KPIs, score, movement, rebate"},
    {"orders", ctl_orders_main, "list, show, approve or reject orders"},
    {"alerts", ctl_alerts_main, "list, show, acknowledge or resolve alerts"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: depotctl COMMAND [OPTIONS]   (depotctl COMMAND --help for its options)\n"
                 "\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
}

static const struct ctl_opt *find_opt(const struct ctl_opt *opts, size_t n, const char *name,
                                      size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static void opts_usage(const char *cmd, const char *summary, const struct ctl_opt *opts, size_t n)
{
    printf("usage: %s", cmd);
    for (size_t i = 0; i < n; i++)
        printf(opts[i].required ? " --%s VALUE" : " [--%s VALUE]", opts[i].name);
    printf("\n%s\n\noptions:\n", summary);
    for (size_t i = 0; i < n; i++)
        printf("  --%-12s %s\n", opts[i].name, opts[i].help);
}

static int check_required(const char *cmd, const struct ctl_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i].required && !*opts[i].value) {
            fprintf(stderr, "%s: missing --%s (see --help)\n", cmd, opts[i].name);
            return CTL_USAGE;
        }
    }
    return CTL_OK;
}

int ctl_parse(const char *cmd, const char *summary, int argc, char **argv,
              const struct ctl_opt *opts, size_t n)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq;
        const struct ctl_opt *o;

        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            opts_usage(cmd, summary, opts, n);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", cmd, arg);
            return CTL_USAGE;
        }
        eq = strchr(arg + 2, '=');
        o = find_opt(opts, n, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", cmd, arg);
            return CTL_USAGE;
        }
        if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            fprintf(stderr, "%s: --%s needs a value\n", cmd, o->name);
            return CTL_USAGE;
        }
    }
    return check_required(cmd, opts, n);
}

bool ctl_int(const char *cmd, const char *name, const char *text, int min, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "%s: --%s must be a number from %d to %d, not '%s'\n", cmd, name, min, max,
                text);
        return false;
    }
    *out = (int)v;
    return true;
}

bool ctl_path(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "depotctl: path too long: %s/%s\n", dir, name);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    depot_log_init("depotctl", DEPOT_LOG_INFO);
    if (argc < 2) {
        usage(stderr);
        return CTL_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CTL_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "depotctl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CTL_USAGE;
}
