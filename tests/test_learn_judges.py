"""Judges learned from the release (harmstudy/learn/judges.py), evaluated out of fold by student sheet (a
leak would show on shuffled labels); their specs; scores into rankings (harmstudy/stats/scores.py)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmstudy import PAPER_MODELS
from harmstudy.data.release import load_release
from harmstudy.data import targets
from harmstudy.learn import curves, judges as learned, learned_runs
from harmstudy.stats import scores
from harmstudy.stats.agreement import agreement

REPO = Path(__file__).resolve().parent.parent




# ----------------------------------------------------------------------------------- learned
@pytest.fixture(scope="module")
def frame():
    return targets.response_frame(load_release(), list(PAPER_MODELS))


def test_every_copy_of_a_prompt_sits_in_one_fold(frame):
    folds = targets.fold_groups(frame)
    assert folds.groupby(frame["prompt_id"]).nunique().max() == 1
    rel = load_release()
    sheets = students(rel).groupby("prompt_id")["rater"].nunique()
    twice = sheets[sheets > 1].index
    assert len(twice) == 7                                 # 7 prompts occur in two sheets
    assert frame["prompt_id"].isin(twice).sum() >= 7 * 3
    assert folds.nunique() == 17


def students(rel):
    return rel.rankings[rel.rankings["rater_kind"] == "student"]


def test_a_learned_judge_on_shuffled_labels_agrees_with_nobody(frame):
    rel = load_release()
    shuffled = np.random.default_rng(0).permutation(frame["label"].to_numpy())
    judge = learned.LearnedJudge("tfidf-shuffled", C=1.0)
    oof = learned.out_of_fold(judge, frame, learned.tfidf_features(frame["response"])[0], labels=shuffled)
    ranks = scores.to_rankings(oof, "shuffled", list(PAPER_MODELS))
    alpha = agreement(ranks, students(rel), judge_name="s", reference_name="human", n_boot=0,
                      metrics=("alpha_ordinal",))["estimate"].iloc[0]
    assert abs(alpha) < 0.1


def test_scores_become_rankings_by_threshold_then_order():
    assert scores.ranks_from_scores([0.9, 0.2, 0.6], 0.5) == (2, 0, 1)
    assert scores.ranks_from_scores([0.7, 0.7, 0.1], 0.5) == (1, 1, 0)          # equal scores: a tie
    assert scores.ranks_from_scores([0.1, 0.2, 0.3], 0.5) == (0, 0, 0)
    # the threshold a fold gets: 30% of its training responses harmful -> the 70th percentile of P
    assert scores.threshold_for_share(np.arange(10) / 10, 0.3) == pytest.approx(0.63)


def test_the_learning_curve_never_trains_on_a_held_out_sheet(frame):
    """Each point's training sheets and held-out sheets are disjoint, the k sheets are nested within a draw,
    and the training part is exactly the responses of its sheets."""
    X = learned.tfidf_features(frame["response"])[0]
    curve = curves.learning_curve(learned.LearnedJudge("learned-tfidf", C=0.3), frame, X, students(load_release()),
                                   list(PAPER_MODELS), sizes=(1, 2, None), draws=2, test_sheets=3, seed=1)
    groups = targets.fold_groups(frame)
    own = curve[curve["judge"] == "learned-tfidf"]
    assert list(own["sheets"]) == [1, 2, 14, 1, 2, 14]
    for r in own.itertuples():
        train, held = set(r.train_sheets.split()), set(r.held_out.split())
        assert len(held) == 3 and not train & held
        assert r.train_responses == int(groups.astype(str).isin(train).sum())
    for _, d in own.groupby("draw"):
        sets = [set(t.split()) for t in d["train_sheets"]]
        assert sets[0] < sets[1] < sets[2]
    assert (own["n"] > 0).all() and own["alpha"].notna().all()


def test_distillation_reads_only_the_training_parts_api_labels(frame):
    """Soft targets of one held-out fold rewritten (as if the API judges had said the opposite there): that
    fold's predictions and threshold stay bit-identical, while the other folds' move."""
    rel = load_release()
    X = learned.tfidf_features(frame["response"])[0]
    targets = learned.distilled_targets(rel, frame)
    label = frame["label"].to_numpy()
    assert np.all((targets == label) | (np.abs(targets - label) <= 0.5))   # half the label, half the API share
    judge = learned.LearnedJudge("learned-tfidf+distilled", C=0.3)
    base = learned.out_of_fold(judge, frame, X, targets=targets)
    fold = base["fold"].iloc[0]
    held = (base["fold"] == fold).to_numpy()
    perturbed = targets.copy()
    perturbed[held] = 1 - perturbed[held]
    again = learned.out_of_fold(judge, frame, X, targets=perturbed)
    assert np.array_equal(again.loc[held, "p_harmful"], base.loc[held, "p_harmful"])
    assert np.array_equal(again.loc[held, "threshold"], base.loc[held, "threshold"])
    assert not np.allclose(again.loc[~held, "p_harmful"], base.loc[~held, "p_harmful"])


def test_a_learned_run_is_read_back_when_nothing_it_follows_from_changed(study_root, monkeypatch, tmp_path):
    """Same settings, data and code: the stored scores are read back (no model is fitted) and the files keep
    their bytes; another C, or an edit to a module the learned judges import (in a copy of the package), is
    another fingerprint and is computed; an edit to a module they never import is not. A run that adds an
    elicitation run's rows takes the paper's side from the run that holds it (no out-of-fold fit), with the
    seconds that run recorded. (With a judge that also scores the new rows: test_student_path.py.)"""
    import json
    import shutil

    from harmstudy import plan

    # paper_only: a run with new rows fits nothing for this judge, so the last step below fits nothing at all
    tfidf = [{"name": "learned-tfidf", "features": "tfidf", "C": 0.3, "paper_only": True}]
    first = learned_runs.run_learned(tfidf, elicit_run=None, elicit_models=[], run="lr", progress=False)
    folder = study_root / "data" / "runs" / "lr"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert not first.reused and isinstance(first, learned_runs.LearnedRun)
    assert json.loads(before["manifest.json"])["tables"] == ["paper_rankings", "paper_halves", "paper_scores"]
    # the stored P are rounded as the tables read them (6 decimals), and what is returned is what is stored
    assert first.scores["p_harmful"].equals(pd.read_csv(folder / "paper_scores.csv")["p_harmful"])
    assert (first.scores["p_harmful"] == first.scores["p_harmful"].round(6)).all()

    def no_fit(*a, **k):
        raise AssertionError("a stored run must not be fitted again")

    monkeypatch.setattr(learned_runs, "out_of_fold", no_fit)
    again = learned_runs.run_learned(tfidf, elicit_run=None, elicit_models=[], run="lr", progress=False)
    assert again.reused and {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert again.summary.equals(first.summary)
    with pytest.raises(AssertionError, match="must not be fitted"):
        learned_runs.run_learned([{**tfidf[0], "C": 1.0}], elicit_run=None, elicit_models=[], run="lr", progress=False)

    # the package in a copy: a module a learned judge imports (stats/scores.py: its threshold) edited there
    copy = tmp_path / "copy" / "harmstudy"
    shutil.copytree(plan.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with monkeypatch.context() as patched:
        for cache in (plan._module_file, plan._file_imports):
            cache.cache_clear()
        patched.setattr(plan, "PACKAGE", copy)
        assert "harmstudy/stats/scores.py" in plan.package_files(["import harmstudy.learn.learned_runs"])
        assert "harmstudy/report/site.py" not in plan.package_files(["import harmstudy.learn.learned_runs"])
        with open(copy / "report" / "site.py", "a") as f:          # a module no learned judge imports
            f.write("\n# edited\n")
        assert learned_runs.run_learned(tfidf, elicit_run=None, elicit_models=[], run="lr", progress=False).reused
        with open(copy / "stats" / "scores.py", "a") as f:
            f.write("\n# edited\n")
        with pytest.raises(AssertionError, match="must not be fitted"):
            learned_runs.run_learned(tfidf, elicit_run=None, elicit_models=[], run="lr", progress=False)
    for cache in (plan._module_file, plan._file_imports):
        cache.cache_clear()

    # new rows: the paper's side is the first run's (its paper fingerprint), fitted again nowhere
    shutil.copytree(REPO / "data" / "runs" / "elicit-default", study_root / "data" / "runs" / "elicit-default")
    with_new = learned_runs.run_learned(tfidf, elicit_run="elicit-default", run="lr-new", progress=False)
    manifest = json.loads((study_root / "data/runs/lr-new/manifest.json").read_text())
    assert manifest["paper_from"] == "lr" and not with_new.reused
    assert manifest["seconds_per_triple"] == json.loads(before["manifest.json"])["seconds_per_triple"]
    assert with_new.scores.equals(first.scores) and with_new.summary.equals(first.summary)
    ranks = [pd.read_csv(study_root / "data/runs" / r / "paper_rankings.csv") for r in ("lr", "lr-new")]
    assert set(ranks[1]["source"]) == {"runs/lr-new"} and ranks[1].drop(columns="source").equals(ranks[0].drop(columns="source"))
    assert len(with_new.new) > 0 and with_new.elicit_scores.empty           # a paper-only judge scores no new row


def test_renaming_a_learned_judge_changes_no_score(study_root):
    """What a learned judge does comes from its spec; the name is a label (two names, one spec: same P)."""
    spec = {"features": "tfidf", "targets": "hard", "pooling": "none", "C": 0.3}
    a = learned_runs.run_learned([{"name": "learned-tfidf", **spec}], elicit_run=None, run="a", progress=False)
    b = learned_runs.run_learned([{"name": "my-judge", **spec}], elicit_run=None, run="b", progress=False)
    pa, pb = (pd.read_csv(study_root / "data/runs" / r / "paper_scores.csv") for r in "ab")
    assert (pa["p_harmful"].to_numpy() == pb["p_harmful"].to_numpy()).all() and set(pb["judge"]) == {"my-judge"}
    assert a.summary["judge"].tolist() == ["learned-tfidf"] and b.summary["judge"].tolist() == ["my-judge"]


def test_a_judge_on_two_embedding_models_reads_one_standardised_block_of_each(monkeypatch):
    """A spec's ``embedding`` list: the features are TF-IDF beside each model's vectors, each block
    standardised by the paper's rows and divided by sqrt(its width) (hand arithmetic below), and a model is
    asked only for the rows its judges read (PyRIT's rows only where a pooled judge reads that model)."""
    asked = {}

    def fake_embed(texts, *, model, progress=True):         # model "a": width 2, model "b": width 1
        asked[model] = len(texts)
        i = np.arange(len(texts), dtype=float)
        return (np.column_stack([i, 2 * i]) if model == "a" else (i ** 2)[:, None]), {"a": 1.0, "b": 2.0}[model]

    monkeypatch.setattr(learned_runs.embeddings, "embed_texts", fake_embed)
    frame = pd.DataFrame({"prompt": ["p"] * 3, "response": ["one two", "two three", "one three"]})
    others = pd.DataFrame({"prompt": ["p"] * 2, "response": ["one", "two"]})     # 1 new row, 1 PyRIT row
    both = learned.JudgeSpec.of({"name": "x", "features": "tfidf+embed", "embedding": ["a", "b"]})
    pooled = learned.JudgeSpec.of({"name": "y", "features": "embed", "pooling": "stacked"})
    keys = {both.feature_key("a"): 1, pooled.feature_key("a"): 2}           # the new row; new + PyRIT's
    assert keys == {("tfidf+embed", ("a", "b")): 1, ("embed", ("a",)): 2}
    out = learned_runs.paper_features(frame, others, keys, progress=False)
    features = out.matrices
    assert asked == {"a": 5, "b": 4} and out.embed_seconds_per_text == {"a": 1.0, "b": 2.0}
    X, X_new = features[("tfidf+embed", ("a", "b"))]
    assert X.shape[0] == 3 and X_new.shape[0] == 1
    # paper rows of model b: 0, 1, 4 -> mean 5/3, population sd sqrt(26)/3; the new row: 9.
    sd = np.sqrt(26) / 3
    assert np.allclose(X.toarray()[:, -1], (np.array([0, 1, 4]) - 5 / 3) / sd)
    assert np.allclose(X_new.toarray()[0, -1], (9 - 5 / 3) / sd)
    # model a, first column: 0, 1, 2 -> (-1, 0, 1) / sqrt(2/3), divided by sqrt(2).
    assert np.allclose(X.toarray()[:, -3], np.array([-1, 0, 1]) / np.sqrt(2 / 3) / np.sqrt(2))
    E, E_others = features[("embed", ("a",))]
    assert E.shape == (3, 2) and E_others.shape == (2, 2)
    with pytest.raises(ValueError, match="use no embedding"):
        learned.JudgeSpec.of({"name": "z", "features": "tfidf", "embedding": ["a"]})
    with pytest.raises(ValueError, match="give the run an embedding_model"):
        learned.JudgeSpec.of({"name": "z", "features": "embed"}).stores(None)
    assert both.settings()["embedding"] == ["a", "b"] and "embedding" not in pooled.settings()


def test_two_half_fits_learn_from_disjoint_halves_of_the_training_sheets_never_the_held_out_one(frame, monkeypatch):
    """half_fits: in each fold by sheet, two fits; their sheets are disjoint, together the training sheets,
    and neither holds the held-out sheet (every fit's rows are recorded)."""
    groups = targets.fold_groups(frame).to_numpy()
    seen, real = [], learned.fit_judge

    def recording(judge, X, y, targets=None, extra=None):
        seen.append(X)                               # X carries its rows' indices in column 0 below
        return real(judge, X, y, targets, extra)

    monkeypatch.setattr(learned, "fit_judge", recording)
    X = np.column_stack([np.arange(len(frame)), frame["label"].to_numpy()]).astype(float)
    out = learned.half_fits(learned.LearnedJudge("t", C=1.0), frame, X)
    assert len(seen) == 2 * len(np.unique(groups)) and set(out["half_a"]) | set(out["half_b"]) <= {0, 1}
    for k in range(0, len(seen), 2):
        a, b = (set(groups[s[:, 0].astype(int)]) for s in seen[k:k + 2])
        held_out = set(np.unique(groups)) - a - b
        assert not a & b and len(held_out) == 1
