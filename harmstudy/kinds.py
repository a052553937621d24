"""What kind of rater a judge is, as data: :class:`JudgeKind`, one member per kind a table's ``kind`` column
holds (its value is that column's text), each with its :class:`Family` and whether it reads one response at
a time. Tables, cards and figures ask a kind these questions; none reads them off the text.

Each judge's kind is set where its spec is: the paper's judges (:func:`harmstudy.stats.tables.release_judge_kind`),
a judging or pointwise run's manifest (:func:`harmstudy.judge.run_tables.judge_kinds`), a learned run
(:mod:`harmstudy.learn.learned_runs`), the sets' judges (:mod:`harmstudy.sets`).
"""
from __future__ import annotations

from enum import Enum, StrEnum


class Family(Enum):
    """The group of raters a kind belongs to (one colour in every figure)."""

    PEOPLE = "people"
    API = "API judge (the paper's)"
    LEARNED = "learned from labels (offline)"
    LLM = "LLM judge (offline)"
    IN_FILE = "verdict in the file"


class JudgeKind(StrEnum):
    """A judge's kind; the value is the text the tables write (a ``StrEnum``: it is that string)."""

    HUMAN = "human"
    API = "api"
    API_TIE_BREAK = "api (authors' tie-break)"
    LISTWISE = "listwise"
    LISTWISE_BALANCED = "listwise-balanced"
    POINTWISE = "pointwise"
    FEW_SHOT = "few-shot"
    POINTWISE_LIKERT = "pointwise (likert)"
    POINTWISE_LIKERT_CALIBRATED = "pointwise (likert), calibrated (cv)"
    LLM = "LLM"
    LLM_CALIBRATED_SENSITIVITY = "LLM, calibrated (cv), sensitivity"
    LEARNED = "learned"
    LEARNED_TRANSFER = "learned (transfer)"
    LEARNED_TRANSFER_SENSITIVITY = "learned (transfer), sensitivity"
    LEARNED_TRANSFER_CALIBRATED = "learned (transfer), calibrated (cv)"
    LEARNED_CV = "learned (cv)"
    LEARNED_POOLED_CV = "learned, pooled (cv)"
    LEARNED_LOCO = "learned (leave one category out)"
    LEARNED_POOLED_LOCO = "learned, pooled (leave one category out)"
    LEARNED_FROM_PYRIT = "learned from PyRIT (transfer)"
    LEARNED_POOLED_TRANSFER = "learned, pooled (transfer)"
    IN_FILE = "in file"

    @classmethod
    def of(cls, kind: "JudgeKind | str") -> "JudgeKind":
        """The member whose text ``kind`` is; a text no member has is refused, naming the known ones."""
        try:
            return cls(kind)
        except ValueError:
            raise ValueError(f"{kind!r} is no judge kind the study knows ({', '.join(m.value for m in cls)}): "
                             f"add it to harmstudy.kinds.JudgeKind") from None

    @property
    def family(self) -> Family:
        return _FAMILIES[self]

    @property
    def reads_one_response(self) -> bool:
        """True: it judges each response alone (no display slot to be biased by)."""
        return self not in _LISTWISE

    @property
    def is_tie_break(self) -> bool:
        """The authors' tie-break of the paper's judges: a variant of the API judges, not a judge of its own."""
        return self is JudgeKind.API_TIE_BREAK


_LISTWISE = {JudgeKind.HUMAN, JudgeKind.API, JudgeKind.API_TIE_BREAK, JudgeKind.LISTWISE,
             JudgeKind.LISTWISE_BALANCED}
_FAMILIES = {
    JudgeKind.HUMAN: Family.PEOPLE, JudgeKind.API: Family.API, JudgeKind.API_TIE_BREAK: Family.API,
    JudgeKind.IN_FILE: Family.IN_FILE,
    **{k: Family.LEARNED for k in (JudgeKind.LEARNED, JudgeKind.LEARNED_TRANSFER, JudgeKind.LEARNED_TRANSFER_SENSITIVITY,
                                   JudgeKind.LEARNED_TRANSFER_CALIBRATED, JudgeKind.LEARNED_CV,
                                   JudgeKind.LEARNED_POOLED_CV, JudgeKind.LEARNED_LOCO, JudgeKind.LEARNED_POOLED_LOCO,
                                   JudgeKind.LEARNED_FROM_PYRIT, JudgeKind.LEARNED_POOLED_TRANSFER)},
    **{k: Family.LLM for k in (JudgeKind.LISTWISE, JudgeKind.LISTWISE_BALANCED, JudgeKind.POINTWISE,
                               JudgeKind.FEW_SHOT, JudgeKind.POINTWISE_LIKERT, JudgeKind.POINTWISE_LIKERT_CALIBRATED,
                               JudgeKind.LLM, JudgeKind.LLM_CALIBRATED_SENSITIVITY)},
}
