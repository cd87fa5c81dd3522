"""Good-practice notes: short markdown notes per area (``etl/config/good_practice/*.md``, see the
README there), shown on the area's profile and marked on the atlas's map.

Each note opens with front matter (``key: value`` lines between two ``---`` lines: area,
language, title, source, date, example) and its text in markdown follows. A file without front
matter (the README) is not a note; a note without an area, a language or a source is refused with
the file's name, so a mistake in the folder is seen at once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from atlas.cache import cached
from etl.settings import CONFIG_DIR

NOTES_DIR = CONFIG_DIR / "good_practice"
REQUIRED = ("area", "language", "title", "source", "date")


@dataclass(frozen=True)
class Note:
    area: int
    language: str
    title: str
    source: str
    date: str
    body: str
    example: bool = False


def parse_note(text: str, name: str = "note") -> Note | None:
    """A note from a file's text; None when the text has no front matter."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ValueError(f"{name}: the front matter has no closing '---'") from None
    meta = {}
    for line in lines[1:end]:
        line = line.split(" #", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{name}: '{line}' is not 'key: value'")
        meta[key.strip()] = value.strip().strip('"').strip("'")
    missing = [k for k in REQUIRED if not meta.get(k)]
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")
    if meta["language"] not in ("en", "da"):
        raise ValueError(f"{name}: language must be en or da")
    try:
        area = int(meta["area"])
        dt.date.fromisoformat(meta["date"])
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return Note(area, meta["language"], meta["title"], meta["source"], meta["date"],
                "\n".join(lines[end + 1:]).strip(), meta.get("example", "false").lower() == "true")


@cached(maxsize=1)
def all_notes(folder: Path | None = None) -> tuple[Note, ...]:
    notes = []
    for path in sorted(Path(folder or NOTES_DIR).glob("*.md")):
        note = parse_note(path.read_text(encoding="utf-8"), path.name)
        if note is not None:
            notes.append(note)
    return tuple(notes)


def notes_for(code: int, lang: str) -> list[Note]:
    """The notes of an area in the reader's language (in the other language when it has none)."""
    mine = [n for n in all_notes() if n.area == int(code)]
    same = [n for n in mine if n.language == lang]
    return same or mine


def areas_with_notes() -> set[int]:
    return {n.area for n in all_notes()}


def mark_map(fig, view, tbl) -> None:
    """Add a marker (★) at each area of the map with a good-practice note (geographic map only):
    a municipality at its representative point, a region at the mean of its municipalities' points.
    Clicking the marker selects the area, as clicking the area does."""
    from atlas import db
    from atlas.i18n import t

    if view.map != "geo" or tbl is None or tbl.empty:
        return
    codes = areas_with_notes() & set(int(c) for c in tbl["code"])
    if not codes:
        return
    pts = db.query("SELECT code, lon, lat FROM area_centroid WHERE level = 'municipality'")
    if view.level != "municipality":
        column = "region_code" if view.level == "region" else "region2027_code"
        a = db.areas()
        mun = a[a.level == "municipality"].set_index("code")[column]
        pts = pts.assign(code=pts["code"].map(mun)).groupby("code", as_index=False)[["lon", "lat"]].mean()
    pts = pts[pts["code"].isin(codes)]
    names = tbl.set_index("code")["name"]
    fig.add_trace(dict(
        type="scattergeo", lon=pts["lon"], lat=pts["lat"], mode="markers", customdata=pts["code"], name=t("gp_marker", view.lang),
        marker=dict(symbol="star", size=13, color="#009E73", line=dict(color="white", width=1)),
        hovertext=[f"★ {t('gp_marker', view.lang)}: {names.get(c, c)}" for c in pts["code"]], hoverinfo="text",
        showlegend=False))
