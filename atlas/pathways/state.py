"""The pathways page's state: the URL hash (the atlas view and the follow-up window) and the area's name."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode

from atlas import coverage, db
from atlas.filters import View
from atlas.i18n import t
from atlas.measures import MEASURES
from atlas.state import consistent, view_from_hash


def parse_hash(hash_, lang: str = "en") -> tuple[View, int, list[str]]:
    """The page's state from the URL hash: the atlas :class:`View` (level, area, years, filters,
    separator) and the follow-up window (``win``: 90 or 365 days); unknown or bad keys are ignored."""
    if not isinstance(hash_, str):
        hash_ = ""
    hash_ = hash_[:4000]
    window, ignored = 365, []
    try:
        params = parse_qs(hash_.lstrip("#"), keep_blank_values=False, max_num_fields=50)
    except ValueError:
        params = {}
    rest = []
    for key, values in params.items():
        if key == "win":
            raw = values[-1]
            if raw in ("90", "365"):
                window = int(raw)
            else:
                ignored.append("win")
        elif key in ("measure", "rates", "standard", "map", "within", "colours", "breaks"):
            ignored.append(key)                # atlas-only settings have no meaning here
        else:
            rest.append((key, values[-1]))
    codes = db.level_codes()
    every = codes["municipality"] | codes["region"] | codes["region2027"]
    view, bad = view_from_hash(urlencode(rest), lang, db.years(), MEASURES, every, codes["region"] | codes["region2027"],
                               coverage.default_year())
    view = consistent(view, codes, db.regions_of())
    return view, window, ignored + bad


def hash_of(view: View, window: int) -> str:
    base = replace(view, lang="en", measure=View.measure, rates=View.rates, standard=View.standard, map=View.map,
                   within=None)
    q = base.to_query(coverage.default_year())
    if window != 365:
        q = (q + "&" if q else "") + f"win={window}"
    return f"#{q}" if q else ""


def area_name(view: View, lang: str | None = None) -> str:
    lang = lang or view.lang
    if view.area is None:
        return t("denmark_total", lang)
    a = db.areas()
    hit = a[(a.level == view.level) & (a.code == view.area)]
    return str(hit.name.iloc[0]) if len(hit) else str(view.area)
