# Every target that runs code creates the virtual environment first when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := contracts/node_modules/.installed
ANVIL_STAMP := chain/node_modules/.installed

.PHONY: demo test lint bench contracts chain clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# solc-js for the offline contract build; without npm the rebuild test is skipped with a reason.
$(NODE_STAMP): contracts/package.json contracts/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix contracts --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: contracts are not rebuilt, the committed artifacts are used"; fi

contracts: $(NODE_STAMP)
	node contracts/build.mjs

# anvil for the local persistent chain (`carbonledger chain up`) and the tests that start it;
# without npm those tests are skipped with a reason. The demo needs no anvil: it serves the
# embedded py-evm chain (`carbonledger chain up --embedded`).
$(ANVIL_STAMP): chain/package.json chain/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix chain --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: anvil is not installed, the tests that need it are skipped"; fi

chain: $(ANVIL_STAMP)

demo: $(STAMP)
	$(PY) -m examples

# One worker per core (pytest-xdist), each test file on one worker; each worker has its own
# PostgreSQL database (tests/conftest.py), and every test its own temporary directory and ports.
test: $(STAMP) $(NODE_STAMP) $(ANVIL_STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP) $(ANVIL_STAMP)
	for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) contracts/node_modules chain/node_modules .carbonledger .pytest_cache .mypy_cache .ruff_cache
