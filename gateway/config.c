/*
 * config.c - the INI configuration of depot-gateway.
 *
 * Owns: the gw_config and every string in it.
 *
 * Every option is declared once, in the table of its section: name, type,
 * bounds, default, and where in the struct it lands (Redis config.c style).
 * Defaults are applied by feeding the default text through the same setter
 * as a user value, so a default can never escape its own bounds. Sections:
 *
 *   [gateway] [mqtt] [outbox]   one each, fields of gw_config itself
 *   [bus:NAME] [node:NAME]      any number, arrays in gw_config
 *
 * The file is read through depot/ini.h, which refuses a NUL byte, a line too
 * long for the parser, a section or an option given twice, and gives each
 * entry its line: every error, also the ones found after parsing (a missing
 * option, a node naming an unknown bus), reads "file:line: what".
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
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "depot/alloc.h"
#include "depot/ini.h"
#include "depot/log.h"
#include "depot/msg.h"

enum opt_type { OPT_STR, OPT_ID, OPT_ADDR, OPT_INT, OPT_LLONG, OPT_DOUBLE, OPT_BOOL, OPT_ENUM };

struct enum_map {
    const char *name;
    int value;
};

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    double min, max;           /* numbers: bounds; OPT_ID: max length */
    const char *def;           /* NULL: no default */
    bool required;             /* must be given (only meaningful with def == NULL) */
    const struct enum_map *em; /* OPT_ENUM: accepted names, NULL-terminated */
};

static const struct enum_map log_levels[] = {{"debug", DEPOT_LOG_DEBUG},
                                             {"info", DEPOT_LOG_INFO},
                                             {"warn", DEPOT_LOG_WARN},
                                             {"error", DEPOT_LOG_ERROR},
                                             {NULL, 0}};
static const struct enum_map bus_types[] = {{"rtu", GW_BUS_RTU}, {"tcp", GW_BUS_TCP}, {NULL, 0}};
static const struct enum_map parities[] = {{"N", 'N'}, {"E", 'E'}, {"O", 'O'}, {NULL, 0}};
static const struct enum_map kinds[] = {
    {"scale", GW_NODE_SCALE}, {"scanner", GW_NODE_SCANNER}, {NULL, 0}};

#define G(f) offsetof(gw_config, f)
#define B(f) offsetof(struct gw_bus_cfg, f)
#define N(f) offsetof(struct gw_node_cfg, f)

static const struct opt gateway_opts[] = {
    {"dealer", OPT_ID, G(dealer), 1, DEPOT_DEALER_MAX, NULL, true, NULL},
    {"ledger", OPT_STR, G(ledger), 1, 4096, "/var/lib/depot/ledger.db", false, NULL},
    {"snapshot_period_s", OPT_INT, G(snapshot_period_s), 5, 86400, "300", false, NULL},
    {"heartbeat_s", OPT_INT, G(heartbeat_s), 1, 3600, "30", false, NULL},
    {"log_level", OPT_ENUM, G(log_level), 0, 0, "info", false, log_levels},
    {"metrics_file", OPT_STR, G(metrics_file), 1, 4096, NULL, false, NULL},
    {"poll_threads", OPT_INT, G(poll_threads), 1, 64, "4", false, NULL},
    {"send_movements", OPT_BOOL, G(send_movements), 0, 0, "true", false, NULL},
    {"movements_period_s", OPT_INT, G(movements_period_s), 1, 3600, "5", false, NULL},
    {"movements_batch", OPT_INT, G(movements_batch), 1, DEPOT_MOVEMENTS_MAX_ITEMS, "500", false,
     NULL},
    {NULL, 0, 0, 0, 0, NULL, false, NULL},
};

static const struct opt mqtt_opts[] = {
    {"host", OPT_STR, G(host), 1, 255, "localhost", false, NULL},
    {"port", OPT_INT, G(port), 1, 65535, "8883", false, NULL},
    {"ca", OPT_STR, G(ca), 1, 4096, NULL, false, NULL},
    {"cert", OPT_STR, G(cert), 1, 4096, NULL, false, NULL},
    {"key", OPT_STR, G(key), 1, 4096, NULL, false, NULL},
    {"keepalive_s", OPT_INT, G(keepalive_s), 5, 3600, "30", false, NULL},
    {"rate", OPT_INT, G(rate), 1, 100000, "200", false, NULL},
    {"window", OPT_INT, G(window), 1, 100000, "500", false, NULL},
    {"resend_s", OPT_INT, G(resend_s), 1, 3600, "10", false, NULL},
    {NULL, 0, 0, 0, 0, NULL, false, NULL},
};

static const struct opt outbox_opts[] = {
    {"max_entries", OPT_LLONG, G(max_entries), 100, 100000000, "100000", false, NULL},
    {"warn_percent", OPT_INT, G(warn_percent), 1, 100, "80", false, NULL},
    {NULL, 0, 0, 0, 0, NULL, false, NULL},
};

static const struct opt bus_opts[] = {
    {"type", OPT_ENUM, B(type), 0, 0, NULL, true, bus_types},
    {"device", OPT_STR, B(device), 1, 4096, NULL, false, NULL},
    {"address", OPT_ADDR, B(address), 1, 300, NULL, false, NULL},
    {"baud", OPT_INT, B(baud), 300, 4000000, "9600", false, NULL},
    {"parity", OPT_ENUM, B(parity), 0, 0, "E", false, parities},
    {"data_bits", OPT_INT, B(data_bits), 7, 8, "8", false, NULL},
    {"stop_bits", OPT_INT, B(stop_bits), 1, 2, "1", false, NULL},
    {"timeout_ms", OPT_INT, B(timeout_ms), 10, 10000, "200", false, NULL},
    {"turnaround_ms", OPT_INT, B(turnaround_ms), 0, 1000, "5", false, NULL},
    {"rs485", OPT_BOOL, B(rs485), 0, 0, "false", false, NULL},
    {NULL, 0, 0, 0, 0, NULL, false, NULL},
};

static const struct opt node_opts[] = {
    {"bus", OPT_ID, N(bus), 1, DEPOT_NODE_MAX, NULL, false, NULL},
    {"address", OPT_ADDR, N(address), 1, 300, NULL, false, NULL},
    {"unit", OPT_INT, N(unit), 0, 255, "1", false, NULL},
    {"kind", OPT_ENUM, N(kind), 0, 0, "scale", false, kinds},
    /* scales only: required for kind = scale, refused for kind = scanner (check_node_kind) */
    {"sku", OPT_ID, N(sku), 1, DEPOT_SKU_MAX, NULL, false, NULL},
    {"unit_weight_g", OPT_DOUBLE, N(unit_weight_g), 0.001, 1000000, NULL, false, NULL},
    {"period_ms", OPT_INT, N(period_ms), 50, 3600000, "1000", false, NULL},
    {"hysteresis", OPT_DOUBLE, N(hysteresis), 0, 0.45, "0.3", false, NULL},
    {"timeout_ms", OPT_INT, N(timeout_ms), 0, 10000, "0", false, NULL},
    {NULL, 0, 0, 0, 0, NULL, false, NULL},
};

struct parse_ctx {
    gw_config *cfg;
    const char *file;
    int line;      /* of the entry being applied */
    char err[256]; /* first error, already "file:line: ..." */
    unsigned seen_gateway, seen_mqtt, seen_outbox;
    int line_gateway;
};

static void set_err(struct parse_ctx *c, int line, const char *fmt, const char *a, const char *b)
{
    char what[200];
    if (c->err[0])
        return;
    snprintf(what, sizeof(what), fmt, a, b);
    snprintf(c->err, sizeof(c->err), "%s:%d: %s", c->file, line, what);
}

/* ---- setters: text -> field, with bounds. Return NULL or a reason. ---- */

static const char *set_string(const struct opt *o, void *field, const char *v)
{
    char **p = field;
    size_t n = strlen(v);
    if (n < (size_t)o->min)
        return "must not be empty";
    if (n > (size_t)o->max)
        return "is too long";
    if (o->type == OPT_ID && !depot_id_valid(v, (size_t)o->max))
        return "is not a valid id (" DEPOT_ID_RULE ")";
    if (o->type == OPT_ADDR && !gw_config_split_address(v, NULL, 0, NULL))
        return "is not HOST:PORT";
    char *d = depot_strdup(v);
    if (!d)
        return "out of memory";
    depot_free(*p);
    *p = d;
    return NULL;
}

static const char *parse_number(const struct opt *o, const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = (o->type == OPT_DOUBLE) ? strtod(v, &end) : (double)strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return o->type == OPT_DOUBLE ? "is not a number" : "is not an integer";
    if (d < o->min || d > o->max)
        return "is out of range";
    *out = d;
    return NULL;
}

static const char *set_enum(const struct opt *o, void *field, const char *v)
{
    for (const struct enum_map *e = o->em; e->name; e++) {
        if (strcmp(e->name, v) == 0) {
            *(int *)field = e->value;
            return NULL;
        }
    }
    return "is not one of the accepted values";
}

static const char *set_bool(void *field, const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *(bool *)field = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *(bool *)field = false;
    else
        return "is not a boolean (true/false)";
    return NULL;
}

static const char *set_value(const struct opt *o, void *base, const char *v)
{
    void *field = (char *)base + o->offset;
    double d;
    const char *why;
    switch (o->type) {
    case OPT_STR:
    case OPT_ID:
    case OPT_ADDR:
        return set_string(o, field, v);
    case OPT_ENUM:
        return set_enum(o, field, v);
    case OPT_BOOL:
        return set_bool(field, v);
    default:
        break;
    }
    why = parse_number(o, v, &d);
    if (why)
        return why;
    if (o->type == OPT_INT)
        *(int *)field = (int)d;
    else if (o->type == OPT_LLONG)
        *(long long *)field = (long long)d;
    else
        *(double *)field = d;
    return NULL;
}

static void apply_defaults(const struct opt *table, void *base)
{
    for (const struct opt *o = table; o->name; o++) {
        if (o->def && set_value(o, base, o->def))
            abort(); /* a default outside its own bounds is a bug in the table */
    }
}

static void free_strings(const struct opt *table, void *base)
{
    for (const struct opt *o = table; o->name; o++) {
        if (o->type == OPT_STR || o->type == OPT_ID || o->type == OPT_ADDR) {
            char **p = (char **)((char *)base + o->offset);
            depot_free(*p);
            *p = NULL;
        }
    }
}

/* ---- sections ---- */

struct section {
    const struct opt *table;
    void *base;
    unsigned *seen;
};

static void *grow(void *arr, size_t n, size_t size)
{
    return depot_realloc(arr, (n + 1) * size);
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
    apply_defaults(bus_opts, b);
    return b;
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
    apply_defaults(node_opts, n);
    return n;
}

/* Resolve a section header to its table and struct; false with c->err set if unknown. */
static bool find_section(struct parse_ctx *c, const char *section, struct section *s)
{
    const char *name = strchr(section, ':');
    if (!strcmp(section, "gateway")) {
        *s = (struct section){gateway_opts, c->cfg, &c->seen_gateway};
        if (!c->line_gateway)
            c->line_gateway = c->line;
        return true;
    }
    if (!strcmp(section, "mqtt")) {
        *s = (struct section){mqtt_opts, c->cfg, &c->seen_mqtt};
        return true;
    }
    if (!strcmp(section, "outbox")) {
        *s = (struct section){outbox_opts, c->cfg, &c->seen_outbox};
        return true;
    }
    if (name && (!strncmp(section, "bus:", 4) || !strncmp(section, "node:", 5))) {
        if (!depot_id_valid(name + 1, DEPOT_NODE_MAX)) {
            set_err(c, c->line, "[%s]: '%s' is not a valid name", section, name + 1);
            return false;
        }
        if (section[0] == 'b') {
            struct gw_bus_cfg *b = bus_get(c, name + 1);
            *s = (struct section){bus_opts, b, b ? &b->seen : NULL};
        } else {
            struct gw_node_cfg *n = node_get(c, name + 1);
            *s = (struct section){node_opts, n, n ? &n->seen : NULL};
        }
        if (!s->base)
            set_err(c, c->line, "%s%s", "out of memory", "");
        return s->base != NULL;
    }
    set_err(c, c->line, "unknown section [%s]%s", section, "");
    return false;
}

/* One entry of the file; errors go to c->err (so why stays empty). */
static bool ini_handler_cb(void *user, const struct depot_ini_entry *e, char *unused,
                           size_t unused_len)
{
    struct parse_ctx *c = user;
    const char *section = e->section, *name = e->name, *value = e->value;
    struct section s;
    const struct opt *o;
    unsigned bit;

    (void)unused;
    (void)unused_len;
    c->line = e->line;
    if (!find_section(c, section, &s))
        return 0;
    for (o = s.table; o->name && strcmp(o->name, name); o++)
        ;
    if (!o->name) {
        set_err(c, c->line, "unknown option '%s' in [%s]", name, section);
        return 0;
    }
    bit = 1u << (o - s.table);
    if (*s.seen & bit) {
        set_err(c, c->line, "option '%s' given twice in [%s]", name, section);
        return 0;
    }
    *s.seen |= bit;
    const char *why = set_value(o, s.base, value);
    if (why) {
        char what[160];
        snprintf(what, sizeof(what), "%s = '%.80s' %s", name, value, why);
        if (o->type == OPT_INT || o->type == OPT_LLONG || o->type == OPT_DOUBLE) {
            size_t n = strlen(what);
            snprintf(what + n, sizeof(what) - n, " (%g..%g)", o->min, o->max);
        }
        set_err(c, c->line, "%s%s", what, "");
        return 0;
    }
    return 1;
}

/* ---- checks after parsing ---- */

static bool check_required(struct parse_ctx *c, const struct opt *table, unsigned seen, int line,
                           const char *section)
{
    for (const struct opt *o = table; o->name; o++) {
        if (o->required && !(seen & (1u << (o - table)))) {
            set_err(c, line, "[%s]: missing option '%s'", section, o->name);
            return false;
        }
    }
    return true;
}

static bool check_bus(struct parse_ctx *c, struct gw_bus_cfg *b)
{
    char sec[64];
    snprintf(sec, sizeof(sec), "bus:%s", b->name);
    if (!check_required(c, bus_opts, b->seen, b->line, sec))
        return false;
    if (b->type == GW_BUS_RTU && !b->device) {
        set_err(c, b->line, "[%s]: type=rtu needs 'device'%s", sec, "");
        return false;
    }
    if (b->type == GW_BUS_TCP && !b->address) {
        set_err(c, b->line, "[%s]: type=tcp needs 'address' (HOST:PORT)%s", sec, "");
        return false;
    }
    if (b->type == GW_BUS_RTU && b->data_bits == 7 && b->parity == 'N' && b->stop_bits == 1)
        LOG_WARN("%s:%d: [%s]: 7N1 is not a Modbus RTU framing", c->file, b->line, sec);
    return true;
}

static int find_bus(const gw_config *g, const char *name)
{
    for (size_t i = 0; i < g->n_buses; i++)
        if (!strcmp(g->buses[i].name, name))
            return (int)i;
    return -1;
}

static bool check_node_link(struct parse_ctx *c, struct gw_node_cfg *n, const char *sec)
{
    gw_config *g = c->cfg;
    if (!n->bus == !n->address) {
        set_err(c, n->line, "[%s]: give exactly one of 'bus' and 'address'%s", sec, "");
        return false;
    }
    if (n->bus) {
        n->bus_index = find_bus(g, n->bus);
        if (n->bus_index < 0) {
            set_err(c, n->line, "[%s]: no [bus:%s]", sec, n->bus);
            return false;
        }
        const struct gw_bus_cfg *b = &g->buses[n->bus_index];
        if (b->type == GW_BUS_RTU && (n->unit < 1 || n->unit > 247)) {
            set_err(c, n->line, "[%s]: unit must be 1..247 on an RTU bus%s", sec, "");
            return false;
        }
        if (!n->timeout_ms)
            n->timeout_ms = b->timeout_ms;
    } else if (!n->timeout_ms) {
        n->timeout_ms = 500;
    }
    return true;
}

static bool node_seen(const struct gw_node_cfg *n, const char *option)
{
    for (const struct opt *o = node_opts; o->name; o++)
        if (!strcmp(o->name, option))
            return n->seen & (1u << (o - node_opts));
    return false;
}

/* What a kind needs and refuses: scales count one SKU, scanners carry barcodes. */
static bool check_node_kind(struct parse_ctx *c, struct gw_node_cfg *n, const char *sec)
{
    static const char *const scale_only[] = {"sku", "unit_weight_g", "hysteresis"};
    if (n->kind == GW_NODE_SCALE) {
        for (size_t i = 0; i < 2; i++) {
            if (!node_seen(n, scale_only[i])) {
                set_err(c, n->line, "[%s]: missing option '%s'", sec, scale_only[i]);
                return false;
            }
        }
        return true;
    }
    for (size_t i = 0; i < sizeof(scale_only) / sizeof(scale_only[0]); i++) {
        if (node_seen(n, scale_only[i])) {
            set_err(c, n->line, "[%s]: '%s' is for scales, not for kind = scanner", sec,
                    scale_only[i]);
            return false;
        }
    }
    if (!node_seen(n, "period_ms"))
        n->period_ms = GW_SCANNER_PERIOD_MS;
    return true;
}

static bool check_node(struct parse_ctx *c, struct gw_node_cfg *n, size_t index)
{
    gw_config *g = c->cfg;
    char sec[64];
    snprintf(sec, sizeof(sec), "node:%s", n->name);
    if (!check_required(c, node_opts, n->seen, n->line, sec) || !check_node_link(c, n, sec) ||
        !check_node_kind(c, n, sec))
        return false;
    for (size_t i = 0; n->sku && i < index; i++) {
        if (g->nodes[i].sku && !strcmp(g->nodes[i].sku, n->sku)) {
            set_err(c, n->line, "[%s]: sku %s is already counted by another node", sec, n->sku);
            return false;
        }
    }
    return true;
}

static bool check_all(struct parse_ctx *c)
{
    gw_config *g = c->cfg;
    if (!check_required(c, gateway_opts, c->seen_gateway, c->line_gateway ? c->line_gateway : 1,
                        "gateway"))
        return false;
    int tls = !!g->ca + !!g->cert + !!g->key;
    if (tls != 0 && tls != 3) {
        set_err(c, 1, "[mqtt]: give all of ca, cert and key, or none%s%s", "", "");
        return false;
    }
    for (size_t i = 0; i < g->n_buses; i++)
        if (!check_bus(c, &g->buses[i]))
            return false;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!check_node(c, &g->nodes[i], i))
            return false;
    return true;
}

/* ---- public ---- */

bool gw_config_split_address(const char *addr, char *host, size_t host_len, int *port)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hl;
    char *end;
    long p;

    if (!colon || colon == addr)
        return false;
    hl = (size_t)(colon - addr);
    if (addr[0] == '[') {
        if (hl < 3 || colon[-1] != ']')
            return false;
        h = addr + 1;
        hl -= 2;
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 1 || p > 65535 || errno)
        return false;
    if (host) {
        if (hl >= host_len)
            return false;
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    if (port)
        *port = (int)p;
    return true;
}

void gw_config_free(gw_config *cfg)
{
    if (!cfg)
        return;
    free_strings(gateway_opts, cfg);
    free_strings(mqtt_opts, cfg);
    free_strings(outbox_opts, cfg);
    for (size_t i = 0; i < cfg->n_buses; i++) {
        free_strings(bus_opts, &cfg->buses[i]);
        depot_free(cfg->buses[i].name);
    }
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        free_strings(node_opts, &cfg->nodes[i]);
        depot_free(cfg->nodes[i].name);
    }
    depot_free(cfg->buses);
    depot_free(cfg->nodes);
    depot_free(cfg);
}

depot_err gw_config_load_stream(FILE *f, const char *name, gw_config **out, char *err,
                                size_t err_len)
{
    struct parse_ctx c;
    char ini_err[sizeof(c.err)];
    depot_err e;

    memset(&c, 0, sizeof(c));
    c.cfg = depot_calloc(1, sizeof(*c.cfg));
    if (!c.cfg)
        return DEPOT_ERR_NOMEM;
    c.file = name;
    apply_defaults(gateway_opts, c.cfg);
    apply_defaults(mqtt_opts, c.cfg);
    apply_defaults(outbox_opts, c.cfg);
    e = depot_ini_parse_stream(f, name, ini_handler_cb, &c, ini_err, sizeof(ini_err));
    if (e != DEPOT_OK && !c.err[0])
        snprintf(c.err, sizeof(c.err), "%s", ini_err);
    if (!c.err[0])
        check_all(&c);
    if (c.err[0]) {
        snprintf(err, err_len, "%s", c.err);
        gw_config_free(c.cfg);
        return e == DEPOT_ERR_IO || e == DEPOT_ERR_NOMEM ? e : DEPOT_ERR_CONFIG;
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
