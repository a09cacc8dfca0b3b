"""Text lines for the host under the guests: a report's capacity, a guest's placement, OVS ports
and block devices (called from render/text.py; reads Document.to_dict() only)."""

from __future__ import annotations

from typing import Any

from analyzer.parsers.cpuset import format_cpu_list
from analyzer.render.text import safe


def _cpus(cpus: Any) -> str:
    return "unset" if cpus is None else format_cpu_list(cpus) or "none"


def capacity_lines(r: dict[str, Any]) -> list[str]:
    cap = r.get("capacity")
    if not cap:
        return []
    c = cap.get("committed") or {}
    out = ["  capacity: %s CPUs, %s MiB, %d NUMA node(s); dedicated %s, shared %s%s" % (
        safe(cap.get("cpus")), safe(cap.get("memory_mb")), len(cap.get("numa_nodes") or []),
        _cpus(cap.get("cpu_dedicated_set")), _cpus(cap.get("cpu_shared_set")),
        ", vcpu_pin_set %s" % _cpus(cap["vcpu_pin_set"]) if cap.get("vcpu_pin_set") is not None else "")]
    out.append("  ratios: cpu %s, ram %s, reserved %s MiB; active guests commit %s vCPUs, %s MiB, pinned CPUs %s"
               % (safe(cap.get("cpu_allocation_ratio")), safe(cap.get("ram_allocation_ratio")),
                  safe(cap.get("reserved_host_memory_mb")), safe(c.get("vcpus")), safe(c.get("memory_mb")),
                  _cpus(c.get("pinned_cpus"))))
    for n in cap.get("numa_nodes") or []:
        pages = ", ".join("%s KiB %s/%s free" % (k, v.get("free", "?"), v.get("total", "?"))
                          for k, v in sorted((n.get("hugepages") or {}).items(), key=lambda kv: int(kv[0]))
                          if v.get("total"))
        used = ", ".join("%s KiB x %s" % kv for kv in sorted(((c.get("hugepages") or {}).get(str(n["id"])) or {}).items()))
        out.append("  node %s: CPUs %s, %s MiB%s%s" % (n["id"], _cpus(n.get("cpus")), safe(n.get("memory_mb")),
                                                    "; hugepages " + pages if pages else "",
                                                    " (guests use %s)" % used if used else ""))
    if cap.get("not_collected"):
        out.append("  not collected (sos plugins that did not run): %s" % ", ".join(safe(p) for p in cap["not_collected"]))
    return out


def guest_lines(g: dict[str, Any]) -> list[str]:
    out = []
    p = g.get("placement")
    if p:
        pins = ", ".join("vCPU %s->%s" % (v, _cpus(c)) for v, c in sorted((p.get("vcpu_pins") or {}).items(),
                                                                        key=lambda kv: int(kv[0])))
        out.append("  placement: %s%s%s%s%s" % (
            "policy %s; " % safe(p["cpu_policy"]) if p.get("cpu_policy") else "", pins or "no vCPU pins",
            ", emulator->%s" % _cpus(p["emulator_pins"]) if p.get("emulator_pins") else "",
            ", memory on node %s" % _cpus(p["numa_nodes"]) if p.get("numa_nodes") else "",
            ", hugepages %s KiB" % safe(p["hugepage_kib"]) if p.get("hugepage_kib") is not None else ""))
    for i in g.get("interfaces") or []:
        o = i.get("ovs")
        if o:
            out.append("  nic %s in OVS: %s on %s, ofport %s%s" % (
                safe(i.get("mac")), safe(o.get("name")), safe(o.get("bridge")), safe(o.get("ofport")),
                ", error: %s" % safe(o["error"]) if o.get("error") else ""))
        elif i.get("ovs_missing_reason"):
            out.append("  nic %s not in OVS: %s" % (safe(i.get("mac")), safe(i["ovs_missing_reason"])))
    for d in g.get("disks") or []:
        dev = d.get("device")
        if dev:
            mp, sc = dev.get("multipath"), dev.get("iscsi")
            present = dev.get("present")
            line = "  disk %s device %s: %s" % (
                safe(d.get("target")), safe(dev.get("path"), 60),
                "not listed (no /dev listing or lsblk)" if present is None else "present" if present else "MISSING")
            if mp:
                paths = " (%s)" % ", ".join(safe(p) for p in mp.get("paths") or []) if mp.get("paths") else ""
                line += (", multipath %s %s paths, state not in lsblk%s" % (safe(mp.get("name")), mp.get("paths_total"), paths)
                         if mp.get("paths_active") is None else
                         ", multipath %s %s/%s paths active%s" % (safe(mp.get("name")), mp.get("paths_active"),
                                                                  mp.get("paths_total"), paths))
            if sc:
                line += ", iSCSI %s at %s %s%s" % (safe(sc.get("target")), safe(sc.get("portal")), safe(sc.get("state")),
                                                   " disk %s %s" % (safe(sc.get("disk")), safe(sc.get("disk_state")))
                                                   if sc.get("disk") else "")
            elif dev.get("iscsi_missing_reason"):
                line += ", %s" % safe(dev["iscsi_missing_reason"])
            out.append(line)
    return out
