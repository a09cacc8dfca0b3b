"""Nova's own host settings from `nova.conf` (INI, oslo.config).

    etc/nova/nova.conf (as the rig writes it; sos's openstack_nova plugin masks the secrets in its
    copy, `transport_url = *********`, older or `--no-postproc` reports may not):
    [DEFAULT]
    transport_url = rabbit://nova:rabbitPw@rabbit.example:5672/
    reserved_host_memory_mb = 512
    cpu_allocation_ratio = 1.0
    [compute]
    cpu_dedicated_set = 1
    cpu_shared_set = 0
    [database]
    connection = mysql+pymysql://nova:dbPw@db.example/nova

Only the options below are ever kept: everything else (passwords, transport_url, connection
strings, keys) is skipped while reading, so no secret can reach an output.

>>> s = parse_nova_conf("[DEFAULT]\\ntransport_url = rabbit://nova:pw@h/\\nreserved_host_memory_mb=512\\n"
...                     "[compute]\\ncpu_dedicated_set = 2-3\\ncpu_shared_set = 0-1\\n"
...                     "[database]\\nconnection = mysql://nova:pw@db/nova\\n")
>>> sorted(s.items())
[('cpu_dedicated_set', '2-3'), ('cpu_shared_set', '0-1'), ('reserved_host_memory_mb', '512')]
>>> parse_nova_conf("[DEFAULT]\\nreserved_huge_pages = node:0,size:2048,count:64\\n"
...                 "reserved_huge_pages = node:1,size:2048,count:64\\n")["reserved_huge_pages"]
['node:0,size:2048,count:64', 'node:1,size:2048,count:64']
>>> defaults_for("27.1.0"), defaults_for("20.6.1"), defaults_for(None)
((4.0, 1.0), (16.0, 1.5), (None, None))
"""

from __future__ import annotations

import re
from typing import Optional, Union

# (section, option): the only values ever read. Nova reads vcpu_pin_set and the ratios from
# [DEFAULT], the CPU sets from [compute].
KEPT = {
    ("compute", "cpu_dedicated_set"), ("compute", "cpu_shared_set"), ("default", "vcpu_pin_set"),
    ("default", "reserved_host_memory_mb"), ("default", "reserved_huge_pages"),
    ("default", "cpu_allocation_ratio"), ("default", "ram_allocation_ratio"),
    ("default", "initial_cpu_allocation_ratio"), ("default", "initial_ram_allocation_ratio"),
}
MULTI = {"reserved_huge_pages"}  # a MultiStrOpt: each line adds one
_SECTION = re.compile(r"^\[\s*([^\]]{1,80}?)\s*\]\s*$")
_OPTION = re.compile(r"^([A-Za-z0-9_.-]{1,80})\s*[=:]\s*(.*?)\s*$")


def parse_nova_conf(text: str) -> dict[str, Union[str, list[str]]]:
    """The kept options that are set (option -> value; reserved_huge_pages -> list of values)."""
    out: dict[str, Union[str, list[str]]] = {}
    section = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = _SECTION.match(s)
        if m:
            section = m.group(1).lower()
            continue
        m = _OPTION.match(s)
        if not m or (section, m.group(1)) not in KEPT:
            continue
        name, value = m.group(1), m.group(2)
        if name in MULTI:
            out.setdefault(name, [])
            out[name].append(value)  # type: ignore[union-attr]
        else:
            out[name] = value  # oslo.config: the last one in a file wins
    return out


def defaults_for(nova_version: Optional[str]) -> tuple[Optional[float], Optional[float]]:
    """Nova's (cpu, ram) allocation ratios when nova.conf sets neither the ratio nor the initial
    one: 16.0 / 1.5 until Zed (26.x), 4.0 / 1.0 from 2023.1 Antelope (27.0.0). None when the
    installed Nova is unknown."""
    m = re.match(r"(?:\d+:)?(\d+)\.", nova_version or "")
    if not m:
        return None, None
    major = int(m.group(1))
    if major >= 2000:  # 2014.2-style versions: Juno .. Kilo
        return 16.0, 1.5
    return (4.0, 1.0) if major >= 27 else (16.0, 1.5)


def reserved_huge_pages(values: list[str]) -> list[dict[str, int]]:
    """`node:0,size:2048,count:64` -> {node, size_kib, count}; size may be `1GB`, `2MB`, KiB.

    >>> reserved_huge_pages(["node:0,size:1GB,count:4", "node:1,size:2048,count:64"])
    [{'node': 0, 'size_kib': 1048576, 'count': 4}, {'node': 1, 'size_kib': 2048, 'count': 64}]
    """
    out = []
    for v in values:
        parts = dict(p.split(":", 1) for p in v.replace(" ", "").split(",") if ":" in p)
        size = _size_kib(parts.get("size", ""))
        if parts.get("node", "").isdigit() and parts.get("count", "").isdigit() and size:
            out.append({"node": int(parts["node"]), "size_kib": size, "count": int(parts["count"])})
    return out


def _size_kib(text: str) -> Optional[int]:
    m = re.fullmatch(r"(\d{1,12})\s*([KMGT]?)(?:i?B)?", text, re.I)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "K": 1, "M": 1024, "G": 1024 ** 2, "T": 1024 ** 3}[m.group(2).upper()]
