"""Shared fixtures: one small synthetic generation and one good app database per test session.

``synthetic_extracts`` is generated once (scale 0.01, seed 1: about 58,000 residents a year, a few
seconds) and must not be changed by a test: copy it with ``extracts_copy`` to mutate it.
``atlas_db`` is built once from it; ``app_db`` points the app's database module at it (per module).
"""
from __future__ import annotations

import atexit
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

SCALE = 0.01
SEED = 1


@pytest.fixture(scope="session")
def synthetic_extracts(tmp_path_factory) -> Path:
    """The seven synthetic tables as Parquet (read-only for tests)."""
    from etl.synthetic import generate

    out = tmp_path_factory.mktemp("extracts")
    generate(out, scale=SCALE, seed=SEED)
    (out / "SYNTHETIC").write_text("Synthetic extracts for the tests. Not real data.\n", encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def atlas_db(synthetic_extracts, tmp_path_factory) -> Path:
    """A good app database built from ``synthetic_extracts`` (read-only for tests)."""
    from etl.build import build

    db = tmp_path_factory.mktemp("db") / "atlas.duckdb"
    build(synthetic_extracts, db, quiet=True)
    return db


@pytest.fixture(scope="session")
def release_secure_db(tmp_path_factory) -> Path:
    """A secure database at scale 0.05 (seed 3) for the release tests: at the usual 0.01 almost
    every municipal count is below 5, which would test nothing but suppression of everything."""
    from etl.build import build
    from etl.synthetic import generate

    d = tmp_path_factory.mktemp("release_secure")
    generate(d / "extracts", scale=0.05, seed=3)
    build(d / "extracts", d / "atlas.duckdb", quiet=True)
    return d / "atlas.duckdb"


@pytest.fixture(scope="session")
def release_db(release_secure_db, tmp_path_factory) -> Path:
    """The release written from ``release_secure_db`` with the default publication plan (read-only)."""
    from etl.release.build import build_release
    from etl.release.joint import Budget
    from etl.release.report import write_report

    out = tmp_path_factory.mktemp("release") / "release.duckdb"
    # the joint audit only measured here, in 30 s: at scale 0.05 the data are too sparse for the
    # joint gate in test time (it takes many rounds); the gate is tested on its own (tests/test_joint.py)
    # two processes protect the counts side by side (the same result as one, tests/test_joint.py):
    # this fixture is the longest step of the release group, which one test process runs alone
    write_report(build_release(release_secure_db, out, quiet=True, budget=Budget(per_solve=30.0, total=30.0),
                               joint_gate=False, workers=2))
    return out


@pytest.fixture(scope="module")
def release_app(release_db):
    """Point the app at the release database for a test module."""
    with app_on(release_db):
        yield release_db


@pytest.fixture
def extracts_copy(synthetic_extracts, tmp_path) -> Path:
    """A private copy of the synthetic extracts that a test may change."""
    dest = tmp_path / "extracts"
    shutil.copytree(synthetic_extracts, dest)
    return dest


@pytest.fixture(scope="module")
def app_db(atlas_db):
    """Point ``atlas.db`` (and so the Dash app) at ``atlas_db`` for a test module.

    The app's read-only connection is closed when the module ends: DuckDB refuses a second
    connection to the same file with another configuration in one process (e.g. a test opening
    ``atlas_db`` itself).
    """
    with app_on(atlas_db):
        yield atlas_db


def pytest_setup_options():
    """Chrome options for dash[testing]: Debian's headless Chromium, a fresh profile, no network chatter."""
    import tempfile

    from selenium.webdriver.chrome.options import Options

    profile = tempfile.mkdtemp(prefix="atlas-chrome-")
    atexit.register(shutil.rmtree, profile, ignore_errors=True)
    options = Options()
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--disable-sync",
                "--window-size=1366,900", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    return options


def _forget_cached_queries() -> None:
    """Close the app's connection and forget every cached answer (``atlas.db.reset_caches``)."""
    from atlas import db

    db.reset_caches()


@contextmanager
def app_on(db_path):
    """The app pointed at ``db_path`` (``ATLAS_DB``, every cached answer forgotten) while inside, and
    at what it was before afterwards."""
    old = os.environ.get("ATLAS_DB")
    os.environ["ATLAS_DB"] = str(db_path)
    _forget_cached_queries()
    try:
        yield db_path
    finally:
        _forget_cached_queries()
        if old is None:
            os.environ.pop("ATLAS_DB", None)
        else:
            os.environ["ATLAS_DB"] = old


@pytest.fixture(scope="module", params=["secure", "release"])
def page(request, atlas_db, release_db):
    """The app's Flask test client on one database (``page.kind``, ``page.deps`` its callbacks), for
    tests that ask the pages and the API over HTTP as a browser would; a module may define its own."""
    with app_on(atlas_db if request.param == "secure" else release_db):
        import app

        client = app.server.test_client()
        client.kind = request.param
        client.deps = client.get("/_dash-dependencies").get_json()
        yield client


@pytest.fixture(scope="module")
def atlas_app(app_db):
    """The Dash app on the test database, for dash_duo; skipped where Debian's chromedriver is missing."""
    if shutil.which("chromedriver") is None:
        pytest.skip("needs Debian's chromium-driver")
    import app as app_module

    return app_module.app


# `make test` runs the tests on two processes (pytest-xdist, --dist loadgroup). The tests of the
# release stay on one process: its databases take minutes to build, once per process. Browser tests
# run on both (dash_duo serves each app on a port of its own). The tests of a module that uses a
# module-scoped fixture of its own stay together too, so that the fixture is made once, not once per
# process (test_registers' two builds of a register world ran on both processes, 34 s each).
GROUPS = (("release", {"release_db", "release_secure_db", "release_app"}),)


def _own_module_fixture(item) -> bool:
    """Whether ``item`` uses a module-scoped fixture defined in its own module (not a conftest's)."""
    info = getattr(item, "_fixtureinfo", None)
    module = item.nodeid.split("::", 1)[0]
    for name in getattr(item, "fixturenames", ()):
        defs = info.name2fixturedefs.get(name) if info else None
        if defs and defs[-1].scope == "module" and defs[-1].baseid == module:
            return True
    return False


# Tests that fail on main after the merges of 2026-12-07, each with what is known of the cause. They
# are expected failures, not passes: each is listed in that day's session note as work left, and
# must be mended and taken off this list (strict=False: a test that passes again is reported XPASS).
KNOWN_FAILURES: dict[str, str] = {
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = KNOWN_FAILURES.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
        for group, fixtures in GROUPS:
            if fixtures & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.xdist_group(group))
                break
        else:       # a module that names its group itself (pytestmark) keeps it
            if item.get_closest_marker("xdist_group") is None and _own_module_fixture(item):
                item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
