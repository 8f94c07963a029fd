/*
 * main.c - depot-gateway: command line, start-up order, the main loop,
 * systemd notification and clean shutdown.
 *
 *   depot-gateway -c FILE [--log-level L]   run the daemon
 *   depot-gateway check -c FILE             validate the config, print the bus plan
 *   depot-gateway keygen ...                make the gateway key and CSR (keygen.c)
 *   depot-gateway ledger verify ...         check the ledger's movement chain (chain.c)
 *   depot-gateway renew | install-cert ...  a new key and certificate (renew.c); SIGHUP makes
 *                                           the running daemon take them
 *
 * Both the daemon and check refuse a configuration whose [gateway] dealer is
 * not the CN of its [mqtt] cert: the broker knows a gateway only by its
 * certificate, so such a gateway would report and order as another dealer.
 *
 * Threads: the main thread runs the MQTT link (gw_uplink_step, woken at once
 * by the broker or by a message queued in the ledger), cuts up/movements
 * batches (once a second while movements wait; not at all while none wait
 * and the ledger queued nothing new), rewrites the metrics file (every
 * GW_METRICS_PERIOD_MS if one is configured, and at exit) and feeds the
 * systemd watchdog; it sleeps until the first of these is due. The poller
 * runs its own bus and worker threads, which block SIGTERM and SIGINT so that
 * the signal interrupts the main thread's wait.
 * Both write through the ledger, which serializes them. The daemon starts
 * and polls whether or not the broker is reachable; the outbox keeps what
 * the link cannot carry yet.
 */
#include <getopt.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "busplan.h"
#include "config.h"
#include "depot/alloc.h"
#include "depot/log.h"
#include "depot/modbus_map.h"
#include "depot/pki.h"
#include "chain.h"
#include "keygen.h"
#include "ledger.h"
#include "metrics.h"
#include "movements.h"
#include "poller.h"
#include "renew.h"
#include "terminal.h"
#include "uplink.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: depot-gateway -c FILE [--log-level debug|info|warn|error]\n"
            "       depot-gateway check -c FILE\n"
            "       depot-gateway keygen ...   (see depot-gateway keygen --help)\n"
            "       depot-gateway ledger verify -c FILE | LEDGER   (the movement chain)\n"
            "       depot-gateway renew ...    a new key and CSR before the certificate expires\n"
            "       depot-gateway install-cert ...  install the renewed certificate\n"
            "       depot-gateway --help\n"
            "\n"
            "Polls the scales and scanner terminals configured in FILE over Modbus, keeps\n"
            "the inventory ledger and sends stock changes and signed orders to the hub\n"
            "over MQTT (see gateway/README.md).\n"
            "  -c, --config FILE   the INI configuration\n"
            "  --log-level L       overrides [gateway] log_level\n"
            "  check               validate FILE and print the plan of every bus, then exit\n");
}

/* One line describing an RTU bus's capacity; true if it is asked for more than it carries. */
static bool describe_bus(const gw_config *cfg, size_t bi, char *buf, size_t len)
{
    const struct gw_bus_cfg *b = &cfg->buses[bi];
    struct gw_line line = {b->baud, b->data_bits, b->parity, b->stop_bits, b->turnaround_ms};
    struct gw_bus_plan plan;
    int periods[cfg->n_nodes ? cfg->n_nodes : 1];
    int n = 0;

    for (size_t i = 0; i < cfg->n_nodes; i++)
        if (cfg->nodes[i].bus_index == (int)bi)
            periods[n++] = cfg->nodes[i].period_ms;
    if (b->type == GW_BUS_TCP) {
        snprintf(buf, len, "bus %s: tcp %s, %d units", b->name, b->address, n);
        return false;
    }
    gw_busplan_compute(&line, DEPOT_IR_SCALE_COUNT, periods, n, &plan);
    snprintf(buf, len,
             "bus %s: rtu %s %d %d%c%d, %d units; one poll = %d+%d bytes, %.1f ms "
             "(silence %.2f ms, turnaround %d ms); capacity %.1f polls/s, asked %.1f polls/s "
             "(%.0f%% load)",
             b->name, b->device, b->baud, b->data_bits, b->parity, b->stop_bits, n,
             plan.request_bytes, plan.response_bytes, plan.poll_ms, plan.silence_us / 1000.0,
             b->turnaround_ms, plan.capacity_per_s, plan.demand_per_s, plan.load * 100);
    return plan.load > 1.0;
}

static void log_bus_plans(const gw_config *cfg)
{
    char line[512];
    for (size_t i = 0; i < cfg->n_buses; i++) {
        if (describe_bus(cfg, i, line, sizeof(line)))
            LOG_WARN("%s: OVERLOADED, polls will come late; raise period_ms or the baud rate",
                     line);
        else
            LOG_INFO("%s", line);
    }
}

/* The ledger file as the daemon would find it (read-only); false if it would refuse it. */
static bool check_ledger(const gw_config *cfg)
{
    struct gw_ledger_info li;
    char why[256];
    depot_err e = gw_ledger_verify(cfg->ledger, &li, why, sizeof(why));
    if (e == DEPOT_ERR_NOTFOUND) {
        printf("ledger %s: no ledger yet: a new one is created at start\n", cfg->ledger);
        return true;
    }
    if (e == DEPOT_OK && strcmp(li.dealer, cfg->dealer) != 0)
        snprintf(why, sizeof(why), "belongs to dealer %s, the configuration says %s", li.dealer,
                 cfg->dealer);
    else if (e == DEPOT_OK) {
        printf("ledger %s: OK, id %s, dealer %s, schema version %lld, %lld in the outbox\n",
               cfg->ledger, li.id, li.dealer, li.version, li.outbox);
        return true;
    }
    fprintf(stderr,
            "depot-gateway: ledger %s: %s: refused and left as it is (see \"Recovering a"
            " ledger\" in gateway/README.md)\n",
            cfg->ledger, why);
    return false;
}

/* True if the certificate's CN is the configured dealer (or there is no certificate). */
static bool identity_ok(const gw_config *cfg, const char *path)
{
    char cn[PKI_CN_SIZE];
    depot_err e;

    if (!cfg->cert)
        return true; /* plain MQTT, development only (warned at connect) */
    e = pki_cert_cn(cfg->cert, cn, sizeof(cn));
    if (e != DEPOT_OK) {
        fprintf(stderr, "depot-gateway: %s: [mqtt] cert %s: cannot read its CN (%s)\n", path,
                cfg->cert, depot_strerror(e));
        return false;
    }
    if (strcmp(cn, cfg->dealer) != 0) {
        fprintf(stderr,
                "depot-gateway: %s: [gateway] dealer is %s, but [mqtt] cert %s is the "
                "certificate of dealer %s (its CN); the broker knows a gateway by its "
                "certificate: install dealer %s's certificate or set dealer = %s\n",
                path, cfg->dealer, cfg->cert, cn, cfg->dealer, cn);
        return false;
    }
    return true;
}

static int run_check(const gw_config *cfg, const char *path)
{
    char line[512];
    if (!check_ledger(cfg))
        return 1;
    printf("%s: OK: dealer %s, %zu buses, %zu nodes\n", path, cfg->dealer, cfg->n_buses,
           cfg->n_nodes);
    for (size_t i = 0; i < cfg->n_buses; i++) {
        bool over = describe_bus(cfg, i, line, sizeof(line));
        printf("%s%s\n", line, over ? "  OVERLOADED" : "");
    }
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        const struct gw_node_cfg *n = &cfg->nodes[i];
        if (n->kind == GW_NODE_SCANNER)
            printf("node %s: %s unit %d, scanner terminal, every %d ms, timeout %d ms\n", n->name,
                   n->bus ? n->bus : n->address, n->unit, n->period_ms, n->timeout_ms);
        else
            printf("node %s: %s unit %d, sku %s, %g g/unit, every %d ms, timeout %d ms\n", n->name,
                   n->bus ? n->bus : n->address, n->unit, n->sku, n->unit_weight_g, n->period_ms,
                   n->timeout_ms);
    }
    return 0;
}

static bool poller_faulted(void *ctx, const char *node)
{
    return gw_poller_node_faulted(ctx, node);
}

static depot_err poller_display(void *ctx, const char *node, const struct gw_display *d)
{
    return gw_poller_display(ctx, node, d);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* What the main loop drives besides the link. */
struct daemon {
    const gw_config *cfg;
    gw_terminal *terminal;
    gw_ledger *ledger;
    gw_poller *poller;
    gw_uplink *uplink;
    gw_movements movements;
    long long next_movements_ms, next_metrics_ms;
    bool movements_idle;     /* the last tick found none waiting (and no error) ... */
    uint64_t movements_upto; /* ... and the ledger's last id before it */
};

#define MOVEMENTS_TICK_MS 1000
#define MOVEMENTS_BATCHES_PER_TICK 8
#define MAIN_WAIT_MAX_MS 60000

static void write_metrics(struct daemon *d)
{
    struct gw_metrics_snapshot s;
    if (!d->cfg->metrics_file)
        return;
    if (gw_metrics_collect(d->ledger, d->cfg->ledger, d->cfg->max_entries, d->poller, d->uplink,
                           &s) == DEPOT_OK) {
        gw_metrics_write(d->cfg->metrics_file, &s);
        gw_metrics_clear(&s);
    }
}

/* Does the movements tick have work? Every movement is recorded with a queued message, so with
 * none waiting at the last tick only a new message id can bring one. */
static bool movements_pending(const struct daemon *d)
{
    return d->cfg->send_movements &&
           (!d->movements_idle || gw_ledger_last_id(d->ledger) != d->movements_upto);
}

/* The periodic work besides the link, each when due. */
static void housekeeping(struct daemon *d)
{
    long long now = depot_mono_ms();
    if (now >= d->next_movements_ms && movements_pending(d)) {
        uint64_t upto = gw_ledger_last_id(d->ledger); /* before the tick: none is missed */
        depot_err e =
            gw_movements_tick(&d->movements, d->ledger, now, gw_uplink_connected(d->uplink),
                              MOVEMENTS_BATCHES_PER_TICK, NULL);
        d->next_movements_ms = now + MOVEMENTS_TICK_MS;
        d->movements_idle =
            e == DEPOT_OK && !d->movements.waiting_since_ms && !d->movements.blocked;
        d->movements_upto = upto;
    }
    if (d->cfg->metrics_file && now >= d->next_metrics_ms) {
        d->next_metrics_ms = now + GW_METRICS_PERIOD_MS;
        write_metrics(d);
    }
}

/* The main loop sleeps until the link or the housekeeping has something due: with nothing
 * changing, until the link's next heartbeat or keep-alive (seconds), not once a second. */
static int step_timeout(const struct daemon *d, long long next_wd)
{
    long long now = depot_mono_ms(), next = now + MAIN_WAIT_MAX_MS;
    if (d->cfg->metrics_file && d->next_metrics_ms < next)
        next = d->next_metrics_ms;
    if (d->next_movements_ms < next && movements_pending(d))
        next = d->next_movements_ms;
    if (next_wd && next_wd < next)
        next = next_wd;
    next -= now;
    return gw_uplink_wait_ms(d->uplink, now, next < 1 ? 1 : (int)next);
}

/* SIGHUP: a renewed key and certificate (depot-gateway install-cert) for the orders and the
 * link, taken only if they are a pair of this dealer's; polling goes on meanwhile. */
static void reload_identity(struct daemon *d)
{
    sd_notify(0, "RELOADING=1");
    LOG_INFO("reload: reading [mqtt] cert %s and key %s again", d->cfg->cert ? d->cfg->cert : "-",
             d->cfg->key ? d->cfg->key : "-");
    if (d->cfg->cert && d->cfg->key && gw_identity_settle(d->cfg) == DEPOT_OK &&
        gw_terminal_reload(d->terminal, d->cfg->key, d->cfg->cert) == DEPOT_OK)
        gw_uplink_new_identity(d->uplink);
    else
        LOG_WARN("reload: nothing changed");
    sd_notify(0, "READY=1");
}

static void main_loop(struct daemon *d)
{
    uint64_t wd_usec = 0;
    bool wd = sd_watchdog_enabled(0, &wd_usec) > 0;
    long long next_wd = 0;

    sd_notify(0, "READY=1\nSTATUS=polling");
    while (!stop_requested) {
        if (reload_requested) {
            reload_requested = 0;
            reload_identity(d);
        }
        gw_uplink_step(d->uplink, step_timeout(d, wd ? next_wd : 0));
        housekeeping(d);
        if (wd && depot_mono_ms() >= next_wd) {
            sd_notify(0, "WATCHDOG=1");
            next_wd = depot_mono_ms() + (long long)(wd_usec / 2000);
        }
    }
    sd_notify(0, "STOPPING=1");
    LOG_INFO("stopping");
}

static int run_daemon(const gw_config *cfg)
{
    struct gw_ledger_opts lo = {cfg->ledger, cfg->dealer, cfg->max_entries, cfg->warn_percent};
    gw_ledger *ledger = NULL;
    gw_terminal *terminal = NULL;
    gw_poller *poller = NULL;
    gw_uplink *uplink = NULL;
    depot_err e;
    int rc = 1;

    install_signals();
    mosquitto_lib_init();
    if (gw_identity_settle(cfg) != DEPOT_OK) /* polls and keeps everything all the same */
        LOG_WARN("the link to the broker will fail until [mqtt] cert and key are mended");
    e = gw_ledger_open(&lo, &ledger);
    if (e == DEPOT_OK)
        e = gw_terminal_new(ledger, cfg->key, cfg->cert, &terminal);
    if (e == DEPOT_OK)
        e = gw_poller_new(cfg, ledger, terminal, &poller);
    if (e == DEPOT_OK) {
        struct gw_uplink_opts uo = {cfg, ledger, poller_faulted, poller, poller_display, poller};
        e = gw_uplink_new(&uo, &uplink);
    }
    if (e == DEPOT_OK) {
        log_bus_plans(cfg);
        gw_ledger_append_event(ledger, "gateway", "started", "", 0, depot_now_ms(), NULL);
        e = gw_poller_start(poller);
    }
    if (e == DEPOT_OK) {
        struct daemon d = {cfg, terminal, ledger, poller, uplink, {{0}, 0, false}, 0, 0, false, 0};
        struct gw_movements_opts mo = {cfg->movements_period_s, cfg->movements_batch,
                                       gw_terminal_signer(terminal)};
        gw_movements_init(&d.movements, &mo);
        if (!cfg->send_movements)
            LOG_WARN("send_movements = false: movements stay in the ledger, none go to the hub");
        LOG_INFO("running: dealer %s, ledger %s", cfg->dealer, gw_ledger_id(ledger));
        main_loop(&d);
        gw_poller_stop(poller);
        gw_uplink_shutdown(uplink);
        write_metrics(&d);
        rc = 0;
    } else if (!ledger) {
        LOG_ERROR("cannot start: ledger %s not opened (%s, above)", cfg->ledger, depot_strerror(e));
    } else {
        LOG_ERROR("cannot start: %s", depot_strerror(e));
    }
    gw_uplink_free(uplink);
    gw_poller_free(poller);
    gw_terminal_free(terminal);
    gw_ledger_free(ledger);
    mosquitto_lib_cleanup();
    return rc;
}

static int parse_level(const char *s)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"log-level", required_argument, NULL, 'L'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int level = -1, c;
    bool check = false;
    gw_config *cfg;
    char err[320];

    if (argc > 1 && !strcmp(argv[1], "keygen"))
        return gw_keygen_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "renew"))
        return gw_renew_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "ledger"))
        return gw_ledger_cli_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "install-cert"))
        return gw_install_cert_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "check")) {
        check = true;
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'L' && (level = parse_level(optarg)) >= 0) {
            continue;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    depot_log_init("gateway", level >= 0 ? level : DEPOT_LOG_INFO);
    if (gw_config_load(path, &cfg, err, sizeof(err)) != DEPOT_OK) {
        fprintf(stderr, "depot-gateway: %s\n", err);
        return EXIT_USAGE;
    }
    depot_log_init("gateway", level >= 0 ? level : cfg->log_level);
    if (!identity_ok(cfg, path)) {
        gw_config_free(cfg);
        return EXIT_USAGE;
    }
    c = check ? run_check(cfg, path) : run_daemon(cfg);
    gw_config_free(cfg);
    return c;
}
