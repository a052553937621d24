"""Persistent SQLite cache of judge calls.

The key is a sha256 over the model string, the full messages, every sampling parameter and the template
version (and the api_base, which selects the server) — never an API key or header.  The row keeps the
raw answer, usage, cost and latency.  A warm cache answers without any model call; an interrupted run
keeps every answer it got.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, template_version TEXT NOT NULL, request TEXT NOT NULL,
    answer TEXT, error TEXT, usage TEXT, cost REAL, latency REAL
)"""


def cache_key(model: str, messages: list[dict], params: dict, template_version: str,
              api_base: str | None = None) -> str:
    blob = json.dumps({"model": model, "messages": messages, "params": params, "template": template_version,
                       "api_base": api_base or ""}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class JudgeCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # No fsync per answer: a killed process loses nothing (its writes are in the OS), only a power cut
        # could; each call's commit then costs microseconds instead of a disk round trip.
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(SCHEMA)

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT answer, error, usage, cost, latency FROM calls WHERE key = ?",
                                   (key,)).fetchone()
        if row is None:
            return None
        return {"answer": row[0], "error": row[1], "usage": json.loads(row[2] or "{}"), "cost": row[3],
                "latency": row[4]}

    def put(self, key: str, *, model: str, template_version: str, request: dict, answer: str | None,
            error: str | None, usage: dict, cost: float, latency: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, template_version, json.dumps(request, sort_keys=True, ensure_ascii=False), answer,
                 error, json.dumps(usage, sort_keys=True), cost, latency))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def cached_keys(path: Path, keys) -> set[str]:
    """Which of ``keys`` a cache file already answers, read without creating or changing it (a cost estimate
    before a run, or a dry run, writes nothing): the empty set where the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return set()
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        present = {row[0] for row in db.execute("SELECT key FROM calls")}
    except sqlite3.OperationalError:        # a file without the calls table answers nothing
        present = set()
    finally:
        db.close()
    return present & set(keys)


def read_calls(path: Path, columns=("model", "usage", "cost", "latency", "error")):
    """A cache file's calls as a frame of ``columns`` (:data:`SCHEMA`'s), read without creating or changing
    the file."""
    import pandas as pd

    unknown = set(columns) - {"key", "model", "template_version", "request", "answer", "error", "usage", "cost",
                              "latency"}
    if unknown:
        raise ValueError(f"no column {sorted(unknown)} in a judge cache")
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)        # reading never writes
    try:
        return pd.read_sql_query(f"SELECT {', '.join(columns)} FROM calls", db)
    finally:
        db.close()
