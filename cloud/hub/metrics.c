/*
 * Counters of the hub, one atomic each, rendered as Prometheus text with a
 * HELP line per family. Rejects are one family labelled by reason. API latency
 * is a histogram per endpoint class (fixed buckets, 1 ms .. 2.5 s, counted in
 * microseconds); messages applied are also counted per message type.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/msg.h"

/* API latency histogram bounds, microseconds (rendered as seconds); +Inf is implicit. */
static const long long api_bounds_us[] = {1000, 5000, 10000, 25000, 50000, 100000, 250000,
                                          500000, 1000000, 2500000};
#define API_BUCKETS (sizeof(api_bounds_us) / sizeof(api_bounds_us[0]))

struct hub_metrics {
    atomic_ullong c[HUB_C__COUNT];
    atomic_ullong rejected[HUB_REJECT__COUNT];
    atomic_ullong skipped[HUB_REJECT__COUNT]; /* rejected stream messages acked as skipped */
    atomic_ullong orders_rejected[HUB_OR__COUNT];
    atomic_ullong movements_refused[HUB_MR__COUNT];
    atomic_ullong chain[HUB_CHAIN_OUTCOMES];
    atomic_ullong latency_ms[2], latency_n[2]; /* [0] stages, [1] auto */
    /* API latency per endpoint class: cumulative buckets are computed when rendering */
    atomic_ullong api_bucket[HUB_API__COUNT][API_BUCKETS + 1]; /* [API_BUCKETS]: above all */
    atomic_ullong api_sum_us[HUB_API__COUNT];
    atomic_ullong applied_type[DEPOT_MSG__COUNT];
    atomic_llong alerts_open[HUB_METRICS_ALERT_KINDS]; /* gauge by enum hub_alert_kind */
    _Atomic(const char *) alert_kind[HUB_METRICS_ALERT_KINDS]; /* its label; NULL: not shown */
};

static const char *const order_reason_names[HUB_OR__COUNT] = {
    [HUB_OR_BAD_CERT] = "bad_certificate",        [HUB_OR_WRONG_DEALER] = "wrong_dealer",
    [HUB_OR_BAD_SIGNATURE] = "bad_signature",     [HUB_OR_BAD_DOCUMENT] = "bad_document",
    [HUB_OR_UNKNOWN_BARCODE] = "unknown_barcode", [HUB_OR_QTY_RANGE] = "qty_out_of_range",
    [HUB_OR_OVER_CREDIT] = "over_credit_limit",   [HUB_OR_APPROVER] = "approver",
    [HUB_OR_WRONG_ORDER_ID] = "wrong_order_id",
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
    [HUB_C_MQTT_CONNECT_FAILURES] = {"depot_hub_mqtt_connect_failures_total",
                                     "Broker connection attempts refused or failed"},
    [HUB_C_API_REQUESTS] = {"depot_hub_api_requests_total", "HTTP requests served"},
    [HUB_C_API_ERRORS] = {"depot_hub_api_errors_total", "HTTP responses with status >= 400"},
    [HUB_C_API_LOGIN_FAILED] = {"depot_hub_logins_failed_total",
                                "logins refused: unknown user, wrong password or disabled"},
    [HUB_C_API_LOGIN_LIMITED] = {"depot_hub_logins_limited_total",
                                 "logins refused unhashed: too many failures of the account or "
                                 "address"},
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
    [HUB_C_ALERTS_RAISED] = {"depot_hub_alerts_raised_total", "Alerts opened"},
    [HUB_C_ALERTS_RESOLVED] = {"depot_hub_alerts_resolved_total",
                               "Alerts resolved (automatically or by hand)"},
    [HUB_C_ALERTS_PUBLISHED] = {"depot_hub_alerts_published_total",
                                "Alert changes published on MQTT"},
    [HUB_C_MOVEMENTS_DEFERRED] = {"depot_hub_movements_deferred_total",
                                  "Movements batches that came before an earlier batch of their "
                                  "stream: left for the gateway to resend"},
    [HUB_C_TRAINING_FILES_STORED] = {"depot_hub_training_files_stored_total",
                                     "Training files uploaded and stored"},
    [HUB_C_TRAINING_FILES_REFUSED] = {"depot_hub_training_files_refused_total",
                                      "Training uploads refused (too large, not a PDF, MP4 or "
                                      "WebM, or not stored)"},
    [HUB_C_CONTRACTS_SIGNED] = {"depot_hub_contracts_signed_total",
                                "Contracts signed by their dealer's gateway and kept"},
    [HUB_C_SIGNATURES_REFUSED] = {"depot_hub_contract_signatures_refused_total",
                                  "Contract signatures refused: forged, another dealer's or "
                                  "another file's"},
    [HUB_C_STATEMENTS_FROZEN] = {"depot_hub_statements_frozen_total",
                                 "Rebate statements frozen and signed at a period's close"},
    [HUB_C_STATEMENTS_REFUSED] = {"depot_hub_statement_requests_refused_total",
                                  "Closes of periods, disputes and answers of rebate statements "
                                  "refused: a period not ended or not a month, an unknown line, "
                                  "not the dealer's user, answered already"},
    [HUB_C_WEBHOOKS_DELIVERED] = {"depot_hub_webhooks_delivered_total",
                                  "Webhook deliveries the receiver answered with 2xx"},
    [HUB_C_WEBHOOKS_FAILED] = {"depot_hub_webhooks_failed_attempts_total",
                               "Webhook attempts that failed: an error status, a refused or "
                               "timed-out connection"},
    [HUB_C_WEBHOOKS_DEAD] = {"depot_hub_webhooks_dead_total",
                             "Webhook deliveries given up after [webhooks] dead_after_h"},
    [HUB_C_CODES_SCANNED] = {"depot_hub_item_codes_scanned_total",
                             "Items received or picked at a terminal by their own code"},
    [HUB_C_CODES_DIVERTED] = {"depot_hub_item_codes_diverted_total",
                              "Item codes scanned at a dealer other than the one they were "
                              "shipped to (a diversion alert)"},
    [HUB_C_CODES_UNKNOWN] = {"depot_hub_item_codes_unknown_total",
                             "Item codes scanned that no shipment registered"},
    [HUB_C_CODES_PICKED_TWICE] = {"depot_hub_item_codes_picked_twice_total",
                                  "Item codes picked out again after a pick (a double_pick "
                                  "alert)"},
};

depot_err hub_metrics_new(hub_metrics **out)
{
    hub_metrics *m = depot_calloc(1, sizeof(*m));
    *out = NULL;
    if (!m)
        return DEPOT_ERR_NOMEM;
    for (int i = 0; i < HUB_C__COUNT; i++)
        atomic_init(&m->c[i], 0);
    for (int i = 0; i < HUB_REJECT__COUNT; i++) {
        atomic_init(&m->rejected[i], 0);
        atomic_init(&m->skipped[i], 0);
    }
    for (int i = 0; i < HUB_OR__COUNT; i++)
        atomic_init(&m->orders_rejected[i], 0);
    for (int i = 0; i < HUB_MR__COUNT; i++)
        atomic_init(&m->movements_refused[i], 0);
    for (int i = 0; i < HUB_CHAIN_OUTCOMES; i++)
        atomic_init(&m->chain[i], 0);
    for (int i = 0; i < 2; i++) {
        atomic_init(&m->latency_ms[i], 0);
        atomic_init(&m->latency_n[i], 0);
    }
    for (int c = 0; c < HUB_API__COUNT; c++) {
        atomic_init(&m->api_sum_us[c], 0);
        for (size_t b = 0; b <= API_BUCKETS; b++)
            atomic_init(&m->api_bucket[c][b], 0);
    }
    for (int t = 0; t < DEPOT_MSG__COUNT; t++)
        atomic_init(&m->applied_type[t], 0);
    for (int k = 0; k < HUB_METRICS_ALERT_KINDS; k++) {
        atomic_init(&m->alerts_open[k], 0);
        atomic_init(&m->alert_kind[k], NULL);
    }
    *out = m;
    return DEPOT_OK;
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

void hub_metrics_skip(hub_metrics *m, enum hub_reject r)
{
    atomic_fetch_add_explicit(&m->skipped[r], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_skipped(const hub_metrics *m, enum hub_reject r)
{
    return atomic_load_explicit(&m->skipped[r], memory_order_relaxed);
}

unsigned long long hub_metrics_get(const hub_metrics *m, enum hub_counter c)
{
    return atomic_load_explicit(&m->c[c], memory_order_relaxed);
}

unsigned long long hub_metrics_rejected(const hub_metrics *m, enum hub_reject r)
{
    return atomic_load_explicit(&m->rejected[r], memory_order_relaxed);
}

void hub_metrics_movements_refused(hub_metrics *m, enum hub_movement_refusal r)
{
    atomic_fetch_add_explicit(&m->movements_refused[r], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_movements_refused_get(const hub_metrics *m,
                                                     enum hub_movement_refusal r)
{
    return atomic_load_explicit(&m->movements_refused[r], memory_order_relaxed);
}

void hub_metrics_chain(hub_metrics *m, int out)
{
    if (out > 0 && out < HUB_CHAIN_OUTCOMES)
        atomic_fetch_add_explicit(&m->chain[out], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_chain_get(const hub_metrics *m, int out)
{
    return out > 0 && out < HUB_CHAIN_OUTCOMES
               ? atomic_load_explicit(&m->chain[out], memory_order_relaxed)
               : 0;
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

/* ---- API latency and messages applied by type ---- */

static const char *const api_class_names[HUB_API__COUNT] = {
    [HUB_API_STOCK] = "stock",       [HUB_API_HISTORY] = "history",
    [HUB_API_DEALERS] = "dealers",   [HUB_API_STREAMS] = "streams",
    [HUB_API_ORDERS] = "orders",     [HUB_API_PAYMENTS] = "payments",
    [HUB_API_CATALOG] = "catalog",   [HUB_API_ALERTS] = "alerts",
    [HUB_API_RANKING] = "ranking",   [HUB_API_OTHER] = "api_other",
    [HUB_API_METRICS] = "metrics",   [HUB_API_HEALTHZ] = "healthz",
    [HUB_API_DASHBOARD] = "dashboard",
};

void hub_metrics_api_latency(hub_metrics *m, enum hub_api_class c, long long us)
{
    size_t b = 0;
    if ((unsigned)c >= HUB_API__COUNT)
        c = HUB_API_OTHER;
    if (us < 0)
        us = 0;
    while (b < API_BUCKETS && us > api_bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&m->api_bucket[c][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->api_sum_us[c], (unsigned long long)us, memory_order_relaxed);
}

void hub_metrics_applied_type(hub_metrics *m, int type)
{
    if (type >= 0 && type < DEPOT_MSG__COUNT)
        atomic_fetch_add_explicit(&m->applied_type[type], 1, memory_order_relaxed);
}

unsigned long long hub_metrics_applied_of_type(const hub_metrics *m, int type)
{
    if (type < 0 || type >= DEPOT_MSG__COUNT)
        return 0;
    return atomic_load_explicit(&m->applied_type[type], memory_order_relaxed);
}

void hub_metrics_alerts_open(hub_metrics *m, int kind, const char *label, long long n)
{
    if (kind < 0 || kind >= HUB_METRICS_ALERT_KINDS || !label)
        return;
    atomic_store_explicit(&m->alerts_open[kind], n, memory_order_relaxed);
    atomic_store_explicit(&m->alert_kind[kind], label, memory_order_release);
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

/* One class's histogram: cumulative buckets, +Inf, sum (seconds), count. */
static size_t render_api_class(const hub_metrics *m, int c, char *buf, size_t cap, size_t at)
{
    static const char lat[] = "depot_hub_api_request_seconds";
    const char *name = api_class_names[c];
    unsigned long long cum = 0, us;
    for (size_t b = 0; b < API_BUCKETS; b++) {
        cum += atomic_load_explicit(&m->api_bucket[c][b], memory_order_relaxed);
        at = put(buf, cap, at, "%s_bucket{class=\"%s\",le=\"%g\"} %llu\n", lat, name,
                 (double)api_bounds_us[b] / 1e6, cum);
    }
    cum += atomic_load_explicit(&m->api_bucket[c][API_BUCKETS], memory_order_relaxed);
    us = atomic_load_explicit(&m->api_sum_us[c], memory_order_relaxed);
    return put(buf, cap, at,
               "%s_bucket{class=\"%s\",le=\"+Inf\"} %llu\n%s_sum{class=\"%s\"} %llu.%06llu\n"
               "%s_count{class=\"%s\"} %llu\n",
               lat, name, cum, lat, name, us / 1000000, us % 1000000, lat, name, cum);
}

static size_t render_issue4(const hub_metrics *m, char *buf, size_t cap, size_t at)
{
    static const char lat[] = "depot_hub_api_request_seconds";
    static const char app[] = "depot_hub_messages_applied_by_type_total";
    at = put(buf, cap, at,
             "# HELP %s HTTP request handling time by endpoint class\n# TYPE %s histogram\n", lat,
             lat);
    for (int c = 0; c < HUB_API__COUNT; c++)
        at = render_api_class(m, c, buf, cap, at);
    at = put(buf, cap, at,
             "# HELP %s Messages applied for the first time, by message type\n"
             "# TYPE %s counter\n",
             app, app);
    for (int t = 0; t < DEPOT_MSG__COUNT; t++)
        if (depot_msg_is_stream((depot_msg_type)t) || t == DEPOT_MSG_SNAPSHOT ||
            t == DEPOT_MSG_STATE || t == DEPOT_MSG_OUTBOX)
            at = put(buf, cap, at, "%s{type=\"%s\"} %llu\n", app,
                     depot_msg_type_name((depot_msg_type)t), hub_metrics_applied_of_type(m, t));
    return at;
}

static size_t render_alerts(const hub_metrics *m, char *buf, size_t cap, size_t at)
{
    static const char open[] = "depot_hub_alerts_open";
    at = put(buf, cap, at, "# HELP %s Live (open or acknowledged) alerts, by kind\n# TYPE %s gauge\n",
             open, open);
    for (int k = 0; k < HUB_METRICS_ALERT_KINDS; k++) {
        const char *label = atomic_load_explicit(&m->alert_kind[k], memory_order_acquire);
        if (label)
            at = put(buf, cap, at, "%s{kind=\"%s\"} %lld\n", open, label,
                     atomic_load_explicit(&m->alerts_open[k], memory_order_relaxed));
    }
    return at;
}

/* Rejected stream messages recorded as applied-but-skipped, so the stream's ack moves on. */
static size_t render_skipped(const hub_metrics *m, char *buf, size_t cap, size_t at)
{
    static const char sk[] = "depot_hub_messages_skipped_total";
    at = put(buf, cap, at,
             "# HELP %s Stream messages rejected for good and acknowledged as skipped, by "
             "reason\n# TYPE %s counter\n",
             sk, sk);
    for (int r = HUB_REJECT_NONE + 1; r < HUB_REJECT__COUNT; r++)
        at = put(buf, cap, at, "%s{reason=\"%s\"} %llu\n", sk, hub_reject_name((enum hub_reject)r),
                 hub_metrics_skipped(m, (enum hub_reject)r));
    return at;
}

/* Movements batches recorded but not applied, whole (store/store.h), by reason. */
static size_t render_movements(const hub_metrics *m, char *buf, size_t cap, size_t at)
{
    static const char mr[] = "depot_hub_movements_refused_total";
    static const char *const names[HUB_MR__COUNT] = {[HUB_MR_STOCK_MISMATCH] = "stock_mismatch",
                                                     [HUB_MR_FORGED] = "forged_chain",
                                                     [HUB_MR_UNCHAINED] = "unchained"};
    static const char ch[] = "depot_hub_ledger_batches_total";
    static const char *const outs[HUB_CHAIN_OUTCOMES] = {NULL,   "linked", "started",   "unchained",
                                                         "fork", "gap",    "downgrade", "forged"};
    at = put(buf, cap, at,
             "# HELP %s Movements batches refused whole (none of their movements applied), by "
             "reason\n# TYPE %s counter\n",
             mr, mr);
    for (int r = 0; r < HUB_MR__COUNT; r++)
        at = put(buf, cap, at, "%s{reason=\"%s\"} %llu\n", mr, names[r],
                 hub_metrics_movements_refused_get(m, (enum hub_movement_refusal)r));
    at = put(buf, cap, at,
             "# HELP %s Movements batches by what their chain did at the hub (ledger_chain.h)\n"
             "# TYPE %s counter\n",
             ch, ch);
    for (int o = 1; o < HUB_CHAIN_OUTCOMES; o++)
        at =
            put(buf, cap, at, "%s{result=\"%s\"} %llu\n", ch, outs[o], hub_metrics_chain_get(m, o));
    return at;
}

depot_err hub_metrics_render(const hub_metrics *m, char **out, size_t *len)
{
    static const char rej[] = "depot_hub_messages_rejected_total";
    size_t cap = 65536, at = 0;
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
    at = render_skipped(m, buf, cap, at);
    at = render_movements(m, buf, cap, at);
    at = render_orders(m, buf, cap, at);
    at = render_issue4(m, buf, cap, at);
    at = render_alerts(m, buf, cap, at);
    *out = buf;
    *len = at < cap ? at : cap - 1;
    return DEPOT_OK;
}
