"""The cold first view of ``/recent-trends`` and of the area profile (issue 27), measured in a fresh
interpreter on one database through the app's own callbacks (``POST /_dash-update-component`` on
Flask's test client, the payloads built from the app's ``/_dash-dependencies``, no HTTP server):

- ``/recent-trends``: for each measure asked and each level the page offers, the page's routing
  callback (its layout), then ``sync`` and ``draw`` for the view's address, each timed, with every
  cache of the process forgotten before the view (``atlas.db.reset_caches``: as a fresh worker);
  then the same view in Danish (kept: the trends already read);
- the area profile: each region and a fixed sample of municipalities, the routing callback of
  ``/area/<code>`` (the profile is drawn in its layout), cold as above, then again in Danish; and,
  cold again, its recent trends alone (``policy_view.profile_recent``: the part that reads every
  year's table of areas; the rest of the profile reads one period's tables and each measure's trend).

``python -m bench --policy-cost`` runs it after the markers (bench/policy_cost.py) on ``--policy-db``;
``make bench`` on both bench databases (``policy_pages``, ``release_policy_pages``).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from bench.callbacks import summary, summary_line
from bench.processes import run_child

RECENT_LEVELS = ("municipality", "region")      # the levels /recent-trends offers
PROFILES = 10                                    # profiles timed: the regions, then every k-th municipality by code


def _components(node, id_type: str) -> list[dict]:
    """Every component in a layout's JSON whose id is a dict of ``type`` ``id_type`` (its props)."""
    found = []
    if isinstance(node, dict):
        props = node.get("props") if isinstance(node.get("props"), dict) else None
        if props and isinstance(props.get("id"), dict) and props["id"].get("type") == id_type:
            found.append(props)
        for v in node.values():
            found.extend(_components(v, id_type))
    elif isinstance(node, list):
        for v in node:
            found.extend(_components(v, id_type))
    return found


class _Pages:
    """The callbacks a browser calls on a first view of a policy page or a profile."""

    def __init__(self, client):
        self.client = client
        deps = client.get("/_dash-dependencies").get_json()
        self.route = next(d for d in deps if d["output"].startswith(".._pages_content.children"))
        self.sync = next(d for d in deps if "pol-notice.children" in d["output"])
        self.draw = next(d for d in deps if "pol-words.children" in d["output"])

    def _post(self, body: dict) -> tuple[float, dict]:
        t0 = time.perf_counter()
        r = self.client.post("/_dash-update-component", json=body)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{body['output'][:60]} answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
        return ms, r.get_json()

    def layout(self, path: str, search: str) -> tuple[float, dict]:
        body = {"output": self.route["output"],
                "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                           {"id": "_pages_location", "property": "search", "value": search}],
                "state": [], "changedPropIds": ["_pages_location.pathname"]}
        ms, out = self._post(body)
        return ms, out["response"]["_pages_content"]["children"]

    def policy(self, page: str, hash_: str, search: str, layout: dict) -> tuple[float, float]:
        """``sync`` then ``draw`` of a policy page for ``hash_`` (the controls as the layout has them)."""
        controls = _components(layout, "pol-control")
        charts = _components(layout, "pol-graph")
        sync = {"output": self.sync["output"],
                "outputs": [{"id": "pol-url", "property": "hash"},
                            [{"id": c["id"], "property": "value"} for c in controls],
                            {"id": "pol-notice", "property": "children"}],
                "inputs": [{"id": "pol-url", "property": "hash", "value": hash_},
                           [{"id": c["id"], "property": "value", "value": c.get("value")} for c in controls]],
                "state": [{"id": "pol-page", "property": "data", "value": page},
                          {"id": "pol-url", "property": "search", "value": search}],
                "changedPropIds": ["pol-url.hash"]}
        draw = {"output": self.draw["output"],
                "outputs": [{"id": "pol-words", "property": "children"},
                            [{"id": c["id"], "property": "figure"} for c in charts],
                            {"id": "pol-tables", "property": "children"}, {"id": "pol-downloads", "property": "children"}],
                "inputs": [{"id": "pol-url", "property": "hash", "value": hash_}],
                "state": [{"id": "pol-page", "property": "data", "value": page},
                          {"id": "pol-url", "property": "search", "value": search}],
                "changedPropIds": ["pol-url.hash"]}
        return self._post(sync)[0], self._post(draw)[0]


def child_policy_pages(db_path: str, measures: list[str] | None = None, profiles: int = PROFILES) -> dict:
    """In the child: the cold first views of /recent-trends and the profile on ``db_path`` (``profiles``
    profiles: the regions first, then municipalities spread over the codes)."""
    os.environ["ATLAS_DB"] = db_path
    os.environ.pop("ATLAS_ANSWER_CACHE", None)          # every answer computed, none kept across views
    import app as app_module
    from atlas import data, db, policy_view

    client = _Pages(app_module.server.test_client())
    src = data.source()
    load_start = [round(x, 2) for x in os.getloadavg()]
    views = [(measure, level, policy_view.write_hash("recent", {**policy_view.defaults("recent"), "measure": measure,
                                                                 "level": level}))
             for measure in src.measures() if measures is None or measure in measures for level in RECENT_LEVELS]
    recent = []
    for measure, level, hash_ in views:
        db.reset_caches()                             # a fresh worker: nothing read, nothing kept
        layout_ms, layout = client.layout("/recent-trends", "")
        sync_ms, draw_ms = client.policy("recent", hash_, "", layout)
        _, layout_da = client.layout("/recent-trends", "?lang=da")
        sync_da, draw_da = client.policy("recent", hash_, "?lang=da", layout_da)
        recent.append({"measure": measure, "level": level, "layout_ms": round(layout_ms, 2),
                       "sync_ms": round(sync_ms, 2), "draw_ms": round(draw_ms, 2),
                       "first_view_ms": round(layout_ms + sync_ms + draw_ms, 2),
                       "danish_again_ms": round(sync_da + draw_da, 2)})
    a = db.areas()
    regions = sorted(int(c) for c in a[a.level == "region"].code)
    municipalities = sorted(int(c) for c in a[a.level == "municipality"].code)
    n_mun = max(0, profiles - len(regions))
    step = max(1, len(municipalities) // n_mun) if n_mun else 1
    codes = (regions + municipalities[::step][:n_mun])[:profiles]
    profiles = []
    for code in codes:
        level = "region" if code in regions else "municipality"
        db.reset_caches()
        cold, _ = client.layout(f"/area/{code}", "")
        again, _ = client.layout(f"/area/{code}", "?lang=da")
        db.reset_caches()                                 # its recent trends alone (the key findings' verdicts), cold
        t0 = time.perf_counter()
        policy_view.profile_recent(code, level, "en")
        recent_part = (time.perf_counter() - t0) * 1000
        profiles.append({"code": code, "level": level, "cold_ms": round(cold, 2), "danish_again_ms": round(again, 2),
                         "recent_part_cold_ms": round(recent_part, 2)})
    out = {"recent_first_view_ms": summary([r["first_view_ms"] for r in recent]),
           "recent_layout_ms": summary([r["layout_ms"] for r in recent]),
           "recent_sync_ms": summary([r["sync_ms"] for r in recent]),
           "recent_draw_ms": summary([r["draw_ms"] for r in recent]),
           "recent_danish_again_ms": summary([r["danish_again_ms"] for r in recent]),
           "profile_cold_ms": summary([r["cold_ms"] for r in profiles]),
           "profile_recent_part_cold_ms": summary([r["recent_part_cold_ms"] for r in profiles]),
           "profile_danish_again_ms": summary([r["danish_again_ms"] for r in profiles])}
    return {"database": src.kind, "recent": recent, "profiles": profiles, "summary": out,
            "load_average_at_start": load_start, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def policy_pages_step(db_path: Path, work: Path, echo: bool = True, measures: tuple[str, ...] | None = None,
                      profiles: int = PROFILES) -> dict:
    """The measurement in a child process (a fresh interpreter), with its load."""
    r = run_child("policy_pages", {"db_path": str(db_path), "measures": list(measures) if measures else None,
                                   "profiles": profiles}, work, echo=echo)
    keep = ("database", "recent", "profiles", "summary", "load_average_at_start", "load_average_at_end",
            "wall_seconds", "cpu_seconds")
    return {k: r[k] for k in keep if k in r}


def rows_of(p: dict, title: str) -> list[str]:
    """The measurement's lines of the benchmark's table."""
    s = p["summary"]

    def line(label: str, key: str) -> str:
        return summary_line(label, s.get(key), width=52, count=True)

    return [f"{title}: cold first views (every cache forgotten before each), load {p.get('load_average_at_start')}"
            f" -> {p.get('load_average_at_end')}",
            line("/recent-trends: layout + sync + draw", "recent_first_view_ms"),
            line("/recent-trends: layout", "recent_layout_ms"),
            line("/recent-trends: draw", "recent_draw_ms"),
            line("/recent-trends: the same view in Danish (kept)", "recent_danish_again_ms"),
            line("area profile: layout, cold", "profile_cold_ms"),
            line("area profile: its recent trends alone, cold", "profile_recent_part_cold_ms"),
            line("area profile: the same in Danish (kept)", "profile_danish_again_ms")]
