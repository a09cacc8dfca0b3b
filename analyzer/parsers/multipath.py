"""`multipath -ll` (sos_commands/multipath/multipath_-ll): each map and the state of its paths.

The rig has no multipath device (no SAN here, so sos's multipath plugin writes an empty file or
none); the shape below is the one multipath-tools 0.8-0.9 print, as their man page shows it:

    mpatha (3600140513aa00000000000000000001) dm-2 LIO-ORG,vol01
    size=1.0G features='0' hwhandler='1 alua' wp=rw
    |-+- policy='service-time 0' prio=50 status=active
    | `- 2:0:0:1 sdb 8:16 active ready running
    `-+- policy='service-time 0' prio=10 status=enabled
      `- 3:0:0:1 sdc 8:32 failed faulty running

A map without a user-friendly name prints the WWID first (`3600140513aa... dm-2 LIO-ORG,vol01`).

>>> m = parse_multipath("mpatha (3600140513aa00000000000000000001) dm-2 LIO-ORG,vol01\\n"
...     "size=1.0G features='0' hwhandler='1 alua' wp=rw\\n"
...     "|-+- policy='service-time 0' prio=50 status=active\\n| `- 2:0:0:1 sdb 8:16 active ready running\\n"
...     "`-+- policy='service-time 0' prio=10 status=enabled\\n  `- 3:0:0:1 sdc 8:32 failed faulty running\\n")
>>> [(x.name, x.wwid, x.dm, x.paths_active, x.paths_total) for x in m]
[('mpatha', '3600140513aa00000000000000000001', 'dm-2', 1, 2)]
>>> m[0].paths
['sdb', 'sdc']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

_MAP = re.compile(r"^(?P<name>[^\s|`]\S*)\s+(?:\((?P<wwid>[^)\s]+)\)\s+)?(?P<dm>dm-\d+)(?:\s|$)")
_PATH = re.compile(r"[|`\s-]*\d+:\d+:\d+:\d+\s+(?P<dev>\S+)\s+\d+:\d+\s+(?P<dm>active|failed|undef)\s+(?P<chk>\S+)")


@dataclass
class MultipathMap:
    name: str  # the alias (mpatha) or, without one, the WWID
    wwid: Optional[str]
    dm: str  # dm-N
    paths_active: int = 0
    paths_total: int = 0
    paths: list[str] = field(default_factory=list)  # the path devices (sdb, sdc)


def parse_multipath(text: str) -> list[MultipathMap]:
    maps: list[MultipathMap] = []
    for line in text.splitlines():
        m = _MAP.match(line)
        if m and not line.startswith(("size=", "|", "`")):
            wwid = m.group("wwid") or m.group("name")
            maps.append(MultipathMap(name=m.group("name"), wwid=wwid, dm=m.group("dm")))
            continue
        p = _PATH.match(line)
        if p and maps:
            maps[-1].paths_total += 1
            maps[-1].paths.append(p.group("dev"))
            if p.group("dm") == "active" and p.group("chk") == "ready":
                maps[-1].paths_active += 1
    return maps
