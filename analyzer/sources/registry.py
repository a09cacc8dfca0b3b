"""The one table of sources, and the two things built from it.

Order matters only for host facts: the first source that states a fact sets it (a nova-compute
log proves the host ran nova-compute even where the process list, taken later, shows none).
"""

from __future__ import annotations

from types import ModuleType
from analyzer.archive.collect import Collected
from analyzer.archive.select import Selection
from analyzer.sources import host, libvirt_files, libvirtd_log, nova_compute_log, plugin, qemu_log, virsh
from analyzer.sources import block_devices, host_resources, ovs, sos_run
from analyzer.sources.base import Readout, View

SOURCES: tuple[ModuleType, ...] = (
    plugin,  # this project's sos plugin: summary.json, live and inactive XML per domain
    virsh,  # sos's virsh plugin: virsh list, virsh dumpxml
    libvirt_files,  # libvirt's own /etc and /run files, on the host and in containers
    nova_compute_log,  # nova-compute.log*: lines naming each instance
    qemu_log,  # the per-domain qemu log
    libvirtd_log,  # libvirtd.log / virtqemud.log: errors naming a domain
    host,  # hostname, sos version, collection time, OS, packages, processes
    host_resources,  # CPUs, NUMA nodes, memory, hugepages, nova.conf's CPU sets and ratios
    ovs,  # Open vSwitch interfaces
    block_devices,  # the /dev listing, lsblk, multipath maps, iSCSI sessions
    sos_run,  # sos's manifest and logs: plugins that timed out or failed
)

SELECTION = Selection([w for s in SOURCES for w in s.MEMBERS])


def view(source: ModuleType, c: Collected) -> View:
    """The members `source` asked for, out of everything one report yielded."""
    mine = {w.tag for w in source.MEMBERS} | set(getattr(source, "SHARED_TAGS", ()))
    tags = {rel: t for rel, t in c.tags.items() if t in mine}
    return View(files={rel: c.files[rel] for rel in tags if rel in c.files}, tags=tags,
                prepared={rel: c.prepared[rel] for rel in tags if rel in c.prepared},
                streams={t: r for t, r in c.streams.items() if t in mine},
                stream_paths={t: p for t, p in c.stream_paths.items() if t in mine}, root=c.root,
                links={rel: c.links[rel] for rel in tags if rel in c.links})


def read_all(c: Collected) -> list[Readout]:
    """Every source's readout of one report, in table order."""
    return [s.read(view(s, c)) for s in SOURCES]
