"""Everything the atlas publishes in one download: a zip of CSVs, one per measure, each with the
same header items as the chart downloads (:func:`atlas.export.header_rows`) and a table of every area
of every level and period the database serves (published as asked: a view the release does not
hold is left out, never moved), with Denmark's row; and a codebook of the columns. Each data file's
first line is its header line (it opens in one step); the header items of every file stand in
``about.csv``, one row per file. With ``descriptive`` (``header=1`` in the page's address) every
file opens with its header rows instead, as the chart downloads then do.

Read through :func:`atlas.queries.area_table` only, so the release's published estimates (or the
protected tables of the secure database), never more.
"""
from __future__ import annotations

import io
import zipfile

import pandas as pd

from atlas import export
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
    ("denominator", "Shown denominator: adults (rates) or imaging/episodes (shares)",
     "Vist nævner: voksne (rater) eller undersøgelser/forløb (andele)"),
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
    ("break", "True for the first year counted differently from the year before (a register break, e.g. LPR2 to "
              "LPR3 in 2019: see Methods), and for a period that mixes years before and after one",
     "True for det første år talt anderledes end året før (et brud i registret, fx LPR2 til LPR3 i 2019: se "
     "Metode) og for en periode, der blander år før og efter et brud"),
]


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
    br = coverage.breaks(measure)
    # a single year: the first year counted anew; a period: one that mixes years before and after a break
    body["break"] = [bool(coverage.spans_break(y0 - (y0 == y1), y1, br))
                     for y0, y1 in ((int(p.split("-")[0]), int(p.split("-")[-1])) for p in body["period"])]
    return body


def codebook_header(lang: str, sep: str) -> list[list[str]]:
    return export.header_rows(View(lang=lang, sep=sep), "Codebook" if lang == "en" else "Kodebog")


def codebook_csv(lang: str, sep: str, descriptive: bool = True) -> bytes:
    table = pd.DataFrame([(c, da if lang == "da" else en) for c, en, da in CODEBOOK], columns=["column", "meaning"])
    measures = pd.DataFrame([(f"measure: {k}", f"{m.name(lang)}. {m.definition(lang)}") for k, m in MEASURES.items()],
                            columns=["column", "meaning"])
    return export.write_csv(codebook_header(lang, sep), pd.concat([table, measures], ignore_index=True), sep,
                            descriptive=descriptive, about=descriptive)


@cached(maxsize=4)
def zip_bytes(lang: str = "en", sep: str = ",", descriptive: bool = False) -> bytes:
    """The zip: ``codebook.csv`` and ``<measure>.csv`` for every measure, and (flat files) ``about.csv``."""
    buf = io.BytesIO()
    about = [("codebook.csv", codebook_header(lang, sep))]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("codebook.csv", codebook_csv(lang, sep, descriptive))
        for key, m in MEASURES.items():
            header = export.header_rows(View(measure=key, lang=lang, sep=sep), m.name(lang))
            for row in header:
                if row[:1] == [t("years", lang)]:
                    row[1:] = ["All published periods (column period)" if lang == "en"
                               else "Alle offentliggjorte perioder (kolonnen period)"]
                elif row[:1] == [t("level", lang)]:
                    row[1:] = ["All levels (column level)" if lang == "en" else "Alle niveauer (kolonnen level)"]
            z.writestr(f"{key}.csv", export.write_csv(header, measure_table(key, lang), sep,
                                                      descriptive=descriptive, about=descriptive))
            about.append((f"{key}.csv", header))
        if not descriptive:
            rows = [{"file": name, **dict(export.header_columns(header, lang, taken=["file"]))} for name, header in about]
            z.writestr("about.csv", export.write_csv([], pd.DataFrame(rows), sep, descriptive=False, about=False))
    return buf.getvalue()
