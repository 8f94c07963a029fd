/*
 * The host board's process: one or many field nodes of one kind (scales,
 * firmware/scale.c, or scanner terminals, firmware/scanner.c; each with
 * firmware/mb_slave.c, its own state and HAL context) behind one epoll
 * loop, reached over Modbus TCP or over one pseudo-terminal that plays an
 * RS-485 line, plus UNIX-socket control channels.
 */
#ifndef DEPOT_HOST_H
#define DEPOT_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "host_hal.h"
#include "pollset.h"
#include "mb_slave.h"
#include "scale.h"
#include "scanner.h"

#define HOST_PATH_MAX 108 /* sun_path */

/* Faults of the wire done by the board to a node's replies (wire.c). */
enum host_wire_fault { HOST_WIRE_NONE = 0, HOST_WIRE_UNIT, HOST_WIRE_TRUNCATE };

typedef struct host_node {
    enum depot_node_kind kind;
    scale scale;                  /* kind DEPOT_KIND_SCALE */
    scanner scanner;              /* kind DEPOT_KIND_SCANNER */
    depot_scan_event *scan_slots; /* the scanner's FIFO slots (the board's memory) */
    mb_slave slave;
    enum host_wire_fault wire_fault;
    depot_hal hal;
    depot_hal_ctx ctx;
    mb_rtu rtu; /* RTU: every node on the line listens with its own framer */
    uint8_t rtu_buf[MB_RTU_ADU_MAX];
    unsigned key;  /* what %u expands to: unit id (RTU, --tcp) or port (--tcp-range) */
    uint16_t port; /* TCP port, 0 on RTU */
    int listen_fd; /* TCP listener, -1 on RTU */
    int ctl_fd;    /* own control socket, -1 when the control socket is shared */
    char ctl_path[HOST_PATH_MAX];
    ev_slot listen_slot, ctl_slot;
    /* a scale samples at 20 Hz on ticks counted from sample_t0_us; it takes the
     * samples due only when someone looks (node.c, host_node_catch_up) */
    uint64_t sample_t0_us;
    uint64_t ticks_done;
} host_node;

typedef struct tcp_conn {
    struct tcp_conn *next;
    int fd;
    ev_slot slot;
    host_node *node;
    mb_tcp tcp;
    uint8_t buf[MB_TCP_ADU_MAX];
} tcp_conn;

typedef struct ctl_client {
    struct ctl_client *next;
    int fd;
    ev_slot slot;
    host_node *node; /* NULL: came in on the shared socket */
    char line[256];
    size_t len;
} ctl_client;

typedef struct rtu_line {
    int master_fd; /* ours: the line as the nodes see it */
    int slave_fd;  /* kept open so the line survives masters coming and going */
    ev_slot slot;
    char pty_path[64];
    char link_path[256];
    uint32_t char_us;
    uint8_t tx[4 * MB_RTU_ADU_MAX]; /* reply bytes paced at the baud rate */
    size_t tx_len, tx_sent;
    uint64_t tx_start_us;
    uint64_t next_raw_us; /* when the slave side is next put back to raw (rtu_line.c) */
    uint32_t noise_ppm;   /* bytes corrupted per million, either way (wire.c) */
    uint32_t noise_rng;
    uint64_t noise_bytes, noise_corrupted; /* since the noise was last set */
} rtu_line;

typedef struct host_app {
    host_node *nodes;
    size_t n_nodes;
    tcp_conn *conns;
    ctl_client *ctls;
    int shared_ctl_fd;
    ev_slot shared_ctl_slot;
    char shared_ctl_path[HOST_PATH_MAX];
    rtu_line *line;
    pollset ps; /* every descriptor above, registered while it is open */
    int quit;
} host_app;

/* node.c */
typedef struct node_params {
    enum depot_node_kind kind;
    uint8_t unit; /* 0: the state file's, else 1 */
    unsigned key;
    const char *state_path; /* NULL: state in memory only */
    int32_t noise_g;        /* scale */
    uint16_t fifo;          /* scanner: FIFO capacity */
} node_params;

/* Returns 0, or -1 with a message on stderr (then call host_node_close). */
int host_node_init(host_node *node, const node_params *p);
/* Starts every scale's sample clock at now_us (its first sample is due then). */
void host_node_start_sampling(host_app *app, uint64_t now_us);
/* Takes the samples due by now, as sampling every tick would have: before
 * anything reads the scale or changes what its load cell reads. */
void host_node_catch_up(host_node *node);
int host_node_status(const host_node *node, char *out, size_t cap);
const char *host_node_fault_name(const host_node *node);
void host_node_close(host_node *node);

/* control.c */
int host_control_listen(const char *path);
/* control_scanner.c: the scanner's commands; returns 0 when cmd is not one. */
int host_control_scanner(host_node *node, const char *cmd, char *arg, char *reply, size_t cap);
void host_control_accept(host_app *app, int listen_fd, host_node *node);
void host_control_readable(host_app *app, ctl_client *client);
/* Registers the control listeners in app->ps; -1 when one cannot be. */
int host_control_watch(host_app *app);
void host_control_close_all(host_app *app);

/* ctl_client.c: `depot-node ctl SOCKET COMMAND...` */
int host_ctl_main(int argc, char **argv);

/* wire.c: applies node's wire fault to a reply ADU in place; returns the length to send. */
size_t host_wire_reply(const host_node *node, uint8_t *adu, size_t len, int rtu);
/* Corrupts bytes crossing the line as its noise says, and counts them. */
void host_wire_noise(rtu_line *line, uint8_t *data, size_t n);
/* ppm 0: a clean line. */
void host_wire_noise_set(rtu_line *line, uint32_t ppm, uint32_t seed);

/* tcp_server.c */
int host_tcp_listen(const char *addr, uint16_t port);
void host_tcp_accept(host_app *app, host_node *node);
void host_tcp_readable(host_app *app, tcp_conn *conn);
/* Registers the TCP listeners in app->ps; -1 when one cannot be. */
int host_tcp_watch(host_app *app);
void host_tcp_close_all(host_app *app);

/* rtu_line.c */
rtu_line *host_rtu_line_open(uint32_t baud, const char *link_path);
void host_rtu_line_readable(host_app *app);
void host_rtu_line_tick(host_app *app);
int host_rtu_line_timeout_ms(const host_app *app);
void host_rtu_line_close(rtu_line *line);

#endif
