"""The project's own conventions: dependency lists agree, CI runs the README's test command, notebooks
are stored without outputs and have a literal parameters cell."""
import ast
import re
import tomllib
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent


def names(reqs):
    return {re.split(r"[\[<>=~ ]", r.strip(), maxsplit=1)[0].lower() for r in reqs if r.strip()}


def test_pyproject_and_environment_yml_list_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_deps = names(project["dependencies"]) | names(project["optional-dependencies"]["dev"])
    env = (REPO / "environment.yml").read_text()
    block = env.split("- pip:", 1)[1]
    conda_deps = names(l.strip()[2:] for l in block.splitlines() if l.strip().startswith("- ") and "-e ." not in l)
    assert pip_deps == conda_deps


def test_lock_pins_every_dependency_exactly():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = (REPO / "requirements.lock").read_text().splitlines()
    pinned = {l.split("==")[0].lower().replace("_", "-") for l in lock if "==" in l}
    wanted = {n.replace("_", "-") for n in names(project["dependencies"])}
    assert wanted <= pinned, wanted - pinned
    assert all("==" in l for l in lock if l.strip() and not l.startswith("#"))


def test_ci_runs_exactly_the_readme_test_command_and_fails_on_no_tests():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.M)
    assert "make test" in commands
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)


def test_make_test_fails_loudly_when_no_test_is_collected(tmp_path):
    import subprocess

    (tmp_path / "test_nothing_here.py").write_text("x = 1\n")
    result = subprocess.run(["make", "-s", "test", f"TESTS={tmp_path}"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "collected no tests (exit 5)" in result.stderr


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_stored_clean_with_literal_parameters(nb):
    book = nbformat.read(nb, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in book.cells if c.cell_type == "code")
    params = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for node in ast.parse(params[0].source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)          # literals only


@pytest.mark.parametrize("judge, n_items, n_prompts", [("llamacpp/qwen2.5-coder-1.5b-instruct", 180, 120),
                                                       ("openai/gpt-4o", 50, 30),
                                                       ("hosted_vllm/Meta-Llama/Llama-3.1-8B", 0, 120)])
def test_makefile_run_names_match_python(judge, n_items, n_prompts):
    import subprocess

    from harmstudy.judge import JudgeSettings
    from harmstudy.judge_runs import default_run_name

    out = subprocess.run(["make", "-s", "print-runs", f"JUDGE={judge}", f"N_ITEMS={n_items}", f"N_PROMPTS={n_prompts}"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    runs = dict(line.split(": data/runs/") for line in out.strip().splitlines())
    settings = JudgeSettings(judge=judge)
    elicit_run = "elicit-default" if n_prompts == 120 else f"elicit-n{n_prompts}"
    assert runs["elicitation"] == elicit_run
    if n_items:
        assert runs["judge (paper)"] == default_run_name(settings, "paper", n_items)
    assert runs["judge (elicitation)"] == default_run_name(settings, f"elicit:{elicit_run}", None)
