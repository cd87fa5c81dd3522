"""Tampered requests to the policy pages' callbacks (issue 27), over the Flask test client of the
app on the session's small secure database: answered cleanly, never with a traceback or SQL."""
from __future__ import annotations


def test_tampered_requests_to_the_policy_callbacks_are_answered_cleanly(app_db):
    """The three callbacks of the policy pages with a tampered hash, page name or table: the state
    falls back to its defaults (200) or the answer is a clean 4xx, never a traceback or SQL."""
    import json

    from helpers import dash_outputs

    import app as app_module

    client = app_module.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()

    def dep(part):
        return next(d for d in deps if part in d["output"])

    def payload(d, inputs, state, changed, outputs=None):
        return {"output": d["output"], "outputs": outputs or dash_outputs(d["output"]), "inputs": inputs,
                "changedPropIds": [changed], "state": state}

    draw = dep("pol-words.children")
    outs = dash_outputs(draw["output"])
    answers = []
    charts = {"inequality": ["groups", "rii"], "recent": ["apc"], "opportunity": ["avoidable"]}
    for hash_, page, chart in (("#measure=x';DROP TABLE estimates;--&dim=9&level=moon", "inequality", None),
                               ("#" + "a=1&" * 400, "opportunity", None), ("#rate=-5&target=user", "opportunity", None),
                               ("#years=99&end=1900", "recent", None), ("", "../etc/passwd", None), ("", {"x": 1}, None),
                               ("", "opportunity", "groups")):
        outs[1] = [{"id": {"type": "pol-graph", "chart": c}, "property": "figure"}
                   for c in ([chart] if chart else charts.get(page, ["groups"]) if isinstance(page, str) else ["groups"])]
        r = client.post("/_dash-update-component", json=payload(
            draw, [{"id": "pol-url", "property": "hash", "value": hash_}],
            [{"id": "pol-page", "property": "data", "value": page}, {"id": "pol-url", "property": "search", "value": ""}],
            "pol-url.hash", outs))
        body = r.get_data(as_text=True)
        assert "Traceback" not in body and "SELECT " not in body and "duckdb" not in body.lower(), body[:300]
        assert r.status_code == 200 or 400 <= r.status_code < 500, (r.status_code, body[:300])
        answers.append(r.status_code)
    assert answers[:4] == [200] * 4 and all(400 <= s < 500 for s in answers[4:]), answers
    down = dep('"type":"pol-download"')
    btn = {"table": "nope", "type": "pol-download-btn"}
    r = client.post("/_dash-update-component", json=payload(
        down, [{"id": btn, "property": "n_clicks", "value": 1}],
        [{"id": "pol-url", "property": "hash", "value": ""}, {"id": "pol-page", "property": "data", "value": "recent"},
         {"id": "pol-url", "property": "search", "value": ""}],
        json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks",
        {"id": {"table": "nope", "type": "pol-download"}, "property": "data"}))
    assert 400 <= r.status_code < 500 and "Traceback" not in r.get_data(as_text=True), r.status_code
