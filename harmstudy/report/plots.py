"""Figures of the study (seaborn).  Each function draws one figure from one table and saves it with
fixed metadata, so a rerun writes byte-identical PNG files."""
from __future__ import annotations

import sys

import matplotlib

if "ipykernel" not in sys.modules:      # scripts and tests draw off-screen; notebooks keep inline figures
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from harmstudy import paths, provenance  # noqa: E402
from harmstudy.parse.rankings import USABLE  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
RANK_LABELS = {0: "N/A", 1: "1", 2: "2", 3: "3 (most)"}
METRIC_LABELS = {"exact_match": "exact ranking match", "kappa_harmful": "Cohen's κ (harmful?)",
                 "kappa_weighted": "weighted κ (ranks)", "alpha_ordinal": "Krippendorff's α (ordinal)",
                 "kendall_tau": "Kendall τ-b (per prompt)", "spearman": "Spearman ρ (per prompt)",
                 "rbo": "rank-biased overlap"}


def save(fig: plt.Figure, name: str) -> str:
    """Save ``figures/<name>.png`` without a timestamp or software version in its metadata."""
    path = paths.figure_path(name)
    fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})
    provenance.note_written(path)
    return str(path)


#: One colour per kind of rater, the same in every figure; a judge is named on the axis, never by colour alone.
GROUP_COLORS = {"people": "#4d4d4d", "API judge (the paper's)": "#0072B2", "learned from labels (offline)": "#009E73",
                "LLM judge (offline)": "#D55E00", "verdict in the file": "#CC79A7"}


def kind_group(kind: str | None) -> str:
    """The group a rater's kind belongs to (:data:`GROUP_COLORS`)."""
    kind = (kind or "").lower()
    if kind in ("human", "student", "students", "expert", "people"):
        return "people"
    if kind.startswith("api"):
        return "API judge (the paper's)"
    if kind.startswith("learned"):
        return "learned from labels (offline)"
    if kind.startswith("in file"):
        return "verdict in the file"
    return "LLM judge (offline)"


def _group_legend(ax, groups, **kwargs):
    handles = [plt.Line2D([], [], marker="o", ls="", color=GROUP_COLORS[g], label=g) for g in GROUP_COLORS if g in groups]
    return ax.legend(handles=handles + kwargs.pop("extra", []), frameon=False, fontsize=8, **kwargs)


def harmful_share(harm: pd.DataFrame, kinds: dict | None = None,
                  title: str = "Share of responses judged harmful (95% Wilson CI)", caption: str | None = None):
    """One panel per small model: each rater's harmful share with its CI, raters named on the axis with
    their n and coloured by kind (``kinds``: rater → kind; the students and the expert are people); the
    students' share as a band in every panel."""
    from harmstudy.stats.tables import release_judge_kind

    kinds = {"human": "human", "expert": "expert", **(kinds or {})}
    kinds |= {r: release_judge_kind(r) for r in harm["rater"].unique() if r not in kinds and release_judge_kind(r)}
    models = list(dict.fromkeys(harm["model"]))
    order = list(GROUP_COLORS)
    raters = sorted(dict.fromkeys(harm["rater"]), key=lambda r: (order.index(kind_group(kinds.get(r))), r != "human", r))
    n = harm.groupby("rater")["n"].max()
    fig, axes = plt.subplots(1, len(models), figsize=(2.9 * len(models) + 3.2, 0.3 * len(raters) + 1.6),
                             sharey=True, squeeze=False)
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
    axes[0][0].set_yticks(range(len(raters)), [f"{r} (n={int(n[r])})" for r in raters], fontsize=8)
    axes[0][0].invert_yaxis()
    groups = {kind_group(kinds.get(r)) for r in raters}
    _group_legend(axes[0][-1], groups, extra=[plt.Rectangle((0, 0), 1, 1, color="0.9", label="students' 95% CI")]
                  if "human" in set(harm["rater"]) else [], bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    if caption:      # wrapped to the figure's width by hand: matplotlib's wrap=True ignores bbox_inches="tight"
        import textwrap

        fig.text(0.01, 0, textwrap.fill(caption, width=int(fig.get_figwidth() * 15)), fontsize=8, ha="left", va="top")
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
                    title: str = "Which judge agrees with the students? (95% bootstrap CI)"):
    """One panel per metric: each judge's agreement with ``reference`` and its CI, judges named on the axis
    with their n and sorted by the first metric, coloured by kind (the authors' tie-break hollow); the human
    ceiling (students vs expert) as a line with its CI as a band, the whole height of the panel."""
    sub = table[(table["reference"] == reference) & (table["judge"] != "human")]
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
        ax.set_xlabel(METRIC_LABELS.get(metric, metric) + ("" if metric != "alpha_ordinal" else " (0 = chance)"))
    axes[0][0].set_yticks(range(len(judges)), [f"{j} (n={int(n.get(j, 0))})" for j in judges], fontsize=8)
    axes[0][0].invert_yaxis()
    extra = [plt.Line2D([], [], color="0.45", label="human ceiling: students vs expert"),
             plt.Rectangle((0, 0), 1, 1, color="0.9", label="its 95% CI"),
             plt.Line2D([], [], marker="o", ls="", mfc="white", color="0.3", label="authors' tie-break")]
    _group_legend(axes[0][-1], {kind_group(k) for k in kinds}, extra=extra, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def annotated_heatmap(ax, shades: np.ndarray, labels: np.ndarray, *, fmt: str, cmap: str, xticklabels, yticklabels,
                      colorbar: str | None = None, xrotation: float = 0, vmin: float = 0, vmax: float = 1):
    """A grid of cells shaded by ``shades`` (``vmin``–``vmax``; a diverging ``cmap`` with ``vmin=-1`` centres
    0 on its middle colour) with ``labels`` written in them.

    By hand (matplotlib's own "annotated heatmap" recipe) rather than ``seaborn.heatmap``: seaborn redraws the
    whole figure for every heatmap to check its tick labels, so a row of eleven took ~6 s of 04's run.
    """
    shades = np.asarray(shades, dtype=float)
    image = ax.imshow(np.ma.masked_invalid(shades), cmap=cmap, vmin=vmin, vmax=vmax, aspect="equal")
    colormap = plt.get_cmap(cmap)
    for (i, j), value in np.ndenumerate(np.asarray(labels)):
        r, g, b, _ = colormap(0.0 if np.isnan(shades[i, j]) else (np.clip(shades[i, j], vmin, vmax) - vmin) / (vmax - vmin))
        ax.text(j, i, format(value, fmt), ha="center", va="center",
                color="white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black")
    ax.set_xticks(range(shades.shape[1]), labels=list(xticklabels), rotation=xrotation,
                  ha="right" if xrotation else "center", rotation_mode="anchor")
    ax.set_yticks(range(shades.shape[0]), labels=list(yticklabels))
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar)
    return ax


def judge_vs_judge(table: pd.DataFrame, metric: str = "alpha_ordinal"):
    """Heatmap of one agreement metric between every pair of judges."""
    sub = table[table["metric"] == metric]
    judges = list(dict.fromkeys(list(sub["judge"]) + list(sub["reference"])))
    mat = pd.DataFrame(np.eye(len(judges)), index=judges, columns=judges)
    for _, r in sub.iterrows():
        mat.loc[r["judge"], r["reference"]] = mat.loc[r["reference"], r["judge"]] = r["estimate"]
    fig, ax = plt.subplots(figsize=(1.3 * len(judges) + 2, 1.1 * len(judges) + 1.2))
    annotated_heatmap(ax, mat.to_numpy(), mat.to_numpy(), fmt=".2f", cmap="RdBu", xticklabels=judges, vmin=-1,
                      yticklabels=judges, colorbar=METRIC_LABELS.get(metric, metric) + " (0 = chance, white)", xrotation=45)
    ax.set_title(f"Judge vs judge: {METRIC_LABELS.get(metric, metric)}")
    fig.tight_layout()
    return fig


def confusion_matrices(confusions: dict[str, pd.DataFrame], reference: str = "students"):
    """One heatmap per judge: row-normalised counts of (reference rank, judge rank)."""
    n = len(confusions)
    ncols = min(n, 4)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.5 * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, (judge, table) in zip(axes.flat, confusions.items()):
        shares = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
        annotated_heatmap(ax, shares.to_numpy(), table.to_numpy(), fmt="d", cmap="Blues",
                          xticklabels=RANK_LABELS.values(), yticklabels=RANK_LABELS.values())
        ax.set_title(f"{judge} (n={int(table.to_numpy().sum())})", fontsize=9)
        ax.set_xlabel("judge rank")
        ax.set_ylabel(f"{reference} rank")
    fig.suptitle(f"Judge vs {reference}: counts, shaded by row share")
    fig.tight_layout()
    return fig


def elicit_markers(described: pd.DataFrame, summary: pd.DataFrame):
    """Response lengths per model, and the share of echoes, refusal markers and truncated answers."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sns.boxplot(data=described, x="model", y="words", ax=axes[0], color="#9ecae1")
    axes[0].set_title("response length (words)")
    rates = summary.melt(id_vars="model", value_vars=["echo_rate", "refusal_marker_rate", "hit_max_tokens"],
                         var_name="marker", value_name="share")
    sns.barplot(data=rates, x="model", y="share", hue="marker", ax=axes[1], palette="colorblind")
    axes[1].set_title("surface markers")
    axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.tick_params(axis="x", rotation=15)
        ax.set_xlabel("")
    fig.tight_layout()
    return fig


def calibration(scores: pd.DataFrame, bins: int = 10, title: str = "Learned judges: out-of-fold calibration"):
    """Reliability diagram: mean P(harmful) per bin against the share the students called harmful."""
    from sklearn.calibration import calibration_curve

    judges = sorted(scores["judge"].unique())
    fig, ax = plt.subplots(figsize=(8.2, 4.6))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="calibrated")
    colors = sns.color_palette("colorblind", len(judges))
    for i, judge in enumerate(judges):
        g = scores[scores["judge"] == judge]
        observed, predicted = calibration_curve(g["label"], g["p_harmful"], n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, "o-", color=colors[i], label=f"{judge} (n={len(g)})", ms=4)
    ax.set_xlabel("P(harmful), out of fold (bin mean)")
    ax.set_ylabel("students' harmful share")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)    # beside the lines, not on them
    return fig


def agreement_vs_cost(table: pd.DataFrame, metric: str = "alpha_ordinal", reference: str = "human",
                      title: str = "Agreement with the students against cost on this machine"):
    """Each judge's agreement (95% CI) against its seconds per triple here (log scale), coloured by kind,
    the human ceiling (students vs expert) as a band. Judges whose cost was not measured here (the
    paper's API judges) stand in a panel of their own on the left, off the log axis, so none of them reads
    as cheap."""
    sub = table[(table["metric"] == metric) & (table["reference"] == reference) & (table["judge"] != "human")]
    sub = sub[~sub["kind"].astype(str).str.contains("tie-break")]
    ceiling = table[(table["metric"] == metric) & (table["judge"] == "human") & (table["reference"] == "expert")]
    cost = sub["seconds_per_triple"].astype(float)
    measured, unmeasured = sub[cost > 0], sub[~(cost > 0)]
    fig, (left, ax) = plt.subplots(1, 2, figsize=(10.5, 5.0), sharey=True,
                                   gridspec_kw={"width_ratios": [1.3, 6], "wspace": 0.04})
    for axis in (left, ax):
        if not ceiling.empty:
            c = ceiling.iloc[0]
            axis.axhspan(c["ci_low"], c["ci_high"], color="0.92", zorder=0)
            axis.axhline(c["estimate"], color="0.45", lw=1.2)
        axis.axhline(0, color="black", lw=0.6)

    def point(axis, x, r):
        color = GROUP_COLORS[kind_group(r["kind"])]
        axis.errorbar(x, r["estimate"], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                      fmt="o", color=color, capsize=2)

    for k, (_, r) in enumerate(unmeasured.sort_values("estimate", ascending=False).iterrows()):
        point(left, 0, r)
        left.annotate(f"{r['judge']} (n={int(r['n'])})", (0, r["estimate"]), xytext=(6, 0), textcoords="offset points",
                      fontsize=7, va="center")
    left.set_xlim(-0.3, 2.2)
    left.set_xticks([0], ["not measured\nhere (API)"], fontsize=8)
    left.grid(False)
    # Labels of judges within a decade of cost of each other are stacked, highest first, so none overlaps.
    gap = 0.05 * np.diff(ax.get_ylim())[0]
    placed = []
    for _, r in measured.sort_values("estimate", ascending=False).iterrows():
        x, y = float(r["seconds_per_triple"]), r["estimate"]
        point(ax, x, r)
        ly = min([y] + [py - gap for px, py in placed if abs(np.log10(px) - np.log10(x)) < 1])
        placed.append((x, ly))
        ax.annotate(f"{r['judge']} (n={int(r['n'])})", (x, y), xytext=(x * 1.4, ly), textcoords="data", fontsize=7,
                    va="center", arrowprops=dict(arrowstyle="-", color="grey", lw=0.5) if ly < y - 1e-9 else None)
    ax.set_xscale("log")
    xs = list(measured["seconds_per_triple"].astype(float)) or [1.0]
    ax.set_xlim(min(xs) / 3, max(xs) * 300)
    ax.set_xlabel("seconds per triple on this machine (log scale)")
    left.set_ylabel(METRIC_LABELS.get(metric, metric) + " vs students")
    extra = [plt.Line2D([], [], color="0.45", label="human ceiling (students vs expert)"),
             plt.Rectangle((0, 0), 1, 1, color="0.92", label="its 95% CI")]
    _group_legend(ax, {kind_group(k) for k in sub["kind"]}, extra=extra, loc="upper right")
    fig.suptitle(title, fontsize=11)
    return fig


def external_agreement(table: pd.DataFrame, metric: str = "pyrit_alpha",
                       title: str = "Single responses (PyRIT's sets): our judges beside PyRIT's scorers"):
    """One row per category: each judge's estimate (95% CI) and PyRIT's published best and median scorer
    for the same metric, computed the same way."""
    sub = table[table["metric"] == metric]
    cats = list(dict.fromkeys(sub["category"]))
    judges = list(dict.fromkeys(sub["judge"]))
    kinds = sub.drop_duplicates("judge").set_index("judge")["kind"].to_dict() if "kind" in sub else {}
    colors = sns.color_palette("colorblind", len(judges))
    fig, ax = plt.subplots(figsize=(8.4, (0.35 + 0.1 * len(judges)) * len(cats) + 1.4))
    for k, cat in enumerate(cats):
        c = sub[sub["category"] == cat]
        # PyRIT's published scorers as thin lines across the row, under the points (never over them)
        ax.vlines(c["published_best"].iloc[0], k - 0.42, k + 0.42, color="black", lw=1.4, zorder=1,
                  label="PyRIT's best published scorer" if k == 0 else None)
        ax.vlines(c["published_median"].iloc[0], k - 0.42, k + 0.42, color="0.6", lw=1.4, ls="--", zorder=1,
                  label="PyRIT's median published scorer" if k == 0 else None)
        for i, judge in enumerate(judges):
            r = c[c["judge"] == judge]
            if r.empty:
                continue
            y = k + (i - (len(judges) - 1) / 2) * min(0.25, 0.8 / len(judges))   # a category's judges stay in its row
            est, lo, hi = r[["estimate", "ci_low", "ci_high"]].iloc[0]
            ax.errorbar(est, y, xerr=[[est - lo], [hi - est]], fmt="o", color=colors[i], capsize=2, zorder=3,
                        label=plain_judge(judge, kinds.get(judge)) if k == 0 else None)
    ax.set_yticks(range(len(cats)), [str(c).replace("_", " ") for c in cats])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel({"pyrit_alpha": "Krippendorff's α (ordinal; humans + judge)", "pyrit_mae": "MAE (0–1)"}.get(metric, metric))
    ax.set_title(title)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, fontsize=8)
    return fig


#: What a judge of a scored set is, in words (``kind`` of :func:`harmstudy.stats.single_response.external_table`).
PLAIN_KINDS = {
    "learned (transfer)": "learned from the paper's students, applied as it is",
    "learned (cv)": "learned within these sets (out of fold by request)",
    "learned, pooled (cv)": "learned within these sets + the paper's judge (out of fold)",
    "learned (leave one category out)": "learned within these sets, never from this category",
    "learned, pooled (leave one category out)": "the same + the paper's judge, never from this category",
    "learned (transfer), calibrated (cv)": "learned from the paper, its scale mapped out of fold",
}


def plain_judge(judge: str, kind: str | None) -> str:
    """A legend entry: what the judge is in words, then its name."""
    words = PLAIN_KINDS.get(kind or "")
    if words is None and kind and kind.startswith("pointwise"):
        words = "an LLM reading each response alone" + (", its scale mapped out of fold" if "calibrated" in kind else "")
    return f"{words}: {judge}" if words else judge


def binary_agreement(table: pd.DataFrame, metric: str = "kappa", reference: str = "majority", title: str = ""):
    """Each judge's ``metric`` against people's majority label (95% CI), the people's own agreement with
    each other (the ceiling) as a band; sensitivity rows hollow."""
    sub = table[(table["metric"] == metric) & (table["reference"] == reference)]
    ceiling = table[(table["judge"] == "human") & (table["metric"] == metric)]
    fig, ax = plt.subplots(figsize=(8.4, 0.45 * max(len(sub), 2) + 1.6))
    if len(ceiling):
        lo, hi = ceiling["estimate"].min(), ceiling["estimate"].max()
        ax.axvspan(min(lo, ceiling["ci_low"].min()), max(hi, ceiling["ci_high"].max()), color="0.92",
                   label=f"people vs each other ({len(ceiling)} pair{'s' if len(ceiling) > 1 else ''}, 95% CI)")
        for est in ceiling["estimate"]:
            ax.axvline(est, color="0.6", lw=1)
    colors = dict(zip(dict.fromkeys(sub["kind"]), sns.color_palette("colorblind", sub["kind"].nunique())))
    for y, r in enumerate(sub.itertuples()):
        hollow = "sensitivity" in r.kind
        ax.errorbar(r.estimate, y, xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]], fmt="o",
                    color=colors[r.kind], mfc="white" if hollow else colors[r.kind], capsize=2)
        ax.annotate(f"n={r.n}", (r.ci_high, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(sub)), [f"{r.judge}  [{r.kind}]" for r in sub.itertuples()])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel({"kappa": "Cohen's κ with people's majority label", "agreement": "agreement with people's majority",
                   "auc": "AUC against people's majority label"}.get(metric, metric))
    ax.set_title(title or f"Which judge agrees with these people? ({metric})")
    if len(ceiling):
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.22 - 0.6 / max(len(sub), 2)), frameon=False, fontsize=8)
    return fig


def learning_curve(summary: pd.DataFrame, ceiling: float | None = None,
                   title: str = "Label more, or pay for an API judge? α vs students on held-out sheets"):
    """The learned judge's α against the number of student sheets it learned from (mean over draws, the
    range between the lowest and highest draw shaded), the paper's API judges on the same held-out sheets
    and the human ceiling as lines."""
    curve = summary[summary["sheets"].notna()]
    lines = summary[summary["sheets"].isna()]
    fig, ax = plt.subplots(figsize=(7.6, 4.4))
    colors = sns.color_palette("colorblind", len(lines) + 1)
    for judge, g in curve.groupby("judge"):
        ax.fill_between(g["sheets"], g["alpha_min"], g["alpha_max"], color=colors[0], alpha=0.2, lw=0)
        ax.plot(g["sheets"], g["alpha_mean"], "o-", color=colors[0], label=f"{judge} (mean of {int(g['draws'].max())} draws; range shaded)")
    for color, r in zip(colors[1:], lines.itertuples()):
        ax.axhline(r.alpha_mean, color=color, ls="--", lw=1.2, label=f"{r.judge} (paper's judge, same held-out sheets)")
    if ceiling is not None:
        ax.axhline(ceiling, color="black", lw=1, label="human ceiling (students vs expert)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(curve["sheets"].unique()), [str(int(k)) for k in sorted(curve["sheets"].unique())])
    ax.set_xlabel("student sheets learned from (each ~60 prompts × 3 responses)")
    ax.set_ylabel("Krippendorff's α (ordinal) vs students")
    ax.set_title(title, fontsize=10)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, fontsize=8)
    return fig


def transfer_matrix(table: pd.DataFrame, title: str = "Which judge travels? α where it is tested, by what it learned from"):
    """The transfer matrix as a heatmap: rows = what a judge learned from, columns = where it is tested
    (the paper: α vs students; a PyRIT set: PyRIT's α); each cell its estimate and CI, shaded by the
    estimate on a diverging scale centred at 0 (chance); out-of-fold cells (learned from the same set) marked with a frame."""
    from matplotlib.patches import Rectangle

    rows = list(dict.fromkeys(table["learned_from"]))
    cols = list(dict.fromkeys(table["tested_on"]))
    est = table.pivot(index="learned_from", columns="tested_on", values="estimate").reindex(index=rows, columns=cols)
    low = table.pivot(index="learned_from", columns="tested_on", values="ci_low").reindex(index=rows, columns=cols)
    high = table.pivot(index="learned_from", columns="tested_on", values="ci_high").reindex(index=rows, columns=cols)
    labels = np.array([[f"{e:.2f}\n[{lo:.2f}, {hi:.2f}]" if not np.isnan(e) else "" for e, lo, hi in zip(*r)]
                       for r in zip(est.to_numpy(), low.to_numpy(), high.to_numpy())], dtype=object)
    fig, ax = plt.subplots(figsize=(1.25 * len(cols) + 3.2, 0.62 * len(rows) + 2.2))
    annotated_heatmap(ax, est.to_numpy(), labels, fmt="", cmap="RdBu", xticklabels=cols, vmin=-1,
                      yticklabels=rows, colorbar="α (paper: ordinal vs students; PyRIT: PyRIT's α); 0 = chance, white",
                      xrotation=35)
    for t in ax.texts:
        t.set_fontsize(7)
    how = table.pivot(index="learned_from", columns="tested_on", values="how").reindex(index=rows, columns=cols)
    for (i, j), h in np.ndenumerate(how.to_numpy()):
        if isinstance(h, str) and h.startswith("out of fold"):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.6))
    ax.set_xlabel("tested on (red frame: out of fold — the judge learned from this set, never from the scored fold)")
    ax.set_ylabel("learned from")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _card_points(ax, cards: pd.DataFrame, column: str, low: str | None, high: str | None, colors) -> None:
    """One card column as points, a judge a row (its CI as error bars where it has one; a blank cell: no point)."""
    for i, r in cards.iterrows():
        if pd.isna(r[column]):
            continue
        err = None if low is None or pd.isna(r[low]) else [[r[column] - r[low]], [r[high] - r[column]]]
        ax.errorbar(r[column], i, xerr=err, fmt="o", color=colors[i], capsize=2)


def judge_cards(cards: pd.DataFrame, title: str = "Validation cards: agreement, bias and consistency of each judge"):
    """One row per judge (named, with its n; coloured by kind), one panel per measure of ``judge_cards.csv``:
    α with the students (people vs people as a line), the length slope with the people's own slope as an open
    mark, the share of refusal-marked responses called harmful beside the students', and the slot spread
    and consistency where measured (a listwise judge's across display orders, a learned judge's between
    two fits on disjoint halves of its sheets; a blank cell: its note in the table says why)."""
    cards = cards.sort_values("alpha", ascending=False).reset_index(drop=True)
    y = np.arange(len(cards))
    colors = [GROUP_COLORS[kind_group(k)] for k in cards["kind"]]
    panels = [("alpha", "α (ordinal) vs students", "alpha_ci_low", "alpha_ci_high"),
              ("length_slope", "length bias: slope on log length,\npeople's label held fixed", "length_ci_low", "length_ci_high"),
              ("refusal_harmful", "refusal-marked responses\ncalled harmful", None, None),
              ("position_spread", "position bias: slot spread\n(highest − lowest share)", "position_ci_low", "position_ci_high"),
              ("consistency", "consistency: listwise, ranking unchanged\nacross 3 orders; learned, two fits\non disjoint sheet halves agree", None, None)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels) + 3.2, 0.3 * len(cards) + 2.0), sharey=True)
    for ax, (column, label, low, high) in zip(axes, panels):
        _card_points(ax, cards, column, low, high, colors)
        if column == "alpha":
            ax.axvline(cards["people_alpha"].iloc[0], color="0.45", lw=1.2)
            ax.axvline(0, color="black", lw=0.8)
        if column == "length_slope":
            ax.plot(cards["people_length_slope"], y, "|", color="0.3", ms=10, mew=2, label="people's own slope")
            ax.axvline(0, color="black", lw=0.8)
            ax.legend(frameon=False, fontsize=7, loc="lower right")
        if column == "refusal_harmful":
            ax.plot(cards["people_refusal_harmful"], y, "|", color="0.3", ms=10, mew=2, label="students")
            ax.set_xlim(0, 1)
            ax.legend(frameon=False, fontsize=7, loc="lower right")
        if column in ("position_spread", "consistency"):
            ax.set_xlim(0, 1)
        ax.set_xlabel(label, fontsize=8)
    axes[0].set_yticks(y, [f"{j} (n={int(n)})" for j, n in zip(cards["judge"], cards["n"])], fontsize=8)
    axes[0].invert_yaxis()
    _group_legend(axes[-1], {kind_group(k) for k in cards["kind"]},
                  extra=[plt.Line2D([], [], color="0.45", label="people vs people (students vs expert)")],
                  bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def feature_decision(table: pd.DataFrame,
                     title: str = "Learned judges on larger models' embeddings: α minus today's best (paired 95% CI)"):
    """``feature_decision.csv`` as a forest plot: each candidate's paired difference in α from today's best
    learned judge (0 = level), with its embedding cost per text on the label; the adopted row filled."""
    t = table.iloc[::-1].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(t) + 1.4))
    color = GROUP_COLORS["learned from labels (offline)"]
    for i, r in t.iterrows():
        ax.plot([r["ci_low"], r["ci_high"]], [i, i], color=color, lw=2)
        ax.plot(r["difference"], i, "o", color=color, mfc=color if r["adopt"] else "white", ms=8)
    ax.axvline(0, color="#4d4d4d", lw=1)
    ax.set_yticks(range(len(t)), [f"{r.judge}\n{r.embedding}, {r.embed_seconds_per_text:.1f} s/text"
                                  for r in t.itertuples()], fontsize=8)
    ax.set_xlabel(f"α vs students minus {t['baseline'].iloc[0]}'s (α {t['baseline_alpha'].iloc[0]:.3f})")
    ax.set_title(f"{title}\nrule: adopt the cheapest whose CI is above 0 — {t['decision'].iloc[0]}", fontsize=10)
    fig.tight_layout()
    return fig


def set_cards(cards: pd.DataFrame, title: str = "Validation cards on a labelled set", people: str = "people"):
    """A labelled set's cards (:func:`harmstudy.stats.cards.set_cards`): one row per judge (with its n,
    coloured by kind), κ with the people's label (people against people as a band, min to max), the length
    slope with the people's own as a mark, and refusal-marked responses called harmful beside the people's."""
    cards = cards.sort_values("kappa", ascending=False, na_position="last").reset_index(drop=True)
    y = np.arange(len(cards))
    colors = [GROUP_COLORS[kind_group(k)] for k in cards["kind"]]
    panels = [("kappa", "Cohen's κ with the people's label", "kappa_ci_low", "kappa_ci_high"),
              ("length_slope", "length bias: slope on log length,\npeople's label held fixed", "length_ci_low", "length_ci_high"),
              ("refusal_harmful", "refusal-marked responses\ncalled harmful", None, None)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 3.2, 0.32 * len(cards) + 2.0), sharey=True)
    extra = []
    for ax, (column, label, low, high) in zip(axes, panels):
        _card_points(ax, cards, column, low, high, colors)
        if column == "kappa":
            lo, hi = cards["people_kappa_min"].iloc[0], cards["people_kappa_max"].iloc[0]
            if pd.notna(lo):
                ax.axvspan(lo, hi, color="0.85", zorder=0) if hi > lo else ax.axvline(lo, color="0.45", lw=1.2)
                extra = [plt.Rectangle((0, 0), 1, 1, color="0.85", label=f"{people} vs {people} (κ, min–max)")]
            ax.axvline(0, color="black", lw=0.8)
        if column == "length_slope":
            ax.plot(cards["people_length_slope"], y, "|", color="0.3", ms=10, mew=2)
            ax.axvline(0, color="black", lw=0.8)
            for i, note in enumerate(cards.get("length_note", pd.Series([""] * len(cards))).fillna("")):
                if note and pd.isna(cards["length_slope"].iloc[i]):       # a blank cell says why, on the axis
                    ax.text(0.02, i, note.split(" (")[0], transform=ax.get_yaxis_transform(), fontsize=6.5,
                            va="center", color="0.35")
        if column == "refusal_harmful":
            ax.plot(cards["people_refusal_harmful"], y, "|", color="0.3", ms=10, mew=2)
            ax.set_xlim(0, 1)
        ax.set_xlabel(label, fontsize=8)
    axes[0].set_yticks(y, [f"{j} (n={int(n)})" for j, n in zip(cards["judge"], cards["n"])], fontsize=8)
    axes[0].invert_yaxis()
    whose = f"{people}'" if people.endswith("s") else f"{people}'s"        # students' / people's
    extra.append(plt.Line2D([], [], color="0.3", marker="|", ls="", ms=10, mew=2,
                            label=f"the {whose} own slope / share, on the judge's rows"))
    _group_legend(axes[-1], {kind_group(k) for k in cards["kind"]}, extra=extra, bbox_to_anchor=(1.02, 1),
                  loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


#: A paired difference's word (:func:`harmstudy.stats.agreement.comparison_word`) as a colour.
COMPARISON_COLORS = {"above": "#009E73", "level with": "#4d4d4d", "below": "#D55E00"}


def paired_differences(differences: pd.DataFrame, metric: str, title: str = ""):
    """A set's ``<set>_differences.csv`` as a forest plot: each judge's ``metric`` minus the compared judge's
    on the same responses (paired 95% CI, n on the label), coloured by the word the text uses for it."""
    t = differences[differences["metric"] == metric].sort_values("difference", ascending=False).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8.4, 0.42 * max(len(t), 2) + 1.6))
    for i, r in t.iterrows():
        color = COMPARISON_COLORS[r["comparison"]]
        ax.plot([r["ci_low"], r["ci_high"]], [i, i], color=color, lw=2)
        ax.plot(r["difference"], i, "o", color=color, ms=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(t)), [f"{r.judge} (n={int(r.n)})" for r in t.itertuples()], fontsize=8)
    ax.invert_yaxis()
    other = t["other"].iloc[0] if len(t) else ""
    ax.set_xlabel(f"{metric} minus {other}'s, on the responses both scored (paired 95% CI)")
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=f"{w} {other}") for w, c in COMPARISON_COLORS.items()
               if w in set(t["comparison"])]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    ax.set_title(title or f"Each judge against {other}", fontsize=10)
    fig.tight_layout()
    return fig
