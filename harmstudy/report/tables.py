"""Writing the study's tables: ``figures/tables/<name>.csv``, byte-stable, atomic, with provenance; and reading
one back where a later notebook builds on it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmstudy import files, paths, provenance


def write_table(frame: pd.DataFrame, name: str) -> Path:
    """Write ``figures/tables/<name>.csv`` (fixed float format; rewritten only when its bytes change) and
    note it for ``figures/MANIFEST.json``."""
    path = paths.table_path(name)
    files.write_csv(frame, path)
    provenance.note_written(path)
    return path


def read_table(name: str) -> pd.DataFrame | None:
    """The table ``<name>.csv`` an earlier notebook wrote (the variant's own where there is one:
    :func:`harmstudy.paths.input_table_path`), or None where it has not been written yet."""
    path = paths.input_table_path(name)
    return pd.read_csv(path) if path.exists() else None
