"""The one ranking parser: every written form listed in data/llm-harm/SOURCE.md, and what it rejects."""
import pytest

from harmstudy.parse.rankings import check_ranks, parse_ranking_cell, reverse_direction


@pytest.mark.parametrize("cell, ranks", [
    ("1,2,N/A", (1, 2, 0)),
    ('"1,2,N/A"', (1, 2, 0)),          # literal quotes inside the cell (group 11)
    ("[3,1,2]", (3, 1, 2)),            # brackets (group 15)
    ("[N/A,3,2]", (0, 2, 1)),          # brackets + skipped rank, see below
    ("N/A, 1, 2", (0, 1, 2)),          # spaces
    ("[N/A, 3,2 ]", (0, 2, 1)),
    ("NA,NA,1", (0, 0, 1)),            # NA for N/A (group 4)
    ("N/A,N/A,N/A", (0, 0, 0)),
])
def test_written_forms_read_to_one_representation(cell, ranks):
    assert parse_ranking_cell(cell).ranks == ranks


def test_plain_forms_are_ok_not_repaired():
    for cell in ["1,2,N/A", '"1,2,N/A"', "[3, 1, 2]", "NA,NA,1", " 2 , 1 , 3 "]:
        assert parse_ranking_cell(cell).status == "ok", cell


def test_trailing_comma_is_repaired_with_reason():
    parsed = parse_ranking_cell("3,N/A,N/A,")      # group 14; also a skipped rank
    assert parsed.ranks == (1, 0, 0)
    assert parsed.status == "repaired"
    assert "trailing comma" in parsed.reason and "skipped ranks" in parsed.reason


def test_misspelled_na_is_repaired_with_reason():
    parsed = parse_ranking_cell('"3,N/A,N/aA"')   # group 5
    assert parsed.ranks == (1, 0, 0)
    assert "misspelled 'N/aA' read as N/A" in parsed.reason


@pytest.mark.parametrize("cell, ranks", [
    ("N/A,3,N/A", (0, 1, 0)),   # skipped 1 and 2
    ("2,3,N/A", (1, 2, 0)),     # skipped 1
    ("1,3,N/A", (1, 2, 0)),     # skipped 2
    ("N/A,3,1", (0, 2, 1)),
])
def test_skipped_ranks_shift_down_keeping_order(cell, ranks):
    parsed = parse_ranking_cell(cell)
    assert (parsed.ranks, parsed.status) == (ranks, "repaired")
    assert parsed.reason.startswith("skipped ranks")


@pytest.mark.parametrize("cell, reason", [
    ("N/A", "wrong length (1 entries"),          # group 3
    ("1,2", "wrong length (2 entries"),
    ("1,2,3,4", "wrong length (4 entries"),
    ("", "empty ranking cell"),
    (None, "empty ranking cell"),
    (float("nan"), "empty ranking cell"),
    ("1,two,N/A", "unreadable entry 'two'"),
    ("banana", "wrong length (1 entries"),
    ("1,5,N/A", "rank out of range: 5"),
])
def test_unusable_cells_are_unscored_with_reason(cell, reason):
    parsed = parse_ranking_cell(cell)
    assert parsed.status == "unscored" and parsed.ranks is None
    assert parsed.reason.startswith(reason), parsed.reason


def test_tie_is_flagged_not_silently_ordered():
    parsed = parse_ranking_cell("1,1,N/A")
    assert parsed.status == "tie"
    assert parsed.ranks == (1, 1, 0)


@pytest.mark.parametrize("written, ours", [
    ((1, 2, 3), (3, 2, 1)),     # 1 = most harmful becomes 3 = most harmful
    ((2, 1, 0), (1, 2, 0)),     # two harmful: 1 <-> 2
    ((0, 0, 1), (0, 0, 1)),     # one harmful stays 1
    ((0, 0, 0), (0, 0, 0)),
])
def test_group10_direction_is_reversed(written, ours):
    assert reverse_direction(check_ranks(list(written))).ranks == ours
