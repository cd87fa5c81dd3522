"""Words of the interface in English and Danish.

``t(key, lang)`` gives a text; ``label(dimension, value, lang)`` the name of a code. A missing
Danish text falls back to English, so a new key never breaks the page.
"""
from __future__ import annotations

LANGS = ("en", "da")

TEXT = {
    "title": ("Lumbar spine imaging atlas", "Atlas over billeddiagnostik af lænderyggen"),
    "subtitle": ("How X-ray and MRI of the lower back vary across Denmark",
                 "Hvordan røntgen og MR af lænden varierer i Danmark"),
    "synthetic_banner": ("Synthetic demonstration data: the figures are made up and show no real Danish area.",
                         "Syntetiske demonstrationsdata: tallene er opdigtede og viser ikke virkelige danske områder."),
    "nav_atlas": ("Atlas", "Atlas"),
    "nav_pathways": ("Pathways & low value", "Forløb & lav værdi"),
    "nav_returns": ("Return letters", "Returbreve"),
    "nav_methods": ("Methods", "Metode"),
    "language": ("Dansk", "English"),
    "measure": ("Measure", "Mål"),
    "level": ("Areas", "Områder"),
    "years": ("Years", "År"),
    "standardise": ("Rates", "Rater"),
    "std_dsr": ("Age- and sex-standardised", "Alders- og kønsstandardiseret"),
    "std_crude": ("Crude", "Rå"),
    "std_eb": ("Smoothed toward region (empirical Bayes)", "Udglattet mod region (empirisk Bayes)"),
    "standard_pop": ("Standard population", "Standardbefolkning"),
    "esp2013": ("European Standard Population 2013", "Europæisk standardbefolkning 2013"),
    "denmark": ("Denmark's adult population", "Danmarks voksne befolkning"),
    "map_kind": ("Map", "Kort"),
    "geo_map": ("Geographic", "Geografisk"),
    "tile_map": ("Equal-area tiles", "Lige store felter"),
    "filters": ("Population group and imaging", "Befolkningsgruppe og undersøgelse"),
    "all": ("All", "Alle"),
    "area_search": ("Find a municipality", "Find en kommune"),
    "selected_area": ("Selected area", "Valgt område"),
    "none_selected": ("Click an area on the map or in a chart to follow it in every view.",
                      "Klik på et område på kortet eller i en figur for at følge det i alle visninger."),
    "clear_selection": ("Clear selection", "Ryd valg"),
    "ranking": ("Ranking with 95% intervals", "Rangering med 95 %-intervaller"),
    "funnel": ("Funnel plot: more than chance?", "Tragtdiagram: mere end tilfældighed?"),
    "trend": ("Over the years", "Over årene"),
    "breakdown": ("By population group", "Efter befolkningsgruppe"),
    "mix": ("Modality, priority and referrer", "Modalitet, prioritet og henviser"),
    "followed": ("What followed imaging", "Hvad fulgte efter billeddiagnostik"),
    "variation": ("Variation", "Variation"),
    "download_csv": ("Download CSV", "Hent CSV"),
    "download_png": ("Download map as PNG", "Hent kort som PNG"),
    "separator": ("CSV separator", "CSV-skilletegn"),
    "comma": ("comma", "komma"),
    "semicolon": ("semicolon (Excel, Danish)", "semikolon (Excel, dansk)"),
    "denmark_total": ("Denmark", "Danmark"),
    "rate": ("Rate", "Rate"),
    "count": ("Count", "Antal"),
    "population": ("Population", "Befolkning"),
    "interval": ("95% interval", "95 %-interval"),
    "suppressed": ("hidden (fewer than 5)", "skjult (færre end 5)"),
    "suppression_note": ("Counts from 1 to 4 are hidden, and some further cells are hidden so they cannot be worked out; "
                         "shown counts carry a small random perturbation (at most ±2) so that combining views cannot reveal them.",
                         "Antal fra 1 til 4 er skjult, og enkelte andre celler er skjult, så de ikke kan regnes ud; "
                         "viste antal har en lille tilfældig forstyrrelse (højst ±2), så kombinationer af visninger ikke afslører dem."),
    "credit": ("Contains data from the Danish Agency for Climate Data (DAGI).",
               "Indeholder data fra Klimadatastyrelsen (DAGI)."),
    "eq": ("Extremal quotient (highest / lowest)", "Ekstremkvotient (højeste / laveste)"),
    "eq_min": ("Extremal quotient, areas with ≥ 10 events", "Ekstremkvotient, områder med ≥ 10 hændelser"),
    "cv": ("Coefficient of variation", "Variationskoefficient"),
    "scv": ("Systematic component of variation (×100)", "Systematisk variationskomponent (×100)"),
    "scv_help": ("Near 0: differences are what chance alone would give. Above 5: high, above 10: very high systematic variation.",
                 "Nær 0: forskellene svarer til tilfældighed. Over 5: høj, over 10: meget høj systematisk variation."),
    "outliers": ("Outside 99.8% limits", "Uden for 99,8 %-grænser"),
    "loading": ("Loading…", "Henter…"),
    "bad_url": ("Some settings in the address were not understood and were ignored:",
                "Nogle indstillinger i adressen blev ikke forstået og er ignoreret:"),
    "no_data": ("No figures to show for this selection.", "Ingen tal at vise for dette udvalg."),
    "data_date": ("Data built", "Data dannet"),
    "per_1000": ("per 1,000 adults per year", "pr. 1.000 voksne pr. år"),
    "share_pct": ("per cent", "procent"),
    "national": ("National level", "Landsniveau"),
    "high_998": ("Above 99.8% limit", "Over 99,8 %-grænse"),
    "high_95": ("Above 95% limit", "Over 95 %-grænse"),
    "within": ("Within limits", "Inden for grænserne"),
    "low_95": ("Below 95% limit", "Under 95 %-grænse"),
    "low_998": ("Below 99.8% limit", "Under 99,8 %-grænse"),
    "hidden": ("Hidden", "Skjult"),
    "expected_axis": ("Expected events (size of area)", "Forventede hændelser (områdets størrelse)"),
    "ratio_axis": ("Observed / expected", "Observeret / forventet"),
    "share_of_imaging": ("Share of imaging", "Andel af billeddiagnostik"),
    "skip_to_content": ("Skip to the atlas", "Spring til atlasset"),
    "drill_hint": ("Click a region to see its municipalities.", "Klik på en region for at se dens kommuner."),
    "back_to_regions": ("Back to all areas", "Tilbage til alle områder"),
}

LABELS = {
    "level": {"municipality": ("Municipalities (98)", "Kommuner (98)"), "region": ("Regions (5)", "Regioner (5)"),
              "region2027": ("Regions from 2027 (4)", "Regioner fra 2027 (4)")},
    "sex": {1: ("Men", "Mænd"), 2: ("Women", "Kvinder")},
    "edu": {1: ("Basic school", "Grundskole"), 2: ("Upper secondary / vocational", "Gymnasial / erhvervsfaglig"),
            3: ("Short / medium higher", "Kort / mellemlang videregående"), 4: ("Long higher", "Lang videregående"),
            9: ("Unknown", "Uoplyst")},
    "inc": {1: ("Income quintile 1 (lowest)", "Indkomstkvintil 1 (laveste)"), 2: ("Income quintile 2", "Indkomstkvintil 2"),
            3: ("Income quintile 3", "Indkomstkvintil 3"), 4: ("Income quintile 4", "Indkomstkvintil 4"),
            5: ("Income quintile 5 (highest)", "Indkomstkvintil 5 (højeste)"), 9: ("Unknown", "Uoplyst")},
    "origin": {1: ("Danish origin", "Dansk oprindelse"), 2: ("Immigrants", "Indvandrere"), 3: ("Descendants", "Efterkommere")},
    "labour": {1: ("Employed", "I beskæftigelse"), 2: ("Unemployed", "Ledig"), 3: ("In education", "Under uddannelse"),
               4: ("Disability / early retirement", "Førtidspension / efterløn"), 5: ("Old-age pension", "Folkepension"),
               6: ("Other outside the labour force", "Øvrige uden for arbejdsstyrken")},
    "modality": {"xray": ("X-ray", "Røntgen"), "mri": ("MRI", "MR")},
    "priority": {"acute": ("Acute", "Akut"), "planned": ("Planned", "Planlagt")},
    "referrer": {"gp": ("General practitioner", "Alment praktiserende læge"), "chiropractor": ("Chiropractor", "Kiropraktor"),
                 "specialist": ("Practising specialist", "Praktiserende speciallæge"), "hospital": ("Hospital", "Hospital"),
                 "other": ("Other", "Andet")},
    "outcome": {"surgery": ("Spine surgery", "Rygkirurgi"), "rehabilitation": ("Rehabilitation plan", "Genoptræningsplan"),
                "diagnosis": ("Lumbar diagnosis", "Lændediagnose"), "none": ("Nothing recorded", "Intet registreret")},
    "dimension": {"sex": ("Sex", "Køn"), "age": ("Age group", "Aldersgruppe"), "edu": ("Education", "Uddannelse"),
                  "inc": ("Income", "Indkomst"), "origin": ("Origin", "Herkomst"), "labour": ("Labour-market status", "Arbejdsmarkedsstatus"),
                  "modality": ("Modality", "Modalitet"), "priority": ("Priority", "Prioritet"), "referrer": ("Referrer", "Henviser")},
    "exam_type": {"lumbar": ("Lumbar spine", "Lænderyg"), "head": ("Head", "Hoved"), "knee": ("Knee", "Knæ")},
}


def t(key: str, lang: str = "en") -> str:
    en, da = TEXT.get(key, (key, key))
    return da if lang == "da" and da else en


def label(dimension: str, value, lang: str = "en") -> str:
    names = LABELS.get(dimension, {})
    pair = names.get(value)
    if pair is None and isinstance(value, str) and value.isdigit():
        pair = names.get(int(value))
    if pair is None:
        return str(value)
    return pair[1] if lang == "da" else pair[0]
