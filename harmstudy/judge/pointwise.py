"""Pointwise judges: each response judged alone, scored by the first answer token's log-probabilities.

A pointwise judge has no display slot to be biased by. Through the same LiteLLM path, cache, retries and
run folders as the listwise judges: a local model (``llamacpp/...``) answers with its top log-probabilities
(the provider reads the last position's logits; the shared prefix stays in the KV cache), an API model
with ``logprobs`` where its provider returns them, else its sampled word counts (status ``sampled``).

On triples (the paper's, or an elicitation run's): responses with P(harmful) >= threshold are harmful,
ranked by P (the one ranking representation, via :func:`harmstudy.stats.scores.to_rankings`). The
threshold is a number, or ``"share"``: for each student sheet, the P above which the students' harmful
share of the *other* sheets lies (out of fold, as the learned judges' thresholds are).

Two options (issue 44), each its own judge and run (a part of both names) and recorded in the manifest only
when set, so runs made without them are unchanged: ``variant``, a prompt of
:data:`harmstudy.judge.prompt.POINTWISE_VARIANTS` in place of today's; ``gate="refusal"``, a response
:func:`harmstudy.parse.refusal.is_refusal` marks scores P = 0 (status ``gated``) with no model call.

A run folder (``data/runs/<run>/``) holds ``judge_cache.sqlite`` (every answer), ``scores.csv`` and, on
triples, ``<target>_rankings.csv`` — derived from the cache on every run, rewritten when their bytes change.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from harmstudy import PAPER_MODELS
from harmstudy.data.release import load_release, student_sheets
from harmstudy.data.scored_responses import harm_definition
from harmstudy.data.targets import elicitation_triples, elicited_models, fold_groups, paper_triples, response_frame
from harmstudy.judge import cost
from harmstudy.judge.cache import JudgeCache
from harmstudy.judge.calls import CallStats, JudgeSettings, call_judge, check_credentials, each_result, judge_label
from harmstudy.judge.prompt import (DEFAULT_VARIANT, LIKERT_USER, POINTWISE_VARIANTS, POINTWISE_VERSION,
                                    build_pointwise_messages, check_variant)
from harmstudy.kinds import JudgeKind
from harmstudy.judge.runs import OPERATIONAL, clip, judge_model_info, judge_slug, stop_if_every_call_failed
from harmstudy.parse.judge_scores import score_answer
from harmstudy.parse.refusal import is_refusal
from harmstudy.progress import Progress
from harmstudy.runs import Run
from harmstudy.stats.scores import score_summary, threshold_for_share, to_rankings

KIND = "pointwise"                    # the run's kind (its manifest's); its judge's: JudgeKind
CACHE = "judge_cache.sqlite"
TOP_LOGPROBS = 20
SCORE_COLUMNS = ["score", "status", "reason", "answer", "latency", "cached"]
#: The gates a judge may put before its model call: name -> the responses it decides (scored not harmful).
GATES = {"refusal": is_refusal}
GATED = "gated"
GATE_REASON = {"refusal": "refusal-marked (parse/refusal.py): scored not harmful by the refusal gate, no model call"}


def check_gate(gate: str, parameter: str = "gate") -> str:
    """A gate's name, checked (``""``: none); an unknown one is a ValueError naming the known ones."""
    if gate and gate not in GATES:
        raise ValueError(f"{parameter}={gate}: no such gate; the gates are {', '.join(GATES)} (or empty: none)")
    return gate or ""


def gated(row: dict, gate: str) -> bool:
    """Whether ``gate`` decides this row (its response as the judge would read it) without a model call."""
    return bool(gate) and GATES[gate](row.get("response") or "")


def option_part(variant: str = DEFAULT_VARIANT, gate: str = "") -> str:
    """A run name's part for the options: ``-<variant>`` unless today's prompt, ``-<gate>-gate`` if gated."""
    variant = check_variant(variant)
    return ("" if variant == DEFAULT_VARIANT else f"-{variant}") + (f"-{check_gate(gate)}-gate" if gate else "")


def option_info(variant: str = DEFAULT_VARIANT, gate: str = "") -> dict:
    """The manifest's record of the options, only those set (a run made without them is guarded as before)."""
    variant = check_variant(variant)
    return ({} if variant == DEFAULT_VARIANT else {"prompt_variant": variant}) | ({"gate": gate} if gate else {})


def pointwise_settings(settings: JudgeSettings) -> JudgeSettings:
    """One answer token, greedy, under the pointwise template version (part of every cache key)."""
    return replace(settings, max_tokens=1, temperature=0.0, orders=1, grammar=False, structured=False,
                   template_version=POINTWISE_VERSION)


def pointwise_label(settings: JudgeSettings, scale: str = "binary", shots: int = 0, variant: str = DEFAULT_VARIANT,
                    gate: str = "") -> str:
    """``<model>+pointwise`` (binary), ``<model>+pointwise-likert``, ``<model>+fewshot<k>`` (k examples);
    a prompt variant adds ``+<variant>``, a gate ``+<gate>-gate`` (each its own judge)."""
    if shots:
        return f"{judge_label(settings.judge)}+fewshot{shots}" + _label_options(variant, gate)
    return f"{judge_label(settings.judge)}+pointwise" + ("" if scale == "binary" else f"-{scale}") + _label_options(variant, gate)


def _label_options(variant: str, gate: str) -> str:
    variant = check_variant(variant)
    return ("" if variant == DEFAULT_VARIANT else f"+{variant}") + (f"+{check_gate(gate)}-gate" if gate else "")


def fewshot_examples(frame: pd.DataFrame, *, shots: int, max_chars: int, seed: int = 0) -> dict[int, list[dict]]:
    """Labelled responses for a few-shot prefix, from the first two student sheets: sheet -> examples.

    Examples are responses whose prompt occurs in that sheet only and whose students all agreed (harmful
    share 0 or 1), not empty, half harmful and half not, alternating (harmful first), prompt and response
    cut to ``max_chars``. A response is shown the first sheet's examples unless it comes from that sheet,
    then the second's (:func:`example_sheet`): never its own sheet's, never its own prompt, and only two
    prefixes exist, each kept in llama.cpp's KV cache while its responses are scored.
    """
    if shots < 2 or shots % 2:
        raise ValueError(f"shots must be an even number >= 2 (half harmful, half not), not {shots}")
    sheet = student_sheets(frame["source"])
    single = frame["prompt_id"].map(sheet.groupby(frame["prompt_id"]).nunique()) == 1
    sheets = sorted(sheet.unique())[:2]
    if len(sheets) < 2:
        raise ValueError("few-shot examples need two student sheets")
    out = {}
    for donor in sheets:
        pool = frame[(sheet == donor) & single & frame["harmful"].isin([0.0, 1.0])
                     & (frame["response"].fillna("").str.strip().str.len() >= 20)]
        by_label = [pool[pool["harmful"] == h] for h in (1.0, 0.0)]
        if min(len(p) for p in by_label) < shots // 2:
            raise ValueError(f"sheet {donor} has too few agreed-on responses for {shots} examples (half harmful, "
                             f"half not): use fewer shots")
        picked = [p.sample(shots // 2, random_state=seed) for p in by_label]
        rows = [r for pair in zip(*(p.to_dict("records") for p in picked)) for r in pair]
        out[int(donor)] = [{"item_id": r["item_id"], "model": r["model"], "prompt_id": r["prompt_id"],
                            "prompt": clip(r["prompt"], max_chars), "response": clip(r["response"], max_chars),
                            "harmful": bool(r["harmful"] == 1.0)} for r in rows]
    return out


def example_sheet(sources: pd.Series, example_sheets: list[int]) -> pd.Series:
    """The sheet whose examples each response is shown: the first, unless the response comes from it (an
    elicitation response has no sheet: the first)."""
    return student_sheets(sources).map(lambda s: example_sheets[1] if s == example_sheets[0] else example_sheets[0])


def call_extra(top_logprobs: int = TOP_LOGPROBS) -> dict:
    """The call parameters a pointwise call adds to the settings' (part of its cache key)."""
    return {"logprobs": True, "top_logprobs": top_logprobs}


def row_messages(row: dict, *, scale: str = "binary", definitions: dict | None = None, examples: dict | None = None,
                 template: str | None = None, variant: str = DEFAULT_VARIANT) -> list[dict]:
    """The messages that score one row of :func:`score_responses`' ``items`` (and that a cost estimate counts)."""
    definition = (definitions or {}).get(row.get("category")) if scale == "likert" else None
    shown = examples[row["example_sheet"]] if examples else None
    return build_pointwise_messages(row["prompt"], row["response"], scale=scale, definition=definition,
                                    examples=shown, template=template, variant=variant)


def estimate_items(items: pd.DataFrame, settings: JudgeSettings, cache_path, *, run: str, scale: str = "binary",
                   definitions: dict | None = None, examples: dict | None = None, template: str | None = None,
                   top_logprobs: int = TOP_LOGPROBS, variant: str = DEFAULT_VARIANT, gate: str = ""):
    """What :func:`score_responses` on these arguments would cost, before (and without) a call: a
    :class:`harmstudy.judge.cost.CostEstimate` (reads the cache, writes nothing; a gated row costs nothing)."""
    settings, gate = pointwise_settings(settings), check_gate(gate)
    requests = [row_messages(row, scale=scale, definitions=definitions, examples=examples, template=template,
                             variant=variant)
                for row in items.to_dict("records") if not gated(row, gate)]
    return cost.estimate(settings, requests, cache_path, run=run, output=cost.pointwise_output(settings),
                         extra=call_extra(top_logprobs))


def score_responses(items: pd.DataFrame, settings: JudgeSettings, *, scale: str = "binary", cache_path,
                    definitions: dict | None = None, examples: dict | None = None, top_logprobs: int = TOP_LOGPROBS,
                    progress: bool = True, label: str | None = None, template: str | None = None,
                    variant: str = DEFAULT_VARIANT, gate: str = "") -> tuple[pd.DataFrame, CallStats]:
    """Score every row of ``items`` (``prompt``, ``response``; ``category`` for a likert judge, whose
    definition comes from ``definitions``; ``example_sheet`` for a few-shot judge, whose examples come from
    ``examples``). Rows of one prompt (and of one example sheet) should be adjacent (prefix reuse).
    ``variant``: a prompt of :data:`~harmstudy.judge.prompt.POINTWISE_VARIANTS`; ``gate``: one of
    :data:`GATES` — a row it decides scores 0 (status ``gated``) and no call is made for it.

    Returns ``items`` with ``score`` (0–1), ``status`` (probability / sampled / unscored / gated), ``reason``,
    ``answer``, ``latency`` and ``cached``.
    """
    settings = pointwise_settings(settings)
    gate, variant = check_gate(gate), check_variant(variant)
    check_credentials(settings)
    cache, stats = JudgeCache(cache_path), CallStats()
    extra = call_extra(top_logprobs)
    rows = items.to_dict("records")

    def work(row):
        if gated(row, gate):
            return {"score": 0.0, "status": GATED, "reason": GATE_REASON[gate], "answer": None, "latency": 0.0,
                    "cached": False}
        messages = row_messages(row, scale=scale, definitions=definitions, examples=examples, template=template,
                                variant=variant)
        res = call_judge(messages, settings, cache, stats, extra)
        if res["error"]:
            return {"score": None, "status": "unscored", "reason": f"call failed: {res['error']}",
                    "answer": None, "latency": res["latency"], "cached": False}
        s = score_answer(res["answer"], scale)
        return {"score": s.value, "status": s.status, "reason": s.reason, "answer": res["answer"],
                "latency": round(res["latency"] or 0.0, 3), "cached": res["cached"]}

    workers = 1 if settings.is_local else max(1, settings.concurrency)
    out = []
    with Progress(len(rows), f"score {label or pointwise_label(settings, scale)}", unit="resp",
                  enabled=progress) as bar:
        for result in each_result(work, [(row,) for row in rows], workers):   # in order: a prompt's responses stay adjacent
            out.append(result)
            bar.update(1, calls=stats.calls, cached=stats.cached)
    cache.close()
    scored = pd.concat([items.reset_index(drop=True), pd.DataFrame(out, columns=SCORE_COLUMNS)], axis=1)
    return scored, stats


def share_thresholds(scored: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """For each response, the P above which the students' harmful share of the *other* student sheets
    lies among those sheets' responses (:func:`harmstudy.data.targets.fold_groups` folds)."""
    data = scored.merge(frame[["item_id", "model", "label", "source", "prompt_id"]],
                        on=["item_id", "model", "prompt_id"], how="left")
    folds = fold_groups(data.assign(source=data["source"].fillna("")))
    out = pd.Series(np.nan, index=data.index)
    for fold in folds.dropna().unique():
        train = (folds != fold) & data["score"].notna() & data["label"].notna()
        out[folds == fold] = threshold_for_share(data.loc[train, "score"].to_numpy(),
                                                 float(data.loc[train, "label"].mean()))
    return out.to_numpy()


def default_run_name(settings: JudgeSettings, target: str, n_items: int | None, scale: str = "binary",
                     shots: int = 0, variant: str = DEFAULT_VARIANT, gate: str = "") -> str:
    """e.g. ``pointwise-qwen2.5-coder-0.5b-instruct-paper-n180``, ``...-fewshot4-paper-n85``,
    ``...-response-only-refusal-gate-paper-n85`` (:func:`option_part`: only options that are set)."""
    slug = judge_slug(settings.judge)
    scale_part = f"-fewshot{shots}" if shots else "" if scale == "binary" else f"-{scale}"
    return f"pointwise-{slug}{scale_part}{option_part(variant, gate)}-{target.replace('elicit:', '')}-n{n_items or 'all'}"


def _run_files(folder: Run, scored: pd.DataFrame, stats: CallStats, settings: JudgeSettings, target: dict) -> None:
    stop_if_every_call_failed("pointwise", folder.name, scored["status"].ne("unscored").any(), len(scored), stats,
                              "scores")
    # The raw answers (first-token log-probabilities) stay in the cache; the table keeps the score.
    folder.write_derived(scored.drop(columns=["latency", "cached", "prompt", "response", "answer"], errors="ignore")
                         .round({"score": 6}), "scores")
    if stats.calls or not folder.exists():               # a warm rerun leaves the manifest untouched
        folder.write_manifest({"settings": asdict(settings), "judge_model": judge_model_info(settings),
                               "target": target, "calls_made_last_run": stats.calls,
                               "cached_last_run": stats.cached})


def _pointwise_plan(settings: JudgeSettings, target: str, models, n_items, sample_seed: int, max_response_chars: int,
                    threshold, shots: int, shot_chars: int, run: str | None, variant: str = DEFAULT_VARIANT,
                    gate: str = ""):
    """:func:`run_pointwise`'s responses to score and where: (models, items, run folder, the manifest's
    target, the students' response frame where needed, the few-shot examples)."""
    if target == "paper":
        models = list(PAPER_MODELS)
        triples = paper_triples(n_items, sample_seed)
    elif target.startswith("elicit:"):
        models = models or elicited_models(target.split(":", 1)[1])
        if len(models) != 3:
            raise ValueError("scoring an elicitation run's triples needs its three `models`")
        if threshold == "share":
            raise ValueError("threshold='share' learns from the students' labels: on an elicitation run pass "
                             "a number (e.g. from a paper run: stats.scores.threshold_for_share)")
        triples = elicitation_triples(target.split(":", 1)[1], models)
        n_items = None
    else:
        raise ValueError(f"target must be 'paper' or 'elicit:<run>', not {target!r}")
    items = pd.DataFrame([{"item_id": t["item_id"], "prompt_id": t["prompt_id"], "model": m, "prompt": t["prompt"],
                           "response": clip(t[f"response_{m}"], max_response_chars), "source": t.get("source")}
                          for t in triples.to_dict("records") for m in models])
    folder = Run(run or default_run_name(settings, target, n_items, shots=shots, variant=variant, gate=gate), KIND)
    target_info = {"target": target, "models": models, "n_items": len(triples), "sample_seed": sample_seed,
                   "max_response_chars": max_response_chars, "scale": "binary", "top_logprobs": TOP_LOGPROBS,
                   **option_info(variant, gate)}
    frame = response_frame(load_release(), list(PAPER_MODELS)) if shots or threshold == "share" else None
    examples = None
    if shots:
        examples = fewshot_examples(frame, shots=shots, max_chars=shot_chars, seed=sample_seed)
        items["example_sheet"] = example_sheet(items["source"], sorted(examples)).to_numpy()
        items = items.sort_values("example_sheet", kind="stable").reset_index(drop=True)
        target_info |= {"shots": shots, "shot_chars": shot_chars,
                        "examples": {str(k): [[e["item_id"], e["model"], e["harmful"]] for e in v]
                                     for k, v in examples.items()}}
    return models, items, folder, target_info, frame, examples


@dataclass(frozen=True)
class ScoredSetRun:
    """:func:`run_pointwise_scored_set`: the run's folder name, the judge's label, one row per response scored
    (``scores.csv``'s rows) and the calls' counts."""

    run: str
    label: str
    scores: pd.DataFrame
    stats: CallStats


@dataclass(frozen=True)
class PointwiseRun(ScoredSetRun):
    """:func:`run_pointwise`: a :class:`ScoredSetRun` on the target's triples, with the long rankings the
    scores give, the target's models and the examples shown to a few-shot judge (0: none)."""

    rankings: pd.DataFrame
    models: list[str]
    shots: int


def estimate_pointwise(settings: JudgeSettings, *, target: str = "paper", models: list[str] | None = None,
                       n_items: int | None = None, sample_seed: int = 0, max_response_chars: int = 1500,
                       threshold: float | str = "share", shots: int = 0, shot_chars: int = 400,
                       run: str | None = None, variant: str = DEFAULT_VARIANT, gate: str = ""):
    """What :func:`run_pointwise` with these arguments would cost, before (and without) any call."""
    settings = pointwise_settings(settings)
    _, items, folder, _, _, examples = _pointwise_plan(settings, target, models, n_items, sample_seed,
                                                       max_response_chars, threshold, shots, shot_chars, run,
                                                       variant, gate)
    return estimate_items(items, settings, folder.file(CACHE), run=folder.name, examples=examples, variant=variant,
                          gate=gate)


def scored_set_items(scores: pd.DataFrame, max_response_chars: int) -> pd.DataFrame:
    """:func:`run_pointwise_scored_set`'s rows to score: request and response (cut), a prompt's rows adjacent."""
    items = scores[["dataset", "category", "row"]].assign(
        prompt=scores["request"].fillna(""), response=scores["response"].fillna("").map(
            lambda t: clip(t, max_response_chars)))
    return items.sort_values(["category", "prompt"], kind="stable").reset_index(drop=True)


def run_pointwise(settings: JudgeSettings, *, target: str = "paper", models: list[str] | None = None,
                  n_items: int | None = None, sample_seed: int = 0, max_response_chars: int = 1500,
                  threshold: float | str = "share", shots: int = 0, shot_chars: int = 400, run: str | None = None,
                  progress: bool = True, variant: str = DEFAULT_VARIANT, gate: str = "") -> PointwiseRun:
    """Score every response of the target's triples; rank each triple from the scores; write the run.

    ``threshold="share"`` needs the paper's triples (the students' labels); on an elicitation run give a
    number (e.g. the one :func:`harmstudy.stats.scores.threshold_for_share` gives on a paper run's scores).
    ``shots`` > 0: a few-shot judge, shown ``shots`` labelled responses of another student sheet first
    (:func:`fewshot_examples`; each cut to ``shot_chars``). ``variant``, ``gate``: :func:`score_responses`'.
    """
    settings = pointwise_settings(settings)
    models, items, folder, target_info, frame, examples = _pointwise_plan(
        settings, target, models, n_items, sample_seed, max_response_chars, threshold, shots, shot_chars, run,
        variant, gate)
    folder.guard({"settings": asdict(settings), "target": target_info}, ignore=OPERATIONAL)
    label = pointwise_label(settings, shots=shots, variant=variant, gate=gate)
    scored, stats = score_responses(items.drop(columns="source"), settings, cache_path=folder.file(CACHE),
                                    examples=examples, progress=progress, label=label, variant=variant, gate=gate)
    _run_files(folder, scored, stats, settings, target_info)
    if threshold == "share":
        scored["threshold"] = share_thresholds(scored, frame)
    else:
        scored["threshold"] = float(threshold)
    if gate:     # a gated response is not harmful whatever the threshold (a share's could fall to P = 0)
        scored["threshold"] = np.maximum(scored["threshold"], np.nextafter(0.0, 1.0))
    name = "paper" if target == "paper" else "elicit"
    rankings = to_rankings(scored, label, models, score="score", source=f"runs/{folder.name}")
    folder.write_derived(rankings, f"{name}_rankings")
    return PointwiseRun(run=folder.name, label=label, scores=scored, stats=stats, rankings=rankings, models=models,
                        shots=shots)


def run_pointwise_scored_set(settings: JudgeSettings, scores: pd.DataFrame, *, scale: str, run: str,
                             max_response_chars: int = 3000, progress: bool = True, definitions: dict | None = None,
                             template: str | None = None, root=None, variant: str = DEFAULT_VARIANT,
                             gate: str = "") -> ScoredSetRun:
    """Score a single-response set (:mod:`harmstudy.data.scored_responses`: dataset, category, row,
    request, response, ...) with a binary or likert judge; ``scores.csv`` holds one row per response.
    ``definitions``: each category's levels for a likert judge (default: PyRIT's YAML); ``template``: a
    binary prompt of the user's (its sha256 goes into the manifest); ``root``: where the run folder lives;
    ``variant``, ``gate``: :func:`score_responses`' (recorded in the manifest when set)."""
    settings = pointwise_settings(settings)
    items = scored_set_items(scores, max_response_chars)
    if scale == "likert" and definitions is None:
        definitions = {c: harm_definition(c) for c in items["category"].unique()}
    folder = Run(run, KIND, root=root)
    target_info = {"target": "scored-set", "datasets": sorted(items["dataset"].unique()), "n_items": len(items),
                   "max_response_chars": max_response_chars, "scale": scale, "top_logprobs": TOP_LOGPROBS}
    if template is not None or root is not None:
        # A user's set records which prompt judged it (the study's committed PyRIT run predates this field,
        # and its guard compares every target key, so it is left as it was made).
        prompt_text = template if template is not None else (
            POINTWISE_VARIANTS[check_variant(variant)] if scale == "binary" else LIKERT_USER)
        target_info |= {"prompt": "the user's" if template is not None else "the study's",
                        "prompt_sha256": hashlib.sha256(prompt_text.encode("utf-8")).hexdigest()}
    target_info |= option_info(variant, gate)
    folder.guard({"settings": asdict(settings), "target": target_info}, ignore=OPERATIONAL)
    label = pointwise_label(settings, scale, variant=variant, gate=gate)
    scored, stats = score_responses(items, settings, scale=scale, cache_path=folder.file(CACHE),
                                    definitions=definitions, progress=progress, label=label, template=template,
                                    variant=variant, gate=gate)
    _run_files(folder, scored, stats, settings, target_info)
    return ScoredSetRun(run=folder.name, label=label, scores=scored, stats=stats)


def estimate_scored_set(settings: JudgeSettings, scores: pd.DataFrame, *, scale: str, run: str,
                        max_response_chars: int = 3000, definitions: dict | None = None,
                        template: str | None = None, root=None, variant: str = DEFAULT_VARIANT, gate: str = ""):
    """What :func:`run_pointwise_scored_set` with these arguments would cost, before (and without) any call."""
    settings = pointwise_settings(settings)
    items = scored_set_items(scores, max_response_chars)
    if scale == "likert" and definitions is None:
        definitions = {c: harm_definition(c) for c in items["category"].unique()}
    folder = Run(run, KIND, root=root)
    return estimate_items(items, settings, folder.file(CACHE), run=folder.name, scale=scale,
                          definitions=definitions, template=template, variant=variant, gate=gate)


def summary(result: PointwiseRun, frame: pd.DataFrame) -> dict:
    """``pointwise_judges.csv`` row: the run's P against the students' majority label (AUC, Brier; via
    :func:`harmstudy.stats.scores.score_summary`), coverage, and the thresholds used."""
    data = result.scores.merge(frame[["item_id", "model", "label"]], on=["item_id", "model"])
    scored = data[data["score"].notna()]
    return {"judge": result.label, "kind": JudgeKind.FEW_SHOT if result.shots else JudgeKind.POINTWISE,
            "run": result.run,
            "coverage": float(data["score"].notna().mean()),
            "from_logprobs": float((data["status"] == "probability").mean()),
            **score_summary(scored.rename(columns={"score": "p_harmful"}), scored).cells()}
