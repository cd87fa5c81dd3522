"""The pandas baseline: the population and imaging cubes written the straightforward way in pandas."""
from __future__ import annotations

import time
from pathlib import Path

GB = 1e9
PANDAS_MEMORY_CAP = 16 * GB        # above this the pandas baseline is stopped and rerun year by year
PANDAS_BYTES_PER_ROW = 150         # peak bytes per population row of the all-at-once run (~130 measured at scale 0.1)
COMPARABLE_STEPS = ("linked", "population cube", "imaging cube")   # build steps doing the same work
PANDAS_COVERS = (
    "population_cube (adults by year x municipality x sex x age band x education x income x origin x labour: "
    "persons) and imaging_cube counts by the same dimensions x modality x priority x referrer: n_imaging, "
    "n_first (first in year), n_episode (episode start), and follow-ups linked by a merge on person and a "
    "date window: n_diag_short, n_surgery_short, n_surgery_long, n_rehab_short, n_rehab_long. "
    "Not covered (the ETL does them too): contract validation at staging, X-ray-then-MRI, "
    "repeat MRI, red flags and low-value imaging, the episode cube, returned referrals, boundaries.")


POP_DIMS = ["year", "municipality", "sex", "age_band", "education", "income", "origin", "labour"]
IMG_DIMS = POP_DIMS + ["modality", "priority", "referrer"]
FOLLOW_UPS = {"diag_short": ("lumbar", "follow_up_short_days"),
              "surgery_short": ("surgery", "follow_up_short_days"),
              "surgery_long": ("surgery", "follow_up_long_days"),
              "rehab_short": ("rehab", "follow_up_short_days"),
              "rehab_long": ("rehab", "follow_up_long_days")}


def pandas_estimate_bytes(input_dir: Path) -> int:
    """Rough peak memory of the all-at-once pandas run, from the population files' row counts."""
    import pyarrow.parquet as pq

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(Path(input_dir).glob("population*.parquet")))
    return rows * PANDAS_BYTES_PER_ROW


def pandas_baseline(input_dir: str, by_year: bool = False, out_dir: str | None = None) -> dict:
    """The population cube and the imaging cube's counts written the straightforward way in pandas.

    Reads the Parquet extracts with pandas, flags each lumbar imaging (first in year, episode
    start, what followed within the windows: a merge on person then a filter on the date window),
    joins imaging to the population by person and year, and counts with ``groupby``. With
    ``by_year`` the population is read and joined one year's file at a time (bounded memory).
    Returns the seconds it took, the sizes of the cubes and their totals (to check against the ETL).
    """
    import numpy as np
    import pandas as pd

    from etl.settings import load_settings, read_code_list

    t0 = time.perf_counter()
    settings = load_settings()
    w = settings.windows
    input_dir = Path(input_dir)
    edges = [b.lower for b in settings.age_bands] + [np.inf]
    labels = [b.label for b in settings.age_bands]
    modality = {r["code"]: r["modality"] for r in read_code_list("imaging_procedures")}
    dx_prefixes = tuple(r["code_prefix"] for r in read_code_list("diagnoses") if r["group"] == "lumbar")
    op_prefixes = tuple(r["code_prefix"] for r in read_code_list("surgery"))

    # imaging, flagged over each person's whole history
    img = pd.read_parquet(input_dir / "imaging.parquet",
                          columns=["person_id", "procedure_date", "procedure_code", "priority", "referrer_type"])
    img["modality"] = img["procedure_code"].map(modality)
    img = img[img["modality"].notna()].rename(columns={"referrer_type": "referrer"})
    img["date"] = pd.to_datetime(img["procedure_date"])
    img["year"] = img["date"].dt.year
    img = img.sort_values(["person_id", "date"], kind="stable").reset_index(drop=True)
    img["first"] = ~img.duplicated(["person_id", "year"])
    gap = img["date"] - img.groupby("person_id")["date"].shift()
    img["episode"] = gap.isna() | (gap.dt.days > w["episode_clean_days"])
    img["imaging_id"] = np.arange(len(img))

    # what followed: merge each imaging with the person's events, keep those in the window
    persons = img["person_id"].unique()
    dx = pd.read_parquet(input_dir / "diagnoses.parquet")
    dx = dx[dx["icd10"].str.startswith(dx_prefixes) & dx["person_id"].isin(persons)]
    op = pd.read_parquet(input_dir / "surgery.parquet")
    op = op[op["procedure_code"].str.startswith(op_prefixes) & op["person_id"].isin(persons)]
    rh = pd.read_parquet(input_dir / "rehabilitation.parquet")
    rh = rh[rh["person_id"].isin(persons)]
    events = {"lumbar": dx.rename(columns={"diagnosis_date": "event_date"})[["person_id", "event_date"]],
              "surgery": op.rename(columns={"surgery_date": "event_date"})[["person_id", "event_date"]],
              "rehab": rh.rename(columns={"plan_date": "event_date"})[["person_id", "event_date"]]}
    del dx, op, rh
    for kind, ev in events.items():
        ev = ev.assign(event_date=pd.to_datetime(ev["event_date"]))
        pairs = img[["imaging_id", "person_id", "date"]].merge(ev, on="person_id")
        days = (pairs["event_date"] - pairs["date"]).dt.days
        for name, (k, window) in FOLLOW_UPS.items():
            if k != kind:
                continue
            hit = pairs.loc[(days >= 0) & (days <= w[window]), "imaging_id"].unique()
            img[name] = img["imaging_id"].isin(hit)
        del pairs, days
    img = img.drop(columns=["procedure_date", "procedure_code", "date", "imaging_id"])

    # population, joined by person and year
    files = sorted(input_dir.glob("population*.parquet"))
    batches = [[f] for f in files] if by_year else [files]
    pop_cubes, img_cubes = [], []
    counts = {"first": "n_first", "episode": "n_episode", **{k: f"n_{k}" for k in FOLLOW_UPS}}
    for batch in batches:
        pop = pd.concat([pd.read_parquet(f) for f in batch], ignore_index=True)
        pop = pop.rename(columns={"income_quintile": "income", "labour_status": "labour"})
        age = pop["year"] - pop["birth_year"] - 1
        pop = pop[age >= settings.adult_min_age]
        pop["age_band"] = pd.cut(age[age >= settings.adult_min_age], edges, right=False, labels=labels)
        pop = pop.drop(columns=["birth_year"])
        pop_cubes.append(pop.groupby(POP_DIMS, observed=True).size().rename("persons").reset_index())
        years = pop["year"].unique()
        part = img[img["year"].isin(years)].merge(pop, on=["person_id", "year"], how="inner")
        del pop
        agg = {"n_imaging": ("first", "size"), **{v: (k, "sum") for k, v in counts.items()}}
        img_cubes.append(part.groupby(IMG_DIMS, observed=True).agg(**agg).reset_index())
        del part
    population_cube = pd.concat(pop_cubes, ignore_index=True)
    imaging_cube = pd.concat(img_cubes, ignore_index=True)
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        population_cube.to_parquet(Path(out_dir) / "pandas_population_cube.parquet")
        imaging_cube.to_parquet(Path(out_dir) / "pandas_imaging_cube.parquet")
    seconds = time.perf_counter() - t0
    totals = {"population_cube.rows": len(population_cube), "population_cube.persons": int(population_cube["persons"].sum()),
              "imaging_cube.rows": len(imaging_cube),
              **{f"imaging_cube.{c}": int(imaging_cube[c].sum()) for c in ["n_imaging", *counts.values()]}}
    return {"seconds": seconds, "by_year": by_year, "totals": totals}


def etl_totals(db_path: Path) -> dict:
    """The same totals as :func:`pandas_baseline`, from the ETL's database."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        p_rows, p_sum = con.execute("SELECT count(*), sum(persons) FROM population_cube").fetchone()
        cols = ["n_imaging", "n_first", "n_episode", *[f"n_{k}" for k in FOLLOW_UPS]]
        i = con.execute(f"SELECT count(*), {', '.join(f'sum({c})' for c in cols)} FROM imaging_cube").fetchone()
    finally:
        con.close()
    return {"population_cube.rows": int(p_rows), "population_cube.persons": int(p_sum or 0),
            "imaging_cube.rows": int(i[0]), **{f"imaging_cube.{c}": int(v or 0) for c, v in zip(cols, i[1:])}}
