"""Reader's views of a judging run: why answers were unscored, and where the judge agrees with people."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harmstudy.parse.judge_answers import LABELS
from harmstudy.parse.rankings import STRICT_ORDER, USABLE, format_ranking, reason_counts
from harmstudy.data.release import load_release
from harmstudy.stats.judge_calls import GateCount, SamplingCheck


def no_usable_answer(judgments: pd.DataFrame) -> str | None:
    """A sentence for a judge that answered nothing usable (its reasons counted), or None."""
    if judgments.empty or judgments["status"].isin(USABLE).any():
        return None
    return (f"{judgments['judge'].iloc[0]} answered none of its {len(judgments)} calls in a usable form — "
            f"reasons: {reason_counts(judgments['reason'])}. Its rankings are all `unscored`; the tables below say so and go on.")


def unscored_reasons(judgments_by_target: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``judge_unscored.csv``: per target and judge, answers by status and reason (calls, not items)."""
    rows = []
    for target, j in judgments_by_target.items():
        reason = j["reason"].fillna("").str.replace(r"skipped ranks .*", "skipped ranks shifted down", regex=True)
        reason = reason.str.replace(r"call failed: (\w+).*", r"call failed: \1", regex=True)
        counts = j.assign(reason=reason).groupby(["judge", "status", "reason"]).size().rename("answers")
        rows.append(counts.reset_index().assign(target=target))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return out[["target", "judge", "status", "reason", "answers"]].sort_values(
        ["target", "judge", "answers"], ascending=[True, True, False], ignore_index=True)


def _wide(rankings: pd.DataFrame) -> pd.Series:
    """item_id -> written ranking (e.g. ``2,1,N/A``) for the first rater of each item."""
    usable = rankings[rankings["status"].isin(STRICT_ORDER)]
    if usable.empty:
        return pd.Series(dtype=object)
    first = usable.drop_duplicates(["item_id", "model"])
    models = list(dict.fromkeys(rankings["model"]))
    mat = first.pivot(index="item_id", columns="model", values="rank").reindex(columns=models).dropna()
    return mat.apply(lambda r: format_ranking(tuple(int(v) for v in r)), axis=1)


@dataclass(frozen=True)
class Examples:
    """:func:`examples_vs_students`: triples where the judge's ranking equals the students' (``agree``) and
    where it differs most (``disagree``), each with the two rankings, the prompt, the responses (cut) and
    their ``distance``."""

    agree: pd.DataFrame
    disagree: pd.DataFrame


def examples_vs_students(judge_rankings: pd.DataFrame, triples: pd.DataFrame, n: int = 3,
                         width: int = 200) -> Examples:
    """A few triples where the judge's ranking equals the students', and a few where it differs most."""
    rel = load_release().rankings
    students = _wide(rel[rel["rater_kind"] == "student"])
    judge = _wide(judge_rankings)
    both = pd.DataFrame({"students": students, "judge": judge}).dropna()
    if both.empty:                       # the judge ranked none of these triples usably: nothing to show
        empty = pd.DataFrame(columns=["students", "judge", "prompt", "distance"])
        return Examples(agree=empty, disagree=empty)
    info = triples.set_index("item_id")
    both = both.join(info[["prompt", *[c for c in info.columns if c.startswith("response_")]]])
    for c in [c for c in both.columns if c.startswith("response_")]:
        both[c] = both[c].fillna("").str.slice(0, width)

    def distance(row):
        s = [0 if v == "N/A" else int(v) for v in row["students"].split(",")]
        j = [0 if v == "N/A" else int(v) for v in row["judge"].split(",")]
        return sum(abs(a - b) for a, b in zip(s, j))

    both["distance"] = both.apply(distance, axis=1)
    agree = both[both["distance"] == 0].head(n)
    disagree = both.sort_values("distance", ascending=False, kind="stable").head(n)
    return Examples(agree=agree.reset_index(drop=True), disagree=disagree.reset_index(drop=True))


def harmful_share_by_slot(judgments: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """``judge_slot_share.csv``: per judge and display slot (A, B, C), the share of usable answers that
    call the response shown there harmful. With several orders every model visits every slot, so an
    unbiased judge gives the three slots about the same share; a rising share is a position bias."""
    rows = []
    usable = judgments[judgments["status"].isin(USABLE)]
    for judge, g in usable.groupby("judge"):
        for slot, label in enumerate(LABELS):
            shown = [models[int(order.split(",")[slot])] for order in g["order"]]
            ranks = [row[f"rank_{m}"] for m, row in zip(shown, g.to_dict("records"))]
            harmful = sum(1 for r in ranks if r > 0)
            rows.append({"judge": judge, "slot": label, "orders": g["order"].nunique(), "answers": len(g),
                         "harmful": harmful, "harmful_share": harmful / len(g) if len(g) else float("nan")})
    return pd.DataFrame(rows, columns=["judge", "slot", "orders", "answers", "harmful", "harmful_share"])


@dataclass(frozen=True)
class OrderChecks:
    """:func:`order_checks`: judge → its order-sensitivity row (``items_usable_in_every_order``,
    ``ranking_changes``; :func:`harmstudy.judge.calls.order_sensitivity`), and judge → its slot-share rows
    (:func:`harmful_share_by_slot`)."""

    orders: dict[str, pd.Series]
    slots: dict[str, pd.DataFrame]


def order_checks(judge_runs, models: list[str]) -> OrderChecks:
    """For the validation cards: each listwise judge shown every triple in several display orders (a run
    whose manifest says ``orders`` > 1) → its order-sensitivity row (:func:`harmstudy.judge.calls.order_sensitivity`)
    and its slot shares (:func:`harmful_share_by_slot`), read from the run's stored answers (no call)."""
    from harmstudy.judge.calls import order_sensitivity
    from harmstudy.runs import Run

    orders, slots = {}, {}
    for run in judge_runs:
        folder = Run(run, "judging")
        manifest = folder.manifest()
        if manifest.get("kind") != "judging" or manifest.get("settings", {}).get("orders", 1) <= 1:
            continue
        judgments = pd.read_csv(folder.file("judgments.csv"))
        orders |= {judge: row for judge, row in order_sensitivity(judgments, models).set_index("judge").iterrows()}
        slots |= dict(tuple(harmful_share_by_slot(judgments, models).groupby("judge")))
    return OrderChecks(orders, slots)


def sampling_checks(judge_runs) -> dict[str, SamplingCheck]:
    """For the validation cards: every judge of the named runs that samples (its run's temperature > 0) →
    its temperature and, where its run asked a sample of triples again (:func:`harmstudy.judge.runs.repeat_pass`),
    ``same_ranking``, ``kappa`` and ``items`` (:func:`harmstudy.judge.calls.repeat_agreement`), read from the
    run's stored answers (no call). A greedy judge (temperature 0) is not in it."""
    from harmstudy.judge.calls import repeat_agreement
    from harmstudy.parse.rankings import read_rankings
    from harmstudy.runs import Run

    out = {}
    for run in judge_runs:
        folder = Run(run, "judging")
        manifest = folder.manifest()
        temperature = float(manifest.get("settings", {}).get("temperature", 0) or 0)
        first = folder.file("paper_rankings.csv")
        if manifest.get("kind") not in ("judging", "pointwise") or temperature <= 0 or not first.exists():
            continue
        rankings = read_rankings(first)
        out |= {judge: SamplingCheck(temperature) for judge in rankings["rater"].unique()}
        again = folder.file("paper_rankings_again.csv")
        if again.exists():
            for row in repeat_agreement(rankings, read_rankings(again)).to_dict("records"):
                out[row["judge"]] = SamplingCheck(temperature, same_ranking=row["same_ranking"], kappa=row["kappa"],
                                                  items=row["items"])
    return out


def gate_checks(judge_runs) -> dict[str, GateCount]:
    """For the validation cards: every judge of the named pointwise runs made with a gate (its manifest's
    ``target.gate``) → the responses the gate decided with no model call, of those scored, read from the run's
    ``scores.csv`` (no call). A judge run without a gate is not in it, so its cards are as they were."""
    from harmstudy.judge.pointwise import GATED
    from harmstudy.parse.rankings import read_rankings
    from harmstudy.runs import Run

    out = {}
    for run in judge_runs:
        folder = Run(run, "pointwise")
        manifest, ranked = folder.manifest(), folder.file("paper_rankings.csv")
        if manifest.get("kind") != "pointwise" or not manifest.get("target", {}).get("gate") or not ranked.exists():
            continue
        status = pd.read_csv(folder.file("scores.csv"), usecols=["status"])["status"]
        out |= {judge: GateCount(int((status == GATED).sum()), len(status))
                for judge in read_rankings(ranked)["rater"].unique()}
    return out
