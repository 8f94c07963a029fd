/*
 * The porting contract of Depot's field-node firmware, in the coreMQTT
 * style: one struct of function pointers and an incomplete context type that
 * each board (boards/<board>/) defines. The firmware never touches hardware,
 * sockets or files directly; everything goes through a depot_hal.
 *
 * Return values, for every function that moves bytes:
 *   > 0  bytes moved;  0  nothing now, try again later;  < 0  error.
 * Functions that do not move bytes return 0 on success, negative on error.
 *
 * Lifetime: the depot_hal and its ctx must outlive every firmware object
 * that was given a pointer to them (scale, slave). No function is called
 * from an interrupt: the board calls the firmware from its main loop.
 */
#ifndef DEPOT_FW_HAL_H
#define DEPOT_FW_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Defined by the board: file descriptors on the host, peripherals on an MCU. */
typedef struct depot_hal_ctx depot_hal_ctx;

/* Persistent node configuration (flash page on an MCU, a file on the host). */
typedef struct depot_config {
    uint8_t unit_id;     /* Modbus unit id, 1..247 */
    uint8_t filter;      /* readings averaged per sample, 1..64 */
    uint16_t boot_epoch; /* incremented at every boot */
    uint32_t unit_mg;    /* unit weight of the item on the scale, mg */
    int32_t tare_g;      /* tare in grams */
} depot_config;

typedef struct depot_hal {
    depot_hal_ctx *ctx;

    /* Byte stream to the bus (UART or TCP connection). Non-blocking. */
    int32_t (*send)(depot_hal_ctx *ctx, const uint8_t *buf, size_t len);
    int32_t (*recv)(depot_hal_ctx *ctx, uint8_t *buf, size_t len);

    /* Free-running clocks; they wrap, callers compare differences. */
    uint32_t (*millis)(depot_hal_ctx *ctx);
    uint32_t (*micros)(depot_hal_ctx *ctx); /* may be NULL: millis * 1000 */

    /* One raw load-cell reading in grams; negative return = cell fault. */
    int32_t (*load_cell_read)(depot_hal_ctx *ctx, int32_t *grams);

    /* Persistent config; load returns negative when none was ever saved. */
    int32_t (*config_load)(depot_hal_ctx *ctx, depot_config *cfg);
    int32_t (*config_save)(depot_hal_ctx *ctx, const depot_config *cfg);

    /*
     * Reserved for the scanner terminal (a later issue). Scale boards leave
     * them NULL; the firmware must check before calling.
     */
    int32_t (*scanner_read)(depot_hal_ctx *ctx, char *code, size_t cap);
    int32_t (*keypad_read)(depot_hal_ctx *ctx, uint8_t *key);
    int32_t (*display_write)(depot_hal_ctx *ctx, uint16_t status, const char *text);
} depot_hal;

#endif
