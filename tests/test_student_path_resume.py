"""A judging run stopped part-way through make resumes without repeating a call, and make deletes nothing it
had started to rewrite (the student path, in a copy of the project that is a git checkout)."""
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from project_copy import printed_runs, project_copy, tracked_changes

pytestmark = pytest.mark.slow
SMOL = "llamacpp/smollm2-135m-instruct"


def cache_rows(path: Path) -> dict:
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return dict(db.execute("SELECT key, latency FROM calls").fetchall())
        except sqlite3.OperationalError:          # the table is not there yet
            return {}



def test_a_judging_run_stopped_part_way_resumes_without_repeating_a_call(tmp_path):
    root, env = project_copy(tmp_path, git=True)
    params = [f"JUDGE={SMOL}", "N_ITEMS=8"]
    run = printed_runs(root, env, *params)["judge (paper)"]
    cache = root / run / "judge_cache.sqlite"
    target = f"{run}/paper_rankings.csv"
    proc = subprocess.Popen(["make", "-C", str(root), target, *params], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while len(cache_rows(cache)) < 3:
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.time() < deadline, "no call was cached within 5 minutes"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)                       # as a timeout (or Ctrl-C) stops it
    proc.wait(timeout=60)
    stable = cache_rows(cache)
    for _ in range(30):                                       # the kernel notices its parent is gone
        time.sleep(1)
        now = cache_rows(cache)
        if now == stable:
            break
        stable = now
    assert 3 <= len(stable) < 8
    assert tracked_changes(root) == ""                        # make deleted nothing it had started on
    resumed = subprocess.run(["make", "-C", str(root), target, *params], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert f"02_judge: {run} exists" in resumed.stdout
    after = cache_rows(cache)
    assert len(after) == 8
    assert {k: after[k] for k in stable} == stable            # no recorded call was made again
    assert f"paper: run '{Path(run).name}': {8 - len(stable)} model calls, {len(stable)} from cache" in \
        (root / "build" / "variants").rglob("02_judge.ipynb").__next__().read_text()
    assert tracked_changes(root) == ""
