"""LLM judges, which call a model: settings, LiteLLM client and retries (``calls``), prompts (``prompt``), the
call cache (``cache``), listwise judging runs (``runs``), pointwise judging (``pointwise``), and views of their
answers (``views``). What they are applied to is chosen in :mod:`harmstudy.data.targets`."""
