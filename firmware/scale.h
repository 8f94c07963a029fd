/*
 * The scale node application: turns load-cell readings into the scale block
 * of include/depot/modbus_map.h and serves it through mb_slave_ops.
 *
 * The board calls scale_sample() every SCALE_SAMPLE_PERIOD_MS and hands
 * scale_modbus_ops with the scale as app pointer to its mb_slave.
 */
#ifndef DEPOT_FW_SCALE_H
#define DEPOT_FW_SCALE_H

#include <stdint.h>

#include "depot/modbus_map.h"
#include "hal.h"
#include "mb_slave.h"

#define SCALE_FW_VERSION 0x0100u   /* 1.0 */
#define SCALE_SAMPLE_PERIOD_MS 50u /* 20 Hz */
#define SCALE_STABLE_SAMPLES 5     /* samples that must agree for STABLE */
#define SCALE_STABLE_BAND_G 2      /* ... within this many grams (max - min) */
#define SCALE_DEFAULT_FILTER 4
#define SCALE_DEFAULT_UNIT 1

typedef struct scale {
    const depot_hal *hal;
    depot_config cfg;
    int32_t readings[DEPOT_FILTER_MAX]; /* raw readings, ring, cfg.filter long */
    uint8_t readings_head;
    uint8_t readings_count;
    int32_t history[SCALE_STABLE_SAMPLES]; /* filtered samples, ring */
    uint8_t history_head;
    uint8_t history_count;
    int32_t gross_g; /* last filtered sample */
    uint16_t status; /* DEPOT_STATUS_* */
    uint32_t samples;
    uint32_t boot_ms;
} scale;

/*
 * Loads the persistent config (defaults when none), applies unit when it is
 * not 0, increments and saves the boot epoch.
 */
void scale_init(scale *sc, const depot_hal *hal, uint8_t unit);

/* Takes one load-cell reading and updates gross, status and the counter. */
void scale_sample(scale *sc);

/*
 * Leaves the scale exactly as n calls of scale_sample() would when the load
 * cell reads the same value every time (or fails every time), doing at most
 * DEPOT_FILTER_MAX + SCALE_STABLE_SAMPLES samples' work: after that many the
 * rings hold nothing but that value, and further samples move only the
 * counter and the rings' heads. For catching up on samples not taken while
 * nothing could change the reading (the host board samples its scales only
 * when something reads them).
 */
void scale_sample_steady(scale *sc, uint32_t n);

int32_t scale_net_g(const scale *sc);
uint32_t scale_uptime_s(const scale *sc);

/* Executes a DEPOT_CMD_*; returns MB_EX_NONE or MB_EX_ILLEGAL_VALUE. */
uint8_t scale_command(scale *sc, uint16_t command);

/* Register access for mb_slave; app is the scale. */
extern const mb_slave_ops scale_modbus_ops;

#endif
