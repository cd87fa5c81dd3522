"""The table of planted effects in docs/synthetic-data.md, rendered from effects.toml.

    python -c "from etl.synthetic.doc_table import render; print(render())"

tests/test_generate.py checks that the document contains exactly this table, so the document
cannot drift from the configuration.
"""
from __future__ import annotations

from etl.synthetic.config import load_effects

EDU = {"1": "basic", "2": "upper secondary / vocational", "3": "short / medium-cycle higher", "4": "long higher",
       "9": "unknown"}
INC = {"1": "1 (lowest)", "2": "2", "3": "3", "4": "4", "5": "5 (highest)", "9": "unknown"}
ORIGIN = {"1": "Danish origin", "2": "immigrant", "3": "descendant"}
LABOUR = {"1": "employed", "2": "unemployed", "3": "in education", "4": "disability / early retirement pension",
          "5": "old-age pension", "6": "other outside the labour force"}
SEX = {"1": "men", "2": "women"}


def _x(v: float) -> str:
    return f"×{v:g}"


def _pct(v: float) -> str:
    return f"{100 * v:g} %"


def _levels(table: dict, names: dict) -> str:
    return ", ".join(f"{names.get(k, k)} {_x(v)}" for k, v in table.items())


def _gradient_trend(gt: dict) -> str:
    f_edu = float(gt.get("education_annual_factor", 1.0))
    f_inc = float(gt.get("income_annual_factor", 1.0))
    if f_edu == 1.0 and f_inc == 1.0:
        return "none (both gradients constant over the years)"
    return f"education {_x(f_edu)} a year, income {_x(f_inc)} a year"


def render(effects: dict | None = None) -> str:
    e = effects or load_effects()
    im, ref, pr, h, o, b, rl = (e["imaging"], e["referrer"], e["producer"], e["history"], e["outcomes"],
                                e["background"], e["return_letters"])
    tr, sq = im["trend"], im["sequence"]
    rows = [
        ("Imaging rate", f"{im['rate_per_1000_adults']:g} per 1,000 adults a year",
         "national mean over the study period, all lumbar X-ray and MRI"),
        ("Age (age on 1 January)", ", ".join(f"{lo}-{hi} {_x(m)}" if hi < 200 else f"{lo}+ {_x(m)}"
                                             for lo, hi, m in im["age"]), "low at 18-24, peak 55-74"),
        ("Sex", _levels(im["sex"], SEX), ""),
        ("Region", ", ".join(f"{k.replace('Region ', '')} {_x(v)}" for k, v in im["region"].items()),
         "practice differences"),
        ("Municipality random effect", f"lognormal, sd of log {im['municipality']['random_effect_sd']:g}",
         "new draw per seed; centred within region" if im["municipality"].get("centred_within_region", True) else
         "new draw per seed"),
        ("Outlier municipalities", ", ".join(f"{x['name']} ({x['kommune_code']}) {_x(x['multiplier'])}"
                                             for x in im["outliers"]), "replace the random effect"),
        *([("MRI cluster", f"{im['mri_cluster']['name']}: municipalities "
            + ", ".join(str(c) for c in im["mri_cluster"]["kommune_codes"])
            + f", MRI rate {_x(im['mri_cluster']['mri_multiplier'])}",
            "neighbours sharing a high MRI rate (extra first MRIs); a spatial cluster for local Moran's I")]
          if im.get("mri_cluster") else []),
        ("X-ray trend", f"{_x(tr['xray_annual_ratio'])} a year; X-ray share {_pct(tr['xray_share_first_year'])} "
                        "in the first year", "X-ray falls"),
        ("MRI trend", f"{_x(tr['mri_annual_ratio'])} a year", "MRI rises (follow-up MRIs included)"),
        ("Education", _levels(im["education"], EDU), "given income and the rest"),
        ("Income quintile", _levels(im["income"], INC), "given education and the rest"),
        ("Change of the social gradients", _gradient_trend(im.get("gradient_trend") or {}),
         "log multipliers of education and income times this factor a year, around the middle year"),
        ("Origin", _levels(im["origin"], ORIGIN), ""),
        ("Labour-market status", _levels(im["labour"], LABOUR), ""),
        ("Referrer (first imagings)", ", ".join(f"{k} {_pct(v)}" for k, v in ref["share"].items()),
         "follow-up MRIs: " + ", ".join(f"{k} {_pct(v)}" for k, v in ref["followup_share"].items() if v)),
        ("X-ray share by referrer", f"chiropractor {_pct(ref['chiropractor_xray_share'])}; others follow the "
                                    "year's mix, relative " + ", ".join(f"{k} {_x(v)}" for k, v in
                                                                         ref["xray_relative"].items()),
         "hospital referrals mostly MRI"),
        ("Acute share", ", ".join(f"{k} {_pct(v)}" for k, v in ref["acute"].items()),
         f"about {_pct(ref['acute_overall'])} overall; acute imaging is at public hospitals"),
        ("Producer type", "chiropractor X-ray: " + ", ".join(f"{k} {_pct(v)}" for k, v in pr["xray_chiropractor"].items())
         + "; MRI: " + ", ".join(f"{k} {_pct(v)}" for k, v in pr["mri_other"].items()),
         f"{sum(pr['per_region'].values())} producers per region; {_pct(pr['other_region_share'])} outside "
         "the home region"),
        ("X-ray followed by MRI", f"{_pct(sq['xray_then_mri_share'])} of X-rays, after "
                                  f"{sq['xray_then_mri_days'][0]}-{sq['xray_then_mri_days'][1]} days", ""),
        ("Repeat MRI", f"{_pct(sq['repeat_mri_share'])} of MRIs, after "
                       f"{sq['repeat_mri_days'][0]}-{sq['repeat_mri_days'][1]} days", ""),
        ("Red flag before imaging", ", ".join(f"{k} {_pct(v)}" for k, v in h["red_flag"].items()),
         f"diagnosis 1-365 days before a first imaging; about {_pct(h['red_flag_overall'])} overall"),
        ("Back pain ≥ 42 days before (conservative care)", ", ".join(f"{k} {_pct(v)}" for k, v in h["back_pain"].items()),
         f"about {_pct(h['back_pain_overall'])} overall; the rest is new back pain (potentially low value "
         "without a red flag)"),
        ("Lumbar diagnosis after imaging", f"{_pct(o['lumbar_diagnosis_share'])} within {o['short_days']} days", ""),
        ("Spine surgery after imaging", f"{_pct(o['surgery_after_mri'])} after MRI, "
                                        f"{_pct(o['surgery_after_xray_only'])} after X-ray only, within "
                                        f"{o['long_days']} days", f"{_pct(o['surgery_short_fraction'])} of it within "
                                                                  f"{o['short_days']} days"),
        ("Rehabilitation plan after imaging", f"{_pct(o['rehabilitation_share'])} within {o['long_days']} days",
         f"{_pct(o['rehabilitation_short_fraction'])} of it within {o['short_days']} days"),
        ("Background events (per adult a year)",
         ", ".join(f"{k.replace('_rate', '').replace('_', ' ')} {_pct(v)}" for k, v in b.items()),
         "unrelated to imaging, for random residents"),
        ("Return letters: baseline", f"{_pct(rl['baseline_return_share'])} of referrals returned every month",
         f"{rl['n_centres']} private centres, {rl['first_month'][:7]} to {rl['last_month'][:7]}"),
        ("Return letters: campaign", f"from {rl['campaign_start']}; expected {rl['max_letters_first_month']} letters "
                                     f"in the first month at the busiest centre (scale 1), × exp(−{rl['decay_per_month']:g} × months "
                                     "since start)",
         "centre propensities " + ", ".join(f"{p:g}" for p in rl["centre_propensity"])),
        ("Return letters: exam types", ", ".join(f"{k} {_pct(v)}" for k, v in rl["letter_exam_share"].items()),
         "of letters"),
        ("Return letters: volume", f"× sqrt(min(max(scale, {rl['volume_scale_floor']:g}), 1))",
         "referral and letter volumes depend on scale only mildly"),
    ]
    lines = ["| Effect | Size | Notes |", "| --- | --- | --- |"]
    lines += [f"| {a} | {s} | {n} |" for a, s, n in rows]
    return "\n".join(lines)
