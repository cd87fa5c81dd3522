"""Many readers at once on the served app, each doing what a person at the atlas page does.

Each simulated reader (a thread with its own HTTP session) opens the page (``GET /``,
``/_dash-layout``, ``/_dash-dependencies``, the page's layout from dash's router and the first
state and figure callbacks), then, every 1-3 s (uniform, seeded), changes one control: the state
callback is sent with that control's new value, and with the ``view.data`` it answers, every
callback that draws the view is sent at once, as the browser does (up to 6 connections per reader).
Now and then (``download_share`` of the changes) the reader then downloads one chart's CSV.
Payloads follow the app's own ``/_dash-dependencies``. Latencies are wall times seen by the client
(which runs on the same machine as the server).
"""
from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.callbacks import summary
from bench.payloads import (
    callback_body,
    download_body,
    read_state_answer,
    router_body,
    state_body,
    state_callback,
    updated_stores,
    view_callbacks,
    view_store_of,
    wildcard_controls,
)

CHARTS = ("map", "rank", "funnel", "trend", "breakdown", "mix")      # charts with a CSV download
CONNECTIONS = 6                  # a browser's parallel connections to one host
TIMEOUT = 60                     # seconds per request
# how often each control is the one a reader changes
CHANGES = {"measure.value": 2, "level.value": 1, "years.value": 2, "rates.value": 1, "standard.value": 0.5, "dim": 2}
OK = (200, 204)                  # 204: the callback left its outputs as they were


class Recorder:
    """Latencies by kind of request and the failed requests, shared by the readers' threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = {}
        self.errors: list[dict] = []
        self.sent = 0

    def send(self, session, kind: str, method: str, url: str, **kw):
        """Send one request; keep its time under ``kind`` when it answers 200/204, else count an error."""
        t0 = time.perf_counter()
        try:
            r = session.request(method, url, timeout=TIMEOUT, **kw)
            status = r.status_code
        except Exception as exc:                # a refused or timed-out request is a result, not a crash
            r, status = None, type(exc).__name__
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.sent += 1
            if status in OK:
                self.ms.setdefault(kind, []).append(ms)
            else:
                self.errors.append({"kind": kind, "status": status, "ms": round(ms, 1)})
        return r if status in OK else None


def _pick_change(rng: random.Random, controls: dict, years: list[int], filters: list[str]):
    """One control and a new value for it, as a reader would choose (``id.property``, value)."""
    from atlas.filters import DIMENSIONS, LEVELS, RATE_MODES, STANDARDS
    from atlas.measures import MEASURES

    which = rng.choices(list(CHANGES), weights=list(CHANGES.values()))[0]
    if which == "dim":
        which = rng.choice(filters)
        key = which.split('"key":"', 1)[1].split('"', 1)[0]
        options = ["all"] + [str(v) for v in DIMENSIONS[key][1]]
    elif which == "years.value":
        y0, y1 = sorted(rng.sample(years, 2)) if rng.random() < 0.5 or len(years) < 2 else [rng.choice(years)] * 2
        return which, [y0, y1]
    else:
        options = {"measure.value": sorted(MEASURES), "level.value": LEVELS, "rates.value": RATE_MODES,
                   "standard.value": STANDARDS}[which]
    others = [o for o in options if o != controls.get(which)] or list(options)
    return which, rng.choice(others)


def _reader(url: str, deps: list, years: list[int], rng: random.Random, start: float, deadline: float,
            think: tuple[float, float], download_share: float, rec: Recorder, tally: dict) -> None:
    import requests
    from requests.adapters import HTTPAdapter

    from atlas.filters import DIMENSIONS

    dim_keys = list(DIMENSIONS)
    state_dep = state_callback(deps)
    views = view_callbacks(deps)
    filters = wildcard_controls(state_dep, dim_keys)
    controls: dict = {}
    time.sleep(max(0.0, start - time.monotonic()))
    with requests.Session() as s, ThreadPoolExecutor(CONNECTIONS) as pool:
        s.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=CONNECTIONS))
        post = "/_dash-update-component"

        def change(changed: str, current: str | None) -> str | None:
            """The state callback, then every callback of the new view at once; the new ``view.data``."""
            t0 = time.perf_counter()
            r = rec.send(s, "state", "POST", url + post,
                         json=state_body(state_dep, controls, current, changed, dim_keys))
            if r is None:
                return None
            answer = r.json()
            new, stores = read_state_answer(answer, controls), updated_stores(answer)
            jobs = [pool.submit(rec.send, s, name, "POST", url + post, json=callback_body(name, new, dep=dep))
                    for name, dep in views.items() if view_store_of(dep) in stores]
            for j in jobs:
                j.result()
            with rec.lock:
                rec.ms.setdefault("view_update", []).append((time.perf_counter() - t0) * 1000)
            return new

        for path in ("/", "/_dash-layout", "/_dash-dependencies"):
            rec.send(s, "page", "GET", url + path)
        rec.send(s, "page_layout", "POST", url + post, json=router_body(deps)[1])
        hash_ = change("atlas-url.hash", None)
        changes = downloads = 0
        seen = {hash_}
        while hash_ is not None and (changes == 0 or time.monotonic() < deadline):
            time.sleep(rng.uniform(*think))
            which, value = _pick_change(rng, controls, years, filters)
            controls[which] = value
            new = change(which, hash_)
            hash_ = hash_ if new is None else new
            seen.add(hash_)
            changes += 1
            if rng.random() < download_share:
                rec.send(s, "download", "POST", url + post, json=download_body(deps, rng.choice(CHARTS), hash_))
                downloads += 1
    with rec.lock:
        tally["changes"] += changes
        tally["downloads"] += downloads
        tally["views"] |= seen - {None}


def _readers(url: str, deps: list, years: list[int], specs: list[tuple[float, float]], deadline: float,
             think: tuple[float, float], download_share: float, queue=None):
    """Readers (seed, start time) in this process's threads; their recorder and tally (put on ``queue``
    when given: one client process among several)."""
    rec = Recorder()
    tally = {"changes": 0, "downloads": 0, "views": set()}
    threads = [threading.Thread(target=_reader, daemon=True, name=f"reader-{i}",
                                args=(url, deps, years, random.Random(seed), start, deadline, think, download_share,
                                      rec, tally))
               for i, (seed, start) in enumerate(specs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if queue is not None:
        queue.put((rec.ms, rec.errors, rec.sent, tally))
    return rec, tally


def run_journey(url: str, deps: list, years: list[int], users: int = 50, seconds: float = 60.0, seed: int = 42,
                think: tuple[float, float] = (1.0, 3.0), download_share: float = 0.15, processes: int = 1) -> dict:
    """``users`` readers for ``seconds`` against the app at ``url``; their latencies and errors.

    Readers arrive over the first ``think[1]`` seconds (at most a tenth of the run) and change
    controls until the time is up, each at least once (so the run may overrun by one pause and one
    change: ``duration_seconds``). ``callbacks`` pools every ``POST /_dash-update-component``
    (state, figures, downloads, the page's layout): the capacity target is checked on its p95.
    ``processes``: client processes the readers are spread over (each reader keeps its seed and
    arrival time whatever the number), so that many readers are not slowed by one client's
    interpreter lock: the wait measured is the server's, not the client's."""
    import multiprocessing as mp

    master = random.Random(seed)
    t0 = time.monotonic()
    lead = 5.0 if processes > 1 else 0.0           # every client process started before the first reader
    specs = [(master.random(), t0 + lead + master.uniform(0, min(think[1], seconds / 10))) for _ in range(users)]
    deadline = t0 + lead + seconds
    if processes <= 1:
        rec, tally = _readers(url, deps, years, specs, deadline, think, download_share)
        ms, errors, sent = rec.ms, rec.errors, rec.sent
    else:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_readers, args=(url, deps, years, specs[i::processes], deadline, think,
                                                     download_share, queue), daemon=True) for i in range(processes)]
        for p in procs:
            p.start()
        ms, errors, sent, tally = {}, [], 0, {"changes": 0, "downloads": 0, "views": set()}
        for _ in procs:
            got_ms, got_errors, got_sent, got_tally = queue.get(timeout=seconds + 600)
            for k, v in got_ms.items():
                ms.setdefault(k, []).extend(v)
            errors += got_errors
            sent += got_sent
            tally["changes"] += got_tally["changes"]
            tally["downloads"] += got_tally["downloads"]
            tally["views"] |= got_tally["views"]
        for p in procs:
            p.join(timeout=30)
    duration = time.monotonic() - t0 - lead
    callback_kinds = [k for k in ms if k not in ("page", "view_update")]
    errors_by_kind: dict[str, int] = {}
    for e in errors:
        errors_by_kind[e["kind"]] = errors_by_kind.get(e["kind"], 0) + 1
    return {
        "users": users, "seconds": seconds, "duration_seconds": round(duration, 1), "think_seconds": list(think),
        "download_share": download_share, "seed": seed, "client_processes": max(1, processes),
        "control_changes": tally["changes"], "distinct_views": len(tally["views"]), "downloads": tally["downloads"],
        "requests_sent": sent,
        "requests_per_second": round(sent / duration, 1) if duration else None,
        "errors": len(errors), "errors_by_kind": errors_by_kind, "error_examples": errors[:10],
        "callbacks": summary([x for k in callback_kinds for x in ms[k]]),
        "per_kind": {k: summary(v) for k, v in sorted(ms.items())},
    }
