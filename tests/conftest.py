"""Shared fixtures. Tests run offline against real components (llama.cpp, LiteLLM, papermill)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture()
def study_root(tmp_path, monkeypatch):
    """A throw-away copy of the study (release data + notebooks) that paths.ROOT points at.

    Papermill kernels inherit HARMSTUDY_ROOT, so notebooks run in the copy write nothing into the repo.
    """
    root = tmp_path / "study"
    (root / "data").mkdir(parents=True)
    shutil.copytree(REPO / "data" / "llm-harm", root / "data" / "llm-harm")
    shutil.copytree(REPO / "data" / "pyrit-scorer-evals", root / "data" / "pyrit-scorer-evals")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    monkeypatch.setenv("HARMSTUDY_ROOT", str(root))
    monkeypatch.setenv("HARMSTUDY_MODELS", str(REPO / "data" / "models"))
    # as make's study run writes them (outside make a notebook writes to build/interactive/)
    monkeypatch.setenv("HARMSTUDY_FIGURES", "figures")
    import importlib

    from harmstudy import paths

    importlib.reload(paths)
    yield root
    monkeypatch.delenv("HARMSTUDY_ROOT")
    monkeypatch.delenv("HARMSTUDY_FIGURES")
    importlib.reload(paths)


def run_notebook(root: Path, name: str, **params) -> Path:
    """Execute ``notebooks/<name>.ipynb`` of ``root`` with papermill into ``root/build``."""
    import papermill

    out = root / "build" / "notebooks" / f"{name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(root / "notebooks" / f"{name}.ipynb"), str(out), parameters=params,
                               kernel_name="harmstudy", cwd=str(root / "notebooks"), progress_bar=False)
    return out
