"""The learned run, ``data/runs/learned-judges[-<elicit_run>]``: every learned judge of
:mod:`harmstudy.learn.judges` out of fold on the paper's triples and, fitted on every sheet, on an elicitation
run's; its features (TF-IDF and the embedding models' stores), its fingerprint, the files it writes and reads
back, and how its judges score refusals."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import sparse

from harmstudy import PAPER_MODELS
from harmstudy.data.release import Release, load_release
from harmstudy.data.targets import elicitation_frame, elicited_models, pyrit_frame, response_frame
from harmstudy.learn import embeddings
from harmstudy.learn.judges import (JudgeSpec, LearnedJudge, distilled_targets, fit_all, half_fits, out_of_fold,
                                    source_judge, specs, tfidf_features)
from harmstudy.parse.refusal import is_refusal
from harmstudy.runs import Run, content_fingerprint, json_safe
from harmstudy.stats.scores import score_summary, to_rankings

KIND = "learned"


def paper_features(frame: pd.DataFrame, others: pd.DataFrame, keys: dict, progress: bool = True) -> tuple[dict, dict]:
    """Feature matrices (paper rows, other rows) per feature key (:meth:`JudgeSpec.feature_key`: ``tfidf``,
    ``embed`` or ``tfidf+embed``, and the embedding models) and what computing them cost (``tfidf``:
    seconds; ``embed_per_text``: seconds per text by model). Features are fitted on the paper's texts only
    and applied to the other ones: the paper's numbers do not depend on which small models an elicitation
    run holds. ``keys`` maps each key to how many of the other rows its judges read (the new rows come
    first, then a pooled judge's other source; 0: a judge of the paper's triples only), so an embedding
    model is asked only for the texts its judges read."""
    start = time.perf_counter()
    X_paper, X_others = tfidf_features(frame["response"], others["response"])
    cost = {"tfidf": time.perf_counter() - start, "embed_per_text": {}}
    blocks = {}                                # model -> its standardised vectors (paper rows, other rows)
    for model in dict.fromkeys(m for _, models in keys for m in models):
        rows = max(n for (_, models), n in keys.items() if model in models)
        both = pd.concat([frame, others.iloc[:rows]], ignore_index=True)
        texts = [embeddings.embedding_text(p, r) for p, r in zip(both["prompt"], both["response"])]
        E, cost["embed_per_text"][model] = embeddings.embed_texts(texts, model=model, progress=progress)
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
    return features, cost


def run_learned(judges: list[dict | JudgeSpec], *, elicit_run: str | None, run: str, elicit_models: list[str] | None = None,
                rel: Release | None = None, embedding_model: str | None = None, progress: bool = True) -> dict:
    """Every learned judge, out of fold on the paper's triples and fitted on all sheets for the
    elicitation run. Writes (when their bytes change) ``paper_rankings.csv``, ``paper_scores.csv``,
    ``paper_halves.csv`` (:func:`half_fits`, judges not pooled), ``elicit_rankings.csv``, ``elicit_scores.csv``
    and ``manifest.json`` in ``data/runs/<run>``.

    ``judges``: the judges' specs (:class:`JudgeSpec`: features — TF-IDF of the response, mean-pooled
    embeddings of (prompt, response) from ``embedding_model``, kept in the model's shared store
    (:mod:`harmstudy.learn.embeddings`), or both —, targets, pooling, C).
    A run whose manifest holds this run's fingerprint (:func:`_fingerprint`: settings, data, code) is read
    back instead of recomputed. The paper's side does not depend on the elicitation run: where another
    learned run holds it under the same paper fingerprint (the study's own, for a student's variant), it is
    copied from there and only the fits on every sheet for the new responses are computed (``paper_from`` in
    the manifest names that run).
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
    fingerprint = _fingerprint(settings, frame, new, stores, pyrit)
    with_halves = any(j.pooling == "none" for j in judges.values())
    paper_fingerprint = _fingerprint({**settings, "elicit_run": None, "elicit_models": []}, frame, frame.iloc[:0],
                                     stores, pyrit)
    reused = _reuse(folder, fingerprint, bool(len(new)), with_halves)
    donor = _paper_donor(folder, paper_fingerprint, with_halves) if reused is None else None
    if reused is None:
        computed = _compute(judges, keys, frame, new, rel, models, elicit_models, run, progress, pyrit, donor)
        paper, scores, elicit, new_scores, measured, cost, halves = computed
        folder.write_derived(pd.concat(paper, ignore_index=True), "paper_rankings")
        if halves:
            folder.write_derived(pd.concat(halves, ignore_index=True), "paper_halves")
        folder.write_derived(pd.concat(scores, ignore_index=True).round(6), "paper_scores")
        if elicit:
            folder.write_derived(pd.concat(elicit, ignore_index=True), "elicit_rankings")
            folder.write_derived(pd.concat(new_scores, ignore_index=True).round(6), "elicit_scores")
    # Timings are recorded once, when the run is made (as a judging run's cache keeps each call's latency),
    # so tables that show them stay byte-identical when the run is read again.
    if reused is None and folder.manifest().get("settings") != json_safe(settings):
        if donor is None:
            # A triple's three texts, at the seconds each of the judge's embedding models took to embed them.
            per_text = cost["embed_per_text"]
            measured = {k: v + 3 * sum(per_text[m] for m in keys[k][1]) for k, v in measured.items()}
            measured = {**measured, **_kept_timings(folder.manifest(), judges)}
            per_text = {**folder.manifest().get("embed_seconds_per_text", {}), **per_text}
        else:                              # the paper's side, and what it cost, as the donor run recorded them
            measured, per_text = donor.manifest()["seconds_per_triple"], donor.manifest().get("embed_seconds_per_text", {})
        folder.write_manifest({"settings": settings, "seconds_per_triple": measured,
                               "embed_seconds_per_text": {m: per_text[m] for m in stores if m in per_text},
                               "embedding_model": embedding_model,
                               "judge_stores": {name: list(key[1]) for name, key in keys.items()},
                               "fingerprint": fingerprint, "paper_fingerprint": paper_fingerprint,
                               **({"paper_from": donor.name} if donor is not None else {})})
    elif reused is None and (folder.manifest().get("fingerprint"), folder.manifest().get("paper_fingerprint")) != (
            fingerprint, paper_fingerprint):
        folder.write_manifest({**{k: v for k, v in folder.manifest().items() if k not in ("run", "kind")},
                               "fingerprint": fingerprint, "paper_fingerprint": paper_fingerprint},
                              provenance_now=False)
    # What the tables read is what the run folder holds (P rounded as stored): a run read back gives the
    # same tables as the run that wrote it.
    scores = pd.read_csv(folder.file("paper_scores.csv"))
    new_scores = pd.read_csv(folder.file("elicit_scores.csv")) if len(new) else pd.DataFrame()
    recorded, per_text = folder.manifest()["seconds_per_triple"], folder.manifest().get("embed_seconds_per_text", {})
    summary = pd.DataFrame([{"judge": name, "kind": KIND, "features": spec.features, "embedding": "+".join(keys[name][1]),
                             "targets": spec.targets, "pooling": spec.pooling, "C": spec.C,
                             **score_summary(scores[scores["judge"] == name].reset_index(drop=True), frame)}
                            for name, spec in judges.items()])
    # What a new text costs the judge: the seconds per text its embedding models' stores recorded.
    summary["embed_seconds_per_text"] = [sum(per_text.get(m, np.nan) for m in keys[name][1])
                                         for name in summary["judge"]]
    summary = summary.assign(seconds_per_triple=lambda d: d["judge"].map(recorded))
    return {"run": run, "frame": frame, "scores": scores, "elicit_scores": new_scores, "summary": summary,
            "new": new, "reused": reused is not None}


#: The code whose change changes a learned judge's scores (with the settings and the data: the fingerprint).
FINGERPRINT_CODE = ("learn/judges.py", "learn/learned_runs.py", "learn/embeddings.py", "embedding_store.py",
                    "data/release.py", "data/scored_responses.py", "data/targets.py", "stats/scores.py")


def _fingerprint(settings: dict, frame: pd.DataFrame, new: pd.DataFrame, stores: list[str],
                 pyrit: pd.DataFrame | None = None) -> str:
    """:func:`~harmstudy.runs.content_fingerprint` of a learned run: its settings, the responses and labels
    it learns from and scores, a pooled judge's other source, the embedding models' stores, the code that
    computes them and scikit-learn's version."""
    from pathlib import Path

    parts = [frame[["item_id", "model", "prompt", "response", "label", "source"]],
             new[["item_id", "model", "prompt", "response"]] if len(new) else new]
    if pyrit is not None:                     # a pooled judge's other source
        parts.append(pyrit[["prompt", "response", "target"]])
    parts += [embeddings.model_store(model).name for model in stores]
    package = Path(__file__).resolve().parent.parent
    return content_fingerprint(settings, parts, [package / name for name in FINGERPRINT_CODE])


def _kept_timings(manifest: dict, judges: dict[str, JudgeSpec]) -> dict[str, float]:
    """The recorded seconds per triple of every judge the run already made with the same spec (a manifest
    written before specs were data records a judge as name -> C; the code then read its configuration from
    that name, so the same name and C is the same judge)."""
    old, seconds = manifest.get("settings", {}).get("judges", {}), manifest.get("seconds_per_triple", {})
    return {name: seconds[name] for name, spec in judges.items() if name in seconds and name in old
            and old[name] in (spec.settings(), spec.C)}


def _reuse(folder: Run, fingerprint: str, with_new: bool, with_halves: bool = False):
    """The run's stored files where its fingerprint is this one (nothing to compute), else None."""
    needed = ["paper_rankings.csv", "paper_scores.csv"] + (["elicit_rankings.csv", "elicit_scores.csv"] if with_new else []) \
        + (["paper_halves.csv"] if with_halves else [])
    if folder.manifest().get("fingerprint") != fingerprint or not all(folder.file(n).exists() for n in needed):
        return None
    return needed


def _paper_donor(folder: Run, paper_fingerprint: str, with_halves: bool) -> Run | None:
    """Another learned run whose paper side was computed from the same settings, data and code (equal paper
    fingerprints), with its paper files present; None if there is none."""
    needed = ["paper_rankings.csv", "paper_scores.csv"] + (["paper_halves.csv"] if with_halves else [])
    for manifest in sorted(folder.path.parent.glob("*/manifest.json")):
        other = Run(manifest.parent.name, KIND, root=folder.root)
        if other.name != folder.name and other.manifest().get("paper_fingerprint") == paper_fingerprint \
                and all(other.file(n).exists() for n in needed):
            return other
    return None


def _donated(donor: Run, name: str, run: str) -> list[pd.DataFrame]:
    """The donor's ``<name>.csv`` as it is written (read as text), its ``source`` naming this run."""
    frame = pd.read_csv(donor.file(f"{name}.csv"), dtype=str, keep_default_na=False)
    if "source" in frame.columns:
        frame["source"] = f"runs/{run}"
    return [frame]


def _compute(judges, keys, frame, new, rel, models, elicit_models, run, progress, pyrit=None, donor: Run | None = None):
    """Every judge out of fold on the paper's triples and, fitted on every sheet, on the new ones. A pooled
    judge's other source (``pyrit``) is featurised beside the new rows (fitted on the paper's texts).
    With a ``donor`` run (:func:`_paper_donor`) the paper's side is its files, and only the new rows are scored."""
    others = new if pyrit is None else pd.concat([new, pyrit[["prompt", "response"]]], ignore_index=True)
    wanted = {}                        # feature key -> the other rows its judges read (PyRIT's: pooled judges)
    for name, key in keys.items():
        spec = judges[name]
        rows = len(others) if spec.pooling != "none" else 0 if spec.paper_only else len(new)
        wanted[key] = max(wanted.get(key, 0), rows)
    features, cost = paper_features(frame, others, wanted, progress=progress)
    paper, elicit, scores, new_scores, measured, halves = [], [], [], [], {}, []
    targets = distilled_targets(rel, frame) if any(j.targets == "distilled" for j in judges.values()) else None
    for name, spec in judges.items():
        C = spec.C
        judge = LearnedJudge(name, C=C)
        X, X_others = features[keys[name]]
        X_new, X_pyrit = X_others[:len(new)], X_others[len(new):]
        soft = targets if spec.targets == "distilled" else None
        start = time.perf_counter()
        pooling, secondary, secondary_new, extra = spec.pooling, None, None, None
        if pooling == "stacked":
            source = source_judge(X_pyrit, pyrit["target"].to_numpy(), C)
            secondary = source.predict_proba(X)[:, 1]
            secondary_new = source.predict_proba(X_new)[:, 1] if len(new) else None
        elif pooling == "naive":
            extra = (X_pyrit, pyrit["target"].to_numpy(dtype=float))
        if donor is None:
            oof = out_of_fold(judge, frame, X, targets=soft, secondary=secondary, extra=extra)
            seconds = time.perf_counter() - start + cost["tfidf"]
            if pooling == "none":          # a pooled judge's halves would also need PyRIT's rows split: not done
                halves.append(half_fits(judge, frame, X, soft).assign(judge=name))
            paper.append(to_rankings(oof, name, models, source=f"runs/{run}"))
            scores.append(oof.assign(judge=name))
            measured[name] = seconds / frame["item_id"].nunique()
        if len(new) and not spec.paper_only:
            model, threshold = fit_all(judge, frame, X, targets=soft, secondary=secondary, extra=extra)
            p = (model.predict_proba(X_new) if secondary is None else model.predict_proba(X_new, secondary_new))[:, 1]
            scored = new[["item_id", "prompt_id", "model"]].assign(p_harmful=p, threshold=threshold, judge=name)
            new_scores.append(scored)
            elicit.append(to_rankings(scored, name, elicit_models, source=f"runs/{run}"))
    if donor is not None:
        paper, scores = _donated(donor, "paper_rankings", run), _donated(donor, "paper_scores", run)
        halves = _donated(donor, "paper_halves", run) if donor.file("paper_halves.csv").exists() else []
    return paper, scores, elicit, new_scores, measured, cost, halves


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


