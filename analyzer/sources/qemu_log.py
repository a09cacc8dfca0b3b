"""The tail of each guest's qemu log, found in the single streaming pass.

    var/log/libvirt/qemu/instance-00000001.log:
    2024-03-01 10:00:05.123+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0
    LC_ALL=C \\
    ...
    2024-03-01 11:20:00.001+0000: shutting down, reason=destroyed

libvirt names the file after the domain, so a tail is matched to its guest by domain name.
Only a window of bytes of each file is ever held.

Events (`parsers.qemu_log`): each `starting up` (`qemu-started`; its message ends with
`(-incoming defer)` when the command line after it has `-incoming`: a migration's destination),
`initiating migration`, `shutting down, reason=...`, `terminating on signal ...`, `load of
migration failed`, all in UTC. The instance is the `-uuid` of the command line before the event;
events before any command line get the file's one UUID, if it has one. Rotated files (`.log.1`,
`.log.2.gz`) give events only; the tail is the current file's. At most EVENTS_HEAD + EVENTS_TAIL
events per file are kept (the earliest and the latest), the rest counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from analyzer.archive.select import STREAM, Wanted
from analyzer.model import KIND_QEMU_LOG, LogEvent, Observation, Problem, QemuLog, Source
from analyzer.parsers import qemu_log as qp
from analyzer.parsers.gzip_stream import MemberText
from analyzer.parsers.line_stream import WholeLines
from analyzer.sources.base import Readout, View

QEMU_TAIL_LINES = 40
QEMU_TAIL_BYTES = 64 * 1024
MAX_LINE = 2000  # characters kept of one line
MAX_PENDING = 64 * 1024  # head kept of a line whose end is not in sight (old libvirt's command line)
EVENTS_HEAD, EVENTS_TAIL = 20, 80
_ROTATED = re.compile(r"\.log\.\d+(?:\.gz)?$")


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




class QemuEvents:
    """The events of one qemu log, line by line (only lines a C-speed search marks are looked at)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.domain = domain_name(path)
        # _scan takes exactly the whole lines
        self._whole = WholeLines(lambda data, end: self._scan(data[:end] if end < len(data) else data), MAX_PENDING)
        self._lines = 0
        self._uuid: Optional[str] = None  # of the latest command line
        self._uuids: list[str] = []
        self._pending: Optional[list] = None  # the latest start, until its command line is read
        self.head: list[list] = []  # [kind, time, message, line, uuid]
        self.tail: list[list] = []
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        self._whole.feed(chunk)

    def finish(self) -> None:
        self._whole.finish()
        self._pending = None

    def _scan(self, data: bytes) -> None:
        """Whole lines: the events and command-line arguments among them."""
        rfind, find, count = data.rfind, data.find, data.count
        ln, prev, last = self._lines, 0, -1
        for m in qp.CANDIDATE.finditer(data):
            s = rfind(b"\n", 0, m.start()) + 1
            if s == last:
                continue
            last = s
            ln += count(b"\n", prev, s)
            prev = s
            e = find(b"\n", s)
            line = data[s:e if e - s <= MAX_PENDING else s + MAX_PENDING]
            ev = qp.event_of(line)
            if ev is None:
                uuid, incoming = qp.uuid_arg(line), qp.incoming_arg(line)
                if uuid is not None:
                    self._uuid = uuid
                    if uuid not in self._uuids:
                        self._uuids.append(uuid)
                    if self._pending is not None:
                        self._pending[4] = uuid
                if incoming is not None and self._pending is not None:
                    self._pending[2] += " (-incoming %s)" % incoming
                continue
            kind, when, message = ev
            item = [kind, when, message, ln + 1, self._uuid]
            self._pending = item if kind == "qemu-started" else None
            if len(self.head) < EVENTS_HEAD:
                self.head.append(item)
            else:
                self.tail.append(item)
                if len(self.tail) > 2 * EVENTS_TAIL:
                    self.dropped += len(self.tail) - EVENTS_TAIL
                    del self.tail[:-EVENTS_TAIL]
        self._lines = ln + count(b"\n", prev)

    def events(self) -> list[LogEvent]:
        if len(self.tail) > EVENTS_TAIL:
            self.dropped += len(self.tail) - EVENTS_TAIL
            del self.tail[:-EVENTS_TAIL]
        # Lines before the first command line of the file belong to its one UUID, if one.
        only = self._uuids[0] if len(self._uuids) == 1 else None
        return [LogEvent(kind=k, time=t, clock="utc", message=msg, path=self.path, line=ln, uuid=u or only,
                         domain_name=self.domain) for k, t, msg, ln, u in self.head + self.tail]


@dataclass
class QemuScanned:
    tails: list[QemuLog] = field(default_factory=list)  # current files only
    events: list[LogEvent] = field(default_factory=list)
    dropped_events: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


class QemuLogScanner:
    """One QemuTail (current files) and one QemuEvents per member."""

    def __init__(self) -> None:
        self.tails: list[QemuTail] = []
        self._events: list[QemuEvents] = []
        self._tail: Optional[QemuTail] = None
        self._text = MemberText("")
        self.problems: list[tuple[str, str]] = []

    def start(self, path: str) -> None:
        self._tail = None
        if not _ROTATED.search(path):
            self._tail = QemuTail(path)
            self.tails.append(self._tail)
        self._events.append(QemuEvents(path))
        self._text = MemberText(path)

    def feed(self, chunk: bytes) -> None:
        for piece in self._text.feed(chunk):
            if self._tail is not None:  # the current file only: a rotated (or .gz) one has no tail
                self._tail.feed(piece)
            self._events[-1].feed(piece)

    def finish_member(self) -> None:
        why = self._text.finish()
        if why:
            self.problems.append((self._events[-1].path, why))
        self._events[-1].finish()

    def result(self) -> QemuScanned:
        events = [e for q in self._events for e in q.events()]
        return QemuScanned([t.result() for t in self.tails], events, sum(q.dropped for q in self._events),
                           list(self.problems))


MEMBERS = (
    Wanted("qemu_log", STREAM, r"var/log/(?:containers/libvirt|libvirt)/qemu/[^/]+\.log(?:\.\d+(?:\.gz)?)?",
           ("var/log/libvirt/qemu/", "var/log/containers/libvirt/qemu/"),
           example="var/log/libvirt/qemu/instance-00000001.log", scanner=QemuLogScanner),
)


def domain_name(path: str) -> str:
    """libvirt names the log after the domain.

    >>> domain_name("var/log/libvirt/qemu/instance-00000001.log"), domain_name("x/qemu/web-01.log.2.gz")
    ('instance-00000001', 'web-01')
    """
    base = _ROTATED.sub(".log", path.rsplit("/", 1)[-1])
    return base[:-4] if base.endswith(".log") else base


def read(v: View) -> Readout:
    out = Readout()
    scanned: Optional[QemuScanned] = v.streams.get("qemu_log")
    if scanned is None:
        return out
    for log in scanned.tails:
        out.observations.append(Observation(source=Source(KIND_QEMU_LOG, log.path), domain_name=domain_name(log.path),
                                            qemu_log=log))
    for path, why in scanned.problems:
        out.problems.append(Problem(path, why))
    if scanned.dropped_events:
        out.problems.append(Problem("var/log/libvirt/qemu/", "%d qemu log events not kept (at most %d per file: "
                                    "the earliest and the latest)" % (scanned.dropped_events,
                                                                     EVENTS_HEAD + EVENTS_TAIL)))
    out.events = scanned.events
    return out
