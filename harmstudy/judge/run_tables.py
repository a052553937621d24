"""What the named judge runs in ``data/runs/`` hold, read for the statistics: their long rankings, each
judge's kind from its run's manifest, a learned run's half-fits and embedding stores. The statistics
(:mod:`harmstudy.stats.tables`, :mod:`harmstudy.stats.cards`) take what these return and read no file."""
from __future__ import annotations

import pandas as pd

from harmstudy import paths
from harmstudy.kinds import JudgeKind
from harmstudy.parse.rankings import USABLE, read_rankings, reason_counts
from harmstudy.runs import Run
from harmstudy.stats.cards import halves_consistency
from harmstudy.stats.judge_calls import HalvesAgreement
from harmstudy.stats.tables import LearnedStores


def load_all_rankings(judge_runs: list[str] = ()) -> pd.DataFrame:
    """The release's rankings plus the named judging runs' rankings of the paper's triples."""
    frames = [read_rankings(paths.input_table_path("rankings_long"))]
    frames += load_run_rankings(judge_runs, "paper_rankings.csv")
    return pd.concat(frames, ignore_index=True)


def load_elicit_rankings(judge_runs: list[str]) -> pd.DataFrame:
    """The long rankings written by 02 for the given judging runs of an elicitation run (checked: they
    exist, have usable rows, and no two carry the same judge label)."""
    frames = load_run_rankings(judge_runs, "elicit_rankings.csv")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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


def _manifest(run: str) -> dict:
    """The run's manifest (``{}`` where it has none), whatever kind of judge run it is."""
    return Run(run, "judge").manifest()


def judge_kinds(judge_runs=()) -> dict[str, JudgeKind]:
    """Each judge of the named runs and its kind, read from the run's manifest, never from its label:
    ``learned`` (a learned run), ``pointwise`` or ``few-shot`` (a pointwise run with examples), ``listwise``
    or ``listwise-balanced`` (a judging run shown each triple in more than one order)."""
    kinds = {}
    for run in judge_runs:
        folder = paths.RUNS / run
        manifest = _manifest(run)
        kind = manifest.get("kind")
        if kind == "learned":
            kind = JudgeKind.LEARNED
        elif kind == "pointwise":
            kind = JudgeKind.FEW_SHOT if manifest.get("target", {}).get("shots") else JudgeKind.POINTWISE
        elif kind == "judging":
            kind = JudgeKind.LISTWISE_BALANCED if manifest.get("settings", {}).get("orders", 1) > 1 else JudgeKind.LISTWISE
        else:
            raise ValueError(f"data/runs/{run}/manifest.json says no judge kind ({kind!r}): is it a judging run?")
        for name in ("paper_rankings.csv", "elicit_rankings.csv"):
            if (folder / name).exists():
                kinds.update(dict.fromkeys(pd.read_csv(folder / name, usecols=["rater"])["rater"].unique(), kind))
    return kinds


def learned_halves(judge_runs=()) -> dict[str, HalvesAgreement]:
    """Each learned judge's two half-fits' agreement (:func:`harmstudy.stats.cards.halves_consistency`), read
    from its run's ``paper_halves.csv`` (:func:`harmstudy.learn.judges.half_fits`), for the validation cards."""
    out = {}
    for run in judge_runs:
        path = paths.RUNS / run / "paper_halves.csv"
        if path.exists():
            out |= halves_consistency(pd.read_csv(path))
    return out


def learned_stores(judge_runs=()) -> list[LearnedStores]:
    """Each learned run of the named runs that records its judges' embedding stores (its manifest's
    ``judge_stores``), for :func:`harmstudy.stats.tables.feature_decision_table`; other runs are skipped."""
    out = []
    for run in judge_runs:
        manifest = _manifest(run)
        if manifest.get("kind") != "learned" or "judge_stores" not in manifest:
            continue
        out.append(LearnedStores(run=run, embedding_model=manifest.get("embedding_model"),
                                 judge_stores={j: tuple(s) for j, s in manifest["judge_stores"].items()},
                                 embed_seconds_per_text=dict(manifest.get("embed_seconds_per_text", {}))))
    return out
