"""The compare page's state: its URL hash (level, period, up to four areas, the two measures of the
scatter, and ``peers=1`` for the first municipality's comparable municipalities as a comparator),
each value checked, and the state after an event (:func:`sync_compare`)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from atlas import data, db, profile
from atlas.measures import MEASURES
from atlas.state import click_code

LEVELS = ("municipality", "region")
DEFAULT = {"level": "municipality", "x": "imaging_rate", "y": "surgery_long_share"}
MAX_AREAS = 4


def read_hash(hash_) -> dict:
    """level, period, areas (at most four of the level), x and y from the hash, each checked."""
    raw = {k: v[-1] for k, v in parse_qs((hash_ or "").lstrip("#")[:500]).items()}
    out = dict(DEFAULT, period=profile.default_period(), areas=[], peers=False)
    if raw.get("level") in LEVELS:
        out["level"] = raw["level"]
    for key in ("x", "y"):
        if raw.get(key) in MEASURES and raw.get(key) in data.source().measures():
            out[key] = raw[key]
    offered = {f"{a}-{b}": (a, b) for a, b in profile.periods()}
    if raw.get("period") in offered:
        out["period"] = offered[raw["period"]]
    out["peers"] = raw.get("peers") == "1" and out["level"] == "municipality"
    codes = db.level_codes().get(out["level"], set())
    for part in str(raw.get("areas", "")).split(",")[:MAX_AREAS]:
        if part.isdigit() and int(part) in codes and int(part) not in out["areas"]:
            out["areas"].append(int(part))
    return out


def write_hash(state: dict) -> str:
    keep = {k: state[k] for k in ("level", "x", "y") if state[k] != DEFAULT[k]}
    if state["period"] != profile.default_period():
        keep["period"] = f"{state['period'][0]}-{state['period'][1]}"
    if state.get("peers"):
        keep["peers"] = 1
    if state["areas"]:
        keep["areas"] = ",".join(str(c) for c in state["areas"][:MAX_AREAS])
    return "#" + urlencode(keep) if keep else ""


def area_options(level: str) -> list[dict]:
    """The areas of ``level`` by name, for the area dropdown."""
    a = db.areas()
    part = a[a.level == level].sort_values("name")
    return [{"label": n, "value": int(c)} for c, n in zip(part.code, part.name)]


def sync_compare(address, controls: dict, trigger, click) -> dict:
    """The compare page's state after an event: the hash and what every control shows.

    The address (on load or when it changes) is read as it is; a change of a control, or a click on
    the scatter (which adds or removes that area), makes a proposal read back through ``read_hash``,
    so every value is checked. A change of level empties the areas."""
    state = read_hash(address if isinstance(address, str) else "")
    if trigger not in (None, "compare-url"):
        areas, level, period = controls.get("areas"), controls.get("level"), controls.get("period")
        areas = [a for a in areas if isinstance(a, int)] if isinstance(areas, list) else []
        if trigger == "compare-scatter":
            code = click_code(click)
            if code is not None:
                areas = [a for a in areas if a != code] if code in areas else areas + [code]
        if level != state["level"]:
            areas = []
        proposed = {"level": level if level in LEVELS else state["level"],
                    "x": controls.get("x") if controls.get("x") in data.source().measures() else state["x"],
                    "y": controls.get("y") if controls.get("y") in data.source().measures() else state["y"], "areas": areas[:MAX_AREAS],
                    "period": tuple(int(p) for p in period.split("-")) if isinstance(period, str) and
                    period.replace("-", "").isdigit() else state["period"],
                    "peers": controls.get("peers") is True}
        state = read_hash(write_hash(proposed))
    return {"hash": write_hash(state), "level": state["level"], "period": f"{state['period'][0]}-{state['period'][1]}",
            "area-options": area_options(state["level"]), "areas": state["areas"], "x": state["x"], "y": state["y"],
            "peers": state["peers"]}
