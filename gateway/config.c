/*
 * config.c - the INI configuration of depot-gateway.
 *
 * Owns: the gw_config and every string in it.
 *
 * Every option is declared once, in the table of its section: name, type,
 * bounds, default, and where in the struct it lands. The tables run on the
 * option-table engine of depot/ini.h, which applies the defaults through the
 * same setter as a user value (a default can never escape its own bounds),
 * sets each entry, checks required options and frees the strings. Sections:
 *
 *   [gateway] [mqtt] [outbox]   one each, fields of gw_config itself
 *   [bus:NAME] [node:NAME]      any number, arrays in gw_config
 *
 * This file keeps what a table cannot say: which section an entry lands in
 * (the named bus and node sections grow arrays), and the checks that span
 * options. The file is read through depot/ini.h, which refuses a NUL byte, a
 * line too long for the parser, a section or an option given twice, and
 * gives each entry its line: every error, also the ones found after parsing
 * (a missing option, a node naming an unknown bus), reads "file:line: what".
 *
 * Invariants after a successful load: every required option is set; every
 * node has exactly one of bus/address and bus_index resolves it; a scale has
 * sku and unit_weight_g, a scanner has neither (nor hysteresis) and polls
 * every GW_SCANNER_PERIOD_MS unless period_ms is given; SKUs are unique
 * across scales (two scales counting one SKU would fight over it); ca/cert/key
 * are all set or all unset.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "busplan.h"
#include "depot/alloc.h"
#include "depot/ini.h"
#include "depot/log.h"
#include "depot/modbus_map.h"
#include "depot/msg.h"

static const struct depot_ini_enum log_levels[] = {{"debug", DEPOT_LOG_DEBUG},
                                                   {"info", DEPOT_LOG_INFO},
                                                   {"warn", DEPOT_LOG_WARN},
                                                   {"error", DEPOT_LOG_ERROR},
                                                   {NULL, 0}};
static const struct depot_ini_enum bus_types[] = {
    {"rtu", GW_BUS_RTU}, {"tcp", GW_BUS_TCP}, {NULL, 0}};
static const struct depot_ini_enum parities[] = {{"N", 'N'}, {"E", 'E'}, {"O", 'O'}, {NULL, 0}};
static const struct depot_ini_enum kinds[] = {
    {"scale", GW_NODE_SCALE}, {"scanner", GW_NODE_SCANNER}, {NULL, 0}};

#define G(f) offsetof(gw_config, f)
#define B(f) offsetof(struct gw_bus_cfg, f)
#define N(f) offsetof(struct gw_node_cfg, f)

/* A row: option name, type, field offset, bounds (numbers) or length (strings), default. */
#define OPT(nm, ty, off, lo, hi, d)                                                                \
    {                                                                                              \
        .name = (nm), .type = (ty), .offset = (off), .min = (lo), .max = (hi), .def = (d)          \
    }
#define ENUM(nm, off, d, m)                                                                        \
    {                                                                                              \
        .name = (nm), .type = DEPOT_INI_ENUM, .offset = (off), .def = (d), .map = (m)              \
    }
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }

static const struct depot_ini_opt gateway_opts[] = {
    {.name = "dealer",
     .type = DEPOT_INI_ID,
     .offset = G(dealer),
     .min = 1,
     .max = DEPOT_DEALER_MAX,
     .flags = DEPOT_INI_REQUIRED},
    OPT("ledger", DEPOT_INI_STR, G(ledger), 1, 4096, "/var/lib/depot/ledger.db"),
    OPT("snapshot_period_s", DEPOT_INI_INT, G(snapshot_period_s), 5, 86400, "300"),
    OPT("heartbeat_s", DEPOT_INI_INT, G(heartbeat_s), 1, 3600, "30"),
    ENUM("log_level", G(log_level), "info", log_levels),
    OPT("metrics_file", DEPOT_INI_STR, G(metrics_file), 1, 4096, NULL),
    OPT("poll_threads", DEPOT_INI_INT, G(poll_threads), 1, 64, "4"),
    OPT("send_movements", DEPOT_INI_BOOL, G(send_movements), 0, 0, "true"),
    OPT("movements_period_s", DEPOT_INI_INT, G(movements_period_s), 1, 3600, "5"),
    OPT("movements_batch", DEPOT_INI_INT, G(movements_batch), 1, DEPOT_MOVEMENTS_MAX_ITEMS, "500"),
    END,
};

static const struct depot_ini_opt mqtt_opts[] = {
    OPT("host", DEPOT_INI_STR, G(host), 1, 255, "localhost"),
    OPT("port", DEPOT_INI_INT, G(port), 1, 65535, "8883"),
    OPT("ca", DEPOT_INI_STR, G(ca), 1, 4096, NULL),
    OPT("cert", DEPOT_INI_STR, G(cert), 1, 4096, NULL),
    OPT("key", DEPOT_INI_STR, G(key), 1, 4096, NULL),
    OPT("keepalive_s", DEPOT_INI_INT, G(keepalive_s), 5, 3600, "30"),
    OPT("rate", DEPOT_INI_INT, G(rate), 1, 100000, "200"),
    OPT("window", DEPOT_INI_INT, G(window), 1, 100000, "500"),
    OPT("resend_s", DEPOT_INI_INT, G(resend_s), 1, 3600, "10"),
    END,
};

static const struct depot_ini_opt outbox_opts[] = {
    OPT("max_entries", DEPOT_INI_LLONG, G(max_entries), 100, 100000000, "100000"),
    OPT("warn_percent", DEPOT_INI_INT, G(warn_percent), 1, 100, "80"),
    END,
};

static const struct depot_ini_opt bus_opts[] = {
    {.name = "type",
     .type = DEPOT_INI_ENUM,
     .offset = B(type),
     .map = bus_types,
     .flags = DEPOT_INI_REQUIRED},
    OPT("device", DEPOT_INI_STR, B(device), 1, 4096, NULL),
    OPT("address", DEPOT_INI_ADDR, B(address), 1, 300, NULL),
    OPT("baud", DEPOT_INI_INT, B(baud), 300, 4000000, "9600"),
    ENUM("parity", B(parity), "E", parities),
    OPT("data_bits", DEPOT_INI_INT, B(data_bits), 7, 8, "8"),
    OPT("stop_bits", DEPOT_INI_INT, B(stop_bits), 1, 2, "1"),
    OPT("timeout_ms", DEPOT_INI_INT, B(timeout_ms), 10, 10000, "200"),
    OPT("turnaround_ms", DEPOT_INI_INT, B(turnaround_ms), 0, 1000, "5"),
    OPT("rs485", DEPOT_INI_BOOL, B(rs485), 0, 0, "false"),
    END,
};

static const struct depot_ini_opt node_opts[] = {
    OPT("bus", DEPOT_INI_ID, N(bus), 1, DEPOT_NODE_MAX, NULL),
    OPT("address", DEPOT_INI_ADDR, N(address), 1, 300, NULL),
    OPT("unit", DEPOT_INI_INT, N(unit), 0, 255, "1"),
    ENUM("kind", N(kind), "scale", kinds),
    /* scales only: required for kind = scale, refused for kind = scanner (check_node_kind) */
    OPT("sku", DEPOT_INI_ID, N(sku), 1, DEPOT_SKU_MAX, NULL),
    OPT("unit_weight_g", DEPOT_INI_DOUBLE, N(unit_weight_g), 0.001, 1000000, NULL),
    OPT("period_ms", DEPOT_INI_INT, N(period_ms), GW_PERIOD_MIN_MS, 3600000, "1000"),
    OPT("hysteresis", DEPOT_INI_DOUBLE, N(hysteresis), 0, 0.45, "0.3"),
    OPT("timeout_ms", DEPOT_INI_INT, N(timeout_ms), 0, 10000, "0"),
    END,
};

struct parse_ctx {
    gw_config *cfg;
    const char *file;
    int line; /* of the entry being applied */
    char *err;
    size_t err_len;
    unsigned given_gateway, given_mqtt, given_outbox;
    int line_gateway;
};

/* err = "file:line: <fmt ...>"; DEPOT_ERR_CONFIG. */
static depot_err fail_at(struct parse_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static depot_err fail_at(struct parse_ctx *c, int line, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->err_len, "%s:%d: %s", c->file, line, what);
    return DEPOT_ERR_CONFIG;
}

/* ---- sections ---- */

struct section {
    const struct depot_ini_opt *table;
    void *base;
    unsigned *given;
};

static void *grow(void *arr, size_t n, size_t size)
{
    return depot_realloc(arr, (n + 1) * size);
}

/* The defaults of a new bus or node; false (no memory) leaves its strings to gw_config_free. */
static bool named_defaults(const struct depot_ini_opt *table, void *base)
{
    char why[200];
    depot_err e = depot_ini_opts_defaults(table, base, why, sizeof(why));

    if (e == DEPOT_ERR_INVAL)
        abort(); /* a default outside its own bounds is a bug in the table */
    return e == DEPOT_OK;
}

static struct gw_bus_cfg *bus_get(struct parse_ctx *c, const char *name)
{
    gw_config *g = c->cfg;
    for (size_t i = 0; i < g->n_buses; i++)
        if (!strcmp(g->buses[i].name, name))
            return &g->buses[i];
    struct gw_bus_cfg *arr = grow(g->buses, g->n_buses, sizeof(*arr));
    if (!arr)
        return NULL;
    g->buses = arr;
    struct gw_bus_cfg *b = &arr[g->n_buses];
    memset(b, 0, sizeof(*b));
    b->name = depot_strdup(name);
    if (!b->name)
        return NULL;
    g->n_buses++;
    b->line = c->line;
    return named_defaults(bus_opts, b) ? b : NULL;
}

static struct gw_node_cfg *node_get(struct parse_ctx *c, const char *name)
{
    gw_config *g = c->cfg;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name))
            return &g->nodes[i];
    struct gw_node_cfg *arr = grow(g->nodes, g->n_nodes, sizeof(*arr));
    if (!arr)
        return NULL;
    g->nodes = arr;
    struct gw_node_cfg *n = &arr[g->n_nodes];
    memset(n, 0, sizeof(*n));
    n->name = depot_strdup(name);
    if (!n->name)
        return NULL;
    g->n_nodes++;
    n->line = c->line;
    n->bus_index = -1;
    return named_defaults(node_opts, n) ? n : NULL;
}

/* A [bus:NAME] or [node:NAME] section: its element of the array, made on first sight. */
static depot_err named_section(struct parse_ctx *c, const char *section, struct section *s,
                               char *why, size_t why_len)
{
    const char *name = strchr(section, ':') + 1;

    if (!depot_id_valid(name, DEPOT_NODE_MAX)) {
        snprintf(why, why_len, "[%s]: '%s' is not a valid name", section, name);
        return DEPOT_ERR_CONFIG;
    }
    if (section[0] == 'b') {
        struct gw_bus_cfg *b = bus_get(c, name);
        *s = (struct section){bus_opts, b, b ? &b->seen : NULL};
    } else {
        struct gw_node_cfg *n = node_get(c, name);
        *s = (struct section){node_opts, n, n ? &n->seen : NULL};
    }
    if (s->base)
        return DEPOT_OK;
    snprintf(why, why_len, "out of memory");
    return DEPOT_ERR_NOMEM;
}

/* Resolve a section header to its table and struct. */
static depot_err find_section(struct parse_ctx *c, const char *section, struct section *s,
                              char *why, size_t why_len)
{
    if (!strcmp(section, "gateway")) {
        *s = (struct section){gateway_opts, c->cfg, &c->given_gateway};
        if (!c->line_gateway)
            c->line_gateway = c->line;
        return DEPOT_OK;
    }
    if (!strcmp(section, "mqtt")) {
        *s = (struct section){mqtt_opts, c->cfg, &c->given_mqtt};
        return DEPOT_OK;
    }
    if (!strcmp(section, "outbox")) {
        *s = (struct section){outbox_opts, c->cfg, &c->given_outbox};
        return DEPOT_OK;
    }
    if (strchr(section, ':') && (!strncmp(section, "bus:", 4) || !strncmp(section, "node:", 5)))
        return named_section(c, section, s, why, why_len);
    snprintf(why, why_len, "unknown section [%s]", section);
    return DEPOT_ERR_CONFIG;
}

/* One entry of the file (depot/ini.h puts "file:line: " before why). */
static depot_err on_entry(void *user, const struct depot_ini_entry *e, char *why, size_t why_len)
{
    struct parse_ctx *c = user;
    struct section s;
    depot_err code;

    c->line = e->line;
    code = find_section(c, e->section, &s, why, why_len);
    if (code == DEPOT_OK)
        code = depot_ini_opts_apply(s.table, s.base, s.given, e, why, why_len);
    return code == DEPOT_ERR_NOTFOUND ? DEPOT_ERR_CONFIG : code;
}

/* ---- checks after parsing ---- */

static depot_err check_bus(struct parse_ctx *c, struct gw_bus_cfg *b)
{
    char sec[64];
    depot_err e;

    snprintf(sec, sizeof(sec), "bus:%s", b->name);
    e = depot_ini_opts_required(bus_opts, b->seen, c->file, b->line, sec, c->err, c->err_len);
    if (e != DEPOT_OK)
        return e;
    if (b->type == GW_BUS_RTU && !b->device)
        return fail_at(c, b->line, "[%s]: type=rtu needs 'device'", sec);
    if (b->type == GW_BUS_TCP && !b->address)
        return fail_at(c, b->line, "[%s]: type=tcp needs 'address' (HOST:PORT)", sec);
    if (b->type == GW_BUS_RTU && b->data_bits == 7 && b->parity == 'N' && b->stop_bits == 1)
        LOG_WARN("%s:%d: [%s]: 7N1 is not a Modbus RTU framing", c->file, b->line, sec);
    return DEPOT_OK;
}

static int find_bus(const gw_config *g, const char *name)
{
    for (size_t i = 0; i < g->n_buses; i++)
        if (!strcmp(g->buses[i].name, name))
            return (int)i;
    return -1;
}

/* On an RTU line a node cannot be polled more often than one poll takes on the wire. */
static depot_err check_rtu_period(struct parse_ctx *c, const struct gw_node_cfg *n,
                                  const struct gw_bus_cfg *b, const char *sec)
{
    struct gw_line line = {b->baud, b->data_bits, b->parity, b->stop_bits, b->turnaround_ms};
    struct gw_bus_plan plan;
    int regs = n->kind == GW_NODE_SCANNER /* the block the poller reads (poller.c) */
                   ? DEPOT_IR_SCAN_HEAD + DEPOT_IR_SCAN_HEAD_COUNT - DEPOT_IR_SCAN_COUNT
                   : DEPOT_IR_SCALE_COUNT;
    gw_busplan_compute(&line, regs, &n->period_ms, 1, &plan);
    if (n->period_ms < plan.poll_ms)
        return fail_at(c, n->line,
                       "[%s]: period_ms = %d is shorter than one poll on [bus:%s] (%.1f ms at %d "
                       "baud)",
                       sec, n->period_ms, b->name, plan.poll_ms, b->baud);
    return DEPOT_OK;
}

static depot_err check_node_link(struct parse_ctx *c, struct gw_node_cfg *n, const char *sec)
{
    gw_config *g = c->cfg;
    if (!n->bus == !n->address)
        return fail_at(c, n->line, "[%s]: give exactly one of 'bus' and 'address'", sec);
    if (n->bus) {
        n->bus_index = find_bus(g, n->bus);
        if (n->bus_index < 0)
            return fail_at(c, n->line, "[%s]: no [bus:%s]", sec, n->bus);
        const struct gw_bus_cfg *b = &g->buses[n->bus_index];
        if (b->type == GW_BUS_RTU && (n->unit < 1 || n->unit > 247))
            return fail_at(c, n->line, "[%s]: unit must be 1..247 on an RTU bus", sec);
        if (!n->timeout_ms)
            n->timeout_ms = b->timeout_ms;
        if (b->type == GW_BUS_RTU)
            return check_rtu_period(c, n, b, sec);
    } else if (!n->timeout_ms) {
        n->timeout_ms = 500;
    }
    return DEPOT_OK;
}

/* What a kind needs and refuses: scales count one SKU, scanners carry barcodes. */
static depot_err check_node_kind(struct parse_ctx *c, struct gw_node_cfg *n, const char *sec)
{
    static const char *const scale_only[] = {"sku", "unit_weight_g", "hysteresis"};
    if (n->kind == GW_NODE_SCALE) {
        for (size_t i = 0; i < 2; i++)
            if (!depot_ini_opt_given(node_opts, n->seen, scale_only[i]))
                return fail_at(c, n->line, "[%s]: missing option '%s'", sec, scale_only[i]);
        return DEPOT_OK;
    }
    for (size_t i = 0; i < sizeof(scale_only) / sizeof(scale_only[0]); i++)
        if (depot_ini_opt_given(node_opts, n->seen, scale_only[i]))
            return fail_at(c, n->line, "[%s]: '%s' is for scales, not for kind = scanner", sec,
                           scale_only[i]);
    if (!depot_ini_opt_given(node_opts, n->seen, "period_ms"))
        n->period_ms = GW_SCANNER_PERIOD_MS;
    return DEPOT_OK;
}

static depot_err check_node(struct parse_ctx *c, struct gw_node_cfg *n, size_t index)
{
    gw_config *g = c->cfg;
    char sec[64];
    depot_err e;

    snprintf(sec, sizeof(sec), "node:%s", n->name);
    e = depot_ini_opts_required(node_opts, n->seen, c->file, n->line, sec, c->err, c->err_len);
    if (e == DEPOT_OK)
        e = check_node_link(c, n, sec);
    if (e == DEPOT_OK)
        e = check_node_kind(c, n, sec);
    for (size_t i = 0; e == DEPOT_OK && n->sku && i < index; i++)
        if (g->nodes[i].sku && !strcmp(g->nodes[i].sku, n->sku))
            e = fail_at(c, n->line, "[%s]: sku %s is already counted by another node", sec, n->sku);
    return e;
}

static depot_err check_all(struct parse_ctx *c)
{
    gw_config *g = c->cfg;
    int tls = !!g->ca + !!g->cert + !!g->key;
    depot_err e = depot_ini_opts_required(gateway_opts, c->given_gateway, c->file,
                                          c->line_gateway ? c->line_gateway : 1, "gateway", c->err,
                                          c->err_len);

    if (e == DEPOT_OK && tls != 0 && tls != 3)
        e = fail_at(c, 1, "[mqtt]: give all of ca, cert and key, or none");
    for (size_t i = 0; e == DEPOT_OK && i < g->n_buses; i++)
        e = check_bus(c, &g->buses[i]);
    for (size_t i = 0; e == DEPOT_OK && i < g->n_nodes; i++)
        e = check_node(c, &g->nodes[i], i);
    return e;
}

/* The defaults of [gateway], [mqtt] and [outbox]. */
static depot_err top_defaults(gw_config *cfg, char *err, size_t err_len)
{
    const struct depot_ini_opt *const tables[] = {gateway_opts, mqtt_opts, outbox_opts};
    depot_err e = DEPOT_OK;

    for (size_t i = 0; e == DEPOT_OK && i < sizeof(tables) / sizeof(tables[0]); i++)
        e = depot_ini_opts_defaults(tables[i], cfg, err, err_len);
    if (e == DEPOT_ERR_INVAL)
        abort(); /* a default outside its own bounds is a bug in the table */
    return e;
}

/* ---- public ---- */

bool gw_config_split_address(const char *addr, char *host, size_t host_len, int *port)
{
    return depot_ini_split_address(addr, host, host_len, port);
}

void gw_config_free(gw_config *cfg)
{
    if (!cfg)
        return;
    depot_ini_opts_free(gateway_opts, cfg);
    depot_ini_opts_free(mqtt_opts, cfg);
    depot_ini_opts_free(outbox_opts, cfg);
    for (size_t i = 0; i < cfg->n_buses; i++) {
        depot_ini_opts_free(bus_opts, &cfg->buses[i]);
        depot_free(cfg->buses[i].name);
    }
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        depot_ini_opts_free(node_opts, &cfg->nodes[i]);
        depot_free(cfg->nodes[i].name);
    }
    depot_free(cfg->buses);
    depot_free(cfg->nodes);
    depot_free(cfg);
}

depot_err gw_config_load_stream(FILE *f, const char *name, gw_config **out, char *err,
                                size_t err_len)
{
    struct parse_ctx c = {.file = name, .err = err, .err_len = err_len};
    depot_err e;

    c.cfg = depot_calloc(1, sizeof(*c.cfg));
    if (!c.cfg) {
        snprintf(err, err_len, "%s: out of memory", name);
        return DEPOT_ERR_NOMEM;
    }
    e = top_defaults(c.cfg, err, err_len);
    if (e == DEPOT_OK)
        e = depot_ini_parse_stream(f, name, on_entry, &c, err, err_len);
    if (e == DEPOT_OK)
        e = check_all(&c);
    if (e != DEPOT_OK) {
        gw_config_free(c.cfg);
        return e;
    }
    *out = c.cfg;
    return DEPOT_OK;
}

depot_err gw_config_load(const char *path, gw_config **out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    depot_err e;
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return DEPOT_ERR_IO;
    }
    e = gw_config_load_stream(f, path, out, err, err_len);
    fclose(f);
    return e;
}
