"""`where`, `sql` and `findings` over a store: DuckDB over the views of store.py.

`where` matches like `analyze-sos --guest` by running `analyzer.correlate.match` itself over the
distinct (UUID, domain name, display name) of the store, so both commands can never disagree on
what "web-01" means; then it reads every sighting and event of the matched UUIDs.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
from typing import Any, Optional

from analyzer.fleet.store import Store, connect


class _Named:
    """What `correlate.match` reads of a guest: its UUID and names (a store has tens of thousands
    of them, too many to build full `Guest`s for each query)."""

    __slots__ = ("uuid", "domain_name", "display_name", "host", "report")

    def __init__(self, uuid: str, domain_name: Optional[str], display_name: Optional[str]) -> None:
        self.uuid, self.domain_name, self.display_name = uuid, domain_name, display_name
        self.host = self.report = None


def where(store: Store, query: str) -> dict[str, Any]:
    from analyzer import correlate

    con = connect(store)
    hits, matches = [], []
    # Where a query's first matching rule can be decided in SQL (a UUID or prefix, an exact name),
    # only the rows it names are handed to correlate; when that finds nothing, every name is.
    # correlate's rules go UUID -> prefix -> domain name -> display name -> case-insensitive ->
    # glob, and the first that matches anything wins, so the result is the same.
    pre = _prefilter(query)
    for cond, args in ([pre] if pre else []) + [("TRUE", [])]:
        names = con.execute("SELECT DISTINCT uuid, domain_name, display_name FROM guests "
                            "WHERE uuid IS NOT NULL AND (%s)" % cond, args).fetchall()
        hits, matches = correlate.match([_Named(u, d, n) for u, d, n in names], [query])
        if hits:
            break
    m = matches[0]
    out: dict[str, Any] = {"query": query, "matched_by": m.matched_by, "sightings": [], "events": [],
                           "suggestions": m.suggestions}
    uuids = sorted({g.uuid for g in hits})
    if not uuids:
        return out
    con.execute("CREATE TEMP TABLE _q AS SELECT unnest(?::VARCHAR[]) AS uuid", [uuids])
    rows = con.execute("""
        SELECT g.uuid, g.display_name, g.domain_name, g.project, g."user", g.host, g.state,
               g.state_reason, r.collected_at, r.collected_at_is_utc, r.path, r.sha256,
               g.nova_version, r.nova_version
        FROM guests g JOIN reports r USING (sha256) SEMI JOIN _q USING (uuid)
        ORDER BY r.collected_at NULLS LAST, g.host, r.path, g.uuid""").fetchall()
    keys = ("uuid", "display_name", "domain_name", "project", "user", "host", "state", "state_reason",
            "collected_at", "collected_at_is_utc", "report_path", "report_sha256", "nova_version",
            "installed_nova_version")
    out["sightings"] = [dict(zip(keys, r)) for r in rows]
    # The same log line in two reports of one host is one event: the oldest report's copy is kept.
    ev = con.execute("""
        SELECT uuid, time, time_is_utc, host, kind, peer_host, message, evidence_path, evidence_line,
               sha256 FROM (
            SELECT e.*, row_number() OVER (PARTITION BY e.uuid, e.host, e.time, e.kind, e.message
                                           ORDER BY r.collected_at NULLS LAST, r.sha256) AS n
            FROM events e JOIN reports r USING (sha256) SEMI JOIN _q USING (uuid))
        WHERE n = 1 ORDER BY time NULLS LAST, host, evidence_path, evidence_line""").fetchall()
    out["events"] = [{"uuid": u, "time": t, "time_is_utc": z, "host": h, "kind": k, "peer_host": p,
                      "message": msg, "evidence": {"path": ep, "line": el}, "report_sha256": s}
                     for u, t, z, h, k, p, msg, ep, el, s in ev]
    return out


def _prefilter(term: str) -> Optional[tuple[str, list]]:
    """
    >>> _prefilter("3F1C2D4E-5a6b")[1], _prefilter("web-01")[1], _prefilter("web-*")
    (['3f1c2d4e5a6b%'], ['web-01', 'web-01'], None)
    """
    h = term.strip().replace("-", "").lower()
    if re.fullmatch(r"[0-9a-f]{8,32}", h) and re.fullmatch(r"[0-9a-fA-F-]+", term.strip()):
        return "replace(lower(uuid), '-', '') LIKE ?", [h + "%"]
    if any(c in term for c in "*?["):
        return None
    return "domain_name = ? OR display_name = ?", [term, term]


def _when(stamp: Optional[str], is_utc: Optional[bool]) -> str:
    """
    >>> _when("2026-11-24T06:22:13Z", True), _when("2026-11-24T06:22:13", False), _when(None, None)
    ('2026-11-24 06:22:13Z', '2026-11-24 06:22:13 (host local time)', '(time unknown)')
    """
    if not stamp:
        return "(time unknown)"
    text = stamp.replace("T", " ", 1)
    return text if is_utc or text.endswith("Z") else text + " (host local time)"


def where_text(result: dict[str, Any]) -> str:
    lines = []
    by_uuid: dict[str, list] = {}
    for s in result["sightings"]:
        by_uuid.setdefault(s["uuid"], []).append(s)
    events: dict[str, list] = {}
    for e in result["events"]:
        events.setdefault(e["uuid"], []).append(e)
    for uuid, seen in by_uuid.items():
        last = seen[-1]
        owner = ", ".join(x for x in ("project " + last["project"] if last["project"] else "",
                                      "user " + last["user"] if last["user"] else "") if x)
        lines.append("%s  %s%s" % (uuid, last["display_name"] or last["domain_name"] or "?",
                                   "  (%s)" % owner if owner else ""))
        hosts = []
        for s in seen:
            if s["host"] not in hosts:
                hosts.append(s["host"])
        lines.append("  seen %d time%s on %s" % (len(seen), "" if len(seen) == 1 else "s",
                                                 ", ".join(h or "?" for h in hosts)))
        for s in seen:
            state = s["state"] or "state unknown"
            if s["state_reason"]:
                state += " (%s)" % s["state_reason"]
            lines.append("  %s  %s  %s  booted by nova %s" % (
                _when(s["collected_at"], s["collected_at_is_utc"]), s["host"] or "?", state,
                s["nova_version"] or "?"))
            lines.append("      report %s  sha256 %s" % (s["report_path"], s["report_sha256"]))
        for e in events.get(uuid, []):
            peer = " -> %s" % e["peer_host"] if e["peer_host"] else ""
            lines.append("  event %s  %s  %s%s: %s" % (_when(e["time"], e["time_is_utc"]), e["host"] or "?",
                                                       e["kind"], peer, e["message"] or ""))
            if e["evidence"]["path"]:
                lines.append("      %s:%s" % (e["evidence"]["path"], e["evidence"]["line"] or "?"))
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# sql


def sql(store: Store, text: str) -> tuple[list[str], list[tuple]]:
    con = connect(store)
    cur = con.execute(text)
    if cur.description is None:
        return [], []
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


def _plain(v: Any) -> Any:
    """A DuckDB value as JSON has it (times in ISO 8601, UTC with Z when they carry a zone)."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return v.isoformat() + "Z"
        return v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return v.total_seconds()
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if hasattr(v, "hex") and v.__class__.__name__ == "UUID":
        return str(v)
    return v


def render(cols: list[str], rows: list[tuple], fmt: str) -> str:
    """
    >>> print(render(["n", "host"], [(9, "compute-1")], "json"))
    [{"n": 9, "host": "compute-1"}]
    >>> print(render(["n", "host"], [(9, "compute-1"), (10, None)], "text"), end="")
     n | host
    ---+----------
     9 | compute-1
    10 |
    """
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(cols, r)} for r in rows], ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if v is None else (json.dumps(_plain(v)) if isinstance(v, (list, dict)) else _plain(v))
                        for v in r])
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r[i], (int, float, decimal.Decimal)) and not isinstance(r[i], bool)
                   for r in rows if r[i] is not None) and any(r[i] is not None for r in rows)
               for i in range(len(cols))]

    def line(vals: list[str]) -> str:
        return " | ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()

    out = [line(cols), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells]
    return "\n".join(out) + "\n"


def _cell(v: Any) -> str:
    if v is None:
        return ""
    v = _plain(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    text = str(v)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# ---------------------------------------------------------------------------------------------
# findings

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def findings(store: Store, code: Optional[str] = None, since: Optional[str] = None,
             severity: Optional[str] = None) -> tuple[list[str], list[tuple]]:
    """Findings counted by code, host and the host's installed Nova version, most severe first.
    `since`: only reports collected at or after it (UTC where the report's zone is known)."""
    con = connect(store)
    where, args = [], []
    if code:
        where.append("f.code = ?")
        args.append(code)
    if severity:
        where.append("f.severity = ?")
        args.append(severity)
    if since:
        where.append("r.collected_at >= ?")
        args.append(since)
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    q = """
        SELECT * FROM (
            SELECT f.code, f.severity, f.host, r.nova_version AS nova_version,
                   count(*) AS findings, count(DISTINCT f.sha256) AS reports,
                   min(r.collected_at) AS first_seen, max(r.collected_at) AS last_seen
            FROM findings f JOIN reports r USING (sha256) %s
            GROUP BY ALL)
        ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                 findings DESC, code, host, nova_version NULLS LAST""" % cond
    cur = con.execute(q, args)
    return [d[0] for d in cur.description], cur.fetchall()
