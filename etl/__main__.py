"""Command line of the atlas's data side.

    python -m etl generate --scale 0.1 --seed 42 --out data/extracts
    python -m etl build --input data/extracts --db data/atlas.duckdb [--columns FILE] [--lenient]
    python -m etl release --db data/atlas.duckdb --out data/release.duckdb [--plan FILE]
    python -m etl bench [--scale 1.0]            (the same as python -m bench; see bench/README.md)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.settings import DEFAULT_DB, REPO_ROOT


def _generate(args) -> int:
    from etl.synthetic import generate

    summary = generate(Path(args.out), scale=args.scale, seed=args.seed,
                       progress=None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True)))
    (Path(args.out) / "SYNTHETIC").write_text(
        f"Synthetic extracts made by 'python -m etl generate --scale {args.scale} --seed {args.seed}'. Not real data.\n",
        encoding="utf-8")
    if not args.quiet:
        print(f"generated {args.out}: " + ", ".join(f"{k}={v}" for k, v in summary.items()), file=sys.stderr)
    return 0


def _build(args) -> int:
    from etl.build import build
    from etl.geo import BoundariesMissing
    from etl.staging import ContractError

    try:
        report = build(Path(args.input), Path(args.db), columns=Path(args.columns) if args.columns else None,
                       lenient=args.lenient, quiet=args.quiet)
    except ContractError as exc:
        print(f"Build stopped: {exc}", file=sys.stderr)
        return 2
    except (BoundariesMissing, FileNotFoundError) as exc:
        print(f"Build stopped: {exc}", file=sys.stderr)
        return 3
    st = report.staging
    if st and any(st.rejected.values()):
        print("Lenient build: rows dropped — " + ", ".join(f"{t}: {n:,}" for t, n in st.rejected.items() if n)
              + f" (see {Path(args.db).parent / 'rejected'})", file=sys.stderr)
    if not args.quiet:
        print(f"built {report.db_path} in {report.seconds:.1f} s: "
              + ", ".join(f"{t}={n:,}" for t, n in sorted(report.tables.items())), file=sys.stderr)
    return 0


def _release(args) -> int:
    from etl.release.build import ReleaseFailed, build_release
    from etl.release.report import write_report

    try:
        report = build_release(Path(args.db), Path(args.out), plan_path=Path(args.plan) if args.plan else None,
                               quiet=args.quiet)
    except ReleaseFailed as exc:
        print(f"Release stopped, the previous release is untouched: {exc}", file=sys.stderr)
        return 4
    except (FileNotFoundError, ValueError) as exc:
        print(f"Release stopped: {exc}", file=sys.stderr)
        return 3
    path = write_report(report, Path(args.report) if args.report else None)
    if not args.quiet:
        print(f"released {report.path} in {report.seconds:.1f} s; audit passed; report: {path}", file=sys.stderr)
    return 0


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
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=_generate)
    b = sub.add_parser("build", help="validate the extracts and build the app database")
    b.add_argument("--input", default=str(REPO_ROOT / "data" / "extracts"))
    b.add_argument("--db", default=str(DEFAULT_DB))
    b.add_argument("--columns", help="column mapping file (a copy of etl/config/columns.toml)")
    b.add_argument("--lenient", action="store_true", help="drop bad rows and write a rejection report instead of stopping")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_build)
    rel = sub.add_parser("release", help="write the protected, audited release database and its output-check report")
    rel.add_argument("--db", default=str(DEFAULT_DB), help="the secure database (read only)")
    rel.add_argument("--out", default=str(REPO_ROOT / "data" / "release.duckdb"))
    rel.add_argument("--plan", help="publication plan (a copy of etl/config/release.toml)")
    rel.add_argument("--report", help="where to write the output-check report (default: release-report.md beside --out)")
    rel.add_argument("--quiet", action="store_true")
    rel.set_defaults(func=_release)
    from bench.options import add_options

    r = add_options(sub.add_parser("bench", help="benchmark build, pandas baseline, release, callbacks and a "
                                                 "many-reader journey (the same as python -m bench)"))
    r.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
