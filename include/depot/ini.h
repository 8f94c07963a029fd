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
 * Called once per "name = value" line, in file order. Returns true to go on;
 * false stops the parse, which then fails with "file:line: why" (why may be
 * left empty when the caller keeps its own message: err then reads
 * "file:line: refused").
 */
typedef bool (*depot_ini_handler)(void *user, const struct depot_ini_entry *e, char *why,
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

#endif
