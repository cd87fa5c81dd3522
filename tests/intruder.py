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
    level: str                   # municipality or region
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
    level = "region" if rows[t("level", "en")].startswith("Region") else "municipality"
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
