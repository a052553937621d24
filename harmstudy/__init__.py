"""harmstudy: can large LLMs rank the harmfulness of smaller LLMs' outputs?

Rebuilds and extends Atil et al., "Can LLMs Rank the Harmfulness of Smaller LLMs? We are Not There Yet"
(WOAH 2025, arXiv 2502.05291). Notebooks narrate and plot; this package loads, prompts, judges, parses
and computes statistics.
"""
import os as _os

# LiteLLM must never fetch its price list from the network; this has to be set before it is imported.
_os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"

# In a notebook kernel that make started, hold the cores shared: a model run waits for this notebook to end,
# and this notebook waits at this import while a model runs (harmstudy.cores says why). Nothing otherwise.
from harmstudy import cores as _cores  # noqa: E402

_cores.share_if_notebook_of_make()

#: The paper's three small models, in the release's fixed column order (A, B, C).
PAPER_MODELS = ("mistral-7b", "mpt-7b", "stablelm-alpha-7b")
#: The paper's three judges as named in our tables.
PAPER_JUDGES = ("gpt-4o", "claude-sonnet", "llama")

# The public calls (harmstudy.exports: name -> module), each imported on first use: `import harmstudy` stays
# light (no pandas, scikit-learn or LiteLLM until one is called), and this package never imports a stage.
from harmstudy.exports import EXPORTS  # noqa: E402

__all__ = ["PAPER_JUDGES", "PAPER_MODELS", *EXPORTS]


def __getattr__(name: str):
    if name in EXPORTS:
        import importlib

        value = getattr(importlib.import_module(EXPORTS[name]), name)
        globals()[name] = value          # once imported, an ordinary attribute
        return value
    raise AttributeError(f"module 'harmstudy' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(EXPORTS))
