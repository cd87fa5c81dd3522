"""The publication plan of the release (etl/config/release.toml): what is published, and how finely.

A *cell* of the release is one base count (persons, imaging, surgery within 90 days, ...) for one
area (municipality, region, 2027 region or Denmark), one period (a single year or a declared
multi-year period) and one *filter set*: a value for each dimension of a *pattern* (``[]`` is
everyone, ``["edu"]`` each education level, ``["edu", "modality"]`` each pair). The plan lists the
patterns of every base count; every combination of their values is published (zeros included), so
the tables add up and the suppression can see every margin an intruder could use.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from etl.domain import BASE_COUNTS as SOURCES  # base count -> (cube, column summed)
from etl.domain import DIM_ORDER, DIMS, LEVELS, OUTCOMES  # noqa: F401  (re-exported for the release modules)
from etl.domain import POPULATION_KEYS as POPULATION_DIMS
from etl.settings import CONFIG_DIR


def canonical(pattern) -> tuple[str, ...]:
    unknown = [d for d in pattern if d not in DIMS]
    if unknown:
        raise ValueError(f"release plan: unknown dimension(s) {unknown}; known: {', '.join(DIM_ORDER)}")
    return tuple(d for d in DIM_ORDER if d in set(pattern))


def fs_key(conditions: dict) -> str:
    """The text key of a filter set: ``"edu=1&modality=mri"`` in canonical order, ``""`` for everyone."""
    return "&".join(f"{k}={conditions[k]}" for k in DIM_ORDER if k in conditions)


@dataclass(frozen=True)
class Pattern:
    count: str
    dims: tuple[str, ...]
    levels: tuple[str, ...] = LEVELS
    periods: str = "all"           # "all", "single" (years), "multi" (declared periods) or "blocks"
                                   # (the declared periods that do not overlap: all but the longest)

    @property
    def key(self) -> str:
        return ",".join(self.dims)


@dataclass(frozen=True)
class Plan:
    min_count: int
    min_events_standardised: int
    expected_decimals: int
    multi_year: tuple[tuple[int, int], ...]
    patterns: tuple[Pattern, ...]
    joint_audit_seconds: float = 300.0
    joint_protection: bool = False
    count_protection_seconds: float = 600.0

    def counts(self) -> list[str]:
        return list(dict.fromkeys(p.count for p in self.patterns))

    def patterns_of(self, count: str) -> list[Pattern]:
        return [p for p in self.patterns if p.count == count]

    def has(self, count: str, dims, level: str) -> bool:
        dims = canonical(dims)
        return any(p.dims == dims and level in p.levels for p in self.patterns_of(count))

    def period_kinds(self, period: str) -> tuple[str, ...]:
        """The table ``periods`` options that include ``period``."""
        if "-" not in period:
            return ("all", "single")
        longest = max(self.multi_year, key=lambda ab: ab[1] - ab[0], default=None)
        a, b = (int(x) for x in period.split("-"))
        return ("all", "multi") if (a, b) == tuple(longest or ()) else ("all", "multi", "blocks")

    def has_period(self, count: str, dims, level: str, period: str) -> bool:
        dims = canonical(dims)
        kinds = self.period_kinds(period)
        return any(p.dims == dims and level in p.levels and p.periods in kinds for p in self.patterns_of(count))

    def labels(self, option: str, years: list[int]) -> list[str]:
        """Labels of the published periods a table's ``periods`` option covers."""
        return [label for label, _, _ in self.periods(years) if option in self.period_kinds(label)]

    def periods(self, years: list[int]) -> list[tuple[str, int, int]]:
        """(label, first, last) of every published period: each year, then the declared ones."""
        out = [(str(y), y, y) for y in years]
        for a, b in self.multi_year:
            if a in years and b in years and a < b:
                out.append((f"{a}-{b}", a, b))
        return out


def load_plan(path: Path | None = None) -> Plan:
    path = Path(path or CONFIG_DIR / "release.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"release plan {path}: {exc}") from exc
    patterns: list[Pattern] = []
    for i, table in enumerate(raw.get("tables", [])):
        where = f"release plan {path}, table {i + 1}"
        for count in table.get("counts", []):
            if count not in SOURCES:
                raise ValueError(f"{where}: unknown count {count!r}; known: {', '.join(SOURCES)}")
        levels = tuple(table.get("levels", LEVELS))
        if set(levels) - set(LEVELS):
            raise ValueError(f"{where}: unknown level(s) {sorted(set(levels) - set(LEVELS))}")
        periods = table.get("periods", "all")
        if periods not in ("all", "single", "multi", "blocks"):
            raise ValueError(f"{where}: periods must be 'all', 'single', 'multi' or 'blocks', not {periods!r}")
        for count in table.get("counts", []):
            for dims in table.get("patterns", []):
                dims = canonical(dims)
                if count == "persons" and any(d not in POPULATION_DIMS for d in dims):
                    raise ValueError(f"{where}: persons can only be split by population groups, not {dims}")
                patterns.append(Pattern(count, dims, levels, periods))
    if not any(p.count == "persons" and not p.dims for p in patterns):
        raise ValueError(f"release plan {path}: no table publishes `persons` for everyone; every rate needs it "
                         "as its denominator: add \"persons\" to a table with patterns = [[]]")
    prot = raw.get("protection", {})
    return Plan(
        min_count=int(prot.get("min_count", 5)),
        min_events_standardised=int(prot.get("min_events_standardised", 10)),
        expected_decimals=int(prot.get("expected_decimals", 1)),
        multi_year=tuple(tuple(int(y) for y in p) for p in raw.get("periods", {}).get("multi_year", [])),
        patterns=tuple(dict.fromkeys(patterns)),
        joint_audit_seconds=float(prot.get("joint_audit_seconds", 300.0)),
        joint_protection=bool(prot.get("joint_protection", False)),
        count_protection_seconds=float(prot.get("count_protection_seconds", 600.0)),
    )
