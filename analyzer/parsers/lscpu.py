"""`lscpu` (sos_commands/processor/lscpu) and `virsh -r nodeinfo`: "Key: value" lines.

    lscpu (this machine):
    CPU(s):                                  2
    On-line CPU(s) list:                     0,1
    NUMA node(s):                            1
    NUMA node0 CPU(s):                       0,1

    virsh -r nodeinfo (this machine):
    CPU(s):              2
    NUMA cell(s):        1
    Memory size:         7825128 KiB

Both print the same "Key:   value" shape; which keys matter is the caller's business.

>>> kv = parse_colon_pairs("CPU(s):     2\\nNUMA node0 CPU(s):   0,1\\nMemory size:    7825128 KiB\\n")
>>> kv["CPU(s)"], kv["NUMA node0 CPU(s)"], kv["Memory size"]
('2', '0,1', '7825128 KiB')
>>> numa_cpus(kv)
{0: '0,1'}
"""

from __future__ import annotations

import re

_LINE = re.compile(r"^(?P<key>[^:]{1,80}):\s*(?P<value>.*?)\s*$")
_NUMA = re.compile(r"NUMA node(\d{1,4}) CPU\(s\)")


def parse_colon_pairs(text: str) -> dict[str, str]:
    """Key -> value of "Key: value" lines (the first of a repeated key wins)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            out.setdefault(m.group("key").strip(), m.group("value"))
    return out


def numa_cpus(pairs: dict[str, str]) -> dict[int, str]:
    """lscpu's "NUMA nodeN CPU(s)" lines: node -> its CPU list (kernel format)."""
    out = {}
    for k, v in pairs.items():
        m = _NUMA.fullmatch(k)
        if m:
            out[int(m.group(1))] = v
    return out
