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
              "once by linear programming. A hidden count n from 1 to 4 is protected when a table consistent",
              "with everything published has it at **5 or more** (tau-argus' upper protection level 5 - n): the",
              "intruder can then neither prove it below 5 nor pin it. Its floor is not required to reach 1:",
              "zeros are published, so a count made of k hidden non-zero parts (a period of two hidden years) is",
              "at least k to anyone. Hidden counts of 5 or more may be worked back (they could have been",
              "published).", "",
              "Suppression runs per count over every equality below, and each count's LP audit (the upper",
              "end: a table with the cell at 5 or more) must pass for the release to be written. Across",
              "counts, a hidden cell's subset or superset twin (the same area, period and filters) less than 5",
              "apart from it is hidden too, since a table that moves one must move the other. Then rule 2",
              "runs once more over all counts together, with the least value each hidden partner can take",
              "given its shown subsets (a partner pinned from below carries no room, so another is hidden)."]
    joint = next((a for k, a in report.audit.items() if k.startswith("all counts")), {})
    if "twins_added" in joint:
        lines += [f"Hidden beside a close twin: {joint['twins_added']:,} cells; by rule 2 over all counts: "
                  f"{joint.get('bounded_added', 0):,} cells.", ""]
    if joint.get("enforced"):
        lines += ["The joint audit of all counts with the subset inequalities (\"all counts together\") is a gate",
                  "in this release (`joint_protection` in the plan): more was hidden until every hidden count from",
                  f"1 to 4 could be 5 or more over all counts together ({joint.get('joint_added', 0):,} cells more: "
                  + (", ".join(f"{k} {v:,}" for k, v in sorted((joint.get("joint_added_by_count") or {}).items()))
                     or "none") + ").", ""]
        out = joint.get("unpublished_tables") or []
        if out:
            lines += [f"**{len(out):,} tables were left out of this release whole** ({joint.get('unpublished_cells', 0):,} "
                      "cells): the gate's rounds or time ran out with hidden counts from 1 to 4 in them not yet proven,",
                      "and a release publishes less rather than a cell unproven. Their cells are known to an intruder",
                      "only as whole numbers of at least 0, and every hidden count from 1 to 4, theirs included, was",
                      "then proven. The app names these views \"not published at this detail\" and offers the nearest",
                      "published one.", "",
                      "| count | filters | level | period | cells | of them 1-4 |", "|---|---|---|---|---:|---:|"]
            lines += [f"| {t['count']} | {t['pattern'] or 'everyone'} | {t['level']} | {t['period']} | {t['cells']:,} | "
                      f"{t['small']:,} |" for t in out]
            lines += [""]
    else:
        lines += ["The joint LP audit of all counts with the subset inequalities (\"all counts together\") checks",
                  "the upper end; here it was measured and reported only and did not stop the release (`joint_protection`",
                  "in the plan, or `--joint-gate on`, makes it a gate), and cells it could not reach in its time budget count as",
                  "not proven. **Without the gate, this release is not proven safe against an intruder who",
                  "combines all counts** (docs/methods.md).", ""]
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
    lines += _table(["part", "cells:", "hidden:", "hidden 1-4:", "shown from 1 to 4:", "not proven able to reach 5:",
                     "equalities:", "inequalities:", "solves out of time:", "result"],
                    [[name, *(f"{a.get(k, 0):,}" for k in figures), _result(a)]
                     for name, a in report.audit.items() if name != "scan"])
    lines += ["", "A solve that runs out of its time budget proves nothing: its cells count as not proven, more is",
              "hidden around them and the audit runs again (suppress more, never publish unproven); a release",
              "whose audit does not pass within the budget is not written."]
    if "proofs_integral" in joint:
        lines += ["", f"The joint audit ran {joint.get('seconds', 0):,.0f} s of its budget of "
                  f"{joint.get('budget_seconds', 0):,.0f} s (`joint_audit_seconds` in the plan). Of its proofs, "
                  f"{joint['proofs_integral']:,} are integral tables and {joint['proofs_fractional']:,} fractional "
                  "(LP) tables: a fractional table defeats an intruder who uses linear programming; one who uses "
                  "integer programming could in principle narrow such a cell further."]
        by_count = joint.get("exposed_by_count") or {}
        if by_count:
            lines += ["", "Hidden counts from 1 to 4 the joint audit did not prove, by count: "
                      + ", ".join(f"{k} {v:,}" for k, v in sorted(by_count.items())) + "."]
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
