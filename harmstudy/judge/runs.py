"""Where judges are applied: the paper's human-ranked triples, or the triples of an elicitation run.

A judging run is a :class:`harmstudy.runs.Run` in ``data/runs/<run>/``: ``judge_cache.sqlite`` (every raw
answer: what was recorded), and files derived from it on every run — ``judgments.csv`` (one row per item
and display order, answers parsed by today's parser) and ``<target>_rankings.csv`` (the shared long
format, fixed order) — rewritten whenever their bytes change; ``manifest.json`` holds settings and
provenance. A sampling judge (temperature > 0) is asked a seeded sample of the triples again with the next
seed (:func:`repeat_pass`): its calls in ``judge_cache_again.sqlite`` (so the run's cost per triple counts one
pass), its answers in ``judgments_again.csv`` and ``<target>_rankings_again.csv``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from harmstudy import PAPER_MODELS, plan, provenance
from harmstudy.data.targets import elicitation_triples, elicited_models, paper_triples
from harmstudy.judge import cost
from harmstudy.judge.calls import (CallStats, JudgeSettings, judge_label, judge_triples, listwise_requests,
                                   order_sensitivity, redact, to_long, to_long_balanced)
from harmstudy.parse.rankings import USABLE
from harmstudy.runs import Run

PAPER_TARGET = "paper"
KIND = "judging"
CACHE = "judge_cache.sqlite"
#: A sampling judge's second pass (:func:`repeat_pass`): its own cache, beside the first pass's.
REPEAT_CACHE = "judge_cache_again.sqlite"
#: Triples a sampling judge is asked again by default (02's ``repeat_items``).
REPEAT_ITEMS = 20
#: Settings that do not change an answer; a run may be resumed with other values of these.
OPERATIONAL = frozenset({"concurrency", "timeout", "max_retries", "backoff"})


@dataclass(frozen=True)
class RepeatPass:
    """:func:`repeat_pass`: the second pass's answers and long rankings, its calls' counts, and the manifest's
    note of what was asked (``items``, ``sample_seed``, ``seed``, ``cache``)."""

    judgments: "pd.DataFrame"
    rankings: "pd.DataFrame"
    stats: CallStats
    info: dict


@dataclass(frozen=True)
class JudgingRun:
    """:func:`run_judging`: the run's folder name, the target's models, the parsed answers (one row per item
    and display order), the long rankings, the order-sensitivity table, the calls' counts, the triples
    judged, and a sampling judge's second pass (None: not asked again)."""

    run: str
    models: list[str]
    judgments: "pd.DataFrame"
    rankings: "pd.DataFrame"
    order_sensitivity: "pd.DataFrame"
    stats: CallStats
    triples: "pd.DataFrame"
    repeat: RepeatPass | None = None


class JudgeRunFailed(RuntimeError):
    """Every call of a judging run failed: nothing usable was recorded, no rankings are written."""


def stop_if_every_call_failed(what: str, run: str, answered: bool, n: int, stats, writes: str) -> None:
    """The listwise and the pointwise runs' one check: no call gave a usable answer and some failed (a key,
    a server, a model name) — stop with the first errors (credentials redacted), writing nothing."""
    if not answered and stats.failures:
        errors = "\n  ".join(redact(e) for e in stats.first_errors)
        raise JudgeRunFailed(f"{what} run {run!r}: all {n} calls failed ({stats.failures} this time); no {writes} "
                             f"written. First errors:\n  {errors}")


def judge_slug(judge: str) -> str:
    """A judge's name as a folder-name part: ``llamacpp/Qwen2.5-Coder`` -> ``qwen2.5-coder`` (the plan's rule,
    :func:`harmstudy.plan.slug`, which names make's runs)."""
    return plan.slug(judge)


def default_run_name(settings: JudgeSettings, target: str, n_items: int | None) -> str:
    """e.g. ``judge-qwen2.5-coder-1.5b-instruct-paper-n180``; grammar, orders and a sampling temperature get
    their own folders (``-grammar``, ``-o3``, ``-t0.7``: the plan's names, :func:`harmstudy.plan.plan`)."""
    slug = judge_slug(settings.judge)
    variant = ("-grammar" if settings.grammar and settings.is_local else "") + \
              (f"-o{settings.orders}" if settings.orders != 1 else "") + plan.temperature_part(settings.temperature)
    return f"judge-{slug}{variant}-{target.replace('elicit:', '')}-n{n_items or 'all'}"


def clip(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + " […]"


def judge_model_info(settings: JudgeSettings) -> dict:
    if not settings.is_local:
        return {}
    from harmstudy.models.registry import model_file, resolve_model, verify_file

    spec = resolve_model(judge_label(settings.judge))
    path = model_file(spec)
    return {"source": spec.source, "file": provenance.portable_path(path), "sha256": verify_file(spec, path)}


def target_triples(target: str, models: list[str] | None, n_items: int | None, sample_seed: int,
                   max_response_chars: int) -> tuple[list[str], "pd.DataFrame", int | None]:
    """The models, the triples (responses cut to ``max_response_chars``) and the ``n_items`` of the run's
    name: the paper's triples sampled (:func:`paper_triples`), or an elicitation run's whole."""
    if target == PAPER_TARGET:
        models = list(PAPER_MODELS)
        triples = paper_triples(n_items, sample_seed)
    elif target.startswith("elicit:"):
        models = models or elicited_models(target.split(":", 1)[1])
        triples = elicitation_triples(target.split(":", 1)[1], models)
        n_items = None                   # an elicitation run is judged whole; n_items samples the paper's
    else:
        raise ValueError(f"target must be 'paper' or 'elicit:<run>', not {target!r}")
    if len(models) != 3:
        raise ValueError(f"a judge ranks three responses; got {len(models)} models")
    for m in models:
        triples[f"response_{m}"] = triples[f"response_{m}"].map(lambda t: clip(t, max_response_chars))
    return models, triples, n_items


def repeat_sample(triples, n: int, seed: int = 0):
    """The triples a sampling judge is asked again (:func:`repeat_pass`): a seeded sample of ``n``."""
    return triples.sample(n=min(n, len(triples)), random_state=seed).sort_values("item_id", ignore_index=True)


def estimate_judging(settings: JudgeSettings, *, target: str = PAPER_TARGET, models: list[str] | None = None,
                     n_items: int | None = None, sample_seed: int = 0, max_response_chars: int = 1500,
                     repeat_items: int = REPEAT_ITEMS, run: str | None = None) -> list:
    """What :func:`run_judging` with these arguments would cost, before (and without) any call: one
    :class:`harmstudy.judge.cost.CostEstimate` for its calls, and one for a sampling judge's second pass
    (:func:`repeat_pass`). Reads the run's caches, writes nothing."""
    models, triples, n_items = target_triples(target, models, n_items, sample_seed, max_response_chars)
    folder = Run(run or default_run_name(settings, target, n_items), KIND)
    out = [cost.estimate(settings, [m for _, _, m in listwise_requests(triples, models, settings)],
                         folder.file(CACHE), run=folder.name, output=cost.listwise_output(settings))]
    if settings.temperature > 0 and repeat_items and target == PAPER_TARGET:
        again = replace(settings, seed=settings.seed + 1)
        sample = repeat_sample(triples, repeat_items, sample_seed)
        out.append(cost.estimate(again, [m for _, _, m in listwise_requests(sample, models, again)],
                                 folder.file(REPEAT_CACHE), run=f"{folder.name} (asked again)",
                                 output=cost.listwise_output(again)))
    return out


def paper_judges_dollars(max_response_chars: int = 1500, tokenizer: str = "gpt-4o"):
    """What the paper's judges would cost to ask again, per 1,000 of the release's triples (estimated, no call):
    the study's listwise prompt, the paper's wording, for every triple, its input tokens counted with
    ``tokenizer``'s (GPT-4o's: the one of the three LiteLLM counts offline), priced at each judge's cost-map
    entries (:func:`harmstudy.judge.cost.priced_range`). No cache is read: every call counts."""
    settings = JudgeSettings(judge=tokenizer)
    models, triples, _ = target_triples(PAPER_TARGET, None, None, 0, max_response_chars)
    counted = cost.estimate(settings, [m for _, _, m in listwise_requests(triples, models, settings)], None,
                            run="the paper's judges", output=cost.listwise_output(settings))
    return cost.priced_range(counted)


def run_judging(settings: JudgeSettings, *, target: str = PAPER_TARGET, models: list[str] | None = None,
                n_items: int | None = None, sample_seed: int = 0, max_response_chars: int = 1500,
                repeat_items: int = REPEAT_ITEMS, run: str | None = None, progress: bool = True) -> JudgingRun:
    """Judge the target's triples; write the run's files; return its tables and call counts.

    ``n_items`` samples the paper's triples (see :func:`paper_triples`); an elicitation run is judged whole.
    A sampling judge (temperature > 0) on the paper's triples is asked ``repeat_items`` of them again
    (:func:`repeat_pass`; 0: not asked again).
    Derived files are recomputed from the cache every time and rewritten when their bytes change; the
    manifest only when calls were made (or it is missing).
    """
    models, triples, n_items = target_triples(target, models, n_items, sample_seed, max_response_chars)
    folder = Run(run or default_run_name(settings, target, n_items), KIND)
    target_info = {"target": target, "models": models, "n_items": len(triples), "sample_seed": sample_seed,
                   "max_response_chars": max_response_chars}
    folder.guard({"settings": asdict(settings), "target": target_info}, ignore=OPERATIONAL)
    judgments, stats = judge_triples(triples, models, settings, cache_path=folder.file(CACHE), progress=progress)
    stop_if_every_call_failed("judging", folder.name, judgments["status"].isin(USABLE).any(), len(judgments), stats,
                              "rankings")
    label = "paper" if target == PAPER_TARGET else "elicit"
    # One order: the judge as it answered. Several: the position-balanced judge (every order aggregated);
    # its answers in each single order stay in judgments.csv (order sensitivity, slot shares). A run of one
    # order of the same triples is the fixed-order judge, so the two never carry the same label.
    long = (to_long(judgments, models, source=f"runs/{folder.name}") if settings.orders == 1 else
            to_long_balanced(judgments, models, source=f"runs/{folder.name}"))
    folder.write_derived(judgments.drop(columns=["cached", "latency"]), "judgments")
    folder.write_derived(long, f"{label}_rankings")
    repeat = None
    if settings.temperature > 0 and repeat_items and target == PAPER_TARGET:
        repeat = repeat_pass(settings, triples, models, folder, label, n=repeat_items, seed=sample_seed,
                             progress=progress)
        stats.add(**{k: getattr(repeat.stats, k) for k in ("calls", "cached", "failures", "cost")})
    if stats.calls or not folder.exists():             # a warm rerun leaves the manifest untouched
        folder.write_manifest({"settings": asdict(settings), "judge_model": judge_model_info(settings),
                               "target": target_info, "calls_made_last_run": stats.calls,
                               "cached_last_run": stats.cached,
                               **({"repeat": repeat.info} if repeat else {})})
    return JudgingRun(run=folder.name, models=models, judgments=judgments, rankings=long,
                      order_sensitivity=order_sensitivity(judgments, models), stats=stats, triples=triples,
                      repeat=repeat)


def repeat_pass(settings: JudgeSettings, triples, models: list[str], folder: Run, label: str, *, n: int,
                seed: int = 0, progress: bool = True) -> RepeatPass:
    """A sampling judge's consistency: a seeded sample of ``n`` triples asked again, in the same display
    orders, with the next sampling seed (new cache keys, so real second calls, into :data:`REPEAT_CACHE`).
    Writes ``judgments_again.csv`` and ``<label>_rankings_again.csv``; returns them, the calls' counts and
    the manifest's note of what was asked (``info``). :func:`harmstudy.judge.calls.repeat_agreement` compares
    the two passes."""
    sample = repeat_sample(triples, n, seed)
    again = replace(settings, seed=settings.seed + 1)
    judgments, stats = judge_triples(sample, models, again, cache_path=folder.file(REPEAT_CACHE), progress=progress)
    to = to_long if settings.orders == 1 else to_long_balanced
    long = to(judgments, models, source=f"runs/{folder.name}")
    folder.write_derived(judgments.drop(columns=["cached", "latency"]), "judgments_again")
    folder.write_derived(long, f"{label}_rankings_again")
    return RepeatPass(judgments=judgments, rankings=long, stats=stats,
                      info={"items": len(sample), "sample_seed": seed, "seed": again.seed, "cache": REPEAT_CACHE})
