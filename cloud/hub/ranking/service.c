/*
 * The ranking at the hub (see ranking/service.h for who calls what).
 *
 * State: the engine (aggregates, under lock), the catalog version its prices
 * come from, and per dealer the down/ranking payload (without its
 * timestamp) last handed to the broker (sent, worker only), so that an unchanged entry is
 * not published again. Numbers in the payload are rounded (scores and
 * ratios to 0.001, money to 0.01), so freshness creeping by a second does
 * not republish; a change of 0.001 of a month (43 minutes online) does.
 *
 * Invariants:
 *   1. The engine only ever receives facts that are committed in the store
 *      (hooks run after the commit), so a rebuild at start reproduces it:
 *      every fact the hooks feed has a row in the store that
 *      hub_store_ranking_facts or hub_store_picked_sums returns.
 *   2. A presence transition is appended to the log before the next fact of
 *      that dealer is fed (same thread), so the log replays the same
 *      intervals.
 */
#include "ranking/service.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "store/alerts.h"
#include "store/ranking.h"

#define CATALOG_CHECK_MS 5000
#define REBUILD_MONTHS 24 /* daily sales older than this are not loaded at start */

struct sent {
    char dealer[DEPOT_DEALER_MAX + 1];
    UT_hash_handle hh;
    char *payload; /* NULL until one is handed to the broker */
    size_t len;
};

struct hub_ranking {
    const struct hub_config *cfg;
    pthread_mutex_t lock;
    hub_rank *rank;
    long long catalog_version, next_catalog_check, next_publish;
    struct sent *sent; /* uthash by dealer, worker only */
};

depot_err hub_ranking_new(const struct hub_config *cfg, hub_ranking **out)
{
    hub_ranking *rk = depot_calloc(1, sizeof(*rk));
    if (!rk)
        return DEPOT_ERR_NOMEM;
    rk->cfg = cfg;
    if (hub_rank_new(&cfg->ranking, &rk->rank) != DEPOT_OK) {
        depot_free(rk);
        return DEPOT_ERR_NOMEM;
    }
    rk->catalog_version = -1;
    pthread_mutex_init(&rk->lock, NULL);
    *out = rk;
    return DEPOT_OK;
}

void hub_ranking_free(hub_ranking *rk)
{
    if (!rk)
        return;
    struct sent *e, *tmp;
    hub_rank_free(rk->rank);
    HASH_ITER(hh, rk->sent, e, tmp) {
        HASH_DEL(rk->sent, e);
        depot_free(e->payload);
        depot_free(e);
    }
    pthread_mutex_destroy(&rk->lock);
    depot_free(rk);
}

/* ---- rebuild ---- */

static int price_cb(void *arg, const struct hub_catalog_item *it)
{
    return hub_rank_catalog_item(arg, it->sku, it->price) != DEPOT_OK;
}

/* Loads the catalog's prices into r; *version its version. */
static depot_err load_catalog(hub_rank *r, hub_store *s, long long *version)
{
    hub_rank_catalog_begin(r);
    return hub_store_catalog_list(s, version, price_cb, r);
}

static int fact_cb(void *arg, const struct hub_fact *f)
{
    hub_rank *r = arg;
    depot_err err = DEPOT_OK;
    switch (f->kind) {
    case HUB_FACT_PAYMENT:
        err = hub_rank_payment(r, f->dealer, f->at, f->amount);
        break;
    case HUB_FACT_ORDER:
        err = hub_rank_order(r, f->dealer, f->at, f->flag);
        break;
    case HUB_FACT_INVOICE:
        err = hub_rank_invoice(r, f->dealer, f->at, f->amount);
        break;
    case HUB_FACT_PRESENCE:
        err = hub_rank_mark(r, f->dealer, f->at, f->flag);
        break;
    case HUB_FACT_SEEN:
        err = hub_rank_last_seen(r, f->dealer, f->at);
        break;
    }
    return err == DEPOT_ERR_NOMEM; /* an invalid id in the store is skipped */
}

struct month_load {
    hub_rank *r;
    long long at;
    depot_err err;
};

static int sum_cb(void *arg, const char *dealer, const char *sku, long long sum)
{
    struct month_load *ml = arg;
    depot_err err = hub_rank_sale(ml->r, dealer, sku, ml->at, sum);
    if (err == DEPOT_ERR_NOMEM)
        ml->err = err;
    return err == DEPOT_ERR_NOMEM;
}

static depot_err load_sales(hub_rank *r, hub_store *s, long long now)
{
    int last = hub_period_of(now);
    for (int p = last - REBUILD_MONTHS + 1 > 0 ? last - REBUILD_MONTHS + 1 : 0; p <= last; p++) {
        struct month_load ml = {r, hub_period_start(p), DEPOT_OK};
        long long from = hub_period_start(p) / HUB_DAY_MS;
        long long to = hub_period_start(p + 1) / HUB_DAY_MS - 1;
        depot_err err = hub_store_picked_sums(s, from, to, sum_cb, &ml);
        if (err == DEPOT_OK)
            err = ml.err;
        if (err != DEPOT_OK)
            return err;
    }
    return DEPOT_OK;
}

depot_err hub_ranking_load(hub_ranking *rk, hub_store *s, long long now)
{
    long long t0 = depot_mono_ms(), version = 0;
    hub_rank *r;
    depot_err err = hub_rank_new(&rk->cfg->ranking, &r);
    if (err == DEPOT_OK)
        err = load_catalog(r, s, &version);
    if (err == DEPOT_OK)
        err = hub_store_ranking_facts(s, fact_cb, r);
    if (err == DEPOT_OK)
        err = load_sales(r, s, now);
    if (err != DEPOT_OK) {
        hub_rank_free(r);
        LOG_ERROR("ranking: rebuild from the store failed: %s", depot_strerror(err));
        return err;
    }
    pthread_mutex_lock(&rk->lock);
    hub_rank_free(rk->rank);
    rk->rank = r;
    rk->catalog_version = version;
    pthread_mutex_unlock(&rk->lock);
    LOG_INFO("ranking: aggregates rebuilt from the store in %lld ms (%zu KiB)",
             depot_mono_ms() - t0, hub_rank_memory(r) / 1024);
    return DEPOT_OK;
}

/* ---- hooks ---- */

static void presence_log(hub_store *s, const char *dealer, const struct hub_rank_transition *t,
                         int n)
{
    depot_err err = n > 0 ? hub_store_begin(s) : DEPOT_OK;
    for (int i = 0; i < n && err == DEPOT_OK; i++)
        err = hub_store_presence_add(s, dealer, t[i].at, t[i].online);
    if (n > 0 && err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        LOG_WARN("ranking: presence of %s not logged: %s", dealer, depot_strerror(err));
    }
}

static void on_order(hub_rank *r, const char *dealer, const struct hub_order_result *o)
{
    bool defect = (o->outcome == HUB_ORDER_REJECTED &&
                   (o->reason == HUB_OR_UNKNOWN_BARCODE || o->reason == HUB_OR_QTY_RANGE)) ||
                  o->outcome == HUB_ORDER_FORGED;
    switch (o->outcome) {
    case HUB_ORDER_APPROVED:
        hub_rank_invoice(r, dealer, o->at, o->total);
        /* fall through */
    case HUB_ORDER_PENDING:
    case HUB_ORDER_REJECTED:
    case HUB_ORDER_FORGED:
        hub_rank_order(r, dealer, o->at, defect);
        break;
    default:
        break;
    }
}

static void on_movements(hub_rank *r, const depot_msg *m)
{
    for (size_t i = 0; i < m->body.movements.n_items; i++) {
        const struct depot_movement_item *it = &m->body.movements.items[i];
        if (it->delta < 0 && !strcmp(it->kind, "pick"))
            hub_rank_sale(r, m->dealer, it->sku, it->ts, -it->delta);
    }
}

void hub_ranking_on_applied(hub_ranking *rk, hub_store *s, const depot_msg *m, long long seen_ms,
                            enum hub_apply_result res, const struct hub_order_result *order)
{
    struct hub_rank_transition t[2];
    int n;
    pthread_mutex_lock(&rk->lock);
    if (m->type == DEPOT_MSG_STATE)
        n = hub_rank_state(rk->rank, m->dealer, seen_ms, m->body.state.online, t);
    else
        n = hub_rank_seen(rk->rank, m->dealer, seen_ms, t);
    if (m->type == DEPOT_MSG_MOVEMENTS && res == HUB_APPLY_DONE)
        on_movements(rk->rank, m);
    if (order)
        on_order(rk->rank, m->dealer, order);
    pthread_mutex_unlock(&rk->lock);
    presence_log(s, m->dealer, t, n);
}

void hub_ranking_on_payment(hub_ranking *rk, const char *dealer, long long at, long long cents)
{
    pthread_mutex_lock(&rk->lock);
    hub_rank_payment(rk->rank, dealer, at, cents);
    pthread_mutex_unlock(&rk->lock);
}

void hub_ranking_on_invoice(hub_ranking *rk, const char *dealer, long long at, long long cents)
{
    pthread_mutex_lock(&rk->lock);
    hub_rank_invoice(rk->rank, dealer, at, cents);
    pthread_mutex_unlock(&rk->lock);
}

depot_err hub_ranking_compute(hub_ranking *rk, int period, long long now,
                              struct hub_rank_board *out)
{
    depot_err err;
    pthread_mutex_lock(&rk->lock);
    err = hub_rank_compute(rk->rank, period, now, out);
    pthread_mutex_unlock(&rk->lock);
    return err;
}

/* ---- publishing ---- */

static double round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

void hub_ranking_message(const struct hub_rank_board *b, const struct hub_rank_entry *e,
                         depot_msg *m)
{
    struct depot_ranking_body *r = &m->body.ranking;
    memset(m, 0, sizeof(*m));
    m->v = DEPOT_MSG_VERSION;
    m->type = DEPOT_MSG_RANKING;
    snprintf(m->dealer, sizeof(m->dealer), "%s", e->dealer);
    hub_period_text(b->period, r->period);
    r->rank = e->rank;
    r->of = (long long)b->n;
    r->score = round_to(e->score, 0.001);
    r->rebate_pct = e->rebate_pct;
    r->rebate = round_to((double)e->rebate / 100.0, 0.01);
    r->n_kpis = HUB_KPI__COUNT;
    for (int k = 0; k < HUB_KPI__COUNT; k++) {
        snprintf(r->kpis[k].name, sizeof(r->kpis[k].name), "%s", hub_kpi_name((enum hub_kpi)k));
        r->kpis[k].value =
            k == HUB_KPI_SALES ? round_to(e->value[k] / 100.0, 0.01) : round_to(e->value[k], 0.001);
        r->kpis[k].score = round_to(e->norm[k], 0.001);
        r->kpis[k].weight = b->params.weights[k];
    }
}

/* The entry of dealer in sent (added if new); NULL when out of memory. */
static struct sent *sent_slot(hub_ranking *rk, const char *dealer)
{
    struct sent *e;
    HASH_FIND_STR(rk->sent, dealer, e);
    if (e)
        return e;
    e = depot_calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    snprintf(e->dealer, sizeof(e->dealer), "%s", dealer);
    HASH_ADD_STR(rk->sent, dealer, e);
    if (!DEPOT_HASH_ADDED(e)) {
        depot_free(e);
        return NULL;
    }
    return e;
}

/* True when payload (len bytes) is what slot last handed to the broker. */
static bool sent_same(const struct sent *slot, const char *payload, size_t len)
{
    return slot->payload && slot->len == len && !memcmp(slot->payload, payload, len);
}

/* Publishes e when its payload differs from the last one handed to the broker. */
static bool publish_entry(hub_ranking *rk, const struct hub_rank_board *b,
                          const struct hub_rank_entry *e, hub_publish_fn publish, void *ctx,
                          long long now)
{
    depot_msg m;
    char topic[128], *bare = NULL, *payload;
    size_t bare_len, len;
    struct sent *slot;
    bool sent = false;

    hub_ranking_message(b, e, &m);
    if (depot_topic_build(topic, sizeof(topic), e->dealer, "down/ranking") != DEPOT_OK ||
        depot_msg_encode(&m, &bare, &bare_len) != DEPOT_OK)
        return false;
    slot = sent_slot(rk, e->dealer);
    m.ts = now; /* the comparison leaves the timestamp out: encode again with it */
    if (slot && !sent_same(slot, bare, bare_len) &&
        depot_msg_encode(&m, &payload, &len) == DEPOT_OK) {
        sent = publish(ctx, topic, payload, len, true) == DEPOT_OK;
        depot_free(payload);
    }
    if (sent) {
        depot_free(slot->payload);
        slot->payload = bare;
        slot->len = bare_len;
    } else {
        depot_free(bare);
    }
    return sent;
}

static void reload_catalog(hub_ranking *rk, hub_store *s)
{
    long long version = 0;
    if (hub_store_catalog_list(s, &version, NULL, NULL) != DEPOT_OK ||
        version == rk->catalog_version)
        return;
    pthread_mutex_lock(&rk->lock);
    if (load_catalog(rk->rank, s, &version) == DEPOT_OK)
        rk->catalog_version = version;
    pthread_mutex_unlock(&rk->lock);
    LOG_INFO("ranking: catalog version %lld prices loaded", version);
}

void hub_ranking_tick(hub_ranking *rk, hub_store *s, hub_publish_fn publish, void *publish_ctx,
                      long long now)
{
    struct hub_rank_board b;
    int n = 0;
    if (now >= rk->next_catalog_check) {
        rk->next_catalog_check = now + CATALOG_CHECK_MS;
        reload_catalog(rk, s);
    }
    if (now < rk->next_publish || !publish)
        return;
    rk->next_publish = now + rk->cfg->rank_publish_period_s * 1000LL;
    if (hub_ranking_compute(rk, hub_period_of(now), now, &b) != DEPOT_OK)
        return;
    for (size_t i = 0; i < b.n; i++)
        n += publish_entry(rk, &b, &b.e[i], publish, publish_ctx, now);
    if (n)
        LOG_INFO("ranking: %d of %zu dealers' rankings published", n, b.n);
    hub_rank_board_clear(&b);
}
