"""The synthetic population: a fixed cohort followed over the study years.

Everyone who is ever resident in a study year is created up front (the initial population plus
births and immigrants of each later year) with fixed traits (person id, birth year, sex, origin,
final education, latent income and labour-market position) and the years they are present
(``entry`` <= year < ``exit``). Municipality is state that changes with moves; the yearly
attributes (attained education, income quintile, labour-market status) are derived per year.
Everything is vectorised over persons; loops are over years only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.synthetic.config import Municipalities, code_table

NO_EXIT = np.int16(9999)
MAX_AGE = 110
AGE_TABLE = 256          # lookup tables are indexed by age clipped to 0..255
INCOME_SCALE = 230_000.0   # disposable income (kroner) of a person with income latent 0
INCOME_SPREAD = 0.45       # kroner = INCOME_SCALE * exp(INCOME_SPREAD * latent), rounded to whole kroner


@dataclass
class Cohort:
    person_id: np.ndarray    # int64
    birth_year: np.ndarray   # int16
    sex: np.ndarray          # int8, 1 male 2 female
    origin: np.ndarray       # int8, 1 Danish 2 immigrant 3 descendant
    entry: np.ndarray        # int16, first study year present
    exit: np.ndarray         # int16, first study year no longer present (NO_EXIT: still present)
    edu_final: np.ndarray    # int8, 1-4 or 9
    income_z: np.ndarray     # float32 person-level income latent
    labour_z: np.ndarray     # float32 person-level labour-market latent
    municipality: np.ndarray  # int16, current municipality (updated year by year)

    def __len__(self) -> int:
        return len(self.birth_year)

    def present(self, year: int) -> np.ndarray:
        return np.flatnonzero((self.entry <= year) & (self.exit > year))


def _ranges_table(rows, width: int, default=0.0) -> np.ndarray:
    """Lookup by age (0..AGE_TABLE-1) from rows [from, to, v1, v2, ...]."""
    t = np.full((AGE_TABLE, width), default, dtype=np.float64)
    for r in rows:
        lo, hi = int(r[0]), int(r[1])
        hi = AGE_TABLE - 1 if hi >= 200 else min(hi, AGE_TABLE - 1)      # 200 stands for "and older"
        t[lo:hi + 1] = np.asarray(r[2:2 + width], dtype=np.float64)
    return t


def _gompertz_survival(pe: dict, sex: int) -> np.ndarray:
    ages = np.arange(MAX_AGE + 1, dtype=np.float64)
    hr = pe["hazard_ratio_male"] if sex == 1 else pe["hazard_ratio_female"]
    a, b = pe["gompertz_a"] * hr, pe["gompertz_b"]
    return np.exp(-a / b * (np.exp(b * ages) - 1.0))


def _hazard(pe: dict, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    hr = np.where(sex == 1, pe["hazard_ratio_male"], pe["hazard_ratio_female"])
    h = pe["gompertz_a"] * hr * np.exp(pe["gompertz_b"] * np.minimum(age, MAX_AGE).astype(np.float64))
    p = 1.0 - np.exp(-h)
    return np.where(age >= MAX_AGE, 1.0, p)


def _grow(x: np.ndarray, extra: int, fill) -> np.ndarray:
    return np.concatenate([x, np.full(extra, fill, x.dtype)])


class _Traits:
    """Draws of the fixed traits of new persons (education, income and labour latents)."""

    def __init__(self, pe: dict):
        self.pe = pe
        rows = sorted(pe["education_by_cohort"], key=lambda r: r[0])
        years = np.arange(1850, 2101)
        shares = np.stack([np.interp(years, [r[0] for r in rows], [r[k] for r in rows]) for k in range(1, 5)], axis=1)
        shares /= shares.sum(axis=1, keepdims=True)
        self.edu_cum = np.cumsum(shares, axis=1)[:, :3]      # cut points for levels 2, 3, 4
        self.edu_year0 = 1850
        self.edu_unknown = code_table(pe["education_unknown"], 4, 0.0)
        self.income_loading = code_table(pe["income_education_loading"], 10, 0.0)

    def education(self, rng, birth_year: np.ndarray, origin: np.ndarray) -> np.ndarray:
        i = np.clip(birth_year.astype(np.int64) - self.edu_year0, 0, len(self.edu_cum) - 1)
        u = rng.random(len(i))
        cum = self.edu_cum[i]
        edu = 1 + (u > cum[:, 0]).astype(np.int8) + (u > cum[:, 1]) + (u > cum[:, 2])
        unknown = rng.random(len(i)) < self.edu_unknown[origin]
        return np.where(unknown, 9, edu).astype(np.int8)

    def income_z(self, rng, edu: np.ndarray) -> np.ndarray:
        z = self.income_loading[edu] + self.pe["income_person_sd"] * rng.standard_normal(len(edu))
        return z.astype(np.float32)

    def labour_z(self, rng, n: int) -> np.ndarray:
        return rng.standard_normal(n).astype(np.float32)


def build_cohort(rng: np.random.Generator, pe: dict, first_year: int, last_year: int,
                 munis: Municipalities, scale: float) -> Cohort:
    """Create everyone present in some study year, with entry and exit years."""
    n_years = last_year - first_year + 1
    target_last = munis.population.sum() * scale
    muni_w = munis.population / munis.population.sum()
    traits = _Traits(pe)
    ages = np.arange(MAX_AGE + 1)
    cohort_factor = np.ones(MAX_AGE + 1)
    for lo, hi, f in pe["cohort_size"]:
        by = first_year - 1 - ages
        cohort_factor[(by >= lo) & (by <= hi)] = f
    age_w = {s: cohort_factor * _gompertz_survival(pe, s) for s in (1, 2)}
    ob = _ranges_table(pe["origin_by_age"], 2)             # initial immigrant and descendant shares by age
    # probability of leaving (death or emigration) during a year by origin, sex and age on 1 January
    t_age = np.arange(AGE_TABLE)
    young = (t_age >= 20) & (t_age <= 34)
    leave_table = np.zeros((4, 3, AGE_TABLE), np.float32)
    for o in (1, 2, 3):
        p_emig = (np.full(AGE_TABLE, pe["emigration_rate_immigrant"]) if o == 2 else
                  np.where(young, pe["emigration_rate_young"], pe["emigration_rate_other"]))
        for s in (1, 2):
            leave_table[o, s] = np.minimum(_hazard(pe, t_age, np.full(AGE_TABLE, s)) + p_emig, 1.0)
    # size of the initial population: the last year's target shrunk by the expected net growth
    leave = 0.0
    for s in (1, 2):
        w = age_w[s] / age_w[s].sum()
        imm, desc = ob[ages, 0], ob[ages, 1]
        lt = leave_table[:, s, :MAX_AGE + 1]
        leave += 0.5 * float(np.sum(w * ((1 - imm - desc) * lt[1] + imm * lt[2] + desc * lt[3])))
    growth = 1.0 + pe["birth_rate"] + pe["immigration_rate"] - leave
    leave_table = leave_table.ravel()
    n0 = max(int(round(target_last / growth ** (n_years - 1))), 50)
    cap = int(n0 * (1.0 + 0.03 * n_years)) + 1000

    birth_year = np.zeros(cap, np.int16)
    sex = np.zeros(cap, np.int8)
    origin = np.zeros(cap, np.int8)
    entry = np.zeros(cap, np.int16)
    exit_ = np.full(cap, NO_EXIT, np.int16)
    muni = np.zeros(cap, np.int16)

    # Initial population: age on 1 January of the first year from cohort size x survival, by sex
    n_male = n0 // 2
    parts = []
    for s, n_s in ((1, n_male), (2, n0 - n_male)):
        w = age_w[s]
        parts.append((np.full(n_s, s, np.int8), rng.choice(ages, size=n_s, p=w / w.sum())))
    sex[:n0] = np.concatenate([p[0] for p in parts])
    age0 = np.concatenate([p[1] for p in parts])
    birth_year[:n0] = first_year - 1 - age0
    u = rng.random(n0)
    p_imm, p_desc = ob[age0, 0], ob[age0, 1]
    origin[:n0] = np.where(u < p_imm, 2, np.where(u < p_imm + p_desc, 3, 1))
    entry[:n0] = first_year
    muni[:n0] = munis.code[rng.choice(len(muni_w), size=n0, p=muni_w)]
    n = n0

    # Years: exits during year y (death, emigration) and entries on 1 January of y + 1
    for y in range(first_year, last_year):
        idx = np.flatnonzero(exit_[:n] > y)             # everyone created so far has entry <= y
        a = np.minimum(y - 1 - birth_year[idx], AGE_TABLE - 1).astype(np.int32)
        key = (origin[idx].astype(np.int32) * 3 + sex[idx]) * AGE_TABLE + a
        leaves = rng.random(len(idx), dtype=np.float32) < leave_table[key]
        exit_[idx[leaves]] = y + 1
        n_alive = len(idx)
        nb = int(rng.poisson(pe["birth_rate"] * n_alive))
        ni = int(rng.poisson(pe["immigration_rate"] * n_alive))
        if n + nb + ni > cap:                             # grow the arrays (rare)
            extra = n + nb + ni - cap + cap // 4
            birth_year, sex, origin, entry, muni = (_grow(x, extra, 0) for x in (birth_year, sex, origin, entry, muni))
            exit_ = _grow(exit_, extra, NO_EXIT)
            cap = len(birth_year)
        # births during y: age 0 on 1 January y + 1
        sl = slice(n, n + nb)
        birth_year[sl] = y
        sex[sl] = np.where(rng.random(nb) < pe["male_birth_share"], 1, 2)
        origin[sl] = np.where(rng.random(nb) < pe["descendant_birth_share"], 3, 1)
        n += nb
        # immigrants arriving during y
        sl = slice(n, n + ni)
        child = rng.random(ni) < pe["immigrant_child_share"]
        a_adult = np.clip(np.rint(rng.normal(pe["immigrant_age_mean"], pe["immigrant_age_sd"], ni)), 18, 75)
        arrival_age = np.where(child, rng.integers(0, 18, ni), a_adult).astype(np.int16)
        birth_year[sl] = y - arrival_age                # age on 1 January y + 1
        sex[sl] = rng.integers(1, 3, ni)
        origin[sl] = 2
        n += ni
        new = slice(n - nb - ni, n)
        entry[new] = y + 1
        muni[new] = munis.code[rng.choice(len(muni_w), size=nb + ni, p=muni_w)]

    birth_year, sex, origin, entry, exit_, muni = (x[:n].copy() for x in (birth_year, sex, origin, entry, exit_, muni))
    edu = traits.education(rng, birth_year, origin)
    person_id = (rng.permutation(n) + 10_000_001).astype(np.int64)
    return Cohort(person_id=person_id, birth_year=birth_year, sex=sex, origin=origin, entry=entry, exit=exit_,
                  edu_final=edu, income_z=traits.income_z(rng, edu), labour_z=traits.labour_z(rng, n),
                  municipality=muni)


class YearAttributes:
    """Derives the yearly attributes (education, income quintile, labour status) and moves."""

    def __init__(self, pe: dict, munis: Municipalities):
        self.pe = pe
        self.munis = munis
        self.muni_w = munis.population / munis.population.sum()
        cap = np.full(AGE_TABLE, 99, np.int8)
        for lo, hi, c in pe["education_cap_by_age"]:
            cap[lo:min(hi, AGE_TABLE - 1) + 1] = c
        self.edu_cap = cap
        order = [int(c) for c in pe["labour_order"]]
        shares = _ranges_table(pe["labour_by_age"], len(order))
        shares /= shares.sum(axis=1, keepdims=True)
        self.labour_cuts = np.ascontiguousarray(np.cumsum(shares, axis=1)[:, :-1].T, dtype=np.float32)
        self.labour_codes = np.array(order, np.int8)
        self.labour_shift = code_table(pe["labour_education_shift"], 10, 0.0).astype(np.float32)
        self.income_shift = code_table(pe["income_labour_shift"], 10, 0.0).astype(np.float32)
        self.income_unknown = code_table(pe["income_unknown"], 4, 0.0).astype(np.float32)
        ages = np.arange(AGE_TABLE)
        self.move_rate = np.where((ages >= 18) & (ages <= 34), pe["move_rate_young"],
                                  pe["move_rate_other"]).astype(np.float32)

    def move(self, rng, cohort: Cohort, idx: np.ndarray, year: int) -> int:
        """Moves between 1 January of year - 1 and of year; returns the number of movers."""
        a = np.clip(year - 1 - cohort.birth_year[idx], 0, AGE_TABLE - 1)
        movers = idx[rng.random(len(idx), dtype=np.float32) < self.move_rate[a]]
        new = self.munis.code[rng.choice(len(self.muni_w), size=len(movers), p=self.muni_w)]
        same = new == cohort.municipality[movers]         # draw once more for the few who drew home
        new[same] = self.munis.code[rng.choice(len(self.muni_w), size=int(same.sum()), p=self.muni_w)]
        cohort.municipality[movers] = new
        return len(movers)

    def derive(self, rng, cohort: Cohort, idx: np.ndarray, year: int, adult_min_age: int) -> dict:
        age = (year - 1 - cohort.birth_year[idx]).astype(np.int16)
        a = np.clip(age, 0, AGE_TABLE - 1)
        final = cohort.edu_final[idx]
        education = np.where(final == 9, 9, np.minimum(final, self.edu_cap[a])).astype(np.int8)

        w = np.float32(self.pe["labour_person_weight"])
        x = (w * cohort.labour_z[idx] + np.sqrt(1 - w * w) * rng.standard_normal(len(idx), dtype=np.float32)
             + self.labour_shift[final])
        u = 1.0 / (1.0 + np.exp(np.float32(-1.7) * x))
        k = np.zeros(len(idx), np.int8)
        for cut in self.labour_cuts:                    # one cut point per category boundary, by age
            k += u > cut[a]
        labour = self.labour_codes[k]

        inc = (cohort.income_z[idx] + self.income_shift[labour]
               + np.float32(self.pe["income_year_sd"]) * rng.standard_normal(len(idx), dtype=np.float32))
        adult = age >= adult_min_age
        unknown = rng.random(len(idx), dtype=np.float32) < self.income_unknown[cohort.origin[idx]]
        # disposable income in whole kroner (IND's DISPON_NY in the register layout); the quintile is
        # the register adapter's rule (etl/registers/models/income.sql): cut points at the 20/40/60/80 %
        # quantiles (linear interpolation) of the adults with a known income, everyone with a known
        # income placed by them (1 + the number of cut points at or below the income)
        income = np.rint(INCOME_SCALE * np.exp(INCOME_SPREAD * inc.astype(np.float64)))
        ref = adult & ~unknown
        cuts = np.quantile(income[ref] if ref.any() else income, [0.2, 0.4, 0.6, 0.8])
        quintile = (1 + np.searchsorted(cuts, income, side="right")).astype(np.int8)
        quintile[unknown] = 9
        income[unknown] = np.nan
        return {"age": age, "education": education, "income_quintile": quintile, "labour_status": labour,
                "income": income}
