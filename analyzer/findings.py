"""What a support engineer must notice, each with the evidence: pure functions over the model.

Every check takes the merged guests (and the host facts) and returns `Finding`s; nothing here reads
a file. Each code is documented in the README ("Findings"), and each has a test proving it fires
and a test proving a healthy guest does not trigger it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Optional

from analyzer import versions
from analyzer.model import SEVERITIES, Evidence, Finding, Guest, Report

ACTIVE = {"running", "paused", "idle", "blocked", "in shutdown", "pmsuspended"}
# libvirt states that need a look, and how loud: a crashed guest is down, the others are stuck.
ABNORMAL = {"crashed": "critical", "paused": "warning", "blocked": "warning",
            "pmsuspended": "warning", "in shutdown": "warning"}


def _name(g: Guest) -> str:
    return "%s (%s)" % (g.display_name, g.uuid) if g.display_name else "%s (%s)" % (g.domain_name or "?", g.uuid)


def _src(g: Guest) -> Optional[str]:
    return g.xml_source or (g.sources[0].path if g.sources else None)


def nova_version_mismatch(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        report = reports.get(g.report or "")
        installed = report.packages.nova if report else None
        booted = g.nova.package_version if g.nova else None
        if not installed or not booted or versions.same_upstream(booted, installed):
            continue
        same_series = versions.series(booted) is not None and versions.series(booted) == versions.series(installed)
        yield Finding(
            code="nova-version-mismatch", severity="info" if same_series else "warning",
            message="%s on %s was booted by Nova %s, but Nova %s is installed there now."
                    % (_name(g), g.host, versions.describe(booted), versions.describe(installed)),
            guests=[g.uuid], hosts=[g.host or "?"],
            evidence=[Evidence(_src(g), "nova:package version (at boot)", booted),
                      Evidence(None, "installed nova package", installed)])


def flavor_resource_mismatch(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        flavor = g.nova.flavor if g.nova else None
        if flavor is None:
            continue
        diffs = []
        if flavor.memory_mb is not None and g.memory_mb is not None and flavor.memory_mb != g.memory_mb:
            diffs.append(("memory", "%d MiB" % flavor.memory_mb, "%d MiB" % g.memory_mb))
        if flavor.vcpus is not None and g.vcpus is not None and flavor.vcpus != g.vcpus:
            diffs.append(("vCPUs", str(flavor.vcpus), str(g.vcpus)))
        if not diffs:
            continue
        text = "; ".join("flavor %s, domain %s %s" % (f, d, what) for what, f, d in diffs)
        evidence = [Evidence(_src(g), "flavor %s %s" % (flavor.name or "", what), f) for what, f, _ in diffs]
        evidence += [Evidence(_src(g), "domain %s" % what, d) for what, _, d in diffs]
        yield Finding(
            code="flavor-resource-mismatch", severity="warning",
            message="%s on %s does not match its flavor %s: %s (resize in flight or a hand edit?)."
                    % (_name(g), g.host, flavor.name or "?", text),
            guests=[g.uuid], hosts=[g.host or "?"], evidence=evidence)


def uuid_on_multiple_hosts(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    by_uuid: dict[str, list[Guest]] = defaultdict(list)
    for g in guests:
        by_uuid[g.uuid].append(g)
    for uuid, gs in by_uuid.items():
        hosts = sorted({g.host or "?" for g in gs})
        if len(hosts) < 2:
            continue
        active = sorted({g.host or "?" for g in gs if g.state in ACTIVE})
        where = ", ".join("%s (%s)" % (g.host, g.state or "state unknown") for g in sorted(gs, key=lambda x: x.host or ""))
        name = next((g.display_name for g in gs if g.display_name), None) or gs[0].domain_name
        yield Finding(
            code="uuid-on-multiple-hosts", severity="critical" if len(active) > 1 else "warning",
            message="Instance %s (%s) is defined on %d hosts: %s%s"
                    % (name, uuid, len(hosts), where,
                       "; it RUNS on more than one: risk of split-brain disk corruption." if len(active) > 1
                       else "; a leftover of a migration or evacuation?"),
            guests=[uuid], hosts=hosts,
            evidence=[Evidence(_src(g), "defined on %s" % g.host, g.state) for g in gs])


def display_name_shared(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    by_name: dict[str, dict[str, Guest]] = defaultdict(dict)
    for g in guests:
        if g.display_name:
            by_name[g.display_name].setdefault(g.uuid, g)
    for name, gs in by_name.items():
        if len(gs) < 2:
            continue
        listing = ", ".join("%s on %s" % (u, g.host) for u, g in sorted(gs.items()))
        yield Finding(
            code="display-name-shared", severity="info",
            message="%d different instances are named %r: %s; ask which UUID the user means."
                    % (len(gs), name, listing),
            guests=sorted(gs), hosts=sorted({g.host or "?" for g in gs.values()}),
            evidence=[Evidence(_src(g), "nova:name", name) for g in gs.values()])


def no_nova_metadata(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        report = reports.get(g.report or "")
        if g.nova is not None or not report or not report.nova_compute:
            continue
        yield Finding(
            code="no-nova-metadata", severity="warning",
            message="%s on %s has no Nova metadata although the host runs nova-compute: Nova did "
                    "not create it (or it was redefined by hand)." % (_name(g), g.host),
            guests=[g.uuid], hosts=[g.host or "?"],
            evidence=[Evidence(_src(g), "nova:instance", None),
                      Evidence(report.nova_compute_evidence, "nova-compute on the host", True)])


def abnormal_state(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        if g.state not in ABNORMAL:
            continue
        reason = " (reason: %s)" % g.state_reason if g.state_reason else ""
        yield Finding(
            code="abnormal-state", severity=ABNORMAL[g.state],
            message="%s on %s is %s%s." % (_name(g), g.host, g.state, reason),
            guests=[g.uuid], hosts=[g.host or "?"],
            evidence=[Evidence(next((s.path for s in g.sources if s.kind in ("run-status", "plugin-summary", "virsh-list")),
                                    _src(g)), "libvirt state", "%s%s" % (g.state, reason))])


def nova_log_errors(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        log = g.logs.nova_compute if g.logs else None
        if not log or not log.errors or log.errors.count <= 0:
            continue
        e = log.errors
        yield Finding(
            code="nova-log-errors", severity="warning",
            message="nova-compute logged %d ERROR/CRITICAL line(s) about %s on %s, from %s to %s."
                    % (e.count, _name(g), g.host, e.first_time or "?", e.last_time or "?"),
            guests=[g.uuid], hosts=[g.host or "?"],
            evidence=[Evidence(", ".join(log.paths) or None, "first error lines", list(e.first_lines[:3]))])


def config_drift(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    for g in guests:
        if not g.differences:
            continue
        fields = ", ".join(d.field for d in g.differences)
        yield Finding(
            code="config-drift", severity="warning",
            message="%s on %s runs with a definition that differs from its persistent one (%s): "
                    "the difference is lost at the next cold boot." % (_name(g), g.host, fields),
            guests=[g.uuid], hosts=[g.host or "?"],
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
                    "disappear from libvirt when it stops (virsh create, or a failed define?)." % (_name(g), g.host),
            guests=[g.uuid], hosts=[g.host or "?"],
            evidence=[Evidence(_src(g), "persistent", False)])


CHECKS: list[Callable[[dict[str, Report], list[Guest]], Iterable[Finding]]] = [
    nova_version_mismatch, flavor_resource_mismatch, uuid_on_multiple_hosts, display_name_shared,
    no_nova_metadata, abnormal_state, nova_log_errors, config_drift, transient_nova_guest,
]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Severity first, then host, then the guest the finding is about."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (rank.get(f.severity, len(rank)), f.hosts[0] if f.hosts else "",
                                           f.guests[0] if f.guests else "", f.code))


def find(reports: list[Report], guests: list[Guest]) -> list[Finding]:
    by_id = {r.id: r for r in reports}
    out: list[Finding] = []
    for check in CHECKS:
        out.extend(check(by_id, guests))
    return sort_findings(out)


def at_or_above(findings: list[Finding], severity: str) -> bool:
    """True when a finding is at least as severe as `severity` (critical > warning > info)."""
    limit = SEVERITIES.index(severity)
    return any(SEVERITIES.index(f.severity) <= limit for f in findings if f.severity in SEVERITIES)
