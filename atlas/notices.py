"""What a chart shows when there is nothing to draw: a readable message instead of an empty frame.

``empty_reason`` decides whether a protected table has anything to show ("empty_selection": nobody
in the selection; "all_hidden": every number hidden); ``message_figure`` is a chart with no data and
the message in its middle, so the card still says what happened and what to try.
"""
from __future__ import annotations

import textwrap

import pandas as pd

from atlas import figures
from atlas.data.domain import FEW
from atlas.i18n import t
from atlas.plot import Figure

FONT = {**figures.FONT, "size": 14, "color": "#444"}


def message_figure(text: str, height: int = 320) -> Figure:
    """An empty chart that says ``text`` (wrapped), with no axes and no toolbar clutter."""
    # short lines: the message must fit the narrowest card it is shown in (the ranking beside the
    # map, any chart on a phone), and Plotly does not wrap an annotation itself
    wrapped = "<br>".join(textwrap.wrap(text, 34))
    fig = Figure()
    fig.add_annotation(dict(text=wrapped, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(FONT),
                            align="center"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), paper_bgcolor="white",
                      plot_bgcolor="white", xaxis=dict(visible=False), yaxis=dict(visible=False),
                      meta={"message": text})
    return fig


def _shown(tbl: pd.DataFrame) -> pd.Series:
    hidden = tbl["hidden"].fillna(True).astype(bool) if "hidden" in tbl else pd.Series(False, index=tbl.index)
    value = tbl["value"] if "value" in tbl else pd.Series(1.0, index=tbl.index)
    return ~hidden & value.notna()


def empty_reason(tbl: pd.DataFrame | None, national: pd.Series | None = None) -> str | None:
    """"empty_selection" when nobody is in the selection, "all_few_events" when every area has too
    few events for a standardised figure, "all_hidden" when every number is hidden, else None.
    ``national`` (Denmark's row) decides emptiness when given."""
    if national is not None:
        den = national.get("den_shown")
        if den is None or pd.isna(den) or float(den) <= 0:
            return "empty_selection"
    if tbl is None or len(tbl) == 0:
        return "empty_selection"
    if "den_shown" in tbl and not (tbl["den_shown"].fillna(0) > 0).any() and not _shown(tbl).any():
        return "empty_selection"
    if not _shown(tbl).any():
        # every area has too few events for a standardised figure (none is hidden): say that, not "hidden"
        if "status" in tbl and (tbl["status"] == FEW).all():
            return "all_few_events"
        return "all_hidden"
    return None


def message(reason: str, lang: str) -> str:
    return t(reason, lang)


def bad_address(ignored: list[str], lang: str):
    """The warning that parts of the address were ignored, or None when none were."""
    import dash_bootstrap_components as dbc

    if not ignored:
        return None
    return dbc.Alert([t("bad_url", lang), " ", ", ".join(ignored)], color="warning", dismissable=True, className="py-2")


def not_published(changed: list[str], lang: str, lead: str = "not_published", what: str = "published_what"):
    """The note that the source publishes no such view, what was changed and what it publishes."""
    import dash_bootstrap_components as dbc

    from atlas import data

    return dbc.Alert([t(lead, lang), " ", ", ".join(t(f"changed_{c}", lang) for c in changed),
                      ". ", t(what, lang).format(periods=", ".join(
                          p for p in data.source().periods() if "-" in p))],
                     color="info", dismissable=True, className="py-2", id="release-notice")
