# dusk-edge: `make run` starts the main job, `make test` runs everything CI runs.
# Both install what is missing first (system packages via apt-get when root, Python deps in .venv).
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test bench install install-test pytest pytest-pure conformance mpy-test firmware test-arm wheels clean selfcheck

install:
	@bash scripts/bootstrap.sh run

install-test:
	@bash scripts/bootstrap.sh test

run: install
	$(PY) -m dusk_edge run-main

selfcheck: install
	$(PY) -m dusk_edge selfcheck

test: install-test
	$(MAKE) --no-print-directory mpy-test pytest pytest-pure conformance
	@echo "make test: all stages passed"

pytest:
	$(PY) -m pytest -q

pytest-pure:
	DUSK_EDGE_PUREPYTHON=1 $(PY) -m pytest -q -m twin

conformance:
	$(PY) -m dusk_edge conformance tests/vectors
	DUSK_EDGE_PUREPYTHON=1 $(PY) -m dusk_edge conformance tests/vectors

mpy-test:
	$(PY) scripts/mpy_gate.py

# aarch64 under qemu-user: cross-built speedups, Debian arm64 CPython, aarch64 wheels (issue 10).
test-arm:
	ARM_HOST_PY=$(PY) ARM_STRICT=0 bash scripts/arm/test_arm.sh

# cibuildwheel where a container engine runs; otherwise the gcc-cross aarch64 wheel under qemu.
wheels: install-test
	ARM_HOST_PY=$(PY) ARM_STRICT=0 bash scripts/arm/wheels.sh

FIRMWARE_OUT ?= build/firmware
firmware:
	$(PY) firmware/build.py $(FIRMWARE_OUT)

bench: install-test
	$(PY) -m bench

clean:
	rm -rf build dist *.egg-info dusk_edge/*.so .mpy-build

# Shielded transfers (issue 11): circom2 + snarkjs into .cache/zk, compile, local ceremony (cached).
.PHONY: zk-build
zk-build: install-test
	$(PY) scripts/zk_build.py
