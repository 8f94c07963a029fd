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
    atomic_ullong orders_rejected[HUB_OR__COUNT];
    atomic_ullong latency_ms[2], latency_n[2]; /* [0] stages, [1] auto */
};

static const char *const order_reason_names[HUB_OR__COUNT] = {
    [HUB_OR_BAD_CERT] = "bad_certificate",        [HUB_OR_WRONG_DEALER] = "wrong_dealer",
    [HUB_OR_BAD_SIGNATURE] = "bad_signature",     [HUB_OR_BAD_DOCUMENT] = "bad_document",
    [HUB_OR_UNKNOWN_BARCODE] = "unknown_barcode", [HUB_OR_QTY_RANGE] = "qty_out_of_range",
    [HUB_OR_OVER_CREDIT] = "over_credit_limit",   [HUB_OR_APPROVER] = "approver",
};

const char *hub_order_reason_name(enum hub_order_reason r)
{
    return (unsigned)r < HUB_OR__COUNT ? order_reason_names[r] : "unknown";
}

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
    [HUB_C_ORDERS_RECEIVED] = {"depot_hub_orders_received_total", "Order messages applied"},
    [HUB_C_ORDERS_AUTO_APPROVED] = {"depot_hub_orders_auto_approved_total",
                                    "Orders approved at once by the auto-approval rules"},
    [HUB_C_ORDERS_APPROVED] = {"depot_hub_orders_approved_total",
                               "Orders approved (auto or at the last stage)"},
    [HUB_C_ORDERS_PENDING] = {"depot_hub_orders_pending_total",
                              "Orders routed to the approval stages"},
    [HUB_C_ORDERS_REPLAYS] = {"depot_hub_orders_replays_total",
                              "Order ids seen again in a new message (ignored)"},
    [HUB_C_ORDERS_ESCALATED] = {"depot_hub_orders_escalated_total",
                                "Pending orders escalated past their stage deadline"},
    [HUB_C_DECISIONS_SENT] = {"depot_hub_decisions_sent_total",
                              "Decisions published on down/decision (with repeats)"},
    [HUB_C_DECISIONS_DELIVERED] = {"depot_hub_decisions_delivered_total",
                                   "Decisions the gateway confirmed"},
    [HUB_C_CATALOGS_SENT] = {"depot_hub_catalogs_sent_total", "Catalogs published to dealers"},
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
    for (int i = 0; i < HUB_OR__COUNT; i++)
        atomic_init(&m->orders_rejected[i], 0);
    for (int i = 0; i < 2; i++) {
        atomic_init(&m->latency_ms[i], 0);
        atomic_init(&m->latency_n[i], 0);
    }
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

void hub_metrics_order_rejected(hub_metrics *m, enum hub_order_reason r)
{
    atomic_fetch_add_explicit(&m->orders_rejected[r], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_orders_rejected(const hub_metrics *m, enum hub_order_reason r)
{
    return atomic_load_explicit(&m->orders_rejected[r], memory_order_relaxed);
}

void hub_metrics_approval_latency(hub_metrics *m, bool automatic, long long ms)
{
    atomic_fetch_add_explicit(&m->latency_ms[automatic], (unsigned long long)(ms > 0 ? ms : 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_n[automatic], 1, memory_order_relaxed);
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

static size_t render_orders(const hub_metrics *m, char *buf, size_t cap, size_t at)
{
    static const char rej[] = "depot_hub_orders_rejected_total";
    static const char lat[] = "depot_hub_order_approval_seconds";
    static const char *const path[2] = {"stages", "auto"};
    at = put(buf, cap, at, "# HELP %s Orders rejected, by reason\n# TYPE %s counter\n", rej, rej);
    for (int r = 0; r < HUB_OR__COUNT; r++)
        at = put(buf, cap, at, "%s{reason=\"%s\"} %llu\n", rej,
                 hub_order_reason_name((enum hub_order_reason)r),
                 atomic_load_explicit(&m->orders_rejected[r], memory_order_relaxed));
    at = put(buf, cap, at,
             "# HELP %s Time from an order's creation at the terminal to its approval\n"
             "# TYPE %s summary\n",
             lat, lat);
    for (int i = 1; i >= 0; i--) {
        unsigned long long ms = atomic_load_explicit(&m->latency_ms[i], memory_order_relaxed);
        at = put(buf, cap, at, "%s_sum{path=\"%s\"} %llu.%03llu\n%s_count{path=\"%s\"} %llu\n", lat,
                 path[i], ms / 1000, ms % 1000, lat, path[i],
                 atomic_load_explicit(&m->latency_n[i], memory_order_relaxed));
    }
    return at;
}

depot_err hub_metrics_render(const hub_metrics *m, char **out, size_t *len)
{
    static const char rej[] = "depot_hub_messages_rejected_total";
    size_t cap = 16384, at = 0;
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
    at = render_orders(m, buf, cap, at);
    *out = buf;
    *len = at < cap ? at : cap - 1;
    return DEPOT_OK;
}
