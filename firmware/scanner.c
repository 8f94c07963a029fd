/*
 * Scanner terminal application.
 *
 *   scanner_scan ──▶ [ FIFO ring in persistent memory ] ──▶ head (IR 105..129)
 *                         events[head] .. events[head+count-1]     │
 *                                                                  ▼
 *                     drop head ◀── ack (epoch, seq) in HR 100..102 (one FC 16)
 *
 * The gateway writes an event to its ledger before it acknowledges it, and
 * the node drops an event only on the acknowledgement that names it, so a
 * crash of either side at any moment loses nothing; (epoch, seq) lets the
 * gateway recognise an event it has already written.
 *
 * Invariants:
 *  1. fifo.head < fifo.capacity and fifo.count <= fifo.capacity; an accepted
 *     event leaves the FIFO only through a matching acknowledgement.
 *  2. Every change to the FIFO (scan, ack, refusal) is saved through the HAL
 *     before the call returns; the boot epoch is saved before any scan of
 *     that epoch, so (epoch, seq) never repeats.
 *  3. Each event in the FIFO has epoch >= 1, seq >= 1, a valid type and a
 *     barcode of len printable characters followed by NULs.
 *  4. A register write is checked whole before any of it is applied.
 */
#include "scanner.h"

#include <string.h>

#define FULL_TEXT "FIFO FULL"

static void config_defaults(depot_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->unit_id = SCANNER_DEFAULT_UNIT;
}

static void config_save(scanner *sc)
{
    if (sc->hal->config_save != NULL)
        (void)sc->hal->config_save(sc->hal->ctx, &sc->cfg);
}

static void fifo_save(scanner *sc)
{
    if (sc->hal->fifo_save != NULL)
        (void)sc->hal->fifo_save(sc->hal->ctx, &sc->fifo);
}

static int printable(char c)
{
    return c >= 0x20 && c <= 0x7E;
}

static int event_valid(const depot_scan_event *ev)
{
    if (ev->epoch == 0 || ev->seq == 0 || ev->type < DEPOT_SCAN_RECEIVE ||
        ev->type > DEPOT_SCAN_CONFIRM || ev->len > DEPOT_BARCODE_MAX)
        return 0;
    for (uint8_t i = 0; i < DEPOT_BARCODE_MAX; i++)
        if (i < ev->len ? !printable(ev->barcode[i]) : ev->barcode[i] != '\0')
            return 0;
    return 1;
}

static void fifo_empty(scanner *sc, depot_scan_event *events, uint16_t capacity)
{
    memset(&sc->fifo, 0, sizeof(sc->fifo));
    sc->fifo.events = events;
    sc->fifo.capacity = capacity;
}

/* Loads the stored FIFO into sc->fifo; returns SCANNER_OK or an error. */
static int fifo_load(scanner *sc, depot_scan_event *events, uint16_t capacity)
{
    fifo_empty(sc, events, capacity);
    if (sc->hal->fifo_load == NULL)
        return SCANNER_OK;
    int32_t stored = sc->hal->fifo_load(sc->hal->ctx, &sc->fifo);
    if (stored == -1) {
        fifo_empty(sc, events, capacity);
        return SCANNER_OK;
    }
    if (stored > capacity)
        return SCANNER_E_CAPACITY;
    if (stored < 0 || sc->fifo.head != 0 || sc->fifo.count != stored)
        return SCANNER_E_STORE;
    for (uint16_t i = 0; i < sc->fifo.count; i++)
        if (!event_valid(&events[i]))
            return SCANNER_E_STORE;
    return SCANNER_OK;
}

static void display_set(scanner *sc, uint16_t code, const char *text)
{
    sc->display_code = code;
    memset(sc->display_text, 0, sizeof(sc->display_text));
    strncpy(sc->display_text, text, DEPOT_DISPLAY_TEXT_MAX);
    if (sc->hal->display_write != NULL)
        (void)sc->hal->display_write(sc->hal->ctx, sc->display_code, sc->display_text);
}

/* What a boot does after the persistent state is in place. */
static void boot(scanner *sc)
{
    sc->cfg.boot_epoch++;
    if (sc->cfg.boot_epoch == 0) /* epoch 0 means "no event" in the head block */
        sc->cfg.boot_epoch = 1;
    config_save(sc);
    fifo_save(sc);
    sc->last_seq = 0;
    sc->boot_ms = sc->hal->millis(sc->hal->ctx);
    display_set(sc, DEPOT_DISPLAY_IDLE, "");
}

int scanner_init(scanner *sc, const depot_hal *hal, uint8_t unit, depot_scan_event *events,
                 uint16_t capacity)
{
    memset(sc, 0, sizeof(*sc));
    sc->hal = hal;
    if (capacity == 0 || capacity > SCANNER_FIFO_MAX)
        return SCANNER_E_CAPACITY;
    memset(events, 0, capacity * sizeof(*events));
    int rc = fifo_load(sc, events, capacity);
    if (rc != SCANNER_OK)
        return rc;
    if (hal->config_load == NULL || hal->config_load(hal->ctx, &sc->cfg) < 0)
        config_defaults(&sc->cfg);
    if (sc->cfg.unit_id < 1 || sc->cfg.unit_id > 247)
        sc->cfg.unit_id = SCANNER_DEFAULT_UNIT;
    if (unit != 0)
        sc->cfg.unit_id = unit;
    boot(sc);
    return SCANNER_OK;
}

void scanner_reboot(scanner *sc)
{
    boot(sc);
}

/* ---- FIFO ---------------------------------------------------------------- */

static int barcode_check(uint8_t type, const char *barcode, size_t *len)
{
    *len = 0;
    while (*len <= DEPOT_BARCODE_MAX && barcode[*len] != '\0') {
        if (!printable(barcode[*len]))
            return SCANNER_E_BARCODE;
        (*len)++;
    }
    if (*len > DEPOT_BARCODE_MAX)
        return SCANNER_E_BARCODE;
    if (type == DEPOT_SCAN_CONFIRM) /* the keypad's OK has no code; a scanned one has */
        return SCANNER_OK;
    return (type == DEPOT_SCAN_SUBMIT) == (*len == 0) ? SCANNER_OK : SCANNER_E_BARCODE;
}

static int qty_check(uint8_t type, int32_t qty)
{
    if (type == DEPOT_SCAN_SUBMIT || type == DEPOT_SCAN_CONFIRM)
        return qty == 0 ? SCANNER_OK : SCANNER_E_QTY;
    if (type == DEPOT_SCAN_COUNT)
        return qty >= 0 ? SCANNER_OK : SCANNER_E_QTY;
    return qty >= 1 ? SCANNER_OK : SCANNER_E_QTY;
}

static void refuse_full(scanner *sc)
{
    sc->fifo.refused++;
    fifo_save(sc);
    display_set(sc, DEPOT_DISPLAY_ERROR, FULL_TEXT);
}

int scanner_scan(scanner *sc, uint8_t type, const char *barcode, int32_t qty, uint32_t *seq)
{
    size_t len;
    if (type < DEPOT_SCAN_RECEIVE || type > DEPOT_SCAN_CONFIRM)
        return SCANNER_E_TYPE;
    int rc = barcode_check(type, barcode, &len);
    if (rc == SCANNER_OK)
        rc = qty_check(type, qty);
    if (rc != SCANNER_OK)
        return rc;
    if (sc->fifo.count >= sc->fifo.capacity) {
        refuse_full(sc);
        return SCANNER_E_FULL;
    }
    depot_scan_event *ev = &sc->fifo.events[(sc->fifo.head + sc->fifo.count) % sc->fifo.capacity];
    memset(ev, 0, sizeof(*ev));
    ev->epoch = sc->cfg.boot_epoch;
    ev->seq = ++sc->last_seq;
    ev->type = type;
    ev->qty = qty;
    ev->len = (uint8_t)len;
    memcpy(ev->barcode, barcode, len);
    sc->fifo.count++;
    fifo_save(sc);
    if (seq != NULL)
        *seq = ev->seq;
    return SCANNER_OK;
}

const depot_scan_event *scanner_head(const scanner *sc)
{
    return sc->fifo.count == 0 ? NULL : &sc->fifo.events[sc->fifo.head];
}

uint8_t scanner_ack(scanner *sc, uint16_t epoch, uint32_t seq)
{
    const depot_scan_event *head = scanner_head(sc);
    if (head == NULL || head->epoch != epoch || head->seq != seq)
        return MB_EX_ILLEGAL_VALUE;
    sc->fifo.head = (uint16_t)((sc->fifo.head + 1u) % sc->fifo.capacity);
    sc->fifo.count--;
    sc->fifo.ack_epoch = epoch;
    sc->fifo.ack_seq = seq;
    fifo_save(sc);
    return MB_EX_NONE;
}

uint16_t scanner_flags(const scanner *sc)
{
    return sc->fifo.count >= sc->fifo.capacity ? DEPOT_SCAN_FLAG_FULL : 0;
}

uint32_t scanner_uptime_s(const scanner *sc)
{
    return (sc->hal->millis(sc->hal->ctx) - sc->boot_ms) / 1000u;
}

/* ---- Modbus registers ---------------------------------------------------- */

#define IR_SCANNER_END (DEPOT_IR_SCAN_HEAD + DEPOT_IR_SCAN_HEAD_COUNT) /* 130 */
#define IR_COMMON_COUNT DEPOT_IR_SCALE_COUNT                           /* 0..29 */
#define HR_ACK_COUNT 3

static void put32(uint16_t *regs, uint32_t v)
{
    regs[0] = DEPOT_U32_HI(v);
    regs[1] = DEPOT_U32_LO(v);
}

/* Packs n bytes two per register, first byte high. */
static void pack_text(uint16_t *regs, const char *text, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        regs[i / 2] = (uint16_t)(((uint8_t)text[i] << 8) | (uint8_t)text[i + 1]);
}

static void common_block(const scanner *sc, uint16_t *regs)
{
    memset(regs, 0, IR_COMMON_COUNT * sizeof(*regs));
    regs[DEPOT_IR_KIND] = DEPOT_KIND_SCANNER;
    regs[DEPOT_IR_MAP_VERSION] = DEPOT_MAP_VERSION;
    put32(regs + DEPOT_IR_UPTIME_S, scanner_uptime_s(sc));
    regs[DEPOT_IR_BOOT_EPOCH] = sc->cfg.boot_epoch;
    regs[DEPOT_IR_FW_VERSION] = SCANNER_FW_VERSION;
}

/* regs[0] is input register DEPOT_IR_SCANNER_BASE. */
static void scanner_block(const scanner *sc, uint16_t *regs)
{
    memset(regs, 0, (IR_SCANNER_END - DEPOT_IR_SCANNER_BASE) * sizeof(*regs));
    regs[DEPOT_IR_SCAN_COUNT - DEPOT_IR_SCANNER_BASE] = sc->fifo.count;
    regs[DEPOT_IR_SCAN_CAPACITY - DEPOT_IR_SCANNER_BASE] = sc->fifo.capacity;
    regs[DEPOT_IR_SCAN_FLAGS - DEPOT_IR_SCANNER_BASE] = scanner_flags(sc);
    put32(regs + DEPOT_IR_SCAN_REFUSED - DEPOT_IR_SCANNER_BASE, sc->fifo.refused);
    const depot_scan_event *ev = scanner_head(sc);
    if (ev == NULL)
        return;
    uint16_t *head = regs + DEPOT_IR_SCAN_HEAD - DEPOT_IR_SCANNER_BASE;
    head[DEPOT_SCAN_OFF_EPOCH] = ev->epoch;
    put32(head + DEPOT_SCAN_OFF_SEQ, ev->seq);
    head[DEPOT_SCAN_OFF_TYPE] = ev->type;
    put32(head + DEPOT_SCAN_OFF_QTY, (uint32_t)ev->qty);
    head[DEPOT_SCAN_OFF_LEN] = ev->len;
    pack_text(head + DEPOT_SCAN_OFF_BARCODE, ev->barcode, DEPOT_BARCODE_MAX);
}

static uint8_t read_input(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    uint32_t end = (uint32_t)addr + count;
    uint16_t regs[IR_SCANNER_END - DEPOT_IR_SCANNER_BASE];
    if (end <= IR_COMMON_COUNT) {
        common_block(app, regs);
        memcpy(out, regs + addr, count * sizeof(*out));
        return MB_EX_NONE;
    }
    if (addr < DEPOT_IR_SCANNER_BASE || end > IR_SCANNER_END)
        return MB_EX_ILLEGAL_ADDRESS;
    scanner_block(app, regs);
    memcpy(out, regs + (addr - DEPOT_IR_SCANNER_BASE), count * sizeof(*out));
    return MB_EX_NONE;
}

/* regs[0] is holding register DEPOT_HR_SCANNER_BASE. */
static void holding_block(const scanner *sc, uint16_t *regs)
{
    memset(regs, 0, (DEPOT_HR_SCANNER_END - DEPOT_HR_SCANNER_BASE) * sizeof(*regs));
    regs[0] = sc->fifo.ack_epoch;
    put32(regs + 1, sc->fifo.ack_seq);
    regs[DEPOT_HR_DISPLAY_CODE - DEPOT_HR_SCANNER_BASE] = sc->display_code;
    pack_text(regs + DEPOT_HR_DISPLAY_TEXT - DEPOT_HR_SCANNER_BASE, sc->display_text,
              DEPOT_DISPLAY_TEXT_MAX);
}

static uint8_t read_holding(void *app, uint16_t addr, uint16_t count, uint16_t *out)
{
    if (addr < DEPOT_HR_SCANNER_BASE || (uint32_t)addr + count > DEPOT_HR_SCANNER_END)
        return MB_EX_ILLEGAL_ADDRESS;
    uint16_t regs[DEPOT_HR_SCANNER_END - DEPOT_HR_SCANNER_BASE];
    holding_block(app, regs);
    memcpy(out, regs + (addr - DEPOT_HR_SCANNER_BASE), count * sizeof(*out));
    return MB_EX_NONE;
}

static int in_range(uint32_t addr, uint32_t end, uint32_t lo, uint32_t hi)
{
    return addr < hi && end > lo;
}

/* Text registers: printable bytes, then only NULs (padding). */
static uint8_t display_text_check(const uint16_t *values, size_t n)
{
    int ended = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = (char)(i % 2 == 0 ? values[i / 2] >> 8 : values[i / 2] & 0xFFu);
        if (c == '\0')
            ended = 1;
        else if (ended || !printable(c))
            return MB_EX_ILLEGAL_VALUE;
    }
    return MB_EX_NONE;
}

/* A write to 110..130: checked whole, then applied and shown. */
static uint8_t display_write(scanner *sc, uint16_t addr, uint16_t count, const uint16_t *values)
{
    uint16_t regs[DEPOT_HR_SCANNER_END - DEPOT_HR_DISPLAY_CODE];
    char text[DEPOT_DISPLAY_TEXT_MAX + 2];
    regs[0] = sc->display_code;
    pack_text(regs + 1, sc->display_text, DEPOT_DISPLAY_TEXT_MAX);
    memcpy(regs + (addr - DEPOT_HR_DISPLAY_CODE), values, count * sizeof(*values));
    if (regs[0] > DEPOT_DISPLAY_BUSY || display_text_check(regs + 1, DEPOT_DISPLAY_TEXT_MAX / 2))
        return MB_EX_ILLEGAL_VALUE;
    for (size_t i = 0; i < DEPOT_DISPLAY_TEXT_MAX; i++)
        text[i] = (char)(i % 2 == 0 ? regs[1 + i / 2] >> 8 : regs[1 + i / 2] & 0xFFu);
    text[DEPOT_DISPLAY_TEXT_MAX] = '\0';
    display_set(sc, regs[0], text);
    return MB_EX_NONE;
}

static uint8_t write_holding(void *app, uint16_t addr, uint16_t count, const uint16_t *values)
{
    scanner *sc = app;
    uint32_t end = (uint32_t)addr + count;
    if (addr < DEPOT_HR_SCANNER_BASE || end > DEPOT_HR_SCANNER_END ||
        in_range(addr, end, DEPOT_HR_SCAN_ACK + HR_ACK_COUNT, DEPOT_HR_DISPLAY_CODE))
        return MB_EX_ILLEGAL_ADDRESS;
    if (addr >= DEPOT_HR_DISPLAY_CODE)
        return display_write(sc, addr, count, values);
    if (addr != DEPOT_HR_SCAN_ACK || count != HR_ACK_COUNT)
        return MB_EX_ILLEGAL_VALUE; /* an acknowledgement is the whole pair or nothing */
    return scanner_ack(sc, values[0], (uint32_t)DEPOT_U32_JOIN(values[1], values[2]));
}

static size_t report_id(void *app, uint8_t *out, size_t cap)
{
    (void)app;
    return mb_report_id_fill(DEPOT_KIND_SCANNER, "DEPOT scanner 1.0", out, cap);
}

const mb_slave_ops scanner_modbus_ops = {
    .read_input = read_input,
    .read_holding = read_holding,
    .write_holding = write_holding,
    .report_id = report_id,
};
