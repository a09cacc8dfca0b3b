"""The kernel's memory counters: `proc/meminfo` and each NUMA node's `meminfo`.

    proc/meminfo (this machine):
    MemTotal:       24683568 kB
    MemFree:        21945788 kB
    HugePages_Total:      40
    HugePages_Free:       24
    Hugepagesize:       2048 kB

    sys/devices/system/node/node0/meminfo (the same counters, per node, with a prefix):
    Node 0 MemTotal:        7825128 kB
    Node 0 MemFree:         5087400 kB
    Node 0 HugePages_Total:    40

Values are kB (KiB) where a unit is printed, page counts where none is.

>>> m = parse_meminfo("MemTotal:       24683568 kB\\nHugePages_Total:      40\\nHugepagesize:       2048 kB\\n")
>>> m["MemTotal"], m["HugePages_Total"], m["Hugepagesize"]
(24683568, 40, 2048)
>>> parse_meminfo("Node 0 MemTotal:        7825128 kB\\nNode 0 MemFree:  5087400 kB\\n")
{'MemTotal': 7825128, 'MemFree': 5087400}
>>> parse_meminfo("garbage\\n")
{}
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^(?:Node\s+\d+\s+)?(?P<key>[A-Za-z0-9_()]+):\s+(?P<value>\d{1,20})(?:\s+kB)?\s*$")


def parse_meminfo(text: str) -> dict[str, int]:
    """Counter name -> value (kB, or a page count); lines of any other shape are ignored."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            out.setdefault(m.group("key"), int(m.group("value")))
    return out
