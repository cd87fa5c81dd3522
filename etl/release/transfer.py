"""The release as plain CSV files, for the output check and the transfer tool, and back again.

    python -m etl release --db data/atlas.duckdb --format csv --out data/release-csv
    python -m etl release-import data/release-csv --out release.duckdb

The folder holds one CSV file per table of the release, ``columns.csv`` (every table's columns
and their types, in order), ``manifest.csv`` (every other file of the folder with its rows, bytes and
SHA-256) and the output-check report ``release-report.md``. Nothing else: no binary file.

The CSV form (the same for every file): UTF-8 without BOM, comma-separated, a header row, lines
ending in ``\\n``, rows sorted by every column; a text is always quoted (``""`` is an
empty text), a missing value (a hidden count, a figure that is not computed) is an empty unquoted
field; numbers as DuckDB writes them (the shortest decimal that reads back as the same double).

The boundaries are left out: ``geometry`` (the GeoJSON of the maps) and ``area_centroid`` (a point
inside each area) are made from public DAGI boundaries, are no statistical output, and the GeoJSON
would be one unreadable multi-megabyte cell for the output checker. ``manifest.csv`` records a
SHA-256 of each of them as the release had it; ``release-import`` makes them again from
``../shared`` (the same code as the build) and refuses if they differ from what was released.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from etl import duck
from etl.vintage import sha256_file

MANIFEST = "manifest.csv"
COLUMNS = "columns.csv"
REPORT = "release-report.md"
BOUNDARY_TABLES = ("geometry", "area_centroid")
MANIFEST_FIELDS = ("file", "table", "rows", "bytes", "sha256")


CSV_NOTE = """
## The CSV form of this release

One CSV file per table (UTF-8, comma-separated, a header row, rows sorted by every column). A text is
always in double quotes (`""` is an empty text, e.g. the filter set of everyone); an empty field without
quotes is a missing value: a hidden count or a figure not computed. `columns.csv` lists every table's
columns and types; `manifest.csv` lists every file with its rows, bytes and SHA-256. The map boundaries
(`geometry`, `area_centroid`) are not in the folder: they are public DAGI boundaries, not statistical
output, and are made again outside (`python -m etl release-import`), checked against the SHA-256 in
the manifest.
"""


class TransferError(ValueError):
    """A CSV release folder that is incomplete, changed, or not a release."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(con) -> list[str]:
    return [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                                      "AND table_catalog = current_database() ORDER BY table_name").fetchall()]


def _columns(con, table: str) -> list[tuple[str, str]]:
    return [(n, ty) for n, ty in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "AND table_catalog = current_database() ORDER BY ordinal_position", [table]).fetchall()]


def _copy_csv(con, table: str, path: Path) -> None:
    cols = _columns(con, table)
    text = [n for n, ty in cols if ty == "VARCHAR"]
    quote = f", FORCE_QUOTE ({', '.join(_q(n) for n in text)})" if text else ""
    con.execute(f"COPY (SELECT * FROM {_q(table)} ORDER BY ALL) TO '{path}' "
                f"(FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR ''{quote})")


def table_digest(con, table: str) -> str:
    """SHA-256 of a table's CSV form (as written by the export): equal content, equal digest."""
    with tempfile.TemporaryDirectory(prefix="atlas-digest-") as d:
        path = Path(d) / "t.csv"
        _copy_csv(con, table, path)
        return sha256_file(path)


def export_csv(release_db: Path, out_dir: Path, report_text: str | None = None) -> list[dict]:
    """Write ``release_db`` as a CSV folder at ``out_dir``; returns the manifest rows.

    The folder is written beside ``out_dir`` and moved into place when complete. An existing
    ``out_dir`` is replaced only if it is empty or a CSV release itself (it has a manifest)."""
    release_db, out_dir = Path(release_db), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists())):
        raise TransferError(f"{out_dir} exists and is not a CSV release folder: choose a new or empty folder for --out")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        con = duck.connect(release_db, read_only=True)
        try:
            con.execute("SET enable_progress_bar = false")
            kind = dict(con.execute("SELECT key, value FROM meta").fetchall()).get("database_kind")
            if kind != '"release"':
                raise TransferError(f"{release_db} is not a release database (meta database_kind is {kind}): "
                                    "only a release may be written for the output check")
            manifest, columns = [], []
            for table in _tables(con):
                cols = _columns(con, table)
                if table in BOUNDARY_TABLES:
                    rows = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0]
                    manifest.append({"file": "", "table": table, "rows": rows, "bytes": "",
                                     "sha256": table_digest(con, table)})
                else:
                    path = tmp / f"{table}.csv"
                    _copy_csv(con, table, path)
                    rows = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0]
                    manifest.append({"file": path.name, "table": table, "rows": rows, "bytes": path.stat().st_size,
                                     "sha256": sha256_file(path)})
                columns += [{"table": table, "position": i + 1, "column": n, "type": ty} for i, (n, ty) in enumerate(cols)]
        finally:
            con.close()
        with open(tmp / COLUMNS, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=("table", "position", "column", "type"), lineterminator="\n")
            w.writeheader()
            w.writerows(columns)
        extra = [COLUMNS]
        if report_text is not None:
            (tmp / REPORT).write_text(report_text, encoding="utf-8")
            extra.append(REPORT)
        for name in extra:
            manifest.append({"file": name, "table": "", "rows": "", "bytes": (tmp / name).stat().st_size,
                             "sha256": sha256_file(tmp / name)})
        with open(tmp / MANIFEST, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
            w.writeheader()
            w.writerows(manifest)
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + f".old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
        return manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(folder: Path) -> tuple[list[dict], dict[str, list[tuple[str, str]]]]:
    """The manifest and the columns of a CSV release folder, every listed file checked against its
    SHA-256 (a TransferError names the file that is missing or changed)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TransferError(f"{folder} is not a folder: give the folder the release was written to with --format csv")
    mpath = folder / MANIFEST
    if not mpath.exists():
        raise TransferError(f"{folder} has no {MANIFEST}: this is not a complete CSV release folder "
                            "(copy the whole folder, manifest included)")
    with open(mpath, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != MANIFEST_FIELDS:
            raise TransferError(f"{mpath}: the header must be {','.join(MANIFEST_FIELDS)}, not {reader.fieldnames}")
        manifest = list(reader)
    missing = [m["file"] for m in manifest if m["file"] and not (folder / m["file"]).is_file()]
    if missing:
        raise TransferError(f"{folder} is incomplete: {', '.join(missing)} listed in {MANIFEST} but not found; "
                            "copy the whole folder again")
    for m in manifest:
        if m["file"]:
            got = sha256_file(folder / m["file"])
            if got != m["sha256"]:
                raise TransferError(f"{folder / m['file']} has been changed since the release was written: its SHA-256 "
                                    f"is {got}, the manifest says {m['sha256']}; use the file as released")
    if not any(m["file"] == COLUMNS for m in manifest):
        raise TransferError(f"{mpath} does not list {COLUMNS}: not a CSV release folder")
    columns: dict[str, list[tuple[str, str]]] = {}
    with open(folder / COLUMNS, encoding="utf-8", newline="") as f:
        for r in sorted(csv.DictReader(f), key=lambda r: (r["table"], int(r["position"]))):
            columns.setdefault(r["table"], []).append((r["column"], r["type"]))
    for m in manifest:
        if m["table"] and m["table"] not in columns:
            raise TransferError(f"{folder / COLUMNS} has no columns for table {m['table']}")
    if "meta" not in {m["table"] for m in manifest}:
        raise TransferError(f"{mpath} lists no meta table: not a release")
    return manifest, columns


def import_csv(folder: Path, out: Path, boundaries=None) -> dict[str, int]:
    """Rebuild the release database at ``out`` from a CSV folder; returns rows per table.

    ``boundaries`` makes the left-out boundary tables: a function of an open connection that writes
    ``geometry`` and ``area_centroid`` (default: from ``../shared`` as the build does). The database is
    written beside ``out`` and moved into place only when every table matches the manifest."""
    folder, out = Path(folder), Path(out)
    manifest, columns = read_manifest(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    with duck.written_beside(out) as (tmp, con):
        con.execute("SET enable_progress_bar = false")
        rows: dict[str, int] = {}
        for m in manifest:
            table = m["table"]
            if not table or not m["file"]:
                continue
            cols = columns[table]
            con.execute(f"CREATE TABLE {_q(table)} ({', '.join(f'{_q(n)} {ty}' for n, ty in cols)})")
            spec = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': '{ty}'" for n, ty in cols) + "}"
            path = str(folder / m["file"]).replace("'", "''")
            try:
                con.execute(f"INSERT INTO {_q(table)} SELECT * FROM read_csv('{path}', header = true, columns = {spec}, "
                            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', "
                            "allow_quoted_nulls = false)")
            except duckdb.Error as exc:
                raise TransferError(f"{folder / m['file']} cannot be read as table {table}: "
                                    f"{str(exc).splitlines()[0]}") from exc
            rows[table] = con.execute(f"SELECT count(*) FROM {_q(table)}").fetchone()[0]
            if rows[table] != int(m["rows"]):
                raise TransferError(f"{folder / m['file']}: {rows[table]:,} rows, the manifest says {int(m['rows']):,}")
        left_out = [m for m in manifest if m["table"] in BOUNDARY_TABLES and not m["file"]]
        if left_out:
            (boundaries or _shared_boundaries)(con)
            for m in left_out:
                digest = table_digest(con, m["table"])
                if digest != m["sha256"]:
                    raise TransferError(f"the boundaries made here ({m['table']}) differ from those of the release "
                                        f"(SHA-256 {digest}, released {m['sha256']}): use the DAGI files and "
                                        "etl/config the release was made with (../shared/geo)")
                rows[m["table"]] = con.execute(f"SELECT count(*) FROM {_q(m['table'])}").fetchone()[0]
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, out)
        return rows


def _shared_boundaries(con) -> None:
    from etl import geo
    from etl.settings import load_settings

    settings = load_settings()
    geo.write_boundaries(geo.build_boundaries(settings.geo_dir, settings.reference_dir / "municipalities.csv"), con)


def release_csv(secure_db: Path, out_dir: Path, plan_path: Path | None = None, quiet: bool = False,
                release_id: str | None = None, report_path: Path | None = None, joint_gate: bool | None = None):
    """``python -m etl release --format csv``: the release written, reported, and exported to ``out_dir``;
    the report also beside the folder if ``report_path`` is given. Returns the release report."""
    from etl.release.build import build_release
    from etl.release.edition import load_edition
    from etl.release.report import render
    from etl.vintage import check_archive_path

    out_dir = Path(out_dir)
    check_archive_path(out_dir, load_edition(plan_path, release_id).release_id, folder_is_release=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".release-", dir=out_dir.parent) as d:
        db = Path(d) / "release.duckdb"
        report = build_release(secure_db, db, plan_path=plan_path, quiet=quiet, release_id=release_id,
                               joint_gate=joint_gate)
        report.path = out_dir
        text = render(report) + CSV_NOTE
        export_csv(db, out_dir, text)
    if report_path:
        Path(report_path).write_text(text, encoding="utf-8")
    return report
