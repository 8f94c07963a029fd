/*
 * policy_fanout: the baseline of the policy push benchmark (bench_policy_push.py): the
 * broker's own fan-out of one policy to N dealers, with no hub.
 *
 * One MQTT v5 mutual-TLS connection with the hub's certificate (whose ACL may write every
 * dealer's down topics), as the hub has, publishes to each dealer's depot/v1/<id>/down/policy
 * a retained QoS 1 down/policy listing one policy (--policy, title and notice of the same
 * length as the benchmark's), encoded by the codec the hub uses, as fast as the broker takes
 * them (libmosquitto's own queue and in-flight window, the hub's settings). Dealers are the
 * ids dealer_load makes: for each PREFIX:COUNT of --groups, PREFIX00000 .. PREFIX<COUNT-1>.
 *
 * usage: policy_fanout --port P --ca CA --cert CRT --key KEY --groups L0:5000[,L1:5000..]
 *                      --policy ID [--host 127.0.0.1] [--timeout-s 300]
 * stdout, one line: "published=N acked=N seconds=S rate=R/s". Exit status 0 when the broker
 * acknowledged every publish within --timeout-s; 1 otherwise; 2 usage or setup error.
 */
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "depot/alloc.h"
#include "depot/clock.h"
#include "depot/msg.h"

#define GROUPS_MAX 8

typedef struct fanout {
    const char *host, *ca, *cert, *key, *groups;
    long port, policy, timeout_s;
    char prefix[GROUPS_MAX][16];
    long count[GROUPS_MAX];
    int n_groups;
    long published, acked;
    bool connected, failed;
} fanout;

static void usage(FILE *out)
{
    fputs("usage: policy_fanout --port P --ca CA --cert CRT --key KEY --groups L0:5000[,..]\n"
          "                     --policy ID [--host 127.0.0.1] [--timeout-s 300]\n"
          "One retained down/policy per dealer over one connection: the broker's fan-out.\n",
          out);
}

static int parse_groups(fanout *f)
{
    for (const char *p = f->groups; p && *p;) {
        const char *colon = strchr(p, ':');
        char *end;
        long n;
        size_t len = colon ? (size_t)(colon - p) : 0;
        if (!colon || len == 0 || len >= sizeof(f->prefix[0]) || f->n_groups == GROUPS_MAX)
            return -1;
        n = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || n < 1 || n > 100000 || (*end && *end != ','))
            return -1;
        memcpy(f->prefix[f->n_groups], p, len);
        f->prefix[f->n_groups][len] = '\0';
        if (!depot_id_valid(f->prefix[f->n_groups], 8))
            return -1;
        f->count[f->n_groups++] = n;
        p = *end ? end + 1 : end;
    }
    return f->n_groups ? 0 : -1;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    fanout *f = obj;
    (void)mosq;
    (void)flags;
    (void)props;
    if (rc != 0) {
        fprintf(stderr, "policy_fanout: refused: %s\n", mosquitto_reason_string(rc));
        f->failed = true;
        return;
    }
    f->connected = true;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc,
                       const mosquitto_property *props)
{
    fanout *f = obj;
    (void)mosq;
    (void)mid;
    (void)props;
    if (rc == 0)
        f->acked++;
    else
        f->failed = true;
}

static int publish_one(fanout *f, struct mosquitto *mosq, const char *dealer, long long now)
{
    struct depot_policy_item it = {.policy = f->policy};
    depot_msg m = {.v = DEPOT_MSG_VERSION, .type = DEPOT_MSG_POLICY, .ts = now};
    char topic[128], *payload = NULL;
    size_t len;
    depot_err err;
    int rc;
    snprintf(m.dealer, sizeof(m.dealer), "%s", dealer);
    snprintf(it.title, sizeof(it.title), "Spring promotion: 5 %% off pumps");
    snprintf(it.notice, sizeof(it.notice), "PROMO PUMPS -5%%");
    snprintf(it.valid_to, sizeof(it.valid_to), "2099-12-31");
    m.body.policy.items = &it;
    m.body.policy.n_items = 1;
    err = depot_topic_build(topic, sizeof(topic), dealer, depot_msg_topic_leaf(DEPOT_MSG_POLICY));
    if (err == DEPOT_OK)
        err = depot_msg_encode(&m, &payload, &len);
    if (err != DEPOT_OK)
        return fprintf(stderr, "policy_fanout: encode: %s\n", depot_strerror(err)), -1;
    rc = mosquitto_publish_v5(mosq, NULL, topic, (int)len, payload, 1, true, NULL);
    depot_free(payload);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int run(fanout *f, struct mosquitto *mosq)
{
    long long deadline = depot_mono_ms() + f->timeout_s * 1000, t0, t1;
    char dealer[64];
    while (!f->connected && !f->failed && depot_mono_ms() < deadline)
        if (mosquitto_loop(mosq, 100, 1) != MOSQ_ERR_SUCCESS)
            f->failed = true;
    if (!f->connected)
        return fprintf(stderr, "policy_fanout: not connected\n"), 2;
    t0 = depot_mono_ms();
    for (int g = 0; g < f->n_groups && !f->failed; g++)
        for (long i = 0; i < f->count[g] && !f->failed; i++) {
            snprintf(dealer, sizeof(dealer), "%s%05ld", f->prefix[g], i);
            if (strlen(dealer) > DEPOT_DEALER_MAX ||
                publish_one(f, mosq, dealer, depot_now_ms()) < 0)
                f->failed = true;
            else
                f->published++;
            if (mosquitto_loop(mosq, 0, 1) != MOSQ_ERR_SUCCESS) /* keep the queue moving */
                f->failed = true;
        }
    while (!f->failed && f->acked < f->published && depot_mono_ms() < deadline)
        if (mosquitto_loop(mosq, 100, 1) != MOSQ_ERR_SUCCESS)
            f->failed = true;
    t1 = depot_mono_ms();
    printf("published=%ld acked=%ld seconds=%.3f rate=%.1f/s\n", f->published, f->acked,
           (t1 - t0) / 1000.0, t1 > t0 ? f->acked * 1000.0 / (double)(t1 - t0) : 0.0);
    return !f->failed && f->acked == f->published ? 0 : 1;
}

int main(int argc, char **argv)
{
    fanout f = {.host = "127.0.0.1", .timeout_s = 300};
    const struct bench_opt table[] = {
        {"--host", &f.host, NULL, 0, 0},
        {"--ca", &f.ca, NULL, 0, 0},
        {"--cert", &f.cert, NULL, 0, 0},
        {"--key", &f.key, NULL, 0, 0},
        {"--groups", &f.groups, NULL, 0, 0},
        {"--port", NULL, &f.port, 1, 65535},
        {"--policy", NULL, &f.policy, 1, 2000000000},
        {"--timeout-s", NULL, &f.timeout_s, 1, 86400},
        {NULL, NULL, NULL, 0, 0},
    };
    struct mosquitto *mosq;
    int rc;
    if (bench_parse_opts("policy_fanout", argc, argv, table, usage) < 0)
        return 2;
    if (!f.port || !f.ca || !f.cert || !f.key || !f.policy || parse_groups(&f) < 0)
        return usage(stderr), 2;
    if (strncmp(f.host, "127.", 4) != 0)
        return fprintf(stderr, "policy_fanout: only 127.0.0.0/8 may be a target\n"), 2;
    mosquitto_lib_init();
    mosq = mosquitto_new(NULL, true, &f);
    if (!mosq)
        return 2;
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(mosq, on_connect);
    mosquitto_publish_v5_callback_set(mosq, on_publish);
    rc = mosquitto_tls_set(mosq, f.ca, NULL, f.cert, f.key, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect_bind_v5(mosq, f.host, (int)f.port, 60, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "policy_fanout: connect: %s\n", mosquitto_strerror(rc));
        rc = 2;
    } else {
        rc = run(&f, mosq);
    }
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    return rc;
}
