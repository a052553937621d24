"""The judges a reader meets first, named once, in plain words.

The tables keep every judge under its id (``learned-tfidf+embed+distilled``); the README, the main figures
and the cards show these six, under these names. The rest stay in the tables and in each measure's
"all judges" figure in docs/. The best offline judge is the one the family of claims names
(:mod:`harmstudy.stats.claims` reads it from here), fixed before its numbers were read.
"""
from __future__ import annotations

from harmstudy.kinds import Family, JudgeKind

#: The best offline judge of the family of claims: the learned judge with the highest out-of-fold α among
#: those on the run's own embedding model (a selection on the α it is scored by: docs/findings.md says so).
BEST_OFFLINE = "learned-tfidf+embed+distilled"
#: The learned judge from the students' labels alone (no API judge's labels in its training).
STUDENTS_ONLY = "learned-tfidf+embed"
#: The embedded LLM judge with the highest α against the students.
BEST_EMBEDDED = "qwen2.5-coder-1.5b-instruct"

#: id -> plain name, in the order the figures list them when no estimate orders them.
HEADLINE = {
    "claude-sonnet": "Claude Sonnet (API; the paper's)",
    "gpt-4o": "GPT-4o (API; the paper's)",
    "llama": "Llama (API; the paper's)",
    BEST_OFFLINE: "text classifier, API-distilled (offline at inference)",
    STUDENTS_ONLY: "text classifier, students' labels only",
    BEST_EMBEDDED: "Qwen2.5-Coder-1.5B, embedded listwise",
}
#: The embedded listwise judge as notebook 05 uses it on the new small models: shown each triple in three display
#: orders and aggregated, so that no model sits in a fixed slot (05 leaves the fixed-order twin out).
BALANCED_EMBEDDED = BEST_EMBEDDED + "+balanced"
#: The reference line of every headline figure: the students against the expert, on the expert's prompts.
CEILING = "students vs the expert (ceiling)"

#: Plain names of judges that are not headline ones but that a figure may still label.
OTHER_NAMES = {
    "qwen2.5-coder-0.5b-instruct+pointwise": "Qwen2.5-Coder-0.5B, each response alone",
    "qwen2.5-coder-0.5b-instruct+fewshot4": "Qwen2.5-Coder-0.5B, each response alone, four examples",
    "qwen2.5-coder-1.5b-instruct+balanced": "Qwen2.5-Coder-1.5B, embedded listwise, over three orders",
    "learned-tfidf": "text classifier (TF-IDF only), students' labels",
    "learned-embed": "text classifier (SmolLM2 vectors only), students' labels",
}


def display_name(judge: str) -> str:
    """A judge's plain name (its id where it has none)."""
    return HEADLINE.get(judge) or OTHER_NAMES.get(judge) or judge


def shown_names(table) -> dict[str, str]:
    """The judges a main figure shows, id -> name: the headline judges present in ``table`` (its ``judge``
    and ``kind`` columns: ``judge_agreement.csv``, ``judge_cards.csv``), then any judge the study does not
    name (a student's own ``JUDGE=``), under its id, so a new judge is never hidden. People, the authors'
    tie-break and the learned judges the study names in its tables stay there (by their kind)."""
    kinds = dict(zip(table["judge"], table["kind"]))
    out = {j: name for j, name in HEADLINE.items() if j in kinds}
    for j, kind in kinds.items():
        kind = JudgeKind.of(kind)
        known = j in OTHER_NAMES or kind.family in (Family.PEOPLE, Family.LEARNED) or kind.is_tie_break
        if j not in out and not known:
            out[j] = j
    return out


def new_models_names(raters) -> dict[str, str]:
    """The raters notebook 05's figure shows, id -> name: the headline judges among ``raters``, the embedded
    judge position-balanced (:data:`BALANCED_EMBEDDED`), the students where their sheets were filled
    (``human``), then any judge the study does not name (a student's own ``JUDGE=``), under its id. The other
    learned variants stay in ``new_small_model_harm.csv``."""
    raters = list(dict.fromkeys(raters))
    known = set(HEADLINE) | set(OTHER_NAMES) | {BALANCED_EMBEDDED, "human"}
    out = {r: display_name(r) for r in [*HEADLINE, BALANCED_EMBEDDED] if r in raters}
    if "human" in raters:
        out["human"] = "students"
    out |= {r: r for r in raters if r not in known and not r.startswith("learned-")}
    return out
