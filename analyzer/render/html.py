"""The HTML support report: one self-contained page (CSS and JS inline, no external URL).

Reads `Document.to_dict()` only. Everything here prepares plain values for the templates in
templates/ (installed as package data `analyzer.templates`); the templates do the markup.
Jinja2 autoescaping is on for every template: report data is text, never markup. Nothing from a
report is embedded in a script: the page's JS reads the DOM (text and data- attributes).
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from datetime import datetime, timezone
from typing import Any, Optional

import jinja2

from analyzer.correlate import ambiguities
from analyzer.model import SEVERITIES

_ENV: Optional[jinja2.Environment] = None


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
        _ENV = env
    return _ENV


def dash(value: Any) -> Any:
    """None and empty strings shown as an en dash, everything else as it is."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


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


_ID_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def _slug(text: Any) -> str:
    return _ID_BAD.sub("_", str(text or ""))[:80].strip("_") or "x"


class _Ids:
    """HTML ids derived from report ids and UUIDs: only [A-Za-z0-9_-], unique within the page."""

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
    >>> parse_time("2015-02-19 18:23:44").isoformat()  # no offset: taken as UTC
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
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def _person(p: Optional[dict]) -> Optional[str]:
    if not p:
        return None
    name, uuid = p.get("name"), p.get("uuid")
    if name and uuid:
        return "%s (%s)" % (name, uuid)
    return name or uuid


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


def _timeline(guests: list[dict], hosts: list[str]) -> dict:
    """Positions for the creation-time SVG: one lane per host, one dot per guest."""
    width, left, right, lane_h, top = 1000, 190, 20, 22, 8
    points, missing = [], 0
    for v in guests:
        t = parse_time(v["created"])
        if t is None:
            missing += 1
        else:
            points.append((t, v))
    lanes = [h for h in hosts if any(v["host"] == h for _, v in points)]
    lane_of = {h: i for i, h in enumerate(lanes)}
    height = top + lane_h * len(lanes) + 28
    view = {"width": width, "height": height, "left": left, "right": width - right,
            "lanes": [], "dots": [], "ticks": [], "missing": missing, "count": len(points)}
    if not points:
        return view
    t0 = min(t for t, _ in points)
    t1 = max(t for t, _ in points)
    span = (t1 - t0).total_seconds()
    usable = width - left - right

    def x_of(t: datetime) -> float:
        if span <= 0:
            return left + usable / 2
        return left + usable * (t - t0).total_seconds() / span

    for h, i in lane_of.items():
        y = top + lane_h * i + lane_h / 2
        view["lanes"].append({"label": h, "y": round(y, 1), "ty": round(y + 4, 1)})
    for t, v in points:
        y = top + lane_h * lane_of[v["host"]] + lane_h / 2
        view["dots"].append({"x": round(x_of(t), 1), "y": round(y, 1), "id": v["id"],
                             "title": "%s  %s  %s" % (v["name"] or v["uuid"], v["host"], v["created"]),
                             "state": v["state_class"]})
    view["ticks"] = _ticks(t0, span, left, usable)
    view["axis_y"] = top + lane_h * len(lanes) + 2
    view["label_y"] = view["axis_y"] + 16
    return view


def _ticks(t0: datetime, span: float, left: float, usable: float) -> list[dict]:
    """Time axis labels: six across the span, or one in the middle when every guest shares a time."""
    n = 1 if span <= 0 else 6
    ticks = []
    for k in range(n):
        frac = 0.5 if n == 1 else k / (n - 1)
        t = datetime.fromtimestamp(t0.timestamp() + span * frac, tz=timezone.utc)
        label = t.strftime("%Y-%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d")
        anchor = "middle" if n == 1 or 0 < k < n - 1 else "start" if k == 0 else "end"
        ticks.append({"x": round(left + usable * frac, 1), "label": label, "anchor": anchor})
    return ticks


def _state_class(state: Optional[str]) -> str:
    return {"running": "ok", "paused": "warn", "shut off": "off", "crashed": "bad",
            "pmsuspended": "warn", "blocked": "warn", "in shutdown": "warn",
            "dying": "bad"}.get(state or "", "unknown")


def build_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates show, as plain values: they never see the document itself."""
    reports = doc.get("reports") or []
    findings = doc.get("findings") or []
    ids = _Ids()
    labels = {r["id"]: _report_label(r) for r in reports}
    by_guest: dict[str, list[dict]] = {}
    for f in findings:
        for u in f.get("guests") or []:
            by_guest.setdefault(u, []).append(f)
    guests = [_guest_view(g, ids, labels, by_guest.get(g.get("uuid"), [])) for g in doc.get("guests") or []]
    groups = _uuid_groups(guests, ids)
    report_views = _report_views(reports, guests, ids)
    severities, findings_sorted = _findings_view(findings)
    total = doc.get("total_guests")
    states = Counter(v["state"] or "unknown" for v in guests)
    state_names = sorted(states, key=lambda s: (-states[s], s))
    return {
        "generated_by": doc.get("generated_by") or {},
        "reports": report_views,
        "guests": guests,
        "groups": groups,
        "multi_host": [g for g in groups if len(g["members"]) > 1],
        "states": [(s, states[s], _state_class(s)) for s in state_names],
        "state_names": state_names,
        "severities": severities,
        "findings": findings_sorted,
        "uuid_to_group": {g["uuid"]: g["id"] for g in groups},
        "problems": [(rv["label"], p) for rv in report_views for p in rv["problems"]],
        "errors": doc.get("errors") or [],
        "query": _query_view(doc.get("query")),
        # never fewer than the page shows (a hand-made document may leave it at 0)
        "total_guests": max(total, len(guests)) if isinstance(total, int) else len(guests),
        "timeline": _timeline(guests, _host_order(reports, guests)),
        "schema_version": doc.get("schema_version"),
    }


def _report_label(r: dict) -> str:
    return r.get("hostname") or r["id"]


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
              (nova.get("flavor") or {}).get("id"), g.get("state_reason")]
    extra += [d.get(k) for d in g.get("disks") or [] for k in ("source", "serial")]
    return " ".join(str(x) for x in extra if x not in (None, ""))


def _guest_view(g: dict, ids: _Ids, labels: dict[str, str], findings: list[dict]) -> dict[str, Any]:
    """One guest on one host: the table row, the detail section and the timeline dot."""
    nova = g.get("nova") or {}
    flavor = nova.get("flavor") or {}
    owner = nova.get("owner") or {}
    logs = g.get("logs") or {}
    nics, unmatched = _match_ports(g.get("interfaces") or [], nova.get("ports") or [])
    for n in nics:
        n["ips"] = _ips(n["port"])
    return {
        "uuid": g.get("uuid") or "",
        "id": ids.make("g", g.get("report"), g.get("uuid")),
        "host": g.get("host") or labels.get(g.get("report")) or g.get("report") or "?",
        "report": g.get("report"),
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
        "root": _root_label(nova),
        "nova_version": nova.get("package_version"),
        "created": nova.get("creation_time"),
        "nova": g.get("nova"),
        "nova_persistent": g.get("nova_persistent"),
        "disks": g.get("disks") or [],
        "nics": nics,
        "unmatched_ports": unmatched,
        "differences": g.get("differences") or [],
        "sources": g.get("sources") or [],
        "xml": g.get("xml"),
        "xml_source": g.get("xml_source"),
        "qemu_log": logs.get("qemu") or None,
        "nova_log": logs.get("nova_compute") or None,
        "findings": findings,
        "search": _search_text(g),
    }


def _uuid_groups(guests: list[dict], ids: _Ids) -> list[dict]:
    """The same UUID on several hosts: one group, shown together, with a banner on each member."""
    groups: "OrderedDict[str, list[dict]]" = OrderedDict()
    for v in guests:
        groups.setdefault(v["uuid"], []).append(v)
    out = []
    for uuid, members in groups.items():
        gid = ids.make("u", uuid)
        for v in members:
            v["group_id"] = gid
            v["others"] = [o for o in members if o is not v]
        out.append({"uuid": uuid, "id": gid, "members": members, "hosts": [m["host"] for m in members]})
    return out


def _report_views(reports: list[dict], guests: list[dict], ids: _Ids) -> list[dict]:
    """One row of the hosts table per report, with its guests counted by state."""
    per_report: dict[str, Counter] = {}
    for v in guests:
        per_report.setdefault(v["report"], Counter())[v["state"] or "unknown"] += 1
    out = []
    for r in reports:
        pk = r.get("packages") or {}
        out.append({
            "id": ids.make("r", r["id"]),
            "report_id": r["id"],
            "label": _report_label(r),
            "hostname": r.get("hostname"),
            "nova_compute": r.get("nova_compute"),
            "nova_compute_evidence": r.get("nova_compute_evidence"),
            "collected_at": r.get("collected_at"),
            "sos_version": r.get("sos_version"),
            "os": r.get("os"),
            "packages": {k: pk.get(k) for k in ("nova", "libvirt", "qemu")},
            "guest_count": r.get("guest_count"),
            "path": r.get("path"),
            "problems": r.get("problems") or [],
            "states": per_report.get(r["id"], Counter()),
        })
    return out


def _findings_view(findings: list[dict]) -> tuple[list[tuple[str, int]], list[dict]]:
    """Counts per severity (the known ones first, even at zero) and the findings in that order."""
    counts = Counter(f.get("severity") for f in findings)
    order = list(SEVERITIES) + sorted(s for s in counts if s not in SEVERITIES)
    ranked = sorted(findings, key=lambda f: order.index(f.get("severity")) if f.get("severity") in order else 99)
    return [(s, counts.get(s, 0)) for s in order], ranked


def _host_order(reports: list[dict], guests: list[dict]) -> list[str]:
    """Timeline lanes: the reports' hosts in input order, then any host only a guest names."""
    order: list[str] = []
    for label in [_report_label(r) for r in reports] + [v["host"] for v in guests]:
        if label not in order:
            order.append(label)
    return order


def render(doc: dict[str, Any]) -> str:
    """The whole page for one `Document.to_dict()`."""
    return environment().get_template("report.html.j2").render(v=build_view(doc))
