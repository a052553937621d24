"""The project in another folder, for `make paper` runs that must not touch this checkout (the make-paper
test and benchmarks/bench_rebuild.py): notebooks, data (without the model files) and figures copied, the
build files copied, the package and the virtual environment linked; and what the student-path tests ask of
such a copy (what git says changed, the runs make would name)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def project_copy(parent: Path, git: bool = False) -> tuple[Path, dict]:
    """``parent/project`` and the environment that points the package at it (models read from here).
    ``git``: the copy is a git checkout with everything committed, so ``git status`` tells what a run changed."""
    root = Path(parent) / "project"
    root.mkdir()
    for name in ["Makefile", "pyproject.toml", "requirements.lock", "requirements-models.txt", "README.md", ".gitignore",
                 "LICENSE", "CITATION.cff"]:
        shutil.copy2(REPO / name, root / name)
    for name in ["notebooks", "data", "figures", "templates", "docs"]:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("models", "verified.json"))
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / "harmstudy").symlink_to(REPO / "harmstudy")
    if git:
        run = dict(cwd=root, check=True, capture_output=True)
        subprocess.run(["git", "init", "-q"], **run)
        (root / ".git" / "info" / "exclude").write_text(".venv\n")
        subprocess.run(["git", "add", "-A"], **run)
        subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "copy"], **run)
    return root, {**os.environ, "HARMSTUDY_ROOT": str(root), "HARMSTUDY_MODELS": str(REPO / "data" / "models")}


def tracked_changes(root: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                          text=True, check=True).stdout


def printed_runs(root: Path, env: dict, *params: str) -> dict:
    out = subprocess.run(["make", "-s", "-C", str(root), "print-runs", *params], env=env, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split(": ", 1) for line in out.strip().splitlines())
