"""Build the app database from the extracts: staging -> intermediate -> marts -> boundaries.

The new database is written to a temporary file beside the target and moved into place only
when it is complete and checked, so a failed build leaves the previous database untouched.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from etl import checks as plausibility
from etl import codes, coverage, duck, geo, intermediate, marts, peers_table, staging, vintage
from etl.contract import contract
from etl.settings import ConfigError, Settings, load_column_mapping, load_settings


@dataclass(frozen=True)
class Step:
    """One finished build step: its number, what it did, its own seconds and the seconds since the start."""
    step: int
    message: str
    seconds: float
    elapsed: float


class Progress:
    """Numbered steps with elapsed time, on stderr, so a long build shows where it is; each step is
    also kept in ``steps`` (the benchmark reads them from the build's report)."""

    def __init__(self, total: int, stream=None, quiet: bool = False):
        self.total, self.step, self.quiet = total, 0, quiet
        self.stream = stream or sys.stderr
        self.started = self.last = time.perf_counter()
        self.steps: list[Step] = []

    def __call__(self, message: str) -> None:
        self.step += 1
        now = time.perf_counter()
        self.steps.append(Step(self.step, message, now - self.last, now - self.started))
        if not self.quiet:
            print(f"[{min(self.step, self.total):>2}/{self.total}] {message:<55} "
                  f"(+{now - self.last:5.1f} s, {now - self.started:6.1f} s)", file=self.stream, flush=True)
        self.last = now


@dataclass
class BuildReport:
    db_path: Path
    seconds: float = 0.0
    staging: staging.StagingReport | None = None
    linkage: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    checks: plausibility.Checks | None = None     # overrides and rows dropped by reason (the build report)
    steps: list[Step] = field(default_factory=list)      # the build's steps with their times
    code_lists: dict = field(default_factory=dict)       # etl.codes.summary: verified and unverified codes


def _data_kind(input_dir: Path) -> str:
    """'synthetic' when the generator's marker file is in the input folder, else 'register'."""
    return "synthetic" if (Path(input_dir) / "SYNTHETIC").exists() else "register"


def _check_paths(db_path: Path, lenient: bool, rejected_dir: Path | None) -> None:
    """Refuse paths the build cannot use before anything is read or written."""
    if db_path.is_dir():
        raise ConfigError(f"--db {db_path} is a folder; give the path of the database file, e.g. {db_path / 'atlas.duckdb'}")
    if db_path.parent.exists() and not db_path.parent.is_dir():
        raise ConfigError(f"--db {db_path}: {db_path.parent} is a file, not a folder")
    if lenient and rejected_dir is None:
        raise ConfigError("--lenient needs --rejected DIR: the rejected rows are person-level data, so they are "
                          "written only to a folder you name (inside the secure environment)")
    if rejected_dir is not None and Path(rejected_dir).resolve() == db_path.parent.resolve():
        raise ConfigError(f"--rejected {rejected_dir} is the database's folder: the rejected rows are person-level "
                          "data and are never written beside the database; name another folder")


STALE_SECONDS = 6 * 3600      # an unlocked leftover of an older version's build counts as abandoned after this


def _lock(path: Path) -> int:
    """Open ``path`` and hold an exclusive lock on it for as long as this process lives (the kernel
    drops it when the process ends, also after ``kill -9``)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _abandoned(lock: Path) -> bool:
    """True when no running process holds ``lock`` (its build was killed): taking the lock for a moment
    proves it. A running build's lock cannot be taken, so its files are never touched."""
    import fcntl

    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_leftovers(db_path: Path, spill_root: Path | None = None) -> list[Path]:
    """Remove what killed builds left: the temporary database beside ``db_path`` (``.NAME.*.building``),
    its WAL and lock, and DuckDB spill folders (``atlas-spill-*`` in the temporary folder). Only files
    whose lock no running process holds are removed (an unlocked leftover of an older version only
    when it is older than :data:`STALE_SECONDS`); returns what was removed."""
    removed: list[Path] = []
    folder = Path(db_path).parent
    now = time.time()
    if folder.is_dir():
        name = Path(db_path).name
        bases = {Path(str(p).removesuffix(".lock")) for p in (*folder.glob(f".{name}.*.building"),
                                                               *folder.glob(f".{name}.*.building.lock"))}
        for base in sorted(bases):
            lock = Path(str(base) + ".lock")
            try:
                if lock.exists():
                    if not _abandoned(lock):
                        continue                # a running build's
                elif now - base.stat().st_mtime < STALE_SECONDS:
                    continue
                for f in (base, Path(str(base) + ".wal"), lock):
                    if f.exists():
                        f.unlink(missing_ok=True)
                        removed.append(f)
            except OSError:
                continue                        # gone meanwhile, or not ours to remove
    root = Path(spill_root or tempfile.gettempdir())
    for spill in sorted(root.glob("atlas-spill-*")) if root.is_dir() else []:
        lock = spill / ".lock"
        try:
            if (lock.exists() and _abandoned(lock)) or (not lock.exists() and now - spill.stat().st_mtime > STALE_SECONDS):
                shutil.rmtree(spill, ignore_errors=True)
                removed.append(spill)
        except OSError:
            continue
    return removed


def _damaged_input(exc: BaseException, input_dir: Path) -> staging.ContractError | None:
    """A ContractError naming the input file a later step could not read in full, or None.

    Staging reads every value the contract checks, but a large table (the population) stays a view
    over its files and some of its columns are first decoded when the cubes are made: a Parquet page
    damaged there fails only then. The build then stops as for any unreadable file (exit code 2)."""
    import re

    import duckdb

    from etl.readers import parquet_error

    if not isinstance(exc, duckdb.Error) or isinstance(exc, (duckdb.IOException, duckdb.OutOfMemoryException)):
        return None
    text = str(exc)
    found = re.search(r'(?:file|File) "?\'?([^"\']+\.(?:parquet|csv|csv\.gz|txt))', text)
    if not found or Path(found.group(1)).parent.resolve() != Path(input_dir).resolve():
        return None
    name = Path(found.group(1)).name
    why = parquet_error(text) or "a part of it cannot be read"
    return staging.ContractError([staging.Problem(
        name, "", "", 0, f"cannot be read in full: {why}",
        hint="copy or export the file again; the build read its header and checked columns, but not all of it")],
        lenient_possible=False)


def _publish_rejected(partial: Path, rejected_dir: Path) -> None:
    """Replace the previous rejection reports by this build's (none left stale), then drop ``partial``."""
    for name in contract(load_settings()):
        (rejected_dir / f"{name}.csv").unlink(missing_ok=True)
    for f in partial.iterdir():
        os.replace(f, rejected_dir / f.name)
    partial.rmdir()


def _drop_work_tables(con, *patterns: str, keep: tuple[str, ...] = ()) -> None:
    """Drop the work database's tables named like ``patterns`` once nothing reads them, so their
    memory serves the next steps (views over the files are left: they hold nothing)."""
    like = " OR ".join("table_name LIKE ?" for _ in patterns)
    for name, temporary in con.execute(
            f"SELECT table_name, temporary FROM duckdb_tables() WHERE database_name IN ('memory', 'temp') AND ({like})",
            list(patterns)).fetchall():
        if name not in keep:
            con.execute(f'DROP TABLE {"temp." if temporary else ""}"{name}"')


def build(input_dir: Path, db_path: Path, columns: Path | None = None, lenient: bool = False,
          settings: Settings | None = None, quiet: bool = False, memory_limit: str = "6GB", *,
          allow: tuple[str, ...] = (), rejected_dir: Path | None = None, layout: str = "contract",
          registers: Path | None = None) -> BuildReport:
    """Build ``db_path`` from the extracts in ``input_dir``; see the module docstring.

    ``allow`` names plausibility checks to override (``etl/config/checks.toml``); ``rejected_dir``
    is where lenient mode writes the rejected rows (required with ``lenient``). ``layout``
    "registers" reads the registers as delivered (``etl/registers``; ``registers`` a copy of
    ``etl/config/registers/dst.toml`` for another delivery's names) and derives the contract tables
    first, into a temporary folder removed after the build.
    """
    settings = settings or load_settings()
    started = time.perf_counter()
    input_dir, db_path = Path(input_dir), Path(db_path)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"the input folder {input_dir} {'is a file' if input_dir.exists() else 'does not exist'}: "
                                "pass the folder holding the extracts with --input")
    _check_paths(db_path, lenient, rejected_dir)
    checks = plausibility.Checks(frozenset(allow))
    if layout not in ("contract", "registers"):
        raise ConfigError(f"--layout must be 'contract' or 'registers', not {layout!r}")
    progress = Progress(10 if layout == "registers" else 9, quiet=quiet)
    progress("checking boundaries and reference data")
    municipalities_csv = settings.reference_dir / "municipalities.csv"
    collections = geo.build_boundaries(settings.geo_dir, municipalities_csv)   # fails early and clearly
    mapping = load_column_mapping(columns)
    code_lists = codes.provenance()           # every code says where it comes from (a ConfigError if not)

    db_path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary database ".NAME.XXXX.building" and a lock beside it, held while this build runs
    fd, lock_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".building.lock", dir=db_path.parent)
    os.close(fd)
    locks = [_lock(Path(lock_name))]
    tmp_path = Path(lock_name.removesuffix(".lock"))       # DuckDB creates the file itself
    spill = Path(tempfile.mkdtemp(prefix="atlas-spill-"))
    locks.append(_lock(spill / ".lock"))
    for leftover in remove_leftovers(db_path):          # after taking our own locks: never ours
        if not quiet:
            print(f"removed {leftover}, left by a build that was stopped", file=sys.stderr)
    report = BuildReport(db_path, checks=checks, steps=progress.steps, code_lists=codes.summary(code_lists))
    con = duck.connect()
    partial = None
    try:
        if rejected_dir is not None:
            made_rejected_dir = not Path(rejected_dir).exists()
            Path(rejected_dir).mkdir(parents=True, exist_ok=True)
            partial = Path(tempfile.mkdtemp(prefix=".rejected-", dir=rejected_dir))
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{spill}'")
        con.execute("SET preserve_insertion_order = false")
        source_dir = input_dir
        if layout == "registers":
            from etl.registers import adapt

            source_dir = Path(tempfile.mkdtemp(prefix="registers-", dir=spill))   # person-level: removed with spill
            with duck.connect() as rcon:
                rcon.execute(f"SET memory_limit = '{memory_limit}'")
                rcon.execute(f"SET temp_directory = '{spill}'")
                rcon.execute("SET preserve_insertion_order = false")
                adapt(input_dir, source_dir, registers, settings, con=rcon)
            progress("derived the contract tables from the registers")
        report.staging = staging.stage_all(con, source_dir, mapping, settings, lenient, partial,
                                           progress=lambda m: None)
        plausibility.after_staging(con, contract(settings), report.staging, settings, checks)
        checks.stop_if_failed()
        _drop_work_tables(con, "raw_%", "chk_%")      # the typed copies (stg_) are what follows reads
        progress("staged, validated and checked the extracts")
        intermediate.load_code_lists(con)
        report.linkage = intermediate.link_pathways(con, settings)
        plausibility.after_linking(con, report.linkage, checks)
        checks.stop_if_failed()
        _drop_work_tables(con, "int_%", keep=("int_imaging",))     # the cubes read int_imaging only
        progress(f"linked {report.linkage['linked_adults']:,} imagings to what followed")
        con.execute(f"ATTACH '{tmp_path}' AS app")
        marts.write_population(con, settings)
        progress("population cube")
        marts.write_imaging(con)
        progress("imaging cube")
        marts.write_episodes(con)
        progress("episode cube")
        marts.write_chiro_billing(con, settings)
        marts.write_returns(con)
        marts.write_reference(con, settings, municipalities_csv)
        marts.write_build_report(con, checks.dropped)
        marts.write_meta(con, settings, {
            "data_kind": _data_kind(input_dir),
            "input": input_dir.name,
            "extracts": vintage.extract_files(input_dir),       # the release's vintage (etl/vintage.py)
            "code_list_files": vintage.code_lists(),          # each list's rows and SHA-256
            "linkage": report.linkage,
            "rejected_rows": report.staging.rejected,
            "ignored_rows": report.staging.ignored,
            "recoded_rows": report.staging.recoded,
            "coverage": coverage.compute(con, settings, code_lists=code_lists, partial_years=checks.partial_years),
            "code_lists": report.code_lists,
            "overrides": checks.overrides(),
            "build_report": [{"step": d.step, "source": d.table, "reason": d.reason, "rows": d.rows, "of": d.of,
                              "share": round(d.share, 6)} for d in checks.dropped],
        })
        marts.check_no_person_level(con)
        progress("returns, reference tables and checks")
        report.tables = {t: con.execute(f"SELECT count(*) FROM app.{t}").fetchone()[0]
                         for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                                 "WHERE table_catalog = 'app'").fetchall()}
        con.execute("DETACH app")
        con.close()
        with duck.connect(tmp_path) as app:
            geo.write_boundaries(collections, app)
            peers_table.write_peers(app)          # comparable municipalities, from the cube and the boundaries
            app.execute("CHECKPOINT")
        progress("boundaries")
        os.replace(tmp_path, db_path)
        if partial is not None:
            _publish_rejected(partial, Path(rejected_dir))
        progress(f"wrote {db_path} ({db_path.stat().st_size / 1e6:.1f} MB)")
    except BaseException as exc:
        try:
            con.close()
        except Exception:
            pass
        for leftover in (tmp_path, Path(str(tmp_path) + ".wal")):
            leftover.unlink(missing_ok=True)
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
            if made_rejected_dir:
                shutil.rmtree(rejected_dir, ignore_errors=True)   # a folder this build made, and nothing in it
        damaged = _damaged_input(exc, input_dir)
        if damaged is not None:
            raise damaged from None
        raise
    finally:
        shutil.rmtree(spill, ignore_errors=True)      # DuckDB's spill files of this build
        Path(lock_name).unlink(missing_ok=True)
        for fd in locks:
            os.close(fd)
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)    # a failed build's rejected rows
    report.seconds = time.perf_counter() - started
    return report
