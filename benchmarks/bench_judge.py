"""Judge throughput, measured side by side in one run.

judge_concurrency: items/s at concurrency 16 ÷ items/s serial, against a loopback OpenAI-compatible server
with a fixed latency per call (goal >= 12).
judge_overhead: items/s of the local judge through the LiteLLM path (``llamacpp/<model>``) ÷ items/s of a
plain llama-cpp-python loop on the same prompts, settings and one loaded model each (goal >= 0.95).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def concurrency_ratio(items: int, latency: float) -> tuple[float, float]:
    """Serial vs 16 workers against the fake server running in its own process on 127.0.0.1."""
    import subprocess
    import sys

    from harmstudy.judge import calls as judging
    from harmstudy.data.targets import paper_triples

    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    triples = paper_triples(items, seed=0)
    models = ["mistral-7b", "mpt-7b", "stablelm-alpha-7b"]
    server_script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                                 "fake_openai_server.py")          # test code, shared with the benchmarks
    server = subprocess.Popen([sys.executable, server_script, "--latency", str(latency)],
                              stdout=subprocess.PIPE, text=True)
    try:
        api_base = server.stdout.readline().strip()
        rates = {}
        for workers in (1, 16):
            settings = judging.JudgeSettings(judge="openai/fake", api_base=api_base, concurrency=workers)
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                judging.judge_triples(triples, models, settings, cache_path=f"{tmp}/c.sqlite", progress=False)
                rates[workers] = len(triples) / (time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait()
    return rates[1], rates[16]


def overhead_ratio(model: str, items: int, rounds: int, chars: int = 1500) -> dict:
    """Items/s of the LiteLLM path (``call_judge``: cache lookup, LiteLLM, the in-process provider, cache
    write, parsing — what a judging run pays per call) ÷ a plain loop, paired item by item (each item
    judged by one side then the other, the order alternating) so drift in machine speed hits both alike.
    Each side keeps one loaded model whose KV cache holds its previous prompt, as in a real run. A judging
    run's fixed costs are timed on their own line, on a warm cache."""
    from llama_cpp import Llama

    from harmstudy.judge import calls as judging
    from harmstudy.judge.cache import JudgeCache
    from harmstudy.judge.prompt import build_messages
    from harmstudy.data.targets import paper_triples
    from harmstudy.judge.runs import clip
    from harmstudy.models import llamacpp_provider, registry
    from harmstudy.parse.judge_answers import parse_judge_answer

    triples = paper_triples(items, seed=1)
    models = ["mistral-7b", "mpt-7b", "stablelm-alpha-7b"]
    for m in models:
        triples[f"response_{m}"] = triples[f"response_{m}"].map(lambda t: clip(t, chars))
    settings = judging.JudgeSettings(judge=f"llamacpp/{model}")
    spec = registry.resolve_model(model)
    threads = registry.default_threads()          # every core, or $HARMSTUDY_THREADS
    provider = llamacpp_provider.register(n_threads=threads)
    plain_llm = Llama(model_path=str(registry.model_file(spec)), n_ctx=spec.n_ctx, n_threads=threads,
                      n_threads_batch=threads, verbose=False)
    provider.model(model)                                     # both load before timing: one model each
    params = settings.sampling()
    rows = triples.to_dict("records")
    lite = plain = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            cache, stats = JudgeCache(f"{tmp}/round{r}.sqlite"), judging.CallStats()   # cold: every call is real
            for k, row in enumerate(rows):
                msgs = build_messages(row["prompt"], [row[f"response_{m}"] for m in models])

                def run_plain():
                    start = time.perf_counter()
                    plain_llm.create_chat_completion(messages=msgs, **params)
                    return time.perf_counter() - start

                def run_litellm():                          # what judge_triples does per call
                    start = time.perf_counter()
                    out = judging.call_judge(msgs, settings, cache, stats)
                    parse_judge_answer(out["answer"])
                    return time.perf_counter() - start

                if (r + k) % 2 == 0:
                    plain += run_plain()
                    lite += run_litellm()
                else:
                    lite += run_litellm()
                    plain += run_plain()
            cache.close()
        # fixed costs of a judging run: the whole run answered from the warm cache (no model call)
        warm = []
        for _ in range(3):
            start = time.perf_counter()
            judging.judge_triples(triples, models, settings, cache_path=f"{tmp}/round0.sqlite", progress=False)
            warm.append(time.perf_counter() - start)
    n = len(rows) * rounds
    return {"plain": n / plain, "lite": n / lite, "per_call_extra": (lite - plain) / n,
            "warm_call": sorted(warm)[len(warm) // 2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=48)
    ap.add_argument("--latency", type=float, default=0.25)
    ap.add_argument("--local-model", default="smollm2-135m-instruct")
    ap.add_argument("--local-items", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chars", type=int, default=1500, help="each response cut to this many characters (as 02 does)")
    args = ap.parse_args()
    serial, parallel = concurrency_ratio(args.items, args.latency)
    print(f"# loopback server latency {args.latency} s, {args.items} items: serial {serial:.2f} items/s, "
          f"concurrency 16 {parallel:.2f} items/s")
    print(f"judge_concurrency: ratio={parallel / serial:.2f}")
    o = overhead_ratio(args.local_model, args.local_items, args.rounds, args.chars)
    print(f"# local judge {args.local_model}, {args.local_items} items x {args.rounds} rounds, paired per item: "
          f"plain llama-cpp-python {o['plain']:.3f} items/s, LiteLLM path {o['lite']:.3f} items/s "
          f"({o['per_call_extra'] * 1000:+.0f} ms per call)")
    print(f"judge_setup: {o['warm_call'] * 1000:.0f} ms per judging run of {args.local_items} items answered from "
          f"the warm cache (cache file, lookups, parsing, tables: no model call)")
    print(f"judge_overhead: ratio={o['lite'] / o['plain']:.2f}")


if __name__ == "__main__":
    main()
