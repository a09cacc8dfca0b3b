"""A host's capacity and what its guests commit against it; each guest NIC's OVS port and each
block disk's device. Pure functions over the model and the host data the sources read.

    >>> from analyzer.model import Capacity, NumaNode
    >>> g = Guest(uuid="u1", state="running", vcpus=2, memory_mb=1024,
    ...           placement=Placement(vcpu_pins={0: [2], 1: [3]}, hugepage_kib=2048, numa_nodes=[0]))
    >>> cap = Capacity(cpus=4, numa_nodes=[NumaNode(id=0, cpus=[0, 1, 2, 3])])
    >>> c = committed(cap, [g])
    >>> c.vcpus, c.memory_mb, c.pinned_cpus, c.hugepages
    (2, 1024, [2, 3], {'0': {'2048': 512}})
"""

from __future__ import annotations

import re
from typing import Any, Optional

from analyzer.model import (Capacity, Committed, DiskDevice, DomainDef, Guest, IscsiInfo, MultipathInfo,
                            NovaMeta, OvsPort, Placement, Report)
from analyzer.parsers import iscsiadm, nova_conf

ACTIVE = {"running", "paused", "idle", "blocked", "in shutdown", "pmsuspended"}
_MPATH_ID = re.compile(r"/dev/disk/by-id/dm-uuid-mpath-(?P<wwid>\S+)")
_LSBLK_NAMES = re.compile(r"/dev/(?:mapper/)?[^/]+")


def placement_of(d: DomainDef, nova: Optional[NovaMeta]) -> Optional[Placement]:
    """The guest's placement from its XML and flavor; None when it has none of it."""
    specs = nova.flavor.extra_specs if nova and nova.flavor else {}
    p = Placement(vcpu_pins=dict(d.vcpu_pins), emulator_pins=d.emulator_pins, numa_nodes=d.numa_nodes,
                  hugepage_kib=d.hugepage_kib, cpu_policy=specs.get("hw:cpu_policy"),
                  mem_page_size=specs.get("hw:mem_page_size"), numa_node_count=specs.get("hw:numa_nodes"))
    return p if p != Placement() else None


def dedicated(g: Guest) -> bool:
    """A guest on dedicated CPUs: the flavor says so, or (older Nova writes no extra specs into
    the XML) every vCPU is pinned to one CPU of its own."""
    p = g.placement
    if p is None:
        return False
    if p.cpu_policy is not None:
        return p.cpu_policy == "dedicated"
    pins = list(p.vcpu_pins.values())
    return bool(pins) and all(len(c) == 1 for c in pins) and len({c[0] for c in pins}) == len(pins)


def guest_nodes(g: Guest, cap: Capacity) -> list[int]:
    """The host nodes a guest's memory is on: its numatune, else every node (the kernel chooses)."""
    if g.placement and g.placement.numa_nodes:
        return list(g.placement.numa_nodes)
    return [n.id for n in cap.numa_nodes]


def page_kib(g: Guest, cap: Capacity) -> Optional[int]:
    """The hugepage size backing a guest; 0 in the XML means the host's default (the smallest)."""
    kib = g.placement.hugepage_kib if g.placement else None
    if kib == 0:
        sizes = sorted({int(k) for n in cap.numa_nodes for k in n.hugepages})
        return sizes[0] if sizes else 2048
    return kib


def committed(cap: Capacity, guests: list[Guest]) -> Committed:
    """vCPUs, memory, pinned CPUs and hugepages of the active guests. A guest bound to several
    nodes is counted on the first (where the kernel puts it first; per-cell tuning is finer)."""
    c = Committed()
    pinned: set[int] = set()
    for g in guests:
        if g.state not in ACTIVE:
            continue
        c.vcpus += g.vcpus or 0
        c.memory_mb += g.memory_mb or 0
        if g.placement:
            for cpus in g.placement.vcpu_pins.values():
                if dedicated(g):
                    pinned.update(cpus)
            if dedicated(g) and g.placement.emulator_pins:
                pinned.update(g.placement.emulator_pins)
        kib = page_kib(g, cap)
        nodes = guest_nodes(g, cap)
        if kib and nodes and g.memory_mb:
            pages = g.memory_mb * 1024 // kib
            per = c.hugepages.setdefault(str(nodes[0]), {})
            per[str(kib)] = per.get(str(kib), 0) + pages
    c.pinned_cpus = sorted(pinned)
    return c


def finish(report: Report, guests: list[Guest]) -> None:
    """Fill the derived parts of the report's capacity: Nova's default ratios, commitments, the
    sos plugins that did not run."""
    cap = report.capacity
    if cap is None:
        return
    conf = cap.nova_conf
    default_cpu, default_ram = nova_conf.defaults_for(report.packages.nova)
    for key, default in (("cpu_allocation_ratio", default_cpu), ("ram_allocation_ratio", default_ram)):
        if getattr(cap, key) is not None:
            cap.sources.setdefault(key, cap.sources.get("nova_conf", "nova.conf"))
            continue
        initial = conf.get("initial_" + key)
        try:
            value = float(initial) if isinstance(initial, str) else None
        except ValueError:
            value = None
        if value is not None:
            setattr(cap, key, value)
            cap.sources[key] = "%s (initial_%s)" % (cap.sources.get("nova_conf"), key)
        elif default is not None and "nova_conf" in cap.sources:
            setattr(cap, key, default)
            cap.sources[key] = "Nova %s default (nova.conf sets none)" % report.packages.nova
    cap.committed = committed(cap, guests)
    if report.collection is not None:
        from analyzer.sources.sos_run import FEEDING
        ran = set(report.collection.plugins_run)
        cap.not_collected = [p for p in FEEDING if p not in ran]


def _ports(host_data: dict[str, Any]) -> Optional[list[OvsPort]]:
    ovs = host_data.get("ovs")
    return ovs["ports"] if ovs else None


def annotate(report: Report, guests: list[Guest], host_data: dict[str, Any]) -> None:
    """Each NIC's OVS interface, each block disk's device, then the capacity's derived parts."""
    ports = _ports(host_data)
    if ports is not None:
        by_name = {p.name: p for p in ports}
        by_iface = {p.iface_id: p for p in ports if p.iface_id}
        by_mac = {p.attached_mac: p for p in ports if p.attached_mac}
        for g in guests:
            nova_ports = {p.uuid for p in (g.nova.ports if g.nova else []) if p.uuid}
            for nic in g.interfaces:
                if not _ovs_candidate(g, nic):
                    continue
                hit = (by_name.get(nic.target_dev or "") or by_iface.get(nic.interface_id or "")
                       or by_mac.get((nic.mac or "").lower()))
                if hit is None and len(nova_ports) == 1 and len(g.interfaces) == 1:
                    hit = by_iface.get(next(iter(nova_ports)))
                if hit is not None:
                    nic.ovs = hit
                elif g.state not in ACTIVE:
                    nic.ovs_missing_reason = "the guest is not running: OVS has its port only while it runs"
                else:
                    nic.ovs_missing_reason = ("no OVS interface named %s, with iface-id %s or attached-mac %s"
                                              % (nic.target_dev or "?", nic.interface_id or "?", nic.mac or "?"))
    for g in guests:
        for d in g.disks:
            d.device = disk_device(d.source or "", host_data)
    finish(report, guests)


def _ovs_candidate(g: Guest, nic) -> bool:
    """An OVS-backed NIC: libvirt's openvswitch virtualport, or a Nova port's tap device."""
    if nic.virtualport == "openvswitch":
        return True
    return (g.nova is not None and bool(g.nova.ports) and nic.type in ("bridge", "ethernet")
            and (nic.target_dev or "").startswith("tap"))


def disk_device(source: str, host_data: dict[str, Any]) -> Optional[DiskDevice]:
    """The device behind a `/dev/...` disk source as the report shows it: in the /dev listing or
    lsblk, its multipath map (multipath -ll, else lsblk's mpath and its paths), its iSCSI session.
    None when the source is no /dev path or the report has none of those files."""
    if not source.startswith("/dev/"):
        return None
    dev, blk, iscsi = host_data.get("dev"), host_data.get("lsblk"), host_data.get("iscsi")
    entries = dev["entries"] if dev else {}
    known = {p: name for name, b in (blk["devices"].items() if blk else ()) for p in b.paths()}
    by_path = iscsiadm.parse_by_path(source)
    present: Optional[bool] = None
    listing = None
    target = (entries.get(source, (None, None))[1] or "")
    # a link's target ("../../dm-2") names the device lsblk knows
    resolved = "/dev/" + target.rsplit("/", 1)[-1] if target else None
    in_lsblk = source in known or (resolved in known if resolved else False)
    if dev is not None:
        present = source in entries or in_lsblk
        listing = dev["path"] if source in entries or not in_lsblk else blk["path"]
    elif blk is not None and _LSBLK_NAMES.fullmatch(source):
        # lsblk knows kernel names and /dev/mapper names only: of a by-id link it says nothing
        present, listing = in_lsblk, blk["path"]
    if present is None and not (iscsi is not None and by_path):
        return None
    out = DiskDevice(path=source, present=present, listing=listing,
                     multipath=_multipath(source, target, resolved, host_data, known))
    if iscsi is not None and by_path:
        out.iscsi, out.iscsi_missing_reason = _iscsi(by_path, iscsi)
    return out


def _iscsi(by_path: tuple[str, str, int], iscsi: dict) -> tuple[Optional[IscsiInfo], Optional[str]]:
    portal, iqn, lun = by_path
    to_target = [s for s in iscsi["sessions"] if s.target == iqn]
    if not to_target:
        return None, "no iSCSI session to %s" % iqn
    s = next((s for s in to_target if portal in (s.portal, s.persistent_portal)), to_target[0])
    disk, disk_state = s.luns.get(lun, (None, None))
    return IscsiInfo(target=iqn, portal=s.portal, state=s.state, disk=disk, disk_state=disk_state,
                     source=iscsi["path"]), None


def _multipath(source: str, target: str, resolved: Optional[str], host_data: dict[str, Any],
               known: dict[str, str]) -> Optional[MultipathInfo]:
    """`target`: the /dev listing's link target of `source` ("" if none); `resolved`: the device
    it names ("/dev/dm-2"), or None."""
    m = _MPATH_ID.fullmatch(source)
    mp_data = host_data.get("multipath")
    for mp in (mp_data or {}).get("maps") or []:
        if (m and m.group("wwid") == mp.wwid) or source in ("/dev/mapper/" + mp.name, "/dev/" + mp.dm) \
                or target.rsplit("/", 1)[-1] == mp.dm:
            return MultipathInfo(name=mp.name, paths_active=mp.paths_active, paths_total=mp.paths_total,
                                 paths=list(mp.paths), source=mp_data["path"])
    blk = host_data.get("lsblk")
    if mp_data is not None or blk is None:
        return None  # multipath -ll, where the report has it, is the whole account of the maps
    name = known.get(source) or (known.get(resolved) if resolved else None)
    b = blk["devices"].get(name) if name else None
    if b is None or b.type != "mpath":
        return None
    # lsblk names a map's paths, not their state
    return MultipathInfo(name=b.name, paths_active=None, paths_total=len(b.parents), paths=list(b.parents),
                         source=blk["path"])
