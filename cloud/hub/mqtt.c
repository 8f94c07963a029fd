/*
 * Broker connection of the hub.
 *
 * States: DISCONNECTED -> (connect ok) CONNECTED -> (loop error) DISCONNECTED
 * ... until hub_mqtt_free. One network thread runs mosquitto_loop and all
 * (re)connects; the ingest worker publishes acks from its own thread, which
 * libmosquitto allows once mosquitto_threaded_set is on.
 *
 * Sessions start clean: while the hub is away, QoS 1 uplink is not queued
 * for it by the broker, and nothing is lost because a gateway keeps every
 * unacknowledged message and resends it. On every connect the hub
 * subscribes again: uplink through the shared group "hub" (instances split
 * the load), state without sharing (every instance tracks every gateway).
 *
 * A hung link (no reply and no close) is found within 1.25 x keepalive_s,
 * as the gateway finds it (gateway/uplink.c): libmosquitto's own keep-alive
 * gives up only up to 2 x keepalive_s after the broker's last packet. Every
 * packet from the broker that libmosquitto reports counts as heard; after a
 * quarter keepalive_s of silence the network thread asks for a reply with an
 * UNSUBSCRIBE of a filter it never subscribed (HUB_PROBE_TOPIC: UNSUBACK,
 * nothing else changes), and with no reply one keepalive_s later it drops the
 * link and connects again after the usual second.
 */
#define _GNU_SOURCE 1 /* pthread_setname_np */
#include "mqtt.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/link_watch.h"
#include "depot/log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define LOOP_TIMEOUT_MS 100
#define HUB_PROBE_TOPIC "depot/v1/hub/probe" /* never subscribed: the hung-link probe */

struct hub_mqtt {
    const struct hub_config *cfg;
    hub_metrics *metrics;
    hub_ingest *ing;
    struct mosquitto *mosq;
    pthread_t thread;
    bool started;
    atomic_bool running;
    atomic_bool connected;
    atomic_bool acked;  /* a CONNACK accepted since the last connect attempt */
    atomic_int subacks; /* SUBACKs received since the last connect */
    /* The hung-link watchdog, network thread only (callbacks run there). */
    struct depot_link_watch watch;
};

static void heard(hub_mqtt *mq)
{
    depot_link_watch_heard(&mq->watch, depot_mono_ms());
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    hub_mqtt *mq = obj;
    (void)flags;
    (void)props;
    if (rc != 0) {
        LOG_WARN("mqtt: broker refused the connection: %s", mosquitto_reason_string(rc));
        return;
    }
    heard(mq);
    atomic_store(&mq->subacks, 0);
    atomic_store(&mq->connected, true);
    atomic_store(&mq->acked, true);
    hub_metrics_add(mq->metrics, HUB_C_MQTT_CONNECTS, 1);
    LOG_INFO("mqtt: connected to %s:%ld as %s", mq->cfg->mqtt_host, mq->cfg->mqtt_port,
             mq->cfg->mqtt_client_id);
    if (mosquitto_subscribe_v5(mosq, NULL, HUB_SUB_UPLINK, 1, 0, NULL) != MOSQ_ERR_SUCCESS ||
        mosquitto_subscribe_v5(mosq, NULL, HUB_SUB_STATE, 1, 0, NULL) != MOSQ_ERR_SUCCESS)
        LOG_ERROR("mqtt: subscribe failed; reconnecting");
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                          const mosquitto_property *props)
{
    hub_mqtt *mq = obj;
    (void)mosq;
    (void)props;
    if (atomic_exchange(&mq->connected, false))
        LOG_WARN("mqtt: disconnected (%s)", rc ? mosquitto_strerror(rc) : "asked");
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    hub_mqtt *mq = obj;
    (void)mosq;
    (void)props;
    heard(mq);
    hub_ingest_submit(mq->ing, msg->topic, msg->payload, msg->payloadlen > 0 ? msg->payloadlen : 0,
                      msg->retain, depot_now_ms());
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *props)
{
    hub_mqtt *mq = obj;
    (void)mosq;
    heard(mq);
    atomic_fetch_add(&mq->subacks, 1);
    (void)mid;
    (void)props;
    for (int i = 0; i < n; i++)
        if (granted[i] > 2)
            LOG_ERROR("mqtt: the broker refused a subscription (reason %d): check the ACL",
                      granted[i]);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc,
                       const mosquitto_property *props)
{
    (void)mosq;
    (void)mid;
    (void)rc;
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

/* The watchdog (see the top of the file); true once the link is hung. */
static bool link_hung(hub_mqtt *mq)
{
    long long now = depot_mono_ms(), keepalive_ms = mq->cfg->mqtt_keepalive_s * 1000;
    if (!atomic_load(&mq->connected))
        return false;
    enum depot_link_step step = depot_link_watch_step(&mq->watch, now, keepalive_ms);
    if (step == DEPOT_LINK_PROBE &&
        mosquitto_unsubscribe_v5(mq->mosq, NULL, HUB_PROBE_TOPIC, NULL) != MOSQ_ERR_SUCCESS)
        LOG_DEBUG("mqtt: the hung-link probe was not sent");
    return step == DEPOT_LINK_HUNG;
}

/* What went wrong, in words (libmosquitto 2.0.11 has none for its keep-alive). */
static const char *mqtt_error(int rc)
{
    return rc == MOSQ_ERR_KEEPALIVE ? "no PINGRESP within the keep-alive" : mosquitto_strerror(rc);
}

/* Sleeps ms in small steps so that stopping is never delayed by a back-off. */
static void pause_ms(hub_mqtt *mq, int ms)
{
    for (int waited = 0; waited < ms && atomic_load(&mq->running); waited += 100)
        usleep(100 * 1000);
}

static int connect_once(hub_mqtt *mq, bool first)
{
    const struct hub_config *c = mq->cfg;
    if (first)
        return mosquitto_connect_bind_v5(mq->mosq, c->mqtt_host, (int)c->mqtt_port,
                                         (int)c->mqtt_keepalive_s, NULL, NULL);
    return mosquitto_reconnect(mq->mosq);
}

/* Waits before the next attempt: 1 s after a connection that the broker had accepted, else
 * the back-off, which doubles up to 30 s. Every way an attempt can fail (TCP connect, the TLS
 * handshake or a CONNACK refusal inside the loop, a drop right after) passes here, so a
 * refused hub never reconnects in a tight loop and logs one line per attempt. */
static void back_off(hub_mqtt *mq, int *backoff, const char *what, const char *why)
{
    bool accepted = atomic_exchange(&mq->acked, false);
    int wait = accepted ? BACKOFF_MIN_MS : *backoff;
    LOG_WARN("mqtt: %s %s:%ld: %s; retry in %d ms", what, mq->cfg->mqtt_host, mq->cfg->mqtt_port,
             why, wait);
    hub_metrics_add(mq->metrics, HUB_C_MQTT_CONNECT_FAILURES, accepted ? 0 : 1);
    *backoff = accepted ? BACKOFF_MIN_MS * 2
                        : (*backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2);
    pause_ms(mq, wait);
}

static void *network(void *arg)
{
    hub_mqtt *mq = arg;
    int backoff = BACKOFF_MIN_MS, rc;
    bool ever = false, up = false;

    pthread_setname_np(pthread_self(), "hub-mqtt");

    while (atomic_load(&mq->running)) {
        if (!up) {
            atomic_store(&mq->acked, false);
            rc = connect_once(mq, !ever);
            if (rc != MOSQ_ERR_SUCCESS) {
                back_off(mq, &backoff, "connect to", mqtt_error(rc));
                continue;
            }
            ever = up = true;
        }
        rc = mosquitto_loop(mq->mosq, LOOP_TIMEOUT_MS, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            up = false;
            atomic_store(&mq->connected, false);
            back_off(mq, &backoff, "connection to", mqtt_error(rc));
        } else if (link_hung(mq)) {
            char why[128];
            snprintf(why, sizeof(why),
                     "no reply from the broker for %.1f s (keepalive_s %ld): link hung",
                     (double)(depot_mono_ms() - mq->watch.heard_ms) / 1000.0,
                     mq->cfg->mqtt_keepalive_s);
            up = false;
            atomic_store(&mq->connected, false); /* before: no "disconnected" line of its own */
            mosquitto_disconnect(mq->mosq);      /* mosquitto_reconnect closes the socket */
            back_off(mq, &backoff, "connection to", why);
        }
    }
    if (up) {
        mosquitto_disconnect_v5(mq->mosq, 0, NULL);
        mosquitto_loop(mq->mosq, LOOP_TIMEOUT_MS, 1);
    }
    return NULL;
}

static depot_err configure(hub_mqtt *mq)
{
    const struct hub_config *c = mq->cfg;
    int rc = mosquitto_int_option(mq->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_threaded_set(mq->mosq, true);
    if (rc == MOSQ_ERR_SUCCESS) /* a decision right after a PUBACK must not wait for Nagle */
        rc = mosquitto_int_option(mq->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    if (rc == MOSQ_ERR_SUCCESS && c->mqtt_ca[0])
        rc = mosquitto_tls_set(mq->mosq, c->mqtt_ca, NULL, c->mqtt_cert, c->mqtt_key, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        LOG_ERROR("mqtt: setup: %s", mosquitto_strerror(rc));
        return DEPOT_ERR_MQTT;
    }
    mosquitto_connect_v5_callback_set(mq->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(mq->mosq, on_disconnect);
    mosquitto_message_v5_callback_set(mq->mosq, on_message);
    mosquitto_subscribe_v5_callback_set(mq->mosq, on_subscribe);
    mosquitto_publish_v5_callback_set(mq->mosq, on_publish);
    mosquitto_unsubscribe_v5_callback_set(mq->mosq, on_unsubscribe);
    return DEPOT_OK;
}

depot_err hub_mqtt_new(const struct hub_config *cfg, hub_metrics *metrics, hub_mqtt **out)
{
    hub_mqtt *mq = depot_calloc(1, sizeof(*mq));
    depot_err err;
    if (!mq)
        return DEPOT_ERR_NOMEM;
    mq->cfg = cfg;
    mq->metrics = metrics;
    atomic_init(&mq->running, false);
    atomic_init(&mq->connected, false);
    atomic_init(&mq->subacks, 0);
    mosquitto_lib_init();
    mq->mosq = mosquitto_new(cfg->mqtt_client_id, true, mq);
    if (!mq->mosq) {
        hub_mqtt_free(mq);
        return DEPOT_ERR_NOMEM;
    }
    err = configure(mq);
    if (err != DEPOT_OK) {
        hub_mqtt_free(mq);
        return err;
    }
    *out = mq;
    return DEPOT_OK;
}

depot_err hub_mqtt_start(hub_mqtt *mq, hub_ingest *ing)
{
    mq->ing = ing;
    atomic_store(&mq->running, true);
    if (pthread_create(&mq->thread, NULL, network, mq) != 0) {
        atomic_store(&mq->running, false);
        return DEPOT_ERR_IO;
    }
    mq->started = true;
    return DEPOT_OK;
}

void hub_mqtt_stop(hub_mqtt *mq)
{
    atomic_store(&mq->running, false);
    if (mq->started)
        pthread_join(mq->thread, NULL);
    mq->started = false;
    atomic_store(&mq->connected, false);
}

void hub_mqtt_free(hub_mqtt *mq)
{
    if (!mq)
        return;
    hub_mqtt_stop(mq);
    mosquitto_destroy(mq->mosq);
    mosquitto_lib_cleanup();
    depot_free(mq);
}

depot_err hub_mqtt_publish(void *ctx, const char *topic, const char *payload, size_t len,
                           bool retain)
{
    hub_mqtt *mq = ctx;
    int rc;
    if (!atomic_load(&mq->connected))
        return DEPOT_ERR_MQTT;
    rc = mosquitto_publish_v5(mq->mosq, NULL, topic, (int)len, payload, 1, retain, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        LOG_WARN("mqtt: publish %s: %s", topic, mosquitto_strerror(rc));
        return DEPOT_ERR_MQTT;
    }
    return DEPOT_OK;
}

bool hub_mqtt_connected(const hub_mqtt *mq)
{
    return atomic_load(&mq->connected);
}

bool hub_mqtt_subscribed(const hub_mqtt *mq)
{
    return atomic_load(&mq->connected) && atomic_load(&mq->subacks) >= 2;
}
