"""Edge cases of direct standardisation (issue #17): the Fay-Feuer interval where Dobson's is
degenerate, missing counts, and confidence levels given as percentages."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from etl import stats as S


def fay_feuer_by_hand(e, n, w, conf=0.95):
    """Fay & Feuer (1997), chi-square form of their paper: with y the DSR, v its variance and
    w_M the largest weight w_i / (n_i W): lower = v/(2y) chi2(alpha/2; 2y^2/v),
    upper = (v + w_M^2) / (2 (y + w_M)) chi2(1 - alpha/2; 2 (y + w_M)^2 / (v + w_M^2))."""
    e, n, w = (np.asarray(x, float) for x in (e, n, w))
    a = w / n / w.sum()
    y, v, wm = (a * e).sum(), (a * a * e).sum(), a.max()
    alpha = 1 - conf
    lower = v / (2 * y) * chi2.ppf(alpha / 2, 2 * y * y / v) if y > 0 else 0.0
    upper = (v + wm**2) / (2 * (y + wm)) * chi2.ppf(1 - alpha / 2, 2 * (y + wm) ** 2 / (v + wm**2))
    return y, lower, upper


# very uneven weights: one event in a small stratum of great weight, 50 in a large light one
UNEVEN = ([1, 50], [10, 100_000], [1000, 1])


def test_dobson_lower_limit_collapses_and_fay_feuer_replaces_it():
    e, n, w = UNEVEN
    dobson = S.dsr(e, n, w, per=1, method="dobson")
    # Dobson by hand: O = 51, factor sqrt(var / O); its lower limit falls below 0 (truncated)
    a = np.array(w) / np.array(n) / sum(w)
    y, var = (a * e).sum(), (a * a * e).sum()
    o_lo = chi2.ppf(0.025, 2 * 51) / 2
    assert y + math.sqrt(var / 51) * (o_lo - 51) < 0
    assert dobson.lower == 0.0 and dobson.value == pytest.approx(y)
    auto = S.dsr(e, n, w, per=1)
    _, lo, hi = fay_feuer_by_hand(e, n, w)
    assert auto.lower == pytest.approx(lo, rel=1e-9) and auto.upper == pytest.approx(hi, rel=1e-9)
    assert 0 < auto.lower < auto.value < auto.upper
    ff = S.dsr(e, n, w, per=1, method="fay-feuer")
    assert ff.lower == auto.lower and ff.upper == auto.upper


def test_auto_keeps_dobson_where_it_is_not_degenerate():
    e, n, w = [5, 20, 40], [10_000, 8_000, 4_000], [3_000, 2_000, 1_000]
    assert S.dsr(e, n, w) == S.dsr(e, n, w, method="dobson")
    ff = S.dsr(e, n, w, method="fay-feuer", per=1)
    _, lo, hi = fay_feuer_by_hand(e, n, w)
    assert ff.lower == pytest.approx(lo, rel=1e-9) and ff.upper == pytest.approx(hi, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 400), st.integers(1, 100_000), st.floats(0.1, 1e4), st.floats(0.8, 0.999))
def test_fay_feuer_one_stratum_is_the_exact_interval(e, n, w, conf):
    ff = S.dsr([e], [n], [w], per=1000, conf=conf, method="fay-feuer")
    exact = S.crude_rate(e, n, per=1000, conf=conf)
    assert ff.lower == pytest.approx(exact.lower, rel=1e-8, abs=1e-12)
    assert ff.upper == pytest.approx(exact.upper, rel=1e-8, abs=1e-12)


def test_fay_feuer_covers_with_uneven_weights():
    """Seeded simulation, 4,000 draws of a 4-stratum area with very uneven weights and about 12
    expected events: Fay-Feuer's 95 % interval covers the true DSR at least 95 % of the time."""
    rng = np.random.default_rng(1997)
    n = np.array([40, 400, 4000, 40000.0])
    w = np.array([5000, 2000, 500, 100.0])
    rate = np.array([0.02, 0.005, 0.0015, 0.0002])
    truth = (w * rate).sum() / w.sum()
    e = rng.poisson(n * rate, size=(4000, 4))
    est = S.dsr(e, n, w, per=1, method="fay-feuer")
    cover = np.mean((est.lower <= truth) & (truth <= est.upper))
    assert cover >= 0.95
    auto = S.dsr(e, n, w, per=1)
    assert (auto.lower[e.sum(axis=1) > 0] > 0).all()          # never collapsed where events were seen


def test_missing_count_is_an_error_or_a_warned_nan():
    with pytest.raises(ValueError, match="missing"):
        S.dsr([1, np.nan], [10, 10], [1, 1])
    with pytest.raises(ValueError, match="missing"):
        S.dsr([1, 2], [10, np.nan], [1, 1])
    with pytest.warns(RuntimeWarning, match="missing"):
        est = S.dsr([[1, np.nan], [2, 3]], [[10, 10], [10, 10]], [1, 1], missing="nan")
    assert np.isnan(est.value[0]) and np.isnan(est.upper[0])
    assert est.value[1] == pytest.approx(S.dsr([2, 3], [10, 10], [1, 1]).value)
    with pytest.raises(ValueError, match="missing"):
        S.dsr([1, 2], [10, 10], [1, np.nan])
    with pytest.raises(ValueError, match="missing"):
        S.dsr([1, 2], [10, 10], [1, 1], missing="ignore")


def test_dsr_table_missing_count_names_the_group():
    frame = pd.DataFrame({"area": ["a", "a", "b", "b"], "stratum": ["s1", "s2", "s1", "s2"],
                          "events": [1, np.nan, 2, 3], "population": [10, 10, 10, 10]})
    weights = {"s1": 1.0, "s2": 1.0}
    with pytest.raises(ValueError, match="'area': 'a'"):
        S.dsr_table(frame, "area", weights=weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = S.dsr_table(frame, "area", weights=weights, missing="nan")
    assert any(issubclass(c.category, RuntimeWarning) for c in caught)
    assert np.isnan(out["value"].iloc[0]) and not np.isnan(out["value"].iloc[1])
    complete = S.dsr_table(frame.fillna(0), "area", weights=weights)
    assert out["upper"].iloc[1] == complete["upper"].iloc[1]


@pytest.mark.parametrize("given_, fraction", [(0.95, 0.95), (95, 0.95), (99.8, 0.998), (50, 0.5), (0.5, 0.5)])
def test_conf_as_fraction_or_percentage(given_, fraction):
    assert S.conf_fraction(given_) == pytest.approx(fraction)
    a = S.dsr([5, 20], [1000, 2000], [1, 2], conf=given_)
    b = S.dsr([5, 20], [1000, 2000], [1, 2], conf=fraction)
    assert a == b
    assert S.poisson_ci(7, given_) == S.poisson_ci(7, fraction)
    assert S.conf_label(given_) == S.conf_label(fraction)


@pytest.mark.parametrize("bad", [0, 1, 1.5, 9.5, 49.9, 100, 120, -0.5, float("nan"), "high"])
def test_conf_refused_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="fraction strictly between 0 and 1|must be a number"):
        S.conf_fraction(bad)
    with pytest.raises(ValueError):
        S.crude_rate(3, 100, conf=bad)
