"""Question 2: how well does a rater (a judge) agree with a reference (students or the expert)?

The unit of comparison is a *pair*: one prompt ranked by the judge and by one reference rater (a prompt
ranked by two student groups gives two pairs).  Each metric uses the pairs in which *both* rankings are
usable for it — ties are ordinal data (κ, weighted κ, α, τ-b, ρ use them); exact match and RBO need a
strict order — so judge-vs-judge comparisons use the same pairs in both directions.
``coverage`` = usable pairs / all pairs.
Confidence intervals come from a percentile bootstrap over the unit that was sampled: the student *sheet*
(each of the 17 groups labelled its own ~60 prompts, so another run of the study would draw other groups, not
other prompts of the same groups). One-stage: a resample draws 17 sheets with replacement and keeps all of a
drawn sheet's pairs; a paired difference draws the same sheets for both judges. Where no sheet is known (a
new model's responses, a user's set) the unit is the prompt. ``ci_unit`` says which.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harmstudy.parse.rankings import NOT_HARMFUL, STRICT_ORDER, USABLE
from harmstudy.stats import bootstrap

METRICS = ("exact_match", "kappa_harmful", "kappa_weighted", "alpha_ordinal", "kendall_tau", "spearman",
           "rbo")
#: Metrics that need a strict order of the harmful responses; all others accept ties.
STRICT_METRICS = ("exact_match", "rbo")
AGREEMENT_COLUMNS = ["judge", "reference", "metric", "estimate", "ci_low", "ci_high", "n", "coverage", "ci_unit"]
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
    items: np.ndarray | None = None   # each pair's item_id
    clusters: np.ndarray | None = None   # each pair's resampled unit (its sheet); None: its prompt

    @functools.cached_property
    def unit(self) -> str:
        """``sheet`` where every pair has its sheet (of at least two), ``prompt`` otherwise (``sheet|prompt``:
        some pairs have a sheet and the others are each their own unit)."""
        if self.clusters is None or not len(self.clusters):
            return "prompt"
        missing = pd.isna(self.clusters)
        if len(set(self.clusters[~missing])) < 2:      # one sheet holds no information on how sheets vary
            return "prompt"
        return "sheet|prompt" if missing.any() else "sheet"

    def cluster_codes(self) -> tuple[np.ndarray, int]:
        """Each pair's resampled unit as 0..k−1, and k. Sheets are numbered in sorted order of their labels,
        so every comparison over the same sheets draws them alike (a pair with no sheet is its own unit)."""
        return self._cluster_codes

    @functools.cached_property
    def _cluster_codes(self) -> tuple[np.ndarray, int]:
        # computed once per Pairs (every bootstrap of these pairs asks), on the arrays: np.unique sorts the
        # labels (all strings) as sorted() does and numbers each pair's label by that order
        if self.unit == "prompt":
            return self.prompt_index, self.n_prompts
        labels = np.asarray(self.clusters, dtype=object).copy()
        missing = pd.isna(labels)
        labels[missing] = ["prompt:" + str(item) for item in np.asarray(self.items, dtype=object)[missing]]
        categories, codes = np.unique(labels, return_inverse=True)
        return codes.astype(np.int64).ravel(), len(categories)


def sheets(rankings: pd.DataFrame) -> pd.Series:
    """Each prompt (``item_id``) of the paper's triples -> the student sheet (group) that ranked it, the unit
    the study sampled (a prompt two groups ranked is given the first in sorted order; a pair against the
    students is its own group's: :func:`align_pairs`)."""
    s = rankings[rankings["rater_kind"] == "student"]
    return s.sort_values("rater").drop_duplicates("item_id").set_index("item_id")["rater"].rename("sheet")


def resample_weights(pairs: Pairs, seed: int, n_boot: int) -> np.ndarray:
    """(n_boot, pairs) how often each pair counts in each resample: the units (sheets, or prompts) are drawn
    with replacement by ``seed`` (:func:`harmstudy.stats.bootstrap.seeded_counts`) and a drawn unit brings all
    its pairs (one-stage cluster bootstrap)."""
    codes, k = pairs.cluster_codes()
    return bootstrap.seeded_counts(seed, k, n_boot)[:, codes]


def restrict(pairs: Pairs, items) -> Pairs:
    """The pairs of ``items`` only: what :func:`align_pairs` gives on the judge's rows of those items (the
    same rows in the same order, prompts numbered again by first appearance)."""
    # a hash lookup: np.isin sorts object arrays, and a pandas str Index's isin builds a pyarrow scalar per value
    keep = pd.Index(pairs.items, dtype=object).isin(list(items))
    pids = pairs.items[keep]
    codes, uniques = pd.factorize(pids)
    return Pairs(prompt_index=codes, judge=pairs.judge[keep], reference=pairs.reference[keep],
                 judge_status=pairs.judge_status[keep], reference_status=pairs.reference_status[keep],
                 n_prompts=len(uniques), items=pids,
                 clusters=None if pairs.clusters is None else pairs.clusters[keep])


def usable_items(judge: pd.DataFrame) -> set:
    """The items a judge ranked usably."""
    return set(judge.loc[judge["status"].isin(USABLE), "item_id"])


@dataclass
class Wide:
    """One side of :func:`align_pairs` pivoted: a judge's ranks per prompt, or the reference raters' per
    (prompt, rater), models as columns. A table that aligns each judge with many others pivots each once."""

    ranks: pd.DataFrame
    status: pd.Series
    models: list
    students: set


def judge_wide(judge: pd.DataFrame, models: list | None = None) -> Wide:
    """The judge's side: one row per prompt (its first row per prompt and model)."""
    jw = judge.drop_duplicates(["item_id", "model"]).pivot(index="item_id", columns="model", values="rank")
    return Wide(ranks=jw if models is None else jw.reindex(columns=models),
                status=judge.drop_duplicates("item_id").set_index("item_id")["status"],
                models=list(jw.columns) if models is None else models, students=set())


def reference_wide(reference: pd.DataFrame) -> Wide:
    """The reference's side: its usable rows, one per (prompt, rater) with every model ranked, models in the
    reference's order; ``students``: its raters that are student groups."""
    models = list(dict.fromkeys(reference["model"]))
    ref = reference[reference["status"].isin(USABLE)]
    rw = ref.pivot_table(index=["item_id", "rater"], columns="model", values="rank", aggfunc="first")
    rw = rw.reindex(columns=models).dropna()
    rstatus = ref.drop_duplicates(["item_id", "rater"]).set_index(["item_id", "rater"])["status"]
    students = set(reference.loc[reference.get("rater_kind", pd.Series("", index=reference.index)) == "student",
                                 "rater"])
    return Wide(ranks=rw, status=rstatus, models=models, students=students)


def align_pairs(judge: pd.DataFrame | Wide, reference: pd.DataFrame | Wide,
                clusters: pd.Series | None = None) -> Pairs:
    """Pair every reference ranking act with the judge's ranking of the same prompt.

    ``judge``: rows of one rater (long format); ``reference``: rows of one or more reference raters (either
    side may come pivoted already: :func:`judge_wide`, :func:`reference_wide`).
    Only prompts that both ranked are kept; models are ordered as in the reference.
    ``clusters`` (item_id -> sheet, :func:`sheets`) gives each pair its resampled unit: a pair against a
    student group is that group's, any other pair (the expert, a judge as reference) its prompt's sheet.
    Without it, a pair against a student group is still that group's, and any other pair its prompt's.
    """
    reference = reference if isinstance(reference, Wide) else reference_wide(reference)
    models = reference.models
    judge = judge if isinstance(judge, Wide) else judge_wide(judge, models)
    jw, jstatus = judge.ranks.reindex(columns=models), judge.status
    rw, rstatus = reference.ranks, reference.status
    # (restrict says why through object indexes)
    rw = rw[rw.index.get_level_values("item_id").astype(object).isin(jw.index.astype(object))]
    pids = rw.index.get_level_values("item_id")
    codes, uniques = pd.factorize(pids)
    jmat = jw.loc[pids].astype("Float64").fillna(-1).to_numpy(dtype=int)
    raters = rw.index.get_level_values("rater")
    own = pd.Series(np.where(raters.astype(object).isin(reference.students), raters, None), dtype=object)
    if clusters is not None:
        own = own.where(own.notna(), pd.Series(pids).map(clusters).astype(object))
    return Pairs(prompt_index=codes, judge=jmat, reference=rw.to_numpy(dtype=int),
                 judge_status=jstatus.loc[pids].to_numpy(), reference_status=rstatus.loc[rw.index].to_numpy(),
                 n_prompts=len(uniques), items=np.asarray(pids),
                 clusters=None if own.isna().all() else own.to_numpy(dtype=object))


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
    rows, cols = np.nonzero((j >= 0) & (r >= 0))
    flat = (rows * n + j[rows, cols]) * n + r[rows, cols]              # (pair, judge rank, reference rank)
    return np.bincount(flat, minlength=len(j) * n * n).astype(np.int64).reshape(len(j), n, n)


TABLE_METRICS = ("kappa_harmful", "kappa_weighted", "alpha_ordinal")


def _from_tables(metric: str, tables: np.ndarray) -> np.ndarray:
    """Kappa / alpha from pooled contingency tables (..., 4, 4) of (judge rank, reference rank) cells
    (:mod:`harmstudy.stats.bootstrap`: one value per table, all tables at once); NaN for an empty table."""
    t = np.asarray(tables, dtype=float)
    if metric == "kappa_harmful":
        binary = np.stack([np.stack([t[..., 0, 0], t[..., 0, 1:].sum(-1)], -1),
                           np.stack([t[..., 1:, 0].sum(-1), t[..., 1:, 1:].sum((-2, -1))], -1)], -2)
        out = bootstrap.cohen_kappa(binary)
    elif metric == "kappa_weighted":
        out = bootstrap.cohen_kappa(t, weights="linear")
    elif metric == "alpha_ordinal":
        # Each cell is a unit with two values (judge, reference): its coincidences are (j, r) and (r, j).
        out = bootstrap.ordinal_alpha(t + np.swapaxes(t, -1, -2))
    else:
        raise ValueError(metric)
    return np.where(t.sum(axis=(-2, -1)) > 0, out, np.nan)


def _from_table(metric: str, table: np.ndarray) -> float:
    """Kappa / alpha from one pooled contingency table of (judge rank, reference rank) cells."""
    return float(_from_tables(metric, np.asarray(table)[None])[0])


def _pooled(metric: str, j: np.ndarray, r: np.ndarray, w: np.ndarray) -> float:
    """Kappa / alpha over all (pair, model) cells, each pair counted w times."""
    return _from_table(metric, np.tensordot(w, cell_tables(j, r), axes=1))


def _estimates(metric: str, mask: np.ndarray, per_pair: pd.DataFrame, W: np.ndarray,
               tables: np.ndarray) -> np.ndarray:
    """The metric for every row of ``W`` (how often each pair counts: ones for the estimate, bootstrap
    counts for the resamples), over the pairs in ``mask``."""
    Wm = W[:, mask]
    if metric in TABLE_METRICS:
        return _from_tables(metric, np.tensordot(Wm, tables[mask], axes=1))
    return bootstrap.weighted_means(Wm, per_pair[metric].to_numpy(dtype=float)[mask])


@functools.lru_cache(maxsize=None)
def _pair_values_of(j: tuple, r: tuple, strict: bool) -> dict[str, float]:
    # A triple's ranks take at most 4^3 values per side, so the per-pair statistics repeat: computed once each.
    return pair_values(np.array(j), np.array(r), strict=strict)


def agreement(judge: pd.DataFrame | Wide, reference: pd.DataFrame | Wide, *, judge_name: str, reference_name: str,
              n_boot: int = N_BOOT, seed: int = SEED, metrics=METRICS, clusters: pd.Series | None = None
              ) -> pd.DataFrame:
    """All metrics of one judge against one reference, with n, coverage and bootstrap 95% CIs over sheets
    (``clusters``: :func:`align_pairs`, which also says how either side may come pivoted; ``ci_unit`` says
    which unit was resampled)."""
    pairs = align_pairs(judge, reference, clusters)
    total = len(pairs.judge)
    usable = np.isin(pairs.judge_status, USABLE) & np.isin(pairs.reference_status, USABLE)
    strict = np.isin(pairs.judge_status, STRICT_ORDER) & np.isin(pairs.reference_status, STRICT_ORDER)
    per_pair = pd.DataFrame([_pair_values_of(tuple(j), tuple(r), bool(s)) if ok else dict.fromkeys(
                             ("exact_match", "kendall_tau", "spearman", "rbo"), np.nan)
                             for j, r, ok, s in zip(pairs.judge, pairs.reference, usable, strict)])
    if per_pair.empty:
        per_pair = pd.DataFrame(columns=["exact_match", "kendall_tau", "spearman", "rbo"])
    tables = cell_tables(pairs.judge, pairs.reference)
    # Resample sheets (a sheet's pairs move together): how often each pair counts in each resample.
    W = resample_weights(pairs, seed, n_boot)
    rows = []
    for metric in metrics:
        mask = strict if metric in STRICT_METRICS else usable
        if metric in ("exact_match", "kappa_weighted", "alpha_ordinal", "kappa_harmful"):
            n = int(mask.sum())
        else:
            n = int((mask & ~np.isnan(per_pair[metric].to_numpy(dtype=float))).sum()) if total else 0
        est = float(_estimates(metric, mask, per_pair, np.ones((1, total)), tables)[0]) if n else np.nan
        low, high = bootstrap.percentile_ci(_estimates(metric, mask, per_pair, W, tables)) if n and n_boot \
            else (np.nan, np.nan)
        rows.append({"judge": judge_name, "reference": reference_name, "metric": metric, "estimate": est,
                     "ci_low": low, "ci_high": high, "n": n,
                     "coverage": float(mask.sum() / total) if total else np.nan, "ci_unit": pairs.unit})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


#: The words a comparison of two judges may use, chosen by :func:`comparison_word` alone.
COMPARISON_WORDS = ("above", "level with", "below")
DIFFERENCE_COLUMNS = ["judge", "other", "reference", "metric", "estimate", "other_estimate", "difference",
                      "ci_low", "ci_high", "n", "prompts", "comparison", "ci_unit", "p_boot"]


def bootstrap_p(diff: np.ndarray) -> float:
    """Two-sided bootstrap p-value of a difference from its resamples: twice the smaller share of resamples
    on either side of 0 (at most 1; NaN ones left out). Written by hand: scipy.stats.bootstrap gives
    intervals, not this p (the percentile interval excludes 0 exactly when this p is below 0.05)."""
    diff = np.asarray(diff, dtype=float)
    diff = diff[~np.isnan(diff)]
    if not len(diff):
        return float("nan")
    return float(min(1.0, 2 * min((diff <= 0).mean(), (diff >= 0).mean())))


def comparison_word(ci_low: float, ci_high: float) -> str:
    """``above`` / ``below`` where the 95% CI of a difference (judge − other) excludes 0 on that side,
    ``level with`` where it holds 0 (or is undefined): the one rule the study's words follow."""
    if np.isnan(ci_low) or np.isnan(ci_high) or ci_low <= 0 <= ci_high:
        return "level with"
    return "above" if ci_low > 0 else "below"


#: Metrics whose 0 is chance (a judge that guesses at the reference's base rates scores about 0).
CHANCE_CORRECTED = ("kappa_harmful", "kappa_weighted", "alpha_ordinal", "pyrit_alpha", "kappa", "kendall_tau",
                    "spearman")
CHANCE_WORDS = {"above": "above chance", "level with": "no better than chance", "below": "below chance"}


def with_words(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows with ``metric``, ``ci_low``, ``ci_high``) with the words the text uses, by the rule of
    :func:`comparison_word`: ``vs_chance`` for a chance-corrected metric (its CI against 0; empty for the
    others), and, where the table carries published values (``published_best``, ``published_median``,
    which have no CI), ``vs_published_best`` / ``vs_published_median``: our CI against that number."""
    out = table.copy()
    low, high = out["ci_low"].astype(float), out["ci_high"].astype(float)
    chance = out["metric"].isin(CHANCE_CORRECTED)
    out["vs_chance"] = [CHANCE_WORDS[comparison_word(lo, hi)] if c else ""
                        for lo, hi, c in zip(low, high, chance)]
    for column in ("published_best", "published_median"):
        if column in out and out[column].astype(float).notna().any():
            published = out[column].astype(float)
            out[f"vs_{column}"] = [comparison_word(lo - p, hi - p) if not np.isnan(p) else ""
                                   for lo, hi, p in zip(low, high, published)]
    return out


def paired_difference(judge: pd.DataFrame, other: pd.DataFrame, reference: pd.DataFrame, *, judge_name: str,
                      other_name: str, reference_name: str, n_boot: int = N_BOOT, seed: int = SEED,
                      metrics=("alpha_ordinal", "kappa_harmful"), clusters: pd.Series | None = None) -> pd.DataFrame:
    """Two judges against one reference on the same pairs — the prompts both ranked usably — and the
    difference of their agreement (judge − other) with a paired percentile bootstrap: every resample draws
    the same sheets (or prompts, ``ci_unit``) for both judges (as :func:`agreement` draws them, by ``seed``), so the CI is that of the
    difference itself, not two intervals side by side. One row per metric (:data:`DIFFERENCE_COLUMNS`)."""
    both = usable_items(judge) & usable_items(other)
    a = align_pairs(judge[judge["item_id"].isin(both)], reference, clusters)
    b = align_pairs(other[other["item_id"].isin(both)], reference, clusters)
    return paired_difference_of_pairs(a, b, judge_name=judge_name, other_name=other_name,
                                      reference_name=reference_name, n_boot=n_boot, seed=seed, metrics=metrics)


def paired_difference_of_pairs(a: Pairs, b: Pairs, *, judge_name: str, other_name: str, reference_name: str,
                               n_boot: int = N_BOOT, seed: int = SEED,
                               metrics=("alpha_ordinal", "kappa_harmful")) -> pd.DataFrame:
    """:func:`paired_difference` of two judges already aligned with the reference on the same prompts (each
    judge aligned once and :func:`restrict` ed to the prompts both ranked usably: the table of every pair
    of judges aligns each judge once, not once per pair)."""
    if (not np.array_equal(a.reference, b.reference) or not np.array_equal(a.prompt_index, b.prompt_index)
            or not np.array_equal(a.cluster_codes()[0], b.cluster_codes()[0])):
        raise AssertionError("two judges on the same prompts must align with the same reference pairs")
    usable = np.isin(a.reference_status, USABLE)
    W = resample_weights(a, seed, n_boot) if n_boot else None      # one draw of sheets for both judges
    ta, tb = cell_tables(a.judge, a.reference)[usable], cell_tables(b.judge, b.reference)[usable]
    rows = []
    for metric in metrics:
        if metric not in TABLE_METRICS:
            raise ValueError(f"paired differences are computed for {TABLE_METRICS}, not {metric!r}")
        n = int(usable.sum())
        est_a = float(_from_tables(metric, ta.sum(axis=0)[None])[0]) if n else np.nan
        est_b = float(_from_tables(metric, tb.sum(axis=0)[None])[0]) if n else np.nan
        low = high = p = np.nan
        if n and n_boot:
            Wu = W[:, usable]
            diff = _from_tables(metric, np.tensordot(Wu, ta, axes=1)) - _from_tables(metric, np.tensordot(Wu, tb, axes=1))
            low, high = bootstrap.percentile_ci(diff)
            p = bootstrap_p(diff)
        rows.append({"judge": judge_name, "other": other_name, "reference": reference_name, "metric": metric,
                     "estimate": est_a, "other_estimate": est_b, "difference": est_a - est_b, "ci_low": low,
                     "ci_high": high, "n": n, "prompts": int(a.n_prompts), "comparison": comparison_word(low, high),
                     "ci_unit": a.unit, "p_boot": p})
    return pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)


def confusion(judge: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Counts of (reference rank, judge rank) over all aligned cells with a usable judge label."""
    pairs = align_pairs(judge, reference)
    ok = np.isin(pairs.judge_status, USABLE) & np.isin(pairs.reference_status, USABLE)
    ref, jud = pairs.reference[ok].ravel(), pairs.judge[ok].ravel()
    table = pd.crosstab(pd.Categorical(ref, RANK_VALUES), pd.Categorical(jud, RANK_VALUES), dropna=False)
    table.index.name, table.columns.name = "reference rank", "judge rank"
    return table
