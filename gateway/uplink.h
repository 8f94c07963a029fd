/*
 * The MQTT link to the hub: drains the ledger's outbox in order at a paced
 * rate, deletes entries only on the hub's end-to-end ack, publishes the
 * retained state and snapshot. Single-threaded: every function runs on the
 * thread that calls gw_uplink_step (libmosquitto's callbacks too).
 */
#ifndef GW_UPLINK_H
#define GW_UPLINK_H

#include <stdbool.h>

#include "config.h"
#include "depot/error.h"
#include "display.h"
#include "ledger.h"

typedef struct gw_uplink gw_uplink;

/* How long the broker keeps the gateway's session (subscription, queued QoS 1 downlinks). */
#define GW_SESSION_EXPIRY_S (7 * 24 * 3600)

struct gw_uplink_opts {
    const gw_config *cfg;
    gw_ledger *ledger;
    /* Is the node in the fault state? (for snapshots; may be NULL) */
    bool (*node_faulted)(void *ctx, const char *node);
    void *node_faulted_ctx;
    /* Show a decision on a scanner terminal's display (through its poller; may be NULL). */
    depot_err (*display)(void *ctx, const char *node, const struct gw_display *d);
    void *display_ctx;
};

/*
 * Make the client (client id gw-<dealer>, MQTT v5 with a persistent session of
 * GW_SESSION_EXPIRY_S, mutual TLS when ca/cert/key are configured). Nothing is connected yet:
 * gw_uplink_step connects and reconnects with back-off. mosquitto_lib_init must have been called.
 * DEPOT_ERR_CONFIG (certificate files unusable), DEPOT_ERR_NOMEM, DEPOT_ERR_MQTT.
 */
depot_err gw_uplink_new(const struct gw_uplink_opts *o, gw_uplink **out);

/* Run the network for up to timeout_ms, then connect/drain/resend/snapshot as due. */
void gw_uplink_step(gw_uplink *u, int timeout_ms);

/* True while connected to the broker. */
bool gw_uplink_connected(const gw_uplink *u);

struct gw_uplink_stats {
    bool connected;
    long long sent;   /* stream messages published (resends included) */
    long long resent; /* of those, ids published before by this process */
    long long acked;  /* outbox entries deleted by the hub's acks */
};

/* The counters since start. Safe from any thread (connected is a snapshot). */
void gw_uplink_stats(gw_uplink *u, struct gw_uplink_stats *out);

/* Publish the retained offline state (if connected) and disconnect cleanly. */
void gw_uplink_shutdown(gw_uplink *u);

void gw_uplink_free(gw_uplink *u);

#endif
