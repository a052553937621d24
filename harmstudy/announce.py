"""What ``make`` prints before a notebook that may call a model (``python -m harmstudy.announce``): which run
it computes and how long that took when it was recorded, or that it resumes; before a run with an API judge,
its calls, tokens and dollars (``--cost``; ``make paper DRY_RUN=1``: ``--dry-run``); before the learned judges,
what their embedding store lacks. Also ``make print-model-time`` / ``make record-model-time``.

It sits above every stage (it reads the targets and the embedding store the learned judges use); nothing in
the package imports it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmstudy import embedding_store, model_time, paths
from harmstudy.runs import MANIFEST


def announce(notebook: str, run: str, n: int, unit: str, references: list[tuple[str, int]]) -> str:
    """The line ``make`` prints before a notebook that may call a model: whether its run is new (with an
    estimate scaled from the first recorded reference run, ``(run, its number of items)``: its folder, or
    where the folder is gone — a cold rebuild — the time ``model_time.MODEL_TIME`` keeps for it) or resumes."""
    folder = paths.RUNS / run
    if (folder / MANIFEST).exists() or any(folder.glob("*.jsonl")) or any(folder.glob("*.sqlite")):
        minutes = model_time.recorded_model_seconds(folder) / 60
        return (f"{notebook}: data/runs/{run} exists ({minutes:.1f} min of model time recorded): only what it "
                f"lacks is computed, nothing recorded is repeated")
    kept = pd.read_csv(model_time.MODEL_TIME).set_index("run")["seconds"] if model_time.MODEL_TIME.exists() else pd.Series(dtype=float)
    for ref, ref_n in references:
        seconds = model_time.recorded_model_seconds(paths.RUNS / ref) if (paths.RUNS / ref).is_dir() else float(kept.get(ref, 0.0))
        if seconds > 0 and ref_n > 0:
            return (f"{notebook}: data/runs/{run} is new — about {seconds * n / ref_n / 60:.1f} min here "
                    f"({ref}: {seconds / 60:.1f} min for {ref_n} {unit})")
    return f"{notebook}: data/runs/{run} is new — no recorded run to estimate its time from"


def notebook_judges(notebook: str) -> list[dict]:
    """The learned judges' specs as the notebook's parameters cell writes them (make does not override them):
    read with papermill's own parameter inspection, each default a Python literal."""
    import ast

    import papermill

    found = papermill.inspect_notebook(str(paths.ROOT / "notebooks" / f"{notebook}.ipynb"))
    return ast.literal_eval(found["judges"]["default"]) if "judges" in found else []


def notebook_parameters(notebook: str, given: dict) -> dict:
    """A notebook run's parameters: its parameters cell's defaults, with ``given`` (make's papermill
    parameters) over them. Read with ``ast``, not ``papermill.inspect_notebook``: a parameters cell holds
    literal assignments only (the project's rule), and importing papermill (nbformat, jsonschema and Jupyter's
    machinery with it) would be most of each estimate's start."""
    import ast
    import json

    cells = json.loads((paths.ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    [cell] = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    defaults = {node.targets[0].id: ast.literal_eval(node.value)
                for node in ast.parse("".join(cell["source"])).body if isinstance(node, ast.Assign)}
    return {**defaults, **given}


def notebook_estimates(notebook: str, given: dict) -> list:
    """What a judging notebook run with these parameters would cost before its first call
    (:mod:`harmstudy.judge.cost`): one estimate per run it makes with an API judge (an embedded judge
    costs time, not money: none), or a sentence where it cannot be counted yet (an elicitation run not made)."""
    from harmstudy.judge import pointwise, runs
    from harmstudy.judge.calls import JudgeSettings

    p = notebook_parameters(notebook, given)
    if notebook == "02_judge":
        settings = JudgeSettings(judge=p["judge"], api_base=p["api_base"] or None, orders=p["orders"],
                                 grammar=p["grammar"], structured=p["structured"], temperature=p["temperature"],
                                 top_p=p["top_p"], max_tokens=p["max_tokens"], seed=p["seed"])
        if settings.is_local:
            return []
        out = []
        for target in p["targets"]:
            try:
                out += runs.estimate_judging(settings, target=target, n_items=p["n_items"] or None,
                                             sample_seed=p["sample_seed"], max_response_chars=p["max_response_chars"],
                                             repeat_items=p["repeat_items"], run=p["run"] or None)
            except FileNotFoundError as missing:          # the elicitation run is made first (01)
                out.append(f"{target}: not counted yet: {missing}; make prints its estimate before it runs")
        return out
    if notebook == "02_pointwise_judge":
        settings = JudgeSettings(judge=p["judge"], api_base=p["api_base"] or None)
        if settings.is_local:
            return []
        common = dict(sample_seed=p["sample_seed"], max_response_chars=p["max_response_chars"], shots=p["shots"],
                      shot_chars=p["shot_chars"])
        out = [pointwise.estimate_pointwise(settings, n_items=p["n_items"] or None, threshold=p["threshold"],
                                            run=p["run"] or None, **common)]
        if p["elicit_run"]:          # its threshold comes from the paper's scores; the calls do not depend on it
            out.append(pointwise.estimate_pointwise(settings, target=f"elicit:{p['elicit_run']}", threshold=0.5, **common))
        return out
    raise ValueError(f"no cost estimate for notebook {notebook!r}: its judges are not API judges")


def announce_cost(runs: list[tuple[str, dict]], dry_run: bool = False) -> str:
    """The lines ``make`` prints before a notebook run with an API judge (``runs``: each notebook and its
    papermill parameters), and with ``dry_run`` (``make paper DRY_RUN=1``) the total and that nothing ran."""
    from harmstudy.judge import cost

    lines, estimates = [], []
    for notebook, given in runs:
        for e in notebook_estimates(notebook, given):
            lines.append(f"{notebook}: {e}")
            if not isinstance(e, str):
                estimates.append(e)
    from harmstudy.judge.calls import JudgeSettings, MissingCredentialsError, check_credentials

    for judge, api_base in dict.fromkeys((e.judge, e.api_base) for e in estimates if e.to_make):
        try:
            check_credentials(JudgeSettings(judge=judge, api_base=api_base))
        except MissingCredentialsError as missing:      # said now, not after the wait for the notebooks before it
            lines.append(f"note: {missing}")
    if dry_run:
        if estimates:
            lines.append(cost.total(estimates))
        elif not lines:
            lines.append("no notebook run calls an API judge (JUDGE and POINTWISE_JUDGE are embedded): no money to "
                         "spend; `make print-model-time` says how long a cold run takes")
        lines.append("DRY_RUN=1: no call was made and nothing was written; without DRY_RUN make paper makes these calls")
    return "\n".join(lines)


def announce_embeddings(notebook: str, model: str, elicit_run: str | None, judges: list[dict] | None = None) -> str:
    """The lines ``make`` prints before the learned judges: for every embedding store a judge reads (the
    run's ``model`` and any judge's own ``embedding`` list), how many of its texts the store lacks and what
    embedding them would take, and what a cold run of the store (every text embedded again) would take, at
    the store's recorded seconds per text. A store's texts: the release's responses, the elicitation run's
    (unless every judge reading it is ``paper_only``), and PyRIT's scored responses where a pooled judge reads it."""
    from harmstudy import PAPER_MODELS
    from harmstudy.data import targets
    from harmstudy.data.release import load_release
    from harmstudy.learn import embeddings
    from harmstudy.learn.judges import specs

    judges = specs(notebook_judges(notebook) if judges is None else judges)
    paper = targets.response_frame(load_release(), list(PAPER_MODELS))
    new = targets.elicitation_frame(elicit_run) if elicit_run else paper.iloc[:0]
    pyrit = targets.pyrit_frame()
    read_by: dict[str, list] = {}
    for j in judges:
        for m in j.stores(model):
            read_by.setdefault(m, []).append(j)
    lines = []
    for m, readers in read_by.items():
        rows = pd.concat([paper, *([new] if not all(j.paper_only for j in readers) else []),
                          *([pyrit] if any(j.pooling != "none" for j in readers) else [])], ignore_index=True)
        texts = list(dict.fromkeys(embeddings.embedding_text(p, r) for p, r in zip(rows["prompt"], rows["response"])))
        missing = embeddings.missing_texts(texts, m)
        folder = embeddings.model_store(m)
        where = f"data/embeddings/{folder.name} ({len(readers)} judge{'s' * (len(readers) > 1)})"
        store = embedding_store.read_store(folder)
        per_text = float(np.mean([s for _, s in store.values()])) if store else float("nan")
        cold = (f"a cold run: about {len(texts) * per_text / 60:.0f} min at its {per_text:.2f} s per text"
                if store else "no stored text to estimate the time from (~1 s per text here)")
        if not missing:
            lines.append(f"{notebook}: all {len(texts)} texts are in {where}: no model call ({cold})")
        else:
            eta = f"about {len(missing) * per_text / 60:.1f} min" if store else "time unknown"
            lines.append(f"{notebook}: {len(missing)} of {len(texts)} texts are not in {where} yet — {eta} ({cold})")
    return "\n".join(lines) if lines else f"{notebook}: no judge reads an embedding store"


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Model time the run folders and embedding stores record "
                                             "(default: all of them), or make's line before a model run.")
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--announce", metavar="NOTEBOOK", help="print the line for this notebook's run (--run)")
    ap.add_argument("--run", help="the run folder's name")
    ap.add_argument("--n", type=int, default=0, help="items the run computes")
    ap.add_argument("--unit", default="items")
    ap.add_argument("--ref", action="append", default=[], metavar="RUN:N",
                    help="a recorded run like it and its number of items (the first one present is used)")
    ap.add_argument("--embedding-model", help="with --announce: the learned judges' embedding model (--run: "
                                              "the elicitation run they score)")
    ap.add_argument("--cost", action="append", default=[], metavar="NOTEBOOK",
                    help="print what this judging notebook run's API calls cost (its parameters: the -y after it)")
    ap.add_argument("-y", dest="parameters", action="append", default=[], metavar="JSON",
                    help="with --cost: the run's papermill parameters (make's ARGS_<run>)")
    ap.add_argument("--dry-run", action="store_true", help="with --cost: also the total, and that no call was made")
    ap.add_argument("--record", action="store_true", help=f"also keep each folder's time in {model_time.MODEL_TIME.name}")
    args = ap.parse_args()
    if args.cost or args.dry_run:
        import json

        if len(args.cost) != len(args.parameters):
            ap.error("give each --cost NOTEBOOK its parameters: -y JSON")
        print(announce_cost([(nb, json.loads(y)) for nb, y in zip(args.cost, args.parameters)], dry_run=args.dry_run))
    elif args.announce and args.embedding_model:
        print(announce_embeddings(args.announce, args.embedding_model, args.run))
    elif args.announce:
        refs = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.ref]
        print(announce(args.announce, args.run, args.n, args.unit, refs))
    else:
        model_time.print_model_time(args.folders or model_time.recorded_folders(),
                                    record=model_time.MODEL_TIME if args.record else None)
