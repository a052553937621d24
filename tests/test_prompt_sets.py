"""Prompt sets: the paper's prompts, and local files loaded through `datasets` like hub datasets."""
import json

import pandas as pd
import pytest

from harmstudy.data.prompt_sets import PromptSetError, load_prompt_set


def test_paper_prompts_are_the_distinct_prompts_of_the_release():
    prompts = load_prompt_set()
    assert len(prompts) == 1012 and prompts["prompt_id"].is_unique
    sample = load_prompt_set(n_prompts=20, seed=3)
    assert len(sample) == 20 and sample.equals(load_prompt_set(n_prompts=20, seed=3))
    assert set(load_prompt_set(n_prompts=10, seed=3)["prompt_id"]) <= set(load_prompt_set(n_prompts=30, seed=3)["prompt_id"])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_local_files_load_through_datasets_with_stratified_sampling(tmp_path, suffix):
    rows = [{"question": f"how do I do bad thing {i}?", "topic": "violence" if i < 30 else "privacy"} for i in range(40)]
    rows.append({"question": "   ", "topic": "privacy"})                 # blank prompts are dropped
    path = tmp_path / f"prompts{suffix}"
    frame = pd.DataFrame(rows)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    else:
        frame.to_parquet(path)
    everything = load_prompt_set(str(path), text_column="question", category_column="topic")
    assert len(everything) == 40 and list(everything.columns) == ["prompt_id", "prompt", "category"]
    strat = load_prompt_set(str(path), text_column="question", category_column="topic", n_prompts=8, seed=1,
                            stratify=True)
    assert strat["category"].value_counts().to_dict() == {"violence": 6, "privacy": 2}


def test_wrong_column_names_the_columns_there_are(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"text": ["a"]}).to_csv(path, index=False)
    with pytest.raises(PromptSetError, match=r"no column 'prompt'; columns are \['text'\]"):
        load_prompt_set(str(path))
    with pytest.raises(PromptSetError, match="does not exist"):
        load_prompt_set(str(tmp_path / "missing.csv"))
