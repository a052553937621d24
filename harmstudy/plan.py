"""The study's plan, in one place: from make's parameters to the run names, the variant and its folders, the
models elicited, and each notebook run's papermill parameters.

``make`` asks it once per invocation (``python3 harmstudy/plan.py NAME=value ...`` prints make assignments,
which the Makefile evaluates), and a notebook run outside make derives the same names from its own
parameters (``run = ""``: :func:`elicit_run`, :func:`learned_run`; a judging run's name:
:func:`harmstudy.judge.runs.default_run_name`, whose rule :func:`slug` shares). Standard library only: make
runs it with the system Python before the virtual environment exists.
"""
from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

#: make's parameters and their defaults: the defaults make the study's committed runs, figures and tables;
#: any other value makes a variant (its runs in their own folders, its outputs in build/variants/<variant>/).
DEFAULTS = {
    "JUDGE": "llamacpp/qwen2.5-coder-1.5b-instruct",
    "API_BASE": "",
    "N_PROMPTS": "120",
    "N_ITEMS": "180",
    "N_BOOT": "1000",
    "POINTWISE_JUDGE": "llamacpp/qwen2.5-coder-0.5b-instruct",
    "POINTWISE_N_ITEMS": "85",
    "FEWSHOT_SHOTS": "4",
    "TEMPERATURE": "0",
    "ELICIT_MODELS": "smollm2-135m-instruct gemma3-270m qwen2.5-coder-0.5b-instruct",
}
#: What each parameter means and what changing it costs here (``make help`` prints it).
MEANINGS = {
    "JUDGE": "the listwise judge of the paper's and the new models' triples (a LiteLLM model string, or "
             "llamacpp/<embedded model>); an API judge costs what its provider charges, the embedded 1.5B "
             "~12 s per triple",
    "API_BASE": "an OpenAI-compatible server for JUDGE / POINTWISE_JUDGE (e.g. http://127.0.0.1:8000/v1)",
    "N_PROMPTS": "prompts the small models answer (~6 s per prompt for the three embedded models)",
    "N_ITEMS": "paper triples the listwise judge ranks: the expert's 85 first, then a sample stratified by "
               "sheet; 0 = all (~12 s per triple for the embedded 1.5B judge)",
    "N_BOOT": "bootstrap resamples behind every confidence interval (seconds per notebook, no model call)",
    "POINTWISE_JUDGE": "the judge that scores each response alone (~3.4 s per response for the embedded 0.5B)",
    "POINTWISE_N_ITEMS": "paper triples the pointwise judges score; 0 = all",
    "FEWSHOT_SHOTS": "labelled responses of another student sheet before each response (few-shot judge)",
    "TEMPERATURE": "JUDGE's sampling temperature (0: greedy); > 0 also asks 20 of the paper's triples again "
                   "with the next seed, its card's consistency (20 more calls); make external: its LLM judges'",
    "ELICIT_MODELS": "the small models that answer the prompts (embedded: smollm2-135m-instruct gemma3-270m "
                     "qwen2.5-coder-0.5b-instruct)",
}
#: The embedded judge shown each of 30 expert triples in 3 orders (its coverage and position bias), the
#: learned judges' embedding model, and the Likert judge of PyRIT's sets: fixed parts of the study.
ORDERS_RUN = "judge-qwen2.5-coder-1.5b-instruct-o3-paper-n30"
EMBEDDING_MODEL = "smollm2-135m-instruct"
LIKERT_RUN = "pointwise-qwen2.5-coder-0.5b-instruct-likert-pyrit"
STUDY_ELICIT_RUN = "elicit-default"
LOCAL_PREFIX = "llamacpp/"


def slug(text: str) -> str:
    """A folder-name part: ``llamacpp/Qwen2.5-Coder`` -> ``qwen2.5-coder``; anything but letters, digits and
    dots becomes one hyphen."""
    text = text[len(LOCAL_PREFIX):] if text.startswith(LOCAL_PREFIX) else text
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower()


def elicit_run(n_prompts: int, models: list[str]) -> str:
    """The elicitation run's name: ``elicit-default`` for the study's 120 prompts and three models."""
    default_models = DEFAULTS["ELICIT_MODELS"].split()
    if int(n_prompts) == int(DEFAULTS["N_PROMPTS"]) and list(models) == default_models:
        return STUDY_ELICIT_RUN
    return f"elicit-n{int(n_prompts)}" + ("" if list(models) == default_models else "-" + slug("-".join(models)))


def temperature_part(temperature) -> str:
    """A sampling judge's run-name part: ``-t0.7``; a greedy judge's (temperature 0) is empty."""
    return f"-t{float(temperature):g}" if float(temperature) > 0 else ""


def learned_run(elicit: str) -> str:
    """The learned judges' run: ``learned-judges`` beside the study's elicitation, else named after it."""
    return "learned-judges" + ("" if elicit in ("", STUDY_ELICIT_RUN) else f"-{elicit}")


def _n(value: str) -> int:
    return int(value)


def _temperature(value: str) -> float:
    try:
        t = float(value)
    except ValueError:
        raise ValueError(f"TEMPERATURE={value!r} is not a number: give one such as 0 or 0.7") from None
    if t < 0:
        raise ValueError(f"TEMPERATURE={value} is negative: give 0 (greedy) or more")
    return t


def plan(params: dict[str, str] | None = None) -> dict:
    """Everything make needs for these parameters (missing ones take their defaults)."""
    p = {**DEFAULTS, **{k: str(v) for k, v in (params or {}).items() if k in DEFAULTS}}
    p["TEMPERATURE"] = f"{_temperature(p['TEMPERATURE']):g}"      # 0, 0.0 and 0.00 are one setting
    unknown = sorted(set(params or {}) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; make's parameters are {sorted(DEFAULTS)}")
    changed = [k for k in DEFAULTS if p[k].split() != DEFAULTS[k].split()]
    variant = slug(" ".join(f"{k}={p[k]}" for k in changed)) if changed else ""
    out = f"build/variants/{variant}" if variant else "figures"
    models = p["ELICIT_MODELS"].split()
    elicit = elicit_run(_n(p["N_PROMPTS"]), models)
    judge = slug(p["JUDGE"])
    t = temperature_part(p["TEMPERATURE"])
    pointwise = slug(p["POINTWISE_JUDGE"])
    n_items, pw_items = _n(p["N_ITEMS"]), _n(p["POINTWISE_N_ITEMS"])
    runs = {
        "ELICIT_RUN": elicit,
        "JUDGE_PAPER_RUN": f"judge-{judge}{t}-paper-n{n_items}",
        # New small models are judged position-balanced: each triple in 3 display orders, aggregated.
        "JUDGE_ELICIT_RUN": f"judge-{judge}-o3{t}-{elicit}-nall",
        "JUDGE_ORDERS_RUN": ORDERS_RUN,
        "POINTWISE_RUN": f"pointwise-{pointwise}-paper-n{pw_items}",
        "FEWSHOT_RUN": f"pointwise-{pointwise}-fewshot{_n(p['FEWSHOT_SHOTS'])}-paper-n{pw_items}",
        "LEARNED_RUN": learned_run(elicit),
        "LIKERT_RUN": LIKERT_RUN,
    }
    api = {"api_base": p["API_BASE"]} if p["API_BASE"] else {}
    # A server serves a LiteLLM judge, not an embedded one: an embedded judge's run is the same run whatever
    # API_BASE says (and its guard would refuse a run made without it).
    judge_api = {} if p["JUDGE"].startswith(LOCAL_PREFIX) else api
    pointwise_api = {} if p["POINTWISE_JUDGE"].startswith(LOCAL_PREFIX) else api
    sampling = {"temperature": float(p["TEMPERATURE"])} if t else {}
    n_boot = _n(p["N_BOOT"])
    paper_runs = [runs[k] for k in ("JUDGE_PAPER_RUN", "JUDGE_ORDERS_RUN", "POINTWISE_RUN", "FEWSHOT_RUN",
                                    "LEARNED_RUN")]
    notebooks = {
        "00": {},
        "01": {"n_prompts": _n(p["N_PROMPTS"]), "models": models, "run": elicit, **api},
        "02": {"judge": p["JUDGE"], "n_items": n_items, "targets": ["paper"], "run": runs["JUDGE_PAPER_RUN"],
               **sampling, **judge_api},
        "02E": {"judge": p["JUDGE"], "targets": [f"elicit:{elicit}"], "orders": 3, "table_suffix": "_elicit",
                "run": runs["JUDGE_ELICIT_RUN"], **sampling, **judge_api},
        "02O": {"targets": ["paper"], "n_items": 30, "orders": 3, "table_suffix": "_o3", "run": ORDERS_RUN},
        "02P": {"judge": p["POINTWISE_JUDGE"], "n_items": pw_items, "run": runs["POINTWISE_RUN"], **pointwise_api},
        "02F": {"judge": p["POINTWISE_JUDGE"], "n_items": pw_items, "shots": _n(p["FEWSHOT_SHOTS"]),
                "run": runs["FEWSHOT_RUN"], "table_suffix": "_fewshot", **pointwise_api},
        "03": {"elicit_run": elicit, "run": runs["LEARNED_RUN"], "embedding_model": EMBEDDING_MODEL},
        "03C": {"embedding_model": EMBEDDING_MODEL},
        "04": {"n_boot": n_boot, "judge_runs": paper_runs},
        "05": {"elicit_run": elicit, "judge_runs": [runs["JUDGE_ELICIT_RUN"], runs["LEARNED_RUN"]]},
        "06": {"n_boot": n_boot},
        "08": {"n_boot": n_boot, "learned_run": runs["LEARNED_RUN"]},
    }
    return {"params": p, "changed": changed, "variant": variant, "out": out,
            "notebook_out": f"{out}/notebooks" if variant else "build/notebooks", "runs": runs,
            "embedding_model": EMBEDDING_MODEL, "notebooks": notebooks}


def papermill_args(parameters: dict) -> str:
    """papermill's ``-y`` option carrying every parameter (JSON is YAML), quoted for the shell."""
    if not parameters:
        return ""
    text = json.dumps(parameters, separators=(", ", ": "))
    if "'" in text:
        raise ValueError(f"a parameter value holds a single quote, which the shell line cannot carry: {text}")
    return f"-y '{text}'"


SEPARATOR = "|||"


PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def _module_file(name: str) -> Path | None:
    """The file of a harmstudy module (``harmstudy.a.b``), or None where there is none."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


#: ``import harmstudy.a`` / ``from harmstudy.a import b, c`` (a parenthesised list may span lines), anywhere in
#: a file: indented (a function's lazy import) too. Read with a pattern rather than parsed with ``ast``:
#: parsing every module took 0.25 s of each make invocation's 0.29 s. A docstring that spells an import
#: only adds a dependency (a notebook reruns once more than it must), never drops one.
_IMPORT = re.compile(r"^[ \t]*(?:import[ \t]+(?P<plain>harmstudy[\w.]*)"
                     r"|from[ \t]+(?P<module>harmstudy[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n]*))", re.M)


#: A public call used as ``harmstudy.<name>`` (``harmstudy.score_set(...)``) in a notebook: its module is
#: imported then. Not looked for in the package's own modules, whose docstrings name the calls.
_EXPORTED = re.compile(r"\bharmstudy\.(\w+)\b")


@functools.lru_cache(maxsize=None)
def _exports() -> dict[str, str]:
    """:data:`harmstudy.exports.EXPORTS`; read from its file where this runs as make's script (system Python,
    where ``harmstudy`` is not importable)."""
    try:
        from harmstudy.exports import EXPORTS
    except ModuleNotFoundError:
        import runpy

        EXPORTS = runpy.run_path(str(PACKAGE / "exports.py"))["EXPORTS"]
    return EXPORTS


def _imported(source: str, used: bool = False) -> set[str]:
    """The harmstudy modules a file's source imports, anywhere in it (a function's lazy import counts too):
    ``from harmstudy.a import b`` names ``harmstudy.a`` and, where ``b`` is a module, ``harmstudy.a.b``; a
    public call (:data:`harmstudy.exports.EXPORTS`) imported by name (``from harmstudy import score_set``),
    or with ``used`` called as ``harmstudy.score_set``, names the module that defines it."""
    EXPORTS = _exports()
    names = {EXPORTS[m[1]] for m in _EXPORTED.finditer(source) if m[1] in EXPORTS} if used else set()
    for m in _IMPORT.finditer(source):
        if m["plain"]:
            names.add(m["plain"])
            continue
        names.add(m["module"])
        listed = re.sub(r"#[^\n]*", "", m["names"]).strip("()")
        for part in listed.replace("\\\n", " ").split(","):
            name = part.split(" as ")[0].strip()
            if name.isidentifier() and _module_file(f"{m['module']}.{name}"):
                names.add(f"{m['module']}.{name}")
            elif m["module"] == "harmstudy" and name in EXPORTS:
                names.add(EXPORTS[name])
    # importing a.b.c runs the packages a and a.b first
    return {".".join(n.split(".")[:k]) for n in names for k in range(1, len(n.split(".")) + 1)}


@functools.lru_cache(maxsize=None)
def _file_imports(path: Path) -> frozenset[str]:
    """:func:`_imported` of a module file, read once per make invocation."""
    return frozenset(_imported(path.read_text(encoding="utf-8")))


def package_files(sources: list[str]) -> list[str]:
    """Every file of the package the given Python sources import, directly or through each other (the
    closure of :func:`_imported`), as paths relative to the repository: what a notebook run depends on."""
    todo = set().union(*(_imported(src, used=True) for src in sources)) if sources else set()
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        todo |= _file_imports(path) - set(seen)
    return sorted(str(p.relative_to(PACKAGE.parent)) for p in seen.values())


def notebook_package_files(notebook: Path) -> list[str]:
    """The package files a notebook run depends on: what its code cells import, and what runs it
    (``harmstudy.report.run_notebook``). A change to any other module leaves its outputs fresh."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = ["\n".join(line for line in "".join(c["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"]
    return package_files(code + ["import harmstudy.report.run_notebook"])


#: What the virtual environment's install reads: its stamp holds their hash (:func:`install_hash`).
INSTALL_FILES = ("pyproject.toml", "requirements.lock", "requirements-models.txt")


def install_hash(root: Path = PACKAGE.parent) -> str:
    """sha256 over the install's files, each name and content: the venv's stamp holds it, and make installs
    again only when it differs (a touched but unchanged file, or ``make -B``, installs nothing)."""
    import hashlib

    digest = hashlib.sha256()
    for name in INSTALL_FILES:
        path = root / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"(missing)") + b"\0")
    return digest.hexdigest()


def make_assignments(params: dict[str, str]) -> str:
    """The plan as make assignments, one line each, joined by SEPARATOR (make's $(shell) folds newlines)."""
    planned = plan(params)
    lines = [f"{name} := {value}" for name, value in planned["params"].items()]
    lines += [f"JUDGE_SLUG := {slug(planned['params']['JUDGE'])}",
              f"POINTWISE_SLUG := {slug(planned['params']['POINTWISE_JUDGE'])}"]
    lines += [f"CHANGED := {' '.join(planned['changed'])}", f"VARIANT := {planned['variant']}",
             f"OUT := {planned['out']}", f"NB_OUT := {planned['notebook_out']}",
             f"EMBEDDING_MODEL := {planned['embedding_model']}"]
    lines += [f"{name} := {run}" for name, run in planned["runs"].items()]
    lines += [f"VENV_HASH := {install_hash()}"]
    lines += [f"ARGS_{nb} := {papermill_args(args)}" for nb, args in planned["notebooks"].items()]
    lines += [f"DEPS_{nb.stem} := {' '.join(notebook_package_files(nb))}"
              for nb in sorted((PACKAGE.parent / "notebooks").glob("*.ipynb"))]
    return SEPARATOR.join(lines)


def parameter_help() -> str:
    """``make help``'s list: each parameter, its default and what it means and costs."""
    return "\n".join(f"  {name:<18} {DEFAULTS[name] or '(empty)'}\n  {'':<18} {MEANINGS[name]}" for name in DEFAULTS)


if __name__ == "__main__":
    if sys.argv[1:] == ["--help"]:
        print(parameter_help())
        sys.exit()
    given = dict(arg.split("=", 1) for arg in sys.argv[1:])
    try:
        print(make_assignments(given))
    except ValueError as error:
        print(f"$(error harmstudy/plan.py: {error})")
