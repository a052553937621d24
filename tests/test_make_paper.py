"""`make paper` from the committed runs, in a copy of the project: nothing stale afterwards, no model call,
every committed table and the README come out byte-identical."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


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
    make = ["make", "-C", str(root)]
    result = subprocess.run([*make, "paper"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert subprocess.run([*make, "-q", "paper"], env=env).returncode == 0       # nothing stale
    tables = sorted(p.name for p in (REPO / "figures/tables").glob("*.csv"))
    assert len(tables) >= 25
    for name in tables:
        assert (root / "figures/tables" / name).read_bytes() == (REPO / "figures/tables" / name).read_bytes(), name
    assert (root / "README.md").read_bytes() == (REPO / "README.md").read_bytes()   # its numbers agree
    # the committed runs were reused as they are: no record, cache or manifest changed (no model call)
    for path in (REPO / "data" / "runs").rglob("*"):
        if path.is_file():
            assert (root / path.relative_to(REPO)).read_bytes() == path.read_bytes(), path.name
