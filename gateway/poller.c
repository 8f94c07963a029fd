/*
 * poller.c - every node read at its own period: RTU through libmodbus, Modbus TCP
 * framed here on libmodbus's connection (tcp_exchange: libmodbus 3.1.6 does not check the
 * unit id of a TCP answer), every way an answer fails named (failure_reason).
 *
 * Owns: the libmodbus contexts, the threads, the per-node count and fault
 * state.
 *
 *   [bus:A] rtu ──▶ bus thread A: one modbus_t, units polled one at a time,
 *                   earliest due first, 3.5 characters of silence between
 *                   frames (libmodbus does not keep it)
 *   [bus:B] tcp ──▶ bus thread B: same, one TCP connection to a Modbus
 *                   gateway that fronts several units
 *   address= nodes ──▶ one heap ordered by next-due time, shared by a small
 *                   pool of worker threads ([gateway] poll_threads); each
 *                   node keeps its own connection
 *
 * An RTU line is serial by nature, so a dead unit there costs its bus one
 * timeout per back-off step, never the other buses or the TCP nodes.
 *
 * The TCP pool wakes as few threads as the work needs: waking a thread costs
 * about as much CPU as a poll. Of the idle workers exactly one (the timer)
 * sleeps until the head's due time, the others until they are called. The
 * timer that wakes polls every due node itself, one after the other, and
 * when none is due it is the timer again; no hand-over, no signal. Every node
 * starts due at once and keeps its phase (next_due += period), so nodes of
 * one period stay one batch: the pool wakes once per period, not once per
 * node. A worker calls one idle worker to help only when
 *
 *   - the node it takes may block for its whole timeout (not connected, or
 *     failing: back-off caps that to one timeout per 10 s) and nobody times
 *     the heap: the rest is served meanwhile; or
 *   - the head is overdue by more than its period / 20 (at least 2 ms): one
 *     thread does not keep up (many nodes, a slow network, flat out), so the
 *     helpers join until every worker polls; or
 *   - nobody times the heap, no other worker holds a node, and the node's
 *     timeout is longer than the head's period: a healthy node that stops
 *     answering, or answers late (a link with seconds of latency), would
 *     otherwise hold the heap past the head's next poll. That helper is a
 *     watch: it times the heap as the timer does, but takes the head only
 *     once it is overdue by the grace above, so while the worker that called
 *     it keeps up, it polls nothing and times the heap afterwards. With
 *     timeouts shorter than the periods (the defaults: 500 ms, and periods of
 *     a second) this costs nothing; with short periods it is a wake-up or two
 *     per batch.
 *
 * A healthy node that stops answering holds its worker for one timeout, and
 * the due nodes behind it only when its timeout is shorter than their period
 * (they are late, not skipped): from then on it is failing and its exchanges
 * get a helper beside them. A poll costs
 * libmodbus's exchange plus a few instructions (the pool's mutex, uncontended
 * but for display wakes and helpers; two reads of the vDSO clock); a bus
 * thread, too, sleeps until its next poll (or a display, or stop). Every
 * poller thread blocks SIGTERM and SIGINT, which go to the main thread.
 *
 * Node states: healthy (fails == 0) -> failing (1 .. GW_FAULT_AFTER-1 in a
 * row, retried with back-off) -> faulted (event "fault" queued, snapshots mark
 * its stock fault) -> healthy again on the first good reading (event
 * "recovered").
 *
 * A scanner terminal (kind = scanner) is polled differently: its kind and
 * map version are checked once per healthy spell (input registers 0..1),
 * then each poll reads input registers 100..129 (count, capacity, flags,
 * refused, head event) in one request and drains up to GW_SCAN_DRAIN_MAX
 * events: gw_terminal_scan commits the scan and its effect, and only then
 * is the head acknowledged with one FC 16 of (epoch, seq hi, seq lo) to
 * holding 100..102. An exception 03 on the ack (the head changed) is logged
 * and the head read again. The display of a terminal is one pending slot,
 * filled by the scans and by the MQTT thread (decisions), written with one
 * FC 16 of 110..130 by the poll and kept until a write succeeds.
 *
 * Out of cycle: a display filled from outside a poll (a decision) wakes the
 * thread that owns the terminal, which writes it at once with one FC 16
 * (after the line's silence on an RTU bus) instead of at the next poll,
 * and leaves the poll schedule as it was. Only a healthy terminal (kind
 * checked, no failure pending) is written out of cycle; a failing one gets
 * its display at the poll that finds it again. A bus thread waits on its
 * own condition variable (woken by gw_poller_display); a pool node waiting
 * in the heap is moved to its top, marked display_only, with its due time
 * kept in saved_due, and the timer (or an idle worker) is woken.
 *
 * Invariants: a node is polled by one thread at a time (bus nodes belong to
 * their bus thread; pool nodes are off the heap while a worker holds them);
 * node->count only moves after the ledger committed the movement; a scan is
 * acknowledged only after gw_terminal_scan returned DEPOT_OK for it.
 */
#define _GNU_SOURCE 1 /* pthread_setname_np */
#include "poller.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "backoff.h"
#include "busplan.h"
#include "count.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/modbus_crc.h"
#include "depot/modbus_map.h"
#include "terminal.h"

/* Scan events applied per poll at most, so one busy terminal cannot hold its bus. */
#define GW_SCAN_DRAIN_MAX 16
/* The pool calls a helper when its head is overdue by more than period / DIV (at least MIN). */
#define POOL_GRACE_DIV 20
#define POOL_GRACE_MIN_MS 2
#define RTU_REOPEN_AFTER 3 /* failed exchanges in a row before an RTU line is opened again */
/* errno of an answer that began and did not finish within the timeout (not libmodbus's). */
#define GW_ETRUNCATED (MODBUS_ENOBASE + 100)
/* Registers of one scanner poll: input registers 100..129. */
#define SCAN_BLOCK_COUNT (DEPOT_IR_SCAN_HEAD + DEPOT_IR_SCAN_HEAD_COUNT - DEPOT_IR_SCAN_COUNT)

struct bus;

struct node {
    const struct gw_node_cfg *cfg;
    struct bus *bus; /* NULL for a pool (address=) node */
    modbus_t *ctx;   /* pool nodes: own connection */
    bool connected;  /* pool nodes */
    gw_count count;
    long long next_due; /* monotonic ms */
    int fails;          /* in a row */
    uint16_t tid;       /* Modbus TCP: the last transaction id of a scale read */
    long long faults_total;
    atomic_bool faulted;
    atomic_llong polls;                              /* for gw_poller_stats */
    atomic_llong faults_by[GW_FAULT_REASONS__COUNT]; /* failures by reason class */
    char reason[DEPOT_REASON_MAX + 1];
    /* scanners */
    bool kind_checked;          /* kind and map version seen right since the last failure */
    unsigned long refused_seen; /* the node's refused-scan counter last logged */
    struct gw_display pending;  /* guarded by gw_poller.display_mu */
    bool has_pending;           /* guarded by gw_poller.display_mu */
    /* pool nodes, guarded by gw_poller.mu */
    size_t heap_i;       /* position in the heap while in_heap */
    bool in_heap;        /* false while a worker holds the node */
    bool display_only;   /* at the top for an out-of-cycle display write */
    long long saved_due; /* next_due to restore after that write */
};

struct bus {
    const struct gw_bus_cfg *cfg;
    modbus_t *ctx;
    bool connected;
    struct node **nodes;
    size_t n_nodes;
    double silence_us;
    long long answer_us; /* RTU: a scale block's request and answer on the wire, and turnaround */
    long long last_frame_us; /* monotonic, end of the last frame on the line */
    int failed_in_row;       /* exchanges on the line that failed in a row */
    atomic_llong reopens;    /* times the line was closed to be opened again */
    gw_poller *owner;
    pthread_t thread;
    bool running;
    pthread_mutex_t wake_mu; /* guards woken; wake_cv uses CLOCK_MONOTONIC */
    pthread_cond_t wake_cv;
    bool woken; /* a display came from outside the poll */
};

struct gw_poller {
    const gw_config *cfg;
    gw_ledger *ledger;
    gw_terminal *terminal;
    pthread_mutex_t display_mu;
    struct node *nodes;
    size_t n_nodes;
    struct bus *buses;
    size_t n_buses;
    /* the TCP pool, guarded by mu */
    struct node **heap;
    size_t heap_n;
    pthread_mutex_t mu;
    pthread_cond_t timer_cv; /* CLOCK_MONOTONIC: the one worker timing the head waits here */
    pthread_cond_t idle_cv;  /* the other idle workers wait here until called */
    bool timing;             /* a worker waits on timer_cv */
    int idle;                /* workers waiting on idle_cv */
    int called;              /* of those, signalled and not yet running */
    int active;              /* workers holding a node (polling it or writing its display) */
    int watches;             /* of the called workers, those called as a watch */
    pthread_t *workers;
    int n_workers;
    atomic_bool stop;
};

static void sleep_us(long long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (us > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_timeout(modbus_t *ctx, int ms)
{
    modbus_set_response_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
    modbus_set_byte_timeout(ctx, (uint32_t)(ms / 1000), (uint32_t)(ms % 1000) * 1000);
}

/* ---- one exchange and its outcome ---- */

/* A short reason for the last libmodbus failure; true if the link itself is suspect. */
static bool failure_reason(int err, char *buf, size_t len)
{
    if (err == ETIMEDOUT) {
        snprintf(buf, len, "timeout");
        return true;
    }
    if (err == EMBBADCRC) {
        snprintf(buf, len, "crc");
        return true;
    }
    if (err >= EMBXILFUN && err <= EMBXGTAR) {
        snprintf(buf, len, "exception %d", err - MODBUS_ENOBASE);
        return false;
    }
    if (err == EMBBADSLAVE) {
        snprintf(buf, len, "wrong unit");
        return true;
    }
    if (err == GW_ETRUNCATED) {
        snprintf(buf, len, "truncated");
        return true;
    }
    if (err == EMBBADDATA || err == EMBMDATA || err == EMBBADEXC || err == EMBUNKEXC) {
        snprintf(buf, len, "bad response");
        return true;
    }
    snprintf(buf, len, "io: %s", modbus_strerror(err));
    return true;
}

static void queue_event(gw_poller *p, struct node *n, const char *event)
{
    depot_err e = gw_ledger_append_event(p->ledger, n->cfg->name, event, n->reason, n->fails,
                                         depot_now_ms(), NULL);
    if (e != DEPOT_OK)
        LOG_ERROR("node %s: %s event not queued: %s", n->cfg->name, event, depot_strerror(e));
}

/* The metrics' class of a failure reason text (see gw_poller_fault_reason). */
static int reason_class(const char *reason)
{
    static const char *const prefixes[GW_FAULT_REASONS__COUNT] = {
        "timeout",     "crc",          "exception",  "bad response", "io", "wrong kind",
        "map version", "sensor fault", "wrong unit", "truncated",    ""};
    for (int i = 0; i < GW_FAULT_OTHER; i++)
        if (!strncmp(reason, prefixes[i], strlen(prefixes[i])))
            return i;
    return GW_FAULT_OTHER;
}

static void node_failed(gw_poller *p, struct node *n, const char *reason)
{
    atomic_fetch_add(&n->faults_by[reason_class(reason)], 1);
    snprintf(n->reason, sizeof(n->reason), "%s", reason);
    n->kind_checked = false;
    n->fails++;
    n->faults_total++;
    if (n->fails == 1)
        LOG_WARN("node %s: %s (retrying with back-off)", n->cfg->name, reason);
    else
        LOG_DEBUG("node %s: %s (%d in a row)", n->cfg->name, reason, n->fails);
    if (n->fails == GW_FAULT_AFTER && !atomic_load(&n->faulted)) {
        atomic_store(&n->faulted, true);
        LOG_WARN("node %s: fault: %s, %d failures in a row (%lld in all)", n->cfg->name, reason,
                 n->fails, n->faults_total);
        queue_event(p, n, "fault");
    }
}

static void node_answered(gw_poller *p, struct node *n)
{
    if (atomic_load(&n->faulted)) {
        atomic_store(&n->faulted, false);
        LOG_INFO("node %s: recovered after %d failures", n->cfg->name, n->fails);
        queue_event(p, n, "recovered");
    }
    n->fails = 0;
}

static void node_count(gw_poller *p, struct node *n, long long net_g, bool stable)
{
    long long next;
    uint64_t id;
    if (!gw_count_eval(&n->count, net_g, stable, &next))
        return;
    depot_err e =
        gw_ledger_record_count(p->ledger, n->cfg->name, n->cfg->sku, next, depot_now_ms(), &id);
    if (e != DEPOT_OK) {
        LOG_ERROR("node %s: count %lld not recorded: %s", n->cfg->name, next, depot_strerror(e));
        return;
    }
    if (id)
        LOG_INFO("node %s: %s %lld -> %lld (message %llu)", n->cfg->name, n->cfg->sku,
                 n->count.known ? n->count.count : 0, next, (unsigned long long)id);
    gw_count_set(&n->count, next);
}

/* Check and use a scale block. */
static void node_reading(gw_poller *p, struct node *n, const uint16_t *r)
{
    uint16_t status = r[DEPOT_IR_STATUS];
    long long net = (int32_t)DEPOT_U32_JOIN(r[DEPOT_IR_NET_G], r[DEPOT_IR_NET_G + 1]);

    if (r[DEPOT_IR_KIND] != DEPOT_KIND_SCALE) {
        node_failed(p, n, "wrong kind");
        return;
    }
    if (r[DEPOT_IR_MAP_VERSION] != DEPOT_MAP_VERSION) {
        node_failed(p, n, "map version");
        return;
    }
    if (status & DEPOT_STATUS_FAULT) {
        node_failed(p, n, "sensor fault");
        return;
    }
    node_answered(p, n);
    node_count(p, n, net, (status & DEPOT_STATUS_STABLE) && !(status & DEPOT_STATUS_OVERLOAD));
}

/* A failed exchange: counted as a node failure. Returns false if the link should be reset. */
static bool exchange_failed(gw_poller *p, struct node *n, int rc)
{
    char reason[DEPOT_REASON_MAX + 1];
    bool link = failure_reason(rc < 0 ? errno : EMBMDATA, reason, sizeof(reason));
    node_failed(p, n, reason);
    return !link;
}

/* The 3.5 characters of silence between two frames of one poll on an RTU line. */
static void frame_gap(const struct node *n)
{
    if (n->bus && n->bus->silence_us > 0)
        sleep_us((long long)n->bus->silence_us + 1);
}

/* ---- scanner terminals ---- */

static int read_input(struct node *n, modbus_t *ctx, int addr, int nb, uint16_t *regs);
static int write_holding(struct node *n, modbus_t *ctx, int addr, int nb, const uint16_t *v);

/* Kind and map version, once per healthy spell. False (node failed) if wrong or unanswered. */
static bool scanner_checked(gw_poller *p, struct node *n, modbus_t *ctx, bool *link_ok)
{
    uint16_t r[2];
    int rc;
    *link_ok = true;
    if (n->kind_checked)
        return true;
    rc = read_input(n, ctx, DEPOT_IR_KIND, 2, r);
    frame_gap(n);
    if (rc != 2) {
        *link_ok = exchange_failed(p, n, rc);
        return false;
    }
    if (r[0] != DEPOT_KIND_SCANNER || r[1] != DEPOT_MAP_VERSION) {
        node_failed(p, n, r[0] != DEPOT_KIND_SCANNER ? "wrong kind" : "map version");
        return false;
    }
    n->kind_checked = true;
    return true;
}

static void scanner_counters(struct node *n, const uint16_t *r)
{
    unsigned long refused = DEPOT_U32_JOIN(r[DEPOT_IR_SCAN_REFUSED - DEPOT_IR_SCAN_COUNT],
                                           r[DEPOT_IR_SCAN_REFUSED + 1 - DEPOT_IR_SCAN_COUNT]);
    if (refused > n->refused_seen)
        LOG_WARN("terminal %s: %lu scans refused by the node (FIFO full, %u of %u waiting)",
                 n->cfg->name, refused - n->refused_seen, r[0], r[1]);
    n->refused_seen = refused;
}

static void set_pending(gw_poller *p, struct node *n, const struct gw_display *d)
{
    pthread_mutex_lock(&p->display_mu);
    n->pending = *d;
    n->has_pending = true;
    pthread_mutex_unlock(&p->display_mu);
}

/* Write the pending display (one FC 16 of 110..130); it stays pending if the write fails. */
static bool write_display(gw_poller *p, struct node *n, modbus_t *ctx)
{
    uint16_t regs[1 + DEPOT_DISPLAY_TEXT_MAX / 2];
    struct gw_display d;
    bool has;
    int rc;
    pthread_mutex_lock(&p->display_mu);
    has = n->has_pending;
    d = n->pending;
    pthread_mutex_unlock(&p->display_mu);
    if (!has)
        return true;
    gw_display_registers(&d, regs);
    rc = write_holding(n, ctx, DEPOT_HR_DISPLAY_CODE, 1 + DEPOT_DISPLAY_TEXT_MAX / 2, regs);
    frame_gap(n);
    if (rc != 1 + DEPOT_DISPLAY_TEXT_MAX / 2)
        return exchange_failed(p, n, rc);
    pthread_mutex_lock(&p->display_mu);
    if (n->has_pending && !memcmp(&n->pending, &d, sizeof(d)))
        n->has_pending = false; /* unless a newer one came meanwhile */
    pthread_mutex_unlock(&p->display_mu);
    LOG_DEBUG("terminal %s: display %d \"%s\"", n->cfg->name, d.code, d.text);
    return true;
}

/* A healthy terminal with a display waiting; called by the thread that holds n. */
static bool display_waiting(gw_poller *p, struct node *n)
{
    bool has;
    if (n->cfg->kind != GW_NODE_SCANNER || !n->kind_checked || n->fails ||
        (!n->bus && !n->connected))
        return false;
    pthread_mutex_lock(&p->display_mu);
    has = n->has_pending;
    pthread_mutex_unlock(&p->display_mu);
    return has;
}

enum ack_result { ACK_DONE, ACK_HEAD_CHANGED, ACK_FAILED };

static enum ack_result scan_ack(gw_poller *p, struct node *n, modbus_t *ctx,
                                const struct gw_scan *s, bool *link_ok)
{
    uint16_t ack[3] = {(uint16_t)s->epoch, DEPOT_U32_HI(s->seq), DEPOT_U32_LO(s->seq)};
    int rc = write_holding(n, ctx, DEPOT_HR_SCAN_ACK, 3, ack);
    int err = errno;
    frame_gap(n);
    if (rc == 3)
        return ACK_DONE;
    if (rc < 0 && err == EMBXILVAL) {
        LOG_WARN("terminal %s: ack of %u/%lu refused (head changed): reading it again",
                 n->cfg->name, s->epoch, (unsigned long)s->seq);
        return ACK_HEAD_CHANGED;
    }
    errno = err;
    *link_ok = exchange_failed(p, n, rc);
    return ACK_FAILED;
}

/* Apply the head event and acknowledge it. False: stop draining (*link_ok says why). */
static bool scan_one(gw_poller *p, struct node *n, modbus_t *ctx, const struct gw_scan *s,
                     bool *link_ok)
{
    struct gw_display d;
    bool dup;
    if (!p->terminal)
        return false;
    if (gw_terminal_scan(p->terminal, n->cfg->name, s, depot_now_ms(), &d, &dup) != DEPOT_OK)
        return false; /* not recorded: it stays on the node, retried at the next poll */
    if (d.code != DEPOT_DISPLAY_IDLE || d.text[0])
        set_pending(p, n, &d);
    return scan_ack(p, n, ctx, s, link_ok) != ACK_FAILED;
}

/* One poll of a terminal: drain up to GW_SCAN_DRAIN_MAX events, then the display. */
static bool poll_scanner(gw_poller *p, struct node *n, modbus_t *ctx)
{
    uint16_t r[SCAN_BLOCK_COUNT];
    struct gw_scan s;
    bool link_ok = true;
    if (!scanner_checked(p, n, ctx, &link_ok))
        return link_ok;
    for (int i = 0; i < GW_SCAN_DRAIN_MAX; i++) {
        int rc = read_input(n, ctx, DEPOT_IR_SCAN_COUNT, SCAN_BLOCK_COUNT, r);
        frame_gap(n);
        if (rc != SCAN_BLOCK_COUNT)
            return exchange_failed(p, n, rc);
        if (i == 0) {
            node_answered(p, n);
            scanner_counters(n, r);
        }
        if (r[0] == 0 || !gw_scan_parse(r + (DEPOT_IR_SCAN_HEAD - DEPOT_IR_SCAN_COUNT), &s))
            break;
        if (!scan_one(p, n, ctx, &s, &link_ok)) {
            if (!link_ok)
                return false;
            break;
        }
    }
    return write_display(p, n, ctx);
}

/* An RTU answer to a scale read that names another unit: libmodbus (3.1.6) returns such a
 * frame before checking its CRC, so it is checked here, over the length libmodbus read for
 * it. EMBBADSLAVE if it is whole (another node answered), EMBBADCRC if the line garbled it,
 * EMBBADDATA if its function code is not one a scale read could be answered with. */
static int rtu_other_unit(const uint8_t *rsp)
{
    size_t len;
    if (rsp[1] == MODBUS_FC_READ_INPUT_REGISTERS)
        len = 5u + rsp[2];
    else if (rsp[1] == (MODBUS_FC_READ_INPUT_REGISTERS | 0x80))
        len = 5;
    else
        return EMBBADDATA;
    uint16_t crc = depot_modbus_crc16(rsp, len - 2);
    if (rsp[len - 2] != (crc & 0xFF) || rsp[len - 1] != crc >> 8)
        return EMBBADCRC;
    return EMBBADSLAVE;
}

/*
 * The scale block over an RTU line. Its answer (65 bytes) takes 34 ms on the wire at 19200
 * baud, and libmodbus reads it as it arrives: a select and a read for every few bytes, some 35
 * wake-ups of the bus thread per poll, about 1 ms of CPU. So the request goes out through
 * libmodbus (unit, CRC), the thread sleeps for the request's and the answer's time on the wire
 * (and the configured turnaround), and libmodbus then receives the answer whole (checking its
 * length and CRC); what modbus_read_input_registers checks besides is checked here: the unit
 * (EMBBADSLAVE: another node answered), the function or its exception, the byte count. An
 * answer that comes later is read as it arrives, as before: the thread waits (poll) for its
 * first byte up to the timeout, so an answer that began and was not finished within the byte
 * timeout is a truncated answer (GW_ETRUNCATED), not silence. Returns the registers read, or
 * -1 with errno set.
 */
static int rtu_read_scale(const struct bus *b, const struct node *n, modbus_t *ctx, uint16_t *regs)
{
    const int nb = DEPOT_IR_SCALE_COUNT;
    uint8_t req[6] = {(uint8_t)n->cfg->unit, MODBUS_FC_READ_INPUT_REGISTERS, 0, 0, 0, (uint8_t)nb};
    uint8_t rsp[MODBUS_RTU_MAX_ADU_LENGTH];
    struct pollfd pfd = {.events = POLLIN};
    int rc;
    if (modbus_send_raw_request(ctx, req, (int)sizeof(req)) < 0)
        return -1;
    sleep_us(b->answer_us);
    pfd.fd = modbus_get_socket(ctx);
    do
        rc = poll(&pfd, 1, n->cfg->timeout_ms); /* at once when the answer is there */
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        errno = ETIMEDOUT; /* not a byte of an answer */
        return -1;
    }
    rc = modbus_receive_confirmation(ctx, rsp);
    if (rc < 0) {
        if (errno == ETIMEDOUT)
            errno = GW_ETRUNCATED; /* it began, and did not end */
        return -1;
    }
    if (rsp[0] != req[0]) {
        errno = rtu_other_unit(rsp);
        return -1;
    }
    if (rc == 5 && rsp[1] == (MODBUS_FC_READ_INPUT_REGISTERS | 0x80)) {
        errno = MODBUS_ENOBASE + rsp[2]; /* an exception, as libmodbus reports it */
        return -1;
    }
    if (rc != 5 + 2 * nb || rsp[1] != MODBUS_FC_READ_INPUT_REGISTERS || rsp[2] != 2 * nb) {
        errno = EMBBADDATA;
        return -1;
    }
    for (int i = 0; i < nb; i++)
        regs[i] = (uint16_t)(rsp[3 + 2 * i] << 8 | rsp[4 + 2 * i]);
    return nb;
}

/* Reads on fd into buf until a whole MBAP frame (its header's length) is there or the
 * deadline passes. Returns the bytes read, or -1 with errno: ETIMEDOUT (nothing came),
 * GW_ETRUNCATED (a part came), EMBBADDATA (a header no Modbus TCP server sends), ECONNRESET. */
static int tcp_receive(int fd, uint8_t *buf, size_t cap, long long deadline_ms)
{
    size_t got = 0, want = 7; /* the MBAP header, then 6 + its length */
    while (got < want) {
        long long left = deadline_ms - depot_mono_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            errno = got ? GW_ETRUNCATED : ETIMEDOUT;
            return -1;
        }
        ssize_t k = recv(fd, buf + got, cap - got, 0);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = ECONNRESET;
            return -1;
        }
        got += (size_t)k;
        if (got >= 7) {
            size_t len = (size_t)(buf[4] << 8 | buf[5]);
            if (buf[2] || buf[3] || len < 2 || 6 + len > cap) {
                errno = EMBBADDATA;
                return -1;
            }
            want = 6 + len;
        }
    }
    if (got != want) { /* more than one frame: the stream is out of step */
        errno = EMBBADDATA;
        return -1;
    }
    return (int)got;
}

/*
 * One request to a Modbus TCP node (a node of its own, or a unit behind a TCP bus) and its
 * answer, framed here: one send, then usually one poll and one read, where libmodbus's receive
 * does a select and a read per part of the frame; and every way an answer can be wrong gets
 * its own name. libmodbus (3.1.6) does not compare the answer's unit id with the request's, so
 * an answer from another unit behind a Modbus TCP gateway would pass as this node's (a weight,
 * a scan, an acknowledgement); here it is EMBBADSLAVE. The transaction id is the node's own
 * counter; the connection is closed after any failure but an exception, so no answer to an
 * earlier request can be waiting on it. pdu (function code first, at most 253 bytes) is sent;
 * the answer's PDU is left at rsp + 7. Returns its length, or -1 with errno set as libmodbus
 * would (ETIMEDOUT, EMBBADDATA, the exception of an exception answer) or GW_ETRUNCATED.
 */
static int tcp_exchange(struct node *n, modbus_t *ctx, const uint8_t *pdu, size_t pdu_len,
                        uint8_t *rsp, size_t rsp_cap)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    uint16_t tid = ++n->tid;
    int fd = modbus_get_socket(ctx);
    long long deadline = depot_mono_ms() + n->cfg->timeout_ms;
    ssize_t sent;
    req[0] = (uint8_t)(tid >> 8);
    req[1] = (uint8_t)tid;
    req[2] = req[3] = 0;
    req[4] = (uint8_t)((pdu_len + 1) >> 8);
    req[5] = (uint8_t)(pdu_len + 1);
    req[6] = (uint8_t)n->cfg->unit;
    memcpy(req + 7, pdu, pdu_len);
    do
        sent = send(fd, req, 7 + pdu_len, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)(7 + pdu_len)) {
        if (sent >= 0)
            errno = EIO;
        return -1;
    }
    int rc = tcp_receive(fd, rsp, rsp_cap, deadline);
    if (rc < 0)
        return -1;
    if (rsp[0] != req[0] || rsp[1] != req[1]) {
        errno = EMBBADDATA;
        return -1;
    }
    if (rsp[6] != req[6]) {
        errno = EMBBADSLAVE;
        return -1;
    }
    if (rc == 9 && rsp[7] == (pdu[0] | 0x80)) {
        errno = MODBUS_ENOBASE + rsp[8];
        return -1;
    }
    if (rsp[7] != pdu[0]) {
        errno = EMBBADDATA;
        return -1;
    }
    return rc - 7;
}

/* Input registers addr .. addr + nb - 1 over Modbus TCP (tcp_exchange): the scale block, a
 * terminal's kind and its scan block. Returns nb, or -1 with errno set. */
static int tcp_read_input(struct node *n, modbus_t *ctx, int addr, int nb, uint16_t *regs)
{
    const uint8_t pdu[5] = {MODBUS_FC_READ_INPUT_REGISTERS, (uint8_t)(addr >> 8), (uint8_t)addr, 0,
                            (uint8_t)nb};
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    int len = tcp_exchange(n, ctx, pdu, sizeof(pdu), rsp, sizeof(rsp));
    if (len < 0)
        return -1;
    if (len != 2 + 2 * nb || rsp[8] != 2 * nb) {
        errno = EMBBADDATA;
        return -1;
    }
    for (int i = 0; i < nb; i++)
        regs[i] = (uint16_t)(rsp[9 + 2 * i] << 8 | rsp[10 + 2 * i]);
    return nb;
}

/* Holding registers addr .. addr + nb - 1 written with one FC 16 over Modbus TCP (a
 * terminal's acknowledgement and display). Returns nb, or -1 with errno set. */
static int tcp_write_holding(struct node *n, modbus_t *ctx, int addr, int nb, const uint16_t *v)
{
    uint8_t pdu[6 + 2 * MODBUS_MAX_WRITE_REGISTERS];
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    pdu[0] = MODBUS_FC_WRITE_MULTIPLE_REGISTERS;
    pdu[1] = (uint8_t)(addr >> 8);
    pdu[2] = (uint8_t)addr;
    pdu[3] = 0;
    pdu[4] = (uint8_t)nb;
    pdu[5] = (uint8_t)(2 * nb);
    for (int i = 0; i < nb; i++) {
        pdu[6 + 2 * i] = (uint8_t)(v[i] >> 8);
        pdu[7 + 2 * i] = (uint8_t)v[i];
    }
    int len = tcp_exchange(n, ctx, pdu, 6 + 2 * (size_t)nb, rsp, sizeof(rsp));
    if (len < 0)
        return -1;
    if (len != 5 || memcmp(rsp + 8, pdu + 1, 4) != 0) { /* address and quantity echoed */
        errno = EMBBADDATA;
        return -1;
    }
    return nb;
}

/* n is a unit on an RTU line (libmodbus frames its exchanges), not on Modbus TCP (framed here). */
static bool on_rtu(const struct node *n)
{
    return n->bus && n->bus->cfg->type == GW_BUS_RTU;
}

/* Input registers addr .. addr + nb - 1 of n: over TCP framed here, over RTU by libmodbus. */
static int read_input(struct node *n, modbus_t *ctx, int addr, int nb, uint16_t *regs)
{
    if (on_rtu(n))
        return modbus_read_input_registers(ctx, addr, nb, regs);
    return tcp_read_input(n, ctx, addr, nb, regs);
}

/* Holding registers written with one FC 16: over TCP framed here, over RTU by libmodbus. */
static int write_holding(struct node *n, modbus_t *ctx, int addr, int nb, const uint16_t *v)
{
    if (on_rtu(n))
        return modbus_write_registers(ctx, addr, nb, v);
    return tcp_write_holding(n, ctx, addr, nb, v);
}

/* One read of the scale block. Returns false if the link should be reset. */
static bool poll_node(gw_poller *p, struct node *n, modbus_t *ctx)
{
    uint16_t regs[DEPOT_IR_SCALE_COUNT];
    char reason[DEPOT_REASON_MAX + 1];
    atomic_fetch_add(&n->polls, 1);
    if (n->cfg->kind == GW_NODE_SCANNER)
        return poll_scanner(p, n, ctx);
    int rc = on_rtu(n) ? rtu_read_scale(n->bus, n, ctx, regs)
                       : tcp_read_input(n, ctx, 0, DEPOT_IR_SCALE_COUNT, regs);
    if (rc == DEPOT_IR_SCALE_COUNT) {
        node_reading(p, n, regs);
        return true;
    }
    bool link = failure_reason(rc < 0 ? errno : EMBMDATA, reason, sizeof(reason));
    node_failed(p, n, reason);
    return !link;
}

static void schedule(struct node *n, long long now_ms)
{
    int period = n->cfg->period_ms;
    if (n->fails) {
        n->next_due = now_ms + gw_backoff_delay_ms(period, n->fails, GW_BACKOFF_CAP_MS);
        return;
    }
    n->next_due += period;
    if (n->next_due <= now_ms)
        n->next_due = now_ms + period; /* fell behind: keep the period, skip the backlog */
}

/* ---- bus threads ---- */

static bool bus_connect(gw_poller *p, struct bus *b, struct node *n)
{
    char reason[DEPOT_REASON_MAX + 1];
    if (b->connected)
        return true;
    if (modbus_connect(b->ctx) != 0) {
        snprintf(reason, sizeof(reason), "io: %s", modbus_strerror(errno));
        node_failed(p, n, reason);
        return false;
    }
    if (b->cfg->type == GW_BUS_RTU && b->cfg->rs485 &&
        modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) != 0) {
        LOG_ERROR("bus %s: cannot switch %s to RS-485 mode: %s", b->cfg->name, b->cfg->device,
                  modbus_strerror(errno));
        modbus_close(b->ctx);
        node_failed(p, n, "io: no rs485 mode");
        return false;
    }
    b->connected = true;
    b->last_frame_us = 0;
    return true;
}

/* A line whose exchanges keep failing may be a device that went away (a USB adapter
 * unplugged, a pseudo-terminal whose other end was closed): its file descriptor will never
 * work again, so it is closed and opened again at the next exchange (bus_connect), which
 * retries with the nodes' back-off until the device is back. Harmless on a line that is
 * merely silent. */
static void reopen_line(struct bus *b)
{
    LOG_WARN("bus %s: %d exchanges failed in a row: closing %s to open it again", b->cfg->name,
             b->failed_in_row, b->cfg->device);
    modbus_close(b->ctx);
    b->connected = false;
    b->failed_in_row = 0;
    atomic_fetch_add(&b->reopens, 1);
}

/* One poll of n, or (display_only) the out-of-cycle write of its display. */
static void bus_exchange(gw_poller *p, struct bus *b, struct node *n, bool display_only)
{
    long long wait;
    if (!bus_connect(p, b, n))
        return;
    wait = b->last_frame_us + (long long)b->silence_us - depot_mono_us();
    if (b->last_frame_us && wait > 0)
        sleep_us(wait);
    modbus_set_slave(b->ctx, n->cfg->unit);
    set_timeout(b->ctx, n->cfg->timeout_ms);
    bool ok = display_only ? write_display(p, n, b->ctx) : poll_node(p, n, b->ctx);
    b->last_frame_us = depot_mono_us();
    if (!ok && b->cfg->type == GW_BUS_TCP) {
        modbus_close(b->ctx);
        b->connected = false;
    } else if (!ok && ++b->failed_in_row >= RTU_REOPEN_AFTER) {
        reopen_line(b);
    } else if (!ok) {
        modbus_flush(b->ctx); /* drop a late or garbled answer before the next frame */
        b->last_frame_us = depot_mono_us();
    } else {
        b->failed_in_row = 0;
    }
}

static struct node *bus_earliest(struct bus *b)
{
    struct node *best = b->nodes[0];
    for (size_t i = 1; i < b->n_nodes; i++)
        if (b->nodes[i]->next_due < best->next_due)
            best = b->nodes[i];
    return best;
}

static void bus_wake(struct bus *b)
{
    pthread_mutex_lock(&b->wake_mu);
    b->woken = true;
    pthread_cond_signal(&b->wake_cv);
    pthread_mutex_unlock(&b->wake_mu);
}

/* Up to ms, or until bus_wake. */
static void bus_wait(struct bus *b, long long ms)
{
    struct timespec until = depot_deadline_ms(ms);
    pthread_mutex_lock(&b->wake_mu);
    while (!b->woken && !atomic_load(&b->owner->stop))
        if (pthread_cond_timedwait(&b->wake_cv, &b->wake_mu, &until) == ETIMEDOUT)
            break;
    b->woken = false;
    pthread_mutex_unlock(&b->wake_mu);
}

/* A terminal of the bus whose display waits for an out-of-cycle write, or NULL. */
static struct node *bus_display_due(gw_poller *p, struct bus *b)
{
    for (size_t i = 0; i < b->n_nodes; i++)
        if (display_waiting(p, b->nodes[i]))
            return b->nodes[i];
    return NULL;
}

static void *bus_main(void *arg)
{
    struct bus *b = arg;
    gw_poller *p = b->owner;
    while (!atomic_load(&p->stop)) {
        struct node *n = bus_display_due(p, b);
        long long now = depot_mono_ms();
        if (n) {
            bus_exchange(p, b, n, true);
            continue;
        }
        n = bus_earliest(b);
        if (n->next_due > now) {
            long long d = n->next_due - now;
            bus_wait(b, d); /* gw_poller_stop and gw_poller_display wake it */
            continue;
        }
        bus_exchange(p, b, n, false);
        schedule(n, depot_mono_ms());
    }
    if (b->connected)
        modbus_close(b->ctx);
    b->connected = false;
    return NULL;
}

/* ---- the TCP pool: a binary heap of nodes by next_due ---- */

static void heap_swap(gw_poller *p, size_t a, size_t b)
{
    struct node *t = p->heap[a];
    p->heap[a] = p->heap[b];
    p->heap[b] = t;
    p->heap[a]->heap_i = a;
    p->heap[b]->heap_i = b;
}

static void heap_up(gw_poller *p, size_t i)
{
    while (i > 0 && p->heap[(i - 1) / 2]->next_due > p->heap[i]->next_due) {
        heap_swap(p, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_push(gw_poller *p, struct node *n)
{
    size_t i = p->heap_n++;
    p->heap[i] = n;
    n->heap_i = i;
    n->in_heap = true;
    heap_up(p, i);
}

static struct node *heap_pop(gw_poller *p)
{
    struct node *top = p->heap[0];
    size_t i = 0;
    top->in_heap = false;
    p->heap[0] = p->heap[--p->heap_n];
    p->heap[0]->heap_i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->heap_n && p->heap[l]->next_due < p->heap[m]->next_due)
            m = l;
        if (r < p->heap_n && p->heap[r]->next_due < p->heap[m]->next_due)
            m = r;
        if (m == i)
            break;
        heap_swap(p, i, m);
        i = m;
    }
    return top;
}

static void pool_exchange(gw_poller *p, struct node *n)
{
    char reason[DEPOT_REASON_MAX + 1];
    if (!n->connected) {
        if (modbus_connect(n->ctx) != 0) {
            snprintf(reason, sizeof(reason), "io: %s", modbus_strerror(errno));
            node_failed(p, n, reason);
            return;
        }
        n->connected = true;
    }
    if (!poll_node(p, n, n->ctx)) {
        modbus_close(n->ctx);
        n->connected = false;
    }
}

/* Under p->mu: n goes first, for an out-of-cycle display write; its poll stays due as it was. */
static void display_first(struct node *n, long long now)
{
    n->display_only = true;
    n->saved_due = n->next_due;
    n->next_due = now;
}

/* A node just taken from the heap: its poll, or only its display (then the old due time). */
static void pool_serve(gw_poller *p, struct node *n, bool display_only)
{
    if (!display_only) {
        pool_exchange(p, n);
        schedule(n, depot_mono_ms());
        return;
    }
    if (display_waiting(p, n) && !write_display(p, n, n->ctx)) {
        modbus_close(n->ctx);
        n->connected = false;
    }
    n->next_due = n->saved_due;
}

/* How late the head may be before one worker is deemed not to keep up. */
static long long pool_grace_ms(const struct node *n)
{
    long long g = n->cfg->period_ms / POOL_GRACE_DIV;
    return g > POOL_GRACE_MIN_MS ? g : POOL_GRACE_MIN_MS;
}

/* Under p->mu: one idle worker is woken to take the timer's place or the next due node. */
static bool call_helper(gw_poller *p)
{
    if (p->idle <= p->called)
        return false;
    p->called++;
    pthread_cond_signal(&p->idle_cv);
    return true;
}

/* Under p->mu, n just taken from the heap at now: does the rest of the heap need a helper? */
static void maybe_call_helper(gw_poller *p, const struct node *n, long long now)
{
    if (!p->heap_n)
        return;
    if ((!n->connected || n->fails) && !p->timing) /* may block a whole timeout */
        call_helper(p);
    else if (p->heap[0]->next_due + pool_grace_ms(p->heap[0]) < now) /* behind */
        call_helper(p);
    else if (!p->timing && p->active == 1 && n->cfg->timeout_ms > p->heap[0]->cfg->period_ms)
        p->watches += call_helper(p); /* n stalling would cost the head a poll: a watch */
}

/* Under p->mu: n is back in the heap; a new head earlier than the timer's deadline re-arms it. */
static void pool_pushed(gw_poller *p, struct node *n)
{
    if (n->heap_i == 0 && p->timing)
        pthread_cond_signal(&p->timer_cv);
}

static void *pool_main(void *arg)
{
    gw_poller *p = arg;
    bool watch = false; /* called as a watch: the head is due a grace later for this worker */
    pthread_mutex_lock(&p->mu);
    while (!atomic_load(&p->stop)) {
        long long now = depot_mono_ms();
        long long grace = watch && p->heap_n ? pool_grace_ms(p->heap[0]) : 0;
        if (p->heap_n && p->heap[0]->next_due + grace <= now) {
            watch = false;
            struct node *n = heap_pop(p);
            bool display_only = n->display_only;
            n->display_only = false;
            p->active++;
            maybe_call_helper(p, n, now);
            pthread_mutex_unlock(&p->mu);
            pool_serve(p, n, display_only);
            bool again = display_waiting(p, n); /* came while this worker held it */
            pthread_mutex_lock(&p->mu);
            p->active--;
            if (again)
                display_first(n, depot_mono_ms());
            heap_push(p, n);
            pool_pushed(p, n);
        } else if (!p->timing) { /* the timer: until the head is due (a watch: and a grace) */
            p->timing = true;
            if (p->heap_n) {
                long long due = p->heap[0]->next_due + grace; /* monotonic ms, the cv's clock */
                struct timespec ts = {(time_t)(due / 1000), (long)(due % 1000) * 1000000L};
                pthread_cond_timedwait(&p->timer_cv, &p->mu, &ts);
            } else {
                pthread_cond_wait(&p->timer_cv, &p->mu);
            }
            p->timing = false;
            watch = false;  /* a timer from now on: a head still due was not taken in time */
        } else if (watch) { /* another worker times the heap: no watch is needed */
            watch = false;
        } else { /* idle until called */
            p->idle++;
            pthread_cond_wait(&p->idle_cv, &p->mu);
            p->idle--;
            if (p->called)
                p->called--;
            if (p->watches) {
                p->watches--;
                watch = true;
            }
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- construction ---- */

static depot_err node_init(gw_poller *p, struct node *n, const struct gw_node_cfg *c)
{
    char host[256];
    char port[8];
    int portn;
    long long qty;

    n->cfg = c;
    if (c->kind == GW_NODE_SCALE) {
        gw_count_init(&n->count, c->unit_weight_g, c->hysteresis);
        if (gw_ledger_stock_get(p->ledger, c->sku, &qty) == DEPOT_OK)
            gw_count_set(&n->count, qty);
    }
    atomic_init(&n->faulted, false);
    atomic_init(&n->polls, 0);
    for (int i = 0; i < GW_FAULT_REASONS__COUNT; i++)
        atomic_init(&n->faults_by[i], 0);
    if (c->bus_index >= 0) {
        n->bus = &p->buses[c->bus_index];
        return DEPOT_OK;
    }
    if (!gw_config_split_address(c->address, host, sizeof(host), &portn))
        return DEPOT_ERR_CONFIG;
    snprintf(port, sizeof(port), "%d", portn);
    n->ctx = modbus_new_tcp_pi(host, port);
    if (!n->ctx) {
        LOG_ERROR("node %s: %s: %s", c->name, c->address, modbus_strerror(errno));
        return DEPOT_ERR_CONFIG;
    }
    modbus_set_slave(n->ctx, c->unit);
    set_timeout(n->ctx, c->timeout_ms);
    return DEPOT_OK;
}

static modbus_t *bus_context(const struct gw_bus_cfg *c)
{
    char host[256];
    char port[8];
    int portn;
    if (c->type == GW_BUS_RTU)
        return modbus_new_rtu(c->device, c->baud, (char)c->parity, c->data_bits, c->stop_bits);
    if (!gw_config_split_address(c->address, host, sizeof(host), &portn))
        return NULL;
    snprintf(port, sizeof(port), "%d", portn);
    return modbus_new_tcp_pi(host, port);
}

static depot_err bus_init(gw_poller *p, struct bus *b, const struct gw_bus_cfg *c)
{
    struct gw_line line = {c->baud, c->data_bits, c->parity, c->stop_bits, c->turnaround_ms};
    pthread_condattr_t ca;
    pthread_mutex_init(&b->wake_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->wake_cv, &ca);
    pthread_condattr_destroy(&ca);
    b->cfg = c;
    b->owner = p;
    b->silence_us = c->type == GW_BUS_RTU ? gw_line_silence_us(&line) : 0;
    if (c->type == GW_BUS_RTU) {
        struct gw_bus_plan plan;
        gw_busplan_compute(&line, DEPOT_IR_SCALE_COUNT, NULL, 0, &plan);
        b->answer_us = (long long)((plan.request_bytes + plan.response_bytes) * plan.char_us) +
                       c->turnaround_ms * 1000LL;
    }
    b->ctx = bus_context(c);
    if (!b->ctx) {
        LOG_ERROR("bus %s: %s", c->name, modbus_strerror(errno));
        return DEPOT_ERR_CONFIG;
    }
    b->nodes = depot_calloc(p->cfg->n_nodes ? p->cfg->n_nodes : 1, sizeof(*b->nodes));
    return b->nodes ? DEPOT_OK : DEPOT_ERR_NOMEM;
}

static depot_err poller_build(gw_poller *p)
{
    const gw_config *cfg = p->cfg;
    depot_err e = DEPOT_OK;
    long long now = depot_mono_ms();

    p->buses = depot_calloc(cfg->n_buses ? cfg->n_buses : 1, sizeof(*p->buses));
    p->nodes = depot_calloc(cfg->n_nodes ? cfg->n_nodes : 1, sizeof(*p->nodes));
    p->heap = depot_calloc(cfg->n_nodes ? cfg->n_nodes : 1, sizeof(*p->heap));
    if (!p->buses || !p->nodes || !p->heap)
        return DEPOT_ERR_NOMEM;
    for (size_t i = 0; e == DEPOT_OK && i < cfg->n_buses; i++, p->n_buses++)
        e = bus_init(p, &p->buses[i], &cfg->buses[i]);
    for (size_t i = 0; e == DEPOT_OK && i < cfg->n_nodes; i++, p->n_nodes++) {
        struct node *n = &p->nodes[i];
        e = node_init(p, n, &cfg->nodes[i]);
        n->next_due = now; /* all at once: nodes of one period stay one batch */
        if (e == DEPOT_OK && n->bus)
            n->bus->nodes[n->bus->n_nodes++] = n;
        else if (e == DEPOT_OK)
            heap_push(p, n);
    }
    return e;
}

depot_err gw_poller_new(const gw_config *cfg, gw_ledger *ledger, gw_terminal *terminal,
                        gw_poller **out)
{
    pthread_condattr_t ca;
    gw_poller *p = depot_calloc(1, sizeof(*p));
    depot_err e;
    if (!p)
        return DEPOT_ERR_NOMEM;
    p->cfg = cfg;
    p->ledger = ledger;
    p->terminal = terminal;
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->display_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->timer_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&p->idle_cv, NULL);
    e = poller_build(p);
    if (e != DEPOT_OK) {
        gw_poller_free(p);
        return e;
    }
    *out = p;
    return DEPOT_OK;
}

/* A poller thread, named for top -H and perf (at most 15 characters), with every signal
 * blocked: SIGTERM and SIGINT go to the main thread and interrupt its wait. */
static bool thread_start(pthread_t *t, void *(*fn)(void *), void *arg, const char *title)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return false;
    }
    pthread_setname_np(*t, title);
    return true;
}

static int pool_size(const gw_poller *p)
{
    int n = p->cfg->poll_threads;
    if ((size_t)n > p->heap_n)
        n = (int)p->heap_n;
    return n;
}

depot_err gw_poller_start(gw_poller *p)
{
    int want = pool_size(p);
    char title[16];
    atomic_store(&p->stop, false);
    for (size_t i = 0; i < p->n_buses; i++) {
        struct bus *b = &p->buses[i];
        if (!b->n_nodes)
            continue;
        snprintf(title, sizeof(title), "gw-bus-%.8s", b->cfg->name);
        if (!thread_start(&b->thread, bus_main, b, title))
            goto fail;
        b->running = true;
    }
    p->workers = depot_calloc(want ? (size_t)want : 1, sizeof(*p->workers));
    if (!p->workers)
        goto fail;
    for (; p->n_workers < want; p->n_workers++) {
        snprintf(title, sizeof(title), "gw-poll-%d", p->n_workers % 100); /* at most 64 */
        if (!thread_start(&p->workers[p->n_workers], pool_main, p, title))
            goto fail;
    }
    LOG_INFO("poller: %zu nodes, %zu buses, %d TCP workers", p->n_nodes, p->n_buses, p->n_workers);
    return DEPOT_OK;
fail:
    LOG_ERROR("poller: cannot start a thread: %s", strerror(errno));
    gw_poller_stop(p);
    return DEPOT_ERR_IO;
}

void gw_poller_stop(gw_poller *p)
{
    atomic_store(&p->stop, true);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->timer_cv);
    pthread_cond_broadcast(&p->idle_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_buses; i++)
        bus_wake(&p->buses[i]);
    for (size_t i = 0; i < p->n_buses; i++) {
        if (p->buses[i].running)
            pthread_join(p->buses[i].thread, NULL);
        p->buses[i].running = false;
    }
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->workers[i], NULL);
    p->n_workers = 0;
    depot_free(p->workers);
    p->workers = NULL;
}

void gw_poller_free(gw_poller *p)
{
    if (!p)
        return;
    gw_poller_stop(p);
    for (size_t i = 0; i < p->n_nodes; i++) {
        if (p->nodes[i].connected)
            modbus_close(p->nodes[i].ctx);
        if (p->nodes[i].ctx)
            modbus_free(p->nodes[i].ctx);
    }
    for (size_t i = 0; i < p->n_buses; i++) {
        if (p->buses[i].ctx)
            modbus_free(p->buses[i].ctx);
        depot_free(p->buses[i].nodes);
        pthread_cond_destroy(&p->buses[i].wake_cv);
        pthread_mutex_destroy(&p->buses[i].wake_mu);
    }
    depot_free(p->buses);
    depot_free(p->nodes);
    depot_free(p->heap);
    pthread_cond_destroy(&p->timer_cv);
    pthread_cond_destroy(&p->idle_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->display_mu);
    depot_free(p);
}

bool gw_poller_node_faulted(gw_poller *p, const char *node)
{
    for (size_t i = 0; i < p->n_nodes; i++)
        if (!strcmp(p->nodes[i].cfg->name, node))
            return atomic_load(&p->nodes[i].faulted);
    return false;
}

/* A display came from outside the poll: the thread that owns n writes it now. */
static void wake_owner(gw_poller *gw, struct node *n)
{
    long long now = depot_mono_ms();
    if (n->bus) {
        bus_wake(n->bus);
        return;
    }
    pthread_mutex_lock(&gw->mu);
    if (n->in_heap && !n->display_only && n->next_due > now) {
        display_first(n, now);
        heap_up(gw, n->heap_i);
        if (gw->timing)
            pthread_cond_signal(&gw->timer_cv); /* its deadline is later: look again */
        else
            call_helper(gw); /* else the next worker to finish takes it */
    }
    pthread_mutex_unlock(&gw->mu);
}

depot_err gw_poller_display(gw_poller *p, const char *node, const struct gw_display *d)
{
    for (size_t i = 0; i < p->n_nodes; i++) {
        struct node *n = &p->nodes[i];
        if (n->cfg->kind == GW_NODE_SCANNER && !strcmp(n->cfg->name, node)) {
            set_pending(p, n, d);
            wake_owner(p, n);
            return DEPOT_OK;
        }
    }
    return DEPOT_ERR_NOTFOUND;
}

size_t gw_poller_node_count(const gw_poller *p)
{
    return p->n_nodes;
}

bool gw_poller_stats(gw_poller *p, size_t i, struct gw_node_stats *out)
{
    if (i >= p->n_nodes)
        return false;
    struct node *n = &p->nodes[i];
    out->name = n->cfg->name;
    out->scanner = n->cfg->kind == GW_NODE_SCANNER;
    out->polls = atomic_load(&n->polls);
    out->faulted = atomic_load(&n->faulted);
    out->line_reopens = n->bus ? atomic_load(&n->bus->reopens) : 0;
    for (int r = 0; r < GW_FAULT_REASONS__COUNT; r++)
        out->faults[r] = atomic_load(&n->faults_by[r]);
    return true;
}

const char *gw_poller_fault_reason(int r)
{
    static const char *const names[GW_FAULT_REASONS__COUNT] = {
        "timeout",     "crc",          "exception",  "bad_response", "io",   "wrong_kind",
        "map_version", "sensor_fault", "wrong_unit", "truncated",    "other"};
    return r >= 0 && r < GW_FAULT_REASONS__COUNT ? names[r] : "other";
}
