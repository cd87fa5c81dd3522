"""An intruder attacks the atlas served from each database, with nothing but what a browser gets.

Each database is served by gunicorn (as ``make serve`` does); the intruder (``tests/intruder.py``)
downloads the CSV of the map for many views (single years and ranges; municipalities and regions;
everyone, each sex, each age band, each origin and education value; crude and standardised
rates) over HTTP, and runs the attack families an intruder would:

- **interval shape**: the count whose Poisson interval has the shown interval's shape;
- **rate x population**: a crude rate times its population;
- **expected counts**: the expected-count column, read as a count;
- **year differences**: a range minus a shorter range inside it (a period minus its years);
- **region minus its municipalities**, **Denmark minus its areas**;
- **everyone minus the other values of a group** (sex, age band, origin, education);

each on every reading of a table (the count, the population, the three above). Every derived
number is scored against the true count of the cells it claims to give, from the secure database
the served one was built from (the ETL's fine cube, which holds the true counts).

What must hold, for true counts from 1 to 4:

- **release**: no count-like reading (count, population, rate x population, interval shape) gives
  one back exactly, in any family; expected counts, which rest on population figures, give them
  back no more often than guessing;
- the guessing baseline of a family is the share of its small cells that equal the most common small
  value among them: what an intruder would get right by guessing that value for every hidden cell,
  knowing the distribution (about 0.3 to 0.45 here). A family fails when a one-sided binomial test
  says its share of exact answers is above that baseline (p < 0.01).

The secure database is not attacked: it serves exact figures inside the secure environment only,
marked as not output-checked (issue 25 item 3; ``tests/test_secure_exact.py``).
"""
from __future__ import annotations

import itertools
from collections import defaultdict

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import start_gunicorn, stop_process
from intruder import Derived, Intruder, derive
from scipy.stats import binom

from atlas.filters import DIMENSIONS, View
from atlas.i18n import t
from atlas.state import hash_of

pytestmark = pytest.mark.slow

MIN = 5
YEARS = [(2023, 2023), (2024, 2024), (2023, 2024), (2022, 2024)]
GROUPS = {"sex": (1, 2), "age": DIMENSIONS["age"][1], "origin": DIMENSIONS["origin"][1], "edu": DIMENSIONS["edu"][1]}
STANDARDISED = [(), (("age", "85+"),), (("origin", 3),)]
COUNT_LIKE = ("count", "population", "rate x population", "interval shape")
P_LIMIT = 0.01


def _filter_text(dims: tuple) -> str:
    """The filter text a download's header rows give for ``dims`` (public: the page shows it)."""
    from atlas.export import filters_text

    return filters_text(View(dims=dims))


FILTER_DIMS = {_filter_text(()): ()} | {_filter_text(((k, v),)): ((k, v),) for k, vs in GROUPS.items() for v in vs}


def _views() -> list[View]:
    out = []
    for (y0, y1), level in itertools.product(YEARS, ("municipality", "region", "region2027")):
        dims = [()] + [((k, v),) for k, vs in GROUPS.items() for v in vs]
        out += [View(y0=y0, y1=y1, level=level, rates="crude", dims=d) for d in dims]
        out += [View(y0=y0, y1=y1, level=level, rates="dsr", dims=d) for d in STANDARDISED]
    return out


class Truth:
    """True imaging counts and populations by year and municipality for each filter, from a
    secure database's fine cube."""

    def __init__(self, secure_db):
        con = duckdb.connect(str(secure_db), read_only=True)
        try:
            areas = con.execute("SELECT code, region_code, region2027_code FROM areas WHERE level = 'municipality'").df()
            self.region_of = dict(zip(areas["code"], areas["region_code"]))
            self.region2027_of = dict(zip(areas["code"], areas["region2027_code"]))
            self.tables = {}
            for text, dims in FILTER_DIMS.items():
                where = " AND ".join(["TRUE"] + [f"{DIMENSIONS[k][0]} = {v!r}" if isinstance(v, str)
                                                 else f"{DIMENSIONS[k][0]} = {v}" for k, v in dims])
                for reading, sql in (("events", f"SELECT year, municipality, sum(n_imaging) AS n FROM imaging_cube "
                                                f"WHERE {where} GROUP BY ALL"),
                                     ("persons", f"SELECT year, municipality, sum(persons) AS n FROM population_cube "
                                                 f"WHERE {where} GROUP BY ALL")):
                    df = con.execute(sql).df()
                    self.tables[(text, reading)] = df.pivot(index="year", columns="municipality", values="n").fillna(0)
        finally:
            con.close()
        self.regions = defaultdict(list)
        for m, r in self.region_of.items():
            self.regions[int(r)].append(int(m))
        for m, r in self.region2027_of.items():     # 1081-1083 are the same areas at both levels
            if int(r) not in self.region_of.values():
                self.regions[int(r)].append(int(m))

    def count(self, d: Derived) -> float | None:
        table = self.tables.get((d.filters, "persons" if d.reading == "population" else "events"))
        if table is None:
            return None
        munis = []
        for c in d.codes:
            munis += list(table.columns) if c == 0 else self.regions.get(c, [c])
        return float(table.reindex(index=list(d.years), columns=munis).fillna(0).to_numpy().sum())


def _attack(port: int, secure_db) -> tuple[dict, Intruder]:
    """Download every view, derive, and score: per (family, reading) the small cells met and which
    of them came out exact."""
    intruder = Intruder(port)
    tables = intruder.many([hash_of(v) or "#" for v in _views()])
    truth = Truth(secure_db)
    groups = {k: [_filter_text(((k, v),)) for v in vs] for k, vs in GROUPS.items()}
    derived = derive(tables, per=1000.0, regions=truth.regions, groups=groups)
    score: dict[tuple[str, str], list[tuple[int, bool]]] = defaultdict(list)
    for d in derived:
        true = truth.count(d)
        if true is not None and 1 <= true < MIN:
            score[(d.family, d.reading)].append((int(true), int(round(d.value)) == int(true)))
    return {"score": dict(score), "tables": tables, "derived": len(derived)}, intruder


def _report(score: dict) -> str:
    lines = []
    for (family, reading), cases in sorted(score.items()):
        exact = sum(e for _, e in cases)
        lines.append(f"{family} / {reading}: {len(cases)} small cells met, {exact} exact, "
                     f"guessing {_baseline(cases):.2f}")
    return "\n".join(lines)


def _baseline(cases: list[tuple[int, bool]]) -> float:
    values = pd.Series([v for v, _ in cases])
    return float(values.value_counts(normalize=True).max()) if len(values) else 0.0


@pytest.fixture(scope="session")      # once per test process, however the tests of the two processes interleave
def release_attack(release_db, release_secure_db, tmp_path_factory):
    proc, port = start_gunicorn(release_db, tmp_path_factory.mktemp("served") / "release.log", workers=2, threads=4)
    try:
        result, intruder = _attack(port, release_secure_db)
    finally:
        stop_process(proc)
    print(f"\nrelease: {intruder.requests} downloads, {result['derived']} derived numbers\n{_report(result['score'])}")
    return result


def test_the_release_gives_no_small_count_back(release_attack):
    score = release_attack["score"]
    exact = {key: sum(e for _, e in cases) for key, cases in score.items() if key[1] in COUNT_LIKE}
    assert not any(exact.values()), f"recovered: {exact}\n{_report(score)}"
    for key, cases in score.items():
        if key[1] not in COUNT_LIKE and len(cases) >= 10:
            n, k = len(cases), sum(e for _, e in cases)
            assert binom.sf(k - 1, n, _baseline(cases)) >= P_LIMIT, f"{key}\n{_report(score)}"


def test_the_release_attacks_are_real(release_attack, release_db):
    """The same attacks on the release do work where a cell is published: every year difference of
    published counts equals a published count (or a sum of them), and the views asked for were
    answered, some moved to the nearest published view."""
    tables = release_attack["tables"]
    assert len({(s.years, s.level, s.filters, s.rates) for s in tables}) >= 40
    assert any(s.years == (2022, 2024) and s.filters != t("all", "en") and s.level == "municipality"
               for s in tables)
    hidden = sum(int(s.table["count"].isna().sum()) for s in tables)
    assert hidden >= 20       # the release hides cells in these views, and the attacks went at them
    assert release_attack["derived"] >= 1000


def test_the_lp_and_integer_attack_over_http_proves_no_small_count(release_attack, release_db, release_secure_db):
    """The auditor's attack on what the served release gave: every downloaded table read as cells
    (imagings and adults by area, years and filter), the relations derived from the definitions
    (tests/intruder.py, geography with the 2027 regions, years, groups, first <= imaging <= ...),
    and for every hidden cell with a true count from 1 to 4 its largest value by LP and by integer
    programming and its smallest by LP. None may be below 5, none pinned."""
    from intruder import attack_lp, disclosed, relations

    with duckdb.connect(str(release_db), read_only=True) as con:
        munis = con.execute("SELECT code, region_code, region2027_code FROM areas WHERE level = 'municipality'").df()
    rows = {}
    for s in release_attack["tables"]:
        for code, r in s.table.iterrows():
            level = "denmark" if code == 0 else s.level
            for q, col in (("imaging", "count"), ("persons", "denominator")):
                key = (q, level, int(code), s.years[0], s.years[1], s.filters)
                v = r[col]
                if key not in rows or np.isnan(rows[key]):
                    rows[key] = float(v)
    cells = pd.DataFrame([(*k, v) for k, v in rows.items()],
                         columns=["quantity", "level", "code", "y0", "y1", "filters", "value"])
    groups = {k: [_filter_text(((k, v),)) for v in vs] for k, vs in GROUPS.items()}
    eq, le = relations(cells, munis, groups, _filter_text(()))
    truth = Truth(release_secure_db)
    true = []
    for r in cells.itertuples():
        d = Derived("", "population" if r.quantity == "persons" else "count", tuple(range(r.y0, r.y1 + 1)),
                    r.filters, (r.code,), 0.0)
        true.append(truth.count(d))
    true = np.array([np.nan if x is None else x for x in true])
    values = cells["value"].to_numpy(float)
    targets = list(np.flatnonzero(np.isnan(values) & (true >= 1) & (true < MIN)))
    assert len(targets) >= 20 and len(eq) >= 100
    bounds = attack_lp(values, eq, le, targets)
    bad = disclosed(bounds)
    assert not bad, f"{len(bad)} of {len(targets)} hidden small counts proven below 5 or pinned: {bad[:5]}"


# ------------------------------------------------------------------ the auditor's LP attack, planted leaks

MUNIS = pd.DataFrame({"code": [1, 2, 3, 4, 5, 6, 7, 8],
                      "region_code": [81, 81, 84, 84, 85, 85, 83, 83],
                      "region2027_code": [81, 81, 90, 90, 90, 90, 83, 83]})


def _cells(rows):
    return pd.DataFrame(rows, columns=["quantity", "level", "code", "y0", "y1", "filters", "value"])


def _run(cells, groups=None):
    from intruder import attack_lp, disclosed, relations

    eq, le = relations(cells, MUNIS, groups or {}, "all")
    values = cells["value"].to_numpy(float)
    targets = list(np.flatnonzero(np.isnan(values)))
    return {b.row: b for b in attack_lp(values, eq, le, targets)}, disclosed


def test_the_lp_attack_finds_a_2027_region_twin():
    """Issue 25's example: rehabilitation, only regions published: Østdanmark 21 - Hovedstaden 17
    gives Sjælland = 4, though no municipality is published."""
    rows = [("rehab", "region", 81, 2016, 2018, "all", 30), ("rehab", "region", 83, 2016, 2018, "all", 40),
            ("rehab", "region", 84, 2016, 2018, "all", 17), ("rehab", "region", 85, 2016, 2018, "all", np.nan),
            ("rehab", "region2027", 81, 2016, 2018, "all", 30), ("rehab", "region2027", 83, 2016, 2018, "all", 40),
            ("rehab", "region2027", 90, 2016, 2018, "all", 21)]
    bounds, disclosed = _run(_cells(rows))
    b = bounds[3]
    assert b.lp_max == pytest.approx(4) and b.int_max == pytest.approx(4) and b.lp_min == pytest.approx(4)
    assert disclosed(list(bounds.values()))
    # hide the twin as well and the attack fails
    rows[6] = ("rehab", "region2027", 90, 2016, 2018, "all", np.nan)
    rows[2] = ("rehab", "region", 84, 2016, 2018, "all", np.nan)
    bounds, disclosed = _run(_cells(rows))
    assert not disclosed(list(bounds.values()))


def test_the_lp_attack_uses_a_subset_relation():
    """Issue 25's example: the region minus its shown municipalities leaves two hidden ones at 13;
    one's first imagings are shown as 12, so the other's imaging is at most 1."""
    rows = [("imaging", "region", 83, 2022, 2024, "all", 113),
            ("imaging", "municipality", 7, 2022, 2024, "all", np.nan),      # true 12
            ("imaging", "municipality", 8, 2022, 2024, "all", np.nan),      # true 1
            ("first", "municipality", 7, 2022, 2024, "all", 12),
            ("imaging", "region", 81, 2022, 2024, "all", 200)]
    rows += [("imaging", "municipality", 1, 2022, 2024, "all", 100), ("imaging", "municipality", 2, 2022, 2024, "all", 100)]
    cells = _cells(rows)
    cells.loc[cells.index[0], "value"] = 13        # region 83 = municipalities 7 + 8
    bounds, disclosed = _run(cells)
    assert bounds[2].lp_max == pytest.approx(1) and bounds[2].int_max == pytest.approx(1)
    assert any(b.row == 2 for b in disclosed(list(bounds.values())))
    # without the subset relation (first not published) the cell could be anything up to 12
    bounds, disclosed = _run(cells.drop(index=3).reset_index(drop=True))
    assert bounds[2].lp_max == pytest.approx(12) and not disclosed(list(bounds.values()))
