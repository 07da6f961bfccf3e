# nn.mk: the int8 inference engine (src/nn, include/nn) and the model tables
# generated from qmodel artifacts, as a fragment for firmware_stm32/Makefile.
#
# In the Makefile, before APP_SRCS is defined:
#
#     include nn.mk
#     APP_SRCS := src/main.c src/app.c $(NN_SRCS) $(MODEL_SRC)
#     CFLAGS += $(NN_CFLAGS)          # after the CFLAGS := line
#
# Inputs
#   MODELS      qmodel.json paths (relative to the make directory, or absolute)
#               or model names (golden/artifacts/<name>/<name>.qmodel.json);
#               model ids 0..n-1 in this order. Empty: tables with no models.
#   MODELS_LIST instead of MODELS: a file naming one qmodel.json path a line
#               (ids in line order; '#' lines are comments). Paths are data
#               here: make never splits, expands or passes them to a shell, so
#               any folder name works. hil's builds use it (and write the
#               file only when its text changes, with each artifact's content
#               hash in a comment, so a changed artifact regenerates the tables).
#   NN_GEN_DIR  where hil_models.c/.h are written (default build/gen next to
#               this file; set it to $(BUILD_DIR)/gen to keep targets apart)
#   KERNELS     opt (default): the Cortex-M4 DSP kernels (*_opt.c, hil_nn_scratch);
#               ref: the plain C reference kernels only (*_ref.c). Same results.
#   PYTHON      interpreter with numpy; when not given on the command line or
#               in the environment, the repo's .venv/bin/python if present
# Outputs
#   NN_SRCS     kernels + executor + the generated hil_models.c
#   NN_CFLAGS   -I for include/ (#include "nn/hil_model.h"), NN_GEN_DIR
#               (#include "hil_models.h") and the device library's include/
#               (hil_protocol.h: op ids, generated from the protocol spec)
#   NN_GEN      the generated hil_models.c and hil_models.h
#
# The tables are (re)generated while make reads its makefiles (they come with
# $(NN_GEN_DIR)/hil_models.mk, included below), so they exist before anything
# is compiled: when MODELS changes, an artifact or hil/targets/stm32/codegen.py is newer,
# or a generated file is missing. Unchanged tables keep their timestamps.

NN_SAVED_GOAL := $(.DEFAULT_GOAL)
NN_DIR  := $(patsubst ./%,%,$(dir $(lastword $(MAKEFILE_LIST))))
NN_ROOT := $(abspath $(NN_DIR)..)

MODELS     ?=
NN_GEN_DIR ?= $(NN_DIR)build/gen

KERNELS ?= opt
ifeq ($(KERNELS),opt)
  NN_OPT_SRCS := hil_conv2d_s8_opt.c hil_depthwise_conv2d_s8_opt.c hil_fully_connected_s8_opt.c \
                 hil_gemm_s8_opt.c hil_maxpool2d_s8_opt.c
  NN_KERNELS_OPT := 1
else ifeq ($(KERNELS),ref)
  NN_OPT_SRCS :=
  NN_KERNELS_OPT := 0
else
  $(error KERNELS must be opt or ref, got '$(KERNELS)')
endif
NN_KERNEL_SRCS := $(addprefix $(NN_DIR)src/nn/, \
    hil_conv2d_s8_ref.c hil_conv2d_wrapper_s8.c \
    hil_depthwise_conv2d_s8_ref.c hil_depthwise_conv2d_s8.c \
    hil_fully_connected_s8_ref.c hil_fully_connected_s8.c \
    hil_maxpool2d_s8_ref.c hil_maxpool2d_s8.c hil_avgpool2d_s8.c hil_model.c \
    hil_add_s8.c hil_concat_s8.c hil_channel_shuffle_s8.c hil_grouped_conv2d_s8.c \
    hil_softmax_s8.c hil_mean_s8.c hil_pad_s8.c $(NN_OPT_SRCS))
NN_GEN    := $(NN_GEN_DIR)/hil_models.c $(NN_GEN_DIR)/hil_models.h
NN_SRCS   := $(NN_KERNEL_SRCS) $(NN_GEN_DIR)/hil_models.c
NN_CFLAGS := -I$(NN_DIR)include -I$(NN_GEN_DIR) -I$(NN_ROOT)/hil/device_lib/include \
             -DHIL_NN_KERNELS_OPT=$(NN_KERNELS_OPT)

ifneq ($(filter command line environment override,$(origin PYTHON)),)
  NN_PYTHON ?= $(PYTHON)
else
  NN_PYTHON ?= $(or $(wildcard $(NN_ROOT)/.venv/bin/python),$(PYTHON),python3)
endif

# Generator arguments: *.json as absolute paths, anything else a model name; or the list file.
MODELS_LIST    ?=
ifeq ($(strip $(MODELS_LIST)),)
NN_MODEL_ARGS  := $(foreach m,$(MODELS),$(if $(filter %.json,$(m)),$(abspath $(m)),$(m)))
NN_MODEL_FILES := $(foreach m,$(NN_MODEL_ARGS),$(if $(filter %.json,$(m)),$(m),\
                    $(NN_ROOT)/golden/artifacts/$(m)/$(m).qmodel.json))
NN_GEN_ARGS     = $(foreach a,$(NN_MODEL_ARGS),$(call nn_sh,$(a)))
else
NN_MODEL_ARGS  := --models-list $(abspath $(MODELS_LIST))
NN_MODEL_FILES := $(abspath $(MODELS_LIST))
NN_GEN_ARGS     = --models-list $(call nn_sh,$(abspath $(MODELS_LIST)))
endif
NN_GEN_MK      := $(NN_GEN_DIR)/hil_models.mk
# one shell word, single-quoted; and text for a makefile line ('$' doubled, '#' escaped)
nn_sh = '$(subst ','\'',$(1))'
nn_hash := \#
nn_mk = $(subst $(nn_hash),\$(nn_hash),$(subst $$,$$$$,$(1)))
# artifacts make can name as prerequisites (';', '#', ':', '%' would be parsed); a change to any
# other one is not seen (the tables follow MODELS only): MODELS_LIST has no such limit
nn_unsafe = $(findstring ;,$(1))$(findstring $(nn_hash),$(1))$(findstring :,$(1))$(findstring %,$(1))
NN_MODEL_DEPS := $(foreach f,$(NN_MODEL_FILES),$(if $(call nn_unsafe,$(f)),,$(f)))

# `make clean` alone does not generate anything.
ifneq ($(if $(MAKECMDGOALS),$(filter-out clean,$(MAKECMDGOALS)),all),)

# hil_models.mk records the MODELS the tables were made for (NN_GEN_MODELS);
# when it is missing or out of date, make remakes it first, then restarts.
include $(NN_GEN_MK)
ifneq ($(strip $(NN_GEN_MODELS)),$(strip $(NN_MODEL_ARGS)))
  NN_GEN_FORCE := nn-gen-force
endif
ifneq ($(words $(wildcard $(NN_GEN))),2)
  NN_GEN_FORCE := nn-gen-force
endif
# a missing artifact: let the generator say what to do about it
ifneq ($(words $(wildcard $(NN_MODEL_DEPS))),$(words $(NN_MODEL_DEPS)))
  NN_GEN_FORCE := nn-gen-force
endif

# (wildcard: a wheel install builds from a cache copy without the hil/ sources beside it)
$(NN_GEN_MK): $(wildcard $(NN_MODEL_DEPS) $(NN_ROOT)/hil/targets/stm32/codegen.py \
                          $(NN_ROOT)/hil/targets/stm32/memory_plan.py) $(NN_GEN_FORCE)
	@mkdir -p $(@D)
	@echo "  GEN     $(NN_GEN_DIR)/hil_models.c: $(call nn_sh,$(or $(MODELS_LIST),$(MODELS),no models))"
	$(Q)cd $(call nn_sh,$(NN_ROOT)) && $(call nn_sh,$(NN_PYTHON)) -m hil.targets.stm32.codegen -q \
	    --out $(call nn_sh,$(abspath $(NN_GEN_DIR))) $(NN_GEN_ARGS)
	@printf 'NN_GEN_MODELS := %s\n' $(call nn_sh,$(call nn_mk,$(NN_MODEL_ARGS))) > $@

.PHONY: nn-gen-force
nn-gen-force: ;
endif

# Nothing here is a default goal: keep the including Makefile's.
.DEFAULT_GOAL := $(NN_SAVED_GOAL)
