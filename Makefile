# `make test` and `make demo` work from a fresh clone: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,test]"
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check xbatcher_tab tests examples benchmarks

test: lint
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/xbatcher-tab demo --out demo_output

bench: $(STAMP)
	$(PY) benchmarks/bench_generator.py --markdown
	$(PY) benchmarks/bench_tabularizer.py --markdown
	$(PY) benchmarks/bench_streaming.py --markdown
	$(PY) benchmarks/bench_dask.py --markdown

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
