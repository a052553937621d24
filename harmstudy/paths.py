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
BUILD = ROOT / "build"
#: The study's own figures, tables and MANIFEST: written only by ``make paper`` with the default parameters.
STUDY_FIGURES = ROOT / "figures"
#: Where a notebook run outside make (JupyterLab's Run All, nbconvert, papermill by hand) writes its figures,
#: tables and MANIFEST, whatever its parameters: exploring never rewrites a tracked file.
INTERACTIVE = BUILD / "interactive"
#: Where figures, tables and their MANIFEST go. ``make`` says (``HARMSTUDY_FIGURES``, relative to ROOT):
#: ``figures`` for the study, ``build/variants/<name>`` for other parameters. Unset (outside make): INTERACTIVE.
FIGURES = ROOT / os.environ["HARMSTUDY_FIGURES"] if os.environ.get("HARMSTUDY_FIGURES") else INTERACTIVE
TABLES = FIGURES / "tables"
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


def input_table_path(name: str) -> Path:
    """An upstream notebook's table to read: this run's own (``TABLES``) where it wrote one, else the study's
    (``figures/tables``), so a notebook explored outside make reads what the study computed before it."""
    own = TABLES / f"{name}.csv"
    return own if own.exists() else STUDY_FIGURES / "tables" / f"{name}.csv"


def writes_the_study() -> bool:
    """Whether this process writes the study's own figures (make's run with the default parameters)."""
    return FIGURES.resolve() == STUDY_FIGURES.resolve()


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
