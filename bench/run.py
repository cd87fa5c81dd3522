"""One run of the benchmark, in order: generation, build, pandas baseline, release, then the app on
the secure database and on the release (page weight, each view's callbacks cold and warm, and the
many-reader journey). Everything but the results goes under the work folder."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench.api_load import run_api_load
from bench.callbacks import callback_latencies, page_load
from bench.journey import run_journey
from bench.machine import machine
from bench.options import DEFAULT_OUT, DEFAULT_WORK, run_arguments
from bench.payloads import CALLBACK_OUTPUTS, CALLBACKS, check_dependencies, find_callbacks, view_combinations
from bench.policy_cost import policy_cost_step
from bench.policy_pages import policy_pages_step
from bench.report import evaluate_targets, table, write_markdown
from bench.server import AppServer
from bench.steps import build_step, extracts_dir, generation_step, layouts_step, log, pandas_step, release_step, scale_tag

SCHEMA_VERSION = 2          # 2: the journey (``journey``, ``release_journey``)
JOURNEY_DATABASES = ("secure", "release")


def run(scale: float = 1.0, seed: int = 42, out: Path | None = DEFAULT_OUT, requests_n: int = 60,
        work: Path = DEFAULT_WORK, reuse: bool = False, workers: int = 2, threads: int = 1,
        callbacks: tuple[str, ...] = CALLBACKS, pandas_mode: str = "auto", port: int | None = None,
        echo: bool = True, app_only: bool = False, build_only: bool = False, release_plan: Path | None = None,
        journey_users: int = 50, journey_seconds: float = 60.0, journey_downloads: float = 0.15,
        journey_think: tuple[float, float] = (1.0, 3.0), journey_on: tuple[str, ...] = JOURNEY_DATABASES,
        api: dict | None = None, busy_users: int = 0, busy_processes: int = 4,
        policy_measures: tuple[str, ...] | None = None, policy_profiles: int = 10, layouts: bool = True,
        layouts_rounds: int = 1) -> dict:
    """Run the whole benchmark and return (and write to ``out``, with a markdown report beside it) its results.

    ``app_only``: time only the app (page load, callbacks, journey) on the databases of an earlier
    run of the same scale and seed; generation, build, pandas and release are copied from that run's
    results file (``out``) when it has them, and marked as such. ``build_only``: only the data steps
    (generation, build, pandas baseline, release), no app. ``release_plan``: another publication
    plan for the release step (the tests use a small one; the benchmark the default).
    ``journey_users`` readers for ``journey_seconds`` on each database (0 readers: no journey), each
    pausing ``journey_think`` seconds (uniform) between changes, ``journey_downloads`` of which are
    followed by a CSV download (see :mod:`bench.journey`), on the databases in ``journey_on``; then,
    on the release, the busy day: ``busy_users`` readers (0: none) spread over ``busy_processes``
    client processes (``release_busy_journey``).
    ``policy_measures``: the measures whose first-view policy figures are timed (bench/policy_cost.py;
    None: every measure), and whose /recent-trends is timed cold (bench/policy_pages.py, with
    ``policy_profiles`` area profiles: the regions first, then municipalities).
    ``api``: the open-data API's load after the journey (:func:`bench.api_load.run_api_load`'s
    arguments and ``on``, the databases; ``seconds`` 0 or None: no API load).
    ``layouts``: after the release, the same world generated in the register layout too and both
    layouts built, ``layouts_rounds`` times each (:func:`bench.steps.layouts_step`, issue 26).
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    unknown = [c for c in callbacks if c not in CALLBACK_OUTPUTS]
    if unknown:
        raise ValueError(f"unknown callbacks {unknown}; choose from {', '.join(CALLBACKS)}")
    if set(journey_on) - set(JOURNEY_DATABASES):
        raise ValueError(f"the journey runs on {', '.join(JOURNEY_DATABASES)}, not {', '.join(journey_on)}")
    tag = scale_tag(scale)
    extracts = extracts_dir(work, scale, seed)
    db_path = work / f"atlas_scale{tag}_seed{seed}.duckdb"
    release_path = work / f"release_scale{tag}_seed{seed}.duckdb"
    results: dict = {
        "schema_version": SCHEMA_VERSION,
        "params": {"scale": scale, "seed": seed, "requests": requests_n, "work": str(work), "reuse": reuse,
                   "workers": workers, "threads": threads, "callbacks": list(callbacks), "pandas_mode": pandas_mode,
                   "app_only": app_only, "build_only": build_only, "journey_users": journey_users,
                   "journey_seconds": journey_seconds,
                   "journey_downloads": journey_downloads, "journey_think": list(journey_think),
                   "journey_on": list(journey_on), "busy_users": busy_users, "busy_processes": busy_processes,
                   "layouts": layouts, "layouts_rounds": layouts_rounds,
                   "api": {k: (list(v) if isinstance(v, tuple) else v)
                                                           for k, v in (api or {}).items()}},
        "machine": machine(),
    }
    t_all = time.perf_counter()
    app = {"journey_on": journey_on, "api": api or {}, "work": work, "requests_n": requests_n, "seed": seed, "workers": workers, "threads": threads,
           "callbacks": callbacks, "port": port,
           "journey": {"users": journey_users, "seconds": journey_seconds, "seed": seed, "think": journey_think,
                       "download_share": journey_downloads},
           "busy": {"users": busy_users, "processes": busy_processes}, "policy_measures": policy_measures,
           "policy_profiles": policy_profiles}
    if app_only and build_only:
        raise ValueError("--app-only and --build-only exclude each other")
    if app_only:
        if not db_path.exists():
            raise RuntimeError(f"--app-only needs the database of an earlier run: {db_path} does not exist")
        previous = {}
        if out and Path(out).exists():
            previous = json.loads(Path(out).read_text(encoding="utf-8"))
            same = (previous.get("params", {}).get("scale") == scale and previous.get("params", {}).get("seed") == seed)
            previous = previous if same else {}
        for key in ("generation", "build", "pandas", "release", "layouts"):
            results[key] = ({**previous[key], "from_previous_run": previous[key].get("from_previous_run")
                             or previous["machine"]["date"]} if previous.get(key) else None)
        _run_app(results, db_path, **app)
        if release_path.exists():
            _run_app(results, release_path, key="release_", **app)
        return _finish(results, t_all, out)

    results["generation"] = generation_step(extracts, scale, seed, work, reuse, echo)
    results["build"] = build_step(extracts, db_path, work, echo)
    results["pandas"] = pandas_step(extracts, db_path, results["build"], work, pandas_mode, echo)
    results["release"] = release_step(db_path, release_path, release_plan, work, echo)
    if layouts:
        results["layouts"] = layouts_step(scale, seed, work, reuse, echo, rounds=layouts_rounds,
                                          generated={"contract": results["generation"]})
    if build_only:
        return _finish(results, t_all, out)
    _run_app(results, db_path, **app)
    _run_app(results, release_path, key="release_", **app)
    return _finish(results, t_all, out)


def _years(db_path: Path) -> list[int]:
    """The single years the database publishes (the cube's years, or the release's single-year periods)."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "population_cube" in tables:
            return [int(y) for (y,) in con.execute("SELECT DISTINCT year FROM population_cube ORDER BY year").fetchall()]
        periods = json.loads(con.execute("SELECT value FROM meta WHERE key = 'periods'").fetchone()[0])
        return sorted(int(p) for p in periods if "-" not in p)
    finally:
        con.close()


def run_layouts_only(scale: float = 1.0, seed: int = 42, out: Path | None = None, work: Path = DEFAULT_WORK,
                     reuse: bool = False, rounds: int = 1, echo: bool = True) -> dict:
    """Only the two layouts' builds (:func:`bench.steps.layouts_step`): the world of ``scale`` and
    ``seed`` generated in both layouts (or reused with ``reuse``) and each built; written to ``out``
    (JSON) when given, with the ratio's target evaluated (it applies at scale 1.0)."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    res = {"params": {"scale": scale, "seed": seed, "work": str(work), "reuse": reuse, "layouts_rounds": rounds},
           "machine": machine()}
    res["layouts"] = layouts_step(scale, seed, work, reuse, echo, rounds=rounds)
    return _finish_partial(res, res, ("register layout",), out)


def layouts_main(args) -> int:
    """``python -m bench --layouts-only``: the two layouts' builds alone, ``layouts.json`` beside ``--out``."""
    from bench.report import layout_rows

    out = Path(args.out).with_name("layouts.json") if args.out else None
    try:
        res = run_layouts_only(args.scale, args.seed, out, Path(args.work), args.reuse, args.layouts_rounds)
    except (RuntimeError, ValueError) as exc:
        print(f"Benchmark stopped: {exc}", file=sys.stderr)
        return 1
    m = res["machine"]
    print("\n".join(layout_rows(res["layouts"], res["targets"])))
    print(f"load average {m.get('load_average_at_start')} at the start, {m.get('load_average_at_end')} at the end")
    if out:
        print(f"\nwrote {out}")
    return 0


def _run_app(results: dict, db_path: Path, work: Path, requests_n: int, seed: int, workers: int, threads: int,
             callbacks, port, journey: dict, journey_on: tuple[str, ...], api: dict, busy: dict | None = None,
             key: str = "", policy_measures: tuple[str, ...] | None = None, policy_profiles: int = 10) -> None:
    """The app over HTTP on one gunicorn: page load, each view's callbacks cold and warm, then the
    journey (results under ``app``, ``page``, ``callbacks``, ``journey``; with ``key="release_"``
    the same for the release database)."""
    import requests

    years = _years(db_path)
    hashes = view_combinations(requests_n, seed, years)
    log(f"serving {db_path.name} with gunicorn ({workers} workers x {threads} threads); "
        f"{len(hashes)} views x {len(callbacks)} callbacks, cold then warm")
    with AppServer(db_path, work / "gunicorn.log", workers=workers, threads=threads, port=port) as app:
        with requests.Session() as session:
            page = page_load(session, app.url)
            deps = page.pop("dependencies")
            mismatched = check_dependencies(deps)
            cb = callback_latencies(session, app.url, hashes, callbacks, find_callbacks(deps))
        worker_rss = app.worker_rss()
        results[key + "app"] = {"url": app.url, "start_seconds": round(app.start_seconds, 2), "workers": workers,
                                "threads": threads, "worker_rss_bytes_after": worker_rss,
                                "payload_mismatch": mismatched}
        if journey["users"] > 0 and ("release" if key else "secure") in journey_on:
            log(f"journey: {journey['users']} readers for {journey['seconds']:g} s")
            results[key + "journey"] = {**run_journey(app.url, deps, years, **journey),
                                        "worker_rss_bytes_after": app.worker_rss(),
                                        "note": "on the same gunicorn, after the timed views; client and server "
                                                "share the machine"}
        if key and (busy or {}).get("users", 0) > 0 and "release" in journey_on:
            results[key + "busy_journey"] = busy_journey(app, deps, years, journey, busy)
        if (api.get("seconds") or 0) > 0 and ("release" if key else "secure") in api.get("on", ("release",)):
            log(f"API load: {api['clients']} clients x {api['client_threads']} threads for {api['seconds']:g} s")
            results[key + "api"] = {**run_api_load(app.url, **{k: v for k, v in api.items() if k != "on"}),
                                    "workers": workers, "worker_threads": threads}
    # issue 27: the markers and avoidable examinations of first views, in a fresh process after the server
    results[key + "policy_cost"] = policy_cost_step(db_path, work, measures=policy_measures)
    # issue 27: the cold first views of /recent-trends and the area profile, in a fresh process
    results[key + "policy_pages"] = policy_pages_step(db_path, work, measures=policy_measures, profiles=policy_profiles)
    results[key + "page"] = page
    results[key + "callbacks"] = {"n_views": len(hashes), "views": hashes, **cb,
                                  "note": "sequential requests over one keep-alive connection (so one worker); cold = "
                                          "first request for the view (its queries not yet cached), warm = the same "
                                          "request again"}


def busy_journey(app, deps: list, years: list[int], journey: dict, busy: dict) -> dict:
    """The busy day (issue 31): ``busy["users"]`` readers on the same server, spread over
    ``busy["processes"]`` client processes, with a seed of their own (not the first journey's views)."""
    log(f"busy day: {busy['users']} readers for {journey['seconds']:g} s ({busy['processes']} client processes)")
    return {**run_journey(app.url, deps, years, **{**journey, "users": busy["users"], "seed": journey["seed"] + 200},
                          processes=busy["processes"]),
            "worker_rss_bytes_after": app.worker_rss(),
            "note": "on the same gunicorn, after the first journey; clients and server share the machine"}


def _finish_partial(res: dict, measured: dict, targets: tuple[str, ...], out) -> dict:
    """A partial run's ending: the load at its end, the targets named ``targets`` (their names' starts)
    evaluated on ``measured`` (the targets apply at national scale, which the database does not
    record: shown, not applied), and the results written to ``out`` if given."""
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["targets"] = [t for t in evaluate_targets(measured) if t["name"].startswith(targets)]
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    return res


def run_journeys_only(db_path: Path, out: Path | None, users: int = 50, busy_users: int = 200, busy_processes: int = 4,
                      seconds: float = 60.0, seed: int = 42, workers: int = 2, threads: int = 1, port: int | None = None,
                      work: Path = DEFAULT_WORK, download_share: float = 0.15) -> dict:
    """Only the journeys (``users`` readers, then the busy day's ``busy_users``) on ``db_path`` served by
    gunicorn as ``make serve``; written to ``out`` (JSON) when given."""
    import requests

    db_path = Path(db_path)
    if not db_path.exists():
        raise RuntimeError(f"{db_path} does not exist: build it first (make release) or give --journey-db")
    years = _years(db_path)
    journey = {"users": users, "seconds": seconds, "seed": seed, "think": (1.0, 3.0), "download_share": download_share}
    res = {"params": {"db": str(db_path), "workers": workers, "threads": threads, "users": users,
                      "busy_users": busy_users, "busy_processes": busy_processes, "seconds": seconds},
           "machine": machine()}
    with AppServer(db_path, Path(work) / "gunicorn-journey.log", workers=workers, threads=threads, port=port) as app:
        deps = requests.get(app.url + "/_dash-dependencies", timeout=60).json()
        if users > 0:
            log(f"journey: {users} readers for {seconds:g} s")
            res["release_journey"] = {**run_journey(app.url, deps, years, **journey),
                                      "worker_rss_bytes_after": app.worker_rss()}
        if busy_users > 0:
            res["release_busy_journey"] = busy_journey(app, deps, years, journey,
                                                       {"users": busy_users, "processes": busy_processes})
    return _finish_partial(res, {**res, "params": {**res["params"], "scale": None}}, ("release journey", "release busy day"), out)


def journey_main(args) -> int:
    from bench.report import journey_lines

    out = Path(args.out).with_name("journey.json") if args.out else None
    try:
        res = run_journeys_only(Path(args.journey_db), out, users=args.journey_users, busy_users=args.busy_users,
                                busy_processes=args.busy_processes, seconds=args.journey_seconds, seed=args.seed,
                                workers=args.workers, threads=args.threads, port=args.port, work=Path(args.work),
                                download_share=args.journey_downloads)
    except (RuntimeError, ValueError) as exc:
        print(f"Benchmark stopped: {exc}", file=sys.stderr)
        return 1
    print("\n".join(journey_lines(res)))
    if out:
        print(f"\nwrote {out}")
    return 0


def _finish(results: dict, t_all: float, out) -> dict:
    results["seconds_total"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = evaluate_targets(results)
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        write_markdown(results, out.with_suffix(".md"))
    return results


def main(args) -> int:
    """Benchmark the build, a pandas baseline, the release, the app's callbacks and a many-reader journey."""
    if getattr(args, "first_visit", False):
        from bench.first_visit import run_first_visit
        from bench.first_visit import table as first_visit_table

        out = Path(args.out).with_name("first-visit.json") if args.out else None
        try:
            res = run_first_visit(Path(args.first_visit_db), out, runs=args.first_visit_runs, workers=args.workers,
                                  threads=args.threads, port=args.port, work=Path(args.work))
        except (RuntimeError, ValueError) as exc:
            print(f"Benchmark stopped: {exc}", file=sys.stderr)
            return 1
        print(first_visit_table(res))
        if out:
            print(f"\nwrote {out}")
        return 0
    if getattr(args, "api", False):
        return api_main(args)
    if getattr(args, "policy_cost", False):
        return policy_cost_main(args)
    if getattr(args, "journey_only", False):
        return journey_main(args)
    if getattr(args, "layouts_only", False):
        return layouts_main(args)
    try:
        res = run(**run_arguments(args))
    except (RuntimeError, ValueError) as exc:
        print(f"Benchmark stopped: {exc}", file=sys.stderr)
        return 1
    print(table(res))
    if args.out:
        print(f"\nwrote {args.out} and {Path(args.out).with_suffix('.md')}")
    return 0


def run_api_only(db_path: Path, out: Path | None, workers: int = 2, threads: int = 1, port: int | None = None,
                 work: Path = DEFAULT_WORK, **api) -> dict:
    """Only the open-data API's load, on ``db_path`` served by gunicorn (``workers`` x ``threads``, as
    ``make serve``); written to ``out`` (JSON) when given."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise RuntimeError(f"{db_path} does not exist: build it first (make release) or give --api-db")
    res = {"params": {"db": str(db_path), "workers": workers, "threads": threads, **api}, "machine": machine()}
    with AppServer(db_path, Path(work) / "gunicorn-api.log", workers=workers, threads=threads, port=port) as app:
        res["api"] = run_api_load(app.url, **api)
    return _finish_partial(res, {"params": {"scale": None}, "release_api": res["api"]}, ("release API",), out)


def api_main(args) -> int:
    from bench.options import api_arguments
    from bench.report import api_rows

    out = Path(args.out).with_name("api.json") if args.out else None
    settings = {k: v for k, v in api_arguments(args).items() if k != "on"}
    try:
        res = run_api_only(Path(args.api_db), out, workers=args.workers, threads=args.threads, port=args.port,
                           work=Path(args.work), **settings)
    except (RuntimeError, ValueError) as exc:
        print(f"Benchmark stopped: {exc}", file=sys.stderr)
        return 1
    print("\n".join(api_rows(res["api"], f"open-data API on {Path(args.api_db).name} "
                                          f"({args.workers} workers x {args.threads} threads)", res["targets"])))
    if out:
        print(f"\nwrote {out}")
    return 0


def policy_cost_main(args) -> int:
    """``python -m bench --policy-cost``: only the policy figures of first views (bench/policy_cost.py) on
    ``--policy-db``, written to ``policy-cost.json`` beside ``--out``."""
    from bench.policy_cost import rows_of

    db_path = Path(args.policy_db)
    if not db_path.exists():
        print(f"Benchmark stopped: {db_path} does not exist: build it first (make release) or give --policy-db",
              file=sys.stderr)
        return 1
    res = {"params": {"db": str(db_path)}, "machine": machine()}
    from bench.options import policy_measures
    from bench.policy_pages import rows_of as pages_rows

    res["policy_cost"] = policy_cost_step(db_path, Path(args.work), measures=policy_measures(args))
    res["policy_pages"] = policy_pages_step(db_path, Path(args.work), measures=policy_measures(args))
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print("\n".join(rows_of(res["policy_cost"], f"policy figures on {db_path.name}")))
    print("\n".join(pages_rows(res["policy_pages"], f"/recent-trends and the area profile on {db_path.name}")))
    print(f"load average {res['machine'].get('load_average_at_start')} at the start, "
          f"{res['machine']['load_average_at_end']} at the end")
    out = Path(args.out).with_name("policy-cost.json") if args.out else None
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nwrote {out}")
    return 0
