"""Provenance of a run or an artifact: package versions, git commit and dirty flag, machine facts.

Paths are written relative to the repository (never a home directory); no environment variable is read
into a manifest, so no key can leak into one.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from harmstudy import files, paths

PACKAGES = ("harmstudy", "llama_cpp_python", "litellm", "pandas", "numpy", "scipy", "pingouin", "krippendorff",
            "scikit-learn", "statsmodels", "seaborn", "matplotlib", "datasets", "papermill")


@lru_cache(maxsize=None)
def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Versions of the packages that shape results (looked up once per process: they cannot change)."""
    return {name: _version(name) for name in names}


def _git(*args: str) -> str | None:
    """Output of a git command in the repository, or None where git or the repository is missing."""
    try:
        # generous: a status of notebooks git holds as racily clean (a fresh clone's) runs the nbstripout filter on
        # each; killed part-way it would never write the refreshed index back, and every later call would pay again
        out = subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


#: What makes a run's results: a run made while one of these is edited is ``dirty``. Outputs (figures,
#: tables, other runs) are left out: `make paper` rewrites them on its way, before a later run starts.
CODE_PATHS = ("harmstudy", "notebooks", "Makefile", "pyproject.toml", "requirements.lock", "requirements-models.txt")


def git_state() -> dict:
    """HEAD, and whether the code (``CODE_PATHS``) differs from it."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
    # unknown (None), not clean, where git could not say
    return {"commit": commit, "dirty": None if commit is None or status is None else bool(status),
            "dirty_means": "code edited"}


def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def portable_path(path: Path | str) -> str:
    """A path relative to the repository, or relative to site-packages, or just its name."""
    p = Path(path).resolve()
    if "site-packages" in p.parts:
        return "site-packages/" + p.as_posix().split("site-packages/", 1)[1]
    if p.is_relative_to(paths.ROOT.resolve()):
        return p.relative_to(paths.ROOT.resolve()).as_posix()
    return p.name


# --------------------------------------------------------------------------------- artifact manifest
#: Paths written by report.tables.write_table and plots.save in this process (the notebook's outputs).
WRITTEN: list[Path] = []
ARTIFACT_MANIFEST = "MANIFEST.json"


def note_written(path: Path) -> None:
    WRITTEN.append(Path(path))


def code_commit(paths_: list[str]) -> dict:
    """The last commit that touched the code making an artifact, and whether that code is edited now.

    (Not HEAD: committing the regenerated figures must not make their manifest stale.)
    """
    commit = _git("log", "-1", "--format=%H", "--", *paths_)
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *paths_)
    return {"commit": commit or None, "dirty": None if commit is None else bool(dirty)}


def code_paths(notebook: str) -> list[str]:
    """The code an artifact of ``notebook`` comes from: the notebook and the package modules it imports,
    directly or through each other — the files make's rule for it depends on (``harmstudy/plan.py``'s
    ``DEPS_<notebook>``). Not all of ``harmstudy/``: a commit to a module the notebook never reads would
    change its artifacts' ``code`` commit, and a fresh clone's ``make paper`` would rewrite the manifest."""
    from harmstudy import plan

    return [f"notebooks/{notebook}", *plan.notebook_package_files(paths.NOTEBOOKS / notebook)]


def parameter_names(notebook: str) -> list[str]:
    """The names its ``parameters`` cell assigns, in order (read from ``notebooks/<notebook>``)."""
    import ast

    # Read with ast, not papermill.inspect_notebook (which gives the same names on every notebook here): this
    # runs in every notebook's kernel as it records its artifacts, where importing papermill (nbformat,
    # jsonschema, Jupyter's machinery) would cost each notebook far more than reading the JSON; a parameters
    # cell holds literal assignments only (the project's rule), so ast reads all there is.
    cells = json.loads((paths.NOTEBOOKS / notebook).read_text())["cells"]
    cell = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return [t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)]


def record_artifacts(notebook: str, namespace: dict, inputs: list) -> dict:
    """Add one entry per artifact this notebook wrote to ``figures/MANIFEST.json``.

    Each entry: the notebook, the parameters it ran with (every name of its ``parameters`` cell, read from
    ``namespace`` — the notebook's ``globals()``, so papermill's injected values where there are any, never a
    retyped copy), input files with sha256, package versions and the commit of the code that made it.
    """
    parameters = {name: json.loads(json.dumps(namespace[name], default=str)) for name in parameter_names(notebook)}
    manifest_path = paths.FIGURES / ARTIFACT_MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    # an artifact no rule makes any more (its file deleted) leaves the manifest too
    manifest = {name: entry for name, entry in manifest.items() if (paths.ROOT / name).exists()}
    input_hashes = {portable_path(p): files.sha256_file(Path(p)) for p in sorted(map(str, inputs)) if Path(p).is_file()}
    entry = {"notebook": f"notebooks/{notebook}", "parameters": parameters, "inputs": input_hashes,
             "packages": package_versions(), "code": code_commit(code_paths(notebook))}
    written = sorted(set(WRITTEN))
    for path in written:
        manifest[portable_path(path)] = entry
    files.write_json(manifest_path, dict(sorted(manifest.items())))
    WRITTEN.clear()
    if not paths.writes_the_study():
        print(f"{notebook}: {len(written)} figures and tables and {ARTIFACT_MANIFEST} written to "
              f"{portable_path(paths.FIGURES)}/ — the study's own figures/ are written only by `make paper`")
    return entry
