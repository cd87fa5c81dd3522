"""No import circles among the project's modules (atlas/, etl/, pages/, app.py).

A module imports another when any ``import`` in it names the other, at the top or inside a
function (a lazy import that closes a circle is still a circle: it only hides it from the
interpreter). Imports under ``if TYPE_CHECKING:`` are for annotations and do not count.
``from package import name`` counts as importing ``package.name`` when that is a module, else
the package itself.

No back-arrow is allowed any more (issue 30): the last two, ``atlas.db -> atlas.data`` (the served
years, now :func:`atlas.data.years`) and ``atlas.data.source -> atlas.pathways.queries`` (the pathway
readers, now in :mod:`atlas.data.secure` and :mod:`atlas.data.release`), are gone. Beside the
circles, the data layer and the database module must not reach a page's room at all, even where no
circle would close.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("atlas", "etl", "pages")

# the pages and their rooms: what the data layer and the database module must never import
PAGE_ROOMS = ("app", "pages", "atlas.pathways", "atlas.returns", "atlas.api")
# the plumbing the database module stands on (besides the ETL's domain and settings)
DB_IMPORTS = {"atlas.cache"}


def module_files(root: Path, packages=PACKAGES, extra=("app.py",)) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the packages (a package is its ``__init__``)."""
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    for name in extra:
        if (root / name).exists():
            out[Path(name).stem] = root / name
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, int]]:
    """Module -> {module it imports: line of the first such import}, among ``modules`` only."""
    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_nodes(tree)
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps: dict[str, int] = {}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:                       # relative: from . import x, from ..a import b
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets = [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                dep = known(target)
                if dep and dep != mod:
                    deps.setdefault(dep, node.lineno)
        graph[mod] = deps
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, {}))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def _describe(graph, component) -> str:
    arrows = [f"    {a} -> {b} (line {line})" for a in component for b, line in sorted(graph[a].items()) if b in component]
    return " <-> ".join(component) + "\n" + "\n".join(arrows)


@pytest.fixture(scope="module")
def graph():
    modules = module_files(ROOT)
    assert len(modules) > 100                     # the scan sees the packages
    return import_graph(modules)


def reaches(graph: dict[str, dict[str, int]], start: str) -> dict[str, list[str]]:
    """Every module ``start`` imports directly or through others -> one chain of imports to it."""
    chains = {start: [start]}
    todo = [start]
    while todo:
        mod = todo.pop()
        for dep in graph.get(mod, {}):
            if dep not in chains:
                chains[dep] = [*chains[mod], dep]
                todo.append(dep)
    del chains[start]
    return chains


def in_rooms(module: str, rooms) -> bool:
    return any(module == r or module.startswith(r + ".") for r in rooms)


def test_no_import_circles(graph):
    found = cycles(graph)
    assert not found, "import circles (break one arrow of each):\n" + "\n".join(_describe(graph, c) for c in found)


def test_the_data_layer_reaches_no_page_room(graph):
    """The data layer (every module of ``atlas.data``) and ``atlas.db`` read the database for the
    pages; no chain of imports from them leads into a page or a page's room."""
    layer = [m for m in graph if in_rooms(m, ("atlas.data",))] + ["atlas.db"]
    assert "atlas.data.secure" in layer and "atlas.data.release" in layer
    wrong = {m: " -> ".join(chain) for start in layer for m, chain in reaches(graph, start).items()
             if in_rooms(m, PAGE_ROOMS)}
    assert not wrong, "the data layer imports a page's room:\n" + "\n".join(sorted(wrong.values()))


def test_the_database_module_stands_on_plumbing_only(graph):
    """``atlas.db`` (the connection, meta, areas) imports only the cache and the ETL's settings: the
    served source's years are the data layer's (:func:`atlas.data.years`)."""
    own = {m for m in reaches(graph, "atlas.db") if not in_rooms(m, ("etl",))}
    assert own <= DB_IMPORTS, f"atlas.db imports {sorted(own - DB_IMPORTS)}"


def test_the_layer_checks_can_fail(tmp_path):
    """A data-layer module that reaches a page room through another module is found, with its chain."""
    pkg = tmp_path / "atlas"
    for sub in ("data", "pathways"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("def f():\n    from atlas.pathways import queries\n")
    (pkg / "pathways" / "queries.py").write_text("")
    (pkg / "data" / "source.py").write_text("from atlas import helper\n")
    g = import_graph(module_files(tmp_path, packages=("atlas",)))
    assert reaches(g, "atlas.data.source") == {"atlas.helper": ["atlas.data.source", "atlas.helper"],
                                               "atlas.pathways.queries": ["atlas.data.source", "atlas.helper",
                                                                          "atlas.pathways.queries"]}
    assert in_rooms("atlas.pathways.queries", PAGE_ROOMS) and not in_rooms("atlas.pathways_x", PAGE_ROOMS)
    assert cycles(g) == []                        # no circle, and still a wrong arrow


@pytest.mark.parametrize("pair", [("atlas.queries", "atlas.profile"), ("atlas.export", "atlas.layout_parts"),
                                  ("atlas.returns.queries", "atlas.returns.state"), ("etl.readers", "etl.staging")])
def test_the_four_circles_of_issue_30_are_gone(graph, pair):
    a, b = pair
    assert not (b in graph[a] and a in graph[b]), f"{a} and {b} import each other"
    assert not any(a in c and b in c for c in cycles(graph)), f"{a} and {b} are in one circle"


def test_the_scan_finds_a_lazy_circle_and_ignores_type_checking(tmp_path):
    """The scan can fail: a circle closed by an import inside a function, or through a package's
    ``from pkg import module`` and a relative import, is found; one under TYPE_CHECKING is not."""
    pkg = tmp_path / "atlas"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from atlas import b\n")
    (pkg / "b.py").write_text("def f():\n    import atlas.a\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from . import d\n")
    (pkg / "sub" / "d.py").write_text("from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
                                      "if TYPE_CHECKING:\n    from atlas.sub.c import X\n")
    (pkg / "e.py").write_text("from .sub.c import d\n")
    (pkg / "f.py").write_text("from atlas.e import g\n")
    g = import_graph(module_files(tmp_path, packages=("atlas",)))
    assert g["atlas.a"] == {"atlas.b": 1} and g["atlas.b"] == {"atlas.a": 2}
    assert g["atlas.sub.c"] == {"atlas.sub.d": 1} and g["atlas.sub.d"] == {}
    assert g["atlas.e"] == {"atlas.sub.c": 1} and g["atlas.f"] == {"atlas.e": 1}
    assert cycles(g) == [["atlas.a", "atlas.b"]]
    (pkg / "sub" / "d.py").write_text("def f():\n    from atlas.sub import c\n")
    assert sorted(cycles(import_graph(module_files(tmp_path, packages=("atlas",))))) == [["atlas.a", "atlas.b"],
                                                                                       ["atlas.sub.c", "atlas.sub.d"]]
