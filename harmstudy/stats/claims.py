"""The study's primary claims, named before any number is read, and their family's error rate.

The README words a handful of comparisons. Chosen after looking at 840 paired differences, each with its
own 95% CI, they would claim more than the data hold; so the comparisons the study claims in words are
named here, as a fixed list, and their bootstrap p-values (:func:`harmstudy.stats.agreement.bootstrap_p`,
over the same sheet resamples as their CIs) are Holm-adjusted as one family (statsmodels' ``multipletests``).
A claim's word (*above* / *below*) needs its adjusted p under 0.05; otherwise it is *level with*. Every other
row of ``judge_differences.csv`` is ``family = exploratory``.

The best offline judge is fixed by name in :mod:`harmstudy.headline`: ``learned-tfidf+embed+distilled``, today's best of
``feature_decision.csv`` (the learned judge with the highest out-of-fold α among those on the run's own
embedding model). That choice was made on the same α it is scored by — a selection, not a nested choice.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from harmstudy.headline import BEST_OFFLINE

PAPER_JUDGES = ("claude-sonnet", "gpt-4o", "llama")
LEVEL = 0.05
#: (name, judge, other, reference, metric) of every paired difference the study claims in words (judge − other).
PAIRED = (
    ("claude_vs_gpt4o", "claude-sonnet", "gpt-4o", "human", "alpha_ordinal"),
    ("claude_vs_llama", "claude-sonnet", "llama", "human", "alpha_ordinal"),
    ("gpt4o_vs_llama", "gpt-4o", "llama", "human", "alpha_ordinal"),
    ("claude_vs_best_offline", "claude-sonnet", BEST_OFFLINE, "human", "alpha_ordinal"),
    ("gpt4o_vs_best_offline", "gpt-4o", BEST_OFFLINE, "human", "alpha_ordinal"),
    ("llama_vs_best_offline", "llama", BEST_OFFLINE, "human", "alpha_ordinal"),
)
#: (name, judge) of every judge set against the students' ceiling like for like (``judge_ceiling.csv``).
CEILING = (
    ("claude_vs_ceiling", "claude-sonnet"),
    ("gpt4o_vs_ceiling", "gpt-4o"),
    ("llama_vs_ceiling", "llama"),
    ("best_offline_vs_ceiling", BEST_OFFLINE),
)
CLAIM_COLUMNS = ["name", "judge", "other", "reference", "metric", "estimate", "ci_low", "ci_high", "ci_unit",
                 "p_boot", "p_holm", "word", "adjustment"]


def with_family(differences: pd.DataFrame) -> pd.DataFrame:
    """``judge_differences.csv`` with ``family``: ``primary`` on the rows :data:`PAIRED` names (in either
    order), ``exploratory`` on every other."""
    named = {(j, o, r, m) for _, j, o, r, m in PAIRED} | {(o, j, r, m) for _, j, o, r, m in PAIRED}
    out = differences.copy()
    keys = zip(out["judge"], out["other"], out["reference"], out["metric"])
    out["family"] = ["primary" if k in named else "exploratory" for k in keys]
    return out


def holm_word(estimate: float, p_holm: float) -> str:
    """*above* / *below* where the family-adjusted p is under :data:`LEVEL` (on the estimate's side),
    *level with* otherwise."""
    if np.isnan(p_holm) or p_holm >= LEVEL:
        return "level with"
    return "above" if estimate > 0 else "below"


def claims_table(differences: pd.DataFrame, ceiling: pd.DataFrame) -> pd.DataFrame:
    """``claims.csv``: one row per named claim, its estimate (judge − other), CI, bootstrap p, Holm-adjusted
    p over the whole family and the word that p allows. A claim whose row is missing (a judge not run) is
    left out of the family, and says so in ``word``."""
    rows = []
    for name, judge, other, reference, metric in PAIRED:
        d = differences[(differences["reference"] == reference) & (differences["metric"] == metric)]
        r, sign = d[(d["judge"] == judge) & (d["other"] == other)], 1
        if r.empty:
            r, sign = d[(d["judge"] == other) & (d["other"] == judge)], -1
        row = {"name": name, "judge": judge, "other": other, "reference": reference, "metric": metric}
        if len(r):
            r = r.iloc[0]
            low, high = sorted([sign * r["ci_low"], sign * r["ci_high"]])
            row.update(estimate=sign * r["difference"], ci_low=low, ci_high=high, ci_unit=r["ci_unit"],
                       p_boot=r["p_boot"])
        rows.append(row)
    for name, judge in CEILING:
        r = ceiling[ceiling["judge"] == judge]
        row = {"name": name, "judge": judge, "other": "human", "reference": "expert", "metric": "alpha_ordinal"}
        if len(r):
            r = r.iloc[0]
            row.update(estimate=r["difference"], ci_low=r["ci_low"], ci_high=r["ci_high"], ci_unit=r["ci_unit"],
                       p_boot=r["p_boot"])
        rows.append(row)
    table = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    known = table["p_boot"].notna()
    table["p_holm"] = np.nan
    if known.any():
        table.loc[known, "p_holm"] = multipletests(table.loc[known, "p_boot"].astype(float), method="holm")[1]
    table["word"] = [holm_word(e, p) if k else "not measured" for e, p, k in
                     zip(table["estimate"].astype(float), table["p_holm"].astype(float), known)]
    table["adjustment"] = f"holm over {int(known.sum())} claims"
    return table
