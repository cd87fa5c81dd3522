"""The first visit in a real browser (issue 29): how many bytes the first page costs and how long
until the map is painted, on a cold browser profile (nothing cached) and again warm (same profile).

``python -m bench --first-visit [--first-visit-db data/release.duckdb] [--first-visit-runs 3]``
serves the database with gunicorn (as ``make serve``), opens ``/`` (and ``/trends``) in headless
Chromium with a fresh profile per cold run, and reads the browser's own figures:

- *bytes*: the transfer size of the page and every resource (Resource Timing, same origin), by the
  time the map is painted and once the network is quiet; the largest resources;
- *map painted*: milliseconds from navigation start until the map has drawn its 98 municipalities
  (a script added before the page's own polls for the drawn shapes every 10 ms, then waits for the
  next animation frame, i.e. a paint);
- *trends drawn*: the same for /trends' small multiples.

Targets (issue 29): first page at most 1 MB transferred, map painted within 2 s cold. Timed here,
never in the tests. Results go to ``data/bench/first-visit.json`` and are printed as a table.
"""
from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.server import AppServer

TARGET_BYTES = 1_000_000
TARGET_MAP_MS = 2000

PROBE = """
(function () {
  function probe(name, test) {
    var timer = setInterval(function () {
      if (!test()) { return; }
      clearInterval(timer);
      requestAnimationFrame(function () { window['__atlas_' + name] = performance.now(); });
    }, 10);
  }
  probe('map', function () { return document.querySelectorAll('#map path.choroplethlocation').length >= 98; });
  probe('trends', function () { return document.querySelectorAll('#trends-grid .scatterlayer .trace').length >= 98; });
})();
"""

BYTES = """
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource');
const all = [nav, ...res].filter(Boolean);
const until = arguments[0];
const pick = all.filter(e => until === null || e.responseEnd <= until);
return {bytes: pick.reduce((s, e) => s + (e.transferSize || 0), 0),
        decoded: pick.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
        requests: pick.length,
        largest: all.map(e => [e.name.replace(location.origin, ''), e.transferSize || 0])
                    .sort((a, b) => b[1] - a[1]).slice(0, 5)};
"""


def _driver(profile: Path, width: int = 1366, height: int = 768):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    return driver


def _wait(driver, name: str, timeout: float = 60.0) -> float | None:
    end = time.time() + timeout
    while time.time() < end:
        t = driver.execute_script(f"return window.__atlas_{name} || null;")
        if t:
            return float(t)
        time.sleep(0.05)
    return None


def _visit(driver, url: str, probe: str) -> dict:
    driver.get(url)
    painted = _wait(driver, probe)
    at_paint = driver.execute_script(BYTES, painted)
    time.sleep(2.0)                          # let the rest arrive (boundaries, later callbacks)
    quiet = driver.execute_script(BYTES, None)
    return {"url": url, "painted_ms": round(painted) if painted else None,
            "bytes_at_paint": at_paint["bytes"], "requests_at_paint": at_paint["requests"],
            "bytes": quiet["bytes"], "decoded_bytes": quiet["decoded"], "requests": quiet["requests"],
            "largest": quiet["largest"]}


def measure(base_url: str, runs: int = 3) -> dict:
    """``runs`` cold visits of / (fresh profile each) each followed by a warm one, and /trends cold."""
    cold, warm, trends = [], [], []
    for _ in range(runs):
        profile = Path(tempfile.mkdtemp(prefix="atlas-first-visit-"))
        driver = _driver(profile)
        try:
            cold.append(_visit(driver, base_url + "/", "map"))
            warm.append(_visit(driver, base_url + "/?again=1", "map"))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        profile = Path(tempfile.mkdtemp(prefix="atlas-first-visit-"))
        driver = _driver(profile)
        try:
            trends.append(_visit(driver, base_url + "/trends", "trends"))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)

    def median(rows, key):
        values = [r[key] for r in rows if r.get(key) is not None]
        return round(statistics.median(values)) if values else None

    summary = {
        "cold_map_painted_ms": median(cold, "painted_ms"), "cold_bytes_at_paint": median(cold, "bytes_at_paint"),
        "cold_bytes": median(cold, "bytes"), "cold_requests": median(cold, "requests"),
        "warm_map_painted_ms": median(warm, "painted_ms"), "warm_bytes": median(warm, "bytes"),
        "trends_drawn_ms": median(trends, "painted_ms"), "trends_bytes": median(trends, "bytes"),
    }
    summary["bytes_target_met"] = summary["cold_bytes"] is not None and summary["cold_bytes"] <= TARGET_BYTES
    summary["map_target_met"] = (summary["cold_map_painted_ms"] is not None
                                 and summary["cold_map_painted_ms"] <= TARGET_MAP_MS)
    return {"summary": summary, "cold": cold, "warm": warm, "trends": trends}


def table(result: dict) -> str:
    s = result["summary"]
    kb = lambda b: "–" if b is None else f"{b / 1000:,.0f} kB"          # noqa: E731
    ms = lambda v: "–" if v is None else f"{v:,} ms"                     # noqa: E731
    rows = [("first page transferred (cold, network quiet)", kb(s["cold_bytes"]), f"≤ {TARGET_BYTES / 1000:,.0f} kB",
             "met" if s["bytes_target_met"] else "NOT met"),
            ("… of which by the time the map painted", kb(s["cold_bytes_at_paint"]), "", ""),
            ("requests (cold)", str(s["cold_requests"]), "", ""),
            ("map painted after navigation (cold profile)", ms(s["cold_map_painted_ms"]), f"≤ {TARGET_MAP_MS:,} ms",
             "met" if s["map_target_met"] else "NOT met"),
            ("map painted (warm: same profile, cached)", ms(s["warm_map_painted_ms"]), "", ""),
            ("transferred (warm)", kb(s["warm_bytes"]), "", ""),
            ("/trends drawn (cold profile)", ms(s["trends_drawn_ms"]), "≤ 1,500 ms", ""),
            ("/trends transferred (cold)", kb(s["trends_bytes"]), "", "")]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'first visit (median of ' + str(len(result['cold'])) + ' runs)':<{width}}  measured      target"]
    lines += [f"{a:<{width}}  {b:>12}  {c:<12} {d}" for a, b, c, d in rows]
    largest = result["cold"][0]["largest"] if result["cold"] else []
    lines.append("largest resources (cold): " + "; ".join(f"{name.split('?')[0]} {kb(size)}" for name, size in largest))
    return "\n".join(lines)


def run_first_visit(db: Path, out: Path | None, runs: int = 3, workers: int = 2, threads: int = 1,
                    port: int | None = None, work: Path | None = None) -> dict:
    """Serve ``db`` with gunicorn and measure the first visit; write ``out`` (JSON) when given."""
    db = Path(db).resolve()
    if not db.exists():
        raise RuntimeError(f"{db} does not exist: build it first (make release) or pass --first-visit-db")
    work = Path(work or tempfile.mkdtemp(prefix="atlas-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    with AppServer(db, work / "first-visit-gunicorn.log", workers=workers, threads=threads, port=port) as server:
        result = measure(f"http://127.0.0.1:{server.port}", runs=runs)
    from plotly.offline import get_plotlyjs_version

    from etl.settings import REPO_ROOT

    result["params"] = {"db": str(db), "runs": runs, "workers": workers, "threads": threads,
                        "plotly_bundle": (REPO_ROOT / "assets" / "plotly-atlas.min.js").exists(),
                        "plotly_js": get_plotlyjs_version(),
                        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result
