"""What the API says about the data: the release it serves, the measures with their metadata, the
areas and levels, the periods and filters, and every view the source publishes. Read from the
served database's meta and the one data layer (``atlas.data.source``), never by asking which
database it is: the source says what it publishes and whether its figures are inside-only.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache

from atlas import coverage, data, db, edition
from atlas.filters import DIMENSIONS, LEVELS, RATE_MODES, STANDARDS
from atlas.i18n import label, t
from atlas.measures import MEASURES
from etl.settings import CONFIG_DIR

METADATA_FILE = CONFIG_DIR / "measure_metadata.toml"
UNITS = {"rate": ("per 1,000 adults (18+) per year", "pr. 1.000 voksne (18+) pr. år"),
         "share": ("percent", "procent")}
STANDARDISATION = {
    "rate": {"default": "isr", "methods": {
        "isr": "indirect age and sex standardisation against the view's own national rates by sex and 10-year "
               "age band (observed / expected), times the national rate standardised to the chosen standard "
               "population (standard=esp2013: European Standard Population 2013; standard=denmark: Denmark's own "
               "population in the period)",
        "crude": "events per 1,000 adults, not standardised",
        "eb": "empirical-Bayes smoothed standardised rate (municipalities toward their region)"}},
    "share": {"default": "crude", "methods": {"crude": "a percentage of the denominator, not standardised"}},
}


@lru_cache(maxsize=1)
def _metadata() -> dict:
    with open(METADATA_FILE, "rb") as f:
        return tomllib.load(f)


def polarity(measure: str) -> str:
    m = _metadata()
    return (m.get("measures", {}).get(measure) or {}).get("polarity", m["defaults"]["polarity"])


def code_list_names(measure: str) -> list[str]:
    m = _metadata()
    return list((m.get("measures", {}).get(measure) or {}).get("code_lists", m["defaults"]["code_lists"]))


def inside_only() -> bool:
    return data.inside_only()


def marking(lang: str = "en") -> str | None:
    """The words every response of the secure database carries (None for a release)."""
    return t("inside_only", lang) if inside_only() else None


def release(full: bool = False) -> dict:
    """The release identity every response carries; ``full``: with the whole vintage."""
    m = db.meta()
    v = m.get("vintage") or {}
    src = v.get("source_database") or {}
    out = {"id": m.get("release_id"), "identity": edition.identity("en"),
           "database": data.source().kind, "inside_only": inside_only(),
           "built_at": m.get("built_at"), "released_at": v.get("released_at") or m.get("released_at"),
           "source_sha256": src.get("sha256"), "data_kind": m.get("data_kind")}
    if full:
        out["vintage"] = _plain(v) or None
        out["changelog"] = "docs/changelog.md"
    return out


def _plain(value):
    """A read-only mapping of the meta (``db.meta``) as plain JSON values."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def last_updated() -> str | None:
    m = db.meta()
    v = m.get("vintage") or {}
    return v.get("released_at") or m.get("released_at") or m.get("built_at")


def _code_lists(measure: str) -> list[dict]:
    m = db.meta()
    recorded = (m.get("vintage") or {}).get("code_lists") or m.get("code_list_files") or {}
    out = []
    for name in code_list_names(measure):
        rec = recorded.get(name) or {}
        out.append({"file": name, "rows": rec.get("rows"), "sha256": rec.get("sha256"),
                    "version": (rec.get("sha256") or "")[:12] or None})
    return out


def measure(key: str, lang: str = "en") -> dict:
    """One measure's machine-readable metadata."""
    m = MEASURES[key]
    incomplete = coverage.incomplete_years(key)
    breaks = coverage.breaks(key)
    return {
        "key": key, "name": m.name(lang), "name_en": m.en, "name_da": m.da,
        "definition": m.definition(lang), "kind": m.kind,
        "unit": UNITS[m.kind][1 if lang == "da" else 0], "per": m.per,
        "numerator": {"count": m.numerator, "where": dict(m.numerator_where), "cube": m.cube},
        "denominator": {"count": m.denominator, "where": dict(m.denominator_where)},
        "ignores_filters": list(m.ignores),
        "polarity": polarity(key),
        "standardisation": STANDARDISATION[m.kind],
        "code_lists": _code_lists(key),
        "incomplete_years": [{"year": y, "why": w} for y, w in incomplete.items()],
        "breaks": [{"year": y, "what": w, "note": " ".join(coverage.break_text(k, lang) for k in w.split("+"))}
                   for y, w in breaks.items()],
        "last_updated": last_updated(),
        "published": key in data.source().measures(),
    }


def measures(lang: str = "en") -> list[dict]:
    offered = set(data.source().measures())
    return [measure(k, lang) for k in MEASURES if k in offered]


def areas(level: str | None, lang: str = "en") -> list[dict]:
    a = db.areas()
    if level is not None:
        a = a[a["level"] == level]
    cols = [c for c in ("level", "code", "name", "region_code", "region2027_code") if c in a.columns]
    out = []
    for r in a[cols].to_dict("records"):
        out.append({k: (int(v) if k.endswith("code") and v is not None and v == v else
                        (None if k.endswith("code") else v)) for k, v in r.items()})
    return out


def levels(lang: str = "en") -> list[dict]:
    codes = db.level_codes()
    names = {"municipality": ("municipalities (98)", "kommuner (98)"), "region": ("regions (5)", "regioner (5)"),
             "region2027": ("regions from 2027 (4)", "regioner fra 2027 (4)"), "denmark": ("Denmark", "Danmark")}
    return [{"level": lvl, "name": names[lvl][1 if lang == "da" else 0],
             "areas": len(codes.get(lvl, ())) if lvl != "denmark" else 1} for lvl in (*LEVELS, "denmark")]


def periods() -> dict:
    s = data.source()
    return {"years": s.years(), "periods": list(s.periods()), "any_range": s.any_range,
            "default_year": coverage.default_year(s.years())}


def filters(lang: str = "en") -> list[dict]:
    return [{"parameter": key, "name": label("dimension", key, lang), "column": column,
             "divides_population": bool(pop),
             "values": [{"value": str(v), "name": label(key, v, lang) if key != "age" else str(v)} for v in allowed]}
            for key, (column, allowed, pop) in DIMENSIONS.items()]


def options() -> dict:
    return {"rates": list(RATE_MODES), "standard": list(STANDARDS), "format": ["json", "csv"], "lang": ["en", "da"]}


def published(key: str) -> dict:
    """Every (level, period, filters) the source publishes ``key`` for, or ``any`` when it answers
    every combination (the secure database)."""
    views = data.source().published(key)
    if views is None:
        return {"any": True, "views": None}
    out = []
    for level, period, fs in views:
        filters_ = dict(part.split("=", 1) for part in fs.split("&") if part)
        out.append({"level": level, "period": period, "filters": filters_})
    return {"any": False, "views": out}
