"""The benchmark's data steps, each in a child process: generation, build, pandas baseline, release.

Each ``*_step`` function runs its child (see :mod:`bench.processes`) and returns the figures the
results file keeps. ``python -m bench.steps TASK PARAMS RESULT`` is the child's own entry.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.pandas_baseline import COMPARABLE_STEPS, PANDAS_COVERS, PANDAS_MEMORY_CAP, etl_totals, pandas_baseline, pandas_estimate_bytes
from bench.processes import folder_bytes, run_child

GB = 1e9
BUILD_MEMORY_LIMIT = "6GB"          # DuckDB's memory_limit in the build (etl.build.build's default), recorded


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- in the child

def child_generate(out_dir: str, scale: float, seed: int, layout: str = "contract") -> dict:
    from etl.synthetic import generate

    out = Path(out_dir)
    t0 = time.perf_counter()
    summary = generate(out, scale=scale, seed=seed, layout=layout,
                       progress=lambda m: print(m, file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    # the same marker the CLI writes, so the build records the data as synthetic
    (out / "SYNTHETIC").write_text(
        f"Synthetic extracts made by 'python -m etl generate --scale {scale} --seed {seed} --layout {layout}'. "
        "Not real data.\n", encoding="utf-8")
    return {"seconds": seconds, "summary": summary}


def child_build(input_dir: str, db_path: str, layout: str = "contract") -> dict:
    from etl.build import build

    t0 = time.perf_counter()
    report = build(Path(input_dir), Path(db_path), quiet=False, layout=layout)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "report_seconds": report.seconds, "steps": [asdict(s) for s in report.steps],
            "tables": report.tables, "linkage": report.linkage}


def child_release(db_path: str, out_path: str, plan_path: str | None = None) -> dict:
    from etl.release.build import build_release
    from etl.release.report import write_report

    t0 = time.perf_counter()
    report = build_release(Path(db_path), Path(out_path), plan_path=Path(plan_path) if plan_path else None, quiet=False)
    seconds = time.perf_counter() - t0
    write_report(report)
    sup = report.suppression
    return {"seconds": seconds, "tables": report.tables, "passed": report.passed,
            "smallest_published": report.smallest_published,
            "published_share": {r["count"]: round(float(r["published_share"]), 4) for r in sup.to_dict("records")},
            "steps": [{"step": name, "elapsed": round(sec, 2)} for name, sec in report.steps]}


def child_policy_cost(db_path: str, measures: list[str] | None = None) -> dict:
    from bench.policy_cost import child_policy_cost as measure

    return measure(db_path, measures)


def child_policy_pages(db_path: str, measures: list[str] | None = None, profiles: int = 10) -> dict:
    from bench.policy_pages import child_policy_pages as measure

    return measure(db_path, measures, profiles)


CHILD_TASKS = {"generate": child_generate, "build": child_build, "pandas": pandas_baseline, "release": child_release,
               "policy_cost": child_policy_cost, "policy_pages": child_policy_pages}


def child_main(task: str, params: dict, result_path: Path) -> int:
    import resource

    if task not in CHILD_TASKS:
        raise SystemExit(f"unknown child task {task}")
    out = CHILD_TASKS[task](**params)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_bytes"] = usage.ru_maxrss * 1024          # kB on Linux
    out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result_path.write_text(json.dumps(out, default=str), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------------- in the benchmark

def generation_step(extracts: Path, scale: float, seed: int, work: Path, reuse: bool, echo: bool,
                    layout: str = "contract") -> dict:
    """1. synthetic extracts (in ``layout``: the contract's tables or the registers'), or those of an
    earlier run of the same scale, seed and layout with ``reuse``."""
    manifest = extracts / "bench-manifest.json"
    gen = None
    if reuse and manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if m.get("scale") == scale and m.get("seed") == seed and m.get("layout", "contract") == layout:
            gen = {**m["generation"], "reused": True}
            log(f"reusing the extracts in {extracts} (generated in {gen['seconds']:.1f} s)")
    if gen is None:
        if extracts.exists():
            shutil.rmtree(extracts)
        log(f"generating synthetic extracts ({layout} layout) at scale {scale}, seed {seed} -> {extracts}")
        r = run_child("generate", {"out_dir": str(extracts), "scale": scale, "seed": seed, "layout": layout}, work,
                      echo=echo)
        gen = {"seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
               "cpu_seconds": r["cpu_seconds"], "peak_rss_bytes": r["peak_rss_bytes"], "rows": r["summary"],
               "reused": False}
        manifest.write_text(json.dumps({"scale": scale, "seed": seed, "layout": layout, "generation": gen}, indent=2),
                            encoding="utf-8")
    gen["extracts_bytes"] = folder_bytes(extracts)
    return gen


def build_step(extracts: Path, db_path: Path, work: Path, echo: bool, layout: str = "contract") -> dict:
    """2. the build (``python -m etl build --layout LAYOUT``), with DuckDB's spill folder pointed into
    the work folder (to measure it)."""
    log(f"building {db_path} from the {layout} layout")
    db_path.unlink(missing_ok=True)
    spill = work / "tmp"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    r = run_child("build", {"input_dir": str(extracts), "db_path": str(db_path), "layout": layout}, work,
                  env={"TMPDIR": str(spill)}, spill_dir=spill, echo=echo)
    shutil.rmtree(spill, ignore_errors=True)
    return {
        "seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
        "cpu_seconds": r["cpu_seconds"], "load_average_after": r["load_average_after"],
        "peak_rss_bytes": r["peak_rss_bytes"], "peak_rss_sampled_bytes": r["peak_rss_sampled_bytes"],
        "spill_peak_bytes": r["spill_peak_bytes"], "db_bytes": db_path.stat().st_size,
        "layout": layout, "duckdb_memory_limit": BUILD_MEMORY_LIMIT, "steps": r["steps"], "tables": r["tables"], "linkage": r["linkage"],
    }


def pandas_step(extracts: Path, db_path: Path, build: dict, work: Path, mode: str, echo: bool) -> dict:
    """3. the pandas baseline on the same extracts, checked against the build's cubes."""
    est = pandas_estimate_bytes(extracts)
    by_year = mode == "by-year" or (mode == "auto" and est > PANDAS_MEMORY_CAP)
    log(f"pandas baseline ({'year by year' if by_year else 'all years at once'}; estimated peak "
        f"{est / GB:.1f} GB for all at once)")
    params = {"input_dir": str(extracts), "by_year": by_year, "out_dir": str(work / "pandas")}
    r = run_child("pandas", params, work, cap_bytes=None if by_year else PANDAS_MEMORY_CAP, echo=echo)
    fallback = None
    if r.get("capped"):
        fallback = f"all at once went over {PANDAS_MEMORY_CAP / GB:.0f} GB after {r['wall_seconds']:.0f} s; rerun year by year"
        log(fallback)
        by_year = True
        r = run_child("pandas", {**params, "by_year": True}, work, echo=echo)
    etl_tot = etl_totals(db_path)
    # the build steps that do what the pandas version does: linking and the two cubes
    comparable = [st["seconds"] for st in build["steps"] if st["message"].startswith(COMPARABLE_STEPS)]
    comparable_s = sum(comparable) if comparable else None
    agree = {k: {"pandas": v, "etl": etl_tot.get(k), "equal": v == etl_tot.get(k)} for k, v in r["totals"].items()}
    shutil.rmtree(work / "pandas", ignore_errors=True)
    return {
        "seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
        "cpu_seconds": r["cpu_seconds"], "load_average_after": r["load_average_after"],
        "peak_rss_bytes": r["peak_rss_bytes"], "peak_rss_sampled_bytes": r["peak_rss_sampled_bytes"],
        "mode": "by_year" if by_year else "all_at_once", "estimated_all_at_once_bytes": est,
        "mode_note": fallback or ("read and joined one population file (year) at a time to bound memory"
                                  if by_year else "all population files read at once"),
        "covers": PANDAS_COVERS,
        "ratio_etl_over_pandas": round(build["seconds"] / r["seconds"], 3),
        "speedup": round(r["seconds"] / build["seconds"], 3),
        "etl_comparable_seconds": round(comparable_s, 2) if comparable_s else None,
        "speedup_comparable": round(r["seconds"] / comparable_s, 3) if comparable_s else None,
        "comparable_note": "ETL steps doing what the pandas version does (" + ", ".join(COMPARABLE_STEPS)
                           + "): the target is checked on the whole build",
        "agrees_with_etl": all(a["equal"] for a in agree.values()),
        "check": agree,
    }


def release_step(db_path: Path, release_path: Path, plan: Path | None, work: Path, echo: bool) -> dict:
    """4. the release (``python -m etl release``): written, audited, its report beside it."""
    log(f"writing the release {release_path}")
    r = run_child("release", {"db_path": str(db_path), "out_path": str(release_path),
                              "plan_path": str(plan) if plan else None}, work, echo=echo)
    return {"seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
            "cpu_seconds": r["cpu_seconds"], "peak_rss_bytes": r["peak_rss_bytes"],
            "db_bytes": release_path.stat().st_size, "passed": r["passed"],
            "smallest_published": r["smallest_published"], "published_share": r["published_share"],
            "tables": r["tables"], "steps": r["steps"]}



# ----------------------------------------------------------------------------- the two layouts (issue 26, item 7)

LAYOUTS = ("contract", "registers")
ADAPTER_STEP = "derived the contract tables from the registers"     # the register build's own step (etl/build.py)


def scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def extracts_dir(work: Path, scale: float, seed: int, layout: str = "contract") -> Path:
    """The work folder's extracts of one scale, seed and layout (the contract's are the whole bench's)."""
    return Path(work) / f"extracts_{'' if layout == 'contract' else layout + '_'}scale{scale_tag(scale)}_seed{seed}"


def layouts_step(scale: float, seed: int, work: Path, reuse: bool, echo: bool, rounds: int = 1,
                 generated: dict | None = None) -> dict:
    """5. The register layout against the contract layout: one synthetic world (``scale``, ``seed``)
    written in both layouts (``python -m etl generate --layout contract|registers``) and each built
    (``python -m etl build --layout ...``) by :func:`build_step`, one after the other. With ``rounds``
    > 1 each layout is built that many times, the order alternating, and each layout's fastest build
    is kept (the machine is shared). ``generated``: generation figures of extracts already made in
    this run (layout -> :func:`generation_step`'s result), which are not made again. The ratio of the
    register build's time to the contract build's is the target (``report.TARGETS``)."""
    if rounds < 1:
        raise ValueError(f"--layouts-rounds must be at least 1, not {rounds}")
    work = Path(work)
    out: dict = {"scale": scale, "seed": seed, "rounds": rounds}
    builds: dict[str, list[dict]] = {layout: [] for layout in LAYOUTS}
    for layout in LAYOUTS:
        gen = (generated or {}).get(layout)
        out[layout] = {"generation": gen if gen is not None else
                       generation_step(extracts_dir(work, scale, seed, layout), scale, seed, work, reuse, echo, layout)}
    for r in range(rounds):
        for layout in (LAYOUTS if r % 2 == 0 else LAYOUTS[::-1]):
            db = work / f"atlas_{layout}_layout_scale{scale_tag(scale)}_seed{seed}.duckdb"
            b = build_step(extracts_dir(work, scale, seed, layout), db, work, echo, layout)
            db.unlink(missing_ok=True)          # only the time is wanted: the bench's own database is the build's
            builds[layout].append(b)
    for layout in LAYOUTS:
        best = min(builds[layout], key=lambda b: b["seconds"])
        steps = best["steps"]
        out[layout].update(
            seconds=best["seconds"], wall_seconds=best["wall_seconds"], cpu_seconds=best["cpu_seconds"],
            peak_rss_bytes=best["peak_rss_bytes"], spill_peak_bytes=best["spill_peak_bytes"],
            load_average_after=best["load_average_after"], db_bytes=best["db_bytes"], steps=steps,
            tables=best["tables"], all_seconds=[b["seconds"] for b in builds[layout]],
            adapter_seconds=next((s["seconds"] for s in steps if s["message"].startswith(ADAPTER_STEP)), None))
    c, g = out["contract"], out["registers"]
    out["ratio"] = round(g["seconds"] / c["seconds"], 3)
    out["cpu_ratio"] = round(g["cpu_seconds"] / c["cpu_seconds"], 3) if c["cpu_seconds"] else None
    out["peak_rss_ratio"] = round(g["peak_rss_bytes"] / c["peak_rss_bytes"], 3)
    out["same_tables"] = sorted(c["tables"]) == sorted(g["tables"])
    return out


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])))
