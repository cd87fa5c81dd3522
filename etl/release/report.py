"""The output-check report of a release (``release-report.md`` beside the database).

Written for a statistical office's output checker: what each table is (its grain), how many rows
it has, how many cells were hidden and why (primary: a count from 1 to min_count - 1; secondary:
hidden so that no primary cell can be worked back), the smallest published count, what share of
each count's cells is published, and the result of the audit by linear programming.
"""
from __future__ import annotations

from pathlib import Path

from etl.release.build import NATIONAL_KINDS, RELEASE_TABLES, ReleaseReport


def render(report: ReleaseReport) -> str:
    lines = [
        f"# Output check: {report.path.name}",
        "",
        "Release database of the lumbar imaging atlas: aggregate counts and estimates only, protected by",
        "primary and secondary cell suppression and audited by linear programming (see docs/methods.md,",
        "\"The published release\").",
        "",
        f"- Audit: **{'passed' if report.passed else 'FAILED'}**",
        *_identity_lines(report.identity),
        f"- Smallest published non-zero count: **{report.smallest_published}**",
        f"- Built in {report.seconds:.1f} s",
        "",
        "## Tables",
        "",
        "| table | one row is | rows |",
        "|---|---|---:|",
    ]
    lines += [f"| `{t}` | {RELEASE_TABLES[t]} | {n:,} |" for t, n in report.tables.items()]
    lines += ["", "## What the release protects against", "",
              "An intruder who knows every published figure, every relation between them listed below, and that",
              "a hidden count is a whole number of at least 1 (zeros are published), and who combines them all at",
              "once by linear programming. For every hidden count from 1 to 4 the audit finds tables consistent",
              "with everything published in which the count is 1 and in which it is 5 or more: the **protection",
              "interval is [1, 5]** (lower protection n - 1, upper protection 5 - n, as tau-argus states them), so",
              "the intruder can neither tell it from a publishable count nor pin it. Hidden counts of 5 or more",
              "may be worked back (they could have been published).", "",
              "Suppression runs per count over every equality below, and each count's LP audit must pass for the",
              "release to be written. Then rule 2 runs once more over all counts together, with the least value",
              "each hidden partner can take given its shown subsets (a partner pinned from below carries no",
              "room, so another is hidden). The joint LP audit of all counts with the subset inequalities",
              "(\"all counts together\") is measured and reported here; it does not yet stop the release, and",
              "cells it could not reach within its time budget are counted as not proven (docs/methods.md).", ""]
    joint = next((a for k, a in report.audit.items() if k.startswith("all counts")), {})
    fam = joint.get("relation_families")
    if fam is not None and len(fam):
        lines += ["### Relations audited (each tested on the true counts first)", "",
                  "| kind | family | relations | hold on the true counts |", "|---|---|---:|---|"]
        lines += [f"| {r.kind} | {r.family} | {r.relations:,} | {'all' if r.fail == 0 else f'{r.fail:,} FAIL'} |"
                  for r in fam.itertuples()]
    lines += ["", "## Suppression by count (table `counts`)", "",
              "| count | cells | zero | primary | secondary | published | published share |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in report.suppression.itertuples():
        lines.append(f"| {r.count} | {r.cells:,} | {r.zero:,} | {r.primary:,} | {r.secondary:,} | {r.published:,} "
                     f"| {r.published_share:.1%} |")
    if len(report.families):
        lines += ["", "## Published share per view family", "",
                  "| count | filter | level | periods | cells | published share | hidden to protect others |",
                  "|---|---|---|---|---:|---:|---:|"]
        lines += [f"| {r.count} | {r.family} | {r.level} | {r.periods} | {r.cells:,} | {r.published:.1%} "
                  f"| {r.secondary:,} |" for r in report.families.itertuples()]
    if len(report.national):
        lines += ["", "## National rows (Denmark)", "",
                  "| national cells | cells | published share | hidden: 1-4 themselves | hidden to protect others |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {NATIONAL_KINDS[r.kind]} | {int(r.cells):,} | {r.published:.1%} | {int(r.hidden_small):,} "
                  f"| {int(r.partners):,} |" for r in report.national.itertuples()]
        lines += ["", "Denmark for everyone is never hidden to protect another cell. A national cell is hidden to "
                  "protect another only where a relation holds nothing else (a Denmark table and its values, a "
                  "period and its years); the reference tables are taken before the national rows of maps."]
    lines += ["", "## Audit", "",
              "| part | cells | hidden | hidden 1-4 | shown from 1 to 4 | not proven in [1, 5] | equalities "
              "| inequalities | solves out of time | result |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, a in report.audit.items():
        if name == "scan":
            continue
        lines.append(f"| {name} | {a.get('cells', 0):,} | {a.get('hidden', 0):,} | {a.get('hidden_small', 0):,} "
                     f"| {a.get('shown_small', 0):,} | {a.get('exposed', 0):,} | {a.get('relations', 0):,} "
                     f"| {a.get('inequalities', 0):,} | {a.get('timeouts', 0):,} "
                     f"| {'measured: ' + format(a.get('exposed', 0), ',') + ' not proven' if a.get('enforced') is False else ('passed' if a['passed'] else 'FAILED')} |")
    lines += ["", "A solve that runs out of its time budget proves nothing: its cells count as not proven, more is",
              "hidden around them and the audit runs again (suppress more, never publish unproven); a release",
              "whose audit does not pass within the budget is not written."]
    scan = report.audit.get("scan", {"passed": True, "problems": []})
    lines += ["", "Scan of the written file (every table: no count from 1 to 4, no cell-key, person or birth "
              f"column): **{'passed' if scan['passed'] else 'FAILED'}**"]
    lines += [f"- {p}" for p in scan.get("problems", [])]
    lines += ["", "## Steps", "", "| step | seconds (cumulative) |", "|---|---:|"]
    lines += [f"| {name} | {sec:.1f} |" for name, sec in report.steps]
    return "\n".join(lines) + "\n"


def _identity_lines(identity: dict) -> list[str]:
    """The release's edition and source, and whether the return-letter centres are pseudonymised."""
    if not identity:
        return []
    source = identity.get("source_database") or {}
    return [f"- Release: **{identity.get('release_id')}**, written {identity.get('released_at')}; source database "
            f"`{source.get('file')}` (SHA-256 {source.get('sha256')}), built {source.get('built_at')}",
            "- Return-letter centres: " + ("**pseudonymised** (codes C01, C02, ...; the key stays inside)"
                                           if identity.get("centres_pseudonymised") else
                                           "**named** (producer id and name, as in the secure database)")]


def write_report(report: ReleaseReport, path: Path | None = None) -> Path:
    path = Path(path or report.path.with_name("release-report.md"))
    path.write_text(render(report), encoding="utf-8")
    return path
