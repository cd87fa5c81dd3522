"""The atlas page's key findings in words (drawn with the map, :func:`findings_block`) and the link
from the selected area to its profile (drawn with the page's other notes); components only, the
callbacks are in ``pages/atlas.py``."""
from __future__ import annotations

from dataclasses import replace

from dash import dcc, html

from atlas import queries, static
from atlas.cache import cached
from atlas.filters import View
from atlas.findings import atlas_findings
from atlas.i18n import t
from atlas.measures import MEASURES


@cached(maxsize=128)
def findings_for(view: View) -> list[str]:
    """The key-findings sentences of a view's table of areas."""
    tbl, national = queries.area_table(view)
    m = MEASURES[view.measure]
    return atlas_findings(tbl, national, m.name(view.lang), m.kind, view.level, queries.variation(tbl), view.lang)


def findings_block(view: View):
    """The key findings of a view in words (drawn with the map: the same table of areas), then the
    examinations a year that imaging at Denmark's rate would avoid (:mod:`atlas.avoidable_findings`)."""
    from atlas import avoidable_findings

    avoidable = avoidable_findings.sentences(replace(view, within=None))
    view = replace(view, area=None, map="geo", colours="own", breaks="", tables=0, sep=",")
    return [html.H2(t("key_findings", view.lang), className="h6 mb-1"),
            html.Ul([html.Li(s) for s in findings_for(view)]
                    + [html.Li(s, className="key-finding-avoidable") for s in avoidable],
                    className="small mb-0", id="key-findings-list")]


def profile_link(view: View):
    """A link to the selected area's profile (or to the profiles' search when none is selected)."""
    suffix = "?lang=da" if view.lang == "da" else ""
    if view.area is None:
        return dcc.Link(t("nav_areas", view.lang), href=static.href(f"/compare{suffix}"), className="small")
    from atlas import profile

    if profile.level_of(view.area) is None:
        return None
    name = profile.area_name(view.area, view.level)
    return dcc.Link(t("profile_open", view.lang).format(name=name), href=static.href(f"/area/{view.area}{suffix}"),
                    className="btn btn-sm btn-outline-primary", id="profile-link-a")
