/*
 * API: the stock of every dealer.
 *
 *   GET /api/v1/stock[?dealer=D][&sku=S][&since=ms][&region=R]
 *                    [&limit=N][&after=DEALER/SKU]                       viewer
 *
 * One row per (dealer, SKU) with its quantity, the node that counted it,
 * when, its staleness (stale.c) and what the rows do not carry: the units
 * picked per day over [alerts] velocity_days, the days of cover, the
 * dealer's region (from the profiles).
 *
 * The rows are read from the store a page at a time (STOCK_PAGE rows, one
 * indexed range read after the last row's (dealer, SKU), a read connection
 * taken per page), each page's picked figures in one query over the same
 * range, and written out before the next page is read:
 *   - without limit, the whole listing; past its first page it is streamed
 *     (chunked): the hub holds one page whatever the number of rows;
 *   - with limit=N (1..STOCK_LIMIT_MAX), at most N rows, and when more may
 *     follow, the header X-Next-After: DEALER/SKU to pass as after= for the
 *     next page (a page left empty by since= or region= can still have a
 *     next one; the listing ends on a page without the header).
 * An error after the first bytes of a stream cuts the connection (logged
 * and counted): the client sees a body that is not valid JSON.
 */
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "api/http.h"
#include "api/routes.h"
#include "stale.h"
#include "store/alerts.h"

#define STOCK_PAGE 1000
#define STOCK_LIMIT_MAX 10000
#define REASON_MAX 128

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
    struct vel_ent *picked; /* uthash by (dealer, sku): this page's */
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

static void velocity_clear(struct stock_extra *x)
{
    struct vel_ent *e, *tmp;
    HASH_ITER(hh, x->picked, e, tmp)
    {
        HASH_DEL(x->picked, e);
        depot_free(e);
    }
}

static void stock_extra_free(struct stock_extra *x)
{
    if (!x)
        return;
    velocity_clear(x);
    depot_free(x->regions);
    depot_free(x);
}

/* Reads the filters and loads the dealers' regions for the request; on failure it has answered
 * and *out is NULL. */
static enum MHD_Result stock_extra_new(hub_api *api, const struct api_request *r, hub_store *s,
                                       struct stock_extra **out)
{
    const char *since = api_query(r, "since");
    const char *region = api_query(r, "region");
    struct stock_extra *x = depot_calloc(1, sizeof(*x));
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


/* One stock row of a page, copied out of the store's walk. */
struct page_row {
    char dealer[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1], node[DEPOT_NODE_MAX + 1];
    char reason[REASON_MAX];
    struct hub_stock_row r; /* its strings point into the fields above */
};

struct stock_list {
    hub_api *api;
    char dealer[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1]; /* filters, "" for none */
    char region[HUB_REGION_MAX + 1];
    char after_dealer[DEPOT_DEALER_MAX + 1], after_sku[DEPOT_SKU_MAX + 1]; /* the cursor */
    long long limit;    /* rows still to write; -1: no limit */
    long long now, offline_after_ms;
    struct stock_extra *x;
    struct page_row *rows;
    size_t n_rows;      /* in the last page read */
    size_t n;           /* rows written */
    bool more;          /* the last page was full: rows may follow */
    bool begun, ended;  /* "[" and "]\n" written */
    struct api_body b;  /* what is made and not yet sent */
    size_t sent;        /* of b, when streaming */
};

static int copy_row(void *arg, const struct hub_stock_row *r)
{
    struct stock_list *l = arg;
    struct page_row *p = &l->rows[l->n_rows++];
    snprintf(p->dealer, sizeof(p->dealer), "%s", r->dealer);
    snprintf(p->sku, sizeof(p->sku), "%s", r->sku);
    snprintf(p->node, sizeof(p->node), "%s", r->node);
    snprintf(p->reason, sizeof(p->reason), "%s", r->fault_reason);
    p->r = *r;
    p->r.dealer = p->dealer;
    p->r.sku = p->sku;
    p->r.node = p->node;
    p->r.fault_reason = p->reason;
    return 0;
}

static void write_row(struct stock_list *l, const struct hub_stock_row *r)
{
    struct hub_staleness st;
    char when[40];
    struct api_body *b = &l->b;

    hub_stale_compute(r, l->now, l->offline_after_ms, &st);
    api_iso8601(when, sizeof(when), r->updated_at);
    api_body_str(b, l->n++ ? ",\n{\"dealer\":\"" : "{\"dealer\":\"");
    api_body_str(b, r->dealer);
    api_body_str(b, "\",\"sku\":\"");
    api_body_str(b, r->sku);
    api_body_str(b, "\",\"qty\":");
    api_body_int(b, r->qty);
    api_body_str(b, ",\"node\":\"");
    api_body_str(b, r->node);
    api_body_str(b, "\",\"updated_at\":\"");
    api_body_str(b, when);
    api_body_str(b, "\",\"age_s\":");
    api_body_int(b, st.age_s);
    api_body_str(b, st.stale ? ",\"stale\":true,\"stale_reason\":"
                             : ",\"stale\":false,\"stale_reason\":null");
    if (st.stale)
        api_body_json_string(b, st.reason);
    stock_extra_fields(l->x, b, r);
    api_body_str(b, "}");
}

/* Reads the next page and its picked figures (one read connection, given back before the rows
 * are written). */
static depot_err read_page(struct stock_list *l)
{
    long long today = depot_now_ms() / HUB_DAY_MS;
    long long want = l->limit >= 0 && l->limit < STOCK_PAGE ? l->limit + 1 : STOCK_PAGE;
    hub_store *s = api_reader_take(l->api);
    depot_err err;

    l->n_rows = 0;
    velocity_clear(l->x);
    err = hub_store_stock_page(s, *l->dealer ? l->dealer : NULL, *l->sku ? l->sku : NULL,
                               l->after_dealer, l->after_sku, want, copy_row, l);
    if (err == DEPOT_OK && l->n_rows > 0)
        err = hub_store_picked_range(s, today - l->x->velocity_days + 1, today,
                                     l->rows[0].dealer, l->rows[0].sku,
                                     l->rows[l->n_rows - 1].dealer, l->rows[l->n_rows - 1].sku,
                                     add_velocity, l->x);
    api_reader_give(l->api, s);
    if (err == DEPOT_OK && l->x->nomem)
        err = DEPOT_ERR_NOMEM;
    l->more = err == DEPOT_OK && (long long)l->n_rows == want;
    return err;
}

/* Writes the next page into l->b ("[" before the first, "]\n" after the last). */
static depot_err next_page(struct stock_list *l)
{
    depot_err err;
    size_t i;
    if (!l->begun) {
        api_body_str(&l->b, "[");
        l->begun = true;
    }
    err = read_page(l);
    for (i = 0; err == DEPOT_OK && i < l->n_rows && l->limit != 0; i++) {
        const struct page_row *p = &l->rows[i];
        snprintf(l->after_dealer, sizeof(l->after_dealer), "%s", p->dealer);
        snprintf(l->after_sku, sizeof(l->after_sku), "%s", p->sku);
        if (!stock_extra_keep(l->x, &p->r))
            continue;
        write_row(l, &p->r);
        if (l->limit > 0)
            l->limit--;
    }
    if (err == DEPOT_OK && l->limit == 0)
        l->more = l->more || i < l->n_rows; /* stopped on the limit with rows left */
    if (err == DEPOT_OK && (!l->more || l->limit == 0)) {
        api_body_str(&l->b, "]\n");
        l->ended = true;
    }
    if (err == DEPOT_OK && l->b.failed)
        err = DEPOT_ERR_NOMEM;
    return err;
}

static void list_free(void *cls)
{
    struct stock_list *l = cls;
    stock_extra_free(l->x);
    depot_free(l->rows);
    depot_free(l->b.p);
    depot_free(l);
}

/* libmicrohttpd asks for the next bytes of the streamed listing. */
static ssize_t list_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stock_list *l = cls;
    size_t n;
    depot_err err;
    (void)pos;
    while (l->sent == l->b.len) {
        if (l->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        l->b.len = l->sent = 0;
        err = next_page(l);
        if (err != DEPOT_OK) {
            LOG_ERROR("api: stock listing cut after %zu rows: %s", l->n, depot_strerror(err));
            hub_metrics_add(l->api->metrics, HUB_C_API_ERRORS, 1);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    n = l->b.len - l->sent < max ? l->b.len - l->sent : max;
    memcpy(buf, l->b.p + l->sent, n);
    l->sent += n;
    return (ssize_t)n;
}

/* Reads limit= and after= into l; false (answered) if one is malformed. */
static bool read_paging(hub_api *api, const struct api_request *r, struct stock_list *l,
                        enum MHD_Result *ret)
{
    const char *limit = api_query(r, "limit"), *after = api_query(r, "after");
    const char *slash = after ? strchr(after, '/') : NULL;
    char d[DEPOT_DEALER_MAX + 1], k[DEPOT_SKU_MAX + 1];
    l->limit = -1;
    if (limit && !api_parse_ll(limit, 1, STOCK_LIMIT_MAX, &l->limit)) {
        *ret = api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "limit is not 1..10000");
        return false;
    }
    if (!after)
        return true;
    if (slash && (size_t)(slash - after) <= DEPOT_DEALER_MAX) {
        snprintf(d, sizeof(d), "%.*s", (int)(slash - after), after);
        snprintf(k, sizeof(k), "%s", slash + 1);
        if (depot_dealer_id_valid(d) && depot_id_valid(slash + 1, DEPOT_SKU_MAX)) {
            memcpy(l->after_dealer, d, sizeof(d));
            memcpy(l->after_sku, k, sizeof(k));
            return true;
        }
    }
    *ret = api_send_error(api, r, MHD_HTTP_BAD_REQUEST,
                          "after is not DEALER/SKU (the X-Next-After of the page before)");
    return false;
}

enum MHD_Result api_stock_get(hub_api *api, const struct api_request *r)
{
    bool bad = false;
    const char *dealer = api_query_id(r, "dealer", DEPOT_DEALER_MAX, &bad);
    const char *sku = api_query_id(r, "sku", DEPOT_SKU_MAX, &bad);
    struct stock_list *l;
    enum MHD_Result ret = MHD_NO;
    char next[sizeof(r->reply->next)] = "";
    hub_store *s;
    depot_err err = DEPOT_OK;

    if (bad)
        return api_send_error(api, r, MHD_HTTP_BAD_REQUEST, "dealer or sku is not a valid id");
    l = depot_calloc(1, sizeof(*l));
    if (l)
        l->rows = depot_malloc(STOCK_PAGE * sizeof(*l->rows));
    if (!l || !l->rows) {
        if (l)
            list_free(l);
        return api_send_error(api, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    l->api = api;
    l->now = depot_now_ms();
    l->offline_after_ms = api->cfg->offline_after_s * 1000LL;
    snprintf(l->dealer, sizeof(l->dealer), "%s", dealer ? dealer : "");
    snprintf(l->sku, sizeof(l->sku), "%s", sku ? sku : "");
    if (!read_paging(api, r, l, &ret)) {
        list_free(l);
        return ret;
    }
    s = api_reader_take(api);
    ret = stock_extra_new(api, r, s, &l->x);
    api_reader_give(api, s);
    if (!l->x) { /* answered */
        list_free(l);
        return ret;
    }
    if (l->x->region) { /* the request's text is not kept while the body streams */
        snprintf(l->region, sizeof(l->region), "%s", l->x->region);
        l->x->region = l->region;
    }
    err = next_page(l);
    if (err == DEPOT_OK && !l->ended && r->c && l->limit < 0) /* the rest made as it is sent */
        return api_send_stream(api, r, "application/json", list_read, l, list_free);
    while (err == DEPOT_OK && !l->ended)
        err = next_page(l);
    if (err == DEPOT_OK && l->more && l->limit == 0)
        snprintf(next, sizeof(next), "%s/%s", l->after_dealer, l->after_sku);
    ret = api_send_page(api, r, &l->b, err, next);
    l->b.p = NULL; /* the answer took it */
    list_free(l);
    return ret;
}
