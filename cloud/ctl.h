/*
 * What depotctl's subcommand files share: the option table parser and the
 * entry point of each subcommand. A subcommand's main gets argv with argv[0]
 * its own name and returns the process exit code: CTL_OK, CTL_FAIL (the
 * operation failed, the reason printed) or CTL_USAGE (bad command line).
 */
#ifndef DEPOT_CTL_H
#define DEPOT_CTL_H

#include <stdbool.h>
#include <stddef.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* One --name VALUE option: where its value goes, whether it must be given,
 * and the text shown by --help. *value keeps its default when not given. */
struct ctl_opt {
    const char *name;
    const char **value;
    bool required;
    const char *help;
};

/*
 * Parses argv[1..argc-1] (--name VALUE or --name=VALUE) against opts. Returns
 * CTL_OK, CTL_USAGE after printing why, or -1 if --help was asked and the
 * usage was printed (the caller then exits with CTL_OK). cmd names the command
 * in messages, e.g. "depotctl pki sign".
 */
int ctl_parse(const char *cmd, const char *summary, int argc, char **argv,
              const struct ctl_opt *opts, size_t n);

/* Parses a decimal int in [min, max] for option name; false (printed) if not. */
bool ctl_int(const char *cmd, const char *name, const char *text, int min, int max, int *out);

/* dir + "/" + name into out; false (printed) if it does not fit. */
bool ctl_path(char *out, size_t size, const char *dir, const char *name);

int ctl_pki_main(int argc, char **argv);
int ctl_broker_config_main(int argc, char **argv);

#endif
