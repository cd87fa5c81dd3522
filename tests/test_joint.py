"""Suppression and audit over all counts at once (etl/release/joint.py), on small tables whose
answer can be worked out by hand: the subset inequalities between counts, the least value they
give a hidden partner, the rule that hides another partner, and the LP proofs of the protection
interval [1, 5] in both directions."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from etl.release import joint, proofs
from etl.release.suppression import protect as protect_per_count


def _kerteminde():
    """Issue 25's example as a table: a region's imaging is the sum of four municipalities
    (50, 50, Kerteminde 12, Fanø 1); Kerteminde's first imagings of the year are shown as 12 and
    are a subset of its imaging. Cells: 0 region, 1-4 municipalities, 5 Kerteminde's first."""
    n = np.array([113, 50, 50, 12, 1, 12], dtype=float)
    A = sparse.csr_matrix(np.array([[-1, 1, 1, 1, 1, 0]], dtype=float))
    G = sparse.csr_matrix(np.array([[0, 0, 0, -1, 0, 1]], dtype=float))     # first <= imaging
    return n, A, G


def test_a_shown_subset_is_the_least_value_of_a_hidden_superset():
    n, A, G = _kerteminde()
    hidden = np.array([False, False, False, True, True, False])
    lb = joint.least_values(G, n, hidden)
    assert lb[3] == 12                         # Kerteminde's imaging: at least its shown first imagings
    assert lb[4] == 1 and lb[1] == 1           # no subset shown: a hidden cell is at least 1
    # with the subset hidden too, it bounds nothing (it could be as little as 1)
    hidden[5] = True
    assert joint.least_values(G, n, hidden)[3] == 1


def test_per_count_protection_leaves_the_subset_attack_open_and_the_joint_rule_closes_it():
    n, A, G = _kerteminde()
    per_count = protect_per_count(A[:, :5], n[:5]).hidden
    hidden = np.r_[per_count, False]
    assert hidden[4] and hidden[3] and hidden.sum() == 2       # Fanø and its partner Kerteminde
    # the joint audit sees Fanø <= 13 - 12: exposed
    assert list(joint.exposed_cells(A, n, hidden, 5, G)) == [4]
    added = joint.secondary_bounded(A, G, n, hidden, 5)
    assert added == 1 and hidden[1] | hidden[2]               # one of the 50s, with room to give
    assert joint.exposed_cells(A, n, hidden, 5, G).size == 0


def _chain():
    """Two counts, each a region = three municipalities, episodes <= first imagings in each cell.
    Cells 0-3 first (a, b, c, region), 4-7 episodes. The patterns as the per-count protection
    could leave them: first hides a (4) with b (10), episodes hide a (4) with c (8)."""
    n = np.array([4, 10, 30, 44, 4, 10, 8, 22], dtype=float)
    A = sparse.csr_matrix(np.array([[1, 1, 1, -1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, -1]], dtype=float))
    G = sparse.csr_matrix(np.hstack([-np.eye(4), np.eye(4)]))                  # episode - first <= 0
    hidden = np.array([True, True, False, False, True, False, True, False])
    return n, A, G, hidden


def test_a_shown_twin_close_to_a_hidden_partner_pins_the_chain_and_chain_twins_frees_it():
    n, A, G, hidden = _chain()
    for cols in (slice(0, 4), slice(4, 8)):                   # each count alone is proven
        assert joint.exposed_cells(A[:, cols], n[cols], hidden[cols], 5).size == 0
    # together: first's b cannot fall below the shown episode b (10), so first's a is at most 4,
    # and the episode's a with it
    assert set(joint.exposed_cells(A, n, hidden, 5, G)) == {0, 4}
    before = hidden.copy()
    added = joint.chain_twins(A, G, n, hidden, 5)
    assert added == 1 and list(np.flatnonzero(hidden & ~before)) == [5]      # the episode's b, nothing else
    assert not hidden[2]                         # first's c (30) is far from its twin (8): left shown
    assert joint.exposed_cells(A, n, hidden, 5, G).size == 0


def test_when_the_gate_runs_out_of_rounds_the_tables_still_unproven_are_left_out_whole():
    """The fallback publishes less, never a cell unproven: with one round only, the municipal
    tables of both counts (table numbers 0 and 2; the regions 1 and 3) are left out, their cells
    known to an intruder only as whole numbers of at least 0, and the audit then proves the 4s."""
    n, A, G, hidden = _chain()
    views = np.array([0, 0, 0, 1, 2, 2, 2, 3])
    res = joint.protect(A, n, 5, G=G, start=hidden, max_rounds=1, lower_proof=False, views=views)
    assert list(np.flatnonzero(res.unpublished)) == [0, 1, 2, 4, 5, 6]
    assert not res.hidden[[3, 7]].any()                       # the regions stay published
    least = np.where(res.unpublished, 0.0, 1.0)
    assert joint.exposed_cells(A, n, res.hidden, 5, G, least=least, lower_proof=False).size == 0
    # without a fallback, or with the municipal tables marked as always published: an error, nothing out
    with pytest.raises(RuntimeError, match="did not converge"):
        joint.protect(A, n, 5, G=G, start=hidden, max_rounds=1, lower_proof=False)
    # first's municipal table always published: the tables beside its unproven 4 are left out instead
    res = joint.protect(A, n, 5, G=G, start=hidden, max_rounds=1, lower_proof=False, views=views,
                        keep_views=np.array([True, False, False, False]))
    assert not res.unpublished[:3].any() and res.unpublished[4:7].all()
    assert joint.exposed_cells(A, n, res.hidden, 5, G, least=np.where(res.unpublished, 0.0, 1.0),
                               lower_proof=False).size == 0
    # every table always published: the shown cells next to the unproven ones are hidden instead
    res = joint.protect(A, n, 5, G=G, start=hidden, max_rounds=1, lower_proof=False, views=views,
                        keep_views=np.ones(4, dtype=bool))
    assert not res.unpublished.any() and joint.exposed_cells(A, n, res.hidden, 5, G, lower_proof=False).size == 0


def test_the_audit_proves_both_ends_of_the_protection_interval():
    """Two small cells whose only partner holds them both down: the region says Fanø + Kerteminde
    = 13 with Kerteminde's subset shown as 12, so Fanø can be 1 but never 5 (no 'up' proof);
    with a 50 hidden as well Fanø can be 5 and 1."""
    n, A, G = _kerteminde()
    hidden = np.array([False, False, False, True, True, False])
    proofs = {"up": np.zeros(n.size, dtype=bool), "down": np.zeros(n.size, dtype=bool)}
    assert list(joint.exposed_cells(A, n, hidden, 5, G, proofs=proofs)) == [4]
    assert not proofs["up"][4]
    hidden[1] = True
    proofs = {"up": np.zeros(n.size, dtype=bool), "down": np.zeros(n.size, dtype=bool)}
    assert joint.exposed_cells(A, n, hidden, 5, G, proofs=proofs).size == 0
    assert proofs["up"][4] and proofs["down"][4]


def test_a_cell_pinned_from_below_is_caught_by_the_lower_proof():
    """A hidden 3 whose superset is shown as 3 while its only partner's subset pins the sum: the
    cell cannot fall to 1 (it is at least the 3 of its own subset): exposed by the 'down' half."""
    # cells: 0 total (shown 20), 1 a (hidden 3), 2 b (hidden 17), 3 a's subset (shown 3)
    n = np.array([20, 3, 17, 3], dtype=float)
    A = sparse.csr_matrix(np.array([[-1, 1, 1, 0]], dtype=float))
    G = sparse.csr_matrix(np.array([[0, -1, 0, 1]], dtype=float))
    hidden = np.array([False, True, True, False])
    proofs = {"up": np.zeros(n.size, dtype=bool), "down": np.zeros(n.size, dtype=bool)}
    assert list(joint.exposed_cells(A, n, hidden, 5, G, proofs=proofs)) == [1]
    assert proofs["up"][1] and not proofs["down"][1]
    # without the lower proof the same pattern passes: the half that the 'down' proof adds
    assert joint.exposed_cells(A, n, hidden, 5, G, lower_proof=False).size == 0


def test_joint_protect_ends_with_every_small_cell_proven():
    n, A, G = _kerteminde()
    result = joint.protect(A, n, 5, G=G)
    assert result.hidden[4] and result.exposed_history[-1] == 0
    assert joint.audit(A, n, result.hidden, 5, G)["passed"]


def test_counts_protected_side_by_side_give_the_same_cells_as_one_by_one():
    """The release protects its counts in worker processes (``--workers``): the same hidden cells
    as one process, in the counts' order, whatever order the workers finish in."""
    from etl.release.build import _per_count

    rng = np.random.default_rng(5)
    jobs = []
    for k in range(4):
        # a region of 12 municipalities over 3 years: region = sum of municipalities, per year
        cells = rng.poisson(rng.choice([2.0, 9.0, 30.0], size=(3, 12)) + 0.0).astype(float)
        n = np.concatenate([cells.sum(axis=1), cells.ravel()])
        rows = []
        for y in range(3):
            r = np.zeros(n.size)
            r[y] = -1
            r[3 + 12 * y: 3 + 12 * (y + 1)] = 1
            rows.append(r)
        jobs.append((f"count{k}", sparse.csr_matrix(np.array(rows)), n, np.zeros(n.size), 5, 60.0, True))
    one = list(_per_count(jobs, 1))
    two = list(_per_count(jobs, 2))
    assert [c for c, _ in two] == [c for c, _ in one] == [j[0] for j in jobs]
    for (_, a), (_, b) in zip(one, two):
        assert np.array_equal(a.hidden, b.hidden) and a.hidden.any()


def test_a_table_whose_coarser_patterns_are_unpublished_still_sums_to_everyone(tmp_path):
    """Every cell of a table by sex x age band sums to everyone, though neither sex nor age band
    is published for that count: the relation goes to the nearest published coarser pattern
    (before, only 'one more dimension' was linked, and such a table had no relation at all)."""
    from etl.release.plan import load_plan
    from etl.release.relations import _coarser

    p = tmp_path / "plan.toml"
    p.write_text('[[tables]]\ncounts = ["persons", "chiro_xray", "first"]\npatterns = [[]]\n'
                 '[[tables]]\ncounts = ["chiro_xray"]\npatterns = [["sex", "age"]]\nlevels = ["denmark"]\n'
                 '[[tables]]\ncounts = ["first"]\npatterns = [["sex"], ["modality"], ["sex", "age", "modality"]]\n',
                 encoding="utf-8")
    plan = load_plan(p)
    assert _coarser(plan, "chiro_xray", ("sex", "age")) == [()]
    # by sex x age x modality: to the modality table and to the sex table (nothing published between)
    assert sorted(_coarser(plan, "first", ("sex", "age", "modality"))) == [("modality",), ("sex",)]
    assert _coarser(plan, "first", ("sex",)) == [()]


def test_the_order_of_preference_keeps_the_national_rows_last():
    from etl.release.build import COST, cell_cost, mapped_below

    level = np.array(["municipality", "region", "denmark", "denmark", "denmark", "denmark", "municipality"])
    pattern = np.array(["edu", "edu", "edu", "sex,age,edu", "", "sex,age", ""])
    count = np.array(["imaging", "imaging", "imaging", "imaging", "imaging", "imaging", "first"])
    # Denmark by edu is mapped (its table is published by municipality); by sex x age x edu it is not, nor
    # imaging for everyone here (only first imagings are published by municipality in this table)
    assert mapped_below(level, pattern, count).tolist() == [True, True, True, False, False, False, True]
    cost = cell_cost(level, pattern, count)
    assert cost[0] < cost[1] < cost[6] < cost[3] < cost[2] < cost[4]
    assert cost[2] >= COST["national_row"] and cost[4] == COST["denmark_everyone"]
    # without the counts no cell is known to be a national row: a Denmark table is a reference table
    assert cell_cost(level, pattern)[2] < COST["national_row"]


def _two_counts(rng):
    """A region of six municipalities for two counts (imaging, and first imagings <= imaging per
    municipality and for the region); cells 0-6 imaging (region, then municipalities), 7-13 first."""
    munis = rng.integers(0, 12, 6).astype(float)
    firsts = np.floor(munis * rng.uniform(0.3, 1.0, 6))
    n = np.r_[munis.sum(), munis, firsts.sum(), firsts]
    A = np.zeros((2, 14))
    A[0, 0], A[0, 1:7] = -1, 1
    A[1, 7], A[1, 8:14] = -1, 1
    G = np.zeros((7, 14))
    for i in range(7):
        G[i, 7 + i], G[i, i] = 1, -1                     # first <= imaging, cell by cell
    return n, sparse.csr_matrix(A), sparse.csr_matrix(G)


def _oracle(A, G, n, hidden, min_count=5):
    """Cells from 1 to 4 whose largest value over every consistent table is below ``min_count``,
    one LP per cell (the intruder's own question)."""
    from scipy import optimize

    H = np.flatnonzero(hidden)
    shown = np.flatnonzero(~hidden)
    A_, G_ = A.toarray(), G.toarray()
    out = []
    for i in H:
        if not 1 <= n[i] < min_count:
            continue
        obj = np.zeros(H.size)
        obj[list(H).index(i)] = -1
        res = optimize.linprog(obj, A_eq=A_[:, H], b_eq=-A_[:, shown] @ n[shown], A_ub=G_[:, H],
                               b_ub=-G_[:, shown] @ n[shown], bounds=[(1, None)] * H.size, method="highs")
        if res.status == 0 and -res.fun < min_count - 1e-6:
            out.append(int(i))
    return out


def test_the_staged_audit_finds_exactly_the_cells_an_intruder_pins_below_5(monkeypatch):
    """Proofs count by count first (the other count fixed at its true values), then over both:
    on random two-count tables the cells left unproven are exactly those whose largest consistent
    value is below 5, whichever LP method solves them, and every proof is counted once."""
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(40):
        n, A, G = _two_counts(rng)
        hidden = (n >= 1) & (n < 5)
        hidden |= rng.uniform(size=n.size) < 0.25
        hidden &= n > 0                                  # zeros are always shown
        hidden[[0, 7]] = False                          # the region totals are shown
        want = _oracle(A, G, n, hidden)
        for ipm in (False, True):
            monkeypatch.setattr(proofs, "IPM_FROM", 0 if ipm else 10**9)
            stats = {}
            got = joint.exposed_cells(A, n, hidden, 5, G, lower_proof=False, group=np.repeat([0, 1], 7), stats=stats)
            assert list(got) == want, (trial, ipm, n, hidden)
            small = hidden & (n >= 1) & (n < 5)
            assert stats["integral"] + stats["fractional"] == small.sum() - len(want)
        checked += len(want)
    assert checked >= 5            # the random tables do pin some cells, so the test can fail


GATE_PLAN = """
[protection]
min_count = {min_count}
joint_protection = true
joint_audit_seconds = 120
[periods]
multi_year = [[2013, 2015], [2016, 2018]]
[[tables]]
counts = ["persons", "imaging", "first", "episode", "low_value"]
patterns = [[]]
"""


def _written(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        cells = con.execute("SELECT count AS quantity, level, code, period, n AS value FROM counts WHERE pattern = ''").df()
        munis = con.execute("SELECT code, region_code, region2027_code FROM areas WHERE level = 'municipality'").df()
    span = cells["period"].str.split("-")
    cells["y0"] = span.str[0].astype(int)
    cells["y1"] = span.str[-1].astype(int)
    cells["filters"] = "all"
    return cells.drop(columns="period"), munis


def test_with_the_joint_gate_no_written_count_from_1_to_4_can_be_derived(atlas_db, tmp_path, monkeypatch):
    """``joint_protection = true``: the release hides more until every hidden count from 1 to 4 is
    proven in [1, 5] over the linked counts (low-value <= episode <= first <= imaging, persons). The
    written table is then attacked as an auditor would, with the relations derived from the table
    definitions (tests/intruder.py, not the release code): no hidden small count is proven below
    5 by LP or integer programming, none pinned. The truth comes from the same plan released with
    nothing hidden (its output scan switched off: it is the oracle, not a release)."""
    from intruder import attack_lp, disclosed, relations

    from etl.release import build as release_build
    from etl.release.build import build_release

    for m in (5, 1):
        (tmp_path / f"plan{m}.toml").write_text(GATE_PLAN.format(min_count=m), encoding="utf-8")
    gated = build_release(atlas_db, tmp_path / "gated.duckdb", plan_path=tmp_path / "plan5.toml", quiet=True)
    monkeypatch.setattr(release_build, "_scan", lambda con: {"passed": True, "problems": []})
    build_release(atlas_db, tmp_path / "truth.duckdb", plan_path=tmp_path / "plan1.toml", quiet=True)
    joint_part = gated.audit["all counts together"]
    assert joint_part["enforced"] and joint_part["exposed"] == 0
    cells, munis = _written(tmp_path / "gated.duckdb")
    truth, _ = _written(tmp_path / "truth.duckdb")
    key = ["quantity", "level", "code", "y0", "y1"]
    true = cells.merge(truth, on=key + ["filters"], how="left", suffixes=("", "_true"))["value_true"].to_numpy(float)
    values = cells["value"].to_numpy(float)
    assert not ((values >= 1) & (values < 5)).any()
    targets = list(np.flatnonzero(np.isnan(values) & (true >= 1) & (true < 5)))
    eq, le = relations(cells, munis, {}, "all")
    assert len(targets) >= 20 and len(le) >= 100          # the scale-0.01 data have small counts to protect
    bad = disclosed(attack_lp(values, eq, le, targets))
    assert not bad, f"{len(bad)} of {len(targets)} hidden small counts proven below 5 or pinned: {bad[:5]}"


def test_a_gate_out_of_rounds_leaves_the_unproven_tables_out_and_what_it_writes_is_safe(atlas_db, tmp_path,
                                                                                       monkeypatch):
    """The fallback end to end: the gate is given one round only (and no table is marked always
    published, so that the scale-0.01 data force it), so the tables still holding an unproven
    count are left out. They are absent from the written release, the report lists them, the
    audit passed, and the auditor's attack on what is written proves no hidden small count below
    5 or pins one."""
    import functools

    from intruder import attack_lp, disclosed, relations

    from etl.release import build as release_build
    from etl.release.build import build_release

    plan = tmp_path / "plan.toml"
    plan.write_text(GATE_PLAN.format(min_count=5), encoding="utf-8")
    monkeypatch.setattr(release_build, "joint_protect", functools.partial(joint.protect, max_rounds=1))
    tables = release_build._tables
    monkeypatch.setattr(release_build, "_tables", lambda cells, cost: (tables(cells, cost)[0], None))
    (tmp_path / "out").mkdir()
    report = build_release(atlas_db, tmp_path / "out" / "release.duckdb", plan_path=plan, quiet=True)
    part = report.audit["all counts together"]
    out = part["unpublished_tables"]
    assert report.passed and out and part["unpublished_cells"] == sum(t["cells"] for t in out)
    with duckdb.connect(str(tmp_path / "out" / "release.duckdb"), read_only=True) as con:
        have = set(con.execute("SELECT DISTINCT count, pattern, level, period FROM counts").fetchall())
    assert not have & {(t["count"], t["pattern"], t["level"], t["period"]) for t in out}
    assert len(have) > len(out)
    from etl.release.report import render

    text = render(report)
    assert f"{len(out):,} tables were left out of this release whole" in text
    monkeypatch.setattr(release_build, "_scan", lambda con: {"passed": True, "problems": []})
    (tmp_path / "plan1.toml").write_text(GATE_PLAN.format(min_count=1), encoding="utf-8")
    build_release(atlas_db, tmp_path / "truth.duckdb", plan_path=tmp_path / "plan1.toml", quiet=True)
    cells, munis = _written(tmp_path / "out" / "release.duckdb")
    truth, _ = _written(tmp_path / "truth.duckdb")
    key = ["quantity", "level", "code", "y0", "y1", "filters"]
    true = cells.merge(truth, on=key, how="left", suffixes=("", "_true"))["value_true"].to_numpy(float)
    values = cells["value"].to_numpy(float)
    targets = list(np.flatnonzero(np.isnan(values) & (true >= 1) & (true < 5)))
    eq, le = relations(cells, munis, {}, "all")
    assert targets
    bad = disclosed(attack_lp(values, eq, le, targets))
    assert not bad, f"{len(bad)} of {len(targets)} hidden small counts proven below 5 or pinned: {bad[:5]}"


def test_the_command_line_turns_the_joint_gate_on_or_off_and_the_report_says_which(atlas_db, tmp_path, capsys):
    from etl.__main__ import main

    plan = tmp_path / "plan.toml"
    plan.write_text(GATE_PLAN.format(min_count=5), encoding="utf-8")          # the plan says: gate
    said = {}
    for gate in ("on", "off"):
        out = tmp_path / gate / "release.duckdb"
        out.parent.mkdir()
        assert main(["release", "--db", str(atlas_db), "--out", str(out), "--plan", str(plan), "--quiet",
                     "--joint-gate", gate]) == 0, capsys.readouterr().err
        said[gate] = (out.parent / "release-report.md").read_text(encoding="utf-8")
    assert "is a gate\nin this release" in said["on"] and "is a gate\nin this release" not in said["off"]
    assert "**Without the gate, this release is not proven safe" in said["off"]
    with duckdb.connect(str(tmp_path / "on" / "release.duckdb"), read_only=True) as on, \
            duckdb.connect(str(tmp_path / "off" / "release.duckdb"), read_only=True) as off:
        hidden = [c.execute("SELECT count(*) FROM counts WHERE n IS NULL").fetchone()[0] for c in (on, off)]
    assert hidden[0] > hidden[1]              # the gate hid more than the per-count protection
