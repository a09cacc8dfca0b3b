"""What a support engineer must notice, each with the evidence: pure functions over the model.

Every check takes the host facts (by report id) and the merged guests and returns `Finding`s;
nothing here reads a file. Each code is documented in the README ("Findings"), and each has a test
proving it fires and a test proving a healthy guest does not trigger it.

    >>> g = Guest(uuid="u1", host="compute-1", state="crashed", state_reason="panicked")
    >>> [(f.code, f.severity, f.message) for f in find([], [g])]
    [('abnormal-state', 'critical', '? (u1) on compute-1 is crashed (reason: panicked).')]
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Optional

from analyzer import describe, host_findings, story, versions
from analyzer.model import (KIND_PLUGIN_SUMMARY, KIND_RUN, KIND_VIRSH_LIST, SEVERITIES, Evidence,
                            Finding, Guest, Instance, Report)

# States with a qemu process behind them (a second one elsewhere means two writers on one disk).
ACTIVE = {"running", "paused", "idle", "blocked", "in shutdown", "pmsuspended"}
# libvirt states that need a look, and how loud: a crashed guest is down, the others are stuck.
ABNORMAL = {"crashed": "critical", "paused": "warning", "blocked": "warning",
            "pmsuspended": "warning", "in shutdown": "warning"}
# A paused guest is down, not merely stuck, when libvirt paused it because the storage under it
# failed (`virsh domstate --reason` spells it "I/O error") or a post-copy migration failed.
PAUSED_CRITICAL = {"ioerror", "i/o error", "post-copy failed", "postcopy-failed"}
# Sources that say a guest's state (for the evidence of abnormal-state).
_STATE_KINDS = (KIND_PLUGIN_SUMMARY, KIND_VIRSH_LIST, KIND_RUN, "container-run-status")

Check = Callable[[dict[str, Report], list[Guest]], Iterable[Finding]]


_name, _host, _src = describe.name, describe.host, describe.source


def _listing(items: list[str], limit: int = 10) -> str:
    """`a, b, c`; past `limit` items, `... and N more` (the finding's `guests` has them all)."""
    if len(items) <= limit:
        return ", ".join(items)
    return "%s and %d more" % (", ".join(items[:limit]), len(items) - limit)


def _has_definition(g: Guest) -> bool:
    """Did any source show this guest's domain XML (or the plugin's verdict on its metadata)?"""
    return g.xml is not None or any(s.kind == KIND_PLUGIN_SUMMARY for s in g.sources)


def nova_version_mismatch(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """The Nova that booted the guest (`nova:package`) is not the one installed on its host now."""
    for g in guests:
        report = reports.get(g.report or "")
        installed = report.packages.nova if report else None
        booted = g.nova.package_version if g.nova else None
        if not installed or not booted or versions.same_upstream(booted, installed):
            continue
        booted_series, installed_series = versions.series(booted), versions.series(installed)
        same_series = booted_series is not None and booted_series == installed_series
        order = versions.compare(booted, installed)
        relation = {-1: "older than", 1: "NEWER than"}.get(order, "not") if order is not None else "not"
        yield Finding(
            code="nova-version-mismatch", severity="info" if same_series else "warning",
            message="%s on %s was booted by Nova %s, %s the Nova installed there now, %s."
                    % (_name(g), _host(g), versions.describe(booted), relation, versions.describe(installed)),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(_src(g), "nova:package version (at boot)", booted),
                      Evidence(report.packages.sources.get("nova") if report else None,
                               "nova package installed on %s" % _host(g), installed)])


def flavor_resource_mismatch(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """The flavor in the Nova metadata does not match the domain's `<memory>` or `<vcpu>`.

    Nova writes `<memory>` as the flavor's MiB whatever backs it (hugepages, file-backed memory),
    and `<vcpu>` as the flavor's vCPUs; a balloon changes `<currentMemory>` only, which is not
    compared. A value missing on either side is not compared either."""
    for g in guests:
        flavor = g.nova.flavor if g.nova else None
        if flavor is None:
            continue
        diffs = []
        if flavor.memory_mb is not None and g.memory_mb is not None and flavor.memory_mb != g.memory_mb:
            diffs.append(("memory MiB", flavor.memory_mb, g.memory_mb))
        if flavor.vcpus is not None and g.vcpus is not None and flavor.vcpus != g.vcpus:
            diffs.append(("vCPUs", flavor.vcpus, g.vcpus))
        if not diffs:
            continue
        fname = flavor.name or "?"
        text = "; ".join("%s: flavor %s, domain %s" % (what, f, d) for what, f, d in diffs)
        evidence = [Evidence(_src(g), "flavor %s %s" % (fname, what), f) for what, f, _ in diffs]
        evidence += [Evidence(_src(g), "domain %s" % what, d) for what, _, d in diffs]
        yield Finding(
            code="flavor-resource-mismatch", severity="warning",
            message="%s on %s does not match its flavor %s (%s): a resize in flight or a hand edit?"
                    % (_name(g), _host(g), fname, text),
            guests=[g.uuid], hosts=[_host(g)], evidence=evidence)


def uuid_on_multiple_hosts(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """One instance UUID defined on several hosts: critical when it is active on more than one."""
    by_uuid: dict[str, list[Guest]] = defaultdict(list)
    for g in guests:
        by_uuid[g.uuid].append(g)
    for uuid, gs in by_uuid.items():
        hosts = sorted({_host(g) for g in gs})
        if len(hosts) < 2:
            continue
        gs = sorted(gs, key=lambda x: (_host(x), x.report or ""))
        active = sorted({_host(g) for g in gs if g.state in ACTIVE})
        where = ", ".join("%s (%s)" % (_host(g), g.state or "state unknown") for g in gs)
        name = next((g.display_name for g in gs if g.display_name), None) or gs[0].domain_name or "?"
        yield Finding(
            code="uuid-on-multiple-hosts", severity="critical" if len(active) > 1 else "warning",
            message="Instance %s (%s) is defined on %d hosts: %s%s"
                    % (name, uuid, len(hosts), where,
                       "; it is ACTIVE on %s: two qemu processes on one disk risk corruption." % " and ".join(active)
                       if len(active) > 1 else "; a leftover of a migration or evacuation?"),
            guests=[uuid], hosts=hosts,
            evidence=[Evidence(_src(g), "state on %s" % _host(g), g.state) for g in gs])


def display_name_shared(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Distinct instance UUIDs with one Nova display name. Info: Nova allows it and it breaks
    nothing, but a user's "web-01" is then ambiguous, so the engineer must ask which one."""
    by_name: dict[str, dict[str, Guest]] = defaultdict(dict)
    hosts_of: dict[str, set[str]] = defaultdict(set)
    for g in guests:
        hosts_of[g.uuid].add(_host(g))
        if g.display_name:
            by_name[g.display_name].setdefault(g.uuid, g)
    for name, gs in by_name.items():
        if len(gs) < 2:
            continue
        uuids = sorted(gs)
        listing = _listing(["%s on %s" % (u, "/".join(sorted(hosts_of[u]))) for u in uuids])
        yield Finding(
            code="display-name-shared", severity="info",
            message="%d different instances are named %r: %s; ask which UUID the user means."
                    % (len(gs), name, listing),
            guests=uuids, hosts=sorted({h for u in uuids for h in hosts_of[u]}),
            evidence=[Evidence(_src(gs[u]), "nova:name of %s" % u, name) for u in uuids])


def no_nova_metadata(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """A guest with no Nova metadata on a host that runs nova-compute (only when its XML was seen:
    a guest known from a `virsh list` line alone says nothing about its metadata)."""
    for g in guests:
        report = reports.get(g.report or "")
        if g.nova is not None or not report or not report.nova_compute or not _has_definition(g):
            continue
        yield Finding(
            code="no-nova-metadata", severity="warning",
            message="%s on %s has no Nova metadata although the host runs nova-compute: Nova did "
                    "not create it, or it was redefined by hand." % (_name(g), _host(g)),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(_src(g), "nova:instance", None),
                      Evidence(report.nova_compute_evidence, "nova-compute on %s" % _host(g), True)])


def abnormal_state(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """crashed (critical), paused for an I/O error or a failed post-copy migration (critical),
    any other pause, blocked, pmsuspended or in shutdown (warning)."""
    for g in guests:
        state = g.state
        if state not in ABNORMAL:
            continue
        severity = ABNORMAL[state]
        if state == "paused" and (g.state_reason or "").lower() in PAUSED_CRITICAL:
            severity = "critical"
        reason = " (reason: %s)" % g.state_reason if g.state_reason else ""
        path = next((s.path for k in _STATE_KINDS for s in g.sources if s.kind == k), _src(g))
        yield Finding(
            code="abnormal-state", severity=severity,
            message="%s on %s is %s%s." % (_name(g), _host(g), state, reason),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(path, "libvirt state", state), Evidence(path, "libvirt reason", g.state_reason)])


def nova_log_errors(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """ERROR/CRITICAL lines of nova-compute that name the guest's UUID."""
    for g in guests:
        log = g.logs.nova_compute if g.logs else None
        if not log or not log.errors or log.errors.count <= 0:
            continue
        e = log.errors
        first = e.first_lines[0].strip() if e.first_lines else ""
        if len(first) > 200:
            first = first[:199] + "…"
        yield Finding(
            code="nova-log-errors", severity="warning",
            message="nova-compute logged %d ERROR/CRITICAL line(s) about %s on %s, from %s to %s%s."
                    % (e.count, _name(g), _host(g), e.first_time or "?", e.last_time or "?",
                       "; first: %s" % first if first else ""),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(", ".join(log.paths) or None, "error count", e.count),
                      Evidence(", ".join(log.paths) or None, "first and last error time",
                               [e.first_time, e.last_time]),
                      Evidence(", ".join(log.paths) or None, "first error lines", list(e.first_lines[:3]))])


def _short(value) -> str:
    if isinstance(value, list):
        return "[%s]" % ", ".join(str(v) for v in value) if len(value) <= 3 else "%d items" % len(value)
    return str(value)


def config_drift(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """The running definition differs from the persistent one (what the next cold boot uses)."""
    for g in guests:
        if not g.differences:
            continue
        text = "; ".join("%s live %s, persistent %s" % (d.field, _short(d.live), _short(d.persistent))
                         for d in g.differences)
        yield Finding(
            code="config-drift", severity="warning",
            message="%s on %s runs with a definition that differs from its persistent one (%s): "
                    "the running values are lost at the next cold boot." % (_name(g), _host(g), text),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(d.live_source, "live %s" % d.field, d.live) for d in g.differences]
                     + [Evidence(d.persistent_source, "persistent %s" % d.field, d.persistent) for d in g.differences])


def transient_nova_guest(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Nova always defines its guests persistently: a transient one vanishes at its next shutdown."""
    for g in guests:
        if g.nova is None or g.persistent is not False:
            continue
        yield Finding(
            code="transient-nova-guest", severity="warning",
            message="%s on %s is a transient libvirt domain although Nova created it: it will "
                    "disappear from libvirt when it stops (virsh create, or a failed define?)." % (_name(g), _host(g)),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(_src(g), "persistent", False)])


def _shared(guests: list[Guest], keys: Callable[[Guest], Iterable[str]]) -> dict[str, dict[str, Guest]]:
    """key -> {uuid: guest} for keys that more than one distinct UUID has (one guest per UUID:
    the same instance on two hosts is uuid-on-multiple-hosts, not sharing)."""
    seen: dict[str, dict[str, Guest]] = defaultdict(dict)
    for g in guests:
        for k in set(keys(g)):
            seen[k].setdefault(g.uuid, g)
    return {k: v for k, v in seen.items() if len(v) > 1}


def _port_ids(g: Guest) -> Iterable[str]:
    return (p.uuid.lower() for p in (g.nova.ports if g.nova else []) if p.uuid)


def port_shared(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """One Neutron port in the Nova metadata of distinct instances: a port is bound to one instance
    at a time, so at least one definition is stale (a failed detach, evacuation or rebuild)."""
    for port, gs in sorted(_shared(guests, _port_ids).items()):
        uuids = sorted(gs)
        listing = _listing(["%s on %s" % (_name(gs[u]), _host(gs[u])) for u in uuids])
        yield Finding(
            code="port-shared", severity="warning",
            message="Neutron port %s is in the Nova metadata of %d different instances: %s; a port "
                    "belongs to one instance, ask Neutron which (openstack port show)." % (port, len(uuids), listing),
            guests=uuids, hosts=sorted({_host(g) for g in gs.values()}),
            evidence=[Evidence(_src(gs[u]), "nova:port of %s" % u, port) for u in uuids])


def mac_shared(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Distinct instances with the same interface MAC address. Warning on one host (one bridge:
    they take each other's traffic); info across hosts, since Neutron keeps MACs unique per network
    only. Not repeated when the same instances already share a Neutron port (port-shared)."""
    port_groups = {frozenset(gs) for gs in _shared(guests, _port_ids).values()}
    for mac, gs in sorted(_shared(guests, lambda g: (i.mac.lower() for i in g.interfaces if i.mac)).items()):
        uuids = sorted(gs)
        if frozenset(uuids) in port_groups:
            continue
        hosts = sorted({_host(g) for g in gs.values()})
        listing = _listing(["%s on %s" % (_name(gs[u]), _host(gs[u])) for u in uuids])
        yield Finding(
            code="mac-shared", severity="warning" if len(hosts) < len(uuids) else "info",
            message="MAC address %s is on %d different instances: %s; on one network they take "
                    "each other's traffic." % (mac, len(uuids), listing),
            guests=uuids, hosts=hosts,
            evidence=[Evidence(_src(gs[u]), "interface MAC of %s" % u, mac) for u in uuids])


def _disk_keys(g: Guest) -> Iterable[str]:
    """What identifies a disk across hosts: the Cinder volume id (serial), a network source
    (`pool/image` in Ceph), else the local path on this host (a /dev name or an iSCSI LUN number
    on another host is another disk)."""
    for d in g.disks:
        if d.kind == "cdrom" or not (d.serial or d.source):
            continue
        if d.serial:
            yield "volume %s" % d.serial
        elif d.source_type == "network":
            yield "%s" % d.source
        else:
            yield "%s on %s" % (d.source, _host(g))


def disk_shared(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """One disk or volume in the definitions of distinct instances. Legitimate only for multiattach
    volumes; otherwise two guests writing one disk corrupt it (a failed detach or evacuation)."""
    for disk, gs in sorted(_shared(guests, _disk_keys).items()):
        uuids = sorted(gs)
        active = [u for u in uuids if gs[u].state in ACTIVE]
        listing = _listing(["%s on %s (%s)" % (_name(gs[u]), _host(gs[u]), gs[u].state or "state unknown")
                             for u in uuids])
        yield Finding(
            code="disk-shared", severity="warning",
            message="Disk %s is attached to %d different instances: %s; unless it is a multiattach "
                    "volume, %s." % (disk, len(uuids), listing,
                                     "two active guests writing it corrupt it" if len(active) > 1
                                     else "one of them should not have it"),
            guests=uuids, hosts=sorted({_host(g) for g in gs.values()}),
            evidence=[Evidence(_src(gs[u]), "disk of %s" % u, disk) for u in uuids])


CHECKS: list[Check] = [
    nova_version_mismatch, flavor_resource_mismatch, uuid_on_multiple_hosts, display_name_shared,
    no_nova_metadata, abnormal_state, nova_log_errors, config_drift, transient_nova_guest,
    port_shared, mac_shared, disk_shared,
]
CHECKS += host_findings.CHECKS  # the host under the guests (analyzer/host_findings.py)


def code_of(check: Check) -> str:
    """The one finding code a check emits: it is named after it.

    >>> code_of(port_shared)
    'port-shared'
    """
    return check.__name__.replace("_", "-")


CODES = tuple(code_of(c) for c in CHECKS)


def sort_findings(findings: list[Finding], guests: Optional[list[Guest]] = None) -> list[Finding]:
    """Severity first (critical, warning, info, then anything else), then host, then the guest the
    finding is about: by its display name when `guests` are given, then by UUID."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    names = {g.uuid: (g.display_name or g.domain_name or "").lower() for g in guests or []}

    def order(f: Finding):
        uuid = f.guests[0] if f.guests else ""
        return (rank.get(f.severity, len(rank)), f.hosts[0] if f.hosts else "", names.get(uuid, ""),
                uuid, f.code, f.message)
    return sorted(findings, key=order)


def find(reports: list[Report], guests: list[Guest]) -> list[Finding]:
    """Every finding for these reports and guests, sorted (see `sort_findings`)."""
    by_id = {r.id: r for r in reports}
    out: list[Finding] = []
    for check in CHECKS:
        out.extend(check(by_id, guests))
    return sort_findings(out, guests)


def at_or_above(findings: list[Finding], severity: str) -> bool:
    """True when a finding is at least as severe as `severity` (critical > warning > info).

    >>> at_or_above([Finding("x", "warning", "m")], "critical")
    False
    """
    limit = SEVERITIES.index(severity)
    return any(SEVERITIES.index(f.severity) <= limit for f in findings if f.severity in SEVERITIES)


def with_story(findings: list[Finding], instances: list[Instance]) -> list[Finding]:
    """Findings told with what the logs say happened: a UUID on two hosts after a migration says
    which migration, and which host holds the leftover definition."""
    by_uuid = {i.uuid: i for i in instances}
    for f in findings:
        if f.code != "uuid-on-multiple-hosts" or not f.guests or f.guests[0] not in by_uuid:
            continue
        inst = by_uuid[f.guests[0]]
        m = story.last_move_between(inst, f.hosts)
        if m is None:
            continue
        states = {h.host: h.state for h in inst.hosts}
        owner = m.destination
        if m.outcome == "failed":
            leftover, owner = m.destination, m.source
            what = "a migration from %s to %s failed at %s" % (m.source or "?", m.destination, m.ended or m.started)
        else:
            leftover = m.source if m.source and states.get(m.source) not in ACTIVE else next(
                (h for h in f.hosts if h != m.destination and states.get(h) not in ACTIVE), None)
            verb = {"evacuation": "it was evacuated", "cold": "it was cold-migrated"}.get(m.kind, "it migrated")
            what = "%s from %s to %s%s" % (verb, m.source or "an unknown host", m.destination,
                                           " at %s" % m.ended if m.ended else "")
        head = f.message.split("; ", 1)[0]
        f.message = "%s; %s (logs)%s" % (
            head, what, ": the definition on %s is the leftover (`virsh undefine` it there once Nova "
                        "confirms the instance is on %s)" % (leftover, owner or "the other host")
            if leftover and f.severity != "critical" else "")
        for e in inst.events:
            if e.kind in ("migration-started", "migration-completed", "migration-failed", "migrated-in",
                          "evacuated", "resize") and e.evidence and e.host in f.hosts:
                f.evidence.append(Evidence("%s:%s" % (e.evidence.path, e.evidence.line), "%s on %s at %s"
                                           % (e.kind, e.host, e.time), e.message))
    return findings
