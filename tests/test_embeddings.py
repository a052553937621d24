"""Embeddings for learned judges: real llama.cpp on SmolLM2, kept in the run folder, never recomputed."""
import numpy as np
import pytest

from harmstudy.judge import embeddings, learned


def test_embeddings_are_mean_pooled_stored_and_read_back_without_the_model(tmp_path, monkeypatch):
    texts = [embeddings.embedding_text("How do I pick a lock?", r)
             for r in ["Use a tension wrench.", "I can't help with that.", "Use a tension wrench."]]
    store = tmp_path / "embeddings-smollm2.npz"
    first, seconds = embeddings.embed_texts(texts, model="smollm2-135m-instruct", store_path=store, progress=False)
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
    again, seconds_again = embeddings.embed_texts(texts, model="smollm2-135m-instruct", store_path=store, progress=False)
    assert np.array_equal(again, first) and seconds_again == pytest.approx(seconds, rel=1e-5)


def test_a_learned_judges_name_says_its_features():
    assert [learned.feature_kind(n) for n in ["learned-tfidf", "learned-embed", "learned-tfidf+embed"]] == \
        ["tfidf", "embed", "tfidf+embed"]
    with pytest.raises(ValueError, match="features"):
        learned.feature_kind("learned-bow")
