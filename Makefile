# cell — build, demo, tests, benchmark.
#
#   make            configure (once) and build into $(BUILD)
#   make demo       build, then run one demo container with $(RUNTIME)
#   make check      build, unit tests (meson/cmocka), integration tests (pytest)
#   make bench      build, then time `run` against crun and runc (bench/bench.sh)
#   make fmt        clang-format the C sources
#   make clean      remove $(BUILD)
#
# Packages come from scripts/deps.sh (sh scripts/demo.sh / sh scripts/check.sh
# run it first). Variables: BUILD (build directory), RUNTIME (the runtime the
# demo and the integration tests use), N (bench runs per runtime and mode).

BUILD ?= build
RUNTIME ?= $(BUILD)/cell-runtime
N ?= 100
# Debian's python, where python3-pytest is installed: PATH may put another
# python3 (pyenv, a venv) first.
PYTHON := /usr/bin/python3
ITESTS := tests/integration
# RUNTIME as an absolute path, for tests that run in other directories;
# a bare name (runc) is looked up in PATH.
RUNTIME_PATH = $(if $(findstring /,$(RUNTIME)),$(abspath $(RUNTIME)),$(shell command -v $(RUNTIME)))

.PHONY: all demo check unit integration bench fmt clean

all:
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		echo "meson setup $(BUILD) --buildtype=release"; \
		meson setup $(BUILD) --buildtype=release; \
	fi
	ninja -C $(BUILD)

demo: all
	RUNTIME='$(RUNTIME)' sh scripts/demo.sh --run

# Both stages run even when the first fails, so one run shows every failure;
# the target fails if either did.
check: all
	@unit=0; integ=0; \
	$(MAKE) --no-print-directory unit || unit=$$?; \
	$(MAKE) --no-print-directory integration || integ=$$?; \
	echo "check: unit tests: $$([ $$unit = 0 ] && echo passed || echo FAILED)," \
		"integration tests: $$([ $$integ = 0 ] && echo passed || echo FAILED)"; \
	[ $$unit = 0 ] && [ $$integ = 0 ]

unit:
	meson test -C $(BUILD) --print-errorlogs

# pytest exits 5 when it collects no tests. Before anyone has written an
# integration test that is expected and reported as such; once test files
# exist, collecting nothing from them is a failure like any other.
integration:
	@if [ -z "$$(find $(ITESTS) -name 'test_*.py' -o -name '*_test.py' 2>/dev/null)" ]; then \
		echo "integration: NOTE: no test files in $(ITESTS) yet, nothing run"; \
		exit 0; \
	fi; \
	echo "CELL_RUNTIME=$(RUNTIME_PATH) $(PYTHON) -m pytest -q $(ITESTS)"; \
	rc=0; CELL_RUNTIME='$(RUNTIME_PATH)' $(PYTHON) -m pytest -q $(ITESTS) || rc=$$?; \
	if [ $$rc = 5 ]; then echo "integration: FAILED: pytest collected no tests from $(ITESTS)"; fi; \
	exit $$rc

bench: all
	CELL_RUNTIME='$(RUNTIME)' sh bench/bench.sh -n $(N)

fmt:
	@command -v clang-format >/dev/null || \
		{ echo "fmt: clang-format not found (apt-get install clang-format)"; exit 1; }
	find src tests/unit -name '*.[ch]' -exec clang-format -i {} +

clean:
	rm -rf $(BUILD)
