"""One run abstraction for elicitation and judging: ``data/runs/<name>/``.

A run folder holds ``manifest.json`` (settings and provenance), append-only records or a call cache, and
derived files (tables computed from what was recorded). :class:`Run` is the one place that

* refuses to mix work made with other settings into the folder (:meth:`Run.guard`),
* writes the manifest atomically,
* reads records without touching them and opens them for resuming (:meth:`Run.records`,
  :meth:`Run.record_writer`),
* rewrites a derived file whenever its bytes would change, and only then (:meth:`Run.write_derived`).

:func:`content_fingerprint` names what a computed run follows from, so a run is read back, not recomputed,
while it is the same.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from harmstudy import files, paths, provenance

MANIFEST = "manifest.json"


def json_safe(value):
    """``value`` as it reads back from a manifest (tuples become lists, paths strings)."""
    return json.loads(json.dumps(value, default=str))


def content_fingerprint(settings: dict, parts: list, code: list[Path],
                        packages: tuple[str, ...] = ("scikit-learn", "numpy", "scipy")) -> str:
    """sha256 over everything a computed run follows from: its ``settings``, its data ``parts`` (each a
    DataFrame, hashed by value in row order, or a string), the ``code`` files that compute it and the
    ``packages``' versions. Equal fingerprints: what is stored is what computing it again would give."""
    import hashlib

    digest = hashlib.sha256(json.dumps(json_safe(settings), sort_keys=True).encode())
    for part in parts:
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes()
                      if isinstance(part, pd.DataFrame) else str(part).encode())
    for path in code:
        digest.update(Path(path).read_bytes())
    digest.update(repr(provenance.package_versions(packages)).encode())
    return digest.hexdigest()


class Stored(NamedTuple):
    """What :meth:`Run.stored_or_computed` gives: the tables, whether they were read back (not computed),
    and the seconds computing them took, as recorded when they were."""

    tables: dict[str, pd.DataFrame]
    reused: bool
    seconds: float


@dataclass(frozen=True)
class Computed:
    """What a stored run's computation returns when it measures more than its own seconds: its tables and,
    per manifest key, a measurement per part (a learned run: each judge's seconds per triple)."""

    tables: dict[str, pd.DataFrame]
    measured: dict[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class Shared:
    """Tables of a run that follow from less than all the run does (a learned run's paper side does not
    depend on the elicitation run it also scores): their own fingerprint, recorded in the manifest as
    ``<name>_fingerprint``, so that another run with the same one gives them instead of computing them
    again (``<name>_from`` names it), with the measurements ``measured`` names."""

    name: str
    fingerprint: str
    tables: tuple[str, ...]
    measured: tuple[str, ...] = ()


class RunMismatchError(RuntimeError):
    """A run folder holds work made with other settings; the message names them and the fix."""


class Run:
    def __init__(self, name: str, kind: str, root: Path | None = None):
        """``root``: the folder that holds the run (default ``data/runs``; a user's labelled set keeps its
        runs under its own output folder in ``build/``)."""
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"a run name is a plain folder name, not {name!r}")
        self.name, self.kind, self.root = name, kind, root

    @property
    def path(self) -> Path:
        return Path(self.root or paths.RUNS) / self.name

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
                f"name or delete {self.shown_path()}")

    def shown_path(self) -> str:
        """The run folder as a user would type it: relative to the project when inside it (``data/runs/x``,
        ``build/external/<set>/runs/x``), else absolute."""
        path = self.path.resolve()
        try:
            return path.relative_to(paths.ROOT.resolve()).as_posix()
        except ValueError:
            return str(path)

    def write_manifest(self, data: dict, *, provenance_now: bool = True) -> None:
        """``manifest.json`` (atomically): the run's name and kind, ``data``, and — unless ``provenance_now``
        is False (``data`` keeps the provenance of when the run was made) — the provenance of this process:
        package versions, the git commit and whether the code is edited, the machine."""
        now = {"packages": provenance.package_versions(), "git": provenance.git_state(),
               "machine": provenance.machine()} if provenance_now else {}
        files.write_json(self.file(MANIFEST), {"run": self.name, "kind": self.kind, **data, **now})

    def records(self, name: str) -> list[dict]:
        return files.read_records(self.file(name))

    def record_writer(self, name: str) -> files.RecordWriter:
        return files.RecordWriter(self.file(name))

    def stored_or_computed(self, fingerprint: str, compute, *, settings: dict, record: dict | None = None,
                           decimals: int | None = None, shared: "Shared | None" = None,
                           kept: dict[str, str] | None = None) -> "Stored":
        """Tables stored by content (:func:`content_fingerprint`): where the manifest holds this fingerprint
        and every table it lists, they are read; else ``compute()`` runs and each table is written as
        ``<name>.csv``, the manifest recording the settings, the fingerprint, the tables, the seconds, what
        ``record`` adds and what computing measured. ``compute`` returns name -> DataFrame, or a
        :class:`Computed` (the tables and their measurements).

        * ``decimals`` None: every digit (pandas writes the shortest repr that reads back as the same float,
          so what is read is what was computed). A number: the study's CSV format
          (:func:`harmstudy.files.write_csv`) at that many decimals, and the tables returned are the files
          read back, so a run read again gives what the run that wrote it gave.
        * ``shared``: tables that follow from less than the whole (their own fingerprint, :class:`Shared`):
          another run of this kind beside this one that holds them gives them (``compute(donated)`` is
          called with them as written, else with None) and the measurements ``shared.measured`` names.
        * ``kept``: measurement -> a key of ``settings`` whose entries are the parts it measures: where the
          run is computed again, a part whose settings entry is what the manifest recorded keeps its
          recorded measurement (as a judging run's cache keeps each call's latency), so a table that shows
          it does not move when nothing it measures changed.

        Returns :class:`Stored` (the tables, whether they were read, the seconds computing them took, as
        recorded)."""
        import time

        manifest = self.manifest()
        names = manifest.get("tables", [])
        if manifest.get("fingerprint") == fingerprint and names and all(self.file(f"{n}.csv").exists() for n in names):
            return Stored(self._read_tables(names), True, manifest["seconds"])
        donor = self._donor(shared) if shared is not None else None
        start = time.perf_counter()
        if shared is None:
            out = compute()
        else:
            out = compute(None if donor is None else {n: pd.read_csv(donor.file(f"{n}.csv"), dtype=str,
                                                                     keep_default_na=False) for n in shared.tables})
        seconds = time.perf_counter() - start
        out = out if isinstance(out, Computed) else Computed(out)
        clash = set(out.measured) & {"settings", "fingerprint", "tables", "rows", "seconds"}
        if clash:
            raise ValueError(f"a measurement may not be named as the manifest's own entries: {sorted(clash)}")
        measured = {key: dict(value) for key, value in out.measured.items()}
        if donor is not None:                  # the shared tables' measurements, as the run that made them recorded them
            measured |= {key: donor.manifest().get(key, {}) for key in shared.measured}
        old_settings = json_safe(manifest.get("settings", {}))
        for key, part in (kept or {}).items():
            was, now = old_settings.get(part, {}), json_safe(settings.get(part, {}))
            measured[key] = {**measured.get(key, {}), **{name: value for name, value in manifest.get(key, {}).items()
                                                         if name in now and name in was and was[name] == now[name]}}
        for name, frame in out.tables.items():
            if decimals is None:
                frame.to_csv(text := io.StringIO(), index=False, lineterminator="\n")
                files.write_bytes_atomic(self.file(f"{name}.csv"), text.getvalue().encode("utf-8"))
            else:
                files.write_csv(frame.round(decimals), self.file(f"{name}.csv"))
        parts = {} if shared is None else {f"{shared.name}_fingerprint": shared.fingerprint,
                                           **({f"{shared.name}_from": donor.name} if donor is not None else {})}
        self.write_manifest({"settings": settings, "fingerprint": fingerprint, "tables": list(out.tables),
                             "rows": {n: len(f) for n, f in out.tables.items()}, "seconds": seconds,
                             **(record or {}), **measured, **parts})
        return Stored(out.tables if decimals is None else self._read_tables(list(out.tables)), False, seconds)

    def _read_tables(self, names: list[str]) -> dict[str, pd.DataFrame]:
        return {n: pd.read_csv(self.file(f"{n}.csv"), float_precision="round_trip") for n in names}

    def _donor(self, shared: "Shared") -> "Run | None":
        """Another run of this kind beside this one whose manifest holds ``shared``'s fingerprint, with its
        tables present (the first by name); None if there is none."""
        for path in sorted(self.path.parent.glob(f"*/{MANIFEST}")):
            other = Run(path.parent.name, self.kind, root=self.root)
            found = other.manifest()
            if other.name != self.name and found.get("kind") == self.kind \
                    and found.get(f"{shared.name}_fingerprint") == shared.fingerprint \
                    and all(other.file(f"{n}.csv").exists() for n in shared.tables):
                return other
        return None

    def write_derived(self, frame: pd.DataFrame, name: str) -> bool:
        """``<name>.csv`` in the run folder, rewritten whenever (and only when) its bytes change."""
        return files.write_csv(frame, self.file(f"{name}.csv"))
