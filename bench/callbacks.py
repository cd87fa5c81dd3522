"""The app over HTTP, one request at a time: the first page load's weight, then each view's figure
callbacks cold and warm (see bench/README.md)."""
from __future__ import annotations

import gzip
import re
import time

from bench.payloads import CALLBACKS, callback_body, find_callbacks, router_body

# dcc components whose code the browser loads on demand, and the files it loads for them
ASYNC_CHUNKS = {
    "Graph": ("dash/dcc/async-graph.js", "plotly/package_data/plotly.min.js"),
    "Dropdown": ("dash/dcc/async-dropdown.js",),
    "RangeSlider": ("dash/dcc/async-slider.js",),
    "Slider": ("dash/dcc/async-slider.js",),
    "Markdown": ("dash/dcc/async-markdown.js", "dash/dcc/async-highlight.js"),
    "Upload": ("dash/dcc/async-upload.js",),
    "DatePickerRange": ("dash/dcc/async-datepicker.js",),
    "DatePickerSingle": ("dash/dcc/async-datepicker.js",),
}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    import numpy as np

    return round(float(np.percentile(values, q)), 1)


def summary(ms: list[float]) -> dict:
    """Count, p50, p95, p99, max and mean of latencies in milliseconds."""
    return {"n": len(ms), "p50_ms": _percentile(ms, 50), "p95_ms": _percentile(ms, 95), "p99_ms": _percentile(ms, 99),
            "max_ms": round(max(ms), 1) if ms else None, "mean_ms": round(sum(ms) / len(ms), 1) if ms else None}


def summary_line(label: str, v: dict | None, width: int = 44, count: bool = False) -> str:
    """One line of a benchmark table for a ``summary``: its label with p50 (and, with ``count``, how
    many), then p95 and max; a dash when nothing was measured."""
    v = v or {}
    if not v.get("n"):
        return f"    {label:<{width}}{'–':>12}"
    n = f" ({v['n']})" if count else ""
    head = f"{label}{n} p50 {v['p50_ms']} ms, p95"
    return f"    {head:<{width}}{v['p95_ms']:>9} ms   (max {v['max_ms']} ms)"


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def geojson_urls(obj) -> list[str]:
    """Every ``geojson`` given as a URL (not as data) anywhere in a callback's answer."""
    found = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            g = o.get("geojson")
            if isinstance(g, str):
                found.append(g)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return found


def page_load(session, url: str) -> dict:
    """Bytes of the first page load: HTML, scripts, layout and the figure JSON of the default view."""
    parts: dict[str, dict] = {}
    errors: list[str] = []

    def fetch(key, method, path, **kw):
        t0 = time.perf_counter()
        r = session.request(method, url + path, timeout=300, **kw)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            errors.append(f"{method} {path}: HTTP {r.status_code}")
        parts[key] = {"path": path, "status": r.status_code, "bytes": len(r.content), "gzip_bytes": _gz(r.content),
                      "ms": round(ms, 1)}
        return r

    html = fetch("html", "GET", "/").text
    scripts = [s for s in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) if s.startswith("/")]
    styles = [s for s in re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html) if s.startswith("/")]
    external = [s for s in re.findall(r'(?:src|href)="(https?://[^"]+)"', html)]
    for s in scripts + styles:
        fetch(f"script:{s}", "GET", s)
    fetch("layout", "GET", "/_dash-layout")
    deps = fetch("dependencies", "GET", "/_dash-dependencies").json()
    # the page itself comes from dash's pages router callback
    router, body = router_body(deps)
    if router is None:
        errors.append("no pages router in /_dash-dependencies")
    page = fetch("page_layout", "POST", "/_dash-update-component", json=body)
    types = set(re.findall(r'"type":\s*"([A-Za-z]+)"', page.text)) if page.status_code == 200 else {
        "Graph", "Dropdown", "RangeSlider"}        # the atlas page's own components, if the page failed
    chunks = sorted({f for t, files in ASYNC_CHUNKS.items() if t in types for f in files})
    for c in chunks:
        fetch(f"async:{c}", "GET", f"/_dash-component-suites/{c}")
    figure_ms = {}
    declared = find_callbacks(deps)
    for name in CALLBACKS:
        r = fetch(f"figure:{name}", "POST", "/_dash-update-component",
                  json=callback_body(name, "", dep=declared.get(name)))
        figure_ms[name] = parts[f"figure:{name}"]["ms"]
        if r.status_code == 200 and '"response"' not in r.text[:200]:
            errors.append(f"{name}: no response in the callback's answer")
        # map geometry the figure refers to by URL: the browser fetches it (once) to draw the map
        for geo_url in dict.fromkeys(geojson_urls(r.json()) if r.status_code == 200 else []):
            if geo_url.startswith("/") and f"geometry:{geo_url}" not in parts:
                fetch(f"geometry:{geo_url}", "GET", geo_url)
                parts[f"geometry:{geo_url}"]["figure"] = name

    def total(prefix, field="bytes"):
        return sum(v[field] for k, v in parts.items() if k.startswith(prefix))

    layout_keys = ("layout", "dependencies", "page_layout")
    return {
        "html_bytes": parts["html"]["bytes"],
        "scripts_bytes": total("script:"),
        "scripts_async_bytes": total("async:"),
        "layout_bytes": sum(parts[k]["bytes"] for k in layout_keys),
        "figure_json_bytes": parts["figure:draw_areas"]["bytes"],
        "figure_json_all_bytes": total("figure:"),
        "geometry_bytes": total("geometry:"),
        "figure_and_geometry_bytes": parts["figure:draw_areas"]["bytes"] + total("geometry:"),
        "figure_and_geometry_all_bytes": total("figure:") + total("geometry:"),
        "total_bytes": sum(v["bytes"] for v in parts.values()),
        "gzip": {"html_bytes": parts["html"]["gzip_bytes"], "scripts_bytes": total("script:", "gzip_bytes"),
                 "scripts_async_bytes": total("async:", "gzip_bytes"),
                 "layout_bytes": sum(parts[k]["gzip_bytes"] for k in layout_keys),
                 "figure_json_bytes": parts["figure:draw_areas"]["gzip_bytes"],
                 "figure_json_all_bytes": total("figure:", "gzip_bytes"),
                 "geometry_bytes": total("geometry:", "gzip_bytes"),
                 "figure_and_geometry_bytes": parts["figure:draw_areas"]["gzip_bytes"] + total("geometry:", "gzip_bytes"),
                 "figure_and_geometry_all_bytes": total("figure:", "gzip_bytes") + total("geometry:", "gzip_bytes")},
        "served_compressed": False,
        "default_view_ms": figure_ms,
        "external_not_fetched": external,
        "parts": parts,
        "errors": errors,
        "dependencies": deps,
    }


def callback_latencies(session, url: str, hashes: list[str], callbacks=CALLBACKS, declared: dict | None = None) -> dict:
    """Each view's callbacks sent once (cold: nothing cached for this view) and then again (warm).

    ``declared``: the callbacks' entries in ``/_dash-dependencies`` (see :func:`find_callbacks`)."""
    declared = declared or {}
    lat = {name: {"cold": [], "warm": []} for name in callbacks}
    sizes = {name: [] for name in callbacks}
    errors: list[dict] = []
    sent = 0
    for phase in ("cold", "warm"):
        for h in hashes:
            for name in callbacks:
                body = callback_body(name, h, dep=declared.get(name))
                t0 = time.perf_counter()
                try:
                    r = session.post(url + "/_dash-update-component", json=body, timeout=300)
                    status, size = r.status_code, len(r.content)
                except Exception as exc:           # a broken connection is a result, not a crash
                    status, size = f"{type(exc).__name__}", 0
                ms = (time.perf_counter() - t0) * 1000
                sent += 1
                if status == 200:
                    lat[name][phase].append(ms)
                    sizes[name].append(size)
                else:
                    errors.append({"callback": name, "phase": phase, "view": h, "status": status})
        # warm runs in the same order as cold, over the same keep-alive connection (the same worker)
    out = {name: {"cold": summary(v["cold"]), "warm": summary(v["warm"]),
                  "mean_response_bytes": round(sum(sizes[name]) / len(sizes[name])) if sizes[name] else None}
           for name, v in lat.items()}
    pooled = {p: summary([x for v in lat.values() for x in v[p]]) for p in ("cold", "warm")}
    return {"per_callback": out, "all": pooled, "requests_sent": sent, "errors": len(errors),
            "error_examples": errors[:10]}
