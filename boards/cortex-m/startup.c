/*
 * What every Cortex-M board does out of reset, before main(): the reset
 * handler its vector table names. Copies .data from flash, zeroes .bss,
 * and paints the stack, so the high-water mark can be read later
 * (mcu_stack_used: `status` on the service line, and the QEMU test).
 *
 * The linker script of each board defines the symbols below and reserves
 * the stack as a section of its own (.stack, DEPOT_STACK_SIZE bytes) whose
 * size the board's budget check counts as RAM.
 */
#include <stdint.h>

#include "mcu.h"

#define PAINT 0xC5C5C5C5u

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern uint32_t _sstack[], _estack[];

int main(void);

void mcu_reset(void)
{
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;)
        *dst++ = *src++;
    for (uint32_t *dst = _sbss; dst < _ebss;)
        *dst++ = 0;
    /* Paint the stack below what this function uses (64 bytes is ample). */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = _sstack; p < sp - 16; p++)
        *p = PAINT;
    (void)main();
    for (;;)
        __asm__ volatile("wfi");
}

uint32_t mcu_stack_size(void)
{
    return (uint32_t)((uintptr_t)_estack - (uintptr_t)_sstack);
}

uint32_t mcu_stack_used(void)
{
    const uint32_t *p = _sstack;
    while (p < _estack && *p == PAINT)
        p++;
    return (uint32_t)((uintptr_t)_estack - (uintptr_t)p);
}
