"""Configuration of the synthetic generator: planted effects, study years, code lists, municipalities.

Everything the generator plants is read from ``effects.toml`` beside this file; the study years
from ``etl/config/settings.toml``; the imaging codes from ``etl/config/codes``; the category labels
from ``etl/config/vocabularies.toml``; the municipalities from the shared reference folder. The test suite reads the same files.
"""
from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from etl.vocabularies import codes

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
CONFIG_DIR = REPO_ROOT / "etl" / "config"
EFFECTS_FILE = PACKAGE_DIR / "effects.toml"

# Category labels written as text, from the vocabularies (etl/config/vocabularies.toml); their order
# is the integer code used inside the generator
REFERRERS = codes("referrer")
PRODUCER_TYPES = codes("producer_type")
PRIORITIES = codes("priority")
MODALITIES = codes("modality")
EXAM_TYPES = codes("exam_type")


def default_reference_dir() -> Path:
    """``../shared/reference`` beside the repository."""
    return REPO_ROOT.parent / "shared" / "reference"


def load_effects(path: Path | None = None) -> dict:
    with open(path or EFFECTS_FILE, "rb") as fh:
        return tomllib.load(fh)


def load_study(path: Path | None = None) -> dict:
    """first_year, last_year and adult_min_age from ``settings.toml``."""
    with open(path or CONFIG_DIR / "settings.toml", "rb") as fh:
        raw = tomllib.load(fh)
    s = raw["study"]
    return {"first_year": int(s["first_year"]), "last_year": int(s["last_year"]),
            "adult_min_age": int(s["adult_min_age"])}


def read_code_list(name: str) -> list[dict[str, str]]:
    with open(CONFIG_DIR / "codes" / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def imaging_codes() -> dict[str, list[str]]:
    """Procedure codes per modality from ``imaging_procedures.csv``."""
    out: dict[str, list[str]] = {}
    for r in read_code_list("imaging_procedures"):
        out.setdefault(r["modality"], []).append(r["code"])
    return out


def diagnosis_prefixes() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in read_code_list("diagnoses"):
        out.setdefault(r["group"], []).append(r["code_prefix"])
    return out


def surgery_prefixes() -> list[str]:
    return [r["code_prefix"] for r in read_code_list("surgery")]


@dataclass(frozen=True)
class Municipalities:
    code: np.ndarray           # int16 kommune codes
    name: list[str]
    region_index: np.ndarray   # int8 index into region_names
    region_names: list[str]
    region_codes: list[int]
    population: np.ndarray     # float64 approx_population_2024

    def lookup(self, values: np.ndarray, default=0) -> np.ndarray:
        """A table indexed by kommune code (0-999) holding ``values`` (one per municipality)."""
        table = np.full(1000, default, dtype=np.asarray(values).dtype)
        table[self.code] = values
        return table


def load_municipalities(reference_dir: Path) -> Municipalities:
    path = Path(reference_dir) / "municipalities.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the shared reference folder must stand beside the repository")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    region_names: list[str] = []
    region_codes: list[int] = []
    for r in rows:
        if r["region_name"] not in region_names:
            region_names.append(r["region_name"])
            region_codes.append(int(r["region_code"]))
    return Municipalities(
        code=np.array([int(r["kommune_code"]) for r in rows], dtype=np.int16),
        name=[r["kommune_name"] for r in rows],
        region_index=np.array([region_names.index(r["region_name"]) for r in rows], dtype=np.int8),
        region_names=region_names,
        region_codes=region_codes,
        population=np.array([float(r["approx_population_2024"]) for r in rows]),
    )


def weights(mapping: dict) -> tuple[list[str], np.ndarray]:
    """Keys and normalised weights of a {label: weight} table."""
    keys = list(mapping)
    w = np.array([float(mapping[k]) for k in keys])
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum: {mapping}")
    return keys, w / w.sum()


def code_table(mapping: dict, size: int, default: float = 1.0) -> np.ndarray:
    """A float lookup array indexed by integer code from a {"code": value} table."""
    t = np.full(size, default)
    for k, v in mapping.items():
        t[int(k)] = float(v)
    return t


def validate(effects: dict, municipalities: Municipalities) -> None:
    """Check that effects.toml agrees with the code lists and the reference municipalities."""
    problems = []
    img = imaging_codes()
    for modality, table in effects["imaging"]["codes"].items():
        for code in table:
            if code not in img.get(modality, []):
                problems.append(f"imaging code {code} is not a {modality} code in imaging_procedures.csv")
    dx = diagnosis_prefixes()
    for group in ("lumbar", "red_flag"):
        for code in effects["codes"][group]:
            if not any(code.startswith(p) for p in dx[group]):
                problems.append(f"diagnosis code {code} matches no {group} prefix in diagnoses.csv")
    all_prefixes = [p for ps in dx.values() for p in ps]
    for code in effects["codes"]["unrelated_diagnosis"]:
        if any(code.startswith(p) for p in all_prefixes):
            problems.append(f"unrelated diagnosis code {code} matches a prefix in diagnoses.csv")
    sp = surgery_prefixes()
    for code in effects["codes"]["spine_surgery"]:
        if not any(code.startswith(p) for p in sp):
            problems.append(f"spine surgery code {code} matches no prefix in surgery.csv")
    for code in effects["codes"]["unrelated_surgery"]:
        if any(code.startswith(p) for p in sp):
            problems.append(f"unrelated surgery code {code} matches a spine prefix in surgery.csv")
    for region in effects["imaging"]["region"]:
        if region not in municipalities.region_names:
            problems.append(f"region {region!r} is not in municipalities.csv")
    codes = set(municipalities.code.tolist())
    for o in effects["imaging"]["outliers"]:
        if o["kommune_code"] not in codes:
            problems.append(f"outlier municipality {o['kommune_code']} is not in municipalities.csv")
    if problems:
        raise ValueError("etl/synthetic/effects.toml: " + "; ".join(problems))
