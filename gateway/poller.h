/*
 * The Modbus poller: reads every configured node at its own period, turns
 * scale readings into counts and writes changes to the ledger; counts,
 * reports and backs off faults.
 */
#ifndef GW_POLLER_H
#define GW_POLLER_H

#include <stdbool.h>

#include "config.h"
#include "depot/error.h"
#include "display.h"
#include "ledger.h"
#include "terminal.h"

typedef struct gw_poller gw_poller;

/* Failures in a row before a node is declared faulted (event "fault"). */
#define GW_FAULT_AFTER 3

/*
 * Build the poller for cfg's nodes; counts start from the ledger's stock.
 * cfg, ledger and terminal (applies the scanners' events; may be NULL when no
 * node is a scanner) must outlive the poller. No thread runs until
 * gw_poller_start. DEPOT_ERR_NOMEM, DEPOT_ERR_CONFIG (a libmodbus context
 * cannot be made).
 */
depot_err gw_poller_new(const gw_config *cfg, gw_ledger *ledger, gw_terminal *terminal,
                        gw_poller **out);

/* Start one thread per bus and the pool of TCP node workers. DEPOT_ERR_IO. */
depot_err gw_poller_start(gw_poller *p);

/* Stop and join every thread (each finishes its current exchange first). */
void gw_poller_stop(gw_poller *p);

/* Stops if running, then frees. NULL does nothing. */
void gw_poller_free(gw_poller *p);

/*
 * Show d on the display of scanner node at its next poll (retried while the
 * node is down; a newer display replaces one not yet written). Thread-safe:
 * the MQTT thread calls it. DEPOT_ERR_NOTFOUND if no scanner has that name.
 */
depot_err gw_poller_display(gw_poller *p, const char *node, const struct gw_display *d);

/* Classes of a failed poll, for the metrics (gw_poller_fault_reason gives the label). */
enum gw_fault_reason {
    GW_FAULT_TIMEOUT,
    GW_FAULT_CRC,
    GW_FAULT_EXCEPTION,
    GW_FAULT_BAD_RESPONSE,
    GW_FAULT_IO,
    GW_FAULT_WRONG_KIND,
    GW_FAULT_MAP_VERSION,
    GW_FAULT_SENSOR,
    GW_FAULT_WRONG_UNIT, /* an answer from another unit id */
    GW_FAULT_TRUNCATED,  /* an answer begun and never finished */
    GW_FAULT_OTHER,
    GW_FAULT_REASONS__COUNT
};

/* A node's counters since start (read without stopping the poller). */
struct gw_node_stats {
    const char *name; /* the config's, lives as long as the poller */
    bool scanner;
    long long polls; /* poll exchanges started (scale read, scanner poll) */
    bool faulted;
    long long faults[GW_FAULT_REASONS__COUNT]; /* failed polls by class */
    long long line_reopens; /* times its RTU line was closed and opened again (0: TCP) */
};

size_t gw_poller_node_count(const gw_poller *p);
/* Node i (config order) into *out; false if i is out of range. Thread-safe. */
bool gw_poller_stats(gw_poller *p, size_t i, struct gw_node_stats *out);
/* "timeout", "crc", "exception", "bad_response", "io", "wrong_kind", "map_version",
 * "sensor_fault", "wrong_unit", "truncated", "other". */
const char *gw_poller_fault_reason(int r);

/* True while the named node is in the fault state. Thread-safe. */
bool gw_poller_node_faulted(gw_poller *p, const char *node);

#endif
