"""Child processes of the benchmark: each step runs in a fresh interpreter, so its memory is its own.

``run_child`` starts ``python -m bench.steps TASK PARAMS RESULT`` and samples its memory (and
optionally a folder's size) while it runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from etl.settings import REPO_ROOT


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
                self.peak_folder = max(self.peak_folder, folder_bytes(self.folder))
            n += 1
            self._stop.wait(self.interval)


def folder_bytes(folder: Path) -> int:
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
    """Run ``task`` in a fresh interpreter (``python -m bench.steps``); return its result with
    wall seconds and peak memory. The child's stderr is shown as it comes and kept."""
    work.mkdir(parents=True, exist_ok=True)
    result_file = work / f".child-{task}.json"
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.steps", task, json.dumps(params), str(result_file)]
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
