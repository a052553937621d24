"""Student annotation round trip: export sheets, fill them, import through the release's parser."""
import pandas as pd
import pytest

from harmstudy import annotation
from harmstudy.rankings import format_ranking

MODELS = ["alpha-1b", "beta-2b", "gamma-3b"]


def responses(n=14):
    rows = []
    for i in range(n):
        for m in MODELS:
            rows.append({"prompt_id": f"p{i:02d}", "prompt": f"Prompt number {i}?", "model": m,
                         "response": f"{m} says {i}"})
    return pd.DataFrame(rows)


def test_export_fill_import_round_trip_preserves_every_ranking(tmp_path):
    blank = tmp_path / "blank"
    assignment = annotation.export_sheets(responses(), MODELS, blank, n_groups=3, per_group=6, overlap=2, seed=4)
    sheets = sorted(blank.glob("output_Group_*.csv"))
    assert len(sheets) == 3 and (blank / "INSTRUCTIONS.md").read_text().startswith("# Ranking")
    first = pd.read_csv(sheets[0])
    assert list(first.columns) == ["Prompt", "Model 1 - alpha-1b", "Model 2 - beta-2b", "Model 3 - gamma-3b", "Ranking"]
    shared = assignment.groupby("prompt_id")["group"].nunique()
    assert (shared == 3).sum() == 2 and (shared == 1).sum() == 3 * 4      # seeded overlap, the rest dealt out

    # fill: a deterministic ranking per prompt, written in the forms students use
    forms = ["2,1,N/A", "[3, 1, 2]", '"N/A,N/A,1"', "NA,1,NA", "1, 2 ,3"]
    expected = {}
    filled = tmp_path / "filled"
    filled.mkdir()
    for g, sheet in enumerate(sheets, start=1):
        frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        for r in range(len(frame)):
            cell = forms[(g + r) % len(forms)]
            frame.loc[r, "Ranking"] = cell
            expected[(f"run-group-{g:02d}", frame.loc[r, "Prompt"])] = cell
        if g == 2:
            frame.to_excel(filled / sheet.name.replace(".csv", ".xlsx"), index=False)   # Excel works too
        else:
            frame.to_csv(filled / sheet.name, index=False)
    rankings, anomalies = annotation.import_sheets(sorted(filled.iterdir()), source_label="run")
    assert anomalies.empty
    assert set(rankings["model"]) == set(MODELS)
    for (rater, prompt), cell in expected.items():
        got = rankings[(rankings["rater"] == rater) & (rankings["prompt"] == prompt)]
        got = tuple(got.set_index("model").loc[MODELS, "rank"])
        want = {"2,1,N/A": (2, 1, 0), "[3, 1, 2]": (3, 1, 2), '"N/A,N/A,1"': (0, 0, 1), "NA,1,NA": (0, 1, 0),
                "1, 2 ,3": (1, 2, 3)}[cell]
        assert got == want, (rater, prompt, cell, format_ranking(got))
    alpha = annotation.inter_group_alpha(rankings)
    assert alpha["items"] == 2 and alpha["groups"] == 3


def test_broken_sheet_rows_are_reported_not_dropped(tmp_path):
    annotation.export_sheets(responses(), MODELS, tmp_path, n_groups=1, per_group=5, overlap=0, seed=1)
    sheet = tmp_path / "output_Group_1.csv"
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    frame["Ranking"] = ["1,1,N/A", "", "1,2", "2,3,N/A", "x,1,2"]
    frame.to_csv(sheet, index=False)
    rankings, anomalies = annotation.import_sheets([sheet])
    got = dict(zip(anomalies["row"], zip(anomalies["action"], anomalies["reason"])))
    assert got[1][0] == "rejected" and got[1][1].startswith("tie")
    assert got[2] == ("rejected", "empty ranking cell")
    assert got[3][1].startswith("wrong length (2 entries")
    assert got[4][0] == "repaired" and "skipped ranks" in got[4][1]
    assert got[5][1] == "unreadable entry 'x'"
    assert set(anomalies["file"]) == {"output_Group_1.csv"}
    assert rankings["source_row"].unique().tolist() == [4]     # only the repaired row joins the table


def test_export_refuses_impossible_sheets(tmp_path):
    with pytest.raises(ValueError, match="not enough prompts"):
        annotation.export_sheets(responses(5), MODELS, tmp_path, n_groups=3, per_group=4, overlap=1)
