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
 * that was given a pointer to them (scale, scanner, slave). No function is called
 * from an interrupt: the board calls the firmware from its main loop.
 */
#ifndef DEPOT_FW_HAL_H
#define DEPOT_FW_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "depot/modbus_map.h"

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

/* One scan event of a scanner terminal, as kept in its FIFO and stored. */
typedef struct depot_scan_event {
    uint32_t seq; /* from 1 within the boot epoch it was made in */
    int32_t qty;
    uint16_t epoch;                  /* boot epoch the event was made in, >= 1 */
    uint8_t type;                    /* enum depot_scan_type */
    uint8_t len;                     /* barcode length, 0..DEPOT_BARCODE_MAX */
    char barcode[DEPOT_BARCODE_MAX]; /* printable ASCII, NUL-padded, not terminated */
} depot_scan_event;

/*
 * The scanner's persistent FIFO: a ring of capacity slots in memory the
 * firmware owns (events[head] is the oldest of count events), plus what
 * must survive with it. On an MCU it lives in flash or battery-backed RAM.
 */
typedef struct depot_scan_store {
    depot_scan_event *events;
    uint16_t capacity;
    uint16_t head;
    uint16_t count;
    uint16_t ack_epoch; /* the last acknowledged (epoch, seq); 0, 0 when none */
    uint32_t ack_seq;
    uint32_t refused; /* scans refused because the FIFO was full */
} depot_scan_store;

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
     * Persistent scan FIFO (scanner terminals; NULL elsewhere, and then the
     * FIFO lives in RAM only). fifo_save must replace the stored FIFO
     * atomically (all of it or nothing), and is called on every change.
     * fifo_load gets a store with events and capacity set and everything
     * else zero; it fills events[0..] oldest first (head stays 0), count
     * (at most capacity), the ack pair and refused. It returns the number of
     * events stored, which may exceed capacity (then only capacity of them
     * were loaded), -1 when none was ever saved, -2 when the stored FIFO is
     * unreadable.
     */
    int32_t (*fifo_load)(depot_hal_ctx *ctx, depot_scan_store *store);
    int32_t (*fifo_save)(depot_hal_ctx *ctx, const depot_scan_store *store);

    /*
     * Scanner terminal peripherals. Boards without them leave them NULL; the
     * firmware checks before calling. display_write gets the status code
     * (DEPOT_DISPLAY_*) and the text, NUL-terminated, at most
     * DEPOT_DISPLAY_TEXT_MAX characters; the firmware calls it whenever the
     * display registers change.
     */
    int32_t (*scanner_read)(depot_hal_ctx *ctx, char *code, size_t cap);
    int32_t (*keypad_read)(depot_hal_ctx *ctx, uint8_t *key);
    int32_t (*display_write)(depot_hal_ctx *ctx, uint16_t status, const char *text);
} depot_hal;

#endif
