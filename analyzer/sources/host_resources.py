"""The host's CPUs, NUMA nodes, memory and hugepages, and Nova's own settings for them.

    sos_commands/processor/lscpu                     CPU count, NUMA nodes and their CPUs
    proc/cpuinfo                                     CPU count when lscpu is missing
    proc/meminfo                                     memory, default-size hugepages
    sys/devices/system/node/nodeN/cpulist|meminfo    per NUMA node (sos's numa plugin)
    sys/devices/system/node/nodeN/hugepages/hugepages-2048kB/{nr,free}_hugepages
    sys/kernel/mm/hugepages/hugepages-2048kB/{nr,free}_hugepages   host-wide (memory plugin)
    sos_commands/virsh/virsh_-r_capabilities         libvirt's NUMA cells: CPUs, memory, hugepage totals
    sos_commands/virsh/virsh_-r_nodeinfo             libvirt's view, when the rest is missing
    etc/nova/nova.conf, the TripleO and Kolla copies  cpu_dedicated_set, ratios, reserved memory

(sos 4.0 writes the virsh output under sos_commands/virsh/ too; sos_commands/libvirt/ is read as
well for other builds.) Which wins, most precise first: the per-node sysfs files > lscpu >
capabilities > nodeinfo. A node's CPUs come from the first of them that has nodes; its memory and
hugepage totals from sysfs, else capabilities (lscpu has neither). capabilities has no free
hugepage counts: with one cell the host-wide free counts are that cell's, with more they stay
unknown (and hugepages-short does not judge what it cannot see).
What the guests commit is worked out later (analyzer/capacity.py), once guests are merged.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import Capacity, NumaNode, ParseError, Problem
from analyzer.parsers import cpuset, lscpu, meminfo, nova_conf, virsh_capabilities
from analyzer.sources.base import Readout, View

_NODE = "sys/devices/system/node/"
NOVA_CONF_PATHS = (  # the copy nova-compute runs with first: containerized, then the host's
    "var/lib/config-data/puppet-generated/nova_libvirt/etc/nova/nova.conf",
    "etc/kolla/nova-compute/nova.conf",
    "etc/nova/nova.conf",
)
MEMBERS = (
    Wanted("cpu_info", BYTES, r"sos_commands/processor/lscpu|proc/cpuinfo|proc/meminfo"
           r"|sos_commands/(?:virsh|libvirt)/virsh_-r_(?:nodeinfo|capabilities)",
           ("sos_commands/processor/", "proc/", "sos_commands/virsh/", "sos_commands/libvirt/"),
           example="sos_commands/processor/lscpu"),
    Wanted("numa_node", BYTES, r"sys/devices/system/node/node\d{1,4}/(?:cpulist|meminfo"
           r"|hugepages/hugepages-\d{1,10}kB/(?:nr|free)_hugepages)", (_NODE,), deep=True,
           example="sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"),
    Wanted("sys_hugepages", BYTES, r"sys/kernel/mm/hugepages/hugepages-\d{1,10}kB/(?:nr|free)_hugepages",
           ("sys/kernel/mm/hugepages/",), deep=True,
           example="sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"),
    Wanted("nova_conf", BYTES, "|".join(re.escape(p) for p in NOVA_CONF_PATHS),
           ("etc/nova/", "etc/kolla/nova-compute/", "var/lib/config-data/puppet-generated/nova_libvirt/etc/nova/"),
           example="etc/nova/nova.conf"),
)
_NODE_FILE = re.compile(r"sys/devices/system/node/node(\d+)/(cpulist|meminfo|hugepages/hugepages-(\d+)kB/(nr|free)_hugepages)")
_SYS_HUGE = re.compile(r"sys/kernel/mm/hugepages/hugepages-(\d+)kB/(nr|free)_hugepages")


def _text(files: Mapping[str, bytes], rel: str) -> Optional[str]:
    data = files.get(rel)
    return None if data is None else data.decode("utf-8", "replace")


def _count(text: Optional[str]) -> Optional[int]:
    t = (text or "").strip()
    return int(t) if re.fullmatch(r"\d{1,12}", t) else None


def _host_hugepages(v: View, files: Mapping[str, bytes], info: dict[str, int]) -> dict[str, dict[str, int]]:
    """Host-wide hugepage counts per size: the memory plugin's sysfs files, else /proc/meminfo."""
    hp: dict[str, dict[str, int]] = {}
    for rel in v.paths("sys_hugepages"):
        m = _SYS_HUGE.fullmatch(rel)
        count = _count(_text(files, rel)) if m else None
        if m and count is not None:
            hp.setdefault(m.group(1), {})["total" if m.group(2) == "nr" else "free"] = count
    if not hp and "HugePages_Total" in info and "Hugepagesize" in info:
        hp[str(info["Hugepagesize"])] = {"total": info["HugePages_Total"], "free": info.get("HugePages_Free", 0)}
    return hp


def _capabilities(v: View, out: Readout) -> Optional[tuple[str, list[virsh_capabilities.Cell]]]:
    """(path, cells) of the report's `virsh -r capabilities`; None when it has none (or it is bad:
    then a problem, and the other files still count)."""
    for rel in v.paths("cpu_info"):
        if rel.endswith("virsh_-r_capabilities") and v.files[rel].strip():
            try:
                return rel, virsh_capabilities.parse_capabilities(v.files[rel])
            except ParseError as e:
                out.problems.append(Problem(path=rel, reason=str(e)))
    return None


def read(v: View) -> Readout:
    out = Readout()
    cap = Capacity()
    files = v.files
    nodes: dict[int, NumaNode] = {}

    def node(i: int) -> NumaNode:
        return nodes.setdefault(i, NumaNode(id=i))

    for rel in v.paths("numa_node"):
        m = _NODE_FILE.fullmatch(rel)
        if not m:
            continue
        n, text = node(int(m.group(1))), _text(files, rel) or ""
        if m.group(2) == "cpulist":
            try:
                n.cpus = cpuset.parse_cpu_list(text)
                cap.sources.setdefault("numa_nodes", rel.rsplit("/", 2)[0] + "/node*/")
            except ParseError as e:
                out.problems.append(Problem(path=rel, reason=str(e)))
        elif m.group(2) == "meminfo":
            total = meminfo.parse_meminfo(text).get("MemTotal")
            n.memory_mb = total // 1024 if total is not None else None
        else:
            count = _count(text)
            if count is not None:
                n.hugepages.setdefault(m.group(3), {})["total" if m.group(4) == "nr" else "free"] = count

    pairs = lscpu.parse_colon_pairs(_text(files, "sos_commands/processor/lscpu") or "")
    if _count(pairs.get("CPU(s)")) is not None:
        cap.cpus = _count(pairs.get("CPU(s)"))
        cap.sources["cpus"] = "sos_commands/processor/lscpu"
    if not nodes:
        for i, cpus in lscpu.numa_cpus(pairs).items():
            try:
                node(i).cpus = cpuset.parse_cpu_list(cpus)
                cap.sources["numa_nodes"] = "sos_commands/processor/lscpu"
            except ParseError:
                pass
    cells = _capabilities(v, out)
    caps_path, caps = cells if cells is not None else ("", [])
    from_lscpu = cap.sources.get("numa_nodes") == "sos_commands/processor/lscpu"
    from_caps = bool(caps) and (not nodes or from_lscpu)
    if from_caps:
        for c in caps:
            if from_lscpu and c.id not in nodes:
                continue  # lscpu's node list wins; a cell it lacks is not added
            n = node(c.id)
            n.cpus = n.cpus or c.cpus
            n.memory_mb = c.memory_kib // 1024 if c.memory_kib is not None else None
            n.hugepages = {k: {"total": t} for k, t in c.hugepages.items()}
        cap.sources["numa_nodes"] = ("sos_commands/processor/lscpu (CPUs), %s (memory, hugepages)" % caps_path
                                     if from_lscpu else caps_path)
    if cap.cpus is None:
        cpuinfo = _text(files, "proc/cpuinfo")
        if cpuinfo:
            cap.cpus = len(re.findall(r"^processor\s*:", cpuinfo, re.M)) or None
            cap.sources["cpus"] = "proc/cpuinfo"
    if cap.cpus is None and any(c.cpus for c in caps):
        cap.cpus, cap.sources["cpus"] = sum(len(c.cpus) for c in caps), caps_path
    info = meminfo.parse_meminfo(_text(files, "proc/meminfo") or "")
    if "MemTotal" in info:
        cap.memory_mb = info["MemTotal"] // 1024
        cap.sources["memory_mb"] = "proc/meminfo"
    elif caps and all(c.memory_kib is not None for c in caps):
        cap.memory_mb, cap.sources["memory_mb"] = sum(c.memory_kib or 0 for c in caps) // 1024, caps_path
    for rel in v.paths("cpu_info"):
        if rel.endswith("virsh_-r_nodeinfo"):
            ni = lscpu.parse_colon_pairs(_text(files, rel) or "")
            if cap.cpus is None and _count(ni.get("CPU(s)")) is not None:
                cap.cpus, cap.sources["cpus"] = _count(ni.get("CPU(s)")), rel
            size = re.fullmatch(r"(\d+) KiB", ni.get("Memory size", ""))
            if cap.memory_mb is None and size:
                cap.memory_mb, cap.sources["memory_mb"] = int(size.group(1)) // 1024, rel
    if not nodes and (cap.cpus is not None or cap.memory_mb is not None):
        # One node holding everything: host-wide hugepage counts belong to it.
        hp = _host_hugepages(v, files, info)
        if hp or cap.cpus:
            n = node(0)
            n.cpus = list(range(cap.cpus or 0))
            n.memory_mb, n.hugepages = cap.memory_mb, hp
            cap.sources["numa_nodes"] = "one node assumed (no per-node files in the report)"
    if from_caps and len(nodes) == 1:
        # One cell: the host-wide free counts are its own (capabilities gives totals only).
        only = next(iter(nodes.values()))
        for kib, counts in _host_hugepages(v, files, info).items():
            if "free" in counts and kib in only.hugepages:
                only.hugepages[kib].setdefault("free", counts["free"])
    cap.numa_nodes = [nodes[i] for i in sorted(nodes)]

    conf_path = next((p for p in NOVA_CONF_PATHS if p in files), None)
    if conf_path:
        cap.nova_conf = dict(nova_conf.parse_nova_conf(_text(files, conf_path) or ""))
        cap.sources["nova_conf"] = conf_path
        for key in ("cpu_dedicated_set", "cpu_shared_set", "vcpu_pin_set"):
            if isinstance(cap.nova_conf.get(key), str):
                try:
                    setattr(cap, key, cpuset.parse_cpu_list(cap.nova_conf[key]))
                except ParseError as e:
                    out.problems.append(Problem(path=conf_path, reason="%s: %s" % (key, e)))
        for key in ("cpu_allocation_ratio", "ram_allocation_ratio"):
            try:
                value = float(cap.nova_conf.get(key, ""))
                setattr(cap, key, value if value > 0 else None)  # 0.0: "use the default" before Stein
            except ValueError:
                pass
        mem = _count(cap.nova_conf.get("reserved_host_memory_mb"))  # type: ignore[arg-type]
        cap.reserved_host_memory_mb = mem
    if cap.cpus is None and cap.memory_mb is None and not cap.numa_nodes and not conf_path:
        return out  # nothing of the host in this report: no capacity at all, not an empty one
    out.facts["capacity"] = cap
    return out
