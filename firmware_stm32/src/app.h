/*
 * app.h - the application behind the UART, fed one received byte at a time.
 *
 * APP=protocol: backend.c hands every byte to the device library's
 * dispatcher (hil/device_lib, hil_device_feed()). APP=bringup:
 * app_bringup.c (echo + text commands). main.c does not change.
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
