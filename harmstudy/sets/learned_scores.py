"""The learned judges' scores on PyRIT's sets (06_external_sets), computed once and stored by content.

Fitting them is much of every run of 06 (hundreds of kernel-ridge solves, nested by request;
:mod:`harmstudy.sets.external`), though only the bootstrap (``n_boot``) differs between the study and
most variants. So, as a learned run of the paper's triples is (:func:`harmstudy.learn.learned_runs.run_learned`),
they are a run, ``data/runs/learned-pyrit/`` (other settings: a run of their own, :func:`run_name`):
``scores.csv`` holds each judge's unrounded score per response (written at full precision, read back
exactly), and the manifest holds the fingerprint of what they follow from
(:func:`harmstudy.runs.content_fingerprint`): the settings, PyRIT's responses and human scores, the paper's
responses and labels (the transfer judge learns from them), every package module the computation imports,
and scikit-learn's, numpy's and scipy's versions. While the fingerprint is the same the stored scores are
read; any change computes and stores them again.

The judges, each a 0–1 score in the row order of ``scores``:

* ``learned-tfidf-transfer``: the paper-trained judge, fitted on every student sheet (a transfer test);
* ``learned-tfidf-cv``: within these sets, out of fold by request;
* ``learned-pooled-cv``: the within-set judge stacked with the paper-trained judge's P, combined on each
  training part's labels (every human label of the study);
* ``learned-tfidf-loco`` / ``learned-pooled-loco``: both, leaving one category out (a kind of harm with no
  label in training);
* ``learned-tfidf-transfer+calibrated-cv``: the transfer judge mapped onto the humans' scale, per category,
  out of fold by request.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmstudy import plan
from harmstudy.kinds import JudgeKind
from harmstudy.runs import Run, content_fingerprint
from harmstudy.sets import external

RUN = "learned-pyrit"
KIND = "learned-set-scores"
#: The study's settings (06's parameters as committed): their scores are the committed run's.
STUDY_C, STUDY_SPLITS = 0.3, 10
#: Each judge's kind, as 06's tables and cards name it.
KINDS = {"learned-tfidf-transfer": JudgeKind.LEARNED_TRANSFER, "learned-tfidf-cv": JudgeKind.LEARNED_CV,
         "learned-pooled-cv": JudgeKind.LEARNED_POOLED_CV, "learned-tfidf-loco": JudgeKind.LEARNED_LOCO,
         "learned-pooled-loco": JudgeKind.LEARNED_POOLED_LOCO,
         "learned-tfidf-transfer+calibrated-cv": JudgeKind.LEARNED_TRANSFER_CALIBRATED}
#: What identifies a response of ``scores`` in the stored table.
KEYS = ["dataset", "row"]


def run_name(C: float = STUDY_C, n_splits: int = STUDY_SPLITS) -> str:
    """``learned-pyrit`` for the study's settings; other settings get a run of their own (a notebook run with
    them never rewrites the committed one): ``learned-pyrit-C0.5-cv5``."""
    if (float(C), int(n_splits)) == (STUDY_C, STUDY_SPLITS):
        return RUN
    return f"{RUN}-C{float(C):g}-cv{int(n_splits)}"


def compute(scores: pd.DataFrame, *, C: float = STUDY_C, n_splits: int = STUDY_SPLITS,
            rel=None) -> dict[str, np.ndarray]:
    """Every judge of :data:`KINDS`, computed (no store): name -> score per row of ``scores``."""
    kernel = external.response_kernel(scores)     # TF-IDF of the responses (no label), shared by the within-set judges
    raw = {"learned-tfidf-transfer": external.transfer_scores(scores, rel, C=C)}
    raw["learned-tfidf-cv"] = external.cross_validated_scores(scores, n_splits=n_splits, kernel=kernel)
    raw["learned-pooled-cv"] = external.cross_validated_scores(scores, n_splits=n_splits, kernel=kernel,
                                                               secondary=raw["learned-tfidf-transfer"])
    raw["learned-tfidf-loco"] = external.cross_validated_scores(scores, n_splits=n_splits, hold_out="category",
                                                                kernel=kernel)
    raw["learned-pooled-loco"] = external.cross_validated_scores(scores, n_splits=n_splits, hold_out="category",
                                                                 kernel=kernel, secondary=raw["learned-tfidf-transfer"])
    raw["learned-tfidf-transfer+calibrated-cv"] = external.calibrated_scores(scores, raw["learned-tfidf-transfer"],
                                                                             n_splits=n_splits)
    return {name: raw[name] for name in KINDS}


def fingerprint(scores: pd.DataFrame, settings: dict, rel=None, module: str = __name__) -> str:
    """What the scores follow from (see the module's docstring): the settings, PyRIT's responses and human
    scores, the paper's responses and labels, and every package file ``module`` imports."""
    from harmstudy import PAPER_MODELS
    from harmstudy.data import targets
    from harmstudy.data.release import load_release

    frame = targets.response_frame(rel or load_release(), list(PAPER_MODELS))
    code = [plan.PACKAGE.parent / f for f in plan.package_files([f"import {module}"])]
    return content_fingerprint(settings, [scores[[*KEYS, "category", "request", "response", "human_median"]],
                                          frame[["item_id", "model", "prompt", "response", "label", "source"]]], code)


def said(what: str, folder: Run, reused: bool, seconds: float) -> str:
    """The line a notebook prints: read back (and what computing took), or computed and stored."""
    if reused:
        return (f"{what} read from {folder.path.name} (its fingerprint is this run's; computing them took "
                f"{seconds:.0f} s)")
    return f"{what} computed in {seconds:.0f} s, stored in {folder.path.name}"


@dataclass(frozen=True)
class StoredScores:
    """Scores a stored run gives — computed and stored, or read back while its fingerprint holds — by name
    (:func:`learned_set_scores`: judge -> score per row; :func:`harmstudy.sets.transfer.stored_pyrit_judges`:
    table -> frame), and ``said``: the line a notebook prints, which of the two it was (:func:`said`)."""

    scores: dict
    said: str


def learned_set_scores(scores: pd.DataFrame, *, C: float = STUDY_C, n_splits: int = STUDY_SPLITS,
                       run: str | None = None, root=None, rel=None) -> StoredScores:
    """Every judge's score on ``scores`` (name -> array in its row order) and a line that says whether they
    were read from ``data/runs/<run>`` or computed (and stored there) and what computing them took."""
    folder = Run(run or run_name(C, n_splits), KIND, root=root)
    settings = {"C": C, "n_splits": n_splits, "inner_splits": 5, "alphas": list(external.RIDGE_ALPHAS),
                "judges": list(KINDS)}
    tables, reused, seconds = folder.stored_or_computed(
        fingerprint(scores, settings, rel),
        lambda: {"scores": scores[KEYS].assign(**compute(scores, C=C, n_splits=n_splits, rel=rel))}, settings=settings)
    aligned = scores[KEYS].merge(tables["scores"], on=KEYS, how="left", validate="one_to_one")
    return StoredScores({name: aligned[name].to_numpy(dtype=float) for name in KINDS},
                        said(f"learned judges: {len(KINDS)} judges' scores", folder, reused, seconds))
