"""The student path through make, in a copy of the project that is a git checkout: a run with non-default
parameters goes end to end into its own run folders and build/variants/<name>/, leaves every tracked file
as it was, and the same command again computes nothing. (A judging run stopped part-way:
test_student_path_resume.py, a file of its own so that the two run side by side.)"""
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from project_copy import printed_runs, project_copy, tracked_changes

pytestmark = pytest.mark.slow
SMOL = "llamacpp/smollm2-135m-instruct"
EMBED = "smollm2-135m-instruct"
REPO = Path(__file__).resolve().parent.parent


def test_a_students_small_run_goes_end_to_end_and_changes_no_tracked_file(tmp_path):
    root, env = project_copy(tmp_path, git=True)
    params = ["N_PROMPTS=1", "N_ITEMS=3", f"JUDGE={SMOL}", "N_BOOT=20"]
    runs = printed_runs(root, env, *params)
    variant = root / runs["outputs"].split(" ")[0]
    assert variant.parent == root / "build" / "variants"
    make = ["make", "-C", str(root), "paper", *params]
    start = time.perf_counter()
    first = subprocess.run(make, env=env, capture_output=True, text=True)
    first_seconds = time.perf_counter() - start
    assert first.returncode == 0, (first.stdout[-3000:], first.stderr[-3000:])
    assert tracked_changes(root) == ""                          # committed runs, figures, README untouched
    # the new runs were announced before they were computed, and the committed ones said to be reused
    assert "01_elicit: data/runs/elicit-n1 is new — about" in first.stdout
    assert "(elicit-default: " in first.stdout and "for 120 prompts)" in first.stdout
    assert "02_judge: data/runs/judge-smollm2-135m-instruct-paper-n3 is new" in first.stdout
    assert "03_learned_judges: " in first.stdout
    # the variant holds 04's and 05's tables (and the rest), with this judge in them
    for name in ["judge_agreement", "new_small_model_harm", "elicit_summary", "learned_judges", "external_agreement"]:
        assert (variant / "tables" / f"{name}.csv").exists(), name
    assert (variant / "MANIFEST.json").exists() and not (variant / "README.md").exists()
    responses = pd.read_json(root / "data/runs/elicit-n1/responses.jsonl", lines=True)
    assert len(responses) == 3
    harm = pd.read_csv(variant / "tables" / "new_small_model_harm.csv")
    assert "learned-tfidf+embed" in set(harm["rater"]) and set(harm["model"]) == set(responses["model"])
    # only texts the store lacked were embedded, into one new shard (a seeded 1-prompt run may repeat the
    # committed run's prompts and answers exactly: then nothing is embedded)
    from harmstudy import embedding_store
    from harmstudy.learn import embeddings

    committed = set(embedding_store.read_store(REPO / "data/embeddings" / embeddings.model_store(EMBED).name))
    new = {embedding_store.text_key(embeddings.embedding_text(p, r)) for p, r in zip(responses["prompt"], responses["response"])}
    shipped = {p.name for p in (REPO / "data/embeddings").rglob("*.npz")}
    added = [p for p in (root / "data/embeddings").rglob("added-*.npz") if p.name not in shipped]
    if new - committed:
        assert len(added) == 1 and set(embedding_store.read_shard(added[0])) == new - committed
        assert f"{len(new - committed)} of " in first.stdout
    else:
        assert added == [] and "texts are in data/embeddings/" in first.stdout and "no model call" in first.stdout
    # the paper's learned-judge rankings and scores do not depend on the elicitation run (only the run
    # folder named in `source` differs): the variant copied them from the study's run, by its fingerprint
    import json

    manifest = json.loads((root / "data/runs/learned-judges-elicit-n1/manifest.json").read_text())
    assert manifest["paper_from"] == "learned-judges"
    for name in ["paper_rankings.csv", "paper_scores.csv"]:
        variant_run, study_run = (pd.read_csv(root / "data/runs" / run / name, dtype=str, keep_default_na=False)
                                  for run in ["learned-judges-elicit-n1", "learned-judges"])
        assert variant_run.drop(columns=["source"], errors="ignore").equals(
            study_run.drop(columns=["source"], errors="ignore")), name
    # again: nothing is stale, no notebook runs, no model is called
    start = time.perf_counter()
    again = subprocess.run(make, env=env, capture_output=True, text=True)
    again_seconds = time.perf_counter() - start
    assert again.returncode == 0 and "run_notebook" not in again.stdout, again.stdout[-2000:]
    assert subprocess.run(["make", "-q", "-C", str(root), "paper", *params], env=env).returncode == 0
    print(f"\nstudent path: first run {first_seconds:.0f} s, repeat {again_seconds:.1f} s")
