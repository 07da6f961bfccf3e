# Both entry points install what they need (scripts/setup.sh is idempotent).
PY := .venv/bin/python

.PHONY: setup demo test golden fuzz tflm-check tflite-check clean

FUZZ_SECONDS ?= 300

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/pytest tests/board --board=stm32f4-qemu -q

# All tests (tests/board on the default stm32f4-qemu), then the same board
# suite on the other emulated devices: every device implementation of the
# protocol is held to the same tests. Results files go under build/, a $HIL_DB
# of the caller is not recorded into, and the last step fails if the suite
# left anything else in the checkout.
test: setup
	@mkdir -p build
	@bash scripts/check_clean_tree.sh snapshot build/tree-before-test.txt
	$(PY) -m hil.protocol.gen_c --check
	$(MAKE) fuzz FUZZ_SECONDS=25
	env -u HIL_DB $(PY) -m pytest -q --hil-json=build/hil-results-stm32f4-qemu.json
	env -u HIL_DB $(PY) -m pytest -q tests/board --board=fpga-sim --hil-json=build/hil-results-fpga-sim.json
	env -u HIL_DB $(PY) -m pytest -q tests/board --board=sim --vectors=50 --hil-json=build/hil-results-sim.json
	@bash scripts/check_clean_tree.sh check build/tree-before-test.txt

# libFuzzer on the C device library (frame decoder, dispatcher) with ASan + UBSan:
# `make fuzz` runs each of the three harnesses FUZZ_SECONDS (default 300); `make test` a 25 s smoke run each.
# Figures of a long run: docs/fuzzing.md.
fuzz: setup
	$(MAKE) -C hil/device_lib/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS) PYTHON=$(abspath $(PY)) OUT=$(CURDIR)/build/fuzz

golden: setup
	.venv/bin/hil golden build --model all

# Every bundle vector of every built-in int8 model exported as .tflite and run in TFLite Micro,
# compared with the bundles and golden/intsim (tests/test_tflm_arith.py: every vector of the small
# models, a stratified subset of the big ones); about 14 minutes on the shared 2-core machine.
tflm-check: setup
	$(PY) scripts/tflm_check.py

# Every vector of every .tflite fixture (tests/data/tflite) on stm32f4-qemu, KWS and ResNet-8 also on
# fpga-sim, against TFLite Micro and golden/intsim, with instructions and flash/SRAM/CCM (docs/tflite.md);
# 386 s on this machine (2 shared cores). tests/test_tflite_boards.py runs 3 vectors of each.
tflite-check: setup
	$(PY) scripts/tflite_check.py --json build/tflite-check.json

clean:
	rm -rf firmware_stm32/build build .pytest_cache
