/*
 * What every depotctl command file shares, and nothing of theirs: the
 * command and verb tables' dispatch, the option table parser behind --help
 * and the "missing --x" errors, and small checks of option values (ints,
 * money, paths) that print why they refuse, and opening a CA of a PKI folder. A leaf: it calls no command, so
 * main.c and the command files depend on it and never the other way round.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "depot/money.h"
#include "depot/pki.h"

static bool help_word(const char *word)
{
    return !strcmp(word, "--help") || !strcmp(word, "-h") || !strcmp(word, "help");
}

static void commands_usage(FILE *out, const char *prog, const struct ctl_command *cmds, size_t n)
{
    fprintf(out,
            "usage: %s COMMAND [OPTIONS]   (%s COMMAND --help for its options)\n"
            "\ncommands:\n",
            prog, prog);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-15s %s\n", cmds[i].name, cmds[i].summary);
}

int ctl_command_run(const char *prog, const struct ctl_command *cmds, size_t n, int argc,
                    char **argv)
{
    if (argc < 2) {
        commands_usage(stderr, prog, cmds, n);
        return CTL_USAGE;
    }
    if (help_word(argv[1])) {
        commands_usage(stdout, prog, cmds, n);
        return CTL_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].main(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
    commands_usage(stderr, prog, cmds, n);
    return CTL_USAGE;
}

static const struct ctl_opt *find_opt(const struct ctl_opt *opts, size_t n, const char *name,
                                      size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* What one command line is parsed against (ctl_parse_arg). */
struct cmd_line {
    const char *cmd, *arg_name, *summary;
    const struct ctl_opt *opts;
    size_t n;
};

static void opts_usage(FILE *out, const struct cmd_line *c)
{
    fprintf(out, "usage: %s", c->cmd);
    if (c->arg_name)
        fprintf(out, " %s", c->arg_name);
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, c->opts[i].required ? " --%s VALUE" : " [--%s VALUE]", c->opts[i].name);
    fprintf(out, "\n%s\n", c->summary);
    if (c->n)
        fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, "  --%-12s %s\n", c->opts[i].name, c->opts[i].help);
}

/* A usage error: why (already printed) and the usage, on stderr. */
static int usage_error(const struct cmd_line *c)
{
    opts_usage(stderr, c);
    return CTL_USAGE;
}

static bool help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int check_required(const struct cmd_line *c, const char *arg)
{
    if (c->arg_name && !arg) {
        fprintf(stderr, "%s: missing %s\n", c->cmd, c->arg_name);
        return usage_error(c);
    }
    for (size_t i = 0; i < c->n; i++) {
        if (c->opts[i].required && !*c->opts[i].value) {
            fprintf(stderr, "%s: missing --%s\n", c->cmd, c->opts[i].name);
            return usage_error(c);
        }
    }
    return CTL_OK;
}

/* The word at argv[i], which is not an option: the command's one argument, if it takes one. */
static bool take_arg(const struct cmd_line *c, const char *word, const char **arg)
{
    if (!c->arg_name || *arg) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", c->cmd, word);
        return false;
    }
    *arg = word;
    return true;
}

static int parse_line(const struct cmd_line *c, int argc, char **argv, const char **arg)
{
    if (help_asked(argc, argv)) {
        opts_usage(stdout, c);
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *word = argv[i], *eq;
        const struct ctl_opt *o;

        if (strncmp(word, "--", 2) != 0) {
            if (!take_arg(c, word, arg))
                return usage_error(c);
            continue;
        }
        eq = strchr(word + 2, '=');
        o = find_opt(c->opts, c->n, word + 2, eq ? (size_t)(eq - word - 2) : strlen(word + 2));
        if (!o) {
            fprintf(stderr, "%s: unknown option '%s'\n", c->cmd, word);
            return usage_error(c);
        }
        if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            fprintf(stderr, "%s: --%s needs a value\n", c->cmd, o->name);
            return usage_error(c);
        }
    }
    return check_required(c, *arg);
}

int ctl_parse_arg(const char *cmd, const char *arg_name, const char *summary, int argc, char **argv,
                  const struct ctl_opt *opts, size_t n, const char **arg)
{
    const struct cmd_line c = {cmd, arg_name, summary, opts, n};
    const char *none = NULL;
    if (arg_name)
        *arg = NULL;
    return parse_line(&c, argc, argv, arg_name ? arg : &none);
}

int ctl_parse(const char *cmd, const char *summary, int argc, char **argv,
              const struct ctl_opt *opts, size_t n)
{
    return ctl_parse_arg(cmd, NULL, summary, argc, argv, opts, n, NULL);
}

static void verbs_usage(FILE *out, const char *cmd, const char *summary,
                        const struct ctl_verb *verbs, size_t n)
{
    fprintf(out, "usage: %s VERB [OPTIONS]   (%s VERB --help for its options)\n%s\n\nverbs:\n", cmd,
            cmd, summary);
    for (size_t i = 0; i < n; i++) {
        char head[48];
        snprintf(head, sizeof(head), "%s%s%s", verbs[i].name, verbs[i].arg ? " " : "",
                 verbs[i].arg ? verbs[i].arg : "");
        fprintf(out, "  %-18s %s\n", head, verbs[i].summary);
    }
}

int ctl_verb_pick(const char *cmd, const char *summary, int argc, char **argv,
                  const struct ctl_verb *verbs, size_t n)
{
    const char *word = argc >= 2 ? argv[1] : NULL;

    if (word && help_word(word)) {
        verbs_usage(stdout, cmd, summary, verbs, n);
        return -1;
    }
    for (size_t i = 0; word && i < n; i++)
        if (!strcmp(word, verbs[i].name))
            return (int)i;
    if (word)
        fprintf(stderr, "%s: unknown verb '%s'\n", cmd, word);
    else
        fprintf(stderr, "%s: missing VERB\n", cmd);
    verbs_usage(stderr, cmd, summary, verbs, n);
    return -2;
}

int ctl_parse_verb(const char *cmd, const struct ctl_verb *v, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n, const char **arg)
{
    char name[64];
    snprintf(name, sizeof(name), "%s %s", cmd, v->name);
    return ctl_parse_arg(name, v->arg, v->summary, argc, argv, opts, n, arg);
}

int ctl_verb_parse(const struct ctl_verb_table *t, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n, const char **arg, int *code)
{
    int v = ctl_verb_pick(t->cmd, t->summary, argc, argv, t->verbs, t->n), rc;

    if (v < 0) {
        *code = v == -1 ? CTL_OK : CTL_USAGE;
        return -1;
    }
    rc = ctl_parse_verb(t->cmd, &t->verbs[v], argc - 1, argv + 1, opts, n, arg);
    if (rc != CTL_OK) {
        *code = rc < 0 ? CTL_OK : rc;
        return -1;
    }
    return v;
}

size_t ctl_values(int argc, char **argv, const char *name, const char **out, size_t max)
{
    size_t n = 0, len = strlen(name);

    for (int i = 1; i < argc; i++) {
        const char *w = argv[i], *v = NULL;
        if (strncmp(w, "--", 2) != 0 || strncmp(w + 2, name, len) != 0)
            continue;
        if (w[2 + len] == '=')
            v = w + 3 + len;
        else if (w[2 + len] == '\0' && i + 1 < argc)
            v = argv[++i];
        if (v && n < max)
            out[n] = v;
        n += v != NULL;
    }
    return n;
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

bool ctl_money(const char *cmd, const char *name, const char *text, bool above_zero,
               long long *cents)
{
    if (depot_money_parse(text, cents) && (!above_zero || *cents > 0))
        return true;
    fprintf(stderr, "%s: --%s must be a decimal %s, not '%s'\n", cmd, name,
            above_zero ? "above 0" : "such as 5000.00", text);
    return false;
}

int ctl_read_line(FILE *f, char *buf, size_t size)
{
    size_t n = 0;
    bool nul = false, long_line = false;
    int c;

    while ((c = getc(f)) != EOF && c != '\n') {
        nul |= c == '\0';
        if (n + 1 < size)
            buf[n++] = (char)c;
        else
            long_line = true;
    }
    if (c == EOF && n == 0 && !long_line && !nul)
        return 0;
    if (n && buf[n - 1] == '\r' && !long_line)
        n--;
    buf[n] = '\0';
    return long_line ? CTL_LINE_LONG : nul ? CTL_LINE_NUL : 1;
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

pki_ca *ctl_pki_open_ca(const char *cmd, const char *dir, bool device)
{
    char key[PATH_MAX], crt[PATH_MAX];
    pki_ca *ca = NULL;

    if (!ctl_path(key, sizeof(key), dir, device ? PKI_DEVICE_CA_KEY : "ca.key") ||
        !ctl_path(crt, sizeof(crt), dir, device ? PKI_DEVICE_CA_CRT : "ca.crt"))
        return NULL;
    if (pki_ca_open(&ca, key, crt) != DEPOT_OK)
        fprintf(stderr, "%s: cannot open the %s CA in %s (run depotctl pki ca first)\n", cmd,
                device ? "device" : "server", dir);
    return ca;
}

/*
 * One field at *p into out (unquoting, in place: out <= *p); advances *p past
 * the field and *sep gets what ended it (',' or '\0'). -1 if malformed.
 */
static int csv_field(char **p, char *out, char *sep)
{
    char *s = *p;
    if (*s == '"') {
        for (s++; *s && !(*s == '"' && s[1] != '"'); s++)
            *out++ = *s == '"' ? *++s : *s;
        if (*s != '"')
            return -1;
        s++;
    } else {
        while (*s && *s != ',')
            *out++ = *s++;
    }
    *sep = *s;
    *out = '\0'; /* may overwrite the separator: it was saved */
    *p = *sep ? s + 1 : s;
    return *sep == ',' || *sep == '\0' ? 0 : -1;
}

int ctl_csv_split(char *line, char **field, int n)
{
    char *p = line, sep = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    for (int i = 0; i < n; i++) {
        field[i] = p;
        if (csv_field(&p, field[i], &sep) || (sep != ',') != (i + 1 == n))
            return -1;
    }
    return 0;
}
