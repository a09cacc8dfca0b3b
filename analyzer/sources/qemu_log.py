"""The tail of each guest's qemu log, found in the single streaming pass.

    var/log/libvirt/qemu/instance-00000001.log:
    2024-03-01 10:00:05.123+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.0
    LC_ALL=C \\
    ...
    2024-03-01 11:20:00.001+0000: shutting down, reason=destroyed

libvirt names the file after the domain, so a tail is matched to its guest by domain name.
Only a window of bytes of each file is ever held.
"""

from __future__ import annotations

from analyzer.archive.select import STREAM, Wanted
from analyzer.model import KIND_QEMU_LOG, Observation, QemuLog, Source
from analyzer.sources.base import Readout, View

QEMU_TAIL_LINES = 40
QEMU_TAIL_BYTES = 64 * 1024
MAX_LINE = 2000  # characters kept of one line


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




class QemuLogScanner:
    """One QemuTail per member."""

    def __init__(self) -> None:
        self.tails: list[QemuTail] = []

    def start(self, path: str) -> None:
        self.tails.append(QemuTail(path))

    def feed(self, chunk: bytes) -> None:
        self.tails[-1].feed(chunk)

    def finish_member(self) -> None:
        pass

    def result(self) -> list[QemuLog]:
        return [t.result() for t in self.tails]


MEMBERS = (
    Wanted("qemu_log", STREAM, r"var/log/(?:containers/libvirt|libvirt)/qemu/[^/]+\.log",
           ("var/log/libvirt/qemu/", "var/log/containers/libvirt/qemu/"),
           example="var/log/libvirt/qemu/instance-00000001.log", scanner=QemuLogScanner),
)


def domain_name(path: str) -> str:
    """libvirt names the log after the domain.

    >>> domain_name("var/log/libvirt/qemu/instance-00000001.log")
    'instance-00000001'
    """
    base = path.rsplit("/", 1)[-1]
    return base[:-4] if base.endswith(".log") else base


def read(v: View) -> Readout:
    out = Readout()
    for log in v.streams.get("qemu_log", []):
        out.observations.append(Observation(source=Source(KIND_QEMU_LOG, log.path), domain_name=domain_name(log.path),
                                            qemu_log=log))
    return out
