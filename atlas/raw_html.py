"""Large tables as one Dash component: HTML text built here (every value escaped), shown by one
``dcc.Markdown``.

Dash's renderer does work for every component on the page at each step of every callback: a table
of a few hundred ``html.Td`` cells made each control change on the pathways page spend half a second
in the browser before the new chart appeared. The same table as one string is one component.

Only this module writes the HTML, and it escapes every text and attribute value (:func:`html.escape`),
so nothing from the database or the address reaches the page as markup.
"""
from __future__ import annotations

from html import escape

from dash import dcc

_ALLOWED_ATTRS = {"id", "class", "scope", "rowspan", "colspan", "title", "aria-label", "role", "tabindex"}


def el(tag: str, *children, **attrs) -> str:
    """``<tag attrs>children</tag>``: text children are escaped, :class:`Markup` children are not.

    Attribute names are written with ``_`` as ``-`` and ``cls`` as ``class``; None values are left out."""
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        name = "class" if name == "cls" else name.replace("_", "-")
        if name not in _ALLOWED_ATTRS:
            raise ValueError(f"attribute {name} is not written by this module")
        parts.append(f' {name}="{escape(str(value), quote=True)}"')
    inner = "".join(c if isinstance(c, Markup) else escape(str(c), quote=False) for c in children if c is not None)
    return Markup(f"<{tag}{''.join(parts)}>{inner}</{tag}>")


class Markup(str):
    """HTML written by :func:`el` (already escaped)."""


def block(markup: Markup, class_name: str | None = None) -> dcc.Markdown:
    """One component showing ``markup`` (one line: a Markdown HTML block ends at a blank line)."""
    if not isinstance(markup, Markup):
        raise TypeError("only HTML written by atlas.raw_html.el is shown raw")
    return dcc.Markdown(str(markup).replace("\n", " "), dangerously_allow_html=True, className=class_name)
