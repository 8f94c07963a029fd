/*
 * What depotctl's subcommand files share (ctl.c): the command and verb
 * tables, the option table parser, checks of option values, and the entry
 * point of each subcommand. A subcommand's main gets argv with argv[0] its
 * own name and returns the process exit code: CTL_OK, CTL_FAIL (the
 * operation failed, the reason printed) or CTL_USAGE (bad command line).
 */
#ifndef DEPOT_CTL_H
#define DEPOT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

/* One command of a program: its word, its main and one line for the usage. */
struct ctl_command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

/*
 * Runs the command argv[1] of program prog with argv shifted by one, and
 * returns what it returns. No command: the usage on stderr, CTL_USAGE;
 * --help, -h or help: the usage on stdout, CTL_OK; an unknown word: why and
 * the usage on stderr, CTL_USAGE.
 */
int ctl_command_run(const char *prog, const struct ctl_command *cmds, size_t n, int argc,
                    char **argv);

/* One --name VALUE option: where its value goes, whether it must be given,
 * and the text shown by --help. *value keeps its default when not given, and
 * gets the last one when given more than once (see ctl_values). */
struct ctl_opt {
    const char *name;
    const char **value;
    bool required;
    const char *help;
};

/*
 * Parses argv[1..argc-1] (--name VALUE or --name=VALUE) against opts. Returns
 * CTL_OK, CTL_USAGE after printing why and the usage on stderr, or -1 if
 * --help (or -h) was asked and the usage was printed on stdout (the caller
 * then exits with CTL_OK). cmd names the command in messages, e.g.
 * "depotctl pki sign".
 */
int ctl_parse(const char *cmd, const char *summary, int argc, char **argv,
              const struct ctl_opt *opts, size_t n);

/* ctl_parse for a command that also takes one word, e.g. the FILE.csv of
 * "depotctl catalog import FILE.csv": arg_name names it in the usage, *arg
 * gets it (anywhere among the options; missing or a second one: CTL_USAGE). */
int ctl_parse_arg(const char *cmd, const char *arg_name, const char *summary, int argc, char **argv,
                  const struct ctl_opt *opts, size_t n, const char **arg);

/* One verb of a command with verbs, e.g. "approve" of "depotctl orders". */
struct ctl_verb {
    const char *name;
    const char *arg;     /* the word it takes ("ID", "FILE.csv"), or NULL */
    const char *summary; /* one line for the usage */
};

/*
 * Picks the verb argv[1] of command cmd. Returns its index in verbs; -1 after
 * printing the command's usage on stdout (--help, -h, help: exit CTL_OK); -2
 * after printing why and the usage on stderr (no verb or an unknown one: exit
 * CTL_USAGE).
 */
int ctl_verb_pick(const char *cmd, const char *summary, int argc, char **argv,
                  const struct ctl_verb *verbs, size_t n);

/* ctl_parse_arg for verb v of cmd, with argv[0] the verb ("depotctl orders" "approve" ...). */
int ctl_parse_verb(const char *cmd, const struct ctl_verb *v, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n, const char **arg);

/* The verbs of one command, e.g. "depotctl orders" with list, show, approve, reject. */
struct ctl_verb_table {
    const char *cmd;
    const char *summary;
    const struct ctl_verb *verbs;
    size_t n;
};

/*
 * ctl_verb_pick, then ctl_parse_verb of the verb picked with argv[1..] as its
 * line. Returns the verb's index, or -1 with *code what the command returns
 * (CTL_OK after --help, CTL_USAGE after a bad command line, both printed).
 */
int ctl_verb_parse(const struct ctl_verb_table *t, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n, const char **arg, int *code);

/* Every value of --name in argv[1..argc-1] (--name V or --name=V), in order,
 * into out (at most max); returns how many there are (may exceed max). Use it
 * after ctl_parse for an option that may be given more than once. */
size_t ctl_values(int argc, char **argv, const char *name, const char **out, size_t max);

/* Parses a decimal int in [min, max] for option name; false (printed) if not. */
bool ctl_int(const char *cmd, const char *name, const char *text, int min, int max, int *out);

/* Parses money for option name ("12", "12.5", "12.50") into cents, above 0 if
 * above_zero; false (printed) if not. */
bool ctl_money(const char *cmd, const char *name, const char *text, bool above_zero,
               long long *cents);

/* Results of ctl_read_line besides 1 (a line) and 0 (the end of the file). */
enum { CTL_LINE_LONG = -1, CTL_LINE_NUL = -2 };

/*
 * Reads the next line of f into buf, without its "\n" or "\r\n": 1, or 0 at
 * the end of the file. A line that does not fit in size - 1 characters is
 * CTL_LINE_LONG (its rest is skipped, never read as a line of its own) and a
 * line with a NUL byte CTL_LINE_NUL; buf then holds what fitted.
 */
int ctl_read_line(FILE *f, char *buf, size_t size);

/* Splits one CSV line into exactly n fields, in place (quoted fields unquoted: "a,b", "" in
 * quotes is one quote; the line's end of line dropped); -1 if it has another number of fields
 * or a field is malformed. */
int ctl_csv_split(char *line, char **field, int n);

/* dir + "/" + name into out; false (printed) if it does not fit. */
bool ctl_path(char *out, size_t size, const char *dir, const char *name);

int ctl_pki_main(int argc, char **argv);
/* pki_revoke.c: the device CA's revocation list. */
struct pki_revoked;
typedef struct pki_ca pki_ca;
/* The folder's device CA (devices-ca.*) or server CA (ca.*), opened; NULL said on stderr. */
pki_ca *ctl_pki_open_ca(const char *cmd, const char *dir, bool device);
#define PKI_DEVICE_CA_KEY "devices-ca.key"
#define PKI_DEVICE_CA_CRT "devices-ca.crt"
#define PKI_DEVICE_CRL "devices.crl"
int ctl_pki_revoke_main(int argc, char **argv);
int ctl_pki_crl_main(int argc, char **argv);
/* Writes dir/devices.crl from dir/revoked plus the n entries of add, certificates of
 * dealer (recorded in dir/revoked first), with the next CRL number, valid days days (0:
 * PKI_CRL_DAYS); CTL_OK or CTL_FAIL (said on stderr). */
int ctl_pki_write_crl(const char *cmd, const char *dir, const char *dealer,
                      const struct pki_revoked *add, size_t n, int days);
/* Appends the serial of the certificate at crt to dir/dealers/DEALER.serials. */
bool ctl_pki_record_serial(const char *dir, const char *dealer, const char *crt);
int ctl_broker_config_main(int argc, char **argv);

#endif
