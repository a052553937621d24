"""external_set_seconds: wall seconds of ``make external`` on a 1,000-row binary set (TF-IDF-based judges
only: the paper-trained transfer judge and one learned within the set, out of fold by request; one verdict
column; 1,000 bootstrap resamples), run in a throw-away copy of the project — what a user who brings their
own labelled set waits. The judges-that-travel issue asks for <= 60 s on 2 cores.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))          # test code, shared with the benchmarks
from project_copy import project_copy  # noqa: E402
from _study import timed_make  # noqa: E402


def thousand_row_set(path: Path, rows: int = 1000) -> None:
    """``rows`` (1,000) of PyRIT's scored responses as a binary set: two 'raters' (the first two human scores, harmful
    at >= 0.5; the second falls back to the first where a file has one rater) and a verdict column."""
    from harmstudy.data import scored_responses

    s = scored_responses.load_pyrit().scores.sample(n=rows, random_state=0)
    a = (s["human_1"] >= 0.5).astype(int)
    b = (s["human_2"].fillna(s["human_1"]) >= 0.5).astype(int)
    rng = np.random.default_rng(0)
    pd.DataFrame({"request": s["request"], "response": s["response"], "rater_a": a, "rater_b": b,
                  "guard": np.where(rng.random(len(s)) < 0.8, a, 1 - a)}).to_csv(path, index=False)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    root, env = project_copy(Path(tempfile.mkdtemp(prefix="bench-external-")))
    data = root.parent / "bench_set.csv"
    thousand_row_set(data, args.rows)
    seconds = timed_make(root, env, "external", f"SET={data}", "HUMAN=rater_a rater_b", "SCALE=binary",
                         "VERDICTS=guard", f"N_BOOT={args.n_boot}")
    shutil.rmtree(root.parent)
    print(f"# make external on a {args.rows:,}-row binary set, {args.n_boot} resamples, TF-IDF judges, {os.cpu_count()} cores (goal <= 60 s)")
    print(f"external_set_seconds: {seconds:.1f}")


if __name__ == "__main__":
    main()
