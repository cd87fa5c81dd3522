"""Issue 31, item 5, the means: the atlas page's answers kept once per view and shared by the workers
(atlas/answer_cache.py). A kept answer is the very answer Dash gave for the same request; every
value the browser sends is part of its key; the secure database's answers never reach the disk; an
answer is never handed out for another database file."""
from __future__ import annotations

import gzip
import json
import os

import pytest
from helpers import dash_outputs

from atlas.filters import View


@pytest.fixture(scope="module", params=["release", "secure"])
def page(request, release_db, atlas_db, tmp_path_factory):
    from atlas import answer_cache, db, queries
    from atlas.cache import clear_all

    old = {k: os.environ.get(k) for k in ("ATLAS_DB", "ATLAS_ANSWERS_DIR")}
    os.environ["ATLAS_DB"] = str(release_db if request.param == "release" else atlas_db)
    os.environ["ATLAS_ANSWERS_DIR"] = str(tmp_path_factory.mktemp("answers"))
    db.reset_caches()
    queries.clear_caches()
    clear_all()
    import app

    client = app.server.test_client()
    client.kind = request.param
    client.deps = client.get("/_dash-dependencies").get_json()
    answer_cache.enabled = True
    yield client
    answer_cache.enabled = False
    db.reset_caches()
    queries.clear_caches()
    clear_all()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _payload(page, output: str, view: View, search: str = "") -> dict:
    from atlas.coverage import default_year
    from atlas.state import hash_of

    dep = next(d for d in page.deps if output in d["output"])
    values = {("view", "data"): hash_of(view, default_year()), ("atlas-url", "search"): search}
    return {"output": dep["output"], "outputs": dash_outputs(dep["output"]) if dep["output"].startswith("..")
            else dash_outputs(dep["output"])[0],
            "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in dep["inputs"]],
            "state": [{**s, "value": values.get((s["id"], s["property"]))} for s in dep["state"]],
            "changedPropIds": ["view.data"]}


def _post(page, payload: dict, gzip_ok: bool = True):
    r = page.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json",
                  headers={"Accept-Encoding": "gzip"} if gzip_ok else {})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    body = r.get_data()
    return json.loads(gzip.decompress(body) if r.headers.get("Content-Encoding") == "gzip" else body)


def test_a_kept_answer_is_the_answer_dash_gave(page):
    from atlas import answer_cache

    view = View(measure="mri_share", level="region", y0=2022, y1=2024)
    payload = _payload(page, "map.figure", view)
    before = dict(answer_cache.stats)
    first = _post(page, payload)
    assert answer_cache.stats["drawn"] == before["drawn"] + 1
    again = _post(page, payload)
    plain = _post(page, payload, gzip_ok=False)               # a client that does not take gzip
    assert answer_cache.stats["memory"] == before["memory"] + 2
    assert first == again == plain
    answer_cache.enabled = False                               # Dash itself, nothing kept
    try:
        assert _post(page, payload) == first
    finally:
        answer_cache.enabled = True
    assert first["response"]["map"]["figure"]["layout"] and "variation" in first["response"]


def test_every_value_sent_is_part_of_the_key(page):
    """Another view, another language or another changed input: another answer, never the kept one."""
    base = _post(page, _payload(page, "map.figure", View(y0=2022, y1=2024)))
    other = _post(page, _payload(page, "map.figure", View(y0=2022, y1=2024, measure="mri_share")))
    danish = _post(page, _payload(page, "map.figure", View(y0=2022, y1=2024), "?lang=da"))
    assert base != other and base != danish
    payload = _payload(page, "map.figure", View(y0=2022, y1=2024))
    from atlas import answer_cache

    keys = {answer_cache.key_of(payload, "db"), answer_cache.key_of({**payload, "changedPropIds": ["x.y"]}, "db"),
            answer_cache.key_of(payload, "another db")}
    assert len(keys) == 3 and None not in keys
    download = next(d for d in page.deps if '"type":"download"' in d["output"])
    assert answer_cache.key_of({"output": download["output"]}, "db") is None      # not kept: a download


def test_the_workers_share_a_release_and_the_secure_answers_stay_in_memory(page):
    from atlas import answer_cache
    from atlas.cache import clear_all

    folder = os.environ["ATLAS_ANSWERS_DIR"]
    payload = _payload(page, "trend.figure", View(y0=2021, y1=2023, area=101))
    first = _post(page, payload)
    files = [p for root, _, names in os.walk(folder) for p in names]
    if page.kind == "secure":
        assert files == []                      # exact figures are never left in a temporary folder
        return
    assert files
    clear_all()                                 # another worker: nothing in its memory
    before = answer_cache.stats["disk"]
    assert _post(page, payload) == first and answer_cache.stats["disk"] == before + 1


def test_no_answer_for_another_database_file(page, monkeypatch):
    """The key holds the served file's identity: a replaced file (another identity) never gets an
    answer drawn from the old one."""
    from atlas import answer_cache, db

    payload = _payload(page, "mix.figure", View(y0=2022, y1=2024))
    _post(page, payload)
    drawn = answer_cache.stats["drawn"]
    monkeypatch.setattr(db, "_con_file", (0, 0, 0, 0))          # as after a new release moved into place
    monkeypatch.setattr(db, "replaced", lambda: False)
    monkeypatch.setattr(db, "request_problem", lambda: None)
    _post(page, payload)
    assert answer_cache.stats["drawn"] == drawn + 1


def test_no_answer_from_another_version_of_the_app(page, monkeypatch):
    """The key holds the app's code identity too: after an upgrade (other code, same database and
    answers folder) nothing the old version drew is handed out; the identity follows the code."""
    from atlas import answer_cache

    payload = _payload(page, "mix.figure", View(y0=2019, y1=2021))
    _post(page, payload)
    _post(page, payload)
    drawn = answer_cache.stats["drawn"]
    monkeypatch.setattr(answer_cache, "CODE", "another-version")
    answer_cache.clear()                                         # a new process: nothing in memory
    _post(page, payload)
    assert answer_cache.stats["drawn"] == drawn + 1
    # the identity is a digest of the code: a changed file changes it
    monkeypatch.setattr(answer_cache, "_CODE_ROOTS", ("app.py",))
    one = answer_cache._code_identity()
    monkeypatch.setattr(answer_cache, "_CODE_ROOTS", ("app.py", "gunicorn.conf.py"))
    assert answer_cache._code_identity() != one
