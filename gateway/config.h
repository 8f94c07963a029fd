/*
 * The gateway's configuration: one INI file, parsed once at start into a
 * gw_config that the other modules read and never change. Every option is
 * declared once in a table in config.c (name, type, bounds, default).
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "depot/error.h"

enum gw_bus_type { GW_BUS_RTU, GW_BUS_TCP };
enum gw_node_kind { GW_NODE_SCALE = 1, GW_NODE_SCANNER = 2 };

/* The shortest period_ms (a Modbus TCP node; on an RTU line, one poll's time on the wire). */
#define GW_PERIOD_MIN_MS 5
/* Poll period of a scanner terminal unless period_ms is given. */
#define GW_SCANNER_PERIOD_MS 200

struct gw_bus_cfg {
    char *name;
    int type;      /* enum gw_bus_type */
    char *device;  /* rtu: serial device */
    char *address; /* tcp: HOST:PORT of a Modbus TCP gateway in front of the units */
    int baud;
    int parity; /* 'N', 'E' or 'O' */
    int data_bits;
    int stop_bits;
    int timeout_ms;
    int turnaround_ms;
    bool rs485;
    int line;      /* where the section was first seen, for error messages */
    unsigned seen; /* parser bookkeeping: bit i = option i of the table was given */
};

struct gw_node_cfg {
    char *name;
    char *bus;     /* name of a [bus:NAME], or NULL */
    char *address; /* HOST:PORT of a Modbus TCP node, or NULL */
    int unit;
    int kind;             /* enum gw_node_kind */
    char *sku;            /* scales only (NULL for a scanner) */
    double unit_weight_g; /* scales only */
    int period_ms;
    double hysteresis;
    int timeout_ms;
    int bus_index; /* resolved index into gw_config.buses, -1 for address nodes */
    int line;
    unsigned seen;
};

typedef struct gw_config {
    /* [gateway] */
    char *dealer;
    char *ledger;
    int snapshot_period_s;
    int heartbeat_s;    /* the online state is published again this often (hub: heard from) */
    int log_level;      /* enum depot_log_level */
    char *metrics_file; /* NULL: no metrics file */
    int poll_threads;
    bool send_movements;    /* queue up/movements batches (off for a hub without them) */
    int movements_period_s; /* a batch once the oldest movement waited this long */
    int movements_batch;    /* ... or once this many wait */
    /* [mqtt] */
    char *host;
    int port;
    char *ca;
    char *cert;
    char *key;
    int keepalive_s;
    int rate;
    int window;
    int resend_s;
    /* [outbox] */
    long long max_entries;
    int warn_percent;

    struct gw_bus_cfg *buses;
    size_t n_buses;
    struct gw_node_cfg *nodes;
    size_t n_nodes;
} gw_config;

/*
 * Parse the INI file at path. On DEPOT_OK *out is a new config (free with
 * gw_config_free). Otherwise err gets "file:line: what is wrong" and the
 * result is DEPOT_ERR_CONFIG (or DEPOT_ERR_IO if the file cannot be read,
 * DEPOT_ERR_NOMEM).
 */
depot_err gw_config_load(const char *path, gw_config **out, char *err, size_t err_len);

/* The same from an open stream; name is used in error messages. */
depot_err gw_config_load_stream(FILE *f, const char *name, gw_config **out, char *err,
                                size_t err_len);

void gw_config_free(gw_config *cfg);

/* Split "HOST:PORT" (host may be [v6]); false if malformed. host gets at most host_len-1 chars. */
bool gw_config_split_address(const char *addr, char *host, size_t host_len, int *port);

#endif
