/*
 * test_requests.c - requests only a test build answers (make TEST_REQUESTS=1).
 *
 * TEST_FAULT: a load from an address nothing is mapped at, a precise BusFault
 * that escalates to HardFault (BusFault is not enabled in SHCSR). The fault
 * handler (fault.c) then sends the FAULT frame the host turns into
 * DeviceFault. tests/test_fault_report.py drives it on the QEMU twin.
 */
#include <stdint.h>

#include "hil_frame.h"

#define UNMAPPED_ADDR 0x30000000u  /* no memory or peripheral on the STM32F4 (nor in QEMU's model) */

int hil_test_request(void *ctx, const hil_frame_t *f, uint8_t *rsp, uint16_t *rsp_len, uint32_t *detail)
{
    (void)ctx;
    (void)rsp;
    (void)rsp_len;
    (void)detail;
    if (f->type != HIL_TEST_MSG_TEST_FAULT)
        return -1;
    return (int)*(volatile uint32_t *)(uintptr_t)UNMAPPED_ADDR;   /* does not return */
}
