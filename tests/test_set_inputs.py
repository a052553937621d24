"""A researcher's labelled set that can't break anything: the reader and validator (one line per problem, the
parameter that fixes it), spreadsheet-safe CSVs, secrets kept out of what is persisted, answers the parser
can't vouch for left unscored, cards that flag a broken fit; and Hypothesis fuzzing the reader, the prompt
filling and the CSV writer."""
import csv
import io
import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmstudy import files, secrets
from harmstudy.data import scored_responses, set_files
from harmstudy.data.set_files import SetInputError, SetSpec, check_set
from harmstudy.report import external_set

HEADER = "prompt,answer,rater_a,rater_b\n"


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def spec(path, **kw):
    return SetSpec(**{"path": str(path), "request": "prompt", "response": "answer", "human": ["rater_a", "rater_b"],
                      "scale": "binary", **kw})


def error(path, **kw) -> str:
    with pytest.raises(SetInputError) as caught:
        check_set(spec(path, **kw))
    message = str(caught.value)
    assert "\n" not in message                         # one line
    return message


# ------------------------------------------------------------------------------------ the validator
def test_an_empty_file_names_itself(tmp_path):
    assert error(write(tmp_path, "empty.csv", "")) == "empty.csv: the file is empty"
    assert error(write(tmp_path, "blank.csv", " \n\n")) == "blank.csv: the file is empty"


def test_a_latin1_file_names_its_encoding_and_reads_with_encoding(tmp_path):
    path = write(tmp_path, "latin.csv", HEADER + "café crème,réponse très longue ici,1,0\n" * 3, "latin-1")
    message = error(path)
    assert message.startswith("latin.csv, line 2: not UTF-8 (byte 0xe9)") and "ENCODING=" in message
    got = check_set(spec(path, encoding="latin-1"))
    assert got.frame["prompt"].tolist() == ["café crème"] * 3
    assert "ENCODING=nope is not an encoding" in error(path, encoding="nope")


def test_a_semicolon_file_names_its_delimiter_and_reads_with_sep(tmp_path):
    path = write(tmp_path, "semi.csv", "prompt;answer;rater_a;rater_b\nq;a;1;0\nq2;a2;0;0\n")
    assert error(path) == "semi.csv, line 1: the header is one column with the delimiter ',', but it splits on ';': pass SEP=';'"
    assert check_set(spec(path, sep=";")).frame.shape == (2, 4)


@pytest.mark.parametrize("scale, says", [("foo", "SCALE=foo: not 'binary' nor numbers"),
                                         ("1", "SCALE=1: a Likert scale has two levels or more"),
                                         ("", "SCALE is empty")])
def test_a_malformed_scale_says_what_to_pass(tmp_path, scale, says):
    path = write(tmp_path, "s.csv", HEADER + "q,a,1,0\n")
    message = error(path, scale=scale)
    assert message.startswith(says) and 'SCALE="1 2 3 4 5"' in message


def test_scale_words_and_levels():
    assert set_files.parse_scale("Binary") == "binary"
    assert set_files.parse_scale("5 1 3 2 4") == (1.0, 2.0, 3.0, 4.0, 5.0)
    assert set_files.parse_scale([0, 0.5, 1]) == (0.0, 0.5, 1.0)


def test_every_named_column_must_be_there_and_the_message_names_the_parameter(tmp_path):
    path = write(tmp_path, "cols.csv", "prompt,answer,rater\nq,a,1\n")
    assert error(path, human=["rater", "rater_b"]) == (
        "cols.csv, line 1: no column 'rater_b' (HUMAN=); columns are ['prompt', 'answer', 'rater']")
    assert "(REQUEST=)" in error(path, request="question", human=["rater"])
    assert "(VERDICTS=)" in error(path, human=["rater"], verdicts=["guard"])


def test_duplicates_are_counted_and_kept_or_dropped(tmp_path):
    rows = "".join(f"q{i % 4},a{i % 4},1,0\n" for i in range(10))   # 4 unique, 6 repeats
    path = write(tmp_path, "dups.csv", HEADER + rows)
    kept = check_set(spec(path))
    assert kept.duplicates == 6 and len(kept.frame) == 10
    [warning] = kept.warnings
    assert "6 rows repeat an earlier row's request and response (lines 6, 7, 8, 9, 10, …)" in warning
    assert "DEDUPE=drop" in warning
    dropped = check_set(spec(path, dedupe="drop"))
    assert len(dropped.frame) == 4 and [line for _, line in dropped.lines] == [2, 3, 4, 5]
    assert check_set(spec(path, dedupe="keep")).warnings == []
    assert "DEDUPE=maybe: choose DEDUPE=keep" in error(path, dedupe="maybe")


def test_lines_are_the_files_own_when_a_cell_holds_a_line_break(tmp_path):
    # the record on line 2 spans lines 2-4; the next starts on line 5, the one with the bad label on line 6
    text = HEADER + '"a request","first line\nsecond\nthird",1,0\nq,a,1,0\nq2,a2,7,0\n'
    path = write(tmp_path, "multi.csv", text)
    checked = check_set(spec(path))
    assert checked.lines == [(2, 2), (3, 5), (4, 6)]           # (record number: the runs' key, physical line)
    with pytest.raises(scored_responses.ScoredSetError) as caught:
        scored_responses.load_user_set(spec(path), checked, "multi")
    assert "multi.csv, line 6: score not on the scale: rater_a='7'" in str(caught.value)


def test_a_ragged_row_is_named_by_its_line(tmp_path):
    path = write(tmp_path, "ragged.csv", HEADER + "q,a,1,0\nq,a,with,a comma,1,0\n")
    assert error(path).startswith("ragged.csv, line 3: 6 fields where the header has 4")


def test_a_prompt_with_unknown_placeholders_is_refused_and_filling_is_one_pass(tmp_path):
    path = write(tmp_path, "p.csv", HEADER + "q,a,1,0\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("Category {category}: {request} -> {response}. Rubric {rubric}. Yes or No?")
    message = error(path, prompt=str(bad))
    assert "unknown placeholder(s) {category}, {rubric}" in message and "{request} and {response}" in message
    lacking = tmp_path / "lacking.txt"
    lacking.write_text("Is this harmful? {response}")
    assert "lacks {request}" in error(path, prompt=str(lacking))
    filled = set_files.fill_prompt("R: {request}\nA: {response} {{json}}", request="say {response}", response="ok")
    assert filled == "R: say {response}\nA: ok {json}"


def test_make_externals_entry_stops_before_anything_is_written(tmp_path, capsys):
    path = write(tmp_path, "nothing.csv", HEADER + "q,a,1,0\n")
    before = set(external_set.paths.EXTERNAL.glob("*")) if external_set.paths.EXTERNAL.exists() else set()
    assert external_set.run(["--set", str(path), "--request", "prompt", "--response", "answer", "--human",
                             "rater_a rater_x", "--scale", "binary"]) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert said == ["make external: nothing.csv, line 1: no column 'rater_x' (HUMAN=); columns are "
                    "['prompt', 'answer', 'rater_a', 'rater_b']"]
    after = set(external_set.paths.EXTERNAL.glob("*")) if external_set.paths.EXTERNAL.exists() else set()
    assert after == before



@pytest.mark.parametrize("given, says", [
    ({"HS_GATE": "bogus"}, "make external: GATE=bogus: no such gate; the gates are refusal (or empty: none)"),
    ({"HS_PROMPT_VARIANT": "bogus"}, "make external: PROMPT_VARIANT=bogus: no such prompt variant; the variants are "
                                     "paper, response-focused, response-only, harmbench"),
    ({"HS_PROMPT_VARIANT": "response-only", "HS_SCALE": "1 2"},
     "make external: PROMPT_VARIANT=response-only: a prompt variant is one of the study's binary prompts; it takes "
     "neither PROMPT= nor a Likert SCALE")])
def test_an_unknown_gate_or_prompt_variant_is_one_line_before_any_call(given, says, tmp_path, capsys, monkeypatch):
    """GATE= and PROMPT_VARIANT= as make hands them over (HS_<NAME> in the environment): one line naming the
    parameter and the known values, exit status 2, nothing written (the set is read only where it must be)."""
    path = write(tmp_path, "tiny.csv", HEADER + "q,a,1,2\nr,b,2,2\n")   # on the last case's scale; the first two stop before it is read
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    before = set(external_set.paths.EXTERNAL.glob("*")) if external_set.paths.EXTERNAL.exists() else set()
    assert external_set.run(["--set", str(path), "--request", "prompt", "--response", "answer", "--human",
                             "rater_a rater_b", "--judge", "llamacpp/smollm2-135m-instruct"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [says]
    after = set(external_set.paths.EXTERNAL.glob("*")) if external_set.paths.EXTERNAL.exists() else set()
    assert after == before

def test_output_folders_never_climb_out_nor_collide(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    one, two = external_set.output_name(tmp_path / "a" / "good10.csv"), external_set.output_name(tmp_path / "b" / "good10.csv")
    assert one != two and one.startswith("good10-") and len(one) == len("good10-") + 8
    assert external_set.output_name(tmp_path / "...csv").startswith("set-")
    assert external_set.output_name(tmp_path / "x';touch PWNED;'.csv").startswith("x-touch-PWNED-")
    assert external_set.output_name("ignored.csv", out="my review") == "my-review"
    with pytest.raises(SetInputError):
        external_set.output_name("x.csv", out="..")
    assert external_set.words("'rater a' rater_b") == ["rater a", "rater_b"]


# ------------------------------------------------------------------------- spreadsheet-safe CSVs
def test_cells_a_spreadsheet_would_run_are_escaped_in_values_and_headers(tmp_path):
    frame = pd.DataFrame({"=HYPERLINK(A1)": ["=1+1", "+cmd", "-0.5", "@SUM(A1)", "\tx", "plain", "-", "+1e-3"],
                          "number": [-1.5, 2, 3, 4, 5, 6, 7, 8]})
    files.write_csv(frame, tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert rows[0] == ["'=HYPERLINK(A1)", "number"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+cmd", "-0.5", "'@SUM(A1)", "'\tx", "plain", "'-", "+1e-3"]
    assert rows[1][1] == "-1.5"                              # a number is never a formula


def test_files_get_the_users_umask():
    code = ("import os, stat, sys, tempfile; os.umask(int(sys.argv[1], 8)); from harmstudy import files; "
            "d = tempfile.mkdtemp(); p = os.path.join(d, 'x.csv'); files.write_bytes_atomic(p, b'a'); "
            "print(oct(stat.S_IMODE(os.stat(p).st_mode)))")
    modes = [subprocess.run([sys.executable, "-c", code, mask], capture_output=True, text=True, check=True).stdout.strip()
             for mask in ("022", "077", "002")]
    assert modes == ["0o644", "0o600", "0o664"]


# ------------------------------------------------------------------------------------------ secrets
def test_a_key_the_run_knows_never_persists_even_split(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123456")
    monkeypatch.setenv("HARMSTUDY_ROOT", str(tmp_path))
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=zz-hidden-value-42\n")
    assert secrets.scrub("the key is sk-test-123456, and zz-hidden-value-42") == "the key is [REDACTED], and [REDACTED]"
    assert secrets.scrub("first half sk-test-\n12 3456 then") == secrets.WITHHELD      # split across parts
    assert secrets.scrub("zz hidden value 42") == secrets.WITHHELD
    assert secrets.scrub("an ordinary answer") == "an ordinary answer"
    files.write_csv(pd.DataFrame({"answer": ["quote: zz-hidden-value-42"]}), tmp_path / "t.csv")
    assert "zz-hidden-value-42" not in (tmp_path / "t.csv").read_text()


# --------------------------------------------------------------------- answers the parser can't vouch for
def test_an_answer_with_little_mass_on_yes_and_no_is_unscored_with_its_top_tokens():
    from harmstudy.parse.judge_scores import MIN_ANSWER_MASS, binary_score

    def answer(probs):
        return json.dumps({"text": probs[0][0], "top_logprobs": [[t, math.log(p)] for t, p in probs]})

    banana = binary_score(answer([("You", .55), ("I", .3), ("Ban", .1), ("No", .029)]))
    assert banana.value is None and banana.status == "unscored"
    assert "Yes / No hold 2.9%" in banana.reason and "'You' 55.0%" in banana.reason and "'Ban' 10.0%" in banana.reason
    # 0.12 + 0.09 = 0.21 >= 0.2: scored, P = 0.12 / 0.21; 0.1 + 0.09 = 0.19 is not
    kept = binary_score(answer([("Yes", .12), ("No", .09), ("I", .79)]))
    assert MIN_ANSWER_MASS == 0.2 and kept.value == pytest.approx(0.12 / 0.21)
    assert binary_score(answer([("Yes", .10), ("No", .09), ("I", .81)])).status == "unscored"


# ---------------------------------------------------------------------------------- cards that flag a fit
def test_a_length_slope_that_broke_down_is_flagged_not_plotted():
    from harmstudy.stats.cards import checked_length_slope

    rng = np.random.default_rng(0)
    n = 40
    log_length = np.sort(rng.uniform(3, 8, n))
    separated = pd.DataFrame({"prompt_id": np.arange(n) // 2, "log_length": log_length,
                              "label": rng.integers(0, 2, n), "called": (log_length > 5.5).astype(int)})
    broke = checked_length_slope(separated)                       # length alone decides the call
    assert np.isnan([broke.slope, broke.ci_low, broke.ci_high, broke.people_slope]).all()
    assert broke.note.startswith("unreliable:")
    assert checked_length_slope(separated.head(10)).note == "not measured: 10 scored responses (a slope needs 20)"
    alike = separated.assign(called=1)
    assert checked_length_slope(alike).note == "not measured: the judge called every response alike"


# ------------------------------------------------------------------------------------------- fuzzing
FORMULA = st.sampled_from(["=", "+", "-", "@", "\t", "\r", ""])
CELL = st.builds(lambda p, t: p + t, FORMULA, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".parquet"]))
def test_any_bytes_read_or_fail_with_one_line(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        check_set(spec(path))
    except SetInputError as exc:
        assert "\n" not in str(exc) and str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, CELL, st.sampled_from(["1", "0", "yes", "x"])), min_size=1, max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]), sep=st.sampled_from([",", ";", "\t"]))
def test_written_sets_score_or_fail_with_one_line(tmp_path, rows, encoding, sep):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=sep, lineterminator="\n")
    writer.writerow(["prompt", "answer", "rater_a", "rater_b"])
    writer.writerows([(q, a, r, r) for q, a, r in rows])
    path = tmp_path / "set.csv"
    try:
        path.write_bytes(text.getvalue().encode(encoding))
    except UnicodeEncodeError:
        return
    try:
        checked = check_set(spec(path))
        scored_responses.load_user_set(spec(path), checked, "set")
    except SetInputError as exc:                        # ScoredSetError is one too
        lines = str(exc).splitlines()
        assert lines and all(line.strip() for line in lines)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(CELL, min_size=1, max_size=8), header=CELL)
def test_no_written_cell_starts_with_a_formula_character(cells, header):
    frame = pd.DataFrame({header or "h": cells, "n": range(len(cells))})
    parsed = list(csv.reader(io.StringIO(files.csv_text(frame), newline="")))
    for cell in [c for row in parsed for c in row]:
        assert not cell[:1] in ("=", "+", "-", "@", "\t", "\r") or files._NUMBER.match(cell)


@settings(max_examples=40, deadline=None)
@given(request=st.text(max_size=30), response=st.text(max_size=30))
def test_prompt_filling_never_fills_a_value_again(request, response):
    filled = set_files.fill_prompt("<{request}|{response}>", request=request, response=response)
    assert filled == f"<{request}|{response}>"


@settings(max_examples=40, deadline=None)
@given(prefix=st.text(max_size=20), cut=st.integers(1, 13), glue=st.sampled_from([" ", "\n", "-", " - ", "\"\n\""]))
def test_no_secret_survives_scrubbing(prefix, cut, glue):
    key = "sk-test-123456"
    os.environ["HARMSTUDY_FUZZ_TOKEN"] = key
    try:
        for text in (prefix + key, prefix + key[:cut] + glue + key[cut:]):
            kept = secrets.scrub(text)
            assert key not in kept and not secrets.holds_split_secret(kept)
    finally:
        del os.environ["HARMSTUDY_FUZZ_TOKEN"]


def test_a_run_made_with_other_settings_names_the_folder_to_delete_where_it_lives(study_root, tmp_path):
    from harmstudy.runs import Run, RunMismatchError

    study = Run("guarded", "judging")
    study.write_manifest({"settings": {"temperature": 0.0}}, provenance_now=False)
    with pytest.raises(RunMismatchError, match=r"\(settings.temperature\); choose another run name or delete "
                                               r"data/runs/guarded$"):
        study.guard({"settings": {"temperature": 0.7}})
    users = Run("likert", "judging", root=study_root / "build" / "external" / "my-set-0a1b2c3d" / "runs")
    users.write_manifest({"settings": {"temperature": 0.0}}, provenance_now=False)
    with pytest.raises(RunMismatchError, match=r"delete build/external/my-set-0a1b2c3d/runs/likert$"):
        users.guard({"settings": {"temperature": 0.7}})
    outside = Run("x", "judging", root=tmp_path / "elsewhere")
    outside.write_manifest({"settings": {"temperature": 0.0}}, provenance_now=False)
    with pytest.raises(RunMismatchError, match=f"delete {tmp_path / 'elsewhere' / 'x'}$"):
        outside.guard({"settings": {"temperature": 0.7}})



HOLD = """
import sys, time
from pathlib import Path
from harmstudy.report.external_set import FolderLock
folder, who = Path(sys.argv[1]), sys.argv[2]
with FolderLock(folder):
    with open(folder / "order.txt", "a") as log:
        log.write(f"{who} in\\n")
    while who == "first" and not (folder / "release").exists():      # held until the test lets go
        time.sleep(0.02)
    with open(folder / "order.txt", "a") as log:
        log.write(f"{who} out\\n")
"""


def test_a_second_run_on_one_set_waits_for_the_first_and_says_so(tmp_path):
    import subprocess
    import sys
    import time

    folder = tmp_path / "build" / "external" / "ours-0a1b2c3d"
    first = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), "first"], stderr=subprocess.PIPE, text=True)
    while not (folder / "order.txt").exists():                 # the first holds the lock
        time.sleep(0.02)
    second = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), "second"], stderr=subprocess.PIPE, text=True)
    said = second.stderr.readline()                              # the second says it waits, and waits
    assert "another run on this set is under way; waiting for it to end, then its answers are reused" in said
    assert (folder / "order.txt").read_text() == "first in\n"
    (folder / "release").touch()
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    assert (folder / "order.txt").read_text().split("\n")[:4] == ["first in", "first out", "second in", "second out"]
    assert "waiting" not in first.stderr.read()


def test_a_cell_or_name_holding_a_bare_carriage_return_stays_one_cell():
    """Found by the fuzz test above: csv's minimal quoting leaves a bare "\r" unquoted, which a reader takes
    for a line end; written by hand here so it is checked on every run, not only when Hypothesis draws it."""
    for frame in (pd.DataFrame({"h": ["\r=", "a\rb"], "n": [0, 1]}), pd.DataFrame({"a\r=b": ["x"], "n": [0]})):
        parsed = list(csv.reader(io.StringIO(files.csv_text(frame), newline="")))
        assert len(parsed) == len(frame) + 1 and all(len(row) == 2 for row in parsed)
        assert not any(cell[:1] in files.FORMULA_STARTS for row in parsed for cell in row)
