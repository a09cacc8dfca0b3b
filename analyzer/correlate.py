"""`--guest QUERY`: find the guest a user is talking about, on every host.

Users say "web-01"; Nova says a UUID; libvirt says instance-0000a3f1. A query is tried as, in order:
a full UUID, a UUID prefix of 8+ hex digits (any case, dashes optional), a libvirt domain name, a
Nova display name (exact, then case-insensitive), and a shell glob over both names. The first kind
that matches anything wins, so `web-01` never drags in `web-010`. Pure functions: no I/O.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from typing import Any, Callable, Mapping

from analyzer.model import Guest, QueryMatch

_HEX = re.compile(r"^[0-9a-f]+$")


def _hex(uuid: str) -> str:
    return uuid.replace("-", "").lower()


def _strategies(term: str) -> list[tuple[str, Callable[[Guest], bool]]]:
    out: list[tuple[str, Callable[[Guest], bool]]] = []
    h = _hex(term.strip())
    if _HEX.match(h) and len(h) == 32:
        out.append(("uuid", lambda g: _hex(g.uuid) == h))
    elif _HEX.match(h) and len(h) >= 8 and re.match(r"^[0-9a-fA-F-]+$", term.strip()):
        out.append(("uuid-prefix", lambda g: _hex(g.uuid).startswith(h)))
    out.append(("domain-name", lambda g: g.domain_name == term))
    out.append(("display-name", lambda g: g.display_name == term))
    low = term.casefold()
    out.append(("display-name-ci", lambda g: g.display_name is not None and g.display_name.casefold() == low))
    if any(c in term for c in "*?["):
        out.append(("glob", lambda g: any(n is not None and fnmatch.fnmatchcase(n.casefold(), low)
                                          for n in (g.domain_name, g.display_name))))
    return out


def match(guests: list[Guest], terms: list[str]) -> tuple[list[Guest], list[QueryMatch]]:
    """The guests any term matches (input order kept, each once) and what each term matched."""
    picked: dict[int, Guest] = {}
    queries: list[QueryMatch] = []
    for term in terms:
        q = QueryMatch(term=term, matched_by=None)
        for kind, pred in _strategies(term):
            hits = [g for g in guests if pred(g)]
            if hits:
                q.matched_by = kind
                q.guests = [{"uuid": g.uuid, "host": g.host, "report": g.report,
                             "display_name": g.display_name, "domain_name": g.domain_name} for g in hits]
                for g in hits:
                    picked[id(g)] = g
                break
        else:
            q.suggestions = suggest(guests, term)
        queries.append(q)
    ordered = [g for g in guests if id(g) in picked]
    return ordered, queries


def suggest(guests: list[Guest], term: str, n: int = 5) -> list[str]:
    names = sorted({x for g in guests for x in (g.display_name, g.domain_name) if x})
    lowered = {x.casefold(): x for x in names}
    close = difflib.get_close_matches(term.casefold(), list(lowered), n=n, cutoff=0.5)
    hits = [lowered[c] for c in close]
    if len(hits) < n:
        hits += [x for x in names if term.casefold() in x.casefold() and x not in hits][: n - len(hits)]
    return hits


def ambiguities(q: Mapping[str, Any]) -> list[str]:
    """Plain sentences for what a person must not miss about one query's match.

    Takes a `query[]` entry of the JSON document (what the renderers read), so the text and the
    HTML report say the same thing.

    >>> hit = {"term": "web-01", "matched_by": "display-name", "guests": [
    ...     {"uuid": "u1", "host": "compute-1"}, {"uuid": "u1", "host": "compute-2"},
    ...     {"uuid": "u2", "host": "compute-1"}]}
    >>> for note in ambiguities(hit): print(note)
    'web-01' matches 2 different instances (UUIDs): check which one the user means
    UUID u1 is defined on 2 hosts: compute-1, compute-2
    """
    guests = q.get("guests") or []
    uuids = sorted({g["uuid"] for g in guests if g.get("uuid")})
    notes = []
    if q.get("matched_by") in ("display-name", "display-name-ci", "glob") and len(uuids) > 1:
        notes.append("%r matches %d different instances (UUIDs): check which one the user means"
                     % (q.get("term"), len(uuids)))
    for uuid in uuids:
        hosts = sorted({g.get("host") or g.get("report") or "?" for g in guests if g.get("uuid") == uuid})
        if len(hosts) > 1:
            notes.append("UUID %s is defined on %d hosts: %s" % (uuid, len(hosts), ", ".join(hosts)))
    return notes
