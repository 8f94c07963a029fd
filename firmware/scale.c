/*
 * Scale node application.
 *
 * Data flow per sample: raw reading ─▶ moving average over cfg.filter
 * readings (readings ring) ─▶ gross_g ─▶ history ring of the last
 * SCALE_STABLE_SAMPLES samples ─▶ STABLE when all of them lie within
 * SCALE_STABLE_BAND_G. net = gross − tare.
 *
 * Invariants:
 *  1. readings_count <= cfg.filter <= DEPOT_FILTER_MAX; changing the filter
 *     empties the readings ring, so an average never mixes filter lengths.
 *  2. STABLE is never set together with FAULT or OVERLOAD.
 *  3. cfg is saved through the HAL whenever a persistent field changes
 *     (tare, unit weight, filter, boot epoch), never on every sample.
 *  4. A register write is checked whole before any of it is applied.
 */
#include "scale.h"

#include <string.h>

static int32_t clamp_add(int32_t a, int32_t b)
{
    int64_t r = (int64_t)a + b;
    if (r > INT32_MAX)
        return INT32_MAX;
    if (r < INT32_MIN)
        return INT32_MIN;
    return (int32_t)r;
}

static void config_defaults(depot_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->unit_id = SCALE_DEFAULT_UNIT;
    cfg->filter = SCALE_DEFAULT_FILTER;
}

static void config_sanitize(depot_config *cfg)
{
    if (cfg->unit_id < 1 || cfg->unit_id > 247)
        cfg->unit_id = SCALE_DEFAULT_UNIT;
    if (cfg->filter < DEPOT_FILTER_MIN || cfg->filter > DEPOT_FILTER_MAX)
        cfg->filter = SCALE_DEFAULT_FILTER;
}

static void config_save(scale *sc)
{
    if (sc->hal->config_save != NULL)
        (void)sc->hal->config_save(sc->hal->ctx, &sc->cfg);
}

void scale_init(scale *sc, const depot_hal *hal, uint8_t unit)
{
    memset(sc, 0, sizeof(*sc));
    sc->hal = hal;
    config_defaults(&sc->cfg);
    if (hal->config_load == NULL || hal->config_load(hal->ctx, &sc->cfg) < 0)
        config_defaults(&sc->cfg);
    config_sanitize(&sc->cfg);
    if (unit != 0)
        sc->cfg.unit_id = unit;
    sc->cfg.boot_epoch++;
    config_save(sc);
    sc->boot_ms = hal->millis(hal->ctx);
}

static int32_t filter_push(scale *sc, int32_t raw)
{
    sc->readings[sc->readings_head] = raw;
    sc->readings_head = (uint8_t)((sc->readings_head + 1u) % sc->cfg.filter);
    if (sc->readings_count < sc->cfg.filter)
        sc->readings_count++;
    int64_t sum = 0;
    for (uint8_t i = 0; i < sc->readings_count; i++)
        sum += sc->readings[i];
    int64_t half = sum >= 0 ? sc->readings_count / 2 : -(sc->readings_count / 2);
    return (int32_t)((sum + half) / sc->readings_count);
}

static int history_stable(scale *sc, int32_t gross)
{
    sc->history[sc->history_head] = gross;
    sc->history_head = (uint8_t)((sc->history_head + 1u) % SCALE_STABLE_SAMPLES);
    if (sc->history_count < SCALE_STABLE_SAMPLES)
        sc->history_count++;
    if (sc->history_count < SCALE_STABLE_SAMPLES)
        return 0;
    int32_t lo = sc->history[0], hi = sc->history[0];
    for (int i = 1; i < SCALE_STABLE_SAMPLES; i++) {
        lo = sc->history[i] < lo ? sc->history[i] : lo;
        hi = sc->history[i] > hi ? sc->history[i] : hi;
    }
    return (int64_t)hi - lo <= SCALE_STABLE_BAND_G;
}

void scale_sample(scale *sc)
{
    int32_t raw = 0;
    if (sc->hal->load_cell_read(sc->hal->ctx, &raw) < 0) {
        sc->status = DEPOT_STATUS_FAULT;
        sc->history_count = 0;
        return;
    }
    sc->gross_g = filter_push(sc, raw);
    sc->samples++;
    int stable = history_stable(sc, sc->gross_g);
    sc->status = 0;
    if (sc->gross_g > DEPOT_SCALE_CAPACITY_G)
        sc->status = DEPOT_STATUS_OVERLOAD;
    else if (stable)
        sc->status = DEPOT_STATUS_STABLE;
}

void scale_sample_steady(scale *sc, uint32_t n)
{
    const uint32_t settle = DEPOT_FILTER_MAX + SCALE_STABLE_SAMPLES;
    uint32_t full = n < settle ? n : settle;
    for (uint32_t i = 0; i < full; i++)
        scale_sample(sc);
    uint32_t rest = n - full;
    if (rest == 0 || (sc->status & DEPOT_STATUS_FAULT) != 0)
        return; /* a failing cell: every further sample repeats the last */
    sc->samples += rest;
    sc->readings_head = (uint8_t)((sc->readings_head + rest % sc->cfg.filter) % sc->cfg.filter);
    sc->history_head =
        (uint8_t)((sc->history_head + rest % SCALE_STABLE_SAMPLES) % SCALE_STABLE_SAMPLES);
}

int32_t scale_net_g(const scale *sc)
{
    return clamp_add(sc->gross_g, sc->cfg.tare_g == INT32_MIN ? INT32_MAX : -sc->cfg.tare_g);
}

uint32_t scale_uptime_s(const scale *sc)
{
    return (sc->hal->millis(sc->hal->ctx) - sc->boot_ms) / 1000u;
}

uint8_t scale_command(scale *sc, uint16_t command)
{
    switch (command) {
    case DEPOT_CMD_NONE:
        return MB_EX_NONE;
    case DEPOT_CMD_TARE:
        sc->cfg.tare_g = sc->gross_g;
        break;
    case DEPOT_CMD_CLEAR_TARE:
        sc->cfg.tare_g = 0;
        break;
    default:
        return MB_EX_ILLEGAL_VALUE;
    }
    config_save(sc);
    return MB_EX_NONE;
}

/* ---- Modbus registers -------------------------------------------------- */

static void put32(uint16_t *regs, uint32_t v)
{
    regs[0] = DEPOT_U32_HI(v);
    regs[1] = DEPOT_U32_LO(v);
}

static void input_block(const scale *sc, uint16_t *regs)
{
    memset(regs, 0, DEPOT_IR_SCALE_COUNT * sizeof(*regs));
    regs[DEPOT_IR_KIND] = DEPOT_KIND_SCALE;
    regs[DEPOT_IR_MAP_VERSION] = DEPOT_MAP_VERSION;
    put32(regs + DEPOT_IR_NET_G, (uint32_t)scale_net_g(sc));
    regs[DEPOT_IR_STATUS] = sc->status;
    put32(regs + DEPOT_IR_SAMPLES, sc->samples);
    put32(regs + DEPOT_IR_GROSS_G, (uint32_t)sc->gross_g);
    put32(regs + DEPOT_IR_TARE_G, (uint32_t)sc->cfg.tare_g);
    put32(regs + DEPOT_IR_UPTIME_S, scale_uptime_s(sc));
    regs[DEPOT_IR_BOOT_EPOCH] = sc->cfg.boot_epoch;
    regs[DEPOT_IR_FW_VERSION] = SCALE_FW_VERSION;
}

static uint8_t read_input(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    if ((uint32_t)addr + count > DEPOT_IR_SCALE_COUNT)
        return MB_EX_ILLEGAL_ADDRESS;
    uint16_t regs[DEPOT_IR_SCALE_COUNT];
    input_block(app, regs);
    memcpy(out, regs + addr, count * sizeof(*out));
    return MB_EX_NONE;
}

static uint8_t read_holding(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    const scale *sc = app;
    if ((uint32_t)addr + count > DEPOT_HR_SCALE_COUNT)
        return MB_EX_ILLEGAL_ADDRESS;
    uint16_t regs[DEPOT_HR_SCALE_COUNT] = {0};
    put32(regs + DEPOT_HR_UNIT_MG, sc->cfg.unit_mg);
    regs[DEPOT_HR_FILTER] = sc->cfg.filter;
    memcpy(out, regs + addr, count * sizeof(*out));
    return MB_EX_NONE;
}

static int holding_value_ok(uint16_t reg, uint16_t value)
{
    if (reg == DEPOT_HR_COMMAND)
        return value <= DEPOT_CMD_CLEAR_TARE;
    if (reg == DEPOT_HR_FILTER)
        return value >= DEPOT_FILTER_MIN && value <= DEPOT_FILTER_MAX;
    return 1;
}

static void apply_holding(scale *sc, uint16_t reg, uint16_t value)
{
    if (reg == DEPOT_HR_UNIT_MG)
        sc->cfg.unit_mg = (uint32_t)DEPOT_U32_JOIN(value, DEPOT_U32_LO(sc->cfg.unit_mg));
    else if (reg == DEPOT_HR_UNIT_MG + 1)
        sc->cfg.unit_mg = (uint32_t)DEPOT_U32_JOIN(DEPOT_U32_HI(sc->cfg.unit_mg), value);
    else if (reg == DEPOT_HR_FILTER && value != sc->cfg.filter) {
        sc->cfg.filter = (uint8_t)value;
        sc->readings_count = 0;
        sc->readings_head = 0;
    }
}

static uint8_t write_holding(void *app, uint16_t addr, uint16_t count, const uint16_t *values)
{
    scale *sc = app;
    if ((uint32_t)addr + count > DEPOT_HR_SCALE_COUNT)
        return MB_EX_ILLEGAL_ADDRESS;
    for (uint16_t i = 0; i < count; i++)
        if (!holding_value_ok((uint16_t)(addr + i), values[i]))
            return MB_EX_ILLEGAL_VALUE;
    depot_config before = sc->cfg;
    for (uint16_t i = 0; i < count; i++)
        apply_holding(sc, (uint16_t)(addr + i), values[i]);
    if (memcmp(&before, &sc->cfg, sizeof(before)) != 0)
        config_save(sc);
    if (addr == DEPOT_HR_COMMAND) /* the command runs after the other registers */
        return scale_command(sc, values[0]);
    return MB_EX_NONE;
}

static size_t report_id(void *app, uint8_t *out, size_t cap)
{
    (void)app;
    return mb_report_id_fill(DEPOT_KIND_SCALE, "DEPOT scale 1.0", out, cap);
}

const mb_slave_ops scale_modbus_ops = {
    .read_input = read_input,
    .read_holding = read_holding,
    .write_holding = write_holding,
    .report_id = report_id,
};
