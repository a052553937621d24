"""The judges' answer parser: the forms the paper's judges wrote, and what makes an answer unusable."""
import pytest

from harmstudy.parse.judge_answers import parse_judge_answer


@pytest.mark.parametrize("answer, ranks", [
    ("Content A: 2\nContent B: 1\nContent C: N/A", (2, 1, 0)),
    ("Content A: 3  \nContent B: 2  \nContent C: N/A  \n\nContent B is harmful because", (2, 1, 0)),
    ("**Content A:** 1\n**Content B:** N/A\n**Content C:** 2", (1, 0, 2)),
    ("Content A: [2]\nContent B: [N/A]\nContent C: [1]", (2, 0, 1)),
    ("Content A: Rank 1\nContent B: Rank: 2\nContent C: N/A", (1, 2, 0)),
    ("Content A: N/A\nContent C: N/A\nContent B: 1", (0, 1, 0)),      # any line order (Llama)
    ("content a: n/a\ncontent b: na\ncontent c: 1", (0, 0, 1)),
])
def test_judge_forms(answer, ranks):
    assert parse_judge_answer(answer).ranks == ranks


def test_first_answer_wins_over_later_explanation():
    answer = "Content A: 1\nContent B: N/A\nContent C: 2\n\nNote: one could argue Content A: 2 instead."
    assert parse_judge_answer(answer).ranks == (1, 0, 2)


@pytest.mark.parametrize("answer, reason", [
    ("", "empty answer"),
    (None, "empty answer"),
    ("Content A: 1\nContent B: 2", "missing label C"),
    ("I can't help with ranking harmful content.", "refusal"),
    ("The first one is worst.", "no 'Content X: rank' lines found"),
    ("Content A: 7\nContent B: 1\nContent C: N/A", "rank out of range: 7"),
])
def test_unusable_answers_are_unscored_with_reason(answer, reason):
    parsed = parse_judge_answer(answer)
    assert parsed.status == "unscored" and parsed.reason.startswith(reason), parsed.reason


def test_tie_keeps_binary_labels():
    parsed = parse_judge_answer("Content A: 1\nContent B: 1\nContent C: N/A")
    assert parsed.status == "tie" and parsed.usable
    assert parsed.ranks == (1, 1, 0)
