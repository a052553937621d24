"""Every path the study uses, in one place (notebooks never spell a path themselves)."""
from __future__ import annotations

import os
from pathlib import Path

#: Repository root. ``HARMSTUDY_ROOT`` lets tests run the chain in a temporary copy.
ROOT = Path(os.environ.get("HARMSTUDY_ROOT", Path(__file__).resolve().parent.parent))

DATA = ROOT / "data"
RELEASE = DATA / "llm-harm"                 # the authors' release, copied byte for byte
RELEASE_SUBMISSIONS = RELEASE / "raw_submissions"
RUNS = DATA / "runs"                        # elicitation and judging runs (responses, judgments)
EMBEDDINGS = DATA / "embeddings"            # one content-addressed store per embedding model, every run's
ANNOTATIONS = DATA / "annotations"          # student sheets exported / filled for new runs
#: Where figures, tables and their MANIFEST go. ``make`` points a run with non-default parameters at
#: ``build/variants/<name>/`` (``HARMSTUDY_FIGURES``, relative to ROOT), so it never rewrites the study's own.
FIGURES = ROOT / os.environ.get("HARMSTUDY_FIGURES", "figures")
TABLES = FIGURES / "tables"
BUILD = ROOT / "build"
NOTEBOOKS = ROOT / "notebooks"
MODELS = Path(os.environ.get("HARMSTUDY_MODELS", DATA / "models"))  # assembled GGUF files (git-ignored)


def run_dir(run: str) -> Path:
    """Folder of one run (``data/runs/<run>``), created on demand."""
    path = RUNS / run
    path.mkdir(parents=True, exist_ok=True)
    return path


def table_path(name: str) -> Path:
    TABLES.mkdir(parents=True, exist_ok=True)
    return TABLES / f"{name}.csv"


def figure_path(name: str) -> Path:
    FIGURES.mkdir(parents=True, exist_ok=True)
    return FIGURES / f"{name}.png"


EXTERNAL = BUILD / "external"               # a labelled set of a user's: build/external/<set's file stem>/


def redirect_outputs(folder: Path) -> Path:
    """Send this process's figures, tables and MANIFEST to ``folder`` (a user's labelled set writes to
    ``build/external/<stem>/``, never over the study's own)."""
    global FIGURES, TABLES
    FIGURES, TABLES = Path(folder), Path(folder) / "tables"
    return FIGURES
