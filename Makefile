# The two set-up commands of the README: `make book` and `make test`.
# Both create an isolated environment in .venv and install the package with the exact, tested
# versions of constraints.txt (pyproject.toml itself only gives compatible ranges).
PYTHON ?= python3
VENV   := .venv
PRESET ?= quick
# Where to take torch from. Empty: the default index (on these machines, its CPU wheel on disk).
# Elsewhere set TORCH_INDEX to a CPU-only wheel index to avoid the multi-GB CUDA build.
TORCH_INDEX ?=

.PHONY: book test notebooks clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# torch first, as constraints.txt pins it: its CPU wheel; another version pulls a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet -c constraints.txt torch $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VENV)/bin/pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $@

book: $(VENV)/.installed
	$(VENV)/bin/python book/build.py --preset $(PRESET)

# The browser test needs Debian's headless Chromium; install it when running as root.
test: $(VENV)/.installed
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || echo "chromium not installed: the browser test will be skipped"
	$(VENV)/bin/python -m pytest -ra

notebooks: $(VENV)/.installed
	$(VENV)/bin/python book/sync_notebooks.py

clean:
	rm -rf _build results
