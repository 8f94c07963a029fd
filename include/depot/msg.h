/*
 * The MQTT message contract between a gateway and the hub, and its codec.
 *
 * Topics (dealer ids: depot/id.h, 1..32 of [A-Za-z0-9_.-]):
 *
 *   depot/v1/<dealer>/up/stock      gateway -> hub  QoS 1  a stock change     (exactly-once stream)
 *   depot/v1/<dealer>/up/event      gateway -> hub  QoS 1  node/gateway event  (exactly-once stream)
 *   depot/v1/<dealer>/up/snapshot   gateway -> hub  QoS 1, retained: all stock, periodic
 *   depot/v1/<dealer>/state         gateway -> hub  QoS 1, retained: online/offline, also the last will
 *   depot/v1/<dealer>/up/order      gateway -> hub  QoS 1  a signed order      (exactly-once stream)
 *   depot/v1/<dealer>/up/movements  gateway -> hub  QoS 1  ledger movements, batched (exactly-once stream)
 *   depot/v1/<dealer>/up/outbox     gateway -> hub  QoS 1  how full its outbox is: at each connect
 *                                                          (before the backlog), with every
 *                                                          heartbeat, and at each 10 % step
 *   depot/v1/<dealer>/down/ack      hub -> gateway  QoS 1  what the hub has applied
 *   depot/v1/<dealer>/down/decision hub -> gateway  QoS 1  an order's decision, repeated until
 *                                                          the gateway confirms it (event "decided")
 *   depot/v1/<dealer>/down/catalog  hub -> gateway  QoS 1, retained: barcodes and order limits
 *   depot/v1/<dealer>/down/alert    hub -> gateway  QoS 1  an alert about this dealer (each change)
 *   depot/v1/<dealer>/down/ranking  hub -> gateway  QoS 1, retained: this dealer's own rank and rebate
 *   depot/v1/<dealer>/down/policy   hub -> gateway  QoS 1, retained: the dealer's valid policies
 *   depot/v1/<dealer>/up/signature  gateway -> hub  QoS 1  a contract signed   (exactly-once stream)
 *   depot/v1/<dealer>/down/contract hub -> gateway  QoS 1, retained: contracts to sign (and signed)
 *   depot/alerts/v1/<dealer>/<kind> hub -> others   QoS 1  every alert change, for other consumers
 *
 * Every payload is one JSON object, the envelope, with exactly these keys:
 *
 *   {"v":1, "type":"stock", "dealer":"D001", "ledger":"<32 hex>",
 *    "id":42, "base":40, "ts":1764230000123, "body":{...}}
 *
 *   v       schema version, DEPOT_MSG_VERSION; anything else is rejected
 *   type    "stock" | "event" | "order" | "movements" | "snapshot" | "state" | "ack" |
 *           "decision" | "catalog" | "alert" | "ranking" | "outbox" | "policy" |
 *           "signature" | "contract"
 *   dealer  must equal the dealer of the topic
 *   ledger  the gateway ledger's random id (a replaced gateway is a new stream)
 *   id      uplink stream messages (stock, event, order, movements, signature): message id, > 0,
 *           grows within a ledger; all others: 0
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
 *   outbox   {"queued":120,"max":200,"refuse_at":160}  queued: entries waiting in the
 *            gateway's outbox (not yet acknowledged by the hub); max: its bound ([outbox]
 *            max_entries), >= 1; refuse_at: the level from which orders are refused at the
 *            terminals ([outbox] warn_percent of max), 1..max. A type of its own (not a
 *            field of state) so that every earlier message keeps its shape: a hub that
 *            predates it counts it as rejected and is otherwise unaffected.
 *   order    {"doc":"<order document, JSON text>","sig":"<base64>","cert":"<PEM>"}
 *            sig: ECDSA P-256 over SHA-256 of exactly the bytes of doc, DER, base64;
 *            cert: the gateway's certificate (CN = dealer), checked against the CA.
 *            The document (depot_order_doc_encode/decode):
 *            {"order":"<ledger id>-<number>","dealer":"A","number":17,"terminal":"scan-a",
 *             "created":1764230000123,"lines":[{"barcode":"4006381333931","qty":3}, ...]}
 *   decision {"order":"<id>","number":17,"status":"approved"|"rejected"|"pending",
 *             "stage":"finance","reason":"over credit limit"}   (ledger = the order's ledger)
 *   catalog  {"version":3,"items":[{"sku":"S1","barcode":"4006381333931","min_qty":1,
 *             "max_qty":500,"serial_prefix":"SN-S1-"}, ...]}   (ledger ""; serial_prefix
 *             optional: the start of the item's own serial codes, depot_serial_prefix_valid)
 *
 *   movements {"items":[{"mid":17,"ts":1764230000123,"node":"scale-a","sku":"S1",
 *              "kind":"scale"|"receive"|"pick"|"count","delta":-2,"qty":10}, ...]}
 *            1..DEPOT_MOVEMENTS_MAX_ITEMS ledger movements in mid order (mid: the
 *            ledger's movement id, grows; qty: the stock after the movement); an
 *            item may carry "h" (the chain, depot/ledger_chain.h) and "code" (the
 *            item code scanned with it, normal form of depot/item_code.h)
 *   alert    {"alert":42,"kind":"low_stock","sku":"S1","severity":"warning",
 *             "status":"open"|"acknowledged"|"resolved","text":"...","action":"..."}
 *            (ledger ""; sku "" for alerts about the dealer or a gateway/node)
 *   policy   {"policies":[{"policy":17,"title":"Spring promotion","notice":"SPRING -10%",
 *             "valid_to":"2027-03-31","acked":false}, ...]}   (ledger ""; at most
 *            DEPOT_POLICIES_MAX, the newest valid ones; the gateway reports each new id
 *            with the stream event {"node":"gateway","event":"policy_delivered",
 *            "reason":"<id>","count":0} and an acknowledgement at a terminal with
 *            {"node":"<terminal>","event":"policy_ack","reason":"<id>","count":0})
 *   signature {"doc":"<contract document, JSON text>","sig":"<base64>","cert":"<PEM>"}
 *            as an order's, over the document (depot_contract_doc_encode/decode):
 *            {"contract":7,"dealer":"A","sha256":"<64 hex: the contract file's bytes>",
 *             "signed_at":1764230000123,"terminal":"scan-a"}
 *   contract {"contracts":[{"contract":7,"title":"Dealer agreement 2027","sha256":"<64 hex>",
 *             "signed":false}, ...]}   (ledger ""; at most DEPOT_CONTRACTS_MAX, the
 *            newest; a terminal signs one when its sign code "C<id>" is scanned)
 *   ranking  {"period":"2026-11","rank":3,"of":120,"score":0.82,"rebate_pct":2.0,
 *             "rebate":1234.5,"kpis":[{"name":"sales","value":1234.5,"score":0.7,
 *             "weight":0.4}, ...]}   (ledger ""; at most DEPOT_KPI_MAX kpis)
 *
 *   The gateway confirms a decision it has applied with a stream event
 *   {"node":"<terminal>","event":"decided","reason":"<order id>","count":<number>};
 *   an unknown barcode scanned at a terminal is reported as
 *   {"node":"<terminal>","event":"unknown_barcode","reason":"<barcode>","count":<qty>}.
 *
 * The decoder rejects, with a reason, whatever does not fit: not JSON,
 * anything but whitespace after the JSON document, another version, a
 * missing, unknown or mistyped key, a value out of range. Counts are
 * plausible or refused: every qty (stock, snapshot item, movement) is
 * 0..DEPOT_QTY_MAX, every delta -DEPOT_QTY_MAX..DEPOT_QTY_MAX, the stock
 * before a change (qty - delta) is 0..DEPOT_QTY_MAX too, a pick's delta is
 * < 0 and a receipt's > 0.
 */
#ifndef DEPOT_MSG_H
#define DEPOT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "depot/error.h"
#include "depot/item_code.h"
#include "depot/id.h" /* DEPOT_DEALER_MAX, DEPOT_SKU_MAX, DEPOT_NODE_MAX, depot_id_valid */

#define DEPOT_MSG_VERSION 1
#define DEPOT_TOPIC_ROOT "depot/v1"

#define DEPOT_LEDGER_HEX 32
#define DEPOT_EVENT_MAX 16
#define DEPOT_REASON_MAX 64
#define DEPOT_SNAPSHOT_MAX_ITEMS 10000
#define DEPOT_QTY_MAX 1000000000LL /* |qty| and |delta| bound */
#define DEPOT_BARCODE_LEN 32        /* printable ASCII, no space */
#define DEPOT_SERIAL_PREFIX_MAX 16  /* a catalog item's serial codes' start */
#define DEPOT_ORDER_ID_MAX 48
#define DEPOT_ORDER_DOC_MAX 16384
#define DEPOT_ORDER_LINES_MAX 100
#define DEPOT_CERT_PEM_MAX 4096
#define DEPOT_CHAIN_HASH_HEX 64 /* DEPOT_CHAIN_HEX of depot/ledger_chain.h */
#define DEPOT_SIG_B64_MAX 128
#define DEPOT_STATUS_MAX 16
#define DEPOT_STAGE_MAX 32
#define DEPOT_CATALOG_MAX_ITEMS 10000
#define DEPOT_MOVEMENTS_MAX_ITEMS 500
#define DEPOT_KIND_MAX 16
#define DEPOT_ALERT_KIND_MAX 32
#define DEPOT_TEXT_MAX 160
#define DEPOT_PERIOD_MAX 16
#define DEPOT_KPI_MAX 8
#define DEPOT_POLICIES_MAX 16      /* policies in one down/policy message */
#define DEPOT_POLICY_TITLE_MAX 80
#define DEPOT_POLICY_NOTICE_MAX 32 /* the terminal display's line */
#define DEPOT_DATE_LEN 10          /* YYYY-MM-DD */
#define DEPOT_CONTRACTS_MAX 8      /* contracts in one down/contract message */
#define DEPOT_SHA256_HEX 64        /* a SHA-256 in lowercase hex */

typedef enum depot_msg_type {
    DEPOT_MSG_STOCK,
    DEPOT_MSG_EVENT,
    DEPOT_MSG_SNAPSHOT,
    DEPOT_MSG_STATE,
    DEPOT_MSG_ACK,
    DEPOT_MSG_ORDER,
    DEPOT_MSG_DECISION,
    DEPOT_MSG_CATALOG,
    DEPOT_MSG_MOVEMENTS,
    DEPOT_MSG_ALERT,
    DEPOT_MSG_RANKING,
    DEPOT_MSG_OUTBOX,
    DEPOT_MSG_POLICY,
    DEPOT_MSG_SIGNATURE,
    DEPOT_MSG_CONTRACT,
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

struct depot_outbox_body {
    long long queued;    /* 0..2^53 - 1 */
    long long max;       /* 1..2^53 - 1 */
    long long refuse_at; /* 1..max */
};

/* A signed document: an order's (type order) or a contract signature's (type signature). */
struct depot_order_body {
    char *doc;  /* owned, NUL-terminated: the exact signed bytes */
    char *sig;  /* owned: base64 of the DER signature */
    char *cert; /* owned: PEM */
};

struct depot_decision_body {
    char order[DEPOT_ORDER_ID_MAX + 1];
    long long number;
    char status[DEPOT_STATUS_MAX + 1]; /* "approved", "rejected", "pending" */
    char stage[DEPOT_STAGE_MAX + 1];   /* the stage waited for, or "" */
    char reason[DEPOT_REASON_MAX + 1];
};

struct depot_catalog_item {
    char sku[DEPOT_SKU_MAX + 1];
    char barcode[DEPOT_BARCODE_LEN + 1];
    long long min_qty, max_qty;
    char serial_prefix[DEPOT_SERIAL_PREFIX_MAX + 1]; /* "": the item has no serial codes */
};

struct depot_catalog_body {
    long long version;
    size_t n_items;
    struct depot_catalog_item *items; /* owned */
};

struct depot_movement_item {
    uint64_t mid;
    long long ts;
    char node[DEPOT_NODE_MAX + 1];
    char sku[DEPOT_SKU_MAX + 1];
    char kind[DEPOT_KIND_MAX + 1]; /* "scale", "receive", "pick", "count" */
    long long delta;
    long long qty;
    char hash[DEPOT_CHAIN_HASH_HEX + 1]; /* the movement chain (depot/ledger_chain.h); "": none */
    char code[DEPOT_ITEM_CODE_MAX + 1];  /* the item's own code (depot/item_code.h); "": none */
};

/* prev, sig and cert: "" / NULL for a batch without them (a gateway before the chain). */
struct depot_movements_body {
    size_t n_items;
    struct depot_movement_item *items;   /* owned */
    char prev[DEPOT_CHAIN_HASH_HEX + 1]; /* the hash before items[0] */
    char *sig;                           /* owned: base64 ECDSA over depot_movements_signed */
    char *cert;                          /* owned: the signing gateway's certificate (PEM) */
};

struct depot_alert_body {
    long long alert;
    char kind[DEPOT_ALERT_KIND_MAX + 1];
    char sku[DEPOT_SKU_MAX + 1]; /* "" when the alert is not about one SKU */
    char severity[DEPOT_STATUS_MAX + 1];
    char status[DEPOT_STATUS_MAX + 1]; /* "open", "acknowledged", "resolved" */
    char text[DEPOT_TEXT_MAX + 1];
    char action[DEPOT_TEXT_MAX + 1];
};

struct depot_kpi_item {
    char name[DEPOT_KIND_MAX + 1];
    double value, score, weight;
};

struct depot_ranking_body {
    char period[DEPOT_PERIOD_MAX + 1];
    long long rank, of;
    double score, rebate_pct, rebate;
    size_t n_kpis;
    struct depot_kpi_item kpis[DEPOT_KPI_MAX];
};

struct depot_policy_item {
    long long policy;
    char title[DEPOT_POLICY_TITLE_MAX + 1];
    char notice[DEPOT_POLICY_NOTICE_MAX + 1];
    char valid_to[DEPOT_DATE_LEN + 1];
    bool acked; /* acknowledged (at a terminal or in the portal): no longer shown */
};

struct depot_policy_body {
    size_t n_items;
    struct depot_policy_item *items; /* owned */
};

/* A contract waiting for (or having) the dealer's signature at its gateway (down/contract). */
struct depot_contract_item {
    long long contract;
    char title[DEPOT_POLICY_TITLE_MAX + 1];
    char sha256[DEPOT_SHA256_HEX + 1]; /* of the contract file's exact bytes */
    bool signed_;                      /* the hub has the dealer's signature */
};

struct depot_contract_body {
    size_t n_items;
    struct depot_contract_item *items; /* owned */
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
        struct depot_order_body order;
        struct depot_decision_body decision;
        struct depot_catalog_body catalog;
        struct depot_movements_body movements;
        struct depot_alert_body alert;
        struct depot_ranking_body ranking;
        struct depot_outbox_body outbox;
        struct depot_policy_body policy;
        struct depot_contract_body contract;
    } body;
} depot_msg;

/* "stock", "event", ...; NULL for an invalid type. */
const char *depot_msg_type_name(depot_msg_type type);
/* The topic leaf of a type: "up/stock", "up/event", "up/snapshot", "state", "down/ack". */
const char *depot_msg_topic_leaf(depot_msg_type type);
/* True for the types that travel in the exactly-once stream (stock, event, order, movements). */
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

/*
 * Reads only the stream envelope of len bytes, leniently: "dealer" (a valid
 * id), "ledger" (32 lowercase hex digits), "id" >= 1 and 1 <= "base" <= id,
 * as the decoder checks them; "v", "type" and "ts" are copied when they are
 * well-typed (else 0, DEPOT_MSG__COUNT, 0); the body and any other key are
 * not looked at. For a receiver that must identify (and acknowledge) a
 * stream message that depot_msg_decode refuses. *out owns nothing.
 * DEPOT_ERR_PARSE (not JSON), DEPOT_ERR_SCHEMA (one of the four missing or
 * invalid), DEPOT_ERR_INVAL.
 */
depot_err depot_msg_peek_envelope(const char *buf, size_t len, depot_msg *out);

struct cJSON;
/*
 * Parses exactly one JSON document from len bytes (need not be
 * NUL-terminated): NULL if it is not well-formed or anything but JSON
 * whitespace follows it. Every JSON text Depot reads goes through here.
 * Free the result with cJSON_Delete.
 */
struct cJSON *depot_json_parse(const char *buf, size_t len);

/*
 * Frees what a decoded message owns (snapshot, catalog and movement items, order
 * strings; all allocated with depot_malloc); m stays valid, empty.
 */
void depot_msg_clear(depot_msg *m);

/* True if s is 1..DEPOT_SERIAL_PREFIX_MAX printable ASCII characters without space that
 * does not start with "(" (a GS1 code is never a plain serial). */
bool depot_serial_prefix_valid(const char *s);

/* True if s is 1..DEPOT_BARCODE_LEN printable ASCII characters without space. */
bool depot_barcode_valid(const char *s);

/* The order document that a gateway signs (the "doc" of an order message). */
struct depot_order_line {
    char barcode[DEPOT_BARCODE_LEN + 1];
    long long qty; /* 1..DEPOT_QTY_MAX */
};

typedef struct depot_order_doc {
    char order[DEPOT_ORDER_ID_MAX + 1]; /* globally unique: "<ledger id>-<number>" */
    char dealer[DEPOT_DEALER_MAX + 1];
    long long number; /* per-ledger order number shown on the terminal, >= 1 */
    char terminal[DEPOT_NODE_MAX + 1];
    long long created; /* ms since the Unix epoch */
    size_t n_lines;    /* 1..DEPOT_ORDER_LINES_MAX */
    struct depot_order_line lines[DEPOT_ORDER_LINES_MAX];
} depot_order_doc;

/* Encode / decode an order document; same rules and errors as the message codec. */
depot_err depot_order_doc_encode(const depot_order_doc *d, char **out, size_t *len);
depot_err depot_order_doc_decode(const char *buf, size_t len, depot_order_doc *d, char *reason,
                                 size_t reason_len);

/*
 * The document a gateway signs for a contract (the "doc" of a signature
 * message): the contract's id, the dealer, the SHA-256 of the contract
 * file's exact bytes, when and at which terminal it was confirmed.
 */
typedef struct depot_contract_doc {
    long long contract; /* >= 1 */
    char dealer[DEPOT_DEALER_MAX + 1];
    char sha256[DEPOT_SHA256_HEX + 1];
    long long signed_at; /* ms since the Unix epoch */
    char terminal[DEPOT_NODE_MAX + 1];
} depot_contract_doc;

depot_err depot_contract_doc_encode(const depot_contract_doc *d, char **out, size_t *len);
depot_err depot_contract_doc_decode(const char *buf, size_t len, depot_contract_doc *d,
                                    char *reason, size_t reason_len);
/* The bytes the hub countersigns for a dealer's signature of a contract: doc "\n" sig_b64
 * (depot_malloc'ed, NUL-terminated; *len without the NUL); NULL when out of memory. */
char *depot_contract_counter_bytes(const char *doc, const char *sig_b64, size_t *len);
/* True for DEPOT_SHA256_HEX lowercase hex digits. */
bool depot_sha256_hex_valid(const char *s);

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
