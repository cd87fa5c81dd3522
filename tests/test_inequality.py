"""The slope and relative index of inequality (etl/stats/inequality.py).

Worked examples: the test data of PHEindicatormethods (UKHSA / OHID, R package; file
tests/testthat/testdata_SII.xlsx, commit 093fd28 of github.com/ukhsa-collaboration/PHEindicatormethods),
whose expected SII, RII, intercepts and 95 % limits were computed with PHE's Excel tool. The inputs
below are that file's records (values rounded to 10 significant digits); the expected results are
its columns sii, rii, sii_lowercl_1, sii_uppercl_1, rii_lowercl_1, rii_uppercl_1 and Intercept.
Point estimates are deterministic and must agree to 1e-8 (relative); the limits are Monte Carlo
quantiles (PHE: 100,000 draws; here as well, another generator), so they must agree within 2 % of
the interval's width: the Monte Carlo standard error of a 2.5 % quantile with 100,000 draws is
about 0.2 % of the width for each of the two simulations, so 2 % is about 7 combined standard
errors, and stricter than the 5 % relative tolerance of PHE's own tests (testSII.R).
"""
from __future__ import annotations

import numpy as np
import pytest

from etl.stats.inequality import relative_rank, sii, sii_from_counts, sii_table

# Records 1-10: "default (e.g. life expectancy)", area1, value_type 0.
LE_AREA1 = {
    "pop": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    "value": [75.9334590103, 78.3442382728, 83.8360631042, 83.6375399665, 80.465503153, 81.1156759857,
              81.6930835719, 84.1900062061, 80.5955641081, 86.2894349579],
    "lower": [72.7220530546, 75.2509802191, 80.8697295125, 80.157578356, 77.1308785969, 78.0499986811,
              79.0115784919, 81.4457282769, 75.8271851689, 83.2190593455],
    "upper": [79.144864966, 81.4374963265, 86.8023966959, 87.117501577, 83.800127709, 84.1813532903,
              84.3745886518, 86.9342841353, 85.3639430474, 89.3598105703],
}
# Records 71-80 and 306-315: "rate (e.g. infant mortality)", area1, value_type 1.
RATE_AREA1 = {
    "pop": [279012, 255993, 236961, 214315, 192812, 183546, 168593, 164822, 154836, 138165],
    "value": [5.8922196895, 4.7345044591, 3.8276340832, 3.8681380211, 3.6771570234, 3.143626121,
              3.1258711809, 2.9425683465, 2.828799504, 2.7648101907],
    "lower": [5.6149596624, 4.4759207708, 3.5869260554, 3.6140791141, 3.416696987, 2.897717635,
              2.8704938093, 2.6924041298, 2.5763057379, 2.5014206191],
    "upper": [6.1830853576, 5.0079519402, 4.0844291027, 4.1399822998, 3.9573934822, 3.4103317189,
              3.4038909874, 3.2159015716, 3.1059621496, 3.0558486662],
}
# Records 81-90 and 316-325: the same, area2.
RATE_AREA2 = {
    "pop": [13837, 14519, 14940, 14599, 12311, 21675, 20065, 19750, 24713, 20112],
    "value": [4.89675, 4.5678, 4.67666, 4.35666, 3.9, 3.8, 3.5, 3.2, 3.21, 2.8],
    "lower": [4.77675, 4.4478, 4.55666, 4.23666, 3.78, 3.68, 3.38, 3.08, 3.09, 2.68],
    "upper": [4.97675, 4.6478, 4.75666, 4.43666, 3.98, 3.88, 3.58, 3.28, 3.29, 2.88],
}
# Records 91-100 and 326-335: "proportion (e.g. child obesity)", area1, value_type 2.
PROP_AREA1 = {
    "pop": [34353, 32112, 27715, 25372, 23889, 23260, 23180, 24193, 23609, 24488],
    "value": [0.2121212121, 0.2142812656, 0.2040772145, 0.1918650481, 0.1748084893, 0.1666380052,
              0.1560396894, 0.1465713223, 0.1403701978, 0.1208755309],
    "lower": [0.2078304992, 0.2098277115, 0.1993735173, 0.1870666487, 0.1700446407, 0.1619041058,
              0.1514250755, 0.1421707538, 0.1359976709, 0.1168520099],
    "upper": [0.2164763008, 0.2188031708, 0.2088629336, 0.19675674, 0.1796769055, 0.1714819978,
              0.1607682887, 0.1510841105, 0.1448597375, 0.1250179805],
}

# (record, data, kind, transform, multiplier, expected: sii, sii limits, rii, rii limits, intercept)
CASES = [
    (1, LE_AREA1, "other", False, 1.0,
     (6.9346164736688189, 3.1275946176508169, 10.7586873680794,
      1.0888180804446217, 1.0383690591642838, 1.1412993360251238, None)),
    (71, RATE_AREA1, "rate", False, 1.0,
     (-3.2752012326471758, -3.5868233016744155, -2.9653170017272723,
      0.40600068953980034, 0.36888170199068804, 0.44624776652446996, None)),
    (81, RATE_AREA2, "rate", False, 1.0,
     (-2.2876789027787421, -2.3985255584029543, -2.1761883614121236,
      0.53525176979876143, 0.51734312584916309, 0.55373948894972824, None)),
    (91, PROP_AREA1, "proportion", False, 1.0,
     (-0.10720032333730493, -0.11220857220984691, -0.1021798062145461,
      0.53340153064655071, 0.51712731963580183, 0.55015384129130041, None)),
    (306, RATE_AREA1, "rate", True, 1.0,
     (-3.1559071389545599, -3.4809615490242884, -2.8332373447636319,
      0.44188484360768232, 0.40827440803607229, 0.47856632650069308, 5.6545806054694703)),
    (316, RATE_AREA2, "rate", True, 1.0,
     (-2.2954691808474057, -2.4232236888525982, -2.1680757851505641,
      0.54461447597370527, 0.52707454415684196, 0.56277497454053882, 5.0407161838435188)),
    (326, PROP_AREA1, "proportion", True, 1.0,
     (-0.1096462611125906, -0.11490838449464633, -0.10443087776045443,
      0.53417757432539459, 0.51853338500746282, 0.5501741213468927, 0.23538210070887111)),
    # records 386-395: log transform with multiplier -1 (polarity reversed: SII > 0, RII inverted)
    (386, RATE_AREA1, "rate", True, -1.0,
     (3.1559071389545599, 2.8332373447636319, 3.4809615490242884,
      2.2630330378288055, 2.0895745158504204, 2.4493330473744681, 5.6545806054694703)),
]


@pytest.mark.parametrize("record, data, kind, transform, multiplier, expected", CASES,
                         ids=[f"record{c[0]}" for c in CASES])
def test_phe_worked_examples(record, data, kind, transform, multiplier, expected):
    s, s_lo, s_hi, r, r_lo, r_hi, intercept = expected
    res = sii(data["value"], data["pop"], lower=data["lower"], upper=data["upper"], kind=kind,
              transform=transform, multiplier=multiplier)
    assert res.sii.value == pytest.approx(s, rel=1e-8)
    assert res.rii.value == pytest.approx(r, rel=1e-8)
    assert abs(res.sii.lower - s_lo) < 0.02 * (s_hi - s_lo)
    assert abs(res.sii.upper - s_hi) < 0.02 * (s_hi - s_lo)
    assert abs(res.rii.lower - r_lo) < 0.02 * (r_hi - r_lo)
    assert abs(res.rii.upper - r_hi) < 0.02 * (r_hi - r_lo)
    if intercept is not None:
        assert res.intercept == pytest.approx(intercept, rel=1e-8)
    assert res.sii.lower < res.sii.value < res.sii.upper
    assert res.rii.lower < res.rii.value < res.rii.upper


def test_relative_rank_example_of_the_phe_documentation():
    # phe_sii's documentation: a first group with 12 % of the population has relative rank 0.06,
    # a second with 10 % 0.12 + 0.05 = 0.17.
    assert relative_rank([12, 10, 78]) == pytest.approx([0.06, 0.17, 0.61])
    with pytest.raises(ValueError):
        relative_rank([10, 0, 5])


@pytest.mark.parametrize("data", [LE_AREA1, RATE_AREA1, RATE_AREA2])
def test_point_estimate_matches_statsmodels_wls(data):
    sm = pytest.importorskip("statsmodels.api")
    x = relative_rank(data["pop"])
    w = np.asarray(data["pop"], float) / np.sum(data["pop"])
    fit = sm.WLS(np.asarray(data["value"]), sm.add_constant(x), weights=w).fit()
    b0, b1 = fit.params
    res = sii(data["value"], data["pop"], lower=data["lower"], upper=data["upper"], kind="other")
    assert res.sii.value == pytest.approx(b1, rel=1e-10)
    assert res.rii.value == pytest.approx((b0 + b1) / b0, rel=1e-10)
    assert res.intercept == pytest.approx(b0, rel=1e-10)
    # on the log scale (transform=True) RII = exp(slope of log rates)
    fit_log = sm.WLS(np.log(data["value"]), sm.add_constant(x), weights=w).fit()
    res_log = sii(data["value"], data["pop"], lower=data["lower"], upper=data["upper"], kind="rate", transform=True)
    assert res_log.rii.value == pytest.approx(np.exp(fit_log.params[1]), rel=1e-10)
    assert res_log.intercept == pytest.approx(np.exp(fit_log.params[0]), rel=1e-10)


def test_seeded_and_reproducible():
    d = RATE_AREA2
    a = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], repetitions=5000, seed=7)
    b = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], repetitions=5000, seed=7)
    c = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], repetitions=5000, seed=8)
    assert a.sii == b.sii and a.rii == b.rii
    assert a.sii.lower != c.sii.lower
    assert a.sii.value == c.sii.value
    assert "Monte Carlo" in a.method and "5,000" in a.method


def test_standard_error_instead_of_limits_gives_the_same_result():
    d = RATE_AREA1
    z = 1.959963984540054
    se = (np.log(d["upper"]) - np.log(d["lower"])) / (2 * z)
    a = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], repetitions=2000)
    b = sii(d["value"], d["pop"], se=se, repetitions=2000)
    assert a.sii.lower == pytest.approx(b.sii.lower, rel=1e-9)
    assert a.rii.upper == pytest.approx(b.rii.upper, rel=1e-9)


def test_wider_interval_at_99_percent():
    d = RATE_AREA1
    a = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], conf=0.95, repetitions=20000)
    b = sii(d["value"], d["pop"], lower=d["lower"], upper=d["upper"], conf=99, repetitions=20000)
    assert b.sii.lower < a.sii.lower and b.sii.upper > a.sii.upper


def test_flat_gradient_and_coverage_of_a_known_line():
    """Rates exactly on a line in the relative rank: the SII is the line's slope. Simulated group
    rates around it: the 95 % interval covers the true SII in about 95 % of 400 replicates."""
    pop = np.array([30000, 25000, 20000, 15000, 10000])
    x = relative_rank(pop)
    true = 60.0 - 30.0 * x                         # per 1,000: SII -30, RII 30/60 = 0.5
    res = sii(true, pop, se=np.full(5, 0.02), kind="rate")
    assert res.sii.value == pytest.approx(-30.0, rel=1e-12)
    assert res.rii.value == pytest.approx(0.5, rel=1e-12)
    flat = sii(np.full(5, 55.0), pop, se=np.full(5, 0.05), kind="rate")
    assert flat.sii.value == pytest.approx(0.0, abs=1e-9) and flat.rii.value == pytest.approx(1.0)
    assert flat.sii.lower < 0 < flat.sii.upper
    rng = np.random.default_rng(11)
    expected = true / 1000 * pop
    covered = 0
    for _ in range(400):
        k = rng.poisson(expected)
        r = sii_from_counts(k, pop, transform=False, repetitions=2000, seed=int(rng.integers(1 << 30)))
        covered += r.sii.lower <= -30.0 <= r.sii.upper
    # 95 % of 400 = 380; binomial sd 4.4: accept 366-394 (about 3 sd)
    assert 366 <= covered <= 394


def test_from_counts_equals_sii_of_crude_rates():
    from etl.stats import crude_rate

    k, n = [420, 380, 300, 240], [6000, 6500, 6400, 6900]
    r = crude_rate(k, n, per=1000)
    a = sii_from_counts(k, n, repetitions=3000)
    b = sii(r.value, n, lower=r.lower, upper=r.upper, kind="rate", transform=True, repetitions=3000)
    assert a.sii == b.sii and a.rii == b.rii and a.intercept == b.intercept
    assert a.sii.value < 0 and a.rii.value < 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(value=[1, 2], population=[1, 2], se=[0.1, 0.1]), "at least 3"),
    (dict(value=[1, 2, np.nan], population=[1, 2, 3], se=[0.1] * 3), "every group needs a value"),
    (dict(value=[1, 2, 3], population=[1, 0, 3], se=[0.1] * 3), "positive"),
    (dict(value=[1, 0, 3], population=[1, 2, 3], se=[0.1] * 3), "rates must be positive"),
    (dict(value=[1, 2, 3], population=[1, 2, 3]), "lower and upper"),
    (dict(value=[1, 2, 3], population=[1, 2, 3], se=[0.1] * 3, repetitions=10), "at least 1,000"),
    (dict(value=[1, 2, 3], population=[1, 2, 3], se=[0.1] * 3, kind="other", transform=True), "transform"),
    (dict(value=[0.1, 0.2, 1.0], population=[1, 2, 3], se=[0.1] * 3, kind="proportion"), "between 0 and 1"),
])
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sii(**kwargs)


def test_table_over_areas_equals_single_calls():
    import pandas as pd

    rows = []
    for area, d in (("a1", RATE_AREA1), ("a2", RATE_AREA2)):
        for q in range(10):
            rows.append({"area": area, "q": 10 - q, "value": d["value"][9 - q], "pop": d["pop"][9 - q],
                         "lo": d["lower"][9 - q], "hi": d["upper"][9 - q]})     # rows in reverse order
    rows.append({"area": "a3", "q": 1, "value": 5.0, "pop": 100.0, "lo": 4.0, "hi": 6.0})
    rows.append({"area": "a3", "q": 2, "value": float("nan"), "pop": 100.0, "lo": float("nan"), "hi": float("nan")})
    rows.append({"area": "a3", "q": 3, "value": 4.0, "pop": 100.0, "lo": 3.0, "hi": 5.0})
    frame = pd.DataFrame(rows)
    before = frame.copy()
    t = sii_table(frame, "area", "q", "value", "pop", lower="lo", upper="hi", kind="rate", transform=True,
                  repetitions=5000)
    assert frame.equals(before)
    assert list(t.area) == ["a1", "a2", "a3"]
    one = sii(RATE_AREA1["value"], RATE_AREA1["pop"], lower=RATE_AREA1["lower"], upper=RATE_AREA1["upper"],
              kind="rate", transform=True, repetitions=5000)
    assert t.loc[0, "sii"] == one.sii.value and t.loc[0, "rii_upper"] == one.rii.upper
    assert t.loc[1, "rii"] == pytest.approx(0.54461447597370527, rel=1e-8)
    assert np.isnan(t.loc[2, "sii"]) and "every group needs a value" in t.loc[2, "note"]
