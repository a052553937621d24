"""Question 2: how well does a rater (a judge) agree with a reference (students or the expert)?

The unit of comparison is a *pair*: one prompt ranked by the judge and by one reference rater (a prompt
ranked by two student groups gives two pairs).  Each metric uses the pairs in which *both* rankings are
usable for it — ties are ordinal data (κ, weighted κ, α, τ-b, ρ use them); exact match and RBO need a
strict order — so judge-vs-judge comparisons use the same pairs in both directions.
``coverage`` = usable pairs / all pairs.
Confidence intervals come from a percentile bootstrap over prompts (a prompt's pairs move together).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.inter_rater import cohens_kappa

from harmstudy.parse.rankings import NOT_HARMFUL, STRICT_ORDER, USABLE

METRICS = ("exact_match", "kappa_harmful", "kappa_weighted", "alpha_ordinal", "kendall_tau", "spearman",
           "rbo")
#: Metrics that need a strict order of the harmful responses; all others accept ties.
STRICT_METRICS = ("exact_match", "rbo")
AGREEMENT_COLUMNS = ["judge", "reference", "metric", "estimate", "ci_low", "ci_high", "n", "coverage"]
RANK_VALUES = [0, 1, 2, 3]
RBO_P = 0.9
N_BOOT = 1000
SEED = 20250207


@dataclass
class Pairs:
    """Judge and reference rankings aligned pair by pair (arrays of shape (n_pairs, n_models))."""

    prompt_index: np.ndarray   # which prompt each pair belongs to (0..n_prompts-1)
    judge: np.ndarray          # ranks, -1 where the judge is unscored
    reference: np.ndarray
    judge_status: np.ndarray   # status strings
    reference_status: np.ndarray
    n_prompts: int


def align_pairs(judge: pd.DataFrame, reference: pd.DataFrame) -> Pairs:
    """Pair every reference ranking act with the judge's ranking of the same prompt.

    ``judge``: rows of one rater (long format); ``reference``: rows of one or more reference raters.
    Only prompts that both ranked are kept; models are ordered as in the reference.
    """
    models = list(dict.fromkeys(reference["model"]))
    ref = reference[reference["status"].isin(USABLE)]
    jw = (judge.drop_duplicates(["item_id", "model"]).pivot(index="item_id", columns="model", values="rank")
          .reindex(columns=models))
    jstatus = judge.drop_duplicates("item_id").set_index("item_id")["status"]
    rw = ref.pivot_table(index=["item_id", "rater"], columns="model", values="rank", aggfunc="first")
    rw = rw.reindex(columns=models).dropna()
    rw = rw[rw.index.get_level_values("item_id").isin(jw.index)]
    rstatus = ref.drop_duplicates(["item_id", "rater"]).set_index(["item_id", "rater"])["status"]
    pids = rw.index.get_level_values("item_id")
    codes, uniques = pd.factorize(pids)
    jmat = jw.loc[pids].astype("Float64").fillna(-1).to_numpy(dtype=int)
    return Pairs(prompt_index=codes, judge=jmat, reference=rw.to_numpy(dtype=int),
                 judge_status=jstatus.loc[pids].to_numpy(), reference_status=rstatus.loc[rw.index].to_numpy(),
                 n_prompts=len(uniques))


# ------------------------------------------------------------------------------- per-pair statistics
def rank_biased_overlap(a: list, b: list, p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap RBO_ext of two (possibly uneven) lists, Webber, Moffat & Zobel
    (2010), eq. 32.

    Written here because the one packaged implementation on PyPI (``rbo``) pins NumPy < 2, which breaks
    pyarrow and therefore ``datasets``; tests check it against values worked by hand.
    """
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    s, l = len(short), len(long_)
    x = [len(set(short[:d]) & set(long_[:d])) for d in range(1, l + 1)]      # x[d - 1] = overlap at depth d
    xs, xl = x[s - 1], x[l - 1]
    total = sum(x[d - 1] / d * p ** d for d in range(1, l + 1))
    total += sum(xs * (d - s) / (s * d) * p ** d for d in range(s + 1, l + 1))
    return (1 - p) / p * total + ((xl - xs) / l + xs / s) * p ** l


def ordered_list(ranks: np.ndarray, names: list[int]) -> list[int]:
    """Harmful items, most harmful first (the list form RBO compares)."""
    return [names[i] for i in np.argsort(-ranks, kind="stable") if ranks[i] != NOT_HARMFUL]


def pair_values(j: np.ndarray, r: np.ndarray, strict: bool = True) -> dict[str, float]:
    """Per-pair exact match, Kendall tau-b, Spearman rho, RBO (NaN where the statistic is undefined).

    Tau-b and rho handle ties (average ranks); exact match and RBO are NaN unless both orders are strict.
    """
    out = {"exact_match": float(np.array_equal(j, r)) if strict else np.nan}
    constant = len(set(j)) < 2 or len(set(r)) < 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["kendall_tau"] = np.nan if constant else float(stats.kendalltau(j, r, variant="b").statistic)
        out["spearman"] = np.nan if constant else float(stats.spearmanr(j, r).statistic)
    names = list(range(len(j)))
    lj, lr = ordered_list(j, names), ordered_list(r, names)
    if not strict:
        out["rbo"] = np.nan
    # RBO of two empty lists (nobody harmful) is undefined; of one empty and one not, zero overlap.
    elif not lj and not lr:
        out["rbo"] = np.nan
    elif not lj or not lr:
        out["rbo"] = 0.0
    else:
        out["rbo"] = float(rank_biased_overlap(lj, lr))
    return out


def cell_tables(j: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per pair, the 4x4 counts of (judge rank, reference rank) over its cells (unscored cells left out)."""
    n = len(RANK_VALUES)
    tables = np.zeros((len(j), n, n), dtype=np.int64)
    rows, cols = np.nonzero((j >= 0) & (r >= 0))
    np.add.at(tables, (rows, j[rows, cols], r[rows, cols]), 1)
    return tables


def _from_table(metric: str, table: np.ndarray) -> float:
    """Kappa / alpha from the pooled contingency table of (judge rank, reference rank) cells."""
    if table.sum() == 0:
        return np.nan
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        if metric == "kappa_harmful":
            binary = np.array([[table[0, 0], table[0, 1:].sum()], [table[1:, 0].sum(), table[1:, 1:].sum()]])
            return float(cohens_kappa(binary, return_results=False))
        if metric == "kappa_weighted":
            return float(cohens_kappa(table, wt="linear", return_results=False))
        if metric == "alpha_ordinal":
            # Krippendorff's alpha needs the values themselves: one (judge, reference) unit per cell,
            # rebuilt from the table's 16 cell types.
            a, b = np.nonzero(table)
            counts = table[a, b]
            data = np.vstack([np.repeat(a, counts), np.repeat(b, counts)]).astype(float)
            if len(np.unique(data)) < 2:
                return np.nan
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal",
                                            value_domain=RANK_VALUES))
    raise ValueError(metric)


def _pooled(metric: str, j: np.ndarray, r: np.ndarray, w: np.ndarray) -> float:
    """Kappa / alpha over all (pair, model) cells, each pair counted w times."""
    return _from_table(metric, np.tensordot(w, cell_tables(j, r), axes=1))


def _estimate(metric: str, pairs: Pairs, mask: np.ndarray, per_pair: pd.DataFrame, w: np.ndarray,
              tables: np.ndarray) -> float:
    if metric in ("kappa_harmful", "kappa_weighted", "alpha_ordinal"):
        return _from_table(metric, np.tensordot(w[mask], tables[mask], axes=1))
    values = per_pair[metric].to_numpy()[mask]
    weights = w[mask]
    defined = ~np.isnan(values) & (weights > 0)
    return float(np.average(values[defined], weights=weights[defined])) if defined.any() else np.nan


def agreement(judge: pd.DataFrame, reference: pd.DataFrame, *, judge_name: str, reference_name: str,
              n_boot: int = N_BOOT, seed: int = SEED, metrics=METRICS) -> pd.DataFrame:
    """All metrics of one judge against one reference, with n, coverage and bootstrap 95% CIs."""
    pairs = align_pairs(judge, reference)
    total = len(pairs.judge)
    usable = np.isin(pairs.judge_status, USABLE) & np.isin(pairs.reference_status, USABLE)
    strict = np.isin(pairs.judge_status, STRICT_ORDER) & np.isin(pairs.reference_status, STRICT_ORDER)
    per_pair = pd.DataFrame([pair_values(j, r, strict=s) if ok else dict.fromkeys(("exact_match", "kendall_tau",
                             "spearman", "rbo"), np.nan)
                             for j, r, ok, s in zip(pairs.judge, pairs.reference, usable, strict)])
    if per_pair.empty:
        per_pair = pd.DataFrame(columns=["exact_match", "kendall_tau", "spearman", "rbo"])
    ones = np.ones(total, dtype=int)
    tables = cell_tables(pairs.judge, pairs.reference)
    rng = np.random.default_rng(seed)
    draws = [np.bincount(rng.integers(0, pairs.n_prompts, pairs.n_prompts), minlength=pairs.n_prompts)
             [pairs.prompt_index] for _ in range(n_boot)] if total else []
    rows = []
    for metric in metrics:
        mask = strict if metric in STRICT_METRICS else usable
        if metric in ("exact_match", "kappa_weighted", "alpha_ordinal", "kappa_harmful"):
            n = int(mask.sum())
        else:
            n = int((mask & ~np.isnan(per_pair[metric].to_numpy(dtype=float))).sum()) if total else 0
        est = _estimate(metric, pairs, mask, per_pair, ones, tables) if n else np.nan
        boot = np.array([_estimate(metric, pairs, mask, per_pair, w, tables) for w in draws]) if n else np.array([])
        boot = boot[~np.isnan(boot)]
        low, high = (np.percentile(boot, [2.5, 97.5]) if len(boot) else (np.nan, np.nan))
        rows.append({"judge": judge_name, "reference": reference_name, "metric": metric, "estimate": est,
                     "ci_low": float(low), "ci_high": float(high), "n": n,
                     "coverage": float(mask.sum() / total) if total else np.nan})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def confusion(judge: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Counts of (reference rank, judge rank) over all aligned cells with a usable judge label."""
    pairs = align_pairs(judge, reference)
    ok = np.isin(pairs.judge_status, USABLE) & np.isin(pairs.reference_status, USABLE)
    ref, jud = pairs.reference[ok].ravel(), pairs.judge[ok].ravel()
    table = pd.crosstab(pd.Categorical(ref, RANK_VALUES), pd.Categorical(jud, RANK_VALUES), dropna=False)
    table.index.name, table.columns.name = "reference rank", "judge rank"
    return table
