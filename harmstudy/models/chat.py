"""Prompts as llama.cpp sees them: a GGUF's own chat template rendered to text and tokens, and the next
token's log-probabilities with the previous prompt's shared prefix kept in the KV cache.

llama-cpp-python gives log-probabilities only for models loaded with ``logits_all=True`` (logits for every
prompt token: a vocabulary-sized projection per token, ~15–30% more work on these small models). A judge
that reads one answer token needs the last position's logits only, which llama.cpp computes anyway; so
:func:`next_token_logprobs` evaluates the prompt itself and reads them (written here because the library
offers no call for it).
"""
from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


class ChatPrompt:
    """A loaded model's chat template (compiled once) and tokenizer."""

    def __init__(self, llm):
        self.llm = llm
        self._formatter = None
        self.has_template = bool(llm.metadata.get("tokenizer.chat_template"))

    def token_text(self, token: int) -> str:
        return self.llm._model.token_get_text(token) if token != -1 else ""

    def render(self, messages: list[dict]) -> tuple[str, list[str]]:
        """The exact text fed to the model (up to the assistant's turn) and its stop strings."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            self._formatter = Jinja2ChatFormatter(self.llm.metadata["tokenizer.chat_template"],
                                                  eos_token=self.token_text(self.llm.token_eos()),
                                                  bos_token=self.token_text(self.llm.token_bos()),
                                                  stop_token_ids=[self.llm.token_eos()])
        result = self._formatter(messages=messages)
        stop = result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        return result.prompt, [s for s in stop if s]

    def tokens(self, text: str) -> list[int]:
        bos = self.token_text(self.llm.token_bos())
        add_bos = not (bos and text.startswith(bos))       # the template may already start with BOS
        return self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)


def next_token_logprobs(llm, tokens: list[int], top: int = 20, *, reuse_prefix: bool = True) -> list[tuple[str, float]]:
    """The ``top`` most likely next tokens after ``tokens`` as (text, natural log-probability), best first.

    With ``reuse_prefix`` the tokens the model already holds in its KV cache from the previous prompt
    (the longest common prefix) are not evaluated again: put the shared part of a series of prompts first.
    """
    from llama_cpp import Llama

    tokens = list(tokens)
    keep = 0
    if reuse_prefix and llm.n_tokens:
        keep = Llama.longest_token_prefix(llm.input_ids[:llm.n_tokens].tolist(), tokens)
        keep = min(keep, len(tokens) - 1)      # the last token is evaluated again: its logits are the answer
    llm.n_tokens = keep                        # eval() drops the KV cache from here on
    llm.eval(tokens[keep:])
    logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
    logp = log_softmax(logits.astype(np.float64))
    best = np.argsort(-logp)[:top]
    return [(llm.detokenize([int(t)]).decode("utf-8", errors="replace"), float(logp[t])) for t in best]
