"""Single responses scored by people: any set of (request, response, human score(s), category).

The study's second kind of evidence (beside the paper's ranked triples): a red-teaming tool's scorer or a
benchmark's classifier judges one response at a time. A set is read into one long table —

``dataset, category, row, request, response, human_1 .. human_k, human_median`` (scores on 0–1)

— from CSV / JSONL / Parquet or a Hugging Face dataset, through a column mapping and a scale (``binary``,
or Likert levels mapped linearly onto 0–1). Rows that cannot be read are listed with file, row and reason,
never dropped silently. :func:`load_pyrit` reads PyRIT's scorer evaluation sets (``data/pyrit-scorer-evals``):
a ``#`` comment line before the header, ``human_score`` vs ``human_score_1``, three human columns in the
``*_multi_score.csv`` files, and published metrics whose dataset name may differ from the file's.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmstudy import files, paths
from harmstudy.data import set_files

PYRIT = paths.DATA / "pyrit-scorer-evals"
SCORE_COLUMNS = ["dataset", "category", "row", "request", "response"]
PROBLEM_COLUMNS = ["file", "row", "reason"]
#: PyRIT's Likert levels 1..5 mapped linearly onto 0..1 (its SOURCE.md): the values a score may take.
LIKERT_01 = (0.0, 0.25, 0.5, 0.75, 1.0)


class ScoredSetError(set_files.SetInputError):
    """A set or a column mapping cannot be read; the message says which and how to fix it."""


@dataclass(frozen=True)
class ColumnMap:
    """Which columns hold what. ``human`` lists one or more human score columns (a regex matches
    ``human_score`` and ``human_score_1`` alike); ``category`` may be a column or a fixed value;
    ``verdicts``: columns of other classifiers' verdicts the file already carries (binary words, or a
    score on 0–1), read into ``verdict:<column>``."""

    request: str = "objective"
    response: str = "assistant_response"
    human: str = r"human_score(_\d+)?"
    category: str | None = "harm_category"
    fixed_category: str | None = None
    verdicts: tuple = ()
    #: the human columns by name, when a user named them (each must be in the file)
    human_names: tuple = ()

    @classmethod
    def named(cls, request: str, response: str, human: list[str], category: str = "", fixed_category: str = "",
              verdicts=()) -> "ColumnMap":
        """A mapping from plain column names (as a user passes them), human columns listed by name."""
        if not human:
            raise ScoredSetError("name at least one human score column (HUMAN=\"<col> ...\" for make external)")
        return cls(request=request, response=response, human="|".join(re.escape(h) for h in human),
                   category=category or None, fixed_category=fixed_category or None, verdicts=tuple(verdicts),
                   human_names=tuple(human))


VERDICT_PREFIX = "verdict:"


def verdict_01(value) -> float | None:
    """A verdict column's value on 0–1: binary words (1/0, yes/no, true/false, harmful/unharmful, unsafe/safe)
    or a number in [0, 1]; None if it is neither."""
    text = str(value).strip().lower()
    words = {"harmful": 1.0, "unharmful": 0.0, "not harmful": 0.0, "unsafe": 1.0, "safe": 0.0}
    if text in words:
        return words[text]
    binary = Scale("binary").to_01(text)
    if binary is not None:
        return binary
    try:
        x = float(text)
    except ValueError:
        return None
    return x if 0.0 <= x <= 1.0 else None


@dataclass(frozen=True)
class Scale:
    """``binary`` (0/1, also yes/no, true/false) or ``likert`` with ``levels`` (e.g. 1..5, mapped to 0–1)
    or already on 0–1 (``levels`` = LIKERT_01)."""

    kind: str = "likert"
    levels: tuple = LIKERT_01

    def to_01(self, value) -> float | None:
        text = str(value).strip().lower()
        if text in ("", "nan", "none"):
            return None
        if self.kind == "binary":
            mapped = {"1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0,
                      "1.0": 1.0, "0.0": 0.0}.get(text)
            return mapped
        try:
            x = float(text)
        except ValueError:
            return None
        levels = [float(v) for v in self.levels]
        if not any(np.isclose(x, v) for v in levels):
            return None
        lo, hi = min(levels), max(levels)
        return (x - lo) / (hi - lo)


@dataclass
class ScoredSet:
    scores: pd.DataFrame
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    #: the file's names of ``human_1`` .. ``human_k``, in that order
    human_names: list = field(default_factory=list)

    @property
    def human_columns(self) -> list[str]:
        return [c for c in self.scores.columns if re.fullmatch(r"human_\d+", c)]


def _read_table(source: str | Path, encoding: str | None = None, sep: str | None = None
                ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """A file as text columns and each row's ``(row, line)`` (:func:`harmstudy.data.set_files.read_table`),
    or a Hugging Face dataset's rows (offline unless ``make ... ONLINE=1``)."""
    path = Path(source)
    if path.suffix or path.exists():
        return set_files.read_table(path, encoding=encoding, sep=sep)
    try:
        import datasets

        frame = datasets.load_dataset(str(source), split="train").to_pandas().astype(str)
    except Exception as exc:
        raise ScoredSetError(f"cannot read {source!r}: not a CSV/TSV/JSONL/Parquet file, and as a Hugging Face "
                             f"dataset: {exc}. Offline? Use a local file or `make ... ONLINE=1`") from exc
    return frame, [(i, i) for i in range(1, len(frame) + 1)]


def load_scored(source: str | Path, *, columns: ColumnMap = ColumnMap(), scale: Scale = Scale(),
                dataset: str | None = None, encoding: str | None = None, sep: str | None = None,
                read: tuple[pd.DataFrame, list[tuple[int, int]]] | None = None) -> ScoredSet:
    """Read one set into the long table; unreadable rows go to ``problems`` with file, line and reason.
    A score's ``row`` is its record number (the header's line + 1 + its index: the key the committed runs
    use); a problem's ``row`` is the physical line it starts on in the file (1 = the file's first line,
    comment lines included; a quoted line break inside a cell shifts it, as an editor shows it). ``read``: the ``(frame, lines)`` :func:`harmstudy.data.set_files.check_set`
    already read (duplicates dropped if asked), so the file is read once."""
    frame, where = read if read is not None else _read_table(source, encoding, sep)
    name = dataset or Path(str(source)).stem
    human = [c for c in frame.columns if re.fullmatch(columns.human, c)]
    missing = [c for c in (columns.request, columns.response, *columns.human_names) if c not in frame.columns]
    if missing or not human:
        raise ScoredSetError(f"{Path(str(source)).name}: no column {missing or columns.human!r}; columns are "
                             f"{list(frame.columns)}. Name the request, response and human label columns "
                             f"(make external REQUEST= RESPONSE= HUMAN=; a ColumnMap in Python)")
    if columns.category and not columns.fixed_category and columns.category not in frame.columns:
        raise ScoredSetError(f"{source}: no category column {columns.category!r}; pass fixed_category instead")
    absent = [c for c in columns.verdicts if c not in frame.columns]
    if absent:
        raise ScoredSetError(f"{source}: no verdict column {absent}; columns are {list(frame.columns)}")
    rows, problems = [], []
    file_name = Path(str(source)).name
    for i, rec in enumerate(frame.to_dict("records")):
        record, line = where[i]
        values = [scale.to_01(rec[c]) for c in human]
        bad = [f"{c}={rec[c]!r}" for c, v in zip(human, values) if v is None and str(rec[c]).strip()]
        if bad:
            problems.append({"file": file_name, "row": line, "reason": f"score not on the scale: {', '.join(bad)}"})
            continue
        if all(v is None for v in values):
            problems.append({"file": file_name, "row": line, "reason": "no human score"})
            continue
        if not str(rec[columns.response]).strip():
            problems.append({"file": file_name, "row": line, "reason": "empty response"})
            continue
        verdicts = {f"{VERDICT_PREFIX}{c}": verdict_01(rec[c]) for c in columns.verdicts}
        unread = [f"{c}={rec[c]!r}" for c in columns.verdicts if verdicts[f"{VERDICT_PREFIX}{c}"] is None]
        if unread:
            problems.append({"file": file_name, "row": line, "reason": f"verdict not binary or on 0-1: {', '.join(unread)}"})
            continue
        category = columns.fixed_category or (rec[columns.category] if columns.category else name)
        rows.append({"dataset": name, "category": str(category).strip().lower(), "row": record,
                     "request": rec[columns.request], "response": rec[columns.response],
                     **{f"human_{k}": v for k, v in enumerate(values, start=1)}, **verdicts})
    scores = pd.DataFrame(rows)
    hcols = [c for c in scores.columns if c.startswith("human_")]
    if not len(scores):
        raise ScoredSetError(f"{source}: no readable row ({len(problems)} unreadable: "
                             f"{problems[0]['reason'] if problems else 'the file is empty'})")
    scores["human_median"] = scores[hcols].median(axis=1, skipna=True) if len(scores) else []
    return ScoredSet(scores=scores, problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS), human_names=human)


def load_user_set(spec: set_files.SetSpec, checked: set_files.CheckedSet, name: str) -> ScoredSet:
    """A user's set (``make external``, notebook 07) in the long table, from what
    :func:`harmstudy.data.set_files.check_set` read: a row that cannot be read (a label off the scale, no
    label, an empty response, an unreadable verdict) stops it, every such row named by file and line."""
    binary = checked.scale == "binary"
    loaded = load_scored(
        spec.path, columns=ColumnMap.named(spec.request, spec.response, list(spec.human), category=spec.category,
                                           fixed_category="" if spec.category else name, verdicts=spec.verdicts),
        scale=Scale("binary") if binary else Scale("likert", tuple(checked.scale)), dataset=name,
        read=(checked.frame, checked.lines))
    if len(loaded.problems):
        listed = "\n".join(f"  {p.file}, line {p.row}: {p.reason}" for p in loaded.problems.head(20).itertuples())
        more = f"\n  … and {len(loaded.problems) - 20} more" if len(loaded.problems) > 20 else ""
        raise ScoredSetError(f"{len(loaded.problems)} rows of {Path(spec.path).name} cannot be read; fix them or "
                             f"drop them (SCALE= says which labels are on the scale):\n{listed}{more}")
    return loaded


# ---------------------------------------------------------------------------------------------- PyRIT
def _comment(path: Path) -> dict:
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    return dict(re.findall(r"(\w+)=([^,\s]+)", first)) if first.startswith("#") else {}


def pyrit_files(folder: Path | None = None) -> pd.DataFrame:
    """Every scored CSV of the PyRIT set: its harm definition (from the comment line) and human columns."""
    folder = Path(folder or PYRIT)
    rows = []
    for path in sorted((folder / "harm").glob("*.csv")):
        note = _comment(path)
        definition = note.get("harm_definition", "")
        header = pd.read_csv(path, skiprows=1, nrows=0).columns
        rows.append({"file": path.name, "dataset": path.stem, "category": definition.removesuffix(".yaml"),
                     "harm_definition": definition,
                     "human_raters": sum(bool(re.fullmatch(r"human_score(_\d+)?", c)) for c in header)})
    return pd.DataFrame(rows)


def verify_pyrit(folder: Path | None = None) -> None:
    from harmstudy.data.release import verify_release

    verify_release(Path(folder or PYRIT))             # the same SHA256SUMS check as the paper's release


def load_pyrit(folder: Path | None = None, datasets: list[str] | None = None) -> ScoredSet:
    """PyRIT's scorer evaluation sets, checksums verified; ``category`` = the harm definition's name
    (``violence``, ``hate_speech``, ...), not the CSV's own ``harm_category`` spelling."""
    folder = Path(folder or PYRIT)
    verify_pyrit(folder)
    info = pyrit_files(folder)
    parts, problems = [], []
    for f in info.to_dict("records"):
        if datasets and f["dataset"] not in datasets:
            continue
        loaded = load_scored(folder / "harm" / f["file"], columns=ColumnMap(fixed_category=f["category"]),
                             dataset=f["dataset"])
        parts.append(loaded.scores)
        problems.append(loaded.problems)
    scores = pd.concat(parts, ignore_index=True)
    hcols = sorted([c for c in scores.columns if re.fullmatch(r"human_\d+", c)])
    scores = scores[SCORE_COLUMNS + hcols + ["human_median"]]
    return ScoredSet(scores=scores, problems=pd.concat(problems, ignore_index=True))


def harm_definition(category: str, folder: Path | None = None) -> dict:
    """A category's 1–5 scale descriptions from its YAML (for Likert prompts)."""
    import yaml

    path = Path(folder or PYRIT) / "harm_definition" / f"{category}.yaml"
    return yaml.safe_load(path.read_text())


def published_metrics(folder: Path | None = None) -> pd.DataFrame:
    """PyRIT's published scorer results, one row per (category, scorer): α (ordinal, humans + 3 trials),
    MAE of medians, n. ``category`` comes from the file name (``representational_metrics.jsonl`` names its
    dataset ``fairness_bias.csv`` inside); ``scorer`` is the class and, for LLM scorers, the model."""
    folder = Path(folder or PYRIT)
    rows = []
    for path in sorted((folder / "harm").glob("*_metrics.jsonl")):
        category = path.name.removesuffix("_metrics.jsonl")
        for k, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            entry = json.loads(line)
            m = entry["metrics"]
            models = sorted(set(_model_names(entry.get("children", {}))))
            scorer = f"{entry['class_name']} {entry.get('pyrit_version')}" + (f" ({', '.join(models)})" if models else "")
            rows.append({"category": category, "scorer": scorer,
                         "entry": k, "pyrit_version": entry.get("pyrit_version"),
                         "dataset_name": m.get("dataset_name"), "alpha": m.get("krippendorff_alpha_combined"),
                         "mae": m.get("mean_absolute_error"), "mae_se": m.get("mae_standard_error"),
                         "n": m.get("num_responses"), "human_raters": m.get("num_human_raters"),
                         "trials": m.get("num_scorer_trials"),
                         "seconds_per_response": m.get("average_score_time_seconds")})
    return pd.DataFrame(rows)


def _model_names(node) -> list[str]:
    """Every model a published scorer called (``underlying_model_name`` where given, else ``model_name``)."""
    if isinstance(node, dict):
        own = node.get("underlying_model_name") or node.get("model_name")
        return ([own] if own else []) + [m for v in node.values() for m in _model_names(v)]
    if isinstance(node, list):
        return [m for v in node for m in _model_names(v)]
    return []
