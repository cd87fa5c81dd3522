"""Words of the area profile, the comparisons, all trends, key findings, good-practice notes and the
all-data download, in English and Danish (merged into ``atlas.i18n.TEXT``)."""
from __future__ import annotations

TEXT = {
    # navigation and the profile page
    "nav_areas": ("Area profiles & comparisons", "Områdeprofiler & sammenligninger"),
    "nav_trends": ("All trends", "Alle tendenser"),
    "profile_title": ("{name}: area profile", "{name}: områdeprofil"),
    "profile_sub": ("{level} · {period} · compared with Denmark{region}",
                    "{level} · {period} · sammenlignet med Danmark{region}"),
    "profile_and_region": (" and {region}", " og {region}"),
    "profile_open": ("Open the profile of {name}", "Åbn profilen for {name}"),
    "profile_find": ("Find an area's profile", "Find et områdes profil"),
    "profile_unknown": ("No area has the code {code}. Choose an area below.",
                        "Intet område har koden {code}. Vælg et område nedenfor."),
    "profile_choose": ("Choose an area to see every measure against Denmark and its region, compare areas, or "
                       "compare two measures across areas.",
                       "Vælg et område for at se alle mål sammenlignet med Danmark og regionen, sammenligne områder "
                       "eller sammenligne to mål på tværs af områder."),
    "profile_period": ("Period", "Periode"),
    "profile_print": ("Print or save as PDF", "Udskriv eller gem som PDF"),
    "profile_csv": ("Download the profile (CSV)", "Hent profilen (CSV)"),
    "profile_spine": ("Every measure against Denmark", "Alle mål sammenlignet med Danmark"),
    "profile_trends": ("Trend of every measure (single years)", "Udvikling i alle mål (enkelte år)"),
    "profile_groups": ("Imaging by population group", "Billeddiagnostik efter befolkningsgruppe"),
    "profile_mix": ("Pathway mix: modality, priority, referrer and what followed",
                    "Forløbsmix: modalitet, prioritet, henviser og hvad fulgte"),
    "profile_methods": ("Methods", "Metode"),
    "profile_methods_text": (
        "Figures are the atlas's published (protected) estimates for the period: rates per 1,000 adults are age- and "
        "sex-standardised (ESP 2013), shares are percentages with Wilson 95% intervals. An area is higher or lower "
        "than Denmark beyond chance when it lies outside the 95% funnel limits of an exact test against Denmark's "
        "figure (dark markers: outside 99.8%). The grey bar is the range of all areas of the level, the darker part "
        "the middle half; the line is Denmark, the diamond the region. Counts from 1 to 4 are never shown, counts "
        "are perturbed by at most ±2, and figures that could reveal a small count are hidden. See Methods.",
        "Tallene er atlassets offentliggjorte (beskyttede) estimater for perioden: rater pr. 1.000 voksne er alders- "
        "og kønsstandardiserede (ESP 2013), andele er procenter med Wilson 95 %-intervaller. Et område ligger højere "
        "eller lavere end Danmark ud over tilfældighed, når det ligger uden for tragtens 95 %-grænser i en eksakt "
        "test mod Danmarks tal (mørke markører: uden for 99,8 %). Den grå bjælke er spændet for alle områder på "
        "niveauet, den mørkere del den midterste halvdel; stregen er Danmark, ruden regionen. Antal fra 1 til 4 "
        "vises aldrig, antal forstyrres med højst ±2, og tal, der kan afsløre et lille antal, skjules. Se Metode."),
    "profile_source": ("Source", "Kilde"),
    "profile_source_text": ("Lumbar spine imaging atlas: national patient register (imaging, diagnoses, surgery), "
                            "rehabilitation plans and population registers; {kind}, built {built}.",
                            "Atlas over billeddiagnostik af lænderyggen: Landspatientregisteret (billeddiagnostik, "
                            "diagnoser, kirurgi), genoptræningsplaner og befolkningsregistre; {kind}, dannet {built}."),
    "profile_printed": ("Printed", "Udskrevet"),
    "col_measure": ("Measure", "Mål"),
    "col_count": ("Count", "Antal"),
    "col_value": ("Value (95% CI)", "Værdi (95 %-KI)"),
    "col_region": ("Region", "Region"),
    "col_denmark": ("Denmark", "Danmark"),
    "col_lowest": ("Lowest", "Lavest"),
    "col_highest": ("Highest", "Højest"),
    "col_spine": ("Range of all areas", "Spænd for alle områder"),
    "cmp_higher": ("Higher than Denmark beyond chance", "Højere end Danmark ud over tilfældighed"),
    "cmp_lower": ("Lower than Denmark beyond chance", "Lavere end Danmark ud over tilfældighed"),
    "cmp_similar": ("Not different from Denmark beyond chance", "Ikke forskellig fra Danmark ud over tilfældighed"),
    "cmp_hidden": ("Hidden (protects a small count)", "Skjult (beskytter et lille antal)"),
    "not_published_here": ("not published for this area and period", "ikke offentliggjort for området og perioden"),
    "incomplete_mark": ("includes an incomplete year", "omfatter et ufuldstændigt år"),
    # key findings
    "key_findings": ("Key findings", "Hovedresultater"),
    "kf_range": ("{measure} ranges from {lo} to {hi} {unit} across {n} {areas} (highest: {hi_name}; lowest: {lo_name}).",
                 "{measure} spænder fra {lo} til {hi} {unit} på tværs af {n} {areas} (højest: {hi_name}; lavest: {lo_name})."),
    "kf_denmark": ("Denmark as a whole: {value} {unit} ({lower}–{upper}).",
                   "Danmark som helhed: {value} {unit} ({lower}–{upper})."),
    "kf_limits": ("{above} lie above the 99.8% limit and {below} below it; {within} are within the 95% limits.",
                  "{above} ligger over 99,8 %-grænsen og {below} under den; {within} ligger inden for 95 %-grænserne."),
    "kf_eq": ("The extremal quotient (highest over lowest standardised ratio) is {eq}; the systematic component of "
              "variation (SCV × 100) is {scv}.",
              "Den ekstremale kvotient (højeste over laveste standardiserede ratio) er {eq}; den systematiske "
              "variationskomponent (SCV × 100) er {scv}."),
    "kf_hidden": ("{n} {areas} are hidden to protect small counts.", "{n} {areas} er skjult for at beskytte små antal."),
    "kf_none": ("Too few areas are shown to describe the variation.", "For få områder vises til at beskrive variationen."),
    "kf_areas_municipality": ("municipalities", "kommuner"),
    "kf_areas_region": ("regions", "regioner"),
    "kf_areas_region2027": ("regions (from 2027)", "regioner (fra 2027)"),
    "kf_profile_counts": ("Of {n} measures published for {name} in {period}, {higher} are higher than Denmark beyond "
                          "chance, {lower} lower and {similar} not different.",
                          "Af {n} mål offentliggjort for {name} i {period} ligger {higher} højere end Danmark ud over "
                          "tilfældighed, {lower} lavere og {similar} ikke forskelligt."),
    "kf_profile_higher": ("Higher: {list}.", "Højere: {list}."),
    "kf_profile_lower": ("Lower: {list}.", "Lavere: {list}."),
    "kf_profile_extreme": ("Highest of all {areas} on: {list}.", "Højest af alle {areas} på: {list}."),
    "kf_profile_lowest": ("Lowest of all {areas} on: {list}.", "Lavest af alle {areas} på: {list}."),
    # compare
    "cmp_title": ("Compare areas and measures", "Sammenlign områder og mål"),
    "cmp_areas": ("Areas to compare (2–4)", "Områder at sammenligne (2–4)"),
    "cmp_areas_help": ("Choose two to four areas of one level.", "Vælg to til fire områder på samme niveau."),
    "cmp_side": ("Side by side on every measure", "Side om side på alle mål"),
    "cmp_scatter": ("One measure against another, by area", "Et mål mod et andet, efter område"),
    "cmp_x": ("Measure across (x)", "Mål vandret (x)"),
    "cmp_y": ("Measure up (y)", "Mål lodret (y)"),
    "cmp_corr": ("Pearson's r = {r} (95% CI {lower} to {upper}; Fisher z), {n} areas shown on both measures; p = {p}.",
                 "Pearsons r = {r} (95 %-KI {lower} til {upper}; Fishers z), {n} områder vist på begge mål; p = {p}."),
    "cmp_corr_none": ("Too few areas are shown on both measures for a correlation.",
                      "For få områder vises på begge mål til en korrelation."),
    "cmp_corr_note": ("A correlation between areas says nothing about individuals (the ecological fallacy).",
                      "En korrelation mellem områder siger intet om enkeltpersoner (den økologiske fejlslutning)."),
    "cmp_index": ("Value relative to Denmark (Denmark = 100)", "Værdi i forhold til Danmark (Danmark = 100)"),
    "cmp_pick_two": ("Choose at least two areas.", "Vælg mindst to områder."),
    # all trends
    "tr_title": ("All trends at once: every area's trend", "Alle tendenser på én gang: hvert områdes udvikling"),
    "tr_order": ("Order", "Rækkefølge"),
    "profile_line_hidden": ("{name}: every year hidden (small counts, or to protect them)",
                            "{name}: alle år skjult (små tal, eller for at beskytte dem)"),
    "profile_line_few": ("{name}: too few events in every year for a standardised rate",
                         "{name}: for få hændelser i alle år til en standardiseret rate"),
    "profile_line_unpublished": ("{name}: not published by single year at this level",
                                 "{name}: ikke offentliggjort for enkeltår på dette niveau"),
    "profile_incomplete_band": ("Grey band: an incomplete year (its follow-up or look-back window reaches beyond the "
                                "data; see Methods).",
                                "Gråt bånd: et ufuldstændigt år (opfølgnings- eller tilbageblik-vinduet rækker ud over "
                                "data; se Metode)."),
    "tr_scale": ("Value scale", "Skala"),
    "tr_scroll_hint": ("Scroll sideways to see every column of panels.", "Rul til siden for at se alle kolonner af paneler."),
    "tr_scale_shared": ("The same for every area (compare levels)", "Den samme for alle områder (sammenlign niveauer)"),
    "tr_scale_own": ("Each area its own (see each area's course)", "Hvert område sin egen (se hvert områdes forløb)"),
    "tr_by_level": ("By level (last year)", "Efter niveau (sidste år)"),
    "tr_by_change": ("By change", "Efter ændring"),
    "tr_by_name": ("By name", "Efter navn"),
    "tr_rose": ("rose beyond chance", "steg ud over tilfældighed"),
    "tr_fell": ("fell beyond chance", "faldt ud over tilfældighed"),
    "tr_flat": ("no change beyond chance", "ingen ændring ud over tilfældighed"),
    "tr_note": ("Change from {y0} to {y1} (the compared years: the first and last complete year unless you choose "
                "others) is beyond chance when the difference of the two published estimates exceeds what their "
                "95% intervals allow (Altman & Bland 2003; on the log scale for rates). Panels with a coloured frame "
                "changed beyond chance. The grey line is Denmark.",
                "Ændringen fra {y0} til {y1} (de sammenlignede år: første og sidste fuldstændige år, medmindre du "
                "vælger andre) er ud over tilfældighed, når forskellen mellem de to offentliggjorte estimater er "
                "større, end deres 95 %-intervaller tillader (Altman & Bland 2003; på log-skala for rater). Paneler "
                "med farvet ramme ændrede sig ud over tilfældighed. Den grå linje er Danmark."),
    "tr_summary": ("{rose} rose and {fell} fell beyond chance from {y0} to {y1}, of {n} areas shown in both years.",
                   "{rose} steg og {fell} faldt ud over tilfældighed fra {y0} til {y1}, af {n} områder vist begge år."),
    # good practice
    "gp_title": ("Good practice", "God praksis"),
    "gp_source": ("Source", "Kilde"),
    "gp_date": ("Date", "Dato"),
    "gp_example": ("EXAMPLE note: shows how a note looks; it describes no real area.",
                   "EKSEMPEL: viser, hvordan en note ser ud; den beskriver ikke et virkeligt område."),
    "gp_marker": ("Good-practice note", "Note om god praksis"),
    "gp_none": ("No good-practice note for this area yet.", "Endnu ingen note om god praksis for området."),
    # all data
    "all_data": ("All data (zip of CSVs with a codebook)", "Alle data (zip med CSV-filer og kodebog)"),
    "all_data_help": ("Every published figure of every measure by area and period, one CSV per measure, each with the "
                      "same header rows as the chart downloads.",
                      "Alle offentliggjorte tal for alle mål efter område og periode, én CSV pr. mål, hver med de "
                      "samme indledende rækker som figurernes downloads."),
}
