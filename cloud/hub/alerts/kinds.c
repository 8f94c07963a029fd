/*
 * The alert kinds' names and an alert's message (the payload published on
 * depot/alerts/v1/... and to the dealer). A leaf: it uses nothing of the engine.
 */
#include <stdio.h>
#include <string.h>

#include "depot/digest.h"
#include "alerts/private.h"

static const char *const kind_names[HUB_AK__COUNT] = {
    [HUB_AK_LOW_STOCK] = "low_stock",
    [HUB_AK_STOCKOUT_FORECAST] = "stockout_forecast",
    [HUB_AK_SALES_SPIKE] = "sales_spike",
    [HUB_AK_GATEWAY_OFFLINE] = "gateway_offline",
    [HUB_AK_NODE_FAULT] = "node_fault",
    [HUB_AK_SHRINKAGE] = "shrinkage",
    [HUB_AK_CONTRACT_EXPIRING] = "contract_expiring",
    [HUB_AK_OUTBOX_FILLING] = "outbox_filling",
    [HUB_AK_TASK_OVERDUE] = "task_overdue",
    [HUB_AK_LEDGER_BREAK] = "ledger_break",
    [HUB_AK_DIVERSION] = "diversion",
    [HUB_AK_DOUBLE_PICK] = "double_pick",
};

_Static_assert(HUB_AK__COUNT <= HUB_METRICS_ALERT_KINDS, "raise HUB_METRICS_ALERT_KINDS");

const char *hub_alert_kind_name(enum hub_alert_kind k)
{
    return (unsigned)k < HUB_AK__COUNT ? kind_names[k] : NULL;
}

int hub_alert_kind_from_name(const char *name)
{
    for (int k = 0; name && k < HUB_AK__COUNT; k++)
        if (!strcmp(name, kind_names[k]))
            return k;
    return -1;
}

depot_err hub_alerts_encode(const struct hub_alert_row *r, long long now, char **payload,
                            size_t *len)
{
    depot_msg m;
    struct depot_alert_body *b = &m.body.alert;
    memset(&m, 0, sizeof(m));
    m.v = DEPOT_MSG_VERSION;
    m.type = DEPOT_MSG_ALERT;
    m.ts = now;
    snprintf(m.dealer, sizeof(m.dealer), "%s", r->dealer);
    b->alert = r->id;
    snprintf(b->kind, sizeof(b->kind), "%s", r->kind);
    snprintf(b->sku, sizeof(b->sku), "%s", r->sku);
    snprintf(b->severity, sizeof(b->severity), "%s", r->severity);
    snprintf(b->status, sizeof(b->status), "%s", r->status);
    snprintf(b->text, sizeof(b->text), "%s", r->text);
    snprintf(b->action, sizeof(b->action), "%s", r->action);
    return depot_msg_encode(&m, payload, len);
}

char *hub_alerts_dealer_payload(const char *payload, size_t len, size_t *out_len)
{
    depot_msg m;
    char *cut, *out = (char *)payload;
    *out_len = len;
    if (depot_msg_decode(payload, len, &m, NULL, 0) != DEPOT_OK)
        return out;
    if (m.type == DEPOT_MSG_ALERT && (cut = strstr(m.body.alert.action, "; or transfer"))) {
        *cut = '\0'; /* alerts_action_text: "replenish N; or transfer Q from D (K km)" */
        if (depot_msg_encode(&m, &out, out_len) != DEPOT_OK)
            out = NULL;
    }
    depot_msg_clear(&m);
    return out;
}

/* The digest of a verdict's severity and text (never 0). */
uint64_t alerts_verdict_hash(const struct verdict *v)
{
    return depot_digest_str(v->text, depot_digest_str(v->severity, DEPOT_DIGEST_INIT)) |
           1; /* never 0 */
}
