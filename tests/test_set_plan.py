"""A researcher's path: the template set reads, and a set's size is planned (harmstudy/stats/power.py,
harmstudy/report/set_plan.py, `make external-plan`), checked against hand arithmetic."""
from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from harmstudy.data import scored_responses, set_files
from harmstudy.report import set_plan
from harmstudy.stats import power

from project_copy import REPO

TEMPLATE = REPO / "data" / "examples" / "labelled_set_template.csv"
TEMPLATE_SPEC = dict(request="request", response="response", human=["rater_1", "rater_2"], verdicts=["guard"],
                     category="category")


def test_the_template_passes_the_validator_and_every_label_reads():
    spec = set_files.SetSpec(path=str(TEMPLATE), **TEMPLATE_SPEC)
    checked = set_files.check_set(spec)
    assert checked.warnings == [] and checked.duplicates == 0
    scores = scored_responses.load_user_set(spec, checked, "template").scores
    assert len(scores) == len(pd.read_csv(TEMPLATE))
    assert set(scores["human_1"]) == set(scores["human_2"]) == {0.0, 1.0}       # both labels occur
    assert set(scores["verdict:guard"]) == {0.0, 1.0}


def test_using_md_explains_every_column_of_the_template():
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0].split(",")
    using = (REPO / "templates" / "docs" / "using.md").read_text(encoding="utf-8")
    assert "labelled_set_template.csv" in using
    missing = [c for c in header if f"`{c}`" not in using]
    assert missing == [], f"templates/docs/using.md does not explain the template's columns {missing}"


def frame(human, judges=()):
    data = {f"h{i}": col for i, col in enumerate(human)}
    data.update({f"j{i}": col for i, col in enumerate(judges)})
    return pd.DataFrame(data), list(data)[:len(human)], list(data)[len(human):]


def test_a_set_where_everyone_agrees_has_alpha_and_kappa_one_and_no_spread():
    labels = np.array([0, 1] * 20, dtype=float)
    scores, human, judges = frame([labels, labels], [labels, labels])
    ref = power.reference_from_scores(scores, human, judges)
    plan = power.plan_set(40, reference=ref, n_boot=200)
    assert plan.alpha == 1.0 and plan.kappa == 1.0
    assert plan.alpha_half_width == 0.0 and plan.kappa_half_width == 0.0 and plan.smallest_difference == 0.0
    assert plan.rows_to_halve_alpha is None and plan.rows_to_halve_kappa is None
    assert "nothing to halve" in plan.summary()


def balanced_null_reference(n: int = 2000):
    """Two people who always agree (the consensus: half 1, half 0), judge A = the consensus, judge B
    independent of it with balanced marginals: the four cells of B against the consensus hold n/4 each."""
    consensus = np.repeat([0.0, 1.0], n // 2)
    b = np.tile(np.repeat([0.0, 1.0], n // 4), 2)
    scores, human, judges = frame([consensus, consensus], [consensus, b])
    return power.reference_from_scores(scores, human, judges)


def test_the_smallest_difference_matches_kappa_null_variance_by_hand():
    # Judge A agrees perfectly (κ = 1 in every draw); B is independent of the people with marginals ½: Cohen's
    # κ's large-sample variance at κ = 0 (Fleiss, Cohen & Everitt 1969) is
    # (p_e + p_e² − Σ p_i. p_.i (p_i. + p_.i)) / (n (1 − p_e)²) = (½ + ¼ − 2·¼·1) / (n·¼) = 1/n.
    # So the paired difference 1 − κ_B has sd 1/√n, the smallest difference is (1.95996 + 0.84162)/√n and
    # κ_B's half-width 1.95996/√n. With 2000 draws a sd is estimated to 1/√(2·2000) ≈ 1.6% (a 2.5% / 97.5%
    # percentile to ≈ 2.2% of the half-width, see the doubling test): 7% is three of those and the O(1/n) rest.
    n = 400
    plan = power.plan_set(n, reference=balanced_null_reference(), n_boot=2000, seed=3)
    assert plan.smallest_difference == pytest.approx((1.95996 + 0.84162) / math.sqrt(n), rel=0.07)
    assert plan.kappa == 1.0 and plan.kappa_half_width == 0.0
    # judge B's own half-width, with the judges swapped
    ref = balanced_null_reference()
    swapped = power.Reference(human=ref.human, judges=ref.judges[:, ::-1], judge_names=("b", "a"),
                              levels=ref.levels, groups=ref.groups, grouped=False, name="swapped")
    plan_b = power.plan_set(n, reference=swapped, n_boot=2000, seed=3)
    assert plan_b.kappa == pytest.approx(0.0, abs=1e-12)
    assert plan_b.kappa_half_width == pytest.approx(1.95996 / math.sqrt(n), rel=0.07)


def noisy_reference(n: int = 3000, seed: int = 1):
    """Two people and two judges who each flip a true label with their own probability."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.4
    flip = lambda p: (truth ^ (rng.random(n) < p)).astype(float)  # noqa: E731
    scores, human, judges = frame([flip(0.1), flip(0.15)], [flip(0.2), flip(0.25)])
    return power.reference_from_scores(scores, human, judges)


def test_the_half_width_shrinks_as_one_over_root_n_and_halves_at_four_times_the_rows():
    # Resampled sets of n and 2n independent rows: a half-width ∝ 1/√n, so the ratio is 1/√2 = 0.7071.
    # Each half-width is half the gap of the 2.5% and 97.5% percentiles of B = 2000 draws; a percentile's sd
    # is √(p(1−p)/B)/φ(z) = √(0.025·0.975)/0.0584/√B = 2.67σ/√B, the half-width's 2.67/√2 σ/√B over its 1.96σ:
    # 0.96/√B = 2.2% relative; a ratio of two independent ones ≈ 3.0%: three sds, 0.09 either way.
    # Rows to halve: the slope b of log half-width over four sizes, log-spaced by 2 (their Σ(x − x̄)² = 5·ln²2),
    # has sd 0.022/√(5·ln²2) = 0.014: three sds, b in 0.5 ± 0.042, so 2^(1/b) in [3.59, 4.54].
    n = 200
    plan = power.plan_set(n, reference=noisy_reference(), n_boot=2000, seed=5)
    sizes = plan.by_size.set_index("rows")
    assert list(sizes.index) == [100, 200, 400, 800]
    for column in ["alpha_half_width", "kappa_half_width", "smallest_difference"]:
        assert sizes.loc[400, column] / sizes.loc[200, column] == pytest.approx(1 / math.sqrt(2), abs=0.09), column
    assert 3.59 * n <= plan.rows_to_halve_alpha <= 4.54 * n
    assert 3.59 * n <= plan.rows_to_halve_kappa <= 4.54 * n
    assert plan.alpha_half_width == sizes.loc[200, "alpha_half_width"] > 0


def test_groups_of_copies_count_as_one_row_each():
    # Each group holds r copies of one row: a set of g groups of r rows carries what g independent rows carry,
    # so its κ half-width is that of g rows (κ does not change when every count is multiplied by r), and √r
    # times that of g·r rows. Same tolerance as the doubling test: a ratio of two half-widths within ~9%.
    distinct = noisy_reference(600, seed=2)
    r, g = 4, 50
    copies = power.Reference(human=np.repeat(distinct.human, r, axis=0), judges=np.repeat(distinct.judges, r, axis=0),
                             judge_names=distinct.judge_names, levels=distinct.levels,
                             groups=np.repeat(np.arange(600), r), grouped=True, name="copies")
    grouped = power.plan_set(g * r, groups=g, reference=copies, n_boot=2000, seed=7)
    alone = power.plan_set(g, reference=distinct, n_boot=2000, seed=8)
    assert grouped.n_rows == g * r and grouped.n_groups == g
    assert grouped.kappa_half_width / alone.kappa_half_width == pytest.approx(1.0, abs=0.09)
    ungrouped = power.plan_set(g * r, reference=copies, n_boot=2000, seed=9)
    assert grouped.kappa_half_width / ungrouped.kappa_half_width == pytest.approx(math.sqrt(r), rel=0.09)


def test_the_study_reference_plans_a_set_with_two_judges():
    import harmstudy

    assert harmstudy.plan_set is power.plan_set and harmstudy.SetPlan is power.SetPlan   # the public call
    plan = harmstudy.plan_set(200, n_raters=2, n_boot=200)
    assert plan.n_raters == 2 and plan.reference_rows > 300
    assert 0 < plan.alpha_half_width < 1 and 0 < plan.kappa_half_width < 1 and 0 < plan.smallest_difference < 1
    assert "learned-tfidf-cv against learned-pooled-cv" in plan.summary()


def test_make_external_plan_refuses_without_a_set_or_rows(capsys, monkeypatch):
    for name in ["HS_SET", "HS_ROWS"]:
        monkeypatch.delenv(name, raising=False)
    assert set_plan.run([]) == 2
    assert "needs ROWS=<n>" in capsys.readouterr().err
    assert set_plan.run(["--rows", "ten"]) == 2
    assert "ROWS=ten: a whole number" in capsys.readouterr().err


def test_make_external_plan_on_the_template_prints_the_plan():
    # the values reach Python through the environment: a HUMAN list with quotes, as a user would type it
    done = subprocess.run(["make", "-s", "-o", ".venv/.harmstudy-installed", "external-plan", f"SET={TEMPLATE}",
                           "HUMAN='rater_1' rater_2", "VERDICTS=guard", "GROUP=conversation", "N_BOOT=200"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2 people a row, resampled from labelled_set_template.csv's own rows (8 rows)" in out
    assert re.search(r"Krippendorff's α among the people: ±0\.\d{3}", out)
    assert "in 5 groups" in out and "verdict:guard" in out and "rough guide" in out
