"""Files that survive interruptions: one sha256 helper, atomic writes, append-only JSONL records.

* Every manifest, table and cache note is written atomically (temporary file in the same folder, then
  ``os.replace``), so a killed process leaves the old file or the new one, never half of one.
* Derived files are written only when their bytes change, so regeneration stays byte-identical and
  ``make`` sees no spurious change.
* Every CSV cell a spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return, and not a plain number) is written with a leading ``'`` (OWASP's CSV-injection rule),
  in values and headers alike: :func:`spreadsheet_safe`.
* Files get the permissions of the user's umask (a temporary file alone would be 0600).
* Records are appended one JSON line at a time and flushed; reading never modifies a file. A torn last
  line (a run killed mid-write) is reported on read and cut off only by :class:`RecordWriter`, i.e. when
  the run is resumed for writing.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
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


def _umask() -> int:
    mask = os.umask(0o022)        # the only way to read the umask is to set it; set back at once
    os.umask(mask)
    return mask


#: The mode a new file gets: what ``open()`` would give it under this process's umask.
FILE_MODE = 0o666 & ~_umask()


def temporary_beside(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (so ``os.replace`` onto ``path`` is atomic), with the mode
    the user's umask gives new files (``mkstemp`` alone makes it 0600): ``(fd, name)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.fchmod(fd, FILE_MODE)
    return fd, tmp


@contextlib.contextmanager
def atomic_writer(path: Path, suffix: str = ".tmp"):
    """A binary file to write ``path``'s new bytes into, streamed (a model's parts joined, say): a temporary
    file of this process's own beside it, moved onto ``path`` when the block ends, removed if it raises. Two
    processes writing one path at once each write their own; the last move wins, whole."""
    fd, tmp = temporary_beside(path, suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_bytes_atomic(path: Path, data: bytes, *, only_if_changed: bool = True) -> bool:
    """Write ``data`` to ``path`` atomically; return whether the file changed."""
    path = Path(path)
    if only_if_changed and path.exists() and path.read_bytes() == data:
        return False
    with atomic_writer(path) as fh:
        fh.write(data)
    return True


def write_json(path: Path, data: dict) -> bool:
    text = json.dumps(data, indent=1, sort_keys=True, default=str, ensure_ascii=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


#: A cell starting with one of these is run as a formula by spreadsheets (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE)


def spreadsheet_safe_text(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula; a plain number (``-0.5``,
    ``+1e-3``) is left as it is: it is read as a number, never run."""
    if value[:1] in FORMULA_STARTS and value and not _NUMBER.match(value):
        return "'" + value
    return value


def spreadsheet_unescaped_text(value: str) -> str:
    """The inverse of :func:`spreadsheet_safe_text` for a sheet the study wrote and a person filled in: a
    leading ``'`` before a formula character is dropped (a text that began with ``'=`` itself comes back
    without its quote: the one case the escape cannot tell apart)."""
    if value[:1] == "'" and value[1:2] and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and column name passed through :func:`spreadsheet_safe_text` (numeric
    columns cannot hold a formula and are left untouched); the frame itself is not changed."""
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    safe_names = {c: spreadsheet_safe_text(str(c)) for c in frame.columns}
    risky = [c for c in text_columns
             if frame[c].map(lambda v: isinstance(v, str) and v[:1] in FORMULA_STARTS).any()]
    if not risky and all(safe_names[c] == str(c) for c in frame.columns):
        return frame
    out = frame.copy()
    for c in risky:
        out[c] = out[c].map(lambda v: spreadsheet_safe_text(v) if isinstance(v, str) else v)
    return out.rename(columns=safe_names)


def csv_text(frame: pd.DataFrame, **options) -> str:
    """``frame`` as the study's CSV text (:data:`CSV_OPTIONS`, overridable), spreadsheet-safe and with every
    secret the run knows redacted (:func:`harmstudy.secrets.redact_known`)."""
    from harmstudy import secrets

    safe = spreadsheet_safe(frame)
    # csv's minimal quoting quotes a cell holding the line terminator ("\n") but not a bare "\r", which a reader
    # takes for a line end (the rest of the cell would start a row of its own): such a table is quoted whole
    if "quoting" not in options and (any("\r" in str(c) for c in safe.columns) or any(safe[c].map(lambda v: isinstance(v, str) and "\r" in v).any()
                                        for c in safe.columns if safe[c].dtype == object
                                        or pd.api.types.is_string_dtype(safe[c]))):
        options = {**options, "quoting": csv.QUOTE_ALL}
    return secrets.redact_known(safe.to_csv(**{**CSV_OPTIONS, **options}))


def write_csv(frame: pd.DataFrame, path: Path, **options) -> bool:
    """A table in the study's CSV format (:func:`csv_text`), written atomically and only when its bytes
    change. This is the one CSV writer of the package: every table a user may open goes through it."""
    return write_bytes_atomic(path, csv_text(frame, **options).encode("utf-8"))


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
