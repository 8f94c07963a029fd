/*
 * One simulated field node: the firmware's scale or scanner and its Modbus
 * slave with a host HAL context of its own. Nodes never share state; a
 * process with 500 nodes is 500 independent firmwares that happen to share
 * one poll() loop. A scanner's FIFO slots are the one thing the board
 * allocates for a node (the firmware has no heap).
 */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    mb_slave_init(&node->slave, node->scale.cfg.unit_id, &scale_modbus_ops, &node->scale);
    return 0;
}

void host_node_sample_all(host_app *app)
{
    for (size_t i = 0; i < app->n_nodes; i++)
        if (app->nodes[i].kind == DEPOT_KIND_SCALE)
            scale_sample(&app->nodes[i].scale);
}

const char *host_node_fault_name(const host_node *node)
{
    static const char *const names[] = {"none", "silent", "crc", "exception"};
    if (node->ctx.cell_fault)
        return "cell";
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
