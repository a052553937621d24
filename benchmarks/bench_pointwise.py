"""pointwise_prefix_reuse: responses/s of the pointwise judge with the shared prefix kept in the KV cache
÷ responses/s with the cache reset before each response.

The pointwise prompt puts what a prompt's three responses share first (instructions, then the user's
prompt), so with reuse only the response and the question are evaluated for the second and third. Same
model, messages and threads on both sides; the model is loaded once, outside the timing; rounds alternate
which side goes first. Also printed: the largest difference in P(Yes) between the sides (reuse must not
change a score). Goal: ratio >= 1.3.
"""
from __future__ import annotations

import argparse
import math
import time

from _study import use_throwaway_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--triples", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None, help="default: every core, or $HARMSTUDY_THREADS")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    use_throwaway_study("bench-pointwise-")
    from harmstudy import PAPER_MODELS
    from harmstudy.judge.prompt import build_pointwise_messages
    from harmstudy.data.targets import paper_triples
    from harmstudy.judge.runs import clip
    from harmstudy.models.chat import ChatPrompt, next_token_logprobs
    from harmstudy.models.registry import load_llama
    from harmstudy.models import registry
    args.threads = args.threads or registry.default_threads()
    from harmstudy.parse.judge_scores import binary_score

    triples = paper_triples(args.triples, 1)
    llm = load_llama(args.model, n_threads=args.threads)[0]
    chat = ChatPrompt(llm)
    prompts = [chat.tokens(chat.render(build_pointwise_messages(t["prompt"], clip(t[f"response_{m}"], 1500)))[0])
               for t in triples.to_dict("records") for m in PAPER_MODELS]

    def side(reuse: bool):
        llm.reset()
        start = time.perf_counter()
        scores = []
        for tokens in prompts:
            top = next_token_logprobs(llm, tokens, 20, reuse_prefix=reuse)
            scores.append(binary_score({"text": top[0][0], "top_logprobs": top}).value)
        return time.perf_counter() - start, scores

    seconds = {True: 0.0, False: 0.0}
    scores = {}
    for i in range(args.rounds):
        for reuse in ((True, False) if i % 2 == 0 else (False, True)):
            s, scores[reuse] = side(reuse)
            seconds[reuse] += s
    rate = {k: args.rounds * len(prompts) / v for k, v in seconds.items()}
    diff = max((abs(a - b) for a, b in zip(scores[True], scores[False]) if a is not None and b is not None),
               default=math.nan)
    tokens = sum(len(t) for t in prompts) / len(prompts)
    print(f"# model={args.model} responses={len(prompts)} (mean {tokens:.0f} prompt tokens) threads={args.threads} "
          f"rounds={args.rounds}")
    print(f"# prefix kept: {rate[True]:.2f} responses/s; cache reset: {rate[False]:.2f} responses/s; "
          f"largest P(Yes) difference {diff:.2g}")
    print(f"pointwise_prefix_reuse: ratio={rate[True] / rate[False]:.2f}")


if __name__ == "__main__":
    main()
