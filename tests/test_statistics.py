"""Statistics against hand arithmetic and published reference values (never against their own output)."""
import math

import krippendorff
import numpy as np
import pandas as pd
import pytest

from harmstudy.stats import agreement as ag
from harmstudy.stats import harm as hs
from harmstudy.parse.rankings import check_ranks


def long_table(rater, kind, rankings, models=("m1", "m2", "m3")):
    """Build long-format rows from {item: (r1, r2, r3) or None}; None = unscored."""
    rows = []
    for item, ranks in rankings.items():
        parsed = check_ranks(list(ranks)) if ranks is not None else None
        for i, m in enumerate(models):
            rows.append({"item_id": item, "prompt_id": item, "model": m, "rater": rater, "rater_kind": kind,
                         "rank": None if parsed is None else parsed.ranks[i],
                         "status": "unscored" if parsed is None else parsed.status, "reason": ""})
    df = pd.DataFrame(rows)
    df["rank"] = df["rank"].astype("Int64")
    return df


# ------------------------------------------------------------------- Krippendorff's alpha, published
def test_krippendorff_ordinal_matches_krippendorff_2011_example():
    # Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", example C: 4 observers,
    # 12 units, missing values; published alpha: nominal .743, ordinal .815, interval .849.
    nan = np.nan
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="interval") == pytest.approx(0.849, abs=5e-4)


def test_our_ordinal_alpha_matches_krippendorff_2011_two_observer_example():
    # Example A of the same paper: two observers, binary data, alpha = 0.095. With two values the
    # ordinal metric equals the nominal one, so our ordinal alpha over ranks 0..3 must give 0.095.
    a = np.array([0, 1, 0, 0, 0, 0, 0, 0, 1, 0]).reshape(-1, 1)
    b = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0]).reshape(-1, 1)
    assert ag._pooled("alpha_ordinal", a, b, np.ones(10, dtype=int)) == pytest.approx(0.095, abs=5e-4)


# --------------------------------------------------------------------------------- kappa by hand
def test_cohen_kappa_harmful_by_hand():
    # 10 cells: (judge, ref) = (1,1) x3, (1,0) x1, (0,1) x2, (0,0) x4.
    # p_o = 7/10; judge says harmful 4/10, ref 5/10; p_e = .4*.5 + .6*.5 = .5; kappa = (.7-.5)/.5 = .4
    j = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]).reshape(-1, 1)
    r = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0]).reshape(-1, 1)
    assert ag._pooled("kappa_harmful", j, r, np.ones(10, dtype=int)) == pytest.approx(0.4)


def test_linearly_weighted_kappa_by_hand():
    # 4 cells over categories 0..3 with linear disagreement weights |i-j|/3.
    # pairs (0,0), (1,2), (2,2), (3,1): observed disagreement = (0 + 1/3 + 0 + 2/3)/4 = 0.25
    # judge marginals: 0,1,2,3 -> 1/4 each; ref marginals: 0 -> 1/4, 1 -> 1/4, 2 -> 2/4
    # expected disagreement = sum_ij pj_i pr_j |i-j|/3 = (1/4)*[(0*1+1*1+2*2)/4 + (1*1+0*1+1*2)/4
    #   + (2*1+1*1+0*2)/4 + (3*1+2*1+1*2)/4]/3 = (1/4)*(5+3+3+7)/4/3 = 18/48 = 0.375
    # kappa_w = 1 - 0.25/0.375 = 1/3
    j = np.array([0, 1, 2, 3]).reshape(-1, 1)
    r = np.array([0, 2, 2, 1]).reshape(-1, 1)
    assert ag._pooled("kappa_weighted", j, r, np.ones(4, dtype=int)) == pytest.approx(1 / 3)


# --------------------------------------------------------------------- per-prompt rank statistics
def test_tau_spearman_rbo_of_one_pair_by_hand():
    # judge 2,1,N/A vs ref 1,2,N/A: pairs (A,B) discordant, (A,C) and (B,C) concordant: tau = 1/3.
    # Spearman: ranks (3,2,1) vs (2,3,1): sum d^2 = 2, rho = 1 - 6*2/(3*8) = 0.5.
    # RBO_ext of [A,B] vs [B,A], p=.9 (Webber et al. 2010, eq. 32): agreement at depth 1 = 0,
    # depth 2 = 1 -> (X_2/2) p^2 + (1-p)/p * (0*p + 1*p^2) = .81 + .09 = 0.9.
    v = ag.pair_values(np.array([2, 1, 0]), np.array([1, 2, 0]))
    assert v["kendall_tau"] == pytest.approx(1 / 3)
    assert v["spearman"] == pytest.approx(0.5)
    assert v["rbo"] == pytest.approx(0.9)
    assert v["exact_match"] == 0.0


@pytest.mark.parametrize("a, b, value", [
    # Webber et al. eq. 32 by hand, p = .9. [A] vs [A,B]: X1 = X2 = 1; the sums give (.1/.9)(.9 + .405 + .405)
    # = .19, the tail (0/2 + 1/1) .81 = .81 -> 1.0 (a prefix agrees fully under extrapolation).
    (["A"], ["A", "B"], 1.0),
    # [B] vs [A,B]: X1 = 0, X2 = 1: (.1/.9)(0 + .405) + (1/2 + 0) .81 = .045 + .405 = 0.45
    (["B"], ["A", "B"], 0.45),
    # [A,B,C] vs [C,B,A]: X = 0, 1, 3: (.1/.9)(0 + .405 + .729) + (3/3) .729 = .126 + .729 = 0.855
    (["A", "B", "C"], ["C", "B", "A"], 0.855),
])
def test_rank_biased_overlap_by_hand(a, b, value):
    assert ag.rank_biased_overlap(a, b, p=0.9) == pytest.approx(value)
    assert ag.rank_biased_overlap(b, a, p=0.9) == pytest.approx(value)          # symmetric


def test_undefined_per_prompt_statistics_are_nan_not_zero():
    v = ag.pair_values(np.array([0, 0, 0]), np.array([0, 0, 0]))
    assert v["exact_match"] == 1.0
    assert math.isnan(v["kendall_tau"]) and math.isnan(v["spearman"]) and math.isnan(v["rbo"])
    assert ag.pair_values(np.array([0, 0, 0]), np.array([1, 0, 0]))["rbo"] == 0.0


def test_agreement_counts_coverage_and_ties_per_metric():
    ref = long_table("group-01", "student", {"a": (2, 1, 0), "b": (0, 0, 1), "c": (1, 2, 3), "d": (1, 0, 0)})
    judge = long_table("j", "judge", {"a": (2, 1, 0), "b": (0, 0, 1), "c": (1, 1, 0), "d": None})
    out = ag.agreement(judge, ref, judge_name="j", reference_name="human", n_boot=50).set_index("metric")
    # exact match over ordered pairs only: a and b match -> 2/2; c is a tie, d unscored.
    assert out.loc["exact_match", "estimate"] == 1.0
    assert out.loc["exact_match", "n"] == 2 and out.loc["exact_match", "coverage"] == 0.5
    # binary kappa also uses the tie (c): cells a,b,c = 9; judge harmful 1,1,0,0,0,1,1,1,0 vs
    # ref 1,1,0,0,0,1,1,1,1 -> p_o = 8/9; p_j(h)=5/9, p_r(h)=6/9; p_e = 30/81 + 12/81 = 42/81
    # kappa = (72/81 - 42/81) / (39/81) = 30/39
    assert out.loc["kappa_harmful", "n"] == 3 and out.loc["kappa_harmful", "coverage"] == 0.75
    assert out.loc["kappa_harmful", "estimate"] == pytest.approx(30 / 39)
    assert out.loc["kappa_harmful", "ci_low"] <= out.loc["kappa_harmful", "estimate"] <= out.loc["kappa_harmful", "ci_high"]
    # the tie is ordinal data for alpha, weighted kappa, tau-b and rho too (only exact match and RBO need order)
    for metric in ("alpha_ordinal", "kappa_weighted", "kendall_tau", "spearman"):
        assert out.loc[metric, "n"] == 3 and out.loc[metric, "coverage"] == 0.75, metric
    assert out.loc["rbo", "coverage"] == 0.5
    # tau-b of c: judge (1,1,0) vs ref (1,2,3): AB tied in the judge, AC and BC discordant:
    # (0 - 2) / sqrt((3 - 1) * 3) = -2/sqrt(6); a and b agree fully (tau-b 1): mean (2 - 2/sqrt(6)) / 3
    assert out.loc["kendall_tau", "estimate"] == pytest.approx((2 - 2 / math.sqrt(6)) / 3)


def test_judge_vs_judge_uses_the_same_pairs_both_ways():
    a = long_table("a", "judge", {"x": (1, 0, 0), "y": (1, 1, 0), "z": None, "w": (2, 1, 0)})
    b = long_table("b", "judge", {"x": (1, 0, 0), "y": (0, 1, 0), "z": (1, 2, 0), "w": None})
    ab = ag.agreement(a, b, judge_name="a", reference_name="b", n_boot=10).set_index("metric")
    ba = ag.agreement(b, a, judge_name="b", reference_name="a", n_boot=10).set_index("metric")
    for metric in ("kappa_harmful", "kappa_weighted", "alpha_ordinal", "exact_match"):
        assert ab.loc[metric, "n"] == ba.loc[metric, "n"], metric
        assert ab.loc[metric, "estimate"] == pytest.approx(ba.loc[metric, "estimate"]), metric
    assert ab.loc["alpha_ordinal", "n"] == 2 and ab.loc["exact_match", "n"] == 1


# ----------------------------------------------------------------------------------------- Q1
def test_wilson_interval_of_5_of_10():
    # Wilson 95% interval for 5/10 (z = 1.96): 0.2366 .. 0.7634 (Newcombe 1998, table I method 3).
    rows = long_table("group-01", "student", {f"i{i}": ((1, 0, 0) if i < 5 else (0, 1, 0)) for i in range(10)})
    harm = hs.small_model_harm(rows, "human").set_index("model")
    assert harm.loc["m1", "harmful_share"] == 0.5
    assert harm.loc["m1", "ci_low"] == pytest.approx(0.2366, abs=1e-4)
    assert harm.loc["m1", "ci_high"] == pytest.approx(0.7634, abs=1e-4)
    assert harm.loc["m1", "most_harmful_count"] == 5 and harm.loc["m3", "most_harmful_count"] == 0
    assert harm.loc["m3", "mean_rank"] == 0.0


def test_friedman_and_kendalls_w_by_hand():
    # Ranks within units: (1,2,3), (1,3,2), (2,1,3), (1,2,3) -> column sums 5, 8, 11, n=4, k=3.
    # Q = 12/(n k (k+1)) * sum R^2 - 3 n (k+1) = 12/48 * 210 - 48 = 4.5; W = Q / (n (k-1)) = 0.5625;
    # p = chi2.sf(4.5, 2) = exp(-2.25).
    rows = long_table("group-01", "student", {"a": (1, 2, 3), "b": (1, 3, 2), "c": (2, 1, 3), "d": (1, 2, 3)})
    res = hs.friedman_test(rows, "human")
    assert res.Q == pytest.approx(4.5)
    assert res.W == pytest.approx(0.5625)
    assert res.p == pytest.approx(math.exp(-2.25))
    assert (res.rater, res.n_units, res.dof) == ("human", 4, 2)          # k − 1 = 2 degrees of freedom


def test_a_score_summary_is_auc_brier_and_the_thresholds_by_hand():
    from harmstudy.stats.scores import ScoreSummary, score_summary

    # labels 1 0 1 0, P 0.8 0.4 0.3 0.1. AUC: of the 4 (harmful, not) pairs, P orders 3 right
    # (0.8 > 0.4, 0.8 > 0.1, 0.3 > 0.1; not 0.3 > 0.4) -> 0.75. Brier: (0.2² + 0.4² + 0.7² + 0.1²) / 4 = 0.175.
    scored = pd.DataFrame({"p_harmful": [0.8, 0.4, 0.3, 0.1], "threshold": [0.5, 0.4, 0.6, 0.5]})
    summary = score_summary(scored, pd.DataFrame({"label": [1, 0, 1, 0]}))
    assert isinstance(summary, ScoreSummary) and summary.responses == 4
    assert summary.auc == pytest.approx(0.75) and summary.brier == pytest.approx(0.175)
    assert (summary.threshold_median, summary.threshold_min, summary.threshold_max) == (0.5, 0.4, 0.6)
    # the tables' columns, in their order
    assert list(summary.cells()) == ["responses", "auc", "brier", "threshold_median", "threshold_min", "threshold_max"]
    # one class only: no AUC (it needs both), the Brier score still (0.2² + 0.6² + 0.7² + 0.9²) / 4 = 0.425
    alike = score_summary(scored, pd.DataFrame({"label": [1, 1, 1, 1]}))
    assert math.isnan(alike.auc) and alike.brier == pytest.approx(0.425)


def test_friedman_with_ties_by_hand():
    # Average ranks within units: a (0,0,1) -> (1.5,1.5,3); b (1,0,2) -> (2,1,3); c (0,0,0) -> (2,2,2);
    # d (1,1,0), a judge's tie -> (2.5,2.5,1). Column sums 8, 7, 9; n = 4, k = 3.
    # Uncorrected Q = 12/48 * (64 + 49 + 81) - 48 = 0.5. Tie correction (Conover 1999, eq. 5.8.?):
    # C = 1 - sum(t^3 - t) / (n (k^3 - k)) = 1 - (6 + 24 + 6) / 96 = 0.625 -> Q = 0.8, p = exp(-0.4),
    # W = Q / (n (k - 1)) = 0.1.
    rows = long_table("j", "judge", {"a": (0, 0, 1), "b": (1, 0, 2), "c": (0, 0, 0), "d": (1, 1, 0)})
    assert (rows.loc[rows["item_id"] == "d", "status"] == "tie").all()
    res = hs.friedman_test(rows, "j")
    assert res.n_units == 4                            # the tie is not dropped
    assert res.Q == pytest.approx(0.8)
    assert res.p == pytest.approx(math.exp(-0.4))
    assert res.W == pytest.approx(0.1)


def test_posthoc_pairs_by_hand_and_no_test_where_two_models_differ_in_one_unit():
    # m1 < m2 < m3 in each of 5 units: every difference is -1 (or -2), all tied in size, all negative,
    # so W = min(R+, R-) = 0 for every pair.
    rows = long_table("group-01", "student", {i: (1, 2, 3) for i in "abcde"})
    res = hs.posthoc_tests(rows, "human")
    assert len(res) == 3 and (res["W_val"] == 0).all() and res["p_corr"].notna().all()
    # m1 and m2 ranked apart in one unit only (d = 0, 0, 0, 0, -1): the signed-rank test drops the four
    # ties and cannot test one unit, so no pair of this rater gets a p (Holm needs them all)
    rows = long_table("j", "judge", {"a": (1, 2, 3), "b": (1, 1, 3), "c": (1, 1, 3), "d": (1, 1, 2), "e": (1, 1, 2)})
    res = hs.posthoc_tests(rows, "j")
    assert len(res) == 3 and res["p_unc"].isna().all() and res["W_val"].isna().all()
    # a sampling judge with one triple usable in every order, all three not harmful: every difference is 0
    # (scipy raised here, "each sample in `data` must contain two or more observations", and 05 stopped)
    res = hs.posthoc_tests(long_table("j", "judge", {"a": (0, 0, 0)}), "j")
    assert len(res) == 3 and res["p_unc"].isna().all()


def test_perfect_concordance_gives_w_one():
    rows = long_table("group-01", "student", {i: (1, 2, 3) for i in "abcde"})
    res = hs.friedman_test(rows, "human")
    assert res.W == pytest.approx(1.0) and res.Q == pytest.approx(5 * 2)


# ------------------------------------------------- bootstrap: every resample at once = library per resample
def test_resampled_statistics_equal_their_libraries_on_every_resample():
    from scipy import stats
    from sklearn.metrics import roc_auc_score
    from statsmodels.stats.inter_rater import cohens_kappa

    from harmstudy.stats import bootstrap

    rng = np.random.default_rng(7)
    # Krippendorff's example C (above; published ordinal alpha .815) and 20 resamples of its units.
    nan = np.nan
    data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
                     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]])
    domain = np.arange(1, 6)
    o = bootstrap.unit_coincidences((data.T[:, :, None] == domain).sum(axis=1))
    assert bootstrap.ordinal_alpha(o.sum(axis=0)) == pytest.approx(0.815, abs=5e-4)
    draws = rng.integers(0, 12, (20, 12))
    W = bootstrap.counts(draws, 12)
    got = bootstrap.ordinal_alpha((W @ o.reshape(12, -1)).reshape(20, 5, 5))
    want = [krippendorff.alpha(reliability_data=data[:, d], level_of_measurement="ordinal") for d in draws]
    assert got == pytest.approx(want, abs=1e-12)
    # Cohen's kappa, plain and linearly weighted, on random 4x4 tables.
    tables = rng.integers(0, 30, (20, 4, 4))
    assert bootstrap.cohen_kappa(tables) == pytest.approx(
        [cohens_kappa(t, return_results=False) for t in tables], abs=1e-12)
    assert bootstrap.cohen_kappa(tables, weights="linear") == pytest.approx(
        [cohens_kappa(t, wt="linear", return_results=False) for t in tables], abs=1e-12)
    # AUC and Spearman with ties, on resamples that repeat responses.
    label, score = rng.random(40) < 0.4, rng.integers(0, 6, 40) / 5
    draws = rng.integers(0, 40, (20, 40))
    assert bootstrap.auc(bootstrap.counts(draws, 40), label, score) == pytest.approx(
        [roc_auc_score(label[d], score[d]) for d in draws], abs=1e-12)
    human = rng.integers(0, 5, 40) / 4
    assert bootstrap.spearman(draws, score, human) == pytest.approx(
        [stats.spearmanr(score[d], human[d]).statistic for d in draws], abs=1e-12)


def test_agreement_ci_is_the_percentile_of_library_values_on_each_sheet_resample():
    # The interval agreement() reports = percentiles of alpha / kappa computed by krippendorff and
    # statsmodels on each resample of student sheets (a drawn sheet brings all its prompts), redone here by
    # hand: 30 prompts on 5 sheets of unequal size; sheets drawn in sorted order of their names.
    from statsmodels.stats.inter_rater import cohens_kappa

    rng = np.random.default_rng(3)
    ranks = [(0, 1, 2), (1, 0, 0), (2, 1, 0), (0, 0, 0), (1, 2, 0), (1, 1, 0), (3, 2, 1)]
    jr = {i: ranks[rng.integers(len(ranks))] for i in range(30)}
    rr = {i: ranks[rng.integers(len(ranks))] for i in range(30)}
    sheet_of = {i: f"g{min(i // 4, 4)}" for i in range(30)}            # g0..g3: 4 prompts each, g4: 14
    ref = pd.concat([long_table(sheet_of[i], "student", {i: rr[i]}) for i in range(30)], ignore_index=True)
    out = ag.agreement(long_table("j", "judge", jr), ref, judge_name="j", reference_name="h", n_boot=50,
                       seed=11).set_index("metric")
    assert set(out["ci_unit"]) == {"sheet"}
    pairs = ag.align_pairs(long_table("j", "judge", jr), ref)
    sheet_index = np.array([int(sheet_of[i][1]) for i in pairs.items])
    draw_rng = np.random.default_rng(11)
    alphas, kappas = [], []
    for _ in range(50):
        w = np.bincount(draw_rng.integers(0, 5, 5), minlength=5)[sheet_index]
        j, r = np.repeat(pairs.judge, w, axis=0).ravel(), np.repeat(pairs.reference, w, axis=0).ravel()
        alphas.append(krippendorff.alpha(reliability_data=np.vstack([j, r]).astype(float),
                                         level_of_measurement="ordinal", value_domain=[0, 1, 2, 3]))
        kappas.append(cohens_kappa(pd.crosstab(j > 0, r > 0).to_numpy(), return_results=False))
    assert out.loc["alpha_ordinal", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        np.percentile(alphas, [2.5, 97.5]), abs=1e-12)
    assert out.loc["kappa_harmful", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        np.percentile(kappas, [2.5, 97.5]), abs=1e-12)


def two_sheets():
    """Sheet A: the judge ranks its 2 prompts as the students did (κ harmful = 1). Sheet B: cells (judge,
    students) harmful (1,1), (1,0), (0,1) and three (0,0): p_o = 4/6, both say harmful 2/6, p_e = 1/9 + 4/9,
    κ = (2/3 − 5/9) / (4/9) = 0.25. Pooled A+B (12 cells): p_o = 10/12, both 4/12, p_e = 1/9 + 4/9, κ = 0.625."""
    students = pd.concat([long_table("A", "student", {"a1": (1, 0, 0), "a2": (0, 1, 0)}),
                          long_table("B", "student", {"b1": (1, 0, 0), "b2": (0, 1, 0)})], ignore_index=True)
    judge = long_table("j", "judge", {"a1": (1, 0, 0), "a2": (0, 1, 0), "b1": (1, 1, 0), "b2": (0, 0, 0)})
    return students, judge


def test_the_sheet_bootstrap_of_two_sheets_is_known_by_enumeration():
    # One-stage over 2 sheets: a resample is AA (p 1/4, κ 1), AB (p 1/2, κ 0.625) or BB (p 1/4, κ 0.25),
    # so the 2.5th and 97.5th percentiles of 1,000 resamples are 0.25 and 1 (each end drawn ~250 times).
    # Resampling prompts instead would give other ends (e.g. b1 and b2 alone, or AA without b1).
    students, judge = two_sheets()
    out = ag.agreement(judge, students, judge_name="j", reference_name="human", n_boot=1000).set_index("metric")
    k = out.loc["kappa_harmful"]
    assert (k["estimate"], k["ci_low"], k["ci_high"], k["ci_unit"]) == (pytest.approx(0.625), pytest.approx(0.25),
                                                                       pytest.approx(1.0), "sheet")
    # the expert's pairs take their prompt's sheet from the map (sheets()); the same interval
    expert = students.assign(rater="expert", rater_kind="expert")
    by_sheet = ag.sheets(pd.concat([students, judge]))
    assert by_sheet.to_dict() == {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
    e = ag.agreement(judge, expert, judge_name="j", reference_name="expert", n_boot=1000,
                     clusters=by_sheet).set_index("metric").loc["kappa_harmful"]
    assert (e["ci_low"], e["ci_high"], e["ci_unit"]) == (pytest.approx(0.25), pytest.approx(1.0), "sheet")
    # without the map the expert's pairs are resampled by prompt
    assert ag.agreement(judge, expert, judge_name="j", reference_name="expert", n_boot=10)["ci_unit"].iloc[0] == "prompt"


def test_a_paired_difference_draws_the_same_sheets_for_both_judges():
    # Judge "mirror" is sheet B's judge on sheet A and sheet A's on sheet B: κ 0.25 on A, 1 on B, 0.625
    # pooled. Paired over the same sheets, mirror − j is −0.75 (AA), 0 (AB) or +0.75 (BB); a judge against
    # itself is 0 on every resample. Drawn separately for the two judges, neither would hold: AB against BB
    # gives 0.625 − 0.25 = 0.375 against itself, and the differences would take 9 values, not 3.
    students, judge = two_sheets()
    mirror = long_table("m", "judge", {"a1": (1, 1, 0), "a2": (0, 0, 0), "b1": (1, 0, 0), "b2": (0, 1, 0)})
    d = ag.paired_difference(mirror, judge, students, judge_name="m", other_name="j", reference_name="human",
                             n_boot=1000).set_index("metric").loc["kappa_harmful"]
    assert (d["difference"], d["ci_low"], d["ci_high"], d["ci_unit"]) == (
        pytest.approx(0.0), pytest.approx(-0.75), pytest.approx(0.75), "sheet")
    itself = ag.paired_difference(judge, judge, students, judge_name="j", other_name="j", reference_name="human",
                                  n_boot=1000)
    assert (itself["ci_low"] == 0).all() and (itself["ci_high"] == 0).all() and set(itself["ci_unit"]) == {"sheet"}
    # every resample's difference is one of the three enumerated values
    a, b = (ag.align_pairs(x, students) for x in (mirror, judge))
    W = ag.resample_weights(a, ag.SEED, 1000)
    diff = (ag._from_tables("kappa_harmful", np.tensordot(W, ag.cell_tables(a.judge, a.reference), axes=1))
            - ag._from_tables("kappa_harmful", np.tensordot(W, ag.cell_tables(b.judge, b.reference), axes=1)))
    assert set(np.round(diff, 12)) == {-0.75, 0.0, 0.75}


def test_a_share_over_sheets_is_known_by_enumeration():
    # 3 sheets of 10 rows with 2, 5 and 8 harmful: a resample of 3 sheets with replacement has share 0.2
    # only when all three draws are the first sheet (p 1/27 ≈ 3.7% > 2.5%), 0.8 only when all are the last:
    # the percentile interval of 4,000 resamples is [0.2, 0.8]. Wilson over the 30 rows would be
    # [0.332, 0.668]: the rows of a sheet are not independent draws.
    harmful = np.array([1] * 2 + [0] * 8 + [1] * 5 + [0] * 5 + [1] * 8 + [0] * 2)
    sheet = np.repeat(["s1", "s2", "s3"], 10)
    assert hs.share_by_sheet(harmful, sheet, n_boot=4000) == pytest.approx((0.2, 0.8))
    rows = pd.concat([long_table(s, "student", {f"{s}-{i}": ((1, 0, 0) if h else (0, 1, 0))})
                      for i, (h, s) in enumerate(zip(harmful, sheet))], ignore_index=True)
    m1 = hs.small_model_harm(rows, "human", clusters=pd.Series(dtype=object)).set_index("model").loc["m1"]
    assert m1["harmful_share"] == 0.5 and m1["ci_unit"] == "sheet"
    assert hs.small_model_harm(rows, "human").set_index("model").loc["m1", "ci_unit"] == "response (Wilson)"


# ------------------------------------------------------------------- two judges: the paired difference
def test_a_paired_difference_is_taken_on_the_prompts_both_judges_ranked_by_hand():
    ref = long_table("g1", "student", {"a": (2, 1, 0), "b": (0, 0, 1), "c": (1, 2, 0), "d": (0, 1, 0), "e": (1, 0, 0)})
    same = long_table("A", "judge", {"a": (2, 1, 0), "b": (0, 0, 1), "c": (1, 2, 0), "d": (0, 1, 0), "e": None})
    other = long_table("B", "judge", {"a": (0, 1, 0), "b": (0, 0, 1), "c": (2, 1, 0), "d": (1, 0, 0), "e": (1, 0, 0)})
    out = ag.paired_difference(same, other, ref, judge_name="A", other_name="B", reference_name="g1", n_boot=200)
    alpha = out.set_index("metric").loc["alpha_ordinal"]
    # e is unscored by A: both judges are compared on a–d only (4 prompts, 12 cells)
    assert (alpha["prompts"], alpha["n"]) == (4, 4)
    assert alpha["estimate"] == pytest.approx(1.0)
    b_cells = [0, 1, 0, 0, 0, 1, 2, 1, 0, 1, 0, 0]
    r_cells = [2, 1, 0, 0, 0, 1, 1, 2, 0, 0, 1, 0]
    by_lib = krippendorff.alpha(reliability_data=[b_cells, r_cells], level_of_measurement="ordinal",
                                value_domain=[0, 1, 2, 3])
    assert alpha["other_estimate"] == pytest.approx(by_lib)
    assert alpha["difference"] == pytest.approx(1.0 - by_lib)
    # the same resamples for both judges: a judge against itself differs by exactly 0 on every resample
    itself = ag.paired_difference(other, other, ref, judge_name="B", other_name="B", reference_name="g1", n_boot=200)
    assert (itself["difference"] == 0).all() and (itself["ci_low"] == 0).all() and (itself["ci_high"] == 0).all()
    assert set(itself["comparison"]) == {"level with"}
    # the table of every pair aligns each judge once and restricts it to the prompts both ranked: the same
    # numbers (the same 4 prompts, the same resamples)
    from harmstudy.stats import tables

    table = tables.judge_differences_table(pd.concat([ref, same, other], ignore_index=True), n_boot=200)
    row = table[(table["reference"] == "human") & (table["metric"] == "alpha_ordinal")].iloc[0]
    assert (row["judge"], row["other"], row["prompts"]) == ("A", "B", 4)
    assert row["other_estimate"] == pytest.approx(by_lib)
    assert row[["ci_low", "ci_high"]].tolist() == out.set_index("metric").loc["alpha_ordinal", ["ci_low", "ci_high"]].tolist()


def test_the_comparison_word_follows_the_difference_ci_alone():
    assert ag.comparison_word(0.01, 0.20) == "above"
    assert ag.comparison_word(-0.20, -0.01) == "below"
    assert ag.comparison_word(-0.05, 0.10) == "level with"
    assert ag.comparison_word(0.0, 0.10) == "level with"                   # 0 inside the interval's edge
    assert ag.comparison_word(float("nan"), float("nan")) == "level with"


def test_words_against_chance_and_a_published_number_follow_our_ci():
    # α with CI [-0.11, -0.03] lies below 0: below chance, not "no better than"; a published α of 0.67
    # inside our CI [0.60, 0.82] is level with it; a published 0.45 below our CI [0.50, 0.70] is under it.
    t = pd.DataFrame({"metric": ["alpha_ordinal", "alpha_ordinal", "pyrit_alpha", "pyrit_alpha", "exact_match"],
                      "ci_low": [-0.11, -0.02, 0.60, 0.50, 0.2], "ci_high": [-0.03, 0.05, 0.82, 0.70, 0.3],
                      "published_best": [np.nan, np.nan, 0.67, 0.45, np.nan]})
    words = ag.with_words(t)
    assert list(words["vs_chance"]) == ["below chance", "no better than chance", "above chance", "above chance", ""]
    assert list(words["vs_published_best"]) == ["", "", "level with", "above", ""]


def test_a_paired_difference_on_scored_responses_is_the_difference_of_the_two_judges_with_one_resample():
    from harmstudy.stats import single_response as sr

    # 40 responses, 3 raters on 0-1; judge "exact" gives the humans' median, judge "half" always 0.5
    rng = np.random.default_rng(1)
    human = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=(3, 40))
    median = np.median(human, axis=0)
    scored = pd.DataFrame({"dataset": "d", "category": "c", **{f"human_{k + 1}": human[k] for k in range(3)}})
    judges = {"exact": median, "half": np.full(40, 0.5)}
    d = sr.external_differences(scored, judges, ["d"], other="half", metrics=("pyrit_mae",), n_boot=200)
    [row] = d.itertuples()
    # MAE by hand: 0 for the exact judge, mean |median - 0.5| for the constant one
    assert row.estimate == 0 and row.other_estimate == pytest.approx(np.abs(median - 0.5).mean())
    assert row.difference == pytest.approx(-np.abs(median - 0.5).mean())
    assert row.ci_low <= row.difference <= row.ci_high < 0 and row.comparison == "below"
    same = sr.external_differences(scored, {"a": median, "b": median.copy()}, ["d"], other="b", metrics=("pyrit_mae",), n_boot=50)
    assert (same["difference"].iloc[0], same["ci_low"].iloc[0], same["ci_high"].iloc[0]) == (0, 0, 0)
    assert same["comparison"].iloc[0] == "level with"
    with pytest.raises(ValueError, match="no judge named 'gpt'"):
        sr.external_differences(scored, judges, ["d"], other="gpt")


def test_a_paired_difference_on_a_binary_set_is_taken_on_the_responses_both_judges_scored_by_hand():
    from harmstudy.stats import single_response as sr
    from harmstudy.stats.judge_calls import BinaryJudge

    # two raters; the majority (a tie counts as harmful) is 1 1 1 0 0 0 0 0 on the 8 responses
    scored = pd.DataFrame({"human_1": [1, 1, 1, 0, 0, 0, 0, 0], "human_2": [1, 0, 1, 0, 0, 0, 0, 1]})
    judges = {"exact": BinaryJudge(called=np.array([1, 1, 1, 0, 0, 0, 0, 1.0])),       # one false alarm
              "blunt": BinaryJudge(called=np.array([1, 0, 0, 0, 0, 0, 0, np.nan])),    # did not score the 8th
              "twin": BinaryJudge(called=np.array([1, 1, 1, 0, 0, 0, 0, 1.0]))}
    d = sr.binary_differences(scored, judges, other="exact", metrics=("kappa",), n_boot=300).set_index("judge")
    # blunt vs exact on the 7 responses both scored (labels 1 1 1 0 0 0 0): exact is perfect (κ 1);
    # blunt: agreement 5/7, chance (3/7)(1/7) + (4/7)(6/7) = 27/49, κ = (5/7 - 27/49) / (1 - 27/49) = 8/22
    blunt = d.loc["blunt"]
    assert blunt["n"] == 7 and blunt["other_estimate"] == pytest.approx(1.0)
    assert blunt["estimate"] == pytest.approx(8 / 22) and blunt["difference"] == pytest.approx(8 / 22 - 1)
    assert blunt["ci_low"] <= blunt["difference"] <= blunt["ci_high"]
    # a judge with the same calls differs by exactly 0 on every resample: the resamples are paired
    twin = d.loc["twin"]
    assert (twin["n"], twin["difference"], twin["ci_low"], twin["ci_high"]) == (8, 0, 0, 0)
    assert twin["comparison"] == "level with"
    table = sr.binary_table(scored, judges, n_boot=0)
    assert sr.leading_judge(table, "kappa", reference="majority") in ("exact", "twin")
    sentence = sr.leader_sentence(d.reset_index(), "kappa", "exact")
    assert "level with it: " in sentence and "twin (+0.000 [+0.000, +0.000])" in sentence
    with pytest.raises(ValueError, match="no judge named 'gpt' .* choose one of: exact, blunt, twin"):
        sr.binary_differences(scored, judges, other="gpt")


def test_the_feature_decision_adopts_the_cheapest_store_whose_paired_ci_clears_zero(study_root):
    """Today's best is the highest-α judge on the run's own model (0.36 beats 0.30 and TF-IDF's 0.25); of
    the candidates, 'both' (CI 0.01–0.08, 2.5 s per text) and 'big' (0.02–0.09, 1.5 s) clear 0 and 'mid'
    (−0.02–0.05) does not: the rule adopts 'big', the cheaper. A pair stored the other way round
    (baseline − judge) is turned: 0.04 [0.02, 0.09] for 'big'. With no CI clear of 0 it keeps the model."""
    import json

    from harmstudy.judge.run_tables import learned_stores
    from harmstudy.stats.tables import feature_decision_table

    folder = study_root / "data/runs/lr"
    folder.mkdir(parents=True)
    folder.joinpath("manifest.json").write_text(json.dumps({
        "kind": "learned", "embedding_model": "small",
        "embed_seconds_per_text": {"small": 1.0, "medium": 1.2, "large": 1.5},
        "judge_stores": {"tfidf": [], "small-hard": ["small"], "small-soft": ["small"], "mid": ["medium"],
                         "big": ["large"], "both": ["small", "large"]}}))
    alpha = {"tfidf": 0.25, "small-hard": 0.30, "small-soft": 0.36, "mid": 0.37, "big": 0.40, "both": 0.41}
    agree = pd.DataFrame([{"judge": j, "reference": "human", "metric": "alpha_ordinal", "estimate": a}
                          for j, a in alpha.items()])
    diff = lambda j, o, d, lo, hi: {"judge": j, "other": o, "reference": "human", "metric": "alpha_ordinal",
                                    "difference": d, "ci_low": lo, "ci_high": hi, "prompts": 900, "ci_unit": "sheet"}
    diffs = pd.DataFrame([diff("mid", "small-soft", 0.01, -0.02, 0.05), diff("small-soft", "big", -0.04, -0.09, -0.02),
                          diff("both", "small-soft", 0.05, 0.01, 0.08)])
    table = feature_decision_table(diffs, agree, learned_stores(["lr"])).set_index("judge")
    assert set(table.index) == {"mid", "big", "both"} and set(table["baseline"]) == {"small-soft"}
    assert table.loc["big", ["difference", "ci_low", "ci_high"]].tolist() == pytest.approx([0.04, 0.02, 0.09])
    assert table.loc["both", "embed_seconds_per_text"] == pytest.approx(2.5)
    assert table["comparison"].to_dict() == {"mid": "level with", "big": "above", "both": "above"}
    assert table["adopt"].to_dict() == {"mid": False, "big": True, "both": False}
    assert set(table["decision"]) == {"adopt large"} and set(table["ci_unit"]) == {"sheet"}   # the differences' unit
    diffs.loc[1, ["ci_low", "ci_high"]] = [-0.09, 0.01]
    diffs.loc[2, "ci_low"] = -0.01
    kept = feature_decision_table(diffs, agree, learned_stores(["lr"]))
    assert set(kept["decision"]) == {"keep small"} and not kept["adopt"].any()


# --------------------------------------------------------------- coverage of sheet intervals, simulated
def test_the_coverage_simulation_runs_at_a_small_size():
    from harmstudy.stats import coverage

    # ranks by hand: scores 0.1, 0.9, 0.5 over a threshold of 0.3 -> not harmful, most harmful (2), harmful (1)
    assert coverage._ranks(np.array([[0.1, 0.9, 0.5], [0.0, 0.1, 0.2]]), np.array([0.3, 0.3])).tolist() == [
        [0, 2, 1], [0, 0, 0]]
    # two identical judges differ by 0 on every resample and every left-out sheet: every interval is [0, 0]
    rng = np.random.default_rng(0)
    study = coverage.synthetic_study(rng, sheets=5, per_sheet=8)
    study["B"] = study["A"]
    for method, (low, high) in coverage.intervals(study, rng, n_boot=20).items():
        assert (low, high) == (pytest.approx(0.0), pytest.approx(0.0)), method
    table = coverage.coverage_table(replicates=4, n_boot=20, sheets=5, per_sheet=8,
                                    scenarios={"small": (0.5, 0.3)})
    assert list(table["method"]) == list(coverage.METHODS)
    assert table["coverage"].between(0, 1).all() and (table["coverage"] * 4).round(9).mod(1).eq(0).all()
    assert (table["mean_width"] > 0).all() and (table["coverage_low"] <= table["coverage"]).all()


def test_the_ceiling_row_pairs_a_judge_with_the_students_on_the_experts_prompts():
    from harmstudy.stats import tables

    # The expert ranks as the students did (ceiling α = 1); the judge, on the 4 prompts, has α by the library
    # on its 12 cells; the gap is 1 − that α, and on every resample the students are at 1.
    students, judge = two_sheets()
    judge = judge.assign(rater="llama")
    expert = students.assign(rater="expert", rater_kind="expert")
    rankings = pd.concat([students, expert, judge], ignore_index=True)
    agree = pd.DataFrame({"judge": ["llama"], "reference": ["human"], "metric": ["alpha_ordinal"],
                          "estimate": [0.5], "kind": ["api"]})
    [row] = tables.ceiling_table(rankings, agree, n_boot=200).itertuples()
    j_cells = [1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0]
    e_cells = [1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]
    by_lib = krippendorff.alpha(reliability_data=[j_cells, e_cells], level_of_measurement="ordinal",
                                value_domain=[0, 1, 2, 3])
    assert (row.judge, row.role, row.prompts, row.ci_unit) == ("llama", "paper judge", 4, "sheet")
    assert row.ceiling == pytest.approx(1.0) and row.judge_alpha == pytest.approx(by_lib)
    assert row.gap == pytest.approx(1 - by_lib) and row.ci_high <= 0 + 1e-12


# ---------------------------------------------------------------------- the named family of claims
def test_a_bootstrap_p_and_the_holm_adjusted_family_by_hand():
    from harmstudy.stats import claims

    # resamples -1, 1, 2, 3: a quarter at or below 0, three quarters at or above: p = 2 x 0.25 = 0.5
    assert ag.bootstrap_p(np.array([-1.0, 1, 2, 3])) == 0.5
    assert ag.bootstrap_p(np.array([1.0, 2, 3, np.nan])) == 0.0 and ag.bootstrap_p(np.array([0.0, 0.0])) == 1.0
    # three claims measured, with p 0.01, 0.04, 0.03: Holm multiplies the sorted p by 3, 2, 1 and keeps them
    # monotone: 0.03, max(0.06, 0.03) = 0.06, max(0.04, 0.06) = 0.06
    d = pd.DataFrame({"judge": ["claude-sonnet", "gpt-4o", "llama"], "other": ["gpt-4o", "llama", "claude-sonnet"],
                      "reference": "human", "metric": "alpha_ordinal", "difference": [0.06, 0.05, -0.12],
                      "ci_low": [0.01, 0.001, -0.2], "ci_high": [0.1, 0.09, -0.03], "ci_unit": "sheet",
                      "p_boot": [0.01, 0.04, 0.03]})
    table = claims.claims_table(d, pd.DataFrame(columns=["judge"])).set_index("name")
    assert table.loc[["claude_vs_gpt4o", "gpt4o_vs_llama", "claude_vs_llama"], "p_holm"].tolist() == pytest.approx(
        [0.03, 0.06, 0.06])
    # llama − claude is stored; the claim is claude − llama: the sign and the interval turn round
    assert table.loc["claude_vs_llama", ["estimate", "ci_low", "ci_high"]].tolist() == pytest.approx([0.12, 0.03, 0.2])
    assert table.loc["claude_vs_gpt4o", "word"] == "above" and table.loc["gpt4o_vs_llama", "word"] == "level with"
    assert table.loc["claude_vs_ceiling", "word"] == "not measured" and set(table["adjustment"]) == {"holm over 3 claims"}
    fam = claims.with_family(d.assign(reference=["human", "human", "expert"]))
    assert fam["family"].tolist() == ["primary", "primary", "exploratory"]


def test_the_coverage_simulation_is_stored_once_per_size_and_read_back(tmp_path, monkeypatch):
    from harmstudy.report import coverage_run
    from harmstudy.stats import coverage

    assert coverage_run.run_name(coverage_run.study_settings(1000)) == "ci-coverage"
    assert coverage_run.run_name(coverage_run.study_settings(20)) == "ci-coverage-r5-b10"
    made = coverage_run.stored_coverage_table(20, root=tmp_path)
    assert made.said.startswith("coverage simulation: simulated in") and (tmp_path / "ci-coverage-r5-b10" / "ci_coverage.csv").exists()
    monkeypatch.setattr(coverage, "coverage_table", lambda **k: pytest.fail("simulated again"))
    read = coverage_run.stored_coverage_table(20, root=tmp_path)
    assert read.said.startswith("coverage simulation: read from ci-coverage-r5-b10")
    pd.testing.assert_frame_equal(read.table, made.table)
