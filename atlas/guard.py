"""Checks on what a browser sends, before the app uses or echoes it.

A callback request (``POST /_dash-update-component``) must be a JSON object naming a callback the
app offers, with the fields Dash reads in the shapes Dash sends; anything else (``null``, a string,
``1e999``, a list, a deeply nested or unknown callback) is answered 400 with a short message, never
500. Values inside a well-formed request are checked by each callback against the app's whitelists
(:mod:`atlas.filters`).
"""
from __future__ import annotations

import json
import math
from urllib.parse import quote

MAX_DEPTH = 24               # the deepest real payload (a Plotly click inside a pattern-matching input) is ~10
MAX_HASH = 2000


class _Bad(ValueError):
    pass


class BadInput(ValueError):
    """Raised by a callback for a request the page does not offer; the app answers 400 with its message."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Bad("a number out of range")
    return value


def _constant(name: str):
    raise _Bad(f"{name} is not a number JSON allows")


def _depth_ok(value, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _is_prop(item) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), (str, dict)) and isinstance(item.get("property"), str)


def _props_ok(items) -> bool:
    """Inputs or states: a list of {id, property, value} or (pattern-matching) lists of them."""
    if not isinstance(items, list):
        return False
    for item in items:
        if isinstance(item, list):
            if not all(_is_prop(x) for x in item):
                return False
        elif not _is_prop(item):
            return False
    return True


def _same(sent, declared: dict) -> bool:
    """A sent input/state/output against the callback's declared one (pattern ids: property only)."""
    if isinstance(declared.get("id"), str) and not declared["id"].startswith("{"):
        return isinstance(sent, dict) and sent.get("id") == declared["id"] and sent.get("property") == declared["property"]
    items = sent if isinstance(sent, list) else [sent]
    return all(isinstance(x, dict) and x.get("property") == declared["property"] for x in items)


def _matches(body: dict, output: str, spec: dict) -> str | None:
    """Which part of the body does not fit the callback it names (inputs, state, outputs), or None."""
    for part in ("inputs", "state"):
        sent, declared = body.get(part) or [], spec.get(part) or []
        if len(sent) != len(declared) or not all(_same(x, d) for x, d in zip(sent, declared)):
            return part
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    declared = []
    for p in parts:
        ident, _, prop = p.rpartition(".")
        declared.append({"id": ident, "property": prop})
    outputs = body.get("outputs")
    sent = outputs if output.startswith("..") else [outputs]
    if not isinstance(sent, list) or len(sent) != len(declared) or not all(_same(x, d) for x, d in zip(sent, declared)):
        return "outputs"
    return None


def check_callback_body(raw: bytes, callbacks) -> str | None:
    """What is wrong with a callback request body, or None when it has the shape Dash expects."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=_finite, parse_constant=_constant)
    except _Bad as exc:
        return f"Malformed request: {exc}."
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "Malformed request: the body is not JSON."
    if not isinstance(body, dict):
        return "Malformed request: the body must be a JSON object."
    if not _depth_ok(body):
        return "Malformed request: nested too deeply."
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "Unknown callback."
    outputs = body.get("outputs")
    if not (_is_prop(outputs) or (isinstance(outputs, list) and all(_is_prop(o) or (isinstance(o, list) and all(_is_prop(x) for x in o))
                                                                    for o in outputs))):
        return "Malformed request: outputs."
    if not _props_ok(body.get("inputs")):
        return "Malformed request: inputs."
    if "state" in body and not _props_ok(body["state"]):
        return "Malformed request: state."
    problem = _matches(body, output, callbacks[output])
    if problem:
        return f"Malformed request: {problem} do not match the callback."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "Malformed request: changedPropIds."
    return None


def callback_problem(request, app) -> str | None:
    """The reason to refuse this request with a 400, or None (only callback requests are checked)."""
    if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
        return None
    return check_callback_body(request.get_data(cache=True), app.callback_map)


def safe_hash(hash_) -> str:
    """A URL fragment fit to put into a link: a string starting with '#', bounded, percent-encoded."""
    if not isinstance(hash_, str) or not hash_.startswith("#") or len(hash_) > MAX_HASH:
        return ""
    return "#" + quote(hash_[1:], safe="&=+-_.,;%~:")


def is_profile_path(pathname) -> bool:
    """True for an area profile's path (``/area/`` and up to six digits), the only app path with a variable."""
    return (isinstance(pathname, str) and pathname.startswith("/area/") and pathname[6:].isdigit()
            and len(pathname) <= 12)
