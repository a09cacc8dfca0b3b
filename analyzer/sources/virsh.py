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
from analyzer.archive.select import BYTES, Wanted
from analyzer.model import KIND_VIRSH_DUMPXML, KIND_VIRSH_LIST, Observation, Problem, Source
from analyzer.parsers import domain_xml
from analyzer.parsers.libvirt_state import STATES
from analyzer.sources.base import Readout, View, domain

_DIRS = ("sos_commands/virsh/", "sos_commands/libvirt/")
MEMBERS = (
    Wanted("virsh_dumpxml", BYTES, r"sos_commands/(?:virsh|libvirt)/virsh_-r_dumpxml_[^/]+", _DIRS,
           example="sos_commands/virsh/virsh_-r_dumpxml_instance-00000001", prepare=domain_xml.prepare),
    Wanted("virsh_list", BYTES, r"sos_commands/(?:virsh|libvirt)/virsh_-r_list_--all", _DIRS,
           example="sos_commands/virsh/virsh_-r_list_--all"),
)

_ROW = re.compile(r"^\s*(?P<id>\d+|-)\s+(?P<name>.+?)\s+(?P<state>%s)\s*$" % "|".join(STATES))


def parse_list(text: str) -> list[tuple[str, str, str]]:
    """(id, name, state) rows of `virsh list --all`; names may contain spaces.

    >>> parse_list(" Id   Name            State\\n----\\n 1    instance-00000001   running\\n -    my vm  shut off\\n")
    [('1', 'instance-00000001', 'running'), ('-', 'my vm', 'shut off')]
    """
    rows = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m and not line.lstrip().startswith("Id "):
            rows.append((m.group("id"), m.group("name"), m.group("state")))
    return rows


def read(v: View) -> Readout:
    out = Readout()
    for rel in v.paths("virsh_list"):
        for _id, name, state in parse_list(v.files[rel].decode("utf-8", "replace")):
            out.observations.append(Observation(source=Source(KIND_VIRSH_LIST, rel), domain_name=name,
                                                state=state))
    for rel in v.paths("virsh_dumpxml"):
        data = v.files[rel]
        if not data.strip():
            out.problems.append(Problem(path=rel, reason="empty: the virsh command printed nothing"))
            continue
        d = domain(v, rel, out)
        if d is None:
            continue
        out.observations.append(Observation(
            source=Source(KIND_VIRSH_DUMPXML, rel), uuid=d.uuid, domain_name=d.name, live=d.id is not None,
            definition=d, persistent=None, xml=data))
    return out
