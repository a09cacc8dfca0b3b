"""A case is hosts, each seen at one or more moments: reports grouped by host, one guest per
(host, UUID) from the host's newest report that holds it, and what changed between consecutive
reports of a host. Pure functions over the model: no I/O.

Two reports are of one host when they name the same hostname, unless their machine-ids say they
are two machines: then each gets the machine-id beside its name, so nothing of one is counted as
the other's.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Optional

from analyzer.model import Change, Guest, Host, Report

PACKAGE_FIELDS = ("nova", "libvirt", "qemu")


@dataclass
class Case:
    hosts: list[Host] = field(default_factory=list)
    guests: list[Guest] = field(default_factory=list)  # one per (host, UUID)
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a person must know about the grouping

    def current(self) -> list[Guest]:
        """The guests each host's newest report holds: what findings are about."""
        return [g for g in self.guests if g.in_latest_report]


def _time_key(r: Report) -> tuple:
    # UTC times end in Z, local ones do not: within one host they share a clock either way
    return ((r.collected_at or "").rstrip("Z"), int(r.id[1:]) if r.id[1:].isdigit() else 0)


def group_hosts(reports: list[Report]) -> tuple[list[Host], list[str]]:
    """Hosts in the order their first report was given; sets each report's `host`.

    >>> a, b = Report(id="r1", path="a", hostname="c1"), Report(id="r2", path="b", hostname="c1")
    >>> a.collected_at, b.collected_at = "2025-01-02T10:00:00Z", "2025-01-01T10:00:00Z"
    >>> [(h.name, h.reports, h.latest_report) for h in group_hosts([a, b])[0]]
    [('c1', ['r2', 'r1'], 'r1')]
    """
    notes = []
    by_name: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        if r.duplicate_of is None:
            by_name[r.hostname or "unknown host (%s)" % r.id].append(r)
    hosts = []
    for name, rs in by_name.items():
        machines = sorted({r.machine_id for r in rs if r.machine_id})
        if len(machines) > 1:
            notes.append("%d different machines (machine-ids %s) call themselves %s: they are kept apart"
                         % (len(machines), ", ".join(m[:8] for m in machines), name))
            groups: dict[Optional[str], list[Report]] = defaultdict(list)
            for r in rs:
                groups[r.machine_id or machines[0]].append(r)
            parts = [("%s [%s]" % (name, m[:8]), m, groups[m]) for m in machines]
        else:
            parts = [(name, machines[0] if machines else None, rs)]
        for hname, mid, members in parts:
            members = sorted(members, key=_time_key)
            for r in members:
                r.host = hname
            hosts.append(Host(name=hname, reports=[r.id for r in members], latest_report=members[-1].id,
                              hostname=members[-1].hostname, machine_id=mid))
    by_id = {r.id: r for r in reports}
    for r in reports:
        if r.duplicate_of is not None and r.duplicate_of in by_id:
            r.host = by_id[r.duplicate_of].host
    return hosts, notes


def host_guests(host: Host, per_report: dict[str, list[Guest]]) -> list[Guest]:
    """One guest per UUID of this host: the newest report holding it gives its fields."""
    newest: dict[str, Guest] = {}
    seen: dict[str, list[str]] = defaultdict(list)
    for rid in host.reports:
        for g in per_report.get(rid, []):
            newest[g.uuid] = g
            seen[g.uuid].append(rid)
    latest = {g.uuid for g in per_report.get(host.latest_report or "", [])}
    out = []
    for uuid, g in newest.items():
        g.host = host.name
        g.reports = seen[uuid]
        g.report = seen[uuid][-1]
        g.in_latest_report = uuid in latest
        out.append(g)
    out.sort(key=lambda g: (not g.in_latest_report, g.domain_name or "", g.uuid))
    return out


def _disks(g: Guest) -> list[str]:
    return sorted("%s=%s" % (d.target or "?", d.source or "") for d in g.disks)


def _nics(g: Guest) -> list[str]:
    return sorted("%s@%s" % ((i.mac or "?").lower(), i.source or "") for i in g.interfaces)


def _flavor(g: Guest) -> Optional[str]:
    return g.nova.flavor.name if g.nova and g.nova.flavor else None


_GUEST_FIELDS: tuple[tuple[str, Any], ...] = (
    ("state", lambda g: g.state),
    ("memory_mb", lambda g: g.memory_mb),
    ("vcpus", lambda g: g.vcpus),
    ("disks", _disks),
    ("interfaces", _nics),
    ("nova.flavor", _flavor),
    ("nova.display_name", lambda g: g.nova.display_name if g.nova else None),
)


def changes(host: Host, reports: dict[str, Report], per_report: dict[str, list[Guest]]) -> list[Change]:
    """Every difference between consecutive reports of one host, oldest pair first."""
    out: list[Change] = []
    for a, b in zip(host.reports, host.reports[1:]):
        ra, rb = reports[a], reports[b]
        for name in PACKAGE_FIELDS:
            x, y = getattr(ra.packages, name), getattr(rb.packages, name)
            if x != y:
                out.append(Change(host.name, a, b, None, "packages." + name, x, y))
        ga = {g.uuid: g for g in per_report.get(a, [])}
        gb = {g.uuid: g for g in per_report.get(b, [])}
        for uuid in sorted(set(ga) | set(gb)):
            if uuid not in gb:
                out.append(Change(host.name, a, b, uuid, "guest", "present", "absent"))
            elif uuid not in ga:
                out.append(Change(host.name, a, b, uuid, "guest", "absent", "present"))
            else:
                for name, get in _GUEST_FIELDS:
                    x, y = get(ga[uuid]), get(gb[uuid])
                    if x != y:
                        out.append(Change(host.name, a, b, uuid, name, x, y))
    return out


def assemble(reports: list[Report], per_report: dict[str, list[Guest]]) -> Case:
    """The case: hosts, guests per (host, UUID), changes. `per_report` holds each report's merged
    guests (reports that are duplicates have none); the guests are copied, not changed."""
    per_report = {rid: [copy.copy(g) for g in gs] for rid, gs in per_report.items()}
    hosts, notes = group_hosts(reports)
    by_id = {r.id: r for r in reports}
    case = Case(hosts=hosts, notes=notes)
    for h in hosts:
        case.changes += changes(h, by_id, per_report)
        case.guests += host_guests(h, per_report)
    return case
