/*
 * fault.c - report an unexpected exception on USART1 and park the core.
 *
 * Prints one line, e.g.
 *   !FAULT exc=3 pc=0x08000123 lr=0x08000456 cfsr=0x00000400 hfsr=0x40000000 bfar=0x...
 * exc is the exception number (3 HardFault, 4 MemManage, 5 BusFault,
 * 6 UsageFault, 16+n IRQ n without a handler). The host sees this text in
 * place of a reply; the board stays parked until reset.
 */
#include <stdint.h>

#include "fmt.h"
#include "stm32f4_regs.h"
#include "uart.h"

void hil_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));

static void put_hex(const char *label, uint32_t v)
{
    char buf[FMT_U32_HEX_LEN + 1];
    uart_panic_write(label);
    fmt_u32_hex(buf, v);
    uart_panic_write(buf);
}

void hil_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    char num[FMT_U32_DEC_LEN + 1];

    hil_irq_disable();
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));

    uart_panic_write("\r\n!FAULT exc=");
    fmt_u32_dec(num, ipsr & 0x1FFu);
    uart_panic_write(num);
    put_hex(" pc=", frame[6]);
    put_hex(" lr=", frame[5]);
    put_hex(" exc_return=", exc_return);
    put_hex(" cfsr=", SCB_CFSR);
    put_hex(" hfsr=", SCB_HFSR);
    put_hex(" bfar=", SCB_BFAR);
    uart_panic_write("\r\n");

    for (;;)
        hil_wfi(); /* interrupts stay masked: a pending one only ends this WFI */
}
