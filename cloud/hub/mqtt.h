/*
 * The hub's broker connection: MQTT v5 over mutual TLS (libmosquitto), the
 * shared uplink subscription and the per-dealer state subscription. Received
 * messages go to hub_ingest_submit; acks come back through hub_mqtt_publish.
 */
#ifndef HUB_MQTT_H
#define HUB_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "ingest.h"
#include "metrics.h"

#define HUB_SUB_UPLINK "$share/hub/depot/v1/+/up/#"
#define HUB_SUB_STATE "depot/v1/+/state"

typedef struct hub_mqtt hub_mqtt;

/*
 * Creates the client (not connected yet). cfg must outlive it.
 * DEPOT_ERR_NOMEM, DEPOT_ERR_MQTT (libmosquitto refused an option or the TLS files).
 */
depot_err hub_mqtt_new(const struct hub_config *cfg, hub_metrics *metrics, hub_mqtt **out);

/*
 * Starts the network thread: connect, subscribe, deliver to ing; when the
 * broker goes away, reconnect with back-off (1 s doubling to 30 s) forever.
 * DEPOT_ERR_IO if the thread cannot start.
 */
depot_err hub_mqtt_start(hub_mqtt *mq, hub_ingest *ing);

/*
 * Stops the thread, disconnecting cleanly; later publishes fail with
 * DEPOT_ERR_MQTT. Stop before freeing the ingest, free after it.
 */
void hub_mqtt_stop(hub_mqtt *mq);

/* Stops (if running) and frees. NULL is a no-op. */
void hub_mqtt_free(hub_mqtt *mq);

/* hub_publish_fn for hub_ingest: ctx is the hub_mqtt. QoS 1. */
depot_err hub_mqtt_publish(void *ctx, const char *topic, const char *payload, size_t len,
                           bool retain);

bool hub_mqtt_connected(const hub_mqtt *mq);
/* Connected and both subscriptions acknowledged by the broker. */
bool hub_mqtt_subscribed(const hub_mqtt *mq);

#endif
