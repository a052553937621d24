"""Judging: prompts, calls through LiteLLM with a cache, judging runs, and views of their answers."""
