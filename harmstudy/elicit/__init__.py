"""Elicitation: prompts answered by small models (``elicitation``), and a reader's view of the answers
(``response_stats``). The names a notebook needs are importable from here."""
from harmstudy.elicit.elicitation import (GenerationParams, LiteLLMGenerator, LlamaGenerator,  # noqa: F401
                                          load_responses, make_generator, model_name, run_elicitation)
