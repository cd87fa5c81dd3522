"""Register breaks (etl/config/breaks.toml -> meta.coverage.breaks) marked like incomplete years:
on the trend chart, in the trend CSV, on /trends and on the methods page."""
from __future__ import annotations

import io
import json

import duckdb
import pandas as pd
import pytest

from etl import codes, coverage
from etl.settings import load_settings

SETTINGS = load_settings()


def test_configured_breaks_reach_every_measure_and_the_referrer_breakdown():
    spec = coverage.windows(SETTINGS)
    b = coverage.breaks(SETTINGS, list(spec), codes.provenance())
    assert all(b["breaks"][m] == {"2019": "lpr3"} for m in spec), b["breaks"]
    assert b["dimension_breaks"] == {"referrer": {"2019": "referrer_coding"}}
    assert "LPR3" in b["break_notes"]["lpr3"]["en"] and "LPR3" in b["break_notes"]["lpr3"]["da"]


def test_breaks_outside_the_study_years_are_left_out(tmp_path):
    f = tmp_path / "breaks.toml"
    f.write_text('[[breaks]]\nkey = "old"\nyear = 2007\nmeasures = ["imaging"]\nen = "a"\nda = "b"\n'
                 '[[breaks]]\nkey = "new"\nyear = 2016\nmeasures = ["imaging"]\nen = "c"\nda = "d"\n', encoding="utf-8")
    b = coverage.breaks(SETTINGS, ["imaging", "first"], {}, path=f)
    assert b["breaks"] == {"imaging": {"2016": "new"}} and set(b["break_notes"]) == {"new"}


def test_a_break_without_its_text_is_a_config_error(tmp_path):
    from etl.settings import ConfigError

    f = tmp_path / "breaks.toml"
    f.write_text('[[breaks]]\nkey = "x"\nyear = 2016\nmeasures = "all"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="break 1: lacks en, da"):
        coverage.breaks(SETTINGS, ["imaging"], {}, path=f)


def test_the_build_records_breaks_and_code_list_provenance(atlas_db):
    with duckdb.connect(str(atlas_db), read_only=True) as con:
        meta = {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta").fetchall()}
    assert meta["coverage"]["breaks"]["imaging"] == {"2019": "lpr3"}
    assert meta["code_lists"]["unverified"] == {"rehabilitation_plans": ["AWG1", "AWG2"]}


def test_app_marks_the_break_on_the_trend_in_its_csv_and_on_trends(app_db):
    from atlas import coverage as app_coverage
    from atlas import export, figures, queries
    from atlas.filters import View
    from atlas.measures import MEASURES

    key = next(iter(MEASURES))
    assert app_coverage.breaks(key) == {2019: "lpr3"}
    view = View(measure=key, y0=2024, y1=2024, area=101)
    fig = figures.trend(queries.trend_table(view, 101), view, MEASURES[key], 101, "x",
                        breaks=app_coverage.breaks(key)).to_plotly_json()
    lines = [s for s in fig["layout"].get("shapes", []) if s.get("type") == "line"]
    assert [s["x0"] for s in lines] == [2018.5] and lines[0]["line"]["dash"] == "dash"
    body = export.chart_table("trend", view)[1]
    marked = set(body.loc[body["break"].astype(bool), "year"].astype(int))
    assert marked == {2019}, marked
    content, _ = export.chart_csv("trend", view)
    from helpers import split_download

    table = pd.read_csv(io.StringIO(split_download(content.decode("utf-8-sig"))[1]), sep=None, engine="python")
    assert set(table.loc[table["break"] == "yes", "year"].astype(int)) == {2019}
    _break_note = app_coverage.comparison_note
    assert "2019" in _break_note(key, 2014, 2023, "en") and "LPR3" in _break_note(key, 2014, 2023, "en")
    assert _break_note(key, 2019, 2023, "en") == "" and "LPR3" in _break_note(key, 2014, 2023, "da")


def test_methods_page_shows_code_provenance_unverified_codes_and_breaks(app_db):
    import app  # noqa: F401  (registers the pages)
    from pages import methods

    for lang, unverified, breaks, status, plans in (
            ("en", "Not verified against any source", "Register breaks", "UNVERIFIED", "Rehabilitation plans (SKS)"),
            ("da", "Ikke verificeret mod nogen", "Brud i registrene", "IKKE VERIFICERET", "Genoptræningsplaner (SKS)")):
        text = str(methods.layout(lang=lang))
        # an unverified code is named with its list's heading in the page's language
        assert unverified in text and f"AWG1 ({plans})" in text, lang
        assert breaks in text and "LPR3" in text and status in text, lang
        assert "UXRE30" in text and "UXME30" in text, lang
        assert "tagteam/heaven" in text, lang


def test_all_data_marks_the_break_year_and_periods_that_mix_both_sides(app_db):
    from atlas import all_data

    body = all_data.measure_table("imaging_rate", "en")
    marked = dict(zip(body["period"], body["break"]))
    from atlas import coverage as app_coverage

    br = app_coverage.breaks("imaging_rate")
    assert app_coverage.spans_break(2018, 2019, br) and not app_coverage.spans_break(2017, 2018, br)
    assert marked.get("2016-2018") is False and marked.get("2019-2021") is False and marked.get("2013-2024") is True


def test_a_code_validity_change_becomes_a_break_of_every_measure(tmp_path):
    import shutil

    from etl.settings import CONFIG_DIR

    d = tmp_path / "codes"
    shutil.copytree(CONFIG_DIR / "codes", d)
    path = d / "imaging_procedures.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "Røntgenundersøgelse af columna lumbalis,SKS procedure codes (radiology UX),,",
        "Røntgenundersøgelse af columna lumbalis,SKS procedure codes (radiology UX),2016-03-01,"), encoding="utf-8")
    b = coverage.breaks(SETTINGS, ["imaging", "episode"], codes.provenance(d))
    assert b["breaks"]["imaging"] == {"2016": "code_list_2016", "2019": "lpr3"} == b["breaks"]["episode"]
    assert "UXRE30" in b["break_notes"]["code_list_2016"]["en"] and "UXRE30" in b["break_notes"]["code_list_2016"]["da"]


def test_atlas_page_warns_when_the_chosen_years_span_a_break(app_db):
    import app  # noqa: F401  (registers the pages)
    from atlas.filters import View
    from pages.atlas import coverage_note

    text = str(coverage_note(View(measure="imaging_rate", y0=2016, y1=2021)))
    assert "break-alert" in text and "LPR3" in text
    assert "break-alert" not in str(coverage_note(View(measure="imaging_rate", y0=2019, y1=2021)))
    referrer = View(measure="imaging_rate", y0=2019, y1=2019).with_dim("referrer", "chiropractor")
    assert "break-alert" not in str(coverage_note(referrer))
    assert "chiropractor" in str(coverage_note(View(measure="imaging_rate", y0=2018, y1=2019).with_dim("referrer", "chiropractor")))
