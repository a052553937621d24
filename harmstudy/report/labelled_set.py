"""``harmstudy.score_set``: a researcher's labelled set — a file or a DataFrame — scored by the study's
judges in one call, the tables notebook 07 and ``make external`` write returned as a :class:`SetResult`.

It sits in ``report/`` because its result draws its own figures (:meth:`SetResult.plot`, from
:mod:`harmstudy.report.plots`); the work is below it: the checks in :mod:`harmstudy.data.set_files`, the
judges in :mod:`harmstudy.sets.external` and :mod:`harmstudy.sets.llm`, the statistics in
:mod:`harmstudy.stats`. :func:`read_set` is the one validator ``make external`` and :func:`score_set` share:
a problem is one line (:class:`~harmstudy.data.set_files.SetInputError`), naming the file, the line, the
column and the parameter that fixes it, before any judge runs or anything is written.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmstudy import paths
from harmstudy.data import scored_responses, set_files

#: What a DataFrame handed to :func:`score_set` is called in messages, and the set's name by default.
FRAME_NAME = "frame"


@dataclass(frozen=True)
class ReadSet:
    """A labelled set as :func:`read_set` read and checked it: its parameters, what the validator read, the
    long table of scored responses, and the name its files carry."""

    spec: set_files.SetSpec
    checked: set_files.CheckedSet
    loaded: scored_responses.ScoredSet
    name: str

    @property
    def binary(self) -> bool:
        return self.checked.scale == "binary"


def read_set(spec: set_files.SetSpec, frame: pd.DataFrame | None = None, name: str = "") -> ReadSet:
    """Every check that needs no model (:func:`harmstudy.data.set_files.check_set`: the file or ``frame``,
    the columns named, the scale, duplicates, the prompt), then every row read
    (:func:`harmstudy.data.scored_responses.load_user_set`: a label off the scale, an empty response, …, each
    named by line). ``name``: the set's name in its files (default: the file's stem as a slug)."""
    checked = set_files.check_set(spec, frame)
    name = name or set_files.slug(Path(spec.path).stem)
    return ReadSet(spec=spec, checked=checked, loaded=scored_responses.load_user_set(spec, checked, name), name=name)


def output_name(set_path: str | Path, out: str = "") -> str:
    """A set's folder under ``build/external/``: ``slug(OUT)``, or ``<slug of the stem>-<8 hex digits of the
    resolved path's sha256>`` (so ``...csv`` cannot climb out, and two files with one stem never share one)."""
    if out:
        name = set_files.slug(out, fallback="")
        if not name:
            raise set_files.SetInputError(f"OUT={out}: give a name of letters, digits, '.', '_' or '-'")
        return name
    resolved = str(Path(set_path).expanduser().resolve())
    return f"{set_files.slug(Path(str(set_path)).stem)}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


def rows_table(read: ReadSet) -> pd.DataFrame:
    """``<stem>_rows.csv``: per category the rows read, their requests and the people's harmful share."""
    scores = read.loaded.scores
    hcols = [c for c in scores.columns if c.startswith("human_") and c != "human_median"]
    return (scores.groupby("category").agg(rows=("row", "size"), requests=("request", "nunique"))
            .assign(people_harmful_share=scores.groupby("category")["human_median"].apply(lambda h: (h >= 0.5).mean()))
            .reset_index().assign(dataset=read.name, human_columns=len(hcols),
                                  scale="binary" if read.binary else str(list(read.checked.scale))))


@dataclass
class SetResult:
    """What :func:`score_set` found, each table with the columns of the file ``make external`` writes:

    * ``rows`` — ``<name>_rows.csv``; ``agreement`` — ``<name>_agreement.csv`` (binary: each judge against
      the people's majority and each rater, and people against each other; Likert: α, MAE, κ, AUC, ρ);
    * ``differences`` — ``<name>_differences.csv``: each judge minus ``compare_with`` (paired 95% CI);
    * ``cards`` — ``<name>_cards.csv`` (binary sets; None on a Likert set);
    * ``transfer`` — ``<name>_transfer.csv``: this set's column of the transfer matrix;
    * ``unscored`` — the responses an LLM judge left unscored, with the reason (empty: none).

    ``scores``: the responses in the long table; ``judges``: the judges' calls (binary: a
    :class:`~harmstudy.stats.judge_calls.BinaryJudge` by name; Likert:
    :class:`~harmstudy.sets.set_judges.LikertJudges`)."""

    name: str
    binary: bool
    scale: object
    scores: pd.DataFrame
    rows: pd.DataFrame
    agreement: pd.DataFrame
    differences: pd.DataFrame
    cards: pd.DataFrame | None
    transfer: pd.DataFrame
    unscored: pd.DataFrame
    judges: object
    compare_with: str
    warnings: list = field(default_factory=list)

    @property
    def metric(self) -> str:
        """The metric the judges are ranked and compared by: Cohen's κ (binary) or PyRIT's α (Likert)."""
        return "kappa" if self.binary else "pyrit_alpha"

    def headline(self) -> pd.DataFrame:
        """The agreement table's main rows: κ against the majority and people's κ (binary), α and AUC (Likert)."""
        t = self.agreement
        if self.binary:
            return t[(t["reference"].isin(["majority"]) | (t["judge"] == "human")) & (t["metric"] == "kappa")]
        return t[t["metric"].isin(["pyrit_alpha", "auc"])]

    def sentence(self) -> str:
        """Which judges are level with the leading one and which are below it, in words."""
        from harmstudy.stats.single_response import leader_sentence

        return leader_sentence(self.differences, self.metric, self.compare_with)

    def plot(self, what: str = "agreement"):
        """The figure ``make external`` saves as ``<name>_<what>.png``: ``agreement`` (each judge against
        these people), ``differences`` (each judge against ``compare_with``) or ``cards`` (binary)."""
        from harmstudy.report import plots

        if what == "agreement":
            if self.binary:
                return plots.binary_agreement(self.agreement,
                                              title=f"{self.name}: which judge agrees with these people? (Cohen's κ)")
            return plots.external_agreement(self.agreement.assign(published_best=np.nan, published_median=np.nan),
                                            title=f"{self.name}: the judges against these people (α: humans + judge)")
        if what == "differences":
            return plots.paired_differences(self.differences, self.metric, f"{self.name}: each judge against "
                                            f"{self.compare_with} ({self.metric}, paired 95% CI)")
        if what == "cards" and self.cards is not None:
            return plots.set_cards(self.cards, f"{self.name}: validation cards")
        raise ValueError(f"plot({what!r}): choose 'agreement', 'differences'"
                         f"{' or cards' if self.cards is not None else ' (cards: a binary set only)'}")


def set_spec(source: str | Path, *, request: str, response: str, human, scale="binary", category: str = "",
             verdicts=(), encoding: str = "", sep: str = "", dedupe: str = "", prompt: str | Path = "") -> set_files.SetSpec:
    """The parameters as :func:`read_set` takes them (``prompt``: a file holding a binary prompt)."""
    if isinstance(human, str):
        human = [human]
    return set_files.SetSpec(path=str(source), request=request, response=response, human=list(human), scale=scale,
                             category=category, verdicts=list(verdicts), encoding=encoding, sep=sep, dedupe=dedupe,
                             prompt=str(prompt) if prompt else "")


def score_set(frame: pd.DataFrame | str | Path, *, request: str, response: str, human, judges=(), scale="binary",
              verdicts=(), category: str = "", name: str = "", prompt: str | Path = "", compare_with: str = "",
              n_boot: int = 1000, cv_splits: int = 10, transfer_C: float = 0.3, api_base: str = "",
              temperature: float = 0.0, max_response_chars: int = 3000, runs_dir: str | Path | None = None,
              encoding: str = "", sep: str = "", dedupe: str = "", learned: bool = True,
              progress: bool = True, prompt_variant: str = "", gate: str = "") -> SetResult:
    """A labelled set scored by the study's judges beside its people: notebook 07's (and ``make external``'s)
    tables, returned, nothing written.

    ``frame``: a DataFrame, or a CSV / TSV / JSONL / Parquet file's path. ``request``, ``response``: its
    columns of texts; ``human``: its columns of human labels, one per rater; ``scale``: ``"binary"`` (1/0,
    yes/no, true/false) or the Likert levels (``[1, 2, 3, 4, 5]``); ``verdicts``: columns of verdicts the
    file already carries (a guard classifier's; each a judge of kind ``in file``); ``category``: a column
    of categories. ``judges``: LiteLLM models (``"openai/gpt-4o"``, ``"llamacpp/<embedded model>"``) that
    each read every response alone — none by default, so nothing calls a model; their runs and caches go
    to ``runs_dir`` (default ``build/external/<name>/runs``), checked before the first call of any, with
    ``prompt`` (a file: a binary prompt of yours with ``{request}`` and ``{response}``), ``api_base`` and
    ``temperature``; ``prompt_variant``: one of the study's binary prompts in place of today's
    (:data:`harmstudy.judge.prompt.POINTWISE_VARIANTS`); ``gate="refusal"``: a refusal-marked response scores
    not harmful with no call (the cards count them). ``compare_with``: the judge every other is compared with
    (default: the leading one).
    ``learned``: the study's learned judges too (no model call, but they fit for seconds to a minute);
    ``False``: the verdict columns and the LLM judges alone.

    A problem with the set or a parameter raises :class:`~harmstudy.data.set_files.SetInputError`, one line
    naming the file (a DataFrame is ``frame``, its lines those of its CSV: header 1, first row 2), the
    line, the column and the parameter (as ``make external`` calls it) — the same checks as ``make external``.
    """
    from harmstudy.sets import llm, set_judges, transfer
    from harmstudy.stats import cards, single_response

    is_frame = isinstance(frame, pd.DataFrame)
    source = FRAME_NAME if is_frame else str(Path(frame).expanduser())
    spec = set_spec(source, request=request, response=response, human=human, scale=scale, category=category,
                    verdicts=verdicts, encoding=encoding, sep=sep, dedupe=dedupe, prompt=prompt)
    read = read_set(spec, frame if is_frame else None, name)
    judges = list(judges)
    if not (learned or judges or spec.verdicts):
        raise set_files.SetInputError("learned=False leaves no judge: name verdicts=[<column> ...] or "
                                      "judges=[<LiteLLM model> ...], or keep the learned judges")
    for warning in read.checked.warnings:
        print("warning:", warning)
    stem, binary, scores, checked = read.name, read.binary, read.loaded.scores, read.checked
    try:                             # the prompt variant and the gate, before any call (make's names)
        llm.check_options(prompt_variant, gate, binary=binary, template=checked.prompt)
    except ValueError as exc:
        raise set_files.SetInputError(str(exc)) from None
    if runs_dir is None:
        runs_dir = paths.EXTERNAL / (stem if is_frame else output_name(source)) / "runs"
    runs = Path(runs_dir)
    # LLM judges: each reads every response alone; checked (model, key, prompt) before the first call
    options = dict(binary=binary, template=checked.prompt, stem=stem, root=runs, api_base=api_base,
                   max_response_chars=max_response_chars, temperature=temperature,
                   **llm.options_given(prompt_variant, gate))
    for estimate in llm.llm_set_estimates(scores, judges, **options):
        print(estimate)              # what an API judge's calls cost, before the first one
    llm_scores, unscored = (llm.llm_set_judges(scores, judges, n_splits=cv_splits, progress=progress, **options)
                            if judges else ({}, None))
    if unscored is None:
        unscored = pd.DataFrame(columns=["dataset", "row", "reason", "judge"])
    set_cards = None
    if binary:
        found = set_judges.binary_set_judges(scores, verdicts=spec.verdicts, C=transfer_C, n_splits=cv_splits,
                                             learned=learned) | llm_scores
        table = single_response.binary_table(scores, found, human_names=read.loaded.human_names, n_boot=n_boot)
        set_cards = cards.set_cards(scores, found, table)
    else:
        found = set_judges.likert_set_judges(scores, verdicts=spec.verdicts, llm_scores=llm_scores, C=transfer_C,
                                             n_splits=cv_splits, learned=learned)
        grid = found.on_grid(np.linspace(0, 1, len(checked.scale)))
        no_published = pd.DataFrame(columns=["category", "alpha", "mae"])
        table = single_response.external_table(scores, grid, no_published, found.kinds, [stem], rankings=found.raw,
                                               n_boot=n_boot)
        table = table.drop(columns=["published_best", "published_median"])
    metric = "kappa" if binary else "pyrit_alpha"
    other = compare_with or single_response.leading_judge(table, metric, reference="majority" if binary else None)
    if binary:
        differences = single_response.binary_differences(scores, found, other=other, n_boot=n_boot)
    else:
        differences = single_response.external_differences(scores, grid, [stem], other=other, rankings=found.raw,
                                                            n_boot=n_boot, metrics=("pyrit_alpha", "auc"))
    return SetResult(name=stem, binary=binary, scale=checked.scale, scores=scores, rows=rows_table(read),
                     agreement=table, differences=differences, cards=set_cards,
                     transfer=transfer.set_column(table, stem, binary), unscored=unscored, judges=found,
                     compare_with=other, warnings=list(checked.warnings))
