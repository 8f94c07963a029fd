/*
 * acl_probe: one dealer's certificate trying, N times, to reach another
 * dealer's topics through the broker (MQTT v5 over mutual TLS, libmosquitto):
 * QoS 1 publishes under the victim's uplink, state and downlink (and a v2
 * prefix), subscriptions to the victim's and everyone's topics with +, # and
 * $share, from connections that ask for forged client ids (the victim's,
 * "+", "#", "B/#", the hub's "hub", random). It counts what the broker took:
 * a PUBACK below 0x80, a message delivered to it; and the SUBACKs granting a
 * QoS (Mosquitto grants and checks read access when it delivers).
 *
 *   acl_probe --port P --ca CA --cert A.crt --key A.key --victim B --attempts N
 *             [--linger-ms MS]
 *
 * Prints one line: "attempts N publishes P accepted X subscribes S granted Y
 * received Z reconnects R" and exits 0 when it could make every attempt (the
 * test judges the counts; the victim-side proof is the test's subscriber).
 * Every wait is bounded.
 */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PER_CONNECTION 500
#define WAIT_MS 10000

struct probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int connected; /* 0 waiting, 1 up, -1 refused */
    long sent_pub, sent_sub, done_pub, done_sub;
    long accepted, granted, received;
};

static struct probe pr = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *u, int rc, int flags, const mosquitto_property *p)
{
    (void)m, (void)u, (void)flags, (void)p;
    pthread_mutex_lock(&pr.mu);
    pr.connected = rc == 0 ? 1 : -1;
    pthread_cond_broadcast(&pr.cv);
    pthread_mutex_unlock(&pr.mu);
}

static void on_publish(struct mosquitto *m, void *u, int mid, int reason,
                       const mosquitto_property *p)
{
    (void)m, (void)u, (void)mid, (void)p;
    pthread_mutex_lock(&pr.mu);
    pr.done_pub++;
    if (reason < 0x80)
        pr.accepted++;
    pthread_cond_broadcast(&pr.cv);
    pthread_mutex_unlock(&pr.mu);
}

static void on_subscribe(struct mosquitto *m, void *u, int mid, int n, const int *granted,
                         const mosquitto_property *p)
{
    (void)m, (void)u, (void)mid, (void)p;
    pthread_mutex_lock(&pr.mu);
    pr.done_sub++;
    for (int i = 0; i < n; i++)
        if (granted[i] < 0x80)
            pr.granted++;
    pthread_cond_broadcast(&pr.cv);
    pthread_mutex_unlock(&pr.mu);
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg,
                       const mosquitto_property *p)
{
    (void)m, (void)u, (void)p;
    pthread_mutex_lock(&pr.mu);
    pr.received++;
    fprintf(stderr, "acl_probe: delivered to the prober: %s\n", msg->topic);
    pthread_mutex_unlock(&pr.mu);
}

static int is_connected(void)
{
    return pr.connected != 0;
}

static int all_answered(void)
{
    return pr.done_pub >= pr.sent_pub && pr.done_sub >= pr.sent_sub;
}

static int never(void)
{
    return 0;
}

/* Waits (bounded) until cond() holds, the mutex held while it is read; 0, or -1 at the deadline. */
static int wait_until(int (*cond)(void), long long deadline)
{
    int ok;
    pthread_mutex_lock(&pr.mu);
    while (!cond() && now_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pr.cv, &pr.mu, &ts);
    }
    ok = cond() ? 0 : -1;
    pthread_mutex_unlock(&pr.mu);
    return ok;
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    const char *ca = arg(argc, argv, "--ca", NULL), *cert = arg(argc, argv, "--cert", NULL);
    const char *key = arg(argc, argv, "--key", NULL), *victim = arg(argc, argv, "--victim", NULL);
    int port = atoi(arg(argc, argv, "--port", "0"));
    long attempts = atol(arg(argc, argv, "--attempts", "10000"));
    long linger = atol(arg(argc, argv, "--linger-ms", "500"));
    const char *ids[] = {NULL, "+", "#", NULL, "hub", "gw-%s", "%s/#"};
    char pubs[8][160], subs[12][160], idbuf[96];
    long made = 0, reconnects = 0;

    if (!ca || !cert || !key || !victim || port <= 0 || attempts <= 0) {
        fprintf(stderr, "usage: acl_probe --port P --ca CA --cert CRT --key KEY --victim D "
                        "--attempts N [--linger-ms MS]\n");
        return 2;
    }
    snprintf(pubs[0], sizeof(pubs[0]), "depot/v1/%s/up/stock", victim);
    snprintf(pubs[1], sizeof(pubs[1]), "depot/v1/%s/up/order", victim);
    snprintf(pubs[2], sizeof(pubs[2]), "depot/v1/%s/state", victim);
    snprintf(pubs[3], sizeof(pubs[3]), "depot/v1/%s/down/ack", victim);
    snprintf(pubs[4], sizeof(pubs[4]), "depot/v1/%s/down/decided", victim);
    snprintf(pubs[5], sizeof(pubs[5]), "depot/v1/%s", victim);
    snprintf(pubs[6], sizeof(pubs[6]), "depot/v1/%s/up/stock/x", victim);
    snprintf(pubs[7], sizeof(pubs[7]), "depot/v2/%s/up/stock", victim);
    snprintf(subs[0], sizeof(subs[0]), "depot/v1/%s/#", victim);
    snprintf(subs[1], sizeof(subs[1]), "depot/v1/%s/up/#", victim);
    snprintf(subs[2], sizeof(subs[2]), "depot/v1/%s/down/#", victim);
    snprintf(subs[3], sizeof(subs[3]), "depot/v1/+/up/#");
    snprintf(subs[4], sizeof(subs[4]), "depot/v1/+/down/#");
    snprintf(subs[5], sizeof(subs[5]), "depot/v1/#");
    snprintf(subs[6], sizeof(subs[6]), "#");
    snprintf(subs[7], sizeof(subs[7]), "+/+/+/#");
    snprintf(subs[8], sizeof(subs[8]), "$share/hub/depot/v1/+/up/#");
    snprintf(subs[9], sizeof(subs[9]), "$share/x/depot/v1/%s/#", victim);
    snprintf(subs[10], sizeof(subs[10]), "depot/v1/+/state");
    snprintf(subs[11], sizeof(subs[11]), "depot/v1/%s/state", victim);

    mosquitto_lib_init();
    while (made < attempts) {
        const char *id = ids[reconnects % (sizeof(ids) / sizeof(ids[0]))];
        struct mosquitto *m;
        long long deadline;
        long batch;
        if (id && strchr(id, '%'))
            snprintf(idbuf, sizeof(idbuf), id, victim);
        else
            snprintf(idbuf, sizeof(idbuf), "%s", id ? id : victim);
        m = mosquitto_new(reconnects % 7 == 0 ? NULL : idbuf, true, NULL);
        if (!m) {
            fprintf(stderr, "acl_probe: no client for id %s\n", idbuf);
            return 1;
        }
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
        mosquitto_connect_v5_callback_set(m, on_connect);
        mosquitto_publish_v5_callback_set(m, on_publish);
        mosquitto_subscribe_v5_callback_set(m, on_subscribe);
        mosquitto_message_v5_callback_set(m, on_message);
        pthread_mutex_lock(&pr.mu);
        pr.connected = 0; /* before the connect: its callback may come at once */
        pthread_mutex_unlock(&pr.mu);
        if (mosquitto_tls_set(m, ca, NULL, cert, key, NULL) != MOSQ_ERR_SUCCESS ||
            mosquitto_connect_bind_v5(m, "127.0.0.1", port, 30, NULL, NULL) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "acl_probe: cannot connect to 127.0.0.1:%d\n", port);
            return 1;
        }
        if (wait_until(is_connected, now_ms() + WAIT_MS) != 0 || pr.connected < 0) {
            fprintf(stderr, "acl_probe: the broker did not take the connection\n");
            return 1;
        }
        reconnects++;
        batch = attempts - made < PER_CONNECTION ? attempts - made : PER_CONNECTION;
        for (long i = 0; i < batch; i++, made++) {
            int rc;
            if (made % 3 == 2) {
                rc = mosquitto_subscribe_v5(m, NULL, subs[(made / 3) % 12], 1, 0, NULL);
                pthread_mutex_lock(&pr.mu);
                pr.sent_sub += rc == MOSQ_ERR_SUCCESS;
                pthread_mutex_unlock(&pr.mu);
            } else {
                char payload[96];
                snprintf(payload, sizeof(payload), "{\"forged\":%ld}", made);
                rc = mosquitto_publish_v5(m, NULL, pubs[made % 8], (int)strlen(payload), payload, 1,
                                          false, NULL);
                pthread_mutex_lock(&pr.mu);
                pr.sent_pub += rc == MOSQ_ERR_SUCCESS;
                pthread_mutex_unlock(&pr.mu);
            }
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "acl_probe: the connection broke: %s\n", mosquitto_strerror(rc));
                return 1;
            }
            if (i % 50 == 49) /* stay within the broker's in-flight window */
                (void)wait_until(all_answered, now_ms() + WAIT_MS);
        }
        deadline = now_ms() + WAIT_MS;
        if (wait_until(all_answered, deadline) != 0) {
            fprintf(stderr, "acl_probe: the broker did not answer every attempt\n");
            return 1;
        }
        /* what it subscribed to stays open a little: anything delivered is counted */
        deadline = now_ms() + linger;
        (void)wait_until(never, deadline);
        mosquitto_disconnect_v5(m, 0, NULL);
        mosquitto_loop_stop(m, false);
        mosquitto_destroy(m);
    }
    mosquitto_lib_cleanup();
    printf("attempts %ld publishes %ld accepted %ld subscribes %ld granted %ld received %ld "
           "reconnects %ld\n",
           made, pr.sent_pub, pr.accepted, pr.sent_sub, pr.granted, pr.received, reconnects);
    return 0;
}
