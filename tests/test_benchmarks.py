"""Every benchmark `make bench` runs, at its smallest size: it runs to the end and prints its result lines
(`name: ratio=…` or `name: seconds`), so a renamed keyword or a moved function fails here, not in a
benchmark run weeks later. What they measure is not checked (speed is for `make bench`, not for tests)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = sorted(p.name for p in (REPO / "benchmarks").glob("bench_*.py"))
TOY = "figures/tables/rankings_long.csv"            # one table of notebook 00: the cheapest make target
SMALLEST = {
    "bench_elicit.py": (["--prompts", "1", "--max-tokens", "4", "--rounds", "4"], ["elicit_overhead", "elicit_overhead_per_token"]),
    "bench_embed.py": (["--texts", "1", "--rounds", "1"], ["embed_overhead"]),
    "bench_external.py": (["--rows", "60", "--n-boot", "20"], ["external_set_seconds"]),
    "bench_heatmap.py": (["--panels", "2", "--rounds", "1"], ["heatmap", "heatmap_seconds"]),
    "bench_learned_solver.py": (["--sheets", "3", "--rounds", "1"], ["learned_solver", "learned_solver_alpha_gap"]),
    "bench_external_llm.py": (["--rows", "2", "--chars", "100", "--rounds", "1"], ["external_llm_overhead"]),
    "bench_judge.py": (["--items", "4", "--latency", "0.01", "--local-items", "1", "--rounds", "1", "--chars", "200"],
                       ["judge_concurrency", "judge_overhead"]),
    "bench_pointwise.py": (["--triples", "1", "--rounds", "1"], ["pointwise_prefix_reuse"]),
    "bench_rebuild.py": (["--target", TOY], ["rebuild_parallel"]),
    "bench_student_path.py": (["--target", "build/variants/n-boot-20/tables/rankings_long.csv", "N_BOOT=20"],
                              ["student_path"]),
}


def test_every_benchmark_has_a_smallest_size():
    assert set(BENCHMARKS) == set(SMALLEST)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_a_benchmark_at_its_smallest_size_prints_its_result_lines(name):
    args, lines = SMALLEST[name]
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for line in lines:
        assert re.search(rf"^{line}: \S", result.stdout, re.M), (line, result.stdout[-2000:])
