"""Single-response sets' figures (PyRIT's and a user's labelled set): agreement with people, and paired
differences between judges."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from harmstudy.kinds import JudgeKind
from harmstudy.report.plots.style import GROUP_COLORS, kind_group

#: The kinds of an LLM judge that scores each response alone (a legend names them in words).
POINTWISE_KINDS = (JudgeKind.POINTWISE, JudgeKind.POINTWISE_LIKERT, JudgeKind.POINTWISE_LIKERT_CALIBRATED)


def external_agreement(table: pd.DataFrame, metric: str = "pyrit_alpha",
                       title: str = "Single responses (PyRIT's sets): our judges beside PyRIT's scorers"):
    """One row per category: each judge's estimate (95% CI) and PyRIT's published best and median scorer
    for the same metric, computed the same way."""
    sub = table[table["metric"] == metric]
    cats = list(dict.fromkeys(sub["category"]))
    judges = list(dict.fromkeys(sub["judge"]))
    kinds = sub.drop_duplicates("judge").set_index("judge")["kind"].to_dict() if "kind" in sub else {}
    # a colour is a judge kind, as in every figure (GROUP_COLORS); a marker tells the judges of a kind apart
    colors = [GROUP_COLORS[kind_group(kinds.get(j) or "learned")] for j in judges]
    marks = {g: iter("osD^vP*X") for g in set(colors)}
    markers = [next(marks[c]) for c in colors]
    fig, ax = plt.subplots(figsize=(8.4, (0.35 + 0.1 * len(judges)) * len(cats) + 2.4), layout="constrained")
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
            ax.errorbar(est, y, xerr=[[est - lo], [hi - est]], fmt=markers[i], color=colors[i], capsize=2, zorder=3,
                        label=plain_judge(judge, kinds.get(judge)) if k == 0 else None)
    ax.set_yticks(range(len(cats)), [str(c).replace("_", " ") for c in cats])
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel({"pyrit_alpha": "Krippendorff's α (ordinal; humans + judge)", "pyrit_mae": "MAE (0–1)"}.get(metric, metric))
    ax.set_title(title)
    fig.legend(loc="outside lower center", frameon=False, fontsize=8)      # under the axes, not beside them
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
    if words is None and kind and JudgeKind.of(kind) in POINTWISE_KINDS:
        words = "an LLM reading each response alone" + (
            ", its scale mapped out of fold" if kind == JudgeKind.POINTWISE_LIKERT_CALIBRATED else "")
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
