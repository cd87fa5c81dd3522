"""Return-letter monitoring: queries, protected tables, the interrupted time series and the figures.

The app table ``returns_monthly`` has referrals received, referrals returned and returns with the
campaign's standard letter per month x exam type x producer (centre). It carries no cell keys, so
each of its cells gets one here (:func:`cell_key`): the first 8 bytes of a BLAKE2b digest of
(month, producer id, exam type, measure), salted with a digest of the table's true counts, read as a
number in [0, 1). The salt makes the key unknowable to a reader (it depends on counts that are never
shown) while the same data always give the same keys. A cell that adds up several cells (all centres,
all exam types) takes the sum of their keys mod 1, as the cubes' cells do; so every count shown here
goes through :func:`atlas.disclosure.shown_counts` (perturbation, 1-4 hidden) like every other count.

Rates (returned or letters per 1,000 referrals) and shares are computed from shown counts. The
segmented regression (:func:`etl.stats.segmented_regression`) runs on the monthly rates from shown
counts; a hidden month (1-4) enters with 2.5 (the middle of 1-4), which the page says.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from atlas.cache import cached
from atlas import db, numbers
from atlas.disclosure import shown_counts
from atlas.export import csv_header, nullable_ints, write_csv
from atlas.figures import FONT
from atlas.i18n import label, t
from etl import stats, vocabularies

EXAMS = vocabularies.codes("exam_type")
MEASURES = ("returned", "letters")
COUNTS = ("referrals", "returned", "letters")
DEFAULT_INTERVENTION = "2022-10-01"
HIDDEN_FILL = 2.5            # a hidden month (1-4) enters the regression as the middle of 1..4
PER = 1000
CHARTS = ("exam", "its", "centres", "summary")

EXAM_COLOURS = {"lumbar": "#0072B2", "head": "#E69F00", "knee": "#009E73"}   # Okabe-Ito
BEFORE, AFTER, FIT, COUNTER = "#7f7f7f", "#D55E00", "#0072B2", "#444444"


# ---------------------------------------------------------------- view state (URL hash)

@dataclass(frozen=True)
class ReturnsView:
    measure: str = "returned"            # "returned" | "letters"
    exam: str | None = None              # None: all exam types
    centre: str | None = None            # producer id; None: all centres
    date: str = DEFAULT_INTERVENTION     # intervention date, ISO
    sep: str = ","
    lang: str = "en"

    def to_hash(self) -> str:
        base = ReturnsView()
        out = {k: v for k, v in asdict(self).items()
               if k != "lang" and v is not None and v != getattr(base, k)}
        return "#" + urlencode(out) if out else ""


def parse_hash(hash_, centres: set[str], months: list[pd.Timestamp], lang: str = "en") -> tuple[ReturnsView, list[str]]:
    """Read a URL hash into a :class:`ReturnsView` against whitelists; return it and the ignored keys."""
    view = ReturnsView(lang=lang)
    if not isinstance(hash_, str) or not hash_.strip("#"):
        return view, []
    try:
        params = parse_qs(hash_.lstrip("#")[:2000], keep_blank_values=False, max_num_fields=20)
    except ValueError:
        return view, ["(the whole address)"]
    values = {k: v[-1][:40] for k, v in params.items() if v}
    changes, ignored = {}, []
    for key, allowed in (("measure", MEASURES), ("exam", EXAMS + ("all",)), ("sep", (",", ";")),
                         ("centre", tuple(sorted(centres)) + ("all",))):
        if key in values:
            raw = values.pop(key)
            if raw in allowed:
                changes[key] = None if raw == "all" else raw
            else:
                ignored.append(key)
    if "date" in values:
        raw = values.pop("date")
        d = valid_date(raw, months)
        if d is None:
            ignored.append("date")
        else:
            changes["date"] = d
    ignored.extend(sorted(values))
    return replace(view, **changes), ignored


def valid_date(raw, months: list[pd.Timestamp]) -> str | None:
    """An ISO date that leaves at least two months before and two after it, else None."""
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        d = date.fromisoformat(raw[:10])
    except ValueError:
        return None
    if not months:
        return None
    k = intervention_index(months, d.isoformat())
    if k is None or k < 2 or len(months) - k < 2:
        return None
    return d.isoformat()


def intervention_index(months: list[pd.Timestamp], when: str) -> int | None:
    """Position of the first month that starts on or after the intervention date."""
    ts = pd.Timestamp(when)
    for i, m in enumerate(months):
        if m >= ts:
            return i
    return None


# ---------------------------------------------------------------- data and cell keys

def cell_key(salt: bytes, month: str, producer_id: str, exam_type: str, measure: str) -> float:
    """Deterministic cell key in [0, 1) of one cell of ``returns_monthly`` (see the module docstring)."""
    h = hashlib.blake2b(f"{month}|{producer_id}|{exam_type}|{measure}".encode("utf-8"), digest_size=8, key=salt)
    return int.from_bytes(h.digest(), "big") / 2.0 ** 64


def table_salt(d: pd.DataFrame) -> bytes:
    """A digest of the true counts of the whole table (in a fixed order): the keys' secret."""
    h = hashlib.blake2b(digest_size=32)
    for row in d.sort_values(["month", "producer_id", "exam_type"])[["month", "producer_id", "exam_type", *COUNTS]].itertuples(index=False):
        h.update(f"{row[0]:%Y-%m}|{row[1]}|{row[2]}|{row[3]}|{row[4]}|{row[5]};".encode("utf-8"))
    return h.digest()


@cached(maxsize=4)
def _monthly(path: str) -> pd.DataFrame:
    d = db.query("SELECT month, exam_type, producer_id, centre, referrals, returned, letters FROM returns_monthly")
    d["month"] = pd.to_datetime(d["month"])
    for c in COUNTS:
        d[c] = d[c].astype(float)
    if db.is_release():
        # published counts (NaN = hidden) and, per month and exam type, their published sum over
        # centres (producer 'all'): nothing to perturb or key
        return d.sort_values(["month", "producer_id", "exam_type"]).reset_index(drop=True)
    salt = table_salt(d)
    ym = d["month"].dt.strftime("%Y-%m")
    for c in COUNTS:
        d[f"k_{c}"] = [cell_key(salt, m, p, e, c) for m, p, e in zip(ym, d["producer_id"], d["exam_type"])]
    return d.sort_values(["month", "producer_id", "exam_type"]).reset_index(drop=True)


def monthly() -> pd.DataFrame:
    """The table with true counts and cell keys (never shown as such)."""
    return _monthly(str(db.db_path()))


def months() -> list[pd.Timestamp]:
    return sorted(monthly()["month"].unique())


def centres() -> pd.DataFrame:
    """Producer id and name of each centre, by name."""
    d = monthly()
    d = d[d["producer_id"] != RELEASE_ALL]
    return d[["producer_id", "centre"]].drop_duplicates().sort_values("centre").reset_index(drop=True)


RELEASE_ALL = "all"     # a release's published sum over centres


def _select(view: ReturnsView, by_exam=True, by_centre=True) -> pd.DataFrame:
    d = monthly()
    if by_exam and view.exam is not None:
        d = d[d["exam_type"] == view.exam]
    if db.is_release():
        # all centres: the published sums; one centre, or per centre: the centres' own rows
        if by_centre and view.centre is not None:
            return d[d["producer_id"] == view.centre]
        return d[d["producer_id"] == RELEASE_ALL] if by_centre else d[d["producer_id"] != RELEASE_ALL]
    if by_centre and view.centre is not None:
        d = d[d["producer_id"] == view.centre]
    return d


def protected(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum counts and keys by ``by``; add ``*_shown`` (perturbed, 1-4 hidden) and the keys' sums.

    ``rate`` is the view's count per 1,000 shown referrals, computed by the caller. On a release
    the counts are already published (NaN = hidden): a sum is shown only when all its parts are.
    """
    if db.is_release():
        g = d.groupby(by, as_index=False)
        agg = g[list(COUNTS)].sum()
        missing = d[list(COUNTS)].isna().groupby([d[b] for b in by]).sum().reset_index(drop=True)
        for c in COUNTS:
            agg[c] = agg[f"{c}_shown"] = agg[c].where(missing[c].to_numpy() == 0)
        return agg
    agg = d.groupby(by, as_index=False)[[*COUNTS, *(f"k_{c}" for c in COUNTS)]].sum()
    for c in COUNTS:
        agg[f"k_{c}"] = np.mod(agg[f"k_{c}"], 1.0)
        agg[f"{c}_shown"] = shown_counts(agg[c].to_numpy(), agg[f"k_{c}"].to_numpy())
    return agg


def _rate(num, den):
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den * PER, np.nan)


def _public(agg: pd.DataFrame, measure: str, keys: list[str]) -> pd.DataFrame:
    """Only shown columns: keys, shown referrals and shown count of the measure, and the rate."""
    out = agg[keys].copy()
    out["referrals"] = agg["referrals_shown"].to_numpy()
    out["count"] = agg[f"{measure}_shown"].to_numpy()
    out["rate"] = _rate(out["count"], out["referrals"])
    out["hidden"] = out["count"].isna() | out["referrals"].isna()
    return out


def by_exam(view: ReturnsView) -> pd.DataFrame:
    """Month x exam type: shown referrals, shown count of the measure, rate per 1,000 referrals."""
    return _public(protected(_select(view), ["month", "exam_type"]), view.measure, ["month", "exam_type"])


def by_centre(view: ReturnsView) -> pd.DataFrame:
    """Centre x month (the view's exam type, every centre): shown counts and rate, before/after."""
    agg = protected(_select(view, by_centre=False), ["producer_id", "centre", "month"])
    out = _public(agg, view.measure, ["producer_id", "centre", "month"])
    out["period"] = np.where(out["month"] >= pd.Timestamp(view.date), "after", "before")
    return out


def centre_summary(view: ReturnsView) -> pd.DataFrame:
    """Per centre, before and after the intervention: shown totals and the rate per 1,000 referrals."""
    d = _select(view, by_centre=False).copy()
    d["period"] = np.where(d["month"] >= pd.Timestamp(view.date), "after", "before")
    agg = protected(d, ["producer_id", "centre", "period"])
    out = _public(agg, view.measure, ["producer_id", "centre", "period"])
    wide = out.pivot(index=["producer_id", "centre"], columns="period", values=["referrals", "count", "rate"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    for c in ("referrals_before", "count_before", "rate_before", "referrals_after", "count_after", "rate_after"):
        if c not in wide:
            wide[c] = np.nan
    return wide.reset_index()[["producer_id", "centre", "referrals_before", "count_before", "rate_before",
                               "referrals_after", "count_after", "rate_after"]].sort_values("centre").reset_index(drop=True)


def series(view: ReturnsView) -> pd.DataFrame:
    """The monthly series of the selection: shown referrals, shown count, rate (NaN when hidden)."""
    agg = protected(_select(view), ["month"])
    out = _public(agg, view.measure, ["month"])
    all_months = pd.DataFrame({"month": months()})
    return all_months.merge(out, on="month", how="left")


def its(view: ReturnsView, hac_lags="auto") -> tuple[pd.DataFrame, dict | None]:
    """Monthly rate per 1,000 referrals with the segmented regression's fitted lines.

    Returns the series (with ``fitted``, ``counterfactual`` and ``period``) and the regression's
    result, or None when a fit would be meaningless; then ``s.attrs["no_fit"]`` names the reason (an
    i18n key): too few months with shown referrals before or after ("ret_reason_few"), more than half
    the months hidden ("ret_reason_hidden"), or a segment whose rates are all the same, as letters
    before the campaign that introduced them ("ret_reason_flat": an exact fit, intervals of width 0).
    The fitted and counterfactual lines are clamped at 0 (a rate cannot be negative);
    ``s.attrs["clamped"]`` says whether that changed anything.
    """
    s = series(view)
    ms = list(s["month"])
    k = intervention_index(ms, view.date)
    s["period"] = np.where(s["month"] >= pd.Timestamp(view.date), "after", "before")
    count = s["count"].to_numpy(dtype=float)
    hidden_count = s["referrals"].notna() & s["count"].isna()
    y = _rate(np.where(hidden_count, HIDDEN_FILL, count), s["referrals"])
    s["rate_in_fit"] = y
    s["fill"] = hidden_count.to_numpy()
    s["fitted"], s["counterfactual"] = np.nan, np.nan
    s.attrs["clamped"] = False
    reason = _no_fit_reason(y, k, hidden_count.to_numpy())
    if reason:
        s.attrs["no_fit"] = reason
        return s, None
    try:
        r = stats.segmented_regression(np.arange(len(s), dtype=float), y, k, hac_lags=hac_lags)
    except (ValueError, np.linalg.LinAlgError):
        s.attrs["no_fit"] = "ret_reason_few"
        return s, None
    fitted = np.asarray(r["fitted"], dtype=float)
    counter = np.where(np.arange(len(s)) >= k, np.asarray(r["counterfactual"], dtype=float), np.nan)
    s.attrs["clamped"] = bool(np.nanmin(fitted) < 0 or (np.isfinite(counter).any() and np.nanmin(counter) < 0))
    s["fitted"] = np.maximum(fitted, 0.0)
    s["counterfactual"] = np.where(np.isnan(counter), np.nan, np.maximum(counter, 0.0))
    r["n_filled"] = int(hidden_count.sum())
    r["intervention_month"] = ms[k]
    return s, r


def _hidden_key(filled_in_fit: bool = True) -> str:
    """How a hidden month is described: on the release a month may also be hidden to protect another
    cell (secondary suppression), so it is not necessarily 1-4."""
    key = "ret_filled" if filled_in_fit else "ret_hidden_month"
    return key + "_release" if db.is_release() else key


def _no_fit_reason(y: np.ndarray, k: int | None, filled: np.ndarray) -> str | None:
    """Why a segmented regression of ``y`` around month ``k`` would be meaningless, or None."""
    y = np.asarray(y, dtype=float)
    if k is None:
        return "ret_reason_few"
    pre, post = y[:k][np.isfinite(y[:k])], y[k:][np.isfinite(y[k:])]
    if len(pre) < 2 or len(post) < 2:
        return "ret_reason_few"
    if filled.sum() * 2 > np.isfinite(y).sum():
        return "ret_reason_hidden"
    if np.ptp(pre) <= 1e-9 * max(1.0, np.abs(pre).max()) or np.ptp(post) <= 1e-9 * max(1.0, np.abs(post).max()):
        return "ret_reason_flat"
    return None


def no_fit_text(s: pd.DataFrame, lang: str) -> str:
    """The reason there is no regression, in words."""
    return t("ret_degenerate", lang).format(reason=t(s.attrs.get("no_fit") or "ret_reason_few", lang))


def its_table(r: dict | None, lang: str) -> pd.DataFrame:
    """The regression's estimates as a small table: term, estimate, lower, upper, p.

    Values within a millionth of the largest estimate (or standard error) of zero, as with an exactly
    flat segment (no letters before the campaign), are shown as 0 with no p-value, not as rounding noise."""
    if r is None:
        return pd.DataFrame(columns=["term", "estimate", "lower", "upper", "p"])
    r = {**r}
    tol_b = 1e-6 * max(1e-12, max(abs(v) for v in r["params"].values()))
    tol_se = 1e-6 * max(1e-12, max(abs(v) for v in r["se"].values()))
    r["se"] = {k: (0.0 if abs(v) < tol_se else v) for k, v in r["se"].items()}
    for part in ("params", "lower", "upper"):
        r[part] = {k: (r["params"][k] if r["se"][k] == 0.0 else v) for k, v in r[part].items()}
        r[part] = {k: (0.0 if abs(v) < tol_b else v) for k, v in r[part].items()}
    r["p"] = {k: (np.nan if r["se"][k] == 0.0 else v) for k, v in r["p"].items()}
    r["post_slope"] = {k: (0.0 if abs(v) < tol_b else v) for k, v in r["post_slope"].items()}
    rows = [(t("its_level_before", lang), r["params"]["intercept"], r["lower"]["intercept"], r["upper"]["intercept"], r["p"]["intercept"]),
            (t("its_pre_slope", lang), r["params"]["pre_slope"], r["lower"]["pre_slope"], r["upper"]["pre_slope"], r["p"]["pre_slope"]),
            (t("its_level_change", lang), r["params"]["level_change"], r["lower"]["level_change"], r["upper"]["level_change"], r["p"]["level_change"]),
            (t("its_slope_change", lang), r["params"]["slope_change"], r["lower"]["slope_change"], r["upper"]["slope_change"], r["p"]["slope_change"]),
            (t("its_post_slope", lang), r["post_slope"]["estimate"], r["post_slope"]["lower"], r["post_slope"]["upper"], None)]
    return pd.DataFrame(rows, columns=["term", "estimate", "lower", "upper", "p"])


# ---------------------------------------------------------------- figures

def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(**{"height": height, "margin": dict(l=10, r=10, t=36, b=10), "font": FONT,
                         "paper_bgcolor": "white", "plot_bgcolor": "white", **kw})
    return fig


def _intervention_line(fig, view: ReturnsView, **kw):
    x = pd.Timestamp(view.date) - pd.Timedelta(days=15)     # between the last month before and the first after
    fig.add_vline(x=x, line_dash="dot", line_color="#333", **kw)
    fig.add_annotation(x=x, y=1, yref="paper", text=t("ret_intervention", view.lang) + f" {view.date}", showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=11))


def _measure_name(view: ReturnsView) -> str:
    return t(f"ret_measure_{view.measure}", view.lang)


def _unit(view: ReturnsView) -> str:
    return t(f"ret_unit_{view.measure}", view.lang)


def fig_by_exam(tbl: pd.DataFrame, view: ReturnsView) -> go.Figure:
    fig = go.Figure()
    for exam in EXAMS:
        d = tbl[tbl["exam_type"] == exam].sort_values("month")
        if d.empty:
            continue
        name = label("exam_type", exam, view.lang)
        hover = [f"{name} {m:%Y-%m}: " + (t("suppressed", view.lang) if h else numbers.integer(c, view.lang)) for m, c, h in
                 zip(d["month"], d["count"], d["hidden"])]
        fig.add_trace(go.Bar(x=d["month"], y=d["count"].fillna(0), name=name, marker_color=EXAM_COLOURS[exam],
                             hovertext=hover, hoverinfo="text"))
    hid = tbl[tbl["hidden"].astype(bool)].sort_values("month")
    if len(hid):
        # a hidden month is marked as hidden, not left out (it is not a month without any)
        fig.add_trace(go.Scatter(
            x=hid["month"], y=np.zeros(len(hid)), mode="markers", name=t(_hidden_key(filled_in_fit=False), view.lang),
            marker=dict(symbol="x", color="#555", size=8),
            hovertext=[f"{label('exam_type', e, view.lang)} {m:%Y-%m}: {t('suppressed', view.lang)}"
                       for e, m in zip(hid["exam_type"], hid["month"])], hoverinfo="text"))
    _intervention_line(fig, view)
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_xaxes(gridcolor="#eee", dtick="M6", tickformat="%Y-%m")
    fig.update_yaxes(title=_measure_name(view), gridcolor="#eee", rangemode="tozero")
    return _layout(fig, 320, legend=dict(orientation="h", y=-0.2))


def fig_its(s: pd.DataFrame, r: dict | None, view: ReturnsView) -> go.Figure:
    fig = go.Figure()
    lang = view.lang
    for period, colour in (("before", BEFORE), ("after", AFTER)):
        d = s[(s["period"] == period) & ~s["hidden"].fillna(True).astype(bool)]
        fig.add_trace(go.Scatter(x=d["month"], y=d["rate"], mode="markers", marker=dict(color=colour, size=8),
                                 name=t(f"ret_{period}", lang),
                                 hovertemplate="%{x|%Y-%m}: %{y:.1f} " + _unit(view) + "<extra></extra>"))
    filled = s[s["fill"]]
    if len(filled):
        fig.add_trace(go.Scatter(x=filled["month"], y=filled["rate_in_fit"], mode="markers",
                                 marker=dict(color="white", size=8, line=dict(color="#999", width=1.5)),
                                 name=t(_hidden_key(filled_in_fit=r is not None), lang),
                                 hovertemplate="%{x|%Y-%m}: " + t("suppressed", lang) + "<extra></extra>"))
    if r is not None:
        k = int(np.argmax(s["month"].to_numpy() >= np.datetime64(pd.Timestamp(view.date))))
        pre, post = s.iloc[:k], s.iloc[k:]
        fig.add_trace(go.Scatter(x=pre["month"], y=pre["fitted"], mode="lines", line=dict(color=FIT, width=2.5),
                                 name=t("ret_fitted", lang), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=post["month"], y=post["fitted"], mode="lines", line=dict(color=FIT, width=2.5),
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=post["month"], y=post["counterfactual"], mode="lines",
                                 line=dict(color=COUNTER, width=1.5, dash="dash"), name=t("ret_counterfactual", lang),
                                 hoverinfo="skip"))
    _intervention_line(fig, view)
    fig.update_xaxes(gridcolor="#eee", dtick="M6", tickformat="%Y-%m")
    fig.update_yaxes(title=_unit(view), gridcolor="#eee", rangemode="tozero")
    return _layout(fig, 360, legend=dict(orientation="h", y=-0.2))


def fig_centres(tbl: pd.DataFrame, view: ReturnsView) -> go.Figure:
    """Heatmap of the shown count per centre and month; hidden cells (1-4) grey."""
    lang = view.lang
    wide = tbl.pivot(index="centre", columns="month", values="count").sort_index(ascending=False)
    hidden = tbl.pivot(index="centre", columns="month", values="hidden").reindex_like(wide).fillna(True).astype(bool)
    z = wide.to_numpy(dtype=float)
    hover = [[f"{c} {m:%Y-%m}: " + (t("suppressed", lang) if hidden.iat[i, j] else numbers.integer(z[i, j], lang))
              for j, m in enumerate(wide.columns)] for i, c in enumerate(wide.index)]
    fig = go.Figure(go.Heatmap(z=z, x=list(wide.columns), y=list(wide.index), colorscale="YlGnBu", xgap=1, ygap=1,
                               hovertext=hover, hoverinfo="text", hoverongaps=True,
                               colorbar=dict(title=dict(text=_measure_name(view), side="right"), thickness=12)))
    _intervention_line(fig, view)
    fig.update_xaxes(dtick="M6", tickformat="%Y-%m")
    chosen = set(tbl.loc[tbl["producer_id"] == view.centre, "centre"]) if view.centre else set()
    fig.update_yaxes(automargin=True, tickmode="array", tickvals=list(wide.index),
                     ticktext=[f"<b>▶ {c}</b>" if c in chosen else c for c in wide.index])
    return _layout(fig, 100 + 34 * len(wide.index), plot_bgcolor="#d9d9d9")


def fig_spread(tbl: pd.DataFrame, view: ReturnsView) -> go.Figure:
    """Monthly rate per 1,000 referrals by centre, before and after: boxes with every month as a point."""
    fig = go.Figure()
    lang = view.lang
    order = sorted(tbl["centre"].unique())
    for period, colour in (("before", BEFORE), ("after", AFTER)):
        d = tbl[(tbl["period"] == period) & ~tbl["hidden"]]
        fig.add_trace(go.Box(y=d["centre"], x=d["rate"], name=t(f"ret_{period}", lang), orientation="h",
                             marker=dict(color=colour, size=4), line=dict(color=colour), boxpoints="all", jitter=0.4,
                             pointpos=0, hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    fig.update_layout(boxmode="group")
    fig.update_xaxes(title=_unit(view), gridcolor="#eee", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1], automargin=True)
    return _layout(fig, 120 + 42 * len(order), legend=dict(orientation="h", y=-0.12))


def stamp(fig: go.Figure, chart_key: str, view: ReturnsView) -> go.Figure:
    """The figure's standalone title: chart and measure; exam type, centre and intervention date; source."""
    from atlas import titles

    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    context = [label("exam_type", view.exam, lang) if view.exam else t("ret_all_exams", lang),
               str(c.get(view.centre, view.centre)) if view.centre else t("ret_all_centres", lang),
               f"{t('ret_intervention_date', lang)} {view.date}", _unit(view)]
    return titles.stamp(fig, f"{t(chart_key, lang)}: {_measure_name(view)}", context, lang, file_stem(t(chart_key, lang), view))


def file_stem(title: str, view: ReturnsView) -> str:
    """A file name that says what the file holds: chart, measure, exam type, centre, intervention, language."""
    from atlas.titles import slug

    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    parts = [t("file_prefix", lang), title, _measure_name(view),
             label("exam_type", view.exam, lang) if view.exam else t("ret_all_exams", lang),
             str(c.get(view.centre, view.centre)) if view.centre else t("ret_all_centres", lang),
             f"{t('ret_intervention', lang)} {view.date}", lang]
    return "_".join(slug(p) for p in parts)[:180]


# ---------------------------------------------------------------- CSV

def _fmt(x, digits=2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}"


def header_rows(view: ReturnsView, title: str, r: dict | None = None, no_fit: str | None = None) -> list[list[str]]:
    lang = view.lang
    c = centres().set_index("producer_id")["centre"]
    rows = csv_header(lang, title, [
        [t("ret_measure", lang), _measure_name(view) + " · " + _unit(view)],
        [t("ret_exam", lang), label("exam_type", view.exam, lang) if view.exam else t("all", lang)],
        [t("ret_centre", lang), f"{c.get(view.centre, view.centre)} ({view.centre})" if view.centre else t("all", lang)],
        [t("ret_intervention", lang), view.date],
    ], "/returns", view.to_hash(), t("ret_key_note", lang))
    if no_fit:
        rows.append([t("ret_method", lang), no_fit])
    if r is not None:
        rows.append([t("ret_method", lang), t("ret_method_text", lang).format(lags=r["lags"], n=r["n"], filled=r["n_filled"])])
        for row in its_table(r, lang).itertuples(index=False):
            rows.append([row.term, f"{numbers.decimal(row.estimate, 3, lang)} ({numbers.decimal(row.lower, 3, lang)} "
                         f"{t('to_word', lang)} {numbers.decimal(row.upper, 3, lang)})"
                         + ("" if row.p is None or (isinstance(row.p, float) and math.isnan(row.p))
                            else f"; p = {numbers.decimal(row.p, 3, lang, grouping=False)}")])
    return rows


def chart_csv(chart: str, view: ReturnsView) -> tuple[bytes, str]:
    """The CSV of one chart of the returns page and its file name."""
    lang = view.lang
    r, no_fit = None, None
    if chart == "exam":
        d = by_exam(view)
        body = d.assign(month=d["month"].dt.strftime("%Y-%m"),
                        exam_type=[label("exam_type", e, lang) for e in d["exam_type"]])
        title = t("ret_chart_exam", lang)
    elif chart == "its":
        s, r = its(view)
        no_fit = no_fit_text(s, lang) if r is None else (t("fitted_clamped", lang) if s.attrs.get("clamped") else None)
        body = s.assign(month=s["month"].dt.strftime("%Y-%m"))[
            ["month", "period", "referrals", "count", "rate", "fill", "fitted", "counterfactual"]]
        title = t("ret_chart_its", lang)
    elif chart == "centres":
        d = by_centre(view)
        body = d.assign(month=d["month"].dt.strftime("%Y-%m"))[
            ["producer_id", "centre", "month", "period", "referrals", "count", "rate", "hidden"]]
        title = t("ret_chart_centres", lang)
    elif chart == "summary":
        body = centre_summary(view)
        title = t("ret_chart_spread", lang)
    else:
        raise ValueError(chart)
    body = body.copy()
    for col in ("referrals", "count", "referrals_before", "count_before", "referrals_after", "count_after"):
        if col in body:
            body[col] = nullable_ints(body[col])
    for col in ("fitted", "counterfactual"):
        if col in body:
            body[col] = body[col].where(body[col].abs() > 1e-9, 0.0).where(body[col].notna())
    if "hidden" in body:
        body["note"] = body.pop("hidden").map(lambda h: t("suppressed", lang) if h else "")
    if "fill" in body:
        body["note"] = body.pop("fill").map(lambda h: t(_hidden_key(), lang) if h else "")
    name = file_stem(title, view) + ".csv"
    return write_csv(header_rows(view, title, r, no_fit), body, view.sep, lang), name
