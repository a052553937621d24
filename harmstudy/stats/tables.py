"""The study's tables, built from the long rankings table.

Each function here makes one table of ``figures/tables`` (its docstring names it), so a number in a
figure leads back to one function; :func:`harmstudy.report.tables.write_table` writes them.
"""
from __future__ import annotations

from itertools import combinations

import pandas as pd

from harmstudy import PAPER_JUDGES, paths
from harmstudy.parse.rankings import USABLE, read_rankings, reason_counts
from harmstudy.stats.agreement import AGREEMENT_COLUMNS, DIFFERENCE_COLUMNS, N_BOOT, agreement, paired_difference
from harmstudy.stats.agreement import with_words as agreement_words
from harmstudy.stats.harm import friedman_test, posthoc_tests, rater_label, small_model_harm


def load_all_rankings(judge_runs: list[str] = ()) -> pd.DataFrame:
    """The release's rankings plus the named judging runs' rankings of the paper's triples."""
    frames = [read_rankings(paths.input_table_path("rankings_long"))]
    frames += load_run_rankings(judge_runs, "paper_rankings.csv")
    return pd.concat(frames, ignore_index=True)


def unscored_report(frame: pd.DataFrame, run: str) -> str:
    """What a judging run with no usable ranking is told: its rows and their reasons, counted."""
    return (f"judging run {run!r} has no usable ranking ({len(frame)} rows, all unscored — "
            f"{reason_counts(frame['reason'])}); it is left "
            f"out of the tables (data/runs/{run}/judgments.csv has each answer)")


def load_run_rankings(judge_runs, target_file: str) -> list[pd.DataFrame]:
    """The long rankings of the named judging runs, each checked: it exists, and no two runs carry the same
    judge label (their rows would be mixed into one rater). A run with no usable ranking (a judge that never
    answered in the format) is reported with its reasons and left out; the other runs go on."""
    frames, owner = [], {}
    for run in judge_runs:
        path = paths.RUNS / run / target_file
        if not path.exists():
            raise FileNotFoundError(f"{path.relative_to(paths.ROOT)} is missing: run notebooks/02_judge.ipynb "
                                    f"(or `make paper`) for that run, or drop {run!r} from judge_runs")
        frame = read_rankings(path)
        if not frame["status"].isin(USABLE).any():
            print(unscored_report(frame, run))
            continue
        for label in frame["rater"].unique():
            if label in owner:
                raise ValueError(f"judging runs {owner[label]!r} and {run!r} both rank as {label!r}; their rows "
                                 f"would be mixed into one rater. List one of them (e.g. another orders or "
                                 f"grammar setting is another run: compare them one at a time)")
            owner[label] = run
        frames.append(frame)
    return frames


def raters_in_order(rankings: pd.DataFrame) -> list[str]:
    labels = rater_label(rankings)
    kinds = dict(zip(labels, rankings["rater_kind"]))
    order = {"student": 0, "expert": 1, "judge": 2}
    return sorted(dict.fromkeys(labels), key=lambda r: (order.get(kinds[r], 3), r))


def harm_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``small_model_harm.csv``: harmful share (Wilson CI), mean rank, most-harmful count per rater."""
    labels = rater_label(rankings)
    models = list(dict.fromkeys(rankings["model"]))
    return pd.concat([small_model_harm(rankings[labels == r], r, models) for r in raters_in_order(rankings)],
                     ignore_index=True)


def friedman_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_friedman.csv``: Friedman test across prompts with Kendall's W, per rater."""
    labels = rater_label(rankings)
    return pd.DataFrame([friedman_test(rankings[labels == r], r) for r in raters_in_order(rankings)])


def posthoc_table(rankings: pd.DataFrame) -> pd.DataFrame:
    """``q1_posthoc.csv``: pairwise Wilcoxon tests between models, Holm-corrected, per rater."""
    labels = rater_label(rankings)
    return pd.concat([posthoc_tests(rankings[labels == r], r) for r in raters_in_order(rankings)],
                     ignore_index=True)


def judges_of(rankings: pd.DataFrame) -> list[str]:
    return sorted(rankings.loc[rankings["rater_kind"] == "judge", "rater"].unique(),
                  key=lambda j: (j.split(" ")[0] not in PAPER_JUDGES, j))


TIE_BREAK_SUFFIX = " (authors' tie-break)"


def release_judge_kind(label: str) -> str | None:
    """The kind of the release's raters: ``human`` (the students), ``api`` (the paper's judges, also with
    the authors' tie-break); None for a judge of ours (its kind is its run's: :func:`judge_kinds`)."""
    base = label.removesuffix(TIE_BREAK_SUFFIX)
    if label == "human":
        return "human"
    if base in PAPER_JUDGES:
        return "api" + (" (authors' tie-break)" if base != label else "")
    return None


def judge_kinds(judge_runs=()) -> dict[str, str]:
    """Each judge of the named runs and its kind, read from the run's manifest, never from its label:
    ``learned`` (a learned run), ``pointwise`` or ``few-shot`` (a pointwise run with examples), ``listwise``
    or ``listwise-balanced`` (a judging run shown each triple in more than one order)."""
    import json

    kinds = {}
    for run in judge_runs:
        folder = paths.RUNS / run
        manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
        kind = manifest.get("kind")
        if kind == "learned":
            kind = "learned"
        elif kind == "pointwise":
            kind = "few-shot" if manifest.get("target", {}).get("shots") else "pointwise"
        elif kind == "judging":
            kind = "listwise-balanced" if manifest.get("settings", {}).get("orders", 1) > 1 else "listwise"
        else:
            raise ValueError(f"data/runs/{run}/manifest.json says no judge kind ({kind!r}): is it a judging run?")
        for name in ("paper_rankings.csv", "elicit_rankings.csv"):
            if (folder / name).exists():
                kinds.update(dict.fromkeys(pd.read_csv(folder / name, usecols=["rater"])["rater"].unique(), kind))
    return kinds


def judge_costs(judge_runs=()) -> dict[str, float]:
    """Seconds per triple of every judge in the named runs, as measured when the run was made: a judging
    run's calls' logged latency (from its cache; all orders for a balanced judge, all three responses
    for a pointwise judge), a learned run's timing from its manifest. The paper's judges have no logged
    latency in the release."""
    import json
    import sqlite3

    costs = {}
    for run in judge_runs:
        folder = paths.RUNS / run
        manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
        if manifest.get("kind") == "learned":
            costs.update(manifest.get("seconds_per_triple", {}))
            continue
        cache = folder / "judge_cache.sqlite"
        derived = folder / ("scores.csv" if manifest.get("kind") == "pointwise" else "judgments.csv")
        if not cache.exists() or not derived.exists():
            continue
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as db:       # reading never writes
            calls, total = db.execute("SELECT COUNT(*), SUM(latency) FROM calls").fetchone()
        if manifest.get("kind") == "pointwise":
            ranked = pd.read_csv(folder / "paper_rankings.csv", usecols=["item_id", "rater"]) \
                if (folder / "paper_rankings.csv").exists() else None
            if calls and ranked is not None:
                costs[ranked["rater"].iloc[0]] = total / ranked["item_id"].nunique()
            continue
        judgments = pd.read_csv(folder / "judgments.csv", usecols=["item_id", "judge"])
        label, items = judgments["judge"].iloc[0], judgments["item_id"].nunique()
        if calls and judgments.groupby("item_id").size().max() > 1:
            costs[label + "+balanced"] = total / items              # every order of the triple
        elif calls:
            costs[label] = total / calls                            # one call per triple, one order
    return costs


def agreement_table(rankings: pd.DataFrame, n_boot: int = N_BOOT, costs: dict | None = None,
                    kinds: dict | None = None) -> pd.DataFrame:
    """``judge_agreement.csv``: every judge vs students (``human``) and vs the expert; plus the human
    ceiling (students vs expert, ``judge`` = ``human``); each row with the judge's ``kind`` (the release's
    raters: :func:`release_judge_kind`; ours: ``kinds``, from :func:`judge_kinds`) and its
    ``seconds_per_triple`` on this machine (:func:`judge_costs`; empty where not measured)."""
    students = rankings[rankings["rater_kind"] == "student"]
    expert = rankings[rankings["rater_kind"] == "expert"]
    rows = []
    for judge in judges_of(rankings):
        j = rankings[rankings["rater"] == judge]
        rows.append(agreement(j, students, judge_name=judge, reference_name="human", n_boot=n_boot))
        rows.append(agreement(j, expert, judge_name=judge, reference_name="expert", n_boot=n_boot))
    rows.append(agreement(students, expert, judge_name="human", reference_name="expert", n_boot=n_boot))
    out = pd.concat(rows, ignore_index=True)[AGREEMENT_COLUMNS]
    kinds = {**(kinds or {}), **{j: release_judge_kind(j) for j in out["judge"].unique() if release_judge_kind(j)}}
    missing = sorted(set(out["judge"]) - set(kinds))
    if missing:
        raise ValueError(f"no kind for judge(s) {missing}: pass kinds=judge_kinds(judge_runs) with their runs")
    out["kind"] = out["judge"].map(kinds)
    out["seconds_per_triple"] = out["judge"].map(costs or {}).astype(float)
    return agreement_words(out)


def judge_differences_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_differences.csv``: every pair of judges (the authors' tie-break rows, a sensitivity, left out)
    against the students (``human``) and against the expert, on the prompts both ranked usably: α (ordinal)
    and κ (harmful or not) of each, their difference (``judge`` − ``other``) with a paired bootstrap 95% CI
    over prompts, and the ``comparison`` word that CI allows (:func:`harmstudy.stats.agreement.comparison_word`)."""
    judges = [j for j in judges_of(rankings) if not j.endswith(TIE_BREAK_SUFFIX)]
    references = {"human": rankings[rankings["rater_kind"] == "student"],
                  "expert": rankings[rankings["rater_kind"] == "expert"]}
    rows = [paired_difference(rankings[rankings["rater"] == a], rankings[rankings["rater"] == b], ref,
                              judge_name=a, other_name=b, reference_name=name, n_boot=n_boot)
            for a, b in combinations(judges, 2) for name, ref in references.items()]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=DIFFERENCE_COLUMNS)


def judge_vs_judge_table(rankings: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """``judge_vs_judge.csv``: every pair of judges, all metrics (``reference`` is the second judge)."""
    rows = []
    for a, b in combinations(judges_of(rankings), 2):
        rows.append(agreement(rankings[rankings["rater"] == a], rankings[rankings["rater"] == b],
                              judge_name=a, reference_name=b, n_boot=n_boot))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=AGREEMENT_COLUMNS)
