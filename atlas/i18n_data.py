"""Texts of the data layer (issue 24/25): what a cell is, what the served source is, what changed
when a page moved to the nearest published view. English and Danish."""
from __future__ import annotations

from atlas.data.domain import STATUS_WORDS

TEXT = {
    "inside_only": ("Inside the secure environment only: not output-checked",
                    "Kun i det sikre miljø: ikke output-kontrolleret"),
    "inside_only_note": ("Inside the secure environment only: not output-checked. These are exact figures, small counts "
                         "included, for authorised analysts; nothing here may leave the secure environment. Anything "
                         "that leaves goes through the published release, which is protected and audited as a whole.",
                         "Kun i det sikre miljø: ikke output-kontrolleret. Dette er eksakte tal, også små antal, for "
                         "autoriserede analytikere; intet herfra må forlade det sikre miljø. Alt, der forlader det, går "
                         "gennem den offentliggjorte udgave, som er beskyttet og revideret som helhed."),
    "suppression_note": ("Inside the secure environment only: not output-checked. Exact figures, small counts included.",
                         "Kun i det sikre miljø: ikke output-kontrolleret. Eksakte tal, også små antal."),
    "db_secure": ("Secure database: exact figures for analysts inside the secure environment only; not output-checked, "
                  "it must not leave it",
                  "Sikker database: eksakte tal kun for analytikere i det sikre miljø; ikke output-kontrolleret, den "
                  "må ikke forlade det"),
    "suppressed": STATUS_WORDS["hidden"],
    "not_tested": ("Not tested", "Ikke testet"),
    "changed_measure": ("measure (this one has no published estimates)", "mål (dette har ingen offentliggjorte estimater)"),
    "all_hidden": ("Every number of this selection is hidden (a count of 1-4, or hidden to protect one). Try a larger "
                   "area, more years or fewer filters.",
                   "Alle tal i dette udvalg er skjult (et antal på 1-4, eller skjult for at beskytte et). Prøv et større "
                   "område, flere år eller færre filtre."),
    "all_few_events": ("Every area of this selection has too few events for a standardised rate, so "
                       "the map and ranking stay empty. Choose crude rates, or try a larger area, more years or fewer "
                       "filters.",
                       "Alle områder i dette udvalg har for få hændelser til en standardiseret rate, så "
                       "kort og rangering er tomme. Vælg rå rater, eller prøv et større område, flere år eller færre "
                       "filtre."),
    "hidden_areas": ("{n} of {total} areas are hidden (a count of 1-4, or hidden to protect one) and drawn grey. For "
                     "fewer hidden areas, try a larger area level, more years or fewer filters.",
                     "{n} af {total} områder er skjult (et antal på 1-4, eller skjult for at beskytte et) og tegnet grå. "
                     "For færre skjulte områder, prøv et større områdeniveau, flere år eller færre filtre."),
    "pw_empty_flows": ("No flows to draw for {where}: every flow is hidden (a count of 1-4, or hidden to protect one) "
                       "or there are none. Try a larger area, more years or fewer filters.",
                       "Ingen strømme at tegne for {where}: alle strømme er skjult (et antal på 1-4, eller skjult for at "
                       "beskytte et), eller der er ingen. Prøv et større område, flere år eller færre filtre."),
    "pw_moved": ("The published release does not hold the pathways of this view; showing the nearest published one. "
                 "Changed:",
                 "Den offentliggjorte udgave indeholder ikke forløbene for denne visning; den nærmeste vises. Ændret:"),
    "pw_published_what": ("Pathways are published for Denmark (every year and period) and for regions (3-year periods), "
                          "without filters.",
                          "Forløb offentliggøres for Danmark (hvert år og hver periode) og for regioner (3-årsperioder), "
                          "uden filtre."),
    "ret_reason_hidden": ("more than half of the months are hidden.", "mere end halvdelen af månederne er skjult."),
    "ret_hidden_month": ("hidden month, left out of the fit", "skjult måned, udeladt af modellen"),
    "ret_hidden_month_release": ("hidden month (a count of 1-4, or hidden to protect one),<br>left out of the fit",
                                 "skjult måned (et antal på 1-4, eller skjult for at<br>beskytte et), udeladt af modellen"),
    # the same in a chart without a fit (the months by exam type), on two lines: one ran past the chart
    "ret_hidden_month_bars": ("hidden month", "skjult måned"),
    "ret_hidden_month_bars_release": ("hidden month (a count of 1-4,<br>or hidden to protect one)",
                                      "skjult måned (et antal på 1-4,<br>eller skjult for at beskytte et)"),
    "ret_method_text": ("Ordinary least squares on {n} monthly rates; Newey–West (HAC) standard errors with {lags} lags; "
                        "t intervals. {filled} hidden month(s) left out of the fit.",
                        "Mindste kvadraters metode på {n} månedlige rater; Newey–West (HAC) standardfejl med {lags} lags; "
                        "t-intervaller. {filled} skjult(e) måned(er) udeladt af modellen."),
    "kf_limits": ("{above} lie above the 99.8% limit and {below} below it; {within} are within the 95% limits.",
                  "{above} ligger over 99,8 %-grænsen og {below} under den; {within} ligger inden for 95 %-grænserne."),
    "kf_not_tested": ("{n} {areas} were not tested against Denmark (Denmark's own figure is not published for this view).",
                      "{n} {areas} er ikke testet mod Danmark (Danmarks eget tal er ikke offentliggjort for denne visning)."),
    "kf_hidden": ("{n} {areas} are hidden (a count of 1-4, or hidden to protect one).",
                  "{n} {areas} er skjult (et antal på 1-4, eller skjult for at beskytte et)."),
    "cmp_not_tested": ("Not tested against Denmark (Denmark's figure is not published)",
                       "Ikke testet mod Danmark (Danmarks tal er ikke offentliggjort)"),
    "cmp_hidden": ("Hidden (a count of 1-4, or hidden to protect one)", "Skjult (et antal på 1-4, eller skjult for at beskytte et)"),
    "breakdown_crude_groups": ("groups by sex or age band: crude rates", "grupper efter køn eller alder: rå rater"),
    "breakdown_own_filter": ("each dimension without its own filter", "hver dimension uden sit eget filter"),
    "pw_hidden_flows": ("{n} flows are hidden (a count of 1-4, or hidden to protect one) and not drawn.",
                        "{n} strømme er skjult (et antal på 1-4, eller skjult for at beskytte et) og ikke tegnet."),
    "profile_methods_text": (
        "Figures are the atlas's estimates for the period (in the published release: protected, output-checked "
        "figures; inside the secure environment: exact figures, not output-checked): rates per 1,000 adults are age- "
        "and sex-standardised (ESP 2013), shares are percentages with Wilson 95% intervals. An area is higher or lower "
        "than Denmark beyond chance when it lies outside the 95% funnel limits of an exact test against Denmark's "
        "figure (dark markers: outside 99.8%); where Denmark's figure is not published the comparison is not tested. "
        "The grey bar is the range of all areas of the level, the darker part the middle half; the line is Denmark, "
        "the diamond the region. In the release counts from 1 to 4 are never shown, and figures that could reveal one "
        "are hidden. See Methods.",
        "Tallene er atlassets estimater for perioden (i den offentliggjorte udgave: beskyttede, output-kontrollerede "
        "tal; i det sikre miljø: eksakte tal, ikke output-kontrolleret): rater pr. 1.000 voksne er alders- og "
        "kønsstandardiserede (ESP 2013), andele er procenter med Wilson 95 %-intervaller. Et område ligger højere eller "
        "lavere end Danmark ud over tilfældighed, når det ligger uden for tragtens 95 %-grænser i en eksakt test mod "
        "Danmarks tal (mørke markører: uden for 99,8 %); hvor Danmarks tal ikke er offentliggjort, er sammenligningen "
        "ikke testet. Den grå bjælke er spændet for alle områder på niveauet, den mørkere del den midterste halvdel; "
        "stregen er Danmark, ruden regionen. I udgaven vises antal fra 1 til 4 aldrig, og tal, der kan afsløre et, "
        "skjules. Se Metode."),
    "kf_profile_not_tested": ("{n} measures could not be tested against Denmark (Denmark's figure is not published).",
                              "{n} mål kunne ikke testes mod Danmark (Danmarks tal er ikke offentliggjort)."),
}
TEXT.update({f"status_{k}": v for k, v in STATUS_WORDS.items()})
