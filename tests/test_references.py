"""The code's texts name what exists (issue 30: texts that are true).

- Every dotted name of the project in the code's docstrings, comments and strings
  (``atlas.data.source``, ``:func:`atlas.guard.callback_problem```, ``etl.stats.rates``) is a module
  or an attribute of one: a text that points to a module that was never there (``atlas.requests``)
  or a function that moved fails.
- Every repository path that the README and the docs name (``atlas/data/secure.py``, ``etl/config/``)
  exists, apart from the files the README says are made by a command and kept out of git.
"""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE = ("atlas", "etl", "pages", "bench")
CODE_FILES = ("app.py", "gunicorn.conf.py")
DOCS = ("README.md", "docs/*.md", "bench/README.md", "etl/config/**/*.md")
# "atlas.duckdb", "plotly-atlas.min.js": file names, not dotted names
FILE_SUFFIXES = {"duckdb", "js", "css", "py", "toml", "md", "csv", "json", "sql", "png", "svg", "txt", "parquet", "zip",
                 "pdf", "br", "zst", "html"}
# made by `make test` and kept out of git (the README says so)
MADE_BY_COMMANDS = {"docs/screenshot.png", "docs/screenshot-profile.png"}

NAME = re.compile(r"(?<![\w./-])((?:atlas|etl|pages)\.[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
PATH = re.compile(r"(?<![\w./-])((?:atlas|etl|pages|tests|bench|docs|tools|assets)/[\w./*<>{}-]*)")


def dotted_names(text: str) -> set[str]:
    return {n for n in NAME.findall(text) if n.rsplit(".", 1)[-1] not in FILE_SUFFIXES}


def repo_paths(text: str) -> set[str]:
    """The repository paths a text names (wildcards and placeholders left out)."""
    paths = {p.rstrip(".,:;)") for p in PATH.findall(text)}
    return {p for p in paths if p and not any(c in p for c in "*<>{}")}


def missing(name: str) -> str | None:
    """Why ``name`` names nothing (its longest importable module, then attributes), or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return f"{'.'.join(parts[:i])} has no {attr}"
            obj = getattr(obj, attr)
        return None
    return "no such module"


def _code_files() -> list[Path]:
    return [p for pkg in CODE for p in sorted((ROOT / pkg).rglob("*.py"))] + [ROOT / f for f in CODE_FILES]


@pytest.fixture(scope="module")
def app_loaded(app_db):
    """The Dash app imported (the page modules register themselves with it and import only then)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import app  # noqa: F401


def test_dotted_names_in_the_code_exist(app_loaded):
    found: dict[str, set[str]] = {}
    for path in _code_files():
        for name in dotted_names(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert len(found) > 100                                   # the scan sees the texts
    wrong = {name: why for name in found if (why := missing(name))}
    assert not wrong, "texts name what does not exist:\n" + "\n".join(
        f"  {n} ({wrong[n]}) in {', '.join(sorted(found[n]))}" for n in sorted(wrong))


def test_paths_in_the_readme_and_docs_exist():
    files = [p for pattern in DOCS for p in sorted(ROOT.glob(pattern))]
    assert ROOT / "README.md" in files and len(files) > 5
    named = {p: {str(f.relative_to(ROOT)) for f in files if p in repo_paths(f.read_text(encoding="utf-8"))}
             for f in files for p in repo_paths(f.read_text(encoding="utf-8"))}
    assert "atlas/data/" in named                             # the scan sees the README's map of the code
    gone = sorted(p for p in named if p not in MADE_BY_COMMANDS and not (ROOT / p).exists())
    assert not gone, "the docs name paths that do not exist: " + "; ".join(f"{p} ({', '.join(sorted(named[p]))})" for p in gone)


def test_the_checks_can_fail():
    text = ("See :mod:`atlas.requests` and ``atlas.data.years``; atlas.duckdb is a file, "
            "data/atlas.duckdb and pages/atlas.py are paths; ~atlas.db.query. etl/config/ and docs/*.md")
    assert dotted_names(text) == {"atlas.requests", "atlas.data.years", "atlas.db.query"}
    assert repo_paths(text) == {"pages/atlas.py", "etl/config/"}
    assert missing("atlas.requests") == "atlas has no requests"
    assert missing("atlas.db.no_such_function") == "atlas.db has no no_such_function"
    assert missing("atlas.db.query") is None and missing("etl.stats") is None
