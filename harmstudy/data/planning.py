"""The study's own rows a set's size is planned from (:func:`harmstudy.stats.power.plan_set`).

PyRIT's two sets that three people scored each (``hate_speech_multi_score``, ``violence_multi_score``, 0–1
scale), beside two of the study's judges' scores on the same responses, as notebook 06 committed them in
``figures/tables/external_scores.csv``: two judges learned within PyRIT's sets, out of fold — from the
responses' words (``learned-tfidf-cv``) and from those pooled with the paper's students' labels
(``learned-pooled-cv``) — two close judges, as two judges a researcher compares often are. A row's group is
its request: PyRIT asks one request several times.
"""
from __future__ import annotations

import pandas as pd

from harmstudy import paths
from harmstudy.data import scored_responses

DATASETS = ("hate_speech_multi_score", "violence_multi_score")
JUDGES = ("learned-tfidf-cv", "learned-pooled-cv")
HUMAN = ("human_1", "human_2", "human_3")
NAME = "PyRIT's hate-speech and violence sets (three people a response) with two of the study's judges"


def study_reference() -> pd.DataFrame:
    """One row a response: ``dataset, row, group, human_1..human_3`` (0–1) and the two judges' scores
    (0–1), every row with both judges' scores."""
    people = scored_responses.load_pyrit(datasets=list(DATASETS)).scores
    scores = pd.read_csv(paths.STUDY_FIGURES / "tables" / "external_scores.csv",
                         usecols=["dataset", "row", *JUDGES])
    frame = people.merge(scores, on=["dataset", "row"], how="inner", validate="one_to_one")
    frame["group"] = frame["dataset"] + ":" + frame["request"]
    return frame[["dataset", "row", "group", *HUMAN, *JUDGES]].dropna(subset=list(JUDGES)).reset_index(drop=True)
