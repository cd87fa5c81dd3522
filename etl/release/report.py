"""The output-check report of a release (``release-report.md`` beside the database).

Written for a statistical office's output checker: what each table is (its grain), how many rows
it has, how many cells were hidden and why (primary: a count from 1 to min_count - 1; secondary:
hidden so that no primary cell can be worked back), the smallest published count, what share of
each count's cells is published, and the result of the audit by linear programming.
"""
from __future__ import annotations

from pathlib import Path

from etl.release.build import RELEASE_TABLES, ReleaseReport


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
    lines += ["", "## Suppression by count (table `counts`)", "",
              "| count | cells | zero | primary | secondary | published | published share | relations | rounds |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report.suppression.itertuples():
        lines.append(f"| {r.count} | {r.cells:,} | {r.zero:,} | {r.primary:,} | {r.secondary:,} | {r.published:,} "
                     f"| {r.published_share:.1%} | {r.relations:,} | {r.rounds} |")
    if len(report.views):
        lines += ["", "## Default views: counts for everyone", "",
                  "| count | level | periods | published share |", "|---|---|---|---:|"]
        lines += [f"| {r.count} | {r.level} | {r.periods} | {r.share:.1%} |" for r in report.views.itertuples()]
    lines += ["", "## Audit", "", "| part | cells | hidden | shown from 1 to 4 | exposed | relations | result |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for name, a in report.audit.items():
        if name == "scan":
            continue
        lines.append(f"| {name} | {a.get('cells', 0):,} | {a.get('hidden', 0):,} | {a.get('shown_small', 0):,} "
                     f"| {a.get('exposed', 0):,} | {a.get('relations', 0):,} | {'passed' if a['passed'] else 'FAILED'} |")
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
