/* kernels.h: every HLS kernel (hil::<op>_<dtype>), for generated tops to include. */
#ifndef HIL_HLS_KERNELS_H
#define HIL_HLS_KERNELS_H

#include "hil_hls/types.h"
#include "hil_hls/arith.h"
#include "hil_hls/csim.h"
#include "hil_hls/load_input.h"
#include "hil_hls/conv2d.h"
#include "hil_hls/depthwise_conv2d.h"
#include "hil_hls/pool2d.h"
#include "hil_hls/fully_connected.h"
#include "hil_hls/graph_ops.h"
#include "hil_hls/tflm_ops.h"

#endif /* HIL_HLS_KERNELS_H */
