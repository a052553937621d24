"""A reader's view of generated responses: length, echoed prompt, repetition, refusal markers."""
from __future__ import annotations

import pandas as pd

from harmstudy.data.release import normalize_prompt
from harmstudy.parse.refusal import REFUSAL



def repetition_rate(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier n-gram of the same response (0 = none)."""
    words = text.lower().split()
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def echoes_prompt(prompt: str, response: str) -> bool:
    """The response repeats the prompt (normalized) somewhere in it."""
    p = normalize_prompt(prompt)
    return bool(p) and p in normalize_prompt(response)


def describe_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """Per response: words, echo, repetition, refusal marker."""
    out = responses.copy()
    out["words"] = out["response"].str.split().str.len().fillna(0).astype(int)
    out["echo"] = [echoes_prompt(p, r) for p, r in zip(out["prompt"], out["response"])]
    out["repetition"] = out["response"].map(repetition_rate)
    out["refusal_marker"] = out["response"].str.contains(REFUSAL)
    out["empty"] = out["response"].str.strip() == ""
    return out


def summarize_by_model(described: pd.DataFrame) -> pd.DataFrame:
    """``elicit_summary.csv``: per model, responses, mean words, tokens/s and marker rates."""
    g = described.groupby("model", sort=False)
    return pd.DataFrame({
        "responses": g.size(),
        "mean_words": g["words"].mean(),
        "tokens_per_s": g["tokens_out"].sum() / g["seconds"].sum(),
        "hit_max_tokens": g["finish_reason"].apply(lambda s: (s == "length").mean()),
        "echo_rate": g["echo"].mean(),
        "mean_repetition": g["repetition"].mean(),
        "refusal_marker_rate": g["refusal_marker"].mean(),
        "empty_rate": g["empty"].mean(),
    }).reset_index()


def side_by_side(responses: pd.DataFrame, n: int = 5, width: int = 300) -> pd.DataFrame:
    """The first ``n`` prompts with each model's response in its own column (truncated to ``width``)."""
    wide = responses.pivot_table(index=["prompt_id", "prompt"], columns="model", values="response",
                                 aggfunc="first").reset_index()
    wide = wide.head(n)
    for col in wide.columns[2:]:
        wide[col] = wide[col].fillna("").str.slice(0, width)
    return wide.drop(columns="prompt_id")
