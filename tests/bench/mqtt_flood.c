/*
 * mqtt_flood: loads the hub with stock the real way, for the API benchmark.
 *
 * It plays D dealers' gateways at once over one MQTT v5 mutual-TLS connection
 * (the hub's certificate, whose ACL may write every dealer's topics): for
 * each dealer a ledger id made at random for the run and a stream of S stock
 * messages, ids 1..S, one per SKU, encoded with depot_msg_encode so each
 * payload is byte for byte what a gateway sends. Before the streams, each
 * dealer's retained "online" state, so the rows read as live.
 *
 * Pacing is the gateway's own: at most --window stream messages in flight,
 * where in flight means published and not yet covered by the hub's
 * acknowledgement (depot/v1/<dealer>/down/ack, {"upto":N}), so the hub's
 * ingest queue never overflows. If no acknowledgement moves for --resend-s,
 * every unacknowledged message is published again (the hub's dedupe makes that
 * harmless). Publishing order: SKU-major, so every dealer's stream advances
 * together, each stream in id order. --window 0 paces by the broker alone
 * (QoS 1 PUBACKs, libmosquitto's in-flight limit): the run ends when the
 * broker has taken every message, whoever consumes them (the hub, or
 * mqtt_sink for the bare subscriber's figure).
 *
 * usage: mqtt_flood --port P --ca CA --cert CRT --key KEY [--host 127.0.0.1]
 *                   [--dealers 1000] [--skus 100] [--window 2000]
 *                   [--resend-s 5] [--timeout-s 300]
 * Dealers are D0000.., SKUs SKU-000.. (D%04d, SKU-%03d).
 * stdout, one line: "published=N resent=R acked=N seconds=S rate=M/s" and
 * "complete" or "incomplete". Exit status: 0 every message acknowledged,
 * 1 not within --timeout-s, 2 usage or setup error.
 */
#include <errno.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"

#define MAX_DEALERS 10000
#define MAX_SKUS 1000
#define LOOP_MS 10

typedef struct flood_opts {
    const char *host, *ca, *cert, *key;
    long port, dealers, skus, window, resend_s, timeout_s;
} flood_opts;

typedef struct stream {
    char dealer[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
    uint64_t sent;  /* highest id published */
    uint64_t acked; /* the hub's upto */
} stream;

typedef struct flood {
    const flood_opts *o;
    struct mosquitto *mosq;
    stream *streams;
    bool connected, subscribed, failed;
    unsigned long long published, resent, acked, total;
    unsigned long long sent_msgs, pubacked; /* every publish, and the broker's PUBACKs */
    long long last_progress_ms;
} flood;

static void usage(FILE *out)
{
    fputs("usage: mqtt_flood --port P --ca CA --cert CRT --key KEY [--host 127.0.0.1]\n"
          "                  [--dealers 1000] [--skus 100] [--window 2000] [--resend-s 5]\n"
          "                  [--timeout-s 300]\n"
          "Publishes one stock message per (dealer D%04d, SKU SKU-%03d) as the dealers'\n"
          "gateways would, paced by the hub's acknowledgements; prints\n"
          "'published=N resent=R acked=N seconds=S rate=M/s complete|incomplete'.\n",
          out);
}

static int parse_args(int argc, char **argv, flood_opts *o)
{
    const struct bench_opt table[] = {
        {"--host", &o->host, NULL, 0, 0},
        {"--ca", &o->ca, NULL, 0, 0},
        {"--cert", &o->cert, NULL, 0, 0},
        {"--key", &o->key, NULL, 0, 0},
        {"--port", NULL, &o->port, 1, 65535},
        {"--dealers", NULL, &o->dealers, 1, MAX_DEALERS},
        {"--skus", NULL, &o->skus, 1, MAX_SKUS},
        {"--window", NULL, &o->window, 0, 40000}, /* below the hub's ingest queue; 0: none */
        {"--resend-s", NULL, &o->resend_s, 1, 600},
        {"--timeout-s", NULL, &o->timeout_s, 1, 3600},
        {NULL, NULL, NULL, 0, 0},
    };
    if (bench_parse_opts("mqtt_flood", argc, argv, table, usage) < 0)
        return -1;
    if (o->port == 0 || !o->ca || !o->cert || !o->key)
        return usage(stderr), -1;
    if (strncmp(o->host, "127.", 4) != 0)
        return fprintf(stderr, "mqtt_flood: only 127.0.0.0/8 may be a target\n"), -1;
    return 0;
}

/* Each dealer's ledger: 16 random hex digits for the run, then the dealer's index. */
static int make_streams(flood *f)
{
    unsigned long long run_id;
    if (getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id))
        return -1;
    f->streams = depot_calloc((size_t)f->o->dealers, sizeof(stream));
    if (f->streams == NULL)
        return -1;
    for (long d = 0; d < f->o->dealers; d++) {
        snprintf(f->streams[d].dealer, sizeof(f->streams[d].dealer), "D%04ld", d);
        snprintf(f->streams[d].ledger, sizeof(f->streams[d].ledger), "%016llx%016llx", run_id,
                 (unsigned long long)d);
    }
    f->total = (unsigned long long)f->o->dealers * (unsigned long long)f->o->skus;
    return 0;
}

static int publish_msg(flood *f, const depot_msg *m, bool retain)
{
    char topic[128], *payload = NULL;
    size_t len = 0;
    depot_err err =
        depot_topic_build(topic, sizeof(topic), m->dealer, depot_msg_topic_leaf(m->type));
    if (err == DEPOT_OK)
        err = depot_msg_encode(m, &payload, &len);
    if (err != DEPOT_OK) {
        fprintf(stderr, "mqtt_flood: encode: %s\n", depot_strerror(err));
        return -1;
    }
    int rc = mosquitto_publish_v5(f->mosq, NULL, topic, (int)len, payload, 1, retain, NULL);
    depot_free(payload);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqtt_flood: publish: %s\n", mosquitto_strerror(rc));
        return -1;
    }
    f->sent_msgs++;
    return 0;
}

static int publish_state(flood *f, const stream *s)
{
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_STATE, .ts = depot_now_ms()};
    snprintf(m.dealer, sizeof(m.dealer), "%s", s->dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", s->ledger);
    m.body.state.online = true;
    m.body.state.session = m.ts;
    return publish_msg(f, &m, true);
}

/* Stock message id (1..skus) of stream s: SKU-(id-1), a quantity that differs per row. */
static int publish_stock(flood *f, stream *s, long d, uint64_t id)
{
    long sku = (long)id - 1;
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_STOCK, .ts = depot_now_ms()};
    snprintf(m.dealer, sizeof(m.dealer), "%s", s->dealer);
    snprintf(m.ledger, sizeof(m.ledger), "%s", s->ledger);
    m.id = id;
    m.base = s->acked + 1;
    snprintf(m.body.stock.sku, sizeof(m.body.stock.sku), "SKU-%03ld", sku);
    snprintf(m.body.stock.node, sizeof(m.body.stock.node), "scale-%03ld", sku);
    m.body.stock.qty = (d * 37 + sku * 11) % 500;
    m.body.stock.delta = m.body.stock.qty;
    return publish_msg(f, &m, false);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    flood *f = obj;
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "mqtt_flood: broker refused: %s\n", mosquitto_reason_string(rc));
        f->failed = true;
        return;
    }
    f->connected = true;
    if (mosquitto_subscribe_v5(mosq, NULL, "depot/v1/+/down/ack", 1, 0, NULL) != MOSQ_ERR_SUCCESS)
        f->failed = true;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
    flood *f = obj;
    (void)mosq;
    (void)mid;
    (void)reason;
    (void)props;
    f->pubacked++;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
                         const int *granted, const mosquitto_property *props)
{
    flood *f = obj;
    (void)mosq;
    (void)mid;
    (void)props;
    f->subscribed = qos_count == 1 && granted[0] <= 2;
    if (!f->subscribed)
        f->failed = true;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    flood *f = obj;
    depot_msg m;
    char *end = NULL;
    (void)mosq;
    (void)props;
    if (depot_msg_decode(msg->payload, (size_t)msg->payloadlen, &m, NULL, 0) != DEPOT_OK)
        return;
    long d = m.dealer[0] == 'D' ? strtol(m.dealer + 1, &end, 10) : -1;
    if (m.type == DEPOT_MSG_ACK && d >= 0 && d < f->o->dealers && end && *end == '\0') {
        stream *s = &f->streams[d];
        uint64_t upto = m.body.ack.upto < s->sent ? m.body.ack.upto : s->sent;
        if (strcmp(m.ledger, s->ledger) == 0 && upto > s->acked) {
            f->acked += upto - s->acked;
            s->acked = upto;
            f->last_progress_ms = depot_mono_ms();
        }
    }
    depot_msg_clear(&m);
}

static int setup(flood *f)
{
    const flood_opts *o = f->o;
    char id[64];
    snprintf(id, sizeof(id), "bench-flood-%ld", (long)getpid());
    f->mosq = mosquitto_new(id, true, f);
    if (f->mosq == NULL)
        return -1;
    mosquitto_int_option(f->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    int rc = mosquitto_tls_set(f->mosq, o->ca, NULL, o->cert, o->key, NULL);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "mqtt_flood: tls: %s\n", mosquitto_strerror(rc)), -1;
    mosquitto_connect_v5_callback_set(f->mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(f->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(f->mosq, on_message);
    mosquitto_publish_v5_callback_set(f->mosq, on_publish);
    rc = mosquitto_connect(f->mosq, o->host, (int)o->port, 30);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "mqtt_flood: connect %s:%ld: %s\n", o->host, o->port,
                       rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc)),
               -1;
    return 0;
}

/* Runs the network until pred(f) (0) or the deadline (-1); a link error sets f->failed. */
static int pump(flood *f, bool (*pred)(const flood *), long long deadline)
{
    while (!pred(f) && depot_mono_ms() < deadline) {
        int rc = mosquitto_loop(f->mosq, LOOP_MS, 1);
        if (rc != MOSQ_ERR_SUCCESS || f->failed) {
            fprintf(stderr, "mqtt_flood: link: %s\n",
                    f->failed ? "refused" : mosquitto_strerror(rc));
            f->failed = true;
            return -1;
        }
    }
    return pred(f) ? 0 : -1;
}

static bool is_subscribed(const flood *f)
{
    return f->subscribed;
}

static bool window_open(const flood *f)
{
    return f->o->window == 0 || f->published - f->acked < (unsigned long long)f->o->window;
}

/* Paced by the hub: every message acknowledged by it; by the broker alone: all taken. */
static bool all_acked(const flood *f)
{
    return f->o->window == 0 ? f->pubacked >= f->sent_msgs : f->acked == f->total;
}

/* Publishes every stream's unacknowledged messages again. */
static int resend(flood *f)
{
    for (long d = 0; d < f->o->dealers; d++) {
        stream *s = &f->streams[d];
        for (uint64_t id = s->acked + 1; id <= s->sent; id++) {
            if (publish_stock(f, s, d, id) < 0)
                return -1;
            f->resent++;
        }
    }
    f->last_progress_ms = depot_mono_ms();
    return 0;
}

static bool stalled(const flood *f)
{
    return depot_mono_ms() - f->last_progress_ms > f->o->resend_s * 1000;
}

/* Waits for pred through the network, resending when the hub's acks stall; -1 on failure. */
static int wait_for(flood *f, bool (*pred)(const flood *), long long deadline)
{
    while (!pred(f)) {
        if (pump(f, pred, depot_mono_ms() + 1000) == 0)
            break;
        if (f->failed || depot_mono_ms() >= deadline)
            return -1;
        if (f->o->window > 0 && stalled(f) && resend(f) < 0)
            return -1;
    }
    return 0;
}

static int flood_all(flood *f, long long deadline)
{
    for (long d = 0; d < f->o->dealers; d++)
        if (publish_state(f, &f->streams[d]) < 0)
            return -1;
    f->last_progress_ms = depot_mono_ms();
    for (long sku = 0; sku < f->o->skus; sku++) {
        for (long d = 0; d < f->o->dealers; d++) {
            stream *s = &f->streams[d];
            if (wait_for(f, window_open, deadline) < 0 || publish_stock(f, s, d, s->sent + 1) < 0)
                return -1;
            s->sent++;
            f->published++;
        }
        mosquitto_loop(f->mosq, 0, 1);
    }
    return wait_for(f, all_acked, deadline);
}

int main(int argc, char **argv)
{
    flood_opts o = {.host = "127.0.0.1",
                    .dealers = 1000,
                    .skus = 100,
                    .window = 2000,
                    .resend_s = 5,
                    .timeout_s = 300};
    flood f = {.o = &o};
    int rc = 2;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    depot_log_init("mqtt_flood", DEPOT_LOG_WARN);
    mosquitto_lib_init();
    long long start = depot_mono_ms(), deadline = start + o.timeout_s * 1000;
    if (make_streams(&f) == 0 && setup(&f) == 0 && pump(&f, is_subscribed, deadline) == 0) {
        rc = flood_all(&f, deadline) == 0 && all_acked(&f) ? 0 : 1;
        double secs = (double)(depot_mono_ms() - start) / 1000.0;
        unsigned long long done = o.window ? f.acked : f.published;
        printf("published=%llu resent=%llu acked=%llu seconds=%.2f rate=%.0f/s %s\n", f.published,
               f.resent, f.acked, secs, (double)done / secs,
               rc == 0 ? "complete" : "incomplete");
        mosquitto_disconnect(f.mosq);
        mosquitto_loop(f.mosq, 50, 1);
    }
    mosquitto_destroy(f.mosq);
    mosquitto_lib_cleanup();
    depot_free(f.streams);
    return rc;
}
