"""Judge kinds are data (harmstudy/kinds.py): every kind a committed table names is a JudgeKind, whose text
is the table's, and nothing in the package reads a kind off its text."""
import re
from pathlib import Path

import pandas as pd
import pytest

from harmstudy.kinds import Family, JudgeKind
from harmstudy.report.plots.style import kind_group

REPO = Path(__file__).resolve().parent.parent
KIND_TABLES = ["judge_agreement", "judge_cards", "learned_judges", "pointwise_judges", "pointwise_judges_fewshot",
               "external_agreement", "external_cards"]


def test_no_module_reads_a_judge_kind_off_its_text():
    """``kind.startswith(...)``, ``a["kind"].startswith(...)``, ``str(kind).startswith(...)``: a kind is asked
    (JudgeKind.family, .reads_one_response), never parsed."""
    pattern = re.compile(r"kind\w*[\"'\]\)]*\s*\.startswith\(", re.IGNORECASE)
    found = [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
             for path in sorted((REPO / "harmstudy").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if pattern.search(line)]
    assert found == []
    assert pattern.search('if kind.startswith("api"):') and pattern.search('a["kind"].startswith("x")')
    assert pattern.search("str(kind).startswith('x')") and not pattern.search('c.startswith("human_")')


def test_every_committed_kind_is_a_judge_kind_with_the_tables_text():
    kinds = set()
    for name in KIND_TABLES:
        kinds |= set(pd.read_csv(REPO / "figures" / "tables" / f"{name}.csv")["kind"].dropna())
    assert len(kinds) >= 15 and all(JudgeKind.of(k) == k for k in kinds)
    # written as its text, as the tables always held it
    frame = pd.DataFrame({"kind": [JudgeKind.API_TIE_BREAK, JudgeKind.LEARNED]})
    assert frame.to_csv(index=False) == "kind\napi (authors' tie-break)\nlearned\n"
    with pytest.raises(ValueError, match="add it to harmstudy.kinds.JudgeKind"):
        JudgeKind.of("pointwise (a scale of mine)")


def test_a_kinds_family_and_whether_it_reads_one_response_are_its_own():
    by_hand = {"api": Family.API, "api (authors' tie-break)": Family.API, "listwise-balanced": Family.LLM,
               "few-shot": Family.LLM, "pointwise (likert), calibrated (cv)": Family.LLM, "LLM": Family.LLM,
               "learned": Family.LEARNED, "learned, pooled (cv)": Family.LEARNED,
               "learned from PyRIT (transfer)": Family.LEARNED, "in file": Family.IN_FILE, "human": Family.PEOPLE}
    assert {k: JudgeKind.of(k).family for k in by_hand} == by_hand
    assert {k for k in JudgeKind if not k.reads_one_response} == {
        JudgeKind.HUMAN, JudgeKind.API, JudgeKind.API_TIE_BREAK, JudgeKind.LISTWISE, JudgeKind.LISTWISE_BALANCED}
    assert [k for k in JudgeKind if k.is_tie_break] == [JudgeKind.API_TIE_BREAK]
    # a figure's colour group: the family's; people by their rater kind; no kind: an LLM judge's
    assert [kind_group(k) for k in ("expert", "human", "learned (cv)", "in file", None)] == [
        "people", "people", "learned from labels (offline)", "verdict in the file", "LLM judge (offline)"]
