"""`make paper` from the committed runs, in a copy of the project: nothing stale afterwards, no model call,
every committed table comes out byte-identical (the agreement table: its estimates, n and coverage; its
CIs depend on the number of bootstrap resamples, fewer here), and the README's numbers agree."""
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
# Tables whose content does not depend on N_BOOT (the bootstrap CIs do, and the copy uses fewer resamples).
STABLE = ["rankings_long.csv", "prompts.csv", "anomalies.csv", "release_files.csv", "elicit_summary.csv",
          "small_model_harm.csv", "q1_friedman.csv", "q1_posthoc.csv", "judge_unscored.csv",
          "judge_slot_share_o3.csv", "judge_order_sensitivity_o3.csv", "new_small_model_harm.csv",
          "new_q1_friedman.csv", "new_judge_vs_judge.csv", "learned_judges.csv", "learned_refusals.csv",
          "judge_slot_share_elicit.csv"]


def test_make_paper_then_nothing_is_stale(tmp_path):
    if not list((REPO / "data" / "runs").glob("judge-*/paper_rankings.csv")):
        pytest.skip("the committed judging runs are not present")
    root = tmp_path / "project"
    root.mkdir()
    for name in ["Makefile", "pyproject.toml", "requirements.lock", "requirements-models.txt", "README.md"]:
        shutil.copy2(REPO / name, root / name)
    for name in ["notebooks", "data", "figures"]:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("models", "verified.json"))
    (root / ".venv").symlink_to(REPO / ".venv")
    (root / "harmstudy").symlink_to(REPO / "harmstudy")
    env = {**os.environ, "HARMSTUDY_ROOT": str(root), "HARMSTUDY_MODELS": str(REPO / "data" / "models")}
    # Every output older than its inputs, as after a fresh clone of old figures: all of it rebuilds.
    for out in (root / "figures").rglob("*"):
        os.utime(out, (1, 1))
    make = ["make", "-C", str(root), "N_BOOT=50"]
    result = subprocess.run([*make, "paper"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert subprocess.run([*make, "-q", "paper"], env=env).returncode == 0       # nothing stale
    for name in STABLE:
        assert (root / "figures/tables" / name).read_bytes() == (REPO / "figures/tables" / name).read_bytes(), name
    made, committed = (pd.read_csv(p / "figures/tables/judge_agreement.csv") for p in (root, REPO))
    columns = ["judge", "reference", "metric", "estimate", "n", "coverage"]
    pd.testing.assert_frame_equal(made[columns], committed[columns])
    assert (root / "README.md").read_bytes() == (REPO / "README.md").read_bytes()   # its numbers agree
    # the committed runs were reused as they are: no record, cache or manifest changed (no model call)
    for path in (REPO / "data" / "runs").rglob("*"):
        if path.is_file():
            assert (root / path.relative_to(REPO)).read_bytes() == path.read_bytes(), path.name
