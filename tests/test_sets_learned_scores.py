"""The learned judges' scores on PyRIT's sets, stored by content (harmstudy/sets/learned_scores.py): computed
once, read back exactly while their fingerprint holds, computed again when anything it covers changes
(harmstudy/runs.py: Run.stored_or_computed)."""
import hashlib
import json

import numpy as np
import pandas as pd

from harmstudy.data import scored_responses
from harmstudy.runs import Run, content_fingerprint
from harmstudy.sets import learned_scores


def test_the_fingerprint_is_sha256_over_settings_data_code_and_versions_by_hand(tmp_path):
    code = tmp_path / "module.py"
    code.write_bytes(b"x = 1\n")
    frame = pd.DataFrame({"a": [1, 2]})
    by_hand = hashlib.sha256(b'{"C": 0.3}')
    by_hand.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    by_hand.update(b"store-name")
    by_hand.update(b"x = 1\n")
    by_hand.update(b"{}")                                         # no package named: an empty version dict
    assert content_fingerprint({"C": 0.3}, [frame, "store-name"], [code], packages=()) == by_hand.hexdigest()
    code.write_bytes(b"x = 2\n")                                  # the code changed: another fingerprint
    assert content_fingerprint({"C": 0.3}, [frame, "store-name"], [code], packages=()) != by_hand.hexdigest()


def test_scores_are_computed_once_then_read_back_exactly_until_a_setting_changes(tmp_path):
    scores = scored_responses.load_pyrit().scores
    few = scores[scores["dataset"].isin(["privacy", "violence"])].groupby("dataset").head(40).reset_index(drop=True)
    made = learned_scores.learned_set_scores(few, n_splits=3, root=tmp_path)
    first, said = made.scores, made.said
    assert said.startswith("learned judges: 6 judges' scores computed in ")
    assert list(first) == list(learned_scores.KINDS) and all(len(v) == 80 for v in first.values())
    folder = tmp_path / "learned-pyrit-C0.3-cv3"                  # not the study's settings: not its run
    stored = pd.read_csv(folder / "scores.csv", float_precision="round_trip")
    assert len(stored) == 80

    # read back, every digit kept
    read = learned_scores.learned_set_scores(few, n_splits=3, root=tmp_path)
    again, said = read.scores, read.said
    assert said.startswith("learned judges: 6 judges' scores read from learned-pyrit-C0.3-cv3")
    for name in first:
        assert np.array_equal(again[name], first[name], equal_nan=True), name

    # what is read is the stored file (a score changed there by hand comes back), not a recomputation
    path = folder / "scores.csv"
    stored.loc[0, "learned-tfidf-cv"] = 0.123456789
    stored.to_csv(path, index=False)
    assert learned_scores.learned_set_scores(few, n_splits=3, root=tmp_path).scores["learned-tfidf-cv"][0] == 0.123456789
    # a human score changed: another fingerprint (what makes the run compute again: the test below)
    relabelled = few.assign(human_median=few["human_median"].where(few.index != 5, 1 - few.loc[5, "human_median"]))
    settings = json.loads(path.with_name("manifest.json").read_text())["settings"]
    assert learned_scores.fingerprint(relabelled, settings) != learned_scores.fingerprint(few, settings)
    assert learned_scores.run_name() == "learned-pyrit" and learned_scores.run_name(0.5, 5) == "learned-pyrit-C0.5-cv5"


def test_a_stored_run_computes_only_when_its_fingerprint_changes_and_keeps_every_digit(tmp_path):
    computed = []

    def compute():
        computed.append(1)
        return {"scores": pd.DataFrame({"row": [1, 2], "p": [1 / 3, 0.1 + 0.2]})}

    run = Run("stored", "test", root=tmp_path)
    first, reused, _ = run.stored_or_computed("a" * 64, compute, settings={"C": 0.3})
    again, reused_again, _ = run.stored_or_computed("a" * 64, compute, settings={"C": 0.3})
    assert (reused, reused_again, len(computed)) == (False, True, 1)
    assert again["scores"]["p"].tolist() == [1 / 3, 0.1 + 0.2]          # 0.30000000000000004 read back as such
    run.stored_or_computed("b" * 64, compute, settings={"C": 0.3})       # anything it follows from changed
    assert len(computed) == 2
    (tmp_path / "stored" / "scores.csv").unlink()                        # a table gone: computed again
    run.stored_or_computed("b" * 64, compute, settings={"C": 0.3})
    assert len(computed) == 3 and json.loads((tmp_path / "stored" / "manifest.json").read_text())["tables"] == ["scores"]


def test_a_stored_run_keeps_measurements_of_unchanged_parts_rounds_on_request_and_takes_shared_tables(tmp_path):
    """stored_or_computed's hooks (what a learned run uses): ``decimals`` writes the study's CSV format and
    returns what it wrote; ``kept`` keeps a part's recorded measurement while its settings entry is the same;
    ``shared`` takes tables another run with the same part fingerprint holds, with its measurements."""
    from harmstudy.runs import Computed, Shared

    calls = []

    def compute(donated, seconds):
        calls.append(donated)
        paper = donated["paper"] if donated else pd.DataFrame({"p": [1 / 3], "source": ["mine"]})
        return Computed({"paper": paper, "new": pd.DataFrame({"p": [2 / 3]})},
                        {"seconds_per_item": seconds, "per_text": {"m": 9.0}})

    def stored(run, fingerprint, judges, seconds, part="p" * 64):
        return Run(run, "test", root=tmp_path).stored_or_computed(
            fingerprint, lambda donated: compute(donated, seconds), settings={"judges": judges}, decimals=6,
            shared=Shared("paper", part, ("paper",), measured=("per_text",)), kept={"seconds_per_item": "judges"},
            record={"extra": 1})

    first = stored("a", "a" * 64, {"x": 1, "y": 1}, {"x": 1.0, "y": 2.0})
    assert first.tables["new"]["p"].tolist() == [0.666667] and not first.reused     # rounded, as stored
    assert (tmp_path / "a" / "paper.csv").read_text() == "p,source\n0.333333,mine\n"
    # computed again (another fingerprint): y's spec changed, so only x keeps the seconds it recorded
    stored("a", "b" * 64, {"x": 1, "y": 2}, {"x": 5.0, "y": 6.0})
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["extra"] == 1 and isinstance(manifest["seconds"], float)       # what computing took
    assert manifest["seconds_per_item"] == {"x": 1.0, "y": 6.0} and manifest["paper_fingerprint"] == "p" * 64
    assert "paper_from" not in manifest and calls[-1] is None
    # another run with the same part fingerprint: its shared table is a's as written, with a's measurement
    (tmp_path / "a" / "manifest.json").write_text(json.dumps({**manifest, "per_text": {"m": 1.5}}))
    b = stored("b", "c" * 64, {"x": 1, "y": 2}, {"x": 7.0, "y": 8.0})
    assert calls[-1]["paper"].to_dict("list") == {"p": ["0.333333"], "source": ["mine"]}   # read as text
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["paper_from"] == "a" and manifest["per_text"] == {"m": 1.5}
    assert manifest["seconds_per_item"] == {"x": 7.0, "y": 8.0}     # b's own (no spec of b's was recorded)
    assert b.tables["paper"]["p"].tolist() == [0.333333]
    # another part fingerprint: nothing to take
    stored("c", "d" * 64, {"x": 1}, {"x": 1.0}, part="q" * 64)
    assert calls[-1] is None
