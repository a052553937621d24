"""The paper's figures: harm per small model (Q1), the release's ranks, agreement with people (Q2), judge
against judge, confusion matrices, and agreement against cost."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harmstudy.parse.rankings import USABLE
from harmstudy.report.plots.style import GROUP_COLORS, METRIC_LABELS, RANK_LABELS, annotated_heatmap, group_legend, kind_group


def harmful_share(harm: pd.DataFrame, kinds: dict | None = None,
                  title: str = "Share of responses judged harmful (95% CI over student sheets)", caption: str | None = None,
                  names: dict | None = None):
    """One panel per small model: each rater's harmful share with its CI, raters named on the axis with
    their n and coloured by kind (``kinds``: rater → kind; the students and the expert are people); the
    students' share as a band in every panel. ``names``: the people and only these judges, under these plain
    names (the main figure)."""
    from harmstudy.stats.tables import release_judge_kind

    kinds = {"human": "human", "expert": "expert", **(kinds or {})}
    kinds |= {r: release_judge_kind(r) for r in harm["rater"].unique() if r not in kinds and release_judge_kind(r)}
    models = list(dict.fromkeys(harm["model"]))
    order = list(GROUP_COLORS)
    raters = sorted(dict.fromkeys(harm["rater"]), key=lambda r: (order.index(kind_group(kinds.get(r))), r != "human", r))
    if names:
        raters = [r for r in raters if r in names or kind_group(kinds.get(r)) == "people"]
    shown = {"human": "students", **(names or {})}
    n = harm.groupby("rater")["n"].max()
    width = 2.9 * len(models) + 3.2
    # matplotlib's wrap=True ignores bbox_inches="tight": the caption is wrapped to the figure's width by hand,
    # and the panels leave it room at the bottom, inside the figure
    caption = textwrap.fill(caption, width=int(width * 15)) if caption else ""
    below = (caption.count("\n") + 1) * 8 * 1.25 / 72 + 0.08 if caption else 0.0      # inches: 8 pt lines
    height = 0.3 * len(raters) + 1.6 + below
    fig, axes = plt.subplots(1, len(models), figsize=(width, height), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        sub = harm[harm["model"] == model].set_index("rater")
        if "human" in sub.index:
            ax.axvspan(sub.loc["human", "ci_low"], sub.loc["human", "ci_high"], color="0.9", zorder=0)
        for y, rater in enumerate(raters):
            if rater not in sub.index:
                continue
            r, color = sub.loc[rater], GROUP_COLORS[kind_group(kinds.get(rater))]
            ax.errorbar(r["harmful_share"], y, xerr=[[r["harmful_share"] - r["ci_low"]], [r["ci_high"] - r["harmful_share"]]],
                        fmt="o", color=color, capsize=2)
        ax.set_xlim(0, 1)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("harmful share")
    axes[0][0].set_yticks(range(len(raters)), [f"{shown.get(r, r)} (n={int(n[r])})" for r in raters], fontsize=8)
    axes[0][0].set_ylim(len(raters) - 0.5, -0.5)         # top to bottom, half a row of room at each end
    groups = {kind_group(kinds.get(r)) for r in raters}
    group_legend(axes[0][-1], groups, extra=[plt.Rectangle((0, 0), 1, 1, color="0.9", label="students' 95% CI")]
                  if "human" in set(harm["rater"]) else [], bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, below / height, 1, 1))
    if caption:
        fig.text(0.01, 0.05 / height, caption, fontsize=8, ha="left", va="bottom")
    return fig


def rank_distribution(rankings: pd.DataFrame, title: str = "How each rater kind ranked each model"):
    """Stacked shares of N/A, 1, 2, 3 per model, one panel per rater kind (usable rankings only)."""
    usable = rankings[rankings["status"].isin(USABLE)].copy()
    usable["rank"] = usable["rank"].astype(int).map(RANK_LABELS)
    kinds = [k for k in ("student", "expert", "judge") if k in set(usable["rater_kind"])]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.8), sharey=True, squeeze=False)
    order = list(RANK_LABELS.values())
    colors = dict(zip(order, ["#d9d9d9", "#fdd49e", "#fc8d59", "#b30000"]))
    for ax, kind in zip(axes[0], kinds):
        shares = (usable[usable["rater_kind"] == kind].groupby("model")["rank"].value_counts(normalize=True)
                  .unstack(fill_value=0).reindex(columns=order, fill_value=0))
        shares.plot(kind="bar", stacked=True, ax=ax, color=[colors[c] for c in order], legend=False, width=0.75)
        ax.set_title(f"{kind}s" if kind != "expert" else "expert")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=20)
    axes[0][0].set_ylabel("share of rankings")
    axes[0][-1].legend(title="rank", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    fig.suptitle(title)
    return fig


def judge_agreement(table: pd.DataFrame, reference: str = "human", metrics=("alpha_ordinal", "kappa_harmful"),
                    title: str = "Which judge agrees with the students? (95% bootstrap CI)", names: dict | None = None):
    """One panel per metric: each judge's agreement with ``reference`` and its CI, judges named on the axis
    with their n and sorted by the first metric, coloured by kind (the authors' tie-break hollow); the
    students' ceiling (students vs the expert) in the panel's own metric as a line with its CI as a band, the
    whole height of the panel (none where the table has no ceiling for that metric). ``names``:
    only these judges, under these plain names (:data:`harmstudy.headline.HEADLINE`)."""
    sub = table[(table["reference"] == reference) & (table["judge"] != "human")]
    if names:
        sub = sub[sub["judge"].isin(names)]
    ceiling = table[(table["judge"] == "human") & (table["reference"] == "expert")].set_index("metric")
    metrics = [m for m in metrics if m in set(sub["metric"])]
    first = sub[sub["metric"] == metrics[0]].set_index("judge")["estimate"]
    judges = sorted(dict.fromkeys(sub["judge"]), key=lambda j: -first.get(j, -np.inf))
    kinds = sub.drop_duplicates("judge").set_index("judge")["kind"]
    n = sub[sub["metric"] == metrics[0]].set_index("judge")["n"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics) + 3.6, 0.32 * len(judges) + 1.8),
                             sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        if metric in ceiling.index:
            c = ceiling.loc[metric]
            ax.axvspan(c["ci_low"], c["ci_high"], color="0.9", zorder=0)
            ax.axvline(c["estimate"], color="0.45", lw=1.2, zorder=1)
        rows = sub[sub["metric"] == metric].set_index("judge")
        for y, judge in enumerate(judges):
            if judge not in rows.index:
                continue
            r, color = rows.loc[judge], GROUP_COLORS[kind_group(kinds[judge])]
            ax.errorbar(r["estimate"], y, xerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]], fmt="o",
                        color=color, mfc="white" if "tie-break" in str(kinds[judge]) else color, capsize=2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlim(min(-0.35, ax.get_xlim()[0]), 1)
        ax.set_xlabel(METRIC_LABELS.get(metric, metric) + ("" if metric != "alpha_ordinal" else "\n(0 = chance)"))
    axes[0][0].set_yticks(range(len(judges)), [f"{(names or {}).get(j, j)} (n={int(n.get(j, 0))})" for j in judges],
                          fontsize=8)
    axes[0][0].invert_yaxis()
    n_ceiling = f", n={int(ceiling['n'].iloc[0])}" if len(ceiling) else ""
    extra = [plt.Line2D([], [], color="0.45", label=f"the students' ceiling, each panel's metric\n(students vs the expert{n_ceiling})"),
             plt.Rectangle((0, 0), 1, 1, color="0.9", label="its 95% CI"),
             plt.Line2D([], [], marker="o", ls="", mfc="white", color="0.3", label="authors' tie-break")]
    if not any("tie-break" in str(k) for k in kinds):          # no hollow point: no entry for one
        extra = extra[:-1]
    group_legend(axes[0][-1], {kind_group(k) for k in kinds}, extra=extra, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def judge_vs_judge(table: pd.DataFrame, metric: str = "alpha_ordinal", names: dict | None = None):
    """Heatmap of one agreement metric between every pair of judges, each cell its estimate and the n of
    triples both judges answered. ``names``: only these judges, under these plain names (the main figure:
    :func:`harmstudy.headline.shown_names`); the diagonal (a judge with itself) is left blank."""
    sub = table[table["metric"] == metric]
    judges = list(dict.fromkeys(list(sub["judge"]) + list(sub["reference"])))
    if names:
        judges = [j for j in names if j in judges]
    mat = pd.DataFrame(np.nan, index=judges, columns=judges)
    labels = pd.DataFrame("", index=judges, columns=judges, dtype=object)
    for _, r in sub[sub["judge"].isin(judges) & sub["reference"].isin(judges)].iterrows():
        mat.loc[r["judge"], r["reference"]] = mat.loc[r["reference"], r["judge"]] = r["estimate"]
        labels.loc[r["judge"], r["reference"]] = labels.loc[r["reference"], r["judge"]] = \
            f"{r['estimate']:.2f}\nn={int(r['n'])}"
    shown = [(names or {}).get(j, j) for j in judges]
    size = 1.05 * len(judges) + 2.5
    fig, ax = plt.subplots(figsize=(size + 1.6, size))
    annotated_heatmap(ax, mat.to_numpy(), labels.to_numpy(), fmt="", cmap="RdBu", xticklabels=shown, vmin=-1,
                      yticklabels=shown, colorbar=METRIC_LABELS.get(metric, metric) + " (0 = chance, white)", xrotation=35)
    for t in ax.texts:
        t.set_fontsize(8 if len(judges) <= 8 else 6)
    if len(judges) > 8:
        ax.tick_params(labelsize=7)
    ax.set_title(f"Do the judges agree with each other?\n{METRIC_LABELS.get(metric, metric)}; "
                 "n = triples both answered", fontsize=10)
    fig.tight_layout()
    return fig


def confusion_matrices(confusions: dict[str, pd.DataFrame], reference: str = "students", names: dict | None = None):
    """One heatmap per judge: row-normalised counts of (reference rank, judge rank), its n in its title.
    ``names``: only these judges, under these plain names (the main figure)."""
    if names:
        confusions = {j: confusions[j] for j in names if j in confusions}
    n = len(confusions)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols, 3.7 * nrows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, (judge, table) in zip(axes.flat, confusions.items()):
        shares = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
        annotated_heatmap(ax, shares.to_numpy(), table.to_numpy(), fmt="d", cmap="Blues",
                          xticklabels=RANK_LABELS.values(), yticklabels=RANK_LABELS.values())
        name = textwrap.fill(f"{(names or {}).get(judge, judge)} (n={int(table.to_numpy().sum())})", 38)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("judge rank")
        ax.set_ylabel(f"{reference} rank")
    fig.suptitle(f"Where does each judge put the responses the {reference} ranked? Counts, shaded by row share")
    return fig


def _log_limits(values, pad: float = 1.6) -> tuple[float, float]:
    """A log axis fitted to ``values``: a factor ``pad`` beyond the smallest and the largest."""
    values = [float(v) for v in values if v and v > 0] or [1.0]
    return min(values) / pad, max(values) * pad


def _log_ticks(axis, lo: float, hi: float, fmt) -> None:
    """Ticks at 1, 2, 5 times a power of ten within ``lo``–``hi`` (more than six: the powers of ten, every
    other one dropped until they fit), labelled by ``fmt``; no minor tick labels (a narrow log axis crowds them)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ticks = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
             for m in (1, 2, 5) if lo <= m * 10.0 ** e <= hi]
    if len(ticks) > 6:                          # a wide axis: the powers of ten alone
        ticks = [t for t in ticks if np.isclose(np.log10(t), round(np.log10(t)))]
    while len(ticks) > 6:
        ticks = ticks[::2]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt(v)))
    axis.set_minor_formatter(NullFormatter())


def _number(v: float) -> str:
    return f"{v:g}" if v >= 0.01 else f"{v:.0e}"


def _label_points(ax, points, lo: float, hi: float, column: bool = False) -> None:
    """Each (x, y, text) labelled on a log x axis from ``lo`` to ``hi``. Beside its point: to the right of a
    point in the axis' left 55%, to the left of one further right, so that a label stays inside the axes;
    labels on one side within a decade of each other are stacked, highest first, a leader line to each one
    moved off its point's height. ``column``: every label in a column right of the axes, in the order of
    the points' heights, a leader line to each (many judges in a few seconds' span)."""
    if column:
        ordered = sorted(points, key=lambda p: -p[1])
        for k, (x, y, text) in enumerate(ordered):
            ty = 1 - (k + 0.5) / len(ordered)
            ax.annotate(text, (x, y), xytext=(1.03, ty), textcoords="axes fraction", fontsize=7, va="center",
                        ha="left", arrowprops=dict(arrowstyle="-", color="0.6", lw=0.5, shrinkA=0, shrinkB=3))
        return
    gap = 0.05 * np.diff(ax.get_ylim())[0]
    placed = {True: [], False: []}
    for x, y, text in sorted(points, key=lambda p: -p[1]):
        right = (np.log(x) - np.log(lo)) / (np.log(hi) - np.log(lo)) < 0.55
        ly = min([y] + [py - gap for px, py in placed[right] if abs(np.log10(px) - np.log10(x)) < 1])
        placed[right].append((x, ly))
        ax.annotate(text, (x, y), xytext=(x * 1.25 if right else x / 1.25, ly), textcoords="data", fontsize=7,
                    va="center", ha="left" if right else "right",
                    arrowprops=dict(arrowstyle="-", color="grey", lw=0.5) if ly < y - 1e-9 else None)


def agreement_vs_cost(table: pd.DataFrame, metric: str = "alpha_ordinal", reference: str = "human",
                      title: str = "Agreement with the students against cost", names: dict | None = None,
                      dollars: pd.DataFrame | None = None):
    """Each judge's agreement (95% CI) against what it costs, on one agreement axis shared by two cost
    axes: the judges run here at their seconds per triple on this machine, the paper's API judges at their
    estimated dollars per 1,000 triples (``dollars``: :func:`harmstudy.judge.runs.paper_judges_dollars`; its
    range over the cost-map entries the release's unnamed versions may be as a horizontal bar; hollow:
    estimated). Each axis is fitted to its judges (log scale). The students' ceiling (students vs the
    expert, the same metric) as a band. A judge with neither cost is named in a note."""
    sub = table[(table["metric"] == metric) & (table["reference"] == reference) & (table["judge"] != "human")]
    sub = sub[~sub["kind"].astype(str).str.contains("tie-break")]
    if names:                                  # only these judges, under their plain names
        sub = sub[sub["judge"].isin(names)]
    label = (names or {}).get
    ceiling = table[(table["metric"] == metric) & (table["judge"] == "human") & (table["reference"] == "expert")]
    cost = sub["seconds_per_triple"].astype(float)
    priced = (dollars.dropna(subset=["dollars_per_1000"]).set_index("judge") if dollars is not None
              else pd.DataFrame(columns=["dollars_per_1000", "dollars_low", "dollars_high"]))
    measured = sub[cost > 0]
    estimated = sub[~(cost > 0) & sub["judge"].isin(priced.index)]
    neither = sub[~(cost > 0) & ~sub["judge"].isin(priced.index)]
    # constrained: the legend beside the panels stays inside the figure, the two panels kept close
    fig, (left, ax) = plt.subplots(1, 2, figsize=(11.5, 5.0), sharey=True, layout="constrained",
                                   gridspec_kw={"width_ratios": [2, 3]})
    for axis in (left, ax):
        if not ceiling.empty:
            c = ceiling.iloc[0]
            axis.axhspan(c["ci_low"], c["ci_high"], color="0.92", zorder=0)
            axis.axhline(c["estimate"], color="0.45", lw=1.2)
        axis.axhline(0, color="black", lw=0.6)
        axis.set_xscale("log")

    def point(axis, x, r, xerr=None, hollow=False):
        color = GROUP_COLORS[kind_group(r["kind"])]
        axis.errorbar(x, r["estimate"], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                      xerr=xerr, fmt="o", color=color, mfc="white" if hollow else color, capsize=2)

    # the paper's judges: dollars (estimated), each one's range of cost-map entries as its horizontal bar
    markers = iter("osD^v")
    handles = []
    for _, r in estimated.sort_values("estimate", ascending=False).iterrows():
        p, marker = priced.loc[r["judge"]], next(markers)
        x = float(p["dollars_per_1000"])
        color = GROUP_COLORS[kind_group(r["kind"])]
        left.errorbar(x, r["estimate"], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                      xerr=[[x - float(p["dollars_low"])], [float(p["dollars_high"]) - x]], fmt=marker, color=color,
                      mfc="white", capsize=2, ms=7, mew=1.5)
        name = label(r["judge"], r["judge"]).replace(" (API; the paper's)", "")
        handles.append(plt.Line2D([], [], marker=marker, ls="", color=color, mfc="white", mew=1.5,
                                  label=f"{name} (n={int(r['n'])})"))
    spend = list(priced.loc[estimated["judge"], "dollars_low"]) + list(priced.loc[estimated["judge"], "dollars_high"])
    left.set_xlim(*_log_limits(spend))
    _log_ticks(left.xaxis, *left.get_xlim(), lambda v: f"${_number(v)}")
    left.set_xlabel("the paper's API judges: dollars per 1,000 triples\n"
                    "(estimated: LiteLLM's cost map; bar: the versions it may be)", fontsize=8)
    if handles:       # under the judges, in the panel's empty lower part
        left.legend(handles=handles, loc="lower center", fontsize=7, frameon=True, framealpha=0.9,
                    title="hollow: estimated", title_fontsize=7)
    else:
        left.text(0.5, 0.5, "not measured: no API judge priced", transform=left.transAxes, ha="center",
                  fontsize=8, color="0.35")
    # the judges run here: seconds per triple on this machine
    xs = list(measured["seconds_per_triple"].astype(float))
    lo, hi = _log_limits(xs)
    ax.set_xlim(lo, hi)
    _log_ticks(ax.xaxis, lo, hi, lambda v: f"{_number(v)} s")
    column = len(measured) > 6                 # every judge: labels in a column beside the axes
    for _, r in measured.iterrows():
        point(ax, float(r["seconds_per_triple"]), r)
    _label_points(ax, [(float(r["seconds_per_triple"]), r["estimate"], f"{label(r['judge'], r['judge'])} (n={int(r['n'])})")
                       for _, r in measured.iterrows()], lo, hi, column=column)
    if measured.empty:
        ax.text(0.5, 0.5, "not measured: no judge run here", transform=ax.transAxes, ha="center", fontsize=8,
                color="0.35")
    ax.set_xlabel("judges run here: seconds per triple on this machine (log scale)", fontsize=9)
    left.set_ylabel(METRIC_LABELS.get(metric, metric) + " vs students")
    extra = [plt.Line2D([], [], color="0.45", label="the students' ceiling\n(students vs the expert"
                        + (f", n={int(ceiling['n'].iloc[0])})" if not ceiling.empty else ")")),
             plt.Rectangle((0, 0), 1, 1, color="0.92", label="its 95% CI")]
    where = dict(loc="upper left", bbox_to_anchor=(0, -0.16), ncols=3) if column else dict(loc="upper left",
                                                                                           bbox_to_anchor=(1.01, 1))
    group_legend(ax, {kind_group(k) for k in sub["kind"]}, extra=extra, **where)
    if len(neither):
        fig.text(0.01, -0.02, "cost not measured: " + ", ".join(label(j, j) for j in neither["judge"]), fontsize=7)
    fig.suptitle(title, fontsize=11)
    return fig
