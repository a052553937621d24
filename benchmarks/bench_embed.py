"""embed_overhead: texts/s of the harness's embeddings (:func:`harmstudy.learn.embeddings.embed_texts`:
hashing, the store written atomically, model loaded for the missing texts) ÷ texts/s of a plain
llama-cpp-python ``embed`` loop on the same texts (same model, pooling, threads; its load timed too).

Rounds alternate which side goes first; the harness starts from an empty store each round. Goal: >= 0.95.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from _study import use_throwaway_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--texts", type=int, default=24)
    ap.add_argument("--threads", type=int, default=None, help="default: every core, or $HARMSTUDY_THREADS")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    use_throwaway_study("bench-embed-")
    import llama_cpp

    from harmstudy import PAPER_MODELS, paths
    from harmstudy.data.release import load_release
    from harmstudy.learn import embeddings
    from harmstudy.data.targets import response_frame
    from harmstudy.models.registry import model_file, resolve_model
    from harmstudy.models import registry
    args.threads = args.threads or registry.default_threads()

    frame = response_frame(load_release(), list(PAPER_MODELS)).head(args.texts)
    texts = [embeddings.embedding_text(p, r) for p, r in zip(frame["prompt"], frame["response"])]
    path = str(model_file(resolve_model(args.model)))

    def harness(i):
        start = time.perf_counter()
        embeddings.embed_texts(texts, model=args.model, store=Path(paths.DATA) / f"store-{i}",
                               n_threads=args.threads, progress=False)
        return time.perf_counter() - start

    def plain(i):
        start = time.perf_counter()
        llm = llama_cpp.Llama(model_path=path, n_ctx=512, n_batch=512, n_ubatch=512, n_threads=args.threads,
                              n_threads_batch=args.threads,
                              embedding=True, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, verbose=False)
        for text in texts:
            llm.embed(text, truncate=True)
        llm.close()
        return time.perf_counter() - start

    seconds = {"harness": 0.0, "plain": 0.0}
    for i in range(args.rounds):
        for name, side in ([("plain", plain), ("harness", harness)] if i % 2 == 0 else
                           [("harness", harness), ("plain", plain)]):
            seconds[name] += side(i)
    rate = {k: args.rounds * len(texts) / v for k, v in seconds.items()}
    print(f"# model={args.model} texts={len(texts)} threads={args.threads} rounds={args.rounds}")
    print(f"# harness {rate['harness']:.2f} texts/s; plain llama-cpp-python {rate['plain']:.2f} texts/s")
    print(f"embed_overhead: ratio={rate['harness'] / rate['plain']:.2f}")


if __name__ == "__main__":
    main()
