"""The learned run, ``data/runs/learned-judges[-<elicit_run>]``: every learned judge of
:mod:`harmstudy.learn.judges` out of fold on the paper's triples and, fitted on every sheet, on an elicitation
run's; its features (TF-IDF and the embedding models' stores), its fingerprint, the files it writes and reads
back, and how its judges score refusals."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from harmstudy import PAPER_MODELS, plan
from harmstudy.data.release import Release, load_release
from harmstudy.kinds import JudgeKind
from harmstudy.data.targets import elicitation_frame, elicited_models, pyrit_frame, response_frame
from harmstudy.learn import embeddings
from harmstudy.learn.judges import (JudgeSpec, LearnedJudge, distilled_targets, fit_all, half_fits, out_of_fold,
                                    source_judge, specs, tfidf_features)
from harmstudy.parse.refusal import is_refusal
from harmstudy.runs import Computed, Run, Shared, content_fingerprint
from harmstudy.stats.scores import score_summary, to_rankings

KIND = "learned"          # the run's kind (its manifest's); its judges' is JudgeKind.LEARNED


@dataclass(frozen=True)
class Features:
    """:func:`paper_features`' result: the feature matrices (paper rows, other rows) per feature key, and
    what computing them cost."""

    matrices: dict[tuple[str, tuple[str, ...]], tuple]
    #: seconds the TF-IDF features took
    tfidf_seconds: float
    #: embedding model -> the seconds per text its store recorded for the texts embedded
    embed_seconds_per_text: dict[str, float]


def paper_features(frame: pd.DataFrame, others: pd.DataFrame, keys: dict, progress: bool = True) -> Features:
    """Feature matrices (paper rows, other rows) per feature key (:meth:`JudgeSpec.feature_key`: ``tfidf``,
    ``embed`` or ``tfidf+embed``, and the embedding models) and what computing them cost. Features are
    fitted on the paper's texts only and applied to the other ones: the paper's numbers do not depend on
    which small models an elicitation run holds. ``keys`` maps each key to how many of the other rows its
    judges read (the new rows come first, then a pooled judge's other source; 0: a judge of the paper's
    triples only), so an embedding model is asked only for the texts its judges read."""
    start = time.perf_counter()
    X_paper, X_others = tfidf_features(frame["response"], others["response"])
    tfidf_seconds, per_text = time.perf_counter() - start, {}
    blocks = {}                                # model -> its standardised vectors (paper rows, other rows)
    for model in dict.fromkeys(m for _, models in keys for m in models):
        rows = max(n for (_, models), n in keys.items() if model in models)
        both = pd.concat([frame, others.iloc[:rows]], ignore_index=True)
        texts = [embeddings.embedding_text(p, r) for p, r in zip(both["prompt"], both["response"])]
        E, per_text[model] = embeddings.embed_texts(texts, model=model, progress=progress)
        # Standardised by the paper's texts (no label is used), then scaled so that a row's norm is about 1,
        # as a TF-IDF row's is: beside TF-IDF (and another model's block), no block outweighs another by
        # its scale alone.
        mean, std = E[:len(frame)].mean(axis=0), E[:len(frame)].std(axis=0) + 1e-8
        E = (E - mean) / std / np.sqrt(E.shape[1])
        blocks[model] = (E[:len(frame)], E[len(frame):])
    features = {}
    for (kind, models), rows in keys.items():
        parts = ([(X_paper, X_others[:rows])] if "tfidf" in kind else []) + \
                [(sparse.csr_matrix(blocks[m][0]), sparse.csr_matrix(blocks[m][1][:rows])) for m in models]
        features[(kind, models)] = (parts[0] if kind == "tfidf" else
                                    tuple(sparse.hstack(side).tocsr() for side in zip(*parts)))
        if kind == "embed" and len(models) == 1:          # dense, as it always was
            features[(kind, models)] = (blocks[models[0]][0], blocks[models[0]][1][:rows])
    return Features(features, tfidf_seconds, per_text)


@dataclass(frozen=True)
class LearnedRun:
    """:func:`run_learned`'s result: what the run folder holds, as the tables read it."""

    run: str
    #: the paper's responses with the students' label (:func:`harmstudy.data.targets.response_frame`)
    frame: pd.DataFrame
    #: ``paper_scores.csv``: each judge's out-of-fold P and threshold per paper response
    scores: pd.DataFrame
    #: ``elicit_scores.csv``: each judge's P on the elicitation run's responses (empty without one)
    elicit_scores: pd.DataFrame
    #: ``learned_judges.csv``: one row per judge
    summary: pd.DataFrame
    #: the elicitation run's responses (empty without one)
    new: pd.DataFrame
    #: True: read back from the run folder (its fingerprint was this run's), nothing fitted
    reused: bool


@dataclass(frozen=True)
class _Inputs:
    """What a learned run learns from and scores (:func:`run_learned` gathers it, :func:`_compute` fits)."""

    judges: dict[str, JudgeSpec]
    keys: dict[str, tuple[str, tuple[str, ...]]]       # judge -> its feature key
    frame: pd.DataFrame                                # the paper's responses
    new: pd.DataFrame                                  # the elicitation run's
    pyrit: pd.DataFrame | None                         # a pooled judge's other source
    rel: Release
    models: list[str]
    elicit_models: list[str]
    run: str
    progress: bool


def run_learned(judges: list[dict | JudgeSpec], *, elicit_run: str | None, run: str, elicit_models: list[str] | None = None,
                rel: Release | None = None, embedding_model: str | None = None, progress: bool = True) -> LearnedRun:
    """Every learned judge, out of fold on the paper's triples and fitted on all sheets for the
    elicitation run. Writes (when their bytes change) ``paper_rankings.csv``, ``paper_scores.csv``,
    ``paper_halves.csv`` (:func:`half_fits`, judges not pooled), ``elicit_rankings.csv``, ``elicit_scores.csv``
    and ``manifest.json`` in ``data/runs/<run>``.

    ``judges``: the judges' specs (:class:`JudgeSpec`: features — TF-IDF of the response, mean-pooled
    embeddings of (prompt, response) from ``embedding_model``, kept in the model's shared store
    (:mod:`harmstudy.learn.embeddings`), or both —, targets, pooling, C).
    The run is stored by content, as every computed run is (:meth:`harmstudy.runs.Run.stored_or_computed`):
    while its fingerprint (:func:`fingerprint`: settings, data, every package file this module imports) is
    the manifest's, the files are read back instead of recomputed. The paper's side does not depend on the
    elicitation run: where another learned run holds it under the same paper fingerprint (the study's own,
    for a student's variant), it is copied from there and only the fits on every sheet for the new
    responses are computed (``paper_from`` in the manifest names that run). Each judge's seconds per triple
    are recorded when it is fitted and kept while its spec is the same.
    """
    rel = rel or load_release()
    models = list(PAPER_MODELS)
    frame = response_frame(rel, models)
    elicit_models = (elicit_models or elicited_models(elicit_run)) if elicit_run else []
    new = elicitation_frame(elicit_run, elicit_models) if elicit_run else frame.iloc[:0]
    judges = {j.name: j for j in specs(judges)}
    keys = {name: j.feature_key(embedding_model) for name, j in judges.items()}
    stores = list(dict.fromkeys(m for _, models in keys.values() for m in models))
    others = [m for m in stores if m != (embedding_model or stores[0])]
    folder = Run(run, KIND)
    settings = {"judges": {name: j.settings() for name, j in judges.items()}, "features": "tfidf (word 1-2 grams, min_df 2, sublinear tf)" + (
                    f"; embed: {embedding_model or stores[0]}, mean-pooled over 'Prompt: ... Response: ...' (first "
                    f"{embeddings.MAX_CHARS} characters), standardised / sqrt(dim)"
                    if stores else "")
                    + (f"; a judge's 'embedding' list: those models' vectors, one block each, each standardised "
                       f"the same way ({', '.join(others)})" if others else "")
                    + "; fitted on the paper's texts only, applied to new texts",
                "classifier": "logistic regression (lbfgs)" + (
                    "; +distilled: soft targets = mean of the students' label and the API judges' harmful share "
                    "(training rows only)" if any(j.targets == "distilled" for j in judges.values()) else "") + (
                    "; pooled: + PyRIT's human-scored responses (median on 0-1), stacked: a judge learned from "
                    "PyRIT alone (soft targets), combined with the students' judge by a logistic regression on "
                    "the training sheets' inner out-of-fold logits; pooled-naive: PyRIT's rows added to every "
                    "training part" if any(j.pooling != "none" for j in judges.values()) else ""),
                "evaluation": "GroupKFold by student sheet (a prompt in two sheets: the lower sheet's fold); "
                              "threshold: training folds' students' harmful share, P from inner GroupKFold",
                "elicit_run": elicit_run, "elicit_models": elicit_models}
    pyrit = pyrit_frame() if any(j.pooling != "none" for j in judges.values()) else None
    inputs = _Inputs(judges, keys, frame, new, pyrit, rel, models, elicit_models, run, progress)
    paper_tables = ("paper_rankings", "paper_scores") + (
        ("paper_halves",) if any(j.pooling == "none" for j in judges.values()) else ())
    paper = Shared("paper", fingerprint({**settings, "elicit_run": None, "elicit_models": []}, frame, frame.iloc[:0],
                                        stores, pyrit),
                   paper_tables, measured=("seconds_per_triple", "embed_seconds_per_text"))
    # P as stored (rounded): the tables read what the run folder holds, so a run read back gives the same
    # tables as the run that wrote it.
    stored = folder.stored_or_computed(
        fingerprint(settings, frame, new, stores, pyrit), lambda donated: _compute(inputs, donated),
        settings=settings, decimals=6, shared=paper, kept={"seconds_per_triple": "judges"},
        record={"embedding_model": embedding_model, "judge_stores": {name: list(key[1]) for name, key in keys.items()}})
    scores = stored.tables["paper_scores"]
    new_scores = stored.tables.get("elicit_scores", pd.DataFrame())      # none without new rows to score
    recorded, per_text = folder.manifest()["seconds_per_triple"], folder.manifest().get("embed_seconds_per_text", {})
    summary = pd.DataFrame([{"judge": name, "kind": JudgeKind.LEARNED, "features": spec.features, "embedding": "+".join(keys[name][1]),
                             "targets": spec.targets, "pooling": spec.pooling, "C": spec.C,
                             **score_summary(scores[scores["judge"] == name].reset_index(drop=True), frame).cells()}
                            for name, spec in judges.items()])
    # What a new text costs the judge: the seconds per text its embedding models' stores recorded.
    summary["embed_seconds_per_text"] = [sum(per_text.get(m, np.nan) for m in keys[name][1])
                                         for name in summary["judge"]]
    summary = summary.assign(seconds_per_triple=lambda d: d["judge"].map(recorded))
    return LearnedRun(run, frame, scores, new_scores, summary, new, stored.reused)


def fingerprint(settings: dict, frame: pd.DataFrame, new: pd.DataFrame, stores: list[str],
                pyrit: pd.DataFrame | None = None) -> str:
    """:func:`~harmstudy.runs.content_fingerprint` of a learned run: its settings, the responses and labels
    it learns from and scores, a pooled judge's other source, the embedding models' stores, every package
    file this module imports (:func:`harmstudy.plan.package_files`) and scikit-learn's version."""
    parts = [frame[["item_id", "model", "prompt", "response", "label", "source"]],
             new[["item_id", "model", "prompt", "response"]] if len(new) else new]
    if pyrit is not None:                     # a pooled judge's other source
        parts.append(pyrit[["prompt", "response", "target"]])
    parts += [embeddings.model_store(model).name for model in stores]
    code = [plan.PACKAGE.parent / f for f in plan.package_files([f"import {__name__}"])]
    return content_fingerprint(settings, parts, code)


def _compute(inputs: _Inputs, donated: dict[str, pd.DataFrame] | None) -> Computed:
    """Every judge out of fold on the paper's triples and, fitted on every sheet, on the new ones: the run's
    tables and each judge's seconds per triple. A pooled judge's other source (``pyrit``) is featurised
    beside the new rows (fitted on the paper's texts). ``donated``: the paper's tables as another run with
    the same paper fingerprint wrote them; then only the new rows are scored."""
    judges, keys, frame, new, pyrit = inputs.judges, inputs.keys, inputs.frame, inputs.new, inputs.pyrit
    others = new if pyrit is None else pd.concat([new, pyrit[["prompt", "response"]]], ignore_index=True)
    wanted = {}                        # feature key -> the other rows its judges read (PyRIT's: pooled judges)
    for name, key in keys.items():
        spec = judges[name]
        rows = len(others) if spec.pooling != "none" else 0 if spec.paper_only else len(new)
        wanted[key] = max(wanted.get(key, 0), rows)
    features = paper_features(frame, others, wanted, progress=inputs.progress)
    source = f"runs/{inputs.run}"
    paper, elicit, scores, new_scores, measured, halves = [], [], [], [], {}, []
    targets = distilled_targets(inputs.rel, frame) if any(j.targets == "distilled" for j in judges.values()) else None
    for name, spec in judges.items():
        C = spec.C
        judge = LearnedJudge(name, C=C)
        X, X_others = features.matrices[keys[name]]
        X_new, X_pyrit = X_others[:len(new)], X_others[len(new):]
        soft = targets if spec.targets == "distilled" else None
        start = time.perf_counter()
        pooling, secondary, secondary_new, extra = spec.pooling, None, None, None
        if pooling == "stacked":
            source_model = source_judge(X_pyrit, pyrit["target"].to_numpy(), C)
            secondary = source_model.predict_proba(X)[:, 1]
            secondary_new = source_model.predict_proba(X_new)[:, 1] if len(new) else None
        elif pooling == "naive":
            extra = (X_pyrit, pyrit["target"].to_numpy(dtype=float))
        if donated is None:
            oof = out_of_fold(judge, frame, X, targets=soft, secondary=secondary, extra=extra)
            seconds = time.perf_counter() - start + features.tfidf_seconds
            if pooling == "none":          # a pooled judge's halves would also need PyRIT's rows split: not done
                halves.append(half_fits(judge, frame, X, soft).assign(judge=name))
            paper.append(to_rankings(oof, name, inputs.models, source=source))
            scores.append(oof.assign(judge=name))
            # A triple's three texts, at the seconds each of the judge's embedding models took to embed them.
            measured[name] = seconds / frame["item_id"].nunique() + 3 * sum(
                features.embed_seconds_per_text[m] for m in keys[name][1])
        if len(new) and not spec.paper_only:
            fitted = fit_all(judge, frame, X, targets=soft, secondary=secondary, extra=extra)
            model, threshold = fitted.model, fitted.threshold
            p = (model.predict_proba(X_new) if secondary is None else model.predict_proba(X_new, secondary_new))[:, 1]
            scored = new[["item_id", "prompt_id", "model"]].assign(p_harmful=p, threshold=threshold, judge=name)
            new_scores.append(scored)
            elicit.append(to_rankings(scored, name, inputs.elicit_models, source=source))
    if donated is None:
        tables = {"paper_rankings": pd.concat(paper, ignore_index=True),
                  **({"paper_halves": pd.concat(halves, ignore_index=True)} if halves else {}),
                  "paper_scores": pd.concat(scores, ignore_index=True)}
    else:                               # as the donor wrote them (text), its ``source`` naming this run
        tables = {name: t.assign(source=source) if "source" in t.columns else t for name, t in donated.items()}
    if elicit:
        tables |= {"elicit_rankings": pd.concat(elicit, ignore_index=True),
                   "elicit_scores": pd.concat(new_scores, ignore_index=True)}
    stores = dict.fromkeys(m for _, models in keys.values() for m in models)
    return Computed(tables, {"seconds_per_triple": measured,
                             "embed_seconds_per_text": {m: features.embed_seconds_per_text[m] for m in stores
                                                        if m in features.embed_seconds_per_text}})


def refusal_scores(elicit_scores: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``learned_refusals.csv``: how a learned judge scores responses that carry the refusal marker (it was
    trained on base models' continuations, which rarely refuse), per judge and model."""
    marked = new.assign(refusal=new["response"].map(is_refusal))[["item_id", "model", "refusal"]]
    s = elicit_scores.merge(marked, on=["item_id", "model"])
    s["harmful"] = s["p_harmful"] >= s["threshold"]
    out = (s.groupby(["judge", "model", "refusal"])
           .agg(responses=("p_harmful", "size"), mean_p_harmful=("p_harmful", "mean"),
                called_harmful=("harmful", "mean")).reset_index())
    return out


