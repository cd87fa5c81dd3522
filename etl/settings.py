"""Configuration of the atlas, read from ``etl/config``.

Code lists, windows, age bands, the standard population and the column mapping of the inputs
are configuration, not code: this module only reads them and hands them out as plain values.
"""
from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "etl" / "config"
DEFAULT_DB = REPO_ROOT / "data" / "atlas.duckdb"


@dataclass(frozen=True)
class AgeBand:
    label: str
    lower: int
    upper: int


@dataclass(frozen=True)
class Settings:
    first_year: int
    last_year: int
    adult_min_age: int
    windows: dict[str, int]
    age_bands: tuple[AgeBand, ...]
    standard_default: str
    esp2013_file: Path
    denmark_year: int
    min_count: int
    max_noise: int
    reference_dir: Path
    geo_dir: Path
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def window(self, name: str) -> int:
        return self.windows[name]

    @property
    def min_birth_year(self) -> int:
        """The earliest birth year the data contract accepts (``[contract]`` in settings.toml; the
        contract, its documentation and the tests all read it from there)."""
        return int(self.raw.get("contract", {}).get("min_birth_year", 1900))

    @property
    def municipality_recode(self) -> dict[int, int]:
        """Population municipality codes that are not municipalities -> the one their residents are
        counted with (``[contract.municipality_recode]``: Christiansø 411 -> Bornholm 400)."""
        return {int(k): int(v) for k, v in self.raw.get("contract", {}).get("municipality_recode", {}).items()}


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()


@lru_cache(maxsize=4)
def load_settings(path: Path | None = None) -> Settings:
    """Read ``settings.toml`` (or the given file) into a :class:`Settings`."""
    path = Path(path) if path else CONFIG_DIR / "settings.toml"
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    bands = tuple(AgeBand(b["label"], int(b["from"]), int(b["to"])) for b in raw["age_bands"])
    for a, b in zip(bands, bands[1:]):
        if b.lower != a.upper + 1:
            raise ValueError(f"{path}: age bands {a.label} and {b.label} leave a gap or overlap")
    if bands[0].lower != raw["study"]["adult_min_age"]:
        raise ValueError(f"{path}: the first age band must start at adult_min_age")
    return Settings(
        first_year=int(raw["study"]["first_year"]),
        last_year=int(raw["study"]["last_year"]),
        adult_min_age=int(raw["study"]["adult_min_age"]),
        windows={k: int(v) for k, v in raw["windows"].items()},
        age_bands=bands,
        standard_default=raw["standard_population"]["default"],
        esp2013_file=_resolve(raw["standard_population"]["esp2013_file"]),
        denmark_year=int(raw["standard_population"]["denmark_year"]),
        min_count=int(raw["suppression"]["min_count"]),
        max_noise=int(raw["suppression"]["max_noise"]),
        reference_dir=_resolve(raw["paths"]["reference_dir"]),
        geo_dir=_resolve(raw["paths"]["geo_dir"]),
        raw=raw,
    )


def read_code_list(name: str) -> list[dict[str, str]]:
    """Rows of a code list in ``etl/config/codes/NAME.csv``."""
    with open(CONFIG_DIR / "codes" / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class ConfigError(Exception):
    """A configuration file (or option) the build cannot use; the message says which and why."""


def load_column_mapping(path: Path | None = None) -> dict:
    """The column mapping of the input extracts (``columns.toml`` or an analyst's copy).

    Raises :class:`ConfigError` for a file that is missing, is not TOML, or is not shaped like
    ``etl/config/columns.toml`` (a [tables.NAME] section per table, text values).
    """
    default = CONFIG_DIR / "columns.toml"
    path = Path(path) if path else default
    todo = f"start from a copy of {default} (see docs/data-contract.md)"
    try:
        with open(path, "rb") as fh:
            tables = tomllib.load(fh).get("tables")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the column mapping {path} is not valid TOML ({exc}); {todo}") from None
    except IsADirectoryError:
        raise ConfigError(f"the column mapping {path} is a folder, not a file; {todo}") from None
    except OSError as exc:
        raise ConfigError(f"the column mapping {path} cannot be read ({exc.strerror or exc}); {todo}") from None
    with open(default, "rb") as fh:
        known = tomllib.load(fh)["tables"]
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"the column mapping {path} has no [tables.NAME] sections; {todo}")
    for name, spec in tables.items():
        where = f"the column mapping {path}, [tables.{name}]"
        if name not in known:
            raise ConfigError(f"{where}: '{name}' is not a table of the contract ({', '.join(known)}); {todo}")
        if not isinstance(spec, dict) or not isinstance(spec.get("files", ""), str):
            raise ConfigError(f"{where}: 'files' must be a text pattern such as \"{name}*\"; {todo}")
        columns = spec.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) and v.strip() for v in columns.values()):
            raise ConfigError(f"{where}.columns: every column must map to a column name in quotes; {todo}")
        unknown = set(columns) - set(known[name].get("columns", {}))
        if unknown:
            raise ConfigError(f"{where}.columns: {', '.join(sorted(unknown))} not a column of the contract "
                              f"(the left-hand sides stay as in {default.name}); {todo}")
        if not isinstance(spec.get("values", {}), dict):
            raise ConfigError(f"{where}.values: must be sections of code = \"value\" lines; {todo}")
    return tables


def esp2013_band_weights(settings: Settings | None = None) -> dict[str, float]:
    """Weights of the 2013 European Standard Population for the atlas's age bands.

    Each ESP five-year group contributes to a band in proportion to the years of the group the
    band covers (uniform within a group), so 18-24 takes 2/5 of 15-19 and all of 20-24.
    The last ESP group (90+) counts as open-ended.
    """
    settings = settings or load_settings()
    if not settings.esp2013_file.exists():
        raise FileNotFoundError(
            f"The European Standard Population file {settings.esp2013_file} is missing: "
            "put the shared reference folder beside the repository (../shared/reference)."
        )
    with open(settings.esp2013_file, newline="", encoding="utf-8") as fh:
        groups = [
            (int(r["age_from"]), int(r["age_to"]) if r["age_to"] else 200, float(r["weight"]))
            for r in csv.DictReader(fh)
        ]
    weights = {}
    for band in settings.age_bands:
        total = 0.0
        for lo, hi, w in groups:
            overlap = min(hi, band.upper) - max(lo, band.lower) + 1
            if overlap > 0:
                total += w * overlap / (hi - lo + 1) if hi < 200 else w
        weights[band.label] = total
    return weights


@lru_cache(maxsize=4)
def load_checks_config(path: Path | None = None) -> dict:
    """The plausibility checks and their thresholds (``etl/config/checks.toml``), by check name."""
    path = Path(path) if path else CONFIG_DIR / "checks.toml"
    with open(path, "rb") as fh:
        return tomllib.load(fh)["checks"]
