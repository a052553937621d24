"""The study's plan (harmstudy/plan.py): make's names come from it, and every notebook as committed runs what
`make paper` runs — so a notebook executed in JupyterLab with its parameters untouched reads the committed runs."""
from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import nbformat
import pytest

from harmstudy import plan

REPO = Path(__file__).resolve().parent.parent


def cell_parameters(name: str) -> dict:
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body
            if isinstance(node, ast.Assign) for t in node.targets}


def test_each_notebook_as_committed_runs_what_make_paper_runs():
    from harmstudy.judge import pointwise
    from harmstudy.judge.calls import JudgeSettings

    planned = plan.plan()["notebooks"]
    cells = {g: cell_parameters(nb) for g, nb in {"01": "01_elicit", "02P": "02_pointwise_judge",
                                                    "03": "03_learned_judges", "03C": "03_learning_curve",
                                                    "04": "04_agreement", "05": "05_small_models",
                                                    "06": "06_external_sets", "08": "08_transfer_matrix"}.items()}
    # a run named "" is named from the settings, as make names it
    cells["01"]["run"] = cells["01"]["run"] or plan.elicit_run(cells["01"]["n_prompts"], cells["01"]["models"])
    cells["03"]["run"] = cells["03"]["run"] or plan.learned_run(cells["03"]["elicit_run"])
    cells["02P"]["run"] = cells["02P"]["run"] or pointwise.default_run_name(
        JudgeSettings(judge=cells["02P"]["judge"]), "paper", cells["02P"]["n_items"])
    for group, cell in cells.items():
        for name, value in planned[group].items():
            assert cell[name] == value, (group, name, cell[name], value)


def test_the_default_names_are_the_committed_runs():
    runs = plan.plan()["runs"]
    for name in ["ELICIT_RUN", "JUDGE_PAPER_RUN", "JUDGE_ELICIT_RUN", "JUDGE_ORDERS_RUN", "POINTWISE_RUN",
                 "FEWSHOT_RUN", "LEARNED_RUN", "LIKERT_RUN"]:
        assert (REPO / "data" / "runs" / runs[name] / "manifest.json").exists(), name
    assert plan.plan()["variant"] == "" and plan.plan()["out"] == "figures"


def test_other_models_get_their_own_runs_downstream():
    other = plan.plan({"ELICIT_MODELS": "smollm2-135m-instruct gemma3-270m qwen2.5-coder-1.5b-instruct"})
    assert other["runs"]["ELICIT_RUN"] == "elicit-n120-smollm2-135m-instruct-gemma3-270m-qwen2.5-coder-1.5b-instruct"
    assert other["runs"]["LEARNED_RUN"] == "learned-judges-" + other["runs"]["ELICIT_RUN"]
    assert other["runs"]["JUDGE_ELICIT_RUN"] == \
        f"judge-qwen2.5-coder-1.5b-instruct-o3-{other['runs']['ELICIT_RUN']}-nall"
    assert other["notebooks"]["01"]["models"][-1] == "qwen2.5-coder-1.5b-instruct"
    assert other["notebooks"]["05"]["elicit_run"] == other["runs"]["ELICIT_RUN"]
    assert other["variant"] == "elicit-models-smollm2-135m-instruct-gemma3-270m-qwen2.5-coder-1.5b-instruct"
    assert other["out"] == f"build/variants/{other['variant']}"


def test_a_sampling_judge_gets_its_own_runs_named_as_an_interactive_02_names_them():
    from harmstudy.judge import runs as judge_runs
    from harmstudy.judge.calls import JudgeSettings

    assert plan.plan({"TEMPERATURE": "0.0"})["variant"] == ""                  # 0, 0.0: the greedy default
    sampling = plan.plan({"TEMPERATURE": "0.70"})
    assert sampling["variant"] == "temperature-0.7"
    settings = JudgeSettings(judge=plan.DEFAULTS["JUDGE"], temperature=0.7)
    assert sampling["runs"]["JUDGE_PAPER_RUN"] == judge_runs.default_run_name(settings, "paper", 180) == \
        "judge-qwen2.5-coder-1.5b-instruct-t0.7-paper-n180"
    assert sampling["runs"]["JUDGE_ELICIT_RUN"] == judge_runs.default_run_name(
        JudgeSettings(judge=plan.DEFAULTS["JUDGE"], temperature=0.7, orders=3), "elicit:elicit-default", None)
    assert sampling["notebooks"]["02"]["temperature"] == 0.7 and "temperature" not in plan.plan()["notebooks"]["02"]
    for bad, why in [("-1", "negative"), ("warm", "not a number")]:
        with pytest.raises(ValueError, match=why):
            plan.plan({"TEMPERATURE": bad})


def test_a_server_goes_to_the_litellm_judge_only():
    # API_BASE with an API judge: the embedded pointwise judge keeps its committed runs (whose guard would
    # refuse a server they were not made with)
    nbs = plan.plan({"JUDGE": "openai/mine", "API_BASE": "http://127.0.0.1:8000/v1"})["notebooks"]
    assert nbs["02"]["api_base"] == nbs["02E"]["api_base"] == "http://127.0.0.1:8000/v1"
    assert "api_base" not in nbs["02P"] and "api_base" not in nbs["02F"]
    nbs = plan.plan({"POINTWISE_JUDGE": "openai/mine", "API_BASE": "http://127.0.0.1:8000/v1"})["notebooks"]
    assert "api_base" not in nbs["02"] and nbs["02P"]["api_base"] == nbs["02F"]["api_base"]


def test_make_asks_the_plan_and_refuses_an_unknown_parameter_with_its_list():
    out = subprocess.run(["make", "-s", "print-runs", "ELICIT_MODELS=smollm2-135m-instruct gemma3-270m x"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    assert "elicitation: data/runs/elicit-n120-smollm2-135m-instruct-gemma3-270m-x" in out
    with pytest.raises(ValueError, match="make's parameters are"):
        plan.plan({"N_PROMT": "4"})
    assert "ELICIT_MODELS" in subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True).stdout


def test_a_notebook_depends_on_every_module_its_imports_reach_as_import_linters_graph_has_them():
    """The plan reads imports with a pattern (fast enough for every make invocation); grimp, import-linter's
    parser, builds the same graph from the syntax tree. Each module's closure (with the packages that
    importing it runs) must be the same file list."""
    import grimp

    graph = grimp.build_graph("harmstudy")

    def closure(module: str) -> set[str]:
        seen, todo = set(), {module}
        while todo:
            name = todo.pop()
            parts = name.split(".")
            for k in range(1, len(parts) + 1):            # importing a.b.c runs a and a.b first
                parent = ".".join(parts[:k])
                if parent not in seen:
                    seen.add(parent)
                    todo |= graph.find_modules_directly_imported_by(parent) - seen
        return seen

    def file_of(module: str) -> str:
        path = REPO.joinpath(*module.split("."))
        return str((path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py").relative_to(REPO))

    for module in sorted(graph.modules):
        assert plan.package_files([f"import {module}"]) == sorted(map(file_of, closure(module))), module


def test_the_import_pattern_reads_lazy_multiline_and_aliased_imports():
    source = ('def f():\n    from harmstudy.sets import (transfer,  # the matrix\n        external as ext)\n'
              "import harmstudy.cores as cores\nfrom harmstudy.paths import ROOT\n# from harmstudy import nothing\n")
    assert plan._imported(source) == {"harmstudy", "harmstudy.sets", "harmstudy.sets.transfer",
                                      "harmstudy.sets.external", "harmstudy.cores", "harmstudy.paths"}


def test_a_run_made_where_git_cannot_say_is_not_recorded_clean(monkeypatch):
    """git_state: HEAD known but the status failed (say, timed out) -> dirty unknown (None), never False."""
    from harmstudy import provenance

    answers = {"rev-parse": "a" * 40, "status": None}
    monkeypatch.setattr(provenance, "_git", lambda *args: answers[args[0]])
    assert provenance.git_state()["dirty"] is None
    answers["status"] = ""
    assert provenance.git_state()["dirty"] is False
    answers["status"] = " M harmstudy/runs.py"
    assert provenance.git_state()["dirty"] is True
