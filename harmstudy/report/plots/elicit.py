"""The elicitation run's figure: what the small models' responses look like."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


#: The summary's marker columns, in words.
MARKERS = {"echo_rate": "echoes the prompt", "refusal_marker_rate": "refusal marker",
           "hit_max_tokens": "hit the token cap (max_tokens): cut off"}


def elicit_markers(described: pd.DataFrame, summary: pd.DataFrame):
    """Response lengths per model, and the share of echoes, refusal markers and truncated answers (each bar
    its share; the legend under the panel, off the bars; the title says how many hit the token cap)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    sns.boxplot(data=described, x="model", y="words", ax=axes[0], color="#9ecae1")
    axes[0].set_title("response length (words)")
    rates = summary.melt(id_vars="model", value_vars=list(MARKERS), var_name="marker", value_name="share")
    rates["marker"] = rates["marker"].map(MARKERS)
    sns.barplot(data=rates, x="model", y="share", hue="marker", ax=axes[1], palette="colorblind")
    for bars in axes[1].containers:
        axes[1].bar_label(bars, fmt=lambda v: f"{v:.0%}", fontsize=7, padding=1)
    capped = (summary["hit_max_tokens"] * summary["responses"]).sum() / summary["responses"].sum()
    axes[1].set_title(f"surface markers: {capped:.0%} of the responses hit the token cap", fontsize=10)
    axes[1].set_ylim(0, 1)
    axes[1].legend(title=None, frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    for ax in axes:
        ax.tick_params(axis="x", rotation=15, labelsize=9)
        ax.set_xlabel("")
    fig.tight_layout()
    return fig
