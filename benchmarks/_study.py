"""A throw-away study root for a benchmark: runs and caches land in a temporary folder, the release is linked."""
from __future__ import annotations

import os
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_throwaway_study(prefix: str) -> str:
    """Point HARMSTUDY_ROOT at a new temporary folder holding a link to the repository's release; call it
    before importing ``harmstudy``."""
    root = tempfile.mkdtemp(prefix=prefix)
    os.environ["HARMSTUDY_ROOT"] = root
    os.makedirs(os.path.join(root, "data"))
    os.symlink(os.path.join(REPO, "data", "llm-harm"), os.path.join(root, "data", "llm-harm"))
    return root


def timed_make(root, env, *args: str) -> float:
    """Wall seconds of ``make -C root <args>`` in a project copy (the copy's venv stamp taken as fresh);
    a failure stops the benchmark with make's last words."""
    import subprocess
    import time

    start = time.perf_counter()
    result = subprocess.run(["make", "-C", str(root), "-o", ".venv/.harmstudy-installed", *args], env=env,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"make {' '.join(args)} failed in {root}:\n{result.stderr[-3000:]}")
    return seconds
