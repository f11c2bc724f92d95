# Two commands for a fresh machine: `make run` launches the app, `make test` runs the tests.
# Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARCH := $(shell uname -m)

# torch/torchvision are pinned here (not in pyproject) to the builds that are on this
# machine's disk, so a fresh venv never downloads gigabytes of CUDA wheels.
ifeq ($(ARCH),x86_64)
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
else
TORCH_PINS := torch==2.9.1 torchvision==0.24.1
endif

.PHONY: run test bench install-desktop screenshots clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(PY) main.py

test: $(VENV)/.installed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) bench/classify.py
	$(PY) bench/train.py

screenshots: $(VENV)/.installed
	for page in classify models train attention; do \
		QT_QPA_PLATFORM=offscreen $(PY) main.py --screenshot docs/$$page.png --page $$page; \
	done

# Install the desktop entry and icon for the current user (double-click launch).
install-desktop: $(VENV)/.installed
	$(PY) -m app.platform.desktop_entry install

clean:
	rm -rf $(VENV) .pytest_cache
