"""Area profiles, comparisons, all trends, key findings and good-practice notes (issue 14), without
a browser: the statistics against oracles, the key-findings text against the figures it describes,
and the profile against the release's published estimates (it must read nothing more)."""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from etl import stats

# ---------------------------------------------------------------- statistics

def test_correlation_interval_is_fisher_z_as_scipy_computes_it():
    rng = np.random.default_rng(7)
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    c = stats.correlation_ci(x, y)
    ref = sps.pearsonr(x, y)
    ci = ref.confidence_interval(0.95)           # scipy's interval is Fisher's z transform
    assert c.n == 40
    assert c.r == pytest.approx(ref.statistic)
    assert (c.lower, c.upper) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert c.lower < c.r < c.upper


def test_correlation_leaves_out_missing_pairs_and_refuses_too_few():
    c = stats.correlation_ci([1, 2, np.nan, 4, 5, 7], [2, 1, 3, np.nan, 6, 8])
    assert c.n == 4
    assert c.r == pytest.approx(np.corrcoef([1, 2, 5, 7], [2, 1, 6, 8])[0, 1])
    assert np.isnan(stats.correlation_ci([1, 2], [3, 4]).r)
    assert np.isnan(stats.correlation_ci([1, 1, 1, 1], [1, 2, 3, 4]).r)


def test_difference_beyond_chance_from_two_intervals():
    # equal intervals of half-width 1.96: SE 1 each, SE of the difference sqrt(2); 2.8 is just inside, 2.8 * 1.01 outside
    v = stats.difference_beyond_chance([10, 10, 10, 10], [8.04] * 4, [11.96] * 4,
                                       [12.7, 12.8, 7.2, np.nan], [10.74, 10.84, 5.24, 1], [14.66, 14.76, 9.16, 2])
    assert list(v) == [0, 1, -1, 0]
    # on the log scale: a doubling with narrow intervals is beyond chance, with wide ones it is not
    assert stats.difference_beyond_chance(10, 9, 11, 20, 18, 22, log=True) == 1
    assert stats.difference_beyond_chance(10, 2, 50, 20, 4, 100, log=True) == 0


# ---------------------------------------------------------------- key findings (pure)

def _table(values, flags, hidden=()):
    n = len(values)
    return pd.DataFrame({"code": range(1, n + 1), "name": [f"Area {i}" for i in range(1, n + 1)],
                         "value": values, "lower": np.array(values) - 1, "upper": np.array(values) + 1,
                         "hidden": [i in hidden for i in range(n)], "flag": flags})


def test_key_findings_say_the_range_the_limits_and_the_extremal_quotient():
    from atlas.findings import atlas_findings

    values = [42.0, 55.5, 61.25, 71.0, 50.0, 48.0, 3.0]
    flags = ["low_998", "within", "high_998", "high_998", "within", "high_95", "hidden"]
    tbl = _table(values, flags, hidden=(6,))
    national = {"value": 55.0, "lower": 54.0, "upper": 56.0, "hidden": False}
    out = atlas_findings(tbl, national, "MRI share", "share", "municipality",
                         {"extremal_quotient": 2.1, "scv": 0.0342}, "en")
    text = " ".join(out)
    assert "MRI share ranges from 42.0 to 71.0 % across 6 municipalities" in text
    assert "highest: Area 4; lowest: Area 1" in text
    assert "2 lie above the 99.8% limit and 1 below it; 2 are within the 95% limits" in text
    assert "extremal quotient" in text and " 2.1;" in text and "3.4." in text
    assert "1 municipalities are hidden" in text
    assert "3.0" not in text                    # the hidden area's value is never in the words
    da = " ".join(atlas_findings(tbl, national, "MR-andel", "share", "municipality", {"extremal_quotient": 2.1}, "da"))
    assert "spænder fra 42,0 til 71,0 %" in da and "6 kommuner" in da


def test_key_findings_with_too_few_areas_say_so():
    from atlas.findings import atlas_findings

    out = atlas_findings(_table([5.0], ["within"]), {}, "X", "rate", "region", None, "en")
    assert out == ["Too few areas are shown to describe the variation."]


# ---------------------------------------------------------------- good-practice notes

def test_good_practice_notes_are_read_and_checked(tmp_path):
    from atlas.good_practice import all_notes, parse_note

    note = parse_note("---\narea: 851  # Aalborg\nlanguage: da\ntitle: \"T\"\nsource: S\ndate: 2025-01-02\n---\nBody *md*\n")
    assert (note.area, note.language, note.title, note.source, note.body, note.example) == (851, "da", "T", "S", "Body *md*", False)
    assert parse_note("# a README without front matter") is None
    with pytest.raises(ValueError, match="missing source"):
        parse_note("---\narea: 1\nlanguage: en\ntitle: T\ndate: 2025-01-02\n---\n")
    with pytest.raises(ValueError, match="language"):
        parse_note("---\narea: 1\nlanguage: de\ntitle: T\nsource: S\ndate: 2025-01-02\n---\n")
    examples = [n for n in all_notes.uncached() if n.example]
    assert {n.language for n in examples} == {"en", "da"}
    assert all("EXAMPLE" in n.title or "EKSEMPEL" in n.title for n in examples)


# ---------------------------------------------------------------- on the release: never more than published

PERIOD = (2022, 2024)


def _published(measure, level, period, code):
    """The release's own published numerator and denominator (read on the app's connection)."""
    from atlas import db

    d = db.query("SELECT num, den FROM estimates WHERE measure = ? AND level = ? AND period = ? AND fs = '' AND code = ?",
                 [measure, level, period, code])
    return [tuple(float(v) for v in row) for row in d.itertuples(index=False)]


def test_profile_is_the_published_figures_and_functions_of_them(release_app):
    from atlas import profile, queries
    from atlas.filters import View

    code = 851
    spine = profile.spine(code, *PERIOD)
    from atlas.measures import MEASURES

    assert len(spine) == len(MEASURES) and spine["published"].sum() >= 10
    for _, r in spine[spine["published"]].iterrows():
        tbl, national = queries.area_table(View(measure=r["measure"], level="municipality", y0=PERIOD[0], y1=PERIOD[1]))
        row = tbl[tbl["code"] == code].iloc[0]
        shown = tbl.loc[~tbl["hidden"], "value"]
        if shown.empty:               # every area hidden (a rare count, e.g. chiropractors' billed X-rays)
            assert np.isnan(r["lowest"]) and np.isnan(r["highest"]), r["measure"]
        else:
            assert r["lowest"] == pytest.approx(shown.min()) and r["highest"] == pytest.approx(shown.max())
        if r["flag"] == "hidden":
            assert np.isnan(r["value"]) and np.isnan(r["count"])
            continue
        assert r["value"] == pytest.approx(row["value"])
        # the count and denominator shown are the release's own published ones, never a count from 1 to 4
        assert _published(r["measure"], "municipality", "2022-2024", code) == [(r["count"], r["denominator"])]
        assert not 1 <= r["count"] <= 4
    # a measure the release does not publish for municipalities in this period is said so, not estimated
    assert spine.loc[~spine["published"], ["value", "count"]].isna().all().all()


def test_profile_trends_on_the_release_say_why_an_areas_line_is_missing(release_app):
    """Læsø's profile on the release (the smallest municipality): every measure whose single years are
    all hidden (or not published) gets a note in its panel instead of a silently missing line."""
    from atlas import profile
    from atlas.profile_figures import measure_trends

    code = 825
    tr = profile.trends(code, "en")
    own = tr[tr["code"] == code]
    hidden = {k for k, d in own.groupby("measure") if d["hidden"].astype(bool).all()}
    unpublished = set(tr["measure"]) - set(own["measure"])
    assert hidden, "no measure of the smallest municipality is hidden in every year: the test tests nothing"
    notes = [a["text"] for a in measure_trends(tr, code, "X", "en").layout["annotations"] if a["text"].startswith("X:")]
    assert len(notes) == len(hidden | unpublished)
    assert sum("every year hidden" in n for n in notes) == len(hidden)


def test_key_findings_of_the_release_describe_its_figures(release_app):
    from atlas import profile, queries
    from atlas.filters import View
    from atlas.findings import atlas_findings, number, profile_findings

    view = View(measure="mri_share", level="municipality", y0=PERIOD[0], y1=PERIOD[1])
    tbl, national = queries.area_table(view)
    var = queries.variation(tbl)
    text = " ".join(atlas_findings(tbl, national, "MRI share", "share", "municipality", var, "en"))
    shown = tbl[~tbl["hidden"]]
    assert f"from {number(shown['value'].min(), 'en')} to {number(shown['value'].max(), 'en')} %" in text
    assert f"across {len(shown)} municipalities" in text
    tested = shown[shown["flag"] != "not_tested"]
    if len(tested):
        assert f"{(tested['flag'] == 'high_998').sum()} lie above the 99.8% limit" in text
    if len(tested) < len(shown):          # Denmark's own count hidden: no test, never "within"
        assert f"{len(shown) - len(tested)} municipalities were not tested" in text
        assert f"{len(shown) - len(tested)} are within" not in text
    assert f"quotient (highest over lowest standardised ratio) is {number(var['extremal_quotient'], 'en')}" in text
    spine = profile.spine(851, *PERIOD)
    words = " ".join(profile_findings(spine, "Aalborg", "municipality", "2022–2024", "en"))
    higher = spine[spine["flag"].isin(["high_95", "high_998"])]
    assert f"{len(higher)} are higher than Denmark" in words
    assert all(name in words for name in higher["name"])


def test_profile_csv_has_the_chart_header_rows_and_every_measure(release_app):
    from atlas import export, profile_export
    from atlas.filters import View
    from atlas.measures import MEASURES

    content, name = profile_export.profile_csv(851, PERIOD, "en")
    assert name == "lumbar-atlas-profile-851-2022-2024.csv"
    # flat (the default): the first line is the header line, the header items are columns
    flat = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert {"section", "measure", "count", "Atlas", "Chart"} <= set(flat.columns)
    assert set(flat["Chart"]) == {"Aalborg: area profile"}
    content, _ = profile_export.profile_csv(851, PERIOD, "en", descriptive=True)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header = export.header_rows(View(measure="imaging_rate", y0=PERIOD[0], y1=PERIOD[1], area=851), "x")
    assert rows[1] == ["Aalborg: area profile"]
    labels = [r[0] for i, r in enumerate(rows[:len(header)]) if i != 1]
    assert labels == [r[0] for i, r in enumerate(header) if i != 1]
    start = rows.index([]) + 1
    body = pd.DataFrame(rows[start + 1:], columns=rows[start])
    spine = body[body["section"] == "spine"]
    assert set(spine["measure"]) == {m.name("en") for m in MEASURES.values()}
    assert {"trend", "population_group", "pathway_mix"} <= set(body["section"])
    counts = pd.to_numeric(body["count"], errors="coerce").dropna()
    assert not ((counts >= 1) & (counts <= 4)).any()


def test_all_trends_mark_change_beyond_chance_from_published_years(release_app):
    from atlas import all_trends

    frame, national, order, names, change, years = all_trends.small_multiples_data("imaging_rate", "municipality", "change")
    assert years is not None and years[0] < years[1]
    assert len(order) == frame["code"].nunique() == 98
    ranked = change.set_index("code").loc[order[:len(change)], "change"].to_numpy()
    assert (np.diff(ranked) <= 1e-9).all()                  # largest rise first
    first = frame[(frame["year"] == years[0])].set_index("code")
    c = change.iloc[0]
    assert c["first"] == pytest.approx(first.loc[c["code"], "value"])
    expect = stats.difference_beyond_chance(first.loc[change["code"], "value"], first.loc[change["code"], "lower"],
                                            first.loc[change["code"], "upper"],
                                            frame[frame["year"] == years[1]].set_index("code").loc[change["code"], "value"],
                                            frame[frame["year"] == years[1]].set_index("code").loc[change["code"], "lower"],
                                            frame[frame["year"] == years[1]].set_index("code").loc[change["code"], "upper"],
                                            log=True)
    assert list(change["verdict"]) == list(expect)


def test_measure_against_measure_pairs_only_areas_shown_on_both(release_app):
    from atlas.comparisons import paired

    both = paired("imaging_rate", "mri_share", "municipality", PERIOD)
    assert len(both) > 50 and both[["value_x", "value_y"]].notna().all().all()
    c = stats.correlation_ci(both["value_x"], both["value_y"])
    assert c.n == len(both) and -1 <= c.lower <= c.r <= c.upper <= 1


def test_all_data_zip_holds_every_measure_with_the_chart_header_rows(release_app):
    import zipfile

    from atlas import all_data, db, export
    from atlas.filters import View
    from atlas.measures import MEASURES

    flat = zipfile.ZipFile(io.BytesIO(all_data.zip_bytes.uncached("en", ",")))
    assert set(flat.namelist()) == {"codebook.csv", "about.csv"} | {f"{k}.csv" for k in MEASURES}
    # each data file opens in one step; about.csv holds every file's header items
    table = pd.read_csv(io.BytesIO(flat.read("mri_share.csv")), encoding="utf-8-sig")
    assert {"period", "level", "code", "count"} <= set(table.columns)
    about = pd.read_csv(io.BytesIO(flat.read("about.csv")), encoding="utf-8-sig").set_index("file")
    assert about.loc["mri_share.csv", "Chart"] == "MRI share" and len(about) == len(MEASURES) + 1
    z = zipfile.ZipFile(io.BytesIO(all_data.zip_bytes.uncached("en", ",", True)))
    assert set(z.namelist()) == {"codebook.csv"} | {f"{k}.csv" for k in MEASURES}
    header = export.header_rows(View(measure="mri_share"), "x")
    rows = list(csv.reader(io.StringIO(z.read("mri_share.csv").decode("utf-8-sig"))))
    assert rows[1] == ["MRI share"]
    assert [r[0] for i, r in enumerate(rows[:len(header)]) if i != 1] == [r[0] for i, r in enumerate(header) if i != 1]
    start = rows.index([]) + 1
    body = pd.DataFrame(rows[start + 1:], columns=rows[start])
    published = db.query("SELECT count(*) AS n FROM estimates WHERE measure = 'mri_share' AND fs = ''")["n"].iloc[0]
    assert len(body) == published                       # every published row, and nothing else
    counts = pd.to_numeric(body["count"], errors="coerce").dropna()
    assert len(counts) and not ((counts >= 1) & (counts <= 4)).any() and (counts == counts.round()).all()
    codebook = z.read("codebook.csv").decode("utf-8-sig")
    assert all(c in codebook for c in body.columns)
