"""The domain is defined once, under etl: the ETL never imports the app, and the app's names are the domain's."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_PACKAGES = ("atlas", "pages", "app")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                out.append((node.lineno, node.args[0].value))
    return out


def test_etl_never_imports_the_app():
    files = sorted((ROOT / "etl").rglob("*.py"))
    assert len(files) > 20                       # the scan sees the package
    bad = [f"{f.relative_to(ROOT)}:{line} imports {name}" for f in files for line, name in _imports(f)
           if name.split(".")[0] in APP_PACKAGES]
    assert not bad, "etl must not import the app:\n" + "\n".join(bad)


def test_the_scan_finds_an_app_import(tmp_path):
    """The scan itself can fail: a module importing the app, in any of the three spellings, is seen."""
    f = tmp_path / "m.py"
    f.write_text("import atlas.db\nfrom pages import atlas\ndef g():\n    from atlas.measures import MEASURES\n")
    assert [n for _, n in _imports(f)] == ["atlas.db", "pages", "atlas.measures"]


def test_app_names_are_the_domain_registry():
    from atlas import filters, measures
    from etl import domain
    from etl.release import plan

    assert measures.MEASURES is domain.MEASURES
    assert filters.DIMENSIONS is domain.DIMENSIONS
    assert plan.SOURCES is domain.BASE_COUNTS
    assert plan.POPULATION_DIMS == domain.POPULATION_KEYS


def test_base_counts_cover_every_measure():
    from etl import domain
    from etl.marts import IMAGING_MEASURES

    for m in domain.MEASURES.values():
        for count in (m.numerator, m.denominator):
            assert count == "population" or count in domain.BASE_COUNTS, (m.key, count)
    for cube, column in domain.BASE_COUNTS.values():
        if cube == "imaging_cube":
            assert column.removeprefix("n_") in IMAGING_MEASURES


@pytest.mark.parametrize("key", ["sex", "age", "edu", "modality"])
def test_dimension_codes_come_from_the_vocabularies(key):
    from etl import domain, vocabularies

    column, codes, population = domain.DIMENSIONS[key]
    assert codes == vocabularies.vocabulary(column).codes
    assert population == (key in domain.POPULATION_KEYS)
