"""Tests of etl/stats (the statistics package): worked examples computed by hand, and properties (hypothesis).

Expected values are derived in the tests from the published formulas or from tabulated
values, never copied from the implementation's output.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import chi2

from etl import stats as S
from etl.stats import lp_audit, suppression

FAST = settings(max_examples=150, deadline=None)
# LP-checked suppression tests: fewer examples (each solves dozens of small LPs)
SLOW = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def poisson_cdf(r: int, lam: float) -> float:
    """P(X <= r) for X ~ Poisson(lam), by direct summation of the probability mass function."""
    if r < 0:
        return 0.0
    term, total = math.exp(-lam), 0.0
    for x in range(r + 1):
        if x > 0:
            term *= lam / x
        total += term
    return total


# --------------------------------------------------------------------------------------------
# Garwood / exact Poisson limits


@pytest.mark.parametrize(
    "k, lower, upper",
    [
        # Tabulated exact 95 % limits for a Poisson count, e.g. Breslow & Day (1987) Vol. II
        # appendix table; also in PHE "Technical guide: confidence intervals".
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (10, 4.795, 18.390),
    ],
)
def test_poisson_ci_tabulated(k, lower, upper):
    est = S.poisson_ci(k)
    assert est.value == k
    assert est.lower == pytest.approx(lower, abs=6e-4)
    assert est.upper == pytest.approx(upper, abs=6e-4)


@pytest.mark.parametrize("k", [1, 3, 10, 27])
def test_poisson_ci_definition(k):
    # Garwood limits invert two one-sided exact tests:
    # P(X >= k | lower) = alpha/2 and P(X <= k | upper) = alpha/2.
    est = S.poisson_ci(k, conf=0.9)
    assert 1 - poisson_cdf(k - 1, est.lower) == pytest.approx(0.05, abs=1e-9)
    assert poisson_cdf(k, est.upper) == pytest.approx(0.05, abs=1e-9)


def test_poisson_ci_vectorised_and_invalid():
    est = S.poisson_ci(np.array([[0, 1], [10, 2]]))
    assert np.shape(est.lower) == (2, 2)
    assert est.lower[1, 0] == pytest.approx(4.795, abs=6e-4)
    with pytest.raises(ValueError):
        S.poisson_ci(-1)
    with pytest.raises(ValueError):
        S.poisson_ci(3, conf=1.0)


@FAST
@given(st.integers(0, 5000), st.floats(0.5, 0.999))
def test_poisson_ci_contains_count(k, conf):
    est = S.poisson_ci(k, conf)
    assert est.lower <= k <= est.upper
    assert est.lower >= 0


@FAST
@given(st.integers(0, 2000), st.floats(0.5, 0.98), st.floats(0.001, 0.019))
def test_poisson_ci_widens_with_confidence(k, conf, extra):
    narrow = S.poisson_ci(k, conf)
    wide = S.poisson_ci(k, conf + extra)
    assert wide.upper > narrow.upper
    assert wide.lower <= narrow.lower


# --------------------------------------------------------------------------------------------
# crude rates


def test_crude_rate_worked_example():
    # 10 events in 1000 persons, per 1000: rate 10, limits 4.795 and 18.390 (k = 10 above).
    est = S.crude_rate(10, 1000, per=1000)
    assert est.value == pytest.approx(10.0)
    assert est.lower == pytest.approx(4.795, abs=1e-3)
    assert est.upper == pytest.approx(18.390, abs=1e-3)


def test_crude_rate_zero_population_is_nan():
    est = S.crude_rate([3, 0], [0, 0])
    assert np.all(np.isnan(est.value)) and np.all(np.isnan(est.upper))


@FAST
@given(st.integers(1, 500), st.integers(2, 40), st.integers(1, 10_000))
def test_crude_rate_interval_narrows_as_counts_grow(k, factor, n):
    # Same rate, factor times the events and population: the relative width must shrink.
    small = S.crude_rate(k, n)
    big = S.crude_rate(k * factor, n * factor)
    assert big.value == pytest.approx(small.value)
    assert (big.upper - big.lower) < (small.upper - small.lower)
    assert big.lower >= small.lower and big.upper <= small.upper


@FAST
@given(st.integers(0, 500), st.integers(1, 100_000), st.floats(0.5, 0.99))
def test_crude_rate_interval_contains_rate(k, n, conf):
    est = S.crude_rate(k, n, per=100, conf=conf)
    assert est.lower <= est.value <= est.upper


# --------------------------------------------------------------------------------------------
# directly standardised rates


def test_dsr_worked_example_dobson():
    # Three strata. e = events, n = population, w = standard weights (W = 6000).
    e = [5, 20, 40]
    n = [10_000, 8_000, 4_000]
    w = [3_000, 2_000, 1_000]
    # stratum rates 5/10000 = 0.0005, 20/8000 = 0.0025, 40/4000 = 0.01
    # DSR = (3000*0.0005 + 2000*0.0025 + 1000*0.01) / 6000 = (1.5 + 5 + 10) / 6000 = 0.00275
    dsr_value = 16.5 / 6000
    # w/n = 0.3, 0.25, 0.25; var = (0.09*5 + 0.0625*20 + 0.0625*40) / 6000^2 = 4.2 / 36e6
    var = 4.2 / 36e6
    O = 65
    # Exact Garwood limits of O = 65 from the chi-square formula (about 50.17 and 82.85).
    o_lo = chi2.ppf(0.025, 2 * O) / 2
    o_hi = chi2.ppf(0.975, 2 * O + 2) / 2
    assert o_lo == pytest.approx(50.17, abs=0.01) and o_hi == pytest.approx(82.85, abs=0.01)
    factor = math.sqrt(var / O)  # sqrt(1.7949e-9) = 4.2366e-5
    lower = dsr_value + factor * (o_lo - O)
    upper = dsr_value + factor * (o_hi - O)
    est = S.dsr(e, n, w, per=100_000)
    assert est.value == pytest.approx(275.0)
    assert est.lower == pytest.approx(lower * 100_000, rel=1e-9)
    assert est.upper == pytest.approx(upper * 100_000, rel=1e-9)
    # by hand: factor = 4.2366e-5; lower = 0.00275 - 4.2366e-5 * 14.834 = 0.0021215,
    # upper = 0.00275 + 4.2366e-5 * 17.848 = 0.0035061 -> 275.0 (212.2, 350.6) per 100 000
    assert est.lower == pytest.approx(212.15, abs=0.01)
    assert est.upper == pytest.approx(350.61, abs=0.01)


def test_dsr_zero_population_stratum_keeps_its_weight():
    # Stratum 2 has no population: it adds nothing, but its weight stays in W.
    est = S.dsr([10, 3], [1000, 0], [1, 1], per=1)
    assert est.value == pytest.approx((10 / 1000) / 2)
    assert np.isnan(S.dsr([1, 1], [0, 0], [1, 1]).value)


def test_dsr_zero_events():
    # O = 0: value 0, lower 0; upper uses sqrt(sum(w^2/n) / sum(n)) / W * 3.689.
    est = S.dsr([0, 0], [100, 300], [1, 3], per=1)
    factor = math.sqrt((1 / 100 + 9 / 300) / 400) / 4
    assert est.value == 0 and est.lower == 0
    assert est.upper == pytest.approx(factor * 3.68888, rel=1e-5)


def test_dsr_broadcasts_over_areas():
    events = np.array([[5, 20, 40], [1, 2, 3]])
    pops = np.array([[10_000, 8_000, 4_000], [500, 600, 700]])
    w = [3_000, 2_000, 1_000]
    est = S.dsr(events, pops, w)
    for i in range(2):
        one = S.dsr(events[i], pops[i], w)
        assert est.value[i] == pytest.approx(one.value)
        assert est.upper[i] == pytest.approx(one.upper)


@FAST
@given(st.integers(0, 400), st.integers(1, 100_000), st.floats(0.1, 1e4), st.floats(0.8, 0.999))
def test_dsr_one_stratum_is_crude_rate(e, n, w, conf):
    d = S.dsr([e], [n], [w], per=1000, conf=conf)
    c = S.crude_rate(e, n, per=1000, conf=conf)
    assert d.value == pytest.approx(c.value, rel=1e-9, abs=1e-12)
    assert d.lower == pytest.approx(c.lower, rel=1e-9, abs=1e-12)
    assert d.upper == pytest.approx(c.upper, rel=1e-9, abs=1e-12)


strata_data = st.integers(1, 6).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 300), min_size=k, max_size=k),
        st.lists(st.integers(1, 50_000), min_size=k, max_size=k),
        st.lists(st.floats(0.1, 1e4), min_size=k, max_size=k),
    )
)


@FAST
@given(strata_data, st.integers(2, 20))
def test_dsr_scale_invariance_and_containment(data, factor):
    e, n, w = data
    base = S.dsr(e, n, w)
    scaled = S.dsr([x * factor for x in e], [x * factor for x in n], w)
    assert scaled.value == pytest.approx(base.value, rel=1e-9, abs=1e-9)
    assert base.lower <= base.value <= base.upper
    # more events at the same rates: narrower interval
    if sum(e) > 0:
        assert scaled.upper - scaled.lower < base.upper - base.lower


@FAST
@given(strata_data)
def test_dsr_weights_scale_free(data):
    e, n, w = data
    a = S.dsr(e, n, w)
    b = S.dsr(e, n, [x * 7.5 for x in w])
    assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-9)
    assert b.upper == pytest.approx(a.upper, rel=1e-9, abs=1e-9)


def test_dsr_table_matches_dsr_and_fills_missing_strata():
    frame = pd.DataFrame(
        {
            "area": ["a", "a", "a", "b", "b", "a"],
            "stratum": ["s1", "s2", "s3", "s1", "s3", "s1"],
            "events": [2, 5, 9, 1, 4, 1],
            "population": [100, 200, 300, 50, 80, 20],
        }
    )
    weights = {"s1": 5.0, "s2": 3.0, "s3": 2.0}
    out = S.dsr_table(frame, "area", weights=weights, per=1000)
    assert list(out.columns) == ["area", "events", "population", "value", "lower", "upper"]
    assert list(out["area"]) == ["a", "b"]
    # area a: rows s1 summed (2+1 events, 100+20 population)
    a = S.dsr([3, 5, 9], [120, 200, 300], [5, 3, 2], per=1000)
    # area b has no s2 row: population 0 there
    b = S.dsr([1, 0, 4], [50, 0, 80], [5, 3, 2], per=1000)
    for row, ref in ((0, a), (1, b)):
        assert out.loc[row, "value"] == pytest.approx(ref.value)
        assert out.loc[row, "lower"] == pytest.approx(ref.lower)
        assert out.loc[row, "upper"] == pytest.approx(ref.upper)
    assert out["events"].tolist() == [17, 5]
    assert out["population"].tolist() == [620, 130]
    with pytest.raises(ValueError):
        S.dsr_table(frame, "area", weights={"s1": 1.0, "s2": 1.0})
    whole = S.dsr_table(frame, [], weights=weights)
    assert len(whole) == 1 and whole["events"].iloc[0] == 22


# --------------------------------------------------------------------------------------------
# indirect standardisation


def test_indirect_ratio_worked_example():
    # O = 10, E = 8: ratio 1.25, limits 4.795/8 and 18.390/8.
    est = S.indirect_ratio(10, 8)
    assert est.value == pytest.approx(1.25)
    assert est.lower == pytest.approx(4.795 / 8, abs=1e-4)
    assert est.upper == pytest.approx(18.390 / 8, abs=1e-4)
    assert np.isnan(S.indirect_ratio(3, 0).value)


def test_expected_counts_and_indirect_table_by_hand():
    frame = pd.DataFrame(
        {
            "area": ["x", "x", "y", "y"],
            "stratum": ["young", "old", "young", "old"],
            "events": [2, 10, 6, 20],
            "population": [1000, 500, 2000, 500],
        }
    )
    # national rates: young 8/3000, old 30/1000
    # expected x = 1000*8/3000 + 500*0.03 = 2.6667 + 15 = 17.6667; observed 12
    # expected y = 2000*8/3000 + 500*0.03 = 5.3333 + 15 = 20.3333; observed 26
    assert S.expected_counts([1000, 500], [8 / 3000, 0.03]) == pytest.approx(17.6667, abs=1e-4)
    out = S.indirect_table(frame, "area")
    assert list(out.columns) == ["area", "observed", "expected", "value", "lower", "upper"]
    assert out["expected"].tolist() == pytest.approx([17.6667, 20.3333], abs=1e-4)
    assert out["value"].tolist() == pytest.approx([12 / 17.6667, 26 / 20.3333], abs=1e-4)
    assert out["expected"].sum() == pytest.approx(out["observed"].sum())


@FAST
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=5),  # stratum rate numerators per 100
    st.lists(st.lists(st.integers(1, 40), min_size=5, max_size=5), min_size=1, max_size=6),
)
def test_indirect_ratio_is_one_at_national_rates(rates, areas):
    # Every area has exactly the national rate in every stratum -> ratio 1.
    rows = []
    for a, sizes in enumerate(areas):
        for s, r in enumerate(rates):
            pop = sizes[s] * 100
            rows.append((a, s, sizes[s] * r, pop))
    frame = pd.DataFrame(rows, columns=["area", "stratum", "events", "population"])
    out = S.indirect_table(frame, "area")
    has = out["expected"] > 0
    assert np.allclose(out.loc[has, "value"], 1.0)
    assert (out.loc[~has, "observed"] == 0).all()


# --------------------------------------------------------------------------------------------
# variation statistics


def test_variation_stats_by_hand():
    # O = 10, 20, 30 with E = 20 each: ratios 0.5, 1.0, 1.5.
    # SCV = mean of ((O-E)^2/E^2 - 1/E) = mean(0.25-0.05, 0-0.05, 0.25-0.05) = 0.35/3
    # EQ = 1.5/0.5 = 3; with O >= 15 only: 1.5/1.0; CV = sd(0.5,1,1.5; ddof 1) / 1 = 0.5
    v = S.variation_stats([10, 20, 30], [20, 20, 20], min_count=15)
    assert v.scv == pytest.approx(0.35 / 3)
    assert v.extremal_quotient == pytest.approx(3.0)
    assert v.extremal_quotient_min_count == pytest.approx(1.5)
    assert v.coefficient_of_variation == pytest.approx(0.5)
    assert v.n_areas == 3


def test_variation_stats_excludes_and_handles_zero():
    v = S.variation_stats([0, 10, 40, 5], [10, 20, 20, 0])
    # area with E = 0 dropped; EQ over O > 0 only: 2.0 / 0.5
    assert v.n_areas == 3
    assert v.extremal_quotient == pytest.approx(4.0)


def test_scv_separates_chance_from_systematic_variation():
    rng = np.random.default_rng(20240601)
    expected = rng.uniform(20, 200, size=3000)
    chance = S.variation_stats(rng.poisson(expected), expected)
    assert abs(chance.scv) < 0.005  # pure Poisson noise: SCV about 0
    true_ratio = rng.gamma(shape=10.0, scale=0.1, size=expected.size)  # variance 0.1
    systematic = S.variation_stats(rng.poisson(expected * true_ratio), expected)
    assert systematic.scv == pytest.approx(0.1, abs=0.015)


# --------------------------------------------------------------------------------------------
# funnel plots


def interpolated_limit(lam: float, p: float) -> float:
    """Spiegelhalter (2005) interpolated exact Poisson limit, computed with pure Python."""
    r = 0
    while poisson_cdf(r, lam) < p:
        r += 1
    f_r, f_before = poisson_cdf(r, lam), poisson_cdf(r - 1, lam)
    return max(r - (f_r - p) / (f_r - f_before), 0.0)


def test_funnel_limits_known_point_spiegelhalter():
    # Spiegelhalter's interpolated limits (method="spiegelhalter"; the exact default is tested in
    # tests/test_funnel.py). lam = 0.01 * 1000 = 10. P(X<=16) = 0.97296, P(X<=17) = 0.98572, so r = 17 for p = 0.975
    # and alpha = (0.98572 - 0.975) / (0.98572 - 0.97296) = 0.840: upper count 16.160.
    out = S.funnel_limits([1000], target=0.01, per=1, method="spiegelhalter")
    assert list(out.columns) == ["denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]
    assert out["upper_95"].iloc[0] * 1000 == pytest.approx(16.160, abs=1e-3)
    # P(X<=3) = 0.01034, P(X<=4) = 0.02925: lower count 4 - (0.02925-0.025)/0.01892 = 3.775
    assert out["lower_95"].iloc[0] * 1000 == pytest.approx(3.775, abs=1e-3)
    assert out["upper_99_8"].iloc[0] * 1000 == pytest.approx(interpolated_limit(10, 0.999))
    assert out["lower_99_8"].iloc[0] * 1000 == pytest.approx(interpolated_limit(10, 0.001))


@FAST
@given(st.floats(0.5, 5000), st.floats(0.001, 0.5))
def test_funnel_limits_match_pure_python(n, target):
    out = S.funnel_limits([n], target=target, per=1000, conf=(0.9, 0.99), method="spiegelhalter")
    lam = target * n / 1000
    upper = interpolated_limit(lam, 0.95) / n * 1000
    lower = interpolated_limit(lam, 0.005) / n * 1000
    assert out["upper_90"].iloc[0] == pytest.approx(upper, rel=1e-7, abs=1e-12)
    assert out["lower_99"].iloc[0] == pytest.approx(lower, rel=1e-7, abs=1e-12)


def test_funnel_limits_order_and_narrowing():
    n = np.array([10, 100, 1_000, 10_000, 100_000])
    out = S.funnel_limits(n, target=0.02)
    assert (out["lower_99_8"] <= out["lower_95"]).all()
    assert (out["lower_95"] <= 0.02).all() and (out["upper_95"] >= 0.02).all()
    assert (out["upper_95"] <= out["upper_99_8"]).all()
    assert np.all(np.diff(out["upper_95"] - out["lower_95"]) < 0)
    assert S.funnel_limits([0], 0.1)[["lower_95", "upper_95"]].isna().all(axis=None)


def test_funnel_flags_categories_spiegelhalter():
    # Flags against the interpolated limits (method="spiegelhalter", the earlier behaviour).
    # lam = 10 (expected 10, ratio target 1). Limits by hand: 95 %: 3.775 .. 16.160;
    # 99.8 %: 1.221 .. 20.757 (see interpolated_limit).
    obs = [25, 18, 10, 4, 3, 1, 0]
    flags = S.funnel_flags(obs, [10] * len(obs), target=1.0, method="spiegelhalter")
    lo95, hi95 = interpolated_limit(10, 0.025), interpolated_limit(10, 0.975)
    lo998, hi998 = interpolated_limit(10, 0.001), interpolated_limit(10, 0.999)
    expected = []
    for o in obs:
        if o > hi998:
            expected.append("high_998")
        elif o > hi95:
            expected.append("high_95")
        elif o < lo998:
            expected.append("low_998")
        elif o < lo95:
            expected.append("low_95")
        else:
            expected.append("within")
    assert list(flags) == expected
    assert expected == ["high_998", "high_95", "within", "within", "low_95", "low_998", "low_998"]
    assert S.funnel_flags([3], [0], 1.0)[0] is None


# --------------------------------------------------------------------------------------------
# proportions (shares)


def test_proportion_ci_wilson_examples():
    # Newcombe (1998), Stat Med 17:857-872, Table I: Wilson score 95 % limits for
    # 81/263 = 0.2553-0.3662 and 0/10 = 0-0.2775.
    est = S.proportion_ci([81, 0], [263, 10])
    assert est.lower[0] == pytest.approx(0.2553, abs=1e-4)
    assert est.upper[0] == pytest.approx(0.3662, abs=1e-4)
    assert est.lower[1] == 0.0
    assert est.upper[1] == pytest.approx(0.2775, abs=1e-4)
    # by hand, 0/10 upper: z^2/n = 0.38415; centre = 0.19207/1.38415 = 0.13877 = half
    z = 1.959964
    assert est.upper[1] == pytest.approx(2 * (z * z / 20) / (1 + z * z / 10), rel=1e-5)
    assert np.isnan(S.proportion_ci(1, 0).value)


@FAST
@given(st.integers(0, 2000), st.integers(1, 2000), st.floats(0.5, 0.999))
def test_proportion_ci_contains_and_bounded(x, n, conf):
    x = min(x, n)
    est = S.proportion_ci(x, n, conf)
    assert 0 <= est.lower <= est.value <= est.upper <= 1


def binomial_cdfs(n: int, theta: float) -> list[float]:
    """P(X <= r) for r = 0..n, X ~ Binomial(n, theta), by summing the probability mass."""
    total, out = 0.0, []
    for x in range(n + 1):
        total += math.comb(n, x) * theta**x * (1 - theta) ** (n - x)
        out.append(total)
    return out


def interpolated_binomial_limit(n: int, theta: float, p: float) -> float:
    cdf = binomial_cdfs(n, theta)
    r = next(r for r, f in enumerate(cdf) if f >= p or r == n)
    f_r, f_before = cdf[r], (cdf[r - 1] if r else 0.0)
    return max(r - (f_r - p) / (f_r - f_before), 0.0)


@FAST
@given(st.integers(1, 300), st.floats(0.01, 0.99))
def test_funnel_limits_proportion_match_pure_python(n, theta):
    out = S.funnel_limits_proportion([n], theta, method="spiegelhalter")
    for side, p in (("lower_95", 0.025), ("upper_95", 0.975), ("lower_99_8", 0.001), ("upper_99_8", 0.999)):
        assert out[side].iloc[0] == pytest.approx(interpolated_binomial_limit(n, theta, p) / n, abs=1e-9)


def test_funnel_proportion_flags_and_continuity():
    flags = S.funnel_flags_proportion([40, 28, 20, 11, 5], [100] * 5, 0.2, method="spiegelhalter")
    lim = {side: interpolated_binomial_limit(100, 0.2, p) for side, p in
           (("lo95", 0.025), ("hi95", 0.975), ("lo998", 0.001), ("hi998", 0.999))}
    assert lim["hi998"] < 40 and lim["hi95"] < 28 < lim["hi998"]
    assert lim["lo998"] < 11 < lim["lo95"] and 5 < lim["lo998"]
    assert list(flags) == ["high_998", "high_95", "within", "low_95", "low_998"]
    # the exact test does not flag 28 of 100: P(X >= 28) = 0.034 > 0.025 (tests/test_funnel.py)
    exact = S.funnel_flags_proportion([40, 28, 20, 11, 5], [100] * 5, 0.2)
    assert list(exact) == ["high_998", "within", "within", "low_95", "low_998"]
    # non-integer denominators (points along the plotted curve) lie between their neighbours
    out = S.funnel_limits_proportion([100, 100.5, 101], 0.2)
    assert out["upper_95"].iloc[2] < out["upper_95"].iloc[1] < out["upper_95"].iloc[0]
    assert out["lower_95"].iloc[0] < out["lower_95"].iloc[1] < out["lower_95"].iloc[2]


# --------------------------------------------------------------------------------------------
# empirical Bayes


def test_eb_shrink_by_hand():
    # One group: e = 2, 30, 8 ; n = 100, 1000, 400 -> r = 0.02, 0.03, 0.02
    # m = 40/1500 = 0.026667; s2 = (100*(0.02-m)^2 + 1000*(0.03-m)^2 + 400*(0.02-m)^2) / 1500
    e, n = [2, 30, 8], [100, 1000, 400]
    m = 40 / 1500
    r = [0.02, 0.03, 0.02]
    s2 = sum(ni * (ri - m) ** 2 for ni, ri in zip(n, r)) / 1500
    a = max(s2 - m / (1500 / 3), 0.0)
    expected = [m + a / (a + m / ni) * (ri - m) for ni, ri in zip(n, r)]
    assert S.eb_shrink(e, n) == pytest.approx(expected)


def test_eb_shrink_groups_and_direction():
    events = [1, 9, 50, 2, 20, 0]
    pops = [100, 100, 1000, 50, 1000, 0]
    group = ["a", "a", "a", "b", "b", "b"]
    out = S.eb_shrink(events, pops, group)
    assert np.isnan(out[5])
    for i, g in enumerate(group[:5]):
        idx = [j for j in range(5) if group[j] == g]
        m = sum(events[j] for j in idx) / sum(pops[j] for j in idx)
        raw = events[i] / pops[i]
        assert min(raw, m) - 1e-12 <= out[i] <= max(raw, m) + 1e-12
    # homogeneous group (no extra-Poisson spread): everything shrinks to the mean
    flat = S.eb_shrink([10, 10, 10], [1000, 1000, 1000])
    assert flat == pytest.approx([0.01] * 3)


# --------------------------------------------------------------------------------------------
# suppression


def test_suppress_worked_examples():
    t = pd.DataFrame({"area": ["a"] * 4 + ["b"] * 3, "count": [2, 3, 10, 20, 0, 7, 12]})
    # area a, plain rule (sum of hidden >= 5): 2 and 3 hidden, sum 5: enough.
    plain = S.suppress(t, groups=[["area"]], assume_hidden_nonzero=False, audit=False)
    assert plain.tolist() == [True, True, False, False, False, False, False]
    # policy-aware: 2 and 3 would each be known to lie in 1..4, so the 10 is hidden too.
    aware = S.suppress(t, groups=[["area"]])
    assert aware.tolist() == [True, True, True, False, False, False, False]
    # a block whose only nonzero cell is small: all cells hidden, total reported
    t2 = pd.DataFrame({"area": ["a", "a", "b", "b"], "count": [3, 0, 8, 9]})
    mask, totals = S.suppress_with_totals(t2, groups=[["area"]])
    assert mask.tolist() == [True, True, False, False]
    assert list(totals) == [("area",)]
    assert totals[("area",)]["area"].tolist() == ["a"]
    assert totals[("area",)]["total"].tolist() == [3]


def test_suppress_zero_shown_and_index_aligned():
    t = pd.DataFrame({"g": [1, 1, 1, 1], "count": [0, 0, 40, 50]}, index=[10, 20, 30, 40])
    mask = S.suppress(t, groups=[["g"]])
    assert mask.index.tolist() == [10, 20, 30, 40]
    assert not mask.any()


def make_oracle(counts, hidden, blocks, published):
    """Independent LP. Returns range(lower_bounds, weights) -> (min, max) of sum(weights * x)
    over all tables an intruder finds consistent with the shown cells, the published totals
    and x >= lower_bounds."""
    counts = np.asarray(counts, dtype=float)
    hid = np.flatnonzero(hidden)
    pos = {j: i for i, j in enumerate(hid)}
    rows, rhs = [], []
    for members, pub in zip(blocks, published):
        in_hidden = [j for j in members if hidden[j]]
        if not pub or not in_hidden:
            continue
        row = np.zeros(hid.size)
        for j in in_hidden:
            row[pos[j]] = 1
        rows.append(row)
        rhs.append(counts[members].sum() - sum(counts[j] for j in members if not hidden[j]))
    A = np.array(rows)

    def feasible_range(lower_bounds, weights):
        weights = np.asarray(weights, dtype=float)
        constant = float(weights[~hidden] @ counts[~hidden])
        obj = weights[hid]
        if not rows:
            low = float(obj @ np.asarray(lower_bounds, dtype=float)[hid])
            return constant + low, (math.inf if obj.any() else constant + low)
        bounds = [(lower_bounds[j], None) for j in hid]
        lo = optimize.linprog(obj, A_eq=A, b_eq=rhs, bounds=bounds, method="highs")
        hi = optimize.linprog(-obj, A_eq=A, b_eq=rhs, bounds=bounds, method="highs")
        assert lo.status == 0
        upper = math.inf if hi.status == 3 else -hi.fun
        return constant + lo.fun, constant + upper

    return feasible_range


def whole_range(lo, hi):
    """Counts are whole numbers: round an LP range inwards (lo up, hi down)."""
    return math.ceil(lo - 1e-6), (math.floor(hi + 1e-6) if hi < math.inf else math.inf)


def check_suppression(table, groups, min_count=5):
    """Run suppress_with_totals and check that no hidden cell or hidden small total is
    recoverable, with an LP of its own (not the module's audit)."""
    mask, totals = S.suppress_with_totals(table, min_count=min_count, groups=groups)
    hidden = mask.to_numpy()
    counts = table["count"].to_numpy()
    n = len(table)
    # primary suppression
    assert np.all(hidden[(counts >= 1) & (counts < min_count)])
    blocks, published = [], []
    for cols in groups:
        if cols:
            parts = table.groupby(cols).indices.items()
        else:
            parts = [((), np.arange(n))]
        marked = totals.get(tuple(cols))
        marked_keys = set()
        if marked is not None:
            marked_keys = {tuple(r) for r in marked[cols].itertuples(index=False)}
        for key, members in parts:
            key = key if isinstance(key, tuple) else (key,)
            is_marked = (tuple(key) in marked_keys) if cols else marked is not None
            # a total of 1..min_count-1 is never published
            if 1 <= counts[members].sum() < min_count:
                assert is_marked
            blocks.append(list(members))
            published.append(not is_marked)
    # cells of a block hidden whole (total hidden too) may be zeros; no other hidden cell is
    whole = np.zeros(n, dtype=bool)
    for members, pub in zip(blocks, published):
        if not pub and hidden[members].all():
            whole[members] = True
    assert not np.any(hidden & (counts == 0) & ~whole)
    unit = np.eye(n)
    oracle_range = make_oracle(counts, hidden, blocks, published)
    for model, lb in (("x >= 0", np.zeros(n)), ("zeros shown", np.where(whole, 0.0, 1.0))):
        for j in np.flatnonzero(hidden):
            lo, hi = oracle_range(lb, unit[j])
            lo_i, hi_i = whole_range(lo, hi)
            assert hi_i > lo_i, f"cell {j} pinned ({model})"
            assert not (lo_i >= 1 and hi_i <= min_count - 1), f"cell {j} small ({model})"
            if model == "zeros shown" and 1 <= counts[j] < min_count and not whole[j]:
                assert hi >= min_count - 1e-6, f"cell {j} known to be small"
        # hidden totals of 1..min_count-1 must not be derivable either
        for members, pub in zip(blocks, published):
            if pub or not 1 <= counts[members].sum() < min_count:
                continue
            indicator = np.zeros(n)
            indicator[members] = 1
            lo_i, hi_i = whole_range(*oracle_range(lb, indicator))
            assert not (lo_i >= 1 and hi_i <= min_count - 1), f"total {members} derivable ({model})"
    return mask, totals


small_counts = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 80))


@SLOW
@given(st.lists(st.tuples(st.integers(0, 3), small_counts), min_size=1, max_size=14))
def test_suppression_1d_never_recoverable(cells):
    table = pd.DataFrame(cells, columns=["region", "count"])
    check_suppression(table, [["region"], []])


@SLOW
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 5).flatmap(
            lambda c: st.lists(small_counts, min_size=r * c, max_size=r * c).map(
                lambda v: (r, c, v)
            )
        )
    )
)
def test_suppression_2d_margins_never_recoverable(spec):
    r, c, values = spec
    table = pd.DataFrame(
        {"row": np.repeat(np.arange(r), c), "col": np.tile(np.arange(c), r), "count": values}
    )
    mask1, _ = check_suppression(table, [["row"], ["col"], []])
    mask2 = S.suppress(table, groups=[["row"], ["col"], []])
    assert mask1.equals(mask2)  # deterministic


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 2), small_counts),
        min_size=2,
        max_size=24,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_suppression_hierarchy_never_recoverable(cells):
    # municipality within region, by stratum: totals per municipality, per region,
    # per region x stratum, per stratum and the grand total
    table = pd.DataFrame(cells, columns=["municipality", "stratum", "count"])
    table["region"] = table["municipality"] // 2
    check_suppression(
        table, [["municipality"], ["region"], ["region", "stratum"], ["stratum"], []]
    )


def test_suppression_bridge_is_repaired():
    # Row 0 has two small cells; the heuristic alone can leave a secondary cell that is the only
    # link between two suppression cycles. Whatever it does, the audit must leave nothing exposed.
    values = [
        [1, 1, 30, 40],
        [50, 60, 70, 80],
        [90, 3, 2, 100],
        [110, 120, 130, 140],
    ]
    table = pd.DataFrame(
        [(i, j, v) for i, row in enumerate(values) for j, v in enumerate(row)],
        columns=["row", "col", "count"],
    )
    check_suppression(table, [["row"], ["col"], []])


def test_suppression_audit_detects_exposure():
    t = pd.DataFrame({"g": ["a"] * 3, "count": [3, 40, 50]})
    only_primary = np.array([True, False, False])
    audit = S.suppression_audit(t, only_primary, groups=[["g"]])
    assert audit.loc[0, "pinned"] and audit.loc[0, "exposed"]
    assert audit.loc[0, "lower"] == pytest.approx(3) and audit.loc[0, "upper"] == pytest.approx(3)
    ok = S.suppression_audit(t, np.array([True, True, False]), groups=[["g"]])
    assert not ok["exposed"].any()
    assert ok.loc[0, "upper"] == pytest.approx(42)  # 43 hidden, other cell at least 1
    # with the total hidden there is nothing to derive from
    free = S.suppression_audit(
        t, only_primary, groups=[["g"]], hidden_totals={("g",): pd.DataFrame({"g": ["a"]})}
    )
    assert free.loc[0, "upper"] == math.inf and not free["exposed"].any()


def test_suppress_rejects_bad_counts():
    with pytest.raises(ValueError):
        S.suppress(pd.DataFrame({"count": [1.5, 2]}))
    with pytest.raises(ValueError):
        S.suppress(pd.DataFrame({"count": [-1, 2]}))


@SLOW
@given(
    st.integers(2, 4).flatmap(
        lambda r: st.integers(2, 4).flatmap(
            lambda c: st.tuples(
                st.just(r),
                st.just(c),
                st.lists(small_counts, min_size=r * c, max_size=r * c),
                st.lists(st.booleans(), min_size=r * c, max_size=r * c),
            )
        )
    ),
    st.booleans(),
)
def test_fast_exposure_check_agrees_with_exact_audit(spec, aware):
    # suppress_with_totals uses a batched LP shortcut; it must flag exactly the cells that the
    # exact two-LPs-per-cell audit flags, for arbitrary (also bad) suppression patterns.
    r, c, values, hide = spec
    table = pd.DataFrame(
        {"row": np.repeat(np.arange(r), c), "col": np.tile(np.arange(c), r), "count": values}
    )
    groups = [["row"], ["col"], []]
    hidden = np.array(hide)
    exact = S.suppression_audit(table, hidden, groups=groups, assume_hidden_nonzero=aware)
    counts = table["count"].to_numpy(float)
    B, _, _, _ = suppression._build_blocks(table, groups)
    lower = np.where((counts > 0) & aware, 1.0, 0.0)
    fast = lp_audit._exposed_cells(counts, hidden, lower, B, np.ones(B.shape[0], bool), 5)
    assert sorted(fast.tolist()) == sorted(exact.index[exact["exposed"]].tolist())
