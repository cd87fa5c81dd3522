"""What the browser sends to the atlas page's callbacks (``POST /_dash-update-component``), built
from the app's own declaration in ``/_dash-dependencies``, and the seeded list of views the
benchmark times."""
from __future__ import annotations

import json
import random
from dataclasses import replace

CALLBACKS = ("draw_areas", "draw_trend", "draw_breakdown", "draw_mix")

# output ids of each figure callback of the atlas page, as the browser names them
CALLBACK_OUTPUTS = {
    "draw_areas": ("map.figure", "rank.figure", "funnel.figure", "variation.children", "selection-text.children",
                   "key-findings.children", "colour-note.children"),
    "draw_trend": ("trend.figure",),
    "draw_breakdown": ("breakdown.figure",),
    "draw_mix": ("mix.figure",),
}
VIEW_INPUT = ("view", "data")
WILDCARDS = ('["ALL"]', '["MATCH"]', '["ALLSMALLER"]')


def split_output(output: str) -> list[str]:
    """``..a.b...c.d..`` (several outputs) or ``a.b`` (one) -> ["a.b", "c.d"]."""
    if output.startswith("..") and output.endswith(".."):
        return output[2:-2].split("...")
    return [output]


def _dep_ref(item: dict) -> tuple[str, str]:
    return str(item["id"]), item["property"]


def is_view_store(ref: tuple[str, str]) -> bool:
    """The view's address (``view.data``) or a chart's own copy of it (``view-trend.data``, ...)."""
    ident, prop = ref
    return prop == "data" and (ident == VIEW_INPUT[0] or ident.startswith(VIEW_INPUT[0] + "-"))


def view_store_of(dep: dict) -> str | None:
    """The view store a callback reads as an input (``view``, ``view-mix``, ...), or None."""
    return next((_dep_ref(i)[0] for i in dep["inputs"] if is_view_store(_dep_ref(i))), None)


def _id_prop(output: str) -> tuple[str, str]:
    ident, prop = output.rsplit(".", 1)
    return ident, prop


def find_callbacks(deps: list) -> dict[str, dict]:
    """The app's own declaration (from ``/_dash-dependencies``) of each figure callback, by name."""
    found = {}
    for name, outputs in CALLBACK_OUTPUTS.items():
        for d in deps:
            if sorted(split_output(d["output"])) == sorted(outputs):
                found[name] = d
                break
    return found


def callback_name(dep: dict) -> str:
    """The benchmark's name of a callback: ``draw_areas`` ... for the figures, else its first output."""
    outputs = sorted(split_output(dep["output"]))
    for name, declared in CALLBACK_OUTPUTS.items():
        if outputs == sorted(declared):
            return name
    return split_output(dep["output"])[0]


def view_callbacks(deps: list) -> dict[str, dict]:
    """Every server callback the browser calls when the view changes (a view store, ``view.data`` or a
    chart's copy such as ``view-mix.data``, is one of its inputs; the others are sent as they are
    before anyone touches them), by name; callbacks that run in the browser (``clientside_function``)
    send nothing to the server."""
    return {callback_name(d): d for d in deps if view_store_of(d) is not None and not d.get("clientside_function")}


def callback_body(name: str, hash_: str, search: str = "", dep: dict | None = None) -> dict:
    """The body the browser POSTs to ``/_dash-update-component`` when ``view.data`` changes.

    ``dep`` is the callback's entry in ``/_dash-dependencies`` (its exact output, input and state
    ids); without it the atlas page's usual declaration is assumed.
    """
    if dep is None:
        outputs = CALLBACK_OUTPUTS[name]
        dep = {"output": outputs[0] if len(outputs) == 1 else ".." + "...".join(outputs) + "..",
               "inputs": [{"id": "view", "property": "data"}], "state": [{"id": "url", "property": "search"}]}
    outs = [{"id": i, "property": p} for i, p in map(_id_prop, split_output(dep["output"]))]

    def value(item):
        ref = _dep_ref(item)
        if is_view_store(ref):
            return hash_
        if item["property"] == "search":
            return search
        if item["property"] == "hash":
            return hash_
        if item["property"] == "pathname":
            return "/"
        return None

    return {
        "output": dep["output"],
        "outputs": outs[0] if len(outs) == 1 else outs,
        "inputs": [{"id": i["id"], "property": i["property"], "value": value(i)} for i in dep["inputs"]],
        "state": [{"id": i["id"], "property": i["property"], "value": value(i)} for i in dep["state"]],
        "changedPropIds": [f"{view_store_of(dep) or VIEW_INPUT[0]}.data"],
    }


def check_dependencies(deps: list) -> list[str]:
    """Names of the figure callbacks the app does not declare as the bench expects (one input, ``view.data``)."""
    found = find_callbacks(deps)
    return [name for name in CALLBACK_OUTPUTS
            if name not in found or len(found[name]["inputs"]) != 1 or view_store_of(found[name]) is None]


def router_body(deps: list, pathname: str = "/", search: str = "") -> tuple[dict | None, dict]:
    """dash's pages router callback (the page's own layout) for ``pathname``: (its declaration, the body)."""
    router = next((d for d in deps if "_pages_content.children" in split_output(d["output"])), None)
    dep = router or {"output": ".._pages_content.children..._pages_store.data..",
                     "inputs": [{"id": "_pages_location", "property": "pathname"},
                                {"id": "_pages_location", "property": "search"}], "state": []}
    outs = [{"id": i, "property": p} for i, p in map(_id_prop, split_output(dep["output"]))]
    return router, {
        "output": dep["output"], "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": [{**i, "value": {"pathname": pathname, "search": search}.get(i["property"])} for i in dep["inputs"]],
        "state": [{**i, "value": None} for i in dep["state"]],
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]}


# ------------------------------------------------------------------ the page's state callback

def state_callback(deps: list) -> dict | None:
    """The atlas page's state callback: controls and URL hash in, ``view.data`` out."""
    return next((d for d in deps if "view.data" in split_output(d["output"])), None)


def prop_id(ident, prop: str) -> str:
    """``id.property`` as dash writes it (a pattern id as its compact JSON with sorted keys)."""
    if isinstance(ident, dict):
        ident = json.dumps(ident, separators=(",", ":"), sort_keys=True)
    return f"{ident}.{prop}"


def _is_wild(ident) -> bool:
    return isinstance(ident, str) and any(w in ident for w in WILDCARDS)


def _wild_ids(ident: str, keys) -> list[dict]:
    """Concrete ids of an ``ALL`` pattern id such as ``{"key":["ALL"],"type":"dim"}``, one per key."""
    pattern = json.loads(ident)
    field = next(k for k, v in pattern.items() if v == ["ALL"])
    return [{**pattern, field: k} for k in keys]


def state_body(dep: dict, controls: dict, current: str | None, changed: str, dim_keys, search: str = "") -> dict:
    """The body the browser sends to the state callback after ``changed`` (e.g. ``measure.value``).

    ``controls`` maps each control's ``id.property`` (see :func:`prop_id`) to the value the page
    shows; ``current`` is ``view.data`` before the change (None on page load); ``dim_keys``: the
    keys of the ``ALL`` dropdowns (the population and imaging filters)."""
    def item(ident, prop: str):
        if _is_wild(ident):
            return [{"id": i, "property": prop, "value": controls.get(prop_id(i, prop))} for i in _wild_ids(ident, dim_keys)]
        if (ident, prop) == VIEW_INPUT:
            return {"id": ident, "property": prop, "value": current}
        return {"id": ident, "property": prop, "value": search if prop == "search" else controls.get(prop_id(ident, prop))}

    outs = []
    for part in split_output(dep["output"]):
        ident, prop = _id_prop(part)
        outs.append([{"id": i, "property": prop} for i in _wild_ids(ident, dim_keys)] if _is_wild(ident)
                    else {"id": ident, "property": prop})
    return {"output": dep["output"], "outputs": outs,
            "inputs": [item(i["id"], i["property"]) for i in dep["inputs"]],
            "state": [item(i["id"], i["property"]) for i in dep["state"]],
            "changedPropIds": [changed]}


def read_state_answer(answer: dict, controls: dict) -> str | None:
    """Update ``controls`` with what the state callback set, as the browser does; return ``view.data``."""
    for ident, props in (answer.get("response") or {}).items():
        for prop, value in props.items():
            controls[f"{ident}.{prop}"] = value
    return controls.get("view.data")


def updated_stores(answer: dict) -> set[str]:
    """The view stores the state callback set (a chart store it left alone is not in its answer): the
    browser asks only for the callbacks that read one of them."""
    return {ident for ident, props in (answer.get("response") or {}).items()
            if "data" in props and is_view_store((ident, "data"))}


def download_body(deps: list, chart: str, hash_: str, search: str = "") -> dict | None:
    """The CSV download callback (pattern-matching ids) for one chart; None if the app has none."""
    dep = next((d for d in deps if '"type":"download"' in d["output"]), None)
    if dep is None:
        return None
    btn = {"chart": chart, "type": "download-btn"}
    return {"output": dep["output"], "outputs": {"id": {"chart": chart, "type": "download"}, "property": "data"},
            "inputs": [{"id": btn, "property": "n_clicks", "value": 1}],
            "changedPropIds": [json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
            "state": [{"id": s["id"], "property": s["property"], "value": v}
                      for s, v in zip(dep["state"], (hash_, search))]}


# ------------------------------------------------------------------ views

def view_combinations(n: int, seed: int, years: list[int]) -> list[str]:
    """``n`` distinct URL hashes of atlas views (never the default view), from a seeded RNG."""
    from atlas.filters import DIMENSIONS, EVENT_KEYS, LEVELS, POPULATION_KEYS, View
    from atlas.measures import MEASURES

    rng = random.Random(seed)
    measures = sorted(MEASURES)
    out: list[str] = []
    seen = {""}
    attempts = 0
    while len(out) < n and attempts < 100 * n:
        attempts += 1
        y0, y1 = sorted(rng.sample(years, 2)) if rng.random() < 0.6 else (years[-1], years[-1])
        if rng.random() < 0.15:
            y0 = y1 = rng.choice(years)
        view = View(measure=rng.choice(measures), level=rng.choice(LEVELS), y0=y0, y1=y1,
                    rates=rng.choice(("dsr", "crude")), standard="denmark" if rng.random() < 0.2 else "esp2013")
        for key in rng.sample(POPULATION_KEYS, rng.choice((0, 0, 1, 1, 2))):
            view = view.with_dim(key, rng.choice(DIMENSIONS[key][1]))
        if rng.random() < 0.2:
            key = rng.choice(EVENT_KEYS)
            view = view.with_dim(key, rng.choice(DIMENSIONS[key][1]))
        q = replace(view, lang="en").to_query()
        h = f"#{q}" if q else ""
        if h not in seen:
            seen.add(h)
            out.append(h)
    return out


def wildcard_controls(dep: dict, dim_keys) -> list[str]:
    """``id.property`` of each concrete control behind the state callback's ``ALL`` inputs (the filters)."""
    return [prop_id(i, item["property"]) for item in dep["inputs"] if _is_wild(item["id"])
            for i in _wild_ids(item["id"], dim_keys)]
