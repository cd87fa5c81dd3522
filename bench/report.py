"""The benchmark's targets, each checked against what was measured, and the results as a table
(printed, and written as markdown beside the results file)."""
from __future__ import annotations

from pathlib import Path

GB = 1e9
MB = 1e6
TARGETS = {
    "build_seconds": 120.0,
    "build_peak_rss_bytes": 6 * GB,
    "speedup_vs_pandas": 5.0,
    # issue 12 ("the build twice as fast as pandas"): stricter on time and memory, laxer on the speed-up
    "build_seconds_fast": 30.0,
    "build_peak_rss_bytes_fast": 4 * GB,
    "speedup_vs_pandas_fast": 2.0,
    "callback_warm_p95_ms": 150.0,
    "callback_cold_p95_ms": 400.0,
    "figure_json_bytes": 1.5 * MB,
    "release_seconds": 60.0,
    "release_peak_rss_bytes": 6 * GB,
    "release_callback_p95_ms": 60.0,
    "journey_callback_p95_ms": 500.0,       # 50 readers for 60 s on the release, 2 workers
    "journey_errors": 0,
    # issue 28: the open-data API against make serve (2 workers) at national scale
    "api_p95_ms": 20.0,
    "api_requests_per_second": 300.0,
    "api_errors": 0,
    # issue 26, item 7: the register layout's build against the contract layout's, the same world
    "register_build_ratio": 1.5,
}
REGISTER_RATIO_TARGET = "register layout: build time / contract layout's"
JOURNEY_TARGET_USERS, JOURNEY_TARGET_SECONDS = 50, 60.0     # the journey targets apply to at least this load
BUSY_TARGET_USERS = 200                                     # issue 31: the busy day's journey, the same targets


def _first(d: dict, *keys):
    return next((d[k] for k in keys if d.get(k) is not None), None)


def evaluate_targets(res: dict) -> list[dict]:
    """Each target with the measured value and pass/fail (None when not measured)."""
    b, p, pg, cb = (res.get(k) or {} for k in ("build", "pandas", "page", "callbacks"))
    rows = [
        ("build (ETL) seconds", b.get("seconds"), "<=", TARGETS["build_seconds"], "s"),
        ("build peak memory", b.get("peak_rss_bytes"), "<=", TARGETS["build_peak_rss_bytes"], "bytes"),
        ("speed-up over pandas (pandas s / ETL s)", p.get("speedup"), ">=", TARGETS["speedup_vs_pandas"], "x"),
        ("build (ETL) seconds, issue 12", b.get("seconds"), "<=", TARGETS["build_seconds_fast"], "s"),
        ("build peak memory, issue 12", b.get("peak_rss_bytes"), "<=", TARGETS["build_peak_rss_bytes_fast"], "bytes"),
        ("speed-up over pandas, issue 12", p.get("speedup"), ">=", TARGETS["speedup_vs_pandas_fast"], "x"),
    ]
    for name, v in (cb.get("per_callback") or {}).items():
        rows.append((f"{name} warm p95", v["warm"]["p95_ms"], "<=", TARGETS["callback_warm_p95_ms"], "ms"))
        rows.append((f"{name} cold p95", v["cold"]["p95_ms"], "<=", TARGETS["callback_cold_p95_ms"], "ms"))
    rel, rcb = (res.get(k) or {} for k in ("release", "release_callbacks"))
    rows.append(("release seconds", rel.get("seconds"), "<=", TARGETS["release_seconds"], "s"))
    rows.append(("release peak memory", rel.get("peak_rss_bytes"), "<=", TARGETS["release_peak_rss_bytes"], "bytes"))
    for name, v in (rcb.get("per_callback") or {}).items():
        rows.append((f"release: {name} warm p95", v["warm"]["p95_ms"], "<=", TARGETS["release_callback_p95_ms"], "ms"))
        rows.append((f"release: {name} cold p95", v["cold"]["p95_ms"], "<=", TARGETS["release_callback_p95_ms"], "ms"))
    rows.append(("figure JSON, draw_areas default view", _first(pg, "figure_and_geometry_bytes", "figure_json_bytes"),
                 "<=", TARGETS["figure_json_bytes"], "bytes"))
    rows.append(("figure JSON, all figure callbacks",
                 _first(pg, "figure_and_geometry_all_bytes", "figure_json_all_bytes"), "<=",
                 TARGETS["figure_json_bytes"], "bytes"))
    full_scale = res["params"]["scale"] == 1.0
    out = []
    for name, value, op, target, unit in rows:
        ok = None if value is None else (value <= target if op == "<=" else value >= target)
        out.append({"name": name, "measured": value, "op": op, "target": target, "unit": unit, "pass": ok,
                    "applies": full_scale})
    for key, prefix, least in (("release_journey", "release journey", JOURNEY_TARGET_USERS),
                               ("release_busy_journey", "release busy day", BUSY_TARGET_USERS)):
        j = res.get(key) or {}
        if not j:
            continue
        applies = full_scale and j["users"] >= least and j["seconds"] >= JOURNEY_TARGET_SECONDS
        p95 = j["callbacks"]["p95_ms"]
        out.append({"name": f"{prefix}: errors", "measured": j["errors"], "op": "==",
                    "target": TARGETS["journey_errors"], "unit": "", "pass": j["errors"] == TARGETS["journey_errors"],
                    "applies": applies})
        out.append({"name": f"{prefix}: callback p95", "measured": p95, "op": "<=",
                    "target": TARGETS["journey_callback_p95_ms"], "unit": "ms",
                    "pass": None if p95 is None else p95 <= TARGETS["journey_callback_p95_ms"], "applies": applies})
    a = res.get("release_api") or {}
    if a:
        # the latency at the target rate (the paced load) when measured, else under the load as fast as can be
        p95 = ((a.get("paced") or {}).get("load") or a.get("load") or {}).get("p95_ms")
        rps = a.get("requests_per_second")
        out.append({"name": "release API: data requests p95", "measured": p95, "op": "<=",
                    "target": TARGETS["api_p95_ms"], "unit": "ms",
                    "pass": None if p95 is None else p95 <= TARGETS["api_p95_ms"], "applies": full_scale})
        out.append({"name": "release API: requests a second", "measured": rps, "op": ">=",
                    "target": TARGETS["api_requests_per_second"], "unit": "/s",
                    "pass": None if rps is None else rps >= TARGETS["api_requests_per_second"], "applies": full_scale})
        errors = a.get("errors", 0) + a.get("cold_errors", 0)
        out.append({"name": "release API: errors", "measured": errors, "op": "==", "target": TARGETS["api_errors"],
                    "unit": "", "pass": errors == TARGETS["api_errors"], "applies": full_scale})
    lo = res.get("layouts") or {}
    if lo:
        ratio = lo.get("ratio")
        out.append({"name": REGISTER_RATIO_TARGET, "measured": ratio, "op": "<=",
                    "target": TARGETS["register_build_ratio"], "unit": "x",
                    "pass": None if ratio is None else ratio <= TARGETS["register_build_ratio"],
                    "applies": full_scale})
    if cb.get("errors"):
        out.append({"name": "callback errors", "measured": cb["errors"], "op": "==", "target": 0, "unit": "",
                    "pass": False, "applies": True})
    return out


# ----------------------------------------------------------------------------- the table

def _fmt(value, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if unit == "":
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    if unit == "bytes":
        return f"{value / GB:.2f} GB" if value >= GB else f"{value / MB:.2f} MB"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "/s":
        return f"{value:.0f}/s"
    return str(value)


def _row(marks: dict, label: str, value, unit: str, target: str | None = None, note: str = "") -> str:
    """A line of the table: the label, the measured value, and the target (by name in ``marks``)
    with its verdict."""
    t = marks.get(target) if target else None
    mark = "" if t is None else (f"   {t['op']} {_fmt(t['target'], t['unit'])}  "
                                 + ("n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")))
    return f"{label:<48}{_fmt(value, unit):>12}{mark}{note}"


def table(res: dict) -> str:
    """The results as a plain-text table, targets beside the measured values."""
    g, b, p, pg, cb = (res.get(k) or {} for k in ("generation", "build", "pandas", "page", "callbacks"))
    mc = res["machine"]
    targets = {t["name"]: t for t in res["targets"]}
    lines = [
        f"Benchmark, scale {res['params']['scale']} (seed {res['params']['seed']}) on {mc['cpu_count']} CPUs, "
        f"{mc['memory_total_bytes'] / GB:.1f} GB, {mc['platform']}; python {mc['python']}, duckdb "
        f"{mc['duckdb_version']}, dash {mc['dash_version']}, pandas {mc['pandas_version']}; {mc['date']}",
        f"load average at start {mc.get('load_average_at_start')}, after the build "
        f"{b.get('load_average_after')}, at the end {mc.get('load_average_at_end')} (a shared machine slows every time)",
        "",
        f"{'':<48}{'measured':>12}   target",
    ]

    def row(label, value, unit, target=None, note=""):
        lines.append(_row(targets, label, value, unit, target, note))

    for name, sec in (("generation", g), ("build", b), ("pandas", p)):
        if sec.get("from_previous_run"):
            lines.append(f"({name}: from the run of {sec['from_previous_run']})")
    row("generation (synthetic extracts)", g.get("seconds"), "s", note="   (reused)" if g.get("reused") else "")
    row("build (ETL) time", b.get("seconds"), "s", "build (ETL) seconds")
    row("    build CPU time (user + sys)", b.get("cpu_seconds"), "s")
    for s in b.get("steps", []):
        lines.append(f"    {s['step']}. {s['message'][:42]:<42}{s['seconds']:>10.1f} s")
    row("build peak memory (RSS)", b.get("peak_rss_bytes"), "bytes", "build peak memory")
    row("build DuckDB spill to disk (peak)", b.get("spill_peak_bytes"), "bytes")
    row("database size", b.get("db_bytes"), "bytes")
    row(f"pandas baseline time ({str(p.get('mode', '')).replace('_', ' ')})", p.get("seconds"), "s")
    row("    pandas CPU time (user + sys)", p.get("cpu_seconds"), "s")
    row("pandas peak memory (RSS)", p.get("peak_rss_bytes"), "bytes")
    row("ratio ETL / pandas", p.get("ratio_etl_over_pandas"), "")
    row("speed-up over pandas", p.get("speedup"), "x", "speed-up over pandas (pandas s / ETL s)")
    row("    speed-up, linking and cubes only", p.get("speedup_comparable"), "x")
    if p:
        row("pandas and ETL cubes agree", "yes" if p.get("agrees_with_etl") else "NO", "")
    def callback_rows(cb: dict, title: str, target_prefix: str) -> None:
        lines.append(f"{title}, {cb['n_views']} views each cold then warm (p50 / p95)")
        for name, v in cb["per_callback"].items():
            for phase in ("cold", "warm"):
                s = v[phase]
                row(f"    {name} {phase}  p50 {_fmt(s['p50_ms'], 'ms')}, p95", s["p95_ms"], "ms",
                    f"{target_prefix}{name} {phase} p95")
        row(f"{title}: errors", cb["errors"], "")

    if res.get("layouts"):
        if res["layouts"].get("from_previous_run"):
            lines.append(f"(layouts: from the run of {res['layouts']['from_previous_run']})")
        lines.extend(layout_rows(res["layouts"], res.get("targets") or []))
    if cb:
        callback_rows(cb, "callbacks", "")
    rel, rcb = (res.get(k) or {} for k in ("release", "release_callbacks"))
    if rel:
        row("release (python -m etl release) time", rel.get("seconds"), "s", "release seconds")
        row("release peak memory (RSS)", rel.get("peak_rss_bytes"), "bytes", "release peak memory")
        row("release database size", rel.get("db_bytes"), "bytes")
        row("release audit", "passed" if rel.get("passed") else "FAILED", "")
    if rcb:
        callback_rows(rcb, "callbacks on the release", "release: ")

    for key, title in (("policy_cost", "policy figures (issue 27) on the secure database"),
                       ("release_policy_cost", "policy figures (issue 27) on the release")):
        if res.get(key):
            from bench.policy_cost import rows_of

            lines.extend(rows_of(res[key], title))
    for key, title in (("policy_pages", "/recent-trends and the area profile (issue 27) on the secure database"),
                       ("release_policy_pages", "/recent-trends and the area profile (issue 27) on the release")):
        if res.get(key):
            from bench.policy_pages import rows_of as pages_rows

            lines.extend(pages_rows(res[key], title))
    for key, title, prefix in JOURNEYS:
        if res.get(key):
            lines.extend(journey_rows(res[key], title, prefix, res.get("targets") or []))
    for key, title in (("release_api", "open-data API on the release"), ("api", "open-data API on the secure database")):
        if res.get(key):
            lines.extend(api_rows(res[key], title, res["targets"] if key == "release_api" else []))
    if pg:
        lines.append("first page load (bytes as served, uncompressed; gzip in brackets)")
        for key, label in (("html_bytes", "html"), ("scripts_bytes", "scripts (in the page)"),
                           ("scripts_async_bytes", "scripts (on demand, incl. plotly.js)"), ("layout_bytes", "layout")):
            row(f"    {label}", pg[key], "bytes", note=f"  ({_fmt(pg['gzip'][key], 'bytes')})")
        gz = pg["gzip"]
        row("    figure_json (draw_areas: map, rank, funnel)", pg["figure_json_bytes"], "bytes",
            note=f"  ({_fmt(gz['figure_json_bytes'], 'bytes')})")
        row("    geometry fetched by the map (by URL)", pg.get("geometry_bytes"), "bytes",
            note=f"  ({_fmt(gz.get('geometry_bytes'), 'bytes')})")
        row("    figure_json + geometry, draw_areas", _first(pg, "figure_and_geometry_bytes", "figure_json_bytes"),
            "bytes", "figure JSON, draw_areas default view",
            f"  ({_fmt(_first(gz, 'figure_and_geometry_bytes', 'figure_json_bytes'), 'bytes')} gzip)")
        row("    ... the same, all four figure callbacks",
            _first(pg, "figure_and_geometry_all_bytes", "figure_json_all_bytes"), "bytes",
            "figure JSON, all figure callbacks",
            f"  ({_fmt(_first(gz, 'figure_and_geometry_all_bytes', 'figure_json_all_bytes'), 'bytes')} gzip)")
        if pg["errors"]:
            lines.append(f"    page load errors: {'; '.join(pg['errors'])}")
    if res["params"]["scale"] != 1.0:
        lines.append("(the targets apply to the full-scale run, --scale 1.0)")
    if p:
        lines.append(f"pandas mode: {p.get('mode_note')}")
        lines.append(f"pandas covers: {p.get('covers')}")
    return "\n".join(lines)


def layout_rows(lo: dict, targets: list[dict]) -> list[str]:
    """The two layouts' builds (bench.steps.layouts_step): each layout's generation and build, the
    register build's adapter step, and the ratio with its target."""
    marks = {t["name"]: t for t in targets}

    def row(label: str, value, unit: str, target: str | None = None, note: str = "") -> str:
        return _row(marks, label, value, unit, target, note)

    rounds = lo.get("rounds", 1)
    lines = [f"build by layout: the same world (scale {lo['scale']}, seed {lo['seed']}) in both layouts, "
             "python -m etl build --layout contract|registers"
             + (f", the fastest of {rounds} builds each (alternating)" if rounds > 1 else "")]
    for layout in ("contract", "registers"):
        d = lo[layout]
        gen = d.get("generation") or {}
        lines.append(row(f"    {layout} layout: generation", gen.get("seconds"), "s",
                         note="   (reused)" if gen.get("reused") else ""))
        lines.append(row(f"    {layout} layout: build", d["seconds"], "s",
                         note=f"   (CPU {_fmt(d['cpu_seconds'], 's')}, peak {_fmt(d['peak_rss_bytes'], 'bytes')}"
                              + (f"; all: {', '.join(_fmt(x, 's') for x in d['all_seconds'])}" if rounds > 1 else "")
                              + ")"))
        if d.get("adapter_seconds") is not None:
            lines.append(row("        of it: registers -> contract tables", d["adapter_seconds"], "s"))
    lines.append(row("    register / contract build time", lo["ratio"], "x", REGISTER_RATIO_TARGET))
    lines.append(row("    register / contract CPU time", lo.get("cpu_ratio"), "x"))
    lines.append(row("    register / contract peak memory", lo.get("peak_rss_ratio"), "x"))
    if not lo.get("same_tables", True):
        lines.append("    the two layouts' databases do NOT hold the same tables")
    return lines


JOURNEYS = (("release_journey", "journey on the release", "release journey: "),
            ("release_busy_journey", "busy day on the release", "release busy day: "),
            ("journey", "journey on the secure database", None))


def journey_rows(j: dict, title: str, target_prefix: str | None, targets: list[dict]) -> list[str]:
    """A journey's lines of the table (bench/journey.py), with its targets beside them."""
    marks = {t["name"]: t for t in targets}

    def row(label: str, value, unit: str, target: str | None = None, note: str = "") -> str:
        return _row(marks, label, value, unit, target, note)

    lines = [f"{title}: {j['users']} readers for {j['duration_seconds']:.0f} s"
             + (f" ({j['client_processes']} client processes)" if j.get("client_processes", 1) > 1 else "")
             + f", {j['control_changes']} control changes ({j.get('distinct_views', '?')} distinct views), "
             f"{j['downloads']} CSV downloads, {j['requests_sent']} requests ({j['requests_per_second']}/s)"]
    lines.append(row("    errors", j["errors"], "", target_prefix and f"{target_prefix}errors"))
    c = j["callbacks"]
    lines.append(row(f"    all callbacks  p50 {_fmt(c['p50_ms'], 'ms')}, p99 {_fmt(c['p99_ms'], 'ms')}, p95", c["p95_ms"],
                     "ms", target_prefix and f"{target_prefix}callback p95"))
    for kind, v in j["per_kind"].items():
        lines.append(row(f"    {kind[:26]}  p50 {_fmt(v['p50_ms'], 'ms')}, p95", v["p95_ms"], "ms",
                         note=f"   (n = {v['n']})"))
    return lines


def journey_lines(res: dict) -> list[str]:
    """The journeys of ``python -m bench --journey-only``, with the load averages."""
    m = res["machine"]
    lines = [f"on {Path(res['params']['db']).name}, {res['params']['workers']} workers x {res['params']['threads']} "
             f"threads; load average {m.get('load_average_at_start')} at the start, {m.get('load_average_at_end')} at the end"]
    for key, title, prefix in JOURNEYS:
        if res.get(key):
            lines.extend(journey_rows(res[key], title, prefix, res.get("targets") or []))
    return lines


def api_rows(a: dict, title: str, targets: list[dict]) -> list[str]:
    """The API load's lines of the table (bench/api_load.py), with its targets beside them."""
    marks = {t["name"]: t for t in targets}

    def mark(name: str) -> str:
        t = marks.get(name)
        if t is None:
            return ""
        verdict = "n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        return f"   {t['op']} {_fmt(t['target'], t['unit'])}  {verdict}"

    load, cold, paced = a["load"], a["cold"], a.get("paced")
    at_rate = [] if not paced else [
        f"{'    paced at ' + _fmt(paced['rate_asked'], '/s') + ' (' + _fmt(paced['requests_per_second'], '/s') + ' sent)':<48}",
        f"{'      p50 ' + _fmt(paced['load']['p50_ms'], 'ms') + ', p99 ' + _fmt(paced['load']['p99_ms'], 'ms') + ', p95':<48}"
        f"{_fmt(paced['load']['p95_ms'], 'ms'):>12}" + mark("release API: data requests p95"),
        f"{'      from sending to the answer  p50 ' + _fmt(paced['sent_to_answer']['p50_ms'], 'ms') + ', p95':<48}"
        f"{_fmt(paced['sent_to_answer']['p95_ms'], 'ms'):>12}"]
    return [
        f"{title}: {a['views']} addresses ({', '.join(f'{k} {v}' for k, v in a['views_by_endpoint'].items())}; "
        f"{a.get('not_published', 0)} more answered 404 not published), "
        f"{a['clients']} clients x {a['client_threads']} threads for {a['duration_seconds']:.0f} s",
        f"{'    requests a second':<48}{_fmt(a['requests_per_second'], '/s'):>12}"
        + mark("release API: requests a second") + f"   ({a['requests']} requests)",
        f"{'    errors':<48}{a['errors'] + a['cold_errors']:>12}" + mark("release API: errors"),
        f"{'    as fast as can be  p50 ' + _fmt(load['p50_ms'], 'ms') + ', p99 ' + _fmt(load['p99_ms'], 'ms') + ', p95':<48}"
        f"{_fmt(load['p95_ms'], 'ms'):>12}" + ("" if paced else mark("release API: data requests p95")),
        *at_rate,
        f"{'    each view once (cold)  p50 ' + _fmt(cold['p50_ms'], 'ms') + ', p95':<48}{_fmt(cold['p95_ms'], 'ms'):>12}",
        *_family_rows(a),
    ]


def _family_rows(a: dict) -> list[str]:
    """The API load's latencies per family of endpoints (atlas, pathways, returns): cold p95, and the
    p95 under the paced load (or, without one, the load as fast as can be)."""
    under = a.get("paced") or a
    which = "paced" if a.get("paced") else "load"
    out = []
    for name, cold in (a.get("cold_by_family") or {}).items():
        load = (under.get("by_family") or {}).get(name) or {}
        out.append(f"{'    ' + name + ' (' + str(cold['n']) + '): cold p95 ' + _fmt(cold['p95_ms'], 'ms') + ', ' + which + ' p95':<48}"
                   f"{_fmt(load.get('p95_ms'), 'ms'):>12}")
    return out


def write_markdown(res: dict, path: Path) -> Path:
    """The table as a markdown report (``results.md`` beside the results file)."""
    path = Path(path)
    failed = [t["name"] for t in res["targets"] if t["applies"] and t["pass"] is False]
    verdict = ("every target that applies is met" if not failed else "targets missed: " + "; ".join(failed))
    path.write_text(f"# Benchmark, scale {res['params']['scale']}\n\n{verdict} (targets apply at scale 1.0).\n\n"
                    f"```\n{table(res)}\n```\n\nAll figures: `{path.with_suffix('.json').name}`; "
                    f"what each means: bench/README.md.\n", encoding="utf-8")
    return path
