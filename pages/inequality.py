"""/inequality: see atlas/policy_layout.py (layout and callbacks) and atlas/policy_view.py (state, tables,
charts and words), computed by atlas/policy.py from the data layer (issue 27)."""
from __future__ import annotations

import dash

from atlas import policy_layout
from atlas.page_meta import title_of

dash.register_page(__name__, path="/inequality", name="inequality", title=title_of("/inequality"))


def layout(lang: str | None = None, **_):
    return policy_layout.layout("inequality", lang)
