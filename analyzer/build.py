"""From the members collected for one report to its host facts and merged guests.

This is where every source reader is called; each reads only the members tagged for it
(archive/select.py), so adding a source is: a pattern there, a reader in sources/, a line here.
"""

from __future__ import annotations

from analyzer.archive.collect import Collected
from analyzer.bounds import bound_observation, bound_report
from analyzer.merge import merge
from analyzer.model import Guest, GuestLogs, Report
from analyzer.sources import host, libvirt_files, plugin, virsh


def build(report_id: str, path: str, c: Collected) -> tuple[Report, list[Guest]]:
    report = Report(id=report_id, path=path)
    host.read(report, c.files, c.root)
    if c.nova_log_paths and not report.nova_compute:
        report.nova_compute, report.nova_compute_evidence = True, c.nova_log_paths[0]

    observations = []
    problems = list(c.problems)
    obs, probs, report.plugin = plugin.read(c.files, c.tags)
    observations += obs
    problems += probs
    for reader in (virsh, libvirt_files):
        obs, probs = reader.read(c.files, c.tags)
        observations += obs
        problems += probs
    for p in [bound_report(report)] + [bound_observation(o) for o in observations]:
        if p is not None:
            problems.append(p)

    guests, probs = merge(report_id, report.hostname, observations)
    problems += probs
    for g in guests:
        g.logs = GuestLogs(qemu=c.qemu_logs.get(g.domain_name) if g.domain_name else None,
                           nova_compute=c.nova_logs.get(g.uuid))
    report.problems = problems
    report.guest_count = len(guests)
    return report, guests
