/* test_backend.h: a small, fully deterministic backend for exercising the
 * dispatcher on the host (fuzzing, sanitizer runs). Two made-up models, no
 * real inference: outputs and layer tensors are cheap functions of the input.
 * Model 1 has the kws_dscnn input (1x49x10 int8, 490 bytes) so the frame
 * vectors' LOAD_INPUT sample reaches deep into the dispatcher. */
#ifndef HIL_TEST_BACKEND_H
#define HIL_TEST_BACKEND_H

#include "hil_device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Set up dev with the test backend; every byte the device sends goes to sink(ctx, ...). */
void test_backend_init(hil_device_t *dev, void (*sink)(void *ctx, const uint8_t *data, size_t len), void *sink_ctx);

#ifdef __cplusplus
}
#endif

#endif /* HIL_TEST_BACKEND_H */
