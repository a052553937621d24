"""What an API judge's run will cost, said before its first call: the calls, the tokens, the dollars.

* **Calls**: every call the run consists of. A call whose answer is already in the run's cache
  (:mod:`harmstudy.judge.cache`, under the key :func:`harmstudy.judge.calls.call_request` gives) is not made
  again: it is counted apart, with neither tokens nor dollars.
* **Input tokens**: LiteLLM's ``token_counter`` on the messages the run would send, built by the code that
  sends them (the model's own tokenizer where LiteLLM has it, else tiktoken's: then approximate).
* **Output tokens**: an assumption per call, stated with the estimate (:class:`Output`): the answer format's
  longest valid answer, at most ``max_tokens``. The dollars if every answer ran to ``max_tokens`` are given
  too: the most a run can be billed for its answers (a reasoning model's hidden tokens aside).
* **Dollars**: LiteLLM's cost map (``litellm.cost_per_token``), the copy bundled with LiteLLM, never fetched
  (``harmstudy/__init__.py`` sets ``LITELLM_LOCAL_MODEL_COST_MAP`` before LiteLLM is imported); "price
  unknown" for a model the map lacks. The map's base price per token: a judge's prompt is far shorter than
  any long-context price tier.

An embedded judge (``llamacpp/...``) costs time, not money (:mod:`harmstudy.announce` says how long): it gets
no estimate. Nothing here calls a model or writes a file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harmstudy.judge.cache import cached_keys
from harmstudy.judge.calls import JudgeSettings, call_request, lite
from harmstudy.parse.judge_answers import LABELS


@dataclass(frozen=True)
class Output:
    """The output tokens assumed per call, the cap (``max_tokens``) and why that many."""
    per_call: int
    cap: int
    basis: str


@dataclass(frozen=True)
class CostEstimate:
    """One run's calls before they are made. ``input_tokens`` and the dollars count only the calls still to
    make (``calls - cached``); ``input_price`` / ``output_price``: dollars per token from LiteLLM's cost map,
    None where the map has no price for the judge."""
    judge: str
    run: str
    calls: int
    cached: int
    input_tokens: int
    output: Output
    input_price: float | None
    output_price: float | None
    api_base: str | None = None

    @property
    def to_make(self) -> int:
        return self.calls - self.cached

    @property
    def output_tokens(self) -> int:
        return self.to_make * self.output.per_call

    @property
    def priced(self) -> bool:
        return self.input_price is not None and self.output_price is not None

    @property
    def dollars(self) -> float | None:
        """Input tokens and the assumed output tokens at the map's prices (None: price unknown)."""
        return self.input_tokens * self.input_price + self.output_tokens * self.output_price if self.priced else None

    @property
    def dollars_at_cap(self) -> float | None:
        """The same with every answer running to ``max_tokens``: the most the calls can cost."""
        return (self.input_tokens * self.input_price + self.to_make * self.output.cap * self.output_price
                if self.priced else None)

    def __str__(self) -> str:
        lines = [f"{self.run}: {self.to_make:,} calls to {self.judge}"
                 f" ({self.cached:,} of {self.calls:,} already answered in the run's cache)"]
        if not self.to_make:
            return lines[0] + ": nothing to pay"
        lines.append(f"  input ~{self.input_tokens:,} tokens (LiteLLM's token_counter on the prompts); "
                     f"output ~{self.output_tokens:,} tokens ({self.output.per_call} per call: {self.output.basis})")
        if not self.priced:
            lines.append(f"  dollars: price unknown (LiteLLM's cost map has no price for {self.judge})")
            return "\n".join(lines)
        per_million = f"${self.input_price * 1e6:.4g} / ${self.output_price * 1e6:.4g} per million input / output tokens"
        most = (f"; at most {dollars(self.dollars_at_cap)} if every answer ran to max_tokens {self.output.cap}"
                if self.output.cap > self.output.per_call else "")
        lines.append(f"  dollars ~{dollars(self.dollars)} at LiteLLM's cost-map price ({per_million}){most}")
        if self.api_base:
            lines.append(f"  (the map's price is the provider's: the server at {self.api_base} may charge otherwise)")
        return "\n".join(lines)


def dollars(value: float) -> str:
    """``$0.0123``: four significant digits (a few calls cost a fraction of a cent)."""
    return f"${value:.2f}" if value >= 100 else f"${value:.4g}"


def listwise_output(settings: JudgeSettings) -> Output:
    """A ranking's answer: the longest valid one (every content ``N/A``; JSON where ``structured``), in the
    judge's tokens, at most ``max_tokens``."""
    structured = settings.structured and not settings.is_local
    answer = (json.dumps({label: "N/A" for label in LABELS}) if structured
              else "\n".join(f"Content {label}: N/A" for label in LABELS))
    tokens = lite().token_counter(model=settings.judge, text=answer)
    shape = "a JSON object of three 'N/A'" if structured else "three lines 'Content X: N/A'"
    return Output(min(tokens, settings.max_tokens), settings.max_tokens,
                  f"the longest valid answer, {shape}, at most max_tokens {settings.max_tokens}")


def pointwise_output(settings: JudgeSettings) -> Output:
    """A pointwise answer: one token (``max_tokens`` 1: Yes / No, or a digit)."""
    return Output(settings.max_tokens, settings.max_tokens,
                  f"the answer is {settings.max_tokens} token{'s' * (settings.max_tokens != 1)}: Yes / No or a digit")


def prices(judge: str) -> tuple[float | None, float | None]:
    """Dollars per input and per output token in LiteLLM's cost map (its base tier), or (None, None)."""
    try:
        return tuple(float(v) for v in lite().cost_per_token(model=judge, prompt_tokens=1, completion_tokens=1))
    except Exception:  # LiteLLM raises for a model its map lacks: no price
        return None, None


def estimate(settings: JudgeSettings, requests: list[list[dict]], cache_path: Path | None, *, run: str, output: Output,
             extra: dict | None = None) -> CostEstimate:
    """The estimate of the calls that send ``requests`` (each a call's messages, with ``extra`` call
    parameters) under ``settings`` into the cache at ``cache_path`` (read, never created; None: no cache)."""
    keys = [call_request(messages, settings, extra)[1] for messages in requests]
    present = cached_keys(cache_path, keys) if cache_path else set()      # None: every call counted
    token_counter = lite().token_counter
    new = [messages for messages, key in zip(requests, keys) if key not in present]
    tokens = sum(token_counter(model=settings.judge, messages=messages) for messages in new)
    input_price, output_price = prices(settings.judge)
    return CostEstimate(judge=settings.judge, run=run, calls=len(requests), cached=len(requests) - len(new),
                        input_tokens=int(tokens), output=output, input_price=input_price, output_price=output_price,
                        api_base=settings.api_base or None)


def total(estimates: list[CostEstimate]) -> str:
    """One line over several runs: calls to make, cached, tokens, and the dollars of the priced ones."""
    priced = [e for e in estimates if e.priced and e.to_make]
    unknown = sorted({e.judge for e in estimates if not e.priced and e.to_make})
    line = (f"in all: {sum(e.to_make for e in estimates):,} calls to make "
            f"({sum(e.cached for e in estimates):,} already cached), "
            f"~{sum(e.input_tokens for e in estimates):,} input and ~{sum(e.output_tokens for e in estimates):,} "
            f"output tokens")
    if priced:
        line += f", ~{dollars(sum(e.dollars for e in priced))} at LiteLLM's cost-map prices"
    if unknown:
        line += f"{' +' if priced else ','} price unknown for {', '.join(unknown)}"
    return line


#: The LiteLLM cost-map entries each of the paper's judges is priced at, its central one first. The release
#: names no version, size, host or date for any of them (docs/models.md), so a judge is priced at the entries
#: it may have been, and its dollars are a range: GPT-4o at today's and at its first (2024-05-13) price; Claude
#: Sonnet at the price every Sonnet from 3.5 to 4.5 had (one entry); Llama at 70B, between its 8B and its 405B,
#: on one host (Together AI's prices in the map).
PAPER_JUDGE_PRICES = {
    "claude-sonnet": ("claude-sonnet-4-5",),
    "gpt-4o": ("gpt-4o", "gpt-4o-2024-05-13"),
    "llama": ("together_ai/meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo",
              "together_ai/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "together_ai/meta-llama/Llama-3.1-405B-Instruct"),
}


def priced_range(counted: CostEstimate, entries: dict[str, tuple[str, ...]] = PAPER_JUDGE_PRICES):
    """Each judge's estimated dollars per 1,000 triples for the calls ``counted`` (their input tokens and the
    assumed output tokens) at each of its cost-map ``entries``: one row per judge, the central entry's dollars
    and the lowest and highest of them (a judge whose entries the map lacks: price unknown, no dollars)."""
    import pandas as pd

    rows = []
    per = 1000 / counted.calls
    for judge, names in entries.items():
        found = {name: prices(name) for name in names}
        priced = {name: (counted.input_tokens * i + counted.output_tokens * o) * per
                  for name, (i, o) in found.items() if i is not None and o is not None}
        central = priced.get(names[0])
        rows.append({"judge": judge, "priced_as": names[0], "dollars_per_1000": central,
                     "dollars_low": min(priced.values(), default=None), "dollars_high": max(priced.values(), default=None),
                     "entries": "; ".join(f"{name}: {dollars(priced[name]) if name in priced else 'price unknown'}"
                                          for name in names),
                     "triples": counted.calls, "input_tokens": counted.input_tokens,
                     "output_tokens": counted.output_tokens, "tokenizer": counted.judge,
                     "basis": ("estimated: LiteLLM's cost map on the study's listwise prompt for every triple "
                               f"(tokens counted with {counted.judge}'s tokenizer; {counted.output.basis}); the release "
                               "names no version: a range over the entries")})
    return pd.DataFrame(rows)
