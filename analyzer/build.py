"""From the members collected for one report to its host facts and merged guests.

This is where every source reader is called; each reads only the members tagged for it
(archive/select.py), so adding a source is: a pattern there, a reader in sources/, a line here.
"""

from __future__ import annotations

from typing import Optional

from analyzer.archive.collect import Collected
from analyzer.bounds import bound_observation, bound_report
from analyzer.merge import merge
from analyzer.model import Guest, GuestLogs, ParseError, Report
from analyzer.parsers.domain_xml import parse_domain
from analyzer.sources import host, libvirt_files, plugin, virsh


# Members whose parsing can start as soon as they arrive (see prepare).
DOMAIN_TAGS = frozenset({"plugin_domain", "plugin_etc_xml", "plugin_run_xml", "virsh_dumpxml",
                         "etc_xml", "run_xml", "container_etc_xml"})


def prepare(tag: str, rel: str, data: bytes) -> Optional[object]:
    """Called by the archive layer for each kept member, while the decompressor goes on: domain XML
    is parsed now, in time the reader would otherwise spend waiting for xz, not after the stream.
    The readers take the result (or the ParseError) from `Collected.prepared`."""
    if tag not in DOMAIN_TAGS or not data.strip():
        return None
    try:
        return parse_domain(data, rel)
    except ParseError as e:
        # A fresh error with the same reason: the raised one holds a traceback and a context
        # (the parser's own error) whose frames keep the expat parser and its buffers alive, about
        # 12 KiB for each broken file until the report is built (10,000 of them: 120 MiB).
        return ParseError(str(e))


def build(report_id: str, path: str, c: Collected) -> tuple[Report, list[Guest]]:
    report = Report(id=report_id, path=path)
    host.read(report, c.files, c.root)
    if c.nova_log_paths and not report.nova_compute:
        report.nova_compute, report.nova_compute_evidence = True, c.nova_log_paths[0]

    observations = []
    problems = list(c.problems)
    obs, probs, report.plugin = plugin.read(c.files, c.tags, c.prepared)
    observations += obs
    problems += probs
    for reader in (virsh, libvirt_files):
        obs, probs = reader.read(c.files, c.tags, c.prepared)
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
