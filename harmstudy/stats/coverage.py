"""Does a 95% interval over 17 student sheets cover 95%? A simulation with a known answer.

Synthetic sheets like the paper's (17 sheets of 60 triples): each response has a latent harm; a sheet's
students call harmful above a threshold of their own (``sheet_sd``: the sheets' habits differ, as the
paper's harmful share per sheet runs from 33% to 80%), and rank the harmful ones by latent harm plus noise.
Two judges A and B see the same latent harm through noise of the same law, so their true difference in α
is 0; ``judge_sd`` makes each judge's noise larger on some sheets than on others (agreement that varies by
sheet: the within-sheet correlation of the judge's errors). Each replicate draws a new study and asks whether
each method's 95% interval of α(A) − α(B) holds 0:

- ``prompt``: the percentile bootstrap over prompts (what the study reported before);
- ``sheet-one-stage``: percentile bootstrap over sheets, all of a drawn sheet's prompts;
- ``sheet-two-stage``: sheets drawn, then prompts drawn within each drawn sheet;
- ``sheet-jackknife-t``: θ ± t_{0.975, k−1} · the leave-one-sheet-out standard error (t(16) for 17 sheets).

(Names and scenarios carry no comma: the README's table references filter on them.)

Written here because no library bootstraps a clustered statistic of this form (the kernels of
:mod:`harmstudy.stats.bootstrap` do the arithmetic; scipy gives the t quantile).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harmstudy.stats import bootstrap
from harmstudy.stats.agreement import _from_tables, cell_tables

METHODS = ("prompt", "sheet-one-stage", "sheet-two-stage", "sheet-jackknife-t")
COVERAGE_COLUMNS = ["scenario", "sheet_sd", "judge_sd", "method", "nominal", "coverage", "coverage_low",
                    "coverage_high", "mean_width", "replicates", "n_boot", "sheets", "prompts_per_sheet",
                    "mean_alpha"]


def _ranks(score: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Ranks 0 (not harmful) or 1..k (the k harmful responses of a triple, most harmful highest)."""
    harmful = score > threshold[:, None]
    order = np.argsort(np.argsort(np.where(harmful, score, -np.inf), axis=1), axis=1)   # 0..2 by score
    return np.where(harmful, order - (~harmful).sum(axis=1, keepdims=True) + 1, 0)


def synthetic_study(rng: np.random.Generator, sheets: int = 17, per_sheet: int = 60, sheet_sd: float = 0.5,
                    judge_sd: float = 0.3, noise: float = 0.8) -> dict[str, np.ndarray]:
    """One synthetic study: per prompt the students' ranks, judges A's and B's (prompts, 3), and its sheet."""
    n = sheets * per_sheet
    sheet = np.repeat(np.arange(sheets), per_sheet)
    harm = rng.normal(size=(n, 3))
    habit = rng.normal(0, sheet_sd, sheets)[sheet]
    students = _ranks(harm + rng.normal(0, 0.5, (n, 3)), habit)
    out = {"students": students, "sheet": sheet}
    for name in ("A", "B"):
        scale = noise * np.exp(rng.normal(0, judge_sd, sheets))[sheet]
        out[name] = _ranks(harm + rng.normal(size=(n, 3)) * scale[:, None], np.zeros(n) + 0.3)
    return out


def _alpha_difference(W: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
    return (_from_tables("alpha_ordinal", np.tensordot(W, ta, axes=1))
            - _from_tables("alpha_ordinal", np.tensordot(W, tb, axes=1)))


def intervals(study: dict, rng: np.random.Generator, n_boot: int) -> dict[str, tuple[float, float]]:
    """Each method's 95% interval of α(A) − α(B) on one study."""
    sheet = study["sheet"]
    k, n = sheet.max() + 1, len(sheet)
    per_sheet = n // k
    ta, tb = cell_tables(study["A"], study["students"]), cell_tables(study["B"], study["students"])
    out = {}
    W = bootstrap.counts(rng.integers(0, n, (n_boot, n)), n)
    out["prompt"] = bootstrap.percentile_ci(_alpha_difference(W, ta, tb))
    W = bootstrap.counts(rng.integers(0, k, (n_boot, k)), k)[:, sheet]
    out["sheet-one-stage"] = bootstrap.percentile_ci(_alpha_difference(W, ta, tb))
    drawn = rng.integers(0, k, (n_boot, k))                               # sheets, then prompts within each
    within = drawn[:, :, None] * per_sheet + rng.integers(0, per_sheet, (n_boot, k, per_sheet))
    W = bootstrap.counts(within.reshape(n_boot, -1), n)
    out["sheet-two-stage"] = bootstrap.percentile_ci(_alpha_difference(W, ta, tb))
    theta = float(_alpha_difference(np.ones((1, n)), ta, tb)[0])
    loo = _alpha_difference((sheet[None, :] != np.arange(k)[:, None]).astype(float), ta, tb)
    se = np.sqrt((k - 1) / k * ((loo - loo.mean()) ** 2).sum())
    t = stats.t.ppf(0.975, k - 1)
    out["sheet-jackknife-t"] = (theta - t * se, theta + t * se)
    return out


#: scenario -> (sheet_sd, judge_sd)
SCENARIOS = {"sheets alike": (0.0, 0.0), "sheet habits": (0.5, 0.0), "habits and agreement vary": (0.5, 0.3),
             "strong sheet effects": (0.8, 0.5)}


def coverage_table(replicates: int = 200, n_boot: int = 400, seed: int = 20250207, sheets: int = 17,
                   per_sheet: int = 60, scenarios: dict | None = None) -> pd.DataFrame:
    """``ci_coverage.csv``: per scenario (``sheet_sd``, ``judge_sd``) and method, the share of replicates whose
    nominal 95% interval of a true difference of 0 holds 0 (with its Wilson 95% interval over replicates, from
    statsmodels), and the mean width; ``mean_alpha`` is judge A's mean α against the students."""
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(seed)
    rows = []
    for scenario, (sheet_sd, judge_sd) in (scenarios or SCENARIOS).items():
        hits = {m: 0 for m in METHODS}
        widths = {m: [] for m in METHODS}
        alphas = []
        for _ in range(replicates):
            study = synthetic_study(rng, sheets, per_sheet, sheet_sd, judge_sd)
            alphas.append(float(_from_tables("alpha_ordinal", cell_tables(study["A"], study["students"]).sum(0)[None])[0]))
            for method, (low, high) in intervals(study, rng, n_boot).items():
                hits[method] += int(low <= 0 <= high)
                widths[method].append(high - low)
        for method in METHODS:
            low, high = proportion_confint(hits[method], replicates, alpha=0.05, method="wilson")
            rows.append({"scenario": scenario, "sheet_sd": sheet_sd, "judge_sd": judge_sd, "method": method,
                         "nominal": 0.95, "coverage": hits[method] / replicates, "coverage_low": low,
                         "coverage_high": high, "mean_width": float(np.mean(widths[method])),
                         "replicates": replicates, "n_boot": n_boot, "sheets": sheets,
                         "prompts_per_sheet": per_sheet, "mean_alpha": float(np.mean(alphas))})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
