"""Judges that travel: what a learned judge learned from (rows) against where it is tested (columns).

A learned judge is worth what it is worth on data it never saw. The transfer matrix puts every source of
human labels the study holds against every set it can be tested on, with the study's TF-IDF judges (no
model call):

* rows (learned from): ``paper`` — the students' labels (``learned-tfidf``: logistic regression,
  harmful where P ≥ the threshold its training sheets gave); ``PyRIT`` — all of PyRIT's human-scored
  responses (ridge on TF-IDF + an isotonic map onto the humans' 0–1 scale,
  :class:`harmstudy.sets.external.ScoredJudge`: harmful
  where its score ≥ 0.5, i.e. where the humans' median would be); ``paper + PyRIT`` — the pooled judge
  (stacking: each side's judge, combined with the other side's judge by a combiner fitted on training
  labels only — ``learned-tfidf+pooled`` on the paper, ``learned-pooled-cv`` on PyRIT); and each PyRIT
  category alone.
* columns (tested on): the paper's triples (Krippendorff's α, ordinal, against the students, on the
  rankings) and each of PyRIT's published sets (PyRIT's α: humans + judge, ordinal, on its 5-level grid).
* diagonal cells are out of fold: the paper by student sheet, a PyRIT set by request (within the category
  for a category row, over all of PyRIT for the PyRIT and pooled rows). Every other cell is a judge fitted
  on all of its source, with the threshold its source gave: the tested set's labels are never read but to
  score the judge. (The TF-IDF features of the PyRIT-trained judges are fitted once on every text of the
  matrix — PyRIT's and the paper's — which reads no label.)

Each cell: estimate, a 95% bootstrap CI (over prompts on the paper, over responses on PyRIT) and n.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harmstudy.sets import external
from harmstudy.stats import single_response
from harmstudy.stats.agreement import with_words
from harmstudy.stats.scores import to_rankings

PAPER = "paper"
PYRIT = "PyRIT"
POOLED = "paper + PyRIT"
#: Harmful where a judge learned on PyRIT's 0–1 scale scores at least this (the humans' median would).
SCALE_THRESHOLD = single_response.HARMFUL_AT
MATRIX_COLUMNS = ["learned_from", "tested_on", "how", "metric", "estimate", "ci_low", "ci_high", "n", "ci_unit"]


def _paper_cell(scored: pd.DataFrame, students: pd.DataFrame, models: list[str], n_boot: int,
                learned_from: str, how: str, threshold="threshold") -> dict:
    """α (ordinal) vs the students of per-response scores on the paper's triples."""
    from harmstudy.stats.agreement import agreement

    rankings = to_rankings(scored, learned_from, models, threshold=threshold)
    a = agreement(rankings, students, judge_name=learned_from, reference_name="human", n_boot=n_boot,
                  metrics=("alpha_ordinal",)).iloc[0]
    return {"learned_from": learned_from, "tested_on": PAPER, "how": how, "metric": "alpha_ordinal",
            "estimate": a["estimate"], "ci_low": a["ci_low"], "ci_high": a["ci_high"], "n": int(a["n"]),
            "ci_unit": a["ci_unit"]}


def _pyrit_cells(scores: pd.DataFrame, grid_scores: np.ndarray, datasets: list[str], learned_from: str, how,
                 n_boot: int) -> list[dict]:
    """PyRIT's α (humans + the judge on the grid) per published set; ``how``: a string or {dataset: string}."""
    hcols = sorted(c for c in scores.columns if c.startswith("human_") and c != "human_median")
    rows = []
    for d in datasets:
        mask = (scores["dataset"] == d).to_numpy()
        if not mask.any() or np.isnan(grid_scores[mask]).all():
            continue
        human = scores.loc[mask, hcols].dropna(axis=1, how="all").to_numpy(dtype=float).T
        a = single_response.external_agreement(human, grid_scores[mask][None, :], judge=learned_from,
                                               n_boot=n_boot, metrics=("pyrit_alpha",)).iloc[0]
        rows.append({"learned_from": learned_from, "tested_on": d, "how": how if isinstance(how, str) else how[d],
                     "metric": "pyrit_alpha", "estimate": a["estimate"], "ci_low": a["ci_low"],
                     "ci_high": a["ci_high"], "n": int(a["n"]), "ci_unit": a["ci_unit"]})
    return rows


#: The run that holds the PyRIT-trained judges' scores (:func:`stored_pyrit_judges`).
PYRIT_JUDGES_RUN = "learned-from-pyrit"


def pyrit_judges(scores: pd.DataFrame, frame: pd.DataFrame, cv_splits: int = 10) -> dict[str, pd.DataFrame]:
    """The matrix's judges learned from PyRIT, fitted (no bootstrap, no paper label read): ``paper`` — the
    paper's responses (``item_id``, ``prompt_id``, ``model``) with each judge's score, the judge learned from
    all of PyRIT (``PyRIT``) and each learned from one category (``PyRIT <category>``); ``pyrit`` — PyRIT's
    responses (``dataset``, ``row``) with each category judge's score: out of fold by request within its
    own category, fitted on all of its category elsewhere. Scores on the humans' 0–1 scale.

    One TF-IDF over every text of the matrix (PyRIT's and the paper's; no label is read), so that each
    PyRIT-trained judge scores the paper's 3,000 responses without featurising them again (a category's
    own out-of-fold cell uses it too)."""
    text = pd.concat([scores["response"], frame["response"]], ignore_index=True).fillna("").to_numpy()
    X_all = external.response_vectorizer().fit_transform(text).tocsr()
    X_pyrit, X_paper = X_all[:len(scores)], X_all[len(scores):]
    paper = frame[["item_id", "prompt_id", "model"]].reset_index(drop=True)
    pyrit = scores[["dataset", "row"]].reset_index(drop=True)
    paper[PYRIT] = external.ScoredJudge(scores, features=X_pyrit).predict_features(X_paper)
    for category in sorted(scores["category"].unique()):
        own = (scores["category"] == category).to_numpy()
        name = f"PyRIT {category}"
        judge = external.ScoredJudge(scores[own], features=X_pyrit[own])
        paper[name] = judge.predict_features(X_paper)
        on_pyrit = judge.predict_features(X_pyrit)
        on_pyrit[own] = external.cross_validated_scores(scores[own].reset_index(drop=True), n_splits=cv_splits,
                                                        kernel=external.linear_kernel(X_pyrit[own]))
        pyrit[name] = on_pyrit
    return {"paper": paper, "pyrit": pyrit}


def pyrit_judges_run(cv_splits: int = 10) -> str:
    """``learned-from-pyrit`` for the study's 10 folds, ``learned-from-pyrit-cv<k>`` for others (a notebook
    run with them never rewrites the committed run)."""
    from harmstudy.sets.learned_scores import STUDY_SPLITS

    return PYRIT_JUDGES_RUN + ("" if int(cv_splits) == STUDY_SPLITS else f"-cv{int(cv_splits)}")


def stored_pyrit_judges(scores: pd.DataFrame, frame: pd.DataFrame, cv_splits: int = 10, *, rel=None,
                        root=None) -> "harmstudy.sets.learned_scores.StoredScores":
    """:func:`pyrit_judges`, stored by content in ``data/runs/learned-from-pyrit`` (``-cv<k>`` for other
    folds) and read back while its fingerprint holds (as 06's learned judges are:
    :mod:`harmstudy.sets.learned_scores`): its tables (``paper``, ``pyrit``) and the line that says which."""
    from harmstudy.runs import Run
    from harmstudy.sets import learned_scores

    folder = Run(pyrit_judges_run(cv_splits), learned_scores.KIND, root=root)
    settings = {"cv_splits": int(cv_splits), "inner_splits": 5, "alphas": list(external.RIDGE_ALPHAS)}
    tables, reused, seconds = folder.stored_or_computed(
        learned_scores.fingerprint(scores, settings, rel, module=__name__),
        lambda: pyrit_judges(scores, frame, cv_splits), settings=settings)
    return learned_scores.StoredScores(tables, learned_scores.said(
        f"PyRIT-trained judges: {tables['paper'].shape[1] - 3} judges' scores", folder, reused, seconds))


def transfer_matrix(scores: pd.DataFrame, paper_oof: dict[str, pd.DataFrame], frame: pd.DataFrame,
                    students: pd.DataFrame, models: list[str], datasets: list[str], *, paper_transfer: np.ndarray,
                    pooled_cv: np.ndarray, pyrit_cv: np.ndarray, n_boot: int = 1000,
                    cv_splits: int = 10, judges: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """``transfer_matrix.csv``: one row per (learned_from, tested_on) cell, tidy.

    ``scores``: PyRIT's scored responses (every file: a category row trains on all of its category);
    ``paper_oof``: out-of-fold scores on the paper's triples of the ``paper`` and ``paper + PyRIT`` judges
    (a learned run's ``paper_scores.csv`` rows, with their thresholds); ``frame``: the paper's responses
    (:func:`harmstudy.data.targets.response_frame`); ``paper_transfer``: the paper-trained judge's P on
    ``scores`` (fitted on every sheet); ``pooled_cv`` / ``pyrit_cv``: out-of-fold scores on ``scores`` of the
    pooled and the PyRIT judge (:func:`harmstudy.sets.external.cross_validated_scores`); ``judges``: the
    PyRIT-trained judges' scores (:func:`pyrit_judges`, or as :func:`stored_pyrit_judges` read them;
    computed here when not given).
    """
    judges = judges or pyrit_judges(scores, frame, cv_splits)
    on_paper_scores = frame[["item_id", "model"]].merge(judges["paper"].drop(columns="prompt_id"),
                                                        on=["item_id", "model"], how="left", validate="one_to_one")
    on_pyrit_scores = scores[["dataset", "row"]].merge(judges["pyrit"], on=["dataset", "row"], how="left",
                                                       validate="one_to_one")
    rows = []
    oof = "out of fold (by student sheet)"
    rows.append(_paper_cell(paper_oof[PAPER], students, models, n_boot, PAPER, oof))
    rows += _pyrit_cells(scores, external.to_grid(paper_transfer), datasets, PAPER, "transfer (fitted on every sheet)", n_boot)
    rows.append(_paper_cell(paper_oof[POOLED], students, models, n_boot, POOLED, oof))
    rows += _pyrit_cells(scores, external.to_grid(pooled_cv), datasets, POOLED, "out of fold (by request, all of PyRIT)", n_boot)

    def on_paper(learned_from: str) -> dict:
        scored = frame[["item_id", "prompt_id", "model"]].assign(p_harmful=on_paper_scores[learned_from].to_numpy())
        return _paper_cell(scored, students, models, n_boot, learned_from,
                           f"transfer (fitted on all of {learned_from}; harmful where its score >= {SCALE_THRESHOLD})",
                           threshold=SCALE_THRESHOLD)

    rows.append(on_paper(PYRIT))
    rows += _pyrit_cells(scores, external.to_grid(pyrit_cv), datasets, PYRIT, "out of fold (by request, all of PyRIT)", n_boot)
    category_of = scores.drop_duplicates("dataset").set_index("dataset")["category"]
    for category in sorted(scores["category"].unique()):
        name = f"PyRIT {category}"
        rows.append(on_paper(name))
        grid = external.to_grid(on_pyrit_scores[name].to_numpy())
        how = {d: "out of fold (by request, within the category)" if category_of.get(d) == category
               else f"transfer (fitted on all of {name})" for d in datasets}
        rows += _pyrit_cells(scores, grid, datasets, name, how, n_boot)
    return with_words(pd.DataFrame(rows, columns=MATRIX_COLUMNS))


#: A user set's column of the matrix: which of 07's judges stands for which source.
SET_JUDGES = {"learned-tfidf-transfer": (PAPER, "transfer (fitted on every sheet)"),
              "learned-pyrit-transfer": (PYRIT, "transfer (fitted on all of PyRIT but this set's requests)"),
              "learned-pooled-transfer": (POOLED, "transfer (fitted on every sheet and PyRIT but this set's requests)"),
              "learned-tfidf-cv": ("this set", "out of fold (by request)")}


def set_column(table: pd.DataFrame, stem: str, binary: bool) -> pd.DataFrame:
    """A labelled set's column of the transfer matrix, from 07's agreement table: Cohen's κ with the
    people's majority (a binary set) or PyRIT's α (a Likert set) of the judge learned from each source."""
    metric = "kappa" if binary else "pyrit_alpha"
    sub = table[(table["metric"] == metric) & table["judge"].isin(list(SET_JUDGES))]
    if binary:
        sub = sub[sub["reference"] == "majority"]
    rows = [{"learned_from": SET_JUDGES[r.judge][0], "tested_on": stem, "how": SET_JUDGES[r.judge][1],
             "metric": metric, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n),
             "ci_unit": r.ci_unit}
            for r in sub.itertuples()]
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)
