"""Words of the pathways page (pathways, repeat and low-value imaging: pages/pathways.py) and the
return-letters page (pages/returns.py), in English and Danish (merged into ``atlas.i18n.TEXT``)."""
from __future__ import annotations

TEXT = {
    "pw_title": ("Imaging pathways, repeat imaging and potentially low-value imaging",
                 "Forløb, gentagen billeddiagnostik og potentielt lavværdi-billeddiagnostik"),
    "pw_intro": ("Each imaging episode (a person's first lumbar imaging after 365 days without one), from the referrer "
                 "through the modality to the most intensive thing that followed: spine surgery, then a rehabilitation "
                 "plan, then a lumbar diagnosis, else nothing recorded.",
                 "Hvert forløb (en persons første billeddiagnostik af lænden efter 365 dage uden), fra henviser over "
                 "modalitet til det mest indgribende, der fulgte: rygkirurgi, så genoptræningsplan, så lændediagnose, "
                 "ellers intet registreret."),
    "pw_area": ("Area", "Område"),
    "pw_window": ("What followed within", "Hvad fulgte inden for"),
    "pw_days": ("{days} days", "{days} dage"),
    "pw_within": ("Within {days} days", "Inden for {days} dage"),
    "pw_sankey": ("Pathways: referrer → modality → what followed", "Forløb: henviser → modalitet → hvad fulgte"),
    "pw_table": ("What followed, by referrer and modality (% of each row)", "Hvad fulgte, efter henviser og modalitet (% af hver række)"),
    "pw_episodes": ("Episodes", "Forløb"),
    "pw_episode": ("Imaging episode", "Forløb"),
    "pw_episode_def": ("First lumbar imaging of a person after 365 days without one; outcomes are the most intensive of "
                       "spine surgery > rehabilitation plan > lumbar diagnosis within the window.",
                       "Første billeddiagnostik af lænden efter 365 dage uden; udfaldet er det mest indgribende af "
                       "rygkirurgi > genoptræningsplan > lændediagnose inden for vinduet."),
    "pw_hidden_flows": ("{n} flows with fewer than 5 episodes (or hidden to protect them) are not drawn.",
                        "{n} strømme med færre end 5 forløb (eller skjult for at beskytte dem) er ikke tegnet."),
    "pw_no_hidden": ("Every flow is drawn.", "Alle strømme er tegnet."),
    "pw_share_note": ("Shares are computed from the shown counts of each row and add up to 100 %. Cells hidden to protect "
                      "small numbers are merged into one \"hidden cells\" column per row (itself hidden if fewer than 5).",
                      "Andele er beregnet af de viste antal i hver række og summerer til 100 %. Celler skjult for at beskytte "
                      "små tal er samlet i én kolonne \"skjulte celler\" pr. række (selv skjult hvis færre end 5)."),
    "pw_repeat": ("Repeat imaging", "Gentagen billeddiagnostik"),
    "pw_lowvalue": ("Potentially low-value imaging", "Potentielt lavværdi-billeddiagnostik"),
    "pw_by_referrer": ("Potentially low-value imaging by referrer", "Potentielt lavværdi-billeddiagnostik efter henviser"),
    "pw_lv_share_short": ("Share of episodes (%)", "Andel af forløb (%)"),
    "pw_lv_rate_short": ("Per 1,000 adults per year", "Pr. 1.000 voksne pr. år"),
    "pw_areas": ("By area", "Efter område"),
    "pw_area_col": ("Area", "Område"),
    "pw_lowvalue_def": ("Definition: the first imaging of an episode with no red-flag diagnosis (cancer, fracture, infection, "
                        "cauda equina and the like) in the 365 days before, and back pain first recorded less than 6 weeks "
                        "(42 days) before the imaging, i.e. imaging before a period of conservative care, against Choosing Wisely "
                        "(Vælg Klogt). Limits: registers hold no symptoms, so red flags seen only in general practice and "
                        "conservative care outside hospital contacts are missed; the measure flags potentially, not certainly, "
                        "low-value imaging. Rates are age- and sex-standardised (ESP 2013).",
                        "Definition: første undersøgelse i et forløb uden røde flag-diagnose (kræft, brud, infektion, cauda "
                        "equina m.m.) i de 365 dage før og med rygsmerter registreret første gang under 6 uger (42 dage) før, "
                        "dvs. billeddiagnostik før en periode med konservativ behandling, jf. Vælg Klogt. Begrænsninger: "
                        "registrene rummer ikke symptomer, så røde flag set kun i almen praksis og konservativ behandling uden "
                        "for sygehuskontakter mangler; målet viser potentielt, ikke sikkert, lavværdi-billeddiagnostik. Rater er "
                        "alders- og kønsstandardiserede (ESP 2013)."),
    "pw_repeat_def": ("X-ray then MRI: share of lumbar X-rays followed by a lumbar MRI within 90 days. Repeat MRI: share of "
                      "lumbar MRIs with another lumbar MRI in the 365 days before.",
                      "Røntgen så MR: andel af røntgenundersøgelser af lænden efterfulgt af MR inden for 90 dage. Gentagen MR: "
                      "andel af MR af lænden med en anden MR i de 365 dage før."),
    "pw_denmark_default": ("Denmark (all areas)", "Danmark (alle områder)"),
    "ret_title": ("Return-letter monitoring", "Overvågning af returbreve"),
    "ret_intro": ("Referrals received and returned by private imaging centres, and returns with the standard return "
                  "letter of the campaign, month by month. The intervention date splits the series for a segmented "
                  "(interrupted time series) regression.",
                  "Henvisninger modtaget og returneret af private billeddiagnostiske centre, og returneringer med "
                  "kampagnens standardreturbrev, måned for måned. Interventionsdatoen deler serien til en segmenteret "
                  "regression (afbrudt tidsserie)."),
    "ret_measure": ("Measure", "Mål"),
    "ret_measure_returned": ("Returned referrals", "Returnerede henvisninger"),
    "ret_measure_letters": ("Standard return letters", "Standardreturbreve"),
    "ret_unit_returned": ("returned per 1,000 referrals", "returneret pr. 1.000 henvisninger"),
    "ret_unit_letters": ("letters per 1,000 referrals", "breve pr. 1.000 henvisninger"),
    # the rate chart's axis: the unit alone (the chart's title names the measure; the whole unit ran
    # into the title block in Danish)
    "ret_axis_rate": ("per 1,000 referrals", "pr. 1.000 henvisninger"),
    "ret_exam": ("Exam type", "Undersøgelsestype"),
    "ret_centre": ("Centre", "Center"),
    "ret_all_centres": ("All centres", "Alle centre"),
    "ret_intervention": ("Intervention", "Intervention"),
    "ret_intervention_date": ("Intervention date", "Interventionsdato"),
    "ret_pick_date": ("Choose a date", "Vælg en dato"),     # the date picker's placeholder and label
    "ret_date_help": ("Months starting on or after this date count as after.", "Måneder, der begynder på eller efter datoen, tæller som efter."),
    "ret_before": ("Before", "Før"),
    "ret_after": ("After", "Efter"),
    "ret_filled": ("Hidden month (1–4), entered as 2.5 in the fit", "Skjult måned (1–4), indgår som 2,5 i modellen"),
    "ret_filled_release": ("Hidden month (1–4, or hidden to protect another cell), entered as 2.5 in the fit",
                           "Skjult måned (1–4, eller skjult for at beskytte en anden celle), indgår som 2,5 i modellen"),
    "ret_fitted": ("Segmented regression", "Segmenteret regression"),
    "ret_counterfactual": ("Trend before, continued", "Tendens før, videreført"),
    "ret_chart_its": ("Monthly rate with segmented regression", "Månedlig rate med segmenteret regression"),
    "ret_chart_exam": ("Per month by exam type", "Pr. måned efter undersøgelsestype"),
    "ret_chart_centres": ("Per centre and month", "Pr. center og måned"),
    "ret_chart_spread": ("Spread between centres: monthly rate before and after", "Spredning mellem centre: månedlig rate før og efter"),
    "ret_term": ("Term", "Led"),
    "ret_estimate": ("Estimate (95% CI)", "Estimat (95 %-KI)"),
    "ret_p": ("p", "p"),
    "its_level_before": ("Level at start", "Niveau ved start"),
    "its_pre_slope": ("Slope before (per month)", "Hældning før (pr. måned)"),
    "its_level_change": ("Level change at intervention", "Niveauændring ved intervention"),
    "its_slope_change": ("Slope change (per month)", "Hældningsændring (pr. måned)"),
    "its_post_slope": ("Slope after (per month)", "Hældning efter (pr. måned)"),
    "ret_method": ("Method", "Metode"),
    "ret_method_text": ("Ordinary least squares on {n} monthly rates; Newey–West (HAC) standard errors with {lags} lags; "
                        "t intervals. {filled} hidden month(s) entered as 2.5.",
                        "Mindste kvadraters metode på {n} månedlige rater; Newey–West (HAC) standardfejl med {lags} lags; "
                        "t-intervaller. {filled} skjult(e) måned(er) indgår som 2,5."),
    "ret_no_fit": ("The regression needs at least two months before and two after the intervention with shown referrals.",
                   "Regressionen kræver mindst to måneder før og to efter interventionen med viste henvisninger."),
    # no count is perturbed (no cell keys): the secure database is exact, the release hides
    "ret_key_note": ("A month whose count is hidden is left out of the regression, never filled in (see Methods).",
                     "En måned, hvis antal er skjult, udelades af regressionen og udfyldes aldrig (se Metode)."),
    "ret_summary": ("Per centre: totals and rate before and after", "Pr. center: i alt og rate før og efter"),
    "ret_rate_before": ("Rate before", "Rate før"),
    "ret_rate_after": ("Rate after", "Rate efter"),
    "ret_count_before": ("Count before", "Antal før"),
    "ret_count_after": ("Count after", "Antal efter"),
    "ret_grey_note": ("Grey cells: hidden (1–4).", "Grå celler: skjult (1–4)."),
    # issue 29: what the page is about, and the unit of the charts that show counts
    "ret_what": ("A returned referral is a referral for imaging that the private imaging centre sends back to the "
                 "referrer (a general practitioner or chiropractor, say) without doing the examination; a return letter "
                 "is the campaign's standard letter that goes with it and tells the referrer why. The campaign is "
                 "modelled on the Norwegian campaign of October 2022 to June 2023, in which 1,260 referrals were returned "
                 "with a standard letter (970 for lumbar, 290 for head and 6 for knee imaging).",
                 "En returneret henvisning er en henvisning til billeddiagnostik, som det private billeddiagnostiske "
                 "center sender tilbage til henviseren (fx den praktiserende læge eller kiropraktoren) uden at udføre "
                 "undersøgelsen; et returbrev er kampagnens standardbrev, der følger med og forklarer henviseren hvorfor. "
                 "Kampagnen har forbillede i den norske kampagne fra oktober 2022 til juni 2023, hvor 1.260 henvisninger "
                 "blev returneret med et standardbrev (970 til undersøgelse af lænden, 290 af hovedet og 6 af knæet)."),
    "ret_count_unit": ("number per month", "antal pr. måned"),
}

# short names of the Sankey's nodes, drawn instead of the full ones where the chart is narrow (a phone):
# the full names ran into the next column's nodes (issue 29). The hover keeps the full names.
SANKEY_SHORT = {
    ("referrer", "gp"): ("GP", "Egen læge"), ("referrer", "chiropractor"): ("Chiropractor", "Kiropraktor"),
    ("referrer", "specialist"): ("Specialist", "Speciallæge"), ("referrer", "hospital"): ("Hospital", "Hospital"),
    ("referrer", "other"): ("Other", "Andet"),
    ("modality", "xray"): ("X-ray", "Røntgen"), ("modality", "mri"): ("MRI", "MR"),
    ("outcome", "surgery"): ("Surgery", "Kirurgi"), ("outcome", "rehabilitation"): ("Rehab.", "Genoptr."),
    ("outcome", "diagnosis"): ("Diagnosis", "Diagnose"), ("outcome", "none"): ("None", "Intet"),
    ("outcome", "hidden"): ("Hidden", "Skjult"),
}
