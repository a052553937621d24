"""learned_solver: seconds of the embedding judge's out-of-fold fits (:func:`harmstudy.learn.judges.out_of_fold`,
one fold per student sheet) with liblinear ÷ seconds with L-BFGS, the solver
:class:`harmstudy.learn.judges.LearnedJudge` uses, on the dense embedding columns of the paper's responses
(the committed store of ``--model``, standardised as :func:`harmstudy.learn.learned_runs.paper_features`
does), side by side; and ``learned_solver_alpha_gap``: |α (ordinal) against the students of the L-BFGS
judge − of the liblinear judge|, both out of fold. The choice of L-BFGS holds while the ratio is > 1 and
the gap is within the out-of-fold noise (about 0.01).

Reads the stored vectors only (no model is loaded): a text the store does not hold stops the benchmark.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from _study import REPO, use_throwaway_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct", help="an embedding model with a committed store")
    ap.add_argument("--sheets", type=int, default=0, help="only the first N student sheets' rows (0: every row)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    use_throwaway_study("bench-solver-")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from harmstudy import PAPER_MODELS, embedding_store
    from harmstudy.data.release import load_release
    from harmstudy.data.targets import fold_groups, response_frame
    from harmstudy.learn import embeddings
    from harmstudy.learn.judges import SEED, LearnedJudge, out_of_fold
    from harmstudy.stats.agreement import agreement, sheets
    from harmstudy.stats.scores import to_rankings

    @dataclass(frozen=True)
    class LiblinearJudge(LearnedJudge):
        """The same judge with liblinear, the solver L-BFGS replaced (it penalises the intercept)."""

        def make(self):
            model = LogisticRegression(C=self.C, max_iter=2000, solver="liblinear", random_state=SEED)
            return make_pipeline(StandardScaler(), model)

    rel = load_release()
    frame = response_frame(rel, list(PAPER_MODELS))
    if args.sheets:
        folds = fold_groups(frame)
        frame = frame[folds.isin(sorted(folds.unique())[:args.sheets])].reset_index(drop=True)
    stores = sorted((REPO_PATH := Path(REPO)).joinpath("data", "embeddings").glob(f"{args.model}-*"))
    if not stores:
        sys.exit(f"no committed embedding store of {args.model} under data/embeddings/")
    store = embedding_store.read_store(stores[0])
    keys = [embeddings.text_key(embeddings.embedding_text(p, r)) for p, r in zip(frame["prompt"], frame["response"])]
    missing = sum(k not in store for k in keys)
    if missing:
        sys.exit(f"{missing} of {len(keys)} texts are not in {stores[0].relative_to(REPO_PATH)}")
    E = np.stack([store[k][0] for k in keys]).astype(float)
    E = (E - E.mean(axis=0)) / (E.std(axis=0) + 1e-8) / np.sqrt(E.shape[1])
    judges = {"lbfgs": LearnedJudge("learned-embed", C=0.3, sparse=False),
              "liblinear": LiblinearJudge("learned-embed", C=0.3, sparse=False)}
    seconds = {name: 0.0 for name in judges}
    scores = {}
    for i in range(args.rounds):
        for name in (list(judges) if i % 2 == 0 else list(judges)[::-1]):       # alternate which goes first
            start = time.perf_counter()
            scores[name] = out_of_fold(judges[name], frame, E)
            seconds[name] += time.perf_counter() - start
    students = rel.rankings[(rel.rankings["rater_kind"] == "student") & rel.rankings["item_id"].isin(frame["item_id"])]
    alpha = {}
    for name, oof in scores.items():
        ranked = to_rankings(oof, name, list(PAPER_MODELS))
        row = agreement(ranked, students, judge_name=name, reference_name="human", n_boot=0,
                        metrics=("alpha_ordinal",), clusters=sheets(students)).iloc[0]
        alpha[name] = float(row["estimate"])
    print(f"{len(frame)} responses, {E.shape[1]} columns, {args.rounds} rounds: "
          + ", ".join(f"{n} {seconds[n]:.2f} s (α {alpha[n]:.3f})" for n in judges))
    print(f"learned_solver: ratio={seconds['liblinear'] / seconds['lbfgs']:.2f}")
    print(f"learned_solver_alpha_gap: {abs(alpha['lbfgs'] - alpha['liblinear']):.4f}")


if __name__ == "__main__":
    main()
