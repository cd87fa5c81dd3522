"""Methods: definitions, code lists, standard population, windows, suppression and sources.

The text is the project's documentation (``docs/methods*.md``, Danish in ``*.da.md``) so that the
app and the docs never disagree; the code lists and windows are read from the configuration the
data were built with.
"""
from __future__ import annotations

import re

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from atlas import db, numbers
from atlas.i18n import label, t
from atlas.layout_parts import lang_of
from atlas.measures import MEASURES
from atlas.page_meta import title_of
from etl import codes as code_lists
from etl.settings import REPO_ROOT

dash.register_page(__name__, path="/methods", name="Methods", title=title_of("/methods"))

DOCS = REPO_ROOT / "docs"


def _doc(name: str, lang: str) -> str:
    da = DOCS / f"{name}.da.md"
    path = da if lang == "da" and da.exists() else DOCS / f"{name}.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _table(rows: list[dict], columns: list[str], lang: str = "en", stacked: bool = False) -> dbc.Table:
    """A table of ``rows``; ``stacked``: on a phone each row becomes a block of "column: value" lines
    (assets/atlas.css, ``.stacked-table``), so a table of many columns needs no sideways scrolling."""
    names = {"setting": "m_setting", "days": "m_days", "incomplete": "m_incomplete_col", "definition": "m_definition",
             "code_prefix": "m_code_prefix", "description": "m_description", "age_band": "m_age_band", "weight": "m_weight",
             "status": "m_status", "source": "m_source", "break": "m_break_col"}
    heads = [t(names[c], lang) if c in names else label("column", c, lang) for c in columns]
    return dbc.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in heads])),
                      html.Tbody([html.Tr([html.Td(r.get(c, ""), **{"data-label": h}) for c, h in zip(columns, heads)])
                                  for r in rows])],
                     bordered=False, striped=True, size="sm", className="small" + (" stacked-table" if stacked else ""))


def _coverage_rows(lang: str) -> list[dict]:
    """Each measure with its incomplete years in this database (see docs/methods.md)."""
    from atlas import coverage

    rows = [{"measure": m.name(lang), "incomplete": coverage.describe(coverage.incomplete_years(k), lang) or "–"}
            for k, m in MEASURES.items()]
    for window in (90, 365):
        rows.append({"measure": t("m_pathways_days", lang).format(d=window),
                     "incomplete": coverage.describe(coverage.pathway_incomplete_years(window), lang) or "–"})
    return rows


def _break_rows(lang: str) -> list[dict]:
    """Each measure with its register breaks in this database, and the referrer breakdown's."""
    from atlas import coverage

    def describe(br: dict[int, str]) -> str:
        return " ".join(f"{y}: " + " ".join(coverage.break_text(k, lang) for k in w.split("+")) for y, w in br.items())

    rows = [{"measure": m.name(lang), "break": describe(coverage.breaks(k)) or "–"} for k, m in MEASURES.items()]
    referrer = coverage.breaks("", ("referrer",))
    if referrer:
        rows.append({"measure": t("m_by_referrer", lang), "break": describe(referrer)})
    return rows


# each code list's heading on the page (etl/config/codes/<list>.csv)
LIST_HEADINGS = {"imaging_procedures": "m_sks", "diagnoses": "m_icd", "surgery": "m_nomesco",
                 "rehabilitation_plans": "m_rehab_codes", "low_value_criteria": "m_lowvalue_criteria"}


def _source_text(source: dict, lang: str) -> dict:
    """A code-list source (etl/config/codes/sources.toml) in the reader's language: its ``title_da``,
    ``version_da`` and ``note_da`` on a Danish page (the English text where a source has none)."""
    if lang != "da":
        return source
    return {**source, **{k: source.get(f"{k}_da") or source.get(k, "") for k in ("title", "version", "note")}}


def _code_tables(lang: str) -> html.Div:
    """Every code list with its text, status and source (etl/config/codes/), and the unverified codes named."""
    lists = code_lists.provenance()
    src = {key: _source_text(v, lang) for key, v in code_lists.sources().items()}
    modality = {"xray": label("modality", "xray", lang), "mri": label("modality", "mri", lang)}

    def rows(name: str, extra=lambda e: {}) -> list[dict]:
        return [{"code": e.code, "code_prefix": e.code, "criterion": e.code,
                 "description": e.text_da if lang == "da" else e.text_en,
                 "status": t(f"m_status_{e.status}", lang), "source": src[e.source]["title"], **extra(e)}
                for e in lists[name]]

    imaging = {r["code"]: r for r in code_lists.read_list_rows("imaging_procedures")}
    groups = {name: {r["code_prefix"]: r["group"] for r in code_lists.read_list_rows(name)}
              for name in ("diagnoses", "surgery", "rehabilitation_plans")}
    missing = code_lists.unverified(lists)
    parts = [html.P(t("m_unverified_note", lang).format(codes=", ".join(f"{e.code} ({t(LIST_HEADINGS[e.list], lang)})"
                                                                       for e in missing)),
                    className="alert alert-warning small")] if missing else []
    parts += [
        html.H3(t("m_sks", lang), className="h6"),
        _table(rows("imaging_procedures", lambda e: {"modality": modality.get(imaging[e.code]["modality"])}),
               ["code", "modality", "description", "status", "source"], lang, stacked=True),
        html.H3(t("m_icd", lang), className="h6"),
        _table(rows("diagnoses", lambda e: {"group": t(f"m_group_{groups['diagnoses'][e.code]}", lang)}),
               ["code_prefix", "group", "description", "status", "source"], lang, stacked=True),
        html.H3(t("m_nomesco", lang), className="h6"),
        _table(rows("surgery", lambda e: {"group": t(f"m_group_{groups['surgery'][e.code]}", lang)}),
               ["code_prefix", "group", "description", "status", "source"], lang, stacked=True),
        html.H3(t("m_rehab_codes", lang), className="h6"),
        _table(rows("rehabilitation_plans"), ["code_prefix", "description", "status", "source"], lang, stacked=True),
        html.H3(t("m_lowvalue_criteria", lang), className="h6"),
        _table(rows("low_value_criteria"), ["description", "status", "source"], lang, stacked=True),
        html.H3(t("m_sources", lang), className="h6"),
        html.Ul([html.Li([html.Strong(v["title"]), f" ({v['version']}). {v['url']} {v['note']}".replace("\n", " ")],
                         className="small") for v in src.values()], className="code-sources"),
    ]
    return html.Div(parts, className="code-lists")


def _build_report(meta: dict, lang: str) -> list:
    """The rows the build left out, by step and reason, and any check overridden (secure database only)."""
    rows = meta.get("build_report")
    if not rows:
        return []
    cols = [t(f"col_{c}", lang) for c in ("step", "source", "reason", "rows", "share")]
    shown = [dict(zip(cols, (t(f"step_{r['step']}", lang), r["source"], t(f"drop_{r['reason']}", lang),
                             numbers.integer(r["rows"], lang), numbers.percent(100 * r["share"], 2, lang)))) for r in rows]
    overrides = [html.Li(o["what"]) for o in meta.get("overrides", [])]
    return [html.H2(t("build_report", lang), className="h5 mt-4"), html.P(t("build_report_note", lang), className="small"),
            _table(shown, cols),
            *([html.H3(t("build_overrides", lang), className="h6"), html.Ul(overrides, className="small")] if overrides else [])]


def _slug(text: str, i: int) -> str:
    """The anchor of the ``i``-th section (the index keeps two sections of one name apart)."""
    return f"m{i}-" + (re.sub(r"[^a-z0-9]+", "-", text.lower().translate(_ASCII)).strip("-") or "x")


_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def _sections(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """A Markdown document split at its level-2 headings: the text before them, then (title, body) pairs."""
    parts = re.split(r"^## +(.+)$", markdown, flags=re.M)
    intro = re.sub(r"^# .*$", "", parts[0], count=1, flags=re.M).strip()
    return intro, [(parts[i].strip(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _section(title: str, body, i: int) -> html.Section:
    return html.Section([html.H2(title, className="h5 mt-4", id=_slug(title, i)), body], className="methods-text")


def layout(lang: str | None = None, **_):
    lang = lang_of(lang)
    meta = db.meta()
    measures = [{"measure": m.name(lang), "definition": m.definition(lang)} for m in MEASURES.values()]
    # configuration as readable text: each window's meaning, not its key
    windows = [{"setting": t(f"win_{k}", lang), "days": v} for k, v in meta.get("windows", {}).items()]
    std = db.standard_weights()
    esp = std[(std.standard == "esp2013") & (std.sex == 1)]
    intro, doc = _sections(_doc("methods", lang))
    stats_intro, stats = _sections(_doc("methods-statistics", lang))
    config = [
        (t("m_measures", lang), _table(measures, ["measure", "definition"], lang)),
        (t("m_windows", lang), _table(windows, ["setting", "days"], lang)),
        (t("m_incomplete", lang), _table(_coverage_rows(lang), ["measure", "incomplete"], lang)),
        (t("m_breaks", lang), _table(_break_rows(lang), ["measure", "break"], lang)),
        (t("m_codes", lang), _code_tables(lang)),
        (t("standard_pop", lang), _table([{"age_band": a, "weight": numbers.integer(w, lang)}
                                          for a, w in zip(esp.age_band, esp.weight)], ["age_band", "weight"], lang)),
    ]
    sections = ([(title, dcc.Markdown(body)) for title, body in doc] + config
                + [(title, dcc.Markdown(body)) for title, body in stats])
    toc = html.Nav([html.H2(t("contents", lang), className="h6"),
                    html.Ol([html.Li(html.A(title, href="#" + _slug(title, i))) for i, (title, _) in enumerate(sections)],
                            className="methods-toc small")],
                   className="methods-text mb-3", **{"aria-label": t("contents", lang)})
    return html.Main([
        html.H1(t("nav_methods", lang), className="h4"),
        dcc.Markdown(intro, className="methods-text"),
        toc,
        *[_section(title, body, i) for i, (title, body) in enumerate(sections) if i < len(doc) + len(config)],
        html.H2(t("m_statistics", lang), className="h4 mt-5"),
        dcc.Markdown(stats_intro, className="methods-text"),
        *[_section(title, body, i) for i, (title, body) in enumerate(sections) if i >= len(doc) + len(config)],
        *_build_report(meta, lang),
        html.P([t("data_date", lang), ": ", str(meta.get("built_at", "")), " · ",
                t("synthetic_short", lang) if meta.get("data_kind") == "synthetic" else str(meta.get("data_kind", ""))],
               className="small text-muted"),
    ], id="main-content")
