"""Validation cards: agreement, bias and consistency of each judge, on the paper's triples and on a set."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harmstudy.report.plots.style import GROUP_COLORS, group_legend, kind_group


def card_points(ax, cards: pd.DataFrame, column: str, low: str | None, high: str | None, colors) -> None:
    """One card column as points, a judge a row (its CI as error bars where it has one; a blank cell: no point)."""
    for i, r in cards.iterrows():
        if pd.isna(r[column]):
            continue
        err = None if low is None or pd.isna(r[low]) else [[r[column] - r[low]], [r[high] - r[column]]]
        ax.errorbar(r[column], i, xerr=err, fmt="o", color=colors[i], capsize=2)


def judge_cards(cards: pd.DataFrame, title: str = "Validation cards: agreement, bias and consistency of each judge",
                names: dict | None = None):
    """One row per judge (named, with its n; coloured by kind), one panel per measure of ``judge_cards.csv``:
    α with the students (people vs people as a line), the length slope with the people's own slope as an open
    mark, the share of refusal-marked responses called harmful beside the students', and the slot spread
    and consistency where measured (a listwise judge's across display orders, a learned judge's between
    two fits on disjoint halves of its sheets; a blank cell: its note in the table says why)."""
    if names:                                  # only these judges, under their plain names
        cards = cards[cards["judge"].isin(names)]
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
        card_points(ax, cards, column, low, high, colors)
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
    axes[0].set_yticks(y, [f"{(names or {}).get(j, j)} (n={int(n)})" for j, n in zip(cards["judge"], cards["n"])],
                       fontsize=8)
    axes[0].invert_yaxis()
    group_legend(axes[-1], {kind_group(k) for k in cards["kind"]},
                  extra=[plt.Line2D([], [], color="0.45", label="people vs people (students vs expert)")],
                  bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.suptitle(title, fontsize=11)
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
        card_points(ax, cards, column, low, high, colors)
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
    group_legend(axes[-1], {kind_group(k) for k in cards["kind"]}, extra=extra, bbox_to_anchor=(1.02, 1),
                  loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
