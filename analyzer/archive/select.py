"""Which members of a sosreport are read, and how: driven by a table the caller hands in.

A large compute-host report has tens of thousands of members; the analyzer needs a few hundred.
The archive layer knows nothing of what a member means: each source module declares `Wanted`
entries (analyzer/sources/), and a `Selection` built from all of them decides per member with one
compiled regular expression, so the cost of a member nobody wants is one `match` call.

Every path is relative to the report root (the `sosreport-HOST-DATE-xxxx/` top is stripped).
A member is taken one of two ways:

    BYTES   kept whole in memory (size-capped); `prepare` may work on it as soon as it arrives
    STREAM  fed chunk by chunk to the source's scanner: memory does not grow with its size

>>> sel = Selection([Wanted("hostname", BYTES, r"sos_commands/host/hostname", ("sos_commands/host/",)),
...                  Wanted("log", STREAM, r"var/log/nova/nova-compute\\.log(?:\\.\\d+)?", ("var/log/nova/",),
...                         scanner=list)])
>>> sel.want("sos_commands/host/hostname").tag, sel.want("var/log/nova/nova-compute.log.1").mode
('hostname', 'stream')
>>> sel.want("etc/passwd") is None, sel.may_contain("var/log"), sel.may_contain("proc")
(True, True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, Sequence

BYTES = "bytes"
STREAM = "stream"


class Scanner(Protocol):
    """Consumes the STREAM members of one tag in one report, one member after the other."""

    def start(self, path: str) -> None: ...

    def feed(self, chunk: bytes) -> None: ...

    def finish_member(self) -> None: ...

    def result(self) -> Any: ...


@dataclass(frozen=True)
class Wanted:
    """One kind of member a source reads."""

    tag: str  # unique name; the reader finds its members by it
    mode: str  # BYTES or STREAM
    pattern: str  # regular expression over the whole report-relative path
    dirs: tuple[str, ...]  # directories ("x/y/") holding such members: a tree walk prunes the rest
    deep: bool = False  # members may sit anywhere below `dirs` (not only in them)
    example: str = ""  # a real path it matches, for people and for the registry's test
    link: bool = False  # the member is a symbolic link and its target is what is read
    # BYTES: (path, data) -> anything worth computing at once, kept in Collected.prepared
    prepare: Optional[Callable[[str, bytes], Any]] = None
    # STREAM: makes the one scanner that sees every member of this tag in a report
    scanner: Optional[Callable[[], Scanner]] = None


class Selection:
    """The compiled form of every source's `Wanted` entries."""

    def __init__(self, wanted: Sequence[Wanted]) -> None:
        self.wanted = {w.tag: w for w in wanted}
        if len(self.wanted) != len(wanted):
            raise ValueError("two Wanted entries share a tag")
        for w in wanted:
            if w.mode not in (BYTES, STREAM) or (w.mode == STREAM) != (w.scanner is not None):
                raise ValueError("%s: a STREAM member needs a scanner, a BYTES member none" % w.tag)
        self._rx = re.compile("(?:%s)\\Z" % "|".join("(?P<%s>%s)" % (w.tag, w.pattern) for w in wanted))
        self._dirs = tuple(sorted({d for w in wanted for d in w.dirs}))
        self._deep = tuple(sorted({d for w in wanted if w.deep for d in w.dirs}))

    def want(self, relpath: str) -> Optional[Wanted]:
        """The entry for a member some source reads, None for one nobody reads."""
        m = self._rx.match(relpath)
        return None if m is None else self.wanted[m.lastgroup]  # type: ignore[index]

    def may_contain(self, reldir: str) -> bool:
        """Could a directory (relative, no trailing slash; "" is the root) hold a wanted member?"""
        if not reldir:
            return True
        d = reldir + "/"
        return any(p.startswith(d) for p in self._dirs) or any(d.startswith(p) for p in self._deep)
