# `make test` and `make run` create the virtual environment on first use.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Here (no route to the download hosts) the verified local copies beside the checkout are
# used when present; set these variables yourself to point elsewhere. Elsewhere, the
# loaders download and cache the datasets.
SHARED_DATA := $(abspath ../shared/datasets)
ifneq ($(wildcard $(SHARED_DATA)/fashion-mnist),)
export FASHION_MNIST_DIR ?= $(SHARED_DATA)/fashion-mnist
endif
ifneq ($(wildcard $(SHARED_DATA)/mnist),)
export MNIST_DIR ?= $(SHARED_DATA)/mnist
endif

ARGS ?=
CNN_ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[test,examples,fast]"
	touch $(STAMP)

run: $(STAMP)
	WANDB_SILENT=true $(PYTHON) examples/fashion_mnist.py $(ARGS)

# Two test processes; tests/conftest.py gives each (and the scripts they start) one BLAS
# thread.
test: $(STAMP)
	$(PYTHON) -m pytest -n 2 $(PYTEST_ARGS)

# PyTorch, JAX and numba (the fused optimizer update) are optional: without them the
# benchmark leaves their columns out (and tinygrad_fm's Adam takes the NumPy update).
bench: $(STAMP)
	$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install --quiet -e ".[bench]" \
		|| echo "PyTorch could not be installed: benchmarking without it"
	$(PYTHON) -c "import jax, optax" 2>/dev/null || $(PYTHON) -m pip install --quiet -e ".[jax]" \
		|| echo "JAX could not be installed: benchmarking without it"
	$(PYTHON) -c "import numba" 2>/dev/null || $(PYTHON) -m pip install --quiet -e ".[fast]" \
		|| echo "numba could not be installed: benchmarking the NumPy optimizer update"
	$(PYTHON) benchmarks/bench_mlp.py $(ARGS)
	$(PYTHON) benchmarks/bench_cnn.py $(CNN_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis runs
