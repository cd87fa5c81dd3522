"""Methods: definitions, code lists, standard population, windows, suppression and sources.

The text is the project's documentation (``docs/methods*.md``, Danish in ``*.da.md``) so that the
app and the docs never disagree; the code lists and windows are read from the configuration the
data were built with.
"""
from __future__ import annotations


import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from atlas import db
from atlas.i18n import t
from atlas.layout_parts import lang_of
from atlas.measures import MEASURES
from etl.settings import REPO_ROOT, read_code_list

dash.register_page(__name__, path="/methods", name="Methods", title="Methods · Lumbar imaging atlas")

DOCS = REPO_ROOT / "docs"


def _doc(name: str, lang: str) -> str:
    da = DOCS / f"{name}.da.md"
    path = da if lang == "da" and da.exists() else DOCS / f"{name}.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _table(rows: list[dict], columns: list[str]) -> dbc.Table:
    return dbc.Table([html.Thead(html.Tr([html.Th(c) for c in columns])),
                      html.Tbody([html.Tr([html.Td(r.get(c, "")) for c in columns]) for r in rows])],
                     bordered=False, striped=True, size="sm", className="small")


def _coverage_rows(lang: str) -> list[dict]:
    """Each measure with its incomplete years in this database (see docs/methods.md)."""
    from atlas import coverage

    rows = [{"measure": m.name(lang), "incomplete years": coverage.describe(coverage.incomplete_years(k), lang) or "–"}
            for k, m in MEASURES.items()]
    for window in (90, 365):
        rows.append({"measure": ("Pathways, {d} days" if lang == "en" else "Forløb, {d} dage").format(d=window),
                     "incomplete years": coverage.describe(coverage.pathway_incomplete_years(window), lang) or "–"})
    return rows


def _build_report(meta: dict, lang: str) -> list:
    """The rows the build left out, by step and reason, and any check overridden (secure database only)."""
    rows = meta.get("build_report")
    if not rows:
        return []
    cols = [t(f"col_{c}", lang) for c in ("step", "source", "reason", "rows", "share")]
    shown = [dict(zip(cols, (t(f"step_{r['step']}", lang), r["source"], t(f"drop_{r['reason']}", lang),
                             f"{r['rows']:,}", f"{r['share']:.2%}"))) for r in rows]
    overrides = [html.Li(o["what"]) for o in meta.get("overrides", [])]
    return [html.H2(t("build_report", lang), className="h5 mt-4"), html.P(t("build_report_note", lang), className="small"),
            _table(shown, cols),
            *([html.H3(t("build_overrides", lang), className="h6"), html.Ul(overrides, className="small")] if overrides else [])]


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    meta = db.meta()
    desc = "description_da" if lang == "da" else "description_en"
    measures = [{"measure": m.name(lang), "definition": m.definition(lang)} for m in MEASURES.values()]
    windows = [{"setting": k, "days": v} for k, v in meta.get("windows", {}).items()]
    std = db.standard_weights()
    esp = std[(std.standard == "esp2013") & (std.sex == 1)]
    return html.Main([
        dcc.Markdown(_doc("methods", lang), className="methods-text"),
        html.H2("Measures" if lang == "en" else "Mål", className="h5 mt-4"),
        _table(measures, ["measure", "definition"]),
        html.H2("Windows (days)" if lang == "en" else "Vinduer (dage)", className="h5 mt-4"),
        _table(windows, ["setting", "days"]),
        html.H2("Incomplete years" if lang == "en" else "Ufuldstændige år", className="h5 mt-4"),
        _table(_coverage_rows(lang), ["measure", "incomplete years"]),
        html.H2("Code lists" if lang == "en" else "Kodelister", className="h5 mt-4"),
        html.H3("SKS imaging procedures", className="h6"),
        _table([{**r, "description": r[desc]} for r in read_code_list("imaging_procedures")], ["code", "modality", "description"]),
        html.H3("ICD-10 diagnoses", className="h6"),
        _table([{**r, "description": r[desc]} for r in read_code_list("diagnoses")], ["code_prefix", "group", "description"]),
        html.H3("NOMESCO operations", className="h6"),
        _table([{**r, "description": r[desc]} for r in read_code_list("surgery")], ["code_prefix", "group", "description"]),
        html.H2(t("standard_pop", lang), className="h5 mt-4"),
        _table([{"age band": a, "weight (per sex)": f"{w:,.0f}"} for a, w in zip(esp.age_band, esp.weight)],
               ["age band", "weight (per sex)"]),
        dcc.Markdown(_doc("methods-statistics", lang), className="methods-text mt-4"),
        *_build_report(meta, lang),
        html.P([t("data_date", lang), ": ", str(meta.get("built_at", "")), " · ", str(meta.get("data_kind", ""))],
               className="small text-muted"),
    ], id="main-content")
