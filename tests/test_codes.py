"""Code lists with provenance (etl/codes.py) and `python -m etl codes check --sks FILE` (etl/sks.py),
on the synthetic SKS file tests/data/sks_synthetic.txt (made by tests/data/make_sks_synthetic.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl import codes, sks
from etl.__main__ import main
from etl.settings import CONFIG_DIR, ConfigError

DATA = Path(__file__).parent / "data"
SKS = DATA / "sks_synthetic.txt"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["codes", "check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_code_list_says_where_each_code_comes_from():
    lists = codes.provenance()
    assert set(lists) == set(codes.LISTS)
    src = codes.sources()
    for name, rows in lists.items():
        assert rows, name
        for e in rows:
            assert e.status in codes.STATUSES and e.source in src, (name, e)
            assert e.text_en and e.text_da, (name, e.code)
            if e.match != "criterion":
                assert e.classification, (name, e.code)


def test_imaging_codes_are_the_lumbar_spine_codes_of_sks_not_the_thorax():
    """UX + modality + body region: E is the columna, C the thorax (UXMC40 is MRI of the breast)."""
    rows = codes.read_list_rows("imaging_procedures")
    assert {r["code"]: r["modality"] for r in rows} == {"UXRE30": "xray", "UXME30": "mri"}
    assert all(r["code"][3] == "E" for r in rows)


def test_synthetic_generator_draws_only_listed_codes():
    from etl.synthetic.config import load_effects

    listed = {r["code"]: r["modality"] for r in codes.read_list_rows("imaging_procedures")}
    drawn = load_effects()["imaging"]["codes"]
    for modality, weights in drawn.items():
        assert set(weights) <= {c for c, m in listed.items() if m == modality}, (modality, weights)


def test_unverified_codes_are_named_in_the_summary_line():
    s = codes.summary(codes.provenance())
    line = codes.summary_line(s)
    assert s["unverified"], "the rehabilitation-plan codes are unverified until an SKS file confirms them"
    for name, listed in s["unverified"].items():
        assert name in line and all(c in line for c in listed)
    assert "codes check --sks" in line


def _copy_lists(tmp_path: Path) -> Path:
    d = tmp_path / "codes"
    shutil.copytree(CONFIG_DIR / "codes", d)
    return d


def test_a_row_without_provenance_is_refused_naming_file_line_and_column(tmp_path):
    d = _copy_lists(tmp_path)
    path = d / "surgery.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",verified,sks_copy_2018", ",verified,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"surgery\.csv, line 3, column source: is empty for KNAG"):
        codes.provenance(d)


def test_a_source_not_in_sources_toml_is_refused(tmp_path):
    d = _copy_lists(tmp_path)
    path = d / "imaging_procedures.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("sks_copy_2018", "somewhere", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2, column source: 'somewhere' is not a section"):
        codes.provenance(d)


def test_validity_dates_inside_the_study_years_become_breaks(tmp_path):
    d = _copy_lists(tmp_path)
    path = d / "imaging_procedures.csv"
    text = path.read_text(encoding="utf-8").replace(
        "UXME30,mri,MRI scan of the lumbar spine,MR-skanning af columna lumbalis,SKS procedure codes (radiology UX),,",
        "UXME30,mri,MRI scan of the lumbar spine,MR-skanning af columna lumbalis,SKS procedure codes (radiology UX),2016-03-01,2021-06-30")
    path.write_text(text, encoding="utf-8")
    assert codes.validity_breaks(codes.provenance(d), 2013, 2024) == {2016: ["UXME30"], 2021: ["UXME30"]}
    path.write_text(text.replace("2021-06-30", "2021-12-31"), encoding="utf-8")
    assert codes.validity_breaks(codes.provenance(d), 2013, 2024) == {2016: ["UXME30"], 2022: ["UXME30"]}
    assert codes.validity_breaks(codes.provenance(), 2013, 2024) == {}


def test_check_finds_configured_codes_and_lists_candidates(capsys):
    code, out, err = run(capsys, "--sks", str(SKS))
    assert code == sks.EXIT_FINDINGS, err          # the unverified rehabilitation codes are not in the file
    assert "ok      imaging_procedures   UXRE30" in out and "ok      imaging_procedures   UXME30" in out
    assert "UNKNOWN rehabilitation_plans AWG1" in out
    # a sub-code of a listed code is named, so the analyst decides on it
    assert "sub-codes not in the list: UXME30A (MR-skanning af plexus lumbo-sacralis)" in out
    candidates = out.split("Candidates:")[1].split("By hierarchy:")[0]
    assert "[ ] UXCE30" in candidates and "[x] UXRE30" in candidates and "[ ] UXRE35" in candidates
    assert "UXRC00" not in candidates and "UXMC40" not in candidates     # thorax and breast: not lumbar
    hierarchy = out.split("By hierarchy:")[1]
    assert "UXRE10" in hierarchy and "UXRC00" not in hierarchy


def test_check_reports_a_code_that_expires_inside_the_study_years(tmp_path):
    entries = [codes.Entry("imaging_procedures", "UXRE99", "exact", "verified", "sks_copy_2018", "x", "y")]
    report = sks.check(SKS, entries, 2013, 2024)
    assert [(f.code, f.verdict) for f in report.findings] == [("UXRE99", "not_valid_throughout")]
    assert "to 2015-12-31" in report.findings[0].detail
    assert sks.check(SKS, entries, 2010, 2015).findings[0].verdict == "text_differs"      # valid then; text differs


def test_check_passes_when_every_code_is_valid(tmp_path):
    entries = [e for e in codes.configured_codes() if e.list != "rehabilitation_plans"]
    report = sks.check(SKS, entries, 2013, 2024)
    assert not report.problems and all(f.verdict == "ok" for f in report.findings), \
        [(f.code, f.verdict, f.detail) for f in report.findings if f.verdict != "ok"]


def test_validity_periods_with_a_gap_are_not_covered():
    from datetime import date

    r = lambda a, b: sks.Record("pro", "X", a, b, "", 1)       # noqa: E731
    assert sks._covered([r(date(2000, 1, 1), date(2015, 12, 31)), r(date(2016, 1, 1), sks.OPEN_END)],
                        date(2013, 1, 1), date(2024, 12, 31))
    assert not sks._covered([r(date(2000, 1, 1), date(2015, 12, 31)), r(date(2016, 2, 1), sks.OPEN_END)],
                            date(2013, 1, 1), date(2024, 12, 31))


@pytest.mark.parametrize("content,words", [
    ("code;text\nUXRE30;Røntgen\n", "line 1: has a separator"),
    ("proUXRE30   19960101\n", "line 1: is 20 characters long"),
    ("proUXRE30              1996010A                Røntgenundersøgelse af columna lumbalis" + " " * 90 + "\n",
     "'1996010A' in a date column"),
    ("", "holds no SKS records"),
])
def test_a_malformed_file_is_refused_naming_file_and_line(capsys, tmp_path, content, words):
    f = tmp_path / "SKScomplete.txt"
    f.write_text(content, encoding="cp1252")
    code, out, err = run(capsys, "--sks", str(f))
    assert code == sks.EXIT_MALFORMED and out == ""
    assert str(f) in err and words in err and "What to do:" in err, err


def test_a_missing_file_exits_3(capsys, tmp_path):
    code, _, err = run(capsys, "--sks", str(tmp_path / "nothing.txt"))
    assert code == sks.EXIT_MISSING and "does not exist" in err


def test_a_utf8_file_is_read_too(tmp_path):
    f = tmp_path / "utf8.txt"
    f.write_bytes(SKS.read_bytes().decode("cp1252").encode("utf-8"))
    texts = {r.code: r.text for r in sks.read(f)}
    assert texts["UXRE30"] == "Røntgenundersøgelse af columna lumbalis"
