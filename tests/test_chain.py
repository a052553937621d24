"""The whole study on tiny parameters: papermill runs 00 -> 01 -> 02 (listwise, pointwise) -> 03 -> 04 -> 05 in a
throw-away copy, with SmolLM2 as judge, and the recorded numbers are read back. Beside it, a judge that never
answers in the format (a loopback fake that answers prose): every notebook reports it with its reasons and
goes on with the others."""
import json

import nbformat
import pandas as pd
import pytest

from conftest import MODEL_THREADS, run_notebook
from fake_openai_server import FakeOpenAIServer
from harmstudy.report.records import recorded_values
from harmstudy.models.registry import model_file, resolve_model

pytestmark = pytest.mark.slow
FAKE_KEY = "sk-harmstudy-FAKE-KEY-0987654321"


def printed(notebook) -> str:
    book = nbformat.read(notebook, as_version=4)
    return "".join(o.get("text", "") for c in book.cells for o in c.get("outputs", []))


def test_whole_chain_on_tiny_parameters(study_root, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)          # must never surface in any output
    smol_path = str(model_file(resolve_model("smollm2-135m-instruct")))
    models = ["smollm2-135m-instruct", "gemma3-270m", smol_path]   # a .gguf path works like a name
    judge = "llamacpp/smollm2-135m-instruct"

    run_notebook(study_root, "00_data")
    rec01 = recorded_values(run_notebook(study_root, "01_elicit", models=models, n_prompts=3, max_tokens=8,
                                      run="tiny", threads=MODEL_THREADS))
    assert rec01["responses"] == 9 and rec01["prompts"] == 3
    names = ["smollm2-135m-instruct", "gemma3-270m", "SmolLM2-135M-Instruct.Q4_1"]
    assert sorted(rec01["models"]) == sorted(names)

    rec02 = recorded_values(run_notebook(study_root, "02_judge", judge=judge, targets=["paper"], n_items=3,
                                         grammar=True, max_tokens=24))
    paper_run = rec02["targets"]["paper"]["run"]
    assert paper_run == "judge-smollm2-135m-instruct-grammar-paper-n3"
    assert rec02["targets"]["paper"]["items"] == 3
    assert rec02["targets"]["paper"]["coverage"] == 1.0           # grammar: every answer is a valid ranking
    # the new models' triples, each shown in 3 orders (as `make paper` does)
    rec02e = recorded_values(run_notebook(study_root, "02_judge", judge=judge, targets=["elicit:tiny"],
                                          grammar=True, orders=3, max_tokens=24,
                                          table_suffix="_elicit"))
    elicit_run = rec02e["targets"]["elicit:tiny"]["run"]
    assert elicit_run == "judge-smollm2-135m-instruct-grammar-o3-tiny-nall"
    assert rec02e["targets"]["elicit:tiny"]["calls"] == 9          # 3 triples x 3 orders
    slots = pd.read_csv(study_root / "figures/tables/judge_slot_share_elicit.csv")
    assert list(slots["slot"]) == ["A", "B", "C"] and (slots["answers"] == 9).all()

    # each response alone: P(harmful) from log-probabilities, threshold out of fold by sheet
    rec02p = recorded_values(run_notebook(study_root, "02_pointwise_judge", judge=judge, n_items=3))
    pointwise_run = rec02p["run"]
    assert pointwise_run == "pointwise-smollm2-135m-instruct-paper-n3" and rec02p["calls"] == 9
    assert rec02p["coverage"] == 1.0 and 0 < rec02p["brier"] < 1

    # a judge that answers prose, on the paper's triples and the new models' (the key goes to the loopback
    # server only, and must surface nowhere either)
    with FakeOpenAIServer(answer="I would rather not rank these responses.") as server:
        nb02 = run_notebook(study_root, "02_judge", judge="openai/prose-judge", api_base=server.api_base,
                            targets=["paper"], n_items=4, run="prose-paper")
        said = printed(nb02)
        # before its first call the notebook says what the calls cost (harmstudy.judge.cost): a model the cost
        # map lacks has no price
        assert "prose-paper: 4 calls to openai/prose-judge (0 of 4 already answered in the run's cache)" in said
        assert said.index("price unknown (LiteLLM's cost map has no price for openai/prose-judge)") < said.index("4 model calls")
        assert "prose-judge answered none of its 4 calls in a usable form" in said
        assert "no 'Content X: rank' lines found (4)" in said
        unscored = pd.read_csv(study_root / "figures/tables/judge_unscored.csv")
        assert set(unscored["status"]) == {"unscored"} and unscored["answers"].sum() == 4
        run_notebook(study_root, "02_judge", judge="openai/prose-judge", api_base=server.api_base,
                     targets=["elicit:tiny"], orders=3, run="prose-tiny", table_suffix="_elicit")
    assert json.loads((study_root / "data/runs/prose-paper/manifest.json").read_text())["calls_made_last_run"] == 4

    rec03 = recorded_values(run_notebook(study_root, "03_learned_judges", elicit_run="tiny",
                                         run="learned-tiny", judges=[{"name": "learned-tfidf", "features": "tfidf"}]))
    assert 0.5 < rec03["judges"]["learned-tfidf"]["auc"] < 1                  # out of fold, on all 1,019 rankings

    nb04 = run_notebook(study_root, "04_agreement", n_boot=20,
                        judge_runs=[paper_run, pointwise_run, "learned-tiny", "prose-paper"])
    assert "judging run 'prose-paper' has no usable ranking (12 rows, all unscored — no 'Content X: rank'" in printed(nb04)
    rec04 = recorded_values(nb04)
    assert "smollm2-135m-instruct+grammar" in rec04["alpha_vs_students"]
    agree = pd.read_csv(study_root / "figures/tables/judge_agreement.csv")
    local = agree[agree["judge"] == "smollm2-135m-instruct+grammar"]
    assert set(local["reference"]) == {"human", "expert"} and (local["coverage"] == 1.0).all()
    assert set(local["kind"]) == {"listwise"} and (local["seconds_per_triple"] > 0).all()
    point = agree[agree["judge"] == "smollm2-135m-instruct+pointwise"]
    assert set(point["kind"]) == {"pointwise"} and (point["seconds_per_triple"] > 0).all()
    assert set(point.loc[point["metric"] == "alpha_ordinal", "n"]) <= {3}
    learned = agree[(agree["judge"] == "learned-tfidf") & (agree["metric"] == "alpha_ordinal")]
    assert set(learned["n"]) == {1019, 85} and set(learned["kind"]) == {"learned"}
    assert (study_root / "figures/judge_agreement_cost.png").stat().st_size > 10_000
    assert not agree["judge"].str.contains("prose").any()

    nb05 = run_notebook(study_root, "05_small_models", elicit_run="tiny",
                        judge_runs=[elicit_run, "learned-tiny", "prose-tiny"], export_groups=1,
                        export_per_group=3, export_overlap=1)
    assert "judging run 'prose-tiny' has no usable ranking" in printed(nb05)
    rec05 = recorded_values(nb05)
    harm = pd.read_csv(study_root / "figures/tables/new_small_model_harm.csv")
    # the position-balanced judge replaces its fixed-order self; the learned judge sits beside it; the prose
    # judge is in no table
    assert set(harm["model"]) == set(names)
    assert set(harm["rater"]) == {"smollm2-135m-instruct+grammar+balanced", "learned-tfidf"}
    assert harm.loc[harm["rater"] == "learned-tfidf", "judge_alpha"].notna().all()   # reliability beside it
    assert rec05["items_judged"] == 3
    assert (study_root / "data/annotations/tiny/blank/output_Group_1.csv").exists()

    # provenance of every artifact
    manifest = json.loads((study_root / "figures/MANIFEST.json").read_text())
    for artifact in ["figures/tables/judge_agreement.csv", "figures/judge_agreement.png",
                     "figures/tables/new_small_model_harm.csv", "figures/tables/anomalies.csv",
                     "figures/tables/elicit_summary.csv"]:
        entry = manifest[artifact]
        assert entry["notebook"].startswith("notebooks/") and entry["packages"]["pandas"]
        assert all(len(h) == 64 for h in entry["inputs"].values()) and entry["inputs"]

    # no secret anywhere: executed notebooks, caches, manifests, tables
    leaked = [p for p in study_root.rglob("*") if p.is_file() and FAKE_KEY.encode() in p.read_bytes()]
    assert leaked == []
    for nb in (study_root / "build/notebooks").glob("*.ipynb"):
        book = nbformat.read(nb, as_version=4)
        errors = [o for c in book.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == [], nb.name
