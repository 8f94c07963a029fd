/*
 * The option-table engine (include/depot/ini.h): typed options declared as
 * table rows, set from their text into a caller's struct by offsetof.
 *
 * One setter per type turns text into a field or says what is wrong with it;
 * depot_ini_opt_set puts "name = 'value' " in front of that reason, and, for
 * numbers, the bounds after it. Defaults go through the same setter as a
 * value from the file, so a default can never escape its own bounds. Owned
 * strings (STR, ID, ADDR) are replaced only once the new value is accepted
 * and copied: a refused value leaves the field as it was.
 *
 * Invariant: a table has at most DEPOT_INI_OPTS_MAX rows, so "given" fits the
 * bits of an unsigned (row i is bit i).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "depot/alloc.h"
#include "depot/id.h"
#include "depot/ini.h"

/* ---- setters: text -> field; NULL, or the reason the text is refused ---- */

static bool is_owned_string(enum depot_ini_type t)
{
    return t == DEPOT_INI_STR || t == DEPOT_INI_ID || t == DEPOT_INI_ADDR;
}

static bool is_number(enum depot_ini_type t)
{
    return t == DEPOT_INI_INT || t == DEPOT_INI_LONG || t == DEPOT_INI_LLONG ||
           t == DEPOT_INI_DOUBLE;
}

static const char *check_length(const struct depot_ini_opt *o, const char *v, char *why,
                                size_t why_len)
{
    size_t n = strlen(v);
    size_t max = o->type == DEPOT_INI_CHARS ? o->size - 1 : (size_t)o->max;

    if (n < (size_t)o->min)
        return "must not be empty";
    if (n > max) {
        snprintf(why, why_len, "is longer than %zu characters", max);
        return why;
    }
    return NULL;
}

static const char *set_string(const struct depot_ini_opt *o, void *field, const char *v, char *why,
                              size_t why_len, depot_err *code)
{
    const char *bad = check_length(o, v, why, why_len);
    char *copy;

    if (bad)
        return bad;
    if (o->type == DEPOT_INI_ID && !depot_id_valid(v, (size_t)o->max))
        return "is not a valid id (" DEPOT_ID_RULE ")";
    if (o->type == DEPOT_INI_ADDR && !depot_ini_split_address(v, NULL, 0, NULL))
        return "is not HOST:PORT";
    if (o->type == DEPOT_INI_CHARS) {
        memcpy(field, v, strlen(v) + 1);
        return NULL;
    }
    copy = depot_strdup(v);
    if (!copy) {
        *code = DEPOT_ERR_NOMEM;
        return "cannot be kept: out of memory";
    }
    depot_free(*(char **)field);
    *(char **)field = copy;
    return NULL;
}

static const char *parse_number(const struct depot_ini_opt *o, const char *v, double *out)
{
    bool dbl = o->type == DEPOT_INI_DOUBLE;
    char *end;
    double d;

    errno = 0;
    d = dbl ? strtod(v, &end) : (double)strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return dbl ? "is not a number" : "is not an integer";
    if (d < o->min || d > o->max)
        return "is out of range";
    *out = d;
    return NULL;
}

static const char *set_number(const struct depot_ini_opt *o, void *field, const char *v)
{
    double d = 0;
    const char *bad = parse_number(o, v, &d);

    if (bad)
        return bad;
    if (o->type == DEPOT_INI_INT)
        *(int *)field = (int)d;
    else if (o->type == DEPOT_INI_LONG)
        *(long *)field = (long)d;
    else if (o->type == DEPOT_INI_LLONG)
        *(long long *)field = (long long)d;
    else
        *(double *)field = d;
    return NULL;
}

static const char *set_bool(void *field, const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *(bool *)field = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *(bool *)field = false;
    else
        return "is not a boolean (true/false)";
    return NULL;
}

/* "is not one of the accepted values: a, b, c" into why. */
static const char *enum_refused(const struct depot_ini_opt *o, char *why, size_t why_len)
{
    size_t n = (size_t)snprintf(why, why_len, "is not one of the accepted values");

    for (const struct depot_ini_enum *e = o->map; e->name && n < why_len; e++)
        n += (size_t)snprintf(why + n, why_len - n, "%s%s", e == o->map ? ": " : ", ", e->name);
    return why;
}

static const char *set_enum(const struct depot_ini_opt *o, void *field, const char *v, char *why,
                            size_t why_len)
{
    for (const struct depot_ini_enum *e = o->map; e->name; e++) {
        bool same = (o->flags & DEPOT_INI_NOCASE) ? !strcasecmp(e->name, v) : !strcmp(e->name, v);
        if (same) {
            *(int *)field = e->value;
            return NULL;
        }
    }
    return enum_refused(o, why, why_len);
}

/* The reason v is refused for o (NULL: accepted and set); *code says which error. */
static const char *set_field(const struct depot_ini_opt *o, void *base, const char *v, char *why,
                             size_t why_len, depot_err *code)
{
    void *field = (char *)base + o->offset;

    switch (o->type) {
    case DEPOT_INI_BOOL:
        return set_bool(field, v);
    case DEPOT_INI_ENUM:
        return set_enum(o, field, v, why, why_len);
    case DEPOT_INI_CUSTOM:
        why[0] = '\0';
        *code = o->parse(base, v, why, why_len);
        return *code == DEPOT_OK ? NULL : why[0] ? why : "is refused";
    default:
        break;
    }
    if (is_number(o->type))
        return set_number(o, field, v);
    return set_string(o, field, v, why, why_len, code);
}

/* ---- public ---- */

const struct depot_ini_opt *depot_ini_opt_find(const struct depot_ini_opt *table, const char *name)
{
    for (const struct depot_ini_opt *o = table; o->name; o++)
        if (!strcmp(o->name, name))
            return o;
    return NULL;
}

depot_err depot_ini_opt_set(const struct depot_ini_opt *o, void *base, const char *text, char *why,
                            size_t why_len)
{
    char reason[200];
    depot_err code = DEPOT_ERR_CONFIG;
    const char *bad = set_field(o, base, text, reason, sizeof(reason), &code);
    int n;

    if (!bad)
        return DEPOT_OK;
    n = snprintf(why, why_len, "%s = '%.80s' %s", o->name, text, bad);
    if (is_number(o->type) && n >= 0 && (size_t)n < why_len) {
        const char *fmt = o->type == DEPOT_INI_DOUBLE ? " (%g..%g)" : " (%.0f..%.0f)";
        snprintf(why + n, why_len - (size_t)n, fmt, o->min, o->max);
    }
    return code;
}

depot_err depot_ini_opts_apply(const struct depot_ini_opt *table, void *base, unsigned *given,
                               const struct depot_ini_entry *e, char *why, size_t why_len)
{
    const struct depot_ini_opt *o = depot_ini_opt_find(table, e->name);
    unsigned bit;
    depot_err code;

    if (!o) {
        snprintf(why, why_len, "unknown option '%s' in [%s]", e->name, e->section);
        return DEPOT_ERR_NOTFOUND;
    }
    if (o - table >= DEPOT_INI_OPTS_MAX) {
        snprintf(why, why_len, "option '%s': row past the table's %d", e->name, DEPOT_INI_OPTS_MAX);
        return DEPOT_ERR_INVAL;
    }
    bit = 1u << (o - table);
    if (*given & bit) {
        snprintf(why, why_len, "option '%s' given twice in [%s]", e->name, e->section);
        return DEPOT_ERR_CONFIG;
    }
    code = depot_ini_opt_set(o, base, e->value, why, why_len);
    if (code == DEPOT_OK)
        *given |= bit;
    return code;
}

depot_err depot_ini_opts_defaults(const struct depot_ini_opt *table, void *base, char *why,
                                  size_t why_len)
{
    for (const struct depot_ini_opt *o = table; o->name; o++) {
        depot_err code = o->def ? depot_ini_opt_set(o, base, o->def, why, why_len) : DEPOT_OK;
        if (code != DEPOT_OK)
            return code == DEPOT_ERR_NOMEM ? code : DEPOT_ERR_INVAL;
    }
    return DEPOT_OK;
}

bool depot_ini_opt_given(const struct depot_ini_opt *table, unsigned given, const char *name)
{
    const struct depot_ini_opt *o = depot_ini_opt_find(table, name);

    return o && (given & (1u << (o - table)));
}

depot_err depot_ini_opts_required(const struct depot_ini_opt *table, unsigned given,
                                  const char *file, int line, const char *section, char *err,
                                  size_t err_len)
{
    for (const struct depot_ini_opt *o = table; o->name; o++) {
        if ((o->flags & DEPOT_INI_REQUIRED) && !(given & (1u << (o - table)))) {
            snprintf(err, err_len, "%s:%d: [%s]: missing option '%s'", file, line, section,
                     o->name);
            return DEPOT_ERR_CONFIG;
        }
    }
    return DEPOT_OK;
}

void depot_ini_opts_free(const struct depot_ini_opt *table, void *base)
{
    for (const struct depot_ini_opt *o = table; o->name; o++) {
        if (is_owned_string(o->type)) {
            char **p = (char **)((char *)base + o->offset);
            depot_free(*p);
            *p = NULL;
        }
    }
}

bool depot_ini_split_address(const char *addr, char *host, size_t host_len, int *port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hl;
    char *end;
    long p;

    if (!colon || colon == addr)
        return false;
    hl = (size_t)(colon - addr);
    if (addr[0] == '[') {
        if (hl < 3 || colon[-1] != ']')
            return false;
        h = addr + 1;
        hl -= 2;
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 1 || p > 65535 || errno)
        return false;
    if (host) {
        if (hl >= host_len)
            return false;
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    if (port)
        *port = (int)p;
    return true;
}
