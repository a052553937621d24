"""A listwise judge shown each triple in several display orders (harmstudy/judge/calls.py): the orders
aggregated into one ranking, by hand-worked examples."""
import pandas as pd
import pytest

from harmstudy.judge.calls import aggregate_orders, to_long_balanced


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


def test_order_sensitivity_counts_the_triples_whose_ranking_changes_among_those_usable_in_every_order():
    from harmstudy.judge.calls import order_sensitivity

    def row(item, order, status, a, b, c):
        return {"item_id": item, "prompt_id": item, "judge": "J", "order": order, "status": status,
                "rank_a": a, "rank_b": b, "rank_c": c}
    j = pd.DataFrame([row("t1", "0,1,2", "ok", 2, 1, 0), row("t1", "2,0,1", "ok", 2, 1, 0),     # same both times
                      row("t2", "0,1,2", "ok", 1, 0, 0), row("t2", "2,0,1", "ok", 0, 1, 0),     # changed
                      row("t3", "0,1,2", "ok", 1, 0, 0), row("t3", "2,0,1", "unscored", None, None, None)])
    out = order_sensitivity(j, ["a", "b", "c"]).iloc[0]
    # t3 is not usable in every order: 2 usable triples, 1 of them changed; 5 of 6 answers usable
    assert (out["items"], out["items_usable_in_every_order"], out["ranking_changes"]) == (3, 2, 1)
    assert out["ranking_changes_share"] == 0.5 and out["coverage"] == pytest.approx(5 / 6)
