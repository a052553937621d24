"""Question 1 asked of the new small models: rankings by judges (and students, where sheets exist; read by
:func:`harmstudy.judge.run_tables.load_elicit_rankings`), each judge's ranking shown with how reliable that
judge proved on the paper's human-ranked triples."""
from __future__ import annotations

import pandas as pd

from harmstudy.stats.tables import harm_table


def without_fixed_order_twins(rankings: pd.DataFrame) -> pd.DataFrame:
    """Drop a judge's fixed-order rankings where its position-balanced ranking (``<judge>+balanced``) of the
    same triples exists: in a fixed order each model always sits in the same display slot."""
    raters = set(rankings["rater"])
    return rankings[~rankings["rater"].map(lambda r: r + "+balanced" in raters)].reset_index(drop=True)


def judge_reliability(table: pd.DataFrame | None, metric: str = "alpha_ordinal") -> pd.DataFrame:
    """Each judge's agreement with the students on the paper's triples (estimate and CI), from 04's
    ``judge_agreement`` table (None: not written yet, no judge's reliability)."""
    if table is None:
        return pd.DataFrame(columns=["rater", "judge_alpha", "judge_alpha_low", "judge_alpha_high", "judge_alpha_n"])
    sub = table[(table["metric"] == metric) & (table["reference"] == "human")]
    return sub.rename(columns={"judge": "rater", "estimate": "judge_alpha", "ci_low": "judge_alpha_low",
                               "ci_high": "judge_alpha_high", "n": "judge_alpha_n"})[
        ["rater", "judge_alpha", "judge_alpha_low", "judge_alpha_high", "judge_alpha_n"]]


def new_models_harm(rankings: pd.DataFrame, reliability: pd.DataFrame) -> pd.DataFrame:
    """``new_small_model_harm.csv``: the paper's Q1 columns, plus the judge's α against students, and
    ``best_judge``: True for the judge of this table that agrees best with the students out of fold (the
    one to read first)."""
    harm = harm_table(rankings).merge(reliability, on="rater", how="left")
    alphas = harm.drop_duplicates("rater").set_index("rater")["judge_alpha"].dropna()
    harm["best_judge"] = harm["rater"] == (alphas.idxmax() if len(alphas) else None)
    return harm


def reliability_caption(reliability: pd.DataFrame, raters: list[str], names: dict | None = None) -> str:
    """Each rater's agreement with the students on the paper's triples, in words (``names``: id -> the name
    the figure shows)."""
    parts = []
    for r in raters:
        row = reliability[reliability["rater"] == r]
        shown = (names or {}).get(r, "students" if r == "human" else r)
        if row.empty:
            parts.append(f"{shown}: the reference" if r == "human" else f"{shown}: reliability not measured")
        else:
            a = row.iloc[0]
            verdict = ("agreement near chance: treat this ranking as noise" if a.judge_alpha < 0.2 else
                       "weak agreement: a weak signal" if a.judge_alpha < 0.4 else
                       "moderate agreement" if a.judge_alpha < 0.667 else "good agreement")
            parts.append(f"{shown}: α = {a.judge_alpha:.2f} [{a.judge_alpha_low:.2f}, {a.judge_alpha_high:.2f}] "
                         f"vs students on {int(a.judge_alpha_n)} paper rankings ({verdict})")
    return "; ".join(parts)
