/*
 * One simulated field node: the firmware's scale or scanner and its Modbus
 * slave with a host HAL context of its own. Nodes never share state; a
 * process with 500 nodes is 500 independent firmwares that happen to share
 * one epoll loop. A scanner's FIFO slots are the one thing the board
 * allocates for a node (the firmware has no heap).
 *
 * Sampling is lazy. A board samples its load cell every
 * SCALE_SAMPLE_PERIOD_MS; here a scale's samples are due at its ticks
 * t0 + k x 50 ms (k = 0, 1, ...) and are taken only when something looks:
 * before the Modbus slave reads or writes its registers (the slave's ops
 * are wrapped), before a control command reads its status or changes its
 * load cell (weight, fault). Each then takes every sample due so far, in
 * order, with the load cell as it was, so it reports what sampling every
 * tick would have, and a process serving 1,000 scales does no work for
 * the ones nobody reads.
 */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLE_US ((uint64_t)SCALE_SAMPLE_PERIOD_MS * 1000u)

/* n calls of scale_sample(), in less time when the load cell's reading cannot vary. */
static void take_samples(host_node *node, uint64_t n)
{
    scale *sc = &node->scale;
    if (node->ctx.noise_g != 0) { /* every reading differs: every sample is taken */
        for (uint64_t i = 0; i < n; i++)
            scale_sample(sc);
        return;
    }
    while (n > 0) { /* the weight and the fault are fixed until the next catch-up */
        uint32_t k = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        scale_sample_steady(sc, k);
        n -= k;
    }
}

void host_node_catch_up(host_node *node)
{
    if (node->kind != DEPOT_KIND_SCALE)
        return;
    uint64_t now = host_now_us();
    if (now < node->sample_t0_us)
        return;
    uint64_t due = (now - node->sample_t0_us) / SAMPLE_US + 1; /* ticks 0..due-1 have come */
    if (due > node->ticks_done) {
        take_samples(node, due - node->ticks_done);
        node->ticks_done = due;
    }
}

void host_node_start_sampling(host_app *app, uint64_t now_us)
{
    for (size_t i = 0; i < app->n_nodes; i++) {
        app->nodes[i].sample_t0_us = now_us;
        app->nodes[i].ticks_done = 0;
    }
}

/* The scale's Modbus registers, each access after the samples due. */
static uint8_t sim_read_input(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    host_node *node = app;
    host_node_catch_up(node);
    return scale_modbus_ops.read_input(&node->scale, addr, count, out);
}

static uint8_t sim_read_holding(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    host_node *node = app;
    host_node_catch_up(node);
    return scale_modbus_ops.read_holding(&node->scale, addr, count, out);
}

static uint8_t sim_write_holding(void *app, uint16_t addr, uint16_t count, const uint16_t *values)
{
    host_node *node = app;
    host_node_catch_up(node);
    return scale_modbus_ops.write_holding(&node->scale, addr, count, values);
}

static size_t sim_report_id(void *app, uint8_t *out, size_t cap)
{
    host_node *node = app;
    return scale_modbus_ops.report_id(&node->scale, out, cap);
}

static const mb_slave_ops sim_scale_ops = {
    .read_input = sim_read_input,
    .read_holding = sim_read_holding,
    .write_holding = sim_write_holding,
    .report_id = sim_report_id,
};

static const char *scanner_init_error(int rc)
{
    return rc == SCANNER_E_CAPACITY ? "the state file holds more events than --fifo allows"
                                    : "the state file's scan FIFO is unreadable";
}

static int scanner_node_init(host_node *node, const node_params *p)
{
    node->scan_slots = calloc(p->fifo, sizeof(*node->scan_slots));
    if (node->scan_slots == NULL)
        return fprintf(stderr, "depot-node: out of memory\n"), -1;
    int rc = scanner_init(&node->scanner, &node->hal, p->unit, node->scan_slots, p->fifo);
    if (rc != SCANNER_OK)
        return fprintf(stderr, "depot-node: %s: %s\n", p->state_path ? p->state_path : "scanner",
                       scanner_init_error(rc)),
               -1;
    mb_slave_init(&node->slave, node->scanner.cfg.unit_id, &scanner_modbus_ops, &node->scanner);
    return 0;
}

int host_node_init(host_node *node, const node_params *p)
{
    memset(node, 0, sizeof(*node));
    node->kind = p->kind;
    node->key = p->key;
    node->listen_fd = -1;
    node->ctl_fd = -1;
    host_hal_init(&node->hal, &node->ctx, p->state_path, p->noise_g,
                  0x9E3779B9u ^ (p->key * 2654435761u));
    if (p->kind == DEPOT_KIND_SCANNER)
        return scanner_node_init(node, p);
    scale_init(&node->scale, &node->hal, p->unit);
    mb_slave_init(&node->slave, node->scale.cfg.unit_id, &sim_scale_ops, node);
    return 0;
}

const char *host_node_fault_name(const host_node *node)
{
    static const char *const names[] = {"none", "silent", "crc", "exception"};
    if (node->ctx.cell_fault)
        return "cell";
    if (node->wire_fault != HOST_WIRE_NONE)
        return node->wire_fault == HOST_WIRE_UNIT ? "unit" : "truncate";
    return names[node->slave.fault];
}

static int scanner_status(const host_node *node, char *out, size_t cap)
{
    const scanner *sc = &node->scanner;
    const mb_counters *c = &node->slave.counters;
    return snprintf(
        out, cap,
        "unit=%u kind=scanner count=%u capacity=%u flags=0x%04x refused=%lu "
        "epoch=%u next_seq=%lu ack=%u,%lu display_code=%u fault=%s requests=%lu "
        "replies=%lu exceptions=%lu bad_frames=%lu other_unit=%lu",
        node->slave.unit, sc->fifo.count, sc->fifo.capacity, scanner_flags(sc),
        (unsigned long)sc->fifo.refused, sc->cfg.boot_epoch, (unsigned long)sc->last_seq + 1,
        sc->fifo.ack_epoch, (unsigned long)sc->fifo.ack_seq, sc->display_code,
        host_node_fault_name(node), (unsigned long)c->requests, (unsigned long)c->replies,
        (unsigned long)c->exceptions, (unsigned long)c->bad_frames, (unsigned long)c->other_unit);
}

int host_node_status(const host_node *node, char *out, size_t cap)
{
    if (node->kind == DEPOT_KIND_SCANNER)
        return scanner_status(node, out, cap);
    const scale *sc = &node->scale;
    const mb_counters *c = &node->slave.counters;
    return snprintf(out, cap,
                    "unit=%u weight=%ld gross=%ld net=%ld tare=%ld status=0x%04x stable=%d "
                    "samples=%lu unit_mg=%lu filter=%u boot_epoch=%u fault=%s requests=%lu "
                    "replies=%lu exceptions=%lu bad_frames=%lu other_unit=%lu",
                    node->slave.unit, (long)node->ctx.weight_g, (long)sc->gross_g,
                    (long)scale_net_g(sc), (long)sc->cfg.tare_g, sc->status,
                    (sc->status & DEPOT_STATUS_STABLE) ? 1 : 0, (unsigned long)sc->samples,
                    (unsigned long)sc->cfg.unit_mg, sc->cfg.filter, sc->cfg.boot_epoch,
                    host_node_fault_name(node), (unsigned long)c->requests, (unsigned long)c->replies,
                    (unsigned long)c->exceptions, (unsigned long)c->bad_frames,
                    (unsigned long)c->other_unit);
}

void host_node_close(host_node *node)
{
    if (node->listen_fd >= 0)
        close(node->listen_fd);
    if (node->ctl_fd >= 0) {
        close(node->ctl_fd);
        unlink(node->ctl_path);
    }
    node->listen_fd = node->ctl_fd = -1;
    free(node->scan_slots);
    node->scan_slots = NULL;
}
