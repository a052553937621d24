"""Figures of the study (seaborn), one module per figure family. Each function draws one figure from one
table; :func:`save` writes it with fixed metadata, so a rerun writes byte-identical PNG files.

``from harmstudy.report import plots`` gives every figure by name (``plots.judge_cards``, ``plots.save``);
:mod:`.style` is imported first, since it chooses matplotlib's backend before pyplot loads."""
from harmstudy.report.plots.style import (GROUP_COLORS, METRIC_LABELS, RANK_LABELS, annotated_heatmap,  # noqa: I001
                                          group_legend, kind_group, save)
from harmstudy.report.plots.cards import judge_cards, set_cards
from harmstudy.report.plots.elicit import elicit_markers
from harmstudy.report.plots.learned import calibration, feature_decision, learning_curve, transfer_matrix
from harmstudy.report.plots.paper import (agreement_vs_cost, confusion_matrices, harmful_share, judge_agreement,
                                          judge_vs_judge, rank_distribution)
from harmstudy.report.plots.sets import (COMPARISON_COLORS, PLAIN_KINDS, binary_agreement, external_agreement,
                                         paired_differences, plain_judge)

__all__ = ["COMPARISON_COLORS", "GROUP_COLORS", "METRIC_LABELS", "PLAIN_KINDS", "RANK_LABELS", "agreement_vs_cost",
           "annotated_heatmap", "binary_agreement", "calibration", "confusion_matrices", "elicit_markers",
           "external_agreement", "feature_decision", "group_legend", "harmful_share", "judge_agreement", "judge_cards",
           "judge_vs_judge", "kind_group", "learning_curve", "paired_differences", "plain_judge", "rank_distribution",
           "save", "set_cards", "transfer_matrix"]
