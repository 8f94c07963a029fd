/*
 * The gateway's metrics file: Prometheus text format, rewritten atomically
 * (temp file + rename) by the main loop (metrics.c).
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "depot/error.h"
#include "ledger.h"
#include "poller.h"
#include "terminal.h"
#include "uplink.h"

/* How often the main loop rewrites the file (and once more at exit). */
#define GW_METRICS_PERIOD_MS 10000

enum gw_order_status {
    GW_ORD_SENT,
    GW_ORD_PENDING,
    GW_ORD_APPROVED,
    GW_ORD_REJECTED,
    GW_ORD__COUNT
};

/* Everything the file shows, gathered at one moment. */
struct gw_metrics_snapshot {
    const char *dealer;
    const char *ledger_id;
    size_t n_nodes;
    struct gw_node_stats *nodes; /* every node of the poller (gw_metrics_clear frees them) */
    struct gw_uplink_stats link;
    long long outbox_depth, outbox_max;
    long long ledger_bytes; /* the database file plus its -wal */
    long long scans_applied, scans_refused;
    long long scans_refused_by[GW_REFUSED__COUNT]; /* by enum gw_scan_refusal */
    long long outbox_aside;                        /* rows of outbox_aside */
    long long orders[GW_ORD__COUNT];
    long long movements_waiting, movements_cursor;
    long long alerts_open;
};

/*
 * Fill s from the ledger (path: its file, for the size), the poller and the
 * uplink (either may be NULL: their metrics read 0). max_entries is the
 * outbox bound. DEPOT_ERR_DB if the ledger cannot be read, DEPOT_ERR_NOMEM.
 * s is overwritten whole: clear a collected one first (gw_metrics_clear).
 */
depot_err gw_metrics_collect(gw_ledger *l, const char *ledger_path, long long max_entries,
                             gw_poller *p, gw_uplink *u, struct gw_metrics_snapshot *s);

/* Frees what gw_metrics_collect allocated in s (the nodes); s may be collected again. */
void gw_metrics_clear(struct gw_metrics_snapshot *s);

/* Write s in Prometheus text format to f. */
void gw_metrics_render(const struct gw_metrics_snapshot *s, FILE *f);

/* Render s into path.tmp and rename it over path. DEPOT_ERR_IO (logged). */
depot_err gw_metrics_write(const char *path, const struct gw_metrics_snapshot *s);

#endif
