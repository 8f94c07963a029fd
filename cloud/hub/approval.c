/*
 * The approval stages: an order waits at one stage at a time
 * ([approval] stages, in order). An approver acts only for the stages its
 * token lists (none listed: any), an admin for any; both only at the
 * order's CURRENT stage, only while it is pending, and only if that is the
 * stage the approver names (the one it saw: a double click or an approver
 * of two stages never approves the next stage unseen). Approving moves the
 * order to the next stage, or approves it at the last one after checking
 * credit again (other orders may have been approved since). Rejecting needs
 * a reason and ends the order. Each step is one transaction with its audit
 * lines, and sets a new decision that the downlink publishes.
 *
 * A stage that is no longer configured (the config changed while an order
 * waited there) counts as the last: approving it approves the order.
 */
#include <stdio.h>
#include <string.h>

#include "depot/log.h"
#include "orders.h"
#include "ranking/service.h"
#include "webhooks.h"

const char *hub_approval_next_stage(const struct hub_config *cfg, const char *stage)
{
    int i = hub_config_stage_index(cfg, stage);
    return i >= 0 && (size_t)i + 1 < cfg->n_stages ? cfg->stages[i + 1] : NULL;
}

static depot_err decide_final(hub_metrics *metrics, hub_store *s, const struct hub_order *o,
                              const char *actor, long long now)
{
    struct hub_dealer_profile p = {0};
    struct hub_exposure x = {0};
    depot_err err = hub_store_profile_get(s, o->dealer, &p);
    bool over;

    if (err == DEPOT_OK || err == DEPOT_ERR_NOTFOUND)
        err = hub_store_exposure(s, o->dealer, &x);
    if (err != DEPOT_OK)
        return err;
    over = x.open + o->total > p.credit_limit;
    err = over
              ? hub_store_order_set_state(s, o->id, "rejected", "", "over credit limit", now)
              : hub_store_order_set_state(s, o->id, "approved", "", "approved at every stage", now);
    if (err == DEPOT_OK)
        err = over ? hub_audit(s, o->id, o->dealer, "hub", "rejected", "", "over credit limit", now)
                   : hub_audit(s, o->id, o->dealer, actor, "approved", "", "", now);
    if (err == DEPOT_OK && over)
        hub_metrics_order_rejected(metrics, HUB_OR_OVER_CREDIT);
    if (err == DEPOT_OK && !over)
        err = hub_webhook_order_approved(s, o->id, o->dealer, o->total, actor, now);
    if (err == DEPOT_OK && !over) {
        hub_metrics_add(metrics, HUB_C_ORDERS_APPROVED, 1);
        hub_metrics_approval_latency(metrics, false, now - o->created);
    }
    return err;
}

static depot_err approve(const struct hub_config *cfg, hub_metrics *metrics, hub_store *s,
                         const struct hub_order *o, const char *actor, const char *reason,
                         long long now)
{
    const char *next = hub_approval_next_stage(cfg, o->stage);
    depot_err err = hub_audit(s, o->id, o->dealer, actor, "stage-approved", o->stage, reason, now);
    if (err != DEPOT_OK)
        return err;
    if (!next)
        return decide_final(metrics, s, o, actor, now);
    err = hub_store_order_set_state(s, o->id, "pending", next, "", now);
    if (err == DEPOT_OK)
        err = hub_audit(s, o->id, o->dealer, "hub", "stage-pending", next, "", now);
    return err;
}

static depot_err reject(hub_metrics *metrics, hub_store *s, const struct hub_order *o,
                        const char *actor, const char *reason, long long now)
{
    depot_err err = hub_audit(s, o->id, o->dealer, actor, "stage-rejected", o->stage, reason, now);
    if (err == DEPOT_OK)
        err = hub_store_order_set_state(s, o->id, "rejected", o->stage, reason, now);
    if (err == DEPOT_OK)
        err = hub_audit(s, o->id, o->dealer, actor, "rejected", o->stage, reason, now);
    if (err == DEPOT_OK)
        hub_metrics_order_rejected(metrics, HUB_OR_APPROVER);
    return err;
}

/* Checks and acts inside the caller's transaction. */
static depot_err act_in_tx(const struct hub_config *cfg, hub_metrics *metrics, hub_store *s,
                           const struct hub_order *o, const char *stage,
                           const struct hub_token *who, enum hub_act act, const char *reason,
                           long long now)
{
    if (strcmp(o->status, "pending") != 0 || (stage && *stage && strcmp(stage, o->stage) != 0))
        return DEPOT_ERR_STALE;
    if (!hub_token_may_act(who, o->stage))
        return DEPOT_ERR_FORBIDDEN;
    if (act == HUB_ACT_REJECT && (!reason || !*reason))
        return DEPOT_ERR_INVAL;
    LOG_INFO("order %s: %s at stage %s by %s%s%s", o->id,
             act == HUB_ACT_APPROVE ? "approved" : "rejected", o->stage, who->name,
             reason && *reason ? ": " : "", reason ? reason : "");
    if (act == HUB_ACT_APPROVE)
        return approve(cfg, metrics, s, o, who->name, reason ? reason : "", now);
    return reject(metrics, s, o, who->name, reason, now);
}

depot_err hub_approval_act(const struct hub_config *cfg, hub_metrics *metrics, hub_store *s,
                           struct hub_ranking *rk, const char *id, const char *stage,
                           const struct hub_token *who, enum hub_act act, const char *reason,
                           long long now, struct hub_order *after)
{
    struct hub_order o;
    depot_err err = hub_store_begin(s);
    if (err != DEPOT_OK)
        return err;
    err = hub_store_order_get(s, id, &o);
    if (err == DEPOT_OK)
        err = act_in_tx(cfg, metrics, s, &o, stage, who, act, reason, now);
    if (err == DEPOT_ERR_STALE)
        *after = o;
    if (err == DEPOT_OK)
        err = hub_store_order_get(s, id, after);
    if (err == DEPOT_OK && !strcmp(after->status, "approved")) /* it invoices the order */
        err = hub_ranking_note_invoice(rk, s, after->dealer, after->decided_at, after->total);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}
