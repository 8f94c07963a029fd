/*
 * API: policies and promotions pushed to dealers, and their reach (policies.h).
 *
 *   POST /api/v1/policies                    admin     {"title", "body", "notice", "valid_from",
 *                                                       "valid_to", "target": {"kind", "value"}}
 *                                                       -> 201 the policy and its targets
 *   GET  /api/v1/policies[?dealer=D]         viewer    newest first, each with its coverage;
 *                                                       a dealer's user: its own, with its reach
 *   GET  /api/v1/policies/<id>               viewer    the policy, its coverage (targets,
 *                                                       delivered, seen, acknowledged, the
 *                                                       share acknowledged after each day) and
 *                                                       who is missing; a dealer's user: its reach
 *   POST /api/v1/policies/<id>/repush        admin     pushed again to the targets not
 *                                                       acknowledged
 *   POST /api/v1/policies/<id>/seen          dealer    first seen in the portal
 *   POST /api/v1/policies/<id>/ack           dealer    acknowledged in the portal (its gateway
 *                                                       stops showing the notice)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "policies.h"

#define WHY_MAX 160
#define DAY_MS 86400000LL
#define CURVE_DAYS 30

/* ---- coverage ---- */

struct coverage {
    long long created_at;
    long long targets, delivered, seen, acked;
    long long acked_by_day[CURVE_DAYS]; /* acknowledged within d + 1 days of publishing */
    cJSON *missing;                     /* not acknowledged (NULL: not listed) */
};

static int coverage_row(void *arg, const struct hub_policy_reach *r)
{
    struct coverage *c = arg;
    c->targets++;
    c->delivered += r->delivered_at != 0;
    c->seen += r->seen_at != 0;
    if (r->acked_at) {
        long long day = (r->acked_at - c->created_at) / DAY_MS;
        c->acked++;
        for (long long d = day < 0 ? 0 : day; d < CURVE_DAYS; d++)
            c->acked_by_day[d]++;
    } else if (c->missing) {
        cJSON_AddItemToArray(c->missing, cJSON_CreateString(r->dealer));
    }
    return 0;
}

static double pct(long long part, long long whole)
{
    return whole ? (double)(part * 1000 / whole) / 10.0 : 0.0;
}

static void add_coverage(cJSON *j, const struct coverage *c, bool curve)
{
    cJSON *cov = cJSON_AddObjectToObject(j, "coverage");
    cJSON_AddNumberToObject(cov, "targets", (double)c->targets);
    cJSON_AddNumberToObject(cov, "delivered", (double)c->delivered);
    cJSON_AddNumberToObject(cov, "seen", (double)c->seen);
    cJSON_AddNumberToObject(cov, "acknowledged", (double)c->acked);
    cJSON_AddNumberToObject(cov, "delivered_pct", pct(c->delivered, c->targets));
    cJSON_AddNumberToObject(cov, "acknowledged_pct", pct(c->acked, c->targets));
    if (curve) {
        cJSON *a = cJSON_AddArrayToObject(cov, "acknowledged_pct_after_days");
        for (int d = 0; d < CURVE_DAYS; d++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(pct(c->acked_by_day[d], c->targets)));
    }
}

static cJSON *policy_json(const struct hub_policy *p)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "policy", (double)p->id);
    cJSON_AddStringToObject(j, "title", p->title);
    cJSON_AddStringToObject(j, "body", p->body);
    cJSON_AddStringToObject(j, "notice", p->notice);
    cJSON_AddStringToObject(j, "valid_from", p->valid_from);
    cJSON_AddStringToObject(j, "valid_to", p->valid_to);
    cJSON *t = cJSON_AddObjectToObject(j, "target");
    cJSON_AddStringToObject(t, "kind", p->target_kind);
    cJSON_AddStringToObject(t, "value", p->target);
    cJSON_AddStringToObject(j, "created_by", p->created_by);
    cJSON_AddItemToObject(j, "created_at", api_time_json(p->created_at));
    return j;
}

static cJSON *reach_json(const struct hub_policy_reach *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "dealer", r->dealer);
    cJSON_AddItemToObject(j, "pushed_at", api_time_json(r->pushed_at));
    cJSON_AddItemToObject(j, "delivered_at", api_time_json(r->delivered_at));
    cJSON_AddItemToObject(j, "seen_at", api_time_json(r->seen_at));
    cJSON_AddItemToObject(j, "acked_at", api_time_json(r->acked_at));
    cJSON_AddStringToObject(j, "acked_by", r->acked_by);
    cJSON_AddStringToObject(j, "acked_via", r->acked_via);
    return j;
}

/* ---- POST /policies ---- */

static const char *const policy_keys[] = {"title",    "body",   "notice", "valid_from",
                                          "valid_to", "target", NULL};
static const char *const target_keys[] = {"kind", "value", NULL};

static bool parse_policy(const cJSON *b, struct hub_policy *p, char *why, size_t len)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "target");
    char bad[64];
    if (!cJSON_IsObject(b) || !api_json_only_keys(b, policy_keys, bad, sizeof(bad))) {
        snprintf(why, len, "the body must be a policy object (unknown field \"%s\")",
                 cJSON_IsObject(b) ? bad : "");
        return false;
    }
    if (!api_json_str(cJSON_GetObjectItemCaseSensitive(b, "title"), DEPOT_POLICY_TITLE_MAX,
                      p->title, sizeof(p->title)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "body"), HUB_POLICY_BODY_MAX, p->body,
                      sizeof(p->body)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "notice"), DEPOT_POLICY_NOTICE_MAX,
                      p->notice, sizeof(p->notice)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "valid_from"), DEPOT_DATE_LEN,
                      p->valid_from, sizeof(p->valid_from)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(b, "valid_to"), DEPOT_DATE_LEN, p->valid_to,
                      sizeof(p->valid_to))) {
        snprintf(why, len,
                 "title (1..80), body (..4000), notice (1..32), valid_from and "
                 "valid_to (YYYY-MM-DD) are strings");
        return false;
    }
    return api_target_parse(t, p->target_kind, p->target, why, len);
}

bool api_target_parse(const cJSON *t, char kind[HUB_POLICY_KIND_MAX + 1],
                      char value[HUB_POLICY_TARGET_MAX + 1], char *why, size_t len)
{
    const cJSON *v;
    char bad[64];
    if (!cJSON_IsObject(t) || !api_json_only_keys(t, target_keys, bad, sizeof(bad)) ||
        !api_json_str(cJSON_GetObjectItemCaseSensitive(t, "kind"), HUB_POLICY_KIND_MAX, kind,
                      HUB_POLICY_KIND_MAX + 1)) {
        snprintf(why, len, "target: {\"kind\": all|region|tier|list, \"value\"}");
        return false;
    }
    v = cJSON_GetObjectItemCaseSensitive(t, "value");
    if (v && !api_json_str(v, HUB_POLICY_TARGET_MAX, value, HUB_POLICY_TARGET_MAX + 1)) {
        snprintf(why, len, "target.value: a string of at most %d characters",
                 HUB_POLICY_TARGET_MAX);
        return false;
    }
    return true;
}

enum MHD_Result api_policy_post(hub_api *api, const struct api_request *r)
{
    cJSON *body = cJSON_Parse(r->body), *out;
    struct hub_policy *p = depot_calloc(1, sizeof(*p));
    char why[WHY_MAX] = "";
    size_t n = 0;
    hub_store *s;
    depot_err err;

    if (!p) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    err = parse_policy(body, p, why, sizeof(why)) ? DEPOT_OK : DEPOT_ERR_INVAL;
    cJSON_Delete(body);
    snprintf(p->created_by, sizeof(p->created_by), "%s", r->who->name);
    if (err == DEPOT_OK) {
        s = api_reader_take(api);
        err = hub_policies_publish(s, p, depot_now_ms(), &n, why, sizeof(why));
        api_reader_give(api, s);
    }
    if (err != DEPOT_OK) {
        depot_free(p);
        return api_send_create_error(api, r, err, why);
    }
    LOG_INFO("policy %lld \"%s\" published by %s to %zu dealers", p->id, p->title, r->who->name, n);
    out = policy_json(p);
    cJSON_AddNumberToObject(out, "targets", (double)n);
    depot_free(p);
    return api_send_json(api, r, MHD_HTTP_CREATED, out);
}

/* ---- GET /policies ---- */

struct list_ctx {
    hub_store *s;
    cJSON *list;
    const char *dealer; /* a dealer's user: its reach, not the coverage */
    depot_err err;
};

static int list_row(void *arg, const struct hub_policy *p)
{
    struct list_ctx *x = arg;
    cJSON *j = policy_json(p);
    if (x->dealer) {
        struct hub_policy_reach r;
        x->err = hub_store_reach_get(x->s, p->id, x->dealer, &r);
        if (x->err == DEPOT_OK)
            cJSON_AddItemToObject(j, "reach", reach_json(&r));
        cJSON_DeleteItemFromObjectCaseSensitive(j, "target"); /* the other targets are not its */
    } else {
        struct coverage c = {.created_at = p->created_at};
        x->err = hub_store_reach_list(x->s, p->id, coverage_row, &c);
        add_coverage(j, &c, false);
    }
    cJSON_AddItemToArray(x->list, j);
    return x->err != DEPOT_OK;
}

enum MHD_Result api_policies_list(hub_api *api, const struct api_request *r)
{
    struct list_ctx x = {.list = cJSON_CreateArray(), .dealer = r->scope};
    const char *dealer = api_query(r, "dealer");
    depot_err err;
    if (dealer && !depot_dealer_id_valid(dealer)) {
        cJSON_Delete(x.list);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a dealer id");
    }
    x.s = api_reader_take(api);
    err = hub_store_policies_list(x.s, dealer, list_row, &x);
    api_reader_give(api, x.s);
    if (err == DEPOT_OK)
        err = x.err;
    if (err != DEPOT_OK) {
        cJSON_Delete(x.list);
        return api_send_store_error(api, r, err, "");
    }
    return api_send_json(api, r, MHD_HTTP_OK, x.list);
}

/* ---- GET /policies/<id> ---- */

enum MHD_Result api_policy_get(hub_api *api, const struct api_request *r)
{
    long long id = atoll(r->arg);
    struct hub_policy *p = depot_malloc(sizeof(*p));
    struct hub_policy_reach reach;
    struct coverage c;
    cJSON *out = NULL;
    hub_store *s = api_reader_take(api);
    depot_err err = p ? hub_store_policy_get(s, id, p) : DEPOT_ERR_NOMEM;

    if (err == DEPOT_OK && r->scope) { /* a dealer's user: a policy it is a target of */
        err = hub_store_reach_get(s, id, r->scope, &reach);
        if (err == DEPOT_OK) {
            out = policy_json(p);
            cJSON_DeleteItemFromObjectCaseSensitive(out, "target");
            cJSON_AddItemToObject(out, "reach", reach_json(&reach));
        }
    } else if (err == DEPOT_OK) {
        memset(&c, 0, sizeof(c));
        c.created_at = p->created_at;
        out = policy_json(p);
        c.missing = cJSON_AddArrayToObject(out, "missing");
        err = hub_store_reach_list(s, id, coverage_row, &c);
        add_coverage(out, &c, true);
    }
    api_reader_give(api, s);
    depot_free(p);
    if (err != DEPOT_OK) {
        cJSON_Delete(out);
        return api_send_store_error(api, r, err, "no such policy");
    }
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

/* ---- POST /policies/<id>/repush, /seen, /ack ---- */

enum MHD_Result api_policy_repush(hub_api *api, const struct api_request *r)
{
    size_t n = 0;
    cJSON *out;
    hub_store *s = api_reader_take(api);
    depot_err err = hub_policies_repush(s, atoll(r->arg), depot_now_ms(), &n);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such policy");
    LOG_INFO("policy %s pushed again by %s to %zu dealers", r->arg, r->who->name, n);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "repushed", (double)n);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

static enum MHD_Result portal_mark(hub_api *api, const struct api_request *r, bool ack)
{
    long long id = atoll(r->arg), now = depot_now_ms();
    char by[HUB_ACTOR_MAX + 1];
    bool changed = false;
    struct hub_policy_reach reach;
    hub_store *s;
    depot_err err;
    cJSON *out;

    if (!*r->who->dealer)
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN,
                              "only a dealer's user sees or acknowledges a policy");
    snprintf(by, sizeof(by), "%s", r->who->name);
    s = api_reader_take(api);
    err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = hub_policies_mark(s, id, r->who->dealer, HUB_REACH_SEEN, now, by, "portal", &changed);
    if (err == DEPOT_OK && ack)
        err =
            hub_policies_mark(s, id, r->who->dealer, HUB_REACH_ACKED, now, by, "portal", &changed);
    if (err == DEPOT_OK)
        err = hub_store_reach_get(s, id, r->who->dealer, &reach);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    api_reader_give(api, s);
    if (err != DEPOT_OK)
        return api_send_store_error(api, r, err, "no such policy");
    if (ack && changed)
        LOG_INFO("policy %lld acknowledged at dealer %s by %s in the portal", id, r->who->dealer,
                 by);
    out = reach_json(&reach);
    return api_send_json(api, r, MHD_HTTP_OK, out);
}

enum MHD_Result api_policy_seen(hub_api *api, const struct api_request *r)
{
    return portal_mark(api, r, false);
}

enum MHD_Result api_policy_ack(hub_api *api, const struct api_request *r)
{
    return portal_mark(api, r, true);
}
