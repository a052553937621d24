"""The learning curve: a learned judge's α against the students, learned from k student sheets and tested
on held-out sheets it never saw ("label more, or pay for an API judge?"), and its summary per k."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, cross_val_predict

from harmstudy.data.targets import fold_groups
from harmstudy.learn.judges import SEED, LearnedJudge
from harmstudy.stats.scores import threshold_for_share, to_rankings

def learning_curve(judge: LearnedJudge, frame: pd.DataFrame, X, students: pd.DataFrame, models: list[str], *,
                   sizes=(1, 2, 4, 8, None), draws: int = 5, test_sheets: int = 4, seed: int = SEED,
                   others: pd.DataFrame | None = None) -> pd.DataFrame:
    """α (ordinal) against the students of ``judge`` learned from k student sheets, on held-out sheets it
    never saw — "label more, or pay for an API judge?".

    Each draw holds out ``test_sheets`` sheets (seeded; a prompt in two sheets stays with one, as in
    :func:`fold_groups`) and orders the others at random; the judge learns from the first k of them (nested:
    the k = 2 sheets include k = 1's; ``None`` = all that remain). Its threshold comes from its training
    sheets (share-matched; P from an inner ``GroupKFold`` by sheet where k ≥ 2, in-sample at k = 1).
    ``others``: rankings of other raters (the paper's API judges) scored on the same held-out sheets, for
    the lines beside the curve. Rows: draw, judge, sheets, train_sheets, held_out, train_responses, alpha, n.
    """
    from harmstudy.stats.agreement import agreement

    y = frame["label"].to_numpy()
    groups = fold_groups(frame).to_numpy()
    sheets = np.unique(groups)
    rng = np.random.default_rng(seed)
    rows = []

    def alpha_of(rankings, items):
        ref = students[students["item_id"].isin(items)]
        a = agreement(rankings, ref, judge_name="", reference_name="human", n_boot=0, metrics=("alpha_ordinal",))
        return float(a["estimate"].iloc[0]), int(a["n"].iloc[0])

    for draw in range(draws):
        order = rng.permutation(sheets)
        held, pool = order[:test_sheets], order[test_sheets:]
        test = np.isin(groups, held)
        items = frame.loc[test, "item_id"].unique()
        for k in sizes:
            k = len(pool) if k is None else k
            if k > len(pool):
                continue
            train = np.isin(groups, pool[:k])
            if (train & test).any():
                raise AssertionError("a held-out sheet's response is in the training part")
            model = judge.make().fit(X[train], y[train])
            if k >= 2:
                inner = GroupKFold(n_splits=min(4, k))
                p_train = cross_val_predict(judge.make(), X[train], y[train], groups=groups[train], cv=inner,
                                            method="predict_proba")[:, 1]
            else:
                p_train = model.predict_proba(X[train])[:, 1]
            scored = frame.loc[test, ["item_id", "prompt_id", "model"]].assign(
                p_harmful=model.predict_proba(X[test])[:, 1], threshold=threshold_for_share(p_train, y[train].mean()))
            alpha, n = alpha_of(to_rankings(scored, judge.name, models), items)
            rows.append({"draw": draw, "judge": judge.name, "sheets": k,
                         "train_sheets": " ".join(map(str, sorted(pool[:k]))),
                         "held_out": " ".join(map(str, sorted(held))), "train_responses": int(train.sum()),
                         "alpha": alpha, "n": n})
        for rater, g in (others.groupby("rater") if others is not None else []):
            alpha, n = alpha_of(g[g["item_id"].isin(items)], items)
            rows.append({"draw": draw, "judge": rater, "sheets": np.nan, "train_sheets": "",
                         "held_out": " ".join(map(str, sorted(held))), "train_responses": 0, "alpha": alpha, "n": n})
    return pd.DataFrame(rows)


def curve_summary(curve: pd.DataFrame) -> pd.DataFrame:
    """``learning_curve_summary.csv``: per judge and number of sheets, α's mean, lowest and highest draw."""
    return (curve.groupby(["judge", "sheets"], dropna=False)
            .agg(alpha_mean=("alpha", "mean"), alpha_min=("alpha", "min"), alpha_max=("alpha", "max"),
                 draws=("alpha", "size"), n_mean=("n", "mean")).reset_index()
            .sort_values(["sheets", "judge"], na_position="last", ignore_index=True))
