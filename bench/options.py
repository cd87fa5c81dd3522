"""The benchmark's command-line options, defined once: ``python -m bench`` and ``python -m etl bench``
both add them with :func:`add_options` and pass the parsed options to :func:`run_arguments`."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.payloads import CALLBACKS
from bench.server import FIRST_PORT
from etl.settings import REPO_ROOT

# the measures with an avoidable figure (atlas.policy.OPPORTUNITY_MEASURES): markers and avoidable both
POLICY_MEASURES = ("imaging_rate", "lowvalue_rate", "persons_rate")
DEFAULT_DIR = REPO_ROOT / "data" / "bench"          # ignored by git, as all of data/
DEFAULT_WORK = DEFAULT_DIR / "work"
DEFAULT_OUT = DEFAULT_DIR / "results.json"


def add_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--scale", type=float, default=1.0, help="1.0 is all of Denmark (default)")
    p.add_argument("--seed", type=int, default=42, help="seed of the synthetic data, the list of views and the journey")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="results file (JSON; a markdown report is written beside it)")
    p.add_argument("--requests", type=int, default=60, help="number of distinct views (each sent cold and warm)")
    p.add_argument("--work", default=str(DEFAULT_WORK), help="folder for the extracts, databases and logs")
    p.add_argument("--reuse", action="store_true", help="reuse extracts of the same scale and seed in --work")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1, as make serve)")
    p.add_argument("--callbacks", default=",".join(CALLBACKS), help="figure callbacks to time, comma-separated")
    p.add_argument("--pandas-mode", choices=("auto", "all-at-once", "by-year"), default="auto",
                   help="auto: all at once unless that is estimated (or turns out) to need more than 16 GB")
    p.add_argument("--app-only", action="store_true",
                   help="time only the app, on the databases of an earlier run (keeps that run's build figures)")
    p.add_argument("--build-only", action="store_true",
                   help="only the data steps: generation, build, pandas baseline and release (no app, no journey)")
    p.add_argument("--layouts-only", action="store_true",
                   help="only the register layout against the contract layout: the world of --scale and --seed "
                        "generated in both layouts (--reuse keeps earlier extracts) and each built; writes "
                        "layouts.json beside --out (issue 26)")
    p.add_argument("--no-layouts", action="store_true",
                   help="leave out the register-layout build (a full run generates and builds both layouts "
                        "after the release)")
    p.add_argument("--layouts-rounds", type=int, default=1,
                   help="builds of each layout, alternating; each layout's fastest is compared (a shared machine)")
    p.add_argument("--port", type=int, help=f"port on 127.0.0.1 (default: the first free from {FIRST_PORT})")
    p.add_argument("--journey-users", type=int, default=50, help="readers at once in the journey (0: no journey)")
    p.add_argument("--journey-seconds", type=float, default=60.0, help="length of the journey")
    p.add_argument("--journey-on", default="secure,release",
                   help="databases the journey runs on, comma-separated: secure, release (each takes about a minute)")
    p.add_argument("--journey-downloads", type=float, default=0.15,
                   help="share of a reader's control changes followed by a CSV download")
    p.add_argument("--busy-users", type=int, default=200,
                   help="readers at once in the busy day's journey on the release, after the --journey-users one "
                        "(issue 31; 0: none)")
    p.add_argument("--busy-processes", type=int, default=4,
                   help="client processes the busy day's readers are spread over")
    p.add_argument("--journey-only", action="store_true",
                   help="only the journeys (--journey-users and --busy-users readers) on --journey-db served with "
                        "gunicorn as make serve; writes journey.json beside --out")
    p.add_argument("--journey-db", default=str(REPO_ROOT / "data" / "release.duckdb"),
                   help="database --journey-only runs on (default: the demo release, make release)")
    p.add_argument("--first-visit", action="store_true",
                   help="only the first visit in headless Chromium: bytes of the first page and time until the map "
                        "is painted, cold and warm (bench/first_visit.py); serves --first-visit-db")
    p.add_argument("--first-visit-db", default=str(REPO_ROOT / "data" / "release.duckdb"),
                   help="database the first visit is measured on (default: the demo release, make release)")
    p.add_argument("--first-visit-runs", type=int, default=3, help="cold visits (each with a fresh browser profile)")
    p.add_argument("--api-seconds", type=float, default=30.0,
                   help="length of the open-data API's load (bench/api_load.py; 0: none)")
    p.add_argument("--api-views", type=int, default=200, help="distinct API addresses the load asks for")
    p.add_argument("--api-clients", type=int, default=2, help="client processes of the API load")
    p.add_argument("--api-threads", type=int, default=4, help="threads (connections) per client process")
    p.add_argument("--api-rate", type=float, default=300.0,
                   help="requests a second of the API's paced load, after the load as fast as the clients can "
                        "(the p95 target is checked at this rate; 0: no paced load)")
    p.add_argument("--api-page-share", type=float, default=0.3,
                   help="share of the API load's addresses that are the pathways and return-letters endpoints "
                        "(/api/v1/pathways/*, /api/v1/returns/*); the rest are data, trend, breakdown and mix")
    p.add_argument("--api-on", default="release",
                   help="databases the API load runs on, comma-separated: secure, release")
    p.add_argument("--api", action="store_true",
                   help="only the open-data API's load, served from --api-db with gunicorn (as make serve)")
    p.add_argument("--api-db", default=str(REPO_ROOT / "data" / "release.duckdb"),
                   help="database the --api load is measured on (default: the demo release, make release)")
    p.add_argument("--policy-cost", action="store_true",
                   help="only the markers and avoidable examinations of first views (bench/policy_cost.py) and the "
                        "cold /recent-trends and area profile (bench/policy_pages.py), each in a fresh process on "
                        "--policy-db; writes policy-cost.json beside --out")
    p.add_argument("--policy-measures", default=",".join(POLICY_MEASURES),
                   help="measures whose first-view policy figures are timed (every level), comma-separated, or 'all' "
                        "(on the secure database at national scale each takes seconds)")
    p.add_argument("--policy-db", default=str(REPO_ROOT / "data" / "release.duckdb"),
                   help="database --policy-cost is measured on (default: the demo release, make release)")
    return p


def run_arguments(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`bench.run.run` from the parsed options."""
    return {"scale": args.scale, "seed": args.seed, "out": Path(args.out) if args.out else None,
            "requests_n": args.requests, "work": Path(args.work), "reuse": args.reuse, "workers": args.workers,
            "threads": args.threads, "callbacks": tuple(c.strip() for c in args.callbacks.split(",") if c.strip()),
            "pandas_mode": args.pandas_mode, "port": args.port, "app_only": args.app_only,
            "build_only": args.build_only,
            "journey_users": args.journey_users, "journey_seconds": args.journey_seconds,
            "journey_downloads": args.journey_downloads, "busy_users": args.busy_users,
            "busy_processes": args.busy_processes,
            "journey_on": tuple(d.strip() for d in args.journey_on.split(",") if d.strip()),
            "api": api_arguments(args), "policy_measures": policy_measures(args),
            "layouts": not args.no_layouts, "layouts_rounds": args.layouts_rounds}


def policy_measures(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The measures ``--policy-measures`` names (None: every measure)."""
    value = getattr(args, "policy_measures", ",".join(POLICY_MEASURES))
    return None if value.strip() == "all" else tuple(m.strip() for m in value.split(",") if m.strip())


def api_arguments(args: argparse.Namespace) -> dict:
    """The API load's settings (:func:`bench.api_load.run_api_load`) and the databases it runs on."""
    return {"seconds": args.api_seconds, "views_n": args.api_views, "clients": args.api_clients,
            "client_threads": args.api_threads, "seed": args.seed, "rate": args.api_rate or None,
            "page_share": args.api_page_share,
            "on": tuple(d.strip() for d in args.api_on.split(",") if d.strip())}
