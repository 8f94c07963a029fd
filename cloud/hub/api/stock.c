/*
 * API: the stock of every dealer.
 *
 *   GET /api/v1/stock[?dealer=D][&sku=S][&since=ms][&region=R]   viewer
 *
 * One row per (dealer, SKU) with its quantity, the node that counted it,
 * when, its staleness (stale.c) and what the rows do not carry: the units
 * picked per day over [alerts] velocity_days, the days of cover, the
 * dealer's region (from the profiles). Those extras are loaded once per
 * request in two queries (no query per row); the rows are written straight
 * into the body as the query walks (no tree of 100,000 objects).
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "api/http.h"
#include "api/routes.h"
#include "stale.h"
#include "store/alerts.h"

#define PAIR_KEY_MAX (DEPOT_DEALER_MAX + DEPOT_SKU_MAX + 2)

struct vel_ent {
    UT_hash_handle hh;
    long long picked;
    size_t key_len;
    char key[PAIR_KEY_MAX]; /* dealer NUL sku */
};

struct region_ent {
    char dealer[DEPOT_DEALER_MAX + 1];
    char region[HUB_REGION_MAX + 1];
};

struct stock_extra {
    long long since;
    const char *region;
    long velocity_days;
    struct vel_ent *picked; /* uthash by (dealer, sku) */
    struct region_ent *regions;
    size_t n_regions, cap_regions;
    bool nomem;
};

/* "dealer\0sku" into key (PAIR_KEY_MAX bytes); its length. */
static size_t pair_key(char key[PAIR_KEY_MAX], const char *dealer, const char *sku)
{
    size_t dl = strnlen(dealer, DEPOT_DEALER_MAX), sl = strnlen(sku, DEPOT_SKU_MAX);
    memcpy(key, dealer, dl);
    key[dl] = '\0';
    memcpy(key + dl + 1, sku, sl);
    key[dl + 1 + sl] = '\0';
    return dl + 1 + sl;
}

static int add_velocity(void *arg_, const char *dealer, const char *sku, long long sum)
{
    struct stock_extra *x = arg_;
    struct vel_ent *e = depot_malloc(sizeof(*e));
    if (!e)
        return x->nomem = true;
    e->picked = sum;
    e->key_len = pair_key(e->key, dealer, sku);
    HASH_ADD_KEYPTR(hh, x->picked, e->key, e->key_len, e);
    if (!DEPOT_HASH_ADDED(e)) {
        depot_free(e);
        return x->nomem = true;
    }
    return 0;
}

static int add_region(void *arg_, const struct hub_dealer_place *p)
{
    struct stock_extra *x = arg_;
    if (x->n_regions == x->cap_regions) {
        size_t cap = x->cap_regions ? x->cap_regions * 2 : 256;
        struct region_ent *r = depot_realloc(x->regions, cap * sizeof(*r));
        if (!r)
            return x->nomem = true;
        x->regions = r;
        x->cap_regions = cap;
    }
    snprintf(x->regions[x->n_regions].dealer, sizeof(x->regions->dealer), "%s", p->dealer);
    snprintf(x->regions[x->n_regions].region, sizeof(x->regions->region), "%s", p->region);
    x->n_regions++;
    return 0;
}

static void stock_extra_free(struct stock_extra *x)
{
    if (!x)
        return;
    struct vel_ent *e, *tmp;
    HASH_ITER(hh, x->picked, e, tmp)
    {
        HASH_DEL(x->picked, e);
        depot_free(e);
    }
    depot_free(x->regions);
    depot_free(x);
}

/* Reads the filters and loads the extras for the request; on failure it has answered and *out
 * is NULL. */
static enum MHD_Result stock_extra_new(hub_api *api, const struct api_request *r, hub_store *s,
                                       struct stock_extra **out)
{
    const char *since = api_query(r, "since");
    const char *region = api_query(r, "region");
    struct stock_extra *x = depot_calloc(1, sizeof(*x));
    long long today = depot_now_ms() / HUB_DAY_MS;
    depot_err err;
    *out = NULL;
    if (!x)
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    x->velocity_days = api->cfg->alert_velocity_days;
    x->region = region;
    if (since && !api_parse_ll(since, 0, 1LL << 53, &x->since)) {
        stock_extra_free(x);
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "since is not a time in ms");
    }
    err = hub_store_picked_sums(s, today - x->velocity_days + 1, today, add_velocity, x);
    if (err == DEPOT_OK)
        err = hub_store_dealer_places(s, add_region, x); /* ordered by dealer id */
    if (err != DEPOT_OK || x->nomem) {
        stock_extra_free(x);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              depot_strerror(err != DEPOT_OK ? err : DEPOT_ERR_NOMEM));
    }
    *out = x;
    return MHD_YES;
}

static const char *region_of(const struct stock_extra *x, const char *dealer)
{
    size_t lo = 0, hi = x->n_regions;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(x->regions[mid].dealer, dealer);
        if (!cmp)
            return x->regions[mid].region;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static long long picked_of(const struct stock_extra *x, const char *dealer, const char *sku)
{
    char key[PAIR_KEY_MAX];
    size_t len = pair_key(key, dealer, sku);
    const struct vel_ent *e;
    HASH_FIND(hh, x->picked, key, len, e);
    return e ? e->picked : 0;
}

static bool stock_extra_keep(const struct stock_extra *x, const struct hub_stock_row *r)
{
    const char *region;
    if (x->since && r->received_at <= x->since)
        return false;
    if (!x->region)
        return true;
    region = region_of(x, r->dealer);
    return region && !strcmp(region, x->region);
}

static void stock_extra_fields(const struct stock_extra *x, struct api_body *b,
                               const struct hub_stock_row *r)
{
    double v = (double)picked_of(x, r->dealer, r->sku) / (double)x->velocity_days;
    const char *region = region_of(x, r->dealer);
    if (v > 0)
        api_body_printf(b, ",\"velocity\":%.3f,\"days_of_cover\":%.1f", v,
                        (double)(r->qty > 0 ? r->qty : 0) / v);
    else
        api_body_str(b, ",\"velocity\":0,\"days_of_cover\":null");
    api_body_str(b, ",\"region\":");
    if (region)
        api_body_json_string(b, region);
    else
        api_body_str(b, "null");
    api_body_str(b, ",\"received_at\":");
    api_body_int(b, r->received_at);
}

struct stock_walk {
    struct api_body *b;
    long long now, offline_after_ms;
    size_t n;
    struct stock_extra *x; /* filters and extra fields */
};

static int stock_row(void *arg, const struct hub_stock_row *r)
{
    struct stock_walk *w = arg;
    struct hub_staleness st;
    char when[40];

    if (w->x && !stock_extra_keep(w->x, r))
        return 0;
    hub_stale_compute(r, w->now, w->offline_after_ms, &st);
    api_iso8601(when, sizeof(when), r->updated_at);
    api_body_str(w->b, w->n++ ? ",\n{\"dealer\":\"" : "{\"dealer\":\"");
    api_body_str(w->b, r->dealer);
    api_body_str(w->b, "\",\"sku\":\"");
    api_body_str(w->b, r->sku);
    api_body_str(w->b, "\",\"qty\":");
    api_body_int(w->b, r->qty);
    api_body_str(w->b, ",\"node\":\"");
    api_body_str(w->b, r->node);
    api_body_str(w->b, "\",\"updated_at\":\"");
    api_body_str(w->b, when);
    api_body_str(w->b, "\",\"age_s\":");
    api_body_int(w->b, st.age_s);
    api_body_str(w->b, st.stale ? ",\"stale\":true,\"stale_reason\":"
                                : ",\"stale\":false,\"stale_reason\":null");
    if (st.stale)
        api_body_json_string(w->b, st.reason);
    if (w->x)
        stock_extra_fields(w->x, w->b, r);
    api_body_str(w->b, "}");
    return w->b->failed;
}

enum MHD_Result api_stock_get(hub_api *api, const struct api_request *r)
{
    bool bad = false;
    const char *dealer = api_query_id(r, "dealer", DEPOT_DEALER_MAX, &bad);
    const char *sku = api_query_id(r, "sku", DEPOT_SKU_MAX, &bad);
    struct api_body b = {0};
    struct stock_walk w = {&b, depot_now_ms(), api->cfg->offline_after_s * 1000LL, 0, NULL};
    enum MHD_Result ret;
    hub_store *s;
    depot_err err;

    if (bad)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer or sku is not a valid id");
    s = api_reader_take(api);
    ret = stock_extra_new(api, r, s, &w.x);
    if (!w.x) { /* answered */
        api_reader_give(api, s);
        return ret;
    }
    api_body_printf(&b, "[");
    err = hub_store_stock(s, dealer, sku, stock_row, &w);
    api_reader_give(api, s);
    stock_extra_free(w.x);
    api_body_printf(&b, "]\n");
    return api_send_list(api, r, &b, err);
}
