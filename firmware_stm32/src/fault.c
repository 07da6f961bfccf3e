/*
 * fault.c - report an unexpected exception on USART1 and park the core.
 *
 * Sends a FAULT frame (hil/protocol/spec.py: exception number, CFSR, HFSR,
 * MMFAR, BFAR, stacked PC and LR) with the seq of the request that was
 * running, so the host raises DeviceFault naming the registers; then one text
 * line for a person on a terminal, e.g.
 *   !FAULT exc=3 pc=0x08000123 lr=0x08000456 cfsr=0x00000400 hfsr=0x40000000 ...
 * exc is the exception number (3 HardFault, 4 MemManage, 5 BusFault,
 * 6 UsageFault, 16+n IRQ n without a handler). Only polled UART writes and
 * the frame encoder run here (no interrupts, no heap). The board stays
 * parked until reset (a real board's watchdog does that, board_disc1.c).
 */
#include <stdint.h>

#include "fmt.h"
#include "hil_frame.h"
#include "stm32f4_regs.h"
#include "uart.h"

void hil_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));

/* The running request's seq (backend.c, protocol builds); weak: absent in bring-up builds. */
uint16_t hil_fault_seq(void) __attribute__((weak));

static void put_hex(const char *label, uint32_t v)
{
    char buf[FMT_U32_HEX_LEN + 1];
    uart_panic_write(label);
    fmt_u32_hex(buf, v);
    uart_panic_write(buf);
}

static void send_fault_frame(uint32_t exc, const uint32_t *frame)
{
    static uint8_t payload[HIL_FAULT_LEN];
    static uint8_t wire[2u * HIL_FAULT_LEN + 16u];
    hil_put_u32(payload + HIL_FAULT_OFF_EXCEPTION, exc);
    hil_put_u32(payload + HIL_FAULT_OFF_CFSR, SCB_CFSR);
    hil_put_u32(payload + HIL_FAULT_OFF_HFSR, SCB_HFSR);
    hil_put_u32(payload + HIL_FAULT_OFF_MMFAR, SCB_MMFAR);
    hil_put_u32(payload + HIL_FAULT_OFF_BFAR, SCB_BFAR);
    hil_put_u32(payload + HIL_FAULT_OFF_PC, frame[6]);
    hil_put_u32(payload + HIL_FAULT_OFF_LR, frame[5]);
    uint16_t seq = hil_fault_seq != 0 ? hil_fault_seq() : HIL_SEQ_NONE;
    wire[0] = HIL_DELIMITER;     /* ends any response cut short by the fault */
    size_t n = hil_frame_encode(HIL_MSG_FAULT, seq, payload, HIL_FAULT_LEN, wire + 1, sizeof wire - 1u);
    uart_panic_write_bytes(wire, n + 1u);
}

void hil_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    char num[FMT_U32_DEC_LEN + 1];

    hil_irq_disable();
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    send_fault_frame(ipsr & 0x1FFu, frame);

    uart_panic_write("\r\n!FAULT exc=");
    fmt_u32_dec(num, ipsr & 0x1FFu);
    uart_panic_write(num);
    put_hex(" pc=", frame[6]);
    put_hex(" lr=", frame[5]);
    put_hex(" exc_return=", exc_return);
    put_hex(" cfsr=", SCB_CFSR);
    put_hex(" hfsr=", SCB_HFSR);
    put_hex(" mmfar=", SCB_MMFAR);
    put_hex(" bfar=", SCB_BFAR);
    uart_panic_write("\r\n");

    for (;;)
        hil_wfi(); /* interrupts stay masked: a pending one only ends this WFI */
}
