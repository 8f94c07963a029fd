/*
 * The scanner terminal application: a persistent FIFO of scan events that the
 * gateway drains through the scanner block of include/depot/modbus_map.h, and
 * the display registers the gateway writes.
 *
 * The board hands scanner_init the FIFO's slots (no heap) and serves
 * scanner_modbus_ops with the scanner as app pointer. Scans come from the
 * board (its barcode reader and keypad, or the host board's control channel)
 * through scanner_scan().
 */
#ifndef DEPOT_FW_SCANNER_H
#define DEPOT_FW_SCANNER_H

#include <stdint.h>

#include "depot/modbus_map.h"
#include "hal.h"
#include "mb_slave.h"

#define SCANNER_FW_VERSION 0x0100u /* 1.0 */
#define SCANNER_FIFO_DEFAULT 64
#define SCANNER_FIFO_MAX 1024 /* the largest capacity the firmware accepts */
#define SCANNER_DEFAULT_UNIT 1

/* Results of scanner_init and scanner_scan. */
enum scanner_result {
    SCANNER_OK = 0,
    SCANNER_E_FULL = -1,     /* the FIFO is full: the scan was refused */
    SCANNER_E_BARCODE = -2,  /* empty (except submit), too long or not printable ASCII */
    SCANNER_E_TYPE = -3,     /* not a DEPOT_SCAN_* type */
    SCANNER_E_QTY = -4,      /* receive, pick, line: >= 1; count: >= 0; submit: 0 */
    SCANNER_E_STORE = -5,    /* init: the stored FIFO is unreadable */
    SCANNER_E_CAPACITY = -6, /* init: capacity 0, above the maximum, or below the stored count */
};

typedef struct scanner {
    const depot_hal *hal;
    depot_config cfg;      /* unit id and boot epoch are what a scanner uses */
    depot_scan_store fifo; /* persistent */
    uint32_t last_seq;     /* last sequence number given in this epoch */
    uint16_t display_code; /* DEPOT_DISPLAY_* */
    char display_text[DEPOT_DISPLAY_TEXT_MAX + 1]; /* NUL-padded */
    uint32_t boot_ms;
} scanner;

/*
 * Boots the terminal: loads the config (defaults when none) and the stored
 * FIFO into events (capacity slots, owned by the caller for the scanner's
 * life), applies unit when it is not 0, increments and saves the boot epoch.
 * Returns SCANNER_OK, SCANNER_E_STORE or SCANNER_E_CAPACITY; on an error the
 * scanner must not be used (nothing stored was changed).
 */
int scanner_init(scanner *sc, const depot_hal *hal, uint8_t unit, depot_scan_event *events,
                 uint16_t capacity);

/*
 * A reboot as the node would do it: the FIFO and the config stay (they are
 * persistent), the boot epoch increments, the sequence restarts, the display
 * and the uptime are reset.
 */
void scanner_reboot(scanner *sc);

/*
 * Appends a scan event of type (DEPOT_SCAN_*). barcode is NUL-terminated,
 * printable ASCII, 1..DEPOT_BARCODE_MAX characters (empty for a submit).
 * On SCANNER_OK *seq (may be NULL) gets the event's sequence number.
 * A full FIFO refuses: SCANNER_E_FULL, the refused counter increments and
 * the display shows "FIFO FULL" with code DEPOT_DISPLAY_ERROR.
 */
int scanner_scan(scanner *sc, uint8_t type, const char *barcode, int32_t qty, uint32_t *seq);

/* The head event, or NULL when the FIFO is empty. */
const depot_scan_event *scanner_head(const scanner *sc);

/*
 * Drops the head event when (epoch, seq) names it: MB_EX_NONE; otherwise
 * MB_EX_ILLEGAL_VALUE and nothing changes.
 */
uint8_t scanner_ack(scanner *sc, uint16_t epoch, uint32_t seq);

/* DEPOT_SCAN_FLAG_* bits. */
uint16_t scanner_flags(const scanner *sc);
uint32_t scanner_uptime_s(const scanner *sc);

/* Register access for mb_slave; app is the scanner. */
extern const mb_slave_ops scanner_modbus_ops;

#endif
