"""heatmap: seconds of a figure of ``--panels`` annotated 4 × 4 heatmaps (04's confusion matrices: counts
written in cells shaded by row share) drawn with ``seaborn.heatmap`` ÷ seconds drawn with
:func:`harmstudy.report.plots.style.annotated_heatmap`, the hand-written one the figures use, each saved as
:func:`harmstudy.report.plots.style.save` saves (PNG, 120 dpi, tight box), side by side;
``heatmap_seconds``: the hand-written figure's seconds. The hand-written heatmap holds its place while the
ratio is > 1.
"""
from __future__ import annotations

import argparse
import io
import time

import numpy as np

from _study import use_throwaway_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--panels", type=int, default=11, help="heatmaps in the figure (04 draws one per judge)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    use_throwaway_study("bench-heatmap-")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from harmstudy.report.plots.style import annotated_heatmap

    rng = np.random.default_rng(0)
    counts = [rng.integers(0, 200, size=(4, 4)) for _ in range(args.panels)]
    ticks = ["N/A", "1", "2", "3"]

    def figure(draw) -> float:
        start = time.perf_counter()
        ncols = min(args.panels, 3)
        fig, axes = plt.subplots(-(-args.panels // ncols), ncols, figsize=(3.9 * ncols, 3.7 * -(-args.panels // ncols)),
                                 squeeze=False, layout="constrained")
        for ax, table in zip(axes.flat, counts):
            draw(ax, table / table.sum(axis=1, keepdims=True), table)
        fig.savefig(io.BytesIO(), format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        return time.perf_counter() - start

    def by_hand(ax, shares, table):
        annotated_heatmap(ax, shares, table, fmt="d", cmap="Blues", xticklabels=ticks, yticklabels=ticks)

    def by_seaborn(ax, shares, table):
        sns.heatmap(shares, annot=table, fmt="d", cmap="Blues", vmin=0, vmax=1, cbar=False, square=True,
                    xticklabels=ticks, yticklabels=ticks, ax=ax)

    sides = {"seaborn": by_seaborn, "annotated_heatmap": by_hand}
    seconds = {name: 0.0 for name in sides}
    figure(by_hand)                                               # warm-up: fonts and the PNG writer loaded once
    for i in range(args.rounds):
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):        # alternate which goes first
            seconds[name] += figure(sides[name])
    print(f"{args.panels} heatmaps, {args.rounds} rounds: " + ", ".join(f"{n} {s:.2f} s" for n, s in seconds.items()))
    print(f"heatmap: ratio={seconds['seaborn'] / seconds['annotated_heatmap']:.2f}")
    print(f"heatmap_seconds: {seconds['annotated_heatmap'] / args.rounds:.3f}")


if __name__ == "__main__":
    main()
