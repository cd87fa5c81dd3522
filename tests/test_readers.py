"""Issue 29 without a browser: CSV files that open in one step, Danish number formats, the Danish
methods as complete as the English, and page titles in the reader's language."""
from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import split_download

from atlas.filters import View

ROOT = Path(__file__).resolve().parents[1]


def _read(content: bytes, lang: str) -> pd.DataFrame:
    """How a reader opens the file: one call, no rows skipped."""
    if lang == "da":
        return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=";", decimal=",")
    return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")


@pytest.mark.parametrize("lang", ["en", "da"])
def test_every_chart_csv_opens_in_one_step(app_db, lang):
    from atlas import export
    from atlas import pathways as P
    from atlas import returns as R

    view = View(y0=2022, y1=2022, lang=lang, sep=";" if lang == "da" else ",")
    files = {f"atlas:{c}": export.chart_csv(c, view)[0] for c in export.CHARTS}
    files |= {f"pathways:{c}": P.chart_csv(c, view, 90)[0] for c in P.CHARTS}
    files |= {f"returns:{c}": R.chart_csv(c, R.ReturnsView(lang=lang))[0] for c in R.CHARTS}
    value = "Værdi" if lang == "da" else "value"
    for name, content in files.items():
        table = _read(content, lang)
        assert "Atlas" in table.columns and len(table) >= 1, name
        assert table.columns[0] != "Atlas", name                  # the chart's own columns come first
        # the header items: the same value on every row
        assert table["Atlas"].nunique() == 1, name
        if value in table.columns:
            assert pd.api.types.is_float_dtype(table[value]) or table[value].isna().all(), (name, table[value].dtype)
    atlas_map = _read(files["atlas:map"], lang)
    assert len(atlas_map) == 98 + 1                                # 98 municipalities and Denmark
    assert (atlas_map["Kode" if lang == "da" else "code"] == 101).any()


def test_the_header_items_are_the_same_in_both_layouts(app_db):
    from atlas import export

    view = View(y0=2022, y1=2022).with_dim("sex", 2)
    header = export.header_rows(view, "Map")
    _, body = export._chart_table("map", view)[:2]
    flat = export.write_csv(header, body, ",", descriptive=False).decode("utf-8-sig")
    descriptive = export.write_csv(header, body, ",", descriptive=True).decode("utf-8-sig")
    assert descriptive.split("\r\n", 1)[0] == "Lumbar spine imaging atlas"
    assert flat.split("\r\n", 1)[0].startswith("code,name,count")
    head_flat, body_flat = split_download(flat)
    head_desc, body_desc = split_download(descriptive)
    assert body_flat == body_desc
    items = dict(export.header_columns(header, "en"))
    assert items["Population group and imaging"] == "Sex: Women" and items["Chart"] == "Map"
    assert "Sex: Women" in head_desc and "Sex: Women" in head_flat


def _download(client, search: str) -> str:
    from atlas.coverage import default_year
    from atlas.state import hash_of

    deps = client.get("/_dash-dependencies").get_json()
    d = next(x for x in deps if '"type":"download"' in x["output"])
    btn = {"chart": "map", "type": "download-btn"}
    view = hash_of(View(y0=2022, y1=2022), default_year())
    payload = {"output": d["output"], "outputs": {"id": {"chart": "map", "type": "download"}, "property": "data"},
               "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
               "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
               "state": [{"id": s["id"], "property": s["property"], "value": v} for s, v in zip(d["state"], (view, search))]}
    r = client.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    (data,) = [v["data"] for v in r.get_json()["response"].values()]
    return (base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()).decode("utf-8-sig")


def test_header_1_in_the_address_asks_for_the_descriptive_layout(app_db):
    import app as app_module

    client = app_module.app.server.test_client()
    flat = _download(client, "")
    descriptive = _download(client, "?header=1")
    assert flat.startswith("code,name,") and "\r\n\r\n" not in flat
    assert descriptive.startswith("Lumbar spine imaging atlas\r\n") and "\r\n\r\ncode,name," in descriptive
    assert split_download(flat)[1] == split_download(descriptive)[1]


# ---------------------------------------------------------------- Danish numbers

def test_table_view_counts_are_grouped_in_the_readers_format():
    from atlas.layout_parts import html_table

    frame = pd.DataFrame({"year": [2023], "code": [101], "count": [4961], "value": [8657.4]})
    da = html_table(frame, "x", "da").children[1].children
    en = html_table(frame, "x", "en").children[1].children
    assert "| 2023 | 101 | 4.961 | 8.657,40 |" in da
    assert "| 2023 | 101 | 4,961 | 8,657.40 |" in en


def test_cluster_panel_numbers_in_danish(app_db):
    from atlas import atlas_panels

    text = str(atlas_panels.cluster_panel.uncached(View(y0=2022, y1=2022, lang="da"))
               if hasattr(atlas_panels.cluster_panel, "uncached") else atlas_panels.cluster_panel(View(lang="da")))
    assert re.search(r"I = -?\d+,\d\d", text), text[:500]
    assert "9.999 permutationer" in text and "5 %" in text
    assert not re.search(r"I = -?\d+\.\d", text)
    english = str(atlas_panels.cluster_panel(View(y0=2022, y1=2022, lang="en")))
    assert "9,999 permutations" in english and re.search(r"I = -?\d+\.\d\d", english)


def test_profile_and_trend_axes_use_the_readers_separators(app_db):
    from atlas import profile_figures

    tr = pd.DataFrame({"measure": ["imaging_rate"] * 2, "code": [0, 101], "year": [2022, 2022],
                       "value": [0.5, 0.6], "hidden": [False, False]})
    assert profile_figures.measure_trends(tr, 101, "København", "da").layout["separators"] == ",."
    assert profile_figures.measure_trends(tr, 101, "København", "en").layout["separators"] == ".,"


def test_the_returns_count_charts_say_they_are_counts(app_db):
    from atlas import returns as R

    for lang, unit in (("en", "number per month"), ("da", "antal pr. måned")):
        view = R.ReturnsView(lang=lang)
        fig = R.stamp(R.fig_by_exam(R.by_exam(view), view), "ret_chart_exam", view, counts=True)
        title = fig.layout["title"]["text"]
        assert fig.layout["yaxis"]["title"]["text"].lower() == unit and unit in title
        assert "1.000" not in title and "1,000" not in title


def test_the_returns_page_says_what_a_return_letter_and_the_campaign_are():
    from atlas.i18n import t

    assert "sends back to the referrer" in t("ret_what", "en") and "Norwegian campaign" in t("ret_what", "en")
    assert "sender tilbage til henviseren" in t("ret_what", "da") and "norske kampagne" in t("ret_what", "da")


# ---------------------------------------------------------------- Danish methods, titles

def _sections(path: Path) -> list[str]:
    return re.findall(r"^## +(.+)$", path.read_text(encoding="utf-8"), flags=re.M)


def test_danish_methods_cover_every_english_section():
    en, da = ROOT / "docs" / "methods.md", ROOT / "docs" / "methods.da.md"
    assert len(_sections(da)) == len(_sections(en)), (_sections(en), _sections(da))
    text = da.read_text(encoding="utf-8")
    assert len(text) >= 0.9 * len(en.read_text(encoding="utf-8"))
    for must in ("Gentagen MR", "Billeddiagnostiske forløb", "Returbreve og afbrudte tidsserier",
                 "rate_t = b0 + b1·t + b2·D_t + b3·(t − t0)·D_t", "Newey–West", "Wagner AK", "## Litteratur",
                 "Durbin–Watson", "returneret henvisning"):
        assert must in text, must


def _numbered(path: Path) -> dict[str, str]:
    """The numbered sections ("1" to "9") of a methods document: number -> its text."""
    parts = re.split(r"^## +(\d+)\. .*$", path.read_text(encoding="utf-8"), flags=re.M)
    return {parts[i]: parts[i + 1].split("\n## ")[0] for i in range(1, len(parts) - 1, 2)}


def test_danish_statistical_methods_translate_sections_1_to_7():
    """docs/methods-statistics.da.md: sections 1-7 are the English ones in Danish, not summaries: each
    at least 80 % of the English one's length, with every function, option and formula name (the
    words in backticks) of the English section; the funnel's categories and data columns, which the
    Danish files name in Danish, by their Danish names."""
    from atlas.i18n import t

    en = _numbered(ROOT / "docs" / "methods-statistics.md")
    da = _numbered(ROOT / "docs" / "methods-statistics.da.md")
    flags = ("high_998", "high_95", "within", "low_95", "low_998")
    danish_named = {*flags, "denominator, lower_95, upper_95, lower_99_8, upper_99_8"}
    for number in map(str, range(1, 8)):
        assert number in da, f"section {number} is missing in Danish"
        assert len(da[number]) >= 0.8 * len(en[number]), (number, len(da[number]), len(en[number]))
        missing = set(re.findall(r"`([^`]+)`", en[number])) - set(re.findall(r"`([^`]+)`", da[number])) - danish_named
        assert not missing, (number, missing)
    assert all(t(flag, "da") in da["4"] for flag in flags)
    text = (ROOT / "docs" / "methods-statistics.da.md").read_text(encoding="utf-8")
    assert "Den engelske udgave" not in text          # no longer points readers to the English for details


def test_page_titles_in_both_languages():
    from atlas.page_meta import PAGE_NAMES, page_title

    for path in ("/", *PAGE_NAMES):
        assert page_title(path, "da") != page_title(path, "en")
        assert page_title(path, "da").endswith("Atlas over billeddiagnostik af lænden")
    assert page_title("/methods", "da") == "Metode · Atlas over billeddiagnostik af lænden"


def test_all_trends_label_years_and_share_one_scale_unless_asked(app_db):
    from atlas import all_trends
    from atlas.profile_figures import small_multiples

    frame, national, order, names, change, years = all_trends.small_multiples_data("imaging_rate", "municipality", "level")
    verdicts = dict(zip(change["code"].astype(int), change["verdict"].astype(int)))
    shared = small_multiples(frame, national, order, names, verdicts, "da").to_plotly_json()["layout"]
    axes = [k for k in shared if k.startswith("yaxis")]
    assert len(axes) == len(order)
    # one value scale: every panel's y axis follows the same one (not one per row)
    assert len({shared[k].get("matches") for k in axes if shared[k].get("matches")}) == 1 and len(axes) > 7
    first, last = int(frame["year"].min()), int(frame["year"].max())
    assert all(list(shared[k]["tickvals"]) == [first, last] for k in shared if k.startswith("xaxis"))
    labelled = [k for k in shared if k.startswith("xaxis") and shared[k]["showticklabels"]]
    assert len(labelled) == len(order)                            # every panel names its years
    chosen = small_multiples(frame, national, order, names, verdicts, "da",
                             compared=(first + 1, last - 1)).to_plotly_json()["layout"]
    assert all(list(chosen[k]["tickvals"]) == [first + 1, last - 1] for k in chosen if k.startswith("xaxis"))
    own = small_multiples(frame, national, order, names, verdicts, "da", shared=False).to_plotly_json()["layout"]
    assert not any(own[k].get("matches") for k in own if k.startswith("yaxis"))
    assert all(own[k]["showticklabels"] for k in own if k.startswith("yaxis"))


def test_profile_trends_mark_incomplete_years_and_say_why_a_line_is_missing(app_db):
    from atlas import coverage, profile
    from atlas.profile_figures import measure_trends

    code = 825                                     # Læsø: a few hundred adults at the tests' scale
    tr = profile.trends(code, "en")
    fig = measure_trends(tr, code, "Læsø", "en")
    bands = {(key, y) for key in set(tr["measure"]) for y in coverage.incomplete_years(key)
             if y in set(tr.loc[tr["measure"] == key, "year"].astype(int))}
    assert bands and len(fig.layout["shapes"]) == len(bands)
    assert all(s["x1"] - s["x0"] == 1 for s in fig.layout["shapes"])
    # the secure database shows exact figures: nothing is hidden to protect a count; a panel without
    # the area's line is a standardised rate with too few events in every year, and says so
    own = tr[tr["code"] == code]
    assert not own["status"].isin(["small", "protect", "hidden"]).any()
    few = {k for k, d in own.groupby("measure") if d["hidden"].astype(bool).all()}
    assert all((own.loc[own["measure"] == k, "status"] == "few_events").all() for k in few)
    notes = [a["text"] for a in fig.layout["annotations"] if a["text"].startswith("Læsø:")]
    assert len(notes) == len(few) and all("too few events" in n for n in notes), notes
    # where a source hides every year of a measure (a release), or publishes none, the panel says which
    keys = sorted(set(tr["measure"]))
    hidden, unpublished = keys[0], keys[1]
    cut = tr[~((tr["code"] == code) & (tr["measure"] == unpublished))].copy()
    cut.loc[(cut["code"] == code) & (cut["measure"] == hidden), "hidden"] = True
    for lang, words in (("en", ("every year hidden", "not published by single year")),
                        ("da", ("alle år skjult", "ikke offentliggjort for enkeltår"))):
        from atlas.i18n import t as text

        few_note = text("profile_line_few", lang).format(name="Læsø")
        notes = [a["text"] for a in measure_trends(cut, code, "Læsø", lang).layout["annotations"]
                 if a["text"].startswith("Læsø:") and a["text"] != few_note]
        assert len(notes) == 2 and words[0] in notes[0] and words[1] in notes[1], notes
