"""An intruder with nothing but a browser's view of the atlas: HTTP answers of a served app.

``Intruder`` asks a running server (gunicorn, as ``make serve`` runs it) for the CSV downloads of
the atlas page, exactly as the page's download buttons do (a POST to ``/_dash-update-component``
with the view in the URL hash), and reads back what each file says it holds (its header rows:
years, geography, filters) and its table. It knows what any visitor knows: the address format,
the municipalities of each region, and the numbers the server sent.

``derive`` then runs the attacks an intruder would on those tables (differences between year
ranges, between a region and its municipalities, between everyone and the other values of a
group; a rate times its population; the shape of an interval; expected counts) and returns every
derived number with the cells it claims to give. Scoring against the truth is the test's job.
"""
from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from helpers import split_download
import requests


@dataclass(frozen=True)
class Shown:
    """One downloaded table as the file describes it."""

    years: tuple[int, int]
    level: str                   # municipality, region or region2027
    filters: str                 # the file's own filter text
    rates: str
    table: pd.DataFrame          # indexed by area code (0 = Denmark); count/denominator NaN when hidden


class Intruder:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        self.deps = self.http.get(self.url + "/_dash-dependencies", timeout=60).json()
        self.requests = 0

    def download(self, url_hash: str, chart: str = "map") -> bytes:
        """What clicking a chart's CSV button gives, for the view in ``url_hash``."""
        d = next(x for x in self.deps if x["output"].endswith(".data") and '"download"' in x["output"])
        payload = {
            "output": d["output"],
            "outputs": {"id": {"chart": chart, "type": "download"}, "property": "data"},
            "inputs": [{"id": {"chart": chart, "type": "download-btn"}, "property": "n_clicks", "value": 1}],
            "changedPropIds": [json.dumps({"chart": chart, "type": "download-btn"}, separators=(",", ":")) + ".n_clicks"],
            "state": [{"id": "view", "property": "data", "value": url_hash},
                      {"id": "atlas-url", "property": "search", "value": ""}],
        }
        r = self.http.post(self.url + "/_dash-update-component", json=payload, timeout=120)
        self.requests += 1
        r.raise_for_status()
        data = next(iter(r.json()["response"].values()))["data"]
        return base64.b64decode(data["content"]) if data.get("base64") else data["content"].encode()

    def shown(self, url_hash: str) -> Shown:
        return read_download(self.download(url_hash))

    def many(self, hashes: list[str], threads: int = 4) -> list[Shown]:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(self.shown, hashes))


def read_download(content: bytes) -> Shown:
    text = content.decode("utf-8-sig")
    head, body = split_download(text)
    rows = {r[0]: r[1] for r in csv.reader(io.StringIO(head)) if len(r) >= 2}
    from atlas.i18n import t

    years = [int(y) for y in re.findall(r"\d{4}", rows[t("years", "en")])]
    y0, y1 = years[0], years[-1]
    table = pd.read_csv(io.StringIO(body), dtype={"count": "Float64", "denominator": "Float64"})
    table = table.set_index("code")
    for c in ("count", "denominator"):
        table[c] = table[c].astype(float)
    level_text = rows[t("level", "en")]
    level = ("region2027" if "2027" in level_text else "region" if level_text.startswith("Region")
             else "municipality")
    return Shown((y0, y1), level, rows[t("filters", "en")], rows[t("standardise", "en")], table)


# ---------------------------------------------------------------- reading numbers out of a table

def interval_count(value: np.ndarray, lower: np.ndarray, upper: np.ndarray, max_count: int = 20000) -> np.ndarray:
    """The count O whose exact Poisson interval has the shape (value - lower) / (upper - value) of
    the shown interval: that shape depends on O alone when an interval is the count's own interval
    rescaled. NaN where there is no interval."""
    from etl import stats

    o = np.arange(1, max_count, dtype=float)
    ci = stats.poisson_ci(o)
    ref = (o - ci.lower) / (ci.upper - o)
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = (value - lower) / (upper - value)
    out = np.full(len(shape), np.nan)
    ok = np.isfinite(shape)
    out[ok] = o[np.abs(ref[None, :] - shape[ok, None]).argmin(axis=1)]
    return out


def readings(s: Shown, per: float) -> dict[str, pd.Series]:
    """Each way an intruder reads a number per area from one table: events (the count, the crude
    rate times the population, the interval's shape, the expected count) and persons."""
    t = s.table
    out = {"count": t["count"], "population": t["denominator"]}
    if "expected" in t:
        out["expected"] = t["expected"]
    from atlas.i18n import t as text

    if s.rates == text("std_crude", "en"):
        out["rate x population"] = t["value"] * t["denominator"] / per
    out["interval shape"] = pd.Series(interval_count(t["value"].to_numpy(float), t["lower"].to_numpy(float),
                                                     t["upper"].to_numpy(float)), index=t.index)
    return out


# ---------------------------------------------------------------- the attacks

@dataclass(frozen=True)
class Derived:
    family: str
    reading: str
    years: tuple[int, ...]       # the years the derived number counts
    filters: str
    codes: tuple[int, ...]       # the areas it counts together (municipalities, a region, 0 = Denmark)
    value: float


def _unknown(x) -> bool:
    return x is None or not np.isfinite(x)


def derive(tables: list[Shown], per: float, regions: dict[int, list[int]], groups: dict[str, list[str]]) -> list[Derived]:
    """Every number the attacks give. ``regions`` maps a region's code to its municipalities,
    ``groups`` a group to its values' filter texts (as the files spell them)."""
    reads = [readings(s, per) for s in tables]
    years = [frozenset(range(s.years[0], s.years[1] + 1)) for s in tables]
    index = {(s.years, s.level, s.filters, s.rates): i for i, s in enumerate(tables)}
    out: list[Derived] = []

    def add(family, reading, ys, filters, codes, value):
        out.append(Derived(family, reading, tuple(sorted(ys)), filters, tuple(int(c) for c in codes), float(value)))

    for i, s in enumerate(tables):
        for name, r in reads[i].items():
            # read directly: a number shown where the count is hidden
            if name != "count":
                for code in r.index[s.table["count"].isna() & r.notna()]:
                    add(name, name, years[i], s.filters, (code,), r[code])
            # Denmark minus its areas (municipalities or regions)
            hidden = [c for c in r.index if c != 0 and _unknown(r[c])]
            if hidden and 0 in r.index and not _unknown(r[0]):
                add("Denmark minus its areas", name, years[i], s.filters, hidden, r[0] - r.drop([0, *hidden]).sum())
            # a region minus its municipalities
            j = index.get((s.years, "region", s.filters, s.rates)) if s.level == "municipality" else None
            if j is None:
                continue
            reg = reads[j].get(name)
            for region, munis in regions.items():
                parts = r.reindex(munis)          # an area missing from the file is unknown too
                hidden = list(parts.index[parts.isna()])
                if hidden and reg is not None and region in reg.index and not _unknown(reg[region]):
                    add("region minus its municipalities", name, years[i], s.filters, hidden,
                        reg[region] - parts.sum())

    # a longer range minus a shorter one inside it (same geography, filters and rates)
    for (i, a), (j, b) in itertools.permutations(enumerate(tables), 2):
        if (a.level, a.filters, a.rates) != (b.level, b.filters, b.rates) or not years[j] < years[i]:
            continue
        for name, ra in reads[i].items():
            if name in reads[j]:
                for code, v in (ra - reads[j][name].reindex(ra.index)).dropna().items():
                    add("year differences", name, years[i] - years[j], a.filters, (code,), v)

    # everyone minus the other values of a group (same years, geography and rates)
    everyone_text = next(iter({s.filters for s in tables} - {v for vs in groups.values() for v in vs}), None)
    for i, s in enumerate(tables):
        if s.filters != everyone_text:
            continue
        for values in groups.values():
            parts = [index.get((s.years, s.level, v, s.rates)) for v in values]
            if None in parts:
                continue
            for name, total in reads[i].items():
                if any(name not in reads[j] for j in parts):
                    continue
                frame = pd.concat([reads[j][name].rename(v) for j, v in zip(parts, values)], axis=1)
                frame = frame.reindex(total.index)
                for code, row in frame.iterrows():
                    hidden = [v for v in values if _unknown(row[v])]
                    if len(hidden) == 1 and not _unknown(total[code]):
                        add("everyone minus the other values of a group", name, years[i], hidden[0], (code,),
                            total[code] - row.drop(hidden).sum())
    return out


# ---------------------------------------------------------------- the auditor's LP and integer attack
#
# Written from the table definitions (what each count counts, how areas, years and groups nest),
# not from the release code: a published cell is (quantity, level, code, y0, y1, filters) with its
# value, NaN when hidden. The relations an auditor derives:
#   geography   a region, a 2027 region and Denmark are the sums of their municipalities; a 2027
#               region is the sum of the 2007 regions lying wholly inside it (an identity for
#               Nordjylland, Midtjylland, Syddanmark; Østdanmark = Hovedstaden + Sjælland);
#               Denmark is the sum of the regions and of the 2027 regions;
#   years       a range is the sum of its single years;
#   groups      everyone is the sum of a group's values;
#   subsets     a count of a subset of another count's records is at most that count.
# Hidden cells are whole numbers of at least 1 (zeros are published). For every hidden cell the
# largest value consistent with all of it is found by linear programming and, exactly, by integer
# programming (HiGHS through scipy).

SUBSET_OF = {  # quantity -> the quantities it counts a subset of (same area, years and filters)
    "low_value": ("episode", "first", "imaging"),
    "episode": ("first", "imaging"),
    "first": ("imaging", "persons"),
    "private": ("imaging",),
    "surgery_short": ("surgery_long", "imaging"),
    "surgery_long": ("imaging",),
    "rehab_short": ("rehab_long", "imaging"),
    "rehab_long": ("imaging",),
    "xray_then_mri": ("imaging",),
    "repeat_mri": ("imaging",),
}


def _twins(municipalities: pd.DataFrame) -> dict[int, list[int]]:
    """2027 region -> the 2007 regions it is made of (each lying wholly inside it)."""
    out = {}
    for r27, g in municipalities.groupby("region2027_code"):
        regions = sorted(g["region_code"].unique())
        if all(set(municipalities.loc[municipalities["region_code"] == r, "region2027_code"]) == {r27} for r in regions):
            out[int(r27)] = [int(r) for r in regions]
    return out


def relations(cells: pd.DataFrame, municipalities: pd.DataFrame, groups: dict[str, list[str]],
              everyone: str) -> tuple[list[dict], list[dict]]:
    """(equalities, inequalities) over the rows of ``cells``: each a dict row -> coefficient with
    sum(coef * value) == 0 (resp. <= 0)."""
    key = {tuple(r): i for i, r in enumerate(cells[["quantity", "level", "code", "y0", "y1", "filters"]].itertuples(index=False))}
    eq, le = [], []

    def rel(parent, children, store):
        if parent in key and children and all(ch in key for ch in children):
            row = {key[parent]: -1.0}
            for ch in children:
                row[key[ch]] = row.get(key[ch], 0.0) + 1.0
            store.append(row)

    mun = municipalities
    parents = [("region", "region_code"), ("region2027", "region2027_code")]
    twins = _twins(mun)
    combos = cells[["quantity", "y0", "y1", "filters"]].drop_duplicates().itertuples(index=False)
    for q, y0, y1, f in combos:
        for level, col in parents:
            for code, g in mun.groupby(col):
                rel((q, level, int(code), y0, y1, f), [(q, "municipality", int(m), y0, y1, f) for m in g["code"]], eq)
        rel((q, "denmark", 0, y0, y1, f), [(q, "municipality", int(m), y0, y1, f) for m in mun["code"]], eq)
        for level, col in parents:
            rel((q, "denmark", 0, y0, y1, f), [(q, level, int(c), y0, y1, f) for c in mun[col].unique()], eq)
        for r27, regions in twins.items():
            rel((q, "region2027", r27, y0, y1, f), [(q, "region", r, y0, y1, f) for r in regions], eq)
    for q, level, code, f in cells[["quantity", "level", "code", "filters"]].drop_duplicates().itertuples(index=False):
        spans = cells[(cells.quantity == q) & (cells.level == level) & (cells.code == code) & (cells.filters == f)]
        for y0, y1 in spans[spans.y1 > spans.y0][["y0", "y1"]].drop_duplicates().itertuples(index=False):
            rel((q, level, code, y0, y1, f), [(q, level, code, y, y, f) for y in range(y0, y1 + 1)], eq)
    for q, level, code, y0, y1 in cells[["quantity", "level", "code", "y0", "y1"]].drop_duplicates().itertuples(index=False):
        for values in groups.values():
            rel((q, level, code, y0, y1, everyone), [(q, level, code, y0, y1, v) for v in values], eq)
    for (q, level, code, y0, y1, f), i in key.items():
        for big in SUBSET_OF.get(q, ()):
            j = key.get((big, level, code, y0, y1, f))
            if j is not None:
                le.append({i: 1.0, j: -1.0})
    return eq, le


@dataclass(frozen=True)
class Bound:
    row: int
    lp_max: float
    int_max: float
    lp_min: float


def attack_lp(values: np.ndarray, eq: list[dict], le: list[dict], targets: list[int],
              integer: bool = True) -> list[Bound]:
    """The largest (LP and integer) and smallest (LP) value of each target hidden cell."""
    from scipy import optimize, sparse

    hidden = np.flatnonzero(np.isnan(values))
    pos = {int(h): k for k, h in enumerate(hidden)}

    def matrix(rows):
        r, c, v, rhs = [], [], [], []
        for i, row in enumerate(rows):
            shown = sum(coef * values[j] for j, coef in row.items() if j not in pos)
            for j, coef in row.items():
                if j in pos:
                    r.append(i), c.append(pos[j]), v.append(coef)
            rhs.append(-shown)
        return sparse.csr_matrix((v, (r, c)), shape=(len(rows), hidden.size)), np.asarray(rhs, dtype=float)

    eq = [r for r in eq if any(j in pos for j in r)]
    le = [r for r in le if any(j in pos for j in r)]
    A_all, b_all = matrix(eq)
    G_all, h_all = matrix(le)
    # each target on its own component of linked hidden cells
    from scipy.sparse import csgraph

    M = sparse.vstack([abs(A_all), abs(G_all)]).tocsr()
    nr = M.shape[0]
    graph = sparse.bmat([[None, M], [M.T, None]], format="csr") if nr else sparse.csr_matrix((hidden.size, hidden.size))
    _, lab = csgraph.connected_components(graph, directed=False)
    var_lab, row_lab = (lab[nr:], lab[:nr]) if nr else (lab, lab[:0])
    out = []
    for t in targets:
        comp = var_lab[pos[t]]
        v = np.flatnonzero(var_lab == comp)
        ra = np.flatnonzero(row_lab[:A_all.shape[0]] == comp)
        rg = np.flatnonzero(row_lab[A_all.shape[0]:] == comp)
        A, b, G, h = A_all[ra][:, v], b_all[ra], G_all[rg][:, v], h_all[rg]
        eq, le = list(ra), list(rg)
        k = int(np.flatnonzero(v == pos[t])[0])
        bounds = np.column_stack([np.ones(v.size), np.full(v.size, np.inf)])
        obj = np.zeros(v.size)
        obj[k] = 1.0
        kw = dict(A_eq=A if len(eq) else None, b_eq=b if len(eq) else None,
                  A_ub=G if len(le) else None, b_ub=h if len(le) else None, bounds=bounds, method="highs")
        hi = optimize.linprog(-obj, **kw)
        lo = optimize.linprog(obj, **kw)
        lp_max = np.inf if hi.status == 3 else -hi.fun
        lp_min = lo.fun if lo.status == 0 else np.nan
        int_max = lp_max
        if integer and np.isfinite(lp_max):
            cons = [optimize.LinearConstraint(A, b, b)] if len(eq) else []
            if len(le):
                cons.append(optimize.LinearConstraint(G, -np.inf, h))
            m = optimize.milp(-obj, constraints=cons, integrality=np.ones(v.size),
                              bounds=optimize.Bounds(np.ones(v.size), np.full(v.size, np.inf)))
            int_max = -m.fun if m.status == 0 else lp_max
        out.append(Bound(int(t), float(lp_max), float(int_max), float(lp_min)))
    return out


def disclosed(bounds: list[Bound], min_count: int = 5) -> list[Bound]:
    """Targets proven below ``min_count`` (by LP or exactly) or pinned."""
    return [b for b in bounds if b.lp_max < min_count - 1e-6 or b.int_max < min_count - 1e-6
            or abs(b.lp_max - b.lp_min) < 1e-6]
