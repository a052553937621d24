"""elicit_overhead: tokens/s of the elicitation harness ÷ tokens/s of a plain llama-cpp-python loop.

Same GGUF, prompts, sampling, threads and context; the two are interleaved (A B A B ...) in one run so
machine noise hits both alike.  Model loading is inside both timings.  Goal: ratio >= 0.95.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    os.environ["HARMSTUDY_ROOT"] = tempfile.mkdtemp(prefix="bench-elicit-")
    from llama_cpp import Llama

    from harmstudy import paths

    from harmstudy.elicit import elicitation as elicit

    from harmstudy.data import prompt_sets

    from harmstudy.models import registry

    os.makedirs(paths.DATA, exist_ok=True)
    os.symlink(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "llm-harm"),
               paths.RELEASE)
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
        llm = Llama(model_path=path, n_ctx=spec.n_ctx, n_threads=args.threads, seed=params.seed, verbose=False)
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

    h_tok = h_sec = p_tok = p_sec = 0.0
    for i in range(args.rounds):
        t, s = plain(i)
        p_tok, p_sec = p_tok + t, p_sec + s
        t, s = harness(i)
        h_tok, h_sec = h_tok + t, h_sec + s
    h_rate, p_rate = h_tok / h_sec, p_tok / p_sec
    print(f"# model={args.model} prompts={args.prompts} max_tokens={args.max_tokens} threads={args.threads} "
          f"rounds={args.rounds}")
    print(f"# harness: {h_tok:.0f} tokens in {h_sec:.1f} s = {h_rate:.1f} tok/s; "
          f"plain llama-cpp-python: {p_tok:.0f} tokens in {p_sec:.1f} s = {p_rate:.1f} tok/s")
    print(f"elicit_overhead: ratio={h_rate / p_rate:.2f}")


if __name__ == "__main__":
    main()
