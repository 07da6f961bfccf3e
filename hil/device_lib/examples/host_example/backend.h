/* backend.h: the host example's backend (backend.c) for the hil device library. */
#ifndef HOST_EXAMPLE_BACKEND_H
#define HOST_EXAMPLE_BACKEND_H

#include "hil_device.h"

/* Set up dev with this backend; responses go to write(). */
void example_device_init(hil_device_t *dev, void (*write)(const uint8_t *data, size_t len));

#endif /* HOST_EXAMPLE_BACKEND_H */
