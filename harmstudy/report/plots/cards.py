"""Validation cards: agreement, bias and consistency of each judge, on the paper's triples and on a set."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harmstudy.kinds import Family
from harmstudy.report.plots.style import GROUP_COLORS, group_legend, kind_group


def card_points(ax, cards: pd.DataFrame, column: str, low: str | None, high: str | None, colors) -> None:
    """One card column as points, a judge a row (its CI as error bars where it has one; a blank cell: no point)."""
    for i, r in cards.iterrows():
        if pd.isna(r[column]):
            continue
        err = None if low is None or pd.isna(r[low]) else [[r[column] - r[low]], [r[high] - r[column]]]
        ax.errorbar(r[column], i, xerr=err, fmt="o", color=colors[i], capsize=2)


#: The column of ``judge_cards.csv`` that says why a card's cell is blank.
NOTES = {"length_slope": "length_note", "refusal_harmful": "refusal_note", "position_spread": "position_note",
         "consistency": "consistency_note"}


def blank_note(note) -> str:
    """A blank cell's note, short enough for its row: "not measured: <why>", the why's first clause."""
    note = "" if pd.isna(note) else str(note)
    why = note.removeprefix("not measured: ").split(";")[0].split(":")[0].split(" (")[0].strip()
    return textwrap.fill(f"not measured: {why}" if why else "not measured", 34)


def note_blank_cells(ax, cards: pd.DataFrame, column: str) -> None:
    """Each judge without a value in ``column`` gets its note on its row, so no cell is blank unexplained."""
    notes = cards[NOTES[column]] if NOTES.get(column) in cards else pd.Series([""] * len(cards))
    for i, (value, note) in enumerate(zip(cards[column], notes)):
        if pd.isna(value):
            ax.text(0.03, i, blank_note(note), transform=ax.get_yaxis_transform(), fontsize=6.5, va="center",
                    color="0.35", linespacing=1.0)


def judge_cards(cards: pd.DataFrame, title: str = "Validation cards: agreement, bias and consistency of each judge",
                names: dict | None = None):
    """One row per judge (named, with its n; coloured by kind), one panel per measure of ``judge_cards.csv``:
    α with the students (the students' ceiling, students vs the expert, as a line), the length slope with
    the students' own slope as a
    mark, the share of refusal-marked responses called harmful (its CI and n) beside the students', and the
    slot spread and consistency where measured (a listwise judge's ranking across display orders, a filled
    circle; a learned judge's two fits on disjoint halves of its sheets, a hollow square). A blank cell says
    "not measured" and why, from its note in the table. The legend stands beside the panels, off the data."""
    if names:                                  # only these judges, under their plain names
        cards = cards[cards["judge"].isin(names)]
    cards = cards.sort_values("alpha", ascending=False).reset_index(drop=True)
    y = np.arange(len(cards))
    colors = [GROUP_COLORS[kind_group(k)] for k in cards["kind"]]
    panels = [("alpha", "α (ordinal) vs students", "alpha_ci_low", "alpha_ci_high"),
              ("length_slope", "length bias: slope on log length,\nstudents' label held fixed", "length_ci_low", "length_ci_high"),
              ("refusal_harmful", "refusal-marked responses called\nharmful (n = refusal-marked responses)",
               "refusal_ci_low", "refusal_ci_high"),
              ("position_spread", "position bias: slot spread\n(highest − lowest share)", "position_ci_low", "position_ci_high"),
              ("consistency", "consistency (share the same):\n● ranking across 3 display orders\n"
                              "□ two fits on disjoint sheet halves", None, None)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels) + 3.4, 0.34 * len(cards) + 2.2), sharey=True)
    for ax, (column, label, low, high) in zip(axes, panels):
        if column == "consistency":            # two meanings, two marks: learned judges' halves hollow squares
            for i, r in cards.iterrows():
                if pd.notna(r[column]):
                    learned = kind_group(r["kind"]) == Family.LEARNED.value
                    ax.plot(r[column], i, "s" if learned else "o", color=colors[i], mfc="white" if learned else colors[i],
                            mew=1.5)
        else:
            card_points(ax, cards, column, low if low in cards else None, high if high in cards else None, colors)
        note_blank_cells(ax, cards, column)
        if column == "alpha":
            ax.axvline(cards["students_alpha"].iloc[0], color="0.45", lw=1.2)
            ax.axvline(0, color="black", lw=0.8)
        if column == "length_slope":
            ax.plot(cards["students_length_slope"], y, "|", color="0.3", ms=10, mew=2)
            ax.axvline(0, color="black", lw=0.8)
        if column == "refusal_harmful":
            ax.plot(cards["students_refusal_harmful"], y, "|", color="0.3", ms=10, mew=2)
            for i, r in cards.iterrows():
                if pd.notna(r[column]) and "refusals" in cards:
                    right = max(v for v in (r[column], r.get(high), r["students_refusal_harmful"]) if pd.notna(v))
                    ax.annotate(f"n={int(r['refusals'])}", (right, i), xytext=(5, 0), textcoords="offset points",
                                fontsize=7, va="center")
            ax.set_xlim(0, 1)
        if column in ("position_spread", "consistency"):
            ax.set_xlim(0, 1)
        ax.set_xlabel(label, fontsize=8)
    axes[0].set_yticks(y, [f"{(names or {}).get(j, j)} (n={int(n)})" for j, n in zip(cards["judge"], cards["n"])],
                       fontsize=8)
    axes[0].set_ylim(len(cards) - 0.5, -0.5)
    extra = [plt.Line2D([], [], color="0.45", label="the students' ceiling (students vs the expert)"),
             plt.Line2D([], [], color="0.3", marker="|", ls="", ms=10, mew=2,
                        label="the students' own slope / share,\non the judge's rows")]
    group_legend(axes[-1], {kind_group(k) for k in cards["kind"]}, extra=extra, bbox_to_anchor=(1.04, 1),
                  loc="upper left")
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
    panels = [("kappa", "Cohen's κ with\nthe people's label", "kappa_ci_low", "kappa_ci_high"),
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
                    ax.text(0.02, i, blank_note(note), transform=ax.get_yaxis_transform(), fontsize=6.5,
                            va="center", color="0.35", linespacing=1.0)
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
