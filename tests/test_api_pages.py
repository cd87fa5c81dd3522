"""Issue 28: the pathways page's and the return-letters page's charts in the open-data API
(``/api/v1/pathways/...``, ``/api/v1/returns/...``), on the secure database and on the release.

As for the atlas page (tests/test_api_menu.py), everything is asked from the pages over HTTP as the
browser asks it: the address each chart's "API" menu shows for the view on screen is the address
the chart's CSV download carries, and that address answers exactly the figures of the CSV. A hidden
cell of the page is hidden in the API (no number); every answer names its release (and on the
secure database is marked inside-only) and carries the marks of incomplete years and breaks.
"""
from __future__ import annotations

import base64
import io
import json

import pandas as pd
import pytest
from helpers import dash_call, dash_outputs

from atlas.filters import View

MARK = "Inside the secure environment only: not output-checked"
PATHWAY_CHARTS = ("sankey", "pathways", "repeat", "providers", "lowvalue", "referrer", "areas")
RETURN_CHARTS = ("exam", "its", "centres", "summary")
HIDDEN = ("hidden", "small", "protect", "unpublished")


# ----------------------------------------------------------------------------- asking the pages

def _post(page, dep: dict, inputs: dict, state: dict, changed: list[str]) -> dict:
    outputs = dash_outputs(dep["output"])
    payload = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
               "inputs": [{**i, "value": inputs.get((json.dumps(i["id"], sort_keys=True, separators=(",", ":"))
                                                      if isinstance(i["id"], dict) else i["id"], i["property"]))}
                          for i in dep["inputs"]],
               "state": [{**s, "value": state.get((s["id"], s["property"]))} for s in dep["state"]],
               "changedPropIds": changed}
    r = page.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()["response"]


def _menus(page, prefix: str, charts, store: str, state: str, search: str = "") -> dict[str, str]:
    """What each chart's API menu shows once the page holds ``state`` in its view store."""
    dep = next(d for d in page.deps if f"{prefix}api-link-{charts[0]}.href" in d["output"])
    answer = _post(page, dep, {(store, "data"): state}, {(prefix + "url", "search"): search}, [f"{store}.data"])
    shown = {}
    for chart in charts:
        link = answer[f"{prefix}api-link-{chart}"]
        assert link["href"] == link["children"], link          # the address is the link's visible text
        shown[chart] = link["href"]
    return shown


def _csv(page, prefix: str, chart: str, store: str, state: str, search: str = "") -> pd.DataFrame:
    """The chart's CSV as the page's download button gives it (flat: the header items as columns)."""
    dep = next(d for d in page.deps if f'"type":"{prefix}download"' in d["output"])
    btn = json.dumps({"chart": chart, "type": f"{prefix}download-btn"}, sort_keys=True, separators=(",", ":"))
    payload = {"output": dep["output"], "outputs": {"id": {"chart": chart, "type": f"{prefix}download"},
                                                    "property": "data"},
               "inputs": [{"id": json.loads(btn), "property": "n_clicks", "value": 1}],
               "changedPropIds": [btn + ".n_clicks"],
               "state": [{"id": s["id"], "property": s["property"], "value": v}
                         for s, v in zip(dep["state"], (state, search))]}
    r = page.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    (data,) = [v["data"] for v in r.get_json()["response"].values()]
    content = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()
    sep = ";" if "lang=da" in search else ","
    return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=sep, dtype=str, keep_default_na=False)


def _api(page, address: str, status: int = 200) -> dict:
    r = page.get(address)
    assert r.status_code == status, (address, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json"
    return r.get_json()


def _int(x: str):
    return None if x == "" else int(x)


def _close(a, c: str) -> bool:
    """An API figure against the CSV's (two decimals there): equal within rounding, or both missing."""
    return (a is None and c == "") or (a is not None and c != "" and abs(a - float(c)) <= 0.005 + 1e-9)


# ----------------------------------------------------------------------------- the pathways page

def _pathway_state(view: View, win: int) -> str:
    from atlas import pathways as P

    return P.hash_of(view, win)


def _same_pathway_figures(chart: str, body: dict, table: pd.DataFrame) -> dict:
    """Each figure of the chart's CSV against the API's row of the same key; returns what was compared
    (``shown``: figures with a number, ``hidden``: cells hidden on the page and in the API)."""
    from atlas.i18n import label, t

    rows, seen = body["data"], {"shown": 0, "hidden": 0}

    def check_hidden(a: dict, csv_empty: bool, note: str):
        if a["status"] in HIDDEN:
            assert csv_empty and note, (a, note)
            seen["hidden"] += 1
        else:
            assert not note, (a, note)

    if chart == "sankey":
        assert len(rows) == len(table)
        for a, (_, c) in zip(rows, table.iterrows()):
            assert (a["source_name"], a["target_name"]) == (c["source"], c["target"])
            assert a["count"] == _int(c["count"]), (a, dict(c))
            check_hidden(a, c["count"] == "", c["note"])
            assert t("yes" if a["complete"] else "no", "en") == c["complete"]
            seen["shown"] += a["count"] is not None
    elif chart == "pathways":
        by_row: dict = {}
        for a in rows:
            by_row.setdefault((a["referrer_name"], a["modality_name"]), {})[a["outcome"]] = a
        assert list(by_row) == list(zip(table["referrer"], table["modality"]))
        for _, c in table.iterrows():
            cells = by_row[(c["referrer"], c["modality"])]
            assert cells["episodes"]["count"] == _int(c["episodes"])
            for outcome in ("surgery", "rehabilitation", "diagnosis", "none", "hidden"):
                a, name = cells[outcome], label("outcome", outcome, "en")
                assert a["count"] == _int(c[f"{name} (n)"]), (a, dict(c))
                assert _close(a["share"], c[f"{name} (%)"]), (a, dict(c))
                if a["status"] in HIDDEN:
                    assert a["count"] is None and a["share"] is None
                    seen["hidden"] += 1
                seen["shown"] += a["count"] is not None
            assert t("yes" if cells["episodes"]["complete"] else "no", "en") == c["complete"]
    else:
        keys = {"referrer": lambda r: (r["measure_name"], r["referrer_name"], int(r["code"])),
                "areas": lambda r: (r["measure_name"], int(r["code"]))}.get(
            chart, lambda r: (r["measure_name"], int(r["year"]), int(r["code"])))
        assert len(rows) == len(table)
        by_key = {keys(r): r for r in rows}
        assert len(by_key) == len(rows)
        for _, c in table.iterrows():
            c = c.rename({"measure": "measure_name", "referrer": "referrer_name"})
            a = by_key[keys(c)]
            assert (a["status_text"] or "") == c["note"], (a, dict(c))
            if a["status"] in HIDDEN:
                # hidden on the page (no rate, the count or the denominator left out) and in the API, which
                # gives a hidden cell no number at all, as for the atlas's charts (docs/api.md)
                assert all(a[f] is None for f in ("count", "denominator", "value", "lower", "upper")), a
                assert c["value"] == c["lower"] == c["upper"] == "" and "" in (c["count"], c["denominator"]), dict(c)
                seen["hidden"] += 1
                continue
            for f in ("count", "denominator"):
                assert a[f] == _int(c[f]), (f, a, dict(c))
            for f in ("value", "lower", "upper"):
                assert _close(a[f], c[f]), (f, a, dict(c))
            assert t("yes" if a["complete"] else "no", "en") == c["complete"]
            seen["shown"] += a["value"] is not None
    return seen


def _pathway_views(page) -> list[tuple[View, int]]:
    """Views the page shows as they are on both databases: Denmark in the default year, a region of
    2027... in a 3-year period (the release publishes regions' pathways for 3-year periods only)."""
    from atlas import coverage

    y = coverage.default_year()
    return [(View(y0=y, y1=y), 365), (View(level="region", area=1081, y0=2022, y1=2024), 90),
            (View(level="region", area=1084, y0=2022, y1=2024), 365)]


def test_pathways_menus_show_the_address_that_answers_the_csv_figures(page):
    """Every chart of /pathways: the menu's address is the CSV's ``API`` column, and it answers the
    CSV's figures, hidden cells hidden."""
    from atlas import data

    seen = {"shown": 0, "hidden": 0}
    for view, win in _pathway_views(page):
        assert data.source().nearest_pathways(view)[1] == []            # the page shows this view as it is
        state = _pathway_state(view, win)
        shown = _menus(page, "pw-", PATHWAY_CHARTS, "pw-view", state)
        for chart in PATHWAY_CHARTS:
            table = _csv(page, "pw-", chart, "pw-view", state)
            assert table["API"].iloc[0] == shown[chart], chart
            body = _api(page, shown[chart])
            assert body["chart"] == chart and body["rows"] == len(body["data"])
            got = _same_pathway_figures(chart, body, table)
            seen = {k: seen[k] + got[k] for k in seen}
    assert seen["shown"] >= 200, seen
    if page.kind == "release":
        assert seen["hidden"] >= 1, seen          # the comparison met hidden cells
    else:
        assert seen["hidden"] == 0, seen          # exact figures: nothing hidden


def test_pathways_addresses_follow_the_view_and_the_language(page):
    from atlas import coverage

    y = coverage.default_year()
    en = _menus(page, "pw-", PATHWAY_CHARTS, "pw-view", _pathway_state(View(y0=y, y1=y), 365))
    da = _menus(page, "pw-", PATHWAY_CHARTS, "pw-view", _pathway_state(View(y0=y, y1=y), 365), "?lang=da")
    w90 = _menus(page, "pw-", PATHWAY_CHARTS, "pw-view", _pathway_state(View(y0=y, y1=y), 90))
    for chart in PATHWAY_CHARTS:
        assert da[chart] == en[chart] + "&lang=da"
        # only the Sankey and the table depend on the follow-up window
        assert (w90[chart] != en[chart]) == (chart in ("sankey", "pathways")), chart
    assert "win=90" in w90["sankey"] and "/api/v1/pathways/flows?" in w90["sankey"]
    body = _api(page, da["areas"])
    assert body["data"][0]["name"] == "Danmark" and body["data"][0]["level"] == "denmark"
    table = _csv(page, "pw-", "sankey", "pw-view", _pathway_state(View(y0=y, y1=y), 365), "?lang=da")
    assert table["API"].iloc[0] == da["sankey"]


def test_the_layout_shows_an_api_menu_beside_every_csv_download(page):
    """Before any callback each menu holds the default view's address, in the page's language (on
    each database: the layout reads its default year)."""
    from pages.pathways import layout as pathways_layout
    from pages.returns import layout as returns_layout

    for layout, prefix, charts in ((pathways_layout, "pw-", PATHWAY_CHARTS), (returns_layout, "ret-", RETURN_CHARTS)):
        for lang, head in (("en", "The same figures for programs"), ("da", "De samme tal til programmer")):
            text = json.dumps(layout(lang=lang).to_plotly_json(), default=lambda o: o.to_plotly_json())
            assert head in text
            for chart in charts:
                assert f'"{prefix}api-link-{chart}"' in text and f'"{prefix}api-menu-{chart}"' in text
            assert ("lang=da" in text) == (lang == "da")


def test_a_view_the_release_does_not_show_is_a_404_naming_the_one_the_page_shows(page):
    """The page moves an unpublished view to the nearest published one, and its menus show that
    view's address; the API answers the unpublished view with a 404 whose ``nearest`` is that address."""
    from atlas import coverage

    y = coverage.default_year()
    out = dash_call(page, "pw-view.data", {"pw-url.hash": f"#area=101&sex=2&y0={y}&y1={y}"}, "pw-url.hash")
    state = out["pw-view"]["data"]
    shown = _menus(page, "pw-", PATHWAY_CHARTS, "pw-view", state)
    asked = f"/api/v1/pathways/flows?level=municipality&area=101&y0={y}&y1={y}&win=365&sex=2"
    if page.kind == "secure":
        assert "area=101" in state and "sex=2" in state                     # nothing moves inside
        assert _api(page, asked)["data"]
        return
    assert "area=101" not in state and "sex" not in state
    err = _api(page, asked, 404)["error"]
    assert err["code"] == "not_published" and err["nearest"] == shown["sankey"], (err, shown)
    assert _api(page, err["nearest"])["rows"] > 0


def test_pathway_answers_say_what_they_are(page):
    from atlas import db

    rid = db.meta().get("release_id")
    body = _api(page, "/api/v1/pathways/flows?level=region&area=1084&y0=2022&y1=2024&win=365")
    assert body["release"]["id"] == rid and body["release"]["database"] == page.kind
    assert (body["marking"] == MARK) == (page.kind == "secure")
    assert body["notes"]["protection"]
    # the follow-up window's incomplete years, and the register break its years span (LPR3, the referrer's coding)
    assert {i["year"] for i in body["incomplete_years"]} >= {2024}
    assert body["incomplete_in_view"] == [i for i in body["incomplete_years"] if 2022 <= i["year"] <= 2024]
    assert all(r["complete"] is False for r in body["data"])
    assert body["breaks"] and body["breaks_in_view"] == []
    across = _api(page, "/api/v1/pathways/flows?y0=2016&y1=2021") if page.kind == "secure" else None
    if across is not None:
        assert [b["year"] for b in across["breaks_in_view"]] == [2019] and "LPR3" in across["breaks_in_view"][0]["note"]
    trend = _api(page, "/api/v1/pathways/lowvalue?level=region&area=1084&y0=2022&y1=2024")
    assert {m["key"] for m in trend["measures"]} == {"lowvalue_rate", "lowvalue_share"}
    assert all(m["incomplete_years"] for m in trend["measures"])          # the look-back year
    rows = trend["data"]
    assert any(r["break"] for r in rows) and not all(r["complete"] for r in rows)
    assert {r["year"] for r in rows if r["break"]} == {2019}
    r = page.get("/api/v1/pathways/areas?level=region&y0=2022&y1=2024&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    table = pd.read_csv(io.StringIO(r.get_data(as_text=True)), dtype=str, keep_default_na=False)
    assert set(table["release_id"]) == {rid or ""} and ("marking" in table) == (page.kind == "secure")


@pytest.mark.parametrize("query, parameter", [
    ("flows?win=30", "win"), ("flows?level=moon", "level"), ("flows?measure=mri_share", "measure"),
    ("flows?area=1", "area"), ("repeat?y0=1999", "y0"), ("areas?sex=3", "sex"), ("outcomes?rates=crude", "rates"),
    ("flows?y0=2024&y1=2013", "y0"), ("referrer?format=xml", "format"),
])
def test_a_bad_pathways_parameter_is_a_400_naming_it(page, query, parameter):
    err = _api(page, "/api/v1/pathways/" + query, 400)["error"]
    assert err["parameter"] == parameter and parameter in err["message"], err


# ----------------------------------------------------------------------------- the return-letters page

def _return_state(**kw) -> str:
    from atlas.returns import ReturnsView

    return ReturnsView(**kw).to_hash()


def _same_return_figures(chart: str, body: dict, table: pd.DataFrame) -> dict:
    rows, seen = body["data"], {"shown": 0, "hidden": 0}
    assert len(rows) == len(table), (chart, len(rows), len(table))
    for a, (_, c) in zip(rows, table.iterrows()):
        if chart == "summary":
            assert a["producer_id"] == c["producer_id"]
            for part in ("_before", "_after"):
                for f in ("referrals", "count"):
                    assert a[f + part] == _int(c[f + part]), (f + part, a, dict(c))
                assert _close(a["rate" + part], c["rate" + part])
                seen["hidden"] += a["status" + part] == "hidden"
                seen["shown"] += a["count" + part] is not None
            continue
        assert a["month"] == c["month"], (a, dict(c))
        if chart == "exam":
            assert a["exam_name"] == c["exam_type"]
        if chart == "centres":
            assert a["producer_id"] == c["producer_id"]
        for f in ("referrals", "count"):
            assert a[f] == _int(c[f]), (f, a, dict(c))
        assert _close(a["rate"], c["rate"]), (a, dict(c))
        if chart == "its":
            assert _close(a["fitted"], c["fitted"]) and _close(a["counterfactual"], c["counterfactual"]), (a, dict(c))
            assert a["left_out_of_fit"] == bool(c["note"])
        elif a["status"] == "hidden":
            assert c["note"], (a, dict(c))
        if a["status"] == "hidden":
            assert a["count"] is None or a["referrals"] is None
            assert a["rate"] is None
            seen["hidden"] += 1
        seen["shown"] += a["count"] is not None
    return seen


def test_returns_menus_show_the_address_that_answers_the_csv_figures(page):
    from atlas import returns as R

    centre = R.centres()["producer_id"].iloc[0]
    seen = {"shown": 0, "hidden": 0}
    for kw in ({}, {"measure": "letters", "exam": "knee"}, {"centre": centre, "date": "2022-06-01"},
               {"exam": "head", "measure": "letters", "centre": centre}):
        state = _return_state(**kw)
        shown = _menus(page, "ret-", RETURN_CHARTS, "ret-view", state)
        for chart in RETURN_CHARTS:
            table = _csv(page, "ret-", chart, "ret-view", state)
            assert table["API"].iloc[0] == shown[chart], chart
            body = _api(page, shown[chart])
            assert body["chart"] == chart and body["view"]["measure"] == kw.get("measure", "returned")
            got = _same_return_figures(chart, body, table)
            seen = {k: seen[k] + got[k] for k in seen}
    assert seen["shown"] >= 300, seen
    if page.kind == "release":
        assert seen["hidden"] >= 1, seen
    else:
        assert seen["hidden"] == 0, seen


def test_the_regression_is_the_pages(page):
    """The series answer carries the segmented regression the page shows under its chart (and its CSV
    in its header): the same estimates, or the same reason there is none."""
    from atlas import returns as R

    view = R.ReturnsView()
    s, fit = R.its(view)
    body = _api(page, "/api/v1/returns/series")
    reg = body["regression"]
    assert reg["fitted"] is (fit is not None)
    if fit is not None:
        table = R.its_table(fit, "en")
        assert [x["name"] for x in reg["terms"]] == list(table["term"])
        for x, est in zip(reg["terms"], table["estimate"]):
            assert abs(x["estimate"] - est) < 1e-5
        assert reg["months"] == fit["n"] and reg["months_left_out"] == int(s["fill"].sum())
    # no letters before the campaign: no regression, for the reason the page gives
    s, fit = R.its(R.ReturnsView(measure="letters"))
    letters = _api(page, "/api/v1/returns/series?measure=letters&lang=da")["regression"]
    assert fit is None and letters["fitted"] is False and letters["text"] == R.no_fit_text(s, "da")
    assert letters["reason"] in ("ret_reason_flat", "ret_reason_hidden")


def test_returns_addresses_in_danish_and_bad_parameters(page):
    da = _menus(page, "ret-", RETURN_CHARTS, "ret-view", _return_state(measure="letters"), "?lang=da")
    assert all(a.endswith("&lang=da") and "measure=letters" in a for a in da.values())
    body = _api(page, da["exam"])
    assert body["measure"]["unit"] == "breve pr. 1.000 henvisninger" and body["data"][0]["exam_name"]
    assert body["links"]["page"] == "/returns?lang=da#measure=letters"
    for query, parameter in (("exam?measure=mri", "measure"), ("series?exam=foot", "exam"),
                             ("centres?centre=nowhere", "centre"), ("summary?date=1999-01-01", "date"),
                             ("summary?date=soon", "date"), ("exam?level=region", "level")):
        err = _api(page, "/api/v1/returns/" + query, 400)["error"]
        assert err["parameter"] == parameter and parameter in err["message"], err


def test_every_new_endpoint_is_listed_described_and_answers(page):
    from atlas.api.page_views import ENDPOINTS

    listed = _api(page, "/api/v1/")["endpoints"]
    doc = _api(page, "/api/v1/openapi.json")
    for name in ENDPOINTS:
        assert listed[name] == "/api/v1/" + name
        assert "/" + name in doc["paths"], name
        body = _api(page, listed[name])
        assert body["rows"] > 0 and body["release"]["database"] == page.kind
    assert _api(page, "/api/v1/pathways/nothing", 404)["error"]["code"] == "not_found"
    assert page.post("/api/v1/returns/exam").status_code == 405
