"""Which release the app serves: its edition and vintage as one line (etl/vintage.py writes them).

Shown in the footer, in every CSV header and on the area profile (so in its printout), so that a
figure that leaves the atlas can be traced to the release it came from.
"""
from __future__ import annotations

from atlas import db
from atlas.i18n import t


def identity(lang: str) -> str:
    """"Release 2026.1 · data 2013–2024, last complete year 2023 · source 1a2b3c4d", or the words for a
    database that is no numbered release."""
    try:
        m = db.meta()
    except Exception:           # a missing or unreadable database: the page says so elsewhere
        return t("release_none", lang)
    rid = m.get("release_id")
    if not rid:
        return t("release_none", lang)
    v = m.get("vintage") or {}
    first, last = (v.get("years") or [m.get("first_year", ""), m.get("last_year", "")])[:2]
    complete = v.get("last_complete_year")
    return t("release_identity", lang).format(id=rid, first=first, last=last,
                                              complete="–" if complete is None else complete,
                                              source=str((v.get("source_database") or {}).get("sha256", ""))[:8])
