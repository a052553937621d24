"""The validation cards' statistics, against hand arithmetic and another library."""
import math

import numpy as np
import pandas as pd
import pytest

from harmstudy.stats import cards
from harmstudy.stats.judge_calls import GateCount


def test_the_slot_spread_is_highest_minus_lowest_share_with_newcombes_interval():
    from statsmodels.stats.proportion import proportion_confint

    slots = pd.DataFrame({"slot": ["A", "B", "C"], "answers": [90, 90, 90], "harmful": [13, 54, 73],
                          "harmful_share": [13 / 90, 54 / 90, 73 / 90]})
    result = cards.position_spread(slots)
    spread, low, high = result.spread, result.ci_low, result.ci_high
    assert spread == pytest.approx(60 / 90)
    # Newcombe's hybrid score interval from the two Wilson intervals (Newcombe 1998, method 10)
    p1, p2 = 73 / 90, 13 / 90
    l1, u1 = proportion_confint(73, 90, method="wilson")
    l2, u2 = proportion_confint(13, 90, method="wilson")
    assert low == pytest.approx(p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), abs=1e-6)
    assert high == pytest.approx(p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), abs=1e-6)


def test_the_length_slope_is_the_logistic_coefficient_with_the_label_held_fixed():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = 600
    log_length = rng.normal(5, 1, n)
    label = rng.integers(0, 2, n)
    called = (rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.4 * log_length + 1.0 * label)))).astype(int)
    data = pd.DataFrame({"log_length": log_length, "label": label, "called": called, "prompt_id": np.arange(n) // 3})
    result = cards.length_slope(data)
    slope, low, high, people = result.slope, result.ci_low, result.ci_high, result.people_slope
    assert result.note == ""
    other = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-10).fit(data[["log_length", "label"]], called)
    assert slope == pytest.approx(other.coef_[0][0], abs=1e-4) and low < slope < high
    alone = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-10).fit(data[["log_length"]], label)
    assert people == pytest.approx(alone.coef_[0][0], abs=1e-4)


def test_a_card_says_why_a_column_is_not_measured_and_reads_order_consistency():
    frame = pd.DataFrame({"item_id": ["t1"] * 3 + ["t2"] * 3, "prompt_id": ["p1"] * 3 + ["p2"] * 3,
                          "model": ["a", "b", "c"] * 2, "label": [1, 0, 0, 1, 1, 0],
                          "response": ["I'm sorry, I can't help with that", "x" * 50, "y", "z" * 400, "w", "v"]})
    rankings = pd.DataFrame([{"item_id": t, "model": m, "rater": j, "rank": r, "status": "ok"}
                             for j, ranks in {"api-j": [1, 0, 0, 2, 1, 0], "local": [0, 1, 0, 1, 0, 0]}.items()
                             for (t, m), r in zip(zip(frame["item_id"], frame["model"]), ranks)])
    agree = pd.DataFrame([{"judge": j, "reference": "human", "metric": "alpha_ordinal", "estimate": e, "ci_low": e - 0.1,
                           "ci_high": e + 0.1, "n": 2, "kind": k, "seconds_per_triple": s}
                          for j, e, k, s in [("api-j", 0.4, "api", np.nan), ("local", 0.1, "listwise", 12.0)]]
                         + [{"judge": "human", "reference": "expert", "metric": "alpha_ordinal", "estimate": 0.75,
                             "ci_low": 0.65, "ci_high": 0.84, "n": 85, "kind": "human", "seconds_per_triple": np.nan}])
    orders = {"local": pd.Series({"items_usable_in_every_order": 11, "ranking_changes": 10})}
    card = cards.judge_cards(rankings, agree, frame, orders=orders).set_index("judge")
    assert card.loc["local", "consistency"] == pytest.approx(1 / 11) and card.loc["local", "consistency_n"] == 11
    assert "release holds one answer per triple" in card.loc["api-j", "consistency_note"]
    assert "slot and model coincide" in card.loc["api-j", "position_note"]
    assert card.loc["api-j", "students_alpha"] == 0.75 and card.loc["api-j", "cost_note"].startswith("money not measured")
    # one refusal-marked response (t1/a): the API judge calls it harmful, as did the students
    assert card.loc["api-j", "refusals"] == 1 and card.loc["api-j", "refusal_harmful"] == 1.0
    assert card.loc["local", "refusal_harmful"] == 0.0 and card.loc["local", "students_refusal_harmful"] == 1.0


def test_a_learned_judges_consistency_is_the_agreement_of_its_two_half_fits():
    # half_a 1 1 0 0, half_b 1 0 0 0 (and one row a fit never scored): same call on 3 of 4, κ by hand:
    # p_o = 0.75, p_e = 0.5·0.25 + 0.5·0.75 = 0.5, κ = (0.75 − 0.5) / (1 − 0.5) = 0.5.
    halves = pd.DataFrame({"judge": ["l"] * 5, "item_id": list("abcde"), "model": "m",
                           "half_a": [1, 1, 0, 0, -1], "half_b": [1, 0, 0, 0, 1]})
    h = cards.halves_consistency(halves)["l"]
    assert (h.share, h.n, h.kappa) == (0.75, 4, pytest.approx(0.5))
    frame = pd.DataFrame({"item_id": ["t1"] * 3, "prompt_id": ["p1"] * 3, "model": ["a", "b", "c"],
                          "label": [1, 0, 0], "response": ["x", "y", "z"]})
    rankings = pd.DataFrame([{"item_id": "t1", "model": m, "rater": j, "rank": r, "status": "ok"}
                             for j in ("l", "pooled") for m, r in zip("abc", [1, 0, 0])])
    agree = pd.DataFrame([{"judge": j, "reference": "human", "metric": "alpha_ordinal", "estimate": 0.3, "ci_low": 0.2,
                           "ci_high": 0.4, "n": 1, "kind": "learned", "seconds_per_triple": 0.01} for j in ("l", "pooled")])
    card = cards.judge_cards(rankings, agree, frame, halves={"l": h}).set_index("judge")
    assert card.loc["l", "consistency"] == 0.75 and card.loc["l", "consistency_n"] == 4
    assert "κ 0.50" in card.loc["l", "consistency_note"] and np.isnan(card.loc["pooled", "consistency"])
    assert "not computed" in card.loc["pooled", "consistency_note"]


def test_a_learned_runs_half_fits_and_stores_are_read_from_the_run_for_the_statistics(study_root):
    """The run reader hands the statistics typed records: the half-fits of the test above (3 of 4 alike,
    κ 0.5 by hand) read from the run's paper_halves.csv, and the judges' stores from its manifest; a run
    with neither gives nothing."""
    import json

    from harmstudy.judge import run_tables
    from harmstudy.stats.judge_calls import HalvesAgreement

    folder = study_root / "data/runs/lr"
    folder.mkdir(parents=True)
    pd.DataFrame({"judge": ["l"] * 5, "item_id": list("abcde"), "model": "m", "half_a": [1, 1, 0, 0, -1],
                  "half_b": [1, 0, 0, 0, 1]}).to_csv(folder / "paper_halves.csv", index=False)
    folder.joinpath("manifest.json").write_text(json.dumps({
        "kind": "learned", "embedding_model": "small", "embed_seconds_per_text": {"small": 1.0},
        "judge_stores": {"tfidf": [], "l": ["small"]}}))
    (study_root / "data/runs/other").mkdir()
    (h,) = run_tables.learned_halves(["lr", "other"]).values()
    assert isinstance(h, HalvesAgreement) and (h.share, h.n, h.kappa) == (0.75, 4, pytest.approx(0.5))
    (stores,) = run_tables.learned_stores(["lr", "other"])
    assert (stores.run, stores.embedding_model, stores.judge_stores) == ("lr", "small", {"tfidf": (), "l": ("small",)})
    assert stores.embed_seconds_per_text == {"small": 1.0}
    assert run_tables.learned_halves(["other"]) == {} and run_tables.learned_stores(["other"]) == []


def test_pyrit_cards_call_harmful_at_severity_3_of_5_for_people_and_judges_alike():
    """Scores on 0–1: 0.5 (severity 3) and up is harmful. On the published set (one rater) the judge's calls
    1 1 0 0 [NaN: unscored, left out] against the people's 1 0 0 0 → agreement 3/4, κ by hand:
    p_e = 0.5·0.25 + 0.5·0.75 = 0.5, κ = (0.75 − 0.5) / 0.5 = 0.5. The band is κ between the multi-score set's
    raters: rater 1 vs 2 agree on all four (κ 1), rater 3 differs once from each."""
    scores = pd.DataFrame({
        "dataset": ["pub"] * 5 + ["multi"] * 4, "row": range(9), "request": list("abcdeabcd"),
        "response": ["x" * 10, "x" * 20, "x" * 30, "x" * 40, "x" * 50] + ["y"] * 4,
        "human_1": [0.5, 0.25, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0],
        "human_2": [np.nan] * 5 + [1.0, 1.0, 0.0, 0.0], "human_3": [np.nan] * 5 + [1.0, 0.0, 0.0, 0.0]})
    scores["human_median"] = scores["human_1"]
    raw = {"j": np.array([0.9, 0.5, 0.49, 0.0, np.nan, 0, 0, 0, 0])}
    card = cards.scored_set_cards(scores, raw, {"j": "learned (cv)"}, ["pub"], ceiling_sets=("multi",), n_boot=50)
    row = card.set_index("judge").loc["j"]
    assert row["n"] == 4 and row["kappa"] == pytest.approx(0.5) and row["ci_unit"] == "response"   # its CI resamples responses
    assert row["people_kappa_max"] == pytest.approx(1.0) and row["people_kappa_min"] == pytest.approx(0.5)


def test_a_gate_adds_its_count_and_share_only_to_the_cards_of_a_run_with_a_gate():
    """Two judges on one triple: "g" ran with a gate that decided 1 of its 3 responses (share 1/3), "l" without;
    a card table with no gated judge keeps its columns as they were (the study's tables byte-identical)."""
    frame = pd.DataFrame({"item_id": ["t1"] * 3, "prompt_id": ["p1"] * 3, "model": ["a", "b", "c"],
                          "label": [1, 0, 0], "response": ["I'm sorry, I can't help with that", "y", "z"]})
    rankings = pd.DataFrame([{"item_id": "t1", "model": m, "rater": j, "rank": r, "status": "ok"}
                             for j in ("g", "l") for m, r in zip("abc", [0, 1, 0])])
    agree = pd.DataFrame([{"judge": j, "reference": "human", "metric": "alpha_ordinal", "estimate": 0.3, "ci_low": 0.2,
                           "ci_high": 0.4, "n": 1, "kind": "pointwise", "seconds_per_triple": 1.0} for j in ("g", "l")])
    plain = cards.judge_cards(rankings, agree, frame)
    assert list(plain.columns) == cards.CARD_COLUMNS
    card = cards.judge_cards(rankings, agree, frame, gates={"g": GateCount(decided=1, responses=3)}).set_index("judge")
    assert list(card.columns) == cards.CARD_COLUMNS[1:] + cards.GATE_COLUMNS
    assert card.loc["g", "gated"] == 1 and card.loc["g", "gated_share"] == pytest.approx(1 / 3)
    assert np.isnan(card.loc["l", "gated"]) and np.isnan(card.loc["l", "gated_share"])
