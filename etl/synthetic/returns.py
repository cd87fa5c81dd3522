"""Referrals received and returned by private imaging centres, with a return-letter campaign.

Monthly referrals per centre and exam type; every month a baseline share is returned without
the standard letter; from the campaign start each centre sends standard return letters at its own
propensity, highest in the first month and wearing off month by month. Volumes depend on
``scale`` only mildly (see ``volume_factor``).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from etl.synthetic.config import EXAM_TYPES
from etl.synthetic.events import EPOCH
from etl.synthetic.producers import Producers

# Fictitious private imaging centres, two per region (in the order of municipalities.csv regions)
CENTRE_NAMES = {
    "Region Hovedstaden": ("Billedcenter København", "MR-Klinikken Nordsjælland"),
    "Region Sjælland": ("Scanningscenter Roskilde", "Røntgen Sjælland"),
    "Region Syddanmark": ("MR-Klinik Odense", "Røntgen & Scanning Syd"),
    "Region Midtjylland": ("Billeddiagnostik Aarhus", "Scanningsklinikken Midt"),
    "Region Nordjylland": ("Røntgenklinikken Aalborg", "MR-Center Nord"),
}


def volume_factor(eff: dict, scale: float) -> float:
    floor = float(eff["return_letters"]["volume_scale_floor"])
    return float(np.sqrt(min(max(scale, floor), 1.0)))


def months(first: str, last: str) -> list[np.datetime64]:
    m = np.arange(np.datetime64(first[:7], "M"), np.datetime64(last[:7], "M") + 1)
    return list(m)


def centres(eff: dict, producers: Producers, region_names: list[str]) -> list[tuple[str, str]]:
    """(producer_id, name) of the centres: the two largest private clinics of each region."""
    n = int(eff["return_letters"]["n_centres"])
    out = []
    t = 1  # private_clinic
    for j in range(2):
        for r, region in enumerate(region_names):
            names = CENTRE_NAMES.get(region, (f"Privat billedcenter {r + 1}a", f"Privat billedcenter {r + 1}b"))
            out.append((producers.ids[producers.offset[r, t] + j], names[j]))
    return out[:n]


def generate_returns(rng: np.random.Generator, eff: dict, scale: float, centre_list: list[tuple[str, str]]
                     ) -> tuple[pa.Table, pa.Table]:
    rl = eff["return_letters"]
    vf = volume_factor(eff, scale)
    month_list = months(rl["first_month"], rl["last_month"])
    n_m, n_c, n_e = len(month_list), len(centre_list), len(EXAM_TYPES)
    month_num = np.array([int(str(m)[5:7]) for m in month_list])
    season = np.ones(n_m)
    for k, v in rl["season"].items():
        season[month_num == int(k)] = float(v)
    size = np.exp(rng.normal(0.0, float(rl["centre_size_sd"]), n_c))
    base = np.array([float(rl["referrals_per_month"][e]) for e in EXAM_TYPES])
    mu = vf * size[:, None, None] * season[None, :, None] * base[None, None, :]
    referrals = rng.poisson(mu)                                               # [centre, month, exam]
    baseline = rng.binomial(referrals, float(rl["baseline_return_share"]))

    start = np.datetime64(rl["campaign_start"][:7], "M")
    m_since = np.array([(m - start).astype(int) for m in month_list])
    prop = np.array(rl["centre_propensity"], float)
    if len(prop) != n_c:
        raise ValueError("effects.toml: centre_propensity needs one value per centre")
    prop = rng.permutation(prop)
    peak = float(rl["max_letters_first_month"]) * prop / prop.max() * vf
    decay = np.where(m_since >= 0, np.exp(-float(rl["decay_per_month"]) * np.maximum(m_since, 0)), 0.0)
    total = rng.poisson(peak[:, None] * decay[None, :])                        # [centre, month]
    share = np.array([float(rl["letter_exam_share"][e]) for e in EXAM_TYPES])
    share /= share.sum()
    letters = np.zeros_like(referrals)
    left, rest = total.copy(), 1.0
    for e in range(n_e - 1):
        letters[:, :, e] = rng.binomial(left, min(share[e] / rest, 1.0))
        left -= letters[:, :, e]
        rest -= share[e]
    letters[:, :, n_e - 1] = left
    letters = np.minimum(letters, referrals - baseline)

    # referrals_received: one row per centre x month x exam type
    c_i, m_i, e_i = (a.ravel() for a in np.meshgrid(np.arange(n_c), np.arange(n_m), np.arange(n_e), indexing="ij"))
    m_arr = np.array(month_list, dtype="datetime64[M]")
    month_day = (m_arr.astype("datetime64[D]") - EPOCH).astype(np.int32)
    month_len = ((m_arr + 1).astype("datetime64[D]") - m_arr.astype("datetime64[D]")).astype(np.int32)
    pid = pa.array([c[0] for c in centre_list])
    name = pa.array([c[1] for c in centre_list])
    exam = pa.array(list(EXAM_TYPES))
    order = np.lexsort((e_i, c_i, m_i))
    c_i, m_i, e_i = c_i[order], m_i[order], e_i[order]
    received = pa.table({
        "month": pa.array(month_day[m_i], type=pa.date32()),
        "exam_type": exam.take(pa.array(e_i.astype(np.int8))),
        "producer_id": pid.take(pa.array(c_i.astype(np.int16))),
        "centre": name.take(pa.array(c_i.astype(np.int16))),
        "referrals": pa.array(referrals[c_i, m_i, e_i].astype(np.int32)),
    })

    # returned_referrals: one row per returned referral
    nb, nl = baseline[c_i, m_i, e_i], letters[c_i, m_i, e_i]
    cells = np.arange(len(c_i))
    r_cell = np.concatenate([np.repeat(cells, nb), np.repeat(cells, nl)])
    r_letter = np.concatenate([np.zeros(nb.sum(), bool), np.ones(nl.sum(), bool)])
    day = month_day[m_i[r_cell]] + (rng.random(len(r_cell)) * month_len[m_i[r_cell]]).astype(np.int32)
    order = np.lexsort((r_letter, e_i[r_cell], c_i[r_cell], day))
    r_cell, r_letter, day = r_cell[order], r_letter[order], day[order]
    returned = pa.table({
        "return_date": pa.array(day.astype(np.int32), type=pa.date32()),
        "exam_type": exam.take(pa.array(e_i[r_cell].astype(np.int8))),
        "producer_id": pid.take(pa.array(c_i[r_cell].astype(np.int16))),
        "centre": name.take(pa.array(c_i[r_cell].astype(np.int16))),
        "return_letter": pa.array(r_letter),
    })
    return received, returned
