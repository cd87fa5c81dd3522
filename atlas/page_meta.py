"""What the browser is told about a page before anything is drawn: its language (``<html lang>``)
and its title, both in the reader's language (issue 29).

The language is the address's ``?lang=`` (English otherwise). Dash's pages set ``document.title``
from each page's registered ``title`` when the page is routed; the titles registered here are
functions that read the language of the request they answer: the page load itself (its query
string) or Dash's routing callback (the location's ``search`` among its inputs).
"""
from __future__ import annotations

from urllib.parse import parse_qs

ATLAS = ("Lumbar imaging atlas", "Atlas over billeddiagnostik af lænden")

# page path -> (English, Danish) name of the page, shown before the atlas's name
PAGE_NAMES = {
    "/pathways": ("Pathways and low-value imaging", "Forløb og billeddiagnostik af lav værdi"),
    "/returns": ("Return letters", "Returbreve"),
    "/methods": ("Methods", "Metode"),
    "/compare": ("Compare areas", "Sammenlign områder"),
    "/trends": ("All trends", "Alle tendenser"),
    "/area": ("Area profile", "Områdeprofil"),
    "/inequality": ("Inequality", "Ulighed"),
    "/recent-trends": ("Recent trends", "Seneste udvikling"),
    "/opportunity": ("Avoidable imaging", "Undgåelig billeddiagnostik"),
}


def lang_of_search(search) -> str:
    """"da" when a query string (``?lang=da&...``) asks for Danish, else "en"."""
    if not isinstance(search, str):
        return "en"
    values = parse_qs(search.lstrip("?")).get("lang") or ["en"]
    return "da" if values[-1] == "da" else "en"


def request_lang() -> str:
    """The language of the request being answered: Dash's routing callback (its location's search)
    or the page load (its query string); English outside a request."""
    try:
        import dash

        inputs = dash.callback_context.inputs
        for key, value in inputs.items():
            if key.endswith(".search"):
                return lang_of_search(value)
    except Exception:       # not inside a callback
        pass
    try:
        from flask import request

        return "da" if request.args.get("lang") == "da" else "en"
    except Exception:       # not inside a request
        return "en"


def page_title(path: str, lang: str) -> str:
    """The browser tab's title of the page at ``path`` ("/", "/methods", "/area", ...)."""
    i = 1 if lang == "da" else 0
    name = PAGE_NAMES.get(path)
    return f"{name[i]} · {ATLAS[i]}" if name else ATLAS[i]


def title_of(path: str):
    """A page's ``title`` for ``dash.register_page``: the title in the language of the request."""
    def title(**_path_variables) -> str:
        return page_title(path, request_lang())
    return title
