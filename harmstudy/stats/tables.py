"""The study's tables, built from the long rankings table.

Each function here makes one table of ``figures/tables`` (its docstring names it), so a number in a
figure leads back to one function; :func:`harmstudy.report.tables.write_table` writes them. They take frames
and typed records and read no file: :mod:`harmstudy.judge.run_tables` reads the runs (rankings, judge kinds,
learned runs' stores).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations

import pandas as pd

from harmstudy import PAPER_JUDGES
from harmstudy.kinds import JudgeKind
from harmstudy.stats.agreement import AGREEMENT_COLUMNS, DIFFERENCE_COLUMNS, N_BOOT, agreement, align_pairs
from harmstudy.stats.agreement import judge_wide, paired_difference_of_pairs, reference_wide, restrict, sheets
from harmstudy.stats.agreement import usable_items
from harmstudy.stats.agreement import comparison_word
from harmstudy.stats.agreement import with_words as agreement_words
from harmstudy.stats.harm import friedman_test, posthoc_tests, rater_label, small_model_harm


def raters_in_order(rankings: pd.DataFrame) -> list[str]:
    labels = rater_label(rankings)
    kinds = dict(zip(labels, rankings["rater_kind"]))
    order = {"student": 0, "expert": 1, "judge": 2}
    return sorted(dict.fromkeys(labels), key=lambda r: (order.get(kinds[r], 3), r))


def harm_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``small_model_harm.csv``: harmful share (CI over student sheets on the paper's triples, Wilson's on
    triples no sheet ranked: ``ci_unit``), mean rank, most-harmful count per rater."""
    labels = rater_label(rankings)
    models = list(dict.fromkeys(rankings["model"]))
    by_sheet = sheets(rankings)
    return pd.concat([small_model_harm(rankings[labels == r], r, models, clusters=by_sheet)
                      for r in raters_in_order(rankings)],
                     ignore_index=True)


def friedman_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_friedman.csv``: Friedman test across prompts with Kendall's W, per rater."""
    labels = rater_label(rankings)
    return pd.DataFrame([asdict(friedman_test(rankings[labels == r], r)) for r in raters_in_order(rankings)])


def posthoc_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_posthoc.csv``: pairwise Wilcoxon tests between models, Holm-corrected, per rater."""
    labels = rater_label(rankings)
    return pd.concat([posthoc_tests(rankings[labels == r], r) for r in raters_in_order(rankings)],
                     ignore_index=True)


def judges_of(rankings: pd.DataFrame) -> list[str]:
    return sorted(rankings.loc[rankings["rater_kind"] == "judge", "rater"].unique(),
                  key=lambda j: (j.split(" ")[0] not in PAPER_JUDGES, j))


TIE_BREAK_SUFFIX = " (authors' tie-break)"


def release_judge_kind(label: str) -> JudgeKind | None:
    """The kind of the release's raters: ``human`` (the students), ``api`` (the paper's judges, also with
    the authors' tie-break); None for a judge of ours (its kind is its run's:
    :func:`harmstudy.judge.run_tables.judge_kinds`)."""
    base = label.removesuffix(TIE_BREAK_SUFFIX)
    if label == "human":
        return JudgeKind.HUMAN
    if base in PAPER_JUDGES:
        return JudgeKind.API_TIE_BREAK if base != label else JudgeKind.API
    return None


def agreement_table(rankings: pd.DataFrame, n_boot: int = N_BOOT, costs: dict | None = None,
                    kinds: dict | None = None) -> pd.DataFrame:
    """``judge_agreement.csv``: every judge vs students (``human``) and vs the expert; plus the human
    ceiling (students vs expert, ``judge`` = ``human``); each row with the judge's ``kind`` (the release's
    raters: :func:`release_judge_kind`; ours: ``kinds``, from :func:`harmstudy.judge.run_tables.judge_kinds`) and its
    ``seconds_per_triple`` on this machine (``costs``, from :func:`harmstudy.judge.run_costs.judge_costs`;
    empty where not measured)."""
    students = rankings[rankings["rater_kind"] == "student"]
    expert = rankings[rankings["rater_kind"] == "expert"]
    by_sheet = sheets(rankings)         # every CI resamples the student sheets (ci_unit)
    students_wide, expert_wide = reference_wide(students), reference_wide(expert)     # pivoted once
    rows = []
    for judge in judges_of(rankings):
        j = rankings[rankings["rater"] == judge]
        rows.append(agreement(j, students_wide, judge_name=judge, reference_name="human", n_boot=n_boot,
                              clusters=by_sheet))
        rows.append(agreement(j, expert_wide, judge_name=judge, reference_name="expert", n_boot=n_boot,
                              clusters=by_sheet))
    rows.append(agreement(students, expert, judge_name="human", reference_name="expert", n_boot=n_boot,
                          clusters=by_sheet))
    out = pd.concat(rows, ignore_index=True)[AGREEMENT_COLUMNS]
    kinds = {**(kinds or {}), **{j: release_judge_kind(j) for j in out["judge"].unique() if release_judge_kind(j)}}
    missing = sorted(set(out["judge"]) - set(kinds))
    if missing:
        raise ValueError(f"no kind for judge(s) {missing}: pass kinds=judge_kinds(judge_runs) with their runs "
                         f"(harmstudy.judge.run_tables)")
    out["kind"] = out["judge"].map(kinds)
    out["seconds_per_triple"] = out["judge"].map(costs or {}).astype(float)
    return agreement_words(out)


def judge_differences_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_differences.csv``: every pair of judges (the authors' tie-break rows, a sensitivity, left out)
    against the students (``human``) and against the expert, on the prompts both ranked usably: α (ordinal)
    and κ (harmful or not) of each, their difference (``judge`` − ``other``) with a paired bootstrap 95% CI
    over student sheets (the same sheets drawn for both judges; ``ci_unit``), and the ``comparison`` word that CI allows (:func:`harmstudy.stats.agreement.comparison_word`)."""
    judges = [j for j in judges_of(rankings) if not j.endswith(TIE_BREAK_SUFFIX)]
    references = {"human": rankings[rankings["rater_kind"] == "student"],
                  "expert": rankings[rankings["rater_kind"] == "expert"]}
    # each judge aligned with each reference once (aligning is most of the cost), then per pair restricted to
    # the prompts both ranked usably: the same pairs agreement.paired_difference aligns
    frames = {j: rankings[rankings["rater"] == j] for j in judges}
    usable = {j: usable_items(frame) for j, frame in frames.items()}
    by_sheet = sheets(rankings)
    wide = {name: reference_wide(ref) for name, ref in references.items()}      # each reference pivoted once
    aligned = {(j, name): align_pairs(frame, wide[name], by_sheet) for j, frame in frames.items()
               for name in references}
    rows = [paired_difference_of_pairs(restrict(aligned[a, name], usable[a] & usable[b]),
                                       restrict(aligned[b, name], usable[a] & usable[b]),
                                       judge_name=a, other_name=b, reference_name=name, n_boot=n_boot)
            for a, b in combinations(judges, 2) for name in references]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=DIFFERENCE_COLUMNS)


def judge_vs_judge_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_vs_judge.csv``: every pair of judges, all metrics (``reference`` is the second judge)."""
    rows = []
    judges = judges_of(rankings)
    of = {j: rankings[rankings["rater"] == j] for j in judges}      # each judge's rows, selected once
    # each judge pivoted once as the reference and once as the judge (pivoting is most of aligning)
    as_reference = {j: reference_wide(of[j]) for j in judges}
    as_judge = {j: judge_wide(of[j]) for j in judges}
    by_sheet = sheets(rankings)          # the paper's triples resample sheets; a new model's, prompts
    for a, b in combinations(judges, 2):
        rows.append(agreement(as_judge[a], as_reference[b], judge_name=a, reference_name=b, n_boot=n_boot,
                              clusters=by_sheet))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=AGREEMENT_COLUMNS)


@dataclass(frozen=True)
class LearnedStores:
    """A learned run's embedding features, as its manifest records them
    (:func:`harmstudy.judge.run_tables.learned_stores`): the run's own ``embedding_model`` (None: none),
    each judge's embedding stores (empty: TF-IDF only), and each store's recorded seconds per text."""

    run: str
    embedding_model: str | None
    judge_stores: dict[str, tuple[str, ...]]
    embed_seconds_per_text: dict[str, float] = field(default_factory=dict)


def feature_decision_table(differences: pd.DataFrame, agreement_rows: pd.DataFrame,
                           learned: list[LearnedStores] = ()) -> pd.DataFrame:
    """``feature_decision.csv``: which embedding features the learned judges use, by one rule. Today's best
    is the learned judge with the highest α against the students among those on the run's own
    ``embedding_model`` (or none); every learned judge that reads another store is a candidate, with its
    paired difference in α from today's best (``judge_differences.csv``: same prompts, same resamples) and
    its embedding cost per text (the stores' recorded seconds). ``learned``: each learned run's stores
    (:func:`harmstudy.judge.run_tables.learned_stores`). The rule: adopt the cheapest candidate whose
    difference's 95% CI excludes 0 in its favour; if none does, keep the run's model. ``decision`` (the same
    on every row) says which, ``adopt`` marks the adopted row."""
    columns = ["judge", "embedding", "embed_seconds_per_text", "baseline", "baseline_embedding", "alpha",
               "baseline_alpha", "difference", "ci_low", "ci_high", "prompts", "ci_unit", "comparison", "adopt", "decision"]
    rows = []
    for run in learned:
        default, stores, per_text = run.embedding_model, run.judge_stores, run.embed_seconds_per_text
        alpha = (agreement_rows[(agreement_rows["reference"] == "human") & (agreement_rows["metric"] == "alpha_ordinal")]
                 .set_index("judge")["estimate"])
        own = [j for j, s in stores.items() if set(s) <= {default} and j in alpha.index]
        if not own:
            continue
        baseline = max(own, key=lambda j: alpha[j])
        d = differences[(differences["reference"] == "human") & (differences["metric"] == "alpha_ordinal")]
        for judge, models in stores.items():
            if set(models) <= {default} or judge not in alpha.index:
                continue
            pair = d[(d["judge"] == judge) & (d["other"] == baseline)]
            sign = 1
            if pair.empty:                        # the pair is stored the other way round: baseline − judge
                pair, sign = d[(d["judge"] == baseline) & (d["other"] == judge)], -1
            r = pair.iloc[0]
            low, high = sorted([sign * r["ci_low"], sign * r["ci_high"]])
            rows.append({"judge": judge, "embedding": "+".join(models),
                         "embed_seconds_per_text": sum(per_text.get(m, float("nan")) for m in models),
                         "baseline": baseline, "baseline_embedding": default or "", "alpha": alpha[judge],
                         "baseline_alpha": alpha[baseline], "difference": sign * r["difference"],
                         "ci_low": low, "ci_high": high, "prompts": r["prompts"], "ci_unit": r["ci_unit"]})
    table = pd.DataFrame(rows, columns=columns[:-3])
    if table.empty:
        return pd.DataFrame(columns=columns)
    table["comparison"] = [comparison_word(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])]
    better = table[table["ci_low"] > 0].sort_values(["embed_seconds_per_text", "difference"], ascending=[True, False])
    table["adopt"] = table["judge"].eq(better["judge"].iloc[0]) if len(better) else False
    table["decision"] = (f"adopt {better['embedding'].iloc[0]}" if len(better) else
                         f"keep {table['baseline_embedding'].iloc[0] or 'no embedding'}")
    return table[columns]


CEILING_COLUMNS = ["judge", "role", "reference", "metric", "judge_alpha", "ceiling", "difference", "gap", "ci_low",
                   "ci_high", "n", "prompts", "comparison", "ci_unit", "p_boot"]


def headline_judges(agreement_rows: pd.DataFrame, best_learned: str | None = None) -> dict[str, str]:
    """The judges the README words: the paper's three, and the best learned judge: ``best_learned`` (today's
    best, ``feature_decision.csv``'s ``baseline``) or else the learned judge with the highest α against the
    students (an argmax over the same α it then reports: a selection, not an out-of-sample choice)."""
    alpha = agreement_rows[(agreement_rows["reference"] == "human") & (agreement_rows["metric"] == "alpha_ordinal")]
    out = {j: "paper judge" for j in PAPER_JUDGES if j in set(alpha["judge"])}
    learned = alpha[alpha["kind"] == "learned"]
    if best_learned is None and len(learned):
        best_learned = learned.loc[learned["estimate"].idxmax(), "judge"]
    if best_learned is not None:
        out[best_learned] = "best learned judge"
    return out


def ceiling_table(rankings: pd.DataFrame, agreement_rows: pd.DataFrame, best_learned: str | None = None,
                  n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_ceiling.csv``: the students' ceiling like for like. Each headline judge (:func:`headline_judges`)
    against the expert, paired with the students against the expert on the same prompts (the expert's, those
    the judge and the students ranked usably), with the same sheet resamples: ``difference`` = judge −
    students in α (ordinal), ``gap`` = students − judge, and the word that CI allows (``below``: the judge is
    below the students' ceiling)."""
    from harmstudy.stats.agreement import paired_difference

    students = rankings[rankings["rater_kind"] == "student"]
    expert = rankings[rankings["rater_kind"] == "expert"]
    by_sheet = sheets(rankings)
    rows = []
    for judge, role in headline_judges(agreement_rows, best_learned).items():
        d = paired_difference(rankings[rankings["rater"] == judge], students, expert, judge_name=judge,
                              other_name="human", reference_name="expert", n_boot=n_boot,
                              metrics=("alpha_ordinal",), clusters=by_sheet).iloc[0]
        rows.append({"judge": judge, "role": role, "reference": "expert", "metric": "alpha_ordinal",
                     "judge_alpha": d["estimate"], "ceiling": d["other_estimate"], "difference": d["difference"],
                     "gap": -d["difference"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "n": d["n"],
                     "prompts": d["prompts"], "comparison": d["comparison"], "ci_unit": d["ci_unit"],
                     "p_boot": d["p_boot"]})
    return pd.DataFrame(rows, columns=CEILING_COLUMNS)
