/*
 * uplink.c - the gateway's MQTT v5 client.
 *
 * Owns: the mosquitto client, the connection state, the in-flight ring of the
 * stream, the token bucket, the snapshot timer.
 *
 * States:  DOWN --connect_async--> CONNECTING --CONNACK ok--> UP
 *            ^                          |  fail / 15 s             | lost
 *            +------- back-off 1..30 s -+--------------------------+
 *
 * Each connection is a session S = its connect time in ms. The last will
 * (retained {"online":false,"session":S}) is set before each attempt; on
 * CONNACK the retained {"online":true,"session":S} follows, then how full
 * the outbox is (up/outbox, before any of the backlog), the subscription to
 * down/# and a retained snapshot. The outbox report goes again with every
 * heartbeat and whenever the outbox moves to another tenth of its bound
 * (checked every FILL_CHECK_MS), so the hub can warn of an outbox filling
 * behind a slow link, and hears the level at once when a link comes back.
 *
 * The stream (outbox entries) goes out in id order from `cursor`, at most
 * `rate` per second (token bucket) and at most `window` unacknowledged (the
 * ring, oldest first). A PUBACK changes nothing: an entry leaves the outbox
 * only when the hub's down/ack covers it. If the oldest unacknowledged entry
 * was sent more than resend_s ago, or after any reconnect, the cursor goes
 * back to the lowest id (go-back-N); the hub's dedupe makes repeats harmless.
 * A go-back-N waits until the broker has PUBACKed the last stream message
 * handed to libmosquitto: copies still queued there (libmosquitto keeps its
 * queue across reconnects and sends at most the broker's receive maximum per
 * round trip) would only put more copies behind them, and on a slow link each
 * resend would queue faster than the link drains, the newest ids never
 * reaching the hub. While no hub ack moves, each further go-back-N waits
 * twice as long, up to RESEND_BACKOFF_MAX x resend_s; an ack that moves
 * brings it back to resend_s.
 * Every stream message is re-stamped at send time with base = the lowest id
 * still in the outbox. An entry that can never be sent (it does not decode, or
 * is not the message its row says) is moved to outbox_aside with the event
 * that reports it (gw_ledger_outbox_set_aside), never skipped in place: a row
 * left in the outbox would hold base, and so the hub's acks, at its id.
 *
 * Waking: while UP the thread waits in poll() on the broker's socket AND an
 * eventfd that the ledger signals after every commit that queued a message
 * (gw_ledger_set_queued_hook), then lets libmosquitto read, write and keep
 * alive (mosquitto_loop_read/_write/_misc, what mosquitto_loop does) and
 * drains. So an order signed on a poller thread is published at once, not
 * at the end of the step's timeout; and with nothing queued or in flight the
 * outbox is not read at all: the step sleeps until the next snapshot,
 * heartbeat or keep-alive.
 *
 * Downlinks: down/ack deletes what the hub applied; down/decision updates an
 * order once (orders.c) and hands the terminal's new display to the poller
 * (never written to a node from this thread); down/catalog (retained)
 * replaces the stored catalog when its version is newer (catalog.c);
 * down/alert and down/ranking (retained) are kept in the ledger (downlink.c), as are
 * down/policy and down/contract (retained), whose notices the terminals show.
 *
 * What goes out and what comes in is built and handled by functions that need
 * no connection (gw_uplink_stream_msg, gw_uplink_snapshot_msg,
 * gw_uplink_receive); the loop only publishes what they build and feeds them
 * what libmosquitto delivers.
 *
 * A hung link (the path dead, the socket still open: no reply, no close) is
 * found by the uplink itself, within 1.25 x keepalive_s: libmosquitto's own
 * keep-alive only gives up after a PINGREQ unanswered for a whole
 * keepalive_s, up to 2 x keepalive_s after the last word from the broker.
 * Every packet the broker sends that libmosquitto reports (CONNACK, PUBACK,
 * SUBACK, UNSUBACK, PUBLISH) counts as heard; after a quarter keepalive_s of
 * silence the uplink asks for a reply, an UNSUBSCRIBE of a filter it never
 * subscribed (down/probe: the broker answers UNSUBACK and nothing else
 * changes, no message reaches the hub), and with no reply one keepalive_s
 * later the link is hung: closed, and connected again with the back-off.
 *
 * Counters (gw_uplink_stats, for the metrics file): stream messages
 * published, of those the resends (an id not above the highest ever sent by
 * this process), and outbox entries deleted by acks.
 *
 * The session is persistent (clean start off, session expiry
 * GW_SESSION_EXPIRY_S), so QoS 1 decisions the broker queued while the
 * gateway was away arrive at reconnect; the hub also repeats a decision until
 * the gateway's "decided" event reaches it. libmosquitto 2.0 sends CONNECT
 * properties only through mosquitto_connect_bind_v5 (which connects the TCP
 * socket blocking); it keeps them for mosquitto_reconnect_async, so the first
 * attempt uses the former and every later one the latter.
 *
 * Invariants: ring ids strictly increase and are all < cursor; ring_n <=
 * window; nothing is published unless the state is UP.
 */
#include "uplink.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "catalog.h"
#include "depot/alloc.h"
#include "downlink.h"
#include "depot/link_watch.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "orders.h"

#define CONNECT_TIMEOUT_MS 15000
#define RECONNECT_MIN_MS 1000
#define RECONNECT_MAX_MS 30000
#define DRAIN_MAX_PER_STEP 256
#define FILL_CHECK_MS 500
#define RESEND_BACKOFF_MAX 8 /* x resend_s, the longest wait for a go-back-N */

enum ul_state { UL_DOWN, UL_CONNECTING, UL_UP };

struct inflight {
    uint64_t id;
    long long sent_ms;
};

struct gw_uplink {
    struct gw_uplink_opts o;
    const gw_config *cfg;
    struct mosquitto *mosq;
    enum ul_state state;
    long long session;
    long long attempt_ms;
    long long next_attempt_ms;
    int attempt_fails;
    bool just_connected;
    bool ever_attempted; /* the CONNECT properties are set by the first attempt */
    struct depot_link_watch watch; /* the hung-link watchdog (while UP) */
    /* stream */
    uint64_t cursor;
    struct inflight *ring;
    size_t ring_head, ring_n, ring_cap;
    double tokens;
    long long refill_ms;
    long long next_snapshot_ms, next_heartbeat_ms;
    long long next_fill_ms;       /* the outbox level is compared with the last report then */
    int fill_step;                /* tenths of max_entries in the last report (-1: none yet) */
    struct gw_uplink_stats stats; /* read by other threads through gw_uplink_stats */
    uint64_t highest_sent;        /* sending an id <= this again is a resend */
    int last_stream_mid;          /* the mid of the last stream message published */
    bool last_stream_puback;      /* ... and the broker has PUBACKed it (or none yet) */
    int resend_factor;            /* x resend_s before the next go-back-N (1..MAX) */
    int last_mid;                 /* the mid of the last message published (any topic) */
    pthread_mutex_t stats_mu;
    int wake_fd; /* eventfd: the ledger queued a message (any thread) */
    bool dry;    /* the last outbox read found nothing past the cursor, and no wake since */
    char topic_state[128];
    char topic_down[128];
    char topic_snapshot[128];
    char topic_probe[128]; /* down/probe: a filter never subscribed (the hung-link probe) */
    char topic_outbox[128];
};

/* ---- the ring of unacknowledged stream messages ---- */

static void ring_clear(gw_uplink *u)
{
    u->ring_head = u->ring_n = 0;
}

static void ring_push(gw_uplink *u, uint64_t id, long long now)
{
    size_t i = (u->ring_head + u->ring_n) % u->ring_cap;
    u->ring[i] = (struct inflight){id, now};
    u->ring_n++;
}

static void ring_ack(gw_uplink *u, uint64_t upto)
{
    while (u->ring_n && u->ring[u->ring_head].id <= upto) {
        u->ring_head = (u->ring_head + 1) % u->ring_cap;
        u->ring_n--;
        u->resend_factor = 1; /* the hub's acks move: resend after resend_s again */
    }
}

/* ---- publishing ---- */

static bool publish(gw_uplink *u, const char *topic, const char *payload, size_t len, bool retain)
{
    int rc =
        mosquitto_publish_v5(u->mosq, &u->last_mid, topic, (int)len, payload, 1, retain, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        LOG_WARN("mqtt: publish to %s failed: %s", topic, mosquitto_strerror(rc));
        return false;
    }
    return true;
}

static void envelope(gw_uplink *u, depot_msg *m, depot_msg_type type)
{
    memset(m, 0, sizeof(*m));
    m->v = DEPOT_MSG_VERSION;
    m->type = type;
    snprintf(m->dealer, sizeof(m->dealer), "%s", u->cfg->dealer);
    memcpy(m->ledger, gw_ledger_id(u->o.ledger), sizeof(m->ledger));
    m->ts = depot_now_ms();
}

/* Encode and publish m; the encoding is freed here. */
static bool publish_msg(gw_uplink *u, const char *topic, const depot_msg *m, bool retain)
{
    char *json;
    size_t len;
    depot_err e = depot_msg_encode(m, &json, &len);
    if (e != DEPOT_OK) {
        LOG_ERROR("mqtt: cannot encode a %s message: %s", depot_msg_type_name(m->type),
                  depot_strerror(e));
        return false;
    }
    bool ok = publish(u, topic, json, len, retain);
    depot_free(json);
    return ok;
}

static void state_build(gw_uplink *u, depot_msg *m, bool online)
{
    envelope(u, m, DEPOT_MSG_STATE);
    m->body.state.online = online;
    m->body.state.session = u->session;
}

/* The retained online state again, so that a gateway with nothing to report is still heard
 * from well inside the hub's offline_after_s (same session: it changes nothing else). */
static void publish_heartbeat(gw_uplink *u)
{
    depot_msg st;
    state_build(u, &st, true);
    publish_msg(u, u->topic_state, &st, true);
    u->next_heartbeat_ms = depot_mono_ms() + (long long)u->cfg->heartbeat_s * 1000;
}

/* Tenths of the bound, 0..10. */
static int fill_step(long long queued, long long max)
{
    long long step = max > 0 ? queued * 10 / max : 10;
    return step < 0 ? 0 : step > 10 ? 10 : (int)step;
}

void gw_uplink_outbox_msg(gw_uplink *u, long long queued, depot_msg *m)
{
    long long max = u->cfg->max_entries;
    long long refuse_at = gw_ledger_outbox_refuse_at(u->o.ledger);
    envelope(u, m, DEPOT_MSG_OUTBOX);
    m->body.outbox.queued = queued;
    m->body.outbox.max = max;
    m->body.outbox.refuse_at = refuse_at < 1 ? 1 : refuse_at > max ? max : refuse_at;
}

static void publish_fill(gw_uplink *u)
{
    depot_msg m;
    gw_uplink_outbox_msg(u, gw_ledger_outbox_count(u->o.ledger), &m);
    if (publish_msg(u, u->topic_outbox, &m, false))
        u->fill_step = fill_step(m.body.outbox.queued, m.body.outbox.max);
    u->next_fill_ms = depot_mono_ms() + FILL_CHECK_MS;
}

static void check_fill(gw_uplink *u, long long now)
{
    if (now < u->next_fill_ms)
        return;
    u->next_fill_ms = now + FILL_CHECK_MS;
    if (fill_step(gw_ledger_outbox_count(u->o.ledger), u->cfg->max_entries) != u->fill_step)
        publish_fill(u);
}

depot_err gw_uplink_snapshot_msg(gw_uplink *u, depot_msg *m)
{
    struct depot_snapshot_item *items;
    size_t n;
    depot_err e = gw_ledger_stock_list(u->o.ledger, &items, &n);
    if (e != DEPOT_OK)
        return e;
    envelope(u, m, DEPOT_MSG_SNAPSHOT);
    m->body.snapshot.as_of = gw_ledger_last_id(u->o.ledger);
    for (size_t i = 0; i < n && u->o.node_faulted; i++)
        items[i].fault = u->o.node_faulted(u->o.node_faulted_ctx, items[i].node);
    m->body.snapshot.items = items;
    m->body.snapshot.n_items = n;
    return DEPOT_OK;
}

static void publish_snapshot(gw_uplink *u)
{
    depot_msg m;
    if (gw_uplink_snapshot_msg(u, &m) != DEPOT_OK)
        return;
    if (publish_msg(u, u->topic_snapshot, &m, true))
        LOG_DEBUG("mqtt: snapshot of %zu SKUs as of %llu", m.body.snapshot.n_items,
                  (unsigned long long)m.body.snapshot.as_of);
    depot_msg_clear(&m);
    u->next_snapshot_ms = depot_mono_ms() + (long long)u->cfg->snapshot_period_s * 1000;
}

/* ---- the downlink ---- */

/* Decode a downlink of type want for this dealer; false (logged) if it is not one. */
static bool decode_down(gw_uplink *u, const char *topic, const void *payload, size_t len,
                        depot_msg_type want, depot_msg *m)
{
    char reason[128];
    depot_err e = depot_msg_decode(payload, len, m, reason, sizeof(reason));
    if (e != DEPOT_OK) {
        LOG_WARN("mqtt: %s rejected: %s (%s)", topic, reason, depot_strerror(e));
        return false;
    }
    if (m->type != want || strcmp(m->dealer, u->cfg->dealer) != 0) {
        LOG_WARN("mqtt: %s rejected: not a %s for dealer %s", topic, depot_msg_type_name(want),
                 u->cfg->dealer);
        depot_msg_clear(m);
        return false;
    }
    return true;
}

static void handle_ack(gw_uplink *u, const depot_msg *m)
{
    long long deleted = 0;
    depot_err e;
    if (strcmp(m->ledger, gw_ledger_id(u->o.ledger)) != 0) {
        LOG_DEBUG("mqtt: ack for another ledger %s ignored", m->ledger);
    } else if ((e = gw_ledger_ack(u->o.ledger, m->body.ack.upto, &deleted)) != DEPOT_OK) {
        LOG_WARN("mqtt: ack upto %llu not applied: %s", (unsigned long long)m->body.ack.upto,
                 e == DEPOT_ERR_INVAL ? "beyond the last id assigned" : depot_strerror(e));
    } else {
        ring_ack(u, m->body.ack.upto);
        pthread_mutex_lock(&u->stats_mu);
        u->stats.acked += deleted;
        pthread_mutex_unlock(&u->stats_mu);
        LOG_DEBUG("mqtt: ack upto %llu, %lld entries deleted", (unsigned long long)m->body.ack.upto,
                  deleted);
    }
}

static void handle_decision(gw_uplink *u, const depot_msg *m)
{
    const struct depot_decision_body *b = &m->body.decision;
    struct gw_decided r;
    depot_err e;
    if (strcmp(m->ledger, gw_ledger_id(u->o.ledger)) != 0) {
        LOG_INFO("mqtt: decision for order %s of another ledger ignored", b->order);
        return;
    }
    e = gw_orders_decide(u->o.ledger, m, &r);
    if (e == DEPOT_ERR_NOTFOUND)
        LOG_WARN("mqtt: decision for unknown order %s ignored", b->order);
    else if (e == DEPOT_ERR_INVAL)
        LOG_WARN("mqtt: decision for order %s names number %lld: not ours, ignored", b->order,
                 b->number);
    else if (e != DEPOT_OK)
        LOG_WARN("mqtt: decision for order %s not applied (%s): the hub repeats it", b->order,
                 depot_strerror(e));
    if (e != DEPOT_OK || !r.changed)
        return;
    LOG_INFO("order %lld (%s): %s%s%s%s%s", r.number, b->order, b->status,
             b->stage[0] ? " at " : "", b->stage, b->reason[0] ? ": " : "", b->reason);
    if (u->o.display && u->o.display(u->o.display_ctx, r.terminal, &r.display) != DEPOT_OK)
        LOG_WARN("order %lld: terminal %s is not configured: display \"%s\" not shown", r.number,
                 r.terminal, r.display.text);
}

static void handle_catalog(gw_uplink *u, const depot_msg *m)
{
    bool applied;
    gw_catalog_replace(u->o.ledger, &m->body.catalog, &applied);
}

static void handle_alert(gw_uplink *u, const depot_msg *m)
{
    char reason[128] = "";
    bool stored;
    depot_err e =
        gw_alert_store(u->o.ledger, &m->body.alert, m->ts, &stored, reason, sizeof(reason));
    if (e == DEPOT_ERR_INVAL)
        LOG_WARN("mqtt: down/alert %lld rejected: %s", m->body.alert.alert, reason);
    else if (e != DEPOT_OK)
        LOG_WARN("mqtt: down/alert %lld not stored: %s", m->body.alert.alert, depot_strerror(e));
    else if (!stored)
        LOG_DEBUG("mqtt: down/alert %lld older than the stored one, ignored", m->body.alert.alert);
}

static void handle_ranking(gw_uplink *u, const depot_msg *m)
{
    char reason[128] = "";
    bool stored;
    depot_err e =
        gw_ranking_store(u->o.ledger, &m->body.ranking, m->ts, &stored, reason, sizeof(reason));
    if (e == DEPOT_ERR_INVAL)
        LOG_WARN("mqtt: down/ranking rejected: %s", reason);
    else if (e != DEPOT_OK)
        LOG_WARN("mqtt: down/ranking not stored: %s", depot_strerror(e));
    else if (!stored)
        LOG_DEBUG("mqtt: down/ranking for %s older than the stored one, ignored",
                  m->body.ranking.period);
}

/* Every scanner terminal shows the oldest policy notice not acknowledged (OK confirms it). */
static void show_pending_notice(gw_uplink *u)
{
    char notice[DEPOT_POLICY_NOTICE_MAX + 1];
    struct gw_display d;
    long long id;
    if (!u->o.display || !gw_policy_pending(u->o.ledger, &id, notice))
        return;
    gw_display_set(&d, DEPOT_DISPLAY_INFO, "P%lld %s OK=ACK", id, notice);
    for (size_t i = 0; i < u->cfg->n_nodes; i++)
        if (u->cfg->nodes[i].kind == GW_NODE_SCANNER &&
            u->o.display(u->o.display_ctx, u->cfg->nodes[i].name, &d) != DEPOT_OK)
            LOG_WARN("policy %lld: terminal %s: notice not shown", id, u->cfg->nodes[i].name);
}

static void handle_policy(gw_uplink *u, const depot_msg *m)
{
    int fresh = 0;
    depot_err e = gw_policies_store(u->o.ledger, &m->body.policy, depot_now_ms(), &fresh);
    if (e != DEPOT_OK) {
        LOG_WARN("mqtt: down/policy not stored (%s): kept at the broker, stored at the next "
                 "connect",
                 depot_strerror(e));
        return;
    }
    if (fresh > 0)
        show_pending_notice(u);
}

/* A contract to sign: every scanner terminal says so (its sign code, scanned, signs it). */
static void handle_contract(gw_uplink *u, const depot_msg *m)
{
    char title[DEPOT_POLICY_TITLE_MAX + 1];
    struct gw_display d;
    long long id;
    int fresh = 0;
    depot_err e = gw_contracts_store(u->o.ledger, &m->body.contract, depot_now_ms(), &fresh);
    if (e != DEPOT_OK) {
        LOG_WARN("mqtt: down/contract not stored (%s): kept at the broker, stored at the next "
                 "connect",
                 depot_strerror(e));
        return;
    }
    if (fresh == 0 || !u->o.display || !gw_contract_pending(u->o.ledger, &id, title))
        return;
    gw_display_set(&d, DEPOT_DISPLAY_INFO, "CONTRACT %lld: SCAN C%lld TO SIGN", id, id);
    for (size_t i = 0; i < u->cfg->n_nodes; i++)
        if (u->cfg->nodes[i].kind == GW_NODE_SCANNER &&
            u->o.display(u->o.display_ctx, u->cfg->nodes[i].name, &d) != DEPOT_OK)
            LOG_WARN("contract %lld: terminal %s: notice not shown", id, u->cfg->nodes[i].name);
}

static const struct downlink {
    const char *leaf;
    depot_msg_type type;
    void (*handle)(gw_uplink *u, const depot_msg *m);
} downlinks[] = {
    {"down/ack", DEPOT_MSG_ACK, handle_ack},
    {"down/decision", DEPOT_MSG_DECISION, handle_decision},
    {"down/catalog", DEPOT_MSG_CATALOG, handle_catalog},
    {"down/alert", DEPOT_MSG_ALERT, handle_alert},
    {"down/ranking", DEPOT_MSG_RANKING, handle_ranking},
    {"down/policy", DEPOT_MSG_POLICY, handle_policy},
    {"down/contract", DEPOT_MSG_CONTRACT, handle_contract},
};

void gw_uplink_receive(gw_uplink *u, const char *topic, const void *payload, size_t len)
{
    char dealer[DEPOT_DEALER_MAX + 1];
    const char *leaf;
    depot_msg m;
    if (depot_topic_parse(topic, dealer, &leaf) != DEPOT_OK ||
        strcmp(dealer, u->cfg->dealer) != 0) {
        LOG_WARN("mqtt: message on unexpected topic %s ignored", topic);
        return;
    }
    for (size_t i = 0; i < sizeof(downlinks) / sizeof(downlinks[0]); i++) {
        if (strcmp(leaf, downlinks[i].leaf) != 0)
            continue;
        if (len == 0)
            return; /* a cleared retained message */
        if (decode_down(u, topic, payload, len, downlinks[i].type, &m)) {
            downlinks[i].handle(u, &m);
            depot_msg_clear(&m);
        }
        return;
    }
    LOG_DEBUG("mqtt: %s: not handled by this gateway version", topic);
}

/* A packet came from the broker: the link is alive. */
static void heard(gw_uplink *u)
{
    depot_link_watch_heard(&u->watch, depot_mono_ms());
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    (void)mosq;
    (void)props;
    heard(obj);
    gw_uplink_receive(obj, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc,
                       const mosquitto_property *props)
{
    gw_uplink *u = obj;
    (void)mosq;
    (void)rc;
    (void)props;
    heard(obj);
    /* libmosquitto sends its queue in order and the broker PUBACKs in order: with the last
     * stream message PUBACKed, no earlier copy is still queued */
    if (mid == u->last_stream_mid)
        u->last_stream_puback = true;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    (void)mosq;
    (void)mid;
    (void)n;
    (void)granted;
    (void)props;
    heard(obj);
}

static void on_unsubscribe(struct mosquitto *mosq, void *obj, int mid,
                           const mosquitto_property *props)
{
    (void)mosq;
    (void)mid;
    (void)props;
    heard(obj);
}

/* What went wrong, in words (libmosquitto 2.0.11 has none for its keep-alive). */
static const char *mqtt_error(int rc)
{
    if (rc == MOSQ_ERR_ERRNO)
        return strerror(errno);
    if (rc == MOSQ_ERR_KEEPALIVE)
        return "no PINGRESP within the keep-alive";
    return mosquitto_strerror(rc);
}

/* ---- connection ---- */

static void link_down(gw_uplink *u, const char *why)
{
    long long now = depot_mono_ms();
    if (u->state == UL_UP || u->attempt_fails == 0)
        LOG_WARN("mqtt: %s:%d: %s; retrying", u->cfg->host, u->cfg->port, why);
    u->state = UL_DOWN;
    u->attempt_fails++;
    u->next_attempt_ms =
        now + gw_backoff_delay_ms(RECONNECT_MIN_MS, u->attempt_fails, RECONNECT_MAX_MS);
    ring_clear(u);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    gw_uplink *u = obj;
    (void)mosq;
    (void)props;
    if (rc == 0)
        LOG_DEBUG("mqtt: session %s", (flags & 1) ? "resumed" : "new");
    if (rc != 0) {
        char why[128];
        snprintf(why, sizeof(why), "broker refused: %s", mosquitto_reason_string(rc));
        link_down(u, why);
        mosquitto_disconnect(u->mosq);
        return;
    }
    u->state = UL_UP;
    u->attempt_fails = 0;
    u->just_connected = true;
    heard(u);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *p)
{
    gw_uplink *u = obj;
    (void)mosq;
    (void)p;
    if (u->state != UL_DOWN)
        link_down(u, rc == 0 ? "disconnected" : mqtt_error(rc));
}

/* CONNECT with clean start off and the session expiry (see the top of the file). */
static int connect_session(gw_uplink *u)
{
    mosquitto_property *props = NULL;
    int rc;
    if (u->ever_attempted)
        return mosquitto_reconnect_async(u->mosq);
    rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                      GW_SESSION_EXPIRY_S);
    if (rc == MOSQ_ERR_SUCCESS) {
        u->ever_attempted = true;
        rc = mosquitto_connect_bind_v5(u->mosq, u->cfg->host, u->cfg->port, u->cfg->keepalive_s,
                                       NULL, props);
    }
    mosquitto_property_free_all(&props);
    return rc;
}

static void start_attempt(gw_uplink *u)
{
    depot_msg will;
    char *json;
    size_t len;
    int rc;

    u->session = depot_now_ms();
    state_build(u, &will, false);
    if (depot_msg_encode(&will, &json, &len) != DEPOT_OK)
        return;
    rc = mosquitto_will_set_v5(u->mosq, u->topic_state, (int)len, json, 1, true, NULL);
    depot_free(json);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = connect_session(u);
    u->attempt_ms = depot_mono_ms();
    if (rc != MOSQ_ERR_SUCCESS) {
        u->state = UL_CONNECTING; /* so link_down counts it as a failed attempt */
        link_down(u, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        return;
    }
    u->state = UL_CONNECTING;
}

/* The first step after CONNACK: state, subscription, snapshot, resend everything. */
static void connected_tasks(gw_uplink *u)
{
    char sub[160];
    u->dry = false; /* a new session reads the outbox from its cursor again */
    u->just_connected = false;
    LOG_INFO("mqtt: connected to %s:%d as %s, session %lld", u->cfg->host, u->cfg->port,
             u->cfg->dealer, u->session);
    publish_heartbeat(u);
    publish_fill(u);
    snprintf(sub, sizeof(sub), "%s/#", u->topic_down);
    int rc = mosquitto_subscribe_v5(u->mosq, NULL, sub, 1, 0, NULL);
    if (rc != MOSQ_ERR_SUCCESS)
        LOG_WARN("mqtt: subscribe %s: %s", sub, mosquitto_strerror(rc));
    publish_snapshot(u);
    u->cursor = 0;
    ring_clear(u);
    u->tokens = 1;
    u->refill_ms = depot_mono_ms();
}

/* ---- draining the outbox ---- */

static void refill(gw_uplink *u, long long now)
{
    double burst = u->cfg->rate / 10.0 < 1 ? 1 : u->cfg->rate / 10.0;
    u->tokens += (double)(now - u->refill_ms) * u->cfg->rate / 1000.0;
    if (u->tokens > burst)
        u->tokens = burst;
    u->refill_ms = now;
}

static void check_resend(gw_uplink *u, long long now)
{
    long long wait_ms = (long long)u->cfg->resend_s * 1000 * u->resend_factor;
    if (!u->ring_n || now - u->ring[u->ring_head].sent_ms < wait_ms)
        return;
    if (!u->last_stream_puback)
        return; /* copies still queued in libmosquitto: more would only queue behind them */
    LOG_INFO("mqtt: no ack for id %llu after %lld s: resending from the lowest unacknowledged",
             (unsigned long long)u->ring[u->ring_head].id, wait_ms / 1000);
    u->cursor = 0;
    ring_clear(u);
    u->dry = false;
    if (u->resend_factor < RESEND_BACKOFF_MAX)
        u->resend_factor *= 2;
}

enum send_result { SEND_OK, SEND_FAILED, SEND_NEVER };

/*
 * Decode a stored entry into m; false with why if it can never be sent: it
 * does not decode, or is not the stream message of dealer and ledger_id that
 * its row says (type, id).
 */
static bool entry_decode(const char *dealer, const char *ledger_id, const struct gw_outbox_entry *e,
                         depot_msg *m, char *why, size_t len)
{
    char reason[128];
    const char *bad = NULL;
    if (e->type == DEPOT_MSG__COUNT || !depot_msg_is_stream(e->type)) {
        snprintf(why, len, "topic is not a stream message");
        return false;
    }
    if (depot_msg_decode(e->payload, e->len, m, reason, sizeof(reason)) != DEPOT_OK) {
        snprintf(why, len, "does not decode: %.*s", (int)(len > 18 ? len - 18 : 0), reason);
        return false;
    }
    if (m->type != e->type)
        bad = "payload type is not the row's topic";
    else if (m->id != e->id)
        bad = "payload id is not the row's id";
    else if (strcmp(m->dealer, dealer) != 0)
        bad = "payload dealer is not this gateway's";
    else if (strcmp(m->ledger, ledger_id) != 0)
        bad = "payload ledger is not this ledger";
    if (!bad)
        return true;
    snprintf(why, len, "%s", bad);
    depot_msg_clear(m);
    return false;
}

bool gw_uplink_stream_msg(const char *dealer, const char *ledger_id,
                          const struct gw_outbox_entry *e, uint64_t base, depot_msg *m, char *topic,
                          size_t topic_len, char *why, size_t why_len)
{
    if (!entry_decode(dealer, ledger_id, e, m, why, why_len))
        return false;
    m->base = base <= m->id ? base : m->id;
    depot_topic_build(topic, topic_len, dealer, depot_msg_topic_leaf(m->type));
    return true;
}

/* Re-stamp a stored envelope with the current base and publish it. */
static enum send_result send_entry(gw_uplink *u, const struct gw_outbox_entry *e, uint64_t base,
                                   char *why, size_t why_len)
{
    char topic[128];
    depot_msg m;
    bool ok;
    if (!gw_uplink_stream_msg(u->cfg->dealer, gw_ledger_id(u->o.ledger), e, base, &m, topic,
                              sizeof(topic), why, why_len))
        return SEND_NEVER;
    ok = publish_msg(u, topic, &m, false);
    if (ok) {
        u->last_stream_mid = u->last_mid;
        u->last_stream_puback = false;
    }
    depot_msg_clear(&m);
    return ok ? SEND_OK : SEND_FAILED;
}

static void count_sent(gw_uplink *u, uint64_t id)
{
    pthread_mutex_lock(&u->stats_mu);
    u->stats.sent++;
    if (id <= u->highest_sent)
        u->stats.resent++;
    else
        u->highest_sent = id;
    pthread_mutex_unlock(&u->stats_mu);
}

static void drain(gw_uplink *u, long long now)
{
    struct gw_outbox_entry batch[DRAIN_MAX_PER_STEP];
    uint64_t ids[DRAIN_MAX_PER_STEP];
    size_t n = 0, sent = 0;
    uint64_t base;
    long long budget = (long long)u->tokens;

    if ((long long)(u->ring_cap - u->ring_n) < budget)
        budget = (long long)(u->ring_cap - u->ring_n);
    if (budget > DRAIN_MAX_PER_STEP)
        budget = DRAIN_MAX_PER_STEP;
    if (u->dry)
        return; /* nothing was queued since the outbox was found empty (the ledger's wake) */
    if (budget <= 0 ||
        gw_ledger_outbox_read(u->o.ledger, u->cursor, (size_t)budget, batch, &n) != DEPOT_OK)
        return;
    if (n == 0) {
        u->dry = true;
        return;
    }
    u->dry = false;
    gw_ledger_outbox_base(u->o.ledger, &base);
    for (size_t i = 0; i < n && u->state == UL_UP; i++) {
        char why[DEPOT_REASON_MAX + 1];
        enum send_result r = send_entry(u, &batch[i], base, why, sizeof(why));
        if (r == SEND_NEVER) { /* set aside, so base and the hub's applied_upto pass it */
            if (gw_ledger_outbox_set_aside(u->o.ledger, batch[i].id, why, NULL) != DEPOT_OK)
                break;
            u->cursor = batch[i].id + 1;
            gw_ledger_outbox_base(u->o.ledger, &base);
            continue;
        }
        if (r == SEND_FAILED)
            break;
        count_sent(u, batch[i].id);
        ring_push(u, batch[i].id, now);
        ids[sent++] = batch[i].id;
        u->cursor = batch[i].id + 1;
        u->tokens -= 1;
    }
    gw_ledger_entries_clear(batch, n);
    gw_ledger_mark_sent(u->o.ledger, ids, sent, depot_now_ms());
}

/* The ledger's hook: from any thread, under the ledger's lock; only signals. */
static void wake(void *ctx)
{
    gw_uplink *u = ctx;
    uint64_t one = 1;
    if (write(u->wake_fd, &one, sizeof(one)) < 0)
        return; /* EAGAIN: the counter is already non-zero, the loop wakes anyway */
}

/* mosquitto_loop with the wake eventfd polled beside the broker's socket. */
static int loop_up(gw_uplink *u, int timeout_ms)
{
    struct pollfd fds[2] = {{mosquitto_socket(u->mosq), POLLIN, 0}, {u->wake_fd, POLLIN, 0}};
    uint64_t n;
    int rc;
    if (fds[0].fd < 0)
        return MOSQ_ERR_NO_CONN;
    if (mosquitto_want_write(u->mosq))
        fds[0].events |= POLLOUT;
    if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR)
        return MOSQ_ERR_ERRNO;
    if (fds[1].revents & POLLIN) {
        u->dry = false; /* something was queued: read the outbox again */
        if (read(u->wake_fd, &n, sizeof(n)) < 0)
            LOG_DEBUG("mqtt: wake-up read: %s", strerror(errno));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        rc = mosquitto_loop_read(u->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            return rc;
    }
    if (mosquitto_want_write(u->mosq)) {
        rc = mosquitto_loop_write(u->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS)
            return rc;
    }
    return mosquitto_loop_misc(u->mosq);
}

/* The hung-link watchdog (see the top of the file): true once the link is hung. */
static bool link_hung(gw_uplink *u, long long now)
{
    long long keepalive_ms = (long long)u->cfg->keepalive_s * 1000;
    enum depot_link_step step = depot_link_watch_step(&u->watch, now, keepalive_ms);
    if (step == DEPOT_LINK_PROBE) {
        int rc = mosquitto_unsubscribe_v5(u->mosq, NULL, u->topic_probe, NULL);
        if (rc != MOSQ_ERR_SUCCESS)
            LOG_DEBUG("mqtt: probe: %s", mosquitto_strerror(rc));
    }
    return step == DEPOT_LINK_HUNG;
}

/* ---- public ---- */

void gw_uplink_step(gw_uplink *u, int timeout_ms)
{
    long long now;
    if (u->state == UL_DOWN) {
        struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    } else {
        int rc =
            u->state == UL_UP ? loop_up(u, timeout_ms) : mosquitto_loop(u->mosq, timeout_ms, 1);
        if (rc != MOSQ_ERR_SUCCESS && u->state != UL_DOWN)
            link_down(u, mqtt_error(rc));
    }
    now = depot_mono_ms();
    if (u->state == UL_UP && link_hung(u, now)) {
        char why[128];
        snprintf(why, sizeof(why),
                 "no reply from the broker for %.1f s (keepalive_s %d): link hung",
                 (double)(now - u->watch.heard_ms) / 1000.0, u->cfg->keepalive_s);
        link_down(u, why); /* first: the disconnect callback then sees no loss of its own */
        mosquitto_disconnect(u->mosq); /* the socket closes at the next attempt at the latest */
    }
    if (u->state == UL_DOWN && now >= u->next_attempt_ms)
        start_attempt(u);
    if (u->state == UL_CONNECTING && now - u->attempt_ms > CONNECT_TIMEOUT_MS) {
        mosquitto_disconnect(u->mosq);
        link_down(u, "no CONNACK in time");
    }
    if (u->state != UL_UP)
        return;
    if (u->just_connected)
        connected_tasks(u);
    if (now >= u->next_snapshot_ms)
        publish_snapshot(u);
    if (now >= u->next_heartbeat_ms) {
        publish_heartbeat(u);
        publish_fill(u);
    }
    check_fill(u, now);
    refill(u, now);
    check_resend(u, now);
    drain(u, now);
}

int gw_uplink_wait_ms(const gw_uplink *u, long long now, int max_ms)
{
    long long due;
    if (u->state != UL_UP || u->ring_n || !u->dry || u->just_connected)
        return GW_UPLINK_BUSY_MS < max_ms ? GW_UPLINK_BUSY_MS : max_ms;
    due = u->next_snapshot_ms < u->next_heartbeat_ms ? u->next_snapshot_ms : u->next_heartbeat_ms;
    /* the hung-link watchdog's next probe or verdict */
    if (depot_link_watch_due(&u->watch, (long long)u->cfg->keepalive_s * 1000) < due)
        due = depot_link_watch_due(&u->watch, (long long)u->cfg->keepalive_s * 1000);
    /* libmosquitto's keep-alive (mosquitto_loop_misc) sends its PINGREQ only when called: a
     * quarter of keepalive_s late at most, well inside the broker's 1.5 x keepalive_s. */
    if (now + (long long)u->cfg->keepalive_s * 250 < due)
        due = now + (long long)u->cfg->keepalive_s * 250;
    due -= now;
    return due < 1 ? 1 : due > max_ms ? max_ms : (int)due;
}

bool gw_uplink_connected(const gw_uplink *u)
{
    return u->state == UL_UP;
}

void gw_uplink_stats(gw_uplink *u, struct gw_uplink_stats *out)
{
    pthread_mutex_lock(&u->stats_mu);
    *out = u->stats;
    pthread_mutex_unlock(&u->stats_mu);
    out->connected = u->state == UL_UP;
}

void gw_uplink_shutdown(gw_uplink *u)
{
    depot_msg st;
    if (u->state != UL_UP)
        return;
    state_build(u, &st, false);
    publish_msg(u, u->topic_state, &st, true);
    for (int i = 0; i < 10 && mosquitto_want_write(u->mosq); i++)
        mosquitto_loop(u->mosq, 50, 1);
    u->state = UL_DOWN; /* before the callback: this disconnect is no loss */
    mosquitto_disconnect(u->mosq);
    mosquitto_loop(u->mosq, 50, 1);
    LOG_INFO("mqtt: disconnected (offline state published)");
}

static depot_err configure_client(gw_uplink *u)
{
    int rc = mosquitto_int_option(u->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    if (rc == MOSQ_ERR_SUCCESS) /* an order right after a PUBACK must not wait for Nagle */
        rc = mosquitto_int_option(u->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    if (rc == MOSQ_ERR_SUCCESS && u->cfg->ca) {
        rc = mosquitto_tls_set(u->mosq, u->cfg->ca, NULL, u->cfg->cert, u->cfg->key, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            LOG_ERROR("mqtt: cannot use ca=%s cert=%s key=%s: %s", u->cfg->ca, u->cfg->cert,
                      u->cfg->key, mosquitto_strerror(rc));
            return DEPOT_ERR_CONFIG;
        }
    } else if (rc == MOSQ_ERR_SUCCESS) {
        LOG_WARN("mqtt: no ca/cert/key configured: connecting WITHOUT TLS (development only)");
    }
    if (rc != MOSQ_ERR_SUCCESS)
        return DEPOT_ERR_MQTT;
    mosquitto_connect_v5_callback_set(u->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(u->mosq, on_disconnect);
    mosquitto_message_v5_callback_set(u->mosq, on_message);
    mosquitto_publish_v5_callback_set(u->mosq, on_publish);
    mosquitto_subscribe_v5_callback_set(u->mosq, on_subscribe);
    mosquitto_unsubscribe_v5_callback_set(u->mosq, on_unsubscribe);
    return DEPOT_OK;
}

static depot_err build_topics(gw_uplink *u)
{
    const char *d = u->cfg->dealer;
    if (depot_topic_build(u->topic_state, sizeof(u->topic_state), d, "state") != DEPOT_OK ||
        depot_topic_build(u->topic_down, sizeof(u->topic_down), d, "down") != DEPOT_OK ||
        depot_topic_build(u->topic_snapshot, sizeof(u->topic_snapshot), d, "up/snapshot") !=
            DEPOT_OK ||
        depot_topic_build(u->topic_probe, sizeof(u->topic_probe), d, "down/probe") != DEPOT_OK ||
        depot_topic_build(u->topic_outbox, sizeof(u->topic_outbox), d, "up/outbox") != DEPOT_OK)
        return DEPOT_ERR_CONFIG;
    return DEPOT_OK;
}

depot_err gw_uplink_new(const struct gw_uplink_opts *o, gw_uplink **out)
{
    char client_id[DEPOT_DEALER_MAX + 4];
    depot_err e;
    gw_uplink *u = depot_calloc(1, sizeof(*u));
    if (!u)
        return DEPOT_ERR_NOMEM;
    u->o = *o;
    u->cfg = o->cfg;
    pthread_mutex_init(&u->stats_mu, NULL);
    u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (u->wake_fd < 0) {
        LOG_ERROR("mqtt: eventfd: %s", strerror(errno));
        gw_uplink_free(u);
        return DEPOT_ERR_IO;
    }
    u->ring_cap = (size_t)o->cfg->window;
    u->resend_factor = 1;
    u->last_stream_puback = true; /* nothing published yet */
    u->ring = depot_calloc(u->ring_cap, sizeof(*u->ring));
    e = u->ring ? build_topics(u) : DEPOT_ERR_NOMEM;
    /* The dealer id: the id Depot's broker gives a gateway anyway (its certificate's CN). */
    snprintf(client_id, sizeof(client_id), "%s", o->cfg->dealer);
    if (e == DEPOT_OK) {
        u->mosq = mosquitto_new(client_id, false, u); /* clean start off: a persistent session */
        e = u->mosq ? configure_client(u) : DEPOT_ERR_NOMEM;
    }
    if (e != DEPOT_OK) {
        gw_uplink_free(u);
        return e;
    }
    u->state = UL_DOWN;
    u->next_attempt_ms = 0;
    u->fill_step = -1;
    gw_ledger_set_queued_hook(o->ledger, wake, u);
    *out = u;
    return DEPOT_OK;
}

depot_err gw_uplink_new_identity(gw_uplink *u)
{
    struct mosquitto *old = u->mosq;
    depot_err e;

    u->mosq = mosquitto_new(u->cfg->dealer, false, u);
    e = u->mosq ? configure_client(u) : DEPOT_ERR_NOMEM;
    if (e != DEPOT_OK) {
        if (u->mosq)
            mosquitto_destroy(u->mosq);
        u->mosq = old;
        LOG_ERROR("mqtt: cannot take the new certificate (%s); keeping the connection",
                  depot_strerror(e));
        return e;
    }
    if (u->state != UL_DOWN) { /* a clean DISCONNECT: no last will, the session stays */
        u->state = UL_DOWN;
        mosquitto_disconnect(old);
        mosquitto_loop(old, 50, 1);
    }
    mosquitto_destroy(old);
    ring_clear(u);
    u->ever_attempted = false; /* the new client sends its CONNECT properties again */
    u->attempt_fails = 0;
    u->next_attempt_ms = 0; /* at once */
    LOG_INFO("mqtt: new certificate %s: connecting again with it", u->cfg->cert);
    return DEPOT_OK;
}

void gw_uplink_free(gw_uplink *u)
{
    if (!u)
        return;
    if (u->wake_fd >= 0) {
        gw_ledger_set_queued_hook(u->o.ledger, NULL, NULL);
        close(u->wake_fd);
    }
    if (u->mosq)
        mosquitto_destroy(u->mosq);
    depot_free(u->ring);
    pthread_mutex_destroy(&u->stats_mu);
    depot_free(u);
}
