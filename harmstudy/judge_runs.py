"""Where judges are applied: the paper's human-ranked triples, or the triples of an elicitation run.

A judging run lives in ``data/runs/<run>/``: ``judge_cache.sqlite`` (every raw answer), ``judgments.csv``
(one row per item and display order), ``<target>_rankings.csv`` (the shared long format, fixed order)
and ``manifest.json``.
"""
from __future__ import annotations

import json
import re

import pandas as pd

from . import PAPER_MODELS, paths
from .elicit import RunMismatchError, load_responses
from .judge import JudgeSettings, judge_label, judge_triples, order_sensitivity, to_long, write_manifest
from .release import item_id, load_release
from .study_tables import write_table

PAPER_TARGET = "paper"


def default_run_name(settings: JudgeSettings, target: str, n_items: int | None) -> str:
    """e.g. ``judge-qwen2.5-coder-1.5b-instruct-paper-n180``; grammar and orders get their own folders."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", judge_label(settings.judge)).strip("-").lower()
    variant = ("-grammar" if settings.grammar and settings.is_local else "") + \
              (f"-o{settings.orders}" if settings.orders != 1 else "")
    return f"judge-{slug}{variant}-{target.replace('elicit:', '')}-n{n_items or 'all'}"


def clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + " […]"


def paper_triples(n_items: int | None, seed: int) -> pd.DataFrame:
    """The release's triples: all of the expert's, then a seeded sample stratified by student sheet."""
    rel = load_release()
    triples = rel.triples
    if n_items is None or n_items >= len(triples):
        return triples
    expert_items = set(rel.rankings.loc[rel.rankings["rater_kind"] == "expert", "item_id"])
    first = triples[triples["item_id"].isin(expert_items)]
    rest = triples[~triples["item_id"].isin(expert_items)]
    need = max(0, n_items - len(first))
    share = need / len(rest)
    parts = [g.sample(n=min(len(g), round(len(g) * share)), random_state=seed) for _, g in rest.groupby("source")]
    sample = pd.concat([first.head(n_items), *parts])
    if len(sample) < n_items:                 # rounding: top up from what is left, seeded
        left = rest[~rest["item_id"].isin(sample["item_id"])]
        sample = pd.concat([sample, left.sample(n=n_items - len(sample), random_state=seed)])
    return sample.head(n_items).sort_values("item_id").reset_index(drop=True)


def elicitation_triples(run: str, models: list[str]) -> pd.DataFrame:
    """One triple per prompt of an elicitation run that every model answered."""
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


#: Settings that do not change an answer; a run may be resumed with other values of these.
OPERATIONAL = {"concurrency", "timeout", "max_retries", "backoff"}


def _check_same_run(run_path, settings: JudgeSettings, target: str) -> None:
    """Refuse to mix a judge's answers into a run folder made with other settings or another target."""
    manifest = run_path / "manifest.json"
    if not manifest.exists():
        return
    old = json.loads(manifest.read_text())
    new = {k: v for k, v in json.loads(json.dumps(settings.__dict__)).items() if k not in OPERATIONAL}
    was = {k: v for k, v in old.get("settings", {}).items() if k not in OPERATIONAL}
    if was != new or old.get("target", {}).get("target") != target:
        changed = sorted(k for k in set(was) | set(new) if was.get(k) != new.get(k)) or ["target"]
        raise RunMismatchError(f"run {run_path.name!r} was judged with other settings ({', '.join(changed)}); "
                               f"choose another run name or delete data/runs/{run_path.name}")


def run_judging(settings: JudgeSettings, *, target: str = PAPER_TARGET, models: list[str] | None = None,
                n_items: int | None = None, sample_seed: int = 0, max_response_chars: int = 1500,
                run: str | None = None, progress: bool = True) -> dict:
    """Judge the target's triples; write the run's files; return its tables and call counts.

    ``n_items`` samples the paper's triples (see :func:`paper_triples`); an elicitation run is judged whole.
    """
    if target == PAPER_TARGET:
        models = list(PAPER_MODELS)
        triples = paper_triples(n_items, sample_seed)
    elif target.startswith("elicit:"):
        if not models:
            raise ValueError("judging an elicitation run needs the three `models` to rank")
        triples = elicitation_triples(target.split(":", 1)[1], models)
        n_items = None                   # an elicitation run is judged whole; n_items samples the paper's
    else:
        raise ValueError(f"target must be 'paper' or 'elicit:<run>', not {target!r}")
    if len(models) != 3:
        raise ValueError(f"a judge ranks three responses; got {len(models)} models")
    for m in models:
        triples[f"response_{m}"] = triples[f"response_{m}"].map(lambda t: clip(t, max_response_chars))
    run = run or default_run_name(settings, target, n_items)
    run_path = paths.run_dir(run)
    _check_same_run(run_path, settings, target)
    judgments, stats = judge_triples(triples, models, settings, cache_path=run_path / "judge_cache.sqlite",
                                     progress=progress)
    label = "paper" if target == PAPER_TARGET else "elicit"
    long = to_long(judgments, models, source=f"runs/{run}")
    sensitivity = order_sensitivity(judgments, models)
    if stats.calls or not (run_path / "manifest.json").exists():   # a warm rerun leaves files untouched
        write_table(judgments.drop(columns=["cached", "latency"]), "judgments", run_path)
        write_table(long, f"{label}_rankings", run_path)
        write_manifest(run_path, run, settings, {"target": target, "models": models, "n_items": len(triples),
                                                 "sample_seed": sample_seed,
                                                 "max_response_chars": max_response_chars}, stats)
    return {"run": run, "judgments": judgments, "rankings": long, "order_sensitivity": sensitivity,
            "stats": stats, "triples": triples}
