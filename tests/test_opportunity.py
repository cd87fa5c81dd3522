"""Opportunity (etl/stats/opportunity.py): a worked example by hand, the exact per-area limits from
the chi-square formula, the total's Monte Carlo interval against the normal approximation where it
holds, its coverage by simulation, and the targets."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from etl.stats.opportunity import opportunity, target_level


def garwood(k, conf=0.95):
    a = 1 - conf
    return (chi2.ppf(a / 2, 2 * k) / 2 if k > 0 else 0.0), chi2.ppf(1 - a / 2, 2 * k + 2) / 2


def test_worked_example_by_hand():
    # three areas over two years: 120, 80 and 200 examinations among 1,000, 1,000 and 2,000
    # person-years; target 80 per 1,000 -> target counts 80, 80, 160; avoidable 40, 0, 40 in two
    # years = 20, 0, 20 a year, 40 in all.
    res = opportunity([120, 80, 200], [1000, 1000, 2000], 0.080, years=2)
    assert list(res.by_area.value) == pytest.approx([20.0, 0.0, 20.0])
    assert res.total.value == pytest.approx(40.0)
    assert list(res.target_count) == pytest.approx([40.0, 40.0, 80.0])
    assert list(res.above) == [True, False, True] and res.n_above == 2
    lo, hi = garwood(120)
    assert res.by_area.lower[0] == pytest.approx(max(lo - 80, 0) / 2, rel=1e-9)
    assert res.by_area.upper[0] == pytest.approx((hi - 80) / 2, rel=1e-9)
    assert res.by_area.lower[1] == 0 and res.by_area.upper[1] == 0
    assert res.total.lower <= res.total.value <= res.total.upper
    # 120 against 80 is beyond chance (lower limit 99.5), 200 against 160 too (173.2)
    assert list(res.significant) == [True, False, True]


def test_total_interval_matches_the_normal_approximation_for_large_counts():
    # two areas far above their targets: total = (10000 - 5000) + (20000 - 10000) = 15000, and
    # its interval about 15000 -/+ 1.96 sqrt(30000) = -/+ 339.5
    res = opportunity([10000, 20000], [5000, 10000], 1.0, repetitions=40000, seed=1)
    assert res.total.value == 15000
    half = 1.959964 * math.sqrt(30000)
    assert res.total.lower == pytest.approx(15000 - half, abs=15)
    assert res.total.upper == pytest.approx(15000 + half, abs=15)


def test_coverage_of_the_total_by_simulation():
    """50 areas, 10 imaging at 1.5 times the target, 40 at 0.7 times: the 95 % interval of the
    total covers the true avoidable count (the sum of the true excesses) in 90-99.6 % of 150
    replicates (95 % -/+ 3 binomial standard errors of 1.8 points). Measured 93.5 % over 200."""
    rng = np.random.default_rng(3)
    k = 50
    expected = rng.uniform(200, 2000, k)
    mu = expected * np.where(np.arange(k) < 10, 1.5, 0.7)
    truth = np.maximum(mu - expected, 0).sum()
    covered = 0
    for r in range(150):
        res = opportunity(rng.poisson(mu), expected, 1.0, repetitions=2000, seed=r)
        covered += res.total.lower <= truth <= res.total.upper
    assert 0.90 <= covered / 150 <= 0.996


def test_only_significant_when_no_area_differs():
    """Every area exactly at the target: the plain figure is noise (about 0.4 sqrt(T) per area),
    the conservative one counts only areas above beyond chance (about 2.5 % of them)."""
    rng = np.random.default_rng(8)
    expected = rng.uniform(200, 2000, 98)
    o = rng.poisson(expected)
    plain = opportunity(o, expected, 1.0, repetitions=2000)
    strict = opportunity(o, expected, 1.0, repetitions=2000, only_significant=True)
    assert plain.total.value > 5 * strict.total.value
    assert strict.n_above <= 8 and plain.n_above > 30


def test_targets():
    o, n = [10, 20, 30, 40, 50], [1000, 1000, 1000, 1000, 1000]
    assert target_level(o, n, "denmark") == pytest.approx(150 / 5000)
    # levels 0.01..0.05: 25th percentile (linear interpolation) = 0.02
    assert target_level(o, n, "best_quartile") == pytest.approx(0.02)
    assert target_level(o, n, "user", value=0.033) == 0.033
    with pytest.raises(ValueError):
        target_level(o, n, "user")
    with pytest.raises(ValueError):
        target_level(o, n, "median")
    # coming down to Denmark's level removes exactly the excess of the areas above it
    res = opportunity(o, n, target_level(o, n))
    assert res.total.value == pytest.approx((40 - 30) + (50 - 30))


def test_bad_input():
    with pytest.raises(ValueError):
        opportunity([1, 2], [1], 1.0)
    with pytest.raises(ValueError):
        opportunity([1, -2], [1, 1], 1.0)
    with pytest.raises(ValueError):
        opportunity([1, 2], [1, 1], 1.0, years=0)
