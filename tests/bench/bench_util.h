/*
 * Helpers shared by the C benchmark programs of tests/bench: the monotonic
 * clock in the units they report, and the bounded number parse behind their
 * command-line options. Header-only (static inline), so each program stays a
 * single .c file.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline long long bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_MONOTONIC in seconds. */
static inline double bench_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* s as a whole decimal number in lo..hi into *out: 0, or -1 (and *out untouched). */
static inline int bench_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* One "--name value" option: a text into *str, or a number in lo..hi into *num. */
struct bench_opt {
    const char *name;
    const char **str;
    long *num;
    long lo, hi;
};

/*
 * argv[1..] as "--name value" pairs into the table (ended by a row whose name
 * is NULL). --help calls usage(stdout) and exits 0. 0, or -1 after a message
 * "prog: ..." on stderr (an unknown option, a missing value, a number out of
 * its range).
 */
static inline int bench_parse_opts(const char *prog, int argc, char **argv,
                                   const struct bench_opt *table, void (*usage)(FILE *out))
{
    for (int i = 1; i < argc; i += 2) {
        const struct bench_opt *o = table;
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        while (o->name && strcmp(o->name, argv[i]) != 0)
            o++;
        if (!o->name)
            return fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]), -1;
        if (i + 1 >= argc)
            return fprintf(stderr, "%s: %s needs a value\n", prog, argv[i]), -1;
        if (o->str)
            *o->str = argv[i + 1];
        else if (bench_parse_long(argv[i + 1], o->lo, o->hi, o->num) < 0)
            return fprintf(stderr, "%s: %s: %ld..%ld, not %s\n", prog, argv[i], o->lo, o->hi,
                           argv[i + 1]),
                   -1;
    }
    return 0;
}

#endif
