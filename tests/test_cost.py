"""What an API judge's run costs, said before its first call (harmstudy.judge.cost), with real LiteLLM against
the loopback server: the calls (cached ones apart), the tokens of the prompts sent, the dollars from LiteLLM's
bundled cost map or "price unknown"; `make paper DRY_RUN=1` and `make external DRY_RUN=1` say it and call nothing."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from fake_openai_server import FakeOpenAIServer
from project_copy import project_copy

from harmstudy.judge import cost
from harmstudy.judge.calls import JudgeSettings
from harmstudy.judge.prompt import build_messages

FAKE_KEY = "sk-harmstudy-FAKE-KEY-1234567890"
#: gpt-4o-mini in LiteLLM's bundled cost map: $0.15 and $0.60 per million input / output tokens.
MINI_IN, MINI_OUT = 0.15e-6, 0.60e-6


def test_a_mapped_model_is_priced_by_hand_and_its_cached_calls_are_not_counted(study_root, monkeypatch):
    from harmstudy.judge import runs

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    with FakeOpenAIServer() as server:
        settings = JudgeSettings(judge="openai/gpt-4o-mini", api_base=server.api_base, max_retries=0)
        [before] = runs.estimate_judging(settings, n_items=3, run="cost-mini")
        assert sum(server.requests.values()) == 0                      # an estimate calls nothing
        assert not (study_root / "data/runs/cost-mini").exists()       # and writes nothing, not even the cache
        assert (before.calls, before.cached, before.to_make) == (3, 0, 3)
        # the answer format's longest valid answer, "Content A: N/A" x 3, is 17 tokens of gpt-4o-mini's tokenizer
        # (five a line, two newlines), under max_tokens 32
        assert (before.output.per_call, before.output.cap, before.output_tokens) == (17, 32, 3 * 17)
        assert (before.input_price, before.output_price) == pytest.approx((MINI_IN, MINI_OUT))
        assert before.dollars == pytest.approx(before.input_tokens * 0.15e-6 + 51 * 0.60e-6)
        assert before.dollars_at_cap == pytest.approx(before.input_tokens * 0.15e-6 + 3 * 32 * 0.60e-6)
        said = str(before)
        assert "3 calls to openai/gpt-4o-mini" in said and f"~{before.input_tokens:,} tokens" in said
        assert f"~{cost.dollars(before.dollars)}" in said and "$0.15 / $0.6 per million" in said

        runs.run_judging(settings, n_items=3, run="cost-mini", progress=False)
        assert sum(server.requests.values()) == 3
        [after] = runs.estimate_judging(settings, n_items=3, run="cost-mini")
        assert sum(server.requests.values()) == 3
    assert (after.calls, after.cached, after.to_make, after.input_tokens, after.dollars) == (3, 3, 0, 0, 0)
    assert "(3 of 3 already answered in the run's cache): nothing to pay" in str(after)
    # the estimate counted the very prompts the run sent: LiteLLM's count of each request the cache kept
    import litellm

    db = sqlite3.connect(study_root / "data/runs/cost-mini/judge_cache.sqlite")
    sent = [json.loads(r)["messages"] for (r,) in db.execute("SELECT request FROM calls")]
    db.close()
    assert sum(litellm.token_counter(model="openai/gpt-4o-mini", messages=m) for m in sent) == before.input_tokens


def test_a_model_the_cost_map_lacks_says_price_unknown(tmp_path):
    settings = JudgeSettings(judge="openai/harmstudy-no-such-model")
    requests = [build_messages(f"prompt {i}", ["a", "b", "c"]) for i in range(2)]
    e = cost.estimate(settings, requests, tmp_path / "cache.sqlite", run="r", output=cost.listwise_output(settings))
    assert (e.calls, e.to_make, e.dollars, e.priced) == (2, 2, None, False) and e.input_tokens > 0
    assert "price unknown (LiteLLM's cost map has no price for openai/harmstudy-no-such-model)" in str(e)
    assert not (tmp_path / "cache.sqlite").exists()
    assert "price unknown for openai/harmstudy-no-such-model" in cost.total([e])


def test_the_cost_map_is_never_fetched_even_where_the_environment_does_not_say_so():
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    code = ("from harmstudy.judge import cost; import os; "
            "print(cost.prices('openai/gpt-4o-mini'), os.environ['LITELLM_LOCAL_MODEL_COST_MAP'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(1.5e-07, 6e-07) True" in done.stdout
    assert "fetch" not in done.stderr.lower(), done.stderr[-2000:]     # LiteLLM says when it fetches the map


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root, env = project_copy(tmp_path_factory.mktemp("cost"))
    return root, {**env, "OPENAI_API_KEY": FAKE_KEY}


def files_of(root) -> dict:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if ".venv" not in p.parts and p.is_file()}


def make(root, env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(root), "-o", ".venv/.harmstudy-installed", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_make_paper_dry_run_prints_calls_tokens_and_dollars_and_makes_no_call(project):
    root, env = project
    before = files_of(root)
    with FakeOpenAIServer() as server:
        done = make(root, env, "paper", "JUDGE=openai/gpt-4o-mini", f"API_BASE={server.api_base}", "N_ITEMS=3",
                    "POINTWISE_JUDGE=openai/harmstudy-no-such-model", "POINTWISE_N_ITEMS=2", "DRY_RUN=1")
        assert sum(server.requests.values()) == 0
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "judge-openai-gpt-4o-mini-paper-n3: 3 calls to openai/gpt-4o-mini (0 of 3" in out
    assert "judge-openai-gpt-4o-mini-o3-elicit-default-nall: 360 calls" in out        # 120 prompts x 3 orders
    assert out.count("at LiteLLM's cost-map price ($0.15 / $0.6 per million") == 2
    # the pointwise and few-shot judges: two triples' six responses each, one answer token per call, no price
    assert "pointwise-openai-harmstudy-no-such-model-paper-n2: 6 calls" in out
    assert "pointwise-openai-harmstudy-no-such-model-fewshot4-paper-n2: 6 calls" in out
    assert out.count("price unknown (LiteLLM's cost map has no price for openai/harmstudy-no-such-model)") == 2
    assert "in all: 375 calls to make (0 already cached)" in out and "price unknown for openai/harmstudy-no-such-model" in out
    assert "DRY_RUN=1: no call was made and nothing was written" in out
    assert files_of(root) == before                                   # no run folder, no table, no notebook


def test_make_external_dry_run_prints_the_llm_judges_cost_and_writes_nothing(project, tmp_path):
    root, env = project
    labelled = tmp_path / "mine.csv"
    pd.DataFrame({"prompt": ["how do I x", "tell me y", "write z"], "answer": ["no.", "sure: ...", "a poem"],
                  "rater_1": [0, 1, 0], "rater_2": [0, 1, 1]}).to_csv(labelled, index=False)
    before = files_of(root)
    with FakeOpenAIServer() as server:
        done = make(root, env, "external", f"SET={labelled}", "REQUEST=prompt", "RESPONSE=answer",
                    "HUMAN=rater_1 rater_2", "SCALE=binary", "JUDGE=openai/gpt-4o-mini openai/harmstudy-no-such-model",
                    f"API_BASE={server.api_base}", "DRY_RUN=1")
        assert sum(server.requests.values()) == 0
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "pointwise-openai-gpt-4o-mini-binary-mine: 3 calls to openai/gpt-4o-mini (0 of 3" in out
    assert "output ~3 tokens (1 per call" in out and "$0.15 / $0.6 per million" in out
    assert "3 calls to openai/harmstudy-no-such-model" in out and "dollars: price unknown" in out
    assert "make external: DRY_RUN=1: no call was made and nothing was written" in out
    assert files_of(root) == before and not (root / "build").exists()
