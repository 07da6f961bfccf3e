# device_lib.mk: the hil device library (frame layer + request dispatcher) as a
# make fragment. Include it from any firmware Makefile:
#
#     include $(shell python -m hil.device_lib --mk)      # or a path to this file
#     SRCS   += $(HIL_DEVICE_LIB_SRCS)
#     CFLAGS += $(HIL_DEVICE_LIB_CFLAGS)
#
# Plain C99, no malloc, no board #ifdef: compile it with your target's flags.
HIL_DEVICE_LIB_DIR    := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
HIL_DEVICE_LIB_SRCS   := $(HIL_DEVICE_LIB_DIR)/src/hil_frame.c $(HIL_DEVICE_LIB_DIR)/src/hil_device.c \
                         $(HIL_DEVICE_LIB_DIR)/src/hil_mlperf.c
HIL_DEVICE_LIB_CFLAGS := -I$(HIL_DEVICE_LIB_DIR)/include
