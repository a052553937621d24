"""Mean-pooled embeddings of (prompt, response) texts from an embedded GGUF model, for learned judges.

llama-cpp-python computes them (``embedding=True``, mean pooling over the text's tokens; texts longer than
one batch are truncated to it). They use no label, so a text is embedded once, ever: vectors live in the
model's shared, content-addressed store (:mod:`harmstudy.embedding_store`, ``data/embeddings/``), read by
every run. Only texts missing from it load the model; the new vectors go to a new shard, saved every
``save_every`` texts, so an interrupted run keeps what it computed.
"""
from __future__ import annotations

import time

import numpy as np

from harmstudy import embedding_store
from harmstudy.embedding_store import text_key
from harmstudy.progress import Progress

#: Texts are cut to this many characters before tokenizing (the batch limit cuts tokens, not meaning).
MAX_CHARS = 2000


def embedding_text(prompt: str, response: str, max_chars: int = MAX_CHARS) -> str:
    """What is embedded: the prompt and the response, the response cut to fit."""
    text = f"Prompt: {prompt or ''}\nResponse: {response or ''}"
    return text[:max_chars]


def model_store(model: str):
    """The store folder of a registry model (or a .gguf path): named by the model file's sha256."""
    from harmstudy.models.registry import model_file, resolve_model, verify_file

    spec = resolve_model(model)
    digest = spec.sha256 or verify_file(spec, model_file(spec))
    return embedding_store.store_dir(spec.name, digest)


def load_embedder(model: str, n_threads: int | None = None, n_batch: int = 512):
    """The registry model loaded for embeddings (mean pooling); (Llama, sha256 of its file)."""
    import llama_cpp

    from harmstudy.models.registry import load_llama

    llm, _, _, digest = load_llama(model, n_threads=n_threads, n_ctx=n_batch, embedding=True, n_batch=n_batch,
                                   n_ubatch=n_batch, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
    return llm, digest


def missing_texts(texts: list[str], model: str) -> list[str]:
    """The distinct texts the model's store does not hold yet (what embedding them would compute)."""
    store = embedding_store.read_store(model_store(model))
    return list(dict.fromkeys(t for t in texts if text_key(t) not in store))


def embed_texts(texts: list[str], *, model: str, store=None, n_threads: int | None = None, save_every: int = 200,
                progress: bool = True) -> tuple[np.ndarray, float]:
    """One vector per text (rows in ``texts``' order) and the mean seconds per distinct text it took to
    compute them (when they were computed). Only texts missing from the store load the model.
    ``store``: the store folder (default: the model's shared one)."""
    folder = model_store(model) if store is None else store
    stored = embedding_store.read_store(folder)
    keys = [text_key(t) for t in texts]
    todo = list(dict.fromkeys(k for k in keys if k not in stored))
    if todo:
        by_key = dict(zip(keys, texts))
        per_text = (np.mean([s for _, s in stored.values()]) if stored else None)
        if progress:
            eta = f", about {len(todo) * per_text / 60:.1f} min at the store's {per_text:.2f} s per text" if per_text else ""
            print(f"embedding {len(todo)} new texts with {model} ({len(stored)} already in {folder.name}{eta})")
        shard, added = embedding_store.new_shard_path(folder, todo[0]), {}
        llm, _ = load_embedder(model, n_threads)
        try:
            with Progress(len(todo), f"embed {model}", unit="text", enabled=progress) as bar:
                for i, key in enumerate(todo, start=1):
                    start = time.perf_counter()
                    vector = np.asarray(llm.embed(by_key[key], truncate=True), dtype=np.float32)
                    added[key] = (vector, time.perf_counter() - start)
                    bar.update(1)
                    if i % save_every == 0:
                        embedding_store.write_shard(shard, added)
        finally:
            llm.close()
            if added:
                embedding_store.write_shard(shard, added)
        stored.update(embedding_store.read_shard(shard))     # as stored (float32), as a rerun reads them
    distinct = list(dict.fromkeys(keys))
    return np.stack([stored[k][0] for k in keys]), float(np.mean([stored[k][1] for k in distinct]))
