"""The terminal output: what a person reads at 80 columns.

Every value that comes from a report goes through `safe()`: a display name holding an escape
sequence must not repaint the engineer's terminal, so control characters are shown escaped.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any, Optional

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
    """Printable text at most `limit` terminal cells wide; control characters shown escaped."""
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
    lines: list[str] = []
    add = lines.append
    reports = doc["reports"]
    hosts = {r["id"]: r.get("hostname") or r["id"] for r in reports}
    add("analyze-sos %s: %d report(s), %d guest(s)%s" % (
        doc["generated_by"].get("version", ""), len(reports), doc.get("total_guests", len(doc["guests"])),
        "" if doc.get("query") is None else ", %d matching" % len(doc["guests"])))
    add("")
    for r in reports:
        pk = r.get("packages") or {}
        add("%s  %s" % (safe(r["id"]), safe(r.get("hostname"))))
        add("  sos %s, collected %s, %s" % (safe(r.get("sos_version")), safe(r.get("collected_at")), safe(r.get("os"), 40)))
        add("  nova %s, libvirt %s, qemu %s" % (safe(pk.get("nova")), safe(pk.get("libvirt")), safe(pk.get("qemu"))))
        add("  source: %s" % safe(r.get("path"), WIDTH - 10))
        lines.extend(text_host.capacity_lines(r))
        problems = r.get("problems") or []
        if problems:
            add("  %d problem(s) while reading:" % len(problems))
            for p in problems[:10]:
                add("    " + safe(p["path"], WIDTH - 4))
                add("      " + safe(p["reason"], WIDTH - 6))
            if len(problems) > 10:
                add("    ... %d more (see --format json)" % (len(problems) - 10))
    for e in doc.get("errors") or []:
        add("not read: %s: %s" % (safe(e["path"], 40), safe(e["reason"])))
    add("")

    query = doc.get("query")
    if query is not None:
        from analyzer.correlate import ambiguities
        from analyzer.model import QueryMatch

        for q in query:
            if q["matched_by"] is None:
                hint = ", ".join(safe(s) for s in q.get("suggestions") or [])
                add("query %s: no match%s" % (safe(q["term"]), "; nearest: " + hint if hint else ""))
                continue
            add("query %s: %d guest(s) by %s" % (safe(q["term"]), len(q["guests"]), q["matched_by"]))
            for note in ambiguities(QueryMatch(**q)):
                add("  ! " + safe(note))
        add("")

    widths = [20, 8, 12, 9, 18, 9]
    add(_cols(widths, ["DISPLAY NAME", "UUID", "HOST", "STATE", "FLAVOR", "NOVA"]))
    add("-" * WIDTH)
    for g in doc["guests"]:
        nova = g.get("nova") or {}
        add(_cols(widths, [g.get("display_name") or ("(%s)" % g.get("domain_name") if g.get("domain_name") else "-"),
                           g["uuid"][:8], hosts.get(g.get("report"), g.get("host")), g.get("state"),
                           _flavor(g), nova.get("package_version")]))
    by_uuid = Counter(g["uuid"] for g in doc["guests"])
    shared = [u for u, n in by_uuid.items() if n > 1]
    if shared:
        add("")
        for u in shared:
            where = ", ".join(safe(hosts.get(g["report"], g.get("host"))) + " (" + safe(g.get("state")) + ")"
                              for g in doc["guests"] if g["uuid"] == u)
            add("! UUID %s appears on several hosts: %s" % (u, where))

    if query is not None:
        for g in doc["guests"]:
            lines.extend(_detail(g, hosts))

    findings = doc.get("findings") or []
    add("")
    add("%d finding(s)" % len(findings))
    for f in findings:
        add("[%s] %s: %s" % (safe(f["severity"]).upper(), safe(f["code"]), safe(f["message"])))
    return "\n".join(lines) + "\n"


def _detail(g: dict, hosts: dict) -> list[str]:
    """The block a person reads for a guest they asked about with --guest."""
    out = [""]
    add = out.append
    nova = g.get("nova") or {}
    add("== %s  %s  on %s ==" % (safe(g.get("display_name") or g.get("domain_name"), 30), g["uuid"],
                                 safe(hosts.get(g.get("report"), g.get("host")))))
    add("  domain %s, %s%s, %s" % (safe(g.get("domain_name")), safe(g.get("state")),
                                   " (%s)" % safe(g["state_reason"]) if g.get("state_reason") else "",
                                   {True: "persistent", False: "transient", None: "persistence unknown"}[g.get("persistent")]))
    add("  resources: %s vCPU, %s MiB" % (safe(g.get("vcpus")), safe(g.get("memory_mb"))))
    if nova:
        fl = nova.get("flavor") or {}
        add("  nova %s, created %s" % (safe(nova.get("package_version")), safe(nova.get("creation_time"))))
        add("  flavor %s: %s vCPU, %s MiB, disk %s GB, swap %s MiB, ephemeral %s GB" % (
            safe(fl.get("name")), safe(fl.get("vcpus")), safe(fl.get("memory_mb")), safe(fl.get("disk_gb")),
            safe(fl.get("swap_mb")), safe(fl.get("ephemeral_gb"))))
        owner = nova.get("owner") or {}
        user, project = owner.get("user") or {}, owner.get("project") or {}
        add("  owner %s (%s), project %s (%s)" % (safe(user.get("name")), safe(user.get("uuid")),
                                                  safe(project.get("name")), safe(project.get("uuid"))))
        root = nova.get("root") or {}
        image = nova.get("image") or {}
        add("  root %s %s%s" % (safe(root.get("type")), safe(root.get("uuid")),
                                ", image %s" % safe(image.get("uuid")) if image.get("uuid") else ""))
        for port in nova.get("ports") or []:
            add("  port %s %s" % (safe(port.get("uuid")), " ".join(safe(ip.get("address")) for ip in port.get("ips") or [])))
    else:
        add("  no Nova metadata in the domain XML")
    for d in g.get("disks") or []:
        add("  disk %s %s %s %s" % (safe(d.get("target")), safe(d.get("bus")), safe(d.get("driver_type")),
                                    safe(d.get("source"), 50)))
    for i in g.get("interfaces") or []:
        add("  nic %s %s %s %s" % (safe(i.get("mac")), safe(i.get("type")), safe(i.get("source")), safe(i.get("target_dev"))))
    out.extend(text_host.guest_lines(g))
    for d in g.get("differences") or []:
        add("  ! live %s %s != persistent %s" % (safe(d.get("field")), safe(d.get("live"), 30), safe(d.get("persistent"), 30)))
    ncl = (g.get("logs") or {}).get("nova_compute")
    if ncl:
        errs = ncl.get("errors") or {}
        add("  nova-compute log: %d line(s) name it, %d error(s)%s" % (
            ncl.get("total", 0), errs.get("count", 0),
            " from %s to %s" % (safe(errs.get("first_time")), safe(errs.get("last_time"))) if errs.get("count") else ""))
        for line in errs.get("first_lines") or []:
            add("    " + safe(line, WIDTH - 4))
    for s in g.get("sources") or []:
        add("  from %s: %s" % (safe(s.get("kind")), safe(s.get("path"), WIDTH - 24)))
    return out


from analyzer.render import text_host  # noqa: E402  (it imports `safe` from here)
