"""Student annotation round trip: export sheets, fill them, import through the release's parser."""
import pandas as pd
import pytest

from harmstudy.data import annotation
from harmstudy.parse.rankings import format_ranking

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
        annotation.export_sheets(responses(5), MODELS, tmp_path, n_groups=3, per_group=4, overlap=1,
                                 fit_to_run=False)


def fill_by_prompt(sheets, out_dir, ranking_of):
    """Fill every sheet with a ranking chosen per prompt (so groups agree unless ``ranking_of`` says not)."""
    out_dir.mkdir(exist_ok=True)
    for g, sheet in enumerate(sheets, start=1):
        frame = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        frame["Ranking"] = [ranking_of(g, p) for p in frame["Prompt"]]
        frame.to_csv(out_dir / sheet.name, index=False)
    return sorted(out_dir.iterdir())


def test_inter_group_alpha_is_one_when_groups_agree_and_falls_when_one_reverses(tmp_path):
    models = ["SmolLM2-135M-Instruct.Q4_1", "gemma3-270m", "Qwen-0.5B"]     # a .gguf stem keeps its case
    resp = responses().assign(model=lambda d: d["model"].map(dict(zip(MODELS, models))))
    annotation.export_sheets(resp, models, tmp_path / "blank", n_groups=2, per_group=6, overlap=3, seed=2)
    sheets = sorted((tmp_path / "blank").glob("output_Group_*.csv"))
    forms = ["2,1,N/A", "1,2,3", "N/A,N/A,1", "3,1,2"]

    def agree(g, prompt):
        return forms[int(prompt.split()[-1].rstrip("?")) % 4]

    rankings, _ = annotation.import_sheets(fill_by_prompt(sheets, tmp_path / "same", agree))
    assert set(rankings["model"]) == set(models)                  # names exactly as exported
    same = annotation.inter_group_alpha(rankings)
    assert same["items"] == 3 and same["alpha_ordinal"] == pytest.approx(1.0)

    def reverse_in_group_2(g, prompt):                               # group 2 reads the scale upside down
        ranks = agree(g, prompt)
        return ranks if g == 1 else ",".join({"1": "3", "3": "1"}.get(v, v) if "3" in ranks else
                                             {"1": "2", "2": "1"}.get(v, v) for v in ranks.split(","))

    rankings, _ = annotation.import_sheets(fill_by_prompt(sheets, tmp_path / "rev", reverse_in_group_2))
    assert annotation.inter_group_alpha(rankings)["alpha_ordinal"] < 0.5


def test_a_small_run_gets_smaller_sheets_with_a_message(tmp_path, capsys):
    assignment = annotation.export_sheets(responses(6), MODELS, tmp_path, n_groups=2, per_group=60, overlap=10)
    assert "sheets of" in capsys.readouterr().out
    per_group = assignment.groupby("group").size()
    shared = assignment.groupby("prompt_id")["group"].nunique()
    assert (per_group == 3).all() and (shared == 2).sum() == 1 and assignment["prompt_id"].nunique() == 5


def test_sheets_a_spreadsheet_opens_run_no_formula_and_read_back_the_responses_own_text(tmp_path):
    from harmstudy.data.release import item_id

    frame = responses(6)
    formula = '=HYPERLINK("http://example.invalid","click")'
    frame.loc[frame["model"] == "alpha-1b", "response"] = formula
    frame.loc[frame["model"] == "beta-2b", "response"] = "-rm everything"
    frame.loc[frame["prompt_id"] == "p00", "prompt"] = "@SUM(A1:A9)"
    annotation.export_sheets(frame, MODELS, tmp_path / "blank", n_groups=1, per_group=6, overlap=0, seed=1)
    sheet = tmp_path / "blank" / annotation.sheet_name(1)
    cells = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    text = cells.drop(columns="Ranking").to_numpy().ravel()
    assert not [c for c in text if c[:1] in "=+-@"]
    assert set(cells["Model 1 - alpha-1b"]) == {"'" + formula} and "'@SUM(A1:A9)" in set(cells["Prompt"])
    cells["Ranking"] = "1,2,N/A"
    cells.to_csv(sheet, index=False)
    rankings, anomalies = annotation.import_sheets([sheet], source_label="run")
    assert anomalies.empty and "@SUM(A1:A9)" in set(rankings["prompt"])
    originals = {item_id(p, [g.set_index("model").loc[m, "response"] for m in MODELS])
                 for p, g in frame.groupby("prompt")}
    assert set(rankings["item_id"]) == originals
