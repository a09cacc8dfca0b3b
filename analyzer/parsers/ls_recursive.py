"""A recursive long listing of /dev, as sos's block plugin writes it.

    sos_commands/block/ls_-lanR_.dev (sos 4.0; this machine, with the rig's /dev/disk/by-id):
    /dev:
    total 4
    drwxr-xr-x  6 0 0     2180 Dec  2 05:37 .
    brw-------  1 0 0   7,   0 Dec  2 01:00 loop0
    drwxr-xr-x  3 0 0       60 Dec  2 06:20 disk
    lrwxrwxrwx  1 0 0       13 Dec  2 05:37 fd -> /proc/self/fd

    /dev/disk/by-id:
    lrwxrwxrwx  1 0 0       10 Dec  2 06:20 host13-vol-a -> /dev/loop0

    sos_commands/block/ls_-alZR_.dev (sos 4.9: names, and an SELinux context column, "?" here):
    /dev:
    brw-------  1 root root ?   7,   0 Dec  2 01:00 loop0

Each entry is kept as its full path with its type letter (b, c, d, l, -, ...) and, for a link,
its target. A name with " -> " in it is read as a link (ls gives no way to tell).

>>> d = parse_listing("/dev:\\ntotal 4\\ndrwxr-xr-x  6 0 0   2180 Dec  2 05:37 .\\n"
...                   "brw-------  1 0 0   7,   0 Dec  2 01:00 loop0\\n\\n/dev/disk/by-id:\\n"
...                   "lrwxrwxrwx  1 root root ?  10 Dec  2 06:20 host13-vol-a -> /dev/loop0\\n")
>>> sorted(d)
['/dev', '/dev/disk/by-id', '/dev/disk/by-id/host13-vol-a', '/dev/loop0']
>>> d['/dev/loop0'], d['/dev/disk/by-id/host13-vol-a']
(('b', None), ('l', '/dev/loop0'))
"""

from __future__ import annotations

import re
from typing import Optional

_HEADER = re.compile(r"^(?P<dir>/\S.*):$")
# mode, then anything (links, owner, group, context, size or "major, minor"), then the date
# ("Dec  2 05:37" or "Dec  2  2025" or an ISO stamp), then the name
_ENTRY = re.compile(r"^(?P<type>[-bcdlpsD])[rwxsStT-]{9}\S?\s+.*?\s"
                    r"(?:[A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{1,2}:\d\d|\d{4})|\d{4}-\d\d-\d\d \d\d:\d\d\S*)"
                    r"\s(?P<name>.+)$")


def parse_listing(text: str) -> dict[str, tuple[str, Optional[str]]]:
    """Absolute path -> (type letter, link target or None) for every entry and every directory."""
    out: dict[str, tuple[str, Optional[str]]] = {}
    cur: Optional[str] = None
    for line in text.splitlines():
        h = _HEADER.match(line)
        if h:
            cur = h.group("dir").rstrip("/") or "/"
            out.setdefault(cur, ("d", None))
            continue
        if cur is None:
            continue
        m = _ENTRY.match(line)
        if not m:
            continue
        name, target = m.group("name"), None
        if m.group("type") == "l" and " -> " in name:
            name, target = name.split(" -> ", 1)
        if name in (".", ".."):
            continue
        out.setdefault(cur + "/" + name, (m.group("type"), target))
    return out
