"""The learned judges' figures: calibration, the learning curve, the transfer matrix, the feature decision."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from harmstudy.report.plots.style import GROUP_COLORS, annotated_heatmap


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
