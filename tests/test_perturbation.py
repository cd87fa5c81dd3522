"""Zero-mean cell-key perturbation (etl.stats.perturb, perturbation_table), issue #17.

The mean and variance of the noise are measured by running ``perturb`` over a fine, evenly spaced
grid of cell keys (the keys are uniform on [0, 1)), so they test the key-to-noise mapping itself,
not only the table.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import stats as S

KEYS = (np.arange(200_000) + 0.5) / 200_000


def noise_moments(n: int, max_noise: int = 2, min_count: int = 5) -> tuple[float, float, np.ndarray]:
    d = S.perturb(np.full(KEYS.size, n), KEYS, max_noise=max_noise, min_count=min_count) - n
    return float(d.mean()), float(d.var()), d


@pytest.mark.parametrize("n", range(5, 21))
def test_mean_noise_is_zero_for_every_shown_count(n):
    """The earlier clamping at min_count gave +0.40 at a true 5 and +0.10 at 6; now 0 everywhere."""
    mean, var, d = noise_moments(n)
    assert abs(mean) < 1e-4
    assert (n + d >= 5).all() and np.abs(d).max() <= 2
    row = S.perturbation_table().set_index("count")
    stated = row.loc[min(n, 7)]
    assert stated["bias"] == pytest.approx(0.0, abs=1e-12)
    assert var == pytest.approx(stated["variance"], abs=1e-3)


def test_stated_variances():
    t = S.perturbation_table(2, 5)
    assert t["count"].tolist() == [5, 6, 7] and t["and_above"].tolist() == [False, False, True]
    probs = t[[f"noise_{d}" for d in range(-2, 3)]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()
    d = np.arange(-2, 3)
    assert np.allclose(probs @ d, 0.0, atol=1e-12)
    assert np.allclose(t["variance"], probs @ (d * d))
    # at the threshold no negative noise is allowed, so mean 0 forces no noise at all
    assert t["variance"].iloc[0] == 0.0 and probs[0, 2] == 1.0
    # counts of 7 and more keep the base table 0.1, 0.2, 0.4, 0.2, 0.1 (variance 1.2)
    assert probs[2] == pytest.approx([0.1, 0.2, 0.4, 0.2, 0.1]) and t["variance"].iloc[2] == pytest.approx(1.2)
    assert 0 < t["variance"].iloc[1] < 1.2


@pytest.mark.parametrize("max_noise, min_count", [(2, 5), (3, 10), (1, 3), (4, 5)])
def test_rows_are_mean_zero_exponential_tilts_of_the_base_table(max_noise, min_count):
    """Each restricted row is p(d) exp(t d), renormalised: the ratio q(d) / p(d) is geometric in d
    over the allowed noises, and the mean is 0."""
    t = S.perturbation_table(max_noise, min_count)
    d = np.arange(-max_noise, max_noise + 1)
    base = 2.0 ** (max_noise - np.abs(d))
    base /= base.sum()
    for j, row in t.iterrows():
        q = row[[f"noise_{x}" for x in d]].to_numpy(float)
        allowed = d >= -j
        assert (q[~allowed] == 0).all()
        assert q @ d == pytest.approx(0.0, abs=1e-12)
        if j > 0:
            ratio = q[allowed] / base[allowed]
            steps = ratio[1:] / ratio[:-1]
            assert np.allclose(steps, steps[0], rtol=1e-9)
    for n in range(min_count, min_count + 3 * max_noise + 2):
        mean, _, d_n = noise_moments(n, max_noise, min_count)
        assert abs(mean) < 1e-4 and (n + d_n >= min_count).all()


@settings(max_examples=150, deadline=None)
@given(st.integers(5, 10_000), st.floats(0, 1, exclude_max=True))
def test_deterministic_and_never_small(count, key):
    a, b = S.perturb(count, key), S.perturb(count, key)
    assert a == b and a >= 5 and abs(a - count) <= 2


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        S.perturbation_table(-1, 5)
    with pytest.raises(ValueError):
        S.perturb(10, 0.5, max_noise=1.5)
    with pytest.raises(ValueError):
        S.perturb(10, 0.5, min_count=0)
