/*
 * The exports of lists the store pages itself (api/pager.h): payments
 * (range on the payment's time), applied movements (range on the movement's
 * gateway time) and stock rows (range on the time of the last real
 * measurement, updated_at). Each page is read from the store with the range
 * in its query (stock: filtered on the page), after the cursor of the last
 * row written, so an export of any length holds one page in memory. The
 * dealer filter is the route's (DEALER_QUERY): a dealer's user exports its
 * own rows only.
 *
 * Ranking and statements (one row per dealer, or per dealer and period) are
 * made whole by their own modules and written with api_pager_export_rows.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pager.h"
#include "api/routes.h"
#include "depot/alloc.h"
#include "depot/id.h"
#include "store/statements.h"

#define RANGE_ERROR "from or to is not a date, an ISO time or ms (from before to)"

struct export_ctx {
    char dealer[DEPOT_DEALER_MAX + 1]; /* "": every dealer */
    long long from, to;                /* [from, to); to 0: no end */
};

static long long end_of(const struct export_ctx *x)
{
    return x->to ? x->to : LLONG_MAX;
}

/* The export of what: range and dealer from the request (else a 400), then page by page. */
static enum MHD_Result export_list(hub_api *api, const struct api_request *r, const char *what,
                                   api_page_fn page, const char *const *cols)
{
    const char *dealer = api_query(r, "dealer");
    struct export_ctx *x;
    long long from, to;
    char name[160];
    if (!api_export_range(r, what, &from, &to, name, sizeof(name)))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, RANGE_ERROR);
    if (dealer && !depot_id_valid(dealer, DEPOT_DEALER_MAX))
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer is not valid");
    if (!(x = depot_calloc(1, sizeof(*x))))
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    snprintf(x->dealer, sizeof(x->dealer), "%s", dealer ? dealer : "");
    x->from = from;
    x->to = to;
    return api_pager_export(api, r, what, page, x, depot_free, cols, name);
}

/* ---- payments ---- */

static const char *const payment_cols[] = {"id", "dealer", "amount", "order", "ref", "at", NULL};

static int payment_row(void *arg, const struct hub_payment_row *p)
{
    cJSON *o = cJSON_CreateObject();
    char key[24];
    snprintf(key, sizeof(key), "%lld", p->id);
    cJSON_AddNumberToObject(o, "id", (double)p->id);
    cJSON_AddStringToObject(o, "dealer", p->dealer);
    cJSON_AddItemToObject(o, "amount", api_money_json(p->amount));
    cJSON_AddStringToObject(o, "order", p->order);
    cJSON_AddStringToObject(o, "ref", p->ref);
    cJSON_AddItemToObject(o, "at", api_time_json(p->at));
    return api_pager_row(arg, o, key);
}

static depot_err payments_page(struct api_pager *p, hub_store *s, long long want)
{
    const struct export_ctx *x = p->ctx;
    return hub_store_payments_page(s, x->dealer[0] ? x->dealer : NULL, x->from, end_of(x),
                                   p->cursor[0] ? atoll(p->cursor) : 0, want, payment_row, p);
}

/* Every payment recorded for a time in [from, to), by id. */
enum MHD_Result api_payments_export(hub_api *api, const struct api_request *r)
{
    return export_list(api, r, "payments", payments_page, payment_cols);
}

/* ---- movements ---- */

static const char *const move_cols[] = {"dealer", "ledger", "movement", "at",  "node",
                                        "sku",    "kind",   "delta",    "qty", NULL};

static int move_row(void *arg, const struct hub_move_row *m)
{
    cJSON *o = cJSON_CreateObject();
    char key[API_CURSOR_MAX + 1];
    snprintf(key, sizeof(key), "%s/%s/%lld", m->dealer, m->ledger, m->mid);
    cJSON_AddStringToObject(o, "dealer", m->dealer);
    cJSON_AddStringToObject(o, "ledger", m->ledger);
    cJSON_AddNumberToObject(o, "movement", (double)m->mid);
    cJSON_AddItemToObject(o, "at", api_time_json(m->ts));
    cJSON_AddStringToObject(o, "node", m->node);
    cJSON_AddStringToObject(o, "sku", m->sku);
    cJSON_AddStringToObject(o, "kind", m->kind);
    cJSON_AddNumberToObject(o, "delta", (double)m->delta);
    cJSON_AddNumberToObject(o, "qty", (double)m->qty);
    return api_pager_row(arg, o, key);
}

static depot_err moves_page(struct api_pager *p, hub_store *s, long long want)
{
    const struct export_ctx *x = p->ctx;
    char cursor[API_CURSOR_MAX + 1], *ledger = NULL, *mid = NULL;
    struct hub_move_key after = {"", "", 0};
    snprintf(cursor, sizeof(cursor), "%s", p->cursor); /* the key move_row wrote */
    if (cursor[0] && (ledger = strchr(cursor, '/')) && (mid = strchr(ledger + 1, '/'))) {
        *ledger++ = '\0';
        *mid++ = '\0';
        after = (struct hub_move_key){cursor, ledger, atoll(mid)};
    }
    return hub_store_moves_page(s, x->dealer[0] ? x->dealer : NULL, x->from, end_of(x), &after,
                                want, move_row, p);
}

/* Every movement the hub applied with a gateway time in [from, to), by dealer, ledger, id. */
enum MHD_Result api_movements_export(hub_api *api, const struct api_request *r)
{
    return export_list(api, r, "movements", moves_page, move_cols);
}

/* ---- stock ---- */

static const char *const stock_cols[] = {"dealer",        "sku",        "qty",
                                         "node",          "updated_at", "received_at",
                                         "dealer_online", "last_seen",  NULL};

struct stock_walk {
    struct api_pager *p;
    const struct export_ctx *x;
};

static int stock_row(void *arg, const struct hub_stock_row *row)
{
    struct stock_walk *w = arg;
    cJSON *o;
    char key[API_CURSOR_MAX + 1];
    snprintf(key, sizeof(key), "%s/%s", row->dealer, row->sku);
    if (!api_export_holds(w->x->from, w->x->to, row->updated_at)) {
        api_pager_skip(w->p, key);
        return 0;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dealer", row->dealer);
    cJSON_AddStringToObject(o, "sku", row->sku);
    cJSON_AddNumberToObject(o, "qty", (double)row->qty);
    cJSON_AddStringToObject(o, "node", row->node);
    cJSON_AddItemToObject(o, "updated_at", api_time_json(row->updated_at));
    cJSON_AddItemToObject(o, "received_at", api_time_json(row->received_at));
    cJSON_AddBoolToObject(o, "dealer_online", row->dealer_online);
    cJSON_AddItemToObject(o, "last_seen", api_time_json(row->last_seen));
    return api_pager_row(w->p, o, key);
}

static depot_err stock_page(struct api_pager *p, hub_store *s, long long want)
{
    struct stock_walk w = {p, p->ctx};
    char cursor[API_CURSOR_MAX + 1], *sku = NULL;
    snprintf(cursor, sizeof(cursor), "%s", p->cursor);
    if ((sku = strchr(cursor, '/')))
        *sku++ = '\0';
    return hub_store_stock_page(s, w.x->dealer[0] ? w.x->dealer : NULL, NULL, sku ? cursor : "",
                                sku ? sku : "", want, stock_row, &w);
}

/* Every stock row whose last real measurement is in [from, to), by dealer and SKU. */
enum MHD_Result api_stock_export(hub_api *api, const struct api_request *r)
{
    return export_list(api, r, "stock", stock_page, stock_cols);
}
