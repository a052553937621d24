"""Append-only JSONL record files that survive a killed run.

Every record is written as one line and flushed to disk before the next starts, so a killed run loses at
most the line being written.  On reopening, a torn last line (no newline, or not valid JSON) is cut off
with a warning and its work is redone; records are never duplicated.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path


def read_records(path: Path, *, repair: bool = True) -> list[dict]:
    """All complete records; a torn last line is removed from the file (``repair``) with a warning."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    records, good_end, pos = [], 0, 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        line = data[pos:] if nl == -1 else data[pos:nl]
        try:
            if nl == -1:
                raise ValueError("no newline")
            if line.strip():
                records.append(json.loads(line))
        except ValueError:
            if nl != -1 and data[nl + 1:].strip():
                raise ValueError(f"{path}: line {len(records) + 1} is corrupt and is not the last line; "
                                 f"fix or delete the file") from None
            warnings.warn(f"{path}: torn last line ({len(line)} bytes) from an interrupted run removed; "
                          f"its record will be redone", stacklevel=2)
            if repair:
                with open(path, "r+b") as fh:
                    fh.truncate(good_end)
            break
        pos = nl + 1
        good_end = pos
    return records


class RecordWriter:
    """Appends one JSON object per line and fsyncs it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
