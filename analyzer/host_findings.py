"""Findings about the host under the guests: CPU pins, hugepages, allocation, OVS ports, block
devices, the sos run itself. Pure functions over the model, the same signature as the checks of
analyzer/findings.py; README "Findings" documents each code.

    >>> from analyzer.model import Capacity, NumaNode, Placement
    >>> a = Guest(uuid="a", domain_name="a", host="c1", report="r1", state="running",
    ...           placement=Placement(vcpu_pins={0: [1]}, cpu_policy="dedicated"))
    >>> b = Guest(uuid="b", domain_name="b", host="c1", report="r1", state="shut off",
    ...           placement=Placement(vcpu_pins={0: [1]}))
    >>> [(f.code, f.severity) for f in cpu_pinning_overlap({}, [a, b])]
    [('cpu-pinning-overlap', 'warning')]
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from analyzer import describe
from analyzer.capacity import ACTIVE, dedicated, guest_nodes, page_kib
from analyzer.model import Evidence, Finding, Guest, Report
from analyzer.parsers.cpuset import format_cpu_list
from analyzer.sources.block_devices import ISCSI_SESSIONS
from analyzer.sources.ovs import LIST as OVS_LIST

_name, _host, _src = describe.name, describe.host, describe.source

CODES = ("cpu-pinning-overlap", "pinned-outside-cpu-set", "hugepages-short", "host-overcommit",
         "port-not-plugged", "disk-device-missing", "collection-incomplete")
# What each sos plugin feeds, for the reader of collection-incomplete.
FEEDS = {
    "libvirt": "the guest list and definitions", "virsh": "the guest list and definitions",
    "libvirt_guests": "the guest list and definitions",
    "openstack_nova": "nova.conf (CPU sets, allocation ratios) and nova-compute logs",
    "openvswitch": "the OVS ports (port-not-plugged)",
    "processor": "the host's CPUs (capacity, host-overcommit)",
    "memory": "the host's memory and hugepages (capacity, hugepages-short)",
    "numa": "the NUMA nodes and their hugepages (hugepages-short)",
    "block": "the /dev listing and lsblk (disk-device-missing)", "multipath": "multipath maps (disk-device-missing)",
    "iscsi": "the iSCSI sessions (disk-device-missing)",
}




def _pins(g: Guest) -> set[int]:
    """Host CPUs a guest is pinned to: its vCPUs, and its emulator threads when dedicated."""
    p = g.placement
    if p is None:
        return set()
    cpus = {c for cs in p.vcpu_pins.values() for c in cs}
    if dedicated(g) and p.emulator_pins:
        cpus.update(p.emulator_pins)
    return cpus


def _by_report(guests: list[Guest]) -> dict[str, list[Guest]]:
    out: dict[str, list[Guest]] = defaultdict(list)
    for g in guests:
        out[g.report or ""].append(g)
    return out


def cpu_pinning_overlap(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Two guests of one host pinned to the same host CPU, at least one of them dedicated."""
    for rid, gs in _by_report(guests).items():
        on_cpu: dict[int, list[Guest]] = defaultdict(list)
        for g in gs:
            for c in _pins(g):
                on_cpu[c].append(g)
        pairs: dict[tuple[str, str], set[int]] = defaultdict(set)
        who = {g.uuid: g for g in gs}
        for cpu, users in on_cpu.items():
            for i, a in enumerate(users):
                for b in users[i + 1:]:
                    if a.uuid != b.uuid and (dedicated(a) or dedicated(b)):
                        pairs[tuple(sorted((a.uuid, b.uuid)))].add(cpu)  # type: ignore[arg-type]
        for (ua, ub), cpus in sorted(pairs.items()):
            a, b = who[ua], who[ub]
            both = a.state in ACTIVE and b.state in ACTIVE
            ded = [x for x in (a, b) if dedicated(x)]
            yield Finding(
                code="cpu-pinning-overlap", severity="critical" if both else "warning",
                message="%s and %s on %s are both pinned to host CPU %s, and %s dedicated CPUs; %s."
                        % (_name(a), _name(b), _host(a), format_cpu_list(sorted(cpus)),
                           "both need" if len(ded) == 2 else "%s needs" % (ded[0].display_name or ded[0].domain_name),
                           "both are active: each takes the other's CPU time" if both
                           else "the one that is shut off will share the CPU when it starts"),
                guests=[a.uuid, b.uuid], hosts=[_host(a)],
                evidence=[Evidence(_src(x), "host CPUs %s is pinned to (vcpupin/emulatorpin)" % _name(x),
                                   format_cpu_list(sorted(_pins(x)))) for x in (a, b)])


def pinned_outside_cpu_set(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """A dedicated guest pinned outside cpu_dedicated_set (or vcpu_pin_set), a shared guest's
    explicit pins outside cpu_shared_set."""
    for g in guests:
        report = reports.get(g.report or "")
        cap = report.capacity if report else None
        if cap is None or g.placement is None or not g.placement.vcpu_pins:
            continue
        if dedicated(g):
            allowed, option = ((cap.cpu_dedicated_set, "cpu_dedicated_set") if cap.cpu_dedicated_set is not None
                               else (cap.vcpu_pin_set, "vcpu_pin_set"))
        else:
            allowed, option = ((cap.cpu_shared_set, "cpu_shared_set") if cap.cpu_shared_set is not None
                               else (cap.vcpu_pin_set, "vcpu_pin_set"))
        if allowed is None:
            continue
        pins = {c for cs in g.placement.vcpu_pins.values() for c in cs}
        outside = sorted(pins - set(allowed))
        if not outside:
            continue
        yield Finding(
            code="pinned-outside-cpu-set", severity="warning",
            message="%s on %s (%s) is pinned to host CPU %s, outside nova.conf's %s = %s: %s."
                    % (_name(g), _host(g), "dedicated" if dedicated(g) else "shared", format_cpu_list(outside),
                       option, format_cpu_list(allowed),
                       "Nova did not place it there (a hand edit, or the set changed after it booted)"),
            guests=[g.uuid], hosts=[_host(g)],
            evidence=[Evidence(_src(g), "vcpupin cpusets", format_cpu_list(sorted(pins))),
                      Evidence(cap.sources.get("nova_conf"), option, format_cpu_list(allowed))])


def hugepages_short(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Hugepage-backed guests need more pages than a NUMA node has (total), or a shut-off one
    more than the node has free now."""
    for rid, gs in _by_report(guests).items():
        report = reports.get(rid)
        cap = report.capacity if report else None
        if cap is None or not cap.numa_nodes:
            continue
        nodes = {n.id: n for n in cap.numa_nodes}
        demand: dict[tuple[int, int], list[tuple[Guest, int]]] = defaultdict(list)
        short: set[str] = set()
        for g in gs:
            kib = page_kib(g, cap)
            if not kib or not g.memory_mb:
                continue
            pages = g.memory_mb * 1024 // kib
            where = [i for i in guest_nodes(g, cap) if i in nodes]
            if not where:
                continue
            demand[(where[0], kib)].append((g, pages))
            if g.state in ACTIVE:
                continue
            counts = [nodes[i].hugepages.get(str(kib), {}) for i in where]
            if any(c and "free" not in c for c in counts):
                continue  # a node whose free count the report does not hold (capabilities: totals only)
            free = sum(c.get("free", 0) for c in counts)
            if pages > free:
                short.add(g.uuid)
                yield Finding(
                    code="hugepages-short", severity="critical",
                    message="%s on %s needs %d hugepages of %d KiB on NUMA node %s to start, and only %d are "
                            "free there: it cannot start now." % (_name(g), _host(g), pages, kib,
                                                                  format_cpu_list(where), free),
                    guests=[g.uuid], hosts=[_host(g)],
                    evidence=[Evidence(_src(g), "memory (MiB) backed by %d KiB pages" % kib, g.memory_mb),
                              Evidence(cap.sources.get("numa_nodes"), "free %d KiB hugepages on node %s"
                                       % (kib, format_cpu_list(where)), free)])
        for (node, kib), users in sorted(demand.items()):
            counts = nodes[node].hugepages.get(str(kib), {})
            if counts and "total" not in counts:
                continue
            total = counts.get("total", 0)
            need = sum(p for _, p in users)
            if need <= total or all(g.uuid in short for g, _ in users):
                continue
            yield Finding(
                code="hugepages-short", severity="warning",
                message="The hugepage-backed guests on NUMA node %d of %s need %d pages of %d KiB, the node has "
                        "%d: %s." % (node, _host(users[0][0]), need, kib, total,
                                     ", ".join("%s %d" % (_name(g), p) for g, p in users)),
                guests=[g.uuid for g, _ in users], hosts=[_host(users[0][0])],
                evidence=[Evidence(_src(g), "hugepages of %s" % _name(g), p) for g, p in users]
                + [Evidence(cap.sources.get("numa_nodes"), "%d KiB hugepages on node %d" % (kib, node), total)])


def _configured(cap, key: str) -> bool:
    """A ratio nova.conf sets (or its initial_*): Nova's built-in default applies only to a compute
    node's first start, and placement may hold another value since, so it is shown, never judged."""
    return getattr(cap, key) is not None and not cap.sources.get(key, "").startswith("Nova ")


def host_overcommit(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """Active guests' vCPUs or memory beyond what nova.conf's ratios and reservations allow."""
    by = _by_report(guests)
    for rid, report in sorted(reports.items()):
        cap = report.capacity
        if cap is None or not cap.sources.get("nova_conf"):
            continue
        active = [g for g in by.get(rid, []) if g.state in ACTIVE]
        host = report.hostname or "?"
        over = []
        ev = []
        ded = [g for g in active if dedicated(g)]
        if cap.cpu_dedicated_set is not None:
            used = sum(g.vcpus or 0 for g in ded)
            if used > len(cap.cpu_dedicated_set):
                over.append("%d dedicated vCPUs on the %d CPUs of cpu_dedicated_set" % (used, len(cap.cpu_dedicated_set)))
                ev.append(Evidence(cap.sources.get("nova_conf"), "cpu_dedicated_set",
                                   format_cpu_list(cap.cpu_dedicated_set)))
        if _configured(cap, "cpu_allocation_ratio"):
            shared = (cap.cpu_shared_set if cap.cpu_shared_set is not None else cap.vcpu_pin_set
                      if cap.vcpu_pin_set is not None else None)
            n = len(shared) if shared is not None else (cap.cpus if cap.cpu_dedicated_set is None else None)
            used = sum(g.vcpus or 0 for g in active if g not in ded)
            if n is not None and used > n * cap.cpu_allocation_ratio:
                over.append("%d shared vCPUs, %d CPUs x cpu_allocation_ratio %g allow %g"
                            % (used, n, cap.cpu_allocation_ratio, n * cap.cpu_allocation_ratio))
                ev.append(Evidence(cap.sources.get("cpu_allocation_ratio"), "cpu_allocation_ratio",
                                   cap.cpu_allocation_ratio))
        if _configured(cap, "ram_allocation_ratio") and cap.memory_mb:
            reserved = cap.reserved_host_memory_mb if cap.reserved_host_memory_mb is not None else 512
            limit = (cap.memory_mb - reserved) * cap.ram_allocation_ratio
            used = sum(g.memory_mb or 0 for g in active)
            if used > limit:
                over.append("%d MiB of guest memory, (%d - %d reserved) MiB x ram_allocation_ratio %g allow %d"
                            % (used, cap.memory_mb, reserved, cap.ram_allocation_ratio, limit))
                ev.append(Evidence(cap.sources.get("ram_allocation_ratio"), "ram_allocation_ratio",
                                   cap.ram_allocation_ratio))
        if not over:
            continue
        ev.append(Evidence(cap.sources.get("cpus"), "host CPUs", cap.cpus))
        yield Finding(
            code="host-overcommit", severity="warning",
            message="%s runs more than Nova's settings allow: %s (%d active guests)." % (host, "; ".join(over), len(active)),
            guests=[], hosts=[host], evidence=ev)


def port_not_plugged(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """An OVS-backed NIC of an active guest with no OVS interface, or one OVS cannot use."""
    for g in guests:
        if g.state not in ACTIVE:
            continue
        for nic in g.interfaces:
            if nic.ovs is not None and (nic.ovs.ofport == -1 or nic.ovs.error):
                why = "its OVS interface %s has ofport %s%s" % (
                    nic.ovs.name, nic.ovs.ofport, ", error: %s" % nic.ovs.error if nic.ovs.error else "")
                value = {"ofport": nic.ovs.ofport, "error": nic.ovs.error}
            elif nic.ovs is None and nic.ovs_missing_reason:
                why, value = nic.ovs_missing_reason, None
            else:
                continue
            yield Finding(
                code="port-not-plugged", severity="critical" if g.state == "running" else "warning",
                message="%s on %s: NIC %s (%s) is not plugged into Open vSwitch: %s; the guest has no network "
                        "on it." % (_name(g), _host(g), nic.mac or "?", nic.target_dev or "?", why),
                guests=[g.uuid], hosts=[_host(g)],
                evidence=[Evidence(_src(g), "interface (mac, target dev, Neutron port)",
                                   "%s %s %s" % (nic.mac, nic.target_dev, nic.interface_id or "")),
                          Evidence(OVS_LIST, "OVS interface", value)])


def disk_device_missing(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """A block-device disk whose /dev path is gone, whose multipath map has no active path, or
    whose iSCSI session is absent or not logged in."""
    for g in guests:
        for d in g.disks:
            dev = d.device
            if dev is None:
                continue
            why, ev = [], []
            if dev.present is False:
                why.append("%s is not in the report's %s" % (dev.path, "lsblk" if "lsblk" in (dev.listing or "")
                                                             else "/dev listing"))
                ev.append(Evidence(dev.listing, "present in /dev listing", dev.present))
            elif dev.multipath is not None and dev.multipath.paths_active == 0:
                why.append("its multipath map %s has no active path (0 of %d)" % (dev.multipath.name,
                                                                                  dev.multipath.paths_total))
                ev.append(Evidence(dev.multipath.source, "multipath %s paths active" % dev.multipath.name, 0))
            if dev.iscsi_missing_reason:
                why.append(dev.iscsi_missing_reason)
                ev.append(Evidence(ISCSI_SESSIONS, "iSCSI sessions", dev.iscsi_missing_reason))
            elif dev.iscsi is not None and dev.iscsi.state not in (None, "LOGGED_IN"):
                why.append("its iSCSI session to %s (%s) is %s, not LOGGED_IN"
                           % (dev.iscsi.target, dev.iscsi.portal or "?", dev.iscsi.state))
                ev.append(Evidence(dev.iscsi.source, "iSCSI Session State", dev.iscsi.state))
            if not why:
                continue
            active = g.state in ACTIVE
            yield Finding(
                code="disk-device-missing", severity="critical" if active else "warning",
                message="%s on %s: disk %s: %s; %s." % (
                    _name(g), _host(g), d.target or "?", "; ".join(why),
                    "the guest's I/O to it fails" if active else "the guest cannot start with it"),
                guests=[g.uuid], hosts=[_host(g)],
                evidence=[Evidence(_src(g), "disk %s source" % (d.target or "?"), d.source)] + ev)


def collection_incomplete(reports: dict[str, Report], guests: list[Guest]) -> Iterable[Finding]:
    """sos says a plugin this analysis reads timed out or failed."""
    for rid, report in sorted(reports.items()):
        col = report.collection
        if col is None or not col.troubles:
            continue
        host = report.hostname or "?"
        parts = ["%s %s (%s: %s may be incomplete)" % (t.plugin, t.what, t.detail, FEEDS.get(t.plugin, "its data"))
                 for t in col.troubles]
        yield Finding(
            code="collection-incomplete", severity="warning",
            message="sos on %s did not collect everything: %s." % (host, "; ".join(parts)),
            guests=[], hosts=[host],
            evidence=[Evidence(t.path, "%s %s" % (t.plugin, t.what), t.detail) for t in col.troubles])


CHECKS = [cpu_pinning_overlap, pinned_outside_cpu_set, hugepages_short, host_overcommit, port_not_plugged,
          disk_device_missing, collection_incomplete]
