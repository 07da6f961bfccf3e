/*
 * memory_regions.h - where a static buffer lives besides SRAM.
 *
 * HIL_CCM puts it in the 64 KiB CCM region (section .ccmram,
 * ld/stm32f4_sections.ld): core-coupled RAM at 0x10000000 on the F405/F429,
 * data only (no DMA, no code). The QEMU twin maps no CCM, so its linker
 * script places the same 64 KiB just past the real 128 KiB of SRAM, which
 * QEMU maps (ld/stm32f405_qemu.ld). The section is NOLOAD and zeroed at
 * reset like .bss (startup_stm32f4.c); no initialised data goes there.
 */
#ifndef HIL_MEMORY_REGIONS_H
#define HIL_MEMORY_REGIONS_H

#define HIL_CCM __attribute__((section(".ccmram")))

#endif /* HIL_MEMORY_REGIONS_H */
