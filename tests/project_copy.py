"""The project in another folder, for `make paper` runs that must not touch this checkout (the make-paper
test and benchmarks/bench_rebuild.py): notebooks, data (without the model files) and figures copied, the
build files copied, the package and the virtual environment linked."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def project_copy(parent: Path) -> tuple[Path, dict]:
    """``parent/project`` and the environment that points the package at it (models read from here)."""
    root = Path(parent) / "project"
    root.mkdir()
    for name in ["Makefile", "pyproject.toml", "requirements.lock", "requirements-models.txt", "README.md"]:
        shutil.copy2(REPO / name, root / name)
    for name in ["notebooks", "data", "figures"]:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("models", "verified.json"))
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / "harmstudy").symlink_to(REPO / "harmstudy")
    return root, {**os.environ, "HARMSTUDY_ROOT": str(root), "HARMSTUDY_MODELS": str(REPO / "data" / "models")}
