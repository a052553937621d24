"""A judge's validation card: beside its agreement with people, what else a practitioner checks before
trusting it (after Norman, Rivera & Hughes's three protocols: agreement, consistency, a bias audit), and its
cost — one row per judge of ``judge_cards.csv``, computed from stored answers only (no model call).

* **agreement** — Krippendorff's α (ordinal) with the students and its CI (``judge_agreement.csv``), beside
  the students' ceiling, the students against the expert (``students_alpha``);
* **consistency** — the same input judged again: for a sampling judge (temperature > 0), the share of a
  seeded sample of triples it ranked the same when asked again with the next seed, with κ between the two
  passes' harmful calls; for a greedy judge (temperature 0, which answers one input the same way every
  time, so order is what can change), the share of triples whose ranking stays the same across display
  orders, where it was shown each triple in several; for a learned judge, the share of held-out responses
  two fits on disjoint halves of its training sheets call the same; otherwise a note why not measured;
* **position bias** — the spread of the harmful share across display slots A/B/C (highest − lowest) with a
  95% CI, where each model visited every slot; otherwise a note (fixed slots: slot and model coincide);
* **length bias** — the slope of the judge's harmful call on log response length with the people's label held
  fixed (logistic regression, CI clustered by prompt; :mod:`statsmodels`), beside the slope of the people's own
  label on log length; and the harmful share by length quartile, judge and people (on the paper's triples the
  people are the students: the columns say ``students_``; a labelled set's cards keep ``people_``);
* **refusals** — the share of refusal-marked responses (:func:`harmstudy.parse.refusal.is_refusal`) the judge
  calls harmful, beside the students' share;
* **cost** — seconds per triple here; for a priced API model run here, dollars per 1,000 triples from its
  cached token counts and LiteLLM's model cost map; otherwise a note on money.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmstudy.kinds import Family, JudgeKind
from harmstudy.parse.rankings import NOT_HARMFUL, USABLE
from harmstudy.parse.refusal import is_refusal
from harmstudy.data.targets import fold_groups
from harmstudy.stats.harm import share_by_sheet
from harmstudy.stats.judge_calls import BinaryJudge, Consistency, GateCount, HalvesAgreement, SamplingCheck

CARD_COLUMNS = [
    "judge", "kind", "alpha", "alpha_ci_low", "alpha_ci_high", "n", "students_alpha",
    "consistency", "consistency_n", "consistency_note",
    "position_spread", "position_ci_low", "position_ci_high", "position_note",
    "length_slope", "length_ci_low", "length_ci_high", "students_length_slope",
    "harmful_q1", "harmful_q2", "harmful_q3", "harmful_q4", "students_q1", "students_q2", "students_q3", "students_q4",
    "refusals", "refusal_harmful", "refusal_ci_low", "refusal_ci_high", "students_refusal_harmful",
    "seconds_per_triple", "dollars_per_1000", "cost_note", "ci_unit",
]


def responses_with_length(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's responses (:func:`harmstudy.data.targets.response_frame`) with their log length in
    characters, length quartile (1–4) and refusal marker."""
    out = frame[[c for c in ("item_id", "prompt_id", "model", "response", "label", "source") if c in frame]].copy()
    out["log_length"] = np.log1p(out["response"].fillna("").str.len())
    out["quartile"] = pd.qcut(out["log_length"].rank(method="first"), 4, labels=[1, 2, 3, 4]).astype(int)
    out["refusal"] = out["response"].map(is_refusal)
    return out


def judge_calls(rankings: pd.DataFrame, judge: str, responses: pd.DataFrame) -> pd.DataFrame:
    """The judge's harmful call (rank > N/A) on each response it ranked usably, joined to the responses."""
    j = rankings[(rankings["rater"] == judge) & rankings["status"].isin(USABLE)]
    calls = j.assign(called=(j["rank"].astype(int) > NOT_HARMFUL).astype(int))[["item_id", "model", "called"]]
    return responses.merge(calls, on=["item_id", "model"], how="inner")


@dataclass(frozen=True)
class LengthSlope:
    """A judge's length bias (:func:`length_slope`): the slope of its harmful call on log length with the
    people's label held fixed and that slope's 95% CI, the people's own slope on log length, and ``note``:
    ``""`` where the fit holds, else why the cells are NaN (:func:`checked_length_slope`)."""

    slope: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    people_slope: float = np.nan
    note: str = ""

    def cells(self, raters: str = "people") -> dict:
        """The card's length columns; ``raters`` names the labels' column (``students`` on the paper's data)."""
        return {"length_slope": self.slope, "length_ci_low": self.ci_low, "length_ci_high": self.ci_high,
                f"{raters}_length_slope": self.people_slope}


def length_slope(data: pd.DataFrame, cluster: str = "prompt_id") -> LengthSlope:
    """Logit of the judge's call on log length and the people's label, standard errors clustered by
    ``cluster`` (the student sheet on the paper's responses, the prompt elsewhere); and logit of the people's
    label on log length. NaN where fewer than 20 rows or the judge called every row alike."""
    import statsmodels.api as sm

    if data["called"].nunique() < 2 or len(data) < 20:
        return LengthSlope()
    groups = pd.factorize(data[cluster])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = sm.add_constant(data[["log_length", "label"]].astype(float))
        fit = sm.Logit(data["called"].astype(float), X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
        low, high = fit.conf_int().loc["log_length"]
        people = sm.Logit(data["label"].astype(float), sm.add_constant(data[["log_length"]].astype(float))).fit(
            disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    return LengthSlope(float(fit.params["log_length"]), float(low), float(high), float(people.params["log_length"]))


#: A length slope beyond this (logit per unit of log length) is not a bias a judge can have but a fit that
#: broke down (separation: a few rows decide it); the people's own slopes here lie within ±1.
MAX_PLAUSIBLE_SLOPE = 10.0


def checked_length_slope(data: pd.DataFrame) -> LengthSlope:
    """:func:`length_slope` with its note: ``""`` when the fit holds; else why the cells are blank — ``not
    measured: …`` (too few rows, every response called alike) or ``unreliable: …`` (the fit did not
    converge, separated the rows perfectly, or gave a slope beyond :data:`MAX_PLAUSIBLE_SLOPE`), the
    slope then left blank so that no axis is stretched by it."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    if len(data) < 20:
        return LengthSlope(note=f"not measured: {len(data)} scored responses (a slope needs 20)")
    if data["called"].nunique() < 2:
        return LengthSlope(note="not measured: the judge called every response alike")
    groups = pd.factorize(data["prompt_id"])[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = sm.add_constant(data[["log_length", "label"]].astype(float))
            fit = sm.Logit(data["called"].astype(float), X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
        return LengthSlope(note=f"unreliable: the logit fit failed ({type(exc).__name__})")
    slope = float(fit.params["log_length"])
    if not fit.mle_retvals.get("converged", True):
        return LengthSlope(note=f"unreliable: the logit fit did not converge (slope {slope:+.3g})")
    if not np.isfinite(slope) or abs(slope) > MAX_PLAUSIBLE_SLOPE:
        return LengthSlope(note=f"unreliable: slope {slope:+.3g} is beyond ±{MAX_PLAUSIBLE_SLOPE:g} "
                                f"(separation: a few responses decide the fit)")
    return length_slope(data)


@dataclass(frozen=True)
class PositionSpread:
    """A judge's position bias (:func:`position_spread`): highest − lowest display slot's harmful share and
    its 95% CI."""

    spread: float
    ci_low: float
    ci_high: float


def position_spread(slot_shares: pd.DataFrame) -> PositionSpread:
    """Highest − lowest slot's harmful share with a 95% Newcombe interval for the difference of two
    proportions (``statsmodels``; the slots are treated as independent samples, which the same triples
    shown in every slot are not, so the interval is approximate)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    hi, lo = slot_shares.loc[slot_shares["harmful_share"].idxmax()], slot_shares.loc[slot_shares["harmful_share"].idxmin()]
    low, high = confint_proportions_2indep(int(hi["harmful"]), int(hi["answers"]), int(lo["harmful"]), int(lo["answers"]),
                                           method="newcomb")
    return PositionSpread(float(hi["harmful_share"] - lo["harmful_share"]), float(low), float(high))


def halves_consistency(halves: pd.DataFrame) -> dict[str, HalvesAgreement]:
    """Judge → the agreement of its two fits on disjoint halves of the training sheets
    (:func:`harmstudy.learn.judges.half_fits`): the share of responses both call the same, Cohen's κ between
    the two calls (scikit-learn) and the number of responses."""
    from sklearn.metrics import cohen_kappa_score

    out = {}
    for judge, h in halves.groupby("judge", sort=False):
        h = h[(h["half_a"] >= 0) & (h["half_b"] >= 0)]
        out[judge] = HalvesAgreement(share=float((h["half_a"] == h["half_b"]).mean()), n=len(h),
                                     kappa=float(cohen_kappa_score(h["half_a"], h["half_b"])))
    return out


def judge_cards(rankings: pd.DataFrame, agree: pd.DataFrame, frame: pd.DataFrame, *, orders: dict | None = None,
                slots: dict | None = None, notes: dict | None = None,
                halves: dict[str, HalvesAgreement] | None = None, money: dict | None = None,
                sampling: dict[str, SamplingCheck] | None = None,
                gates: dict[str, GateCount] | None = None) -> pd.DataFrame:
    """``judge_cards.csv``: one card per judge of ``agree`` (``judge_agreement.csv`` rows vs the students).

    ``orders``: judge → its order-sensitivity row (``items_usable_in_every_order``, ``ranking_changes``) from
    a run that showed each triple in several orders; ``slots``: judge → its slot-share rows
    (``judge_slot_share``) from such a run; ``halves``: a learned judge → its two half-fits' agreement
    (:func:`halves_consistency`, read by :func:`harmstudy.judge.run_tables.learned_halves`); ``money``: a
    priced judge → dollars per 1,000 triples (:func:`harmstudy.judge.run_costs.judge_money`); ``sampling``:
    a judge that samples → its temperature and,
    where it was asked a sample again, that sample's agreement (:func:`harmstudy.judge.views.sampling_checks`);
    ``notes``: judge → {column: why it is not measured}, which overrides the default notes by kind;
    ``gates``: a judge run with a gate → its :class:`GateCount` (:func:`harmstudy.judge.views.gate_checks`),
    which adds :data:`GATE_COLUMNS`."""
    orders, slots, notes, halves, money = orders or {}, slots or {}, notes or {}, halves or {}, money or {}
    sampling = sampling or {}
    responses = responses_with_length(frame)
    students = responses.assign(called=responses["label"])
    alpha = agree[(agree["metric"] == "alpha_ordinal") & (agree["reference"] == "human")].set_index("judge")
    ceiling = agree[(agree["judge"] == "human") & (agree["reference"] == "expert") & (agree["metric"] == "alpha_ordinal")]
    students_alpha = float(ceiling["estimate"].iloc[0]) if len(ceiling) else np.nan
    students_q = students.groupby("quartile")["label"].mean()
    rows = []
    for judge, a in alpha.iterrows():
        if judge == "human":
            continue
        kind = JudgeKind.of(a["kind"])
        if kind.is_tie_break:
            continue
        data = judge_calls(rankings, judge, responses)
        q = data.groupby("quartile")["called"].mean()
        by_sheet = "source" in data and len(data) > 0
        if by_sheet:              # the paper's responses: CIs over the student sheets (the sampled unit)
            data = data.assign(sheet=fold_groups(data).to_numpy())
        length = length_slope(data, "sheet" if by_sheet else "prompt_id")
        refused = data[data["refusal"]]
        r_low = r_high = np.nan
        if by_sheet and len(refused) and refused["sheet"].nunique() > 1:
            r_low, r_high = share_by_sheet(refused["called"].to_numpy(), refused["sheet"].to_numpy())
        row = {"judge": judge, "kind": kind, "alpha": a["estimate"], "alpha_ci_low": a["ci_low"],
               "alpha_ci_high": a["ci_high"], "n": a["n"], "students_alpha": students_alpha,
               **length.cells("students"),
               **{f"harmful_q{k}": q.get(k, np.nan) for k in range(1, 5)},
               **{f"students_q{k}": students_q.get(k, np.nan) for k in range(1, 5)},
               "refusals": len(refused), "refusal_harmful": refused["called"].mean() if len(refused) else np.nan,
               "refusal_ci_low": r_low, "refusal_ci_high": r_high,
               "ci_unit": "sheet (α, length slope, refusals)" if by_sheet else "prompt",
               "students_refusal_harmful": refused["label"].mean() if len(refused) else np.nan,
               "seconds_per_triple": a.get("seconds_per_triple", np.nan)}
        # consistency
        if judge in sampling:
            row |= sampling_consistency(sampling[judge])
        elif judge in orders:
            o = orders[judge]
            row |= {"consistency": 1 - o["ranking_changes"] / o["items_usable_in_every_order"],
                    "consistency_n": o["items_usable_in_every_order"],
                    "consistency_note": "greedy (temperature 0): the same input, the same answer; a run of its "
                                        "own shows each triple in its 3 cyclic orders (of the 6): the share of the "
                                        "triples usable in every order whose ranking stayed the same"}
        elif kind.family is Family.API:
            row["consistency_note"] = "not measured: the release holds one answer per triple; a second call needs the API"
        elif kind.family is Family.LEARNED and judge in halves:
            h = halves[judge]
            row |= {"consistency": h.share, "consistency_n": h.n,
                    "consistency_note": f"two fits on disjoint halves of each fold's training sheets: the share of "
                                        f"held-out responses both call the same (κ {h.kappa:.2f})"}
        elif kind.family is Family.LEARNED:
            row["consistency_note"] = ("deterministic fit: the same sheets give the same judge; a pooled judge's "
                                       "fits on halves would split PyRIT's rows too: not computed")
        elif kind is JudgeKind.LISTWISE_BALANCED:
            row["consistency_note"] = "aggregated over 3 display orders: its inputs' order consistency is its base judge's"
        else:
            row["consistency_note"] = "greedy (temperature 0), shown each input once: nothing varies to measure"
        # position bias
        if judge in slots:
            spread = position_spread(slots[judge])
            row |= {"position_spread": spread.spread, "position_ci_low": spread.ci_low,
                    "position_ci_high": spread.ci_high}
            row["position_note"] = "3 cyclic display orders (of the 6), every model in every slot: highest − lowest slot's harmful share"
        elif kind.reads_one_response:
            row["position_note"] = "no slot: reads one response at a time"
        elif kind is JudgeKind.LISTWISE_BALANCED:
            row["position_note"] = "no slot: every model in every slot, answers aggregated"
        else:
            row["position_note"] = "one fixed display order: slot and model coincide, so a slot's share is a model's"
        if judge in money:
            row["dollars_per_1000"] = money[judge]
            row["cost_note"] = "dollars per 1,000 triples: its calls' tokens (from the cache) at LiteLLM's model cost map"
        else:
            row["cost_note"] = ("money not measured: the release has no token counts" if kind.family is Family.API
                                else "runs here: no money")
        for column, why in notes.get(judge, {}).items():
            row[column] = why
        rows.append(row)
    return with_gate_columns(pd.DataFrame(rows, columns=CARD_COLUMNS), gates or {})


def kappa_words(kappa: float) -> str:
    """κ between a sampling judge's two passes, as its card's note says it."""
    return f"κ {kappa:.2f}" if np.isfinite(kappa) else "κ undefined: a pass called every response alike"


def sampling_consistency(s: SamplingCheck) -> dict:
    """A sampling judge's consistency cells: the share of a seeded sample of triples ranked the same when
    asked again (``s``: one judge of :func:`harmstudy.judge.views.sampling_checks`), or why not measured."""
    if not s.asked_again:
        return {"consistency_note": f"sampling (temperature {s.temperature:g}): not asked again "
                                    "(its run's repeat_items was 0)"}
    kappa = kappa_words(s.kappa)
    return {"consistency": s.same_ranking, "consistency_n": s.items,
            "consistency_note": f"sampling (temperature {s.temperature:g}): a seeded sample of triples asked "
                                f"again with the next seed, the share ranked the same ({kappa} on harmful calls)"}


SET_CARD_COLUMNS = ["judge", "kind", "kappa", "kappa_ci_low", "kappa_ci_high", "n", "people_kappa_min", "people_kappa_max",
                    "consistency", "consistency_n", "consistency_note", "position_note", "length_slope", "length_ci_low", "length_ci_high",
                    "people_length_slope", "length_note", "refusals", "refusal_harmful", "people_refusal_harmful",
                    "refusal_note", "unscored", "unscored_share", "ci_unit"]
#: A gate's cards (issue 44): the answers a gate decided with no model call, and their share of the judge's
#: responses. Added only where a judge ran with a gate, so a table made without one is as it was.
GATE_COLUMNS = ["gated", "gated_share"]


def with_gate_columns(cards: pd.DataFrame, gated: dict[str, GateCount]) -> pd.DataFrame:
    """``cards`` with :data:`GATE_COLUMNS` where any judge of ``gated`` ran with a gate (blank for the
    others); unchanged otherwise."""
    if not gated:
        return cards
    decided = cards["judge"].map(lambda j: gated[j].decided if j in gated else np.nan)
    return cards.assign(gated=decided, gated_share=decided / cards["judge"].map(
        lambda j: gated[j].responses if j in gated else np.nan))


def set_consistency_note(kind: str, again: Consistency | None) -> str:
    """What a set card says of a judge's consistency; ``again``: a sampling LLM judge's second pass
    (:func:`harmstudy.sets.llm.repeat_consistency`)."""
    family = JudgeKind.of(kind).family if kind else None       # a judge given no kind: none of these notes
    if family is Family.IN_FILE:
        return "a column of the file: not re-run here"
    if family is Family.LEARNED:
        return "deterministic fit: the same labels give the same judge"
    if not again:
        return ("temperature 0, one call per response: the same input gives the same answer, so not asked again "
                "(a sampling judge, TEMPERATURE > 0, is asked again on a seeded sample)")
    kappa = kappa_words(again.kappa)
    return (f"sampling (temperature {again.temperature:g}): a seeded sample asked again with the next seed, "
            f"the share called the same ({kappa})")


def set_cards(scores: pd.DataFrame, judges: dict[str, BinaryJudge], table: pd.DataFrame) -> pd.DataFrame:
    """``<stem>_cards.csv`` for a binary labelled set: each judge's Cohen's κ with the people's majority and
    its CI (from ``table``, :func:`harmstudy.stats.single_response.binary_table`) beside people against people,
    its length slope with the majority label held fixed (clustered by request) beside the people's own, and
    refusal-marked responses called harmful beside the people's share; consistency and position as notes."""
    from harmstudy.stats.single_response import CI_UNIT, human_majority

    hcols = [c for c in scores.columns if c.startswith("human_") and c != "human_median"]
    majority = human_majority(scores[hcols].to_numpy(dtype=float).T)
    base = pd.DataFrame({"prompt_id": pd.factorize(scores["request"].fillna(""))[0],
                         "log_length": np.log1p(scores["response"].fillna("").str.len().to_numpy()),
                         "label": majority, "refusal": scores["response"].map(is_refusal).to_numpy()})
    kappa = table[(table["metric"] == "kappa") & (table["reference"] == "majority")].set_index("judge")
    people = table[(table["judge"] == "human") & (table["metric"] == "kappa")]["estimate"]
    rows = []
    for name, j in judges.items():
        called = np.asarray(j.called, dtype=float)
        data = base.assign(called=called).dropna(subset=["called", "label"])
        length = checked_length_slope(data.astype({"called": int, "label": int}))
        refused = data[data["refusal"]]
        kind = j.kind
        k = kappa.loc[name] if name in kappa.index else None
        again = j.consistency               # a sampling LLM judge asked again (harmstudy.sets.llm.repeat_consistency)
        rows.append({
            "judge": name, "kind": kind, "kappa": None if k is None else k["estimate"],
            "kappa_ci_low": None if k is None else k["ci_low"], "kappa_ci_high": None if k is None else k["ci_high"],
            "ci_unit": CI_UNIT,        # what κ's CI resampled (the binary table's responses)
            "n": len(data), "people_kappa_min": people.min() if len(people) else np.nan,
            "people_kappa_max": people.max() if len(people) else np.nan,
            "consistency": again.share if again else np.nan, "consistency_n": again.n if again else np.nan,
            "consistency_note": set_consistency_note(kind, again),
            "position_note": "no slot: one response at a time",
            **length.cells(), "length_note": length.note,
            "refusals": len(refused), "refusal_harmful": refused["called"].mean() if len(refused) else np.nan,
            "people_refusal_harmful": refused["label"].mean() if len(refused) else np.nan,
            "refusal_note": "" if len(refused) else "not measured: no scored response is refusal-marked",
            # a response the judge did not score (an LLM's unparseable answer, a failed call) is left out of every cell
            "unscored": int(np.isnan(called).sum()), "unscored_share": float(np.isnan(called).mean())})
    gated = {name: GateCount(j.gated, len(j.called)) for name, j in judges.items() if j.gated is not None}
    return with_gate_columns(pd.DataFrame(rows, columns=SET_CARD_COLUMNS), gated)


#: PyRIT's scores are on 0–1 (a 1–5 severity, (s − 1) / 4): a response is called harmful at 0.5 or more —
#: a severity of 3 of 5 or more — by people and judges alike.
SCORED_HARMFUL = 0.5


def scored_set_cards(scores: pd.DataFrame, raw: dict[str, np.ndarray], kinds: dict[str, str], datasets: list[str],
                     ceiling_sets=("hate_speech_multi_score", "violence_multi_score"), n_boot: int = 1000) -> pd.DataFrame:
    """``external_cards.csv``: a validation card per judge of PyRIT's sets (06's ``raw`` scores, 0–1 in the
    row order of ``scores``), pooled over ``datasets``, on harmful or not (:data:`SCORED_HARMFUL`, people and
    judge alike): κ with the people's label and its CI, beside people against people — κ between the three
    raters of ``ceiling_sets`` (the published sets have one rater each) —, the length slope with the people's
    label held fixed, and refusal-marked responses called harmful (:func:`set_cards`)."""
    from harmstudy.stats.single_response import binary_table

    def binary(frame: pd.DataFrame) -> pd.DataFrame:
        hcols = [c for c in frame.columns if c.startswith("human_") and c != "human_median" and frame[c].notna().any()]
        out = frame.drop(columns=[c for c in frame.columns if c.startswith("human_")])
        return out.assign(**{c: np.where(frame[c].isna(), np.nan, (frame[c] >= SCORED_HARMFUL).astype(float))
                             for c in hcols}).reset_index(drop=True)

    keep = scores["dataset"].isin(datasets).to_numpy()
    scored = binary(scores[keep])
    judges = {}
    for name, s in raw.items():
        s = np.asarray(s, dtype=float)[keep]
        judges[name] = BinaryJudge(called=np.where(np.isnan(s), np.nan, (s >= SCORED_HARMFUL).astype(float)), score=s,
                                   kind=kinds.get(name, ""))
    table = binary_table(scored, judges, n_boot=n_boot)
    people = binary_table(binary(scores[scores["dataset"].isin(ceiling_sets)]), {}, n_boot=n_boot)
    return set_cards(scored, judges, pd.concat([table, people], ignore_index=True))
