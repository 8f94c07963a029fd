/*
 * Depot's INI reader: inih behind a front that never lets a line be misread.
 *
 * inih reads a file through a fixed line buffer (Debian 12's libinih 55: 200
 * bytes) and hands the tail of a longer line back as a line of its own, so a
 * long comment can end in "dealer = EVIL" that is then read as an option; it
 * stops a value at a NUL byte; it merges a section given twice and calls the
 * handler again for an option given twice. This front reads the whole file
 * first and refuses, with "file:line: what", a NUL byte, a line longer than
 * DEPOT_INI_LINE_MAX, a section given twice and an option given twice in one
 * section; only then does a line reach inih, in a buffer it is sure to fit.
 * The gateway's and the hub's configurations both load through it.
 *
 * Below the reader, the option-table engine (common/ini_opts.c): a section's
 * options are rows of a table (name, type, bounds, default, flags, and the
 * offsetof of the field they set in the caller's struct). The engine applies
 * the defaults, sets one option from its text, checks required options and
 * frees the string fields; a loader keeps only what a table cannot say (its
 * section layout, free-form sections, checks spanning options). Every
 * function returns a depot_err; messages read "name = 'value' what is wrong"
 * (the reader puts "file:line: " in front) or, after parsing,
 * "file:line: [section]: missing option 'name'".
 */
#ifndef DEPOT_INI_H
#define DEPOT_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "depot/error.h"

/* Characters of one line, without its end of line ("\n" or "\r\n"). */
#define DEPOT_INI_LINE_MAX 1024
/* Bytes of a whole file. */
#define DEPOT_INI_FILE_MAX (1024 * 1024)

struct depot_ini_entry {
    const char *section; /* "" before the first [section] */
    const char *name;
    const char *value; /* trimmed; may be "" */
    int line;          /* 1-based line of the entry in the file */
};

/*
 * Called once per "name = value" line, in file order. DEPOT_OK goes on; any
 * other code stops the parse, which then fails with that code and
 * "file:line: why" ("file:line: refused" if why was left empty).
 */
typedef depot_err (*depot_ini_handler)(void *user, const struct depot_ini_entry *e, char *why,
                                       size_t why_len);

/*
 * Parses the INI text read from f; name stands for the file in messages.
 * DEPOT_OK if every line was well formed and the handler accepted every
 * entry. Otherwise err gets "name:line: what is wrong" and the result is
 * DEPOT_ERR_CONFIG, or DEPOT_ERR_IO (cannot be read), DEPOT_ERR_NOMEM.
 */
depot_err depot_ini_parse_stream(FILE *f, const char *name, depot_ini_handler h, void *user,
                                 char *err, size_t err_len);

/* The same for the file at path (DEPOT_ERR_IO with "path: reason" if it cannot be opened). */
depot_err depot_ini_parse_file(const char *path, depot_ini_handler h, void *user, char *err,
                               size_t err_len);

/* ---- the option-table engine ---- */

enum depot_ini_type {
    DEPOT_INI_STR,    /* char *, owned (depot_strdup); min..max characters */
    DEPOT_INI_ID,     /* the same, and depot_id_valid(value, max) (depot/id.h) */
    DEPOT_INI_ADDR,   /* the same, and HOST:PORT (depot_ini_split_address) */
    DEPOT_INI_CHARS,  /* char[size] inside the struct; min..size-1 characters */
    DEPOT_INI_INT,    /* int, an integer in min..max */
    DEPOT_INI_LONG,   /* long, the same */
    DEPOT_INI_LLONG,  /* long long, the same */
    DEPOT_INI_DOUBLE, /* double, a finite number in min..max */
    DEPOT_INI_BOOL,   /* bool: true/yes/on/1 or false/no/off/0 */
    DEPOT_INI_ENUM,   /* int, one of the names of map */
    DEPOT_INI_CUSTOM, /* anything: parse(base, value) sets it */
};

#define DEPOT_INI_REQUIRED 1u /* must be given in the file (no default) */
#define DEPOT_INI_NOCASE 2u   /* DEPOT_INI_ENUM: names match in any case */

/* At most this many rows in one table (the given options are bits of an unsigned). */
#define DEPOT_INI_OPTS_MAX 32

struct depot_ini_enum {
    const char *name; /* NULL ends the map */
    int value;
};

/*
 * DEPOT_INI_CUSTOM: sets the option in base from text; on an error returns
 * DEPOT_ERR_CONFIG (or DEPOT_ERR_NOMEM) and writes what is wrong with the
 * value into why ("is not HOST:PORT"), which the engine puts after
 * "name = 'value' ".
 */
typedef depot_err (*depot_ini_parse_fn)(void *base, const char *text, char *why, size_t why_len);

/* One option; a table is an array of them ended by a row whose name is NULL. */
struct depot_ini_opt {
    const char *name;
    enum depot_ini_type type;
    size_t offset;                    /* offsetof the field in the caller's struct */
    size_t size;                      /* DEPOT_INI_CHARS: sizeof the field */
    double min, max;                  /* numbers: bounds; strings: length */
    const char *def;                  /* text of the default, NULL: none */
    unsigned flags;                   /* DEPOT_INI_REQUIRED, DEPOT_INI_NOCASE */
    const struct depot_ini_enum *map; /* DEPOT_INI_ENUM */
    depot_ini_parse_fn parse;         /* DEPOT_INI_CUSTOM */
};

/* The row of table named name, or NULL. */
const struct depot_ini_opt *depot_ini_opt_find(const struct depot_ini_opt *table, const char *name);

/*
 * Sets o's field in base from text. DEPOT_OK; else DEPOT_ERR_CONFIG (or
 * DEPOT_ERR_NOMEM) and why = "name = 'text' what is wrong", e.g.
 * "port = '0' is out of range (1..65535)". The field keeps its value then.
 */
depot_err depot_ini_opt_set(const struct depot_ini_opt *o, void *base, const char *text, char *why,
                            size_t why_len);

/*
 * Entry e of the file through table into base, marking it in *given (bit i:
 * row i was given). DEPOT_ERR_NOTFOUND with why = "unknown option 'name' in
 * [section]" if table has no such row; DEPOT_ERR_CONFIG if it was given
 * already or its value is refused; else as depot_ini_opt_set.
 */
depot_err depot_ini_opts_apply(const struct depot_ini_opt *table, void *base, unsigned *given,
                               const struct depot_ini_entry *e, char *why, size_t why_len);

/*
 * Every default of table into base, through depot_ini_opt_set. DEPOT_OK;
 * DEPOT_ERR_NOMEM; DEPOT_ERR_INVAL if a default breaks its own row (a bug in
 * the table; why says which).
 */
depot_err depot_ini_opts_defaults(const struct depot_ini_opt *table, void *base, char *why,
                                  size_t why_len);

/* True if the row named name is marked in given. */
bool depot_ini_opt_given(const struct depot_ini_opt *table, unsigned given, const char *name);

/*
 * DEPOT_OK if every DEPOT_INI_REQUIRED row is marked in given; else
 * DEPOT_ERR_CONFIG and err = "file:line: [section]: missing option 'name'"
 * (line: where the section starts, or where the option was looked for).
 */
depot_err depot_ini_opts_required(const struct depot_ini_opt *table, unsigned given,
                                  const char *file, int line, const char *section, char *err,
                                  size_t err_len);

/* Frees the owned strings (STR, ID, ADDR) of table's fields in base and sets them to NULL. */
void depot_ini_opts_free(const struct depot_ini_opt *table, void *base);

/*
 * Splits "HOST:PORT" (HOST may be [v6]; PORT 1..65535); false if malformed or
 * if host_len cannot hold HOST. host and port may be NULL (only checks).
 */
bool depot_ini_split_address(const char *addr, char *host, size_t host_len, int *port);

#endif
