/*
 * Rebate statements: the close of a period (statements.h).
 *
 * A close, in one transaction, computes the ranking's board of the period
 * as of now from every fact the store holds (the figures GET
 * /api/v1/ranking gives once this hub has replayed them all), then, for
 * each dealer on it: its sales per SKU and day from the sales history (each
 * day as the pick movements that make it, when the hub has them all) and
 * its payments of the period, into the statement's lines; the JSON text printed
 * once (cJSON keeps the order the keys were added in, so the text is the
 * same for the same figures), signed, and added unless the dealer has one
 * for the period. The unique (dealer, period) of the store makes two hubs
 * closing at once keep one statement each; nothing is ever rewritten.
 */
#include "statements.h"
#include "webhooks.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "depot/money.h"
#include "depot/pki.h"
#include "store/alerts.h"

struct hub_statements {
    pki_signer *signer; /* NULL: closing is refused */
    char *cert_pem;
    pthread_mutex_t lock; /* one close at a time: the signer's RNG is not shared safely */
};

depot_err hub_statements_new(const struct hub_config *cfg, hub_statements **out)
{
    hub_statements *st = depot_calloc(1, sizeof(*st));
    if (!st)
        return DEPOT_ERR_NOMEM;
    pthread_mutex_init(&st->lock, NULL);
    if (!cfg->mqtt_key[0] || !cfg->mqtt_cert[0] ||
        pki_identity_open(cfg->mqtt_key, cfg->mqtt_cert, DEPOT_CERT_PEM_MAX, &st->signer,
                          &st->cert_pem) != DEPOT_OK)
        LOG_WARN("statements: no key and certificate to sign with ([mqtt] key, cert): "
                 "periods cannot be closed");
    *out = st;
    return DEPOT_OK;
}

void hub_statements_free(hub_statements *st)
{
    if (!st)
        return;
    pki_signer_free(st->signer);
    depot_free(st->cert_pem);
    pthread_mutex_destroy(&st->lock);
    depot_free(st);
}

/* ---- what a close reads once: the catalog's prices and the period's (dealer, sku) pairs ---- */

struct price {
    char sku[DEPOT_SKU_MAX + 1];
    long long cents;
};

struct pair {
    char dealer[DEPOT_DEALER_MAX + 1], sku[DEPOT_SKU_MAX + 1];
};

struct inputs {
    struct price *prices;
    size_t n_prices, cap_prices;
    struct pair *pairs;
    size_t n_pairs, cap_pairs;
    bool nomem;
};

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
    size_t c = *cap ? *cap * 2 : 64;
    void *q;
    if (n < *cap)
        return true;
    if (!(q = depot_realloc(*p, c * size)))
        return false;
    *p = q;
    *cap = c;
    return true;
}

static int on_price(void *arg, const struct hub_catalog_item *item)
{
    struct inputs *in = arg;
    if (!grow((void **)&in->prices, &in->cap_prices, in->n_prices, sizeof(*in->prices))) {
        in->nomem = true;
        return 1;
    }
    snprintf(in->prices[in->n_prices].sku, sizeof(in->prices[0].sku), "%s", item->sku);
    in->prices[in->n_prices++].cents = item->price;
    return 0;
}

static int on_pair(void *arg, const char *dealer, const char *sku, long long sum)
{
    struct inputs *in = arg;
    (void)sum;
    if (!grow((void **)&in->pairs, &in->cap_pairs, in->n_pairs, sizeof(*in->pairs))) {
        in->nomem = true;
        return 1;
    }
    snprintf(in->pairs[in->n_pairs].dealer, sizeof(in->pairs[0].dealer), "%s", dealer);
    snprintf(in->pairs[in->n_pairs++].sku, sizeof(in->pairs[0].sku), "%s", sku);
    return 0;
}

static int price_cmp(const void *a, const void *b)
{
    return strcmp(((const struct price *)a)->sku, ((const struct price *)b)->sku);
}

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->dealer, y->dealer);
    return c ? c : strcmp(x->sku, y->sku);
}

/* The index of dealer's first pair (pairs sorted by pair_cmp), or n_pairs if it has none. */
static size_t first_pair(const struct inputs *in, const char *dealer)
{
    size_t lo = 0, hi = in->n_pairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(in->pairs[mid].dealer, dealer) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The catalog price of sku, -1 when it is not in the catalog (its picks are worth nothing). */
static long long price_of(const struct inputs *in, const char *sku)
{
    struct price key, *p;
    snprintf(key.sku, sizeof(key.sku), "%s", sku);
    p = in->n_prices ? bsearch(&key, in->prices, in->n_prices, sizeof(key), price_cmp) : NULL;
    return p ? p->cents : -1;
}

static depot_err read_inputs(hub_store *s, long long from_day, long long to_day, struct inputs *in)
{
    long long version = 0;
    depot_err err = hub_store_catalog_list(s, &version, on_price, in);
    if (err == DEPOT_OK)
        err = hub_store_picked_sums(s, from_day, to_day - 1, on_pair, in);
    if (err == DEPOT_OK && in->nomem)
        err = DEPOT_ERR_NOMEM;
    if (err == DEPOT_OK && in->n_prices)
        qsort(in->prices, in->n_prices, sizeof(*in->prices), price_cmp);
    if (err == DEPOT_OK && in->n_pairs)
        qsort(in->pairs, in->n_pairs, sizeof(*in->pairs), pair_cmp);
    return err;
}

static void inputs_clear(struct inputs *in)
{
    depot_free(in->prices);
    depot_free(in->pairs);
}

/* ---- one dealer's lines ---- */

struct lines {
    cJSON *array;
    size_t *listed, *cut;    /* the dealer's, over every section */
    long long units, amount; /* totals over every source line of the section, listed or not */
};

static void money(cJSON *o, const char *name, long long cents)
{
    char text[DEPOT_MONEY_TEXT];
    depot_money_format(cents, text, sizeof(text));
    cJSON_AddStringToObject(o, name, text);
}

/* A line of the statement: key, section, item; the caller adds its figures. */
static cJSON *line(cJSON *array, const char *key, const char *section, const char *item)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "section", section);
    cJSON_AddStringToObject(o, "item", item);
    cJSON_AddItemToArray(array, o);
    return o;
}

static void value_line(cJSON *array, const char *key, const char *section, const char *item,
                       const char *value)
{
    cJSON_AddStringToObject(line(array, key, section, item), "value", value);
}

/* Room for one more source line: false (counted as cut) past the bound. */
static bool source_room(struct lines *l)
{
    if (*l->listed >= HUB_STATEMENT_LINES_MAX) {
        (*l->cut)++;
        return false;
    }
    (*l->listed)++;
    return true;
}

/* One pick movement of the SKU being listed, as the store gave it. */
struct pick {
    char ledger[DEPOT_LEDGER_HEX + 1], node[DEPOT_NODE_MAX + 1];
    long long mid, ts, units;
};

struct sales_walk {
    struct lines *l;
    const char *sku;
    long long price, to_day;
    struct pick *picks; /* the SKU's pick movements of the period, in (ts, ledger, mid) order */
    size_t n_picks, cap_picks, next;
    bool partial; /* the picks stop early (HUB_STATEMENT_LINES_MAX): the last day is not whole */
    bool nomem;
};

static int on_pick(void *arg, const struct hub_move_row *mv)
{
    struct sales_walk *w = arg;
    struct pick *p;
    if (w->n_picks >= HUB_STATEMENT_LINES_MAX) {
        w->partial = true;
        return 1;
    }
    if (!grow((void **)&w->picks, &w->cap_picks, w->n_picks, sizeof(*w->picks))) {
        w->nomem = true;
        return 1;
    }
    p = &w->picks[w->n_picks++];
    snprintf(p->ledger, sizeof(p->ledger), "%s", mv->ledger);
    snprintf(p->node, sizeof(p->node), "%s", mv->node);
    p->mid = mv->mid;
    p->ts = mv->ts;
    p->units = mv->delta < 0 ? -mv->delta : 0;
    return 0;
}

static void sale_line(struct sales_walk *w, const char *key, const char *item, long long units)
{
    cJSON *o = line(w->l->array, key, "sales", item);
    cJSON_AddNumberToObject(o, "units", (double)units);
    money(o, "price", w->price);
    money(o, "amount", units * w->price);
}

/* One line per pick movement of the day [*first, *end): they are its sources. */
static void pick_lines(struct sales_walk *w, size_t first, size_t end)
{
    char key[HUB_DISPUTE_LINE_MAX + 1], item[160], at[32];
    for (size_t i = first; i < end; i++) {
        const struct pick *p = &w->picks[i];
        time_t t = (time_t)(p->ts / 1000);
        struct tm tm;
        if (!p->units || !source_room(w->l))
            continue;
        gmtime_r(&t, &tm);
        strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(key, sizeof(key), "sales.%s.%lld", p->ledger, p->mid);
        snprintf(item, sizeof(item), "%s %s picked at %s (movement %lld)", at, w->sku, p->node,
                 p->mid);
        sale_line(w, key, item, p->units);
    }
}

/*
 * A day's sales of the SKU: one line per pick movement when the stored
 * movements make the day's figure exactly (they always do for days applied
 * since the hub keeps movements, store migration 10), else one line of the
 * day's figure.
 */
static int on_day(void *arg, const struct hub_day_row *d)
{
    struct sales_walk *w = arg;
    char key[128], item[96];
    size_t first, end;
    long long sum = 0;
    if (d->day >= w->to_day)
        return 1;
    while (w->next < w->n_picks && w->picks[w->next].ts / HUB_DAY_MS < d->day)
        w->next++;
    first = end = w->next;
    while (end < w->n_picks && w->picks[end].ts / HUB_DAY_MS == d->day)
        sum += w->picks[end++].units;
    w->next = end;
    if (!d->picked)
        return 0;
    w->l->units += d->picked;
    w->l->amount += d->picked * w->price;
    if (sum == d->picked && !(w->partial && end == w->n_picks)) {
        pick_lines(w, first, end);
        return 0;
    }
    if (!source_room(w->l))
        return 0;
    depot_date_utc(d->day * HUB_DAY_MS, item);
    snprintf(key, sizeof(key), "sales.%s.%s", item, w->sku);
    snprintf(item + strlen(item), sizeof(item) - strlen(item), " %s", w->sku);
    sale_line(w, key, item, d->picked);
    return 0;
}

static depot_err sales_lines(hub_store *s, const struct inputs *in, const char *dealer,
                             long long from_day, long long to_day, struct lines *l)
{
    depot_err err = DEPOT_OK;
    for (size_t i = first_pair(in, dealer);
         i < in->n_pairs && !strcmp(in->pairs[i].dealer, dealer) && err == DEPOT_OK; i++) {
        struct sales_walk w = {.l = l,
                               .sku = in->pairs[i].sku,
                               .price = price_of(in, in->pairs[i].sku),
                               .to_day = to_day};
        if (w.price < 0)
            w.price = 0;
        if (*l->listed < HUB_STATEMENT_LINES_MAX) /* past it no line is listed anyway */
            err = hub_store_moves_between(s, dealer, w.sku, "pick", from_day * HUB_DAY_MS,
                                          to_day * HUB_DAY_MS, on_pick, &w);
        if (err == DEPOT_OK && w.nomem)
            err = DEPOT_ERR_NOMEM;
        if (err == DEPOT_OK)
            err = hub_store_history_days(s, dealer, w.sku, from_day, on_day, &w);
        depot_free(w.picks);
    }
    return err;
}

static int on_payment(void *arg, const struct hub_payment_row *p)
{
    struct lines *l = arg;
    char key[64], item[HUB_REF_MAX + 64];
    cJSON *o;
    l->amount += p->amount;
    l->units++;
    if (!source_room(l))
        return 0;
    depot_date_utc(p->at, item);
    snprintf(key, sizeof(key), "collection.payment.%lld", p->id);
    snprintf(item + strlen(item), sizeof(item) - strlen(item), " payment %lld%s%s", p->id,
             p->ref[0] ? " ref " : "", p->ref);
    o = line(l->array, key, "collection", item);
    money(o, "amount", p->amount);
    cJSON_AddStringToObject(o, "ref", p->ref);
    cJSON_AddStringToObject(o, "order", p->order);
    return 0;
}

/* ---- the statement ---- */

static double round6(double v)
{
    return round(v * 1e6) / 1e6;
}

static double weight_sum(const struct hub_rank_params *p)
{
    double sum = 0;
    for (int k = 0; k < HUB_KPI__COUNT; k++)
        sum += p->weights[k];
    return sum;
}

static void kpi_figures(cJSON *root, const struct hub_rank_board *b, const struct hub_rank_entry *e)
{
    cJSON *kpis = cJSON_AddObjectToObject(root, "kpis"), *w = cJSON_CreateObject();
    double wsum = weight_sum(&b->params);
    for (int k = 0; k < HUB_KPI__COUNT; k++) {
        cJSON *one = cJSON_AddObjectToObject(kpis, hub_kpi_name((enum hub_kpi)k));
        if (k == HUB_KPI_SALES)
            money(one, "value", e->sales);
        else
            cJSON_AddNumberToObject(one, "value", round6(e->value[k]));
        cJSON_AddNumberToObject(one, "score", round6(e->norm[k]));
        cJSON_AddNumberToObject(one, "weight", b->params.weights[k]);
        cJSON_AddNumberToObject(one, "contribution",
                                round6(wsum > 0 ? b->params.weights[k] * e->norm[k] / wsum : 0));
        cJSON_AddNumberToObject(w, hub_kpi_name((enum hub_kpi)k), b->params.weights[k]);
    }
    cJSON_AddItemToObject(root, "weights", w);
}

static void counts(cJSON *root, const struct hub_rank_entry *e)
{
    cJSON *f = cJSON_AddObjectToObject(root, "figures");
    money(f, "invoiced", e->invoiced);
    money(f, "paid", e->paid);
    cJSON_AddNumberToObject(f, "orders", (double)e->orders);
    cJSON_AddNumberToObject(f, "defective", (double)e->defective);
    cJSON_AddNumberToObject(f, "skus_sold", (double)e->skus_sold);
    cJSON_AddNumberToObject(f, "catalog_size", (double)e->catalog_size);
    cJSON_AddNumberToObject(f, "online_ms", (double)e->online_ms);
    cJSON_AddNumberToObject(f, "elapsed_ms", (double)e->elapsed_ms);
    cJSON_AddNumberToObject(f, "tasks_due", (double)e->tasks_due);
    cJSON_AddNumberToObject(f, "tasks_done", (double)e->tasks_done);
    cJSON_AddNumberToObject(f, "diversions", (double)e->diversions);
}

static const struct hub_rank_tier *tier_of(const struct hub_rank_params *p, double score)
{
    for (size_t i = 0; i < p->n_tiers; i++)
        if (score >= p->tiers[i].min_score)
            return &p->tiers[i];
    return NULL;
}

/* The summary's lines: rank, score, tier, rebate, then one per KPI. */
static void summary_lines(cJSON *a, const struct hub_rank_board *b, const struct hub_rank_entry *e)
{
    const struct hub_rank_tier *t = tier_of(&b->params, e->score);
    char v[96], sales[DEPOT_MONEY_TEXT], rebate[DEPOT_MONEY_TEXT], key[32];
    double wsum = weight_sum(&b->params);
    snprintf(v, sizeof(v), "%lld of %zu", e->rank, b->n);
    value_line(a, "rank", "summary", "rank", v);
    snprintf(v, sizeof(v), "%.6f", e->score);
    value_line(a, "score", "summary", "score", v);
    if (t)
        snprintf(v, sizeof(v), "score >= %.4g: %.4g %%", t->min_score, t->pct);
    value_line(a, "tier", "summary", "tier", t ? v : "none");
    depot_money_format(e->sales, sales, sizeof(sales));
    depot_money_format(e->rebate, rebate, sizeof(rebate));
    snprintf(v, sizeof(v), "rebate %.4g %% of sales %s", e->rebate_pct, sales);
    cJSON_AddStringToObject(line(a, "rebate", "summary", v), "amount", rebate);
    for (int k = 0; k < HUB_KPI__COUNT; k++) {
        const char *name = hub_kpi_name((enum hub_kpi)k);
        snprintf(key, sizeof(key), "kpi.%s", name);
        if (k == HUB_KPI_SALES)
            snprintf(v, sizeof(v), "%s", sales);
        else
            snprintf(v, sizeof(v), "%.6f", e->value[k]);
        snprintf(v + strlen(v), sizeof(v) - strlen(v), " score %.6f x weight %.4g = %.6f",
                 e->norm[k], b->params.weights[k],
                 wsum > 0 ? b->params.weights[k] * e->norm[k] / wsum : 0);
        value_line(a, key, "kpi", name, v);
    }
}

static void count_line(cJSON *a, const char *key, const char *section, const char *item,
                       long long n)
{
    char v[32];
    snprintf(v, sizeof(v), "%lld", n);
    value_line(a, key, section, item, v);
}

/* The lines of the KPIs whose sources are counts the ranking keeps. */
static void figure_lines(cJSON *a, const struct hub_rank_entry *e)
{
    char v[64];
    count_line(a, "penetration.skus_sold", "penetration", "catalog SKUs picked", e->skus_sold);
    count_line(a, "penetration.catalog_size", "penetration", "catalog size", e->catalog_size);
    count_line(a, "accuracy.orders", "accuracy", "orders", e->orders);
    count_line(a, "accuracy.defective", "accuracy", "defective orders", e->defective);
    snprintf(v, sizeof(v), "%.2f h", (double)e->online_ms / 3600000.0);
    value_line(a, "freshness.online", "freshness", "online and reporting", v);
    snprintf(v, sizeof(v), "%.2f h", (double)e->elapsed_ms / 3600000.0);
    value_line(a, "freshness.elapsed", "freshness", "time of the period", v);
    count_line(a, "tasks.due", "tasks", "tasks due", e->tasks_due);
    count_line(a, "tasks.done", "tasks", "done by their due day", e->tasks_done);
    if (e->diversions > 0) /* diversion.h: its items found at other dealers */
        count_line(a, "diversion.incidents", "diversion", "items found at other dealers",
                   e->diversions);
}

static void total_line(cJSON *a, const char *key, const char *section, const char *item,
                       const struct lines *l, bool units)
{
    cJSON *o = line(a, key, section, item);
    if (units)
        cJSON_AddNumberToObject(o, "units", (double)l->units);
    money(o, "amount", l->amount);
}

static void iso8601(long long ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *head(const struct hub_rank_board *b, const struct hub_rank_entry *e, long long now)
{
    const struct hub_rank_tier *t = tier_of(&b->params, e->score);
    char period[HUB_PERIOD_TEXT], at[32];
    cJSON *root = cJSON_CreateObject(), *tier;
    hub_period_text(b->period, period);
    iso8601(now, at, sizeof(at));
    cJSON_AddNumberToObject(root, "v", 1);
    cJSON_AddStringToObject(root, "statement", "depot rebate statement");
    cJSON_AddStringToObject(root, "dealer", e->dealer);
    cJSON_AddStringToObject(root, "period", period);
    cJSON_AddStringToObject(root, "closed_at", at);
    cJSON_AddNumberToObject(root, "rank", (double)e->rank);
    cJSON_AddNumberToObject(root, "of", (double)b->n);
    cJSON_AddNumberToObject(root, "score", round6(e->score));
    if (t) {
        tier = cJSON_AddObjectToObject(root, "tier");
        cJSON_AddNumberToObject(tier, "min_score", t->min_score);
        cJSON_AddNumberToObject(tier, "rebate_pct", t->pct);
    } else {
        cJSON_AddNullToObject(root, "tier");
    }
    cJSON_AddNumberToObject(root, "rebate_pct", e->rebate_pct);
    money(root, "rebate", e->rebate);
    money(root, "sales", e->sales);
    return root;
}

/* The statement of e, its JSON text into *text (cJSON's allocator). */
static depot_err build(hub_store *s, const struct inputs *in, const struct hub_rank_board *b,
                       const struct hub_rank_entry *e, long long now, char **text)
{
    long long from = hub_period_start(b->period), to = hub_period_start(b->period + 1);
    size_t listed = 0, cut = 0;
    cJSON *root = head(b, e, now), *a;
    struct lines sales = {NULL, &listed, &cut, 0, 0}, paid = {NULL, &listed, &cut, 0, 0};
    depot_err err;
    kpi_figures(root, b, e);
    counts(root, e);
    a = sales.array = paid.array = cJSON_AddArrayToObject(root, "lines");
    summary_lines(a, b, e);
    err = sales_lines(s, in, e->dealer, from / HUB_DAY_MS, to / HUB_DAY_MS, &sales);
    if (err == DEPOT_OK) {
        total_line(a, "sales.total", "sales", "total of the period's picks", &sales, true);
        err = hub_store_payments_between(s, e->dealer, from, to, on_payment, &paid);
    }
    if (err == DEPOT_OK) {
        total_line(a, "collection.total", "collection", "total paid in the period", &paid, false);
        cJSON_AddStringToObject(line(a, "collection.invoiced", "collection",
                                     "invoiced (approved "
                                     "orders)"),
                                "amount",
                                cJSON_GetStringValue(cJSON_GetObjectItem(
                                    cJSON_GetObjectItem(root, "figures"), "invoiced")));
        figure_lines(a, e);
        cJSON_AddNumberToObject(root, "lines_cut", (double)cut);
        *text = cJSON_PrintUnformatted(root);
        if (!*text)
            err = DEPOT_ERR_NOMEM;
    }
    cJSON_Delete(root);
    return err;
}

static depot_err freeze(hub_statements *st, hub_store *s, const struct inputs *in,
                        const struct hub_rank_board *b, const struct hub_rank_entry *e,
                        long long now, struct hub_close_result *out)
{
    char period[HUB_PERIOD_TEXT], sig[PKI_SIG_B64_SIZE], *text = NULL;
    struct hub_statement row = {0};
    long long id = 0;
    bool created = false;
    depot_err err = build(s, in, b, e, now, &text);
    if (err == DEPOT_OK)
        err = pki_signer_sign_b64(st->signer, text, strlen(text), sig, PKI_SIG_B64_SIZE);
    if (err == DEPOT_OK) {
        hub_period_text(b->period, period);
        row = (struct hub_statement){0, e->dealer, period, now, text, sig, st->cert_pem};
        err = hub_store_statement_add(s, &row, &id, &created);
    }
    cJSON_free(text);
    if (err == DEPOT_OK && created) /* its webhook event, in the statement's transaction */
        err = hub_webhook_statement(s, id, e->dealer, period, e->sales, e->rebate, now);
    if (err == DEPOT_OK)
        (*(created ? &out->created : &out->existing))++;
    return err;
}

/* hub_statements_close under st's lock. */
static depot_err close_locked(hub_statements *st, hub_ranking *rk, hub_store *s, int period,
                              long long now, struct hub_close_result *out)
{
    struct hub_rank_board b = {0};
    struct inputs in = {0};
    depot_err err;
    memset(out, 0, sizeof(*out));
    if (hub_period_start(period + 1) > now)
        return DEPOT_ERR_INVAL;
    if (!st->signer)
        return DEPOT_ERR_CONFIG;
    err = hub_store_begin(s);
    if (err != DEPOT_OK)
        return err;
    err = hub_ranking_compute_from_store(rk, s, period, now, &b);
    if (err == DEPOT_OK)
        err = read_inputs(s, hub_period_start(period) / HUB_DAY_MS,
                          hub_period_start(period + 1) / HUB_DAY_MS, &in);
    for (size_t i = 0; i < b.n && err == DEPOT_OK; i++)
        err = freeze(st, s, &in, &b, &b.e[i], now, out);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        memset(out, 0, sizeof(*out));
    }
    inputs_clear(&in);
    hub_rank_board_clear(&b);
    return err;
}

depot_err hub_statements_close(hub_statements *st, hub_ranking *rk, hub_store *s, int period,
                               long long now, struct hub_close_result *out)
{
    depot_err err;
    pthread_mutex_lock(&st->lock);
    err = close_locked(st, rk, s, period, now, out);
    pthread_mutex_unlock(&st->lock);
    return err;
}
