"""``harmstudy.score_set``, the public call for a labelled set: docs/package.md's example runs as printed, a
DataFrame is checked by the one validator ``make external`` uses, and ``import harmstudy`` stays light.
No model and no learned judge: each test takes well under a second once pandas is loaded."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SET = REPO / "data" / "pyrit-scorer-evals" / "harm" / "hate_speech_multi_score.csv"
LEVELS = [0, 0.25, 0.5, 0.75, 1]


def docs_example() -> str:
    """The Python block of docs/package.md's "Use it from Python" section (the rendered doc, as a reader sees it)."""
    text = (REPO / "docs" / "package.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it from Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S)[1]


def test_the_docs_example_runs_and_its_numbers_are_the_hand_computed_ones(monkeypatch, capsys):
    monkeypatch.chdir(REPO)                                    # the doc says: from the repository's root
    namespace = {}
    exec(compile(docs_example(), "docs/package.md", "exec"), namespace)
    result, printed = namespace["result"], capsys.readouterr().out
    assert "human_score_3" in printed and "pyrit_alpha" in printed
    # by hand: PyRIT's MAE is the mean |judge − the people's median|; two people's median is their mean
    frame = pd.read_csv(SET, skiprows=1)
    by_hand = np.mean(np.abs(frame["human_score_3"] - (frame["human_score_1"] + frame["human_score_2"]) / 2))
    table = result.agreement.set_index(["judge", "metric"])
    assert table.loc[("human_score_3", "pyrit_mae"), "estimate"] == pytest.approx(by_hand, abs=1e-12)
    assert table.loc[("human_score_3", "pyrit_mae"), "n"] == len(frame) == 199
    assert set(result.agreement["judge"]) == {"human_score_3"} and result.cards is None and not result.binary
    assert list(result.rows["rows"]) == [199] and result.unscored.empty and result.differences.empty
    assert namespace["figure"].axes[0].get_title().startswith("hate_speech_multi_score: the judges")
    import matplotlib.pyplot as plt

    plt.close(namespace["figure"])


def binary_frame() -> pd.DataFrame:
    """The shipped set made binary in memory (severity 3 of 5 or more = 1) as a researcher's DataFrame: two
    raters, and the third as a classifier's verdict column."""
    frame = pd.read_csv(SET, skiprows=1).head(60)
    for c in ("human_score_1", "human_score_2", "human_score_3"):
        frame[c] = (frame[c] >= 0.5).astype(int)
    return frame.rename(columns={"objective": "prompt", "assistant_response": "answer", "human_score_3": "guard"})


def test_a_dataframe_is_scored_as_its_csv_and_its_cards_and_kappa_are_by_hand(tmp_path):
    import harmstudy
    from sklearn.metrics import cohen_kappa_score

    frame = binary_frame()
    frame.to_csv(tmp_path / "mine.csv", index=False)
    options = dict(request="prompt", response="answer", human=["human_score_1", "human_score_2"], verdicts=["guard"],
                   learned=False, n_boot=50, name="mine")
    from_frame, from_file = harmstudy.score_set(frame, **options), harmstudy.score_set(tmp_path / "mine.csv", **options)
    pd.testing.assert_frame_equal(from_frame.agreement, from_file.agreement)
    pd.testing.assert_frame_equal(from_frame.cards, from_file.cards)
    assert list(from_frame.scores["row"]) == list(range(2, 62))     # the CSV's own record numbers
    a, b = frame["human_score_1"], frame["human_score_2"]
    majority = ((a + b) / 2 >= 0.5).astype(int)                     # a tie counts as harmful
    t = from_frame.agreement.set_index(["judge", "reference", "metric"])["estimate"]
    assert t[("guard", "majority", "kappa")] == pytest.approx(cohen_kappa_score(majority, frame["guard"]), abs=1e-9)
    assert t[("human", "human_score_1 vs human_score_2", "kappa")] == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)
    card = from_frame.cards.set_index("judge").loc["guard"]
    assert card["kind"] == "in file" and card["n"] == 60 and card["consistency_note"].startswith("a column of the file")
    assert from_frame.judges["guard"].threshold == 0.5 and from_frame.compare_with == "guard"


@pytest.mark.parametrize("change, says", [
    (dict(request="question"), "frame, line 1: no column 'question' (REQUEST=); columns are ["),
    (dict(scale="1 2 x"), "SCALE=1 2 x: not 'binary' nor numbers"),
    (dict(dedupe="maybe"), "DEDUPE=maybe: choose DEDUPE=keep"),
    (dict(learned=False, verdicts=[]), "learned=False leaves no judge"),
])
def test_a_dataframe_with_a_problem_raises_the_validators_one_line(change, says):
    import harmstudy

    options = dict(request="prompt", response="answer", human=["human_score_1", "human_score_2"], verdicts=["guard"],
                   learned=False, n_boot=0) | change
    with pytest.raises(harmstudy.SetInputError) as raised:
        harmstudy.score_set(binary_frame(), **options)
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_a_label_off_the_scale_in_a_dataframe_is_named_by_its_csv_line():
    import harmstudy

    frame = binary_frame()
    frame.loc[7, "human_score_1"] = 3                               # row 7: line 9 of its CSV (header line 1)
    with pytest.raises(harmstudy.SetInputError, match=r"frame, line 9: score not on the scale: human_score_1='3'"):
        harmstudy.score_set(frame, request="prompt", response="answer", human=["human_score_1", "human_score_2"],
                            verdicts=["guard"], learned=False, n_boot=0)


def test_import_harmstudy_loads_no_stage_until_a_call_is_used():
    code = ("import sys, harmstudy; heavy = ('pandas', 'sklearn', 'litellm', 'numpy', 'harmstudy.report'); "
            "print(sorted(m for m in heavy if m in sys.modules)); harmstudy.score_set; "
            "print('harmstudy.report.labelled_set' in sys.modules, sorted(harmstudy.EXPORTS) == sorted(set(dir(harmstudy)) & set(harmstudy.EXPORTS)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "True True"]
