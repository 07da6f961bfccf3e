/*
 * startup_stm32f4.c - vector table and reset handler for STM32F405 (QEMU
 * netduinoplus2) and STM32F429 (DISC1). Plain C, no vendor startup files.
 *
 * Reset_Handler order matters:
 *   1. enable the FPU (CPACR), since any code built with -mfloat-abi=hard may
 *      touch s0..s31 (GCC also uses them for block copies);
 *   2. point VTOR at our table (flash is aliased at 0 on both parts anyway);
 *   3. copy .data from flash, zero .bss;
 *   4. run .init_array (C constructors; normally empty);
 *   5. call main().
 */
#include <stdint.h>

#include "stm32f4_regs.h"

/* Symbols from ld/stm32f4_sections.ld. */
extern uint32_t __hil_stack_top;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _sccm, _eccm;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void hil_fault_report(const uint32_t *frame, uint32_t exc_return); /* fault.c */

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;   /* cycles.c */
void USART1_IRQHandler(void) WEAK_DEFAULT; /* uart.c */

/* 16 system exceptions + 91 IRQs (STM32F429 has IRQ 0..90, the F405 0..81;
 * the longer table is harmless on the F405). */
#define HIL_NUM_IRQS 91u
#define HIL_VECTOR(irqn) (16u + (irqn))

typedef void (*vector_t)(void);

/* All IRQs default first, then the ones we handle: GCC warns about the
 * intended override. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

__attribute__((section(".isr_vector"), used))
const vector_t hil_vector_table[16u + HIL_NUM_IRQS] = {
    [0] = (vector_t)(uintptr_t)&__hil_stack_top,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [7 ... 10] = 0, /* reserved */
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [13] = 0, /* reserved */
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 ... 16u + HIL_NUM_IRQS - 1u] = Default_Handler,
    [HIL_VECTOR(USART1_IRQN)] = USART1_IRQHandler, /* IRQ 37 */
};
#pragma GCC diagnostic pop

/*
 * Keep GCC from turning the copy/zero loops into memcpy/memset calls: they
 * would work, but the reset path should not depend on libc.
 */
__attribute__((noreturn, optimize("no-tree-loop-distribute-patterns")))
void Reset_Handler(void)
{
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL; /* FPU: full access to CP10/CP11 */
    hil_dsb();
    hil_isb();

    SCB_VTOR = (uint32_t)(uintptr_t)hil_vector_table;

    const uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;)
        *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;)
        *dst++ = 0u;
    for (uint32_t *dst = &_sccm; dst < &_eccm;)   /* .ccmram is zeroed like .bss (CCM is clocked at reset) */
        *dst++ = 0u;

    for (void (**fn)(void) = __init_array_start; fn < __init_array_end; ++fn)
        (*fn)();

    (void)main();
    for (;;) /* main() must not return; park the core if it does */
        hil_wfi();
}

/*
 * Every unexpected exception lands here: pass the stacked frame (r0-r3, r12,
 * lr, pc, xpsr) and EXC_RETURN to the C reporter, which prints a line on
 * USART1 and parks the core.
 */
__attribute__((naked)) void Default_Handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r1, lr\n\t"
        "b hil_fault_report\n\t");
}
