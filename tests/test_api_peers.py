"""Issue 27: the open-data API answers the funnel plot against a municipality's comparable
municipalities (``funnel=peers``) as the page shows it. The address the funnel's menu shows for a
view with ``funnel=peers`` and a selected municipality answers the same peers, the same pooled level
and the same verdicts as the funnel's CSV download, on the secure database and on the release."""
from __future__ import annotations

from dataclasses import replace

from test_api_menu import _api, _page_csv, _shown_addresses, _year

from atlas.filters import View


def _with_peer_funnel(view: View) -> tuple[View, dict]:
    """The first municipality whose peer funnel is drawn with at least two peers, and its verdicts."""
    from atlas import db, peer_funnel, queries
    from atlas.measures import MEASURES

    tbl = queries.area_table(view)[0]
    for code in sorted(db.level_codes()["municipality"]):
        v = replace(view, area=code, funnel="peers")
        got = peer_funnel.verdicts(tbl, v, MEASURES[v.measure])
        if got is not None and len(got[1]) >= 3:
            return v, got
    raise AssertionError("no municipality with a peer funnel of at least two peers")


def test_the_funnel_menu_address_answers_the_peer_funnel_of_the_csv(page):
    y = _year(page)
    compared = 0
    for base in (View(y0=y, y1=y), View(measure="mri_share", y0=2022, y1=2024)):
        view, (target, flags) = _with_peer_funnel(base)
        shown = _shown_addresses(page, view)
        address = shown["funnel"]
        assert "funnel=peers" in address and f"area={view.area}" in address, address
        assert "funnel=peers" not in shown["map"]            # the map's table is the plain table of areas
        table = _page_csv(page, "funnel", view)
        assert table["API"].iloc[0] == address
        body = _api(page, address)
        assert body["funnel"]["drawn"] is True and body["funnel"]["area"] == view.area
        assert body["view"]["funnel"] == "peers"
        assert "peer_funnel_flag" in body["columns"] and "peer_target" in body["columns"]
        assert body["data"][0]["code"] == view.area          # the selected municipality first, then its peers
        assert {r["code"] for r in body["data"]} == {view.area, *body["funnel"]["peers"]}
        csv_rows = {int(c): r for c, r in zip(table["code"].replace("", "0"), table.to_dict("records"))}
        plotted = 0
        for row in body["data"]:
            c = csv_rows[row["code"]]
            assert (row["peer_funnel_flag"] is None) == (c["peer_funnel_flag"] == ""), (row, c)
            if row["peer_funnel_flag"] is None:
                assert row["peer_target"] is None
                continue
            from atlas.i18n import t

            assert t(row["peer_funnel_flag"], "en") == c["peer_funnel_flag"], (row, c)
            assert abs(row["peer_target"] - float(c["peer_target"])) <= 0.005 + 1e-9, (row["peer_target"], c["peer_target"])
            assert row["funnel_flag"] is None or t(row["funnel_flag"], "en") == c["funnel_flag"]   # still Denmark's
            assert row["count"] == int(c["count"])
            plotted += 1
        # every point the page plots is in the answer, and only those carry a verdict
        assert plotted == len(flags) == sum(1 for v in table["peer_funnel_flag"] if v), (plotted, flags)
        compared += plotted
    assert compared >= 6


def test_the_peer_funnel_flags_are_against_the_peers_not_denmark(page):
    """Against a level other than Denmark's at least one verdict differs from the funnel against
    Denmark somewhere among the municipalities (else the answer would be Denmark's flags again)."""
    from atlas import db, peer_funnel, queries
    from atlas.measures import MEASURES

    y = _year(page)
    view = View(y0=2022, y1=2024) if page.kind == "release" else View(y0=y, y1=y)
    tbl = queries.area_table(view)[0]
    denmark = dict(zip(tbl["code"].astype(int), tbl["flag"].astype(str)))
    differs = []
    for code in sorted(db.level_codes()["municipality"]):
        got = peer_funnel.verdicts(tbl, replace(view, area=code, funnel="peers"), MEASURES[view.measure])
        if got is None:
            continue
        target, flags = got
        assert abs(target - 1.0) > 1e-9 or not flags      # the peers' pooled ratio, not Denmark's 1
        differs += [c for c, f in flags.items() if f != denmark[c]]
        if differs:
            v = replace(view, area=code, funnel="peers")
            body = _api(page, _shown_addresses(page, v)["funnel"])
            rows = {r["code"]: r for r in body["data"]}
            c = differs[0]
            assert rows[c]["peer_funnel_flag"] == flags[c] != rows[c]["funnel_flag"], rows[c]
            return
    raise AssertionError("no peer verdict differs from Denmark's anywhere")


def test_funnel_peers_needs_a_municipality(page):
    y = _year(page)
    for query, parameter in ((f"funnel=peers&y0={y}&y1={y}", "area"),
                             (f"funnel=peers&level=region&area=1084&y0={y}&y1={y}", "level"),
                             (f"funnel=everyone&y0={y}&y1={y}", "funnel")):
        r = page.get("/api/v1/data?" + query)
        assert r.status_code == 400, (query, r.status_code)
        assert r.get_json()["error"]["parameter"] == parameter, r.get_json()
    # at the other endpoints funnel is a page key that changes no figure
    plain = page.get(f"/api/v1/trend?area=101&y0={y}&y1={y}").get_json()["data"]
    assert page.get(f"/api/v1/trend?area=101&funnel=peers&y0={y}&y1={y}").get_json()["data"] == plain
