"""Words of the interface in English and Danish.

``t(key, lang)`` gives a text; ``label(dimension, value, lang)`` the name of a code. A missing
Danish text falls back to English, so a new key never breaks the page. The names of coded values
(referrers, exam types, population groups, ...) stand in ``etl/config/vocabularies.toml``.
"""
from __future__ import annotations

from atlas import i18n_pathways_returns
from etl import vocabularies

LANGS = ("en", "da")

TEXT = {
    "title": ("Lumbar spine imaging atlas", "Atlas over billeddiagnostik af lænderyggen"),
    "subtitle": ("How X-ray and MRI of the lower back vary across Denmark",
                 "Hvordan røntgen og MR af lænden varierer i Danmark"),
    "synthetic_banner": ("Synthetic demonstration data: the figures are made up and show no real Danish area.",
                         "Syntetiske demonstrationsdata: tallene er opdigtede og viser ikke virkelige danske områder."),
    "db_release": ("Published release: protected figures only (no count from 1 to 4 can be seen or worked back)",
                   "Offentliggjort udgave: kun beskyttede tal (intet antal fra 1 til 4 kan ses eller regnes ud)"),
    "db_secure": ("Secure database: for analysts inside the secure environment only; it must not leave it",
                  "Sikker database: kun for analytikere i det sikre miljø; den må ikke forlade det"),
    "not_published": ("The published release does not hold this view; showing the nearest published one. Changed:",
                      "Den offentliggjorte udgave indeholder ikke denne visning; den nærmeste vises. Ændret:"),
    "published_what": ("Published: each single year and the periods {periods}; municipalities for everyone (by one "
                       "population group or imaging type for 3-year periods); regions and Denmark by one population "
                       "group or imaging type.",
                       "Offentliggjort: hvert enkelt år og perioderne {periods}; kommuner for alle (efter én "
                       "befolkningsgruppe eller undersøgelsestype for 3-årsperioder); regioner og Danmark efter én "
                       "befolkningsgruppe eller undersøgelsestype."),
    "changed_period": ("period", "periode"),
    "changed_level": ("geography", "geografi"),
    "changed_filters": ("filters", "filtre"),
    "nav_atlas": ("Atlas", "Atlas"),
    "nav_pathways": ("Pathways & low value", "Forløb & lav værdi"),
    "nav_returns": ("Return letters", "Returbreve"),
    "nav_methods": ("Methods", "Metode"),
    "language": ("Dansk", "English"),
    "measure": ("Measure", "Mål"),
    "level": ("Areas", "Områder"),
    "years": ("Years", "År"),
    "standardise": ("Rates", "Rater"),
    "std_isr": ("Age- and sex-standardised (indirect)", "Alders- og kønsstandardiseret (indirekte)"),
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
    "area_search": ("Find a municipality or region", "Find en kommune eller region"),
    "region_option": ("{name}: its municipalities", "{name}: dens kommuner"),
    "selected_area": ("Selected area", "Valgt område"),
    "none_selected": ("Click an area on the map or in a chart to follow it in every view.",
                      "Klik på et område på kortet eller i en figur for at følge det i alle visninger."),
    "clear_selection": ("Clear selection", "Ryd valg"),
    "dd_select_all": ("Select all", "Vælg alle"),
    "dd_deselect_all": ("Deselect all", "Fravælg alle"),
    "dd_selected_count": ("{num_selected} selected", "{num_selected} valgt"),
    "dd_search": ("Search", "Søg"),
    "dd_clear_search": ("Clear search", "Ryd søgning"),
    "dd_clear_selection": ("Clear selection", "Ryd valg"),
    "dd_no_options_found": ("No options found", "Ingen valgmuligheder fundet"),
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
    "suppression_note_release": ("Counts from 1 to 4 are hidden, and further cells are hidden so that no hidden count can be "
                                 "worked out from the published tables (checked by an audit of the whole release); "
                                 "published counts are exact.",
                                 "Antal fra 1 til 4 er skjult, og yderligere celler er skjult, så intet skjult antal kan "
                                 "regnes ud af de offentliggjorte tabeller (kontrolleret af en revision af hele udgaven); "
                                 "offentliggjorte antal er eksakte."),
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
    "build_report": ("Rows left out by the build", "Rækker udeladt ved dannelsen"),
    "build_report_note": ("Every row of the extracts that the build left out, by step and reason (the build stops "
                          "when a share is implausibly large; see docs/data-contract.md).",
                          "Hver række i udtrækkene, som dannelsen udelod, efter trin og årsag (dannelsen stopper, "
                          "når en andel er usandsynligt stor; se docs/data-contract.md)."),
    "build_overrides": ("Checks overridden for this build", "Kontroller tilsidesat ved denne dannelse"),
    "col_step": ("step", "trin"),
    "col_source": ("table", "tabel"),
    "col_reason": ("reason", "årsag"),
    "col_rows": ("rows", "rækker"),
    "col_share": ("share", "andel"),
    "step_staging": ("reading", "indlæsning"),
    "step_linking": ("linking", "sammenkobling"),
    "step_cubes": ("cubes", "kuber"),
    "drop_rejected": ("breaking the data contract (--lenient)", "bryder datakontrakten (--lenient)"),
    "drop_outside_code_list": ("procedure code not in the code list", "procedurekode ikke i kodelisten"),
    "drop_outside_study_years": ("outside the study years", "uden for undersøgelsesårene"),
    "drop_not_in_population": ("person in no year of the population", "person i intet år af befolkningen"),
    "drop_before_birth": ("before the person's birth year", "før personens fødselsår"),
    "drop_after_last_population_year": ("after the person's last year in the population (emigration, death)",
                                        "efter personens sidste år i befolkningen (udvandring, død)"),
    "drop_not_resident_that_year": ("not resident on 1 January of that year", "ikke bosat 1. januar det år"),
    "drop_children": ("under the adult age", "under voksenalderen"),
    "per_1000": ("per 1,000 adults per year", "pr. 1.000 voksne pr. år"),
    "share_pct": ("per cent", "procent"),
    "national": ("National level", "Landsniveau"),
    # map colours, clusters, providers, tables (issue 15)
    "map_colours": ("Map colours", "Kortfarver"),
    "col_own": ("Own range (this map only)", "Kortets eget spænd (kun dette kort)"),
    "col_equal": ("Fixed classes: equal intervals (whole period)", "Faste klasser: lige store intervaller (hele perioden)"),
    "col_quantile": ("Fixed classes: quantiles (whole period)", "Faste klasser: kvantiler (hele perioden)"),
    "col_breaks": ("Fixed classes: my breaks", "Faste klasser: egne grænser"),
    "col_signif": ("Significance (funnel limits)", "Signifikans (tragtgrænser)"),
    "col_cluster": ("Spatial clusters (local Moran's I)", "Rumlige klynger (lokal Morans I)"),
    "breaks": ("Class breaks (e.g. 40, 60, 80)", "Klassegrænser (fx 40, 60, 80)"),
    "no_breaks": ("Enter class breaks to use your own classes.", "Angiv klassegrænser for at bruge egne klasser."),
    "bad_breaks": ("Breaks must be increasing numbers, at most nine.", "Grænser skal være stigende tal, højst ni."),
    "too_few_values": ("Too few values for fixed classes; the map's own range is used.",
                       "For få værdier til faste klasser; kortets eget spænd bruges."),
    "cluster_municipalities": ("Clusters are found among municipalities: choose municipalities.",
                               "Klynger findes blandt kommuner: vælg kommuner."),
    "classes_note": ("Classes fixed over all years", "Klasser fastlagt over alle år"),
    "show_tables": ("Show every chart as a table too", "Vis også hvert diagram som tabel"),
    "table_of": ("Table", "Tabel"),
    "clusters": ("Spatial clusters", "Rumlige klynger"),
    "cl_high_high": ("High-high (hot spot)", "Høj-høj (hot spot)"),
    "cl_low_low": ("Low-low (cold spot)", "Lav-lav (cold spot)"),
    "cl_high_low": ("High among low", "Høj blandt lave"),
    "cl_low_high": ("Low among high", "Lav blandt høje"),
    "cl_not_significant": ("Not significant", "Ikke signifikant"),
    "moran_global": ("Global Moran's I", "Global Morans I"),
    "moran_view": ("values shown", "viste værdier"),
    "moran_std": ("standardised rate", "standardiseret rate"),
    "moran_smooth": ("smoothed rate (empirical Bayes)", "udglattet rate (empirisk Bayes)"),
    "cluster_none": ("No significant clusters.", "Ingen signifikante klynger."),
    "not_published_for": ("{name}: not published for these figures", "{name}: ikke offentliggjort for disse tal"),
    "cluster_find": ("Find clusters", "Find klynger"),
    "cluster_offer": ("Are high or low rates grouped in neighbouring municipalities? Global and local Moran's I with "
                      "{perm} permutations answer that; they are computed when you ask (a few seconds) and then "
                      "follow the view. The map's colour mode \"spatial clusters\" computes them too.",
                      "Ligger høje eller lave rater samlet i nabokommuner? Global og lokal Moran's I med {perm} "
                      "permutationer svarer på det; de beregnes, når du beder om det (nogle sekunder), og følger "
                      "derefter visningen. Kortets farvevalg \"rumlige klynger\" beregner dem også."),
    "cluster_help": ("Local Moran's I of the values shown: each municipality against the mean of its 5 nearest "
                     "municipalities, {perm} permutations, false discovery rate {alpha} (Benjamini-Hochberg). "
                     "See Methods.",
                     "Lokal Morans I af de viste værdier: hver kommune mod gennemsnittet af dens 5 nærmeste kommuner, "
                     "{perm} permutationer, falsk opdagelsesrate {alpha} (Benjamini-Hochberg). Se Metode."),
    "cluster_level": ("Clusters are computed among municipalities.", "Klynger beregnes blandt kommuner."),
    "pw_providers": ("Where imaging was done: private clinics", "Hvor undersøgelsen blev udført: privatklinikker"),
    "provider_help": ("Share of imaging done at a private clinic (the producer type in the imaging register), "
                      "by the patient's area of residence; the rest was done at public hospitals or "
                      "chiropractor clinics.",
                      "Andel af undersøgelser udført på en privatklinik (producenttypen i registeret), efter "
                      "patientens bopæl; resten er udført på offentlige sygehuse eller kiropraktorklinikker."),
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
    "outcome": {"surgery": ("Spine surgery", "Rygkirurgi"), "rehabilitation": ("Rehabilitation plan", "Genoptræningsplan"),
                "diagnosis": ("Lumbar diagnosis", "Lændediagnose"), "none": ("Nothing recorded", "Intet registreret"),
                "hidden": ("Hidden cells, merged", "Skjulte celler, samlet")},
}
# the names of the coded values and of the filters, from the vocabularies (etl/config/vocabularies.toml):
# by filter key for the filters (LABELS["edu"]), by name for the others (LABELS["exam_type"])
LABELS.update({v.url or v.name: v.names for v in vocabularies.vocabularies().values()})
LABELS["dimension"] = {v.url: v.title for v in vocabularies.filters()}


# Pathways, repeat and low-value imaging (pages/pathways.py) and return letters (pages/returns.py)
TEXT.update(i18n_pathways_returns.TEXT)


# Issue 11: empty and hidden selections, incomplete years, degenerate fits, bad input.
TEXT.update({
    "empty_selection": ("Nobody in this selection, so there is nothing to show here. Try removing a filter, "
                        "choosing more years or another area.",
                        "Ingen i dette udvalg, så der er intet at vise her. Prøv at fjerne et filter, "
                        "vælge flere år eller et andet område."),
    "all_hidden": ("Every number of this selection is hidden (fewer than 5). Try a larger area, more years or "
                   "fewer filters.",
                   "Alle tal i dette udvalg er skjult (færre end 5). Prøv et større område, flere år eller færre filtre."),
    "incomplete": ("incomplete", "ufuldstændig"),
    "incomplete_years": ("Incomplete years for this measure: {years}. Their follow-up or look-back window reaches "
                         "beyond the data (or the data cover part of the year only), so they are not comparable "
                         "with the other years (see Methods).",
                         "Ufuldstændige år for dette mål: {years}. Deres opfølgnings- eller tilbageblik-vindue rækker "
                         "ud over data (eller data dækker kun en del af året), så de kan ikke sammenlignes med de "
                         "øvrige år (se Metode)."),
    "break": ("break", "brud"),
    "break_note": ("Break in the series (counted differently from the year named): {breaks}",
                   "Brud i serien (tælles anderledes fra det nævnte år): {breaks}"),
    "m_breaks": ("Register breaks", "Brud i registrene"),
    "m_by_referrer": ("Breakdown by referrer (every measure)", "Fordeling efter henviser (alle mål)"),
    "m_break_col": ("Break (first year counted the new way)", "Brud (første år talt på den nye måde)"),
    "m_status": ("Status", "Status"),
    "m_source": ("Source", "Kilde"),
    "m_status_verified": ("verified", "verificeret"),
    "m_status_unverified": ("UNVERIFIED", "IKKE VERIFICERET"),
    "m_status_definition": ("atlas definition", "atlassets definition"),
    "m_unverified_note": ("Not verified against any source consulted: {codes}. Check them with "
                          "python -m etl codes check --sks FILE before counting on them.",
                          "Ikke verificeret mod nogen af de konsulterede kilder: {codes}. Kontrollér dem med "
                          "python -m etl codes check --sks FIL, før der regnes med dem."),
    "m_rehab_codes": ("Rehabilitation plans (SKS)", "Genoptræningsplaner (SKS)"),
    "m_lowvalue_criteria": ("Potentially low-value imaging: criteria", "Potentielt lavværdi-billeddiagnostik: kriterier"),
    "m_sources": ("Sources of the code lists", "Kodelisternes kilder"),
    "incomplete_in_view": ("The chosen years include incomplete years for this measure ({years}): the figures "
                           "undercount and are not comparable with complete years.",
                           "De valgte år omfatter ufuldstændige år for dette mål ({years}): tallene er for lave og "
                           "kan ikke sammenlignes med fuldstændige år."),
    "complete_years_col": ("Coverage", "Dækning"),
    "pw_empty_flows": ("No flows to draw for {where}: every flow is hidden (fewer than 5 episodes) or there are "
                       "none. Try a larger area, more years or fewer filters.",
                       "Ingen strømme at tegne for {where}: alle strømme er skjult (færre end 5 forløb), eller der "
                       "er ingen. Prøv et større område, flere år eller færre filtre."),
    "ret_degenerate": ("No regression: {reason}", "Ingen regression: {reason}"),
    "ret_reason_flat": ("the monthly rates are constant (all the same) before or after the intervention, so the fit "
                        "would be exact and its intervals meaningless.",
                        "de månedlige rater er konstante før eller efter interventionen, så tilpasningen ville være "
                        "eksakt og intervallerne meningsløse."),
    "ret_reason_few": ("fewer than two months with shown referrals before or after the intervention.",
                       "færre end to måneder med viste henvisninger før eller efter interventionen."),
    "ret_reason_hidden": ("more than half of the months are hidden (fewer than 5).",
                          "mere end halvdelen af månederne er skjult (færre end 5)."),
    "fitted_clamped": ("The fitted line is not drawn below 0.", "Den tilpassede linje tegnes ikke under 0."),
})


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


# Issue 13: charts that stand alone, Danish numbers and files, explanations beside the statistics.
TEXT.update({
    "source": ("Source", "Kilde"),
    "synthetic_short": ("SYNTHETIC DATA, not real figures", "SYNTETISKE DATA, ikke virkelige tal"),
    "in_region": ("in", "i"),
    "and": ("and", "og"),
    "all_adults": ("all adults", "alle voksne"),
    "share_pct_of": ("per cent", "procent"),
    "esp2013_short": ("ESP 2013", "ESP 2013"),
    "denmark_short": ("Danish population", "dansk befolkning"),
    "limits_95": ("95% limits", "95 %-grænser"),
    "limits_99_8": ("99.8% limits", "99,8 %-grænser"),
    "map_card": ("Map by area", "Kort efter område"),
    "definition": ("Definition", "Definition"),
    "eq_help": ("Extremal quotient: the highest area's value divided by the lowest's. Sensitive to small areas, "
                "so it is also given for areas with at least 10 events.",
                "Ekstremkvotient: det højeste områdes værdi delt med det laveste. Følsom over for små områder, "
                "så den gives også for områder med mindst 10 hændelser."),
    "scv_negative": ("A negative value means the areas differ less than chance alone would make them: no "
                     "systematic variation (read it as 0).",
                     "En negativ værdi betyder, at områderne varierer mindre, end tilfældigheder alene ville give: "
                     "ingen systematisk variation (læs den som 0)."),
    "variation_few": ("Variation needs at least two areas with shown figures; this selection has fewer. Try a larger "
                      "area level, more years or fewer filters.",
                      "Variation kræver mindst to områder med viste tal; dette udvalg har færre. Prøv et større "
                      "områdeniveau, flere år eller færre filtre."),
    "funnel_help": ("Each dot is an area; larger areas lie to the right. Dots between the lines differ from Denmark "
                    "by no more than chance would make them (95% and 99.8% limits); dots outside are coloured. "
                    "The black ring is the selected area.",
                    "Hver prik er et område; større områder ligger til højre. Prikker mellem linjerne afviger ikke "
                    "mere fra Danmark, end tilfældigheder kan give (95 %- og 99,8 %-grænser); prikker uden for er "
                    "farvede. Den sorte ring er det valgte område."),
    "hidden_areas": ("{n} of {total} areas are hidden (fewer than 5) and drawn grey. For fewer hidden areas, try a "
                     "larger area level, more years or fewer filters.",
                     "{n} af {total} områder er skjult (færre end 5) og tegnet grå. For færre skjulte områder, prøv "
                     "et større områdeniveau, flere år eller færre filtre."),
    "csv_format": ("CSV files: semicolon-separated, decimal comma (Danish Excel)",
                   "CSV-filer: semikolonsepareret, decimalkomma (dansk Excel)"),
    "yes": ("yes", "ja"),
    "no": ("no", "nej"),
    "settings_link": ("Settings and filters ↓", "Indstillinger og filtre ↓"),
    "toggle_nav": ("Menu", "Menu"),
    "download_svg": ("SVG", "SVG"),
    "download_png_short": ("PNG", "PNG"),
    "download_image_of": ("Download the chart as an image", "Hent diagrammet som billede"),
    "contents": ("Contents", "Indhold"),
    "file_prefix": ("lumbar-imaging-atlas", "laenderyg-atlas"),
    "data_word": ("Data", "Data"),
    "suppression_word": ("Suppression", "Diskretionering"),
    "view_word": ("View", "Visning"),
    "note_word": ("Note", "Bemærk"),
    "rank_scroll": ("Ranking: the whole list (scrolls)", "Rangering: hele listen (kan rulles)"),
    "csv_atlas_col": ("Atlas", "Atlas"),        # the flat CSV's columns of its header items (atlas/export.py)
    "csv_chart_col": ("Chart", "Figur"),
    "csv_file_word": ("file", "fil"),
    "all_years": ("All years", "Alle år"),
    "to_word": ("to", "til"),
    "ret_all_exams": ("All exam types", "Alle undersøgelsestyper"),
})

# column headers of the CSV files and table views (English files keep the plain keys)
LABELS["column"] = {
    "code": ("Code", "Kode"), "name": ("Name", "Navn"), "count": ("Count", "Antal"),
    "denominator": ("Denominator", "Nævner"), "value": ("Value", "Værdi"), "lower": ("Lower 95% limit", "Nedre 95 %-grænse"),
    "upper": ("Upper 95% limit", "Øvre 95 %-grænse"), "expected": ("Expected", "Forventet"),
    "funnel_flag": ("Funnel plot", "Tragtdiagram"), "note": ("Note", "Bemærkning"), "complete": ("Complete years", "Fuldstændige år"),
    "break": ("Register break (first year counted anew)", "Brud i registret (første år talt på ny)"),
    "map_class": ("Map class", "Kortklasse"), "year": ("Year", "År"), "dimension": ("Dimension", "Dimension"),
    "group": ("Group", "Gruppe"), "measure_name": ("Measure", "Mål"), "measure": ("Measure", "Mål"),
    "referrer": ("Referrer", "Henviser"), "modality": ("Modality", "Modalitet"), "episodes": ("Episodes", "Forløb"),
    "source": ("From", "Fra"), "target": ("To", "Til"), "month": ("Month", "Måned"), "period": ("Period", "Periode"),
    "exam_type": ("Exam type", "Undersøgelsestype"), "referrals": ("Referrals", "Henvisninger"), "rate": ("Rate", "Rate"),
    "fitted": ("Fitted", "Tilpasset"), "counterfactual": ("Trend before, continued", "Tendens før, videreført"),
    "producer_id": ("Centre id", "Center-id"), "centre": ("Centre", "Center"),
    "referrals_before": ("Referrals before", "Henvisninger før"), "count_before": ("Count before", "Antal før"),
    "rate_before": ("Rate before", "Rate før"), "referrals_after": ("Referrals after", "Henvisninger efter"),
    "count_after": ("Count after", "Antal efter"), "rate_after": ("Rate after", "Rate efter"),
    "neighbours_mean": ("Mean of neighbours", "Naboers gennemsnit"), "local_I": ("Local Moran's I", "Lokal Morans I"),
    "quadrant": ("Quadrant", "Kvadrant"), "p_value": ("p-value", "p-værdi"), "q_value": ("q-value (FDR)", "q-værdi (FDR)"),
    "cluster": ("Cluster", "Klynge"),
}

# Issue 13: the methods page (headings, configuration as readable text)
TEXT.update({
    "m_measures": ("Measures", "Mål"),
    "m_windows": ("Time windows (days)", "Tidsvinduer (dage)"),
    "m_incomplete": ("Incomplete years", "Ufuldstændige år"),
    "m_codes": ("Code lists", "Kodelister"),
    "m_sks": ("SKS imaging procedures", "SKS-procedurekoder for billeddiagnostik"),
    "m_icd": ("ICD-10 diagnoses", "ICD-10-diagnoser"),
    "m_nomesco": ("NOMESCO operations", "NOMESCO-operationskoder"),
    "m_statistics": ("Statistical methods", "Statistiske metoder"),
    "m_pathways_days": ("Pathways, {d} days", "Forløb, {d} dage"),
    "m_definition": ("Definition", "Definition"),
    "m_setting": ("What the window is", "Hvad vinduet er"),
    "m_days": ("Days", "Dage"),
    "m_incomplete_col": ("Incomplete years", "Ufuldstændige år"),
    "m_code_prefix": ("Code (prefix)", "Kode (præfiks)"),
    "m_description": ("Description", "Beskrivelse"),
    "m_age_band": ("Age group", "Aldersgruppe"),
    "m_weight": ("Weight (per sex)", "Vægt (pr. køn)"),
    "m_group_lumbar": ("Lumbar diagnosis", "Lændediagnose"),
    "m_group_red_flag": ("Red flag", "Rødt flag"),
    "m_group_spine_surgery": ("Spine surgery", "Rygkirurgi"),
    "win_follow_up_short_days": ("What followed imaging: short follow-up", "Hvad fulgte efter: kort opfølgning"),
    "win_follow_up_long_days": ("What followed imaging: long follow-up", "Hvad fulgte efter: lang opfølgning"),
    "win_episode_clean_days": ("Days without lumbar imaging before a new episode starts",
                               "Dage uden billeddiagnostik af lænden, før et nyt forløb starter"),
    "win_xray_then_mri_days": ("X-ray followed by MRI: days after the X-ray", "Røntgen efterfulgt af MR: dage efter røntgen"),
    "win_repeat_mri_days": ("Repeat MRI: days back to the previous MRI", "Gentagen MR: dage tilbage til forrige MR"),
    "win_red_flag_lookback_days": ("Low-value imaging: days back for red-flag diagnoses",
                                   "Lavværdi: dage tilbage for røde flag-diagnoser"),
    "win_conservative_care_days": ("Low-value imaging: back pain recorded at least this many days before counts as "
                                   "conservative care", "Lavværdi: rygsmerter registreret mindst så mange dage før "
                                   "tæller som konservativ behandling"),
    "win_back_pain_lookback_days": ("Low-value imaging: days back for a first back-pain record",
                                    "Lavværdi: dage tilbage for første registrering af rygsmerter"),
})

TEXT.update(__import__("atlas.i18n_profiles", fromlist=["TEXT"]).TEXT)   # issue 14: profiles, comparisons, findings
TEXT.update(__import__("atlas.i18n_release", fromlist=["TEXT"]).TEXT)   # issue 28: release identity
TEXT.update(__import__("atlas.i18n_data", fromlist=["TEXT"]).TEXT)       # issue 24/25: the data layer's words

# issue 27: the policy pages (inequality, recent trends, avoidable imaging, comparable municipalities)
from atlas import i18n_policy as _i18n_policy  # noqa: E402

TEXT.update(_i18n_policy.TEXT)
LABELS["column"].update(_i18n_policy.COLUMNS)
