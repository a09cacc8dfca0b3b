"""The terminal output: what a person reads at 80 columns.

Every value that comes from a report goes through `safe()`: a display name holding an escape
sequence must not repaint the engineer's terminal, so control characters are shown escaped.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any, Optional

from analyzer.correlate import ambiguities

WIDTH = 80
# No single value from a report takes more than this many cells, even where no column bounds it
# (finding messages, detail lines): an 8 MiB display name must not become an 8 MiB line.
MAX_VALUE = 2000


def _width(c: str) -> int:
    """Terminal cells one character takes: CJK wide forms take two, combining marks none."""
    if unicodedata.combining(c):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


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
    if sum(map(_width, out)) <= limit:
        return out
    kept, used = [], 0
    for c in out:
        w = _width(c)
        if used + w > limit - 1:
            break
        kept.append(c)
        used += w
    return "".join(kept) + "~"


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - sum(map(_width, text)))


def _cols(widths: list[int], values: list[Any]) -> str:
    cells = [_pad(safe(v, w), w) for w, v in zip(widths, values)]
    return " ".join(cells).rstrip()


def _flavor(g: dict) -> str:
    fl = (g.get("nova") or {}).get("flavor") or {}
    name = fl.get("name")
    res = "%sc/%sM" % (g.get("vcpus") if g.get("vcpus") is not None else "?",
                       g.get("memory_mb") if g.get("memory_mb") is not None else "?")
    return "%s %s" % (name, res) if name else res


def render(doc: dict[str, Any]) -> str:
    """The whole terminal report for one `Document.to_dict()`."""
    hosts = {r["id"]: r.get("hostname") or r["id"] for r in doc["reports"]}
    lines = _heading(doc) + _reports(doc) + _queries(doc.get("query")) + _guest_table(doc["guests"], hosts)
    if doc.get("query") is not None:
        for g in doc["guests"]:
            lines += _detail(g, hosts)
    lines += _findings(doc.get("findings") or [])
    return "\n".join(lines) + "\n"


def _heading(doc: dict[str, Any]) -> list[str]:
    matching = "" if doc.get("query") is None else ", %d matching" % len(doc["guests"])
    return ["analyze-sos %s: %d report(s), %d guest(s)%s" % (
        doc["generated_by"].get("version", ""), len(doc["reports"]),
        doc.get("total_guests", len(doc["guests"])), matching), ""]


def _reports(doc: dict[str, Any]) -> list[str]:
    """Each report's host, versions and what could not be read; then the inputs not read at all."""
    out: list[str] = []
    add = out.append
    for r in doc["reports"]:
        pk = r.get("packages") or {}
        add("%s  %s" % (safe(r["id"]), safe(r.get("hostname"))))
        add("  sos %s, collected %s, %s" % (safe(r.get("sos_version")), safe(r.get("collected_at")), safe(r.get("os"), 40)))
        add("  nova %s, libvirt %s, qemu %s" % (safe(pk.get("nova")), safe(pk.get("libvirt")), safe(pk.get("qemu"))))
        add("  source: %s" % safe(r.get("path"), WIDTH - 10))
        out += text_host.capacity_lines(r)
        out += _problems(r.get("problems") or [])
    for e in doc.get("errors") or []:
        add("not read: %s: %s" % (safe(e["path"], 40), safe(e["reason"])))
    add("")
    return out


def _problems(problems: list[dict], shown: int = 10) -> list[str]:
    if not problems:
        return []
    out = ["  %d problem(s) while reading:" % len(problems)]
    for p in problems[:shown]:
        out += ["    " + safe(p["path"], WIDTH - 4), "      " + safe(p["reason"], WIDTH - 6)]
    if len(problems) > shown:
        out.append("    ... %d more (see --format json)" % (len(problems) - shown))
    return out


def _queries(query: Optional[list[dict]]) -> list[str]:
    """What each --guest term matched, and what a person must not miss about it."""
    if query is None:
        return []
    out: list[str] = []
    for q in query:
        if q["matched_by"] is None:
            hint = ", ".join(safe(s) for s in q.get("suggestions") or [])
            out.append("query %s: no match%s" % (safe(q["term"]), "; nearest: " + hint if hint else ""))
            continue
        out.append("query %s: %d guest(s) by %s" % (safe(q["term"]), len(q["guests"]), q["matched_by"]))
        out += ["  ! " + safe(note) for note in ambiguities(q)]
    return out + [""]


def _guest_table(guests: list[dict], hosts: dict[str, str]) -> list[str]:
    """One row per guest and host, then the UUIDs seen on several hosts."""
    widths = [20, 8, 12, 9, 18, 9]
    out = [_cols(widths, ["DISPLAY NAME", "UUID", "HOST", "STATE", "FLAVOR", "NOVA"]), "-" * WIDTH]
    for g in guests:
        nova = g.get("nova") or {}
        out.append(_cols(widths, [g.get("display_name") or ("(%s)" % g.get("domain_name") if g.get("domain_name") else "-"),
                                  g["uuid"][:8], hosts.get(g.get("report"), g.get("host")), g.get("state"),
                                  _flavor(g), nova.get("package_version")]))
    by_uuid = Counter(g["uuid"] for g in guests)
    shared = [u for u, n in by_uuid.items() if n > 1]
    if shared:
        out.append("")
        for u in shared:
            where = ", ".join(safe(hosts.get(g["report"], g.get("host"))) + " (" + safe(g.get("state")) + ")"
                              for g in guests if g["uuid"] == u)
            out.append("! UUID %s appears on several hosts: %s" % (u, where))
    return out


def _findings(findings: list[dict]) -> list[str]:
    return ["", "%d finding(s)" % len(findings)] + [
        "[%s] %s: %s" % (safe(f["severity"]).upper(), safe(f["code"]), safe(f["message"])) for f in findings]


def _detail(g: dict, hosts: dict) -> list[str]:
    """The block a person reads for a guest they asked about with --guest."""
    persistence = {True: "persistent", False: "transient", None: "persistence unknown"}[g.get("persistent")]
    out = ["",
           "== %s  %s  on %s ==" % (safe(g.get("display_name") or g.get("domain_name"), 30), g["uuid"],
                                    safe(hosts.get(g.get("report"), g.get("host")))),
           "  domain %s, %s%s, %s" % (safe(g.get("domain_name")), safe(g.get("state")),
                                      " (%s)" % safe(g["state_reason"]) if g.get("state_reason") else "",
                                      persistence),
           "  resources: %s vCPU, %s MiB" % (safe(g.get("vcpus")), safe(g.get("memory_mb")))]
    out += _nova_detail(g.get("nova") or {}) + _devices(g) + _nova_log(g)
    out += ["  from %s: %s" % (safe(s.get("kind")), safe(s.get("path"), WIDTH - 24)) for s in g.get("sources") or []]
    return out


def _nova_detail(nova: dict) -> list[str]:
    if not nova:
        return ["  no Nova metadata in the domain XML"]
    fl = nova.get("flavor") or {}
    owner = nova.get("owner") or {}
    user, project = owner.get("user") or {}, owner.get("project") or {}
    root = nova.get("root") or {}
    image = nova.get("image") or {}
    out = [
        "  nova %s, created %s" % (safe(nova.get("package_version")), safe(nova.get("creation_time"))),
        "  flavor %s: %s vCPU, %s MiB, disk %s GB, swap %s MiB, ephemeral %s GB" % (
            safe(fl.get("name")), safe(fl.get("vcpus")), safe(fl.get("memory_mb")), safe(fl.get("disk_gb")),
            safe(fl.get("swap_mb")), safe(fl.get("ephemeral_gb"))),
        "  owner %s (%s), project %s (%s)" % (safe(user.get("name")), safe(user.get("uuid")),
                                              safe(project.get("name")), safe(project.get("uuid"))),
        "  root %s %s%s" % (safe(root.get("type")), safe(root.get("uuid")),
                            ", image %s" % safe(image.get("uuid")) if image.get("uuid") else "")]
    for port in nova.get("ports") or []:
        out.append("  port %s %s" % (safe(port.get("uuid")), " ".join(safe(ip.get("address")) for ip in port.get("ips") or [])))
    return out


def _devices(g: dict) -> list[str]:
    """Disks, NICs and where the live definition differs from the persistent one."""
    out = ["  disk %s %s %s %s" % (safe(d.get("target")), safe(d.get("bus")), safe(d.get("driver_type")),
                                   safe(d.get("source"), 50)) for d in g.get("disks") or []]
    out += ["  nic %s %s %s %s" % (safe(i.get("mac")), safe(i.get("type")), safe(i.get("source")), safe(i.get("target_dev")))
            for i in g.get("interfaces") or []]
    out += text_host.guest_lines(g)
    out += ["  ! live %s %s != persistent %s" % (safe(d.get("field")), safe(d.get("live"), 30), safe(d.get("persistent"), 30))
            for d in g.get("differences") or []]
    return out


def _nova_log(g: dict) -> list[str]:
    ncl = (g.get("logs") or {}).get("nova_compute")
    if not ncl:
        return []
    errs = ncl.get("errors") or {}
    when = " from %s to %s" % (safe(errs.get("first_time")), safe(errs.get("last_time"))) if errs.get("count") else ""
    out = ["  nova-compute log: %d line(s) name it, %d error(s)%s" % (ncl.get("total", 0), errs.get("count", 0), when)]
    return out + ["    " + safe(line, WIDTH - 4) for line in errs.get("first_lines") or []]


from analyzer.render import text_host  # noqa: E402  (it imports `safe` from here)
