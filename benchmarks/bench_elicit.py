"""elicit_overhead: tokens/s of the elicitation harness ÷ tokens/s of a plain llama-cpp-python loop.

Same GGUF, prompts, sampling, threads and context. Both sides load their model inside the timing, as a
real run does; rounds go plain-harness, harness-plain, harness-plain, plain-harness (ABBA, repeated), so
neither side is favoured by going first and a slow drift of the machine's speed cancels. The harness's
fixed cost per run (model load, manifest, reading the run back) is reported on its own line, measured
on a finished run (no generation), so the per-token ratio can be read with it or without it:
``elicit_overhead`` includes it (amortised over the benchmark's prompts; a real run has 120 per model),
``elicit_overhead_per_token`` excludes it. Goal: ratio >= 0.95.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from _study import use_throwaway_study

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None, help="default: every core, or $HARMSTUDY_THREADS")
    ap.add_argument("--rounds", type=int, default=4, help="a multiple of 4 balances the order (ABBA)")
    args = ap.parse_args()

    use_throwaway_study("bench-elicit-")
    from llama_cpp import Llama

    from harmstudy import elicit
    from harmstudy.data import prompt_sets
    from harmstudy.models import registry
    args.threads = args.threads or registry.default_threads()

    prompts = prompt_sets.load_prompt_set(n_prompts=args.prompts, seed=3)
    spec = registry.resolve_model(args.model)
    path = str(registry.model_file(spec))
    params = elicit.GenerationParams(max_tokens=args.max_tokens, temperature=0.7, top_p=0.9, seed=1)

    def harness(i):
        start = time.perf_counter()
        out = elicit.run_elicitation([args.model], prompts, run=f"bench-{i}", params=params,
                                     n_threads=args.threads, progress=False)
        return out["tokens_out"].sum(), time.perf_counter() - start

    def plain(i):
        start = time.perf_counter()
        llm = Llama(model_path=path, n_ctx=spec.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                    seed=params.seed, verbose=False)
        tokens = 0
        for prompt in prompts["prompt"]:
            llm.reset()
            out = llm.create_chat_completion(messages=[{"role": "user", "content": prompt}],
                                             max_tokens=params.max_tokens, temperature=params.temperature,
                                             top_p=params.top_p, repeat_penalty=params.repeat_penalty,
                                             seed=params.seed)
            tokens += out["usage"]["completion_tokens"]
        llm.close()
        return tokens, time.perf_counter() - start

    def plain_load():
        start = time.perf_counter()
        Llama(model_path=path, n_ctx=spec.n_ctx, n_threads=args.threads, n_threads_batch=args.threads,
                    seed=params.seed, verbose=False).close()
        return time.perf_counter() - start

    h_tok = h_sec = p_tok = p_sec = 0.0
    for i in range(args.rounds):
        sides = [("plain", plain), ("harness", harness)] if i % 4 in (0, 3) else [("harness", harness), ("plain", plain)]
        for name, side in sides:
            t, s = side(i)
            if name == "plain":
                p_tok, p_sec = p_tok + t, p_sec + s
            else:
                h_tok, h_sec = h_tok + t, h_sec + s
    # Fixed costs: a finished run (every record present) does all of the harness's set-up and reading
    # but no generation; a plain loop's only fixed cost is loading the model.
    fixed = statistics.median(harness(0)[1] for _ in range(3))
    load = statistics.median(plain_load() for _ in range(3))
    h_rate, p_rate = h_tok / h_sec, p_tok / p_sec
    h_gen = h_tok / (h_sec - args.rounds * (fixed + load))
    p_gen = p_tok / (p_sec - args.rounds * load)
    print(f"# model={args.model} prompts={args.prompts} max_tokens={args.max_tokens} threads={args.threads} "
          f"rounds={args.rounds}")
    print(f"# harness: {h_tok:.0f} tokens in {h_sec:.1f} s = {h_rate:.1f} tok/s; "
          f"plain llama-cpp-python: {p_tok:.0f} tokens in {p_sec:.1f} s = {p_rate:.1f} tok/s")
    print(f"elicit_setup: harness {fixed + load:.3f} s per run (model load {load:.3f} s + manifest, guard, records "
          f"read back {fixed:.3f} s) vs plain {load:.3f} s (model load)")
    print(f"elicit_overhead: ratio={h_rate / p_rate:.2f}")
    print(f"elicit_overhead_per_token: ratio={h_gen / p_gen:.2f}")


if __name__ == "__main__":
    main()
