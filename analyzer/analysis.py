"""From what was read to the whole document: the case, its findings, each instance's story, and
the `--guest` view of them. Pure: the CLI and the fleet both call it after reading.
"""

from __future__ import annotations

from typing import Optional

from analyzer import __version__, case as case_mod, correlate, findings, story
from analyzer.model import Document, Problem
from analyzer.run import Outcome


def document(outcome: Outcome) -> Document:
    reports = {r.id: r for r in outcome.reports}
    per_report = {rid: b.guests for rid, b in outcome.reads.items()}
    case = case_mod.assemble(outcome.reports, per_report)
    instances = story.instances(case, reports, {rid: b.events for rid, b in outcome.reads.items()},
                                per_report, {rid: b.unattached for rid, b in outcome.reads.items()})
    current = case.current()
    found = findings.with_story(findings.find(outcome.reports, current), instances)
    notes = [Problem(path="(case)", reason=n) for n in case.notes]
    return Document(generated_by={"name": "analyze-sos", "version": __version__}, reports=outcome.reports,
                    hosts=case.hosts, guests=case.guests, instances=instances, changes=case.changes,
                    findings=found, total_guests=len(case.guests),
                    errors=[Problem(path=e.path, reason=e.reason) for e in outcome.errors] + outcome.notes + notes)


def restrict(doc: Document, terms: list[str]) -> Document:
    """The document for `--guest` queries: matching guests, their instances, findings and changes."""
    doc.guests, doc.query = correlate.match(doc.guests, terms)
    keep = {g.uuid for g in doc.guests}
    doc.instances = [i for i in doc.instances if i.uuid in keep]
    doc.findings = [f for f in doc.findings if keep.intersection(f.guests)]
    doc.changes = [c for c in doc.changes if c.uuid is None or c.uuid in keep]
    return doc


def unmatched(doc: Document) -> list[tuple[str, Optional[str]]]:
    """(term, nearest names) of every query that matched nothing."""
    return [(q.term, ", ".join(q.suggestions) or None) for q in doc.query or [] if q.matched_by is None]
