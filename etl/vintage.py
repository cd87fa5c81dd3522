"""Release identity and data vintage: which edition a release is, and what it was made from.

A release is identified by its **edition** ``YYYY.N`` (the year of publication and the number of
the edition within that year: ``2026.1``, ``2026.2``, ``2027.1``), set in ``[release] id`` of the
publication plan (``etl/config/release.toml``) or by ``python -m etl release --release-id``. The
*vintage* written beside it into the release's ``meta`` says what the figures were made from:

- the years covered, the last year complete for every measure, the incomplete years;
- the period each source's data cover (first and last date, from the build's coverage);
- the extract files the secure database was built from (name, size, date last modified), when the
  build recorded them;
- the code lists (file, rows, SHA-256 of the file) as the build read them, else as the release
  command finds them in ``etl/config/codes``;
- the publication plan (file name and SHA-256 of its text);
- the secure database (file name, size and SHA-256 of the file): the identity of the source;
- when the secure database was built and when the release was written;
- the code's commit, when the repository is a git checkout;
- whether the return-letter centres are pseudonymised.

Two releases with the same edition but another source hash are not the same release: the footer,
every CSV header and the profile carry the edition and the first 8 characters of the source hash.
"""
from __future__ import annotations

import csv
import hashlib
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from etl.settings import CONFIG_DIR, REPO_ROOT

RELEASE_ID = re.compile(r"^(\d{4})\.([1-9]\d{0,2})$")
CODES_DIR = CONFIG_DIR / "codes"
EXTRACT_SUFFIXES = (".parquet", ".csv", ".sas7bdat", ".txt")


def check_release_id(value: str) -> str:
    """``value`` if it is an edition ``YYYY.N`` (N from 1), else a ValueError saying what to write."""
    value = str(value).strip()
    if not RELEASE_ID.match(value):
        raise ValueError(f"release id {value!r} is not an edition YYYY.N (the year of publication and the "
                         "number of the edition in that year, e.g. 2026.1): set [release] id in the "
                         "publication plan or pass --release-id")
    return value


def check_archive_path(out: Path, release_id: str, folder_is_release: bool = False) -> None:
    """Releases kept side by side live in a folder named by their edition (``data/releases/2026.1/``):
    such a folder holds only that edition, and an edition kept there is never written again."""
    out = Path(out)
    holder = out if folder_is_release else out.parent
    if not RELEASE_ID.match(holder.name):
        return
    if holder.name != release_id:
        raise ValueError(f"{out} is in the folder of edition {holder.name}, but this release is edition "
                         f"{release_id}: write it to the folder of its own edition")
    if out.exists():
        raise ValueError(f"{out} exists: edition {release_id} has been kept already, and a kept edition is never "
                         "written again; raise the edition ([release] id or --release-id)")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def code_lists(folder: Path = CODES_DIR) -> dict[str, dict]:
    """Each code list (CSV) of ``folder``: rows and the SHA-256 of the file (its version by content)."""
    out = {}
    for path in sorted(Path(folder).glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            rows = sum(1 for _ in csv.reader(f)) - 1
        out[path.name] = {"rows": max(rows, 0), "sha256": sha256_file(path)}
    return out


def extract_files(folder: Path) -> list[dict]:
    """The extract files of ``folder`` (name, bytes, last modified in UTC): when the extracts were made."""
    out = []
    for path in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        if path.is_file() and path.suffix.lower() in EXTRACT_SUFFIXES:
            st = path.stat()
            out.append({"file": path.name, "bytes": st.st_size,
                        "modified": datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat(timespec="seconds")})
    return out


def last_complete_year(first: int, last: int, incomplete: dict) -> int | None:
    """The last year from ``first`` to ``last`` that no measure marks incomplete."""
    bad = {int(y) for years in (incomplete or {}).values() for y in years}
    complete = [y for y in range(int(first), int(last) + 1) if y not in bad]
    return max(complete) if complete else None


def code_commit() -> str | None:
    """The commit of the code (``git rev-parse HEAD``; local only), or None outside a git checkout."""
    try:
        r = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                           timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    if r.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40}", out):
        return None
    dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return out + ("+changes" if dirty else "")


def vintage(secure_meta: dict, secure_db: Path, plan_path: Path, release_id: str, released_at: str,
            centres_pseudonymised: bool) -> dict:
    """The vintage of a release (JSON-ready), from the secure database's parsed ``meta``."""
    first, last = int(secure_meta.get("first_year", 0)), int(secure_meta.get("last_year", 0))
    coverage = secure_meta.get("coverage") or {}
    incomplete = coverage.get("incomplete") or {}
    secure_db = Path(secure_db)
    return {
        "release_id": release_id,
        "released_at": released_at,
        "years": [first, last],
        "last_complete_year": last_complete_year(first, last, incomplete),
        "incomplete_years": sorted({int(y) for ys in incomplete.values() for y in ys}),
        "data_period": coverage.get("data") or {},
        "extracts": secure_meta.get("extracts") or [],
        "code_lists": secure_meta.get("code_list_files") or code_lists(),
        "code_lists_from": "build" if secure_meta.get("code_list_files") else "release",
        "plan": {"file": Path(plan_path).name, "sha256": sha256_file(plan_path)},
        "source_database": {"file": secure_db.name, "bytes": secure_db.stat().st_size,
                            "sha256": sha256_file(secure_db), "built_at": secure_meta.get("built_at")},
        "data_kind": secure_meta.get("data_kind"),
        "code_commit": code_commit(),
        "centres_pseudonymised": bool(centres_pseudonymised),
    }


def short_identity(meta: dict) -> str:
    """``2026.1 (source 1a2b3c4d, built 2026-12-07)``, or ``""`` when ``meta`` has no release id."""
    rid = meta.get("release_id")
    if not rid:
        return ""
    v = meta.get("vintage") or {}
    source = (v.get("source_database") or {}).get("sha256", "")[:8]
    built = str(v.get("released_at") or meta.get("released_at") or "")[:10]
    return f"{rid} (" + ", ".join(filter(None, (f"source {source}" if source else "", built))) + ")"
