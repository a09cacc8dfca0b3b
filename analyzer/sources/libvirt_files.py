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

from typing import Mapping, Optional

from analyzer.model import (KIND_CONTAINER_ETC, KIND_CONTAINER_RUN, KIND_ETC, KIND_RUN, Observation, ParseError,
                            Problem, Source)
from analyzer.parsers.domain_xml import parse_kept

_KINDS = {"etc_xml": (KIND_ETC, False), "run_xml": (KIND_RUN, True),
          "container_etc_xml": (KIND_CONTAINER_ETC, False),
          "plugin_etc_xml": (KIND_CONTAINER_ETC, False), "plugin_run_xml": (KIND_CONTAINER_RUN, True)}


def read(files: Mapping[str, bytes], tags: Mapping[str, str], prepared: Optional[Mapping[str, object]] = None
         ) -> tuple[list[Observation], list[Problem]]:
    observations: list[Observation] = []
    problems: list[Problem] = []
    for rel, tag in tags.items():
        if tag not in _KINDS:
            continue
        kind, live = _KINDS[tag]
        try:
            d = parse_kept(files, prepared, rel)
        except ParseError as e:
            problems.append(Problem(path=rel, reason=str(e)))
            continue
        observations.append(Observation(
            source=Source(kind, rel), uuid=d.uuid, domain_name=d.name, live=live, definition=d,
            state=d.status_state if live else None, state_reason=d.status_reason if live else None,
            persistent=True if not live else None, xml=files[rel]))
    return observations, problems
