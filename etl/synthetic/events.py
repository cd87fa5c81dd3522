"""Lumbar imaging and the events around it (diagnoses, surgery, rehabilitation), year by year.

For each year the adults present on 1 January get a Poisson number of first ("index") imagings
with the planted rate; X-rays may be followed by an MRI, MRIs by a repeat MRI; then each imaging
gets its history (red flag, back pain) and what followed (lumbar diagnosis, surgery, rehabilitation
plan). Background events unrelated to imaging are added for random residents. All vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from etl.synthetic.config import MODALITIES, PRODUCER_TYPES, REFERRERS, Municipalities, code_table, weights
from etl.synthetic.population import AGE_TABLE, Cohort
from etl.synthetic.producers import Producers

EPOCH = np.datetime64("1970-01-01", "D")
# integer codes inside the generator: positions in the vocabularies
XRAY, MRI = (MODALITIES.index(m) for m in ("xray", "mri"))
CHIRO, HOSP = REFERRERS.index("chiropractor"), REFERRERS.index("hospital")
PUBLIC = PRODUCER_TYPES.index("public_hospital")


def jan1(year: int) -> int:
    """Days since 1970-01-01 of 1 January of the year."""
    return int((np.datetime64(f"{year}-01-01", "D") - EPOCH).astype(np.int64))


def _uniform_days(rng, lo_hi, n) -> np.ndarray:
    lo, hi = int(lo_hi[0]), int(lo_hi[1])
    return rng.integers(lo, hi + 1, n).astype(np.int32)


@dataclass
class Chunks:
    """Accumulated event arrays (person index into the cohort, day number, code index)."""
    imaging: list[dict] = field(default_factory=list)
    diagnoses: list[tuple] = field(default_factory=list)
    surgery: list[tuple] = field(default_factory=list)
    rehabilitation: list[tuple] = field(default_factory=list)


class EventModel:
    """Planted imaging model and its events, configured from effects.toml."""

    def __init__(self, eff: dict, munis: Municipalities, study: dict, rng_effects: np.random.Generator):
        self.eff = eff
        self.munis = munis
        self.first_year, self.last_year = study["first_year"], study["last_year"]
        self.adult = study["adult_min_age"]
        self.first_day = jan1(self.first_year)
        self.last_day = jan1(self.last_year + 1) - 1
        self.year_starts = np.array([jan1(y) for y in range(self.first_year - 2, self.last_year + 4)], np.int64)
        self.year_base = self.first_year - 2
        im = eff["imaging"]

        # rate multipliers as lookup tables
        age = np.zeros(AGE_TABLE)
        for lo, hi, m in im["age"]:
            age[lo:min(hi, AGE_TABLE - 1) + 1] = m
        f4 = np.float32
        self.age_mult = age.astype(f4)
        self.sex_mult = code_table(im["sex"], 3).astype(f4)
        self.edu_mult = code_table(im["education"], 10).astype(f4)
        self.inc_mult = code_table(im["income"], 10).astype(f4)
        self.origin_mult = code_table(im["origin"], 4).astype(f4)
        # change of the social gradients over the years: in year index k the education and income
        # multipliers are raised to the power factor^(k - middle); 1.0 keeps them constant
        gt = im.get("gradient_trend") or {}
        self.edu_factor = float(gt.get("education_annual_factor", 1.0))
        self.inc_factor = float(gt.get("income_annual_factor", 1.0))
        self.mid_year = (study["last_year"] - study["first_year"]) / 2.0
        self.labour_mult = code_table(im["labour"], 7).astype(f4)

        # municipality multiplier = region x (centred lognormal random effect | outlier)
        region_mult = np.array([im["region"][r] for r in munis.region_names])
        sd = float(im["municipality"]["random_effect_sd"])
        re = np.exp(rng_effects.normal(0.0, sd, len(munis.code)))
        outlier = np.zeros(len(munis.code), bool)
        for o in im["outliers"]:
            i = int(np.flatnonzero(munis.code == o["kommune_code"])[0])
            outlier[i] = True
        if im["municipality"].get("centred_within_region", True):
            for r in range(len(munis.region_names)):
                sel = (munis.region_index == r) & ~outlier
                re[sel] /= np.average(re[sel], weights=munis.population[sel])
        for o in im["outliers"]:
            re[munis.code == o["kommune_code"]] = float(o["multiplier"])
        self.municipality_effect = re                    # per municipality (reference order)
        # planted MRI cluster: extra first MRIs at (multiplier - 1) x the first-MRI rate
        cl = im.get("mri_cluster") or {}
        extra = np.zeros(len(munis.code), np.float32)
        for code in cl.get("kommune_codes", []):
            extra[munis.code == int(code)] = float(cl["mri_multiplier"]) - 1.0
        self.cluster_extra = munis.lookup(extra, np.float32(0))
        self.muni_mult = munis.lookup((region_mult[munis.region_index] * re).astype(np.float32), np.float32(0))
        self.muni_region = munis.lookup(munis.region_index.astype(np.int8), -1)
        self.base = None                                  # set from the first year's adults

        tr = im["trend"]
        self.xs0, self.xr, self.mr = float(tr["xray_share_first_year"]), float(tr["xray_annual_ratio"]), float(tr["mri_annual_ratio"])
        sq = im["sequence"]
        self.f_share, self.r_share = float(sq["xray_then_mri_share"]), float(sq["repeat_mri_share"])

        ref = eff["referrer"]
        self.ref_p = np.array([ref["share"][r] for r in REFERRERS], float)
        self.ref_p /= self.ref_p.sum()
        self.fref_p = np.array([ref["followup_share"].get(r, 0.0) for r in REFERRERS], float)
        self.fref_p /= self.fref_p.sum()
        self.chiro_x = float(ref["chiropractor_xray_share"])
        # referrers of the cluster's extra first MRIs: the index shares weighted by each one's MRI share
        mri_w = self.ref_p * np.where(np.arange(len(REFERRERS)) == CHIRO, 1.0 - self.chiro_x, 1.0)
        self.mri_ref_p = mri_w / mri_w.sum()
        self.x_rel = np.array([ref["xray_relative"].get(r, 1.0) for r in REFERRERS], float)
        self.acute_p = np.array([ref["acute"][r] for r in REFERRERS], float)

        pr = eff["producer"]
        self.other_region = float(pr["other_region_share"])
        self.ptype_p = {name: np.array([pr[name].get(t, 0.0) for t in PRODUCER_TYPES], float)
                        for name in ("xray_chiropractor", "xray_other", "mri_hospital", "mri_other")}
        for v in self.ptype_p.values():
            v /= v.sum()
        self.producers = Producers.build(eff, munis)

        self.img_codes: list[str] = []
        self.img_code_p = {}
        for m, modality in enumerate(MODALITIES):
            keys, p = weights(im["codes"][modality])
            self.img_code_p[m] = (np.arange(len(self.img_codes), len(self.img_codes) + len(keys)), p)
            self.img_codes += keys

        # diagnosis and surgery codes: one label list each, groups as index ranges
        self.dx_codes: list[str] = []
        self.dx_group = {}
        for g in ("lumbar", "red_flag", "unrelated_diagnosis"):
            keys, p = weights(eff["codes"][g])
            self.dx_group[g] = (np.arange(len(self.dx_codes), len(self.dx_codes) + len(keys)), p)
            self.dx_codes += keys
        self.op_codes: list[str] = []
        self.op_group = {}
        for g in ("spine_surgery", "unrelated_surgery"):
            keys, p = weights(eff["codes"][g])
            self.op_group[g] = (np.arange(len(self.op_codes), len(self.op_codes) + len(keys)), p)
            self.op_codes += keys

        h = eff["history"]
        self.red_p = np.array([h["red_flag"][r] for r in REFERRERS], float)
        self.back_p = np.array([h["back_pain"][r] for r in REFERRERS], float)

    # -- trend ---------------------------------------------------------------------------------
    def targets(self, k: int) -> tuple[float, float]:
        """X-ray and MRI rates (all imagings) in year k after the first, relative to year 0's total."""
        return self.xs0 * self.xr ** k, (1.0 - self.xs0) * self.mr ** k

    def index_rates(self, k: int) -> tuple[float, float]:
        """Rates of index X-rays and index MRIs that give the targets once follow-ups are added."""
        x, m = self.targets(k)
        m_idx = m / (1.0 + self.r_share) - self.f_share * x
        if m_idx <= 0:
            raise ValueError("effects.toml: the MRI trend leaves no room for first MRIs in year offset %d" % k)
        return x, m_idx

    def set_base(self, mult: np.ndarray) -> None:
        """Calibrate the base rate on the first year's adults so the period mean is the target."""
        n_years = self.last_year - self.first_year + 1
        mean_total = np.mean([sum(self.targets(k)) for k in range(n_years)])
        self.base = self.eff["imaging"]["rate_per_1000_adults"] / 1000.0 / (float(mult.mean(dtype=np.float64)) * mean_total)

    def gradient_power(self, factor: float, k: int) -> float:
        """Power of the education or income multipliers in year index k (1 when the gradient is constant)."""
        return factor ** (k - self.mid_year)

    def multiplier(self, pop: dict, k: int | None = None) -> np.ndarray:
        """Each adult's rate multiplier; ``k`` (year index) applies the planted change of the social
        gradients (``[imaging.gradient_trend]``), which is skipped entirely when they are constant."""
        a = np.clip(pop["age"], 0, AGE_TABLE - 1)
        edu, inc = self.edu_mult, self.inc_mult
        if k is not None and self.edu_factor != 1.0:
            edu = (edu ** self.gradient_power(self.edu_factor, k)).astype(np.float32)
        if k is not None and self.inc_factor != 1.0:
            inc = (inc ** self.gradient_power(self.inc_factor, k)).astype(np.float32)
        return (self.age_mult[a] * self.sex_mult[pop["sex"]] * self.muni_mult[pop["municipality"]]
                * edu[pop["education"]] * inc[pop["income_quintile"]]
                * self.origin_mult[pop["origin"]] * self.labour_mult[pop["labour_status"]])

    def year_of(self, day: np.ndarray) -> np.ndarray:
        return (np.searchsorted(self.year_starts, day, side="right") - 1 + self.year_base).astype(np.int16)

    # -- imaging -------------------------------------------------------------------------------
    def _producer(self, rng, modality, referrer, acute, region) -> tuple[np.ndarray, np.ndarray]:
        n = len(modality)
        u = rng.random(n)
        ptype = np.empty(n, np.int8)
        for name, sel in (("xray_chiropractor", (modality == XRAY) & (referrer == CHIRO)),
                          ("xray_other", (modality == XRAY) & (referrer != CHIRO)),
                          ("mri_hospital", (modality == MRI) & (referrer == HOSP)),
                          ("mri_other", (modality == MRI) & (referrer != HOSP))):
            cum = np.cumsum(self.ptype_p[name])
            ptype[sel] = np.searchsorted(cum[:-1], u[sel], side="right")
        ptype[acute] = PUBLIC
        n_regions = len(self.munis.region_names)
        away = rng.random(n) < self.other_region
        reg = np.where(away, (region + rng.integers(1, n_regions, n)) % n_regions, region)
        j = np.zeros(n, np.int32)
        for t in range(len(PRODUCER_TYPES)):
            sel = ptype == t
            j[sel] = rng.choice(self.producers.count[t], size=int(sel.sum()), p=self.producers.probs[t])
        return ptype, (self.producers.offset[reg, ptype] + j).astype(np.int16)

    def imaging_year(self, rng, year: int, k: int, pop: dict, mult: np.ndarray, cohort: Cohort,
                     keep_from: int | None = None) -> dict:
        """Imagings arising from the adults of ``year`` (index imagings in ``year``, follow-ups later).

        ``keep_from``: keep only rows on or after this day (used for the warm-up year before the
        study, whose follow-up MRIs reach into the first study year)."""
        x_rate, m_rate = self.index_rates(k)
        n_i = rng.poisson(mult * np.float32(self.base * (x_rate + m_rate)))
        who = np.repeat(np.arange(len(mult), dtype=np.int64), n_i)
        n = len(who)
        ref = rng.choice(len(REFERRERS), size=n, p=self.ref_p).astype(np.int8)
        # modality by referrer: chiropractors fixed, the others share the rest of the year's X-rays
        sx = x_rate / (x_rate + m_rate)
        chiro = self.ref_p[CHIRO]
        others = np.arange(len(REFERRERS)) != CHIRO
        q = (sx - chiro * self.chiro_x) / (1.0 - chiro)
        norm = (self.ref_p[others] * self.x_rel[others]).sum() / (1.0 - chiro)
        px = np.clip(q * self.x_rel / norm, 0.01, 0.99)
        px[CHIRO] = self.chiro_x
        modality = np.where(rng.random(n) < px[ref], XRAY, MRI).astype(np.int8)
        day = (jan1(year) + rng.integers(0, jan1(year + 1) - jan1(year), n)).astype(np.int32)
        return self._follow_ups(rng, who, ref, modality, day, pop, cohort, keep_from)

    def cluster_year(self, rng, year: int, k: int, pop: dict, mult: np.ndarray, cohort: Cohort,
                     keep_from: int | None = None) -> dict | None:
        """Extra first MRIs of the residents of the planted MRI cluster (``[imaging.mri_cluster]``).

        Drawn with their own random stream ``rng``, so the records of every other municipality are
        the same as without the cluster. Their follow-ups and repeat MRIs are drawn like any other's.
        """
        extra = self.cluster_extra[pop["municipality"]]
        if not extra.any():
            return None
        x_rate, m_rate = self.index_rates(k)
        n_i = rng.poisson(mult * extra * np.float32(self.base * m_rate))
        who = np.repeat(np.arange(len(mult), dtype=np.int64), n_i)
        n = len(who)
        ref = rng.choice(len(REFERRERS), size=n, p=self.mri_ref_p).astype(np.int8)
        modality = np.full(n, MRI, np.int8)
        day = (jan1(year) + rng.integers(0, jan1(year + 1) - jan1(year), n)).astype(np.int32)
        return self._follow_ups(rng, who, ref, modality, day, pop, cohort, keep_from)

    def _follow_ups(self, rng, who, ref, modality, day, pop, cohort, keep_from) -> dict:
        """Index imagings -> all imagings: follow-up and repeat MRIs, acute flag, producer, code."""
        n = len(who)
        # X-ray followed by MRI
        fx = np.flatnonzero((modality == XRAY) & (rng.random(n) < self.f_share))
        f_day = day[fx] + _uniform_days(rng, self.eff["imaging"]["sequence"]["xray_then_mri_days"], len(fx))
        f_ref = rng.choice(len(REFERRERS), size=len(fx), p=self.fref_p).astype(np.int8)
        # repeat MRIs after index MRIs and follow-up MRIs
        all_who = np.concatenate([who, who[fx]])
        all_day = np.concatenate([day, f_day])
        all_mod = np.concatenate([modality, np.full(len(fx), MRI, np.int8)])
        rx = np.flatnonzero((all_mod == MRI) & (rng.random(len(all_mod)) < self.r_share))
        r_day = all_day[rx] + _uniform_days(rng, self.eff["imaging"]["sequence"]["repeat_mri_days"], len(rx))
        r_ref = rng.choice(len(REFERRERS), size=len(rx), p=self.fref_p).astype(np.int8)

        out = {
            "pop": np.concatenate([all_who, all_who[rx]]),
            "day": np.concatenate([all_day, r_day]).astype(np.int32),
            "modality": np.concatenate([all_mod, np.full(len(rx), MRI, np.int8)]),
            "referrer": np.concatenate([ref, f_ref, r_ref]),
            "index": np.concatenate([np.ones(n, bool), np.zeros(len(fx) + len(rx), bool)]),
        }
        parent = np.full(len(out["day"]), -1, np.int64)             # the X-ray a follow-up MRI follows
        parent[n:n + len(fx)] = fx
        person = pop["idx"][out["pop"]]
        row_year = self.year_of(out["day"])
        keep = (out["day"] <= self.last_day) & (row_year < cohort.exit[person])
        if keep_from is not None:
            keep &= out["day"] >= keep_from
        followed = np.zeros(len(keep), bool)
        followed[parent[(parent >= 0) & keep]] = True
        out["followed"] = followed
        out = {key: v[keep] for key, v in out.items()}
        person = person[keep]
        m = len(person)
        out["person"] = person
        out["acute"] = rng.random(m) < self.acute_p[out["referrer"]]
        region = self.muni_region[pop["municipality"][out["pop"]]].astype(np.int64)
        out["ptype"], out["producer"] = self._producer(rng, out["modality"], out["referrer"], out["acute"], region)
        code = np.empty(m, np.int8)
        for mod, (codes, p) in self.img_code_p.items():
            sel = out["modality"] == mod
            code[sel] = rng.choice(codes, size=int(sel.sum()), p=p)
        out["code"] = code
        del out["pop"]
        return out

    # -- before and after ----------------------------------------------------------------------
    def _pick(self, rng, group: tuple, n: int) -> np.ndarray:
        codes, p = group
        return rng.choice(codes, size=n, p=p).astype(np.int8)

    def _valid(self, cohort: Cohort, person: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Events only while the person is resident (before the study: initial population only)."""
        y = self.year_of(day)
        entry = cohort.entry[person]
        return ((day <= self.last_day) & (y < cohort.exit[person])
                & ((y >= entry) | (entry == self.first_year)))

    def around(self, rng, img: dict, cohort: Cohort, chunks: Chunks) -> None:
        """History before and outcomes after each imaging."""
        o, h = self.eff["outcomes"], self.eff["history"]
        person, day, n = img["person"], img["day"], len(img["day"])
        dx_p, dx_d, dx_c = [], [], []

        sel = rng.random(n) < o["lumbar_diagnosis_share"]
        dx_p.append(person[sel])
        dx_d.append(day[sel] + _uniform_days(rng, o["lumbar_diagnosis_days"], int(sel.sum())))
        dx_c.append(self._pick(rng, self.dx_group["lumbar"], int(sel.sum())))

        idx = np.flatnonzero(img["index"])
        ref = img["referrer"][idx]
        red = idx[rng.random(len(idx)) < self.red_p[ref]]
        dx_p.append(person[red])
        dx_d.append(day[red] - _uniform_days(rng, (1, 365), len(red)))
        dx_c.append(self._pick(rng, self.dx_group["red_flag"], len(red)))
        back = rng.random(len(idx)) < self.back_p[ref]
        hist = idx[back]
        dx_p.append(person[hist])
        dx_d.append(day[hist] - _uniform_days(rng, h["back_pain_days"], len(hist)))
        dx_c.append(self._pick(rng, self.dx_group["lumbar"], len(hist)))
        new = idx[~back]
        recent = new[rng.random(len(new)) < h["recent_back_pain_share"]]
        dx_p.append(person[recent])
        dx_d.append(day[recent] - _uniform_days(rng, h["recent_back_pain_days"], len(recent)))
        dx_c.append(self._pick(rng, self.dx_group["lumbar"], len(recent)))
        self._add(chunks.diagnoses, cohort, dx_p, dx_d, dx_c)

        short, long_ = int(o["short_days"]), int(o["long_days"])

        def later(sel, frac):
            k = int(sel.sum())
            early = rng.random(k) < frac
            return day[sel] + np.where(early, _uniform_days(rng, (1, short), k),
                                       _uniform_days(rng, (short + 1, long_), k))

        p_op = np.where(img["modality"] == MRI, o["surgery_after_mri"],
                        np.where(img["followed"], 0.0, o["surgery_after_xray_only"]))
        sel = rng.random(n) < p_op
        self._add(chunks.surgery, cohort, [person[sel]], [later(sel, o["surgery_short_fraction"])],
                  [self._pick(rng, self.op_group["spine_surgery"], int(sel.sum()))])
        sel = rng.random(n) < o["rehabilitation_share"]
        self._add(chunks.rehabilitation, cohort, [person[sel]], [later(sel, o["rehabilitation_short_fraction"])], None)

    def background(self, rng, year: int, pop_idx: np.ndarray, cohort: Cohort, chunks: Chunks) -> None:
        """Events unrelated to imaging for random adult residents of the year."""
        b = self.eff["background"]
        n_adults = len(pop_idx)
        ndays = jan1(year + 1) - jan1(year)

        def draw(rate):
            k = int(rng.poisson(rate * n_adults))
            return pop_idx[rng.integers(0, n_adults, k)], (jan1(year) + rng.integers(0, ndays, k)).astype(np.int32), k

        ps, ds, cs = [], [], []
        for rate, group in ((b["unrelated_diagnosis_rate"], "unrelated_diagnosis"),
                            (b["lumbar_diagnosis_rate"], "lumbar"), (b["red_flag_diagnosis_rate"], "red_flag")):
            p, d, k = draw(rate)
            ps.append(p), ds.append(d), cs.append(self._pick(rng, self.dx_group[group], k))
        self._add(chunks.diagnoses, cohort, ps, ds, cs)
        ps, ds, cs = [], [], []
        for rate, group in ((b["unrelated_surgery_rate"], "unrelated_surgery"), (b["spine_surgery_rate"], "spine_surgery")):
            p, d, k = draw(rate)
            ps.append(p), ds.append(d), cs.append(self._pick(rng, self.op_group[group], k))
        self._add(chunks.surgery, cohort, ps, ds, cs)
        p, d, _ = draw(b["rehabilitation_rate"])
        self._add(chunks.rehabilitation, cohort, [p], [d], None)

    def _add(self, target: list, cohort: Cohort, ps, ds, cs) -> None:
        p = np.concatenate(ps)
        d = np.concatenate(ds).astype(np.int32)
        keep = self._valid(cohort, p, d)
        if cs is None:
            target.append((p[keep], d[keep]))
        else:
            target.append((p[keep], d[keep], np.concatenate(cs)[keep]))


def dedupe_imaging(img: dict) -> dict:
    """Drop exact repeats of the contract's imaging key (person, date, code, producer)."""
    n = len(img["day"])
    if n < 2:
        return img
    person, day = img["person"].astype(np.int64), img["day"].astype(np.int64) - int(img["day"].min())
    code, producer = img["code"].astype(np.int64), img["producer"].astype(np.int64)
    if person.max() < 2 ** 26 and day.max() < 2 ** 16 and code.max() < 2 ** 5 and producer.max() < 2 ** 14:
        key = (((person << 16) | day) << 5 | code) << 14 | producer      # one sortable int64 (61 bits)
        order = np.argsort(key, kind="stable")
        k = key[order]
        dup_sorted = np.zeros(n, bool)
        dup_sorted[1:] = k[1:] == k[:-1]
    else:
        order = np.lexsort((producer, code, day, person))
        p, d, c, pr = person[order], day[order], code[order], producer[order]
        dup_sorted = np.zeros(n, bool)
        dup_sorted[1:] = (p[1:] == p[:-1]) & (d[1:] == d[:-1]) & (c[1:] == c[:-1]) & (pr[1:] == pr[:-1])
    if not dup_sorted.any():
        return img
    keep = np.ones(n, bool)
    keep[order[dup_sorted]] = False
    return {k: v[keep] for k, v in img.items()}
