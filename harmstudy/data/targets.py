"""What judges are applied to and learn from, one row per triple or per response: the paper's triples (a
seeded sample stratified by student sheet), an elicitation run's triples, the responses with the students'
label, the folds by student sheet, and PyRIT's scored responses as training rows."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harmstudy.data.release import Release, item_id, load_release, student_sheets
from harmstudy.parse.rankings import NOT_HARMFUL, USABLE
from harmstudy.runs import Run

RESPONSES = "responses.jsonl"

ELICITATION_KIND = "elicitation"

def elicited_models(run: str) -> list[str]:
    """The small models an elicitation run elicited, in its order (its manifest; a run without one — records
    written by other means — in the order its responses first name them): what every notebook downstream of
    01 ranks, so that the model list is written once (01's ``models``, make's ELICIT_MODELS)."""
    models = [m["name"] for m in Run(run, ELICITATION_KIND).manifest().get("models", [])]
    if not models:
        models = list(dict.fromkeys(r["model"] for r in Run(run, ELICITATION_KIND).records(RESPONSES)))
    if not models:
        raise FileNotFoundError(f"elicitation run {run!r} has no manifest naming its models: run "
                                f"notebooks/01_elicit.ipynb (or `make paper`) first")
    return models


def load_responses(run: str) -> pd.DataFrame:
    """All records of a run (empty frame if none). Reading never modifies the run."""
    return pd.DataFrame(Run(run, ELICITATION_KIND).records(RESPONSES))


def _stratified(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded sample of ``n`` rows, stratified by student sheet (``source``): each sheet's share of ``n``
    by the largest-remainder method (its whole part, then one more for the sheets with the largest
    fractional parts until ``n`` is reached; ties in sheet order), then a seeded sample within each sheet."""
    if n >= len(frame):
        return frame
    counts = frame.groupby("source", sort=True).size()
    quota = counts * n / len(frame)
    allocated = np.floor(quota).astype(int)
    extra = (quota - allocated).sort_values(ascending=False, kind="stable").index[:n - int(allocated.sum())]
    allocated[extra] += 1
    return pd.concat([g.sample(n=int(allocated[source]), random_state=seed)
                      for source, g in frame.groupby("source", sort=True)])

def paper_triples(n_items: int | None, seed: int) -> pd.DataFrame:
    """The release's triples: the expert's first (a seeded sample of them, stratified by student sheet,
    when ``n_items`` is smaller), then a seeded sample of the rest stratified by student sheet."""
    rel = load_release()
    triples = rel.triples
    if n_items is None or n_items >= len(triples):
        return triples
    expert_items = set(rel.rankings.loc[rel.rankings["rater_kind"] == "expert", "item_id"])
    first = triples[triples["item_id"].isin(expert_items)]
    rest = triples[~triples["item_id"].isin(expert_items)]
    if n_items <= len(first):
        sample = _stratified(first, n_items, seed)
    else:
        sample = pd.concat([first, _stratified(rest, n_items - len(first), seed)])
    return sample.sort_values("item_id").reset_index(drop=True)

def elicitation_triples(run: str, models: list[str] | None = None) -> pd.DataFrame:
    """One triple per prompt of an elicitation run that every model answered (``models``: the run's own)."""
    models = models or elicited_models(run)
    resp = load_responses(run)
    if resp.empty:
        raise FileNotFoundError(f"elicitation run {run!r} has no responses: run notebooks/01_elicit.ipynb first")
    wide = resp.pivot_table(index=["prompt_id", "prompt"], columns="model", values="response", aggfunc="first")
    missing = [m for m in models if m not in wide.columns]
    if missing:
        raise ValueError(f"elicitation run {run!r} has no responses from {missing}; it has {list(wide.columns)}")
    wide = wide[models].dropna().reset_index()
    wide.columns = ["prompt_id", "prompt", *[f"response_{m}" for m in models]]
    wide.insert(0, "item_id", [item_id(p, [r[f"response_{m}"] for m in models])
                               for p, r in zip(wide["prompt"], wide.to_dict("records"))])
    return wide


def response_frame(rel: Release, models: list[str]) -> pd.DataFrame:
    """One row per (triple, model): prompt, response, sheet, and the students' label.

    ``harmful`` = share of the students' rankings of that triple that call the response harmful (one
    group for most triples, two for a few); ``label`` = harmful share >= 0.5.
    """
    students = rel.rankings[(rel.rankings["rater_kind"] == "student") & rel.rankings["status"].isin(USABLE)]
    share = (students.assign(h=(students["rank"] > NOT_HARMFUL).astype(float))
             .groupby(["item_id", "model"])["h"].mean().rename("harmful"))
    rows = []
    for t in rel.triples.to_dict("records"):
        for m in models:
            rows.append({"item_id": t["item_id"], "prompt_id": t["prompt_id"], "prompt": t["prompt"],
                         "model": m, "response": t[f"response_{m}"] or "", "source": t["source"]})
    frame = pd.DataFrame(rows).join(share, on=["item_id", "model"])
    frame = frame[frame["harmful"].notna()].reset_index(drop=True)
    frame["label"] = (frame["harmful"] >= 0.5).astype(int)
    return frame

def fold_groups(frame: pd.DataFrame) -> pd.Series:
    """The fold of each row: its student sheet, except that every copy of a prompt goes with the
    lowest-numbered sheet in which that prompt occurs (so a prompt never sits on both sides of a split)."""
    sheet = student_sheets(frame["source"])
    first = sheet.groupby(frame["prompt_id"]).transform("min")
    return first.rename("fold")

def elicitation_frame(run: str, models: list[str] | None = None) -> pd.DataFrame:
    """One row per (triple, model) of an elicitation run: the triples the listwise judges rank."""
    models = models or elicited_models(run)
    triples = elicitation_triples(run, models)
    return pd.DataFrame([{"item_id": t["item_id"], "prompt_id": t["prompt_id"], "prompt": t["prompt"], "model": m,
                          "response": t[f"response_{m}"] or ""} for t in triples.to_dict("records") for m in models])

def pyrit_frame() -> pd.DataFrame:
    """PyRIT's human-scored responses as training rows of a pooled judge: prompt (the request), response,
    ``target`` = the humans' median score on 0–1, category, dataset, row."""
    from harmstudy.data.scored_responses import load_pyrit

    scores = load_pyrit().scores
    return pd.DataFrame({"prompt": scores["request"], "response": scores["response"].fillna(""),
                         "target": scores["human_median"].astype(float), "category": scores["category"],
                         "dataset": scores["dataset"], "row": scores["row"]})
