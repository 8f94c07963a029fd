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
 *   1. The engine holds the facts the store holds, no more, no fewer, as of
 *      the last transaction it took part in: a rebuild (at start, or after a
 *      rolled-back transaction fed it) reads them all under the write lock;
 *      after that it learns them from the engine log (store/alerts.h, stream
 *      HUB_LOG_RANKING): the ingest worker feeds a message's facts in the
 *      transaction that applies it and lists them in that transaction's
 *      entry; payments and approvals made through the API list theirs in
 *      their own transaction (hub_ranking_note_*); every ranking replays the
 *      entries it did not write itself, before each ingest transaction and
 *      at each tick. So hub instances sharing a database hold the same
 *      aggregates, and every fact has a row that a rebuild reads
 *      (hub_store_ranking_facts, hub_store_picked_sums).
 *   2. Presence is decided in the ingest transaction, under the write lock,
 *      on the state every earlier transaction of any hub left: a
 *      transition is appended to the presence log in the same transaction.
 *
 * Words of a log entry (ids have no ':' or ' '): m:D:AT:0|1 a presence
 * transition, l:D:AT a message heard, s:D:SKU:AT:UNITS a pick, p:D:AT:CENTS a
 * payment, i:D:AT:CENTS an order approved, o:D:AT:0|1 an order arrived
 * (defective or not).
 */
#include "ranking/service.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
    /* invariant 1, worker only but the names */
    char writer[40], api_writer[48]; /* its names in the engine log */
    long long log_seq;               /* the last entry read */
    bool rebuild;                    /* a rolled-back transaction fed it */
    char *facts;                     /* this transaction's words */
    size_t facts_len, facts_cap;
    bool facts_nomem;
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
    hub_store_log_writer(rk->writer, sizeof(rk->writer), "rank");
    snprintf(rk->api_writer, sizeof(rk->api_writer), "%s-api", rk->writer);
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
    depot_free(rk->facts);
    HASH_ITER(hh, rk->sent, e, tmp)
    {
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
    case HUB_FACT_TASK:
        err = hub_rank_task(r, f->dealer, f->at, 1, f->flag);
        break;
    case HUB_FACT_DIVERSION:
        err = hub_rank_diversion(r, f->dealer, f->at);
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

/* A new engine holding every fact of s, in the caller's transaction; *version: the catalog's. */
static depot_err build_engine(const hub_ranking *rk, hub_store *s, long long now, hub_rank **out,
                              long long *version)
{
    hub_rank *r = NULL;
    depot_err err = hub_rank_new(&rk->cfg->ranking, &r);
    if (err == DEPOT_OK)
        err = load_catalog(r, s, version);
    if (err == DEPOT_OK)
        err = hub_store_ranking_facts(s, fact_cb, r);
    if (err == DEPOT_OK)
        err = load_sales(r, s, now);
    if (err != DEPOT_OK) {
        hub_rank_free(r);
        r = NULL;
    }
    *out = r;
    return err;
}

/* The rebuild of invariant 1, in the caller's transaction (under the write lock). */
static depot_err load_locked(hub_ranking *rk, hub_store *s, long long now)
{
    long long t0 = depot_mono_ms(), version = 0, head = 0, pruned;
    hub_rank *r = NULL;
    depot_err err = build_engine(rk, s, now, &r, &version);
    if (err == DEPOT_OK)
        err = hub_store_log_read(s, HUB_LOG_RANKING, -1, NULL, NULL, &head, &pruned);
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
    rk->log_seq = head;
    rk->rebuild = false;
    LOG_INFO("ranking: aggregates rebuilt from the store in %lld ms (%zu KiB)",
             depot_mono_ms() - t0, hub_rank_memory(r) / 1024);
    return DEPOT_OK;
}

depot_err hub_ranking_compute_from_store(hub_ranking *rk, hub_store *s, int period, long long now,
                                         struct hub_rank_board *out)
{
    long long version = 0;
    hub_rank *r = NULL;
    depot_err err = build_engine(rk, s, now, &r, &version);
    if (err == DEPOT_OK)
        err = hub_rank_compute(r, period, now, out);
    hub_rank_free(r);
    return err;
}

depot_err hub_ranking_load(hub_ranking *rk, hub_store *s, long long now)
{
    depot_err err = hub_store_begin(s); /* the write lock: no fact lands in between */
    if (err == DEPOT_OK)
        err = load_locked(rk, s, now);
    if (err == DEPOT_OK)
        err = hub_store_commit(s);
    if (err != DEPOT_OK) {
        hub_store_rollback(s);
        rk->rebuild = true;
    }
    return err;
}

/* ---- the engine log (invariant 1) ---- */

/* Appends a word to this transaction's entry. */
static void note(hub_ranking *rk, const char *fmt, ...)
{
    char word[160];
    va_list ap;
    int n;
    size_t need;
    char *grown;
    va_start(ap, fmt);
    n = vsnprintf(word, sizeof(word), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(word))
        rk->facts_nomem = true; /* never dropped: the transaction rolls back instead */
    if (rk->facts_nomem)
        return;
    need = rk->facts_len + (size_t)n + 2;
    if (need > rk->facts_cap) {
        size_t cap = need * 2 > 4096 ? need * 2 : 4096;
        if (!(grown = depot_realloc(rk->facts, cap))) {
            rk->facts_nomem = true;
            return;
        }
        rk->facts = grown;
        rk->facts_cap = cap;
    }
    rk->facts_len += (size_t)snprintf(rk->facts + rk->facts_len, rk->facts_cap - rk->facts_len,
                                      "%s%s", rk->facts_len ? " " : "", word);
}

/* Feeds one word of another writer's entry to r; a word it cannot read is skipped. */
static void replay_word(hub_rank *r, char *w)
{
    char *f[6], *save = NULL;
    int n = 0;
    for (char *t = strtok_r(w, ":", &save); t && n < 6; t = strtok_r(NULL, ":", &save))
        f[n++] = t;
    if (n < 3 || strlen(f[0]) != 1)
        return;
    switch (f[0][0]) {
    case 'm':
        if (n == 4)
            hub_rank_mark(r, f[1], strtoll(f[2], NULL, 10), f[3][0] == '1');
        break;
    case 'l':
        hub_rank_last_seen(r, f[1], strtoll(f[2], NULL, 10));
        break;
    case 's':
        if (n == 5)
            hub_rank_sale(r, f[1], f[2], strtoll(f[3], NULL, 10), strtoll(f[4], NULL, 10));
        break;
    case 'p':
        if (n == 4)
            hub_rank_payment(r, f[1], strtoll(f[2], NULL, 10), strtoll(f[3], NULL, 10));
        break;
    case 'i':
        if (n == 4)
            hub_rank_invoice(r, f[1], strtoll(f[2], NULL, 10), strtoll(f[3], NULL, 10));
        break;
    case 'o':
        if (n == 4)
            hub_rank_order(r, f[1], strtoll(f[2], NULL, 10), f[3][0] == '1');
        break;
    case 't':
        if (n == 5)
            hub_rank_task(r, f[1], strtoll(f[2], NULL, 10), atoi(f[3]), atoi(f[4]));
        break;
    case 'v':
        if (n == 3)
            hub_rank_diversion(r, f[1], strtoll(f[2], NULL, 10));
        break;
    default:
        break;
    }
}

static int replay_entry(void *arg, long long seq, const char *writer, const char *text)
{
    hub_ranking *rk = arg;
    char *copy, *save = NULL;
    rk->log_seq = seq;
    if (!strcmp(writer, rk->writer))
        return 0; /* its own: fed in the transaction that wrote it */
    if (!(copy = depot_malloc(strlen(text) + 1))) {
        rk->rebuild = true; /* read everything again from the store */
        return 1;
    }
    strcpy(copy, text);
    pthread_mutex_lock(&rk->lock);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
        replay_word(rk->rank, w);
    pthread_mutex_unlock(&rk->lock);
    depot_free(copy);
    LOG_DEBUG("ranking: replayed entry %lld of %s (%zu bytes)", seq, writer, strlen(text));
    return 0;
}

/* What other writers fed since the last read, or everything again when it must. */
static depot_err catch_up(hub_ranking *rk, hub_store *s, long long now)
{
    long long head, pruned, from = rk->log_seq;
    depot_err err;
    if (rk->rebuild)
        return load_locked(rk, s, now);
    err = hub_store_log_read(s, HUB_LOG_RANKING, rk->log_seq, replay_entry, rk, &head, &pruned);
    if (err == DEPOT_OK && (from < pruned || rk->rebuild)) {
        LOG_INFO("ranking: behind what the engine log keeps: rebuilding");
        rk->rebuild = true;
        return load_locked(rk, s, now);
    }
    return err;
}

depot_err hub_ranking_begin(hub_ranking *rk, hub_store *s, long long now)
{
    rk->facts_len = 0;
    rk->facts_nomem = false;
    return catch_up(rk, s, now);
}

depot_err hub_ranking_precommit(hub_ranking *rk, hub_store *s, long long now)
{
    if (rk->facts_nomem)
        return DEPOT_ERR_NOMEM;
    return rk->facts_len ? hub_store_log_add(s, HUB_LOG_RANKING, rk->writer, rk->facts, now)
                         : DEPOT_OK;
}

void hub_ranking_committed(hub_ranking *rk)
{
    rk->facts_len = 0;
}

void hub_ranking_rolled_back(hub_ranking *rk)
{
    if (rk->facts_len || rk->facts_nomem)
        rk->rebuild = true; /* it was fed what the store does not hold */
    rk->facts_len = 0;
    rk->facts_nomem = false;
}

static depot_err note_api(hub_ranking *rk, hub_store *s, char kind, const char *dealer,
                          long long at, long long cents)
{
    char word[128];
    if (!rk)
        return DEPOT_OK;
    snprintf(word, sizeof(word), "%c:%s:%lld:%lld", kind, dealer, at, cents);
    return hub_store_log_add(s, HUB_LOG_RANKING, rk->api_writer, word, depot_now_ms());
}

depot_err hub_ranking_note_payment(hub_ranking *rk, hub_store *s, const char *dealer, long long at,
                                   long long cents)
{
    return note_api(rk, s, 'p', dealer, at, cents);
}

depot_err hub_ranking_note_invoice(hub_ranking *rk, hub_store *s, const char *dealer, long long at,
                                   long long cents)
{
    return note_api(rk, s, 'i', dealer, at, cents);
}

depot_err hub_ranking_note_task(hub_ranking *rk, hub_store *s, const char *dealer, long long due,
                                int due_delta, int done_delta)
{
    char word[128];
    if (!rk)
        return DEPOT_OK;
    snprintf(word, sizeof(word), "t:%s:%lld:%d:%d", dealer, due, due_delta, done_delta);
    return hub_store_log_add(s, HUB_LOG_RANKING, rk->api_writer, word, depot_now_ms());
}

depot_err hub_ranking_note_diversion(hub_ranking *rk, const char *dealer, long long at)
{
    if (!rk)
        return DEPOT_OK;
    pthread_mutex_lock(&rk->lock);
    hub_rank_diversion(rk->rank, dealer, at);
    note(rk, "v:%s:%lld", dealer, at);
    pthread_mutex_unlock(&rk->lock);
    return rk->facts_nomem ? DEPOT_ERR_NOMEM : DEPOT_OK;
}

/* ---- hooks ---- */

static void on_order(hub_ranking *rk, const char *dealer, const struct hub_order_result *o)
{
    bool defect = (o->outcome == HUB_ORDER_REJECTED &&
                   (o->reason == HUB_OR_UNKNOWN_BARCODE || o->reason == HUB_OR_QTY_RANGE)) ||
                  o->outcome == HUB_ORDER_FORGED;
    switch (o->outcome) {
    case HUB_ORDER_APPROVED:
        hub_rank_invoice(rk->rank, dealer, o->at, o->total);
        note(rk, "i:%s:%lld:%lld", dealer, o->at, o->total);
        /* fall through */
    case HUB_ORDER_PENDING:
    case HUB_ORDER_REJECTED:
    case HUB_ORDER_FORGED:
        hub_rank_order(rk->rank, dealer, o->at, defect);
        note(rk, "o:%s:%lld:%d", dealer, o->at, defect);
        break;
    default:
        break;
    }
}

static void on_movements(hub_ranking *rk, const depot_msg *m)
{
    for (size_t i = 0; i < m->body.movements.n_items; i++) {
        const struct depot_movement_item *it = &m->body.movements.items[i];
        if (it->delta < 0 && !strcmp(it->kind, "pick") &&
            hub_rank_sale(rk->rank, m->dealer, it->sku, it->ts, -it->delta) == DEPOT_OK)
            note(rk, "s:%s:%s:%lld:%lld", m->dealer, it->sku, it->ts, -it->delta);
    }
}

depot_err hub_ranking_apply(hub_ranking *rk, hub_store *s, const depot_msg *m, long long seen_ms,
                            enum hub_apply_result res, const struct hub_order_result *order)
{
    struct hub_rank_transition t[2];
    bool offline = m->type == DEPOT_MSG_STATE && !m->body.state.online;
    depot_err err = DEPOT_OK;
    int n;
    pthread_mutex_lock(&rk->lock);
    if (m->type == DEPOT_MSG_STATE)
        n = hub_rank_state(rk->rank, m->dealer, seen_ms, m->body.state.online, t);
    else
        n = hub_rank_seen(rk->rank, m->dealer, seen_ms, t);
    for (int i = 0; i < n; i++)
        note(rk, "m:%s:%lld:%d", m->dealer, t[i].at, t[i].online);
    if (!offline)
        note(rk, "l:%s:%lld", m->dealer, seen_ms);
    if (m->type == DEPOT_MSG_MOVEMENTS && res == HUB_APPLY_DONE)
        on_movements(rk, m);
    if (order)
        on_order(rk, m->dealer, order);
    pthread_mutex_unlock(&rk->lock);
    for (int i = 0; err == DEPOT_OK && i < n; i++) /* invariant 2 */
        err = hub_store_presence_add(s, m->dealer, t[i].at, t[i].online);
    return err == DEPOT_OK && rk->facts_nomem ? DEPOT_ERR_NOMEM : err;
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
    if (rk->rebuild)
        (void)hub_ranking_load(rk, s, now); /* logged; tried again at the next tick */
    else if (catch_up(rk, s, now) != DEPOT_OK)
        LOG_WARN("ranking: reading the engine log failed; trying again");
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
