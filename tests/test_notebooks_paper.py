"""Papermill runs of 00 and 04 on the real release, in a throw-away copy; recorded numbers read back."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_notebook
from fake_openai_server import FakeOpenAIServer
from harmstudy.report.records import recorded_values

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def test_00_then_03_write_every_table_with_the_promised_columns(study_root):
    rec00 = recorded_values(run_notebook(study_root, "00_data"))
    assert rec00["student_rows"] == 1020 and rec00["student_rows_kept"] == 1019
    assert rec00["anomalies_rejected"] == 1 and rec00["judge_ties"] == 21
    assert rec00["triples"] == 1018

    rec04 = recorded_values(run_notebook(study_root, "04_agreement", n_boot=30, judge_runs=[]))
    tables = study_root / "figures" / "tables"
    harm = pd.read_csv(tables / "small_model_harm.csv")
    assert list(harm.columns) == ["rater", "model", "n", "harmful_share", "ci_low", "ci_high", "mean_rank",
                                  "most_harmful_count", "ci_unit"]
    assert set(harm["ci_unit"]) == {"sheet"}                   # every share's CI resamples the student sheets
    assert set(harm["rater"]) == {"human", "expert", "gpt-4o", "claude-sonnet", "llama"}
    assert set(harm["model"]) == {"mistral-7b", "mpt-7b", "stablelm-alpha-7b"}
    human = harm[harm["rater"] == "human"].set_index("model")
    assert (human["n"] == 1019).all()
    agree = pd.read_csv(tables / "judge_agreement.csv")
    assert list(agree.columns) == ["judge", "reference", "metric", "estimate", "ci_low", "ci_high", "n",
                                   "coverage", "ci_unit", "kind", "seconds_per_triple", "vs_chance"]
    assert set(agree["ci_unit"]) == {"sheet"}
    # the words the text uses, by the CI against 0: every API judge is above chance against the students
    alpha = agree[(agree["metric"] == "alpha_ordinal") & (agree["reference"] == "human")]
    assert set(alpha["vs_chance"]) == {"above chance"}
    assert agree.loc[agree["metric"] == "exact_match", "vs_chance"].isna().all()
    assert set(agree["kind"]) == {"api", "api (authors' tie-break)", "human"}
    assert set(agree["metric"]) == {"exact_match", "kappa_harmful", "kappa_weighted", "alpha_ordinal",
                                    "kendall_tau", "spearman", "rbo"}
    assert set(agree["reference"]) == {"human", "expert"}
    # The paper's finding, read back from what the notebook recorded: judges agree with students
    # well below the human ceiling (students vs expert).
    for judge, alpha in rec04["alpha_vs_students"].items():
        assert 0.1 < alpha < rec04["alpha_human_ceiling"], judge
    assert rec04["friedman_p_students"] < 0.001
    for name in ["harmful_share", "judge_agreement", "judge_vs_judge", "confusion_matrices", "rank_distribution"]:
        assert (study_root / "figures" / f"{name}.png").stat().st_size > 10_000
    # the MANIFEST records the parameters 04 ran with: papermill's values, and the cell's for the rest
    import json

    manifest = json.loads((study_root / "figures" / "MANIFEST.json").read_text())
    assert manifest["figures/tables/judge_agreement.csv"]["parameters"] == {
        "n_boot": 30, "heatmap_metric": "alpha_ordinal", "judge_runs": []}
    assert manifest["figures/tables/rankings_long.csv"]["parameters"] == {"show_rows": 15}


def test_06_puts_our_judges_beside_pyrits_published_scorers(study_root, monkeypatch):
    # The LLM judge is real LiteLLM against the loopback server, answering the Likert levels in turn (the
    # embedded models' Likert scoring of a scored set: tests/test_pointwise.py); its spec names the server.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-harmstudy-FAKE-KEY-06")
    # The learned judges' scores are the committed run's, read back by its fingerprint (computing and storing
    # them: tests/test_sets_learned_scores.py)
    shutil.copytree(REPO / "data" / "runs" / "learned-pyrit", study_root / "data" / "runs" / "learned-pyrit")
    with FakeOpenAIServer(seed_answers={0: ["1", "3", "5", "2", "4"]}) as server:
        llm = {"judge": "openai/fake-likert", "api_base": server.api_base, "scale": "likert", "run": "likert-fake"}
        nb06 = run_notebook(study_root, "06_external_sets", datasets=["hate_speech", "representational"],
                            n_boot=20, llm_judges=[llm], llm_max_response_chars=300)
    rec = recorded_values(nb06)
    assert "learned judges: 6 judges' scores read from learned-pyrit" in nb06.read_text()
    # 59 + 29 responses; three of hate speech's (rows 9, 17 and 19) are the same request and response: one
    # call for the three (cached by content), or up to three where they were asked at once (8 calls in flight)
    assert 59 + 29 - 2 <= sum(server.seeds.values()) <= 59 + 29
    assert rec["rows"] == 1005 and rec["unreadable"] == 0
    table = pd.read_csv(study_root / "figures" / "tables" / "external_agreement.csv")
    assert set(table["dataset"]) == {"hate_speech", "representational"}
    alpha = table[table["metric"] == "pyrit_alpha"].set_index(["category", "judge"])
    # PyRIT's published numbers sit beside ours (SOURCE.md: hate speech best 0.86, median 0.85)
    assert alpha.loc["hate_speech", "published_best"].round(2).unique().tolist() == [0.86]
    assert alpha.loc["hate_speech", "published_median"].round(2).unique().tolist() == [0.85]
    assert (table.groupby(["dataset", "judge"])["n"].first().xs("hate_speech") == 59).all()
    # the LLM judge scored every response of both sets once (a Likert digit per response), kept in its run
    llm = table[table["judge"] == "openai/fake-likert+pointwise-likert"]
    assert set(llm["kind"]) == {"pointwise (likert)"} and set(llm["dataset"]) == {"hate_speech", "representational"}
    # the LLM's and the transfer judge's scores also enter calibrated out of fold, in both categories
    calibrated = table[table["kind"].str.endswith("calibrated (cv)")].set_index("judge")
    assert set(calibrated.index) == {"openai/fake-likert+pointwise-likert+calibrated-cv",
                                     "learned-tfidf-transfer+calibrated-cv"}
    alphas = calibrated[calibrated["metric"] == "pyrit_alpha"]
    assert len(alphas) == 4 and alphas["estimate"].notna().all()
    kept = pd.read_csv(study_root / "data" / "runs" / "likert-fake" / "scores.csv")
    assert len(kept) == 59 + 29 and kept["score"].notna().all()
    assert (study_root / "figures" / "external_agreement.png").stat().st_size > 10_000
    # pooled and leave-one-category-out judges in both categories; every judge's raw score kept for 08
    assert {"learned-pooled-cv", "learned-tfidf-loco", "learned-pooled-loco"} <= set(alpha.loc["hate_speech"].index)
    kept_scores = pd.read_csv(study_root / "figures" / "tables" / "external_scores.csv")
    assert len(kept_scores) == 1005 and kept_scores["learned-pooled-loco"].notna().all()

    # 08: the transfer matrix, from 06's scores and the study's committed learned run (its paper and pooled
    # TF-IDF judges' out-of-fold scores; 03 computing a learned run: tests/test_chain.py, test_learn_judges.py),
    # and the PyRIT-trained judges' committed run, read back (computed: tests/test_sets_transfer.py)
    for run in ["learned-judges", "learned-from-pyrit"]:
        shutil.copytree(REPO / "data" / "runs" / run, study_root / "data" / "runs" / run)
    nb08 = run_notebook(study_root, "08_transfer_matrix", datasets=["hate_speech", "representational"],
                        learned_run="learned-judges", n_boot=20)
    assert "PyRIT-trained judges: 9 judges' scores read from learned-from-pyrit" in nb08.read_text()
    rec08 = recorded_values(nb08)
    matrix = pd.read_csv(study_root / "figures" / "tables" / "transfer_matrix.csv")
    assert len(matrix) == 11 * 3 and set(matrix["tested_on"]) == {"paper", "hate_speech", "representational"}
    cell = matrix.set_index(["learned_from", "tested_on"])
    # the same judges on the same responses as 06: the same α
    for source, judge in [("PyRIT", "learned-tfidf-cv"), ("paper", "learned-tfidf-transfer"),
                          ("paper + PyRIT", "learned-pooled-cv")]:
        assert cell.loc[(source, "hate_speech"), "estimate"] == pytest.approx(alpha.loc[("hate_speech", judge), "estimate"])
    assert cell.loc[("PyRIT hate_speech", "hate_speech"), "how"].startswith("out of fold")
    assert cell.loc[("PyRIT hate_speech", "representational"), "how"].startswith("transfer")
    assert cell.loc[("paper", "paper"), "n"] == 1019 and rec08["alpha"]["paper|paper"] == pytest.approx(
        cell.loc[("paper", "paper"), "estimate"], abs=1e-4)
    assert (study_root / "figures" / "transfer_matrix.png").stat().st_size > 10_000
