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
