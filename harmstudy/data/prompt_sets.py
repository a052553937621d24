"""Prompt sets: the paper's prompts, any CSV / JSONL / Parquet file, or a Hugging Face dataset.

Everything goes through ``datasets.load_dataset`` so local files and hub datasets behave the same.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmstudy.data.release import load_release, prompt_id

PAPER = "paper"
_FILE_BUILDERS = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


class PromptSetError(ValueError):
    pass


def paper_prompts() -> pd.DataFrame:
    """The paper's distinct prompts (one row per prompt id), in a stable order."""
    triples = load_release().triples
    out = triples.drop_duplicates("prompt_id")[["prompt_id", "prompt"]].copy()
    out["category"] = ""
    return out.sort_values("prompt_id").reset_index(drop=True)


def _load_with_datasets(source: str, split: str) -> pd.DataFrame:
    import datasets

    datasets.disable_progress_bars()
    suffix = Path(source).suffix.lower()
    if suffix in _FILE_BUILDERS:
        if not Path(source).exists():
            raise PromptSetError(f"prompt file {source} does not exist")
        kwargs = {"delimiter": "\t"} if suffix == ".tsv" else {}
        ds = datasets.load_dataset(_FILE_BUILDERS[suffix], data_files=str(source), split="train", **kwargs)
    else:
        try:
            ds = datasets.load_dataset(source, split=split)
        except Exception as exc:
            raise PromptSetError(f"could not load dataset {source!r} (split {split!r}): {exc}. Offline? "
                                 f"Download it once with network, or pass a local CSV/JSONL/Parquet file") from exc
    return ds.to_pandas()


def load_prompt_set(source: str = PAPER, *, split: str = "train", text_column: str = "prompt",
                    category_column: str | None = None, n_prompts: int | None = None, seed: int = 0,
                    stratify: bool = False) -> pd.DataFrame:
    """Columns ``prompt_id, prompt, category``; a seeded (optionally stratified) sample of ``n_prompts``."""
    if source == PAPER:
        frame = paper_prompts()
    else:
        raw = _load_with_datasets(source, split)
        if text_column not in raw.columns:
            raise PromptSetError(f"{source}: no column {text_column!r}; columns are {list(raw.columns)}. "
                                 f"Set text_column to the prompt column")
        frame = pd.DataFrame({"prompt": raw[text_column].astype(str)})
        if category_column:
            if category_column not in raw.columns:
                raise PromptSetError(f"{source}: no category column {category_column!r}")
            frame["category"] = raw[category_column].astype(str)
        else:
            frame["category"] = ""
        frame = frame[frame["prompt"].str.strip() != ""]
        frame.insert(0, "prompt_id", frame["prompt"].map(prompt_id))
        frame = frame.drop_duplicates("prompt_id").reset_index(drop=True)
    if n_prompts is None or n_prompts >= len(frame):
        return frame
    if stratify and frame["category"].nunique() > 1:
        share = n_prompts / len(frame)
        parts = [g.sample(n=max(1, round(len(g) * share)), random_state=seed)
                 for _, g in frame.groupby("category", sort=True)]
        sample = pd.concat(parts).sample(frac=1, random_state=seed).head(n_prompts)
    else:
        sample = frame.sample(n=n_prompts, random_state=seed)
    return sample.reset_index(drop=True)
