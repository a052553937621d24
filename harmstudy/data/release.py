"""Load the authors' release (``data/llm-harm``) once, verified and tidy.

Raw sheets -> one long table of rankings (one row per prompt x small model x rater, same columns for
students, the expert and the judges) + an anomalies table listing every row that was repaired,
rejected or kept with a defect.  Nothing is coerced silently.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from harmstudy import PAPER_MODELS, files, paths
from harmstudy.parse.judge_answers import parse_judge_answer
from harmstudy.parse.rankings import (RELEASE_COLUMNS, ParsedRanking, break_ties_by_position, format_ranking,
                                      long_rankings, parse_ranking_cell, ranking_rows, reverse_direction)

#: Groups whose sheets used the opposite direction (1 = most harmful).
REVERSED_GROUPS = frozenset({10})
#: Judge prediction files of the release and the names our tables use.
JUDGE_FILES = {
    "gpt-4o": "gpt4o_predictions.csv",
    "claude-sonnet": "sonnet_predictions.csv",
    "llama": "llama_predictions.csv",
}
MODEL_COLUMN_PREFIXES = ("Model 1", "Model 2", "Model 3")
ANOMALY_COLUMNS = ["file", "row", "raw", "action", "reason"]


class ReleaseError(RuntimeError):
    """The release on disk is missing or altered."""


# ----------------------------------------------------------------------------------------- checksums
def verify_release(release: Path | None = None) -> dict[str, str]:
    """Check every file listed in ``SHA256SUMS``; return {relative path: sha256}.

    Raises :class:`ReleaseError` naming the file, the expected hash and how to restore it.
    """
    release = Path(release or paths.RELEASE)
    sums = release / "SHA256SUMS"
    fix = (f"restore it with `git checkout -- {release}` (or copy ../shared/llm-harm/ to {release} again)")
    if not sums.exists():
        raise ReleaseError(f"{sums} is missing: {fix}")
    verified = {}
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        name = name.strip().removeprefix("./")
        path = release / name
        if not path.exists():
            raise ReleaseError(f"release file {path} is missing (expected sha256 {expected}): {fix}")
        actual = files.sha256_file(path)
        if actual != expected:
            raise ReleaseError(
                f"release file {path} was altered: sha256 is {actual}, expected {expected}: {fix}")
        verified[name] = actual
    return verified


# ------------------------------------------------------------------------------------------ prompts
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalize_prompt(text: str) -> str:
    """Lower-cased, NFKC-folded, quote-straightened, whitespace-collapsed prompt (the matching key)."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip().lower()


def prompt_id(text: str) -> str:
    """Stable id of a prompt: ``p`` + first 10 hex digits of sha1 of its normalized text."""
    return "p" + hashlib.sha1(normalize_prompt(text).encode("utf-8")).hexdigest()[:10]


def item_id(prompt: str, responses) -> str:
    """Stable id of a ranked triple (prompt + its responses, in model order).

    A few prompts were answered twice with different responses (in two groups' sheets): they are two
    items with one prompt id, so rankings are paired on ``item_id``.
    """
    key = "\x1f".join([normalize_prompt(prompt), *(normalize_prompt(r or "") for r in responses)])
    return "t" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


# ----------------------------------------------------------------------------------------- reading
def read_text_any(path: Path) -> tuple[str, str]:
    """Decode a release file: UTF-8 (with or without BOM), else Windows-1252/latin-1 (groups 6, 7)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_csv_any(path: Path) -> tuple[pd.DataFrame, str]:
    """A sheet as text columns: CSV in any of the release's encodings, or Excel (``.xlsx``)."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        encoding = "xlsx"
    else:
        text, encoding = read_text_any(path)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame = frame.loc[:, [c for c in frame.columns if c.strip() and not c.startswith("Unnamed")]]
    return frame, encoding


def model_from_header(column: str) -> str:
    """The model a sheet column names, its case kept (``SmolLM2-135M-Instruct.Q4_1`` stays as written);
    only the paper's three models take the lower-case names our tables use (``Mistral-7B`` -> ``mistral-7b``)."""
    name = column.split(" - ", 1)[1].strip() if " - " in column else column.strip()
    return name.lower() if name.lower() in PAPER_MODELS else name


def group_number(path: Path) -> int:
    match = re.search(r"group_(\d+)", path.name, re.IGNORECASE)
    if not match:
        raise ReleaseError(f"cannot read a group number from {path.name}")
    return int(match.group(1))


def student_sheets(sources: pd.Series) -> pd.Series:
    """The student sheet (group number) of each row's ``source`` file; -1 where there is none (a response
    that is not the release's, e.g. a new small model's)."""
    return sources.fillna("").map(lambda src: group_number(Path(src)) if src else -1)


@dataclass
class Release:
    """The loaded release: long rankings table, the triples judged, anomalies and per-file facts."""

    rankings: pd.DataFrame
    triples: pd.DataFrame
    anomalies: pd.DataFrame
    files: pd.DataFrame
    written_forms: pd.DataFrame = field(default_factory=pd.DataFrame)


class _Collector:
    def __init__(self):
        self.rows: list[dict] = []
        self.anomalies: list[dict] = []
        self.triples: list[dict] = []
        self.forms: list[dict] = []

    def anomaly(self, file: str, row: int, raw: str, action: str, reason: str):
        self.anomalies.append({"file": file, "row": row, "raw": raw, "action": action, "reason": reason})

    def ranking(self, *, item, pid, prompt, rater, kind, parsed: ParsedRanking, source, row,
                models=None):
        self.rows += ranking_rows(item_id=item, prompt_id=pid, prompt=prompt, models=models or PAPER_MODELS,
                                  ranks=parsed.ranks, status=parsed.status, reason=parsed.reason, rater=rater,
                                  rater_kind=kind, source=source, source_row=row)


def _read_human_sheet(path: Path, col: _Collector, *, rater: str, kind: str, reverse: bool,
                      items_by_prompt: dict[str, list[str]] | None = None, base: Path | None = None,
                      unescape: bool = False) -> dict:
    """One student sheet (prompt, three responses, ranking) or the expert's (prompt, ranking).

    ``unescape``: the sheet was exported by :func:`harmstudy.data.annotation.export_sheets`, whose cells carry
    a spreadsheet-safe ``'`` before a formula character; it is dropped so the texts (and item ids) are the
    responses' own.

    The expert's sheet has no responses: its prompts are matched to the students' triples by prompt id
    (``items_by_prompt``); a prompt answered in two triples is matched to the first, with an anomaly row.
    """
    frame, encoding = read_csv_any(path)
    if unescape:
        frame = frame.map(lambda v: files.spreadsheet_unescaped_text(v) if isinstance(v, str) else v)
    cols = {c.strip().lower(): c for c in frame.columns}
    prompt_col = cols.get("prompt")
    rank_col = cols.get("ranking") or cols.get("expert_ranking")
    model_cols = [next((c for c in frame.columns if c.startswith(p)), None) for p in MODEL_COLUMN_PREFIXES]
    models = [model_from_header(c) for c in model_cols] if all(model_cols) else None
    if prompt_col is None or rank_col is None:
        raise ReleaseError(f"{path.name}: expected columns Prompt and Ranking, found {list(frame.columns)}")
    name = path.relative_to(base).as_posix() if base else path.name      # as anomalies.csv names the file
    kept = 0
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        raw = rec[rank_col]
        parsed = parse_ranking_cell(raw)
        col.forms.append({"file": name, "written_form": re.sub(r"\d", "#", raw.strip()) or "<empty>"})
        if parsed.status in ("unscored", "tie"):
            col.anomaly(name, i, raw, "rejected", parsed.reason)
            continue
        if parsed.status == "repaired":
            col.anomaly(name, i, raw, "repaired", f"{parsed.reason} -> {format_ranking(parsed.ranks)}")
        if reverse:
            parsed = reverse_direction(parsed)
        prompt = rec[prompt_col]
        pid = prompt_id(prompt)
        if all(c is not None for c in model_cols):
            responses = [rec[c] for c in model_cols]
            item = item_id(prompt, responses)
            for mc, resp in zip(model_cols, responses):
                if not str(resp).strip():
                    col.anomaly(name, i, raw, "kept", f"empty response cell in {mc!r} (ranked as written)")
            col.triples.append({"item_id": item, "prompt_id": pid, "prompt": prompt, "source": name,
                                **{f"response_{m}": r for m, r in zip(models, responses)}})
        else:
            candidates = (items_by_prompt or {}).get(pid, [])
            if not candidates:
                col.anomaly(name, i, raw, "rejected", "prompt not found in any student sheet")
                continue
            if len(set(candidates)) > 1:
                col.anomaly(name, i, raw, "kept", "prompt answered in two triples; matched to the first sheet's")
            item = candidates[0]
        col.ranking(item=item, pid=pid, prompt=prompt, rater=rater, kind=kind, parsed=parsed,
                    source=name, row=i, models=models)
        kept += 1
    return {"file": name, "rater": rater, "encoding": encoding, "rows": len(frame), "kept": kept}


def _judge_items(release_path: Path, items_by_prompt: dict[str, list[str]]) -> tuple[list, list[str]]:
    """Item id (and how it was matched) of each judge row, from the Llama file's copy of the responses.

    The three prediction files list the same prompts in the same order (checked in ``_read_judge_file``),
    so row i of every judge file is the triple of row i of the Llama file.  Where that copy's responses are
    empty (rows of groups 6 and 13), or match no sheet, the prompt decides, as the authors matched it.
    """
    frame, _ = read_csv_any(release_path / JUDGE_FILES["llama"])
    model_cols = [next(c for c in frame.columns if c.startswith(p)) for p in MODEL_COLUMN_PREFIXES]
    known = {i for items in items_by_prompt.values() for i in items}
    matched = []
    for rec in frame.to_dict("records"):
        item = item_id(rec["prompt"], [rec[c] for c in model_cols])
        candidates = items_by_prompt.get(prompt_id(rec["prompt"]), [])
        if item in known:
            matched.append((item, ""))
        elif len(set(candidates)) == 1:
            matched.append((candidates[0], ""))
        elif candidates:
            matched.append((candidates[0], "prompt answered in two triples; matched to the first sheet's"))
        else:
            matched.append((item, "triple not found in any student sheet"))
    return matched, frame["prompt"].tolist()


def _read_judge_file(path: Path, judge: str, col: _Collector, items: list, prompts: list[str]) -> dict:
    frame, encoding = read_csv_any(path)
    if frame["prompt"].tolist() != prompts:
        raise ReleaseError(f"{path.name}: its prompts are not in the Llama file's order; cannot match rows")
    name = path.name
    kept = 0
    for i, (rec, (item, problem)) in enumerate(zip(frame.to_dict("records"), items), start=1):
        parsed = parse_judge_answer(rec["preds"])
        if problem:
            col.anomaly(name, i, rec["prompt"][:200], "kept", problem)
        if parsed.status != "ok":
            action = {"repaired": "repaired", "tie": "kept as tie", "unscored": "kept as unscored"}
            col.anomaly(name, i, rec["preds"][:200], action[parsed.status], parsed.reason)
        kept += parsed.status != "unscored"
        col.ranking(item=item, pid=prompt_id(rec["prompt"]), prompt=rec["prompt"], rater=judge,
                    kind="judge", parsed=parsed, source=name, row=i)
    return {"file": name, "rater": judge, "encoding": encoding, "rows": len(frame), "kept": kept}


@lru_cache(maxsize=2)
def _load_release_cached(release: str) -> Release:
    release_path = Path(release)
    verify_release(release_path)
    col = _Collector()
    files = []
    submissions = release_path / "raw_submissions"
    for path in sorted(submissions.glob("*[Gg]roup_*.csv"), key=group_number):
        n = group_number(path)
        files.append(_read_human_sheet(path, col, rater=f"group-{n:02d}", kind="student",
                                       reverse=n in REVERSED_GROUPS, base=release_path))
    items_by_prompt: dict[str, list[str]] = {}
    for t in col.triples:
        items_by_prompt.setdefault(t["prompt_id"], []).append(t["item_id"])
    files.append(_read_human_sheet(submissions / "expert_annotations.csv", col, rater="expert",
                                   kind="expert", reverse=False, items_by_prompt=items_by_prompt,
                                   base=release_path))
    items, prompts = _judge_items(release_path, items_by_prompt)
    for judge, fname in JUDGE_FILES.items():
        files.append(_read_judge_file(release_path / fname, judge, col, items, prompts))
    rankings = long_rankings(col.rows, RELEASE_COLUMNS)
    triples = pd.DataFrame(col.triples).drop_duplicates("item_id", keep="first").reset_index(drop=True)
    forms = (pd.DataFrame(col.forms).value_counts().rename("rows").reset_index()
             .sort_values(["file", "rows"], ascending=[True, False], ignore_index=True))
    return Release(rankings=rankings, triples=triples,
                   anomalies=pd.DataFrame(col.anomalies, columns=ANOMALY_COLUMNS),
                   files=pd.DataFrame(files), written_forms=forms)


def load_release(release: Path | None = None) -> Release:
    """Verify checksums, then parse every sheet of the release (cached per process)."""
    rel = _load_release_cached(str(Path(release or paths.RELEASE).resolve()))
    return Release(rankings=rel.rankings.copy(), triples=rel.triples.copy(),
                   anomalies=rel.anomalies.copy(), files=rel.files.copy(),
                   written_forms=rel.written_forms.copy())


def authors_tie_break(rankings: pd.DataFrame) -> pd.DataFrame:
    """The judges' rankings as the authors scored them: every tied answer broken by display position
    (``Content A: 1`` / ``Content B: 1`` -> ``1,2,N/A``; ``../shared/llm-harm/SOURCE.md``), for a
    sensitivity row. Only judges with at least one tie; rater renamed ``<judge> (authors' tie-break)``."""
    judges = rankings[(rankings["rater_kind"] == "judge") & (rankings["status"] == "tie")]["rater"].unique()
    out = rankings[rankings["rater"].isin(judges)].copy()
    ties = out["status"] == "tie"
    for (item, rater), rows in out[ties].groupby(["item_id", "rater"], sort=False):
        broken = break_ties_by_position(tuple(int(v) for v in rows["rank"]))
        out.loc[rows.index, "rank"] = list(broken)
    out.loc[ties, "status"] = "repaired"
    out.loc[ties, "reason"] = "tie broken by display position (the authors' rule)"
    out["rater"] = out["rater"] + " (authors' tie-break)"
    return out


def load_human_rankings(release: Path | None = None) -> pd.DataFrame:
    """Students' rankings (one row per prompt x model x group), group 10 reversed."""
    r = load_release(release).rankings
    return r[r.rater_kind == "student"].reset_index(drop=True)


def load_expert_rankings(release: Path | None = None) -> pd.DataFrame:
    r = load_release(release).rankings
    return r[r.rater_kind == "expert"].reset_index(drop=True)


def load_judge_rankings(release: Path | None = None) -> pd.DataFrame:
    """The paper's judges' rankings, unusable answers kept as ``unscored`` / ``tie`` with reason."""
    r = load_release(release).rankings
    return r[r.rater_kind == "judge"].reset_index(drop=True)
