# tlslab: two commands for a fresh machine with python3 and make.
#   make lab   - set up .venv and open JupyterLab on notebooks/
#   make test  - set up .venv and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: lab test setup-lab setup-test lint typecheck pytest slow bench clean strip-notebooks headers book assignments

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.lab-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup-lab: $(VENV)/.lab-installed
setup-test: $(VENV)/.test-installed

# LAB_ARGS passes options through, e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup-lab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

lint: setup-test
	$(BIN)/ruff check tlslab tests benchmarks tools
	$(BIN)/ruff format --check tlslab tests benchmarks tools

typecheck: setup-test
	$(BIN)/mypy

pytest: setup-test
	MPLBACKEND=Agg $(BIN)/pytest --durations=25

test: lint typecheck pytest

slow: setup-test
	$(BIN)/pytest -m slow

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.test-installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) benchmarks/run.py

# The course as a static website (Jupyter Book 1: Sphinx, no Node): book/_build/html/
$(VENV)/.book-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[book]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

book: $(VENV)/.book-installed
	MPLBACKEND=module://matplotlib_inline.backend_inline $(PY) tools/build_book.py

# Student notebooks from the instructor ones (solutions stripped): assignments/
assignments: setup-test
	$(PY) tools/make_assignments.py

strip-notebooks: setup-test
	$(PY) tools/strip_notebooks.py notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info book/_build
