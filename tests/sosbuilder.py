"""Build sosreport-shaped trees and archives for the tests and for bench/.

Everything here imitates what real sos and libvirt write (the layout was checked against a real
sos 4.0 report): the analyzer must never be tested against a layout that only exists in our own
imagination. The output is deterministic (same spec, same bytes) so a failing test can be
reproduced and bench figures compared between runs.

Members are produced by `iter_members` as an ordered list of `Member`s; the tree writer and the
archive writers share it so a tree and a tarball of the same HostSpec hold the same files.
`Member.data` may be a callable returning an iterator of byte chunks plus a size: bench/ uses that
to stream hundreds of MiB of logs into the compressor without holding them in memory.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import tarfile
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

NOVA_NS = {"1.0": "http://openstack.org/xmlns/libvirt/nova/1.0",
           "1.1": "http://openstack.org/xmlns/libvirt/nova/1.1"}

# virsh list shows these words; <domstatus state=> uses libvirt's virDomainState names.
_DOMSTATUS_STATE = {"running": "running", "paused": "paused", "shut off": "shutoff",
                    "crashed": "crashed", "pmsuspended": "pmsuspended", "idle": "blocked",
                    "in shutdown": "shutdown", "blocked": "blocked", "shutdown": "shutdown",
                    "shutoff": "shutoff"}

AUTOGEN_WARNING = """<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit {name}
or other application using the libvirt API.
-->

"""


@dataclass
class GuestSpec:
    uuid: str
    domain_name: str
    display_name: Optional[str] = "vm"
    state: str = "running"
    state_reason: str = "booted"
    persistent: bool = True
    nova_ns: str = "1.1"
    schema: str = "wallaby"
    nova_version: str = "27.1.0"
    memory_mib: int = 2048
    vcpus: int = 2
    flavor_memory_mib: Optional[int] = None
    flavor_vcpus: Optional[int] = None
    flavor_name: str = "m1.small"
    creation_time: str = "2024-03-01 10:00:00"
    user: tuple = ("c0ffeec0ffeec0ffeec0ffeec0ffee01", "alice")
    project: tuple = ("b00cb00cb00cb00cb00cb00cb00cb001", "demo")
    root: Optional[tuple] = ("image", "6c1a3f5e-7d0b-4c2e-9b8a-1e2f3a4b5c6d")
    # None: one port of its own, numbered by the instance UUID (two guests sharing a port is a
    # finding, so a default must not make every multi-guest report look broken)
    ports: Optional[list] = None
    vnc_password: Optional[str] = None
    live_xml_overrides: dict = field(default_factory=dict)
    # optional extras
    flavor_id: str = "2"
    flavor_disk_gb: int = 20
    domain_id: Optional[int] = None      # libvirt id when active; None -> derived from the name
    pid: Optional[int] = None            # qemu pid in <domstatus>; None -> derived
    nova_log_errors: list = field(default_factory=list)   # ERROR messages logged for this instance
    block_disks: list = field(default_factory=list)  # /dev paths: block disks vdb, vdc, ... (Nova's volumes)

    def __post_init__(self) -> None:
        if self.ports is None:
            n = _seed_int("ip", self.uuid)
            self.ports = [(seed_uuid("port", self.uuid), "10.%d.%d.%d" % (n >> 16 & 255, n >> 8 & 255, 2 + n % 250))]

    @property
    def active(self) -> bool:
        return self.state not in ("shut off", "shutoff")


@dataclass
class HostSpec:
    hostname: str = "compute-1"
    guests: list = field(default_factory=list)
    sos_version: str = "4.9.1"
    packages: dict = field(default_factory=lambda: {"nova": "3:27.1.0-0ubuntu1", "libvirt": "9.0.0-4",
                                                    "qemu": "1:7.2+dfsg-7"})
    package_format: str = "dpkg"
    sources: set = field(default_factory=lambda: {"etc", "run", "virsh", "plugin"})
    containerized: bool = False
    nova_compute: bool = True
    nova_log_lines: list = field(default_factory=list)
    qemu_log: bool = True
    collected_at: str = "2026-11-20 10:00:00"  # the host's local time
    # The host's clock: `date`, sos's manifest and nova-compute's log lines are in local time.
    utc_offset_minutes: int = 0
    zone: str = "UTC"  # what `date` prints for the zone (CET, EST, ...)
    machine_id: str = ""
    padding_files: int = 0
    label: str = ""
    # optional extras
    case_id: str = ""
    virsh_dumpxml_all: bool = False      # True: as real sos, dumpxml of shut-off domains too
    scrub_passwords: bool = True         # sos's libvirt postproc on etc/ and run/ copies (False: raw)
    os_release: str = ""                 # "" -> Debian bookworm for dpkg, RHEL 9.2 for rpm


# ---------------------------------------------------------------------------------------------
# Small helpers


def _esc(s: str) -> str:
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _seed_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def seed_uuid(*parts: object) -> str:
    """A random-looking but deterministic version-4 UUID (all 128 bits vary: prefixes stay unique)."""
    return str(uuidlib.UUID(bytes=hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:16], version=4))


def _mac(g: GuestSpec, i: int) -> str:
    h = hashlib.sha256(f"{g.uuid}{i}".encode()).digest()
    return "fa:16:3e:%02x:%02x:%02x" % (h[0], h[1], h[2])


def _dom_id(g: GuestSpec) -> int:
    if g.domain_id is not None:
        return g.domain_id
    try:
        return int(g.domain_name.rsplit("-", 1)[-1], 16) % 9000 + 1
    except ValueError:
        return _seed_int(g.uuid) % 9000 + 1


def _pid(g: GuestSpec) -> int:
    return g.pid if g.pid is not None else 100000 + _seed_int("pid", g.uuid) % 3000000


def _epoch(ts: str) -> int:
    return calendar.timegm(time.strptime(ts, "%Y-%m-%d %H:%M:%S"))


def _suffix(n: int, *parts: object) -> str:
    """sos's random archive suffix (lower-case letters), derived from the spec for determinism."""
    r = random.Random(_seed_int(*parts))
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def report_name(host: HostSpec) -> str:
    """sosreport-HOST[-LABEL][-CASE]-YYYY-MM-DD-xxxxxxx, as sos names the directory and archive."""
    parts = ["sosreport", host.hostname]
    if host.label:
        parts.append(host.label)
    if host.case_id:
        parts.append(host.case_id)
    parts.append(host.collected_at[:10])
    parts.append(_suffix(7, host.hostname, host.label, host.collected_at))
    return "-".join(parts)


# ---------------------------------------------------------------------------------------------
# Domain XML


def _nova_block(g: GuestSpec, indent: str) -> str:
    """<nova:instance> as Nova's LibvirtConfigGuestMetaNova*.format_dom() writes it per release."""
    ns = NOVA_NS[g.nova_ns]
    fmem = g.flavor_memory_mib if g.flavor_memory_mib is not None else g.memory_mib
    fcpu = g.flavor_vcpus if g.flavor_vcpus is not None else g.vcpus
    i1, i2, i3, i4 = (indent + "  " * k for k in (1, 2, 3, 4))
    out = [f'{indent}<nova:instance xmlns:nova="{ns}">',
           f'{i1}<nova:package version="{_esc(g.nova_version)}"/>',
           f"{i1}<nova:name>{_esc(g.display_name or '')}</nova:name>",
           f"{i1}<nova:creationTime>{g.creation_time}</nova:creationTime>"]
    new = g.schema == "2025.2"
    fid = f' id="{_esc(g.flavor_id)}"' if new else ""
    out += [f'{i1}<nova:flavor name="{_esc(g.flavor_name)}"{fid}>',
            f"{i2}<nova:memory>{fmem}</nova:memory>",
            f"{i2}<nova:disk>{g.flavor_disk_gb}</nova:disk>",
            f"{i2}<nova:swap>0</nova:swap>",
            f"{i2}<nova:ephemeral>0</nova:ephemeral>",
            f"{i2}<nova:vcpus>{fcpu}</nova:vcpus>"]
    if new:
        out += [f"{i2}<nova:extraSpecs>",
                f'{i3}<nova:extraSpec name="hw:cpu_policy">shared</nova:extraSpec>',
                f"{i2}</nova:extraSpecs>"]
    out.append(f"{i1}</nova:flavor>")
    if new:
        boot_volume = g.root is not None and g.root[0] == "volume"
        img = "" if boot_volume or g.root is None else g.root[1]
        out += [f'{i1}<nova:image uuid="{_esc(img)}">',
                f"{i2}<nova:containerFormat>bare</nova:containerFormat>",
                f"{i2}<nova:diskFormat>qcow2</nova:diskFormat>",
                f"{i2}<nova:minDisk>0</nova:minDisk>",
                f"{i2}<nova:minRam>0</nova:minRam>",
                f"{i2}<nova:properties>",
                f'{i3}<nova:property name="hw_machine_type">q35</nova:property>',
                f'{i3}<nova:property name="os_distro">ubuntu</nova:property>',
                f"{i2}</nova:properties>",
                f"{i1}</nova:image>"]
    out += [f"{i1}<nova:owner>",
            f'{i2}<nova:user uuid="{_esc(g.user[0])}">{_esc(g.user[1])}</nova:user>',
            f'{i2}<nova:project uuid="{_esc(g.project[0])}">{_esc(g.project[1])}</nova:project>',
            f"{i1}</nova:owner>"]
    if g.root is not None:
        out.append(f'{i1}<nova:root type="{_esc(g.root[0])}" uuid="{_esc(g.root[1])}"/>')
    if g.schema != "juno" and g.ports:
        out.append(f"{i1}<nova:ports>")
        for port_uuid, ip in g.ports:
            ver = 6 if ":" in ip else 4
            out += [f'{i2}<nova:port uuid="{_esc(port_uuid)}">',
                    f'{i3}<nova:ip type="fixed" address="{_esc(ip)}" ipVersion="{ver}"/>',
                    f"{i2}</nova:port>"]
        out.append(f"{i1}</nova:ports>")
    elif g.schema != "juno":
        out.append(f"{i1}<nova:ports/>")
    out.append(f"{indent}</nova:instance>")
    del i4
    return "\n".join(out)


def domain_xml(g: GuestSpec, *, live: bool, secure: bool = True, _indent: str = "") -> str:
    """A Nova guest's <domain>: persistent (no id, no aliases) or live (id, aliases, seclabels).

    `live_xml_overrides` (memory_mib, vcpus, ports, display_name, ...) are applied to live documents
    only, which is how config drift between /etc and /run shows up on real hosts. secure=False is
    what `virsh -r dumpxml` prints: a read-only connection never sees the VNC passwd.
    """
    if live and g.live_xml_overrides:
        g = GuestSpec(**{**g.__dict__, **g.live_xml_overrides})
    p = _indent
    ind = [p + "  " * k for k in range(6)]
    kib = g.memory_mib * 1024
    machine = "pc-q35-7.2" if g.schema == "2025.2" else "pc-i440fx-7.2"
    head = f"<domain type='kvm' id='{_dom_id(g)}'>" if live else "<domain type='kvm'>"
    o = [p + head,
         f"{ind[1]}<name>{_esc(g.domain_name)}</name>",
         f"{ind[1]}<uuid>{g.uuid}</uuid>"]
    if g.display_name is not None:
        o += [f"{ind[1]}<metadata>", _nova_block(g, ind[2]), f"{ind[1]}</metadata>"]
    o += [f"{ind[1]}<memory unit='KiB'>{kib}</memory>",
          f"{ind[1]}<currentMemory unit='KiB'>{kib}</currentMemory>",
          f"{ind[1]}<vcpu placement='static'>{g.vcpus}</vcpu>",
          f"{ind[1]}<cputune>", f"{ind[2]}<shares>{1024 * g.vcpus}</shares>", f"{ind[1]}</cputune>"]
    if live:
        o += [f"{ind[1]}<resource>", f"{ind[2]}<partition>/machine</partition>", f"{ind[1]}</resource>"]
    o += [f"{ind[1]}<sysinfo type='smbios'>", f"{ind[2]}<system>",
          f"{ind[3]}<entry name='manufacturer'>OpenStack Foundation</entry>",
          f"{ind[3]}<entry name='product'>OpenStack Nova</entry>",
          f"{ind[3]}<entry name='version'>{_esc(g.nova_version)}</entry>",
          f"{ind[3]}<entry name='serial'>{g.uuid}</entry>",
          f"{ind[3]}<entry name='uuid'>{g.uuid}</entry>",
          f"{ind[3]}<entry name='family'>Virtual Machine</entry>",
          f"{ind[2]}</system>", f"{ind[1]}</sysinfo>",
          f"{ind[1]}<os>", f"{ind[2]}<type arch='x86_64' machine='{machine}'>hvm</type>",
          f"{ind[2]}<boot dev='hd'/>", f"{ind[2]}<smbios mode='sysinfo'/>", f"{ind[1]}</os>",
          f"{ind[1]}<features>", f"{ind[2]}<acpi/>", f"{ind[2]}<apic/>",
          f"{ind[2]}<vmcoreinfo state='on'/>", f"{ind[1]}</features>",
          f"{ind[1]}<cpu mode='host-model' check='partial'>",
          f"{ind[2]}<topology sockets='{g.vcpus}' dies='1' cores='1' threads='1'/>",
          f"{ind[1]}</cpu>",
          f"{ind[1]}<clock offset='utc'>", f"{ind[2]}<timer name='pit' tickpolicy='delay'/>",
          f"{ind[2]}<timer name='rtc' tickpolicy='catchup'/>",
          f"{ind[2]}<timer name='hpet' present='no'/>", f"{ind[1]}</clock>",
          f"{ind[1]}<on_poweroff>destroy</on_poweroff>", f"{ind[1]}<on_reboot>restart</on_reboot>",
          f"{ind[1]}<on_crash>destroy</on_crash>",
          f"{ind[1]}<devices>", f"{ind[2]}<emulator>/usr/bin/qemu-system-x86_64</emulator>"]

    def alias(name: str) -> list:
        return [f"{ind[3]}<alias name='{name}'/>"] if live else []

    slot = [3]

    def addr() -> str:
        slot[0] += 1
        return f"{ind[3]}<address type='pci' domain='0x0000' bus='0x00' slot='0x{slot[0]:02x}' function='0x0'/>"

    inst_dir = f"/var/lib/nova/instances/{g.uuid}"
    if g.root is not None and g.root[0] == "volume":
        vol = seed_uuid("vol", g.uuid)
        o += [f"{ind[2]}<disk type='network' device='disk'>",
              f"{ind[3]}<driver name='qemu' type='raw' cache='none' discard='unmap'/>",
              f"{ind[3]}<auth username='openstack'>",
              f"{ind[4]}<secret type='ceph' uuid='514c9fca-8cbe-11e2-9c52-3bc8c7819472'/>",
              f"{ind[3]}</auth>",
              f"{ind[3]}<source protocol='rbd' name='volumes/volume-{vol}'" + (" index='1'>" if live else ">"),
              f"{ind[4]}<host name='10.0.0.120' port='6789'/>",
              f"{ind[4]}<host name='10.0.0.123' port='6789'/>",
              f"{ind[3]}</source>",
              f"{ind[3]}<target dev='vda' bus='virtio'/>",
              f"{ind[3]}<serial>{vol}</serial>"] + alias("virtio-disk0") + [addr(), f"{ind[2]}</disk>"]
    else:
        o += [f"{ind[2]}<disk type='file' device='disk'>",
              f"{ind[3]}<driver name='qemu' type='qcow2' cache='none'/>",
              f"{ind[3]}<source file='{inst_dir}/disk'" + (" index='1'/>" if live else "/>"),
              f"{ind[3]}<target dev='vda' bus='virtio'/>"] + alias("virtio-disk0") + [addr(), f"{ind[2]}</disk>"]
    for i, dev in enumerate(g.block_disks):
        o += [f"{ind[2]}<disk type='block' device='disk'>",
              f"{ind[3]}<driver name='qemu' type='raw' cache='none' io='native'/>",
              f"{ind[3]}<source dev='{_esc(dev)}'/>",
              f"{ind[3]}<target dev='vd{chr(ord('b') + i)}' bus='virtio'/>",
              f"{ind[3]}<serial>{seed_uuid('blockvol', g.uuid, i)}</serial>"] + alias("virtio-disk%d" % (i + 1)) + [
            addr(), f"{ind[2]}</disk>"]
    o += [f"{ind[2]}<controller type='usb' index='0' model='piix3-uhci'>"] + alias("usb") + [
        f"{ind[3]}<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>",
        f"{ind[2]}</controller>"]
    o += ([f"{ind[2]}<controller type='pci' index='0' model='pci-root'>"] + alias("pci.0")
          + [f"{ind[2]}</controller>"]) if live else [f"{ind[2]}<controller type='pci' index='0' model='pci-root'/>"]
    ports = g.ports or []
    for i, (port_uuid, _ip) in enumerate(ports):
        o += [f"{ind[2]}<interface type='ethernet'>",
              f"{ind[3]}<mac address='{_mac(g, i)}'/>",
              f"{ind[3]}<target dev='tap{port_uuid[:11]}'/>",
              f"{ind[3]}<model type='virtio'/>",
              f"{ind[3]}<driver name='vhost' rx_queue_size='512'/>",
              f"{ind[3]}<mtu size='1442'/>"] + alias(f"net{i}") + [addr(), f"{ind[2]}</interface>"]
    o += [f"{ind[2]}<serial type='pty'>"]
    if live:
        o += [f"{ind[3]}<source path='/dev/pts/{_dom_id(g) % 40}'/>"]
    o += [f"{ind[3]}<log file='{inst_dir}/console.log' append='off'/>",
          f"{ind[3]}<target type='isa-serial' port='0'>", f"{ind[4]}<model name='isa-serial'/>",
          f"{ind[3]}</target>"] + alias("serial0") + [f"{ind[2]}</serial>"]
    o += [f"{ind[2]}<console type='pty'" + (f" tty='/dev/pts/{_dom_id(g) % 40}'>" if live else ">")]
    if live:
        o += [f"{ind[3]}<source path='/dev/pts/{_dom_id(g) % 40}'/>"]
    o += [f"{ind[3]}<log file='{inst_dir}/console.log' append='off'/>",
          f"{ind[3]}<target type='serial' port='0'/>"] + alias("serial0") + [f"{ind[2]}</console>"]
    o += [f"{ind[2]}<input type='tablet' bus='usb'>"] + alias("input0") + [
        f"{ind[3]}<address type='usb' bus='0' port='1'/>", f"{ind[2]}</input>"]
    o += [f"{ind[2]}<input type='mouse' bus='ps2'/>", f"{ind[2]}<input type='keyboard' bus='ps2'/>"]
    passwd = f" passwd='{_esc(g.vnc_password)}'" if g.vnc_password and secure else ""
    port = f"{5900 + _dom_id(g) % 100}" if live else "-1"
    o += [f"{ind[2]}<graphics type='vnc' port='{port}' autoport='yes' listen='0.0.0.0'{passwd}>",
          f"{ind[3]}<listen type='address' address='0.0.0.0'/>", f"{ind[2]}</graphics>",
          f"{ind[2]}<audio id='1' type='none'/>",
          f"{ind[2]}<video>", f"{ind[3]}<model type='virtio' heads='1' primary='yes'/>"] + alias("video0") + [
        f"{ind[3]}<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>",
        f"{ind[2]}</video>",
        f"{ind[2]}<memballoon model='virtio'>", f"{ind[3]}<stats period='10'/>"] + alias("balloon0") + [
        addr(), f"{ind[2]}</memballoon>",
        f"{ind[2]}<rng model='virtio'>", f"{ind[3]}<backend model='random'>/dev/urandom</backend>"] + alias(
        "rng0") + [addr(), f"{ind[2]}</rng>", f"{ind[1]}</devices>"]
    if live:
        o += [f"{ind[1]}<seclabel type='dynamic' model='apparmor' relabel='yes'>",
              f"{ind[2]}<label>libvirt-{g.uuid}</label>",
              f"{ind[2]}<imagelabel>libvirt-{g.uuid}</imagelabel>",
              f"{ind[1]}</seclabel>",
              f"{ind[1]}<seclabel type='dynamic' model='dac' relabel='yes'>",
              f"{ind[2]}<label>+64055:+108</label>", f"{ind[2]}<imagelabel>+64055:+108</imagelabel>",
              f"{ind[1]}</seclabel>"]
    o.append(p + "</domain>")
    return "\n".join(o) + "\n"


def scrub_passwd(text: str) -> str:
    """What sos's libvirt plugin postproc does to etc/libvirt/qemu/*.xml and run/libvirt/qemu/*.xml
    (regex `(\\s*passwd=\\s*')([^']*)('.*)` -> `\\1******\\3`). Other copies keep the secret."""
    return re.sub(r"(\s*passwd=\s*')([^']*)('.*)", r"\1******\3", text)


def persistent_file_xml(g: GuestSpec) -> str:
    """/etc/libvirt/qemu/NAME.xml: the auto-generated warning, then the persistent definition."""
    return AUTOGEN_WARNING.format(name=g.domain_name) + domain_xml(g, live=False)


_QEMU_CAPS = ("kvm", "no-hpet", "spice", "hda-duplex", "ccid-emulated", "virtio-tx-alg", "sga",
              "virtio-blk-pci.ioeventfd", "piix3-usb-uhci", "usb-ehci", "vnc", "qxl", "VGA",
              "virtio-rng", "rng-random", "pci-bridge", "vfio-pci", "mem-merge", "drive-discard",
              "numa", "iothread", "virtio-gpu", "blockdev", "memory-backend-memfd", "overcommit")


def status_xml(g: GuestSpec) -> str:
    """/run/libvirt/qemu/NAME.xml: warning comment + <domstatus> wrapping the live <domain id=>."""
    state = _DOMSTATUS_STATE.get(g.state, g.state)
    dom_dir = f"/var/lib/libvirt/qemu/domain-{_dom_id(g)}-{g.domain_name}"
    o = [AUTOGEN_WARNING.format(name=g.domain_name).rstrip("\n") + "\n",
         f"<domstatus state='{state}' reason='{_esc(g.state_reason)}' pid='{_pid(g)}'>",
         f"  <monitor path='{dom_dir}/monitor.sock' type='unix'/>",
         "  <namespaces>", "    <mount/>", "  </namespaces>", "  <vcpus>"]
    vcpus = g.live_xml_overrides.get("vcpus", g.vcpus)
    o += [f"    <vcpu id='{i}' pid='{_pid(g) + 27 + i}'/>" for i in range(vcpus)]
    o += ["  </vcpus>", "  <qemuCaps>"] + [f"    <flag name='{f}'/>" for f in _QEMU_CAPS] + ["  </qemuCaps>"]
    o += ["  <devices>", "    <device alias='rng0'/>", "    <device alias='balloon0'/>",
          "    <device alias='virtio-disk0'/>"]
    ports = g.live_xml_overrides.get("ports", g.ports) or []
    o += [f"    <device alias='net{i}'/>" for i in range(len(ports))]
    o += ["    <device alias='usb'/>", "    <device alias='serial0'/>", "  </devices>",
          f"  <libDir path='{dom_dir}'/>",
          f"  <channelTargetDir path='/var/lib/libvirt/qemu/channel/target/domain-{_dom_id(g)}-{g.domain_name}'/>",
          "  <chardevStdioLogd/>", "  <rememberOwner/>", "  <allowReboot value='yes'/>",
          "  <nodename index='1'/>", "  <blockjobs active='no'/>", "  <agentTimeout>-2</agentTimeout>"]
    return "\n".join(o) + "\n" + domain_xml(g, live=True, _indent="  ") + "</domstatus>\n"


def nova_dict(g: GuestSpec, *, live: bool = True) -> Optional[dict]:
    """The plugin summary's `nova` object (NovaMeta field names), as the plugin would parse it."""
    if live and g.live_xml_overrides:
        g = GuestSpec(**{**g.__dict__, **g.live_xml_overrides})
    if g.display_name is None:
        return None
    new = g.schema == "2025.2"
    fmem = g.flavor_memory_mib if g.flavor_memory_mib is not None else g.memory_mib
    fcpu = g.flavor_vcpus if g.flavor_vcpus is not None else g.vcpus
    image = None
    if new:
        img = "" if g.root is None or g.root[0] == "volume" else g.root[1]
        image = {"uuid": img, "container_format": "bare", "disk_format": "qcow2", "min_disk": 0,
                 "min_ram": 0, "properties": {"hw_machine_type": "q35", "os_distro": "ubuntu"}}
    return {
        "namespace": NOVA_NS[g.nova_ns],
        "package_version": g.nova_version,
        "display_name": g.display_name,
        "creation_time": g.creation_time.replace(" ", "T") + "Z",
        "flavor": {"name": g.flavor_name, "id": g.flavor_id if new else None, "memory_mb": fmem,
                   "disk_gb": g.flavor_disk_gb, "swap_mb": 0, "ephemeral_gb": 0, "vcpus": fcpu,
                   "extra_specs": {"hw:cpu_policy": "shared"} if new else {}},
        "image": image,
        "owner": {"user": {"uuid": g.user[0], "name": g.user[1]},
                  "project": {"uuid": g.project[0], "name": g.project[1]}},
        "root": {"type": g.root[0], "uuid": g.root[1]} if g.root is not None else None,
        "ports": [] if g.schema == "juno" else [
            {"uuid": pu, "ips": [{"address": ip, "type": "fixed", "version": 6 if ":" in ip else 4}]}
            for pu, ip in (g.ports or [])],
        "extra": {},
    }


# ---------------------------------------------------------------------------------------------
# Host files


@dataclass
class Member:
    """One archive member: a directory, a regular file or a symlink (relative to the report top).

    `data` is bytes, or for big streamed files a (size, chunks) pair where chunks() yields bytes
    adding up to exactly size.
    """

    path: str
    data: Union[bytes, tuple, None] = None
    link: Optional[str] = None
    mode: int = 0o644
    mtime: Optional[int] = None

    @property
    def is_dir(self) -> bool:
        return self.data is None and self.link is None

    @property
    def size(self) -> int:
        if isinstance(self.data, bytes):
            return len(self.data)
        if isinstance(self.data, tuple):
            return self.data[0]
        return 0

    def chunks(self) -> Iterator[bytes]:
        if isinstance(self.data, bytes):
            yield self.data
        elif isinstance(self.data, tuple):
            yield from self.data[1]()


def vsh_table(header: tuple, rows: list) -> str:
    """A table as libvirt's vshTable prints it (checked against virsh 9.0 here): a leading space,
    columns 3 spaces apart, last cells unpadded, a dashed rule 2 longer than the padded header,
    and a blank line at the end."""
    cells = [tuple(header)] + [tuple(str(c) for c in r) for r in rows]
    n = len(header)
    w = [max(len(r[i]) for r in cells) for i in range(n)]

    def line(r: tuple) -> str:
        return " " + "".join(r[i].ljust(w[i]) + "   " for i in range(n - 1)) + r[n - 1]

    return "\n".join([line(cells[0]), "-" * (1 + sum(w) + 3 * (n - 1) + 2)] + [line(r) for r in cells[1:]]) + "\n\n"


def virsh_list(rows: list) -> str:
    """`virsh list --all`; rows: [(id or "-", name, state)]."""
    return vsh_table(("Id", "Name", "State"), rows)


def virsh_dominfo(g: GuestSpec) -> str:
    """`virsh -r dominfo NAME` (field layout checked against virsh 9.0)."""
    g2 = GuestSpec(**{**g.__dict__, **g.live_xml_overrides}) if g.active and g.live_xml_overrides else g
    kib = g2.memory_mib * 1024
    rows = [("Id", str(_dom_id(g)) if g.active else "-"), ("Name", g.domain_name), ("UUID", g.uuid),
            ("OS Type", "hvm"), ("State", g.state), ("CPU(s)", str(g2.vcpus)),
            ("CPU time", f"{_seed_int('cpu', g.uuid) % 900000 / 10:.1f}s" if g.active else None),
            ("Max memory", f"{kib} KiB"), ("Used memory", f"{kib} KiB"),
            ("Persistent", "yes" if g.persistent else "no"), ("Autostart", "disable"),
            ("Managed save", "no"), ("Security model", "apparmor"), ("Security DOI", "0"),
            ("Security label", f"libvirt-{g.uuid} (enforcing)" if g.active else None)]
    return "".join(f"{k + ':':<16}{v}\n" for k, v in rows if v is not None) + "\n"


def virsh_domblklist(g: GuestSpec) -> str:
    if g.root is not None and g.root[0] == "volume":
        src = f"volumes/volume-{seed_uuid('vol', g.uuid)}"
    else:
        src = f"/var/lib/nova/instances/{g.uuid}/disk"
    return vsh_table(("Target", "Source"), [("vda", src)])


def _date_line(ts: str, zone: str = "UTC", shift_minutes: int = 0) -> str:
    return time.strftime("%a %b %d %H:%M:%S {} %Y".format(zone), time.gmtime(_epoch(ts) - 60 * shift_minutes))


_DPKG_HEAD = """Desired=Unknown/Install/Remove/Purge/Hold
| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend
|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)
||/ Name                                      Version                             Architecture Description
+++-=========================================-===================================-============-================================================================================
"""


def _dpkg_l(host: HostSpec) -> str:
    p = host.packages
    rows = [("adduser", "3.134", "all", "add and remove users and groups"),
            ("bash", "5.2.15-2+b2", "amd64", "GNU Bourne Again SHell"),
            ("coreutils", "9.1-1", "amd64", "GNU core utilities")]
    if "libvirt" in p:
        rows += [("libvirt-clients", p["libvirt"], "amd64", "Programs for the libvirt library"),
                 ("libvirt-daemon", p["libvirt"], "amd64", "Virtualization daemon"),
                 ("libvirt-daemon-system", p["libvirt"], "amd64",
                  "Libvirt daemon configuration files"),
                 ("libvirt0:amd64", p["libvirt"], "amd64", "library for interfacing with different virtualization systems")]
    if "nova" in p:
        rows += [("nova-common", p["nova"], "all", "OpenStack Compute - common files"),
                 ("nova-compute", p["nova"], "all", "OpenStack Compute - compute node base"),
                 ("nova-compute-kvm", p["nova"], "all", "OpenStack Compute - compute node (KVM)"),
                 ("python3-nova", p["nova"], "all", "OpenStack Compute - libraries")]
    if "qemu" in p:
        rows += [("qemu-system-common", p["qemu"], "amd64", "QEMU full system emulation binaries (common files)"),
                 ("qemu-system-x86", p["qemu"], "amd64", "QEMU full system emulation binaries (x86)"),
                 ("qemu-utils", p["qemu"], "amd64", "QEMU utilities")]
    rows += [("sosreport", host.sos_version + "-1", "amd64", "Set of tools to gather troubleshooting data from a system"),
             ("zlib1g:amd64", "1:1.2.13.dfsg-1", "amd64", "compression library - runtime")]
    rows.sort()
    return _DPKG_HEAD + "".join(f"ii  {n:<41} {v:<35} {a:<12} {d}\n" for n, v, a, d in rows)


def _rpm_names(host: HostSpec) -> list:
    """Full NVRA names: packages given as bare versions get RHEL 9 style releases added."""
    p = host.packages

    def nvra(name: str, ver: str, arch: str, rel: str) -> str:
        """A version given as RHEL's VERSION-RELEASE keeps its release; Debian ones get `rel`."""
        ver = ver.split(":", 1)[-1]
        upstream, _, release = ver.partition("-")
        if ".el" not in release:
            upstream, release = upstream.split("+")[0], rel
        return f"{name}-{upstream}-{release}.{arch}"

    names = ["bash-5.1.8-6.el9_1.x86_64", "coreutils-8.32-34.el9.x86_64", "sos-%s-1.el9.noarch" % host.sos_version]
    if "nova" in p:
        names += [nvra("openstack-nova-compute", p["nova"], "noarch", "1.el9ost"),
                  nvra("openstack-nova-common", p["nova"], "noarch", "1.el9ost"),
                  nvra("python3-nova", p["nova"], "noarch", "1.el9ost")]
    if "libvirt" in p:
        names += [nvra("libvirt-daemon", p["libvirt"], "x86_64", "10.el9"),
                  nvra("libvirt-client", p["libvirt"], "x86_64", "10.el9"),
                  nvra("libvirt-libs", p["libvirt"], "x86_64", "10.el9")]
    if "qemu" in p:
        names += [nvra("qemu-kvm", p["qemu"], "x86_64", "14.el9"),
                  nvra("qemu-kvm-core", p["qemu"], "x86_64", "14.el9"),
                  nvra("qemu-img", p["qemu"], "x86_64", "14.el9")]
    return sorted(names)


RPM_QA_OLD = "sos_commands/rpm/sh_-c_rpm_--nodigest_-qa_--qf_-59_NVRA_INSTALLTIME_date_sort_-V"
RPM_QA_NEW = ("sos_commands/rpm/sh_-c_rpm_--nodigest_-qa_--qf_NAME_-_VERSION_-_RELEASE_._ARCH_INSTALLTIME_date_"
              "awk_-F_printf_-59s_s_n_1_2_sort_-V")


def _rpm_files(host: HostSpec) -> tuple:
    """The rpm plugin's two listings, named as sos names them, and the `installed-rpms` link.

    `rpm --nodigest -qa --qf '%-59{NVRA} %{INSTALLTIME:date}\\n' | sort -V` (older sos; newer ones
    print the same columns through awk, hence the other file name), and package-data:
    `NVRA<TAB>INSTALLTIME:date<TAB>INSTALLTIME<TAB>VENDOR<TAB>BUILDHOST<TAB>SIGPGP<TAB>SIGPGP:pgpsig`.
    """
    names = _rpm_names(host)
    inst = _epoch(host.collected_at) - 86400 * 40
    date = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(inst))
    installed = "".join(f"{n:<59} {date}\n" for n in names)
    pkgdata = "".join(f"{n}\t{date}\t{inst}\tRed Hat, Inc.\tx86-64-01.build.eng.rdu2.redhat.com\t(none)\t"
                      f"RSA/SHA256, {date}, Key ID 199e2f91fd431d51\n" for n in names)
    major, minor = (int(x) for x in host.sos_version.split(".")[:2])
    qa = RPM_QA_NEW if (major, minor) >= (4, 5) else RPM_QA_OLD
    return {qa: installed, "sos_commands/rpm/package-data": pkgdata}, {"installed-rpms": qa}


def _ps(host: HostSpec) -> str:
    t = host.collected_at[11:16]
    lines = ["USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND",
             "root         1  0.0  0.0 167744 12612 ?        Ss   Nov19   0:12 /sbin/init",
             "root         2  0.0  0.0      0     0 ?        S    Nov19   0:00 [kthreadd]",
             "root      1510  0.3  0.1 1731464 48512 ?       Ssl  Nov19   3:02 /usr/sbin/libvirtd --timeout 120",
             "root      1490  0.0  0.0  85232  9044 ?        Ssl  Nov19   0:00 /usr/sbin/virtlogd"]
    if host.nova_compute:
        lines.append("nova      2301  1.2  0.6 2290020 201344 ?      Ssl  Nov19  23:41 /usr/bin/python3 "
                     "/usr/bin/nova-compute --config-file=/etc/nova/nova.conf "
                     "--config-file=/etc/nova/nova-compute.conf --log-file=/var/log/nova/nova-compute.log")
    for g in host.guests:
        if g.active:
            mem = g.live_xml_overrides.get("memory_mib", g.memory_mib)
            lines.append(f"libvirt+ {_pid(g):>7}  2.1  1.{_pid(g) % 10} {mem * 1024 + 412312} {mem * 700} ?"
                         f"     Sl   Nov19  41:07 /usr/bin/qemu-system-x86_64 -name "
                         f"guest={g.domain_name},debug-threads=on -S -object "
                         f"{{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\",\"file\":"
                         f"\"/var/lib/libvirt/qemu/domain-{_dom_id(g)}-{g.domain_name}/master-key.aes\"}} "
                         f"-machine pc-i440fx-7.2,usb=off,dump-guest-core=off -accel kvm -m {mem} "
                         f"-smp {g.vcpus},sockets={g.vcpus},cores=1,threads=1 -uuid {g.uuid}")
    lines.append(f"root     {90000:>6}  0.0  0.0  10072  3316 ?        R    {t}   0:00 ps auxwww")
    return "\n".join(lines) + "\n"


def _req_id(*parts: object) -> str:
    return seed_uuid("req", *parts)


def nova_log_line(ts: str, level: str, logger: str, msg: str, *, pid: int = 2301,
                  instance: Optional[str] = None, req: Optional[str] = None, ms: int = 0) -> str:
    """One oslo.log line as nova-compute writes it (context + optional [instance: UUID])."""
    ctx = f"[None req-{req} 7b2fd4a6c7e94a0e8b1f0c38ab6a21f3 4c1e5f5a0f9b4f2c8e2e2a9d8b3c1a77 - - default default]" \
        if req else "[-]"
    inst = f"[instance: {instance}] " if instance else ""
    return f"{ts}.{ms:03d} {pid} {level} {logger} {ctx} {inst}{msg}"


def _nova_compute_log(host: HostSpec) -> str:
    t0 = _epoch(host.collected_at) - 3 * 86400

    def ts(off: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + off))

    nova_ver = host.packages.get("nova", "27.1.0").split(":", 1)[-1]
    lines = [nova_log_line(ts(0), "INFO", "nova.service", f"Starting compute node (version {nova_ver})", ms=12),
             nova_log_line(ts(1), "INFO", "nova.virt.libvirt.driver", "Connection event '1' reason 'None'", ms=430),
             nova_log_line(ts(2), "INFO", "nova.virt.libvirt.host", "Libvirt host capabilities <capabilities>", ms=5)]
    off = 60
    for i, g in enumerate(host.guests):
        req = _req_id(host.hostname, g.uuid)
        lines.append(nova_log_line(ts(off), "INFO", "nova.compute.claims", "Claim successful on node "
                                   f"{host.hostname}", instance=g.uuid, req=req, ms=101))
        lines.append(nova_log_line(ts(off + 1), "INFO", "nova.virt.libvirt.driver", "Creating image(s)",
                                   instance=g.uuid, req=req, ms=233))
        lines.append(nova_log_line(ts(off + 6), "INFO", "nova.compute.manager",
                                   "Took 5.20 seconds to spawn the instance on the hypervisor.",
                                   instance=g.uuid, req=req, ms=870))
        lines.append(nova_log_line(ts(off + 6), "INFO", "nova.compute.manager",
                                   "Took 6.04 seconds to build instance.", instance=g.uuid, req=req, ms=921))
        for k, err in enumerate(g.nova_log_errors):
            lines.append(nova_log_line(ts(off + 20 + k), "ERROR", "nova.compute.manager", err,
                                       instance=g.uuid, req=req, ms=17))
        off += 37 + i % 5
    lines.append(nova_log_line(ts(off + 60), "INFO", "nova.compute.resource_tracker",
                               f"Final resource view: name={host.hostname} phys_ram=257712MB used_ram=8704MB "
                               f"phys_disk=1788GB used_disk=80GB total_vcpus=64 used_vcpus={2 * len(host.guests)} "
                               "pci_stats=[]", ms=300))
    lines += list(host.nova_log_lines)
    return "\n".join(lines) + "\n"


def qemu_log(g: GuestSpec, host: HostSpec) -> str:
    """var/log/libvirt/qemu/NAME.log: start banner, command line, chardev line, shutdown line."""
    start = g.creation_time.replace(" ", " ") + ".123+0000"
    libv = host.packages.get("libvirt", "9.0.0")
    qemu = host.packages.get("qemu", "7.2.0")
    mem = g.memory_mib
    lines = [f"{g.creation_time}.123+0000: starting up libvirt version: {libv.split('-')[0]}, package: "
             f"{libv} (Debian), qemu version: 7.2.0Debian {qemu}, kernel: 6.1.0-13-amd64, hostname: {host.hostname}",
             "LC_ALL=C \\", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\",
             f"HOME=/var/lib/libvirt/qemu/domain-{_dom_id(g)}-{g.domain_name} \\",
             "/usr/bin/qemu-system-x86_64 \\", f"-name guest={g.domain_name},debug-threads=on \\", "-S \\",
             "-machine pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram \\",
             "-accel kvm \\", "-cpu host,migratable=on \\", f"-m {mem} \\",
             f"-smp {g.vcpus},sockets={g.vcpus},cores=1,threads=1 \\", f"-uuid {g.uuid} \\",
             "-smbios 'type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,"
             f"version={g.nova_version},serial={g.uuid},uuid={g.uuid},family=Virtual Machine' \\",
             "-no-user-config \\", "-nodefaults \\", "-msg timestamp=on",
             f"char device redirected to /dev/pts/{_dom_id(g) % 40} (label charserial0)"]
    del start
    if not g.active:
        t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(_epoch(g.creation_time) + 86400))
        reason = "crashed" if g.state_reason == "crashed" else (
            "destroyed" if g.state_reason == "destroyed" else "shutdown")
        lines.append(f"{t}.514+0000: shutting down, reason={reason}")
    return "\n".join(lines) + "\n"


_NETWORK_DEFAULT = """<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh net-edit default
or other application using the libvirt API.
-->

<network>
  <name>default</name>
  <uuid>2d3c0f7e-0b3c-4f55-9a4c-6f3e1a8f2b10</uuid>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <mac address='52:54:00:6b:1c:2e'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
"""

_QEMU_CONF = """# Master configuration file for the QEMU driver.
# All settings described here are optional - if omitted, sensible
# defaults are used.
#vnc_listen = "0.0.0.0"
#user = "libvirt-qemu"
#group = "libvirt-qemu"
security_driver = "apparmor"
max_files = 32768
max_processes = 131072
"""

_MEMINFO = """MemTotal:       263897436 kB
MemFree:        201443012 kB
MemAvailable:   243918340 kB
Buffers:          905788 kB
Cached:         40812256 kB
SwapCached:            0 kB
Active:         30415012 kB
Inactive:       24388104 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
"""

_OS_DEBIAN = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

_OS_RHEL = """NAME="Red Hat Enterprise Linux"
VERSION="9.2 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.2"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.2 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
"""


def _plugin_files(host: HostSpec, etc_dir: str) -> dict:
    files: dict = {}
    base = "sos_commands/libvirt_guests"
    src = "container_nova_libvirt" if host.containerized else "host"
    domains = []
    for g in host.guests:
        f = {}
        if g.active:
            f["live"] = f"{base}/{src}/domains/{g.uuid}.live.xml"
            files[f["live"]] = domain_xml(g, live=True, secure=False)
        if g.persistent:
            f["inactive"] = f"{base}/{src}/domains/{g.uuid}.inactive.xml"
            files[f["inactive"]] = domain_xml(g, live=False, secure=False)
        if g.persistent and "etc" in host.sources:
            f["config"] = f"{etc_dir}/{g.domain_name}.xml"
        if g.active and "run" in host.sources:
            f["status"] = f"run/libvirt/qemu/{g.domain_name}.xml"
        domains.append({"uuid": g.uuid, "domain_name": g.domain_name, "state": g.state,
                        "state_reason": g.state_reason, "persistent": g.persistent,
                        "nova": nova_dict(g, live=g.active), "files": f})
    summary = {"schema_version": 1, "plugin_version": "1.0.0", "sos_version": host.sos_version,
               "sources": [{"name": src, "kind": "container" if host.containerized else "host",
                            "runtime": "podman" if host.containerized else None,
                            "container": "nova_libvirt" if host.containerized else None,
                            "list_command": ("podman exec nova_libvirt " if host.containerized else "")
                            + "virsh -r list --all --uuid", "list_status": 0,
                            "live_data": True, "error": None, "domains": domains}]}
    files[f"{base}/summary.json"] = json.dumps(summary, indent=2) + "\n"
    rows = [("UUID", "NAME", "STATE", "REASON", "PERSISTENT", "DISPLAY NAME", "FLAVOR")]
    for d, g in zip(domains, host.guests):
        rows.append((g.uuid, g.domain_name, g.state, g.state_reason, "yes" if g.persistent else "no",
                     g.display_name or "-", g.flavor_name if g.display_name is not None else "-"))
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    files[f"{base}/summary.txt"] = f"source: {src} (live data from virsh)\n" + "".join(
        "  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() + "\n" for r in rows)
    files[f"{base}/{src}/virsh_-r_list_--all"] = virsh_list(_list_rows(host))
    return files


def _list_rows(host: HostSpec) -> list:
    """virsh lists active domains first (by id), then inactive ones (by name)."""
    act = sorted((g for g in host.guests if g.active), key=_dom_id)
    ina = sorted((g for g in host.guests if not g.active and g.persistent), key=lambda g: g.domain_name)
    return [(_dom_id(g), g.domain_name, g.state) for g in act] + [("-", g.domain_name, g.state) for g in ina]


_PROC_FILES = ("status", "stat", "statm", "cmdline", "limits", "io", "oom_score", "cgroup")
_NET_STATS = ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "rx_dropped", "tx_dropped",
              "rx_errors", "tx_errors")


def padding_file(i: int) -> tuple:
    """A small /proc- or /sys-like file (path, text), deterministic in i.

    Eight files per directory, like the per-process and per-device directories sos copies, so the
    member count stays close to the file count.
    """
    group, k = divmod(i, 8)
    kind = group % 3
    if kind == 0:
        pid = 1000 + group
        return (f"proc/{pid}/{_PROC_FILES[k]}", f"Name:\tkworker/{group % 64}:{k}\nState:\tI (idle)\n"
                                               f"Tgid:\t{pid}\nPid:\t{pid}\nPPid:\t2\nVmRSS:\t{i % 997} kB\n")
    if kind == 1:
        return (f"sys/class/net/tap{group:08x}-{group % 97:02x}/statistics/{_NET_STATS[k]}",
                f"{i * 7919 % 100000007}\n")
    return (f"sys/block/dm-{group}/queue/{_NET_STATS[k].replace('x_', 'q_')}", f"{i % 4096}\n")


def iter_members(host: HostSpec, *, extra: Optional[dict] = None) -> list:
    """Every member of the report, sorted by path like sos's archive (directories included).

    extra: {relpath: bytes | (size, chunks)} added or replacing generated files (bench/ streams its
    big logs through this).
    """
    files: dict = {}
    links: dict = {}
    etc_dir = ("var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu" if host.containerized
               else "etc/libvirt/qemu")
    lib_etc = etc_dir.rsplit("/", 1)[0]
    # TripleO containers log to the host's /var/log/containers/<service>/
    log_nova = "var/log/containers/nova" if host.containerized else "var/log/nova"
    log_libvirt = "var/log/containers/libvirt" if host.containerized else "var/log/libvirt"

    plugins = ["date", "host", "libvirt", "openstack_nova", "process", "release"]
    plugins.append("dpkg" if host.package_format == "dpkg" else "rpm")
    if "virsh" in host.sources:
        plugins.append("virsh")
    if "plugin" in host.sources:
        plugins.append("libvirt_guests")
    plugins.sort()
    vtxt = f"sosreport: {host.sos_version}\n" + "".join(f"{p}: unversioned\n" for p in plugins)
    files["version.txt"] = vtxt.rstrip("\n")  # sos writes no final newline
    files["environment"] = "\n"
    files["sos_commands/host/hostname"] = host.hostname + "\n"
    files["sos_commands/host/uptime"] = f" {host.collected_at[11:]} up 1 day,  2:14,  0 users,  load average: 0.52, 0.48, 0.45\n"
    files["sos_commands/date/date"] = _date_line(host.collected_at, host.zone) + "\n"
    files["sos_commands/date/date_--utc"] = _date_line(host.collected_at, "UTC", host.utc_offset_minutes) + "\n"
    if host.machine_id:
        files["etc/machine-id"] = host.machine_id + "\n"
    links["hostname"] = "sos_commands/host/hostname"
    links["date"] = "sos_commands/date/date"
    links["uptime"] = "sos_commands/host/uptime"
    links["ps"] = "sos_commands/process/ps_auxwww"
    files["etc/os-release"] = host.os_release or (_OS_DEBIAN if host.package_format == "dpkg" else _OS_RHEL)
    if host.package_format == "dpkg":
        files["etc/debian_version"] = "12.5\n"
        files["sos_commands/dpkg/dpkg_-l"] = _dpkg_l(host)
        links["installed-debs"] = "sos_commands/dpkg/dpkg_-l"
    else:
        files["etc/redhat-release"] = "Red Hat Enterprise Linux release 9.2 (Plow)\n"
        rf, rl = _rpm_files(host)
        files.update(rf)
        links.update(rl)
    files["sos_commands/process/ps_auxwww"] = _ps(host)
    files["proc/meminfo"] = _MEMINFO
    files["proc/cpuinfo"] = "".join(f"processor\t: {i}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) "
                                    "Gold 6338 CPU @ 2.00GHz\n\n" for i in range(4))
    files[f"{lib_etc}/qemu.conf"] = _QEMU_CONF
    files[f"{lib_etc}/libvirtd.conf"] = "#listen_tls = 0\nlog_outputs=\"3:stderr\"\n"
    files[f"{etc_dir}/networks/default.xml"] = _NETWORK_DEFAULT
    links[f"{etc_dir}/networks/autostart/default.xml"] = "../default.xml"
    files["etc/nova/nova.conf"] = ("[DEFAULT]\nhost = %s\ncompute_driver = libvirt.LibvirtDriver\n"
                                   "instance_name_template = instance-%%08x\n[libvirt]\nvirt_type = kvm\n"
                                   % host.hostname)
    files["sos_commands/libvirt/ls_-lR_.var.lib.libvirt.qemu"] = "/var/lib/libvirt/qemu:\ntotal 0\n"

    for g in host.guests:
        if "etc" in host.sources and g.persistent:
            x = persistent_file_xml(g)
            files[f"{etc_dir}/{g.domain_name}.xml"] = x if host.containerized or not host.scrub_passwords \
                else scrub_passwd(x)
        if "run" in host.sources and g.active:
            x = status_xml(g)
            files[f"run/libvirt/qemu/{g.domain_name}.xml"] = scrub_passwd(x) if host.scrub_passwords else x
            files[f"run/libvirt/qemu/{g.domain_name}.pid"] = str(_pid(g))
        if "virsh" in host.sources and (g.active or g.persistent):
            # sos runs dumpxml/dominfo/domblklist for every row of `virsh list --all`; a shut-off
            # domain's dumpxml is its persistent definition (no id): opt in with virsh_dumpxml_all.
            if g.active or host.virsh_dumpxml_all:
                files[f"sos_commands/virsh/virsh_-r_dumpxml_{g.domain_name}"] = domain_xml(
                    g, live=g.active, secure=False)
            files[f"sos_commands/virsh/virsh_-r_dominfo_{g.domain_name}"] = virsh_dominfo(g)
            files[f"sos_commands/virsh/virsh_-r_domblklist_{g.domain_name}"] = virsh_domblklist(g)
        if host.qemu_log:
            files[f"{log_libvirt}/qemu/{g.domain_name}.log"] = qemu_log(g, host)
    if "virsh" in host.sources:
        files["sos_commands/virsh/virsh_-r_list_--all"] = virsh_list(_list_rows(host))
        files["sos_commands/virsh/virsh_-r_version"] = (
            "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\n"
            "Using API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n\n")
        files["sos_commands/virsh/virsh_-r_net-list"] = virsh_net_list()
    if "plugin" in host.sources:
        files.update(_plugin_files(host, etc_dir))
    if host.nova_compute:
        files[f"{log_nova}/nova-compute.log"] = _nova_compute_log(host)
    elif host.nova_log_lines:
        files[f"{log_nova}/nova-compute.log"] = "\n".join(host.nova_log_lines) + "\n"
    for i in range(host.padding_files):
        p, t = padding_file(i)
        files[p] = t

    files["sos_reports/manifest.json"] = _manifest(host, plugins)
    files["sos_logs/sos.log"] = _sos_log(host, plugins)
    files["sos_logs/ui.log"] = ""
    if extra:
        files.update(extra)

    mtime = _epoch(host.collected_at)
    dirs: set = set()
    for p in list(files) + list(links):
        parts = p.split("/")[:-1]
        for k in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:k]))
    members = [Member(d + "/", None, mode=0o755, mtime=mtime) for d in dirs]
    for p, d in files.items():
        data = d.encode() if isinstance(d, str) else d
        mode = 0o600 if "/libvirt/qemu/" in p and p.endswith(".xml") else 0o644
        members.append(Member(p, data, mode=mode, mtime=mtime))
    members += [Member(p, None, link=t, mode=0o777, mtime=mtime) for p, t in links.items()]
    members.sort(key=lambda m: m.path.rstrip("/"))
    return members


def virsh_net_list() -> str:
    return " Name      State    Autostart   Persistent\n--------------------------------------------\n" \
           " default   active   yes         yes\n\n"


def _manifest(host: HostSpec, plugins: list) -> str:
    t = host.collected_at
    cmds = {"date": [("date", "sos_commands/date/date")],
            "host": [("hostname", "sos_commands/host/hostname")],
            "process": [("ps auxwww", "sos_commands/process/ps_auxwww")],
            "dpkg": [("dpkg -l", "sos_commands/dpkg/dpkg_-l")],
            "virsh": [("virsh -r list --all", "sos_commands/virsh/virsh_-r_list_--all")]}
    pl = {}
    for p in plugins:
        pl[p] = {"start_time": f"{t}.100000", "end_time": f"{t}.400000", "run_time": "0:00:00.300000",
                 "setup_start": f"{t}.010000", "setup_end": f"{t}.020000", "setup_time": "0:00:00.010000",
                 "timeout_hit": False,
                 "commands": [{"command": c.split()[0], "parameters": c.split()[1:], "exec": c,
                               "filepath": fp, "return_code": 0, "run_time": 0.04, "tags": [p]}
                              for c, fp in cmds.get(p, [])],
                 "files": [], "containers": {}}
    label = f" --label {host.label}" if host.label else ""
    m = {"version": host.sos_version,
         "cmdline": f"report --batch -o {','.join(plugins)}{label}",
         "start_time": f"{t}.000000", "end_time": f"{t}.900000", "run_time": "0:00:00.900000",
         "compression": "auto", "policy": "Debian" if host.package_format == "dpkg" else "Red Hat",
         "components": {"report": {"sysroot": "/", "preset": "none", "profiles": [],
                                   "enabled_plugins": plugins, "disabled_plugins": [], "plugins": pl}}}
    return json.dumps(m, indent=4)


def _sos_log(host: HostSpec, plugins: list) -> str:
    t = host.collected_at
    name = report_name(host)
    lines = [f"{t},001 INFO: [archive:TarFileArchive] initialised empty FileCacheArchive at "
             f"'/var/tmp/sos.abcd1234/{name}'",
             f"{t},002 INFO: [sos.report:setup] executing 'sos report --batch -o {','.join(plugins)}'"]
    lines += [f"{t},{10 + i:03d} INFO: [plugin:{p}] collecting" for i, p in enumerate(plugins)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Writers


def write_tree(host: HostSpec, dest: Union[str, Path], *, extra: Optional[dict] = None) -> Path:
    """Write the report as sos --build leaves it; returns the report's top directory."""
    top = Path(dest) / report_name(host)
    top.mkdir(parents=True, exist_ok=True)
    for m in iter_members(host, extra=extra):
        p = top / m.path.rstrip("/")
        if m.is_dir:
            p.mkdir(parents=True, exist_ok=True)
        elif m.link is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.is_symlink() or p.exists():
                p.unlink()
            os.symlink(m.link, p)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "wb") as f:
                for c in m.chunks():
                    f.write(c)
            os.utime(p, (m.mtime, m.mtime))
    return top


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks, so tarfile can stream a generated member."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it = iter(chunks)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def write_tar_stream(members: list, top: str, out, *, fmt: int = tarfile.PAX_FORMAT) -> int:
    """Write members under `top/` as an uncompressed tar stream to the binary file `out`.

    Returns the number of tar bytes written (bench/ uses it to pick realistic xz block sizes).
    """
    counter = _Counting(out)
    with tarfile.open(fileobj=counter, mode="w|", format=fmt) as tf:
        topinfo = tarfile.TarInfo(top)
        topinfo.type = tarfile.DIRTYPE
        topinfo.mode = 0o700
        topinfo.mtime = members[0].mtime if members else 0
        tf.addfile(topinfo)
        for m in members:
            ti = tarfile.TarInfo(f"{top}/{m.path.rstrip('/')}")
            ti.mtime = m.mtime or 0
            ti.mode = m.mode
            ti.uname = ti.gname = "root"
            if m.is_dir:
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif m.link is not None:
                ti.type = tarfile.SYMTYPE
                ti.linkname = m.link
                tf.addfile(ti)
            else:
                ti.size = m.size
                if isinstance(m.data, bytes):
                    tf.addfile(ti, io.BytesIO(m.data))
                else:
                    tf.addfile(ti, io.BufferedReader(_ChunkReader(m.chunks()), 1 << 20))
    return counter.n


class _Counting:
    def __init__(self, f):
        self.f = f
        self.n = 0

    def write(self, b) -> int:
        self.n += len(b)
        self.f.write(b)
        return len(b)

    def flush(self) -> None:
        self.f.flush()


_EXT = {"xz": ".tar.xz", "xz-multiblock": ".tar.xz", "gz": ".tar.gz", "bz2": ".tar.bz2", "none": ".tar"}


def tar_size(members: list, top: str) -> int:
    """Uncompressed tar size for members (headers + 512-byte padded data + end blocks), exactly."""
    return write_tar_stream_size(members, top)


def write_tar_stream_size(members: list, top: str) -> int:
    class _Null:
        def write(self, b):
            return len(b)

        def flush(self):
            pass
    # Only headers are produced for real; member data sizes are added arithmetically.
    hdr = [Member(m.path, b"" if not (m.is_dir or m.link is not None) else None, link=m.link, mode=m.mode,
                  mtime=m.mtime) for m in members]
    n = write_tar_stream(hdr, top, _Null())
    return n + sum((m.size + 511) // 512 * 512 for m in members)


def compress_command(compression: str, *, block_size: Optional[int] = None, threads: int = 2) -> Optional[list]:
    """The external compressor sos would have used (None: plain tar).

    xz: one block, preset 3, like sos 4.2+'s tarfile/lzma. xz-multiblock: `xz -2 -T2` like sos
    4.0/4.1; block_size overrides xz's default (3 x dict size = 6 MiB) so small test archives still
    get several blocks.
    """
    if compression == "xz":
        return ["xz", "-3", "-T1", "-c"]
    if compression == "xz-multiblock":
        cmd = ["xz", "-2", f"-T{threads}", "-c"]
        if block_size:
            cmd.insert(3, f"--block-size={block_size}")
        return cmd
    if compression == "gz":
        return ["gzip", "-6", "-n", "-c"]
    if compression == "bz2":
        return ["bzip2", "-9", "-c"]
    if compression == "none":
        return None
    raise ValueError(f"unknown compression {compression!r}")


def write_archive(members: list, top: str, path: Path, compression: str, *,
                  block_size: Optional[int] = None) -> Path:
    """Stream members into `path` through the compressor, then write sos's .sha256 beside it."""
    cmd = compress_command(compression, block_size=block_size)
    with open(path, "wb") as out:
        if cmd is None:
            write_tar_stream(members, top, out)
        else:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out)
            try:
                write_tar_stream(members, top, proc.stdin)
            finally:
                proc.stdin.close()
                rc = proc.wait()
            if rc:
                raise RuntimeError(f"{cmd[0]} exited with {rc}")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    Path(str(path) + ".sha256").write_text(h.hexdigest() + "\n")
    return path


def write_tarball(host: HostSpec, dest: Union[str, Path], compression: str = "xz", *,
                  extra: Optional[dict] = None, block_size: Optional[int] = None) -> Path:
    """sosreport-HOST[-LABEL]-YYYY-MM-DD-xxxxxxx.tar.xz (etc.) in dest, with .sha256 beside it.

    For "xz-multiblock", block_size None picks xz's own (6 MiB) blocks for big reports and a quarter
    of the tar for small ones, so every multi-block archive really holds several blocks.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    top = report_name(host)
    members = iter_members(host, extra=extra)
    if compression == "xz-multiblock" and block_size is None:
        size = write_tar_stream_size(members, top)
        block_size = None if size > 4 * 6 * 2**20 else max(4096, size // 4)
    return write_archive(members, top, dest / (top + _EXT[compression]), compression, block_size=block_size)


def collect_name(hosts: list, label: str = "") -> str:
    date = hosts[0].collected_at[:10] if hosts else "1970-01-01"
    parts = ["sos-collector"] + ([label] if label else []) + [date,
                                                              _suffix(5, *(h.hostname for h in hosts))]
    return "-".join(parts)


def write_collect_bundle(hosts: list, dest: Union[str, Path], compression: str = "none",
                         node_compression: str = "xz", *, label: str = "",
                         node_archives: Optional[list] = None) -> Path:
    """A `sos collect` archive: node tarballs (untouched) at the top, sos_logs/, sos_reports/.

    node_archives: already written node tarballs to bundle instead of building them from hosts
    (bench/ writes its big nodes itself).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = collect_name(hosts, label or (hosts[0].label if hosts else ""))
    work = dest / (name + ".nodes")
    if node_archives is None:
        work.mkdir(exist_ok=True)
        node_archives = [write_tarball(h, work, node_compression) for h in hosts]
    t = hosts[0].collected_at if hosts else "1970-01-01 00:00:00"
    mtime = _epoch(t)
    nodes = [Path(p).name for p in node_archives]
    manifest = {"version": hosts[0].sos_version if hosts else "4.10",
                "cmdline": "collect --batch --nodes " + ",".join(h.hostname for h in hosts),
                "start_time": f"{t}.000000", "end_time": f"{t}.900000", "run_time": "0:05:12.000000",
                "compression": "", "policy": "Debian",
                "components": {"collect": {"primary": hosts[0].hostname if hosts else "",
                                           "cluster_type": "none",
                                           "node_list": [h.hostname for h in hosts]}},
                "node_reports": nodes}
    slog = "".join(f"{t},{i:03d} INFO: {h.hostname}: Report generated\n" for i, h in enumerate(hosts))
    members = [Member("sos_logs/", None, mode=0o755, mtime=mtime),
               Member("sos_logs/sos.log", slog.encode(), mtime=mtime),
               Member("sos_logs/ui.log", b"", mtime=mtime),
               Member("sos_reports/", None, mode=0o755, mtime=mtime),
               Member("sos_reports/manifest.json", json.dumps(manifest, indent=4).encode(), mtime=mtime)]
    for p in node_archives:
        p = Path(p)
        size = p.stat().st_size

        def chunks(p=p):
            with open(p, "rb") as f:
                for b in iter(lambda: f.read(1 << 20), b""):
                    yield b
        members.append(Member(p.name, (size, chunks), mtime=mtime))
    members.sort(key=lambda m: m.path.rstrip("/"))
    out = write_archive(members, name, dest / (name + _EXT[compression]), compression)
    if work.exists():
        shutil.rmtree(work)
    return out


# ---------------------------------------------------------------------------------------------
# Convenience for tests and bench


def make_guest(i: int, *, seed: str = "", **kw) -> GuestSpec:
    """Guest number i with deterministic UUIDs, names and ports (override anything via kw)."""
    u = seed_uuid("inst", seed, i)
    port = seed_uuid("port", seed, i)
    img = seed_uuid("img", seed, i % 7)
    args = dict(uuid=u, domain_name=f"instance-{i:08x}", display_name=f"vm-{i}",
                ports=[(port, f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256 or 1}")],
                root=("image", img), creation_time=f"2024-03-{1 + i % 28:02d} {i % 24:02d}:00:00",
                domain_id=i + 1)
    args.update(kw)
    return GuestSpec(**args)


def default_host(n_guests: int = 3, **kw) -> HostSpec:
    """A host with a mix of states: mostly running, one shut off, one paused (when n allows)."""
    hostname = kw.get("hostname", "compute-1")
    guests = []
    for i in range(1, n_guests + 1):
        g = make_guest(i, seed=hostname)
        if i % 10 == 3:
            g.state, g.state_reason = "shut off", "shutdown"
        elif i % 10 == 7:
            g.state, g.state_reason = "paused", "user"
        guests.append(g)
    kw.setdefault("guests", guests)
    return HostSpec(**kw)


if __name__ == "__main__":  # pragma: no cover - manual use: python tests/sosbuilder.py DEST
    import sys
    print(write_tarball(default_host(5), sys.argv[1] if len(sys.argv) > 1 else ".", "xz"))


# ---------------------------------------------------------------------------------------------
# Logs that tell an instance's story: the real message texts and line formats of nova-compute
# (oslo.log), the per-domain qemu log and libvirtd.log.

# oslo.log's context field, by release (a request's context; `periodic` and `none` have none).
OSLO_CONTEXTS = {
    "zed": "[None req-{req} {user} {project} - default default]",
    "pike": "[req-{req} {user} {project} - default default]",
    "old": "[req-{req} {user} {project} - - -]",
    "periodic": "[req-{req} - - - - -]",
    "none": "[-]",
}

# (kind, level, logger, message): one line per event kind nova-compute logs; {peer} is the other
# host of a migration, {vol} a volume id, {n} a number.
NOVA_EVENT_LINES = [
    ("claimed", "INFO", "nova.compute.claims", "Claim successful on node {host}"),
    ("spawned", "INFO", "nova.virt.libvirt.driver", "Instance spawned successfully."),
    ("started", "INFO", "nova.compute.manager", "VM Started (Lifecycle Event)"),
    ("paused", "INFO", "nova.compute.manager", "VM Paused (Lifecycle Event)"),
    ("resumed", "INFO", "nova.compute.manager", "VM Resumed (Lifecycle Event)"),
    ("suspended", "INFO", "nova.compute.manager", "VM Suspended (Lifecycle Event)"),
    ("shutdown-by-itself", "WARNING", "nova.compute.manager",
     "Instance shutdown by itself. Calling the stop API. Current vm_state: active, current task_state: None, "
     "original DB power_state: 1, current VM power_state: 4"),
    ("stopped", "INFO", "nova.compute.manager", "VM Stopped (Lifecycle Event)"),
    ("rebooted", "INFO", "nova.compute.manager", "Rebooting instance"),
    ("stopped", "INFO", "nova.virt.libvirt.driver", "Instance shutdown successfully after 4 seconds."),
    ("volume-attached", "INFO", "nova.compute.manager", "Attaching volume {vol} to /dev/vdb"),
    ("volume-detached", "INFO", "nova.compute.manager", "Detaching volume {vol}"),
    ("migration-started", "INFO", "nova.compute.manager",
     "Took 2.41 seconds for pre_live_migration on destination host {peer}."),
    ("migration-progress", "INFO", "nova.virt.libvirt.driver",
     "Migration running for {n} secs, memory 41% remaining (bytes processed=1203311104, remaining=905969664, "
     "total=2164654080); disk 0% remaining (bytes processed=0, remaining=0, total=0)."),
    ("migration-completed", "INFO", "nova.virt.libvirt.driver", "Migration operation has completed"),
    ("migration-completed", "INFO", "nova.compute.manager", "Migrating instance to {peer} finished successfully."),
    ("migration-failed", "ERROR", "nova.virt.libvirt.driver",
     "Live Migration failure: operation failed: Failed to connect to remote libvirt URI "
     "qemu+tcp://{peer}/system: Unable to connect to server at '{peer}:16509': Connection refused: "
     "libvirt.libvirtError: operation failed: Failed to connect to remote libvirt URI"),
    ("migration-failed", "ERROR", "nova.virt.libvirt.driver", "Migration operation has aborted"),
    ("migration-failed", "WARNING", "nova.virt.libvirt.driver", "Migration operation was cancelled"),
    ("migration-failed", "ERROR", "nova.compute.manager", "Pre live migration failed at {peer}: "
     "nova.exception.MigrationPreCheckError: Migration pre-check error"),
    ("migrated-in", "INFO", "nova.compute.manager", "Post operation of migration started"),
    ("resize", "INFO", "nova.compute.manager", "Migrating"),
    ("evacuated", "INFO", "nova.compute.manager", "Evacuating instance"),
    ("rebuilt", "INFO", "nova.compute.manager", "Rebuilding instance"),
    ("deleted", "INFO", "nova.compute.manager", "Terminating instance"),
    ("error", "ERROR", "nova.compute.manager", "Instance failed to spawn: libvirt.libvirtError: internal error: "
     "qemu unexpectedly closed the monitor"),
]


def oslo_line(epoch: float, level: str, logger: str, msg: str, *, instance: Optional[str] = None,
              ctx: str = "zed", pid: int = 2301, req: str = "", user: str = "7b2fd4a6c7e94a0e8b1f0c38ab6a21f3",
              project: str = "4c1e5f5a0f9b4f2c8e2e2a9d8b3c1a77") -> str:
    """One nova-compute line (no newline); the time is written as the process's clock shows
    `epoch` (this builder's clocks are UTC: a test shifts `epoch` for another zone)."""
    ms = int(round((epoch - int(epoch)) * 1000)) % 1000
    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(epoch)))
    c = OSLO_CONTEXTS[ctx].format(req=req or seed_uuid("req", epoch, msg), user=user, project=project)
    inst = f"[instance: {instance}] " if instance else ""
    return f"{ts}.{ms:03d} {pid} {level} {logger} {c} {inst}{msg}"


def nova_event_log(uuid: str, start: float, *, host: str = "compute-1", peer: str = "compute-2",
                   ctx: str = "zed", pid: int = 2301, step: float = 7.25, noise: int = 3) -> tuple:
    """A nova-compute log with one line of every event kind for one instance, ordinary lines
    (periodic tasks, `Checking state`, other instances) between them, and a traceback after an
    error. Returns (text, expected) with expected = [(kind, time "YYYY-MM-DDTHH:MM:SS.mmm",
    message, line number)]."""
    lines: list = []
    expected: list = []
    other = seed_uuid("other", uuid)
    t = start
    vol = seed_uuid("vol", uuid)
    for i, (kind, level, logger, msg) in enumerate(NOVA_EVENT_LINES):
        for k in range(noise):
            t += 0.013
            lines.append(oslo_line(t, "DEBUG", "oslo_service.periodic_task", "Running periodic task "
                                   "ComputeManager._poll_rebooting_instances run_periodic_tasks "
                                   "/usr/lib/python3/dist-packages/oslo_service/periodic_task.py:210",
                                   ctx="periodic", pid=pid))
            lines.append(oslo_line(t, "DEBUG", "nova.compute.manager", "Checking state _get_power_state "
                                   "/usr/lib/python3/dist-packages/nova/compute/manager.py:1782",
                                   instance=uuid if k % 2 else other, ctx=ctx, pid=pid))
        t += step
        text = msg.format(host=host, peer=peer, vol=vol, n=5 * (i + 1))
        lines.append(oslo_line(t, level, logger, text, instance=uuid, ctx="none" if kind in (
            "spawned", "started", "paused", "resumed", "suspended", "stopped") and level == "INFO" and
            logger == "nova.compute.manager" else ctx, pid=pid))
        ts = lines[-1][:23]
        expected.append((kind, ts[:10] + "T" + ts[11:], text, len(lines)))
        if kind == "error":  # oslo.log writes the traceback as more lines of the same record
            for tb in ("Traceback (most recent call last):",
                       '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2743, in _build_resources',
                       "    yield resources",
                       "libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor"):
                lines.append(lines[-1][:lines[-1].index("[instance: ")] + f"[instance: {uuid}] {tb}")
    return "\n".join(lines) + "\n", expected


def qemu_event_log(g: GuestSpec, host: HostSpec, start: str, *, incoming: bool = False, one_line: bool = False,
                   migrate_out: bool = False, stop: Optional[str] = "shutdown", signal: bool = False,
                   load_failed: bool = False) -> str:
    """var/log/libvirt/qemu/NAME.log for one boot: `starting up`, the command line (one argument a
    line, or one line as libvirt < 1.2.x wrote it), the chardev line, then what ends the boot.
    `start` is "YYYY-MM-DD HH:MM:SS" (UTC)."""
    t0 = _epoch(start)

    def lv(off: float) -> str:  # libvirt's time
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t0 + off))) + ".%03d+0000" % (
            round((off % 1) * 1000))

    def qm(off: float) -> str:  # qemu's own, -msg timestamp=on
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t0 + off))) + ".%06dZ" % (
            round((off % 1) * 1e6))

    libv = host.packages.get("libvirt", "9.0.0")
    args = ["LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"HOME=/var/lib/libvirt/qemu/domain-{_dom_id(g)}-{g.domain_name}", "/usr/bin/qemu-system-x86_64",
            f"-name guest={g.domain_name},debug-threads=on", "-S", "-machine pc-i440fx-7.2,usb=off",
            "-accel kvm", f"-m {g.memory_mib}", f"-smp {g.vcpus},sockets={g.vcpus},cores=1,threads=1",
            f"-uuid {g.uuid}", "-no-user-config", "-nodefaults"]
    if incoming:
        args.append("-incoming defer")
    args.append("-msg timestamp=on")
    lines = [f"{lv(0.123)}: starting up libvirt version: {libv.split('-')[0]}, package: {libv} (Debian), "
             f"qemu version: 7.2.0Debian {host.packages.get('qemu', '7.2.0')}, kernel: 6.1.0-13-amd64, "
             f"hostname: {host.hostname}"]
    lines += [" ".join(args)] if one_line else [a + " \\" for a in args[:-1]] + [args[-1]]
    lines.append(f"char device redirected to /dev/pts/{_dom_id(g) % 40} (label charserial0)")
    if load_failed:
        lines.append(f"{qm(30.771552)} qemu-system-x86_64: load of migration failed: Input/output error")
        lines.append(f"{lv(30.9)}: shutting down, reason=failed")
        return "\n".join(lines) + "\n"
    if migrate_out:
        lines.append(f"{lv(3600.701)}: initiating migration")
        lines.append(f"{lv(3630.214)}: shutting down, reason=migrated")
        return "\n".join(lines) + "\n"
    if signal:
        lines.append(f"{qm(7200.002113)} qemu-system-x86_64: terminating on signal 15 from pid 1510 "
                     "(/usr/sbin/libvirtd)")
    if stop:
        lines.append(f"{lv(7200.514)}: shutting down, reason={stop}")
    return "\n".join(lines) + "\n"


def libvirtd_log(lines: list) -> str:
    """libvirtd.log lines: each (epoch, thread, level, function:line, message)."""
    out = []
    for epoch, thread, level, func, msg in lines:
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(epoch))) + ".%03d+0000" % round((epoch % 1) * 1000)
        out.append(f"{ts}: {thread}: {level} : {func} : {msg}")
    return "\n".join(out) + "\n"


def write_odd_name_tarball(dest: Union[str, Path]) -> Path:
    """A plain-tar report (host `odd`) whose one guest's XML has a file name with a byte that is
    no UTF-8 (0xff): tar keeps names as bytes, the analyzer reads it as a surrogate."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "data", "ussuri-etc-persistent.xml"), "rb") as f:
        xml = f.read()
    path = Path(dest) / "sosreport-odd-1.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
        for name, data in (("sosreport-odd-1/version.txt", b"sosreport: 4.0\n"),
                           ("sosreport-odd-1/sos_commands/host/hostname", b"odd\n"),
                           ("sosreport-odd-1/etc/libvirt/qemu/inst-\udcff.xml", xml)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path
