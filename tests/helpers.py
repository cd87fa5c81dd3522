"""Small helpers shared by the test modules (imported as ``from helpers import ...``)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def wait_until(predicate, timeout: float = 30, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true (exceptions count as not yet), or fail saying what was awaited."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def none_on_page(driver, selector: str) -> bool:
    """Whether no element matches the CSS ``selector``, asked of the page at once. ``find_elements``
    of dash[testing] waits its implicit 2 s before it answers an empty list, so a wait for something
    to be gone cost 2 s per check even when it was gone already."""
    return driver.execute_script("return document.querySelector(arguments[0]) === null;", selector)


def wait_gone(driver, selector: str, timeout: float = 40, what: str = "condition", settle: float = 0.5) -> None:
    """Wait until no element matches ``selector`` and none has come back for ``settle`` seconds (a
    page's loading marks come and go between chained callbacks); fail saying what was awaited."""
    end = time.time() + timeout
    since = None
    while time.time() < end:
        try:
            gone = none_on_page(driver, selector)
        except Exception:
            gone = False
        now = time.time()
        if not gone:
            since = None
        elif since is None:
            since = now
        elif now - since >= settle:
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


LOADING = "._dash-loading, [data-dash-is-loading='true']"


def dash_outputs(output: str) -> list[dict]:
    """The output ids of a callback as ``/_dash-dependencies`` spells them (``..a.b...c.d..`` or ``a.b``)."""
    import json

    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        out.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return out


_DEPS: dict = {}


def dash_call(client, output_part: str, values: dict, changed: str, state: dict | None = None):
    """Call the callback whose output contains ``output_part`` as the browser would, through a
    Flask test client; pattern-matching inputs get one "all" entry per filter dimension."""
    import json

    from atlas.filters import DIMENSIONS

    if id(client) not in _DEPS:
        _DEPS[id(client)] = client.get("/_dash-dependencies").get_json()
    d = next(x for x in _DEPS[id(client)] if output_part in x["output"])
    outputs = dash_outputs(d["output"])

    def value(i):
        if i["id"].startswith("{"):
            kind = json.loads(i["id"])["type"]
            return [{"id": {"type": kind, "key": k}, "property": i["property"], "value": "all"} for k in DIMENSIONS]
        return {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}

    payload = {"output": d["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
               "inputs": [value(i) for i in d["inputs"]], "changedPropIds": [changed],
               "state": [{"id": x["id"], "property": x["property"], "value": (state or {}).get(f"{x['id']}.{x['property']}")}
                         for x in d["state"]]}
    r = client.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r.get_json()["response"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(db: Path, log: Path, workers: int = 2, threads: int = 8) -> tuple[subprocess.Popen, int]:
    """gunicorn serving the app (``app:server``, as ``make serve`` does) on ``db`` at a free port;
    returns as soon as it listens (a TCP connection, no HTTP request yet). Skips where gunicorn is
    not installed."""
    import pytest

    from etl.settings import REPO_ROOT

    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed in this environment")
    port = free_port()
    env = {**os.environ, "ATLAS_DB": str(db)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                                 "--threads", str(threads), "--timeout", "120", "app:server"], cwd=REPO_ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                stop_process(proc)
                pytest.fail("gunicorn did not listen within 60 s")
            time.sleep(0.05)


def stop_process(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def english_only_strings(min_length: int = 12) -> set[str]:
    """Texts of the interface whose Danish differs (``atlas.i18n``), long enough to be unmistakable,
    plus words the atlas once left in English in Danish mode (CSV keys, Plotly's toolbar, table heads)."""
    from atlas.i18n import LABELS, TEXT

    pairs = list(TEXT.values()) + [p for names in LABELS.values() for p in names.values()]
    found = {en for en, da in pairs if en != da and len(en) >= min_length and en not in da and "{" not in en}
    return found | {"funnel_flag", "high_998", "low_998", "denominator", "Download plot", "Reset axes",
                    "incomplete years", "weight (per sex)", "SYNTHETIC", "per 1,000", "Download CSV"}


def english_left(text: str, strings: set[str]) -> list[str]:
    """The English-only strings found in ``text``; a key such as "funnel_flag" only as a whole word
    (the function `funnel_flags` the Danish methods name is another word)."""
    import re

    def found(s: str) -> bool:
        if re.fullmatch(r"[a-z0-9_]+", s):
            return re.search(rf"(?<![A-Za-z0-9_]){re.escape(s)}(?![A-Za-z0-9_])", text) is not None
        return s in text

    return sorted(s for s in strings if found(s))


def split_download(text: str) -> tuple[str, str]:
    """A CSV download (decoded text) as (header items, table), each as CSV text, whichever layout it
    has: the flat one (data columns, then one column per header item from "Atlas" on, the same value
    on every row) or the descriptive one (header rows, a blank row, the table). The header items come
    back as rows as the descriptive layout writes them (the two titles alone, then "name<sep>value")."""
    import csv
    import io

    first = text.split("\r\n", 1)[0]
    if text.startswith("\r\n") or "\r\n\r\n" in text and first.count(",") + first.count(";") < 3:
        head, body = text.split("\r\n\r\n", 1)
        return head, body
    sep = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    if "Atlas" not in rows[0]:
        raise AssertionError(f"not an atlas download: {first[:200]}")
    cut = rows[0].index("Atlas")
    data = [r for r in rows[1:] if any(c != "" for c in r[:cut])]

    def write(lines) -> str:
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(lines)
        return buf.getvalue()

    about = rows[1][cut:] if len(rows) > 1 else []
    # the atlas's and the chart's titles stand alone on their rows, as the descriptive layout writes them
    head = write([[value] if i < 2 else [name, value] for i, (name, value) in enumerate(zip(rows[0][cut:], about))])
    return head, write([rows[0][:cut], *[r[:cut] for r in data]])


_YEAR_BY_YEAR: dict = {}


def year_by_year_table(measure: str, level: str):
    """The data layer's year-by-year definition of a measure's yearly table on the served database
    (``atlas.data.source.yearly_table_by_year``: each published single year's table of areas in
    turn), read once per database file, measure and level in a test process (a copy each call): the
    oracle of tests/test_yearly_counts.py and tests/test_yearly_tables.py, which share a worker."""
    from atlas import data, db
    from atlas.data.source import yearly_table_by_year

    key = (str(db.db_path()), data.source().kind, measure, level)
    if key not in _YEAR_BY_YEAR:
        _YEAR_BY_YEAR[key] = yearly_table_by_year(data.source(), measure, level)
    return _YEAR_BY_YEAR[key].copy()
