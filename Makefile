# The two commands of the README: `make run` and `make test`. Both bootstrap the
# virtual environment, install the pinned dependencies, and (re)build the guest
# programs and disk images when their sources changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARCH   ?= aarch64
APPEND ?=
RUNFLAGS ?=

PROGRAM ?=
GDBPORT ?= 1234

.PHONY: run test bench image guests lint format clean distclean debug

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

guests: $(STAMP)
	$(BIN)/python -m userspace.build --arch all

image: $(STAMP)
	$(BIN)/python -m images.build --arch all

run: image
	$(BIN)/run-virt --arch $(ARCH) --append "$(APPEND)" $(RUNFLAGS)

# `make debug PROGRAM=fork_test ARCH=x86_64`: boot PROGRAM as init held by -S, and
# attach gdb-multiarch with its symbols (build/<arch>/bin keeps the DWARF).
debug: image
	@test -n "$(PROGRAM)" || { echo "usage: make debug PROGRAM=<name> [ARCH=x86_64|aarch64]"; exit 2; }
	@test -f build/$(ARCH)/bin/$(PROGRAM) || { echo "no program build/$(ARCH)/bin/$(PROGRAM)"; exit 2; }
	$(BIN)/run-virt --arch $(ARCH) --append "init=/bin/$(PROGRAM)" -S --gdb tcp::$(GDBPORT) $(RUNFLAGS) & \
	vm=$$!; sleep 1; \
	gdb-multiarch -q -ex "set sysroot build/$(ARCH)" -ex "target remote localhost:$(GDBPORT)" \
		-ex "break main" -ex "continue" build/$(ARCH)/bin/$(PROGRAM); \
	kill $$vm 2>/dev/null; wait $$vm 2>/dev/null; true

test: image
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: image
	$(BIN)/python -m bench

# mypy reads its settings (the checked folders included) from pyproject.toml's
# [tool.mypy] and keeps its incremental cache in .mypy_cache.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf build .mypy_cache

distclean: clean
	rm -rf $(VENV) *.egg-info
