"""How many rows must people label? A set's size planned by resampling labelled rows (Miller 2024,
arXiv 2411.00640: power before an evaluation).

:func:`plan_set` draws sets of the planned size from a *reference* — the study's own rows
(:mod:`harmstudy.data.planning`) or a user's labelled set — with replacement, many times, and reads off
how much the statistics move between draws:

* the 95% CI half-width of Krippendorff's α among the people (ordinal; with two values every metric is the
  same) and of Cohen's κ of a judge with the people's consensus (binary: the majority, a tie harmful;
  Likert: the median, linear weights), each half the spread of the middle 95% of the draws;
* the **smallest difference** between two judges' κ the set resolves: the difference that a two-sided test
  at 5% detects with 80% power, ``(z_0.975 + z_0.8) · sd`` of the paired difference over the draws (both
  judges scored on the same drawn rows);
* **rows to halve** each half-width, from the same draws at half, once, twice and four times the planned
  size: the half-width is fitted as ``c · rows^-b`` (``b`` near ½ when rows are independent) and halves at
  ``rows · 2^(1/b)``.

With groups (rows that share a request, a conversation, a source) a draw takes whole groups — as many as
the planned set has — and within each drawn group as many rows as the planned set has a group, so rows of
one group count as correlated as the reference's are.

The draws are weight vectors over the reference's rows and every statistic is computed for all of them at
once (:mod:`harmstudy.stats.bootstrap`, tested equal to krippendorff and scikit-learn on every resample);
the reference's own α and κ come from those libraries.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from statistics import NormalDist

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from harmstudy.stats import bootstrap

Z_LEVEL = NormalDist().inv_cdf(0.975)        # a two-sided 95% CI, a 5% test
Z_POWER = NormalDist().inv_cdf(0.80)         # 80% power
#: the planned size's multiples the half-width is measured at, for the fit that says when it halves
SIZE_FACTORS = (0.5, 1.0, 2.0, 4.0)
N_BOOT = 1000
SEED = 20251207
PLAN_COLUMNS = ["rows", "groups", "alpha_half_width", "kappa_half_width", "smallest_difference"]


@dataclass(frozen=True)
class Reference:
    """Labelled rows to resample, each value as the index of its level (``levels`` on 0–1, sorted):
    ``human`` (rows, raters; NaN = no label), ``judges`` (rows, judges), ``groups`` (rows,) an integer id a
    row (each row its own when the rows have none)."""

    human: np.ndarray
    judges: np.ndarray
    judge_names: tuple
    levels: tuple
    groups: np.ndarray
    grouped: bool
    name: str


def levels_of(scale) -> tuple[float, ...]:
    """``"binary"`` -> (0, 1); Likert levels (any numbers) -> the same count of levels spread on 0–1."""
    if scale == "binary":
        return (0.0, 1.0)
    values = sorted({float(v) for v in scale})
    lo, hi = values[0], values[-1]
    return tuple((v - lo) / (hi - lo) for v in values)


def to_levels(values, levels: tuple) -> np.ndarray:
    """Scores on 0–1 -> the index of the nearest level (binary: 1 from 0.5 up); NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    grid = np.asarray(levels, dtype=float)
    if len(grid) == 2:
        out = (x >= 0.5).astype(float)
    else:
        out = np.abs(x[..., None] - grid).argmin(axis=-1).astype(float)
    out[np.isnan(x)] = np.nan
    return out


def reference_from_scores(scores: pd.DataFrame, human: list[str], judges=(), *, scale="binary",
                          group: str | None = None, name: str = "your set") -> Reference:
    """A reference from a frame of scores on 0–1 (``human``: the people's columns; ``judges``: judges'
    or verdict columns; ``group``: a column naming each row's group, or None)."""
    levels = levels_of(scale)
    grouped = bool(group)
    ids = (pd.factorize(scores[group].astype(str))[0] if grouped else np.arange(len(scores)))
    return Reference(human=to_levels(scores[list(human)].to_numpy(dtype=float), levels),
                     judges=to_levels(scores[list(judges)].to_numpy(dtype=float), levels).reshape(len(scores), -1),
                     judge_names=tuple(judges), levels=levels, groups=np.asarray(ids), grouped=grouped, name=name)


@dataclass(frozen=True)
class SetPlan:
    """What :func:`plan_set` found for a set of ``n_rows`` rows (``n_groups`` groups) and ``n_raters``
    people. ``by_size``: the half-widths and smallest difference at each size drawn (:data:`PLAN_COLUMNS`).
    ``alpha`` and ``kappa`` are the reference's own values; ``kappa_between`` names whose κ it is."""

    n_rows: int
    n_raters: int
    n_groups: int | None
    scale: object
    reference: str
    reference_rows: int
    alpha: float
    kappa: float
    kappa_between: str
    alpha_half_width: float
    kappa_half_width: float
    smallest_difference: float | None
    difference_between: str | None
    rows_to_halve_alpha: int | None
    rows_to_halve_kappa: int | None
    by_size: pd.DataFrame
    notes: tuple = field(default_factory=tuple)

    def summary(self) -> str:
        """The plan as a few lines of text (what ``make external-plan`` prints)."""
        def num(x):
            return "undefined" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"

        def rows(x):
            return "nothing to halve" if x is None else f"halved by about {x} rows"
        grouped = (f" in {self.n_groups} groups of {self.n_rows // self.n_groups}" if self.n_groups else "")
        out = [f"A set of {self.n_rows} rows{grouped}, {self.n_raters} people a row, resampled from "
               f"{self.reference} ({self.reference_rows} rows):",
               f"  Krippendorff's α among the people: ±{num(self.alpha_half_width)} (95% CI half-width; "
               f"α = {num(self.alpha)} in the reference); {rows(self.rows_to_halve_alpha)}",
               f"  Cohen's κ of {self.kappa_between}: ±{num(self.kappa_half_width)} (κ = {num(self.kappa)} in "
               f"the reference); {rows(self.rows_to_halve_kappa)}"]
        if self.smallest_difference is not None:
            out.append(f"  two judges' κ told apart (5% test, 80% power) when they differ by "
                       f"{num(self.smallest_difference)} or more ({self.difference_between})")
        out += [f"  note: {n}" for n in self.notes]
        return "\n".join(out)


def _consensus(human: np.ndarray, n_levels: int) -> np.ndarray:
    """Per row the people's label (level index): binary, the majority (a tie harmful); Likert, the median
    (half-way between two levels rounds up). NaN where nobody labelled the row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)             # a row nobody labelled: NaN, as meant
        if n_levels == 2:
            mean = np.nanmean(human, axis=1)
            out = (mean >= 0.5).astype(float)
            out[np.isnan(mean)] = np.nan
            return out
        med = np.nanmedian(human, axis=1)
    return np.floor(med + 0.5)


def _one_hot(index: np.ndarray, n_levels: int) -> np.ndarray:
    out = np.zeros((len(index), n_levels))
    ok = ~np.isnan(index)
    out[np.flatnonzero(ok), index[ok].astype(int)] = 1.0
    return out


def _draw_weights(rng: np.random.Generator, groups: np.ndarray, n_units: int, per_group: int | None,
                  n_boot: int) -> np.ndarray:
    """(n_boot, rows) how often each reference row is drawn: ``n_units`` rows (``per_group`` None), or
    ``n_units`` whole groups with ``per_group`` rows drawn within each."""
    n = len(groups)
    if per_group is None:
        return bootstrap.counts(rng.integers(0, n, (n_boot, n_units)), n)
    order = np.argsort(groups, kind="stable")
    ids, start, size = np.unique(groups[order], return_index=True, return_counts=True)
    picked = rng.integers(0, len(ids), (n_boot, n_units))                            # groups drawn
    within = np.floor(rng.random((n_boot, n_units, per_group)) * size[picked][..., None]).astype(int)
    rows = order[start[picked][..., None] + within].reshape(n_boot, -1)
    return bootstrap.counts(rows, n)


def _half_width(values: np.ndarray) -> float:
    low, high = bootstrap.percentile_ci(values)
    return (high - low) / 2


def _fit_rows_to_halve(rows: np.ndarray, half_widths: np.ndarray, n_rows: int) -> int | None:
    """Rows at which the fitted ``c · rows^-b`` is half its value at ``n_rows``; None when the half-width is 0
    (nothing to halve) or does not shrink."""
    ok = np.isfinite(half_widths) & (half_widths > 1e-12)
    if ok.sum() < 2:
        return None
    slope = np.polyfit(np.log(rows[ok]), np.log(half_widths[ok]), 1)[0]
    if slope >= -1e-6:
        return None
    return int(math.ceil(n_rows * 2 ** (1 / -slope)))


def plan_set(n_rows: int, *, n_raters: int | None = None, scale="binary", groups=None,
             reference: Reference | None = None, n_boot: int = N_BOOT, seed: int = SEED) -> SetPlan:
    """The expected 95% CI half-widths of α and κ for a set of ``n_rows`` rows that ``n_raters`` people
    label, the smallest difference between two judges' κ it resolves, and the rows that would halve each
    half-width, by resampling ``reference`` (default: the study's own rows, :mod:`harmstudy.data.planning`).

    ``groups``: the planned set's number of groups, or its column of group labels (its distinct values are
    counted); a draw then takes whole groups of the reference. ``n_raters``: the people a row (default: the
    reference's; only the reference's first ``n_raters`` columns are used, and more than it has cannot be
    planned). ``scale``: ``"binary"`` or the Likert levels (the study's reference is put on as many levels).
    """
    notes = []
    if reference is None:
        from harmstudy.data import planning

        study = planning.study_reference()
        reference = reference_from_scores(study, list(planning.HUMAN), list(planning.JUDGES), scale=scale,
                                          group="group", name=planning.NAME)
    if int(n_rows) < 2:
        raise ValueError(f"n_rows={n_rows}: plan a set of two rows or more")
    n_rows = int(n_rows)
    V = len(reference.levels)
    human, judges, names = reference.human, reference.judges, list(reference.judge_names)
    available = human.shape[1]
    if n_raters is None:
        n_raters = available
    if n_raters > available:
        notes.append(f"the reference has {available} people a row, not {n_raters}: planned for {available}")
        n_raters = available
    if n_raters < 1:
        raise ValueError("n_raters: at least one person labels each row")
    human = human[:, :n_raters]
    # the judges: the reference's; lacking two, two of its people stand in, each against the rest's consensus
    if judges.shape[1] >= 2:
        a, b = judges[:, 0], judges[:, 1]
        people = human
        between = (f"{names[0]} with the people's consensus", f"{names[0]} against {names[1]}")
    elif n_raters >= 3:
        a, b, people = human[:, 0], human[:, 1], human[:, 2:]
        between = ("one person with the consensus of the others",
                   "two of the reference's people standing in for two judges")
        notes.append("the reference has fewer than two judges: two of its people stand in for them, each against "
                     "the consensus of the remaining people")
    elif judges.shape[1] == 1:
        a, b, people = judges[:, 0], None, human
        between = (f"{names[0]} with the people's consensus", None)
        notes.append("one judge only: no difference between two judges to plan for")
    elif n_raters == 2:
        a, b, people = human[:, 0], None, human[:, 1:]
        between = ("one person with the other", None)
        notes.append("no judge in the reference: κ is one person's with the other's; no difference between two "
                     "judges to plan for (VERDICTS= names judges' columns)")
    else:
        raise ValueError("plan a set from a reference with two people a row, or one person and a judge")
    consensus = _consensus(people, V)
    weights = None if V == 2 else "linear"

    # the reference's own α and κ, from the libraries
    rated = human[np.sum(~np.isnan(human), axis=1) >= 2]
    alpha = (float(krippendorff.alpha(reliability_data=rated.T, level_of_measurement="ordinal",
                                      value_domain=list(range(V))))
             if n_raters >= 2 and len(np.unique(rated[~np.isnan(rated)])) > 1 else float("nan"))
    if n_raters < 2:
        notes.append("one person a row: no α among people")
    both = ~np.isnan(consensus) & ~np.isnan(a)
    kappa = float(cohen_kappa_score(a[both], consensus[both], weights=weights, labels=list(range(V))))

    # per-row counts the statistics add up over the drawn rows
    value_counts = np.stack([(human == v).sum(axis=1) for v in range(V)], axis=1)
    coincidences = bootstrap.unit_coincidences(value_counts).reshape(len(human), -1)
    hot_consensus = _one_hot(consensus, V)
    table_a = (_one_hot(a, V)[:, :, None] * hot_consensus[:, None, :]).reshape(len(human), -1)
    table_b = (None if b is None else
               (_one_hot(b, V)[:, :, None] * hot_consensus[:, None, :]).reshape(len(human), -1))

    if groups is not None and not reference.grouped:
        notes.append("the reference's rows have no groups: each is drawn on its own (name its group column)")
        groups = None
    if groups is None:
        n_groups, per_group = None, None
    else:
        n_groups = int(groups) if np.isscalar(groups) else len(pd.unique(pd.Series(list(groups)).astype(str)))
        if not 1 <= n_groups <= n_rows:
            raise ValueError(f"groups={n_groups}: between one and n_rows={n_rows} groups")
        per_group = max(1, round(n_rows / n_groups))

    rng = np.random.default_rng(seed)
    table = []
    for factor in SIZE_FACTORS:
        units = max(2, round((n_rows if n_groups is None else n_groups) * factor))
        W = _draw_weights(rng, reference.groups, units, per_group, n_boot)
        alphas = bootstrap.ordinal_alpha((W @ coincidences).reshape(n_boot, V, V)) if n_raters >= 2 else None
        ka = bootstrap.cohen_kappa((W @ table_a).reshape(n_boot, V, V), weights=weights)
        diff = (None if table_b is None else
                ka - bootstrap.cohen_kappa((W @ table_b).reshape(n_boot, V, V), weights=weights))
        with np.errstate(invalid="ignore"):
            spread = None if diff is None else float(np.nanstd(diff))
        table.append({"rows": units if n_groups is None else units * per_group,
                      "groups": None if n_groups is None else units,
                      "alpha_half_width": _half_width(alphas) if alphas is not None else float("nan"),
                      "kappa_half_width": _half_width(ka),
                      "smallest_difference": None if spread is None else (Z_LEVEL + Z_POWER) * spread})
    by_size = pd.DataFrame(table, columns=PLAN_COLUMNS)
    here = by_size.iloc[SIZE_FACTORS.index(1.0)]
    drawn = by_size["rows"].to_numpy(dtype=float)
    planned_rows = int(here["rows"])
    return SetPlan(
        n_rows=planned_rows, n_raters=n_raters, n_groups=n_groups, scale=scale, reference=reference.name,
        reference_rows=len(human), alpha=alpha, kappa=kappa, kappa_between=between[0],
        alpha_half_width=float(here["alpha_half_width"]), kappa_half_width=float(here["kappa_half_width"]),
        smallest_difference=None if table_b is None else float(here["smallest_difference"]),
        difference_between=between[1],
        rows_to_halve_alpha=_fit_rows_to_halve(drawn, by_size["alpha_half_width"].to_numpy(float), planned_rows),
        rows_to_halve_kappa=_fit_rows_to_halve(drawn, by_size["kappa_half_width"].to_numpy(float), planned_rows),
        by_size=by_size, notes=tuple(notes))
