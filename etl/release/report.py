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
    ]
    lines += _table(["table", "one row is", "rows:"], [[f"`{t}`", RELEASE_TABLES[t], f"{n:,}"]
                                                        for t, n in report.tables.items()])
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
        lines += ["### Relations audited (each tested on the true counts first)", ""]
        lines += _table(["kind", "family", "relations:", "hold on the true counts"],
                        [[r.kind, r.family, f"{r.relations:,}", "all" if r.fail == 0 else f"{r.fail:,} FAIL"]
                         for r in fam.itertuples()])
    lines += ["", "## Suppression by count (table `counts`)", ""]
    lines += _table(["count", "cells:", "zero:", "primary:", "secondary:", "published:", "published share:"],
                    [[r.count, f"{r.cells:,}", f"{r.zero:,}", f"{r.primary:,}", f"{r.secondary:,}", f"{r.published:,}",
                      f"{r.published_share:.1%}"] for r in report.suppression.itertuples()])
    if len(report.families):
        lines += ["", "## Published share per view family", ""]
        lines += _table(["count", "filter", "level", "periods", "cells:", "published share:", "hidden to protect others:"],
                        [[r.count, r.family, r.level, r.periods, f"{r.cells:,}", f"{r.published:.1%}", f"{r.secondary:,}"]
                         for r in report.families.itertuples()])
    if len(report.national):
        lines += ["", "## National rows (Denmark)", ""]
        lines += _table(["national cells", "cells:", "published share:", "hidden: 1-4 themselves:",
                         "hidden to protect others:"],
                        [[NATIONAL_KINDS[r.kind], f"{int(r.cells):,}", f"{r.published:.1%}", f"{int(r.hidden_small):,}",
                          f"{int(r.partners):,}"] for r in report.national.itertuples()])
        lines += ["", "Denmark for everyone is never hidden to protect another cell. A national cell is hidden to "
                  "protect another only where a relation holds nothing else (a Denmark table and its values, a "
                  "period and its years); the reference tables are taken before the national rows of maps."]
    lines += ["", "## Audit", ""]
    figures = ("cells", "hidden", "hidden_small", "shown_small", "exposed", "relations", "inequalities", "timeouts")
    lines += _table(["part", "cells:", "hidden:", "hidden 1-4:", "shown from 1 to 4:", "not proven in [1, 5]:",
                     "equalities:", "inequalities:", "solves out of time:", "result"],
                    [[name, *(f"{a.get(k, 0):,}" for k in figures), _result(a)]
                     for name, a in report.audit.items() if name != "scan"])
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


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table: ``columns`` are the headings, a heading ending in ":" is a right-aligned figure."""
    head = [c.rstrip(":") for c in columns]
    rule = ["---:" if c.endswith(":") else "---" for c in columns]
    return ["| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"] + ["| " + " | ".join(map(str, r)) + " |"
                                                                           for r in rows]


def _result(audit: dict) -> str:
    """An audit part's result: a measured part (not enforced) gives its count of cells not proven."""
    if audit.get("enforced") is False:
        return f"measured: {audit.get('exposed', 0):,} not proven"
    return "passed" if audit["passed"] else "FAILED"


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
