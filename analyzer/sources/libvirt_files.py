"""libvirt's own files, copied by sos's stock `libvirt` plugin (every sos version, every distro).

    etc/libvirt/qemu/instance-00000001.xml      persistent config (starts with a WARNING comment)
    run/libvirt/qemu/instance-00000001.xml      live status, only while the domain is active:
        <domstatus state='running' reason='booted' pid='4242'> ... <domain type='kvm' id='1'> ...
    var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu/*.xml   TripleO's container copy
    sos_commands/libvirt_guests/container_NAME/files/{etc,run}/*.xml   a container's own files, copied
        by this project's plugin when virsh failed inside it (Kolla keeps them in a named volume)

A Debian sos 4.0 report has only these (its virsh plugin never runs), so they alone must give every
guest and its state: /run's `<domstatus>` says running/paused/...; a persistent domain with no /run
file is shut off (inferred in `merge`).
"""

from __future__ import annotations

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import KIND_CONTAINER_ETC, KIND_CONTAINER_RUN, KIND_ETC, KIND_RUN, Observation, Source
from analyzer.parsers import domain_xml
from analyzer.sources.base import Readout, View, domain

_XML = r"[^/]+\.xml"
_TRIPLEO = "var/lib/config-data/%snova_libvirt/etc/libvirt/qemu/"


def _wanted(tag: str, pattern: str, dirs: tuple[str, ...], example: str, deep: bool = False) -> Wanted:
    return Wanted(tag, BYTES, pattern + _XML, dirs, deep=deep, example=example, prepare=domain_xml.prepare)


MEMBERS = (
    _wanted("etc_xml", r"etc/libvirt/qemu/", ("etc/libvirt/qemu/",), "etc/libvirt/qemu/instance-00000001.xml"),
    _wanted("run_xml", r"(?:var/)?run/libvirt/qemu/", ("run/libvirt/qemu/", "var/run/libvirt/qemu/"),
            "run/libvirt/qemu/instance-00000001.xml"),
    _wanted("container_etc_xml", _TRIPLEO % "(?:puppet-generated/)?", (_TRIPLEO % "puppet-generated/", _TRIPLEO % ""),
            (_TRIPLEO % "puppet-generated/") + "instance-00000001.xml"),
    # a container's own files, copied by this project's plugin when virsh failed inside it
    _wanted("plugin_etc_xml", r"sos_commands/libvirt_guests/container_[^/]+/files/etc/",
            ("sos_commands/libvirt_guests/",), "sos_commands/libvirt_guests/container_nova_libvirt/files/etc/i-1.xml",
            deep=True),
    _wanted("plugin_run_xml", r"sos_commands/libvirt_guests/container_[^/]+/files/run/",
            ("sos_commands/libvirt_guests/",), "sos_commands/libvirt_guests/container_nova_libvirt/files/run/i-1.xml",
            deep=True),
)

_KINDS = {"etc_xml": (KIND_ETC, False), "run_xml": (KIND_RUN, True),
          "container_etc_xml": (KIND_CONTAINER_ETC, False),
          "plugin_etc_xml": (KIND_CONTAINER_ETC, False), "plugin_run_xml": (KIND_CONTAINER_RUN, True)}


def read(v: View) -> Readout:
    out = Readout()
    for rel, tag in v.tags.items():
        kind, live = _KINDS[tag]
        d = domain(v, rel, out)
        if d is None:
            continue
        out.observations.append(Observation(
            source=Source(kind, rel), uuid=d.uuid, domain_name=d.name, live=live, definition=d,
            state=d.status_state if live else None, state_reason=d.status_reason if live else None,
            persistent=True if not live else None, xml=v.files[rel]))
    return out
