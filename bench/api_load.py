"""The open-data API under load (issue 28: data requests p95 <= 20 ms, >= 300 requests a second, no
errors, against gunicorn as ``make serve`` runs it).

The views are drawn (seeded) from what the served database publishes, as a program would find them:
``/api/v1/measures`` and, per measure, ``/api/v1/measures/{key}/published`` (on the secure
database, which answers any combination, from ``/api/v1/periods`` and the levels). Each is a
``/api/v1/data`` address (one level or ``level=all``, a fifth of them as CSV), with a trend, a
breakdown or a mix now and then. A share of the addresses (``page_share``, 30 %) are the pathways and
return-letters pages' endpoints (``/api/v1/pathways/*``, ``/api/v1/returns/*``), drawn as a program finds
them too: the endpoints from ``/api/v1/``, their parameters' values from ``/api/v1/openapi.json``, the
areas and periods from ``/api/v1/areas`` and ``/api/v1/periods``, the centres and months from the
returns' own summary and series. First every view is asked for once, one at a time (``cold``: the
worker computes it; a view answered 404 "not_published", such as a breakdown whose groups are not
published at that level and period, is counted apart and left out of the load, unless the answer
names the nearest published view, as the pathways endpoints do on the release: then that one is asked
for in its place, as a program following the answer would); then ``clients`` client processes, each with ``threads`` threads, ask for
views at random for ``seconds`` (``load``; before it, every view is asked for a few more times so
that each worker has answered most of them: a view a worker has answered before is served from its
cache, one it has not is computed). Every answer must be 200; anything else is an error. The
clients run on the same machine as the server and take CPU from it: the rate is what one machine
serves and asks at once, a lower bound of what the server alone could serve. Every latency is
also summarised by family (``atlas``: data, trend, breakdown, mix; ``pathways``; ``returns``).
"""
from __future__ import annotations

import multiprocessing as mp
import random
import time
from urllib.parse import urlencode

from bench.callbacks import summary

ROOT = "/api/v1/"
TIMEOUT = 30
PAGE_SHARE = 0.3         # of the addresses: the pathways and return-letters endpoints
PAGE_PREFIXES = ("pathways/", "returns/")
WINDOW_ENDPOINTS = ("pathways/flows", "pathways/outcomes")     # the endpoints the follow-up window changes


def family(path: str) -> str:
    """The family of an API address: ``pathways``, ``returns`` or ``atlas`` (data, trend, breakdown, mix)."""
    name = path[len(ROOT):].split("?", 1)[0]
    return name.split("/", 1)[0] if name.startswith(PAGE_PREFIXES) else "atlas"


def by_family(paths: list[str], ms: list[float]) -> dict:
    """The latencies ``ms`` (of ``paths``, in the same order) summarised per :func:`family`."""
    out: dict[str, list[float]] = {}
    for path, took in zip(paths, ms):
        out.setdefault(family(path), []).append(took)
    return {name: summary(got) for name, got in sorted(out.items())}


def api_views(url: str, n: int, seed: int, page_share: float = PAGE_SHARE) -> list[str]:
    """``n`` API addresses of published views (paths with their query), drawn with ``seed``: about
    ``page_share`` of them of the pathways and return-letters endpoints (:func:`page_views`), the
    rest of the atlas's (data, trend, breakdown, mix)."""
    import requests

    with requests.Session() as s:
        return api_views_with(s, url, n, seed, page_share)


def api_views_with(s, url: str, n: int, seed: int, page_share: float = PAGE_SHARE) -> list[str]:
    """:func:`api_views`, asking with the session ``s``."""
    rng = random.Random(seed)
    pages = page_views(s, url, round(n * page_share), random.Random(seed + 1))
    measures = [m["key"] for m in s.get(url + ROOT + "measures", timeout=TIMEOUT).json()["measures"]]
    periods = s.get(url + ROOT + "periods", timeout=TIMEOUT).json()
    published: dict[str, list] = {}
    for m in measures:
        body = s.get(url + ROOT + f"measures/{m}/published", timeout=TIMEOUT).json()
        if body.get("any"):
            published[m] = [{"level": lv, "period": p, "filters": {}} for lv in ("municipality", "region", "region2027")
                            for p in periods["periods"]]
        else:
            published[m] = body["views"]
    out, seen = [], set()
    tries = 0
    n -= len(pages)
    while len(out) < n and tries < 50 * n:
        tries += 1
        m = rng.choice(measures)
        if not published[m]:
            continue
        v = rng.choice(published[m])
        q = {"measure": m, "level": v["level"], "period": v["period"], **v["filters"]}
        roll = rng.random()
        endpoint = "data"
        if roll < 0.1 and not v["filters"]:
            q["level"] = "all"
        elif roll < 0.2:
            endpoint = "trend"
        elif roll < 0.25:
            endpoint = "breakdown"
            q = {k: x for k, x in q.items() if k in ("measure", "level", "period")}
        elif roll < 0.3:
            endpoint = "mix"
        if rng.random() < 0.2:
            q["format"] = "csv"
        address = ROOT + endpoint + "?" + urlencode(q)
        if address not in seen:
            seen.add(address)
            out.append(address)
    mixed = out + pages
    random.Random(seed + 2).shuffle(mixed)
    return mixed


def page_views(s, url: str, n: int, rng: random.Random) -> list[str]:
    """``n`` addresses of the pathways and return-letters endpoints, asked for as a program finds them
    (session ``s``): the endpoints from ``/api/v1/``, the values of their parameters from
    ``/api/v1/openapi.json``, the areas and periods from ``/api/v1/areas`` and ``/api/v1/periods``, the
    centres from ``returns/summary`` and the months from ``returns/series`` (a date leaves two months
    on each side). A pathways view is an area (or Denmark) and a period, now and then with a filter;
    on the release most are not published, and their answer names the nearest that is (followed in
    :func:`run_api_load`'s cold pass)."""
    if n <= 0:
        return []
    endpoints = [e for e in s.get(url + ROOT, timeout=TIMEOUT).json()["endpoints"] if e.startswith(PAGE_PREFIXES)]
    if not endpoints:
        return []
    spec = s.get(url + ROOT + "openapi.json", timeout=TIMEOUT).json()["paths"]

    def enum(endpoint: str, name: str) -> list:
        found = [p["schema"].get("enum") or [] for p in spec["/" + endpoint]["get"]["parameters"] if p["name"] == name]
        return found[0] if found else []

    codes: dict[str, list[int]] = {}
    for a in s.get(url + ROOT + "areas", timeout=TIMEOUT).json()["areas"]:
        codes.setdefault(a["level"], []).append(a["code"])
    periods = s.get(url + ROOT + "periods", timeout=TIMEOUT).json()["periods"]
    centres = [r["producer_id"] for r in s.get(url + ROOT + "returns/summary", timeout=TIMEOUT).json()["data"]]
    months = [r["month"] for r in s.get(url + ROOT + "returns/series", timeout=TIMEOUT).json()["data"]]
    dates = [f"{m}-01" for m in months[2:-1]]
    fixed = {"level", "area", "y0", "y1", "period", "win", "lang", "format", "sep", "tables", "header"}
    out: list[str] = []
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        endpoint = rng.choice(endpoints)
        if endpoint.startswith("pathways/"):
            level = rng.choice(enum(endpoint, "level"))
            q = {"level": level}
            if codes.get(level) and rng.random() < 0.7:
                q["area"] = rng.choice(codes[level])
            q["period"] = rng.choice(periods)
            if endpoint in WINDOW_ENDPOINTS:
                q["win"] = rng.choice(enum(endpoint, "win"))
            filters = [p["name"] for p in spec["/" + endpoint]["get"]["parameters"] if p["name"] not in fixed]
            if filters and rng.random() < 0.1:
                key = rng.choice(filters)
                q[key] = rng.choice([v for v in enum(endpoint, key) if v != "all"])
        else:
            q = {"measure": rng.choice(enum(endpoint, "measure")), "exam": rng.choice(enum(endpoint, "exam"))}
            if centres and rng.random() < 0.3:
                q["centre"] = rng.choice(centres)
            if dates and rng.random() < 0.5:
                q["date"] = rng.choice(dates)
        if rng.random() < 0.2:
            q["format"] = "csv"
        address = ROOT + endpoint + "?" + urlencode(q)
        if address not in out:
            out.append(address)
    return out


def _client(url: str, views: list[str], start_at: float, seconds: float, threads: int, seed: int, queue,
            interval: float | None = None, offset: float = 0.0) -> None:
    """One client process: ``threads`` threads, each with its own session, from ``start_at``
    (``time.monotonic``, the same clock in every process) for ``seconds``: each as fast as it can,
    or, with ``interval``, one request every ``interval`` seconds (paced; the first after ``offset``
    plus the thread's share of the interval). A paced request's time counts from when it was due,
    so a request sent late because the one before was slow counts its wait too."""
    import threading

    import requests

    lock = threading.Lock()
    ms: list[float] = []
    paths: list[str] = []              # the address of each of ms
    own: list[float] = []              # paced: each request's own time, from when it was sent
    errors: list[dict] = []
    deadline = start_at + seconds

    def run(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        due = start_at + offset + (interval or 0) * i / threads
        with requests.Session() as s:
            while time.monotonic() < deadline:
                path = rng.choice(views)
                late = 0.0
                if interval:
                    time.sleep(max(0.0, due - time.monotonic()))
                    late = max(0.0, time.monotonic() - due)          # timed from when it was due
                    due += interval
                t0 = time.perf_counter()
                try:
                    r = s.get(url + path, timeout=TIMEOUT)
                    status = r.status_code
                    r.content
                except Exception as exc:                     # a refused or timed-out request is a result
                    status = type(exc).__name__
                took = (time.perf_counter() - t0) * 1000
                with lock:
                    if status == 200:
                        ms.append(took + late * 1000)
                        paths.append(path)
                        own.append(took)
                    else:
                        errors.append({"path": path, "status": status, "ms": round(took, 1)})

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    time.sleep(max(0.0, start_at - time.monotonic()))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((ms, errors, time.monotonic(), own, paths))


def _phase(url: str, views: list[str], seconds: float, clients: int, client_threads: int, seed: int,
           rate: float | None = None) -> dict:
    """``clients`` processes of ``client_threads`` threads for ``seconds``: as fast as they can, or
    together ``rate`` requests a second (paced); latencies, errors and the rate achieved."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.monotonic() + 5.0                 # every client process started and ready
    interval = clients * client_threads / rate if rate else None
    procs = [ctx.Process(target=_client, args=(url, views, start_at, seconds, client_threads, seed + i, queue,
                                               interval, (interval or 0) * i / (clients * client_threads)),
                         daemon=True)
             for i in range(clients)]
    for p in procs:
        p.start()
    ms: list[float] = []
    own: list[float] = []
    paths: list[str] = []
    errors: list[dict] = []
    ends = []
    for _ in procs:
        got_ms, got_errors, end, got_own, got_paths = queue.get(timeout=seconds + 120)
        ms += got_ms
        own += got_own
        paths += got_paths
        errors += got_errors
        ends.append(end)
    for p in procs:
        p.join(timeout=30)
    duration = max(ends) - start_at
    return {"clients": clients, "client_threads": client_threads, "seconds": seconds, "rate_asked": rate,
            "duration_seconds": round(duration, 1), "requests": len(ms) + len(errors), "errors": len(errors),
            "error_examples": errors[:10],
            "requests_per_second": round((len(ms) + len(errors)) / duration, 1) if duration else None,
            "load": summary(ms), "by_family": by_family(paths, ms), **({"sent_to_answer": summary(own)} if rate else {})}


def _error(r) -> dict:
    """The ``error`` of an API answer ({} if it has none or is not JSON)."""
    try:
        return r.json().get("error") or {}
    except ValueError:
        return {}


def cold_pass(s, url: str, drawn: list[str]) -> dict:
    """Each drawn address asked for once, one at a time, with session ``s``: the addresses answered
    200 (``views``) and their times (``cold``, ms), those answered 404 "not_published"
    (``unpublished``), and the errors. A drawn address whose 404 names the nearest published view
    (the pathways endpoints on the release) is replaced by that view (``moved``: [drawn, nearest]),
    unless it is already drawn or asked for: so each drawn address gives at most one view."""
    views, cold, unpublished, moved, errors = [], [], [], [], []
    for path in drawn:
        asked = path
        while True:
            t0 = time.perf_counter()
            r = s.get(url + asked, timeout=TIMEOUT)
            took = (time.perf_counter() - t0) * 1000
            error = _error(r) if r.status_code == 404 else {}
            nearest = error.get("nearest") if error.get("code") == "not_published" else None
            if asked == path and nearest and nearest not in views and nearest not in drawn:
                moved.append([path, nearest])   # not published: the nearest view that is, in its place
                asked = nearest
                continue
            break
        if r.status_code == 200:
            cold.append(took)
            views.append(asked)
        elif error.get("code") == "not_published":
            unpublished.append(asked)        # a breakdown with no groups published: a right answer, not asked again
        else:
            errors.append({"path": asked, "status": r.status_code, "body": r.text[:200]})
    return {"views": views, "cold": cold, "unpublished": unpublished, "moved": moved, "errors": errors}


def run_api_load(url: str, views_n: int = 200, seconds: float = 30.0, clients: int = 2, client_threads: int = 4,
                 seed: int = 42, warm_rounds: int = 6, rate: float | None = 300.0, page_share: float = PAGE_SHARE) -> dict:
    """The API under load at ``url`` (see the module's doc); its latencies, rate and errors.

    Between the cold pass and the load every view is asked for ``warm_rounds`` times more, one at a
    time: each request is a new connection (gunicorn's sync workers close it), which the kernel
    hands to any worker, so each worker has most views in its cache when the load starts."""
    import requests

    drawn = api_views(url, views_n, seed, page_share)
    with requests.Session() as s:
        first = cold_pass(s, url, drawn)
        views, cold, unpublished, moved, cold_errors = (first[k] for k in ("views", "cold", "unpublished", "moved", "errors"))
        for _ in range(warm_rounds):
            for path in views:
                s.get(url + path, timeout=TIMEOUT)
    full = _phase(url, views, seconds, clients, client_threads, seed)
    paced = _phase(url, views, seconds, clients, client_threads, seed + 100, rate) if rate else None
    by_endpoint: dict[str, int] = {}
    for v in views:
        name = v[len(ROOT):].split("?", 1)[0] + (" csv" if "format=csv" in v else "")
        by_endpoint[name] = by_endpoint.get(name, 0) + 1
    return {"views": len(views), "not_published": len(unpublished), "not_published_examples": unpublished[:3],
            "moved_to_nearest": len(moved), "moved_examples": moved[:3],
            "views_by_endpoint": by_endpoint, "examples": views[:5], "page_share": page_share,
            "warm_rounds": warm_rounds, "cold": summary(cold), "cold_by_family": by_family(views, cold), "cold_errors": len(cold_errors), "cold_error_examples": cold_errors[:5],
            "clients": clients, "client_threads": client_threads, "seconds": seconds,
            "duration_seconds": full["duration_seconds"], "requests": full["requests"],
            "errors": full["errors"] + (paced["errors"] if paced else 0),
            "error_examples": full["error_examples"] + (paced["error_examples"] if paced else []),
            "requests_per_second": full["requests_per_second"], "load": full["load"], "by_family": full["by_family"],
            "paced": paced,
            "note": "clients and server share the machine; cold = each view once, one at a time; load = as fast as "
                    "the clients can ask (the capacity); paced = the clients together ask rate_asked a second, each "
                    "request timed from when it was due (the latency at that rate)"}
