"""The embedding store: one content-addressed folder per embedding model, shared by every run.

``data/embeddings/<model>-<first 12 hex of the model file's sha256>/`` holds shards (``*.npz``: text
sha256 -> vector and the seconds it took). A text is looked up by the model file's sha256 (the folder)
and its own sha256 (the key), so a vector is computed once for every run that needs it, and vectors of
another build of a model never mix with these.

Reading is the union of the shards. New vectors go to a **new** shard, named after the first text it
adds, so a shard once written is never rewritten by another run: a store to which nothing new is added
stays byte-identical, and a student's run adds untracked files beside the committed ones. The format
lives here, apart from the code that computes vectors, so that ``harmstudy.model_time`` can read
it without importing the judges.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from harmstudy import files, paths

SUFFIX = ".npz"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_dir(model_name: str, model_sha256: str) -> Path:
    """The store folder of one model file (not created)."""
    return paths.EMBEDDINGS / f"{model_name}-{model_sha256[:12]}"


def read_shard(path: Path) -> dict[str, tuple[np.ndarray, float]]:
    """text sha256 -> (vector, seconds it took to compute) of one shard."""
    path = Path(path)
    if not path.exists():
        return {}
    with np.load(path) as data:
        return {k: (v, float(t)) for k, v, t in zip(data["keys"].tolist(), data["vectors"], data["seconds"])}


def write_shard(path: Path, vectors: dict[str, tuple[np.ndarray, float]]) -> None:
    """One shard, written atomically (an interrupted run keeps its last complete shard)."""
    keys = sorted(vectors)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, keys=np.array(keys), vectors=np.stack([vectors[k][0] for k in keys]).astype(np.float32),
                        seconds=np.array([vectors[k][1] for k in keys], dtype=np.float32))
    files.write_bytes_atomic(Path(path), buffer.getvalue())


def shards(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob(f"*{SUFFIX}"))


def read_store(folder: Path) -> dict[str, tuple[np.ndarray, float]]:
    """Every vector of a store folder (the union of its shards; none if the folder does not exist)."""
    store: dict[str, tuple[np.ndarray, float]] = {}
    for shard in shards(folder):
        store.update(read_shard(shard))
    return store


def new_shard_path(folder: Path, first_key: str) -> Path:
    """Where a run's new vectors go: a shard named after the first text it adds."""
    return Path(folder) / f"added-{first_key[:16]}{SUFFIX}"


def recorded_seconds(folder: Path) -> float:
    """The model time a store records: the sum of its vectors' seconds."""
    return float(sum(seconds for _, seconds in read_store(folder).values()))
