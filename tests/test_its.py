"""Segmented regression of interrupted time series (etl.stats.segmented_regression).

Exact recovery of known level and slope changes on noise-free series, interval coverage on noisy
series over many seeded repetitions, invariances and the handling of missing months and bad input.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import stats
from etl.stats import ITS_TERMS, newey_west_lags, segmented_regression


def series(n, k, b0, b1, b2, b3, t=None):
    t = np.arange(n, dtype=float) if t is None else np.asarray(t, float)
    post = (np.arange(n) >= k).astype(float)
    return t, b0 + b1 * t + b2 * post + b3 * (t - t[k]) * post


def test_noise_free_series_is_recovered_exactly():
    t, y = series(27, 12, 30.0, 0.25, 9.0, -1.3)
    r = segmented_regression(t, y, 12)
    assert r["params"] == pytest.approx({"intercept": 30.0, "pre_slope": 0.25, "level_change": 9.0,
                                         "slope_change": -1.3}, abs=1e-9)
    assert r["post_slope"]["estimate"] == pytest.approx(0.25 - 1.3, abs=1e-9)
    for name in ITS_TERMS:
        assert r["se"][name] == pytest.approx(0.0, abs=1e-9)
        assert r["lower"][name] == pytest.approx(r["upper"][name], abs=1e-8)
    assert np.allclose(r["fitted"], y)
    assert np.allclose(r["counterfactual"], 30.0 + 0.25 * t)
    assert r["t0"] == 12.0 and r["n"] == 27 and r["df"] == 23 and r["se_type"] == "ols"


@settings(max_examples=60, deadline=None)
@given(n_pre=st.integers(2, 30), n_post=st.integers(3, 30),
       b=st.tuples(*[st.floats(-100, 100, allow_nan=False) for _ in range(4)]),
       shift=st.floats(-50, 2000, allow_nan=False), step=st.floats(0.1, 10, allow_nan=False),
       hac=st.sampled_from([None, "auto", 0, 3]))
def test_exact_recovery_property(n_pre, n_post, b, shift, step, hac):
    """Any noise-free line with a break is recovered, whatever the time origin, spacing and SE type."""
    n = n_pre + n_post
    t = shift + step * np.arange(n)
    _, y = series(n, n_pre, *b, t=t)
    r = segmented_regression(t, y, n_pre, hac_lags=hac)
    scale = 1 + max(abs(x) for x in b) * (1 + abs(shift) + step * n)
    for name, truth in zip(ITS_TERMS, b):
        assert abs(r["params"][name] - truth) <= 1e-7 * scale, name
    assert np.allclose(r["fitted"], y, atol=1e-7 * scale)


def _coverage(reps, n, k, rho=0.0, hac=None, sd=2.0, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.array([20.0, 0.3, 6.0, -0.8])
    t = np.arange(n, dtype=float)
    hits = np.zeros(4)
    for _ in range(reps):
        z = rng.normal(0.0, sd, n)
        e = np.empty(n)
        e[0] = z[0]
        for i in range(1, n):
            e[i] = rho * e[i - 1] + z[i]
        _, y = series(n, k, *truth)
        r = segmented_regression(t, y + e, k, hac_lags=hac)
        lo = np.array([r["lower"][x] for x in ITS_TERMS])
        hi = np.array([r["upper"][x] for x in ITS_TERMS])
        hits += (lo <= truth) & (truth <= hi)
    return hits / reps


def test_ols_interval_covers_the_truth_on_noisy_series():
    """27 monthly points (12 before, 15 after) with independent noise: the 95% intervals cover
    each true coefficient in at least 90% of 200 seeded repetitions."""
    cover = _coverage(200, 27, 12)
    assert (cover >= 0.90).all(), cover
    assert (cover <= 0.995).all(), cover          # not absurdly wide either


def test_newey_west_interval_coverage_in_a_long_series():
    """HAC intervals are asymptotic: with 120 points and AR(1) errors (rho 0.3) they cover in most runs."""
    cover = _coverage(200, 120, 60, rho=0.3, hac="auto", seed=3)
    assert (cover >= 0.82).all(), cover


def test_newey_west_is_wider_than_ols_under_positive_autocorrelation():
    rng = np.random.default_rng(7)
    n, k = 60, 30
    t = np.arange(n, dtype=float)
    ratios, dws = [], []
    for _ in range(50):
        e = np.zeros(n)
        for i in range(1, n):
            e[i] = 0.7 * e[i - 1] + rng.normal()
        _, y = series(n, k, 5, 0.1, 2, -0.1)
        ols = segmented_regression(t, y + e, k)
        hac = segmented_regression(t, y + e, k, hac_lags="auto")
        ratios.append(hac["se"]["level_change"] / ols["se"]["level_change"])
        assert ols["params"] == hac["params"]               # same point estimates, other errors
        dws.append(ols["durbin_watson"])
    assert np.median(dws) < 1.2                              # the autocorrelation shows
    assert np.median(ratios) > 1.0
    assert hac["se_type"] == "newey-west" and hac["lags"] == newey_west_lags(60) == 3


def test_durbin_watson_near_two_for_independent_errors():
    rng = np.random.default_rng(11)
    t, y = series(200, 100, 1, 0.01, 1, 0.02)
    r = segmented_regression(t, y + rng.normal(0, 1, 200), 100)
    assert r["durbin_watson"] == pytest.approx(2.0, abs=0.35)
    assert 0 <= r["r_squared"] <= 1


def test_missing_months_are_left_out():
    t, y = series(30, 14, 10, 0.5, 3, -0.2)
    y_missing = y.copy()
    y_missing[[2, 20, 29]] = np.nan
    r = segmented_regression(t, y_missing, 14)
    assert r["n"] == 27
    assert r["params"]["level_change"] == pytest.approx(3.0)
    assert np.isnan(r["residuals"][[2, 20, 29]]).all()
    assert np.isfinite(r["fitted"]).all()                   # fitted at every month, missing or not


def test_weights_give_weighted_least_squares():
    rng = np.random.default_rng(5)
    t, y = series(24, 10, 10, 0.5, 3, -0.2)
    noisy = y + rng.normal(0, 1, 24)
    w = rng.uniform(0.5, 3, 24)
    r = segmented_regression(t, noisy, 10, weights=w)
    post = (np.arange(24) >= 10).astype(float)
    X = np.column_stack([np.ones(24), t, post, (t - t[10]) * post])
    beta = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * noisy))
    assert [r["params"][n] for n in ITS_TERMS] == pytest.approx(list(beta))
    same = segmented_regression(t, noisy, 10, weights=np.full(24, 4.0))
    plain = segmented_regression(t, noisy, 10)
    assert same["params"] == pytest.approx(plain["params"])
    assert same["se"] == pytest.approx(plain["se"])


def test_interval_matches_student_t():
    from scipy.stats import t as student_t

    rng = np.random.default_rng(2)
    t, y = series(20, 8, 0, 1, 2, 3)
    r = segmented_regression(t, y + rng.normal(0, 1, 20), 8, conf=0.9)
    q = student_t.ppf(0.95, 16)
    for name in ITS_TERMS:
        assert r["upper"][name] - r["params"][name] == pytest.approx(q * r["se"][name])
        assert r["p"][name] == pytest.approx(2 * student_t.sf(abs(r["params"][name] / r["se"][name]), 16))


@pytest.mark.parametrize("k", [0, 1, 19, 20, -1])
def test_too_few_points_on_one_side_is_refused(k):
    t, y = series(20, 10, 0, 1, 2, 3)
    with pytest.raises(ValueError):
        segmented_regression(t, y, k)


def test_bad_input_is_refused():
    t, y = series(20, 10, 0, 1, 2, 3)
    with pytest.raises(ValueError):
        segmented_regression(t, y[:-1], 10)
    with pytest.raises(ValueError):
        segmented_regression(t, y, 10, weights=np.zeros(20))
    with pytest.raises(ValueError):
        segmented_regression(t, y, 10, conf=1.5)
    with pytest.raises(ValueError):
        segmented_regression(t, y, 10, hac_lags=-1)
    y2 = y.copy()
    y2[:9] = np.nan                                     # one month left before
    with pytest.raises(ValueError):
        segmented_regression(t, y2, 10)


def test_inputs_are_not_modified():
    t, y = series(20, 10, 0, 1, 2, 3)
    t0, y0 = t.copy(), y.copy()
    stats.segmented_regression(t, y, 10, weights=np.ones(20), hac_lags=2)
    assert (t == t0).all() and (y == y0).all()


def test_newey_west_lags_rule():
    assert newey_west_lags(27) == 2
    assert newey_west_lags(100) == 4
    assert newey_west_lags(1) == 1


# --------------------------------------------------------------------------------------------
# statsmodels as an independent oracle (test-only dependency)


def _ar1_series(n, k, rho, seed):
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + rng.normal(0.0, 1.5)
    t, y = series(n, k, 12.0, 0.4, -3.0, 0.25)
    return t, y + e, rng.uniform(0.5, 3.0, n)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("hac", [None, 0, 2, "auto"])
def test_agrees_with_statsmodels(weighted, hac):
    """Coefficients, standard errors (classical and Newey-West), t intervals, p-values, R^2 and the
    Durbin-Watson statistic agree with statsmodels' OLS/WLS (HAC with the n/(n-k) correction)."""
    import statsmodels.api as sm
    from statsmodels.stats.stattools import durbin_watson

    n, k = 48, 20
    t, y, w = _ar1_series(n, k, 0.5, seed=17 + (hac == "auto"))
    post = (np.arange(n) >= k).astype(float)
    X = np.column_stack([np.ones(n), t, post, (t - t[k]) * post])
    model = sm.WLS(y, X, weights=w) if weighted else sm.OLS(y, X)
    if hac is None:
        fit = model.fit()
    else:
        lags = newey_west_lags(n) if hac == "auto" else hac
        fit = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
    r = segmented_regression(t, y, k, weights=w if weighted else None, hac_lags=hac, conf=0.9)
    ci = fit.conf_int(alpha=0.1)
    for j, name in enumerate(ITS_TERMS):
        assert r["params"][name] == pytest.approx(fit.params[j], rel=1e-9, abs=1e-9)
        assert r["se"][name] == pytest.approx(fit.bse[j], rel=1e-9)
        assert r["p"][name] == pytest.approx(fit.pvalues[j], rel=1e-7, abs=1e-12)
        assert r["lower"][name] == pytest.approx(ci[j, 0], rel=1e-9)
        assert r["upper"][name] == pytest.approx(ci[j, 1], rel=1e-9)
    post_slope = fit.t_test(np.array([0.0, 1.0, 0.0, 1.0]))
    assert r["post_slope"]["estimate"] == pytest.approx(float(post_slope.effect[0]), rel=1e-9)
    assert r["post_slope"]["se"] == pytest.approx(float(post_slope.sd[0, 0]), rel=1e-9)
    assert r["df"] == fit.df_resid
    assert r["r_squared"] == pytest.approx(fit.rsquared, rel=1e-9)
    assert r["durbin_watson"] == pytest.approx(durbin_watson(fit.wresid), rel=1e-9)
    assert r["se_type"] == ("ols" if hac is None else "newey-west")


def test_agrees_with_statsmodels_with_missing_months_and_uneven_time():
    """Missing outcomes are dropped (as statsmodels' missing='drop') and the HAC sum runs over the
    remaining observations in time order."""
    import statsmodels.api as sm

    n, k = 36, 15
    t, y, _ = _ar1_series(n, k, 0.3, seed=5)
    t = t * 30.4 + 100.0                        # days rather than months, shifted origin
    y[[3, 16, 30]] = np.nan
    post = (np.arange(n) >= k).astype(float)
    X = np.column_stack([np.ones(n), t, post, (t - t[k]) * post])
    fit = sm.OLS(y, X, missing="drop").fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True},
                                           use_t=True)
    r = segmented_regression(t, y, k, hac_lags=3)
    assert r["n"] == fit.nobs == 33
    assert [r["params"][x] for x in ITS_TERMS] == pytest.approx(list(fit.params), rel=1e-8)
    assert [r["se"][x] for x in ITS_TERMS] == pytest.approx(list(fit.bse), rel=1e-8)


# --------------------------------------------------------------------------------------------
# perfect fits: no meaningless p-values


@pytest.mark.parametrize("hac", [None, "auto"])
def test_perfect_fit_gives_no_p_values(hac):
    """A noise-free series used to give p-values such as 2.6e-121 (rounding error over rounding
    error); now the p-values are NaN, the standard errors 0, and ``note`` says why."""
    t, y = series(27, 12, 30.0, 0.25, 9.0, -1.3)
    r = segmented_regression(t, y, 12, hac_lags=hac)
    assert all(np.isnan(r["p"][name]) for name in ITS_TERMS)
    assert all(r["se"][name] == 0.0 for name in ITS_TERMS) and r["post_slope"]["se"] == 0.0
    assert r["note"] and "perfect fit" in r["note"]
    assert np.isnan(r["durbin_watson"])
    assert r["params"]["level_change"] == pytest.approx(9.0)


def test_small_but_real_noise_keeps_its_p_values():
    rng = np.random.default_rng(8)
    t, y = series(27, 12, 30.0, 0.25, 9.0, -1.3)
    r = segmented_regression(t, y + rng.normal(0, 1e-4, 27), 12)
    assert r["note"] is None
    assert all(0.0 <= r["p"][name] <= 1.0 for name in ITS_TERMS)
    assert r["p"]["level_change"] < 1e-10                     # a real, very precisely measured change


def test_conf_as_percentage():
    rng = np.random.default_rng(4)
    t, y = series(24, 10, 5, 0.2, 3, -0.1)
    y = y + rng.normal(0, 1, 24)
    a = segmented_regression(t, y, 10, conf=90)
    b = segmented_regression(t, y, 10, conf=0.9)
    assert a["lower"] == b["lower"] and a["conf"] == b["conf"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="percentage"):
        segmented_regression(t, y, 10, conf=100)
