"""Each instance's story: one list of events across hosts and reports, in UTC, with migrations
paired from both sides. Pure functions over the model: no I/O.

Clocks: qemu and libvirt log in UTC; nova-compute logs its process's local time with no zone, so
its times are converted with the offset the report's own clock gives (`Report.utc_offset`).
Where that is unknown the event keeps its local time, without `Z`, and `time_is_utc` is false:
clocks are never mixed silently.

The same log line is in every report of a host taken while the file still held it: an event is
kept once per host (the first report that has it gives the evidence).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Iterable, Optional

from analyzer.case import Case
from analyzer.model import (Event, EventEvidence, Guest, Instance, InstanceHost, LogEvent, Migration,
                            Observation, Person, Report)

MAX_EVENTS = 300  # per instance; the rest are counted in events_left_out
PAIR_WINDOW = timedelta(minutes=30)  # the two sides of one migration are logged this close
_SOURCE_SIDE = {"migration-started", "migration-progress", "migration-completed", "migration-failed"}
_ORDER = {k: i for i, k in enumerate(("created", "claimed", "qemu-started", "migrated-in", "spawned", "started"))}


def _parse(t: Optional[str]) -> Optional[datetime]:
    if not t:
        return None
    try:
        return datetime.fromisoformat(t.rstrip("Z")[:26])
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _offset_minutes(offset: Optional[str]) -> Optional[int]:
    """Minutes east of UTC.

    >>> _offset_minutes("+05:30"), _offset_minutes("-01:00"), _offset_minutes(None)
    (330, -60, None)
    """
    if not offset:
        return None
    m = re.match(r"([+-])(\d\d):(\d\d)$", offset)
    if not m:
        return None
    n = int(m.group(2)) * 60 + int(m.group(3))
    return -n if m.group(1) == "-" else n


def to_utc(time: Optional[str], clock: str, offset: Optional[str]) -> tuple[Optional[str], bool]:
    """(ISO time, is it UTC) of a log time on the given clock.

    >>> to_utc("2025-11-19T09:59:45.123", "local", "+01:00")
    ('2025-11-19T08:59:45.123Z', True)
    >>> to_utc("2025-11-19T09:59:45", "local", None)
    ('2025-11-19T09:59:45', False)
    >>> to_utc("2025-11-19T08:59:45", "utc", None)
    ('2025-11-19T08:59:45Z', True)
    """
    if time is None:
        return None, False
    if clock == "utc":
        return time + "Z", True
    minutes = _offset_minutes(offset)
    if minutes == 0:
        return time + "Z", True
    t = _parse(time)
    if minutes is None or t is None:
        return time, False
    u = t - timedelta(minutes=minutes)
    frac = time[19:] if len(time) > 19 else ""
    return u.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z", True


def _host_of(name: Optional[str], hosts: list[str]) -> Optional[str]:
    """The case's host a log line names (nova's CONF.host may be the FQDN or the short name)."""
    if not name:
        return None
    if name in hosts:
        return name
    low = name.lower()
    short = low.split(".")[0]
    for h in hosts:
        hl = h.lower().split(" [")[0]
        if hl == low or hl.split(".")[0] == short:
            return h
    return name


def _sort_key(e: Event) -> tuple:
    return ((e.time or "").rstrip("Z"), e.host or "", _ORDER.get(e.kind, 99), e.kind)


def events_of_case(case: Case, reports: dict[str, Report], per_report_events: dict[str, list[LogEvent]],
                   per_report_guests: dict[str, list[Guest]]) -> dict[str, list[Event]]:
    """uuid -> its events, from every log line, creation time and collection of the case."""
    hosts = [h.name for h in case.hosts]
    out: dict[str, list[Event]] = defaultdict(list)
    seen: set = set()
    for h in case.hosts:
        host = h.name
        for rid in h.reports:
            r = reports[rid]
            guests = per_report_guests.get(rid, [])
            names = {g.domain_name: g.uuid for g in guests if g.domain_name}
            # The common case inline (a report on UTC, or a UTC log): to_utc per event is a call
            # and a cache lookup for each of tens of thousands of events.
            zero = _offset_minutes(r.utc_offset) == 0
            for le in per_report_events.get(rid, []):
                uuid = le.uuid or names.get(le.domain_name or "")
                if uuid is None:
                    continue
                key = (host, le.kind, le.time, le.message)
                if key in seen:
                    continue
                seen.add(key)
                if le.time is not None and (zero or le.clock == "utc"):
                    t, is_utc = le.time + "Z", True
                else:
                    t, is_utc = to_utc(le.time, le.clock, r.utc_offset)
                out[uuid].append(Event(t, is_utc, host, rid, le.kind, _host_of(le.peer_host, hosts), le.message,
                                       EventEvidence(le.path, le.line)))
            for g in guests:
                out[g.uuid].append(Event(time=r.collected_at, time_is_utc=bool(r.collected_at and r.collected_at.endswith("Z")),
                                         host=host, report=rid, kind="collected",
                                         message="sosreport taken: %s" % (g.state or "state unknown"),
                                         evidence=EventEvidence(g.xml_source or (g.sources[0].path if g.sources else ""))))
    for g in case.guests:
        ct = g.nova.creation_time if g.nova else None
        key = (g.uuid, "created", ct)
        if ct and key not in seen:
            seen.add(key)
            out[g.uuid].append(Event(time=ct, time_is_utc=ct.endswith("Z"), host=g.host, report=g.report,
                                     kind="created", message="nova:creationTime %s" % ct,
                                     evidence=EventEvidence(g.xml_source or "")))
    return out


def pair_migrations(events: list[Event]) -> list[Migration]:
    """Sets peer_host on both sides of each migration and lists the migrations, oldest first."""
    migrations: list[Migration] = []
    open_by_source: dict[str, Migration] = {}
    arrivals = [e for e in events if e.kind == "migrated-in" or (e.kind == "qemu-started" and "-incoming" in e.message)]
    for e in events:
        if e.kind not in _SOURCE_SIDE or e.host is None:
            continue
        m = open_by_source.get(e.host)
        if m is None or m.ended is not None:
            m = Migration(source=e.host, destination=e.peer_host, started=e.time)
            open_by_source[e.host] = m
            migrations.append(m)
        m.destination = m.destination or e.peer_host
        if e.kind == "migration-completed":
            m.ended, m.outcome = e.time, "completed"
        elif e.kind == "migration-failed":
            m.ended, m.outcome = e.time, "failed"
    for m in migrations:
        for e in events:
            if e.kind in _SOURCE_SIDE and e.host == m.source and e.peer_host is None and m.destination:
                e.peer_host = m.destination
    used: set = set()
    for a in arrivals:
        at = _parse(a.time)
        best = None
        for m in migrations:
            if m.destination != a.host:
                continue
            mt = _parse(m.ended or m.started)
            if at is not None and mt is not None and abs(at - mt) <= PAIR_WINDOW:
                best = m
                break
        if best is not None:
            a.peer_host = best.source
            used.add(id(best))
        elif a.kind == "migrated-in":
            migrations.append(Migration(source=None, destination=a.host, started=a.time, ended=a.time,
                                        outcome="completed"))
    for e in events:
        if e.kind in ("evacuated", "resize") and e.host:
            migrations.append(Migration(source=e.peer_host, destination=e.host, started=e.time, ended=e.time,
                                        outcome="completed", kind="evacuation" if e.kind == "evacuated" else "cold"))
    migrations.sort(key=lambda m: ((m.started or m.ended or "").rstrip("Z")))
    return migrations


_NEVER_COLLAPSED = {"collected", "created"} | _SOURCE_SIDE | {"migrated-in", "qemu-started"}


def collapse_repeats(events: list[Event]) -> list[Event]:
    """A run of the same event on the same host (a lifecycle message nova logs at every power
    sync, one error again and again) becomes its first entry, counting the rest: a story to read,
    and every distinct moment still in it.

    >>> e = [Event("t%d" % i, True, "h", "r1", "error", message="boom") for i in range(3)]
    >>> [(x.time, x.repeated, x.last_time) for x in collapse_repeats(e)]
    [('t0', 2, 't2')]
    """
    out: list[Event] = []
    for e in events:
        last = out[-1] if out else None
        if (last is not None and e.kind not in _NEVER_COLLAPSED and e.kind == last.kind
                and e.host == last.host and e.message == last.message and e.peer_host == last.peer_host):
            last.repeated += 1 + e.repeated
            last.last_time = e.last_time or e.time
            continue
        out.append(e)
    return out


def _person(p: Optional[Person]) -> Optional[Person]:
    return Person(uuid=p.uuid, name=p.name) if p is not None else None


def instances(case: Case, reports: dict[str, Report], per_report_events: dict[str, list[LogEvent]],
              per_report_guests: dict[str, list[Guest]],
              unattached: Optional[dict[str, list[Observation]]] = None) -> list[Instance]:
    """One instance per UUID seen anywhere in the case: defined on a host, or only named by its logs."""
    by_uuid: dict[str, list[Guest]] = defaultdict(list)
    for g in case.guests:
        by_uuid[g.uuid].append(g)
    events = events_of_case(case, reports, per_report_events, per_report_guests)
    log_hosts: dict[str, set] = defaultdict(set)
    for uuid, es in events.items():
        for e in es:
            if e.host:
                log_hosts[uuid].add(e.host)
    for rid, obs in (unattached or {}).items():
        host = reports[rid].host
        for o in obs:
            if o.uuid and host:
                log_hosts[o.uuid].add(host)
    out = []
    for uuid in sorted(set(by_uuid) | set(log_hosts)):
        guests = by_uuid.get(uuid, [])
        newest = max(guests, key=lambda g: (g.in_latest_report, (reports[g.report].collected_at or "") if g.report else ""),
                     default=None)
        nova = newest.nova if newest else None
        inst = Instance(uuid=uuid, display_name=nova.display_name if nova else None,
                        project=_person(nova.owner.project) if nova and nova.owner else None,
                        user=_person(nova.owner.user) if nova and nova.owner else None)
        defined = {g.host: g for g in guests}
        for host in sorted(set(defined) | log_hosts.get(uuid, set())):
            g = defined.get(host)
            inst.hosts.append(InstanceHost(host=host, state=g.state if g else None,
                                           in_latest_report=bool(g and g.in_latest_report), defined=g is not None))
        es = sorted(events.get(uuid, []), key=_sort_key)
        inst.migrations = pair_migrations(es)
        es = collapse_repeats(es)
        if len(es) > MAX_EVENTS:
            inst.events_left_out = len(es) - MAX_EVENTS
            es = es[:MAX_EVENTS // 2] + es[-(MAX_EVENTS - MAX_EVENTS // 2):]
        inst.events = es
        out.append(inst)
    return out


def last_move_between(inst: Instance, hosts: Iterable[str]) -> Optional[Migration]:
    """The newest migration of `inst` that involves two of these hosts (or ends on one of them)."""
    hs = set(hosts)
    for m in reversed(inst.migrations):
        if m.destination in hs and (m.source in hs or m.source is None):
            return m
    return None
