/*
 * API: orders and payments.
 *
 *   GET  /api/v1/orders[?status=S][&dealer=D]   viewer    newest first
 *   GET  /api/v1/orders/<id>                    viewer    with lines and audit trail
 *   POST /api/v1/orders/<id>/approve            approver  {"stage": "...", "reason": "..."}
 *                                                         stage required, reason optional
 *   POST /api/v1/orders/<id>/reject             approver  {"stage": "...", "reason": "..."}
 *                                                         reason required, stage optional
 *   GET  /api/v1/orders-forged[?dealer=D]       viewer    order messages that never became orders
 *   POST /api/v1/payments                       approver  {"dealer","amount","order","ref"}
 *
 * Approvals act at the order's current stage only (approval.c), and
 * only if it is the stage the request names: an approval must name it (a
 * double click or an approver of several stages can never approve a stage
 * it did not see), a rejection may. 403 for a token that may not act
 * there, 409 when the order is not pending or no longer at that stage.
 * Payments are appended (never changed) and lower the dealer's open
 * exposure; each also lands in the audit trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/idempotency.h"
#include "api/pager.h"
#include "api/routes.h"
#include "depot/money.h"
#include "orders.h"
#include "ranking/service.h"
#include "webhooks.h"

/* ---- JSON of an order ---- */

static cJSON *order_json(const struct hub_order *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "order", o->id);
    cJSON_AddStringToObject(j, "dealer", o->dealer);
    cJSON_AddStringToObject(j, "ledger", o->ledger);
    cJSON_AddNumberToObject(j, "number", (double)o->number);
    cJSON_AddStringToObject(j, "terminal", o->terminal);
    cJSON_AddStringToObject(j, "status", o->status);
    cJSON_AddStringToObject(j, "stage", o->stage);
    cJSON_AddStringToObject(j, "reason", o->reason);
    cJSON_AddItemToObject(j, "total", api_money_json(o->total));
    cJSON_AddBoolToObject(j, "escalated", o->escalated);
    cJSON_AddItemToObject(j, "created", api_time_json(o->created));
    cJSON_AddItemToObject(j, "received_at", api_time_json(o->received_at));
    cJSON_AddItemToObject(j, "stage_since", api_time_json(o->stage_since));
    cJSON_AddItemToObject(j, "decided_at", api_time_json(o->decided_at));
    cJSON_AddBoolToObject(j, "delivered", o->delivered_seq >= o->decision_seq);
    return j;
}

static int line_row(void *arg, const struct hub_order_line *l)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "barcode", l->barcode);
    cJSON_AddStringToObject(j, "sku", l->sku);
    cJSON_AddNumberToObject(j, "qty", (double)l->qty);
    cJSON_AddItemToObject(j, "unit_price", api_money_json(l->unit_price));
    cJSON_AddItemToObject(j, "value", api_money_json(l->qty * l->unit_price));
    cJSON_AddItemToArray(arg, j);
    return 0;
}

static int audit_row(void *arg, const struct hub_audit_entry *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "seq", (double)e->seq);
    cJSON_AddItemToObject(j, "at", api_time_json(e->at));
    cJSON_AddStringToObject(j, "actor", e->actor);
    cJSON_AddStringToObject(j, "action", e->action);
    cJSON_AddStringToObject(j, "stage", e->stage);
    cJSON_AddStringToObject(j, "reason", e->reason);
    cJSON_AddItemToArray(arg, j);
    return 0;
}

/* The order with its lines and audit trail. */
static depot_err order_detail(hub_store *s, const char *id, cJSON **out)
{
    struct hub_order o;
    depot_err err = hub_store_order_get(s, id, &o);
    cJSON *j;
    *out = NULL;
    if (err != DEPOT_OK)
        return err;
    j = order_json(&o);
    err = hub_store_order_lines(s, id, line_row, cJSON_AddArrayToObject(j, "lines"));
    if (err == DEPOT_OK)
        err = hub_store_audit_list(s, id, audit_row, cJSON_AddArrayToObject(j, "audit"));
    if (err != DEPOT_OK)
        cJSON_Delete(j);
    else
        *out = j;
    return err;
}

/* ---- GET ---- */

struct orders_ctx {
    struct hub_order_filter f;
    char status[16], dealer[DEPOT_DEALER_MAX + 1], after_id[API_CURSOR_MAX + 1];
    long long from, to; /* an export's range of created: [from, to); to 0: no end */
};

static int page_row(void *arg, const struct hub_order *o)
{
    struct api_pager *p = arg;
    char key[API_CURSOR_MAX + 1];
    const struct orders_ctx *x = p->ctx;
    snprintf(key, sizeof(key), "%lld/%s", o->received_at, o->id);
    if (!api_export_holds(x->from, x->to, o->created)) {
        api_pager_skip(p, key);
        return 0;
    }
    return api_pager_row(p, order_json(o), key);
}

/* One page of orders after the cursor "RECEIVED_AT/ID" (newest first). */
static depot_err orders_page(struct api_pager *p, hub_store *s, long long want)
{
    struct orders_ctx *x = p->ctx;
    const char *slash = strchr(p->cursor, '/');
    x->f.limit = want;
    x->f.after_id = NULL;
    if (slash) {
        x->f.after_at = atoll(p->cursor);
        snprintf(x->after_id, sizeof(x->after_id), "%s", slash + 1);
        x->f.after_id = x->after_id;
    }
    return hub_store_orders_list(s, &x->f, page_row, p);
}

/* An after= of the orders list: "RECEIVED_AT/ID" as X-Next-After gave it. */
static bool after_valid(const char *after)
{
    const char *slash = after ? strchr(after, '/') : NULL;
    long long at;
    char num[24];
    if (!slash || slash == after || (size_t)(slash - after) >= sizeof(num) ||
        strlen(after) > API_CURSOR_MAX)
        return false;
    snprintf(num, sizeof(num), "%.*s", (int)(slash - after), after);
    return api_parse_ll(num, 0, 1LL << 62, &at) && depot_id_valid(slash + 1, API_CURSOR_MAX);
}

enum MHD_Result api_orders_list(hub_api *api, const struct api_request *r)
{
    const char *status = api_query(r, "status"), *dealer = api_query(r, "dealer");
    const char *after = api_query(r, "after");
    struct orders_ctx *x;

    if (status && strcmp(status, "pending") && strcmp(status, "approved") &&
        strcmp(status, "rejected"))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "status is pending, approved or rejected");
    if (dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a valid id");
    if (after && !after_valid(after))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "after is not RECEIVED_AT/ORDER (the X-Next-After of the page "
                              "before)");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (status) { /* the request's text is not kept while it streams */
        snprintf(x->status, sizeof(x->status), "%s", status);
        x->f.status = x->status;
    }
    if (dealer) {
        snprintf(x->dealer, sizeof(x->dealer), "%s", dealer);
        x->f.dealer = x->dealer;
    }
    return api_pager_send(api, r, "orders", orders_page, x, depot_free, after);
}

enum MHD_Result api_order_get(hub_api *api, const struct api_request *r)
{
    cJSON *out = NULL;
    hub_store *s = api_reader_take(api);
    depot_err err = order_detail(s, r->arg, &out);
    api_reader_give(api, s);
    if (err == DEPOT_OK && api_scope_hides(r, out)) { /* another dealer's: as if none */
        cJSON_Delete(out);
        err = DEPOT_ERR_NOTFOUND;
    }
    return err == DEPOT_OK ? api_send_json(api, r, MHD_HTTP_OK, out)
                           : api_send_store_error(api, r, err, "no such order");
}

static int forged_row(void *arg, const struct hub_forged_entry *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "at", api_time_json(e->at));
    cJSON_AddStringToObject(j, "dealer", e->dealer);
    cJSON_AddStringToObject(j, "ledger", e->ledger);
    cJSON_AddNumberToObject(j, "msg_id", (double)e->msg_id);
    cJSON_AddStringToObject(j, "order", e->order);
    cJSON_AddStringToObject(j, "reason", e->reason);
    cJSON_AddStringToObject(j, "detail", e->detail);
    cJSON_AddItemToArray(arg, j);
    return 0;
}

enum MHD_Result api_orders_forged(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer");
    cJSON *list = cJSON_CreateArray();
    hub_store *s = api_reader_take(api);
    depot_err err = hub_store_forged_list(s, dealer, forged_row, list);
    api_reader_give(api, s);
    if (err != DEPOT_OK) {
        cJSON_Delete(list);
        return api_send_store_error(api, r, err, "forged orders");
    }
    return api_send_json(api, r, MHD_HTTP_OK, list);
}

/* ---- approve / reject ---- */

static enum MHD_Result act_error(hub_api *api, const struct api_request *r, depot_err err,
                                 const char *stage, const struct hub_order *now)
{
    char why[160];
    switch (err) {
    case DEPOT_ERR_STALE:
        if (strcmp(now->status, "pending") != 0)
            snprintf(why, sizeof(why), "the order is not pending: it is %s", now->status);
        else
            snprintf(why, sizeof(why), "the order is no longer at stage %s: it is at stage %s",
                     stage, now->stage);
        return api_send_error(api, r, MHD_HTTP_CONFLICT, why);
    case DEPOT_ERR_FORBIDDEN:
        return api_send_error(api, r, MHD_HTTP_FORBIDDEN,
                              "this token may not act at the order's current stage");
    case DEPOT_ERR_INVAL:
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "a rejection needs a reason");
    default:
        return api_send_store_error(api, r, err, "no such order");
    }
}

static enum MHD_Result post_act(hub_api *api, const struct api_request *r, const char *id,
                                enum hub_act act)
{
    cJSON *body = r->len ? cJSON_Parse(r->body) : cJSON_CreateObject(), *out = NULL;
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");
    const cJSON *stage = cJSON_GetObjectItemCaseSensitive(body, "stage");
    char why[HUB_ORDER_REASON_MAX + 1] = "", at[DEPOT_STAGE_MAX + 1] = "";
    struct hub_order after;
    hub_store *s;
    depot_err err;

    if (!cJSON_IsObject(body) ||
        (reason &&
         (!cJSON_IsString(reason) || strlen(reason->valuestring) > HUB_ORDER_REASON_MAX)) ||
        (stage && (!cJSON_IsString(stage) || !stage->valuestring[0] ||
                   strlen(stage->valuestring) > DEPOT_STAGE_MAX))) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "the body must be {\"stage\": \"<the stage acted on>\", \"reason\": "
                              "\"...\"} (a reason of at most 200 characters)");
    }
    if (act == HUB_ACT_APPROVE && !stage) {
        cJSON_Delete(body);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "an approval names the stage it approves: {\"stage\": \"...\"}");
    }
    if (reason)
        snprintf(why, sizeof(why), "%s", reason->valuestring);
    if (stage)
        snprintf(at, sizeof(at), "%s", stage->valuestring);
    cJSON_Delete(body);
    s = api_reader_take(api);
    err = hub_approval_act(api->cfg, api->metrics, s, hub_api_ranking(api), id, at, r->who, act,
                           why, depot_now_ms(), &after);
    if (err == DEPOT_OK)
        err = order_detail(s, id, &out);
    api_reader_give(api, s);
    return err == DEPOT_OK ? api_send_json(api, r, MHD_HTTP_OK, out)
                           : act_error(api, r, err, at, &after);
}

/* ---- payments ---- */

struct payment {
    char dealer[DEPOT_DEALER_MAX + 1];
    long long amount;
    char order[DEPOT_ORDER_ID_MAX + 1];
    char ref[HUB_REF_MAX + 1];
    long long at; /* when it is recorded (ms) */
};

static bool parse_payment(const char *text, struct payment *p, const char **why)
{
    cJSON *b = cJSON_Parse(text), *f;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(b, "dealer");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(b, "amount");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, "order");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(b, "ref");
    bool ok = cJSON_IsObject(b);

    *why = "the body must be {\"dealer\", \"amount\", \"order\" (optional), \"ref\" (optional)}";
    cJSON_ArrayForEach(f, (ok ? b : NULL)) ok =
        ok && (!strcmp(f->string, "dealer") || !strcmp(f->string, "amount") ||
               !strcmp(f->string, "order") || !strcmp(f->string, "ref"));
    if (ok && !(cJSON_IsString(d) && depot_id_valid(d->valuestring, DEPOT_DEALER_MAX)))
        ok = !(*why = "dealer: not a dealer id");
    if (ok && !((cJSON_IsNumber(a) && depot_money_from_double(a->valuedouble, &p->amount)) ||
                (cJSON_IsString(a) && depot_money_parse(a->valuestring, &p->amount))))
        ok = !(*why = "amount: not an amount with at most 2 decimals");
    if (ok && p->amount <= 0)
        ok = !(*why = "amount: must be above 0");
    if (ok && o && !cJSON_IsNull(o) &&
        !(cJSON_IsString(o) && strlen(o->valuestring) <= DEPOT_ORDER_ID_MAX))
        ok = !(*why = "order: not an order id");
    if (ok && ref && !(cJSON_IsString(ref) && strlen(ref->valuestring) <= HUB_REF_MAX))
        ok = !(*why = "ref: not a text of at most 128 characters");
    if (ok) {
        snprintf(p->dealer, sizeof(p->dealer), "%s", d->valuestring);
        snprintf(p->order, sizeof(p->order), "%s", cJSON_IsString(o) ? o->valuestring : "");
        snprintf(p->ref, sizeof(p->ref), "%s", ref ? ref->valuestring : "");
    }
    cJSON_Delete(b);
    return ok;
}

static int any_row(void *arg, const struct hub_dealer_row *row)
{
    (void)row;
    *(bool *)arg = true;
    return 0;
}

/* The dealer must be known; an order, if named, must be this dealer's. */
static depot_err payment_refs(hub_store *s, const struct payment *p, const char **why)
{
    struct hub_dealer_profile prof;
    struct hub_order o;
    bool heard = false;
    depot_err err = hub_store_profile_get(s, p->dealer, &prof);
    if (err == DEPOT_ERR_NOTFOUND)
        err = hub_store_dealer_get(s, p->dealer, any_row, &heard);
    *why = "no such dealer";
    if (err != DEPOT_OK || !p->order[0])
        return err;
    err = hub_store_order_get(s, p->order, &o);
    *why = "no such order";
    if (err == DEPOT_OK && strcmp(o.dealer, p->dealer) != 0) {
        *why = "the order is another dealer's";
        err = DEPOT_ERR_INVAL;
    }
    return err;
}

/* The answer to a recorded payment, as JSON text ending in a new line (cJSON's allocator). */
static char *payment_answer(const struct payment *p, long long id, const struct hub_exposure *x)
{
    cJSON *out = cJSON_CreateObject();
    char *text;
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "dealer", p->dealer);
    cJSON_AddItemToObject(out, "amount", api_money_json(p->amount));
    cJSON_AddStringToObject(out, "order", p->order);
    cJSON_AddStringToObject(out, "ref", p->ref);
    cJSON_AddItemToObject(out, "open_exposure", api_money_json(x->open));
    text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

/*
 * Records p in one transaction with its audit entry and, with an
 * Idempotency-Key, its answer (*answer, cJSON's allocator); a key used
 * before records nothing (k->found).
 */
static depot_err record_payment(hub_store *s, hub_ranking *rk, const struct payment *p,
                                const struct api_request *r, struct api_idem *k, long long *id,
                                char **answer, const char **why)
{
    char amount[DEPOT_MONEY_TEXT], text[200];
    struct hub_exposure x = {0};
    long long now = p->at;
    const char *actor = r->who->name;
    depot_err err = hub_store_begin(s);
    if (err == DEPOT_OK)
        err = api_idem_find(s, r, k);
    if (err == DEPOT_OK && k->found) {
        hub_store_rollback(s);
        return DEPOT_OK;
    }
    if (err == DEPOT_OK)
        err = payment_refs(s, p, why);
    if (err == DEPOT_OK)
        err = hub_store_payment_add(s, p->dealer, p->amount, p->order, p->ref, actor, now, id);
    depot_money_format(p->amount, amount, sizeof(amount));
    snprintf(text, sizeof(text), "%s%s%s", amount, p->ref[0] ? " ref " : "", p->ref);
    if (err == DEPOT_OK)
        err = hub_audit(s, p->order, p->dealer, actor, "payment", "", text, now);
    if (err == DEPOT_OK)
        err = hub_webhook_payment(s, *id, p->dealer, p->amount, p->order, p->ref, now);
    if (err == DEPOT_OK)
        err = hub_store_exposure(s, p->dealer, &x);
    if (err == DEPOT_OK)
        err = hub_ranking_note_payment(rk, s, p->dealer, now, p->amount);
    if (err == DEPOT_OK && !(*answer = payment_answer(p, *id, &x)))
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK)
        err = api_idem_keep(s, r, k, MHD_HTTP_OK, *answer);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK)
        hub_store_rollback(s);
    return err;
}

enum MHD_Result api_payment_post(hub_api *api, const struct api_request *r)
{
    struct payment p = {0};
    struct api_idem k;
    const char *why;
    char *answer = NULL;
    long long id = 0;
    hub_store *s;
    depot_err err;
    enum MHD_Result ret;

    if (!parse_payment(r->body, &p, &why) || !api_idem_read(r, &k, &why))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
    p.at = depot_now_ms();
    s = api_reader_take(api);
    err = record_payment(s, hub_api_ranking(api), &p, r, &k, &id, &answer, &why);
    api_reader_give(api, s);
    if (err == DEPOT_OK && k.found)
        ret = api_idem_answer(api, r, &k);
    else if (err == DEPOT_ERR_INVAL)
        ret = api_send_error(api, r, MHD_HTTP_BAD_REQUEST, why);
    else if (err != DEPOT_OK)
        ret = api_send_store_error(api, r, err, why);
    else {
        LOG_INFO("payment %lld of dealer %s recorded by %s", id, p.dealer, r->who->name);
        ret = api_idem_send(api, r, MHD_HTTP_OK, answer);
    }
    cJSON_free(answer);
    api_idem_clear(&k);
    return ret;
}

/* ---- routing ---- */

/* orders/<id>[/approve|/reject] */

enum MHD_Result api_order_approve(hub_api *api, const struct api_request *r)
{
    return post_act(api, r, r->arg, HUB_ACT_APPROVE);
}

enum MHD_Result api_order_reject(hub_api *api, const struct api_request *r)
{
    return post_act(api, r, r->arg, HUB_ACT_REJECT);
}

/* ---- GET /export/orders ---- */

static const char *const order_cols[] = {"order",       "dealer",     "ledger",    "number",
                                         "terminal",    "status",     "stage",     "reason",
                                         "total",       "escalated",  "created",   "received_at",
                                         "stage_since", "decided_at", "delivered", NULL};

/* Every order created in [from, to), newest received first, as CSV or JSON Lines. */
enum MHD_Result api_orders_export(hub_api *api, const struct api_request *r)
{
    const char *dealer = api_query(r, "dealer");
    struct orders_ctx *x;
    long long from, to;
    char name[160];
    if (!api_export_range(r, "orders", &from, &to, name, sizeof(name)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                              "from or to is not a date, an ISO time or ms (from before to)");
    if (dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not a valid id");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (dealer) {
        snprintf(x->dealer, sizeof(x->dealer), "%s", dealer);
        x->f.dealer = x->dealer;
    }
    x->from = from;
    x->to = to;
    return api_pager_export(api, r, "orders", orders_page, x, depot_free, order_cols, name);
}
