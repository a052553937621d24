"""Elicitation: harmful prompts answered by small models, every response kept with its provenance.

Records go to ``data/runs/<run>/responses.jsonl`` (one line per prompt x model, append-only, flushed), so
a killed run resumes where it stopped.  ``manifest.json`` beside it holds the models (file, sha256),
every parameter, package versions, git state and CPU count.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import pandas as pd

from harmstudy import provenance
from harmstudy.data.targets import ELICITATION_KIND as KIND  # noqa: F401
from harmstudy.data.targets import RESPONSES, load_responses
from harmstudy.models.chat import ChatPrompt
from harmstudy.models.registry import REGISTRY, default_threads, load_llama, resolve_model
from harmstudy.progress import Progress
from harmstudy.runs import Run, RunMismatchError  # noqa: F401  (RunMismatchError: part of this API)

#: Base (completion-mode) models see the prompt as plain text followed by a newline, as in the paper.
COMPLETION_TEMPLATE = "{prompt}\n"


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 96
    temperature: float = 0.7
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    seed: int = 2025


# ------------------------------------------------------------------------------------------ generators
class LlamaGenerator:
    """A registry model (or .gguf path) run in-process by llama-cpp-python, loaded once."""

    def __init__(self, name: str, *, n_threads: int | None = None, seed: int = 0, n_ctx: int | None = None,
                 prompt_mode: str | None = None):
        self.llm, self.spec, self.path, self.sha256 = load_llama(name, n_threads=n_threads, seed=seed,
                                                                 n_ctx=n_ctx)
        self.name = name if name in REGISTRY else self.spec.name
        self.prompt_mode = prompt_mode or self.spec.prompt_mode
        if self.prompt_mode == "chat" and not self.llm.metadata.get("tokenizer.chat_template"):
            self.prompt_mode = "completion"            # a GGUF without a chat template is a base model
        self.chat = ChatPrompt(self.llm)               # the chat template, compiled once per model

    def render(self, prompt: str) -> tuple[str, list[str]]:
        """The exact text fed to the model and its stop strings."""
        if self.prompt_mode == "completion":
            return COMPLETION_TEMPLATE.format(prompt=prompt), []
        return self.chat.render([{"role": "user", "content": prompt}])

    def tokens(self, text: str) -> list[int]:
        return self.chat.tokens(text)

    def generate(self, prompt: str, params: GenerationParams) -> dict:
        text, stop = self.render(prompt)
        tokens = self.tokens(text)
        self.llm.reset()                    # same output whatever was generated before (resume = rerun)
        out = self.llm.create_completion(tokens, max_tokens=params.max_tokens, temperature=params.temperature,
                                         top_p=params.top_p, repeat_penalty=params.repeat_penalty,
                                         seed=params.seed, stop=stop)
        choice = out["choices"][0]
        return {"response": choice["text"], "finish_reason": choice["finish_reason"],
                "tokens_in": out["usage"]["prompt_tokens"], "tokens_out": out["usage"]["completion_tokens"]}

    def describe(self) -> dict:
        return {"name": self.name, "kind": "llama.cpp", "source": self.spec.source,
                "file": provenance.portable_path(self.path), "sha256": self.sha256,
                "prompt_mode": self.prompt_mode, "family": self.spec.family, "license": self.spec.license}

    def close(self) -> None:
        self.llm.close()


class LiteLLMGenerator:
    """A model behind LiteLLM (e.g. ``openai/<name>`` with ``api_base`` of a vLLM or llama.cpp server)."""

    def __init__(self, model: str, *, api_base: str | None = None, timeout: float = 600):
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        self.name, self.api_base, self.timeout = model, api_base, timeout
        self.prompt_mode = "chat"

    def render(self, prompt: str) -> tuple[str, list[str]]:
        return prompt, []

    def generate(self, prompt: str, params: GenerationParams) -> dict:
        import litellm

        resp = litellm.completion(model=self.name, api_base=self.api_base, timeout=self.timeout,
                                  messages=[{"role": "user", "content": prompt}], max_tokens=params.max_tokens,
                                  temperature=params.temperature, top_p=params.top_p, seed=params.seed,
                                  num_retries=3)
        choice = resp.choices[0]
        return {"response": choice.message.content or "", "finish_reason": choice.finish_reason,
                "tokens_in": resp.usage.prompt_tokens, "tokens_out": resp.usage.completion_tokens}

    def describe(self) -> dict:
        return {"name": self.name, "kind": "litellm", "api_base": self.api_base, "prompt_mode": "chat"}

    def close(self) -> None:
        pass


def is_litellm_model(name: str) -> bool:
    """Registry names and .gguf paths run in-process; other ``provider/model`` strings go to LiteLLM."""
    return name not in REGISTRY and not name.endswith(".gguf") and "/" in name


def model_name(model: str) -> str:
    """The name a model's records carry: registry name, LiteLLM string, or a .gguf file's stem (no path)."""
    if model in REGISTRY or is_litellm_model(model):
        return model
    return resolve_model(model).name


def make_generator(name: str, *, n_threads: int | None, seed: int, api_base: str | None = None):
    if is_litellm_model(name):
        return LiteLLMGenerator(name, api_base=api_base)
    return LlamaGenerator(name, n_threads=n_threads, seed=seed)


# ---------------------------------------------------------------------------------------------- runs


def run_elicitation(models: list[str], prompts: pd.DataFrame, *, run: str, params: GenerationParams,
                    prompt_set: dict | None = None, n_threads: int | None = None, api_base: str | None = None,
                    progress: bool = True) -> pd.DataFrame:
    """Answer every prompt with every model; skip what the run already holds; return all records."""
    folder = Run(run, KIND)
    settings = {"generation": asdict(params), "prompt_set": prompt_set or {}}
    folder.guard(settings)
    old = folder.manifest()
    names = {m: model_name(m) for m in models}
    model_info = {m["name"]: m for m in old.get("models", [])}

    def write_manifest():
        folder.write_manifest({
            **settings, "models": [model_info[n] for n in names.values() if n in model_info],
            "n_prompts": len(prompts), "threads": n_threads or default_threads(),
            "updated": datetime.now(timezone.utc).strftime("%Y-%m-%d")})

    with folder.record_writer(RESPONSES) as writer:      # repairs a torn last line before resuming
        done = {(r["prompt_id"], r["model"]) for r in folder.records(RESPONSES)}
        todo = {m: [p for p in prompts.itertuples() if (p.prompt_id, names[m]) not in done] for m in models}
        n_todo = sum(len(v) for v in todo.values())
        with Progress(n_todo, f"elicit {run}", unit="resp", enabled=progress) as bar:
            for model in models:
                name = names[model]
                if not todo[model] and name in model_info:
                    continue
                gen = make_generator(model, n_threads=n_threads, seed=params.seed, api_base=api_base)
                model_info[name] = gen.describe()
                write_manifest()
                try:
                    for p in todo[model]:
                        start = time.perf_counter()
                        out = gen.generate(p.prompt, params)
                        writer.write({"prompt_id": p.prompt_id, "prompt": p.prompt, "category": p.category,
                                      "model": name, **out, "seconds": round(time.perf_counter() - start, 3)})
                        bar.update(1, model=name)
                finally:
                    gen.close()
    if n_todo or not old:     # a run with nothing left to do leaves its files untouched
        write_manifest()
    return load_responses(run)
