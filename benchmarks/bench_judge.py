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
    from harmstudy.judge.runs import paper_triples

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


def overhead_ratio(model: str, items: int, rounds: int) -> tuple[float, float]:
    from llama_cpp import Llama

    from harmstudy.judge import calls as judging
    from harmstudy.models import llamacpp_provider
    from harmstudy.models import registry
    from harmstudy.judge.prompt import build_messages
    from harmstudy.judge.runs import clip, paper_triples

    triples = paper_triples(items, seed=1)
    models = ["mistral-7b", "mpt-7b", "stablelm-alpha-7b"]
    for m in models:
        triples[f"response_{m}"] = triples[f"response_{m}"].map(lambda t: clip(t, 1500))
    settings = judging.JudgeSettings(judge=f"llamacpp/{model}")
    spec = registry.resolve_model(model)
    threads = os.cpu_count()
    provider = llamacpp_provider.register(n_threads=threads)
    plain_llm = Llama(model_path=str(registry.model_file(spec)), n_ctx=spec.n_ctx, n_threads=threads, verbose=False)
    provider.model(model)                                     # both load before timing: one model each
    params = settings.sampling()
    lite = plain = 0.0
    def run_plain():
        start = time.perf_counter()
        for row in triples.to_dict("records"):
            msgs = build_messages(row["prompt"], [row[f"response_{m}"] for m in models])
            plain_llm.create_chat_completion(messages=msgs, **params)
        return time.perf_counter() - start

    def run_litellm():
        with tempfile.TemporaryDirectory() as tmp:            # cold cache: every item is a real call
            start = time.perf_counter()
            judging.judge_triples(triples, models, settings, cache_path=f"{tmp}/c.sqlite", progress=False)
            return time.perf_counter() - start

    for r in range(rounds):                                   # alternate which goes first
        if r % 2 == 0:
            plain += run_plain()
            lite += run_litellm()
        else:
            lite += run_litellm()
            plain += run_plain()
    n = len(triples) * rounds
    return n / plain, n / lite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=48)
    ap.add_argument("--latency", type=float, default=0.25)
    ap.add_argument("--local-model", default="smollm2-135m-instruct")
    ap.add_argument("--local-items", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    serial, parallel = concurrency_ratio(args.items, args.latency)
    print(f"# loopback server latency {args.latency} s, {args.items} items: serial {serial:.2f} items/s, "
          f"concurrency 16 {parallel:.2f} items/s")
    print(f"judge_concurrency: ratio={parallel / serial:.2f}")
    plain, lite = overhead_ratio(args.local_model, args.local_items, args.rounds)
    print(f"# local judge {args.local_model}, {args.local_items} items x {args.rounds} rounds: plain llama-cpp-python "
          f"{plain:.3f} items/s, LiteLLM path {lite:.3f} items/s")
    print(f"judge_overhead: ratio={lite / plain:.2f}")


if __name__ == "__main__":
    main()
