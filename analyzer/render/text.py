"""The terminal output: what a person reads at 80 columns and pastes into a ticket.

Without `--guest`: the hosts (each with its reports, oldest first), one guest table grouped by
host, the migrations and changes of the case in brief, and the findings. With `--guest`: one
block per matching instance (UUID) with its owner, its hosts, its migrations, its story and what
changed, so two instances that share a display name are told apart at a glance.

Long values wrap at spaces; a word longer than a line (a path, a log token) stays whole on a line
of its own, so nothing a person searches for is cut. Every value that comes from a report goes
through `safe()`: a display name holding an escape sequence must not repaint the engineer's
terminal, so control characters are shown escaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from typing import Any, Iterable, Optional

from analyzer.correlate import ambiguities

WIDTH = 80
# No single value from a report takes more than this many cells, even where lines wrap (finding
# messages, log lines): an 8 MiB display name must not become an 8 MiB screenful.
MAX_VALUE = 2000
# The overview lists a host's guest changes one per line up to this many, then counts them.
MAX_CHANGE_LINES = 30


def _width(c: str) -> int:
    """Terminal cells one character takes: CJK wide forms take two, combining marks none."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _cells(text: str) -> int:
    return sum(map(_width, text))


def safe(value: Any, limit: Optional[int] = None) -> str:
    r"""Printable text at most `limit` terminal cells wide; control characters shown escaped.

    >>> safe("web\x1b[2J-01"), safe(None), safe("数据库服务器", 7)
    ('web\\x1b[2J-01', '-', '数据库~')
    """
    if value is None:
        return "-"
    text = str(value)
    limit = MAX_VALUE if limit is None else min(limit, MAX_VALUE)
    text = text[: limit * 8 + 8]  # an 8 MiB display name must not cost 8 MiB of work per cell
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if _cells(out) <= limit:
        return out
    kept, used = [], 0
    for c in out:
        w = _width(c)
        if used + w > limit - 1:
            break
        kept.append(c)
        used += w
    return "".join(kept) + "~"


def plural(n: int, word: str, words: Optional[str] = None) -> str:
    """
    >>> plural(1, "guest"), plural(2, "guest"), plural(0, "entry", "entries")
    ('1 guest', '2 guests', '0 entries')
    """
    return "%d %s" % (n, word if n == 1 else (words or word + "s"))


def short_uuid_prefix(term: str) -> bool:
    """Does a query look like a UUID prefix too short to be taken as one?

    >>> short_uuid_prefix("3f2b"), short_uuid_prefix("3f2b9c1e"), short_uuid_prefix("web-01")
    (True, False, False)
    """
    t = term.strip()
    digits = t.replace("-", "")
    return bool(re.fullmatch(r"[0-9a-fA-F-]+", t)) and 0 < len(digits) < 8


def wrap(text: str, first: str = "", rest: str = "    ", width: int = WIDTH) -> list[str]:
    """`text` (already made safe) in lines of at most `width` cells, broken at spaces; a word
    longer than a line is kept whole on a line of its own rather than cut.

    >>> wrap("see var/log/nova/nova-compute.log.1:12 now", "  ", "    ", 20)
    ['  see', '    var/log/nova/nova-compute.log.1:12', '    now']
    """
    lines: list[str] = []
    line, used, empty = first, _cells(first), True
    for word in text.split(" "):
        if not word:
            continue
        w = _cells(word)
        if not empty and used + 1 + w > width:
            lines.append(line)
            line, used, empty = rest, _cells(rest), True
        if empty:
            line, used = line + word, used + w
        else:
            line, used = line + " " + word, used + 1 + w
        empty = False
    lines.append(line)
    return [x.rstrip() for x in lines]


def _cell_lines(text: str, width: int) -> list[str]:
    """One table cell over as many lines as it needs: broken at spaces, a word wider than the
    column split across lines (every character still shown)."""
    out: list[str] = []
    for word_line in wrap(text, "", "", width):
        while _cells(word_line) > width:
            piece, used = "", 0
            for c in word_line:
                if used + _width(c) > width:
                    break
                piece, used = piece + c, used + _width(c)
            out.append(piece)
            word_line = word_line[len(piece):]
        out.append(word_line)
    return out or [""]


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _cells(text))


def when(t: Optional[str], is_utc: Optional[bool] = None) -> str:
    """A time as people read it: UTC with Z, an offset kept, a local time of unknown zone marked.

    >>> when("2025-11-19T08:59:45.500Z"), when("2025-11-19T09:59:45", False), when(None)
    ('2025-11-19 08:59:45Z', '2025-11-19 09:59:45 (local)', 'time unknown')
    >>> when("2026-11-20T10:00:00+01:00")
    '2026-11-20 10:00:00+01:00'
    """
    if not t:
        return "time unknown"
    m = re.match(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$", t)
    if not m:
        return safe(t, 40)
    zone = m.group(3) or ""
    if is_utc is True and not zone:
        zone = "Z"
    return "%s %s%s" % (m.group(1), m.group(2), zone if zone else " (local)")


def _flavor(g: dict) -> str:
    """The flavor's name and the domain's own vCPUs/memory, short enough for its column.

    >>> _flavor({"nova": {"flavor": {"name": "m1.small"}}, "vcpus": 2, "memory_mb": 2048})
    'm1.small 2c/2G'
    >>> _flavor({"vcpus": 1, "memory_mb": 1500})
    '1c/1500M'
    """
    fl = (g.get("nova") or {}).get("flavor") or {}
    name = fl.get("name")
    mem = g.get("memory_mb")
    mem_text = "?" if mem is None else ("%dG" % (mem // 1024) if mem and mem % 1024 == 0 else "%sM" % mem)
    res = "%sc/%s" % (g.get("vcpus") if g.get("vcpus") is not None else "?", mem_text)
    return "%s %s" % (safe(name), res) if name else res


def _owner(nova: Optional[dict]) -> tuple[Optional[dict], Optional[dict]]:
    owner = (nova or {}).get("owner") or {}
    return owner.get("project"), owner.get("user")


def _person(p: Optional[dict]) -> str:
    if not p:
        return "-"
    return safe(p.get("name") or p.get("uuid"))


def _name_of(g: dict) -> str:
    if g.get("display_name"):
        return safe(g["display_name"])
    return "(%s)" % safe(g["domain_name"]) if g.get("domain_name") else "-"


class _Case:
    """Look-ups over one document that every section needs."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.reports = {r["id"]: r for r in doc.get("reports") or []}
        hosts = doc.get("hosts")
        if hosts is None:  # a document without hosts: each report is its own host
            hosts = [{"name": r.get("hostname") or r["id"], "reports": [r["id"]], "latest_report": r["id"]}
                     for r in doc.get("reports") or [] if not r.get("duplicate_of")]
        self.hosts = hosts
        self.host_of = {rid: h["name"] for h in hosts for rid in h.get("reports") or []}
        self.host_reports = {h["name"]: list(h.get("reports") or []) for h in hosts}

    def host(self, g: dict) -> str:
        return g.get("host") or self.host_of.get(g.get("report") or "") or g.get("report") or "?"

    def collected(self, rid: Optional[str]) -> str:
        r = self.reports.get(rid or "") or {}
        return when(r.get("collected_at"))

    def gone_since(self, g: dict) -> Optional[str]:
        """The first report of the guest's host that no longer holds it (None: it is still there)."""
        if g.get("in_latest_report", True):
            return None
        rs = self.host_reports.get(self.host(g), [])
        last = g.get("report")
        if last in rs and rs.index(last) + 1 < len(rs):
            return rs[rs.index(last) + 1]
        return rs[-1] if rs else "?"


def render(doc: dict[str, Any]) -> str:
    """The whole terminal report for one `Document.to_dict()`."""
    case = _Case(doc)
    query = doc.get("query")
    lines = _heading(doc, case) + _hosts(doc, case) + _queries(query, doc, case)
    lines += _guest_table(doc.get("guests") or [], case)
    if query is None:
        lines += _overview(doc, case)
    else:
        lines += _instance_blocks(doc, case)
    lines += _findings(doc.get("findings") or [])
    return "\n".join(lines) + "\n"


def _heading(doc: dict[str, Any], case: _Case) -> list[str]:
    reports = doc.get("reports") or []
    dups = sum(1 for r in reports if r.get("duplicate_of"))
    total = doc.get("total_guests", len(doc.get("guests") or []))
    head = "analyze-sos %s: %s, %s%s, %s" % (
        safe(doc.get("generated_by", {}).get("version", "")), plural(len(case.hosts), "host"),
        plural(len(reports), "report"), " (%s)" % plural(dups, "duplicate") if dups else "",
        plural(total, "guest"))
    if doc.get("query") is not None:
        head += ", %d matching" % len(doc.get("guests") or [])
    return wrap(head, "", "  ") + [""]


def _hosts(doc: dict[str, Any], case: _Case) -> list[str]:
    """Each host with its reports, oldest first; a report given twice is said once, where its
    original is; then the inputs not read at all."""
    out: list[str] = []
    dups: dict[str, list[dict]] = defaultdict(list)
    for r in doc.get("reports") or []:
        if r.get("duplicate_of"):
            dups[r["duplicate_of"]].append(r)
    listed: set = set()
    for h in case.hosts:
        rids = h.get("reports") or []
        newest = case.reports.get(h.get("latest_report") or "") or {}
        clock = newest.get("utc_offset")
        head = "%s: %s, clock %s" % (safe(h["name"]), plural(len(rids), "report"),
                                     "UTC%s" % safe(clock) if clock else "unknown (its times are local, marked so)")
        if h.get("machine_id") and "[" in h["name"]:
            head += ", machine-id %s" % safe(h["machine_id"])
        out += wrap(head, "", "    ")
        for rid in rids:
            listed.add(rid)
            out += _report(case.reports.get(rid) or {"id": rid}, rid == h.get("latest_report"))
            for d in dups.get(rid, []):
                listed.add(d["id"])
                out += wrap("%s  the same report as %s, counted once: %s" % (safe(d["id"]), safe(rid), safe(d.get("path"))),
                            "  ", "      ")
    for r in doc.get("reports") or []:
        if r["id"] not in listed:
            what = ("the same report as %s, counted once" % safe(r["duplicate_of"]) if r.get("duplicate_of")
                    else "host unknown")
            out += wrap("%s  %s: %s" % (safe(r["id"]), what, safe(r.get("path"))), "  ", "      ")
    for e in doc.get("errors") or []:
        if e.get("path") == "(case)":
            out += wrap("note: %s" % safe(e.get("reason")), "", "    ")
        elif (e.get("reason") or "").startswith(("skipped:", "stopped reading")):
            out += wrap("%s: %s" % (safe(e.get("path")), safe(e.get("reason"))), "", "    ")
        else:
            out += wrap("not read: %s: %s" % (safe(e.get("path")), safe(e.get("reason"))), "", "    ")
    return out + [""]


def _report(r: dict, newest: bool) -> list[str]:
    pk = r.get("packages") or {}
    out = wrap("%s  collected %s%s, sos %s, %s" % (
        safe(r["id"]), when(r.get("collected_at")), " (newest)" if newest else "", safe(r.get("sos_version")),
        safe(r.get("os"))), "  ", "      ")
    out += wrap("nova %s, libvirt %s, qemu %s" % (safe(pk.get("nova")), safe(pk.get("libvirt")), safe(pk.get("qemu"))),
                "      ", "        ")
    out += wrap(safe(r.get("path")), "      ", "      ")
    out += text_host.capacity_lines(r)
    return out + _problems(r.get("problems") or [])


def _problems(problems: list[dict], shown: int = 10) -> list[str]:
    if not problems:
        return []
    out = ["      read only in part, %s:" % plural(len(problems), "problem")]
    for p in problems[:shown]:
        out += wrap("%s: %s" % (safe(p.get("path")), safe(p.get("reason"))), "        ", "          ")
    if len(problems) > shown:
        out.append("        ... %d more (see --format json)" % (len(problems) - shown))
    return out


def _queries(query: Optional[list[dict]], doc: dict[str, Any], case: _Case) -> list[str]:
    """What each --guest term matched, each instance with its owner and where it is, and what a
    person must not miss about it."""
    if query is None:
        return []
    guests = doc.get("guests") or []
    out: list[str] = []
    for q in query:
        if q.get("matched_by") is None:
            hint = ", ".join(safe(s) for s in q.get("suggestions") or [])
            short = "; a UUID prefix needs at least 8 hex digits" if short_uuid_prefix(q["term"]) else ""
            out += wrap("query %s: no match%s%s" % (safe(q["term"]), short, "; nearest: " + hint if hint else ""),
                        "", "    ")
            continue
        uuids = list(dict.fromkeys(m["uuid"] for m in q.get("guests") or []))
        out += wrap("query %s: %s on %s, by %s" % (
            safe(q["term"]), plural(len(uuids), "instance"),
            plural(len({m.get("host") or m.get("report") for m in q.get("guests") or []}), "host"),
            safe(q["matched_by"])), "", "    ")
        for u in uuids:
            mine = [g for g in guests if g["uuid"] == u]
            out += wrap(_instance_line(u, mine, case), "    ", "        ")
        out += ["  ! " + safe(note) for note in ambiguities(q)]
    return out + [""]


def _instance_line(uuid: str, guests: list[dict], case: _Case) -> str:
    """`3f1c2d4e-... web-01, project demo, user alice: on compute-1 running (r2, 2026-... Z)`."""
    g = next((x for x in guests if x.get("in_latest_report", True)), guests[0] if guests else {})
    project, user = _owner(g.get("nova"))
    where = []
    for x in guests:
        gone = case.gone_since(x)
        where.append("%s %s (%s, %s)" % (safe(case.host(x)), "gone since " + safe(gone) if gone else safe(x.get("state")),
                                         safe(x.get("report")), case.collected(x.get("report"))))
    return "%s %s, project %s, user %s: on %s" % (uuid, _name_of(g) if g else "-", _person(project), _person(user),
                                                  "; ".join(where) or "no host")


_COLUMNS = (("DISPLAY NAME", 16), ("UUID", 8), ("STATE", 11), ("PROJECT / USER", 15), ("FLAVOR", 14), ("NOVA", 8))
_INDENT = "  "


def _row(values: list[str]) -> list[str]:
    """One table row over as many lines as its cells need. A display name wider than its column
    gets a line of its own above the row, whole: it is what people search the output for."""
    out = []
    name = values[0]
    if _cells(name) > _COLUMNS[0][1]:
        out += wrap(name, _INDENT, _INDENT)
        values = [""] + values[1:]
    cells = [_cell_lines(v, w) for v, (_, w) in zip(values, _COLUMNS)]
    for i in range(max(len(c) for c in cells)):
        out.append((_INDENT + " ".join(_pad(c[i] if i < len(c) else "", w)
                                       for c, (_, w) in zip(cells, _COLUMNS))).rstrip())
    return out


def _guest_table(guests: list[dict], case: _Case) -> list[str]:
    """One row per guest and host, grouped by host (the report and its collection time on the
    host's line); then the UUIDs seen on several hosts."""
    if not guests:
        return ["No guests.", ""]
    out = [_INDENT + " ".join(_pad(t, w) for t, w in _COLUMNS).rstrip(), "-" * WIDTH]
    by_host: dict[str, list[dict]] = defaultdict(list)
    for g in guests:
        by_host[case.host(g)].append(g)
    order = [h["name"] for h in case.hosts if h["name"] in by_host] + [h for h in by_host if h not in
                                                                         {x["name"] for x in case.hosts}]
    for host in order:
        gs = by_host[host]
        latest = next((h.get("latest_report") for h in case.hosts if h["name"] == host), None)
        out += wrap("%s: %s, newest report %s (collected %s)" % (
            safe(host), plural(len(gs), "guest"), safe(latest), case.collected(latest)), "", "    ")
        for g in gs:
            project, user = _owner(g.get("nova"))
            gone = case.gone_since(g)
            owner = "%s / %s" % (_person(project), _person(user)) if project or user else "-"
            out += _row([_name_of(g), safe(g["uuid"][:8]), "gone" if gone else safe(g.get("state")), owner,
                         _flavor(g), safe((g.get("nova") or {}).get("package_version"))])
            if gone:
                out += wrap("gone since %s: last seen in %s (collected %s), %s" % (
                    safe(gone), safe(g.get("report")), case.collected(g.get("report")), safe(g.get("state"))),
                    _INDENT + "  ", _INDENT + "    ")
    by_uuid = Counter(g["uuid"] for g in guests)
    shared = [u for u, n in by_uuid.items() if n > 1]
    if shared:
        out.append("")
        for u in shared:
            where = ", ".join(safe(case.host(g)) + " (" + safe(g.get("state")) + ")" for g in guests if g["uuid"] == u)
            out += wrap("! UUID %s appears on several hosts: %s" % (u, where), "", "    ")
    return out


def _overview(doc: dict[str, Any], case: _Case) -> list[str]:
    """The case in brief: the migrations the logs tell, what changed between reports, and how to
    get one instance's whole story."""
    out: list[str] = []
    instances = doc.get("instances") or []
    moves = [(i, m) for i in instances for m in i.get("migrations") or []]
    if moves:
        out += ["", "%s in the logs:" % plural(len(moves), "migration")]
        for i, m in moves:
            out += wrap("%s %s: %s" % (safe(i.get("display_name") or "-"), i["uuid"][:8], _migration(m)),
                        "  ", "      ")
    out += _change_summary(doc.get("changes") or [], doc.get("guests") or [], case)
    if instances:
        out += [""] + wrap("%s. One instance's story (hosts, migrations, log events in UTC, changes): "
                           "analyze-sos --guest NAME-OR-UUID --format text INPUT..." % plural(len(instances), "instance"),
                           "", "  ")
    return out


def _migration(m: dict) -> str:
    kind = {"live": "live migration", "cold": "cold migration / resize", "evacuation": "evacuation"}.get(
        m.get("kind"), safe(m.get("kind")))
    span = when(m.get("started"))
    if m.get("ended") and m.get("ended") != m.get("started"):
        span += " to " + when(m.get("ended"))
    return "%s %s -> %s, %s, %s" % (kind, safe(m.get("source") or "unknown host"),
                                     safe(m.get("destination") or "unknown host"), safe(m.get("outcome")), span)


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(safe(x) for x in v) + "]"
    return safe(v)


def _change_line(c: dict, names: dict[str, str]) -> str:
    what = "host" if c.get("uuid") is None else "%s %s" % (names.get(c["uuid"], "-"), c["uuid"][:8])
    if c.get("field") == "guest":
        return "%s: %s" % (what, "appeared" if c.get("after") == "present" else "gone")
    return "%s: %s %s -> %s" % (what, safe(c.get("field")), _value(c.get("before")), _value(c.get("after")))


def _change_summary(changes: list[dict], guests: list[dict], case: _Case) -> list[str]:
    if not changes:
        return []
    names = {g["uuid"]: _name_of(g) for g in guests}
    pairs: dict[tuple, list[dict]] = defaultdict(list)
    for c in changes:
        pairs[(c.get("host"), c.get("from_report"), c.get("to_report"))].append(c)
    out = ["", "Changes between reports:"]
    for (host, a, b), cs in pairs.items():
        out += wrap("%s, %s (%s) -> %s (%s): %s" % (safe(host), safe(a), case.collected(a), safe(b), case.collected(b),
                                                   plural(len(cs), "change")), "  ", "      ")
        if len(cs) <= MAX_CHANGE_LINES:
            for c in cs:
                out += wrap(_change_line(c, names), "    ", "        ")
            continue
        for c in (c for c in cs if c.get("uuid") is None):
            out += wrap(_change_line(c, names), "    ", "        ")
        counts = Counter(("appeared" if c.get("after") == "present" else "gone") if c.get("field") == "guest"
                         else safe(c.get("field")) for c in cs if c.get("uuid") is not None)
        out += wrap("guests: " + ", ".join("%s %d" % (k, n) for k, n in counts.items())
                    + " (--guest NAME-OR-UUID for one guest's, --format json for all)", "    ", "        ")
    return out


def _instance_blocks(doc: dict[str, Any], case: _Case) -> list[str]:
    """One block per matching instance, in the order its guests are listed."""
    guests = doc.get("guests") or []
    by_uuid: dict[str, list[dict]] = defaultdict(list)
    for g in guests:
        by_uuid[g["uuid"]].append(g)
    instances = {i["uuid"]: i for i in doc.get("instances") or []}
    changes = doc.get("changes") or []
    out: list[str] = []
    for uuid in dict.fromkeys(g["uuid"] for g in guests):
        inst = instances.get(uuid) or {"uuid": uuid, "hosts": [], "events": [], "migrations": []}
        out += _instance(inst, by_uuid[uuid], changes, case)
    return out


def _instance(inst: dict, guests: list[dict], changes: list[dict], case: _Case) -> list[str]:
    uuid = inst["uuid"]
    newest = next((g for g in guests if g.get("in_latest_report", True)), guests[0] if guests else {})
    name = safe(inst.get("display_name") or (newest.get("display_name") if newest else None)
                or (newest.get("domain_name") if newest else None))
    project, user = inst.get("project"), inst.get("user")
    if not project and not user and newest:
        project, user = _owner(newest.get("nova"))
    out = ["", "=" * WIDTH]
    out += wrap("%s (project %s) %s" % (name, _person(project), uuid), "== ", "   ")
    out += ["=" * WIDTH]
    out += wrap("project %s (%s), user %s (%s)" % (_person(project), safe((project or {}).get("uuid")),
                                                   _person(user), safe((user or {}).get("uuid"))), "  ", "      ")
    out += _instance_hosts(inst, guests, case)
    migrations = inst.get("migrations") or []
    if migrations:
        out.append("  Migrations:")
        for m in migrations:
            out += wrap(_migration(m), "    ", "        ")
    out += _story(inst)
    hosts = {h["host"] for h in inst.get("hosts") or []} | {case.host(g) for g in guests}
    mine = [c for c in changes if c.get("uuid") == uuid or (c.get("uuid") is None and c.get("host") in hosts)]
    if mine:
        out.append("  Changes between reports:")
        names = {uuid: name}
        for c in mine:
            out += wrap("%s %s -> %s: %s" % (safe(c.get("host")), safe(c.get("from_report")), safe(c.get("to_report")),
                                             _change_line(c, names)), "    ", "        ")
    for g in guests:
        out += _detail(g, case)
    return out


def _instance_hosts(inst: dict, guests: list[dict], case: _Case) -> list[str]:
    """Every host of the instance: its state, the report it is from, gone since, only in logs."""
    out = []
    defined = {case.host(g): g for g in guests}
    hosts = inst.get("hosts") or [{"host": h, "state": g.get("state"), "defined": True,
                                   "in_latest_report": g.get("in_latest_report", True)} for h, g in defined.items()]
    for h in hosts:
        g = defined.get(h.get("host"))
        if not h.get("defined") and g is None:
            what = "only in logs (no definition in its reports)"
        elif g is not None and case.gone_since(g):
            what = "gone since %s (last seen in %s, collected %s, %s)" % (
                safe(case.gone_since(g)), safe(g.get("report")), case.collected(g.get("report")), safe(g.get("state")))
        else:
            rid = g.get("report") if g else None
            what = "%s (%s, collected %s)" % (safe(h.get("state")), safe(rid), case.collected(rid))
        out += wrap("on %s: %s" % (safe(h.get("host")), what), "  ", "      ")
    return out


_OUTGOING = {"migration-started", "migration-progress", "migration-completed", "migration-failed"}
_INCOMING = {"migrated-in", "qemu-started", "evacuated", "resize"}


def _story(inst: dict) -> list[str]:
    events = inst.get("events") or []
    left_out = inst.get("events_left_out") or 0
    if not events:
        return ["  Story: no events"]
    local = sorted({safe(e.get("host")) for e in events if not e.get("time_is_utc")})
    head = "Story, %s, oldest first, times in UTC" % plural(len(events) + left_out, "event")
    if local:
        head += "; (local): the host's own clock, its report does not say its offset (%s)" % ", ".join(local)
    out = wrap(head + ":", "  ", "      ")
    cut = len(events) // 2 if left_out else -1
    for n, e in enumerate(events):
        if n == cut:
            out.append("    ... %s left out here (the first and the last are kept)" % plural(left_out, "event"))
        out += wrap(_event(e), "    ", "        ")
    return out


def _event(e: dict) -> str:
    """`2025-11-19 08:59:45Z compute-1 migration-completed -> compute-2: message [path:line]`."""
    kind = safe(e.get("kind"))
    peer = e.get("peer_host")
    if peer:
        arrow = "->" if e.get("kind") in _OUTGOING else ("<-" if e.get("kind") in _INCOMING else "peer")
        kind += " %s %s" % (arrow, safe(peer))
    ev = e.get("evidence") or {}
    where = ""
    if ev.get("path"):
        where = " [%s%s]" % (safe(ev["path"]), ":%s" % ev["line"] if ev.get("line") else "")
    again = " (and %d more times, the last at %s)" % (e["repeated"], when(e.get("last_time"), e.get("time_is_utc"))) \
        if e.get("repeated") else ""
    return "%s %s %s: %s%s%s" % (when(e.get("time"), e.get("time_is_utc")), safe(e.get("host")), kind,
                                 safe(e.get("message")), again, where)


def _findings(findings: list[dict]) -> list[str]:
    out = ["", plural(len(findings), "finding")]
    for f in findings:
        out += wrap("[%s] %s: %s" % (safe(f.get("severity")).upper(), safe(f.get("code")), safe(f.get("message"))),
                    "", "    ")
    return out


def _detail(g: dict, case: _Case) -> list[str]:
    """The definition of one instance on one host, as its newest report holding it has it."""
    persistence = {True: "persistent", False: "transient", None: "persistence unknown"}[g.get("persistent")]
    out = wrap("Definition on %s, from %s (collected %s):" % (safe(case.host(g)), safe(g.get("report")),
                                                             case.collected(g.get("report"))), "  ", "      ")
    out += wrap("domain %s, %s%s, %s" % (safe(g.get("domain_name")), safe(g.get("state")),
                                         " (%s)" % safe(g["state_reason"]) if g.get("state_reason") else "",
                                         persistence), "    ", "        ")
    out.append("    resources: %s vCPU, %s MiB" % (safe(g.get("vcpus")), safe(g.get("memory_mb"))))
    if len(g.get("reports") or []) > 1:
        out += wrap("seen in %s" % ", ".join(safe(r) for r in g["reports"]), "    ", "        ")
    out += _nova_detail(g.get("nova") or {}) + _devices(g) + _nova_log(g)
    for s in g.get("sources") or []:
        out += wrap("from %s: %s" % (safe(s.get("kind")), safe(s.get("path"))), "    ", "        ")
    return out


def _lines(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        out += wrap(item, "    ", "        ")
    return out


def _nova_detail(nova: dict) -> list[str]:
    if not nova:
        return ["    no Nova metadata in the domain XML"]
    fl = nova.get("flavor") or {}
    project, user = _owner(nova)
    user, project = user or {}, project or {}
    root = nova.get("root") or {}
    image = nova.get("image") or {}
    root_text = "root %s %s" % (safe(root.get("type")), safe(root.get("uuid"))) if root else "root -"
    if image.get("uuid") and image.get("uuid") != root.get("uuid"):
        root_text += ", image %s" % safe(image.get("uuid"))
    items = [
        "nova %s, created %s" % (safe(nova.get("package_version")), when(nova.get("creation_time"))),
        "flavor %s: %s vCPU, %s MiB, disk %s GB, swap %s MiB, ephemeral %s GB" % (
            safe(fl.get("name")), safe(fl.get("vcpus")), safe(fl.get("memory_mb")), safe(fl.get("disk_gb")),
            safe(fl.get("swap_mb")), safe(fl.get("ephemeral_gb"))),
        "owner %s (%s), project %s (%s)" % (safe(user.get("name")), safe(user.get("uuid")),
                                            safe(project.get("name")), safe(project.get("uuid"))),
        root_text]
    items += ["port %s %s" % (safe(port.get("uuid")), " ".join(safe(ip.get("address")) for ip in port.get("ips") or []))
              for port in nova.get("ports") or []]
    return _lines(items)


def _devices(g: dict) -> list[str]:
    """Disks, NICs and where the live definition differs from the persistent one."""
    items = ["disk %s %s %s %s" % (safe(d.get("target")), safe(d.get("bus")), safe(d.get("driver_type")),
                                   safe(d.get("source"))) for d in g.get("disks") or []]
    items += ["nic %s %s %s %s" % (safe(i.get("mac")), safe(i.get("type")), safe(i.get("source")), safe(i.get("target_dev")))
              for i in g.get("interfaces") or []]
    items += ["! live %s %s != persistent %s" % (safe(d.get("field")), _value(d.get("live")), _value(d.get("persistent")))
              for d in g.get("differences") or []]
    return _lines(items) + text_host.guest_lines(g)


def _nova_log(g: dict) -> list[str]:
    ncl = (g.get("logs") or {}).get("nova_compute")
    if not ncl:
        return []
    errs = ncl.get("errors") or {}
    span = " from %s to %s" % (safe(errs.get("first_time")), safe(errs.get("last_time"))) if errs.get("count") else ""
    out = wrap("nova-compute log: %s name it, %s%s" % (plural(ncl.get("total", 0), "line"),
                                                      plural(errs.get("count", 0), "error"), span), "    ", "        ")
    for line in errs.get("first_lines") or []:
        out += wrap(safe(line), "      ", "        ")
    return out


from analyzer.render import text_host  # noqa: E402  (it imports `safe` from here)
