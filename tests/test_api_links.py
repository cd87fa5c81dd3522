"""Issue 30 (D3): one shape for the callbacks that keep each chart's API address in its download menu
(the atlas page, /pathways, /returns): :func:`atlas.layout_parts.api_link_outputs` declares their
outputs and :func:`atlas.layout_parts.api_link_values` gives their values. That the addresses are
the ones the charts' CSV downloads carry is tested over HTTP in tests/test_api_menu.py and
tests/test_api_pages.py.
"""
from __future__ import annotations

from dash import no_update

from atlas.layout_parts import api_link_id, api_link_outputs, api_link_values


def test_the_outputs_are_each_charts_link_href_then_text_in_order():
    outputs = api_link_outputs(("a", "b"), "pw-")
    assert [(o.component_id, o.component_property) for o in outputs] == [
        ("pw-api-link-a", "href"), ("pw-api-link-a", "children"), ("pw-api-link-b", "href"), ("pw-api-link-b", "children")]
    assert [o.component_id for o in api_link_outputs(("map",))] == [api_link_id("map")] * 2


def test_the_values_follow_the_outputs_and_wait_for_the_view():
    asked = []

    def address(chart, view):
        asked.append((chart, view))
        return f"/api/v1/{chart}?view={view}"

    assert api_link_values(("a", "b", "c"), None, address) == (no_update,) * 6
    assert not asked                                                   # nothing is built before the view arrives
    got = api_link_values(("a", "b"), "v1", address)
    assert got == ["/api/v1/a?view=v1"] * 2 + ["/api/v1/b?view=v1"] * 2
    assert asked == [("a", "v1"), ("b", "v1")]                         # one address per chart


def test_each_pages_api_link_callback_has_the_shared_outputs(app_db):
    """The atlas page's, /pathways' and /returns' callbacks are declared with :func:`api_link_outputs`:
    each chart's href and text, in the order of the page's chart list, and nothing else claims them."""
    import app
    from atlas import export
    from atlas import pathways as P
    from atlas import returns as R

    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    for charts, prefix in ((export.API_CHARTS, ""), (P.CHARTS, "pw-"), (R.CHARTS, "ret-")):
        wanted = [f"{o.component_id}.{o.component_property}" for o in api_link_outputs(charts, prefix)]
        holders = [d["output"] for d in deps if f"..{wanted[0]}..." in d["output"]]
        assert len(holders) == 1, (prefix, holders)
        parts = holders[0].strip(".").split("...")
        assert parts[-len(wanted):] == wanted, (prefix, parts)
