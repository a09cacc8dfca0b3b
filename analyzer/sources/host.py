"""Host facts of one report: who, when, which OS, which nova/libvirt/qemu are installed now.

The installed Nova version is what `nova-version-mismatch` compares each guest's boot-time version
against, so it is read from the package database the report carries:

    sos_commands/dpkg/dpkg_-l (Debian/Ubuntu):
    ii  nova-compute     3:27.1.0-0ubuntu1     all     OpenStack Compute - compute node base
    installed-rpms / sos_commands/rpm/package-data (RHEL):
    openstack-nova-compute-27.1.0-1.el9ost.noarch             Tue Mar  5 10:00:00 2024

or, for containerized compute nodes without the package on the host, a nova image tag that is a
version (`.../nova-compute:27.1.0-...`). Release-series tags (`:2024.1-ubuntu-jammy`) are not versions
and are ignored rather than misreported; so are the tags of product images, which version the
product, not Nova: Red Hat OSP (`registry.redhat.io/rhosp-rhel8/openstack-nova-compute:16.2.6-5`
holds Nova 20.x) and Kolla (`kolla/ubuntu-binary-nova-compute:11.0.0` holds Nova 22.x).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Mapping, Optional

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import Packages
from analyzer.parsers import clock
from analyzer.sources.base import Readout, View

MEMBERS = (
    Wanted("host", BYTES,
           r"version\.txt|sos_reports/manifest\.json|sos_commands/host/hostname|etc/hostname"
           r"|sos_commands/date/date(?:_--utc)?|etc/os-release|usr/lib/os-release|etc/redhat-release"
           r"|etc/debian_version|sos_commands/dpkg/dpkg_-l|installed-rpms|sos_commands/rpm/package-data"
           r"|sos_commands/rpm/sh_-c_rpm_--nodigest_-qa_--qf_[^/]*"
           r"|sos_commands/process/ps_auxwww|sos_commands/process/ps_auxfwww"
           r"|sos_commands/(?:podman|docker)/(?:podman|docker)_ps(?:_-a)?"
           r"|sos_commands/(?:podman|docker)/(?:podman|docker)_images"
           r"|etc/machine-id|sos_commands/systemd/timedatectl",
           ("sos_commands/host/", "sos_commands/date/", "sos_commands/dpkg/", "sos_commands/rpm/",
            "sos_commands/process/", "sos_commands/podman/", "sos_commands/docker/", "sos_reports/",
            "sos_commands/systemd/", "etc/", "usr/lib/"),
           example="sos_commands/host/hostname"),
    Wanted("localtime", BYTES, r"etc/localtime", ("etc/",), link=True, example="etc/localtime"),
)

_DPKG_NAMES = {
    "nova": ("nova-compute", "python3-nova", "nova-common"),
    "libvirt": ("libvirt-daemon", "libvirt-daemon-system", "libvirt0"),
    "qemu": ("qemu-system-x86", "qemu-kvm", "qemu-system-x86-64", "qemu-system-arm", "qemu-system-common"),
}
_RPM_NAMES = {
    "nova": ("openstack-nova-compute", "python3-nova", "openstack-nova-common", "python-nova"),
    "libvirt": ("libvirt-daemon", "libvirt-daemon-kvm", "libvirt-libs", "libvirt"),
    "qemu": ("qemu-kvm", "qemu-kvm-core", "qemu-kvm-rhev", "qemu-system-x86"),
}
_RPM_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_.+-]+?)-(?P<ver>\d[^-\s]*-[^\s]+?)\.(?:noarch|x86_64|aarch64|ppc64le|s390x|i686)\b")
_NOVA_IMAGE = re.compile(r"(?P<image>\S*nova[-_]compute\S*):(?P<tag>\d+\.\d+\.\d+\S*)")
_PRODUCT_IMAGE = re.compile(r"rhosp|kolla|tripleo", re.I)  # tags version the product, not Nova


def _text(files: Mapping[str, bytes], path: str) -> Optional[str]:
    data = files.get(path)
    return None if data is None else data.decode("utf-8", "replace")


def _first(files: Mapping[str, bytes], *paths: str) -> tuple[Optional[str], Optional[str]]:
    for p in paths:
        t = _text(files, p)
        if t is not None and t.strip():
            return p, t
    return None, None


def hostname_from_root(root: Optional[str], cmdline: str = "") -> Optional[str]:
    """sosreport-HOST[-LABEL][-CASE]-YYYY-MM-DD-xxxxxxx: HOST is ambiguous with labels, so this is
    only a last resort (the hostname file wins); the label and case id the manifest's command line
    names are stripped."""
    if not root:
        return None
    m = re.match(r"sosreport-(.+?)-\d{4}-\d\d-\d\d-[a-z0-9]+", root)
    if not m:
        return None
    host = m.group(1)
    for opt in re.findall(r"(?:--label|--case-id)[= ](\S+)", cmdline):
        suffix = "-" + re.sub(r"[^A-Za-z0-9_.-]", "", opt)
        if host.endswith(suffix) and len(host) > len(suffix):
            host = host[: -len(suffix)]
    return host


def read(v: View) -> Readout:
    """The host facts (Report fields) of one report."""
    files = v.files
    facts: dict[str, Any] = {}
    manifest = {}
    mtext = _text(files, "sos_reports/manifest.json")
    if mtext:
        try:
            manifest = json.loads(mtext)
        except (ValueError, RecursionError):  # malformed, or nested past the interpreter's stack
            manifest = {}
        if not isinstance(manifest, dict):
            manifest = {}
    cmdline = manifest.get("cmdline") if isinstance(manifest.get("cmdline"), str) else ""

    _, text = _first(files, "sos_commands/host/hostname", "etc/hostname")
    facts["hostname"] = ((text.strip().splitlines() or [None])[0] if text else None) or \
        hostname_from_root(v.root, cmdline)
    vtext = _text(files, "version.txt")
    version = None
    if vtext:
        m = re.search(r"(?:sosreport|sos report version|sos)\s*[:=]?\s*v?(\d+\.\d+(?:\.\d+)?)", vtext)
        version = m.group(1) if m else None
    if version is None and isinstance(manifest.get("version"), str):
        version = manifest["version"]
    facts["sos_version"] = version

    facts.update(_clock(files, v.links, manifest))
    _, mid = _first(files, "etc/machine-id")
    facts["machine_id"] = mid.strip()[:64] if mid else None

    _, os_text = _first(files, "etc/os-release", "usr/lib/os-release")
    if os_text:
        m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', os_text, re.M)
        facts["os"] = m.group(1) if m else None
    if not facts.get("os"):
        _, rel = _first(files, "etc/redhat-release")
        facts["os"] = rel.strip() if rel else None

    facts["packages"] = _packages(files)
    facts["nova_compute"], facts["nova_compute_evidence"] = _runs_nova_compute(files, facts["packages"])
    return Readout(facts=facts)


def _clock(files: Mapping[str, bytes], links: Mapping[str, str], manifest: dict) -> dict[str, Any]:
    """collected_at (UTC with Z when the offset is known, else the host's local time) and utc_offset."""
    local = clock.parse_date(_text(files, "sos_commands/date/date") or "")
    utc = clock.parse_date(_text(files, "sos_commands/date/date_--utc") or "")
    if utc is not None and utc[1] != "UTC":
        utc = None
    start = manifest.get("start_time")
    started = None
    if isinstance(start, str) and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", start):
        started = datetime.strptime(start[:19], "%Y-%m-%d %H:%M:%S")  # sos writes its local time
    offset = None
    if local is not None and utc is not None:
        offset = clock.offset_between(local[0], utc[0])
    elif local is not None and local[1] in ("UTC", "GMT"):
        offset = 0
    if offset is None:
        offset = clock.timedatectl_offset(_text(files, "sos_commands/systemd/timedatectl") or "")
    zone = clock.zone_of_link(links.get("etc/localtime", ""))
    when = started or (local[0] if local else None)
    if offset is None and zone and when is not None:
        offset = clock.zone_offset(zone, when)
    if started is None and utc is not None:
        return {"collected_at": clock.iso_z(utc[0]), "utc_offset": None if offset is None else clock.format_offset(offset)}
    if when is None:
        return {}
    if offset is None:
        return {"collected_at": when.strftime("%Y-%m-%dT%H:%M:%S")}
    return {"collected_at": clock.iso_z(clock.to_utc(when, offset)), "utc_offset": clock.format_offset(offset)}


def _packages(files: Mapping[str, bytes]) -> Packages:
    found: dict[str, str] = {}
    where: dict[str, str] = {}
    dpkg = _text(files, "sos_commands/dpkg/dpkg_-l")
    if dpkg:
        installed = {}
        for line in dpkg.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0].startswith("i"):
                installed[parts[1].split(":")[0]] = parts[2]
        for key, names in _DPKG_NAMES.items():
            for n in names:
                if n in installed:
                    found[key], where[key] = installed[n], "sos_commands/dpkg/dpkg_-l"
                    break
    # `installed-rpms` is a symlink to the sh_-c_rpm_... output (links are not followed): read both.
    rpm_cmd = sorted(p for p in files if p.startswith("sos_commands/rpm/sh_-c_rpm_--nodigest_-qa"))
    rpm_path, rpms = _first(files, "installed-rpms", "sos_commands/rpm/package-data", *rpm_cmd)
    if rpms:
        installed = {}
        for line in rpms.splitlines():
            m = _RPM_LINE.match(line.strip())
            if m:
                installed.setdefault(m.group("name"), m.group("ver"))
        for key, names in _RPM_NAMES.items():
            if key in found:
                continue
            for n in names:
                if n in installed:
                    found[key], where[key] = installed[n], rpm_path or ""
                    break
    if "nova" not in found:
        for p in ("sos_commands/podman/podman_ps", "sos_commands/podman/podman_ps_-a",
                  "sos_commands/docker/docker_ps", "sos_commands/docker/docker_ps_-a"):
            tags = [m.group("tag") for m in _NOVA_IMAGE.finditer(_text(files, p) or "")
                    if not _PRODUCT_IMAGE.search(m.group("image"))]
            if tags:
                found["nova"], where["nova"] = tags[0], p
                break
    return Packages(**found, sources=where)


def _runs_nova_compute(files: Mapping[str, bytes], packages: Packages) -> tuple[Optional[bool], Optional[str]]:
    for p in ("sos_commands/process/ps_auxwww", "sos_commands/process/ps_auxfwww"):
        t = _text(files, p)
        if t and "nova-compute" in t:
            return True, p
    for p in ("sos_commands/podman/podman_ps", "sos_commands/podman/podman_ps_-a",
              "sos_commands/docker/docker_ps", "sos_commands/docker/docker_ps_-a"):
        t = _text(files, p)
        if t and re.search(r"nova[_-]compute", t):
            return True, p
    if packages.nova:
        return True, "installed package"
    if any(p.startswith("sos_commands/process/ps_") for p in files):
        return False, "process list"
    return None, None
