"""One run abstraction for elicitation and judging: ``data/runs/<name>/``.

A run folder holds ``manifest.json`` (settings and provenance), append-only records or a call cache, and
derived files (tables computed from what was recorded). :class:`Run` is the one place that

* refuses to mix work made with other settings into the folder (:meth:`Run.guard`),
* writes the manifest atomically,
* reads records without touching them and opens them for resuming (:meth:`Run.records`,
  :meth:`Run.record_writer`),
* rewrites a derived file whenever its bytes would change, and only then (:meth:`Run.write_derived`).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harmstudy import files, paths

MANIFEST = "manifest.json"


def json_safe(value):
    """``value`` as it reads back from a manifest (tuples become lists, paths strings)."""
    return json.loads(json.dumps(value, default=str))


class RunMismatchError(RuntimeError):
    """A run folder holds work made with other settings; the message names them and the fix."""


class Run:
    def __init__(self, name: str, kind: str):
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"a run name is a plain folder name, not {name!r}")
        self.name, self.kind = name, kind

    @property
    def path(self) -> Path:
        return paths.RUNS / self.name

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.file(MANIFEST).exists()

    def manifest(self) -> dict:
        path = self.file(MANIFEST)
        return json.loads(path.read_text()) if path.exists() else {}

    def guard(self, expected: dict, *, ignore: frozenset | set = frozenset()) -> None:
        """Refuse when the manifest's values of ``expected``'s keys differ (dict values compared without
        the ``ignore`` keys: settings that do not change an answer, such as concurrency)."""
        old = self.manifest()
        if not old:
            return

        def strip(value):
            value = json_safe(value)
            return {k: v for k, v in value.items() if k not in ignore} if isinstance(value, dict) else value

        changed = []
        for key, value in expected.items():
            was, now = strip(old.get(key)), strip(value)
            if was == now:
                continue
            if isinstance(was, dict) and isinstance(now, dict):
                changed += [f"{key}.{k}" for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)]
            else:
                changed.append(key)
        if changed:
            raise RunMismatchError(
                f"run {self.name!r} was made with other settings ({', '.join(changed)}); choose another run "
                f"name or delete data/runs/{self.name}")

    def write_manifest(self, data: dict) -> None:
        files.write_json(self.file(MANIFEST), {"run": self.name, "kind": self.kind, **data})

    def records(self, name: str) -> list[dict]:
        return files.read_records(self.file(name))

    def record_writer(self, name: str) -> files.RecordWriter:
        return files.RecordWriter(self.file(name))

    def write_derived(self, frame: pd.DataFrame, name: str) -> bool:
        """``<name>.csv`` in the run folder, rewritten whenever (and only when) its bytes change."""
        return files.write_csv(frame, self.file(f"{name}.csv"))


# ---------------------------------------------------------------------------------------- model time
def recorded_model_seconds(folder: Path) -> float:
    """The model time a run folder records, in seconds: each elicitation response's ``seconds``
    (``*.jsonl``), each cached judge call's ``latency`` (``*.sqlite``), each embedding's ``seconds``
    (``embeddings-*.npz``). It is what recomputing the run would cost at the speed it was made at, so the
    sum over ``data/runs`` estimates a cold ``make paper`` (no runs) on the machine that made them."""
    import sqlite3
    from contextlib import closing

    from harmstudy.judge.embeddings import read_store      # the store's format lives there

    folder = Path(folder)
    total = 0.0
    for records in sorted(folder.glob("*.jsonl")):
        total += sum(float(r.get("seconds") or 0.0) for r in files.read_records(records))
    for cache in sorted(folder.glob("*.sqlite")):
        with closing(sqlite3.connect(f"{cache.resolve().as_uri()}?mode=ro", uri=True)) as db:
            total += float(db.execute("SELECT COALESCE(SUM(latency), 0) FROM calls").fetchone()[0])
    for store in sorted(folder.glob("embeddings-*.npz")):
        total += sum(seconds for _, seconds in read_store(store).values())
    return total


def print_model_time(folders: list[Path]) -> float:
    """One line per run folder (minutes of model time it records) and their total; returns the total."""
    total = 0.0
    for folder in folders:
        seconds = recorded_model_seconds(folder)
        total += seconds
        print(f"  {seconds / 60:7.1f} min  {Path(folder).name}")
    print(f"  {total / 60:7.1f} min  in all: the model time a cold `make paper` would spend here (at the "
          f"speed the runs were made)")
    return total


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Model time the given run folders record (default: every run).")
    ap.add_argument("folders", nargs="*", type=Path)
    args = ap.parse_args()
    print_model_time(args.folders or sorted(p for p in paths.RUNS.iterdir() if (p / MANIFEST).exists()))
