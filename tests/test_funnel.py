"""Exact funnel-plot flags and limits (etl.stats.funnel), issue #17.

The reference values are computed here from the Poisson and binomial probability mass functions
by plain summation, never from the module. The false-alarm rates are both computed exactly (sum
of the null probabilities of every flagged count) and simulated (seeded), for expected counts
from 1 to 1,000 and for proportions with small denominators.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist

from etl import stats as S

FAST = settings(max_examples=120, deadline=None)
LEVELS = {"998": 0.998, "95": 0.95}


def poisson_pmf(lam: float, kmax: int) -> np.ndarray:
    """P(X = k), k = 0..kmax, by the recursion p_k = p_{k-1} lam / k (in logs for large lam)."""
    k = np.arange(kmax + 1)
    logp = -lam + k * math.log(lam) - np.array([math.lgamma(x + 1) for x in k])
    return np.exp(logp)


def binomial_pmf(n: int, theta: float) -> np.ndarray:
    return np.array([math.comb(n, x) * theta**x * (1 - theta) ** (n - x) for x in range(n + 1)])


def tails(pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(X >= k) and P(X <= k) for k = 0..len(pmf)-1."""
    return np.cumsum(pmf[::-1])[::-1], np.cumsum(pmf)


def expected_flags(p_high: np.ndarray, p_low: np.ndarray) -> list:
    out = []
    for hi, lo in zip(p_high, p_low):
        if hi < 0.001:
            out.append("high_998")
        elif lo < 0.001:
            out.append("low_998")
        elif hi < 0.025:
            out.append("high_95")
        elif lo < 0.025:
            out.append("low_95")
        else:
            out.append("within")
    return out


# --------------------------------------------------------------------------------------------
# worked examples


def test_worked_example_expected_ten():
    """E = 10: P(X >= 17) = 0.0270 and P(X >= 18) = 0.0143, so 17 is within and 18 is high at
    95 %; P(X <= 3) = 0.0103 (low), P(X <= 4) = 0.0293 (within). Spiegelhalter's interpolated
    upper limit is 16.16, so it flagged 17 too."""
    p_high, p_low = tails(poisson_pmf(10.0, 200))
    assert p_high[17] == pytest.approx(0.02704, abs=1e-5) and p_high[18] == pytest.approx(0.01428, abs=1e-5)
    obs = [25, 18, 17, 10, 4, 3, 1, 0]
    flags = S.funnel_flags(obs, [10] * len(obs), 1.0)
    assert list(flags) == expected_flags(p_high[obs], p_low[obs])
    assert list(flags) == ["high_998", "high_95", "within", "within", "within", "low_95", "low_998", "low_998"]
    assert S.funnel_flags([17], [10], 1.0, method="spiegelhalter")[0] == "high_95"
    tails_17 = S.funnel_p_values(17, 10, 1.0)
    assert tails_17.p_high == pytest.approx(p_high[17], rel=1e-10)
    assert tails_17.p_low == pytest.approx(p_low[17], rel=1e-10)
    lim = S.funnel_limits([10], 1.0)
    assert 17 < lim["upper_95"].iloc[0] * 10 < 18                        # between the last within and the first high
    assert 3 < lim["lower_95"].iloc[0] * 10 < 4


def test_worked_example_five_of_five():
    """5 of 5 at a target of 50 %: exact one-sided p = 0.5^5 = 0.031, not even 'high_95'; the
    interpolated limits called it 'high_998'. 0 of 5 is the mirror image."""
    t = S.funnel_p_values_proportion([5, 0], [5, 5], 0.5)
    assert t.p_high[0] == pytest.approx(0.5**5) and t.p_low[1] == pytest.approx(0.5**5)
    assert list(S.funnel_flags_proportion([5, 0], [5, 5], 0.5)) == ["within", "within"]
    assert S.funnel_flags_proportion([5], [5], 0.5, method="spiegelhalter")[0] == "high_998"
    lim = S.funnel_limits_proportion([5, 6], 0.5)
    assert lim["upper_95"].iloc[0] == 1.0 and lim["lower_95"].iloc[0] == 0.0  # no flag possible at n = 5
    # n = 6: 6 of 6 has p = 1/64 = 0.0156 < 0.025, so the upper 95 % limit is below 1
    assert 5 / 6 < lim["upper_95"].iloc[1] < 1.0
    assert S.funnel_flags_proportion([6], [6], 0.5)[0] == "high_95"


def test_percent_levels_and_labels():
    a = S.funnel_limits([10, 50], 1.0, conf=(95, 99.8))
    b = S.funnel_limits([10, 50], 1.0)
    assert list(a.columns) == list(b.columns) == ["denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]
    assert np.allclose(a.to_numpy(), b.to_numpy())
    assert list(S.funnel_flags([25, 3], [10, 10], 1.0, conf=(95, 99.8))) == list(S.funnel_flags([25, 3], [10, 10], 1.0))
    with pytest.raises(ValueError, match="percentage"):
        S.funnel_flags([3], [10], 1.0, conf=(1.5,))
    with pytest.raises(ValueError, match="method"):
        S.funnel_limits([10], 1.0, method="byar")


def test_missing_and_empty_areas():
    flags = S.funnel_flags([3, np.nan, 4], [0, 5, 5], 1.0)
    assert flags[0] is None and flags[1] is None and flags[2] == "within"
    t = S.funnel_p_values([3, np.nan], [0, 5], 1.0)
    assert np.isnan(t.p_high).all() and np.isnan(t.p_low).all()
    assert S.funnel_flags_proportion([1], [0], 0.3)[0] is None
    assert S.funnel_limits([0], 1.0).iloc[0, 1:].isna().all()
    # a numerator above its (perturbed) denominator counts as all of it
    assert S.funnel_p_values_proportion(7, 5, 0.5).p_high == pytest.approx(0.5**5)


# --------------------------------------------------------------------------------------------
# tail probabilities and limits against plain summation


@FAST
@given(st.floats(0.05, 400), st.integers(0, 600))
def test_poisson_tails_match_summation(lam, o):
    p_high, p_low = tails(poisson_pmf(lam, max(o, int(lam * 3 + 60))))
    t = S.funnel_p_values(o, lam, 1.0)
    assert t.p_high == pytest.approx(p_high[o], rel=1e-7, abs=1e-15)
    assert t.p_low == pytest.approx(p_low[o], rel=1e-7, abs=1e-15)


@FAST
@given(st.integers(1, 150), st.floats(0.005, 0.995))
def test_binomial_tails_match_summation(n, theta):
    p_high, p_low = tails(binomial_pmf(n, theta))
    x = np.arange(n + 1)
    t = S.funnel_p_values_proportion(x, np.full(n + 1, n), theta)
    assert np.allclose(t.p_high, p_high, rtol=1e-8, atol=1e-14)
    assert np.allclose(t.p_low, p_low, rtol=1e-8, atol=1e-14)


@FAST
@given(st.floats(0.1, 1500), st.sampled_from([0.8, 0.95, 0.99, 0.998]))
def test_poisson_limits_separate_flagged_from_unflagged_counts(lam, conf):
    """Every whole count above the drawn upper limit has P(X >= O) < alpha/2 and every one at or
    below it does not; the same for the lower limit; so the plot and the flags never disagree."""
    alpha2 = (1 - conf) / 2
    kmax = int(lam + 12 * math.sqrt(lam) + 40)
    p_high, p_low = tails(poisson_pmf(lam, kmax))
    lim = S.funnel_limits([lam], 1.0, conf=(conf,))
    label = S.conf_label(conf)
    upper = lim[f"upper_{label}"].iloc[0] * lam
    lower = lim[f"lower_{label}"].iloc[0] * lam
    k = np.arange(kmax + 1)
    assert np.array_equal(k > upper, p_high < alpha2)
    assert np.array_equal(k < lower, p_low < alpha2)


@FAST
@given(st.integers(1, 120), st.floats(0.01, 0.99), st.sampled_from([0.95, 0.998]))
def test_binomial_limits_separate_flagged_from_unflagged_counts(n, theta, conf):
    alpha2 = (1 - conf) / 2
    p_high, p_low = tails(binomial_pmf(n, theta))
    lim = S.funnel_limits_proportion([n], theta, conf=(conf,))
    label = S.conf_label(conf)
    x = np.arange(n + 1)
    assert np.array_equal(x / n > lim[f"upper_{label}"].iloc[0], p_high < alpha2)
    assert np.array_equal(x / n < lim[f"lower_{label}"].iloc[0], p_low < alpha2)


@FAST
@given(st.floats(0.2, 800), st.integers(0, 900), st.sampled_from([0.95, 0.998]))
def test_high_flag_is_garwood_interval_above_target(e, o, conf):
    """high at level c <=> the exact (Garwood) interval of O/E at level c lies above 1."""
    flag = S.funnel_flags([o], [e], 1.0, conf=(conf,))[0]
    ci = S.indirect_ratio(o, e, conf)
    label = S.conf_label(conf).replace("_", "")
    assert (flag == f"high_{label}") == bool(ci.lower > 1.0)
    assert (flag == f"low_{label}") == bool(ci.upper < 1.0)


@FAST
@given(st.integers(1, 200), st.integers(0, 200), st.floats(0.02, 0.98))
def test_proportion_flag_is_clopper_pearson_interval_excluding_target(n, x, theta):
    x = min(x, n)
    flag = S.funnel_flags_proportion([x], [n], theta, conf=(0.95,))[0]
    lower = beta_dist.ppf(0.025, x, n - x + 1) if x > 0 else 0.0
    upper = beta_dist.ppf(0.975, x + 1, n - x) if x < n else 1.0
    if abs(lower - theta) > 1e-9 and abs(upper - theta) > 1e-9:     # not on the boundary
        assert (flag == "high_95") == (lower > theta)
        assert (flag == "low_95") == (upper < theta)


def test_limits_are_smooth_and_ordered():
    e = np.geomspace(0.5, 5000, 400)
    lim = S.funnel_limits(e, 1.0)
    assert (lim["lower_99_8"] <= lim["lower_95"]).all() and (lim["lower_95"] <= 1).all()
    assert (lim["upper_95"] <= lim["upper_99_8"]).all() and (lim["upper_95"] >= 1).all()
    # on the count scale the limits rise with E, with no jumps (a continuous curve, not steps)
    fine = np.linspace(8, 12, 4001)
    fl = S.funnel_limits(fine, 1.0)
    for side in ("lower_95", "upper_95", "upper_99_8"):
        count = fl[side].to_numpy() * fine
        assert (np.diff(count) > 0).all() and np.max(np.diff(count)) < 0.005, side
    prop = S.funnel_limits_proportion(np.linspace(5, 400, 300), 0.3)
    assert (np.diff(prop["upper_95"] * np.linspace(5, 400, 300)) > 0).all()


# --------------------------------------------------------------------------------------------
# false-alarm rates under the null


def exact_false_alarm_poisson(lam: float, method: str = "exact") -> dict:
    """Probability of each flag when the area is exactly at the target (sum over flagged counts)."""
    kmax = int(lam + 15 * math.sqrt(lam) + 50)
    pmf = poisson_pmf(lam, kmax)
    flags = S.funnel_flags(np.arange(kmax + 1), np.full(kmax + 1, lam), 1.0, method=method)
    return {f: float(pmf[flags == f].sum()) for f in ("high_998", "high_95", "low_95", "low_998")}


def rates_by_level(rates: dict) -> dict:
    """Chance of being flagged at level c or beyond, per side: what the nominal (1 - c)/2 bounds."""
    return {
        ("high", 0.998): rates["high_998"], ("high", 0.95): rates["high_998"] + rates["high_95"],
        ("low", 0.998): rates["low_998"], ("low", 0.95): rates["low_998"] + rates["low_95"],
    }


EXPECTED_COUNTS = np.unique(np.round(np.geomspace(1, 1000, 60), 6))


def test_exact_false_alarm_rate_at_or_below_nominal_for_expected_counts_1_to_1000():
    for lam in EXPECTED_COUNTS:
        for (side, c), rate in rates_by_level(exact_false_alarm_poisson(lam)).items():
            assert rate <= (1 - c) / 2 + 1e-12, (lam, side, c, rate)


def test_interpolated_limits_exceed_nominal():
    """The check above has teeth: Spiegelhalter's limits, compared with whole counts, flag 'high
    99.8 %' with probability 0.0037 at E = 1 and about 0.002 at E = 5 (nominal 0.001)."""
    at1 = rates_by_level(exact_false_alarm_poisson(1.0, "spiegelhalter"))
    at5 = rates_by_level(exact_false_alarm_poisson(5.0, "spiegelhalter"))
    assert at1[("high", 0.998)] == pytest.approx(0.00366, abs=5e-5)
    assert at5[("high", 0.998)] > 0.0015
    worst = max(rates_by_level(exact_false_alarm_poisson(lam, "spiegelhalter"))[("high", 0.998)]
                for lam in EXPECTED_COUNTS)
    assert worst > 0.001


def test_simulated_false_alarm_rate_poisson():
    """Seeded simulation under the null: 400,000 areas at each of ten expected counts from 1 to
    1,000. Each flag's rate is at or below nominal (allowing 3 simulation standard errors)."""
    rng = np.random.default_rng(20261124)
    draws = 400_000
    for lam in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        o = rng.poisson(lam, draws)
        flags = S.funnel_flags(o, np.full(draws, float(lam)), 1.0)
        sim = {f: float(np.mean(flags == f)) for f in ("high_998", "high_95", "low_95", "low_998")}
        for (side, c), rate in rates_by_level(sim).items():
            nominal = (1 - c) / 2
            assert rate <= nominal + 3 * math.sqrt(nominal / draws), (lam, side, c, rate)


SMALL_N = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100)
TARGETS = (0.02, 0.1, 0.25, 0.5, 0.75, 0.9)


def test_exact_false_alarm_rate_proportions_small_denominators():
    for n in SMALL_N:
        x = np.arange(n + 1)
        for theta in TARGETS:
            pmf = binomial_pmf(n, theta)
            flags = S.funnel_flags_proportion(x, np.full(n + 1, n), theta)
            rates = {f: float(pmf[flags == f].sum()) for f in ("high_998", "high_95", "low_95", "low_998")}
            for (side, c), rate in rates_by_level(rates).items():
                assert rate <= (1 - c) / 2 + 1e-12, (n, theta, side, c, rate)
    # ... where the interpolated limits do not hold it (5 of 5 at 50 %: 0.031 for 'high 99.8 %')
    x = np.arange(6)
    flags = S.funnel_flags_proportion(x, np.full(6, 5), 0.5, method="spiegelhalter")
    assert binomial_pmf(5, 0.5)[flags == "high_998"].sum() > 0.001


def test_simulated_false_alarm_rate_proportions():
    rng = np.random.default_rng(17)
    draws = 100_000
    for n in (2, 5, 10, 20, 50):
        for theta in (0.1, 0.5, 0.8):
            x = rng.binomial(n, theta, draws)
            flags = S.funnel_flags_proportion(x, np.full(draws, n), theta)
            sim = {f: float(np.mean(flags == f)) for f in ("high_998", "high_95", "low_95", "low_998")}
            for (side, c), rate in rates_by_level(sim).items():
                nominal = (1 - c) / 2
                assert rate <= nominal + 3 * math.sqrt(nominal / draws), (n, theta, side, c, rate)
