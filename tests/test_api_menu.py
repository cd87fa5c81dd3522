"""Issue 28, item 1: every chart's download menu on the atlas page shows the open-data API address of
the figures the reader has on screen, and that address answers the same figures as the chart's CSV
download (both asked from the page, over HTTP, as the browser asks them), on the secure database and
on the release, in English and Danish."""
from __future__ import annotations

import base64
import io
import json

import pandas as pd
from helpers import dash_outputs
from test_api import _same_figures

from atlas.filters import View

API_CHARTS = ("map", "rank", "funnel", "trend", "breakdown", "mix")


def _hash(view: View) -> str:
    from atlas.coverage import default_year
    from atlas.state import hash_of

    return hash_of(view, default_year())


def _shown_addresses(page, view: View, search: str = "") -> dict[str, str]:
    """What each chart's menu shows after the page draws ``view``: the answer of the page's notes
    callback (the one that writes the menus' links) to ``view.data``."""
    dep = next(d for d in page.deps if "api-link-map.href" in d["output"])
    outputs = dash_outputs(dep["output"])
    values = {("view", "data"): _hash(view), ("atlas-url", "search"): search}
    payload = {"output": dep["output"], "outputs": outputs,
               "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in dep["inputs"]],
               "state": [{**s, "value": values.get((s["id"], s["property"]))} for s in dep["state"]],
               "changedPropIds": ["view.data"]}
    r = page.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    answer = r.get_json()["response"]
    shown = {}
    for chart in API_CHARTS:
        link = answer[f"api-link-{chart}"]
        assert link["href"] == link["children"], link          # the address is the link's visible text
        shown[chart] = link["href"]
    return shown


def _page_csv(page, chart: str, view: View, search: str = "") -> pd.DataFrame:
    """The chart's CSV as the page's download button gives it."""
    dep = next(d for d in page.deps if '"type":"download"' in d["output"])
    btn = {"chart": chart, "type": "download-btn"}
    payload = {"output": dep["output"], "outputs": {"id": {"chart": chart, "type": "download"}, "property": "data"},
               "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
               "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
               "state": [{"id": s["id"], "property": s["property"], "value": v}
                         for s, v in zip(dep["state"], (_hash(view), search))]}
    r = page.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    (data,) = [v["data"] for v in r.get_json()["response"].values()]
    content = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()
    sep = ";" if "lang=da" in search else ","
    return pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", sep=sep, dtype=str, keep_default_na=False)


def _api(page, address: str) -> dict:
    r = page.get(address)
    assert r.status_code == 200, (address, r.status_code, r.get_data(as_text=True)[:300])
    return r.get_json()


def _year(page) -> int:
    return _api(page, "/api/v1/periods")["default_year"]


def test_the_layout_shows_an_api_address_in_every_api_charts_menu(page):
    """Before any callback: each menu already holds the default view's address, in the page's language."""
    from pages.atlas import layout

    for lang, head in (("en", "The same figures for programs"), ("da", "De samme tal til programmer")):
        text = json.dumps(layout(lang=lang).to_plotly_json(), default=lambda o: o.to_plotly_json())
        assert head in text
        for chart in API_CHARTS:
            assert f'"api-link-{chart}"' in text and f'"api-menu-{chart}"' in text
        assert ("lang=da" in text) == (lang == "da")
    assert '"api-link-clusters"' not in text            # the clusters are computed on request, not in the API


def test_the_shown_address_answers_the_charts_csv_figures(page):
    """Map (and ranking and funnel: the same table), trend, population groups and mix: the address the
    menu shows for the reader's view answers exactly the figures of that chart's CSV download."""
    y = _year(page)
    cases = [(View(y0=y, y1=y), ("map", "rank", "funnel", "breakdown")),
             (View(y0=2022, y1=2024).with_dim("sex", 2), ("map",)),
             (View(measure="mri_share", level="region", y0=y, y1=y), ("map",)),
             (View(y0=y, y1=y, area=101), ("trend",)),
             (View(level="region", y0=y, y1=y, area=1084), ("mix",))]
    compared = {}
    for view, charts in cases:
        shown = _shown_addresses(page, view)
        for chart in charts:
            address = shown[chart]
            table = _page_csv(page, chart, view)
            assert table["API"].iloc[0] == address, (chart, view)     # the menu's address is the file's
            body = _api(page, address)
            keys = {"trend": lambda r: (int(r["year"]), int(r["code"])),
                    "mix": lambda r: (int(r["code"]), r["measure_name"]),
                    "breakdown": lambda r: ((r["dimension"], str(r["group_name"])) if isinstance(r, dict)
                                            else (r["dimension"], r["group"]))}.get(chart, lambda r: int(r["code"]))
            if chart == "breakdown":
                from atlas.i18n import label

                body = {**body, "data": [{**r, "dimension": label("dimension", r["dimension"], "en")}
                                         for r in body["data"]]}
            compared[chart] = compared.get(chart, 0) + _same_figures(body["data"], table, keys)
    assert compared["map"] >= 50 and compared["trend"] >= 5 and compared["mix"] >= 5, compared
    assert compared["breakdown"] >= 5, compared


def test_the_address_follows_the_view_on_screen(page):
    """A change of view changes every affected address; in Danish the address asks for Danish words."""
    y = _year(page)
    before = _shown_addresses(page, View(y0=y, y1=y))
    after = _shown_addresses(page, View(measure="mri_share", level="region", y0=y, y1=y))
    assert "measure=mri_share" in after["map"] and "level=region" in after["map"]
    assert before["map"] != after["map"] and before["trend"] != after["trend"]
    da = _shown_addresses(page, View(y0=y, y1=y), "?lang=da")
    for chart in API_CHARTS:
        assert "lang=da" in da[chart] and da[chart].replace("&lang=da", "") == before[chart]
    body = _api(page, da["map"])
    assert body["data"][-1]["name"] == "Danmark"
    table = _page_csv(page, "map", View(y0=y, y1=y), "?lang=da")
    assert table["API"].iloc[0] == da["map"]


def test_an_unpublished_view_shows_the_address_of_what_the_chart_shows(page):
    """On the release a view it does not publish is drawn as the nearest published one: the menu shows
    that one's address (which answers), the same as the CSV's."""
    from atlas import data

    view = View(level="municipality", y0=2023, y1=2023).with_dim("edu", 1).with_dim("sex", 1)
    shown = _shown_addresses(page, view)
    served = data.source().nearest(view)[0]
    assert ("edu=1" in shown["map"]) == ("edu" in dict(served.dims))
    assert _api(page, shown["map"])["rows"] == len(_page_csv(page, "map", view))
    assert _page_csv(page, "map", view)["API"].iloc[0] == shown["map"]
