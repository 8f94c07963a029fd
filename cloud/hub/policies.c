/*
 * Policies and promotions pushed to dealers (policies.h).
 *
 * A policy's targets are fixed when it is published: a dealer heard of or
 * given a profile later is not one (publish again to reach it). Each
 * target's down/policy is published from the due list by the ingest
 * worker's tick, so a publish, a re-push or an acknowledgement made through
 * the API (any hub) goes out from the hub that holds the broker link at its
 * next tick, and a broker away only delays it: the mark stays until a
 * publish of everything it covered succeeded.
 */
#include "policies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "contracts.h"

#define PAGE 1000

void hub_policies_date(long long ms, char out[DEPOT_DATE_LEN + 1])
{
    depot_date_utc(ms, out);
}

/* ---- checks ---- */

/* Printable text without control characters (the notice goes to a display). */
static bool text_ok(const char *s, bool ascii)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f || (ascii && *c > 0x7e))
            return false;
    return true;
}

static bool policy_ok(const struct hub_policy *p, char *why, size_t len)
{
    if (!*p->title || !text_ok(p->title, false)) {
        snprintf(why, len, "title: 1 to %d characters, no control characters",
                 DEPOT_POLICY_TITLE_MAX);
        return false;
    }
    if (!*p->notice || !text_ok(p->notice, true)) {
        snprintf(why, len, "notice: 1 to %d printable ASCII characters (the terminal's line)",
                 DEPOT_POLICY_NOTICE_MAX);
        return false;
    }
    if (!depot_date_valid(p->valid_from) || !depot_date_valid(p->valid_to) ||
        strcmp(p->valid_from, p->valid_to) > 0) {
        snprintf(why, len, "valid_from and valid_to: YYYY-MM-DD, from not after to");
        return false;
    }
    return hub_target_ok(p->target_kind, p->target, why, len);
}

bool hub_target_ok(const char *kind, const char *value, char *why, size_t len)
{
    if (strcmp(kind, "all") && strcmp(kind, "region") && strcmp(kind, "tier") &&
        strcmp(kind, "list")) {
        snprintf(why, len, "target: all, region, tier or list");
        return false;
    }
    if (strcmp(kind, "all") != 0 && !*value) {
        snprintf(why, len, "target: a %s needs its value", kind);
        return false;
    }
    return true;
}

/* ---- targets ---- */

static bool target_add(struct hub_targets *t, const char *id)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        void *ids = depot_realloc(t->ids, cap * sizeof(*t->ids));
        if (!ids) {
            t->nomem = true;
            return false;
        }
        t->ids = ids;
        t->cap = cap;
    }
    snprintf(t->ids[t->n++], DEPOT_DEALER_MAX + 1, "%s", id);
    return true;
}

static int known_row(void *arg, const struct hub_dealer_row *row)
{
    return !target_add(arg, row->dealer);
}

/* Every dealer the hub knows, page by page. */
static depot_err all_known(hub_store *s, struct hub_targets *t)
{
    char after[DEPOT_DEALER_MAX + 1] = "";
    size_t before;
    depot_err err;
    do {
        before = t->n;
        err = hub_store_dealers_known(s, after, PAGE, known_row, t);
        if (err == DEPOT_OK && t->nomem)
            err = DEPOT_ERR_NOMEM;
        if (t->n > before)
            snprintf(after, sizeof(after), "%s", t->ids[t->n - 1]);
    } while (err == DEPOT_OK && t->n - before == PAGE);
    return err;
}

/* Keeps the dealers whose profile has region or tier equal to value. */
static depot_err filter_profile(hub_store *s, struct hub_targets *t, bool region, const char *value)
{
    size_t kept = 0;
    struct hub_dealer_profile pr;
    for (size_t i = 0; i < t->n; i++) {
        depot_err err = hub_store_profile_get(s, t->ids[i], &pr);
        if (err == DEPOT_ERR_NOTFOUND)
            continue;
        if (err != DEPOT_OK)
            return err;
        if (!strcmp(region ? pr.region : pr.tier, value))
            memmove(t->ids[kept++], t->ids[i], sizeof(t->ids[0]));
    }
    t->n = kept;
    return DEPOT_OK;
}

/* The ids of a list, each once; false with why for one that is not an id. */
static bool parse_list(const char *list, struct hub_targets *t, char *why, size_t len)
{
    char buf[HUB_POLICY_TARGET_MAX + 1], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *id = strtok_r(buf, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
        bool seen = false;
        while (*id == ' ')
            id++;
        if (!depot_dealer_id_valid(id)) {
            snprintf(why, len, "target: \"%.40s\" is not a dealer id (" DEPOT_ID_RULE ")", id);
            return false;
        }
        for (size_t i = 0; i < t->n && !seen; i++)
            seen = !strcmp(t->ids[i], id);
        if (!seen && !target_add(t, id))
            return true; /* t->nomem */
    }
    return true;
}

depot_err hub_targets_resolve(hub_store *s, const char *kind, const char *value,
                              struct hub_targets *t, char *why, size_t len)
{
    if (!strcmp(kind, "list"))
        return parse_list(value, t, why, len) ? (t->nomem ? DEPOT_ERR_NOMEM : DEPOT_OK)
                                              : DEPOT_ERR_INVAL;
    depot_err err = all_known(s, t);
    if (err == DEPOT_OK && strcmp(kind, "all") != 0)
        err = filter_profile(s, t, !strcmp(kind, "region"), value);
    return err;
}

void hub_targets_free(struct hub_targets *t)
{
    depot_free(t->ids);
    memset(t, 0, sizeof(*t));
}

/* ---- publish, re-push, marks ---- */

depot_err hub_policies_publish(hub_store *s, struct hub_policy *p, long long now, size_t *n_targets,
                               char *why, size_t why_len)
{
    struct hub_targets t = {0};
    depot_err err;

    *n_targets = 0;
    if (!policy_ok(p, why, why_len))
        return DEPOT_ERR_INVAL;
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_targets_resolve(s, p->target_kind, p->target, &t, why, why_len);
    if (err == DEPOT_OK && t.n == 0) {
        snprintf(why, why_len, "no dealer is a target of it");
        err = DEPOT_ERR_NOTFOUND;
    }
    p->created_at = now;
    p->withdrawn_at = 0;
    if (err == DEPOT_OK)
        err = hub_store_policy_add(s, p);
    for (size_t i = 0; err == DEPOT_OK && i < t.n; i++) {
        err = hub_store_reach_add(s, p->id, t.ids[i], now);
        if (err == DEPOT_OK)
            err = hub_store_policy_due_mark(s, t.ids[i], now);
    }
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    else
        *n_targets = t.n;
    depot_free(t.ids);
    return err;
}

struct not_acked {
    struct hub_targets t;
};

static int not_acked_row(void *arg, const struct hub_policy_reach *r)
{
    struct hub_targets *t = arg;
    return r->acked_at == 0 && !target_add(t, r->dealer);
}

depot_err hub_policies_repush(hub_store *s, long long id, long long now, size_t *n)
{
    struct hub_policy p;
    struct hub_targets t = {0};
    depot_err err = hub_store_begin(s);
    *n = 0;
    if (err == DEPOT_OK)
        err = hub_store_policy_get(s, id, &p);
    if (err == DEPOT_OK)
        err = hub_store_reach_list(s, id, not_acked_row, &t);
    if (err == DEPOT_OK && t.nomem)
        err = DEPOT_ERR_NOMEM;
    for (size_t i = 0; err == DEPOT_OK && i < t.n; i++) {
        err = hub_store_reach_pushed(s, id, t.ids[i], now);
        if (err == DEPOT_OK)
            err = hub_store_policy_due_mark(s, t.ids[i], now);
    }
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    else
        *n = t.n;
    depot_free(t.ids);
    return err;
}

depot_err hub_policies_mark(hub_store *s, long long id, const char *dealer,
                            enum hub_reach_mark what, long long now, const char *by,
                            const char *via, bool *changed)
{
    depot_err err = hub_store_reach_mark(s, id, dealer, what, now, by, via, changed);
    if (err == DEPOT_OK && *changed && what == HUB_REACH_ACKED)
        err = hub_store_policy_due_mark(s, dealer, now);
    return err;
}

depot_err hub_policies_on_message(hub_store *s, const depot_msg *m, long long now)
{
    const struct depot_event_body *e = &m->body.event;
    bool delivered, changed = false;
    char by[HUB_ACTOR_MAX + 1], *end;
    long long id;
    depot_err err;

    if (m->type != DEPOT_MSG_EVENT)
        return DEPOT_OK;
    delivered = !strcmp(e->event, "policy_delivered");
    if (!delivered && strcmp(e->event, "policy_ack") != 0)
        return DEPOT_OK;
    id = strtoll(e->reason, &end, 10);
    if (end == e->reason || *end || id <= 0) {
        LOG_WARN("dealer %s: %s for \"%s\", not a policy id: ignored", m->dealer, e->event,
                 e->reason);
        return DEPOT_OK;
    }
    snprintf(by, sizeof(by), "terminal:%s", e->node);
    err = hub_policies_mark(s, id, m->dealer, delivered ? HUB_REACH_DELIVERED : HUB_REACH_ACKED,
                            now, by, "terminal", &changed);
    if (err == DEPOT_ERR_NOTFOUND) {
        LOG_WARN("dealer %s: %s for policy %lld, which it is not a target of: ignored", m->dealer,
                 e->event, id);
        return DEPOT_OK;
    }
    if (err == DEPOT_OK && changed)
        LOG_INFO("policy %lld %s at dealer %s%s%s", id, delivered ? "delivered" : "acknowledged",
                 m->dealer, delivered ? "" : " by ", delivered ? "" : by);
    return err;
}

/* ---- down/policy ---- */

struct policy_msg {
    depot_msg m;
    struct depot_policy_item items[DEPOT_POLICIES_MAX];
};

static int add_policy(void *arg, const struct hub_policy *p, bool acked)
{
    struct policy_msg *pm = arg;
    struct depot_policy_item *it;
    /* a row stored before dates were checked: the encoder would refuse the whole list */
    if (!depot_date_valid(p->valid_to)) {
        LOG_WARN("policy %lld: stored valid_to '%s' is not a date: left out of down/policy", p->id,
                 p->valid_to);
        return 0;
    }
    it = &pm->items[pm->m.body.policy.n_items++];
    memset(it, 0, sizeof(*it));
    it->policy = p->id;
    snprintf(it->title, sizeof(it->title), "%s", p->title);
    snprintf(it->notice, sizeof(it->notice), "%s", p->notice);
    snprintf(it->valid_to, sizeof(it->valid_to), "%s", p->valid_to);
    it->acked = acked;
    return pm->m.body.policy.n_items >= DEPOT_POLICIES_MAX;
}

static depot_err publish_dealer(hub_store *s, const char *dealer, const char *today, long long now,
                                hub_publish_fn publish, void *ctx)
{
    struct policy_msg pm;
    char topic[128], *payload = NULL;
    size_t len;
    depot_err err;
    memset(&pm.m, 0, sizeof(pm.m));
    pm.m.v = DEPOT_MSG_VERSION;
    pm.m.type = DEPOT_MSG_POLICY;
    pm.m.ts = now;
    pm.m.body.policy.items = pm.items;
    snprintf(pm.m.dealer, sizeof(pm.m.dealer), "%s", dealer);
    err = hub_store_dealer_policies(s, dealer, today, DEPOT_POLICIES_MAX, add_policy, &pm);
    if (err == DEPOT_OK)
        err =
            depot_topic_build(topic, sizeof(topic), dealer, depot_msg_topic_leaf(DEPOT_MSG_POLICY));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&pm.m, &payload, &len);
    if (err == DEPOT_OK)
        err = publish(ctx, topic, payload, len, true);
    depot_free(payload);
    if (err == DEPOT_OK) /* the due marks stand for every retained list of the dealer's */
        err = hub_contracts_publish_dealer(s, dealer, now, publish, ctx);
    return err;
}

struct due {
    char ids[HUB_POLICIES_DUE_BATCH][DEPOT_DEALER_MAX + 1];
    size_t n;
};

static int due_row(void *arg, const char *dealer)
{
    struct due *d = arg;
    snprintf(d->ids[d->n++], DEPOT_DEALER_MAX + 1, "%s", dealer);
    return d->n >= HUB_POLICIES_DUE_BATCH;
}

depot_err hub_policies_publish_due(hub_store *s, hub_publish_fn publish, void *publish_ctx,
                                   long long now, int *n)
{
    char today[DEPOT_DATE_LEN + 1];
    struct due *d = depot_malloc(sizeof(*d));
    depot_err err;
    *n = 0;
    if (!d)
        return DEPOT_ERR_NOMEM;
    d->n = 0;
    hub_policies_date(now, today);
    err = hub_store_begin(s); /* hub instances take turns: one publish per mark */
    if (err == DEPOT_OK)
        err = hub_store_policy_due_list(s, HUB_POLICIES_DUE_BATCH, due_row, d);
    for (size_t i = 0; err == DEPOT_OK && i < d->n; i++) {
        if (publish_dealer(s, d->ids[i], today, now, publish, publish_ctx) != DEPOT_OK)
            break; /* the broker away: the rest stay due */
        (*n)++;
        err = hub_store_policy_due_done(s, d->ids[i], now);
    }
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s); /* published again later: retained, the same list */
        *n = 0;
    }
    depot_free(d);
    return err;
}
