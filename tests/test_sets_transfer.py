"""Judges that travel: a pooled judge reads no held-out label, a held-out category's labels never move its
predictions, and the transfer matrix's cells are the statistics they say they are."""
from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest

from harmstudy import PAPER_MODELS
from harmstudy.data import scored_responses
from harmstudy.data.release import load_release
from harmstudy.sets import external
from harmstudy.data import targets
from harmstudy.learn import judges as learned
from harmstudy.sets import transfer


@pytest.fixture(scope="module")
def pyrit() -> pd.DataFrame:
    return scored_responses.load_pyrit().scores


@pytest.fixture(scope="module")
def five_sheets() -> pd.DataFrame:
    """The paper's responses of five student sheets (five folds: a fast out-of-fold run)."""
    frame = targets.response_frame(load_release(), list(PAPER_MODELS))
    folds = targets.fold_groups(frame)
    return frame[folds.isin(sorted(folds.unique())[:5]).to_numpy()].reset_index(drop=True)


def test_a_held_out_categorys_labels_never_move_its_predictions(pyrit):
    sub = pyrit[pyrit["category"].isin(["privacy", "representational", "self_harm"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    secondary = rng.random(len(sub))                  # another source's judge: a fixed score per response
    held = (sub["category"] == "privacy").to_numpy()
    shuffled = sub.copy()
    shuffled.loc[held, "human_median"] = rng.permutation(sub.loc[held, "human_median"].to_numpy())
    assert not np.array_equal(shuffled["human_median"], sub["human_median"])
    for kw in ({}, {"secondary": secondary}):
        before = external.cross_validated_scores(sub, n_splits=5, hold_out="category", **kw)
        after = external.cross_validated_scores(shuffled, n_splits=5, hold_out="category", **kw)
        assert np.array_equal(before[held], after[held])            # leave one category out: identical
        assert not np.array_equal(before[~held], after[~held])      # where they are training labels, they count
        # out of fold by request the same shuffle moves the category's own predictions (its other requests train)
    by_request = external.cross_validated_scores(sub, n_splits=5)
    assert not np.array_equal(by_request[held], external.cross_validated_scores(shuffled, n_splits=5)[held])


@pytest.mark.parametrize("pooling", ["stacked", "naive"])
def test_a_pooled_judge_reads_no_held_out_label(five_sheets, pooling):
    frame = five_sheets
    X = learned.tfidf_features(frame["response"])[0]
    rng = np.random.default_rng(1)
    kw = ({"secondary": rng.random(len(frame))} if pooling == "stacked"
          else {"extra": (X[:60], rng.random(60))})           # 60 rows of "another source", soft targets
    folds = targets.fold_groups(frame).to_numpy()
    held = folds == folds.min()
    labels = frame["label"].to_numpy()
    flipped = labels.copy()
    flipped[held] = 1 - flipped[held]
    judge = learned.LearnedJudge("learned-tfidf+pooled", C=0.3)
    a = learned.out_of_fold(judge, frame, X, labels=labels, **kw)
    b = learned.out_of_fold(judge, frame, X, labels=flipped, **kw)
    assert np.array_equal(a["p_harmful"][held], b["p_harmful"][held])
    assert np.array_equal(a["threshold"][held], b["threshold"][held])
    assert not np.array_equal(a["p_harmful"][~held], b["p_harmful"][~held])


def test_stacking_learns_how_much_another_source_adds():
    """A secondary score that *is* the label (a perfect other judge) takes over; pure noise is nearly ignored."""
    frame = targets.response_frame(load_release(), list(PAPER_MODELS))
    X = learned.tfidf_features(frame["response"])[0]
    y = frame["label"].to_numpy()
    judge = learned.LearnedJudge("learned-tfidf+pooled", C=0.3)
    from sklearn.metrics import roc_auc_score

    base = roc_auc_score(y, learned.out_of_fold(judge, frame, X)["p_harmful"])
    perfect = learned.out_of_fold(judge, frame, X, secondary=np.where(y == 1, 0.9, 0.1))
    assert roc_auc_score(y, perfect["p_harmful"]) > 0.99 > base
    noise = learned.out_of_fold(judge, frame, X, secondary=np.random.default_rng(2).random(len(frame)))
    assert abs(roc_auc_score(y, noise["p_harmful"]) - base) < 0.02


def test_a_pyrit_cell_is_pyrits_alpha_by_hand(pyrit):
    grid = external.to_grid(np.random.default_rng(3).random(len(pyrit)))
    cells = transfer._pyrit_cells(pyrit, grid, ["privacy", "violence_multi_score"], "someone", "how", n_boot=50)
    for cell in cells:
        mask = (pyrit["dataset"] == cell["tested_on"]).to_numpy()
        humans = [c for c in ["human_1", "human_2", "human_3"] if pyrit.loc[mask, c].notna().any()]
        data = np.vstack([pyrit.loc[mask, humans].to_numpy(dtype=float).T, grid[mask][None, :]])
        assert cell["estimate"] == pytest.approx(krippendorff.alpha(reliability_data=data,
                                                                    level_of_measurement="ordinal"))
        assert cell["n"] == mask.sum() and cell["ci_low"] <= cell["estimate"] <= cell["ci_high"]
    assert [c["tested_on"] for c in cells] == ["privacy", "violence_multi_score"]


def test_a_judge_learned_from_pyrit_never_learns_from_the_set_it_scores(pyrit):
    """A user's set that shares requests with PyRIT's files: those rows leave the PyRIT judge's training."""
    own = pyrit[pyrit["dataset"] == "privacy"].reset_index(drop=True)
    outside = external.pyrit_outside(own)
    assert len(outside) == len(pyrit) - len(own)
    assert not set(outside["request"]) & set(own["request"])


def test_a_category_judge_is_out_of_fold_on_its_own_category_and_fitted_on_all_of_it_elsewhere(pyrit, tmp_path):
    few = pyrit[pyrit["dataset"].isin(["privacy", "violence"])].groupby("dataset").head(30).reset_index(drop=True)
    frame = targets.response_frame(load_release(), list(PAPER_MODELS)).head(30)
    made = transfer.stored_pyrit_judges(few, frame, cv_splits=3, root=tmp_path)
    judges, said = made.scores, made.said
    assert said.startswith("PyRIT-trained judges: 3 judges' scores computed in ") and "learned-from-pyrit-cv3" in said
    paper, on_pyrit = judges["paper"], judges["pyrit"]
    assert list(paper.columns) == ["item_id", "prompt_id", "model", "PyRIT", "PyRIT privacy", "PyRIT violence"]
    # the features: one TF-IDF over every text (no label), as the judges were given them
    X = external.response_vectorizer().fit_transform(pd.concat([few["response"], frame["response"]]).fillna("").to_numpy()).tocsr()
    X_pyrit, X_paper = X[:len(few)], X[len(few):]
    privacy = (few["category"] == "privacy").to_numpy()
    fitted = external.ScoredJudge(few[privacy], features=X_pyrit[privacy])
    # (equal to the last digits: the same solves, summed by BLAS in its own order)
    np.testing.assert_allclose(paper["PyRIT privacy"], fitted.predict_features(X_paper), rtol=1e-12)
    np.testing.assert_allclose(on_pyrit.loc[~privacy, "PyRIT privacy"], fitted.predict_features(X_pyrit[~privacy]), rtol=1e-12)
    oof = external.cross_validated_scores(few[privacy].reset_index(drop=True), n_splits=3,
                                          kernel=external.linear_kernel(X_pyrit[privacy]))
    np.testing.assert_allclose(on_pyrit.loc[privacy, "PyRIT privacy"], oof, rtol=1e-12)
    # read back by its fingerprint, every digit
    read = transfer.stored_pyrit_judges(few, frame, cv_splits=3, root=tmp_path)
    again, said = read.scores, read.said
    assert "read from learned-from-pyrit-cv3" in said
    pd.testing.assert_frame_equal(again["pyrit"], on_pyrit, check_exact=True)
