"""``generate()``: write a full set of synthetic extracts following docs/data-contract.md."""
from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from etl.synthetic.config import PRIORITIES, PRODUCER_TYPES, REFERRERS, default_reference_dir, load_effects, load_municipalities, load_study, validate
from etl.synthetic.events import Chunks, EventModel, dedupe_imaging
from etl.synthetic.population import YearAttributes, build_cohort
from etl.synthetic.returns import centres, generate_returns

COMPRESSION = "zstd"
TABLES = ("population", "imaging", "diagnoses", "surgery", "rehabilitation", "chiro_billing", "referrals_received",
          "returned_referrals")
CHIRO_CLINIC = PRODUCER_TYPES.index("chiropractor_clinic")


def _write(table: pa.Table, path: Path) -> None:
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression=COMPRESSION)
    tmp.replace(path)


class _Writer:
    """Writes Parquet files in a background thread (pyarrow releases the GIL while encoding), so the
    next year is generated while the last one is written; at most ``depth`` tables wait in memory."""

    def __init__(self, depth: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future] = []
        self.depth = depth

    def submit(self, table: pa.Table, path: Path) -> None:
        while len(self.pending) >= self.depth:
            self.pending.pop(0).result()
        self.pending.append(self.pool.submit(_write, table, path))

    def close(self) -> None:
        try:
            for f in self.pending:
                f.result()
        finally:
            self.pool.shutdown(wait=True)


def _labels(labels, codes: np.ndarray) -> pa.Array:
    return pa.array(list(labels), pa.string()).take(pa.array(codes))


def _date(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.date32())


LAYOUTS = ("contract", "registers")


def generate(out_dir: Path, scale: float = 0.1, seed: int = 42, reference_dir: Path | None = None,
             progress: Callable[[str], None] | None = None, effects: dict | None = None,
             layout: str = "contract") -> dict:
    """Write synthetic register-style extracts (Parquet) into ``out_dir``.

    ``scale`` 1.0 is all of Denmark (about 5.9 million residents a year); the result is the same
    for the same ``seed`` and ``scale``. Planted effects are read from ``etl/synthetic/effects.toml``
    (or taken from ``effects``, a dict of the same form, for tests that plant other sizes).
    ``layout`` "contract" writes the tables of docs/data-contract.md; "registers" writes the
    same world as the registers deliver it (BEF, UDDA, IND, AKM, LPR2, LPR3, SSSY; see
    :mod:`etl.synthetic.registers`). Returns the number of rows written per table and the seconds.
    """
    t0 = time.perf_counter()
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout == "registers":
        import shutil
        import tempfile

        from etl.synthetic.registers import write_registers

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".contract-", dir=out_dir))
        try:
            summary = _generate(work, scale, seed, reference_dir, progress, effects, keep_income=True)
            (progress or (lambda m: None))("synthetic: writing the register layout")
            summary.update(write_registers(work, Path(out_dir), seed))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        return summary
    return _generate(out_dir, scale, seed, reference_dir, progress, effects)


def _generate(out_dir: Path, scale: float, seed: int, reference_dir: Path | None,
              progress: Callable[[str], None] | None, effects: dict | None = None,
              keep_income: bool = False) -> dict:
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eff = effects if effects is not None else load_effects()
    study = load_study()
    munis = load_municipalities(Path(reference_dir) if reference_dir else default_reference_dir())
    validate(eff, munis)
    first, last, adult = study["first_year"], study["last_year"], study["adult_min_age"]
    years = list(range(first, last + 1))

    ss = np.random.SeedSequence(seed)
    s_cohort, s_effects, s_returns, s_years = ss.spawn(4)
    year_seeds = s_years.spawn(len(years) + 1)
    # the planted MRI cluster has streams of its own (spawned after the others, which stay as they were)
    cluster_seeds = ss.spawn(1)[0].spawn(len(years) + 1)
    # so do the unknown categories of the registers (origin 9, no AKM record)
    unknown_seeds = ss.spawn(1)[0].spawn(len(years) + 1)

    say(f"synthetic: building the cohort (scale {scale}, seed {seed})")
    cohort = build_cohort(np.random.default_rng(s_cohort), eff["population"], first, last, munis, scale)
    model = EventModel(eff, munis, study, np.random.default_rng(s_effects))
    attrs = YearAttributes(eff["population"], munis)
    chunks = Chunks()
    rows = dict.fromkeys(TABLES, 0)
    writer = _Writer()
    try:
        unknown = _Unknown(eff["population"], cohort, unknown_seeds)
        _years(years, (year_seeds, cluster_seeds), cohort, attrs, model, chunks, rows, writer, out_dir, adult, say, t0,
               unknown, keep_income)
        _events(cohort, model, chunks, rows, writer, out_dir)
        # returned referrals
        received, returned = generate_returns(np.random.default_rng(s_returns), eff, scale,
                                              centres(eff, model.producers, munis.region_names))
        writer.submit(received, out_dir / "referrals_received.parquet")
        writer.submit(returned, out_dir / "returned_referrals.parquet")
        rows["referrals_received"], rows["returned_referrals"] = received.num_rows, returned.num_rows
    finally:
        writer.close()

    seconds = round(time.perf_counter() - t0, 2)
    say(f"synthetic: done in {seconds:.1f} s")
    return {**rows, "persons": len(cohort), "seconds": seconds}


class _Unknown:
    """The unknown categories the registers have: origin 9 (a fixed trait of a share of immigrants)
    and labour-market status 9 (adults without an AKM record in a year). Drawn from streams of
    their own and applied only to what is written: the imaging model sees the true category."""

    def __init__(self, pe: dict, cohort, seeds):
        self.pe, self.seeds = pe, seeds
        rng = np.random.default_rng(seeds[0])
        self.origin = (cohort.origin == 2) & (rng.random(len(cohort)) < float(pe["origin_unknown_immigrant"]))

    def written_origin(self, cohort, idx) -> np.ndarray:
        return np.where(self.origin[idx], 9, cohort.origin[idx]).astype(np.int8)

    def written_labour(self, i: int, y: int, cohort, idx, age, labour, adult: int) -> np.ndarray:
        rng = np.random.default_rng(self.seeds[i + 1])
        new_immigrant = (cohort.entry[idx] == y) & (cohort.origin[idx] == 2)
        p = np.where(new_immigrant, float(self.pe["labour_unknown_new_immigrant"]), float(self.pe["labour_unknown_other"]))
        missing = (age >= adult) & (rng.random(len(idx)) < p)
        return np.where(missing, 9, labour).astype(np.int8)


def _years(years, year_seeds, cohort, attrs, model, chunks, rows, writer, out_dir, adult, say, t0,
           unknown, keep_income=False) -> None:
    """Population files, imaging and background events, year by year."""
    first = years[0]
    year_seeds, cluster_seeds = year_seeds

    for i, y in enumerate(years):
        rng = np.random.default_rng(year_seeds[i + 1])
        idx = cohort.present(y)
        if y > first:
            attrs.move(rng, cohort, idx, y)
        ya = attrs.derive(rng, cohort, idx, y, adult)
        cols = {"sex": cohort.sex[idx], "municipality": cohort.municipality[idx], "origin": cohort.origin[idx]}
        columns = {
            "person_id": pa.array(cohort.person_id[idx]),
            "year": pa.array(np.full(len(idx), y, np.int16)),
            "birth_year": pa.array(cohort.birth_year[idx]),
            "sex": pa.array(cols["sex"]),
            "municipality": pa.array(cols["municipality"]),
            "education": pa.array(ya["education"]),
            "income_quintile": pa.array(ya["income_quintile"]),
            "origin": pa.array(unknown.written_origin(cohort, idx)),
            "labour_status": pa.array(unknown.written_labour(i, y, cohort, idx, ya["age"], ya["labour_status"], adult)),
        }
        if keep_income:       # for the register layout: IND's disposable income behind the quintile
            columns["disposable_income"] = pa.array(ya["income"], from_pandas=True)
        table = pa.table(columns)
        writer.submit(table, out_dir / f"population_{y}.parquet")
        rows["population"] += len(idx)
        del table

        a = np.flatnonzero(ya["age"] >= adult)
        pop = {"idx": idx[a], "age": ya["age"][a], "sex": cols["sex"][a], "municipality": cols["municipality"][a],
               "education": ya["education"][a], "income_quintile": ya["income_quintile"][a],
               "origin": cols["origin"][a], "labour_status": ya["labour_status"][a]}
        n_res = len(idx)
        del ya, idx, cols
        mult = model.multiplier(pop, i)
        if i == 0:
            model.set_base(mult)
            # warm-up: follow-up MRIs of imagings in the year before the study reach into its first year
            rng0 = np.random.default_rng(year_seeds[0])
            warm = model.imaging_year(rng0, y - 1, -1, pop, mult, cohort, keep_from=model.first_day)
            chunks.imaging.append(warm)
            model.around(rng0, warm, cohort, chunks)
            rngc0 = np.random.default_rng(cluster_seeds[0])
            extra = model.cluster_year(rngc0, y - 1, -1, pop, mult, cohort, keep_from=model.first_day)
            if extra is not None:
                chunks.imaging.append(extra)
                model.around(rngc0, extra, cohort, chunks)
        img = model.imaging_year(rng, y, i, pop, mult, cohort)
        chunks.imaging.append(img)
        model.around(rng, img, cohort, chunks)
        model.background(rng, y, pop["idx"], cohort, chunks)
        rngc = np.random.default_rng(cluster_seeds[i + 1])
        extra = model.cluster_year(rngc, y, i, pop, mult, cohort)
        if extra is not None:
            chunks.imaging.append(extra)
            model.around(rngc, extra, cohort, chunks)
        say(f"synthetic: {y}: {n_res:,} residents, {len(a):,} adults, {len(img['day']) + (len(extra['day']) if extra else 0):,} imagings "
            f"({time.perf_counter() - t0:.1f} s)")
        del pop, mult



def _chiro_billing(cohort, model, img: dict, rows, writer, out_dir) -> None:
    """``chiro_billing``: one billing per chiropractor X-ray, by ISO fee week (yyyyww, as SSSY's HONUGE),
    with a synthetic service code; no date, no body region, no SKS code."""
    import pandas as pd

    iso = pd.to_datetime(img["day"].astype("int64"), unit="D").isocalendar()
    codes = model.eff.get("chiro_billing", {}).get("service_codes", {"SYN-RX": 1.0})
    names = list(codes)
    p = np.array([codes[c] for c in names], float)
    rng = np.random.default_rng(int(img["day"].sum()) % (2**32) if len(img["day"]) else 0)
    table = pa.table({
        "person_id": pa.array(cohort.person_id[img["person"]]),
        "fee_week": pa.array((iso["year"].to_numpy() * 100 + iso["week"].to_numpy()).astype(np.int32)),
        "service_code": _labels(names, rng.choice(len(names), size=len(img["day"]), p=p / p.sum()).astype(np.int32)),
    })
    writer.submit(table, out_dir / "chiro_billing.parquet")
    rows["chiro_billing"] = table.num_rows


def _events(cohort, model, chunks, rows, writer, out_dir) -> None:
    """The event tables, sorted by date (stable, so the order is reproducible)."""
    img = dedupe_imaging({k: np.concatenate([c[k] for c in chunks.imaging]) for k in chunks.imaging[0]})
    chunks.imaging = []
    order = np.argsort(img["day"], kind="stable")
    img = {k: v[order] for k, v in img.items()}
    # X-rays at a chiropractor's own clinic are billed to the health-insurance register (SSSY), not
    # reported to the patient register: they leave the imaging extract for chiro_billing
    billed = img["ptype"] == CHIRO_CLINIC
    _chiro_billing(cohort, model, {k: v[billed] for k, v in img.items()}, rows, writer, out_dir)
    img = {k: v[~billed] for k, v in img.items()}
    table = pa.table({
        "person_id": pa.array(cohort.person_id[img["person"]]),
        "procedure_date": _date(img["day"]),
        "procedure_code": _labels(model.img_codes, img["code"]),
        "priority": _labels(PRIORITIES, np.where(img["acute"], PRIORITIES.index("acute"),
                                                 PRIORITIES.index("planned")).astype(np.int8)),
        "referrer_type": _labels(REFERRERS, img["referrer"]),
        "producer_type": _labels(PRODUCER_TYPES, img["ptype"]),
        "producer_id": _labels(model.producers.ids, img["producer"]),
    })
    writer.submit(table, out_dir / "imaging.parquet")
    rows["imaging"] = table.num_rows
    del img, table

    for name, date_col, code_col, labels in (("diagnoses", "diagnosis_date", "icd10", model.dx_codes),
                                             ("surgery", "surgery_date", "procedure_code", model.op_codes),
                                             ("rehabilitation", "plan_date", None, None)):
        parts = getattr(chunks, name)
        person = np.concatenate([p[0] for p in parts])
        day = np.concatenate([p[1] for p in parts])
        order = np.argsort(day, kind="stable")
        cols = {"person_id": pa.array(cohort.person_id[person[order]]), date_col: _date(day[order])}
        if code_col:
            cols[code_col] = _labels(labels, np.concatenate([p[2] for p in parts])[order])
        writer.submit(pa.table(cols), out_dir / f"{name}.parquet")
        rows[name] = len(person)
        setattr(chunks, name, [])
