"""nova-compute log lines per instance, and qemu log tails, found in the single streaming pass.

nova-compute tags every instance-related line with `[instance: UUID]` (oslo.log's instance
adapter), whether the service runs on the host or in a TripleO/kolla container:

    2024-03-01 10:00:05.123 12345 ERROR nova.compute.manager [req-9a1c... - - - - -] [instance: 3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f] Instance failed to spawn: libvirt.libvirtError: ...

Logs can be hundreds of MiB, so memory must not grow with their size: each scanner sees the member
in chunks, keeps per UUID a bounded set of lines (the latest few, the first few errors, counts and
times), and caps how many distinct UUIDs it tracks. Lines that name an instance only in free text
(without the tag) are not attributed. Rotated files (`.log.1`) are merged by timestamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from analyzer.model import ErrorSummary, NovaLog, QemuLog

_TAG = re.compile(rb"\[instance: ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]")
_TIME = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?")

KEEP_LINES = 20
KEEP_ERRORS = 5
MAX_UUIDS = 20000
MAX_LINE = 2000  # characters kept of one line
QEMU_TAIL_LINES = 40
QEMU_TAIL_BYTES = 64 * 1024


def _decode(line: bytes) -> str:
    return line[:MAX_LINE * 4].decode("utf-8", "replace")[:MAX_LINE]


@dataclass
class _Acc:
    lines: list[tuple[bytes, bytes]] = field(default_factory=list)  # (time, line)
    total: int = 0
    errors: int = 0
    first_error: Optional[bytes] = None
    last_error: Optional[bytes] = None
    error_lines: list[tuple[bytes, bytes]] = field(default_factory=list)
    paths: set = field(default_factory=set)


class NovaLogScanner:
    """Fed every nova-compute log member of one report, in any order."""

    def __init__(self) -> None:
        self._acc: dict[str, _Acc] = {}
        self._rest = b""
        self._path = ""
        self.dropped_uuids = 0

    def start(self, path: str) -> None:
        self._path = path
        self._rest = b""

    def feed(self, chunk: bytes) -> None:
        data = self._rest + chunk if self._rest else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            # No line end in sight: keep a bounded head of this overlong line only.
            self._rest = data[:MAX_LINE * 8]
            return
        if _TAG.search(data, 0, cut) is not None:
            self._scan(data, cut)
        self._rest = data[cut:]

    def finish_member(self) -> None:
        if self._rest:
            self._scan(self._rest + b"\n", len(self._rest) + 1)
        self._rest = b""

    def _scan(self, data: bytes, end: int) -> None:
        last_start = -1
        for m in _TAG.finditer(data, 0, end):
            start = data.rfind(b"\n", 0, m.start()) + 1
            if start == last_start:
                continue  # two tags on one line: count the line once
            last_start = start
            stop = data.find(b"\n", m.end(), end)
            line = data[start:stop if stop >= 0 else end]
            uuid = m.group(1).decode("ascii").lower()
            acc = self._acc.get(uuid)
            if acc is None:
                if len(self._acc) >= MAX_UUIDS:
                    self.dropped_uuids += 1
                    continue
                acc = self._acc[uuid] = _Acc()
            acc.paths.add(self._path)
            acc.total += 1
            tm = _TIME.match(line)
            when = tm.group(0) if tm else b""
            head = line[:120].split(None, 4)
            if len(head) > 3 and head[3] in (b"ERROR", b"CRITICAL"):
                acc.errors += 1
                if when:
                    if acc.first_error is None or when < acc.first_error:
                        acc.first_error = when
                    if acc.last_error is None or when > acc.last_error:
                        acc.last_error = when
                acc.error_lines.append((when, line))
                if len(acc.error_lines) > 2 * KEEP_ERRORS:
                    acc.error_lines.sort(key=lambda t: t[0])
                    del acc.error_lines[KEEP_ERRORS:]
            acc.lines.append((when, line))
            if len(acc.lines) > 2 * KEEP_LINES:
                acc.lines.sort(key=lambda t: t[0])
                del acc.lines[:-KEEP_LINES]

    def results(self) -> dict[str, NovaLog]:
        out: dict[str, NovaLog] = {}
        for uuid, acc in self._acc.items():
            acc.lines.sort(key=lambda t: t[0])
            acc.error_lines.sort(key=lambda t: t[0])
            out[uuid] = NovaLog(
                paths=sorted(acc.paths),
                total=acc.total,
                lines=[_decode(line) for _, line in acc.lines[-KEEP_LINES:]],
                errors=ErrorSummary(
                    count=acc.errors,
                    first_time=acc.first_error.decode("ascii") if acc.first_error else None,
                    last_time=acc.last_error.decode("ascii") if acc.last_error else None,
                    first_lines=[_decode(line) for _, line in acc.error_lines[:KEEP_ERRORS]],
                ),
            )
        return out


class QemuTail:
    """The last lines of one qemu log (`var/log/libvirt/qemu/DOMAIN.log`): only a window of bytes
    is ever held."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if len(chunk) >= QEMU_TAIL_BYTES:
            self._tail = chunk[-QEMU_TAIL_BYTES:]
        else:
            self._tail = (self._tail + chunk)[-QEMU_TAIL_BYTES:]

    def result(self) -> QemuLog:
        lines = self._tail.decode("utf-8", "replace").splitlines()
        if len(self._tail) == QEMU_TAIL_BYTES and lines:
            lines = lines[1:]  # the first one is cut
        return QemuLog(path=self.path, tail=[line[:MAX_LINE] for line in lines[-QEMU_TAIL_LINES:]])

    @property
    def domain_name(self) -> str:
        base = self.path.rsplit("/", 1)[-1]
        return base[:-4] if base.endswith(".log") else base
