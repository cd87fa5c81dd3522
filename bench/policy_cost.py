"""What the policy figures of issue 27 add to a cold first view of the atlas page, measured in a
fresh interpreter (nothing cached) on one database: for each measure and level the atlas offers,
the recent-trend markers (``atlas.trend_markers.markers``: every published year's table of areas
and one Poisson regression per area) and the avoidable examinations of the key findings
(``atlas.avoidable_findings.sentences``), each timed after the view's own table of areas was read
(so the table, which the view needs anyway, is not counted). The markers are timed three times:
cold with the default window, with another window (the yearly counts already read: the regressions
alone), and again (the memo). See bench/README.md, "Policy figures of a first view".

``python -m bench --policy-cost`` runs it alone on ``--policy-db``; ``make bench`` runs it on both
bench databases (``policy_cost``, ``release_policy_cost``).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from bench.callbacks import summary, summary_line
from bench.processes import run_child

OTHER_WINDOW = 8                   # a window the reader may choose besides the default (View.recent)


def _ms(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1000


def child_policy_cost(db_path: str, measures: list[str] | None = None) -> dict:
    """In the child: every measure (or those in ``measures``) at every level, for the default year (as a
    first view opens)."""
    os.environ["ATLAS_DB"] = db_path
    from atlas import avoidable_findings, coverage, data, policy, queries, trend_markers
    from atlas.filters import LEVELS, View

    src = data.source()
    year = coverage.default_year()
    default_window = View.recent
    rows = []
    for level in LEVELS:
        for measure in src.measures():
            if measures is not None and measure not in measures:
                continue
            view = View(measure=measure, level=level, y0=year, y1=year)
            if not src.publishes(view):
                continue
            row = {"measure": measure, "level": level, "table_ms": _ms(queries.area_table, view)}
            row["markers_cold_ms"] = _ms(trend_markers.markers, measure, level, default_window)
            row["markers_other_window_ms"] = _ms(trend_markers.markers, measure, level, OTHER_WINDOW)
            row["markers_again_ms"] = _ms(trend_markers.markers, measure, level, default_window)
            if measure in policy.OPPORTUNITY_MEASURES:
                row["avoidable_cold_ms"] = _ms(avoidable_findings.sentences, view)
                row["avoidable_again_ms"] = _ms(avoidable_findings.sentences, view)
            rows.append({k: (round(v, 2) if isinstance(v, float) else v) for k, v in row.items()})
    keys = ("table_ms", "markers_cold_ms", "markers_other_window_ms", "markers_again_ms", "avoidable_cold_ms",
            "avoidable_again_ms")
    out = {key: summary([r[key] for r in rows if key in r]) for key in keys}
    first = [r["markers_cold_ms"] + r.get("avoidable_cold_ms", 0.0) for r in rows]
    out["first_view_policy_ms"] = summary(first)
    return {"year": year, "default_window": default_window, "other_window": OTHER_WINDOW, "views": len(rows),
            "summary": out, "rows": rows, "database": src.kind}


def policy_cost_step(db_path: Path, work: Path, echo: bool = True, measures: tuple[str, ...] | None = None) -> dict:
    """The measurement in a child process (a fresh interpreter: nothing cached), with its load."""
    r = run_child("policy_cost", {"db_path": str(db_path), "measures": list(measures) if measures else None}, work,
                  echo=echo)
    keep = ("year", "default_window", "other_window", "views", "summary", "rows", "database", "wall_seconds",
            "cpu_seconds", "load_average_after")
    return {k: r[k] for k in keep if k in r}


def rows_of(p: dict, title: str) -> list[str]:
    """The measurement's lines of the benchmark's table."""
    s = p["summary"]

    def line(label: str, key: str) -> str:
        return summary_line(label, s.get(key))

    return [f"{title}: {p['views']} first views (every measure and level, {p['year']}), a fresh process",
            line("table of areas (not counted below)", "table_ms"),
            line(f"markers, cold ({p['default_window']} years)", "markers_cold_ms"),
            line(f"markers, another window ({p['other_window']} years)", "markers_other_window_ms"),
            line("markers, again (kept)", "markers_again_ms"),
            line("avoidable examinations, cold", "avoidable_cold_ms"),
            line("avoidable examinations, again (kept)", "avoidable_again_ms"),
            line("both on a first view", "first_view_policy_ms")]
