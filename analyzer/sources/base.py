"""What every source reader is given and what it gives back.

A reader is `read(view: View) -> Readout`: it sees only the members its own `Wanted` entries took
(`view`), and returns guests' sightings, host facts, problems and log events in one shape, so `build` treats
every source alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from analyzer.model import DomainDef, LogEvent, Observation, ParseError, Problem
from analyzer.parsers import domain_xml


@dataclass
class View:
    """The members one source asked for, as one report yielded them."""

    files: Mapping[str, bytes]  # its BYTES members: rel -> data
    tags: Mapping[str, str]  # rel -> tag, for each of its members, in archive order
    prepared: Mapping[str, Any]  # rel -> what the entry's `prepare` made of it on arrival
    streams: Mapping[str, Any]  # tag -> the scanner's result (STREAM members)
    stream_paths: Mapping[str, list[str]]  # tag -> the paths the scanner was fed
    root: Optional[str] = None  # the report's top directory name, when it had one
    links: Mapping[str, str] = field(default_factory=dict)  # rel -> target of its wanted links

    def paths(self, tag: str) -> list[str]:
        """The BYTES members of one tag, in archive order."""
        return [rel for rel, t in self.tags.items() if t == tag and rel in self.files]


@dataclass
class Readout:
    observations: list[Observation] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # Report field -> value (host facts)
    problems: list[Problem] = field(default_factory=list)
    events: list[LogEvent] = field(default_factory=list)  # what logs say happened to instances
    # Host data that is matched against the merged guests (analyzer/capacity.py annotate) but is
    # not itself a Report field: OVS interfaces, the /dev listing, multipath maps.
    host_data: dict[str, Any] = field(default_factory=dict)


def domain(v: View, rel: str, out: Readout) -> Optional[DomainDef]:
    """The domain document `rel`, parsed when it arrived or now; None, its reason a problem of `out`."""
    try:
        return domain_xml.parse_kept(v.files, v.prepared, rel)
    except ParseError as e:
        out.problems.append(Problem(path=rel, reason=str(e)))
        return None
