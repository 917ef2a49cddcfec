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

.PHONY: run test bench image guests lint format clean distclean

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

test: image
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: image
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV) *.egg-info
