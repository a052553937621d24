"""Embeddings for learned judges: real llama.cpp on SmolLM2, kept in a shared store, never recomputed."""
import numpy as np
import pytest

from harmstudy.learn import embeddings, judges as learned


def test_embeddings_are_mean_pooled_stored_and_read_back_without_the_model(tmp_path, monkeypatch):
    texts = [embeddings.embedding_text("How do I pick a lock?", r)
             for r in ["Use a tension wrench.", "I can't help with that.", "Use a tension wrench."]]
    store = tmp_path / "store"
    first, seconds = embeddings.embed_texts(texts, model="smollm2-135m-instruct", store=store, progress=False)
    assert first.shape[0] == 3 and first.shape[1] > 100 and seconds > 0
    assert np.array_equal(first[0], first[2]) and not np.allclose(first[0], first[1])   # one vector per text
    # mean pooling: the vector is the mean of the per-token embeddings llama.cpp gives without pooling
    import llama_cpp

    from harmstudy.models.registry import load_llama

    raw = load_llama("smollm2-135m-instruct", n_ctx=512, embedding=True, n_batch=512, n_ubatch=512,
                     pooling_type=llama_cpp.LLAMA_POOLING_TYPE_NONE)[0]
    tokens = np.asarray(raw.embed(texts[1], truncate=True))
    assert np.allclose(tokens.mean(axis=0), first[1], atol=1e-3)

    def no_model(*a, **k):
        raise AssertionError("a stored text must not load the model")

    monkeypatch.setattr(embeddings, "load_embedder", no_model)
    again, seconds_again = embeddings.embed_texts(texts, model="smollm2-135m-instruct", store=store, progress=False)
    assert np.array_equal(again, first) and seconds_again == pytest.approx(seconds, rel=1e-5)


def test_the_store_is_shared_and_a_run_adds_only_new_texts_in_a_new_shard(tmp_path, monkeypatch):
    """Two runs share one store: the second embeds only its new text, into a new shard; the first shard keeps
    its bytes, and a third call that adds nothing writes nothing."""
    from harmstudy import embedding_store

    store = tmp_path / "store"
    a, b = embeddings.embedding_text("p", "first response"), embeddings.embedding_text("p", "second response")
    embeddings.embed_texts([a], model="smollm2-135m-instruct", store=store, progress=False)
    [first_shard] = embedding_store.shards(store)
    before = first_shard.read_bytes()
    loaded = []
    real = embeddings.load_embedder

    def counting(model, n_threads=None):
        loaded.append(model)
        return real(model, n_threads)

    monkeypatch.setattr(embeddings, "load_embedder", counting)
    vectors, _ = embeddings.embed_texts([a, b, b], model="smollm2-135m-instruct", store=store, progress=False)
    assert loaded == ["smollm2-135m-instruct"] and vectors.shape[0] == 3
    shards = embedding_store.shards(store)
    assert len(shards) == 2 and first_shard.read_bytes() == before
    added = [s for s in shards if s != first_shard][0]
    assert list(embedding_store.read_shard(added)) == [embedding_store.text_key(b)]      # only the new text
    stamps = {s: s.stat().st_mtime_ns for s in shards}
    embeddings.embed_texts([b, a], model="smollm2-135m-instruct", store=store, progress=False)
    assert len(loaded) == 1 and {s: s.stat().st_mtime_ns for s in embedding_store.shards(store)} == stamps


def test_a_models_store_is_named_by_its_file_hash():
    from harmstudy.models.registry import resolve_model

    folder = embeddings.model_store("smollm2-135m-instruct")
    assert folder.name == "smollm2-135m-instruct-" + resolve_model("smollm2-135m-instruct").sha256[:12]
    assert folder.parent.name == "embeddings"


def test_a_learned_judge_is_configured_by_its_spec_never_by_its_name():
    spec = learned.JudgeSpec.of({"name": "learned-tfidf", "features": "embed", "pooling": "stacked"})
    assert (spec.features, spec.targets, spec.pooling, spec.C) == ("embed", "hard", "stacked", 0.3)
    with pytest.raises(ValueError, match="features must be one of"):
        learned.JudgeSpec.of({"name": "learned-bow", "features": "bow"})
    with pytest.raises(ValueError, match="a learned judge is a dict"):
        learned.JudgeSpec.of({"name": "x", "feature": "tfidf"})
    with pytest.raises(ValueError, match="share a name"):
        learned.specs([{"name": "a", "features": "tfidf"}, {"name": "a", "features": "embed"}])
