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

import numpy as np
import pandas as pd

from harmstudy import embedding_store, files, paths

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


def announce(notebook: str, run: str, n: int, unit: str, references: list[tuple[str, int]]) -> str:
    """The line ``make`` prints before a notebook that may call a model: whether its run is new (with an
    estimate scaled from the first recorded reference run, ``(run, its number of items)``: its folder, or
    where the folder is gone — a cold rebuild — the time ``MODEL_TIME`` keeps for it) or resumes."""
    folder = paths.RUNS / run
    if (folder / MANIFEST).exists() or any(folder.glob("*.jsonl")) or any(folder.glob("*.sqlite")):
        minutes = recorded_model_seconds(folder) / 60
        return (f"{notebook}: data/runs/{run} exists ({minutes:.1f} min of model time recorded): only what it "
                f"lacks is computed, nothing recorded is repeated")
    kept = pd.read_csv(MODEL_TIME).set_index("run")["seconds"] if MODEL_TIME.exists() else pd.Series(dtype=float)
    for ref, ref_n in references:
        seconds = recorded_model_seconds(paths.RUNS / ref) if (paths.RUNS / ref).is_dir() else float(kept.get(ref, 0.0))
        if seconds > 0 and ref_n > 0:
            return (f"{notebook}: data/runs/{run} is new — about {seconds * n / ref_n / 60:.1f} min here "
                    f"({ref}: {seconds / 60:.1f} min for {ref_n} {unit})")
    return f"{notebook}: data/runs/{run} is new — no recorded run to estimate its time from"


def announce_embeddings(notebook: str, model: str, elicit_run: str | None, elicit_models: list[str]) -> str:
    """The line ``make`` prints before the learned judges: how many of their texts (the release's responses,
    the elicitation run's, and PyRIT's scored responses, which the pooled judges learn from) the model's
    embedding store lacks, and what embedding them would take at the store's recorded seconds per text."""
    from harmstudy import PAPER_MODELS
    from harmstudy.data.release import load_release
    from harmstudy.judge import embeddings, learned

    frame = learned.response_frame(load_release(), list(PAPER_MODELS))
    if elicit_run:
        frame = pd.concat([frame, learned.elicitation_frame(elicit_run, elicit_models)], ignore_index=True)
    frame = pd.concat([frame, learned.pyrit_frame()], ignore_index=True)
    texts = list(dict.fromkeys(embeddings.embedding_text(p, r) for p, r in zip(frame["prompt"], frame["response"])))
    missing = embeddings.missing_texts(texts, model)
    folder = embeddings.model_store(model)
    where = f"data/embeddings/{folder.name}"
    if not missing:
        return f"{notebook}: all {len(texts)} texts are in {where}: no model call"
    store = embedding_store.read_store(folder)
    per_text = float(np.mean([s for _, s in store.values()])) if store else float("nan")
    eta = f"about {len(missing) * per_text / 60:.1f} min at its {per_text:.2f} s per text" if store else \
        "no stored text to estimate the time from (~1 s per text here)"
    return f"{notebook}: {len(missing)} of {len(texts)} texts are not in {where} yet — {eta}"


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Model time the run folders and embedding stores record "
                                             "(default: all of them), or make's line before a model run.")
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--announce", metavar="NOTEBOOK", help="print the line for this notebook's run (--run)")
    ap.add_argument("--run", help="the run folder's name")
    ap.add_argument("--n", type=int, default=0, help="items the run computes")
    ap.add_argument("--unit", default="items")
    ap.add_argument("--ref", action="append", default=[], metavar="RUN:N",
                    help="a recorded run like it and its number of items (the first one present is used)")
    ap.add_argument("--embedding-model", help="with --announce: the learned judges' embedding model (--run: "
                                              "the elicitation run they score)")
    ap.add_argument("--elicit-models", nargs="*", default=["smollm2-135m-instruct", "gemma3-270m",
                                                           "qwen2.5-coder-0.5b-instruct"])
    ap.add_argument("--record", action="store_true", help=f"also keep each folder's time in {MODEL_TIME.name}")
    args = ap.parse_args()
    if args.announce and args.embedding_model:
        print(announce_embeddings(args.announce, args.embedding_model, args.run, args.elicit_models))
    elif args.announce:
        refs = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.ref]
        print(announce(args.announce, args.run, args.n, args.unit, refs))
    else:
        print_model_time(args.folders or recorded_folders(), record=MODEL_TIME if args.record else None)
