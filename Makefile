# `make test` and `make demo` work from a fresh clone: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast demo bench lint docs venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,test,docs]"
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check xbatcher_tab tests examples benchmarks
	$(VENV)/bin/ruff format --check xbatcher_tab tests examples benchmarks

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W -q -b html docs docs/_build/html

# the tabular suite once more under the numpy engine (the whole suite runs the default,
# numba, which [all] installs)
NUMPY_ENGINE_TESTS := tests/test_tabularizer.py tests/test_batching.py tests/test_threads.py \
	tests/test_preprocessing.py tests/test_outliers.py tests/test_boundary.py

test: lint docs
	$(PY) -m pytest -q
	XBATCHER_TAB_ENGINE=numpy $(PY) -m pytest -q $(NUMPY_ENGINE_TESTS)

# the edit loop: the tests not marked slow (a few seconds or more each); `make test` runs all
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

demo: $(STAMP)
	$(VENV)/bin/xbatcher-tab demo --out demo_output

bench: $(STAMP)
	$(PY) benchmarks/bench_generator.py --markdown
	$(PY) benchmarks/bench_tabularizer.py --markdown
	$(PY) benchmarks/bench_streaming.py --markdown
	$(PY) benchmarks/bench_dask.py --markdown
	$(PY) benchmarks/bench_predict.py --markdown
	$(PY) benchmarks/bench_preprocessing.py --markdown
	$(PY) benchmarks/bench_threads.py --markdown
	$(PY) benchmarks/bench_torch.py --markdown
	$(PY) benchmarks/bench_engines.py --markdown
	$(PY) benchmarks/bench_scale.py --markdown

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis docs/_build demo_output
