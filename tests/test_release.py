"""The release database: audited, protected, and attacked with nothing but what it publishes.

The release is built once per test session (``release_db`` in conftest) from its own secure
database at scale 0.05.
The attacks rebuild every additive relation an intruder knows (municipalities add up to their
region and to Denmark, single years to the declared periods, a dimension's values to the filter
without it) from the published tables alone, independently of ``etl.release.relations``, and try
to work back hidden counts: by subtracting where one cell is hidden, and by linear programming
over all relations at once. They are scored against the true counts of the secure database.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, sparse

from etl.release import build as release_build
from etl.release.build import FORBIDDEN_COLUMNS, ReleaseFailed, build_release
from etl.release.plan import load_plan
from etl.release.suppression import audit, exposed_cells, protect

MIN = 5


@pytest.fixture(scope="module")
def secure_db(release_secure_db) -> Path:
    return release_secure_db


@pytest.fixture(scope="module")
def published(release_db) -> pd.DataFrame:
    with duckdb.connect(str(release_db), read_only=True) as con:
        return con.execute("SELECT * FROM counts").df()


@pytest.fixture(scope="module")
def truth(secure_db, release_db) -> pd.DataFrame:
    """The true count of every published cell, recomputed from the secure database."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{secure_db}' AS sec (READ_ONLY)")
    from etl.release.cells import write_cells

    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM sec.population_cube ORDER BY 1").fetchall()]
    write_cells(con, load_plan(), years)
    t = con.execute("SELECT count, pattern, level, code, period, fs, n AS true_n FROM plan_cells").df()
    con.close()
    return t


# ------------------------------------------------------------------ the output check

def test_no_count_from_1_to_4_and_no_person_or_key_column_in_any_table(release_db):
    with duckdb.connect(str(release_db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert {"counts", "estimates", "returns_monthly", "meta"} <= set(tables)
        assert not any("cube" in t for t in tables), tables
        for t in tables:
            cols = con.execute(f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{t}'").fetchall()
            for name, dtype in cols:
                assert not any(name.lower().startswith(f) for f in FORBIDDEN_COLUMNS), (t, name)
                if dtype in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT") and name not in ("code", "year", "month"):
                    small = con.execute(f"SELECT count(*) FROM {t} WHERE {name} BETWEEN 1 AND {MIN - 1}").fetchone()[0]
                    assert small == 0, f"{t}.{name}: {small} counts from 1 to 4"
        for t, c in (("estimates", "num"), ("estimates", "den")):
            small = con.execute(f"SELECT count(*) FROM {t} WHERE {c} >= 1 AND {c} < {MIN}").fetchone()[0]
            assert small == 0, (t, c)
        kind = con.execute("SELECT value FROM meta WHERE key = 'database_kind'").fetchone()[0]
        assert "release" in kind


def test_the_published_counts_are_the_true_counts_or_hidden(published, truth):
    t = published.merge(truth, on=["count", "pattern", "level", "code", "period", "fs"], how="left")
    assert t["true_n"].notna().all()
    shown = t["n"].notna()
    assert (t.loc[shown, "n"] == t.loc[shown, "true_n"]).all()
    small = t["true_n"].between(1, MIN - 1)
    assert small.any(), "the test data should have small counts to protect"
    assert t.loc[small, "n"].isna().all()
    assert (t.loc[t["true_n"] == 0, "n"] == 0).all()


def test_default_views_stay_whole_in_the_last_complete_year(published, truth):
    """Counts for everyone by municipality: hidden only where the count itself is small."""
    t = published.merge(truth, on=["count", "pattern", "level", "code", "period", "fs"])
    everyone = t[(t["pattern"] == "") & (t["count"].isin(["persons", "imaging"]))]
    secondary = everyone[everyone["n"].isna() & (everyone["true_n"] >= MIN)]
    share = 1 - len(secondary) / len(everyone)
    assert share > 0.97, f"{len(secondary)} secondary cells in the default views"


def test_the_national_row_is_never_a_secondary_partner(release_db, published, truth):
    """Issue 24 item 5: in every period and filter set of the plan, Denmark's cell is published
    unless it is itself 1-4, or nothing else was left: a Denmark cell hidden to protect another
    lies in a relation made of Denmark's cells alone (a filter set and its values, a period and
    its years) that holds another hidden cell. Denmark for everyone is always published, and the
    national rows of the maps (Denmark for a filter also mapped by region or municipality) are
    taken after Denmark's reference tables (sex x age x group, Denmark only)."""
    p, A = _attack(release_db, published, truth)
    dk = p["level"].to_numpy() == "denmark"
    assert dk.sum() > 100 and p.loc[dk, "period"].nunique() >= 10 and p.loc[dk, "fs"].nunique() >= 20
    hidden = p["n"].isna().to_numpy()
    true = p["true_n"].to_numpy()
    everyone = dk & (p["pattern"].to_numpy() == "") & hidden & (true >= MIN)
    assert not everyone.any(), p.loc[everyone, ["count", "period", "true_n"]].to_string()
    absA = abs(A).tocsr()
    only_dk = np.asarray((absA @ (~dk).astype(float)) == 0).ravel()
    with_hidden = np.asarray(absA @ hidden.astype(float)).ravel() >= 2
    forced = np.asarray(absA[np.flatnonzero(only_dk & with_hidden)].sum(axis=0)).ravel() > 0
    secondary = dk & hidden & (true >= MIN)
    free = np.flatnonzero(secondary & ~forced)
    assert free.size == 0, p.iloc[free[:5]][["count", "fs", "period", "true_n"]].to_string()
    below = set(map(tuple, p.loc[~dk, ["count", "pattern"]].drop_duplicates().to_numpy()))
    mapped = dk & np.array([(c, q) in below for c, q in zip(p["count"], p["pattern"])]) & (p["pattern"].to_numpy() != "")
    reference = dk & ~mapped & (p["pattern"].to_numpy() != "")
    assert mapped.sum() > 100 and reference.sum() > 100
    share_mapped = (secondary & mapped).sum() / mapped.sum()
    share_reference = (secondary & reference).sum() / reference.sum()
    print(f"national rows of maps hidden to protect others: {share_mapped:.1%}; reference tables: {share_reference:.1%}")
    assert share_mapped < 0.10
    assert share_mapped < share_reference        # the reference tables are taken first


def test_the_report_gives_the_national_rows_and_denmark_for_everyone_whole(release_db, published, truth):
    """The output-check report's national rows: Denmark for everyone 100 % published, and the
    figures of the report are those of the release."""
    text = (release_db.parent / "release-report.md").read_text(encoding="utf-8")
    section = text.split("## National rows (Denmark)")[1].split("##")[0]
    rows = {line.split("|")[1].strip(): [x.strip() for x in line.split("|")[2:-1]]
            for line in section.splitlines() if line.startswith("| ") and "---" not in line}
    everyone = next(v for k, v in rows.items() if k.startswith("Denmark for everyone"))
    p = published.merge(truth, on=["count", "pattern", "level", "code", "period", "fs"])
    dk = p[(p["level"] == "denmark") & (p["pattern"] == "")]
    assert int(everyone[0].replace(",", "")) == len(dk)
    assert everyone[1] == "100.0%" and dk["n"].notna().all()
    assert int(everyone[3].replace(",", "")) == 0          # never hidden to protect another cell
    # the audit table counts each count's hidden cells from 1 to 4 (it said 0 for every count)
    audit = text.split("## Audit")[1].split("##")[0]
    head = [x.strip() for x in audit.splitlines()[2].split("|")[1:-1]]
    line = next(ln for ln in audit.splitlines() if ln.startswith("| imaging |"))
    shown = int([x.strip() for x in line.split("|")[1:-1]][head.index("hidden 1-4")].replace(",", ""))
    im = p[p["count"] == "imaging"]
    assert shown == int((im["n"].isna() & im["true_n"].between(1, 4)).sum()) > 0


# ------------------------------------------------------------------ attacks on the published counts

def _relations(published: pd.DataFrame, areas: pd.DataFrame):
    """Every parent = sum of children an intruder can read off the published tables."""
    p = published.reset_index(drop=True).assign(cell=lambda d: np.arange(len(d)))
    key = ["count", "pattern", "period", "fs"]
    rels = []
    mun = areas[areas.level == "municipality"]
    for parent_level, column in (("region", "region_code"), ("region2027", "region2027_code")):
        child = p[p.level == "municipality"].merge(mun[["code", column]], on="code")
        par = p[p.level == parent_level].rename(columns={"code": column})
        rels.append(child.merge(par[[*key, column, "cell"]], on=[*key, column], suffixes=("", "_parent")))
    for child_level in ("region", "region2027"):
        child = p[p.level == child_level]
        par = p[p.level == "denmark"]
        rels.append(child.merge(par[[*key, "cell"]], on=key, suffixes=("", "_parent")))
    single = p[~p.period.str.contains("-")]
    for label in p.period[p.period.str.contains("-")].unique():
        a, b = (int(x) for x in label.split("-"))
        child = single[single.period.astype(int).between(a, b)]
        par = p[p.period == label]
        rels.append(child.merge(par[["count", "pattern", "level", "code", "fs", "cell"]],
                                on=["count", "pattern", "level", "code", "fs"], suffixes=("", "_parent")))
    # filter sets: drop one dimension from the child's filter
    for pattern in p.pattern.unique():
        dims = [d for d in pattern.split(",") if d]
        for d in dims:
            rest = ",".join(x for x in dims if x != d)
            child = p[p.pattern == pattern].copy()
            child["parent_fs"] = child["fs"].map(lambda s: "&".join(x for x in s.split("&") if not x.startswith(d + "=")))
            par = p[p.pattern == rest].rename(columns={"fs": "parent_fs"})
            rels.append(child.merge(par[["count", "level", "code", "period", "parent_fs", "cell"]],
                                    on=["count", "level", "code", "period", "parent_fs"], suffixes=("", "_parent")))
    links = pd.concat([r[["cell", "cell_parent"]] for r in rels], ignore_index=True).drop_duplicates()
    return p, links


def _system(p: pd.DataFrame, links: pd.DataFrame):
    # one relation per parent and kind of child (a region is the sum of its municipalities, and
    # separately of its population groups): children are told apart by level, pattern and period kind
    kind = (p.loc[links["cell"], "level"].to_numpy() + "|" + p.loc[links["cell"], "pattern"].to_numpy() + "|"
            + p.loc[links["cell"], "period"].str.contains("-").astype(str).to_numpy())
    groups = pd.DataFrame({"parent": links["cell_parent"].to_numpy(), "kind": kind}).groupby(["parent", "kind"]).ngroup().to_numpy()
    n_rel = groups.max() + 1
    parents = pd.DataFrame({"g": groups, "parent": links["cell_parent"].to_numpy()}).drop_duplicates("g")
    rows = np.r_[groups, parents["g"].to_numpy()]
    cols = np.r_[links["cell"].to_numpy(), parents["parent"].to_numpy()]
    vals = np.r_[np.ones(len(groups)), -np.ones(len(parents))]
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n_rel, len(p)))


def _attack(release_db, published, truth):
    with duckdb.connect(str(release_db), read_only=True) as con:
        areas = con.execute("SELECT * FROM areas").df()
    p, links = _relations(published, areas)
    A = _system(p, links)
    p = p.merge(truth, on=["count", "pattern", "level", "code", "period", "fs"], how="left")
    return p, A


def _subtract(A, shown: np.ndarray, hidden: np.ndarray) -> list[tuple[int, float]]:
    """Every relation with exactly one hidden cell gives it away: (cell, its value)."""
    k = abs(A) @ hidden.astype(float)
    out = []
    for r in np.flatnonzero(k == 1):
        row = A[r].tocoo()
        h = [c for c in row.col if hidden[c]][0]
        coef = row.data[list(row.col).index(h)]
        out.append((h, -sum(v * shown[c] for c, v in zip(row.col, row.data) if c != h) / coef))
    return out


def test_no_hidden_count_from_1_to_4_is_given_away_by_subtraction(release_db, published, truth):
    p, A = _attack(release_db, published, truth)
    hidden = p["n"].isna().to_numpy()
    shown = np.nan_to_num(p["n"].to_numpy(dtype=float))
    recovered = _subtract(A, shown, hidden)
    small = [(h, v) for h, v in recovered if 1 <= v < MIN]
    assert not small, f"{len(small)} hidden counts from 1 to 4 worked back by subtraction"
    for h, v in recovered:
        assert v == p.loc[h, "true_n"]
    # the attack works: publish every other cell of one relation of a hidden small cell, and it falls
    target = int(np.flatnonzero(hidden & (p["true_n"].to_numpy() < MIN))[0])
    r = int(abs(A)[:, target].nonzero()[0][0])
    leaky = hidden.copy()
    leaky[A[r].indices] = False
    leaky[target] = True
    truth_n = p["true_n"].to_numpy(dtype=float)
    got = dict(_subtract(A, np.where(leaky, 0.0, truth_n), leaky))
    assert got[target] == truth_n[target]


def test_no_hidden_count_from_1_to_4_is_narrowed_by_linear_programming(release_db, published, truth):
    """The intruder's best: the largest value each hidden small cell can take in any table
    consistent with all published counts (hidden cells >= 1). It must reach 5."""
    p, A = _attack(release_db, published, truth)
    hidden = p["n"].isna().to_numpy()
    c = np.where(hidden, p["true_n"].to_numpy(dtype=float), p["n"].to_numpy(dtype=float))
    out = exposed_cells(A, c, hidden, MIN)
    assert out.size == 0, f"{out.size} hidden small counts pinned below 5: {p.iloc[out[:5]][['count', 'level', 'period', 'fs']]}"
    small = np.flatnonzero(hidden & (c < MIN) & (c >= 1))
    assert small.size > 0


def test_estimates_rest_on_published_counts_only(release_db):
    with duckdb.connect(str(release_db), read_only=True) as con:
        e = con.execute("SELECT * FROM estimates").df()
    hidden = e["num"].isna() | e["den"].isna()
    assert hidden.any()
    for col in ("value", "lower", "upper", "expected", "sr", "sr_lower", "sr_upper"):
        assert e.loc[hidden, col].isna().all(), col
    assert e.loc[hidden, "flag_std"].isna().all() and e.loc[hidden, "flag_crude"].isna().all()
    # the crude value is a function of the published pair: recomputed here
    from atlas.measures import MEASURES

    rates = e["measure"].map(lambda m: MEASURES[m].kind == "rate")
    ok = ~hidden & rates & (e["den"] > 0)
    assert np.allclose(e.loc[ok, "value"], e.loc[ok, "num"] / e.loc[ok, "den"] * 1000)
    few = ~hidden & rates & (e["num"] < load_plan().min_events_standardised)
    assert e.loc[few, "sr"].isna().all()


# ------------------------------------------------------------------ suppression on worked examples

def _table(rows: list[list[int]]):
    """A two-way table with row and column totals and its relations (cells, then totals)."""
    x = np.asarray(rows, dtype=float)
    r, c = x.shape
    cells = list(x.ravel()) + list(x.sum(axis=1)) + list(x.sum(axis=0)) + [x.sum()]
    idx = np.arange(r * c).reshape(r, c)
    row_tot, col_tot, grand = r * c + np.arange(r), r * c + r + np.arange(c), r * c + r + c
    eqs = []
    for i in range(r):
        eqs.append({**{int(j): 1 for j in idx[i]}, int(row_tot[i]): -1})
    for j in range(c):
        eqs.append({**{int(i): 1 for i in idx[:, j]}, int(col_tot[j]): -1})
    eqs.append({**{int(i): 1 for i in row_tot}, grand: -1})
    eqs.append({**{int(j): 1 for j in col_tot}, grand: -1})
    A = sparse.lil_matrix((len(eqs), len(cells)))
    for k, e in enumerate(eqs):
        for j, v in e.items():
            A[k, j] = v
    return A.tocsr(), np.asarray(cells)


def test_one_hidden_cell_alone_is_exposed_and_protect_hides_a_rectangle():
    A, c = _table([[2, 20, 30], [25, 40, 35], [30, 33, 50]])
    hidden = c == 2
    assert exposed_cells(A, c, hidden, MIN).tolist() == [0]
    res = protect(A, c, MIN)
    assert res.primary.sum() == 1 and res.secondary.sum() >= 3      # a 2 x 2 rectangle at least
    assert audit(A, c, res.hidden, MIN)["passed"]


def test_partners_too_small_to_carry_the_cell_are_caught_by_the_audit():
    # 1 and 2 hidden in one row: the row total leaves them 3 together, so the 1 is at most 2
    A, c = _table([[1, 2, 30], [25, 40, 35], [30, 33, 50]])
    hidden = np.zeros(c.size, dtype=bool)
    hidden[[0, 1, 3, 4]] = True                                    # a rectangle of 1, 2, 25, 40
    assert 0 in exposed_cells(A, c, hidden, MIN).tolist()
    res = protect(A, c, MIN)
    assert audit(A, c, res.hidden, MIN)["passed"]


# ------------------------------------------------------------------ the command line and failure

SMALL_PLAN = """
[protection]
min_count = 5
[periods]
multi_year = [[2013, 2015]]
[[tables]]
counts = ["persons", "imaging"]
patterns = [[]]
levels = ["region", "denmark"]
"""


@pytest.fixture
def small_plan(tmp_path) -> Path:
    p = tmp_path / "plan.toml"
    p.write_text(SMALL_PLAN, encoding="utf-8")
    return p

def test_a_failed_release_leaves_the_previous_one_untouched(secure_db, small_plan, tmp_path, monkeypatch):
    out = tmp_path / "out" / "release.duckdb"
    out.parent.mkdir()
    out.write_bytes(b"the previous release")
    monkeypatch.setattr(release_build, "_scan", lambda con: {"passed": False, "problems": ["planted"]})
    with pytest.raises(ReleaseFailed):
        build_release(secure_db, out, plan_path=small_plan, quiet=True)
    assert out.read_bytes() == b"the previous release"
    assert sorted(p.name for p in out.parent.iterdir()) == ["release.duckdb"]


def test_release_command_writes_the_database_and_the_report(secure_db, small_plan, tmp_path):
    out = tmp_path / "r.duckdb"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "etl", "release", "--db", str(secure_db), "--out", str(out), "--plan", str(small_plan), "--quiet"],
                          cwd=root, capture_output=True, text=True, env={**os.environ}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "release-report.md").read_text(encoding="utf-8")
    assert "Audit: **passed**" in report and "| `counts` |" in report
    assert "Smallest published non-zero count: **" in report
    smallest = int(report.split("Smallest published non-zero count: **")[1].split("**")[0])
    assert smallest >= MIN
    bad = subprocess.run([sys.executable, "-m", "etl", "release", "--db", str(tmp_path / "missing.duckdb"),
                          "--out", str(out)], cwd=root, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 3 and "does not exist" in bad.stderr


def test_the_release_tests_share_one_process(release_db, request):
    """Under `make test` (pytest-xdist, --dist loadgroup) every test of the release carries its group in its
    id, so one process builds the release for all of them (with pytest 9 the group silently did not hold:
    each process built its own release, two builds at once on two cores)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("runs under `make test` (xdist --dist loadgroup)")
    assert request.node.nodeid.endswith("@release"), request.node.nodeid


def test_a_count_whose_protection_runs_out_of_time_stops_the_release_with_a_clear_message():
    """The per-count protection has a time limit (``count_protection_seconds``): cells it has not
    proven safe when the time is out stop the release, naming the count and what to do."""
    from etl.release.build import ReleaseFailed, _protect_one

    A, c = _table([[2, 20, 30], [25, 40, 35], [30, 33, 50]])
    count, res = _protect_one(("imaging", A, c, np.zeros(c.size), MIN, 60.0, True))
    assert count == "imaging" and audit(A, c, res.hidden, MIN)["passed"]
    with pytest.raises(ReleaseFailed, match=r"`imaging`.*ran out.*count_protection_seconds"):
        _protect_one(("imaging", A, c, np.zeros(c.size), MIN, 0.0, True))


def test_the_protection_says_how_each_round_went(capsys):
    from etl.release.build import _protect_one

    A, c = _table([[2, 20, 30], [25, 40, 35], [30, 33, 50]])
    _protect_one(("first", A, c, np.zeros(c.size), MIN, 60.0, False))
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("[release]     first, round ") for line in lines)
    assert lines[-1].endswith(")") and ", 0 not yet proven safe" in lines[-1]
