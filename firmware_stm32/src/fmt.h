/*
 * fmt.h - integer to text without printf (no libc formatting, no malloc).
 * Each function writes a NUL-terminated string into buf and returns its
 * length (without the NUL).
 */
#ifndef HIL_FMT_H
#define HIL_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_U32_DEC_LEN 10u /* "4294967295" */
#define FMT_U32_HEX_LEN 10u /* "0x" + 8 digits */

size_t fmt_u32_dec(char *buf, uint32_t v);
size_t fmt_u32_hex(char *buf, uint32_t v);

#endif /* HIL_FMT_H */
