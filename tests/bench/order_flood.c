/*
 * order_flood: D dealers' gateways sending signed orders to the hub at once,
 * for the approval-throughput benchmark.
 *
 * Each dealer is its own MQTT v5 mutual-TLS connection with its own gateway
 * certificate (client id gw-<dealer>, the broker's ACL for that dealer), as
 * D real gateways would be. Before anything is sent, every order is signed:
 * for each dealer, --per-dealer order documents (depot_order_doc_encode,
 * order id "<ledger>-<number>", --lines lines over the --barcodes given, qty
 * 1) signed with the dealer's key (pki_signer_sign, the gateway's code path,
 * DER base64). Then each dealer's retained online state, and the orders,
 * dealer after dealer, each a stream message (depot_msg_encode, ids from 1 in
 * the dealer's random ledger) on depot/v1/<dealer>/up/order.
 *
 * Pacing is the gateway's: at most --window stream messages in flight over
 * all dealers (published, not yet covered by the hub's down/ack); when acks
 * stall for --resend-s, every unacknowledged message is sent again. A final
 * decision (approved or rejected) on down/decision is confirmed as a gateway
 * does, by the stream event {"event":"decided","reason":"<order id>"}, so the
 * hub stops repeating it. Keys and certificates: DIR/gw-<dealer>/gateway.key
 * and gateway.crt (tests/system/broker.py enroll_dealer), dealers D000...
 *
 * usage: order_flood --port P --ca CA --dir DIR [--dealers 100] [--per-dealer 50]
 *                    [--lines 3] --barcodes B1,B2,... [--window 1000]
 *                    [--resend-s 10] [--timeout-s 300]
 * stdout: "signed=N sign_seconds=S sign_rate=R/s" after signing, "ready" once
 * every connection is subscribed, then one line "orders=N published=P
 * resent=R acked=A approved=A rejected=J pending=W seconds=S rate=R/s
 * p50_ms= p90_ms= p99_ms= max_ms= complete|incomplete", the rate over every
 * decision (the orchestrator measures the steady rate at the hub) and the
 * latency from an order's publish to its final decision at the "gateway". Exit status: 0 every
 * order decided and every message acknowledged, 1 not within --timeout-s or a link failed, 2 usage
 * or setup error.
 */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/msg.h"
#include "depot/pki.h"

#define MAX_DEALERS 1000
#define MAX_PER_DEALER 100000
#define MAX_BARCODES 32
#define POLL_MS 10

typedef struct flood_opts {
    const char *host, *ca, *dir;
    char *barcodes[MAX_BARCODES];
    long n_barcodes;
    long port, dealers, per_dealer, lines, window, resend_s, timeout_s;
} flood_opts;

struct flood;

typedef struct dealer {
    struct flood *f;
    char id[DEPOT_DEALER_MAX + 1];
    char ledger[DEPOT_LEDGER_HEX + 1];
    char *cert_pem;
    struct mosquitto *mosq;
    bool connected, subscribed;
    char **docs, **sigs;     /* per order, signed before the run */
    long long *sent_ms;      /* per order: first publish */
    long long *decided_ms;   /* per order: final decision received */
    long *kinds;             /* per stream id (1..): order index, or -(index+1) for "decided" */
    uint64_t next_id, acked; /* highest id assigned, the hub's upto */
    long next_order;         /* orders published so far */
    long *confirm;           /* orders whose "decided" event waits to be published */
    long n_confirm;
} dealer;

typedef struct flood {
    const flood_opts *o;
    dealer *d;
    bool failed;
    unsigned long long published, resent, acked, in_flight;
    long long approved, rejected, pending, decided, total;
    long long start_ms, last_progress_ms;
    long long *decided_at; /* decision times in order of arrival */
} flood;

static void usage(FILE *out)
{
    fputs("usage: order_flood --port P --ca CA --dir DIR --barcodes B1,B2,... [--dealers 100]\n"
          "                   [--per-dealer 50] [--lines 3] [--window 1000] [--resend-s 10]\n"
          "                   [--timeout-s 300] [--host 127.0.0.1]\n"
          "D dealers (D000.., keys in DIR/gw-<dealer>/gateway.{key,crt}) each on its own\n"
          "mutual-TLS connection publish pre-signed orders to the hub, paced by its acks,\n"
          "and confirm each decision; prints 'orders= ... rate= p99_ms= ...'.\n",
          out);
}

static int split_barcodes(flood_opts *o, char *list)
{
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->n_barcodes == MAX_BARCODES || strlen(t) > DEPOT_BARCODE_LEN)
            return -1;
        o->barcodes[o->n_barcodes++] = t;
    }
    return o->n_barcodes > 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, flood_opts *o)
{
    const char *barcodes = NULL;
    const struct bench_opt table[] = {
        {"--host", &o->host, NULL, 0, 0},
        {"--ca", &o->ca, NULL, 0, 0},
        {"--dir", &o->dir, NULL, 0, 0},
        {"--barcodes", &barcodes, NULL, 0, 0},
        {"--port", NULL, &o->port, 1, 65535},
        {"--dealers", NULL, &o->dealers, 1, MAX_DEALERS},
        {"--per-dealer", NULL, &o->per_dealer, 1, MAX_PER_DEALER},
        {"--lines", NULL, &o->lines, 1, DEPOT_ORDER_LINES_MAX},
        {"--window", NULL, &o->window, 1, 40000}, /* below the hub's ingest queue */
        {"--resend-s", NULL, &o->resend_s, 1, 600},
        {"--timeout-s", NULL, &o->timeout_s, 1, 3600},
        {NULL, NULL, NULL, 0, 0},
    };
    if (bench_parse_opts("order_flood", argc, argv, table, usage) < 0)
        return -1;
    /* the list is split in place: it is argv's own (writable) storage */
    if (barcodes && split_barcodes(o, (char *)barcodes) < 0)
        return fprintf(stderr, "order_flood: bad --barcodes\n"), -1;
    if (o->port == 0 || !o->ca || !o->dir || o->n_barcodes == 0)
        return usage(stderr), -1;
    if (strncmp(o->host, "127.", 4) != 0)
        return fprintf(stderr, "order_flood: only 127.0.0.0/8 may be a target\n"), -1;
    return 0;
}

/* ---- signing, before the clock starts ---- */

/* "<ledger>-<number>", the gateway's order id (at most DEPOT_ORDER_ID_MAX characters). */
static void order_id(const dealer *d, long i, char *out, size_t size)
{
    char id[96];
    snprintf(id, sizeof(id), "%s-%ld", d->ledger, i + 1);
    snprintf(out, size, "%.*s", DEPOT_ORDER_ID_MAX, id);
}

static int sign_order(dealer *d, pki_signer *signer, long i)
{
    const flood_opts *o = d->f->o;
    depot_order_doc doc = {.number = i + 1, .created = depot_now_ms(), .n_lines = (size_t)o->lines};
    unsigned char sig[PKI_SIG_MAX];
    size_t len, sig_len;
    order_id(d, i, doc.order, sizeof(doc.order));
    snprintf(doc.dealer, sizeof(doc.dealer), "%s", d->id);
    snprintf(doc.terminal, sizeof(doc.terminal), "scan-1");
    for (long l = 0; l < o->lines; l++) {
        snprintf(doc.lines[l].barcode, sizeof(doc.lines[l].barcode), "%s",
                 o->barcodes[(i + l) % o->n_barcodes]);
        doc.lines[l].qty = 1;
    }
    d->sigs[i] = depot_malloc(PKI_SIG_B64_SIZE);
    if (d->sigs[i] == NULL || depot_order_doc_encode(&doc, &d->docs[i], &len) != DEPOT_OK ||
        pki_signer_sign(signer, d->docs[i], len, sig, sizeof(sig), &sig_len) != DEPOT_OK ||
        pki_base64_encode(sig, sig_len, d->sigs[i], PKI_SIG_B64_SIZE, &len) != DEPOT_OK)
        return -1;
    return 0;
}

static int prepare_dealer(flood *f, dealer *d, long k, unsigned long long run_id)
{
    const flood_opts *o = f->o;
    char path[4096];
    pki_signer *signer = NULL;
    size_t n = (size_t)o->per_dealer;
    d->f = f;
    snprintf(d->id, sizeof(d->id), "D%03ld", k);
    snprintf(d->ledger, sizeof(d->ledger), "%016llx%016llx", run_id, (unsigned long long)k);
    d->docs = depot_calloc(n, sizeof(char *));
    d->sigs = depot_calloc(n, sizeof(char *));
    d->sent_ms = depot_calloc(n, sizeof(long long));
    d->decided_ms = depot_calloc(n, sizeof(long long));
    d->kinds = depot_calloc(2 * n + 2, sizeof(long));
    d->confirm = depot_calloc(n, sizeof(long));
    if (!d->docs || !d->sigs || !d->sent_ms || !d->decided_ms || !d->kinds || !d->confirm)
        return -1;
    snprintf(path, sizeof(path), "%s/gw-%s/gateway.crt", o->dir, d->id);
    if (pki_read_file(path, DEPOT_CERT_PEM_MAX, &d->cert_pem, NULL) != DEPOT_OK)
        return fprintf(stderr, "order_flood: cannot read %s\n", path), -1;
    snprintf(path, sizeof(path), "%s/gw-%s/gateway.key", o->dir, d->id);
    if (pki_signer_open(&signer, path) != DEPOT_OK)
        return fprintf(stderr, "order_flood: cannot open the key %s\n", path), -1;
    int rc = 0;
    for (long i = 0; i < o->per_dealer && rc == 0; i++)
        rc = sign_order(d, signer, i);
    pki_signer_free(signer);
    return rc;
}

static void dealer_free(dealer *d)
{
    for (long i = 0; d->docs && i < d->f->o->per_dealer; i++) {
        depot_free(d->docs[i]);
        depot_free(d->sigs[i]);
    }
    if (d->mosq)
        mosquitto_destroy(d->mosq);
    depot_free(d->docs);
    depot_free(d->sigs);
    depot_free(d->sent_ms);
    depot_free(d->decided_ms);
    depot_free(d->kinds);
    depot_free(d->confirm);
    depot_free(d->cert_pem);
}

/* ---- publishing ---- */

static int publish_msg(dealer *d, const depot_msg *m, bool retain)
{
    char topic[128], *payload = NULL;
    size_t len = 0;
    depot_err err = depot_topic_build(topic, sizeof(topic), d->id, depot_msg_topic_leaf(m->type));
    if (err == DEPOT_OK)
        err = depot_msg_encode(m, &payload, &len);
    if (err != DEPOT_OK)
        return fprintf(stderr, "order_flood: encode: %s\n", depot_strerror(err)), -1;
    int rc = mosquitto_publish_v5(d->mosq, NULL, topic, (int)len, payload, 1, retain, NULL);
    depot_free(payload);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "order_flood: publish %s: %s\n", topic, mosquitto_strerror(rc)), -1;
    return 0;
}

static void envelope(const dealer *d, depot_msg *m, depot_msg_type type, uint64_t id)
{
    memset(m, 0, sizeof(*m));
    m->v = DEPOT_MSG_VERSION;
    m->type = type;
    m->ts = depot_now_ms();
    snprintf(m->dealer, sizeof(m->dealer), "%s", d->id);
    snprintf(m->ledger, sizeof(m->ledger), "%s", d->ledger);
    m->id = id;
    m->base = d->acked + 1;
}

/* Stream message `id` of dealer d, as recorded in d->kinds. */
static int publish_stream(dealer *d, uint64_t id)
{
    depot_msg m;
    long k = d->kinds[id];
    if (k >= 0) {
        envelope(d, &m, DEPOT_MSG_ORDER, id);
        m.body.order.doc = d->docs[k];
        m.body.order.sig = d->sigs[k];
        m.body.order.cert = d->cert_pem;
    } else {
        long i = -k - 1;
        envelope(d, &m, DEPOT_MSG_EVENT, id);
        snprintf(m.body.event.node, sizeof(m.body.event.node), "scan-1");
        snprintf(m.body.event.event, sizeof(m.body.event.event), "decided");
        order_id(d, i, m.body.event.reason, sizeof(m.body.event.reason));
        m.body.event.count = i + 1;
    }
    return publish_msg(d, &m, false);
}

static int publish_new(dealer *d, long kind)
{
    uint64_t id = ++d->next_id;
    d->kinds[id] = kind;
    if (publish_stream(d, id) < 0)
        return -1;
    d->f->published++;
    d->f->in_flight++;
    return 0;
}

static int publish_state(dealer *d)
{
    depot_msg m;
    envelope(d, &m, DEPOT_MSG_STATE, 0);
    m.base = 0;
    m.body.state.online = true;
    m.body.state.session = m.ts;
    return publish_msg(d, &m, true);
}

/* ---- callbacks ---- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    dealer *d = obj;
    char topic[96];
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "order_flood: broker refused %s: %s\n", d->id, mosquitto_reason_string(rc));
        d->f->failed = true;
        return;
    }
    d->connected = true;
    snprintf(topic, sizeof(topic), "depot/v1/%s/down/#", d->id);
    if (mosquitto_subscribe_v5(mosq, NULL, topic, 1, 0, NULL) != MOSQ_ERR_SUCCESS)
        d->f->failed = true;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
                         const int *granted, const mosquitto_property *props)
{
    dealer *d = obj;
    (void)mosq;
    (void)mid;
    (void)props;
    d->subscribed = qos_count == 1 && granted[0] <= 2;
    if (!d->subscribed)
        d->f->failed = true;
}

static void on_ack(dealer *d, const depot_msg *m)
{
    flood *f = d->f;
    uint64_t upto = m->body.ack.upto < d->next_id ? m->body.ack.upto : d->next_id;
    if (strcmp(m->ledger, d->ledger) == 0 && upto > d->acked) {
        f->acked += upto - d->acked;
        f->in_flight -= upto - d->acked;
        d->acked = upto;
        f->last_progress_ms = depot_mono_ms();
    }
}

static void on_decision(dealer *d, const depot_msg *m)
{
    flood *f = d->f;
    const struct depot_decision_body *b = &m->body.decision;
    long i = (long)b->number - 1;
    bool final = strcmp(b->status, "approved") == 0 || strcmp(b->status, "rejected") == 0;
    if (strcmp(m->ledger, d->ledger) != 0 || i < 0 || i >= d->next_order)
        return;
    if (!final) {
        f->pending++;
        return;
    }
    if (d->decided_ms[i] != 0)
        return; /* a repeat */
    d->decided_ms[i] = depot_mono_ms();
    f->decided_at[f->decided++] = d->decided_ms[i];
    if (b->status[0] == 'a')
        f->approved++;
    else
        f->rejected++;
    d->confirm[d->n_confirm++] = i;
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
    if (m.type == DEPOT_MSG_ACK)
        on_ack(d, &m);
    else if (m.type == DEPOT_MSG_DECISION)
        on_decision(d, &m);
    depot_msg_clear(&m);
}

/* ---- the network, one thread, poll() over every connection ---- */

static int connect_dealer(flood *f, dealer *d)
{
    const flood_opts *o = f->o;
    char id[64], crt[4096], key[4096];
    snprintf(id, sizeof(id), "gw-%s", d->id);
    snprintf(crt, sizeof(crt), "%s/gw-%s/gateway.crt", o->dir, d->id);
    snprintf(key, sizeof(key), "%s/gw-%s/gateway.key", o->dir, d->id);
    d->mosq = mosquitto_new(id, true, d);
    if (d->mosq == NULL)
        return -1;
    mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    int rc = mosquitto_tls_set(d->mosq, o->ca, NULL, crt, key, NULL);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "order_flood: tls %s: %s\n", d->id, mosquitto_strerror(rc)), -1;
    mosquitto_connect_v5_callback_set(d->mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(d->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(d->mosq, on_message);
    rc = mosquitto_connect(d->mosq, o->host, (int)o->port, 60);
    if (rc != MOSQ_ERR_SUCCESS)
        return fprintf(stderr, "order_flood: connect %s: %s\n", d->id,
                       rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc)),
               -1;
    return 0;
}

/* One poll() over every connection, then reads, writes and keepalives. */
static int pump(flood *f, int timeout_ms)
{
    static struct pollfd pfd[MAX_DEALERS];
    long n = f->o->dealers;
    for (long k = 0; k < n; k++) {
        pfd[k].fd = mosquitto_socket(f->d[k].mosq);
        pfd[k].events = (short)(POLLIN | (mosquitto_want_write(f->d[k].mosq) ? POLLOUT : 0));
        pfd[k].revents = 0;
    }
    if (poll(pfd, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
        return -1;
    for (long k = 0; k < n; k++) {
        struct mosquitto *m = f->d[k].mosq;
        int rc = MOSQ_ERR_SUCCESS;
        if (pfd[k].revents & (POLLIN | POLLERR | POLLHUP))
            rc = mosquitto_loop_read(m, 1);
        if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m))
            rc = mosquitto_loop_write(m, 1);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_loop_misc(m);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "order_flood: link of %s: %s\n", f->d[k].id,
                    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
            return -1;
        }
    }
    return f->failed ? -1 : 0;
}

static bool all_subscribed(const flood *f)
{
    for (long k = 0; k < f->o->dealers; k++)
        if (!f->d[k].subscribed)
            return false;
    return true;
}

static bool finished(const flood *f)
{
    return f->decided == f->total && f->in_flight == 0;
}

/* Every dealer's unacknowledged stream messages, again. */
static int resend(flood *f)
{
    for (long k = 0; k < f->o->dealers; k++) {
        dealer *d = &f->d[k];
        for (uint64_t id = d->acked + 1; id <= d->next_id; id++) {
            if (publish_stream(d, id) < 0)
                return -1;
            f->resent++;
        }
    }
    f->last_progress_ms = depot_mono_ms();
    return 0;
}

/* Confirmations first (never held back), then new orders round robin in the window. */
static int feed(flood *f, long *rr)
{
    long n = f->o->dealers;
    for (long k = 0; k < n; k++) {
        dealer *d = &f->d[k];
        for (long c = 0; c < d->n_confirm; c++)
            if (publish_new(d, -(d->confirm[c] + 1)) < 0)
                return -1;
        d->n_confirm = 0;
    }
    for (long tries = 0; tries < n && f->in_flight < (unsigned long long)f->o->window;) {
        dealer *d = &f->d[*rr];
        *rr = (*rr + 1) % n;
        if (d->next_order >= f->o->per_dealer) {
            tries++;
            continue;
        }
        tries = 0;
        d->sent_ms[d->next_order] = depot_mono_ms();
        if (publish_new(d, d->next_order++) < 0)
            return -1;
    }
    return 0;
}

static int run(flood *f, long long deadline)
{
    long rr = 0;
    for (long k = 0; k < f->o->dealers; k++)
        if (publish_state(&f->d[k]) < 0)
            return -1;
    f->start_ms = f->last_progress_ms = depot_mono_ms();
    while (!finished(f) && depot_mono_ms() < deadline) {
        if (feed(f, &rr) < 0 || pump(f, POLL_MS) < 0)
            return -1;
        if (f->in_flight > 0 && depot_mono_ms() - f->last_progress_ms > f->o->resend_s * 1000 &&
            resend(f) < 0)
            return -1;
    }
    return finished(f) ? 0 : -1;
}

/* ---- figures ---- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void report(const flood *f, int rc)
{
    long long n = f->decided, *lat = depot_calloc((size_t)(n ? n : 1), sizeof(long long));
    long long m = 0, end = n ? f->decided_at[n - 1] : depot_mono_ms();
    double secs = (double)(end - f->start_ms) / 1000.0;
    for (long k = 0; lat && k < f->o->dealers; k++)
        for (long i = 0; i < f->d[k].next_order; i++)
            if (f->d[k].decided_ms[i])
                lat[m++] = f->d[k].decided_ms[i] - f->d[k].sent_ms[i];
    if (lat)
        qsort(lat, (size_t)m, sizeof(long long), cmp_ll);
#define PCT(p) (m ? lat[(m - 1) * (p) / 100] : 0)
    printf("orders=%lld published=%llu resent=%llu acked=%llu approved=%lld rejected=%lld "
           "pending=%lld seconds=%.2f rate=%.1f/s p50_ms=%lld p90_ms=%lld "
           "p99_ms=%lld max_ms=%lld %s\n",
           f->total, f->published, f->resent, f->acked, f->approved, f->rejected, f->pending, secs,
           secs > 0 ? (double)n / secs : 0, PCT(50), PCT(90), PCT(99), m ? lat[m - 1] : 0,
           rc == 0 ? "complete" : "incomplete");
#undef PCT
    depot_free(lat);
}

int main(int argc, char **argv)
{
    flood_opts o = {.host = "127.0.0.1",
                    .dealers = 100,
                    .per_dealer = 50,
                    .lines = 3,
                    .window = 1000,
                    .resend_s = 10,
                    .timeout_s = 300};
    flood f = {.o = &o};
    unsigned long long run_id;
    int rc = 2;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    depot_log_init("order_flood", DEPOT_LOG_WARN);
    mosquitto_lib_init();
    f.total = o.dealers * o.per_dealer;
    f.d = depot_calloc((size_t)o.dealers, sizeof(dealer));
    f.decided_at = depot_calloc((size_t)f.total, sizeof(long long));
    if (f.d == NULL || f.decided_at == NULL ||
        getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id))
        goto out;
    long long t0 = depot_mono_ms();
    for (long k = 0; k < o.dealers; k++)
        if (prepare_dealer(&f, &f.d[k], k, run_id) < 0)
            goto out;
    double sign_s = (double)(depot_mono_ms() - t0) / 1000.0;
    printf("signed=%lld sign_seconds=%.2f sign_rate=%.0f/s\n", f.total, sign_s,
           sign_s > 0 ? (double)f.total / sign_s : 0);
    fflush(stdout);
    long long deadline = depot_mono_ms() + o.timeout_s * 1000;
    for (long k = 0; k < o.dealers; k++)
        if (connect_dealer(&f, &f.d[k]) < 0)
            goto out;
    while (!all_subscribed(&f) && depot_mono_ms() < deadline)
        if (pump(&f, POLL_MS) < 0)
            goto out;
    if (!all_subscribed(&f))
        goto out;
    printf("ready dealers=%ld\n", o.dealers);
    fflush(stdout);
    rc = run(&f, deadline) == 0 ? 0 : 1;
    report(&f, rc);
    for (long k = 0; k < o.dealers; k++)
        mosquitto_disconnect(f.d[k].mosq);
out:
    if (rc == 2)
        fprintf(stderr, "order_flood: setup failed\n");
    for (long k = 0; f.d && k < o.dealers; k++)
        if (f.d[k].f)
            dealer_free(&f.d[k]);
    depot_free(f.d);
    depot_free(f.decided_at);
    mosquitto_lib_cleanup();
    return rc;
}
