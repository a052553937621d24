"""Writing the study's tables: ``figures/tables/<name>.csv``, byte-stable, atomic, with provenance."""
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
