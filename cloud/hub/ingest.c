/*
 * Ingest worker.
 *
 *   broker thread                      worker thread (owns the writer store)
 *   hub_ingest_submit                  loop:
 *     hub_accept -> reject? count        take up to HUB_BATCH_MAX queued messages
 *     else queue (bounded) --------->    BEGIN; apply each; add reject counts; COMMIT
 *                                        mark each touched stream's ack pending
 *                                        publish pending acks not sent in the last
 *                                        HUB_ACK_INTERVAL_MS
 *
 * Invariants:
 *   1. An ack is published only after the transaction that applied what it
 *      acknowledges has committed: the ack's upto is read inside it.
 *   2. A failed batch is rolled back whole and retried one message per
 *      transaction; a message that still fails is dropped and counted. Nothing
 *      is lost for good: the gateway resends whatever is not acknowledged.
 *   3. Duplicates are acknowledged too (the gateway resends when an ack was
 *      lost), so every stream message makes its stream's ack pending.
 *   4. Counters in metrics move only after a commit, so a retried batch is
 *      never counted twice.
 *   5. An order, a "decided" confirmation and an online state are applied
 *      by hub_orders in the same transaction as their exactly-once record;
 *      the decisions a batch made are published right after its commit (and
 *      repeated by the periodic tick until confirmed), the catalog from the
 *      tick; both read only what was committed.
 *   6. A stream message refused for good (hub_accept_skippable: schema, type
 *      mismatch, unknown up/ leaf, yet a readable envelope) is still queued:
 *      only its (dealer, ledger, id) is recorded, as applied-but-skipped, so
 *      the cumulative ack moves past it instead of stalling the gateway's
 *      outbox for good. A failed transaction records nothing (invariant 2):
 *      the gateway resends, and only a refusal that is for good is skipped.
 *   7. The alert engine (hub_alerts, when set) sees every applied message in
 *      the transaction that applies it and is told whether it committed;
 *      its changes go out from its outbox in the loop's tick.
 *   8. Movements that do not fit the stock they change are refused whole by
 *      the store (HUB_APPLY_REFUSED: recorded, acknowledged, counted by
 *      reason, never seen by orders, ranking or alerts as applied); a batch
 *      that came before an earlier one of its stream is not recorded
 *      (HUB_APPLY_DEFERRED) and the gateway resends it, in order.
 *   9. Under a flow of messages a batch gathers for at most HUB_GATHER_MS
 *      (ingest.h) before it starts, so that one transaction, one WAL commit
 *      and one ack per stream cover more messages; a lone message (an order
 *      at a quiet time) never waits.
 *  10. A movements batch's chain is checked once, before its first apply
 *      (hub_ledger_check: hashes, signature), and the store's chain step
 *      compares it with the ledger's head in the applying transaction
 *      (store/ledger.h): a forged batch, or one without its chain after
 *      chained ones, is refused like invariant 8's; a fork or a gap is
 *      applied and raises a ledger_break alert in the same transaction.
 *  11. The item codes of a newly applied movements batch are checked against
 *      their shipments and earlier scans in the same transaction
 *      (diversion.h: diversion and double_pick alerts).
 */
#define _GNU_SOURCE 1 /* pthread_setname_np */
#include "ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "depot/alloc.h"
#include "depot/hash.h"
#include "depot/log.h"
#include "alerts/alerts.h"
#include "contracts.h"
#include "diversion.h"
#include "ledger.h"
#include "statements.h"
#include "orders.h"
#include "policies.h"
#include "ranking/service.h"
#include "tasks.h"

#define IDLE_WAIT_MS 50

struct item {
    struct item *next;
    depot_msg msg;
    long long seen_ms;
    enum hub_apply_result res;
    uint64_t upto;
    struct hub_order_result order;
    enum hub_reject skipped; /* != NONE: refused for good, only its id is recorded (inv. 6) */
    struct hub_chain chain;  /* a movements batch's chain (invariant 10) */
    bool chain_checked;      /* chain.in is set (once, whatever the retries) */
    struct hub_code_counts codes; /* its item codes (invariant 11) */
};

_Static_assert(HUB_CHAIN_REFUSED < HUB_CHAIN_OUTCOMES, "metrics.h counts every chain outcome");

/* A stream's key; zero-filled before it is written, so it hashes as bytes. */
struct ack_key {
    char dealer[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
};

/* The ack state of one (dealer, ledger) stream. */
struct ack_entry {
    struct ack_key key;
    UT_hash_handle hh;
    struct ack_entry *next_pending;
    uint64_t upto;
    long long last_sent_ms;
    bool pending;
};

struct hub_ingest {
    hub_store *store;
    hub_metrics *metrics;
    hub_publish_fn publish;
    void *publish_ctx;
    hub_orders *orders;               /* may be NULL */
    hub_contracts *contracts;         /* may be NULL; set before messages arrive */
    long long next_terms_ms;          /* contracts' terms: looked at once a minute */
    hub_statements *statements;       /* may be NULL; set before messages arrive */
    long close_after_days;            /* [statements] close_after_days */
    long long next_close_ms;          /* last month's statements: looked at every 10 minutes */
    int closed_period;                /* the last month this worker closed (-1: none yet) */
    hub_ranking *ranking, *w_ranking; /* may be NULL; w_: the worker's copy, taken under lock */
    hub_alerts *alerts, *w_alerts;    /* the same for the alert engine */
    long long next_tick_ms;
    bool decisions_due; /* worker only: the last commit decided orders (invariant 5) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    bool running;
    bool gathering;           /* the worker waits for HUB_GATHER_MIN (invariant 9) */
    bool policies_more;       /* the last due batch of policies was full: more go at once */
    hub_tasks *tasks;         /* the SKUs of data-rule tasks (tasks.h); the worker's own */
    struct item *head, *tail; /* queue, under lock */
    size_t queued;
    unsigned long long submitted, done;  /* under lock, for hub_ingest_sync */
    uint64_t rejects[HUB_REJECT__COUNT]; /* not yet in the store, under lock */
    /* worker only: */
    struct ack_entry *acks; /* uthash, by key */
    struct ack_entry *pending;
};

static struct ack_entry *ack_find(hub_ingest *ing, const char *dealer, const char *ledger)
{
    struct ack_key k;
    struct ack_entry *e;

    memset(&k, 0, sizeof(k));
    snprintf(k.dealer, sizeof(k.dealer), "%s", dealer);
    snprintf(k.ledger, sizeof(k.ledger), "%s", ledger);
    HASH_FIND(hh, ing->acks, &k, sizeof(k), e);
    if (e)
        return e;
    e = depot_calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->key = k;
    HASH_ADD(hh, ing->acks, key, sizeof(e->key), e);
    if (!DEPOT_HASH_ADDED(e)) {
        depot_free(e);
        return NULL;
    }
    return e;
}

static void ack_mark(hub_ingest *ing, const depot_msg *m, uint64_t upto)
{
    struct ack_entry *e = ack_find(ing, m->dealer, m->ledger);
    if (!e)
        return; /* no memory: the gateway resends and we try again */
    if (upto > e->upto)
        e->upto = upto;
    if (!e->pending) {
        e->pending = true;
        e->next_pending = ing->pending;
        ing->pending = e;
    }
}

static depot_err ack_send(hub_ingest *ing, const struct ack_entry *e, long long now)
{
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_ACK, .ts = now};
    char topic[128], *payload;
    size_t len;
    depot_err err;

    snprintf(m.dealer, sizeof(m.dealer), "%s", e->key.dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", e->key.ledger);
    m.body.ack.upto = e->upto;
    err =
        depot_topic_build(topic, sizeof(topic), e->key.dealer, depot_msg_topic_leaf(DEPOT_MSG_ACK));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&m, &payload, &len);
    if (err != DEPOT_OK)
        return err;
    err = ing->publish(ing->publish_ctx, topic, payload, len, false);
    depot_free(payload);
    if (err == DEPOT_OK)
        hub_metrics_add(ing->metrics, HUB_C_ACKS_SENT, 1);
    return err;
}

/* Publishes the pending acks whose interval has passed; the others stay pending. */
static void ack_flush(hub_ingest *ing)
{
    long long now = depot_mono_ms();
    struct ack_entry **pp = &ing->pending, *e;
    while ((e = *pp)) {
        bool due = now - e->last_sent_ms >= HUB_ACK_INTERVAL_MS;
        if (due && e->upto > 0) {
            e->last_sent_ms = now;
            if (ack_send(ing, e, depot_now_ms()) != DEPOT_OK)
                due = false; /* broker away: keep it pending */
        }
        if (due) {
            e->pending = false;
            *pp = e->next_pending;
        } else {
            pp = &e->next_pending;
        }
    }
}

static void item_free(struct item *it)
{
    depot_msg_clear(&it->msg);
    depot_free(it);
}

/* Applies one message; the order side too when it is new (invariant 5). */
static depot_err apply_one(hub_ingest *ing, struct item *it)
{
    depot_err err;
    bool moves = it->msg.type == DEPOT_MSG_MOVEMENTS && it->skipped == HUB_REJECT_NONE;
    if (moves && !it->chain_checked) { /* invariant 10 */
        hub_ledger_check(ing->orders, &it->msg, &it->chain);
        it->chain_checked = true;
    }
    err = hub_store_apply_chain(ing->store, &it->msg, it->seen_ms, moves ? &it->chain : NULL,
                                &it->res, &it->upto);
    memset(&it->order, 0, sizeof(it->order));
    if (it->skipped != HUB_REJECT_NONE)
        return err; /* invariant 6: the id only */
    if (err == DEPOT_OK && moves && ing->w_alerts && hub_chain_out_break(it->chain.out))
        err = hub_alerts_on_chain(ing->w_alerts, ing->store, &it->msg, &it->chain, depot_now_ms());
    memset(&it->codes, 0, sizeof(it->codes));
    if (err == DEPOT_OK && moves && it->res == HUB_APPLY_DONE) /* invariant 11 */
        err = hub_diversion_check(ing->w_alerts, ing->w_ranking, ing->store, &it->msg, &it->codes,
                                  depot_now_ms());
    if (err == DEPOT_OK && ing->orders && it->res == HUB_APPLY_DONE)
        err = hub_orders_on_message(ing->orders, ing->store, &it->msg, depot_now_ms(), &it->order);
    if (err == DEPOT_OK && ing->contracts && it->res == HUB_APPLY_DONE &&
        it->msg.type == DEPOT_MSG_SIGNATURE) { /* contracts.h; terms due today apply at once */
        err = hub_contracts_on_message(ing->contracts, ing->store, &it->msg, depot_now_ms());
        ing->next_terms_ms = 0;
    }
    if (err == DEPOT_OK && it->res == HUB_APPLY_DONE) /* a policy's reach (policies.h) */
        err = hub_policies_on_message(ing->store, &it->msg, depot_now_ms());
    if (err == DEPOT_OK && it->res == HUB_APPLY_DONE) /* a task's data rule (tasks.h) */
        err = hub_tasks_on_message(ing->tasks, ing->store, ing->w_ranking, &it->msg, depot_now_ms(),
                                   NULL);
    if (err == DEPOT_OK && ing->w_alerts) /* in the same transaction (alerts/alerts.h) */
        err = hub_alerts_on_message(ing->w_alerts, ing->store, &it->msg, it->res, it->seen_ms,
                                    depot_now_ms());
    if (err == DEPOT_OK && ing->w_ranking && it->res != HUB_APPLY_DEFERRED &&
        it->res != HUB_APPLY_REFUSED) /* the same (ranking/service.h) */
        err = hub_ranking_apply(ing->w_ranking, ing->store, &it->msg, it->seen_ms, it->res,
                                &it->order);
    return err;
}

static depot_err apply_items(hub_ingest *ing, struct item *list, const uint64_t *rejects)
{
    depot_err err = hub_store_begin(ing->store);
    if (err == DEPOT_OK && ing->w_alerts) /* what other hub instances changed (alerts.h) */
        err = hub_alerts_begin(ing->w_alerts, ing->store, depot_now_ms());
    if (err == DEPOT_OK && ing->w_ranking)
        err = hub_ranking_begin(ing->w_ranking, ing->store, depot_now_ms());
    for (struct item *it = list; err == DEPOT_OK && it; it = it->next)
        err = apply_one(ing, it);
    for (int r = 0; rejects && err == DEPOT_OK && r < HUB_REJECT__COUNT; r++)
        if (rejects[r])
            err =
                hub_store_count_reject(ing->store, hub_reject_name((enum hub_reject)r), rejects[r]);
    if (err == DEPOT_OK && ing->w_alerts)
        err = hub_alerts_precommit(ing->w_alerts, ing->store, depot_now_ms());
    if (err == DEPOT_OK && ing->w_ranking)
        err = hub_ranking_precommit(ing->w_ranking, ing->store, depot_now_ms());
    if (err == DEPOT_OK)
        err = hub_store_commit(ing->store);
    if (err != DEPOT_OK)
        hub_store_rollback(ing->store);
    if (ing->w_alerts && err == DEPOT_OK)
        hub_alerts_committed(ing->w_alerts);
    else if (ing->w_alerts)
        hub_alerts_rolled_back(ing->w_alerts);
    if (ing->w_ranking && err == DEPOT_OK)
        hub_ranking_committed(ing->w_ranking);
    else if (ing->w_ranking)
        hub_ranking_rolled_back(ing->w_ranking);
    return err;
}

static void count_applied(hub_ingest *ing, struct item *it)
{
    static const enum hub_counter by_res[] = {
        [HUB_APPLY_DONE] = HUB_C_APPLIED,
        [HUB_APPLY_DUPLICATE] = HUB_C_DUPLICATES,
        [HUB_APPLY_STALE] = HUB_C_STALE,
    };
    if (it->skipped != HUB_REJECT_NONE) {
        if (it->res == HUB_APPLY_DUPLICATE)
            hub_metrics_add(ing->metrics, HUB_C_DUPLICATES, 1);
        else
            hub_metrics_skip(ing->metrics, it->skipped);
        ack_mark(ing, &it->msg, it->upto);
        return;
    }
    if (it->chain.out != HUB_CHAIN_NONE)
        hub_metrics_chain(ing->metrics, (int)it->chain.out);
    hub_metrics_add(ing->metrics, HUB_C_CODES_SCANNED, (unsigned long long)it->codes.scanned);
    hub_metrics_add(ing->metrics, HUB_C_CODES_DIVERTED, (unsigned long long)it->codes.diverted);
    hub_metrics_add(ing->metrics, HUB_C_CODES_UNKNOWN, (unsigned long long)it->codes.unknown);
    hub_metrics_add(ing->metrics, HUB_C_CODES_PICKED_TWICE,
                    (unsigned long long)it->codes.picked_twice);
    if (it->res == HUB_APPLY_DEFERRED || it->res == HUB_APPLY_REFUSED) {
        if (it->res == HUB_APPLY_DEFERRED) /* not recorded: the gateway resends it (inv. 8) */
            hub_metrics_add(ing->metrics, HUB_C_MOVEMENTS_DEFERRED, 1);
        else /* recorded, nothing applied: its id is acknowledged (inv. 8, 10) */
            hub_metrics_movements_refused(
                ing->metrics, it->chain.out == HUB_CHAIN_REFUSED     ? HUB_MR_FORGED
                              : it->chain.out == HUB_CHAIN_DOWNGRADE ? HUB_MR_UNCHAINED
                                                                     : HUB_MR_STOCK_MISMATCH);
        ack_mark(ing, &it->msg, it->upto);
        return;
    }
    if (!depot_msg_is_stream(it->msg.type) || it->res != HUB_APPLY_DUPLICATE)
        hub_metrics_applied_type(ing->metrics, (int)it->msg.type); /* first time, by type */
    if (ing->orders)
        hub_orders_count(ing->orders, &it->order);
    if (it->order.outcome == HUB_ORDER_APPROVED || it->order.outcome == HUB_ORDER_PENDING ||
        it->order.outcome == HUB_ORDER_REJECTED)
        ing->decisions_due = true; /* published right after this commit */
    if (it->msg.type == DEPOT_MSG_STATE)
        ing->next_tick_ms = 0; /* an online dealer: its decisions and catalog now */
    if (depot_msg_is_stream(it->msg.type)) {
        hub_metrics_add(ing->metrics, by_res[it->res], 1);
        ack_mark(ing, &it->msg, it->upto);
    } else if (it->msg.type != DEPOT_MSG_OUTBOX) { /* counted by type only */
        hub_metrics_add(ing->metrics,
                        it->msg.type == DEPOT_MSG_STATE ? HUB_C_STATES : HUB_C_SNAPSHOTS, 1);
    }
}

/* Applies a batch (invariant 2), counts and marks acks; frees the items. */
static void process(hub_ingest *ing, struct item *list, const uint64_t *rejects)
{
    struct item *it, *next;
    if (apply_items(ing, list, rejects) == DEPOT_OK) {
        hub_metrics_add(ing->metrics, HUB_C_BATCHES, 1);
        for (it = list; it; it = it->next)
            count_applied(ing, it);
    } else {
        hub_metrics_add(ing->metrics, HUB_C_DB_ERRORS, 1);
        for (it = list; it; it = it->next) {
            next = it->next;
            it->next = NULL;
            if (apply_items(ing, it, NULL) == DEPOT_OK)
                count_applied(ing, it);
            else
                hub_metrics_add(ing->metrics, HUB_C_DROPPED, 1);
            it->next = next;
        }
    }
    for (it = list; it; it = next) {
        next = it->next;
        item_free(it);
    }
}

static void timed_wait(hub_ingest *ing, int ms)
{
    struct timespec ts = depot_deadline_ms(ms); /* wake is made on CLOCK_MONOTONIC */
    pthread_cond_timedwait(&ing->wake, &ing->lock, &ts);
}

/* Under lock: detaches up to HUB_BATCH_MAX items and the reject counts. */
static struct item *take_batch(hub_ingest *ing, uint64_t *rejects, size_t *n)
{
    struct item *list = ing->head, *last = NULL, *it = ing->head;
    *n = 0;
    while (it && *n < HUB_BATCH_MAX) {
        last = it;
        it = it->next;
        (*n)++;
    }
    if (last)
        last->next = NULL;
    ing->head = it;
    if (!it)
        ing->tail = NULL;
    ing->queued -= *n;
    memcpy(rejects, ing->rejects, sizeof(ing->rejects));
    memset(ing->rejects, 0, sizeof(ing->rejects));
    return list;
}

/* One batch of the dealers whose down/policy is due. A full batch means more are due: the
 * worker goes on with the next at its next round (between message batches), not a tick later,
 * so a policy to 10,000 dealers is not paced by the tick. */
static void publish_policies(hub_ingest *ing)
{
    int n;
    ing->policies_more = false;
    if (hub_policies_publish_due(ing->store, ing->publish, ing->publish_ctx, depot_now_ms(), &n) !=
        DEPOT_OK)
        LOG_WARN("policies: publishing the due lists failed; retrying on the next tick");
    else
        ing->policies_more = n == HUB_POLICIES_DUE_BATCH;
}

/* Last month's statements, once close_after_days of this month have passed (statements.h):
 * once per month per worker; the store keeps the first statement of each dealer, so other hubs
 * closing too change nothing. */
static void close_last_month(hub_ingest *ing)
{
    long long wall = depot_now_ms();
    int last = hub_period_of(wall) - 1;
    struct hub_close_result res;
    depot_err err;
    if (ing->close_after_days < 0 || last == ing->closed_period ||
        wall < hub_period_start(last + 1) + ing->close_after_days * 86400000LL)
        return;
    err = hub_statements_close(ing->statements, ing->w_ranking, ing->store, last, wall, &res);
    if (err != DEPOT_OK && err != DEPOT_ERR_CONFIG) {
        LOG_WARN("statements: closing last month failed (%s); retrying in 10 minutes",
                 depot_strerror(err));
        return;
    }
    ing->closed_period = last;
    if (err == DEPOT_OK)
        hub_metrics_add(ing->metrics, HUB_C_STATEMENTS_FROZEN, res.created);
    if (err == DEPOT_OK)
        LOG_INFO("statements: last month closed: %zu statements made, %zu already there",
                 res.created, res.existing);
}

static void tick(hub_ingest *ing)
{
    long long now = depot_mono_ms();
    if (ing->w_alerts) /* its own periods; cheap when nothing is due */
        hub_alerts_tick(ing->w_alerts, ing->store, ing->publish, ing->publish_ctx, depot_now_ms());
    if (ing->orders && ing->policies_more && now < ing->next_tick_ms)
        publish_policies(ing);
    if (!ing->orders || now < ing->next_tick_ms)
        return;
    ing->next_tick_ms = now + HUB_TICK_MS;
    hub_orders_tick(ing->orders, ing->store, ing->publish, ing->publish_ctx, depot_now_ms());
    if (ing->contracts && now >= ing->next_terms_ms) { /* a start day has come */
        int n;
        ing->next_terms_ms = now + 60000;
        if (hub_contracts_apply_due(ing->store, depot_now_ms(), &n) != DEPOT_OK)
            LOG_WARN("contracts: terms due today not applied; retrying in a minute");
        else if (n > 0)
            ing->next_tick_ms = 0; /* their downlinks now */
    }
    if (ing->statements && ing->w_ranking && now >= ing->next_close_ms) {
        ing->next_close_ms = now + 600000;
        close_last_month(ing);
    }
    publish_policies(ing);
    if (hub_tasks_refresh(ing->tasks, ing->store) != DEPOT_OK)
        LOG_WARN("tasks: their SKUs could not be read; retrying on the next tick");
    if (ing->w_ranking)
        hub_ranking_tick(ing->w_ranking, ing->store, ing->publish, ing->publish_ctx,
                         depot_now_ms());
}

/* The decisions the batch just committed go out now, not at the next tick (invariant 5). */
static void publish_decisions(hub_ingest *ing)
{
    int n;
    if (!ing->decisions_due || !ing->orders)
        return;
    ing->decisions_due = false;
    if (hub_orders_publish_decisions(ing->orders, ing->store, ing->publish, ing->publish_ctx,
                                     depot_now_ms(), &n) != DEPOT_OK)
        ing->next_tick_ms = 0; /* logged by the store; the tick tries again */
}

/* Under lock: waits up to HUB_GATHER_MS for HUB_GATHER_MIN queued messages (invariant 9). */
static void gather(hub_ingest *ing)
{
    long long end = depot_mono_ms() + HUB_GATHER_MS, now;
    ing->gathering = true;
    while (ing->running && ing->queued < HUB_GATHER_MIN && (now = depot_mono_ms()) < end)
        timed_wait(ing, (int)(end - now));
    ing->gathering = false;
}

static void *worker(void *arg)
{
    hub_ingest *ing = arg;
    uint64_t rejects[HUB_REJECT__COUNT];
    struct item *list;
    size_t n = 0;

    pthread_setname_np(pthread_self(), "hub-ingest"); /* for top -H, perf and /proc */
    pthread_mutex_lock(&ing->lock);
    while (ing->running || ing->head) {
        if (!ing->head && ing->running && !ing->policies_more)
            timed_wait(ing, IDLE_WAIT_MS);
        if (n >= HUB_GATHER_FLOW && ing->queued < HUB_GATHER_MIN)
            gather(ing);
        list = take_batch(ing, rejects, &n);
        ing->w_ranking = ing->ranking;
        ing->w_alerts = ing->alerts;
        pthread_mutex_unlock(&ing->lock);
        if (list)
            process(ing, list, rejects);
        else if (memcmp(rejects, (uint64_t[HUB_REJECT__COUNT]){0}, sizeof(rejects)))
            process(ing, NULL, rejects);
        publish_decisions(ing);
        ack_flush(ing);
        tick(ing);
        pthread_mutex_lock(&ing->lock);
        ing->done += n;
        pthread_cond_broadcast(&ing->idle);
    }
    pthread_mutex_unlock(&ing->lock);
    return NULL;
}

depot_err hub_ingest_new(hub_store *store, hub_metrics *metrics, hub_orders *orders,
                         hub_publish_fn publish, void *publish_ctx, hub_ingest **out)
{
    hub_ingest *ing = depot_calloc(1, sizeof(*ing));
    if (!ing)
        return DEPOT_ERR_NOMEM;
    ing->orders = orders;
    ing->store = store;
    ing->metrics = metrics;
    ing->publish = publish;
    ing->publish_ctx = publish_ctx;
    ing->running = true;
    if (hub_tasks_new(&ing->tasks) != DEPOT_OK) {
        depot_free(ing);
        return DEPOT_ERR_NOMEM;
    }
    pthread_mutex_init(&ing->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ing->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&ing->idle, NULL);
    if (pthread_create(&ing->thread, NULL, worker, ing) != 0) {
        pthread_mutex_destroy(&ing->lock);
        pthread_cond_destroy(&ing->wake);
        pthread_cond_destroy(&ing->idle);
        hub_tasks_free(ing->tasks);
        depot_free(ing);
        return DEPOT_ERR_IO;
    }
    *out = ing;
    return DEPOT_OK;
}

void hub_ingest_set_contracts(hub_ingest *ing, hub_contracts *contracts)
{
    pthread_mutex_lock(&ing->lock);
    ing->contracts = contracts;
    pthread_mutex_unlock(&ing->lock);
}

void hub_ingest_set_statements(hub_ingest *ing, hub_statements *statements, long close_after_days)
{
    pthread_mutex_lock(&ing->lock);
    ing->statements = statements;
    ing->close_after_days = close_after_days;
    ing->closed_period = -1;
    pthread_mutex_unlock(&ing->lock);
}

void hub_ingest_set_ranking(hub_ingest *ing, hub_ranking *ranking)
{
    pthread_mutex_lock(&ing->lock);
    ing->ranking = ranking;
    pthread_mutex_unlock(&ing->lock);
}

void hub_ingest_set_alerts(hub_ingest *ing, hub_alerts *alerts)
{
    pthread_mutex_lock(&ing->lock);
    ing->alerts = alerts;
    pthread_mutex_unlock(&ing->lock);
}

void hub_ingest_free(hub_ingest *ing)
{
    if (!ing)
        return;
    pthread_mutex_lock(&ing->lock);
    ing->running = false;
    pthread_cond_signal(&ing->wake);
    pthread_mutex_unlock(&ing->lock);
    pthread_join(ing->thread, NULL);
    struct ack_entry *e, *tmp;
    HASH_ITER(hh, ing->acks, e, tmp)
    {
        HASH_DEL(ing->acks, e);
        depot_free(e);
    }
    pthread_mutex_destroy(&ing->lock);
    pthread_cond_destroy(&ing->wake);
    pthread_cond_destroy(&ing->idle);
    hub_tasks_free(ing->tasks);
    depot_free(ing);
}

static void enqueue(hub_ingest *ing, struct item *it)
{
    pthread_mutex_lock(&ing->lock);
    if (ing->queued >= HUB_QUEUE_MAX) {
        pthread_mutex_unlock(&ing->lock);
        hub_metrics_add(ing->metrics, HUB_C_DROPPED, 1);
        item_free(it);
        return;
    }
    if (ing->tail)
        ing->tail->next = it;
    else
        ing->head = it;
    ing->tail = it;
    ing->queued++;
    ing->submitted++;
    if (!ing->gathering || ing->queued >= HUB_GATHER_MIN)
        pthread_cond_signal(&ing->wake);
    pthread_mutex_unlock(&ing->lock);
}

static void reject(hub_ingest *ing, enum hub_reject r, const char *topic, const char *detail)
{
    hub_metrics_reject(ing->metrics, r);
    LOG_WARN("rejected message on %s: %s: %s", topic ? topic : "(no topic)", hub_reject_name(r),
             detail);
    pthread_mutex_lock(&ing->lock);
    ing->rejects[r]++;
    pthread_mutex_unlock(&ing->lock);
}

enum hub_reject hub_ingest_submit(hub_ingest *ing, const char *topic, const void *payload,
                                  size_t len, bool retained, long long received_ms)
{
    struct item *it = depot_calloc(1, sizeof(*it));
    char detail[160];
    enum hub_reject r;

    hub_metrics_add(ing->metrics, HUB_C_RECEIVED, 1);
    if (!it) {
        hub_metrics_add(ing->metrics, HUB_C_DROPPED, 1);
        return HUB_REJECT_INTERNAL;
    }
    r = hub_accept(topic, payload, len, &it->msg, detail, sizeof(detail));
    if (r != HUB_REJECT_NONE && hub_accept_skippable(topic, payload, len, r, &it->msg)) {
        reject(ing, r, topic, detail);
        LOG_WARN("message %s/%s/%llu on %s skipped: recorded as applied so the stream's ack "
                 "moves past it",
                 it->msg.dealer, it->msg.ledger, (unsigned long long)it->msg.id, topic);
        it->skipped = r;
        it->seen_ms = received_ms;
        enqueue(ing, it);
        return r;
    }
    if (r != HUB_REJECT_NONE) {
        depot_free(it);
        reject(ing, r, topic, detail);
        return r;
    }
    it->seen_ms = retained && it->msg.ts < received_ms ? it->msg.ts : received_ms;
    enqueue(ing, it);
    return HUB_REJECT_NONE;
}

void hub_ingest_sync(hub_ingest *ing)
{
    pthread_mutex_lock(&ing->lock);
    unsigned long long target = ing->submitted;
    pthread_cond_signal(&ing->wake);
    while (ing->done < target)
        pthread_cond_wait(&ing->idle, &ing->lock);
    pthread_mutex_unlock(&ing->lock);
}
