"""gunicorn serving the atlas (``app:server``) on 127.0.0.1 for the benchmark, always stopped on exit."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from etl.settings import REPO_ROOT

FIRST_PORT = 8765


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

    def __init__(self, db_path: Path, log_path: Path, workers: int = 2, threads: int = 1, port: int | None = None):
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
