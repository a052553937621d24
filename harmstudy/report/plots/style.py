"""Shared by every figure: the theme, labels and colours, the legend of rater kinds, the annotated heatmap,
and :func:`save`, which writes a PNG without a timestamp so a rerun is byte-identical."""
from __future__ import annotations

import sys

import matplotlib

if "ipykernel" not in sys.modules:      # scripts and tests draw off-screen; notebooks keep inline figures
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from harmstudy import paths, provenance  # noqa: E402
from harmstudy.kinds import Family, JudgeKind  # noqa: E402

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


#: One colour per kind of rater (its :class:`~harmstudy.kinds.Family`), the same in every figure; a judge is
#: named on the axis, never by colour alone.
GROUP_COLORS = {Family.PEOPLE.value: "#4d4d4d", Family.API.value: "#0072B2", Family.LEARNED.value: "#009E73",
                Family.LLM.value: "#D55E00", Family.IN_FILE.value: "#CC79A7"}
#: Raters that are people, by the release's ``rater_kind`` (a judge's kind is a :class:`~harmstudy.kinds.JudgeKind`).
PEOPLE_KINDS = ("student", "students", "expert", "people")


def kind_group(kind: JudgeKind | str | None) -> str:
    """The group a rater's kind belongs to (:data:`GROUP_COLORS`): its family's; people by their rater kind;
    a rater given no kind, an LLM judge's."""
    if not kind:
        return Family.LLM.value
    if kind in PEOPLE_KINDS:
        return Family.PEOPLE.value
    return JudgeKind.of(kind).family.value


def group_legend(ax, groups, **kwargs):
    handles = [plt.Line2D([], [], marker="o", ls="", color=GROUP_COLORS[g], label=g) for g in GROUP_COLORS if g in groups]
    return ax.legend(handles=handles + kwargs.pop("extra", []), frameon=False, fontsize=8, **kwargs)


def annotated_heatmap(ax, shades: np.ndarray, labels: np.ndarray, *, fmt: str, cmap: str, xticklabels, yticklabels,
                      colorbar: str | None = None, xrotation: float = 0, vmin: float = 0, vmax: float = 1):
    """A grid of cells shaded by ``shades`` (``vmin``–``vmax``; a diverging ``cmap`` with ``vmin=-1`` centres
    0 on its middle colour) with ``labels`` written in them.

    By hand (matplotlib's own "annotated heatmap" recipe) rather than ``seaborn.heatmap``: seaborn redraws the
    whole figure for every heatmap to check its tick labels, which a figure of many pays for each
    (``benchmarks/bench_heatmap.py`` times the two on 04's confusion matrices, ``make bench``).
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
