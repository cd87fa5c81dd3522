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
GROUPS = {"sex": (1, 2), "age": DIMENSIONS["age"][1], "origin": (1, 2, 3), "edu": DIMENSIONS["edu"][1]}
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
    for (y0, y1), level in itertools.product(YEARS, ("municipality", "region")):
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
            areas = con.execute("SELECT code, region_code FROM areas WHERE level = 'municipality'").df()
            self.region_of = dict(zip(areas["code"], areas["region_code"]))
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
