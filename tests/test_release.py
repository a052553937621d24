"""Loading the authors' release: checksums, counts per group, anomalies, one table for everybody."""
import shutil

import pytest

from harmstudy import PAPER_MODELS
from harmstudy.data.release import ReleaseError, authors_tie_break, load_release, prompt_id, verify_release
from harmstudy.parse.judge_answers import parse_judge_answer
from harmstudy.parse.rankings import STRICT_ORDER, break_ties_by_position


@pytest.fixture(scope="module")
def rel():
    return load_release()


def test_every_group_sheet_has_60_rows_and_all_but_one_row_is_kept(rel):
    groups = rel.files[rel.files["rater"].str.startswith("group")]
    assert len(groups) == 17
    assert set(groups["rows"]) == {60}
    kept = dict(zip(groups["rater"], groups["kept"]))
    assert kept.pop("group-03") == 59                       # its 'N/A' row has one entry
    assert set(kept.values()) == {60}


def test_encodings_follow_source_md(rel):
    enc = dict(zip(rel.files["rater"], rel.files["encoding"]))
    assert enc["group-06"] != "utf-8" and enc["group-07"] != "utf-8"
    assert all(enc[f"group-{n:02d}"] == "utf-8" for n in range(1, 18) if n not in (6, 7))


def test_anomalies_name_file_row_raw_action_reason(rel):
    a = rel.anomalies
    assert list(a.columns) == ["file", "row", "raw", "action", "reason"]
    rejected = a[a["action"] == "rejected"]
    assert rejected[["file", "raw"]].values.tolist() == [["raw_submissions/output_Group_3.csv", "N/A"]]
    g5 = a[(a["file"] == "raw_submissions/output_Group_5.csv") & a["raw"].str.contains("N/aA") & (a["action"] != "kept")]
    assert len(g5) == 1 and g5["action"].iloc[0] == "repaired"
    g14 = a[(a["file"] == "raw_submissions/output_Group_14.csv") & (a["raw"] == "3,N/A,N/A,")]
    assert "trailing comma" in g14["reason"].iloc[0]
    empty_cells = a[a["reason"].str.startswith("empty response cell")]
    # SOURCE.md says 32 rows; reading every cell as text we find 35 rows with one empty response each.
    assert len(empty_cells) == 35
    assert empty_cells[["file", "row"]].drop_duplicates().shape[0] == 35


def test_one_long_table_for_students_expert_and_judges(rel):
    r = rel.rankings
    counts = r.drop_duplicates(["item_id", "rater"]).groupby("rater_kind").size().to_dict()
    assert counts == {"student": 1019, "expert": 85, "judge": 3 * 984 - 3}   # one judge row per judge is a duplicate triple
    assert set(r["model"]) == set(PAPER_MODELS)
    assert set(r["rater"][r["rater_kind"] == "judge"]) == {"gpt-4o", "claude-sonnet", "llama"}
    usable = r[r["status"].isin(STRICT_ORDER)]
    assert usable["rank"].between(0, 3).all()


def test_group10_is_reversed_in_the_table(rel):
    r = rel.rankings
    # Group 10, row 1 of the sheet; check against the raw cell by hand.
    from harmstudy.data.release import read_csv_any
    from harmstudy import paths
    frame, _ = read_csv_any(paths.RELEASE / "raw_submissions" / "output_Group_10.csv")
    raw = frame["Ranking"].tolist()
    row = next(i for i, c in enumerate(raw, start=1) if c == "3,2,1")
    got = r[(r["rater"] == "group-10") & (r["source_row"] == row)].sort_values("model")["rank"].tolist()
    assert got == [1, 2, 3]      # mistral, mpt, stablelm: written 3,2,1 in group 10's direction


def test_judge_ties_are_kept_as_ties(rel):
    ties = rel.rankings[rel.rankings["status"] == "tie"].drop_duplicates(["rater", "source_row"])
    assert ties["rater"].value_counts().to_dict() == {"llama": 20, "gpt-4o": 1}   # e.g. "1,1,N/A"
    assert ties["rank"].notna().all()                  # binary labels kept


def test_prompt_id_is_stable_under_case_space_and_quotes():
    assert prompt_id("How do I  start?") == prompt_id("how do i start? ") == prompt_id("How do I start?")
    assert prompt_id("It\u2019s fine") == prompt_id("it's fine")
    assert prompt_id("a") != prompt_id("b")


def test_altered_file_stops_with_its_name_and_both_hashes(tmp_path):
    copy = tmp_path / "llm-harm"
    shutil.copytree(load_release.__globals__["paths"].RELEASE, copy)
    verify_release(copy)                                    # intact copy passes
    target = copy / "raw_submissions" / "output_Group_7.csv"
    target.write_bytes(target.read_bytes() + b"\n")
    with pytest.raises(ReleaseError, match=r"output_Group_7\.csv was altered: sha256 is [0-9a-f]{64}, expected aa065847"):
        verify_release(copy)


def test_missing_file_stops_with_how_to_restore(tmp_path):
    copy = tmp_path / "llm-harm"
    shutil.copytree(load_release.__globals__["paths"].RELEASE, copy)
    (copy / "gpt4o_predictions.csv").unlink()
    with pytest.raises(ReleaseError, match=r"gpt4o_predictions\.csv is missing .*git checkout"):
        load_release(copy)


@pytest.mark.parametrize("judge, fname", [("gpt-4o", "gpt4o_predictions.csv"), ("claude-sonnet", "sonnet_predictions.csv"),
                                          ("llama", "llama_predictions.csv")])
def test_our_parse_equals_the_authors_extracted_pred_except_exactly_the_ties(judge, fname):
    """SOURCE.md: `extracted_pred` is the authors' reading of each answer (0 = N/A); ties were broken by
    display position. Our parser must agree on every other row, and the authors' rule on the ties."""
    from harmstudy import paths
    from harmstudy.data.release import read_csv_any

    frame, _ = read_csv_any(paths.RELEASE / fname)
    differ, ties, kept_tied = [], [], []
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        ours = parse_judge_answer(rec["preds"])
        theirs = tuple(int(v) for v in rec["extracted_pred"].split(","))
        if ours.status == "tie":
            ties.append(i)
            if theirs == ours.ranks:
                kept_tied.append(i)
            else:
                assert break_ties_by_position(ours.ranks) == theirs, (i, rec["preds"])
        if ours.ranks != theirs:
            differ.append(i)
    assert differ == [i for i in ties if i not in kept_tied]
    assert len(ties) == {"gpt-4o": 1, "claude-sonnet": 0, "llama": 20}[judge]
    # one of Llama's 20 ties ("Content A: 1 / B: 1 / C: N/A", row 554) the authors left as 1,1,0
    assert kept_tied == ([554] if judge == "llama" else [])


def test_authors_tie_break_rows_change_only_the_ties(rel):
    judges = rel.rankings[rel.rankings["rater_kind"] == "judge"]
    broken = authors_tie_break(judges)
    assert set(broken["rater"]) == {"llama (authors' tie-break)", "gpt-4o (authors' tie-break)"}
    assert (broken["status"] != "tie").all()
    llama = judges[judges["rater"] == "llama"].reset_index(drop=True)
    mine = broken[broken["rater"] == "llama (authors' tie-break)"].reset_index(drop=True)
    changed = llama["rank"] != mine["rank"]
    assert set(llama.loc[changed, "status"]) == {"tie"}             # nothing but the ties moves
    assert llama.loc[changed, "item_id"].nunique() <= 20


def test_sheet_model_names_keep_their_case_but_the_papers_take_table_names():
    from harmstudy.data.release import model_from_header

    assert model_from_header("Model 1 - SmolLM2-135M-Instruct.Q4_1") == "SmolLM2-135M-Instruct.Q4_1"
    assert model_from_header("Model 2 - MPT-7B") == "mpt-7b"
    assert model_from_header("Model 3 - StableLM-alpha-7B") == "stablelm-alpha-7b"
