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

# `make test` runs test files side by side, one per core (pytest-xdist). Each worker's models and BLAS get
# cores / workers threads: llama.cpp's threads spin-wait for each other, and beside a busy core they stall
# (harmstudy/cores.py), so two models on two threads each would take far longer than two on one each.
# Set before numpy loads here, and inherited by every kernel, make and server a test starts.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
MODEL_THREADS = max(1, (os.cpu_count() or 1) // _WORKERS)
if _WORKERS > 1:
    for _name in ["HARMSTUDY_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ.setdefault(_name, str(MODEL_THREADS))


#: The longest test files, longest first (``pytest --durations`` on 2 cores): `make test` hands them out first
#: (``--no-loadscope-reorder`` keeps this order), so the workers end together rather than one waiting out a
#: long file alone at the end. A file not listed runs after these, in collection order.
LONGEST_FIRST = ["test_student_path.py", "test_chain.py", "test_make_paper.py", "test_benchmarks.py",
                 "test_student_path_resume.py", "test_sets_external.py", "test_pointwise.py", "test_interactive.py",
                 "test_makefile.py", "test_notebooks_paper.py", "test_learn_judges.py",
                 "test_sets_transfer.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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
