"""external_llm_overhead: responses/s of an embedded LLM judge through ``make external``'s path
(``harmstudy.sets.llm.llm_set_judges``: the judge and credential check, the run folder, the pointwise
scorer with its cache, parsing, the tables' alignment) ÷ responses/s of a plain pointwise loop on the same
rows, model and messages in the same order (a prompt's responses adjacent, so both reuse llama.cpp's KV
cache alike; LiteLLM's ``completion`` through the same in-process provider, the answer's first token read,
nothing cached), measured side by side in one run; goal >= 0.95 (the issue on LLM judges for a
user's set). Each round is cold (a new run folder), the two sides alternate which goes first.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def rows(n: int, chars: int):
    from harmstudy.data import scored_responses

    s = scored_responses.load_pyrit(datasets=["hate_speech_multi_score"]).scores.head(n).copy()
    s["response"] = s["response"].str[:chars]
    return s


def plain_loop(scores, model: str) -> float:
    """Seconds to score every row with a bare loop: the same messages, one call each, no cache."""
    from harmstudy.judge.calls import JudgeSettings, lite
    from harmstudy.judge.pointwise import TOP_LOGPROBS, pointwise_settings
    from harmstudy.judge.prompt import build_pointwise_messages

    litellm = lite()
    params = pointwise_settings(JudgeSettings(judge=model)).sampling()       # one answer token, greedy
    ordered = scores.sort_values(["category", "request"], kind="stable")   # the order the harness scores in
    start = time.perf_counter()
    for r in ordered.itertuples():
        reply = litellm.completion(model=model, messages=build_pointwise_messages(r.request, r.response),
                                   logprobs=True, top_logprobs=TOP_LOGPROBS, **params)
        reply.choices[0].message.content
    return time.perf_counter() - start


def harness(scores, model: str, root: Path) -> float:
    from harmstudy.sets import llm

    start = time.perf_counter()
    llm.llm_set_judges(scores, [model], binary=True, stem="bench", root=root, progress=False)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="llamacpp/smollm2-135m-instruct")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--chars", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    scores = rows(args.rows, args.chars)
    plain_loop(scores.head(1), args.model)                     # the model loads before timing
    through = bare = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            if r % 2:
                bare += plain_loop(scores, args.model)
                through += harness(scores, args.model, Path(tmp) / f"round{r}")
            else:
                through += harness(scores, args.model, Path(tmp) / f"round{r}")
                bare += plain_loop(scores, args.model)
    n = args.rows * args.rounds
    print(f"# {args.model}: {args.rows} responses (cut to {args.chars} chars) x {args.rounds} rounds, cold each round")
    print(f"external_llm_responses_per_s: harness {n / through:.2f}, plain loop {n / bare:.2f}")
    print(f"external_llm_overhead: ratio={bare / through:.3f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
