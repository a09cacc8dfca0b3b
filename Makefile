# The README's two commands: `make sample` and `make test`. Both do all their own set-up.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: sample test rig bench clean

$(BIN)/analyze-sos: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,fleet,fast]'
	@touch $@

# Analyze the bundled sample reports and write report.html.
sample: $(BIN)/analyze-sos
	$(BIN)/analyze-sos samples/ -o report.html
	@echo "wrote report.html"

# System components for the real-component tests (libvirtd, qemu, sos 4.0 and 4.9.1, chromium).
# Needs root; without root it says what it skipped and the tests that need it skip.
rig:
	bash tests/rig/setup.sh

test: $(BIN)/analyze-sos rig
	$(BIN)/python -m pytest

bench: $(BIN)/analyze-sos
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info report.html
