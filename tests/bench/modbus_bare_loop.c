/*
 * modbus_bare_loop: the baseline of the gateway polling benchmark. The least
 * a program can do to read every scale once a period through libmodbus: one
 * thread, one context per node kept connected, 30 input registers (the scale
 * block) read from each node in turn, then sleep until the next period's slot.
 * No ledger, no MQTT, no threads: what is left is libmodbus and the kernel.
 * bench_gateway.py measures its CPU and memory from /proc exactly as it
 * measures depot-gateway's, over the same nodes, in the same run.
 *
 * usage: modbus_bare_loop --ports P1-P2 [--host 127.0.0.1] --seconds S
 *                         [--period-ms 1000] [--timeout-ms 500]
 *        modbus_bare_loop --rtu DEVICE --baud N --units 1,2 --seconds S ...
 * (--ports and --rtu may be given together: the TCP nodes, then the RTU units.)
 *
 * stdout: "ready nodes=N connected=C" once every context tried to connect,
 * then at the end one line "polls=N errors=E rounds=R late_rounds=L seconds=S".
 * A round that could not start on time is late; the loop then skips the
 * backlog rather than catch up. Runs at most --seconds (and that many rounds);
 * SIGTERM or SIGINT ends it early with the same final line.
 * Exit status: 0 done, 2 usage or setup error.
 */
#include <errno.h>
#include <modbus.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define SCALE_REGISTERS 30 /* input registers 0..29: DEPOT_IR_SCALE_COUNT */
#define MAX_NODES 4096
#define MAX_SECONDS 3600

typedef struct bare_node {
    modbus_t *ctx; /* TCP: its own; RTU: the line's, shared */
    int unit;      /* RTU unit id, 0 for TCP */
    int connected;
} bare_node;

typedef struct bare_opts {
    const char *host, *ports, *rtu_device, *rtu_units;
    long baud, seconds, period_ms, timeout_ms;
} bare_opts;

typedef struct bare_stats {
    unsigned long long polls, errors, rounds, late;
} bare_stats;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fputs("usage: modbus_bare_loop [--ports P1-P2 [--host H]] [--rtu DEV --baud N --units A,B]\n"
          "                        --seconds S [--period-ms 1000] [--timeout-ms 500]\n"
          "Reads input registers 0..29 of every node once a period, one thread, one\n"
          "libmodbus context per node kept connected. Prints 'ready nodes=N connected=C',\n"
          "then 'polls=N errors=E rounds=R late_rounds=L seconds=S' at the end.\n",
          out);
}

static int parse_args(int argc, char **argv, bare_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long *num = NULL, lo = 0, hi = 0;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (v == NULL)
            return fprintf(stderr, "modbus_bare_loop: %s needs a value\n", a), -1;
        i++;
        if (strcmp(a, "--host") == 0)
            o->host = v;
        else if (strcmp(a, "--ports") == 0)
            o->ports = v;
        else if (strcmp(a, "--rtu") == 0)
            o->rtu_device = v;
        else if (strcmp(a, "--units") == 0)
            o->rtu_units = v;
        else if (strcmp(a, "--baud") == 0)
            num = &o->baud, lo = 300, hi = 4000000;
        else if (strcmp(a, "--seconds") == 0)
            num = &o->seconds, lo = 1, hi = MAX_SECONDS;
        else if (strcmp(a, "--period-ms") == 0)
            num = &o->period_ms, lo = 10, hi = 60000;
        else if (strcmp(a, "--timeout-ms") == 0)
            num = &o->timeout_ms, lo = 10, hi = 10000;
        else
            return fprintf(stderr, "modbus_bare_loop: unknown option %s\n", a), -1;
        if (num != NULL && bench_parse_long(v, lo, hi, num) < 0)
            return fprintf(stderr, "modbus_bare_loop: %s: %ld..%ld, not %s\n", a, lo, hi, v), -1;
    }
    if (o->seconds == 0 || (o->ports == NULL && o->rtu_device == NULL))
        return usage(stderr), -1;
    if (o->rtu_device != NULL && o->rtu_units == NULL)
        return fprintf(stderr, "modbus_bare_loop: --rtu needs --units\n"), -1;
    return 0;
}

static void set_timeout(modbus_t *ctx, long ms)
{
    modbus_set_response_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
    modbus_set_byte_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
}

static int add_tcp_nodes(const bare_opts *o, bare_node *nodes, size_t *n)
{
    char ports[64], *dash, port[8];
    long p1, p2;
    snprintf(ports, sizeof(ports), "%s", o->ports);
    dash = strchr(ports, '-');
    if (dash == NULL)
        return fprintf(stderr, "modbus_bare_loop: --ports P1-P2\n"), -1;
    *dash = '\0';
    if (bench_parse_long(ports, 1, 65535, &p1) < 0 ||
        bench_parse_long(dash + 1, p1, 65535, &p2) < 0 || p2 - p1 >= MAX_NODES)
        return fprintf(stderr, "modbus_bare_loop: bad --ports %s\n", o->ports), -1;
    for (long p = p1; p <= p2; p++) {
        snprintf(port, sizeof(port), "%ld", p);
        bare_node *node = &nodes[(*n)++];
        node->ctx = modbus_new_tcp_pi(o->host, port);
        if (node->ctx == NULL)
            return fprintf(stderr, "modbus_bare_loop: %s:%s: %s\n", o->host, port,
                           modbus_strerror(errno)),
                   -1;
        set_timeout(node->ctx, o->timeout_ms);
        node->connected = modbus_connect(node->ctx) == 0;
    }
    return 0;
}

static int add_rtu_nodes(const bare_opts *o, bare_node *nodes, size_t *n)
{
    char list[256];
    modbus_t *line = modbus_new_rtu(o->rtu_device, (int)o->baud, 'N', 8, 1);
    if (line == NULL)
        return fprintf(stderr, "modbus_bare_loop: %s: %s\n", o->rtu_device, modbus_strerror(errno)),
               -1;
    set_timeout(line, o->timeout_ms);
    int connected = modbus_connect(line) == 0;
    snprintf(list, sizeof(list), "%s", o->rtu_units);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        long unit;
        if (bench_parse_long(tok, 1, 247, &unit) < 0 || *n == MAX_NODES)
            return fprintf(stderr, "modbus_bare_loop: bad unit %s\n", tok), -1;
        nodes[(*n)++] = (bare_node){.ctx = line, .unit = (int)unit, .connected = connected};
    }
    return 0;
}

static void sleep_until_ns(long long t)
{
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* One read of one node; a TCP link that failed is closed and connected again next round. */
static void poll_one(bare_node *node, long silence_us, bare_stats *st)
{
    uint16_t regs[SCALE_REGISTERS];
    if (!node->connected) {
        node->connected = modbus_connect(node->ctx) == 0;
        if (!node->connected) {
            st->errors++;
            return;
        }
    }
    if (node->unit != 0) {
        modbus_set_slave(node->ctx, node->unit);
        struct timespec gap = {0, silence_us * 1000};
        nanosleep(&gap, NULL); /* libmodbus does not keep the 3.5-character silence */
    }
    st->polls++;
    if (modbus_read_input_registers(node->ctx, 0, SCALE_REGISTERS, regs) != SCALE_REGISTERS) {
        st->errors++;
        if (node->unit == 0) {
            modbus_close(node->ctx);
            node->connected = 0;
        } else {
            modbus_flush(node->ctx);
        }
    }
}

static void run(bare_node *nodes, size_t n, const bare_opts *o, bare_stats *st)
{
    long long period = o->period_ms * 1000000LL, start = bench_mono_ns();
    long long end = start + o->seconds * 1000000000LL, next = start;
    long long max_rounds = o->seconds * 1000 / o->period_ms + 1;
    long silence_us = o->baud ? 38500000L / o->baud + 1 : 0;
    while (!stop_requested && (long long)st->rounds < max_rounds && bench_mono_ns() < end) {
        for (size_t i = 0; i < n && !stop_requested; i++)
            poll_one(&nodes[i], silence_us, st);
        st->rounds++;
        next += period;
        long long now = bench_mono_ns();
        if (next < now) {
            st->late++;
            next = now + period;
        }
        sleep_until_ns(next < end ? next : end);
    }
    printf("polls=%llu errors=%llu rounds=%llu late_rounds=%llu seconds=%.3f\n", st->polls,
           st->errors, st->rounds, st->late, (double)(bench_mono_ns() - start) / 1e9);
}

int main(int argc, char **argv)
{
    bare_node *nodes = calloc(MAX_NODES, sizeof(*nodes));
    bare_opts o = {.host = "127.0.0.1", .period_ms = 1000, .timeout_ms = 500};
    bare_stats st = {0};
    size_t n = 0, connected = 0;
    struct sigaction sa = {.sa_handler = on_signal};

    if (nodes == NULL || parse_args(argc, argv, &o) < 0)
        return 2;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if ((o.ports != NULL && add_tcp_nodes(&o, nodes, &n) < 0) ||
        (o.rtu_device != NULL && add_rtu_nodes(&o, nodes, &n) < 0))
        return 2;
    for (size_t i = 0; i < n; i++)
        connected += nodes[i].connected != 0;
    printf("ready nodes=%zu connected=%zu\n", n, connected);
    fflush(stdout);
    run(nodes, n, &o, &st);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].unit != 0 && i + 1 < n && nodes[i + 1].ctx == nodes[i].ctx)
            continue; /* a shared RTU line is freed with its last unit */
        modbus_close(nodes[i].ctx);
        modbus_free(nodes[i].ctx);
    }
    free(nodes);
    return 0;
}
