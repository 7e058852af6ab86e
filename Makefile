# The two commands of the README: `make recette` and `make test`. Everything else is here for them.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
# PostgreSQL pass of the persistence tests (the CI machine has one on 127.0.0.1:5432, trust auth, database test).
PG_URL      ?= postgresql+psycopg2://postgres@127.0.0.1:5432/test
RECETTE_OUT ?= recette-out

.PHONY: recette test test-sqlite test-postgres bench lint venv system-deps clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian libraries that PyPI wheels do not carry: pango for WeasyPrint (PDF), libdmtx to decode the INS
# datamatrix in tests. Installed only when missing and only when we may (root with apt-get).
system-deps:
	@scripts/system-deps.sh

recette: $(STAMP) system-deps
	$(BIN)/dcc-recette recette --out $(RECETTE_OUT)

test: test-sqlite test-postgres

test-sqlite: $(STAMP) system-deps
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# The persistence tests again, on PostgreSQL. A missing server is a failure, never a skip.
test-postgres: $(STAMP)
	$(BIN)/python scripts/require_database.py "$(PG_URL)"
	DCC_DATABASE_URL="$(PG_URL)" scripts/pytest-persistence.sh $(BIN)/pytest

bench: $(STAMP) system-deps
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python scripts/check_imports.py

clean:
	rm -rf $(VENV) $(RECETTE_OUT) .pytest_cache .ruff_cache
