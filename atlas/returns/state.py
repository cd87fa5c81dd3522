"""The returns page's state: :class:`ReturnsView` and its URL hash, and the intervention date."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

import pandas as pd

from atlas.returns.constants import DEFAULT_INTERVENTION, EXAMS, MEASURES


@dataclass(frozen=True)
class ReturnsView:
    measure: str = "returned"            # "returned" | "letters"
    exam: str | None = None              # None: all exam types
    centre: str | None = None            # producer id; None: all centres
    date: str = DEFAULT_INTERVENTION     # intervention date, ISO
    sep: str = ","
    lang: str = "en"

    def to_hash(self) -> str:
        base = ReturnsView()
        out = {k: v for k, v in asdict(self).items()
               if k != "lang" and v is not None and v != getattr(base, k)}
        return "#" + urlencode(out) if out else ""


def parse_hash(hash_, centres: set[str], months: list[pd.Timestamp], lang: str = "en") -> tuple[ReturnsView, list[str]]:
    """Read a URL hash into a :class:`ReturnsView` against whitelists; return it and the ignored keys."""
    view = ReturnsView(lang=lang)
    if not isinstance(hash_, str) or not hash_.strip("#"):
        return view, []
    try:
        params = parse_qs(hash_.lstrip("#")[:2000], keep_blank_values=False, max_num_fields=20)
    except ValueError:
        return view, ["(the whole address)"]
    values = {k: v[-1][:40] for k, v in params.items() if v}
    changes, ignored = {}, []
    for key, allowed in (("measure", MEASURES), ("exam", EXAMS + ("all",)), ("sep", (",", ";")),
                         ("centre", tuple(sorted(centres)) + ("all",))):
        if key in values:
            raw = values.pop(key)
            if raw in allowed:
                changes[key] = None if raw == "all" else raw
            else:
                ignored.append(key)
    if "date" in values:
        raw = values.pop("date")
        d = valid_date(raw, months)
        if d is None:
            ignored.append("date")
        else:
            changes["date"] = d
    ignored.extend(sorted(values))
    return replace(view, **changes), ignored


def valid_date(raw, months: list[pd.Timestamp]) -> str | None:
    """An ISO date that leaves at least two months before and two after it, else None."""
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        d = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    if not months:
        return None
    k = intervention_index(months, d.isoformat())
    if k is None or k < 2 or len(months) - k < 2:
        return None
    return d.isoformat()


def intervention_index(months: list[pd.Timestamp], when: str) -> int | None:
    """Position of the first month that starts on or after the intervention date."""
    ts = pd.Timestamp(when)
    for i, m in enumerate(months):
        if m >= ts:
            return i
    return None


def sync_returns(address, controls: dict, trigger, current, lang: str) -> dict:
    """The returns page's state after an event: the view's hash and what every control shows.

    The address (on load or when it changes) is read against the whitelists; a change of a control
    makes a candidate that goes through the same whitelists (a date that leaves too few months on
    either side keeps the previous date, with a notice). ``notice`` is None, a notice, or
    ``no_update`` (leave it)."""
    import dash_bootstrap_components as dbc
    from dash import no_update

    from atlas import notices
    from atlas.i18n import t
    from atlas.returns.queries import centres, months

    def parse(hash_):
        return parse_hash(hash_, set(centres().producer_id), months(), lang)

    notice = no_update
    if current is None or trigger in (None, "ret-url"):
        view, ignored = parse(address)
        notice = notices.bad_address(ignored, lang)
    else:
        prev, _ = parse(current)
        when = controls.get("date")
        candidate = replace(prev, measure=controls.get("measure"), exam=controls.get("exam"),
                            centre=controls.get("centre"), date=(when or "")[:10] if isinstance(when, str) else prev.date,
                            sep=controls.get("sep"))
        view, ignored = parse(candidate.to_hash())
        if "date" in ignored:
            view = replace(view, date=prev.date)
            notice = dbc.Alert(t("ret_no_fit", lang), color="warning", dismissable=True, className="py-2")
    h = view.to_hash()
    return {"view": h, "hash": h, "measure": view.measure, "exam": view.exam or "all", "centre": view.centre or "all",
            "date": view.date, "sep": view.sep, "notice": notice}
