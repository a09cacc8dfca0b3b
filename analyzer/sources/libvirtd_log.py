"""Errors naming a domain in libvirtd's or virqemud's own log file, found in the streaming pass.

    var/log/libvirt/libvirtd.log:
    2025-11-19 10:02:11.801+0000: 1534: error : qemuProcessReportLogError:2051 : internal error: QEMU unexpectedly closed the monitor (vm='instance-00000002'): ...

With debug filters these files reach GiBs, so only the lines holding `: error : ` are looked at
(found with bytes.find); each one that names a domain (`parsers.libvirt_log`) is an `error`
event in UTC with the domain's name or UUID. At most ERRORS_HEAD + ERRORS_TAIL per domain are
kept (the earliest and the latest) and at most MAX_DOMAINS domains; the rest is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from analyzer.archive.select import STREAM, Wanted
from analyzer.model import LogEvent, Problem
from analyzer.parsers import libvirt_log
from analyzer.parsers.gzip_stream import MemberText
from analyzer.parsers.line_stream import WholeLines
from analyzer.sources.base import Readout, View

ERRORS_HEAD, ERRORS_TAIL = 5, 20
MAX_DOMAINS = 2000
MAX_PENDING = 64 * 1024
MAX_LINE_BYTES = 8192


@dataclass
class LibvirtdScanned:
    events: list[LogEvent] = field(default_factory=list)
    dropped_events: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


class LibvirtdLogScanner:
    def __init__(self) -> None:
        self._path = ""
        self._whole = WholeLines(self._scan, MAX_PENDING)
        self._lines = 0
        self._text = MemberText("")
        self._kept: dict[str, list] = {}  # domain key -> [(time, path, line, error)]
        self.dropped = 0
        self.problems: list[tuple[str, str]] = []

    def start(self, path: str) -> None:
        self._path, self._lines = path, 0
        self._whole = WholeLines(self._scan, MAX_PENDING)
        self._text = MemberText(path)

    def feed(self, chunk: bytes) -> None:
        for piece in self._text.feed(chunk):
            self._whole.feed(piece)

    def finish_member(self) -> None:
        why = self._text.finish()
        if why:
            self.problems.append((self._path, why))
        self._whole.finish()

    def _scan(self, data: bytes, end: int) -> None:
        find, rfind, count = data.find, data.rfind, data.count
        ln, prev = self._lines, 0
        p = find(libvirt_log.ERROR_MARK, 0, end)
        while p >= 0:
            s = rfind(b"\n", 0, p) + 1
            e = find(b"\n", p, end)
            e = end if e < 0 else e
            ln += count(b"\n", prev, s)
            prev = s
            err = libvirt_log.parse_error(data[s:min(e, s + MAX_LINE_BYTES)])
            if err is not None and (err.uuid or err.domain_name):
                self._keep(err, ln + 1)
            p = find(libvirt_log.ERROR_MARK, e, end)
        self._lines = ln + count(b"\n", prev, end)

    def _keep(self, err: libvirt_log.LibvirtError, line: int) -> None:
        key = err.uuid or err.domain_name or ""
        kept = self._kept.get(key)
        if kept is None:
            if len(self._kept) >= MAX_DOMAINS:
                self.dropped += 1
                return
            kept = self._kept[key] = []
        kept.append((err.time, self._path, line, err))
        if len(kept) > ERRORS_HEAD + 2 * ERRORS_TAIL:
            self._trim(kept)

    def _trim(self, kept: list) -> None:
        kept.sort(key=lambda k: k[:3])
        n = len(kept) - ERRORS_HEAD - ERRORS_TAIL
        if n > 0:
            del kept[ERRORS_HEAD:ERRORS_HEAD + n]
            self.dropped += n

    def result(self) -> LibvirtdScanned:
        out: list[LogEvent] = []
        for kept in self._kept.values():
            self._trim(kept)
            for t, path, line, err in kept:
                out.append(LogEvent(kind="error", time=t, clock="utc", message=err.message, path=path, line=line,
                                    uuid=err.uuid, domain_name=err.domain_name))
        return LibvirtdScanned(out, self.dropped, list(self.problems))


MEMBERS = (
    Wanted("libvirtd_log", STREAM,
           r"var/log/(?:containers/libvirt|kolla/libvirt|libvirt)/(?:libvirtd|virtqemud)\.log(?:\.\d+(?:\.gz)?)?",
           ("var/log/libvirt/", "var/log/containers/libvirt/", "var/log/kolla/libvirt/"),
           example="var/log/libvirt/virtqemud.log", scanner=LibvirtdLogScanner),
)


def read(v: View) -> Readout:
    out = Readout()
    scanned: Optional[LibvirtdScanned] = v.streams.get("libvirtd_log")
    if scanned is None:
        return out
    for path, why in scanned.problems:
        out.problems.append(Problem(path, why))
    if scanned.dropped_events:
        out.problems.append(Problem(", ".join(v.stream_paths.get("libvirtd_log", [])[:3]),
                                    "%d libvirt log errors not kept (at most %d per domain: the earliest and the "
                                    "latest)" % (scanned.dropped_events, ERRORS_HEAD + ERRORS_TAIL)))
    out.events = scanned.events
    return out
