"""A student exploring in JupyterLab: a notebook executed outside make (nbclient, as JupyterLab's Run All or
`jupyter nbconvert --execute` run it; no papermill parameters) with its parameters cell as committed or
edited never writes a tracked file. Its figures, tables and MANIFEST go to build/interactive/, it says so,
and it reads the committed runs (no model call)."""
from __future__ import annotations

import subprocess

import nbformat
import pytest
from nbclient import NotebookClient
from project_copy import project_copy

pytestmark = pytest.mark.slow


def execute(root, name: str, edit: tuple[str, str] | None = None) -> str:
    path = root / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if edit:
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert edit[0] in cell.source
        cell.source = cell.source.replace(*edit)
    NotebookClient(nb, kernel_name="harmstudy", timeout=600,
                   resources={"metadata": {"path": str(root / "notebooks")}}).execute()
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_notebooks_run_outside_make_write_no_tracked_file(tmp_path, monkeypatch):
    root, env = project_copy(tmp_path, git=True)
    for key in ["HARMSTUDY_ROOT", "HARMSTUDY_MODELS"]:
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("HARMSTUDY_FIGURES", raising=False)
    printed = execute(root, "04_agreement", edit=("n_boot = 1000", "n_boot = 20"))
    assert "04_agreement.ipynb: " in printed and "written to build/interactive/" in printed
    printed += execute(root, "03_learned_judges")
    printed += execute(root, "05_small_models")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                            text=True, check=True).stdout
    assert status == ""
    tables = root / "build" / "interactive" / "tables"
    assert {"judge_agreement.csv", "learned_judges.csv", "new_small_model_harm.csv"} <= {p.name for p in tables.iterdir()}
