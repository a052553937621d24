"""What the recorded judging runs cost, per triple: the seconds their calls took and the dollars they were
billed, read from each run's cache (:mod:`harmstudy.judge.cache`) and manifest, for notebook 04's tables and
cards (:func:`harmstudy.stats.tables.agreement_table` takes the seconds, the cards the dollars)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from harmstudy import paths
from harmstudy.judge.cache import read_calls


@dataclass(frozen=True)
class RunCalls:
    """One judging run's cached calls (``model, usage, cost, latency, error``), the judge's label, and the
    number of triples the calls judged (what a per-triple figure divides by)."""

    label: str
    calls: pd.DataFrame
    items: int


class Dollars(NamedTuple):
    """What cached calls were billed; ``priced``: some call's model has a price (a local model has none)."""

    dollars: float
    priced: bool


def _manifest(folder) -> dict:
    path = folder / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def run_calls(judge_runs) -> list[RunCalls]:
    """The calls of every judging run of the named ones with a cache (learned runs have none): a pointwise
    run's label and triples from its ``paper_rankings.csv``; a listwise run shown triples in several orders
    as ``<judge>+balanced`` (every order's calls over the triples), one order as ``<judge>`` (one call per
    triple)."""
    out = []
    for run in judge_runs:
        folder = paths.RUNS / run
        manifest = _manifest(folder)
        cache = folder / "judge_cache.sqlite"
        derived = folder / ("scores.csv" if manifest.get("kind") == "pointwise" else "judgments.csv")
        if manifest.get("kind") == "learned" or not cache.exists() or not derived.exists():
            continue
        calls = read_calls(cache)
        if calls.empty:
            continue
        if manifest.get("kind") == "pointwise":
            if (folder / "paper_rankings.csv").exists():
                ranked = pd.read_csv(folder / "paper_rankings.csv", usecols=["item_id", "rater"])
                out.append(RunCalls(ranked["rater"].iloc[0], calls, ranked["item_id"].nunique()))
            continue
        judgments = pd.read_csv(folder / "judgments.csv", usecols=["item_id", "judge"])
        label, items = judgments["judge"].iloc[0], judgments["item_id"].nunique()
        if judgments.groupby("item_id").size().max() > 1:
            out.append(RunCalls(label + "+balanced", calls, items))          # every order of the triple
        else:
            out.append(RunCalls(label, calls, len(calls)))                   # one call per triple, one order
    return out


def judge_costs(judge_runs=()) -> dict[str, float]:
    """Seconds per triple of every judge in the named runs, as measured when the run was made: a judging
    run's calls' logged latency (from its cache; all orders for a balanced judge, all three responses
    for a pointwise judge), a learned run's timing from its manifest. The paper's judges have no logged
    latency in the release."""
    costs = {}
    for run in judge_runs:
        manifest = _manifest(paths.RUNS / run)
        if manifest.get("kind") == "learned":
            costs.update(manifest.get("seconds_per_triple", {}))
    for run in run_calls(judge_runs):
        costs[run.label] = run.calls["latency"].fillna(0).sum() / run.items
    return costs


def call_dollars(calls: pd.DataFrame) -> Dollars:
    """What a judging run's cached calls were billed: each call's cost as LiteLLM recorded it when it was
    made; a call recorded at 0 with token counts, at the price LiteLLM's model cost map gives those tokens
    (``litellm.cost_per_token``)."""
    dollars, priced = 0.0, False
    for model, usage, cost in calls[calls["error"].isna()][["model", "usage", "cost"]].itertuples(index=False):
        if cost and cost > 0:
            dollars, priced = dollars + float(cost), True
            continue
        if str(model).startswith("llamacpp/"):         # runs here: pricing it fails (and prints) per call
            continue
        import litellm    # here, not above: its import takes 3 s, and a run of local judges needs no price

        tokens = json.loads(usage or "{}")
        try:
            prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=tokens.get("prompt_tokens", 0),
                                                        completion_tokens=tokens.get("completion_tokens", 0))
        except Exception:  # not in the cost map: no price
            continue
        dollars, priced = dollars + prompt + completion, True
    return Dollars(dollars, priced)


def judge_money(judge_runs=()) -> dict[str, float]:
    """Dollars per 1,000 triples of every priced judge of the named runs (:func:`call_dollars` over its
    cache, divided as :func:`judge_costs` divides seconds); judges that run here are not in it."""
    out = {}
    for run in run_calls(judge_runs):
        billed = call_dollars(run.calls)
        if billed.priced:
            out[run.label] = 1000 * billed.dollars / run.items
    return out
