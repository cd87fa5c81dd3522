"""Everything the atlas publishes in one download: a zip of CSVs, one per measure, each with the
same header rows as the chart downloads (:func:`atlas.export.header_rows`) and a table of every area
of every level and period the database serves (published as asked: a view the release does not
hold is left out, never moved), with Denmark's row; and a codebook of the columns.

Read through :func:`atlas.queries.area_table` only, so the release's published estimates (or the
protected tables of the secure database), never more.
"""
from __future__ import annotations

import io
import zipfile

import pandas as pd

from atlas import export, profile, queries
from atlas.cache import cached
from atlas.filters import View
from atlas.i18n import t
from atlas.measures import MEASURES

LEVELS = ("municipality", "region", "region2027")
CODEBOOK = [
    ("period", "Years of the figure (one year, or a published multi-year period)", "År (ét år eller en offentliggjort flerårsperiode)"),
    ("level", "Geography: municipality, region, region2027 or denmark", "Geografi: kommune, region, region fra 2027 eller Danmark"),
    ("code", "Area code (DAGI); 0 is Denmark", "Områdekode (DAGI); 0 er Danmark"),
    ("name", "Area name", "Områdenavn"),
    ("count", "Numerator (empty when hidden or not published)", "Tæller (tom når skjult eller ikke offentliggjort)"),
    ("denominator", "Shown denominator: adults (rates) or imaging/episodes (shares)", "Vist nævner: voksne (rater) eller undersøgelser/forløb (andele)"),
    ("value", "Rate per 1,000 adults per year (age- and sex-standardised, ESP 2013) or share in %",
     "Rate pr. 1.000 voksne pr. år (alders- og kønsstandardiseret, ESP 2013) eller andel i %"),
    ("lower", "Lower limit of the 95% interval", "Nedre grænse for 95 %-intervallet"),
    ("upper", "Upper limit of the 95% interval", "Øvre grænse for 95 %-intervallet"),
    ("expected", "Expected count (indirect standardisation against Denmark)", "Forventet antal (indirekte standardisering mod Danmark)"),
    ("funnel_flag", "Against Denmark: above or below the 99.8% or 95% funnel limits, within them, not tested "
     "(no comparison published), or hidden", "Mod Danmark: over eller under tragtens 99,8 %- eller 95 %-grænser, inden "
     "for dem, ikke testet (ingen sammenligning offentliggjort) eller skjult"),
    ("note", "Why a figure is missing: hidden (a count of 1-4, or to protect one), not published at this detail, "
     "too few events for a standardised rate, nobody in the selection", "Hvorfor et tal mangler: skjult (et antal "
     "på 1-4, eller for at beskytte et), ikke offentliggjort i denne detalje, for få hændelser til en standardiseret "
     "rate, ingen i udvalget"),
    ("complete", "False when the period holds a year whose follow-up or look-back window is incomplete",
     "False når perioden rummer et år med ufuldstændigt opfølgnings- eller tilbageblik-vindue"),
]


def offered_periods() -> list[tuple[int, int]]:
    """On the secure database: the profiles' periods (the release's plan); the release's own
    periods are read from it."""
    return profile.periods()


def measure_table(measure: str, lang: str) -> pd.DataFrame:
    """Every area (and Denmark) of every level and period for one measure, as the chart CSVs show them."""
    from atlas import coverage, data

    tables = data.source().all_tables(measure, lang)
    body = export._public(tables, lang, ["period", "level", "code", "name"])
    for c in ("count", "denominator"):
        body[c] = pd.Series([None if pd.isna(v) else int(v) for v in body[c]], index=body.index, dtype=object)
    incomplete = coverage.incomplete_years(measure)
    body["complete"] = [coverage.complete(range(int(p.split("-")[0]), int(p.split("-")[-1]) + 1), incomplete)
                        for p in body["period"]]
    return body


def codebook_csv(lang: str, sep: str) -> bytes:
    table = pd.DataFrame([(c, da if lang == "da" else en) for c, en, da in CODEBOOK], columns=["column", "meaning"])
    measures = pd.DataFrame([(f"measure: {k}", f"{m.name(lang)}. {m.definition(lang)}") for k, m in MEASURES.items()],
                            columns=["column", "meaning"])
    header = export.header_rows(View(lang=lang, sep=sep), "Codebook" if lang == "en" else "Kodebog")
    return export.write_csv(header, pd.concat([table, measures], ignore_index=True), sep)


@cached(maxsize=4)
def zip_bytes(lang: str = "en", sep: str = ",") -> bytes:
    """The zip: ``codebook.csv`` and ``<measure>.csv`` for every measure."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("codebook.csv", codebook_csv(lang, sep))
        for key, m in MEASURES.items():
            header = export.header_rows(View(measure=key, lang=lang, sep=sep), m.name(lang))
            for row in header:
                if row[:1] == [t("years", lang)]:
                    row[1:] = ["All published periods (column period)" if lang == "en"
                               else "Alle offentliggjorte perioder (kolonnen period)"]
                elif row[:1] == [t("level", lang)]:
                    row[1:] = ["All levels (column level)" if lang == "en" else "Alle niveauer (kolonnen level)"]
            z.writestr(f"{key}.csv", export.write_csv(header, measure_table(key, lang), sep))
    return buf.getvalue()
