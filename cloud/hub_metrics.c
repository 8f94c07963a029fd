/*
 * Counters of the hub, one atomic each, rendered as Prometheus text with a
 * HELP line per family. Rejects are one family labelled by reason.
 */
#include "hub_metrics.h"

#include <stdarg.h>
#include <stdio.h>

#include "depot/alloc.h"

struct hub_metrics {
    atomic_ullong c[HUB_C__COUNT];
    atomic_ullong rejected[HUB_REJECT__COUNT];
};

static const struct {
    const char *name, *help;
} families[HUB_C__COUNT] = {
    [HUB_C_RECEIVED] = {"depot_hub_messages_received_total", "Messages received from the broker"},
    [HUB_C_APPLIED] = {"depot_hub_messages_applied_total",
                       "Stream messages (stock, event) applied for the first time"},
    [HUB_C_DUPLICATES] = {"depot_hub_messages_duplicate_total",
                          "Stream messages already applied (acknowledged, not re-applied)"},
    [HUB_C_STALE] = {"depot_hub_messages_stale_total",
                     "Stream messages recorded whose value was older than the stored one"},
    [HUB_C_SNAPSHOTS] = {"depot_hub_snapshots_applied_total", "Snapshots applied"},
    [HUB_C_STATES] = {"depot_hub_states_applied_total", "Gateway online/offline states applied"},
    [HUB_C_ACKS_SENT] = {"depot_hub_acks_sent_total", "Acknowledgements published on down/ack"},
    [HUB_C_DROPPED] = {"depot_hub_messages_dropped_total",
                       "Accepted messages dropped (queue full or database failure)"},
    [HUB_C_BATCHES] = {"depot_hub_ingest_batches_total", "Ingest transactions committed"},
    [HUB_C_DB_ERRORS] = {"depot_hub_ingest_db_errors_total", "Ingest transactions that failed"},
    [HUB_C_MQTT_CONNECTS] = {"depot_hub_mqtt_connects_total", "Successful broker connections"},
    [HUB_C_API_REQUESTS] = {"depot_hub_api_requests_total", "HTTP requests served"},
    [HUB_C_API_ERRORS] = {"depot_hub_api_errors_total", "HTTP responses with status >= 400"},
};

hub_metrics *hub_metrics_new(void)
{
    hub_metrics *m = depot_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    for (int i = 0; i < HUB_C__COUNT; i++)
        atomic_init(&m->c[i], 0);
    for (int i = 0; i < HUB_REJECT__COUNT; i++)
        atomic_init(&m->rejected[i], 0);
    return m;
}

void hub_metrics_free(hub_metrics *m)
{
    depot_free(m);
}

void hub_metrics_add(hub_metrics *m, enum hub_counter c, unsigned long long n)
{
    atomic_fetch_add_explicit(&m->c[c], n, memory_order_relaxed);
}

void hub_metrics_reject(hub_metrics *m, enum hub_reject r)
{
    atomic_fetch_add_explicit(&m->rejected[r], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_get(const hub_metrics *m, enum hub_counter c)
{
    return atomic_load_explicit(&m->c[c], memory_order_relaxed);
}

unsigned long long hub_metrics_rejected(const hub_metrics *m, enum hub_reject r)
{
    return atomic_load_explicit(&m->rejected[r], memory_order_relaxed);
}

__attribute__((format(printf, 4, 5))) static size_t put(char *buf, size_t cap, size_t at,
                                                        const char *fmt, ...)
{
    va_list ap;
    int n;
    if (at >= cap)
        return at;
    va_start(ap, fmt);
    n = vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
    return n > 0 ? at + (size_t)n : at;
}

depot_err hub_metrics_render(const hub_metrics *m, char **out, size_t *len)
{
    static const char rej[] = "depot_hub_messages_rejected_total";
    size_t cap = 8192, at = 0;
    char *buf = depot_malloc(cap);
    if (!buf)
        return DEPOT_ERR_NOMEM;
    for (int i = 0; i < HUB_C__COUNT; i++) {
        const char *name = families[i].name;
        at = put(buf, cap, at, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, families[i].help,
                 name, name, hub_metrics_get(m, (enum hub_counter)i));
    }
    at = put(buf, cap, at, "# HELP %s Messages rejected, by reason\n# TYPE %s counter\n", rej, rej);
    for (int r = HUB_REJECT_NONE + 1; r < HUB_REJECT__COUNT; r++)
        at = put(buf, cap, at, "%s{reason=\"%s\"} %llu\n", rej, hub_reject_name((enum hub_reject)r),
                 hub_metrics_rejected(m, (enum hub_reject)r));
    *out = buf;
    *len = at < cap ? at : cap - 1;
    return DEPOT_OK;
}
