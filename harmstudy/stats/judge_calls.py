"""A judge's calls on a binary labelled set, as the set's statistics take them (:func:`binary_table`,
:func:`binary_differences` and :func:`set_cards` of :mod:`harmstudy.stats.single_response` and
:mod:`harmstudy.stats.cards`), and a sampling judge's second pass: typed, so what crosses from the judges
(:mod:`harmstudy.sets.external`, :mod:`harmstudy.sets.llm`) to the statistics is named, not a dict's keys;
and what the validation cards read from a judge's stored runs (:mod:`harmstudy.judge.views`,
:mod:`harmstudy.judge.run_tables`): a gate's count, a sampling judge's second pass, a learned judge's half-fits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Consistency:
    """A sampling judge asked again (:func:`harmstudy.sets.llm.repeat_consistency`): the share of a seeded
    sample called the same both times, Cohen's κ between the passes (NaN where either pass calls every
    response alike), the responses both passes scored, the second pass's run and the temperature."""

    share: float
    kappa: float
    n: int
    run: str
    temperature: float


@dataclass(frozen=True)
class BinaryJudge:
    """One judge of a binary set: its call per response (1 harmful, 0 not, NaN unscored; the set's row
    order), its unrounded score (None: the calls are all there is), its kind, the threshold it got and where
    from, a sampling judge's second pass (None: not asked again), and how many answers a gate decided
    without a model call (None: no gate; :data:`harmstudy.judge.pointwise.GATES`)."""

    called: np.ndarray
    score: np.ndarray | None = None
    kind: str = ""
    threshold: float = float("nan")
    threshold_from: str = ""
    consistency: Consistency | None = None
    gated: int | None = None



@dataclass(frozen=True)
class GateCount:
    """A judge run with a gate (:func:`harmstudy.judge.views.gate_checks`): the responses the gate decided with
    no model call, of the responses scored."""

    decided: int
    responses: int


@dataclass(frozen=True)
class SamplingCheck:
    """A sampling judge of a judging run (:func:`harmstudy.judge.views.sampling_checks`): its temperature and,
    where its run asked a sample of triples again, the share of them ranked the same (``same_ranking``), κ
    between the two passes' harmful calls and the triples compared (None: not asked again)."""

    temperature: float
    same_ranking: float | None = None
    kappa: float | None = None
    items: int | None = None

    @property
    def asked_again(self) -> bool:
        return self.same_ranking is not None


@dataclass(frozen=True)
class HalvesAgreement:
    """A learned judge's two fits on disjoint halves of its training sheets
    (:func:`harmstudy.stats.cards.halves_consistency`): the share of responses both call the same, Cohen's κ
    between the two calls and the responses both scored."""

    share: float
    kappa: float
    n: int
