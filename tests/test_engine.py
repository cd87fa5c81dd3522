"""The estimate engine (etl/estimates/engine.py) on examples worked by hand from its formulas.

The component statistics (Garwood, Wilson, indirect ratio, DSR with Dobson/Fay-Feuer) are tested
against published worked examples in test_stats.py and test_standardisation.py; here the engine's
composition: its reference rates, expected counts, standardised rates, fallbacks, flags and method.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, chi2

from etl.estimates import engine

# two areas (A, B) x two strata (sex 1 and 2 in one age band "x"); Denmark = A + B
STRATA = pd.DataFrame({
    "code": ["A", "A", "B", "B"],
    "sex": ["1", "2", "1", "2"],
    "age": ["x", "x", "x", "x"],
    "num": [30.0, 10.0, 20.0, 40.0],
    "den": [1000.0, 500.0, 3000.0, 1500.0],
})
WEIGHTS = {("1", "x"): 3.0, ("2", "x"): 1.0}


def _garwood(k):
    return chi2.ppf(0.025, 2 * k) / 2, chi2.ppf(0.975, 2 * k + 2) / 2


def test_rates_by_hand():
    out = engine.estimate_from_strata(STRATA, ["code"], [], "rate", weights=WEIGHTS, expected_decimals=None,
                                      min_events=10)
    out = out.set_index("code")
    # Denmark's stratum rates: men 50/4000, women 50/2000
    r1, r2 = 50 / 4000, 50 / 2000
    ref = (3 * r1 + 1 * r2) / 4                       # ESP-style direct rate of Denmark
    e_a = 1000 * r1 + 500 * r2                         # 25.0
    o_a = 40.0
    lo, hi = _garwood(o_a)
    assert out.loc["A", "expected"] == pytest.approx(e_a)
    assert out.loc["A", "sr"] == pytest.approx(o_a / e_a)
    assert out.loc["A", "sr_lower"] == pytest.approx(lo / e_a)
    assert out.loc["A", "sr_upper"] == pytest.approx(hi / e_a)
    assert out.loc["A", "reference"] == pytest.approx(ref)
    assert out.loc["A", "value"] == pytest.approx(o_a / e_a * ref * 1000)
    assert out.loc["A", "crude"] == pytest.approx(40 / 1500 * 1000)
    assert out.loc["A", "method"] == "isr"
    # Denmark: E = O, its standardised rate is its direct rate
    assert out.loc["denmark", "expected"] == pytest.approx(100.0)
    assert out.loc["denmark", "value"] == pytest.approx(ref * 1000)
    # O/E summed over the areas is Denmark's
    assert out.loc[["A", "B"], "expected"].sum() == pytest.approx(100.0)


def test_a_group_is_standardised_with_its_own_national_rates():
    """Two groups with different age profiles of their rates: each group's Denmark row is its own
    direct rate, not all adults' stratum rates applied to it (the +52 % of issue 24)."""
    rows = []
    for g, (ry, ro) in {"student": (0.10, 0.01), "other": (0.02, 0.05)}.items():
        for code, (ny, no) in {"A": (800, 200), "B": (300, 700)}.items():
            rows += [{"g": g, "code": code, "sex": "1", "age": "young", "num": ry * ny, "den": ny},
                     {"g": g, "code": code, "sex": "1", "age": "old", "num": ro * no, "den": no}]
    s = pd.DataFrame(rows)
    w = {("1", "young"): 1.0, ("1", "old"): 1.0}
    out = engine.estimate_from_strata(s, ["g", "code"], ["g"], "rate", weights=w, expected_decimals=None, min_events=1)
    dk = out[out["code"] == "denmark"].set_index("g")
    assert dk.loc["student", "value"] == pytest.approx((0.10 + 0.01) / 2 * 1000)
    assert dk.loc["other", "value"] == pytest.approx((0.02 + 0.05) / 2 * 1000)
    # each area of a group at the group's national rates is at the group's national level
    st = out[(out["g"] == "student") & (out["code"] != "denmark")]
    assert np.allclose(st["sr"], 1.0) and np.allclose(st["value"], 55.0)


def test_a_hidden_national_stratum_takes_its_fallback():
    nat = pd.DataFrame({"sex": ["1", "2", "1", "2"], "age": ["y", "y", "o", "o"],
                        "num": [np.nan, 30.0, 10.0, 20.0], "den": [np.nan, 300.0, 400.0, 200.0]})
    band = pd.DataFrame({"age": ["y", "o"], "num": [33.0, 30.0], "den": [303.0, 600.0]})
    r = engine.stratum_rates(nat, [], [band])
    assert r["rate"].tolist() == pytest.approx([33 / 303, 0.1, 10 / 400, 0.1])
    # without a fallback the stratum has no rate and the group no reference
    r0 = engine.stratum_rates(nat, [], [])
    assert np.isnan(r0["rate"].iloc[0])
    assert np.isnan(engine.reference_rates(r0, [], {("1", "y"): 1, ("2", "y"): 1, ("1", "o"): 1, ("2", "o"): 1})
                    ["reference"].iloc[0])


def test_reference_rates_cover_only_the_strata_a_group_holds():
    rates = pd.DataFrame({"g": ["men", "men", "women", "women"], "sex": ["1", "2", "1", "2"], "age": ["x"] * 4,
                          "persons": [100.0, 0.0, 0.0, 50.0], "rate": [0.2, 0.0, 0.0, 0.4]})
    ref = engine.reference_rates(rates, ["g"], {("1", "x"): 1.0, ("2", "x"): 3.0}).set_index("g")["reference"]
    assert ref["men"] == pytest.approx(0.2) and ref["women"] == pytest.approx(0.4)


def test_few_events_give_a_crude_rate_only_and_hidden_counts_give_nothing():
    s = STRATA.assign(num=[3.0, 2.0, 20.0, 40.0])
    out = engine.estimate_from_strata(s, ["code"], [], "rate", weights=WEIGHTS, min_events=10).set_index("code")
    assert out.loc["A", "method"] == "crude" and np.isnan(out.loc["A", "sr"]) and np.isnan(out.loc["A", "value"])
    assert out.loc["A", "crude"] == pytest.approx(5 / 1500 * 1000)
    assert out.loc["A", "note"] == "few_events"
    s = STRATA.assign(num=[3.0, 1.0, 20.0, 40.0])            # A's total is 4: hidden
    out = engine.estimate_from_strata(s, ["code"], [], "rate", weights=WEIGHTS).set_index("code")
    assert out.loc["A", "note"] == "hidden" and out.loc["A", ["crude", "value", "expected"]].isna().all()
    assert pd.isna(out.loc["A", "method"])


def test_expected_is_rounded_as_published_and_the_ratio_uses_the_rounded_value():
    s = STRATA.assign(den=[1003.0, 500.0, 3000.0, 1500.0])
    out = engine.estimate_from_strata(s, ["code"], [], "rate", weights=WEIGHTS, expected_decimals=1).set_index("code")
    assert out.loc["A", "expected"] == round(out.loc["A", "expected"], 1)
    assert out.loc["A", "sr"] == pytest.approx(40 / out.loc["A", "expected"])


def test_shares_by_hand():
    s = STRATA.assign(num=[30.0, 10.0, 20.0, 40.0], den=[100.0, 50.0, 300.0, 150.0])
    out = engine.estimate_from_strata(s, ["code"], [], "share", weights=None).set_index("code")
    assert out.loc["A", "value"] == pytest.approx(40 / 150 * 100)
    z = 1.959963984540054
    p, n = 40 / 150, 150
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert out.loc["A", "lower"] == pytest.approx((centre - half) * 100)
    assert out.loc["A", "expected"] == pytest.approx(150 * 100 / 600)
    # exact binomial test of 40 of 150 against Denmark's 1 in 6: beyond 95 %, not beyond 99.8 %
    p_high = binom.sf(39, 150, 1 / 6)
    assert 0.001 <= p_high < 0.025
    assert out.loc["A", "flag_crude"] == "high_95"
    assert out.loc["A", "method"] == "proportion"


def test_the_engine_does_not_change_its_inputs():
    s = STRATA.copy()
    engine.estimate_from_strata(s, ["code"], [], "rate", weights=WEIGHTS)
    pd.testing.assert_frame_equal(s, STRATA)
