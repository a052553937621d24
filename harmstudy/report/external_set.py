"""``make external``: a user's labelled set checked, then scored by notebook 07, its outputs replaced only
when the run succeeded.

The Makefile hands every value over through the environment (``HS_SET``, ``HS_HUMAN``, …, each set from
``$(value NAME)``, so a file name with quotes, spaces, ``$`` or backticks never meets a shell), and this
module passes them to papermill as a YAML file. In order:

1. **Checked before anything runs or is written** (:func:`harmstudy.report.labelled_set.read_set`, the
   checks :func:`harmstudy.score_set` runs on a file or a DataFrame, which notebook 07 calls): the file,
   its encoding and delimiter, the columns named, the scale, duplicates, the prompt. A problem is one line
   on stderr, naming the parameter that fixes it; the exit status is 2.
2. **The output folder** is ``build/external/<name>/``: ``OUT=<name>`` if given, else the file's stem as a
   slug and 8 hex digits of the resolved path's sha256 (:func:`output_name`), so ``...csv`` cannot climb
   out of ``build/external/`` and two files with one stem never share a folder.
3. **One run at a time per folder**: a second ``make external`` on the same folder waits for the first
   (a lock file), then reuses its cached answers instead of loading a model beside it.
4. **Nothing stale or half-written**: the notebook writes its tables, figures, MANIFEST and executed copy
   into a staging folder; only when it succeeded do they replace the folder's previous outputs. The judges'
   runs (``runs/``: answers, caches) live beside them and persist, so an interrupted run resumes. A failed
   run leaves the previous outputs as they were and a note, ``LAST_RUN_FAILED.txt``, saying so.
5. Every secret the run knows is redacted from the executed notebook (:mod:`harmstudy.secrets`; the
   tables are redacted as they are written).
"""
from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harmstudy import files, paths, secrets
from harmstudy.data import set_files
from harmstudy.data.set_files import slug, words
from harmstudy.report.labelled_set import output_name, read_set

NOTEBOOK = "07_labelled_set.ipynb"
FAILED_NOTE = "LAST_RUN_FAILED.txt"
LOCK = ".run.lock"
#: What is kept across runs in an output folder (never replaced by a run's staging folder).
PERSISTENT = {"runs", LOCK, FAILED_NOTE}


def arguments(argv=None) -> argparse.Namespace:
    env = os.environ.get
    ap = argparse.ArgumentParser(prog="make external", description=__doc__.split("\n\n")[0])
    for name, default, meaning in [
            ("set", "", "the labelled set (CSV, TSV, JSONL, Parquet)"), ("request", "", "the request column"),
            ("response", "", "the response column"), ("human", "", "the human label columns, space-separated"),
            ("scale", "binary", "binary, or the Likert levels"), ("category", "", "a column of categories"),
            ("verdicts", "", "verdict columns already in the file"), ("judge", "", "LLM judges (LiteLLM models)"),
            ("prompt", "", "a binary prompt of yours with {request} and {response}"),
            ("prompt_variant", "", "one of the study's binary prompts (harmstudy.judge.prompt.POINTWISE_VARIANTS)"),
            ("gate", "", "refusal: a refusal-marked response scores not harmful, with no model call"),
            ("temperature", "0", "the LLM judges' temperature"), ("compare", "", "the judge the others are compared with"),
            ("api_base", "", "an OpenAI-compatible server"), ("n_boot", "1000", "bootstrap resamples"),
            ("out", "", "the output folder's name under build/external/"), ("encoding", "", "the file's encoding"),
            ("sep", "", "the delimiter"), ("dedupe", "", "keep or drop repeated rows"),
            ("dry_run", "0", "1: print what the LLM judges' calls would cost, then stop (no call, nothing written)")]:
        ap.add_argument(f"--{name.replace('_', '-')}", default=env(f"HS_{name.upper()}", default) or default,
                        help=meaning)
    return ap.parse_args(argv)


def spec_of(args: argparse.Namespace) -> set_files.SetSpec:
    if not args.set:
        raise set_files.SetInputError('make external needs SET=<file> (CSV, TSV, JSONL or Parquet) and HUMAN="<column> ...", '
                                      'e.g. make external SET=mine.csv REQUEST=prompt RESPONSE=answer '
                                      'HUMAN="rater_1 rater_2" SCALE=binary')
    if not words(args.human):
        raise set_files.SetInputError('make external needs HUMAN="<column> ..." (the human label columns of the set)')
    path = Path(args.set).expanduser()
    prompt = str(Path(args.prompt).expanduser().resolve()) if args.prompt else ""
    return set_files.SetSpec(path=str(path.resolve()) if path.exists() else str(path), request=args.request,
                             response=args.response, human=words(args.human), scale=args.scale,
                             category=args.category, verdicts=words(args.verdicts), encoding=args.encoding,
                             sep=args.sep, dedupe=args.dedupe, prompt=prompt)


def check_options(args: argparse.Namespace, checked: set_files.CheckedSet | None = None) -> None:
    """GATE= and PROMPT_VARIANT= known (and, once the set is read, fitting it), or a one-line SetInputError."""
    from harmstudy.judge.pointwise import check_gate
    from harmstudy.judge.prompt import check_variant
    from harmstudy.sets import llm

    try:
        check_gate(args.gate, "GATE")
        check_variant(args.prompt_variant, "PROMPT_VARIANT")
        if checked is not None:
            llm.check_options(args.prompt_variant, args.gate, binary=checked.scale == "binary",
                              template=checked.prompt)
    except ValueError as exc:
        raise set_files.SetInputError(str(exc)) from None


def notebook_parameters(spec: set_files.SetSpec, checked: set_files.CheckedSet, args, staging: Path,
                        runs: Path, name: str) -> dict:
    try:
        temperature, n_boot = float(args.temperature or 0), int(args.n_boot)
    except ValueError:
        raise set_files.SetInputError(f"TEMPERATURE={args.temperature} / N_BOOT={args.n_boot}: "
                                      f"a number and a whole number") from None
    check_options(args, checked)
    return {"set_path": spec.path, "request": spec.request, "response": spec.response, "human": spec.human,
            "scale": checked.scale if checked.scale == "binary" else list(checked.scale),
            "category": spec.category, "verdicts": spec.verdicts, "n_boot": n_boot,
            "llm_judges": words(args.judge), "prompt_path": spec.prompt, "api_base": args.api_base,
            "prompt_variant": args.prompt_variant, "gate": args.gate,
            "llm_temperature": temperature, "compare_with": args.compare, "encoding": spec.encoding,
            "sep": spec.sep, "dedupe": spec.dedupe, "out_dir": str(staging), "runs_dir": str(runs),
            "name": slug(Path(spec.path).stem)}


def cost_lines(scores, checked: set_files.CheckedSet, params: dict, dry_run: bool = False) -> str:
    """What notebook 07's LLM judges will cost before their first call (:func:`harmstudy.sets.llm.llm_set_estimates`:
    calls, cached ones, tokens, dollars from LiteLLM's cost map), a note for a judge that cannot run (no
    provider, no key), and with ``dry_run`` the total and that nothing ran."""
    from harmstudy.judge import cost
    from harmstudy.judge.calls import MissingCredentialsError, UnknownJudgeError, check_judge
    from harmstudy.sets import llm

    judges, binary = params["llm_judges"], checked.scale == "binary"
    settings = llm.llm_settings(judges, params["api_base"], params["llm_temperature"])
    lines = [llm.local_judge_eta(s.judge, len(scores)) for s in settings if s.is_local]
    for s in settings:
        try:
            check_judge(s)
        except (UnknownJudgeError, MissingCredentialsError) as problem:
            lines.append(f"note: {problem}")
    estimates = llm.llm_set_estimates(scores, judges, binary=binary, template=checked.prompt,
                                      stem=params["name"], root=Path(params["runs_dir"]),
                                      api_base=params["api_base"], temperature=params["llm_temperature"],
                                      **llm.options_given(params["prompt_variant"], params["gate"]))
    lines += [str(e) for e in estimates]
    if dry_run:
        if estimates:
            lines.append(cost.total(estimates))
        elif not judges:
            lines.append('no LLM judge named (JUDGE="<LiteLLM model> ..."): the study\'s other judges make no API call')
        lines.append("DRY_RUN=1: no call was made and nothing was written; without DRY_RUN make external makes these calls")
    return "\n".join(f"make external: {line}" if not line.startswith(" ") else line for line in "\n".join(lines).splitlines())


class FolderLock:
    """An exclusive lock on an output folder, held for the whole run (a second run waits, then reuses)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.fh = open(folder / LOCK, "a")

    def __enter__(self):
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("make external: another run on this set is under way; waiting for it to end, then its "
                  "answers are reused", file=sys.stderr, flush=True)
            fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def replace_outputs(folder: Path, staging: Path) -> None:
    """The staging folder's files in place of the folder's previous outputs (its runs kept)."""
    for old in folder.iterdir():
        if old.name not in PERSISTENT and old != staging:
            shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    for new in staging.iterdir():
        os.replace(new, folder / new.name)
    staging.rmdir()
    (folder / FAILED_NOTE).unlink(missing_ok=True)


def redact_notebook(path: Path) -> None:
    if path.is_file() and secrets.known():
        files.write_bytes_atomic(path, secrets.redact_known(path.read_text(encoding="utf-8")).encode("utf-8"))


def run(argv=None) -> int:
    import yaml

    args = arguments(argv)
    try:
        check_options(args)             # GATE= and PROMPT_VARIANT= first: no file is read for a typo
        spec = spec_of(args)
        read = read_set(spec)           # the validator harmstudy.score_set runs too; every row readable
        checked, loaded = read.checked, read.loaded
        name = output_name(spec.path, args.out)
        folder = paths.EXTERNAL / name
        params = notebook_parameters(spec, checked, args, folder / "staging", folder / "runs", name)
        dry_run = args.dry_run not in ("", "0")
    except set_files.SetInputError as exc:
        print(f"make external: {exc}", file=sys.stderr)
        return 2
    for warning in checked.warnings:
        print(f"make external: warning: {warning}", file=sys.stderr)
    if params["llm_judges"] or dry_run:         # before the first call: what the LLM judges' calls cost
        print(cost_lines(loaded.scores, checked, params, dry_run=dry_run), flush=True)
    if dry_run:
        return 0
    shown = folder.relative_to(paths.ROOT) if folder.is_relative_to(paths.ROOT) else folder
    with FolderLock(folder):
        staging = folder / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        params["out_dir"] = str(staging)
        params_file = staging / ".parameters.yaml"
        params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        executed = staging / NOTEBOOK
        command = [sys.executable, "-m", "harmstudy.report.run_notebook", "--kernel", "harmstudy", "--cwd",
                   str(paths.ROOT / "notebooks"), "--progress-bar", "-f", str(params_file),
                   str(paths.ROOT / "notebooks" / NOTEBOOK), str(executed)]
        done = subprocess.run(command)
        params_file.unlink(missing_ok=True)
        redact_notebook(executed)
        if done.returncode != 0:
            failed = folder / f"failed-{NOTEBOOK}"
            if executed.is_file():
                os.replace(executed, failed)
            shutil.rmtree(staging, ignore_errors=True)
            kept = [p.name for p in folder.iterdir() if p.name not in PERSISTENT and p != failed]
            files.write_bytes_atomic(folder / FAILED_NOTE, (
                f"The run of {time.strftime('%Y-%m-%d %H:%M:%S')} failed (papermill exit {done.returncode}); "
                f"its executed notebook is {failed.name}. "
                + ("The other files here are the previous successful run's, untouched.\n" if kept else
                   "No earlier run succeeded: nothing else is here.\n")).encode())
            print(f"make external: notebook 07 failed (the error is above; the executed copy is {shown}/{failed.name}). "
                  f"{'The previous outputs in ' + str(shown) + '/ are kept.' if kept else 'Nothing was written.'}",
                  file=sys.stderr)
            return 1
        (folder / f"failed-{NOTEBOOK}").unlink(missing_ok=True)
        replace_outputs(folder, staging)
    print(f"tables and figures: {shown}/")
    return 0


if __name__ == "__main__":
    sys.exit(run())
