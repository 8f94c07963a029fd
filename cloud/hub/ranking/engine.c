/*
 * The ranking engine (see ranking/engine.h for the KPIs).
 *
 * Data layout:
 *
 *   dealers  --uthash(id)-->  rk_dealer { presence; months[] sorted by period }
 *                                              |
 *                             rk_month { invoiced, paid, orders, defective, online_ms,
 *                                        units by SKU index, in pages of 64 }
 *   skus     --uthash(name)--> rk_sku { index into price[] } (NO_PRICE: not in the catalog)
 *
 * A fact touches one month of one dealer: O(1). Sales are kept as units per
 * SKU, not as money, so that a catalog change revalues them and that an
 * incremental run equals a run from scratch on the same facts (the board
 * multiplies units by the current prices). The board walks every dealer's
 * month of the period: O(dealers x SKUs picked), a few ms for 10,000
 * dealers x 50 SKUs, plus the sort.
 *
 * Invariants:
 *   1. Closed online intervals of a dealer never overlap: an interval opens
 *      at or after the end of the previous one (closed_upto), so online time
 *      is never counted twice.
 *   2. Every aggregate is an integer sum of deltas, so the order in which
 *      facts arrive does not change the board.
 *   3. bytes counts every byte this engine allocated and has not freed.
 */
#include "ranking/engine.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/money.h"

#define MS_PER_DAY 86400000LL
#define NO_PRICE (-1LL)

/* A month's units are kept by SKU index in pages of this many (a sparse array). */
#define UNITS_PAGE 64

struct rk_sku {
    UT_hash_handle hh;
    int32_t idx;
    char name[]; /* NUL-terminated */
};

struct rk_month {
    int period;
    long long invoiced, paid, orders, defective, online_ms;
    long long tasks_due, tasks_done, diversions;
    long long **pages; /* units of SKU i: pages[i / UNITS_PAGE][i % UNITS_PAGE]; NULL: none */
    uint32_t npages;
};

struct rk_dealer {
    char id[DEPOT_DEALER_MAX + 1];
    UT_hash_handle hh;
    struct rk_month *m;
    uint32_t nm, capm;
    bool open;
    long long since, last_seen, closed_upto;
};

struct hub_rank {
    struct hub_rank_params p;
    struct rk_dealer *dmap; /* uthash by id */
    struct rk_dealer *last; /* the dealer of the last fact: facts come in runs per dealer */
    struct rk_sku *smap;    /* uthash by name */
    struct rk_dealer **d;
    size_t nd, capd;
    char **sku_names;
    long long *price;
    size_t nsku, capsku, catalog_size;
    size_t bytes;
};

/* ---- allocation, counted (invariant 3) ---- */

static void *rk_calloc(hub_rank *r, size_t n, size_t size)
{
    void *p = depot_calloc(n, size);
    if (p)
        r->bytes += n * size;
    return p;
}

static void *rk_grow(hub_rank *r, void *old, size_t old_size, size_t new_size)
{
    void *p = depot_realloc(old, new_size);
    if (p)
        r->bytes += new_size - old_size;
    return p;
}

static void rk_release(hub_rank *r, void *p, size_t size)
{
    if (p)
        r->bytes -= size;
    depot_free(p);
}

/* ---- periods ---- */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian; Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

int hub_period_of(long long ms)
{
    long long y;
    unsigned m;
    if (ms < 0)
        return 0;
    civil_from_days(ms / MS_PER_DAY, &y, &m);
    return (int)((y - 1970) * 12 + (m - 1));
}

long long hub_period_start(int period)
{
    return days_from_civil(1970 + period / 12, (unsigned)(period % 12 + 1), 1) * MS_PER_DAY;
}

void hub_period_text(int period, char out[HUB_PERIOD_TEXT])
{
    unsigned p = period < 0 ? 0 : (unsigned)period;
    unsigned y = (1970 + p / 12) % 10000, m = p % 12 + 1;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '\0';
}

bool hub_period_parse(const char *text, int *period)
{
    int y, m;
    char tail;
    if (!text || strlen(text) != 7 || text[4] != '-' ||
        sscanf(text, "%4d-%2d%c", &y, &m, &tail) != 2 || y < 1970 || m < 1 || m > 12)
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (text[i] < '0' || text[i] > '9'))
            return false;
    *period = (y - 1970) * 12 + m - 1;
    return true;
}

const char *hub_kpi_name(enum hub_kpi k)
{
    static const char *const names[] = {"sales",     "collection", "penetration", "accuracy",
                                        "freshness", "tasks",      "diversion"};
    return (unsigned)k < HUB_KPI__COUNT ? names[k] : "?";
}

/* ---- engine ---- */

depot_err hub_rank_new(const struct hub_rank_params *params, hub_rank **out)
{
    hub_rank *r = depot_calloc(1, sizeof(*r));
    *out = r;
    if (!r)
        return DEPOT_ERR_NOMEM;
    r->p = *params;
    r->bytes = sizeof(*r);
    return DEPOT_OK;
}

static void month_free(struct rk_month *m)
{
    for (uint32_t p = 0; p < m->npages; p++)
        depot_free(m->pages[p]);
    depot_free(m->pages);
}

void hub_rank_free(hub_rank *r)
{
    if (!r)
        return;
    HASH_CLEAR(hh, r->dmap); /* the tables only: the items are freed below */
    HASH_CLEAR(hh, r->smap);
    for (size_t i = 0; i < r->nd; i++) {
        for (uint32_t j = 0; j < r->d[i]->nm; j++)
            month_free(&r->d[i]->m[j]);
        depot_free(r->d[i]->m);
        depot_free(r->d[i]);
    }
    for (size_t i = 0; i < r->nsku; i++)
        depot_free(r->sku_names[i] - offsetof(struct rk_sku, name));
    depot_free(r->sku_names);
    depot_free(r->price);
    depot_free(r->d);
    depot_free(r);
}

/* The bytes of a uthash table beyond the handles inside its items (counted with them). */
#define TABLE_BYTES(head)                                                                        \
    ((head) ? HASH_OVERHEAD(hh, head) - HASH_COUNT(head) * sizeof(UT_hash_handle) : 0)

size_t hub_rank_memory(const hub_rank *r)
{
    return r->bytes + TABLE_BYTES(r->dmap) + TABLE_BYTES(r->smap);
}

static struct rk_dealer *dealer_get(hub_rank *r, const char *id)
{
    struct rk_dealer *d;
    if (r->last && !strcmp(r->last->id, id))
        return r->last;
    HASH_FIND_STR(r->dmap, id, d);
    if (d)
        return r->last = d;
    if (!depot_id_valid(id, DEPOT_DEALER_MAX))
        return NULL;
    if (r->nd == r->capd) {
        size_t cap = r->capd ? r->capd * 2 : 64;
        struct rk_dealer **p = rk_grow(r, r->d, r->capd * sizeof(*p), cap * sizeof(*p));
        if (!p)
            return NULL;
        r->d = p;
        r->capd = cap;
    }
    d = rk_calloc(r, 1, sizeof(*d));
    if (!d)
        return NULL;
    snprintf(d->id, sizeof(d->id), "%s", id);
    HASH_ADD_STR(r->dmap, id, d);
    if (!DEPOT_HASH_ADDED(d)) {
        rk_release(r, d, sizeof(*d));
        return NULL;
    }
    r->d[r->nd++] = d;
    return r->last = d;
}

static const struct rk_month *month_find(const struct rk_dealer *d, int period)
{
    size_t lo = 0, hi = d->nm;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->m[mid].period < period)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nm && d->m[lo].period == period ? &d->m[lo] : NULL;
}

/* The month of d for period, made if missing (months stay sorted). */
static struct rk_month *month_get(hub_rank *r, struct rk_dealer *d, int period)
{
    const struct rk_month *found = month_find(d, period);
    uint32_t at = 0;
    if (found)
        return (struct rk_month *)found;
    if (d->nm == d->capm) {
        uint32_t cap = d->capm ? d->capm * 2 : 4;
        struct rk_month *m = rk_grow(r, d->m, d->capm * sizeof(*m), cap * sizeof(*m));
        if (!m)
            return NULL;
        d->m = m;
        d->capm = cap;
    }
    while (at < d->nm && d->m[at].period < period)
        at++;
    memmove(&d->m[at + 1], &d->m[at], (d->nm - at) * sizeof(*d->m));
    memset(&d->m[at], 0, sizeof(*d->m));
    d->m[at].period = period;
    d->nm++;
    return &d->m[at];
}

static int32_t sku_index(hub_rank *r, const char *sku)
{
    struct rk_sku *e;
    size_t len = strlen(sku);
    HASH_FIND(hh, r->smap, sku, len, e);
    if (e)
        return e->idx;
    if (r->nsku == r->capsku) {
        size_t cap = r->capsku ? r->capsku * 2 : 64;
        char **names = rk_grow(r, r->sku_names, r->capsku * sizeof(*names), cap * sizeof(*names));
        if (!names)
            return -1;
        r->sku_names = names;
        long long *price = rk_grow(r, r->price, r->capsku * sizeof(*price), cap * sizeof(*price));
        if (!price)
            return -1;
        r->price = price;
        r->capsku = cap;
    }
    e = depot_calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return -1;
    memcpy(e->name, sku, len + 1);
    e->idx = (int32_t)r->nsku;
    HASH_ADD_KEYPTR(hh, r->smap, e->name, len, e);
    if (!DEPOT_HASH_ADDED(e)) {
        depot_free(e);
        return -1;
    }
    r->bytes += sizeof(*e) + len + 1;
    r->sku_names[r->nsku] = e->name;
    r->price[r->nsku] = NO_PRICE;
    return (int32_t)r->nsku++;
}

depot_err hub_rank_catalog_begin(hub_rank *r)
{
    for (size_t i = 0; i < r->nsku; i++)
        r->price[i] = NO_PRICE;
    r->catalog_size = 0;
    return DEPOT_OK;
}

depot_err hub_rank_catalog_item(hub_rank *r, const char *sku, long long price)
{
    int32_t i = sku_index(r, sku);
    if (i < 0)
        return DEPOT_ERR_NOMEM;
    if (r->price[i] == NO_PRICE)
        r->catalog_size++;
    r->price[i] = price < 0 ? 0 : price;
    return DEPOT_OK;
}

/* units[sku] += n in month m: a page of UNITS_PAGE counters per range of SKU indices that the
 * dealer sold from that month, so a sale is two array steps and a month costs memory only for the
 * ranges it touches. */
static depot_err units_add(hub_rank *r, struct rk_month *m, int32_t sku, long long n)
{
    uint32_t p = (uint32_t)sku / UNITS_PAGE;
    if (p >= m->npages) {
        long long **pages =
            rk_grow(r, m->pages, m->npages * sizeof(*pages), (p + 1) * sizeof(*pages));
        if (!pages)
            return DEPOT_ERR_NOMEM;
        memset(&pages[m->npages], 0, (p + 1 - m->npages) * sizeof(*pages));
        m->pages = pages;
        m->npages = p + 1;
    }
    if (!m->pages[p] && !(m->pages[p] = rk_calloc(r, UNITS_PAGE, sizeof(**m->pages))))
        return DEPOT_ERR_NOMEM;
    m->pages[p][(uint32_t)sku % UNITS_PAGE] += n;
    return DEPOT_OK;
}

depot_err hub_rank_sale(hub_rank *r, const char *dealer, const char *sku, long long at,
                        long long units)
{
    struct rk_dealer *d = dealer_get(r, dealer);
    struct rk_month *m = d ? month_get(r, d, hub_period_of(at)) : NULL;
    int32_t i = m ? sku_index(r, sku) : -1;
    if (!d)
        return depot_id_valid(dealer, DEPOT_DEALER_MAX) ? DEPOT_ERR_NOMEM : DEPOT_ERR_INVAL;
    if (i < 0)
        return DEPOT_ERR_NOMEM;
    return units_add(r, m, i, units);
}

/* The month of dealer at time at, or NULL (*err says why). */
static struct rk_month *fact_month(hub_rank *r, const char *dealer, long long at, depot_err *err)
{
    struct rk_dealer *d = dealer_get(r, dealer);
    struct rk_month *m = d ? month_get(r, d, hub_period_of(at)) : NULL;
    *err = m                                               ? DEPOT_OK
           : d || depot_id_valid(dealer, DEPOT_DEALER_MAX) ? DEPOT_ERR_NOMEM
                                                           : DEPOT_ERR_INVAL;
    return m;
}

depot_err hub_rank_payment(hub_rank *r, const char *dealer, long long at, long long cents)
{
    depot_err err;
    struct rk_month *m = fact_month(r, dealer, at, &err);
    if (m)
        m->paid += cents;
    return err;
}

depot_err hub_rank_invoice(hub_rank *r, const char *dealer, long long at, long long cents)
{
    depot_err err;
    struct rk_month *m = fact_month(r, dealer, at, &err);
    if (m)
        m->invoiced += cents;
    return err;
}

depot_err hub_rank_order(hub_rank *r, const char *dealer, long long at, bool defective)
{
    depot_err err;
    struct rk_month *m = fact_month(r, dealer, at, &err);
    if (m) {
        m->orders++;
        m->defective += defective;
    }
    return err;
}

depot_err hub_rank_task(hub_rank *r, const char *dealer, long long due, int due_delta,
                        int done_delta)
{
    depot_err err;
    struct rk_month *m = fact_month(r, dealer, due, &err);
    if (m) {
        m->tasks_due += due_delta;
        m->tasks_done += done_delta;
    }
    return err;
}

depot_err hub_rank_diversion(hub_rank *r, const char *dealer, long long at)
{
    depot_err err;
    struct rk_month *m = fact_month(r, dealer, at, &err);
    if (m)
        m->diversions++;
    return err;
}

/* ---- presence ---- */

/* Adds [a, b) to the online time of the months it spans. */
static depot_err add_online(hub_rank *r, struct rk_dealer *d, long long a, long long b)
{
    while (a < b) {
        int p = hub_period_of(a);
        long long end = hub_period_start(p + 1);
        struct rk_month *m = month_get(r, d, p);
        if (!m)
            return DEPOT_ERR_NOMEM;
        m->online_ms += (b < end ? b : end) - a;
        a = end;
    }
    return DEPOT_OK;
}

static void open_at(struct rk_dealer *d, long long at)
{
    d->open = true;
    d->since = at > d->closed_upto ? at : d->closed_upto;
    if (at > d->last_seen)
        d->last_seen = at;
}

static depot_err close_at(hub_rank *r, struct rk_dealer *d, long long at)
{
    long long end = at > d->since ? at : d->since;
    d->open = false;
    d->closed_upto = end;
    return add_online(r, d, d->since, end);
}

int hub_rank_seen(hub_rank *r, const char *dealer, long long at, struct hub_rank_transition out[2])
{
    struct rk_dealer *d = dealer_get(r, dealer);
    int n = 0;
    if (!d)
        return 0;
    if (d->open && at > d->last_seen + r->p.offline_after_ms) {
        long long end = d->last_seen + r->p.offline_after_ms;
        if (close_at(r, d, end) == DEPOT_OK)
            out[n++] = (struct hub_rank_transition){d->closed_upto, false};
    }
    if (!d->open) {
        open_at(d, at);
        out[n++] = (struct hub_rank_transition){d->since, true};
    } else if (at > d->last_seen) {
        d->last_seen = at;
    }
    return n;
}

int hub_rank_state(hub_rank *r, const char *dealer, long long at, bool online,
                   struct hub_rank_transition out[2])
{
    struct rk_dealer *d;
    long long cap;
    if (online)
        return hub_rank_seen(r, dealer, at, out);
    d = dealer_get(r, dealer);
    if (!d || !d->open)
        return 0;
    cap = d->last_seen + r->p.offline_after_ms;
    if (close_at(r, d, at < cap ? at : cap) != DEPOT_OK)
        return 0;
    out[0] = (struct hub_rank_transition){d->closed_upto, false};
    return 1;
}

depot_err hub_rank_mark(hub_rank *r, const char *dealer, long long at, bool online)
{
    struct rk_dealer *d = dealer_get(r, dealer);
    if (!d)
        return DEPOT_ERR_INVAL;
    if (online && !d->open)
        open_at(d, at);
    else if (!online && d->open)
        return close_at(r, d, at);
    return DEPOT_OK;
}

depot_err hub_rank_last_seen(hub_rank *r, const char *dealer, long long at)
{
    struct rk_dealer *d = dealer_get(r, dealer);
    if (!d)
        return DEPOT_ERR_INVAL;
    if (at > d->last_seen)
        d->last_seen = at;
    return DEPOT_OK;
}

/* ---- the board ---- */

double hub_rank_tier_pct(const struct hub_rank_params *p, double score)
{
    /* 1e-9: a score worked out as exactly a threshold must not miss it by rounding */
    for (size_t i = 0; i < p->n_tiers; i++)
        if (score + 1e-9 >= p->tiers[i].min_score)
            return p->tiers[i].pct;
    return 0;
}

/* The open interval's online time inside [a, b). */
static long long open_overlap(const hub_rank *r, const struct rk_dealer *d, long long a,
                              long long b)
{
    long long s, e;
    if (!d->open)
        return 0;
    s = d->since > a ? d->since : a;
    e = d->last_seen + r->p.offline_after_ms;
    e = e < b ? e : b;
    return e > s ? e - s : 0;
}

static void month_sales(const hub_rank *r, const struct rk_month *m, struct hub_rank_entry *e)
{
    for (uint32_t p = 0; m && p < m->npages; p++)
        for (uint32_t k = 0; m->pages[p] && k < UNITS_PAGE; k++) {
            long long units = m->pages[p][k];
            size_t sku = (size_t)p * UNITS_PAGE + k;
            if (!units || r->price[sku] == NO_PRICE)
                continue;
            e->sales += units * r->price[sku];
            e->skus_sold += units > 0;
        }
}

/* Fills e's raw figures and KPI values; false if the dealer has nothing in the period. */
static bool entry_fill(const hub_rank *r, const struct rk_dealer *d, int period, long long now,
                       struct hub_rank_entry *e)
{
    long long a = hub_period_start(period), b = hub_period_start(period + 1);
    long long horizon = now < b ? now : b;
    const struct rk_month *m = month_find(d, period);
    long long open = open_overlap(r, d, a, horizon);

    if (!m && open == 0)
        return false;
    memset(e, 0, sizeof(*e));
    snprintf(e->dealer, sizeof(e->dealer), "%s", d->id);
    month_sales(r, m, e);
    if (m) {
        e->invoiced = m->invoiced;
        e->paid = m->paid;
        e->orders = m->orders;
        e->defective = m->defective;
        e->online_ms = m->online_ms;
        e->tasks_due = m->tasks_due;
        e->tasks_done = m->tasks_done;
        e->diversions = m->diversions;
    }
    e->online_ms += open;
    e->elapsed_ms = horizon > a ? horizon - a : 0;
    e->catalog_size = (long long)r->catalog_size;
    e->value[HUB_KPI_SALES] = (double)e->sales;
    e->value[HUB_KPI_COLLECTION] =
        e->invoiced > 0 ? fmin(1.0, (double)e->paid / (double)e->invoiced) : 1.0;
    e->value[HUB_KPI_PENETRATION] =
        e->catalog_size > 0 ? (double)e->skus_sold / (double)e->catalog_size : 0.0;
    e->value[HUB_KPI_ACCURACY] =
        e->orders > 0 ? (double)(e->orders - e->defective) / (double)e->orders : 1.0;
    e->value[HUB_KPI_FRESHNESS] =
        e->elapsed_ms > 0 ? fmin(1.0, (double)e->online_ms / (double)e->elapsed_ms) : 0.0;
    e->value[HUB_KPI_TASKS] =
        e->tasks_due > 0 ? fmin(1.0, (double)e->tasks_done / (double)e->tasks_due) : 1.0;
    e->value[HUB_KPI_DIVERSION] = 1.0 / (1.0 + (double)e->diversions);
    return true;
}

static int by_score(const void *x, const void *y)
{
    const struct hub_rank_entry *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->dealer, b->dealer);
}

static int by_dealer(const void *x, const void *y)
{
    return strcmp(((const struct hub_rank_entry *)x)->dealer,
                  ((const struct hub_rank_entry *)y)->dealer);
}

/* Normalises, scores, sorts, ranks and prices the rebates of b's entries. */
static void board_score(struct hub_rank_board *b)
{
    double wsum = 0;
    for (int k = 0; k < HUB_KPI__COUNT; k++) {
        wsum += b->params.weights[k];
        b->min[k] = b->n ? b->e[0].value[k] : 0;
        b->max[k] = b->min[k];
        for (size_t i = 1; i < b->n; i++) {
            b->min[k] = fmin(b->min[k], b->e[i].value[k]);
            b->max[k] = fmax(b->max[k], b->e[i].value[k]);
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        struct hub_rank_entry *e = &b->e[i];
        double sum = 0;
        for (int k = 0; k < HUB_KPI__COUNT; k++) {
            double span = b->max[k] - b->min[k];
            e->norm[k] = span > 0 ? (e->value[k] - b->min[k]) / span : 1.0;
            sum += b->params.weights[k] * e->norm[k];
        }
        e->score = wsum > 0 ? sum / wsum : 0;
        e->rebate_pct = hub_rank_tier_pct(&b->params, e->score);
        e->rebate = e->sales > 0 ? llround((double)e->sales * e->rebate_pct / 100.0) : 0;
    }
    qsort(b->e, b->n, sizeof(*b->e), by_score);
    for (size_t i = 0; i < b->n; i++)
        b->e[i].rank = (long long)i + 1;
}

static depot_err board_core(const hub_rank *r, int period, long long now,
                            struct hub_rank_board *out)
{
    memset(out, 0, sizeof(*out));
    out->period = period;
    out->now = now;
    out->params = r->p;
    out->e = depot_calloc(r->nd ? r->nd : 1, sizeof(*out->e));
    if (!out->e)
        return DEPOT_ERR_NOMEM;
    for (size_t i = 0; i < r->nd; i++)
        out->n += entry_fill(r, r->d[i], period, now, &out->e[out->n]);
    board_score(out);
    return DEPOT_OK;
}

depot_err hub_rank_compute(const hub_rank *r, int period, long long now, struct hub_rank_board *out)
{
    struct hub_rank_board prev;
    long long start = hub_period_start(period);
    depot_err err = board_core(r, period, now, out);
    if (err == DEPOT_OK && period > 0)
        err = board_core(r, period - 1, now < start ? now : start, &prev);
    if (err != DEPOT_OK) {
        hub_rank_board_clear(out);
        return err;
    }
    if (period > 0) {
        qsort(prev.e, prev.n, sizeof(*prev.e), by_dealer);
        for (size_t i = 0; i < out->n; i++) {
            const struct hub_rank_entry *p =
                bsearch(&out->e[i], prev.e, prev.n, sizeof(*prev.e), by_dealer);
            out->e[i].has_movement = p != NULL;
            out->e[i].movement = p ? p->rank - out->e[i].rank : 0;
        }
        hub_rank_board_clear(&prev);
    }
    return DEPOT_OK;
}

void hub_rank_board_clear(struct hub_rank_board *b)
{
    depot_free(b->e);
    b->e = NULL;
    b->n = 0;
}

const struct hub_rank_entry *hub_rank_board_find(const struct hub_rank_board *b, const char *dealer)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->e[i].dealer, dealer))
            return &b->e[i];
    return NULL;
}

/* ---- how ---- */

static void how_kpi(const struct hub_rank_board *b, const struct hub_rank_entry *e, int k,
                    char *out, size_t len)
{
    char v[DEPOT_MONEY_TEXT], lo[DEPOT_MONEY_TEXT], hi[DEPOT_MONEY_TEXT];
    if (k == HUB_KPI_SALES) {
        depot_money_format(e->sales, v, sizeof(v));
        depot_money_format((long long)b->min[k], lo, sizeof(lo));
        depot_money_format((long long)b->max[k], hi, sizeof(hi));
    } else {
        snprintf(v, sizeof(v), "%.4f", e->value[k]);
        snprintf(lo, sizeof(lo), "%.4f", b->min[k]);
        snprintf(hi, sizeof(hi), "%.4f", b->max[k]);
    }
    if (b->max[k] > b->min[k])
        snprintf(out, len, "normalised (%s - min %s) / (max %s - min %s) = %.4f", v, lo, hi, lo,
                 e->norm[k]);
    else
        snprintf(out, len, "every dealer has the same: normalised 1");
}

static void how_raw(const struct hub_rank_entry *e, int k, char *out, size_t len)
{
    char a[DEPOT_MONEY_TEXT], b[DEPOT_MONEY_TEXT];
    switch (k) {
    case HUB_KPI_SALES:
        depot_money_format(e->sales, a, sizeof(a));
        snprintf(out, len, "sales: units picked x catalog price = %s", a);
        return;
    case HUB_KPI_COLLECTION:
        depot_money_format(e->paid, a, sizeof(a));
        depot_money_format(e->invoiced, b, sizeof(b));
        snprintf(out, len, "collection: paid %s / invoiced %s = %.4f%s", a, b, e->value[k],
                 e->invoiced > 0 ? " (at most 1)" : " (nothing invoiced: 1)");
        return;
    case HUB_KPI_PENETRATION:
        snprintf(out, len, "penetration: %lld of %lld catalog SKUs sold = %.4f", e->skus_sold,
                 e->catalog_size, e->value[k]);
        return;
    case HUB_KPI_ACCURACY:
        snprintf(out, len, "accuracy: %lld of %lld orders without defect = %.4f%s",
                 e->orders - e->defective, e->orders, e->value[k],
                 e->orders ? "" : " (no orders: 1)");
        return;
    case HUB_KPI_TASKS:
        snprintf(out, len, "tasks: %lld of %lld due this month done by their due day = %.4f%s",
                 e->tasks_done, e->tasks_due, e->value[k], e->tasks_due ? "" : " (none due: 1)");
        return;
    case HUB_KPI_DIVERSION:
        snprintf(out, len, "diversion: 1 / (1 + %lld of its items found at other dealers) = %.4f",
                 e->diversions, e->value[k]);
        return;
    default:
        snprintf(out, len, "freshness: online %.2f h of %.2f h elapsed = %.4f",
                 (double)e->online_ms / 3600000.0, (double)e->elapsed_ms / 3600000.0, e->value[k]);
    }
}

void hub_rank_how(const struct hub_rank_board *b, const struct hub_rank_entry *e, char *buf,
                  size_t len)
{
    size_t used = 0;
    double wsum = 0;
    char raw[200], norm[200], sales[DEPOT_MONEY_TEXT], rebate[DEPOT_MONEY_TEXT];
    buf[0] = '\0';
    for (int k = 0; k < HUB_KPI__COUNT && used < len; k++) {
        how_raw(e, k, raw, sizeof(raw));
        how_kpi(b, e, k, norm, sizeof(norm));
        used += (size_t)snprintf(buf + used, len - used, "%s, %s, weight %.4g; ", raw, norm,
                                 b->params.weights[k]);
        wsum += b->params.weights[k];
    }
    depot_money_format(e->sales, sales, sizeof(sales));
    depot_money_format(e->rebate, rebate, sizeof(rebate));
    if (used < len)
        used += (size_t)snprintf(buf + used, len - used,
                                 "score = sum(weight x normalised) / %.4g = %.4f; rank %lld of "
                                 "%zu; ",
                                 wsum, e->score, e->rank, b->n);
    for (size_t i = 0; used < len && e->rebate_pct > 0 && i < b->params.n_tiers; i++)
        if (e->score + 1e-9 >= b->params.tiers[i].min_score) {
            snprintf(buf + used, len - used, "tier score >= %.4g: rebate %.4g %% of sales %s = %s",
                     b->params.tiers[i].min_score, e->rebate_pct, sales, rebate);
            break;
        }
    if (used < len && e->rebate_pct <= 0)
        snprintf(buf + used, len - used, "below every tier: no rebate");
}

/* ---- configuration text ---- */

/* A number in [0, max] at *v, advancing over it and one ',' (or to the end). */
static bool next_number(const char **v, char stop, double max, double *out)
{
    char *end;
    double x = strtod(*v, &end);
    if (end == *v || !(x >= 0 && x <= max))
        return false;
    while (*end == ' ')
        end++;
    if (*end != stop && *end != '\0' && *end != ',')
        return false;
    *out = x;
    *v = end + (*end == stop && stop != '\0');
    return true;
}

bool hub_rank_parse_weights(const char *v, double weights[HUB_KPI__COUNT])
{
    double w[HUB_KPI__COUNT] = {0}, sum = 0;
    for (int k = 0; k < HUB_KPI__COUNT; k++) {
        while (*v == ' ')
            v++;
        if (!next_number(&v, ',', 1e6, &w[k]))
            return false;
        sum += w[k];
        if ((k == HUB_KPI_TASKS - 1 || k == HUB_KPI_DIVERSION - 1) && !*v && v[-1] != ',')
            break; /* five or six: the weights from before the tasks or diversion KPI */
        if (k + 1 < HUB_KPI__COUNT && v[-1] != ',')
            return false;
    }
    if (*v || v[-1] == ',' || sum <= 0)
        return false;
    memcpy(weights, w, sizeof(w));
    return true;
}

static int by_threshold(const void *x, const void *y)
{
    double a = ((const struct hub_rank_tier *)x)->min_score;
    double b = ((const struct hub_rank_tier *)y)->min_score;
    return a > b ? -1 : a < b;
}

bool hub_rank_parse_tiers(const char *v, struct hub_rank_params *p)
{
    struct hub_rank_tier t[HUB_RANK_TIERS_MAX];
    size_t n = 0;
    while (*v == ' ')
        v++;
    while (*v) {
        if (n == HUB_RANK_TIERS_MAX || !next_number(&v, ':', 1.0, &t[n].min_score) ||
            v[-1] != ':' || !next_number(&v, ',', 100.0, &t[n].pct))
            return false;
        for (size_t i = 0; i < n; i++)
            if (t[i].min_score == t[n].min_score)
                return false;
        n++;
        if (v[-1] == ',' && !*v)
            return false;
        while (*v == ' ')
            v++;
    }
    qsort(t, n, sizeof(t[0]), by_threshold);
    memcpy(p->tiers, t, n * sizeof(t[0]));
    p->n_tiers = n;
    return true;
}
