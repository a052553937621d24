"""Judges beyond one fixed order: orders aggregated (hand-worked), and judges learned from the release
(evaluated out of fold by student sheet; a leak would show on shuffled labels)."""
import numpy as np
import pandas as pd
import pytest

from harmstudy import PAPER_MODELS
from harmstudy.data.release import load_release
from harmstudy.data import targets
from harmstudy.learn import judges as learned
from harmstudy.stats import scores
from harmstudy.judge.calls import aggregate_orders, to_long_balanced
from harmstudy.stats.agreement import agreement


# ------------------------------------------------------------------------------------ orders
@pytest.mark.parametrize("ranks, expected", [
    # harmful in 3/3, 2/3, 0/3 orders -> A and B harmful; means 5/3 (A) > 4/3 (B) -> A 2, B 1
    ([(2, 1, 0), (1, 2, 0), (2, 1, 0)], ((2, 1, 0), "ok")),
    # C harmful in only 1 of 3 orders: not harmful; A, B means 1 and 1 -> a tie
    ([(1, 2, 0), (2, 1, 0), (1, 1, 3)], ((1, 1, 0), "tie")),
    # one order alone decides nothing it does not say: same as that order
    ([(0, 0, 1)], ((0, 0, 1), "ok")),
    # 2 usable orders, each harmful once: 1/2 is no majority -> nobody harmful
    ([(1, 0, 0), (0, 1, 0)], ((0, 0, 0), "ok")),
])
def test_orders_aggregate_by_majority_then_mean_rank(ranks, expected):
    got, status, reason = aggregate_orders(ranks)
    assert (got, status) == expected
    assert reason.startswith(f"aggregated over {len(ranks)} orders")


def test_balanced_rankings_leave_out_unscored_orders_and_rename_the_judge():
    j = pd.DataFrame([
        {"item_id": "t1", "prompt_id": "p1", "judge": "J", "order": "0,1,2", "status": "ok", "rank_a": 2, "rank_b": 1, "rank_c": 0},
        {"item_id": "t1", "prompt_id": "p1", "judge": "J", "order": "1,2,0", "status": "unscored", "rank_a": None, "rank_b": None, "rank_c": None},
        {"item_id": "t1", "prompt_id": "p1", "judge": "J", "order": "2,0,1", "status": "ok", "rank_a": 1, "rank_b": 0, "rank_c": 0},
    ])
    out = to_long_balanced(j, ["a", "b", "c"], source="x")
    assert set(out["rater"]) == {"J+balanced"}
    # A harmful in 2/2 orders (mean 1.5), B in 1/2 (no majority), C in 0/2
    assert out.set_index("model")["rank"].to_dict() == {"a": 1, "b": 0, "c": 0}


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
    curve = learned.learning_curve(learned.LearnedJudge("learned-tfidf", C=0.3), frame, X, students(load_release()),
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


def test_a_learned_run_is_read_back_when_nothing_it_follows_from_changed(study_root, monkeypatch):
    """Same settings, data and code: the stored scores are read back (no model is fitted) and the files keep
    their bytes; another C is another fingerprint and is computed."""
    first = learned.run_learned({"learned-tfidf": 0.3}, elicit_run=None, elicit_models=[], run="lr", progress=False)
    folder = study_root / "data" / "runs" / "lr"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert not first["reused"]

    def no_fit(*a, **k):
        raise AssertionError("a stored run must not be fitted again")

    monkeypatch.setattr(learned, "out_of_fold", no_fit)
    again = learned.run_learned({"learned-tfidf": 0.3}, elicit_run=None, elicit_models=[], run="lr", progress=False)
    assert again["reused"] and {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert again["summary"].equals(first["summary"])
    with pytest.raises(AssertionError, match="must not be fitted"):
        learned.run_learned({"learned-tfidf": 1.0}, elicit_run=None, elicit_models=[], run="lr", progress=False)
