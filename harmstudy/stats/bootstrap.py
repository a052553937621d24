"""Agreement statistics for many bootstrap resamples at once.

A percentile bootstrap recomputes a statistic on ~1,000 resamples of the same units. The libraries
(krippendorff, statsmodels, scikit-learn, scipy) compute one value per call from the raw values, which made
the bootstrap most of ``make paper``'s time (a few ms per call, ~10^5 calls). Every statistic here is a
function of *per-unit* counts that add up over units, so a resample is a weight vector over the units (how
often each was drawn) and all resamples are one matrix product. Written by hand because no library takes
weights for these statistics; each is tested equal to its library on every resample
(tests/test_statistics.py), and the hand-worked examples there apply unchanged.

``W``: (resamples, units) non-negative counts; a single estimate is ``W = ones((1, units))``.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import stats


def unit_coincidences(value_counts: np.ndarray) -> np.ndarray:
    """Krippendorff's per-unit coincidence matrices (units, V, V) from value counts (units, V):
    (n_uc n_uk − [c = k] n_uc) / (m_u − 1); a unit with fewer than two values adds nothing."""
    vc = np.asarray(value_counts, dtype=float)
    m = vc.sum(axis=1)
    pairs = vc[:, :, None] * vc[:, None, :] - vc[:, :, None] * np.eye(vc.shape[1])[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pairs / (m - 1)[:, None, None]
    out[m < 2] = 0.0
    return out


def ordinal_alpha(coincidences: np.ndarray) -> np.ndarray:
    """Krippendorff's α, ordinal metric, from coincidence matrices (..., V, V) with values in rank order.

    δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k) / 2)²;  α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck.
    NaN where the expected disagreement is 0 (one value only).
    """
    o = np.asarray(coincidences, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    cum = np.cumsum(n_c, axis=-1)
    lo = np.minimum.outer(np.arange(o.shape[-1]), np.arange(o.shape[-1]))
    hi = np.maximum.outer(np.arange(o.shape[-1]), np.arange(o.shape[-1]))
    between = cum[..., hi] - cum[..., lo] + n_c[..., lo]            # Σ_{g=lo..hi} n_g
    delta2 = (between - (n_c[..., :, None] + n_c[..., None, :]) / 2) ** 2
    observed = (o * delta2).sum(axis=(-2, -1))
    expected = (n_c[..., :, None] * n_c[..., None, :] * delta2).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * observed / expected, np.nan)


def cohen_kappa(tables: np.ndarray, weights: str | None = None) -> np.ndarray:
    """Cohen's κ from contingency tables (..., V, V) (rows: one rater, columns: the other); ``weights``
    None or ``"linear"`` (disagreement |i − j|, as statsmodels' ``cohens_kappa(wt="linear")``)."""
    t = np.asarray(tables, dtype=float)
    v = t.shape[-1]
    i, j = np.indices((v, v))
    disagree = (i != j).astype(float) if weights is None else np.abs(i - j).astype(float)
    n = t.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = t / n[..., None, None]
        expected = p.sum(axis=-1)[..., :, None] * p.sum(axis=-2)[..., None, :]
        return 1 - (p * disagree).sum(axis=(-2, -1)) / (expected * disagree).sum(axis=(-2, -1))


def weighted_means(W: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per resample, the mean of ``values`` over its units (NaN values left out; NaN if none is left)."""
    values = np.asarray(values, dtype=float)
    defined = ~np.isnan(values)
    weight = W @ defined
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weight > 0, (W @ np.where(defined, values, 0.0)) / weight, np.nan)


def auc(W: np.ndarray, label: np.ndarray, score: np.ndarray) -> np.ndarray:
    """ROC AUC per resample: P(score of a positive > score of a negative), ties counting ½ (Mann–Whitney),
    over the resample's units with their multiplicity. NaN if a resample has one class only."""
    label, score = np.asarray(label, dtype=bool), np.asarray(score, dtype=float)
    wins = (score[:, None] > score[None, :]) + 0.5 * (score[:, None] == score[None, :])
    pos, neg = W * label, W * ~label
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.einsum("bi,ij,bj->b", pos, wins, neg) / (pos.sum(axis=1) * neg.sum(axis=1))
    return np.where((pos.sum(axis=1) > 0) & (neg.sum(axis=1) > 0), value, np.nan)


def spearman(draws: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's ρ per resample; ``draws`` (resamples, n) are the indices drawn (ties get average ranks,
    as ``scipy.stats.spearmanr``). NaN where either side is constant."""
    rx = stats.rankdata(np.asarray(x, dtype=float)[draws], axis=1)
    ry = stats.rankdata(np.asarray(y, dtype=float)[draws], axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (rx * ry).sum(axis=1) / np.sqrt((rx ** 2).sum(axis=1) * (ry ** 2).sum(axis=1))


def resample_indices(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) indices of ``n`` units drawn with replacement, one resample a row (row i is the i-th
    ``rng.integers(0, n, n)``)."""
    return np.array([rng.integers(0, n, n) for _ in range(n_boot)], dtype=np.int64).reshape(n_boot, n)


def counts(draws: np.ndarray, n: int) -> np.ndarray:
    """Resample indices (resamples, k) -> how often each of ``n`` units was drawn (resamples, n)."""
    flat = (np.arange(len(draws))[:, None] * n + draws).ravel()       # (resample, unit) as one index
    return np.bincount(flat, minlength=len(draws) * n).reshape(len(draws), n).astype(float)


@functools.lru_cache(maxsize=16)
def seeded_counts(seed: int, n: int, n_boot: int) -> np.ndarray:
    """:func:`counts` of the resamples ``np.random.default_rng(seed)`` draws for ``n`` units (read-only):
    every comparison over the same prompts resamples them alike, so the draws are made once."""
    out = counts(resample_indices(np.random.default_rng(seed), n, n_boot), n)
    out.flags.writeable = False
    return out


def percentile_ci(boot: np.ndarray, level: float = 95.0) -> tuple[float, float]:
    """The percentile interval of the resamples' values (NaN ones left out)."""
    boot = np.asarray(boot, dtype=float)
    boot = boot[~np.isnan(boot)]
    if not len(boot):
        return float("nan"), float("nan")
    low, high = np.percentile(boot, [(100 - level) / 2, 100 - (100 - level) / 2])
    return float(low), float(high)
