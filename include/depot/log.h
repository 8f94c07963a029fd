/*
 * Logging shared by every Linux-side program. One line per event on stderr:
 *   2026-11-27T08:40:01.123Z gateway warn node scale1: timeout (3 in a row)
 * The level threshold and program tag are process-wide and set once at start.
 */
#ifndef DEPOT_LOG_H
#define DEPOT_LOG_H

#include "depot/clock.h"

enum depot_log_level { DEPOT_LOG_DEBUG, DEPOT_LOG_INFO, DEPOT_LOG_WARN, DEPOT_LOG_ERROR };

void depot_log_init(const char *program, enum depot_log_level threshold);
void depot_log(enum depot_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define LOG_DEBUG(...) depot_log(DEPOT_LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) depot_log(DEPOT_LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) depot_log(DEPOT_LOG_WARN, __VA_ARGS__)
#define LOG_ERROR(...) depot_log(DEPOT_LOG_ERROR, __VA_ARGS__)


#endif
