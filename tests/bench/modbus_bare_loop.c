/*
 * modbus_bare_loop: the baseline of the gateway polling benchmarks. The least
 * a program can do to read every scale once a period through libmodbus: one
 * context per node kept connected, 30 input registers (the scale block) read
 * from each node in turn, then sleep until the next period's slot. No ledger,
 * no MQTT: what is left is libmodbus and the kernel. bench_gateway.py measures
 * its CPU and memory from /proc exactly as it measures depot-gateway's, over
 * the same nodes, in the same run.
 *
 * With --threads N the nodes are dealt round-robin to N threads, each its own
 * loop over its own contexts exactly as the single loop (the units of an RTU
 * line share its context and stay together in one thread). --period-ms 0 is
 * flat out: no sleep, each thread reads its nodes in turn as fast as they
 * answer.
 *
 * usage: modbus_bare_loop --ports P1-P2 [--host 127.0.0.1] --seconds S
 *                         [--period-ms 1000] [--timeout-ms 500] [--threads 1] [--registers 30]
 *        modbus_bare_loop --rtu DEVICE --baud N --units 1,2 --seconds S ...
 * (--ports and --rtu may be given together: the TCP nodes, then the RTU units.)
 *
 * stdout: "ready nodes=N connected=C" once every context tried to connect,
 * then at the end one line "polls=N errors=E rounds=R late_rounds=L seconds=S
 * threads=T rate=X": requests sent, failed ones (and failed reconnects), the
 * rounds every thread completed (the fewest of any thread), late rounds of all
 * threads, the wall time and polls per second. A round that could not start on
 * time is late; the loop then skips the backlog rather than catch up. Runs at
 * most --seconds (and, with a period, that many rounds); SIGTERM or SIGINT ends
 * it early with the same final line.
 * Exit status: 0 done, 2 usage or setup error.
 */
#include <errno.h>
#include <modbus.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define SCALE_REGISTERS 30 /* input registers 0..29: DEPOT_IR_SCALE_COUNT */
#define MAX_NODES 4096
#define MAX_SECONDS 3600
#define MAX_THREADS 64

typedef struct bare_node {
    modbus_t *ctx; /* TCP: its own; RTU: the line's, shared */
    int unit;      /* RTU unit id, 0 for TCP */
    int connected;
} bare_node;

typedef struct bare_opts {
    const char *host, *ports, *rtu_device, *rtu_units;
    long baud, seconds, period_ms, timeout_ms, threads, registers;
} bare_opts;

typedef struct bare_stats {
    unsigned long long polls, errors, rounds, late;
} bare_stats;

/* One thread's share: its nodes (pointers into the one array), its loop's counts. */
typedef struct bare_slice {
    bare_node **nodes;
    size_t n;
    const bare_opts *o;
    long long start, end;
    bare_stats st;
    pthread_t thread;
} bare_slice;

static atomic_int stop_requested;

static void on_signal(int sig)
{
    if (sig != SIGUSR1) /* SIGUSR1 only wakes a worker's sleep */
        atomic_store_explicit(&stop_requested, 1, memory_order_relaxed);
}

static int stopping(void)
{
    return atomic_load_explicit(&stop_requested, memory_order_relaxed);
}

static void usage(FILE *out)
{
    fputs(
        "usage: modbus_bare_loop [--ports P1-P2 [--host H]] [--rtu DEV --baud N --units A,B]\n"
        "                        --seconds S [--period-ms 1000] [--timeout-ms 500] [--threads 1]\n"
        "                        [--registers 30]\n"
        "Reads input registers 0..29 (0..registers-1) of every node once a period (0: flat\n"
        "out, no sleep), one libmodbus context per node kept connected, the nodes dealt\n"
        "round-robin to --threads loops. Prints 'ready nodes=N connected=C', then\n"
        "'polls=N errors=E rounds=R late_rounds=L seconds=S threads=T rate=X' at the end.\n",
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
            num = &o->period_ms, lo = 0, hi = 60000;
        else if (strcmp(a, "--timeout-ms") == 0)
            num = &o->timeout_ms, lo = 10, hi = 10000;
        else if (strcmp(a, "--threads") == 0)
            num = &o->threads, lo = 1, hi = MAX_THREADS;
        else if (strcmp(a, "--registers") == 0)
            num = &o->registers, lo = 1, hi = SCALE_REGISTERS;
        else
            return fprintf(stderr, "modbus_bare_loop: unknown option %s\n", a), -1;
        if (num != NULL && bench_parse_long(v, lo, hi, num) < 0)
            return fprintf(stderr, "modbus_bare_loop: %s: %ld..%ld, not %s\n", a, lo, hi, v), -1;
    }
    if (o->seconds == 0 || (o->ports == NULL && o->rtu_device == NULL))
        return usage(stderr), -1;
    if (o->rtu_device != NULL && o->rtu_units == NULL)
        return fprintf(stderr, "modbus_bare_loop: --rtu needs --units\n"), -1;
    if (o->period_ms != 0 && o->period_ms < 10)
        return fprintf(stderr, "modbus_bare_loop: --period-ms: 0 (flat out) or 10..60000\n"), -1;
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
    while (!stopping() && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* One read of one node; a TCP link that failed is closed and connected again next round. */
static void poll_one(bare_node *node, long silence_us, int registers, bare_stats *st)
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
    if (modbus_read_input_registers(node->ctx, 0, registers, regs) != registers) {
        st->errors++;
        if (node->unit == 0) {
            modbus_close(node->ctx);
            node->connected = 0;
        } else {
            modbus_flush(node->ctx);
        }
    }
}

/* One thread's loop over its own nodes: every period (or flat out) one round. */
static void *run_slice(void *arg)
{
    bare_slice *sl = arg;
    const bare_opts *o = sl->o;
    long long period = o->period_ms * 1000000LL, end = sl->end, next = sl->start;
    /* flat out, bounded in count too: a million rounds a second is out of reach */
    long long max_rounds = period ? o->seconds * 1000 / o->period_ms + 1 : o->seconds * 1000000LL;
    long silence_us = o->baud ? 38500000L / o->baud + 1 : 0;
    bare_stats *st = &sl->st;
    while (!stopping() && (long long)st->rounds < max_rounds && bench_mono_ns() < end) {
        size_t i = 0;
        for (; i < sl->n && !stopping(); i++) {
            poll_one(sl->nodes[i], silence_us, (int)sl->o->registers, st);
            if (period == 0 && bench_mono_ns() >= end)
                break;
        }
        if (i < sl->n)
            break; /* a round cut short by the end is not counted */
        st->rounds++;
        if (period == 0)
            continue;
        next += period;
        long long now = bench_mono_ns();
        if (next < now) {
            st->late++;
            next = now + period;
        }
        sleep_until_ns(next < end ? next : end);
    }
    return NULL;
}

/*
 * Deals the nodes to o->threads slices and runs them: slice 0 on this thread,
 * which alone takes SIGTERM and SIGINT and then wakes the others (SIGUSR1);
 * prints the final line.
 */
static int run(bare_node *nodes, size_t n, const bare_opts *o)
{
    size_t nt = (size_t)o->threads < n ? (size_t)o->threads : (n ? n : 1); /* none idle */
    size_t rtu_slice = SIZE_MAX;
    bare_slice *sl = calloc(nt, sizeof(*sl));
    bare_node **order = calloc(n ? n : 1, sizeof(*order));
    size_t *count = calloc(nt, sizeof(*count)), *fill = calloc(nt, sizeof(*fill));
    size_t *slot = calloc(n ? n : 1, sizeof(*slot)), started = 1;
    sigset_t block, old;
    int rc = 0;

    if (sl == NULL || order == NULL || count == NULL || fill == NULL || slot == NULL) {
        fprintf(stderr, "modbus_bare_loop: out of memory\n");
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < n; i++) { /* round-robin; an RTU line's units stay together */
        if (nodes[i].unit != 0) {
            if (rtu_slice == SIZE_MAX)
                rtu_slice = i % nt;
            slot[i] = rtu_slice;
        } else {
            slot[i] = i % nt;
        }
        count[slot[i]]++;
    }
    for (size_t t = 0, base = 0; t < nt; base += count[t], t++)
        sl[t].nodes = order + base;
    for (size_t i = 0; i < n; i++)
        sl[slot[i]].nodes[fill[slot[i]]++] = &nodes[i];

    long long start = bench_mono_ns(), end = start + o->seconds * 1000000000LL;
    for (size_t t = 0; t < nt; t++) {
        sl[t].n = count[t];
        sl[t].o = o;
        sl[t].start = start;
        sl[t].end = end;
    }
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* the workers inherit the mask */
    for (; started < nt; started++) {
        int err = pthread_create(&sl[started].thread, NULL, run_slice, &sl[started]);
        if (err != 0) {
            fprintf(stderr, "modbus_bare_loop: thread: %s\n", strerror(err));
            atomic_store(&stop_requested, 1);
            rc = -1;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        run_slice(&sl[0]);
    for (size_t t = 1; t < started; t++)
        if (stopping())
            pthread_kill(sl[t].thread, SIGUSR1);
    bare_stats total = {0};
    unsigned long long min_rounds = ~0ULL;
    for (size_t t = 0; t < started; t++) {
        if (t > 0)
            pthread_join(sl[t].thread, NULL);
        total.polls += sl[t].st.polls;
        total.errors += sl[t].st.errors;
        total.late += sl[t].st.late;
        if (sl[t].n > 0 && sl[t].st.rounds < min_rounds)
            min_rounds = sl[t].st.rounds;
    }
    total.rounds = min_rounds == ~0ULL ? 0 : min_rounds;
    double seconds = (double)(bench_mono_ns() - start) / 1e9;
    if (rc == 0)
        printf("polls=%llu errors=%llu rounds=%llu late_rounds=%llu seconds=%.3f threads=%zu "
               "rate=%.1f\n",
               total.polls, total.errors, total.rounds, total.late, seconds, nt,
               seconds > 0 ? (double)total.polls / seconds : 0.0);
out:
    free(sl);
    free(order);
    free(count);
    free(fill);
    free(slot);
    return rc;
}

int main(int argc, char **argv)
{
    bare_node *nodes = calloc(MAX_NODES, sizeof(*nodes));
    bare_opts o = {.host = "127.0.0.1",
                   .period_ms = 1000,
                   .timeout_ms = 500,
                   .threads = 1,
                   .registers = SCALE_REGISTERS};
    size_t n = 0, connected = 0;
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: a sleep ends */
    int rc;

    if (nodes == NULL || parse_args(argc, argv, &o) < 0)
        return 2;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    if ((o.ports != NULL && add_tcp_nodes(&o, nodes, &n) < 0) ||
        (o.rtu_device != NULL && add_rtu_nodes(&o, nodes, &n) < 0))
        return 2;
    for (size_t i = 0; i < n; i++)
        connected += nodes[i].connected != 0;
    printf("ready nodes=%zu connected=%zu\n", n, connected);
    fflush(stdout);
    rc = run(nodes, n, &o);
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].unit != 0 && i + 1 < n && nodes[i + 1].ctx == nodes[i].ctx)
            continue; /* a shared RTU line is freed with its last unit */
        modbus_close(nodes[i].ctx);
        modbus_free(nodes[i].ctx);
    }
    free(nodes);
    return rc < 0 ? 2 : 0;
}
