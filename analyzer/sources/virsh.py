"""sos's stock `virsh` plugin output.

    sos_commands/virsh/virsh_-r_list_--all:
     Id   Name                State
    ------------------------------------
     1    instance-00000001   running
     -    instance-00000002   shut off

    sos_commands/virsh/virsh_-r_dumpxml_instance-00000001   (one per domain in that list)

The list gives state by domain NAME (no UUID), so `merge` maps it through the XML of the same
report. `dumpxml` of an inactive domain prints its persistent config: a document with an `id`
attribute is live, one without is the inactive definition.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

from analyzer.model import (KIND_VIRSH_DUMPXML, KIND_VIRSH_LIST, Observation, ParseError, Problem,
                            Source)
from analyzer.parsers.domain_xml import parse_kept

_STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended", "blocked")
_ROW = re.compile(r"^\s*(?P<id>\d+|-)\s+(?P<name>.+?)\s+(?P<state>%s)\s*$" % "|".join(_STATES))


def parse_list(text: str) -> list[tuple[str, str, str]]:
    """(id, name, state) rows of `virsh list --all`; names may contain spaces."""
    rows = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m and not line.lstrip().startswith("Id "):
            rows.append((m.group("id"), m.group("name"), m.group("state")))
    return rows


def read(files: Mapping[str, bytes], tags: Mapping[str, str], prepared: Optional[Mapping[str, object]] = None
         ) -> tuple[list[Observation], list[Problem]]:
    observations: list[Observation] = []
    problems: list[Problem] = []
    for rel, tag in tags.items():
        if tag == "virsh_list":
            for _id, name, state in parse_list(files[rel].decode("utf-8", "replace")):
                observations.append(Observation(source=Source(KIND_VIRSH_LIST, rel), domain_name=name,
                                                state=state))
        elif tag == "virsh_dumpxml":
            data = files[rel]
            if not data.strip():
                problems.append(Problem(path=rel, reason="empty: the virsh command printed nothing"))
                continue
            try:
                d = parse_kept(files, prepared, rel)
            except ParseError as e:
                problems.append(Problem(path=rel, reason=str(e)))
                continue
            live = d.id is not None
            observations.append(Observation(
                source=Source(KIND_VIRSH_DUMPXML, rel), uuid=d.uuid, domain_name=d.name, live=live,
                definition=d, persistent=None, xml=data))
    return observations, problems
