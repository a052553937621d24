"""student_path: wall seconds of a student's first small run through make — ``make paper N_PROMPTS=4
N_ITEMS=6 JUDGE=llamacpp/smollm2-135m-instruct`` in a throw-away git copy of the project (its new runs: the
elicitation of 4 prompts by the 3 embedded models, SmolLM2 judging 6 paper triples and the 4 new triples in 3
orders, every table and figure into build/variants/) — and of the same command again (goal <= 90 s: nothing
is stale, no model is called), side by side in one run; and how many tracked files either changed (goal 0).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))          # test code, shared with the benchmarks
from project_copy import project_copy  # noqa: E402
from _study import timed_make  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("params", nargs="*", default=["N_PROMPTS=4", "N_ITEMS=6", "JUDGE=llamacpp/smollm2-135m-instruct"])
    ap.add_argument("--target", default="paper", help="what make builds (smallest: one table of notebook 00)")
    args = ap.parse_args()
    root, env = project_copy(Path(tempfile.mkdtemp(prefix="bench-student-")), git=True)
    seconds = [timed_make(root, env, args.target, *args.params) for _ in range(2)]
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.splitlines()
    shutil.rmtree(root.parent)
    print(f"# make {args.target} {' '.join(args.params)} in a fresh copy, {os.cpu_count()} cores")
    print(f"# first run {seconds[0]:.1f} s; the same command again {seconds[1]:.1f} s (goal <= 90 s); "
          f"tracked files changed: {len(changed)}")
    print(f"student_path: first={seconds[0]:.1f} repeat={seconds[1]:.1f} ratio={seconds[0] / seconds[1]:.1f}")


if __name__ == "__main__":
    main()
