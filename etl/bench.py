"""``python -m etl bench``: a reproducible benchmark of the build, a pandas baseline, the app's
callbacks over HTTP and the weight of the first page load.

    python -m etl bench [--scale 1.0] [--out bench/results.json] [--requests 60]
    python -m etl.bench --help          (the same, with every option: --seed, --work, --reuse, ...)

What it does, in order (see bench/README.md for what each figure means):

1. generation: writes synthetic extracts (``etl.synthetic.generate``) in a child process, timed;
   ``--reuse`` keeps extracts of the same scale and seed from an earlier run.
2. build: ``etl.build.build`` in a child process; wall time, the build's own step times, peak
   resident memory (the child's ``ru_maxrss``, cross-checked by sampling its RSS with psutil),
   DuckDB spill to disk (its temp folder is pointed into the work folder) and database size.
3. pandas: the same population and imaging cubes written the straightforward way in pandas, on the
   same extracts, in a child process (timed, peak memory), with a check that it agrees with the
   ETL's cubes; the ratio of the two times.
4. app: gunicorn on 127.0.0.1 with ``ATLAS_DB`` pointing at the bench database; the bytes of the
   first page load, then the browser's own callback requests (``POST /_dash-update-component``)
   for a fixed, seeded list of views, each sent twice (cold, then warm). gunicorn is always stopped.

Everything the benchmark writes, apart from the results file, goes under ``--work``
(``bench/work/``, ignored by git).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from etl.settings import REPO_ROOT

SCHEMA_VERSION = 1
DEFAULT_WORK = REPO_ROOT / "bench" / "work"
DEFAULT_OUT = REPO_ROOT / "bench" / "results.json"
FIRST_PORT = 8765
CALLBACKS = ("draw_areas", "draw_trend", "draw_breakdown", "draw_mix")

# output ids of each figure callback of the atlas page, as the browser names them
CALLBACK_OUTPUTS = {
    "draw_areas": ("map.figure", "rank.figure", "funnel.figure", "variation.children", "selection-text.children"),
    "draw_trend": ("trend.figure",),
    "draw_breakdown": ("breakdown.figure",),
    "draw_mix": ("mix.figure",),
}
# dcc components whose code the browser loads on demand, and the files it loads for them
ASYNC_CHUNKS = {
    "Graph": ("dash/dcc/async-graph.js", "plotly/package_data/plotly.min.js"),
    "Dropdown": ("dash/dcc/async-dropdown.js",),
    "RangeSlider": ("dash/dcc/async-slider.js",),
    "Slider": ("dash/dcc/async-slider.js",),
    "Markdown": ("dash/dcc/async-markdown.js", "dash/dcc/async-highlight.js"),
    "Upload": ("dash/dcc/async-upload.js",),
    "DatePickerRange": ("dash/dcc/async-datepicker.js",),
    "DatePickerSingle": ("dash/dcc/async-datepicker.js",),
}

GB = 1e9
MB = 1e6
TARGETS = {
    "build_seconds": 120.0,
    "build_peak_rss_bytes": 6 * GB,
    "speedup_vs_pandas": 5.0,
    "callback_warm_p95_ms": 150.0,
    "callback_cold_p95_ms": 400.0,
    "figure_json_bytes": 1.5 * MB,
    "release_seconds": 60.0,
    "release_peak_rss_bytes": 6 * GB,
    "release_callback_p95_ms": 60.0,
}
PANDAS_MEMORY_CAP = 16 * GB        # above this the pandas baseline is stopped and rerun year by year
PANDAS_BYTES_PER_ROW = 150         # peak bytes per population row of the all-at-once run (~130 measured at scale 0.1)

COMPARABLE_STEPS = ("linked", "population cube", "imaging cube")
PANDAS_COVERS = (
    "population_cube (adults by year x municipality x sex x age band x education x income x origin x labour: "
    "persons) and imaging_cube counts by the same dimensions x modality x priority x referrer: n_imaging, "
    "n_first (first in year), n_episode (episode start), and follow-ups linked by a merge on person and a "
    "date window: n_diag_short, n_surgery_short, n_surgery_long, n_rehab_short, n_rehab_long. "
    "Not covered (the ETL does them too): contract validation at staging, cell keys, X-ray-then-MRI, "
    "repeat MRI, red flags and low-value imaging, the episode cube, returned referrals, boundaries.")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- child processes

class Monitor:
    """Samples a process's RSS (and optionally a folder's size) in a thread; can kill it over a cap."""

    def __init__(self, pid: int, interval: float = 0.1, cap_bytes: float | None = None, folder: Path | None = None):
        import psutil

        self.proc = psutil.Process(pid)
        self.interval, self.cap, self.folder = interval, cap_bytes, folder
        self.peak_rss = 0
        self.peak_folder = 0
        self.capped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        import psutil

        n = 0
        while not self._stop.is_set():
            try:
                rss = self.proc.memory_info().rss
                for c in self.proc.children(recursive=True):
                    try:
                        rss += c.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_rss = max(self.peak_rss, rss)
            if self.cap and rss > self.cap and not self.capped:
                self.capped = True
                try:
                    self.proc.kill()
                except psutil.Error:
                    pass
            if self.folder is not None and n % 5 == 0:
                self.peak_folder = max(self.peak_folder, _folder_bytes(self.folder))
            n += 1
            self._stop.wait(self.interval)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def run_child(task: str, params: dict, work: Path, env: dict | None = None, cap_bytes: float | None = None,
              spill_dir: Path | None = None, echo: bool = True) -> dict:
    """Run ``task`` in a fresh interpreter (``python -m etl.bench --child``); return its result with
    wall seconds and peak memory. The child's stderr is shown as it comes and kept."""
    work.mkdir(parents=True, exist_ok=True)
    result_file = work / f".child-{task}.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "etl.bench", "--child", task, "--params", json.dumps(params),
           "--result", str(result_file)]
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
    lines: list[str] = []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=child_env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, bufsize=1)
    try:
        with Monitor(proc.pid, cap_bytes=cap_bytes, folder=spill_dir) as mon:
            for line in proc.stderr:
                lines.append(line.rstrip("\n"))
                if echo:
                    print(f"    {line.rstrip()}", file=sys.stderr, flush=True)
            rc = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    wall = time.perf_counter() - started
    if mon.capped:
        return {"ok": False, "capped": True, "wall_seconds": wall, "peak_rss_sampled_bytes": mon.peak_rss}
    if rc != 0 or not result_file.exists():
        tail = "\n".join(lines[-25:])
        raise RuntimeError(f"benchmark step '{task}' failed (exit code {rc}):\n{tail}")
    out = json.loads(result_file.read_text(encoding="utf-8"))
    result_file.unlink(missing_ok=True)
    out.update(ok=True, capped=False, wall_seconds=wall, peak_rss_sampled_bytes=mon.peak_rss,
               spill_peak_bytes=mon.peak_folder if spill_dir is not None else None, stderr=lines,
               load_average_after=[round(x, 2) for x in os.getloadavg()])
    return out


def _child_main(task: str, params: dict, result_path: Path) -> int:
    import resource

    if task == "generate":
        out = _child_generate(**params)
    elif task == "build":
        out = _child_build(**params)
    elif task == "pandas":
        out = pandas_baseline(**params)
    elif task == "release":
        out = _child_release(**params)
    else:
        raise SystemExit(f"unknown child task {task}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_bytes"] = usage.ru_maxrss * 1024          # kB on Linux
    out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result_path.write_text(json.dumps(out, default=str), encoding="utf-8")
    return 0


def _child_generate(out_dir: str, scale: float, seed: int) -> dict:
    from etl.synthetic import generate

    out = Path(out_dir)
    t0 = time.perf_counter()
    summary = generate(out, scale=scale, seed=seed, progress=lambda m: print(m, file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    # the same marker the CLI writes, so the build records the data as synthetic
    (out / "SYNTHETIC").write_text(
        f"Synthetic extracts made by 'python -m etl generate --scale {scale} --seed {seed}'. Not real data.\n",
        encoding="utf-8")
    return {"seconds": seconds, "summary": summary}


STEP_RE = re.compile(r"^\[\s*(\d+)/(\d+)\]\s+(.*?)\s+\(\+\s*([\d.]+) s,\s*([\d.]+) s\)\s*$")


class _Tee:
    """stderr that also keeps what was written (the build's progress lines)."""

    def __init__(self, stream):
        self.stream, self.buffer = stream, []

    def write(self, s):
        self.buffer.append(s)
        return self.stream.write(s)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _child_build(input_dir: str, db_path: str) -> dict:
    from etl.build import build

    tee = _Tee(sys.stderr)
    sys.stderr = tee
    try:
        t0 = time.perf_counter()
        report = build(Path(input_dir), Path(db_path), quiet=False)
        seconds = time.perf_counter() - t0
    finally:
        sys.stderr = tee.stream
    steps = []
    for line in "".join(tee.buffer).splitlines():
        m = STEP_RE.match(line.strip())
        if m:
            steps.append({"step": int(m.group(1)), "message": m.group(3), "seconds": float(m.group(4)),
                          "elapsed": float(m.group(5))})
    return {"seconds": seconds, "report_seconds": report.seconds, "steps": steps, "tables": report.tables,
            "linkage": report.linkage}


def _child_release(db_path: str, out_path: str, plan_path: str | None = None) -> dict:
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


# ----------------------------------------------------------------------------- pandas baseline

POP_DIMS = ["year", "municipality", "sex", "age_band", "education", "income", "origin", "labour"]
IMG_DIMS = POP_DIMS + ["modality", "priority", "referrer"]
FOLLOW_UPS = {"diag_short": ("lumbar", "follow_up_short_days"),
              "surgery_short": ("surgery", "follow_up_short_days"),
              "surgery_long": ("surgery", "follow_up_long_days"),
              "rehab_short": ("rehab", "follow_up_short_days"),
              "rehab_long": ("rehab", "follow_up_long_days")}


def pandas_estimate_bytes(input_dir: Path) -> int:
    """Rough peak memory of the all-at-once pandas run, from the population files' row counts."""
    import pyarrow.parquet as pq

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(Path(input_dir).glob("population*.parquet")))
    return rows * PANDAS_BYTES_PER_ROW


def pandas_baseline(input_dir: str, by_year: bool = False, out_dir: str | None = None) -> dict:
    """The population cube and the imaging cube's counts written the straightforward way in pandas.

    Reads the Parquet extracts with pandas, flags each lumbar imaging (first in year, episode
    start, what followed within the windows: a merge on person then a filter on the date window),
    joins imaging to the population by person and year, and counts with ``groupby``. With
    ``by_year`` the population is read and joined one year's file at a time (bounded memory).
    Returns the seconds it took, the sizes of the cubes and their totals (to check against the ETL).
    """
    import numpy as np
    import pandas as pd

    from etl.settings import load_settings, read_code_list

    t0 = time.perf_counter()
    settings = load_settings()
    w = settings.windows
    input_dir = Path(input_dir)
    edges = [b.lower for b in settings.age_bands] + [np.inf]
    labels = [b.label for b in settings.age_bands]
    modality = {r["code"]: r["modality"] for r in read_code_list("imaging_procedures")}
    dx_prefixes = tuple(r["code_prefix"] for r in read_code_list("diagnoses") if r["group"] == "lumbar")
    op_prefixes = tuple(r["code_prefix"] for r in read_code_list("surgery"))

    # imaging, flagged over each person's whole history
    img = pd.read_parquet(input_dir / "imaging.parquet",
                          columns=["person_id", "procedure_date", "procedure_code", "priority", "referrer_type"])
    img["modality"] = img["procedure_code"].map(modality)
    img = img[img["modality"].notna()].rename(columns={"referrer_type": "referrer"})
    img["date"] = pd.to_datetime(img["procedure_date"])
    img["year"] = img["date"].dt.year
    img = img.sort_values(["person_id", "date"], kind="stable").reset_index(drop=True)
    img["first"] = ~img.duplicated(["person_id", "year"])
    gap = img["date"] - img.groupby("person_id")["date"].shift()
    img["episode"] = gap.isna() | (gap.dt.days > w["episode_clean_days"])
    img["imaging_id"] = np.arange(len(img))

    # what followed: merge each imaging with the person's events, keep those in the window
    persons = img["person_id"].unique()
    dx = pd.read_parquet(input_dir / "diagnoses.parquet")
    dx = dx[dx["icd10"].str.startswith(dx_prefixes) & dx["person_id"].isin(persons)]
    op = pd.read_parquet(input_dir / "surgery.parquet")
    op = op[op["procedure_code"].str.startswith(op_prefixes) & op["person_id"].isin(persons)]
    rh = pd.read_parquet(input_dir / "rehabilitation.parquet")
    rh = rh[rh["person_id"].isin(persons)]
    events = {"lumbar": dx.rename(columns={"diagnosis_date": "event_date"})[["person_id", "event_date"]],
              "surgery": op.rename(columns={"surgery_date": "event_date"})[["person_id", "event_date"]],
              "rehab": rh.rename(columns={"plan_date": "event_date"})[["person_id", "event_date"]]}
    del dx, op, rh
    for kind, ev in events.items():
        ev = ev.assign(event_date=pd.to_datetime(ev["event_date"]))
        pairs = img[["imaging_id", "person_id", "date"]].merge(ev, on="person_id")
        days = (pairs["event_date"] - pairs["date"]).dt.days
        for name, (k, window) in FOLLOW_UPS.items():
            if k != kind:
                continue
            hit = pairs.loc[(days >= 0) & (days <= w[window]), "imaging_id"].unique()
            img[name] = img["imaging_id"].isin(hit)
        del pairs, days
    img = img.drop(columns=["procedure_date", "procedure_code", "date", "imaging_id"])

    # population, joined by person and year
    files = sorted(input_dir.glob("population*.parquet"))
    batches = [[f] for f in files] if by_year else [files]
    pop_cubes, img_cubes = [], []
    counts = {"first": "n_first", "episode": "n_episode", **{k: f"n_{k}" for k in FOLLOW_UPS}}
    for batch in batches:
        pop = pd.concat([pd.read_parquet(f) for f in batch], ignore_index=True)
        pop = pop.rename(columns={"income_quintile": "income", "labour_status": "labour"})
        age = pop["year"] - pop["birth_year"] - 1
        pop = pop[age >= settings.adult_min_age]
        pop["age_band"] = pd.cut(age[age >= settings.adult_min_age], edges, right=False, labels=labels)
        pop = pop.drop(columns=["birth_year"])
        pop_cubes.append(pop.groupby(POP_DIMS, observed=True).size().rename("persons").reset_index())
        years = pop["year"].unique()
        part = img[img["year"].isin(years)].merge(pop, on=["person_id", "year"], how="inner")
        del pop
        agg = {"n_imaging": ("first", "size"), **{v: (k, "sum") for k, v in counts.items()}}
        img_cubes.append(part.groupby(IMG_DIMS, observed=True).agg(**agg).reset_index())
        del part
    population_cube = pd.concat(pop_cubes, ignore_index=True)
    imaging_cube = pd.concat(img_cubes, ignore_index=True)
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        population_cube.to_parquet(Path(out_dir) / "pandas_population_cube.parquet")
        imaging_cube.to_parquet(Path(out_dir) / "pandas_imaging_cube.parquet")
    seconds = time.perf_counter() - t0
    totals = {"population_cube.rows": len(population_cube), "population_cube.persons": int(population_cube["persons"].sum()),
              "imaging_cube.rows": len(imaging_cube),
              **{f"imaging_cube.{c}": int(imaging_cube[c].sum()) for c in ["n_imaging", *counts.values()]}}
    return {"seconds": seconds, "by_year": by_year, "totals": totals}


def etl_totals(db_path: Path) -> dict:
    """The same totals as :func:`pandas_baseline`, from the ETL's database."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        p_rows, p_sum = con.execute("SELECT count(*), sum(persons) FROM population_cube").fetchone()
        cols = ["n_imaging", "n_first", "n_episode", *[f"n_{k}" for k in FOLLOW_UPS]]
        i = con.execute(f"SELECT count(*), {', '.join(f'sum({c})' for c in cols)} FROM imaging_cube").fetchone()
    finally:
        con.close()
    return {"population_cube.rows": int(p_rows), "population_cube.persons": int(p_sum or 0),
            "imaging_cube.rows": int(i[0]), **{f"imaging_cube.{c}": int(v or 0) for c, v in zip(cols, i[1:])}}


# ----------------------------------------------------------------------------- app over HTTP

def free_port(start: int = FIRST_PORT, tries: int = 100) -> int:
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{start + tries - 1}")


class AppServer:
    """gunicorn serving ``app:server`` on 127.0.0.1 with ``ATLAS_DB`` set; stopped on exit."""

    def __init__(self, db_path: Path, log_path: Path, workers: int = 2, threads: int = 4, port: int | None = None):
        self.db_path, self.log_path = Path(db_path), Path(log_path)
        self.workers, self.threads = workers, threads
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.start_seconds = None

    def __enter__(self):
        import requests

        env = {**os.environ, "ATLAS_DB": str(self.db_path)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--threads", str(self.threads), "--timeout", "120", "--keep-alive", "30", "app:server"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with code {self.proc.returncode}; see {self.log_path}")
                try:
                    if requests.get(self.url + "/", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not answer on {self.url} within 120 s; see {self.log_path}")
                time.sleep(0.25)
            self.start_seconds = time.perf_counter() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def worker_rss(self) -> list[int]:
        import psutil

        try:
            return [c.memory_info().rss for c in psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.Error:
            return []

    def stop(self) -> None:
        """Stop gunicorn: TERM to its master (which stops its workers), then KILL whatever is left."""
        import psutil

        if self.proc is None:
            return
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for c in children:
            try:
                c.kill()
            except psutil.Error:
                pass
        self.proc = None
        self._log.close()


def split_output(output: str) -> list[str]:
    """``..a.b...c.d..`` (several outputs) or ``a.b`` (one) -> ["a.b", "c.d"]."""
    if output.startswith("..") and output.endswith(".."):
        return output[2:-2].split("...")
    return [output]


def _dep_ref(item: dict) -> tuple[str, str]:
    return str(item["id"]), item["property"]


def find_callbacks(deps: list) -> dict[str, dict]:
    """The app's own declaration (from ``/_dash-dependencies``) of each figure callback, by name."""
    found = {}
    for name, outputs in CALLBACK_OUTPUTS.items():
        for d in deps:
            if sorted(split_output(d["output"])) == sorted(outputs):
                found[name] = d
                break
    return found


def callback_body(name: str, hash_: str, search: str = "", dep: dict | None = None) -> dict:
    """The body the browser POSTs to ``/_dash-update-component`` when ``view.data`` changes.

    ``dep`` is the callback's entry in ``/_dash-dependencies`` (its exact output, input and state
    ids); without it the atlas page's usual declaration is assumed.
    """
    if dep is None:
        outputs = CALLBACK_OUTPUTS[name]
        dep = {"output": outputs[0] if len(outputs) == 1 else ".." + "...".join(outputs) + "..",
               "inputs": [{"id": "view", "property": "data"}], "state": [{"id": "url", "property": "search"}]}
    outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in split_output(dep["output"])]

    def value(item):
        ref = _dep_ref(item)
        if ref == ("view", "data"):
            return hash_
        if item["property"] == "search":
            return search
        if item["property"] == "hash":
            return hash_
        if item["property"] == "pathname":
            return "/"
        return None

    return {
        "output": dep["output"],
        "outputs": outs[0] if len(outs) == 1 else outs,
        "inputs": [{"id": i["id"], "property": i["property"], "value": value(i)} for i in dep["inputs"]],
        "state": [{"id": i["id"], "property": i["property"], "value": value(i)} for i in dep["state"]],
        "changedPropIds": ["view.data"],
    }


def check_dependencies(deps: list) -> list[str]:
    """Names of the figure callbacks the app does not declare as the bench expects (one input, ``view.data``)."""
    found = find_callbacks(deps)
    return [name for name in CALLBACK_OUTPUTS
            if name not in found or [_dep_ref(i) for i in found[name]["inputs"]] != [("view", "data")]]


def view_combinations(n: int, seed: int, years: list[int]) -> list[str]:
    """``n`` distinct URL hashes of atlas views (never the default view), from a seeded RNG."""
    from atlas.filters import DIMENSIONS, EVENT_KEYS, LEVELS, POPULATION_KEYS, View
    from atlas.measures import MEASURES

    rng = random.Random(seed)
    measures = sorted(MEASURES)
    out: list[str] = []
    seen = {""}
    attempts = 0
    while len(out) < n and attempts < 100 * n:
        attempts += 1
        y0, y1 = sorted(rng.sample(years, 2)) if rng.random() < 0.6 else (years[-1], years[-1])
        if rng.random() < 0.15:
            y0 = y1 = rng.choice(years)
        view = View(measure=rng.choice(measures), level=rng.choice(LEVELS), y0=y0, y1=y1,
                    rates=rng.choice(("dsr", "crude")), standard="denmark" if rng.random() < 0.2 else "esp2013")
        for key in rng.sample(POPULATION_KEYS, rng.choice((0, 0, 1, 1, 2))):
            view = view.with_dim(key, rng.choice(DIMENSIONS[key][1]))
        if rng.random() < 0.2:
            key = rng.choice(EVENT_KEYS)
            view = view.with_dim(key, rng.choice(DIMENSIONS[key][1]))
        q = replace(view, lang="en").to_query()
        h = f"#{q}" if q else ""
        if h not in seen:
            seen.add(h)
            out.append(h)
    return out


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    import numpy as np

    return round(float(np.percentile(values, q)), 1)


def _summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": _percentile(ms, 50), "p95_ms": _percentile(ms, 95),
            "max_ms": round(max(ms), 1) if ms else None, "mean_ms": round(sum(ms) / len(ms), 1) if ms else None}


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def _geojson_urls(obj) -> list[str]:
    """Every ``geojson`` given as a URL (not as data) anywhere in a callback's answer."""
    found = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            g = o.get("geojson")
            if isinstance(g, str):
                found.append(g)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return found


def page_load(session, url: str) -> dict:
    """Bytes of the first page load: HTML, scripts, layout and the figure JSON of the default view."""
    parts: dict[str, dict] = {}
    errors: list[str] = []

    def fetch(key, method, path, **kw):
        t0 = time.perf_counter()
        r = session.request(method, url + path, timeout=300, **kw)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            errors.append(f"{method} {path}: HTTP {r.status_code}")
        parts[key] = {"path": path, "status": r.status_code, "bytes": len(r.content), "gzip_bytes": _gz(r.content),
                      "ms": round(ms, 1)}
        return r

    html = fetch("html", "GET", "/").text
    scripts = [s for s in re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) if s.startswith("/")]
    styles = [s for s in re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html) if s.startswith("/")]
    external = [s for s in re.findall(r'(?:src|href)="(https?://[^"]+)"', html)]
    for s in scripts + styles:
        fetch(f"script:{s}", "GET", s)
    fetch("layout", "GET", "/_dash-layout")
    deps = fetch("dependencies", "GET", "/_dash-dependencies").json()
    # the page itself comes from dash's pages router callback
    router = next((d for d in deps if "_pages_content.children" in split_output(d["output"])), None)
    if router is None:
        errors.append("no pages router in /_dash-dependencies")
        router = {"output": ".._pages_content.children..._pages_store.data..",
                  "inputs": [{"id": "_pages_location", "property": "pathname"},
                             {"id": "_pages_location", "property": "search"}], "state": []}
    outs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in split_output(router["output"])]
    page = fetch("page_layout", "POST", "/_dash-update-component", json={
        "output": router["output"], "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": [{**i, "value": {"pathname": "/", "search": ""}.get(i["property"])} for i in router["inputs"]],
        "state": [{**i, "value": None} for i in router["state"]],
        "changedPropIds": [f"{router['inputs'][0]['id']}.{router['inputs'][0]['property']}"]})
    types = set(re.findall(r'"type":\s*"([A-Za-z]+)"', page.text)) if page.status_code == 200 else {
        "Graph", "Dropdown", "RangeSlider"}        # the atlas page's own components, if the page failed
    chunks = sorted({f for t, files in ASYNC_CHUNKS.items() if t in types for f in files})
    for c in chunks:
        fetch(f"async:{c}", "GET", f"/_dash-component-suites/{c}")
    figure_ms = {}
    declared = find_callbacks(deps)
    for name in CALLBACKS:
        r = fetch(f"figure:{name}", "POST", "/_dash-update-component",
                  json=callback_body(name, "", dep=declared.get(name)))
        figure_ms[name] = parts[f"figure:{name}"]["ms"]
        if r.status_code == 200 and '"response"' not in r.text[:200]:
            errors.append(f"{name}: no response in the callback's answer")
        # map geometry the figure refers to by URL: the browser fetches it (once) to draw the map
        for geo_url in dict.fromkeys(_geojson_urls(r.json()) if r.status_code == 200 else []):
            if geo_url.startswith("/") and f"geometry:{geo_url}" not in parts:
                fetch(f"geometry:{geo_url}", "GET", geo_url)
                parts[f"geometry:{geo_url}"]["figure"] = name

    def total(prefix, field="bytes"):
        return sum(v[field] for k, v in parts.items() if k.startswith(prefix))

    layout_keys = ("layout", "dependencies", "page_layout")
    return {
        "html_bytes": parts["html"]["bytes"],
        "scripts_bytes": total("script:"),
        "scripts_async_bytes": total("async:"),
        "layout_bytes": sum(parts[k]["bytes"] for k in layout_keys),
        "figure_json_bytes": parts["figure:draw_areas"]["bytes"],
        "figure_json_all_bytes": total("figure:"),
        "geometry_bytes": total("geometry:"),
        "figure_and_geometry_bytes": parts["figure:draw_areas"]["bytes"] + total("geometry:"),
        "figure_and_geometry_all_bytes": total("figure:") + total("geometry:"),
        "total_bytes": sum(v["bytes"] for v in parts.values()),
        "gzip": {"html_bytes": parts["html"]["gzip_bytes"], "scripts_bytes": total("script:", "gzip_bytes"),
                 "scripts_async_bytes": total("async:", "gzip_bytes"),
                 "layout_bytes": sum(parts[k]["gzip_bytes"] for k in layout_keys),
                 "figure_json_bytes": parts["figure:draw_areas"]["gzip_bytes"],
                 "figure_json_all_bytes": total("figure:", "gzip_bytes"),
                 "geometry_bytes": total("geometry:", "gzip_bytes"),
                 "figure_and_geometry_bytes": parts["figure:draw_areas"]["gzip_bytes"] + total("geometry:", "gzip_bytes"),
                 "figure_and_geometry_all_bytes": total("figure:", "gzip_bytes") + total("geometry:", "gzip_bytes")},
        "served_compressed": False,
        "default_view_ms": figure_ms,
        "external_not_fetched": external,
        "parts": parts,
        "errors": errors,
        "dependencies": deps,
    }


def callback_latencies(session, url: str, hashes: list[str], callbacks=CALLBACKS, declared: dict | None = None) -> dict:
    """Each view's callbacks sent once (cold: nothing cached for this view) and then again (warm).

    ``declared``: the callbacks' entries in ``/_dash-dependencies`` (see :func:`find_callbacks`)."""
    declared = declared or {}
    lat = {name: {"cold": [], "warm": []} for name in callbacks}
    sizes = {name: [] for name in callbacks}
    errors: list[dict] = []
    sent = 0
    for phase in ("cold", "warm"):
        for h in hashes:
            for name in callbacks:
                body = callback_body(name, h, dep=declared.get(name))
                t0 = time.perf_counter()
                try:
                    r = session.post(url + "/_dash-update-component", json=body, timeout=300)
                    status, size = r.status_code, len(r.content)
                except Exception as exc:           # a broken connection is a result, not a crash
                    status, size = f"{type(exc).__name__}", 0
                ms = (time.perf_counter() - t0) * 1000
                sent += 1
                if status == 200:
                    lat[name][phase].append(ms)
                    sizes[name].append(size)
                else:
                    errors.append({"callback": name, "phase": phase, "view": h, "status": status})
        # warm runs in the same order as cold, over the same keep-alive connection (the same worker)
    out = {name: {"cold": _summary(v["cold"]), "warm": _summary(v["warm"]),
                  "mean_response_bytes": round(sum(sizes[name]) / len(sizes[name])) if sizes[name] else None}
           for name, v in lat.items()}
    pooled = {p: _summary([x for v in lat.values() for x in v[p]]) for p in ("cold", "warm")}
    return {"per_callback": out, "all": pooled, "requests_sent": sent, "errors": len(errors),
            "error_examples": errors[:10]}


# ----------------------------------------------------------------------------- machine

def machine() -> dict:
    import psutil

    info = {
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "memory_total_bytes": psutil.virtual_memory().total,
        "memory_available_bytes_at_start": psutil.virtual_memory().available,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    for mod in ("duckdb", "dash", "pandas", "plotly", "pyarrow", "numpy", "gunicorn"):
        try:
            info[f"{mod}_version"] = __import__(mod).__version__
        except Exception:
            info[f"{mod}_version"] = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            m = re.search(r"model name\s*:\s*(.+)", fh.read())
            if m:
                info["cpu_model"] = m.group(1).strip()
    except OSError:
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                            text=True, timeout=10).stdout.strip() or None
        info["git_uncommitted_changes"] = bool(subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=10).stdout.strip())
    except Exception:
        info["git_commit"] = None
    return info


# ----------------------------------------------------------------------------- the run

def _scale_tag(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def run(scale: float = 1.0, seed: int = 42, out: Path | None = DEFAULT_OUT, requests_n: int = 60,
        work: Path = DEFAULT_WORK, reuse: bool = False, workers: int = 2, threads: int = 4,
        callbacks: tuple[str, ...] = CALLBACKS, pandas_mode: str = "auto", port: int | None = None,
        echo: bool = True, app_only: bool = False, release_plan: Path | None = None) -> dict:
    """Run the whole benchmark and return (and write to ``out``) its results; see the module docstring.

    ``app_only``: time only the app (page load and callbacks) on the bench database of an earlier
    run of the same scale and seed; generation, build and pandas are copied from that run's results
    file (``out``) when it has them, and marked as such. ``release_plan``: another publication
    plan for the release step (the tests use a small one; the benchmark the default).
    """
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    unknown = [c for c in callbacks if c not in CALLBACK_OUTPUTS]
    if unknown:
        raise ValueError(f"unknown callbacks {unknown}; choose from {', '.join(CALLBACKS)}")
    tag = _scale_tag(scale)
    extracts = work / f"extracts_scale{tag}_seed{seed}"
    db_path = work / f"atlas_scale{tag}_seed{seed}.duckdb"
    manifest = extracts / "bench-manifest.json"
    results: dict = {
        "schema_version": SCHEMA_VERSION,
        "params": {"scale": scale, "seed": seed, "requests": requests_n, "work": str(work), "reuse": reuse,
                   "workers": workers, "threads": threads, "callbacks": list(callbacks), "pandas_mode": pandas_mode,
                   "app_only": app_only},
        "machine": machine(),
    }
    t_all = time.perf_counter()
    if app_only:
        if not db_path.exists():
            raise RuntimeError(f"--app-only needs the database of an earlier run: {db_path} does not exist")
        previous = {}
        if out and Path(out).exists():
            previous = json.loads(Path(out).read_text(encoding="utf-8"))
            same = (previous.get("params", {}).get("scale") == scale and previous.get("params", {}).get("seed") == seed)
            previous = previous if same else {}
        for key in ("generation", "build", "pandas"):
            results[key] = ({**previous[key], "from_previous_run": previous[key].get("from_previous_run")
                             or previous["machine"]["date"]} if previous.get(key) else None)
        _run_app(results, db_path, work, requests_n, seed, workers, threads, callbacks, port)
        release_path = work / f"release_scale{tag}_seed{seed}.duckdb"
        if release_path.exists():
            _run_app(results, release_path, work, requests_n, seed, workers, threads, callbacks, port, key="release_")
        return _finish(results, t_all, out)

    # 1. generation
    gen = None
    if reuse and manifest.exists():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if m.get("scale") == scale and m.get("seed") == seed:
            gen = {**m["generation"], "reused": True}
            log(f"reusing the extracts in {extracts} (generated in {gen['seconds']:.1f} s)")
    if gen is None:
        if extracts.exists():
            shutil.rmtree(extracts)
        log(f"generating synthetic extracts at scale {scale}, seed {seed} -> {extracts}")
        r = run_child("generate", {"out_dir": str(extracts), "scale": scale, "seed": seed}, work, echo=echo)
        gen = {"seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
               "cpu_seconds": r["cpu_seconds"], "peak_rss_bytes": r["peak_rss_bytes"], "rows": r["summary"],
               "reused": False}
        manifest.write_text(json.dumps({"scale": scale, "seed": seed, "generation": gen}, indent=2), encoding="utf-8")
    gen["extracts_bytes"] = _folder_bytes(extracts)
    results["generation"] = gen

    # 2. build
    log(f"building {db_path}")
    db_path.unlink(missing_ok=True)
    spill = work / "tmp"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    r = run_child("build", {"input_dir": str(extracts), "db_path": str(db_path)}, work,
                  env={"TMPDIR": str(spill)}, spill_dir=spill, echo=echo)
    shutil.rmtree(spill, ignore_errors=True)
    results["build"] = {
        "seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
        "cpu_seconds": r["cpu_seconds"], "load_average_after": r["load_average_after"],
        "peak_rss_bytes": r["peak_rss_bytes"], "peak_rss_sampled_bytes": r["peak_rss_sampled_bytes"],
        "spill_peak_bytes": r["spill_peak_bytes"], "db_bytes": db_path.stat().st_size,
        "duckdb_memory_limit": "6GB", "steps": r["steps"], "tables": r["tables"], "linkage": r["linkage"],
    }

    # 3. pandas
    est = pandas_estimate_bytes(extracts)
    by_year = pandas_mode == "by-year" or (pandas_mode == "auto" and est > PANDAS_MEMORY_CAP)
    log(f"pandas baseline ({'year by year' if by_year else 'all years at once'}; estimated peak "
        f"{est / GB:.1f} GB for all at once)")
    pandas_params = {"input_dir": str(extracts), "by_year": by_year, "out_dir": str(work / "pandas")}
    r = run_child("pandas", pandas_params, work, cap_bytes=None if by_year else PANDAS_MEMORY_CAP, echo=echo)
    fallback = None
    if r.get("capped"):
        fallback = f"all at once went over {PANDAS_MEMORY_CAP / GB:.0f} GB after {r['wall_seconds']:.0f} s; rerun year by year"
        log(fallback)
        by_year = True
        r = run_child("pandas", {**pandas_params, "by_year": True}, work, echo=echo)
    etl_tot = etl_totals(db_path)
    # the build steps that do what the pandas version does: linking and the two cubes
    comparable = [st["seconds"] for st in results["build"]["steps"]
                  if st["message"].startswith(COMPARABLE_STEPS)]
    comparable_s = sum(comparable) if comparable else None
    agree = {k: {"pandas": v, "etl": etl_tot.get(k), "equal": v == etl_tot.get(k)} for k, v in r["totals"].items()}
    results["pandas"] = {
        "seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
        "cpu_seconds": r["cpu_seconds"], "load_average_after": r["load_average_after"],
        "peak_rss_bytes": r["peak_rss_bytes"], "peak_rss_sampled_bytes": r["peak_rss_sampled_bytes"],
        "mode": "by_year" if by_year else "all_at_once", "estimated_all_at_once_bytes": est,
        "mode_note": fallback or ("read and joined one population file (year) at a time to bound memory"
                                  if by_year else "all population files read at once"),
        "covers": PANDAS_COVERS,
        "ratio_etl_over_pandas": round(results["build"]["seconds"] / r["seconds"], 3),
        "speedup": round(r["seconds"] / results["build"]["seconds"], 3),
        "etl_comparable_seconds": round(comparable_s, 2) if comparable_s else None,
        "speedup_comparable": round(r["seconds"] / comparable_s, 3) if comparable_s else None,
        "comparable_note": "ETL steps doing what the pandas version does (" + ", ".join(COMPARABLE_STEPS)
                           + "): the target is checked on the whole build",
        "agrees_with_etl": all(a["equal"] for a in agree.values()),
        "check": agree,
    }
    shutil.rmtree(work / "pandas", ignore_errors=True)

    # 4. the release
    release_path = work / f"release_scale{tag}_seed{seed}.duckdb"
    log(f"writing the release {release_path}")
    r = run_child("release", {"db_path": str(db_path), "out_path": str(release_path),
                              "plan_path": str(release_plan) if release_plan else None}, work, echo=echo)
    results["release"] = {"seconds": round(r["seconds"], 2), "wall_seconds": round(r["wall_seconds"], 2),
                          "cpu_seconds": r["cpu_seconds"], "peak_rss_bytes": r["peak_rss_bytes"],
                          "db_bytes": release_path.stat().st_size, "passed": r["passed"],
                          "smallest_published": r["smallest_published"], "published_share": r["published_share"],
                          "tables": r["tables"], "steps": r["steps"]}

    _run_app(results, db_path, work, requests_n, seed, workers, threads, callbacks, port)
    _run_app(results, release_path, work, requests_n, seed, workers, threads, callbacks, port, key="release_")
    return _finish(results, t_all, out)


def _run_app(results: dict, db_path: Path, work: Path, requests_n: int, seed: int, workers: int, threads: int,
             callbacks, port, key: str = "") -> None:
    """5. the app over HTTP: page load, then each view's callbacks cold and warm (results under
    ``app``, ``page``, ``callbacks``; with ``key="release_"`` the same for the release database)."""
    import duckdb
    import requests

    con = duckdb.connect(str(db_path), read_only=True)
    tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "population_cube" in tables:
        years = [int(y) for (y,) in con.execute("SELECT DISTINCT year FROM population_cube ORDER BY year").fetchall()]
    else:
        periods = json.loads(con.execute("SELECT value FROM meta WHERE key = 'periods'").fetchone()[0])
        years = sorted(int(p) for p in periods if "-" not in p)
    con.close()
    hashes = view_combinations(requests_n, seed, years)
    log(f"serving the bench database with gunicorn ({workers} workers x {threads} threads); "
        f"{len(hashes)} views x {len(callbacks)} callbacks, cold then warm")
    with AppServer(db_path, work / "gunicorn.log", workers=workers, threads=threads, port=port) as app, \
            requests.Session() as session:
        page = page_load(session, app.url)
        deps = page.pop("dependencies")
        mismatched = check_dependencies(deps)
        cb = callback_latencies(session, app.url, hashes, callbacks, find_callbacks(deps))
        worker_rss = app.worker_rss()
        results[key + "app"] = {"url": app.url, "start_seconds": round(app.start_seconds, 2), "workers": workers,
                          "threads": threads, "worker_rss_bytes_after": worker_rss,
                          "payload_mismatch": mismatched}
    results[key + "page"] = page
    results[key + "callbacks"] = {"n_views": len(hashes), "views": hashes, **cb,
                            "note": "sequential requests over one keep-alive connection (so one worker); cold = "
                                    "first request for the view (its queries not yet cached), warm = the same "
                                    "request again"}


def _finish(results: dict, t_all: float, out) -> dict:
    results["seconds_total"] = round(time.perf_counter() - t_all, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = evaluate_targets(results)
    if out:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return results


def _first(d: dict, *keys):
    return next((d[k] for k in keys if d.get(k) is not None), None)


def evaluate_targets(res: dict) -> list[dict]:
    """Each target with the measured value and pass/fail (None when not measured)."""
    b, p, pg, cb = (res.get(k) or {} for k in ("build", "pandas", "page", "callbacks"))
    rows = [
        ("build (ETL) seconds", b.get("seconds"), "<=", TARGETS["build_seconds"], "s"),
        ("build peak memory", b.get("peak_rss_bytes"), "<=", TARGETS["build_peak_rss_bytes"], "bytes"),
        ("speed-up over pandas (pandas s / ETL s)", p.get("speedup"), ">=", TARGETS["speedup_vs_pandas"], "x"),
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
    out = []
    for name, value, op, target, unit in rows:
        ok = None if value is None else (value <= target if op == "<=" else value >= target)
        out.append({"name": name, "measured": value, "op": op, "target": target, "unit": unit, "pass": ok,
                    "applies": res["params"]["scale"] == 1.0})
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
    return str(value)


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
        t = targets.get(target) if target else None
        mark = ""
        if t is not None:
            verdict = "n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
            mark = f"   {t['op']} {_fmt(t['target'], t['unit'])}  {verdict}"
        lines.append(f"{label:<48}{_fmt(value, unit):>12}{mark}{note}")

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


# ----------------------------------------------------------------------------- entry points

def main(args) -> int:
    """Entry of ``python -m etl bench``; ``args`` needs .scale, .out, .requests (others optional)."""
    callbacks = getattr(args, "callbacks", None) or CALLBACKS
    if isinstance(callbacks, str):
        callbacks = tuple(c.strip() for c in callbacks.split(",") if c.strip())
    try:
        res = run(scale=args.scale, seed=getattr(args, "seed", 42), out=Path(args.out) if args.out else None,
                  requests_n=args.requests, work=Path(getattr(args, "work", None) or DEFAULT_WORK),
                  reuse=getattr(args, "reuse", False), workers=getattr(args, "workers", 2),
                  threads=getattr(args, "threads", 4), callbacks=tuple(callbacks),
                  pandas_mode=getattr(args, "pandas_mode", "auto"), port=getattr(args, "port", None),
                  app_only=getattr(args, "app_only", False))
    except (RuntimeError, ValueError) as exc:
        print(f"Benchmark stopped: {exc}", file=sys.stderr)
        return 1
    print(table(res))
    if args.out:
        print(f"\nwrote {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m etl.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="1.0 is all of Denmark (default)")
    p.add_argument("--seed", type=int, default=42, help="seed of the synthetic data and of the list of views")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="results file (JSON)")
    p.add_argument("--requests", type=int, default=60, help="number of distinct views (each sent cold and warm)")
    p.add_argument("--work", default=str(DEFAULT_WORK), help="folder for the extracts, database and logs")
    p.add_argument("--reuse", action="store_true", help="reuse extracts of the same scale and seed in --work")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    p.add_argument("--callbacks", default=",".join(CALLBACKS), help="figure callbacks to time, comma-separated")
    p.add_argument("--pandas-mode", choices=("auto", "all-at-once", "by-year"), default="auto",
                   help="auto: all at once unless that is estimated (or turns out) to need more than 16 GB")
    p.add_argument("--app-only", action="store_true",
                   help="time only the app, on the database of an earlier run (keeps that run's build figures)")
    p.add_argument("--port", type=int, help=f"port on 127.0.0.1 (default: the first free from {FIRST_PORT})")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--params", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    ns = parser().parse_args()
    if ns.child:
        sys.exit(_child_main(ns.child, json.loads(ns.params), Path(ns.result)))
    sys.exit(main(ns))
