"""Question 1: do the small models differ in how harmful their responses are?

Input is the long rankings table (see :mod:`harmstudy.release`); every function takes the rows of one
rater label (``human`` = all student groups pooled, ``expert``, or a judge's name).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import pingouin as pg
from statsmodels.stats.proportion import proportion_confint

from harmstudy.parse.rankings import USABLE, STRICT_ORDER
from harmstudy.stats import bootstrap

HARM_COLUMNS = ["rater", "model", "n", "harmful_share", "ci_low", "ci_high", "mean_rank",
                "most_harmful_count", "ci_unit"]
N_BOOT = 1000
SEED = 20250207


def rater_label(rankings: pd.DataFrame) -> pd.Series:
    """``human`` for any student group, otherwise the rater's own name."""
    return rankings["rater"].where(rankings["rater_kind"] != "student", "human")


def with_units(rankings: pd.DataFrame) -> pd.DataFrame:
    """Add ``unit`` = one ranking act (prompt x individual rater), the subject of the Friedman test."""
    out = rankings.copy()
    out["unit"] = out["item_id"] + "|" + out["rater"]
    return out


def share_by_sheet(harmful: np.ndarray, sheet: np.ndarray, n_boot: int = N_BOOT, seed: int = SEED
                   ) -> tuple[float, float]:
    """The percentile 95% CI of a share (``harmful``: 0/1 per row) over resampled sheets: a resample draws the
    sheets with replacement (:func:`harmstudy.stats.bootstrap.seeded_counts`, sheets in sorted order, as the
    agreement CIs draw them) and its share is Σ w_s h_s / Σ w_s n_s over the sheets' harmful and all rows."""
    labels = sorted(pd.unique(sheet))
    codes = pd.Categorical(sheet, categories=labels).codes
    h = np.bincount(codes, weights=np.asarray(harmful, dtype=float), minlength=len(labels))
    n = np.bincount(codes, minlength=len(labels)).astype(float)
    W = bootstrap.seeded_counts(seed, len(labels), n_boot)
    return bootstrap.percentile_ci((W @ h) / (W @ n))


def small_model_harm(rankings: pd.DataFrame, rater: str, models: list[str] | None = None,
                     clusters: pd.Series | None = None) -> pd.DataFrame:
    """Harmful share with a 95% CI, mean rank and most-harmful count per model, for one rater label.

    The CI resamples student sheets (:func:`share_by_sheet`; ``ci_unit`` = ``sheet``) where ``clusters``
    (item_id -> sheet) gives every row's sheet and there are at least two (a student row is its own group's);
    otherwise it is Wilson's over rows (``ci_unit`` = ``response (Wilson)``).

    ``n`` and ``mean_rank`` (0 = not harmful) use every usable ranking, ties included;
    ``most_harmful_count`` only rankings with a strict order (a tie at the top names no single model).
    """
    rows = with_units(rankings)
    models = models or list(dict.fromkeys(rows["model"]))
    binary = rows[rows["status"].isin(USABLE)]
    top = most_harmful(rows[rows["status"].isin(STRICT_ORDER)])
    out = []
    for model in models:
        b = binary[binary["model"] == model]
        n = len(b)
        harmful = int((b["rank"] > 0).sum())
        sheet = None
        if clusters is not None and n:
            sheet = b["rater"].where(b["rater_kind"] == "student", b["item_id"].map(clusters))
            sheet = sheet.to_numpy(dtype=object) if sheet.notna().all() and sheet.nunique() > 1 else None
        if sheet is not None:
            (low, high), unit = share_by_sheet((b["rank"] > 0).to_numpy(), sheet), "sheet"
        else:
            low, high = proportion_confint(harmful, n, alpha=0.05, method="wilson") if n else (float("nan"),) * 2
            unit = "response (Wilson)"
        out.append({"rater": rater, "model": model, "n": n,
                    "harmful_share": harmful / n if n else float("nan"), "ci_low": low, "ci_high": high,
                    "mean_rank": float(b["rank"].astype(float).mean()) if n else float("nan"),
                    "most_harmful_count": int((top == model).sum()), "ci_unit": unit})
    return pd.DataFrame(out, columns=HARM_COLUMNS)


def most_harmful(ordered: pd.DataFrame) -> pd.Series:
    """For each ranking act with at least one harmful response, the model ranked most harmful."""
    harmful = ordered[ordered["rank"] > 0]
    idx = harmful.groupby("unit")["rank"].idxmax()
    return harmful.loc[idx, "model"]


def complete_units(rankings: pd.DataFrame) -> pd.DataFrame:
    """Usable rankings (ties included: the Friedman test ranks within a unit with average ranks and
    corrects for ties) of ranking acts that rank every model (what a repeated-measures test needs)."""
    rows = with_units(rankings)
    rows = rows[rows["status"].isin(USABLE)].copy()
    n_models = rows["model"].nunique()
    counts = rows.groupby("unit")["model"].transform("nunique")
    rows = rows[counts == n_models].copy()
    rows["rank"] = rows["rank"].astype(float)
    return rows


@dataclass(frozen=True)
class FriedmanResult:
    """:func:`friedman_test` of one rater: the units (ranking acts) in the test, Kendall's W, Friedman's
    chi-square ``Q`` with its degrees of freedom, and its p; one row of ``q1_friedman.csv``."""

    rater: str
    n_units: int
    W: float
    Q: float
    dof: int
    p: float


def friedman_test(rankings: pd.DataFrame, rater: str) -> FriedmanResult:
    """Friedman chi-square across prompts (subjects = ranking acts) with Kendall's W (pingouin)."""
    rows = complete_units(rankings)
    res = pg.friedman(data=rows, dv="rank", within="model", subject="unit")
    rec = res.iloc[0]
    return FriedmanResult(rater=rater, n_units=rows["unit"].nunique(), W=float(rec["W"]), Q=float(rec["Q"]),
                          dof=int(rec["ddof1"]), p=float(rec["p_unc"] if "p_unc" in rec else rec["p-unc"]))


def posthoc_tests(rankings: pd.DataFrame, rater: str) -> pd.DataFrame:
    """Pairwise Wilcoxon signed-rank tests between models, Holm-corrected (pingouin). A rater that ranks two
    models apart in fewer than two units gets no test (W and p empty): the signed-rank test drops the units
    where they tie and needs two that remain (scipy refuses fewer), and Holm's correction needs every pair."""
    rows = complete_units(rankings)
    wide = rows.pivot_table(index="unit", columns="model", values="rank")
    pairs = list(combinations(wide.columns, 2))
    if any(((wide[a] - wide[b]).fillna(0) != 0).sum() < 2 for a, b in pairs):
        return pd.DataFrame([{"rater": rater, "A": a, "B": b, "W_val": np.nan, "p_unc": np.nan, "p_corr": np.nan}
                             for a, b in pairs])
    res = pg.pairwise_tests(data=rows, dv="rank", within="model", subject="unit", parametric=False,
                            padjust="holm")
    res = res.rename(columns={"p-unc": "p_unc", "p-corr": "p_corr", "W-val": "W_val"})
    keep = [c for c in ["A", "B", "W_val", "p_unc", "p_corr"] if c in res.columns]
    out = res[keep].copy()
    out.insert(0, "rater", rater)
    return out
