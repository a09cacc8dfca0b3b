"""libvirtd's and virtqemud's own log file (`log_outputs="...:file:/var/log/libvirt/libvirtd.log"`).

Each line is `TIME+0000: THREAD: LEVEL : FUNCTION:LINE : MESSAGE`, in UTC; LEVEL is one of debug,
info, warning, error. An error that concerns one domain names it in its message, in one of a few
ways (`vm='NAME'`, `domain 'NAME'`, `matching name 'NAME'`, a UUID):

>>> line = (b"2025-11-19 09:59:41.220+0000: 1533: error : qemuMonitorIORead:421 : Unable to read from "
...         b"monitor: Connection reset by peer")
>>> p = parse_error(line); p.time, p.function, p.message
('2025-11-19T09:59:41.220', 'qemuMonitorIORead', 'Unable to read from monitor: Connection reset by peer')
>>> p.domain_name, p.uuid
(None, None)
>>> p = parse_error(b"2025-11-19 10:02:11.801+0000: 1534: error : qemuProcessReportLogError:2051 : internal "
...                 b"error: QEMU unexpectedly closed the monitor (vm='instance-00000002'): 2025-11-19T10:02:11"
...                 b".771552Z qemu-system-x86_64: load of migration failed: Input/output error")
>>> p.domain_name, p.message[:40]
('instance-00000002', 'internal error: QEMU unexpectedly closed')
>>> parse_error(b"2025-11-19 10:05:00.001+0000: 1531: error : virDomainObjListFindByUUID:102 : Domain not "
...             b"found: no domain with matching uuid '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f' (instance-00000001)").uuid
'3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f'
>>> parse_error(b"2025-11-19 10:05:00.001+0000: 1531: warning : x:1 : not an error") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

ERROR_MARK = b": error : "  # what an error line holds, found with bytes.find
_LINE = re.compile(rb"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?\+0000: \d+: error : ([^ :]+):\d+ : (.*)")
_UUID = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NAME = re.compile(rb"vm='([^'\n]{1,256})'|[Dd]omain '([^'\n]{1,256})'|matching name '([^'\n]{1,256})'|"
                   rb"\((instance-[0-9a-f]{8})\)")
MAX_MESSAGE = 2000


@dataclass
class LibvirtError:
    time: str  # UTC, "YYYY-MM-DDTHH:MM:SS[.fff]"
    function: str
    message: str
    domain_name: Optional[str]
    uuid: Optional[str]


def parse_error(line: bytes) -> Optional[LibvirtError]:
    """An error line of the file, or None for any other line."""
    if line.endswith(b"\r"):
        line = line[:-1]
    m = _LINE.match(line)
    if m is None:
        return None
    msg = m.group(5)
    frac = m.group(3)
    t = (m.group(1) + b"T" + m.group(2) + (frac[:4] if frac else b"")).decode("ascii")
    n = _NAME.search(msg)
    name = next(g for g in n.groups() if g is not None).decode("utf-8", "replace") if n else None
    u = _UUID.search(msg)
    return LibvirtError(t, m.group(4).decode("ascii", "replace"),
                        msg[:MAX_MESSAGE * 4].decode("utf-8", "replace")[:MAX_MESSAGE], name,
                        u.group(0).decode("ascii").lower() if u else None)
