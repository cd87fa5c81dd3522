"""The dependencies in pyproject.toml are what the code runs on (issue 30: packaging that is true).

- Every package that the app or the ETL imports (``atlas/``, ``etl/``, ``pages/``, ``app.py``,
  ``gunicorn.conf.py``; at the top of a module or inside a function) is a runtime dependency, or an
  optional extra named for it whose import stands inside a function (the rest runs without it).
- Every runtime dependency is imported by them, or is listed in ``USED_WITHOUT_IMPORT`` with the
  file and the words that use it (checked: an entry whose use is gone fails too).
- What ``bench/`` imports is a runtime or a test dependency (``make bench`` runs in the venv that
  ``make venv`` installs with the test extra).

A package used only by the tests (babel: the reference for ``atlas/numbers.py`` in
``tests/test_numbers.py``) belongs in the test extra, not among the runtime dependencies.
"""
from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("atlas", "etl", "pages")
RUNTIME_FILES = ("app.py", "gunicorn.conf.py")
OWN = {"atlas", "etl", "pages", "bench", "app", "tools", "__future__"}

# runtime dependencies that nothing imports by name: distribution -> (file, words there that use it)
USED_WITHOUT_IMPORT = {
    "gunicorn": ("Makefile", "gunicorn"),                           # the server of `make serve`
    "flask-compress": ("app.py", "compress=True"),                  # Dash compresses its answers with it
    "bootstrap-flask": ("atlas/static.py", 'files("flask_bootstrap")'),  # its bootstrap.min.css, read as a resource
}
# optional packages: import name -> the extra that installs it
OPTIONAL = {"pyreadstat": "sas"}


def normal(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``MarkupSafe`` = ``markupsafe``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(reqs: list[str]) -> set[str]:
    return {normal(re.match(r"[A-Za-z0-9._-]+", r.strip()).group(0)) for r in reqs}


def third_party_imports(files, root: Path = ROOT) -> dict[str, dict[str, bool]]:
    """Top-level import name -> {file: whether some import of it there stands at module level}."""
    out: dict[str, dict[str, bool]] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in OWN:
                    continue
                where = out.setdefault(top, {})
                rel = str(path.relative_to(root))
                where[rel] = where.get(rel, False) or id(node) not in inside
    return out


def python_files(root: Path, packages, files=()) -> list[Path]:
    return [p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))] + [root / f for f in files if (root / f).exists()]


@functools.cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()          # import name -> distributions (reads every installed package's metadata)


def distributions(import_name: str) -> set[str]:
    return {normal(d) for d in _installed().get(import_name, [])}


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def runtime_imports():
    found = third_party_imports(python_files(ROOT, RUNTIME_PACKAGES, RUNTIME_FILES))
    assert {"dash", "duckdb", "pandas"} <= set(found)            # the scan sees the code
    return found


def test_what_the_code_imports_is_declared(project, runtime_imports):
    runtime = requirement_names(project["dependencies"])
    extras = {k: requirement_names(v) for k, v in project.get("optional-dependencies", {}).items()}
    missing, eager = [], []
    for name, where in sorted(runtime_imports.items()):
        dists = distributions(name)
        assert dists, f"{name} (imported in {sorted(where)}) is not installed: no distribution provides it"
        if dists & runtime:
            continue
        extra = OPTIONAL.get(name)
        if extra and dists & extras.get(extra, set()):
            eager += [f"{name} at the top of {f}" for f, top in where.items() if top]
            continue
        missing.append(f"{name} ({', '.join(sorted(dists))}; imported in {', '.join(sorted(where))})")
    assert not missing, "imported but not a runtime dependency in pyproject.toml: " + "; ".join(missing)
    assert not eager, "an optional package must be imported inside a function: " + "; ".join(eager)


def test_every_runtime_dependency_is_used(project, runtime_imports):
    imported = {d for name in runtime_imports for d in distributions(name)}
    unused = sorted(requirement_names(project["dependencies"]) - imported - set(USED_WITHOUT_IMPORT))
    assert not unused, (f"runtime dependencies that the app and the ETL never import: {unused} (a test-only package "
                        "belongs in the test extra; one used without an import goes in USED_WITHOUT_IMPORT with its use)")


@pytest.mark.parametrize("dist", sorted(USED_WITHOUT_IMPORT))
def test_a_dependency_used_without_an_import_is_declared_and_still_used(project, dist):
    path, words = USED_WITHOUT_IMPORT[dist]
    assert dist in requirement_names(project["dependencies"])
    assert words in (ROOT / path).read_text(encoding="utf-8"), f"{path} no longer uses {dist} ({words!r})"


def test_the_benchmark_runs_in_the_test_venv(project):
    declared = requirement_names(project["dependencies"]) | requirement_names(project["optional-dependencies"]["test"])
    wrong = [f"{name} ({', '.join(sorted(where))})" for name, where in
             sorted(third_party_imports(python_files(ROOT, ("bench",))).items()) if not distributions(name) & declared]
    assert not wrong, "bench/ imports what neither the runtime nor the test extra installs: " + "; ".join(wrong)


def test_the_checks_can_fail(tmp_path):
    """An undeclared import, a top-level import of an optional package and an import inside a
    function are each told apart."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import numpy as np\nimport json\nfrom . import b\n"
                                           "def f():\n    import pyreadstat\n    from scipy.stats import norm\n")
    (tmp_path / "pkg" / "b.py").write_text("import pyreadstat\n")
    found = third_party_imports(python_files(tmp_path, ("pkg",)), root=tmp_path)
    assert found == {"numpy": {"pkg/a.py": True}, "pyreadstat": {"pkg/a.py": False, "pkg/b.py": True},
                     "scipy": {"pkg/a.py": False}}
    assert requirement_names(["dash[testing]>=3.0", "MarkupSafe>=2.1", "flask_compress"]) == {"dash", "markupsafe",
                                                                                              "flask-compress"}
    assert "markupsafe" in distributions("markupsafe") and distributions("no_such_module_here") == set()
