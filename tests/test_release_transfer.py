"""Release identity and vintage, the CSV form of the release and its round trip, pseudonymised centres.

Uses the session's release fixtures (``release_secure_db``, ``release_db``); one test runs the whole
``python -m etl release --format csv`` command with a plan that pseudonymises the centres.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import duckdb
import pytest

from etl.release import edition as release_edition
from etl.release.transfer import BOUNDARY_TABLES, MANIFEST, TransferError, export_csv, import_csv
from etl.settings import CONFIG_DIR
from etl.vintage import check_release_id, code_lists, sha256_file


def _meta(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM meta").fetchall()}
    finally:
        con.close()


def _tables(con, catalog: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for t, c, ty in con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                "WHERE table_catalog = ? ORDER BY table_name, ordinal_position", [catalog]).fetchall():
        out.setdefault(t, []).append((c, ty))
    return out


def assert_same_release(a: Path, b: Path) -> dict[str, int]:
    """Every table of ``a`` and ``b``: the same columns and types, and EXCEPT ALL empty both ways."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        ta, tb = _tables(con, "a"), _tables(con, "b")
        assert ta == tb
        rows = {}
        for t in ta:
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM {x}.{t} EXCEPT ALL SELECT * FROM {y}.{t})"
                                    ).fetchone()[0]
                assert extra == 0, f"{t}: {extra} rows of {x} not in {y}"
            rows[t] = con.execute(f"SELECT count(*) FROM a.{t}").fetchone()[0]
        return rows
    finally:
        con.close()


@pytest.fixture(scope="module")
def csv_folder(release_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release_csv") / "release-2026"
    export_csv(release_db, out, "# report\n")
    return out


@pytest.fixture(scope="module")
def imported(csv_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imported") / "release.duckdb"
    import_csv(csv_folder, out)
    return out


# ---------------------------------------------------------------- identity and vintage

def test_release_carries_its_edition_and_vintage(release_db, release_secure_db):
    meta = _meta(release_db)
    configured = tomllib.loads((CONFIG_DIR / "release.toml").read_text(encoding="utf-8"))["release"]["id"]
    assert meta["release_id"] == configured and re.fullmatch(r"\d{4}\.\d+", configured)
    v = meta["vintage"]
    assert v["release_id"] == configured and v["released_at"] == meta["released_at"]
    # the source: the secure database the release was written from, by content
    assert v["source_database"]["sha256"] == sha256_file(release_secure_db)
    assert v["source_database"]["built_at"] == meta["built_at"]
    assert v["plan"]["sha256"] == sha256_file(CONFIG_DIR / "release.toml")
    # the years, and the last complete one: not marked incomplete for any measure
    assert v["years"] == [meta["first_year"], meta["last_year"]]
    incomplete = {int(y) for ys in meta["coverage"]["incomplete"].values() for y in ys}
    assert v["incomplete_years"] == sorted(incomplete)
    assert v["last_complete_year"] not in incomplete
    assert all(y in incomplete for y in range(v["last_complete_year"] + 1, meta["last_year"] + 1))
    assert v["data_period"] == meta["coverage"]["data"]
    # recorded by the build: the code lists it read and the extract files it was built from
    assert v["code_lists_from"] == "build" and v["code_lists"] == code_lists()
    extracts = {e["file"] for e in v["extracts"]}
    assert "imaging.parquet" in extracts and all(e["bytes"] > 0 for e in v["extracts"])
    assert v["centres_pseudonymised"] is False


def test_release_ids_are_editions():
    assert check_release_id("2026.1") == "2026.1" and check_release_id(" 2027.12 ") == "2027.12"
    for bad in ("2026", "26.1", "2026.0", "2026.1a", "v2026.1", ""):
        with pytest.raises(ValueError, match="YYYY.N"):
            check_release_id(bad)
    assert release_edition.load_edition(None, "2026.2").release_id == "2026.2"


def test_a_plan_without_an_edition_is_refused(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text((CONFIG_DIR / "release.toml").read_text(encoding="utf-8").replace('id = "2026.1"\n', ""),
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"no edition.*--release-id"):
        release_edition.load_edition(plan, default_path=plan)
    assert release_edition.load_edition(plan, "2026.3", default_path=plan).release_id == "2026.3"
    # a plan copied before editions existed takes the repository's edition
    configured = tomllib.loads((CONFIG_DIR / "release.toml").read_text(encoding="utf-8"))["release"]["id"]
    assert release_edition.load_edition(plan).release_id == configured


def test_the_report_names_the_release_and_says_whether_centres_are_pseudonymised(release_db):
    from etl.release.report import _identity_lines

    v = _meta(release_db)["vintage"]
    named = "\n".join(_identity_lines(v))
    assert v["release_id"] in named and v["source_database"]["sha256"] in named and "**named**" in named
    assert "**pseudonymised**" in "\n".join(_identity_lines({**v, "centres_pseudonymised": True}))


# ---------------------------------------------------------------- the CSV form

def test_csv_folder_holds_plain_csv_a_manifest_and_no_boundaries(csv_folder, release_db):
    files = sorted(p.name for p in csv_folder.iterdir())
    assert all(f.endswith(".csv") or f == "release-report.md" for f in files)
    assert not {f"{t}.csv" for t in BOUNDARY_TABLES} & set(files)
    with open(csv_folder / MANIFEST, encoding="utf-8", newline="") as f:
        manifest = list(csv.DictReader(f))
    listed = {m["file"] for m in manifest if m["file"]}
    assert listed == set(files) - {MANIFEST}
    con = duckdb.connect(str(release_db), read_only=True)
    try:
        for m in manifest:
            if m["table"]:
                assert int(m["rows"]) == con.execute(f"SELECT count(*) FROM {m['table']}").fetchone()[0]
            if m["file"]:
                assert m["sha256"] == sha256_file(csv_folder / m["file"])
                assert int(m["bytes"]) == (csv_folder / m["file"]).stat().st_size
    finally:
        con.close()
    assert {m["table"] for m in manifest if not m["file"] and m["table"]} == set(BOUNDARY_TABLES)


def test_csv_text_is_quoted_and_a_hidden_count_is_an_empty_field(csv_folder):
    raw = (csv_folder / "counts.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    lines = raw.decode("utf-8").splitlines()
    assert lines[0].startswith('"count","pattern","level",code,')
    rows = list(csv.reader(lines[1:]))
    # everyone's filter set is the empty text, quoted; hidden counts are empty (read back as NULL)
    assert any(r[1] == "" and '""' in line for r, line in zip(rows[:50], lines[1:51]))
    assert any(r[-1] == "" for r in rows) and all(r[-1] == "" or int(r[-1]) == 0 or int(r[-1]) >= 5 for r in rows)


def test_round_trip_is_identical_table_by_table(release_db, imported):
    rows = assert_same_release(release_db, imported)
    assert set(rows) >= {"counts", "estimates", "returns_monthly", "meta", "geometry", "area_centroid"}
    assert rows["counts"] > 1000 and rows["geometry"] == 3
    assert _meta(imported) == _meta(release_db)


def test_export_of_the_imported_release_gives_the_same_files(imported, csv_folder, tmp_path):
    again = tmp_path / "again"
    export_csv(imported, again, "# report\n")
    assert (again / MANIFEST).read_bytes() == (csv_folder / MANIFEST).read_bytes()


def test_only_a_release_is_exported(release_secure_db, release_db, tmp_path):
    with pytest.raises(TransferError, match="not a release database"):
        export_csv(release_secure_db, tmp_path / "x")
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob("x.tmp-*"))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(TransferError, match="not a CSV release folder"):
        export_csv(release_db, other)
    assert (other / "mine.txt").read_text(encoding="utf-8") == "keep me"


# ---------------------------------------------------------------- a changed or incomplete folder

@pytest.fixture
def copy(csv_folder, tmp_path) -> Path:
    dest = tmp_path / "copy"
    shutil.copytree(csv_folder, dest)
    return dest


def _refused(folder: Path, out: Path, match: str) -> None:
    with pytest.raises(TransferError, match=match):
        import_csv(folder, out)
    assert not out.exists() and not list(out.parent.glob(out.name + ".tmp-*"))


def test_a_changed_file_is_named(copy, tmp_path):
    path = copy / "counts.csv"
    data = bytearray(path.read_bytes())
    i = data.index(b"\n", 200) - 1                      # the last digit of a data row
    data[i] = ord("7") if data[i] != ord("7") else ord("8")
    path.write_bytes(bytes(data))
    _refused(copy, tmp_path / "r.duckdb", r"counts\.csv has been changed")


def test_a_missing_file_is_named(copy, tmp_path):
    (copy / "estimates.csv").unlink()
    _refused(copy, tmp_path / "r.duckdb", r"incomplete: estimates\.csv")


def test_a_folder_without_manifest_is_refused(copy, tmp_path):
    (copy / MANIFEST).unlink()
    _refused(copy, tmp_path / "r.duckdb", "no manifest.csv")


def test_a_manifest_edited_to_match_a_shortened_file_is_caught_by_the_row_count(copy, tmp_path):
    path = copy / "returns_monthly.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    text = (copy / MANIFEST).read_text(encoding="utf-8")
    old = next(r for r in csv.DictReader(text.splitlines()) if r["file"] == path.name)
    text = text.replace(old["sha256"], sha256_file(path))
    (copy / MANIFEST).write_text(text, encoding="utf-8")
    _refused(copy, tmp_path / "r.duckdb", r"returns_monthly\.csv: .* rows, the manifest says")


def test_other_boundaries_are_refused(csv_folder, tmp_path):
    from etl import geo
    from etl.settings import load_settings

    def coarser(con):
        s = load_settings()
        geo.write_boundaries(geo.build_boundaries(s.geo_dir, s.reference_dir / "municipalities.csv",
                                                  tolerance=2000.0), con)

    out = tmp_path / "r.duckdb"
    with pytest.raises(TransferError, match="boundaries made here"):
        import_csv(csv_folder, out, boundaries=coarser)
    assert not out.exists()


# ---------------------------------------------------------------- pseudonymised centres

def test_centre_key_is_stable_and_extended():
    key = release_edition.extend_key({"P9": "C07"}, ["P2", "P9", "P1", "all"])
    assert key == {"P9": "C07", "P1": "C08", "P2": "C09"}
    assert release_edition.extend_key(key, ["P1", "P2", "P9"]) == key


def test_a_bad_centre_key_is_refused(tmp_path):
    path = tmp_path / "key.csv"
    path.write_text("producer_id,code\nP1,C01\nP2,C01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two centres"):
        release_edition.read_key(path)
    path.write_text("producer_id,code\nP1,X1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 2"):
        release_edition.read_key(path)


def _small_plan(text: str) -> str:
    """The publication plan with its settings and identity but two tables only (everyone, and Denmark by sex x
    age band): the return letters are protected on their own, so their table is the full plan's, and the
    command runs in seconds instead of building a second full release."""
    settings = text[:text.index("[[tables]]")]
    release = re.search(r"^\[release\]\n(?:(?!\[).*\n)*", text, flags=re.M).group(0)
    return (settings + release + '\n[[tables]]\ncounts = ["persons", "imaging", "first", "low_value", "episode", '
            '"private"]\npatterns = [[]]\n\n[[tables]]\ncounts = ["persons", "imaging"]\npatterns = [["sex", "age"]]\n'
            'levels = ["denmark"]\n')


def test_the_small_plan_keeps_the_settings_and_identity():

    full = CONFIG_DIR / "release.toml"
    text = _small_plan(full.read_text(encoding="utf-8"))
    small = tomllib.loads(text)
    whole = tomllib.loads(full.read_text(encoding="utf-8"))
    assert small["protection"] == whole["protection"] and small["release"] == whole["release"]
    assert small["periods"] == whole["periods"] and len(small["tables"]) == 2


@pytest.fixture(scope="module")
def cli_csv(release_secure_db, tmp_path_factory):
    """``python -m etl release --format csv`` with a plan that pseudonymises the centres."""
    from etl.__main__ import main

    d = tmp_path_factory.mktemp("cli")
    plan = d / "plan.toml"
    key = d / "inside" / "centre-key.csv"
    key.parent.mkdir()
    text = _small_plan((CONFIG_DIR / "release.toml").read_text(encoding="utf-8"))
    text = text.replace("pseudonymise_centres = false", "pseudonymise_centres = true")
    text = text.replace('centre_key = "centre-key.csv"', f'centre_key = "{key}"')
    plan.write_text(text, encoding="utf-8")
    out = d / "out" / "2026.2"
    rc = main(["release", "--db", str(release_secure_db), "--plan", str(plan), "--format", "csv", "--out", str(out),
               "--release-id", "2026.2", "--quiet"])
    return rc, out, key, d


def test_release_command_writes_a_csv_folder_with_pseudonymised_centres(cli_csv, release_db, release_secure_db):
    rc, out, key, d = cli_csv
    assert rc == 0 and (out / MANIFEST).exists()
    assert not [p for p in out.parent.iterdir() if p != out]            # no temporary file left beside it
    report = (out / "release-report.md").read_text(encoding="utf-8")
    assert "**2026.2**" in report and "**pseudonymised**" in report and "CSV form" in report
    with open(out / "returns_monthly.csv", encoding="utf-8", newline="") as f:
        returns = list(csv.DictReader(f))
    assert {r["producer_id"] for r in returns} - {"all"}
    assert all(re.fullmatch(r"C\d{2}", r["producer_id"]) and r["centre"] == r["producer_id"]
               for r in returns if r["producer_id"] != "all")
    # the key stays inside: beside the secure side, not in the folder; it holds every centre
    mapping = release_edition.read_key(key)
    con = duckdb.connect(str(release_secure_db), read_only=True)
    secure = con.execute("SELECT DISTINCT producer_id, centre FROM returns_monthly").fetchall()
    con.close()
    assert set(mapping) == {p for p, _ in secure}
    names = {c for _, c in secure}
    folder_text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    assert not any(n in folder_text for n in names) and not any(p in folder_text for p in mapping)
    # the codes change no count: the published table is the named release's, relabelled
    con = duckdb.connect(str(release_db), read_only=True)
    named = con.execute("SELECT strftime(month, '%Y-%m-%d %H:%M:%S'), exam_type, producer_id, referrals, returned, "
                        "letters FROM returns_monthly").fetchall()
    con.close()

    def n(v):
        return None if v == "" else int(v)

    relabelled = sorted((m, e, p if p == "all" else mapping[p], *v) for m, e, p, *v in named)
    mine = sorted((r["month"], r["exam_type"], r["producer_id"], n(r["referrals"]), n(r["returned"]),
                   n(r["letters"])) for r in returns)
    assert mine == relabelled


def test_release_import_command_and_the_app_serve_the_imported_release(cli_csv, tmp_path, capsys):
    from conftest import _forget_cached_queries
    from etl.__main__ import main

    rc, out, _, _ = cli_csv
    db = tmp_path / "releases" / "2026.2" / "release.duckdb"
    assert main(["release-import", str(out), "--out", str(db), "--quiet"]) == 0
    meta = _meta(db)
    assert meta["release_id"] == "2026.2" and meta["vintage"]["centres_pseudonymised"] is True
    # a tampered folder: exit code 3 and the file named
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    with open(bad / "meta.csv", "a", encoding="utf-8") as f:
        f.write('"extra","1"\n')
    assert main(["release-import", str(bad), "--out", str(tmp_path / "b.duckdb"), "--quiet"]) == 3
    assert "meta.csv has been changed" in capsys.readouterr().err
    # the app serves the imported release and says which
    old = os.environ.get("ATLAS_DB")
    os.environ["ATLAS_DB"] = str(db)
    _forget_cached_queries()
    try:
        from atlas import db as atlas_db, edition, export
        from atlas.filters import View

        from atlas import data

        assert not data.inside_only()
        for lang in ("en", "da"):
            text = edition.identity(lang)
            assert "2026.2" in text and meta["vintage"]["source_database"]["sha256"][:8] in text
        import app as app_module

        for search, word in (("", "Release 2026.2"), ("?lang=da", "Udgave 2026.2")):
            with app_module.app.server.test_request_context("/"):
                footer = app_module.chrome("/", search, None)[2]
            assert any(getattr(part, "id", None) == "release-identity" and word in part.children for part in footer)
        # the returns page shows the centres by their codes
        from atlas import returns

        returns._monthly.cache_clear()
        content, _ = returns.chart_csv("centres", returns.ReturnsView(measure="letters", exam="lumbar"))
        from helpers import split_download

        head, body = split_download(content.decode("utf-8-sig"))
        table = list(csv.reader(body.strip().split("\r\n")))
        ids = {r[table[0].index("producer_id")] for r in table[1:]}
        assert ids and all(re.fullmatch(r"C\d{2}", i) for i in ids)
        returns._monthly.cache_clear()
        # the area profile (and so its printout) names the release
        import importlib

        area = importlib.import_module("pages.area")
        with app_module.app.server.test_request_context("/"):
            page = repr(area.layout(code="851", lang="da"))
        assert "profile-release" in page and "Udgave 2026.2 · data" in page
        # the map's CSV names the release in its "Release" column, the same on every row (flat layout)
        content, _ = export.chart_csv("map", View(y0=2022, y1=2024))
        table = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        assert table and {r["Release"] for r in table} == {edition.identity("en")}
        assert table[0]["Release"].startswith("Release 2026.2 · data ")
    finally:
        if old is None:
            os.environ.pop("ATLAS_DB", None)
        else:
            os.environ["ATLAS_DB"] = old
        _forget_cached_queries()


def test_the_configured_edition_has_a_changelog_entry():
    from etl.settings import REPO_ROOT

    rid = tomllib.loads((CONFIG_DIR / "release.toml").read_text(encoding="utf-8"))["release"]["id"]
    text = (REPO_ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(rid)}\b", text, flags=re.M), f"docs/changelog.md has no entry for {rid}"


def test_kept_editions_live_in_their_own_folder_and_are_never_rewritten(tmp_path):
    from etl.vintage import check_archive_path

    check_archive_path(tmp_path / "data" / "release.duckdb", "2026.1")              # not an archive: any id
    kept = tmp_path / "releases" / "2026.1" / "release.duckdb"
    check_archive_path(kept, "2026.1")
    with pytest.raises(ValueError, match="folder of edition 2026.1, but this release is edition 2026.2"):
        check_archive_path(kept, "2026.2")
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"")
    with pytest.raises(ValueError, match="never written again"):
        check_archive_path(kept, "2026.1")
    with pytest.raises(ValueError, match="edition 2026.3"):
        check_archive_path(tmp_path / "csv" / "2026.1", "2026.3", folder_is_release=True)


def test_the_release_command_refuses_to_rewrite_a_kept_edition(release_secure_db, tmp_path, capsys):
    from etl.__main__ import main

    kept = tmp_path / "releases" / "2026.1" / "release.duckdb"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"kept")
    assert main(["release", "--db", str(release_secure_db), "--out", str(kept), "--release-id", "2026.1",
                 "--quiet"]) == 6
    assert "never written again" in capsys.readouterr().err and kept.read_bytes() == b"kept"


def test_a_database_without_an_edition_says_so(monkeypatch):
    from atlas import db, edition

    monkeypatch.setattr(db, "meta", lambda: {"database_kind": "secure", "built_at": "2026-12-07"})
    assert edition.identity("en").startswith("Not a numbered release")
    assert edition.identity("da").startswith("Ikke en nummereret udgave")
    monkeypatch.setattr(db, "meta", lambda: {"release_id": "2027.3", "vintage": {
        "years": [2013, 2025], "last_complete_year": None, "source_database": {"sha256": "ab" * 32}}})
    assert edition.identity("en") == "Release 2027.3 · data 2013–2025, last complete year – · source abababab"
