"""Reading the extracts: the files of each input table, their encoding and header line, and one DuckDB
relation per file (Parquet, CSV or, with pyreadstat, SAS); read errors in words."""
from __future__ import annotations

import fnmatch
from pathlib import Path

import duckdb

READERS = {".parquet": "parquet", ".csv": "csv", ".txt": "csv", ".sas7bdat": "sas", ".xpt": "sas",
           ".csv.gz": "csv", ".txt.gz": "csv"}
SAS_CHUNK_ROWS = 500_000      # rows of a SAS file read at a time
# compressed files the build does not read: named, never skipped in silence
COMPRESSED = (".zip", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tgz")


def suffix(path: Path) -> str:
    """The extension the reader goes by: ``.csv.gz`` for a gzipped CSV, else the last one."""
    name = path.name.lower()
    return next((s for s in (".csv.gz", ".txt.gz") if name.endswith(s)), path.suffix.lower())


def _stem(path: Path) -> str:
    """The name without its extension (both of ``.csv.gz`` or ``.parquet.zip``), lower case."""
    name = path.name.lower()
    if name.endswith(COMPRESSED):
        name = name[: -len(Path(name).suffix)]
    for s in sorted(READERS, key=len, reverse=True):
        if name.endswith(s):
            return name[: -len(s)]
    return Path(name).stem


def find_files(input_dir: Path, pattern: str) -> list[Path]:
    """Files of a table: names matching the pattern with a readable extension, sorted."""
    return sorted(
        p for p in Path(input_dir).iterdir()
        if p.is_file() and fnmatch.fnmatch(_stem(p), pattern.lower()) and suffix(p) in READERS
    )


def compressed_files(input_dir: Path, pattern: str) -> list[Path]:
    """Files of a table in a compressed form the build does not read (``.zip``, ``.parquet.gz``, ...)."""
    return sorted(
        p for p in Path(input_dir).iterdir()
        if p.is_file() and suffix(p) not in READERS and p.suffix.lower() in COMPRESSED
        and fnmatch.fnmatch(_stem(p), pattern.lower())
    )


class UnreadableFile(Exception):
    """A file that cannot be read as a table; the message says why, in words (and ``hint`` what to do)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def _open_bytes(path: Path):
    """The file's bytes, uncompressed when it is a ``.gz``."""
    import gzip

    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _other_encoding(head: bytes) -> str | None:
    """Why the first bytes of a CSV are not UTF-8 or Latin-1 text, or None when they may be."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "is encoded as UTF-32 (it starts with a UTF-32 byte-order mark)"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is encoded as UTF-16 (it starts with a UTF-16 byte-order mark)"
    if head.startswith(b"PK\x03\x04"):
        return "is a ZIP file (an Excel workbook or a zipped export), not CSV text"
    if head.startswith(b"PAR1"):
        return "is a Parquet file with a CSV name"
    if head and head.count(b"\x00") > len(head) // 4:
        return "holds NUL bytes between its letters: it looks like UTF-16 without a byte-order mark"
    return None


def _detect_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, otherwise Latin-1 (common in SAS/Windows exports).
    A file in another encoding (UTF-16 or UTF-32, found by its byte-order mark or its NUL bytes) or of
    another kind is refused with the encoding named (:class:`UnreadableFile`)."""
    import codecs

    with _open_bytes(path) as fh:
        head = fh.read(4096)
    other = _other_encoding(head)
    if other:
        raise UnreadableFile(f"{other}; the build reads CSV files as UTF-8 or Latin-1",
                             hint="export it again as CSV in UTF-8 (in Excel: 'CSV UTF-8'), or as Parquet")
    dec = codecs.getincrementaldecoder("utf-8")()
    with _open_bytes(path) as fh:
        try:
            while chunk := fh.read(1 << 20):
                dec.decode(chunk)
            dec.decode(b"", final=True)      # a file ending inside a character is not UTF-8 either
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def _csv_header(path: Path, encoding: str) -> tuple[str, list[str]]:
    """The delimiter (``;`` or ``,``) and the column names of a CSV file's first line."""
    import csv
    import io

    with io.TextIOWrapper(_open_bytes(path), encoding=encoding, errors="replace", newline="") as fh:
        head = fh.readline(1 << 20)
    head = head.lstrip("\ufeff").rstrip("\r\n")
    if not head.strip():
        raise UnreadableFile("has no header line with the column names (the file or its first line is empty)")
    delim = ";" if head.count(";") > head.count(",") else ","
    names: list[str] = []
    for i, name in enumerate(next(csv.reader([head], delimiter=delim, quotechar='"'))):
        name = name.strip() or f"column{i + 1}"
        while name.lower() in (n.lower() for n in names):   # a repeated name gets a suffix
            name += "_"
        names.append(name)
    return delim, names


def sql_str(text) -> str:
    return str(text).replace("'", "''")


def read_error(exc: Exception) -> str:
    """DuckDB's error about a file, in a line an analyst can act on (no DuckDB option names)."""
    import re

    text = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"line {line.group(1)}" if line else ""
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    original = re.search(r"Original Line: (.*)", text)
    shown = f" ('{original.group(1)[:60]}{'...' if len(original.group(1)) > 60 else ''}')" if original else ""
    size = re.search(r"Maximum line size of (\d+) bytes exceeded(?:\. Actual Size:\s*(\d+))?", text)
    if size:
        actual = f" ({int(size.group(2)) / 1e6:.1f} MB)" if size.group(2) else ""
        return (f"{where or 'a line'} is longer{actual} than the longest line the build reads "
                f"({int(size.group(1)) / 1e6:.0f} MB): no value of the contract is that long; the line may hold "
                "a whole file's rows (line ends lost) or a value pasted in by mistake")
    if cols:
        return f"{where or 'a line'} has {cols.group(2)} fields where the header has {cols.group(1)}{shown}"
    if "unicode" in text.lower() or "utf8" in text.lower() or "utf-8" in text.lower():
        return f"{where + ' ' if where else ''}holds bytes that are not text in the file's encoding{shown}"
    if "quote" in text.lower() and where:
        return f"{where} has a quote that is not closed{shown}"
    if where:
        return f"{where} cannot be parsed{shown}"
    parquet = parquet_error(text)
    if parquet:
        return parquet
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    return re.sub(r"(/[^\s:'\"]+)+", lambda m: Path(m.group(0)).name, first)[:300]    # no full paths


def parquet_error(text: str) -> str | None:
    """A plain sentence for DuckDB's error about a Parquet file (no DuckDB text, no paths), or None."""
    low = text.lower()
    if "magic bytes" in low or "too small to be a parquet file" in low:
        return "it is not a whole Parquet file (it ends early, as a copy that stopped does, or is of another kind)"
    if any(w in low for w in ("decompress", "corrupt", "snappy", "zstd", "thrift", "tprotocol", "invalid data")):
        return "it is a damaged Parquet file (a part of its data cannot be unpacked)"
    if "parquet" in low:
        return "it is not a Parquet file DuckDB can read (damaged, or of another kind)"
    return None


def file_relation(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str] | None = None) -> str:
    """SQL that reads one file as it is, with its file name in a ``_file`` column. A SAS file is read
    in chunks into a temporary table, only ``columns`` (all when None), never whole into memory."""
    kind = READERS[suffix(path)]
    p = sql_str(path)
    if kind == "parquet":
        return f"(SELECT *, '{sql_str(path.name)}' AS _file FROM read_parquet('{p}'))"
    if kind == "csv":
        enc = _detect_encoding(path)
        delim, names = _csv_header(path, enc)
        # The dialect is given, not sniffed: a broken line then fails with its line number instead
        # of the whole file failing detection. DuckDB decodes Latin-1 itself.
        columns = "{" + ", ".join(f"'{sql_str(n)}': 'VARCHAR'" for n in names) + "}"
        return (f"(SELECT *, '{sql_str(path.name)}' AS _file FROM read_csv('{p}', auto_detect=false, header=false, "
                f"skip=1, columns={columns}, delim='{delim}', quote='\"', escape='\"', encoding='{enc}'))")
    name = f"sas_{abs(hash(str(path)))}"
    sas_table(con, path, columns, name)
    return f"(SELECT *, '{sql_str(path.name)}' AS _file FROM {name})"


def sas_table(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str] | None, name: str) -> None:
    """Read a SAS file (``.sas7bdat`` or transport ``.xpt``) chunk by chunk into the temporary table
    ``name``: only ``columns`` (matched without regard to case; the ones the file lacks are left for
    the caller to report), all when None. Needs the optional package pyreadstat."""
    try:
        import pyreadstat
    except ImportError as exc:  # pragma: no cover - depends on an optional package
        from etl.contract import ContractError, Problem

        raise ContractError([Problem(path.name, "", "", 0, "is a SAS file, and the optional package pyreadstat is not installed",
                                     hint="pip install '.[sas]' (pyreadstat), or convert the file to Parquet first "
                                          "(python -m etl sas2parquet)")], False) from exc
    reader = pyreadstat.read_sas7bdat if path.suffix.lower() == ".sas7bdat" else pyreadstat.read_xport
    try:
        _, meta = reader(str(path), metadataonly=True)
        by_lower = {c.lower(): c for c in meta.column_names}
        cols = [by_lower[c.lower()] for c in columns if c.lower() in by_lower] if columns else None
        made = False
        for frame, _ in pyreadstat.read_file_in_chunks(reader, str(path), chunksize=SAS_CHUNK_ROWS, usecols=cols):
            con.register("_sas_chunk", frame)
            con.execute(f"INSERT INTO {name} SELECT * FROM _sas_chunk" if made
                        else f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _sas_chunk")
            con.unregister("_sas_chunk")
            made = True
    except Exception as exc:  # pragma: no cover - depends on an optional package
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnreadableFile(f"cannot be read as SAS ({why})") from exc
    if not made:
        raise UnreadableFile("is a SAS file without rows")
