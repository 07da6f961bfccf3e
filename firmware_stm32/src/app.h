/*
 * app.h - the application behind the UART, fed one received byte at a time.
 *
 * Today: a bring-up placeholder (echo + text commands, see app.c). The binary
 * protocol replaces app_handle_byte()'s body: bytes go into the frame parser
 * (hil_frame_rx_byte(), src/proto/hil_frame.c), and each complete,
 * CRC-checked frame is handed to an app_handle_frame() dispatcher living in
 * app.c. main.c does not change.
 */
#ifndef HIL_APP_H
#define HIL_APP_H

#include <stdint.h>

/* Called once after board, UART and cycle counter are up; sends the boot
 * banner. */
void app_init(void);

/* Called from the main loop for every received byte, in order. */
void app_handle_byte(uint8_t b);

#endif /* HIL_APP_H */
