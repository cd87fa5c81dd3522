"""Titles that make a chart stand alone: what, when, where, for whom, how, and from where.

An exported PNG or a screenshot of one chart must say its measure, period, geography, filters and
rate type, its source and, when so, that the data are synthetic. :func:`stamp` writes that into a
Plotly figure's title (three short lines, wrapped for narrow screens); :func:`context_parts` gives
the same words to the CSV headers and file names.
"""
from __future__ import annotations

import re
import textwrap

from atlas import db, numbers
from atlas.filters import View
from atlas.i18n import label, t
from atlas.measures import Measure

WRAP = 40            # characters per headline line (14 px): fits a 390 px phone and the narrow cards


def period(view: View) -> str:
    return str(view.y0) if view.y0 == view.y1 else f"{view.y0}–{view.y1}"


def geography(view: View, lang: str) -> str:
    """"Municipalities" / "Regions" (without the count), and the region of a drill-down."""
    text = re.sub(r"\s*\(\d+\)$", "", label("level", view.level, lang))
    if view.within is not None:
        text += f" {t('in_region', lang)} {area_name(view.within)}"
    return text


def filters_text(view: View, lang: str) -> str:
    parts = [label(k, v, lang) if k != "age" else f"{label('dimension', 'age', lang)} {v}" for k, v in view.dims]
    return ", ".join(parts) if parts else t("all_adults", lang)


def rate_type(view: View, measure: Measure, lang: str) -> str:
    if measure.kind != "rate":
        return t("share_pct_of", lang)
    if view.rates == "isr":
        return f"{t('std_isr', lang)} ({t(view.standard + '_short', lang)})"
    return {"crude": t("std_crude", lang), "eb": t("std_eb", lang)}[view.rates]


def area_name(code) -> str:
    if code is None:
        return ""
    a = db.areas()
    hit = a[a.code == int(code)]
    return str(hit.name.iloc[0]) if len(hit) else str(code)


def synthetic() -> bool:
    try:
        return db.meta().get("data_kind", "synthetic") == "synthetic"
    except Exception:
        return True


def source_line(lang: str, prefix: bool = True) -> str:
    """"Source: … · data built … · SYNTHETIC DATA" (without "Source:" for a CSV's source row)."""
    try:
        built = str(db.meta().get("built_at", ""))[:10]
    except Exception:
        built = ""
    parts = [f"{t('source', lang)}: {t('title', lang)}" if prefix else t("title", lang)]
    if built:
        parts.append(f"{t('data_date', lang)} {built}")
    if synthetic():
        parts.append(t("synthetic_short", lang))
    return " · ".join(parts)


def context_parts(view: View, measure: Measure | None, lang: str, geo: bool = True) -> list[str]:
    """Geography, filters and rate type of a view, as the title's second line lists them."""
    parts = [geography(view, lang)] if geo else []
    parts.append(filters_text(view, lang))
    if measure is not None:
        parts.append(rate_type(view, measure, lang))
    return parts


def _wrap(text: str, width: int = WRAP) -> str:
    return "<br>".join(textwrap.wrap(text, width)) or text


def title_text(headline: str, context: list[str], lang: str) -> str:
    """The HTML of a figure title: bold headline, context line(s), grey source line."""
    lines = [f"<b>{_wrap(headline)}</b>"]
    if context:
        lines.append(f"<span style='font-size:12px'>{_wrap(' · '.join(p for p in context if p), WRAP + 10)}</span>")
    lines.append(f"<span style='font-size:11px;color:#666'>{_wrap(source_line(lang), WRAP + 16)}</span>")
    return "<br>".join(lines)


def stamp(fig, headline: str, context: list[str], lang: str, filename: str | None = None):
    """Give ``fig`` its standalone title (headline, context, source) and room for it; ``filename``
    (without extension) names its PNG and SVG downloads."""
    text = title_text(headline, context, lang)
    lines = text.count("<br>") + 1
    top = 36 + 16 * lines
    margin, height, meta = _layout_parts(fig)
    old_top = margin.get("t", 10) or 10
    margin["t"] = top
    height = (height or 400) + max(0, top - old_top)
    fig.update_layout(title=dict(text=text, x=0, xref="container", xanchor="left", y=1, yanchor="top", yref="container",
                                 pad=dict(t=22, l=8), font=dict(size=14)),
                      margin=margin, height=height, separators=numbers.plotly_separators(lang), overwrite=True)
    if filename:
        fig.update_layout(meta={**(meta if isinstance(meta, dict) else {}), "filename": filename}, overwrite=True)
    return fig


def _layout_parts(fig) -> tuple[dict, float | None, object]:
    """(margin, height, meta) of a figure's layout: a ``go.Figure`` or a plain-data :class:`atlas.plot.Figure`."""
    layout = fig.layout
    if isinstance(layout, dict):
        return dict(layout.get("margin") or {}), layout.get("height"), layout.get("meta")
    return (dict(layout.margin.to_plotly_json()) if layout.margin else {}), layout.height, layout.meta


def headline(measure: Measure, view: View, lang: str, where: str | None = None) -> str:
    """"Lumbar imaging per 1,000 adults, 2023" (and ", Aarhus" for one place)."""
    return f"{measure.name(lang)}, {period(view)}" + (f", {where}" if where else "")


_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa", "é": "e", "ü": "u", "ö": "o"})


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: ASCII letters and digits joined by hyphens (æ -> ae)."""
    text = re.sub(r"(\d)[.,](\d{3})", r"\1\2", str(text))          # 1,000 / 1.000 -> 1000
    s = re.sub(r"[^A-Za-z0-9]+", "-", text.translate(_ASCII)).strip("-").lower()
    return s or "x"


def file_stem(chart_title: str, view: View, measure: Measure | None, lang: str, where: str | None = None,
              extra: str = "") -> str:
    """A file name (without extension) that says what the file holds: the chart, the measure, the
    geography or place, the filters, the period and the language."""
    parts = [t("file_prefix", lang), chart_title]
    if measure is not None:
        parts.append(measure.name(lang))
    parts.append(where or geography(view, lang))
    if view.dims:
        parts.append(filters_text(view, lang))
    if extra:
        parts.append(extra)
    parts += [period(view).replace("–", "-"), lang]
    return "_".join(slug(p) for p in parts)[:180]
