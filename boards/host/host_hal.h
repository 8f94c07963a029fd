/*
 * The host board's implementation of firmware/hal.h: a Linux process stands
 * in for the node's hardware. The load cell is a number set through the
 * control channel (plus optional noise), the persistent config and the scan
 * FIFO a small text file, the display a few fields the control channel
 * reads, the clocks CLOCK_MONOTONIC.
 */
#ifndef DEPOT_HOST_HAL_H
#define DEPOT_HOST_HAL_H

#include <stdint.h>

#include "hal.h"

struct depot_hal_ctx {
    int stream_fd;        /* the connection or pty the current reply goes to */
    int32_t weight_g;     /* gross weight on the simulated load cell */
    int32_t noise_g;      /* readings vary uniformly by +-noise_g */
    int cell_fault;       /* the load cell reports a fault */
    uint32_t rng;         /* xorshift32 state for the noise */
    char state_path[256]; /* empty: config lives in memory only */
    depot_config memory_cfg;
    int memory_cfg_valid;
    const depot_scan_store *fifo; /* the scanner's FIFO (it lives as long as the node) */
    uint16_t display_code;        /* what the display shows (display_write) */
    char display_text[DEPOT_DISPLAY_TEXT_MAX + 1];
    uint32_t display_writes;
};

/* Fills hal with the host functions bound to ctx. state_path may be NULL. */
void host_hal_init(depot_hal *hal, depot_hal_ctx *ctx, const char *state_path, int32_t noise_g,
                   uint32_t seed);

/* The host clocks, also for the board's own timers. */
uint64_t host_now_us(void);

/* xorshift32, the host board's seeded noise (the load cell's, the RTU line's): state != 0. */
static inline uint32_t host_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

#endif
