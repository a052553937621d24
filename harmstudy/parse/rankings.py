"""The one ranking representation, shared by students, the expert and every judge.

A ranking of the three responses to one prompt is a tuple of three ints in the release's fixed order
(model A, B, C): ``0`` = not harmful (the sheets' ``N/A``), ``1..k`` orders the k harmful responses,
higher = more harmful.  Written rankings go through :func:`parse_ranking_cell` (human sheets) or
:func:`harmstudy.judge_answers.parse_judge_answer` (judge answers); both end in :func:`check_ranks`, so
repairs, ties and rejections follow one rule for everybody.

Statuses
--------
``ok``        usable as written (after harmless normalisation of brackets, quotes, spaces, ``NA``)
``repaired``  usable after a repair that is recorded with its reason (skipped ranks, misspelling, ...)
``tie``       two harmful responses share a rank: ordinal data like the others (used by alpha, kappa,
              tau-b, rho and the Friedman test); only statistics that need a strict order (exact match,
              rank-biased overlap, "most harmful") leave it out
``unscored``  unusable (wrong length, unreadable, out of range, refusal, empty); kept with its reason
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

NOT_HARMFUL = 0
N_RESPONSES = 3
NA_SPELLINGS = {"n/a", "na", "n.a.", "n.a", "none", "not harmful"}
#: Rankings with a strict order of the harmful responses (exact match, RBO, most-harmful counts).
STRICT_ORDER = ("ok", "repaired")
#: Every ranking with usable ranks, ties included (ordinal statistics, harmful / not harmful).
USABLE = ("ok", "repaired", "tie")
#: Columns and dtypes of the long rankings table, written by 00 and by every judging run.
LONG_COLUMNS = ["item_id", "prompt_id", "model", "rater", "rater_kind", "rank", "status", "reason",
                "source", "source_row"]
RANKINGS_DTYPES = {"item_id": str, "prompt_id": str, "model": str, "rater": str, "rater_kind": str,
                   "status": str, "reason": str, "source": str, "source_row": "Int64", "rank": "Int64"}


@dataclass(frozen=True)
class ParsedRanking:
    """Outcome of reading one written ranking."""

    ranks: tuple[int, ...] | None  # None when unscored
    status: str                    # ok | repaired | tie | unscored
    reason: str = ""               # why it was repaired / tied / unscored ("" when ok)

    @property
    def usable(self) -> bool:
        return self.status in USABLE


def check_ranks(values: list[int], *, repairs: list[str] | None = None) -> ParsedRanking:
    """Validate three integer ranks (0 = not harmful) and repair skipped numbers.

    Skipped ranks (``N/A,3,N/A`` or ``2,3,N/A``) are shifted down to start at 1, keeping their order,
    as the authors did; a tie among harmful ranks is kept as ``tie``; a rank above 3 or below 0 is
    unscored.
    """
    repairs = list(repairs or [])
    if len(values) != N_RESPONSES:
        return ParsedRanking(None, "unscored", f"wrong length ({len(values)} entries, expected 3)")
    bad = [v for v in values if v < 0 or v > N_RESPONSES]
    if bad:
        return ParsedRanking(None, "unscored", f"rank out of range: {bad[0]} (allowed N/A, 1-3)")
    harmful = sorted(v for v in values if v != NOT_HARMFUL)
    if len(set(harmful)) < len(harmful):
        # Kept as ordinal data, its distinct ranks made dense (2,2,N/A -> 1,1,N/A), as skipped ranks are.
        dense = {old: new for new, old in enumerate(sorted(set(harmful)), start=1)}
        return ParsedRanking(tuple(dense.get(v, NOT_HARMFUL) for v in values), "tie",
                             "tie: two harmful responses share a rank")
    expected = list(range(1, len(harmful) + 1))
    if harmful != expected:
        shift = {old: new for new, old in enumerate(harmful, start=1)}
        fixed = [shift.get(v, NOT_HARMFUL) for v in values]
        repairs.append(f"skipped ranks {_fmt(values)} shifted to {_fmt(fixed)}")
        values = fixed
    if repairs:
        return ParsedRanking(tuple(values), "repaired", "; ".join(repairs))
    return ParsedRanking(tuple(values), "ok", "")


def break_ties_by_position(ranks: tuple[int, ...]) -> tuple[int, ...]:
    """The authors' rule for a tied judge answer: harmful responses ordered by their written rank, ties
    by display position (earlier = lower), then numbered 1..k. ``(1, 1, 0)`` -> ``(1, 2, 0)``."""
    harmful = sorted((v, i) for i, v in enumerate(ranks) if v != NOT_HARMFUL)
    out = [NOT_HARMFUL] * len(ranks)
    for new, (_, i) in enumerate(harmful, start=1):
        out[i] = new
    return tuple(out)


def reverse_direction(parsed: ParsedRanking) -> ParsedRanking:
    """Turn a '1 = most harmful' ranking into ours (rank r of k harmful becomes k + 1 - r).

    Group 10 used the opposite direction; for three harmful responses this is the 1<->3 swap of SOURCE.md.
    """
    if parsed.ranks is None:
        return parsed
    k = sum(1 for v in parsed.ranks if v != NOT_HARMFUL)
    ranks = tuple(NOT_HARMFUL if v == NOT_HARMFUL else k + 1 - v for v in parsed.ranks)
    return ParsedRanking(ranks, parsed.status, parsed.reason)


def parse_token(token: str, repairs: list[str]) -> int | None:
    """One entry of a written ranking: a digit, an N/A spelling, or a near-miss of ``N/A``."""
    tok = token.strip().strip("'\"").strip()
    low = tok.lower()
    if re.fullmatch(r"\d+", tok):
        return int(tok)
    if low in NA_SPELLINGS:
        return NOT_HARMFUL
    # Misspellings such as "N/aA": accept only a close match to "n/a" and record it.
    if low and difflib.SequenceMatcher(None, low, "n/a").ratio() >= 0.75:
        repairs.append(f"misspelled {tok!r} read as N/A")
        return NOT_HARMFUL
    return None


def parse_ranking_cell(cell: object) -> ParsedRanking:
    """Read a student or expert ``Ranking`` cell in any form seen in the release.

    Accepted written forms: ``1,2,N/A``, ``"1,2,N/A"``, ``[3,1,2]``, spaces anywhere, ``NA`` for ``N/A``.
    Repaired (with reason): a trailing comma, a misspelled N/A, skipped ranks.  Unscored (with reason):
    empty, wrong length, unreadable entries, ranks out of range; a tie comes back as ``tie``.
    """
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ParsedRanking(None, "unscored", "empty ranking cell")
    text = str(cell).strip()
    if not text:
        return ParsedRanking(None, "unscored", "empty ranking cell")
    text = text.strip("\"'").strip().removeprefix("[").removesuffix("]").strip()
    repairs: list[str] = []
    tokens = [t for t in re.split(r"[,;]", text)]
    if len(tokens) > N_RESPONSES and all(not t.strip() for t in tokens[N_RESPONSES:]):
        tokens = tokens[:N_RESPONSES]
        repairs.append("trailing comma removed")
    if len(tokens) != N_RESPONSES:
        return ParsedRanking(None, "unscored", f"wrong length ({len(tokens)} entries, expected 3): {text!r}")
    values: list[int] = []
    for tok in tokens:
        value = parse_token(tok, repairs)
        if value is None:
            return ParsedRanking(None, "unscored", f"unreadable entry {tok.strip()!r}")
        values.append(value)
    return check_ranks(values, repairs=repairs)


def format_ranking(ranks: tuple[int, ...] | None) -> str:
    """The canonical written form, e.g. ``2,1,N/A`` (``unscored`` for None)."""
    return "unscored" if ranks is None else _fmt(ranks)


def _fmt(values) -> str:
    return ",".join("N/A" if v == NOT_HARMFUL else str(v) for v in values)


def ranking_rows(*, item_id: str, prompt_id: str, models, ranks, status: str, reason: str, rater: str,
                 rater_kind: str = "judge", source: str = "", source_row: int = 0, prompt: str | None = None) -> list[dict]:
    """One triple's ranking as rows of the long rankings table, one per model (``ranks`` in ``models``' order,
    or None when unscored); ``prompt`` only for the release's table (:data:`RELEASE_COLUMNS`). Every long
    rankings table — the release's, a listwise or pointwise judging run's, a learned judge's — is made of
    these rows by :func:`long_rankings`."""
    head = {"item_id": item_id, "prompt_id": prompt_id} | ({} if prompt is None else {"prompt": prompt})
    return [{**head, "model": model, "rater": rater, "rater_kind": rater_kind,
             "rank": None if ranks is None else ranks[k], "status": status, "reason": reason, "source": source,
             "source_row": source_row} for k, model in enumerate(models)]


#: The release's long table also keeps each triple's prompt text.
RELEASE_COLUMNS = LONG_COLUMNS[:2] + ["prompt"] + LONG_COLUMNS[2:]


def long_rankings(rows: list[dict], columns: list[str] = LONG_COLUMNS) -> "pd.DataFrame":
    """The long rankings table from :func:`ranking_rows`' rows (ranks as nullable integers)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    frame["rank"] = frame["rank"].astype("Int64")
    return frame


def read_rankings(path) -> "pd.DataFrame":
    """Read a long rankings table (``rankings_long.csv`` or a judging run's ``*_rankings.csv``)."""
    import pandas as pd

    return pd.read_csv(path, dtype=RANKINGS_DTYPES, keep_default_na=False, na_values={"rank": [""]})


def reason_counts(reasons) -> str:
    """``reason (count); …`` for the reasons of unscored rows, most frequent first (each cut to 80 characters)."""
    counts = reasons.fillna("").str.slice(0, 80).value_counts()
    return "; ".join(f"{r or 'no reason'} ({n})" for r, n in counts.items())
