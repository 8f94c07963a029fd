/*
 * One simulated scale node: the firmware's scale and Modbus slave with a host
 * HAL context of its own. Nodes never share state; a process with 500 nodes
 * is 500 independent firmwares that happen to share one poll() loop.
 */
#include "host.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void node_init(host_node *node, uint8_t unit, unsigned key, const char *state_path, int32_t noise_g)
{
    memset(node, 0, sizeof(*node));
    node->key = key;
    node->listen_fd = -1;
    node->ctl_fd = -1;
    host_hal_init(&node->hal, &node->ctx, state_path, noise_g, 0x9E3779B9u ^ (key * 2654435761u));
    scale_init(&node->scale, &node->hal, unit);
    mb_slave_init(&node->slave, node->scale.cfg.unit_id, &scale_modbus_ops, &node->scale);
}

void node_sample_all(host_app *app)
{
    for (size_t i = 0; i < app->n_nodes; i++)
        scale_sample(&app->nodes[i].scale);
}

const char *node_fault_name(const host_node *node)
{
    static const char *const names[] = {"none", "silent", "crc", "exception"};
    if (node->ctx.cell_fault)
        return "cell";
    return names[node->slave.fault];
}

int node_status(const host_node *node, char *out, size_t cap)
{
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
                    node_fault_name(node), (unsigned long)c->requests, (unsigned long)c->replies,
                    (unsigned long)c->exceptions, (unsigned long)c->bad_frames,
                    (unsigned long)c->other_unit);
}

void node_close(host_node *node)
{
    if (node->listen_fd >= 0)
        close(node->listen_fd);
    if (node->ctl_fd >= 0) {
        close(node->ctl_fd);
        unlink(node->ctl_path);
    }
    node->listen_fd = node->ctl_fd = -1;
}
