/*
 * The Cortex-M core's part that every board uses alike: the SysTick 1 ms tick
 * and the clocks read from it, the receive ring a UART interrupt fills, the
 * sleep between interrupts, and the loop a fault stops in (mcu.h).
 */
#include "mcu.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG(0xE000E010)
#define SYST_RVR REG(0xE000E014)
#define SYST_CVR REG(0xE000E018)

static volatile uint32_t ticks_ms;
static uint32_t tick_reload; /* core clocks per ms */
static uint32_t clocks_per_us;

void mcu_tick_start(uint32_t cpu_hz)
{
    tick_reload = cpu_hz / 1000u;
    clocks_per_us = cpu_hz / 1000000u;
    SYST_RVR = tick_reload - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

void mcu_tick_isr(void)
{
    ticks_ms++;
}

uint32_t mcu_millis(void)
{
    return ticks_ms;
}

uint32_t mcu_micros(void)
{
    uint32_t ms, cvr;
    do { /* the tick may come between the two reads: read again */
        ms = ticks_ms;
        cvr = SYST_CVR;
    } while (ms != ticks_ms);
    return ms * 1000u + (tick_reload - 1u - cvr) / clocks_per_us;
}

void mcu_idle(void)
{
    __asm__ volatile("wfi");
}

void mcu_halt(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

int32_t mcu_ring_read(mcu_ring *r, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap && r->tail != r->head) {
        buf[n++] = r->buf[r->tail % MCU_RING];
        r->tail++;
    }
    return (int32_t)n;
}
