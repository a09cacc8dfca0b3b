"""The HTML support report: one self-contained page (CSS and JS inline, no external URL).

Reads `Document.to_dict()` only. Everything here prepares plain values for the templates in
templates/ (installed as package data `analyzer.templates`); the templates do the markup.
Jinja2 autoescaping is on for every template: report data is text, never markup. Nothing from a
report is embedded in a script: the page's JS reads the DOM (text and data- attributes).

The page stays light whatever the case size: each instance's detail (its story and every host's
guest detail, raw XML and log lines included) is rendered by the same templates, and on a big case
kept gzip-compressed in a data- attribute of its section, expanded by the page's JS when the detail
is opened. On a small case the details are in the page as they are, readable without script.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections import Counter, OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import jinja2
from markupsafe import Markup

from analyzer.correlate import ambiguities
from analyzer.parsers.cpuset import format_cpu_list
from analyzer.model import SEVERITIES

_ENV: Optional[jinja2.Environment] = None

# Above either figure the details are compressed: a page of 1,000 guests stays a few MB and
# a few thousand elements; below both, every detail is in the page, readable without script.
LAZY_INSTANCES = 40
LAZY_BYTES = 1_500_000
# Rows and instances laid out at first; the page's JS lists the rest on demand (script.js WINDOW).
WINDOW = 100


def _load_template(name: str) -> Optional[str]:
    # importlib.resources works for a regular install, an editable install (setup.cfg maps the
    # top-level templates/ directory to `analyzer.templates`) and a zipped package alike.
    from importlib import resources

    if "/" in name or "\\" in name or name.startswith("."):
        return None
    res = resources.files("analyzer.templates").joinpath(name)
    if not res.is_file():
        return None
    return res.read_text(encoding="utf-8")


def environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.FunctionLoader(_load_template),
            autoescape=True,  # every template, whatever its name: data is text
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["dash"] = dash
        env.filters["mib"] = mib
        env.filters["when"] = when
        env.filters["plural"] = plural
        env.filters["value"] = value_text
        _ENV = env
    return _ENV


def dash(value: Any) -> Any:
    """None and empty strings shown as an en dash, everything else as it is."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def plural(n: Any, word: str, many: Optional[str] = None) -> str:
    """"1 guest", "2 guests".

    >>> plural(1, "guest"), plural(0, "guest"), plural(3, "change"), plural(2, "entry", "entries")
    ('1 guest', '0 guests', '3 changes', '2 entries')
    """
    return "%s %s" % (n, word if n == 1 else (many or word + "s"))


def mib(value: Any) -> str:
    """A size in MiB as a person reads it.

    >>> [mib(v) for v in (512, 2048, 1536, None, "lots")]
    ['512 MiB', '2 GiB', '1.5 GiB', '–', 'lots']
    """
    if value is None:
        return "\u2013"
    try:
        n = int(value)
    except (TypeError, ValueError):
        return str(value)
    if n >= 1024 and n % 1024 == 0:
        return "%d GiB" % (n // 1024)
    if n >= 1024:
        return "%.1f GiB" % (n / 1024)
    return "%d MiB" % n


def value_text(value: Any) -> str:
    """A before/after value of a change as one line: lists joined, mappings as key=value.

    >>> value_text(None), value_text(["vda /a", "vdb /b"]), value_text({"name": "m1", "vcpus": 2})
    ('–', 'vda /a, vdb /b', 'name=m1, vcpus=2')
    """
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, value_text(v)) for k, v in value.items()) or "(empty)"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "(none)"
    return str(value)


_ID_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def _slug(text: Any) -> str:
    return _ID_BAD.sub("_", str(text or ""))[:80].strip("_") or "x"


class _Ids:
    """HTML ids derived from host names and UUIDs: only [A-Za-z0-9_-], unique within the page."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, prefix: str, *parts: Any) -> str:
        base = prefix + "-" + "-".join(_slug(p) for p in parts)
        ident, n = base, 1
        while ident in self.used:
            n += 1
            ident = "%s-%d" % (base, n)
        self.used.add(ident)
        return ident


def parse_time(value: Any) -> Optional[datetime]:
    """ISO 8601 ("2015-02-19T18:23:44Z", with or without offset/fraction) -> aware UTC datetime.

    >>> parse_time("2015-02-19T20:23:44.1234567+02:00").isoformat()
    '2015-02-19T18:23:44.123456+00:00'
    >>> parse_time("2015-02-19 18:23:44").isoformat()  # no offset: placed as if UTC
    '2015-02-19T18:23:44+00:00'
    >>> parse_time("yesterday") is None
    True
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # fromisoformat (3.9/3.10) takes at most 6 digits
    text = re.sub(r"(\.\d{1,5})(?=$|[+-])", lambda m: m.group(1).ljust(7, "0"), text)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def _has_zone(value: str) -> bool:
    return bool(re.search(r"(Z|[+-]\d\d:?\d\d)$", value.strip(), re.I))


def when(value: Any, is_utc: Optional[bool] = None) -> str:
    """A time as the page shows it: UTC to the second with Z, or the host's local time said so.

    >>> when("2025-11-19T09:59:45.500+01:00"), when("2025-11-19T08:59:45Z")
    ('2025-11-19 08:59:45Z', '2025-11-19 08:59:45Z')
    >>> when("2025-11-19T09:59:45"), when("2025-11-19T09:59:45Z", is_utc=False), when(None)
    ('2025-11-19 09:59:45 (local)', '2025-11-19 09:59:45 (local)', '–')
    >>> when("not a time")
    'not a time'
    """
    if value is None or value == "":
        return "\u2013"
    t = parse_time(value)
    if t is None:
        return str(value)
    if is_utc is False or (is_utc is None and not _has_zone(str(value))):
        local = re.sub(r"(Z|[+-]\d\d:?\d\d)$", "", str(value).strip()).replace("T", " ")[:19]
        return local + " (local)"
    return t.strftime("%Y-%m-%d %H:%M:%SZ")


def _person(p: Optional[dict]) -> Optional[str]:
    if not p:
        return None
    name, uuid = p.get("name"), p.get("uuid")
    if name and uuid:
        return "%s (%s)" % (name, uuid)
    return name or uuid


def _short(p: Optional[dict]) -> Optional[str]:
    if not p:
        return None
    return p.get("name") or p.get("uuid")


def _match_ports(interfaces: list[dict], ports: list[dict]) -> tuple[list[dict], list[dict]]:
    """Pair libvirt interfaces with Nova ports.

    Nova names the tap device (and the vhost-user socket, and OVS/linux-bridge devices) after the
    first 11 characters of the Neutron port UUID: tapXXXXXXXX-XX, vhuXXXXXXXX-XX.
    """
    used: set[int] = set()
    nics = []
    for nic in interfaces:
        hay = " ".join(str(nic.get(k) or "") for k in ("target_dev", "source")).lower()
        port = None
        for i, p in enumerate(ports):
            pid = (p.get("uuid") or "").lower()
            if i not in used and len(pid) >= 11 and pid[:11] in hay:
                port = p
                used.add(i)
                break
        nics.append({"nic": nic, "port": port})
    unmatched = [p for i, p in enumerate(ports) if i not in used]
    return nics, unmatched


def _ips(port: Optional[dict]) -> str:
    if not port:
        return ""
    out = []
    for ip in port.get("ips") or []:
        addr = ip.get("address")
        if not addr:
            continue
        kind = ip.get("type")
        out.append("%s (%s)" % (addr, kind) if kind and kind != "fixed" else addr)
    return ", ".join(out)


def _query_view(query: Optional[list[dict]]) -> Optional[dict]:
    """The banner of a --guest page: what each term matched and what not to miss about it."""
    if query is None:
        return None
    terms = [{"term": q.get("term"), "matched_by": q.get("matched_by"),
              "count": len(q.get("guests") or []), "suggestions": q.get("suggestions") or [],
              "notes": ambiguities(q)} for q in query]
    return {"terms": terms, "text": ", ".join(str(q.get("term")) for q in query)}


def _state_class(state: Optional[str]) -> str:
    return {"running": "ok", "paused": "warn", "shut off": "off", "crashed": "bad",
            "pmsuspended": "warn", "blocked": "warn", "in shutdown": "warn",
            "dying": "bad"}.get(state or "", "unknown")


# --- time axis and timelines --------------------------------------------------------------------

KIND_CLASS = {
    "created": "life", "claimed": "life", "spawned": "life", "started": "life", "stopped": "life",
    "paused": "life", "resumed": "life", "suspended": "life", "shutdown-by-itself": "life",
    "rebooted": "life", "volume-attached": "life", "volume-detached": "life", "resize": "mig",
    "evacuated": "mig", "rebuilt": "life", "deleted": "life",
    "migration-started": "mig", "migration-progress": "mig", "migration-completed": "mig",
    "migrated-in": "mig", "migration-failed": "err", "error": "err",
    "qemu-started": "qemu", "qemu-stopped": "qemu", "collected": "col",
}
KIND_ORDER = ("err", "mig", "life", "qemu", "col")


class Axis:
    """Times to x positions. When the first events (a creation years ago) are far from the rest
    (a migration this morning), the axis breaks: the early stretch gets a fifth of the width, so
    the recent events are not squashed into one pixel.

    >>> a = Axis([parse_time("2024-01-01T00:00:00Z"), parse_time("2026-11-20T10:00:00Z"),
    ...           parse_time("2026-11-20T11:00:00Z")], 0, 100)
    >>> a.broken, a.x(parse_time("2026-11-20T11:00:00Z"))
    (True, 100.0)
    >>> a.x(parse_time("2024-01-01T00:00:00Z")) < 20 <= a.x(parse_time("2026-11-20T10:00:00Z"))
    True
    """

    def __init__(self, times: list[datetime], left: float, right: float) -> None:
        self.left, self.right = left, right
        ts = sorted(times)
        self.t0, self.t1 = (ts[0], ts[-1]) if ts else (None, None)
        self.broken = False
        self.split: Optional[datetime] = None
        if len(ts) >= 3:
            span = (ts[-1] - ts[0]).total_seconds()
            # the widest gap between consecutive times; break there when it is most of the span
            gap, at = max(((ts[i + 1] - ts[i]).total_seconds(), i) for i in range(len(ts) - 1))
            rest = span - gap
            if span > 0 and gap > 0.8 * span and at >= 0 and rest > 0:
                self.broken = True
                self.split_lo, self.split_hi = ts[at], ts[at + 1]
                pad = max(rest * 0.04, 30.0)
                self.split = ts[at + 1] - timedelta(seconds=pad)
                self.t_hi0 = self.split

    def x(self, t: datetime) -> float:
        if self.t0 is None or self.t1 is None:
            return self.left
        width = self.right - self.left
        if not self.broken:
            span = (self.t1 - self.t0).total_seconds()
            if span <= 0:
                return round(self.left + width / 2, 1)
            return round(self.left + width * (t - self.t0).total_seconds() / span, 1)
        cut = self.left + width * 0.2
        if t <= self.split_lo:
            span = (self.split_lo - self.t0).total_seconds()
            frac = 0.5 if span <= 0 else (t - self.t0).total_seconds() / span
            return round(self.left + (cut - 12 - self.left) * frac, 1)
        span = (self.t1 - self.t_hi0).total_seconds()
        frac = max(0.0, (t - self.t_hi0).total_seconds() / span) if span > 0 else 0.5
        return round(cut + (self.right - cut) * frac, 1)

    def ticks(self) -> list[dict]:
        if self.t0 is None or self.t1 is None:
            return []
        out = []
        if self.broken:
            # the early stretch: its first and last times, kept clear of the recent stretch's labels
            if self.split_lo != self.t0:
                out.append(self._tick(self.t0, "start"))
            out.append(self._tick(self.split_lo, "end" if self.split_lo != self.t0 else "middle"))
            lo, hi, n = self.t_hi0, self.t1, 4
        else:
            lo, hi, n = self.t0, self.t1, 5
        span = (hi - lo).total_seconds()
        if span <= 0:
            out.append(self._tick(lo, "middle"))
            return out
        for k in range(n):
            t = lo + timedelta(seconds=span * k / (n - 1))
            anchor = "end" if k == n - 1 else "start" if k == 0 else "middle"
            out.append(self._tick(t, anchor, span))
        return out

    def _tick(self, t: datetime, anchor: str, span: float = 10 * 86400) -> dict:
        fmt = "%Y-%m-%d %H:%M:%S" if span < 600 else "%Y-%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d"
        return {"x": self.x(t), "label": t.strftime(fmt) + ("Z" if span < 3 * 86400 else ""),
                "anchor": anchor}

    def break_x(self) -> Optional[float]:
        return round(self.left + (self.right - self.left) * 0.2 - 6, 1) if self.broken else None


def _instance_timeline(inst: dict) -> dict:
    """One SVG per instance: a lane per host, its events placed by time, migrations as arrows
    from the source lane to the destination lane."""
    lanes: list[str] = [h["host"] for h in inst["hosts"]]
    for e in inst["events"]:
        for h in (e.get("host"), e.get("peer_host")):
            if h and h not in lanes:
                lanes.append(h)
    for m in inst["migrations"]:
        for h in (m.get("source"), m.get("destination")):
            if h and h not in lanes:
                lanes.append(h)
    placed = [(parse_time(e.get("time")), e) for e in inst["events"]]
    placed = [(t, e) for t, e in placed if t is not None and e.get("host") in lanes]
    mig_times = [parse_time(m.get(k)) for m in inst["migrations"] for k in ("started", "ended")]
    width, left, right, lane_h, top = 1000, 150, 985, 26, 10
    axis = Axis([t for t, _ in placed] + [t for t in mig_times if t], left, right)
    lane_y = {h: top + lane_h * i + lane_h / 2 for i, h in enumerate(lanes)}
    axis_y = top + lane_h * len(lanes) + 2
    # One mark per pixel, lane and kind of event: 300 errors in one minute are one mark saying so
    # (the list under the drawing has every event and its message).
    merged: "OrderedDict[tuple, dict]" = OrderedDict()
    for t, e in placed:
        cls = KIND_CLASS.get(e.get("kind"), "life")
        x, local = axis.x(t), not e.get("time_is_utc", True)
        key = (round(x), e["host"], cls, local)
        if key in merged:
            merged[key]["n"] += 1
            continue
        merged[key] = {"x": x, "y": lane_y[e["host"]], "cls": cls, "local": local, "n": 1,
                       "first": "%s %s %s" % (when(e.get("time"), e.get("time_is_utc")), e.get("host"), e.get("kind"))}
    marks = [dict(mk, title=mk["first"] + ("" if mk["n"] == 1 else " and %d more" % (mk["n"] - 1)))
             for mk in merged.values()]
    arrows = []
    for m in inst["migrations"]:
        s, d = m.get("source"), m.get("destination")
        t0, t1 = parse_time(m.get("started")), parse_time(m.get("ended"))
        t0 = t0 or t1
        t1 = t1 or t0
        if t0 is None or s not in lane_y or d not in lane_y:
            continue
        x0, y0, x1, y1 = axis.x(t0), lane_y[s], axis.x(t1), lane_y[d]
        if x1 - x0 < 8:  # a move of seconds on an axis of days: still an arrow one can see
            x1 = x0 + 8
        dy = 6 if y1 > y0 else -6
        arrows.append({"x0": x0, "y0": y0, "x1": x1, "y1": y1,
                       "head": "%s,%s %s,%s %s,%s" % (x1, y1, x1 - 4, y1 - dy, x1 + 4, y1 - dy),
                       "outcome": m.get("outcome") or "unknown",
                       "title": "%s migration %s \u2192 %s, %s to %s: %s" % (
                           m.get("kind") or "", s, d, when(m.get("started")), when(m.get("ended")),
                           m.get("outcome") or "unknown")})
    return {"width": width, "height": axis_y + 24, "left": left, "right": right, "axis_y": axis_y,
            "label_y": axis_y + 15, "lanes": [{"label": h, "y": lane_y[h]} for h in lanes],
            "marks": marks, "arrows": arrows, "ticks": axis.ticks(), "break_x": axis.break_x(),
            "local": any(mk["local"] for mk in marks), "unplaced": len(inst["events"]) - len(placed)}


def _case_timeline(instances: list[dict], hosts: list[str]) -> dict:
    """Every instance's events on one SVG, a lane per host: one link per instance holding a dotted
    path per kind of event (a few elements per instance, however many events) and its moves."""
    lanes = list(hosts)
    for inst in instances:
        for e in inst["events"]:
            if e.get("host") and e["host"] not in lanes:
                lanes.append(e["host"])
    placed = [(inst, parse_time(e.get("time")), e) for inst in instances for e in inst["events"]]
    placed = [p for p in placed if p[1] is not None and p[2].get("host") in lanes]
    width, left, right, lane_h, top = 1000, 150, 985, 26, 10
    axis = Axis([t for _, t, _ in placed], left, right)
    lane_y = {h: top + lane_h * i + lane_h / 2 for i, h in enumerate(lanes)}
    axis_y = top + lane_h * len(lanes) + 2
    per: "OrderedDict[str, dict]" = OrderedDict()
    for inst, t, e in placed:
        item = per.setdefault(inst["uuid"], {"uuid": inst["uuid"], "id": inst["id"], "title": inst["label"],
                                             "dots": {}, "moves": []})
        cls = KIND_CLASS.get(e.get("kind"), "life")
        item["dots"].setdefault(cls, set()).add((round(axis.x(t)), lane_y[e["host"]]))
    for inst in instances:
        for m in inst["migrations"]:
            t0, t1 = parse_time(m.get("started")), parse_time(m.get("ended"))
            t0 = t0 or t1
            t1 = t1 or t0
            s, d = m.get("source"), m.get("destination")
            if t0 is None or s not in lane_y or d not in lane_y or inst["uuid"] not in per:
                continue
            x0, x1 = axis.x(t0), axis.x(t1)
            per[inst["uuid"]]["moves"].append("M%s %sL%s %s" % (x0, lane_y[s], max(x1, x0 + 6), lane_y[d]))
    items = []
    for item in per.values():
        paths = [{"cls": c, "d": "".join("M%d %sh0" % p for p in sorted(item["dots"][c]))}
                 for c in reversed(KIND_ORDER) if c in item["dots"]]
        items.append({"uuid": item["uuid"], "id": item["id"], "title": item["title"], "paths": paths,
                      "moves": "".join(item["moves"])})
    return {"width": width, "height": axis_y + 24, "left": left, "right": right, "axis_y": axis_y,
            "label_y": axis_y + 15, "lanes": [{"label": h, "y": lane_y[h]} for h in lanes],
            "marks": items, "ticks": axis.ticks(), "break_x": axis.break_x(),
            "events": len(placed), "local": any(not e.get("time_is_utc", True) for _, _, e in placed)}


# --- the view -----------------------------------------------------------------------------------

CODE_TITLES = {
    "uuid-on-multiple-hosts": "one instance defined on several hosts",
    "abnormal-state": "state that needs a look",
    "disk-shared": "one disk in several instances' definitions",
    "port-shared": "one Neutron port in several instances' metadata",
    "mac-shared": "one MAC address on several instances",
    "nova-version-mismatch": "booted by another Nova than the one installed",
    "flavor-resource-mismatch": "flavor and domain disagree on memory or vCPUs",
    "config-drift": "live and persistent definitions differ",
    "nova-log-errors": "nova-compute ERROR lines name the instance",
    "transient-nova-guest": "Nova guest that is not persistent",
    "no-nova-metadata": "guest without Nova metadata on a nova-compute host",
    "display-name-shared": "several instances share a display name",
}


def build_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates show, as plain values: they never see the document itself."""
    reports = doc.get("reports") or []
    findings = doc.get("findings") or []
    ids = _Ids()
    by_report = {r["id"]: r for r in reports}
    hosts = _hosts(doc.get("hosts") or [], reports, doc.get("guests") or [])
    host_latest = {h["name"]: h["latest_report"] for h in hosts}
    inst_ids: dict[str, str] = {}

    def anchor(uuid: str) -> str:
        if uuid not in inst_ids:
            inst_ids[uuid] = ids.make("guest", uuid)
        return inst_ids[uuid]

    by_guest: dict[str, list[dict]] = {}
    for f in findings:
        for u in f.get("guests") or []:
            by_guest.setdefault(u, []).append(f)
    guests = [_guest_view(g, by_report, host_latest, by_guest.get(g.get("uuid") or "", []), anchor)
              for g in doc.get("guests") or []]
    instances = _instances(doc.get("instances") or [], guests, anchor)
    names: dict[str, list[str]] = {}
    for inst in instances:
        if inst["name"]:
            names.setdefault(inst["name"], []).append(inst["uuid"])
    for inst in instances:
        inst["same_name"] = len(names.get(inst["name"], [])) if inst["name"] else 0
    inst_by_uuid = {i["uuid"]: i for i in instances}
    for v in guests:
        inst = inst_by_uuid.get(v["uuid"])
        v["same_name"] = inst["same_name"] if inst else 0
        v["other_hosts"] = [h["host"] for h in (inst["hosts"] if inst else []) if h["host"] != v["host"]]
    groups = _finding_groups(findings, inst_by_uuid, ids)
    for h in hosts:
        h["id"] = ids.make("host", h["name"])
        mine = [g for g in guests if g["host"] == h["name"]]
        current = Counter(g["state"] or "unknown" for g in mine if not g["gone"])
        h["states"] = sorted(current.items(), key=lambda kv: (-kv[1], kv[0]))
        h["guest_count"] = sum(current.values())
        h["gone"] = sum(1 for g in mine if g["gone"])
        latest = by_report.get(h["latest_report"] or "") or {}
        h["capacity"] = _capacity_view(latest, [g for g in mine if g["report"] == h["latest_report"]])
        h["troubles"] = list((latest.get("collection") or {}).get("troubles") or [])
    changes = _changes(doc.get("changes") or [], hosts, inst_by_uuid, by_report)
    total = doc.get("total_guests")
    states = Counter(v["state"] or "unknown" for v in guests if not v["gone"])
    severities = Counter(f.get("severity") for f in findings)
    sev_order = list(SEVERITIES) + sorted(s for s in severities if s not in SEVERITIES)
    view = {
        "generated_by": doc.get("generated_by") or {},
        "hosts": hosts,
        "report_count": sum(1 for r in reports if not r.get("duplicate_of")),
        "duplicate_count": sum(1 for r in reports if r.get("duplicate_of")),
        "guests": guests,
        "instances": instances,
        "states": [(s, states[s], _state_class(s)) for s in sorted(states, key=lambda s: (-states[s], s))],
        "gone": sum(1 for v in guests if v["gone"]),
        "severities": [(s, severities.get(s, 0)) for s in sev_order],
        "finding_count": len(findings),
        "groups": groups,
        "changes": changes,
        "change_count": sum(len(c["rows"]) for c in changes),
        "problems": [(h["name"], r["label"], p) for h in hosts for r in h["reports"] for p in r["problems"]],
        "errors": doc.get("errors") or [],
        "query": _query_view(doc.get("query")),
        # never fewer than the page shows (a hand-made document may leave it at 0)
        "total_guests": max(total, len(guests)) if isinstance(total, int) else len(guests),
        "timeline": _case_timeline(instances, [h["name"] for h in hosts]),
        "schema_version": doc.get("schema_version"),
        "window": WINDOW,
    }
    _bodies(view)
    return view


def _hosts(hosts: list[dict], reports: list[dict], guests: list[dict]) -> list[dict]:
    """Hosts as the document gives them, each with its reports oldest first and the duplicates
    given for it; a report or a guest naming no known host still gets one (hand-made documents)."""
    by_id = {r["id"]: r for r in reports}
    out: "OrderedDict[str, dict]" = OrderedDict()
    for h in hosts:
        out[h["name"]] = {"name": h["name"], "hostname": h.get("hostname"), "machine_id": h.get("machine_id"),
                          "report_ids": [rid for rid in h.get("reports") or [] if rid in by_id],
                          "latest_report": h.get("latest_report")}
    placed = {rid for h in out.values() for rid in h["report_ids"]}
    for r in reports:
        if r["id"] in placed or r.get("duplicate_of"):
            continue
        name = r.get("host") or r.get("hostname") or r["id"]
        h = out.setdefault(name, {"name": name, "hostname": r.get("hostname"), "machine_id": r.get("machine_id"),
                                  "report_ids": [], "latest_report": None})
        h["report_ids"].append(r["id"])
        h["latest_report"] = r["id"]
    for g in guests:
        name = g.get("host") or (by_id.get(g.get("report")) or {}).get("host")
        if not name and g.get("report") in by_id:
            name = by_id[g["report"]].get("hostname") or g["report"]
        if name and name not in out:
            out[name] = {"name": name, "hostname": None, "machine_id": None, "report_ids": [], "latest_report": None}
    dups: dict[str, list[dict]] = {}
    for r in reports:
        if r.get("duplicate_of"):
            orig = by_id.get(r["duplicate_of"]) or {}
            name = r.get("host") or orig.get("host") or orig.get("hostname")
            if name not in out:
                name = next((n for n, h in out.items() if r["duplicate_of"] in h["report_ids"]), name or r["id"])
                out.setdefault(name, {"name": name, "hostname": None, "machine_id": None, "report_ids": [],
                                      "latest_report": None})
            dups.setdefault(name, []).append(r)
    views = []
    for name, h in out.items():
        latest = by_id.get(h["latest_report"] or "") or (by_id[h["report_ids"][-1]] if h["report_ids"] else {})
        rows = [_report_view(by_id[rid], rid == h["latest_report"]) for rid in h["report_ids"]]
        rows += [_report_view(r, False) for r in dups.get(name, [])]
        pk = latest.get("packages") or {}
        views.append({
            "name": name, "hostname": h["hostname"], "machine_id": h["machine_id"],
            "latest_report": h["latest_report"] or (h["report_ids"][-1] if h["report_ids"] else None),
            "reports": rows, "read_count": len(h["report_ids"]),
            "os": latest.get("os"), "nova_compute": latest.get("nova_compute"),
            "nova_compute_evidence": latest.get("nova_compute_evidence"),
            "utc_offset": latest.get("utc_offset"),
            "packages": {k: pk.get(k) for k in ("nova", "libvirt", "qemu")},
        })
    return views


def _report_view(r: dict, latest: bool) -> dict:
    offset = r.get("utc_offset")
    return {"id": r["id"], "label": r.get("hostname") or r["id"], "path": r.get("path"),
            "collected": when(r.get("collected_at"), None if offset else (False if r.get("collected_at") and
                                                                          not _has_zone(r["collected_at"]) else None)),
            "utc_offset": offset, "sos_version": r.get("sos_version"), "guest_count": r.get("guest_count") or 0,
            "problems": r.get("problems") or [], "duplicate_of": r.get("duplicate_of"), "latest": latest}


def _root_label(nova: dict) -> Optional[str]:
    root = nova.get("root") or {}
    image = nova.get("image") or {}
    if root.get("type") or root.get("uuid"):
        return "%s %s" % (root.get("type") or "?", root.get("uuid") or "")
    if image.get("uuid"):
        return "image %s" % image["uuid"]
    return None


def _search_text(g: dict) -> str:
    """What the filter box also finds in a row without a column for it: IPs, MACs, ports, devices
    and the owner/image/root UUIDs (a data- attribute, read by the page's JS)."""
    nova = g.get("nova") or {}
    owner = nova.get("owner") or {}
    ports = nova.get("ports") or []
    extra = [ip.get("address") for p in ports for ip in p.get("ips") or []]
    extra += [p.get("uuid") for p in ports]
    extra += [n.get(k) for n in g.get("interfaces") or [] for k in ("mac", "target_dev", "source")]
    extra += [(owner.get("project") or {}).get("uuid"), (owner.get("user") or {}).get("uuid"),
              (nova.get("image") or {}).get("uuid"), (nova.get("root") or {}).get("uuid"),
              (nova.get("flavor") or {}).get("id"), g.get("state_reason"), g.get("report")]
    extra += [d.get(k) for d in g.get("disks") or [] for k in ("source", "serial")]
    return " ".join(str(x) for x in extra if x not in (None, ""))


def _guest_view(g: dict, by_report: dict[str, dict], host_latest: dict[str, Optional[str]],
                findings: list[dict], anchor: Any) -> dict[str, Any]:
    """One guest on one host: the table row and that host's part of its instance's detail."""
    nova = g.get("nova") or {}
    flavor = nova.get("flavor") or {}
    owner = nova.get("owner") or {}
    logs = g.get("logs") or {}
    rep = by_report.get(g.get("report") or "") or {}
    nics, unmatched = _match_ports(g.get("interfaces") or [], nova.get("ports") or [])
    for n in nics:
        n["ips"] = _ips(n["port"])
        n["ovs"] = n["nic"].get("ovs")
        n["ovs_missing"] = n["nic"].get("ovs_missing_reason")
    host = g.get("host") or rep.get("host") or rep.get("hostname") or g.get("report") or "?"
    gone = g.get("in_latest_report") is False
    seen = [r for r in g.get("reports") or [] if r in by_report] or ([g["report"]] if g.get("report") else [])
    return {
        "uuid": g.get("uuid") or "",
        "id": anchor(g.get("uuid") or ""),
        "host": host,
        "report": g.get("report"),
        "seen_in": seen,
        "collected": _report_view(rep, False)["collected"] if rep else "\u2013",
        "gone": gone,
        "gone_since": host_latest.get(host) if gone else None,
        "domain_name": g.get("domain_name"),
        "name": g.get("display_name") or nova.get("display_name"),
        "state": g.get("state"),
        "state_reason": g.get("state_reason"),
        "state_class": _state_class(g.get("state")),
        "persistent": g.get("persistent"),
        "flavor": flavor.get("name"),
        # the table falls back on the flavor's figures; the detail shows the domain's own
        "vcpus": g.get("vcpus") if g.get("vcpus") is not None else flavor.get("vcpus"),
        "memory_mb": g.get("memory_mb") if g.get("memory_mb") is not None else flavor.get("memory_mb"),
        "domain_vcpus": g.get("vcpus"),
        "domain_memory_mb": g.get("memory_mb"),
        "project": _person(owner.get("project")),
        "user": _person(owner.get("user")),
        "project_short": _short(owner.get("project")),
        "user_short": _short(owner.get("user")),
        "root": _root_label(nova),
        "nova_version": nova.get("package_version"),
        "created": nova.get("creation_time"),
        "nova": g.get("nova"),
        "nova_persistent": g.get("nova_persistent"),
        "disks": [dict(d, dev=_device_view(d.get("device"))) for d in g.get("disks") or []],
        "placement": _placement_view(g.get("placement")),
        "pins": _pins_of(g.get("placement")),
        "nics": nics,
        "unmatched_ports": unmatched,
        "differences": g.get("differences") or [],
        "sources": g.get("sources") or [],
        "xml": g.get("xml"),
        "xml_source": g.get("xml_source"),
        "qemu_log": logs.get("qemu") or None,
        "nova_log": logs.get("nova_compute") or None,
        "findings": findings,
        "worst": _worst(findings),
        "search": _search_text(g),
    }


# --- the host under the guests --------------------------------------------------------------------

PALETTE = 8  # pinned guests' colours (style.css .pc0 .. .pc7); a ninth guest reuses the first


def cpus_text(cpus: Any) -> str:
    """A CPU list as nova.conf writes one; None is "unset".

    >>> cpus_text([0, 1, 2, 5]), cpus_text(None), cpus_text([])
    ('0-2,5', 'unset', 'none')
    """
    if cpus is None:
        return "unset"
    try:
        return format_cpu_list(sorted(int(c) for c in cpus)) or "none"
    except (TypeError, ValueError):
        return str(cpus)


def _int_list(x: Any) -> list[int]:
    out = []
    for c in x or []:
        try:
            out.append(int(c))
        except (TypeError, ValueError):
            continue
    return out


def _pins_of(p: Optional[dict]) -> list[tuple[int, str]]:
    """(host CPU, what of the guest runs there): "vCPU 0", "emulator"."""
    if not p:
        return []
    out = []
    for vcpu, cpus in sorted((p.get("vcpu_pins") or {}).items(), key=lambda kv: _sort_key(kv[0])):
        out += [(c, "vCPU %s" % vcpu) for c in _int_list(cpus)]
    out += [(c, "emulator") for c in _int_list(p.get("emulator_pins"))]
    return out


def _sort_key(x: Any) -> tuple[int, str]:
    try:
        return (int(x), "")
    except (TypeError, ValueError):
        return (1 << 30, str(x))


def page_text(kib: Any) -> str:
    """A hugepage size: "2 MiB", "1 GiB"; 0 is libvirt's "the host's default size".

    >>> page_text("2048"), page_text(1048576), page_text(0), page_text(64)
    ('2 MiB', '1 GiB', 'host default size', '64 KiB')
    """
    try:
        n = int(kib)
    except (TypeError, ValueError):
        return str(kib)
    if n == 0:
        return "host default size"
    if n >= 1024 and n % 1024 == 0:
        return mib(n // 1024)
    return "%d KiB" % n


def _placement_view(p: Optional[dict]) -> Optional[dict]:
    if not p:
        return None
    pins = [{"vcpu": v, "cpus": cpus_text(c)}
            for v, c in sorted((p.get("vcpu_pins") or {}).items(), key=lambda kv: _sort_key(kv[0]))]
    kib = p.get("hugepage_kib")
    return {"cpu_policy": p.get("cpu_policy"), "pins": pins,
            "emulator": cpus_text(p["emulator_pins"]) if p.get("emulator_pins") is not None else None,
            "numa_nodes": cpus_text(p["numa_nodes"]) if p.get("numa_nodes") is not None else None,
            "hugepages": page_text(kib) if kib is not None else None,
            "mem_page_size": p.get("mem_page_size"), "numa_node_count": p.get("numa_node_count")}


def _device_view(dev: Optional[dict]) -> Optional[dict]:
    if not dev:
        return None
    mp = dev.get("multipath") or None
    present = dev.get("present")
    view = {"path": dev.get("path"), "present": None if present is None else bool(present),
            "listing": dev.get("listing"), "multipath": None, "iscsi": None,
            "iscsi_missing": dev.get("iscsi_missing_reason")}
    if mp:
        active, total = mp.get("paths_active"), mp.get("paths_total")
        view["multipath"] = {"name": mp.get("name"), "active": active, "total": total,
                             "dead": active == 0, "paths": ", ".join(str(p) for p in mp.get("paths") or []),
                             "source": mp.get("source")}
    sc = dev.get("iscsi") or None
    if sc:
        view["iscsi"] = {"target": sc.get("target"), "portal": sc.get("portal"), "state": sc.get("state"),
                         "disk": sc.get("disk"), "disk_state": sc.get("disk_state"),
                         "bad": sc.get("state") not in (None, "LOGGED_IN")}
    return view


def _capacity_view(rep: dict, guests: list[dict]) -> Optional[dict]:
    """The host card's capacity from its newest report: the figures, one row of CPU boxes per NUMA
    node (pinned CPUs coloured by guest, the CPU sets marked) and a hugepage bar per node and size."""
    cap = rep.get("capacity")
    if not cap:
        return None
    c = cap.get("committed") or {}
    dedicated = set(_int_list(cap.get("cpu_dedicated_set")))
    shared = set(_int_list(cap.get("cpu_shared_set")))
    pin_set = set(_int_list(cap.get("vcpu_pin_set")))
    owners: dict[int, list[tuple[int, str]]] = {}
    legend = []
    for g in guests:
        pins = g["pins"]
        if not pins:
            continue
        k = len(legend)
        legend.append({"name": g["name"] or g["domain_name"] or g["uuid"], "id": g["id"], "uuid": g["uuid"],
                       "cls": "pc%d" % (k % PALETTE), "state": g["state"],
                       "cpus": cpus_text(sorted({cpu for cpu, _ in pins}))})
        for cpu, what in pins:
            owners.setdefault(cpu, []).append((k, what))
    nodes = cap.get("numa_nodes") or []
    if not nodes and isinstance(cap.get("cpus"), int):
        # no per-node files: one row of every CPU, so the pins still show
        nodes = [{"id": None, "cpus": list(range(cap["cpus"])), "memory_mb": cap.get("memory_mb"), "hugepages": {}}]
    used_pages = c.get("hugepages") or {}
    rows = []
    for n in nodes:
        cells = []
        for cpu in _int_list(n.get("cpus")):
            who = owners.get(cpu, [])
            sets = [name for name, members in (("dedicated", dedicated), ("shared", shared),
                                               ("vcpu_pin_set", pin_set)) if cpu in members]
            cls = ["c"] + ["s-" + s.split("_")[0] for s in sets[:1]]
            guests_here = sorted({k for k, _ in who})
            if len(guests_here) > 1:
                cls.append("over")
            elif guests_here:
                cls.append(legend[guests_here[0]]["cls"])
            title = "CPU %d" % cpu + (" · %s set" % "/".join(sets) if sets else "")
            title += "".join(" · %s %s%s" % (legend[k]["name"], what,
                                             "" if legend[k]["state"] in ("running", "paused") else
                                             " (%s)" % (legend[k]["state"] or "unknown state"))
                             for k, what in who)
            cells.append({"cls": " ".join(cls), "title": title})
        pages = []
        nid = n.get("id")
        for kib, v in sorted((n.get("hugepages") or {}).items(), key=lambda kv: _sort_key(kv[0])):
            total, free = (v or {}).get("total"), (v or {}).get("free")
            if not total:
                continue
            used = max(0, total - (free or 0)) if free is not None else None
            pages.append({"size": page_text(kib), "total": total, "free": free, "used": used,
                          "pct": round(100 * used / total) if used is not None else 0,
                          "committed": (used_pages.get(str(nid)) or {}).get(str(kib))})
        rows.append({"id": nid, "cpus": cpus_text(n.get("cpus")), "cells": cells,
                     "memory_mb": n.get("memory_mb"), "pages": pages})
    src = cap.get("sources") or {}
    ratios = [{"name": k.replace("_allocation_ratio", ""), "value": cap.get(k), "source": src.get(k)}
              for k in ("cpu_allocation_ratio", "ram_allocation_ratio")]
    hp_committed = ["node %s: %s" % (nid, ", ".join("%s x %s" % (cnt, page_text(kib))
                                                   for kib, cnt in sorted(per.items(), key=lambda kv: _sort_key(kv[0]))))
                    for nid, per in sorted(used_pages.items(), key=lambda kv: _sort_key(kv[0])) if per]
    return {
        "report": rep.get("id"), "cpus": cap.get("cpus"), "memory_mb": cap.get("memory_mb"),
        "node_count": len(cap.get("numa_nodes") or []), "nodes": rows,
        "dedicated": cpus_text(cap.get("cpu_dedicated_set")), "shared": cpus_text(cap.get("cpu_shared_set")),
        "vcpu_pin_set": cpus_text(cap["vcpu_pin_set"]) if cap.get("vcpu_pin_set") is not None else None,
        "ratios": ratios, "reserved_mb": cap.get("reserved_host_memory_mb"),
        "committed": {"vcpus": c.get("vcpus"), "memory_mb": c.get("memory_mb"),
                      "pinned": cpus_text(c.get("pinned_cpus") or []), "hugepages": hp_committed},
        "legend": legend, "not_collected": list(cap.get("not_collected") or []),
    }


def _worst(findings: list[dict]) -> Optional[str]:
    sevs = [f.get("severity") for f in findings]
    for s in SEVERITIES:
        if s in sevs:
            return s
    return sevs[0] if sevs else None


def _instances(instances: list[dict], guests: list[dict], anchor: Any) -> list[dict]:
    """One entry per instance UUID with its guests per host; a guest whose UUID the document's
    instances do not name (a hand-made document) makes its own."""
    by_uuid: "OrderedDict[str, list[dict]]" = OrderedDict()
    for v in guests:
        by_uuid.setdefault(v["uuid"], []).append(v)
    out = []
    seen: set[str] = set()
    for i in instances:
        u = i.get("uuid") or ""
        if u in seen:
            continue
        seen.add(u)
        out.append(_instance_view(i, by_uuid.get(u, []), anchor))
    for u, members in by_uuid.items():
        if u not in seen:
            first = members[0]
            owner = (first["nova"] or {}).get("owner") or {}
            synth = {"uuid": u, "display_name": first["name"], "project": owner.get("project"),
                     "user": owner.get("user"),
                     "hosts": [{"host": m["host"], "state": m["state"], "in_latest_report": not m["gone"],
                                "defined": True} for m in members], "events": [], "migrations": []}
            out.append(_instance_view(synth, members, anchor))
    return out


def _instance_view(i: dict, members: list[dict], anchor: Any) -> dict:
    u = i.get("uuid") or ""
    hosts = [{"host": h.get("host") or "?", "state": h.get("state"), "defined": h.get("defined", True),
              "gone": h.get("in_latest_report") is False and h.get("defined", True),
              "state_class": _state_class(h.get("state"))} for h in i.get("hosts") or []]
    for m in members:
        if not any(h["host"] == m["host"] for h in hosts):
            hosts.append({"host": m["host"], "state": m["state"], "defined": True, "gone": m["gone"],
                          "state_class": m["state_class"]})
    by_host = {m["host"]: m for m in members}
    parts = [{"host": h, "guest": by_host.get(h["host"])} for h in hosts]
    name = i.get("display_name") or next((m["name"] for m in members if m["name"]), None)
    project, user = i.get("project"), i.get("user")
    events = [dict(e, when=when(e.get("time"), e.get("time_is_utc")),
                   cls=KIND_CLASS.get(e.get("kind"), "life"),
                   where=_evidence(e.get("evidence"))) for e in i.get("events") or []]
    migrations = [dict(m, started_at=when(m.get("started")), ended_at=when(m.get("ended")))
                  for m in i.get("migrations") or []]
    findings: list[dict] = []
    for m in members:
        for f in m["findings"]:
            if f not in findings:
                findings.append(f)
    view = {
        "uuid": u, "id": anchor(u), "name": name, "label": "%s (%s)" % (name or "(no display name)", u),
        "project": _person(project), "user": _person(user),
        "project_short": _short(project), "user_short": _short(user),
        "hosts": hosts, "parts": parts, "events": events, "events_left_out": i.get("events_left_out") or 0,
        "migrations": migrations, "findings": findings, "worst": _worst(findings),
        "search": " ".join(x for x in [u, name or "", _person(project) or "", _person(user) or "",
                                       " ".join(h["host"] for h in hosts),
                                       " ".join(m["search"] + " " + (m["domain_name"] or "") for m in members)] if x),
    }
    view["timeline"] = _instance_timeline(view) if events or migrations else None
    return view


def _evidence(ev: Optional[dict]) -> Optional[str]:
    if not ev or not ev.get("path"):
        return None
    return "%s:%s" % (ev["path"], ev["line"]) if ev.get("line") else ev["path"]


def _finding_groups(findings: list[dict], inst_by_uuid: dict[str, dict], ids: _Ids) -> list[dict]:
    """One card per code and severity, most severe first: its guests, hosts and every finding."""
    order = list(SEVERITIES)
    groups: "OrderedDict[tuple[str, str], dict]" = OrderedDict()
    ranked = sorted(findings, key=lambda f: order.index(f["severity"]) if f.get("severity") in order else 99)
    for f in ranked:
        key = (f.get("code") or "?", f.get("severity") or "?")
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"code": key[0], "severity": key[1], "id": ids.make("finding", *key),
                               "title": CODE_TITLES.get(key[0]), "entries": [], "guests": [], "hosts": []}
        links = []
        for u in f.get("guests") or []:
            if u not in g["guests"]:
                g["guests"].append(u)
            inst = inst_by_uuid.get(u)
            links.append({"uuid": u, "id": inst["id"] if inst else None,
                          "name": (inst or {}).get("name"), "project": (inst or {}).get("project_short")})
        for h in f.get("hosts") or []:
            if h not in g["hosts"]:
                g["hosts"].append(h)
        g["entries"].append({"finding": f, "links": links})
    for g in groups.values():
        g["search"] = " ".join([g["code"], g["severity"]] + g["hosts"] + [it["finding"].get("message") or ""
                                                                        for it in g["entries"][:50]])
        g["sample"] = g["entries"][0]["finding"].get("message") if g["entries"] else ""
    return list(groups.values())


def _changes(changes: list[dict], hosts: list[dict], inst_by_uuid: dict[str, dict],
             by_report: dict[str, dict]) -> list[dict]:
    """Changes between consecutive reports, one block per host, oldest pair first."""
    per: "OrderedDict[str, list[dict]]" = OrderedDict((h["name"], []) for h in hosts)
    for c in changes:
        inst = inst_by_uuid.get(c.get("uuid") or "")
        per.setdefault(c.get("host") or "?", []).append({
            "from": c.get("from_report"), "to": c.get("to_report"), "uuid": c.get("uuid"),
            "id": inst["id"] if inst else None, "name": inst["name"] if inst else None,
            "field": c.get("field"), "before": c.get("before"), "after": c.get("after"),
            "from_at": _report_view(by_report[c["from_report"]], False)["collected"] if c.get("from_report") in by_report else None,
            "to_at": _report_view(by_report[c["to_report"]], False)["collected"] if c.get("to_report") in by_report else None,
        })
    host_ids = {h["name"]: h.get("id") for h in hosts}
    return [{"host": h, "host_id": host_ids.get(h), "rows": rows} for h, rows in per.items() if rows]


CHUNK = 25  # instances per compressed block: similar XML and log lines compress together


def _pack(markup: str) -> str:
    return base64.b64encode(gzip.compress(markup.encode("utf-8", "backslashreplace"), compresslevel=9, mtime=0)).decode("ascii")


# Raw XML and log lines of a block's instances, each replaced by a placeholder and put together at
# the block's end: gzip's 32 KiB window then sees one XML after another, so what the instances
# share compresses away (about half the page on a big case). The page's script puts them back.
_MOVABLE = re.compile(r'<template class="xml-src">.*?</template>|<pre class="log(?: errlog)?">.*?</pre>', re.S)


def _pack_block(markup: str) -> str:
    """One compressed block: the bodies with placeholders, then the moved parts, grouped by kind.

    >>> m = '<p>a</p><pre class="log">x</pre><template class="xml-src"><pre class="xml">y</pre></template>'
    >>> gzip.decompress(base64.b64decode(_pack_block(m))).decode()[:60]
    '<p>a</p><i data-zref="0"></i><i data-zref="1"></i><div data-'
    >>> unpack(_pack_block(m)) == m
    True
    """
    moved: list[str] = []

    def take(m: "re.Match[str]") -> str:
        moved.append(m.group(0))
        return '<i data-zref="%d"></i>' % (len(moved) - 1)

    body = _MOVABLE.sub(take, markup)
    order = sorted(range(len(moved)), key=lambda i: (not moved[i].startswith("<template"), i))
    return _pack(body + "".join('<div data-zid="%d">%s</div>' % (i, moved[i]) for i in order))


def _bodies(view: dict) -> None:
    """Each instance's detail body, rendered once. On a big case the bodies go into compressed
    blocks of CHUNK instances (`view["chunks"]`), each instance naming its block, and each finding
    card's list is compressed too."""
    module = environment().get_template("macros.html.j2").make_module({})
    total = 0
    for inst in view["instances"]:
        inst["body"] = Markup(module.instance_body(inst, view))  # type: ignore[attr-defined]
        inst["chunk"] = None
        total += len(inst["body"])
    for g in view["groups"]:
        g["items_html"] = Markup(module.finding_items(g))  # type: ignore[attr-defined]
        g["packed"] = None
    view["lazy"] = len(view["instances"]) > LAZY_INSTANCES or total > LAZY_BYTES
    view["chunks"] = []
    if not view["lazy"]:
        return
    for n in range(0, len(view["instances"]), CHUNK):
        block = view["instances"][n:n + CHUNK]
        cid = "zc-%d" % (n // CHUNK)
        view["chunks"].append({"id": cid, "packed": _pack_block("".join(str(i["body"]) for i in block))})
        for inst in block:
            inst["chunk"] = cid
            inst["body"] = None
    for g in view["groups"]:
        g["packed"] = _pack(str(g["items_html"]))
        g["items_html"] = None


def unpack(packed: str) -> str:
    """The markup a big page keeps compressed in `data-z` (what the page's JS does, for tests).

    >>> unpack(base64.b64encode(gzip.compress(b"<p>x</p>")).decode())
    '<p>x</p>'
    """
    markup = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    moved = dict(re.findall(r'<div data-zid="(\d+)">(.*?)</div>', markup, re.S))
    if not moved:
        return markup
    body = markup[:markup.index('<div data-zid="')]
    return re.sub(r'<i data-zref="(\d+)"></i>', lambda m: moved[m.group(1)], body)


def render(doc: dict[str, Any]) -> str:
    """The whole page for one `Document.to_dict()`."""
    return environment().get_template("report.html.j2").render(v=build_view(doc))
