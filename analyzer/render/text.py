"""The terminal output: what a person reads at 80 columns.

Every value that comes from a report goes through `safe()`: a display name holding an escape
sequence must not repaint the engineer's terminal, so control characters are shown escaped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

WIDTH = 80


def safe(value: Any, limit: Optional[int] = None) -> str:
    if value is None:
        return "-"
    text = str(value)
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 1)] + "~"
    return out


def _cols(widths: list[int], values: list[Any]) -> str:
    cells = [safe(v, w).ljust(w) for w, v in zip(widths, values)]
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

    findings = doc.get("findings") or []
    add("")
    add("%d finding(s)" % len(findings))
    for f in findings:
        add("[%s] %s: %s" % (safe(f["severity"]).upper(), safe(f["code"]), safe(f["message"])))
    return "\n".join(lines) + "\n"
