/*
 * Process-wide logger: one line per event on stderr, UTC timestamp with
 * milliseconds, program tag, level. stderr is unbuffered, and each line is
 * formatted into one buffer and written with one write(2), so lines from
 * several threads never interleave.
 */
#include "depot/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "depot";
static enum depot_log_level log_threshold = DEPOT_LOG_INFO;

void depot_log_init(const char *program, enum depot_log_level threshold)
{
    log_program = program;
    log_threshold = threshold;
}

void depot_log(enum depot_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char line[1024];
    long long now = depot_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    size_t n;
    va_list ap;
    int rc;

    if (level < log_threshold)
        return;
    gmtime_r(&secs, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    rc = snprintf(line + n, sizeof(line) - n, ".%03lldZ %s %s ", now % 1000, log_program,
                  names[level]);
    if (rc > 0)
        n += (size_t)rc;
    va_start(ap, fmt);
    rc = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (rc > 0)
        n += (size_t)rc;
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nothing left to report to */
    }
}
