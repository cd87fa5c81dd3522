"""The app's logic without a browser: view state, CSV format, estimates per group."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from helpers import split_download

from atlas.filters import View, parse_query
from atlas.state import click_code, consistent, hash_of, next_view

REGIONS = {1081, 1082, 1083, 1084, 1085, 1090}
MUNIS = {101, 147, 813, 851, 860}
LEVEL_CODES = {"municipality": MUNIS, "region": {1081, 1082, 1083, 1084, 1085}, "region2027": {1081, 1082, 1083, 1090}}
REGIONS_OF = {101: {1084, 1090}, 147: {1084, 1090}, 813: {1081}, 851: {1081}, 860: {1081}}


def click(code):
    return {"points": [{"curveNumber": 0, "pointNumber": 3, "customdata": code}]}


def test_click_code_reads_customdata_or_location():
    assert click_code(click(813)) == 813
    assert click_code({"points": [{"location": "101"}]}) == 101
    assert click_code({"points": [{"customdata": [860, "x"]}]}) == 860
    assert click_code(None) is None and click_code({"points": []}) is None
    assert click_code({"points": [{"customdata": "DROP TABLE"}]}) is None


def test_clicking_a_region_drills_down_and_clicking_a_municipality_selects_it():
    v = View(level="region")
    v = next_view(v, "map", click(1081), REGIONS, MUNIS)
    assert (v.level, v.within, v.area) == ("municipality", 1081, None)
    v = next_view(v, "map", click(813), REGIONS, MUNIS)
    assert v.area == 813
    assert next_view(v, "rank", click(813), REGIONS, MUNIS).area is None      # a second click deselects
    assert next_view(v, "back", None, REGIONS, MUNIS).within is None
    assert next_view(v, "clear", None, REGIONS, MUNIS).area is None


def test_search_selects_a_municipality_and_keeps_the_drill_down_only_inside_it():
    v = View(level="municipality", within=1081)
    inside = consistent(next_view(v, "search", 860, REGIONS, MUNIS), LEVEL_CODES, REGIONS_OF)
    assert (inside.area, inside.within) == (860, 1081)
    outside = consistent(next_view(v, "search", 101, REGIONS, MUNIS), LEVEL_CODES, REGIONS_OF)
    assert (outside.area, outside.within) == (101, None)
    assert next_view(v, "search", 999999, REGIONS, MUNIS) == v
    assert next_view(v, "search", "junk", REGIONS, MUNIS) == v


def test_search_for_a_region_drills_down_like_a_click_on_the_map():
    """The keyboard's way into a region: the search box offers the regions too."""
    for start in (View(level="region"), View(level="region2027"), View(level="municipality", area=101)):
        v = consistent(next_view(start, "search", 1081, REGIONS, MUNIS), LEVEL_CODES, REGIONS_OF)
        assert (v.level, v.within, v.area) == ("municipality", 1081, None)
        assert v == next_view(View(level="region"), "map", click(1081), REGIONS, MUNIS) or start.level != "region"


def test_changing_level_drops_a_selection_that_does_not_exist_there():
    v = consistent(replace(View(area=101), level="region"), LEVEL_CODES, REGIONS_OF)
    assert v.area is None and v.within is None


def test_hash_round_trip_restores_the_view():
    v = View(measure="mri_share", level="region2027", y0=2016, y1=2020, rates="crude", area=1090).with_dim("sex", 2)
    v = v.with_dim("referrer", "chiropractor")
    h = hash_of(v)
    back, ignored = parse_query(h.lstrip("#"), list(range(2013, 2025)), ("imaging_rate", "mri_share"),
                                MUNIS | REGIONS, REGIONS)
    assert ignored == [] and back == v


# ------------------------------------------------------------------ CSV downloads

def test_csv_has_bom_header_rows_and_danish_decimals(app_db):
    from atlas import export

    # a Danish file is Danish Excel's whatever separator the view holds: semicolons, decimal comma
    view = View(y0=2020, y1=2024, sep=",", lang="da").with_dim("sex", 2)
    content, name = export.chart_csv("map", view)
    assert content.startswith(b"\xef\xbb\xbf") and name.endswith(".csv")
    # the file name says what the file holds, in the file's language
    assert name.startswith("laenderyg-atlas_kort_") and "kommuner_kvinder_2020-2024_da" in name
    text = content.decode("utf-8-sig")
    head, body = split_download(text)
    assert "Køn: Kvinder" in head and "SYNTETISKE" in head and "2020–2024" in head and "sex=2" in head
    lines = body.strip().split("\r\n")
    header = lines[0].split(";")
    assert header[:2] == ["Kode", "Navn"] and "funnel_flag" not in header and "Tragtdiagram" in header
    assert len(lines) == 1 + 98 + 1                # header, 98 municipalities, Denmark
    rows = [line.split(";") for line in lines[1:]]
    values = [r[header.index("Værdi")] for r in rows]
    assert any("," in v for v in values) and not any("." in v for v in values)
    # counts are whole numbers ("510", never "510,00"), flags and yes/no are Danish words
    assert all(r[header.index("Antal")].isdigit() or r[header.index("Antal")] == "" for r in rows)
    assert {r[header.index("Fuldstændige år")] for r in rows} <= {"ja", "nej"}
    assert not {r[header.index("Tragtdiagram")] for r in rows} & {"high_998", "high_95", "within", "low_95", "low_998"}


def test_csv_with_comma_separator_uses_points(app_db):
    from atlas import export

    content, _ = export.chart_csv("trend", View(y0=2024, y1=2024, area=101))
    body = split_download(content.decode("utf-8-sig"))[1]
    header = body.split("\r\n")[0].split(",")
    assert header[:2] == ["year", "code"] and "value" in header


# ------------------------------------------------------------------ estimates per group

def test_a_single_stratum_group_is_standardised_to_its_own_crude_rate(app_db):
    """With one sex chosen, each age band of the breakdown holds one stratum: its DSR is its rate."""
    from atlas import queries

    view = View(y0=2013, y1=2024).with_dim("sex", 2)
    bd = queries.breakdown_table(view, None)
    age = bd[bd.dimension == "age"].set_index("value_key")
    from atlas import db

    ev = db.query("SELECT age_band, sum(n_imaging) n FROM imaging_cube WHERE sex = 2 GROUP BY ALL").set_index("age_band").n
    pop = db.query("SELECT age_band, sum(persons) p FROM population_cube WHERE sex = 2 GROUP BY ALL").set_index("age_band").p
    crude = (ev / pop * 1000).reindex(age.index)
    shown = ~age.hidden.astype(bool)
    # the secure database serves exact figures: the stratum's own rate, to rounding
    assert shown.sum() >= 6
    assert (np.abs(age.value[shown] - crude[shown]) <= 1e-6 * crude[shown]).all()


def test_national_dsr_lies_within_the_range_of_area_rates(app_db):
    from atlas import queries

    t, national = queries.area_table(View(y0=2013, y1=2024))
    shown = t[~t.hidden]
    assert shown.value.min() < national.value < shown.value.max()
    assert (shown.lower <= shown.value).all() and (shown.value <= shown.upper).all()
    assert national.lower < national.value < national.upper


def test_danish_csv_downloads_hold_no_english(app_db):
    """Every CSV of every page in Danish: semicolons, Danish headers and words, no English-only text."""
    import csv
    import io

    from helpers import english_left, english_only_strings

    from atlas import export
    from atlas import pathways as P
    from atlas import returns as R

    strings = english_only_strings()
    view = View(y0=2022, y1=2024, lang="da", area=101).with_dim("sex", 2)
    files = [export.chart_csv(c, view) for c in export.CHARTS]
    files += [P.chart_csv(c, view, 90) for c in P.CHARTS]
    files += [R.chart_csv(c, R.ReturnsView(lang="da")) for c in R.CHARTS]
    names = set()
    for content, name in files:
        text = content.decode("utf-8-sig")
        assert english_left(text, strings) == [], (name, english_left(text, strings))
        body = split_download(text)[1]
        header = next(csv.reader(io.StringIO(body), delimiter=";"))
        assert len(header) > 2, name                   # semicolon-separated
        assert not {"count", "value", "code", "name", "complete", "note"} & set(header), (name, header)
        assert name.endswith("_da.csv") and name.startswith("laenderyg-atlas_"), name
        names.add(name)
    assert len(names) == len(files)                    # every view downloads under its own name


def test_each_chart_below_the_map_is_asked_for_only_when_its_part_of_the_view_changes():
    from dash import no_update

    from atlas.state import panel_addresses

    base = View(measure="imaging_rate", level="municipality", y0=2023, y1=2024)

    def changed(after, before, release=False):
        return {s for s, v in panel_addresses(after, before, "#new", release).items() if v is not no_update}

    assert changed(base, None) == {"view-trend", "view-breakdown", "view-mix"}          # the first view: all
    assert changed(replace(base, measure="mri_share"), base) == {"view-trend", "view-breakdown"}
    assert changed(replace(base, level="region"), base) == set()                         # Denmark's charts
    chosen = replace(base, area=101)
    assert changed(replace(chosen, level="region", area=84), chosen) == {"view-trend", "view-breakdown", "view-mix"}
    assert changed(replace(base, y0=2020), base) == {"view-trend", "view-breakdown", "view-mix"}
    assert changed(replace(base, colours="quantile", map="tile"), base) == set()         # how the map is drawn
    assert changed(replace(base, rates="crude"), base) == {"view-trend", "view-breakdown"}
    with_filter = base.with_dim("sex", 2)
    assert changed(with_filter, base) == {"view-trend", "view-breakdown", "view-mix"}
    # a release publishes the breakdown without filters and as crude rates
    assert changed(with_filter, base, release=True) == {"view-trend", "view-mix"}
    assert changed(replace(base, rates="crude"), base, release=True) == {"view-trend"}
