"""Recent trends (etl/stats/trend.py): statsmodels' Poisson GLM as the oracle, the false-alarm rate
under no change by simulation, the chance-flag count against the binomial distribution summed by
hand, and the window rules (incomplete years, register breaks)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from etl.stats.trend import chance_flags, recent_trend, recent_trends_table, select_recent_years, value_trend, value_trends_table

YEARS = np.arange(2013, 2025)


@pytest.mark.parametrize("counts, pop", [
    ([50, 60, 55, 70, 72], [1000, 1010, 1030, 1040, 1050]),
    ([5, 3, 8, 2, 6], [2000, 2000, 2100, 2100, 2150]),
    ([900, 880, 850, 790, 760], [150000, 151000, 152000, 153500, 155000]),
])
def test_poisson_trend_matches_statsmodels_glm(counts, pop):
    sm = pytest.importorskip("statsmodels.api")
    years = np.arange(2020, 2025)
    res = recent_trend(years, counts, pop)
    X = sm.add_constant(years - years.mean())
    glm = sm.GLM(np.asarray(counts, float), X, family=sm.families.Poisson(), offset=np.log(pop)).fit(tol=1e-13)
    b, se = glm.params[1], glm.bse[1]
    assert res.slope == pytest.approx(b, rel=1e-7)
    assert res.se == pytest.approx(se, rel=1e-6)
    assert res.p_value == pytest.approx(glm.pvalues[1], rel=1e-5)
    lo, hi = glm.conf_int(alpha=0.05)[1]
    assert res.apc.value == pytest.approx(100 * math.expm1(b), rel=1e-7)
    assert res.apc.lower == pytest.approx(100 * math.expm1(lo), rel=1e-6, abs=1e-9)
    assert res.apc.upper == pytest.approx(100 * math.expm1(hi), rel=1e-6, abs=1e-9)
    assert res.direction == ("rising" if lo > 0 else "falling" if hi < 0 else "no significant change")
    # quasi-Poisson: statsmodels' Pearson scale, t with N - 2 df
    q = recent_trend(years, counts, pop, quasi=True)
    glm_q = sm.GLM(np.asarray(counts, float), X, family=sm.families.Poisson(), offset=np.log(pop)).fit(scale="X2", tol=1e-13)
    assert q.dispersion == pytest.approx(glm_q.scale, rel=1e-6)
    assert q.se == pytest.approx(glm_q.bse[1], rel=1e-6)
    lo_q, hi_q = glm_q.conf_int(alpha=0.05)[1]          # statsmodels: normal quantile; here t with 3 df
    t3 = 3.182446305284263
    assert q.apc.lower == pytest.approx(100 * math.expm1(b - t3 * glm_q.bse[1]), rel=1e-6, abs=1e-9)


def test_directions_on_clear_series():
    pop = np.full(12, 100000.0)
    rising = 300 * 1.08 ** np.arange(12)
    res = recent_trend(YEARS, np.round(rising), pop)
    assert res.direction == "rising" and res.years == (2020, 2024) and res.n_years == 5
    assert res.apc.value == pytest.approx(8.0, abs=0.3)
    assert recent_trend(YEARS, np.round(rising[::-1]), pop).direction == "falling"
    assert recent_trend(YEARS, np.full(12, 300), pop).direction == "no significant change"


def test_false_alarm_rate_under_no_change_is_nominal():
    """2,000 areas with a constant rate (55 per 1,000) and sizes from 1,500 to 400,000 adults (about
    80 to 22,000 imagings a year): the share flagged (rising or falling at 95 %) must lie within
    3 binomial standard errors of 5 % (sd = sqrt(0.05 x 0.95 / 2000) = 0.49 percentage points), and
    the count inside chance_flags' 99.8 % range for 2,000 areas."""
    rng = np.random.default_rng(27)
    k = 2000
    sizes = np.exp(rng.uniform(np.log(1500), np.log(400000), k))
    growth = rng.uniform(0.98, 1.02, k)                     # populations grow or shrink; the rate does not
    flagged = 0
    for i in range(k):
        pop = sizes[i] * growth[i] ** np.arange(12)
        counts = rng.poisson(0.055 * pop)
        flagged += recent_trend(YEARS, counts, pop).direction != "no significant change"
    share = flagged / k
    sd = math.sqrt(0.05 * 0.95 / k)
    assert abs(share - 0.05) < 3 * sd, share
    band = chance_flags(k, 0.05, conf=0.998)
    assert band.lower <= flagged <= band.upper


def test_planted_trend_is_found_with_its_size():
    """A planted rise of 4 % a year in areas of 50,000 adults (about 2,750 a year) is found in most
    areas, and the mean estimated APC is 4 % (within 4 standard errors of the mean)."""
    rng = np.random.default_rng(5)
    pop = np.full(12, 50000.0)
    apcs, rising = [], 0
    for _ in range(300):
        counts = rng.poisson(0.055 * pop * 1.04 ** np.arange(12))
        r = recent_trend(YEARS, counts, pop)
        apcs.append(r.apc.value)
        rising += r.direction == "rising"
    apcs = np.asarray(apcs)
    assert abs(apcs.mean() - 4.0) < 4 * apcs.std() / math.sqrt(len(apcs))
    assert rising / 300 > 0.9


def test_chance_flags_against_the_binomial_by_hand():
    def cdf(x, n, p):
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(x + 1))

    for k, alpha in ((98, 0.05), (98, 0.025), (5, 0.05), (2000, 0.05)):
        c = chance_flags(k, alpha)
        assert c.expected == pytest.approx(k * alpha)
        assert c.p_any == pytest.approx(1 - (1 - alpha) ** k)
        # the lower limit is the smallest x with P(X <= x) >= 2.5 %, the upper the smallest with >= 97.5 %
        assert cdf(c.lower, k, alpha) >= 0.025 and (c.lower == 0 or cdf(c.lower - 1, k, alpha) < 0.025)
        assert cdf(c.upper, k, alpha) >= 0.975 and cdf(c.upper - 1, k, alpha) < 0.975
    c = chance_flags(98)
    assert (c.lower, c.upper) == (1, 9)
    with pytest.raises(ValueError):
        chance_flags(10, 0.0)


def test_window_rules():
    mask, why = select_recent_years(YEARS, 5, incomplete=[2024])
    assert why is None and list(YEARS[mask]) == [2019, 2020, 2021, 2022, 2023]
    mask, why = select_recent_years(YEARS, 5, breaks=[2019])
    assert why is None and list(YEARS[mask]) == [2020, 2021, 2022, 2023, 2024]
    mask, why = select_recent_years(YEARS, 5, breaks=[2022])
    assert not mask.any() and "break" in why
    mask, why = select_recent_years(YEARS, 5, incomplete=[2022])
    assert not mask.any() and "consecutive" in why
    mask, why = select_recent_years(YEARS[:4], 5)
    assert not mask.any() and "fewer than 5" in why
    # a user-set window of 8 years that reaches back over the 2019 break is refused, 5 is fine
    assert recent_trend(YEARS, np.full(12, 100), np.full(12, 1e4), n_years=8, breaks=[2019]).direction == "not tested"
    assert recent_trend(YEARS, np.full(12, 100), np.full(12, 1e4), n_years=5, breaks=[2019]).direction != "not tested"
    with pytest.raises(ValueError):
        select_recent_years([2020, 2020, 2021], 3)


def test_not_tested_when_no_finite_trend():
    years = np.arange(2020, 2025)
    r = recent_trend(years, [0, 0, 0, 0, 0], [1000] * 5)
    assert r.direction == "not tested" and math.isnan(r.apc.value) and "no finite trend" in r.reason
    assert recent_trend(years, [0, 0, 0, 0, 4], [1000] * 5).direction == "not tested"
    assert recent_trend(years, [1, 0, 0, 0, 4], [1000] * 5).direction != "not tested"
    r = recent_trend(years, [1, np.nan, 3, 4, 5], [1000] * 5)
    assert r.direction == "not tested" and "missing" in r.reason
    with pytest.raises(ValueError):
        recent_trend(years, [1, 2, 3], [1000] * 5)


def test_table_over_areas():
    import pandas as pd

    pop = np.full(12, 100000.0)
    frame = pd.DataFrame({
        "area": np.repeat(["up", "down", "flat"], 12),
        "year": np.tile(YEARS, 3),
        "n": np.concatenate([np.round(300 * 1.08 ** np.arange(12)), np.round(300 * 0.92 ** np.arange(12)),
                             np.full(12, 300.0)]),
        "pop": np.tile(pop, 3)})
    before = frame.copy()
    t = recent_trends_table(frame, "area", "year", "n", "pop", incomplete=[2024]).set_index("area")
    assert frame.equals(before)
    assert t.loc["up", "direction"] == "rising" and t.loc["down", "direction"] == "falling"
    assert t.loc["flat", "direction"] == "no significant change"
    assert (t.first_year == 2019).all() and (t.last_year == 2023).all()
    one = recent_trend(YEARS, frame.n[:12], pop, incomplete=[2024])
    assert t.loc["up", "apc"] == one.apc.value


def test_value_trend_matches_weighted_least_squares_with_known_variances():
    sm = pytest.importorskip("statsmodels.api")
    years = np.arange(2018, 2025)
    value = np.array([-30.1, -31.5, -29.8, -33.0, -34.2, -33.9, -36.0])      # e.g. SII per 1,000
    half = np.array([3.0, 2.8, 3.1, 2.6, 2.9, 2.7, 3.3])
    res = value_trend(years, value, value - half, value + half, n_years=7)
    se = half / 1.959963984540054
    fit = sm.WLS(value, sm.add_constant(years - 2021.0), weights=1 / se ** 2).fit(cov_type="fixed scale")
    assert res.slope == pytest.approx(fit.params[1], rel=1e-10)
    assert res.se == pytest.approx(fit.bse[1], rel=1e-10)
    assert res.p_value == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert res.change.value == pytest.approx(fit.params[1], rel=1e-10)
    assert res.direction == ("falling" if fit.conf_int()[1][1] < 0 else "no significant change")
    # on the log scale (an RII): per cent a year
    rii = np.exp(0.02 * np.arange(7)) * 0.6
    r = value_trend(years, rii, rii * np.exp(-0.05), rii * np.exp(0.05), log=True, n_years=7)
    assert r.change.value == pytest.approx(100 * math.expm1(0.02), rel=1e-9) and r.direction == "rising"


def test_value_trend_false_alarms_under_no_change():
    """Values scattered by their own standard errors around a constant: about 5 % flagged among
    2,000 series (within 3 binomial standard errors)."""
    rng = np.random.default_rng(99)
    k, flagged = 2000, 0
    for _ in range(k):
        se = rng.uniform(1, 4, 5)
        v = -30 + se * rng.standard_normal(5)
        flagged += value_trend(np.arange(2020, 2025), v, v - 1.96 * se, v + 1.96 * se).direction != "no significant change"
    assert abs(flagged / k - 0.05) < 3 * math.sqrt(0.05 * 0.95 / k)
    assert value_trend([2020, 2021, 2022], [1, 2, 3], [0, 1, 2], [2, 3, 4], n_years=5).direction == "not tested"


def test_year_to_year_variation_breaks_the_poisson_test_not_the_quasi_poisson_one():
    """1,000 areas of 200,000 adults with a constant underlying rate that moves from year to year
    (sd 5 % on the log scale): the plain Poisson test flags far more than 5 % (measured 72 % in a
    larger run), the quasi-Poisson test stays within 3 binomial standard errors of 5 %."""
    rng = np.random.default_rng(4)
    k, plain, quasi = 1000, 0, 0
    years, pop = np.arange(2020, 2025), np.full(5, 200000.0)
    for _ in range(k):
        counts = rng.poisson(0.055 * pop * np.exp(rng.normal(0, 0.05, 5)))
        plain += recent_trend(years, counts, pop).direction != "no significant change"
        quasi += recent_trend(years, counts, pop, quasi=True).direction != "no significant change"
    assert plain / k > 0.3
    assert abs(quasi / k - 0.05) < 3 * math.sqrt(0.05 * 0.95 / k)


def test_value_trends_table_from_sii_table():
    import pandas as pd

    from etl.stats import sii_table

    rows = []
    for area, slope in (("steeper", -0.04), ("flat", 0.0)):
        for i, year in enumerate(range(2018, 2025)):
            for q, (m, n) in enumerate(zip((1.3, 1.1, 0.95, 0.8), (20000, 40000, 25000, 15000)), start=1):
                rate = 55 * m ** (1 - slope * 10 * i)         # the gradient steepens in "steeper"
                rows.append({"area": area, "year": year, "edu": q, "rate": rate, "pop": n,
                             "lo": rate * 0.97, "hi": rate / 0.97})
    per_year = sii_table(pd.DataFrame(rows), ["area", "year"], "edu", "rate", "pop", lower="lo", upper="hi",
                         kind="rate", transform=True, repetitions=2000)
    t = value_trends_table(per_year, "area", "year", "rii", "rii_lower", "rii_upper", log=True).set_index("area")
    assert t.loc["steeper", "direction"] == "falling" and t.loc["flat", "direction"] == "no significant change"
    assert t.loc["flat", "change"] == pytest.approx(0.0, abs=1e-9)
    one = value_trend(per_year[per_year.area == "steeper"].year, per_year[per_year.area == "steeper"].rii,
                      per_year[per_year.area == "steeper"].rii_lower, per_year[per_year.area == "steeper"].rii_upper,
                      log=True)
    assert t.loc["steeper", "change"] == one.change.value and (t.first_year == 2020).all()
