/*
 * The MQTT message contract between a gateway and the hub, and its codec.
 *
 * Topics (dealer ids are 1..32 of [A-Za-z0-9_-]):
 *
 *   depot/v1/<dealer>/up/stock      gateway -> hub  QoS 1  a stock change     (exactly-once stream)
 *   depot/v1/<dealer>/up/event      gateway -> hub  QoS 1  node/gateway event  (exactly-once stream)
 *   depot/v1/<dealer>/up/snapshot   gateway -> hub  QoS 1, retained: all stock, periodic
 *   depot/v1/<dealer>/state         gateway -> hub  QoS 1, retained: online/offline, also the last will
 *   depot/v1/<dealer>/down/ack      hub -> gateway  QoS 1  what the hub has applied
 *
 * Every payload is one JSON object, the envelope, with exactly these keys:
 *
 *   {"v":1, "type":"stock", "dealer":"D001", "ledger":"<32 hex>",
 *    "id":42, "base":40, "ts":1764230000123, "body":{...}}
 *
 *   v       schema version, DEPOT_MSG_VERSION; anything else is rejected
 *   type    "stock" | "event" | "snapshot" | "state" | "ack"
 *   dealer  must equal the dealer of the topic
 *   ledger  the gateway ledger's random id (a replaced gateway is a new stream)
 *   id      uplink stream messages: message id, > 0, grows within a ledger;
 *           snapshot, state and ack: 0
 *   base    stream messages: the lowest id still in the gateway's outbox when
 *           sent (everything below it was acknowledged or dropped), so the hub
 *           can move its "applied up to" mark over ids it will never see
 *   ts      milliseconds since the Unix epoch at the sender
 *
 * Bodies (every key required, no others allowed):
 *   stock    {"sku":"S1","qty":12,"delta":-1,"node":"scale-a"}
 *   event    {"node":"scale-a","event":"fault"|"recovered"|"started","reason":"timeout","count":3}
 *   snapshot {"as_of":41,"items":[{"sku":"S1","qty":12,"node":"scale-a","fault":false}, ...]}
 *            as_of: the highest stream id assigned when the snapshot was taken
 *   state    {"online":true,"session":1764230000000}  session: the connect time, orders states
 *   ack      {"upto":42}  the hub applied every id <= upto of that ledger
 *
 * The decoder rejects, with a reason, whatever does not fit: not JSON,
 * another version, a missing, unknown or mistyped key, a value out of range.
 */
#ifndef DEPOT_MSG_H
#define DEPOT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "depot/error.h"

#define DEPOT_MSG_VERSION 1
#define DEPOT_TOPIC_ROOT "depot/v1"

#define DEPOT_DEALER_MAX 32 /* characters, without the terminating NUL */
#define DEPOT_SKU_MAX 32
#define DEPOT_NODE_MAX 32
#define DEPOT_LEDGER_HEX 32
#define DEPOT_EVENT_MAX 16
#define DEPOT_REASON_MAX 64
#define DEPOT_SNAPSHOT_MAX_ITEMS 10000
#define DEPOT_QTY_MAX 1000000000LL /* |qty| and |delta| bound */

typedef enum depot_msg_type {
    DEPOT_MSG_STOCK,
    DEPOT_MSG_EVENT,
    DEPOT_MSG_SNAPSHOT,
    DEPOT_MSG_STATE,
    DEPOT_MSG_ACK,
    DEPOT_MSG__COUNT
} depot_msg_type;

struct depot_stock_body {
    char sku[DEPOT_SKU_MAX + 1];
    long long qty;
    long long delta;
    char node[DEPOT_NODE_MAX + 1];
};

struct depot_event_body {
    char node[DEPOT_NODE_MAX + 1];
    char event[DEPOT_EVENT_MAX + 1];
    char reason[DEPOT_REASON_MAX + 1];
    long long count;
};

struct depot_snapshot_item {
    char sku[DEPOT_SKU_MAX + 1];
    long long qty;
    char node[DEPOT_NODE_MAX + 1];
    bool fault;
};

struct depot_snapshot_body {
    uint64_t as_of;
    size_t n_items;
    struct depot_snapshot_item *items; /* owned; depot_msg_clear frees it */
};

struct depot_state_body {
    bool online;
    long long session;
};

struct depot_ack_body {
    uint64_t upto;
};

typedef struct depot_msg {
    int v;
    depot_msg_type type;
    char dealer[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
    uint64_t id;
    uint64_t base;
    long long ts;
    union {
        struct depot_stock_body stock;
        struct depot_event_body event;
        struct depot_snapshot_body snapshot;
        struct depot_state_body state;
        struct depot_ack_body ack;
    } body;
} depot_msg;

/* "stock", "event", ...; NULL for an invalid type. */
const char *depot_msg_type_name(depot_msg_type type);
/* The topic leaf of a type: "up/stock", "up/event", "up/snapshot", "state", "down/ack". */
const char *depot_msg_topic_leaf(depot_msg_type type);
/* True for the types that travel in the exactly-once stream (stock, event). */
bool depot_msg_is_stream(depot_msg_type type);

/*
 * Encode m as JSON. On DEPOT_OK *out is a NUL-terminated string allocated with
 * depot_malloc (free with depot_free) and *len its length without the NUL.
 * Returns DEPOT_ERR_INVAL if m itself does not fit the schema (the encoder
 * never produces what the decoder would reject), DEPOT_ERR_NOMEM.
 */
depot_err depot_msg_encode(const depot_msg *m, char **out, size_t *len);

/*
 * Decode len bytes (need not be NUL-terminated). On DEPOT_OK *m is filled
 * (call depot_msg_clear when done). Otherwise *m holds nothing to free and
 * reason (if not NULL) gets a short text such as "body.qty: not an integer".
 * Returns DEPOT_ERR_PARSE (not JSON), DEPOT_ERR_VERSION, DEPOT_ERR_SCHEMA,
 * DEPOT_ERR_NOMEM.
 */
depot_err depot_msg_decode(const char *buf, size_t len, depot_msg *m, char *reason,
                           size_t reason_len);

/* Frees what a decoded or built message owns (snapshot items); m stays valid, empty. */
void depot_msg_clear(depot_msg *m);

/* True if s is a valid dealer id (also used for node names and SKUs: 1..max of [A-Za-z0-9_.-]). */
bool depot_id_valid(const char *s, size_t max);

/*
 * Build "depot/v1/<dealer>/<leaf>" into buf. Returns DEPOT_ERR_INVAL if the
 * dealer is invalid or buf too small.
 */
depot_err depot_topic_build(char *buf, size_t buf_len, const char *dealer, const char *leaf);

/*
 * Split a topic "depot/v1/<dealer>/<leaf...>": copies the dealer into dealer
 * (DEPOT_DEALER_MAX + 1 bytes) and points *leaf into topic. DEPOT_ERR_INVAL
 * if it is not a Depot topic or the dealer id is invalid.
 */
depot_err depot_topic_parse(const char *topic, char *dealer, const char **leaf);

#endif
