"""The policy pages (``/inequality``, ``/recent-trends``, ``/opportunity``): their state in the URL
hash (:func:`atlas.state.page_state`), and for each page the tables it shows (which are its CSV
downloads, cell for cell), its charts and its sentences, from :mod:`atlas.policy`.

A page's state is a flat dict of whitelisted values; ``tables(page, state, lang)`` returns the
page's tables as (key, title, DataFrame) in the reader's language, and the CSV of a table is that
DataFrame with the atlas's header items (:func:`atlas.export.write_csv`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from atlas import coverage, data, db, policy, profile
from atlas.data.domain import status_word
from atlas.findings import number
from atlas.i18n import label, t
from atlas.measures import MEASURES
from atlas.plot import Figure
from atlas.state import page_hash, page_state

PAGES = ("inequality", "recent", "opportunity")
PATHS = {"inequality": "/inequality", "recent": "/recent-trends", "opportunity": "/opportunity"}
TESTS = ("poisson", "quasi")
SHOW = ("all", "rising", "falling", "higher_rising")
AREA_COLOUR, DK_COLOUR, PEER_COLOUR = "#1f77b4", "#444444", "#ff7f0e"


def period_text(y0: int, y1: int) -> str:
    return str(y0) if y0 == y1 else f"{y0}–{y1}"


def _periods() -> list[str]:
    return [str(a) if a == b else f"{a}-{b}" for a, b in data.source().year_choices()]


def _period(value: str) -> tuple[int, int]:
    a, _, b = str(value).partition("-")
    return int(a), int(b or a)


def _default_period() -> str:
    a, b = profile.default_period()
    return str(a) if a == b else f"{a}-{b}"


def _rate_measures() -> tuple[str, ...]:
    return tuple(k for k in data.source().measures() if MEASURES[k].kind == "rate")


def defaults(page: str) -> dict:
    if page == "inequality":
        return {"measure": "imaging_rate", "dim": "edu", "level": "region", "period": _default_period(),
                "rates": "crude", "area": None}
    if page == "recent":
        ends = policy.trend_windows("imaging_rate", "municipality") or [None]
        return {"measure": "imaging_rate", "level": "municipality", "years": 5, "end": ends[-1], "test": "poisson",
                "show": "all"}
    return {"measure": "imaging_rate", "level": "municipality", "period": _default_period(), "target": "denmark",
            "rate": None, "sig": 0}


def _code_check(levels):
    def check(v):
        codes = set().union(*(db.level_codes().get(lv, set()) for lv in levels))
        return int(v) if v.isdigit() and int(v) in codes else None
    return check


def _number_check(v):
    try:
        x = float(v.replace(",", "."))
    except ValueError:
        return None
    return x if math.isfinite(x) and 0 < x < 10_000 else None


def rules(page: str) -> dict:
    """What each key of a page's hash may be."""
    measures = data.source().measures()
    if page == "inequality":
        return {"measure": measures, "dim": policy.GRADIENT_DIMS, "level": policy.GRADIENT_LEVELS,
                "period": tuple(_periods()), "rates": policy.RATE_MODES,
                "area": _code_check(("region", "municipality"))}
    if page == "recent":
        ends = tuple(sorted({y for y in data.source().years()}))
        return {"measure": measures, "level": ("municipality", "region"), "years": policy.TREND_YEARS, "end": ends,
                "test": TESTS, "show": SHOW}
    return {"measure": tuple(k for k in policy.OPPORTUNITY_MEASURES if k in measures),
            "level": ("municipality", "region"), "period": tuple(_periods()), "target": policy.TARGETS,
            "rate": _number_check, "sig": (0, 1)}


def read_state(page: str, hash_) -> tuple[dict, list[str]]:
    return page_state(hash_, rules(page), defaults(page))


def write_hash(page: str, state: dict) -> str:
    return page_hash(state, defaults(page))


def address(page: str, state: dict, lang: str) -> str:
    """The page's address (path, language, hash): every view has its own."""
    return PATHS[page] + (f"?lang={lang}" if lang != "en" else "") + write_hash(page, state)


def unit(measure: str, lang: str) -> str:
    return t("per_1000", lang) if MEASURES[measure].kind == "rate" else t("pol_points", lang)


# ---------------------------------------------------------------- inequality

def _ci(v, lo, hi, lang, digits=2) -> str:
    """A value and its interval: "0.54 (0.52 to 0.56)"."""
    return f"{number(v, lang, digits)} ({number(lo, lang, digits)} {t('to_word', lang)} {number(hi, lang, digits)})"


def inequality_tables(state: dict, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    """The SII/RII by area (Denmark first), the groups' rates (Denmark and the selected area), and
    Denmark's SII/RII year by year: what the page shows, as its CSVs."""
    view, _ = policy.gradient_view(state["measure"], state["level"], *_period(state["period"]), state["rates"])
    m, dim = state["measure"], state["dim"]
    g = policy.gradient(m, dim, view.level, view.y0, view.y1, view.rates)
    sii = pd.DataFrame({
        "code": g["code"].astype(int), "name": [t("denmark_total", lang) if c == 0 else n for c, n in zip(g["code"], g["name"])],
        "sii": g["sii"], "sii_lower": g["sii_lower"], "sii_upper": g["sii_upper"],
        "rii": g["rii"], "rii_lower": g["rii_lower"], "rii_upper": g["rii_upper"],
        "note": [policy.missing_text(x, dim, lang) for x in g["missing"]]})
    groups = policy.group_rates(m, dim, view.level, view.y0, view.y1, view.rates)
    area = state.get("area")
    if area is not None and area not in set(groups["code"]):
        # an area of the other level: its groups from its own level's table (same period and rates)
        other = "municipality" if view.level == "region" else "region"
        extra = policy.group_rates(m, dim, other, view.y0, view.y1, view.rates)
        groups = pd.concat([groups, extra[extra["code"] == area]], ignore_index=True)
    keep = [0] + ([area] if area in set(groups["code"]) else [])
    gr = groups[groups["code"].isin(keep)]
    gr_table = pd.DataFrame({
        "code": gr["code"].astype(int), "name": [t("denmark_total", lang) if c == 0 else n for c, n in zip(gr["code"], gr["name"])],
        "group": [label(dim, v, lang) for v in gr["group"]], "value": gr["value"], "lower": gr["lower"],
        "upper": gr["upper"], "count": gr["count"], "denominator": gr["population"],
        "note": [status_word(s, lang) for s in gr["status"]]})
    by_year, _ = policy.gradient_trend(m, dim, view.rates)
    trend = pd.DataFrame({"year": by_year["year"].astype(int), "sii": by_year["sii"], "sii_lower": by_year["sii_lower"],
                          "sii_upper": by_year["sii_upper"], "rii": by_year["rii"], "rii_lower": by_year["rii_lower"],
                          "rii_upper": by_year["rii_upper"], "complete": by_year["complete"].astype(bool),
                          "note": [policy.missing_text(x, dim, lang) for x in by_year["missing"]]})
    return [("sii", t("pol_sii_table", lang), sii), ("groups", t("pol_groups_table", lang), gr_table),
            ("trend", t("pol_trend_table", lang), trend)]


def inequality_words(state: dict, lang: str) -> list[str]:
    view, _ = policy.gradient_view(state["measure"], state["level"], *_period(state["period"]), state["rates"])
    m, dim = state["measure"], state["dim"]
    g = policy.gradient(m, dim, view.level, view.y0, view.y1, view.rates)
    dk = g[g["code"] == 0].iloc[0]
    codes = policy.ordered_codes(dim)
    out = []
    if np.isfinite(dk["rii"]):
        out.append(t("pol_sii_sentence", lang).format(
            dim=label("dimension", dim, lang).lower(), period=period_text(view.y0, view.y1),
            most=label(dim, codes[-1], lang), least=label(dim, codes[0], lang),
            rii=_ci(dk["rii"], dk["rii_lower"], dk["rii_upper"], lang),
            sii=_ci(dk["sii"], dk["sii_lower"], dk["sii_upper"], lang, 1), unit=unit(m, lang)))
    else:
        out.append(policy.missing_text(dk["missing"], dim, lang))
    _, tr = policy.gradient_trend(m, dim, view.rates)
    if tr["reason"] is None:
        out.append(t("pol_rii_trend", lang).format(
            y0=tr["years"][0], y1=tr["years"][1], change=_ci(tr["change"], tr["change_lower"], tr["change_upper"], lang, 1),
            direction=t("pol_dir_" + tr["direction"].replace(" ", "_"), lang)))
    else:
        out.append(t("pol_rii_trend_none", lang).format(reason=tr["reason"]))
    areas = g[g["code"] != 0]
    shown = areas[areas["rii"].notna()]
    words = label("level", view.level, lang).split(" (")[0].lower()
    if len(shown):
        steeper = int((shown["rii_upper"] < 1).sum())
        out.append(t("pol_areas_gradient", lang).format(n=steeper, k=len(shown), total=len(areas), areas=words))
    if len(shown) < len(areas):
        out.append(t("pol_areas_no_sii", lang).format(n=len(areas) - len(shown), areas=words))
    return out


def groups_figure(state: dict, lang: str) -> Figure:
    """The groups' rates with their intervals, ordered from the least to the most advantaged, for
    Denmark and the selected area; the fitted SII line of Denmark's groups is not drawn (the
    fitted line lies on the relative-rank scale, not on the groups)."""
    view, _ = policy.gradient_view(state["measure"], state["level"], *_period(state["period"]), state["rates"])
    _, _, gr = inequality_tables(state, lang)[1]
    fig = Figure()
    for code, part in gr.groupby("code", sort=True):
        colour = DK_COLOUR if code == 0 else AREA_COLOUR
        fig.add_trace(dict(type="scatter", mode="markers+lines", name=str(part["name"].iloc[0]), x=list(part["group"]),
                           y=part["value"], line=dict(color=colour, width=1, dash="dot"), marker=dict(color=colour, size=9),
                           error_y=dict(type="data", symmetric=False, array=(part["upper"] - part["value"]),
                                        arrayminus=(part["value"] - part["lower"]), color=colour),
                           hovertemplate="%{x}: %{y:.1f}<extra>" + str(part["name"].iloc[0]) + "</extra>"))
    fig.update_layout(height=360, margin=dict(l=50, r=10, t=30, b=80), paper_bgcolor="white", plot_bgcolor="white",
                      legend=dict(orientation="h", y=1.08), font=dict(size=12),
                      meta={"filename": f"lumbar-atlas-gradient-{state['dim']}"})
    fig.update_xaxes(title=dict(text=t("pol_axis_groups", lang)), automargin=True)
    fig.update_yaxes(title=dict(text=unit(state["measure"], lang)), rangemode="tozero", gridcolor="#eee")
    return fig


def rii_figure(state: dict, lang: str) -> Figure:
    _, _, tr = inequality_tables(state, lang)[2]
    fig = Figure()
    fig.add_trace(dict(type="scatter", mode="markers+lines", x=tr["year"], y=tr["rii"], name="RII",
                       marker=dict(color=DK_COLOUR, size=8, symbol=["circle" if c else "circle-open" for c in tr["complete"]]),
                       line=dict(color=DK_COLOUR, width=1),
                       error_y=dict(type="data", symmetric=False, array=tr["rii_upper"] - tr["rii"],
                                    arrayminus=tr["rii"] - tr["rii_lower"], color="#999"),
                       hovertemplate="%{x}: %{y:.2f}<extra></extra>"))
    fig.add_shape(dict(type="line", xref="paper", x0=0, x1=1, y0=1, y1=1, line=dict(color="#bbb", dash="dash")))
    fig.update_layout(height=280, margin=dict(l=50, r=10, t=10, b=40), paper_bgcolor="white", plot_bgcolor="white",
                      showlegend=False, font=dict(size=12), meta={"filename": f"lumbar-atlas-rii-{state['dim']}"})
    fig.update_yaxes(title=dict(text=t("pol_rii_axis", lang)), gridcolor="#eee")
    fig.update_xaxes(dtick=1)
    return fig


# ---------------------------------------------------------------- recent trends

def recent_tables(state: dict, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    tab, _ = policy.recent_trends(state["measure"], state["level"], int(state["years"]), state["end"],
                                  state["test"] == "quasi")
    if len(tab) and state["show"] != "all":
        keep = {"rising": tab["direction"] == "rising", "falling": tab["direction"] == "falling",
                "higher_rising": tab["higher_rising"].astype(bool)}[state["show"]]
        tab = tab[keep]
    out = pd.DataFrame({
        "code": tab.get("code", pd.Series(dtype=int)).astype(int), "name": tab.get("name", pd.Series(dtype=object)),
        "first_year": tab.get("first_year"), "last_year": tab.get("last_year"),
        "apc": tab.get("apc"), "apc_lower": tab.get("apc_lower"), "apc_upper": tab.get("apc_upper"),
        "direction": [t("pol_dir_" + d.replace(" ", "_"), lang) for d in tab.get("direction", [])],
        "funnel_flag": tab.get("flag"), "higher_rising": tab.get("higher_rising", pd.Series(dtype=bool)).astype(bool),
        "note": [r or "" for r in tab.get("reason", [])]})
    out = out.sort_values("apc", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    return [("trends", t("pol_recent_table", lang), out)]


def recent_words(state: dict, lang: str) -> list[str]:
    tab, chance = policy.recent_trends(state["measure"], state["level"], int(state["years"]), state["end"],
                                       state["test"] == "quasi")
    if not len(tab) or chance["tested"] == 0:
        reasons = sorted({r for r in tab.get("reason", []) if r}) if len(tab) else []
        return [t("pol_recent_none", lang).format(reason="; ".join(reasons) or "–")]
    tested = tab[tab["direction"] != "not tested"]
    first, last = int(tested["first_year"].min()), int(tested["last_year"].max())
    a, hr = chance["any"], chance["higher_rising"]
    areas = label("level", state["level"], lang).split(" (")[0].lower()
    return [t("pol_recent_sentence", lang).format(
                rising=int((tab["direction"] == "rising").sum()), falling=int((tab["direction"] == "falling").sum()),
                k=chance["tested"], areas=areas, y0=first, y1=last),
            t("pol_recent_chance", lang).format(expected=number(a.expected, lang), lo=a.lower, hi=a.upper,
                                                p=number(100 * a.p_any, lang, 0)),
            t("pol_higher_rising", lang).format(n=int(tab["higher_rising"].sum()), expected=number(hr.expected, lang, 2),
                                                p=number(100 * hr.p_any, lang, 0))]


def recent_figure(state: dict, lang: str) -> Figure:
    _, _, tab = recent_tables(state, lang)[0]
    tab = tab[tab["apc"].notna()].iloc[::-1]
    colours = ["#d62728" if d == t("pol_dir_rising", lang) else "#2ca02c" if d == t("pol_dir_falling", lang) else "#7f7f7f"
               for d in tab["direction"]]
    fig = Figure()
    fig.add_trace(dict(type="scatter", mode="markers", y=list(tab["name"]), x=tab["apc"], marker=dict(color=colours, size=7),
                       error_x=dict(type="data", symmetric=False, array=tab["apc_upper"] - tab["apc"],
                                    arrayminus=tab["apc"] - tab["apc_lower"], color="#bbb"),
                       hovertemplate="%{y}: %{x:.1f} %<extra></extra>", showlegend=False))
    fig.add_vline(0, dict(color="#666", dash="dash"))
    fig.update_layout(height=max(240, 60 + 15 * len(tab)), margin=dict(l=10, r=10, t=10, b=40), paper_bgcolor="white",
                      plot_bgcolor="white", font=dict(size=11), meta={"filename": "lumbar-atlas-recent-trends"})
    fig.update_yaxes(type="category", automargin=True, tickfont=dict(size=10))
    fig.update_xaxes(title=dict(text=t("pol_apc_axis", lang)), gridcolor="#eee", zeroline=False)
    return fig


# ---------------------------------------------------------------- opportunity

def _opportunity(state: dict):
    a, b = _period(state["period"])
    return policy.opportunity(state["measure"], state["level"], a, b, state["target"], state.get("rate"),
                              bool(state.get("sig")))


def opportunity_tables(state: dict, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    tab, summary = _opportunity(state)
    body = pd.DataFrame({"code": tab["code"].astype(int), "name": tab["name"], "observed": tab["observed"],
                         "expected_year": tab["expected"], "ratio": tab["ratio"], "target_count": tab["target_count"],
                         "avoidable": tab["avoidable"], "avoidable_lower": tab["avoidable_lower"],
                         "avoidable_upper": tab["avoidable_upper"], "above": tab["above"].astype(bool),
                         "significant": tab["significant"].astype(bool), "note": ""})
    columns = list(body.columns)
    left = pd.DataFrame([{"code": c, "name": n, "note": t("pol_left_out", lang) + ": " + (status_word(s, lang) or s)}
                         for c, n, s in summary["left_out"]])
    if summary["total"] is not None:
        total = pd.DataFrame([{"code": 0, "name": t("pol_total", lang), "observed": tab["observed"].sum(),
                               "expected_year": tab["expected"].sum(), "avoidable": summary["total"].value,
                               "avoidable_lower": summary["total"].lower, "avoidable_upper": summary["total"].upper,
                               "note": t("pol_total_note", lang)}])
        body = pd.concat([total, body], ignore_index=True)
    if len(left):
        body = pd.concat([body, left], ignore_index=True)
    body = body[columns]
    return [("areas", t("pol_opp_table", lang), body)]


def target_words(summary: dict, state: dict, lang: str) -> str:
    if state["target"] == "denmark":
        return t("pol_target_denmark", lang)
    rate = number(summary["target_rate"], lang)
    return t(f"pol_target_{state['target']}_rate", lang).format(rate=rate, unit=t("per_1000", lang))


def opportunity_words(state: dict, lang: str) -> list[str]:
    tab, s = _opportunity(state)
    if s["total"] is None:
        return [t(f"pol_opp_{s['reason']}", lang)]
    areas = label("level", s["view"].level, lang).split(" (")[0].lower()
    target = target_words(s, state, lang)
    out = [t("pol_opp_sentence", lang).format(
        areas=areas, target=target, n=number(s["total"].value, lang, 0), lo=number(s["total"].lower, lang, 0),
        hi=number(s["total"].upper, lang, 0), above=s["n_above"], k=s["n_areas"],
        period=period_text(s["view"].y0, s["view"].y1))]
    for _, r in tab[tab["avoidable"] > 0].head(3).iterrows():
        out.append(t("pol_opp_area", lang).format(name=r["name"], target=target, n=number(r["avoidable"], lang, 0),
                                                  lo=number(r["avoidable_lower"], lang, 0),
                                                  hi=number(r["avoidable_upper"], lang, 0)))
    if s["left_out"]:
        out.append(t("pol_opp_left_out", lang).format(n=len(s["left_out"]),
                                                     names=", ".join(n for _, n, _ in s["left_out"][:8])))
    return out


def opportunity_figure(state: dict, lang: str) -> Figure:
    tab, _ = _opportunity(state)
    top = tab[tab["avoidable"] > 0].head(25).iloc[::-1]
    fig = Figure()
    fig.add_trace(dict(type="bar", orientation="h", y=list(top["name"]), x=top["avoidable"],
                       marker=dict(color=["#d62728" if s else "#f4a582" for s in top["significant"]]),
                       error_x=dict(type="data", symmetric=False, array=top["avoidable_upper"] - top["avoidable"],
                                    arrayminus=top["avoidable"] - top["avoidable_lower"], color="#555"),
                       hovertemplate="%{y}: %{x:.0f}<extra></extra>", showlegend=False))
    fig.update_layout(height=max(220, 60 + 18 * len(top)), margin=dict(l=10, r=10, t=10, b=40), paper_bgcolor="white",
                      plot_bgcolor="white", font=dict(size=11), meta={"filename": "lumbar-atlas-opportunity"})
    fig.update_yaxes(type="category", automargin=True)
    fig.update_xaxes(title=dict(text=t("pol_opp_axis", lang)), gridcolor="#eee", rangemode="tozero")
    return fig


# ---------------------------------------------------------------- the CSV of any table

def tables(page: str, state: dict, lang: str):
    return {"inequality": inequality_tables, "recent": recent_tables, "opportunity": opportunity_tables}[page](state, lang)


def header_rows(page: str, state: dict, lang: str, title: str) -> list[list[str]]:
    """The download's header items: measure, definition, years, areas, method, and the view's address."""
    from atlas.export import csv_header

    m = MEASURES[state["measure"]]
    rows = [[t("measure", lang), m.name(lang)], [t("definition", lang), m.definition(lang)]]
    if page == "inequality":
        view, _ = policy.gradient_view(state["measure"], state["level"], *_period(state["period"]), state["rates"])
        rows += [[t("years", lang), period_text(view.y0, view.y1)],
                 [t("level", lang), label("level", view.level, lang)],
                 [t("pol_dimension", lang), label("dimension", state["dim"], lang)],
                 [t("standardise", lang), t("std_isr" if view.rates == "isr" else "std_crude", lang)],
                 [t("pol_method", lang), t("pol_method_sii", lang)]]
    elif page == "recent":
        rows += [[t("level", lang), label("level", state["level"], lang)],
                 [t("pol_years_n", lang), str(state["years"])], [t("pol_end", lang), str(state["end"])],
                 [t("pol_show", lang), t(f"pol_show_{state['show']}", lang)],
                 [t("pol_method", lang), t(f"pol_method_trend_{state['test']}", lang)]]
    else:
        _, s = _opportunity(state)
        rows += [[t("years", lang), period_text(s["view"].y0, s["view"].y1)],
                 [t("level", lang), label("level", s["view"].level, lang)],
                 [t("pol_target", lang), target_words(s, state, lang) if s["total"] is not None else "–"],
                 [t("pol_method", lang), t("pol_method_opp", lang)]]
    incomplete = coverage.incomplete_years(state["measure"])
    rows.append([t("complete_years_col", lang), coverage.note(incomplete, lang) if incomplete else t("all_years", lang)])
    return csv_header(lang, title, rows, PATHS[page], write_hash(page, state))


def csv_bytes(page: str, state: dict, key: str, lang: str, sep: str = ",") -> tuple[bytes, str]:
    from atlas.export import write_csv

    for k, title, table in tables(page, state, lang):
        if k == key:
            return write_csv(header_rows(page, state, lang, title), table, sep, lang), f"lumbar-atlas-{page}-{key}.csv"
    raise ValueError(f"{page} has no table {key!r}")


# ---------------------------------------------------------------- area profile: peers and opportunity

def peer_table(code: int, y0: int, y1: int, lang: str) -> pd.DataFrame:
    """The area, its comparable municipalities, the peers together and Denmark for a few measures
    (:func:`atlas.policy.peer_comparison`): the profile's peers section and its CSV rows."""
    p = policy.peer_comparison(int(code), y0, y1)
    if p.empty:
        return pd.DataFrame(columns=["measure", "role", "code", "name", "value", "lower", "upper", "note"])
    roles = {"area": "", "peer": t("pol_role_peer", lang), "peers": t("pol_peers_together", lang),
             "denmark": t("denmark_total", lang)}
    names = [t("pol_peers_together", lang) if r == "peers" else t("denmark_total", lang) if r == "denmark" else n
             for r, n in zip(p["role"], p["name"])]
    notes = []
    for _, r in p.iterrows():
        note = status_word(r["status"], lang) if r["status"] != "shown" else ""
        left = r.get("left_out")
        if isinstance(left, list) and left:
            note = t("pol_peers_left_out", lang).format(n=len(left))
        notes.append(note)
    return pd.DataFrame({"measure": [MEASURES[m].name(lang) for m in p["measure"]],
                         "role": [roles[r] or t("pol_role_area", lang) for r in p["role"]],
                         "code": pd.Series([None if pd.isna(c) else int(c) for c in p["code"]], dtype=object),
                         "name": names,
                         "value": p["value"], "lower": p["lower"], "upper": p["upper"], "note": notes})


def profile_opportunity(code: int, level: str, y0: int, y1: int, lang: str) -> list[str]:
    """"If <area> imaged at Denmark's rate, about N fewer examinations a year" for imaging and
    potentially low-value imaging, where the area is above Denmark's rate."""
    from atlas import profile as _profile

    out = []
    for key in ("imaging_rate", "lowvalue_rate"):
        if key not in data.source().measures():
            continue
        tab, s = policy.opportunity(key, level, y0, y1, "denmark")
        row = tab[tab["code"] == int(code)]
        if s["total"] is None or row.empty or not bool(row["above"].iloc[0]) or s["view"].level != level:
            continue
        r = row.iloc[0]
        out.append(t("pol_opp_profile", lang).format(
            name=_profile.area_name(code, level), measure=MEASURES[key].name(lang), n=number(r["avoidable"], lang, 0),
            lo=number(r["avoidable_lower"], lang, 0), hi=number(r["avoidable_upper"], lang, 0),
            period=period_text(s["view"].y0, s["view"].y1)))
    return out


def peers_section(code: int, level: str, y0: int, y1: int, lang: str):
    """The profile's section of comparable municipalities (None for a region): the table, and a
    link to compare the municipality with its three nearest peers side by side."""
    import dash
    from dash import dcc, html

    from atlas.layout_parts import html_table

    if level != "municipality":
        return None
    table = peer_table(code, y0, y1, lang)
    near = policy.peers_of(code, y0, y1)
    if table.empty or not near:
        body = [html.P(t("pol_peers_none", lang), className="small")]
    else:
        areas = ",".join(str(c) for c in [code, *near[:3]])
        href = dash.get_relative_path("/compare") + ("" if lang == "en" else f"?lang={lang}") + f"#areas={areas}"
        body = [html.P(t("pol_peers_intro", lang), className="small text-muted mb-1"),
                html_table(table, t("pol_peers_table", lang), lang),
                dcc.Link(t("pol_peers_compare", lang), href=href, id="profile-peers-compare", className="d-print-none")]
    return html.Section([html.H2(t("pol_peers_title", lang), className="h5"), *body], className="profile-section mb-3",
                        id="profile-peers")


def profile_recent(code: int, level: str, lang: str, measures=("imaging_rate", "lowvalue_rate")) -> list[str]:
    """The area's recent trend of imaging and low-value imaging in words (the /recent-trends
    verdict over the last five complete years), for the profile's key findings."""
    out = []
    for key in measures:
        if key not in data.source().measures() or level not in ("municipality", "region"):
            continue
        tab, _ = policy.recent_trends(key, level, 5, None)
        row = tab[tab["code"] == int(code)] if len(tab) else tab
        if row.empty or row["direction"].iloc[0] == "not tested":
            continue
        r = row.iloc[0]
        out.append(t("pol_recent_profile", lang).format(
            measure=MEASURES[key].name(lang), y0=int(r["first_year"]), y1=int(r["last_year"]),
            change=_ci(r["apc"], r["apc_lower"], r["apc_upper"], lang, 1),
            direction=t("pol_dir_" + r["direction"].replace(" ", "_"), lang)))
    return out
