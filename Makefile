# Both entry points install what they need (scripts/setup.sh is idempotent).
PY := .venv/bin/python

.PHONY: setup demo test golden clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/pytest tests/board --board=stm32f4-qemu -q

# All tests (tests/board on the default stm32f4-qemu), then the same board
# suite on the other emulated devices: every device implementation of the
# protocol is held to the same tests.
test: setup
	$(PY) -m hil.protocol.gen_c --check
	$(PY) -m pytest -q
	$(PY) -m pytest -q tests/board --board=fpga-sim --hil-json=hil-results-fpga-sim.json
	$(PY) -m pytest -q tests/board --board=sim --vectors=50 --hil-json=hil-results-sim.json

golden: setup
	.venv/bin/hil golden build --model all

clean:
	rm -rf firmware_stm32/build build .pytest_cache
