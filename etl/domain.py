"""The domain of the atlas, defined once: measures, dimensions, geography levels, base counts.

Read by the marts, the release (``etl.release``), the estimate engine (``etl.estimates``) and the
app (``atlas.measures`` and ``atlas.filters`` re-export these names). ``etl`` never imports the app.

*Dimensions* come from the vocabularies (``etl/config/vocabularies.toml``): a filter's URL key, its
cube column, its codes, and whether it divides the population too (a population group) or only the
imaging (an event filter). *Base counts* are what the release publishes cells of: the population
and the imaging cube's counts the measures use (``etl.marts.IMAGING_MEASURES`` defines them in SQL).

A *measure* is a rate (events per 1,000 adults per year; the population cube is the denominator;
age- and sex-standardised) or a share (a percentage of imaging or of episodes; it ignores the filter
on the dimension it splits: the MRI share ignores the modality filter). ``estimates`` says whether
the atlas computes estimates (rates, shares, intervals, flags) for it; a measure without them is
not offered.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    key: str
    kind: str                      # "rate" | "share"
    numerator: str                 # measure name in the imaging cube (n_<name>)
    denominator: str = "population"  # "population" or a measure name in the imaging cube
    numerator_where: dict = field(default_factory=dict)   # extra event filter on the numerator only
    denominator_where: dict = field(default_factory=dict) # extra event filter on numerator and denominator
    ignores: tuple = ()            # event filters this measure does not apply
    en: str = ""
    da: str = ""
    definition_en: str = ""
    definition_da: str = ""
    estimates: bool = True         # the atlas computes and publishes estimates of it

    @property
    def per(self) -> int:
        return 1000 if self.kind == "rate" else 100

    def name(self, lang: str) -> str:
        return self.da if lang == "da" else self.en

    def definition(self, lang: str) -> str:
        return self.definition_da if lang == "da" else self.definition_en


def _share_of(key, column, value, en, da, den_en="all lumbar imaging", den_da="al billeddiagnostik af lænden"):
    dim = {"modality": "modality", "priority": "priority", "referrer": "referrer"}[column]
    return Measure(key, "share", "imaging", "imaging", {column: value}, {}, (dim,), en, da,
                   f"{en}: imaging with {column} = {value} as a percentage of {den_en} in the selection.",
                   f"{da}: billeddiagnostik med {column} = {value} i procent af {den_da} i udvalget.")


MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("imaging_rate", "rate", "imaging", en="Lumbar imaging per 1,000 adults", da="Billeddiagnostik af lænden pr. 1.000 voksne",
            definition_en="Lumbar spine X-ray and MRI procedures (SKS code list) per 1,000 residents aged 18+ on 1 January, per year.",
            definition_da="Røntgen- og MR-undersøgelser af lænden (SKS-kodeliste) pr. 1.000 borgere på 18 år og derover pr. 1. januar, pr. år."),
    Measure("persons_rate", "rate", "first", en="Persons imaged per 1,000 adults", da="Personer undersøgt pr. 1.000 voksne",
            definition_en="Persons with at least one lumbar imaging in the year (first imaging only, so repeat imaging does not count twice) per 1,000 adults.",
            definition_da="Personer med mindst én billeddiagnostisk undersøgelse af lænden i året (kun den første) pr. 1.000 voksne."),
    Measure("lowvalue_rate", "rate", "low_value", en="Potentially low-value imaging per 1,000 adults",
            da="Potentielt lavværdi-billeddiagnostik pr. 1.000 voksne",
            definition_en="First imaging of an episode with no red-flag diagnosis in the year before and back pain first recorded less than 6 weeks before (see Methods), per 1,000 adults.",
            definition_da="Første undersøgelse i et forløb uden røde flag-diagnose i året før og med rygsmerter registreret under 6 uger før (se Metode), pr. 1.000 voksne."),
    _share_of("mri_share", "modality", "mri", "MRI share", "MR-andel"),
    _share_of("acute_share", "priority", "acute", "Acute share", "Akut andel"),
    _share_of("gp_share", "referrer", "gp", "Referred by general practitioner", "Henvist af alment praktiserende læge"),
    _share_of("chiropractor_share", "referrer", "chiropractor", "Referred by chiropractor", "Henvist af kiropraktor"),
    _share_of("specialist_share", "referrer", "specialist", "Referred by practising specialist", "Henvist af praktiserende speciallæge"),
    _share_of("hospital_share", "referrer", "hospital", "Referred by hospital", "Henvist af hospital"),
    Measure("surgery_short_share", "share", "surgery_short", "imaging", en="Spine surgery within 90 days", da="Rygkirurgi inden for 90 dage",
            definition_en="Share of lumbar imaging followed by spine surgery (NOMESCO code list) within 90 days.",
            definition_da="Andel af billeddiagnostik af lænden efterfulgt af rygkirurgi (NOMESCO-kodeliste) inden for 90 dage."),
    Measure("surgery_long_share", "share", "surgery_long", "imaging", en="Spine surgery within 365 days", da="Rygkirurgi inden for 365 dage",
            definition_en="Share of lumbar imaging followed by spine surgery within 365 days.",
            definition_da="Andel af billeddiagnostik af lænden efterfulgt af rygkirurgi inden for 365 dage."),
    Measure("rehab_short_share", "share", "rehab_short", "imaging", en="Rehabilitation plan within 90 days", da="Genoptræningsplan inden for 90 dage",
            definition_en="Share of lumbar imaging followed by a rehabilitation plan within 90 days.",
            definition_da="Andel af billeddiagnostik af lænden efterfulgt af en genoptræningsplan inden for 90 dage."),
    Measure("rehab_long_share", "share", "rehab_long", "imaging", en="Rehabilitation plan within 365 days", da="Genoptræningsplan inden for 365 dage",
            definition_en="Share of lumbar imaging followed by a rehabilitation plan within 365 days.",
            definition_da="Andel af billeddiagnostik af lænden efterfulgt af en genoptræningsplan inden for 365 dage."),
    Measure("lowvalue_share", "share", "low_value", "episode", en="Potentially low-value share of episodes",
            da="Potentielt lavværdi-andel af forløb",
            definition_en="Share of imaging episodes (first imaging after 12 months without one) that were potentially low-value (see Methods).",
            definition_da="Andel af forløb (første undersøgelse efter 12 måneder uden) der var potentielt lavværdi (se Metode)."),
    Measure("xray_then_mri_share", "share", "xray_then_mri", "imaging", denominator_where={"modality": "xray"}, ignores=("modality",),
            en="X-ray followed by MRI within 90 days", da="Røntgen efterfulgt af MR inden for 90 dage",
            definition_en="Share of lumbar X-rays followed by a lumbar MRI within 90 days.",
            definition_da="Andel af røntgenundersøgelser af lænden efterfulgt af MR af lænden inden for 90 dage."),
    Measure("private_share", "share", "private", "imaging", en="Imaging at private clinics", da="Billeddiagnostik på privatklinik",
            definition_en="Share of lumbar imaging done at a private clinic (the producer type of the imaging register: public hospital, private clinic or chiropractor clinic), by the patient's area of residence.",
            definition_da="Andel af billeddiagnostik af lænden udført på en privatklinik (producenttypen i registeret: offentligt sygehus, privatklinik eller kiropraktorklinik), efter patientens bopæl."),
    Measure("private_mri_share", "share", "private", "imaging", denominator_where={"modality": "mri"}, ignores=("modality",),
            en="MRI at private clinics", da="MR på privatklinik",
            definition_en="Share of lumbar MRIs done at a private clinic, by the patient's area of residence.",
            definition_da="Andel af MR af lænden udført på en privatklinik, efter patientens bopæl."),
    Measure("private_xray_share", "share", "private", "imaging", denominator_where={"modality": "xray"}, ignores=("modality",),
            en="X-ray at private clinics", da="Røntgen på privatklinik",
            definition_en="Share of lumbar X-rays done at a private clinic (chiropractors' own X-ray clinics are not counted as private clinics), by the patient's area of residence.",
            definition_da="Andel af røntgen af lænden udført på en privatklinik (kiropraktorers egne røntgenklinikker tælles ikke med), efter patientens bopæl."),
    Measure("repeat_mri_share", "share", "repeat_mri", "imaging", denominator_where={"modality": "mri"}, ignores=("modality",),
            en="Repeat MRI within 12 months", da="Gentagen MR inden for 12 måneder",
            definition_en="Share of lumbar MRIs preceded by another lumbar MRI within 365 days.",
            definition_da="Andel af MR af lænden, hvor der var en anden MR af lænden inden for 365 dage før."),
)}


# ------------------------------------------------------------------ dimensions and levels

def _dimensions() -> dict[str, tuple[str, tuple, bool]]:
    from etl import vocabularies

    return {v.url: (v.name, v.codes, v.population) for v in vocabularies.filters()}


# URL key -> (cube column, allowed values, applies to the population denominators too), from the
# vocabularies (etl/config/vocabularies.toml): a vocabulary's name is its cube column
DIMENSIONS: dict[str, tuple[str, tuple, bool]] = _dimensions()
POPULATION_KEYS = tuple(k for k, (_, _, pop) in DIMENSIONS.items() if pop)
EVENT_KEYS = tuple(k for k, (_, _, pop) in DIMENSIONS.items() if not pop)
# the standardisation strata: sex x age band (cube columns)
STRATA = ("sex", "age_band")

# geography levels: every level of the release, and the ones a reader maps
LEVELS = ("municipality", "region", "region2027", "denmark")
MAP_LEVELS = ("municipality", "region", "region2027")
# what followed an imaging episode (the pathways' outcome dimensions)
OUTCOMES = ("surgery", "rehabilitation", "diagnosis", "none")
OUTCOME_DIMS = ("outcome_short", "outcome_long")

# every dimension a published cell can be split by: URL key -> (cube column, values), in the
# canonical order of a filter-set key
DIMS: dict[str, tuple[str, tuple]] = {
    **{key: (column, tuple(values)) for key, (column, values, _) in DIMENSIONS.items()},
    **{d: (d, OUTCOMES) for d in OUTCOME_DIMS},
}
DIM_ORDER = tuple(DIMS)


# ------------------------------------------------------------------ base counts

def _base_counts() -> dict[str, tuple[str, str]]:
    """base count -> (cube, column summed): the population, the episodes, and every imaging count a
    measure uses as numerator or denominator (each defined in SQL in ``etl.marts.IMAGING_MEASURES``)."""
    from etl.marts import IMAGING_MEASURES

    used = dict.fromkeys(c for m in MEASURES.values() for c in (m.numerator, m.denominator))
    out = {"persons": ("population_cube", "persons"), "episode": ("episode_cube", "n_episodes")}
    for name in used:
        if name in out or name == "population":
            continue
        if name not in IMAGING_MEASURES:
            raise ValueError(f"measure count {name!r} is not defined in etl.marts.IMAGING_MEASURES")
        out[name] = ("imaging_cube", f"n_{name}")
    return out


BASE_COUNTS: dict[str, tuple[str, str]] = _base_counts()


def measures_with_estimates() -> dict[str, Measure]:
    return {k: m for k, m in MEASURES.items() if m.estimates}
