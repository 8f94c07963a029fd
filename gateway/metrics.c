/*
 * metrics.c - the gateway's metrics file ([gateway] metrics_file).
 *
 * Owns: nothing lasting. gw_metrics_collect reads the poller's and the
 * uplink's counters and a few ledger queries into one snapshot;
 * gw_metrics_render prints it in the Prometheus text exposition format
 * (node_exporter's textfile collector reads such a file); gw_metrics_write
 * renders into "<path>.tmp" and renames it over path, so a reader never
 * sees half a file.
 *
 * Every metric is named depot_gw_*, has HELP and TYPE lines, and is present
 * in every file (0 when there is nothing to count), so dashboards and alert
 * rules never see a series vanish. Labels are ids (nodes) or fixed words
 * (reasons, statuses): nothing needs escaping, but node names are escaped
 * anyway as the format asks.
 */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "downlink.h"
#include "ledger_tx.h"
#include "movements.h"

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static long long ledger_bytes(const char *path)
{
    char wal[4200];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    return file_size(path) + file_size(wal);
}

static const char *const order_statuses[GW_ORD__COUNT] = {"sent", "pending", "approved",
                                                          "rejected"};

static void count_refused(struct gw_metrics_snapshot *s, const char *reason, long long n)
{
    int r = GW_REFUSED_OTHER;
    for (int i = 0; i < GW_REFUSED__COUNT; i++)
        if (!strcmp(reason, gw_scan_refusal_name(i)))
            r = i;
    s->scans_refused += n;
    s->scans_refused_by[r] += n;
}

/* scans by outcome and reason, orders by status, rows set aside. Lock held. */
static depot_err ledger_counts(gw_ledger *l, struct gw_metrics_snapshot *s)
{
    sqlite3_stmt *st = gw_ledger_prepare(
        l, "SELECT 'scan', outcome, reason, count(*) FROM scans GROUP BY outcome, reason"
           " UNION ALL SELECT 'order', status, '', count(*) FROM orders GROUP BY status"
           " UNION ALL SELECT 'aside', '', '', count(*) FROM outbox_aside");
    if (!st)
        return DEPOT_ERR_DB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *what = (const char *)sqlite3_column_text(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        long long n = sqlite3_column_int64(st, 3);
        if (!strcmp(what, "aside")) {
            s->outbox_aside = n;
            continue;
        }
        if (!strcmp(what, "scan")) {
            if (!strcmp(k, "applied"))
                s->scans_applied += n;
            else
                count_refused(s, (const char *)sqlite3_column_text(st, 2), n);
            continue;
        }
        for (int i = 0; i < GW_ORD__COUNT; i++)
            if (!strcmp(k, order_statuses[i]))
                s->orders[i] = n;
    }
    sqlite3_finalize(st);
    return DEPOT_OK;
}

/* Every node's counters, however many the poller has. */
static depot_err collect_nodes(gw_poller *p, struct gw_metrics_snapshot *s)
{
    size_t n = p ? gw_poller_node_count(p) : 0;
    if (n == 0)
        return DEPOT_OK;
    s->nodes = depot_calloc(n, sizeof(*s->nodes));
    if (!s->nodes)
        return DEPOT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (gw_poller_stats(p, i, &s->nodes[s->n_nodes]))
            s->n_nodes++;
    return DEPOT_OK;
}

void gw_metrics_clear(struct gw_metrics_snapshot *s)
{
    depot_free(s->nodes);
    s->nodes = NULL;
    s->n_nodes = 0;
}

depot_err gw_metrics_collect(gw_ledger *l, const char *ledger_path, long long max_entries,
                             gw_poller *p, gw_uplink *u, struct gw_metrics_snapshot *s)
{
    depot_err e;
    memset(s, 0, sizeof(*s));
    s->dealer = gw_ledger_dealer(l);
    s->ledger_id = gw_ledger_id(l);
    e = collect_nodes(p, s);
    if (e != DEPOT_OK)
        return e;
    if (u)
        gw_uplink_stats(u, &s->link);
    s->outbox_depth = gw_ledger_outbox_count(l);
    s->outbox_max = max_entries;
    s->ledger_bytes = ledger_path ? ledger_bytes(ledger_path) : 0;
    gw_ledger_lock(l);
    e = ledger_counts(l, s);
    gw_ledger_unlock(l);
    if (e == DEPOT_OK)
        e = gw_movements_waiting(l, &s->movements_waiting, &s->movements_cursor);
    if (e == DEPOT_OK)
        s->alerts_open = gw_alerts_open(l);
    if (e != DEPOT_OK)
        gw_metrics_clear(s);
    return e;
}

/* ---- rendering ---- */

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, const char *name, const char *type, const char *help, long long v)
{
    head(f, name, type, help);
    fprintf(f, "%s %lld\n", name, v);
}

/* A label value with \, " and newline escaped. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void render_nodes(const struct gw_metrics_snapshot *s, FILE *f)
{
    head(f, "depot_gw_polls_total", "counter",
         "Polls of a node started since the gateway started.");
    for (size_t i = 0; i < s->n_nodes; i++) {
        fputs("depot_gw_polls_total{node=\"", f);
        label(f, s->nodes[i].name);
        fprintf(f, "\"} %lld\n", s->nodes[i].polls);
    }
    head(f, "depot_gw_faults_total", "counter", "Failed polls of a node by reason.");
    for (size_t i = 0; i < s->n_nodes; i++)
        for (int r = 0; r < GW_FAULT_REASONS__COUNT; r++) {
            fputs("depot_gw_faults_total{node=\"", f);
            label(f, s->nodes[i].name);
            fprintf(f, "\",reason=\"%s\"} %lld\n", gw_poller_fault_reason(r),
                    s->nodes[i].faults[r]);
        }
    head(f, "depot_gw_line_reopens_total", "counter",
         "Times the RTU line of a node was closed and opened again after failing exchanges.");
    for (size_t i = 0; i < s->n_nodes; i++) {
        fputs("depot_gw_line_reopens_total{node=\"", f);
        label(f, s->nodes[i].name);
        fprintf(f, "\"} %lld\n", s->nodes[i].line_reopens);
    }
    head(f, "depot_gw_node_faulted", "gauge", "1 while the node is in the fault state, else 0.");
    for (size_t i = 0; i < s->n_nodes; i++) {
        fputs("depot_gw_node_faulted{node=\"", f);
        label(f, s->nodes[i].name);
        fprintf(f, "\",kind=\"%s\"} %d\n", s->nodes[i].scanner ? "scanner" : "scale",
                s->nodes[i].faulted ? 1 : 0);
    }
}

static void render_ledger(const struct gw_metrics_snapshot *s, FILE *f)
{
    one(f, "depot_gw_outbox_depth", "gauge", "Messages in the outbox waiting for the hub's ack.",
        s->outbox_depth);
    one(f, "depot_gw_outbox_max_entries", "gauge", "The outbox bound ([outbox] max_entries).",
        s->outbox_max);
    one(f, "depot_gw_outbox_aside_total", "counter",
        "Outbox entries that could never be sent, moved to the table outbox_aside.",
        s->outbox_aside);
    one(f, "depot_gw_ledger_bytes", "gauge", "Size of the ledger file plus its WAL, bytes.",
        s->ledger_bytes);
    head(f, "depot_gw_scans_total", "counter", "Scan events recorded in the ledger by outcome.");
    fprintf(f, "depot_gw_scans_total{outcome=\"applied\"} %lld\n", s->scans_applied);
    fprintf(f, "depot_gw_scans_total{outcome=\"refused\"} %lld\n", s->scans_refused);
    head(f, "depot_gw_scans_refused_total", "counter",
         "Refused scan events recorded in the ledger by reason.");
    for (int i = 0; i < GW_REFUSED__COUNT; i++)
        fprintf(f, "depot_gw_scans_refused_total{reason=\"%s\"} %lld\n", gw_scan_refusal_name(i),
                s->scans_refused_by[i]);
    head(f, "depot_gw_orders", "gauge", "Orders in the ledger by status.");
    for (int i = 0; i < GW_ORD__COUNT; i++)
        fprintf(f, "depot_gw_orders{status=\"%s\"} %lld\n", order_statuses[i], s->orders[i]);
    one(f, "depot_gw_movements_waiting", "gauge",
        "Ledger movements not yet queued in an up/movements batch.", s->movements_waiting);
    one(f, "depot_gw_movements_cursor", "gauge",
        "Highest movement id queued for the hub (meta.movements_sent).", s->movements_cursor);
    one(f, "depot_gw_alerts_open", "gauge", "Alerts from the hub not resolved (open_alerts).",
        s->alerts_open);
}

static void render_link(const struct gw_metrics_snapshot *s, FILE *f)
{
    one(f, "depot_gw_mqtt_connected", "gauge", "1 while connected to the broker, else 0.",
        s->link.connected ? 1 : 0);
    one(f, "depot_gw_messages_sent_total", "counter",
        "Stream messages published to the hub, resends included.", s->link.sent);
    one(f, "depot_gw_messages_resent_total", "counter",
        "Stream messages published again (no ack in time, or after a reconnect).", s->link.resent);
    one(f, "depot_gw_messages_acked_total", "counter", "Outbox entries deleted by the hub's acks.",
        s->link.acked);
}

void gw_metrics_render(const struct gw_metrics_snapshot *s, FILE *f)
{
    head(f, "depot_gw_info", "gauge", "This gateway's dealer and ledger id (always 1).");
    fputs("depot_gw_info{dealer=\"", f);
    label(f, s->dealer ? s->dealer : "");
    fputs("\",ledger=\"", f);
    label(f, s->ledger_id ? s->ledger_id : "");
    fputs("\"} 1\n", f);
    render_nodes(s, f);
    render_ledger(s, f);
    render_link(s, f);
}

depot_err gw_metrics_write(const char *path, const struct gw_metrics_snapshot *s)
{
    char tmp[4200];
    FILE *f;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(f = fopen(tmp, "w"))) {
        LOG_WARN("metrics: cannot write %s: %s", tmp, strerror(errno));
        return DEPOT_ERR_IO;
    }
    gw_metrics_render(s, f);
    if (ferror(f) | fclose(f)) {
        LOG_WARN("metrics: writing %s failed: %s", tmp, strerror(errno));
        remove(tmp);
        return DEPOT_ERR_IO;
    }
    if (rename(tmp, path) != 0) {
        LOG_WARN("metrics: cannot rename %s to %s: %s", tmp, path, strerror(errno));
        remove(tmp);
        return DEPOT_ERR_IO;
    }
    return DEPOT_OK;
}
