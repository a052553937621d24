"""Files that survive interruptions: one sha256 helper, atomic writes, append-only JSONL records.

* Every manifest, table and cache note is written atomically (temporary file in the same folder, then
  ``os.replace``), so a killed process leaves the old file or the new one, never half of one.
* Derived files are written only when their bytes change, so regeneration stays byte-identical and
  ``make`` sees no spurious change.
* Records are appended one JSON line at a time and flushed; reading never modifies a file. A torn last
  line (a run killed mid-write) is reported on read and cut off only by :class:`RecordWriter`, i.e. when
  the run is resumed for writing.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pandas as pd

#: How tables are written everywhere (fixed float format, "\n" line ends: reruns are byte-identical).
CSV_OPTIONS = dict(index=False, float_format="%.6g", lineterminator="\n")


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_bytes_atomic(path: Path, data: bytes, *, only_if_changed: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically; return whether the file changed."""
    path = Path(path)
    if only_if_changed and path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def write_json(path: Path, data: dict) -> bool:
    text = json.dumps(data, indent=1, sort_keys=True, default=str, ensure_ascii=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_csv(frame: pd.DataFrame, path: Path) -> bool:
    """A table in the study's CSV format, written atomically and only when its bytes change."""
    return write_bytes_atomic(path, frame.to_csv(**CSV_OPTIONS).encode("utf-8"))


# ------------------------------------------------------------------------------------ JSONL records
def _scan_records(data: bytes, path: Path) -> tuple[list[dict], int, int]:
    """(complete records, byte offset where they end, length of a torn last line or 0)."""
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
            return records, good_end, len(line)
        pos = nl + 1
        good_end = pos
    return records, good_end, 0


def read_records(path: Path) -> list[dict]:
    """All complete records of a JSONL file (none if it does not exist). Never writes: a torn last line
    is left in place with a warning (it is cut off when the run is resumed)."""
    path = Path(path)
    if not path.exists():
        return []
    records, _, torn = _scan_records(path.read_bytes(), path)
    if torn:
        warnings.warn(f"{path}: torn last line ({torn} bytes) from an interrupted run; it is ignored here and "
                      f"removed (its record redone) when the run is resumed", stacklevel=2)
    return records


class RecordWriter:
    """Appends one JSON object per line. Opening it repairs a torn last line (with a warning).

    Each record is flushed to the operating system as soon as it is written, which is what survives a
    killed process; the file is fsynced once on close (per-record fsync guarded only against a power cut
    and cost a disk round trip per response).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            _, good_end, torn = _scan_records(self.path.read_bytes(), self.path)
            if torn:
                warnings.warn(f"{self.path}: torn last line ({torn} bytes) from an interrupted run removed; "
                              f"its record will be redone", stacklevel=2)
                with open(self.path, "r+b") as fh:
                    fh.truncate(good_end)
        self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
