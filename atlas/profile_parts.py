"""Parts shared by the profile and compare pages: the area search that opens a profile (its callback
is in pages/area.py), and the period and area code read from an address (each checked against what
the atlas offers)."""
from __future__ import annotations

from dash import dcc, html

from atlas import db, profile
from atlas.i18n import label, t
from atlas.layout_parts import dropdown


def parse_period(raw, offered: list[tuple[int, int]]) -> tuple[int, int] | None:
    """``"2022-2024"`` or ``"2023"`` when the profile offers that period, else None."""
    if not isinstance(raw, str) or len(raw) > 9:
        return None
    try:
        a, _, b = raw.partition("-")
        period = (int(a), int(b or a))
    except ValueError:
        return None
    return period if period in offered else None


def period_text(period: tuple[int, int]) -> str:
    return str(period[0]) if period[0] == period[1] else f"{period[0]}–{period[1]}"


def area_code(raw) -> int | None:
    """The code in the address when it is an area of the atlas, else None."""
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 6:
        return None
    code = int(raw)
    return code if profile.level_of(code) is not None else None


def area_options(lang: str) -> list[dict]:
    a = db.areas()
    out = []
    for level in ("municipality", "region"):
        part = a[a.level == level].sort_values("name")
        out += [{"label": f"{n} ({label('level', level, lang).split(' (')[0].lower()})" if level != "municipality" else n,
                 "value": int(c)} for c, n in zip(part.code, part.name)]
    return out


def search_box(lang: str, value=None) -> html.Div:
    return html.Div([
        html.Label(t("profile_find", lang), htmlFor="profile-search", className="form-label small mb-1"),
        dropdown(lang, id="profile-search", options=area_options(lang), value=value, placeholder=t("profile_find", lang),
                     clearable=True),
        dcc.Location(id="profile-nav", refresh="callback-nav"),
    ], className="area-search d-print-none", style={"minWidth": "18rem"})


