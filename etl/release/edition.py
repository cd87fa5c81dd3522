"""The ``[release]`` part of the publication plan: the edition and the pseudonymised centres.

    [release]
    id = "2026.1"                  # the edition, YYYY.N (etl.vintage)
    pseudonymise_centres = false   # return letters: centres as C01, C02, ... instead of id and name
    centre_key = "centre-key.csv"  # the key, beside the secure database (inside only)

The key (``producer_id,code``) is read before and written after a release, so a centre keeps its
code from one edition to the next and a new centre gets the next free number. It never leaves: it
is written beside the secure database, not beside the release, and the release holds only codes.
"""
from __future__ import annotations

import csv
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl.settings import CONFIG_DIR
from etl.vintage import check_release_id

ALL = "all"
CODE = re.compile(r"^C(\d{2,})$")


@dataclass(frozen=True)
class Edition:
    release_id: str
    pseudonymise_centres: bool
    centre_key: str

    def key_path(self, secure_db: Path) -> Path:
        p = Path(self.centre_key)
        return p if p.is_absolute() else Path(secure_db).resolve().parent / p


def _release_section(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("release", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"release plan {path}: {exc}") from exc


def load_edition(plan_path: Path | None = None, release_id: str | None = None,
                 default_path: Path = CONFIG_DIR / "release.toml") -> Edition:
    """The ``[release]`` part of ``plan_path``; a setting it does not give comes from the repository's
    plan (``default_path``), so a plan copied before editions existed still works."""
    path = Path(plan_path or default_path)
    raw = {**(_release_section(Path(default_path)) if path != Path(default_path) else {}), **_release_section(path)}
    rid = release_id or raw.get("id")
    if not rid:
        raise ValueError(f"release plan {path}: no edition: set [release] id = \"YYYY.N\" or pass --release-id")
    flag = raw.get("pseudonymise_centres", False)
    if not isinstance(flag, bool):
        raise ValueError(f"release plan {path}: [release] pseudonymise_centres must be true or false, not {flag!r}")
    return Edition(check_release_id(rid), flag, str(raw.get("centre_key", "centre-key.csv")))


def read_key(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    key = {}
    for i, r in enumerate(rows, start=2):
        pid, code = (r.get("producer_id") or "").strip(), (r.get("code") or "").strip()
        if not pid or not CODE.match(code):
            raise ValueError(f"centre key {path}, row {i}: expected producer_id and a code like C01, "
                             f"found {r}; repair the file (it keeps the centres' codes stable between releases)")
        key[pid] = code
    if len(set(key.values())) != len(key):
        raise ValueError(f"centre key {path}: a code is given to two centres; repair the file")
    return key


def extend_key(key: dict[str, str], producers) -> dict[str, str]:
    """``key`` with the next free code for every producer it does not hold yet (in sorted order)."""
    key = dict(key)
    used = [int(CODE.match(c).group(1)) for c in key.values()]
    nxt = max(used, default=0) + 1
    for pid in sorted(set(producers) - set(key) - {ALL}):
        key[pid] = f"C{nxt:02d}"
        nxt += 1
    return key


def write_key(path: Path, key: dict[str, str]) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["producer_id", "code"])
        w.writerows(sorted(key.items(), key=lambda kv: int(CODE.match(kv[1]).group(1))))
    os.replace(tmp, path)


def pseudonymise(returns: pd.DataFrame, key: dict[str, str]) -> pd.DataFrame:
    """The return-letter table with each centre's producer id and name replaced by its code."""
    out = returns.copy()
    if out.empty:
        return out
    codes = out["producer_id"].map(lambda p: p if p == ALL else key[p])
    out["producer_id"] = codes
    out["centre"] = codes.where(codes != ALL, out["centre"])
    return out
