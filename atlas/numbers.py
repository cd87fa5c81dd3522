"""Numbers as a reader of each language writes them (babel's CLDR data).

English: ``22,913`` and ``53.1``; Danish: ``22.913`` and ``53,1``. Plotly gets the same
conventions through ``layout.separators`` (:func:`plotly_separators`), so axis ticks and hover
templates agree with the texts built here. A missing value is an en dash.

:func:`decimal` writes the number with Python's decimal formatting (round half to even on the
shortest decimal form of the float, as babel does) and swaps the marks for Danish: a hover text
holds a dozen numbers and a map a hundred hovers, and babel's pattern machinery cost a third of a
map answer. ``tests/test_numbers.py`` checks it against babel's ``format_decimal`` (the reference)
for both locales.
"""
from __future__ import annotations

import math
from decimal import Decimal

LOCALES = {"en": "en_GB", "da": "da_DK"}
# Plotly's layout.separators: the decimal mark, then the thousands separator
SEPARATORS = {"en": ".,", "da": ",."}
MISSING = "–"
_DANISH = str.maketrans({",": ".", ".": ","})      # da_DK: thousands ".", decimals ","


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def decimal(x, digits: int = 1, lang: str = "en", grouping: bool = True) -> str:
    """``x`` with exactly ``digits`` decimals, grouped in thousands (``53,1`` / ``22.913,5`` in Danish)."""
    if _missing(x):
        return MISSING
    text = format(Decimal(repr(float(x))), f"{',' if grouping else ''}.{max(int(digits), 0)}f")
    return text.translate(_DANISH) if lang == "da" else text


def integer(x, lang: str = "en") -> str:
    """A whole number, grouped in thousands (``22.913`` in Danish)."""
    if _missing(x):
        return MISSING
    return decimal(round(float(x)), 0, lang)


def percent(x, digits: int = 1, lang: str = "en") -> str:
    """A percentage given in per cent (``12,5 %`` in Danish, ``12.5%`` in English)."""
    if _missing(x):
        return MISSING
    return decimal(x, digits, lang) + (" %" if lang == "da" else "%")


def plotly_separators(lang: str) -> str:
    return SEPARATORS.get(lang, SEPARATORS["en"])


def csv_cell(x, sep: str, digits: int = 2) -> str:
    """A CSV cell: whole numbers without decimals, other numbers with ``digits`` decimals and a
    decimal comma when the separator is a semicolon (Danish Excel); no thousands separators."""
    if x is None or isinstance(x, bool):
        return "" if x is None else str(x)
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        s = f"{x:.{digits}f}"
        return s.replace(".", ",") if sep == ";" else s
    if hasattr(x, "item"):                 # numpy scalars
        return csv_cell(x.item(), sep, digits)
    return str(x)
