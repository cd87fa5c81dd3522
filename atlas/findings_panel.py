"""The atlas page's key findings in words and the link from the selected area to its profile
(callbacks kept out of ``pages/atlas.py``; that page imports this module once)."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from atlas import queries
from atlas.cache import cached
from atlas.filters import View
from atlas.findings import atlas_findings
from atlas.i18n import t
from atlas.measures import MEASURES


def _view(data, search_qs) -> View:
    from pages.atlas import current_view     # already imported by Dash Pages when a callback runs

    return current_view(data, search_qs)


@cached(maxsize=128)
def findings_for(view: View) -> list[str]:
    """The key-findings sentences of a view's table of areas."""
    tbl, national = queries.area_table(view)
    m = MEASURES[view.measure]
    return atlas_findings(tbl, national, m.name(view.lang), m.kind, view.level, queries.variation(tbl), view.lang)


@callback(Output("key-findings", "children"), Input("view", "data"), State("atlas-url", "search"))
def draw_findings(data, search_qs):
    if data is None:
        return no_update
    from dataclasses import replace

    view = replace(_view(data, search_qs), area=None, map="geo", colours="own", breaks="", tables=0, sep=",")
    return [html.H2(t("key_findings", view.lang), className="h6 mb-1"),
            html.Ul([html.Li(s) for s in findings_for(view)], className="small mb-0", id="key-findings-list")]


@callback(Output("profile-link", "children"), Input("view", "data"), State("atlas-url", "search"))
def draw_profile_link(data, search_qs):
    """A link to the selected area's profile (or to the profiles' search when none is selected)."""
    if data is None:
        return no_update
    view = _view(data, search_qs)
    suffix = "?lang=da" if view.lang == "da" else ""
    if view.area is None:
        return dcc.Link(t("nav_areas", view.lang), href=dash.get_relative_path(f"/compare{suffix}"), className="small")
    from atlas import profile

    if profile.level_of(view.area) is None:
        return None
    name = profile.area_name(view.area, view.level)
    return dcc.Link(t("profile_open", view.lang).format(name=name), href=dash.get_relative_path(f"/area/{view.area}{suffix}"),
                    className="btn btn-sm btn-outline-primary", id="profile-link-a")
