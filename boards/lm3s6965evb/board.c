/*
 * The Stellaris LM3S6965 evaluation board (Cortex-M3, 50 MHz from the PLL):
 * the board qemu-system-arm emulates with working UARTs (-M lm3s6965evb).
 *
 *   UART0 (PA0 U0Rx, PA1 U0Tx)  the RS-485 bus: Modbus RTU, 115200 8E1;
 *                               PC5 drives the transceiver's DE and /RE
 *   UART1 (PD2 U1Rx, PD3 U1Tx)  the service line, 115200 8N1: the barcode
 *                               reader's input, and the load cell's readings
 *                               (this board has no load-cell ADC)
 *   SysTick                     1 ms tick; micros from its counter
 *   flash page 0x3FC00          the config journal (flash controller)
 *
 * Under QEMU the flash controller is not emulated: a write changes nothing,
 * so each start of the emulator is a first boot (boot epoch 1).
 */
#include <stdint.h>

#include "mcu.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define F_CPU 50000000u
#define BUS_BAUD 115200u
#define AUX_BAUD 115200u

/* System control */
#define SYSCTL_RIS REG(0x400FE050)
#define SYSCTL_RCC REG(0x400FE060)
#define SYSCTL_USECRL REG(0x400FE140)
#define SYSCTL_RCGC1 REG(0x400FE104)
#define SYSCTL_RCGC2 REG(0x400FE108)
#define RIS_PLLLRIS (1u << 6)
#define RCC_SYSDIV_SHIFT 23
#define RCC_USESYSDIV (1u << 22)
#define RCC_PWRDN (1u << 13)
#define RCC_BYPASS (1u << 11)
#define RCC_XTAL_SHIFT 6
#define RCC_XTAL_8MHZ 0xEu
#define RCC_OSCSRC_MASK (3u << 4)

/* GPIO ports (APB) */
#define GPIO_A 0x40004000u
#define GPIO_C 0x40006000u
#define GPIO_D 0x40007000u
#define GPIO_DATA(port, mask) REG((port) + ((uint32_t)(mask) << 2))
#define GPIO_DIR(port) REG((port) + 0x400u)
#define GPIO_AFSEL(port) REG((port) + 0x420u)
#define GPIO_DEN(port) REG((port) + 0x51Cu)
#define DE_PIN (1u << 5) /* PC5 */

/* UARTs (PL011) */
#define UART0 0x4000C000u
#define UART1 0x4000D000u
#define UART_DR(u) REG((u) + 0x000u)
#define UART_FR(u) REG((u) + 0x018u)
#define UART_IBRD(u) REG((u) + 0x024u)
#define UART_FBRD(u) REG((u) + 0x028u)
#define UART_LCRH(u) REG((u) + 0x02Cu)
#define UART_CTL(u) REG((u) + 0x030u)
#define UART_IFLS(u) REG((u) + 0x034u)
#define UART_IM(u) REG((u) + 0x038u)
#define UART_ICR(u) REG((u) + 0x044u)
#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCRH_PEN (1u << 1)
#define LCRH_EPS (1u << 2)
#define LCRH_FEN (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define CTL_UARTEN (1u << 0)
#define CTL_TXE (1u << 8)
#define CTL_RXE (1u << 9)
#define IM_RX (1u << 4)
#define IM_RT (1u << 6)

/* Flash controller */
#define FLASH_FMA REG(0x400FD000)
#define FLASH_FMD REG(0x400FD004)
#define FLASH_FMC REG(0x400FD008)
#define FMC_WRKEY (0xA442u << 16)
#define FMC_WRITE (1u << 0)
#define FMC_ERASE (1u << 1)
#define FLASH_SPIN_MAX 1000000u

/* Core */
#define NVIC_ISER0 REG(0xE000E100)
#define IRQ_UART0 5
#define IRQ_UART1 6

/* ---- receive rings, filled by the UART interrupts ---- */

static mcu_ring bus_rx, aux_rx;

static void uart_drain(uint32_t uart, mcu_ring *r)
{
    while (!(UART_FR(uart) & FR_RXFE))
        mcu_ring_put(r, (uint8_t)UART_DR(uart));
    UART_ICR(uart) = IM_RX | IM_RT;
}

static void uart0_isr(void)
{
    uart_drain(UART0, &bus_rx);
}

static void uart1_isr(void)
{
    uart_drain(UART1, &aux_rx);
}

/* ---- vector table ---- */

extern uint32_t _estack[];
typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector vectors[16 + 7] = {
    (vector)(uintptr_t)_estack,
    mcu_reset,
    mcu_halt,        /* NMI */
    mcu_halt,        /* HardFault */
    mcu_halt,        /* MemManage */
    mcu_halt,        /* BusFault */
    mcu_halt,        /* UsageFault */
    [11] = mcu_halt, /* SVCall */
    [14] = mcu_halt, /* PendSV */
    [15] = mcu_tick_isr,
    [16 + IRQ_UART0] = uart0_isr,
    [16 + IRQ_UART1] = uart1_isr,
};

/* ---- setup ---- */

static void clock_init(void)
{
    uint32_t rcc = SYSCTL_RCC;
    rcc |= RCC_BYPASS;
    rcc &=
        ~(RCC_USESYSDIV | RCC_OSCSRC_MASK | (0x1Fu << RCC_XTAL_SHIFT) | (0xFu << RCC_SYSDIV_SHIFT));
    rcc |= RCC_XTAL_8MHZ << RCC_XTAL_SHIFT;
    SYSCTL_RCC = rcc;
    rcc &= ~RCC_PWRDN;
    rcc |= (3u << RCC_SYSDIV_SHIFT) | RCC_USESYSDIV; /* 200 MHz / 4 */
    SYSCTL_RCC = rcc;
    for (uint32_t i = 0; i < FLASH_SPIN_MAX && !(SYSCTL_RIS & RIS_PLLLRIS); i++)
        ;
    SYSCTL_RCC = rcc & ~RCC_BYPASS;
    SYSCTL_USECRL = F_CPU / 1000000u - 1u; /* flash timing: clocks per microsecond */
}

static void uart_init(uint32_t uart, uint32_t baud, uint32_t lcrh)
{
    /* divisor = F_CPU / (16 * baud), in 1/64ths, rounded */
    uint32_t div64 = (F_CPU * 4u + baud / 2u) / baud;
    UART_CTL(uart) = 0;
    UART_IBRD(uart) = div64 >> 6;
    UART_FBRD(uart) = div64 & 63u;
    UART_LCRH(uart) = lcrh | LCRH_WLEN8 | LCRH_FEN;
    UART_IFLS(uart) = 0; /* receive interrupt at 1/8 full; RT for the rest */
    UART_IM(uart) = IM_RX | IM_RT;
    UART_CTL(uart) = CTL_UARTEN | CTL_TXE | CTL_RXE;
}

void board_init(void)
{
    clock_init();
    SYSCTL_RCGC1 |= 3u;                                /* UART0, UART1 */
    SYSCTL_RCGC2 |= (1u << 0) | (1u << 2) | (1u << 3); /* GPIO A, C, D */
    GPIO_AFSEL(GPIO_A) |= 3u;                          /* PA0, PA1: UART0 */
    GPIO_DEN(GPIO_A) |= 3u;
    GPIO_AFSEL(GPIO_D) |= 0xCu; /* PD2, PD3: UART1 */
    GPIO_DEN(GPIO_D) |= 0xCu;
    GPIO_DIR(GPIO_C) |= DE_PIN; /* PC5: DE, low = receive */
    GPIO_DEN(GPIO_C) |= DE_PIN;
    GPIO_DATA(GPIO_C, DE_PIN) = 0;
    uart_init(UART0, BUS_BAUD, LCRH_PEN | LCRH_EPS);
    uart_init(UART1, AUX_BAUD, 0);
    mcu_tick_start(F_CPU);
    NVIC_ISER0 = (1u << IRQ_UART0) | (1u << IRQ_UART1);
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

static void uart_put(uint32_t uart, uint8_t c)
{
    while (UART_FR(uart) & FR_TXFF)
        ;
    UART_DR(uart) = c;
}

void board_bus_send(const uint8_t *buf, size_t len)
{
    GPIO_DATA(GPIO_C, DE_PIN) = DE_PIN;
    for (size_t i = 0; i < len; i++)
        uart_put(UART0, buf[i]);
    while (UART_FR(UART0) & FR_BUSY) /* the last stop bit is out: release the line */
        ;
    GPIO_DATA(GPIO_C, DE_PIN) = 0;
}

int32_t board_aux_recv(uint8_t *buf, size_t cap)
{
    return mcu_ring_read(&aux_rx, buf, cap);
}

int32_t board_aux_write(const uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && !(UART_FR(UART1) & FR_TXFF))
        UART_DR(UART1) = buf[n++];
    return (int32_t)n;
}

const uint8_t board_load_cell_fed = 1; /* no ADC: `weight GRAMS` on UART1 */

int32_t board_load_cell_read(int32_t *grams)
{
    return mcu_fed_weight(grams);
}

/* ---- the config page ---- */

extern const uint32_t _cfg_page[];
const uint32_t board_cfg_page_size = 1024u;

const uint32_t *board_cfg_page(void)
{
    return _cfg_page;
}

static int32_t flash_run(uint32_t cmd)
{
    FLASH_FMC = FMC_WRKEY | cmd;
    for (uint32_t i = 0; i < FLASH_SPIN_MAX; i++)
        if (!(FLASH_FMC & cmd))
            return 0;
    return -1;
}

int32_t board_flash_erase(const uint32_t *page)
{
    FLASH_FMA = (uint32_t)(uintptr_t)page;
    return flash_run(FMC_ERASE);
}

int32_t board_flash_write(const uint32_t *at, uint32_t word)
{
    FLASH_FMA = (uint32_t)(uintptr_t)at;
    FLASH_FMD = word;
    return flash_run(FMC_WRITE);
}
