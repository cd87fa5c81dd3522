"""Write the release database: the publication plan's cells, protected, audited, and their estimates.

    python -m etl release --db data/atlas.duckdb --out data/release.duckdb

The secure database is attached read-only; nothing is written to it. The release is written to a
temporary file beside ``--out`` and moved into place only when the audit has passed, so a failed
release leaves the previous one untouched. What the release holds is listed in
``RELEASE_TABLES``; the output-check report (``release-report.md``) is written beside it.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from etl import duck, peers_table
from etl.release import edition as release_edition
from etl.release import returns as release_returns
from etl.release.cells import register, write_cells, write_strata
from etl.release.estimates import write_estimates
from etl.release.joint import Budget, chain_twins, secondary_bounded
from etl.release.joint import exposed_cells as joint_exposed
from etl.release.joint import protect as joint_protect
from etl.release.plan import DIM_ORDER, Plan, load_plan
from etl.release.relations import check_on_truth, inequality_matrix, relation_matrix, write_relations
from etl.release.suppression import protect
from etl.settings import CONFIG_DIR
from etl.vintage import check_archive_path, vintage

# table -> what one row is (its grain), for the report and the grain tests
RELEASE_TABLES = {
    "counts": "one base count x pattern x area level x area x period x filter set",
    "estimates": "one measure x area level x area x period x filter set",
    "reference_rates": "one measure x period x reference (ESP 2013-standardised or crude rate of Denmark)",
    "returns_monthly": "one month x exam type x centre (producer), and the sum over centres (producer_id 'all')",
    "areas": "one area (municipality, region, 2027 region, Denmark)",
    "geometry": "one geography level (boundaries as GeoJSON)",
    "area_centroid": "one area (its centroid, for the neighbours of the cluster statistics)",
    "peers": "one municipality x one of its comparable municipalities (rank and distance; etl/peers_table.py)",
    "standard_population": "one standard x sex x age band (public weights)",
    "meta": "one setting of the release",
}
# columns that would make a release microdata-grade; the audit refuses them
FORBIDDEN_COLUMNS = ("k_", "cpr", "pnr", "person_id", "pid", "birth", "cell_key", "record_key")


class ReleaseFailed(RuntimeError):
    """The audit did not pass: nothing was written."""


@dataclass
class ReleaseReport:
    path: Path
    seconds: float
    tables: dict[str, int]
    suppression: pd.DataFrame            # per count: cells, zero, primary, secondary, published share
    audit: dict[str, dict]
    smallest_published: int
    views: pd.DataFrame = field(default_factory=pd.DataFrame)   # published share of the default views
    families: pd.DataFrame = field(default_factory=pd.DataFrame)  # published share per view family
    steps: list[tuple[str, float]] = field(default_factory=list)
    identity: dict = field(default_factory=dict)    # the release id and its vintage (etl.vintage)
    national: pd.DataFrame = field(default_factory=pd.DataFrame)  # Denmark's cells by kind (national_rows)

    @property
    def passed(self) -> bool:
        return all(a["passed"] for a in self.audit.values())


def _log(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, flush=True)


# secondary suppression's order of preference (lowest first): cells of population groups and
# imaging types, then the same at region level, then the default views (everyone) of municipalities
# and of regions; then Denmark's reference tables (sex x age x group, published for Denmark only),
# and last Denmark's national rows (a Denmark cell whose table is also mapped by region or
# municipality: the figure every map compares with). A Denmark cell is a partner only where a
# relation holds nothing else (a Denmark table and its values, a period and its years).
COST = {"group": 0.0, "group_region": 1.0, "everyone": 2.0, "everyone_region": 3.0, "denmark": 100.0,
        "national_row": 500.0, "denmark_everyone": 1000.0}


def mapped_below(level: np.ndarray, pattern: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per cell: is its table (count and pattern) also published below Denmark (by region or
    municipality)? For a Denmark cell, that makes it the national row of a map."""
    key = np.char.add(np.asarray(count).astype(str), np.char.add("|", np.asarray(pattern).astype(str)))
    return np.isin(key, np.unique(key[np.asarray(level) != "denmark"]))


def cell_cost(level: np.ndarray, pattern: np.ndarray, count: np.ndarray | None = None) -> np.ndarray:
    level, pattern = np.asarray(level), np.asarray(pattern).astype(str)
    everyone = pattern == ""
    region = np.isin(level, ["region", "region2027"])
    cost = np.where(everyone, COST["everyone"], COST["group"])
    cost = np.where(region, np.where(everyone, COST["everyone_region"], COST["group_region"]), cost)
    # Denmark's tables by sex x age band (within a group) are the reference of the standardised rates:
    # among them, the fewer dimensions a table has, the later it is hidden
    dims = np.char.count(pattern, ",") + (~everyone)
    denmark = np.where(everyone, COST["denmark_everyone"], COST["denmark"] + np.where(pattern == "sex,age", 50.0,
                                                                                      10.0 * np.maximum(0, 3 - dims)))
    dk = level == "denmark"
    if count is not None:           # national rows: tables of a count also published below Denmark
        mapped = mapped_below(level, pattern, count)
        denmark = np.where(mapped & ~everyone, COST["national_row"] + 10.0 * np.maximum(0, 3 - dims), denmark)
    return np.where(dk, denmark, cost)


def _ignore_interrupts() -> None:
    """In a protection worker: the parent handles Ctrl-C and SIGTERM, and ends the workers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _protect_one(job):
    """One count's protection (in a worker or in the main process), with its own time limit and
    a line per round unless ``quiet``."""
    count, sub, n, cost, min_count, seconds, quiet = job
    log = None if quiet else functools.partial(_count_log, count)
    try:
        return count, protect(sub, n, min_count, cost=cost, budget=Budget(per_solve=60.0, total=seconds), log=log)
    except RuntimeError as e:
        raise ReleaseFailed(f"protection of the count `{count}`: {e}; nothing written. Raise "
                            "count_protection_seconds in the publication plan, or publish less at this detail "
                            "(docs/methods.md)") from None


def _count_log(count: str, message: str) -> None:
    print(f"[release]     {count}, {message}", flush=True)


def _per_count(jobs: list, workers: int):
    """(count, SuppressionResult) for each job, in the jobs' order: the counts are independent
    systems, so with ``workers`` > 1 they are protected side by side in forked processes (largest
    first; a worker only does arithmetic, no database). A worker that dies ends the release with
    an error (BrokenProcessPool), never a hang; on an interrupt the workers are ended."""
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_protect_one, jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2].size)
    pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("fork"),
                               initializer=_ignore_interrupts)
    try:
        results = dict(pool.map(_protect_one, [jobs[i] for i in order]))
    finally:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            if proc.is_alive():
                proc.terminate()        # on an interrupt or error: no worker is left running
        pool.shutdown(wait=True, cancel_futures=True)
    for job in jobs:
        yield job[0], results[job[0]]


def _protect_counts(con, plan: Plan, log=None, budget: Budget | None = None,
                    workers: int = 1) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, dict]:
    """Suppression per base count over every equality of that count (geography with the 2027
    regions' identities, periods with their tiles, filter sets), then the joint audit of all
    counts with the subset inequalities between them; returns hidden flags per cell, the cells of
    tables the joint protection left out whole (its fallback), the suppression table and the audits."""
    ids = con.execute("SELECT count, min(id), max(id) FROM plan_cells GROUP BY count ORDER BY min(id)").fetchall()
    cells = con.execute("SELECT count, level, pattern, period, n FROM plan_cells ORDER BY id").df()
    n = cells["n"].to_numpy(dtype=float)
    cost = cell_cost(cells["level"].to_numpy(), cells["pattern"].to_numpy(), cells["count"].to_numpy())
    A, G = relation_matrix(con), inequality_matrix(con)
    checked = check_on_truth(con, A, G, n)
    if checked["fail"].any():
        bad = checked[checked["fail"] > 0]
        raise ReleaseFailed(f"relations that do not hold on the true counts (a bug): {bad.to_dict('records')}")
    hidden = np.zeros(n.size, dtype=bool)
    primary = np.zeros(n.size, dtype=bool)
    audits = {}
    jobs, span = [], {}
    for count, lo, hi in ids:
        cols = np.arange(lo, hi + 1)
        sub = A[:, cols]
        span[count] = (cols, sub[np.flatnonzero(sub.getnnz(axis=1) > 0)].tocsr())
        jobs.append((count, span[count][1], n[cols], cost[cols], plan.min_count, plan.count_protection_seconds,
                     log is None))
    for count, res in _per_count(jobs, workers):
        cols, sub = span[count]
        hidden[cols], primary[cols] = res.hidden, res.primary
        # protect's last round is the audit of this count: its LP proved every hidden small cell
        # able to reach min_count (running it again with the same seed would repeat it exactly);
        # hiding more below only widens the tables consistent with what is shown, so it stays proven
        small = (n[cols] >= 1) & (n[cols] < plan.min_count)
        audits[count] = {"cells": int(cols.size), "hidden": int(res.hidden.sum()),
                         "hidden_small": int((small & res.hidden).sum()), "shown_small": int((small & ~res.hidden).sum()),
                         "exposed": res.exposed_history[-1], "relations": int(sub.shape[0]), "passed": False}
        audits[count]["passed"] = audits[count]["shown_small"] == 0 and audits[count]["exposed"] == 0
        if log:
            log(f"{count}: {int(res.hidden.sum()):,} of {cols.size:,} hidden ({res.rounds} rounds)")
    # across counts: a hidden cell's subset or superset twin within min_count of it is hidden too
    # (a table that moves one must move the other), then rule 2 over all counts at once, with the
    # least values the subset inequalities give a hidden partner (a municipality's imaging can fall
    # no lower than its shown first imagings)
    twins = chain_twins(A, G, n, hidden, plan.min_count, cost, keep=cost >= COST["everyone"])
    added = secondary_bounded(A, G, n, hidden, plan.min_count, cost)
    if log:
        log(f"all counts together: {twins:,} more hidden beside a close subset or superset, {added:,} where a "
            "subset or superset left a partner no room")
    # the joint audit: every count at once, with the subset inequalities between counts; with
    # `joint_protection` in the plan it is a gate: more is hidden until every hidden count from 1 to
    # 4 can be 5 or more in a table consistent with everything published, or nothing is written
    budget = budget or Budget(per_solve=60.0, total=plan.joint_audit_seconds)
    proof_kinds: dict = {}
    t0 = time.perf_counter()
    group = pd.factorize(cells["count"])[0]
    before = hidden.copy()
    unpublished = np.zeros(n.size, dtype=bool)
    views, keep_views = _tables(cells, cost)
    if plan.joint_protection:
        try:
            res = joint_protect(A, n, plan.min_count, cost=cost, G=G, budget=budget, log=log, start=hidden,
                                group=group, stats=proof_kinds, lower_proof=False, views=views, keep_views=keep_views,
                                spare=cost >= COST["denmark_everyone"])
        except RuntimeError as e:
            raise ReleaseFailed(f"joint protection of all counts: {e}; nothing written. Raise joint_audit_seconds "
                                "in the publication plan, or publish less (docs/methods.md).") from None
        hidden[:] = res.hidden
        if res.unpublished is not None:
            unpublished[:] = res.unpublished
        exposed = np.zeros(0, dtype=np.int64)
    else:
        exposed = joint_exposed(A, n, hidden, plan.min_count, G, budget, lower_proof=False, group=group,
                                stats=proof_kinds)
    joint = {"cells": int(n.size), "hidden": int(hidden.sum()), "shown_small": 0, "bounded_added": int(added), "twins_added": int(twins),
             "hidden_small": int((hidden & (n >= 1) & (n < plan.min_count)).sum()), "exposed": int(exposed.size),
             "relations": int(A.shape[0]), "inequalities": int(G.shape[0]), "timeouts": budget.timeouts,
             "relation_families": checked, "enforced": plan.joint_protection, "passed": True,
             "proofs_integral": proof_kinds.get("integral", 0), "proofs_fractional": proof_kinds.get("fractional", 0),
             "seconds": round(time.perf_counter() - t0, 1), "budget_seconds": budget.total,
             "joint_added": int((hidden & ~before).sum()),
             "joint_added_by_count": cells[hidden & ~before].groupby("count").size().to_dict(),
             "exposed_by_count": cells.iloc[exposed].groupby("count").size().to_dict(),
             "unpublished_cells": int(unpublished.sum()), "unpublished_tables": _left_out(cells, n, unpublished,
                                                                                          plan.min_count)}
    name = "all counts together" if plan.joint_protection else "all counts together (measured, not yet enforced)"
    audits[name] = joint
    if log:
        more = f"; {joint['joint_added']:,} more hidden" if plan.joint_protection else ""
        log(f"joint audit of all counts: {exposed.size:,} hidden counts from 1 to 4 not proven able to reach "
            f"{plan.min_count} ({budget.timeouts} solves out of time{more})")
    if unpublished.any() and log:
        log(f"{len(joint['unpublished_tables']):,} tables not published: their protection was not proven in time")
    secondary = hidden & ~primary
    joint["denmark_partners"] = int(((cells["level"].to_numpy() == "denmark") & secondary).sum())
    frame = cells.assign(zero=n == 0, primary=primary, secondary=secondary, published=~hidden)
    t = frame.groupby("count", sort=False).agg(cells=("n", "size"), zero=("zero", "sum"), primary=("primary", "sum"),
                                               secondary=("secondary", "sum"), published=("published", "sum"))
    t = t.reset_index()
    t["published_share"] = t["published"] / t["cells"]
    return hidden, unpublished, t, audits


def _tables(cells: pd.DataFrame, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The table of each cell (count x filter pattern x level x period: what the joint protection's
    fallback leaves out whole) and, per table, whether it is always published: the default views
    (everyone) and the national rows of the maps."""
    views, _ = pd.factorize(cells["count"] + "|" + cells["pattern"] + "|" + cells["level"] + "|" + cells["period"])
    always = (cells["pattern"].to_numpy() == "") | (cost >= COST["national_row"])
    keep = np.zeros(views.max() + 1 if views.size else 0, dtype=bool)
    keep[views[always]] = True
    return views, keep


def _left_out(cells: pd.DataFrame, n: np.ndarray, unpublished: np.ndarray, min_count: int) -> list[dict]:
    """The tables the joint protection left out (count, pattern, level, period, cells, small counts)."""
    if not unpublished.any():
        return []
    c = cells[unpublished].assign(small=(n[unpublished] >= 1) & (n[unpublished] < min_count))
    t = c.groupby(["count", "pattern", "level", "period"]).agg(cells=("n", "size"), small=("small", "sum"))
    return [{k: (int(v) if isinstance(v, (np.integer,)) else v) for k, v in r.items()}
            for r in t.reset_index().to_dict("records")]


def _published(con, hidden: np.ndarray, unpublished: np.ndarray | None = None) -> None:
    """The cells of the release: the plan's, hidden ones NULL, tables left out by the joint
    protection's fallback (``unpublished``) absent."""
    out = np.zeros(hidden.size, dtype=bool) if unpublished is None else unpublished
    register(con, "hidden_df", pd.DataFrame({"id": np.arange(hidden.size), "hidden": hidden, "out": out}))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE published AS
        SELECT c.count, c.pattern, c.level, c.code, c.period, c.fs, {', '.join(f'c.{d}' for d in DIM_ORDER)},
               CASE WHEN h.hidden THEN NULL ELSE c.n END AS shown
        FROM plan_cells c JOIN hidden_df h USING (id)
        WHERE NOT h.out
    """)
    con.unregister("hidden_df")


def _weights(con) -> dict:
    w = con.execute("SELECT sex, age_band, weight FROM sec.standard_population WHERE standard = 'esp2013'").fetchall()
    return {(str(s), a): float(x) for s, a, x in w}


def _scan(con) -> dict:
    """The output check of the written file: no count from 1 to 4, no cell-key or person columns."""
    problems = []
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                                "AND table_catalog = current_database()").fetchall():
        cols = con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                           f"WHERE table_name = '{table}' AND table_catalog = current_database()").fetchall()
        for name, _dtype in cols:
            if any(name.lower().startswith(f) for f in FORBIDDEN_COLUMNS):
                problems.append(f"{table}.{name}: cell-key or person column")
    for table, column in count_columns(con):
        small = con.execute(f"SELECT count(*) FROM {table} WHERE {column} >= 1 AND {column} < 5").fetchone()[0]
        if small:
            problems.append(f"{table}.{column}: {small} counts from 1 to 4")
    return {"passed": not problems, "problems": problems}


POPULATION = {"sex", "age", "edu", "inc", "origin", "labour"}


def _family(pattern: str) -> str:
    dims = set(filter(None, pattern.split(",")))
    if not dims:
        return "everyone"
    if dims & {"outcome_short", "outcome_long"}:
        return "pathways"
    if dims <= POPULATION:
        return "population group" if len(dims) == 1 else "sex x age"
    if not dims & POPULATION:
        return "imaging type"
    return "group x imaging type"


def view_families(con, hidden: np.ndarray) -> pd.DataFrame:
    """Published share per view family (count x kind of filter x level x kind of period), and
    for Denmark the share of its cells hidden for any reason other than being 1-4 themselves."""
    c = con.execute("SELECT count, pattern, level, period, n FROM plan_cells ORDER BY id").df()
    c["family"] = c["pattern"].map(_family)
    c["periods"] = np.where(c["period"].str.contains("-"), "multi-year", "single year")
    c["published"] = ~hidden
    c["secondary"] = hidden & ~c["n"].between(1, 4)
    return (c.groupby(["count", "family", "level", "periods"], sort=True)
             .agg(cells=("n", "size"), published=("published", "mean"), secondary=("secondary", "sum"))
             .reset_index())


NATIONAL_KINDS = {
    "everyone": "Denmark for everyone (the national row of every default view)",
    "mapped": "Denmark for a filter also mapped by region or municipality (a filtered view's national row)",
    "reference": "Denmark's reference tables (sex x age band x group, published for Denmark only)",
}


def national_rows(con, hidden: np.ndarray) -> pd.DataFrame:
    """Denmark's cells by kind (``NATIONAL_KINDS``): cells, published share, hidden as 1-4
    themselves, hidden to protect another cell (a partner, only where a relation held nothing else)."""
    c = con.execute("SELECT count, pattern, level, n FROM plan_cells ORDER BY id").df()
    c["hidden"] = hidden
    c["mapped"] = mapped_below(c["level"].to_numpy(), c["pattern"].to_numpy(), c["count"].to_numpy())
    dk = c[c["level"] == "denmark"].copy()
    mapped = dk["mapped"].to_numpy()
    dk["kind"] = np.where(dk["pattern"] == "", "everyone", np.where(mapped, "mapped", "reference"))
    dk["small"] = dk["hidden"] & dk["n"].between(1, 4)
    dk["partner"] = dk["hidden"] & ~dk["n"].between(1, 4)
    out = (dk.groupby("kind").agg(cells=("n", "size"), published=("hidden", lambda h: 1.0 - h.mean()),
                                  hidden_small=("small", "sum"), partners=("partner", "sum"))
             .reindex(list(NATIONAL_KINDS)).dropna(how="all").reset_index())
    return out


def default_views(con) -> pd.DataFrame:
    """Published share of every count for everyone, by level and kind of period (the default views)."""
    return con.execute("""
        SELECT count, level, CASE WHEN period LIKE '%-%' THEN 'multi-year' ELSE 'single year' END AS periods,
               avg((n IS NOT NULL)::INT) AS share
        FROM counts WHERE pattern = '' GROUP BY ALL ORDER BY count, level, periods
    """).df()


def count_columns(con) -> list[tuple[str, str]]:
    """(table, column) of every published count of the release."""
    return [("counts", "n"), ("estimates", "num"), ("estimates", "den"),
            *[("returns_monthly", c) for c in release_returns.COUNTS]]


def build_release(secure_db: Path, out: Path, plan_path: Path | None = None, quiet: bool = False,
                  release_id: str | None = None, budget: Budget | None = None,
                  workers: int | None = None, joint_gate: bool | None = None) -> ReleaseReport:
    """``workers``: processes protecting the counts side by side (default 1; the command's
    ``--workers``, ``make release`` gives 2). ``joint_gate`` overrides the plan's
    ``joint_protection`` (the command's ``--joint-gate on|off``); the report says which applied."""
    t0 = time.perf_counter()
    secure_db, out = Path(secure_db), Path(out)
    if not secure_db.exists():
        raise FileNotFoundError(f"secure database {secure_db} not found: build it first (python -m etl build)")
    if secure_db.resolve() == out.resolve():
        raise ValueError("the release must be written to another file than the secure database")
    plan = load_plan(plan_path)
    if joint_gate is not None:
        plan = dataclasses.replace(plan, joint_protection=bool(joint_gate))
    edition = release_edition.load_edition(plan_path, release_id)
    check_archive_path(out, edition.release_id)
    centre_key = (release_edition.read_key(edition.key_path(secure_db)) if edition.pseudonymise_centres else None)
    steps: list[tuple[str, float]] = []

    def step(name: str) -> None:
        steps.append((name, time.perf_counter() - t0))
        _log(quiet, f"[release] {name:<48} {steps[-1][1]:6.1f} s")

    with duck.written_beside(out) as (tmp, con):
        con.execute(f"ATTACH '{secure_db}' AS sec (READ_ONLY)")
        meta = dict(con.execute("SELECT key, value FROM sec.meta").fetchall())
        years = [int(y) for (y,) in con.execute("SELECT DISTINCT year FROM sec.population_cube ORDER BY 1").fetchall()]
        n_cells = write_cells(con, plan, years)
        write_strata(con, plan, years)
        step(f"{n_cells:,} cells of the publication plan")
        write_relations(con, plan, years)
        step("relations (geography, 2027 regions, periods, filter sets, subsets)")
        workers = workers or 1
        hidden, unpublished, suppression, audits = _protect_counts(con, plan, log=None if quiet else (lambda m: _log(False, f"[release]   {m}")),
                                                      budget=budget, workers=workers)
        step(f"protected: {int(hidden.sum()):,} cells hidden")
        families = view_families(con, hidden)
        national = national_rows(con, hidden)
        _published(con, hidden, unpublished)
        est = write_estimates(con, plan, _weights(con))
        step("estimates")
        returns, returns_audit = release_returns.protect_returns(con, plan.min_count)
        audits["returns_monthly"] = returns_audit
        if centre_key is not None:     # after protection: the codes change no count
            centre_key = release_edition.extend_key(centre_key, returns["producer_id"])
            returns = release_edition.pseudonymise(returns, centre_key)
        dim_cols = ", ".join(DIM_ORDER)
        con.execute(f"CREATE TABLE counts AS SELECT count, pattern, level, code, period, fs, {dim_cols}, "
                    f"shown AS n FROM published ORDER BY count, pattern, level, code, period, fs")
        for name, frame in (("estimates", est["estimates"]), ("reference_rates", est["reference_rates"]),
                            ("returns_monthly", returns)):
            register(con, "frame_df", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame_df")
            con.unregister("frame_df")
        con.execute("CREATE TABLE areas AS SELECT * FROM sec.areas")
        con.execute("CREATE TABLE geometry AS SELECT * FROM sec.geometry")
        con.execute("CREATE TABLE area_centroid AS SELECT * FROM sec.area_centroid")
        peers_table.write_peers(con, source="sec")      # comparable municipalities: codes, ranks, distances
        con.execute("CREATE TABLE standard_population AS SELECT * FROM sec.standard_population")
        periods = [label for label, _, _ in plan.periods(years)]
        released_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        identity = vintage({k: json.loads(v) for k, v in meta.items()}, secure_db,
                           Path(plan_path or CONFIG_DIR / "release.toml"), edition.release_id, released_at,
                           edition.pseudonymise_centres)
        release_meta = {
            "database_kind": json.dumps("release"),
            "released_at": json.dumps(released_at),
            "release_id": json.dumps(edition.release_id),
            "vintage": json.dumps(identity),
            "periods": json.dumps(periods),
            "plan": json.dumps([{"count": p.count, "dims": list(p.dims), "levels": list(p.levels), "periods": p.periods}
                                for p in plan.patterns]),
            "min_events_standardised": str(plan.min_events_standardised),
            "perturb": "false",
            **{k: v for k, v in meta.items() if k in ("first_year", "last_year", "age_bands", "windows", "min_count",
                                                      "data_kind", "built_at", "incomplete_years", "coverage",
                                                      "max_noise", "code_lists")},
        }
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO meta VALUES (?, ?)", list(release_meta.items()))
        con.execute("DETACH sec")
        scan = _scan(con)
        audits["scan"] = scan
        step("written and scanned")
        tables = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RELEASE_TABLES}
        smallest = con.execute("SELECT min(n) FROM counts WHERE n > 0").fetchone()[0]
        views = default_views(con)
        con.close()
        report = ReleaseReport(out, time.perf_counter() - t0, tables, suppression, audits, int(smallest or 0),
                               views, families, steps, identity, national)
        if not report.passed:
            failed = {k: v for k, v in audits.items() if not v["passed"]}
            raise ReleaseFailed(f"release audit failed, nothing written: {failed}")
        os.replace(tmp, out)
        if centre_key is not None:
            release_edition.write_key(edition.key_path(secure_db), centre_key)
        return report
