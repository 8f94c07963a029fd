/*
 * What a Cortex-M board gives the common node code of boards/cortex-m/:
 * the one header a board's board.c implements. The firmware (firmware/)
 * never sees it; it sees the depot_hal that node_main.c builds from it.
 *
 * Interrupts: a board's receive interrupts and its tick put bytes in rings
 * and count milliseconds; everything else runs in main()'s loop.
 */
#ifndef DEPOT_MCU_H
#define DEPOT_MCU_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"

/* Clocks, tick (mcu_tick_start), UARTs, pins. Called once, first thing in main(). */
void board_init(void);

/* The RS-485 bus: the node's Modbus RTU line. */
uint32_t board_bus_baud(void);
int32_t board_bus_recv(uint8_t *buf, size_t cap);    /* received bytes, non-blocking */
void board_bus_send(const uint8_t *buf, size_t len); /* driver enabled, sent, released */

/*
 * The auxiliary serial line: the barcode reader of a scanner terminal, the
 * board's service port. Text lines in, text lines out.
 */
int32_t board_aux_recv(uint8_t *buf, size_t cap);
/*
 * Non-blocking: queues what the UART takes now (its FIFO or its one data
 * register) and returns how many bytes that was. The loop sends the rest
 * later, so a slow service line (a 9600-baud barcode reader) never holds up
 * the bus's framing.
 */
int32_t board_aux_write(const uint8_t *buf, size_t len);

/* One raw load-cell reading in grams; negative: the cell failed. */
int32_t board_load_cell_read(int32_t *grams);
/* 1 when the board has no load-cell ADC and its readings come from the service line. */
extern const uint8_t board_load_cell_fed;

/*
 * Persistent storage of the node's configuration: one flash page of the
 * board. Erase sets the page to 0xFF; a word write may only clear bits.
 * Both return 0 on success, negative when the flash controller refused.
 */
extern const uint32_t board_cfg_page_size;
const uint32_t *board_cfg_page(void);
int32_t board_flash_erase(const uint32_t *page);
int32_t board_flash_write(const uint32_t *at, uint32_t word);

/* ---- what the common code gives every board (core.c) ---- */

/* SysTick from the core clock every ms; its interrupt is mcu_tick_isr. */
void mcu_tick_start(uint32_t cpu_hz);
void mcu_tick_isr(void);

/* Free-running clocks (wrap), from the tick. */
uint32_t mcu_millis(void);
uint32_t mcu_micros(void);

/* Sleeps until the next interrupt (the tick wakes at least every ms). */
void mcu_idle(void);

/* Where a fault (or a clock that does not start) stops: the vector of every unexpected entry. */
void mcu_halt(void) __attribute__((noreturn));

/* A receive ring: the UART's interrupt puts, the loop reads. */
#define MCU_RING 256u /* a power of two */

typedef struct mcu_ring {
    volatile uint8_t buf[MCU_RING];
    volatile uint32_t head; /* written by the interrupt */
    uint32_t tail;          /* read by the loop */
} mcu_ring;

/* From the interrupt; a full ring loses the byte, as a real overrun does. */
static inline void mcu_ring_put(mcu_ring *r, uint8_t c)
{
    if (r->head - r->tail < MCU_RING) {
        r->buf[r->head % MCU_RING] = c;
        r->head++;
    }
}

int32_t mcu_ring_read(mcu_ring *r, uint8_t *buf, size_t cap);

/* Used by the board's reset handler (startup.c) and the service port's `status`. */
void mcu_reset(void) __attribute__((noreturn));
uint32_t mcu_stack_size(void);
uint32_t mcu_stack_used(void); /* high-water mark since reset (painted stack) */

/*
 * The reading the service line last fed (`weight GRAMS`): the load cell of a
 * board without an ADC (node_main.c).
 */
int32_t mcu_fed_weight(int32_t *grams);

/* The configuration journal in the board's flash page (cfg_flash.c). */
int32_t mcu_cfg_load(depot_config *cfg);
int32_t mcu_cfg_save(const depot_config *cfg);

#endif
