"""A domain's qemu log (`var/log/libvirt/qemu/DOMAIN.log`): libvirt's and qemu's own lines, in UTC.

libvirt writes `TIME+0000: MESSAGE` around each start and stop, with the command line (one
argument a line since libvirt 1.2.x, one long line before) after `starting up`; qemu writes
`TIMEZ PROGRAM: MESSAGE` (`-msg timestamp=on`, or no time at all without it):

>>> for line in [b"2025-11-19 08:59:45.123+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 "
...              b"(Debian), qemu version: 7.2.0Debian 1:7.2+dfsg-7, kernel: 6.1.0-13-amd64, hostname: compute-1",
...              b"-uuid 3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f \\\\", b"-incoming defer \\\\",
...              b"2025-11-19 09:59:40.701+0000: initiating migration",
...              b"2025-11-19T09:59:41.002113Z qemu-system-x86_64: terminating on signal 15 from pid 1510 "
...              b"(/usr/sbin/libvirtd)",
...              b"2025-11-19 09:59:41.214+0000: shutting down, reason=migrated",
...              b"2025-11-19T10:02:11.771552Z qemu-kvm: load of migration failed: Input/output error"]:
...     print(event_of(line) or (uuid_arg(line), incoming_arg(line)))
('qemu-started', '2025-11-19T08:59:45.123', 'starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0Debian 1:7.2+dfsg-7, kernel: 6.1.0-13-amd64, hostname: compute-1')
('3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f', None)
(None, 'defer')
('migration-started', '2025-11-19T09:59:40.701', 'initiating migration')
('qemu-stopped', '2025-11-19T09:59:41.002', 'terminating on signal 15 from pid 1510 (/usr/sbin/libvirtd)')
('qemu-stopped', '2025-11-19T09:59:41.214', 'shutting down, reason=migrated')
('migration-failed', '2025-11-19T10:02:11.771', 'load of migration failed: Input/output error')

Old libvirt's one-line command line holds both arguments:

>>> line = (b"LC_ALL=C PATH=/bin QEMU_AUDIO_DRV=none /usr/libexec/qemu-kvm -name instance-00000002 -S -m 2048 "
...         b"-uuid 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d -nographic -incoming tcp:[::]:49152")
>>> uuid_arg(line), incoming_arg(line)
('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'tcp:[::]:49152')
>>> event_of(b"qemu-system-x86_64: terminating on signal 15 from pid 2201 (<unknown process>)")
('qemu-stopped', None, 'terminating on signal 15 from pid 2201 (<unknown process>)')
"""

from __future__ import annotations

import re
from typing import Optional

_UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LIBVIRT = re.compile(rb"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?\+0000: (.*)")
_QEMU = re.compile(rb"(?:(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z )?[\w./-]*qemu[\w.-]*: (.*)")
_UUID_ARG = re.compile(rb"(?:^|\s)-uuid\s+(" + _UUID + rb")(?!\S)")
_INCOMING_ARG = re.compile(rb"(?:^|\s)-incoming\s+([^\s\\]+)")
# What a line must hold to matter: a cheap search over a whole chunk finds the few such lines.
CANDIDATE = re.compile(rb"starting up|initiating migration|shutting down|terminating on signal|"
                       rb"load of migration failed|-uuid\s|-incoming\s")

_LIBVIRT_EVENTS = ((b"starting up", "qemu-started"), (b"initiating migration", "migration-started"),
                   (b"shutting down", "qemu-stopped"))
_QEMU_EVENTS = ((b"terminating on signal", "qemu-stopped"), (b"load of migration failed", "migration-failed"))

MAX_MESSAGE = 2000  # characters


def _time(day: Optional[bytes], clock: Optional[bytes], frac: Optional[bytes]) -> Optional[str]:
    if day is None or clock is None:
        return None
    t = (day + b"T" + clock).decode("ascii")
    return t + frac[:4].decode("ascii") if frac else t


def _text(b: bytes) -> str:
    if b.endswith(b"\r"):
        b = b[:-1]
    return b[:MAX_MESSAGE * 4].decode("utf-8", "replace")[:MAX_MESSAGE]


def event_of(line: bytes) -> Optional[tuple[str, Optional[str], str]]:
    """(kind, UTC time or None, message) of a line that states an event, else None."""
    m = _LIBVIRT.match(line)
    if m is not None:
        msg = m.group(4)
        for phrase, kind in _LIBVIRT_EVENTS:
            if msg.startswith(phrase):
                return kind, _time(m.group(1), m.group(2), m.group(3)), _text(msg)
        return None
    m = _QEMU.match(line)
    if m is not None:
        msg = m.group(4)
        for phrase, kind in _QEMU_EVENTS:
            if phrase in msg[:200]:
                return kind, _time(m.group(1), m.group(2), m.group(3)), _text(msg)
    return None


def uuid_arg(line: bytes) -> Optional[str]:
    """The domain's UUID when the line holds qemu's `-uuid` argument."""
    m = _UUID_ARG.search(line)
    return m.group(1).decode("ascii").lower() if m else None


def incoming_arg(line: bytes) -> Optional[str]:
    """`-incoming`'s value (`defer`, `tcp:[::]:49152`): this qemu is a migration's destination."""
    m = _INCOMING_ARG.search(line)
    return m.group(1).decode("utf-8", "replace")[:200] if m else None
