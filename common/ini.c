/*
 * The INI front (include/depot/ini.h): whole-file checks, then inih.
 *
 * Two passes over the file held in memory:
 *
 *   1. precheck: every line, before inih sees any: no NUL byte, at most
 *      DEPOT_INI_LINE_MAX characters, no [section] header seen before.
 *   2. inih's ini_parse_stream, fed one whole line at a time by line_reader
 *      (which also counts lines, so every entry knows its line). on_entry
 *      refuses an option given twice in a section, then calls the caller's
 *      handler. The first error (the reader's or the handler's depot_err)
 *      stops everything; later lines are not applied.
 *
 * The sections and options already seen are a uthash set (depot/hash.h)
 * keyed by "section\0name", each with the line it was first seen on.
 *
 * Debian's libinih exposes its build options as variables (ini_max_line,
 * ini_allow_multiline, ini_stop_on_first_error). Where they exist
 * (DEPOT_INIH_RUNTIME_OPTIONS, found by CMake) the line buffer is raised to
 * fit DEPOT_INI_LINE_MAX, continuation lines are turned off (an indented
 * "name = value" is an entry of its own, never the tail of the previous
 * value) and parsing stops at the first error. Elsewhere line_reader still
 * refuses, with file:line, a line that would not fit inih's buffer, and a
 * continuation line reaches on_entry as a second value of the same option,
 * which is refused as given twice: a line is never split or silently joined.
 *
 * Invariant: every line inih reads is a whole line of the file, and
 * ctx->line is its number while inih works on it.
 */
#include "depot/ini.h"

#include <errno.h>
#include <ini.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"

/* ---- a set of (section, name) with the line each was first seen on (uthash) ---- */

struct seen_item {
    UT_hash_handle hh;
    int line;
    char key[]; /* section, a 0 byte, name */
};

/* 0 if (a, b) is new (now recorded), else the line it was first seen on; -1: out of memory. */
static int seen_add(struct seen_item **set, const char *a, const char *b, int line)
{
    size_t la = strlen(a), n = la + 1 + strlen(b);
    struct seen_item *it = depot_malloc(sizeof(*it) + n), *found;

    if (!it)
        return -1;
    memcpy(it->key, a, la + 1);
    memcpy(it->key + la + 1, b, n - la - 1);
    HASH_FIND(hh, *set, it->key, n, found);
    if (found) {
        depot_free(it);
        return found->line;
    }
    it->line = line;
    HASH_ADD_KEYPTR(hh, *set, it->key, n, it);
    if (!DEPOT_HASH_ADDED(it)) {
        depot_free(it);
        return -1;
    }
    return 0;
}

static void seen_free(struct seen_item **set)
{
    struct seen_item *it, *tmp;

    HASH_ITER(hh, *set, it, tmp)
    {
        HASH_DEL(*set, it);
        depot_free(it);
    }
}

/* ---- the parse ---- */

struct ini_ctx {
    const char *name;
    const char *buf;
    size_t len, pos;
    int line; /* lines handed to inih so far */
    depot_ini_handler handler;
    void *user;
    struct seen_item *options; /* (section, name) of every entry so far */
    depot_err code;            /* DEPOT_OK until the first error */
    char *err;
    size_t err_len;
};

static void fail(struct ini_ctx *c, depot_err code, int line, const char *what)
{
    if (c->code != DEPOT_OK)
        return;
    c->code = code;
    if (line > 0)
        snprintf(c->err, c->err_len, "%s:%d: %s", c->name, line, what);
    else
        snprintf(c->err, c->err_len, "%s: %s", c->name, what);
}

/* The length of the line at p (up to, not with, its "\n"), and where the next one starts. */
static size_t line_at(const struct ini_ctx *c, size_t p, size_t *next)
{
    const char *nl = memchr(c->buf + p, '\n', c->len - p);
    size_t n = nl ? (size_t)(nl - (c->buf + p)) : c->len - p;
    *next = p + n + (nl != NULL);
    return n;
}

/* A "[name]" header: copies name into out (false if the line is not one). */
static bool section_header(const char *s, size_t n, char *out, size_t out_len)
{
    const char *end;
    while (n && (*s == ' ' || *s == '\t' || *s == '\f' || *s == '\v' || *s == '\r')) {
        s++;
        n--;
    }
    if (!n || *s != '[' || !(end = memchr(s, ']', n)))
        return false;
    snprintf(out, out_len, "%.*s", (int)(end - s - 1), s + 1);
    return true;
}

/* Pass 1: NUL bytes, long lines, sections given twice. */
static void precheck(struct ini_ctx *c)
{
    struct seen_item *sections = NULL;
    char section[DEPOT_INI_LINE_MAX + 1], what[DEPOT_INI_LINE_MAX + 80];
    size_t p = 0, next, n;
    int line = 0, first;

    if (c->len >= 3 && !memcmp(c->buf, "\xEF\xBB\xBF", 3))
        p = 3; /* a UTF-8 byte order mark, which inih skips too */
    for (; p < c->len && c->code == DEPOT_OK; p = next) {
        n = line_at(c, p, &next);
        line++;
        if (memchr(c->buf + p, '\0', n)) {
            fail(c, DEPOT_ERR_CONFIG, line, "a NUL byte in the line (not a text file?)");
        } else if (n - (n && c->buf[p + n - 1] == '\r') > DEPOT_INI_LINE_MAX) {
            snprintf(what, sizeof(what), "line longer than %d characters", DEPOT_INI_LINE_MAX);
            fail(c, DEPOT_ERR_CONFIG, line, what);
        } else if (section_header(c->buf + p, n, section, sizeof(section)) &&
                   (first = seen_add(&sections, section, "", line)) != 0) {
            if (first < 0)
                snprintf(what, sizeof(what), "out of memory");
            else
                snprintf(what, sizeof(what), "section [%s] given twice (first at line %d)", section,
                         first);
            fail(c, first < 0 ? DEPOT_ERR_NOMEM : DEPOT_ERR_CONFIG, line, what);
        }
    }
    seen_free(&sections);
}

/* inih's reader: the next whole line into str, or NULL at the end (or if it cannot fit). */
static char *line_reader(char *str, int num, void *stream)
{
    struct ini_ctx *c = stream;
    size_t next;

    if (c->pos >= c->len || c->code != DEPOT_OK)
        return NULL;
    (void)line_at(c, c->pos, &next);
    if (next - c->pos + 1 > (size_t)num) { /* only with an inih whose buffer cannot be raised */
        char what[80];
        snprintf(what, sizeof(what), "line longer than %d characters", num - 3);
        fail(c, DEPOT_ERR_CONFIG, c->line + 1, what);
        return NULL;
    }
    memcpy(str, c->buf + c->pos, next - c->pos);
    str[next - c->pos] = '\0';
    c->pos = next;
    c->line++;
    return str;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *c = user;
    struct depot_ini_entry e = {section, name, value, c->line};
    char why[256] = "", what[320];
    depot_err code;
    int first;

    if (c->code != DEPOT_OK)
        return 0;
    first = seen_add(&c->options, section, name, c->line);
    if (first < 0) {
        fail(c, DEPOT_ERR_NOMEM, c->line, "out of memory");
        return 0;
    }
    if (first > 0) {
        snprintf(what, sizeof(what), "option '%.64s' given twice in [%.64s] (first at line %d)",
                 name, section, first);
        fail(c, DEPOT_ERR_CONFIG, c->line, what);
        return 0;
    }
    code = c->handler(c->user, &e, why, sizeof(why));
    if (code != DEPOT_OK) {
        fail(c, code, c->line, why[0] ? why : "refused");
        return 0;
    }
    return 1;
}

static void inih_options(void)
{
#ifdef DEPOT_INIH_RUNTIME_OPTIONS
    if (ini_max_line < DEPOT_INI_LINE_MAX + 3) /* + "\r\n" and the NUL */
        ini_max_line = DEPOT_INI_LINE_MAX + 3;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
#endif
}

static void parse(struct ini_ctx *c)
{
    int rc;

    precheck(c);
    if (c->code != DEPOT_OK)
        return;
    if (c->len >= 3 && !memcmp(c->buf, "\xEF\xBB\xBF", 3))
        c->pos = 3;
    inih_options();
    rc = ini_parse_stream(line_reader, c, on_entry, c);
    if (rc > 0)
        fail(c, DEPOT_ERR_CONFIG, rc, "not an INI line (expected [section] or name = value)");
    else if (rc < 0)
        fail(c, DEPOT_ERR_NOMEM, 0, "out of memory");
}

/* The whole stream into a NUL-terminated buffer of at most DEPOT_INI_FILE_MAX bytes. */
static char *read_all(struct ini_ctx *c, FILE *f, size_t *len)
{
    char *buf = depot_malloc(DEPOT_INI_FILE_MAX + 2);
    size_t n;

    if (!buf) {
        fail(c, DEPOT_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, DEPOT_INI_FILE_MAX + 1, f);
    if (ferror(f)) {
        fail(c, DEPOT_ERR_IO, 0, strerror(errno));
    } else if (n > DEPOT_INI_FILE_MAX) {
        fail(c, DEPOT_ERR_CONFIG, 0, "larger than 1 MiB; not a configuration file");
    } else {
        buf[n] = '\0';
        *len = n;
        return buf;
    }
    depot_free(buf);
    return NULL;
}

depot_err depot_ini_parse_stream(FILE *f, const char *name, depot_ini_handler h, void *user,
                                 char *err, size_t err_len)
{
    struct ini_ctx c = {.name = name, .handler = h, .user = user, .err = err, .err_len = err_len};
    char *buf;

    if (err_len)
        err[0] = '\0';
    buf = read_all(&c, f, &c.len);
    if (buf) {
        c.buf = buf;
        parse(&c);
    }
    seen_free(&c.options);
    depot_free(buf);
    return c.code;
}

depot_err depot_ini_parse_file(const char *path, depot_ini_handler h, void *user, char *err,
                               size_t err_len)
{
    FILE *f = fopen(path, "r");
    depot_err e;

    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    e = depot_ini_parse_stream(f, path, h, user, err, err_len);
    fclose(f);
    return e;
}
