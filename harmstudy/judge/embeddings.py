"""Mean-pooled embeddings of (prompt, response) texts from an embedded GGUF model, for learned judges.

llama-cpp-python computes them (``embedding=True``, mean pooling over the text's tokens; texts longer than
one batch are truncated to it). They use no label, so they are computed once for every text. They are kept
in a run folder (``embeddings-<model>.npz``: one vector per text, keyed by the text's sha256, with the
seconds it took), written atomically every ``save_every`` texts, so an interrupted run keeps what it
computed and ``make paper`` never recomputes them.
"""
from __future__ import annotations

import hashlib
import io
import time

import numpy as np

from harmstudy import files
from harmstudy.report.progress import Progress

#: Texts are cut to this many characters before tokenizing (the batch limit cuts tokens, not meaning).
MAX_CHARS = 2000


def embedding_text(prompt: str, response: str, max_chars: int = MAX_CHARS) -> str:
    """What is embedded: the prompt and the response, the response cut to fit."""
    text = f"Prompt: {prompt or ''}\nResponse: {response or ''}"
    return text[:max_chars]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_embedder(model: str, n_threads: int | None = None, n_batch: int = 512):
    """The registry model loaded for embeddings (mean pooling); (Llama, sha256 of its file)."""
    import llama_cpp

    from harmstudy.models.registry import load_llama

    llm, _, _, digest = load_llama(model, n_threads=n_threads, n_ctx=n_batch, embedding=True, n_batch=n_batch,
                                   n_ubatch=n_batch, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
    return llm, digest


def read_store(path) -> dict[str, tuple[np.ndarray, float]]:
    """text sha256 -> (vector, seconds it took to compute)."""
    if not path.exists():
        return {}
    with np.load(path) as data:
        return {k: (v, float(t)) for k, v, t in zip(data["keys"].tolist(), data["vectors"], data["seconds"])}


def write_store(path, store: dict[str, tuple[np.ndarray, float]]) -> None:
    keys = sorted(store)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, keys=np.array(keys), vectors=np.stack([store[k][0] for k in keys]).astype(np.float32),
                        seconds=np.array([store[k][1] for k in keys], dtype=np.float32))
    files.write_bytes_atomic(path, buffer.getvalue())


def embed_texts(texts: list[str], *, model: str, store_path, n_threads: int | None = None, save_every: int = 200,
                progress: bool = True) -> tuple[np.ndarray, float]:
    """One vector per text (rows in ``texts``' order) and the mean seconds per distinct text it took to
    compute them (when they were computed). Only missing texts load the model."""
    store = read_store(store_path)
    keys = [text_key(t) for t in texts]
    todo = list(dict.fromkeys(k for k in keys if k not in store))
    if todo:
        by_key = dict(zip(keys, texts))
        llm, _ = load_embedder(model, n_threads)
        try:
            with Progress(len(todo), f"embed {model}", unit="text", enabled=progress) as bar:
                for i, key in enumerate(todo, start=1):
                    start = time.perf_counter()
                    vector = np.asarray(llm.embed(by_key[key], truncate=True), dtype=np.float32)
                    store[key] = (vector, time.perf_counter() - start)
                    bar.update(1)
                    if i % save_every == 0:
                        write_store(store_path, store)
        finally:
            llm.close()
            write_store(store_path, store)
    distinct = list(dict.fromkeys(keys))
    return np.stack([store[k][0] for k in keys]), float(np.mean([store[k][1] for k in distinct]))
