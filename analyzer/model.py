"""The data model every reader produces and every output consumes.

Field names here ARE the JSON contract (README "Output schema"): renaming one means bumping
SCHEMA_VERSION. Readers build `DomainDef`/`Observation`s, `merge` folds them into one `Guest` per
(report, UUID), `findings` adds `Finding`s, renderers only read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

SCHEMA_VERSION = 2

# Severity order used for sorting and --fail-on.
SEVERITIES = ("critical", "warning", "info")


class ParseError(Exception):
    """A single file inside a report could not be parsed; it becomes a report `problem`."""


@dataclass
class Source:
    """Where a value came from: the kind of source and the path inside the report."""

    kind: str
    path: str


# Source kinds (kept short and stable: they appear in JSON and in the HTML).
KIND_PLUGIN_SUMMARY = "plugin-summary"  # sos_commands/libvirt_guests/summary.json
KIND_PLUGIN_LIVE = "plugin-live"  # sos_commands/libvirt_guests/<src>/... live dumpxml
KIND_PLUGIN_INACTIVE = "plugin-inactive"  # ... dumpxml --inactive
KIND_VIRSH_DUMPXML = "virsh-dumpxml"  # sos_commands/virsh/virsh_-r_dumpxml_*
KIND_VIRSH_LIST = "virsh-list"  # sos_commands/virsh/virsh_-r_list_--all
KIND_ETC = "etc-persistent"  # etc/libvirt/qemu/NAME.xml
KIND_RUN = "run-status"  # run/libvirt/qemu/NAME.xml (<domstatus>)
KIND_CONTAINER_ETC = "container-etc-persistent"  # TripleO/kolla config-data copies
KIND_CONTAINER_RUN = "container-run-status"
KIND_NOVA_LOG = "nova-compute-log"  # var/log/nova/nova-compute.log*
KIND_QEMU_LOG = "qemu-log"  # var/log/libvirt/qemu/DOMAIN.log


@dataclass
class Disk:
    target: Optional[str] = None  # vda, sda, hdd ...
    bus: Optional[str] = None  # virtio, scsi, ide, sata
    kind: Optional[str] = None  # libvirt's <disk device=>: disk, cdrom, floppy, lun
    source_type: Optional[str] = None  # file, block, network, volume
    source: Optional[str] = None  # file path, block dev, rbd pool/image, iscsi IQN/lun, pool/volume
    driver_type: Optional[str] = None  # qcow2, raw
    serial: Optional[str] = None  # Cinder volume id for volume-backed disks
    # The block device behind a `/dev/...` source as the report's /dev listing shows it; None when
    # the disk is not a block device or the report has no listing.
    device: Optional["DiskDevice"] = None


@dataclass
class MultipathInfo:
    name: str  # alias (mpatha) or WWID
    # None: lsblk gave the map (multipath -ll is missing), and lsblk does not say a path's state
    paths_active: Optional[int] = 0
    paths_total: int = 0
    paths: list[str] = field(default_factory=list)  # the path devices: sdb, sdd
    source: Optional[str] = None  # the report member: multipath -ll, else lsblk


@dataclass
class IscsiInfo:
    """The iSCSI session behind a /dev/disk/by-path/ip-...-iscsi-IQN-lun-N disk."""

    target: str  # IQN
    portal: Optional[str] = None  # ADDR:PORT of the session
    state: Optional[str] = None  # iSCSI Session State: LOGGED_IN, FAILED, FREE
    disk: Optional[str] = None  # the SCSI disk the session gives for the disk's LUN (sdb)
    disk_state: Optional[str] = None  # that disk's state: running, offline, blocked, ...
    source: Optional[str] = None  # the report member


@dataclass
class DiskDevice:
    path: str
    # None: the report has neither the /dev listing nor lsblk (only iSCSI data said something)
    present: Optional[bool]
    multipath: Optional[MultipathInfo] = None
    listing: Optional[str] = None  # the report member that says present or not
    # The session of an iSCSI by-path disk; None without iSCSI data, or when the session is
    # absent, and then iscsi_missing_reason says so.
    iscsi: Optional[IscsiInfo] = None
    iscsi_missing_reason: Optional[str] = None


@dataclass
class Interface:
    mac: Optional[str] = None
    type: Optional[str] = None  # bridge, ethernet, network, hostdev, vhostuser, direct
    source: Optional[str] = None  # bridge / network / dev / PCI address / socket path
    target_dev: Optional[str] = None  # tapXXXXXXXX-XX
    model: Optional[str] = None  # virtio, e1000
    virtualport: Optional[str] = None  # <virtualport type=>: openvswitch, 802.1Qbh, ...
    interface_id: Optional[str] = None  # <virtualport><parameters interfaceid=> (Neutron port id)
    # The Open vSwitch interface this NIC is plugged into, when the report has OVS data; else
    # None, and `ovs_missing_reason` says why when one was expected.
    ovs: Optional["OvsPort"] = None
    ovs_missing_reason: Optional[str] = None


@dataclass
class OvsPort:
    name: str
    ofport: Optional[int] = None  # -1: OVS could not set the interface up
    error: Optional[str] = None
    iface_id: Optional[str] = None  # external_ids:iface-id, the Neutron port id
    attached_mac: Optional[str] = None
    bridge: Optional[str] = None
    vm_uuid: Optional[str] = None  # external_ids vm-id (libvirt) or vm-uuid (os-vif)


@dataclass
class IP:
    address: Optional[str] = None
    type: Optional[str] = None  # fixed, floating
    version: Optional[int] = None


@dataclass
class Port:
    uuid: Optional[str] = None
    ips: list[IP] = field(default_factory=list)


@dataclass
class Flavor:
    name: Optional[str] = None
    id: Optional[str] = None
    memory_mb: Optional[int] = None
    disk_gb: Optional[int] = None
    swap_mb: Optional[int] = None
    ephemeral_gb: Optional[int] = None
    vcpus: Optional[int] = None
    extra_specs: dict[str, str] = field(default_factory=dict)


@dataclass
class Image:
    uuid: Optional[str] = None
    container_format: Optional[str] = None
    disk_format: Optional[str] = None
    min_disk: Optional[int] = None
    min_ram: Optional[int] = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Person:
    uuid: Optional[str] = None
    name: Optional[str] = None


@dataclass
class Owner:
    user: Optional[Person] = None
    project: Optional[Person] = None


@dataclass
class Root:
    type: Optional[str] = None  # image, volume
    uuid: Optional[str] = None


@dataclass
class NovaMeta:
    """Nova's `<nova:instance>` block (any namespace version)."""

    namespace: str
    package_version: Optional[str] = None
    display_name: Optional[str] = None
    creation_time: Optional[str] = None  # ISO 8601 UTC, "2015-02-19T18:23:44Z"
    flavor: Optional[Flavor] = None
    image: Optional[Image] = None
    owner: Optional[Owner] = None
    root: Optional[Root] = None
    ports: list[Port] = field(default_factory=list)
    # Anything the parser did not recognise, kept rather than dropped:
    # {"<element path or @attribute>": value}
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DomainDef:
    """One parsed libvirt domain XML document (live, persistent or status)."""

    uuid: Optional[str] = None  # lower-case canonical form when it is a valid UUID
    name: Optional[str] = None
    domain_type: Optional[str] = None  # kvm, qemu
    id: Optional[int] = None  # libvirt domain id (only for running/live XML)
    memory_mb: Optional[int] = None  # <memory>
    current_memory_mb: Optional[int] = None  # <currentMemory>
    vcpus: Optional[int] = None
    disks: list[Disk] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    nova: Optional[NovaMeta] = None
    # <domstatus state= reason= pid=> when the document is a /run status file
    status_state: Optional[str] = None
    status_reason: Optional[str] = None
    status_pid: Optional[int] = None
    other_metadata: list[str] = field(default_factory=list)  # namespace URIs of non-Nova metadata
    vcpu_pins: dict[int, list[int]] = field(default_factory=dict)  # <cputune><vcpupin vcpu= cpuset=>
    emulator_pins: Optional[list[int]] = None  # <cputune><emulatorpin cpuset=>
    numa_nodes: Optional[list[int]] = None  # <numatune><memory nodeset=>
    hugepage_kib: Optional[int] = None  # <memoryBacking><hugepages><page size=> (KiB); 0: default size
    # (element or @attribute, original length) of values cut while parsing (bounds.py)
    clipped: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Observation:
    """One sighting of one guest by one source inside one report. Merge folds these."""

    source: Source
    uuid: Optional[str] = None
    domain_name: Optional[str] = None
    live: Optional[bool] = None  # True: running config, False: persistent config, None: n/a
    definition: Optional[DomainDef] = None
    state: Optional[str] = None
    state_reason: Optional[str] = None
    persistent: Optional[bool] = None
    xml: Optional[bytes] = None  # raw document, for the HTML's "raw XML" (decoded by merge if shown)
    # Nova fields a source states without an XML document (the plugin's summary.json).
    summary_nova: Optional[NovaMeta] = None
    # Log lines about the guest: such a sighting adds to a guest the others found, never makes one.
    nova_log: Optional["NovaLog"] = None
    qemu_log: Optional["QemuLog"] = None

    @property
    def is_log(self) -> bool:
        return self.nova_log is not None or self.qemu_log is not None


@dataclass
class Difference:
    """A value on which the live and the persistent definitions disagree."""

    field: str
    live: Any
    persistent: Any
    live_source: Optional[str] = None
    persistent_source: Optional[str] = None


@dataclass
class ErrorSummary:
    count: int = 0
    first_time: Optional[str] = None
    last_time: Optional[str] = None
    first_lines: list[str] = field(default_factory=list)


@dataclass
class NovaLog:
    """nova-compute log lines that name one instance UUID (bounded)."""

    paths: list[str] = field(default_factory=list)
    total: int = 0  # lines naming the UUID
    lines: list[str] = field(default_factory=list)  # the last lines naming it (bounded)
    errors: ErrorSummary = field(default_factory=ErrorSummary)


@dataclass
class QemuLog:
    path: str
    tail: list[str] = field(default_factory=list)


# What happened to an instance, as one log line says it (analyzer/story.py orders them).
EVENT_KINDS = ("created", "claimed", "spawned", "started", "stopped", "paused", "resumed", "suspended",
               "shutdown-by-itself", "rebooted", "volume-attached", "volume-detached", "migration-started",
               "migration-progress", "migration-completed", "migration-failed", "migrated-in", "resize",
               "evacuated", "rebuilt", "deleted", "qemu-started", "qemu-stopped", "error", "collected")


@dataclass
class LogEvent:
    """One event a log line of one report states about one instance, before clocks are reconciled.

    `time` is the log's own timestamp normalised to "YYYY-MM-DDTHH:MM:SS[.fff]" with no zone;
    `clock` says whose clock: "utc" (qemu and libvirt logs) or "local" (nova-compute writes the
    local time of its process, with no zone)."""

    kind: str  # one of EVENT_KINDS
    time: Optional[str]
    clock: str  # "utc" or "local"
    message: str  # the logged message text, without the log prefix
    path: str  # member of the report
    line: int  # 1-based line number in that member (of the decompressed text for .gz)
    uuid: Optional[str] = None  # the instance; None when only the domain name is known
    domain_name: Optional[str] = None
    peer_host: Optional[str] = None  # the other host of a migration, when the line names it


@dataclass
class GuestLogs:
    qemu: Optional[QemuLog] = None
    nova_compute: Optional[NovaLog] = None


@dataclass
class Guest:
    """One guest per (host, UUID): merged from every source of one report, then taken from the
    newest report of its host that holds it (case.py)."""

    uuid: str
    domain_name: Optional[str] = None
    display_name: Optional[str] = None
    host: Optional[str] = None  # Host.name
    report: Optional[str] = None  # Report.id: the newest report of the host that holds it
    state: Optional[str] = None  # running, paused, shut off, crashed, ... or None if unknown
    state_reason: Optional[str] = None
    persistent: Optional[bool] = None
    memory_mb: Optional[int] = None
    vcpus: Optional[int] = None
    disks: list[Disk] = field(default_factory=list)
    interfaces: list[Interface] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    nova: Optional[NovaMeta] = None
    logs: GuestLogs = field(default_factory=GuestLogs)
    xml: Optional[str] = None  # the live XML if any, else the persistent one
    xml_source: Optional[str] = None
    # Where the persistent and live copies differ in Nova metadata, `nova` is the live one and
    # the persistent one is kept here (ports lag after interface attach/detach).
    nova_persistent: Optional[NovaMeta] = None
    reports: list[str] = field(default_factory=list)  # ids of the host's reports holding it, oldest first
    in_latest_report: bool = True  # False: an earlier report had it, the host's newest has not
    placement: Optional["Placement"] = None  # pinning, NUMA and hugepages; None when none is set


@dataclass
class Placement:
    """Where a guest's vCPUs and memory are tied to the host (domain XML and flavor extra specs)."""

    vcpu_pins: dict[int, list[int]] = field(default_factory=dict)  # vCPU -> host CPUs
    emulator_pins: Optional[list[int]] = None
    numa_nodes: Optional[list[int]] = None  # host NUMA nodes its memory is bound to
    hugepage_kib: Optional[int] = None  # hugepage size backing its memory
    cpu_policy: Optional[str] = None  # the flavor's hw:cpu_policy (dedicated, shared, mixed)
    mem_page_size: Optional[str] = None  # the flavor's hw:mem_page_size
    numa_node_count: Optional[str] = None  # the flavor's hw:numa_nodes


@dataclass
class Problem:
    """Something skipped or rejected while reading: never silent."""

    path: str
    reason: str


@dataclass
class Packages:
    nova: Optional[str] = None
    libvirt: Optional[str] = None
    qemu: Optional[str] = None
    sources: dict[str, str] = field(default_factory=dict)  # {"nova": path in the report it came from}


@dataclass
class Report:
    """Host facts of one sosreport."""

    id: str
    path: str  # the input path; "bundle.tar!sosreport-x.tar.xz" for a report inside a collect bundle
    hostname: Optional[str] = None
    sos_version: Optional[str] = None
    collected_at: Optional[str] = None  # ISO 8601
    os: Optional[str] = None
    packages: Packages = field(default_factory=Packages)
    problems: list[Problem] = field(default_factory=list)
    nova_compute: Optional[bool] = None  # does this host run nova-compute?
    nova_compute_evidence: Optional[str] = None
    plugin: Optional[dict[str, Any]] = None  # the libvirt_guests plugin's own summary, when present
    guest_count: int = 0
    host: Optional[str] = None  # Host.name
    utc_offset: Optional[str] = None  # "+01:00"; None when the report does not say
    duplicate_of: Optional[str] = None  # the id of the report with the same content, read instead
    machine_id: Optional[str] = None  # etc/machine-id: tells apart two machines of one hostname

    capacity: Optional["Capacity"] = None  # CPUs, memory, hugepages and what the guests commit
    collection: Optional["Collection"] = None  # what sos itself says about its run


@dataclass
class Host:
    """One machine, seen in one or more reports."""

    name: str  # the hostname, with the machine-id added where two machines share one
    reports: list[str] = field(default_factory=list)  # report ids, oldest first
    latest_report: Optional[str] = None
    hostname: Optional[str] = None
    machine_id: Optional[str] = None


@dataclass
class EventEvidence:
    path: str
    line: Optional[int] = None  # 1-based


@dataclass
class Event:
    """One moment of an instance's life, on one host (the story: story.py)."""

    time: Optional[str]  # ISO 8601 UTC ending in Z; local time without Z when the offset is unknown
    time_is_utc: bool
    host: Optional[str]
    report: Optional[str]
    kind: str  # one of EVENT_KINDS
    peer_host: Optional[str] = None  # the other host of a migration
    message: str = ""
    evidence: Optional[EventEvidence] = None
    repeated: int = 0  # the same event again right after, this many more times (one entry for the run)
    last_time: Optional[str] = None  # the time of the last of those


@dataclass
class Migration:
    """One move of an instance between hosts, paired from both sides where both logged it."""

    source: Optional[str]
    destination: Optional[str]
    started: Optional[str] = None
    ended: Optional[str] = None
    outcome: str = "unknown"  # completed, failed, unknown (still running when the logs end)
    kind: str = "live"  # live, cold (resize/cold migration), evacuation


@dataclass
class InstanceHost:
    host: str
    state: Optional[str] = None  # as the host's newest report holding it says
    in_latest_report: bool = False
    defined: bool = False  # False when only logs on this host mention the instance


@dataclass
class Instance:
    uuid: str
    display_name: Optional[str] = None
    project: Optional[Person] = None
    user: Optional[Person] = None
    hosts: list[InstanceHost] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # oldest first
    events_left_out: int = 0  # past the cap per instance
    migrations: list[Migration] = field(default_factory=list)


@dataclass
class Change:
    """A difference between two consecutive reports of one host."""

    host: str
    from_report: str
    to_report: str
    uuid: Optional[str]  # None for the host itself
    field: str  # guest, state, memory_mb, vcpus, disks, interfaces, nova.flavor, nova.display_name, packages.*
    before: Any = None
    after: Any = None


@dataclass
class NumaNode:
    id: int
    cpus: list[int] = field(default_factory=list)
    memory_mb: Optional[int] = None
    hugepages: dict[str, dict[str, int]] = field(default_factory=dict)  # PAGE_KIB -> {total, free}


@dataclass
class Committed:
    """What the active guests of the report take from the host."""

    vcpus: int = 0
    memory_mb: int = 0
    pinned_cpus: list[int] = field(default_factory=list)
    hugepages: dict[str, dict[str, int]] = field(default_factory=dict)  # NODE -> {PAGE_KIB: pages}


@dataclass
class Capacity:
    cpus: Optional[int] = None
    memory_mb: Optional[int] = None
    numa_nodes: list[NumaNode] = field(default_factory=list)
    cpu_dedicated_set: Optional[list[int]] = None
    cpu_shared_set: Optional[list[int]] = None
    vcpu_pin_set: Optional[list[int]] = None
    cpu_allocation_ratio: Optional[float] = None
    ram_allocation_ratio: Optional[float] = None
    reserved_host_memory_mb: Optional[int] = None
    committed: Committed = field(default_factory=Committed)
    not_collected: list[str] = field(default_factory=list)  # sos plugins that did not run
    nova_conf: dict[str, Any] = field(default_factory=dict)  # the (never secret) options read, as set
    # where each value was read: {"cpus": path, "cpu_allocation_ratio": path or "Nova 27 default"}
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class PluginTrouble:
    plugin: str
    what: str  # "timed out" or "failed"
    detail: str
    path: str  # evidence: sos_reports/manifest.json or a file under sos_logs/


@dataclass
class Collection:
    """sos's own account of the run (manifest.json, sos_logs/)."""

    plugins_run: list[str] = field(default_factory=list)
    troubles: list[PluginTrouble] = field(default_factory=list)


@dataclass
class Evidence:
    path: Optional[str]
    what: str
    value: Any


@dataclass
class Finding:
    code: str
    severity: str  # critical, warning, info
    message: str
    guests: list[str] = field(default_factory=list)  # UUIDs
    hosts: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class QueryMatch:
    term: str
    matched_by: Optional[str]  # uuid, uuid-prefix, domain-name, display-name, display-name-ci, glob
    guests: list[dict[str, Any]] = field(default_factory=list)  # {uuid, host, report, display_name}
    suggestions: list[str] = field(default_factory=list)  # nearest names when nothing matched


@dataclass
class Document:
    """Everything one run produced: what the JSON output is."""

    generated_by: dict[str, str]
    reports: list[Report] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)
    guests: list[Guest] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    query: Optional[list[QueryMatch]] = None
    total_guests: int = 0  # before --guest filtering
    errors: list[Problem] = field(default_factory=list)  # inputs that could not be read at all
    schema_version: int = SCHEMA_VERSION

    def sections(self) -> list[tuple[str, Any]]:
        """The top-level keys of the JSON document, in order, with their values still as models."""
        return [("schema_version", self.schema_version), ("generated_by", self.generated_by),
                ("hosts", self.hosts), ("reports", self.reports), ("guests", self.guests),
                ("instances", self.instances), ("changes", self.changes), ("findings", self.findings),
                ("query", self.query), ("total_guests", self.total_guests), ("errors", self.errors)]

    def to_dict(self) -> dict[str, Any]:
        return {key: plain(value) for key, value in self.sections()}


_CONVERTERS: dict[type, Any] = {}
# Fields whose annotation says they hold a JSON scalar are copied as they are; a flat list of
# scalars is copied shallowly; anything else goes through plain() again.
_SCALAR = {"str", "int", "bool", "float", "Optional[str]", "Optional[int]", "Optional[bool]", "Optional[float]"}
_FLAT = {"list[str]", "list[int]"}


def field_annotations(cls: type) -> list[tuple[str, str]]:
    """(name, annotation as written) of each field of a dataclass: strings here (`from __future__
    import annotations`); a class made elsewhere may hold types, named by their __name__."""
    return [(f.name, f.type if isinstance(f.type, str) else getattr(f.type, "__name__", ""))
            for f in dataclasses.fields(cls)]


def compile_per_class(body: str, scope: dict[str, Any]) -> Any:
    """`def f(v): d = v.__dict__; return BODY`, compiled once per model class by to_dict's and
    bounds' generated functions. BODY is made of field names only."""
    exec("def f(v):\n    d = v.__dict__\n    return %s\n" % body, scope)
    return scope["f"]


def _converter(cls: type) -> Any:
    """A function turning one instance of dataclass `cls` into a dict, made once per class: the
    generic walk costs a call and a type test per value, which on a big case is most of to_dict."""
    parts = []
    for name, ann in field_annotations(cls):
        if ann in _SCALAR:
            parts.append("%r: d[%r]" % (name, name))
        elif ann in _FLAT:
            parts.append("%r: list(d[%r])" % (name, name))
        else:
            parts.append("%r: plain(d[%r])" % (name, name))
    return compile_per_class("{%s}" % ", ".join(parts), {"plain": plain})


def plain(v: Any) -> Any:
    """Dataclasses to dicts and lists, as `dataclasses.asdict` gives them, without its deep copy
    of every value (the document is built once, then only read).

    >>> plain([Problem(path="p", reason="r")]) == [dataclasses.asdict(Problem(path="p", reason="r"))]
    True
    """
    cls = type(v)
    if cls is str or cls is int or v is None or cls is bool or cls is float:
        return v
    convert = _CONVERTERS.get(cls)
    if convert is None and dataclasses.is_dataclass(cls):
        convert = _CONVERTERS[cls] = _converter(cls)
    if convert is not None:
        return convert(v)
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v
