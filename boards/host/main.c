/*
 * depot-node for the host board: parses the command line, builds the nodes
 * (scales or scanner terminals, one kind per process) and runs the
 * single-threaded epoll loop until SIGTERM, SIGINT or "quit".
 *
 * Every descriptor is registered in the event set (pollset.c) once, when it
 * is opened. Loop, each round: wait for what is ready until the nearest
 * deadline (on an RTU line: a frame's silence, the next paced byte, the
 * line's raw reset; over TCP there is none), handle it, then the line's
 * timers. Scales are sampled when read (node.c), so nothing wakes the loop
 * for them and a round costs what is ready, not how many nodes there are.
 * Nothing blocks; a slow client costs only itself.
 */
#include "host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_NODES 4096

static volatile sig_atomic_t stop_signal;

typedef struct options {
    const char *tcp, *tcp_range, *link, *control, *state, *units;
    int rtu, noise_set;
    unsigned long baud, unit, fifo;
    long noise;
    enum depot_node_kind kind;
} options;

static void usage(FILE *out)
{
    fputs("usage: depot-node scale|scanner MODE [options]\n"
          "       depot-node ctl SOCKET COMMAND...   (send one control command, print the reply)\n"
          "A Depot field node (the field-node firmware on the host board): a scale, or a\n"
          "scanner terminal with a persistent FIFO of scan events and a display.\n"
          "\n"
          "modes (one of):\n"
          "  --tcp ADDR:PORT         serve Modbus TCP on ADDR:PORT (PORT 0: any free port)\n"
          "  --tcp-range ADDR:P1-P2  one process, one node per port P1..P2\n"
          "  --rtu                   serve Modbus RTU on a new pseudo-terminal; prints\n"
          "                          'pty /dev/pts/N' on stdout\n"
          "options:\n"
          "  --link PATH             (RTU) make PATH a symlink to the pty\n"
          "  --baud N                (RTU) line speed emulated, default 19200\n"
          "  --unit N                Modbus unit id 1..247, default 1 (or the state file's)\n"
          "  --units A,B,C           (RTU) several nodes on the one line\n"
          "  --control PATH          control socket; '%u' in PATH makes one per node\n"
          "                          (%u = unit id, or port with --tcp-range)\n"
          "  --state PATH            persistent state file ('%u' as for --control): config,\n"
          "                          boot epoch and, on a scanner, its FIFO (rewritten\n"
          "                          atomically on every change)\n"
          "  --noise G               (scale) readings vary by +-G grams, default 0\n"
          "  --fifo N                (scanner) FIFO capacity 1..1024, default 64\n"
          "  --help                  this text\n"
          "\n"
          "stdout: 'pty PATH' (RTU), 'tcp ADDR:PORT' or 'tcp ADDR:P1-P2', then 'ready'.\n"
          "On TCP a node answers any unit id; on RTU only its own (0: broadcast write).\n"
          "\n"
          "control socket (UNIX stream, one command per line; reply 'ok', 'ok VALUE' or\n"
          "'error REASON'):\n"
          "  weight GRAMS            (scale) gross weight on the load cell; stable within\n"
          "                          ~10 samples\n"
          "  scan TYPE BARCODE QTY   (scanner) TYPE receive|pick|count|line; BARCODE 1..32\n"
          "                          printable characters; QTY >= 1 (count: >= 0);\n"
          "                          ok SEQ | error fifo full | error bad barcode |\n"
          "                          error bad type | error bad quantity\n"
          "  submit                  (scanner) an order-submit event (no barcode, qty 0): ok SEQ\n"
          "  reboot                  (scanner) reboot: the FIFO stays, the boot epoch\n"
          "                          increments, sequence numbers restart: ok EPOCH\n"
          "  display                 (scanner) ok CODE TEXT, as the gateway last wrote it\n"
          "                          (or 3 FIFO FULL after a refused scan)\n"
          "  fault none|silent|crc|exception [CODE]|unit|truncate|cell\n"
          "                          silent: never reply; crc: RTU bad CRC, TCP garbled MBAP\n"
          "                          (protocol id and length); exception: exception CODE\n"
          "                          (default 04) to all, nothing applied; unit: replies\n"
          "                          carry the next unit id; truncate: half of each reply;\n"
          "                          cell: load-cell fault (status FAULT bit); none: recover\n"
          "  noise [PPM [SEED]]      (RTU) each byte on the line, either way, corrupted with\n"
          "                          probability PPM/10^6 (seeded); ok ppm=.. bytes=.. corrupted=..\n"
          "  status                  scale: ok unit=.. weight=.. gross=.. net=.. tare=..\n"
          "                          status=0x.. stable=.. samples=.. ... requests=.. ...\n"
          "                          scanner: ok unit=.. kind=scanner count=.. capacity=..\n"
          "                          flags=0x.. refused=.. epoch=.. next_seq=.. ack=E,S\n"
          "                          display_code=.. fault=.. requests=.. ...\n"
          "  quit                    stop the process\n"
          "On a socket shared by several nodes, prefix 'unit N ' or 'port P '.\n"
          "e.g. depot-node ctl /run/scan.sock scan line 4006381333931 3\n"
          "Scales sample at 20 Hz. SIGTERM/SIGINT exit cleanly.\n",
          out);
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {{"tcp", required_argument, 0, 't'},
                                             {"tcp-range", required_argument, 0, 'R'},
                                             {"rtu", no_argument, 0, 'r'},
                                             {"link", required_argument, 0, 'l'},
                                             {"baud", required_argument, 0, 'b'},
                                             {"unit", required_argument, 0, 'u'},
                                             {"units", required_argument, 0, 'U'},
                                             {"control", required_argument, 0, 'c'},
                                             {"state", required_argument, 0, 's'},
                                             {"noise", required_argument, 0, 'n'},
                                             {"fifo", required_argument, 0, 'f'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    unsigned long v;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            o->tcp = optarg;
            break;
        case 'R':
            o->tcp_range = optarg;
            break;
        case 'r':
            o->rtu = 1;
            break;
        case 'l':
            o->link = optarg;
            break;
        case 'U':
            o->units = optarg;
            break;
        case 'c':
            o->control = optarg;
            break;
        case 's':
            o->state = optarg;
            break;
        case 'b':
            if (parse_ulong(optarg, 300, 4000000, &o->baud) < 0)
                return fprintf(stderr, "depot-node: --baud: bad value %s\n", optarg), -1;
            break;
        case 'u':
            if (parse_ulong(optarg, 1, 247, &o->unit) < 0)
                return fprintf(stderr, "depot-node: --unit: 1..247, not %s\n", optarg), -1;
            break;
        case 'n':
            if (parse_ulong(optarg, 0, 1000000, &v) < 0)
                return fprintf(stderr, "depot-node: --noise: bad value %s\n", optarg), -1;
            o->noise = (long)v;
            o->noise_set = 1;
            break;
        case 'f':
            if (parse_ulong(optarg, 1, SCANNER_FIFO_MAX, &o->fifo) < 0)
                return fprintf(stderr, "depot-node: --fifo: 1..%d, not %s\n", SCANNER_FIFO_MAX,
                               optarg),
                       -1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    return 0;
}

static int check_modes(const options *o)
{
    int modes = (o->tcp != NULL) + (o->tcp_range != NULL) + o->rtu;
    if (modes != 1)
        return fprintf(stderr, "depot-node: give exactly one of --tcp, --tcp-range, --rtu\n"), -1;
    if ((o->units != NULL || o->link != NULL) && !o->rtu)
        return fprintf(stderr, "depot-node: --units and --link need --rtu\n"), -1;
    if (o->kind == DEPOT_KIND_SCALE && o->fifo != 0)
        return fprintf(stderr, "depot-node: --fifo is for scanner nodes\n"), -1;
    if (o->kind == DEPOT_KIND_SCANNER && o->noise_set)
        return fprintf(stderr, "depot-node: --noise is for scale nodes\n"), -1;
    return 0;
}

/* Splits "ADDR:REST" in place; returns REST or NULL. */
static char *split_addr(char *s)
{
    char *colon = strrchr(s, ':');
    if (colon == NULL)
        return NULL;
    *colon = '\0';
    return colon + 1;
}

/* Expands '%u' in pattern with key (only the first occurrence). */
static void expand(char *out, size_t cap, const char *pattern, unsigned key)
{
    const char *p = strstr(pattern, "%u");
    if (p == NULL) {
        snprintf(out, cap, "%s", pattern);
        return;
    }
    snprintf(out, cap, "%.*s%u%s", (int)(p - pattern), pattern, key, p + 2);
}

typedef struct node_plan {
    uint8_t unit[MAX_NODES];
    uint16_t port[MAX_NODES];
    size_t n;
} node_plan;

static int plan_units(const options *o, node_plan *plan)
{
    char list[1024];
    snprintf(list, sizeof(list), "%s", o->units);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned long u;
        if (parse_ulong(tok, 1, 247, &u) < 0 || plan->n == 247)
            return fprintf(stderr, "depot-node: --units: bad unit %s\n", tok), -1;
        plan->unit[plan->n++] = (uint8_t)u;
    }
    return plan->n > 0 ? 0 : -1;
}

static int plan_ports(char *range, const options *o, node_plan *plan)
{
    char *dash = strchr(range, '-');
    unsigned long p1, p2;
    if (dash == NULL)
        return fprintf(stderr, "depot-node: --tcp-range: ADDR:P1-P2\n"), -1;
    *dash = '\0';
    if (parse_ulong(range, 1, 65535, &p1) < 0 || parse_ulong(dash + 1, p1, 65535, &p2) < 0 ||
        p2 - p1 >= MAX_NODES)
        return fprintf(stderr, "depot-node: --tcp-range: bad ports\n"), -1;
    for (unsigned long p = p1; p <= p2; p++) {
        plan->port[plan->n] = (uint16_t)p;
        plan->unit[plan->n++] = (uint8_t)o->unit;
    }
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int node_setup(host_node *node, const options *o, const char *addr)
{
    if (node->port != 0 || o->tcp != NULL) {
        node->listen_fd = host_tcp_listen(addr, node->port);
        if (node->listen_fd < 0)
            return -1;
    } else {
        mb_rtu_init(&node->rtu, node->rtu_buf, sizeof(node->rtu_buf), (uint32_t)o->baud);
    }
    if (o->control != NULL && strstr(o->control, "%u") != NULL) {
        expand(node->ctl_path, sizeof(node->ctl_path), o->control, node->key);
        node->ctl_fd = host_control_listen(node->ctl_path);
        if (node->ctl_fd < 0)
            return -1;
    }
    return 0;
}

static int build_nodes(host_app *app, const options *o, const node_plan *plan, const char *addr)
{
    app->nodes = calloc(plan->n, sizeof(*app->nodes));
    if (app->nodes == NULL)
        return -1;
    for (size_t i = 0; i < plan->n; i++) {
        host_node *node = &app->nodes[i];
        unsigned key = plan->port[i] != 0 && o->tcp_range != NULL ? plan->port[i] : plan->unit[i];
        char state[256];
        if (o->state != NULL)
            expand(state, sizeof(state), o->state, key);
        node_params p = {.kind = o->kind,
                         .unit = plan->unit[i],
                         .key = key,
                         .state_path = o->state != NULL ? state : NULL,
                         .noise_g = (int32_t)o->noise,
                         .fifo = (uint16_t)(o->fifo != 0 ? o->fifo : SCANNER_FIFO_DEFAULT)};
        app->n_nodes = i + 1;
        if (host_node_init(node, &p) < 0)
            return -1;
        node->port = plan->port[i];
        if (node_setup(node, o, addr) < 0)
            return -1;
    }
    return 0;
}

static void announce_tcp(const host_app *app, const char *addr)
{
    if (app->n_nodes == 1) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        getsockname(app->nodes[0].listen_fd, (struct sockaddr *)&sa, &len);
        printf("tcp %s:%u\n", addr, ntohs(sa.sin_port));
    } else {
        printf("tcp %s:%u-%u\n", addr, app->nodes[0].port, app->nodes[app->n_nodes - 1].port);
    }
}

/* Parses the mode, creates nodes, sockets and the line; prints the banner. */
static int app_setup(host_app *app, options *o)
{
    static node_plan plan;
    char spec[256];
    char *addr = spec, *rest = NULL;
    snprintf(spec, sizeof(spec), "%s", o->tcp ? o->tcp : o->tcp_range ? o->tcp_range : "");
    if (!o->rtu && (rest = split_addr(spec)) == NULL)
        return fprintf(stderr, "depot-node: expected ADDR:PORT\n"), -1;
    unsigned long port;
    if (o->tcp != NULL) {
        if (parse_ulong(rest, 0, 65535, &port) < 0)
            return fprintf(stderr, "depot-node: --tcp: bad port %s\n", rest), -1;
        plan.port[0] = (uint16_t)port;
        plan.unit[plan.n++] = (uint8_t)o->unit;
    } else if (o->tcp_range != NULL) {
        if (plan_ports(rest, o, &plan) < 0)
            return -1;
    } else if (o->units != NULL) {
        if (plan_units(o, &plan) < 0)
            return -1;
    } else {
        plan.unit[plan.n++] = (uint8_t)o->unit;
    }
    if (o->rtu && (app->line = host_rtu_line_open((uint32_t)o->baud, o->link)) == NULL)
        return -1;
    if (build_nodes(app, o, &plan, addr) < 0)
        return -1;
    if (o->control != NULL && strstr(o->control, "%u") == NULL) {
        snprintf(app->shared_ctl_path, sizeof(app->shared_ctl_path), "%s", o->control);
        if ((app->shared_ctl_fd = host_control_listen(o->control)) < 0)
            return -1;
    }
    if (o->rtu)
        printf("pty %s\n", app->line->pty_path);
    else
        announce_tcp(app, addr);
    printf("ready\n");
    fflush(stdout);
    return 0;
}

static void dispatch(host_app *app, const ev_slot *slot)
{
    switch (slot->kind) {
    case EV_TCP_LISTEN:
        host_tcp_accept(app, slot->obj);
        break;
    case EV_TCP_CONN:
        host_tcp_readable(app, slot->obj);
        break;
    case EV_CTL_LISTEN: {
        host_node *node = slot->obj;
        host_control_accept(app, node ? node->ctl_fd : app->shared_ctl_fd, node);
        break;
    }
    case EV_CTL_CLIENT:
        host_control_readable(app, slot->obj);
        break;
    case EV_PTY:
        host_rtu_line_readable(app);
        break;
    }
}

/* Registers the descriptors opened at set-up; -1 when one cannot be. */
static int app_watch(host_app *app)
{
    if (app->line != NULL) {
        app->line->slot = (ev_slot){.kind = EV_PTY, .obj = app->line};
        if (host_pollset_add(&app->ps, app->line->master_fd, &app->line->slot) < 0)
            return -1;
    }
    return host_tcp_watch(app) < 0 || host_control_watch(app) < 0 ? -1 : 0;
}

static int app_run(host_app *app)
{
    int rc = 0;
    if (app_watch(app) < 0) {
        perror("depot-node: epoll");
        return -1;
    }
    host_node_start_sampling(app, host_now_us());
    while (!stop_signal && !app->quit) {
        int n = host_pollset_wait(&app->ps, host_rtu_line_timeout_ms(app));
        if (n < 0 && errno != EINTR) {
            perror("depot-node: epoll_wait");
            rc = -1;
            break;
        }
        for (int i = 0; i < n && !app->quit; i++) {
            const ev_slot *slot = host_pollset_ready(&app->ps, i);
            if (slot != NULL) /* NULL: closed by an event before it in this round */
                dispatch(app, slot);
        }
        host_rtu_line_tick(app);
    }
    return rc;
}

static void app_close(host_app *app)
{
    host_tcp_close_all(app);
    host_control_close_all(app);
    for (size_t i = 0; i < app->n_nodes; i++)
        host_node_close(&app->nodes[i]);
    free(app->nodes);
    host_rtu_line_close(app->line);
    host_pollset_close(&app->ps);
}

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    options o = {.baud = 19200};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "ctl") == 0 &&
        (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return host_ctl_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "scale") == 0)
        o.kind = DEPOT_KIND_SCALE;
    else if (argc >= 2 && strcmp(argv[1], "scanner") == 0)
        o.kind = DEPOT_KIND_SCANNER;
    else {
        usage(stderr);
        return 2;
    }
    if (parse_options(argc - 1, argv + 1, &o) < 0 || check_modes(&o) < 0) {
        usage(stderr);
        return 2;
    }
    raise_fd_limit();
    install_signals();
    host_app app = {.shared_ctl_fd = -1, .ps = {.epfd = -1}};
    int rc = -1;
    if (host_pollset_open(&app.ps) < 0)
        perror("depot-node: epoll");
    else if (app_setup(&app, &o) == 0)
        rc = app_run(&app);
    app_close(&app);
    return rc == 0 ? 0 : 1;
}
