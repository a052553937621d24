"""The validation cards' statistics, against hand arithmetic and another library."""
import math

import numpy as np
import pandas as pd
import pytest

from harmstudy.stats import cards


def test_the_slot_spread_is_highest_minus_lowest_share_with_newcombes_interval():
    from statsmodels.stats.proportion import proportion_confint

    slots = pd.DataFrame({"slot": ["A", "B", "C"], "answers": [90, 90, 90], "harmful": [13, 54, 73],
                          "harmful_share": [13 / 90, 54 / 90, 73 / 90]})
    spread, low, high = cards.position_spread(slots)
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
    slope, low, high, people = cards.length_slope(data)
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
    assert card.loc["api-j", "people_alpha"] == 0.75 and card.loc["api-j", "cost_note"].startswith("money not measured")
    # one refusal-marked response (t1/a): the API judge calls it harmful, as did the students
    assert card.loc["api-j", "refusals"] == 1 and card.loc["api-j", "refusal_harmful"] == 1.0
    assert card.loc["local", "refusal_harmful"] == 0.0 and card.loc["local", "people_refusal_harmful"] == 1.0
