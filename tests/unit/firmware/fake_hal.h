/*
 * The fake board the firmware's unit tests run on: a settable clock and load
 * cell, a config "flash", a FIFO "flash" and a display that records what it
 * was told, all in one depot_hal_ctx the test reads and sets directly.
 */
#ifndef FAKE_HAL_H
#define FAKE_HAL_H

#include <stdint.h>
#include <string.h>

#include "hal.h"

#define FAKE_FIFO_SLOTS 16

struct depot_hal_ctx {
    uint32_t ms;
    int32_t grams;
    int cell_fault;
    depot_config flash;
    int flash_valid;
    int saves;
    depot_scan_event fifo_flash[FAKE_FIFO_SLOTS]; /* oldest first */
    depot_scan_store fifo_meta;
    int fifo_valid;
    int fifo_saves;
    uint16_t shown_code;
    char shown_text[DEPOT_DISPLAY_TEXT_MAX + 1];
    int display_writes;
};

static inline uint32_t fake_millis(depot_hal_ctx *ctx)
{
    return ctx->ms;
}

static inline int32_t fake_cell(depot_hal_ctx *ctx, int32_t *grams)
{
    if (ctx->cell_fault)
        return -1;
    *grams = ctx->grams;
    return 0;
}

static inline int32_t fake_load(depot_hal_ctx *ctx, depot_config *cfg)
{
    if (!ctx->flash_valid)
        return -1;
    *cfg = ctx->flash;
    return 0;
}

static inline int32_t fake_save(depot_hal_ctx *ctx, const depot_config *cfg)
{
    ctx->flash = *cfg;
    ctx->flash_valid = 1;
    ctx->saves++;
    return 0;
}

static inline int32_t fake_fifo_save(depot_hal_ctx *ctx, const depot_scan_store *st)
{
    ctx->fifo_meta = *st;
    ctx->fifo_meta.events = NULL;
    for (uint16_t i = 0; i < st->count; i++)
        ctx->fifo_flash[i] = st->events[(st->head + i) % st->capacity];
    ctx->fifo_valid = 1;
    ctx->fifo_saves++;
    return 0;
}

static inline int32_t fake_fifo_load(depot_hal_ctx *ctx, depot_scan_store *st)
{
    uint16_t n;
    if (!ctx->fifo_valid)
        return -1;
    n = ctx->fifo_meta.count;
    st->count = n < st->capacity ? n : st->capacity;
    memcpy(st->events, ctx->fifo_flash, st->count * sizeof(*st->events));
    st->ack_epoch = ctx->fifo_meta.ack_epoch;
    st->ack_seq = ctx->fifo_meta.ack_seq;
    st->refused = ctx->fifo_meta.refused;
    return n;
}

static inline int32_t fake_display(depot_hal_ctx *ctx, uint16_t code, const char *text)
{
    ctx->shown_code = code;
    strcpy(ctx->shown_text, text);
    ctx->display_writes++;
    return 0;
}

/* board zeroed at 5 s, and hal: every fake wired to it. */
static inline void fake_board(depot_hal_ctx *board, depot_hal *hal)
{
    memset(board, 0, sizeof(*board));
    board->ms = 5000;
    *hal = (depot_hal){.ctx = board,
                       .millis = fake_millis,
                       .load_cell_read = fake_cell,
                       .config_load = fake_load,
                       .config_save = fake_save,
                       .fifo_load = fake_fifo_load,
                       .fifo_save = fake_fifo_save,
                       .display_write = fake_display};
}

#endif
