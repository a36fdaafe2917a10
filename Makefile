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
	$(MAKE) --no-print-directory pytest pytest-pure conformance mpy-test
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

bench: install-test
	$(PY) -m bench

clean:
	rm -rf build dist *.egg-info dusk_edge/*.so .mpy-build
