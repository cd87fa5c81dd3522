"""Load: 50 simulated readers at once against gunicorn (3 workers x 4 threads), on 127.0.0.1 only.

Each reader takes six steps, as the browser would: opens the page; changes the view (the
``draw_areas`` callback: map, ranking, funnel) and gets its trend (``draw_trend``); changes the
view again and gets its imaging mix (``draw_mix``); downloads a CSV (the ``download`` callback).
Payloads follow the ids the app itself publishes in ``/_dash-dependencies``. Readers pause 0.2-1 s
between steps. Every response must be a 200; the median and 95th percentile response times are
printed, not asserted (they depend on the machine). The number of requests (50 x 6) and every
timeout are bounded; gunicorn is always stopped by the fixture.
"""
from __future__ import annotations

import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from helpers import dash_outputs as _outputs

from etl.settings import REPO_ROOT

pytestmark = pytest.mark.slow

USERS = 50
THINK = (0.2, 1.0)           # seconds a reader pauses between steps (uniform)
REQUEST_TIMEOUT = 45         # seconds, per request (gunicorn's worker timeout is 60)
MEASURES = ["imaging_rate", "persons_rate", "mri_share", "acute_share", "lowvalue_share"]
DIMS = [None, "sex=1", "sex=2", "age=85+", "age=18-24", "origin=2", "edu=4", "modality=mri"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app_db, tmp_path_factory):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed in this environment")
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "ATLAS_DB": str(app_db)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads", "4",
                                 "--timeout", "60", "app:server"], cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
            try:
                if requests.get(base + "/", timeout=10).status_code == 200:
                    break
            except requests.RequestException:       # not listening yet, or still importing the app
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not answer within 60 s")
            time.sleep(0.3)
        yield base, log
    finally:
        proc.send_signal(signal.SIGTERM)          # graceful stop of the master and its workers
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)




class Payloads:
    """Callback bodies in the shape the app publishes."""

    def __init__(self, deps: list[dict]):
        self.draw = next(d for d in deps if "map.figure" in d["output"])
        self.trend = next(d for d in deps if d["output"] == "trend.figure")
        self.mix = next(d for d in deps if d["output"] == "mix.figure")
        self.download = next(d for d in deps if '"type":"download"' in d["output"])
        assert [i["property"] for i in self.draw["inputs"]] == ["data"]
        assert self.download["inputs"][0]["property"] == "n_clicks"

    @staticmethod
    def _view_callback(dep: dict, view: str, search: str) -> dict:
        (inp,) = dep["inputs"]
        return {"output": dep["output"], "outputs": _outputs(dep["output"]) if dep["output"].startswith("..")
                else _outputs(dep["output"])[0],
                "inputs": [{"id": inp["id"], "property": inp["property"], "value": view}],
                "changedPropIds": [f"{inp['id']}.{inp['property']}"],
                "state": [{"id": s["id"], "property": s["property"], "value": search} for s in dep["state"]]}

    def draw_areas(self, view: str, search: str = "") -> dict:
        return self._view_callback(self.draw, view, search)

    def draw_trend(self, view: str, search: str = "") -> dict:
        return self._view_callback(self.trend, view, search)

    def draw_mix(self, view: str, search: str = "") -> dict:
        return self._view_callback(self.mix, view, search)

    def csv(self, chart: str, view: str, search: str = "") -> dict:
        btn = {"chart": chart, "type": "download-btn"}
        return {"output": self.download["output"],
                "outputs": {"id": {"chart": chart, "type": "download"}, "property": "data"},
                "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
                "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
                "state": [{"id": s["id"], "property": s["property"], "value": v}
                          for s, v in zip(self.download["state"], (view, search))]}


def _random_view(rng: random.Random) -> str:
    y1 = rng.choice([2020, 2022, 2024])
    y0 = rng.choice([y1, y1, 2019])
    parts = [f"measure={rng.choice(MEASURES)}", f"level={rng.choice(['municipality', 'region', 'region2027'])}",
             f"y0={y0}", f"y1={y1}"]
    dim = rng.choice(DIMS)
    if dim:
        parts.append(dim.replace("+", "%2B"))
    return "#" + "&".join(parts)


def test_fifty_concurrent_readers(server):
    base, log = server
    deps = requests.get(base + "/_dash-dependencies", timeout=REQUEST_TIMEOUT).json()
    payloads = Payloads(deps)
    timings: dict[str, list[float]] = {"page": [], "draw_areas": [], "draw_trend": [], "draw_mix": [], "download": []}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(USERS, timeout=60)

    def timed(kind: str, fn):
        t0 = time.perf_counter()
        try:
            r = fn()
        except requests.RequestException as exc:
            with lock:
                errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - t0
        with lock:
            timings[kind].append(elapsed)
            if r.status_code != 200:
                errors.append(f"{kind}: HTTP {r.status_code}: {r.text[:200]}")
        return r

    def post(s, kind, payload):
        return timed(kind, lambda: s.post(base + "/_dash-update-component", json=payload, timeout=REQUEST_TIMEOUT))

    def reader(i: int) -> None:
        rng = random.Random(i)
        think = lambda: time.sleep(rng.uniform(*THINK))   # noqa: E731
        with requests.Session() as s:
            start.wait()
            timed("page", lambda: s.get(base + "/", timeout=REQUEST_TIMEOUT))
            for follow_up in ("draw_trend", "draw_mix"):
                think()
                view = _random_view(rng)
                r = post(s, "draw_areas", payloads.draw_areas(view))
                if r is not None and r.status_code == 200 and "map" not in r.json().get("response", {}):
                    with lock:
                        errors.append(f"draw_areas: no map in the response for {view}")
                post(s, follow_up, getattr(payloads, follow_up)(view))
            think()
            chart = rng.choice(["map", "trend", "breakdown", "mix"])
            r = post(s, "download", payloads.csv(chart, view))
            if r is not None and r.status_code == 200:
                (data,) = [v["data"] for v in r.json()["response"].values()]
                content = base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()
                if not (data["filename"].endswith(".csv") and content.startswith("\ufeff".encode())):
                    with lock:
                        errors.append(f"download: not a CSV for {chart} {view}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        list(pool.map(reader, range(USERS), timeout=120))
    wall = time.perf_counter() - t0

    n = sum(len(v) for v in timings.values())
    lines = [f"\n{USERS} readers, {n} requests in {wall:.1f} s ({n / wall:.1f} requests/s), {len(errors)} errors"]
    for kind, ts in timings.items():
        if ts:
            lines.append(f"  {kind:<11} n={len(ts):<4} p50={np.percentile(ts, 50) * 1000:7.0f} ms   "
                         f"p95={np.percentile(ts, 95) * 1000:7.0f} ms   max={max(ts) * 1000:7.0f} ms")
    print("\n".join(lines))
    assert not errors, "\n".join(errors[:10]) + "\n--- gunicorn log ---\n" + log.read_text(errors="replace")[-3000:]
    assert n == USERS * 6
    assert "Traceback" not in log.read_text(errors="replace")
