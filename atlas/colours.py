"""Map colours: the map's own range, fixed classes, significance and clusters.

The modes and their colours are configured in ``etl/config/map_colours.toml``:

- ``own``: a continuous scale over the map's own values (not comparable between maps);
- ``equal`` / ``quantile``: classes fixed over the whole period: equal intervals or quantiles
  (``mapclassify.EqualInterval`` / ``mapclassify.Quantiles``) of the values of every area in every
  year, each year estimated on its own with the view's measure, filters and standardisation; the
  same classes whichever years are shown, so two years' maps compare by eye;
- ``breaks``: classes at breaks set by the reader (``mapclassify.UserDefined``), the same for any
  year or measure;
- ``signif``: the funnel-plot flag (above or below the 99.8 % or 95 % limits, or within);
- ``cluster``: local Moran's I clusters (:mod:`atlas.clusters`), municipalities only.

:func:`colouring` gives a :class:`Colouring`: per area a class number and its label, the
discrete colour scale and the legend. Every value comes from the published (protected) tables.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from atlas import data, queries
from atlas.cache import cached
from atlas.filters import View
from atlas.i18n import t
from etl.settings import CONFIG_DIR

FLAGS = ("high_998", "high_95", "within", "low_95", "low_998")
CLUSTERS = ("high-high", "low-low", "high-low", "low-high", "not significant")


@cached(maxsize=1)
def config() -> dict:
    with open(CONFIG_DIR / "map_colours.toml", "rb") as fh:
        c = tomllib.load(fh)
    k = int(c["classes"]["k"])
    if not 2 <= k <= len(c["classes"]["palette"]):
        raise ValueError("etl/config/map_colours.toml: k must be between 2 and the palette's length")
    return c


@dataclass(frozen=True)
class Colouring:
    mode: str
    classes: pd.Series          # area code -> class number (0..n-1), NaN when not coloured
    labels: tuple               # class number -> legend text
    colours: tuple              # class number -> colour
    bins: tuple = ()            # upper bounds of the value classes (value modes)
    note: str = ""              # why a mode could not be used, if so

    @property
    def colorscale(self) -> list:
        n = len(self.colours)
        out = []
        for i, c in enumerate(self.colours):
            out += [[i / n, c], [(i + 1) / n, c]]
        return out

    def z(self, codes) -> np.ndarray:
        return pd.Series(list(codes)).map(self.classes).to_numpy(dtype=float)

    def label_of(self, code) -> str:
        v = self.classes.get(code, np.nan)
        return "" if pd.isna(v) else str(self.labels[int(v)])

    def colorbar(self, title: str) -> dict:
        n = len(self.colours)
        return dict(title=dict(text=title, side="right"), thickness=12, len=0.8, tickmode="array",
                    tickvals=list(range(n)), ticktext=list(self.labels))

    @property
    def zmin(self) -> float:
        return -0.5

    @property
    def zmax(self) -> float:
        return len(self.colours) - 0.5


def _palette(n: int) -> tuple:
    pal = config()["classes"]["palette"]
    idx = np.round(np.linspace(0, len(pal) - 1, n)).astype(int)
    return tuple(pal[i] for i in idx)


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"


def _period_key(view: View) -> View:
    return replace(view, y0=0, y1=0, area=None, within=None, map="geo", sep=",", lang="en", colours="own",
                   breaks="", tables=0)


@cached(maxsize=64)
def _period_values(view: View) -> np.ndarray:
    parts = []
    for year in data.years():
        yv = replace(view, y0=year, y1=year)
        if not data.source().publishes(yv):          # only years the source has figures of its own for
            continue
        e = queries.area_table(yv)[0]
        parts.append(e.loc[~e["hidden"].astype(bool), "value"].to_numpy(dtype=float))
    v = np.concatenate(parts) if parts else np.array([], dtype=float)
    return v[np.isfinite(v)]


def period_values(view: View) -> np.ndarray:
    """The shown value of every area in every year (the view's measure, filters, level and
    standardisation; each year on its own): what fixed classes are cut from."""
    return _period_values(_period_key(view))


def value_bins(view: View) -> tuple[tuple, str]:
    """Upper bounds of the classes of a value mode and a note ("" when fine)."""
    import mapclassify

    k = int(config()["classes"]["k"])
    if view.colours == "breaks":
        from atlas.filters import parse_breaks

        text = parse_breaks(view.breaks)
        if not text:
            return (), "no_breaks"
        return tuple(float(b) for b in text.split(",")) + (math.inf,), ""
    values = period_values(view)
    if len(np.unique(values)) < k:
        return (), "too_few_values"
    if view.colours == "equal":
        bins = mapclassify.EqualInterval(values, k=k).bins
    else:
        bins = mapclassify.Quantiles(values, k=k).bins
    bins = np.unique(np.asarray(bins, float))
    bins[-1] = math.inf                       # a later pooled value a hair above the period's maximum
    return tuple(float(b) for b in bins), ""


def colouring(view: View, tbl: pd.DataFrame) -> Colouring | None:
    """The colouring of the map for ``view`` and its protected area table; None for ``own``."""
    lang = view.lang
    shown = tbl[~tbl["hidden"].astype(bool)]
    if view.colours in ("equal", "quantile", "breaks"):
        bins, note = value_bins(view)
        if not bins:
            return None if not note else Colouring("own", pd.Series(dtype=float), (), (), (), note)
        import mapclassify

        values = shown["value"].to_numpy(dtype=float)
        ok = np.isfinite(values)
        classes = pd.Series(np.nan, index=shown["code"].to_numpy())
        if ok.any():
            yb = mapclassify.UserDefined(values[ok], list(bins)).yb
            classes.iloc[np.flatnonzero(ok)] = yb
        lows = (-math.inf,) + bins[:-1]
        labels = tuple(f"≤ {_fmt(hi)}" if i == 0 else (f"> {_fmt(lo)}" if not math.isfinite(hi) else
                                                       f"{_fmt(lo)}–{_fmt(hi)}")
                       for i, (lo, hi) in enumerate(zip(lows, bins)))
        return Colouring(view.colours, classes, labels, _palette(len(bins)), bins)
    if view.colours == "signif":
        c = config()["significance"]
        idx = {f: i for i, f in enumerate(FLAGS)}
        classes = pd.Series(shown["flag"].map(idx).to_numpy(dtype=float), index=shown["code"].to_numpy())
        return Colouring("signif", classes, tuple(t(f, lang) for f in FLAGS), tuple(c[f] for f in FLAGS))
    if view.colours == "cluster":
        if view.level != "municipality":
            return Colouring("own", pd.Series(dtype=float), (), (), (), "cluster_municipalities")
        from atlas import clusters

        c = config()["clusters"]
        lab = clusters.clusters_of(view)
        idx = {k: i for i, k in enumerate(CLUSTERS)}
        classes = pd.Series(shown["code"].map(lab).map(idx).to_numpy(dtype=float), index=shown["code"].to_numpy())
        return Colouring("cluster", classes, tuple(t("cl_" + k.replace(" ", "_").replace("-", "_"), lang) for k in CLUSTERS),
                         tuple(c[k] for k in CLUSTERS))
    return None


def clear_caches() -> None:
    _period_values.cache_clear()
