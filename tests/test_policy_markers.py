"""Issue 27, the rest: recent-trend markers on the atlas page's map, ranking and CSVs; /trends with
the reader's start and end years; the avoidable-imaging sentence in the atlas page's key findings;
comparable municipalities as a comparator (/compare) and as the funnel plot's target; the peers
table written at build. On both databases (the session's scale-0.05 secure build and the release
written from it), each figure checked against the etl.stats function on figures read here from the
data layer, not through the code under test.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest
from conftest import app_on
from helpers import split_download

pytestmark = pytest.mark.xdist_group("release")


@pytest.fixture(scope="module", params=["secure", "release"])
def database(request):
    """Each test runs on the secure database and on the release (the app pointed at each in turn)."""
    with app_on(request.getfixturevalue("release_secure_db" if request.param == "secure" else "release_db")):
        from atlas import data

        assert data.source().kind == request.param
        import app  # noqa: F401  (registers the pages)

        yield request.param


def _trend_of(code: int, measure: str, level: str, n_years: int = 5):
    """An area's recent trend from its published single-year counts, read here year by year from
    the data layer and tested with etl.stats.recent_trend (not through atlas.policy)."""
    from atlas import coverage, data
    from atlas.filters import View
    from etl import stats

    src = data.source()
    years, counts, pops = [], [], []
    for y in src.years():
        v = View(measure=measure, level=level, y0=y, y1=y)
        if not src.publishes(v):
            continue
        tbl, _ = src.area_table(v)
        r = tbl[tbl["code"] == code]
        years.append(y)
        ok = len(r) and pd.notna(r["num_shown"].iloc[0]) and pd.notna(r["den_shown"].iloc[0])
        counts.append(float(r["num_shown"].iloc[0]) if ok else np.nan)
        pops.append(float(r["den_shown"].iloc[0]) if ok else np.nan)
    return stats.recent_trend(np.array(years), np.array(counts), np.array(pops), n_years=n_years,
                              incomplete=list(coverage.incomplete_years(measure)), breaks=list(coverage.breaks(measure)))


def _view(**kw):
    from atlas import coverage
    from atlas.filters import View

    y = coverage.default_year()
    return View(**{"y0": y, "y1": y, **kw})


def _figure_json(fig):
    return fig if isinstance(fig, dict) else fig.to_plotly_json()


def _csv_table(chart, view):
    from atlas import export

    content, _ = export.chart_csv(chart, view)
    _, body = split_download(content.decode("utf-8-sig"))
    sep = ";" if view.lang == "da" else ","
    return pd.read_csv(io.StringIO(body), sep=sep, decimal="," if view.lang == "da" else ".", keep_default_na=False)


# ---------------------------------------------------------------- recent-trend markers on the atlas page

def test_markers_on_map_and_ranking_are_each_areas_recent_trend(database):
    import pages.atlas as page
    from atlas import queries

    view = _view()
    fig_map, fig_rank, *_ = page._area_outputs(view)
    tbl, _ = queries.area_table(view)
    names = dict(zip(tbl["code"].astype(int), tbl["name"]))
    expected = {"rising": set(), "falling": set()}
    years = set()
    for code in tbl.loc[~tbl["hidden"].fillna(True).astype(bool), "code"].astype(int):
        r = _trend_of(code, view.measure, view.level)
        if r.direction in expected:
            expected[r.direction].add(names[code])
            years.add((r.years[0], r.years[-1]))
    assert expected["rising"] | expected["falling"], "the planted trends should give at least one marker"
    (y0, y1), = years
    for direction, symbol in (("rising", "triangle-up"), ("falling", "triangle-down")):
        rank = [tr for tr in _figure_json(fig_rank)["data"] if (tr.get("marker") or {}).get("symbol") == symbol]
        if not expected[direction]:
            assert not rank
            continue
        assert len(rank) == 1 and set(rank[0]["y"]) == expected[direction]
        assert rank[0]["name"].startswith(f"{direction} over {y0}–{y1}")
        for fig in (fig_rank, fig_map):
            title = _figure_json(fig)["layout"]["title"]["text"].replace("<br>", " ")
            assert f"▲ rising / ▼ falling over {y0}–{y1} (last 5 complete years)" in title
        on_map = [tr for tr in _figure_json(fig_map)["data"] if (tr.get("marker") or {}).get("symbol") == symbol]
        assert len(on_map) == 1 and len(on_map[0]["lon"]) == len(expected[direction])


def test_marker_in_hover_and_csv_both_languages(database):
    import pages.atlas as page

    for lang, word in (("en", "rising"), ("da", "stigende")):
        view = _view(lang=lang)
        fig_map, fig_rank, *_ = page._area_outputs(view)
        body = _csv_table("rank", view)
        col = "recent_trend" if lang == "en" else "Seneste udvikling"
        rising = body[body[col] == word]
        assert len(rising), "a rising area in the CSV"
        name_col, code_col = ("name", "code") if lang == "en" else ("Navn", "Kode")
        first = rising.iloc[0]
        main = _figure_json(fig_rank)["data"][0]
        hover = dict(zip(main["y"], main["hovertext"]))[first[name_col]]
        assert f"▲ {word}" in hover
        # Denmark's row carries no marker
        assert body.loc[body[code_col].astype(str) == "0", col].iloc[0] == ""


def test_no_markers_for_a_population_group(database):
    """The marker is the trend of everyone: it is not drawn (nor written) on a filtered view."""
    import pages.atlas as page

    view = _view(dims=(("sex", 2),))
    from atlas import data

    view = data.source().nearest(view)[0]
    if not view.dims:
        pytest.skip("no group published at this period")
    fig_map, fig_rank, *_ = page._area_outputs(view)
    symbols = [(tr.get("marker") or {}).get("symbol") for tr in _figure_json(fig_rank)["data"] + _figure_json(fig_map)["data"]]
    assert not {"triangle-up", "triangle-down"} & set(symbols)
    assert "recent_trend" not in _csv_table("map", view).columns


# ---------------------------------------------------------------- /trends: the reader's years

def test_change_years_takes_the_readers_years_only_when_comparable():
    from atlas import all_trends

    frame = pd.DataFrame({"year": [2013, 2014, 2015, 2016, 2017]})
    measure = "imaging_rate"
    from atlas import coverage

    complete = [y for y in range(2013, 2018) if y not in coverage.incomplete_years(measure)]
    assert all_trends.change_years(measure, frame) == (complete[0], complete[-1])
    assert all_trends.change_years(measure, frame, complete[1], complete[2]) == (complete[1], complete[2])
    assert all_trends.change_years(measure, frame, complete[2], complete[1]) == (complete[0], complete[-1])
    assert all_trends.change_years(measure, frame, complete[1], None) == (complete[1], complete[-1])
    assert all_trends.change_years(measure, frame, 2030, None) == (complete[0], complete[-1])
    assert all_trends.change_years(measure, frame.iloc[:1]) is None


def test_trends_page_compares_the_chosen_years(database):
    import pages.trends as page
    from atlas import data
    from atlas.filters import View
    from etl import stats

    src = data.source()
    years = [y for y in src.years() if src.publishes(View(y0=y, y1=y))]
    a, b = years[2], years[-3]
    state = page.read_hash(f"#from={a}&to={b}&scale=own")
    assert (state["from"], state["to"], state["scale"]) == (a, b, "own")
    assert page.read_hash(page.write_hash(state)) == state
    fig, summary, note = page.draw(f"#from={a}&to={b}", "")
    first, _ = src.area_table(View(y0=a, y1=a))
    last, _ = src.area_table(View(y0=b, y1=b))
    first, last = (x[~x["hidden"].fillna(True).astype(bool) & x["value"].notna()].set_index("code") for x in (first, last))
    both = first.index.intersection(last.index)
    f, l_ = first.loc[both], last.loc[both]
    verdict = np.asarray(stats.difference_beyond_chance(f["value"], f["lower"], f["upper"], l_["value"], l_["lower"],
                                                        l_["upper"], log=True))
    assert summary.startswith(f"{int((verdict == 1).sum())} rose and {int((verdict == -1).sum())} fell beyond chance "
                              f"from {a} to {b}, of {len(both)} areas")
    layout = _figure_json(fig)["layout"]
    assert all(list(layout[k]["tickvals"]) == [a, b] and layout[k]["showticklabels"] for k in layout if k.startswith("xaxis"))
    assert "moved" not in note
    _, _, moved = page.draw(f"#from={b}&to={a}", "?lang=da")
    assert "flyttet" in moved


# ---------------------------------------------------------------- avoidable imaging in the key findings

def test_key_findings_say_how_many_examinations_denmarks_rate_would_avoid(database):
    from atlas import data, findings_panel
    from atlas.filters import View

    src = data.source()
    view = src.nearest(_view())[0]
    tbl, _ = src.area_table(View(measure=view.measure, level=view.level, y0=view.y0, y1=view.y1))
    ok = ~tbl["hidden"].fillna(True).astype(bool) & tbl["num_shown"].notna() & (tbl["expected"].astype(float) > 0)
    o, e = tbl.loc[ok, "num_shown"].astype(float), tbl.loc[ok, "expected"].astype(float)
    years = view.y1 - view.y0 + 1
    excess = ((o - e).clip(lower=0) / years)
    assert excess.sum() > 0
    top = tbl.loc[excess.idxmax(), "name"]
    top_code = int(tbl.loc[excess.idxmax(), "code"])
    block = findings_panel.findings_block(replace_area(view, top_code))
    items = [li.children for li in block[1].children]
    said = [s for s in items if s.startswith("If every")]
    assert len(said) == 1
    assert f"about {excess.sum():,.0f} (" in said[0] and f"the most in {top}: about {excess.max():,.0f} a year" in said[0]
    one = [s for s in items if s.startswith(f"If {top} imaged at Denmark's rate")]
    assert len(one) == 1 and f"about {excess.max():,.0f} (" in one[0]
    da = [li.children for li in findings_panel.findings_block(replace_area(view, top_code, "da"))[1].children]
    assert any(s.startswith("Hvis hver") for s in da) and any(s.startswith(f"Hvis {top} undersøgte") for s in da)
    # not for a population group (its expected counts are not at Denmark's rates for everyone)
    grouped = [li.children for li in findings_panel.findings_block(replace_area(view, None).with_dim("sex", 2))[1].children]
    assert not any(s.startswith("If every") for s in grouped)


def replace_area(view, code, lang="en"):
    from dataclasses import replace

    return replace(view, area=code, lang=lang)


# ---------------------------------------------------------------- comparable municipalities: the table written at build

def test_peers_frame_is_k_nearest_on_the_configured_features():
    from etl import peers_table
    from etl.peers import load_peer_config
    from etl.stats.peers import nearest_peers

    assert [peers_table.band_lower_age(b) for b in ("18-24", "65-74", "85+")] == [18, 65, 85]
    with pytest.raises(ValueError):
        peers_table.band_lower_age("unknown")
    rng = np.random.default_rng(7)
    codes = list(range(101, 131))
    pop = pd.DataFrame([{"municipality": c, "age": a, "persons": int(rng.integers(200, 20_000))}
                        for c in codes for a in (18, 45, 65, 85)])
    areas = {c: float(rng.uniform(50, 900)) for c in codes}
    cfg = load_peer_config()
    got = peers_table.peers_frame(pop, areas, 2024, cfg)
    assert list(got.columns) == peers_table.COLUMNS
    k = int(cfg["k"])
    assert len(got) == len(codes) * k and (got["code"] != got["peer"]).all() and set(got["year"]) == {2024}
    # the same neighbours from the features computed here
    g = pop.groupby("municipality")
    feats = pd.DataFrame({"population": g["persons"].sum(),
                          "share_65plus": pop[pop["age"] >= 65].groupby("municipality")["persons"].sum() / g["persons"].sum()})
    feats["density"] = feats["population"] / pd.Series(areas)
    want = nearest_peers(feats, cfg["variables"], k=k, standardise=cfg.get("standardise", "z"))
    assert got[["code", "peer", "rank"]].to_numpy().tolist() == want[["code", "peer", "rank"]].astype(int).to_numpy().tolist()


@pytest.fixture(scope="module")
def peers_databases(release_secure_db, release_db, tmp_path_factory):
    """Copies of the session's secure database and release with the peers table written as the
    build hooks would write it (etl.peers_table.write_peers)."""
    import shutil

    import duckdb

    from etl import peers_table

    d = tmp_path_factory.mktemp("peers")
    secure, release = d / "atlas.duckdb", d / "release.duckdb"
    shutil.copy(release_secure_db, secure)
    shutil.copy(release_db, release)
    with duckdb.connect(str(secure)) as con:
        n_secure = peers_table.write_peers(con)
    with duckdb.connect(str(release)) as con:
        con.execute(f"ATTACH '{release_secure_db}' AS sec (READ_ONLY)")
        n_release = peers_table.write_peers(con, source="sec")
    assert n_secure == n_release
    return {"secure": secure, "release": release}


def test_peers_table_written_at_build_and_read_through_the_data_layer(peers_databases):
    import duckdb

    from atlas import data, policy
    from etl.peers import load_peer_config

    k = int(load_peer_config()["k"])
    with duckdb.connect(str(peers_databases["secure"]), read_only=True) as con:
        table = con.execute("SELECT * FROM peers ORDER BY code, rank").df()
        last = con.execute("SELECT max(year) FROM population_cube").fetchall()[0][0]
        munis = con.execute("SELECT count(DISTINCT municipality) FROM population_cube").fetchall()[0][0]
    assert len(table) == munis * k and set(table["year"]) == {last}
    assert (table.groupby("code")["rank"].apply(list) == [list(range(1, k + 1))] * munis).all()
    for kind, path in peers_databases.items():
        with app_on(path):
            assert data.source().kind == kind
            read = data.source().peers()
            assert read is not None and read[["code", "peer", "rank"]].to_numpy().tolist() == \
                table[["code", "peer", "rank"]].to_numpy().tolist()
            code = int(table["code"].iloc[0])
            # one classification for every period: the period's own populations are not used
            assert policy.peers_of(code, 2013, 2013) == list(table.loc[table["code"] == code, "peer"])


def test_the_builds_write_the_table_and_a_database_without_it_falls_back_to_computing(database, tmp_path):
    import shutil

    import duckdb

    from atlas import data, policy, profile

    written = data.source().peers()                     # both builds write it (etl/peers_table.py)
    assert written is not None and len(written) == 98 * 5
    # an older database without the table: the peers are worked out from the published populations
    path = os.environ["ATLAS_DB"]
    older = tmp_path / "older.duckdb"
    shutil.copy(path, older)
    with duckdb.connect(str(older)) as con:
        con.execute("DROP TABLE peers")
    with app_on(older):
        assert data.source().kind == database and data.source().peers() is None
        a, b = profile.default_period()
        assert len(policy.peers_of(101, a, b)) == 5


# ---------------------------------------------------------------- comparable municipalities as a comparator

def _pooled_rate(codes, measure, y0, y1):
    from atlas import data
    from atlas.filters import View

    tbl, nat = data.source().area_table(View(measure=measure, level="municipality", y0=y0, y1=y1))
    p = tbl[tbl["code"].isin(codes) & ~tbl["hidden"].fillna(True).astype(bool) & tbl["num_shown"].notna()]
    return float(p["num_shown"].sum() / p["expected"].sum() * nat["value"]), tbl


def test_compare_page_adds_the_peers_together_as_a_comparator(database):
    import app  # noqa: F401
    import pages.compare as page
    from atlas import compare_state, policy

    state = compare_state.read_hash("#areas=330&peers=1")
    assert state["peers"] and state["areas"] == [330]
    assert compare_state.read_hash(compare_state.write_hash(state)) == state
    assert not compare_state.read_hash("#level=region&peers=1")["peers"]
    near = policy.peers_of(330, *state["period"])
    assert len(near) == 5
    want, _ = _pooled_rate(near, "imaging_rate", *state["period"])
    out = page.side_section(state, "en")
    note, table = out[1], out[2]
    assert "Comparable municipalities of Slagelse" in note.children
    head = [c.children for c in table.children[0].children.children]
    assert head[2] == "Comparable municipalities of Slagelse (pooled)" and head[-1] == "Denmark"
    from atlas.measures import MEASURES

    row = next(r for r in table.children[1].children if r.children[0].children == MEASURES["imaging_rate"].name("en"))
    assert row.children[2].children[0] == f"{want:,.1f}"
    da = page.side_section(state, "da")
    assert "Sammenlignelige kommuner for Slagelse" in da[1].children
    # without the switch, one area is not enough
    assert page.side_section({**state, "peers": False}, "en").id == "compare-empty"


def test_funnel_against_the_peers(database):
    import pages.atlas as page
    from atlas import policy, profile, state
    from atlas.filters import View
    from atlas.measures import MEASURES

    a, b = profile.default_period()
    view = View(y0=a, y1=b, area=330, funnel="peers")
    near = policy.peers_of(330, a, b)
    level_rate, tbl = _pooled_rate(near, "imaging_rate", a, b)
    shown = tbl[tbl["code"].isin([330, *near]) & ~tbl["hidden"].fillna(True).astype(bool)]
    peers = shown[shown["code"].isin(near)]
    level = float(peers["num_shown"].sum() / peers["expected"].sum())
    _, _, fig, *_ = page._area_outputs(view)
    fig = _figure_json(fig)
    target = [tr for tr in fig["data"] if str(tr.get("name", "")).startswith("Comparable municipalities of Slagelse")]
    assert len(target) == 1 and target[0]["y"][0] == pytest.approx(level)
    points = {int(c) for tr in fig["data"] if tr.get("mode") == "markers+text" for c in tr["customdata"]}
    assert points == set(shown["code"].astype(int))
    assert "Comparable municipalities of Slagelse" in fig["layout"]["title"]["text"].replace("<br>", " ")
    body = _csv_table("funnel", view)
    assert body.loc[body["code"].astype(str) == "330", "peer_target"].astype(float).iloc[0] == pytest.approx(level, abs=0.01)
    assert (body["peer_target"] != "").sum() == len(shown)
    assert "Slagelse and its comparable municipalities" in page.funnel_note(view)
    assert "compares with Denmark" in page.funnel_note(View(y0=a, y1=b, funnel="peers"))
    # the address keeps the target; a wrong value is refused and named
    codes = {330, 101}
    v, ignored = state.view_from_hash("#funnel=peers&area=330", "en", list(range(2013, 2025)), MEASURES, codes, set())
    assert v.funnel == "peers" and not ignored
    v, ignored = state.view_from_hash("#funnel=everyone", "en", list(range(2013, 2025)), MEASURES, codes, set())
    assert v.funnel == "denmark" and ignored == ["funnel"]
