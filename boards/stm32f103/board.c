/*
 * The STM32F103C8 "Blue Pill" (Cortex-M3, 72 MHz from the 8 MHz crystal:
 * HSE, PLL x9; AHB and APB2 72 MHz, APB1 36 MHz; flash 2 wait states).
 *
 *   USART1 (PA9 TX, PA10 RX)  the RS-485 bus: Modbus RTU, 115200 8E1;
 *                             PA8 drives the transceiver's DE and /RE
 *   USART2 (PA2 TX, PA3 RX)   the service line, 9600 8N1: the barcode
 *                             reader of a scanner terminal, service commands
 *   PB0 DOUT, PB1 PD_SCK      the HX711 load-cell ADC (channel A, gain 128),
 *                             bit-banged
 *   SysTick                   1 ms tick; micros from its counter
 *   flash page 0x0800FC00     the config journal (FPEC), the last 1 KiB page
 *
 * Registers are defined here (RM0008); no vendor headers.
 */
#include <stdint.h>

#include "mcu.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define F_CPU 72000000u  /* SYSCLK = HCLK = PCLK2 */
#define F_APB1 36000000u /* PCLK1 (USART2) */
#define BUS_BAUD 115200u
#define AUX_BAUD 9600u

/*
 * HX711 calibration, per scale (README.md): raw counts with nothing on the
 * platform, and counts per 1000 g (negative when the cell's signal wires are
 * swapped). Set at build time: cmake -DHX711_OFFSET=... -DHX711_COUNTS_PER_KG=...
 */
#ifndef HX711_OFFSET
#define HX711_OFFSET 0
#endif
#ifndef HX711_COUNTS_PER_KG
#define HX711_COUNTS_PER_KG 420000
#endif
_Static_assert((HX711_COUNTS_PER_KG) != 0, "HX711_COUNTS_PER_KG must not be 0");
#define HX711_TIMEOUT_MS 500u /* not ready for longer: the cell failed */
#define HX711_DELAY_LOOPS 24u /* about 1 us at 72 MHz (>= 0.2 us, far below 50 us) */

/* Reset and clock control */
#define RCC_CR REG(0x40021000)
#define RCC_CFGR REG(0x40021004)
#define RCC_APB2ENR REG(0x40021018)
#define RCC_APB1ENR REG(0x4002101C)
#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define CFGR_SW_MASK 3u
#define CFGR_SW_PLL 2u
#define CFGR_SWS_MASK (3u << 2)
#define CFGR_SWS_PLL (2u << 2)
#define CFGR_PPRE1_DIV2 (4u << 8)
#define CFGR_ADCPRE_DIV6 (2u << 14)
#define CFGR_PLLSRC_HSE (1u << 16)
#define CFGR_PLLMUL9 (7u << 18)
#define APB2_AFIO (1u << 0)
#define APB2_IOPA (1u << 2)
#define APB2_IOPB (1u << 3)
#define APB2_USART1 (1u << 14)
#define APB1_USART2 (1u << 17)
#define CLOCK_SPIN_MAX 200000u /* > 100 ms at 8 MHz: the crystal starts in a few ms */

/* GPIO: 4 bits a pin in CRL (0-7) and CRH (8-15): MODE[1:0], CNF[1:0] */
#define GPIO_A 0x40010800u
#define GPIO_B 0x40010C00u
#define GPIO_CRL(p) REG((p) + 0x00u)
#define GPIO_CRH(p) REG((p) + 0x04u)
#define GPIO_IDR(p) REG((p) + 0x08u)
#define GPIO_ODR(p) REG((p) + 0x0Cu)
#define GPIO_BSRR(p) REG((p) + 0x10u)
#define GPIO_BRR(p) REG((p) + 0x14u)
#define PIN_IN_FLOAT 0x4u /* CNF 01, MODE 00 */
#define PIN_IN_PULL 0x8u  /* CNF 10, MODE 00; ODR 1: up */
#define PIN_OUT_2MHZ 0x2u /* push-pull, CNF 00, MODE 10 */
#define PIN_AF_2MHZ 0xAu  /* alternate function push-pull, CNF 10, MODE 10 */
#define PIN_AF_50MHZ 0xBu /* alternate function push-pull, CNF 10, MODE 11 */
#define PIN_CFG(pin, cfg) ((uint32_t)(cfg) << (((pin)&7u) * 4u))
#define PIN_MASK(pin) PIN_CFG(pin, 0xFu)
#define DE_PIN (1u << 8)  /* PA8 */
#define HX_DOUT (1u << 0) /* PB0 */
#define HX_SCK (1u << 1)  /* PB1 */

/* USARTs */
#define USART1 0x40013800u
#define USART2 0x40004400u
#define USART_SR(u) REG((u) + 0x00u)
#define USART_DR(u) REG((u) + 0x04u)
#define USART_BRR(u) REG((u) + 0x08u)
#define USART_CR1(u) REG((u) + 0x0Cu)
#define USART_CR2(u) REG((u) + 0x10u)
#define USART_CR3(u) REG((u) + 0x14u)
#define SR_PE (1u << 0)
#define SR_FE (1u << 1)
#define SR_NE (1u << 2)
#define SR_ORE (1u << 3)
#define SR_RXNE (1u << 5)
#define SR_TC (1u << 6)
#define SR_TXE (1u << 7)
#define SR_RX_ANY (SR_RXNE | SR_ORE | SR_NE | SR_FE | SR_PE)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_PCE (1u << 10) /* PS (bit 9) 0: even */
#define CR1_M (1u << 12)   /* 9 bits: 8 data + parity */
#define CR1_UE (1u << 13)

/* Flash interface (FPEC) */
#define FLASH_ACR REG(0x40022000)
#define FLASH_KEYR REG(0x40022004)
#define FLASH_SR REG(0x4002200C)
#define FLASH_CR REG(0x40022010)
#define FLASH_AR REG(0x40022014)
#define ACR_LATENCY_2 2u
#define ACR_PRFTBE (1u << 4)
#define FKEY1 0x45670123u
#define FKEY2 0xCDEF89ABu
#define FSR_BSY (1u << 0)
#define FSR_PGERR (1u << 2)
#define FSR_WRPRTERR (1u << 4)
#define FSR_EOP (1u << 5)
#define FSR_ALL (FSR_EOP | FSR_PGERR | FSR_WRPRTERR)
#define FCR_PG (1u << 0)
#define FCR_PER (1u << 1)
#define FCR_STRT (1u << 6)
#define FCR_LOCK (1u << 7)
#define FLASH_SPIN_MAX 1000000u

/* Core */
#define NVIC_ISER1 REG(0xE000E104)
#define SCB_VTOR REG(0xE000ED08)
#define IRQ_USART1 37
#define IRQ_USART2 38

/* ---- receive rings, filled by the USART interrupts ---- */

static mcu_ring bus_rx, aux_rx;

/*
 * One byte a receive interrupt (RXNEIE also fires on overrun). Reading SR
 * then DR clears RXNE and the error flags (PE, FE, NE, ORE); a byte with a
 * parity or framing error is passed on all the same: the Modbus CRC rejects
 * its frame. On an overrun the byte in DR is the older one; the newer is lost.
 */
static void usart_rx(uint32_t usart, mcu_ring *r)
{
    if (USART_SR(usart) & SR_RX_ANY)
        mcu_ring_put(r, (uint8_t)USART_DR(usart)); /* the 9th bit (parity) dropped */
}

static void usart1_isr(void)
{
    usart_rx(USART1, &bus_rx);
}

static void usart2_isr(void)
{
    usart_rx(USART2, &aux_rx);
}

/* ---- vector table ---- */

extern uint32_t _estack[];
typedef void (*vector)(void);

#define F4 mcu_halt, mcu_halt, mcu_halt, mcu_halt
#define F8 F4, F4

/* Every entry up to USART2 (IRQ 38) named: anything unexpected stops in mcu_halt. */
__attribute__((section(".vectors"), used)) static const vector vectors[16 + IRQ_USART2 + 1] = {
    (vector)(uintptr_t)_estack,
    mcu_reset,
    F4,           /* 2-5: NMI, HardFault, MemManage, BusFault */
    F8,           /* 6-13: UsageFault, reserved, SVCall, DebugMonitor, reserved */
    mcu_halt,     /* 14: PendSV */
    mcu_tick_isr, /* 15: SysTick */
    F8,           /* IRQ 0-7 */
    F8,           /* IRQ 8-15 */
    F8,           /* IRQ 16-23 */
    F8,           /* IRQ 24-31 */
    F4,           /* IRQ 32-35 */
    mcu_halt,     /* IRQ 36: SPI2 */
    usart1_isr,   /* IRQ 37: USART1 */
    usart2_isr,   /* IRQ 38: USART2 */
};
_Static_assert(sizeof(vectors) == (16 + 39) * sizeof(vector), "vector table");

/* ---- setup ---- */

static int spin_until(volatile uint32_t *reg, uint32_t mask, uint32_t value)
{
    for (uint32_t i = 0; i < CLOCK_SPIN_MAX; i++)
        if ((*reg & mask) == value)
            return 1;
    return 0;
}

/*
 * HSE 8 MHz, PLL x9: 72 MHz. Safe to run when a bootloader left the PLL
 * running (its settings can only change while it is off). HSI stays on: the
 * flash controller needs it to program and erase. Without a working crystal
 * the board stops here (every baud rate would be wrong).
 */
static void clock_init(void)
{
    RCC_CFGR &= ~CFGR_SW_MASK; /* run from HSI */
    (void)spin_until(&RCC_CFGR, CFGR_SWS_MASK, 0);
    RCC_CR &= ~CR_PLLON;
    (void)spin_until(&RCC_CR, CR_PLLRDY, 0);
    RCC_CR |= CR_HSEON;
    if (!spin_until(&RCC_CR, CR_HSERDY, CR_HSERDY))
        mcu_halt();
    FLASH_ACR = ACR_PRFTBE | ACR_LATENCY_2; /* before the clock rises above 48 MHz */
    RCC_CFGR = CFGR_PLLMUL9 | CFGR_PLLSRC_HSE | CFGR_ADCPRE_DIV6 | CFGR_PPRE1_DIV2;
    RCC_CR |= CR_PLLON;
    if (!spin_until(&RCC_CR, CR_PLLRDY, CR_PLLRDY))
        mcu_halt();
    RCC_CFGR |= CFGR_SW_PLL;
    if (!spin_until(&RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL))
        mcu_halt();
}

static void pin_mode(uint32_t port, uint32_t pin, uint32_t cfg)
{
    volatile uint32_t *cr = pin < 8u ? &GPIO_CRL(port) : &GPIO_CRH(port);
    *cr = (*cr & ~PIN_MASK(pin)) | PIN_CFG(pin, cfg);
}

static void usart_init(uint32_t usart, uint32_t pclk, uint32_t baud, uint32_t cr1)
{
    USART_CR1(usart) = 0;
    USART_CR2(usart) = 0; /* 1 stop bit */
    USART_CR3(usart) = 0;
    USART_BRR(usart) = (pclk + baud / 2u) / baud; /* 16x oversampling: mantissa.fraction */
    USART_CR1(usart) = cr1 | CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE;
    (void)USART_SR(usart); /* whatever a bootloader left: flags cleared */
    (void)USART_DR(usart);
}

void board_init(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)vectors; /* also when started by the serial bootloader */
    clock_init();
    RCC_APB2ENR |= APB2_AFIO | APB2_IOPA | APB2_IOPB | APB2_USART1;
    RCC_APB1ENR |= APB1_USART2;

    GPIO_BRR(GPIO_A) = DE_PIN; /* PA8: DE low = receive, before it is an output */
    pin_mode(GPIO_A, 8, PIN_OUT_2MHZ);
    pin_mode(GPIO_A, 9, PIN_AF_50MHZ); /* USART1 TX */
    GPIO_BSRR(GPIO_A) = 1u << 10;      /* pull-up: RX idle while RO is off (sending) */
    pin_mode(GPIO_A, 10, PIN_IN_PULL); /* USART1 RX */
    pin_mode(GPIO_A, 2, PIN_AF_2MHZ);  /* USART2 TX */
    GPIO_BSRR(GPIO_A) = 1u << 3;       /* pull-up: idle with no reader plugged in */
    pin_mode(GPIO_A, 3, PIN_IN_PULL);  /* USART2 RX */

    GPIO_BRR(GPIO_B) = HX_SCK;         /* PD_SCK low: the HX711 runs */
    pin_mode(GPIO_B, 1, PIN_OUT_2MHZ); /* PD_SCK */
    GPIO_BSRR(GPIO_B) = HX_DOUT;
    pin_mode(GPIO_B, 0, PIN_IN_PULL); /* DOUT */

    usart_init(USART1, F_CPU, BUS_BAUD, CR1_M | CR1_PCE);
    usart_init(USART2, F_APB1, AUX_BAUD, 0);
    mcu_tick_start(F_CPU);
    NVIC_ISER1 = (1u << (IRQ_USART1 - 32)) | (1u << (IRQ_USART2 - 32));
}

/* ---- bus and service line ---- */

uint32_t board_bus_baud(void)
{
    return BUS_BAUD;
}

int32_t board_bus_recv(uint8_t *buf, size_t cap)
{
    return mcu_ring_read(&bus_rx, buf, cap);
}

static void usart_put(uint32_t usart, uint8_t c)
{
    while (!(USART_SR(usart) & SR_TXE))
        ;
    USART_DR(usart) = c; /* after the SR read: also clears TC */
}

/*
 * The receiver is off while the driver is on: with DE and /RE tied the
 * transceiver's RO is not driven then, and nothing it shows is a byte.
 */
void board_bus_send(const uint8_t *buf, size_t len)
{
    if (len == 0)
        return;
    USART_CR1(USART1) &= ~CR1_RE;
    GPIO_BSRR(GPIO_A) = DE_PIN;
    for (size_t i = 0; i < len; i++)
        usart_put(USART1, buf[i]);
    while (!(USART_SR(USART1) & SR_TC)) /* the last stop bit is out: release the line */
        ;
    GPIO_BRR(GPIO_A) = DE_PIN;
    USART_CR1(USART1) |= CR1_RE;
}

int32_t board_aux_recv(uint8_t *buf, size_t cap)
{
    return mcu_ring_read(&aux_rx, buf, cap);
}

int32_t board_aux_write(const uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && (USART_SR(USART2) & SR_TXE))
        USART_DR(USART2) = buf[n++];
    return (int32_t)n;
}

/* ---- the HX711 ---- */

static int32_t hx_last_g;
static uint32_t hx_last_ms; /* when the last conversion was read */
static uint8_t hx_have;     /* hx_last_g holds a reading */

static void hx711_delay(void)
{
    for (uint32_t i = 0; i < HX711_DELAY_LOOPS; i++)
        __asm__ volatile("nop");
}

/*
 * One PD_SCK pulse; returns DOUT as it is while SCK is high. Interrupts are
 * off for the high time: held high for 60 us the HX711 powers down.
 */
static uint32_t hx711_pulse(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    GPIO_BSRR(GPIO_B) = HX_SCK;
    hx711_delay();
    uint32_t bit = (GPIO_IDR(GPIO_B) & HX_DOUT) ? 1u : 0u;
    GPIO_BRR(GPIO_B) = HX_SCK;
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
    hx711_delay();
    return bit;
}

/* Raw counts to grams, rounded to the nearest (half away from zero), clamped to int32. */
static int32_t hx711_grams(int32_t raw)
{
    const int64_t den = (int64_t)(HX711_COUNTS_PER_KG);
    int64_t num = ((int64_t)raw - (int64_t)(HX711_OFFSET)) * 1000; /* |num| < 2^43 */
    int64_t q = num / den, r = num % den;
    if (2 * (r < 0 ? -r : r) >= (den < 0 ? -den : den))
        q += (num < 0) != (den < 0) ? -1 : 1;
    if (q > INT32_MAX)
        return INT32_MAX;
    if (q < INT32_MIN)
        return INT32_MIN;
    return (int32_t)q;
}

/*
 * DOUT low: a conversion is ready; 24 bits MSB first, then a 25th pulse
 * (the next conversion: channel A, gain 128). DOUT high: not ready (10 Hz
 * conversions, sampled at 20 Hz): the last reading again, unless there was
 * none or the HX711 has not been ready for HX711_TIMEOUT_MS.
 */
const uint8_t board_load_cell_fed = 0; /* the HX711 */

int32_t board_load_cell_read(int32_t *grams)
{
    uint32_t now = mcu_millis();
    if (GPIO_IDR(GPIO_B) & HX_DOUT) {
        if (!hx_have || now - hx_last_ms > HX711_TIMEOUT_MS) {
            hx_have = 0;
            return -1;
        }
        *grams = hx_last_g;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 24; i++)
        v = (v << 1) | hx711_pulse();
    (void)hx711_pulse();
    int32_t raw = (int32_t)(v ^ 0x800000u) - 0x800000; /* 24-bit two's complement */
    hx_last_g = hx711_grams(raw);
    hx_last_ms = now;
    hx_have = 1;
    *grams = hx_last_g;
    return 0;
}

/* ---- the config page ---- */

extern const uint32_t _cfg_page[];
const uint32_t board_cfg_page_size = 1024u;

const uint32_t *board_cfg_page(void)
{
    return _cfg_page;
}

static int32_t flash_unlock(void)
{
    if (FLASH_CR & FCR_LOCK) {
        FLASH_KEYR = FKEY1;
        FLASH_KEYR = FKEY2;
    }
    if (FLASH_CR & FCR_LOCK)
        return -1;
    FLASH_SR = FSR_ALL; /* stale flags: written 1s clear them */
    return 0;
}

/* Waits for the operation to end; negative on an error or a timeout. */
static int32_t flash_wait(void)
{
    for (uint32_t i = 0; i < FLASH_SPIN_MAX; i++) {
        uint32_t sr = FLASH_SR;
        if (!(sr & FSR_BSY)) {
            FLASH_SR = FSR_ALL;
            return (sr & (FSR_PGERR | FSR_WRPRTERR)) ? -1 : 0;
        }
    }
    return -1;
}

static int in_cfg_page(const uint32_t *at)
{
    uintptr_t a = (uintptr_t)at, p = (uintptr_t)_cfg_page;
    return a >= p && a < p + board_cfg_page_size && (a & 3u) == 0;
}

int32_t board_flash_erase(const uint32_t *page)
{
    if (page != _cfg_page || flash_unlock() < 0)
        return -1;
    FLASH_CR |= FCR_PER;
    FLASH_AR = (uint32_t)(uintptr_t)page;
    FLASH_CR |= FCR_STRT;
    int32_t rc = flash_wait();
    FLASH_CR &= ~FCR_PER;
    FLASH_CR |= FCR_LOCK;
    for (uint32_t i = 0; rc == 0 && i < board_cfg_page_size / 4u; i++)
        if (page[i] != 0xFFFFFFFFu)
            rc = -1;
    return rc;
}

/*
 * A word is two half-word writes, the low half first. A half-word can only
 * be programmed while erased (or to 0): one that already holds its value is
 * left alone, any other the FPEC refuses (PGERR).
 */
int32_t board_flash_write(const uint32_t *at, uint32_t word)
{
    if (!in_cfg_page(at) || flash_unlock() < 0)
        return -1;
    volatile uint16_t *half = (volatile uint16_t *)(uintptr_t)at;
    int32_t rc = 0;
    FLASH_CR |= FCR_PG;
    for (uint32_t i = 0; rc == 0 && i < 2u; i++) {
        uint16_t h = (uint16_t)(word >> (16u * i));
        if (half[i] != h) {
            half[i] = h;
            rc = flash_wait();
        }
    }
    FLASH_CR &= ~FCR_PG;
    FLASH_CR |= FCR_LOCK;
    if (rc == 0 && *(volatile const uint32_t *)at != word)
        rc = -1;
    return rc;
}
