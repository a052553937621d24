"""The learned judges' figures: calibration, the learning curve, the transfer matrix, the feature decision."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from harmstudy.report.plots.style import GROUP_COLORS, annotated_heatmap


def calibration(scores: pd.DataFrame, bins: int = 10, title: str = "Learned judges: out-of-fold calibration"):
    """Reliability diagram: mean P(harmful) per bin against the share the students called harmful, the axes
    fitted to the bins (the diagonal of perfect calibration kept in view over their range). A colour, line
    style and marker per judge: no two judges look alike."""
    from sklearn.calibration import calibration_curve

    judges = sorted(scores["judge"].unique())
    fig, ax = plt.subplots(figsize=(8.2, 4.6))
    colors = sns.color_palette("colorblind", min(len(judges), 10))
    styles, markers = ["-", "--", ":"], ["o", "s", "^"]
    curves = []
    for i, judge in enumerate(judges):
        g = scores[scores["judge"] == judge]
        observed, predicted = calibration_curve(g["label"], g["p_harmful"], n_bins=bins, strategy="quantile")
        curves.append((predicted, observed))
        ax.plot(predicted, observed, color=colors[i % 10], ls=styles[i // 10 % 3], marker=markers[i // 10 % 3],
                label=f"{judge} (n={len(g)})", ms=4)
    xs = np.concatenate([p for p, _ in curves]) if curves else np.array([0.0, 1.0])
    ys = np.concatenate([o for _, o in curves] + [xs]) if curves else xs
    pad_x, pad_y = 0.05 * max(np.ptp(xs), 0.05), 0.05 * max(np.ptp(ys), 0.05)
    x0, x1 = max(0.0, xs.min() - pad_x), min(1.0, xs.max() + pad_x)
    ax.plot([x0, x1], [x0, x1], color="grey", lw=0.8, ls="--", label="calibrated (y = x)")
    ax.set_xlim(x0, x1)
    ax.set_ylim(max(0.0, ys.min() - pad_y), min(1.0, ys.max() + pad_y))
    ax.set_xlabel("P(harmful), out of fold (bin mean)")
    ax.set_ylabel("students' harmful share")
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)    # beside the lines, not on them
    fig.tight_layout()
    return fig


def learning_curve(summary: pd.DataFrame, ceiling: float | None = None,
                   title: str = "Label more, or pay for an API judge? α vs students on held-out sheets"):
    """The learned judge's α against the number of student sheets it learned from (mean over draws, the
    range between the lowest and highest draw shaded), the paper's API judges on the same held-out sheets
    and the students' ceiling as lines. Colours are the judge kinds' of every figure (:data:`GROUP_COLORS`);
    the API judges are told apart by line style."""
    curve = summary[summary["sheets"].notna()]
    lines = summary[summary["sheets"].isna()]
    fig, ax = plt.subplots(figsize=(7.6, 5.6))
    learned, api = GROUP_COLORS["learned from labels (offline)"], GROUP_COLORS["API judge (the paper's)"]
    for judge, g in curve.groupby("judge"):
        ax.fill_between(g["sheets"], g["alpha_min"], g["alpha_max"], color=learned, alpha=0.2, lw=0)
        ax.plot(g["sheets"], g["alpha_mean"], "o-", color=learned, label=f"{judge} (mean of {int(g['draws'].max())} draws; range shaded)")
    for style, r in zip(["--", "-.", ":", (0, (5, 1, 1, 1))] * 3, lines.itertuples()):
        ax.axhline(r.alpha_mean, color=api, ls=style, lw=1.4, label=f"{r.judge} (paper's judge, same held-out sheets)")
    if ceiling is not None:
        ax.axhline(ceiling, color=GROUP_COLORS["people"], lw=1, label="the students' ceiling (students vs the expert)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(curve["sheets"].unique()), [str(int(k)) for k in sorted(curve["sheets"].unique())])
    ax.set_xlabel("student sheets learned from (each ~60 prompts × 3 responses)")
    ax.set_ylabel("Krippendorff's α (ordinal) vs students")
    ax.set_title(title, fontsize=10)
    ax.legend(bbox_to_anchor=(0.5, -0.16), loc="upper center", frameon=False, fontsize=8)     # under the axes
    fig.tight_layout()
    return fig


def transfer_matrix(table: pd.DataFrame, title: str = "Which judge travels? α where it is tested, by what it learned from"):
    """The transfer matrix as two heatmaps, one per kind of α, each on its own colour scale: rows = what a
    judge learned from, columns = where it is tested (left, the paper: α (ordinal) vs students; right, the
    PyRIT sets: PyRIT's α with its human raters). Each cell its estimate and CI, shaded by the estimate on a
    diverging scale centred at 0 (chance) and fitted to that panel's cells; out-of-fold cells (learned from
    the same set) framed in red."""
    from matplotlib.patches import Rectangle

    rows = list(dict.fromkeys(table["learned_from"]))
    cols = list(dict.fromkeys(table["tested_on"]))

    def grid(values):
        return table.pivot(index="learned_from", columns="tested_on", values=values).reindex(index=rows, columns=cols)

    est, low, high, how = grid("estimate"), grid("ci_low"), grid("ci_high"), grid("how")
    labels = np.array([[f"{e:.2f}\n[{lo:.2f}, {hi:.2f}]" if not np.isnan(e) else "" for e, lo, hi in zip(*r)]
                       for r in zip(est.to_numpy(), low.to_numpy(), high.to_numpy())], dtype=object)
    paper = [j for j, c in enumerate(cols) if c == "paper"]
    pyrit = [j for j, c in enumerate(cols) if c != "paper"]
    groups = [(g, cmap, bar) for g, cmap, bar in
              [(paper, "PuOr", "α (ordinal) vs students; 0 = chance"),
               (pyrit, "RdBu", "PyRIT's α (with its raters); 0 = chance")] if g]
    fig, axes = plt.subplots(1, len(groups), figsize=(1.1 * len(cols) + 5.2, 0.62 * len(rows) + 2.4), squeeze=False,
                             layout="constrained", gridspec_kw={"width_ratios": [len(g) + 1.5 for g, _, _ in groups]})
    for k, (ax, (g, cmap, bar)) in enumerate(zip(axes[0], groups)):
        part = est.to_numpy()[:, g]
        limit = max(0.3, np.ceil(np.nanmax(np.abs(part)) * 10) / 10) if np.isfinite(part).any() else 1.0
        annotated_heatmap(ax, part, labels[:, g], fmt="", cmap=cmap, xticklabels=[cols[j] for j in g], vmin=-limit,
                          vmax=limit, yticklabels=rows if k == 0 else [""] * len(rows), colorbar=bar, xrotation=35)
        ax.set_aspect("auto")                  # the two panels' cells the same size, no gap between them
        for t in ax.texts:
            t.set_fontsize(7)
        for (i, jj), h in np.ndenumerate(how.to_numpy()[:, g]):
            if isinstance(h, str) and h.startswith("out of fold"):
                ax.add_patch(Rectangle((jj - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=1.6))
        ax.set_xlabel("tested on the paper" if g is paper else "tested on a PyRIT set")
    axes[0][0].set_ylabel("learned from")
    fig.suptitle(f"{title}\n(red frame: out of fold — the judge learned from this set, never from the scored fold)",
                 fontsize=10)
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
    ax.set_xlabel(textwrap.fill(f"α vs students minus {t['baseline'].iloc[0]}'s (α {t['baseline_alpha'].iloc[0]:.3f})", 45))
    fig.suptitle(f"{textwrap.fill(title, 100)}\nrule: adopt the cheapest whose CI is above 0 — {t['decision'].iloc[0]}",
                 fontsize=10)
    fig.tight_layout()
    return fig
