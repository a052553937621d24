"""The elicitation run's figure: what the small models' responses look like."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


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
