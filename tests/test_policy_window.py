"""Issue 27: the reader chooses the recent-trend markers' window on the atlas page (``recent=N`` in
the address, the last N complete years; 5 by default). The markers, the legend line of the map's and
ranking's titles, the CSV's recent-trend columns and its header item all follow the chosen N, on the
secure database and on the release; the address keeps it and a bad value is dropped and named."""
from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest
import test_policy_markers
from test_policy_markers import _csv_table, _figure_json, _trend_of, _view

pytestmark = pytest.mark.xdist_group("release")
database = test_policy_markers.database       # the app on the secure database, then on the release


def _markers_of(fig) -> dict[str, set]:
    out = {}
    for direction, symbol in (("rising", "triangle-up"), ("falling", "triangle-down")):
        traces = [tr for tr in _figure_json(fig)["data"] if (tr.get("marker") or {}).get("symbol") == symbol]
        out[direction] = set(traces[0]["y"]) if traces else set()
    return out


def test_the_chosen_window_gives_each_areas_trend_over_those_years(database):
    import pages.atlas as page
    from atlas import queries

    seen = {}
    for n in (3, 6):
        view = _view(recent=n)
        _, fig_rank, *_ = page._area_outputs(view)
        tbl, _ = queries.area_table(view)
        names = dict(zip(tbl["code"].astype(int), tbl["name"]))
        expected, spans = {"rising": set(), "falling": set()}, set()
        for code in tbl.loc[~tbl["hidden"].fillna(True).astype(bool), "code"].astype(int):
            r = _trend_of(code, view.measure, view.level, n_years=n)      # an independent reading, n years
            if r.years:
                spans.add((r.years[0], r.years[-1]))
            if r.direction in expected:
                expected[r.direction].add(names[code])
        assert _markers_of(fig_rank) == expected, n
        (y0, y1), = spans
        assert y1 - y0 + 1 >= n - 1                          # n complete years (a break year may shorten it)
        title = _figure_json(fig_rank)["layout"]["title"]["text"].replace("<br>", " ")
        if expected["rising"] | expected["falling"]:
            assert f"over {y0}–{y1} (last {n} complete years)" in title
        seen[n] = (expected, (y0, y1))
    assert seen[3][1] != seen[6][1]                          # the window moved with the reader's choice
    # a window longer than the years since the register break: no area tested, and the titles say so
    _, fig_rank, *_ = page._area_outputs(_view(recent=10))
    assert _markers_of(fig_rank) == {"rising": set(), "falling": set()}
    title = _figure_json(fig_rank)["layout"]["title"]["text"].replace("<br>", " ")
    assert "no area tested over the last 10 complete years" in title
    da = _figure_json(page._area_outputs(_view(recent=10, lang="da"))[1])["layout"]["title"]["text"]
    assert "intet område testet over de seneste 10 fuldstændige år" in da.replace("<br>", " ")


def test_csv_columns_and_header_name_the_window_both_languages(database):
    from atlas import export, trend_markers

    for lang, head, words in (("en", "Recent-trend markers", "last 6 complete years"),
                              ("da", "Markering af seneste udvikling", "de seneste 6 fuldstændige år")):
        view = _view(recent=6, lang=lang)
        tab, (y0, y1) = trend_markers.markers(view.measure, view.level, 6)
        body = _csv_table("map", view)
        content, _ = export.chart_csv("map", view)               # the flat file: header items as columns
        flat = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=";" if lang == "da" else ",", dtype=str,
                           keep_default_na=False)
        assert flat[head].iloc[0] == f"{words}, {y0}–{y1}", flat[head].iloc[0]
        years_col = "recent_trend_years" if lang == "en" else "Seneste udvikling: år"
        tested = [v for v in body[years_col] if v]
        assert tested and set(tested) <= {f"{y0}-{y1}"} | {f"{a}-{b}" for a, b in
                                                           zip(tab["first_year"], tab["last_year"]) if a == a}
        assert f"{y0}-{y1}" in tested
        content, _ = export.chart_csv("rank", view)
        assert "recent=6" in content.decode("utf-8-sig")          # the view's address keeps the window
    # a population group: no markers, so no header item either
    content, _ = export.chart_csv("map", _view(recent=6).with_dim("sex", 2))
    assert "Recent-trend markers" not in content.decode("utf-8-sig")


def test_the_window_lives_in_the_address():
    from atlas.filters import RECENT_YEARS, View, parse_query
    from atlas.state import _from_controls, hash_of

    view = View(y0=2024, y1=2024, recent=7)
    assert "recent=7" in hash_of(view, 2024)
    assert "recent" not in hash_of(replace(view, recent=5), 2024)      # the default is left out
    back, ignored = parse_query("recent=7", [2023, 2024], ("imaging_rate",), set(), set(), 2024)
    assert back.recent == 7 and not ignored
    bad, ignored = parse_query("recent=9", [2023, 2024], ("imaging_rate",), set(), set(), 2024)
    assert bad.recent == 5 and ignored == ["recent"]
    assert 9 not in RECENT_YEARS
    assert _from_controls(View(), {"recent": 10}, [], [2024]).recent == 10
    assert _from_controls(View(recent=7), {"recent": 9}, [], [2024]).recent == 7      # not offered: kept
    assert _from_controls(View(recent=7), {"recent": True}, [], [2024]).recent == 7


# ---------------------------------------------------------------- the peers in /compare's dot chart

def test_compare_dots_show_the_peers_together_as_a_comparator(database):
    from test_policy_markers import _pooled_rate

    import app  # noqa: F401
    import pages.compare as page
    from atlas import compare_state, data, policy
    from atlas.filters import View
    from atlas.measures import MEASURES

    state = compare_state.read_hash("#areas=330,101&peers=1")
    near = policy.peers_of(330, *state["period"])
    want, _ = _pooled_rate(near, "imaging_rate", *state["period"])
    national = data.source().area_table(View(measure="imaging_rate", level="municipality", y0=state["period"][0],
                                             y1=state["period"][1]))[1]
    for lang, label in (("en", "Comparable municipalities of Slagelse (pooled)"),
                        ("da", "Sammenlignelige kommuner for Slagelse (samlet)")):
        dots = page.side_section(state, lang)[-1].figure
        traces = {tr["name"]: tr for tr in dots.data}
        assert label in traces and len(traces) == 3, list(traces)     # the two areas, then the peers together
        peers = traces[label]
        by_measure = dict(zip(list(peers["y"]), [float(x) for x in peers["x"]]))
        name = MEASURES["imaging_rate"].name(lang)
        assert by_measure[name] == pytest.approx(100 * want / float(national["value"]), rel=1e-9)
        assert peers["marker"]["symbol"] == "star"
        assert len(by_measure) >= 2                            # every measure with a pooled figure
    # without the switch: only the compared areas
    plain = page.side_section({**state, "peers": False}, "en")[-1].figure
    assert [tr["name"] for tr in plain.data] == ["Slagelse", "København"]
