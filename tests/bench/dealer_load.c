/*
 * dealer_load: N dealers' gateways at once over real mutual-TLS MQTT, for the
 * scale-out benchmark (bench_dealer_load.py).
 *
 * Each simulated dealer is what the broker and the hub see of a gateway: its
 * own MQTT v5 connection with its own certificate (CN = its dealer id,
 * issued from a CSR by Depot's CA code exactly as `depotctl pki sign` does;
 * made once into --certs and kept), its own random ledger id, a retained
 * "online" state, and a stream of stock messages with growing ids encoded by
 * the codec the gateways use. It honours the hub's acknowledgements as a
 * gateway does: at most --window messages unacknowledged, every one of them
 * published again when no acknowledgement moved for --resend-s.
 *
 * One thread, one epoll loop over every client socket: a socket is read when
 * it is readable, written when libmosquitto has output waiting, and
 * mosquitto_loop_misc runs for every client once a second (keep-alive). The
 * clients connect at most --connect-rate per second; the time until every
 * one had its CONNACK and SUBACK is reported.
 *
 * After --seconds of traffic (each dealer a stock message every
 * --stock-every-ms, with --move-every-ms an up/movements batch (a pick of
 * one unit of SKU-MOV, the stock it leaves chained from one batch to the
 * next as the terminal's ledger chains it) and, with --order-every-ms, a
 * signed order of --barcode, all in the same stream and spread over their
 * periods), it waits up to
 * --drain-s for every message to be acknowledged, then asks the hub's API,
 * per dealer, what its stream holds (GET /api/v1/dealers/<id>/streams): lost
 * when the stream's applied_upto or applied count is below what was sent,
 * doubled when applied is above it; and its orders (GET
 * /api/v1/orders?dealer=<id>): every order sent is there once.
 *
 * An order is signed as the gateway signs it (depot_order_doc_encode, the
 * dealer's key over those bytes, its certificate in the message); a resent
 * order is the same document (its created time kept), signed again.
 *
 * With --policy-ids A,B,.. (the policy push benchmark, bench_policy_push.py) there is no
 * traffic: each dealer also subscribes to its down/policy, as a gateway does, and once every
 * one is connected dealer_load prints "ready=N connect_seconds=S" and waits, id after id, until
 * every dealer has received a down/policy listing that policy (at most --policy-wait-s each),
 * printing for each "policy=ID received=N dealers=M first_ms= p50_ms= p99_ms= last_ms=" in
 * CLOCK_MONOTONIC milliseconds (the same clock as Python's time.monotonic, so the caller
 * subtracts its own publish time). With --policy-deliver ID each dealer reports that policy
 * delivered as the gateway does (an up/event policy_delivered in its stream, resent until the
 * hub acknowledges it), and the end check counts those events as the stream.
 *
 * usage: dealer_load --port P --ca CA --pki DIR --certs DIR --http PORT --token T
 *                    [--dealers 100] [--seconds 60] [--stock-every-ms 10000]
 *                    [--connect-rate 500] [--window 100] [--resend-s 10]
 *                    [--drain-s 120] [--prefix L] [--order-every-ms 0]
 *                    [--barcode 4006381333931] [--move-every-ms 0]
 *                    [--policy-ids A,B] [--policy-wait-s 600] [--policy-deliver ID]
 * stdout: "issued=N issue_seconds=S", then one line of key=value:
 *   dealers= connected= connect_seconds= sent= resent= acked= lost= doubled=
 *   orders= orders_missing= orders_doubled= movements= movements_wrong= reconnects=
 *   policy_missing= seconds=
 *   rate=
 * (reconnects: connections made again after a lost link, e.g. a broker restarted; each dealer
 * then resends what the hub has not acknowledged at once, as a gateway does)
 * (movements_wrong: dealers whose picks of SKU-MOV the hub's daily sales do not count once each)
 * Exit status: 0 with every dealer connected, nothing lost and nothing
 * doubled; 1 otherwise; 2 usage or setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/msg.h"
#include "depot/pki.h"

#define MAX_DEALERS 20000
#define SKUS 100
#define LOOP_MS 10
#define PATH_MAX_LEN 512
#define ORDERS_KEPT 64       /* a dealer's unacknowledged orders remembered for resending */
#define MOVES_KEPT 64        /* ... and movements batches */
#define MOVE_START 1000000LL /* SKU-MOV's stock before the first pick */
#define ATTEMPTS_MAX 10      /* failed connections in a row, 1 s apart, before a dealer gives up */
#define POLICY_IDS 4         /* --policy-ids awaited, at most */

typedef struct load_opts {
    const char *host, *ca, *pki, *certs, *token, *prefix, *barcode;
    long port, http, dealers, seconds, stock_every_ms, connect_rate, window, resend_s, drain_s;
    long order_every_ms, move_every_ms, policy_wait_s, policy_deliver;
    const char *policy_list;
    long long policy_ids[POLICY_IDS];
    int n_policy_ids;
} load_opts;

/* A movements batch of a dealer's stream: its message id, its place in the chain (the k-th
 * pick) and its time. */
struct move_ref {
    uint64_t id;
    long long k, at;
};

/* An order of a dealer's stream: its message id, number and creation time. */
struct order_ref {
    uint64_t id;
    long long number, created;
};

typedef struct dealer {
    struct mosquitto *mosq;
    struct load *l;
    char id[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
    int fd;
    bool connected, ready, was_ready, want_out, failed;
    int attempts; /* connections tried in a row without a CONNACK */
    uint64_t sent, acked;
    long long next_stock_ms, next_order_ms, next_move_ms, retry_at_ms;
    long long wait_since_ms; /* since when the oldest unacknowledged message waits (resend) */
    long long orders;        /* orders sent (their numbers 1..orders) */
    struct order_ref kept[ORDERS_KEPT]; /* unacknowledged orders, oldest first */
    int n_kept;
    long long moves;                   /* movements batches sent */
    struct move_ref moved[MOVES_KEPT]; /* unacknowledged ones, oldest first */
    int n_moved;
    long long policy_at[POLICY_IDS]; /* when a down/policy first listed --policy-ids[k] */
    uint64_t delivered_id;           /* the stream id of its policy_delivered event, or 0 */
} dealer;

typedef struct load {
    const load_opts *o;
    dealer *d;
    int epfd;
    long ready, failed;
    unsigned long long sent, resent, acked, orders, moves, reconnects;
    long policy_got[POLICY_IDS]; /* dealers that have --policy-ids[k] */
    long policy_missing;         /* ... summed over k: dealers without it at the end */
} load;

static void usage(FILE *out)
{
    fputs("usage: dealer_load --port P --ca CA --pki DIR --certs DIR --http PORT --token T\n"
          "                   [--dealers 100] [--seconds 60] [--stock-every-ms 10000]\n"
          "                   [--connect-rate 500] [--window 100] [--resend-s 10]\n"
          "                   [--drain-s 120] [--prefix L] [--host 127.0.0.1]\n"
          "                   [--order-every-ms 0] [--barcode 4006381333931]\n"
          "                   [--move-every-ms 0] [--policy-ids A,B] [--policy-wait-s 600]\n"
          "                   [--policy-deliver ID]\n"
          "N dealers' gateways, each its own certificate and TLS connection, in one epoll\n"
          "loop; checks through the hub's API that every message was applied once.\n",
          out);
}

static int parse_args(int argc, char **argv, load_opts *o)
{
    const struct bench_opt table[] = {
        {"--host", &o->host, NULL, 0, 0},
        {"--ca", &o->ca, NULL, 0, 0},
        {"--pki", &o->pki, NULL, 0, 0},
        {"--certs", &o->certs, NULL, 0, 0},
        {"--token", &o->token, NULL, 0, 0},
        {"--prefix", &o->prefix, NULL, 0, 0},
        {"--barcode", &o->barcode, NULL, 0, 0},
        {"--order-every-ms", NULL, &o->order_every_ms, 0, 86400000},
        {"--move-every-ms", NULL, &o->move_every_ms, 0, 86400000},
        {"--port", NULL, &o->port, 1, 65535},
        {"--http", NULL, &o->http, 1, 65535},
        {"--dealers", NULL, &o->dealers, 1, MAX_DEALERS},
        {"--seconds", NULL, &o->seconds, 1, 86400},
        {"--stock-every-ms", NULL, &o->stock_every_ms, 10, 3600000},
        {"--connect-rate", NULL, &o->connect_rate, 1, 100000},
        {"--window", NULL, &o->window, 1, 100000},
        {"--resend-s", NULL, &o->resend_s, 1, 600},
        {"--drain-s", NULL, &o->drain_s, 1, 3600},
        {"--policy-ids", &o->policy_list, NULL, 0, 0},
        {"--policy-wait-s", NULL, &o->policy_wait_s, 1, 86400},
        {"--policy-deliver", NULL, &o->policy_deliver, 1, 2000000000},
        {NULL, NULL, NULL, 0, 0},
    };
    if (bench_parse_opts("dealer_load", argc, argv, table, usage) < 0)
        return -1;
    if (!o->port || !o->http || !o->ca || !o->pki || !o->certs || !o->token)
        return usage(stderr), -1;
    if (strncmp(o->host, "127.", 4) != 0)
        return fprintf(stderr, "dealer_load: only 127.0.0.0/8 may be a target\n"), -1;
    if (strlen(o->prefix) > 8 || !depot_id_valid(o->prefix, 8))
        return fprintf(stderr, "dealer_load: --prefix: 1..8 id characters\n"), -1;
    for (const char *p = o->policy_list; p && *p;) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p || id <= 0 || (*end && *end != ',') || o->n_policy_ids == POLICY_IDS)
            return fprintf(stderr, "dealer_load: --policy-ids: 1 to %d ids, a,b,..\n", POLICY_IDS),
                   -1;
        o->policy_ids[o->n_policy_ids++] = id;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Each dealer's key and certificate in --certs: made from a CSR by the CA, once. */
static int issue_certs(const load_opts *o)
{
    char key[PATH_MAX_LEN], csr[PATH_MAX_LEN], crt[PATH_MAX_LEN], cak[PATH_MAX_LEN],
        cac[PATH_MAX_LEN], id[DEPOT_DEALER_MAX + 1];
    pki_ca *ca = NULL;
    long issued = 0;
    long long t0 = depot_mono_ms();
    depot_err err;
    mkdir(o->certs, 0700);
    snprintf(cak, sizeof(cak), "%s/devices-ca.key", o->pki);
    snprintf(cac, sizeof(cac), "%s/devices-ca.crt", o->pki);
    for (long i = 0; i < o->dealers; i++) {
        snprintf(id, sizeof(id), "%s%05ld", o->prefix, i);
        snprintf(crt, sizeof(crt), "%s/%s.crt", o->certs, id);
        if (exists(crt))
            continue;
        if (!ca && (err = pki_ca_open(&ca, cak, cac)) != DEPOT_OK)
            return fprintf(stderr, "dealer_load: CA %s: %s\n", o->pki, depot_strerror(err)), -1;
        snprintf(key, sizeof(key), "%s/%s.key", o->certs, id);
        snprintf(csr, sizeof(csr), "%s/%s.csr", o->certs, id);
        unlink(key);
        unlink(csr);
        err = pki_key_generate(key);
        if (err == DEPOT_OK)
            err = pki_csr_create(key, id, csr);
        if (err == DEPOT_OK)
            err = pki_ca_sign_csr(ca, csr, id, crt, 0);
        unlink(csr);
        if (err != DEPOT_OK) {
            pki_ca_free(ca);
            return fprintf(stderr, "dealer_load: issue %s: %s\n", id, depot_strerror(err)), -1;
        }
        issued++;
    }
    pki_ca_free(ca);
    printf("issued=%ld issue_seconds=%.2f\n", issued, (depot_mono_ms() - t0) / 1000.0);
    fflush(stdout);
    return 0;
}

static int publish_msg(dealer *d, const depot_msg *m, bool retain)
{
    char topic[128], *payload = NULL;
    size_t len = 0;
    depot_err err =
        depot_topic_build(topic, sizeof(topic), m->dealer, depot_msg_topic_leaf(m->type));
    int rc;
    if (err == DEPOT_OK)
        err = depot_msg_encode(m, &payload, &len);
    if (err != DEPOT_OK)
        return fprintf(stderr, "dealer_load: encode: %s\n", depot_strerror(err)), -1;
    rc = mosquitto_publish_v5(d->mosq, NULL, topic, (int)len, payload, 1, retain, NULL);
    depot_free(payload);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

/* Stock message id of d: SKU-(id % SKUS), a quantity that moves with the id (1..500, the
 * stock before its change of +1 a count too: a message claiming -1 before does not encode). */
static int publish_stock(dealer *d, uint64_t id)
{
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_STOCK, .ts = depot_now_ms()};
    long sku = (long)(id % SKUS);
    snprintf(m.dealer, sizeof(m.dealer), "%s", d->id);
    snprintf(m.ledger, sizeof(m.ledger), "%s", d->ledger);
    m.id = id;
    m.base = d->acked + 1;
    snprintf(m.body.stock.sku, sizeof(m.body.stock.sku), "SKU-%03ld", sku);
    snprintf(m.body.stock.node, sizeof(m.body.stock.node), "scale-%03ld", sku);
    m.body.stock.qty = 1 + (long long)(id % 500); /* after a change of +1: at least 1 */
    m.body.stock.delta = 1;
    return publish_msg(d, &m, false);
}

/* The order of d's stream with id r->id, signed with d's key. */
static int publish_order(dealer *d, const struct order_ref *r)
{
    const load_opts *o = d->l->o;
    depot_order_doc doc = {.number = r->number, .created = r->created, .n_lines = 1};
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_ORDER, .ts = r->created};
    unsigned char sig[PKI_SIG_MAX];
    char key[PATH_MAX_LEN], crt[PATH_MAX_LEN], b64[PKI_SIG_B64_SIZE], *text = NULL, *pem = NULL;
    size_t len, sig_len;
    int rc = -1;
    snprintf(doc.order, sizeof(doc.order), "%.32s-%lld", d->ledger, r->number);
    snprintf(doc.dealer, sizeof(doc.dealer), "%s", d->id);
    snprintf(doc.terminal, sizeof(doc.terminal), "scan-1");
    snprintf(doc.lines[0].barcode, sizeof(doc.lines[0].barcode), "%s", o->barcode);
    doc.lines[0].qty = 1 + r->number % 5;
    snprintf(key, sizeof(key), "%s/%s.key", o->certs, d->id);
    snprintf(crt, sizeof(crt), "%s/%s.crt", o->certs, d->id);
    if (depot_order_doc_encode(&doc, &text, &len) == DEPOT_OK &&
        pki_sign_with_key_file(key, text, len, sig, sizeof(sig), &sig_len) == DEPOT_OK &&
        pki_base64_encode(sig, sig_len, b64, sizeof(b64), &len) == DEPOT_OK &&
        pki_read_file(crt, DEPOT_CERT_PEM_MAX, &pem, &len) == DEPOT_OK) {
        snprintf(m.dealer, sizeof(m.dealer), "%s", d->id);
        snprintf(m.ledger, sizeof(m.ledger), "%s", d->ledger);
        m.id = r->id;
        m.base = d->acked + 1;
        m.body.order.doc = text;
        m.body.order.sig = b64;
        m.body.order.cert = pem;
        rc = publish_msg(d, &m, false);
    }
    depot_free(text);
    depot_free(pem);
    return rc;
}

/* The movements batch r of d: one pick of SKU-MOV, leaving MOVE_START - r->k. */
static int publish_move(dealer *d, const struct move_ref *r)
{
    struct depot_movement_item it = {
        .mid = (uint64_t)r->k, .ts = r->at, .delta = -1, .qty = MOVE_START - r->k};
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_MOVEMENTS, .ts = r->at};
    snprintf(m.dealer, sizeof(m.dealer), "%s", d->id);
    snprintf(m.ledger, sizeof(m.ledger), "%s", d->ledger);
    m.id = r->id;
    m.base = d->acked + 1;
    snprintf(it.node, sizeof(it.node), "scan-1");
    snprintf(it.sku, sizeof(it.sku), "SKU-MOV");
    snprintf(it.kind, sizeof(it.kind), "pick");
    m.body.movements.items = &it;
    m.body.movements.n_items = 1;
    return publish_msg(d, &m, false);
}

/* d's policy_delivered event for --policy-deliver, id d->delivered_id of its stream. */
static int publish_delivered(dealer *d)
{
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_EVENT, .ts = depot_now_ms()};
    snprintf(m.dealer, sizeof(m.dealer), "%s", d->id);
    snprintf(m.ledger, sizeof(m.ledger), "%s", d->ledger);
    m.id = d->delivered_id;
    m.base = d->acked + 1;
    snprintf(m.body.event.node, sizeof(m.body.event.node), "gateway");
    snprintf(m.body.event.event, sizeof(m.body.event.event), "policy_delivered");
    snprintf(m.body.event.reason, sizeof(m.body.event.reason), "%ld", d->l->o->policy_deliver);
    return publish_msg(d, &m, false);
}

/* Message id of d's stream again: the order or movements batch it was, or its stock message. */
static int republish(dealer *d, uint64_t id)
{
    if (id == d->delivered_id)
        return publish_delivered(d);
    for (int k = 0; k < d->n_kept; k++)
        if (d->kept[k].id == id)
            return publish_order(d, &d->kept[k]);
    for (int k = 0; k < d->n_moved; k++)
        if (d->moved[k].id == id)
            return publish_move(d, &d->moved[k]);
    return publish_stock(d, id);
}

/* Forgets the orders and movements batches the hub's acknowledgement covers. */
static void orders_acked(dealer *d)
{
    int k = 0;
    while (k < d->n_kept && d->kept[k].id <= d->acked)
        k++;
    memmove(d->kept, d->kept + k, (size_t)(d->n_kept - k) * sizeof(d->kept[0]));
    d->n_kept -= k;
    k = 0;
    while (k < d->n_moved && d->moved[k].id <= d->acked)
        k++;
    memmove(d->moved, d->moved + k, (size_t)(d->n_moved - k) * sizeof(d->moved[0]));
    d->n_moved -= k;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    dealer *d = obj;
    char topic[128], policy[128], *subs[2] = {topic, policy};
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "dealer_load: %s refused: %s\n", d->id, mosquitto_reason_string(rc));
        d->failed = true;
        return;
    }
    d->connected = true;
    d->attempts = 0; /* a broker restarted any number of times is reached again */
    snprintf(topic, sizeof(topic), "depot/v1/%s/down/ack", d->id);
    snprintf(policy, sizeof(policy), "depot/v1/%s/down/policy", d->id);
    if (mosquitto_subscribe_multiple(mosq, NULL, d->l->o->n_policy_ids ? 2 : 1, subs, 1, 0, NULL) !=
        MOSQ_ERR_SUCCESS)
        d->failed = true;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
                         const int *granted, const mosquitto_property *props)
{
    dealer *d = obj;
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_STATE, .ts = depot_now_ms()};
    (void)mosq;
    (void)mid;
    (void)props;
    if (qos_count != (d->l->o->n_policy_ids ? 2 : 1) || granted[0] > 2 ||
        granted[qos_count - 1] > 2) {
        d->failed = true;
        return;
    }
    snprintf(m.dealer, sizeof(m.dealer), "%s", d->id);
    snprintf(m.ledger, sizeof(m.ledger), "%s", d->ledger);
    m.body.state.online = true;
    m.body.state.session = m.ts;
    if (publish_msg(d, &m, true) < 0) {
        d->failed = true;
        return;
    }
    d->ready = true;
    d->wait_since_ms = depot_mono_ms();
    if (!d->was_ready) {
        d->l->ready++;
    } else { /* as a gateway does after any reconnect: what is unacknowledged goes again now */
        d->wait_since_ms -= d->l->o->resend_s * 1000 + 1;
        d->l->reconnects++;
    }
    d->was_ready = true;
}

/* A down/policy: the awaited ids it lists, first time each; the delivered event when due. */
static void policy_arrived(dealer *d, const struct depot_policy_body *b)
{
    const load_opts *o = d->l->o;
    long long now = depot_mono_ms();
    for (size_t i = 0; i < b->n_items; i++)
        for (int k = 0; k < o->n_policy_ids; k++) {
            if (b->items[i].policy != o->policy_ids[k] || d->policy_at[k])
                continue;
            d->policy_at[k] = now;
            d->l->policy_got[k]++;
            if (o->policy_deliver != o->policy_ids[k] || d->delivered_id)
                continue;
            if (d->acked == d->sent)
                d->wait_since_ms = now;
            d->delivered_id = d->sent + 1;
            if (publish_delivered(d) < 0)
                d->failed = true; /* resent after the reconnect, as any stream message */
            d->sent++, d->l->sent++;
        }
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    dealer *d = obj;
    depot_msg m;
    (void)mosq;
    (void)props;
    if (depot_msg_decode(msg->payload, (size_t)msg->payloadlen, &m, NULL, 0) != DEPOT_OK)
        return;
    if (m.type == DEPOT_MSG_ACK && !strcmp(m.ledger, d->ledger)) {
        uint64_t upto = m.body.ack.upto < d->sent ? m.body.ack.upto : d->sent;
        if (upto > d->acked) {
            d->l->acked += upto - d->acked;
            d->acked = upto;
            orders_acked(d);
            d->wait_since_ms = depot_mono_ms();
        }
    }
    if (m.type == DEPOT_MSG_POLICY && !strcmp(m.dealer, d->id))
        policy_arrived(d, &m.body.policy);
    depot_msg_clear(&m);
}

/* Registers (or updates) d's socket in the epoll set: always readable, writable when
 * libmosquitto has output queued. */
static void watch(load *l, dealer *d)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = d};
    bool out = mosquitto_want_write(d->mosq);
    int fd = mosquitto_socket(d->mosq);
    if (fd < 0)
        return;
    if (out)
        ev.events |= EPOLLOUT;
    if (d->fd != fd) { /* new: writable once its TCP connect is done, to go on with TLS */
        d->fd = fd;
        d->want_out = true;
        ev.events |= EPOLLOUT;
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
    } else if (out != d->want_out) {
        d->want_out = out;
        epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
}

static int open_dealer(load *l, long i)
{
    const load_opts *o = l->o;
    dealer *d = &l->d[i];
    char crt[PATH_MAX_LEN], key[PATH_MAX_LEN];
    unsigned char r[16];
    int rc;
    d->l = l;
    d->fd = -1;
    snprintf(d->id, sizeof(d->id), "%s%05ld", o->prefix, i);
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        return -1;
    for (int k = 0; k < 16; k++)
        snprintf(d->ledger + 2 * k, 3, "%02x", r[k]);
    snprintf(crt, sizeof(crt), "%s/%s.crt", o->certs, d->id);
    snprintf(key, sizeof(key), "%s/%s.key", o->certs, d->id);
    d->mosq = mosquitto_new(d->id, true, d);
    if (!d->mosq)
        return -1;
    mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    rc = mosquitto_tls_set(d->mosq, o->ca, NULL, crt, key, NULL);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "dealer_load: tls %s: %s\n", d->id, mosquitto_strerror(rc)), -1;
    mosquitto_connect_v5_callback_set(d->mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(d->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(d->mosq, on_message);
    rc = mosquitto_connect_async(d->mosq, o->host, (int)o->port, 60); /* TLS in the loop */
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "dealer_load: connect %s: %s\n", d->id,
                       rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc)),
               -1;
    watch(l, d);
    return 0;
}

/* One round of the event loop: what the sockets have for us, then keep-alives when due. */
/* A connection that failed: dropped from the set, tried again a second later (a gateway
 * reconnects), until ATTEMPTS_MAX. */
static void lost_link(load *l, dealer *d)
{
    if (d->fd >= 0)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, d->fd, NULL);
    d->fd = -1;
    d->connected = d->ready = false;
    d->failed = true;
    d->retry_at_ms = depot_mono_ms() + 1000;
}

static void reconnect_due(load *l, long opened)
{
    long long now = depot_mono_ms();
    for (long i = 0; i < opened; i++) {
        dealer *d = &l->d[i];
        if (!d->failed || !d->mosq || d->attempts >= ATTEMPTS_MAX || now < d->retry_at_ms)
            continue;
        d->attempts++;
        d->failed = false;
        if (mosquitto_reconnect_async(d->mosq) == MOSQ_ERR_SUCCESS)
            watch(l, d);
        else
            lost_link(l, d);
    }
}

static void pump(load *l, long opened, long long *misc_at)
{
    struct epoll_event ev[256];
    int n = epoll_wait(l->epfd, ev, 256, LOOP_MS);
    for (int i = 0; i < n; i++) {
        dealer *d = ev[i].data.ptr;
        if (d->failed)
            continue;
        if ((ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
            mosquitto_loop_read(d->mosq, 1) != MOSQ_ERR_SUCCESS)
            d->failed = true;
        if (!d->failed && (ev[i].events & EPOLLOUT) &&
            mosquitto_loop_write(d->mosq, 1) != MOSQ_ERR_SUCCESS)
            d->failed = true;
        if (d->failed)
            lost_link(l, d);
        else
            watch(l, d);
    }
    if (depot_mono_ms() >= *misc_at) {
        for (long i = 0; i < opened; i++)
            if (!l->d[i].failed && l->d[i].fd >= 0 &&
                mosquitto_loop_misc(l->d[i].mosq) != MOSQ_ERR_SUCCESS)
                lost_link(l, &l->d[i]);
        reconnect_due(l, opened);
        *misc_at = depot_mono_ms() + 1000;
    }
}

/* Due stock messages (inside the window) and resends of stalled streams.
 *
 * A new message is in the dealer's stream once its publish was tried, whatever
 * mosquitto_publish_v5 returned: on a link that has just died it returns an error but
 * libmosquitto keeps the QoS 1 message queued and sends it after the reconnect. Counting it
 * as not sent would hand its id to the next message (two different messages with one id,
 * the hub keeping whichever came first) and make the end check count the hub's copy of it as
 * doubled. Like a gateway's outbox entry, it is resent until the hub acknowledges it. */
static int traffic(load *l, bool send_new)
{
    long long now = depot_mono_ms();
    for (long i = 0; i < l->o->dealers; i++) {
        dealer *d = &l->d[i];
        if (!d->ready || d->failed)
            continue;
        if (send_new && now >= d->next_stock_ms && d->sent - d->acked < (uint64_t)l->o->window) {
            if (d->acked == d->sent)
                d->wait_since_ms = now;
            if (publish_stock(d, d->sent + 1) < 0)
                d->failed = true;
            d->sent++, l->sent++; /* sent even so: see the top of this function */
            d->next_stock_ms += l->o->stock_every_ms;
        }
        if (send_new && !d->failed && l->o->order_every_ms && now >= d->next_order_ms &&
            d->n_kept < ORDERS_KEPT && d->sent - d->acked < (uint64_t)l->o->window) {
            struct order_ref *r = &d->kept[d->n_kept];
            *r = (struct order_ref){d->sent + 1, d->orders + 1, depot_now_ms()};
            if (d->acked == d->sent)
                d->wait_since_ms = now;
            if (publish_order(d, r) < 0)
                d->failed = true;
            d->n_kept++;
            d->sent++, l->sent++;
            d->orders++, l->orders++;
            d->next_order_ms += l->o->order_every_ms;
        }
        if (send_new && !d->failed && l->o->move_every_ms && now >= d->next_move_ms &&
            d->n_moved < MOVES_KEPT && d->sent - d->acked < (uint64_t)l->o->window) {
            struct move_ref *r = &d->moved[d->n_moved];
            *r = (struct move_ref){d->sent + 1, d->moves + 1, depot_now_ms()};
            if (d->acked == d->sent)
                d->wait_since_ms = now;
            if (publish_move(d, r) < 0)
                d->failed = true;
            d->n_moved++;
            d->sent++, l->sent++;
            d->moves++, l->moves++;
            d->next_move_ms += l->o->move_every_ms;
        }
        if (d->acked < d->sent && now - d->wait_since_ms > l->o->resend_s * 1000) {
            for (uint64_t id = d->acked + 1; id <= d->sent && !d->failed; id++)
                if (republish(d, id) < 0)
                    d->failed = true;
                else
                    l->resent++;
            d->wait_since_ms = now;
        }
        if (d->failed)
            lost_link(l, d);
        else
            watch(l, d);
    }
    return 0;
}

/* ---- the check through the hub's API ---- */

/* GET path from the hub; the body (depot_malloc'ed) or NULL. */
static char *http_get(const load_opts *o, const char *path)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->http)};
    char req[1024], *buf = NULL, *body;
    size_t len = 0, cap = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return NULL;
    }
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Connection: close\r\n\r\n",
                     path, o->token);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    for (;;) {
        if (cap - len < 4097) {
            char *p = depot_realloc(buf, cap ? cap * 2 : 8192);
            if (!p)
                break;
            buf = p;
            cap = cap ? cap * 2 : 8192;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !body) {
        depot_free(buf);
        return NULL;
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return buf;
}

/* What the hub holds of d's stream: applied_upto and applied, -1 if it could not say. */
static void stream_of(const load_opts *o, const dealer *d, long long *upto, long long *applied)
{
    char path[128];
    char *body;
    cJSON *root, *s;
    *upto = *applied = -1;
    snprintf(path, sizeof(path), "/api/v1/dealers/%s/streams", d->id);
    body = http_get(o, path);
    root = body ? cJSON_Parse(body) : NULL;
    depot_free(body);
    cJSON_ArrayForEach(s, root)
    {
        const cJSON *ledger = cJSON_GetObjectItemCaseSensitive(s, "ledger");
        if (cJSON_IsString(ledger) && !strcmp(ledger->valuestring, d->ledger)) {
            *upto = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "applied_upto"));
            *applied = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "applied"));
        }
    }
    cJSON_Delete(root);
}

/* Units of SKU-MOV the hub counts as picked at d over the last two days (its daily sales
 * figures, which only a batch that fits its chain reaches): -1 if it could not say. */
static long long picked_of(const load_opts *o, const dealer *d)
{
    char path[128];
    char *body;
    cJSON *root, *day;
    long long units = -1;
    snprintf(path, sizeof(path), "/api/v1/history?dealer=%s&sku=SKU-MOV&days=2", d->id);
    body = http_get(o, path);
    root = body ? cJSON_Parse(body) : NULL;
    depot_free(body);
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "sales")))
        units = 0;
    cJSON_ArrayForEach(day, cJSON_GetObjectItemCaseSensitive(root, "sales")) units +=
        (long long)cJSON_GetNumberValue(cJSON_GetArrayItem(day, 1));
    cJSON_Delete(root);
    return units;
}

/* How many orders the hub holds for d: -1 if it could not say. */
static long long orders_of(const load_opts *o, const dealer *d)
{
    char path[128];
    char *body;
    cJSON *root;
    long long n = -1;
    snprintf(path, sizeof(path), "/api/v1/orders?dealer=%s&limit=10000", d->id); /* one page */
    body = http_get(o, path);
    root = body ? cJSON_Parse(body) : NULL;
    depot_free(body);
    if (cJSON_IsArray(root))
        n = cJSON_GetArraySize(root);
    cJSON_Delete(root);
    return n;
}

/* Each client holds three descriptors (its socket and libmosquitto's wake-up socket pair):
 * the limit is raised to what n dealers need (the hard one too when allowed, as root). */
static int raise_fd_limit(long dealers)
{
    rlim_t need = (rlim_t)dealers * 3 + 256;
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    if (r.rlim_cur >= need)
        return 0;
    if (r.rlim_max < need) {
        struct rlimit up = {need, need};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return 0;
    }
    r.rlim_cur = r.rlim_max < need ? r.rlim_max : need;
    setrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur < need)
        return fprintf(stderr, "dealer_load: %ld dealers need %lu open files, the limit is %lu\n",
                       dealers, (unsigned long)need, (unsigned long)r.rlim_cur),
               -1;
    return 0;
}

static bool all_acked(const load *l)
{
    for (long i = 0; i < l->o->dealers; i++)
        if (l->d[i].acked < l->d[i].sent)
            return false;
    return true;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Until every dealer has policy --policy-ids[k] (or --policy-wait-s): its arrival times. */
static void await_policy(load *l, int k, long opened, long long *misc_at)
{
    const load_opts *o = l->o;
    long long t0 = depot_mono_ms(), *at = depot_calloc((size_t)o->dealers, sizeof(long long));
    long n = 0;
    while (l->policy_got[k] < l->ready && depot_mono_ms() - t0 < o->policy_wait_s * 1000) {
        traffic(l, false); /* a delivered event unacknowledged: resent */
        pump(l, opened, misc_at);
    }
    for (long i = 0; at && i < o->dealers; i++)
        if (l->d[i].policy_at[k])
            at[n++] = l->d[i].policy_at[k];
    if (at && n)
        qsort(at, (size_t)n, sizeof(*at), cmp_ll);
    printf("policy=%lld received=%ld dealers=%ld first_ms=%lld p50_ms=%lld p99_ms=%lld "
           "last_ms=%lld\n",
           o->policy_ids[k], n, o->dealers, n ? at[0] : 0, n ? at[(n - 1) / 2] : 0,
           n ? at[(n - 1) * 99 / 100] : 0, n ? at[n - 1] : 0);
    fflush(stdout);
    if (n < o->dealers)
        l->policy_missing += o->dealers - n;
    depot_free(at);
}

static int run(load *l)
{
    const load_opts *o = l->o;
    long opened = 0;
    long long t0 = depot_mono_ms(), misc_at = t0 + 1000, connected_ms = 0, start, end;
    unsigned long long lost = 0, doubled = 0, orders_missing = 0, orders_doubled = 0;
    unsigned long long moves_wrong = 0;
    long long upto, applied, orders;

    while (l->ready < o->dealers && depot_mono_ms() - t0 < 600000) {
        long due = (long)((depot_mono_ms() - t0) * o->connect_rate / 1000) + 1;
        while (opened < o->dealers && opened < due)
            if (open_dealer(l, opened++) < 0)
                lost_link(l, &l->d[opened - 1]);
        pump(l, opened, &misc_at);
        long gave_up = 0;
        for (long i = 0; i < opened; i++)
            gave_up += l->d[i].failed && l->d[i].attempts >= ATTEMPTS_MAX;
        if (gave_up && opened == o->dealers && l->ready + gave_up >= o->dealers)
            break;
    }
    connected_ms = depot_mono_ms() - t0;
    if (o->n_policy_ids) {
        printf("ready=%ld connect_seconds=%.2f\n", l->ready, connected_ms / 1000.0);
        fflush(stdout);
        for (int k = 0; k < o->n_policy_ids; k++)
            await_policy(l, k, opened, &misc_at);
    }
    start = depot_mono_ms();
    for (long i = 0; i < o->dealers; i++) { /* spread over one period */
        l->d[i].next_stock_ms = start + (o->stock_every_ms * i) / o->dealers;
        l->d[i].next_order_ms = start + (o->order_every_ms * i) / o->dealers;
        l->d[i].next_move_ms = start + (o->move_every_ms * i) / o->dealers;
    }
    while (!o->n_policy_ids && depot_mono_ms() - start < o->seconds * 1000) {
        traffic(l, true);
        pump(l, opened, &misc_at);
    }
    end = depot_mono_ms();
    while (!all_acked(l) && depot_mono_ms() - end < o->drain_s * 1000) {
        traffic(l, false);
        pump(l, opened, &misc_at);
    }
    for (long i = 0; i < o->dealers; i++) {
        dealer *d = &l->d[i];
        l->failed += !d->was_ready;
        if (!d->was_ready)
            continue;
        stream_of(o, d, &upto, &applied);
        if (d->sent == 0)
            continue;
        if (upto < (long long)d->sent || applied < (long long)d->sent)
            lost += d->sent - (applied > 0 ? (uint64_t)applied : 0);
        if (applied > (long long)d->sent)
            doubled += (unsigned long long)applied - d->sent;
        if (d->moves > 0 && picked_of(o, d) != d->moves)
            moves_wrong++; /* a batch refused, lost or counted twice */
        if (d->orders == 0)
            continue;
        orders = orders_of(o, d);
        if (orders < d->orders)
            orders_missing += (unsigned long long)(d->orders - (orders > 0 ? orders : 0));
        else
            orders_doubled += (unsigned long long)(orders - d->orders);
    }
    printf("dealers=%ld connected=%ld connect_seconds=%.2f sent=%llu resent=%llu acked=%llu "
           "lost=%llu doubled=%llu orders=%llu orders_missing=%llu orders_doubled=%llu "
           "movements=%llu movements_wrong=%llu reconnects=%llu policy_missing=%ld seconds=%.2f "
           "rate=%.1f/s\n",
           o->dealers, o->dealers - l->failed, connected_ms / 1000.0, l->sent, l->resent, l->acked,
           lost, doubled, l->orders, orders_missing, orders_doubled, l->moves, moves_wrong,
           l->reconnects, l->policy_missing, (end - start) / 1000.0,
           end > start ? l->sent * 1000.0 / (double)(end - start) : 0.0);
    return l->failed == 0 && l->policy_missing == 0 && lost == 0 && doubled == 0 &&
                   orders_missing == 0 && orders_doubled == 0 && moves_wrong == 0
               ? 0
               : 1;
}

int main(int argc, char **argv)
{
    load_opts o = {.host = "127.0.0.1",
                   .prefix = "L",
                   .barcode = "4006381333931",
                   .dealers = 100,
                   .seconds = 60,
                   .stock_every_ms = 10000,
                   .connect_rate = 500,
                   .window = 100,
                   .resend_s = 10,
                   .drain_s = 120,
                   .policy_wait_s = 600};
    load l = {.o = &o};
    int rc;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (issue_certs(&o) < 0)
        return 2;
    if (raise_fd_limit(o.dealers) < 0)
        return 2;
    mosquitto_lib_init();
    l.d = depot_calloc((size_t)o.dealers, sizeof(dealer));
    l.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!l.d || l.epfd < 0)
        return 2;
    rc = run(&l);
    for (long i = 0; i < o.dealers; i++)
        if (l.d[i].mosq) {
            mosquitto_disconnect(l.d[i].mosq);
            mosquitto_destroy(l.d[i].mosq);
        }
    depot_free(l.d);
    close(l.epfd);
    mosquitto_lib_cleanup();
    return rc;
}
