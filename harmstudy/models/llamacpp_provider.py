"""A LiteLLM custom provider that serves registry GGUF models in-process through llama-cpp-python.

``llamacpp/<registry name or .gguf path>`` then works anywhere a LiteLLM model string does, with no key
and no network.  One loaded model per name is kept for the whole process, so the judge prompt's shared
prefix stays in llama.cpp's KV cache from one item to the next.

``logprobs=True`` (with ``top_logprobs``) answers one token and returns the first token's top
log-probabilities in OpenAI's shape (``choices[0].logprobs.content[0].top_logprobs``), as an API model
that supports it does; a scoring judge reads them the same way from either.
"""
from __future__ import annotations

import os
import threading
import time

import litellm
from litellm import CustomLLM
from litellm.types.utils import ModelResponse

from harmstudy.models.registry import PROVIDER  # re-exported: llamacpp_provider.PROVIDER


class LlamaCppProvider(CustomLLM):
    def __init__(self):
        super().__init__()
        self._models: dict[tuple, object] = {}
        self._chat: dict[tuple, object] = {}
        self._lock = threading.Lock()          # llama.cpp contexts are not thread-safe
        self.n_threads: int | None = None      # None: registry.default_threads() at load time

    def model(self, name: str, n_ctx: int | None = None):
        """The loaded Llama for a registry name (loaded, verified once, then reused)."""
        from harmstudy.models.registry import load_llama

        key = (name, n_ctx)
        if key not in self._models:
            self._models[key] = load_llama(name, n_ctx=n_ctx, n_threads=self.n_threads)[0]
        return self._models[key]

    def completion(self, model: str, messages: list, api_base: str, custom_prompt_dict: dict,
                   model_response: ModelResponse, print_verbose, encoding, api_key, logging_obj,
                   optional_params: dict, *args, **kwargs) -> ModelResponse:
        from llama_cpp import LlamaGrammar

        name = model.split("/", 1)[1] if model.startswith(PROVIDER + "/") else model
        params = dict(optional_params or {})
        grammar = params.pop("grammar", None)
        n_ctx = params.pop("n_ctx", None)
        allowed = {"temperature", "top_p", "max_tokens", "seed", "stop", "repeat_penalty", "top_k"}
        call = {k: v for k, v in params.items() if k in allowed and v is not None}
        if params.get("logprobs"):
            return self._first_token(name, n_ctx, messages, int(params.get("top_logprobs") or 5), call)
        with self._lock:
            llm = self.model(name, n_ctx)
            out = llm.create_chat_completion(messages=messages,
                                             grammar=LlamaGrammar.from_string(grammar, verbose=False)
                                             if grammar else None, **call)
        response = ModelResponse(**out)
        response.model = f"{PROVIDER}/{name}"
        return response

    def _first_token(self, name: str, n_ctx, messages: list, top: int, call: dict) -> ModelResponse:
        """The most likely first token and the ``top`` first-token log-probabilities (greedy, one token)."""
        from harmstudy.models.chat import ChatPrompt, next_token_logprobs

        if call.get("max_tokens", 1) != 1:
            raise ValueError("llamacpp/ with logprobs answers one token (a score); pass max_tokens=1")
        with self._lock:
            llm = self.model(name, n_ctx)
            chat = self._chat.setdefault((name, n_ctx), ChatPrompt(llm))
            tokens = chat.tokens(chat.render(messages)[0])
            best = next_token_logprobs(llm, tokens, top)
        entries = [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8"))} for t, lp in best]
        choice = {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": best[0][0]},
                  "logprobs": {"content": [{**entries[0], "top_logprobs": entries}]}}
        return ModelResponse(id=f"llamacpp-{time.time_ns()}", created=int(time.time()), model=f"{PROVIDER}/{name}",
                             object="chat.completion", choices=[choice],
                             usage={"prompt_tokens": len(tokens), "completion_tokens": 1,
                                    "total_tokens": len(tokens) + 1})

    async def acompletion(self, *args, **kwargs) -> ModelResponse:
        import asyncio

        return await asyncio.to_thread(self.completion, *args, **kwargs)


_PROVIDER = LlamaCppProvider()


def register(n_threads: int | None = None) -> LlamaCppProvider:
    """Make ``llamacpp/<name>`` known to LiteLLM (idempotent)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if n_threads:
        _PROVIDER.n_threads = n_threads
    entries = [e for e in (litellm.custom_provider_map or []) if e.get("provider") != PROVIDER]
    litellm.custom_provider_map = entries + [{"provider": PROVIDER, "custom_handler": _PROVIDER}]
    litellm.suppress_debug_info = True
    try:
        from litellm.utils import custom_llm_setup
        custom_llm_setup()
    except ImportError:  # older LiteLLM registers on first call
        pass
    return _PROVIDER
