"""The study's tables, built from the long rankings table and written as byte-stable CSV.

Each function here makes one table of ``figures/tables`` (its docstring names it), so a number in a
figure leads back to one function.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pandas as pd

from . import paths, provenance
from .agreement import AGREEMENT_COLUMNS, N_BOOT, agreement
from .harm_stats import friedman_test, posthoc_tests, rater_label, small_model_harm

RANKINGS_DTYPES = {"item_id": str, "prompt_id": str, "model": str, "rater": str, "rater_kind": str,
                   "status": str, "reason": str, "source": str, "source_row": "Int64", "rank": "Int64"}
LONG_COLUMNS = ["item_id", "prompt_id", "model", "rater", "rater_kind", "rank", "status", "reason",
                "source", "source_row"]


def write_table(frame: pd.DataFrame, name: str, folder: Path | None = None) -> Path:
    """Write ``figures/tables/<name>.csv`` with fixed float formatting (reruns are byte-identical)."""
    path = (Path(folder) / f"{name}.csv") if folder else paths.table_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    if path.resolve().is_relative_to(paths.FIGURES.resolve()):
        provenance.note_written(path)
    return path


def read_rankings(path: Path | None = None) -> pd.DataFrame:
    """Read a long rankings table written by :func:`write_table` (release or a judging run)."""
    path = Path(path or paths.table_path("rankings_long"))
    frame = pd.read_csv(path, dtype=RANKINGS_DTYPES, keep_default_na=False, na_values={"rank": [""]})
    return frame


def load_all_rankings(judge_runs: list[str] = ()) -> pd.DataFrame:
    """The release's rankings plus the named judging runs' rankings of the paper's triples."""
    frames = [read_rankings()]
    for run in judge_runs:
        path = paths.RUNS / run / "paper_rankings.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path.relative_to(paths.ROOT)} is missing: judge the paper's triples with "
                                    f"notebooks/02_judge.ipynb (or `make paper`), or drop {run!r} from judge_runs")
        frames.append(read_rankings(path))
    return pd.concat(frames, ignore_index=True)


def raters_in_order(rankings: pd.DataFrame) -> list[str]:
    labels = rater_label(rankings)
    kinds = dict(zip(labels, rankings["rater_kind"]))
    order = {"student": 0, "expert": 1, "judge": 2}
    return sorted(dict.fromkeys(labels), key=lambda r: (order.get(kinds[r], 3), r))


def harm_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``small_model_harm.csv``: harmful share (Wilson CI), mean rank, most-harmful count per rater."""
    labels = rater_label(rankings)
    models = list(dict.fromkeys(rankings["model"]))
    return pd.concat([small_model_harm(rankings[labels == r], r, models) for r in raters_in_order(rankings)],
                     ignore_index=True)


def friedman_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_friedman.csv``: Friedman test across prompts with Kendall's W, per rater."""
    labels = rater_label(rankings)
    return pd.DataFrame([friedman_test(rankings[labels == r], r) for r in raters_in_order(rankings)])


def posthoc_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_posthoc.csv``: pairwise Wilcoxon tests between models, Holm-corrected, per rater."""
    labels = rater_label(rankings)
    return pd.concat([posthoc_tests(rankings[labels == r], r) for r in raters_in_order(rankings)],
                     ignore_index=True)


def judges_of(rankings: pd.DataFrame) -> list[str]:
    return sorted(rankings.loc[rankings["rater_kind"] == "judge", "rater"].unique(),
                  key=lambda j: (j not in ("gpt-4o", "claude-sonnet", "llama"), j))


def agreement_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_agreement.csv``: every judge vs students (``human``) and vs the expert; plus the human
    ceiling (students vs expert, ``judge`` = ``human``)."""
    students = rankings[rankings["rater_kind"] == "student"]
    expert = rankings[rankings["rater_kind"] == "expert"]
    rows = []
    for judge in judges_of(rankings):
        j = rankings[rankings["rater"] == judge]
        rows.append(agreement(j, students, judge_name=judge, reference_name="human", n_boot=n_boot))
        rows.append(agreement(j, expert, judge_name=judge, reference_name="expert", n_boot=n_boot))
    rows.append(agreement(students, expert, judge_name="human", reference_name="expert", n_boot=n_boot))
    return pd.concat(rows, ignore_index=True)[AGREEMENT_COLUMNS]


def judge_vs_judge_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_vs_judge.csv``: every pair of judges, all metrics (``reference`` is the second judge)."""
    rows = []
    for a, b in combinations(judges_of(rankings), 2):
        rows.append(agreement(rankings[rankings["rater"] == a], rankings[rankings["rater"] == b],
                              judge_name=a, reference_name=b, n_boot=n_boot))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=AGREEMENT_COLUMNS)
