"""From the members collected for one report to its host facts, merged guests and log events.

Every source in the registry reads its own members; their sightings are bounded and merged here,
and their host facts fill the report (the first source that states a fact sets it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from analyzer.archive.collect import Collected
from analyzer import capacity
from analyzer.bounds import bound_observation, bound_report
from analyzer.merge import merge
from analyzer.model import Guest, LogEvent, Observation, Report
from analyzer.sources.registry import read_all


@dataclass
class Built:
    report: Report
    guests: list[Guest] = field(default_factory=list)
    events: list[LogEvent] = field(default_factory=list)
    unattached: list[Observation] = field(default_factory=list)  # log sightings of no guest here
    fingerprint: str = ""  # same content, same fingerprint: a tarball and its extracted tree alike


def fingerprint(c: Collected) -> str:
    """A digest of what the analysis read, independent of member order and archive format."""
    h = hashlib.sha256()
    for rel in sorted(c.files):
        h.update(b"%s\0%s\0" % (rel.encode("utf-8", "surrogateescape"), hashlib.sha256(c.files[rel]).digest()))
    for tag in sorted(c.stream_paths):
        h.update(("%s\0%s\0" % (tag, "\0".join(sorted(c.stream_paths[tag])))).encode("utf-8", "surrogateescape"))
    for rel in sorted(c.links):
        h.update(("%s\0%s\0" % (rel, c.links[rel])).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def build(report_id: str, path: str, c: Collected) -> Built:
    report = Report(id=report_id, path=path)
    blank = Report(id=report_id, path=path)
    observations = []
    events: list[LogEvent] = []
    problems = list(c.problems)
    host_data: dict = {}
    for out in read_all(c):
        observations += out.observations
        problems += out.problems
        events += out.events
        host_data.update(out.host_data)
        for name, value in out.facts.items():
            if value is not None and getattr(report, name) == getattr(blank, name):
                setattr(report, name, value)
    for p in [bound_report(report)] + [bound_observation(o) for o in observations]:
        if p is not None:
            problems.append(p)

    guests, probs, unattached = merge(report_id, report.hostname, observations)
    report.problems = problems + probs
    report.guest_count = len(guests)
    capacity.annotate(report, guests, host_data)
    return Built(report, guests, events, unattached, fingerprint(c))
