"""The open-data API under load (issue 28: data requests p95 <= 20 ms, >= 300 requests a second, no
errors, against gunicorn as ``make serve`` runs it).

The views are drawn (seeded) from what the served database publishes, as a program would find them:
``/api/v1/measures`` and, per measure, ``/api/v1/measures/{key}/published`` (on the secure
database, which answers any combination, from ``/api/v1/periods`` and the levels). Each is a
``/api/v1/data`` address (one level or ``level=all``, a fifth of them as CSV), with a trend, a
breakdown or a mix now and then. First every view is asked for once, one at a time (``cold``: the
worker computes it; a view answered 404 "not_published", such as a breakdown whose groups are not
published at that level and period, is counted apart and left out of the load); then ``clients`` client processes, each with ``threads`` threads, ask for
views at random for ``seconds`` (``load``; before it, every view is asked for a few more times so
that each worker has answered most of them: a view a worker has answered before is served from its
cache, one it has not is computed). Every answer must be 200; anything else is an error. The
clients run on the same machine as the server and take CPU from it: the rate is what one machine
serves and asks at once, a lower bound of what the server alone could serve.
"""
from __future__ import annotations

import multiprocessing as mp
import random
import time
from urllib.parse import urlencode

from bench.callbacks import summary

ROOT = "/api/v1/"
TIMEOUT = 30


def api_views(url: str, n: int, seed: int) -> list[str]:
    """``n`` API addresses of published views (paths with their query), drawn with ``seed``."""
    import requests

    rng = random.Random(seed)
    with requests.Session() as s:
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
                        own.append(took)
                    else:
                        errors.append({"path": path, "status": status, "ms": round(took, 1)})

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    time.sleep(max(0.0, start_at - time.monotonic()))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((ms, errors, time.monotonic(), own))


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
    errors: list[dict] = []
    ends = []
    for _ in procs:
        got_ms, got_errors, end, got_own = queue.get(timeout=seconds + 120)
        ms += got_ms
        own += got_own
        errors += got_errors
        ends.append(end)
    for p in procs:
        p.join(timeout=30)
    duration = max(ends) - start_at
    return {"clients": clients, "client_threads": client_threads, "seconds": seconds, "rate_asked": rate,
            "duration_seconds": round(duration, 1), "requests": len(ms) + len(errors), "errors": len(errors),
            "error_examples": errors[:10],
            "requests_per_second": round((len(ms) + len(errors)) / duration, 1) if duration else None,
            "load": summary(ms), **({"sent_to_answer": summary(own)} if rate else {})}


def run_api_load(url: str, views_n: int = 200, seconds: float = 30.0, clients: int = 2, client_threads: int = 4,
                 seed: int = 42, warm_rounds: int = 6, rate: float | None = 300.0) -> dict:
    """The API under load at ``url`` (see the module's doc); its latencies, rate and errors.

    Between the cold pass and the load every view is asked for ``warm_rounds`` times more, one at a
    time: each request is a new connection (gunicorn's sync workers close it), which the kernel
    hands to any worker, so each worker has most views in its cache when the load starts."""
    import requests

    drawn = api_views(url, views_n, seed)
    cold, cold_errors, unpublished, views = [], [], [], []
    with requests.Session() as s:
        for path in drawn:
            t0 = time.perf_counter()
            r = s.get(url + path, timeout=TIMEOUT)
            took = (time.perf_counter() - t0) * 1000
            if r.status_code == 200:
                cold.append(took)
                views.append(path)
            elif r.status_code == 404 and (r.json().get("error") or {}).get("code") == "not_published":
                unpublished.append(path)         # a breakdown with no groups published: a right answer, not asked again
            else:
                cold_errors.append({"path": path, "status": r.status_code, "body": r.text[:200]})
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
            "views_by_endpoint": by_endpoint, "examples": views[:5],
            "warm_rounds": warm_rounds, "cold": summary(cold), "cold_errors": len(cold_errors), "cold_error_examples": cold_errors[:5],
            "clients": clients, "client_threads": client_threads, "seconds": seconds,
            "duration_seconds": full["duration_seconds"], "requests": full["requests"],
            "errors": full["errors"] + (paced["errors"] if paced else 0),
            "error_examples": full["error_examples"] + (paced["error_examples"] if paced else []),
            "requests_per_second": full["requests_per_second"], "load": full["load"], "paced": paced,
            "note": "clients and server share the machine; cold = each view once, one at a time; load = as fast as "
                    "the clients can ask (the capacity); paced = the clients together ask rate_asked a second, each "
                    "request timed from when it was due (the latency at that rate)"}
