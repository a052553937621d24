"""The model time that run folders and embedding stores record: what recomputing them would cost here, and
``data/model_time.csv``, which keeps it for a run folder deleted for a cold rebuild."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmstudy import embedding_store, files, paths
from harmstudy.runs import MANIFEST


def recorded_model_seconds(folder: Path) -> float:
    """The model time a run folder records, in seconds: each elicitation response's ``seconds``
    (``*.jsonl``), each cached judge call's ``latency`` (``*.sqlite``), each stored embedding's ``seconds``
    (an embedding store's shards, ``*.npz``). It is what recomputing the run would cost at the speed it was
    made at, so the sum over ``data/runs`` and ``data/embeddings`` estimates a cold ``make paper`` (no runs)
    on the machine that made them."""
    import sqlite3
    from contextlib import closing

    folder = Path(folder)
    total = 0.0
    for records in sorted(folder.glob("*.jsonl")):
        total += sum(float(r.get("seconds") or 0.0) for r in files.read_records(records))
    for cache in sorted(folder.glob("*.sqlite")):
        with closing(sqlite3.connect(f"{cache.resolve().as_uri()}?mode=ro", uri=True)) as db:
            total += float(db.execute("SELECT COALESCE(SUM(latency), 0) FROM calls").fetchone()[0])
    return total + embedding_store.recorded_seconds(folder)


#: The model time each committed run records, kept apart from the runs (``make record-model-time`` writes it):
#: a run folder deleted for a cold rebuild still has its time here, to estimate recomputing it.
MODEL_TIME = paths.DATA / "model_time.csv"


def print_model_time(folders: list[Path], record: Path | None = None) -> float:
    """One line per run folder (minutes of model time it records) and their total; returns the total.
    ``record``: also write each folder's seconds there (``MODEL_TIME``)."""
    total, rows = 0.0, []
    for folder in folders:
        seconds = recorded_model_seconds(folder)
        total += seconds
        rows.append({"run": Path(folder).name, "seconds": round(seconds, 1)})
        print(f"  {seconds / 60:7.1f} min  {Path(folder).name}")
    if record is not None:
        files.write_csv(pd.DataFrame(rows, columns=["run", "seconds"]), record)
    print(f"  {total / 60:7.1f} min  in all: the model time a cold `make paper` would spend here (at the "
          f"speed the runs were made)")
    return total


def recorded_folders() -> list[Path]:
    """Every run folder with a manifest and every embedding store: what a cold ``make paper`` recomputes."""
    runs = sorted(p for p in paths.RUNS.iterdir() if (p / MANIFEST).exists()) if paths.RUNS.exists() else []
    stores = sorted(p for p in paths.EMBEDDINGS.iterdir() if p.is_dir()) if paths.EMBEDDINGS.exists() else []
    return runs + stores
