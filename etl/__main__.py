"""Command line of the atlas's data side.

    python -m etl generate --scale 0.1 --seed 42 --out data/extracts
    python -m etl build --input data/extracts --db data/atlas.duckdb [--columns FILE] [--lenient]
    python -m etl release --db data/atlas.duckdb --out data/release.duckdb [--plan FILE] [--release-id 2026.1]
    python -m etl release --db data/atlas.duckdb --format csv --out DIR      (for the output check)
    python -m etl release-import DIR --out release.duckdb                     (outside: the release again)
    python -m etl bench [--scale 1.0]            (the same as python -m bench; see bench/README.md)
    python -m etl codes check --sks SKScomplete.txt   (the code lists against the SKS classification)

Every failure of build and release is one message on stderr and an exit code (README, "Exit codes of
the build" and "Exit codes of the release"), never a traceback for bad input or a machine fault.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.settings import DEFAULT_DB, REPO_ROOT


def _generate(args) -> int:
    from etl.synthetic import generate

    summary = generate(Path(args.out), scale=args.scale, seed=args.seed, layout=args.layout,
                       progress=None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True)))
    (Path(args.out) / "SYNTHETIC").write_text(
        f"Synthetic extracts made by 'python -m etl generate --scale {args.scale} --seed {args.seed} "
        f"--layout {args.layout}'. Not real data.\n",
        encoding="utf-8")
    if not args.quiet:
        print(f"generated {args.out}: " + ", ".join(f"{k}={v}" for k, v in summary.items()), file=sys.stderr)
    return 0


# exit codes of `python -m etl build` (README, "Exit codes of the build")
EXIT_CONTRACT, EXIT_MISSING, EXIT_IMPLAUSIBLE, EXIT_CONFIG, EXIT_ENVIRONMENT = 2, 3, 5, 6, 7
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class Terminated(BaseException):
    """SIGTERM, raised where the build is so that it cleans up as after Ctrl-C."""


_SIGNALS_SEEN: list[int] = []


def _on_signal(signum, frame):
    import signal

    _SIGNALS_SEEN.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C or SIGTERM, also when DuckDB reports it as its own interruption of a query."""
    import duckdb

    return isinstance(exc, (KeyboardInterrupt, Terminated, duckdb.InterruptException)) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower())


def _environment_message(exc: BaseException, db: Path, what: str = "build") -> str:
    import errno

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    code = getattr(exc, "errno", None)
    option = "--db" if what == "build" else "--out"
    if _is_disk_full(exc):
        return (f"the disk is full (writing {db} or DuckDB's temporary files): free some space, or set "
                f"TMPDIR to a folder on a disk with room, and {what} again")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "permission denied" in text.lower() \
            or "read-only file system" in text.lower():
        return f"cannot write in {db.parent} ({text}): choose a folder you may write to with {option}"
    if "out of memory" in text.lower():
        return f"DuckDB ran out of memory ({text}): close other programs or {what} on a larger machine"
    return f"the {what} could not read or write a file ({text})"


def _build(args) -> int:
    import signal

    import duckdb

    from etl.build import build
    from etl.checks import ImplausibleData
    from etl.geo import BoundariesMissing
    from etl.settings import ConfigError
    from etl.staging import ContractError

    allow = tuple(name for name in _check_names() if getattr(args, "allow_" + name))
    db = Path(args.db)
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    _SIGNALS_SEEN.clear()
    try:
        report = build(Path(args.input), db, columns=Path(args.columns) if args.columns else None,
                       lenient=args.lenient, quiet=args.quiet, allow=allow,
                       rejected_dir=Path(args.rejected) if args.rejected else None,
                       layout=args.layout, registers=Path(args.registers) if args.registers else None)
    except ContractError as exc:
        return _stop(exc, EXIT_CONTRACT)
    except ImplausibleData as exc:
        return _stop(exc, EXIT_IMPLAUSIBLE)
    except ConfigError as exc:
        return _stop(exc, EXIT_CONFIG)
    except (BoundariesMissing, FileNotFoundError) as exc:
        return _stop(exc, EXIT_MISSING)
    except (OSError, duckdb.IOException, duckdb.OutOfMemoryException, duckdb.PermissionException) as exc:
        return _stop(_environment_message(exc, db), EXIT_ENVIRONMENT)
    except BaseException as exc:
        if _is_disk_full(exc) and not _interrupted(exc):
            return _stop(_environment_message(exc, db), EXIT_ENVIRONMENT)   # whatever type it came as
        if not _interrupted(exc):
            raise
        if isinstance(exc, Terminated) or signal.SIGTERM in _SIGNALS_SEEN:
            return _stop("terminated (SIGTERM); nothing was written", EXIT_SIGTERM)
        return _stop("interrupted (Ctrl-C); nothing was written", EXIT_SIGINT)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    st = report.staging
    if st and any(st.rejected.values()):
        print("Lenient build: rows dropped — " + ", ".join(f"{t}: {n:,}" for t, n in st.rejected.items() if n)
              + f" (see {args.rejected})", file=sys.stderr)
    for what, n in (st.recoded.items() if st else ()):
        if what.startswith("population.municipality 0411"):
            print(f"Christiansø (0411) is not a municipality: {n:,} person-years of its residents are counted with "
                  "Bornholm (0400) ([contract.municipality_recode] in etl/config/settings.toml)", file=sys.stderr)
        else:
            print(f"Recoded {what}: {n:,} rows", file=sys.stderr)
    for o in report.checks.overrides():
        print(f"Override ({o['flag']}): {o['what']}", file=sys.stderr)
    from etl.codes import summary_line

    if not args.quiet:
        print(summary_line(report.code_lists), file=sys.stderr)
        print(_report_text(report.checks.dropped), file=sys.stderr)
        print(f"built {report.db_path} in {report.seconds:.1f} s: "
              + ", ".join(f"{t}={n:,}" for t, n in sorted(report.tables.items())), file=sys.stderr)
    return 0


def _stop(exc, code: int) -> int:
    print(f"Build stopped (exit code {code}): {exc}", file=sys.stderr)
    if code not in (EXIT_CONTRACT, EXIT_IMPLAUSIBLE, EXIT_CONFIG) or "previous database" not in str(exc):
        print("The previous database has not been changed.", file=sys.stderr)
    return code


def _report_text(dropped) -> str:
    from etl.checks import REASONS

    lines = ["Build report: rows left out, by step and reason"]
    lines += [f"  {d.step:<8} {d.table:<11} {d.rows:>12,} of {d.of:>12,} ({d.share:6.2%})  {REASONS[d.reason]}"
              for d in dropped]
    return "\n".join(lines)


def _check_names() -> list[str]:
    from etl.settings import load_checks_config

    return list(load_checks_config())


# exit codes of `python -m etl release` (README, "Exit codes of the release")
EXIT_NOT_SECURE_DB, EXIT_AUDIT = 2, 4


def _is_disk_full(exc: BaseException | None) -> bool:
    """A full disk, however it surfaced: an OSError, or DuckDB's own error text (an IOException, or a
    FatalException/InvalidInputException once a write failed), in the exception or what caused it."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        if getattr(exc, "errno", None) == errno.ENOSPC or "no space left on device" in str(exc).lower() \
                or "disk is full" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _release(args) -> int:
    import signal

    import duckdb

    from etl.release import inputs
    from etl.release.build import ReleaseFailed, build_release
    from etl.release.plan import load_plan
    from etl.release.report import write_report

    db, out = Path(args.db), Path(args.out)
    as_csv = getattr(args, "format", "duckdb") == "csv"
    plan = Path(args.plan) if args.plan else None
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    _SIGNALS_SEEN.clear()
    try:
        if not args.quiet:
            print(f"[release] checking the secure database {db} and the output {out}", flush=True)
        inputs.check_secure_db(db)
        if not as_csv:                                      # the CSV form writes a folder of its own
            inputs.check_output(out, db)
            for leftover in inputs.remove_stale_temporaries(out):
                print(f"removed {leftover}, left by a release that was stopped", file=sys.stderr)
        try:
            load_plan(plan)
        except ValueError as exc:                           # missing or malformed publication plan
            raise inputs.BadOutput(str(exc)) from None
        if as_csv:
            from etl.release.transfer import release_csv

            report = release_csv(db, out, plan_path=plan, quiet=args.quiet, release_id=args.release_id,
                                 report_path=Path(args.report) if args.report else None,
                                 joint_gate=None if args.joint_gate is None else args.joint_gate == "on")
            if not args.quiet:
                print(f"released {report.identity.get('release_id')} as CSV in {report.path} in {report.seconds:.1f} s; "
                      f"audit passed; report: {report.path / 'release-report.md'}", file=sys.stderr)
            return 0
        report = build_release(db, out, plan_path=plan, quiet=args.quiet, release_id=args.release_id,
                               workers=args.workers,
                               joint_gate=None if args.joint_gate is None else args.joint_gate == "on")
        try:
            path = write_report(report, Path(args.report) if args.report else None)
        except OSError as exc:
            print(f"Release written to {out}, but its output-check report could not be written "
                  f"({_environment_message(exc, out, 'release')}); do not hand the release over without "
                  "its report: run the release again", file=sys.stderr)
            return EXIT_ENVIRONMENT
    except ReleaseFailed as exc:
        return _stop_release(exc, EXIT_AUDIT)
    except inputs.SecureDbMissing as exc:
        return _stop_release(exc, EXIT_MISSING)
    except inputs.NotASecureDb as exc:
        return _stop_release(exc, EXIT_NOT_SECURE_DB)
    except inputs.BadOutput as exc:                         # also a missing or malformed publication plan
        return _stop_release(exc, EXIT_CONFIG)
    except ValueError as exc:                               # a kept edition, a malformed release id
        return _stop_release(exc, EXIT_CONFIG)
    except FileNotFoundError as exc:
        return _stop_release(exc, EXIT_MISSING)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        message = inputs.schema_message(exc)
        if message is None:
            raise
        return _stop_release(message, EXIT_NOT_SECURE_DB)
    except BaseException as exc:
        if _interrupted(exc):
            if isinstance(exc, Terminated) or signal.SIGTERM in _SIGNALS_SEEN:
                return _stop_release("terminated (SIGTERM)", EXIT_SIGTERM)
            return _stop_release("interrupted (Ctrl-C)", EXIT_SIGINT)
        if _is_disk_full(exc) or isinstance(exc, (OSError, duckdb.IOException, duckdb.OutOfMemoryException,
                                                  duckdb.PermissionException)):
            return _stop_release(_environment_message(exc, out, "release"), EXIT_ENVIRONMENT)
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if not args.quiet:
        print(f"released {report.path} in {report.seconds:.1f} s; audit passed; report: {path}", file=sys.stderr)
    return 0


def _codes_check(args) -> int:
    """Exit codes: 0 every configured code known and valid through the study years, 1 some are not,
    3 the SKS file is missing, 4 it is not in the SKS fixed-width layout, 6 a code list is malformed."""
    from etl import codes, sks
    from etl.settings import ConfigError, load_settings

    try:
        entries = codes.configured_codes()
        settings = load_settings()
    except ConfigError as exc:
        print(f"Codes check stopped (exit code {sks.EXIT_CONFIG}): {exc}", file=sys.stderr)
        return sks.EXIT_CONFIG
    first = args.first_year or settings.first_year
    last = args.last_year or settings.last_year
    try:
        report = sks.check(Path(args.sks), entries, first, last)
    except FileNotFoundError:
        print(f"Codes check stopped (exit code {sks.EXIT_MISSING}): {args.sks} does not exist; give the path "
              "of SKScomplete.txt from the Danish Health Data Authority's SKS download", file=sys.stderr)
        return sks.EXIT_MISSING
    except sks.MalformedSKS as exc:
        print(f"Codes check stopped (exit code {sks.EXIT_MALFORMED}): {exc}", file=sys.stderr)
        return sks.EXIT_MALFORMED
    print(sks.render(report))
    return sks.EXIT_FINDINGS if report.problems else sks.EXIT_OK


def _sas2parquet(args) -> int:
    from etl.registers.adapter import RegisterError, sas_to_parquet

    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    try:
        for f in args.files:
            out = sas_to_parquet(Path(f), Path(args.out), columns)
            if not args.quiet:
                print(f"wrote {out}", file=sys.stderr)
    except (RegisterError, ImportError, OSError) as exc:
        print(f"sas2parquet stopped: {exc}", file=sys.stderr)
        return 3
    return 0


def _release_import(args) -> int:
    from etl.release.transfer import TransferError, import_csv

    try:
        rows = import_csv(Path(args.folder), Path(args.out))
    except TransferError as exc:
        print(f"Import stopped, nothing written: {exc}", file=sys.stderr)
        return 3
    if not args.quiet:
        print(f"imported {args.folder} into {args.out}: " + ", ".join(f"{t}={n:,}" for t, n in sorted(rows.items())),
              file=sys.stderr)
    return 0


def _stop_release(exc, code: int) -> int:
    print(f"Release stopped (exit code {code}): {exc}", file=sys.stderr)
    print("Nothing was written: the previous release (if any) is unchanged.", file=sys.stderr)
    return code


def _bench(args) -> int:
    from bench.run import main as bench_main

    return bench_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl", description="Lumbar imaging atlas: data side")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write synthetic register-style extracts")
    g.add_argument("--scale", type=float, default=0.1, help="1.0 is all of Denmark (about 5.9 million people)")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", default=str(REPO_ROOT / "data" / "extracts"))
    g.add_argument("--layout", choices=("contract", "registers"), default="contract",
                   help="contract: the seven tables of docs/data-contract.md; registers: the same world as the "
                        "registers deliver it (BEF, UDDA, IND, AKM, LPR2, LPR3, SSSY)")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=_generate)
    b = sub.add_parser("build", help="validate the extracts and build the app database")
    b.add_argument("--input", default=str(REPO_ROOT / "data" / "extracts"))
    b.add_argument("--db", default=str(DEFAULT_DB))
    b.add_argument("--columns", help="column mapping file (a copy of etl/config/columns.toml)")
    b.add_argument("--layout", choices=("contract", "registers"), default="contract",
                   help="contract: the tables of docs/data-contract.md; registers: the registers as delivered "
                        "(docs/data-contract.md, 'The register layout')")
    b.add_argument("--registers", metavar="FILE",
                   help="with --layout registers: register mapping (a copy of etl/config/registers/dst.toml)")
    b.add_argument("--lenient", action="store_true",
                   help="drop bad rows and write them to --rejected DIR instead of stopping")
    b.add_argument("--rejected", metavar="DIR",
                   help="with --lenient: the folder for the rejected rows (person-level; never beside the database)")
    from etl.settings import load_checks_config

    for name, spec in load_checks_config().items():
        b.add_argument("--allow-" + name.replace("_", "-"), action="store_true", dest="allow_" + name,
                       help=f"override the check of {spec['what']} (etl/config/checks.toml)")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_build)
    sp = sub.add_parser("sas2parquet", help="convert SAS files (.sas7bdat, .xpt) to Parquet in chunks (needs pyreadstat)")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--out", required=True, help="folder for the Parquet files")
    sp.add_argument("--columns", help="only these columns, comma-separated (e.g. PNR,SOCIO13)")
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=_sas2parquet)
    rel = sub.add_parser("release", help="write the protected, audited release database and its output-check report")
    rel.add_argument("--db", default=str(DEFAULT_DB), help="the secure database (read only)")
    rel.add_argument("--out", default=str(REPO_ROOT / "data" / "release.duckdb"))
    rel.add_argument("--plan", help="publication plan (a copy of etl/config/release.toml)")
    rel.add_argument("--report", help="where to write the output-check report (default: release-report.md beside --out)")
    rel.add_argument("--format", choices=("duckdb", "csv"), default="duckdb",
                     help="duckdb: one database file; csv: a folder of CSV files with a manifest and the report "
                          "(for the output check and the transfer tool; --out is then the folder)")
    rel.add_argument("--release-id", help="the edition, YYYY.N (default: [release] id of the plan)")
    rel.add_argument("--workers", type=int, default=None,
                     help="processes protecting the counts side by side (default 1; the result is the same)")
    rel.add_argument("--joint-gate", choices=("on", "off"), default=None,
                     help="on: the joint audit of all counts is a gate (more is hidden until every hidden count from "
                          "1 to 4 is proven, else nothing is written); off: it is measured and reported only "
                          "(default: joint_protection in the plan)")
    rel.add_argument("--quiet", action="store_true",
                     help="no progress; what changed beside --out (a stopped release's leftover removed) and "
                          "errors are still said on stderr")
    rel.set_defaults(func=_release)
    c = sub.add_parser("codes", help="the code lists: check them against the SKS classification file")
    csub = c.add_subparsers(dest="codes_command", required=True)
    cc = csub.add_parser("check", help="check every configured code against SKScomplete.txt and list candidate "
                                       "lumbar imaging codes (exit 0 all valid, 1 findings, 3 missing file, "
                                       "4 malformed file, 6 malformed code list)")
    cc.add_argument("--sks", required=True, metavar="FILE",
                    help="the complete SKS file (SKScomplete.txt, fixed width) from the SKS download")
    cc.add_argument("--first-year", type=int, help="first year the codes must be valid in (default: settings.toml)")
    cc.add_argument("--last-year", type=int, help="last year the codes must be valid in (default: settings.toml)")
    cc.set_defaults(func=_codes_check)
    imp = sub.add_parser("release-import", help="rebuild the release database from a CSV release folder (outside)")
    imp.add_argument("folder", help="the folder written by 'python -m etl release --format csv'")
    imp.add_argument("--out", default=str(REPO_ROOT / "data" / "release.duckdb"))
    imp.add_argument("--quiet", action="store_true")
    imp.set_defaults(func=_release_import)
    from bench.options import add_options

    r = add_options(sub.add_parser("bench", help="benchmark build, pandas baseline, release, callbacks and a "
                                                 "many-reader journey (the same as python -m bench)"))
    r.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
