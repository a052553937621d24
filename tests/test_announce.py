"""Model time (harmstudy/model_time.py) and make's lines before a model run (harmstudy/announce.py): sums by
hand, estimates scaled from a recorded run, resuming."""
import pytest


def test_a_runs_recorded_model_time_adds_up_what_each_record_says_it_took(tmp_path):
    # elicitation records 1.5 + 2.25 s, two cached judge calls 10 + 0.5 s (an errored call with no latency
    # counts 0), embeddings 0.25 × 4 s: 15.25 s in all (0.3 min as printed); a folder with none of them records 0.
    import subprocess
    import sys

    import numpy as np

    from harmstudy import files
    from harmstudy.judge.cache import JudgeCache
    from harmstudy.embedding_store import write_shard
    from harmstudy.model_time import recorded_model_seconds

    run = tmp_path / "some-run"
    run.mkdir()
    with files.RecordWriter(run / "responses.jsonl") as writer:
        writer.write({"response": "a", "seconds": 1.5})
        writer.write({"response": "b", "seconds": 2.25})
    cache = JudgeCache(run / "judge_cache.sqlite")
    for key, latency in [("k1", 10.0), ("k2", 0.5), ("k3", None)]:
        cache.put(key, model="m", template_version="t", request={}, answer="x", error=None, usage={}, cost=0.0,
                  latency=latency)
    cache.close()
    write_shard(run / "added-m.npz", {str(i): (np.zeros(3, dtype=np.float32), 0.25) for i in range(4)})
    assert recorded_model_seconds(run) == pytest.approx(15.25)
    (tmp_path / "empty").mkdir()
    assert recorded_model_seconds(tmp_path / "empty") == 0.0
    out = subprocess.run([sys.executable, "-m", "harmstudy.announce", str(run), str(tmp_path / "empty")],
                         capture_output=True, text=True, check=True).stdout
    assert "0.3 min  some-run" in out and "0.0 min  empty" in out and out.strip().splitlines()[-1].lstrip().startswith("0.3 min  in all")


def test_make_announces_a_new_run_with_an_estimate_scaled_from_a_recorded_one(study_root, monkeypatch):
    """A new run: the reference run's recorded model time × items / its items; the reference folder gone (a
    cold rebuild), the time data/model_time.csv keeps for it; an existing run: it resumes."""
    from harmstudy import announce, files, model_time

    ref = study_root / "data/runs/ref"
    with files.RecordWriter(ref / "responses.jsonl") as writer:          # 10 prompts' responses: 600 s
        for i in range(10):
            writer.write({"response": str(i), "seconds": 60.0})
    assert announce.announce("01_elicit", "new", 25, "prompts", [("missing", 5), ("ref", 10)]) == \
        "01_elicit: data/runs/new is new — about 25.0 min here (ref: 10.0 min for 10 prompts)"
    kept = study_root / "data/model_time.csv"
    monkeypatch.setattr(model_time, "MODEL_TIME", kept)
    model_time.print_model_time([ref], record=kept)
    (ref / "responses.jsonl").unlink()
    ref.rmdir()
    assert announce.announce("01_elicit", "new", 5, "prompts", [("ref", 10)]) == \
        "01_elicit: data/runs/new is new — about 5.0 min here (ref: 10.0 min for 10 prompts)"
    assert announce.announce("01_elicit", "new", 5, "prompts", [("other", 10)]).endswith("no recorded run to estimate its time from")
    (study_root / "data/runs/new").mkdir(parents=True)
    with files.RecordWriter(study_root / "data/runs/new/responses.jsonl") as writer:
        writer.write({"response": "a", "seconds": 30.0})
    assert announce.announce("01_elicit", "new", 5, "prompts", [("ref", 10)]).startswith(
        "01_elicit: data/runs/new exists (0.5 min of model time recorded): only what it lacks is computed")
