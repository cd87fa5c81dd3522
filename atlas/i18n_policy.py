"""Words of the policy pages (issue 27: inequality, recent trends, avoidable imaging, comparable
municipalities), in English and Danish (merged into ``atlas.i18n.TEXT``; column headers into
``LABELS["column"]``)."""
from __future__ import annotations

TEXT = {
    "nav_inequality": ("Inequality", "Ulighed"),
    "nav_recent": ("Recent trends", "Seneste udvikling"),
    "nav_opportunity": ("Avoidable imaging", "Undgåelig billeddiagnostik"),
    "pol_ineq_title": ("Social gradient: how imaging differs by education and income",
                       "Social gradient: hvordan billeddiagnostik varierer med uddannelse og indkomst"),
    "pol_ineq_intro": ("The slope index of inequality (SII) is the difference between the most and the least advantaged "
                       "end of the population, the relative index (RII) their ratio, fitted over all groups weighted by "
                       "their size. An RII below 1: the advantaged are imaged less.",
                       "Hældningsindekset for ulighed (SII) er forskellen mellem den mest og den mindst begunstigede ende "
                       "af befolkningen, det relative indeks (RII) forholdet mellem dem, tilpasset over alle grupper vægtet "
                       "med deres størrelse. Et RII under 1: de begunstigede undersøges mindre."),
    "pol_recent_title": ("Recent trends: rising or falling lately, and higher than Denmark",
                         "Seneste udvikling: stigende eller faldende på det seneste, og højere end Danmark"),
    "pol_recent_intro": ("Each area's trend over its last complete years (annual percentage change with its 95% interval). "
                         "Some areas are flagged by chance alone; the page says how many.",
                         "Hvert områdes udvikling over de seneste fuldstændige år (årlig ændring i procent med 95 %-interval). "
                         "Nogle områder markeres alene ved tilfældighed; siden siger hvor mange."),
    "pol_opp_title": ("Avoidable imaging: examinations a year if areas above a level came down to it",
                      "Undgåelig billeddiagnostik: undersøgelser om året, hvis områder over et niveau kom ned på det"),
    "pol_opp_intro": ("Observed minus the count each area would have at the target level (age- and sex-standardised: "
                      "the expected count at Denmark's rates times the target ratio), summed over the areas above it.",
                      "Observeret minus det antal, hvert område ville have på målniveauet (alders- og kønsstandardiseret: "
                      "det forventede antal ved Danmarks rater gange målforholdet), summeret over områderne over det."),
    "pol_dimension": ("Population group", "Befolkningsgruppe"),
    "pol_rates": ("Rates", "Rater"),
    "pol_period": ("Period", "Periode"),
    "pol_area_none": ("Denmark only", "Kun Danmark"),
    "pol_area": ("Show an area beside Denmark", "Vis et område ved siden af Danmark"),
    "pol_groups_title": ("Rates by group, least to most advantaged", "Rater efter gruppe, fra mindst til mest begunstiget"),
    "pol_rii_title": ("Denmark's relative index of inequality, year by year", "Danmarks relative ulighedsindeks, år for år"),
    "pol_sii_title": ("SII and RII by area", "SII og RII efter område"),
    "pol_sii_table": ("Slope and relative index of inequality by area", "Hældnings- og relativt ulighedsindeks efter område"),
    "pol_groups_table": ("Rates of the ordered groups", "Rater for de ordnede grupper"),
    "pol_trend_table": ("Denmark's SII and RII by year", "Danmarks SII og RII efter år"),
    "pol_axis_groups": ("least advantaged → most advantaged", "mindst begunstiget → mest begunstiget"),
    "pol_rii_axis": ("RII (1 = no gradient)", "RII (1 = ingen gradient)"),
    "pol_points": ("percentage points", "procentpoint"),
    "pol_sii_sentence": ("Denmark, {period}, by {dim}: the rate at the most advantaged end ({most}) is {rii} times that "
                         "at the least advantaged end ({least}); the difference (SII) is {sii} {unit} (95% intervals).",
                         "Danmark, {period}, efter {dim}: raten i den mest begunstigede ende ({most}) er {rii} gange raten "
                         "i den mindst begunstigede ende ({least}); forskellen (SII) er {sii} {unit} (95 %-intervaller)."),
    "pol_rii_trend": ("Over {y0}–{y1} Denmark's RII changed by {change} % a year: {direction}.",
                      "I {y0}–{y1} ændrede Danmarks RII sig {change} % om året: {direction}."),
    "pol_rii_trend_none": ("The trend of the RII was not tested: {reason}.", "Udviklingen i RII blev ikke testet: {reason}."),
    "pol_areas_gradient": ("{n} of {k} {areas} with an SII have an RII below 1 beyond chance ({total} {areas} in all).",
                           "{n} af {k} {areas} med et SII har et RII under 1 ud over tilfældighed ({total} {areas} i alt)."),
    "pol_areas_no_sii": ("{n} {areas} have no SII: a group's figure is hidden or not published there (named in the table).",
                         "{n} {areas} har intet SII: en gruppes tal er skjult eller ikke offentliggjort der (nævnt i tabellen)."),
    "pol_opp_colours": ("Dark red: above the target beyond chance (its 95% interval lies above it); light: above it, "
                        "but within chance.",
                        "Mørkerød: over målet ud over tilfældighed (95 %-intervallet ligger over det); lys: over det, "
                        "men inden for tilfældighed."),
    "pol_not_computed": ("Not computed (never filled in): a group's figure is missing:",
                         "Ikke beregnet (aldrig udfyldt): en gruppes tal mangler:"),
    "pol_unordered": ("Origin and labour-market status have no social order, so no SII: see their rates in the atlas's "
                      "breakdown by population group.",
                      "Herkomst og arbejdsmarkedsstatus har ingen social rækkefølge og derfor intet SII: se deres rater i "
                      "atlassets opdeling efter befolkningsgruppe."),
    "pol_dir_rising": ("rising", "stigende"),
    "pol_dir_falling": ("falling", "faldende"),
    "pol_dir_no_significant_change": ("no change beyond chance", "ingen ændring ud over tilfældighed"),
    "pol_dir_not_tested": ("not tested", "ikke testet"),
    "pol_years_n": ("Years in the trend", "År i udviklingen"),
    "pol_end": ("Trend ends in", "Udviklingen slutter i"),
    "pol_test": ("Test", "Test"),
    "pol_test_poisson": ("Poisson (as Fingertips)", "Poisson (som Fingertips)"),
    "pol_test_quasi": ("Quasi-Poisson (year-to-year noise)", "Kvasi-Poisson (støj fra år til år)"),
    "pol_show": ("Show", "Vis"),
    "pol_show_all": ("All areas", "Alle områder"),
    "pol_show_rising": ("Rising", "Stigende"),
    "pol_show_falling": ("Falling", "Faldende"),
    "pol_show_higher_rising": ("Higher than Denmark and rising", "Højere end Danmark og stigende"),
    "pol_recent_table": ("Recent trend by area", "Seneste udvikling efter område"),
    "pol_recent_chart": ("Annual change by area, with 95% intervals", "Årlig ændring efter område, med 95 %-intervaller"),
    "pol_apc_axis": ("annual change, %", "årlig ændring, %"),
    "pol_recent_sentence": ("{rising} of {k} {areas} rose and {falling} fell beyond chance over {y0}–{y1}.",
                            "{rising} af {k} {areas} steg og {falling} faldt ud over tilfældighed i {y0}–{y1}."),
    "pol_recent_chance": ("With no change anywhere, about {expected} would be flagged by chance alone (between {lo} and {hi} "
                          "in 95% of cases; at least one with probability {p} %).",
                          "Uden nogen ændring ville omkring {expected} blive markeret alene ved tilfældighed (mellem {lo} "
                          "og {hi} i 95 % af tilfældene; mindst ét med sandsynlighed {p} %)."),
    "pol_higher_rising": ("{n} higher than Denmark beyond chance in the last year and rising (by chance alone about "
                          "{expected}; at least one with probability {p} %).",
                          "{n} højere end Danmark ud over tilfældighed i det sidste år og stigende (alene ved tilfældighed "
                          "omkring {expected}; mindst ét med sandsynlighed {p} %)."),
    "pol_recent_none": ("No recent trend could be tested: {reason}.", "Ingen seneste udvikling kunne testes: {reason}."),
    "pol_target": ("Target level", "Målniveau"),
    "pol_target_denmark": ("Denmark's rate", "Danmarks rate"),
    "pol_target_best_quartile": ("The best quartile", "Den bedste kvartil"),
    "pol_target_user": ("A rate I set", "En rate, jeg vælger"),
    "pol_target_best_quartile_rate": ("the best quartile's rate ({rate} {unit})", "den bedste kvartils rate ({rate} {unit})"),
    "pol_target_user_rate": ("a rate of {rate} {unit}", "en rate på {rate} {unit}"),
    "pol_user_rate": ("Your target rate (per 1,000 adults)", "Din målrate (pr. 1.000 voksne)"),
    "pol_sig": ("Count only areas above the target beyond chance", "Tæl kun områder over målet ud over tilfældighed"),
    "pol_opp_table": ("Avoidable examinations a year by area", "Undgåelige undersøgelser om året efter område"),
    "pol_opp_chart": ("Avoidable examinations a year (the 25 largest), with 95% intervals",
                      "Undgåelige undersøgelser om året (de 25 største), med 95 %-intervaller"),
    "pol_opp_axis": ("examinations a year", "undersøgelser om året"),
    "pol_opp_sentence": ("If every one of the {areas} above {target} came down to it, about {n} ({lo}–{hi}) fewer "
                         "examinations a year ({above} of {k} {areas} above it, {period}).",
                         "Hvis alle {areas} over {target} kom ned på den, omkring {n} ({lo}–{hi}) færre undersøgelser om "
                         "året ({above} af {k} {areas} over den, {period})."),
    "pol_opp_area": ("If {name} imaged at {target}, about {n} ({lo}–{hi}) fewer examinations a year.",
                     "Hvis {name} undersøgte på {target}, omkring {n} ({lo}–{hi}) færre undersøgelser om året."),
    "pol_opp_left_out": ("{n} areas left out because their count or expected count is not shown (never filled in): {names}.",
                         "{n} områder udeladt, fordi deres antal eller forventede antal ikke vises (aldrig udfyldt): {names}."),
    "pol_opp_no_areas": ("No area has a shown count and expected count in this view.",
                         "Intet område har et vist antal og forventet antal i denne visning."),
    "pol_opp_no_user_target": ("Give a target rate above 0.", "Angiv en målrate over 0."),
    "pol_opp_no_national_rate": ("Denmark's rate is not shown in this view, so a rate you set cannot be compared.",
                                 "Danmarks rate vises ikke i denne visning, så en rate, du vælger, kan ikke sammenlignes."),
    "pol_left_out": ("left out", "udeladt"),
    "pol_total": ("All areas", "Alle områder"),
    "pol_total_note": ("sum of the areas above the target; interval by Monte Carlo",
                       "summen af områderne over målet; interval ved Monte Carlo"),
    "pol_method": ("Method", "Metode"),
    "pol_method_sii": ("Slope and relative index of inequality, weighted regression of the groups' log rates on their "
                       "relative rank (Low & Low 2004; PHE method), 95% Monte Carlo intervals",
                       "Hældnings- og relativt ulighedsindeks, vægtet regression af gruppernes log-rater på deres relative "
                       "rang (Low & Low 2004; PHE-metoden), 95 % Monte Carlo-intervaller"),
    "pol_method_trend_poisson": ("Poisson log-linear regression of the yearly counts with the population as offset, "
                                 "Wald 95% interval (Breslow & Day 1987)",
                                 "Poisson log-lineær regression af de årlige antal med befolkningen som offset, "
                                 "Wald 95 %-interval (Breslow & Day 1987)"),
    "pol_method_trend_quasi": ("Quasi-Poisson log-linear regression of the yearly counts with the population as offset, "
                               "t interval (McCullagh & Nelder 1989)",
                               "Kvasi-Poisson log-lineær regression af de årlige antal med befolkningen som offset, "
                               "t-interval (McCullagh & Nelder 1989)"),
    "pol_method_opp": ("Observed minus target count per area above the target, exact Poisson limits per area, Monte "
                       "Carlo interval of the total (NHS Atlas of Variation's opportunity)",
                       "Observeret minus målantal pr. område over målet, eksakte Poisson-grænser pr. område, Monte "
                       "Carlo-interval for summen (NHS Atlas of Variations 'opportunity')"),
    "pol_peers_title": ("Comparable municipalities", "Sammenlignelige kommuner"),
    "pol_peers_intro": ("The five municipalities nearest in age structure (share 65+), size and density "
                        "(etl/config/peers.toml), and the five together.",
                        "De fem kommuner, der ligner mest i aldersstruktur (andel 65+), størrelse og befolkningstæthed "
                        "(etl/config/peers.toml), og de fem samlet."),
    "pol_peers_together": ("Comparable municipalities together", "Sammenlignelige kommuner samlet"),
    "pol_peers_compare": ("Compare with its nearest peers", "Sammenlign med de nærmeste lignende kommuner"),
    "pol_peers_none": ("No comparable municipalities: the populations they are found from are not shown for this period.",
                       "Ingen sammenlignelige kommuner: befolkningstallene, de findes ud fra, vises ikke for denne periode."),
    "pol_role_area": ("this area", "dette område"),
    "pol_role_peer": ("comparable municipality", "sammenlignelig kommune"),
    "pol_peers_left_out": ("{n} of the comparable municipalities left out: not shown", "{n} af de sammenlignelige kommuner udeladt: vises ikke"),
    "pol_peers_table": ("This municipality, its comparable municipalities and Denmark", "Denne kommune, de sammenlignelige kommuner og Danmark"),
    "pol_opp_profile": ("{measure}: if {name} imaged at Denmark's rate, about {n} ({lo}–{hi}) fewer examinations a year ({period}).",
                        "{measure}: hvis {name} undersøgte på Danmarks rate, omkring {n} ({lo}–{hi}) færre undersøgelser om året ({period})."),
    "pol_recent_profile": ("{measure}, recent trend {y0}–{y1}: {change} % a year, {direction}.",
                           "{measure}, seneste udvikling {y0}–{y1}: {change} % om året, {direction}."),
    "pol_inside": ("Inside the secure environment only: not output-checked.",
                   "Kun i det sikre miljø: ikke outputkontrolleret."),
    # recent-trend markers on the atlas page (map, ranking, their CSVs)
    "tm_legend_rising": ("rising over {years}<br>(last {n} complete years)",
                         "stigende i {years}<br>(de seneste {n} fuldstændige år)"),
    "tm_legend_falling": ("falling over {years}<br>(last {n} complete years)",
                          "faldende i {years}<br>(de seneste {n} fuldstændige år)"),
    "tm_title": ("▲ rising / ▼ falling over {years} (last {n} complete years)",
                 "▲ stigende / ▼ faldende i {years} (de seneste {n} fuldstændige år)"),
    "tm_recent": ("Recent trend", "Seneste udvikling"),
    "tm_header": ("Recent-trend markers", "Markering af seneste udvikling"),
    "tm_none": ("Recent trend: no area tested over the last {n} complete years",
                "Seneste udvikling: intet område testet over de seneste {n} fuldstændige år"),
    "tm_window": ("last {n} complete years", "de seneste {n} fuldstændige år"),
    "tm_control": ("Recent trend (▲/▼): last complete years", "Seneste udvikling (▲/▼): seneste fuldstændige år"),
    "tm_a_year": ("a year", "om året"),
    # /trends: the compared years
    "tr_from": ("From", "Fra"),
    "tr_to": ("To", "Til"),
    "tr_first_complete": ("first complete year", "første fuldstændige år"),
    "tr_last_complete": ("last complete year", "sidste fuldstændige år"),
    "tr_period_fixed": ("The compared years were moved to {y0}–{y1}: the years asked for are not both complete and "
                        "published for this measure.",
                        "De sammenlignede år blev flyttet til {y0}–{y1}: de ønskede år er ikke begge fuldstændige og "
                        "offentliggjorte for dette mål."),
    # the atlas page's key findings: avoidable imaging
    "kf_avoidable": ("If {area} above Denmark's rate imaged at it, about {n} ({lo}–{hi}) fewer examinations a year "
                     "({period}); the most in {name}: about {top} a year.",
                     "Hvis {area} over Danmarks rate undersøgte på den, omkring {n} ({lo}–{hi}) færre undersøgelser "
                     "om året ({period}); flest i {name}: omkring {top} om året."),
    "kf_avoidable_one": ("If {name} imaged at Denmark's rate, about {n} ({lo}–{hi}) fewer examinations a year ({period}).",
                         "Hvis {name} undersøgte på Danmarks rate, omkring {n} ({lo}–{hi}) færre undersøgelser om året "
                         "({period})."),
    "kf_avoidable_none": ("{area} is above Denmark's rate: no examinations to avoid at Denmark's level ({period}).",
                          "{area} ligger over Danmarks rate: ingen undersøgelser at undgå på Danmarks niveau ({period})."),
    "kf_avoidable_left_out": ("{n} left out (count or expected count not shown).",
                              "{n} udeladt (antal eller forventet antal vises ikke)."),
    "kf_area_municipality": ("every municipality", "hver kommune"),
    "kf_area_region": ("every region", "hver region"),
    "kf_area_region2027": ("every region", "hver region"),
    "kf_noarea_municipality": ("No municipality", "Ingen kommune"),
    "kf_noarea_region": ("No region", "Ingen region"),
    "kf_noarea_region2027": ("No region", "Ingen region"),
    # comparable municipalities as a comparator (/compare, the funnel plot)
    "peers_comparator": ("Comparable municipalities of {name} (pooled)", "Sammenlignelige kommuner for {name} (samlet)"),
    "peers_cmp_note": ("Comparable municipalities of {name}: {list} (nearest in share 65+, size and density; "
                       "etl/config/peers.toml). Together: their summed observed over summed expected counts times "
                       "Denmark's rate (for shares their pooled share); a peer whose count is hidden is left out.",
                       "Sammenlignelige kommuner for {name}: {list} (nærmest i andel 65+, størrelse og tæthed; "
                       "etl/config/peers.toml). Samlet: deres summerede observerede over summerede forventede antal "
                       "gange Danmarks rate (for andele deres samlede andel); en kommune med skjult antal udelades."),
    "peers_cmp_none": ("No comparable municipalities for this municipality and period: their populations are not shown.",
                       "Ingen sammenlignelige kommuner for denne kommune og periode: deres befolkningstal vises ikke."),
    "cmp_pick_peers": ("Choose a municipality (its comparable municipalities are added), or at least two areas.",
                       "Vælg en kommune (de sammenlignelige kommuner tilføjes), eller mindst to områder."),
    "peers_add": ("Add its comparable municipalities as a comparator", "Tilføj de sammenlignelige kommuner som sammenligning"),
    "funnel_target": ("Funnel plot compared with", "Tragtdiagram sammenlignet med"),
    "funnel_target_denmark": ("Denmark", "Danmark"),
    "funnel_target_peers": ("Comparable municipalities of the selected one", "Den valgtes sammenlignelige kommuner"),
    "funnel_peers_line": ("Comparable municipalities of {name}, pooled", "Sammenlignelige kommuner for {name}, samlet"),
    "funnel_peers_note": ("Funnel plot: {name} and its comparable municipalities (nearest in share 65+, size and density), "
                          "limits around their pooled level instead of Denmark's.",
                          "Tragtdiagram: {name} og de sammenlignelige kommuner (nærmest i andel 65+, størrelse og tæthed), "
                          "grænser omkring deres samlede niveau i stedet for Danmarks."),
    "funnel_peers_none": ("Comparable municipalities apply to a selected municipality with published peers: the funnel "
                          "plot compares with Denmark.",
                          "Sammenlignelige kommuner gælder for en valgt kommune med offentliggjorte sammenlignelige kommuner: "
                          "tragtdiagrammet sammenligner med Danmark."),
}

COLUMNS = {
    "sii": ("SII", "SII"), "sii_lower": ("SII lower 95% limit", "SII nedre 95 %-grænse"),
    "sii_upper": ("SII upper 95% limit", "SII øvre 95 %-grænse"), "rii": ("RII", "RII"),
    "rii_lower": ("RII lower 95% limit", "RII nedre 95 %-grænse"), "rii_upper": ("RII upper 95% limit", "RII øvre 95 %-grænse"),
    "first_year": ("First year", "Første år"), "last_year": ("Last year", "Sidste år"),
    "apc": ("Annual change %", "Årlig ændring %"), "apc_lower": ("Annual change lower 95% limit", "Årlig ændring nedre 95 %-grænse"),
    "apc_upper": ("Annual change upper 95% limit", "Årlig ændring øvre 95 %-grænse"), "direction": ("Trend", "Udvikling"),
    "higher_rising": ("Higher and rising", "Højere og stigende"), "observed": ("Observed a year", "Observeret om året"),
    "ratio": ("Observed / expected", "Observeret / forventet"), "target_count": ("Target a year", "Mål om året"),
    "avoidable": ("Avoidable a year", "Undgåelige om året"),
    "avoidable_lower": ("Avoidable lower 95% limit", "Undgåelige nedre 95 %-grænse"),
    "avoidable_upper": ("Avoidable upper 95% limit", "Undgåelige øvre 95 %-grænse"),
    "above": ("Above the target", "Over målet"), "significant": ("Above beyond chance", "Over ud over tilfældighed"),
    "role": ("Role", "Rolle"), "expected_year": ("Expected a year", "Forventet om året"),
    "recent_trend": ("Recent trend", "Seneste udvikling"),
    "recent_trend_apc": ("Recent trend: annual change %", "Seneste udvikling: årlig ændring %"),
    "recent_trend_years": ("Recent trend: years", "Seneste udvikling: år"),
    "peer_target": ("Funnel target: comparable municipalities' pooled level", "Tragtens mål: de sammenlignelige kommuners samlede niveau"),
    "peer_funnel_flag": ("Funnel flag against the comparable municipalities", "Tragtmarkering mod de sammenlignelige kommuner"),
}
