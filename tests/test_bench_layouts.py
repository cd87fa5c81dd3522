"""The benchmark's register layout against the contract layout (issue 26, item 7; bench/steps.py,
``python -m bench --layouts-only``) runs at a small scale and reports both layouts and their ratio.

Nothing here checks a speed: the 1.5x target is the benchmark's (it applies at scale 1.0).
"""
from __future__ import annotations

import argparse
import json
from numbers import Number

import pytest

from bench import options, report
from bench.run import main
from bench.steps import ADAPTER_STEP, extracts_dir

SCALE = 0.01
SEED = 7          # (at this scale some seeds trip a plausibility check: 7 builds)


def _num(x) -> bool:
    return isinstance(x, Number) and not isinstance(x, bool)


def _args(*argv: str) -> argparse.Namespace:
    return options.add_options(argparse.ArgumentParser()).parse_args(list(argv))


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench_layouts")
    out = d / "results.json"
    rc = main(_args("--layouts-only", "--scale", str(SCALE), "--seed", str(SEED), "--work", str(d / "work"),
                    "--out", str(out)))
    assert rc == 0
    return json.loads(out.with_name("layouts.json").read_text(encoding="utf-8")), d


def test_both_layouts_are_generated_from_one_world(layouts):
    res, d = layouts
    lo = res["layouts"]
    assert (lo["scale"], lo["seed"]) == (SCALE, SEED)
    contract = extracts_dir(d / "work", SCALE, SEED, "contract")
    registers = extracts_dir(d / "work", SCALE, SEED, "registers")
    assert contract != registers
    # the contract's tables in one folder, the registers' own (BEF, LPR, SSSY) in the other
    assert list(contract.glob("population_*.parquet")) and (contract / "imaging.parquet").exists()
    names = {p.name.lower() for p in registers.iterdir()}
    assert not any(n.startswith("population") for n in names) and "imaging.parquet" not in names
    assert any(n.startswith("bef") for n in names) and any("lpr" in n for n in names)
    for layout in ("contract", "registers"):
        gen = lo[layout]["generation"]
        assert gen["reused"] is False and _num(gen["seconds"]) and gen["seconds"] > 0, layout
        manifest = json.loads(((contract if layout == "contract" else registers) / "bench-manifest.json").read_text())
        assert (manifest["scale"], manifest["seed"], manifest["layout"]) == (SCALE, SEED, layout)


def test_each_layout_is_built_and_timed(layouts):
    lo = layouts[0]["layouts"]
    for layout in ("contract", "registers"):
        b = lo[layout]
        assert _num(b["seconds"]) and b["seconds"] > 0, layout
        assert _num(b["cpu_seconds"]) and _num(b["peak_rss_bytes"]) and b["peak_rss_bytes"] > 10e6, layout
        assert b["all_seconds"] == [b["seconds"]]                      # one round
        assert sum(s["seconds"] for s in b["steps"]) == pytest.approx(b["seconds"], abs=1.0)
        assert b["tables"]["population_cube"] > 0 and b["tables"]["imaging_cube"] > 0
    # only the register build derives the contract tables first, as a step of its own
    assert not any(s["message"].startswith(ADAPTER_STEP) for s in lo["contract"]["steps"])
    assert lo["contract"]["adapter_seconds"] is None
    assert _num(lo["registers"]["adapter_seconds"]) and lo["registers"]["adapter_seconds"] > 0
    assert len(lo["registers"]["steps"]) == len(lo["contract"]["steps"]) + 1
    assert lo["same_tables"] is True
    # the two layouts hold the same people: the same population cube
    assert lo["registers"]["tables"]["population_cube"] == lo["contract"]["tables"]["population_cube"]


def test_the_ratio_and_its_target(layouts):
    res = layouts[0]
    lo = res["layouts"]
    assert lo["ratio"] == pytest.approx(lo["registers"]["seconds"] / lo["contract"]["seconds"], rel=0.01)
    assert lo["cpu_ratio"] == pytest.approx(lo["registers"]["cpu_seconds"] / lo["contract"]["cpu_seconds"], rel=0.01)
    assert lo["peak_rss_ratio"] == pytest.approx(lo["registers"]["peak_rss_bytes"] / lo["contract"]["peak_rss_bytes"],
                                                 rel=0.01)
    [t] = [t for t in res["targets"] if t["name"] == report.REGISTER_RATIO_TARGET]
    assert t["measured"] == lo["ratio"] and t["target"] == report.TARGETS["register_build_ratio"] == 1.5
    assert t["pass"] is (lo["ratio"] <= 1.5)
    assert t["applies"] is False                    # the target is for scale 1.0
    assert res["machine"]["load_average_at_start"] and res["machine"]["load_average_at_end"]


def test_the_report_shows_both_layouts_and_the_ratio(layouts, capsys):
    res = layouts[0]
    lines = "\n".join(report.layout_rows(res["layouts"], res["targets"]))
    assert "contract layout: build" in lines and "registers layout: build" in lines
    assert "registers -> contract tables" in lines
    ratio_line = next(ln for ln in lines.splitlines() if "register / contract build time" in ln)
    assert f"{res['layouts']['ratio']:.2f}x" in ratio_line and "<= 1.50x" in ratio_line
    assert ("PASS" if res["layouts"]["ratio"] <= 1.5 else "FAIL") in ratio_line
    # and in the whole benchmark's table, beside the other targets
    assert lines in report.table(res)


def test_the_options():
    kw = options.run_arguments(_args())
    assert kw["layouts"] is True and kw["layouts_rounds"] == 1
    kw = options.run_arguments(_args("--no-layouts", "--layouts-rounds", "3", "--scale", "0.2"))
    assert kw["layouts"] is False and kw["layouts_rounds"] == 3 and kw["scale"] == 0.2


@pytest.mark.parametrize("layouts", [True, False])
def test_a_full_run_has_the_step_after_the_release(tmp_path, monkeypatch, layouts):
    """``run()`` (``make bench``) runs the layouts' step after the release, on the run's own contract
    extracts, and puts its ratio among the targets; ``--no-layouts`` leaves it out. The data steps
    are stood in for here (the step itself is run above)."""
    import bench.run as bench_run

    calls = []

    def step(name, value):
        def run_step(*args, **kwargs):
            calls.append((name, args, kwargs))
            return value
        return run_step

    gen = {"seconds": 1.0, "reused": False}
    lo = {"scale": SCALE, "seed": SEED, "rounds": 2, "ratio": 1.25,
          **{k: {"generation": gen, "seconds": s, "cpu_seconds": s, "peak_rss_bytes": 1e8, "all_seconds": [s, s],
                 "adapter_seconds": a} for k, s, a in (("contract", 2.0, None), ("registers", 2.5, 0.5))}}
    monkeypatch.setattr(bench_run, "generation_step", step("generation", gen))
    monkeypatch.setattr(bench_run, "build_step", step("build", {"seconds": 2.0, "steps": []}))
    monkeypatch.setattr(bench_run, "pandas_step", step("pandas", {}))
    monkeypatch.setattr(bench_run, "release_step", step("release", {}))
    monkeypatch.setattr(bench_run, "layouts_step", step("layouts", lo))
    res = bench_run.run(scale=SCALE, seed=SEED, out=tmp_path / "results.json", work=tmp_path / "work", echo=False,
                        build_only=True, layouts=layouts, layouts_rounds=2)
    names = [c[0] for c in calls]
    targets = {t["name"]: t for t in res["targets"]}
    if not layouts:
        assert "layouts" not in names and "layouts" not in res and report.REGISTER_RATIO_TARGET not in targets
        return
    assert names == ["generation", "build", "pandas", "release", "layouts"]
    _, args, kwargs = calls[-1]
    assert args[:2] == (SCALE, SEED) and kwargs["rounds"] == 2
    assert kwargs["generated"] == {"contract": gen}              # the run's own contract extracts, not made again
    assert res["layouts"] == lo and res["params"]["layouts_rounds"] == 2
    t = targets[report.REGISTER_RATIO_TARGET]
    assert (t["measured"], t["pass"], t["applies"]) == (1.25, True, False)
    md = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "register / contract build time" in md and "1.25x" in md and "the fastest of 2 builds" in md
