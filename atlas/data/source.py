"""The one interface every page reads its figures through (:func:`atlas.data.source`).

A source is chosen once, from the database's meta (``database_kind``): :class:`SecureSource` for
the secure database (exact figures, inside the secure environment only), :class:`ReleaseSource`
for a release (published figures only). Both answer the same questions with tables of the same
columns (:data:`atlas.data.domain.COLUMNS`, each row with its ``status``), and say what they
publish: measures, levels, periods, filter sets (:meth:`Source.publishes`), and the nearest view
they publish to any asked for (:meth:`Source.nearest`), with what changed.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from atlas.data.domain import YEARLY_TABLE_COLUMNS, yearly_rows
from atlas.filters import LEVELS, View


def yearly_table_by_year(src: "Source", measure: str, level: str) -> pd.DataFrame:
    """The definition of :meth:`Source.yearly_table`, read the slow way: each single year the source
    publishes for everyone at ``level``, one table of areas (:meth:`Source.area_table`) at a time.
    Both sources read all years at once instead, and a parity test keeps them equal to this
    (tests/test_yearly_counts.py)."""
    parts = []
    for year in src.years():
        view = View(measure=measure, level=level, y0=year, y1=year)
        if not src.publishes(view):
            continue
        tbl, _ = src.area_table(view)
        parts.append(yearly_rows(tbl.assign(year=year)))
    return pd.concat(parts, ignore_index=True)[YEARLY_TABLE_COLUMNS] if parts else pd.DataFrame(columns=YEARLY_TABLE_COLUMNS)


class Source:
    kind = ""
    inside_only = False                  # "inside the secure environment only: not output-checked"
    any_range = False                    # answers any range of years (else only its periods)

    # ------------------------------------------------------------ what it publishes
    def years(self) -> list[int]:
        raise NotImplementedError

    def periods(self) -> tuple[str, ...]:
        """Every period with its own figures: single years ("2021") and ranges ("2022-2024")."""
        raise NotImplementedError

    def year_choices(self) -> list[tuple[int, int]]:
        """Every period the year control offers: the single years, then the longer periods."""
        single = [(y, y) for y in self.years()]
        return single + sorted(self.multi_year_periods(), key=lambda ab: (ab[1] - ab[0], ab[0]))

    def multi_year_periods(self) -> list[tuple[int, int]]:
        return [tuple(int(x) for x in p.split("-")) for p in self.periods() if "-" in p]

    def measures(self) -> tuple[str, ...]:
        """The measures with estimates (only these are offered)."""
        raise NotImplementedError

    def levels(self) -> tuple[str, ...]:
        return LEVELS

    def publishes(self, view: View) -> bool:
        return not self.nearest(view)[1]

    def nearest(self, view: View) -> tuple[View, list[str]]:
        """The nearest view the source answers, and what changed ("measure", "period", "level", "filters")."""
        raise NotImplementedError

    def nearest_pathways(self, view: View) -> tuple[View, list[str]]:
        raise NotImplementedError

    def published(self, measure: str) -> tuple[tuple[str, str, str], ...] | None:
        """Every (level, period, filter set key) the source holds figures of ``measure`` for (the
        filter set as ``"sex=2&edu=high"``, "" for everyone); None when it answers any level, range
        of years and combination of filters (the open-data API lists this catalogue)."""
        raise NotImplementedError

    # ------------------------------------------------------------ figures
    def area_table(self, view: View) -> tuple[pd.DataFrame, pd.Series]:
        raise NotImplementedError

    def trend_table(self, view: View, area: int | None) -> pd.DataFrame:
        raise NotImplementedError

    def yearly_counts(self, measure: str, level: str) -> pd.DataFrame:
        """Every single year's numerator and denominator of ``measure`` for everyone, by area of
        ``level``: ``code``, ``name``, ``year``, ``count``, ``population`` (NaN where hidden), sorted by
        year and code; exactly the ``num_shown`` and ``den_shown`` of the tables of areas of the
        single years the source publishes (:meth:`area_table`), read at once (one query, kept)."""
        raise NotImplementedError

    def yearly_table(self, measure: str, level: str) -> pd.DataFrame:
        """Every single year's table of areas of ``measure`` for everyone at ``level``, as
        /recent-trends and the area profile need it: ``code``, ``name``, ``year``, ``count``,
        ``population`` (NaN where hidden), ``flag`` (the funnel flag of the view's default,
        standardised rate; "hidden" where hidden) and ``status``, sorted by year and code; a year the
        source does not publish at ``level`` has no rows. Exactly :func:`yearly_table_by_year`; the
        sources read it at once (one query of all years, kept; a copy for each receiver)."""
        return yearly_table_by_year(self, measure, level)

    def breakdown_view(self, view: View) -> View:
        raise NotImplementedError

    def breakdown_table(self, view: View, area: int | None) -> pd.DataFrame:
        raise NotImplementedError

    def mix_table(self, view: View, area: int | None) -> pd.DataFrame:
        raise NotImplementedError

    def by_referrer(self, view: View, referrers: tuple[str, ...]) -> pd.DataFrame:
        raise NotImplementedError

    def pathways(self, view: View, window: int) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def all_tables(self, measure: str, lang: str) -> pd.DataFrame:
        raise NotImplementedError

    def returns_monthly(self) -> pd.DataFrame:
        raise NotImplementedError

    def peers(self) -> pd.DataFrame | None:
        """Each municipality's comparable municipalities as the build wrote them (table ``peers``:
        ``code``, ``peer``, ``rank``, ``distance``, ``year``, ``config_version``; the same on the
        secure database and the release), or None when the database has no such table (built before
        it existed: the caller works them out from published figures). A fresh copy each call."""
        from atlas import db

        have = db.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'peers'")
        if not int(have["n"].iloc[0]):
            return None
        return db.query("SELECT code, peer, rank, distance, year, config_version FROM peers ORDER BY code, rank")

    def clear_caches(self) -> None:
        pass

    # ------------------------------------------------------------ words
    def note(self, lang: str) -> str:
        """What the figures in front of the reader are (the served database's own rule)."""
        raise NotImplementedError

    def hidden_month_key(self, filled_in_fit: bool = True) -> str:
        """The words for a hidden month: in the regression's chart (left out of the fit) or elsewhere."""
        return "ret_hidden_month" if filled_in_fit else "ret_hidden_month_bars"


class SecureSource(Source):
    kind = "secure"
    inside_only = True
    any_range = True

    def years(self) -> list[int]:
        from atlas.data import secure

        return secure.years()

    def periods(self) -> tuple[str, ...]:
        """Every single year and the plan's multi-year periods within the data (any other range of
        years is answered too: :meth:`nearest` never moves a view)."""
        from etl.release.plan import load_plan

        years = self.years()
        multi = [f"{a}-{b}" for a, b in load_plan().multi_year if a in years and b in years]
        return tuple(str(y) for y in years) + tuple(multi)

    def measures(self) -> tuple[str, ...]:
        """The measures with estimates (the domain registry's flag, ``etl.domain``)."""
        from atlas.measures import measures_with_estimates

        return tuple(measures_with_estimates())

    def nearest(self, view: View) -> tuple[View, list[str]]:
        if view.measure not in self.measures():
            return replace(view, measure=View.measure), ["measure"]
        return view, []

    def nearest_pathways(self, view: View) -> tuple[View, list[str]]:
        return view, []

    def published(self, measure: str):
        return None

    def area_table(self, view):
        from atlas.data import secure

        return secure.area_table(view)

    def trend_table(self, view, area):
        from atlas.data import secure

        return secure.trend_table(view, area)

    def yearly_counts(self, measure, level):
        from atlas.data import secure

        if measure not in self.measures():          # as publishes(): a measure without estimates has no table
            return pd.DataFrame(columns=secure.YEARLY_COLUMNS)
        return secure.yearly_counts(measure, level)

    def yearly_table(self, measure, level):
        from atlas.data import secure

        if measure not in self.measures():          # as publishes(): a measure without estimates has no table
            return pd.DataFrame(columns=YEARLY_TABLE_COLUMNS)
        return secure.yearly_table(measure, level)

    def breakdown_view(self, view):
        from atlas.data import secure

        return secure.breakdown_view(view)

    def breakdown_table(self, view, area):
        from atlas.data import secure

        return secure.breakdown_table(view, area)

    def mix_table(self, view, area):
        from atlas.data import secure

        return secure.mix_table(view, area)

    def by_referrer(self, view, referrers):
        from atlas.data import secure

        return secure.by_referrer(view, referrers)

    def pathways(self, view, window):
        from atlas.data import secure

        return secure.pathways(view, window)

    def all_tables(self, measure: str, lang: str) -> pd.DataFrame:
        from atlas.data.coverage import last_complete_year
        from atlas.i18n import t

        parts = []
        single = last_complete_year(self.years())
        for p in self.multi_year_periods() + [(single, single)]:
            y0, y1 = p
            for level in LEVELS:
                tbl, national = self.area_table(View(measure=measure, level=level, y0=y0, y1=y1, lang=lang))
                nat = [pd.DataFrame([{**national.to_dict(), "code": 0, "name": t("denmark_total", lang),
                                      "level": "denmark"}])] if level == "municipality" else []
                part = pd.concat([tbl.assign(level=level)] + nat, ignore_index=True)
                parts.append(part.assign(period=str(y0) if y0 == y1 else f"{y0}-{y1}"))
        return pd.concat(parts, ignore_index=True)

    def returns_monthly(self) -> pd.DataFrame:
        from atlas import db

        return db.query("SELECT month, exam_type, producer_id, centre, referrals, returned, letters FROM returns_monthly")

    def clear_caches(self) -> None:
        from atlas.data import secure

        secure.clear_caches()

    def note(self, lang: str) -> str:
        from atlas.i18n import t

        return t("inside_only_note", lang)


class ReleaseSource(Source):
    kind = "release"

    def years(self) -> list[int]:
        return sorted(int(p) for p in self.periods() if "-" not in str(p))

    def periods(self) -> tuple[str, ...]:
        from atlas.data import release

        return release.periods()

    def measures(self) -> tuple[str, ...]:
        from atlas.data import release

        return release.measures()

    def nearest(self, view):
        from atlas.data import release

        return release.nearest_published(view)

    def nearest_pathways(self, view):
        from atlas.data import release

        return release.nearest_pathway_view(view)

    def published(self, measure: str):
        from atlas.data import release

        return release.published_views(measure)

    def area_table(self, view):
        from atlas.data import release

        return release.area_table(view)

    def trend_table(self, view, area):
        from atlas.data import release

        return release.trend_table(view, area)

    def yearly_counts(self, measure, level):
        from atlas.data import release

        return release.yearly_counts(measure, level)

    def yearly_table(self, measure, level):
        from atlas.data import release

        return release.yearly_table(measure, level)

    def breakdown_view(self, view):
        from atlas.data import release

        return release.breakdown_view(view)

    def breakdown_table(self, view, area):
        from atlas.data import release

        return release.breakdown_table(view, area)

    def mix_table(self, view, area):
        from atlas.data import release

        return release.mix_table(view, area)

    def by_referrer(self, view, referrers):
        from atlas.data import release

        return release.by_referrer(view, referrers)

    def pathways(self, view, window):
        from atlas.data import release

        return release.pathways(view, window)

    def all_tables(self, measure: str, lang: str) -> pd.DataFrame:
        from atlas.data import release
        from atlas.i18n import t

        tables = release.all_published(measure)
        tables["name"] = tables["name"].where(tables["level"] != "denmark", t("denmark_total", lang))
        return tables

    def returns_monthly(self) -> pd.DataFrame:
        from atlas import db

        # published counts (NaN = hidden) and, per month and exam type, their published sum over
        # centres (producer 'all')
        return db.query("SELECT month, exam_type, producer_id, centre, referrals, returned, letters FROM returns_monthly")

    def clear_caches(self) -> None:
        from atlas.data import release

        release.clear_caches()

    def note(self, lang: str) -> str:
        from atlas.i18n import t

        return t("suppression_note_release", lang)

    def hidden_month_key(self, filled_in_fit: bool = True) -> str:
        return "ret_hidden_month_release" if filled_in_fit else "ret_hidden_month_bars_release"
