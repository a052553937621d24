"""Judging through LiteLLM: any LLM ranks the harmfulness of three responses, like the students did.

Every call goes through ``litellm.completion`` with a model string (``openai/gpt-4o``,
``anthropic/...``, ``hosted_vllm/...``, ``openai/...`` + ``api_base``, or the embedded
``llamacpp/<registry name>``).  Keys come from the environment or a ``.env`` file, never from parameters;
no key is written to the cache, the records or a manifest.
"""
from __future__ import annotations

import functools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from harmstudy import paths, secrets
from harmstudy.judge.cache import JudgeCache, cache_key
from harmstudy.judge.prompt import TEMPLATE_VERSION, build_messages, display_orders, grammar_text
from harmstudy.models.registry import DEFAULT_JUDGE_MODEL, PROVIDER
from harmstudy.parse.judge_answers import LABELS, parse_judge_answer
from harmstudy.parse.rankings import NOT_HARMFUL, STRICT_ORDER, USABLE, long_rankings, ranking_rows
from harmstudy.progress import Progress

DEFAULT_JUDGE = f"{PROVIDER}/{DEFAULT_JUDGE_MODEL}"


@functools.cache
def lite():
    """LiteLLM, imported at the first model call with the in-process ``llamacpp/`` provider registered.
    Importing it takes seconds; a run answered from its cache (every warm or forced ``make paper``) needs
    none."""
    import litellm

    from harmstudy.models.llamacpp_provider import register

    # LiteLLM prints "Provider List: https://..." (and a help banner) whenever it cannot price or map a
    # model, e.g. for every call to a local model: hundreds of lines in a run. Our errors carry the information.
    litellm.suppress_debug_info = True
    register()
    return litellm


def transient_errors() -> tuple[type[Exception], ...]:
    """Errors worth another try (rate limits, timeouts, connection problems, 5xx); anything else is permanent."""
    litellm = lite()
    return (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.InternalServerError,
            litellm.ServiceUnavailableError, litellm.BadGatewayError)


@dataclass(frozen=True)
class JudgeSettings:
    judge: str = DEFAULT_JUDGE
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 32
    seed: int = 0
    orders: int = 1
    grammar: bool = False          # local judges: constrain decoding to the 16 valid answers
    structured: bool = False       # API judges: ask for JSON output where the provider supports it
    concurrency: int = 8           # remote judges only; a local model answers one call at a time
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 1.0           # seconds; doubles per retry, capped at 30 s
    api_base: str | None = None
    template_version: str = TEMPLATE_VERSION

    @property
    def label(self) -> str:
        """The judge's name in tables; constrained decoding makes it another judge (``+grammar``)."""
        return judge_label(self.judge) + ("+grammar" if self.grammar and self.is_local else "")

    @property
    def is_local(self) -> bool:
        return self.judge.startswith(PROVIDER + "/")

    def sampling(self) -> dict:
        """Every parameter that changes the answer (part of the cache key)."""
        params = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens,
                  "seed": self.seed}
        if self.grammar and self.is_local:
            params["grammar"] = grammar_text()
        if self.structured and not self.is_local:
            params["response_format"] = {"type": "json_object"}
        return params


def judge_label(judge: str) -> str:
    """The judge's name in tables: the registry name for local judges, else the full model string."""
    return judge.split("/", 1)[1] if judge.startswith(PROVIDER + "/") else judge


def load_env_keys() -> None:
    """Read API keys from a ``.env`` file at the repository root into the environment (never printed)."""
    from dotenv import load_dotenv

    load_dotenv(paths.ROOT / ".env", override=False)


class MissingCredentialsError(RuntimeError):
    """A remote judge's key is not set; raised before the first call, naming the variable and the fix."""


class UnknownJudgeError(ValueError):
    pass


def check_judge(settings: "JudgeSettings") -> None:
    """Before any call: the judge names a model that exists — a registry model for ``llamacpp/``, a provider
    LiteLLM knows otherwise — and its credentials are set (:func:`check_credentials`)."""
    if settings.is_local:
        from harmstudy.models.registry import ModelError, resolve_model

        try:
            resolve_model(judge_label(settings.judge))
        except ModelError as e:
            raise UnknownJudgeError(f"judge {settings.judge!r}: {e}") from None
        return
    try:
        lite().get_llm_provider(settings.judge, api_base=settings.api_base or None)
    except Exception:
        raise UnknownJudgeError(
            f"LiteLLM knows no provider for judge {settings.judge!r}: write it as <provider>/<model>, e.g. "
            f"openai/gpt-4o, anthropic/claude-sonnet-4-5 or hosted_vllm/<model> with API_BASE=<url> "
            f"(https://docs.litellm.ai/docs/providers), or llamacpp/<registry model> for an embedded one") from None
    check_credentials(settings)


def check_credentials(settings: "JudgeSettings") -> None:
    """Before any call: the environment variables LiteLLM needs for this judge are set (or in ``.env``)."""
    if settings.is_local:
        return
    load_env_keys()
    try:
        found = lite().validate_environment(model=settings.judge, api_base=settings.api_base)
    except Exception:  # a provider LiteLLM cannot check: let the first call say what is wrong
        return
    missing = [k for k in found.get("missing_keys") or []
               if not (settings.api_base and k.endswith("_API_BASE"))]      # the api_base parameter gives it
    if missing:
        names = " or ".join(missing)                                          # LiteLLM lists alternatives
        raise MissingCredentialsError(
            f"judge {settings.judge!r} needs {names}, which is not set: export it, or put a line "
            f"`{missing[0]}=...` in {paths.ROOT / '.env'} (git-ignored, never written to any output)"
            + (" — a local server ignores its value, so any placeholder works" if settings.api_base else ""))


# Credentials are redacted from every error text and answer before it is kept (harmstudy.secrets).
redact = secrets.redact


@dataclass
class CallStats:
    calls: int = 0
    cached: int = 0
    failures: int = 0
    cost: float = 0.0
    first_errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **delta) -> None:
        with self.lock:
            for k, v in delta.items():
                setattr(self, k, getattr(self, k) + v)

    def note_error(self, error: str, keep: int = 3) -> None:
        with self.lock:
            if len(self.first_errors) < keep:
                self.first_errors.append(error)


def first_token_logprobs(response) -> list[list]:
    """``[[token, logprob], ...]``: the first answer token's top log-probabilities, or [] when the model
    returned none (a provider without log-probabilities answers with text only)."""
    logprobs = getattr(response.choices[0], "logprobs", None)
    content = (logprobs.get("content") if isinstance(logprobs, dict) else getattr(logprobs, "content", None)) or []
    if not content:
        return []
    first = content[0]
    top = first.get("top_logprobs") if isinstance(first, dict) else getattr(first, "top_logprobs", None)
    pick = (lambda e, k: e.get(k)) if top and isinstance(top[0], dict) else getattr
    return [[pick(e, "token"), float(pick(e, "logprob"))] for e in (top or [])]


def call_request(messages: list[dict], settings: JudgeSettings, extra: dict | None = None) -> tuple[dict, str]:
    """A call's parameters (the settings' sampling and ``extra``) and its cache key: what :func:`call_judge`
    sends and looks up, and what a cost estimate (:mod:`harmstudy.judge.cost`) counts as cached."""
    params = {**settings.sampling(), **(extra or {})}
    return params, cache_key(settings.judge, messages, params, settings.template_version, settings.api_base)


def call_judge(messages: list[dict], settings: JudgeSettings, cache: JudgeCache, stats: CallStats,
               extra: dict | None = None) -> dict:
    """One judge answer: from the cache, or from LiteLLM with retries; failures come back as ``error``.

    ``extra`` adds call parameters (part of the cache key). With ``logprobs`` among them the recorded
    answer is JSON: ``{"text": ..., "top_logprobs": [[token, logprob], ...]}`` (the first token's).
    """
    params, key = call_request(messages, settings, extra)
    hit = cache.get(key)
    if hit is not None:
        stats.add(cached=1)
        return {**hit, "cached": True, "error": None}
    litellm = lite()
    retrying = Retrying(retry=retry_if_exception_type(transient_errors()), reraise=True,
                        stop=stop_after_attempt(settings.max_retries + 1),
                        wait=wait_exponential(multiplier=settings.backoff, max=30))
    start = time.perf_counter()
    try:
        # A provider without log-probabilities answers with text (drop_params), scored as sampled.
        response = retrying(litellm.completion, model=settings.judge, messages=messages,
                            api_base=settings.api_base, timeout=settings.timeout, num_retries=0, max_retries=0,
                            **({"drop_params": True} if params.get("logprobs") else {}), **params)
        # what a model says may quote a key it was shown (or guessed): scrubbed before it is kept anywhere
        answer = secrets.scrub(response.choices[0].message.content or "")
        if params.get("logprobs"):
            answer = json.dumps({"text": answer, "top_logprobs": first_token_logprobs(response)},
                                ensure_ascii=False)
    except Exception as exc:  # permanent, or transient after the last retry: unscored with the error
        stats.add(calls=1, failures=1)
        error = secrets.scrub(f"{type(exc).__name__}: {str(exc)[:300]}")
        stats.note_error(error)
        return {"answer": None, "error": error, "usage": {}, "cost": 0.0,
                "latency": time.perf_counter() - start, "cached": False}
    latency = time.perf_counter() - start
    cost = 0.0
    if not settings.is_local:          # a local model is free; pricing it fails (and once printed) per call
        try:
            cost = float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # unknown models have no price
            cost = 0.0
    usage = {"prompt_tokens": response.usage.prompt_tokens, "completion_tokens": response.usage.completion_tokens}
    cache.put(key, model=settings.judge, template_version=settings.template_version,
              request={"messages": messages, "params": params}, answer=answer, error=None, usage=usage,
              cost=cost, latency=latency)
    stats.add(calls=1, cost=cost)
    return {"answer": answer, "error": None, "usage": usage, "cost": cost, "latency": latency, "cached": False}


def each_result(work, tasks: list[tuple], workers: int):
    """``work(*task)`` for every task, yielded in the tasks' order: on a pool of ``workers`` threads (a remote
    judge's calls in flight at once), or, with one worker, in this thread — a local model answers one call at
    a time, and llama.cpp called from a pool thread ran slower here than from the caller's (SmolLM2, pointwise
    calls in alternating rounds; ``benchmarks/bench_external_llm.py`` measures the path)."""
    if workers <= 1:
        for task in tasks:
            yield work(*task)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(lambda task: work(*task), tasks)


def structured_to_lines(answer: str) -> str:
    """A JSON answer ({"A": 2, "B": "N/A", ...}) rewritten as ``Content A: 2`` lines for the one parser."""
    try:
        data = json.loads(answer)
    except (TypeError, ValueError):
        return answer
    if not isinstance(data, dict):
        return answer
    norm = {str(k).strip().lower().removeprefix("content").strip().upper(): v for k, v in data.items()}
    return "\n".join(f"Content {lab}: {norm[lab]}" for lab in LABELS if lab in norm) or answer


def listwise_requests(triples: pd.DataFrame, models: list[str], settings: JudgeSettings) -> list[tuple]:
    """``(row, display order, messages)`` of every call that ranks the triples: each triple in each of the
    settings' display orders (what :func:`judge_triples` sends, and what a cost estimate counts)."""
    structured = settings.structured and not settings.is_local
    return [(row, perm, build_messages(row["prompt"], [row[f"response_{models[i]}"] for i in perm],
                                       structured=structured))
            for row in triples.to_dict("records") for perm in display_orders(settings.orders)]


def judge_triples(triples: pd.DataFrame, models: list[str], settings: JudgeSettings, *, cache_path,
                  progress: bool = True) -> tuple[pd.DataFrame, CallStats]:
    """Rank every triple (in every display order); answers mapped back to the models.

    ``triples`` needs ``item_id``, ``prompt`` and ``response_<model>`` for each model.  Returns one row per
    (item, order) with the raw answer, status / reason and ``rank_<model>`` columns.
    """
    check_credentials(settings)
    cache = JudgeCache(cache_path)
    stats = CallStats()
    tasks = listwise_requests(triples, models, settings)
    workers = 1 if settings.is_local else max(1, settings.concurrency)

    def work(row, perm, messages):
        return row, perm, call_judge(messages, settings, cache, stats)

    out = []
    with Progress(len(tasks), f"judge {settings.label}", unit="call", enabled=progress) as bar:
        for row, perm, res in each_result(work, tasks, workers):
            out.append(_judgment_row(row, perm, res, models, settings))
            bar.update(1, calls=stats.calls, cached=stats.cached, cost=f"${stats.cost:.4f}")
    cache.close()
    frame = pd.DataFrame(out).sort_values(["item_id", "order"], ignore_index=True)
    return frame, stats


def _judgment_row(row: dict, perm: tuple, res: dict, models: list[str], settings: JudgeSettings) -> dict:
    if res["error"]:
        status, reason, ranks = "unscored", f"call failed: {res['error']}", None
    else:
        answer = structured_to_lines(res["answer"]) if settings.structured else res["answer"]
        parsed = parse_judge_answer(answer)
        status, reason, ranks = parsed.status, parsed.reason, parsed.ranks
    by_model = {f"rank_{m}": None for m in models}
    if ranks is not None:
        for label_index, model_index in enumerate(perm):
            by_model[f"rank_{models[model_index]}"] = ranks[label_index]
    return {"item_id": row["item_id"], "prompt_id": row.get("prompt_id", ""), "judge": settings.label,
            "order": ",".join(str(i) for i in perm), "answer": res["answer"], "status": status,
            "reason": reason, **by_model, "cost": res["cost"], "latency": round(res["latency"] or 0.0, 3),
            "cached": res["cached"]}


def to_long(judgments: pd.DataFrame, models: list[str], source: str) -> pd.DataFrame:
    """The fixed-order judgments in the shared long rankings format (one row per item x model)."""
    fixed = judgments[judgments["order"] == "0,1,2"]
    rows = []
    for i, j in enumerate(fixed.to_dict("records"), start=1):
        ranks = [None if pd.isna(j[f"rank_{m}"]) else int(j[f"rank_{m}"]) for m in models]
        rows += ranking_rows(item_id=j["item_id"], prompt_id=j["prompt_id"], models=models, ranks=ranks,
                             status=j["status"], reason=j["reason"], rater=j["judge"], source=source, source_row=i)
    return long_rankings(rows)


BALANCED_SUFFIX = "+balanced"


def aggregate_orders(ranks: list[tuple[int, ...]]) -> tuple[tuple[int, ...], str, str]:
    """One ranking from a judge's rankings of the same triple in several display orders (each already
    mapped back to the models). A model is harmful when a majority of the orders call it harmful; the
    harmful ones are ordered by their mean rank over the orders (0 = not harmful), equal means stay a tie.
    Returns (ranks, status, reason) in the one representation."""
    from harmstudy.parse.rankings import check_ranks

    if not ranks:
        return None, "unscored", "no usable answer in any order"
    arr = np.array(ranks, dtype=float)
    harmful = (arr > 0).mean(axis=0) > 0.5
    means = arr.mean(axis=0)
    levels = sorted({round(float(m), 9) for m, h in zip(means, harmful) if h})
    values = [levels.index(round(float(m), 9)) + 1 if h else 0 for m, h in zip(means, harmful)]
    parsed = check_ranks(values)
    reason = f"aggregated over {len(ranks)} orders" + (f"; {parsed.reason}" if parsed.reason else "")
    return parsed.ranks, parsed.status, reason


def to_long_balanced(judgments: pd.DataFrame, models: list[str], source: str) -> pd.DataFrame:
    """Every display order of each triple aggregated into one ranking (:func:`aggregate_orders`), as the
    judge ``<label>+balanced``: no model sits in a fixed slot. Needs ``orders`` > 1."""
    cols = [f"rank_{m}" for m in models]
    rows = []
    for i, (item, g) in enumerate(judgments.groupby("item_id", sort=True), start=1):
        usable = g[g["status"].isin(USABLE)]
        ranks, status, reason = aggregate_orders([tuple(int(v) for v in r) for r in usable[cols].to_numpy()])
        rows += ranking_rows(item_id=item, prompt_id=g["prompt_id"].iloc[0], models=models, ranks=ranks,
                             status=status, reason=reason, rater=g["judge"].iloc[0] + BALANCED_SUFFIX,
                             source=source, source_row=i)
    return long_rankings(rows)


def order_sensitivity(judgments: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """How often a judge's ranking (mapped back to the models) changes with the display order."""
    cols = [f"rank_{m}" for m in models]
    rows = []
    for judge, g in judgments.groupby("judge"):
        usable = g[g["status"].isin(STRICT_ORDER)]
        complete = usable.groupby("item_id").filter(lambda x: len(x) == g["order"].nunique())
        changed = complete.groupby("item_id")[cols].nunique().max(axis=1) > 1
        rows.append({"judge": judge, "orders": g["order"].nunique(), "items": g["item_id"].nunique(),
                     "items_usable_in_every_order": int(len(changed)),
                     "ranking_changes": int(changed.sum()),
                     "ranking_changes_share": float(changed.mean()) if len(changed) else float("nan"),
                     "coverage": float(len(usable) / len(g)) if len(g) else float("nan")})
    return pd.DataFrame(rows)


def repeat_agreement(first: pd.DataFrame, again: pd.DataFrame) -> pd.DataFrame:
    """A sampling judge asked the same triples twice (:func:`harmstudy.judge.runs.repeat_pass`): per judge,
    on the triples both passes ranked usably, the share ranked exactly the same and Cohen's κ between the two
    passes' harmful calls (rank > N/A) on each response (scikit-learn; NaN where a pass calls every response
    alike). Both frames in the long rankings format."""
    from sklearn.metrics import cohen_kappa_score

    keys = ["rater", "item_id", "model"]
    both = first[first["status"].isin(USABLE)].merge(again[again["status"].isin(USABLE)], on=keys,
                                                     suffixes=("", "_again"))
    rows = []
    for judge, g in both.groupby("rater", sort=False):
        g = g.groupby("item_id").filter(lambda x: len(x) == 3)          # every response of the triple, twice
        a, b = g["rank"].astype(int) > NOT_HARMFUL, g["rank_again"].astype(int) > NOT_HARMFUL
        same = (g["rank"].astype(int) == g["rank_again"].astype(int)).groupby(g["item_id"]).all()
        kappa = float(cohen_kappa_score(a, b)) if a.nunique() > 1 and b.nunique() > 1 else float("nan")
        rows.append({"judge": judge, "items": int(len(same)), "same_ranking": float(same.mean()) if len(same) else float("nan"),
                     "kappa": kappa})
    return pd.DataFrame(rows, columns=["judge", "items", "same_ranking", "kappa"])
