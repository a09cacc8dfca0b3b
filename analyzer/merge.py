"""Fold every sighting of a guest inside one report into one Guest.

Which source wins for what, and why:
- live values (memory, vCPUs, disks, NICs, Nova metadata) come from the running definition when
  there is one: the plugin's live dumpxml, then sos's virsh dumpxml, then /run's status file. The
  persistent definition (plugin --inactive, then /etc, then the container copy) is used only when
  the guest is not running. Where both exist and disagree, the disagreement is kept in
  `differences` (interface attach/detach updates only the live copy, and resize or hand edits can
  leave the two apart): nothing is silently overwritten.
- state comes from the freshest source that says one (the plugin's summary, `virsh list`, /run's
  `<domstatus>`); when nothing live mentions a persistent guest it was shut off. The reason comes
  from whichever of them carries one for that same state: `virsh list` has none, and a guest that
  /run says is paused for `ioerror` must not lose that to it.
- log lines (nova-compute, qemu) are attached to the guest the other sources found; they never
  make a guest of their own.
- persistence: the plugin says it; otherwise a guest with a persistent definition is persistent,
  and one seen only live is transient, but only in a report where persistent configs were collected
  at all (otherwise we do not know).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Optional

from analyzer.bounds import xml_text
from analyzer.capacity import placement_of
from analyzer.model import (KIND_CONTAINER_ETC, KIND_CONTAINER_RUN, KIND_ETC, KIND_PLUGIN_INACTIVE,
                            KIND_PLUGIN_LIVE, KIND_PLUGIN_SUMMARY, KIND_RUN, KIND_VIRSH_DUMPXML,
                            KIND_VIRSH_LIST, DomainDef, Difference, Guest, Observation, Problem,
                            Source)

_LIVE_ORDER = (KIND_PLUGIN_LIVE, KIND_VIRSH_DUMPXML, KIND_RUN, KIND_CONTAINER_RUN)
_PERSISTENT_ORDER = (KIND_PLUGIN_INACTIVE, KIND_ETC, KIND_CONTAINER_ETC, KIND_VIRSH_DUMPXML)
_STATE_ORDER = (KIND_PLUGIN_SUMMARY, KIND_VIRSH_LIST, KIND_RUN, KIND_CONTAINER_RUN)
_PERSISTENT_KINDS = (KIND_PLUGIN_INACTIVE, KIND_ETC, KIND_CONTAINER_ETC)


def _pick(obs: list[Observation], order: tuple[str, ...], live: Optional[bool]) -> Optional[Observation]:
    for kind in order:
        for o in obs:
            if o.source.kind == kind and o.definition is not None and (live is None or o.live is live):
                return o
    return None


def _disk_key(d) -> str:
    return "%s=%s" % (d.target or "?", d.source or "")


def _nic_key(i) -> str:
    return "%s@%s" % ((i.mac or "?").lower(), i.source or "")


def _ports(nova) -> list[str]:
    if nova is None:
        return []
    return sorted("%s %s" % (p.uuid or "?", ",".join(sorted(ip.address or "" for ip in p.ips))) for p in nova.ports)


def differences(live: Observation, persistent: Observation) -> list[Difference]:
    a: DomainDef = live.definition  # type: ignore[assignment]
    b: DomainDef = persistent.definition  # type: ignore[assignment]
    pairs: list[tuple[str, Any, Any]] = [
        ("memory_mb", a.memory_mb, b.memory_mb),
        ("vcpus", a.vcpus, b.vcpus),
        ("disks", sorted(_disk_key(d) for d in a.disks if d.kind != "cdrom"),
         sorted(_disk_key(d) for d in b.disks if d.kind != "cdrom")),
        ("interfaces", sorted(_nic_key(i) for i in a.interfaces), sorted(_nic_key(i) for i in b.interfaces)),
        ("nova.ports", _ports(a.nova), _ports(b.nova)),
        ("nova.flavor", a.nova.flavor.name if a.nova and a.nova.flavor else None,
         b.nova.flavor.name if b.nova and b.nova.flavor else None),
    ]
    out = []
    for name, x, y in pairs:
        if x is None or y is None or x == y:
            continue
        out.append(Difference(field=name, live=x, persistent=y,
                              live_source=live.source.path, persistent_source=persistent.source.path))
    return out


def merge(report_id: str, host: Optional[str], observations: list[Observation]
          ) -> tuple[list[Guest], list[Problem], list[Observation]]:
    """One Guest per UUID, the problems of sightings that name no guest, and the log sightings of
    instances no other source of this report holds (an instance that left this host)."""
    problems: list[Problem] = []
    logs = [o for o in observations if o.is_log]
    observations = [o for o in observations if not o.is_log]
    name_to_uuid: dict[str, str] = {}
    for o in observations:
        if o.uuid and o.domain_name:
            name_to_uuid.setdefault(o.domain_name, o.uuid)

    def uuid_of(o: Observation) -> Optional[str]:
        return o.uuid or (name_to_uuid.get(o.domain_name) if o.domain_name else None)

    by_uuid: dict[str, list[Observation]] = defaultdict(list)
    for o in observations:
        uuid = uuid_of(o)
        if uuid is None:
            if o.definition is not None:
                why = "domain XML has no <uuid>: the guest cannot be identified"
            else:
                why = "domain %r is listed but no XML of it was found, so its UUID is unknown" % (o.domain_name,)
            problems.append(Problem(path=o.source.path, reason=why))
            continue
        by_uuid[uuid].append(o)
    persistent_collected = any(o.source.kind in _PERSISTENT_KINDS for o in observations)
    guests = [_guest(report_id, host, uuid, obs, persistent_collected) for uuid, obs in by_uuid.items()]
    by_guest = {g.uuid: g for g in guests}
    unattached = []
    for o in sorted(logs, key=lambda o: (o.source.kind, o.source.path)):
        g = by_guest.get(uuid_of(o) or "")
        if g is None:
            unattached.append(o)
            continue
        g.logs.nova_compute = g.logs.nova_compute or o.nova_log
        g.logs.qemu = g.logs.qemu or o.qemu_log
    guests.sort(key=lambda g: (g.domain_name or "", g.uuid))
    return guests, problems, unattached


def _guest(report_id: str, host: Optional[str], uuid: str, obs: list[Observation],
           persistent_collected: bool) -> Guest:
    # Archive member order differs between a tree and a tarball: sort so the result never does.
    obs = sorted(obs, key=lambda o: (o.source.kind, o.source.path))
    live = _pick(obs, _LIVE_ORDER, True)
    persistent = _pick(obs, _PERSISTENT_ORDER, False)
    main = live or persistent
    d = main.definition if main else None
    g = Guest(uuid=uuid, host=host, report=report_id)
    g.sources = []
    for o in obs:
        s = Source(o.source.kind, o.source.path)
        if s not in g.sources:
            g.sources.append(s)
    g.domain_name = (d.name if d else None) or next((o.domain_name for o in obs if o.domain_name), None)

    sayers = [o for k in _STATE_ORDER for o in obs if o.source.kind == k and o.state]
    if sayers:
        g.state = sayers[0].state
        g.state_reason = next((o.state_reason for o in sayers if o.state == g.state and o.state_reason), None)
    elif live is not None and live.definition and live.definition.status_state:
        g.state, g.state_reason = live.definition.status_state, live.definition.status_reason
    elif live is not None:
        g.state = "running"  # a live document with a domain id: it was active
    elif persistent is not None:
        g.state = "shut off"

    summary = next((o for o in obs if o.source.kind == KIND_PLUGIN_SUMMARY and o.persistent is not None), None)
    if summary is not None:
        g.persistent = summary.persistent
    elif (persistent is not None and persistent.source.kind in _PERSISTENT_KINDS) or g.state == "shut off":
        g.persistent = True  # only a persistent domain can exist while shut off
    elif persistent_collected:
        g.persistent = False
    if d is not None:
        g.memory_mb = d.memory_mb
        g.vcpus = d.vcpus
        g.disks = list(d.disks)
        g.interfaces = list(d.interfaces)
        g.nova = d.nova
    if g.nova is None:
        g.nova = next((o.summary_nova for o in obs if o.summary_nova is not None), None)
    if d is not None:
        g.placement = placement_of(d, g.nova)
    if live is not None and persistent is not None:
        g.differences = differences(live, persistent)
        if persistent.definition and persistent.definition.nova and persistent.definition.nova != g.nova:
            g.nova_persistent = persistent.definition.nova
    g.display_name = g.nova.display_name if g.nova else None
    if main is not None:
        g.xml, g.xml_source = xml_text(main.xml)[0] if main.xml is not None else None, main.source.path
    return g
