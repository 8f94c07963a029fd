/*
 * The MQTT link to the hub: drains the ledger's outbox in order at a paced
 * rate, deletes entries only on the hub's end-to-end ack, publishes the
 * retained state and snapshot. Single-threaded: every function runs on the
 * thread that calls gw_uplink_step (libmosquitto's callbacks too).
 */
#ifndef GW_UPLINK_H
#define GW_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "depot/error.h"
#include "depot/msg.h"
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

/* How long the next gw_uplink_step may wait, at most max_ms: GW_UPLINK_BUSY_MS while anything is
 * in flight, queued or being connected; when idle, until the next snapshot or heartbeat, or a
 * quarter of keepalive_s for libmosquitto's keep-alive. A message queued meanwhile wakes the
 * step at once (the ledger's hook); the outbox is not read again without one. */
#define GW_UPLINK_BUSY_MS 50
int gw_uplink_wait_ms(const gw_uplink *u, long long now, int max_ms);

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
/* A new MQTT client for the certificate and key files as they are now (a renewal): the old
 * connection closed cleanly, the new one started at once with the same client id, so the broker
 * keeps the session; what was in flight is sent again. On failure the old client stays. */
depot_err gw_uplink_new_identity(gw_uplink *u);

/*
 * What the client sends and does with what it receives, callable without a broker (the
 * loop above uses these; the tests call them directly).
 */

/*
 * Outbox entry e as the stream message it goes out as, for dealer and ledger_id: its payload
 * decoded into *m (depot_msg_clear it) with base re-stamped (base, or e's own id if that is
 * lower), and its topic depot/v1/<dealer>/up/<type> into topic. False with why (and nothing in
 * *m) if e can never be sent: its row names no stream type, its payload does not decode, or
 * the payload is not the message of this dealer and ledger that its row says (type, id).
 */
bool gw_uplink_stream_msg(const char *dealer, const char *ledger_id,
                          const struct gw_outbox_entry *e, uint64_t base, depot_msg *m, char *topic,
                          size_t topic_len, char *why, size_t why_len);

/*
 * The retained snapshot as published: every stock row (fault from node_faulted), as_of the
 * last id assigned, in this gateway's envelope stamped now. depot_msg_clear it. DEPOT_ERR_DB.
 */
depot_err gw_uplink_snapshot_msg(gw_uplink *u, depot_msg *m);

/* The up/outbox report of queued entries: the bound and the level from which orders are
 * refused come from the config ([outbox] max_entries, warn_percent). Owns nothing. */
void gw_uplink_outbox_msg(gw_uplink *u, long long queued, depot_msg *m);

/*
 * Handle len bytes received on topic (libmosquitto's message callback): a downlink of this
 * dealer (down/ack, down/decision, down/catalog, down/alert, down/ranking) of the type its
 * topic names is applied; anything else, and an empty (cleared retained) payload, is logged
 * and dropped.
 */
void gw_uplink_receive(gw_uplink *u, const char *topic, const void *payload, size_t len);

#endif
