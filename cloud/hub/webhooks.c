/*
 * Outbound webhooks (webhooks.h): the events' JSON, their signature, and the
 * delivery worker.
 *
 * The worker is one thread with a store of its own. Each round it leases,
 * in one write transaction, the due deliveries (of each subscription its
 * oldest pending one: store/webhooks.h, 2) for [webhooks] timeout_s plus a
 * margin, then sends them one by one outside any transaction and records
 * each outcome in a short transaction of its own. Leases make several hubs
 * on one database share the work without sending a row twice at once; a
 * hub that stops mid-attempt leaves a lease that runs out, and the row is
 * sent again (at least once: receivers de-duplicate by event id).
 *
 * States of the thread: running (a round every poll_ms, at once after a
 * round that found work, and at once when this process commits a
 * transaction that queued deliveries: the store's doorbell, which rings
 * every worker of the process; another hub's events wait for poll_ms) and
 * stopping (set under the lock; the wait ends at
 * once, and an attempt under way is aborted by libcurl's progress callback:
 * a failed attempt, sent again later).
 */
#include "webhooks.h"

#include "store/shipments.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/md.h>
#include <sodium.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/log.h"
#include "store/alerts.h"
#include "store/webhooks.h"

#define ROUND_MAX 16         /* deliveries leased in one round */
#define LEASE_MARGIN_MS 5000 /* a lease outlives its attempt's timeout by this */

depot_err hub_webhook_sign(const char *secret, long long ts, const char *body, size_t len,
                           char out[HUB_WEBHOOK_SIG_HEX + 1])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    unsigned char mac[32];
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), "%lld.", ts);
    int rc;

    mbedtls_md_init(&ctx);
    rc = mbedtls_md_setup(&ctx, md, 1);
    if (rc == 0)
        rc = mbedtls_md_hmac_starts(&ctx, (const unsigned char *)secret, strlen(secret));
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)prefix, (size_t)n);
    if (rc == 0)
        rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)body, len);
    if (rc == 0)
        rc = mbedtls_md_hmac_finish(&ctx, mac);
    mbedtls_md_free(&ctx);
    if (rc != 0)
        return DEPOT_ERR_CRYPTO;
    for (size_t i = 0; i < sizeof(mac); i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return DEPOT_OK;
}

long long hub_webhook_backoff_ms(long long base_ms, long long cap_ms, long long attempts,
                                 uint32_t rnd)
{
    long long wait = base_ms;
    for (long long i = 1; i < attempts && wait < cap_ms; i++)
        wait *= 2;
    if (wait > cap_ms)
        wait = cap_ms;
    return wait / 2 + (long long)((double)(wait - wait / 2) * ((double)rnd / UINT32_MAX));
}

/* "2026-12-05T01:02:03.456Z" of ms. */
static void iso_time(long long ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)(ms % 1000));
}

depot_err hub_webhook_event(hub_store *s, const char *type, long long at, cJSON *data)
{
    unsigned char raw[HUB_WEBHOOK_ID_LEN / 2];
    char id[HUB_WEBHOOK_ID_LEN + 1], when[32];
    cJSON *ev = cJSON_CreateObject();
    char *body = NULL;
    depot_err err = DEPOT_ERR_NOMEM;

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
    iso_time(at, when);
    if (!data)
        data = cJSON_CreateObject();
    if (ev && data && cJSON_AddStringToObject(ev, "id", id) &&
        cJSON_AddStringToObject(ev, "type", type) && cJSON_AddStringToObject(ev, "time", when)) {
        cJSON_AddItemToObject(ev, "data", data);
        data = NULL;
        body = cJSON_PrintUnformatted(ev);
    }
    if (body)
        err = hub_store_webhook_enqueue(s, type, id, body, depot_now_ms(), NULL);
    cJSON_free(body);
    cJSON_Delete(ev);
    cJSON_Delete(data);
    return err;
}

static cJSON *money(cJSON *o, const char *name, long long cents)
{
    char text[32];
    snprintf(text, sizeof(text), "%s%lld.%02lld", cents < 0 ? "-" : "",
             (cents < 0 ? -cents : cents) / 100, (cents < 0 ? -cents : cents) % 100);
    return cJSON_AddStringToObject(o, name, text);
}

depot_err hub_webhook_order_approved(hub_store *s, const char *order, const char *dealer,
                                     long long total, const char *by, long long at)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddStringToObject(d, "order", order) ||
        !cJSON_AddStringToObject(d, "dealer", dealer) || !money(d, "total", total) ||
        !cJSON_AddStringToObject(d, "approved_by", by)) {
        cJSON_Delete(d);
        return DEPOT_ERR_NOMEM;
    }
    return hub_webhook_event(s, "order.approved", at, d);
}

depot_err hub_webhook_payment(hub_store *s, long long id, const char *dealer, long long amount,
                              const char *order, const char *ref, long long at)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddNumberToObject(d, "payment", (double)id) ||
        !cJSON_AddStringToObject(d, "dealer", dealer) || !money(d, "amount", amount) ||
        !cJSON_AddStringToObject(d, "order", order ? order : "") ||
        !cJSON_AddStringToObject(d, "ref", ref ? ref : "")) {
        cJSON_Delete(d);
        return DEPOT_ERR_NOMEM;
    }
    return hub_webhook_event(s, "payment.recorded", at, d);
}

depot_err hub_webhook_statement(hub_store *s, long long id, const char *dealer, const char *period,
                                long long sales, long long rebate, long long at)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddNumberToObject(d, "statement", (double)id) ||
        !cJSON_AddStringToObject(d, "dealer", dealer) ||
        !cJSON_AddStringToObject(d, "period", period) || !money(d, "sales", sales) ||
        !money(d, "rebate", rebate)) {
        cJSON_Delete(d);
        return DEPOT_ERR_NOMEM;
    }
    return hub_webhook_event(s, "statement.closed", at, d);
}

depot_err hub_webhook_shipment(hub_store *s, const struct hub_shipment *sh,
                               const struct hub_shipment_line *lines, size_t n)
{
    cJSON *d = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(d, "lines");
    bool ok = d && list && cJSON_AddStringToObject(d, "shipment", sh->id) &&
              cJSON_AddStringToObject(d, "dealer", sh->dealer) &&
              cJSON_AddStringToObject(d, "order", sh->order) &&
              cJSON_AddNumberToObject(d, "shipped_at_ms", (double)sh->shipped_at) &&
              cJSON_AddNumberToObject(d, "units", (double)sh->units) &&
              cJSON_AddNumberToObject(d, "codes", (double)sh->n_codes);
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *l = cJSON_CreateObject();
        if (!l || !cJSON_AddItemToArray(list, l)) {
            cJSON_Delete(l);
            ok = false;
            break;
        }
        ok = cJSON_AddStringToObject(l, "sku", lines[i].sku) &&
             cJSON_AddNumberToObject(l, "qty", (double)lines[i].qty) &&
             cJSON_AddNumberToObject(l, "codes", (double)lines[i].codes);
    }
    if (!ok) {
        cJSON_Delete(d);
        return DEPOT_ERR_NOMEM;
    }
    return hub_webhook_event(s, "shipment.recorded", sh->recorded_at, d);
}

cJSON *hub_webhook_alert_data(const struct hub_alert_row *r)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddNumberToObject(d, "alert", (double)r->id) ||
        !cJSON_AddStringToObject(d, "dealer", r->dealer) ||
        !cJSON_AddStringToObject(d, "sku", r->sku) ||
        !cJSON_AddStringToObject(d, "kind", r->kind) ||
        !cJSON_AddStringToObject(d, "subject", r->subject) ||
        !cJSON_AddStringToObject(d, "severity", r->severity) ||
        !cJSON_AddStringToObject(d, "status", r->status) ||
        !cJSON_AddStringToObject(d, "text", r->text) ||
        !cJSON_AddNumberToObject(d, "count", (double)r->count) ||
        !cJSON_AddNumberToObject(d, "opened_at_ms", (double)r->opened_at) ||
        !cJSON_AddStringToObject(d, "acked_by", r->acked_by ? r->acked_by : "") ||
        !cJSON_AddStringToObject(d, "resolved_by", r->resolved_by ? r->resolved_by : "")) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

/* ---- the worker ---- */

struct hub_webhooks {
    struct hub_config cfg_copy; /* only the [webhooks] fields are read */
    hub_metrics *metrics;
    hub_store *store;
    CURL *curl;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping, started, curl_ready;
    bool rung;                 /* the doorbell rang since the last round began */
    struct hub_webhooks *next; /* in the process's list of workers (bells) */
    long long next_periodic; /* ms: the next stock events and pruning (periodic) */
};

/* One leased delivery, copied out of the store's row with its subscription's url and secret. */
struct job {
    long long seq, sub, attempts, created_at;
    char event_id[HUB_WEBHOOK_ID_LEN + 1];
    char *body, *url, *secret;
};

struct round {
    struct job jobs[ROUND_MAX];
    int n;
};

static int on_due(void *arg, const struct hub_webhook_delivery *d)
{
    struct round *r = arg;
    struct job *j = &r->jobs[r->n];
    memset(j, 0, sizeof(*j));
    j->seq = d->seq;
    j->sub = d->sub;
    j->attempts = d->attempts;
    j->created_at = d->created_at;
    snprintf(j->event_id, sizeof(j->event_id), "%s", d->event_id);
    j->body = depot_strdup(d->body);
    if (j->body)
        r->n++;
    return r->n == ROUND_MAX || !j->body;
}

static int on_sub(void *arg, const struct hub_webhook_sub *sub)
{
    struct job *j = arg;
    j->url = depot_strdup(sub->url);
    j->secret = depot_strdup(sub->secret);
    return 1;
}

static void job_free(struct job *j)
{
    depot_free(j->body);
    depot_free(j->url);
    depot_free(j->secret);
}

/* Leases the due deliveries into r (those another hub leased first are dropped). */
static depot_err lease_round(struct hub_webhooks *w, long long now, struct round *r)
{
    long long until = now + w->cfg_copy.webhooks_timeout_s * 1000 + LEASE_MARGIN_MS;
    depot_err err = hub_store_begin(w->store);
    int kept = 0;
    if (err == DEPOT_OK)
        err = hub_store_webhook_due(w->store, now, ROUND_MAX, on_due, r);
    for (int i = 0; err == DEPOT_OK && i < r->n; i++) {
        bool leased = false;
        struct job *j = &r->jobs[i];
        err = hub_store_webhook_lease(w->store, j->seq, now, until, &leased);
        if (err == DEPOT_OK && leased)
            err = hub_store_webhook_subs(w->store, j->sub, on_sub, j);
        if (err == DEPOT_OK && leased && (!j->url || !j->secret))
            err = DEPOT_ERR_NOMEM;
        if (leased)
            r->jobs[kept++] = *j;
        else
            job_free(j);
    }
    r->n = kept;
    if (err == DEPOT_OK)
        err = hub_store_commit(w->store);
    if (err != DEPOT_OK) { /* no lease holds: send nothing */
        hub_store_rollback(w->store);
        for (int i = 0; i < r->n; i++)
            job_free(&r->jobs[i]);
        r->n = 0;
    }
    return err;
}

/* libcurl's progress callback: non-zero ends the attempt at once when the hub stops. */
static int abort_if_stopping(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow)
{
    struct hub_webhooks *w = arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return __atomic_load_n(&w->stopping, __ATOMIC_RELAXED) ? 1 : 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

/* POSTs j: DEPOT_OK for a 2xx answer, else DEPOT_ERR_IO with why. */
static depot_err post(struct hub_webhooks *w, const struct job *j, char *why, size_t why_len)
{
    char sig[HUB_WEBHOOK_SIG_HEX + 1], h_id[96], h_ts[64], h_sig[160];
    long long ts = depot_now_ms() / 1000;
    long status = 0;
    struct curl_slist *hdr = NULL;
    CURLcode rc;

    if (hub_webhook_sign(j->secret, ts, j->body, strlen(j->body), sig) != DEPOT_OK) {
        snprintf(why, why_len, "signature failed");
        return DEPOT_ERR_IO;
    }
    snprintf(h_id, sizeof(h_id), "Depot-Event-Id: %s", j->event_id);
    snprintf(h_ts, sizeof(h_ts), "Depot-Timestamp: %lld", ts);
    snprintf(h_sig, sizeof(h_sig), "Depot-Signature: t=%lld,v1=%s", ts, sig);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, h_id);
    hdr = curl_slist_append(hdr, h_ts);
    hdr = curl_slist_append(hdr, h_sig);
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_reset(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_URL, j->url);
    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, w->cfg_copy.webhooks_connect_timeout_s);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, w->cfg_copy.webhooks_timeout_s);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, abort_if_stopping);
    curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "depot-hub-webhooks/1");
    rc = curl_easy_perform(w->curl);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK) {
        snprintf(why, why_len, "%s", curl_easy_strerror(rc));
        return DEPOT_ERR_IO;
    }
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return DEPOT_OK;
    snprintf(why, why_len, "HTTP status %ld", status);
    return DEPOT_ERR_IO;
}

/* Sends j and records what came of it. */
static void deliver(struct hub_webhooks *w, const struct job *j)
{
    char why[HUB_WEBHOOK_ERROR_MAX] = "";
    const struct hub_config *c = &w->cfg_copy;
    depot_err sent = post(w, j, why, sizeof(why));
    long long now = depot_now_ms(), attempts = j->attempts + 1, next = now;
    const char *status = "delivered";
    depot_err err;

    if (sent != DEPOT_OK) {
        bool dead = now - j->created_at >= (long long)(c->webhooks_dead_after_h * 3600000.0);
        status = dead ? "dead" : "pending";
        next = now + hub_webhook_backoff_ms(c->webhooks_backoff_base_ms,
                                            c->webhooks_backoff_cap_s * 1000, attempts,
                                            randombytes_random());
        hub_metrics_add(w->metrics, HUB_C_WEBHOOKS_FAILED, 1);
        if (dead)
            hub_metrics_add(w->metrics, HUB_C_WEBHOOKS_DEAD, 1);
        LOG_WARN("webhooks: delivery %lld (subscription %lld, event %s) attempt %lld: %s%s", j->seq,
                 j->sub, j->event_id, attempts, why, dead ? ": dead" : "");
    } else {
        hub_metrics_add(w->metrics, HUB_C_WEBHOOKS_DELIVERED, 1);
    }
    err = hub_store_begin(w->store);
    if (err == DEPOT_OK)
        err = hub_store_webhook_finish(w->store, j->seq, status, attempts, next, why,
                                       sent == DEPOT_OK ? now : 0);
    if (err == DEPOT_OK)
        err = hub_store_commit(w->store);
    if (err != DEPOT_OK) { /* the lease runs out and the row is sent again */
        hub_store_rollback(w->store);
        LOG_ERROR("webhooks: delivery %lld: outcome not recorded: %s", j->seq, depot_strerror(err));
    }
}

/* One round: the number of deliveries attempted. */
static int run_round(struct hub_webhooks *w)
{
    struct round r = {.n = 0};
    depot_err err = lease_round(w, depot_now_ms(), &r);
    if (err != DEPOT_OK)
        LOG_WARN("webhooks: cannot lease deliveries: %s", depot_strerror(err));
    for (int i = 0; i < r.n; i++) {
        deliver(w, &r.jobs[i]);
        job_free(&r.jobs[i]);
    }
    return r.n;
}

#define STOCK_LAG_MS 10000LL    /* a period ends this long before the event (a row in flight) */
#define PERIODIC_MAX_MS 60000LL /* the periodic work is looked at at least this often */

struct stock_events {
    hub_store *s;
    long long from, to, n;
    char dealer[DEPOT_DEALER_MAX + 1];
    cJSON *data, *list;
    depot_err err;
};

/* Enqueues the dealer's event gathered so far. */
static void stock_flush(struct stock_events *e)
{
    if (e->data && e->err == DEPOT_OK) {
        e->err = hub_webhook_event(e->s, "stock.changed", e->to, e->data);
        e->n++;
    } else {
        cJSON_Delete(e->data);
    }
    e->data = e->list = NULL;
}

static int stock_row(void *arg, const struct hub_webhook_stock *r)
{
    struct stock_events *e = arg;
    cJSON *o;
    if (!e->data || strcmp(e->dealer, r->dealer) != 0) {
        stock_flush(e);
        snprintf(e->dealer, sizeof(e->dealer), "%s", r->dealer);
        e->data = cJSON_CreateObject();
        if (!e->data || !cJSON_AddStringToObject(e->data, "dealer", r->dealer) ||
            !cJSON_AddNumberToObject(e->data, "from_ms", (double)e->from) ||
            !cJSON_AddNumberToObject(e->data, "to_ms", (double)e->to) ||
            !(e->list = cJSON_AddArrayToObject(e->data, "stock")))
            e->err = DEPOT_ERR_NOMEM;
    }
    if (e->err != DEPOT_OK)
        return 1;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(e->list, o)) {
        cJSON_Delete(o);
        e->err = DEPOT_ERR_NOMEM;
        return 1;
    }
    if (!cJSON_AddStringToObject(o, "sku", r->sku) ||
        !cJSON_AddNumberToObject(o, "qty", (double)r->qty) ||
        !cJSON_AddStringToObject(o, "node", r->node) ||
        !cJSON_AddNumberToObject(o, "measured_at_ms", (double)r->updated_at)) {
        e->err = DEPOT_ERR_NOMEM;
        return 1;
    }
    return 0;
}

/*
 * stock.changed, coalesced: every [webhooks] stock_period_s, one event per dealer whose stock
 * rows the hub stored in the period (each SKU once, at its level at the period's end), in one
 * write transaction that also moves the cursor (several hubs: one of them per period). The
 * first run only starts the cursor. Then delivered rows past keep_days are deleted.
 */
static void periodic(struct hub_webhooks *w, long long now)
{
    const struct hub_config *c = &w->cfg_copy;
    struct stock_events e = {.s = w->store};
    long long cursor = 0, pruned = 0;
    depot_err err = hub_store_begin(w->store);
    if (err == DEPOT_OK && c->webhooks_stock_period_s > 0)
        err = hub_store_webhook_cursor(w->store, &cursor);
    e.from = cursor;
    e.to = now - STOCK_LAG_MS;
    if (err == DEPOT_OK && c->webhooks_stock_period_s > 0 && cursor == 0)
        err = hub_store_webhook_cursor_set(w->store, e.to);
    else if (err == DEPOT_OK && c->webhooks_stock_period_s > 0 &&
             e.to - cursor >= c->webhooks_stock_period_s * 1000LL) {
        err = hub_store_webhook_stock_changed(w->store, e.from, e.to, stock_row, &e);
        stock_flush(&e);
        if (err == DEPOT_OK)
            err = e.err;
        if (err == DEPOT_OK)
            err = hub_store_webhook_cursor_set(w->store, e.to);
    }
    if (err == DEPOT_OK)
        err = hub_store_webhook_prune(w->store, now - c->webhooks_keep_days * 86400000LL, &pruned);
    if (err == DEPOT_OK)
        err = hub_store_commit(w->store);
    if (err != DEPOT_OK) {
        hub_store_rollback(w->store);
        LOG_WARN("webhooks: stock events and pruning: %s (again later)", depot_strerror(err));
    } else if (e.n || pruned) {
        LOG_INFO("webhooks: %lld stock.changed events queued, %lld delivered rows pruned", e.n,
                 pruned);
    }
    w->next_periodic = now + (c->webhooks_stock_period_s > 0 &&
                                      c->webhooks_stock_period_s * 1000LL < PERIODIC_MAX_MS
                                  ? c->webhooks_stock_period_s * 1000LL
                                  : PERIODIC_MAX_MS);
}

/* The workers of this process, which the store's doorbell wakes. */
static pthread_mutex_t bells_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hub_webhooks *bells;

static void ring_all(void)
{
    pthread_mutex_lock(&bells_lock);
    for (struct hub_webhooks *w = bells; w; w = w->next) {
        pthread_mutex_lock(&w->lock);
        w->rung = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
    }
    pthread_mutex_unlock(&bells_lock);
}

static void bell_add(struct hub_webhooks *w)
{
    pthread_mutex_lock(&bells_lock);
    w->next = bells;
    bells = w;
    hub_store_set_doorbell(ring_all);
    pthread_mutex_unlock(&bells_lock);
}

static void bell_remove(struct hub_webhooks *w)
{
    pthread_mutex_lock(&bells_lock);
    for (struct hub_webhooks **p = &bells; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&bells_lock);
}

static void *worker(void *arg)
{
    struct hub_webhooks *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        int n;
        long long now = depot_now_ms();
        w->rung = false;
        pthread_mutex_unlock(&w->lock);
        if (now >= w->next_periodic)
            periodic(w, now);
        n = run_round(w);
        pthread_mutex_lock(&w->lock);
        if (n == 0 && !w->stopping && !w->rung) {
            struct timespec until = depot_deadline_ms(w->cfg_copy.webhooks_poll_ms);
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

depot_err hub_webhooks_new(const struct hub_config *cfg, hub_metrics *metrics, hub_webhooks **out)
{
    struct hub_webhooks *w = depot_calloc(1, sizeof(*w));
    depot_err err;
    if (!w)
        return DEPOT_ERR_NOMEM;
    w->cfg_copy = *cfg;
    w->metrics = metrics;
    w->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    pthread_mutex_init(&w->lock, NULL);
    cond_init_mono(&w->wake);
    err = hub_store_open(cfg->db, &w->store);
    if (err == DEPOT_OK && (!w->curl_ready || !(w->curl = curl_easy_init())))
        err = DEPOT_ERR_IO;
    if (err == DEPOT_OK && pthread_create(&w->thread, NULL, worker, w) != 0)
        err = DEPOT_ERR_IO;
    w->started = err == DEPOT_OK;
    if (w->started)
        bell_add(w);
    if (err != DEPOT_OK) {
        hub_webhooks_free(w);
        return err;
    }
    *out = w;
    return DEPOT_OK;
}

void hub_webhooks_free(hub_webhooks *w)
{
    if (!w)
        return;
    if (w->started) {
        bell_remove(w);
        pthread_mutex_lock(&w->lock);
        __atomic_store_n(&w->stopping, true, __ATOMIC_RELAXED);
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    }
    if (w->curl)
        curl_easy_cleanup(w->curl);
    if (w->curl_ready)
        curl_global_cleanup();
    hub_store_free(w->store);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    depot_free(w);
}
