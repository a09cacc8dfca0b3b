"""Which members of a sosreport the analyzer reads, and how.

A large compute-host report has tens of thousands of members; the analyzer needs a few hundred.
Every path below is relative to the report root (the `sosreport-HOST-DATE-xxxx/` top directory is
stripped). One compiled regular expression decides per member, so the cost of a member we do not
need is one `match` call. Each pattern names the reader it feeds (`sources/*`):

    BYTES  the whole member is kept in memory (size-capped) and handed to the reader
    STREAM the member is fed chunk by chunk to a scanner (logs: memory does not grow with size)
"""

from __future__ import annotations

import re
from typing import Optional

BYTES = "bytes"
STREAM = "stream"

# (tag, mode, regex over the report-relative path)
_XML = r"[^/]+\.xml"
PATTERNS: list[tuple[str, str, str]] = [
    # this project's sos plugin (sources/plugin.py)
    ("plugin_summary", BYTES, r"(?:sos_commands|sos_strings)/libvirt_guests/summary\.json"),
    ("plugin_domain", BYTES, r"sos_commands/libvirt_guests/[^/]+/domains/[^/]+\.(?:live|inactive)\.xml"),
    ("plugin_list", BYTES, r"sos_commands/libvirt_guests/[^/]+/virsh_-r_list_--all[^/]*"),
    # ... and a container's own libvirt files when its virsh failed (sources/libvirt_files.py)
    ("plugin_etc_xml", BYTES, r"sos_commands/libvirt_guests/container_[^/]+/files/etc/" + _XML),
    ("plugin_run_xml", BYTES, r"sos_commands/libvirt_guests/container_[^/]+/files/run/" + _XML),
    # sos's stock virsh plugin (sources/virsh.py)
    ("virsh_dumpxml", BYTES, r"sos_commands/(?:virsh|libvirt)/virsh_-r_dumpxml_[^/]+"),
    ("virsh_list", BYTES, r"sos_commands/(?:virsh|libvirt)/virsh_-r_list_--all"),
    # libvirt's own files (sources/libvirt_files.py)
    ("etc_xml", BYTES, r"etc/libvirt/qemu/" + _XML),
    ("run_xml", BYTES, r"(?:var/)?run/libvirt/qemu/" + _XML),
    ("container_etc_xml", BYTES,
     r"var/lib/config-data/(?:puppet-generated/)?nova_libvirt/etc/libvirt/qemu/" + _XML),
    # host facts (sources/host.py)
    ("host", BYTES,
     r"version\.txt|sos_reports/manifest\.json|sos_commands/host/hostname|etc/hostname"
     r"|sos_commands/date/date(?:_--utc)?|etc/os-release|usr/lib/os-release|etc/redhat-release"
     r"|etc/debian_version|sos_commands/dpkg/dpkg_-l|installed-rpms|sos_commands/rpm/package-data"
     r"|sos_commands/rpm/sh_-c_rpm_--nodigest_-qa_--qf_[^/]*"
     r"|sos_commands/process/ps_auxwww|sos_commands/process/ps_auxfwww"
     r"|sos_commands/(?:podman|docker)/(?:podman|docker)_ps(?:_-a)?"
     r"|sos_commands/(?:podman|docker)/(?:podman|docker)_images"),
    # logs (sources/logs.py), streamed
    ("nova_log", STREAM,
     r"var/log/(?:containers/nova|kolla/nova|nova)/nova-compute\.log(?:\.\d+)?"),
    ("qemu_log", STREAM, r"var/log/(?:containers/libvirt|libvirt)/qemu/[^/]+\.log"),
]

_MODE = {tag: mode for tag, mode, _ in PATTERNS}
_RX = re.compile("(?:%s)\\Z" % "|".join("(?P<%s>%s)" % (tag, rx) for tag, _, rx in PATTERNS))

# Directories that may hold a wanted member: lets a directory walk prune /proc, /sys, /usr ...
_PREFIXES = (
    "sos_commands/libvirt_guests/", "sos_strings/libvirt_guests/", "sos_commands/virsh/",
    "sos_commands/libvirt/", "sos_commands/host/", "sos_commands/date/", "sos_commands/dpkg/",
    "sos_commands/rpm/", "sos_commands/process/", "sos_commands/podman/", "sos_commands/docker/",
    "sos_reports/", "etc/libvirt/qemu/", "run/libvirt/qemu/", "var/run/libvirt/qemu/",
    "var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu/",
    "var/lib/config-data/nova_libvirt/etc/libvirt/qemu/", "var/log/nova/",
    "var/log/containers/nova/", "var/log/kolla/nova/", "var/log/libvirt/qemu/",
    "var/log/containers/libvirt/qemu/", "usr/lib/",
)
# Of those, the ones whose whole subtree may matter (the plugin writes one folder per libvirt).
_DEEP = ("sos_commands/libvirt_guests/", "sos_strings/libvirt_guests/")


def want(relpath: str) -> Optional[tuple[str, str]]:
    """(tag, mode) for a member the analyzer reads, None for one it passes over."""
    m = _RX.match(relpath)
    if m is None:
        return None
    tag = m.lastgroup
    assert tag is not None
    return tag, _MODE[tag]


def may_contain(reldir: str) -> bool:
    """Could a directory (relative, no trailing slash; "" is the root) hold a wanted member?"""
    if not reldir:
        return True
    d = reldir + "/"
    return any(p.startswith(d) for p in _PREFIXES) or any(d.startswith(p) for p in _DEEP)
