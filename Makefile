# Both entry points install what they need (scripts/setup.sh is idempotent).
PY := .venv/bin/python

.PHONY: setup demo test golden clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/pytest tests/board --board=stm32f4-qemu -q

test: setup
	$(PY) -m hil.protocol.gen_c --check
	$(PY) -m pytest -q

golden: setup
	.venv/bin/hil golden build --model all

clean:
	rm -rf firmware_stm32/build build .pytest_cache
