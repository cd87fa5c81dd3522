"""The vocabularies of the atlas (``etl/config/vocabularies.toml``): one registry per coded column.

Each vocabulary holds its codes in order with their English and Danish names, its title, and, for
the ones a reader can filter by, the key of its filter and whether it divides the population too.
The contract, the synthetic generator, the atlas's filters and its labels all read them here.
The age bands take their codes from ``settings.toml``, where their ages are.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from etl.settings import CONFIG_DIR, load_settings

VOCABULARIES_FILE = CONFIG_DIR / "vocabularies.toml"


@dataclass(frozen=True)
class Vocabulary:
    name: str                       # the column it codes
    title: tuple[str, str]          # English, Danish
    codes: tuple                    # in the order the atlas shows them
    names: dict                     # code -> (English, Danish)
    url: str | None = None          # the filter's key in the atlas's address (None: no filter)
    population: bool = False        # a population group: divides the denominators too

    def index(self, code) -> int:
        """The position of a code (the synthetic generator's integer for it)."""
        return self.codes.index(code)


def _read(name: str, spec: dict) -> Vocabulary:
    if "codes" in spec:
        entries = spec["codes"]
        codes = tuple(e["code"] for e in entries)
        names = {e["code"]: (e["en"], e["da"]) for e in entries}
    else:                                           # the age bands: codes and names are their labels
        codes = tuple(b.label for b in load_settings().age_bands)
        names = {c: (c, c) for c in codes}
    if len(set(codes)) != len(codes):
        raise ValueError(f"{VOCABULARIES_FILE}: [{name}] lists a code twice")
    return Vocabulary(name, tuple(spec["title"]), codes, names, spec.get("url"), bool(spec.get("population", False)))


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    """Every vocabulary by name, in the order of the file."""
    with open(VOCABULARIES_FILE, "rb") as fh:
        raw = tomllib.load(fh)
    return {name: _read(name, spec) for name, spec in raw.items()}


def vocabulary(name: str) -> Vocabulary:
    return vocabularies()[name]


def codes(name: str) -> tuple:
    """The codes of vocabulary ``name``, in order."""
    return vocabularies()[name].codes


def filters() -> list[Vocabulary]:
    """The vocabularies a reader can filter the atlas by, in the order of the file."""
    return [v for v in vocabularies().values() if v.url]
