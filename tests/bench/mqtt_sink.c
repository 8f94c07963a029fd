/*
 * mqtt_sink: the bare libmosquitto subscriber the hub's ingest is measured
 * against. It does what a consumer cannot do less of: one MQTT v5
 * mutual-TLS connection, one subscription at QoS 1 (the hub's shared
 * subscription by default), every message received and counted; nothing
 * decoded, stored or acknowledged beyond the protocol's PUBACK.
 *
 *   mqtt_sink --port P --ca CA --cert CRT --key KEY --count N
 *             [--topic '$share/hub/depot/v1/+/up/#'] [--timeout-s 300] [--host 127.0.0.1]
 *
 * Prints "ready" once subscribed, then one line when N messages arrived (or
 * the timeout): "received=N seconds=S rate=R/s complete|incomplete", the
 * seconds counted from the first message to the Nth. Exit status: 0 all N,
 * 1 not within the timeout, 2 usage or setup error.
 */
#include <errno.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

typedef struct sink {
    const char *host, *ca, *cert, *key, *topic;
    long port, count, timeout_s;
    bool subscribed, failed;
    long received;
    long long first_ns, last_ns;
} sink;

static void usage(FILE *out)
{
    fputs("usage: mqtt_sink --port P --ca CA --cert CRT --key KEY --count N\n"
          "                 [--topic '$share/hub/depot/v1/+/up/#'] [--timeout-s 300]\n"
          "                 [--host 127.0.0.1]\n"
          "Counts the messages of one QoS 1 subscription; prints\n"
          "'received=N seconds=S rate=R/s complete|incomplete'.\n",
          out);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
    sink *s = obj;
    (void)flags;
    (void)props;
    if (rc != 0 || mosquitto_subscribe_v5(mosq, NULL, s->topic, 1, 0, NULL) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqtt_sink: connect or subscribe refused: %s\n",
                mosquitto_reason_string(rc));
        s->failed = true;
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
                         const int *granted, const mosquitto_property *props)
{
    sink *s = obj;
    (void)mosq;
    (void)mid;
    (void)props;
    s->subscribed = qos_count == 1 && granted[0] <= 2;
    s->failed = !s->subscribed;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    sink *s = obj;
    (void)mosq;
    (void)msg;
    (void)props;
    s->last_ns = bench_mono_ns();
    if (s->received++ == 0)
        s->first_ns = s->last_ns;
}

static struct mosquitto *connect_sink(sink *s)
{
    char id[64];
    struct mosquitto *mosq;
    int rc;
    snprintf(id, sizeof(id), "bench-sink-%ld", (long)getpid());
    mosq = mosquitto_new(id, true, s);
    if (!mosq)
        return NULL;
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    rc = mosquitto_tls_set(mosq, s->ca, NULL, s->cert, s->key, NULL);
    mosquitto_connect_v5_callback_set(mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(mosq, on_subscribe);
    mosquitto_message_v5_callback_set(mosq, on_message);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_connect(mosq, s->host, (int)s->port, 30);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqtt_sink: %s:%ld: %s\n", s->host, s->port,
                rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        mosquitto_destroy(mosq);
        return NULL;
    }
    return mosq;
}

/* Runs the network until the subscription is granted, then until count messages or the deadline. */
static int run(sink *s, struct mosquitto *mosq, long long deadline_ns)
{
    bool said_ready = false;
    while (s->received < s->count && bench_mono_ns() < deadline_ns) {
        int rc = mosquitto_loop(mosq, 100, 1);
        if (rc != MOSQ_ERR_SUCCESS || s->failed)
            return fprintf(stderr, "mqtt_sink: link: %s\n",
                           s->failed ? "refused" : mosquitto_strerror(rc)),
                   -1;
        if (s->subscribed && !said_ready) {
            printf("ready\n");
            fflush(stdout);
            said_ready = true;
        }
    }
    return s->received >= s->count ? 0 : -1;
}

int main(int argc, char **argv)
{
    sink s = {.host = "127.0.0.1", .topic = "$share/hub/depot/v1/+/up/#", .timeout_s = 300};
    const struct bench_opt table[] = {
        {"--host", &s.host, NULL, 0, 0},
        {"--ca", &s.ca, NULL, 0, 0},
        {"--cert", &s.cert, NULL, 0, 0},
        {"--key", &s.key, NULL, 0, 0},
        {"--topic", &s.topic, NULL, 0, 0},
        {"--port", NULL, &s.port, 1, 65535},
        {"--count", NULL, &s.count, 1, 100000000},
        {"--timeout-s", NULL, &s.timeout_s, 1, 3600},
        {NULL, NULL, NULL, 0, 0},
    };
    struct mosquitto *mosq;
    int rc;
    if (bench_parse_opts("mqtt_sink", argc, argv, table, usage) < 0)
        return 2;
    if (!s.port || !s.ca || !s.cert || !s.key || !s.count)
        return usage(stderr), 2;
    if (strncmp(s.host, "127.", 4) != 0)
        return fprintf(stderr, "mqtt_sink: only 127.0.0.0/8 may be a target\n"), 2;
    mosquitto_lib_init();
    mosq = connect_sink(&s);
    if (!mosq) {
        mosquitto_lib_cleanup();
        return 2;
    }
    rc = run(&s, mosq, bench_mono_ns() + (long long)s.timeout_s * 1000000000LL) == 0 ? 0 : 1;
    double secs = s.received > 1 ? (double)(s.last_ns - s.first_ns) / 1e9 : 0.0;
    printf("received=%ld seconds=%.3f rate=%.0f/s %s\n", s.received, secs,
           secs > 0 ? (double)(s.received - 1) / secs : 0.0, rc == 0 ? "complete" : "incomplete");
    mosquitto_disconnect(mosq);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    return rc;
}
