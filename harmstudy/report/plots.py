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


def harmful_share(harm: pd.DataFrame, title: str = "Share of responses judged harmful (95% Wilson CI)"):
    """Bars: harmful share per small model, one bar per rater, with CI whiskers."""
    raters = list(dict.fromkeys(harm["rater"]))
    models = list(dict.fromkeys(harm["model"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 + 1.1 * len(models) * len(raters) / 3), 4.2))
    width = 0.8 / len(raters)
    colors = sns.color_palette("colorblind", len(raters))
    for i, rater in enumerate(raters):
        sub = harm[harm["rater"] == rater].set_index("model").reindex(models)
        x = np.arange(len(models)) + (i - (len(raters) - 1) / 2) * width
        err = np.vstack([sub["harmful_share"] - sub["ci_low"], sub["ci_high"] - sub["harmful_share"]])
        ax.bar(x, sub["harmful_share"], width, yerr=err, capsize=2, label=rater, color=colors[i])
    ax.set_xticks(range(len(models)), models, rotation=12, ha="right" if len(models) > 3 else "center")
    ax.set_ylim(0, 1)
    ax.set_ylabel("harmful share")
    ax.set_title(title)
    ax.legend(title="rater", bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
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


def judge_agreement(table: pd.DataFrame, reference: str = "human",
                    title: str = "Judge vs students: agreement with 95% bootstrap CI"):
    """Dot-and-whisker per metric and judge; the human ceiling (students vs expert) as a grey bar."""
    sub = table[(table["reference"] == reference) & (table["judge"] != "human")]
    ceiling = table[(table["judge"] == "human") & (table["reference"] == "expert")].set_index("metric")
    metrics = list(dict.fromkeys(sub["metric"]))
    judges = list(dict.fromkeys(sub["judge"]))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(metrics) * max(2, len(judges)) / 2 + 1.2))
    colors = sns.color_palette("colorblind", len(judges))
    for k, metric in enumerate(metrics):
        if metric in ceiling.index:
            ax.barh(k, ceiling.loc[metric, "estimate"], height=0.85, color="#eeeeee", zorder=0,
                    label="human ceiling (students vs expert)" if k == 0 else None)
        for i, judge in enumerate(judges):
            row = sub[(sub["metric"] == metric) & (sub["judge"] == judge)]
            if row.empty:
                continue
            y = k + (i - (len(judges) - 1) / 2) * 0.8 / max(1, len(judges))
            est, lo, hi = row[["estimate", "ci_low", "ci_high"]].iloc[0]
            ax.errorbar(est, y, xerr=[[est - lo], [hi - est]], fmt="o", color=colors[i], capsize=2,
                        label=judge if k == 0 else None)
    ax.set_yticks(range(len(metrics)), [METRIC_LABELS.get(m, m) for m in metrics])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(min(-0.1, ax.get_xlim()[0]), 1)
    ax.set_xlabel("agreement")
    ax.set_title(title)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    return fig


def annotated_heatmap(ax, shades: np.ndarray, labels: np.ndarray, *, fmt: str, cmap: str, xticklabels, yticklabels,
                      colorbar: str | None = None, xrotation: float = 0):
    """A grid of cells shaded by ``shades`` (0–1) with ``labels`` written in them.

    By hand (matplotlib's own "annotated heatmap" recipe) rather than ``seaborn.heatmap``: seaborn redraws the
    whole figure for every heatmap to check its tick labels, so a row of eleven took ~6 s of 04's run.
    """
    shades = np.asarray(shades, dtype=float)
    image = ax.imshow(np.ma.masked_invalid(shades), cmap=cmap, vmin=0, vmax=1, aspect="equal")
    colormap = plt.get_cmap(cmap)
    for (i, j), value in np.ndenumerate(np.asarray(labels)):
        r, g, b, _ = colormap(0.0 if np.isnan(shades[i, j]) else shades[i, j])
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
    annotated_heatmap(ax, mat.to_numpy(), mat.to_numpy(), fmt=".2f", cmap="viridis", xticklabels=judges,
                      yticklabels=judges, colorbar=METRIC_LABELS.get(metric, metric), xrotation=45)
    ax.set_title(f"Judge vs judge: {METRIC_LABELS.get(metric, metric)}")
    fig.tight_layout()
    return fig


def confusion_matrices(confusions: dict[str, pd.DataFrame], reference: str = "students"):
    """One heatmap per judge: row-normalised counts of (reference rank, judge rank)."""
    n = len(confusions)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), squeeze=False)
    for ax, (judge, table) in zip(axes[0], confusions.items()):
        shares = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
        annotated_heatmap(ax, shares.to_numpy(), table.to_numpy(), fmt="d", cmap="Blues",
                          xticklabels=RANK_LABELS.values(), yticklabels=RANK_LABELS.values())
        ax.set_title(judge)
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

    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="calibrated")
    for i, (judge, g) in enumerate(scores.groupby("judge", sort=True)):
        observed, predicted = calibration_curve(g["label"], g["p_harmful"], n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, "o-", color=sns.color_palette("colorblind")[i], label=judge)
    ax.set_xlabel("P(harmful), out of fold (bin mean)")
    ax.set_ylabel("students' harmful share")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper left")
    return fig


def agreement_vs_cost(table: pd.DataFrame, metric: str = "alpha_ordinal", reference: str = "human",
                      title: str = "Agreement with the students against cost"):
    """Each judge's agreement (95% CI) against its seconds per triple on this machine (log scale), by
    kind, with the human ceiling (students vs expert) as a band; judges without a measured cost at the
    left edge."""
    sub = table[(table["metric"] == metric) & (table["reference"] == reference) & (table["judge"] != "human")]
    ceiling = table[(table["metric"] == metric) & (table["judge"] == "human") & (table["reference"] == "expert")]
    fig, ax = plt.subplots(figsize=(7.8, 4.6))
    if not ceiling.empty:
        c = ceiling.iloc[0]
        ax.axhspan(c["ci_low"], c["ci_high"], color="#eeeeee", zorder=0)
        ax.axhline(c["estimate"], color="grey", lw=1, label=f"human ceiling, α = {c['estimate']:.2f}")
    costs = sub["seconds_per_triple"].astype(float)
    known = costs[costs > 0]
    floor = known.min() / 10 if len(known) else 1e-3
    kinds = list(dict.fromkeys(sub["kind"]))
    colors = dict(zip(kinds, sns.color_palette("colorblind", len(kinds))))
    estimates = dict(zip(sub["judge"], sub["estimate"]))
    labels = []
    for _, r in sub.iterrows():
        x = r["seconds_per_triple"] if r["seconds_per_triple"] > 0 else floor
        ax.errorbar(x, r["estimate"], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                    fmt="o", color=colors[r["kind"]], capsize=2, mfc="white" if not r["seconds_per_triple"] > 0 else None)
        base = r["judge"].split(" (authors'")[0]
        if base != r["judge"] and abs(estimates.get(base, np.inf) - r["estimate"]) < 0.02:
            continue                     # at the point of the judge with ties kept: its colour says which
        labels.append((x, r["estimate"], f"{r['judge']} (n={int(r['n'])})"))
    # Labels of judges within a decade of cost of each other are stacked, highest first, so none overlaps.
    gap = 0.055 * np.diff(ax.get_ylim())[0]
    placed = []
    for x, y, text in sorted(labels, key=lambda t: -t[1]):
        ly = min([y] + [py - gap for px, py in placed if abs(np.log10(px) - np.log10(x)) < 1])
        placed.append((x, ly))
        ax.annotate(text, (x, y), xytext=(x * 1.25, ly), textcoords="data", fontsize=7, va="center",
                    arrowprops=dict(arrowstyle="-", color="grey", lw=0.5) if ly < y - 1e-9 else None)
    for kind, color in colors.items():
        ax.plot([], [], "o", color=color, label=kind)
    ax.set_xscale("log")
    # room on both sides: the unmeasured judges' markers clear the left edge, the costliest judges' labels
    # (written to the right of their points) stay inside the axes, away from the legend
    xs = [x for x, _, _ in labels] or [floor]
    ax.set_xlim(floor / 3, max(xs) * 80)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("seconds per triple on this machine (log; open = not measured here)")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(title)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, fontsize=8)
    return fig


def external_agreement(table: pd.DataFrame, metric: str = "pyrit_alpha",
                       title: str = "Single responses (PyRIT's sets): our judges beside PyRIT's scorers"):
    """One row per category: each judge's estimate (95% CI) and PyRIT's published best and median scorer
    for the same metric, computed the same way."""
    sub = table[table["metric"] == metric]
    cats = list(dict.fromkeys(sub["category"]))
    judges = list(dict.fromkeys(sub["judge"]))
    colors = sns.color_palette("colorblind", len(judges))
    fig, ax = plt.subplots(figsize=(8.4, (0.35 + 0.1 * len(judges)) * len(cats) + 1.4))
    for k, cat in enumerate(cats):
        c = sub[sub["category"] == cat]
        ax.plot(c["published_best"].iloc[0], k, marker="|", ms=16, mew=2.5, color="black",
                label="PyRIT best published" if k == 0 else None)
        ax.plot(c["published_median"].iloc[0], k, marker="|", ms=16, mew=2.5, color="grey",
                label="PyRIT median published" if k == 0 else None)
        for i, judge in enumerate(judges):
            r = c[c["judge"] == judge]
            if r.empty:
                continue
            y = k + (i - (len(judges) - 1) / 2) * min(0.25, 0.8 / len(judges))   # a category's judges stay in its row
            est, lo, hi = r[["estimate", "ci_low", "ci_high"]].iloc[0]
            ax.errorbar(est, y, xerr=[[est - lo], [hi - est]], fmt="o", color=colors[i], capsize=2,
                        label=judge if k == 0 else None)
    ax.set_yticks(range(len(cats)), cats)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel({"pyrit_alpha": "Krippendorff's α (ordinal; humans + judge)", "pyrit_mae": "MAE (0–1)"}.get(metric, metric))
    ax.set_title(title)
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False, fontsize=8)
    return fig


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
    estimate (below 0 shaded as 0); out-of-fold cells (learned from the same set) marked with a frame."""
    from matplotlib.patches import Rectangle

    rows = list(dict.fromkeys(table["learned_from"]))
    cols = list(dict.fromkeys(table["tested_on"]))
    est = table.pivot(index="learned_from", columns="tested_on", values="estimate").reindex(index=rows, columns=cols)
    low = table.pivot(index="learned_from", columns="tested_on", values="ci_low").reindex(index=rows, columns=cols)
    high = table.pivot(index="learned_from", columns="tested_on", values="ci_high").reindex(index=rows, columns=cols)
    labels = np.array([[f"{e:.2f}\n[{lo:.2f}, {hi:.2f}]" if not np.isnan(e) else "" for e, lo, hi in zip(*r)]
                       for r in zip(est.to_numpy(), low.to_numpy(), high.to_numpy())], dtype=object)
    fig, ax = plt.subplots(figsize=(1.25 * len(cols) + 3.2, 0.62 * len(rows) + 2.2))
    annotated_heatmap(ax, est.clip(lower=0).to_numpy(), labels, fmt="", cmap="viridis", xticklabels=cols,
                      yticklabels=rows, colorbar="α (paper: ordinal vs students; PyRIT: PyRIT's α)", xrotation=35)
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
