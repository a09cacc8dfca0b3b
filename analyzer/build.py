"""From the members collected for one report to its host facts and merged guests.

Every source in the registry reads its own members; their sightings are bounded and merged here,
and their host facts fill the report (the first source that states a fact sets it).
"""

from __future__ import annotations

from analyzer.archive.collect import Collected
from analyzer import capacity
from analyzer.bounds import bound_observation, bound_report
from analyzer.merge import merge
from analyzer.model import Guest, Report
from analyzer.sources.registry import read_all


def build(report_id: str, path: str, c: Collected) -> tuple[Report, list[Guest]]:
    report = Report(id=report_id, path=path)
    blank = Report(id=report_id, path=path)
    observations = []
    problems = list(c.problems)
    host_data: dict = {}
    for out in read_all(c):
        observations += out.observations
        problems += out.problems
        host_data.update(out.host_data)
        for name, value in out.facts.items():
            if value is not None and getattr(report, name) == getattr(blank, name):
                setattr(report, name, value)
    for p in [bound_report(report)] + [bound_observation(o) for o in observations]:
        if p is not None:
            problems.append(p)

    guests, probs = merge(report_id, report.hostname, observations)
    report.problems = problems + probs
    report.guest_count = len(guests)
    capacity.annotate(report, guests, host_data)
    return report, guests
